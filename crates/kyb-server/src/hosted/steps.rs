//! Step 1 (business details) and step 4 (review, attest, submit).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use kyb_domain::kyb::BusinessProfile;
use kyb_domain::requirements::{Requirements, BUSINESS_FIELDS};
use serde_json::json;

use super::asked::{asked, field_is_open, Asked};
use super::documents::document_rows;
use super::forms::{date_rule, text_rule, FieldError, FormData};
use super::people::person_rows;
use super::session::CustomerSession;
use super::texts::{
    document_label, entity_label, entity_options, field_hint, field_label, field_problem,
};
use super::ui::Ui;
use crate::extract::RequestContext;
use crate::i18n::Tr;
use crate::web::page;
use crate::AppState;

/// How each business field is shown: input kind, longest value.
fn field_spec(name: &str) -> (&'static str, usize) {
    let kind = match name {
        "entity_type" => "select",
        "date_of_incorporation" => "date",
        "website" => "url",
        "business_description" | "operating_address" => "textarea",
        _ => "text",
    };
    (kind, kyb_domain::kyb::rules::max_chars(name))
}

pub struct FieldView {
    pub name: &'static str,
    pub label: String,
    pub kind: &'static str,
    pub required: bool,
    pub hint: Option<String>,
    pub value: String,
    pub error: Option<String>,
    pub options: Vec<(String, String)>,
    /// Asked for again by a reviewer, and not changed or confirmed yet.
    pub asked: bool,
}

#[derive(Template)]
#[template(path = "hosted/business.html")]
struct BusinessPage {
    ui: Ui,
    session_note: String,
    csrf: String,
    errors: Vec<FieldError>,
    fields: Vec<FieldView>,
    asked: Option<Asked>,
}

fn business_page_with(
    state: &AppState,
    session: &CustomerSession,
    profile: &BusinessProfile,
    errors: Vec<FieldError>,
) -> Response {
    let s = &session.0;
    let requirements = state.catalog.for_country(&s.customer.registered_country);
    let tr = session.1.tr;
    let fields = BUSINESS_FIELDS
        .iter()
        .map(|&name| {
            let (kind, _) = field_spec(name);
            FieldView {
                name,
                label: field_label(tr, requirements, name),
                kind,
                required: requirements.is_required(name),
                hint: field_hint(tr, requirements, name),
                value: profile.get(name).to_owned(),
                error: errors
                    .iter()
                    .find(|e| e.field == name)
                    .map(|e| e.message.clone()),
                options: if name == "entity_type" {
                    entity_options(tr, requirements)
                } else {
                    Vec::new()
                },
                asked: field_is_open(&s.customer, name),
            }
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(
        status,
        &BusinessPage {
            ui: session.1.clone(),
            session_note: session.ending_note(state),
            csrf: s.csrf_token.clone(),
            errors,
            fields,
            asked: asked(state, session, "business"),
        },
    )
}

pub async fn business_page(State(state): State<AppState>, session: CustomerSession) -> Response {
    let profile = session.0.customer.facts.profile.clone();
    business_page_with(&state, &session, &profile, Vec::new())
}

/// Checks every business field: the jurisdiction's required fields and number formats, and
/// lengths, dates and the website's form.
fn check_business(
    tr: Tr,
    requirements: &Requirements,
    p: &BusinessProfile,
    today: NaiveDate,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for name in BUSINESS_FIELDS {
        let (_, max) = field_spec(name);
        let label = field_label(tr, requirements, name);
        let value = p.get(name);
        if let Some(e) = text_rule(tr, name, &label, value, max) {
            errors.push(e);
            continue;
        }
        if let Err(problem) = requirements.check(name, value) {
            errors.push(FieldError::new(
                name,
                field_problem(tr, requirements, name, problem),
            ));
            continue;
        }
        if value.is_empty() {
            continue;
        }
        let e = match name {
            "entity_type" if requirements.entity_type_label(value).is_none() => {
                Some(FieldError::new(name, tr.t("error-entity-type")))
            }
            "date_of_incorporation" => {
                let (min, max) = kyb_domain::kyb::rules::incorporation_dates(today);
                date_rule(tr, name, &label, value, min, max)
            }
            "website" => (!kyb_domain::kyb::rules::website_ok(value))
                .then(|| FieldError::new(name, tr.t("error-website"))),
            _ => None,
        };
        errors.extend(e);
    }
    errors
}

pub async fn save_business(
    State(state): State<AppState>,
    session: CustomerSession,
    rc: RequestContext,
    form: FormData,
) -> Response {
    if let Some(r) = session.csrf_rejection(&form.0) {
        return r;
    }
    let requirements = state
        .catalog
        .for_country(&session.0.customer.registered_country);
    // What could be tidied is, before it is checked: spaces, case, a missing dash (the
    // jurisdiction's rules), and a website typed without https://.
    let tidy = |name: &str| requirements.tidy(name, form.get(name));
    let website = kyb_domain::kyb::rules::tidy_website(tidy("website"));
    let profile = BusinessProfile {
        legal_name: tidy("legal_name"),
        trading_name: tidy("trading_name"),
        entity_type: tidy("entity_type"),
        registration_number: tidy("registration_number"),
        date_of_incorporation: tidy("date_of_incorporation"),
        tax_id: tidy("tax_id"),
        website,
        business_description: tidy("business_description"),
        operating_address: tidy("operating_address"),
    };
    let errors = check_business(
        session.1.tr,
        requirements,
        &profile,
        state.clock.now().date_naive(),
    );
    if !errors.is_empty() {
        return business_page_with(&state, &session, &profile, errors);
    }
    let ctx = session.audit(&rc, &state);
    match state.store.save_profile(&session.0, &profile, &ctx).await {
        // On to what is still due: the people on a first pass, the review when everything is
        // given (a change made from the review goes back to it).
        Ok(()) => Redirect::to("/kyb/flow").into_response(),
        Err(e) => session.failed(e),
    }
}

#[derive(Template)]
#[template(path = "hosted/review.html")]
struct ReviewPage {
    ui: Ui,
    session_note: String,
    csrf: String,
    errors: Vec<FieldError>,
    business: Vec<(String, String)>,
    people: Vec<super::people::PersonRow>,
    documents: Vec<super::documents::DocumentRow>,
    missing: Vec<(String, String)>,
    attest: bool,
    attested_by: String,
    attest_error: Option<String>,
    name_error: Option<String>,
    asked: Option<Asked>,
}

/// What is still due, as sentences linking to the step that fixes each.
fn missing_items(tr: Tr, requirements: &Requirements, due: &[String]) -> Vec<(String, String)> {
    due.iter()
        .map(|code| {
            if let Some(field) = code.strip_prefix("business_details.") {
                (
                    tr.t1(
                        "due-business",
                        "label",
                        field_label(tr, requirements, field),
                    ),
                    format!("/kyb/flow/business#{field}"),
                )
            } else if let Some(kind) = code.strip_prefix("documents.") {
                (
                    tr.t1("due-document", "label", document_label(tr, kind)),
                    "/kyb/flow/documents#kind".to_owned(),
                )
            } else if code == "people.control_person" {
                (
                    tr.t("due-control-person"),
                    "/kyb/flow/people#full_name".to_owned(),
                )
            } else {
                (tr.t("due-ownership"), "/kyb/flow/people".to_owned())
            }
        })
        .collect()
}

async fn review_with(
    state: &AppState,
    session: &CustomerSession,
    attest: bool,
    attested_by: String,
    errors: Vec<FieldError>,
) -> Response {
    let s = &session.0;
    let c = &s.customer;
    let tr = session.1.tr;
    let requirements = state.catalog.for_country(&c.registered_country);
    let (people, documents) = match (
        state.store.list_people(s).await,
        state.store.list_documents(s).await,
    ) {
        (Ok(p), Ok(d)) => (p, d),
        (Err(e), _) | (_, Err(e)) => return session.failed(e),
    };
    let due = state.currently_due(c);
    let business = BUSINESS_FIELDS
        .iter()
        .map(|&f| {
            let value = c.facts.profile.get(f);
            let shown = match f {
                "entity_type" if requirements.entity_type_label(value).is_some() => {
                    entity_label(tr, requirements, value)
                }
                "date_of_incorporation" => tr.date_text(value),
                _ => value.to_owned(),
            };
            (field_label(tr, requirements, f), shown)
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(
        status,
        &ReviewPage {
            ui: session.1.clone(),
            session_note: session.ending_note(state),
            csrf: s.csrf_token.clone(),
            attest_error: errors
                .iter()
                .find(|e| e.field == "attest")
                .map(|e| e.message.clone()),
            name_error: errors
                .iter()
                .find(|e| e.field == "attested_by")
                .map(|e| e.message.clone()),
            errors,
            business,
            people: person_rows(tr, &people),
            documents: document_rows(tr, &documents),
            missing: missing_items(tr, requirements, &due),
            asked: asked(state, session, "review"),
            attest,
            attested_by,
        },
    )
}

/// `GET /kyb/flow`: where the customer goes on: the first step with something still due, or
/// the review when nothing is.
pub async fn resume(State(state): State<AppState>, session: CustomerSession) -> Response {
    let c = &session.0.customer;
    let due = state.currently_due(c);
    let has = |prefix: &str| due.iter().any(|d| d.starts_with(prefix));
    let step = if has("business_details.") {
        "business"
    } else if has("people") {
        "people"
    } else if has("documents.") {
        "documents"
    } else {
        "review"
    };
    Redirect::to(&format!("/kyb/flow/{step}")).into_response()
}

pub async fn review_page(State(state): State<AppState>, session: CustomerSession) -> Response {
    review_with(&state, &session, false, String::new(), Vec::new()).await
}

pub async fn submit(
    State(state): State<AppState>,
    session: CustomerSession,
    rc: RequestContext,
    form: FormData,
) -> Response {
    if let Some(r) = session.csrf_rejection(&form.0) {
        return r;
    }
    let c = &session.0.customer;
    let tr = session.1.tr;
    let attest = form.get("attest") == "yes";
    let attested_by = form.get("attested_by").to_owned();
    let mut errors = Vec::new();
    let due = state.currently_due(c);
    if !due.is_empty() {
        errors.push(FieldError::new("missing", tr.t("submit-missing")));
    }
    if let Some(info) = &c.review.info_request {
        if !info.open_items(&c.facts).is_empty() {
            errors.push(FieldError::new("asked", tr.t("submit-asked-open")));
        }
    }
    if !attest {
        errors.push(FieldError::new("attest", tr.t("submit-attest")));
    }
    if attested_by.is_empty() {
        errors.push(FieldError::new("attested_by", tr.t("submit-name")));
    } else if let Some(e) = text_rule(
        tr,
        "attested_by",
        &tr.t("review-your-name"),
        &attested_by,
        200,
    ) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return review_with(&state, &session, attest, attested_by, errors).await;
    }
    let ctx = session.audit(&rc, &state);
    let submitted = state
        .store
        .submit(
            &session.0,
            &attested_by,
            &ctx,
            |c| state.currently_due(c),
            |after, before| {
                let previous = json!({ "verification_status": before });
                vec![
                    state.event("business_customer.submitted", after, None),
                    state.event(
                        "business_customer.verification_status.updated",
                        after,
                        Some(previous),
                    ),
                ]
            },
        )
        .await;
    match submitted {
        // The session has ended; its cookie stays, so that Back says this was submitted.
        Ok(_) => super::session::submitted_page(StatusCode::OK, session.1.clone()),
        Err(kyb_store::StoreError::Incomplete(_)) => {
            // Something was removed in another tab since this page was loaded.
            let error = FieldError::new("missing", tr.t("submit-missing"));
            review_with(&state, &session, attest, attested_by, vec![error]).await
        }
        Err(e) => session.failed(e),
    }
}
