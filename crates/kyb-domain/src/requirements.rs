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

/// The English label of a business detail field, for the review console (customers read the
/// message catalogs of the hosted pages).
pub fn business_field_label(field: &str) -> &str {
    match field {
        "legal_name" => "Legal name",
        "trading_name" => "Trading name",
        "entity_type" => "Type of entity",
        "registration_number" => "Registration number",
        "date_of_incorporation" => "Date of incorporation",
        "tax_id" => "Tax identification number",
        "website" => "Website",
        "business_description" => "What the business does",
        "operating_address" => "Operating address",
        other => other,
    }
}

/// What people call a document type kyb accepts (PDF, PNG, JPEG), never its media type; "file"
/// for any other.
pub fn document_type_name(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "PDF",
        "image/png" => "PNG",
        "image/jpeg" => "JPEG",
        _ => "file",
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
    /// The legal forms of the jurisdiction, as `[code, label]`, in the order offered; a
    /// country without its own offers the default file's.
    entity_types: Option<Vec<[String; 2]>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldSpec {
    required: bool,
    pattern: Option<String>,
    example: Option<String>,
    #[serde(default)]
    tidy: Vec<Tidy>,
}

/// What is tidied in a value before it is checked, in the order listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tidy {
    /// Letters in upper case.
    Uppercase,
    /// Spaces and dots removed.
    NoSpaces,
    /// When the value is all digits and a dash after this many makes it match the pattern:
    /// the dash put back (`dash_after = 2` makes 123456789 into 12-3456789).
    #[serde(untagged)]
    DashAfter(DashAfter),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashAfter {
    pub dash_after: usize,
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
    pub pattern: Option<Regex>,
    /// A value in the official format, shown with the format's description.
    pub example: Option<String>,
    pub tidy: Vec<Tidy>,
}

/// Everything one jurisdiction asks for.
#[derive(Debug, Clone)]
pub struct Requirements {
    /// Alpha-3 code, or `default`.
    pub country: String,
    pub fields: BTreeMap<String, FieldRule>,
    pub documents: Vec<DocumentSpec>,
    /// (code, label) of each legal form, in the order offered.
    pub entity_types: Vec<(String, String)>,
}

impl Requirements {
    /// The label of a legal form of this jurisdiction, if it is one.
    pub fn entity_type_label(&self, code: &str) -> Option<&str> {
        self.entity_types
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, l)| l.as_str())
    }

    /// A value as the customer typed it, tidied by the field's rules (spaces, case, a missing
    /// dash), already trimmed: what is checked and saved.
    pub fn tidy(&self, field: &str, value: &str) -> String {
        let mut v = value.trim().to_owned();
        let Some(rule) = self.fields.get(field) else {
            return v;
        };
        for t in &rule.tidy {
            v = match t {
                Tidy::Uppercase => v.to_uppercase(),
                Tidy::NoSpaces => v
                    .chars()
                    .filter(|c| !c.is_whitespace() && *c != '.')
                    .collect(),
                // Only when the dash makes the value whole: otherwise the check names what
                // was typed.
                Tidy::DashAfter(DashAfter { dash_after }) => {
                    let at = *dash_after;
                    let digits = v.len() > at && v.chars().all(|c| c.is_ascii_digit());
                    let dashed = format!("{}-{}", &v[..at.min(v.len())], &v[at.min(v.len())..]);
                    if digits && rule.pattern.as_ref().is_none_or(|p| p.is_match(&dashed)) {
                        dashed
                    } else {
                        v
                    }
                }
            };
        }
        v
    }

    pub fn field(&self, name: &str) -> Option<&FieldRule> {
        self.fields.get(name)
    }

    pub fn is_required(&self, field: &str) -> bool {
        self.fields.get(field).is_some_and(|f| f.required)
    }

    /// Checks one business field's value (already trimmed) against this jurisdiction's rule.
    /// An empty optional field is fine. The pages say what is wrong in the customer's language
    /// (the label, the format's description and the example of this jurisdiction).
    pub fn check(&self, field: &str, value: &str) -> Result<(), FieldProblem> {
        let Some(rule) = self.fields.get(field) else {
            return Ok(());
        };
        if value.is_empty() {
            return if rule.required {
                Err(FieldProblem::Missing)
            } else {
                Ok(())
            };
        }
        match &rule.pattern {
            Some(pattern) if !pattern.is_match(value) => Err(FieldProblem::Format),
            _ => Ok(()),
        }
    }

    pub fn required_documents(&self) -> impl Iterator<Item = &str> {
        self.documents
            .iter()
            .filter(|d| d.required)
            .map(|d| d.kind.as_str())
    }
}

/// Why a business field's value is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldProblem {
    /// Required, and empty.
    Missing,
    /// Not in the jurisdiction's official format.
    Format,
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
        let default: Requirements = default.ok_or_else(|| CatalogError {
            file: "default.toml".into(),
            message: "missing: every other country needs these requirements".into(),
        })?;
        for r in by_country.values_mut() {
            if r.entity_types.is_empty() {
                r.entity_types.clone_from(&default.entity_types);
            }
        }
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
                pattern,
                example: f.example,
                tidy: f.tidy,
            },
        );
    }
    let listed = spec.entity_types.unwrap_or_default();
    if listed.is_empty() && spec.country == "default" {
        return Err("entity_types: the default file lists at least one legal form".into());
    }
    let mut entity_types: Vec<(String, String)> = Vec::new();
    for [code, label] in listed {
        let good = !code.is_empty()
            && code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !good || entity_types.iter().any(|(c, _)| *c == code) {
            return Err(format!(
                "entity type code `{code}` must be unique, in lower case letters, digits and _"
            ));
        }
        entity_types.push((code, label));
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
        entity_types,
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
            let result = c.for_country(country).check(field, value);
            assert_eq!(
                result.is_ok(),
                ok,
                "{country} {field} {value:?}: {result:?}"
            );
        }
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
    fn values_are_tidied_by_the_jurisdictions_rules() {
        let c = catalog();
        let usa = c.for_country("USA");
        assert_eq!(usa.tidy("tax_id", " 123456789 "), "12-3456789");
        assert_eq!(usa.tidy("tax_id", "12 3456789"), "12-3456789");
        assert_eq!(usa.tidy("tax_id", "12-3456789"), "12-3456789");
        assert_eq!(
            usa.tidy("tax_id", "1234"),
            "1234",
            "too short is left to the check"
        );
        assert_eq!(usa.tidy("legal_name", "  Acme  "), "Acme");
        let gbr = c.for_country("GBR");
        assert_eq!(gbr.tidy("registration_number", "sc 123 456"), "SC123456");
        assert!(gbr
            .check(
                "registration_number",
                &gbr.tidy("registration_number", "sc 123 456")
            )
            .is_ok());
        let nga = c.for_country("NGA");
        assert_eq!(nga.tidy("registration_number", "rc 1234567"), "RC1234567");
        assert_eq!(nga.tidy("tax_id", "123456780001"), "12345678-0001");
        assert!(nga.check("tax_id", "12345678-0001").is_ok());
    }

    #[test]
    fn each_jurisdiction_offers_its_legal_forms() {
        let c = catalog();
        let codes = |country: &str| -> Vec<String> {
            c.for_country(country)
                .entity_types
                .iter()
                .map(|(k, _)| k.clone())
                .collect()
        };
        assert_eq!(
            codes("USA"),
            [
                "llc",
                "c_corporation",
                "s_corporation",
                "partnership",
                "sole_proprietorship",
                "non_profit"
            ]
        );
        assert_eq!(
            codes("GBR"),
            [
                "private_limited_company",
                "public_limited_company",
                "llp",
                "partnership",
                "sole_trader"
            ]
        );
        assert_eq!(
            codes("NGA"),
            [
                "private_limited_company",
                "public_limited_company",
                "business_name",
                "incorporated_trustees"
            ]
        );
        assert!(
            codes("FRA").contains(&"other".to_owned()),
            "the default list"
        );
        assert_eq!(
            c.for_country("GBR").entity_type_label("llc"),
            None,
            "no LLC in the UK"
        );
    }

    #[test]
    fn a_field_is_missing_or_not_in_the_official_format() {
        let c = catalog();
        let usa = c.for_country("USA");
        assert_eq!(usa.check("legal_name", ""), Err(FieldProblem::Missing));
        assert_eq!(usa.check("trading_name", ""), Ok(()));
        assert_eq!(usa.check("tax_id", "1234567"), Err(FieldProblem::Format));
        assert_eq!(usa.check("tax_id", "12-3456789"), Ok(()));
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
