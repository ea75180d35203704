//! Name normalisation for screening: case, diacritics and punctuation go; abbreviations written
//! with dots or spaces join (`S.A.`, `S. A.` and `SA` are one token); legal forms (`LTD`, `LLC`,
//! `S.A.`, `GMBH`, `JSC`…) and the words `THE`, `AND`, `OF` are dropped. Word order is left to the
//! matcher, which compares tokens as a set.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Legal forms and words that say nothing about who a business is.
const DROPPED: &[&str] = &[
    "AB",
    "AD",
    "AG",
    "AND",
    "AO",
    "AS",
    "BHD",
    "BV",
    "CIE",
    "CJSC",
    "CO",
    "COMPANY",
    "CORP",
    "CORPORATION",
    "DOO",
    "EOOD",
    "FZC",
    "FZCO",
    "FZE",
    "GIE",
    "GMBH",
    "INC",
    "INCORPORATED",
    "JSC",
    "KFT",
    "KG",
    "LDA",
    "LIMITED",
    "LLC",
    "LLP",
    "LP",
    "LTD",
    "NV",
    "OAO",
    "OF",
    "OJSC",
    "OOO",
    "OU",
    "OY",
    "PAO",
    "PJSC",
    "PLC",
    "PTE",
    "PTY",
    "SA",
    "SAL",
    "SARL",
    "SAS",
    "SDN",
    "SE",
    "SNC",
    "SPA",
    "SPZOO",
    "SRL",
    "THE",
    "TOO",
    "WLL",
    "ZAO",
];

/// Long legal forms, also dropped when misspelt by one letter (`LIMTED`, `COMAPNY`).
const DROPPED_LONG: &[&str] = &["COMPANY", "CORPORATION", "INCORPORATED", "LIMITED"];

/// Whether a normalised token is a legal form or filler word.
pub fn is_dropped(token: &str) -> bool {
    DROPPED.binary_search(&token).is_ok()
        || (token.len() >= 6
            && DROPPED_LONG
                .iter()
                .any(|d| strsim::osa_distance(d, token) == 1))
}

/// The tokens of a name, normalised. A name made only of dropped words keeps them.
pub fn tokens(name: &str) -> Vec<String> {
    let mut cleaned = String::with_capacity(name.len());
    for c in name.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            '.' | '\'' | '\u{2019}' | '`' => {}
            '&' => cleaned.push_str(" AND "),
            c if c.is_alphanumeric() => cleaned.extend(c.to_uppercase()),
            _ => cleaned.push(' '),
        }
    }
    // Runs of single letters are one abbreviation: "S A" → "SA", "L L C" → "LLC".
    let mut raw: Vec<String> = Vec::new();
    let mut letters = String::new();
    for word in cleaned.split_whitespace() {
        if word.chars().count() == 1 {
            letters.push_str(word);
        } else {
            if !letters.is_empty() {
                raw.push(std::mem::take(&mut letters));
            }
            raw.push(word.to_owned());
        }
    }
    if !letters.is_empty() {
        raw.push(letters);
    }
    let kept: Vec<String> = raw.iter().filter(|t| !is_dropped(t)).cloned().collect();
    if kept.is_empty() {
        raw
    } else {
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dropped_list_is_sorted() {
        assert!(DROPPED.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn forms_case_diacritics_and_punctuation() {
        assert_eq!(tokens("Cimex, S.A."), ["CIMEX"]);
        assert_eq!(tokens("CIMEX S. A."), ["CIMEX"]);
        assert_eq!(tokens("Anglo-Caribbean Co., Ltd."), ["ANGLO", "CARIBBEAN"]);
        assert_eq!(tokens("Société Générale GmbH"), ["SOCIETE", "GENERALE"]);
        assert_eq!(tokens("Acme L.L.C."), ["ACME"]);
        assert_eq!(tokens("O'Brien & Sons"), ["OBRIEN", "SONS"]);
        assert_eq!(tokens("THE COMPANY LTD"), ["THE", "COMPANY", "LTD"]);
        assert_eq!(tokens("Havin Bank Limitde"), ["HAVIN", "BANK"]);
    }
}
