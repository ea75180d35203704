-- A page of one event type (GET /v2/events?type=…) is walked in this index, newest first, however
-- rare the type: without it a rare type scanned the platform's whole outbox (641 ms at two million
-- events, BENCHMARKS.md). Kept in step with ../sqlite/0019_events_by_type.sql.
CREATE INDEX events_type ON events (platform_id, livemode, type, seq);
