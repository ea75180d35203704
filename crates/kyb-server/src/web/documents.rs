//! Sending a stored document to the one who may see it (the customer who uploaded it, or an
//! operator): its bytes, its type (checked by content at upload, never sniffed), a server-made
//! file name, and a CSP so that nothing in it can run in our origin. Documents are never served
//! from a public path.
//!
//! A download, and an image shown in place, carry `sandbox`. A PDF shown in place cannot:
//! Chromium refuses to run its PDF viewer in any sandboxed document, and no sandbox token lets
//! it (crbug.com/413851), so the preview of a PDF is an `application/pdf` response with
//! `nosniff` (never read as anything else), `default-src 'none'`, and framing by our own pages
//! only. A PDF's scripts run in the viewer's own process, with no access to our origin.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kyb_domain::requirements::ACCEPTED_DOCUMENT_TYPES;

use crate::AppState;

/// How a document is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// A file to save.
    Download,
    /// Shown in place in one of our pages (an `<img>`, or a frame for a PDF).
    Preview,
}

/// Whether a document of this type can be shown in place, and how.
pub fn preview_kind(content_type: &str) -> Option<&'static str> {
    match content_type {
        "image/png" | "image/jpeg" => Some("image"),
        "application/pdf" => Some("pdf"),
        _ => None,
    }
}

/// The document as a download or a preview. A file missing from the storage (a restore that missed the
/// documents, a file removed by hand) is a 404 that says so, logged for the operator; any other
/// storage failure is the caller's to show.
pub async fn send(
    state: &AppState,
    doc: &kyb_store::Document,
    delivery: Delivery,
) -> anyhow::Result<Response> {
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
    let preview = match delivery {
        Delivery::Preview => preview_kind(&doc.content_type),
        Delivery::Download => None,
    };
    let disposition = if preview.is_some() {
        "inline"
    } else {
        "attachment"
    };
    if let Ok(v) = HeaderValue::from_str(&format!("{disposition}; filename=\"{}.{ext}\"", doc.kind))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    let (csp, frames) = match preview {
        // The viewer's page around the PDF styles itself inline.
        Some("pdf") => (
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'",
            "SAMEORIGIN",
        ),
        _ => ("default-src 'none'; sandbox", "DENY"),
    };
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static(frames));
    Ok(r)
}
