-- Webhook endpoints, and the deliveries of outbox events to them with every attempt.
-- Kept column-for-column in step with ../postgres/0004_webhooks.sql.

CREATE TABLE webhook_endpoints (
    seq                         INTEGER PRIMARY KEY AUTOINCREMENT,
    id                          TEXT NOT NULL UNIQUE,
    platform_id                 TEXT NOT NULL REFERENCES platforms (id),
    livemode                    BOOLEAN NOT NULL,
    url                         TEXT NOT NULL,
    description                 TEXT,
    -- A JSON array of event types; ["*"] means every type.
    enabled_events              TEXT NOT NULL,
    status                      TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
    disabled_reason             TEXT,
    -- The signing secret, encrypted with a key derived from the server's secret key.
    secret_enc                  TEXT NOT NULL,
    -- After a rotation the replaced secret keeps signing beside the new one until it expires.
    previous_secret_enc         TEXT,
    previous_secret_expires_at  TEXT       ,
    created_at                  TEXT        NOT NULL,
    updated_at                  TEXT        NOT NULL,
    deleted_at                  TEXT       
);
CREATE INDEX webhook_endpoints_platform ON webhook_endpoints (platform_id, livemode, seq);

-- One event to one endpoint. Written in the transaction of the event itself.
CREATE TABLE webhook_deliveries (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT NOT NULL UNIQUE,
    platform_id       TEXT NOT NULL REFERENCES platforms (id),
    livemode          BOOLEAN NOT NULL,
    endpoint_id       TEXT NOT NULL REFERENCES webhook_endpoints (id),
    event_id          TEXT NOT NULL REFERENCES events (id),
    event_type        TEXT NOT NULL,
    -- Deliveries with the same key (the customer) go out one at a time, in `seq` order.
    ordering_key      TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled')),
    attempt_count     INTEGER NOT NULL DEFAULT 0,
    -- Attempts since the delivery was created or last retried by hand: drives the schedule.
    round_attempts    INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT       ,
    lease_owner       TEXT,
    lease_expires_at  TEXT       ,
    last_status_code  INTEGER,
    last_error        TEXT,
    created_at        TEXT        NOT NULL,
    updated_at        TEXT        NOT NULL,
    completed_at      TEXT       
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, ordering_key, seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, seq);

CREATE TABLE webhook_attempts (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    delivery_id      TEXT NOT NULL REFERENCES webhook_deliveries (id),
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id),
    attempt_number   INTEGER NOT NULL,
    started_at       TEXT        NOT NULL,
    duration_ms      INTEGERNOT NULL,
    status_code      INTEGER,
    error            TEXT,
    -- The first KiB of the receiver's answer, for the platform to debug its endpoint.
    response_excerpt TEXT,
    outcome          TEXT NOT NULL CHECK (outcome IN ('succeeded', 'retrying', 'failed', 'endpoint_disabled')),
    next_attempt_at  TEXT       
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, seq);
