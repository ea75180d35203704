//! The platform's audit log as a transparency log: its newest signed checkpoint, inclusion
//! proofs of its rows and consistency proofs between checkpoints. A platform that keeps the
//! checkpoints it receives (here, and in every webhook event) can later show that kyb's history
//! of its audit rows was rewritten: any later checkpoint must extend it.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use chrono::SecondsFormat;
use kyb_store::audit::AuditChain;
use kyb_store::StoredCheckpoint;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody, Result};
use crate::extract::ApiQuery;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/audit/checkpoint", get(retrieve))
        .route("/v2/audit/consistency", get(consistency))
        .route("/v2/audit_logs/{audit_log_id}/proof", get(inclusion))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A tree size named in the query: a whole number of at least 1.
fn tree_size(name: &str, raw: Option<&str>) -> Result<Option<u64>> {
    raw.map(|raw| {
        raw.parse::<u64>()
            .ok()
            .filter(|n| (1..=i64::MAX as u64).contains(n))
            .ok_or_else(|| {
                ApiError::invalid(
                    "parameter_invalid",
                    name,
                    format!("{name} must be a whole number of at least 1, got {raw:?}"),
                )
            })
    })
    .transpose()
}

/// The newest checkpoint, after sealing what was committed.
async fn newest(state: &AppState, log: &AuditChain) -> Result<StoredCheckpoint> {
    state
        .audit_logs
        .seal(&state.store, &state.clock, log)
        .await?
        .ok_or_else(|| ApiError::not_found("the audit log has no rows yet"))
}

/// The checkpoint of `size` leaves (`newest` when `None`), named by the parameter `param`.
async fn checkpoint_of(
    state: &AppState,
    log: &AuditChain,
    newest: &StoredCheckpoint,
    param: &str,
    size: Option<u64>,
) -> Result<StoredCheckpoint> {
    match size {
        None => Ok(newest.clone()),
        Some(n) if n == newest.tree_size => Ok(newest.clone()),
        Some(n) => state
            .store
            .audit_checkpoint(log, Some(n))
            .await?
            .ok_or_else(|| {
                ApiError::invalid(
                    "parameter_invalid",
                    param,
                    format!(
                        "{param} must be the size of a checkpoint of this log; the newest is {}",
                        newest.tree_size
                    ),
                )
            }),
    }
}

/// Base64 of each hash of a proof.
fn encoded(proof: &[kyb_tlog::Hash]) -> Vec<String> {
    proof.iter().map(|h| b64(&h.0)).collect()
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
    let log = AuditChain::Platform(auth.scope.platform_id.clone());
    let checkpoint = newest(&state, &log).await?;
    let origin = checkpoint.origin().to_owned();
    let key = state.audit_logs.key(&origin).map_err(ApiError::internal)?;
    Ok(Json(CheckpointResponse {
        status: "success",
        data: CheckpointObject {
            object: "audit_checkpoint",
            origin,
            tree_size: checkpoint.tree_size,
            root_hash: b64(&checkpoint.root.0),
            note: checkpoint.note,
            verifier_key: key.verifier_key().to_owned(),
            created_at: checkpoint
                .created_at
                .to_rfc3339_opts(SecondsFormat::Secs, true),
        },
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InclusionParams {
    /// The size of a checkpoint of this log (one the platform holds); the newest when absent.
    #[param(value_type = Option<u64>, minimum = 1)]
    tree_size: Option<String>,
}

/// Proof that an audit row is a leaf of the tree of a checkpoint (RFC 6962 §2.1.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProofObject {
    /// Always `audit_inclusion_proof`.
    pub object: &'static str,
    /// `aud_…`
    pub audit_log_id: String,
    /// The row's place in the tree, from 0.
    pub leaf_index: u64,
    /// The leaf's hash, base64: SHA-256 of 0x00 and the row's canonical form.
    pub leaf_hash: String,
    pub tree_size: u64,
    /// The sibling hashes from the leaf up, base64.
    pub proof: Vec<String>,
    /// The checkpoint the proof leads to, as signed.
    pub checkpoint: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProofResponse {
    /// Always `success`.
    pub status: &'static str,
    pub data: InclusionProofObject,
}

/// Prove that an audit row is in the log.
///
/// The proof leads from the row's leaf to the root of a checkpoint: the newest, or the one of
/// `tree_size` leaves (which must hold the row).
#[utoipa::path(
    get,
    path = "/v2/audit_logs/{audit_log_id}/proof",
    operation_id = "prove_audit_log_inclusion",
    tag = "audit_logs",
    params(("audit_log_id" = String, Path, pattern = "^aud_[A-Za-z0-9]{1,64}$", description = "`aud_…`"), InclusionParams),
    responses(
        (status = 200, description = "The inclusion proof", body = InclusionProofResponse),
        (status = 400, description = "`tree_size` is not the size of a checkpoint of this log, or the row is not in that tree; an unknown parameter; a path that is not readable text", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such audit row for this key", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn inclusion(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<InclusionParams>,
) -> Result<Json<InclusionProofResponse>> {
    let log = AuditChain::Platform(auth.scope.platform_id.clone());
    let size = tree_size("tree_size", params.tree_size.as_deref())?;
    let unknown = || ApiError::not_found(format!("no such audit row: {id}"));
    state
        .store
        .audit_row(&auth.scope, &id)
        .await?
        .ok_or_else(unknown)?;
    // Sealed first, then read again: the row has its place in the log now.
    let newest = newest(&state, &log).await?;
    let row = state
        .store
        .audit_row(&auth.scope, &id)
        .await?
        .ok_or_else(unknown)?;
    let checkpoint = checkpoint_of(&state, &log, &newest, "tree_size", size).await?;
    let t = checkpoint.tree_size;
    let n = match row.platform_seq {
        Some(seq) if (seq as u64) <= t => seq as u64 - 1,
        Some(seq) => {
            return Err(ApiError::invalid(
                "parameter_invalid",
                "tree_size",
                format!("the tree of {t} rows does not hold this row yet (it is row {seq})"),
            ))
        }
        // Another process's sealer holds the log: the row is sealed within seconds.
        None => {
            return Err(ApiError::invalid(
                "parameter_invalid",
                "tree_size",
                format!("the tree of {t} rows does not hold this row yet (it is being sealed)"),
            ))
        }
    };
    let indexes = kyb_tlog::needed(|r| kyb_tlog::prove_record(t, n, r));
    let hashes = state.store.audit_tree_hashes(&log, &indexes).await?;
    let proof = kyb_tlog::prove_record(t, n, &hashes).map_err(ApiError::internal)?;
    Ok(Json(InclusionProofResponse {
        status: "success",
        data: InclusionProofObject {
            object: "audit_inclusion_proof",
            audit_log_id: row.id.clone(),
            leaf_index: n,
            leaf_hash: b64(&row.leaf_hash().0),
            tree_size: t,
            proof: encoded(&proof),
            checkpoint: checkpoint.note,
        },
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyParams {
    /// The size of the older checkpoint.
    #[param(value_type = u64, minimum = 1)]
    from: Option<String>,
    /// The size of the newer checkpoint; the newest when absent.
    #[param(value_type = Option<u64>, minimum = 1)]
    to: Option<String>,
}

/// Proof that a later tree extends an earlier one (RFC 6962 §2.1.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProofObject {
    /// Always `audit_consistency_proof`.
    pub object: &'static str,
    pub from: u64,
    pub to: u64,
    /// The hashes that link the two roots, base64.
    pub proof: Vec<String>,
    /// Both checkpoints, as signed.
    pub from_checkpoint: String,
    pub to_checkpoint: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProofResponse {
    /// Always `success`.
    pub status: &'static str,
    pub data: ConsistencyProofObject,
}

/// Prove that the log only grew between two checkpoints.
#[utoipa::path(
    get,
    path = "/v2/audit/consistency",
    operation_id = "prove_audit_consistency",
    tag = "audit_logs",
    params(ConsistencyParams),
    responses(
        (status = 200, description = "The consistency proof", body = ConsistencyProofResponse),
        (status = 400, description = "`from` missing, or `from` or `to` not the size of a checkpoint of this log, or `from` over `to`; an unknown parameter", body = ErrorBody),
        (status = 404, description = "`resource_missing`: the log has no rows yet", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn consistency(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(params): ApiQuery<ConsistencyParams>,
) -> Result<Json<ConsistencyProofResponse>> {
    let log = AuditChain::Platform(auth.scope.platform_id.clone());
    let from = tree_size("from", params.from.as_deref())?.ok_or_else(|| {
        ApiError::invalid(
            "parameter_missing",
            "from",
            "from is required: the size of the older checkpoint",
        )
    })?;
    let to = tree_size("to", params.to.as_deref())?;
    let newest = newest(&state, &log).await?;
    let newer = checkpoint_of(&state, &log, &newest, "to", to).await?;
    let older = checkpoint_of(&state, &log, &newest, "from", Some(from)).await?;
    if older.tree_size > newer.tree_size {
        return Err(ApiError::invalid(
            "parameter_invalid",
            "from",
            format!(
                "from ({}) must not be over to ({})",
                older.tree_size, newer.tree_size
            ),
        ));
    }
    let (t, n) = (newer.tree_size, older.tree_size);
    let indexes = kyb_tlog::needed(|r| kyb_tlog::prove_tree(t, n, r));
    let hashes = state.store.audit_tree_hashes(&log, &indexes).await?;
    let proof = kyb_tlog::prove_tree(t, n, &hashes).map_err(ApiError::internal)?;
    Ok(Json(ConsistencyProofResponse {
        status: "success",
        data: ConsistencyProofObject {
            object: "audit_consistency_proof",
            from: n,
            to: t,
            proof: encoded(&proof),
            from_checkpoint: older.note,
            to_checkpoint: newer.note,
        },
    }))
}
