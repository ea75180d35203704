//! Step 2: directors, control persons and beneficial owners. Add, edit, remove; at least one
//! control person; total ownership at most 100 %.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use kyb_domain::CountryCode;
use kyb_store::{Person, StoreError};

use super::forms::{date_rule, text_rule, FieldError, FormData};
use super::pages::problem;
use super::session::CustomerSession;
use super::texts::{country_name, role_label, ROLES};
use super::ui::Ui;
use crate::extract::RequestContext;
use crate::i18n::Tr;
use crate::web::page;
use crate::AppState;
use kyb_domain::kyb::rules::{self, parse_percent};

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

pub fn person_rows(tr: Tr, people: &[Person]) -> Vec<PersonRow> {
    people
        .iter()
        .map(|p| PersonRow {
            id: p.id.clone(),
            full_name: p.full_name.clone(),
            date_of_birth: tr.date_text(&p.date_of_birth),
            nationality: country_name(tr, &p.nationality),
            role: role_label(tr, &p.role),
            is_control_person: p.is_control_person,
            ownership: tr.decimal(&percent(p.ownership_bp)),
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
    fn validate(&mut self, tr: Tr, id: String, today: NaiveDate) -> Option<Person> {
        let mut errors = Vec::new();
        if self.full_name.is_empty() {
            errors.push(FieldError::new("full_name", tr.t("person-name-missing")));
        } else if let Some(e) = text_rule(
            tr,
            "full_name",
            &tr.t("person-full-name"),
            &self.full_name,
            rules::MAX_PERSON_NAME,
        ) {
            errors.push(e);
        }
        let (oldest, youngest) = rules::birth_dates(today);
        if self.date_of_birth.is_empty() {
            errors.push(FieldError::new("date_of_birth", tr.t("person-dob-missing")));
        } else if let Some(mut e) = date_rule(
            tr,
            "date_of_birth",
            &tr.t("person-date-of-birth"),
            &self.date_of_birth,
            oldest,
            youngest,
        ) {
            if NaiveDate::parse_from_str(&self.date_of_birth, "%Y-%m-%d").is_ok() {
                e.message = tr.t("person-dob-age");
            }
            errors.push(e);
        }
        if CountryCode::parse(&self.nationality).is_err() {
            errors.push(FieldError::new(
                "nationality",
                tr.t("person-nationality-missing"),
            ));
        }
        if !ROLES.contains(&self.role.as_str()) {
            errors.push(FieldError::new("role", tr.t("person-role-missing")));
        }
        // Typed the language's way or not: "12,5" is 12.5 too.
        let ownership_bp = parse_percent(&self.ownership.replace(',', "."));
        if ownership_bp.is_none() {
            errors.push(FieldError::new(
                "ownership",
                tr.t("person-ownership-format"),
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

/// Every country (alpha-3, name) in the customer's language, by name as a reader sorts it
/// (accents aside: "États-Unis" among the E). The names are the short ones people type in a
/// list ("United States", not "The United States Of America", which put "United Republic of
/// Tanzania" first when typing "United").
/// Made once per language: the nationality list is on every People page.
fn countries(tr: Tr) -> &'static [(&'static str, String)] {
    use std::sync::LazyLock;
    static SORTED: LazyLock<Vec<Vec<(&'static str, String)>>> = LazyLock::new(|| {
        crate::i18n::Lang::ALL
            .iter()
            .map(|&lang| sorted_countries(Tr::new(lang)))
            .collect()
    });
    let at = crate::i18n::Lang::ALL
        .iter()
        .position(|l| *l == tr.lang)
        .unwrap_or_default();
    &SORTED[at]
}

fn sorted_countries(tr: Tr) -> Vec<(&'static str, String)> {
    use unicode_normalization::UnicodeNormalization;
    let key = |name: &str| -> String {
        name.nfd()
            .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let mut all: Vec<_> = celes::Country::get_countries()
        .iter()
        .map(|c| (c.alpha3, country_name(tr, c.alpha3)))
        .collect();
    all.sort_by_cached_key(|(_, name)| key(name));
    all
}

/// The roles as (value, name).
fn roles(tr: Tr) -> Vec<(&'static str, String)> {
    ROLES.iter().map(|r| (*r, role_label(tr, r))).collect()
}

#[derive(Template)]
#[template(path = "hosted/people.html")]
struct PeoplePage {
    ui: Ui,
    session_note: String,
    asked: Option<super::asked::Asked>,
    csrf: String,
    errors: Vec<FieldError>,
    people: Vec<PersonRow>,
    total_ownership: String,
    form: PersonForm,
    form_action: String,
    editing: bool,
    countries: &'static [(&'static str, String)],
    roles: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "hosted/person_edit.html")]
struct EditPage {
    ui: Ui,
    session_note: String,
    csrf: String,
    errors: Vec<FieldError>,
    form: PersonForm,
    form_action: String,
    editing: bool,
    countries: &'static [(&'static str, String)],
    roles: Vec<(&'static str, String)>,
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
        Err(e) => return session.failed(e),
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
            ui: session.1.clone(),
            session_note: session.ending_note(state),
            asked: super::asked::asked(state, session, "people"),
            csrf: s.csrf_token.clone(),
            errors,
            people: person_rows(session.1.tr, &people),
            total_ownership: session
                .1
                .tr
                .decimal(&percent(u16::try_from(total).unwrap_or(u16::MAX))),
            form,
            form_action: "/kyb/flow/people".into(),
            editing: false,
            countries: countries(session.1.tr),
            roles: roles(session.1.tr),
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
            ui: session.1.clone(),
            session_note: session.ending_note(state),
            csrf: s.csrf_token.clone(),
            errors: form.errors.clone(),
            form,
            form_action: format!("/kyb/flow/people/{person_id}"),
            editing: true,
            countries: countries(session.1.tr),
            roles: roles(session.1.tr),
        },
    )
}

fn no_such_person(ui: &Ui) -> Response {
    problem(StatusCode::NOT_FOUND, ui, "person-not-found")
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
    let tr = session.1.tr;
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
                tr.t1("people-cap", "max", caps.max_people),
            ));
            people_page_with(state, session, form, Vec::new()).await
        }
        Err(StoreError::OwnershipExceeded { total_bp }) => {
            let total = percent(u16::try_from(total_bp).unwrap_or(u16::MAX));
            form.errors.push(FieldError::new(
                "ownership",
                tr.t1("ownership-exceeded", "total", tr.decimal(&total)),
            ));
            if editing {
                edit_page_with(state, session, &person.id, form)
            } else {
                people_page_with(state, session, form, Vec::new()).await
            }
        }
        Err(e) => session.failed(e),
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
    let id = format!("per_{}", crate::uploads::random_id());
    match typed.validate(session.1.tr, id, state.clock.now().date_naive()) {
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
            .ok_or_else(|| no_such_person(&session.1)),
        Err(e) => Err(session.failed(e)),
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
    match typed.validate(
        session.1.tr,
        person_id.clone(),
        state.clock.now().date_naive(),
    ) {
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
            Err(e) => return session.failed(e),
        };
        let Some(person) = people.iter().find(|p| p.id == person_id) else {
            return no_such_person(&session.1);
        };
        let ui = &session.1;
        return super::pages::Confirmation {
            ui,
            title: &ui.t("remove-person-title"),
            what: &ui.t1("remove-person-what", "name", person.full_name.as_str()),
            action: &format!("/kyb/flow/people/{person_id}/delete"),
            csrf: &session.0.csrf_token,
            button: &ui.t("remove-person-button"),
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
        Err(StoreError::NotFound) => no_such_person(&session.1),
        Err(e) => session.failed(e),
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
    let error = FieldError::new("full_name", session.1.t("people-need-control"));
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
