//! What the store reads and writes, independent of the database behind it.

use chrono::{DateTime, Duration, Utc};
use kyb_domain::kyb::{BusinessProfile, PersonFacts};
use kyb_domain::{
    CreateBusinessCustomer, CustomerId, EventId, IdempotencyKey, KeyId, LinkId, Mode, PlatformId,
    Progress, RequestId, VerificationStatus,
};

/// The tenant and mode every customer query is scoped to. Repository functions that read
/// customer data take one, so an unscoped query has nowhere to come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub platform_id: PlatformId,
    pub mode: Mode,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Platform {
    pub id: PlatformId,
    pub name: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// A change of a platform's policies; `None` leaves a policy as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlatformPolicy {
    /// Approve a case whose checks all pass without a reviewer.
    pub auto_approve: Option<bool>,
    /// The platform's own link lifetime in seconds (`Some(None)`: the service's again).
    pub link_ttl_secs: Option<Option<i64>>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiKeyRecord {
    pub id: KeyId,
    pub platform_id: PlatformId,
    pub mode: Mode,
    /// The start of the secret (`sk_test_AbCdEf123456`), enough to recognise a key in a list.
    pub lookup_prefix: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key found for authentication, with what the caller needs to decide.
#[derive(Debug, Clone)]
pub struct KeyForAuth {
    pub key: ApiKeyRecord,
    pub secret_hash: String,
    pub platform_active: bool,
    /// The platform's default link lifetime in seconds, when it has one.
    pub link_ttl_secs: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    pub platform_id: PlatformId,
    pub mode: Mode,
    pub business_name: String,
    pub business_email: String,
    pub phone_number: String,
    pub registered_address: String,
    pub registered_country: String,
    pub verification_status: VerificationStatus,
    pub progress: Progress,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The newest link that is neither used, revoked nor expired at read time.
    pub current_link: Option<LinkSummary>,
    /// What the review decided that the platform may see.
    pub review: ReviewState,
    /// What the customer has given in the hosted flow so far.
    pub facts: KybFacts,
}

/// How much one customer may keep: documents (count and total bytes) and people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerCaps {
    pub max_documents: usize,
    pub max_document_bytes: u64,
    pub max_people: usize,
}

impl CustomerCaps {
    /// Whether one more document of `size` fits beside `count` documents of `total` bytes;
    /// the refusal when it does not.
    pub fn document_refusal(&self, count: u64, total: u64, size: u64) -> Option<StoreErrorCode> {
        if count >= self.max_documents as u64 {
            Some(StoreErrorCode::TooManyDocuments)
        } else if total.saturating_add(size) > self.max_document_bytes {
            Some(StoreErrorCode::DocumentsTooLarge)
        } else {
            None
        }
    }
}

/// Which cap refused a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorCode {
    TooManyDocuments,
    DocumentsTooLarge,
    TooManyPeople,
}

impl StoreErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooManyDocuments => "too_many_documents",
            Self::DocumentsTooLarge => "documents_too_large",
            Self::TooManyPeople => "too_many_people",
        }
    }
}

/// The hosted-flow data that requirements are computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KybFacts {
    /// As saved by the customer, or prefilled from creation when nothing is saved yet.
    pub profile: BusinessProfile,
    pub people: Vec<PersonFacts>,
    /// Kinds of the documents uploaded and not deleted.
    pub document_kinds: Vec<String>,
    /// The documents uploaded and not deleted: (kind, id), oldest first.
    pub documents: Vec<(String, String)>,
    /// Changes whenever a person is added, changed or removed (ids and update times).
    pub people_version: String,
}

impl KybFacts {
    /// What a requirement item (`business_details.<field>`, `people`, `documents.<kind>`) holds
    /// now, as a string that changes when the customer changes it: to tell whether an item a
    /// reviewer asked for again was changed since.
    pub fn fingerprint(&self, item: &str) -> String {
        if let Some(field) = item.strip_prefix("business_details.") {
            self.profile.get(field).to_owned()
        } else if item == "people" || item.starts_with("people.") {
            self.people_version.clone()
        } else if let Some(kind) = item.strip_prefix("documents.") {
            self.documents
                .iter()
                .filter(|(k, _)| k == kind)
                .map(|(_, id)| id.as_str())
                .collect::<Vec<_>>()
                .join(",")
        } else {
            String::new()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSummary {
    pub id: LinkId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A link to write: the token itself never reaches the store, only its hash.
#[derive(Debug, Clone)]
pub struct NewLink {
    pub id: LinkId,
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
    /// Where the hosted pages send the customer after submitting, instead of the platform's
    /// `return_url` (branding).
    pub return_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub id: CustomerId,
    pub fields: CreateBusinessCustomer,
    pub link: NewLink,
}

/// The idempotency side of a POST: the key, a fingerprint of the request, and how long to keep
/// the outcome.
#[derive(Debug, Clone)]
pub struct IdempotencyRequest {
    pub key: IdempotencyKey,
    pub request_hash: String,
    pub retention: Duration,
}

/// A response as it will be sent, stored with the idempotency key for byte-for-byte replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// The outcome of an idempotent write.
#[derive(Debug)]
pub enum Idempotent<T> {
    /// The effects ran and committed now.
    Fresh(T),
    /// The key was used before with the same request: here is that response.
    Replayed(StoredResponse),
    /// The key was used before with a different request.
    Mismatch,
    /// Another request with this key is still running.
    InFlight,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    ApiKey,
    Operator,
    CustomerSession,
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKey => "api_key",
            Self::Operator => "operator",
            Self::CustomerSession => "customer_session",
            Self::System => "system",
        }
    }
}

/// Who did something, from where, in which request: written with every audit row.
#[derive(Debug, Clone)]
pub struct AuditContext {
    pub actor: ActorKind,
    pub actor_id: Option<String>,
    pub request_id: Option<RequestId>,
    pub client_addr: Option<String>,
    pub at: DateTime<Utc>,
}

impl AuditContext {
    /// An action taken from the `kyb` command line by the operator of the installation.
    pub fn operator_cli(at: DateTime<Utc>) -> Self {
        Self {
            actor: ActorKind::Operator,
            actor_id: Some("cli".into()),
            request_id: None,
            client_addr: None,
            at,
        }
    }

    /// An action the service took on its own (a worker), with no request behind it.
    pub fn system(at: DateTime<Utc>) -> Self {
        Self {
            actor: ActorKind::System,
            actor_id: None,
            request_id: None,
            client_addr: None,
            at,
        }
    }
}

/// An event for the outbox.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: EventId,
    pub event_type: &'static str,
    pub customer_id: Option<CustomerId>,
    pub payload: serde_json::Value,
}

/// What a write hands back to the caller to finish the request: the response to send and to keep
/// for replay, and the events to publish. Built from the customer as it is inside the transaction.
#[derive(Debug, Clone)]
pub struct WriteResult {
    pub response: StoredResponse,
    pub events: Vec<NewEvent>,
}

#[derive(Debug, Clone)]
pub struct ListCustomers {
    pub limit: u32,
    pub starting_after: Option<CustomerId>,
    /// Any of these statuses; empty: every status.
    pub statuses: Vec<VerificationStatus>,
    /// Only the customer with this e-mail address (`BusinessEmail::key`).
    pub email_key: Option<String>,
    pub created_gte: Option<DateTime<Utc>>,
    pub created_lt: Option<DateTime<Utc>>,
    pub updated_gte: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct ListEvents {
    pub limit: u32,
    pub starting_after: Option<EventId>,
    /// One of the API's event types (a `'static` name from its list, so the store may write it
    /// into a statement).
    pub event_type: Option<&'static str>,
    /// Only the events about this customer.
    pub customer_id: Option<CustomerId>,
}

#[derive(Debug, Clone)]
pub struct CustomerPage {
    pub customers: Vec<Customer>,
    pub has_more: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRow {
    pub seq: i64,
    pub id: String,
    pub platform_id: String,
    pub livemode: Option<bool>,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct EventRow {
    pub seq: i64,
    pub id: String,
    pub platform_id: String,
    pub livemode: bool,
    pub event_type: String,
    pub customer_id: Option<String>,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub(crate) fn audit_id() -> String {
    kyb_domain::AuditId::generate().into_string()
}

/// The link fields of a customer row read back (used by both backends).
pub(crate) fn link_summary(
    id: Option<String>,
    created_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
) -> Option<LinkSummary> {
    Some(LinkSummary {
        id: LinkId::from_trusted(id?),
        created_at: created_at?,
        expires_at: expires_at?,
    })
}

pub(crate) fn key_record(
    id: String,
    platform_id: String,
    livemode: bool,
    lookup_prefix: String,
    description: Option<String>,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
) -> ApiKeyRecord {
    ApiKeyRecord {
        id: KeyId::from_trusted(id),
        platform_id: PlatformId::from_trusted(platform_id),
        mode: Mode::from_live(livemode),
        lookup_prefix,
        description,
        created_at,
        revoked_at,
    }
}

// ----- the hosted flow ---------------------------------------------------------------------

/// Why a link cannot start a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Valid,
    Used,
    Expired,
    Revoked,
    /// The platform that sent it is deactivated: no link of its works.
    PlatformInactive,
}

/// A link found by its token, with what its pages show.
#[derive(Debug, Clone)]
pub struct LinkView {
    pub link_id: LinkId,
    pub customer_id: CustomerId,
    pub platform_id: PlatformId,
    pub platform_name: String,
    pub branding: kyb_domain::branding::Branding,
    pub registered_country: String,
    pub state: LinkState,
    pub expires_at: DateTime<Utc>,
}

/// What a browser's session cookie says of its session, whatever the session's state: for the
/// pages that tell the customer how to go on when it can no longer be used.
#[derive(Debug, Clone)]
pub struct SessionTrace {
    pub link_id: LinkId,
    pub platform_id: PlatformId,
    pub platform_name: String,
    pub branding: kyb_domain::branding::Branding,
    /// Still usable: not ended, not past its end, not idle too long.
    pub live: bool,
    /// Ended because the verification was submitted (and it has not come back for more).
    pub submitted: bool,
}

/// A session to start: only the hash of the cookie's value is stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id_hash: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// A live customer session, with the customer it is for.
#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    pub csrf_token: String,
    pub link_id: LinkId,
    pub platform_name: String,
    /// The platform's brand on the hosted pages (read with the session).
    pub branding: kyb_domain::branding::Branding,
    pub customer: Customer,
    pub expires_at: DateTime<Utc>,
}

impl Session {
    pub fn scope(&self) -> Scope {
        Scope {
            platform_id: self.customer.platform_id.clone(),
            mode: self.customer.mode,
        }
    }
}

/// A director, officer or owner as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    pub full_name: String,
    pub date_of_birth: String,
    pub nationality: String,
    pub role: String,
    pub is_control_person: bool,
    pub ownership_bp: u16,
}

/// An uploaded document as stored (the bytes live in the object store under `storage_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: String,
    pub kind: String,
    pub original_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    pub uploaded_at: DateTime<Utc>,
}

// ----- webhooks ---------------------------------------------------------------------------------

/// A platform's webhook endpoint as stored. The secrets are encrypted; only the server can open
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: kyb_domain::WebhookEndpointId,
    pub platform_id: PlatformId,
    pub mode: Mode,
    pub url: String,
    pub description: Option<String>,
    /// Event types this endpoint receives; `["*"]` is every type.
    pub enabled_events: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret_enc: String,
    pub previous_secret_enc: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookEndpoint {
    pub fn receives(&self, event_type: &str) -> bool {
        events_match(&self.enabled_events, event_type)
    }
}

pub(crate) fn events_match(enabled: &[String], event_type: &str) -> bool {
    enabled.iter().any(|t| t == "*" || t == event_type)
}

/// The type of the test event an endpoint gets on request: never fanned out, never replayed.
pub const TEST_EVENT: &str = "ping";

/// Where a replay of events to an endpoint starts.
#[derive(Debug, Clone)]
pub enum ReplayFrom {
    /// Events recorded at or after this time.
    Time(DateTime<Utc>),
    /// Events recorded after this one.
    After(kyb_domain::EventId),
}

/// What a replay queued.
#[derive(Debug, Clone)]
pub struct Replayed {
    /// Deliveries queued (events of types the endpoint takes).
    pub events_queued: usize,
    /// The last event looked at: where the next replay starts when `has_more`.
    pub last_event_id: Option<kyb_domain::EventId>,
    /// Whether events after `last_event_id` were left for another replay.
    pub has_more: bool,
}

/// An endpoint to create; the secret arrives already encrypted.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub id: kyb_domain::WebhookEndpointId,
    pub url: String,
    pub description: Option<String>,
    pub enabled_events: Vec<String>,
    pub secret_enc: String,
}

/// The fields an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EndpointPatch {
    pub url: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub enabled_events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// A secret rotation: the new secret, and until when the replaced one keeps signing.
#[derive(Debug, Clone)]
pub struct SecretRotation {
    pub secret_enc: String,
    pub previous_expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
    Cancelled,
}

impl DeliveryStatus {
    pub const ALL: [Self; 4] = [
        Self::Pending,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One event on its way to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: kyb_domain::DeliveryId,
    pub endpoint_id: kyb_domain::WebhookEndpointId,
    pub event_id: EventId,
    pub event_type: String,
    pub mode: Mode,
    pub status: DeliveryStatus,
    pub attempt_count: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct ListDeliveries {
    pub limit: u32,
    pub starting_after: Option<kyb_domain::DeliveryId>,
    pub status: Option<DeliveryStatus>,
}

/// How one attempt ended, and so what happens to its delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    Succeeded,
    /// Try again at this time.
    Retry(DateTime<Utc>),
    /// The last attempt of the schedule failed.
    Failed,
    /// The receiver answered `410 Gone`: the endpoint is disabled and the delivery failed.
    DisableEndpoint(String),
}

impl AttemptResult {
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Retry(_) => "retrying",
            Self::Failed => "failed",
            Self::DisableEndpoint(_) => "endpoint_disabled",
        }
    }
}

/// One HTTP request of a delivery, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: kyb_domain::AttemptId,
    pub delivery_id: kyb_domain::DeliveryId,
    pub attempt_number: i32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub outcome: String,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// A delivery a worker has leased, with everything needed to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: kyb_domain::DeliveryId,
    pub event_id: EventId,
    pub payload: serde_json::Value,
    /// Attempts so far in this round (since creation or the last manual retry).
    pub round_attempts: i32,
    pub attempt_count: i32,
    pub endpoint: WebhookEndpoint,
}

/// What a worker reports after one attempt.
#[derive(Debug, Clone)]
pub struct AttemptReport {
    pub delivery_id: kyb_domain::DeliveryId,
    pub endpoint_id: kyb_domain::WebhookEndpointId,
    pub platform_id: PlatformId,
    pub lease_owner: String,
    pub attempt_number: i32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub result: AttemptResult,
    pub finished_at: DateTime<Utc>,
}

// ----- sanctions lists ---------------------------------------------------------------------------

/// One imported version of a sanctions list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SanctionsList {
    pub id: kyb_domain::SanctionsListId,
    pub source: String,
    pub list_date: String,
    pub sha256: String,
    pub entry_count: i64,
    pub alias_count: i64,
    pub imported_at: DateTime<Utc>,
}

impl SanctionsList {
    /// This version with its entries, ready to screen against.
    pub fn loaded(
        &self,
        entries: Vec<kyb_screening::ListEntry>,
    ) -> Result<kyb_screening::LoadedList, crate::StoreError> {
        let source = kyb_screening::Source::parse(&self.source).ok_or_else(|| {
            crate::StoreError::Corrupt(format!(
                "sanctions list {} has source {:?}, which kyb does not read",
                self.id, self.source
            ))
        })?;
        Ok(kyb_screening::LoadedList {
            source,
            list_id: self.id.to_string(),
            list_date: self.list_date.clone(),
            entries,
        })
    }
}

/// What an import did: a new version (and how many customers it queued for re-screening), or
/// the version this very file was imported as before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    New(SanctionsList, u64),
    AlreadyImported(SanctionsList),
}

// ----- automated checks --------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    Sanctions,
    Registry,
    Documents,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sanctions => "sanctions",
            Self::Registry => "registry",
            Self::Documents => "documents",
        }
    }
}

/// pass / warn / fail, in order of severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Pass,
    Warn,
    Fail,
}

impl CheckOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

/// A check's result to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCheckResult {
    pub kind: CheckKind,
    pub outcome: CheckOutcome,
    /// Machine-readable reason codes (`sanctions_hit`, `registry_not_found`, …).
    pub reasons: Vec<String>,
    pub evidence: serde_json::Value,
}

/// A recorded check result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CheckResult {
    pub id: String,
    pub job_id: String,
    pub kind: String,
    pub outcome: String,
    pub reasons: Vec<String>,
    pub evidence: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Every check, after the customer submits.
    Submission,
    /// Sanctions again, after a newer list was imported.
    Rescreen,
}

impl JobKind {
    /// The kind of a stored job (anything but `rescreen` is a submission's).
    pub fn from_stored(s: &str) -> Self {
        if s == "rescreen" {
            Self::Rescreen
        } else {
            Self::Submission
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submission => "submission",
            Self::Rescreen => "rescreen",
        }
    }
}

/// What becomes of a job whose run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobRetry {
    /// It runs again then.
    At(DateTime<Utc>),
    /// It runs again then, and this run does not count against its attempts (the database was
    /// unavailable: no fault of the job's).
    NotCounted(DateTime<Utc>),
    /// It ran as often as it may: it is `failed` until a person runs it again.
    GiveUp,
}

/// A check job that failed every run it was allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedJob {
    pub id: kyb_domain::CheckJobId,
    pub kind: JobKind,
    pub attempts: i32,
    /// The error of its last run.
    pub error: String,
    pub failed_at: DateTime<Utc>,
}

/// A job a check runner has leased.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: kyb_domain::CheckJobId,
    pub kind: JobKind,
    pub customer_id: CustomerId,
    pub platform_id: PlatformId,
    pub mode: Mode,
    pub attempts: i32,
    pub auto_approve: bool,
}

/// A document whose bytes (SHA-256) another customer also uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateDocument {
    pub document_id: String,
    pub kind: String,
    pub sha256: String,
    /// The other customer, when it belongs to the same platform (another platform's customers
    /// are never named).
    pub other_customer: Option<CustomerId>,
}

/// Everything the checks look at.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    pub customer: Customer,
    pub people: Vec<Person>,
    pub documents: Vec<Document>,
    pub duplicates: Vec<DuplicateDocument>,
}

/// What a finished job writes, in one transaction.
#[derive(Debug, Clone)]
pub struct JobCompletion {
    pub job_id: kyb_domain::CheckJobId,
    pub lease_owner: String,
    pub results: Vec<NewCheckResult>,
    /// Approve the case (only from `in_review`: the platform's policy allowed it).
    pub approve: bool,
    /// Flag the case for a reviewer, with this reason code.
    pub flag: Option<String>,
    pub at: DateTime<Utc>,
}

// ----- the review console ------------------------------------------------------------------------

/// A customer's review state as the platform may see it, plus the reviewer's flag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewState {
    /// Reason codes of a rejection.
    pub rejection_reasons: Vec<String>,
    /// While `more_info`: the requirement keys asked for again, and the message to the customer.
    pub info_request: Option<InfoRequest>,
    /// Why a reviewer must look again (`sanctions_new_hit`).
    pub review_flag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InfoRequest {
    pub items: Vec<String>,
    pub message: String,
    /// Each item's fingerprint when it was asked for (`KybFacts::fingerprint`): an item whose
    /// fingerprint differs now was changed. Written by the store with the request.
    #[serde(default)]
    pub baseline: std::collections::BTreeMap<String, String>,
    /// Items the customer confirmed as still correct, unchanged.
    #[serde(default)]
    pub confirmed: Vec<String>,
}

/// Where an item asked for again stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskedState {
    /// Neither changed nor confirmed yet.
    Open,
    Changed,
    Confirmed,
}

impl InfoRequest {
    /// A request for these items with this message (the store records the baseline).
    pub fn new(items: Vec<String>, message: String) -> Self {
        Self {
            items,
            message,
            baseline: Default::default(),
            confirmed: Vec::new(),
        }
    }

    /// Where an item stands against the customer's facts now.
    pub fn state(&self, item: &str, facts: &KybFacts) -> AskedState {
        let changed = self
            .baseline
            .get(item)
            .is_some_and(|before| *before != facts.fingerprint(item));
        if changed {
            AskedState::Changed
        } else if self.confirmed.iter().any(|c| c == item) {
            AskedState::Confirmed
        } else {
            AskedState::Open
        }
    }

    /// The items neither changed nor confirmed: submission waits for them.
    pub fn open_items<'a>(&'a self, facts: &KybFacts) -> Vec<&'a str> {
        self.items
            .iter()
            .filter(|i| self.state(i, facts) == AskedState::Open)
            .map(String::as_str)
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorRole {
    Reviewer,
    Admin,
}

impl OperatorRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reviewer => "reviewer",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reviewer" => Some(Self::Reviewer),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Operator {
    pub id: String,
    pub email: String,
    pub role: OperatorRole,
    pub created_at: DateTime<Utc>,
}

/// An operator's account as `kyb operator list` and the console's Operators page show it.
#[derive(Debug, Clone)]
pub struct OperatorAccount {
    pub operator: Operator,
    pub disabled: bool,
    /// The platforms the account is limited to; empty: every platform.
    pub platforms: Vec<PlatformId>,
}

/// An operator found for a login attempt.
#[derive(Debug, Clone)]
pub struct OperatorLogin {
    pub operator: Operator,
    pub password_hash: String,
    pub locked_until: Option<DateTime<Utc>>,
    pub disabled: bool,
}

#[derive(Debug, Clone)]
pub struct ConsoleSession {
    pub operator: Operator,
    pub csrf_token: String,
}

/// A case waiting for a reviewer.
#[derive(Debug, Clone)]
pub struct QueueItem {
    pub customer: Customer,
    pub platform_name: String,
    pub submitted_at: Option<DateTime<Utc>>,
    /// Since when the case waits: its submission, or its creation before one.
    pub since: DateTime<Utc>,
    /// 2 when a check failed, 1 when one warned, 0 when all passed; -1 before the checks ran.
    pub risk: i32,
    /// The latest sanctions check hit.
    pub sanctions_hit: bool,
    /// A check job failed every run it was allowed.
    pub failed_checks: bool,
    pub assignee_email: Option<String>,
    /// Admins who approved since the submission (a case with a hit needs two).
    pub first_approvals: i64,
}

/// Which cases the queue shows, in which order, from where.
#[derive(Debug, Clone, Default)]
pub struct QueueQuery {
    /// Part of the business name, the e-mail or a person's name, or a whole customer id; empty
    /// for all.
    pub search: String,
    pub status: QueueStatus,
    pub platform: Option<PlatformId>,
    /// The platforms the operator may see; `None`: every platform.
    pub visible: Option<Vec<PlatformId>>,
    pub flag: Option<QueueFlag>,
    pub assignee: QueueAssignee,
    /// Only cases waiting longer than this many days.
    pub older_than_days: Option<u32>,
    pub sort: QueueSort,
    pub after: Option<QueueCursor>,
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QueueStatus {
    /// Waiting for a person: in review, or approved and flagged by a newer list.
    #[default]
    Open,
    Is(VerificationStatus),
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueFlag {
    /// The latest sanctions check hit.
    SanctionsHit,
    /// A newer list brought a hit after approval (`review_flag`).
    NewHit,
    /// A check job failed every run it was allowed.
    FailedCheck,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum QueueAssignee {
    #[default]
    Anyone,
    Unassigned,
    /// This operator's cases (by id).
    Operator(String),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QueueSort {
    /// The riskiest first, then the longest waiting.
    #[default]
    Risk,
    /// The longest waiting first.
    Age,
}

/// Where a page of the queue ends: the sort keys of its last case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueCursor {
    pub risk: i32,
    pub since: DateTime<Utc>,
    pub id: String,
}

impl QueueCursor {
    /// `risk.nanoseconds.id`, for a URL.
    pub fn encode(&self) -> String {
        format!(
            "{}.{}.{}",
            self.risk,
            self.since.timestamp_nanos_opt().unwrap_or_default(),
            self.id
        )
    }

    pub fn decode(s: &str) -> Option<Self> {
        let mut parts = s.splitn(3, '.');
        let risk = parts.next()?.parse().ok()?;
        let nanos: i64 = parts.next()?.parse().ok()?;
        let id = parts.next()?;
        (id.starts_with("cust_") && id.len() <= 64).then(|| Self {
            risk,
            since: DateTime::from_timestamp_nanos(nanos),
            id: id.to_owned(),
        })
    }
}

/// One page of the queue, and how many cases match in all.
#[derive(Debug, Clone)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    pub total: i64,
    pub next: Option<QueueCursor>,
}

/// What a reviewer decided.
#[derive(Debug, Clone)]
pub enum DecisionAction {
    Approve,
    Reject { reason_code: String, note: String },
    RequestInfo { info: InfoRequest, link: NewLink },
}

/// What a platform gives about its customer before the customer does (`POST
/// /v2/business_customer` and its update): business details and people, checked by the API.
#[derive(Debug, Clone, Default)]
pub struct Prefill {
    /// Business details, each `(field, value)` tidied and checked; merged into what the
    /// customer has now.
    pub business_details: Vec<(&'static str, String)>,
    /// The whole list of people, replacing those the platform gave before.
    pub people: Option<Vec<Person>>,
}

impl Prefill {
    pub fn is_empty(&self) -> bool {
        self.business_details.is_empty() && self.people.is_none()
    }
}

/// A platform's update of a customer before submission: the creation fields it changes (each
/// checked and normalised), merged into the customer under its lock, and what it prefills.
#[derive(Debug, Clone, Default)]
pub struct CustomerUpdate {
    pub business_name: Option<String>,
    /// The address and its key (`BusinessEmail::key`).
    pub business_email: Option<(String, String)>,
    pub phone_number: Option<String>,
    pub registered_address: Option<String>,
    pub registered_country: Option<String>,
    /// The country whose requirements the prefilled business details were checked against:
    /// the update is refused if the customer's country is another by the time it is written.
    pub checked_country: String,
    pub prefill: Prefill,
}

/// A step of the real flow, simulated on a test-mode customer through the API.
pub enum Simulation<'a> {
    /// The customer opens their current link (a session nobody holds the cookie of).
    OpenLink(NewSession),
    /// What is still due is filled in with sandbox values, then the case is submitted as the
    /// hosted flow submits it (attested by `attested_by`, checked by `missing`).
    Submit {
        /// The business details and people to add, given the locked customer.
        fill: Box<dyn FnOnce(&Customer) -> SandboxFill + Send + 'a>,
        /// Documents of the kinds that were missing, their bytes already stored.
        documents: Vec<Document>,
        attested_by: &'a str,
        missing: DueCheck<'a>,
        caps: CustomerCaps,
    },
    /// A reviewer's decision, taken by the simulation.
    Decide(DecisionAction),
}

/// What a simulated submission adds to the customer's details before it submits: only what is
/// still due.
pub struct SandboxFill {
    /// The whole profile to save, when a field of it is still due.
    pub profile: Option<BusinessProfile>,
    pub people: Vec<Person>,
}

/// What is still due on a customer (the hosted submit's own check).
pub type DueCheck<'a> = Box<dyn FnOnce(&Customer) -> Vec<String> + Send + 'a>;

/// Who decides a case: an operator in the review console, or a simulation through the API in
/// test mode.
#[derive(Debug, Clone, Copy)]
pub enum Decider<'a> {
    Operator(&'a Operator),
    Simulation,
}

impl Decider<'_> {
    /// As the audit row names the decider.
    pub fn name(&self) -> &str {
        match self {
            Self::Operator(o) => &o.email,
            Self::Simulation => "simulation",
        }
    }
}

/// Where an approval of a case stands for one operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalStanding {
    /// The code of the refusal an approval by this operator would meet now, if any.
    pub refusal: Option<&'static str>,
    /// The case's sanctions hits need two admins to approve it.
    pub two_admins: bool,
    /// Admins who approved since the last submission (of the two needed).
    pub approvals: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionOutcome {
    /// The decision took effect; the case now has this status.
    Done(VerificationStatus),
    /// An approval of a case with a sanctions hit, recorded; a second admin must approve too.
    AwaitingSecondApproval,
}

/// A recorded decision, for the case page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DecisionRecord {
    pub operator_email: String,
    pub action: String,
    pub reason_code: Option<String>,
    pub note: Option<String>,
    pub message: Option<String>,
    pub created_at: DateTime<Utc>,
}

// ----- case work ---------------------------------------------------------------------------------

/// Who works on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignee {
    pub operator_id: String,
    pub email: String,
    pub assigned_at: DateTime<Utc>,
}

/// An operator's internal note on a case: never shown to the platform or the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNote {
    pub id: String,
    pub operator_email: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// One thing that happened to a case, from the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: String,
    pub details: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// A change of who works on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assign {
    /// The acting operator takes the case (an admin may take it from someone else).
    Claim,
    /// The case goes back to nobody (its assignee, or an admin).
    Release,
    /// An admin gives the case to this operator (by id).
    To(String),
}

// ----- verdicts on sanctions hits ----------------------------------------------------------------

/// What a reviewer says of a sanctions hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    TrueMatch,
    FalsePositive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TrueMatch => "true_match",
            Self::FalsePositive => "false_positive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::TrueMatch, Self::FalsePositive]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A verdict on one hit: one list entry, for one customer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HitVerdict {
    pub id: kyb_domain::VerdictId,
    pub list: String,
    pub entry_id: String,
    /// The entry's fingerprint when judged.
    pub fingerprint: String,
    pub verdict: Verdict,
    /// `pending` (a false positive waiting for a second admin) or `effective`.
    pub status: String,
    pub reason: String,
    pub operator_email: String,
    pub confirmed_by_email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl HitVerdict {
    pub fn is_effective(&self) -> bool {
        self.status == "effective"
    }

    /// Whether this is an effective verdict `verdict` on the entry. A false positive holds only
    /// for the entry as it was judged (`fingerprint`); a true match holds whatever changes.
    pub fn holds(&self, verdict: Verdict, list: &str, entry_id: &str, fingerprint: &str) -> bool {
        self.is_effective()
            && self.verdict == verdict
            && self.list == list
            && self.entry_id == entry_id
            && (verdict == Verdict::TrueMatch || self.fingerprint == fingerprint)
    }
}

/// What recording a verdict did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictOutcome {
    Effective,
    /// A false positive from a first admin: a second admin must confirm it.
    AwaitingSecondAdmin,
}

/// What `/metrics` reads from the database at scrape time.
#[derive(Debug, Clone, Default)]
pub struct Backlog {
    /// Webhook deliveries waiting to be sent, and how late the most overdue one is.
    pub deliveries_pending: i64,
    pub oldest_due_delivery: Option<DateTime<Utc>>,
    /// Check jobs waiting, and the oldest one's creation.
    pub check_jobs_pending: i64,
    /// Check jobs that failed every run they were allowed, waiting for a person.
    pub check_jobs_failed: i64,
    pub oldest_check_job: Option<DateTime<Utc>>,
    /// The newest import of each sanctions list: (source, list date, imported at).
    pub sanctions_lists: Vec<(String, String, DateTime<Utc>)>,
    /// Pooled connections: open, and idle among them.
    pub pool_size: u32,
    pub pool_idle: u32,
}

/// A platform's logo as kyb serves it (PNG or JPEG, checked by its content when it was set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// A change of a platform's brand: the values an update names (an empty string clears one),
/// or the logo (`None` removes it).
#[derive(Debug, Clone)]
pub enum BrandingUpdate<'a> {
    Values(kyb_domain::branding::Branding),
    Logo(Option<&'a [u8]>),
}

/// A signed checkpoint of a platform's transparency log.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheckpoint {
    pub tree_size: u64,
    pub root: kyb_tlog::Hash,
    /// The C2SP signed note, as published.
    pub note: String,
    pub created_at: DateTime<Utc>,
}

impl StoredCheckpoint {
    /// The log's origin: the note's first line.
    pub fn origin(&self) -> &str {
        self.note.lines().next().unwrap_or_default()
    }
}

/// What one sealing pass did.
#[derive(Debug, Clone, PartialEq)]
pub enum Sealing {
    /// Every committed row was in the tree already.
    Nothing,
    /// Another sealer holds the log's lease.
    Held,
    /// Rows were appended; the checkpoint of the new tree.
    Sealed(StoredCheckpoint),
}
