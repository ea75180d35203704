-- POST /v2/webhook_endpoints/{id}/replay: when the endpoint was last replayed to (one replay per
-- endpoint every few seconds), and an index that finds a platform's events from a time on.
-- Kept in step with ../sqlite/0020_webhook_replays.sql.
ALTER TABLE webhook_endpoints ADD COLUMN last_replayed_at TIMESTAMPTZ;
CREATE INDEX events_created ON events (platform_id, livemode, created_at, seq);
