//! Screens each argument against the sample lists of `testdata/` and prints the hits with their
//! explanation: a quick look at what the matcher does with a name.
//!
//! cargo run --release -p kyb-screening --example screen -- [--threshold 0.5] NAME...

#[path = "../tests/support/mod.rs"]
#[allow(dead_code)]
mod support;

use kyb_screening::{Screener, Subject};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut threshold = kyb_screening::DEFAULT_THRESHOLD;
    if let Some(i) = args.iter().position(|a| a == "--threshold") {
        threshold = args[i + 1].parse().expect("--threshold takes a number");
        args.drain(i..i + 2);
    }
    let screener = Screener::new(support::lists());
    for name in args {
        let t = std::time::Instant::now();
        let hits = screener.screen(&Subject::named(name.clone()), threshold);
        println!(
            "{name}: {} hits in {:.2} ms",
            hits.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
        for h in hits.iter().take(5) {
            println!(
                "  {} {} {:?} {:.3} {}",
                h.list.as_str(),
                h.entry_id,
                h.matched,
                h.score,
                serde_json::to_string(&h.explanation).unwrap_or_default()
            );
        }
    }
}
