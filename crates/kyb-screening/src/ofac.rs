//! The OFAC SDN list in its official CSV form (`sdn.csv`): twelve columns, no header, `-0- ` for
//! an empty field, aliases inside the remarks (`a.k.a. 'NAME'`, `f.k.a.`, `n.k.a.`), programs as
//! `SDGT] [IRAN`, and a DOS end-of-file byte (0x1A) after the last line.

use serde::{Deserialize, Serialize};

/// What kind of thing an entry is (the `SDN_Type` column; empty means an entity).
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AliasKind {
    /// also known as
    Aka,
    /// formerly known as
    Fka,
    /// now known as
    Nka,
}

impl AliasKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aka => "aka",
            Self::Fka => "fka",
            Self::Nka => "nka",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    pub kind: AliasKind,
    pub name: String,
}

/// One row of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdnEntry {
    /// `ent_num`: OFAC's own number of the entry.
    pub ent_num: i64,
    pub name: String,
    pub kind: EntryKind,
    pub programs: Vec<String>,
    pub title: Option<String>,
    pub remarks: Option<String>,
    pub aliases: Vec<Alias>,
}

/// A file that is not an SDN list, with the line at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ParseError {
    pub line: u64,
    pub reason: String,
}

const EMPTY: &str = "-0-";
const COLUMNS: usize = 12;

fn field(raw: &str) -> Option<String> {
    let t = raw.trim();
    (!t.is_empty() && t != EMPTY).then(|| t.to_owned())
}

/// Parses a whole `sdn.csv`. Text that is not UTF-8 is read as Windows-1252 (OFAC's files are
/// ASCII today). Any bad row fails the whole file, naming its line.
pub fn parse_sdn(bytes: &[u8]) -> Result<Vec<SdnEntry>, ParseError> {
    let mut bytes = bytes;
    // The DOS end-of-file marker, and anything blank after it.
    while let Some((&last, rest)) = bytes.split_last() {
        if last == 0x1A || last.is_ascii_whitespace() {
            bytes = rest;
        } else {
            break;
        }
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0,
    };
    if let Some(at) = text.find('\u{1A}') {
        let line = text[..at].matches('\n').count() as u64 + 1;
        return Err(ParseError {
            line,
            reason: "an end-of-file byte (0x1A) before the end of the file".into(),
        });
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut entries = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for record in reader.records() {
        let record = record.map_err(|e| ParseError {
            line: e.position().map_or(0, |p| p.line()),
            reason: format!("not valid CSV ({e})"),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let fail = |reason: String| ParseError { line, reason };
        if record.len() == 1 && record[0].trim().is_empty() {
            continue;
        }
        if record.len() != COLUMNS {
            return Err(fail(format!(
                "{} columns, an SDN row has {COLUMNS} (ent_num, name, type, program, title, call sign, vessel type, tonnage, GRT, vessel flag, vessel owner, remarks)",
                record.len()
            )));
        }
        let ent_num: i64 = record[0]
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                fail(format!(
                    "ent_num {:?} is not a positive whole number",
                    &record[0]
                ))
            })?;
        if !seen.insert(ent_num) {
            return Err(fail(format!("ent_num {ent_num} appears twice")));
        }
        let name = field(&record[1]).ok_or_else(|| fail(format!("entry {ent_num} has no name")))?;
        let kind = match field(&record[2]).as_deref() {
            None => EntryKind::Entity,
            Some(t) => EntryKind::parse(&t.to_ascii_lowercase()).ok_or_else(|| {
                fail(format!(
                    "entry {ent_num} has type {t:?}; expected individual, vessel, aircraft or -0- (entity)"
                ))
            })?,
        };
        let programs = field(&record[3])
            .map(|p| {
                p.split("] [")
                    .map(|s| {
                        s.trim_matches(|c| c == '[' || c == ']' || c == ' ')
                            .to_owned()
                    })
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let remarks = field(&record[11]);
        let aliases = remarks.as_deref().map(aliases_in).unwrap_or_default();
        entries.push(SdnEntry {
            ent_num,
            name,
            kind,
            programs,
            title: field(&record[4]),
            remarks,
            aliases,
        });
    }
    if entries.is_empty() {
        return Err(ParseError {
            line: 1,
            reason: "the file has no entries".into(),
        });
    }
    Ok(entries)
}

/// The aliases written in a remarks field: `a.k.a. 'X'; f.k.a. 'Y'.` A name may itself hold an
/// apostrophe (`a.k.a. 'ABU-'UMAR'`): it ends at a quote followed by `;`, `.`, `,`, `)` or the end.
pub fn aliases_in(remarks: &str) -> Vec<Alias> {
    let mut out = Vec::new();
    let lower = remarks.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = ["a.k.a.", "f.k.a.", "n.k.a."]
        .iter()
        .filter_map(|m| lower[from..].find(m).map(|i| (from + i, *m)))
        .min_by_key(|(i, _)| *i)
    {
        let (at, marker) = found;
        let kind = match marker {
            "a.k.a." => AliasKind::Aka,
            "f.k.a." => AliasKind::Fka,
            _ => AliasKind::Nka,
        };
        let rest = &remarks[at + marker.len()..];
        let rest_trim = rest.trim_start_matches([' ', ',']);
        from = at + marker.len();
        let Some(body) = rest_trim.strip_prefix('\'') else {
            continue;
        };
        let bytes = body.as_bytes();
        let end = (0..bytes.len()).find(|&i| {
            bytes[i] == b'\''
                && bytes
                    .get(i + 1)
                    .is_none_or(|c| matches!(c, b';' | b'.' | b',' | b')'))
        });
        if let Some(end) = end {
            let name = body[..end].trim();
            if !name.is_empty() {
                out.push(Alias {
                    kind,
                    name: name.to_owned(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_markers_aliases_and_the_end_byte() {
        let csv = b"306,\"BANCO NACIONAL DE CUBA\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"a.k.a. 'BNC'.\"\r\n\
7,\"X, Abu\",\"individual\",\"SDGT] [IRAN\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 1951; a.k.a. 'ABU-'UMAR'; f.k.a. 'OLD NAME, LTD.'.\"\r\n\x1a";
        let entries = parse_sdn(csv).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].kind, EntryKind::Entity);
        assert_eq!(entries[0].title, None);
        assert_eq!(entries[0].aliases[0].name, "BNC");
        assert_eq!(entries[1].kind, EntryKind::Individual);
        assert_eq!(entries[1].programs, ["SDGT", "IRAN"]);
        let names: Vec<&str> = entries[1].aliases.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["ABU-'UMAR", "OLD NAME, LTD."]);
        assert_eq!(entries[1].aliases[1].kind, AliasKind::Fka);
    }

    #[test]
    fn bad_files_name_the_line() {
        let short = b"1,\"A\",-0- ,\"CUBA\"\n";
        let e = parse_sdn(short).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.reason.contains("4 columns"), "{e}");
        let twice = b"1,\"A\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n1,\"B\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n";
        assert_eq!(parse_sdn(twice).unwrap_err().line, 2);
        let kind = b"1,\"A\",\"ship\",\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n";
        assert!(parse_sdn(kind).unwrap_err().reason.contains("ship"));
        assert!(parse_sdn(b"").is_err());
        assert!(parse_sdn(b"{\"not\": \"csv\"}").is_err());
    }
}
