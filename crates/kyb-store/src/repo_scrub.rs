//! One-time rewrites of stored data that SQL alone cannot do, run after the schema migrations
//! and recorded in `data_migrations` so that each runs once.
//!
//! `link_tokens_v1`: versions before 0.9 kept whole KYB links (`…/kyb/<token>`) in outbox
//! events and stored idempotent responses. Each such token is replaced with the placeholder of
//! its link (found by the token's hash), or with `{{link_token:scrubbed}}` when no link has
//! that hash, so that a copy of the database opens no link.

use serde_json::Value;
use sqlx::types::Json;

use super::repo::{Backend, Tx};
use crate::secrets::{hash_secret, link_placeholder, link_placeholder_id};
use crate::StoreError;

const LINK_TOKENS: &str = "link_tokens_v1";
const BATCH: i64 = 500;

impl Backend {
    /// Runs the data migrations not yet recorded.
    pub(super) async fn migrate_data(&self) -> Result<(), StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let done: Option<String> =
            sqlx::query_scalar("SELECT name FROM data_migrations WHERE name = $1")
                .bind(LINK_TOKENS)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_none() {
            let (events, responses) = scrub_link_tokens(&mut tx).await?;
            if events + responses > 0 {
                tracing::info!(
                    events,
                    responses,
                    "removed KYB link tokens kept at rest by an earlier version"
                );
            }
            sqlx::query("INSERT INTO data_migrations (name, applied_at) VALUES ($1, $2)")
                .bind(LINK_TOKENS)
                .bind(chrono::Utc::now())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The placeholder that replaces a token found at rest.
async fn placeholder_for(tx: &mut Tx, token: &str) -> Result<String, StoreError> {
    let link: Option<String> = sqlx::query_scalar("SELECT id FROM kyb_links WHERE token_hash = $1")
        .bind(hash_secret(token))
        .fetch_optional(&mut **tx)
        .await?;
    Ok(link_placeholder(link.as_deref().unwrap_or("scrubbed")))
}

/// The token of a stored link URL, unless it is a placeholder already.
fn token_of(url: &str) -> Option<&str> {
    let (_, token) = url.rsplit_once("/kyb/")?;
    (link_placeholder_id(token).is_none() && !token.is_empty()).then_some(token)
}

/// Every token in a `kyb_link` field of an event, at any depth.
fn tokens_in(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match v {
                    Value::String(s) if key == "kyb_link" => {
                        found.extend(token_of(s).map(str::to_owned))
                    }
                    other => tokens_in(other, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| tokens_in(v, found)),
        _ => {}
    }
}

/// Replaces `token` with `with` in every string of a JSON value.
fn replace_in(value: &mut Value, token: &str, with: &str) {
    match value {
        Value::String(s) if s.contains(token) => *s = s.replace(token, with),
        Value::Object(map) => map.values_mut().for_each(|v| replace_in(v, token, with)),
        Value::Array(items) => items.iter_mut().for_each(|v| replace_in(v, token, with)),
        _ => {}
    }
}

async fn scrub_link_tokens(tx: &mut Tx) -> Result<(u64, u64), StoreError> {
    let mut events = 0;
    let mut after = 0i64;
    loop {
        let rows: Vec<(i64, Json<Value>)> =
            sqlx::query_as("SELECT seq, data FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(after)
                .bind(BATCH)
                .fetch_all(&mut **tx)
                .await?;
        let Some(&(last, _)) = rows.last() else { break };
        after = last;
        for (seq, Json(mut data)) in rows {
            let mut tokens = Vec::new();
            tokens_in(&data, &mut tokens);
            if tokens.is_empty() {
                continue;
            }
            for token in &tokens {
                let with = placeholder_for(tx, token).await?;
                replace_in(&mut data, token, &with);
            }
            sqlx::query("UPDATE events SET data = $1 WHERE seq = $2")
                .bind(Json(&data))
                .bind(seq)
                .execute(&mut **tx)
                .await?;
            events += 1;
        }
    }

    // Stored responses are replayed byte for byte: the token is swapped in the bytes.
    let mut responses = 0;
    let rows: Vec<(String, String, Vec<u8>)> =
        sqlx::query_as("SELECT platform_id, idempotency_key, response_body FROM idempotency_keys")
            .fetch_all(&mut **tx)
            .await?;
    for (platform_id, key, body) in rows {
        let Ok(text) = String::from_utf8(body) else {
            continue;
        };
        let Ok(parsed) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let mut tokens = Vec::new();
        tokens_in(&parsed, &mut tokens);
        if tokens.is_empty() {
            continue;
        }
        let mut scrubbed = text;
        for token in &tokens {
            let with = placeholder_for(tx, token).await?;
            scrubbed = scrubbed.replace(token.as_str(), &with);
        }
        sqlx::query(
            "UPDATE idempotency_keys SET response_body = $1 WHERE platform_id = $2 AND idempotency_key = $3",
        )
        .bind(scrubbed.into_bytes())
        .bind(&platform_id)
        .bind(&key)
        .execute(&mut **tx)
        .await?;
        responses += 1;
    }
    Ok((events, responses))
}
