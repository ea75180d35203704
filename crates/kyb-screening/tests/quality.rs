//! The screening evaluation held to its floor on the real lists in testdata/: every SDN
//! name and alias finds its own entry, variants are found 98 % of the time or more, and at most
//! 1 % of real US company names raise a hit. Also: both list dates parse, and the newer one is
//! a superset-sized update of the older.

use kyb_screening::evaluation::evaluate;
use kyb_screening::{listed_names, parse_sdn, Index, SdnEntry};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

fn load(date: &str) -> Vec<SdnEntry> {
    let bytes = std::fs::read(format!("{DATA}/ofac/sdn-{date}.csv")).unwrap();
    parse_sdn(&bytes).unwrap()
}

fn sec_names() -> Vec<String> {
    let raw = std::fs::read_to_string(format!("{DATA}/sec/company_tickers.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    v.as_object()
        .unwrap()
        .values()
        .map(|c| c["title"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn both_list_dates_parse() {
    let older = load("2024-04-26");
    let newer = load("2024-05-03");
    assert_eq!(older.len(), 14668);
    assert_eq!(newer.len(), 14965);
    let aliases: usize = newer.iter().map(|e| e.aliases.len()).sum();
    assert!(
        aliases > 3_000,
        "aliases come out of the remarks: {aliases}"
    );
    assert!(newer.iter().any(|e| e.programs.len() > 1));
}

#[test]
fn quality_on_the_real_lists() {
    let entries = load("2024-05-03");
    let index = Index::build(listed_names(&entries));
    let companies = sec_names();
    assert!(companies.len() > 10_000);
    let r = evaluate(&entries, &index, &companies, 20240503);
    assert_eq!(
        r.own_names.found, r.own_names.total,
        "every name and alias finds its own entry; missed {:?}",
        r.own_names.misses
    );
    for (label, s) in [
        ("one typo", &r.typo),
        ("legal form", &r.legal_form),
        ("reordered", &r.reordered),
        ("all variants", &r.all_variants),
    ] {
        assert!(
            s.percent() >= 98.0,
            "{label}: {:.2} %, e.g. {:?}",
            s.percent(),
            s.misses
        );
    }
    assert!(
        r.false_positives.percent() <= 1.0,
        "{:.2} % of company names hit, e.g. {:?}",
        r.false_positives.percent(),
        r.false_positives.misses
    );
}
