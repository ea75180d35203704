//! `/v2/audit/checkpoint`: the newest signed checkpoint of the platform's transparency log
//! (issue 14, in progress). A platform that keeps the checkpoints it receives can later show
//! that kyb's history of its audit rows was rewritten: any later checkpoint must extend it.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use chrono::SecondsFormat;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody, Result};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v2/audit/checkpoint", get(retrieve))
}

/// A signed checkpoint: the size and root of the platform's audit tree (RFC 6962), as a C2SP
/// `tlog-checkpoint` in a `signed-note`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointObject {
    /// Always `audit_checkpoint`.
    pub object: &'static str,
    /// The log's name (`{host}/audit/{platform_id}`), the first line of the note.
    pub origin: String,
    /// How many audit rows the tree holds.
    pub tree_size: u64,
    /// The tree's root hash, base64.
    pub root_hash: String,
    /// The signed note, verbatim: what a verifier checks with `verifier_key`.
    pub note: String,
    /// The log's public key in the signed-note form `name+id+base64(0x01 || ed25519 key)`.
    pub verifier_key: String,
    /// RFC 3339, UTC.
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointResponse {
    /// Always `success`.
    pub status: &'static str,
    pub data: CheckpointObject,
}

/// Retrieve the newest checkpoint of the platform's audit log.
///
/// Committed audit rows are sealed into the tree first, so the checkpoint covers every row
/// written before this request. It covers the platform's rows of both modes (their hashes, not
/// their content).
#[utoipa::path(
    get,
    path = "/v2/audit/checkpoint",
    operation_id = "retrieve_audit_checkpoint",
    tag = "audit_logs",
    responses(
        (status = 200, description = "The newest checkpoint", body = CheckpointResponse),
        (status = 400, description = "A path that is not readable text (invisible or control characters, percent-escapes that are not UTF-8)", body = ErrorBody),
        (status = 404, description = "`resource_missing`: the log has no rows yet", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn retrieve(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<CheckpointResponse>> {
    let platform = &auth.scope.platform_id;
    let checkpoint = state
        .audit_logs
        .seal(&state, platform)
        .await?
        .ok_or_else(|| ApiError::not_found("the audit log has no rows yet"))?;
    let key = state.audit_logs.key(platform).map_err(ApiError::internal)?;
    Ok(Json(CheckpointResponse {
        status: "success",
        data: CheckpointObject {
            object: "audit_checkpoint",
            origin: state.audit_logs.origin(platform),
            tree_size: checkpoint.tree_size,
            root_hash: base64::engine::general_purpose::STANDARD.encode(checkpoint.root.0),
            note: checkpoint.note,
            verifier_key: key.verifier_key().to_owned(),
            created_at: checkpoint
                .created_at
                .to_rfc3339_opts(SecondsFormat::Secs, true),
        },
    }))
}
