//! `/v2/audit_logs`: the platform's own audit rows, newest first. Every row carries its place in
//! the platform's transparency log (`sequence`, once sealed) and its leaf hash; rows written
//! before the log existed also carry their old hash chain (`prev_hash`, `hash`).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::SecondsFormat;
use kyb_store::audit::ChainRow;
use kyb_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody, Result};
use crate::extract::ApiQuery;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v2/audit_logs", get(list))
}

/// Who or what acted.
#[derive(Debug, Serialize, ToSchema)]
pub struct Actor {
    /// `api_key`, `operator`, `customer_session` or `system`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The API key id, the operator, or the link of the customer's session.
    pub id: Option<String>,
}

/// What was acted on.
#[derive(Debug, Serialize, ToSchema)]
pub struct Target {
    /// `business_customer`, `kyb_link`, `api_key`, `person`, `document`, `platform`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// One audit row.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLogEntry {
    /// `aud_…`
    pub id: String,
    /// The row's place in the platform's audit log, from 1 (leaf `sequence - 1` of its tree);
    /// `null` for a row committed but not sealed yet (within seconds).
    pub sequence: Option<i64>,
    /// RFC 3339, UTC, microseconds.
    pub created_at: String,
    /// `null` for platform-wide actions (keys, the platform itself).
    pub livemode: Option<bool>,
    pub actor: Actor,
    /// What happened, e.g. `business_customer.created`, `kyb_link.opened`, `api_key.revoked`.
    pub action: String,
    pub target: Target,
    pub request_id: Option<String>,
    pub client_address: Option<String>,
    /// The facts of the action (fields written, before and after).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// The row's leaf hash in the log's tree, base64: SHA-256 of 0x00 and its canonical form
    /// (see docs/api.md). A verifier computes it from the fields above.
    pub leaf_hash: String,
    /// Rows written before the transparency log existed only: the hash of the previous row of
    /// the old hash chain (64 zeros for the first); `null` for later rows.
    pub prev_hash: Option<String>,
    /// Rows written before the transparency log existed only: SHA-256 (hex) over the row's
    /// canonical form, including `prev_hash`; `null` for later rows.
    pub hash: Option<String>,
}

impl From<ChainRow> for AuditLogEntry {
    fn from(r: ChainRow) -> Self {
        use base64::Engine;
        let leaf_hash = base64::engine::general_purpose::STANDARD.encode(r.leaf_hash().0);
        Self {
            leaf_hash,
            id: r.id,
            sequence: r.platform_seq,
            created_at: r.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            livemode: r.livemode,
            actor: Actor {
                kind: r.actor_type,
                id: r.actor_id,
            },
            action: r.action,
            target: Target {
                kind: r.target_type,
                id: r.target_id,
            },
            request_id: r.request_id,
            client_address: r.client_addr,
            details: r.details,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// `GET /v2/audit_logs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLogList {
    /// Always `success`.
    pub status: &'static str,
    pub data: Vec<AuditLogEntry>,
    /// Whether older rows follow; pass the last `id` as `starting_after` to get them.
    pub has_more: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// How many rows to return, 1 to 100 (default 10).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// A row `id` from the previous page: return the rows written before it. An id that is not
    /// a row this key can see is a 400.
    #[param(pattern = "^aud_[A-Za-z0-9]{1,64}$")]
    starting_after: Option<String>,
}

/// List audit rows, newest first.
///
/// The audit rows of this platform that this key's mode may see (that mode's rows and the
/// platform-wide ones), newest written first, with their place in the platform's audit log and
/// their leaf hash. Cursor pagination with `limit` and `starting_after`.
#[utoipa::path(
    get,
    path = "/v2/audit_logs",
    operation_id = "list_audit_logs",
    tag = "audit_logs",
    params(ListParams),
    responses(
        (status = 200, description = "One page of audit rows", body = AuditLogList),
        (status = 400, description = "An invalid, unknown or repeated query parameter; also a `starting_after` that is not a row this key can see", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<AuditLogList>> {
    let limit = super::parse_limit(params.limit.as_deref())?;
    let (rows, has_more) = state
        .store
        .list_audit_page(&auth.scope, limit, params.starting_after.as_deref())
        .await
        .map_err(|e| match e {
            StoreError::CursorNotFound => ApiError::invalid(
                "parameter_invalid",
                "starting_after",
                "starting_after must be the id of an audit row this key can see",
            ),
            other => other.into(),
        })?;
    Ok(Json(AuditLogList {
        status: "success",
        data: rows.into_iter().map(AuditLogEntry::from).collect(),
        has_more,
    }))
}
