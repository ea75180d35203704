//! Sanctions lists: each import is a whole new version written in one transaction, so a list is
//! either all there or not there at all. Every source's entries are kept whole, as JSON, with
//! the list's own id for them; versions imported before that (OFAC SDN only) are read from the
//! old `sanctions_entries` table. Compiled once per database, like `repo.rs`.

use chrono::{DateTime, Utc};
use kyb_domain::SanctionsListId;
use kyb_screening::{Alias, EntryKind, ListEntry};

use super::repo::Backend;
use super::Db;
use crate::model::*;
use crate::{unique_violation, StoreError};

/// Rows per INSERT statement: well under SQLite's limit of bound values.
const CHUNK: usize = 1_000;

/// The sources kyb reads, in the order screening lists them.
const SOURCES: [&str; 3] = ["ofac-sdn", "ofac-consolidated", "un-consolidated"];

#[derive(sqlx::FromRow)]
struct ListRow {
    id: String,
    source: String,
    list_date: String,
    sha256: String,
    entry_count: i32,
    alias_count: i32,
    imported_at: DateTime<Utc>,
}

impl From<ListRow> for SanctionsList {
    fn from(r: ListRow) -> Self {
        SanctionsList {
            id: SanctionsListId::from_trusted(r.id),
            source: r.source,
            list_date: r.list_date,
            sha256: r.sha256,
            entry_count: i64::from(r.entry_count),
            alias_count: i64::from(r.alias_count),
            imported_at: r.imported_at,
        }
    }
}

const LIST_COLUMNS: &str =
    "id, source, list_date, sha256, entry_count, alias_count, imported_at FROM sanctions_lists";

impl Backend {
    /// Stores a parsed list as a new version of `source`, or finds the version this file (by
    /// SHA-256) was imported as before.
    pub async fn import_sanctions(
        &self,
        source: &str,
        list_date: &str,
        sha256: &str,
        entries: &[ListEntry],
        at: DateTime<Utc>,
    ) -> Result<Imported, StoreError> {
        if let Some(existing) = self.sanctions_list_by_file(source, sha256).await? {
            return Ok(Imported::AlreadyImported(existing));
        }
        let list = SanctionsList {
            id: SanctionsListId::generate(),
            source: source.to_owned(),
            list_date: list_date.to_owned(),
            sha256: sha256.to_owned(),
            entry_count: entries.len() as i64,
            alias_count: entries.iter().map(|e| e.aliases.len() as i64).sum(),
            imported_at: at,
        };
        let (mut tx, _guard) = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO sanctions_lists (id, source, list_date, sha256, entry_count, alias_count, imported_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(list.id.as_str())
        .bind(source)
        .bind(list_date)
        .bind(sha256)
        .bind(list.entry_count as i32)
        .bind(list.alias_count as i32)
        .bind(at)
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            if unique_violation(&e, "sanctions_lists_file", "sanctions_lists.source") {
                drop(tx);
                if let Some(existing) = self.sanctions_list_by_file(source, sha256).await? {
                    return Ok(Imported::AlreadyImported(existing));
                }
            }
            return Err(e.into());
        }
        for (n, chunk) in entries.chunks(CHUNK).enumerate() {
            let mut insert = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO sanctions_list_entries (list_id, position, entry_id, data) ",
            );
            insert.push_values(chunk.iter().enumerate(), |mut b, (i, e)| {
                b.push_bind(list.id.as_str())
                    .push_bind((n * CHUNK + i) as i32)
                    .push_bind(e.id.as_str())
                    .push_bind(serde_json::to_string(e).expect("entries serialise"));
            });
            insert.build().execute(&mut *tx).await.map_err(|e| {
                if unique_violation(
                    &e,
                    "sanctions_list_entries_pkey",
                    "sanctions_list_entries.list_id",
                ) {
                    StoreError::Conflict("the list names one entry id twice".into())
                } else {
                    e.into()
                }
            })?;
        }
        // A list that becomes current re-screens every approved and in-review customer.
        let current: Option<String> = sqlx::query_scalar(
            "SELECT id FROM sanctions_lists WHERE source = $1 ORDER BY list_date DESC, seq DESC LIMIT 1",
        )
        .bind(source)
        .fetch_optional(&mut *tx)
        .await?;
        let rescreens = if current.as_deref() == Some(list.id.as_str()) {
            super::repo_checks::enqueue_rescreens(&mut tx, list.id.as_str(), at).await?
        } else {
            0
        };
        tx.commit().await?;
        Ok(Imported::New(list, rescreens))
    }

    async fn sanctions_list_by_file(
        &self,
        source: &str,
        sha256: &str,
    ) -> Result<Option<SanctionsList>, StoreError> {
        let row: Option<ListRow> = sqlx::query_as(&format!(
            "SELECT {LIST_COLUMNS} WHERE source = $1 AND sha256 = $2"
        ))
        .bind(source)
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(SanctionsList::from))
    }

    /// Every imported version, newest list date first.
    pub async fn sanctions_lists(&self) -> Result<Vec<SanctionsList>, StoreError> {
        let rows: Vec<ListRow> = sqlx::query_as(&format!(
            "SELECT {LIST_COLUMNS} ORDER BY list_date DESC, seq DESC"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(SanctionsList::from).collect())
    }

    /// The current version of `source` (the newest list date; of two with the same date, the
    /// later import) with its entries in list order.
    pub async fn current_sanctions(
        &self,
        source: &str,
    ) -> Result<Option<(SanctionsList, Vec<ListEntry>)>, StoreError> {
        let row: Option<ListRow> = sqlx::query_as(&format!(
            "SELECT {LIST_COLUMNS} WHERE source = $1 ORDER BY list_date DESC, seq DESC LIMIT 1"
        ))
        .bind(source)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let list = SanctionsList::from(row);
        let entries = self.sanctions_entries(&list.id).await?;
        Ok(Some((list, entries)))
    }

    pub async fn sanctions_entries(
        &self,
        list_id: &SanctionsListId,
    ) -> Result<Vec<ListEntry>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT entry_id, data FROM sanctions_list_entries WHERE list_id = $1 ORDER BY position",
        )
        .bind(list_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        if !rows.is_empty() {
            return rows
                .into_iter()
                .map(|(id, data)| {
                    serde_json::from_str(&data).map_err(|e| {
                        StoreError::Corrupt(format!("sanctions entry {id} of {list_id}: {e}"))
                    })
                })
                .collect();
        }
        self.legacy_sanctions_entries(list_id).await
    }

    /// The current version of every source that has one, in a fixed order.
    pub async fn current_sanctions_all(
        &self,
    ) -> Result<Vec<(SanctionsList, Vec<ListEntry>)>, StoreError> {
        let mut out = Vec::new();
        for source in SOURCES {
            if let Some(current) = self.current_sanctions(source).await? {
                out.push(current);
            }
        }
        Ok(out)
    }

    /// OFAC SDN entries imported before entries were kept whole.
    async fn legacy_sanctions_entries(
        &self,
        list_id: &SanctionsListId,
    ) -> Result<Vec<ListEntry>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct EntryRow {
            ent_num: i64,
            name: String,
            kind: String,
            programs: String,
            aliases: String,
            title: Option<String>,
            remarks: Option<String>,
        }
        let rows: Vec<EntryRow> = sqlx::query_as(
            "SELECT ent_num, name, kind, programs, aliases, title, remarks FROM sanctions_entries \
             WHERE list_id = $1 ORDER BY ent_num",
        )
        .bind(list_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let corrupt = |what: &str| {
                    StoreError::Corrupt(format!("sanctions entry {} has bad {what}", r.ent_num))
                };
                let mut e = ListEntry {
                    programs: serde_json::from_str(&r.programs).map_err(|_| corrupt("programs"))?,
                    aliases: serde_json::from_str::<Vec<Alias>>(&r.aliases)
                        .map_err(|_| corrupt("aliases"))?,
                    title: r.title,
                    remarks: r.remarks,
                    ..ListEntry::new(
                        r.ent_num.to_string(),
                        r.name,
                        EntryKind::parse(&r.kind).ok_or_else(|| corrupt("kind"))?,
                    )
                };
                // Dates of birth, nationalities and weak aliases live in OFAC's remarks.
                kyb_screening::lists::ofac::complete_from_remarks(&mut e);
                Ok(e)
            })
            .collect()
    }
}
