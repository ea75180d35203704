//! A platform's brand on the hosted pages its customers see: the name shown, an accent colour
//! (refused when white text on it would be hard to read), where to get help, the privacy policy
//! and terms, and where the customer goes after submitting. Every value is optional: an absent
//! one falls back to kyb's own look and the platform's name.

use serde::{Deserialize, Serialize};

/// WCAG 2.1 AA asks 4.5:1 for normal text; the accent colour carries white text (buttons).
pub const MIN_CONTRAST_WITH_WHITE: f64 = 4.5;

/// The languages the hosted pages speak (their codes); the server's catalogs are checked
/// against this list.
pub const LANGUAGES: [&str; 4] = ["en", "fr", "es", "pt"];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `#rrggbb`, lower case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_url: Option<String>,
    /// Where the customer is sent after submitting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
    /// The pages' language when the customer chose none and their browser asks for none kyb
    /// speaks: one of [`LANGUAGES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The SHA-256 of the platform's logo, when it has one (set with the logo, never by an
    /// update of the other values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_sha256: Option<String>,
}

/// The largest logo kyb keeps: a header image, not a photograph.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;

/// The media type of a logo, judged by its content (never its name): PNG or JPEG only. SVG is
/// refused: it can carry script.
pub fn logo_type(bytes: &[u8]) -> Result<&'static str, BrandingError> {
    if bytes.is_empty() {
        return Err(refuse("logo", "is empty"));
    }
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(refuse(
            "logo",
            format!(
                "takes {} bytes; at most {MAX_LOGO_BYTES} (256 KiB) are accepted",
                bytes.len()
            ),
        ));
    }
    match infer::get(bytes).map(|t| t.mime_type()) {
        Some(t @ ("image/png" | "image/jpeg")) => Ok(t),
        Some(other) => Err(refuse(
            "logo",
            format!("must be a PNG or JPEG image (judged by its content, this is {other})"),
        )),
        None => Err(refuse(
            "logo",
            "must be a PNG or JPEG image (judged by its content; SVG and other text formats are not accepted)",
        )),
    }
}

/// A field that was refused, and why (the message names the field and the rule).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct BrandingError {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: impl Into<String>) -> BrandingError {
    BrandingError {
        field,
        message: message.into(),
    }
}

/// An `#rrggbb` colour's contrast ratio with white (WCAG 2.1 relative luminance).
pub fn contrast_with_white(hex: &str) -> Option<f64> {
    let digits = hex.strip_prefix('#')?;
    if digits.len() != 6 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(&digits[i..i + 2], 16).ok()?) / 255.0;
        Some(if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        })
    };
    let l = 0.2126 * channel(0)? + 0.7152 * channel(2)? + 0.0722 * channel(4)?;
    Some(1.05 / (l + 0.05))
}

/// An https address with a host, no user name or password, at most 500 characters.
fn https_url(field: &'static str, raw: &str) -> Result<String, BrandingError> {
    if raw.chars().count() > 500 {
        return Err(refuse(field, "must be 500 characters or fewer"));
    }
    let url = url::Url::parse(raw).map_err(|e| refuse(field, format!("is not an address: {e}")))?;
    if url.scheme() != "https" {
        return Err(refuse(field, "must start with https://"));
    }
    if !url.host_str().is_some_and(|h| h.contains('.')) {
        return Err(refuse(field, "must name a host, like https://example.com"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(field, "must not carry a user name or password"));
    }
    Ok(url.to_string())
}

impl Branding {
    /// Checks and tidies every value (trimmed; empty means absent; the colour in lower case):
    /// the first refusal names its field and rule.
    pub fn checked(self) -> Result<Self, BrandingError> {
        let clean = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let display_name = match clean(self.display_name) {
            Some(n) if n.chars().count() > 100 => {
                return Err(refuse("display_name", "must be 100 characters or fewer"))
            }
            Some(n) => {
                if let Some((at, c)) = crate::invisible_char(&n, false) {
                    return Err(refuse(
                        "display_name",
                        crate::invisible_message("it", at, c),
                    ));
                }
                Some(n)
            }
            None => None,
        };
        let accent_color = match clean(self.accent_color) {
            Some(c) => {
                let c = c.to_lowercase();
                let ratio = contrast_with_white(&c).ok_or_else(|| {
                    refuse(
                        "accent_color",
                        "must be a colour written #rrggbb, like #1f6f3f",
                    )
                })?;
                if ratio < MIN_CONTRAST_WITH_WHITE {
                    return Err(refuse(
                        "accent_color",
                        format!(
                            "has a contrast of {ratio:.2}:1 with white; white text on it needs at least 4.5:1 (choose a darker colour)"
                        ),
                    ));
                }
                Some(c)
            }
            None => None,
        };
        let support_email = match clean(self.support_email) {
            Some(e) if !email_address::EmailAddress::is_valid(&e) || e.len() > 254 => {
                return Err(refuse("support_email", "must be an e-mail address"))
            }
            other => other,
        };
        let url = |field, v| clean(v).map(|u: String| https_url(field, &u)).transpose();
        let language = match clean(self.language).map(|l| l.to_lowercase()) {
            Some(l) if !LANGUAGES.contains(&l.as_str()) => {
                return Err(refuse(
                    "language",
                    format!("must be one of {}", LANGUAGES.join(", ")),
                ))
            }
            other => other,
        };
        Ok(Self {
            logo_sha256: self.logo_sha256,
            language,
            display_name,
            accent_color,
            support_email,
            support_url: url("support_url", self.support_url)?,
            privacy_url: url("privacy_url", self.privacy_url)?,
            terms_url: url("terms_url", self.terms_url)?,
            return_url: url("return_url", self.return_url)?,
        })
    }

    /// `self` with the values `update` holds (an empty string clears one).
    pub fn merged(mut self, update: Branding) -> Self {
        let set = |to: &mut Option<String>, from: Option<String>| {
            if let Some(v) = from {
                *to = Some(v);
            }
        };
        set(&mut self.display_name, update.display_name);
        set(&mut self.accent_color, update.accent_color);
        set(&mut self.support_email, update.support_email);
        set(&mut self.support_url, update.support_url);
        set(&mut self.privacy_url, update.privacy_url);
        set(&mut self.terms_url, update.terms_url);
        set(&mut self.return_url, update.return_url);
        set(&mut self.language, update.language);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_follows_wcag() {
        assert!((contrast_with_white("#ffffff").unwrap() - 1.0).abs() < 0.01);
        assert!((contrast_with_white("#000000").unwrap() - 21.0).abs() < 0.01);
        // kyb's own green and a light yellow.
        assert!(contrast_with_white("#1f6f3f").unwrap() > 4.5);
        assert!(contrast_with_white("#f0b400").unwrap() < 3.0);
        assert_eq!(contrast_with_white("1f6f3f"), None);
        assert_eq!(contrast_with_white("#1f6f3"), None);
    }

    #[test]
    fn a_logo_is_a_png_or_a_jpeg_by_its_content() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
        assert_eq!(logo_type(png), Ok("image/png"));
        assert_eq!(logo_type(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0"), Ok("image/jpeg"));
        let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
        assert!(logo_type(svg).unwrap_err().message.contains("SVG"));
        assert!(logo_type(b"GIF89a\x01\0\x01\0")
            .unwrap_err()
            .message
            .contains("image/gif"));
        assert!(logo_type(b"").is_err());
        let mut big = png.to_vec();
        big.resize(MAX_LOGO_BYTES + 1, 0);
        assert!(logo_type(&big).unwrap_err().message.contains("256 KiB"));
    }

    #[test]
    fn values_are_checked_and_tidied() {
        let ok = Branding {
            display_name: Some("  Acme Pay ".into()),
            accent_color: Some("#1F6F3F".into()),
            support_email: Some("help@acme.example".into()),
            support_url: Some("https://acme.example/help".into()),
            privacy_url: Some(String::new()),
            terms_url: None,
            return_url: Some("https://acme.example/done".into()),
            language: Some("FR".into()),
            logo_sha256: None,
        }
        .checked()
        .unwrap();
        assert_eq!(ok.display_name.as_deref(), Some("Acme Pay"));
        assert_eq!(ok.language.as_deref(), Some("fr"));
        assert_eq!(ok.accent_color.as_deref(), Some("#1f6f3f"));
        assert_eq!(ok.privacy_url, None, "empty is absent");
        let refused = |b: Branding| b.checked().unwrap_err();
        let e = refused(Branding {
            accent_color: Some("#f0b400".into()),
            ..Default::default()
        });
        assert_eq!(e.field, "accent_color");
        assert!(e.message.contains("4.5:1"), "{e}");
        assert_eq!(
            refused(Branding {
                accent_color: Some("green".into()),
                ..Default::default()
            })
            .field,
            "accent_color"
        );
        for (field, b) in [
            (
                "support_url",
                Branding {
                    support_url: Some("http://acme.example".into()),
                    ..Default::default()
                },
            ),
            (
                "terms_url",
                Branding {
                    terms_url: Some("https://user:pw@acme.example".into()),
                    ..Default::default()
                },
            ),
            (
                "return_url",
                Branding {
                    return_url: Some("javascript:alert(1)".into()),
                    ..Default::default()
                },
            ),
            (
                "support_email",
                Branding {
                    support_email: Some("not an address".into()),
                    ..Default::default()
                },
            ),
            (
                "display_name",
                Branding {
                    display_name: Some("Acme\u{202E}yaP".into()),
                    ..Default::default()
                },
            ),
            (
                "language",
                Branding {
                    language: Some("de".into()),
                    ..Default::default()
                },
            ),
        ] {
            assert_eq!(refused(b).field, field);
        }
    }

    #[test]
    fn an_update_keeps_what_it_does_not_name() {
        let before = Branding {
            display_name: Some("Acme".into()),
            support_email: Some("help@acme.example".into()),
            ..Default::default()
        };
        let after = before
            .merged(Branding {
                support_email: Some(String::new()),
                accent_color: Some("#1f3a5f".into()),
                ..Default::default()
            })
            .checked()
            .unwrap();
        assert_eq!(after.display_name.as_deref(), Some("Acme"));
        assert_eq!(after.support_email, None, "cleared");
        assert_eq!(after.accent_color.as_deref(), Some("#1f3a5f"));
    }
}
