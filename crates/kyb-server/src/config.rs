//! Layered configuration: built-in defaults, then an optional `kyb.toml`, then `KYB_*`
//! environment variables, then command-line flags. Validated once at start-up: a wrong setting
//! stops the service with a sentence naming it.

use chrono::Duration;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Settings as written by the operator, before validation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    pub link_ttl: String,
    pub idempotency_retention: String,
    pub idempotency_purge_interval: String,
    pub max_body_bytes: usize,
    pub secret_key: Option<String>,
    pub log_format: String,
    pub workers: bool,
    pub max_upload_bytes: usize,
    pub documents_url: Option<String>,
    pub session_idle: String,
    pub session_max: String,
    pub webhooks_allow_insecure: bool,
    pub webhooks_allowed_networks: String,
    pub webhooks_retry_schedule: String,
    pub webhooks_timeout: String,
    pub webhooks_lease: String,
    pub webhooks_concurrency: usize,
    pub webhooks_poll_interval: String,
    pub registry_sec_file: Option<PathBuf>,
    pub api_rate_limit: u32,
    pub api_unknown_keys_per_minute: u32,
    pub max_documents_per_customer: usize,
    pub max_document_bytes_per_customer: u64,
    pub max_people_per_customer: usize,
    pub sqlite_synchronous: String,
    pub database_acquire_timeout: String,
    pub database_statement_timeout: String,
    pub metrics_token: Option<String>,
    pub checks_lease: String,
    pub checks_max_attempts: u32,
    pub checks_retry_delay: String,
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./kyb-data"),
            database_url: None,
            public_url: None,
            link_ttl: "7d".into(),
            idempotency_retention: "24h".into(),
            idempotency_purge_interval: "10m".into(),
            max_body_bytes: 64 * 1024,
            secret_key: None,
            log_format: "text".into(),
            workers: true,
            max_upload_bytes: 10 * 1024 * 1024,
            documents_url: None,
            session_idle: "30m".into(),
            session_max: "8h".into(),
            webhooks_allow_insecure: false,
            webhooks_allowed_networks: String::new(),
            webhooks_retry_schedule: "0s,5s,5m,30m,2h,5h,10h,10h".into(),
            webhooks_timeout: "15s".into(),
            webhooks_lease: "60s".into(),
            webhooks_concurrency: 16,
            webhooks_poll_interval: "1s".into(),
            registry_sec_file: None,
            api_rate_limit: 100,
            api_unknown_keys_per_minute: 30,
            max_documents_per_customer: 30,
            max_document_bytes_per_customer: 100 * 1024 * 1024,
            max_people_per_customer: 25,
            sqlite_synchronous: "full".into(),
            database_acquire_timeout: "5s".into(),
            database_statement_timeout: "30s".into(),
            metrics_token: None,
            checks_lease: "5m".into(),
            checks_max_attempts: 5,
            checks_retry_delay: "30s".into(),
        }
    }
}

/// Every `KYB_*` variable this version reads (the rest of the environment is not ours).
const ENV_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "public_url",
    "link_ttl",
    "idempotency_retention",
    "idempotency_purge_interval",
    "max_body_bytes",
    "secret_key",
    "log_format",
    "workers",
    "max_upload_bytes",
    "documents_url",
    "session_idle",
    "session_max",
    "webhooks_allow_insecure",
    "webhooks_allowed_networks",
    "webhooks_retry_schedule",
    "webhooks_timeout",
    "webhooks_lease",
    "webhooks_concurrency",
    "webhooks_poll_interval",
    "registry_sec_file",
    "api_rate_limit",
    "api_unknown_keys_per_minute",
    "max_documents_per_customer",
    "max_document_bytes_per_customer",
    "max_people_per_customer",
    "sqlite_synchronous",
    "database_acquire_timeout",
    "database_statement_timeout",
    "metrics_token",
    "checks_lease",
    "checks_max_attempts",
    "checks_retry_delay",
];

impl RawConfig {
    /// Defaults, then `kyb.toml` (or the file in `KYB_CONFIG`), then `KYB_*` variables.
    pub fn load() -> Result<Self, ConfigError> {
        let file = std::env::var_os("KYB_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("kyb.toml"));
        if std::env::var_os("KYB_CONFIG").is_some() && !file.exists() {
            return Err(ConfigError(format!(
                "KYB_CONFIG names {}, which does not exist",
                file.display()
            )));
        }
        Figment::from(Serialized::defaults(RawConfig::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("KYB_").only(ENV_KEYS))
            .extract()
            .map_err(|e| ConfigError(format!("configuration is invalid: {e}")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Where customers reach this service; links are `{public_url}/kyb/{token}`. No trailing `/`.
    /// `None`: `http://` and the address the service actually listens on.
    pub public_url: Option<String>,
    pub link_ttl: Duration,
    pub idempotency_retention: Duration,
    pub idempotency_purge_interval: std::time::Duration,
    pub max_body_bytes: usize,
    /// Signs link tokens. `None` means "read or create `secret.key` in the data directory".
    pub secret_key: Option<SecretString>,
    pub log_format: LogFormat,
    pub workers: bool,
    /// Largest document a customer may upload.
    pub max_upload_bytes: usize,
    /// Where documents are stored: `None` for `{data_dir}/documents`, or `s3://bucket/prefix`
    /// (credentials and region from the usual `AWS_*` variables).
    pub documents_url: Option<String>,
    /// A customer session ends after this long without a request…
    pub session_idle: Duration,
    /// …and after this long in any case.
    pub session_max: Duration,
    pub webhooks: WebhookSettings,
    /// The SEC's `company_tickers.json`, loaded as the USA company registry.
    pub registry_sec_file: Option<PathBuf>,
    /// Requests per second each API key may make on `/v2` (bursts of twice that); 0: no limit.
    pub api_rate_limit: u32,
    /// API keys that do not exist one client address may present per minute (then 429).
    pub api_unknown_keys_per_minute: u32,
    /// Documents one customer may keep uploaded, and their total size.
    pub max_documents_per_customer: usize,
    pub max_document_bytes_per_customer: u64,
    /// People one customer may list.
    pub max_people_per_customer: usize,
    /// How the store talks to the database: SQLite durability, pool and statement timeouts.
    pub store: kyb_store::StoreOptions,
    /// When set, `GET /metrics` needs `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// How check jobs are run and retried.
    pub checks: CheckSettings,
}

/// How the automated checks' jobs are run.
#[derive(Debug, Clone, Copy)]
pub struct CheckSettings {
    /// How long a runner holds a job it claimed; a runner that dies loses it after this.
    pub lease: std::time::Duration,
    /// Runs of a job (failed runs and lost leases) before it is `failed`, for a person to see.
    pub max_attempts: u32,
    /// The wait before the second run; it doubles for each further run (up to an hour).
    pub retry_delay: std::time::Duration,
}

impl CheckSettings {
    /// When a job whose run `attempts` failed runs again.
    pub fn retry_at(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        attempts: i32,
    ) -> chrono::DateTime<chrono::Utc> {
        let doublings = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(16);
        let delay = self
            .retry_delay
            .saturating_mul(1 << doublings)
            .min(std::time::Duration::from_secs(3_600));
        now + chrono::Duration::from_std(delay).unwrap_or_else(|_| chrono::Duration::hours(1))
    }
}

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Plain `http` and loopback addresses allowed: development and tests only.
    pub allow_insecure: bool,
    /// Ranges an operator trusts, allowed even if private.
    pub allowed_networks: Vec<ipnet::IpNet>,
    /// The delay before each attempt, counted from the previous one; the first is `0s` (at once).
    /// Every delay but the first gets ±20 % jitter.
    pub retry_schedule: Vec<std::time::Duration>,
    /// The whole of one HTTP attempt, connection to last byte.
    pub timeout: std::time::Duration,
    /// How long a worker holds a delivery it claimed; longer than `timeout`.
    pub lease: std::time::Duration,
    /// Attempts in flight at once, per node.
    pub concurrency: usize,
    /// How often an idle dispatcher looks for due deliveries (writes in this process wake it
    /// at once).
    pub poll_interval: std::time::Duration,
}

impl WebhookSettings {
    pub fn policy(&self) -> crate::webhooks::guard::UrlPolicy {
        crate::webhooks::guard::UrlPolicy {
            allow_insecure: self.allow_insecure,
            allowed: std::sync::Arc::new(self.allowed_networks.clone()),
        }
    }
}

fn webhook_settings(raw: &RawConfig) -> Result<WebhookSettings, ConfigError> {
    const SECOND: std::time::Duration = std::time::Duration::from_secs(1);
    const DAY: std::time::Duration = std::time::Duration::from_secs(86_400);
    let allowed_networks = raw
        .webhooks_allowed_networks
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ConfigError(format!(
                        "webhooks_allowed_networks: {s:?} is not a CIDR range like 10.20.0.0/16"
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let retry_schedule = raw
        .webhooks_retry_schedule
        .split(',')
        .map(|s| {
            duration(
                "webhooks_retry_schedule",
                s.trim(),
                std::time::Duration::ZERO,
                DAY,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    if retry_schedule.first() != Some(&std::time::Duration::ZERO) {
        return Err(ConfigError(
            "webhooks_retry_schedule must start with 0s: the first attempt is made at once".into(),
        ));
    }
    if !(1..=20).contains(&retry_schedule.len()) {
        return Err(ConfigError(
            "webhooks_retry_schedule must list 1 to 20 delays, like 0s,5s,5m,30m,2h,5h,10h,10h"
                .into(),
        ));
    }
    let timeout = duration(
        "webhooks_timeout",
        &raw.webhooks_timeout,
        SECOND / 10,
        60 * SECOND,
    )?;
    let lease = duration(
        "webhooks_lease",
        &raw.webhooks_lease,
        SECOND,
        3_600 * SECOND,
    )?;
    if lease <= timeout {
        return Err(ConfigError(format!(
            "webhooks_lease = {:?} must be longer than webhooks_timeout = {:?}, or two workers could send the same delivery at once",
            raw.webhooks_lease, raw.webhooks_timeout
        )));
    }
    if !(1..=256).contains(&raw.webhooks_concurrency) {
        return Err(ConfigError(format!(
            "webhooks_concurrency = {} must be between 1 and 256",
            raw.webhooks_concurrency
        )));
    }
    let poll_interval = duration(
        "webhooks_poll_interval",
        &raw.webhooks_poll_interval,
        SECOND / 100,
        60 * SECOND,
    )?;
    Ok(WebhookSettings {
        allow_insecure: raw.webhooks_allow_insecure,
        allowed_networks,
        retry_schedule,
        timeout,
        lease,
        concurrency: raw.webhooks_concurrency,
        poll_interval,
    })
}

fn duration(
    name: &str,
    raw: &str,
    min: std::time::Duration,
    max: std::time::Duration,
) -> Result<std::time::Duration, ConfigError> {
    let d = humantime::parse_duration(raw).map_err(|e| {
        ConfigError(format!(
            "{name} = {raw:?} is not a duration like 7d, 24h or 30m ({e})"
        ))
    })?;
    if d < min || d > max {
        return Err(ConfigError(format!(
            "{name} = {raw:?} must be between {} and {}",
            humantime::format_duration(min),
            humantime::format_duration(max)
        )));
    }
    Ok(d)
}

fn validate_public_url(public_url: &str) -> Result<String, ConfigError> {
    let parsed = url::Url::parse(public_url)
        .map_err(|e| ConfigError(format!("public_url = {public_url:?} is not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.query().is_some()
        || parsed.fragment().is_some()
    {
        return Err(ConfigError(format!(
            "public_url = {public_url:?} must be an http(s) URL without query or fragment, like https://kyb.example.com"
        )));
    }
    Ok(public_url.trim_end_matches('/').to_owned())
}

fn chrono_duration(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::MAX)
}

impl TryFrom<RawConfig> for Config {
    type Error = ConfigError;

    fn try_from(raw: RawConfig) -> Result<Self, ConfigError> {
        const MINUTE: std::time::Duration = std::time::Duration::from_secs(60);
        const DAY: std::time::Duration = std::time::Duration::from_secs(86_400);
        let webhooks = webhook_settings(&raw)?;
        let listen: SocketAddr = raw.listen.parse().map_err(|_| {
            ConfigError(format!(
                "listen = {:?} must be an address and port like 127.0.0.1:8080",
                raw.listen
            ))
        })?;
        let database_url = match raw.database_url {
            Some(url) if url.trim().is_empty() => {
                return Err(ConfigError("database_url is set but empty".into()));
            }
            Some(url) => url,
            None => format!("sqlite://{}", raw.data_dir.join("kyb.db").display()),
        };
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError(format!(
                "database_url = {:?} must start with sqlite:// or postgres://",
                kyb_store::redact_url(&database_url)
            )));
        }
        let public_url = raw
            .public_url
            .map(|u| validate_public_url(&u))
            .transpose()?;
        let link_ttl = duration("link_ttl", &raw.link_ttl, 5 * MINUTE, 90 * DAY)?;
        let retention = duration(
            "idempotency_retention",
            &raw.idempotency_retention,
            MINUTE,
            30 * DAY,
        )?;
        let purge = duration(
            "idempotency_purge_interval",
            &raw.idempotency_purge_interval,
            std::time::Duration::from_secs(1),
            DAY,
        )?;
        if !(1024..=10 * 1024 * 1024).contains(&raw.max_body_bytes) {
            return Err(ConfigError(format!(
                "max_body_bytes = {} must be between 1024 and 10485760",
                raw.max_body_bytes
            )));
        }
        let secret_key = match raw.secret_key {
            Some(k) if k.len() < 32 => {
                return Err(ConfigError(
                    "secret_key must be at least 32 characters (try `openssl rand -hex 32`)".into(),
                ));
            }
            other => other.map(SecretString::from),
        };
        if !(1024..=100 * 1024 * 1024).contains(&raw.max_upload_bytes) {
            return Err(ConfigError(format!(
                "max_upload_bytes = {} must be between 1024 and 104857600",
                raw.max_upload_bytes
            )));
        }
        if let Some(u) = &raw.documents_url {
            if !u.starts_with("s3://") {
                return Err(ConfigError(format!(
                    "documents_url = {u:?} must be an s3://bucket/prefix URL (leave it unset for the local data directory)"
                )));
            }
        }
        if raw.api_unknown_keys_per_minute == 0 {
            return Err(ConfigError(
                "api_unknown_keys_per_minute must be at least 1".into(),
            ));
        }
        if !(1..=1000).contains(&raw.max_documents_per_customer) {
            return Err(ConfigError(format!(
                "max_documents_per_customer = {} must be between 1 and 1000",
                raw.max_documents_per_customer
            )));
        }
        if raw.max_document_bytes_per_customer < raw.max_upload_bytes as u64 {
            return Err(ConfigError(format!(
                "max_document_bytes_per_customer = {} must be at least max_upload_bytes ({})",
                raw.max_document_bytes_per_customer, raw.max_upload_bytes
            )));
        }
        if !(1..=500).contains(&raw.max_people_per_customer) {
            return Err(ConfigError(format!(
                "max_people_per_customer = {} must be between 1 and 500",
                raw.max_people_per_customer
            )));
        }
        let sqlite_durable = match raw.sqlite_synchronous.as_str() {
            "full" => true,
            "normal" => false,
            other => {
                return Err(ConfigError(format!(
                    "sqlite_synchronous = {other:?} must be full (every acknowledged write survives an OS crash) or normal (faster; the last writes before such a crash may be lost)"
                )))
            }
        };
        let store = kyb_store::StoreOptions {
            sqlite_durable,
            acquire_timeout: duration(
                "database_acquire_timeout",
                &raw.database_acquire_timeout,
                std::time::Duration::from_millis(100),
                MINUTE,
            )?,
            statement_timeout: duration(
                "database_statement_timeout",
                &raw.database_statement_timeout,
                std::time::Duration::from_secs(1),
                DAY,
            )?,
            sqlite_page_limit: None,
        };
        if !(1..=100).contains(&raw.checks_max_attempts) {
            return Err(ConfigError(format!(
                "checks_max_attempts = {} must be between 1 and 100",
                raw.checks_max_attempts
            )));
        }
        let checks = CheckSettings {
            lease: duration("checks_lease", &raw.checks_lease, MINUTE / 6, DAY)?,
            max_attempts: raw.checks_max_attempts,
            retry_delay: duration(
                "checks_retry_delay",
                &raw.checks_retry_delay,
                std::time::Duration::ZERO,
                DAY,
            )?,
        };
        let session_idle = duration("session_idle", &raw.session_idle, MINUTE, DAY)?;
        let session_max = duration("session_max", &raw.session_max, MINUTE, 7 * DAY)?;
        let log_format = match raw.log_format.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError(format!(
                    "log_format = {other:?} must be text or json"
                )))
            }
        };
        Ok(Config {
            listen,
            data_dir: raw.data_dir,
            database_url,
            public_url,
            link_ttl: chrono_duration(link_ttl),
            idempotency_retention: chrono_duration(retention),
            idempotency_purge_interval: purge,
            max_body_bytes: raw.max_body_bytes,
            secret_key,
            log_format,
            workers: raw.workers,
            max_upload_bytes: raw.max_upload_bytes,
            documents_url: raw.documents_url,
            session_idle: chrono_duration(session_idle),
            session_max: chrono_duration(session_max),
            webhooks,
            registry_sec_file: raw.registry_sec_file,
            api_rate_limit: raw.api_rate_limit,
            api_unknown_keys_per_minute: raw.api_unknown_keys_per_minute,
            max_documents_per_customer: raw.max_documents_per_customer,
            max_document_bytes_per_customer: raw.max_document_bytes_per_customer,
            max_people_per_customer: raw.max_people_per_customer,
            store,
            metrics_token: raw.metrics_token.filter(|t| !t.is_empty()),
            checks,
        })
    }
}

impl Config {
    /// What one customer may keep.
    pub fn customer_caps(&self) -> kyb_store::CustomerCaps {
        kyb_store::CustomerCaps {
            max_documents: self.max_documents_per_customer,
            max_document_bytes: self.max_document_bytes_per_customer,
            max_people: self.max_people_per_customer,
        }
    }

    /// The configured secret key, or the one kept in `{data_dir}/secret.key` (created on first
    /// start with 256 random bits, readable by the owner only).
    pub fn resolve_secret_key(&self) -> Result<SecretString, ConfigError> {
        if let Some(k) = &self.secret_key {
            return Ok(k.clone());
        }
        let path = self.data_dir.join("secret.key");
        read_or_create_secret(&path)
    }
}

fn read_or_create_secret(path: &Path) -> Result<SecretString, ConfigError> {
    let io = |e: std::io::Error| {
        ConfigError(format!(
            "cannot use secret key file {}: {e}",
            path.display()
        ))
    };
    match std::fs::read_to_string(path) {
        Ok(s) if s.trim().len() >= 32 => return Ok(SecretString::from(s.trim().to_owned())),
        Ok(_) => {
            return Err(ConfigError(format!(
                "secret key file {} holds fewer than 32 characters",
                path.display()
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = SecretString::from(hex_encode(&bytes));
    write_private(path, secret.expose_secret()).map_err(io)?;
    Ok(secret)
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut RawConfig)) -> Result<Config, ConfigError> {
        let mut raw = RawConfig::default();
        f(&mut raw);
        Config::try_from(raw)
    }

    #[test]
    fn defaults_are_the_embedded_setup() {
        let c = with(|_| {}).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://./kyb-data/kyb.db");
        assert_eq!(c.public_url, None);
        assert_eq!(c.link_ttl, Duration::days(7));
        assert_eq!(c.idempotency_retention, Duration::hours(24));
    }

    #[test]
    fn wrong_settings_are_named() {
        type Case = (fn(&mut RawConfig), &'static str);
        let cases: [Case; 6] = [
            (|r| r.listen = "localhost".into(), "listen"),
            (|r| r.link_ttl = "soon".into(), "link_ttl"),
            (|r| r.link_ttl = "1m".into(), "link_ttl"),
            (|r| r.public_url = Some("ftp://x".into()), "public_url"),
            (
                |r| r.database_url = Some("mysql://x".into()),
                "database_url",
            ),
            (|r| r.secret_key = Some("short".into()), "secret_key"),
        ];
        for (f, name) in cases {
            let err = with(f).unwrap_err();
            assert!(err.0.starts_with(name), "{err}");
        }
    }

    #[test]
    fn webhook_settings_are_checked() {
        let c = with(|_| {}).unwrap();
        assert_eq!(c.webhooks.retry_schedule.len(), 8);
        assert_eq!(c.webhooks.timeout, std::time::Duration::from_secs(15));
        assert!(!c.webhooks.allow_insecure);
        let c = with(|r| r.webhooks_allowed_networks = "10.20.0.0/16, 192.168.1.7".into()).unwrap();
        assert_eq!(c.webhooks.allowed_networks.len(), 2);
        type Case = (fn(&mut RawConfig), &'static str);
        let cases: [Case; 4] = [
            (
                |r| r.webhooks_allowed_networks = "10.0.0.0/33".into(),
                "webhooks_allowed_networks",
            ),
            (
                |r| r.webhooks_retry_schedule = "5s,1m".into(),
                "webhooks_retry_schedule",
            ),
            (|r| r.webhooks_lease = "10s".into(), "webhooks_lease"),
            (|r| r.webhooks_concurrency = 0, "webhooks_concurrency"),
        ];
        for (f, name) in cases {
            let err = with(f).unwrap_err();
            assert!(err.0.starts_with(name), "{err}");
        }
    }

    #[test]
    fn check_settings_are_checked_and_back_off() {
        let c = with(|r| r.checks_lease = "90s".into()).unwrap();
        assert_eq!(c.checks.lease, std::time::Duration::from_secs(90));
        assert_eq!(c.checks.max_attempts, 5);
        let t0 = chrono::Utc::now();
        let waits: Vec<i64> = (1..=9)
            .map(|n| (c.checks.retry_at(t0, n) - t0).num_seconds())
            .collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        type Case = (fn(&mut RawConfig), &'static str);
        let cases: [Case; 3] = [
            (|r| r.checks_lease = "5s".into(), "checks_lease"),
            (|r| r.checks_max_attempts = 0, "checks_max_attempts"),
            (
                |r| r.checks_retry_delay = "soon".into(),
                "checks_retry_delay",
            ),
        ];
        for (f, name) in cases {
            let err = with(f).unwrap_err();
            assert!(err.0.starts_with(name), "{err}");
        }
    }

    #[test]
    fn public_url_loses_its_trailing_slash() {
        let c = with(|r| r.public_url = Some("https://kyb.example.com/".into())).unwrap();
        assert_eq!(c.public_url.as_deref(), Some("https://kyb.example.com"));
    }

    #[test]
    fn secret_key_file_is_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let c = with(|r| r.data_dir = dir.path().to_path_buf()).unwrap();
        let first = c.resolve_secret_key().unwrap();
        let second = c.resolve_secret_key().unwrap();
        assert_eq!(first.expose_secret(), second.expose_secret());
        assert_eq!(first.expose_secret().len(), 64);
    }
}
