//! Hashing of high-entropy secrets (API keys, link tokens). They carry 200+ bits of randomness,
//! so a fast SHA-256 is the right hash; a slow password hash (argon2) would only cost latency.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Hex SHA-256 of a secret, as stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares a presented secret with a stored hash in constant time.
pub fn verify_secret(presented: &str, stored_hash: &str) -> bool {
    let computed = hash_secret(presented);
    computed.as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// Compares two secrets in clear (CSRF tokens, a bearer token) in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// What stands for a KYB link's token wherever a link is kept at rest (outbox events, stored
/// idempotent responses): `{{link_token:lnk_…}}`. The service puts the token back on the way out.
pub const LINK_PLACEHOLDER_OPEN: &str = "{{link_token:";
pub const LINK_PLACEHOLDER_CLOSE: &str = "}}";

/// The placeholder for one link.
pub fn link_placeholder(link_id: &str) -> String {
    format!("{LINK_PLACEHOLDER_OPEN}{link_id}{LINK_PLACEHOLDER_CLOSE}")
}

/// The link id a placeholder names, if `s` is one.
pub fn link_placeholder_id(s: &str) -> Option<&str> {
    s.strip_prefix(LINK_PLACEHOLDER_OPEN)?
        .strip_suffix(LINK_PLACEHOLDER_CLOSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_right_secret() {
        let h = hash_secret("sk_test_abc");
        assert_eq!(h.len(), 64);
        assert!(verify_secret("sk_test_abc", &h));
        assert!(!verify_secret("sk_test_abd", &h));
        assert!(!verify_secret("sk_test_abc", &h[..63]));
    }
}
