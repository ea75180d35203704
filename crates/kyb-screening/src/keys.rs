//! Keys under which two spellings of one name meet: a phonetic code (Double Metaphone, from
//! `rphonetic`) taken after the transliteration rules of `data/transliteration.txt`; the
//! groups of that file (`MUHAMMAD = MOHAMMED = …`); and, for words written in an abjad
//! (Arabic, Persian: short vowels unwritten), a comparison of consonants in which the Latin
//! spelling's vowels may go unwritten.

use std::collections::HashMap;
use std::sync::LazyLock;

use rphonetic::DoubleMetaphone;

struct Rule {
    from: String,
    to: String,
    start: bool,
    end: bool,
}

struct Rules {
    rewrites: Vec<Rule>,
    groups: HashMap<String, u32>,
}

static RULES: LazyLock<Rules> = LazyLock::new(|| {
    let mut rewrites = Vec::new();
    let mut groups = HashMap::new();
    for (n, line) in include_str!("../data/transliteration.txt")
        .lines()
        .enumerate()
    {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(words) = line.strip_prefix('=') {
            for w in words.split_whitespace() {
                groups.insert(w.to_owned(), n as u32);
            }
        } else if let Some((from, to)) = line.split_once('>') {
            let from = from.trim();
            let start = from.starts_with('^');
            let end = from.ends_with('$');
            rewrites.push(Rule {
                from: from
                    .trim_start_matches('^')
                    .trim_end_matches('$')
                    .to_owned(),
                to: to.trim().to_owned(),
                start,
                end,
            });
        } else {
            panic!("data/transliteration.txt line {}: {line:?}", n + 1);
        }
    }
    Rules { rewrites, groups }
});

static METAPHONE: LazyLock<DoubleMetaphone> = LazyLock::new(|| DoubleMetaphone::new(Some(6)));

/// The spelling group of a word in `data/transliteration.txt`, if it is in one.
pub fn group(word: &str) -> Option<u32> {
    RULES.groups.get(word).copied()
}

/// The word after the transliteration rewrites, applied until nothing changes (`OOURA` →
/// `OURA` → `URA`, as `OURA` is).
pub fn rewritten(word: &str) -> String {
    let mut w = rewrite_once(word);
    if w == word {
        return w;
    }
    for _ in 0..3 {
        let again = rewrite_once(&w);
        if again == w {
            break;
        }
        w = again;
    }
    w
}

fn rewrite_once(word: &str) -> String {
    let mut w = word.to_owned();
    for r in &RULES.rewrites {
        if r.start && r.end {
            if w == r.from {
                w.clone_from(&r.to);
            }
        } else if r.start {
            if let Some(rest) = w.strip_prefix(r.from.as_str()) {
                w = format!("{}{rest}", r.to);
            }
        } else if r.end {
            if let Some(rest) = w.strip_suffix(r.from.as_str()) {
                w = format!("{rest}{}", r.to);
            }
        } else if w.contains(r.from.as_str()) {
            w = w.replace(r.from.as_str(), &r.to);
        }
    }
    w
}

/// The phonetic codes of a word (primary, and the alternate when it differs); none for words
/// too short or not made of letters to say anything.
pub fn phonetic(word: &str) -> Vec<String> {
    if word.len() < 3 || !word.bytes().all(|b| b.is_ascii_uppercase()) {
        return Vec::new();
    }
    let w = rewritten(word);
    let r = METAPHONE.double_metaphone(&w);
    let (a, b) = (r.primary(), r.alternate());
    let mut out = Vec::with_capacity(2);
    if a.len() >= 2 {
        out.push(a.clone());
    }
    if b != a && b.len() >= 2 {
        out.push(b);
    }
    out
}

/// Consonant classes: letters that one Arabic or Persian letter is commonly written as.
fn class(c: u8) -> u8 {
    match c {
        b'Q' | b'C' | b'G' | b'K' => b'K',
        b'V' => b'F',
        b'P' => b'B',
        b'X' => b'K',
        other => other,
    }
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'A' | b'E' | b'I' | b'O' | b'U' | b'Y' | b'W')
}

/// The consonants of a word by class, doubled letters once (`MUHAMMAD` → `MHMD`); the key
/// under which an abjad spelling finds Latin ones. `TSH` (Arabic `تش`, how Arabic writes a
/// `CH`) is `SH`.
pub fn consonants(word: &str) -> String {
    let word = abjad_ch(word);
    let mut out = Vec::with_capacity(word.len());
    for &c in word.as_bytes() {
        if !c.is_ascii_alphabetic() || is_vowel(c) {
            continue;
        }
        let k = class(c);
        if out.last() != Some(&k) {
            out.push(k);
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

/// `TSH` as `SH`: Arabic writes a `CH` as `تش` (`TSH`) or `ش` (`SH`).
fn abjad_ch(word: &str) -> std::borrow::Cow<'_, str> {
    if word.contains("TSH") {
        word.replace("TSH", "SH").into()
    } else {
        word.into()
    }
}

/// The readings of a Latin spelling that an abjad one may stand for: a `CH` is `SH` (French,
/// `CHOUKA` ~ `شوكا`, `تشوكا`) or `KH` (`MICHAEL` ~ `ميخائيل`).
fn latin_ch(word: &str) -> Vec<std::borrow::Cow<'_, str>> {
    if word.contains("CH") {
        vec![word.replace("CH", "SH").into(), word.into()]
    } else {
        vec![word.into()]
    }
}

/// The keys under which a Latin word is found by abjad spellings (`consonants` of each
/// reading of its `CH`).
pub fn consonant_keys(word: &str) -> Vec<String> {
    let mut keys: Vec<String> = latin_ch(word).iter().map(|w| consonants(w)).collect();
    keys.dedup();
    keys.retain(|k| !k.is_empty());
    keys
}

/// Vowel qualities, as bits: what a Latin vowel run may stand for, or which one an abjad's
/// vowel letter is (`ا` a, `ي` i, `و` u).
const QA: u8 = 1;
const QI: u8 = 2;
const QU: u8 = 4;

fn quality(c: u8) -> u8 {
    match c {
        b'A' => QA,
        b'E' => QI | QA,
        b'I' | b'Y' => QI,
        b'O' => QU | QA,
        b'U' | b'W' => QU,
        _ => 0,
    }
}

/// One symbol of a spelling for `abjad_matches`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sym {
    /// A consonant, by class.
    C(u8),
    /// A Latin vowel run: its qualities, and whether it is long (two letters or more).
    Run { q: u8, long: bool },
    /// A vowel letter of the abjad (a long vowel), with its quality.
    V(u8),
}

/// A spelling as symbols: consonants by class (Latin's doubled ones once; two alike in an
/// abjad are two sounds), and vowels as runs (Latin) or letters (abjad).
fn symbols(word: &str, abjad: bool) -> Vec<Sym> {
    let mut out: Vec<Sym> = Vec::with_capacity(word.len());
    for &c in word.as_bytes() {
        if !c.is_ascii_alphabetic() {
            continue;
        }
        if is_vowel(c) {
            if abjad {
                // A vowel letter in front only carries the word's first vowel, whichever it is
                // (`ابراهيم` IBRAHIM, `أسامة` OSAMA).
                let q = if out.is_empty() {
                    QA | QI | QU
                } else {
                    quality(c)
                };
                out.push(Sym::V(q));
            } else if let Some(Sym::Run { q, long }) = out.last_mut() {
                *q |= quality(c);
                *long = true;
            } else {
                out.push(Sym::Run {
                    q: quality(c),
                    long: false,
                });
            }
            continue;
        }
        let k = Sym::C(class(c));
        if abjad || out.last() != Some(&k) {
            out.push(k);
        }
    }
    out
}

/// The first and last consonant (by class) of a spelling: a cheap test before `abjad_matches`,
/// which needs both to agree. A `CH` counts as `SH`, as Arabic writes it.
pub fn consonant_ends(word: &str) -> Option<(u8, u8)> {
    let word = abjad_ch(word);
    let word = word.replace("CH", "SH");
    let c = |b: &u8| b.is_ascii_alphabetic() && !is_vowel(*b);
    let first = word.bytes().find(c)?;
    let last = word.bytes().rev().find(c)?;
    Some((class(first), class(last)))
}

/// Whether an abjad word transliterated to Latin (`HSYN`, `MHMD`) can be a Latin spelling of
/// the same name (`HUSSEIN`, `MUHAMMAD`): the consonants agree by class and in order; a single
/// Latin vowel may be unwritten in the abjad, but a long one (`EI`, `OU`) must stand against
/// one of the abjad's vowel letters, which may themselves be left out in Latin.
pub fn abjad_matches(abjad: &str, latin: &str) -> bool {
    let a = symbols(&abjad_ch(abjad), true);
    latin_ch(latin)
        .iter()
        .any(|l| symbols_match(&a, &symbols(l, false)))
}

fn symbols_match(a: &[Sym], l: &[Sym]) -> bool {
    // One consonant is enough only with a written vowel beside it (`علي` → `LY` ~ `ALI`).
    let consonants = a.iter().filter(|c| matches!(c, Sym::C(_))).count();
    if consonants == 0 || (consonants == 1 && a.len() < 2) {
        return false;
    }
    // Bit j of `reach`: the abjad symbols so far explain the first j Latin ones (a row at a time,
    // as bits: this runs for many candidate words of every abjad query word).
    let m = l.len();
    if m >= 127 {
        return false;
    }
    let mask = |f: &dyn Fn(&Sym) -> bool| -> u128 {
        l.iter()
            .enumerate()
            .filter(|(_, s)| f(s))
            .fold(0u128, |acc, (j, _)| acc | (1u128 << j))
    };
    // A Latin vowel the abjad does not write: short vowels are not written, and Latin's vowel
    // pairs (`OU`, `EU`, `AI`) are as often one short vowel as a long one. (Vowel runs never
    // stand side by side, so one step covers them.)
    let runs = mask(&|s| matches!(s, Sym::Run { .. }));
    let skip_short = |reach: u128| reach | ((reach & runs) << 1);
    let mut reach = skip_short(1);
    for (i, &c) in a.iter().enumerate() {
        // A consonant written twice in the abjad (`الله`, `مشهداني`) may be one in Latin; of two
        // vowel letters side by side (`يو` of `YUSUF`), one may share the other's Latin vowels.
        let beside = |k: usize| a.get(k).is_some_and(|x| matches!(x, Sym::V(_)));
        // A final `ه` is often a vowel ending in Latin (`SHIHATA`).
        let skippable = match c {
            Sym::C(b'H') if i + 1 == a.len() && i > 0 => true,
            Sym::C(_) => i > 0 && a[i - 1] == c,
            Sym::V(_) => (i > 0 && beside(i - 1)) || beside(i + 1),
            Sym::Run { .. } => false,
        };
        let matching = match c {
            Sym::V(q) => mask(&|s| matches!(s, Sym::Run { q: lq, .. } if q & lq != 0)),
            Sym::C(x) => mask(&|s| *s == Sym::C(x)),
            Sym::Run { .. } => 0,
        };
        let mut next = (reach & matching) << 1;
        if skippable {
            next |= reach;
        }
        reach = skip_short(next);
        if reach == 0 {
            return false;
        }
    }
    reach & (1u128 << m) != 0
}

/// Whether two Latin spellings differ only in their vowels, and each vowel run of one can be
/// the other's (`HAJEE` ~ `HAJI`, `MOULLAH` ~ `MULLAH`, `CHEEEF` ~ `CHIEF`): the same consonants as
/// written and in order, each vowel run against one that shares a quality (`E` is an i or an a,
/// `O` a u or an a). Both start alike: with the same letter, or both with a vowel (`W` and `Y` in
/// front are consonants: `WALI` is not `ALI`).
pub fn latin_alike(a: &str, b: &str) -> bool {
    let starts = match (a.bytes().next(), b.bytes().next()) {
        (Some(x), Some(y)) => x == y || (b"AEIOU".contains(&x) && b"AEIOU".contains(&y)),
        _ => false,
    };
    if !starts || a == b {
        return starts;
    }
    let (sa, sb) = (latin_symbols(a), latin_symbols(b));
    sa.len() == sb.len()
        && sa.iter().zip(&sb).all(|(x, y)| match (x, y) {
            (Sym::C(p), Sym::C(q)) => p == q,
            (Sym::Run { q: p, .. }, Sym::Run { q, .. }) => p & q != 0,
            _ => false,
        })
}

/// A Latin spelling as symbols for `latin_alike`: consonants as written (doubled ones once: no
/// classes, `P` is not `B` between two Latin spellings), vowel runs by quality. `ARROW` is not
/// `EURO`, nor `SEED` `SAYED`.
fn latin_symbols(word: &str) -> Vec<Sym> {
    let mut out: Vec<Sym> = Vec::with_capacity(word.len());
    let last = word.len().saturating_sub(1);
    for (i, &c) in word.as_bytes().iter().enumerate() {
        if !c.is_ascii_alphabetic() {
            continue;
        }
        // Between Latin spellings `W` is a consonant, and `Y` too but at the end (`HAJY`).
        let vowel = match c {
            b'W' => false,
            b'Y' => i == last,
            c => is_vowel(c),
        };
        if vowel {
            match out.last_mut() {
                Some(Sym::Run { q, long }) => {
                    *q |= quality(c);
                    *long = true;
                }
                _ => out.push(Sym::Run {
                    q: quality(c),
                    long: false,
                }),
            }
        } else if out.last() != Some(&Sym::C(c)) {
            out.push(Sym::C(c));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_meet() {
        for (a, b) in [
            ("HUSSEIN", "HUSAYN"),
            ("HOSSEIN", "HUSSAIN"),
            ("KHALID", "HALID"),
            ("YURI", "IOURI"),
            ("SERGEI", "SERGEY"),
            ("ALEKSANDROV", "ALEKSANDROFF"),
            ("QADDAFI", "GADDAFI"),
        ] {
            let (ka, kb) = (phonetic(a), phonetic(b));
            assert!(ka.iter().any(|k| kb.contains(k)), "{a} {ka:?} ~ {b} {kb:?}");
        }
        assert_eq!(group("MOHAMMED"), group("MUHAMMAD"));
        assert_ne!(group("MAHMOUD"), group("MUHAMMAD"));
        assert_eq!(phonetic("ABDURRAHMAN"), phonetic("ABDULRAHMAN"));
    }

    #[test]
    fn latin_spellings_alike() {
        for (a, b) in [
            ("HAJEE", "HAJI"),
            ("HAJY", "HAJI"),
            ("MOULLAH", "MULLAH"),
            ("CHEEEF", "CHIEF"),
            ("MAWLAWY", "MAWLAWI"),
            ("NEEEL", "NIEL"),
            ("OSAMA", "USAMA"),
        ] {
            assert!(latin_alike(a, b), "{a} ~ {b}");
        }
        for (a, b) in [
            ("AURI", "AURA"),
            ("WALI", "ALI"),
            ("MARTIN", "MARTINA"),
            ("HASAN", "HUSIN"),
            ("KADRI", "QARI"),
            ("ARROW", "EURO"),
            ("SEED", "SAYED"),
        ] {
            assert!(!latin_alike(a, b), "{a} !~ {b}");
        }
    }

    #[test]
    fn abjad_consonants() {
        assert!(abjad_matches("MHMD", "MUHAMMAD"));
        assert!(abjad_matches("MHMD", "MOHAMMED"));
        assert!(abjad_matches("HSYN", "HUSSEIN"));
        assert!(abjad_matches("SDM", "SADDAM"));
        assert!(abjad_matches("KHLD", "KHALID"));
        assert!(abjad_matches("YWSF", "YUSUF"));
        assert!(abjad_matches("TKRYTY", "TIKRITI"));
        assert!(abjad_matches("QDHFY", "QADHAFI"));
        assert!(!abjad_matches("MD", "MAHMOUD"));
        assert!(abjad_matches("BWBKR", "BOUBEKEUR"));
        assert!(abjad_matches("ABRAHYM", "IBRAHIM"));
        assert!(abjad_matches("SHHATH", "SHIHATA"));
        assert!(abjad_matches("MSHHDANY", "MASHHADANI"));
        assert!(abjad_matches("SRR", "SURAR"));
        // A Latin CH, written تش or ش in Arabic, or خ.
        assert!(abjad_matches("TSHWKA", "CHOUKA"));
        assert!(abjad_matches("SHHADY", "CHEHADE"));
        assert!(abjad_matches("MYKHAYL", "MICHAEL"));
        assert_eq!(consonants("TSHWKA"), "SHK");
        assert_eq!(consonant_keys("CHOUKA"), ["SHK", "KHK"]);

        assert!(!abjad_matches("HSYN", "HASSAN"), "a written i is not an a");
        assert!(abjad_matches("HSN", "HASSAN"));
        assert!(abjad_matches("HSYN", "HUSAYN"));
        assert!(!abjad_matches("SDM", "SAID"));
        assert_eq!(consonants("MUHAMMAD"), "MHMD");
    }
}
