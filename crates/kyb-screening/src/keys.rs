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

/// The word after the transliteration rewrites.
pub fn rewritten(word: &str) -> String {
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
/// under which an abjad spelling finds Latin ones.
pub fn consonants(word: &str) -> String {
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

/// A spelling as symbols for `abjad_matches`: consonants by class in capitals (a doubled one
/// once), `v` a single vowel letter, `w` a run of vowel letters (a long vowel or diphthong), `y`
/// a long vowel the abjad writes as a letter (`W`, `Y`).
fn symbols(word: &str, abjad: bool) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(word.len());
    let mut run = 0;
    for &c in word.as_bytes() {
        if !c.is_ascii_alphabetic() {
            continue;
        }
        if is_vowel(c) {
            if abjad {
                out.push(b'y');
            } else {
                run += 1;
                match out.last_mut() {
                    Some(last) if run > 1 => *last = b'w',
                    _ => out.push(b'v'),
                }
            }
            continue;
        }
        run = 0;
        let k = class(c);
        // Latin doubles a consonant an abjad writes once; two letters alike in an abjad are two
        // sounds.
        if abjad || out.last() != Some(&k) {
            out.push(k);
        }
    }
    out
}

/// The first and last consonant (by class) of a spelling: a cheap test before `abjad_matches`,
/// which needs both to agree.
pub fn consonant_ends(letters: impl DoubleEndedIterator<Item = u8> + Clone) -> Option<(u8, u8)> {
    let c = |b: &u8| b.is_ascii_alphabetic() && !is_vowel(*b);
    let first = letters.clone().find(c)?;
    let last = letters.rev().find(c)?;
    Some((class(first), class(last)))
}

/// Whether an abjad word transliterated to Latin (`HSYN`, `MHMD`) can be a Latin spelling of
/// the same name (`HUSSEIN`, `MUHAMMAD`): the consonants agree by class and in order; a single
/// Latin vowel may be unwritten in the abjad, but a long one (`EI`, `OU`) must stand against
/// one of the abjad's vowel letters, which may themselves be left out in Latin.
pub fn abjad_matches(abjad: &str, latin: &str) -> bool {
    let a = symbols(abjad, true);
    let l = symbols(latin, false);
    // One consonant is enough only with a written vowel beside it (`علي` → `LY` ~ `ALI`).
    let consonants = a.iter().filter(|c| **c != b'y').count();
    if consonants == 0 || (consonants == 1 && a.len() < 2) {
        return false;
    }
    // reach[j]: the abjad symbols so far explain the first j Latin ones (one row at a time).
    let m = l.len();
    let mut reach = vec![false; m + 1];
    reach[0] = true;
    let skip_short = |reach: &mut Vec<bool>| {
        for j in 0..m {
            if reach[j] && l[j] == b'v' {
                reach[j + 1] = true;
            }
        }
    };
    skip_short(&mut reach);
    for (i, &c) in a.iter().enumerate() {
        let mut next = vec![false; m + 1];
        // A consonant written twice in the abjad (`الله`, `مشهداني`) may be one in Latin.
        let doubled = c != b'y' && i > 0 && a[i - 1] == c;
        for j in 0..=m {
            if !reach[j] {
                continue;
            }
            if doubled {
                next[j] = true;
            }
            if c == b'y' {
                next[j] = true;
                if j < m && matches!(l[j], b'v' | b'w') {
                    next[j + 1] = true;
                }
            } else if j < m && l[j] == c {
                next[j + 1] = true;
            }
        }
        skip_short(&mut next);
        reach = next;
    }
    reach[m]
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
    fn abjad_consonants() {
        assert!(abjad_matches("MHMD", "MUHAMMAD"));
        assert!(abjad_matches("MHMD", "MOHAMMED"));
        assert!(abjad_matches("HSYN", "HUSSEIN"));
        assert!(abjad_matches("SDM", "SADDAM"));
        assert!(abjad_matches("KHLD", "KHALID"));
        assert!(abjad_matches("YWSF", "YUSUF"));
        assert!(abjad_matches("TKRYTY", "TIKRITI"));
        assert!(abjad_matches("QDHFY", "QADHAFI"));
        assert!(!abjad_matches("MHMD", "MAHMOUD"));
        assert!(!abjad_matches("MD", "MAHMOUD"));
        assert!(abjad_matches("MSHHDANY", "MASHHADANI"));
        assert!(abjad_matches("SRR", "SURAR"));
        assert!(!abjad_matches("HSN", "HUSSEIN"));
        assert!(!abjad_matches("SDM", "SAID"));
        assert_eq!(consonants("MUHAMMAD"), "MHMD");
    }
}
