//! Sanctions hits on the case page: each hit as a side-by-side comparison of what the customer
//! gave and what the list says (name, date of birth, country, why the words matched), with its
//! verdict; and the verdict form. A true match holds at once; a false positive needs two
//! different admins, like approving a case with a hit.

use axum::extract::{Form, Path, State};
use axum::response::Response;
use kyb_store::{HitVerdict, OperatorRole, Verdict, VerdictOutcome};
use serde_json::Value;

use super::case::Typed;
use super::{
    acting_on, done, field, form_refusal, refused, required_text, store_refusal, OperatorSession,
};
use crate::extract::RequestContext;
use crate::AppState;

/// One hit as the case page shows it.
pub struct HitView {
    pub list: String,
    pub list_date: String,
    pub entry_id: String,
    pub entry_name: String,
    /// Type, programs and listing date, as far as the list says.
    pub about: String,
    /// Who or what was screened (`Business name`, `Person: Hasan Nasrallah`).
    pub subject: String,
    /// The same as the evidence names it (`business_name`, `person:<id>`).
    pub subject_key: String,
    pub submitted: String,
    pub matched: String,
    pub matched_kind: String,
    pub score: String,
    pub words: Vec<(String, String, String)>,
    pub left_out: String,
    pub dob_given: String,
    pub dob_listed: String,
    pub dob_verdict: String,
    pub country_given: String,
    pub country_listed: String,
    pub country_verdict: String,
    pub likely_false_positive: bool,
    /// Why the hit does not count (cleared as a false positive), or empty.
    pub cleared: String,
    pub changed_since_verdict: bool,
    /// The verdicts on this entry, as sentences.
    pub verdicts: Vec<String>,
    pub can_clear: bool,
    /// The reason typed in a refused verdict form, shown again.
    pub typed_reason: String,
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn joined(v: &Value) -> String {
    v.as_array()
        .map(|a| a.iter().map(s).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

fn agreement(v: &Value) -> &'static str {
    match v.as_str() {
        Some("agrees") => "agrees",
        Some("contradicts") => "contradicts",
        _ => "not known on both sides",
    }
}

fn sentence(v: &HitVerdict) -> String {
    let what = match v.verdict {
        Verdict::TrueMatch => "true match",
        Verdict::FalsePositive => "false positive",
    };
    let state = match (v.status.as_str(), &v.confirmed_by_email) {
        ("pending", _) => " — waiting for a second admin".to_owned(),
        (_, Some(second)) => format!(", confirmed by {second}"),
        _ => String::new(),
    };
    format!(
        "{what} by {} on {}{state}: {}",
        v.operator_email,
        v.created_at.format("%Y-%m-%d %H:%M UTC"),
        v.reason
    )
}

/// The hits of a sanctions check's evidence, with the verdicts on their entries.
pub fn hit_views(
    evidence: &Value,
    verdicts: &[HitVerdict],
    role: OperatorRole,
    subject_label: impl Fn(&str) -> String,
) -> Vec<HitView> {
    evidence["hits"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| {
            let (list, entry_id) = kyb_screening::hit_entry(h).unwrap_or_default();
            let on_entry: Vec<&HitVerdict> = verdicts
                .iter()
                .filter(|v| v.list == list && v.entry_id == entry_id)
                .collect();
            let ex = &h["explanation"];
            let words = ex["words"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|w| (s(&w["query"]), s(&w["listed"]), s(&w["how"])))
                .collect();
            let mut left_out = Vec::new();
            let unmatched_query = joined(&ex["unmatched_query"]);
            if !unmatched_query.is_empty() {
                left_out.push(format!("given, not listed: {unmatched_query}"));
            }
            let unmatched_listed = joined(&ex["unmatched_listed"]);
            if !unmatched_listed.is_empty() {
                left_out.push(format!("listed, not given: {unmatched_listed}"));
            }
            let cleared = h
                .get("cleared")
                .map(|c| {
                    format!(
                        "Cleared as a false positive by {} and {}: {}",
                        s(&c["by"]),
                        s(&c["confirmed_by"]),
                        s(&c["reason"])
                    )
                })
                .unwrap_or_default();
            HitView {
                list_date: s(&h["list_date"]),
                entry_name: s(&h["entry_name"]),
                about: [
                    s(&h["type"]),
                    joined(&h["programs"]),
                    match s(&h["listed_on"]) {
                        d if d.is_empty() => d,
                        d => format!("listed on {d}"),
                    },
                ]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("; "),
                subject: subject_label(&s(&h["subject"])),
                subject_key: s(&h["subject"]),
                submitted: s(&h["name"]),
                matched: s(&h["matched"]),
                matched_kind: s(&h["matched_kind"]).replace('_', " "),
                score: format!("{} (names alone {})", s(&h["score"]), s(&h["name_score"])),
                words,
                left_out: left_out.join("; "),
                dob_given: s(&h["dob"]["given"]),
                dob_listed: joined(&h["dob"]["listed"]),
                dob_verdict: agreement(&h["dob"]["verdict"]).to_owned(),
                country_given: s(&h["country"]["given"]),
                country_listed: joined(&h["country"]["listed"]),
                country_verdict: agreement(&h["country"]["verdict"]).to_owned(),
                likely_false_positive: h["likely_false_positive"] == true,
                cleared,
                changed_since_verdict: h["entry_changed_since_verdict"] == true,
                verdicts: on_entry.iter().map(|v| sentence(v)).collect(),
                can_clear: role == OperatorRole::Admin,
                typed_reason: String::new(),
                list,
                entry_id,
            }
        })
        .collect()
}

/// A verdict on one hit of the case.
pub async fn verdict(
    State(state): State<AppState>,
    me: OperatorSession,
    rc: RequestContext,
    Path(raw): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = form_refusal(&state, &me, &raw, &form).await {
        return r;
    }
    let (list, entry_id) = (field(&form, "list"), field(&form, "entry_id"));
    let typed = || Typed {
        verdict: Some((
            list.to_owned(),
            entry_id.to_owned(),
            field(&form, "reason").to_owned(),
        )),
        ..Typed::default()
    };
    let Some(verdict) = Verdict::parse(field(&form, "verdict")) else {
        return refused(&state, &me, &raw, "verdict_required", typed()).await;
    };
    let Some(reason) = required_text(&form, "reason") else {
        return refused(&state, &me, &raw, "verdict_reason_required", typed()).await;
    };
    let (case, ctx) = match acting_on(&state, &me, &rc, &raw).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match state
        .store
        .record_verdict(
            &case.platform,
            &case.id,
            me.operator(),
            list,
            entry_id,
            verdict,
            reason,
            &ctx,
        )
        .await
    {
        Ok(VerdictOutcome::Effective) => done(&raw, "verdict_recorded"),
        Ok(VerdictOutcome::AwaitingSecondAdmin) => done(&raw, "verdict_pending"),
        Err(e) => store_refusal(&state, &me, &raw, e, typed()).await,
    }
}
