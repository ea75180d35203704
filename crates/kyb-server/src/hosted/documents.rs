//! Step 3: documents. Multipart upload; the type is decided by the content (PDF, PNG, JPEG),
//! never by the name or the browser's header; a size limit; SHA-256 recorded; stored under a
//! server-generated name through `object_store`. Customers see and delete their own uploads;
//! documents are never served from a public path.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kyb_domain::requirements::{document_type_name, DOCUMENT_KINDS};
use kyb_store::{CustomerCaps, Document, StoreError, StoreErrorCode};

use super::forms::FieldError;
use super::pages::problem;
use super::session::{csrf_failed, CustomerSession};
use super::texts::document_label;
use super::ui::Ui;
use crate::extract::RequestContext;
use crate::i18n::Tr;
use crate::uploads::UploadProblem;
use crate::web::cookies::same_token;
use crate::web::page;
use crate::AppState;

pub struct DocumentRow {
    pub id: String,
    pub label: String,
    pub name: String,
    /// The file type as people say it: PDF, PNG, JPEG.
    pub file_type: &'static str,
    pub size: String,
}

fn human_size(tr: Tr, bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        let mb = format!("{:.1}", bytes as f64 / (1024.0 * 1024.0));
        tr.t1("size-mb", "n", tr.decimal(&mb))
    } else {
        tr.t1("size-kb", "n", (bytes + 1023) / 1024)
    }
}

pub fn document_rows(tr: Tr, docs: &[Document]) -> Vec<DocumentRow> {
    docs.iter()
        .map(|d| DocumentRow {
            id: d.id.clone(),
            label: document_label(tr, &d.kind),
            name: d.original_name.clone(),
            file_type: document_type_name(&d.content_type),
            size: human_size(tr, d.size_bytes),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "hosted/documents.html")]
struct DocumentsPage {
    ui: Ui,
    session_note: String,
    asked: Option<super::asked::Asked>,
    csrf: String,
    errors: Vec<FieldError>,
    needed: Vec<(String, bool)>,
    documents: Vec<DocumentRow>,
    kinds: Vec<(&'static str, String)>,
    /// The kind chosen in a refused upload, chosen again.
    chosen: String,
    kind_error: Option<String>,
    file_error: Option<String>,
    max_mb: u64,
}

async fn page_with(
    state: &AppState,
    session: &CustomerSession,
    errors: Vec<FieldError>,
    chosen: &str,
) -> Response {
    let s = &session.0;
    let tr = session.1.tr;
    let docs = match state.store.list_documents(s).await {
        Ok(d) => d,
        Err(e) => return session.failed(e),
    };
    let requirements = state.catalog.for_country(&s.customer.registered_country);
    let needed = requirements
        .required_documents()
        .map(|k| (document_label(tr, k), docs.iter().any(|d| d.kind == k)))
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(
        status,
        &DocumentsPage {
            ui: session.1.clone(),
            session_note: session.ending_note(state),
            asked: super::asked::asked(state, session, "documents"),
            csrf: s.csrf_token.clone(),
            kind_error: errors
                .iter()
                .find(|e| e.field == "kind")
                .map(|e| e.message.clone()),
            file_error: errors
                .iter()
                .find(|e| e.field == "file")
                .map(|e| e.message.clone()),
            errors,
            needed,
            documents: document_rows(tr, &docs),
            kinds: DOCUMENT_KINDS
                .iter()
                .map(|(k, _)| (*k, document_label(tr, k)))
                .collect(),
            chosen: chosen.to_owned(),
            max_mb: (state.config.max_upload_bytes as u64).div_ceil(1024 * 1024),
        },
    )
}

pub async fn page_handler(State(state): State<AppState>, session: CustomerSession) -> Response {
    page_with(&state, &session, Vec::new(), "").await
}

/// The field error of a document cap.
fn cap_error(tr: Tr, caps: &CustomerCaps, code: StoreErrorCode) -> FieldError {
    let message = match code {
        StoreErrorCode::DocumentsTooLarge => tr.t1(
            "doc-cap-bytes",
            "mb",
            caps.max_document_bytes.div_ceil(1024 * 1024),
        ),
        _ => tr.t1("doc-cap-count", "max", caps.max_documents),
    };
    FieldError::new("file", message)
}

pub async fn upload(
    State(state): State<AppState>,
    session: CustomerSession,
    rc: RequestContext,
    mut multipart: Multipart,
) -> Response {
    let tr = session.1.tr;
    let limit = state.config.max_upload_bytes;
    let max_mb = (limit as u64).div_ceil(1024 * 1024);
    let too_large = || FieldError::new("file", tr.t1("doc-too-large", "mb", max_mb));
    let (mut csrf, mut kind, mut file) = (
        String::new(),
        String::new(),
        None::<(Option<String>, bytes::Bytes)>,
    );
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return page_with(&state, &session, vec![too_large()], "").await
            }
            Err(e) => {
                tracing::info!(error = %e, "hosted upload could not be read");
                return problem(StatusCode::BAD_REQUEST, &session.1, "upload-unreadable");
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let data = match field.bytes().await {
            Ok(d) => d,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return page_with(&state, &session, vec![too_large()], "").await
            }
            Err(e) => return session.failed(e),
        };
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&data).into_owned(),
            "kind" => kind = String::from_utf8_lossy(&data).trim().to_owned(),
            "file" => file = Some((file_name, data)),
            _ => {}
        }
    }
    if !same_token(&csrf, &session.0.csrf_token) {
        return csrf_failed(&session.1);
    }
    let mut errors = Vec::new();
    if !DOCUMENT_KINDS.iter().any(|(k, _)| *k == kind) {
        errors.push(FieldError::new("kind", tr.t("doc-kind-missing")));
    }
    let (file_name, data) = file.unwrap_or((None, bytes::Bytes::new()));
    let content_type = match crate::uploads::content_type(&data, limit) {
        Ok(t) => t,
        Err(problem) => {
            errors.push(match problem {
                UploadProblem::Empty => FieldError::new("file", tr.t("doc-file-missing")),
                UploadProblem::TooLarge => too_large(),
                // Named by its usual extension (ZIP, DOCX, GIF), never by its media type.
                UploadProblem::TypeUnknown => FieldError::new("file", tr.t("doc-type-unknown")),
                UploadProblem::TypeRefused(ext) => {
                    FieldError::new("file", tr.t1("doc-type-refused", "ext", ext))
                }
            });
            ""
        }
    };
    let caps = state.config.customer_caps();
    if errors.is_empty() {
        // Checked before the bytes are stored, and again in the transaction that records them.
        let docs = match state.store.list_documents(&session.0).await {
            Ok(d) => d,
            Err(e) => return session.failed(e),
        };
        let total = docs.iter().map(|d| d.size_bytes.max(0) as u64).sum();
        if let Some(code) = caps.document_refusal(docs.len() as u64, total, data.len() as u64) {
            errors.push(cap_error(tr, &caps, code));
        }
    }
    if !errors.is_empty() {
        return page_with(&state, &session, errors, &kind).await;
    }
    let c = &session.0.customer;
    let doc = crate::uploads::new_document(
        c,
        &kind,
        file_name.as_deref(),
        content_type,
        &data,
        state.clock.now(),
    );
    let storage_key = doc.storage_key.clone();
    let path = object_store::path::Path::from(storage_key);
    if let Err(e) = state.documents.put(&path, data.into()).await {
        return session.failed(e);
    }
    let ctx = session.audit(&rc, &state);
    if let Err(e) = state
        .store
        .add_document(&session.0, &doc, &caps, &ctx)
        .await
    {
        // The row is the record of the upload: without it the bytes must not stay behind (a
        // database error may have come after the commit: then they stay).
        if crate::uploads::refused_before_commit(&e) {
            let _ = state.documents.delete(&path).await;
        }
        return match e {
            StoreError::Refused { code, .. } => {
                let code = [
                    StoreErrorCode::TooManyDocuments,
                    StoreErrorCode::DocumentsTooLarge,
                ]
                .into_iter()
                .find(|c| c.as_str() == code)
                .unwrap_or(StoreErrorCode::TooManyDocuments);
                page_with(
                    &state,
                    &session,
                    vec![cap_error(tr, &caps, code)],
                    &doc.kind,
                )
                .await
            }
            other => session.failed(other),
        };
    }
    Redirect::to("/kyb/flow/documents").into_response()
}

fn no_such_document(ui: &Ui) -> Response {
    problem(StatusCode::NOT_FOUND, ui, "document-not-found")
}

/// Sends one of the customer's own uploads as a download, never rendered in the page's origin.
pub async fn download(
    State(state): State<AppState>,
    session: CustomerSession,
    Path(document_id): Path<String>,
) -> Response {
    let docs = match state.store.list_documents(&session.0).await {
        Ok(d) => d,
        Err(e) => return session.failed(e),
    };
    let Some(doc) = docs.into_iter().find(|d| d.id == document_id) else {
        return no_such_document(&session.1);
    };
    crate::web::documents::send(&state, &doc, crate::web::documents::Delivery::Download)
        .await
        .unwrap_or_else(|e| session.failed(e))
}

pub async fn remove(
    State(state): State<AppState>,
    session: CustomerSession,
    rc: RequestContext,
    Path(document_id): Path<String>,
    form: super::forms::FormData,
) -> Response {
    if let Some(r) = session.csrf_rejection(&form.0) {
        return r;
    }
    if form.get("confirm") != "yes" {
        let docs = match state.store.list_documents(&session.0).await {
            Ok(d) => d,
            Err(e) => return session.failed(e),
        };
        let Some(doc) = docs.iter().find(|d| d.id == document_id) else {
            return no_such_document(&session.1);
        };
        let ui = &session.1;
        let mut args = fluent_bundle::FluentArgs::new();
        args.set("name", doc.original_name.as_str());
        args.set("kind", document_label(ui.tr, &doc.kind));
        return super::pages::Confirmation {
            ui,
            title: &ui.t("delete-document-title"),
            what: &ui.args("delete-document-what", args),
            action: &format!("/kyb/flow/documents/{document_id}/delete"),
            csrf: &session.0.csrf_token,
            button: &ui.t("delete-document-button"),
            back: "/kyb/flow/documents",
        }
        .page();
    }
    let ctx = session.audit(&rc, &state);
    match state
        .store
        .delete_document(&session.0, &document_id, &ctx)
        .await
    {
        Ok(doc) => {
            if let Err(e) = state
                .documents
                .delete(&object_store::path::Path::from(doc.storage_key))
                .await
            {
                tracing::warn!(error = %e, document = %document_id, "deleted document's bytes could not be removed");
            }
            Redirect::to("/kyb/flow/documents").into_response()
        }
        Err(StoreError::NotFound) => no_such_document(&session.1),
        Err(e) => session.failed(e),
    }
}
