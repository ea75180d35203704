//! Sanctions lists in one shape, whatever their publisher's format: each entry with the list's
//! own id for it, its names (primary, aliases with their quality, names in their original
//! script), programs, listing date, dates of birth, nationalities, countries and IMO numbers.
//! Parsers: OFAC's four-file CSV publications (`ofac`, for the SDN and the consolidated
//! non-SDN lists) and the UN Security Council's consolidated XML (`un`).

pub mod countries;
pub mod dates;
pub mod ofac;
pub mod un;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use dates::DateOfBirth;

/// The list formats kyb reads. `as_str` is the name used on the command line and in evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Source {
    #[serde(rename = "ofac-sdn")]
    OfacSdn,
    #[serde(rename = "ofac-consolidated")]
    OfacConsolidated,
    #[serde(rename = "un-consolidated")]
    UnConsolidated,
}

impl Source {
    pub const ALL: [Source; 3] = [
        Source::OfacSdn,
        Source::OfacConsolidated,
        Source::UnConsolidated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OfacSdn => "ofac-sdn",
            Self::OfacConsolidated => "ofac-consolidated",
            Self::UnConsolidated => "un-consolidated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the list's entry ids are OFAC's `ent_num`.
    pub fn is_ofac(self) -> bool {
        matches!(self, Self::OfacSdn | Self::OfacConsolidated)
    }
}

/// What kind of thing an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Entity,
    Individual,
    Vessel,
    Aircraft,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entity => "entity",
            Self::Individual => "individual",
            Self::Vessel => "vessel",
            Self::Aircraft => "aircraft",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Entity, Self::Individual, Self::Vessel, Self::Aircraft]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// How an alias relates to the entry's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AliasKind {
    /// also known as
    Aka,
    /// formerly known as
    Fka,
    /// now known as
    Nka,
    /// the name written in its original script (UN `NAME_ORIGINAL_SCRIPT`)
    OriginalScript,
}

impl AliasKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aka => "aka",
            Self::Fka => "fka",
            Self::Nka => "nka",
            Self::OriginalScript => "original_script",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Alias {
    pub kind: AliasKind,
    pub name: String,
    /// A weak alias (OFAC's a.k.a.s in the remarks, the UN's `Low` quality): broad or generic,
    /// so it raises a hit only at a higher score.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub weak: bool,
}

/// One entry of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    /// The list's own id: OFAC's `ent_num` (`306`), the UN's reference number (`QDi.001`).
    pub id: String,
    pub name: String,
    pub kind: EntryKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<Alias>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<String>,
    /// When the entry was listed (YYYY-MM-DD), where the list says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed_on: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dates_of_birth: Vec<DateOfBirth>,
    /// Nationalities and citizenships, as ISO 3166-1 alpha-3 codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nationalities: Vec<String>,
    /// Countries of addresses, places of birth and registration, as alpha-3 codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<String>,
    /// Places of birth as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub places_of_birth: Vec<String>,
    /// IMO numbers of vessels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imo: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

impl ListEntry {
    /// An entry with its id, name and kind, and nothing else known yet.
    pub fn new(id: impl Into<String>, name: impl Into<String>, kind: EntryKind) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            kind,
            aliases: Vec::new(),
            programs: Vec::new(),
            listed_on: None,
            dates_of_birth: Vec::new(),
            nationalities: Vec::new(),
            countries: Vec::new(),
            places_of_birth: Vec::new(),
            imo: Vec::new(),
            title: None,
            remarks: None,
        }
    }

    /// OFAC's `ent_num`, for OFAC entries.
    pub fn ent_num(&self) -> Option<i64> {
        self.id.parse().ok()
    }

    /// A digest of what identifies the entry: its names, dates of birth and countries. A
    /// reviewer's verdict on a hit holds while this stays the same.
    pub fn fingerprint(&self) -> String {
        let mut names: Vec<String> = std::iter::once(self.name.clone())
            .chain(self.aliases.iter().map(|a| a.name.clone()))
            .collect();
        names.sort();
        names.dedup();
        let mut dobs: Vec<String> = self.dates_of_birth.iter().map(|d| d.text.clone()).collect();
        dobs.sort();
        let mut countries: Vec<&str> = self
            .nationalities
            .iter()
            .chain(&self.countries)
            .map(String::as_str)
            .collect();
        countries.sort_unstable();
        countries.dedup();
        let canonical = serde_json::json!({
            "names": names, "dates_of_birth": dobs, "countries": countries,
        });
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// A list file (or set of files) that is not what its source says, with the place at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {place}: {reason}")]
pub struct ParseError {
    /// The file at fault (`sdn.csv`, `alt.csv`, the XML file).
    pub file: String,
    /// `line 3`, or an XML element with its line (`INDIVIDUAL at line 40`).
    pub place: String,
    pub reason: String,
}

impl ParseError {
    pub fn at_line(file: &str, line: u64, reason: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            place: format!("line {line}"),
            reason: reason.into(),
        }
    }
}

/// A parsed list: its entries, and what its companion files held that named no entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub entries: Vec<ListEntry>,
    /// `(file, rows)`: rows of a companion file whose entry is not in the main file (counted
    /// and reported, not fatal).
    pub orphans: Vec<(String, u64)>,
    /// The publication date found in the file itself (the UN's `dateGenerated`), YYYY-MM-DD.
    pub date: Option<String>,
}

impl Parsed {
    pub fn alias_count(&self) -> usize {
        self.entries.iter().map(|e| e.aliases.len()).sum()
    }
}

/// Adds `value` to `list` once.
pub(crate) fn push_once(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}
