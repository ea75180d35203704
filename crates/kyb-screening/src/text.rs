//! The first step of every name that is screened or indexed: Unicode NFKC, invisible characters
//! removed, and each word brought to Latin capitals. A word in another script is transliterated
//! (`Умаров` → `UMAROV`, `김정은` → `GIM JEONG EUN`); a word that uses look-alike letters of
//! another script (`ВАNК` with a Cyrillic `В` and `А`) also gets its Latin skeleton per Unicode
//! TR39 (`BANK`), and the matcher tries both readings. Words in an abjad (Arabic, Persian,
//! Hebrew: short vowels unwritten) are marked, so that the matcher compares their consonants.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
use unicode_script::{Script, UnicodeScript};

/// Characters no name may hold: controls, format characters (zero-width space and joiners, soft
/// hyphen, word joiner, bidi embeddings, overrides and isolates, byte order mark) and the line
/// and paragraph separators. People never type them on purpose; they hide a word from a reader.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// The first invisible character of `s`, if any (for a precise refusal).
pub fn first_invisible(s: &str) -> Option<char> {
    s.chars().find(|c| is_invisible(*c))
}

/// NFKC with every invisible character removed (whitespace controls become a space), and the
/// Arabic tatweel, which only stretches a word, dropped.
pub fn clean(name: &str) -> String {
    name.nfkc()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' | '\u{2028}' | '\u{2029}' => Some(' '),
            '\u{0640}' => None,
            c if is_invisible(c) => None,
            c => Some(c),
        })
        .collect()
}

/// One word of a name, in Latin capitals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word read as written: transliterated when it is not Latin. May hold spaces (the
    /// syllables of a Chinese or Korean name).
    pub text: String,
    /// The word read as it looks: non-Latin letters replaced by the Latin letters they imitate.
    /// Only when that reading differs from `text`.
    pub lookalike: Option<String>,
    /// Written in an abjad: vowels are missing and must not count against it.
    pub abjad: bool,
    /// The word comes right after a comma (the given names of `SURNAME, Given`).
    pub after_comma: bool,
}

/// Characters that join the letters around them: `S.A.` is `SA`, `O'Brien` is `OBRIEN`.
fn is_joiner(c: char) -> bool {
    matches!(
        c,
        '.' | '\'' | '\u{2019}' | '\u{2018}' | '`' | '\u{02BC}' | '\u{02BB}'
    )
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c)
}

/// Scripts whose letters are syllables or ideographs: each one is a word part of its own.
fn is_syllabic(s: Script) -> bool {
    matches!(
        s,
        Script::Han | Script::Hangul | Script::Hiragana | Script::Katakana | Script::Yi
    )
}

fn is_abjad(s: Script) -> bool {
    matches!(
        s,
        Script::Arabic | Script::Hebrew | Script::Syriac | Script::Thaana
    )
}

fn is_latin_like(s: Script) -> bool {
    matches!(s, Script::Latin | Script::Common | Script::Inherited)
}

/// The Latin letters a character imitates (TR39 confusable prototype), when they are plain
/// ASCII letters or digits.
fn lookalike(c: char) -> Option<String> {
    let skeleton: String = unicode_security::skeleton(c.encode_utf8(&mut [0; 4])).collect();
    (!skeleton.is_empty() && skeleton.chars().all(|s| s.is_ascii_alphanumeric()))
        .then(|| skeleton.to_ascii_uppercase())
}

/// A run of word characters in Latin capitals, transliterating what is not Latin.
fn fold_word(raw: &str, after_comma: bool) -> Word {
    let all_latin = raw.chars().all(|c| is_latin_like(c.script()));
    if all_latin {
        return Word {
            text: any_ascii::any_ascii(raw).to_ascii_uppercase(),
            lookalike: None,
            abjad: false,
            after_comma,
        };
    }
    let mut text = String::with_capacity(raw.len() * 2);
    let mut looks = String::with_capacity(raw.len());
    let mut every_letter_imitates = true;
    let mut abjad = false;
    let mut chars = raw.chars().peekable();
    // The Arabic article, alone or written onto its word (`التكريتي`), is a word part of its
    // own, as Latin spellings write it (`AL-TIKRITI`).
    // `الله` is a word of its own (`ALLAH`, `ULLAH` in Latin names), not the article.
    if raw == "\u{627}\u{644}\u{644}\u{647}" {
        return Word {
            text: "ALLAH".into(),
            lookalike: None,
            abjad: false,
            after_comma,
        };
    }
    if raw == "\u{627}\u{644}" {
        return Word {
            text: "AL".into(),
            lookalike: None,
            abjad: true,
            after_comma,
        };
    }
    if raw.starts_with("\u{627}\u{644}") && raw.chars().count() > 3 {
        chars.next();
        chars.next();
        text.push_str("AL ");
        looks.push_str("AL ");
        every_letter_imitates = false;
        abjad = true;
    }
    for c in chars {
        let script = c.script();
        abjad |= is_abjad(script);
        let latin: String = match c {
            // The closing ta marbuta is a vowel ending (`HAMZA`): vowels are not written.
            '\u{629}' => String::new(),
            // Alif, with or without hamza or madda: a written vowel.
            '\u{627}' | '\u{622}' | '\u{623}' | '\u{671}' => "A".into(),
            // Alif with hamza below is an i (`إبراهيم`, `IBRAHIM`).
            '\u{625}' => "I".into(),
            // Zah is written Z in Latin names (`ZAWAHIRI`), not DH.
            '\u{638}' => "Z".into(),
            _ => any_ascii::any_ascii_char(c)
                .chars()
                .filter(|a| a.is_ascii_alphanumeric() || *a == ' ')
                .collect::<String>()
                .to_ascii_uppercase(),
        };
        if is_syllabic(script) {
            text.push(' ');
            text.push_str(&latin);
            text.push(' ');
        } else {
            text.push_str(&latin);
        }
        if is_latin_like(script) {
            looks.push_str(&latin);
        } else if let Some(l) = lookalike(c) {
            looks.push_str(&l);
        } else {
            every_letter_imitates = false;
            looks.push_str(&latin);
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mixed = raw.chars().any(|c| c.script() == Script::Latin);
    let lookalike = ((mixed || every_letter_imitates) && looks != text).then_some(looks);
    Word {
        text,
        lookalike,
        abjad,
        after_comma,
    }
}

/// The words of a name: cleaned, split on spaces and punctuation (joining across `.` and
/// apostrophes), each folded to Latin capitals. `&` is the word `AND`.
pub fn words(name: &str) -> Vec<Word> {
    let cleaned = clean(name);
    let mut out = Vec::new();
    let mut current = String::new();
    let mut comma_seen = false;
    let mut after_comma = false;
    let flush = |current: &mut String, out: &mut Vec<Word>, after_comma: bool| {
        if !current.is_empty() {
            let w = fold_word(current, after_comma);
            if !w.text.is_empty() {
                out.push(w);
            }
            current.clear();
        }
    };
    for c in cleaned.chars() {
        if is_word_char(c) {
            current.push(c);
        } else if is_joiner(c) {
            // joins: nothing to push
        } else {
            flush(&mut current, &mut out, after_comma);
            if c == ',' && !comma_seen {
                comma_seen = true;
                after_comma = true;
            } else if c == '&' {
                out.push(Word {
                    text: "AND".into(),
                    lookalike: None,
                    abjad: false,
                    after_comma,
                });
            }
        }
    }
    flush(&mut current, &mut out, after_comma);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(name: &str) -> Vec<String> {
        words(name).into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn invisible_characters_are_gone() {
        for disguised in [
            "BAN\u{200B}K MELLI",
            "BAN\u{00AD}K MELLI",
            "BAN\u{2060}K MELLI",
            "\u{202E}BANK\u{202C} MELLI",
            "\u{2067}BANK\u{2069} MELLI",
            "BANK\u{FEFF} MELLI",
            "B\u{200D}ANK\u{200C} MELLI",
            "ＢＡＮＫ MELLI",
        ] {
            assert_eq!(texts(disguised), ["BANK", "MELLI"], "{disguised:?}");
        }
        assert_eq!(first_invisible("A\u{200E}B"), Some('\u{200E}'));
        assert_eq!(first_invisible("Zoë O'Brien-Smith"), None);
    }

    #[test]
    fn look_alike_letters_get_a_latin_reading() {
        let w = &words("ВАNК")[0];
        assert_eq!(w.text, "VANK");
        assert_eq!(w.lookalike.as_deref(), Some("BANK"));
        // All-Cyrillic look-alikes too.
        let w = &words("АВС")[0];
        assert_eq!(w.lookalike.as_deref(), Some("ABC"));
        // A real Russian word is read by transliteration.
        assert_eq!(texts("Умаров Доку"), ["UMAROV", "DOKU"]);
    }

    #[test]
    fn scripts_are_transliterated() {
        assert_eq!(texts("김정은"), ["GIM JEONG EUN"]);
        assert_eq!(texts("李方伟"), ["LI FANG WEI"]);
        let arabic = words("صدام حسين التكريتي");
        assert!(arabic.iter().all(|w| w.abjad));
        let t: Vec<&str> = arabic.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(t, ["SDAM", "HSYN", "AL TKRYTY"]);
        assert_eq!(texts("Société Générale"), ["SOCIETE", "GENERALE"]);
        assert_eq!(texts("Straße Łódź"), ["STRASSE", "LODZ"]);
    }

    #[test]
    fn commas_dots_and_apostrophes() {
        let w = words("BIN LADIN, Usama");
        assert_eq!(
            w.iter().map(|w| w.after_comma).collect::<Vec<_>>(),
            [false, false, true]
        );
        assert_eq!(texts("Cimex, S.A."), ["CIMEX", "SA"]);
        assert_eq!(texts("O'Brien & Sons"), ["OBRIEN", "AND", "SONS"]);
    }
}
