//! The catalog's words for what the requirements catalog names by code: business fields (a
//! jurisdiction's own words first: `label-USA-tax_id`, then `field-tax_id`), legal forms,
//! document kinds, roles and countries.

use fluent_bundle::FluentArgs;
use kyb_domain::requirements::{FieldProblem, Requirements};

use crate::i18n::Tr;

/// `{what}-{country}-{name}` when the jurisdiction has its own words, else `{general}`.
fn jurisdictional(tr: Tr, r: &Requirements, what: &str, general: &str, name: &str) -> String {
    tr.first(
        &[&format!("{what}-{}-{name}", r.country), general],
        &FluentArgs::new(),
    )
}

/// A business field's label.
pub fn field_label(tr: Tr, r: &Requirements, name: &str) -> String {
    jurisdictional(tr, r, "label", &format!("field-{name}"), name)
}

/// What a field asks for, shown under its label (the format, an example), if anything.
pub fn field_hint(tr: Tr, r: &Requirements, name: &str) -> Option<String> {
    let own = format!("hint-{}-{name}", r.country);
    let general = format!("hint-{name}");
    let hint = [own, general].into_iter().find(|id| tr.has(id))?;
    let hint = tr.t(&hint);
    Some(match r.field(name).and_then(|f| f.example.as_deref()) {
        Some(example) => {
            let mut args = FluentArgs::new();
            args.set("hint", hint);
            args.set("example", example);
            tr.args("hint-with-example", &args)
        }
        None => hint,
    })
}

/// What the page says of a value the jurisdiction refuses.
pub fn field_problem(tr: Tr, r: &Requirements, name: &str, problem: FieldProblem) -> String {
    match problem {
        FieldProblem::Missing => jurisdictional(tr, r, "missing", &format!("missing-{name}"), name),
        FieldProblem::Format => {
            let mut args = FluentArgs::new();
            args.set("label", field_label(tr, r, name));
            let own_hint = format!("hint-{}-{name}", r.country);
            match (
                tr.has(&own_hint),
                r.field(name).and_then(|f| f.example.as_deref()),
            ) {
                (true, Some(example)) => {
                    args.set("hint", tr.t(&own_hint));
                    args.set("example", example);
                    tr.args("error-format", &args)
                }
                _ => tr.args("error-format-plain", &args),
            }
        }
    }
}

/// A legal form's name: the jurisdiction's own words, else the general ones.
pub fn entity_label(tr: Tr, r: &Requirements, code: &str) -> String {
    jurisdictional(tr, r, "entity", &format!("entity-{code}"), code)
}

/// The legal forms of a jurisdiction as (code, name), in its order.
pub fn entity_options(tr: Tr, r: &Requirements) -> Vec<(String, String)> {
    r.entity_types
        .iter()
        .map(|(code, _)| (code.clone(), entity_label(tr, r, code)))
        .collect()
}

/// A document kind's name.
pub fn document_label(tr: Tr, kind: &str) -> String {
    tr.t(&format!("doc-{kind}"))
}

/// A country's name (alpha-3 code), or the code itself for one the catalog does not know.
pub fn country_name(tr: Tr, alpha3: &str) -> String {
    let id = format!("country-{alpha3}");
    if tr.has(&id) {
        tr.t(&id)
    } else {
        alpha3.to_owned()
    }
}

/// The roles a person may have (their names are the catalog's `role-…`).
pub use kyb_domain::kyb::rules::PERSON_ROLES as ROLES;

pub fn role_label(tr: Tr, role: &str) -> String {
    if ROLES.contains(&role) {
        tr.t(&format!("role-{role}"))
    } else {
        role.to_owned()
    }
}
