//! OFAC's lists in their official CSV publication: the SDN list (`sdn.csv`, `alt.csv`,
//! `add.csv`, `sdn_comments.csv`) and the consolidated non-SDN list (`cons_prim.csv`,
//! `cons_alt.csv`, `cons_add.csv`, `cons_comments.csv`), in the same four-file format. No header
//! row, `-0-` for an empty field, a DOS end-of-file byte (0x1A) after the last line.
//!
//! - the main file: `ent_num, name, type, programs, title, call sign, vessel type, tonnage, GRT,
//!   vessel flag, vessel owner, remarks` (`SDGT] [IRAN` for two programs);
//! - `alt`: the strong aliases, `ent_num, alt_num, type (aka/fka/nka), name, remarks`;
//! - `add`: addresses, `ent_num, add_num, address, city/state/postal, country, remarks`;
//! - `comments`: `ent_num, remarks` that continue remarks cut off in the main file.
//!
//! The remarks hold the weak aliases (`a.k.a. 'X'`), dates and places of birth,
//! nationalities and citizenships, and IMO numbers of vessels.

use std::collections::HashMap;

use super::countries;
use super::{push_once, Alias, AliasKind, DateOfBirth, EntryKind, ListEntry, ParseError, Parsed};

const EMPTY: &str = "-0-";

fn field(raw: &str) -> Option<String> {
    let t = raw.trim();
    (!t.is_empty() && t != EMPTY).then(|| t.to_owned())
}

/// One file of a publication: its name (for errors) and bytes.
#[derive(Debug, Clone, Copy)]
pub struct File<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// The files of one publication; only the main one is required.
#[derive(Debug, Clone, Copy)]
pub struct Files<'a> {
    pub main: File<'a>,
    pub alt: Option<File<'a>>,
    pub add: Option<File<'a>>,
    pub comments: Option<File<'a>>,
}

/// The rows of one file, as text (UTF-8, else Windows-1252), without the end byte.
fn rows(
    file: File<'_>,
    columns: usize,
    what: &str,
) -> Result<Vec<(u64, csv::StringRecord)>, ParseError> {
    let mut bytes = file.bytes;
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
        return Err(ParseError::at_line(
            file.name,
            line,
            "an end-of-file byte (0x1A) before the end of the file",
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    // Lines counted from the bytes: the CSV reader's own count does not see CRLF line ends,
    // which OFAC's files have, and puts a record after one at its `\n`. Counted on from the
    // previous record, records coming in order.
    let counted = std::cell::Cell::new((0usize, 1u64));
    let line_at = |byte: u64| {
        let at = (byte as usize).min(text.len());
        let start = text[at..]
            .find(|c| c != '\r' && c != '\n')
            .map_or(text.len(), |i| at + i);
        let (from, line) = counted.get();
        let (from, line) = if start >= from { (from, line) } else { (0, 1) };
        let line = line
            + text.as_bytes()[from..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
        counted.set((start, line));
        line
    };
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            ParseError::at_line(
                file.name,
                e.position().map_or(0, |p| line_at(p.byte())),
                format!("not valid CSV ({e})"),
            )
        })?;
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        if record.len() == 1 && record[0].trim().is_empty() {
            continue;
        }
        if record.len() != columns {
            return Err(ParseError::at_line(
                file.name,
                line,
                format!("{} columns, a row of {what} has {columns}", record.len()),
            ));
        }
        out.push((line, record));
    }
    Ok(out)
}

fn ent_num(file: &str, line: u64, raw: &str) -> Result<i64, ParseError> {
    raw.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        ParseError::at_line(
            file,
            line,
            format!("ent_num {raw:?} is not a positive whole number"),
        )
    })
}

/// Parses a publication. A bad row of any file fails the whole list, naming the file and line;
/// rows of the companion files whose `ent_num` is not in the main file are counted.
pub fn parse(files: &Files<'_>) -> Result<Parsed, ParseError> {
    let main = files.main;
    let mut entries: Vec<ListEntry> = Vec::new();
    let mut at: HashMap<i64, usize> = HashMap::new();
    let mut remarks_of: Vec<Option<String>> = Vec::new();
    for (line, r) in rows(
        main,
        12,
        "the main file (ent_num, name, type, program, title, call sign, vessel type, tonnage, GRT, vessel flag, vessel owner, remarks)",
    )? {
        let fail = |reason: String| ParseError::at_line(main.name, line, reason);
        let num = ent_num(main.name, line, &r[0])?;
        if at.insert(num, entries.len()).is_some() {
            return Err(fail(format!("ent_num {num} appears twice")));
        }
        let name = field(&r[1]).ok_or_else(|| fail(format!("entry {num} has no name")))?;
        let kind = match field(&r[2]).as_deref() {
            None => EntryKind::Entity,
            Some(t) => EntryKind::parse(&t.to_ascii_lowercase()).ok_or_else(|| {
                fail(format!(
                    "entry {num} has type {t:?}; expected individual, vessel, aircraft or -0- (entity)"
                ))
            })?,
        };
        let programs = field(&r[3])
            .map(|p| {
                p.split("] [")
                    .map(|s| s.trim_matches(|c| c == '[' || c == ']' || c == ' ').to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let mut entry = ListEntry {
            programs,
            title: field(&r[4]),
            ..ListEntry::new(num.to_string(), name, kind)
        };
        if let Some(flag) = field(&r[9]).and_then(|f| countries::code(&f)) {
            push_once(&mut entry.countries, flag);
        }
        remarks_of.push(field(&r[11]));
        entries.push(entry);
    }
    if entries.is_empty() {
        return Err(ParseError::at_line(main.name, 1, "the file has no entries"));
    }
    let mut orphans = Vec::new();
    if let Some(f) = files.comments {
        let mut lost = 0;
        for (line, r) in rows(f, 2, "the comments file (ent_num, remarks)")? {
            let num = ent_num(f.name, line, &r[0])?;
            match at.get(&num) {
                Some(&i) => {
                    let more = r[1].trim_end();
                    let joined = format!("{}{more}", remarks_of[i].take().unwrap_or_default());
                    remarks_of[i] = Some(joined);
                }
                None => lost += 1,
            }
        }
        orphans.push((f.name.to_owned(), lost));
    }
    for (e, remarks) in entries.iter_mut().zip(remarks_of) {
        if let Some(r) = remarks {
            read_remarks(e, &r);
            e.remarks = Some(r);
        }
    }
    if let Some(f) = files.alt {
        let mut lost = 0;
        for (line, r) in rows(
            f,
            5,
            "the aliases file (ent_num, alt_num, type, name, remarks)",
        )? {
            let num = ent_num(f.name, line, &r[0])?;
            let kind = match field(&r[2]).map(|t| t.to_ascii_lowercase()).as_deref() {
                Some("aka") => AliasKind::Aka,
                Some("fka") => AliasKind::Fka,
                Some("nka") => AliasKind::Nka,
                other => {
                    return Err(ParseError::at_line(
                        f.name,
                        line,
                        format!("alias type {other:?}; expected aka, fka or nka"),
                    ))
                }
            };
            let name = field(&r[3]).ok_or_else(|| {
                ParseError::at_line(
                    f.name,
                    line,
                    format!("the alias of entry {num} has no name"),
                )
            })?;
            match at.get(&num) {
                Some(&i) => {
                    let alias = Alias {
                        kind,
                        name,
                        weak: false,
                    };
                    if !entries[i].aliases.contains(&alias) {
                        entries[i].aliases.push(alias);
                    }
                }
                None => lost += 1,
            }
        }
        orphans.push((f.name.to_owned(), lost));
    }
    if let Some(f) = files.add {
        let mut lost = 0;
        for (line, r) in rows(
            f,
            6,
            "the addresses file (ent_num, add_num, address, city, country, remarks)",
        )? {
            let num = ent_num(f.name, line, &r[0])?;
            match at.get(&num) {
                Some(&i) => {
                    if let Some(code) = field(&r[4]).and_then(|c| countries::code(&c)) {
                        push_once(&mut entries[i].countries, code);
                    }
                }
                None => lost += 1,
            }
        }
        orphans.push((f.name.to_owned(), lost));
    }
    Ok(Parsed {
        entries,
        orphans,
        date: None,
    })
}

/// Parses a main file alone (`sdn.csv`).
pub fn parse_main(bytes: &[u8]) -> Result<Vec<ListEntry>, ParseError> {
    parse(&Files {
        main: File {
            name: "sdn.csv",
            bytes,
        },
        alt: None,
        add: None,
        comments: None,
    })
    .map(|p| p.entries)
}

/// Fills in what an entry's remarks say (for entries stored before these were kept apart):
/// the aliases written there are weak ones.
pub fn complete_from_remarks(e: &mut ListEntry) {
    if let Some(r) = e.remarks.clone() {
        read_remarks(e, &r);
    }
}

/// What the remarks say: weak aliases, dates and places of birth, nationalities, citizenships,
/// the flag of a vessel's registration, IMO numbers.
fn read_remarks(e: &mut ListEntry, remarks: &str) {
    for alias in aliases_in(remarks) {
        match e
            .aliases
            .iter_mut()
            .find(|a| a.kind == alias.kind && a.name == alias.name)
        {
            Some(a) => a.weak = true,
            None => e.aliases.push(alias),
        }
    }
    for part in remarks.split(';') {
        let part = part.trim().trim_end_matches('.');
        let part = part.strip_prefix("alt. ").unwrap_or(part);
        if let Some(d) = part.strip_prefix("DOB ") {
            if let Some(dob) = DateOfBirth::parse_ofac(d) {
                if !e.dates_of_birth.contains(&dob) {
                    e.dates_of_birth.push(dob);
                }
            }
        } else if let Some(p) = part.strip_prefix("POB ") {
            push_once(&mut e.places_of_birth, p.to_owned());
            // The country is the last part of a place of birth, or the whole.
            let country = p.rsplit(',').next().unwrap_or(p);
            let country = country.split('(').next().unwrap_or(country);
            if let Some(code) = countries::code(country).or_else(|| countries::code(p)) {
                push_once(&mut e.countries, code);
            }
        } else if let Some(n) = part
            .strip_prefix("nationality ")
            .or_else(|| part.strip_prefix("citizen "))
        {
            if let Some(code) = countries::code(n) {
                push_once(&mut e.nationalities, code);
            }
        } else if let Some(n) = part.strip_prefix("Nationality of Registration ") {
            if let Some(code) = countries::code(n) {
                push_once(&mut e.countries, code);
            }
        } else if let Some(at) = part.find("IMO ") {
            let number: String = part[at + 4..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if number.len() == 7 {
                push_once(&mut e.imo, number);
            }
        }
    }
}

/// The aliases written in a remarks field: `a.k.a. 'X'; f.k.a. 'Y'.` OFAC puts its weak
/// aliases there. A name may itself hold an apostrophe (`a.k.a. 'ABU-'UMAR'`): it ends at a quote
/// followed by `;`, `.`, `,`, `)` or the end.
pub fn aliases_in(remarks: &str) -> Vec<Alias> {
    let mut out = Vec::new();
    let lower = remarks.to_ascii_lowercase();
    let mut from = 0;
    while let Some((at, marker)) = ["a.k.a.", "f.k.a.", "n.k.a."]
        .iter()
        .filter_map(|m| lower[from..].find(m).map(|i| (from + i, *m)))
        .min_by_key(|(i, _)| *i)
    {
        let kind = match marker {
            "a.k.a." => AliasKind::Aka,
            "f.k.a." => AliasKind::Fka,
            _ => AliasKind::Nka,
        };
        let rest = remarks[at + marker.len()..].trim_start_matches([' ', ',']);
        from = at + marker.len();
        let Some(body) = rest.strip_prefix('\'') else {
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
                    weak: true,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIN: &[u8] = b"306,\"BANCO NACIONAL DE CUBA\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"a.k.a. 'BNC'.\"\r\n\
7,\"X, Abu\",\"individual\",\"SDGT] [IRAN\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 1951; alt. DOB 10 Dec 1953; POB Giza, Egypt; nationality Iran; a.k.a. 'ABU-'UMAR'; f.k.a. 'OLD NAME, LTD.'; Gender Male; Registration Nu\"\r\n\
4243,\"EBANO\",\"vessel\",\"CUBA\",-0- ,-0- ,\"General Cargo\",\"2595\",\"1865\",\"Panama\",-0- ,\"Vessel Registration Identification IMO 7406784.\"\r\n\x1a";

    #[test]
    fn rows_markers_remarks_and_the_end_byte() {
        let entries = parse_main(MAIN).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].kind, EntryKind::Entity);
        assert_eq!(entries[0].aliases[0].name, "BNC");
        assert!(entries[0].aliases[0].weak);
        let x = &entries[1];
        assert_eq!(x.kind, EntryKind::Individual);
        assert_eq!(x.programs, ["SDGT", "IRAN"]);
        let names: Vec<&str> = x.aliases.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["ABU-'UMAR", "OLD NAME, LTD."]);
        assert_eq!(x.aliases[1].kind, AliasKind::Fka);
        let years: Vec<i32> = x.dates_of_birth.iter().map(|d| d.year_from).collect();
        assert_eq!(years, [1951, 1953]);
        assert_eq!(x.nationalities, ["IRN"]);
        assert_eq!(x.countries, ["EGY"]);
        assert_eq!(entries[2].imo, ["7406784"]);
        assert_eq!(entries[2].countries, ["PAN"]);
    }

    #[test]
    fn companions_join_by_ent_num() {
        let alt =
            b"306,220,\"aka\",\"NATIONAL BANK OF CUBA\",-0- \r\n999,1,\"aka\",\"NOBODY\",-0- \r\n";
        let add = b"306,199,\"Zweierstrasse 35\",\"Zurich CH-8022\",\"Switzerland\",-0- \r\n";
        let comments = b"7,\"mber 12345 (Iran).\"\r\n";
        let parsed = parse(&Files {
            main: File {
                name: "sdn.csv",
                bytes: MAIN,
            },
            alt: Some(File {
                name: "alt.csv",
                bytes: alt,
            }),
            add: Some(File {
                name: "add.csv",
                bytes: add,
            }),
            comments: Some(File {
                name: "sdn_comments.csv",
                bytes: comments,
            }),
        })
        .unwrap();
        let bnc = &parsed.entries[0];
        assert!(bnc
            .aliases
            .iter()
            .any(|a| a.name == "NATIONAL BANK OF CUBA" && !a.weak));
        assert_eq!(bnc.countries, ["CHE"]);
        assert!(parsed.entries[1]
            .remarks
            .as_deref()
            .unwrap()
            .ends_with("Registration Number 12345 (Iran)."));
        assert!(parsed.orphans.contains(&("alt.csv".to_owned(), 1)));
        assert!(parsed.orphans.contains(&("sdn_comments.csv".to_owned(), 0)));
    }

    #[test]
    fn bad_files_name_the_file_and_line() {
        let crlf = b"1,\"A\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n2,\"B\"\r\n";
        assert_eq!(
            parse_main(crlf).unwrap_err().place,
            "line 2",
            "CRLF lines count"
        );
        let e = parse_main(b"1,\"A\",-0- ,\"CUBA\"\n").unwrap_err();
        assert_eq!(e.place, "line 1");
        assert!(e.reason.contains("4 columns"), "{e}");
        let twice = b"1,\"A\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n1,\"B\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n";
        assert_eq!(parse_main(twice).unwrap_err().place, "line 2");
        let kind = b"1,\"A\",\"ship\",\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n";
        assert!(parse_main(kind).unwrap_err().reason.contains("ship"));
        assert!(parse_main(b"").is_err());
        assert!(parse_main(b"{\"not\": \"csv\"}").is_err());
        let bad_alt = parse(&Files {
            main: File {
                name: "sdn.csv",
                bytes: MAIN,
            },
            alt: Some(File {
                name: "alt.csv",
                bytes: b"306,1,\"aka\",\"X\"\n",
            }),
            add: None,
            comments: None,
        })
        .unwrap_err();
        assert_eq!(
            (bad_alt.file.as_str(), bad_alt.place.as_str()),
            ("alt.csv", "line 1")
        );
    }
}
