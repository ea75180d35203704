//! KYB link tokens. A token is HMAC-SHA256(secret key, link id), 256 bits, base64url: the
//! database holds only its SHA-256, yet the service can show a still-valid link again (in
//! `GET /v2/business_customer/{id}`) without keeping the token anywhere.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use kyb_domain::LinkId;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

#[derive(Clone)]
pub struct LinkSigner {
    key: SecretString,
    public_url: String,
}

impl LinkSigner {
    pub fn new(key: SecretString, public_url: String) -> Self {
        Self { key, public_url }
    }

    pub fn token(&self, link: &LinkId) -> String {
        let mut mac = <Hmac<Sha256>>::new_from_slice(self.key.expose_secret().as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(b"kyb-link-v1\0");
        mac.update(link.as_str().as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// What the database stores to find a link by its token.
    pub fn token_hash(token: &str) -> String {
        kyb_store::secrets::hash_secret(token)
    }

    pub fn url(&self, link: &LinkId) -> String {
        format!("{}/kyb/{}", self.public_url, self.token(link))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable_per_key_and_link() {
        let a = LinkSigner::new(SecretString::from("k".repeat(32)), "https://x".into());
        let b = LinkSigner::new(SecretString::from("j".repeat(32)), "https://x".into());
        let link = LinkId::generate();
        assert_eq!(a.token(&link), a.token(&link));
        assert_ne!(a.token(&link), b.token(&link));
        assert_ne!(a.token(&link), a.token(&LinkId::generate()));
        assert_eq!(a.token(&link).len(), 43);
        assert_eq!(a.url(&link), format!("https://x/kyb/{}", a.token(&link)));
    }
}
