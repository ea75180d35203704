//! Standard Webhooks signatures (standardwebhooks.com): `whsec_` secrets, and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one entry per
//! secret currently signing. Endpoint secrets are kept encrypted at rest by [`SecretBox`].

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

const PREFIX: &str = "whsec_";

/// A new endpoint secret: `whsec_` and 32 random bytes in base64.
pub fn generate_secret() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    SecretString::from(format!("{PREFIX}{}", STANDARD.encode(bytes)))
}

/// The HMAC key inside a `whsec_` secret.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(PREFIX)?).ok()
}

/// One `v1,…` signature of a message.
pub fn sign(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: one signature per key, space-separated.
pub fn signature_header(keys: &[Vec<u8>], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|k| sign(k, msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Encrypts endpoint secrets with a key derived from the server's secret key (XChaCha20-Poly1305,
/// the endpoint id as associated data so a sealed secret cannot be moved to another endpoint).
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

#[derive(Debug, thiserror::Error)]
#[error("the endpoint's secret cannot be decrypted: was the server secret key (KYB_SECRET_KEY or secret.key) changed?")]
pub struct OpenError;

impl SecretBox {
    pub fn new(server_key: &SecretString) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(server_key.expose_secret().as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(b"kyb-webhook-secrets-v1");
        let key = mac.finalize().into_bytes();
        Self {
            cipher: XChaCha20Poly1305::new(&key),
        }
    }

    pub fn seal(&self, endpoint_id: &str, secret: &SecretString) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.expose_secret().as_bytes(),
                    aad: endpoint_id.as_bytes(),
                },
            )
            .expect("encryption into memory cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("v1:{}", STANDARD.encode(bytes))
    }

    pub fn open(&self, endpoint_id: &str, sealed: &str) -> Result<SecretString, OpenError> {
        let bytes = sealed
            .strip_prefix("v1:")
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|b| b.len() > 24)
            .ok_or(OpenError)?;
        let (nonce, ciphertext) = bytes.split_at(24);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: endpoint_id.as_bytes(),
                },
            )
            .map_err(|_| OpenError)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector published with the Standard Webhooks specification.
    #[test]
    fn spec_test_vector() {
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = sign(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_are_sealed_per_endpoint() {
        let server = SecretString::from("k".repeat(64));
        let sb = SecretBox::new(&server);
        let secret = generate_secret();
        let sealed = sb.seal("we_a", &secret);
        assert!(!sealed.contains(secret.expose_secret()));
        assert_eq!(
            sb.open("we_a", &sealed).unwrap().expose_secret(),
            secret.expose_secret()
        );
        assert!(sb.open("we_b", &sealed).is_err(), "bound to its endpoint");
        let other = SecretBox::new(&SecretString::from("j".repeat(64)));
        assert!(
            other.open("we_a", &sealed).is_err(),
            "bound to the server key"
        );
        assert_eq!(secret_key(secret.expose_secret()).unwrap().len(), 32);
    }
}
