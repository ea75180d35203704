//! `/v2/business_customer`: create a customer and its hosted KYB link, read and list customers,
//! and issue a fresh link. The request and response of `POST` are the vendor's contract.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use kyb_domain::{
    CreateBusinessCustomer, CreateBusinessCustomerInput, CustomerId, EventId, IdempotencyKey,
    VerificationStatus,
};
use kyb_store::{
    Customer, Idempotent, ListCustomers, NewCustomer, NewEvent, StoredResponse, WriteResult,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};

use super::schema::IdempotencyKeyHeader;
use super::{respond, rfc3339};
use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody, Result};
use crate::extract::{ApiJson, ApiQuery, EmptyBody, Idempotency, RequestContext};
use crate::{AppState, API_VERSION};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/business_customer", post(create).get(list))
        .route("/v2/business_customer/{customer_id}", get(retrieve))
        .route(
            "/v2/business_customer/{customer_id}/kyb_link",
            post(issue_link),
        )
}

/// Body of `POST /v2/business_customer`. Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "business_name": "Acme Corp Solutions Ltd",
    "business_email": "ops@acme.example",
    "phone_number": "+1-555-0123",
    "registered_address": "123 Business Street, Suite 100, New York, NY 10001",
    "registered_country": "USA"
}))]
pub struct CreateBusinessCustomerRequest {
    #[schema(schema_with = super::schema::business_name)]
    pub business_name: String,
    #[schema(schema_with = super::schema::business_email)]
    pub business_email: String,
    #[schema(schema_with = super::schema::phone_number)]
    pub phone_number: String,
    #[schema(schema_with = super::schema::registered_address)]
    pub registered_address: String,
    #[schema(schema_with = super::schema::registered_country)]
    pub registered_country: String,
    /// Optional: business details the platform already knows, for the customer to confirm in
    /// the hosted flow (checked against the requirements of `registered_country`).
    #[serde(default)]
    pub business_details: Option<super::prefill::BusinessDetails>,
    /// Optional: the people of the business (directors, officers, owners), for the customer to
    /// confirm (at most the service's limit, 25 unless configured).
    #[serde(default)]
    #[schema(max_items = 25)]
    pub people: Option<Vec<super::prefill::PersonInput>>,
}

impl EmptyBody for CreateBusinessCustomerRequest {}

/// Body of `POST /v2/business_customer/{customer_id}/kyb_link`: options of the new link; may
/// be empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "return_url": "https://platform.example/onboarding/done", "expires_in": 86400 }))]
pub struct IssueLinkRequest {
    /// Where the hosted pages send the customer after submitting, for this link (else the
    /// platform's `return_url` from its branding). https, a public host (checked as webhook
    /// URLs are), at most 2048 characters.
    #[schema(schema_with = super::schema::return_url)]
    pub return_url: Option<String>,
    /// How long the link works, in seconds: 300 (5 minutes) to 2592000 (30 days). Else the
    /// platform's default lifetime, else the service's (7 days unless configured).
    #[schema(minimum = 300, maximum = 2592000)]
    pub expires_in: Option<i64>,
}

/// The shortest and longest link lifetime a request may ask for, in seconds.
pub const LINK_EXPIRES_IN: std::ops::RangeInclusive<i64> = 300..=2_592_000;

impl EmptyBody for IssueLinkRequest {
    fn empty() -> Option<Self> {
        Some(Self::default())
    }
}

fn status_list_param() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(
                    VerificationStatus::ALL.map(VerificationStatus::as_str),
                )),
        )
        .min_items(Some(1))
        .max_items(Some(5))
        .description(Some(
            "Only customers with this status, or with any of several: the parameter repeated \
             (`verification_status=pending&verification_status=more_info`, as an array is sent) \
             or one value with commas (`pending,more_info`).",
        ))
        .build()
}

fn status_schema() -> utoipa::openapi::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(
            VerificationStatus::ALL.map(VerificationStatus::as_str),
        ))
        .description(Some("Where the customer is in verification."))
        .build()
}

/// The response of creating a customer or issuing a link: exactly the vendor's fields.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "success",
    "customer_id": "cust_q3Vt8LbX1nKe0RzA7mWc2YpD",
    "kyb_link": "https://kyb.example.com/kyb/Zk3v0uJ9b1R5c8Qx2Lm4Np7Ts6Wy0Ae3Hd5Gf1Ki8Ol",
    "verification_status": "pending",
    "link_expires_at": "2024-11-04T14:00:00Z"
}))]
pub struct KybLinkResponse {
    /// Always `success`.
    pub status: &'static str,
    /// `cust_` followed by random letters and digits.
    pub customer_id: String,
    /// The hosted, single-use KYB link to send to the customer: `{public_url}/kyb/{token}`.
    pub kyb_link: String,
    #[schema(schema_with = status_schema)]
    pub verification_status: &'static str,
    /// When the link stops working (RFC 3339, UTC).
    pub link_expires_at: String,
}

/// A business customer as `GET` returns it (and as webhook events carry it).
#[derive(Debug, Serialize, ToSchema)]
pub struct BusinessCustomer {
    /// `cust_` followed by random letters and digits.
    pub customer_id: String,
    /// `false` for customers created with a test key, `true` with a live key.
    pub livemode: bool,
    /// Registered legal name, trimmed.
    pub business_name: String,
    /// Contact e-mail address, domain in lower case.
    pub business_email: String,
    /// E.164, e.g. `+15550123`.
    pub phone_number: String,
    /// Registered address, trimmed.
    pub registered_address: String,
    /// ISO 3166-1 alpha-3 country code.
    pub registered_country: String,
    #[schema(schema_with = status_schema)]
    pub verification_status: &'static str,
    /// Finer progress through the hosted flow: `not_started`, `in_progress` or `submitted`.
    #[schema(pattern = "^(not_started|in_progress|submitted)$")]
    pub progress: &'static str,
    /// The current link if one is still valid (not used, revoked or expired), else `null`.
    pub kyb_link: Option<String>,
    /// When the current link expires (RFC 3339, UTC), else `null`.
    pub link_expires_at: Option<String>,
    /// When the customer was created (RFC 3339, UTC).
    pub created_at: String,
    /// When the customer last changed (RFC 3339, UTC).
    pub updated_at: String,
    pub requirements: RequirementsSummary,
    /// When `rejected`: the reviewer's reason codes (`sanctions_match`, `documents_invalid`,
    /// `registry_mismatch`, `prohibited_business`, `fraud_suspected`, `other`). Empty otherwise.
    /// Reviewers' internal notes are never shown.
    pub rejection_reasons: Vec<String>,
}

/// What the customer still has to provide, from the requirements of `registered_country`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequirementsSummary {
    /// Stable codes: `business_details.<field>` (missing, or not in the jurisdiction's format),
    /// `people.control_person`, `people.ownership_total` (over 100 %), `documents.<kind>`. While
    /// `more_info`, also each item asked for again (`people` among them) that the customer has
    /// neither changed nor confirmed as still correct.
    #[schema(example = json!(["business_details.tax_id", "people.control_person", "documents.certificate_of_incorporation"]))]
    pub currently_due: Vec<String>,
    /// When `more_info`: what the reviewer asked for again (`business_details.<field>`,
    /// `people`, `documents.<kind>`) and the message the customer sees. `null` otherwise.
    pub information_requested: Option<InformationRequested>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InformationRequested {
    pub items: Vec<String>,
    pub message: String,
}

/// `GET /v2/business_customer/{customer_id}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "success",
    "customer_id": "cust_q3Vt8LbX1nKe0RzA7mWc2YpD",
    "livemode": false,
    "business_name": "Acme Corp Solutions Ltd",
    "business_email": "ops@acme.example",
    "phone_number": "+15550123",
    "registered_address": "123 Business Street, Suite 100, New York, NY 10001",
    "registered_country": "USA",
    "verification_status": "pending",
    "progress": "not_started",
    "kyb_link": "https://kyb.example.com/kyb/Zk3v0uJ9b1R5c8Qx2Lm4Np7Ts6Wy0Ae3Hd5Gf1Ki8Ol",
    "link_expires_at": "2024-11-04T14:00:00Z",
    "created_at": "2024-10-28T14:00:00Z",
    "updated_at": "2024-10-28T14:00:00Z",
    "requirements": {"currently_due": ["business_details.entity_type", "business_details.tax_id", "people.control_person", "documents.certificate_of_incorporation"]}
}))]
pub struct BusinessCustomerResponse {
    /// Always `success`.
    pub status: &'static str,
    #[serde(flatten)]
    pub customer: BusinessCustomer,
}

/// `GET /v2/business_customer`: one page, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "success",
    "data": [{
        "customer_id": "cust_q3Vt8LbX1nKe0RzA7mWc2YpD",
        "livemode": false,
        "business_name": "Acme Corp Solutions Ltd",
        "business_email": "ops@acme.example",
        "phone_number": "+15550123",
        "registered_address": "123 Business Street, Suite 100, New York, NY 10001",
        "registered_country": "USA",
        "verification_status": "pending",
        "progress": "not_started",
        "kyb_link": null,
        "link_expires_at": null,
        "created_at": "2024-10-28T14:00:00Z",
        "updated_at": "2024-10-28T14:00:00Z",
        "requirements": {"currently_due": ["business_details.entity_type", "people.control_person"]}
    }],
    "has_more": false
}))]
pub struct BusinessCustomerList {
    /// Always `success`.
    pub status: &'static str,
    pub data: Vec<BusinessCustomer>,
    /// Whether more customers follow; pass the last `customer_id` as `starting_after` to get them.
    pub has_more: bool,
}

impl AppState {
    pub(crate) fn customer_object(&self, c: &Customer) -> BusinessCustomer {
        BusinessCustomer {
            customer_id: c.id.to_string(),
            livemode: c.mode.is_live(),
            business_name: c.business_name.clone(),
            business_email: c.business_email.clone(),
            phone_number: c.phone_number.clone(),
            registered_address: c.registered_address.clone(),
            registered_country: c.registered_country.clone(),
            verification_status: c.verification_status.as_str(),
            progress: c.progress.as_str(),
            kyb_link: c.current_link.as_ref().map(|l| self.links.url(&l.id)),
            link_expires_at: c.current_link.as_ref().map(|l| rfc3339(l.expires_at)),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
            requirements: RequirementsSummary {
                currently_due: {
                    let mut due = self.currently_due(c);
                    // What a reviewer asked for again stays due until the customer changed
                    // it or confirmed it is still correct.
                    if let Some(info) = &c.review.info_request {
                        for item in info.open_items(&c.facts) {
                            if !due.iter().any(|d| d == item) {
                                due.push(item.to_owned());
                            }
                        }
                    }
                    due
                },
                information_requested: c.review.info_request.as_ref().map(|i| {
                    InformationRequested {
                        items: i.items.clone(),
                        message: i.message.clone(),
                    }
                }),
            },
            rejection_reasons: c.review.rejection_reasons.clone(),
        }
    }

    /// An outbox event whose `data.object` is the customer as `GET` returns it, with the
    /// attributes that changed and their previous values when there are any.
    pub(crate) fn event(
        &self,
        event_type: &'static str,
        c: &Customer,
        previous_attributes: Option<serde_json::Value>,
    ) -> NewEvent {
        let id = EventId::generate();
        let mut object = self.customer_object(c);
        // The outbox is at rest: the link by its id, its token put back on the way out.
        object.kyb_link = c
            .current_link
            .as_ref()
            .map(|l| self.links.url_at_rest(&l.id));
        let payload = json!({
            "id": id,
            "type": event_type,
            "api_version": API_VERSION,
            "created_at": rfc3339(c.updated_at),
            "data": { "object": object, "previous_attributes": previous_attributes },
        });
        NewEvent {
            id,
            event_type,
            customer_id: Some(c.id.clone()),
            payload,
        }
    }

    /// `{status, customer}` as `GET` answers it, to be stored as an idempotent response: the
    /// link at rest, revealed by `reveal_link` on the way out.
    pub(crate) fn customer_at_rest(&self, c: &Customer) -> StoredResponse {
        let mut customer = self.customer_object(c);
        customer.kyb_link = c
            .current_link
            .as_ref()
            .map(|l| self.links.url_at_rest(&l.id));
        let body = BusinessCustomerResponse {
            status: "success",
            customer,
        };
        StoredResponse {
            status: 200,
            body: serde_json::to_vec(&body).expect("serialising plain values cannot fail"),
        }
    }

    /// The response and events of a write that left the customer with a fresh link.
    fn link_result(&self, c: &Customer, event_types: &[&'static str]) -> WriteResult {
        let link = c
            .current_link
            .as_ref()
            .expect("a write that issues a link leaves the customer with that link");
        let body = KybLinkResponse {
            status: "success",
            customer_id: c.id.to_string(),
            // Stored as the idempotent response: at rest, revealed by `respond_with_link`.
            kyb_link: self.links.url_at_rest(&link.id),
            verification_status: c.verification_status.as_str(),
            link_expires_at: rfc3339(link.expires_at),
        };
        WriteResult {
            response: StoredResponse {
                status: 200,
                body: serde_json::to_vec(&body).expect("serialising plain strings cannot fail"),
            },
            events: event_types.iter().map(|t| self.event(t, c, None)).collect(),
        }
    }
}

/// Puts the link's token back into a response about to be sent (fresh or replayed).
pub(crate) fn reveal_link(
    state: &AppState,
    outcome: Idempotent<StoredResponse>,
) -> Idempotent<StoredResponse> {
    let open = |r: StoredResponse| StoredResponse {
        status: r.status,
        body: state.links.reveal_body(r.body),
    };
    match outcome {
        Idempotent::Fresh(r) => Idempotent::Fresh(open(r)),
        Idempotent::Replayed(r) => Idempotent::Replayed(open(r)),
        other => other,
    }
}

/// A URL a platform gives for its customers' browsers to go to: https and a public host, by the
/// rules (and the resolution check) of webhook URLs; refusals name `field`.
pub(crate) async fn public_https_url(state: &AppState, field: &str, raw: &str) -> Result<String> {
    let policy = state.config.webhooks.policy();
    let refuse =
        |m: String| ApiError::invalid("parameter_invalid", field, m.replacen("url", field, 1));
    let url = policy.check_url(raw.trim()).map_err(refuse)?;
    if url.scheme() != "https" {
        return Err(refuse("url must use https".into()));
    }
    policy.check_resolved(&url).await.map_err(refuse)?;
    Ok(url.to_string())
}

pub(crate) fn parse_customer_id(raw: &str) -> Result<CustomerId> {
    CustomerId::parse(raw)
        .map_err(|_| ApiError::not_found(format!("no such business customer: {raw}")))
}

/// Create a business customer and its hosted KYB link.
///
/// Validates every field (the first refused one is named in `param`), creates the customer in
/// `pending`, issues a single-use link that expires after the configured time (7 days by
/// default), and records the audit rows and events, all in one transaction with the
/// idempotency record.
#[utoipa::path(
    post,
    path = "/v2/business_customer",
    operation_id = "create_business_customer",
    tag = "business_customer",
    request_body = CreateBusinessCustomerRequest,
    params(IdempotencyKeyHeader),
    responses(
        (status = 200, description = "Customer created (or the first response replayed)", body = KybLinkResponse,
         headers(("idempotent-replayed" = String, description = "`true` when this is a replay"))),
        (status = 400, description = "A refused field (named in `param`), an unknown or missing field, malformed JSON, or a missing or malformed idempotency-key", body = ErrorBody),
        (status = 409, description = "`customer_exists` (with `customer_id`): this e-mail address already has a customer; or `idempotency_key_in_use` (with `Retry-After`)", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    Idempotency(key): Idempotency,
    ctx: RequestContext,
    body: ApiJson<CreateBusinessCustomerRequest>,
) -> Result<Response> {
    let outcome = create_customer(&state, &auth, key, &body.value, body.raw.as_ref(), &ctx).await?;
    respond(reveal_link(&state, outcome))
}

/// Everything `POST /v2/business_customer` does after HTTP: parse the fields, then run the one
/// transaction. Public so the benchmark can run the same work without the HTTP layer.
pub async fn create_customer(
    state: &AppState,
    auth: &Authenticated,
    key: IdempotencyKey,
    req: &CreateBusinessCustomerRequest,
    raw_body: Option<&serde_json::Value>,
    ctx: &RequestContext,
) -> Result<Idempotent<StoredResponse>> {
    let input = CreateBusinessCustomerInput {
        business_name: &req.business_name,
        business_email: &req.business_email,
        phone_number: &req.phone_number,
        registered_address: &req.registered_address,
        registered_country: &req.registered_country,
    };
    let fields = CreateBusinessCustomer::parse(input, auth.mode())?;
    let now = state.clock.now();
    let caps = state.config.customer_caps();
    let prefill = super::prefill::parse_prefill(
        state
            .catalog
            .for_country(fields.registered_country.as_str()),
        req.business_details.as_ref(),
        req.people.as_deref(),
        &caps,
        now.date_naive(),
    )?;
    let new = NewCustomer {
        id: CustomerId::generate(),
        fields,
        link: state.new_link(now, auth.link_ttl),
    };
    let idem = state.idempotency(
        key,
        &Method::POST,
        "/v2/business_customer",
        auth.mode(),
        raw_body,
    );
    let audit = auth.audit_context(ctx, now);
    let events = [
        "business_customer.created",
        "business_customer.kyb_link.created",
    ];
    let finish = |c: &Customer| state.link_result(c, &events);
    if prefill.is_empty() {
        return Ok(state
            .store
            .create_customer(&auth.scope, new, &idem, &audit, finish)
            .await?);
    }
    Ok(state
        .store
        .create_customer_prefilled(&auth.scope, new, &prefill, &caps, &idem, &audit, finish)
        .await?)
}

/// Retrieve a business customer.
///
/// Everything the platform sent (normalised), the verification status, the current link if it
/// is still valid, timestamps and `livemode`. Another platform's customer is `404`.
#[utoipa::path(
    get,
    path = "/v2/business_customer/{customer_id}",
    operation_id = "retrieve_business_customer",
    tag = "business_customer",
    params(("customer_id" = String, Path, pattern = "^cust_[A-Za-z0-9]{1,64}$", description = "`cust_…`")),
    responses(
        (status = 200, description = "The customer", body = BusinessCustomerResponse),
        (status = 400, description = "A path that is not readable text (invisible or control characters, percent-escapes that are not UTF-8)", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such customer for this platform and mode (also for an id that is not a `cust_` id)", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn retrieve(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(raw_id): Path<String>,
) -> Result<Json<BusinessCustomerResponse>> {
    let id = parse_customer_id(&raw_id)?;
    let customer = state
        .store
        .get_customer(&auth.scope, &id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no such business customer: {id}")))?;
    Ok(Json(BusinessCustomerResponse {
        status: "success",
        customer: state.customer_object(&customer),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// How many customers to return, 1 to 100 (default 10).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// A `customer_id` from the previous page: return the customers created before it. An id
    /// that is not one of this platform's customers is a 400.
    #[param(pattern = "^cust_[A-Za-z0-9]{1,64}$")]
    starting_after: Option<String>,
    /// Only customers with this status, or with any of several: the parameter repeated
    /// (`verification_status=pending&verification_status=more_info`) or one value with commas
    /// (`pending,more_info`).
    #[param(schema_with = status_list_param, style = Form, explode)]
    verification_status: Option<String>,
    /// Only the customer with this e-mail address (compared as creation compares them, without
    /// regard to case).
    #[param(schema_with = super::schema::business_email)]
    business_email: Option<String>,
    /// Only customers created at or after this time (RFC 3339; compared to the creation time
    /// in full, where responses show whole seconds).
    #[serde(rename = "created[gte]")]
    #[param(rename = "created[gte]", value_type = Option<String>, format = DateTime)]
    created_gte: Option<String>,
    /// Only customers created before this time (RFC 3339).
    #[serde(rename = "created[lt]")]
    #[param(rename = "created[lt]", value_type = Option<String>, format = DateTime)]
    created_lt: Option<String>,
    /// Only customers changed at or after this time (RFC 3339): what changed since a sync.
    #[serde(rename = "updated[gte]")]
    #[param(rename = "updated[gte]", value_type = Option<String>, format = DateTime)]
    updated_gte: Option<String>,
}

/// A time filter's value: RFC 3339, named in the error by its parameter.
pub(crate) fn parse_time(
    raw: Option<&str>,
    param: &'static str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    raw.map(|raw| {
        chrono::DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|_| {
                ApiError::invalid(
                    "parameter_invalid",
                    param,
                    format!(
                        "{param} must be a time in RFC 3339 (2026-12-01T00:00:00Z), got {raw:?}"
                    ),
                )
            })
    })
    .transpose()
}

impl ListParams {
    fn parse(self) -> Result<ListCustomers> {
        let limit = super::parse_limit(self.limit.as_deref())?;
        let starting_after = super::parse_cursor(
            self.starting_after.as_deref(),
            CustomerId::parse,
            "a customer_id (cust_…)",
        )?;
        let mut statuses = Vec::new();
        for raw in self.verification_status.iter().flat_map(|s| s.split(',')) {
            let status = VerificationStatus::parse(raw).ok_or_else(|| {
                ApiError::invalid(
                    "parameter_invalid",
                    "verification_status",
                    format!("verification_status must be one or more of pending, in_review, more_info, approved, rejected, separated by commas; got {raw:?}"),
                )
            })?;
            if !statuses.contains(&status) {
                statuses.push(status);
            }
        }
        let email_key = self
            .business_email
            .map(|raw| {
                kyb_domain::BusinessEmail::parse(&raw)
                    .map(|e| e.key())
                    .map_err(|e| {
                        ApiError::invalid(
                            "parameter_invalid",
                            "business_email",
                            format!("business_email must be an e-mail address: {e}"),
                        )
                    })
            })
            .transpose()?;
        Ok(ListCustomers {
            limit,
            starting_after,
            statuses,
            email_key,
            created_gte: parse_time(self.created_gte.as_deref(), "created[gte]")?,
            created_lt: parse_time(self.created_lt.as_deref(), "created[lt]")?,
            updated_gte: parse_time(self.updated_gte.as_deref(), "updated[gte]")?,
        })
    }
}

/// List business customers, newest first.
///
/// Cursor pagination: `limit` (at most 100) and `starting_after` (the last `customer_id` of the
/// previous page). Filters, combined: `verification_status` (one or several), `business_email`,
/// `created[gte]`, `created[lt]` and `updated[gte]`.
#[utoipa::path(
    get,
    path = "/v2/business_customer",
    operation_id = "list_business_customers",
    tag = "business_customer",
    params(ListParams),
    responses(
        (status = 200, description = "One page of customers", body = BusinessCustomerList),
        (status = 400, description = "An invalid or unknown query parameter, or one repeated (but `verification_status`, which takes several); also a `starting_after` that is well formed but not a customer of this platform", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<BusinessCustomerList>> {
    let query = params.parse()?;
    let page = state
        .store
        .list_customers(&auth.scope, &query, state.clock.now())
        .await?;
    Ok(Json(BusinessCustomerList {
        status: "success",
        data: page
            .customers
            .iter()
            .map(|c| state.customer_object(c))
            .collect(),
        has_more: page.has_more,
    }))
}

/// Issue a fresh KYB link.
///
/// Revokes every older link of the customer and returns a new one, in the same shape as
/// creation. Optional: `expires_in` and a `return_url` for this link (else the platform's
/// defaults). Refused with `409 invalid_state` while the customer is `in_review` and once it is
/// `approved` or `rejected`.
#[utoipa::path(
    post,
    path = "/v2/business_customer/{customer_id}/kyb_link",
    operation_id = "issue_kyb_link",
    tag = "business_customer",
    params(
        ("customer_id" = String, Path, pattern = "^cust_[A-Za-z0-9]{1,64}$", description = "`cust_…`"),
        IdempotencyKeyHeader,
    ),
    request_body(content = Option<IssueLinkRequest>, description = "Empty, `{}`, or the link's options"),
    responses(
        (status = 200, description = "A new link (or the first response replayed)", body = KybLinkResponse,
         headers(("idempotent-replayed" = String, description = "`true` when this is a replay"))),
        (status = 400, description = "A refused option (named in `param`: `return_url` not https or not a public host, `expires_in` out of range), an unknown field, a body that is not a JSON object, a missing or malformed idempotency-key, or a path that is not readable text", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such customer for this platform and mode", body = ErrorBody),
        (status = 409, description = "`invalid_state`: the customer is `in_review`, `approved` or `rejected`; or `idempotency_key_in_use` (with `Retry-After`)", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn issue_link(
    State(state): State<AppState>,
    auth: Authenticated,
    Idempotency(key): Idempotency,
    ctx: RequestContext,
    Path(raw_id): Path<String>,
    body: ApiJson<IssueLinkRequest>,
) -> Result<Response> {
    let id = parse_customer_id(&raw_id)?;
    let now = state.clock.now();
    let path = format!("/v2/business_customer/{id}/kyb_link");
    let idem = state.idempotency(key, &Method::POST, &path, auth.mode(), body.raw.as_ref());
    let ttl = match body.value.expires_in {
        None => auth.link_ttl,
        Some(secs) if LINK_EXPIRES_IN.contains(&secs) => Some(chrono::Duration::seconds(secs)),
        Some(secs) => {
            return Err(ApiError::invalid(
                "parameter_invalid",
                "expires_in",
                format!(
                    "expires_in must be 300 to 2592000 seconds (5 minutes to 30 days), got {secs}"
                ),
            ))
        }
    };
    let return_url = match &body.value.return_url {
        None => None,
        Some(raw) => {
            // A replay answers as the first time, whatever the address resolves to now.
            if let Some(done) = state.store.stored_outcome(&auth.scope, &idem, now).await? {
                return respond(reveal_link(&state, done));
            }
            Some(public_https_url(&state, "return_url", raw).await?)
        }
    };
    let mut link = state.new_link(now, ttl);
    link.return_url = return_url;
    let audit = auth.audit_context(&ctx, now);
    let outcome = state
        .store
        .issue_link(&auth.scope, &id, link, &idem, &audit, |c| {
            state.link_result(c, &["business_customer.kyb_link.created"])
        })
        .await?;
    respond(reveal_link(&state, outcome))
}
