//! `POST /v2/business_customer/{customer_id}/simulate`: test mode's way through the whole flow
//! without a person. Each action is a step of the real flow (the customer opening the link,
//! submitting the hosted flow, a reviewer's decision), taken through the same store code, so
//! it writes the same events, webhooks, audit rows and check jobs. Live keys get 404.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use kyb_domain::requirements::requestable_items;
use kyb_domain::{CustomerId, REJECTION_REASONS};
use kyb_store::{
    Customer, DecisionAction, Document, InfoRequest, NewSession, Simulation, StoreError,
};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use utoipa::ToSchema;

use super::business_customer::{parse_customer_id, reveal_link, BusinessCustomerResponse};
use super::respond;
use super::schema::IdempotencyKeyHeader;
use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody, Result};
use crate::extract::{ApiJson, EmptyBody, Idempotency, RequestContext};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v2/business_customer/{customer_id}/simulate",
        post(simulate),
    )
}

/// How long a simulated decision waits for the automated checks of a submission to finish.
pub const CHECKS_WAIT: Duration = Duration::from_secs(10);
/// Who attests a simulated submission.
const ATTESTED_BY: &str = "Sandbox simulation";
/// What a simulated request for more information asks, unless the request says.
const DEFAULT_ITEMS: [&str; 1] = ["business_details.business_description"];
const DEFAULT_MESSAGE: &str = "Sandbox: please review your details.";

/// Body of `POST /v2/business_customer/{customer_id}/simulate`, as read (checked here, so
/// that each error names its field and rule). Documented as [`SimulateRequest`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulateFields {
    action: String,
    reason_code: Option<String>,
    items: Option<Vec<String>>,
    message: Option<String>,
}

/// Body of `POST /v2/business_customer/{customer_id}/simulate`: the step, and what a decision
/// carries.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)] // the document's shape of `SimulateFields`
#[serde(untagged)]
#[schema(example = json!({ "action": "approve" }))]
pub enum SimulateRequest {
    Step(SimulateStep),
    Reject(SimulateReject),
    RequestMoreInfo(SimulateRequestMoreInfo),
}

/// The customer opens the current link (`open_link`); what is still due is filled in with
/// sandbox values and the hosted flow submitted, the automated checks then run (`submit`); or a
/// reviewer approves (`approve`, once the checks have finished).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct SimulateStep {
    #[schema(schema_with = step_action)]
    action: String,
}

/// A reviewer rejects, once the checks have finished.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct SimulateReject {
    #[schema(schema_with = reject_action)]
    action: String,
    #[schema(schema_with = reason_code_schema)]
    reason_code: Option<String>,
}

/// A reviewer asks for more information, once the checks have finished: a new link is issued.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct SimulateRequestMoreInfo {
    #[schema(schema_with = info_action)]
    action: String,
    #[schema(schema_with = items_schema)]
    items: Option<Vec<String>>,
    #[schema(schema_with = message_schema)]
    message: Option<String>,
}

impl EmptyBody for SimulateFields {}

fn action_of(values: &[&'static str], description: &str) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(values.iter().copied()))
        .description(Some(description))
        .build()
}

fn step_action() -> utoipa::openapi::Object {
    action_of(&["open_link", "submit", "approve"], "The step to simulate.")
}

fn reject_action() -> utoipa::openapi::Object {
    action_of(&["reject"], "A rejection.")
}

fn info_action() -> utoipa::openapi::Object {
    action_of(&["request_more_info"], "A request for more information.")
}

/// Requirement keys a reviewer can ask for again; absent or `null`: the default.
fn items_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, SchemaType, Type};
    let keys: Vec<String> = requestable_items().into_iter().map(|(k, _)| k).collect();
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(keys)),
        )
        .min_items(Some(1))
        .max_items(Some(20))
        .description(Some(
            "What the customer must give again, as requirement keys (`business_details.<field>`, \
             `people`, `documents.<kind>`); absent or `null`: \
             `[\"business_details.business_description\"]`.",
        ))
        .build()
        .into()
}

/// The message the customer sees; absent or `null`: the default.
fn message_schema() -> utoipa::openapi::schema::Schema {
    super::schema::simulate_message()
}

/// `reject` only; absent or `null`: `other`. One of null or the enum (as optional objects are
/// written), so that generators make one enum type of it.
fn reason_code_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::Type;
    use utoipa::openapi::{ObjectBuilder, OneOfBuilder};
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(REJECTION_REASONS.map(|(c, _)| c))),
        )
        .description(Some(
            "`reject` only: the reason code the platform sees (default `other`).",
        ))
        .build()
        .into()
}

/// A parsed simulation request.
enum Step {
    OpenLink,
    Submit,
    Approve,
    Reject(String),
    RequestInfo(Vec<String>, String),
}

impl SimulateFields {
    fn parse(&self) -> Result<Step> {
        let only_for = |field: &str, action: &str| {
            ApiError::invalid(
                "parameter_unknown",
                field,
                format!("{field} is only for the action {action}"),
            )
        };
        let step = match self.action.as_str() {
            "open_link" => Step::OpenLink,
            "submit" => Step::Submit,
            "approve" => Step::Approve,
            "reject" => {
                let code = self.reason_code.clone().unwrap_or_else(|| "other".into());
                if !REJECTION_REASONS.iter().any(|(c, _)| *c == code) {
                    return Err(ApiError::invalid(
                        "parameter_invalid",
                        "reason_code",
                        format!(
                            "reason_code must be one of {}; got {code:?}",
                            REJECTION_REASONS.map(|(c, _)| c).join(", ")
                        ),
                    ));
                }
                Step::Reject(code)
            }
            "request_more_info" => {
                let allowed = requestable_items();
                let items = self
                    .items
                    .clone()
                    .unwrap_or_else(|| DEFAULT_ITEMS.map(str::to_owned).to_vec());
                if items.is_empty() || items.len() > 20 {
                    return Err(ApiError::invalid(
                        "parameter_invalid",
                        "items",
                        "items must list 1 to 20 requirement keys",
                    ));
                }
                if let Some(bad) = items.iter().find(|i| !allowed.iter().any(|(k, _)| k == *i)) {
                    return Err(ApiError::invalid(
                        "parameter_invalid",
                        "items",
                        format!(
                            "items must be requirement keys (business_details.<field>, people, documents.<kind>); got {bad:?}"
                        ),
                    ));
                }
                let mut unique: Vec<String> = Vec::new();
                for i in items {
                    if !unique.contains(&i) {
                        unique.push(i);
                    }
                }
                let message = self
                    .message
                    .clone()
                    .unwrap_or_else(|| DEFAULT_MESSAGE.to_owned());
                let n = message.trim().chars().count();
                if message.trim().is_empty() || n > 2000 {
                    return Err(ApiError::invalid(
                        "parameter_invalid",
                        "message",
                        format!("message must be 1 to 2000 characters, got {n}"),
                    ));
                }
                Step::RequestInfo(unique, message)
            }
            other => {
                return Err(ApiError::invalid(
                    "parameter_invalid",
                    "action",
                    format!(
                        "action must be one of open_link, submit, approve, reject, request_more_info; got {other:?}"
                    ),
                ))
            }
        };
        if self.reason_code.is_some() && !matches!(step, Step::Reject(_)) {
            return Err(only_for("reason_code", "reject"));
        }
        for (field, given) in [
            ("items", self.items.is_some()),
            ("message", self.message.is_some()),
        ] {
            if given && !matches!(step, Step::RequestInfo(..)) {
                return Err(only_for(field, "request_more_info"));
            }
        }
        Ok(step)
    }
}

/// Simulate a step of the flow (test mode).
///
/// Moves a test-mode customer through the real flow without a person: each action runs the
/// same code as the hosted flow or the review console, and writes the same events, webhooks,
/// audit rows and check jobs. `submit` fills in what is still due with sandbox values (what the
/// platform prefilled is kept) and starts the automated checks; a decision waits up to 10 s for
/// them to finish. Magic values in test mode send the checks down each branch (see the
/// integration guide). Live keys get 404.
#[utoipa::path(
    post,
    path = "/v2/business_customer/{customer_id}/simulate",
    operation_id = "simulate_business_customer",
    tag = "business_customer",
    request_body = SimulateRequest,
    params(
        ("customer_id" = String, Path, pattern = "^cust_[A-Za-z0-9]{1,64}$", description = "`cust_…`"),
        IdempotencyKeyHeader,
    ),
    responses(
        (status = 200, description = "The customer after the step (or the first response replayed)", body = BusinessCustomerResponse,
         headers(("idempotent-replayed" = String, description = "`true` when this is a replay"))),
        (status = 400, description = "An invalid, unknown or missing field (named in `param`), malformed JSON, or a missing or malformed idempotency-key", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such customer in test mode, or a live key (simulations are for test mode only)", body = ErrorBody),
        (status = 409, description = "`invalid_state`: the step does not fit the customer's status (or there is no link to open); `checks_running`: the automated checks have not finished; `idempotency_key_in_use` (with `Retry-After`)", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn simulate(
    State(state): State<AppState>,
    auth: Authenticated,
    Idempotency(key): Idempotency,
    ctx: RequestContext,
    Path(raw_id): Path<String>,
    body: ApiJson<SimulateFields>,
) -> Result<Response> {
    if auth.mode().is_live() {
        return Err(ApiError::not_found(
            "simulations are for test mode only: use a test key (sk_test_…)",
        ));
    }
    let id = parse_customer_id(&raw_id)?;
    let step = body.value.parse()?;
    let path = format!("/v2/business_customer/{id}/simulate");
    let idem = state.idempotency(key, &Method::POST, &path, auth.mode(), body.raw.as_ref());
    let now = state.clock.now();
    // A replay answers before anything is stored or waited for.
    if let Some(done) = state.store.stored_outcome(&auth.scope, &idem, now).await? {
        return respond(reveal_link(&state, done));
    }
    let opening = matches!(step, Step::OpenLink);
    let mut stored_documents: Vec<Document> = Vec::new();
    let simulation = match step {
        Step::OpenLink => Simulation::OpenLink(NewSession {
            id_hash: kyb_store::secrets::hash_secret(&crate::web::cookies::random_token()),
            csrf_token: crate::web::cookies::random_token(),
            expires_at: now + state.config.session_max,
        }),
        Step::Submit => {
            let customer = state
                .store
                .get_customer(&auth.scope, &id, now)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no such business customer: {id}")))?;
            stored_documents = store_documents(&state, &customer).await?;
            let state = &state;
            Simulation::Submit {
                fill: Box::new(move |c: &Customer| crate::sandbox::fill(state, c)),
                documents: stored_documents.clone(),
                attested_by: ATTESTED_BY,
                missing: Box::new(move |c: &Customer| state.currently_due(c)),
                caps: state.config.customer_caps(),
            }
        }
        decision => {
            // Only for a customer of this platform and mode.
            state
                .store
                .get_customer(&auth.scope, &id, now)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no such business customer: {id}")))?;
            wait_for_checks(&state, &id).await?;
            Simulation::Decide(match decision {
                Step::Reject(reason_code) => DecisionAction::Reject {
                    reason_code,
                    note: String::new(),
                },
                Step::RequestInfo(items, message) => DecisionAction::RequestInfo {
                    info: InfoRequest::new(items, message),
                    // The store gives it the platform's lifetime (`follow_up_link`).
                    link: state.new_link(state.clock.now(), None),
                },
                _ => DecisionAction::Approve,
            })
        }
    };
    let audit = auth.audit_context(&ctx, state.clock.now());
    let outcome = state
        .store
        .simulate(
            &auth.scope,
            &id,
            simulation,
            &idem,
            &audit,
            |c, previous, new_link| events(&state, c, previous, opening, new_link),
            |c| state.customer_at_rest(c),
        )
        .await;
    // The bytes of sandbox documents the write surely did not record must not stay behind.
    if crate::uploads::surely_not_recorded(&outcome) {
        for doc in &stored_documents {
            let path = object_store::path::Path::from(doc.storage_key.as_str());
            let _ = state.documents.delete(&path).await;
        }
    }
    let outcome = outcome.map_err(|e| match e {
        StoreError::Incomplete(due) => ApiError::new(
            axum::http::StatusCode::CONFLICT,
            crate::error::ErrorType::InvalidRequestError,
            "invalid_state",
            format!(
                "the customer cannot be submitted: {} (the sandbox cannot fill these in)",
                due.join(", ")
            ),
        ),
        other => other.into(),
    })?;
    respond(reveal_link(&state, outcome))
}

/// The events of a step: those the hosted flow or the console writes for it.
fn events(
    state: &AppState,
    c: &Customer,
    previous: kyb_domain::VerificationStatus,
    opening: bool,
    new_link: bool,
) -> Vec<kyb_store::NewEvent> {
    if opening {
        return vec![state.event("business_customer.kyb_link.opened", c, None)];
    }
    let changed = Some(json!({ "verification_status": previous }));
    let mut events = Vec::new();
    if c.verification_status == kyb_domain::VerificationStatus::InReview {
        events.push(state.event("business_customer.submitted", c, None));
    }
    events.push(state.event("business_customer.verification_status.updated", c, changed));
    if new_link {
        events.push(state.event("business_customer.kyb_link.created", c, None));
    }
    events
}

/// Stores a sandbox PDF of each required kind the customer has not given (before the write
/// that records them).
async fn store_documents(state: &AppState, c: &Customer) -> Result<Vec<Document>> {
    let mut docs: Vec<Document> = Vec::new();
    for kind in crate::sandbox::missing_documents(state, c) {
        let data = crate::sandbox::document_pdf(c.id.as_str(), &kind);
        let doc = crate::sandbox::document(c, &kind, &data, state.clock.now());
        let path = object_store::path::Path::from(doc.storage_key.as_str());
        if let Err(e) = state.documents.put(&path, data.into()).await {
            for d in &docs {
                let path = object_store::path::Path::from(d.storage_key.as_str());
                let _ = state.documents.delete(&path).await;
            }
            return Err(ApiError::internal(e));
        }
        docs.push(doc);
    }
    Ok(docs)
}

/// Waits, while this node runs the check workers, until the customer's check jobs are done
/// (at most `CHECKS_WAIT`); the decision itself refuses if they are still running.
async fn wait_for_checks(state: &AppState, id: &CustomerId) -> Result<()> {
    if !state.config.workers {
        return Ok(());
    }
    let started = std::time::Instant::now();
    while state.store.pending_check_jobs(id).await? > 0 && started.elapsed() < CHECKS_WAIT {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}
