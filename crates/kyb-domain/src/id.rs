//! Typed, prefixed identifiers. Every id kyb hands out is made here, by one macro, so a
//! `CustomerId` can never be confused with an `EventId` and no call site formats ids by hand.

use rand::{distributions::Alphanumeric, Rng};
use std::fmt;

/// Characters of randomness after the prefix: 24 alphanumerics carry about 142 bits.
const RANDOM_LEN: usize = 24;

/// Error returned when a string is not an id of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an id starting with `{prefix}` followed by letters and digits")]
pub struct IdParseError {
    pub prefix: &'static str,
}

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new random id.
            pub fn generate() -> Self {
                let random: String = rand::thread_rng()
                    .sample_iter(&Alphanumeric)
                    .take(RANDOM_LEN)
                    .map(char::from)
                    .collect();
                Self(format!("{}{}", $prefix, random))
            }

            /// Accepts only well-formed ids of this kind (prefix + 1..=64 ASCII alphanumerics).
            pub fn parse(s: &str) -> Result<Self, IdParseError> {
                let rest = s.strip_prefix($prefix).ok_or(IdParseError { prefix: $prefix })?;
                if rest.is_empty() || rest.len() > 64 || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(IdParseError { prefix: $prefix });
                }
                Ok(Self(s.to_owned()))
            }

            /// Rebuilds an id read back from our own storage, where it was valid when written.
            pub fn from_trusted(s: String) -> Self {
                debug_assert!(s.starts_with($prefix));
                Self(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
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

typed_id!(
    /// A platform: the tenant that every piece of customer data belongs to.
    PlatformId,
    "plat_"
);
typed_id!(
    /// A business customer of a platform.
    CustomerId,
    "cust_"
);
typed_id!(
    /// An API key (its public identifier, never the secret).
    KeyId,
    "key_"
);
typed_id!(
    /// A hosted KYB link.
    LinkId,
    "link_"
);
typed_id!(
    /// An event in the outbox.
    EventId,
    "evt_"
);
typed_id!(
    /// One row of the audit log.
    AuditId,
    "aud_"
);
typed_id!(
    /// One HTTP request, echoed in `x-request-id`, error bodies and logs.
    RequestId,
    "req_"
);
typed_id!(
    /// A platform's webhook endpoint.
    WebhookEndpointId,
    "we_"
);
typed_id!(
    /// One event on its way to one webhook endpoint.
    DeliveryId,
    "dlv_"
);
typed_id!(
    /// One HTTP request of a delivery.
    AttemptId,
    "att_"
);
typed_id!(
    /// One imported version of a sanctions list.
    SanctionsListId,
    "sl_"
);
typed_id!(
    /// A durable job that runs a case's automated checks.
    CheckJobId,
    "job_"
);
typed_id!(
    /// A reviewer's verdict on one sanctions hit.
    VerdictId,
    "hv_"
);
typed_id!(
    /// The result of one automated check.
    CheckId,
    "chk_"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_ids_have_prefix_and_parse_back() {
        let id = CustomerId::generate();
        assert!(id.as_str().starts_with("cust_"));
        assert_eq!(id.as_str().len(), 5 + RANDOM_LEN);
        assert_eq!(CustomerId::parse(id.as_str()).unwrap(), id);
        assert_ne!(CustomerId::generate(), id);
    }

    #[test]
    fn wrong_prefix_or_characters_are_refused() {
        assert!(CustomerId::parse("evt_abc").is_err());
        assert!(CustomerId::parse("cust_").is_err());
        assert!(CustomerId::parse("cust_abc-def").is_err());
        assert!(CustomerId::parse("cust_abc'--").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_accepts_a_foreign_prefix(s in "[a-z]{1,6}_[A-Za-z0-9]{1,30}") {
            prop_assume!(!s.starts_with("cust_"));
            prop_assert!(CustomerId::parse(&s).is_err());
        }

        #[test]
        fn parse_roundtrips_valid_ids(rest in "[A-Za-z0-9]{1,64}") {
            let s = format!("cust_{rest}");
            let parsed = CustomerId::parse(&s).unwrap();
            prop_assert_eq!(parsed.as_str(), s.as_str());
        }
    }
}
