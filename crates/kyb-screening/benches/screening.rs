//! The screening evaluation, printed with timings, memory, and the Jaro-Winkler baseline run on
//! the same cases: quality and speed on every sample list of `testdata/` (OFAC SDN in four
//! files, OFAC consolidated, UN consolidated), the SEC's company names and the generated common
//! names of many cultures. See `kyb_screening::evaluation` for what is measured;
//! `tests/quality.rs` holds kyb's figures to their floor in the test suite.
//!
//! cargo bench -p kyb-screening --bench screening [-- --baseline-sample N] [--misses FILE]
//!
//! `--misses FILE` writes every case kyb misses, with the best hits it gave instead, one per
//! line (category, query, wanted entry, what came back): the material for the next change.

#[path = "../tests/support/mod.rs"]
mod support;

use kyb_screening::evaluation::{self, Baseline, Case, Score};
use kyb_screening::{Screener, Subject, DEFAULT_THRESHOLD};
use std::time::{Duration, Instant};

fn line(label: &str, kyb: &Score, base: Option<&Score>) {
    let b = base.map_or(String::new(), |b| {
        format!(" | baseline {}/{} ({:.1} %)", b.found, b.total, b.percent())
    });
    println!(
        "{label:<28} kyb {}/{} ({:.2} %){b}{}",
        kyb.found,
        kyb.total,
        kyb.percent(),
        if kyb.misses.is_empty() {
            String::new()
        } else {
            format!(
                "\n    kyb misses e.g. {:?}",
                &kyb.misses[..kyb.misses.len().min(4)]
            )
        }
    );
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// Each query's time: the best of `rounds` runs, one round after the other over all queries
/// (the machine is shared: a query that a neighbour slowed once is not slow).
fn timed(
    queries: &[String],
    rounds: usize,
    mut f: impl FnMut(&str) -> usize,
) -> (Duration, Duration, Duration) {
    let mut best: Vec<Duration> = vec![Duration::MAX; queries.len()];
    for _ in 0..rounds {
        for (i, q) in queries.iter().enumerate() {
            let t = Instant::now();
            std::hint::black_box(f(q));
            best[i] = best[i].min(t.elapsed());
        }
    }
    let mut all: Vec<(Duration, &String)> = best.into_iter().zip(queries).collect();
    all.sort();
    println!(
        "slowest: {:?}",
        all.iter()
            .rev()
            .take(5)
            .map(|(d, q)| format!("{q} {:.1} ms", d.as_secs_f64() * 1e3))
            .collect::<Vec<_>>()
    );
    let times: Vec<Duration> = all.into_iter().map(|(d, _)| d).collect();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    (at(0.5), at(0.99), *times.last().unwrap())
}

/// Every missed case, with what the screener returned instead; then every false positive.
fn write_misses(path: &str, screener: &Screener, cases: &[(&'static str, Vec<Case>)]) {
    use std::fmt::Write as _;
    let mut out = String::new();
    for (cat, cs) in cases {
        for c in cs.iter().filter(|c| !evaluation::finds(screener, c)) {
            let wanted = screener.lists()[c.list]
                .entries
                .iter()
                .find(|e| e.id == c.entry_id)
                .map_or("?", |e| e.name.as_str());
            let got: Vec<String> = screener
                .screen(&Subject::named(c.query.clone()), 0.5)
                .iter()
                .take(3)
                .map(|h| format!("{} {:.3}", h.matched, h.score))
                .collect();
            let _ = writeln!(out, "{cat}\t{}\t{wanted}\t{}", c.query, got.join(" | "));
        }
    }
    let mut names = support::sec_names();
    names.extend(support::common_names().into_iter().map(|(_, _, n)| n));
    for n in names {
        let hits = screener.screen(&Subject::named(n.clone()), DEFAULT_THRESHOLD);
        if let Some(h) = hits.first() {
            let _ = writeln!(
                out,
                "false positive\t{n}\t{}\t{:.3} {}",
                h.matched,
                h.score,
                serde_json::to_string(&h.explanation).unwrap_or_default()
            );
        }
    }
    std::fs::write(path, out).unwrap_or_else(|e| panic!("{path}: {e}"));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sample: usize = args
        .iter()
        .position(|a| a == "--baseline-sample")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let misses_file = args
        .iter()
        .position(|a| a == "--misses")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let before = rss_kib();
    let lists = support::lists();
    let loaded = rss_kib();
    let started = Instant::now();
    let screener = Screener::new(lists.clone());
    let built = started.elapsed();
    let after = rss_kib();
    for l in &lists {
        let aliases: usize = l.entries.iter().map(|e| e.aliases.len()).sum();
        println!(
            "{} {}: {} entries, {} aliases",
            l.source.as_str(),
            l.list_date,
            l.entries.len(),
            aliases
        );
    }
    println!(
        "index: {} names in {:.0} ms; memory: lists {:.1} MiB, index {:.1} MiB (RSS growth)",
        screener.names(),
        built.as_secs_f64() * 1e3,
        (loaded - before) as f64 / 1024.0,
        (after - loaded) as f64 / 1024.0
    );
    println!("default threshold: {DEFAULT_THRESHOLD}; baseline: Jaro-Winkler best pairs (Watchman-style), threshold {}, on a fixed sample of {sample} per row", evaluation::BASELINE_THRESHOLD);
    let baseline = Baseline::new(&lists);
    let cases = evaluation::cases(&lists, 20261126);
    let recall = evaluation::recall(&screener, &cases);
    if let Some(path) = &misses_file {
        write_misses(path, &screener, &cases);
    }
    let mut all = Score::default();
    let mut all_base = Score::default();
    for ((cat, kyb), (_, cs)) in recall.iter().zip(&cases) {
        let picked: Vec<Case> = evaluation::sample(cs, sample, 7);
        let mut b = Score::default();
        let mut k = Score::default();
        for c in &picked {
            b.total += 1;
            k.total += 1;
            if baseline.finds(c) {
                b.found += 1;
            }
            if evaluation::finds(&screener, c) {
                k.found += 1;
            }
        }
        line(cat, kyb, Some(&b));
        all.found += kyb.found;
        all.total += kyb.total;
        all_base.found += b.found;
        all_base.total += b.total;
        let _ = k;
    }
    line("all perturbations", &all, Some(&all_base));
    let un = lists
        .iter()
        .position(|l| l.source == kyb_screening::Source::UnConsolidated)
        .unwrap();
    line(
        "UN original-script names",
        &evaluation::original_script(&screener, &lists, un),
        None,
    );
    // The same without the original-script names indexed: transliteration alone.
    let mut latin_only = lists.clone();
    for e in &mut latin_only[un].entries {
        e.aliases
            .retain(|a| a.kind != kyb_screening::AliasKind::OriginalScript);
    }
    let latin_screener = Screener::new(latin_only);
    line(
        "  … against Latin names only",
        &evaluation::original_script(&latin_screener, &lists, un),
        None,
    );

    let sec = support::sec_names();
    let fp_sec = evaluation::false_positives(&screener, &sec);
    let common: Vec<String> = support::common_names()
        .into_iter()
        .map(|(_, _, n)| n)
        .collect();
    let fp_common = evaluation::false_positives(&screener, &common);
    let base_fp = |names: &[String]| {
        let picked = evaluation::sample(names, sample * 4, 11);
        let mut s = Score::default();
        for n in &picked {
            s.total += 1;
            if !baseline.hits(n).is_empty() {
                s.found += 1;
            }
        }
        s
    };
    line("false positives, SEC names", &fp_sec, Some(&base_fp(&sec)));
    line(
        "false positives, common names",
        &fp_common,
        Some(&base_fp(&common)),
    );

    let mut queries: Vec<String> = sec.clone();
    queries.extend(common.iter().cloned());
    for (_, cs) in &cases {
        queries.extend(cs.iter().take(300).map(|c| c.query.clone()));
    }
    let rounds = 3;
    let (p50, p99, max) = timed(&queries, rounds, |q| {
        screener.screen(&Subject::named(q), DEFAULT_THRESHOLD).len()
    });
    println!(
        "time per name, one thread, best of {rounds} rounds: {} names, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        queries.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
}
