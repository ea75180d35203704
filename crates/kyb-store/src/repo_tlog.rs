//! Each platform's transparency log (`kyb-tlog`): committed audit rows sealed into an RFC 6962
//! tree in chain order, its stored hashes, and the signed checkpoints. The sealer runs after
//! commit: a request's transaction never touches the tree.

use chrono::{DateTime, Utc};
use kyb_tlog::{Hash, Hashes};

use super::repo::{Backend, ChainRecord, Tx, AUDIT_SELECT};
use crate::model::*;
use crate::StoreError;

fn hash_of(bytes: Vec<u8>) -> Result<Hash, StoreError> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map(Hash)
        .map_err(|_| StoreError::Corrupt("a transparency log hash is not 32 bytes".into()))
}

fn tree_error(e: kyb_tlog::TreeError) -> StoreError {
    StoreError::Corrupt(format!("a platform's transparency log: {e}"))
}

/// Reads the stored hashes a computation needs that `known` does not hold yet, into `known`.
async fn fetch(
    tx: &mut Tx,
    platform: &str,
    indexes: &[u64],
    known: &mut Hashes,
) -> Result<(), StoreError> {
    let missing: Vec<i64> = indexes
        .iter()
        .filter(|i| !known.0.contains_key(i))
        .map(|i| *i as i64)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (0..missing.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT idx, hash FROM audit_tree_hashes WHERE platform_id = $1 AND idx IN ({})",
        placeholders.join(", ")
    );
    let mut q = sqlx::query_as::<_, (i64, Vec<u8>)>(&sql).bind(platform);
    for i in &missing {
        q = q.bind(*i);
    }
    for (idx, bytes) in q.fetch_all(&mut **tx).await? {
        known.0.insert(idx as u64, hash_of(bytes)?);
    }
    Ok(())
}

impl Backend {
    /// Appends up to `max` committed audit rows of the platform to its tree, in chain order,
    /// and stores a checkpoint of the new size signed by `sign`. `None` when every row was
    /// sealed already. One sealer per platform at a time: the tree's row is locked for the
    /// transaction, and a sealing cut short by a crash leaves nothing behind (one transaction).
    pub async fn seal_audit(
        &self,
        platform: &str,
        max: i64,
        at: DateTime<Utc>,
        sign: impl Fn(u64, Hash) -> Result<String, String>,
    ) -> Result<Option<StoredCheckpoint>, StoreError> {
        // Looked at without the write lock first: most passes find nothing new, and on SQLite
        // a write transaction would hold the one writer every request waits for.
        let behind: bool = sqlx::query_scalar(
            "SELECT COALESCE((SELECT MAX(platform_seq) FROM audit_log WHERE platform_id = $1), 0) \
             > COALESCE((SELECT size FROM audit_trees WHERE platform_id = $1), 0)",
        )
        .bind(platform)
        .fetch_one(&self.pool)
        .await?;
        if !behind {
            return Ok(None);
        }
        let (mut tx, _guard) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO audit_trees (platform_id, size) VALUES ($1, 0) ON CONFLICT (platform_id) DO NOTHING",
        )
        .bind(platform)
        .execute(&mut *tx)
        .await?;
        let size: i64 = sqlx::query_scalar(&format!(
            "SELECT size FROM audit_trees WHERE platform_id = $1{}",
            super::lock_rows("audit_trees")
        ))
        .bind(platform)
        .fetch_one(&mut *tx)
        .await?;
        let rows: Vec<ChainRecord> = sqlx::query_as(&format!(
            "{AUDIT_SELECT} audit_log WHERE platform_id = $1 AND platform_seq > $2 \
             ORDER BY platform_seq LIMIT $3"
        ))
        .bind(platform)
        .bind(size)
        .bind(max)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut known = Hashes::default();
        let mut n = size as u64;
        for record in rows {
            let row = record.into_row();
            // The chain's numbers are gapless: a gap is a deleted row, which the chain's own
            // check names; the tree waits rather than seal around it.
            if row.platform_seq as u64 != n + 1 {
                return Err(StoreError::Corrupt(format!(
                    "audit row {} of {platform} is missing: the transparency log stops before it",
                    n + 1
                )));
            }
            let leaf = kyb_tlog::record_hash(&row.leaf_bytes());
            let indexes = kyb_tlog::needed(|r| kyb_tlog::stored_hashes_for_record_hash(n, leaf, r));
            fetch(&mut tx, platform, &indexes, &mut known).await?;
            let new =
                kyb_tlog::stored_hashes_for_record_hash(n, leaf, &known).map_err(tree_error)?;
            let first = kyb_tlog::stored_hash_count(n);
            for (i, h) in new.into_iter().enumerate() {
                let idx = first + i as u64;
                sqlx::query(
                    "INSERT INTO audit_tree_hashes (platform_id, idx, hash) VALUES ($1, $2, $3)",
                )
                .bind(platform)
                .bind(idx as i64)
                .bind(h.0.to_vec())
                .execute(&mut *tx)
                .await?;
                known.0.insert(idx, h);
            }
            n += 1;
        }
        let indexes = kyb_tlog::needed(|r| kyb_tlog::tree_hash(n, r));
        fetch(&mut tx, platform, &indexes, &mut known).await?;
        let root = kyb_tlog::tree_hash(n, &known).map_err(tree_error)?;
        let note = sign(n, root).map_err(StoreError::Corrupt)?;
        sqlx::query(
            "INSERT INTO audit_checkpoints (platform_id, tree_size, root, note, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(platform)
        .bind(n as i64)
        .bind(root.0.to_vec())
        .bind(&note)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE audit_trees SET size = $1 WHERE platform_id = $2")
            .bind(n as i64)
            .bind(platform)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(StoredCheckpoint {
            tree_size: n,
            root,
            note,
            created_at: at,
        }))
    }

    /// The platform's newest checkpoint, or the one of exactly `tree_size` leaves.
    pub async fn audit_checkpoint(
        &self,
        platform: &str,
        tree_size: Option<u64>,
    ) -> Result<Option<StoredCheckpoint>, StoreError> {
        let row: Option<(i64, Vec<u8>, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT tree_size, root, note, created_at FROM audit_checkpoints \
             WHERE platform_id = $1 AND ($2 IS NULL OR tree_size = $2) \
             ORDER BY tree_size DESC LIMIT 1",
        )
        .bind(platform)
        .bind(tree_size.map(|s| s as i64))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(size, root, note, created_at)| {
            Ok(StoredCheckpoint {
                tree_size: size as u64,
                root: hash_of(root)?,
                note,
                created_at,
            })
        })
        .transpose()
    }

    /// One audit row a key of `mode` may see (that mode's or platform-wide), by id.
    pub async fn audit_row(
        &self,
        platform: &str,
        live: bool,
        id: &str,
    ) -> Result<Option<crate::audit::ChainRow>, StoreError> {
        let row: Option<ChainRecord> = sqlx::query_as(&format!(
            "{AUDIT_SELECT} audit_log WHERE platform_id = $1 AND id = $2 \
             AND (livemode IS NULL OR livemode = $3)"
        ))
        .bind(platform)
        .bind(id)
        .bind(live)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(ChainRecord::into_row))
    }

    /// The stored hashes of the platform's tree at these indexes (what a proof reads).
    pub async fn audit_tree_hashes(
        &self,
        platform: &str,
        indexes: &[u64],
    ) -> Result<Hashes, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut known = Hashes::default();
        fetch(&mut tx, platform, indexes, &mut known).await?;
        tx.commit().await?;
        Ok(known)
    }
}
