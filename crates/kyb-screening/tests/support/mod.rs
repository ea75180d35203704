//! Loads the sample lists of `testdata/` as the product would: the OFAC SDN publication in its
//! four files, OFAC's consolidated non-SDN list, and the UN consolidated list. Shared by
//! `tests/quality.rs` and `benches/screening.rs`.

use kyb_screening::lists::{ofac, un};
use kyb_screening::{LoadedList, Source};

pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `names`: the main, aliases, addresses and comments files.
fn ofac_package(dir: &str, names: [&str; 4]) -> Vec<kyb_screening::ListEntry> {
    let files: Vec<(String, Vec<u8>)> = names
        .iter()
        .map(|f| {
            let name = (*f).to_owned();
            let bytes = read(&format!("{dir}/{name}"));
            (name, bytes)
        })
        .collect();
    let file = |i: usize| ofac::File {
        name: &files[i].0,
        bytes: &files[i].1,
    };
    ofac::parse(&ofac::Files {
        main: file(0),
        alt: Some(file(1)),
        add: Some(file(2)),
        comments: Some(file(3)),
    })
    .unwrap()
    .entries
}

pub fn lists() -> Vec<LoadedList> {
    let sdn = ofac_package(
        "ofac/older-package",
        ["sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"],
    );
    let cons = ofac_package(
        "ofac-consolidated/2025-12",
        [
            "cons_prim.csv",
            "cons_alt.csv",
            "cons_add.csv",
            "cons_comments.csv",
        ],
    );
    let un = un::parse("un.xml", &read("un/consolidated-2026-02-27.xml")).unwrap();
    vec![
        LoadedList {
            source: Source::OfacSdn,
            list_id: "sdn".into(),
            list_date: "older-package".into(),
            entries: sdn,
        },
        LoadedList {
            source: Source::OfacConsolidated,
            list_id: "cons".into(),
            list_date: "2025-12".into(),
            entries: cons,
        },
        LoadedList {
            source: Source::UnConsolidated,
            list_id: "un".into(),
            list_date: "2026-02-27".into(),
            entries: un.entries,
        },
    ]
}

/// The SEC's company names, one per registrant.
pub fn sec_names() -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&read("sec/company_tickers.json")).unwrap();
    let mut names: Vec<String> = v
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["title"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The generated common names of many cultures: (kind, locale, name).
pub fn common_names() -> Vec<(String, String, String)> {
    String::from_utf8(read("screening/common-names.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut p = l.splitn(3, '\t');
            let kind = p.next().unwrap().to_owned();
            let locale = p.next().unwrap().to_owned();
            (kind, locale, p.next().unwrap().to_owned())
        })
        .collect()
}
