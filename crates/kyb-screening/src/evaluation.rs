//! The screening evaluation, used by `benches/screening.rs` (which prints it with timings and
//! the baseline) and by `tests/quality.rs` (which holds kyb's figures to their floor). From the
//! real entries of the loaded lists, with a fixed seed, it makes the ways a listed name is
//! written differently in the real world, and asks whether each still finds its own entry:
//!
//! typos scaled to word length, legal forms dropped or changed, words reordered, particles
//! joined and split (`AL X`, `AL-X`, `ALX`; `ABD AL` → `ABDUL`), middle names dropped, given
//! names as initials, titles in front, transliteration variants, names written in Cyrillic or
//! Arabic script, ships' prefixes and IMO numbers, and disguises (invisible characters,
//! look-alike Cyrillic letters, full-width letters). False positives are measured on names that
//! should not hit: the SEC's company names and `testdata/screening/common-names.txt`.
//!
//! The baseline is the best-pairs Jaro-Winkler matcher in the manner of Moov Watchman, run on
//! the same cases.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use unicode_normalization::UnicodeNormalization;

use crate::lists::EntryKind;
use crate::names::{is, is_legal_form, WordKind};
use crate::screener::{LoadedList, Screener, Subject};
use crate::DEFAULT_THRESHOLD;

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

    fn add(&mut self, ok: bool, label: impl FnOnce() -> String) {
        self.total += 1;
        if ok {
            self.found += 1;
        } else if self.misses.len() < 8 {
            self.misses.push(label());
        }
    }
}

/// One query and the entry it must find (index into the screener's entries, as `(list, id)`).
#[derive(Debug, Clone)]
pub struct Case {
    pub query: String,
    pub list: usize,
    pub entry_id: String,
}

/// The perturbation set by category.
pub fn cases(lists: &[LoadedList], seed: u64) -> Vec<(&'static str, Vec<Case>)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out: Vec<(&'static str, Vec<Case>)> = [
        "typo",
        "typo, one word of 5-7 letters",
        "legal form",
        "reordered",
        "particles",
        "middle names dropped",
        "initials",
        "titles",
        "transliteration",
        "script: Cyrillic",
        "script: Arabic",
        "vessels",
        "disguises",
    ]
    .into_iter()
    .map(|c| (c, Vec::new()))
    .collect();
    let mut push = |cat: &str, query: String, list: usize, id: &str| {
        if let Some((_, v)) = out.iter_mut().find(|(c, _)| *c == cat) {
            v.push(Case {
                query,
                list,
                entry_id: id.to_owned(),
            });
        }
    };
    for (li, l) in lists.iter().enumerate() {
        for e in &l.entries {
            let person = e.kind == EntryKind::Individual;
            let strong: Vec<&str> = std::iter::once(e.name.as_str())
                .chain(
                    e.aliases
                        .iter()
                        .filter(|a| !a.weak && a.kind != crate::AliasKind::OriginalScript)
                        .map(|a| a.name.as_str()),
                )
                .collect();
            for name in strong {
                let upper = name.to_uppercase();
                let words: Vec<&str> = name.split_whitespace().collect();
                if let Some((t, short_one_word)) = typo_variant(&upper, &mut rng) {
                    let cat = if short_one_word {
                        "typo, one word of 5-7 letters"
                    } else {
                        "typo"
                    };
                    push(cat, t, li, &e.id);
                }
                if !person {
                    if let Some(v) = legal_form_variant(&words, &mut rng) {
                        push("legal form", v, li, &e.id);
                    }
                }
                // The name's words in reverse order; legal forms stay at the end, where people
                // write them.
                let letters = |w: &str| -> String {
                    w.chars()
                        .filter(|c| c.is_alphanumeric())
                        .collect::<String>()
                        .to_uppercase()
                };
                // As the matcher reads them (`S.A. DE C.V.` is one).
                let forms = crate::names::trailing_forms(
                    &words.iter().map(|w| letters(w)).collect::<Vec<_>>(),
                );
                let (name_words, form_words) = words.split_at(words.len() - forms);
                // Letters written apart (`T N K FABRICS`) are one word, an abbreviation: they
                // keep their order.
                let mut units: Vec<String> = Vec::new();
                let mut in_run = false;
                for w in name_words {
                    let single = letters(w).chars().count() == 1;
                    match units.last_mut() {
                        Some(last) if single && in_run => {
                            last.push(' ');
                            last.push_str(w);
                        }
                        _ => units.push((*w).to_owned()),
                    }
                    in_run = single;
                }
                if units.len() >= 2 {
                    units.reverse();
                    units.extend(form_words.iter().map(|w| (*w).to_owned()));
                    push("reordered", units.join(" "), li, &e.id);
                }
                if let Some(v) = particle_variant(&upper, &mut rng) {
                    push("particles", v, li, &e.id);
                }
                if person {
                    if let Some((surname, given)) = split_person(name) {
                        // The first given name, with the particles in front of it (`Abd al Aziz`).
                        let mut first = 0;
                        while first + 1 < given.len()
                            && is(&letters(&given[first]), WordKind::Particle)
                        {
                            first += 1;
                        }
                        if given.len() > first + 1 {
                            push(
                                "middle names dropped",
                                format!("{} {surname}", given[..=first].join(" ")),
                                li,
                                &e.id,
                            );
                        }
                        if let Some(initial) = given
                            .first()
                            .and_then(|g| g.chars().find(|c| c.is_alphabetic()))
                        {
                            let rest = given[1..].join(" ");
                            push(
                                "initials",
                                format!("{initial}. {rest} {surname}").replace("  ", " "),
                                li,
                                &e.id,
                            );
                        }
                        let title = ["Dr.", "Mr.", "Sheikh", "Haji", "General", "Mullah", "Mrs."]
                            .choose(&mut rng)
                            .copied()
                            .unwrap_or("Dr.");
                        push(
                            "titles",
                            format!("{title} {} {surname}", given.join(" ")),
                            li,
                            &e.id,
                        );
                    }
                }
                if let Some(v) = transliteration_variant(&upper, &mut rng) {
                    push("transliteration", v, li, &e.id);
                }
                if person
                    && e.nationalities
                        .iter()
                        .any(|n| ["RUS", "BLR", "UKR", "KAZ"].contains(&n.as_str()))
                {
                    push("script: Cyrillic", to_cyrillic(&upper), li, &e.id);
                }
                if person
                    && e.nationalities
                        .iter()
                        .any(|n| ARABIC_WORLD.contains(&n.as_str()))
                {
                    push("script: Arabic", to_arabic(&upper), li, &e.id);
                }
                push("disguises", disguise(name, &mut rng), li, &e.id);
            }
            if e.kind == EntryKind::Vessel {
                push("vessels", format!("M/V {}", e.name), li, &e.id);
                push("vessels", format!("MV {}", e.name), li, &e.id);
                for imo in &e.imo {
                    push(
                        "vessels",
                        format!("Unknown Vessel Name IMO {imo}"),
                        li,
                        &e.id,
                    );
                }
            }
        }
    }
    out
}

const ARABIC_WORLD: &[&str] = &[
    "IRQ", "SYR", "LBN", "YEM", "SAU", "JOR", "EGY", "LBY", "SDN", "PSE", "KWT", "ARE", "QAT",
    "BHR", "OMN", "DZA", "TUN", "MAR", "IRN", "AFG",
];

/// `SURNAME, Given Names` → (surname, given names).
fn split_person(name: &str) -> Option<(String, Vec<String>)> {
    let (s, g) = name.split_once(',')?;
    let given: Vec<String> = g
        .split_whitespace()
        .filter(|w| {
            let letters: String = w.chars().filter(|c| c.is_alphanumeric()).collect();
            !is(&letters.to_uppercase(), WordKind::Title)
        })
        .map(str::to_owned)
        .collect();
    let surname = s.trim().to_owned();
    (!surname.is_empty()).then_some((surname, given))
}

fn random_letter(rng: &mut StdRng) -> char {
    (b'A' + rng.gen_range(0..26)) as char
}

fn edit(word: &str, rng: &mut StdRng) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    let at = rng.gen_range(0..chars.len());
    match rng.gen_range(0..4) {
        0 => {
            let c = chars[at];
            let mut n = random_letter(rng);
            while n == c {
                n = random_letter(rng);
            }
            chars[at] = n;
        }
        1 => {
            chars.remove(at);
        }
        2 => chars.insert(at, random_letter(rng)),
        _ => {
            let at = at.min(chars.len() - 2);
            chars.swap(at, at + 1);
        }
    }
    chars.into_iter().collect()
}

/// One typo in a word of 5 to 8 letters, or two in a longer one; and whether the name is one
/// word of 5 to 7 letters once legal forms are gone (a case of its own: there a typo most often
/// makes another real name).
fn typo_variant(upper: &str, rng: &mut StdRng) -> Option<(String, bool)> {
    let long: Vec<&str> = upper
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 5 && w.chars().all(|c| c.is_ascii_alphabetic()) && !is_legal_form(w))
        .collect();
    let w = *long.choose(rng)?;
    let mut changed = edit(w, rng);
    if w.len() >= 9 {
        changed = edit(&changed, rng);
    }
    let one_short_word = crate::names::core_words(upper) == 1 && w.len() < 8;
    Some((upper.replacen(w, &changed, 1), one_short_word))
}

fn legal_form_variant(words: &[&str], rng: &mut StdRng) -> Option<String> {
    let letters = |w: &str| -> String {
        w.chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            .to_uppercase()
    };
    if words.len() < 2 || !words.iter().any(|w| is_legal_form(&letters(w))) {
        return None;
    }
    let kept: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !is_legal_form(&letters(w)))
        .collect();
    if kept.is_empty() {
        return None;
    }
    let form = ["LTD", "LLC", "S.A.", "GMBH", "JSC", "INC", "LIMITED", ""]
        .choose(rng)
        .copied()
        .unwrap_or("");
    Some(format!("{} {form}", kept.join(" ")).trim().to_owned())
}

/// A particle joined to its word, hyphenated, or split from it; `ABD AL` as `ABDUL`.
fn particle_variant(upper: &str, rng: &mut StdRng) -> Option<String> {
    let words: Vec<&str> = upper.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    // Written apart: join or hyphenate.
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).map(|n| n.replace('.', ""));
        if is(w, WordKind::Particle)
            && next
                .as_ref()
                .is_some_and(|n| n.len() > 2 && !is_legal_form(n))
        {
            let glue = if rng.gen_bool(0.5) { "" } else { "-" };
            let mut out: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
            out[i] = format!("{w}{glue}{}", words[i + 1]);
            out.remove(i + 1);
            let s = out.join(" ");
            return Some(s.replace("ABD AL", "ABDUL").replace("ABDAL", "ABDUL"));
        }
    }
    // Written with a hyphen: write apart.
    for w in &words {
        if let Some((p, rest)) = w.split_once('-') {
            if is(p, WordKind::Particle) && rest.len() > 2 {
                return Some(upper.replacen(w, &format!("{p} {rest}"), 1));
            }
        }
    }
    None
}

/// One spelling change of the kind transliterations differ by.
fn transliteration_variant(upper: &str, rng: &mut StdRng) -> Option<String> {
    const SWAPS: &[(&str, &str)] = &[
        ("OU", "U"),
        ("U", "OU"),
        ("EE", "I"),
        ("I", "EE"),
        ("KH", "H"),
        ("Q", "K"),
        ("K", "Q"),
        ("J", "DJ"),
        ("SH", "SCH"),
        ("OV", "OFF"),
        ("EV", "YEV"),
        ("SS", "S"),
        ("AY", "AI"),
        ("EI", "AY"),
        ("YA", "IA"),
        ("IY", "I"),
        ("MOHAMMED", "MUHAMMAD"),
        ("MUHAMMAD", "MOHAMED"),
        ("E", "A"),
        ("O", "U"),
        ("Y", "I"),
        ("I", "Y"),
    ];
    let mut order: Vec<usize> = (0..SWAPS.len()).collect();
    order.shuffle(rng);
    for i in order {
        let (from, to) = SWAPS[i];
        // Change one word of four letters or more, not at its first letter.
        let words: Vec<&str> = upper
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 4 && w.is_ascii() && !is_legal_form(w))
            .collect();
        for w in words {
            if let Some(at) = w[1..].find(from) {
                let at = at + 1;
                let changed = format!("{}{to}{}", &w[..at], &w[at + from.len()..]);
                return Some(upper.replacen(w, &changed, 1));
            }
        }
    }
    None
}

/// Latin to Cyrillic as a Russian speaker would write the name.
fn to_cyrillic(upper: &str) -> String {
    let upper = ascii_letters(upper);
    let upper = upper.as_str();
    const MAP: &[(&str, &str)] = &[
        ("SHCH", "Щ"),
        ("SCH", "Щ"),
        ("ZH", "Ж"),
        ("KH", "Х"),
        ("TS", "Ц"),
        ("CH", "Ч"),
        ("SH", "Ш"),
        ("YU", "Ю"),
        ("YA", "Я"),
        ("YE", "Е"),
        ("YO", "Ё"),
        ("IY", "ИЙ"),
        ("A", "А"),
        ("B", "Б"),
        ("V", "В"),
        ("G", "Г"),
        ("D", "Д"),
        ("E", "Е"),
        ("Z", "З"),
        ("I", "И"),
        ("Y", "Ы"),
        ("K", "К"),
        ("L", "Л"),
        ("M", "М"),
        ("N", "Н"),
        ("O", "О"),
        ("P", "П"),
        ("R", "Р"),
        ("S", "С"),
        ("T", "Т"),
        ("U", "У"),
        ("F", "Ф"),
        ("C", "К"),
        ("H", "Х"),
        ("J", "Дж"),
        ("W", "В"),
        ("X", "Кс"),
        ("Q", "К"),
    ];
    transcribe(upper, MAP)
}

/// Latin to Arabic script as an Arabic speaker would write the name: consonants, long vowels
/// (a doubled vowel letter, or a final `I`), a vowel at the start; short vowels unwritten.
fn to_arabic(upper: &str) -> String {
    let upper = ascii_letters(upper);
    let mut out = String::new();
    for word in upper.split([' ', ',', '-']).filter(|w| !w.is_empty()) {
        if !out.is_empty() && !out.ends_with("ال") {
            out.push(' ');
        }
        // The article is written onto its word.
        if word == "AL" || word == "EL" {
            out.push_str("ال");
            continue;
        }
        let b = word.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let rest = &word[i..];
            let two = rest.get(..2).unwrap_or("");
            let (arabic, width) = match two {
                "KH" => ("خ", 2),
                "SH" => ("ش", 2),
                "TH" => ("ث", 2),
                "DH" => ("ذ", 2),
                "GH" => ("غ", 2),
                "CH" => ("تش", 2),
                // Two vowel letters are a long vowel (or a diphthong): written.
                "OU" | "OO" | "UU" | "AU" | "AW" | "OW" => ("و", 2),
                "EE" | "II" | "EI" | "AI" | "AY" | "IA" | "IE" | "EY" => ("ي", 2),
                "AA" | "AE" | "EA" | "UA" | "OA" => ("ا", 2),
                _ => {
                    let c = b[i];
                    let first = i == 0;
                    let last = i + 1 == b.len();
                    let a = match c {
                        b'A' if first => "ا",
                        b'E' | b'I' if first => "إ",
                        b'O' | b'U' if first => "أو",
                        b'I' | b'E' | b'Y' if last => "ي",
                        b'A' if last => "ا",
                        b'U' | b'O' if last => "و",
                        b'A' | b'E' | b'I' | b'O' | b'U' => "",
                        b'B' => "ب",
                        b'T' => "ت",
                        b'J' => "ج",
                        b'H' => "ح",
                        b'D' => "د",
                        b'R' => "ر",
                        b'Z' => "ز",
                        b'S' => "س",
                        b'F' | b'V' => "ف",
                        b'Q' => "ق",
                        b'K' | b'C' | b'G' => "ك",
                        b'L' => "ل",
                        b'M' => "م",
                        b'N' => "ن",
                        b'W' => "و",
                        b'Y' => "ي",
                        b'P' => "ب",
                        b'X' => "كس",
                        _ => "",
                    };
                    (a, 1)
                }
            };
            // A doubled consonant is written once.
            if width == 1 && i > 0 && b[i] == b[i - 1] && !b"AEIOU".contains(&b[i]) {
                i += 1;
                continue;
            }
            out.push_str(arabic);
            i += width;
        }
    }
    out
}

/// The name in ASCII capitals, letters and word breaks only.
fn ascii_letters(name: &str) -> String {
    any_ascii::any_ascii(name)
        .to_ascii_uppercase()
        .chars()
        .filter(|c| *c != '\'')
        .map(|c| {
            if c.is_ascii_alphabetic() || c == ',' || c == '-' {
                c
            } else {
                ' '
            }
        })
        .collect()
}

fn transcribe(upper: &str, map: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = upper;
    'outer: while !rest.is_empty() {
        for (from, to) in map {
            if let Some(r) = rest.strip_prefix(from) {
                out.push_str(to);
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The name with an invisible character, look-alike letters, or full-width letters.
fn disguise(name: &str, rng: &mut StdRng) -> String {
    const INVISIBLE: &[char] = &[
        '\u{200B}', '\u{00AD}', '\u{2060}', '\u{200C}', '\u{200D}', '\u{FEFF}', '\u{202E}',
        '\u{2067}',
    ];
    const LOOKALIKE: &[(char, char)] = &[
        ('A', 'А'),
        ('B', 'В'),
        ('E', 'Е'),
        ('K', 'К'),
        ('M', 'М'),
        ('H', 'Н'),
        ('O', 'О'),
        ('P', 'Р'),
        ('C', 'С'),
        ('T', 'Т'),
        ('X', 'Х'),
        ('a', 'а'),
        ('e', 'е'),
        ('o', 'о'),
        ('p', 'р'),
        ('c', 'с'),
        ('x', 'х'),
    ];
    let chars: Vec<char> = name.chars().collect();
    match rng.gen_range(0..3) {
        0 => {
            let mut out = String::new();
            for (i, c) in chars.iter().enumerate() {
                out.push(*c);
                if i % 3 == 1 && c.is_alphabetic() {
                    out.push(*INVISIBLE.choose(rng).unwrap_or(&'\u{200B}'));
                }
            }
            out
        }
        1 => chars
            .iter()
            .map(|c| {
                LOOKALIKE
                    .iter()
                    .find(|(l, _)| l == c)
                    .map_or(*c, |(_, k)| *k)
            })
            .collect(),
        _ => chars
            .iter()
            .map(|c| match *c {
                'A'..='Z' | 'a'..='z' => char::from_u32(*c as u32 - 0x21 + 0xFF01).unwrap_or(*c),
                c => c,
            })
            .collect(),
    }
}

/// Whether `screener` finds the case's entry.
pub fn finds(screener: &Screener, case: &Case) -> bool {
    screener
        .screen(&Subject::named(case.query.clone()), DEFAULT_THRESHOLD)
        .iter()
        .any(|h| h.entry_id == case.entry_id && screener.lists()[case.list].source == h.list)
}

/// kyb's recall on each category.
pub fn recall(
    screener: &Screener,
    cases: &[(&'static str, Vec<Case>)],
) -> Vec<(&'static str, Score)> {
    cases
        .iter()
        .map(|(cat, cs)| {
            let mut s = Score::default();
            for c in cs {
                s.add(finds(screener, c), || c.query.clone());
            }
            (*cat, s)
        })
        .collect()
}

/// Names that raise a hit at the default threshold, of `names`.
pub fn false_positives(screener: &Screener, names: &[String]) -> Score {
    let mut s = Score::default();
    for n in names {
        let hits = screener.screen(&Subject::named(n.clone()), DEFAULT_THRESHOLD);
        s.add(hits.is_empty(), || {
            format!("{n} → {} ({})", hits[0].matched, hits[0].score)
        });
    }
    // `found` counted the clean ones: turn it round into hits.
    Score {
        found: s.total - s.found,
        total: s.total,
        misses: s.misses,
    }
}

/// Every original-script name of the UN list (`list`) as a query: does it find its entry?
pub fn original_script(screener: &Screener, lists: &[LoadedList], list: usize) -> Score {
    let mut s = Score::default();
    for e in &lists[list].entries {
        for a in e
            .aliases
            .iter()
            .filter(|a| a.kind == crate::AliasKind::OriginalScript)
        {
            let c = Case {
                query: a.name.clone(),
                list,
                entry_id: e.id.clone(),
            };
            s.add(finds(screener, &c), || c.query.clone());
        }
    }
    s
}

/// The baseline: Jaro-Winkler best pairs, in the manner of Moov Watchman. Names are lower-cased
/// with diacritics and punctuation removed (no transliteration, no legal forms, no phonetics);
/// each query word is paired with its best unpaired listed word, best pairs first; the score is
/// the pairs' Jaro-Winkler weighted by their letters, times the share of the listed name's
/// letters that were paired. A name is a hit from 0.85, as kyb's default.
pub struct Baseline {
    names: Vec<(usize, String, Vec<String>)>,
}

fn baseline_words(name: &str) -> Vec<String> {
    name.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

pub const BASELINE_THRESHOLD: f64 = 0.85;

impl Baseline {
    pub fn new(lists: &[LoadedList]) -> Self {
        let mut names = Vec::new();
        for (li, l) in lists.iter().enumerate() {
            for e in &l.entries {
                for n in std::iter::once(&e.name).chain(e.aliases.iter().map(|a| &a.name)) {
                    names.push((li, e.id.clone(), baseline_words(n)));
                }
            }
        }
        Self { names }
    }

    fn score(query: &[String], listed: &[String]) -> f64 {
        if query.is_empty() || listed.is_empty() {
            return 0.0;
        }
        let mut pairs: Vec<(f64, usize, usize)> = Vec::with_capacity(query.len() * listed.len());
        for (i, q) in query.iter().enumerate() {
            for (j, l) in listed.iter().enumerate() {
                pairs.push((strsim::jaro_winkler(q, l), i, j));
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut qu = vec![false; query.len()];
        let mut lu = vec![false; listed.len()];
        let (mut weighted, mut letters, mut paired_listed) = (0.0, 0.0, 0usize);
        for (s, i, j) in pairs {
            if qu[i] || lu[j] {
                continue;
            }
            qu[i] = true;
            lu[j] = true;
            let len = (query[i].len() + listed[j].len()) as f64;
            weighted += s * len;
            letters += len;
            paired_listed += listed[j].len();
        }
        let listed_letters: usize = listed.iter().map(String::len).sum();
        (weighted / letters) * (paired_listed as f64 / listed_letters as f64)
    }

    /// The (list, entry id) pairs scoring from the threshold.
    pub fn hits(&self, query: &str) -> Vec<(usize, &str)> {
        let q = baseline_words(query);
        self.names
            .iter()
            .filter(|(_, _, words)| Self::score(&q, words) >= BASELINE_THRESHOLD)
            .map(|(l, id, _)| (*l, id.as_str()))
            .collect()
    }

    pub fn finds(&self, case: &Case) -> bool {
        self.hits(&case.query)
            .iter()
            .any(|(l, id)| *l == case.list && *id == case.entry_id)
    }
}

/// A fixed sample of at most `n` of `items`.
pub fn sample<T: Clone>(items: &[T], n: usize, seed: u64) -> Vec<T> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut v = items.to_vec();
    v.shuffle(&mut rng);
    v.truncate(n);
    v
}
