//! The matching index. Every listed name is tokenised once (`names`), also with its particles
//! joined; a query is read every way it can be (`names::readings`) and each query word finds the
//! listed words it may stand for:
//!
//! | how             | when                                                        | similarity |
//! |-----------------|-------------------------------------------------------------|------------|
//! | exact           | the same word                                               | 1          |
//! | transliteration | one spelling group of `data/transliteration.txt`, or an     | 0.95, 0.9  |
//! |                 | abjad word whose consonants fit (`MHMD` ~ `MUHAMMAD`)       |            |
//! | typo            | edits within the word's length: none up to 3 letters, one   | 1 − 0.6·d/len |
//! |                 | up to 7, two from 8                                         |            |
//! | transliteration | the same consonants, vowels that may stand for each other   | 0.88       |
//! |                 | (`RAHEEM` ~ `RAHIM`; a one-word name only from 8 letters)   |            |
//! | phonetic        | the same Double Metaphone code after the rewrites           | 0.85       |
//! | particle        | exact or typo once particles are joined (`ALZAWAHIRI`)      | as matched |
//! | joined / split  | one word against two adjacent ones (`FANGWEI` ~ `FANG WEI`) | as matched |
//! | initial         | an initial against a given name (`U.` ~ `USAMA`)            | weighs ≤ ln 26 |
//!
//! Query words are aligned with a listed name's words greedily, best pairs first, and scored
//!
//! score = Σ aligned 2·w·sim ÷ (Σ aligned 2·w + Σ unaligned α·w)
//!
//! with w a word's inverse document frequency over the list (rare words weigh more). α is 1,
//! except for a person's name whose surname and first given name both matched (the first given
//! name may be an initial): then the other given names left out (middle names) weigh 0.1 on the
//! list's side and 0.3 on the query's, so that a name without its middle names still hits, at a
//! lower score. A left-out surname always weighs fully. A title left out, or a query word that
//! repeats one already matched, weighs `TITLE_LEFT_OUT`. Word order plays no part. Weak aliases
//! hit only from `WEAK_THRESHOLD`; a name of one word hits only on a near-exact word.

use rustc_hash::FxHashMap as HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::keys;
use crate::lists::AliasKind;
use crate::names::{readings, tokenize, Token, Tokens};
use crate::text::words;

/// The score from which a name is a hit, unless the caller says otherwise.
pub const DEFAULT_THRESHOLD: f64 = 0.85;
/// The score from which a weak alias (OFAC's remarks a.k.a.s, the UN's `Low` quality) is a hit.
pub const WEAK_THRESHOLD: f64 = 0.95;
/// The most an initial weighs: what one letter of 26 says.
const INITIAL_WEIGHT: f64 = 3.258;
const PHONETIC_SIMILARITY: f64 = 0.85;
const GROUP_SIMILARITY: f64 = 0.95;
const ABJAD_SIMILARITY: f64 = 0.9;
/// One vowel written for another (`LADEN` ~ `LADIN`): the commonest way transliterations differ.
const VOWEL_SIMILARITY: f64 = 0.92;
/// Other vowels that may stand for the same sounds (`RAHEEM` ~ `RAHIM`).
/// Looser than one vowel for another, and than an abjad spelling (which `one_word_ok` tells
/// apart by this figure).
const ALIKE_SIMILARITY: f64 = 0.88;
/// The same word once the transliteration rewrites are done (`CEEMEX` ~ `CIMEX`).
const REWRITE_SIMILARITY: f64 = 0.93;
/// How much a title or honorific weighs when the other name has nothing for it.
const TITLE_LEFT_OUT: f64 = 0.1;
/// How much the left-out given names of a person weigh, on the list's and the query's side.
const MIDDLE_LISTED: f64 = 0.1;
const MIDDLE_QUERY: f64 = 0.3;
/// A word on more than this share of names does not by itself bring a name to be scored.
const COMMON_SHARE: f64 = 0.01;

/// How a query word matched a listed word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    Exact,
    Typo,
    Phonetic,
    Transliteration,
    Initial,
    Particle,
    Joined,
    Split,
    Imo,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Typo => "typo",
            Self::Phonetic => "phonetic",
            Self::Transliteration => "transliteration",
            Self::Initial => "initial",
            Self::Particle => "particle",
            Self::Joined => "joined",
            Self::Split => "split",
            Self::Imo => "imo",
        }
    }
}

/// A name to index: which entry it belongs to, and what kind of name it is.
#[derive(Debug, Clone)]
pub struct ListedName {
    pub entry: u32,
    pub name: String,
    /// `None` for the entry's own name.
    pub alias: Option<AliasKind>,
    /// A person's name (`SURNAME, Given`; given names may be left out or given as initials).
    pub person: bool,
    pub weak: bool,
    /// IMO numbers of the entry (a vessel), matched exactly.
    pub imo: Vec<String>,
}

impl ListedName {
    /// A plain name (registries, tests).
    pub fn plain(entry: u32, name: impl Into<String>) -> Self {
        Self {
            entry,
            name: name.into(),
            alias: None,
            person: false,
            weak: false,
            imo: Vec::new(),
        }
    }
}

/// One query word against one listed word.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordMatch {
    pub query: String,
    pub listed: String,
    pub how: How,
    pub similarity: f64,
}

/// Why a name matched: word by word, and what was left over.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub words: Vec<WordMatch>,
    pub unmatched_query: Vec<String>,
    pub unmatched_listed: Vec<String>,
    /// A person's name matched without some of its given names.
    #[serde(default)]
    pub partial: bool,
}

/// A name of the list that matched a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub entry: u32,
    /// The listed name or alias that matched, as written.
    pub matched: String,
    pub alias: Option<AliasKind>,
    pub weak: bool,
    pub score: f64,
    pub explanation: Explanation,
}

struct Name {
    entry: u32,
    text: String,
    alias: Option<AliasKind>,
    person: bool,
    weak: bool,
}

struct VTok {
    tid: u32,
    title: bool,
    surname: bool,
    first_given: bool,
    initials: bool,
    joined: bool,
    display: String,
}

struct Variant {
    name: u32,
    toks: Vec<VTok>,
}

pub struct Index {
    names: Vec<Name>,
    variants: Vec<Variant>,
    words: Vec<String>,
    vocabulary: HashMap<String, u32>,
    idf: Vec<f64>,
    df: Vec<u32>,
    postings: Vec<Vec<u32>>,
    /// Hashes of each word and its deletions (up to the word's typo allowance) → word.
    deletions: Vec<(u64, u32)>,
    phonetic: HashMap<String, Vec<u32>>,
    consonants: HashMap<String, Vec<u32>>,
    groups: HashMap<u32, Vec<u32>>,
    /// Each word after the transliteration rewrites → the words.
    rewritten: HashMap<String, Vec<u32>>,
    /// Each word's first and last consonant, for a quick test before an abjad comparison.
    ends: Vec<Option<(u8, u8)>>,
    /// Each word's first letter once rewritten, for phonetic matches.
    starts: Vec<u8>,
    imo: HashMap<String, Vec<u32>>,
    unknown_weight: f64,
    common_df: u32,
}

/// Edits two words may differ by: by the shorter, or by the longer when both have 6 letters or
/// more (two letters dropped from `FRANCISCO` leave `FRCISCO`).
fn allowed_for(a: usize, b: usize) -> usize {
    if a.min(b) >= 6 {
        allowed_edits(a.max(b))
    } else {
        allowed_edits(a.min(b))
    }
}

/// Edits a word of `len` letters may carry and still be the same word.
fn allowed_edits(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'A' | b'E' | b'I' | b'O' | b'U' | b'Y')
}

/// Two words of one length that differ in one place, a vowel for a vowel.
fn vowel_for_vowel(a: &str, b: &str) -> bool {
    a.len() == b.len() && {
        let mut diff = a.bytes().zip(b.bytes()).filter(|(x, y)| x != y);
        matches!((diff.next(), diff.next()), (Some((x, y)), None) if is_vowel(x) && is_vowel(y))
    }
}

/// Whether two words start alike, given their first letters once rewritten: the same, or both
/// a vowel.
fn same_start(x: u8, y: u8) -> bool {
    x == y || (x != b'Y' && y != b'Y' && is_vowel(x) && is_vowel(y))
}

/// The first letter of a word once rewritten (0 for none).
fn rewritten_start(word: &str) -> u8 {
    keys::rewritten(word).bytes().next().unwrap_or(0)
}

/// Two words that differ by one letter written twice (`COPROFFA` ~ `COPROFA`).
fn doubled_letter(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() < b.len() { (a, b) } else { (b, a) };
    long.len() == short.len() + 1
        && (1..long.len()).any(|i| {
            long.as_bytes()[i] == long.as_bytes()[i - 1]
                && long[..i] == short[..i]
                && long[i + 1..] == short[i..]
        })
}

/// Two words of one length that differ by two neighbouring letters swapped (`CIEMX` ~ `CIMEX`),
/// the commonest slip of typing, and one that seldom makes another real name.
fn swapped(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    // Not the first two letters: `MAINA` and `AMINA` are two names.
    matches!(diff.as_slice(), [i, j] if *i > 0 && *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i])
}

/// The edits (Damerau-Levenshtein: insert, delete, substitute, swap neighbours) between two
/// words, when at most `max`. The restricted distance (OSA) is cheap and usually the same; the
/// full one only decides when they may differ (`AGROCPUARIA` ~ `AGROPECUARIA`).
fn edits(a: &str, b: &str, max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let osa = strsim::osa_distance(a, b);
    if osa <= max {
        return Some(osa);
    }
    (osa == max + 1)
        .then(|| strsim::damerau_levenshtein(a, b))
        .filter(|d| *d <= max)
}

/// Whether a match of a one-word name is close enough (see `score`).
fn one_word_ok(f: &Found, query: &str, abjad: bool, listed: &str) -> bool {
    match f.how {
        How::Typo => listed.len() >= 8 || doubled_letter(query, listed) || swapped(query, listed),
        // Other vowels throughout (`ALLETE` ~ `ELITE`): as loose as a typo.
        How::Transliteration if !abjad && f.sim <= ALIKE_SIMILARITY => listed.len() >= 8,
        How::Phonetic => listed.len() >= 6 && edits(query, listed, 1).is_some(),
        How::Transliteration if abjad => keys::consonants(query).len() >= 4,
        How::Initial => false,
        _ => true,
    }
}

fn typo_similarity(edits: usize, len: usize) -> f64 {
    1.0 - 0.6 * edits as f64 / len.max(1) as f64
}

fn hash(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// A word and every string made from it by deleting up to `depth` letters.
fn deletion_keys(word: &str, depth: usize) -> Vec<String> {
    let mut out = vec![word.to_owned()];
    let mut frontier = vec![word.to_owned()];
    for _ in 0..depth {
        let mut next = Vec::new();
        for w in &frontier {
            let chars: Vec<char> = w.chars().collect();
            for skip in 0..chars.len() {
                let d: String = chars
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != skip)
                    .map(|(_, c)| c)
                    .collect();
                next.push(d);
            }
        }
        next.sort_unstable();
        next.dedup();
        out.extend(next.iter().cloned());
        frontier = next;
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Candidates of one query word: listed word, similarity, how.
type Candidates = Vec<(u32, f64, How)>;

fn put(out: &mut Candidates, tid: u32, sim: f64, how: How) {
    match out.iter_mut().find(|c| c.0 == tid) {
        Some(c) if sim > c.1 => *c = (tid, sim, how),
        Some(_) => {}
        None => out.push((tid, sim, how)),
    }
}

impl Index {
    pub fn build(listed: impl IntoIterator<Item = ListedName>) -> Self {
        let mut idx = Index {
            names: Vec::new(),
            variants: Vec::new(),
            words: Vec::new(),
            vocabulary: HashMap::default(),
            idf: Vec::new(),
            df: Vec::new(),
            postings: Vec::new(),
            deletions: Vec::new(),
            phonetic: HashMap::default(),
            consonants: HashMap::default(),
            groups: HashMap::default(),
            rewritten: HashMap::default(),
            ends: Vec::new(),
            starts: Vec::new(),
            imo: HashMap::default(),
            unknown_weight: 0.0,
            common_df: 0,
        };
        for l in listed {
            let id = idx.names.len() as u32;
            for number in &l.imo {
                idx.imo.entry(number.clone()).or_default().push(id);
            }
            let ws = words(&l.name);
            let base = tokenize(&ws, l.person, false);
            let mut forms = Vec::with_capacity(2);
            if let Some(j) = base.particles_joined() {
                forms.push(j.deduped());
            }
            forms.push(base.deduped());
            let mut counted: Vec<u32> = Vec::new();
            for f in forms {
                let toks: Vec<VTok> = f
                    .tokens
                    .iter()
                    .map(|t| VTok {
                        tid: idx.word_id(&t.text),
                        surname: t.surname,
                        first_given: t.first_given,
                        initials: t.initials,
                        joined: t.joined,
                        title: t.title,
                        display: t.display.clone(),
                    })
                    .collect();
                if toks.is_empty() {
                    continue;
                }
                let vid = idx.variants.len() as u32;
                for t in &toks {
                    idx.postings[t.tid as usize].push(vid);
                    if !counted.contains(&t.tid) {
                        counted.push(t.tid);
                        idx.df[t.tid as usize] += 1;
                    }
                }
                idx.variants.push(Variant { name: id, toks });
            }
            idx.names.push(Name {
                entry: l.entry,
                text: l.name,
                alias: l.alias,
                person: l.person,
                weak: l.weak,
            });
        }
        let n = idx.names.len().max(1) as f64;
        idx.idf = idx
            .df
            .iter()
            .map(|d| (1.0 + n / f64::from((*d).max(1))).ln())
            .collect();
        idx.unknown_weight = (1.0 + n).ln();
        idx.common_df = ((n * COMMON_SHARE) as u32).max(50);
        for (tid, word) in idx.words.iter().enumerate() {
            let tid = tid as u32;
            let depth = allowed_edits(word.len());
            if depth > 0 {
                for key in deletion_keys(word, depth) {
                    idx.deletions.push((hash(&key), tid));
                }
            }
            for key in keys::phonetic(word) {
                idx.phonetic.entry(key).or_default().push(tid);
            }
            for c in keys::consonant_keys(word) {
                idx.consonants.entry(c).or_default().push(tid);
            }
            if let Some(g) = keys::group(word) {
                idx.groups.entry(g).or_default().push(tid);
            }
            if word.len() >= 3 {
                idx.rewritten
                    .entry(keys::rewritten(word))
                    .or_default()
                    .push(tid);
            }
        }
        idx.starts = idx.words.iter().map(|w| rewritten_start(w)).collect();
        idx.ends = idx.words.iter().map(|w| keys::consonant_ends(w)).collect();
        idx.deletions.sort_unstable();
        idx.deletions.dedup();
        idx
    }

    fn word_id(&mut self, word: &str) -> u32 {
        if let Some(&id) = self.vocabulary.get(word) {
            return id;
        }
        let id = self.words.len() as u32;
        self.words.push(word.to_owned());
        self.vocabulary.insert(word.to_owned(), id);
        self.postings.push(Vec::new());
        self.df.push(0);
        id
    }

    /// How many names (primary names and aliases) are indexed.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The listed words a query word may stand for, with how and how well.
    fn candidates(&self, t: &Token) -> Candidates {
        let mut out = Candidates::new();
        let text = t.text.as_str();
        if let Some(&tid) = self.vocabulary.get(text) {
            put(&mut out, tid, 1.0, How::Exact);
        }
        if t.abjad {
            let key = keys::consonants(text);
            for &tid in self.consonants.get(&key).into_iter().flatten() {
                if keys::abjad_matches(text, &self.words[tid as usize]) {
                    put(&mut out, tid, ABJAD_SIMILARITY, How::Transliteration);
                }
            }
            return out;
        }
        if let Some(g) = keys::group(text) {
            for &tid in self.groups.get(&g).into_iter().flatten() {
                put(&mut out, tid, GROUP_SIMILARITY, How::Transliteration);
            }
        }
        let len = text.len();
        if len >= 3 {
            // Two short words meet by rewriting only when one of them is longer (`FRI` ~ `FREE`).
            for &tid in self
                .rewritten
                .get(&keys::rewritten(text))
                .into_iter()
                .flatten()
            {
                if len.max(self.words[tid as usize].len()) >= 4 {
                    put(&mut out, tid, REWRITE_SIMILARITY, How::Transliteration);
                }
            }
        }
        if len >= 4 {
            // The same consonants with other vowels that may stand for them (`RAHEEM` ~ `RAHIM`,
            // `WEEEYE` ~ `WEIYE`).
            for &tid in self
                .consonants
                .get(&keys::consonants(text))
                .into_iter()
                .flatten()
            {
                let w = &self.words[tid as usize];
                if w.len() >= 4 && keys::latin_alike(text, w) {
                    put(&mut out, tid, ALIKE_SIMILARITY, How::Transliteration);
                }
            }
        }
        let depth = allowed_edits(len);
        if depth > 0 {
            // A word reached by several deletions is compared once.
            let mut compared: Vec<u32> = Vec::new();
            for key in deletion_keys(text, depth) {
                let h = hash(&key);
                let from = self.deletions.partition_point(|(k, _)| *k < h);
                for &(k, tid) in &self.deletions[from..] {
                    if k != h {
                        break;
                    }
                    let w = &self.words[tid as usize];
                    if w == text || compared.contains(&tid) {
                        continue;
                    }
                    compared.push(tid);
                    let allowed = allowed_for(len, w.len());
                    if let Some(d) = edits(text, w, allowed) {
                        if d == 1 && vowel_for_vowel(text, w) {
                            put(&mut out, tid, VOWEL_SIMILARITY, How::Transliteration);
                        } else {
                            put(
                                &mut out,
                                tid,
                                typo_similarity(d, len.max(w.len())),
                                How::Typo,
                            );
                        }
                    }
                }
            }
        }
        let phonetic = if len >= 5 {
            keys::phonetic(text)
        } else {
            Vec::new()
        };
        let start = if phonetic.is_empty() {
            0
        } else {
            rewritten_start(text)
        };
        for key in phonetic {
            for &tid in self.phonetic.get(&key).into_iter().flatten() {
                let w = &self.words[tid as usize];
                let (a, b) = (len.min(w.len()), len.max(w.len()));
                if a >= 5 && a * 3 >= b * 2 && same_start(start, self.starts[tid as usize]) {
                    put(&mut out, tid, PHONETIC_SIMILARITY, How::Phonetic);
                }
            }
        }
        out
    }

    /// The names scoring at least `threshold` against `query`, best per entry, best first.
    pub fn screen(&self, query: &str, threshold: f64) -> Vec<Match> {
        self.run(query, threshold, false)
    }

    /// The same result by scoring every name of the list: proof that the index loses nothing.
    pub fn screen_all(&self, query: &str, threshold: f64) -> Vec<Match> {
        self.run(query, threshold, true)
    }

    fn run(&self, query: &str, threshold: f64, everything: bool) -> Vec<Match> {
        let mut best: HashMap<u32, (f64, u32, Explanation)> = HashMap::default();
        let mut scratch = Scratch::default();
        let mut known: HashMap<(String, bool), Candidates> = HashMap::default();
        for r in readings(query, false) {
            for number in &r.imo {
                for &name in self.imo.get(number).into_iter().flatten() {
                    let ex = Explanation {
                        words: vec![WordMatch {
                            query: format!("IMO {number}"),
                            listed: format!("IMO {number}"),
                            how: How::Imo,
                            similarity: 1.0,
                        }],
                        ..Explanation::default()
                    };
                    best.insert(self.names[name as usize].entry, (1.0, name, ex));
                }
            }
            if r.tokens.is_empty() {
                continue;
            }
            // Readings share most of their words: each word's candidates are found once.
            let cands: Vec<Candidates> = r
                .tokens
                .iter()
                .map(|t| {
                    known
                        .entry((t.text.clone(), t.abjad))
                        .or_insert_with(|| self.candidates(t))
                        .clone()
                })
                .collect();
            let weights: Vec<f64> = r
                .tokens
                .iter()
                .zip(&cands)
                .map(|(t, c)| {
                    c.iter()
                        .find(|(_, _, h)| *h == How::Exact)
                        .map_or(self.unknown_weight, |(tid, _, _)| self.idf[*tid as usize])
                        .min(if t.initials { INITIAL_WEIGHT } else { f64::MAX })
                })
                .collect();
            let mut by_word: HashMap<u32, Vec<(usize, f64, How)>> = HashMap::default();
            for (qi, cs) in cands.iter().enumerate() {
                for &(tid, sim, how) in cs {
                    by_word.entry(tid).or_default().push((qi, sim, how));
                }
            }
            let variants: Vec<u32> = if everything {
                (0..self.variants.len() as u32).collect()
            } else {
                self.retrieve(&cands, &r.tokens)
            };
            // The consonant ends of the query's words, once per reading.
            scratch.q_ends.clear();
            scratch
                .q_ends
                .extend(r.tokens.iter().map(|t| keys::consonant_ends(&t.text)));
            for vid in variants {
                let v = &self.variants[vid as usize];
                let name = &self.names[v.name as usize];
                let floor = if name.weak {
                    threshold.max(WEAK_THRESHOLD)
                } else {
                    threshold
                };
                if let Some(score) = self.score(&r, &by_word, &weights, v, name, &mut scratch) {
                    let better = best.get(&name.entry).is_none_or(|b| score > b.0);
                    if score >= floor && better {
                        let ex = self.explain(&r, v, &scratch);
                        best.insert(name.entry, (score, v.name, ex));
                    }
                }
            }
        }
        let mut out: Vec<Match> = best
            .into_iter()
            .map(|(entry, (score, id, explanation))| {
                let name = &self.names[id as usize];
                Match {
                    entry,
                    matched: name.text.clone(),
                    alias: name.alias,
                    weak: name.weak,
                    score: (score * 1000.0).round() / 1000.0,
                    explanation,
                }
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.entry.cmp(&b.entry)));
        out
    }

    /// The variants sharing a candidate word with the query. A query word whose own spelling is
    /// on many names (`AL`, `MOHAMMED`) brings variants only when the query has no rarer word.
    fn retrieve(&self, cands: &[Candidates], tokens: &[Token]) -> Vec<u32> {
        // Initials, titles and particles never bring names by themselves.
        let brings_nothing = |t: &Token| {
            t.initials
                || t.text.len() == 1
                || t.title
                || crate::names::is(&t.text, crate::names::WordKind::Particle)
        };
        // Common too: a word whose loose readings together are on many names (a short abjad
        // word like `MR` stands for `OMAR`, `AMIR`, `MOORE`...).
        let common = |c: &Candidates| {
            c.iter().any(|(tid, sim, _)| {
                *sim >= ABJAD_SIMILARITY && self.df[*tid as usize] > self.common_df
            }) || c
                .iter()
                .map(|(tid, _, _)| self.df[*tid as usize])
                .sum::<u32>()
                > 4 * self.common_df
        };
        // An initial (`D.` of `D. IBRAHIM`) stands for any given name with its letter, a title
        // (`Mr.`) or a particle (`AL`) for anyone.
        let rare: Vec<&Candidates> = cands
            .iter()
            .zip(tokens)
            .filter(|(c, t)| !c.is_empty() && !common(c) && !brings_nothing(t))
            .map(|(c, _)| c)
            .collect();
        // With every word common, the rarer half of them: a name that has none of those cannot
        // match most of the query.
        let source: Vec<&Candidates> = if rare.is_empty() {
            let spread = |c: &Candidates| -> u32 {
                c.iter().map(|(tid, _, _)| self.df[*tid as usize]).sum()
            };
            let words: Vec<&Candidates> = cands
                .iter()
                .zip(tokens)
                .filter(|(c, t)| !c.is_empty() && !brings_nothing(t))
                .map(|(c, _)| c)
                .collect();
            // Only a name made of nothing else (`Abu Ali`... `Dr. A.`) is looked up by them; when
            // its other words have no candidates at all (`AL HLWANY JHYN`), no name can match.
            let mut all: Vec<&Candidates> = if words.is_empty() && tokens.iter().all(brings_nothing)
            {
                cands.iter().filter(|c| !c.is_empty()).collect()
            } else {
                words
            };
            all.sort_by_key(|c| spread(c));
            let half = all.len().div_ceil(2);
            all.truncate(half);
            all
        } else {
            rare
        };
        // Each variant once per source word that brings it; with many source words, a name must
        // be brought by half of them (a name that shares one word of a six-word query does not
        // come near 0.85). Measured: no case of the evaluation is lost, and the p99 per name
        // fell from 0.91 to 0.54 ms (BENCHMARKS.md).
        let mut out: Vec<u32> = Vec::new();
        for c in &source {
            let mut brought: Vec<u32> = c
                .iter()
                .flat_map(|(tid, _, _)| self.postings[*tid as usize].iter().copied())
                .collect();
            brought.sort_unstable();
            brought.dedup();
            out.extend(brought);
        }
        out.sort_unstable();
        let needed = (source.len() / 2).max(1);
        out.chunk_by(|a, b| a == b)
            .filter(|same| same.len() >= needed)
            .map(|same| same[0])
            .collect()
    }

    // Positions index the tokens and the bit masks of used tokens alike.
    #[allow(clippy::needless_range_loop)]
    fn score(
        &self,
        r: &Tokens,
        by_word: &HashMap<u32, Vec<(usize, f64, How)>>,
        weights: &[f64],
        v: &Variant,
        name: &Name,
        scratch: &mut Scratch,
    ) -> Option<f64> {
        let q = &r.tokens;
        let n = &v.toks;
        if q.len() > 128 || n.len() > 128 {
            return None;
        }
        let w = |j: usize| self.idf[n[j].tid as usize];
        let word = |j: usize| self.words[n[j].tid as usize].as_str();
        let bit = |i: usize| 1u128 << i;
        // Regular pairs, best first.
        let pairs = &mut scratch.pairs;
        pairs.clear();
        for (j, t) in n.iter().enumerate() {
            for &(qi, sim, how) in by_word.get(&t.tid).into_iter().flatten() {
                pairs.push((qi, j, sim, how));
            }
        }
        pairs.sort_by(|a, b| b.2.total_cmp(&a.2).then(w(b.1).total_cmp(&w(a.1))));
        let q_ends = &scratch.q_ends;
        let found = &mut scratch.found;
        found.clear();
        let (mut q_used, mut n_used) = (0u128, 0u128);
        let (mut num, mut den) = (0.0, 0.0);
        let (mut strong_surname, mut first) = (false, false);
        for &(qi, j, sim, how) in pairs.iter() {
            if q_used & bit(qi) != 0 || n_used & bit(j) != 0 {
                continue;
            }
            q_used |= bit(qi);
            n_used |= bit(j);
            let how = if (q[qi].joined || n[j].joined) && matches!(how, How::Exact | How::Typo) {
                How::Particle
            } else {
                how
            };
            num += 2.0 * w(j) * sim;
            den += 2.0 * w(j);
            // Only a match that says something (not a loose match of a short word) makes the
            // surname or first given name count as present for a partial name.
            let strong = match how {
                How::Typo | How::Phonetic => word(j).len() >= 5,
                How::Transliteration if q[qi].abjad => keys::consonants(&q[qi].text).len() >= 3,
                How::Transliteration => word(j).len() >= 5 || sim >= GROUP_SIMILARITY,
                _ => true,
            };
            strong_surname |= n[j].surname && strong;
            // A title matched (`Maulawi KHAN` ~ `KHAN, Maulawi Adam`) says as much as the first
            // given name.
            first |= (n[j].first_given || n[j].title) && strong;
            found.push(Found::pair(qi, j, sim, how));
        }
        // One word against two adjacent ones, either way round; an abjad side by its consonants.
        // The consonant ends of one word, or of two written together.
        let joined_ends = |a: Option<(u8, u8)>, b: Option<(u8, u8)>| match (a, b) {
            (Some((f, _)), Some((_, l))) => Some((f, l)),
            (x, None) | (None, x) => x,
        };
        let ends = |j: usize| self.ends[n[j].tid as usize];
        let close_abjad = |abjad_ends: Option<(u8, u8)>,
                           latin_ends: Option<(u8, u8)>,
                           abjad: (&str, &str),
                           latin: (&str, &str)| {
            if abjad_ends.is_none() || abjad_ends != latin_ends {
                return None;
            }
            let (a, l) = (
                format!("{}{}", abjad.0, abjad.1),
                format!("{}{}", latin.0, latin.1),
            );
            keys::abjad_matches(&a, &l).then_some(ABJAD_SIMILARITY)
        };
        let close = |a: &str, b1: &str, b2: &str| -> Option<f64> {
            let len = b1.len() + b2.len();
            if a.len() < 6 || a.len().abs_diff(len) > 2 || !a.starts_with(&b1[..1]) {
                return None;
            }
            if a.len() == len && a.starts_with(b1) && a.ends_with(b2) {
                return Some(1.0);
            }
            let joined = format!("{b1}{b2}");
            edits(a, &joined, allowed_edits(a.len().min(len)))
                .map(|d| typo_similarity(d, a.len().max(len)))
        };
        for qi in 0..q.len() {
            if q_used & bit(qi) != 0 {
                continue;
            }
            for j in 0..n.len().saturating_sub(1) {
                if n_used & (bit(j) | bit(j + 1)) != 0 {
                    continue;
                }
                let sim = if q[qi].abjad {
                    close_abjad(
                        q_ends[qi],
                        joined_ends(ends(j), ends(j + 1)),
                        (&q[qi].text, ""),
                        (word(j), word(j + 1)),
                    )
                } else {
                    close(&q[qi].text, word(j), word(j + 1))
                };
                if let Some(sim) = sim {
                    q_used |= bit(qi);
                    n_used |= bit(j) | bit(j + 1);
                    let weight = w(j) + w(j + 1);
                    num += 2.0 * weight * sim;
                    den += 2.0 * weight;
                    strong_surname |= n[j].surname || n[j + 1].surname;
                    first |= n[j].first_given || n[j + 1].first_given;
                    found.push(Found {
                        n2: Some(j + 1),
                        how: How::Joined,
                        ..Found::pair(qi, j, sim, How::Joined)
                    });
                    break;
                }
            }
        }
        for qi in 0..q.len().saturating_sub(1) {
            if q_used & (bit(qi) | bit(qi + 1)) != 0 {
                continue;
            }
            for j in 0..n.len() {
                if n_used & bit(j) != 0 {
                    continue;
                }
                let sim = if q[qi].abjad || q[qi + 1].abjad {
                    close_abjad(
                        joined_ends(q_ends[qi], q_ends[qi + 1]),
                        ends(j),
                        (&q[qi].text, &q[qi + 1].text),
                        (word(j), ""),
                    )
                } else {
                    close(word(j), &q[qi].text, &q[qi + 1].text)
                };
                if let Some(sim) = sim {
                    q_used |= bit(qi) | bit(qi + 1);
                    n_used |= bit(j);
                    num += 2.0 * w(j) * sim;
                    den += 2.0 * w(j);
                    strong_surname |= n[j].surname;
                    first |= n[j].first_given;
                    found.push(Found {
                        q2: Some(qi + 1),
                        ..Found::pair(qi, j, sim, How::Split)
                    });
                    break;
                }
            }
        }
        if found.is_empty() {
            return None;
        }
        // Initials against given names, on either side, in people's names.
        let mut initial_weight = 0.0;
        let mut initial_rest = 0.0;
        if name.person {
            for qi in 0..q.len() {
                if q_used & bit(qi) != 0 || !(q[qi].initials || q[qi].text.len() == 1) {
                    continue;
                }
                for (k, letter) in q[qi].text.char_indices() {
                    let pick = (0..n.len())
                        .filter(|&j| {
                            n_used & bit(j) == 0 && !n[j].surname && word(j).starts_with(letter)
                        })
                        .min_by_key(|&j| !n[j].first_given);
                    if let Some(j) = pick {
                        n_used |= bit(j);
                        q_used |= bit(qi);
                        first |= n[j].first_given;
                        let wi = w(j).min(INITIAL_WEIGHT);
                        initial_weight += wi;
                        initial_rest += w(j) - wi;
                        found.push(Found {
                            letter: Some(k),
                            ..Found::pair(qi, j, 1.0, How::Initial)
                        });
                    }
                }
            }
            for j in 0..n.len() {
                if n_used & bit(j) != 0 || n[j].surname || !(n[j].initials || word(j).len() == 1) {
                    continue;
                }
                for (k, letter) in word(j).char_indices() {
                    if let Some(qi) = (0..q.len())
                        .find(|&qi| q_used & bit(qi) == 0 && q[qi].text.starts_with(letter))
                    {
                        q_used |= bit(qi);
                        n_used |= bit(j);
                        first |= n[j].first_given;
                        found.push(Found {
                            letter: Some(k),
                            listed_letter: true,
                            ..Found::pair(qi, j, 1.0, How::Initial)
                        });
                    }
                }
                if n_used & bit(j) != 0 {
                    let wi = w(j).min(INITIAL_WEIGHT);
                    initial_weight += wi;
                    initial_rest += w(j) - wi;
                }
            }
        }
        let partial = name.person && strong_surname && first;
        let (alpha_n, alpha_q) = if partial {
            (MIDDLE_LISTED, MIDDLE_QUERY)
        } else {
            (1.0, 1.0)
        };
        num += 2.0 * initial_weight;
        den += 2.0 * initial_weight + alpha_n * initial_rest;
        for j in 0..n.len() {
            if n_used & bit(j) == 0 {
                // A left-out surname weighs fully: only given names may be left out.
                den += if n[j].title {
                    TITLE_LEFT_OUT
                } else if n[j].surname {
                    1.0
                } else {
                    alpha_n
                } * w(j);
            }
        }
        // A query word left over that stands for a listed word already matched is the name
        // written twice (`MUDTAFA KAMEL MUSTAFA` ~ `MOSTAFA KAMEL MOSTAFA`, one `MOSTAFA` listed):
        // it weighs as little as a title.
        let repeat = |qi: usize| {
            scratch
                .pairs
                .iter()
                .any(|&(pq, j, _, _)| pq == qi && n_used & bit(j) != 0)
        };
        for (qi, weight) in weights.iter().enumerate() {
            if q_used & bit(qi) == 0 {
                den += if q[qi].title || repeat(qi) {
                    TITLE_LEFT_OUT
                } else {
                    alpha_q
                } * weight;
            }
        }
        // A name of one word (`AMBER`, `CIMEX`) is where a typo most often makes another
        // name: a typo counts from 8 letters, a phonetic match from 6 with one edit, an abjad
        // spelling with four consonants.
        let mut core = (0..n.len()).filter(|&j| !n[j].title);
        if let (Some(only), None) = (core.next(), core.next()) {
            if !found
                .iter()
                .any(|f| f.n == only && one_word_ok(f, &q[f.q].text, q[f.q].abjad, word(only)))
            {
                return None;
            }
        }
        scratch.partial = partial && n_used.count_ones() < n.len() as u32;
        scratch.q_used = q_used;
        scratch.n_used = n_used;
        Some(if den > 0.0 { num / den } else { 0.0 })
    }

    /// The explanation of the alignment `score` left in `scratch`.
    fn explain(&self, r: &Tokens, v: &Variant, scratch: &Scratch) -> Explanation {
        let q = &r.tokens;
        let n = &v.toks;
        let words = scratch
            .found
            .iter()
            .map(|f| {
                let letter = |s: &str| {
                    f.letter
                        .and_then(|k| s[k..].chars().next())
                        .map(String::from)
                };
                let (query, listed) = if f.how == How::Initial {
                    if f.listed_letter {
                        (
                            q[f.q].display.clone(),
                            letter(&self.words[n[f.n].tid as usize]).unwrap_or_default(),
                        )
                    } else {
                        (
                            letter(&q[f.q].text).unwrap_or_default(),
                            n[f.n].display.clone(),
                        )
                    }
                } else {
                    let query = match f.q2 {
                        Some(q2) => format!("{} {}", q[f.q].display, q[q2].display),
                        None => q[f.q].display.clone(),
                    };
                    let listed = match f.n2 {
                        Some(n2) => format!("{} {}", n[f.n].display, n[n2].display),
                        None => n[f.n].display.clone(),
                    };
                    (query, listed)
                };
                WordMatch {
                    query,
                    listed,
                    how: f.how,
                    similarity: (f.sim * 1000.0).round() / 1000.0,
                }
            })
            .collect();
        let bit = |i: usize| 1u128 << i;
        Explanation {
            words,
            unmatched_query: (0..q.len())
                .filter(|i| scratch.q_used & bit(*i) == 0)
                .map(|i| q[i].display.clone())
                .collect(),
            unmatched_listed: (0..n.len())
                .filter(|j| scratch.n_used & bit(*j) == 0)
                .map(|j| n[j].display.clone())
                .collect(),
            partial: scratch.partial,
        }
    }
}

/// One matched word pair of an alignment, by position.
#[derive(Debug, Clone, Copy)]
struct Found {
    q: usize,
    q2: Option<usize>,
    n: usize,
    n2: Option<usize>,
    /// The initial's letter (byte offset), for `Initial`.
    letter: Option<usize>,
    /// The initial is on the list's side.
    listed_letter: bool,
    sim: f64,
    how: How,
}

impl Found {
    fn pair(q: usize, n: usize, sim: f64, how: How) -> Self {
        Self {
            q,
            q2: None,
            n,
            n2: None,
            letter: None,
            listed_letter: false,
            sim,
            how,
        }
    }
}

/// Buffers reused from one scored variant to the next.
#[derive(Default)]
struct Scratch {
    pairs: Vec<(usize, usize, f64, How)>,
    /// `keys::consonant_ends` of each query word.
    q_ends: Vec<Option<(u8, u8)>>,
    found: Vec<Found>,
    q_used: u128,
    n_used: u128,
    partial: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(names: &[(&str, bool)]) -> Index {
        Index::build(names.iter().enumerate().map(|(i, (n, person))| ListedName {
            person: *person,
            ..ListedName::plain(i as u32, *n)
        }))
    }

    fn top(idx: &Index, q: &str) -> Option<(u32, f64)> {
        idx.screen(q, DEFAULT_THRESHOLD)
            .first()
            .map(|m| (m.entry, m.score))
    }

    #[test]
    fn exact_reordered_typo_and_legal_forms() {
        let idx = index(&[
            ("BANCO NACIONAL DE CUBA", false),
            ("CIMEX, S.A.", false),
            ("ABBAS, Abu", true),
            ("GLOBAL TRADING LLC", false),
        ]);
        for q in [
            "Banco Nacional de Cuba",
            "CUBA BANCO NACIONAL DE",
            "Banco Nacionl de Cuba",
        ] {
            assert_eq!(top(&idx, q).map(|t| t.0), Some(0), "{q}");
        }
        assert_eq!(top(&idx, "Cimex Ltd"), Some((1, 1.0)));
        assert_eq!(top(&idx, "Abu Abbas").map(|t| t.0), Some(2));
        assert!(top(&idx, "Acme Corp").is_none());
        assert!(top(&idx, "Cuba").is_none(), "one shared word is not a hit");
        for q in [
            "Banco Nacionl de Cuba",
            "Cimex",
            "global trading",
            "CUBA BANCO NACIONAL DE",
            "Abu Abbas",
        ] {
            assert_eq!(
                idx.screen(q, DEFAULT_THRESHOLD),
                idx.screen_all(q, DEFAULT_THRESHOLD),
                "{q}"
            );
        }
    }

    #[test]
    fn names_that_know_people() {
        let idx = index(&[
            ("BIN LADIN, Usama bin Muhammad bin Awad", true),
            ("AL-ZAWAHIRI, Ayman", true),
            ("HUSSEIN, Saddam", true),
            ("LI, Fangwei", true),
            ("SMITH, John", true),
            ("ORIENTAL TRADING COMPANY", false),
        ]);
        for (q, want) in [
            ("Usama bin Ladin", 0),
            ("U. Bin Ladin", 0),
            ("Osama Bin Laden", 0),
            ("Ayman al Zawahiri", 1),
            ("Ayman alZawahiri", 1),
            ("Dr. Ayman Al-Zawahri", 1),
            ("Saddam Husayn", 2),
            ("صدام حسين", 2),
            ("李方伟", 3),
            ("Li Fang Wei", 3),
            ("J. Smith", 4),
            ("John Robert Smith", 4),
        ] {
            let got = idx.screen(q, DEFAULT_THRESHOLD);
            assert_eq!(got.first().map(|m| m.entry), Some(want), "{q}: {got:?}");
        }
        // Retrieval loses nothing on these: the same entries and scores as scoring every name
        // (of two variants that score alike, either may explain the hit).
        let found = |m: Vec<Match>| -> Vec<(u32, f64)> {
            m.into_iter().map(|m| (m.entry, m.score)).collect()
        };
        for q in [
            "U. Bin Ladin",
            "Dr. Ayman Al-Zawahri",
            "صدام حسين",
            "Mr. John Robert Smith",
            "Sheikh Usama bin Muhammad bin Awad bin Ladin",
        ] {
            assert_eq!(
                found(idx.screen(q, DEFAULT_THRESHOLD)),
                found(idx.screen_all(q, DEFAULT_THRESHOLD)),
                "{q}"
            );
        }
        let m = &idx.screen("Usama bin Ladin", DEFAULT_THRESHOLD)[0];
        assert!(m.explanation.partial && m.score < 1.0, "{m:?}");
        assert!(m.explanation.unmatched_listed.contains(&"AWAD".to_owned()));
        let m = &idx.screen("U. Bin Ladin", DEFAULT_THRESHOLD)[0];
        assert!(m.explanation.words.iter().any(|w| w.how == How::Initial));
        let m = &idx.screen("Ayman alZawahiri", DEFAULT_THRESHOLD)[0];
        assert!(
            m.explanation.words.iter().any(|w| w.how == How::Particle),
            "{m:?}"
        );
        assert!(top(&idx, "Smith").is_none());
        assert!(top(&idx, "Oriental").is_none());
    }

    #[test]
    fn one_word_names_take_only_close_spellings() {
        let idx = index(&[("CIMEX", false), ("ELITE", false), ("RAHIM, Fazil", true)]);
        // Two neighbouring letters swapped, but not the first two.
        assert_eq!(top(&idx, "CIEMX").map(|t| t.0), Some(0));
        assert!(top(&idx, "ICMEX").is_none());
        // Other vowels throughout: a one-word name only from 8 letters...
        assert!(top(&idx, "ALLETE").is_none());
        // ...while in a longer name they count.
        let m = &idx.screen("Fazil Raheem", DEFAULT_THRESHOLD)[0];
        assert_eq!(m.entry, 2);
        assert!(m
            .explanation
            .words
            .iter()
            .any(|w| w.query == "RAHEEM" && w.how == How::Transliteration));
    }

    #[test]
    fn disguises_and_vessels() {
        let idx = Index::build([
            ListedName::plain(0, "BANK MELLI IRAN"),
            ListedName {
                imo: vec!["7406784".into()],
                ..ListedName::plain(1, "EBANO")
            },
        ]);
        for q in [
            "BANK MELLI IRAN",
            "Bаnk Mеlli Irаn",
            "B\u{200B}ANK ME\u{00AD}LLI IR\u{202E}AN",
            "ＢＡＮＫ ＭＥＬＬＩ ＩＲＡＮ",
            "𝐁𝐀𝐍𝐊 𝐌𝐄𝐋𝐋𝐈 𝐈𝐑𝐀𝐍",
        ] {
            assert_eq!(top(&idx, q), Some((0, 1.0)), "{q:?}");
        }
        assert_eq!(top(&idx, "M/V EBANO"), Some((1, 1.0)));
        assert_eq!(top(&idx, "MV Some Other Name IMO 7406784"), Some((1, 1.0)));
    }
}
