//! The screening evaluation used by `benches/screening.rs` (which prints it with timings) and
//! by `tests/quality.rs` (which holds the figures to their floor): every listed name must find
//! its own entry; variants (one typo, a legal form dropped or changed, words reversed) must find
//! it too; and ordinary company names must rarely raise a hit. Variants come from a fixed seed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::normalize::{is_dropped, tokens};
use crate::{listed_names, Index, SdnEntry, DEFAULT_THRESHOLD};

/// Found out of asked, with a few of the misses.
#[derive(Debug, Clone, Default)]
pub struct Score {
    pub found: usize,
    pub total: usize,
    pub misses: Vec<String>,
}

impl Score {
    pub fn percent(&self) -> f64 {
        100.0 * self.found as f64 / self.total.max(1) as f64
    }
}

#[derive(Debug, Clone)]
pub struct Report {
    pub own_names: Score,
    pub typo: Score,
    pub legal_form: Score,
    pub reordered: Score,
    pub all_variants: Score,
    /// Company names that raised a hit (`found` of `total`), with examples.
    pub false_positives: Score,
    /// The typo variants, to time queries with.
    pub typo_queries: Vec<String>,
}

/// Runs the evaluation of `index` (built from `entries`) with `companies` as names that should
/// not hit.
pub fn evaluate(entries: &[SdnEntry], index: &Index, companies: &[String], seed: u64) -> Report {
    let own: Vec<(String, u32)> = listed_names(entries)
        .into_iter()
        .map(|l| (l.name, l.entry))
        .collect();
    let mut rng = StdRng::seed_from_u64(seed);
    let v = variants(entries, &mut rng);
    let typo = recall(index, &v.typo);
    let legal_form = recall(index, &v.legal);
    let reordered = recall(index, &v.reorder);
    let all_variants = Score {
        found: typo.found + legal_form.found + reordered.found,
        total: typo.total + legal_form.total + reordered.total,
        misses: Vec::new(),
    };
    let mut false_positives = Score {
        total: companies.len(),
        ..Score::default()
    };
    for name in companies {
        if let Some(h) = index.screen(name, DEFAULT_THRESHOLD).first() {
            false_positives.found += 1;
            if false_positives.misses.len() < 15 {
                false_positives
                    .misses
                    .push(format!("{name} → {} ({})", h.matched, h.score));
            }
        }
    }
    Report {
        own_names: recall(index, &own),
        typo,
        legal_form,
        reordered,
        all_variants,
        false_positives,
        typo_queries: v.typo.into_iter().map(|(q, _)| q).collect(),
    }
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

fn recall(index: &Index, cases: &[(String, u32)]) -> Score {
    let mut score = Score {
        total: cases.len(),
        ..Score::default()
    };
    for (q, entry) in cases {
        if index
            .screen(q, DEFAULT_THRESHOLD)
            .iter()
            .any(|m| m.entry == *entry)
        {
            score.found += 1;
        } else if score.misses.len() < 5 {
            score.misses.push(q.clone());
        }
    }
    score
}
