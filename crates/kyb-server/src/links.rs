//! KYB link tokens. A token is HMAC-SHA256(secret key, link id), 256 bits, base64url: the
//! database holds only its SHA-256, yet the service can show a still-valid link again (in
//! `GET /v2/business_customer/{id}`) without keeping the token anywhere.
//!
//! What is written at rest (outbox events, stored idempotent responses) names the link by its
//! id instead of its token: [`LinkSigner::url_at_rest`]. The token is put back on the way out
//! ([`LinkSigner::reveal_json`], [`LinkSigner::reveal_body`]), and only in the value of a
//! `kyb_link` field, which kyb alone writes: a placeholder typed into any other field (a business
//! name, say) stays as it was typed and never turns into another customer's token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use kyb_domain::LinkId;
use kyb_store::secrets::{link_placeholder, link_placeholder_id};
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

    /// The link as it is stored in events and idempotent responses: no token, only the id.
    pub fn url_at_rest(&self, link: &LinkId) -> String {
        format!(
            "{}/kyb/{}",
            self.public_url,
            link_placeholder(link.as_str())
        )
    }

    /// The link an at-rest URL stands for; `None` for anything else.
    fn reveal_url(&self, stored: &str) -> Option<String> {
        let (base, rest) = stored.rsplit_once("/kyb/")?;
        let link = LinkId::parse(link_placeholder_id(rest)?).ok()?;
        Some(format!("{base}/kyb/{}", self.token(&link)))
    }

    /// Puts the tokens back into an event payload read from the outbox: every `kyb_link`
    /// field, at any depth (`data.object.kyb_link`, `previous_attributes.kyb_link`).
    pub fn reveal_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    match v {
                        serde_json::Value::String(s) if key == "kyb_link" => {
                            if let Some(url) = self.reveal_url(s) {
                                *s = url;
                            }
                        }
                        other => self.reveal_json(other),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.reveal_json(v)),
            _ => {}
        }
    }

    /// Puts the tokens back into a stored JSON response, byte for byte as it was first sent:
    /// the value of each `"kyb_link":"…"` pair is swapped in place, the rest stays untouched.
    /// Inside a JSON string every `"` is escaped, so the pattern only matches a real key.
    pub fn reveal_body(&self, body: Vec<u8>) -> Vec<u8> {
        const KEY: &[u8] = b"\"kyb_link\":\"";
        if !body.windows(KEY.len()).any(|w| w == KEY) {
            return body;
        }
        let mut out = Vec::with_capacity(body.len() + 64);
        let mut rest = body.as_slice();
        while let Some(at) = rest.windows(KEY.len()).position(|w| w == KEY) {
            let (head, tail) = rest.split_at(at + KEY.len());
            out.extend_from_slice(head);
            let end = tail.iter().position(|&b| b == b'"').unwrap_or(tail.len());
            let (value, after) = tail.split_at(end);
            match std::str::from_utf8(value)
                .ok()
                .and_then(|v| self.reveal_url(v))
            {
                Some(url) => out.extend_from_slice(url.as_bytes()),
                None => out.extend_from_slice(value),
            }
            rest = after;
        }
        out.extend_from_slice(rest);
        out
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

    #[test]
    fn links_at_rest_hold_no_token_and_come_back_exactly() {
        let signer = LinkSigner::new(SecretString::from("k".repeat(32)), "https://x".into());
        let link = LinkId::generate();
        let other = LinkId::generate();
        let at_rest = signer.url_at_rest(&link);
        assert!(!at_rest.contains(&signer.token(&link)));

        // A placeholder typed into another field stays as typed.
        let typed = signer.url_at_rest(&other);
        let body = serde_json::to_vec(&serde_json::json!({
            "status": "success",
            "business_name": typed,
            "kyb_link": at_rest,
        }))
        .unwrap();
        let sent = serde_json::to_vec(&serde_json::json!({
            "status": "success",
            "business_name": typed,
            "kyb_link": signer.url(&link),
        }))
        .unwrap();
        assert_eq!(signer.reveal_body(body), sent);

        let mut event = serde_json::json!({
            "data": {"object": {"kyb_link": at_rest, "business_name": typed}, "previous_attributes": null}
        });
        signer.reveal_json(&mut event);
        assert_eq!(event["data"]["object"]["kyb_link"], signer.url(&link));
        assert_eq!(event["data"]["object"]["business_name"], typed);

        // Anything else in a kyb_link field is left alone.
        let plain = br#"{"kyb_link":null,"x":"\"kyb_link\":\"y"}"#.to_vec();
        assert_eq!(signer.reveal_body(plain.clone()), plain);
    }
}
