//! The audit log's rows and their canonical forms. Every row is a leaf of its log's transparency
//! tree (`repo_tlog`): a request's transaction appends rows with no place yet, and the sealer
//! numbers them and appends them to the tree after commit. Rows written before the tree existed
//! also form a SHA-256 hash chain (each row's hash covers the previous row's); the sealer checks
//! that chain once before they become the tree's first leaves, and `kyb audit verify` checks it
//! again with the tree.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// One audit chain: a platform's, or the installation's own (operator accounts, which belong to
/// no platform). Both have the same rows and hash; they live in different tables.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuditChain {
    Platform(kyb_domain::PlatformId),
    Installation,
}

/// The chain key (`platform_id` of its rows) of the installation's chain.
pub const INSTALLATION: &str = "installation";

impl AuditChain {
    /// What the chain's rows carry as `platform_id`.
    pub fn key(&self) -> &str {
        match self {
            Self::Platform(p) => p.as_str(),
            Self::Installation => INSTALLATION,
        }
    }

    /// The table of its rows and the table of its old chain's head.
    pub(crate) fn tables(&self) -> (&'static str, &'static str) {
        match self {
            Self::Platform(_) => ("audit_log", "audit_heads"),
            Self::Installation => ("installation_audit_log", "installation_audit_heads"),
        }
    }
}

impl std::fmt::Display for AuditChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// The hash that comes before a chain's first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an audit row says of an operator's free text (a note, a reason): its SHA-256 and
/// length, not the text. The platform reads its audit rows (`/v2/audit_logs`) and must not read
/// the compliance team's notes; the chain still commits to the text, which the console keeps.
pub fn text_digest(text: &str) -> Value {
    serde_json::json!({
        "sha256": crate::secrets::hash_secret(text),
        "chars": text.chars().count(),
    })
}

/// JSON with object keys sorted and no insignificant whitespace: the same value always gives the
/// same bytes, whatever the key order it was written or stored in.
pub fn canonical_json(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(serde_json::to_vec(k).unwrap_or_default());
                out.push(b':');
                canonical_json(v, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical_json(item, out);
            }
            out.push(b']');
        }
        scalar => out.extend(serde_json::to_vec(scalar).unwrap_or_default()),
    }
}

/// An audit row: what it says, and its place in the log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChainRow {
    pub platform_id: String,
    /// Its place in the log, from 1 (leaf `platform_seq - 1` of the tree); `None` until the
    /// sealer appends it.
    pub platform_seq: Option<i64>,
    pub id: String,
    pub livemode: Option<bool>,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub details: Value,
    pub created_at: DateTime<Utc>,
    /// The old chain's link and hash: only rows written before the tree existed have them.
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

impl ChainRow {
    /// The old chain's hash of the row: SHA-256 (hex) of the canonical form, a JSON array of
    /// the fields in a fixed order, time in RFC 3339 with microseconds, details as canonical
    /// JSON, the previous hash last.
    pub fn compute_hash(&self) -> String {
        let mut form = vec![
            json!("kyb-audit-v1"),
            json!(self.platform_id),
            json!(self.platform_seq.unwrap_or(0)),
        ];
        form.extend(self.content());
        form.push(json!(self.prev_hash.as_deref().unwrap_or_default()));
        let mut bytes = Vec::new();
        canonical_json(&Value::Array(form), &mut bytes);
        hex::encode(Sha256::digest(&bytes))
    }

    /// The row as a leaf of its platform's transparency log: the canonical form of its content
    /// without the chain's fields (number, previous hash), so that a leaf stays the same when
    /// the chain is gone and the log alone orders the rows.
    pub fn leaf_bytes(&self) -> Vec<u8> {
        let mut form = vec![json!("kyb-audit-leaf-v1"), json!(self.platform_id)];
        form.extend(self.content());
        let mut bytes = Vec::new();
        canonical_json(&Value::Array(form), &mut bytes);
        bytes
    }

    /// The row's leaf hash in the tree (RFC 6962: SHA-256 of 0x00 and `leaf_bytes`).
    pub fn leaf_hash(&self) -> kyb_tlog::Hash {
        kyb_tlog::record_hash(&self.leaf_bytes())
    }

    /// What the row says, in the fixed order both forms use: id, mode, actor, action, target,
    /// request, details, and the time in RFC 3339 with microseconds.
    fn content(&self) -> [Value; 11] {
        [
            json!(self.id),
            json!(self.livemode),
            json!(self.actor_type),
            json!(self.actor_id),
            json!(self.action),
            json!(self.target_type),
            json!(self.target_id),
            json!(self.request_id),
            json!(self.client_addr),
            self.details.clone(),
            json!(self.created_at.to_rfc3339_opts(SecondsFormat::Micros, true)),
        ]
    }
}

/// The first problem found in an old hash chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("row {seq} ({id}) was edited: its content no longer matches its hash")]
    Edited { seq: i64, id: String },
    #[error("row {expected} is missing (deleted): the chain jumps from row {before} to row {found} ({id})")]
    Missing {
        expected: i64,
        before: i64,
        found: i64,
        id: String,
    },
    #[error(
        "row {seq} ({id}) does not follow row {before}: its previous hash is not that row's hash"
    )]
    Relinked { seq: i64, before: i64, id: String },
    #[error(
        "the chain ends at row {last} but {head} rows were written: the newest rows were deleted"
    )]
    Truncated { last: i64, head: i64 },
}

/// Checks an old hash chain row by row, in chain order, holding only the last row's number and
/// hash: a chain of any length is checked in the same memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    seq: i64,
    hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            seq: 0,
            hash: GENESIS.to_owned(),
        }
    }
}

impl ChainVerifier {
    /// How many rows were checked.
    pub fn rows(&self) -> i64 {
        self.seq
    }

    /// Checks the next row: its number follows, its hash is its content's, it links to the
    /// row before.
    pub fn push(&mut self, row: &ChainRow) -> Result<(), ChainBreak> {
        let seq = row.platform_seq.unwrap_or(0);
        if seq != self.seq + 1 {
            return Err(ChainBreak::Missing {
                expected: self.seq + 1,
                before: self.seq,
                found: seq,
                id: row.id.clone(),
            });
        }
        if row.hash.as_deref() != Some(row.compute_hash().as_str()) {
            return Err(ChainBreak::Edited {
                seq,
                id: row.id.clone(),
            });
        }
        if row.prev_hash.as_deref() != Some(self.hash.as_str()) {
            return Err(ChainBreak::Relinked {
                seq,
                before: self.seq,
                id: row.id.clone(),
            });
        }
        self.seq = seq;
        self.hash = row.hash.clone().unwrap_or_default();
        Ok(())
    }

    /// Checks the chain's end against its head (the last number and hash written); returns
    /// how many rows were checked.
    pub fn finish(self, head: Option<(i64, &str)>) -> Result<i64, ChainBreak> {
        match head {
            Some((seq, hash)) if seq != self.seq || hash != self.hash => {
                Err(ChainBreak::Truncated {
                    last: self.seq,
                    head: seq,
                })
            }
            _ => Ok(self.seq),
        }
    }
}

/// Checks a whole old chain (in chain order) against its head; how many rows were checked.
pub fn verify_chain(rows: &[ChainRow], head: Option<(i64, &str)>) -> Result<i64, ChainBreak> {
    let mut verifier = ChainVerifier::default();
    for row in rows {
        verifier.push(row)?;
    }
    verifier.finish(head)
}

/// Where a page of a log's rows, in log order, continues: its sealed rows by place, then the
/// rows not sealed yet by the order they were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditCursor {
    /// After the sealed row of this place (0: from the first).
    Sealed(i64),
    /// After the unsealed row of this table number (0: from the first).
    Pending(i64),
}

impl Default for AuditCursor {
    fn default() -> Self {
        Self::Sealed(0)
    }
}

/// What opening a signed checkpoint gives: the tree size and root it signs, or why it is not
/// the log's.
pub type Opened = Result<(u64, kyb_tlog::Hash), String>;

/// The first problem found in an audit log: its rows, its tree, its checkpoints, its old chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogBreak {
    #[error("the hash chain of the rows written before the tree: {0}")]
    Chain(#[from] ChainBreak),
    #[error("row {expected} of the log is missing (deleted): the next row is {found} ({id})")]
    Missing {
        expected: i64,
        found: i64,
        id: String,
    },
    #[error("row {seq} ({id}) does not match its leaf in the tree: it was edited, or moved from another place")]
    Leaf { seq: i64, id: String },
    #[error("the tree's stored hash {index} is not the hash of its rows: the tree was rewritten")]
    StoredHash { index: u64 },
    #[error("the tree holds {size} rows but only {rows} are left: the newest rows were deleted")]
    Shortened { rows: i64, size: i64 },
    #[error(
        "row {seq} ({id}) is numbered past the tree's {size} rows, which only the sealer numbers"
    )]
    PastTheTree { seq: i64, id: String, size: i64 },
    #[error("the checkpoint of {size} rows is not signed by this log's key: {reason}")]
    Signature { size: i64, reason: String },
    #[error("the checkpoint of {size} rows does not match its rows: the history was rewritten after it was signed")]
    Root { size: i64 },
    #[error("the checkpoint of {size} rows is past the {rows} rows of the log: rows were deleted")]
    PastTheLog { size: i64, rows: i64 },
    #[error("the tree of {from} rows is not the start of the tree of {to} rows: the history was rewritten between them")]
    Inconsistent { from: i64, to: i64 },
    #[error("the tree holds {size} rows but its newest signed checkpoint has {signed}")]
    Unsigned { size: i64, signed: i64 },
}

/// What `kyb audit verify` checked of one log.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LogReport {
    /// Rows in the tree, each checked against its leaf.
    pub rows: i64,
    /// Of those, the rows of the old hash chain, checked link by link.
    pub chained: i64,
    /// Signed checkpoints checked (signature, root, consistency with the one before).
    pub checkpoints: i64,
    /// Rows committed but not sealed yet (the sealer appends them within seconds).
    pub pending: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<ChainRow> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let mut row = ChainRow {
                    platform_id: "plat_1".into(),
                    platform_seq: Some(seq),
                    id: format!("aud_{seq}"),
                    livemode: Some(false),
                    actor_type: "api_key".into(),
                    actor_id: Some("key_1".into()),
                    action: "business_customer.created".into(),
                    target_type: "business_customer".into(),
                    target_id: format!("cust_{seq}"),
                    request_id: None,
                    client_addr: Some("127.0.0.1".into()),
                    details: serde_json::json!({"b": 1, "a": [true, null]}),
                    created_at: DateTime::from_timestamp(1_700_000_000 + seq, 123_456_000).unwrap(),
                    prev_hash: Some(prev.clone()),
                    hash: None,
                };
                row.hash = Some(row.compute_hash());
                prev = row.compute_hash();
                row
            })
            .collect()
    }

    /// The hashed forms are a format: rows hashed before must verify after. Pinned here, field
    /// by field, as they were written.
    #[test]
    fn the_hashed_forms_do_not_change() {
        let row = &chain(1)[0];
        let mut bytes = Vec::new();
        let created = "2023-11-14T22:13:21.123456Z";
        canonical_json(
            &json!(["kyb-audit-v1", "plat_1", 1, "aud_1", false, "api_key", "key_1",
                "business_customer.created", "business_customer", "cust_1", null, "127.0.0.1",
                {"a": [true, null], "b": 1}, created, GENESIS]),
            &mut bytes,
        );
        assert_eq!(
            row.hash.as_deref(),
            Some(hex::encode(Sha256::digest(&bytes)).as_str())
        );
        assert_eq!(
            String::from_utf8(row.leaf_bytes()).unwrap(),
            format!(
                r#"["kyb-audit-leaf-v1","plat_1","aud_1",false,"api_key","key_1","business_customer.created","business_customer","cust_1",null,"127.0.0.1",{{"a":[true,null],"b":1}},"{created}"]"#
            )
        );
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let rows = chain(4);
        let head = (4, rows[3].hash.as_deref().unwrap());
        assert_eq!(verify_chain(&rows, Some(head)), Ok(4));
    }

    #[test]
    fn key_order_of_details_does_not_matter() {
        let mut rows = chain(1);
        rows[0].details = serde_json::from_str(r#"{"a":[true,null],"b":1}"#).unwrap();
        assert_eq!(Some(rows[0].compute_hash()), rows[0].hash);
    }

    #[test]
    fn edits_deletions_and_truncation_are_named() {
        let rows = chain(5);
        let head = Some((5, rows[4].hash.as_deref().unwrap()));
        let mut edited = rows.clone();
        edited[2].details = serde_json::json!({"b": 2});
        assert_eq!(
            verify_chain(&edited, head),
            Err(ChainBreak::Edited {
                seq: 3,
                id: "aud_3".into()
            })
        );
        let mut deleted = rows.clone();
        deleted.remove(1);
        assert!(matches!(
            verify_chain(&deleted, head),
            Err(ChainBreak::Missing {
                expected: 2,
                found: 3,
                ..
            })
        ));
        let truncated = &rows[..3];
        assert_eq!(
            verify_chain(truncated, head),
            Err(ChainBreak::Truncated { last: 3, head: 5 })
        );
        // Rewriting a row and its hash still breaks the link to the next row.
        let mut rehashed = rows.clone();
        rehashed[1].action = "something.else".into();
        rehashed[1].hash = Some(rehashed[1].compute_hash());
        assert!(matches!(
            verify_chain(&rehashed, head),
            Err(ChainBreak::Relinked { seq: 3, .. })
        ));
    }
}
