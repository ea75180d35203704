//! Sending a stored document to the one who may see it (the customer who uploaded it, or an
//! operator): its bytes, its type, a server-made file name, and a sandboxing CSP so that nothing
//! in it can run in our origin. Documents are never served from a public path.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kyb_domain::requirements::ACCEPTED_DOCUMENT_TYPES;

use crate::AppState;

/// The document as a download. A file missing from the storage (a restore that missed the
/// documents, a file removed by hand) is a 404 that says so, logged for the operator; any other
/// storage failure is the caller's to show.
pub async fn send(state: &AppState, doc: &kyb_store::Document) -> anyhow::Result<Response> {
    let stored = state
        .documents
        .get(&object_store::path::Path::from(doc.storage_key.clone()))
        .await;
    let bytes = match stored {
        Ok(r) => r.bytes().await?,
        Err(object_store::Error::NotFound { .. }) => {
            tracing::error!(
                document = %doc.id,
                storage_key = %doc.storage_key,
                "a document's file is missing from the document storage"
            );
            return Ok((
                StatusCode::NOT_FOUND,
                "the file of this document is missing from the document storage",
            )
                .into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let ext = ACCEPTED_DOCUMENT_TYPES
        .iter()
        .find(|(m, _)| *m == doc.content_type)
        .map_or("bin", |(_, e)| e);
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&doc.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.{ext}\"", doc.kind)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(r)
}
