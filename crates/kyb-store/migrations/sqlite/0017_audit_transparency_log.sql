-- Each platform's transparency log (kyb-tlog): the audit rows are the leaves of an RFC 6962
-- Merkle tree, appended after commit by a sealer in platform_seq order. The tree is kept as its
-- stored hashes (each leaf's and each complete subtree's, by stored-hash index), and each sealing
-- signs a checkpoint (a C2SP signed note) with a key derived from the server secret.
CREATE TABLE audit_trees (
    platform_id TEXT PRIMARY KEY,
    size        BIGINT NOT NULL
);
CREATE TABLE audit_tree_hashes (
    platform_id TEXT NOT NULL,
    idx         BIGINT NOT NULL,
    hash        BLOB NOT NULL,
    PRIMARY KEY (platform_id, idx)
);
CREATE TABLE audit_checkpoints (
    platform_id TEXT NOT NULL,
    tree_size   BIGINT NOT NULL,
    root        BLOB NOT NULL,
    note        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (platform_id, tree_size)
);
