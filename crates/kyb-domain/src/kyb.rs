//! What a business customer gives in the hosted flow, and what is still missing from it.

use crate::requirements::{Requirements, BUSINESS_FIELDS};

/// Business details. Before the customer edits them they are prefilled from creation: the legal
/// name from `business_name` and the operating address from `registered_address`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusinessProfile {
    pub legal_name: String,
    pub trading_name: String,
    pub entity_type: String,
    pub registration_number: String,
    pub date_of_incorporation: String,
    pub tax_id: String,
    pub website: String,
    pub business_description: String,
    pub operating_address: String,
}

impl BusinessProfile {
    /// The profile of a customer who has not edited anything yet.
    pub fn prefilled(business_name: &str, registered_address: &str) -> Self {
        Self {
            legal_name: business_name.to_owned(),
            operating_address: registered_address.to_owned(),
            ..Self::default()
        }
    }

    /// Sets a field by its name in `BUSINESS_FIELDS` (any other name changes nothing).
    pub fn set(&mut self, field: &str, value: &str) {
        let slot = match field {
            "legal_name" => &mut self.legal_name,
            "trading_name" => &mut self.trading_name,
            "entity_type" => &mut self.entity_type,
            "registration_number" => &mut self.registration_number,
            "date_of_incorporation" => &mut self.date_of_incorporation,
            "tax_id" => &mut self.tax_id,
            "website" => &mut self.website,
            "business_description" => &mut self.business_description,
            "operating_address" => &mut self.operating_address,
            _ => return,
        };
        value.clone_into(slot);
    }

    /// A field by its name in `BUSINESS_FIELDS`.
    pub fn get(&self, field: &str) -> &str {
        match field {
            "legal_name" => &self.legal_name,
            "trading_name" => &self.trading_name,
            "entity_type" => &self.entity_type,
            "registration_number" => &self.registration_number,
            "date_of_incorporation" => &self.date_of_incorporation,
            "tax_id" => &self.tax_id,
            "website" => &self.website,
            "business_description" => &self.business_description,
            "operating_address" => &self.operating_address,
            _ => "",
        }
    }
}

/// The facts about a person that requirements look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonFacts {
    pub is_control_person: bool,
    /// Ownership in basis points (2500 = 25 %).
    pub ownership_bp: u16,
}

/// What is still due, as stable codes a platform can act on:
/// `business_details.<field>` (missing or not in the jurisdiction's format),
/// `people.control_person` (none given), `people.ownership_total` (over 100 %),
/// `documents.<kind>` (no document of a required kind).
pub fn currently_due<'a>(
    requirements: &Requirements,
    profile: &BusinessProfile,
    people: &[PersonFacts],
    document_kinds: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let mut due = Vec::new();
    for field in BUSINESS_FIELDS {
        let value = profile.get(field).trim();
        if requirements.check(field, value).is_err() {
            due.push(format!("business_details.{field}"));
        }
    }
    if !people.iter().any(|p| p.is_control_person) {
        due.push("people.control_person".to_owned());
    }
    if people
        .iter()
        .map(|p| u32::from(p.ownership_bp))
        .sum::<u32>()
        > 10_000
    {
        due.push("people.ownership_total".to_owned());
    }
    let given: Vec<&str> = document_kinds.into_iter().collect();
    for kind in requirements.required_documents() {
        if !given.contains(&kind) {
            due.push(format!("documents.{kind}"));
        }
    }
    due
}

/// The rules of what a customer gives, shared by the hosted pages (which say what is wrong in
/// the customer's language) and the API's prefill (which says it in English, naming the
/// field). Each page or endpoint applies every rule; the jurisdiction's own rules are in
/// `Requirements`.
pub mod rules {
    use chrono::{Datelike, NaiveDate};

    /// The roles a person can have in the business.
    pub const PERSON_ROLES: [&str; 4] = ["director", "officer", "shareholder", "other"];
    /// The longest full name of a person, in characters.
    pub const MAX_PERSON_NAME: usize = 200;

    /// The longest value of a business detail field, in characters.
    pub fn max_chars(field: &str) -> usize {
        match field {
            "legal_name" | "trading_name" | "website" => 200,
            "entity_type" | "registration_number" | "tax_id" => 64,
            "date_of_incorporation" => 10,
            "business_description" => 1000,
            "operating_address" => 500,
            _ => 0,
        }
    }

    /// The dates a business can have been incorporated on: 1800 to today.
    pub fn incorporation_dates(today: NaiveDate) -> (NaiveDate, NaiveDate) {
        (NaiveDate::from_ymd_opt(1800, 1, 1).unwrap_or(today), today)
    }

    /// The dates of birth of a person aged 16 to 120 today.
    pub fn birth_dates(today: NaiveDate) -> (NaiveDate, NaiveDate) {
        (
            today.with_year(today.year() - 120).unwrap_or(today),
            today.with_year(today.year() - 16).unwrap_or(today),
        )
    }

    /// A calendar date `YYYY-MM-DD`, if it is one.
    pub fn date(value: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
    }

    /// A website address: http or https, with a host name that has a dot.
    pub fn website_ok(value: &str) -> bool {
        url::Url::parse(value).ok().is_some_and(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| h.contains('.'))
        })
    }

    /// A website typed without a scheme gets https.
    pub fn tidy_website(value: String) -> String {
        if !value.is_empty() && !value.contains("://") {
            format!("https://{value}")
        } else {
            value
        }
    }

    /// `"25"`, `"12.5"`, `"0.25"` → basis points; `None` outside 0–100 or with more than 2
    /// decimals.
    pub fn parse_percent(raw: &str) -> Option<u16> {
        let raw = raw.trim().trim_end_matches('%').trim();
        let (whole, frac) = raw.split_once('.').unwrap_or((raw, ""));
        if whole.is_empty()
            || whole.len() > 3
            || frac.len() > 2
            || !whole
                .bytes()
                .chain(frac.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let whole: u16 = whole.parse().ok()?;
        let frac: u16 = format!("{frac:0<2}").parse().ok()?;
        let bp = whole.checked_mul(100)?.checked_add(frac)?;
        (bp <= 10_000).then_some(bp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requirements::Catalog;

    fn complete_usa() -> BusinessProfile {
        BusinessProfile {
            legal_name: "Acme Corp".into(),
            entity_type: "llc".into(),
            registration_number: "5551234".into(),
            date_of_incorporation: "2019-03-01".into(),
            tax_id: "12-3456789".into(),
            business_description: "Payments software".into(),
            operating_address: "1 Main St".into(),
            ..BusinessProfile::default()
        }
    }

    #[test]
    fn a_new_customer_owes_everything_but_the_prefilled_fields() {
        let catalog = Catalog::load().unwrap();
        let profile = BusinessProfile::prefilled("Acme Corp", "1 Main St");
        let due = currently_due(catalog.for_country("USA"), &profile, &[], []);
        assert_eq!(
            due,
            [
                "business_details.entity_type",
                "business_details.registration_number",
                "business_details.date_of_incorporation",
                "business_details.tax_id",
                "business_details.business_description",
                "people.control_person",
                "documents.certificate_of_incorporation",
                "documents.proof_of_address",
                "documents.ownership_structure",
            ]
        );
    }

    #[test]
    fn a_complete_case_owes_nothing() {
        let catalog = Catalog::load().unwrap();
        let people = [PersonFacts {
            is_control_person: true,
            ownership_bp: 6000,
        }];
        let docs = [
            "certificate_of_incorporation",
            "proof_of_address",
            "ownership_structure",
        ];
        assert!(
            currently_due(catalog.for_country("USA"), &complete_usa(), &people, docs).is_empty()
        );
    }

    #[test]
    fn wrong_formats_and_too_much_ownership_are_due() {
        let catalog = Catalog::load().unwrap();
        let mut profile = complete_usa();
        profile.tax_id = "123456789".into();
        let people = [
            PersonFacts {
                is_control_person: true,
                ownership_bp: 6000,
            },
            PersonFacts {
                is_control_person: false,
                ownership_bp: 5000,
            },
        ];
        let due = currently_due(
            catalog.for_country("USA"),
            &profile,
            &people,
            ["certificate_of_incorporation"],
        );
        assert_eq!(
            due,
            [
                "business_details.tax_id",
                "people.ownership_total",
                "documents.proof_of_address",
                "documents.ownership_structure",
            ]
        );
    }
}
