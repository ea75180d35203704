//! The SQLite and PostgreSQL schemas say the same thing: after every migration, both have the
//! same tables, columns (type in kind, nullability), primary keys, unique constraints, indexes
//! and foreign keys. A difference fails unless it is listed in `INTENDED` with its reason.

use sqlx::{Connection, PgConnection, SqliteConnection};
use std::collections::BTreeSet;

/// Differences that are on purpose: (`fact`, why). A fact is one line of [`facts`]' output,
/// prefixed by the database that has it.
const INTENDED: &[(&str, &str)] = &[];

/// A column's type, as a kind both databases share: SQLite keeps times and JSON as text.
fn kind(declared: &str) -> String {
    match declared.to_ascii_lowercase().as_str() {
        "text" | "timestamp with time zone" | "timestamptz" | "jsonb" | "json" => "text",
        "integer" | "bigint" | "smallint" | "int" => "integer",
        "boolean" => "boolean",
        "blob" | "bytea" => "bytes",
        "real" | "double precision" => "real",
        other => return format!("unknown type `{other}`"),
    }
    .to_owned()
}

async fn sqlite_facts(url: &str) -> BTreeSet<String> {
    let mut c = SqliteConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let mut facts = BTreeSet::new();
    for t in tables {
        let columns: Vec<(String, String, bool, i64)> = sqlx::query_as(&format!(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info('{t}') ORDER BY cid"
        ))
        .fetch_all(&mut c)
        .await
        .unwrap();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for (name, declared, notnull, pk_pos) in &columns {
            // A primary key column is never null (SQLite's rowid alias does not say so).
            let null = if *notnull || *pk_pos > 0 {
                "not null"
            } else {
                "null"
            };
            facts.insert(format!("column {t}.{name}: {} {null}", kind(declared)));
            if *pk_pos > 0 {
                pk.push((*pk_pos, name.clone()));
            }
        }
        pk.sort();
        let pk: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
        facts.insert(format!("primary key {t} ({})", pk.join(", ")));

        let indexes: Vec<(String, bool, String, bool)> = sqlx::query_as(&format!(
            "SELECT name, \"unique\", origin, partial FROM pragma_index_list('{t}')"
        ))
        .fetch_all(&mut c)
        .await
        .unwrap();
        for (name, unique, origin, partial) in indexes {
            if origin == "pk" {
                continue;
            }
            let cols: Vec<Option<String>> = sqlx::query_scalar(&format!(
                "SELECT name FROM pragma_index_info('{name}') ORDER BY seqno"
            ))
            .fetch_all(&mut c)
            .await
            .unwrap();
            let cols: Vec<String> = cols
                .into_iter()
                .map(|c| c.unwrap_or_else(|| "(expression)".into()))
                .collect();
            facts.insert(index_fact(&t, &name, unique, &cols, partial));
        }

        let fks: Vec<(String, String, Option<String>)> = sqlx::query_as(&format!(
            "SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list('{t}')"
        ))
        .fetch_all(&mut c)
        .await
        .unwrap();
        for (to_table, from, to) in fks {
            let to = to.unwrap_or_else(|| "id".into());
            facts.insert(format!("foreign key {t}.{from} -> {to_table}.{to}"));
        }
    }
    facts
}

/// One index: unique ones by their columns (a UNIQUE constraint has no name in SQLite), the
/// others by name and columns.
fn index_fact(table: &str, name: &str, unique: bool, cols: &[String], partial: bool) -> String {
    let partial = if partial { " where …" } else { "" };
    if unique {
        format!("unique {table} ({}){partial}", cols.join(", "))
    } else {
        format!("index {table} {name} ({}){partial}", cols.join(", "))
    }
}

async fn postgres_facts(url: &str) -> BTreeSet<String> {
    let mut c = PgConnection::connect(url).await.unwrap();
    let mut facts = BTreeSet::new();
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    for (t, name, declared, nullable) in columns {
        let null = if nullable == "YES" {
            "null"
        } else {
            "not null"
        };
        facts.insert(format!("column {t}.{name}: {} {null}", kind(&declared)));
    }
    let indexes: Vec<(String, String, bool, bool, Vec<String>, bool)> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text, ix.indisunique, ix.indisprimary, \
           ARRAY(SELECT COALESCE(a.attname::text, '(expression)') \
                 FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) \
                 LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
                 ORDER BY k.ord), \
           ix.indpred IS NOT NULL \
         FROM pg_index ix \
         JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND t.relname <> '_sqlx_migrations'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    for (t, name, unique, primary, cols, partial) in indexes {
        if primary {
            facts.insert(format!("primary key {t} ({})", cols.join(", ")));
        } else {
            facts.insert(index_fact(&t, &name, unique, &cols, partial));
        }
    }
    let fks: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT cl.relname::text, a.attname::text, rt.relname::text, ra.attname::text \
         FROM pg_constraint c \
         JOIN pg_class cl ON cl.oid = c.conrelid \
         JOIN pg_class rt ON rt.oid = c.confrelid \
         JOIN LATERAL unnest(c.conkey, c.confkey) AS k(col, rcol) ON true \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col \
         JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.rcol \
         WHERE c.contype = 'f'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    for (t, from, to_table, to) in fks {
        facts.insert(format!("foreign key {t}.{from} -> {to_table}.{to}"));
    }
    facts
}

#[tokio::test]
async fn sqlite_and_postgres_schemas_agree() {
    let Some(pg) = kyb_testkit::postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", dir.path().join("kyb.db").display());
    for url in [sqlite_url.as_str(), pg.url()] {
        let store = kyb_store::Store::connect(url).await.unwrap();
        store.migrate().await.unwrap();
        store.close().await;
    }
    let sqlite = sqlite_facts(&sqlite_url).await;
    let postgres = postgres_facts(pg.url()).await;
    assert!(
        sqlite
            .iter()
            .any(|f| f.starts_with("column business_customers.")),
        "the SQLite schema was read"
    );
    let intended: BTreeSet<&str> = INTENDED.iter().map(|(f, _)| *f).collect();
    let mut unexpected = Vec::new();
    for f in sqlite.difference(&postgres) {
        let fact = format!("sqlite only: {f}");
        if !intended.contains(fact.as_str()) {
            unexpected.push(fact);
        }
    }
    for f in postgres.difference(&sqlite) {
        let fact = format!("postgres only: {f}");
        if !intended.contains(fact.as_str()) {
            unexpected.push(fact);
        }
    }
    assert!(
        unexpected.is_empty(),
        "the schemas differ ({} facts); fix the migration, or list the difference in INTENDED with its reason:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    for f in &intended {
        let (side, fact) = f.split_once(": ").unwrap();
        let present = match side {
            "sqlite only" => sqlite.contains(fact) && !postgres.contains(fact),
            _ => postgres.contains(fact) && !sqlite.contains(fact),
        };
        assert!(
            present,
            "INTENDED lists a difference that no longer exists: {f}"
        );
    }
}
