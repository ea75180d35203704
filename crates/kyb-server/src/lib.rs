//! kyb's HTTP service: the `/v2` API, authentication, idempotency, OpenAPI and background workers,
//! assembled by `Application::build`.
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod checks;
pub mod config;
pub mod console;
pub mod error;
pub mod extract;
pub mod health;
pub mod hosted;
pub mod i18n;
pub mod input;
pub mod links;
pub mod metrics;
pub mod request_id;
pub mod sandbox;
pub mod transparency;
pub mod uploads;
pub mod web;
pub mod webhooks;
pub mod workers;

use axum::http::{HeaderValue, Method};
use axum::Router;
use chrono::{DateTime, SubsecRound, Utc};
use kyb_domain::requirements::Catalog;
use kyb_domain::{Clock, LinkId, Mode};
use kyb_store::{ActorKind, AuditContext, NewLink, Store};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use config::{Config, ConfigError, LogFormat, RawConfig};
use error::ApiError;
use extract::RequestContext;
use links::LinkSigner;

/// The version named in webhook payloads.
pub const API_VERSION: &str = "2";

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    /// Where customers reach this service (configured, or derived from the bound address).
    pub public_url: Arc<str>,
    pub store: Store,
    pub clock: Clock,
    pub links: LinkSigner,
    /// Per-jurisdiction requirements, loaded and checked at start.
    pub catalog: Arc<Catalog>,
    /// Where uploaded documents are kept (a local folder or an S3 bucket).
    pub documents: Arc<dyn object_store::ObjectStore>,
    /// Guesses of link tokens that matched nothing, per client address.
    pub link_guesses: Arc<governor::DefaultKeyedRateLimiter<std::net::IpAddr>>,
    /// Request rates of `/v2`, per API key and for unknown keys per address.
    pub api_limits: Arc<auth::ApiLimits>,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// The background workers of this node, for `/readyz`.
    pub workers: Arc<health::Workers>,
    /// Console sign-in limits and the password hashing pool.
    pub signin: Arc<console::signin::SignInGuard>,
    /// Encrypts and opens webhook endpoint secrets.
    pub webhook_secrets: webhooks::signing::SecretBox,
    /// Each platform's transparency log: names, checkpoint keys, sealing.
    pub audit_logs: Arc<transparency::AuditLogs>,
    /// The current sanctions list, indexed.
    pub sanctions: Arc<checks::ListCache>,
    /// Company registries by country.
    pub registries: Arc<Vec<Arc<dyn kyb_screening::RegistryProvider>>>,
}

impl AppState {
    /// A new link id, its token hash and expiry (whole seconds, as shown to clients), `ttl`
    /// from now (`None`: the service's `link_ttl`).
    pub(crate) fn new_link(&self, now: DateTime<Utc>, ttl: Option<chrono::Duration>) -> NewLink {
        let id = LinkId::generate();
        let token_hash = LinkSigner::token_hash(&self.links.token(&id));
        NewLink {
            id,
            token_hash,
            expires_at: (now + ttl.unwrap_or(self.config.link_ttl)).trunc_subsecs(0),
            return_url: None,
        }
    }
}

impl AppState {
    /// What `c` still has to give, by the requirements of its country (`requirements.currently_due`
    /// before any item a reviewer asked for again).
    pub(crate) fn currently_due(&self, c: &kyb_store::Customer) -> Vec<String> {
        kyb_domain::kyb::currently_due(
            self.catalog.for_country(&c.registered_country),
            &c.facts.profile,
            &c.facts.people,
            c.facts.document_kinds.iter().map(String::as_str),
        )
    }

    /// The idempotency side of a `/v2` write (`method` on `path`): the key, the request's
    /// fingerprint and the configured retention.
    pub(crate) fn idempotency(
        &self,
        key: kyb_domain::IdempotencyKey,
        method: &Method,
        path: &str,
        mode: Mode,
        body: Option<&Value>,
    ) -> kyb_store::IdempotencyRequest {
        kyb_store::IdempotencyRequest {
            key,
            request_hash: fingerprint(method, path, mode, body),
            retention: self.config.idempotency_retention,
        }
    }
}

impl auth::Authenticated {
    pub(crate) fn audit_context(&self, ctx: &RequestContext, at: DateTime<Utc>) -> AuditContext {
        AuditContext {
            actor: ActorKind::ApiKey,
            actor_id: Some(self.key_id.to_string()),
            request_id: ctx.request_id.clone(),
            client_addr: ctx.client_addr.clone(),
            at,
        }
    }
}

/// What makes two requests "the same" for idempotency: method, path, mode and the body as
/// canonical JSON (object keys sorted), so formatting and key order do not matter.
pub(crate) fn fingerprint(method: &Method, path: &str, mode: Mode, body: Option<&Value>) -> String {
    let mut bytes = format!("{method} {path} {}\n", mode.as_str()).into_bytes();
    if let Some(body) = body {
        kyb_store::audit::canonical_json(body, &mut bytes);
    }
    hex::encode(Sha256::digest(&bytes))
}

/// The whole HTTP app for a state: routes, request ids, security headers, panic guard.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    let upload_limit = state.config.max_upload_bytes;
    // Served over https: browsers must never reach us over plain http again (one year). Not
    // for subdomains, which may be other services of the operator.
    let hsts = state
        .public_url
        .starts_with("https://")
        .then(|| HeaderValue::from_static("max-age=31536000"));
    api::router(upload_limit)
        .merge(hosted::router(&state, upload_limit))
        .merge(console::router())
        .merge(health::router())
        .merge(metrics::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(|_panic| {
            use axum::response::IntoResponse;
            ApiError::internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(axum::middleware::from_fn(input::request_guard))
        .layer(axum::middleware::from_fn(request_id::middleware))
        .layer(SetResponseHeaderLayer::if_not_present(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            axum::http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            axum::http::header::STRICT_TRANSPORT_SECURITY,
            move |_: &axum::http::Response<axum::body::Body>| hsts.clone(),
        ))
}

/// A built service: listening, migrated, ready to run.
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    state: AppState,
}

impl Application {
    /// Connects to the database, runs migrations and binds the listener (port 0 picks a free one).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Clock::System).await
    }

    pub async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<Self> {
        use anyhow::Context;
        if config.database_url.starts_with("sqlite:") {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!("cannot create data directory {}", config.data_dir.display())
            })?;
        }
        let secret = config.resolve_secret_key()?;
        let catalog = Catalog::load().context("the built-in requirements catalog is invalid")?;
        // The phone number metadata loads on first use; load it now, not in the first request.
        tokio::task::spawn_blocking(|| kyb_domain::PhoneNumber::parse("+14155550123"))
            .await?
            .ok();
        let store = Store::connect_with(&config.database_url, &config.store)
            .await
            .with_context(|| {
                format!(
                    "cannot open database {}",
                    kyb_store::redact_url(&config.database_url)
                )
            })?;
        store.migrate().await.context("database migration failed")?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let local_addr = listener.local_addr()?;
        let public_url = match &config.public_url {
            Some(url) => url.clone(),
            None => {
                if local_addr.ip().is_unspecified() {
                    tracing::warn!(
                        "listening on {local_addr} without public_url: links will name this address; \
                         set KYB_PUBLIC_URL to the address customers use"
                    );
                }
                format!("http://{local_addr}")
            }
        };
        if config.webhooks.allow_insecure {
            tracing::warn!(
                "KYB_WEBHOOKS_ALLOW_INSECURE is on: webhooks may go to plain http and loopback addresses. \
                 This is for development and tests only; never run production like this"
            );
        }
        let webhook_secrets = webhooks::signing::SecretBox::new(&secret);
        let mut registries: Vec<Arc<dyn kyb_screening::RegistryProvider>> = Vec::new();
        if let Some(path) = &config.registry_sec_file {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read registry_sec_file {}", path.display()))?;
            let registry =
                kyb_screening::LocalRegistry::from_sec_json(&bytes).with_context(|| {
                    format!(
                        "registry_sec_file {} is not the SEC's company_tickers.json",
                        path.display()
                    )
                })?;
            tracing::info!(
                companies = registry.len(),
                "USA registry loaded from {}",
                path.display()
            );
            registries.push(Arc::new(registry));
        }
        let audit_logs = Arc::new(transparency::AuditLogs::new(secret.clone(), &public_url));
        let links = LinkSigner::new(secret, public_url.clone());
        let documents = documents_store(&config)?;
        let api_limits = Arc::new(auth::ApiLimits::new(
            config.api_rate_limit,
            config.api_unknown_keys_per_minute,
        ));
        let state = AppState {
            config: Arc::new(config),
            public_url: public_url.into(),
            store,
            clock,
            links,
            catalog: Arc::new(catalog),
            documents,
            link_guesses: Arc::new(governor::RateLimiter::keyed(governor::Quota::per_minute(
                std::num::NonZeroU32::new(20).expect("20 is not zero"),
            ))),
            signin: Arc::default(),
            workers: Arc::default(),
            metrics: Arc::default(),
            api_limits,
            webhook_secrets,
            audit_logs,
            sanctions: Arc::new(checks::ListCache::default()),
            registries: Arc::new(registries),
        };
        Ok(Self {
            listener,
            local_addr,
            state,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and stops workers.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut workers = Vec::new();
        if self.state.config.workers {
            let watch = &self.state.workers;
            workers.push(watch.watch(
                "idempotency_purge",
                workers::IdempotencyPurge::new(self.state.clone()).spawn(
                    self.state.config.idempotency_purge_interval,
                    stop_rx.clone(),
                ),
            ));
            workers.push(watch.watch(
                "webhook_dispatcher",
                webhooks::Dispatcher::new(self.state.clone())?.spawn(stop_rx.clone()),
            ));
            workers.push(watch.watch(
                "check_runner",
                checks::CheckRunner::new(self.state.clone()).spawn(stop_rx.clone()),
            ));
            workers.push(watch.watch(
                "audit_sealer",
                transparency::AuditSealer::new(self.state.clone()).spawn(stop_rx.clone()),
            ));
        }
        let store = self.state.store.clone();
        let app = router(self.state);
        axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        let _ = stop_tx.send(true);
        for w in workers {
            let _ = w.await;
        }
        store.close().await;
        Ok(())
    }
}

/// The document store: `{data_dir}/documents` by default, or the configured S3 bucket.
fn documents_store(config: &Config) -> anyhow::Result<Arc<dyn object_store::ObjectStore>> {
    use anyhow::Context;
    match &config.documents_url {
        None => {
            let dir = config.data_dir.join("documents");
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create the documents folder {}", dir.display()))?;
            let local = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                .with_context(|| format!("cannot use the documents folder {}", dir.display()))?;
            Ok(Arc::new(local))
        }
        Some(url) => {
            let parsed = url::Url::parse(url)
                .with_context(|| format!("documents_url {url:?} is not a URL"))?;
            let bucket = parsed
                .host_str()
                .context("documents_url needs a bucket: s3://bucket/prefix")?;
            let s3 = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()
                .context("cannot configure the S3 document store (AWS_* variables)")?;
            let prefix = parsed.path().trim_matches('/');
            if prefix.is_empty() {
                Ok(Arc::new(s3))
            } else {
                Ok(Arc::new(object_store::prefix::PrefixStore::new(s3, prefix)))
            }
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
