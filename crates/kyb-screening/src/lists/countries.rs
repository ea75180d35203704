//! Country names as the lists write them (`Russia`, `Korea, North`, `Iran (Islamic Republic
//! of)`) to ISO 3166-1 alpha-3 codes: the names of `data/countries.txt` first, then the
//! standard names `celes` knows.

use std::collections::HashMap;
use std::sync::LazyLock;

fn key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

static ALIASES: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    include_str!("../../data/countries.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, code) = l
                .rsplit_once('=')
                .unwrap_or_else(|| panic!("data/countries.txt: {l:?} has no `= CODE`"));
            (key(name), code.trim())
        })
        .collect()
});

/// The alpha-3 code of a country name or code, if it is one.
pub fn code(name: &str) -> Option<String> {
    let name = name.trim().trim_end_matches('.');
    if name.is_empty() {
        return None;
    }
    let k = key(name);
    if let Some(code) = ALIASES.get(&k) {
        return Some((*code).to_owned());
    }
    if name.len() == 3 && name.bytes().all(|b| b.is_ascii_uppercase()) {
        if let Ok(c) = celes::Country::from_alpha3(name) {
            return Some(c.alpha3.to_owned());
        }
    }
    use std::str::FromStr;
    celes::Country::from_str(&k)
        .or_else(|_| celes::Country::from_str(&format!("the{k}")))
        .ok()
        .map(|c| c.alpha3.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_spellings() {
        for (name, want) in [
            ("Russia", "RUS"),
            ("Korea, North", "PRK"),
            ("Iran (Islamic Republic of)", "IRN"),
            ("Egypt", "EGY"),
            ("Democratic Republic of the Congo", "COD"),
            ("United Kingdom", "GBR"),
            ("IRQ", "IRQ"),
            ("Germany", "DEU"),
        ] {
            assert_eq!(code(name).as_deref(), Some(want), "{name}");
        }
        assert_eq!(code("Atlantis"), None);
        assert_eq!(code(""), None);
    }
}
