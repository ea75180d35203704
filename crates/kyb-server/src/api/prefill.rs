//! What a platform already knows about its customer, given before the customer opens the
//! hosted flow: business details and people with the create or `POST
//! /v2/business_customer/{customer_id}` (an update, which can also correct the creation
//! fields), and documents with `POST /v2/business_customer/{customer_id}/documents`. Checked
//! by the same rules as the hosted pages (`kyb_domain::kyb::rules`, the jurisdiction's
//! requirements, the upload checks), said in English with the field named. Only before
//! submission; an item the customer changed in the hosted flow is theirs (409 naming it).

use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use kyb_domain::kyb::rules;
use kyb_domain::requirements::{Requirements, DOCUMENT_KINDS};
use kyb_domain::{
    BusinessEmail, BusinessName, CountryCode, FieldError, PhoneNumber, RegisteredAddress,
    ValueError,
};
use kyb_store::{
    Customer, CustomerCaps, CustomerUpdate, Document, Person, Prefill, StoredResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::business_customer::{parse_customer_id, reveal_link, BusinessCustomerResponse};
use super::schema::IdempotencyKeyHeader;
use super::{respond, rfc3339};
use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody, ErrorType, Result};
use crate::extract::{ApiJson, EmptyBody, Idempotency, RequestContext};
use crate::AppState;

pub fn router(max_upload_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/v2/business_customer/{customer_id}", post(update))
        .route(
            "/v2/business_customer/{customer_id}/documents",
            post(upload_document).layer(DefaultBodyLimit::max(max_upload_bytes + 64 * 1024)),
        )
}

/// Business details the platform already knows; each optional. Checked as the hosted form
/// checks them, against the requirements of the customer's `registered_country`; an empty
/// string clears a value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "legal_name": "Acme Corp Solutions Ltd",
    "entity_type": "llc",
    "registration_number": "5551234",
    "date_of_incorporation": "2019-03-01",
    "tax_id": "12-3456789",
    "website": "https://acme.example",
    "business_description": "Payments software for small shops",
    "operating_address": "123 Business Street, Suite 100, New York, NY 10001"
}))]
pub struct BusinessDetails {
    #[schema(schema_with = super::schema::legal_name)]
    pub legal_name: Option<String>,
    #[schema(schema_with = super::schema::trading_name)]
    pub trading_name: Option<String>,
    #[schema(schema_with = super::schema::entity_type)]
    pub entity_type: Option<String>,
    #[schema(schema_with = super::schema::registration_number)]
    pub registration_number: Option<String>,
    #[schema(schema_with = super::schema::date_of_incorporation)]
    pub date_of_incorporation: Option<String>,
    #[schema(schema_with = super::schema::tax_id)]
    pub tax_id: Option<String>,
    #[schema(schema_with = super::schema::website)]
    pub website: Option<String>,
    #[schema(schema_with = super::schema::business_description)]
    pub business_description: Option<String>,
    #[schema(schema_with = super::schema::operating_address)]
    pub operating_address: Option<String>,
}

impl BusinessDetails {
    fn fields(&self) -> [(&'static str, Option<&String>); 9] {
        [
            ("legal_name", self.legal_name.as_ref()),
            ("trading_name", self.trading_name.as_ref()),
            ("entity_type", self.entity_type.as_ref()),
            ("registration_number", self.registration_number.as_ref()),
            ("date_of_incorporation", self.date_of_incorporation.as_ref()),
            ("tax_id", self.tax_id.as_ref()),
            ("website", self.website.as_ref()),
            ("business_description", self.business_description.as_ref()),
            ("operating_address", self.operating_address.as_ref()),
        ]
    }
}

/// A person of the business: a director, officer, shareholder or other, and whether they
/// control it and own part of it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "full_name": "Ada Obi", "date_of_birth": "1980-04-12", "nationality": "USA",
    "role": "director", "is_control_person": true, "ownership_percent": 60
}))]
pub struct PersonInput {
    #[schema(schema_with = super::schema::person_name)]
    pub full_name: String,
    #[schema(schema_with = super::schema::date_of_birth)]
    pub date_of_birth: String,
    #[schema(schema_with = super::schema::nationality)]
    pub nationality: String,
    #[schema(schema_with = role_schema)]
    pub role: String,
    /// Controls the business (a director, a senior officer). Default `false`.
    #[serde(default)]
    pub is_control_person: bool,
    /// Share owned, 0 to 100 with at most two decimals; all people together at most 100.
    /// Default 0.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub ownership_percent: f64,
}

fn role_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(rules::PERSON_ROLES))
        .description(Some("The person's role in the business."))
        .build()
}

/// Body of `POST /v2/business_customer/{customer_id}`: what changes, each field optional.
/// Unknown fields are refused.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "phone_number": "+1-555-0199",
    "business_details": { "tax_id": "12-3456789", "entity_type": "llc" }
}))]
pub struct UpdateBusinessCustomerRequest {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = super::schema::business_name)]
    pub business_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = super::schema::business_email)]
    pub business_email: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = super::schema::phone_number)]
    pub phone_number: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = super::schema::registered_address)]
    pub registered_address: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = super::schema::registered_country)]
    pub registered_country: Option<String>,
    pub business_details: Option<BusinessDetails>,
    /// The people of the business: the whole list, replacing the one given before (at most the
    /// service's limit, 25 unless configured).
    #[schema(max_items = 25)]
    pub people: Option<Vec<PersonInput>>,
}

impl EmptyBody for UpdateBusinessCustomerRequest {}

/// A field that may be absent but, when given, is a string: `null` is refused (it would read as
/// "keep", which the document does not say).
fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// What a prefill of `business_details` and `people` holds once checked against
/// `requirements`.
pub fn parse_prefill(
    requirements: &Requirements,
    details: Option<&BusinessDetails>,
    people: Option<&[PersonInput]>,
    caps: &CustomerCaps,
    today: chrono::NaiveDate,
) -> Result<Prefill> {
    let mut prefill = Prefill::default();
    for (field, value) in details.map(BusinessDetails::fields).into_iter().flatten() {
        let Some(value) = value else { continue };
        prefill
            .business_details
            .push((field, business_detail(requirements, field, value, today)?));
    }
    if let Some(people) = people {
        if people.len() > caps.max_people {
            return Err(ApiError::invalid(
                "parameter_invalid",
                "people",
                format!("people may list at most {} people", caps.max_people),
            ));
        }
        let mut list = Vec::with_capacity(people.len());
        let mut total: u32 = 0;
        for (i, p) in people.iter().enumerate() {
            let person = person(i, p, today)?;
            total += u32::from(person.ownership_bp);
            list.push(person);
        }
        if total > 10_000 {
            return Err(ApiError::invalid(
                "parameter_invalid",
                "people",
                format!(
                    "the people's ownership_percent add up to {}.{:02}; together they may own at most 100",
                    total / 100,
                    total % 100
                ),
            ));
        }
        prefill.people = Some(list);
    }
    Ok(prefill)
}

/// One business detail, tidied and checked as the hosted form does.
fn business_detail(
    requirements: &Requirements,
    field: &'static str,
    raw: &str,
    today: chrono::NaiveDate,
) -> Result<String> {
    let param = format!("business_details.{field}");
    let refuse = |rule: String| {
        ApiError::invalid(
            "parameter_invalid",
            param.clone(),
            format!("{param} {rule}"),
        )
    };
    let max = rules::max_chars(field);
    let len = raw.trim().chars().count();
    if len > max {
        return Err(refuse(format!(
            "must be at most {max} characters, got {len}"
        )));
    }
    let mut value = requirements.tidy(field, raw);
    if field == "website" {
        value = rules::tidy_website(value);
    }
    if value.is_empty() {
        return Ok(value);
    }
    if requirements.check(field, &value).is_err() {
        let example = requirements
            .field(field)
            .and_then(|r| r.example.as_deref())
            .map(|e| format!(" (like {e})"))
            .unwrap_or_default();
        return Err(refuse(format!(
            "is not in the format of {}{example}",
            requirements.country
        )));
    }
    let problem = match field {
        "entity_type" if requirements.entity_type_label(&value).is_none() => Some(format!(
            "must be one of {}",
            requirements
                .entity_types
                .iter()
                .map(|(c, _)| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        "date_of_incorporation" => {
            let (min, max) = rules::incorporation_dates(today);
            match rules::date(&value) {
                None => Some("must be a date written YYYY-MM-DD".to_owned()),
                Some(d) if d < min || d > max => Some(format!("must be from {min} to {max}")),
                Some(_) => None,
            }
        }
        "website" if !rules::website_ok(&value) => {
            Some("must be a web address like https://example.com".to_owned())
        }
        _ => None,
    };
    match problem {
        Some(rule) => Err(refuse(rule)),
        None => Ok(value),
    }
}

/// The `i`th person, checked as the hosted form checks a person.
fn person(i: usize, p: &PersonInput, today: chrono::NaiveDate) -> Result<Person> {
    let refuse = |field: &str, rule: String| {
        let param = format!("people[{i}].{field}");
        ApiError::invalid(
            "parameter_invalid",
            param.clone(),
            format!("{param} {rule}"),
        )
    };
    let full_name = p.full_name.trim();
    let len = full_name.chars().count();
    if len == 0 || len > rules::MAX_PERSON_NAME {
        return Err(refuse(
            "full_name",
            format!(
                "must be 1 to {} characters, got {len}",
                rules::MAX_PERSON_NAME
            ),
        ));
    }
    let (oldest, youngest) = rules::birth_dates(today);
    match rules::date(p.date_of_birth.trim()) {
        None => {
            return Err(refuse(
                "date_of_birth",
                "must be a date written YYYY-MM-DD".into(),
            ))
        }
        Some(d) if d < oldest || d > youngest => {
            return Err(refuse(
                "date_of_birth",
                format!("must be from {oldest} to {youngest} (aged 16 to 120)"),
            ))
        }
        Some(_) => {}
    }
    let nationality = CountryCode::parse(p.nationality.trim()).map_err(|_| {
        refuse(
            "nationality",
            "must be an ISO 3166-1 alpha-3 country code like USA".into(),
        )
    })?;
    if !rules::PERSON_ROLES.contains(&p.role.as_str()) {
        return Err(refuse(
            "role",
            format!("must be one of {}", rules::PERSON_ROLES.join(", ")),
        ));
    }
    let percent = p.ownership_percent;
    let ownership_bp = (percent.is_finite()
        && (percent * 100.0 - (percent * 100.0).round()).abs() < 1e-6)
        .then(|| rules::parse_percent(&format!("{:.2}", percent)))
        .flatten()
        .ok_or_else(|| {
            refuse(
                "ownership_percent",
                format!("must be 0 to 100 with at most two decimals, got {percent}"),
            )
        })?;
    Ok(Person {
        id: format!("per_{}", crate::uploads::random_id()),
        full_name: full_name.to_owned(),
        date_of_birth: p.date_of_birth.trim().to_owned(),
        nationality: nationality.as_str().to_owned(),
        role: p.role.clone(),
        is_control_person: p.is_control_person,
        ownership_bp,
    })
}

/// Update a business customer before it is submitted.
///
/// Corrects the creation fields and prefills business details and people, for the customer to
/// confirm in the hosted flow. Only while the customer is `pending` (else `409
/// invalid_state`). Business details are merged; `people` replaces the list given before. A
/// business detail or the people that the customer changed in the hosted flow cannot be changed
/// again by the platform: `409 changed_by_customer`, naming the item in `param`. Sends
/// `business_customer.updated`, with the creation fields that changed in
/// `previous_attributes`; an update that changes nothing answers the customer and writes
/// nothing.
#[utoipa::path(
    post,
    path = "/v2/business_customer/{customer_id}",
    operation_id = "update_business_customer",
    tag = "business_customer",
    request_body = UpdateBusinessCustomerRequest,
    params(
        ("customer_id" = String, Path, pattern = "^cust_[A-Za-z0-9]{1,64}$", description = "`cust_…`"),
        IdempotencyKeyHeader,
    ),
    responses(
        (status = 200, description = "The customer after the update (or the first response replayed)", body = BusinessCustomerResponse,
         headers(("idempotent-replayed" = String, description = "`true` when this is a replay"))),
        (status = 400, description = "A refused field (named in `param`, such as `business_details.tax_id` or `people[0].date_of_birth`), an unknown field, `null` for a creation field, malformed JSON, or a missing or malformed idempotency-key", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such customer for this platform and mode", body = ErrorBody),
        (status = 409, description = "`invalid_state`: the customer was submitted; `changed_by_customer`: the customer changed this item (`param`) in the hosted flow; `customer_exists`: another customer has this e-mail address; or `idempotency_key_in_use` (with `Retry-After`)", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    auth: Authenticated,
    Idempotency(key): Idempotency,
    ctx: RequestContext,
    Path(raw_id): Path<String>,
    body: ApiJson<UpdateBusinessCustomerRequest>,
) -> Result<Response> {
    let id = parse_customer_id(&raw_id)?;
    let req = &body.value;
    let now = state.clock.now();
    let path = format!("/v2/business_customer/{id}");
    let idem = state.idempotency(key, &Method::POST, &path, auth.mode(), body.raw.as_ref());
    // A retry answers as the first time, whatever the customer is now.
    if let Some(done) = state.store.stored_outcome(&auth.scope, &idem, now).await? {
        return respond(reveal_link(&state, done));
    }
    let field = |param: &'static str, parsed: std::result::Result<String, ValueError>| {
        parsed.map_err(|e| ApiError::from(FieldError::from_value(param, e)))
    };
    let mut update = CustomerUpdate {
        business_name: req
            .business_name
            .as_deref()
            .map(|v| {
                field(
                    "business_name",
                    BusinessName::parse(v).map(|x| x.as_str().to_owned()),
                )
            })
            .transpose()?,
        business_email: req
            .business_email
            .as_deref()
            .map(|v| {
                let parsed = match auth.mode() {
                    kyb_domain::Mode::Test => BusinessEmail::parse_test_mode(v),
                    kyb_domain::Mode::Live => BusinessEmail::parse(v),
                };
                parsed
                    .map(|e| (e.as_str().to_owned(), e.key()))
                    .map_err(|e| ApiError::from(FieldError::from_value("business_email", e)))
            })
            .transpose()?,
        phone_number: req
            .phone_number
            .as_deref()
            .map(|v| {
                field(
                    "phone_number",
                    PhoneNumber::parse(v).map(|x| x.as_str().to_owned()),
                )
            })
            .transpose()?,
        registered_address: req
            .registered_address
            .as_deref()
            .map(|v| {
                field(
                    "registered_address",
                    RegisteredAddress::parse(v).map(|x| x.as_str().to_owned()),
                )
            })
            .transpose()?,
        registered_country: req
            .registered_country
            .as_deref()
            .map(|v| {
                field(
                    "registered_country",
                    CountryCode::parse(v).map(|x| x.as_str().to_owned()),
                )
            })
            .transpose()?,
        ..CustomerUpdate::default()
    };
    // Business details are checked against the country the customer will have.
    let country = match &update.registered_country {
        Some(country) => country.clone(),
        None => {
            state
                .store
                .get_customer(&auth.scope, &id, now)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no such business customer: {id}")))?
                .registered_country
        }
    };
    let caps = state.config.customer_caps();
    update.prefill = parse_prefill(
        state.catalog.for_country(&country),
        req.business_details.as_ref(),
        req.people.as_deref(),
        &caps,
        now.date_naive(),
    )?;
    update.checked_country = country;
    let nothing = update.business_name.is_none()
        && update.business_email.is_none()
        && update.phone_number.is_none()
        && update.registered_address.is_none()
        && update.registered_country.is_none()
        && update.prefill.is_empty();
    if nothing {
        // Nothing to change: the customer as it is, and nothing written.
        let customer = state
            .store
            .get_customer(&auth.scope, &id, now)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no such business customer: {id}")))?;
        return Ok(axum::Json(BusinessCustomerResponse {
            status: "success",
            customer: state.customer_object(&customer),
        })
        .into_response());
    }
    let audit = auth.audit_context(&ctx, now);
    let outcome = state
        .store
        .update_customer(
            &auth.scope,
            &id,
            &update,
            &caps,
            &idem,
            &audit,
            |c, previous| kyb_store::WriteResult {
                response: state.customer_at_rest(c),
                events: vec![state.event(
                    super::events::UPDATED,
                    c,
                    (!previous.is_empty()).then(|| serde_json::Value::Object(previous.clone())),
                )],
            },
        )
        .await?;
    respond(reveal_link(&state, outcome))
}

/// A document as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentObject {
    /// Always `document`.
    pub object: &'static str,
    /// `doc_…`
    pub id: String,
    pub customer_id: String,
    /// `certificate_of_incorporation`, `proof_of_address`, `ownership_structure`,
    /// `tax_registration` or `other`.
    pub kind: String,
    /// The file's name as sent, reduced to what a reader sees.
    pub file_name: String,
    /// Judged from the content: `application/pdf`, `image/png` or `image/jpeg`.
    pub content_type: String,
    pub size_bytes: i64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    pub uploaded_at: String,
    /// What the customer still has to provide after this document.
    pub currently_due: Vec<String>,
}

/// `multipart/form-data` of `POST /v2/business_customer/{customer_id}/documents`: these two
/// parts and no other.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct DocumentUpload {
    #[schema(schema_with = document_kind_schema)]
    kind: String,
    /// PDF, PNG or JPEG (judged by the content), at most the service's upload limit (10 MiB
    /// unless configured).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

fn document_kind_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(DOCUMENT_KINDS.map(|(k, _)| k)))
        .description(Some("What the document is."))
        .build()
}

/// Upload a document for a business customer before it is submitted.
///
/// `multipart/form-data` with `kind` and `file`: the same checks as the hosted upload (the type
/// judged by the content: PDF, PNG or JPEG; the size limit; the customer's document caps). The
/// customer sees it in the hosted flow. Only while the customer is `pending`.
#[utoipa::path(
    post,
    path = "/v2/business_customer/{customer_id}/documents",
    operation_id = "upload_business_customer_document",
    tag = "business_customer",
    request_body(content = DocumentUpload, content_type = "multipart/form-data"),
    params(
        ("customer_id" = String, Path, pattern = "^cust_[A-Za-z0-9]{1,64}$", description = "`cust_…`"),
        IdempotencyKeyHeader,
    ),
    responses(
        (status = 200, description = "The document (or the first response replayed)", body = DocumentObject,
         headers(("idempotent-replayed" = String, description = "`true` when this is a replay"))),
        (status = 400, description = "A missing, unknown or refused part (named in `param`: `kind`, or `file` whose content is not a PDF, PNG or JPEG), an unreadable multipart body, or a missing or malformed idempotency-key", body = ErrorBody),
        (status = 404, description = "`resource_missing`: no such customer for this platform and mode", body = ErrorBody),
        (status = 409, description = "`invalid_state`: the customer was submitted; `too_many_documents` or `documents_too_large`: the customer's caps; or `idempotency_key_in_use`", body = ErrorBody),
        (status = 413, description = "`file_too_large`: over the upload limit", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: a body that is not `multipart/form-data`", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn upload_document(
    State(state): State<AppState>,
    auth: Authenticated,
    Idempotency(key): Idempotency,
    ctx: RequestContext,
    Path(raw_id): Path<String>,
    multipart: std::result::Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response> {
    let id = parse_customer_id(&raw_id)?;
    let limit = state.config.max_upload_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorType::InvalidRequestError,
            "file_too_large",
            format!("file must be at most {limit} bytes"),
        )
        .with_param("file")
    };
    let unreadable = |e: String| {
        ApiError::bad_request(
            "body_invalid",
            format!("the body must be multipart/form-data with the fields kind and file: {e}"),
        )
    };
    let mut multipart = multipart.map_err(|_| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorType::InvalidRequestError,
            "unsupported_media_type",
            "the body must be multipart/form-data with the fields kind and file",
        )
    })?;
    let (mut kind, mut file) = (None::<String>, None::<(Option<String>, bytes::Bytes)>);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => return Err(unreadable(e.body_text())),
        };
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let data = match field.bytes().await {
            Ok(d) => d,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => return Err(unreadable(e.body_text())),
        };
        match name.as_str() {
            "kind" => kind = Some(String::from_utf8_lossy(&data).trim().to_owned()),
            "file" => file = Some((file_name, data)),
            other => {
                return Err(ApiError::invalid(
                    "parameter_unknown",
                    other.to_owned(),
                    format!("{other} is not a field of this upload: send kind and file"),
                ))
            }
        }
    }
    let kind = kind.ok_or_else(|| {
        ApiError::invalid(
            "parameter_missing",
            "kind",
            "kind is required: what the document is",
        )
    })?;
    if !DOCUMENT_KINDS.iter().any(|(k, _)| *k == kind) {
        return Err(ApiError::invalid(
            "parameter_invalid",
            "kind",
            format!(
                "kind must be one of {}; got {kind:?}",
                DOCUMENT_KINDS.map(|(k, _)| k).join(", ")
            ),
        ));
    }
    let (file_name, data) = file.ok_or_else(|| {
        ApiError::invalid(
            "parameter_missing",
            "file",
            "file is required: the document's bytes",
        )
    })?;
    let content_type = crate::uploads::content_type(&data, limit).map_err(|p| {
        use crate::uploads::UploadProblem as P;
        match p {
            P::TooLarge => too_large(),
            P::Empty => ApiError::invalid("parameter_invalid", "file", "file is empty"),
            P::TypeUnknown => ApiError::invalid(
                "parameter_invalid",
                "file",
                "file must be a PDF, PNG or JPEG; its content is none of these",
            ),
            P::TypeRefused(ext) => ApiError::invalid(
                "parameter_invalid",
                "file",
                format!("file must be a PDF, PNG or JPEG; its content is {ext}"),
            ),
        }
    })?;
    let now = state.clock.now();
    // The request as the idempotency record knows it: what the upload holds.
    let fingerprint = json!({
        "kind": kind, "file_name": file_name, "sha256": crate::uploads::sha256_hex(&data),
    });
    let path = format!("/v2/business_customer/{id}/documents");
    let idem = state.idempotency(key, &Method::POST, &path, auth.mode(), Some(&fingerprint));
    if let Some(done) = state.store.stored_outcome(&auth.scope, &idem, now).await? {
        return respond(done);
    }
    let customer = state
        .store
        .get_customer(&auth.scope, &id, now)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no such business customer: {id}")))?;
    let doc = crate::uploads::new_document(
        &customer,
        &kind,
        file_name.as_deref(),
        content_type,
        &data,
        now,
    );
    let object_path = object_store::path::Path::from(doc.storage_key.as_str());
    state
        .documents
        .put(&object_path, data.into())
        .await
        .map_err(ApiError::internal)?;
    let caps = state.config.customer_caps();
    let audit = auth.audit_context(&ctx, now);
    let outcome = state
        .store
        .add_customer_document(&auth.scope, &id, &doc, &caps, &idem, &audit, |c| {
            document_response(&state, c, &doc)
        })
        .await;
    // The row is the record of the upload: without it the bytes must not stay behind.
    if crate::uploads::surely_not_recorded(&outcome) {
        let _ = state.documents.delete(&object_path).await;
    }
    respond(outcome?)
}

fn document_response(state: &AppState, c: &Customer, doc: &Document) -> StoredResponse {
    let body = DocumentObject {
        object: "document",
        id: doc.id.clone(),
        customer_id: c.id.to_string(),
        kind: doc.kind.clone(),
        file_name: doc.original_name.clone(),
        content_type: doc.content_type.clone(),
        size_bytes: doc.size_bytes,
        sha256: doc.sha256.clone(),
        uploaded_at: rfc3339(doc.uploaded_at),
        currently_due: state.customer_object(c).requirements.currently_due,
    };
    StoredResponse {
        status: 200,
        body: serde_json::to_vec(&body).expect("serialising plain values cannot fail"),
    }
}
