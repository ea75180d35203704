//! Check evidence in words, for the case page: what the registry returned beside what the
//! customer gave, what the documents check found (missing, not accepted, the same file in other
//! cases, each once), and a line for the sanctions screening. The raw evidence stays behind a
//! "details" disclosure.

use kyb_domain::requirements::document_label;
use serde_json::Value;

/// One sentence about a check's evidence, and the cases it names (customer ids, linked).
pub struct Line {
    pub text: String,
    pub cases: Vec<String>,
}

impl Line {
    fn text(text: String) -> Self {
        Self {
            text,
            cases: Vec::new(),
        }
    }
}

/// What a check's evidence says, in sentences.
pub fn summary(kind: &str, evidence: &Value) -> Vec<Line> {
    match kind {
        "documents" => documents(evidence),
        "registry" => vec![Line::text(registry_view(evidence).summary)],
        "sanctions" => sanctions(evidence),
        _ => Vec::new(),
    }
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn documents(evidence: &Value) -> Vec<Line> {
    let mut lines = Vec::new();
    let given = evidence["documents"].as_array().map_or(0, Vec::len);
    let missing: Vec<&str> = strings(&evidence["missing"])
        .into_iter()
        .map(|k| document_label(k.strip_prefix("documents.").unwrap_or(k)))
        .collect();
    if !missing.is_empty() {
        lines.push(Line::text(format!("Missing: {}.", missing.join(", "))));
    }
    let odd = strings(&evidence["not_allowed"]);
    if !odd.is_empty() {
        lines.push(Line::text(format!(
            "Of a type kyb does not accept: {}.",
            odd.join(", ")
        )));
    }
    // Grouped by document, in the order the evidence gives them.
    let mut by_document: Vec<(&str, &str, Vec<String>, bool)> = Vec::new();
    for d in evidence["duplicates"].as_array().into_iter().flatten() {
        let id = d["document_id"].as_str().unwrap_or_default();
        let at = match by_document.iter().position(|(doc, ..)| *doc == id) {
            Some(at) => at,
            None => {
                let kind = d["kind"].as_str().unwrap_or_default();
                by_document.push((id, kind, Vec::new(), false));
                by_document.len() - 1
            }
        };
        let entry = &mut by_document[at];
        match d["other_customer_id"].as_str() {
            Some(other) if !entry.2.iter().any(|c| c == other) => entry.2.push(other.to_owned()),
            Some(_) => {}
            None => entry.3 = true,
        }
    }
    for (_, kind, cases, elsewhere) in by_document {
        let mut text = format!("{}: the same file is in ", document_label(kind));
        if !cases.is_empty() {
            text.push_str(&plural(
                cases.len(),
                "other case of this platform",
                "other cases of this platform",
            ));
            if elsewhere {
                text.push_str(" and ");
            }
        }
        if elsewhere {
            text.push_str("cases of other platforms (not named)");
        }
        text.push('.');
        lines.push(Line { text, cases });
    }
    if lines.is_empty() {
        lines.push(Line::text(format!(
            "Every required document is here ({}), each of an accepted type and found in no other case.",
            given
        )));
    }
    lines
}

fn sanctions(evidence: &Value) -> Vec<Line> {
    let lists: Vec<String> = evidence["lists"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            format!(
                "{} of {}",
                l["list"].as_str().unwrap_or_default(),
                l["list_date"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let hits = evidence["hits"].as_array().map_or(0, Vec::len);
    let mut lines = Vec::new();
    if let Some(m) = evidence["message"].as_str() {
        lines.push(Line::text(m.to_owned()));
    }
    if !lists.is_empty() {
        lines.push(Line::text(format!(
            "Screened against {}: {}.",
            lists.join(", "),
            if hits == 0 {
                "no hit".to_owned()
            } else {
                format!("{}, compared below", plural(hits, "hit", "hits"))
            }
        )));
    }
    lines
}

/// The registry check as the case page shows it: each fact given beside the registry's.
pub struct RegistryView {
    /// What happened: found, not found, or no registry for the country.
    pub summary: String,
    /// (fact, given, registry's, differs)
    pub rows: Vec<(&'static str, String, String, bool)>,
}

pub fn registry_view(evidence: &serde_json::Value) -> RegistryView {
    let text = |k: &str| {
        evidence.get(k).map_or_else(String::new, |v| match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        })
    };
    let registry = text("registry");
    if registry.is_empty() {
        return RegistryView {
            summary: text("message"),
            rows: Vec::new(),
        };
    }
    let found = evidence.get("registry_id").is_some();
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let mut rows = Vec::new();
    let (name, registered) = (text("name"), text("registered_name"));
    let (number, registry_id) = (text("registration_number"), text("registry_id"));
    if found {
        rows.push((
            "Name",
            name.clone(),
            registered.clone(),
            norm(&name) != norm(&registered),
        ));
        rows.push((
            "Registration number",
            number.clone(),
            registry_id.clone(),
            norm(&number).trim_start_matches('0') != norm(&registry_id).trim_start_matches('0'),
        ));
    } else {
        rows.push(("Name", name, String::new(), true));
        rows.push(("Registration number", number, String::new(), true));
    }
    RegistryView {
        summary: if found {
            format!("Found in {registry} (name score {})", text("score"))
        } else {
            format!("Not found in {registry}")
        },
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn texts(lines: &[Line]) -> Vec<&str> {
        lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn the_documents_check_in_sentences() {
        // Evidence written before duplicates were counted once repeats the same pair: each
        // document is still said once, each other case named once.
        let dup = |doc: &str, kind: &str, other: Option<&str>| json!({"document_id": doc, "kind": kind, "other_customer_id": other});
        let evidence = json!({
            "documents": [{}, {}],
            "missing": ["documents.proof_of_address"],
            "not_allowed": ["doc_x"],
            "duplicates": [
                dup("doc_a", "certificate_of_incorporation", Some("cust_1")),
                dup("doc_a", "certificate_of_incorporation", Some("cust_1")),
                dup("doc_a", "certificate_of_incorporation", Some("cust_2")),
                dup("doc_a", "certificate_of_incorporation", None),
                dup("doc_b", "ownership_structure", None),
                dup("doc_b", "ownership_structure", None),
            ],
        });
        let lines = summary("documents", &evidence);
        assert_eq!(
            texts(&lines),
            [
                "Missing: Proof of business address.",
                "Of a type kyb does not accept: doc_x.",
                "Certificate of incorporation: the same file is in 2 other cases of this platform and cases of other platforms (not named).",
                "Ownership structure chart or register of members: the same file is in cases of other platforms (not named).",
            ]
        );
        assert_eq!(lines[2].cases, ["cust_1", "cust_2"]);
        assert!(lines[3].cases.is_empty());
        let clean =
            json!({"documents": [{}, {}, {}], "missing": [], "not_allowed": [], "duplicates": []});
        assert_eq!(
            texts(&summary("documents", &clean)),
            ["Every required document is here (3), each of an accepted type and found in no other case."]
        );
    }

    #[test]
    fn the_sanctions_check_in_a_sentence() {
        let lists = json!([{"list": "ofac-sdn", "list_date": "2024-05-03"}, {"list": "un-consolidated", "list_date": "2024-05-01"}]);
        assert_eq!(
            texts(&summary("sanctions", &json!({"lists": lists, "hits": []}))),
            ["Screened against ofac-sdn of 2024-05-03, un-consolidated of 2024-05-01: no hit."]
        );
        assert_eq!(
            texts(&summary("sanctions", &json!({"lists": lists, "hits": [{}, {}]}))),
            ["Screened against ofac-sdn of 2024-05-03, un-consolidated of 2024-05-01: 2 hits, compared below."]
        );
        let none = json!({"message": "no sanctions list is imported: run kyb sanctions import"});
        assert_eq!(
            texts(&summary("sanctions", &none)),
            [none["message"].as_str().unwrap()]
        );
    }
}
