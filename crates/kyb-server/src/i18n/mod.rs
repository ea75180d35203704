//! The languages of the customer-facing pages: every text from a Fluent catalog
//! (`locales/{lang}/*.ftl`, compiled into the binary), the language chosen by the customer (a
//! cookie, set by the switcher on every page), else the first of the browser's
//! `Accept-Language` kyb speaks, else the platform's default, else English. Dates and numbers
//! are written the language's way.
//!
//! Fluent (`fluent-bundle`) does the messages, plurals and arguments; `fluent-langneg` reads
//! `Accept-Language`. Dates and decimals are formatted here by hand: our languages need a
//! month name and a decimal separator, which the catalogs hold, and ICU4X's data would cost
//! the 2-core build far more than that.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::LazyLock;

pub mod switch;

/// The cookie that remembers the customer's choice (for `/kyb` only).
pub const LANG_COOKIE: &str = "kyb_lang";

/// A language kyb's pages speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Fr,
    Es,
    /// Brazilian Portuguese, the most spoken; readable in Angola, Mozambique and Portugal.
    Pt,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::En, Lang::Fr, Lang::Es, Lang::Pt];

    /// The BCP 47 code, as in `lang="…"`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::Es => "es",
            Lang::Pt => "pt",
        }
    }

    /// The language's own name, as the switcher shows it.
    pub fn endonym(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
            Lang::Es => "Español",
            Lang::Pt => "Português",
        }
    }

    /// `fr`, `fr-CA`, `FR`: the language kyb speaks for it, if any.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The catalog's source, one file per language (pages, messages, countries).
    fn sources(self) -> [&'static str; 2] {
        match self {
            Lang::En => [
                include_str!("../../locales/en/hosted.ftl"),
                include_str!("../../locales/en/countries.ftl"),
            ],
            Lang::Fr => [
                include_str!("../../locales/fr/hosted.ftl"),
                include_str!("../../locales/fr/countries.ftl"),
            ],
            Lang::Es => [
                include_str!("../../locales/es/hosted.ftl"),
                include_str!("../../locales/es/countries.ftl"),
            ],
            Lang::Pt => [
                include_str!("../../locales/pt/hosted.ftl"),
                include_str!("../../locales/pt/countries.ftl"),
            ],
        }
    }
}

type Bundle = FluentBundle<FluentResource>;

/// Every language's catalog, parsed once. A catalog that does not parse is a bug the tests
/// catch (`catalogs_parse_and_agree`); at run time its broken entries are skipped.
static BUNDLES: LazyLock<Vec<Bundle>> = LazyLock::new(|| {
    Lang::ALL
        .iter()
        .map(|&lang| {
            let id = lang.code().parse().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Pages are HTML with `lang` set: no bidi isolation marks around arguments.
            bundle.set_use_isolating(false);
            for source in lang.sources() {
                let resource = FluentResource::try_new(source.to_owned())
                    .unwrap_or_else(|(partial, _)| partial);
                if let Err(errors) = bundle.add_resource(resource) {
                    tracing::error!(lang = lang.code(), ?errors, "message catalog has errors");
                }
            }
            bundle
        })
        .collect()
});

/// The message ids of one language's catalog, and the errors parsing it (for the tests).
pub fn catalog_ids(lang: Lang) -> (Vec<String>, Vec<String>) {
    let mut ids = Vec::new();
    let mut errors = Vec::new();
    for source in lang.sources() {
        let resource = match FluentResource::try_new(source.to_owned()) {
            Ok(r) => r,
            Err((r, e)) => {
                errors.extend(e.iter().map(|e| format!("{e:?}")));
                r
            }
        };
        for entry in resource.entries() {
            if let fluent_syntax::ast::Entry::Message(m) = entry {
                ids.push(m.id.name.to_owned());
            }
        }
    }
    (ids, errors)
}

/// Texts in one language. Cheap to copy: the catalogs are shared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    fn bundle(&self) -> &'static Bundle {
        &BUNDLES[self.lang.index()]
    }

    /// Whether the catalog has this message.
    pub fn has(&self, id: &str) -> bool {
        self.bundle().has_message(id)
    }

    /// A message with arguments. A missing message is a bug the catalog test catches; here it
    /// shows its id (and is logged) rather than failing the page.
    pub fn args(&self, id: &str, args: &FluentArgs) -> String {
        let bundle = self.bundle();
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            tracing::error!(
                lang = self.lang.code(),
                id,
                "message missing from the catalog"
            );
            return id.to_owned();
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(args), &mut errors);
        if !errors.is_empty() {
            tracing::error!(
                lang = self.lang.code(),
                id,
                ?errors,
                "message could not be formatted"
            );
        }
        text.into_owned()
    }

    pub fn t(&self, id: &str) -> String {
        self.args(id, &FluentArgs::new())
    }

    /// A message with one argument.
    pub fn t1<'a>(&self, id: &str, name: &'a str, value: impl Into<FluentValue<'a>>) -> String {
        let mut args = FluentArgs::new();
        args.set(name, value);
        self.args(id, &args)
    }

    /// The first of these messages the catalog has (a jurisdiction's own text, then the
    /// general one); the last is shown (as its id) when none is.
    pub fn first(&self, ids: &[&str], args: &FluentArgs) -> String {
        let id = ids
            .iter()
            .find(|id| self.has(id))
            .or(ids.last())
            .copied()
            .unwrap_or_default();
        self.args(id, args)
    }

    /// A calendar date the language's way: "3 December 2026", "3 décembre 2026".
    pub fn date(&self, d: NaiveDate) -> String {
        let mut args = FluentArgs::new();
        args.set("day", d.day());
        args.set("month", self.t(&format!("month-{}", d.month())));
        args.set("year", d.year());
        self.args("date", &args)
    }

    /// A `YYYY-MM-DD` date as [`Tr::date`] writes it, or the text itself if it is not one.
    pub fn date_text(&self, raw: &str) -> String {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_or_else(|_| raw.to_owned(), |d| self.date(d))
    }

    /// A time of day in UTC, to the minute: "18:30 UTC".
    pub fn time_utc(&self, t: DateTime<Utc>) -> String {
        self.t1("time-utc", "time", t.format("%H:%M").to_string())
    }

    /// A date and time in UTC: "3 December 2026 at 18:30 UTC".
    pub fn date_time_utc(&self, t: DateTime<Utc>) -> String {
        let mut args = FluentArgs::new();
        args.set("date", self.date(t.date_naive()));
        args.set("time", t.format("%H:%M").to_string());
        self.args("date-time-utc", &args)
    }

    /// A decimal written with the language's separator ("12.5", "12,5").
    pub fn decimal(&self, plain: &str) -> String {
        plain.replace('.', &self.t("decimal-separator"))
    }
}

/// What the browser says of the language: the customer's choice (the cookie), and the first
/// language of `Accept-Language` kyb speaks.
#[derive(Debug, Clone, Copy, Default)]
pub struct LangPrefs {
    pub chosen: Option<Lang>,
    pub accepted: Option<Lang>,
}

impl LangPrefs {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let chosen = crate::web::cookies::cookie(headers, LANG_COOKIE)
            .as_deref()
            .and_then(Lang::parse);
        let accepted = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            // A stranger's header: only its first few hundred bytes are read.
            .map(|v| &v[..v.len().min(256)])
            .and_then(|v| {
                fluent_langneg::accepted_languages::parse(v)
                    .iter()
                    .find_map(|id| Lang::parse(id.language.as_str()))
            });
        Self { chosen, accepted }
    }

    /// The language of a page: the choice, the browser's, the platform's, English.
    pub fn pick(&self, platform_default: Option<Lang>) -> Lang {
        self.chosen
            .or(self.accepted)
            .or(platform_default)
            .unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for LangPrefs {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_headers(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_the_choice_then_the_browsers_then_the_platforms() {
        let mut h = HeaderMap::new();
        h.insert(
            "accept-language",
            "de-DE,fr;q=0.8,en;q=0.5".parse().unwrap(),
        );
        let p = LangPrefs::from_headers(&h);
        assert_eq!(
            p.accepted,
            Some(Lang::Fr),
            "German is skipped: kyb does not speak it"
        );
        assert_eq!(p.pick(Some(Lang::En)), Lang::Fr);
        h.insert("cookie", "kyb_lang=en".parse().unwrap());
        assert_eq!(LangPrefs::from_headers(&h).pick(Some(Lang::Fr)), Lang::En);
        assert_eq!(LangPrefs::default().pick(Some(Lang::Fr)), Lang::Fr);
        assert_eq!(LangPrefs::default().pick(None), Lang::En);
        assert_eq!(Lang::parse("FR-ca"), Some(Lang::Fr));
        assert_eq!(Lang::parse("de"), None);
    }

    #[test]
    fn dates_and_decimals_are_written_the_languages_way() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert_eq!(Tr::new(Lang::En).date(d), "3 December 2026");
        assert_eq!(Tr::new(Lang::Fr).date(d), "3 décembre 2026");
        assert_eq!(Tr::new(Lang::Fr).decimal("12.5"), "12,5");
        assert_eq!(Tr::new(Lang::En).decimal("12.5"), "12.5");
        assert_eq!(Tr::new(Lang::Es).date(d), "3 de diciembre de 2026");
        assert_eq!(Tr::new(Lang::Pt).date(d), "3 de dezembro de 2026");
        assert_eq!(Tr::new(Lang::Fr).date_text("not a date"), "not a date");
    }
}

/// The catalogs are whole: every language has every message English has (and no other), each
/// parses, and every message the pages and the code name exists.
#[cfg(test)]
mod catalog_tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ids(lang: Lang) -> BTreeSet<String> {
        let (ids, errors) = catalog_ids(lang);
        assert!(errors.is_empty(), "{}: {errors:?}", lang.code());
        let set: BTreeSet<String> = ids.iter().cloned().collect();
        assert_eq!(set.len(), ids.len(), "{}: an id twice", lang.code());
        set
    }

    #[test]
    fn catalogs_parse_and_agree() {
        let english = ids(Lang::En);
        for lang in Lang::ALL {
            let other = ids(lang);
            let missing: Vec<_> = english.difference(&other).collect();
            let extra: Vec<_> = other.difference(&english).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{}: missing {missing:?}, not in English {extra:?}",
                lang.code()
            );
        }
        let codes: Vec<&str> = Lang::ALL.iter().map(|l| l.code()).collect();
        assert_eq!(
            codes,
            kyb_domain::branding::LANGUAGES,
            "the platforms' choice"
        );
    }

    /// Every literal id the templates and the hosted code pass to `t`, `t1` or `problem`.
    #[test]
    fn every_message_the_code_names_exists() {
        let english = ids(Lang::En);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = Vec::new();
        for dir in ["templates/hosted", "src/hosted", "src/i18n"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                sources.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
            }
        }
        sources.push(std::fs::read_to_string(root.join("src/input.rs")).unwrap());
        let call = regex::Regex::new(r#"\b(?:t|t1|args)\(\s*"([a-z0-9-]+)""#).unwrap();
        let page = regex::Regex::new(
            r#"problem\(\s*(?:StatusCode::\w+|status),\s*[^,]+,\s*"([a-z0-9-]+)""#,
        )
        .unwrap();
        let mut named = BTreeSet::new();
        for s in &sources {
            named.extend(call.captures_iter(s).map(|c| c[1].to_owned()));
            for c in page.captures_iter(s) {
                for part in ["title", "what", "next"] {
                    named.insert(format!("{}-{part}", &c[1]));
                }
            }
        }
        assert!(
            named.len() > 100,
            "the scan found the calls: {}",
            named.len()
        );
        let missing: Vec<_> = named.difference(&english).collect();
        assert!(
            missing.is_empty(),
            "named but not in the catalog: {missing:?}"
        );
    }

    /// The ids made from codes: each field, legal form, document kind, role, country and month
    /// of every jurisdiction.
    #[test]
    fn every_code_has_its_words() {
        let catalog = kyb_domain::requirements::Catalog::load().unwrap();
        let tr = Tr::new(Lang::En);
        let mut needed: Vec<String> = Vec::new();
        for f in kyb_domain::requirements::BUSINESS_FIELDS {
            needed.push(format!("field-{f}"));
            needed.push(format!("missing-{f}"));
        }
        for (kind, _) in kyb_domain::requirements::DOCUMENT_KINDS {
            needed.push(format!("doc-{kind}"));
        }
        for role in crate::hosted::texts::ROLES {
            needed.push(format!("role-{role}"));
        }
        for c in celes::Country::get_countries() {
            needed.push(format!("country-{}", c.alpha3));
        }
        needed.extend((1..=12).map(|m| format!("month-{m}")));
        let missing: Vec<_> = needed.iter().filter(|id| !tr.has(id)).collect();
        assert!(missing.is_empty(), "{missing:?}");
        for country in catalog.countries().chain(["default"]) {
            let r = catalog.for_country(country);
            for (code, english) in &r.entity_types {
                let own = format!("entity-{country}-{code}");
                let id = if tr.has(&own) {
                    own
                } else {
                    format!("entity-{code}")
                };
                // The console shows the requirements file's words; the pages the catalog's.
                assert_eq!(&tr.t(&id), english, "{country} {code}");
            }
            for (name, rule) in &r.fields {
                // A format with an example is described in the jurisdiction's own words.
                if rule.pattern.is_some() && rule.example.is_some() && country != "default" {
                    assert!(
                        tr.has(&format!("hint-{country}-{name}")),
                        "{country} {name}"
                    );
                }
            }
        }
    }
}
