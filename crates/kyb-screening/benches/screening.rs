//! The screening evaluation, printed with timings: quality and speed on the real OFAC SDN list
//! and the SEC's list of US public companies (both in testdata/). See
//! `kyb_screening::evaluation` for what is measured; `tests/quality.rs` holds the same figures
//! to their floor in the test suite.
//!
//! cargo bench -p kyb-screening --bench screening

use kyb_screening::evaluation::{evaluate, Score};
use kyb_screening::{listed_names, parse_sdn, Index, SdnEntry, DEFAULT_THRESHOLD};
use std::time::{Duration, Instant};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

fn load(date: &str) -> Vec<SdnEntry> {
    let bytes = std::fs::read(format!("{DATA}/ofac/sdn-{date}.csv")).unwrap();
    parse_sdn(&bytes).unwrap()
}

/// Every company of the SEC list, one name per entry (a company with several tickers counts
/// once per ticker, as the list has it).
fn sec_names() -> Vec<String> {
    let raw = std::fs::read_to_string(format!("{DATA}/sec/company_tickers.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    v.as_object()
        .unwrap()
        .values()
        .map(|c| c["title"].as_str().unwrap().to_owned())
        .collect()
}

fn timed(queries: &[String], mut f: impl FnMut(&str) -> usize) -> (Duration, Duration, Duration) {
    let mut times: Vec<Duration> = queries
        .iter()
        .map(|q| {
            let t = Instant::now();
            std::hint::black_box(f(q));
            t.elapsed()
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    (at(0.5), at(0.99), *times.last().unwrap())
}

fn line(label: &str, s: &Score) {
    println!(
        "{label}: {}/{} ({:.2} %){}",
        s.found,
        s.total,
        s.percent(),
        if s.misses.is_empty() {
            String::new()
        } else {
            format!(", e.g. {:?}", s.misses)
        }
    );
}

fn main() {
    let entries = load("2024-05-03");
    let aliases: usize = entries.iter().map(|e| e.aliases.len()).sum();
    let started = Instant::now();
    let index = Index::build(listed_names(&entries));
    let built = started.elapsed();
    println!(
        "list 2024-05-03: {} entries, {} aliases, {} names indexed in {:.0} ms",
        entries.len(),
        aliases,
        index.len(),
        built.as_secs_f64() * 1e3
    );
    println!("default threshold: {DEFAULT_THRESHOLD}");
    let sec = sec_names();
    let report = evaluate(&entries, &index, &sec, 20240503);
    line(
        "self: names and aliases finding their own entry",
        &report.own_names,
    );
    line("recall, one typo", &report.typo);
    line("recall, legal form dropped or changed", &report.legal_form);
    line("recall, words reversed", &report.reordered);
    line("recall, all variants", &report.all_variants);
    line(
        "false positives: SEC company names raising a hit",
        &report.false_positives,
    );

    let mut queries: Vec<String> = sec.clone();
    queries.extend(report.typo_queries.iter().take(2000).cloned());
    let (p50, p99, max) = timed(&queries, |q| index.screen(q, DEFAULT_THRESHOLD).len());
    println!(
        "index: {} names, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms per name",
        queries.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
    let sample: Vec<String> = queries.iter().step_by(25).cloned().collect();
    let (p50, p99, max) = timed(&sample, |q| index.screen_naive(q, DEFAULT_THRESHOLD).len());
    println!(
        "naive scan: {} names, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms per name",
        sample.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
}
