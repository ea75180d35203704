//! The UN Security Council Consolidated List in its official XML: `INDIVIDUALS` and
//! `ENTITIES`, names in up to four parts, the name in its original script, aliases with their
//! quality (`Good`, `Low`), dates of birth (exact, approximate, between two years), nationality,
//! addresses, and the reference number (`QDi.001`) that is the entry's id.

use super::countries;
use super::{push_once, Alias, AliasKind, DateOfBirth, EntryKind, ListEntry, ParseError, Parsed};
use roxmltree::{Document, Node};

fn child<'a>(n: Node<'a, 'a>, name: &str) -> Option<Node<'a, 'a>> {
    n.children().find(|c| c.has_tag_name(name))
}

fn children<'a>(n: Node<'a, 'a>, name: &'a str) -> impl Iterator<Item = Node<'a, 'a>> + 'a {
    n.children().filter(move |c| c.has_tag_name(name))
}

fn text(n: Node<'_, '_>, name: &str) -> Option<String> {
    child(n, name)
        .and_then(|c| c.text())
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty())
}

/// The `VALUE`s of a repeated element (`NATIONALITY`, `TITLE`, `DESIGNATION`).
fn values(n: Node<'_, '_>, name: &str) -> Vec<String> {
    children(n, name)
        .flat_map(|c| c.children().filter(|v| v.has_tag_name("VALUE")))
        .filter_map(|v| v.text())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Parses the whole file. Any entry without a reference number or a name fails the file,
/// naming the element and its line.
pub fn parse(file: &str, bytes: &[u8]) -> Result<Parsed, ParseError> {
    let fail = |place: String, reason: String| ParseError {
        file: file.to_owned(),
        place,
        reason,
    };
    let xml = std::str::from_utf8(bytes).map_err(|e| {
        fail(
            "byte ".to_owned() + &e.valid_up_to().to_string(),
            "not UTF-8".into(),
        )
    })?;
    let doc = Document::parse(xml).map_err(|e| {
        let p = e.pos();
        fail(
            format!("line {}", p.row),
            format!("not well-formed XML ({e})"),
        )
    })?;
    let root = doc.root_element();
    if !root.has_tag_name("CONSOLIDATED_LIST") {
        return Err(fail(
            "line 1".into(),
            format!(
                "the root element is <{}>, not <CONSOLIDATED_LIST> (the UN consolidated list's XML)",
                root.tag_name().name()
            ),
        ));
    }
    let date = root
        .attribute("dateGenerated")
        .and_then(|d| d.get(..10))
        .filter(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok())
        .map(str::to_owned);
    let mut entries = Vec::new();
    for (group, tag, kind) in [
        ("INDIVIDUALS", "INDIVIDUAL", EntryKind::Individual),
        ("ENTITIES", "ENTITY", EntryKind::Entity),
    ] {
        for g in children(root, group) {
            for n in children(g, tag) {
                // The line is counted only for an error: counting it for every entry would
                // read the file again each time.
                entries.push(entry(n, kind).map_err(|reason| {
                    let line = doc.text_pos_at(n.range().start).row;
                    fail(format!("{tag} at line {line}"), reason)
                })?);
            }
        }
    }
    if entries.is_empty() {
        return Err(fail(
            "line 1".into(),
            "the list has no INDIVIDUAL or ENTITY".into(),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for e in &entries {
        if !seen.insert(e.id.as_str()) {
            return Err(fail(
                format!("REFERENCE_NUMBER {}", e.id),
                "the reference number appears twice".into(),
            ));
        }
    }
    Ok(Parsed {
        entries,
        orphans: Vec::new(),
        date,
    })
}

fn entry(n: Node<'_, '_>, kind: EntryKind) -> Result<ListEntry, String> {
    let id = text(n, "REFERENCE_NUMBER").ok_or("it has no REFERENCE_NUMBER")?;
    let parts: Vec<String> = ["FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"]
        .iter()
        .filter_map(|p| text(n, p))
        .collect();
    if parts.is_empty() {
        return Err(format!("{id} has no FIRST_NAME"));
    }
    let mut e = ListEntry {
        programs: text(n, "UN_LIST_TYPE").into_iter().collect(),
        listed_on: text(n, "LISTED_ON").filter(|d| d.len() == 10),
        title: values(n, "TITLE").first().cloned(),
        remarks: text(n, "COMMENTS1"),
        ..ListEntry::new(id, parts.join(" "), kind)
    };
    if let Some(original) = text(n, "NAME_ORIGINAL_SCRIPT") {
        e.aliases.push(Alias {
            kind: AliasKind::OriginalScript,
            name: original,
            weak: false,
        });
    }
    let alias_tag = if kind == EntryKind::Individual {
        "INDIVIDUAL_ALIAS"
    } else {
        "ENTITY_ALIAS"
    };
    for a in children(n, alias_tag) {
        let Some(name) = text(a, "ALIAS_NAME") else {
            continue;
        };
        let quality = text(a, "QUALITY").unwrap_or_default().to_ascii_lowercase();
        let alias = Alias {
            kind: if quality == "f.k.a." {
                AliasKind::Fka
            } else {
                AliasKind::Aka
            },
            name,
            weak: quality == "low",
        };
        if !e.aliases.contains(&alias) {
            e.aliases.push(alias);
        }
    }
    for nationality in values(n, "NATIONALITY") {
        if let Some(code) = countries::code(&nationality) {
            push_once(&mut e.nationalities, code);
        }
    }
    let address_tag = if kind == EntryKind::Individual {
        "INDIVIDUAL_ADDRESS"
    } else {
        "ENTITY_ADDRESS"
    };
    for a in children(n, address_tag) {
        if let Some(code) = text(a, "COUNTRY").and_then(|c| countries::code(&c)) {
            push_once(&mut e.countries, code);
        }
    }
    for p in children(n, "INDIVIDUAL_PLACE_OF_BIRTH") {
        let place: Vec<String> = ["CITY", "STATE_PROVINCE", "COUNTRY"]
            .iter()
            .filter_map(|t| text(p, t))
            .collect();
        if !place.is_empty() {
            push_once(&mut e.places_of_birth, place.join(", "));
        }
        if let Some(code) = text(p, "COUNTRY").and_then(|c| countries::code(&c)) {
            push_once(&mut e.countries, code);
        }
    }
    for d in children(n, "INDIVIDUAL_DATE_OF_BIRTH") {
        let how = text(d, "TYPE_OF_DATE")
            .unwrap_or_default()
            .to_ascii_uppercase();
        let approximate = how == "APPROXIMATELY";
        let dob = if how == "BETWEEN" {
            match (text(d, "FROM_YEAR"), text(d, "TO_YEAR")) {
                (Some(a), Some(b)) => a
                    .parse()
                    .ok()
                    .zip(b.parse().ok())
                    .and_then(|(a, b)| DateOfBirth::between(a, b)),
                _ => None,
            }
        } else {
            text(d, "DATE")
                .or_else(|| text(d, "YEAR"))
                .and_then(|t| DateOfBirth::parse_iso(&t, approximate))
        };
        if let Some(dob) = dob {
            if !e.dates_of_birth.contains(&dob) {
                e.dates_of_birth.push(dob);
            }
        }
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2026-02-27T00:00:09.554Z">
  <INDIVIDUALS>
    <INDIVIDUAL>
      <FIRST_NAME>SADDAM</FIRST_NAME><SECOND_NAME>HUSSEIN</SECOND_NAME><THIRD_NAME>AL-TIKRITI</THIRD_NAME>
      <UN_LIST_TYPE>Iraq</UN_LIST_TYPE><REFERENCE_NUMBER>IQi.001</REFERENCE_NUMBER><LISTED_ON>2003-06-27</LISTED_ON>
      <NAME_ORIGINAL_SCRIPT>صدام حسين التكريتي</NAME_ORIGINAL_SCRIPT>
      <NATIONALITY><VALUE>Iraq</VALUE></NATIONALITY>
      <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Abu Ali</ALIAS_NAME></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>Abu Udayy</ALIAS_NAME></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1937-04-28</DATE></INDIVIDUAL_DATE_OF_BIRTH>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1935</FROM_YEAR><TO_YEAR>1939</TO_YEAR></INDIVIDUAL_DATE_OF_BIRTH>
      <INDIVIDUAL_PLACE_OF_BIRTH><CITY>al-Awja</CITY><COUNTRY>Iraq</COUNTRY></INDIVIDUAL_PLACE_OF_BIRTH>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES>
    <ENTITY>
      <FIRST_NAME>AL-QAIDA</FIRST_NAME><UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE><REFERENCE_NUMBER>QDe.004</REFERENCE_NUMBER>
      <ENTITY_ALIAS><QUALITY>a.k.a.</QUALITY><ALIAS_NAME>The Base</ALIAS_NAME></ENTITY_ALIAS>
      <ENTITY_ADDRESS><COUNTRY>Afghanistan</COUNTRY></ENTITY_ADDRESS>
    </ENTITY>
  </ENTITIES>
</CONSOLIDATED_LIST>"#;

    #[test]
    fn individuals_and_entities() {
        let p = parse("un.xml", SAMPLE.as_bytes()).unwrap();
        assert_eq!(p.date.as_deref(), Some("2026-02-27"));
        let s = &p.entries[0];
        assert_eq!(s.id, "IQi.001");
        assert_eq!(s.name, "SADDAM HUSSEIN AL-TIKRITI");
        assert_eq!(s.kind, EntryKind::Individual);
        assert_eq!(s.listed_on.as_deref(), Some("2003-06-27"));
        assert_eq!(s.nationalities, ["IRQ"]);
        assert_eq!(s.aliases[0].kind, AliasKind::OriginalScript);
        assert!(s.aliases.iter().any(|a| a.name == "Abu Udayy" && a.weak));
        assert!(s.aliases.iter().any(|a| a.name == "Abu Ali" && !a.weak));
        assert_eq!(s.dates_of_birth.len(), 2);
        assert_eq!(s.dates_of_birth[1].year_to, 1939);
        let q = &p.entries[1];
        assert_eq!((q.id.as_str(), q.kind), ("QDe.004", EntryKind::Entity));
        assert_eq!(q.countries, ["AFG"]);
    }

    #[test]
    fn bad_files_name_the_element() {
        let e = parse("un.xml", b"<CONSOLIDATED_LIST><INDIVIDUALS>").unwrap_err();
        assert!(e.reason.contains("not well-formed"), "{e}");
        let missing = SAMPLE.replace("<REFERENCE_NUMBER>QDe.004</REFERENCE_NUMBER>", "");
        let e = parse("un.xml", missing.as_bytes()).unwrap_err();
        assert!(e.place.starts_with("ENTITY at line"), "{e}");
        assert!(e.reason.contains("REFERENCE_NUMBER"), "{e}");
        let e = parse("un.xml", b"<sdnList/>").unwrap_err();
        assert!(e.reason.contains("CONSOLIDATED_LIST"), "{e}");
    }
}
