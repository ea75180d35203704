-- Operators limited to some platforms: one row per platform an operator may see. An operator
-- with no row sees every platform's cases.
CREATE TABLE operator_platforms (
    operator_id  TEXT NOT NULL REFERENCES operators (id),
    platform_id  TEXT NOT NULL REFERENCES platforms (id),
    PRIMARY KEY (operator_id, platform_id)
);
