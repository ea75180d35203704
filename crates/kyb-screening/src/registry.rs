//! Company registries, behind one trait: the real registries cannot be reached from here, so the
//! built-in provider is a local registry loaded from a file. The sample is the SEC's list of US
//! public companies (`company_tickers.json`: name and CIK), standing in for the USA.

use crate::index::{Index, ListedName};

/// What a registry says about a business.
#[derive(Debug, Clone, PartialEq)]
pub enum RegistryMatch {
    /// A registered company whose name matches; `number_matches` says whether the registration
    /// number given is that company's.
    Found {
        registry_id: String,
        registered_name: String,
        score: f64,
        number_matches: bool,
    },
    /// No registered company of that name: a reviewer must look (never a rejection).
    NotFound,
}

pub trait RegistryProvider: Send + Sync {
    /// The ISO 3166-1 alpha-3 country this registry covers.
    fn country(&self) -> &str;
    /// A short name for evidence (`sec-company-tickers`).
    fn name(&self) -> &str;
    fn lookup(&self, business_name: &str, registration_number: &str) -> RegistryMatch;
}

/// A registry held in memory: names and numbers, matched like sanctions names.
pub struct LocalRegistry {
    country: String,
    name: String,
    companies: Vec<(String, String)>,
    index: Index,
}

/// The score from which a registered name is the business's.
pub const REGISTRY_THRESHOLD: f64 = 0.9;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RegistryFileError(pub String);

impl LocalRegistry {
    /// `(registration number, name)` pairs.
    pub fn new(country: &str, name: &str, companies: Vec<(String, String)>) -> Self {
        let index = Index::build(
            companies
                .iter()
                .enumerate()
                .map(|(i, (_, n))| ListedName::plain(i as u32, n.clone())),
        );
        Self {
            country: country.to_owned(),
            name: name.to_owned(),
            companies,
            index,
        }
    }

    /// The SEC's `company_tickers.json`: `{"0": {"cik_str": 320193, "ticker": "AAPL", "title":
    /// "Apple Inc."}, …}`. A company with several tickers is listed once.
    pub fn from_sec_json(bytes: &[u8]) -> Result<Self, RegistryFileError> {
        let v: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| RegistryFileError(format!("not JSON: {e}")))?;
        let obj = v.as_object().ok_or_else(|| {
            RegistryFileError(
                "expected an object of companies like {\"0\": {\"cik_str\": …, \"title\": …}}"
                    .into(),
            )
        })?;
        let mut companies: Vec<(String, String)> = Vec::new();
        for (key, c) in obj {
            let cik = c["cik_str"].as_u64().ok_or_else(|| {
                RegistryFileError(format!("company {key:?} has no cik_str number"))
            })?;
            let title = c["title"]
                .as_str()
                .ok_or_else(|| RegistryFileError(format!("company {key:?} has no title")))?;
            companies.push((cik.to_string(), title.to_owned()));
        }
        companies.sort();
        companies.dedup();
        if companies.is_empty() {
            return Err(RegistryFileError("the file lists no companies".into()));
        }
        Ok(Self::new("USA", "sec-company-tickers", companies))
    }

    pub fn len(&self) -> usize {
        self.companies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.companies.is_empty()
    }
}

/// A registration number as digits only, without leading zeros (`0000320193` is `320193`).
fn number_key(raw: &str) -> String {
    let digits: String = raw.chars().filter(char::is_ascii_alphanumeric).collect();
    digits.trim_start_matches('0').to_ascii_uppercase()
}

impl RegistryProvider for LocalRegistry {
    fn country(&self) -> &str {
        &self.country
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn lookup(&self, business_name: &str, registration_number: &str) -> RegistryMatch {
        let wanted = number_key(registration_number);
        let hits = self.index.screen(business_name, REGISTRY_THRESHOLD);
        // Of the names that match, the one with the given number if any, else the best.
        let pick = hits
            .iter()
            .find(|h| {
                !wanted.is_empty() && number_key(&self.companies[h.entry as usize].0) == wanted
            })
            .or(hits.first());
        match pick {
            None => RegistryMatch::NotFound,
            Some(h) => {
                let (number, name) = &self.companies[h.entry as usize];
                RegistryMatch::Found {
                    registry_id: number.clone(),
                    registered_name: name.clone(),
                    score: h.score,
                    number_matches: !wanted.is_empty() && number_key(number) == wanted,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        let json = br#"{"0":{"cik_str":320193,"ticker":"AAPL","title":"Apple Inc."},
                        "1":{"cik_str":789019,"ticker":"MSFT","title":"MICROSOFT CORP"}}"#;
        let r = LocalRegistry::from_sec_json(json).unwrap();
        assert_eq!(r.len(), 2);
        match r.lookup("Microsoft Corporation", "0000789019") {
            RegistryMatch::Found {
                registry_id,
                number_matches,
                ..
            } => {
                assert_eq!(registry_id, "789019");
                assert!(number_matches);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            r.lookup("Apple Inc", "12345"),
            RegistryMatch::Found {
                number_matches: false,
                ..
            }
        ));
        assert_eq!(r.lookup("Acme Widgets LLC", ""), RegistryMatch::NotFound);
        assert!(LocalRegistry::from_sec_json(b"[]").is_err());
    }
}
