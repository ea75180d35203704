-- GET /v2/business_customer filters by creation and update time, and GET /v2/events by
-- customer: indexes that serve them. Link options: a link's own return URL (else the platform's,
-- from its branding), and a platform's default link lifetime in seconds (else the service's).
-- Kept in step with the other database's 0021_list_filters.sql.
CREATE INDEX business_customers_created ON business_customers (platform_id, livemode, created_at);
CREATE INDEX business_customers_updated ON business_customers (platform_id, livemode, updated_at);
CREATE INDEX events_customer ON events (customer_id, seq);
ALTER TABLE kyb_links ADD COLUMN return_url TEXT;
ALTER TABLE platforms ADD COLUMN link_ttl_secs BIGINT;
-- What the customer changed in the hosted flow (JSON array of requirement keys:
-- business_details.<field>, people): a platform's update of one of them is refused.
ALTER TABLE business_customers ADD COLUMN customer_changed TEXT;
