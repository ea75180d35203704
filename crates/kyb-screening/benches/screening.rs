//! The screening evaluation: quality and speed on the real OFAC SDN list and the SEC's list of
//! US public companies (both in ../shared/data). Reproducible: variants come from a fixed seed.
//!
//! cargo bench -p kyb-screening --bench screening
//!
//! - self: every SDN name and alias must find its own entry;
//! - variants (recall): one typo in a word of five letters or more, a legal form dropped or
//!   changed, the words reversed;
//! - false positives: SEC company names that raise any hit;
//! - speed: per-name time of the index and of a naive scan over the same list.

use kyb_screening::normalize::{is_dropped, tokens};
use kyb_screening::{listed_names, parse_sdn, Index, SdnEntry, DEFAULT_THRESHOLD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

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

fn typo(word: &str, rng: &mut StdRng) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    let at = rng.gen_range(0..chars.len());
    match rng.gen_range(0..4) {
        0 => {
            let c = chars[at];
            let mut n = (b'A' + rng.gen_range(0..26)) as char;
            while n == c {
                n = (b'A' + rng.gen_range(0..26)) as char;
            }
            chars[at] = n;
        }
        1 => {
            chars.remove(at);
        }
        2 => chars.insert(at, (b'A' + rng.gen_range(0..26)) as char),
        _ => {
            let at = at.min(chars.len() - 2);
            chars.swap(at, at + 1);
        }
    }
    chars.into_iter().collect()
}

struct Variants {
    typo: Vec<(String, u32)>,
    legal: Vec<(String, u32)>,
    reorder: Vec<(String, u32)>,
}

fn variants(entries: &[SdnEntry], rng: &mut StdRng) -> Variants {
    let mut v = Variants {
        typo: Vec::new(),
        legal: Vec::new(),
        reorder: Vec::new(),
    };
    let forms = ["LTD", "LLC", "S.A.", "GMBH", "JSC", "INC", "LIMITED"];
    for l in listed_names(entries) {
        let words: Vec<&str> = l.name.split_whitespace().collect();
        let upper = l.name.to_uppercase();
        // A typo in one word of five letters or more (letters only, so that the word stays one
        // token).
        let long: Vec<String> = upper
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 5 && w.chars().all(|c| c.is_ascii_alphabetic()))
            .map(str::to_owned)
            .collect();
        if !long.is_empty() {
            let w = &long[rng.gen_range(0..long.len())];
            let changed = upper.replacen(w.as_str(), &typo(w, rng), 1);
            v.typo.push((changed, l.entry));
        }
        let has_form = tokens(&l.name).len() < {
            // tokens before dropping forms: a name with a legal form loses one
            upper
                .split(|c: char| !c.is_alphanumeric())
                .filter(|t| !t.is_empty())
                .count()
        } && words.iter().any(|w| {
            let t: String = w.chars().filter(|c| c.is_alphanumeric()).collect();
            is_dropped(&t.to_uppercase())
        });
        if has_form && words.len() > 1 {
            let kept: Vec<&str> = words
                .iter()
                .copied()
                .filter(|w| {
                    let t: String = w.chars().filter(|c| c.is_alphanumeric()).collect();
                    !is_dropped(&t.to_uppercase())
                })
                .collect();
            if !kept.is_empty() {
                v.legal.push((kept.join(" "), l.entry));
                let form = forms[rng.gen_range(0..forms.len())];
                v.legal
                    .push((format!("{} {form}", kept.join(" ")), l.entry));
            }
        }
        if words.len() >= 2 {
            let mut r = words.clone();
            r.reverse();
            v.reorder.push((r.join(" "), l.entry));
        }
    }
    v
}

fn recall(index: &Index, cases: &[(String, u32)]) -> (usize, usize, Vec<String>) {
    let mut found = 0;
    let mut misses = Vec::new();
    for (q, entry) in cases {
        if index
            .screen(q, DEFAULT_THRESHOLD)
            .iter()
            .any(|m| m.entry == *entry)
        {
            found += 1;
        } else if misses.len() < 5 {
            misses.push(q.clone());
        }
    }
    (found, cases.len(), misses)
}

fn pct(a: usize, b: usize) -> f64 {
    100.0 * a as f64 / b.max(1) as f64
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

    let own: Vec<(String, u32)> = listed_names(&entries)
        .into_iter()
        .map(|l| (l.name, l.entry))
        .collect();
    let (f, n, misses) = recall(&index, &own);
    println!(
        "self: {f}/{n} names and aliases find their own entry ({:.2} %) {misses:?}",
        pct(f, n)
    );

    let mut rng = StdRng::seed_from_u64(20240503);
    let v = variants(&entries, &mut rng);
    let mut all = (0, 0);
    for (label, cases) in [
        ("one typo", &v.typo),
        ("legal form dropped or changed", &v.legal),
        ("words reversed", &v.reorder),
    ] {
        let (f, n, misses) = recall(&index, cases);
        all = (all.0 + f, all.1 + n);
        println!(
            "recall, {label}: {f}/{n} ({:.2} %), e.g. missed {misses:?}",
            pct(f, n)
        );
    }
    println!(
        "recall, all variants: {}/{} ({:.2} %)",
        all.0,
        all.1,
        pct(all.0, all.1)
    );

    let sec = sec_names();
    let mut flagged = Vec::new();
    for name in &sec {
        let hits = index.screen(name, DEFAULT_THRESHOLD);
        if let Some(h) = hits.first() {
            flagged.push(format!("{name} → {} ({})", h.matched, h.score));
        }
    }
    println!(
        "false positives: {}/{} SEC company names raise a hit ({:.2} %)",
        flagged.len(),
        sec.len(),
        pct(flagged.len(), sec.len())
    );
    for f in flagged.iter().take(15) {
        println!("  {f}");
    }

    let mut queries: Vec<String> = sec.clone();
    queries.extend(v.typo.iter().take(2000).map(|(q, _)| q.clone()));
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
