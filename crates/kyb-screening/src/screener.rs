//! Screening against every loaded list at once: one index over all their names, then each hit
//! weighed with what else is known of the person or business screened. A date of birth that
//! agrees with the entry's raises the score; one that cannot be the entry's (another year)
//! lowers it and marks the hit a likely false positive. Nationality (a person) or country (a
//! business) counts the same way, more lightly.

use serde::{Deserialize, Serialize};

use crate::index::{Explanation, Index, ListedName};
use crate::lists::dates::{compare_dob, Agreement};
use crate::lists::{EntryKind, ListEntry, Source};

const DOB_AGREES: f64 = 0.05;
const DOB_CONTRADICTS: f64 = 0.15;
const COUNTRY_AGREES: f64 = 0.03;
const COUNTRY_CONTRADICTS: f64 = 0.05;

/// One version of one list, as loaded.
#[derive(Debug, Clone)]
pub struct LoadedList {
    pub source: Source,
    /// The version's id in the database (`sl_…`).
    pub list_id: String,
    pub list_date: String,
    pub entries: Vec<ListEntry>,
}

/// Whom or what is screened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Person,
    Business,
    /// Not known (the command line without `--kind`).
    Unknown,
}

/// A name to screen, with what else is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub name: String,
    #[serde(default = "unknown")]
    pub kind: SubjectKind,
    /// `YYYY-MM-DD` or `YYYY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dob: Option<String>,
    /// ISO 3166-1 alpha-3: a person's nationality, a business's country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

fn unknown() -> SubjectKind {
    SubjectKind::Unknown
}

impl Subject {
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind: SubjectKind::Unknown,
            dob: None,
            country: None,
        }
    }
}

/// How one attribute compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeCheck {
    pub given: Option<String>,
    pub listed: Vec<String>,
    pub verdict: Agreement,
}

/// A hit: which entry of which list, the name that matched, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The list's source (`ofac-sdn`, `ofac-consolidated`, `un-consolidated`).
    pub list: Source,
    pub list_id: String,
    pub list_date: String,
    /// The list's own id of the entry: OFAC's `ent_num`, the UN's reference number.
    pub entry_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ent_num: Option<i64>,
    pub entry_name: String,
    #[serde(rename = "type")]
    pub kind: EntryKind,
    pub programs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed_on: Option<String>,
    /// The listed name or alias that matched, as the list writes it.
    pub matched: String,
    /// `name`, or the alias kind (`aka`, `fka`, `nka`, `original_script`).
    pub matched_kind: String,
    #[serde(default)]
    pub matched_weak: bool,
    /// The score of the names alone.
    pub name_score: f64,
    /// The score once date of birth and country are weighed.
    pub score: f64,
    /// The date of birth or country contradicts the entry's.
    pub likely_false_positive: bool,
    pub explanation: Explanation,
    pub dob: AttributeCheck,
    pub country: AttributeCheck,
    /// What identifies the entry (names, dates of birth, countries): a verdict holds while
    /// this stays the same.
    pub fingerprint: String,
}

/// The list and the list's id of the entry a hit names, read from a hit as stored in a check's
/// evidence (a `Hit` as JSON). Evidence written before hits carried `entry_id` names OFAC's
/// `ent_num` instead.
pub fn hit_entry(hit: &serde_json::Value) -> Option<(String, String)> {
    let list = hit["list"].as_str()?.to_owned();
    let id = hit["entry_id"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| hit["ent_num"].as_i64().map(|n| n.to_string()))?;
    Some((list, id))
}

/// Every current list, indexed together.
pub struct Screener {
    lists: Vec<LoadedList>,
    /// (list, entry) of each indexed entry number.
    entries: Vec<(u32, u32)>,
    index: Index,
}

impl Screener {
    pub fn new(lists: Vec<LoadedList>) -> Self {
        let mut entries = Vec::new();
        let mut names = Vec::new();
        for (li, l) in lists.iter().enumerate() {
            for (ei, e) in l.entries.iter().enumerate() {
                let id = entries.len() as u32;
                entries.push((li as u32, ei as u32));
                names.extend(listed_names(id, e));
            }
        }
        Self {
            index: Index::build(names),
            lists,
            entries,
        }
    }

    pub fn lists(&self) -> &[LoadedList] {
        &self.lists
    }

    /// How many names (primary and aliases) are indexed.
    pub fn names(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry(&self, id: u32) -> (&LoadedList, &ListEntry) {
        let (li, ei) = self.entries[id as usize];
        let l = &self.lists[li as usize];
        (l, &l.entries[ei as usize])
    }

    /// The hits of a subject from `threshold` on (of the names' score), best first.
    pub fn screen(&self, subject: &Subject, threshold: f64) -> Vec<Hit> {
        let mut hits: Vec<Hit> = self
            .index
            .screen(&subject.name, threshold)
            .into_iter()
            .map(|m| {
                let (list, e) = self.entry(m.entry);
                let person = e.kind == EntryKind::Individual;
                let dob = AttributeCheck {
                    given: subject.dob.clone(),
                    listed: e.dates_of_birth.iter().map(|d| d.text.clone()).collect(),
                    verdict: if person && subject.kind != SubjectKind::Business {
                        compare_dob(subject.dob.as_deref(), &e.dates_of_birth)
                    } else {
                        Agreement::Unknown
                    },
                };
                let listed_countries: Vec<String> = if person {
                    e.nationalities.clone()
                } else {
                    let mut c = e.nationalities.clone();
                    c.extend(e.countries.iter().cloned());
                    c
                };
                let country = AttributeCheck {
                    verdict: match &subject.country {
                        Some(c) if !listed_countries.is_empty() => {
                            if listed_countries.contains(c) {
                                Agreement::Agrees
                            } else {
                                Agreement::Contradicts
                            }
                        }
                        _ => Agreement::Unknown,
                    },
                    given: subject.country.clone(),
                    listed: listed_countries,
                };
                let mut score = m.score;
                score += match dob.verdict {
                    Agreement::Agrees => DOB_AGREES,
                    Agreement::Contradicts => -DOB_CONTRADICTS,
                    Agreement::Unknown => 0.0,
                };
                score += match country.verdict {
                    Agreement::Agrees => COUNTRY_AGREES,
                    Agreement::Contradicts => -COUNTRY_CONTRADICTS,
                    Agreement::Unknown => 0.0,
                };
                // A person's other nationality proves little; a business registered in another
                // country than every one the entry is known in is likely another business.
                let likely_false_positive = dob.verdict == Agreement::Contradicts
                    || (!person && country.verdict == Agreement::Contradicts);
                Hit {
                    list: list.source,
                    list_id: list.list_id.clone(),
                    list_date: list.list_date.clone(),
                    entry_id: e.id.clone(),
                    ent_num: list.source.is_ofac().then(|| e.ent_num()).flatten(),
                    entry_name: e.name.clone(),
                    kind: e.kind,
                    programs: e.programs.clone(),
                    listed_on: e.listed_on.clone(),
                    matched: m.matched,
                    matched_kind: m.alias.map_or("name", |a| a.as_str()).to_owned(),
                    matched_weak: m.weak,
                    name_score: m.score,
                    score: (score.clamp(0.0, 1.0) * 1000.0).round() / 1000.0,
                    likely_false_positive,
                    explanation: m.explanation,
                    dob,
                    country,
                    fingerprint: e.fingerprint(),
                }
            })
            .collect();
        hits.sort_by(|a, b| {
            a.likely_false_positive
                .cmp(&b.likely_false_positive)
                .then(b.score.total_cmp(&a.score))
        });
        hits
    }
}

/// The names of an entry to index: its own and each alias.
pub fn listed_names(id: u32, e: &ListEntry) -> Vec<ListedName> {
    let person = e.kind == EntryKind::Individual;
    std::iter::once(ListedName {
        entry: id,
        name: e.name.clone(),
        alias: None,
        person,
        weak: false,
        imo: e.imo.clone(),
    })
    .chain(e.aliases.iter().map(|a| ListedName {
        entry: id,
        name: a.name.clone(),
        alias: Some(a.kind),
        person,
        weak: a.weak,
        imo: Vec::new(),
    }))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lists::DateOfBirth;

    fn screener() -> Screener {
        let person = |id: &str, name: &str, dob: &str, nat: &str| ListEntry {
            programs: vec!["SDGT".into()],
            dates_of_birth: vec![DateOfBirth::parse_ofac(dob).unwrap()],
            nationalities: vec![nat.into()],
            ..ListEntry::new(id, name, EntryKind::Individual)
        };
        Screener::new(vec![LoadedList {
            source: Source::OfacSdn,
            list_id: "sl_1".into(),
            list_date: "2024-05-03".into(),
            entries: vec![
                person("7", "HASSAN, Ali Mohammed", "1962", "IRN"),
                ListEntry {
                    kind: EntryKind::Entity,
                    dates_of_birth: vec![],
                    nationalities: vec![],
                    countries: vec!["CUB".into()],
                    ..person("306", "BANCO NACIONAL DE CUBA", "1962", "CUB")
                },
            ],
        }])
    }

    #[test]
    fn hits_in_evidence_name_their_entry() {
        let h = serde_json::json!({ "list": "un-consolidated", "entry_id": "QDi.001" });
        assert_eq!(
            hit_entry(&h),
            Some(("un-consolidated".into(), "QDi.001".into()))
        );
        // Evidence written before entry ids.
        let old = serde_json::json!({ "list": "ofac-sdn", "ent_num": 306 });
        assert_eq!(hit_entry(&old), Some(("ofac-sdn".into(), "306".into())));
        assert_eq!(hit_entry(&serde_json::json!({ "ent_num": 306 })), None);
    }

    #[test]
    fn dates_of_birth_and_countries_weigh() {
        let s = screener();
        let mut who = Subject {
            name: "Ali Hassan".into(),
            kind: SubjectKind::Person,
            dob: None,
            country: None,
        };
        let plain = s.screen(&who, 0.85);
        assert_eq!(plain[0].entry_id, "7");
        assert_eq!(plain[0].ent_num, Some(7));
        assert!(!plain[0].likely_false_positive);
        who.dob = Some("1962-04-01".into());
        who.country = Some("IRN".into());
        let agree = s.screen(&who, 0.85);
        assert!(agree[0].score > plain[0].score);
        assert_eq!(agree[0].dob.verdict, Agreement::Agrees);
        who.dob = Some("1990-04-01".into());
        let other = s.screen(&who, 0.85);
        assert!(other[0].likely_false_positive);
        assert!(other[0].score < plain[0].score);
        assert_eq!(other[0].dob.verdict, Agreement::Contradicts);
        let bank = Subject {
            name: "Banco Nacional de Cuba".into(),
            kind: SubjectKind::Business,
            dob: None,
            country: Some("USA".into()),
        };
        let hit = &s.screen(&bank, 0.85)[0];
        assert!(hit.likely_false_positive);
        assert_eq!(hit.country.verdict, Agreement::Contradicts);
    }
}
