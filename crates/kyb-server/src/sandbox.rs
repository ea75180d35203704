//! Test mode's sandbox: the documented magic values that send a test-mode customer's automated
//! checks down each branch, and the values a simulated submission fills in. Nothing here ever
//! applies to a live-mode customer.

use kyb_domain::requirements::{Requirements, BUSINESS_FIELDS};
use kyb_domain::Mode;
use kyb_store::{Customer, Document, Person, SandboxFill};

use crate::AppState;
use serde_json::{json, Value};

/// In any screened name of a test-mode customer (business, legal or trading name, a person's
/// full name), any case: the sanctions check fails with a hit on the sandbox list.
pub const SANCTIONS_HIT: &str = "sanctions hit";
/// As `SANCTIONS_HIT`, but the hit's date of birth and country disagree: the check warns.
pub const POSSIBLE_HIT: &str = "possible hit";
/// The list a sandbox hit names.
pub const SANDBOX_LIST: &str = "kyb-sandbox";

/// What the registry check of a test-mode customer answers for a registration number, when it
/// is one of the magic ones: its digits only zeros, not found; only nines, found under another
/// number. Letters do not count, so a number in a format with a prefix (`RC0000000`) works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryMagic {
    NotFound,
    NumberMismatch,
}

pub fn registry_magic(mode: Mode, registration_number: &str) -> Option<RegistryMagic> {
    if mode.is_live() {
        return None;
    }
    let digits: Vec<char> = registration_number
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    if digits.is_empty() {
        None
    } else if digits.iter().all(|c| *c == '0') {
        Some(RegistryMagic::NotFound)
    } else if digits.iter().all(|c| *c == '9') {
        Some(RegistryMagic::NumberMismatch)
    } else {
        None
    }
}

/// The sandbox hit for `name` (screened as `subject`) of a test-mode customer, in the shape of
/// a real hit in a check's evidence, when the name carries a magic value.
pub fn sanctions_hit(mode: Mode, subject: &str, name: &str) -> Option<Value> {
    if mode.is_live() {
        return None;
    }
    let lower = name.to_lowercase();
    let (entry_id, possible) = if lower.contains(SANCTIONS_HIT) {
        ("SANDBOX-1", false)
    } else if lower.contains(POSSIBLE_HIT) {
        ("SANDBOX-2", true)
    } else {
        return None;
    };
    let verdict = if possible { "contradicts" } else { "agrees" };
    Some(json!({
        "list": SANDBOX_LIST,
        "list_id": SANDBOX_LIST,
        "list_date": "2026-01-01",
        "entry_id": entry_id,
        "entry_name": "SANDBOX TEST ENTRY",
        "type": "entity",
        "programs": ["SANDBOX"],
        "matched": name,
        "matched_kind": "name",
        "matched_weak": false,
        "name_score": 1.0,
        "score": if possible { 0.8 } else { 1.0 },
        "likely_false_positive": possible,
        "explanation": { "words": [], "unmatched_query": [], "unmatched_listed": [] },
        "dob": { "given": null, "listed": [], "verdict": verdict },
        "country": { "given": null, "listed": [], "verdict": verdict },
        "fingerprint": format!("sandbox-{entry_id}"),
        "subject": subject,
        "name": name,
        "sandbox": true,
    }))
}

/// What a simulated submission fills in for `c`: every business detail still due (the
/// jurisdiction's example where it has one) and a control person when there is none. What the
/// platform or the customer gave is kept. (Documents: `missing_documents`.)
pub fn fill(state: &AppState, c: &Customer) -> SandboxFill {
    let requirements = state.catalog.for_country(&c.registered_country);
    let due = state.currently_due(c);
    let mut profile = c.facts.profile.clone();
    let mut changed = false;
    for field in BUSINESS_FIELDS {
        if due
            .iter()
            .any(|d| *d == format!("business_details.{field}"))
        {
            profile.set(field, &sandbox_value(requirements, c, field));
            changed = true;
        }
    }
    let people = if due.iter().any(|d| d == "people.control_person") {
        vec![Person {
            id: format!("per_{}", crate::uploads::random_id()),
            full_name: "Sandbox Director".into(),
            date_of_birth: "1980-01-01".into(),
            nationality: c.registered_country.clone(),
            role: "director".into(),
            is_control_person: true,
            ownership_bp: 0,
        }]
    } else {
        Vec::new()
    };
    SandboxFill {
        profile: changed.then_some(profile),
        people,
    }
}

/// The required document kinds `c` has not given.
pub fn missing_documents(state: &AppState, c: &Customer) -> Vec<String> {
    state
        .currently_due(c)
        .into_iter()
        .filter_map(|d| d.strip_prefix("documents.").map(str::to_owned))
        .collect()
}

fn sandbox_value(requirements: &Requirements, c: &Customer, field: &str) -> String {
    if let Some(example) = requirements.field(field).and_then(|r| r.example.as_deref()) {
        return requirements.tidy(field, example);
    }
    match field {
        "legal_name" => c.business_name.clone(),
        "trading_name" => c.business_name.clone(),
        "entity_type" => requirements
            .entity_types
            .first()
            .map(|(code, _)| code.clone())
            .unwrap_or_default(),
        "registration_number" => "SANDBOX12345".into(),
        "date_of_incorporation" => "2020-01-01".into(),
        "tax_id" => "SANDBOX-TAX-1".into(),
        "website" => "https://example.com".into(),
        "business_description" => "Sandbox business (simulated in test mode)".into(),
        "operating_address" => c.registered_address.clone(),
        _ => String::new(),
    }
}

/// A one-page PDF naming the customer and the kind: unique per customer, so that the document
/// check does not see the same bytes on two customers.
pub fn document_pdf(customer_id: &str, kind: &str) -> Vec<u8> {
    let text = format!("kyb sandbox document: {kind} of {customer_id}");
    let stream = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// A sandbox document of `kind` for `c`, its bytes `data` to be stored under its key.
pub fn document(
    c: &Customer,
    kind: &str,
    data: &[u8],
    at: chrono::DateTime<chrono::Utc>,
) -> Document {
    let name = format!("sandbox-{kind}.pdf");
    crate::uploads::new_document(c, kind, Some(&name), "application/pdf", data, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_digits_of_a_test_mode_number_are_magic() {
        use RegistryMagic::*;
        for (number, magic) in [
            ("000000000", Some(NotFound)),
            ("RC0000000", Some(NotFound)),
            ("00 00 00 00", Some(NotFound)),
            ("99999999", Some(NumberMismatch)),
            ("BN9999999", Some(NumberMismatch)),
            ("5551234", None),
            ("RC", None),
            ("", None),
        ] {
            assert_eq!(registry_magic(Mode::Test, number), magic, "{number}");
            assert_eq!(registry_magic(Mode::Live, number), None, "{number}");
        }
    }

    #[test]
    fn only_test_mode_names_hit_the_sandbox_list() {
        let hit = sanctions_hit(Mode::Test, "business_name", "ACME Sanctions HIT Ltd").unwrap();
        assert_eq!(hit["list"], SANDBOX_LIST);
        assert_eq!(hit["likely_false_positive"], false);
        let possible = sanctions_hit(Mode::Test, "person:per_1", "Possible Hit").unwrap();
        assert_eq!(possible["likely_false_positive"], true);
        assert!(sanctions_hit(Mode::Live, "business_name", "Sanctions Hit Ltd").is_none());
        assert!(sanctions_hit(Mode::Test, "business_name", "Acme Ltd").is_none());
    }
}
