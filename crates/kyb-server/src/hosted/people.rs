//! Step 2: directors, control persons and beneficial owners. Add, edit, remove; at least one
//! control person; total ownership at most 100 %.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};
use kyb_domain::CountryCode;
use kyb_store::{Person, StoreError};

use super::forms::{date_rule, text_rule, FieldError, FormData};
use super::pages::{internal_error, problem};
use super::session::CustomerSession;
use crate::extract::RequestContext;
use crate::web::page;
use crate::AppState;

pub const ROLES: [(&str, &str); 4] = [
    ("director", "Director"),
    ("officer", "Officer (CEO, CFO, managing partner…)"),
    ("shareholder", "Shareholder or member"),
    ("other", "Other"),
];

/// A person as the pages show them.
pub struct PersonRow {
    pub id: String,
    pub full_name: String,
    pub date_of_birth: String,
    pub nationality: String,
    pub role: String,
    pub is_control_person: bool,
    pub ownership: String,
}

fn percent(bp: u16) -> String {
    let (whole, frac) = (bp / 100, bp % 100);
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:02}")
            .trim_end_matches('0')
            .to_owned()
    }
}

pub fn person_rows(people: &[Person]) -> Vec<PersonRow> {
    people
        .iter()
        .map(|p| PersonRow {
            id: p.id.clone(),
            full_name: p.full_name.clone(),
            date_of_birth: p.date_of_birth.clone(),
            nationality: celes::Country::from_alpha3(&p.nationality).map_or_else(
                |_| p.nationality.clone(),
                |c| country_name(c.alpha3, c.long_name),
            ),
            role: ROLES
                .iter()
                .find(|(v, _)| *v == p.role)
                .map_or(p.role.clone(), |(_, t)| t.to_string()),
            is_control_person: p.is_control_person,
            ownership: percent(p.ownership_bp),
        })
        .collect()
}

/// The person form as typed (kept on errors).
#[derive(Default)]
pub struct PersonForm {
    pub full_name: String,
    pub date_of_birth: String,
    pub nationality: String,
    pub role: String,
    pub is_control_person: bool,
    pub ownership: String,
    pub errors: Vec<FieldError>,
}

impl PersonForm {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    fn from_form(form: &FormData) -> Self {
        Self {
            full_name: form.get("full_name").to_owned(),
            date_of_birth: form.get("date_of_birth").to_owned(),
            nationality: form.get("nationality").to_owned(),
            role: form.get("role").to_owned(),
            is_control_person: form.get("is_control_person") == "yes",
            ownership: form.get("ownership").to_owned(),
            errors: Vec::new(),
        }
    }

    fn from_person(p: &Person) -> Self {
        Self {
            full_name: p.full_name.clone(),
            date_of_birth: p.date_of_birth.clone(),
            nationality: p.nationality.clone(),
            role: p.role.clone(),
            is_control_person: p.is_control_person,
            ownership: percent(p.ownership_bp),
            errors: Vec::new(),
        }
    }

    /// Checks every field; on success the person to store (with `id`).
    fn validate(&mut self, id: String, today: NaiveDate) -> Option<Person> {
        let mut errors = Vec::new();
        if self.full_name.is_empty() {
            errors.push(FieldError::new("full_name", "Enter the person's full name"));
        } else if let Some(e) = text_rule("full_name", "Full name", &self.full_name, 200) {
            errors.push(e);
        }
        let oldest = today.with_year(today.year() - 120).unwrap_or(today);
        let youngest = today.with_year(today.year() - 16).unwrap_or(today);
        if self.date_of_birth.is_empty() {
            errors.push(FieldError::new("date_of_birth", "Enter the date of birth"));
        } else if let Some(mut e) = date_rule(
            "date_of_birth",
            "Date of birth",
            &self.date_of_birth,
            oldest,
            youngest,
        ) {
            if NaiveDate::parse_from_str(&self.date_of_birth, "%Y-%m-%d").is_ok() {
                e.message =
                    "Date of birth must make the person between 16 and 120 years old".into();
            }
            errors.push(e);
        }
        if CountryCode::parse(&self.nationality).is_err() {
            errors.push(FieldError::new(
                "nationality",
                "Choose the person's nationality from the list",
            ));
        }
        if !ROLES.iter().any(|(v, _)| *v == self.role) {
            errors.push(FieldError::new(
                "role",
                "Choose the person's role from the list",
            ));
        }
        let ownership_bp = parse_percent(&self.ownership);
        if ownership_bp.is_none() {
            errors.push(FieldError::new(
                "ownership",
                "Ownership must be a number from 0 to 100 with at most two decimals, like 25 or 12.5",
            ));
        }
        self.errors = errors;
        match (self.errors.is_empty(), ownership_bp) {
            (true, Some(ownership_bp)) => Some(Person {
                id,
                full_name: self.full_name.clone(),
                date_of_birth: self.date_of_birth.clone(),
                nationality: self.nationality.clone(),
                role: self.role.clone(),
                is_control_person: self.is_control_person,
                ownership_bp,
            }),
            _ => None,
        }
    }
}

/// `"25"`, `"12.5"`, `"0.25"` → basis points; `None` outside 0–100 or with more than 2 decimals.
fn parse_percent(raw: &str) -> Option<u16> {
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

/// Every country (alpha-3, name), by name. The names are the short ones people type in a list
/// ("United States", not "The United States Of America", which put "United Republic of
/// Tanzania" first when typing "United").
fn countries() -> Vec<(&'static str, String)> {
    let mut all: Vec<_> = celes::Country::get_countries()
        .iter()
        .map(|c| (c.alpha3, country_name(c.alpha3, c.long_name)))
        .collect();
    all.sort_by(|a, b| a.1.cmp(&b.1));
    all
}

/// The short English name of a country: a common name where the official one is long, else the
/// official one without a leading "The" and with "of", "and", "the" in lower case.
fn country_name(alpha3: &str, long_name: &str) -> String {
    const SHORT: [(&str, &str); 24] = [
        ("USA", "United States"),
        ("GBR", "United Kingdom"),
        ("TZA", "Tanzania"),
        ("KOR", "South Korea"),
        ("PRK", "North Korea"),
        ("RUS", "Russia"),
        ("IRN", "Iran"),
        ("SYR", "Syria"),
        ("VEN", "Venezuela"),
        ("BOL", "Bolivia"),
        ("VNM", "Vietnam"),
        ("LAO", "Laos"),
        ("MDA", "Moldova"),
        ("COD", "Democratic Republic of the Congo"),
        ("COG", "Republic of the Congo"),
        ("CZE", "Czechia"),
        ("TWN", "Taiwan"),
        ("FSM", "Micronesia"),
        ("BRN", "Brunei"),
        ("CIV", "Côte d'Ivoire"),
        ("PSE", "Palestine"),
        ("VAT", "Vatican City"),
        ("MKD", "North Macedonia"),
        ("ARE", "United Arab Emirates"),
    ];
    if let Some((_, short)) = SHORT.iter().find(|(code, _)| *code == alpha3) {
        return (*short).to_owned();
    }
    let name = long_name.strip_prefix("The ").unwrap_or(long_name);
    name.split(' ')
        .enumerate()
        .map(|(i, w)| match w {
            "Of" | "And" | "The" | "Da" | "De" if i > 0 => w.to_lowercase(),
            _ => w.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Template)]
#[template(path = "hosted/people.html")]
struct PeoplePage {
    brand: super::brand::Brand,
    session_note: String,
    asked: Option<super::asked::Asked>,
    csrf: String,
    errors: Vec<FieldError>,
    people: Vec<PersonRow>,
    total_ownership: String,
    form: PersonForm,
    form_action: String,
    editing: bool,
    countries: Vec<(&'static str, String)>,
    roles: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "hosted/person_edit.html")]
struct EditPage {
    brand: super::brand::Brand,
    session_note: String,
    csrf: String,
    errors: Vec<FieldError>,
    form: PersonForm,
    form_action: String,
    editing: bool,
    countries: Vec<(&'static str, String)>,
    roles: Vec<(&'static str, &'static str)>,
}

async fn people_page_with(
    state: &AppState,
    session: &CustomerSession,
    form: PersonForm,
    extra: Vec<FieldError>,
) -> Response {
    let s = &session.0;
    let people = match state.store.list_people(s).await {
        Ok(p) => p,
        Err(e) => return internal_error(e),
    };
    let total: u32 = people.iter().map(|p| u32::from(p.ownership_bp)).sum();
    let mut errors = form.errors.clone();
    errors.extend(extra);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(
        status,
        &PeoplePage {
            brand: session.1.clone(),
            session_note: session.ending_note(state),
            asked: super::asked::asked(&s.customer, "people"),
            csrf: s.csrf_token.clone(),
            errors,
            people: person_rows(&people),
            total_ownership: percent(u16::try_from(total).unwrap_or(u16::MAX)),
            form,
            form_action: "/kyb/flow/people".into(),
            editing: false,
            countries: countries(),
            roles: ROLES.to_vec(),
        },
    )
}

pub async fn page_handler(State(state): State<AppState>, session: CustomerSession) -> Response {
    people_page_with(&state, &session, PersonForm::default(), Vec::new()).await
}

fn edit_page_with(
    state: &AppState,
    session: &CustomerSession,
    person_id: &str,
    form: PersonForm,
) -> Response {
    let s = &session.0;
    let status = if form.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(
        status,
        &EditPage {
            brand: session.1.clone(),
            session_note: session.ending_note(state),
            csrf: s.csrf_token.clone(),
            errors: form.errors.clone(),
            form,
            form_action: format!("/kyb/flow/people/{person_id}"),
            editing: true,
            countries: countries(),
            roles: ROLES.to_vec(),
        },
    )
}

fn no_such_person(platform: &str) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        Some(platform),
        "Person not found",
        "This person is not (or no longer) on your list.".into(),
        "Go back to the list of people.".into(),
    )
}

/// Stores a validated person, or shows why not (ownership over 100 %).
async fn save(
    state: &AppState,
    session: &CustomerSession,
    rc: &RequestContext,
    person: Person,
    mut form: PersonForm,
    editing: bool,
) -> Response {
    let ctx = session.audit(rc, state);
    let caps = state.config.customer_caps();
    match state
        .store
        .upsert_person(&session.0, &person, &caps, &ctx)
        .await
    {
        Ok(()) => Redirect::to("/kyb/flow/people").into_response(),
        Err(StoreError::Refused { .. }) => {
            form.errors.push(FieldError::new(
                "full_name",
                format!(
                    "You can list at most {} people; remove someone before adding another",
                    caps.max_people
                ),
            ));
            people_page_with(state, session, form, Vec::new()).await
        }
        Err(StoreError::OwnershipExceeded { total_bp }) => {
            form.errors.push(FieldError::new(
                "ownership",
                format!(
                    "Total ownership would be {}.{:02} %; everyone's ownership together can be 100 % at most",
                    total_bp / 100,
                    total_bp % 100
                ),
            ));
            if editing {
                edit_page_with(state, session, &person.id, form)
            } else {
                people_page_with(state, session, form, Vec::new()).await
            }
        }
        Err(e) => internal_error(e),
    }
}

pub async fn add(
    State(state): State<AppState>,
    session: CustomerSession,
    rc: RequestContext,
    form: FormData,
) -> Response {
    if let Some(r) = session.csrf_rejection(&form.0) {
        return r;
    }
    let mut typed = PersonForm::from_form(&form);
    let id = format!(
        "per_{}",
        crate::web::cookies::random_token()[..24].replace(['-', '_'], "x")
    );
    match typed.validate(id, state.clock.now().date_naive()) {
        Some(person) => save(&state, &session, &rc, person, typed, false).await,
        None => people_page_with(&state, &session, typed, Vec::new()).await,
    }
}

async fn find(
    state: &AppState,
    session: &CustomerSession,
    person_id: &str,
) -> Result<Person, Response> {
    match state.store.list_people(&session.0).await {
        Ok(people) => people
            .into_iter()
            .find(|p| p.id == person_id)
            .ok_or_else(|| no_such_person(&session.0.platform_name)),
        Err(e) => Err(internal_error(e)),
    }
}

pub async fn edit_page(
    State(state): State<AppState>,
    session: CustomerSession,
    Path(person_id): Path<String>,
) -> Response {
    match find(&state, &session, &person_id).await {
        Ok(p) => edit_page_with(&state, &session, &person_id, PersonForm::from_person(&p)),
        Err(r) => r,
    }
}

pub async fn update(
    State(state): State<AppState>,
    session: CustomerSession,
    rc: RequestContext,
    Path(person_id): Path<String>,
    form: FormData,
) -> Response {
    if let Some(r) = session.csrf_rejection(&form.0) {
        return r;
    }
    if let Err(r) = find(&state, &session, &person_id).await {
        return r;
    }
    let mut typed = PersonForm::from_form(&form);
    match typed.validate(person_id.clone(), state.clock.now().date_naive()) {
        Some(person) => save(&state, &session, &rc, person, typed, true).await,
        None => edit_page_with(&state, &session, &person_id, typed),
    }
}

pub async fn remove(
    State(state): State<AppState>,
    session: CustomerSession,
    rc: RequestContext,
    Path(person_id): Path<String>,
    form: FormData,
) -> Response {
    if let Some(r) = session.csrf_rejection(&form.0) {
        return r;
    }
    if form.get("confirm") != "yes" {
        let people = match state.store.list_people(&session.0).await {
            Ok(p) => p,
            Err(e) => return internal_error(e),
        };
        let Some(person) = people.iter().find(|p| p.id == person_id) else {
            return no_such_person(&session.0.platform_name);
        };
        let what = format!(
            "{} and everything you entered about them will be removed from this verification.",
            person.full_name
        );
        return super::pages::Confirmation {
            brand: &session.1,
            title: "Remove this person?",
            what: &what,
            action: &format!("/kyb/flow/people/{person_id}/delete"),
            csrf: &session.0.csrf_token,
            button: "Yes, remove them",
            back: "/kyb/flow/people",
        }
        .page();
    }
    let ctx = session.audit(&rc, &state);
    match state
        .store
        .delete_person(&session.0, &person_id, &ctx)
        .await
    {
        Ok(()) => Redirect::to("/kyb/flow/people").into_response(),
        Err(StoreError::NotFound) => no_such_person(&session.0.platform_name),
        Err(e) => internal_error(e),
    }
}

/// "Continue": needs at least one control person.
pub async fn proceed(
    State(state): State<AppState>,
    session: CustomerSession,
    form: FormData,
) -> Response {
    if let Some(r) = session.csrf_rejection(&form.0) {
        return r;
    }
    if session
        .0
        .customer
        .facts
        .people
        .iter()
        .any(|p| p.is_control_person)
    {
        // The documents on a first pass, the review when they are all there.
        return Redirect::to("/kyb/flow").into_response();
    }
    let error = FieldError::new(
        "full_name",
        "Add at least one person who controls the business (tick “This person controls the business”)",
    );
    people_page_with(&state, &session, PersonForm::default(), vec![error]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_parse_to_basis_points() {
        for (raw, bp) in [
            ("25", Some(2500)),
            ("12.5", Some(1250)),
            ("0.25", Some(25)),
            ("100", Some(10_000)),
            ("33.33 %", Some(3333)),
        ] {
            assert_eq!(parse_percent(raw), bp, "{raw}");
        }
        for raw in ["", "100.01", "-5", "1e2", "12.345", "abc", "1000"] {
            assert_eq!(parse_percent(raw), None, "{raw}");
        }
        assert_eq!(percent(1250), "12.5");
        assert_eq!(percent(2500), "25");
        assert_eq!(percent(3333), "33.33");
    }
}
