//! Commands on business customers: what the API's request bodies become once every field has
//! been parsed into its value type.

use crate::keys::Mode;
use crate::values::{
    BusinessEmail, BusinessName, CountryCode, PhoneNumber, RegisteredAddress, ValueError,
};

/// A refused field: which parameter, which rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {message}")]
pub struct FieldError {
    pub param: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn from_value(param: &'static str, e: ValueError) -> Self {
        Self {
            param,
            code: e.code,
            message: e.message,
        }
    }
}

/// The five fields of `POST /v2/business_customer`, as received (already known to be strings).
#[derive(Debug, Clone, Copy)]
pub struct CreateBusinessCustomerInput<'a> {
    pub business_name: &'a str,
    pub business_email: &'a str,
    pub phone_number: &'a str,
    pub registered_address: &'a str,
    pub registered_country: &'a str,
}

/// A customer to create, every field parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateBusinessCustomer {
    pub business_name: BusinessName,
    pub business_email: BusinessEmail,
    pub phone_number: PhoneNumber,
    pub registered_address: RegisteredAddress,
    pub registered_country: CountryCode,
}

impl CreateBusinessCustomer {
    /// Parses the fields in the order of the vendor's documentation and reports the first
    /// refused one. In test mode the documentation's e-mail placeholder is accepted.
    pub fn parse(input: CreateBusinessCustomerInput<'_>, mode: Mode) -> Result<Self, FieldError> {
        let email = match mode {
            Mode::Test => BusinessEmail::parse_test_mode(input.business_email),
            Mode::Live => BusinessEmail::parse(input.business_email),
        };
        Ok(Self {
            business_name: BusinessName::parse(input.business_name)
                .map_err(|e| FieldError::from_value("business_name", e))?,
            business_email: email.map_err(|e| FieldError::from_value("business_email", e))?,
            phone_number: PhoneNumber::parse(input.phone_number)
                .map_err(|e| FieldError::from_value("phone_number", e))?,
            registered_address: RegisteredAddress::parse(input.registered_address)
                .map_err(|e| FieldError::from_value("registered_address", e))?,
            registered_country: CountryCode::parse(input.registered_country)
                .map_err(|e| FieldError::from_value("registered_country", e))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> CreateBusinessCustomerInput<'static> {
        CreateBusinessCustomerInput {
            business_name: "Acme Corp Solutions Ltd",
            business_email: "[email\u{a0}protected]",
            phone_number: "+1-555-0123",
            registered_address: "123 Business Street, Suite 100, New York, NY 10001",
            registered_country: "USA",
        }
    }

    #[test]
    fn the_vendor_example_parses_in_test_mode() {
        let cmd = CreateBusinessCustomer::parse(seed(), Mode::Test).unwrap();
        assert_eq!(cmd.phone_number.as_str(), "+15550123");
        assert_eq!(cmd.registered_country.as_str(), "USA");
    }

    #[test]
    fn live_mode_wants_a_real_address() {
        let err = CreateBusinessCustomer::parse(seed(), Mode::Live).unwrap_err();
        assert_eq!(err.param, "business_email");
        let input = CreateBusinessCustomerInput {
            business_email: "ops@acme.example",
            ..seed()
        };
        assert!(CreateBusinessCustomer::parse(input, Mode::Live).is_ok());
    }

    #[test]
    fn first_bad_field_is_named() {
        let input = CreateBusinessCustomerInput {
            registered_country: "US",
            ..seed()
        };
        let err = CreateBusinessCustomer::parse(input, Mode::Test).unwrap_err();
        assert_eq!(err.param, "registered_country");
        assert_eq!(err.code, "parameter_invalid");
    }
}
