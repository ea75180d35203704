//! The `kyb` command: a thin shell over the library crates.
#![forbid(unsafe_code)]

mod sanctions;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use kyb_domain::{ApiKeySecret, Clock, KeyId, Mode, PlatformId};
use kyb_server::{Application, Config, LogFormat, RawConfig};
use kyb_store::{secrets, AuditContext, Store};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "kyb",
    version,
    about = "Self-hostable KYB onboarding for B2B2B platforms"
)]
struct Cli {
    /// Data directory (SQLite database, secret key); overrides KYB_DATA_DIR.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL (sqlite://PATH or postgres://…); overrides KYB_DATABASE_URL.
    #[arg(long, global = true, value_name = "URL", hide_env_values = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default when no command is given).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage platforms (tenants).
    #[command(subcommand)]
    Platform(PlatformCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Print the OpenAPI document of the /v2 API.
    Openapi,
    /// Check or export the tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Import sanctions lists and screen names against them.
    #[command(subcommand)]
    Sanctions(sanctions::SanctionsCommand),
    /// Manage review console accounts.
    #[command(subcommand)]
    Operator(OperatorCommand),
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Create a console account. Without --password-stdin a strong password is generated and
    /// printed once.
    Create {
        #[arg(long)]
        email: String,
        /// reviewer (decides cases) or admin (also approves cases with sanctions hits, two
        /// admins each).
        #[arg(long, value_parser = ["reviewer", "admin"])]
        role: String,
        /// Read the password from the first line of standard input (at least 12 characters).
        #[arg(long)]
        password_stdin: bool,
        /// Limit the account to this platform's cases (repeat for several); without it, the
        /// account sees every platform.
        #[arg(long = "platform", value_name = "PLATFORM_ID")]
        platforms: Vec<String>,
    },
    /// Limit an account to some platforms' cases, or (--all) let it see every platform. Its
    /// sessions end.
    Scope {
        #[arg(long)]
        email: String,
        /// A platform whose cases the account may see (repeat for several).
        #[arg(
            long = "platform",
            value_name = "PLATFORM_ID",
            required_unless_present = "all"
        )]
        platforms: Vec<String>,
        /// Every platform.
        #[arg(long, conflicts_with = "platforms")]
        all: bool,
    },
    /// Make an account an admin or a reviewer. Its sessions end, and so do reset links made
    /// for it.
    Role {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["reviewer", "admin"])]
        role: String,
    },
    /// Give an account a new password (generated and printed once, or read from standard
    /// input); every session of the account ends. The way to reset an admin's password.
    Password {
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input (at least 12 characters).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List console accounts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Disable an account: it cannot sign in, and its sessions end at once.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Let a disabled account sign in again.
    Enable {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every audit log (the installation's, for operator accounts, and each platform's):
    /// each row against its leaf of the log's Merkle tree, the tree's stored hashes, every
    /// signed checkpoint's signature and root, consistency between consecutive checkpoints,
    /// and the hash chain of rows written before the tree. Exit 1 naming the first problem.
    Verify,
    /// Seal every audit log now (the running service does this every few seconds): number
    /// the rows committed since the last sealing, append them to the log's Merkle tree and
    /// sign a checkpoint; print each log's newest checkpoint.
    Seal,
    /// Write audit rows as JSON lines, in log order (sealed rows by sequence, then rows not
    /// sealed yet): the installation's log, then each platform's.
    Export {
        /// Only this platform's rows (`installation`: only the installation's chain).
        #[arg(long, value_name = "PLATFORM_ID")]
        platform: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Args, Default)]
struct ServeArgs {
    /// Address to listen on; overrides KYB_LISTEN (default 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
}

#[derive(Subcommand)]
enum PlatformCommand {
    /// Create a platform and its first API key (a test key unless --live).
    Create {
        #[arg(long)]
        name: String,
        /// Make the first key a live key (sk_live_…).
        #[arg(long)]
        live: bool,
        #[arg(long)]
        json: bool,
    },
    /// List platforms.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop a platform: every request with its keys gets 403 until it is activated again.
    Deactivate { platform_id: String },
    /// Let a deactivated platform's keys work again.
    Activate { platform_id: String },
    /// Set what a platform's customers see of its brand on the hosted pages. Only the values
    /// given change; an empty value ("") clears one. Prints the whole brand.
    Update {
        platform_id: String,
        /// The name shown to customers (else the platform's name).
        #[arg(long)]
        display_name: Option<String>,
        /// #rrggbb; white text on it must have a contrast of 4.5:1 at least.
        #[arg(long, value_name = "#RRGGBB")]
        accent_color: Option<String>,
        #[arg(long)]
        support_email: Option<String>,
        /// https://…
        #[arg(long)]
        support_url: Option<String>,
        /// https://…
        #[arg(long)]
        privacy_url: Option<String>,
        /// https://…
        #[arg(long)]
        terms_url: Option<String>,
        /// https://… where the customer is sent after submitting.
        #[arg(long)]
        return_url: Option<String>,
        /// The hosted pages' language when the customer chose none and their browser asks
        /// for none kyb speaks (en, fr, es, pt).
        #[arg(long, value_name = "CODE")]
        language: Option<String>,
        /// A PNG or JPEG file (at most 256 KiB, judged by its content), shown at the top of
        /// every page; "" removes the logo.
        #[arg(long, value_name = "FILE")]
        logo: Option<String>,
    },
    /// Set a platform's policies: its decision policy, and how long its new links last.
    Policy {
        platform_id: String,
        /// Approve a submitted case without a reviewer when every check passes (on), or always
        /// leave the decision to a reviewer (off, the default).
        #[arg(long, value_name = "on|off", value_parser = ["on", "off"])]
        auto_approve: Option<String>,
        /// How long the platform's new links last unless a request says (`3d`, `12h`; 5 minutes
        /// to 30 days); "" goes back to the service's KYB_LINK_TTL.
        #[arg(long, value_name = "DURATION")]
        link_ttl: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Create an API key for a platform. The secret is printed once and never again.
    Create {
        #[arg(long, value_name = "PLATFORM_ID")]
        platform: String,
        /// A live key (sk_live_…) instead of a test key.
        #[arg(long)]
        live: bool,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List API keys (never their secrets).
    List {
        #[arg(long, value_name = "PLATFORM_ID")]
        platform: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke an API key: requests with it get 403 from now on.
    Revoke {
        key_id: String,
        #[arg(long)]
        json: bool,
    },
}

fn load_config(cli: &Cli, listen: Option<&str>) -> Result<Config> {
    let mut raw = RawConfig::load()?;
    if let Some(dir) = &cli.data_dir {
        raw.data_dir = dir.clone();
    }
    if let Some(url) = &cli.database_url {
        raw.database_url = Some(url.clone());
    }
    if let Some(listen) = listen {
        raw.listen = listen.to_owned();
    }
    Ok(Config::try_from(raw)?)
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Opens the configured database for a CLI command, creating and migrating it if needed.
async fn open_store(config: &Config) -> Result<Store> {
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("cannot create data directory {}", config.data_dir.display())
        })?;
    }
    // Operator commands (an audit verification, a list import) may run long statements on
    // purpose: the request-path statement timeout does not apply to them.
    let options = kyb_store::StoreOptions {
        statement_timeout: std::time::Duration::from_secs(24 * 3600),
        ..config.store.clone()
    };
    let store = Store::connect_with(&config.database_url, &options)
        .await
        .with_context(|| {
            format!(
                "cannot open database {}",
                kyb_store::redact_url(&config.database_url)
            )
        })?;
    store.migrate().await.context("database migration failed")?;
    Ok(store)
}

fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("JSON values serialise")
    );
}

async fn new_key(
    store: &Store,
    platform_id: &PlatformId,
    mode: Mode,
    description: Option<&str>,
    ctx: &AuditContext,
) -> Result<(KeyId, ApiKeySecret)> {
    let secret = ApiKeySecret::generate(mode);
    let hash = secrets::hash_secret(secret.expose_secret());
    let record = store
        .create_key(
            platform_id,
            mode,
            secret.lookup_prefix(),
            &hash,
            description,
            ctx,
        )
        .await
        .map_err(|e| explained(e, format!("no platform with id {platform_id}")))?;
    Ok((record.id, secret))
}

fn mode_of(live: bool) -> Mode {
    if live {
        Mode::Live
    } else {
        Mode::Test
    }
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let command = cli
        .command
        .as_ref()
        .unwrap_or(&Command::Serve(ServeArgs { listen: None }));
    if let Command::Openapi = command {
        print_json(&serde_json::to_value(kyb_server::api::openapi())?);
        return Ok(());
    }
    let listen = match command {
        Command::Serve(args) => args.listen.as_deref(),
        _ => None,
    };
    let config = load_config(&cli, listen)?;
    let clock = Clock::System;
    match command {
        Command::Serve(_) => {
            init_logging(config.log_format);
            let app = Application::build(config.clone()).await?;
            tracing::info!(
                address = %app.local_addr(),
                database = app.state().store.backend_name(),
                public_url = %app.state().public_url,
                "kyb is listening"
            );
            app.run_until(kyb_server::shutdown_signal()).await?;
            tracing::info!("kyb stopped");
        }
        Command::Migrate => {
            let store = open_store(&config).await?;
            println!("migrations applied ({})", store.backend_name());
            store.close().await;
        }
        Command::Platform(PlatformCommand::Create { name, live, json }) => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 200 {
                bail!("--name must be 1 to 200 characters");
            }
            let store = open_store(&config).await?;
            let ctx = AuditContext::operator_cli(clock.now());
            let platform = store.create_platform(name, &ctx).await?;
            let (key_id, secret) = new_key(
                &store,
                &platform.id,
                mode_of(*live),
                Some("first key"),
                &ctx,
            )
            .await?;
            if *json {
                print_json(&serde_json::json!({
                    "platform_id": platform.id,
                    "name": platform.name,
                    "key_id": key_id,
                    "api_key": secret.expose_secret(),
                }));
            } else {
                println!("platform {} created ({})", platform.id, platform.name);
                println!("API key {key_id}: {}", secret.expose_secret());
                println!("The key is shown only now: store it safely.");
            }
            store.close().await;
        }
        Command::Platform(PlatformCommand::List { json }) => {
            let store = open_store(&config).await?;
            let platforms = store.list_platforms().await?;
            if *json {
                print_json(&serde_json::to_value(&platforms)?);
            } else {
                for p in platforms {
                    println!(
                        "{}\t{}\t{}\t{}",
                        p.id,
                        if p.active { "active" } else { "inactive" },
                        time(p.created_at),
                        p.name
                    );
                }
            }
            store.close().await;
        }
        Command::Platform(
            PlatformCommand::Deactivate { platform_id } | PlatformCommand::Activate { platform_id },
        ) => {
            let active = matches!(command, Command::Platform(PlatformCommand::Activate { .. }));
            let id =
                PlatformId::parse(platform_id).context("the platform id must look like plat_…")?;
            let store = open_store(&config).await?;
            let platform = store
                .set_platform_active(&id, active, &AuditContext::operator_cli(clock.now()))
                .await
                .map_err(|e| explained(e, format!("no platform with id {id}")))?;
            println!(
                "platform {} is {}",
                platform.id,
                if platform.active {
                    "active"
                } else {
                    "inactive"
                }
            );
            store.close().await;
        }
        Command::Platform(PlatformCommand::Update {
            platform_id,
            display_name,
            accent_color,
            support_email,
            support_url,
            privacy_url,
            terms_url,
            return_url,
            language,
            logo,
        }) => {
            let id =
                PlatformId::parse(platform_id).context("the platform id must look like plat_…")?;
            let update = kyb_domain::branding::Branding {
                display_name: display_name.clone(),
                accent_color: accent_color.clone(),
                support_email: support_email.clone(),
                support_url: support_url.clone(),
                privacy_url: privacy_url.clone(),
                terms_url: terms_url.clone(),
                return_url: return_url.clone(),
                language: language.clone(),
                logo_sha256: None,
            };
            if update == kyb_domain::branding::Branding::default() && logo.is_none() {
                bail!("nothing to change: give at least one option (kyb platform update --help)");
            }
            // The file is read only up to one byte past the limit: the store says why it is
            // refused, naming the limit.
            let logo_bytes = match logo.as_deref() {
                Some(path) if !path.is_empty() => {
                    use std::io::Read;
                    let mut bytes = Vec::new();
                    std::fs::File::open(path)
                        .and_then(|f| {
                            f.take(kyb_domain::branding::MAX_LOGO_BYTES as u64 + 1)
                                .read_to_end(&mut bytes)
                        })
                        .with_context(|| format!("nothing changed: --logo {path}"))?;
                    Some(Some(bytes))
                }
                Some(_) => Some(None),
                None => None,
            };
            // Both are checked before either is written: a refusal changes nothing.
            if let Some(Some(bytes)) = &logo_bytes {
                kyb_domain::branding::logo_type(bytes)
                    .map_err(|e| anyhow::anyhow!("nothing changed: --{e}"))?;
            }
            if let Err(e) = update.clone().checked() {
                bail!("nothing changed: --{}", e.to_string().replacen('_', "-", 1));
            }
            let store = open_store(&config).await?;
            let ctx = AuditContext::operator_cli(clock.now());
            use kyb_store::BrandingUpdate;
            let mut done = Ok(Default::default());
            if let Some(bytes) = &logo_bytes {
                done = store
                    .change_platform_branding(&id, BrandingUpdate::Logo(bytes.as_deref()), &ctx)
                    .await;
            }
            if done.is_ok() && update != kyb_domain::branding::Branding::default() {
                done = store
                    .change_platform_branding(&id, BrandingUpdate::Values(update), &ctx)
                    .await;
            }
            store.close().await;
            let brand = done.map_err(|e| match e {
                // The message starts with the field: named as its option.
                kyb_store::StoreError::Refused { message, .. } => {
                    anyhow::anyhow!("nothing changed: --{}", message.replacen('_', "-", 1))
                }
                other => explained(other, format!("no platform with id {id}")),
            })?;
            print_json(&serde_json::to_value(&brand)?);
        }
        Command::Platform(PlatformCommand::Policy {
            platform_id,
            auto_approve,
            link_ttl,
        }) => {
            let id =
                PlatformId::parse(platform_id).context("the platform id must look like plat_…")?;
            if auto_approve.is_none() && link_ttl.is_none() {
                bail!(
                    "nothing to change: give --auto-approve on|off, --link-ttl DURATION, or both"
                );
            }
            let ttl_secs = link_ttl
                .as_deref()
                .map(|raw| -> anyhow::Result<Option<i64>> {
                    if raw.trim().is_empty() {
                        return Ok(None);
                    }
                    let d = humantime::parse_duration(raw.trim()).with_context(|| {
                        format!("--link-ttl {raw:?} is not a duration like 3d or 12h")
                    })?;
                    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                    if !kyb_server::api::business_customer::LINK_EXPIRES_IN.contains(&secs) {
                        bail!("--link-ttl must be 5 minutes to 30 days, got {raw}");
                    }
                    Ok(Some(secs))
                })
                .transpose()?;
            let policy = kyb_store::PlatformPolicy {
                auto_approve: auto_approve.as_deref().map(|a| a == "on"),
                link_ttl_secs: ttl_secs,
            };
            let store = open_store(&config).await?;
            store
                .set_policy(&id, &policy, &AuditContext::operator_cli(clock.now()))
                .await
                .map_err(|e| explained(e, format!("no platform with id {id}")))?;
            if let Some(on) = policy.auto_approve {
                println!(
                    "platform {id}: {}",
                    if on {
                        "cases whose checks all pass are approved automatically"
                    } else {
                        "a reviewer decides every case"
                    }
                );
            }
            if let Some(ttl_secs) = ttl_secs {
                match ttl_secs {
                    Some(secs) => println!(
                        "platform {id}: new links last {}",
                        humantime::format_duration(std::time::Duration::from_secs(secs as u64))
                    ),
                    None => println!("platform {id}: new links last the service's KYB_LINK_TTL"),
                }
            }
            store.close().await;
        }
        Command::Key(KeyCommand::Create {
            platform,
            live,
            description,
            json,
        }) => {
            let platform_id =
                PlatformId::parse(platform).context("--platform must be a platform id (plat_…)")?;
            let store = open_store(&config).await?;
            let ctx = AuditContext::operator_cli(clock.now());
            let (key_id, secret) = new_key(
                &store,
                &platform_id,
                mode_of(*live),
                description.as_deref(),
                &ctx,
            )
            .await?;
            if *json {
                print_json(&serde_json::json!({
                    "key_id": key_id,
                    "platform_id": platform_id,
                    "livemode": live,
                    "api_key": secret.expose_secret(),
                }));
            } else {
                println!("API key {key_id}: {}", secret.expose_secret());
                println!("The key is shown only now: store it safely.");
            }
            store.close().await;
        }
        Command::Key(KeyCommand::List { platform, json }) => {
            let platform_id = platform
                .as_deref()
                .map(PlatformId::parse)
                .transpose()
                .context("--platform must be a platform id (plat_…)")?;
            let store = open_store(&config).await?;
            let keys = store.list_keys(platform_id.as_ref()).await?;
            if *json {
                print_json(&serde_json::to_value(&keys)?);
            } else {
                for k in keys {
                    let state = k
                        .revoked_at
                        .map_or("active".to_owned(), |t| format!("revoked {}", time(t)));
                    println!(
                        "{}\t{}\t{}…\t{}\t{}",
                        k.id,
                        k.platform_id,
                        k.lookup_prefix,
                        k.mode.as_str(),
                        state
                    );
                }
            }
            store.close().await;
        }
        Command::Key(KeyCommand::Revoke { key_id, json }) => {
            let key_id = KeyId::parse(key_id).context("the key id must look like key_…")?;
            let store = open_store(&config).await?;
            let record = store
                .revoke_key(&key_id, &AuditContext::operator_cli(clock.now()))
                .await
                .map_err(|e| explained(e, format!("no API key with id {key_id}")))?;
            if *json {
                print_json(&serde_json::to_value(&record)?);
            } else {
                println!(
                    "API key {} revoked at {}",
                    record.id,
                    record.revoked_at.map(time).unwrap_or_default()
                );
            }
            store.close().await;
        }
        Command::Audit(AuditCommand::Verify) => {
            let store = open_store(&config).await?;
            // The keys are derived from the server secret; a log's name (its origin) is
            // stored with it, so the public address does not matter here.
            let logs = kyb_server::transparency::AuditLogs::new(config.resolve_secret_key()?, "");
            let open = |origin: &str, note: &str| logs.open(origin, note);
            let chains = store.audit_chains().await?;
            let mut broken = 0;
            for chain in &chains {
                match store.verify_audit_log(chain, &open).await? {
                    Ok(r) => {
                        let pending = if r.pending > 0 {
                            format!(", {} not sealed yet", r.pending)
                        } else {
                            String::new()
                        };
                        println!(
                            "{chain}: ok, {} rows in the tree ({} of them from the old chain), {} signed checkpoints{pending}",
                            r.rows, r.chained, r.checkpoints
                        );
                    }
                    Err(e) => {
                        broken += 1;
                        println!("{chain}: BROKEN: {e}");
                    }
                }
            }
            store.close().await;
            if broken > 0 {
                bail!("{broken} of {} audit logs are broken", chains.len());
            }
            println!("all {} audit logs verified", chains.len());
        }
        Command::Audit(AuditCommand::Seal) => {
            let store = open_store(&config).await?;
            // New logs are named after the address the service answers on, as it names them.
            let public_url = config
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", config.listen));
            let logs =
                kyb_server::transparency::AuditLogs::new(config.resolve_secret_key()?, &public_url);
            let result = async {
                for chain in store.audit_chains().await? {
                    match logs.seal(&store, &clock, &chain).await? {
                        Some(c) => println!("{chain}: {} rows, root {}", c.tree_size, c.root),
                        None => println!("{chain}: no rows"),
                    }
                }
                anyhow::Ok(())
            }
            .await;
            store.close().await;
            result?;
        }
        Command::Audit(AuditCommand::Export { platform, output }) => {
            use std::io::Write;
            let store = open_store(&config).await?;
            let chains = match platform.as_deref() {
                Some(kyb_store::audit::INSTALLATION) => {
                    vec![kyb_store::audit::AuditChain::Installation]
                }
                Some(p) => vec![kyb_store::audit::AuditChain::Platform(
                    PlatformId::parse(p)
                        .context("--platform must be a platform id (plat_…) or installation")?,
                )],
                None => store.audit_chains().await?,
            };
            let mut out: Box<dyn Write> = match output {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            // Page by page, so memory stays flat however long the log: the sealed rows in the
            // tree's order, then the rows committed since (no sequence yet) in write order.
            for chain in chains {
                let mut cursor = Some(kyb_store::audit::AuditCursor::default());
                while let Some(at) = cursor {
                    let (rows, next) = store.audit_rows_page(&chain, at, 1000).await?;
                    for row in &rows {
                        serde_json::to_writer(&mut out, row)?;
                        out.write_all(b"\n")?;
                    }
                    cursor = next;
                }
            }
            out.flush()?;
            store.close().await;
        }
        Command::Sanctions(command) => {
            let store = open_store(&config).await?;
            let result = sanctions::run(&store, command).await;
            store.close().await;
            result?;
        }
        Command::Operator(OperatorCommand::Create {
            email,
            role,
            password_stdin,
            platforms,
        }) => {
            let email = email.trim().to_lowercase();
            if !email_address::EmailAddress::is_valid(&email) {
                bail!("--email {email:?} is not an e-mail address");
            }
            let platforms = platform_ids(platforms)?;
            let role = kyb_store::OperatorRole::parse(role).expect("clap checked the role");
            let (password, generated) = read_or_make_password(*password_stdin)?;
            let hash =
                kyb_server::console::password::hash(&password).map_err(anyhow::Error::msg)?;
            let store = open_store(&config).await?;
            // The account and its platforms are written together: an unknown platform creates
            // nothing.
            let created = store
                .create_operator(&email, role, &hash, &platforms, &by_cli(&clock))
                .await;
            store.close().await;
            let operator = created.map_err(|e| explained(e, "no such account".into()))?;
            println!(
                "operator {} ({}) created",
                operator.email,
                operator.role.as_str()
            );
            if generated {
                println!("password: {password}");
                println!("The password is shown only now. Sign in at /console.");
            }
        }
        Command::Operator(OperatorCommand::Password {
            email,
            password_stdin,
        }) => {
            let email = email.trim().to_lowercase();
            let (password, generated) = read_or_make_password(*password_stdin)?;
            let hash =
                kyb_server::console::password::hash(&password).map_err(anyhow::Error::msg)?;
            let store = open_store(&config).await?;
            let found = store.operator_for_login(&email).await;
            let done = match found {
                Ok(Some(found)) => {
                    store
                        .set_operator_password(&found.operator.id, &hash, None, &by_cli(&clock))
                        .await
                }
                Ok(None) => Err(kyb_store::StoreError::NotFound),
                Err(e) => Err(e),
            };
            store.close().await;
            done.map_err(|e| explained(e, format!("no operator with e-mail {email}")))?;
            println!("operator {email} has a new password; their sessions have ended");
            if generated {
                println!("password: {password}");
                println!("The password is shown only now.");
            }
        }
        Command::Operator(OperatorCommand::Scope {
            email,
            platforms,
            all,
        }) => {
            let email = email.trim().to_lowercase();
            let platforms = if *all {
                Vec::new()
            } else {
                platform_ids(platforms)?
            };
            let store = open_store(&config).await?;
            let done = store
                .set_operator_platforms(&email, &platforms, &by_cli(&clock))
                .await;
            store.close().await;
            done.map_err(|e| explained(e, format!("no operator with e-mail {email}")))?;
            if platforms.is_empty() {
                println!("operator {email} sees every platform; their sessions have ended");
            } else {
                let names: Vec<&str> = platforms.iter().map(|p| p.as_str()).collect();
                println!(
                    "operator {email} sees only {}; their sessions have ended",
                    names.join(", ")
                );
            }
        }
        Command::Operator(OperatorCommand::Role { email, role }) => {
            let email = email.trim().to_lowercase();
            let role = kyb_store::OperatorRole::parse(role).expect("clap checked the role");
            let store = open_store(&config).await?;
            let done = store.set_operator_role(&email, role, &by_cli(&clock)).await;
            store.close().await;
            done.map_err(|e| explained(e, format!("no operator with e-mail {email}")))?;
            println!(
                "operator {email} is a{} {}; their sessions have ended",
                if role == kyb_store::OperatorRole::Admin {
                    "n"
                } else {
                    ""
                },
                role.as_str()
            );
        }
        Command::Operator(OperatorCommand::List { json }) => {
            let store = open_store(&config).await?;
            let accounts = store.operator_accounts().await;
            store.close().await;
            let accounts = accounts?;
            if *json {
                let rows: Vec<serde_json::Value> = accounts
                    .iter()
                    .map(|a| {
                        let o = &a.operator;
                        serde_json::json!({
                            "id": o.id, "email": o.email, "role": o.role,
                            "created_at": o.created_at, "disabled": a.disabled,
                            "platforms": (!a.platforms.is_empty()).then_some(&a.platforms),
                        })
                    })
                    .collect();
                print_json(&serde_json::Value::Array(rows));
            } else {
                for a in accounts {
                    let (o, disabled) = (&a.operator, a.disabled);
                    let scope: Vec<&str> = a.platforms.iter().map(|p| p.as_str()).collect();
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        o.email,
                        o.role.as_str(),
                        if disabled { "disabled" } else { "active" },
                        time(o.created_at),
                        if scope.is_empty() {
                            "every platform".to_owned()
                        } else {
                            scope.join(",")
                        }
                    );
                }
            }
        }
        Command::Operator(
            OperatorCommand::Disable { email } | OperatorCommand::Enable { email },
        ) => {
            let disable = matches!(command, Command::Operator(OperatorCommand::Disable { .. }));
            let email = email.trim().to_lowercase();
            let store = open_store(&config).await?;
            let done = store
                .set_operator_disabled(&email, disable, &by_cli(&clock))
                .await;
            store.close().await;
            done.map_err(|e| explained(e, format!("no operator with e-mail {email}")))?;
            println!(
                "operator {email} is {}",
                if disable {
                    "disabled; their sessions have ended"
                } else {
                    "enabled"
                }
            );
        }
        Command::Openapi => unreachable!("handled above"),
    }
    Ok(())
}

/// A store error as the command line says it: what was not found, a conflict's own sentence,
/// or the error itself.
fn explained(e: kyb_store::StoreError, missing: String) -> anyhow::Error {
    match e {
        kyb_store::StoreError::NotFound => anyhow::anyhow!(missing),
        kyb_store::StoreError::Conflict(m) => anyhow::anyhow!(m),
        other => anyhow::Error::from(other),
    }
}

/// Who acts in a command-line change: the installation's operator, now.
fn by_cli(clock: &Clock) -> AuditContext {
    AuditContext::operator_cli(clock.now())
}

/// Platform ids from the command line, each checked for its form.
fn platform_ids(raw: &[String]) -> Result<Vec<kyb_domain::PlatformId>> {
    raw.iter()
        .map(|p| {
            kyb_domain::PlatformId::parse(p.trim())
                .map_err(|_| anyhow::anyhow!("--platform {p:?} is not a platform id (plat_…)"))
        })
        .collect()
}

/// A password from the first line of standard input, or a strong one made here (`true`: made,
/// to be printed once).
fn read_or_make_password(stdin: bool) -> Result<(String, bool)> {
    if stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok((line.trim_end_matches(['\r', '\n']).to_owned(), false))
    } else {
        Ok((
            kyb_server::web::cookies::random_token()[..24].to_owned(),
            true,
        ))
    }
}
