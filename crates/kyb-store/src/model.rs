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
    /// What the customer has given in the hosted flow so far.
    pub facts: KybFacts,
}

/// The hosted-flow data that requirements are computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KybFacts {
    /// As saved by the customer, or prefilled from creation when nothing is saved yet.
    pub profile: BusinessProfile,
    pub people: Vec<PersonFacts>,
    /// Kinds of the documents uploaded and not deleted.
    pub document_kinds: Vec<String>,
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
    pub verification_status: Option<VerificationStatus>,
}

#[derive(Debug, Clone)]
pub struct ListEvents {
    pub limit: u32,
    pub starting_after: Option<EventId>,
    pub event_type: Option<String>,
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
}

/// A link found by its token, with what its pages show.
#[derive(Debug, Clone)]
pub struct LinkView {
    pub link_id: LinkId,
    pub customer_id: CustomerId,
    pub platform_name: String,
    pub registered_country: String,
    pub state: LinkState,
    pub expires_at: DateTime<Utc>,
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
