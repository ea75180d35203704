//! A customer's document as it arrives, from the hosted upload or the platform's API: the type
//! decided by the content (PDF, PNG, JPEG), never by the name or a header; the size limit; a
//! name safe to show; and the stored record (SHA-256, a server-made storage key). The hosted
//! pages and the API each say what is wrong in their own words.

use chrono::{DateTime, Utc};
use kyb_domain::requirements::ACCEPTED_DOCUMENT_TYPES;
use kyb_store::{Customer, Document};
use sha2::{Digest, Sha256};

/// Why a file is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadProblem {
    Empty,
    /// Over the upload limit.
    TooLarge,
    /// Not a type anyone recognises.
    TypeUnknown,
    /// A type kyb does not take, by its usual extension (`ZIP`, `DOCX`, `GIF`).
    TypeRefused(String),
}

/// The media type of an accepted file, judged by its content.
pub fn content_type(data: &[u8], limit: usize) -> Result<&'static str, UploadProblem> {
    if data.is_empty() {
        return Err(UploadProblem::Empty);
    }
    if data.len() > limit {
        return Err(UploadProblem::TooLarge);
    }
    let sniffed = infer::get(data);
    let detected = sniffed.map(|t| t.mime_type());
    ACCEPTED_DOCUMENT_TYPES
        .iter()
        .find(|(mime, _)| Some(*mime) == detected)
        .map(|(mime, _)| *mime)
        .ok_or_else(|| {
            sniffed.map_or(UploadProblem::TypeUnknown, |t| {
                UploadProblem::TypeRefused(t.extension().to_uppercase())
            })
        })
}

/// The record of an accepted document of `c`, to be stored under its `storage_key`.
pub fn new_document(
    c: &Customer,
    kind: &str,
    file_name: Option<&str>,
    content_type: &str,
    data: &[u8],
    at: DateTime<Utc>,
) -> Document {
    let id = format!("doc_{}", random_id());
    Document {
        storage_key: format!("{}/{}/{}", c.platform_id, c.id, id),
        id,
        kind: kind.to_owned(),
        original_name: display_name(file_name),
        content_type: content_type.to_owned(),
        size_bytes: data.len() as i64,
        sha256: sha256_hex(data),
        uploaded_at: at,
    }
}

/// Whether a write that was to record a document's row surely did not: the bytes stored for it
/// may be deleted then. A refusal says so; an error from the database or a deadline may have
/// come after the commit, and then the bytes stay (an orphan file, never a row without bytes).
pub fn surely_not_recorded<T>(
    outcome: &Result<kyb_store::Idempotent<T>, kyb_store::StoreError>,
) -> bool {
    match outcome {
        Ok(kyb_store::Idempotent::Fresh(_)) => false,
        Ok(_) => true,
        Err(e) => refused_before_commit(e),
    }
}

/// Whether a write's error is a refusal, taken before anything could be committed.
pub fn refused_before_commit(e: &kyb_store::StoreError) -> bool {
    use kyb_store::StoreError as E;
    matches!(
        e,
        E::NotFound
            | E::CustomerExists(_)
            | E::InvalidTransition(_)
            | E::Incomplete(_)
            | E::Conflict(_)
            | E::Refused { .. }
            | E::Changed(_)
            | E::OwnershipExceeded { .. }
            | E::NotCommitted(_)
            | E::TooSoon(_)
    )
}

/// The SHA-256 of bytes, hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Random letters and digits for the tail of a new id (documents, people).
pub fn random_id() -> String {
    crate::web::cookies::random_token()[..24].replace(['-', '_'], "x")
}

/// A file name safe to show: the last path component, printable, at most 120 characters.
pub fn display_name(raw: Option<&str>) -> String {
    let base = raw.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    // Control, format and text-direction characters are dropped: a right-to-left override
    // would make `invoice\u{202E}fdp.exe` read as `invoiceexe.pdf` in the console.
    let clean: String = base
        .chars()
        .filter(|c| kyb_domain::invisible_char(c.encode_utf8(&mut [0; 4]), false).is_none())
        .take(120)
        .collect();
    if clean.trim().is_empty() {
        "document".to_owned()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_only_what_a_reader_sees() {
        assert_eq!(display_name(Some("C:\\docs\\cert.pdf")), "cert.pdf");
        assert_eq!(
            display_name(Some("invoice\u{202E}fdp.exe")),
            "invoicefdp.exe"
        );
        assert_eq!(display_name(Some("a\u{0}b\u{200B}c.pdf")), "abc.pdf");
        assert_eq!(display_name(Some("\u{202E}")), "document");
        assert_eq!(display_name(None), "document");
    }

    #[test]
    fn the_type_is_the_contents() {
        assert_eq!(content_type(b"", 10), Err(UploadProblem::Empty));
        assert_eq!(content_type(b"%PDF-1.4 x", 4), Err(UploadProblem::TooLarge));
        assert_eq!(content_type(b"%PDF-1.4 x", 100), Ok("application/pdf"));
        assert_eq!(content_type(b"hello", 100), Err(UploadProblem::TypeUnknown));
        assert_eq!(
            content_type(b"PK\x03\x04rest", 100),
            Err(UploadProblem::TypeRefused("ZIP".into()))
        );
    }
}
