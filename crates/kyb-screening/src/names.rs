//! Names as the matcher sees them: the words of `text`, with runs of single letters joined
//! (`S. A.` is one token `SA`, `J R` is the initials `JR`), legal forms (`LTD`, `S.A.`), titles
//! (`DR`, `SHEIKH`) and ships' prefixes (`M/V`) dropped, IMO numbers taken out, and the surname
//! marked (`SURNAME, Given` as the lists write people; otherwise the last word). The word lists
//! are data: `data/words.txt`.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::text::{words, Word};

/// What `data/words.txt` says a word is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordKind {
    LegalForm,
    Title,
    VesselPrefix,
    Particle,
    /// A legal form that comes in front (`OOO`, `PT`).
    LeadingForm,
    /// A short legal form that is never a name word: dropped wherever it stands.
    Unmistakable,
    /// A short legal form that is also a name word (`PAO`, `SA`).
    FormOrName,
}

static WORDS: LazyLock<HashMap<&'static str, Vec<WordKind>>> = LazyLock::new(|| {
    let mut out: HashMap<&'static str, Vec<WordKind>> = HashMap::new();
    let mut kind = None;
    for line in include_str!("../data/words.txt").lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            kind = Some(match section {
                "legal_form" => WordKind::LegalForm,
                "title" => WordKind::Title,
                "vessel_prefix" => WordKind::VesselPrefix,
                "particle" => WordKind::Particle,
                "leading_form" => WordKind::LeadingForm,
                "unmistakable_form" => WordKind::Unmistakable,
                "form_or_name" => WordKind::FormOrName,
                other => panic!("data/words.txt: unknown section [{other}]"),
            });
            continue;
        }
        let kind = kind.expect("data/words.txt: words before the first [section]");
        for w in line.split_whitespace() {
            out.entry(w).or_default().push(kind);
        }
    }
    out
});

/// Long legal forms, also dropped when misspelt by one letter (`LIMTED`, `COMAPNY`).
const LEGAL_FORMS_LONG: &[&str] = &["COMPANY", "CORPORATION", "INCORPORATED", "LIMITED"];

pub fn is(word: &str, kind: WordKind) -> bool {
    WORDS.get(word).is_some_and(|k| k.contains(&kind))
}

/// Whether a token is a legal form or a filler word of business names.
pub fn is_legal_form(token: &str) -> bool {
    is(token, WordKind::LegalForm)
        || (token.len() >= 6
            && LEGAL_FORMS_LONG
                .iter()
                .any(|d| strsim::osa_distance(d, token) == 1))
}

/// Whether a token is a title or honorific: as listed; or, `in_front` of a name, spelt another
/// way in Latin letters (`HAJEE`, `MOULLAH`, `SHAYK`: the same consonants with other vowels, the
/// transliteration rewrites, or one edit in a long one) or written in an abjad (`شيخ` ~
/// `SHEIKH`, `حجي` ~ `HAJI`).
fn is_title(t: &Token, in_front: bool) -> bool {
    let w = t.text.as_str();
    if is(w, WordKind::Title) {
        return true;
    }
    // Spelt another way only where titles stand: elsewhere `MUALLA` is a surname, not `MULLA`.
    if !in_front {
        return false;
    }
    if t.abjad {
        return TITLES.iter().any(|title| {
            title.len() >= 4 && *title != "IMAM" && crate::keys::abjad_matches(w, title)
        });
    }
    if w.len() < 4 || t.initials {
        return false;
    }
    is(&crate::keys::rewritten(w), WordKind::Title)
        || TITLES.iter().any(|title| {
            title.len() >= 4
                && (crate::keys::latin_alike(w, title)
                    || (w.len() >= 6 && title.len() >= 6 && strsim::osa_distance(w, title) == 1))
        })
}

static TITLES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut v: Vec<&'static str> = WORDS
        .iter()
        // Not `SAYYID`, which is a name as often (`SAYED`, `SAID`).
        .filter(|(w, k)| k.contains(&WordKind::Title) && !w.starts_with("SAY"))
        .map(|(w, _)| *w)
        .collect();
    v.sort_unstable();
    v
});

/// One token of a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    /// Written in an abjad (vowels unwritten).
    pub abjad: bool,
    /// Made of single letters (`J. R.` → `JR`): may stand for given names.
    pub initials: bool,
    /// Part of the surname (before the comma of `SURNAME, Given`, or the last word).
    pub surname: bool,
    /// The first given name of a person (`Usama` of `BIN LADIN, Usama bin Muhammad`).
    pub first_given: bool,
    /// Joined from a particle and the word after it (`AL` + `ZAWAHIRI`); `display` keeps the
    /// words apart.
    pub joined: bool,
    /// A title or honorific (`DR`, `HAJI`, `GENERAL`): kept, as it may be part of a name
    /// (`GENERAL PETROLEUM CORPORATION`), but weighing little when the other name lacks it.
    pub title: bool,
    pub display: String,
}

/// A name ready to match: its tokens and any IMO numbers it carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    pub tokens: Vec<Token>,
    pub imo: Vec<String>,
}

impl Tokens {
    /// Each token once (`BIN LADIN, Usama bin Muhammad` has one `BIN`), keeping the first.
    pub fn deduped(self) -> Self {
        let mut tokens: Vec<Token> = Vec::with_capacity(self.tokens.len());
        for t in self.tokens {
            match tokens.iter_mut().find(|u| u.text == t.text) {
                // `ABDULLAH, Abdullah`: the one token is the surname and the first given name.
                Some(kept) => kept.first_given |= t.first_given,
                None => tokens.push(t),
            }
        }
        Tokens {
            tokens,
            imo: self.imo,
        }
    }

    pub fn texts(&self) -> Vec<&str> {
        self.tokens.iter().map(|t| t.text.as_str()).collect()
    }

    /// The same name with each particle joined to the word after it (`AL ZAWAHIRI AYMAN` →
    /// `ALZAWAHIRI AYMAN`), or `None` when it has no particle to join.
    pub fn particles_joined(&self) -> Option<Tokens> {
        let mut out: Vec<Token> = Vec::with_capacity(self.tokens.len());
        let mut changed = false;
        let mut pending: Option<Token> = None;
        for t in &self.tokens {
            if let Some(mut p) = pending.take() {
                p.text.push_str(&t.text);
                p.display = format!("{} {}", p.display, t.display);
                p.surname |= t.surname;
                p.abjad |= t.abjad;
                p.first_given |= t.first_given;
                p.joined = true;
                p.title = false;
                changed = true;
                if is(&t.text, WordKind::Particle) && !t.initials {
                    pending = Some(p);
                } else {
                    out.push(p);
                }
                continue;
            }
            if is(&t.text, WordKind::Particle) && !t.initials {
                pending = Some(t.clone());
            } else {
                out.push(t.clone());
            }
        }
        out.extend(pending);
        (changed && !out.is_empty()).then_some(Tokens {
            tokens: out,
            imo: self.imo.clone(),
        })
    }

    /// Syllables written apart joined into one given name (`LI FANG WEI` → `LI FANGWEI`), for
    /// names that came from Chinese or Korean script, where every syllable is a word part.
    pub fn syllables_joined(&self) -> Option<Tokens> {
        if self.tokens.len() < 3 || self.tokens.iter().any(|t| t.text.len() > 6) {
            return None;
        }
        let first = self.tokens[0].clone();
        let rest = &self.tokens[1..];
        let joined = Token {
            text: rest.iter().map(|t| t.text.as_str()).collect(),
            display: rest
                .iter()
                .map(|t| t.display.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            abjad: false,
            initials: false,
            surname: false,
            first_given: true,
            joined: true,
            title: false,
        };
        Some(Tokens {
            tokens: vec![first, joined],
            imo: self.imo.clone(),
        })
    }
}

/// Every reading of a name to screen: as written and as it looks (when look-alike letters are
/// in it), each also with particles joined, and Chinese or Korean syllables joined.
pub fn readings(name: &str, person: bool) -> Vec<Tokens> {
    let ws = words(name);
    let mut bases = vec![tokenize(&ws, person, false)];
    if ws.iter().any(|w| w.lookalike.is_some()) {
        bases.push(tokenize(&ws, person, true));
    }
    // Syllables of Chinese or Korean names (an abjad word holds a space only after its article).
    let syllabic = ws.iter().any(|w| !w.abjad && w.text.contains(' '));
    let mut out = Vec::with_capacity(bases.len() * 2);
    // A name ending in a legal form that is also a name word is read with it kept, too.
    if !person && ws.iter().any(|w| is(&w.text, WordKind::FormOrName)) {
        let kept = tokenize_with(&ws, person, false, true);
        if kept != bases[0] {
            bases.push(kept);
        }
    }
    for b in bases {
        if let Some(j) = b.particles_joined() {
            out.push(j.deduped());
        }
        if syllabic {
            if let Some(j) = b.syllables_joined() {
                out.push(j.deduped());
            }
        }
        out.push(b.deduped());
    }
    out.dedup();
    out
}

/// The tokens of one reading of `words` (`lookalike`: use the look-alike reading of the words
/// that have one).
pub fn tokenize(ws: &[Word], person: bool, lookalike: bool) -> Tokens {
    tokenize_with(ws, person, lookalike, false)
}

/// `tokenize`, and with `keep_name_forms` the short legal forms that are also name words
/// (`PAO`, `SA`; `data/words.txt`) kept: `Yu PAO` may be a person.
fn tokenize_with(ws: &[Word], person: bool, lookalike: bool, keep_name_forms: bool) -> Tokens {
    // Word parts in order, with what they came from.
    struct Part {
        text: String,
        abjad: bool,
        after_comma: bool,
    }
    let mut parts: Vec<Part> = Vec::new();
    for w in ws {
        let text = match (&w.lookalike, lookalike) {
            (Some(l), true) => l,
            _ => &w.text,
        };
        for p in text.split_whitespace() {
            parts.push(Part {
                text: p.to_owned(),
                abjad: w.abjad,
                after_comma: w.after_comma,
            });
        }
    }
    // `H & H`, `M AND S`: one abbreviation, as `H H` and `HH` are.
    let single =
        |p: &Part| p.text.chars().count() == 1 && p.text.chars().all(|c| c.is_alphabetic());
    let mut k = 1;
    while k + 1 < parts.len() {
        if parts[k].text == "AND" && single(&parts[k - 1]) && single(&parts[k + 1]) {
            parts.remove(k);
        } else {
            k += 1;
        }
    }
    // IMO numbers: `IMO 9187629`, or `IMO9187629`.
    let mut imo = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        let t = parts[i].text.as_str();
        let number = if t == "IMO" {
            parts
                .get(i + 1)
                .filter(|n| is_imo_number(&n.text))
                .map(|n| (n.text.clone(), 2))
        } else {
            t.strip_prefix("IMO")
                .filter(|n| is_imo_number(n))
                .map(|n| (n.to_owned(), 1))
        };
        match number {
            Some((n, width)) => {
                imo.push(n);
                parts.drain(i..i + width);
            }
            None => i += 1,
        }
    }
    // Runs of single letters are one token: an abbreviation or initials.
    let mut raw: Vec<Token> = Vec::new();
    let mut letters: Option<Token> = None;
    for p in parts {
        let single = p.text.chars().count() == 1 && p.text.chars().all(|c| c.is_alphabetic());
        if single {
            match &mut letters {
                Some(l) if l.surname != p.after_comma => {
                    l.text.push_str(&p.text);
                    l.display.push(' ');
                    l.display.push_str(&p.text);
                }
                _ => {
                    raw.extend(letters.take());
                    letters = Some(Token {
                        display: p.text.clone(),
                        text: p.text,
                        abjad: p.abjad,
                        initials: true,
                        surname: !p.after_comma,
                        first_given: false,
                        joined: false,
                        title: false,
                    });
                }
            }
        } else {
            raw.extend(letters.take());
            raw.push(Token {
                display: p.text.clone(),
                text: p.text,
                abjad: p.abjad,
                initials: false,
                surname: !p.after_comma,
                first_given: false,
                joined: false,
                title: false,
            });
        }
    }
    raw.extend(letters);
    // The surname: what came before the comma; with no comma, the last word.
    let has_comma = ws.iter().any(|w| w.after_comma);
    let after_comma: Vec<bool> = raw.iter().map(|t| !t.surname).collect();
    // Titles and honorifics, wherever they stand; but never a surname made of one (`SHEIKH,
    // Muhammad`), nor a name made only of them.
    let n = raw.len();
    let given = after_comma.iter().position(|a| *a);
    // In front: the first words of the name, or of the given names, that are titles.
    let mut titles = vec![false; n];
    for start in std::iter::once(0).chain(given) {
        let mut i = start;
        while i < n && after_comma[i] == after_comma[start] && is_title(&raw[i], true) {
            titles[i] = true;
            i += 1;
        }
        for (k, t) in raw.iter().enumerate().skip(i) {
            if after_comma[k] != after_comma[start] {
                break;
            }
            titles[k] = is_title(t, false);
        }
    }
    let surname_all_titles = given.is_some_and(|g| titles[..g].iter().all(|t| *t));
    let all_titles = titles.iter().all(|t| *t);
    for (i, t) in raw.iter_mut().enumerate() {
        let surname_only = has_comma && !after_comma[i] && surname_all_titles;
        t.title = titles[i] && !surname_only && !all_titles;
    }
    if !has_comma {
        for t in &mut raw {
            t.surname = false;
        }
    }
    // Legal forms end a business's name (`ACME LTD`, `X S.A. DE C.V.`); a few begin it
    // (`OOO ROMASHKA`, `PT X`); only long ones and filler words stand in the middle. Elsewhere a
    // short one is a name: `SE` of `PAEK, Se-Bong`; and people have no legal form at all
    // (`SA'B` of `MUZAHIM SA'B HASSAN`).
    let texts: Vec<&str> = raw.iter().map(|t| t.text.as_str()).collect();
    let trailing = trailing_forms(&texts);
    let leading = raw
        .iter()
        .take_while(|t| is(&t.text, WordKind::LeadingForm))
        .count();
    // A leading form that is the whole surname (`PAO, Yu Liang`) is a name.
    let leading = if has_comma && leading >= given.unwrap_or(0) {
        0
    } else {
        leading
    };
    // Letters written apart (`A. O.`) are a legal form only at the end (`S. A.`): in front they
    // are initials.
    let keep = |t: &Token, at: usize| -> bool {
        let w = t.text.as_str();
        let trails = at >= n - trailing;
        if !person
            && is_legal_form(w)
            && !(keep_name_forms && is(w, WordKind::FormOrName) && !t.initials)
            && (trails
                || (!t.initials
                    && (at < leading
                        || w.len() >= 4
                        || is(w, WordKind::Unmistakable)
                        || matches!(w, "AND" | "OF" | "THE"))))
        {
            return false;
        }
        // A ship's prefix only in front.
        !(at == 0 && n > 1 && is(w, WordKind::VesselPrefix))
    };
    let mut kept: Vec<Token> = raw
        .iter()
        .enumerate()
        .filter(|(i, t)| keep(t, *i))
        .map(|(_, t)| t.clone())
        .collect();
    if kept.is_empty() {
        kept = raw;
    }
    if person && !has_comma {
        if let Some(last) = kept.last_mut() {
            last.surname = true;
        }
    }
    let mut tokens = kept;
    if person && tokens.iter().any(|t| t.surname) {
        if let Some(first) = tokens
            .iter_mut()
            .find(|t| !t.surname && !t.title && !is(&t.text, WordKind::Particle))
        {
            first.first_given = true;
        }
    }
    Tokens { tokens, imo }
}

/// An IMO ship number: seven digits whose last is the check digit (weights 7 to 2).
pub fn is_imo_number(s: &str) -> bool {
    let d: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 7 || s.len() != 7 {
        return false;
    }
    let sum: u32 = d[..6].iter().zip((2..=7).rev()).map(|(a, w)| a * w).sum();
    sum % 10 == d[6]
}

/// The first reading of a name, as written.
fn first_reading(name: &str) -> Vec<Token> {
    tokenize(&words(name), false, false).deduped().tokens
}

/// The tokens of a name, as written (the first reading), for callers that need one.
pub fn tokens(name: &str) -> Vec<String> {
    first_reading(name).into_iter().map(|t| t.text).collect()
}

/// How many words of a name are not titles: a name of one such word is matched strictly.
pub fn core_words(name: &str) -> usize {
    first_reading(name).iter().filter(|t| !t.title).count()
}

/// How many of a business name's last words are legal forms (`words` in Latin capitals,
/// letters only): `DE` between two of them is one too (`S.A. DE C.V.`).
pub fn trailing_forms<S: AsRef<str>>(words: &[S]) -> usize {
    (0..words.len())
        .rev()
        .take_while(|&i| {
            let w = words[i].as_ref();
            is_legal_form(w) || (w == "DE" && i > 0 && is_legal_form(words[i - 1].as_ref()))
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_titles_prefixes_and_case() {
        assert_eq!(tokens("Cimex, S.A."), ["CIMEX"]);
        assert_eq!(tokens("CIMEX S. A."), ["CIMEX"]);
        assert_eq!(tokens("Anglo-Caribbean Co., Ltd."), ["ANGLO", "CARIBBEAN"]);
        assert_eq!(tokens("Société Générale GmbH"), ["SOCIETE", "GENERALE"]);
        assert_eq!(tokens("Acme L.L.C."), ["ACME"]);
        assert_eq!(tokens("O'Brien & Sons"), ["OBRIEN", "SONS"]);
        assert_eq!(tokens("THE COMPANY LTD"), ["THE", "COMPANY", "LTD"]);
        assert_eq!(tokens("Havin Bank Limitde"), ["HAVIN", "BANK"]);
        assert_eq!(tokens("M/V Ebano"), ["EBANO"]);
        assert_eq!(tokens("MT SAND SWAN"), ["SAND", "SWAN"]);
    }

    fn titles(name: &str) -> Vec<(String, bool)> {
        tokenize(&words(name), true, false)
            .tokens
            .into_iter()
            .map(|t| (t.text, t.title))
            .collect()
    }

    #[test]
    fn titles_are_light_words() {
        let t = |w: &str, title: bool| (w.to_owned(), title);
        assert_eq!(
            titles("Dr. Ayman al-Zawahiri"),
            [
                t("DR", true),
                t("AYMAN", false),
                t("AL", false),
                t("ZAWAHIRI", false)
            ]
        );
        // Spelt another way, in front.
        assert_eq!(titles("Hajee Khairullah")[0], t("HAJEE", true));
        assert_eq!(titles("Moullah Krekar")[0], t("MOULLAH", true));
        // Elsewhere only as listed: `MUALLA` is a surname, not `MULLA`.
        assert_eq!(titles("B. Mualla")[1], t("MUALLA", false));
        // A surname made of a title is a name.
        assert_eq!(titles("SHEIKH, Muhammad")[0], t("SHEIKH", false));
        assert_eq!(core_words("KREKAR, Mullah"), 1);
        assert_eq!(core_words("General Nickel S.A."), 1);
    }

    #[test]
    fn short_legal_forms_only_where_they_stand() {
        // At the end, or in front when they lead (OOO, PT): a legal form.
        assert_eq!(tokens("Acme S.A."), ["ACME"]);
        assert_eq!(tokens("OOO Romashka"), ["ROMASHKA"]);
        // In front as initials, or as a name: kept.
        assert_eq!(tokens("A. O. Ogungbuyi"), ["AO", "OGUNGBUYI"]);
        assert_eq!(tokens("Se Bong Paek"), ["SE", "BONG", "PAEK"]);
        // A person's listed name has no legal form at all.
        let t = tokenize(&words("AL-TIKRITI, Muzahim Sa'b Hassan"), true, false);
        assert!(t.texts().contains(&"SAB"), "{:?}", t.texts());
    }

    #[test]
    fn imo_numbers_come_out() {
        let t = tokenize(&words("EBANO IMO 7406784"), false, false);
        assert_eq!(t.texts(), ["EBANO"]);
        assert_eq!(t.imo, ["7406784"]);
        assert!(is_imo_number("9187629"));
        assert!(!is_imo_number("9187628"));
    }

    #[test]
    fn surnames_and_initials() {
        let t = tokenize(&words("BIN LADIN, Usama bin Muhammad"), true, false).deduped();
        let s: Vec<(&str, bool)> = t
            .tokens
            .iter()
            .map(|t| (t.text.as_str(), t.surname))
            .collect();
        assert_eq!(
            s,
            [
                ("BIN", true),
                ("LADIN", true),
                ("USAMA", false),
                ("MUHAMMAD", false)
            ]
        );
        let t = tokenize(&words("J. R. Smith"), true, false);
        assert_eq!(t.texts(), ["JR", "SMITH"]);
        assert!(t.tokens[0].initials && t.tokens[1].surname);
    }

    #[test]
    fn particles_join() {
        let t = tokenize(&words("AL-ZAWAHIRI, Ayman"), true, false);
        let j = t.particles_joined().unwrap();
        assert_eq!(j.texts(), ["ALZAWAHIRI", "AYMAN"]);
        assert_eq!(j.tokens[0].display, "AL ZAWAHIRI");
        let t = tokenize(&words("Abd al Aziz"), true, false);
        assert_eq!(t.particles_joined().unwrap().texts(), ["ABDALAZIZ"]);
        // A particle that comes twice joins twice.
        let t = tokenize(&words("IZZ AL-DIN AL-QASSAM BRIGADES"), false, false);
        assert_eq!(
            t.particles_joined().unwrap().texts(),
            ["IZZ", "ALDIN", "ALQASSAM", "BRIGADES"]
        );
        assert!(tokenize(&words("Acme Trading"), false, false)
            .particles_joined()
            .is_none());
    }
}
