//! API keys and idempotency keys: the two strings a platform sends in headers.

use rand::{distributions::Alphanumeric, Rng};
use std::fmt;

/// Test keys only ever see test data, live keys only live data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Test,
    Live,
}

impl Mode {
    pub fn is_live(self) -> bool {
        self == Mode::Live
    }

    pub fn from_live(livemode: bool) -> Self {
        if livemode {
            Mode::Live
        } else {
            Mode::Test
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Test => "test",
            Mode::Live => "live",
        }
    }
}

/// Random characters in a secret key: 40 alphanumerics, about 238 bits.
const SECRET_RANDOM_LEN: usize = 40;
/// Characters of the random part that are also kept in clear, to find the key's row.
const LOOKUP_RANDOM_LEN: usize = 12;

/// A secret API key as the platform holds it: `sk_test_…` or `sk_live_…`.
///
/// Deliberately neither `Debug`-printable nor `Display`: the secret leaves the process only
/// once, through `expose_secret`, when the key is created.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret {
    secret: String,
    mode: Mode,
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeySecret({}…)", self.lookup_prefix())
    }
}

impl ApiKeySecret {
    pub fn generate(mode: Mode) -> Self {
        let random: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(SECRET_RANDOM_LEN)
            .map(char::from)
            .collect();
        Self {
            secret: format!("sk_{}_{random}", mode.as_str()),
            mode,
        }
    }

    /// Recognises the shape of a key; whether it exists is for the store to say.
    pub fn parse(raw: &str) -> Option<Self> {
        let (mode, random) = if let Some(r) = raw.strip_prefix("sk_test_") {
            (Mode::Test, r)
        } else if let Some(r) = raw.strip_prefix("sk_live_") {
            (Mode::Live, r)
        } else {
            return None;
        };
        (random.len() == SECRET_RANDOM_LEN && random.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| Self {
                secret: raw.to_owned(),
                mode,
            })
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The part stored in clear and shown in listings, e.g. `sk_test_AbCdEf123456`.
    pub fn lookup_prefix(&self) -> &str {
        &self.secret[..8 + LOOKUP_RANDOM_LEN]
    }

    pub fn expose_secret(&self) -> &str {
        &self.secret
    }
}

/// The `idempotency-key` header: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.is_empty() {
            return Err("the idempotency-key header must not be empty");
        }
        if raw.len() > Self::MAX_LEN {
            return Err("the idempotency-key header must be at most 255 characters");
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(
                "the idempotency-key header may contain only visible ASCII characters (no spaces)",
            );
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_carry_their_mode() {
        let k = ApiKeySecret::generate(Mode::Live);
        assert!(k.expose_secret().starts_with("sk_live_"));
        assert_eq!(ApiKeySecret::parse(k.expose_secret()), Some(k.clone()));
        assert_eq!(k.lookup_prefix().len(), 20);
        assert!(!format!("{k:?}").contains(k.expose_secret()));
        assert_eq!(ApiKeySecret::generate(Mode::Test).mode(), Mode::Test);
    }

    #[test]
    fn malformed_keys_are_not_keys() {
        for bad in [
            "",
            "sk_test_",
            "pk_test_abc",
            "sk_prod_0123456789012345678901234567890123456789",
        ] {
            assert!(ApiKeySecret::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn idempotency_key_bounds() {
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse("4f1c2a9e-8a51-4b8e-9d0e-0f6f7f3d2a11").is_ok());
    }

    proptest! {
        #[test]
        fn any_visible_ascii_key_up_to_255_is_accepted(s in "[!-~]{1,255}") {
            let parsed = IdempotencyKey::parse(&s).unwrap();
            prop_assert_eq!(parsed.as_str(), s.as_str());
        }
    }
}
