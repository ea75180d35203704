//! Value types of a business customer. Each one is a newtype with a private field whose only
//! way in is `parse`, so a value that exists is a value that passed the rule.

use email_address::{EmailAddress, Options};
use std::fmt;
use std::str::FromStr;

/// Why a value was refused: a sentence for the API client, and a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    /// `parameter_invalid` or `parameter_missing`.
    pub code: &'static str,
    pub message: String,
}

impl ValueError {
    fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: "parameter_invalid",
            message: message.into(),
        }
    }

    fn missing(message: impl Into<String>) -> Self {
        Self {
            code: "parameter_missing",
            message: message.into(),
        }
    }
}

/// The first character of `s` that no text typed by a person holds: a control character (line
/// breaks and tabs aside when `allow_newlines`), a format character (zero-width space and
/// joiners, soft hyphen, word joiner, bidi embeddings, overrides and isolates, byte order
/// mark), a line or paragraph separator. Such characters hide or reorder what a reader sees, so
/// a name carrying them could pass for another. With its position (in characters, from 1).
pub fn invisible_char(s: &str, allow_newlines: bool) -> Option<(usize, char)> {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    s.chars().enumerate().find_map(|(i, c)| {
        let bad = match c.general_category() {
            GeneralCategory::Control => !(allow_newlines && matches!(c, '\n' | '\r' | '\t')),
            GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator => true,
            _ => false,
        };
        bad.then_some((i + 1, c))
    })
}

/// The sentence that refuses an invisible character, naming it.
pub fn invisible_message(what: &str, at: usize, c: char) -> String {
    format!(
        "{what} must not contain invisible, control or text-direction characters: U+{:04X} at character {at}",
        u32::from(c)
    )
}

/// Trims and checks a free-text value: non-empty, at most `max` characters, no invisible or
/// control characters except line breaks and tabs (addresses may span lines). Kept in Unicode
/// NFC, so that one text has one form.
fn text(raw: &str, what: &str, max: usize, allow_newlines: bool) -> Result<String, ValueError> {
    use unicode_normalization::UnicodeNormalization;
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ValueError::missing(format!(
            "{what} must not be empty (1 to {max} characters after trimming spaces)"
        )));
    }
    let len = trimmed.chars().count();
    if len > max {
        return Err(ValueError::invalid(format!(
            "{what} must be at most {max} characters after trimming spaces, got {len}"
        )));
    }
    if let Some((at, c)) = invisible_char(trimmed, allow_newlines) {
        return Err(ValueError::invalid(invisible_message(what, at, c)));
    }
    Ok(trimmed.nfc().collect())
}

macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// The registered legal name: 1 to 200 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessName(String);
string_value!(BusinessName);

impl BusinessName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        text(raw, "business_name", Self::MAX_CHARS, false).map(Self)
    }
}

/// The registered address as one free-text value: 1 to 500 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredAddress(String);
string_value!(RegisteredAddress);

impl RegisteredAddress {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        text(raw, "registered_address", Self::MAX_CHARS, true).map(Self)
    }
}

/// A contact e-mail address (RFC 5322 addr-spec with a dotted domain, no display name).
///
/// The domain is lower-cased; the local part is kept as given. `key()` is the form used to
/// find duplicates: the whole address lower-cased, since no real mailbox provider treats
/// `Ops@x.com` and `ops@x.com` as different people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessEmail(String);
string_value!(BusinessEmail);

/// What the vendor's published example carries in place of an address: an e-mail obfuscation
/// placeholder that the documentation site substituted (with a no-break space). It is accepted
/// in test mode only, so the example body works verbatim; live mode needs a real address.
pub const DOCS_EMAIL_PLACEHOLDER: &str = "[email protected]";

impl BusinessEmail {
    pub const MAX_CHARS: usize = 254;

    /// Parses a real address.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ValueError::missing("business_email must not be empty"));
        }
        if Self::is_docs_placeholder(trimmed) {
            return Err(ValueError::invalid(
                "business_email is `[email protected]`, the placeholder that the vendor documentation \
                 shows instead of an address; send the customer's real e-mail address \
                 (the placeholder is accepted only with a test key)",
            ));
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(ValueError::invalid(format!(
                "business_email must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        let options = Options {
            minimum_sub_domains: 2,
            allow_domain_literal: false,
            allow_display_text: false,
            ..Options::default()
        };
        let parsed = EmailAddress::parse_with_options(trimmed, options).map_err(|e| {
            ValueError::invalid(format!(
                "business_email must be a valid e-mail address like name@example.com ({e})"
            ))
        })?;
        Ok(Self(format!(
            "{}@{}",
            parsed.local_part(),
            parsed.domain().to_ascii_lowercase()
        )))
    }

    /// Parses an address in test mode, where the documentation placeholder is also accepted
    /// (stored with a plain space).
    pub fn parse_test_mode(raw: &str) -> Result<Self, ValueError> {
        if Self::is_docs_placeholder(raw.trim()) {
            return Ok(Self(DOCS_EMAIL_PLACEHOLDER.to_owned()));
        }
        Self::parse(raw)
    }

    fn is_docs_placeholder(s: &str) -> bool {
        let normalised: String = s
            .chars()
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .collect();
        normalised.eq_ignore_ascii_case(DOCS_EMAIL_PLACEHOLDER)
    }

    /// The form that identifies a mailbox for duplicate detection.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// Rebuilds a value read back from our own storage.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// A phone number in international form, stored as E.164 (`+` and digits only).
///
/// The rule: it starts with `+`, holds only digits and the usual separators (spaces, `-`, `.`,
/// parentheses), its country calling code exists, and it has at most 15 digits in all. Whether a
/// number is assigned by its carrier is not checked: the vendor's own example `+1-555-0123` is a
/// fictional 555 number that a strict check would refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);
string_value!(PhoneNumber);

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ValueError::missing("phone_number must not be empty"));
        }
        if !trimmed.starts_with('+') {
            return Err(ValueError::invalid(
                "phone_number must be in international form starting with `+` and the country calling code, like +14155550123",
            ));
        }
        if let Some(bad) = trimmed[1..]
            .chars()
            .find(|c| !(c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')')))
        {
            return Err(ValueError::invalid(format!(
                "phone_number may contain only digits, spaces, `-`, `.` and parentheses after the `+`, found `{bad}`"
            )));
        }
        // The library's own messages name its internals ("malformed integer part ... cannot
        // parse integer from empty string"): each failure gets a sentence naming the rule.
        let parsed = phonenumber::parse(None, trimmed).map_err(|e| {
            use phonenumber::ParseError as P;
            ValueError::invalid(match e {
                P::InvalidCountryCode => {
                    "phone_number starts with a country calling code that is not assigned to any country"
                }
                P::NoNumber | P::TooShortAfterIdd | P::TooShortNsn => {
                    "phone_number has too few digits: after the `+` it needs the country calling code and the national number, 8 to 15 digits in all, like +14155550123"
                }
                P::TooLong => {
                    "phone_number has too many digits: at most 15 including the country calling code (E.164)"
                }
                // A national part that is nothing but zeros (or a trunk prefix) once the
                // library has dropped its leading zeros.
                P::MalformedInteger(_) => {
                    "phone_number has no national number after the country calling code, only zeros; write the national number without its trunk prefix, like +14155550123"
                }
            })
        })?;
        let code = parsed.code().value();
        if phonenumber::metadata::DATABASE.by_code(&code).is_none() {
            return Err(ValueError::invalid(format!(
                "phone_number has country calling code +{code}, which is not assigned to any country"
            )));
        }
        let e164 = parsed.format().mode(phonenumber::Mode::E164).to_string();
        // The library folds leading zeros of the national part in ways that do not always
        // survive a second reading (`+234 0000001` formats as `+23400001`, which reads back as
        // `+234001`). A stored number must read back as itself, so such a number is refused
        // rather than stored as something the platform did not send.
        let again = phonenumber::parse(None, &e164)
            .map(|p| p.format().mode(phonenumber::Mode::E164).to_string())
            .ok();
        if again.as_deref() != Some(e164.as_str()) {
            return Err(ValueError::invalid(
                "phone_number has a national part made mostly of leading zeros, which has no single international form; write it as the country calling code followed by the national number without its trunk prefix, like +2348031234567",
            ));
        }
        // Counted on the normalised form: a national trunk prefix (`+44 0…`) is dropped by then.
        let digits = e164.len() - 1;
        if !(8..=15).contains(&digits) {
            return Err(ValueError::invalid(format!(
                "phone_number must have 8 to 15 digits including the country calling code (E.164), got {digits}"
            )));
        }
        Ok(Self(e164))
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// An ISO 3166-1 alpha-3 country code, upper case (`USA`, `GBR`, `NGA`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CountryCode(&'static str);

impl CountryCode {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        if raw.is_empty() {
            return Err(ValueError::missing(
                "registered_country must be an ISO 3166-1 alpha-3 country code like USA",
            ));
        }
        let is_alpha3_form = raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_uppercase());
        if is_alpha3_form {
            if let Ok(country) = celes::Country::from_alpha3(raw) {
                return Ok(Self(country.alpha3));
            }
        }
        let hint = match Self::guess(raw) {
            Some(code) => format!(" (did you mean `{code}`?)"),
            None => String::new(),
        };
        let what = if is_alpha3_form {
            "is not an assigned"
        } else {
            "must be an upper-case"
        };
        Err(ValueError::invalid(format!(
            "registered_country `{raw}` {what} ISO 3166-1 alpha-3 country code{hint}"
        )))
    }

    /// The alpha-3 code a client probably meant by a two-letter code, a lower-case code,
    /// a numeric code or a country name.
    pub fn guess(raw: &str) -> Option<&'static str> {
        let cleaned: String = raw.chars().filter(|c| c.is_alphanumeric()).collect();
        if cleaned.is_empty() {
            return None;
        }
        let lower = cleaned.to_lowercase();
        let candidates = [lower.as_str(), lower.strip_prefix("the").unwrap_or(&lower)];
        candidates.iter().find_map(|c| {
            celes::Country::from_str(c)
                .or_else(|_| celes::Country::from_str(&format!("the{c}")))
                .ok()
                .map(|country| country.alpha3)
        })
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn business_name_trims_and_bounds() {
        assert_eq!(
            BusinessName::parse("  Acme Ltd ").unwrap().as_str(),
            "Acme Ltd"
        );
        assert_eq!(
            BusinessName::parse("   ").unwrap_err().code,
            "parameter_missing"
        );
        assert!(BusinessName::parse(&"a".repeat(200)).is_ok());
        assert!(BusinessName::parse(&"a".repeat(201)).is_err());
        // Characters, not bytes: 200 multi-byte characters are fine.
        assert!(BusinessName::parse(&"é".repeat(200)).is_ok());
        assert!(BusinessName::parse("Acme\u{0}Ltd").is_err());
        for disguise in [
            "BAN\u{200B}K",
            "BANK\u{00AD}",
            "\u{202E}BANK",
            "B\u{2066}ANK\u{2069}",
            "BA\u{2060}NK",
        ] {
            let e = BusinessName::parse(disguise).unwrap_err();
            assert!(
                e.message.contains("invisible") && e.message.contains("U+"),
                "{e}"
            );
        }
        // Kept in NFC: a decomposed é is stored composed.
        assert_eq!(
            BusinessName::parse("Cafe\u{301}").unwrap().as_str(),
            "Caf\u{e9}"
        );
    }

    #[test]
    fn address_allows_line_breaks() {
        assert!(RegisteredAddress::parse("1 Main St\nSpringfield").is_ok());
        assert!(RegisteredAddress::parse(&"a".repeat(501)).is_err());
    }

    #[test]
    fn email_rules() {
        assert_eq!(
            BusinessEmail::parse("Ops@Acme.COM").unwrap().as_str(),
            "Ops@acme.com"
        );
        assert_eq!(
            BusinessEmail::parse("Ops@Acme.COM").unwrap().key(),
            "ops@acme.com"
        );
        for bad in [
            "acme",
            "a@b",
            "a@@b.com",
            "Acme <a@b.com>",
            "a@[127.0.0.1]",
            "a b@c.com",
        ] {
            assert!(BusinessEmail::parse(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn docs_placeholder_only_in_test_mode() {
        let verbatim = "[email\u{a0}protected]";
        assert!(BusinessEmail::parse(verbatim)
            .unwrap_err()
            .message
            .contains("placeholder"));
        assert_eq!(
            BusinessEmail::parse_test_mode(verbatim).unwrap().as_str(),
            DOCS_EMAIL_PLACEHOLDER
        );
        assert!(BusinessEmail::parse_test_mode("nope").is_err());
    }

    #[test]
    fn phone_numbers_normalise_to_e164() {
        assert_eq!(
            PhoneNumber::parse("+1-555-0123").unwrap().as_str(),
            "+15550123"
        );
        assert_eq!(
            PhoneNumber::parse("+44 20 7946 0958").unwrap().as_str(),
            "+442079460958"
        );
        assert_eq!(
            PhoneNumber::parse("+234 (803) 123.4567").unwrap().as_str(),
            "+2348031234567"
        );
        for bad in [
            "555-0123",
            "+",
            "+1-555",
            "+999 1234 5678",
            "+1 555 0123 ext 4",
            "+1234567890123456",
            "+234 0000001",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad} must be refused");
        }
    }

    /// The parser's failures are told as the rule they break, never in the library's words.
    #[test]
    fn phone_number_errors_name_the_rule() {
        for (raw, says) in [
            ("+10000000", "no national number"),
            ("+4400000000", "no national number"),
            ("+1", "too few digits"),
            ("+12", "too few digits"),
            ("+999 1234 5678", "not assigned"),
            ("+1234567890123456", "8 to 15 digits"),
        ] {
            let e = PhoneNumber::parse(raw).unwrap_err();
            assert!(e.message.contains(says), "{raw}: {}", e.message);
            for internal in ["integer", "parse", "IDD", "nsn"] {
                assert!(!e.message.contains(internal), "{raw}: {}", e.message);
            }
        }
    }

    #[test]
    fn country_codes_and_hints() {
        assert_eq!(CountryCode::parse("USA").unwrap().as_str(), "USA");
        assert_eq!(CountryCode::parse("NGA").unwrap().as_str(), "NGA");
        for (input, meant) in [
            ("US", "USA"),
            ("usa", "USA"),
            ("United States", "USA"),
            ("united kingdom", "GBR"),
            ("Nigeria", "NGA"),
            ("gb", "GBR"),
        ] {
            let err = CountryCode::parse(input).unwrap_err();
            assert!(
                err.message.contains(&format!("did you mean `{meant}`")),
                "{input}: {}",
                err.message
            );
        }
        let err = CountryCode::parse("XYZ").unwrap_err();
        assert!(err.message.contains("not an assigned"), "{}", err.message);
        assert!(!err.message.contains("did you mean"));
    }

    proptest! {
        #[test]
        fn names_within_bounds_roundtrip(s in "[A-Za-z0-9 .,&'-]{1,200}") {
            prop_assume!(!s.trim().is_empty());
            let parsed = BusinessName::parse(&s).unwrap();
            prop_assert_eq!(parsed.as_str(), s.trim());
        }

        #[test]
        fn e164_output_is_plus_and_digits(cc in prop::sample::select(vec!["1", "44", "234", "49", "33"]), rest in "[0-9]{7,10}") {
            let raw = format!("+{cc} {rest}");
            if let Ok(p) = PhoneNumber::parse(&raw) {
                prop_assert!(p.as_str().starts_with('+'));
                prop_assert!(p.as_str()[1..].chars().all(|c| c.is_ascii_digit()));
                prop_assert!(p.as_str().len() <= 16);
                // Normalised values parse to themselves.
                prop_assert_eq!(PhoneNumber::parse(p.as_str()).unwrap(), p);
            }
        }

        /// Every number accepted, in any assigned country calling code, is stored in a form
        /// that reads back as itself: what is sent back to the platform is accepted again.
        #[test]
        fn stored_phone_numbers_parse_to_themselves(
            code_index in 0usize..1000,
            rest in "[0-9]{1,13}",
            sep in prop::sample::select(vec!["", " ", "-", " 0", "(0)", "."]),
        ) {
            let codes: Vec<u16> = {
                let mut codes: Vec<u16> = (1u16..1000)
                    .filter(|c| phonenumber::metadata::DATABASE.by_code(c).is_some())
                    .collect();
                codes.dedup();
                codes
            };
            let cc = codes[code_index % codes.len()];
            let raw = format!("+{cc}{sep}{rest}");
            if let Ok(p) = PhoneNumber::parse(&raw) {
                let again = PhoneNumber::parse(p.as_str());
                prop_assert_eq!(again.as_ref().map(|a| a.as_str()), Ok(p.as_str()), "{} was stored as {}", raw, p.as_str());
            }
        }

        #[test]
        fn separators_do_not_change_the_number(rest in "[2-9][0-9]{9}") {
            let plain = PhoneNumber::parse(&format!("+1{rest}")).unwrap();
            let dashed = PhoneNumber::parse(&format!("+1-{}-{}-{}", &rest[..3], &rest[3..6], &rest[6..])).unwrap();
            prop_assert_eq!(plain, dashed);
        }

        #[test]
        fn every_assigned_alpha3_parses(i in 0usize..249) {
            let countries = celes::Country::get_countries();
            let c = countries[i % countries.len()];
            prop_assert_eq!(CountryCode::parse(c.alpha3).unwrap().as_str(), c.alpha3);
        }

        #[test]
        fn valid_emails_keep_their_shape(local in "[a-z0-9._]{1,20}", domain in "[a-z]{1,20}\\.[a-z]{2,6}") {
            prop_assume!(!local.starts_with('.') && !local.ends_with('.') && !local.contains(".."));
            let raw = format!("{local}@{domain}");
            let parsed = BusinessEmail::parse(&raw).unwrap();
            prop_assert_eq!(parsed.as_str(), raw.as_str());
        }
    }
}
