//! The matching index. Every listed name (primary name and each alias) is tokenised once; a
//! query is matched token by token (exactly, or within one typo for tokens of five letters or
//! more, found through a one-deletion neighbourhood) and every name sharing a token is scored:
//!
//! score = Σ over aligned token pairs (w(query token) + w(name token)) × similarity
//!         ÷ (Σ w(query tokens) + Σ w(name tokens))
//!
//! with w the token's inverse document frequency over the list (rare words weigh more) and
//! similarity 1 for an exact token, 0.85 for one edit. Token order plays no part.

use std::collections::HashMap;

use crate::normalize::tokens;
use crate::ofac::AliasKind;

/// The similarity of two tokens one edit apart.
pub const TYPO_SIMILARITY: f64 = 0.85;
/// Two tokens one edit apart match when the longer has at least this many letters.
pub const FUZZY_MIN_LEN: usize = 5;
/// The score from which a name is a hit, unless the caller says otherwise.
pub const DEFAULT_THRESHOLD: f64 = 0.85;

/// A name to index: which entry it belongs to, and whether it is an alias.
#[derive(Debug, Clone)]
pub struct ListedName {
    pub entry: u32,
    pub alias: Option<AliasKind>,
    pub name: String,
}

struct Name {
    entry: u32,
    alias: Option<AliasKind>,
    text: String,
    tokens: Vec<u32>,
    weight: f64,
}

/// A name of the list that matched a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub entry: u32,
    /// The listed name or alias that matched.
    pub matched: String,
    pub alias: Option<AliasKind>,
    pub score: f64,
}

pub struct Index {
    names: Vec<Name>,
    idf: Vec<f64>,
    vocabulary: HashMap<String, u32>,
    words: Vec<String>,
    postings: Vec<Vec<u32>>,
    /// A token and each of its one-letter deletions → the tokens that produce it.
    deletions: HashMap<String, Vec<u32>>,
    unknown_weight: f64,
}

fn deletions(token: &str) -> impl Iterator<Item = String> + '_ {
    let chars: Vec<char> = token.chars().collect();
    (0..chars.len()).map(move |skip| {
        chars
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, c)| c)
            .collect()
    })
}

/// A query's tokens, each once (names are indexed the same way: `BIN LADIN, Usama bin …`).
fn query_tokens(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tokens(query) {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

impl Index {
    pub fn build(listed: impl IntoIterator<Item = ListedName>) -> Self {
        let mut vocabulary: HashMap<String, u32> = HashMap::new();
        let mut words: Vec<String> = Vec::new();
        let mut postings: Vec<Vec<u32>> = Vec::new();
        let mut names = Vec::new();
        for l in listed {
            let id = names.len() as u32;
            let mut ids: Vec<u32> = Vec::new();
            for t in tokens(&l.name) {
                let tid = *vocabulary.entry(t.clone()).or_insert_with(|| {
                    words.push(t);
                    postings.push(Vec::new());
                    (words.len() - 1) as u32
                });
                if !ids.contains(&tid) {
                    ids.push(tid);
                    postings[tid as usize].push(id);
                }
            }
            names.push(Name {
                entry: l.entry,
                alias: l.alias,
                text: l.name,
                tokens: ids,
                weight: 0.0,
            });
        }
        let n = names.len().max(1) as f64;
        let idf: Vec<f64> = postings
            .iter()
            .map(|p| (1.0 + n / p.len().max(1) as f64).ln())
            .collect();
        for name in &mut names {
            name.weight = name.tokens.iter().map(|t| idf[*t as usize]).sum();
        }
        let mut deletion_index: HashMap<String, Vec<u32>> = HashMap::new();
        for (tid, word) in words.iter().enumerate() {
            if word.chars().count() < FUZZY_MIN_LEN - 1 {
                continue;
            }
            deletion_index
                .entry(word.clone())
                .or_default()
                .push(tid as u32);
            for d in deletions(word) {
                let slot = deletion_index.entry(d).or_default();
                if slot.last() != Some(&(tid as u32)) {
                    slot.push(tid as u32);
                }
            }
        }
        Self {
            names,
            idf,
            vocabulary,
            words,
            postings,
            deletions: deletion_index,
            unknown_weight: (1.0 + n).ln(),
        }
    }

    /// How many names (primary names and aliases) are indexed.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The listed tokens a query token may stand for, with their similarity.
    fn candidates(&self, token: &str) -> Vec<(u32, f64)> {
        let mut out: Vec<(u32, f64)> = Vec::new();
        if let Some(&tid) = self.vocabulary.get(token) {
            out.push((tid, 1.0));
        }
        let len = token.chars().count();
        if len < FUZZY_MIN_LEN - 1 {
            return out;
        }
        let mut keys: Vec<String> = deletions(token).collect();
        keys.push(token.to_owned());
        for key in keys {
            for &tid in self.deletions.get(&key).into_iter().flatten() {
                if out.iter().any(|(t, _)| *t == tid) {
                    continue;
                }
                let word = &self.words[tid as usize];
                if len.max(word.chars().count()) >= FUZZY_MIN_LEN
                    && strsim::osa_distance(word, token) == 1
                {
                    out.push((tid, TYPO_SIMILARITY));
                }
            }
        }
        out
    }

    /// The names scoring at least `threshold` against `query`, best per entry, best first.
    pub fn screen(&self, query: &str, threshold: f64) -> Vec<Match> {
        let query = query_tokens(query);
        let options: Vec<Vec<(u32, f64)>> = query.iter().map(|t| self.candidates(t)).collect();
        let mut seen: Vec<u32> = Vec::new();
        for opts in &options {
            for (tid, _) in opts {
                seen.extend_from_slice(&self.postings[*tid as usize]);
            }
        }
        seen.sort_unstable();
        seen.dedup();
        self.best_per_entry(&options, seen.into_iter(), threshold)
    }

    /// The same result by scoring every name of the list: the baseline the index is measured
    /// against.
    pub fn screen_naive(&self, query: &str, threshold: f64) -> Vec<Match> {
        let query = query_tokens(query);
        let options: Vec<Vec<(u32, f64)>> = query
            .iter()
            .map(|t| {
                let mut out = Vec::new();
                for (tid, word) in self.words.iter().enumerate() {
                    if word == t {
                        out.push((tid as u32, 1.0));
                    } else if t.chars().count().max(word.chars().count()) >= FUZZY_MIN_LEN
                        && strsim::osa_distance(word, t) == 1
                    {
                        out.push((tid as u32, TYPO_SIMILARITY));
                    }
                }
                out
            })
            .collect();
        self.best_per_entry(&options, 0..self.names.len() as u32, threshold)
    }

    fn best_per_entry(
        &self,
        options: &[Vec<(u32, f64)>],
        names: impl Iterator<Item = u32>,
        threshold: f64,
    ) -> Vec<Match> {
        // What an unaligned query token weighs: its own weight if the list has the word,
        // else that of a word the list has never seen (the most a word can weigh).
        let fallback: Vec<f64> = options
            .iter()
            .map(|o| {
                o.iter()
                    .find(|(_, sim)| *sim == 1.0)
                    .map_or(self.unknown_weight, |(t, _)| self.idf[*t as usize])
            })
            .collect();
        let mut best: HashMap<u32, (f64, u32)> = HashMap::new();
        for id in names {
            let name = &self.names[id as usize];
            let score = self.score(options, &fallback, name);
            if score >= threshold {
                let slot = best.entry(name.entry).or_insert((score, id));
                if score > slot.0 {
                    *slot = (score, id);
                }
            }
        }
        let mut out: Vec<Match> = best
            .into_iter()
            .map(|(entry, (score, id))| {
                let name = &self.names[id as usize];
                Match {
                    entry,
                    matched: name.text.clone(),
                    alias: name.alias,
                    score: (score * 1000.0).round() / 1000.0,
                }
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.entry.cmp(&b.entry)));
        out
    }

    /// Aligns each query token with its best unused token of `name` (exact before fuzzy, then
    /// the rarer), and weighs an aligned pair by the name token's weight.
    fn score(&self, options: &[Vec<(u32, f64)>], fallback: &[f64], name: &Name) -> f64 {
        let mut used: Vec<u32> = Vec::with_capacity(name.tokens.len());
        let mut matched = 0.0;
        let mut total = name.weight;
        for (opts, unaligned) in options.iter().zip(fallback) {
            let mut pick: Option<(u32, f64, f64)> = None;
            for &(tid, sim) in opts {
                if !name.tokens.contains(&tid) || used.contains(&tid) {
                    continue;
                }
                let w = self.idf[tid as usize];
                if pick.is_none_or(|(_, s, pw)| (sim, w) > (s, pw)) {
                    pick = Some((tid, sim, w));
                }
            }
            match pick {
                Some((tid, sim, w)) => {
                    used.push(tid);
                    matched += 2.0 * w * sim;
                    total += w;
                }
                None => total += unaligned,
            }
        }
        if total <= 0.0 {
            0.0
        } else {
            matched / total
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(names: &[&str]) -> Index {
        Index::build(names.iter().enumerate().map(|(i, n)| ListedName {
            entry: i as u32,
            alias: None,
            name: (*n).to_owned(),
        }))
    }

    #[test]
    fn exact_reordered_typo_and_legal_forms() {
        let idx = index(&[
            "BANCO NACIONAL DE CUBA",
            "CIMEX, S.A.",
            "ABBAS, Abu",
            "GLOBAL TRADING LLC",
        ]);
        for q in [
            "Banco Nacional de Cuba",
            "CUBA BANCO NACIONAL DE",
            "Banco Nacionl de Cuba",
        ] {
            let hits = idx.screen(q, DEFAULT_THRESHOLD);
            assert_eq!(hits.first().map(|h| h.entry), Some(0), "{q}: {hits:?}");
        }
        assert_eq!(idx.screen("Cimex Ltd", DEFAULT_THRESHOLD)[0].score, 1.0);
        assert_eq!(idx.screen("Abu Abbas", DEFAULT_THRESHOLD)[0].entry, 2);
        assert!(idx.screen("Acme Corp", DEFAULT_THRESHOLD).is_empty());
        assert!(
            idx.screen("Cuba", DEFAULT_THRESHOLD).is_empty(),
            "one shared word is not a hit"
        );
        for q in ["Banco Nacionl de Cuba", "Cimex", "global trading"] {
            assert_eq!(
                idx.screen(q, DEFAULT_THRESHOLD),
                idx.screen_naive(q, DEFAULT_THRESHOLD),
                "{q}"
            );
        }
    }
}
