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
