//! The case's timeline: every audit row about the case, its links, documents and people, told
//! as one sentence each with who did it and when. Operators' notes are in the notes thread;
//! here a note is only mentioned.

use kyb_store::TimelineEntry;
use serde_json::Value;

use super::minutes;

/// One line of the timeline: when, who, what.
pub struct TimelineLine {
    pub at: String,
    pub who: String,
    pub what: String,
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn who(e: &TimelineEntry) -> String {
    let operator = text(&e.details, "operator");
    match e.actor_type.as_str() {
        "operator" if !operator.is_empty() => operator.to_owned(),
        "operator" => "an operator (command line)".to_owned(),
        "api_key" => format!(
            "the platform (key {})",
            e.actor_id.as_deref().unwrap_or("?")
        ),
        "customer_session" => "the customer".to_owned(),
        "system" => "kyb".to_owned(),
        other => other.replace('_', " "),
    }
}

fn what(e: &TimelineEntry) -> String {
    let d = &e.details;
    match e.action.as_str() {
        "business_customer.created" => "Created".to_owned(),
        "kyb_link.created" => "A verification link was issued".to_owned(),
        "kyb_link.opened" => "The verification link was opened".to_owned(),
        "business_customer.submitted" => format!(
            "Submitted for review; attested by {}",
            match text(d, "attested_by") {
                "" => "nobody named",
                name => name,
            }
        ),
        "checks.completed" => {
            let results: Vec<String> = d
                .get("results")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|r| format!("{} {}", text(r, "check"), text(r, "outcome")))
                        .collect()
                })
                .unwrap_or_default();
            format!("Automated checks ran: {}", results.join(", "))
        }
        "checks.failed" => "An automated check failed on its last attempt".to_owned(),
        "checks.rerun" => "The failed checks were run again".to_owned(),
        "business_customer.first_approval" => {
            "First approval (a second admin must approve)".to_owned()
        }
        "business_customer.approved" => "Approved".to_owned(),
        "business_customer.rejected" => format!("Rejected: {}", text(d, "reason_code")),
        "business_customer.info_requested" => "More information was requested".to_owned(),
        "business_customer.flagged_for_review" => {
            "Flagged: a newer list brought a new hit".to_owned()
        }
        "business_customer.flag_cleared" => "The flag was cleared".to_owned(),
        "sanctions_hit.verdict" => format!(
            "Verdict on the hit {} {}: {}",
            text(d, "list"),
            text(d, "entry_id"),
            text(d, "verdict").replace('_', " ")
        ),
        "business_customer.note_added" => "Added a note".to_owned(),
        "business_customer.assigned" => match text(d, "assignee") {
            "" => "Gave the case back".to_owned(),
            to => format!("Assigned to {to}"),
        },
        "person.added" => format!("Person added: {}", text(d, "full_name")),
        "person.updated" => format!("Person changed: {}", text(d, "full_name")),
        "person.removed" => "A person was removed".to_owned(),
        "document.uploaded" => format!(
            "Document uploaded: {}",
            kyb_domain::requirements::document_label(text(d, "kind"))
        ),
        "document.deleted" => "A document was deleted".to_owned(),
        "business_details.saved" => "Business details saved".to_owned(),
        "info_request.item_confirmed" => {
            let item = text(d, "item");
            let label = kyb_domain::requirements::requestable_items()
                .into_iter()
                .find(|(k, _)| k == item)
                .map_or_else(|| item.to_owned(), |(_, l)| l);
            format!("Confirmed as still correct: {label}")
        }
        other => other.replace(['_', '.'], " "),
    }
}

pub fn lines(entries: &[TimelineEntry]) -> Vec<TimelineLine> {
    entries
        .iter()
        .map(|e| TimelineLine {
            at: minutes(e.at),
            who: who(e),
            what: what(e),
        })
        .collect()
}
