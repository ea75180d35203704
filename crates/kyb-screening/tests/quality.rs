//! The screening evaluation held to its floor on the sample lists of `testdata/` (see
//! `kyb_screening::evaluation`; `cargo bench -p kyb-screening --bench screening` prints every
//! figure with the baseline beside it).

mod support;

use kyb_screening::evaluation::{self, Score};
use kyb_screening::{AliasKind, Screener, Source};

#[test]
fn lists_parse_with_their_companions() {
    let lists = support::lists();
    let sdn = &lists[0];
    assert_eq!(sdn.entries.len(), 7379);
    assert!(
        sdn.entries
            .iter()
            .any(|e| e.aliases.iter().any(|a| !a.weak)),
        "alt.csv's strong aliases"
    );
    assert!(sdn.entries.iter().any(|e| !e.dates_of_birth.is_empty()));
    assert!(
        sdn.entries.iter().any(|e| !e.countries.is_empty()),
        "add.csv's countries"
    );
    assert_eq!(lists[1].entries.len(), 442);
    let un = &lists[2];
    assert_eq!(un.entries.len(), 1003);
    let original: usize = un
        .entries
        .iter()
        .map(|e| {
            e.aliases
                .iter()
                .filter(|a| a.kind == AliasKind::OriginalScript)
                .count()
        })
        .sum();
    assert_eq!(original, 378);
}

#[test]
fn quality_on_the_sample_lists() {
    let lists = support::lists();
    let screener = Screener::new(lists.clone());
    let cases = evaluation::cases(&lists, 20261126);
    let recall = evaluation::recall(&screener, &cases);
    let mut all = Score::default();
    // Floors a little under the figures measured (BENCHMARKS.md), so that a change that makes
    // any row worse fails here.
    let floors = [
        ("typo", 99.9),
        ("typo, one word of 5-7 letters", 30.0),
        ("legal form", 99.7),
        ("reordered", 99.9),
        ("particles", 99.9),
        ("middle names dropped", 99.9),
        ("initials", 99.8),
        ("titles", 99.9),
        ("transliteration", 99.8),
        ("script: Cyrillic", 99.5),
        ("script: Arabic", 98.2),
        ("vessels", 99.8),
        ("disguises", 99.9),
    ];
    for (cat, s) in &recall {
        // Every row counts in the whole, the hard one of one-word typos too.
        all.found += s.found;
        all.total += s.total;
        if let Some((_, floor)) = floors.iter().find(|(c, _)| c == cat) {
            assert!(
                s.percent() >= *floor,
                "{cat}: {:.2} % under {floor} %, e.g. {:?}",
                s.percent(),
                s.misses
            );
        }
    }
    assert!(
        all.percent() >= 99.5,
        "all perturbations: {:.2} %",
        all.percent()
    );
    let un = lists
        .iter()
        .position(|l| l.source == Source::UnConsolidated)
        .unwrap();
    let original = evaluation::original_script(&screener, &lists, un);
    assert!(
        original.percent() >= 95.0,
        "original script: {:.2} %",
        original.percent()
    );
    let sec = evaluation::false_positives(&screener, &support::sec_names());
    assert!(
        sec.percent() <= 0.5,
        "SEC names: {:.2} %, e.g. {:?}",
        sec.percent(),
        sec.misses
    );
    let common: Vec<String> = support::common_names()
        .into_iter()
        .map(|(_, _, n)| n)
        .collect();
    let common = evaluation::false_positives(&screener, &common);
    assert!(
        common.percent() <= 0.5,
        "common names: {:.2} %, e.g. {:?}",
        common.percent(),
        common.misses
    );
}
