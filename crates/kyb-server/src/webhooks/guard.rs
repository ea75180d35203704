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

/// The special ranges a webhook must not reach, with what each is.
const FORBIDDEN: &[(&str, &str)] = &[
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.169.254/32", "cloud metadata"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignment"),
    ("192.0.2.0/24", "documentation"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("fd00:ec2::254/128", "cloud metadata"),
    ("fc00::/7", "private (unique local)"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
    ("2001:db8::/32", "documentation"),
    ("64:ff9b:1::/48", "local NAT64"),
];

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
    FORBIDDEN.iter().find_map(|(net, kind)| {
        let net: IpNet = net.parse().expect("the forbidden ranges are valid CIDR");
        net.contains(&ip).then_some(*kind)
    })
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
                "{ip} is a {kind} address, which webhooks may not reach \
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
            Some(url::Host::Ipv4(ip)) => self.check_ip(ip.into()).map(|()| url),
            Some(url::Host::Ipv6(ip)) => self.check_ip(ip.into()).map(|()| url),
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if name == "localhost" || name.ends_with(".localhost") {
                    self.check_ip(IpAddr::from([127, 0, 0, 1]))?;
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
        for addr in addrs {
            self.check_ip(addr.ip())
                .map_err(|e| format!("url's host {name} resolves to {e}"))?;
        }
        Ok(())
    }
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
            let mut refusal = None;
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| match policy.check_ip(a.ip()) {
                    Ok(()) => true,
                    Err(e) => {
                        refusal = Some(e);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refusal.unwrap_or_else(|| "no address".into());
                return Err(format!("refused to connect to {host}: it resolves to {why}").into());
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
        assert!(err.contains("loopback"), "{err}");
        let resolved = GuardedResolver(UrlPolicy {
            allow_insecure: true,
            ..UrlPolicy::default()
        })
        .resolve("localhost".parse().unwrap())
        .await;
        assert!(resolved.is_ok());
    }
}
