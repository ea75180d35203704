//! The requirements catalog: per jurisdiction, which business fields and documents a customer
//! must give, and the format of registration and tax numbers. One TOML file per country under
//! `requirements/` (compiled into the binary), plus `default.toml` for every other country.
//! `Catalog::load` parses and checks them all; the hosted flow validates with it and the API
//! reports `requirements.currently_due` from it.

use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The business detail fields the hosted flow asks for, in page order.
pub const BUSINESS_FIELDS: [&str; 9] = [
    "legal_name",
    "trading_name",
    "entity_type",
    "registration_number",
    "date_of_incorporation",
    "tax_id",
    "website",
    "business_description",
    "operating_address",
];

/// The label of a business detail field, for the review console and messages.
pub fn business_field_label(field: &str) -> &str {
    match field {
        "legal_name" => "Legal name",
        "trading_name" => "Trading name",
        "entity_type" => "Entity type",
        "registration_number" => "Registration number",
        "date_of_incorporation" => "Date of incorporation",
        "tax_id" => "Tax identification number",
        "website" => "Website",
        "business_description" => "What the business does",
        "operating_address" => "Operating address",
        other => other,
    }
}

/// Document kinds a requirement may name.
pub const DOCUMENT_KINDS: [(&str, &str); 5] = [
    (
        "certificate_of_incorporation",
        "Certificate of incorporation",
    ),
    ("proof_of_address", "Proof of business address"),
    (
        "ownership_structure",
        "Ownership structure chart or register of members",
    ),
    ("tax_registration", "Tax registration certificate"),
    ("other", "Other supporting document"),
];

/// The human name of a document kind.
pub fn document_label(kind: &str) -> &str {
    DOCUMENT_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(kind, |(_, label)| label)
}

/// The document types kyb accepts, as judged by their content (never by name or header), with
/// the file extension they download as.
pub const ACCEPTED_DOCUMENT_TYPES: [(&str, &str); 3] = [
    ("application/pdf", "pdf"),
    ("image/png", "png"),
    ("image/jpeg", "jpg"),
];

/// What a reviewer may ask a customer for again (key, label): each business field, the
/// people, each document kind. The keys are those of `requirements.currently_due`.
pub fn requestable_items() -> Vec<(String, String)> {
    let mut items: Vec<(String, String)> = BUSINESS_FIELDS
        .iter()
        .map(|f| {
            (
                format!("business_details.{f}"),
                format!("Business details: {}", business_field_label(f)),
            )
        })
        .collect();
    items.push((
        "people".into(),
        "People: directors, control persons and owners".into(),
    ));
    items.extend(DOCUMENT_KINDS.iter().map(|(k, _)| {
        (
            format!("documents.{k}"),
            format!("Document: {}", document_label(k)),
        )
    }));
    items
}

const FILES: [(&str, &str); 4] = [
    ("default.toml", include_str!("../requirements/default.toml")),
    ("USA.toml", include_str!("../requirements/USA.toml")),
    ("GBR.toml", include_str!("../requirements/GBR.toml")),
    ("NGA.toml", include_str!("../requirements/NGA.toml")),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    country: String,
    #[serde(default)]
    fields: BTreeMap<String, FieldSpec>,
    #[serde(default)]
    documents: Vec<DocumentSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldSpec {
    required: bool,
    label: Option<String>,
    pattern: Option<String>,
    hint: Option<String>,
    example: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSpec {
    pub kind: String,
    pub required: bool,
}

/// One field's rule in one jurisdiction.
#[derive(Debug, Clone)]
pub struct FieldRule {
    pub required: bool,
    pub label: Option<String>,
    pub pattern: Option<Regex>,
    pub hint: Option<String>,
    pub example: Option<String>,
}

/// Everything one jurisdiction asks for.
#[derive(Debug, Clone)]
pub struct Requirements {
    /// Alpha-3 code, or `default`.
    pub country: String,
    pub fields: BTreeMap<String, FieldRule>,
    pub documents: Vec<DocumentSpec>,
}

impl Requirements {
    pub fn field(&self, name: &str) -> Option<&FieldRule> {
        self.fields.get(name)
    }

    pub fn is_required(&self, field: &str) -> bool {
        self.fields.get(field).is_some_and(|f| f.required)
    }

    /// Checks one business field's value (already trimmed) against this jurisdiction's rule.
    /// An empty optional field is fine; the message names the field and the rule.
    pub fn check(&self, field: &str, label: &str, value: &str) -> Result<(), String> {
        let Some(rule) = self.fields.get(field) else {
            return Ok(());
        };
        if value.is_empty() {
            return if rule.required {
                Err(format!(
                    "Enter the {}",
                    rule.label.as_deref().unwrap_or(label).to_lowercase()
                ))
            } else {
                Ok(())
            };
        }
        if let Some(pattern) = &rule.pattern {
            if !pattern.is_match(value) {
                let name = rule.label.as_deref().unwrap_or(label);
                let hint = rule
                    .hint
                    .as_deref()
                    .map(|h| format!(": {h}"))
                    .unwrap_or_default();
                let example = rule
                    .example
                    .as_deref()
                    .map(|e| format!(", like {e}"))
                    .unwrap_or_default();
                return Err(format!(
                    "{name} must be in the official format{hint}{example}"
                ));
            }
        }
        Ok(())
    }

    pub fn required_documents(&self) -> impl Iterator<Item = &str> {
        self.documents
            .iter()
            .filter(|d| d.required)
            .map(|d| d.kind.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("requirements file {file}: {message}")]
pub struct CatalogError {
    pub file: String,
    pub message: String,
}

/// All jurisdictions, checked.
#[derive(Debug, Clone)]
pub struct Catalog {
    default: Requirements,
    by_country: BTreeMap<String, Requirements>,
}

impl Catalog {
    /// Parses and checks the built-in files.
    pub fn load() -> Result<Self, CatalogError> {
        Self::from_files(
            FILES
                .iter()
                .map(|(name, text)| (name.to_string(), text.to_string())),
        )
    }

    /// Parses and checks `(file name, contents)` pairs; one must be `default`.
    pub fn from_files(
        files: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, CatalogError> {
        let mut default = None;
        let mut by_country = BTreeMap::new();
        for (file, text) in files {
            let err = |message: String| CatalogError {
                file: file.clone(),
                message,
            };
            let spec: FileSpec = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
            let requirements = parse_spec(spec).map_err(err)?;
            if requirements.country == "default" {
                default = Some(requirements);
            } else if by_country
                .insert(requirements.country.clone(), requirements)
                .is_some()
            {
                return Err(err("a second file for the same country".into()));
            }
        }
        let default = default.ok_or_else(|| CatalogError {
            file: "default.toml".into(),
            message: "missing: every other country needs these requirements".into(),
        })?;
        Ok(Self {
            default,
            by_country,
        })
    }

    /// The requirements of a country (alpha-3), or the default ones.
    pub fn for_country(&self, alpha3: &str) -> &Requirements {
        self.by_country.get(alpha3).unwrap_or(&self.default)
    }

    pub fn countries(&self) -> impl Iterator<Item = &str> {
        self.by_country.keys().map(String::as_str)
    }
}

fn parse_spec(spec: FileSpec) -> Result<Requirements, String> {
    if spec.country != "default" {
        crate::CountryCode::parse(&spec.country).map_err(|e| e.message)?;
    }
    let mut fields = BTreeMap::new();
    for (name, f) in spec.fields {
        if !BUSINESS_FIELDS.contains(&name.as_str()) {
            return Err(format!(
                "unknown field `{name}`; known: {}",
                BUSINESS_FIELDS.join(", ")
            ));
        }
        let pattern =
            match &f.pattern {
                None => None,
                Some(p) => {
                    if !(p.starts_with('^') && p.ends_with('$')) {
                        return Err(format!("pattern of `{name}` must be anchored with ^ and $"));
                    }
                    Some(Regex::new(p).map_err(|e| {
                        format!("pattern of `{name}` is not a regular expression: {e}")
                    })?)
                }
            };
        if let (Some(re), Some(example)) = (&pattern, &f.example) {
            if !re.is_match(example) {
                return Err(format!(
                    "example `{example}` of `{name}` does not match its own pattern"
                ));
            }
        }
        fields.insert(
            name,
            FieldRule {
                required: f.required,
                label: f.label,
                pattern,
                hint: f.hint,
                example: f.example,
            },
        );
    }
    for d in &spec.documents {
        if !DOCUMENT_KINDS.iter().any(|(k, _)| *k == d.kind) {
            return Err(format!("unknown document kind `{}`", d.kind));
        }
    }
    Ok(Requirements {
        country: spec.country,
        fields,
        documents: spec.documents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::load().expect("the built-in requirements are valid")
    }

    #[test]
    fn built_in_files_load_with_the_named_jurisdictions() {
        let c = catalog();
        assert_eq!(c.countries().collect::<Vec<_>>(), ["GBR", "NGA", "USA"]);
        assert_eq!(c.for_country("FRA").country, "default");
        assert_eq!(c.for_country("USA").country, "USA");
    }

    #[test]
    fn number_formats_table() {
        let c = catalog();
        // (country, field, value, accepted)
        let table = [
            ("USA", "tax_id", "12-3456789", true),
            ("USA", "tax_id", "123456789", false),
            ("USA", "tax_id", "12-345678", false),
            ("USA", "tax_id", "", false),
            ("GBR", "registration_number", "01234567", true),
            ("GBR", "registration_number", "SC123456", true),
            ("GBR", "registration_number", "OC123456", true),
            ("GBR", "registration_number", "1234567", false),
            ("GBR", "registration_number", "XX123456", false),
            ("GBR", "tax_id", "", true),
            ("GBR", "tax_id", "1234567890", true),
            ("GBR", "tax_id", "12345", false),
            ("NGA", "registration_number", "RC 1234567", true),
            ("NGA", "registration_number", "BN123456", true),
            ("NGA", "registration_number", "LL123456", false),
            ("NGA", "tax_id", "12345678-0001", true),
            ("NGA", "tax_id", "1234567800001", false),
            ("FRA", "registration_number", "552 120 222", true),
            ("FRA", "registration_number", "", false),
            ("FRA", "tax_id", "", true),
        ];
        for (country, field, value, ok) in table {
            let result = c.for_country(country).check(field, field, value);
            assert_eq!(
                result.is_ok(),
                ok,
                "{country} {field} {value:?}: {result:?}"
            );
        }
    }

    #[test]
    fn messages_name_the_rule() {
        let c = catalog();
        let err = c
            .for_country("USA")
            .check("tax_id", "Tax ID", "123")
            .unwrap_err();
        assert_eq!(err, "EIN (Employer Identification Number) must be in the official format: two digits, a dash, seven digits, like 12-3456789");
    }

    #[test]
    fn required_documents_per_country() {
        let c = catalog();
        assert_eq!(
            c.for_country("NGA")
                .required_documents()
                .collect::<Vec<_>>(),
            [
                "certificate_of_incorporation",
                "proof_of_address",
                "ownership_structure",
                "tax_registration"
            ]
        );
        assert!(!c
            .for_country("USA")
            .required_documents()
            .any(|k| k == "tax_registration"));
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        let default = (
            "default.toml".to_string(),
            include_str!("../requirements/default.toml").to_string(),
        );
        let cases = [
            ("country = \"XX\"", "alpha-3"),
            ("country = \"FRA\"\n[fields.colour]\nrequired = true", "unknown field `colour`"),
            ("country = \"FRA\"\n[fields.tax_id]\nrequired = true\npattern = '^[$'", "not a regular expression"),
            ("country = \"FRA\"\n[fields.tax_id]\nrequired = true\npattern = '\\d+'", "anchored"),
            ("country = \"FRA\"\n[fields.tax_id]\nrequired = true\npattern = '^\\d+$'\nexample = 'abc'", "does not match"),
            ("country = \"FRA\"\n[[documents]]\nkind = \"selfie\"\nrequired = true", "unknown document kind"),
            ("country = \"FRA\"\nextra = 1", "unknown field"),
        ];
        for (text, reason) in cases {
            let err = Catalog::from_files([default.clone(), ("FRA.toml".into(), text.into())])
                .unwrap_err();
            assert_eq!(err.file, "FRA.toml");
            assert!(err.message.contains(reason), "{text}: {}", err.message);
        }
        let err = Catalog::from_files([(
            "USA.toml".to_string(),
            include_str!("../requirements/USA.toml").to_string(),
        )])
        .unwrap_err();
        assert!(err.message.contains("missing"));
    }
}
