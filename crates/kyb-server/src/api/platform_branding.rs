//! `/v2/platform/branding`: the platform's brand on its customers' hosted pages (display
//! name, accent colour, logo, help, privacy and terms addresses, return URL, default language),
//! read with any key and changed with a live key only: the pages are the live customers'
//! too, and a test key (often kept less carefully) must not be able to change where they send
//! people. Each change is idempotent and an audit row.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use kyb_domain::branding::{Branding, MAX_LOGO_BYTES};
use kyb_domain::Mode;
use kyb_store::{BrandingUpdate, StoreError, StoredResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::respond;
use super::schema::{IdempotencyKeyHeader, OptionalIdempotencyKeyHeader};
use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody, Result};
use crate::extract::{ApiJson, Idempotency, OptionalIdempotency, RequestContext};
use crate::AppState;

const PATH: &str = "/v2/platform/branding";
const LOGO_PATH: &str = "/v2/platform/branding/logo";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(retrieve).post(update)).route(
        LOGO_PATH,
        post(set_logo)
            .delete(remove_logo)
            .layer(DefaultBodyLimit::max(MAX_LOGO_BYTES + 1)),
    )
}

/// The platform's brand. Absent values are `null`: the pages fall back to kyb's look and the
/// platform's name.
#[derive(Debug, Serialize, ToSchema)]
pub struct BrandingObject {
    /// Always `platform_branding`.
    pub object: &'static str,
    /// The name customers see (else the platform's name).
    pub display_name: Option<String>,
    /// `#rrggbb`; white text on it has a contrast of 4.5:1 at least.
    pub accent_color: Option<String>,
    pub support_email: Option<String>,
    pub support_url: Option<String>,
    pub privacy_url: Option<String>,
    pub terms_url: Option<String>,
    /// Where the customer is sent after submitting.
    pub return_url: Option<String>,
    /// The pages' language when the customer chose none and their browser asks for none kyb
    /// speaks: `en`, `fr`, `es` or `pt`.
    pub language: Option<String>,
    /// Where kyb serves the logo (its address changes with it).
    pub logo_url: Option<String>,
}

impl BrandingObject {
    fn new(state: &AppState, platform_id: &str, b: &Branding) -> Self {
        Self {
            object: "platform_branding",
            display_name: b.display_name.clone(),
            accent_color: b.accent_color.clone(),
            support_email: b.support_email.clone(),
            support_url: b.support_url.clone(),
            privacy_url: b.privacy_url.clone(),
            terms_url: b.terms_url.clone(),
            return_url: b.return_url.clone(),
            language: b.language.clone(),
            logo_url: b
                .logo_sha256
                .as_ref()
                .map(|sha| format!("{}/kyb/brand/{platform_id}/logo?v={sha}", state.public_url)),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BrandingResponse {
    /// Always `success`.
    pub status: &'static str,
    pub data: BrandingObject,
}

/// The values to change; those not named stay as they are, and `""` clears one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBrandingRequest {
    #[schema(schema_with = super::schema::brand_display_name)]
    pub display_name: Option<String>,
    #[schema(schema_with = super::schema::brand_accent_color)]
    pub accent_color: Option<String>,
    #[schema(schema_with = super::schema::brand_email)]
    pub support_email: Option<String>,
    #[schema(schema_with = super::schema::brand_url)]
    pub support_url: Option<String>,
    #[schema(schema_with = super::schema::brand_url)]
    pub privacy_url: Option<String>,
    #[schema(schema_with = super::schema::brand_url)]
    pub terms_url: Option<String>,
    /// Where the customer is sent after submitting.
    #[schema(schema_with = super::schema::brand_url)]
    pub return_url: Option<String>,
    #[schema(schema_with = super::schema::brand_language)]
    pub language: Option<String>,
}

impl crate::extract::EmptyBody for UpdateBrandingRequest {}

fn live_only(auth: &Authenticated) -> Result<()> {
    if auth.mode() == Mode::Live {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "livemode_required",
        "the brand is shown to live customers too: change it with a live key (sk_live_…)",
    ))
}

/// A refused brand names its field (`display_name: must be …`).
fn refused(e: StoreError) -> ApiError {
    match e {
        StoreError::Refused { message, .. } => {
            let (field, rule) = message.split_once(": ").unwrap_or(("branding", &message));
            ApiError::invalid("parameter_invalid", field, format!("{field} {rule}"))
        }
        other => other.into(),
    }
}

/// The response of a change, as stored for idempotent replay.
fn response<'a>(
    state: &'a AppState,
    auth: &'a Authenticated,
) -> impl FnOnce(&Branding) -> StoredResponse + Send + 'a {
    move |b| StoredResponse {
        status: 200,
        body: serde_json::to_vec(&BrandingResponse {
            status: "success",
            data: BrandingObject::new(state, auth.scope.platform_id.as_str(), b),
        })
        .expect("response objects serialise"),
    }
}

/// One change of the brand for the platform itself: a live key, the idempotency record of
/// `method path` with `fingerprint`, the change in one transaction with its audit row.
async fn change(
    state: &AppState,
    auth: &Authenticated,
    ctx: &RequestContext,
    key: kyb_domain::IdempotencyKey,
    (method, path, fingerprint): (Method, &str, Option<&serde_json::Value>),
    update: BrandingUpdate<'_>,
) -> Result<Response> {
    live_only(auth)?;
    let idem = state.idempotency(key, &method, path, auth.mode(), fingerprint);
    let outcome = state
        .store
        .change_platform_branding_idempotent(
            &auth.scope,
            update,
            &idem,
            &auth.audit_context(ctx, state.clock.now()),
            response(state, auth),
        )
        .await
        .map_err(refused)?;
    respond(outcome)
}

/// Retrieve the platform's brand.
#[utoipa::path(
    get,
    path = "/v2/platform/branding",
    operation_id = "retrieve_platform_branding",
    tag = "platform",
    responses(
        (status = 200, description = "The brand", body = BrandingResponse),
        (status = 400, description = "A path that is not readable text (invisible or control characters, percent-escapes that are not UTF-8)", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn retrieve(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<BrandingResponse>> {
    let b = state
        .store
        .platform_branding(&auth.scope.platform_id)
        .await?;
    Ok(Json(BrandingResponse {
        status: "success",
        data: BrandingObject::new(&state, auth.scope.platform_id.as_str(), &b),
    }))
}

/// Update the platform's brand.
///
/// Only the values named change; `""` clears one. Checked as a whole: a colour too light for
/// white text, an address that is not `https://`, a language kyb does not speak are refused,
/// naming the field, and nothing changes. Needs a live key.
#[utoipa::path(
    post,
    path = "/v2/platform/branding",
    operation_id = "update_platform_branding",
    tag = "platform",
    request_body = UpdateBrandingRequest,
    params(IdempotencyKeyHeader),
    responses(
        (status = 200, description = "The brand as updated (or the first response replayed)", body = BrandingResponse,
         headers(("idempotent-replayed" = String, description = "`true` when this is a replay"))),
        (status = 400, description = "A refused field (named in `param`), an unknown field, malformed JSON, or a missing or malformed idempotency-key", body = ErrorBody),
        (status = 403, description = "`livemode_required`: a test key cannot change what live customers see", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    auth: Authenticated,
    Idempotency(key): Idempotency,
    ctx: RequestContext,
    body: ApiJson<UpdateBrandingRequest>,
) -> Result<Response> {
    let r = body.value;
    let update = Branding {
        display_name: r.display_name,
        accent_color: r.accent_color,
        support_email: r.support_email,
        support_url: r.support_url,
        privacy_url: r.privacy_url,
        terms_url: r.terms_url,
        return_url: r.return_url,
        language: r.language,
        logo_sha256: None,
    };
    let request = (Method::POST, PATH, body.raw.as_ref());
    change(
        &state,
        &auth,
        &ctx,
        key,
        request,
        BrandingUpdate::Values(update),
    )
    .await
}

/// Set the platform's logo.
///
/// The body is the image itself: a PNG or JPEG (judged by its content, whatever the
/// `content-type` says; SVG is refused), at most 256 KiB. kyb serves it to the hosted pages.
/// Needs a live key.
#[utoipa::path(
    post,
    path = "/v2/platform/branding/logo",
    operation_id = "set_platform_logo",
    tag = "platform",
    request_body(content = Vec<u8>, content_type = "image/png", description = "A PNG or JPEG image, at most 256 KiB"),
    params(IdempotencyKeyHeader),
    responses(
        (status = 200, description = "The brand with its new logo (or the first response replayed)", body = BrandingResponse,
         headers(("idempotent-replayed" = String, description = "`true` when this is a replay"))),
        (status = 400, description = "`parameter_invalid` (`logo`): not a PNG or JPEG by its content, empty, or over 256 KiB; or a missing or malformed idempotency-key", body = ErrorBody),
        (status = 403, description = "`livemode_required`: a test key cannot change what live customers see", body = ErrorBody),
        (status = 413, description = "`body_too_large`: over 256 KiB", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn set_logo(
    State(state): State<AppState>,
    auth: Authenticated,
    Idempotency(key): Idempotency,
    ctx: RequestContext,
    body: Bytes,
) -> Result<Response> {
    // The same image is the same request, whatever its content-type header said.
    let fingerprint =
        json!({ "logo_sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body)) });
    let request = (Method::POST, LOGO_PATH, Some(&fingerprint));
    change(
        &state,
        &auth,
        &ctx,
        key,
        request,
        BrandingUpdate::Logo(Some(&body)),
    )
    .await
}

/// Remove the platform's logo.
///
/// The pages show the platform's name alone. An `idempotency-key` is optional here. Needs a
/// live key.
#[utoipa::path(
    delete,
    path = "/v2/platform/branding/logo",
    operation_id = "remove_platform_logo",
    tag = "platform",
    params(OptionalIdempotencyKeyHeader),
    responses(
        (status = 200, description = "The brand without a logo (or the first response replayed)", body = BrandingResponse,
         headers(("idempotent-replayed" = String, description = "`true` when this is a replay"))),
        (status = 400, description = "A malformed idempotency-key", body = ErrorBody),
        (status = 403, description = "`livemode_required`: a test key cannot change what live customers see", body = ErrorBody),
    ),
    security(("ngnc_sec_key" = []), ("bearer" = []))
)]
pub async fn remove_logo(
    State(state): State<AppState>,
    auth: Authenticated,
    OptionalIdempotency(key): OptionalIdempotency,
    ctx: RequestContext,
) -> Result<Response> {
    let request = (Method::DELETE, LOGO_PATH, None);
    change(
        &state,
        &auth,
        &ctx,
        key,
        request,
        BrandingUpdate::Logo(None),
    )
    .await
}
