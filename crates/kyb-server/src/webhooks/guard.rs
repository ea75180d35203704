//! The SSRF guard for webhook URLs. An endpoint must be `https`, and every address its host
//! resolves to is checked (at creation, and again at each connection through [`GuardedResolver`],
//! so a DNS answer that changes later cannot point deliveries inside the network): private,
//! loopback, link-local, metadata and other special ranges are refused.
//!
//! `allow_insecure` (development and tests only) also allows plain `http` and loopback;
//! `allowed` lists ranges an operator trusts, which are allowed whatever they are.

use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Where webhooks may go.
#[derive(Debug, Clone, Default)]
pub struct UrlPolicy {
    pub allow_insecure: bool,
    pub allowed: Arc<Vec<IpNet>>,
}

/// The ranges a webhook must not reach, with what each is: every entry of IANA's IPv4 and
/// IPv6 Special-Purpose Address Registries (also those marked globally reachable: no webhook
/// receiver lives on an anycast relay or AS112), multicast, and for IPv6 everything outside
/// global unicast `2000::/3` (deprecated site-local, IPv4-compatible and reserved space).
/// The first match names the kind, so more specific rows come first. IPv4 carried in IPv6
/// (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`) is judged as that IPv4 address.
pub const FORBIDDEN: &[(&str, &str)] = &[
    // IPv4 (RFC 6890 and the registry's later entries)
    ("0.0.0.0/8", "\"this network\""),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.169.254/32", "cloud metadata"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignment"),
    ("192.0.2.0/24", "documentation"),
    ("192.31.196.0/24", "AS112"),
    ("192.52.193.0/24", "AMT relay"),
    ("192.88.99.0/24", "6to4 relay anycast (deprecated)"),
    ("192.168.0.0/16", "private"),
    ("192.175.48.0/24", "AS112 direct delegation"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "limited broadcast"),
    ("240.0.0.0/4", "reserved"),
    // IPv6 (RFC 6890 and the registry's later entries)
    ("::1/128", "loopback"),
    ("::/128", "unspecified"),
    ("::/96", "IPv4-compatible (deprecated)"),
    ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation"),
    ("100::/64", "discard-only"),
    ("100:0:0:1::/64", "dummy prefix"),
    ("2001::/32", "Teredo"),
    ("2001:2::/48", "benchmarking"),
    ("2001:db8::/32", "documentation"),
    ("2001::/23", "IETF protocol assignment"),
    ("2002::/16", "6to4"),
    ("2620:4f:8000::/48", "AS112 direct delegation"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing"),
    ("fd00:ec2::254/128", "cloud metadata"),
    ("fc00::/7", "private (unique local)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local (deprecated)"),
    ("ff00::/8", "multicast"),
    ("::/3", "reserved (not global unicast)"),
    ("4000::/2", "reserved (not global unicast)"),
    ("8000::/1", "reserved (not global unicast)"),
];

/// The parsed table, once.
fn forbidden_nets() -> &'static [(IpNet, &'static str)] {
    static NETS: std::sync::OnceLock<Vec<(IpNet, &'static str)>> = std::sync::OnceLock::new();
    NETS.get_or_init(|| {
        FORBIDDEN
            .iter()
            .map(|(net, kind)| {
                (
                    net.parse().expect("the forbidden ranges are valid CIDR"),
                    *kind,
                )
            })
            .collect()
    })
}

/// What kind of special address `ip` is, if it is one. IPv4 addresses written as IPv6
/// (`::ffff:10.0.0.1`, NAT64 `64:ff9b::a00:1`) are judged as the IPv4 address they carry.
pub fn forbidden_kind(ip: IpAddr) -> Option<&'static str> {
    let ip = match ip.to_canonical() {
        IpAddr::V6(v6) if v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] => {
            let o = v6.octets();
            IpAddr::from([o[12], o[13], o[14], o[15]])
        }
        other => other,
    };
    forbidden_nets()
        .iter()
        .find_map(|(net, kind)| net.contains(&ip).then_some(*kind))
}

impl UrlPolicy {
    /// Whether a webhook may connect to `ip`; the error says why not.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), String> {
        if self.allowed.iter().any(|n| n.contains(&ip.to_canonical())) {
            return Ok(());
        }
        match forbidden_kind(ip) {
            None => Ok(()),
            Some("loopback") if self.allow_insecure => Ok(()),
            Some(kind) => Err(format!(
                "a {kind} address, which webhooks may not reach \
                 (an operator can trust a range with KYB_WEBHOOKS_ALLOWED_NETWORKS)"
            )),
        }
    }

    /// Checks a URL's form: scheme, credentials, host, and the host itself when it is an
    /// address or `localhost`. Resolution is checked by [`UrlPolicy::check_resolved`].
    pub fn check_url(&self, raw: &str) -> Result<url::Url, String> {
        if raw.len() > 2048 {
            return Err("url must be at most 2048 characters".into());
        }
        let url = url::Url::parse(raw).map_err(|e| format!("url is not a valid URL ({e})"))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_insecure => {}
            "http" => {
                return Err(
                    "url must use https; plain http is allowed only when the service runs with \
                     KYB_WEBHOOKS_ALLOW_INSECURE=true, for development"
                        .into(),
                )
            }
            other => return Err(format!("url must use https, not {other}")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("url must not contain a user name or password".into());
        }
        if url.fragment().is_some() {
            return Err("url must not contain a #fragment".into());
        }
        match url.host() {
            None => Err("url must name a host".into()),
            Some(url::Host::Ipv4(ip)) => self
                .check_ip(ip.into())
                .map(|()| url)
                .map_err(|e| format!("url's host is {e}")),
            Some(url::Host::Ipv6(ip)) => self
                .check_ip(ip.into())
                .map(|()| url)
                .map_err(|e| format!("url's host is {e}")),
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if !is_public_host_name(&name) {
                    return Err(format!(
                        "url's host `{name}` is not a public host name: labels of letters, digits \
                         and hyphens (not first or last), separated by dots, the last one \
                         starting with a letter"
                    ));
                }
                if name == "localhost" || name.ends_with(".localhost") {
                    self.check_ip(IpAddr::from([127, 0, 0, 1]))
                        .map_err(|e| format!("url's host localhost is {e}"))?;
                }
                Ok(url)
            }
        }
    }

    /// Resolves the URL's host and checks every address. A name that does not resolve (yet, or
    /// within 5 s) is accepted: deliveries will retry, and each connection is checked again.
    pub async fn check_resolved(&self, url: &url::Url) -> Result<(), String> {
        let Some(url::Host::Domain(name)) = url.host() else {
            return Ok(());
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let lookup = tokio::net::lookup_host((name, port));
        let Ok(Ok(addrs)) = tokio::time::timeout(std::time::Duration::from_secs(5), lookup).await
        else {
            return Ok(());
        };
        // The refusal names neither the address nor its kind: the platform must not learn
        // what a name resolves to inside our network.
        for addr in addrs {
            if self.check_ip(addr.ip()).is_err() {
                return Err(format!(
                    "url's host {name} resolves to an address webhooks may not reach \
                     (private, loopback or another special-purpose range)"
                ));
            }
        }
        Ok(())
    }
}

/// A DNS name a public https receiver can have (international names arrive in punycode, as
/// `xn--` labels): at least two labels of `a-z`, `0-9` and `-` (not first or last), 1 to 63
/// characters each, the last starting with a letter; 253 characters at most. `localhost` passes
/// here and is judged as loopback.
fn is_public_host_name(name: &str) -> bool {
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    let labels: Vec<&str> = name.split('.').collect();
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
}

/// The resolver of the webhook HTTP client: only allowed addresses are ever connected to.
pub struct GuardedResolver(pub UrlPolicy);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| policy.check_ip(a.ip()).is_ok())
                .collect();
            if allowed.is_empty() {
                // Shown to the platform in the attempt: no address, no kind.
                return Err(format!(
                    "refused to connect to {host}: it resolves only to addresses webhooks may not reach"
                )
                .into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> UrlPolicy {
        UrlPolicy::default()
    }

    #[test]
    fn special_addresses_are_refused() {
        for ip in [
            "10.1.2.3",
            "172.31.255.255",
            "192.168.0.1",
            "127.0.0.1",
            "169.254.169.254",
            "169.254.10.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd12:3456::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "224.0.0.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(strict().check_ip(ip).is_err(), "{ip} must be refused");
        }
        for ip in ["93.184.215.14", "2606:4700::6810:84e5", "8.8.8.8"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(strict().check_ip(ip).is_ok(), "{ip} is public");
        }
        assert_eq!(
            forbidden_kind("169.254.169.254".parse().unwrap()),
            Some("cloud metadata")
        );
    }

    /// One address inside every row of the table, refused and named by that row (or by a
    /// more specific one listed before it), plus the gaps found in review.
    #[test]
    fn every_row_of_the_table_is_refused() {
        for (net, kind) in FORBIDDEN {
            let net: IpNet = net.parse().unwrap();
            // The last address of the range: inside it, and not the network address.
            let ip = net.broadcast();
            let found = forbidden_kind(ip);
            assert!(found.is_some(), "{ip} in {net} ({kind}) must be refused");
            assert!(strict().check_ip(ip).is_err(), "{ip}");
            let first = FORBIDDEN
                .iter()
                .find(|(n, _)| n.parse::<IpNet>().unwrap().contains(&ip))
                .unwrap();
            assert_eq!(found, Some(first.1), "{ip}");
        }
        for (ip, kind) in [
            ("::127.0.0.1", "IPv4-compatible (deprecated)"),
            ("2002:7f00:1::", "6to4"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
            ("fec0::1", "site-local (deprecated)"),
            ("100::1", "discard-only"),
            ("64:ff9b::7f00:1", "loopback"),
            ("::ffff:169.254.169.254", "cloud metadata"),
            ("192.88.99.1", "6to4 relay anycast (deprecated)"),
            ("3fff::1", "documentation"),
            ("4000::1", "reserved (not global unicast)"),
        ] {
            assert_eq!(forbidden_kind(ip.parse().unwrap()), Some(kind), "{ip}");
        }
        for url in [
            "https://[::127.0.0.1]/",
            "https://[2002:7f00:1::]/",
            "https://[fec0::1]/",
            "https://[100::1]/",
        ] {
            assert!(strict().check_url(url).is_err(), "{url}");
        }
    }

    #[tokio::test]
    async fn refusals_never_name_the_address() {
        let url = url::Url::parse("https://localhost/hook").unwrap();
        let policy = UrlPolicy::default();
        // check_url refuses localhost by name; the resolved check must not say where it went.
        let err = policy.check_resolved(&url).await.unwrap_err();
        assert!(!err.contains("127.0.0.1") && !err.contains("::1"), "{err}");
    }

    #[test]
    fn insecure_allows_http_and_loopback_only() {
        let dev = UrlPolicy {
            allow_insecure: true,
            ..UrlPolicy::default()
        };
        assert!(dev.check_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(dev.check_url("http://localhost:9000/hook").is_ok());
        assert!(dev.check_url("http://10.0.0.5/hook").is_err());
        assert!(strict().check_url("http://example.com/hook").is_err());
        assert!(strict().check_url("https://localhost/hook").is_err());
        assert!(strict().check_url("https://[::1]/hook").is_err());
        assert!(strict().check_url("https://user:pw@example.com/").is_err());
        assert!(strict().check_url("ftp://example.com/").is_err());
        assert!(strict().check_url("https://example.com/hook").is_ok());
        assert!(strict()
            .check_url("https://hooks.xn--mnchen-3ya.de/kyb")
            .is_ok());
        assert!(
            strict().check_url("https://hooks.münchen.de/kyb").is_ok(),
            "punycoded"
        );
        for odd in [
            "https://a.example*/",
            "https://a_b.example.com/",
            "https://intranet/hook",
            "https://-a.example.com/",
            "https://a.example.com-/",
            "https://a.123/",
        ] {
            assert!(strict().check_url(odd).is_err(), "{odd}");
        }
    }

    #[test]
    fn trusted_networks_are_allowed() {
        let p = UrlPolicy {
            allow_insecure: false,
            allowed: Arc::new(vec!["10.20.0.0/16".parse().unwrap()]),
        };
        assert!(p.check_url("https://10.20.3.4/hook").is_ok());
        assert!(p.check_url("https://10.21.3.4/hook").is_err());
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_of_special_addresses() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let err = match GuardedResolver(strict()).resolve(name).await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("localhost must be refused"),
        };
        assert!(
            err.contains("may not reach") && !err.contains("127.0.0.1"),
            "{err}"
        );
        let resolved = GuardedResolver(UrlPolicy {
            allow_insecure: true,
            ..UrlPolicy::default()
        })
        .resolve("localhost".parse().unwrap())
        .await;
        assert!(resolved.is_ok());
    }
}
