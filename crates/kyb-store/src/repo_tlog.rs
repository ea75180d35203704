//! Each audit log's transparency log (`kyb-tlog`): the sealer that numbers committed audit rows
//! and appends them to the log's RFC 6962 tree after commit, the tree's stored hashes, the
//! signed checkpoints, and the verifier that checks all of it by streaming. A request's
//! transaction never touches any of it.

use chrono::{DateTime, Utc};
use kyb_tlog::{Hash, Hashes, TreeBuilder};

use super::repo::{Backend, ChainRecord, Tx, AUDIT_SELECT};
use super::{Db, BEGIN_SNAPSHOT};
use crate::audit::{AuditChain, ChainRow, ChainVerifier, LogBreak, LogReport, Opened};
use crate::model::*;
use crate::StoreError;

/// Rows read per page when a log is streamed (verify, the old chain's check).
const PAGE: i64 = 1000;

/// Rows numbered per statement (two parameters each).
const NUMBER_CHUNK: usize = 500;

fn hash_of(bytes: Vec<u8>) -> Result<Hash, StoreError> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map(Hash)
        .map_err(|_| StoreError::Corrupt("a transparency log hash is not 32 bytes".into()))
}

fn tree_error(e: kyb_tlog::TreeError) -> StoreError {
    StoreError::Corrupt(format!("an audit log's tree: {e}"))
}

/// Reads the stored hashes a computation needs that `known` does not hold yet, into `known`.
async fn fetch(
    conn: &mut <Db as sqlx::Database>::Connection,
    log: &str,
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
    let mut q = sqlx::QueryBuilder::<Db>::new(
        "SELECT idx, hash FROM audit_tree_hashes WHERE platform_id = ",
    );
    q.push_bind(log).push(" AND idx IN (");
    let mut list = q.separated(", ");
    for i in &missing {
        list.push_bind(*i);
    }
    q.push(")");
    for (idx, bytes) in q
        .build_query_as::<(i64, Vec<u8>)>()
        .fetch_all(&mut *conn)
        .await?
    {
        known.0.insert(idx as u64, hash_of(bytes)?);
    }
    Ok(())
}

impl Backend {
    /// Appends up to `max` committed rows of the log to its tree, numbering the new ones in the
    /// order they were written, and stores a checkpoint of the new size signed by `sign`.
    ///
    /// One sealer per log at a time: it holds the log's lease (`holder` until `at + lease`,
    /// renewed by each pass) and the pass is one transaction, so a pass cut short by a crash
    /// leaves nothing behind and the next one (any holder's, once the lease ends) starts from
    /// the same rows. Rows of the old hash chain go first, in chain order, after the chain was
    /// checked once against its head.
    #[allow(clippy::too_many_arguments)]
    pub async fn seal_audit(
        &self,
        chain: &AuditChain,
        new_origin: &str,
        holder: &str,
        lease: chrono::Duration,
        max: i64,
        at: DateTime<Utc>,
        sign: impl Fn(&str, u64, Hash) -> Result<String, String>,
    ) -> Result<Sealing, StoreError> {
        let (log, _) = chain.tables();
        let key = chain.key();
        // Looked at without the write lock first: most passes find nothing new, and on SQLite
        // a write transaction would hold the one writer every request waits for.
        let behind: bool = sqlx::query_scalar(&format!(
            "SELECT EXISTS (SELECT 1 FROM {log} WHERE platform_id = $1 AND platform_seq IS NULL) \
             OR COALESCE((SELECT MAX(platform_seq) FROM {log} WHERE platform_id = $1), 0) \
             > COALESCE((SELECT size FROM audit_trees WHERE platform_id = $1), 0)"
        ))
        .bind(key)
        .fetch_one(&self.pool)
        .await?;
        if !behind {
            return Ok(Sealing::Nothing);
        }
        let (mut tx, _guard) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO audit_trees (platform_id, size) VALUES ($1, 0) ON CONFLICT (platform_id) DO NOTHING",
        )
        .bind(key)
        .execute(&mut *tx)
        .await?;
        let claimed = sqlx::query(
            "UPDATE audit_trees SET lease_holder = $2, lease_expires_at = $3, \
             origin = COALESCE(origin, $5) WHERE platform_id = $1 \
             AND (lease_holder IS NULL OR lease_holder = $2 OR lease_expires_at < $4)",
        )
        .bind(key)
        .bind(holder)
        .bind(at + lease)
        .bind(at)
        .bind(new_origin)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(Sealing::Held);
        }
        let (size, chain_verified, origin): (i64, bool, String) = sqlx::query_as(
            "SELECT size, chain_verified, origin FROM audit_trees WHERE platform_id = $1",
        )
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        if !chain_verified {
            check_old_chain(&mut tx, chain).await?;
            sqlx::query("UPDATE audit_trees SET chain_verified = TRUE WHERE platform_id = $1")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        // Rows numbered already (the old chain's) come first, then the new ones in the order
        // they were written.
        let mut rows: Vec<ChainRow> = sqlx::query_as::<_, ChainRecord>(&format!(
            "{AUDIT_SELECT} {log} WHERE platform_id = $1 AND platform_seq > $2 \
             ORDER BY platform_seq LIMIT $3"
        ))
        .bind(key)
        .bind(size)
        .bind(max)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(ChainRecord::into_row)
        .collect();
        for (i, row) in rows.iter().enumerate() {
            // The old chain's numbers are gapless (checked above); a gap now is a row deleted
            // since, and the tree waits rather than seal around it.
            if row.platform_seq != Some(size + 1 + i as i64) {
                return Err(StoreError::Corrupt(format!(
                    "audit row {} of {chain} is missing: its log is not sealed past it",
                    size + 1 + i as i64
                )));
            }
        }
        let room = max - rows.len() as i64;
        if room > 0 {
            let pending: Vec<ChainRecord> = sqlx::query_as(&format!(
                "{AUDIT_SELECT} {log} WHERE platform_id = $1 AND platform_seq IS NULL \
                 ORDER BY seq LIMIT $2"
            ))
            .bind(key)
            .bind(room)
            .fetch_all(&mut *tx)
            .await?;
            let first = size + 1 + rows.len() as i64;
            let numbered: Vec<(i64, i64)> = pending
                .iter()
                .enumerate()
                .map(|(i, r)| (r.seq, first + i as i64))
                .collect();
            for chunk in numbered.chunks(NUMBER_CHUNK) {
                number_rows(&mut tx, log, key, chunk).await?;
            }
            rows.extend(pending.into_iter().zip(numbered).map(|(r, (_, n))| {
                let mut row = r.into_row();
                row.platform_seq = Some(n);
                row
            }));
        }
        if rows.is_empty() {
            return Ok(Sealing::Nothing);
        }
        let n = append_leaves(&mut tx, key, size as u64, &rows).await?;
        let indexes = kyb_tlog::needed(|r| kyb_tlog::tree_hash(n, r));
        let mut known = Hashes::default();
        fetch(&mut tx, key, &indexes, &mut known).await?;
        let root = kyb_tlog::tree_hash(n, &known).map_err(tree_error)?;
        let note = sign(&origin, n, root).map_err(StoreError::Corrupt)?;
        sqlx::query(
            "INSERT INTO audit_checkpoints (platform_id, tree_size, root, note, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(key)
        .bind(n as i64)
        .bind(root.0.to_vec())
        .bind(&note)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE audit_trees SET size = $1 WHERE platform_id = $2")
            .bind(n as i64)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Sealing::Sealed(StoredCheckpoint {
            tree_size: n,
            root,
            note,
            created_at: at,
        }))
    }

    /// Gives up the log's lease, if `holder` holds it: another sealer need not wait for it to
    /// run out.
    pub async fn release_audit_lease(
        &self,
        chain: &AuditChain,
        holder: &str,
    ) -> Result<(), StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        sqlx::query(
            "UPDATE audit_trees SET lease_holder = NULL, lease_expires_at = NULL \
             WHERE platform_id = $1 AND lease_holder = $2",
        )
        .bind(chain.key())
        .bind(holder)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The log's newest checkpoint, or the one of exactly `tree_size` leaves.
    pub async fn audit_checkpoint(
        &self,
        log: &str,
        tree_size: Option<u64>,
    ) -> Result<Option<StoredCheckpoint>, StoreError> {
        let row: Option<(i64, Vec<u8>, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT tree_size, root, note, created_at FROM audit_checkpoints \
             WHERE platform_id = $1 AND ($2 IS NULL OR tree_size = $2) \
             ORDER BY tree_size DESC LIMIT 1",
        )
        .bind(log)
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
    ) -> Result<Option<ChainRow>, StoreError> {
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

    /// The stored hashes of the log's tree at these indexes (what a proof reads).
    pub async fn audit_tree_hashes(
        &self,
        log: &str,
        indexes: &[u64],
    ) -> Result<Hashes, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut known = Hashes::default();
        fetch(&mut conn, log, indexes, &mut known).await?;
        Ok(known)
    }

    /// Checks a whole log as of one instant, streaming it in pages (memory does not grow with
    /// the log): every numbered row against its leaf, every stored hash of the tree, every
    /// checkpoint's signature (`open(origin, note)` returns the size and root a note of the
    /// log of that origin signs, or why not) and root, each checkpoint's consistency with the
    /// one before, and the old hash chain.
    pub async fn verify_audit_log(
        &self,
        chain: &AuditChain,
        open: &dyn Fn(&str, &str) -> Opened,
    ) -> Result<Result<LogReport, LogBreak>, StoreError> {
        let mut tx = self.pool.begin_with(BEGIN_SNAPSHOT).await?;
        let report = verify_in(&mut tx, chain, open).await;
        tx.rollback().await?;
        report
    }
}

/// Numbers pending rows: (table number, place in the log) pairs, one statement.
async fn number_rows(
    tx: &mut Tx,
    log: &str,
    key: &str,
    chunk: &[(i64, i64)],
) -> Result<(), StoreError> {
    let mut q = sqlx::QueryBuilder::<Db>::new(format!("UPDATE {log} SET platform_seq = CASE seq"));
    for (seq, n) in chunk {
        q.push(" WHEN ")
            .push_bind(*seq)
            .push(" THEN ")
            .push_bind(*n);
    }
    // The range as well as the list: it lets the planner walk the unsealed index over just
    // these rows whatever its statistics say (a backlog of a million rows, not analysed yet,
    // was otherwise scanned whole for each chunk).
    let (low, high) = chunk.iter().fold((i64::MAX, i64::MIN), |(l, h), (seq, _)| {
        (l.min(*seq), h.max(*seq))
    });
    q.push(" END WHERE platform_id = ")
        .push_bind(key)
        .push(" AND platform_seq IS NULL AND seq BETWEEN ")
        .push_bind(low)
        .push(" AND ")
        .push_bind(high)
        .push(" AND seq IN (");
    let mut list = q.separated(", ");
    for (seq, _) in chunk {
        list.push_bind(*seq);
    }
    q.push(")");
    let done = q.build().execute(&mut **tx).await?.rows_affected();
    if done != chunk.len() as u64 {
        return Err(StoreError::Corrupt(format!(
            "numbering audit rows of {key}: {done} of {} rows were still pending",
            chunk.len()
        )));
    }
    Ok(())
}

/// Appends the rows' leaves to a tree of `size` leaves and stores the new hashes (one
/// statement per few hundred); the new size.
async fn append_leaves(
    tx: &mut Tx,
    key: &str,
    size: u64,
    rows: &[ChainRow],
) -> Result<u64, StoreError> {
    let mut known = Hashes::default();
    let mut new_hashes: Vec<(u64, Hash)> = Vec::new();
    let mut n = size;
    for row in rows {
        let leaf = row.leaf_hash();
        let indexes = kyb_tlog::needed(|r| kyb_tlog::stored_hashes_for_record_hash(n, leaf, r));
        fetch(tx, key, &indexes, &mut known).await?;
        let new = kyb_tlog::stored_hashes_for_record_hash(n, leaf, &known).map_err(tree_error)?;
        let first = kyb_tlog::stored_hash_count(n);
        for (i, h) in new.into_iter().enumerate() {
            known.0.insert(first + i as u64, h);
            new_hashes.push((first + i as u64, h));
        }
        n += 1;
    }
    for chunk in new_hashes.chunks(NUMBER_CHUNK) {
        let mut insert = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO audit_tree_hashes (platform_id, idx, hash) ",
        );
        insert.push_values(chunk, |mut b, (idx, h)| {
            b.push_bind(key)
                .push_bind(*idx as i64)
                .push_bind(h.0.to_vec());
        });
        insert.build().execute(&mut **tx).await?;
    }
    Ok(n)
}

/// The old hash chain's rows (those that carry a chain hash) checked against its head, page by
/// page; an error names the first break.
async fn check_old_chain(tx: &mut Tx, chain: &AuditChain) -> Result<(), StoreError> {
    let (log, heads) = chain.tables();
    let mut verifier = ChainVerifier::default();
    loop {
        let page: Vec<ChainRecord> = sqlx::query_as(&format!(
            "{AUDIT_SELECT} {log} WHERE platform_id = $1 AND prev_hash IS NOT NULL \
             AND platform_seq > $2 ORDER BY platform_seq LIMIT $3"
        ))
        .bind(chain.key())
        .bind(verifier.rows())
        .bind(PAGE)
        .fetch_all(&mut **tx)
        .await?;
        if page.is_empty() {
            break;
        }
        for record in page {
            verifier.push(&record.into_row()).map_err(|e| {
                StoreError::Corrupt(format!(
                    "the old hash chain of {chain} is broken, so its log is not sealed: {e}"
                ))
            })?;
        }
    }
    let head: Option<(i64, String)> = sqlx::query_as(&format!(
        "SELECT seq, hash FROM {heads} WHERE platform_id = $1"
    ))
    .bind(chain.key())
    .fetch_optional(&mut **tx)
    .await?;
    verifier
        .finish(head.as_ref().map(|(s, h)| (*s, h.as_str())))
        .map_err(|e| {
            StoreError::Corrupt(format!(
                "the old hash chain of {chain} is broken, so its log is not sealed: {e}"
            ))
        })?;
    Ok(())
}

/// Checkpoints in size order, a page at a time.
struct Checkpoints {
    after: i64,
    queue: std::collections::VecDeque<(i64, Vec<u8>, String)>,
    done: bool,
}

impl Checkpoints {
    fn new() -> Self {
        Self {
            after: 0,
            queue: Default::default(),
            done: false,
        }
    }

    /// The next checkpoint (size, stored root, note), if any.
    async fn peek(
        &mut self,
        tx: &mut Tx,
        key: &str,
    ) -> Result<Option<&(i64, Vec<u8>, String)>, StoreError> {
        if self.queue.is_empty() && !self.done {
            let page: Vec<(i64, Vec<u8>, String)> = sqlx::query_as(
                "SELECT tree_size, root, note FROM audit_checkpoints \
                 WHERE platform_id = $1 AND tree_size > $2 ORDER BY tree_size LIMIT $3",
            )
            .bind(key)
            .bind(self.after)
            .bind(PAGE)
            .fetch_all(&mut **tx)
            .await?;
            self.done = page.len() < PAGE as usize;
            if let Some((size, _, _)) = page.last() {
                self.after = *size;
            }
            self.queue.extend(page);
        }
        Ok(self.queue.front())
    }

    fn pop(&mut self) -> Option<(i64, Vec<u8>, String)> {
        self.queue.pop_front()
    }
}

/// A checkpoint's signature and root, against the tree recomputed to its size.
fn check_checkpoint(
    (size, stored_root, note): &(i64, Vec<u8>, String),
    computed: Option<Hash>,
    open: &dyn Fn(&str) -> Opened,
) -> Result<Hash, LogBreak> {
    let (signed_size, signed_root) = open(note).map_err(|reason| LogBreak::Signature {
        size: *size,
        reason,
    })?;
    if signed_size != *size as u64
        || stored_root.as_slice() != signed_root.0
        || computed != Some(signed_root)
    {
        return Err(LogBreak::Root { size: *size });
    }
    Ok(signed_root)
}

async fn verify_in(
    tx: &mut Tx,
    chain: &AuditChain,
    open: &dyn Fn(&str, &str) -> Opened,
) -> Result<Result<LogReport, LogBreak>, StoreError> {
    let (log, heads) = chain.tables();
    let key = chain.key();
    let (size, origin): (i64, Option<String>) =
        sqlx::query_as("SELECT size, origin FROM audit_trees WHERE platform_id = $1")
            .bind(key)
            .fetch_optional(&mut **tx)
            .await?
            .unwrap_or((0, None));
    let origin = origin.unwrap_or_default();
    let open = |note: &str| open(&origin, note);
    let open: &dyn Fn(&str) -> Opened = &open;
    let mut report = LogReport::default();
    let mut old_chain = ChainVerifier::default();
    let mut tree = TreeBuilder::default();
    let mut checkpoints = Checkpoints::new();
    // The previous checkpoint (size, root), for the consistency of the next.
    let mut previous: Option<(i64, Hash)> = None;
    let mut numbered = 0i64;
    loop {
        let page: Vec<ChainRow> = sqlx::query_as::<_, ChainRecord>(&format!(
            "{AUDIT_SELECT} {log} WHERE platform_id = $1 AND platform_seq > $2 \
             ORDER BY platform_seq LIMIT $3"
        ))
        .bind(key)
        .bind(numbered)
        .bind(PAGE)
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(ChainRecord::into_row)
        .collect();
        if page.is_empty() {
            break;
        }
        // The stored hashes the page's leaves should have made, in index order.
        let leaves = page
            .iter()
            .filter(|r| r.platform_seq.unwrap_or(0) <= size)
            .count() as u64;
        let from = kyb_tlog::stored_hash_count(tree.size());
        let to = kyb_tlog::stored_hash_count(tree.size() + leaves);
        let stored: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT idx, hash FROM audit_tree_hashes WHERE platform_id = $1 AND idx >= $2 \
             AND idx < $3 ORDER BY idx",
        )
        .bind(key)
        .bind(from as i64)
        .bind(to as i64)
        .fetch_all(&mut **tx)
        .await?;
        let mut stored = stored.into_iter().peekable();
        for row in page {
            let seq = row.platform_seq.unwrap_or(0);
            if seq != numbered + 1 {
                return Ok(Err(LogBreak::Missing {
                    expected: numbered + 1,
                    found: seq,
                    id: row.id,
                }));
            }
            numbered = seq;
            if row.prev_hash.is_some() {
                if let Err(e) = old_chain.push(&row) {
                    return Ok(Err(e.into()));
                }
                report.chained += 1;
            }
            if seq > size {
                if row.prev_hash.is_none() {
                    return Ok(Err(LogBreak::PastTheTree {
                        seq,
                        id: row.id,
                        size,
                    }));
                }
                continue;
            }
            let first = kyb_tlog::stored_hash_count(tree.size());
            for (i, computed) in tree.push(row.leaf_hash()).into_iter().enumerate() {
                let index = first + i as u64;
                let matches = match stored.next() {
                    Some((idx, bytes)) => idx as u64 == index && bytes.as_slice() == computed.0,
                    None => false,
                };
                if !matches {
                    return Ok(Err(if i == 0 {
                        LogBreak::Leaf { seq, id: row.id }
                    } else {
                        LogBreak::StoredHash { index }
                    }));
                }
            }
            report.rows += 1;
            while let Some(next) = checkpoints.peek(tx, key).await? {
                if next.0 != tree.size() as i64 {
                    break;
                }
                let checkpoint = checkpoints.pop().expect("peeked");
                let root = match check_checkpoint(&checkpoint, tree.root(), open) {
                    Ok(root) => root,
                    Err(e) => return Ok(Err(e)),
                };
                if let Some((from, from_root)) = previous {
                    if !consistent(tx, key, (from, from_root), (checkpoint.0, root)).await? {
                        return Ok(Err(LogBreak::Inconsistent {
                            from,
                            to: checkpoint.0,
                        }));
                    }
                }
                previous = Some((checkpoint.0, root));
                report.checkpoints += 1;
            }
        }
    }
    if report.rows < size {
        return Ok(Err(LogBreak::Shortened {
            rows: report.rows,
            size,
        }));
    }
    if let Some((past, _, _)) = checkpoints.peek(tx, key).await? {
        return Ok(Err(LogBreak::PastTheLog {
            size: *past,
            rows: report.rows,
        }));
    }
    let signed = previous.map_or(0, |(s, _)| s);
    if signed != size {
        return Ok(Err(LogBreak::Unsigned { size, signed }));
    }
    let head: Option<(i64, String)> = sqlx::query_as(&format!(
        "SELECT seq, hash FROM {heads} WHERE platform_id = $1"
    ))
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    if let Err(e) = old_chain.finish(head.as_ref().map(|(s, h)| (*s, h.as_str()))) {
        return Ok(Err(e.into()));
    }
    report.pending = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM {log} WHERE platform_id = $1 AND platform_seq IS NULL"
    ))
    .bind(key)
    .fetch_one(&mut **tx)
    .await?;
    Ok(Ok(report))
}

/// Whether the consistency proof between two checkpoints, made from the stored hashes as the
/// API serves it, links their roots.
async fn consistent(
    tx: &mut Tx,
    key: &str,
    (from, from_root): (i64, Hash),
    (to, to_root): (i64, Hash),
) -> Result<bool, StoreError> {
    let (t, n) = (to as u64, from as u64);
    let indexes = kyb_tlog::needed(|r| kyb_tlog::prove_tree(t, n, r));
    let mut known = Hashes::default();
    fetch(tx, key, &indexes, &mut known).await?;
    let Ok(proof) = kyb_tlog::prove_tree(t, n, &known) else {
        return Ok(false);
    };
    Ok(kyb_tlog::check_tree(&proof, t, to_root, n, from_root).is_ok())
}
