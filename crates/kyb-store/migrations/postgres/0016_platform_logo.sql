-- A platform's logo on its customers' hosted pages: a PNG or JPEG (checked by its content, at
-- most 256 KiB), served by kyb. platforms.branding names its SHA-256, so that the pages know
-- there is one and its address changes with it.
CREATE TABLE platform_logos (
    platform_id  TEXT PRIMARY KEY REFERENCES platforms(id),
    content_type TEXT NOT NULL,
    bytes        BYTEA NOT NULL,
    sha256       TEXT NOT NULL
);
