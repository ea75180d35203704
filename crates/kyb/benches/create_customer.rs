//! Throughput of `POST /v2/business_customer`: the release `kyb` binary in its own process,
//! driven over HTTP by N concurrent clients with unique idempotency keys; and the same work
//! (`create_customer`: parsing plus the one transaction) run directly N-wide without HTTP, on a
//! fresh database of the same kind. The ratio service/raw is what the HTTP layer costs.
//!
//! The two are measured in short alternating rounds (service, raw, service, raw, …): the disk of
//! a shared machine slows down and speeds up over minutes, so each ratio compares a service round
//! with the raw round right after it, and the median of those ratios is reported (with the median
//! round of each side).
//!
//! cargo bench -p kyb --bench create_customer -- --db both --clients 32 --requests 2500 --rounds 8
//!
//! With `--direct` (or `--pgbench`), each round also runs kyb's own statements for a create
//! with nothing of kyb around them, on a third fresh database: through pgbench on PostgreSQL
//! (`benches/pgbench_create.sql`, recorded by `pgbench_create.py` from PostgreSQL's statement
//! log), through Python's sqlite3 driver on SQLite (`benches/sqlite_direct.py`, the same script
//! read in SQLite's terms). That is the direct rate.
//!
//! Every run ends with the CPU split: the machine's busy CPU time per create in each kind of
//! round, and for the service rounds how much of it was the kyb process and the load client
//! (this process); the rest is the database and the kernel's work for them.
//!
//! With `--sqlite-synchronous`, what SQLite's durability costs instead: the raw work on two
//! fresh SQLite databases, one with `synchronous=FULL` (the default) and one with `NORMAL`, in
//! alternating rounds.
//!
//! cargo bench -p kyb --bench create_customer -- --sqlite-synchronous --clients 32 --requests 2500 --rounds 8

use clap::Parser;
use kyb_domain::{IdempotencyKey, Mode};
use kyb_server::api::business_customer::{create_customer, CreateBusinessCustomerRequest};
use kyb_server::auth::Authenticated;
use kyb_server::extract::RequestContext;
use kyb_server::{AppState, Application, Config, RawConfig};
use kyb_store::{secrets, AuditContext, Idempotent, Scope};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
struct Args {
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    db: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Measured requests per round (after a warm-up of 500).
    #[arg(long, default_value_t = 2_500)]
    requests: usize,
    /// Alternating rounds of each; medians are reported.
    #[arg(long, default_value_t = 8)]
    rounds: usize,
    /// Also run kyb's own statements for a create directly in every round: through pgbench on
    /// PostgreSQL, through Python's sqlite3 driver on SQLite (`benches/pgbench_create.sql`,
    /// made by `pgbench_create.py`; `benches/sqlite_direct.py`): the direct rate.
    #[arg(long, alias = "pgbench")]
    direct: bool,
    /// Compare SQLite's synchronous=FULL with NORMAL (raw work only) instead.
    #[arg(long)]
    sqlite_synchronous: bool,
    /// Ignored: cargo bench passes it.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Clone, Copy)]
struct Figures {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

fn figures(mut latencies: Vec<Duration>, elapsed: Duration) -> Figures {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Figures {
        rate: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

fn median(mut rounds: Vec<Figures>) -> Figures {
    rounds.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    rounds[rounds.len() / 2]
}

/// The request body, formatted directly: the load generator should spend its CPU on sending.
fn body(i: usize, run: &str) -> String {
    format!(
        r#"{{"business_name":"Bench Business {i} Ltd","business_email":"bench-{run}-{i}@example.com","phone_number":"+1-555-0123","registered_address":"123 Business Street, Suite 100, New York, NY 10001","registered_country":"USA"}}"#
    )
}

/// N tasks pull request numbers from one counter until `total`; returns the figures.
async fn drive<F, Fut>(clients: usize, total: usize, one: F) -> Figures
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let one = Arc::new(one);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (next, one) = (next.clone(), one.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t = Instant::now();
                one(i).await;
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::with_capacity(total);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    figures(all, started.elapsed())
}

/// A fresh database URL of the kind asked for, kept alive by the returned guard.
async fn database(
    kind: &str,
    dir: &std::path::Path,
    name: &str,
) -> (String, Option<kyb_testkit::PgDatabase>) {
    match kind {
        "sqlite" => (
            format!("sqlite://{}", dir.join(format!("{name}.db")).display()),
            None,
        ),
        _ => {
            let pg = kyb_testkit::PgDatabase::create().await;
            (pg.url().to_owned(), Some(pg))
        }
    }
}

/// On PostgreSQL, a checkpoint before each round, so that no round pays for the one before.
async fn settle(kind: &str) {
    if kind == "postgres" {
        use sqlx::{Connection, Executor};
        let mut admin = sqlx::PgConnection::connect(&kyb_testkit::postgres_admin_url())
            .await
            .unwrap();
        admin.execute("CHECKPOINT").await.unwrap();
    }
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// `kyb platform create --json` with the given command (binary, data directory, database):
/// the platform and its first key, as printed.
fn create_platform(mut kyb: Command) -> serde_json::Value {
    let out = kyb
        .args(["platform", "create", "--name", "Bench", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The release binary serving on a free port, and a client for it.
struct Service {
    child: Child,
    endpoint: Arc<str>,
    key: Arc<str>,
    client: reqwest::Client,
    _pg: Option<kyb_testkit::PgDatabase>,
}

impl Service {
    async fn start(kind: &str, clients: usize, dir: &std::path::Path) -> Self {
        let (url, pg) = database(kind, dir, "service").await;
        let kyb = env!("CARGO_BIN_EXE_kyb");
        let data_dir = dir.join("service-data");
        let command = || {
            let mut cmd = Command::new(kyb);
            cmd.arg("--data-dir")
                .arg(&data_dir)
                .arg("--database-url")
                .arg(&url)
                // One key drives the whole load: the per-key rate limit would cap it.
                .env("KYB_API_RATE_LIMIT", "0");
            cmd
        };
        let created = create_platform(command());
        let key: Arc<str> = created["api_key"].as_str().unwrap().into();

        let mut child = command()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            while stderr.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if let Some(rest) = line.split("address=").nth(1) {
                    let _ = tx.send(
                        rest.split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                    );
                    // Then only drain the log, so the service never blocks on a full pipe.
                    let _ = std::io::copy(&mut stderr, &mut std::io::sink());
                    return;
                }
                line.clear();
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("kyb serve reports its address");
        Self {
            child,
            endpoint: format!("http://{addr}/v2/business_customer").into(),
            key,
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(clients)
                .build()
                .unwrap(),
            _pg: pg,
        }
    }

    async fn round(&self, clients: usize, tag: &str, total: usize) -> Figures {
        let (client, endpoint, key) =
            (self.client.clone(), self.endpoint.clone(), self.key.clone());
        let tag: Arc<str> = tag.into();
        drive(clients, total, move |i| {
            let (client, endpoint, key, tag) =
                (client.clone(), endpoint.clone(), key.clone(), tag.clone());
            async move {
                let r = client
                    .post(&*endpoint)
                    .header("ngnc-sec-key", &*key)
                    .header("idempotency-key", format!("{tag}-{i}"))
                    .header("content-type", "application/json")
                    .body(body(i, &tag))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                r.bytes().await.unwrap();
            }
        })
        .await
    }

    /// Stops the service (SIGTERM) and returns its peak resident memory in KiB.
    fn stop(mut self) -> u64 {
        let peak = peak_rss_kib(self.child.id());
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        peak
    }
}

/// The same work in this process, straight into the store.
struct Raw {
    state: AppState,
    auth: Arc<Authenticated>,
    _pg: Option<kyb_testkit::PgDatabase>,
}

impl Raw {
    async fn start(kind: &str, dir: &std::path::Path) -> Self {
        Self::start_with(kind, dir, "raw", "full").await
    }

    /// On a fresh database named `name`, with SQLite's `synchronous` set as given.
    async fn start_with(
        kind: &str,
        dir: &std::path::Path,
        name: &str,
        sqlite_synchronous: &str,
    ) -> Self {
        let (url, pg) = database(kind, dir, name).await;
        let raw = RawConfig {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.join(format!("{name}-data")),
            database_url: Some(url),
            workers: false,
            sqlite_synchronous: sqlite_synchronous.into(),
            ..RawConfig::default()
        };
        let app = Application::build(Config::try_from(raw).unwrap())
            .await
            .unwrap();
        let state = app.state().clone();
        let ctx = AuditContext::operator_cli(state.clock.now());
        let platform = state.store.create_platform("Bench", &ctx).await.unwrap();
        let secret = kyb_domain::ApiKeySecret::generate(Mode::Test);
        let hash = secrets::hash_secret(secret.expose_secret());
        let key = state
            .store
            .create_key(
                &platform.id,
                Mode::Test,
                secret.lookup_prefix(),
                &hash,
                None,
                &ctx,
            )
            .await
            .unwrap();
        let auth = Arc::new(Authenticated {
            scope: Scope {
                platform_id: platform.id,
                mode: Mode::Test,
            },
            key_id: key.id,
            link_ttl: None,
        });
        Self {
            state,
            auth,
            _pg: pg,
        }
    }

    async fn round(&self, clients: usize, tag: &str, total: usize) -> Figures {
        let (state, auth) = (self.state.clone(), self.auth.clone());
        let tag: Arc<str> = tag.into();
        drive(clients, total, move |i| {
            let (state, auth, tag) = (state.clone(), auth.clone(), tag.clone());
            async move {
                let raw_body: serde_json::Value = serde_json::from_str(&body(i, &tag)).unwrap();
                let req: CreateBusinessCustomerRequest =
                    serde_json::from_value(raw_body.clone()).unwrap();
                let ctx = RequestContext {
                    request_id: None,
                    client_addr: None,
                };
                let key = IdempotencyKey::parse(&format!("{tag}-{i}")).unwrap();
                let outcome =
                    create_customer(&state, &auth, key, &req, Some(&raw_body), &ctx).await;
                assert!(matches!(outcome, Ok(Idempotent::Fresh(_))));
            }
        })
        .await
    }
}

/// The committed script of a create (`pgbench_create.sql`), naming the platform and key
/// prefix of `created` (what `kyb platform create --json` printed) instead of those it was
/// recorded with.
fn recorded_script(created: &serde_json::Value) -> String {
    let platform = created["platform_id"].as_str().unwrap();
    let key = created["api_key"].as_str().unwrap();
    let recorded = include_str!("pgbench_create.sql");
    let word = |prefix: &str| {
        let at = recorded
            .find(prefix)
            .expect("the script names a platform and a key");
        let end = recorded[at..]
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .map_or(recorded.len(), |e| at + e);
        recorded[at..end].to_owned()
    };
    let (old_platform, old_prefix) = (word("plat_"), word("sk_test_"));
    recorded
        .replace(&old_platform, platform)
        .replace(&old_prefix, &key[..old_prefix.len()])
}

/// The direct rate: kyb's statements for a create with no kyb around them (pgbench on
/// PostgreSQL, Python's sqlite3 driver on SQLite).
enum Direct {
    Pgbench(Pgbench),
    Sqlite(SqliteDirect),
}

impl Direct {
    async fn start(kind: &str, dir: &std::path::Path) -> Self {
        match kind {
            "postgres" => Self::Pgbench(Pgbench::start(dir).await),
            _ => Self::Sqlite(SqliteDirect::start(dir)),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Pgbench(_) => "pgbench",
            Self::Sqlite(_) => "sqlite3 (Python)",
        }
    }

    fn round(&self, clients: usize, tag: &str, total: usize) -> Figures {
        match self {
            Self::Pgbench(p) => p.round(clients, tag, total),
            Self::Sqlite(s) => s.round(clients, total),
        }
    }
}

/// kyb's statements for one create through Python's sqlite3 driver (`sqlite_direct.py`), on a
/// fresh SQLite database of kyb's schema with a platform and key of its own.
struct SqliteDirect {
    database: std::path::PathBuf,
    script: std::path::PathBuf,
}

impl SqliteDirect {
    fn start(dir: &std::path::Path) -> Self {
        let database = dir.join("direct.db");
        let mut kyb = Command::new(env!("CARGO_BIN_EXE_kyb"));
        kyb.arg("--data-dir")
            .arg(dir.join("direct-data"))
            .arg("--database-url")
            .arg(format!("sqlite://{}", database.display()));
        let script = dir.join("sqlite_create.sql");
        std::fs::write(&script, recorded_script(&create_platform(kyb))).unwrap();
        Self { database, script }
    }

    fn round(&self, clients: usize, total: usize) -> Figures {
        let out = Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/benches/sqlite_direct.py"
            ))
            .arg(&self.database)
            .arg(&self.script)
            .args(["--clients", &clients.to_string()])
            .args(["--transactions", &total.to_string()])
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let latencies = v["latencies_us"]
            .as_array()
            .unwrap()
            .iter()
            .map(|us| Duration::from_micros(us.as_u64().unwrap()))
            .collect();
        figures(
            latencies,
            Duration::from_secs_f64(v["elapsed"].as_f64().unwrap()),
        )
    }
}

/// kyb's statements for one create, straight into PostgreSQL through pgbench, on a fresh
/// database of kyb's schema with a platform and key of its own.
struct Pgbench {
    url: String,
    script: std::path::PathBuf,
    dir: std::path::PathBuf,
    _pg: Option<kyb_testkit::PgDatabase>,
}

impl Pgbench {
    async fn start(dir: &std::path::Path) -> Self {
        let (url, pg) = database("postgres", dir, "pgbench").await;
        let mut kyb = Command::new(env!("CARGO_BIN_EXE_kyb"));
        kyb.arg("--data-dir")
            .arg(dir.join("pgbench-data"))
            .arg("--database-url")
            .arg(&url);
        let script = recorded_script(&create_platform(kyb));
        let path = dir.join("pgbench_create.sql");
        std::fs::write(&path, script).unwrap();
        Self {
            // kyb speaks plain TCP to PostgreSQL; pgbench would negotiate TLS unless told.
            url: format!(
                "{}?sslmode=disable",
                url.replace("postgres://", "postgresql://")
            ),
            script: path,
            dir: dir.to_path_buf(),
            _pg: pg,
        }
    }

    fn round(&self, clients: usize, tag: &str, total: usize) -> Figures {
        let logs = self.dir.join(format!("pgbench-{tag}"));
        std::fs::create_dir_all(&logs).unwrap();
        let started = Instant::now();
        let out = Command::new("pgbench")
            .args(["-n", "-M", "prepared", "-l"])
            .arg("--log-prefix")
            .arg(logs.join("tx"))
            .args(["-c", &clients.to_string()])
            .args(["-j", &clients.min(2).to_string()])
            .args(["-t", &total.div_ceil(clients).to_string()])
            .arg("-f")
            .arg(&self.script)
            .arg(&self.url)
            .output()
            .expect("pgbench (Debian's postgresql-contrib or postgresql-client) is installed");
        let elapsed = started.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut latencies = Vec::new();
        for file in std::fs::read_dir(&logs).unwrap() {
            let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
            latencies.extend(text.lines().filter_map(|l| {
                l.split_whitespace()
                    .nth(2)
                    .and_then(|us| us.parse().ok())
                    .map(Duration::from_micros)
            }));
        }
        std::fs::remove_dir_all(&logs).unwrap();
        // pgbench's own rate leaves its connections' start out, as the service's clients keep
        // theirs open.
        let stdout = String::from_utf8_lossy(&out.stdout);
        let rate = stdout
            .split("tps = ")
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            .and_then(|t| t.parse().ok())
            .unwrap_or(latencies.len() as f64 / elapsed.as_secs_f64());
        Figures {
            rate,
            ..figures(latencies, elapsed)
        }
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cores} cores, {cpu}")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let kinds: Vec<&str> = match args.db.as_str() {
        "both" => vec!["sqlite", "postgres"],
        one => vec![one],
    };
    println!("machine: {}", machine());
    println!(
        "clients: {}, measured requests per round: {}, rounds: {} (medians reported)",
        args.clients, args.requests, args.rounds
    );
    if args.sqlite_synchronous {
        return compare_synchronous(&args).await;
    }
    let (mut table, mut direct_table, mut cpu_table) = (Vec::new(), Vec::new(), Vec::new());
    for kind in kinds {
        let dir = tempfile::tempdir().unwrap();
        let service = Service::start(kind, args.clients, dir.path()).await;
        let raw = Raw::start(kind, dir.path()).await;
        let direct = if args.direct {
            Some(Direct::start(kind, dir.path()).await)
        } else {
            None
        };
        service.round(args.clients, "warm", 500).await;
        raw.round(args.clients, "warm", 500).await;
        if let Some(p) = &direct {
            p.round(args.clients, "warm", 500);
        }
        let (mut svc_rounds, mut raw_rounds, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut direct_rounds, mut direct_ratios) = (Vec::new(), Vec::new());
        let mut cpu = CpuRounds::default();
        let per_create = |from: Cpu, pid: u32| Cpu::now(pid).per(&from, args.requests);
        let kyb_pid = service.child.id();
        for r in 0..args.rounds {
            settle(kind).await;
            let from = Cpu::now(kyb_pid);
            let s = service
                .round(args.clients, &format!("svc{r}"), args.requests)
                .await;
            cpu.service.push(per_create(from, kyb_pid));
            settle(kind).await;
            let from = Cpu::now(kyb_pid);
            let d = raw
                .round(args.clients, &format!("raw{r}"), args.requests)
                .await;
            cpu.raw.push(per_create(from, kyb_pid));
            println!(
                "{kind} round {r}: service {:.0} req/s, raw {:.0} tx/s",
                s.rate, d.rate
            );
            if let Some(p) = &direct {
                settle(kind).await;
                let from = Cpu::now(kyb_pid);
                let g = p.round(args.clients, &format!("direct{r}"), args.requests);
                cpu.direct.push(per_create(from, kyb_pid));
                println!("{kind} round {r}: {} {:.0} tx/s", p.name(), g.rate);
                direct_rounds.push(g);
                direct_ratios.push(s.rate / g.rate);
            }
            svc_rounds.push(s);
            raw_rounds.push(d);
            ratios.push(s.rate / d.rate);
        }
        raw.state.store.close().await;
        let peak = service.stop();
        let (s, d) = (median(svc_rounds), median(raw_rounds));
        ratios.sort_by(f64::total_cmp);
        let ratio = ratios[ratios.len() / 2];
        if let Some(p) = &direct {
            let g = median(direct_rounds);
            direct_ratios.sort_by(f64::total_cmp);
            direct_table.push(format!(
                "| {kind} | {:.0} | {:.2} ms | {:.2} ms | {} | {:.0} | {:.2} ms | {:.2} ms | {:.0} % |",
                s.rate,
                ms(s.p50),
                ms(s.p99),
                p.name(),
                g.rate,
                ms(g.p50),
                ms(g.p99),
                direct_ratios[direct_ratios.len() / 2] * 100.0
            ));
        }
        cpu_table.push(cpu.row(kind));
        table.push(format!(
            "| {kind} | {:.0} | {:.2} ms | {:.2} ms | {:.1} MiB | {:.0} | {:.2} ms | {:.2} ms | {:.0} % |",
            s.rate,
            ms(s.p50),
            ms(s.p99),
            peak as f64 / 1024.0,
            d.rate,
            ms(d.p50),
            ms(d.p99),
            ratio * 100.0
        ));
    }
    println!();
    println!("| database | service req/s | p50 | p99 | peak RSS | raw tx/s | raw p50 | raw p99 | service/raw |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for row in table {
        println!("{row}");
    }
    if !direct_table.is_empty() {
        println!();
        println!("| database | service req/s | p50 | p99 | direct | direct tx/s | direct p50 | direct p99 | service/direct |");
        println!("|---|---|---|---|---|---|---|---|---|");
        for row in direct_table {
            println!("{row}");
        }
    }
    println!();
    println!("CPU time per create, ms (medians of the rounds; the machine's busy time over all cores, from /proc):");
    println!("| database | service: machine | of it kyb | of it load client | of it the rest (database, kernel) | raw: machine | direct: machine |");
    println!("|---|---|---|---|---|---|---|");
    for row in cpu_table {
        println!("{row}");
    }
}

/// CPU time used so far, in seconds: the whole machine (busy time of every core, from
/// /proc/stat), the service process, and this process (the load client).
#[derive(Clone, Copy, Default)]
struct Cpu {
    machine: f64,
    kyb: f64,
    client: f64,
}

impl Cpu {
    const TICK: f64 = 100.0; // USER_HZ, as /proc reports times on Linux

    fn now(kyb_pid: u32) -> Self {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        // user nice system idle iowait irq softirq steal …: busy is all but idle, iowait, steal.
        let f: Vec<f64> = stat
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        let busy = |i: usize| f.get(i).copied().unwrap_or(0.0);
        let process = |pid: &str| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // After the command name (in parentheses): utime and stime are fields 12 and 13.
            let rest = stat.rsplit(')').next().unwrap_or_default();
            let v: Vec<f64> = rest
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            (v.get(11).copied().unwrap_or(0.0) + v.get(12).copied().unwrap_or(0.0)) / Self::TICK
        };
        Self {
            machine: (busy(0) + busy(1) + busy(2) + busy(5) + busy(6)) / Self::TICK,
            kyb: process(&kyb_pid.to_string()),
            client: process("self"),
        }
    }

    /// Milliseconds per create since `from`, over `creates`.
    fn per(&self, from: &Self, creates: usize) -> Self {
        let ms = |a: f64, b: f64| (a - b) * 1e3 / creates as f64;
        Self {
            machine: ms(self.machine, from.machine),
            kyb: ms(self.kyb, from.kyb),
            client: ms(self.client, from.client),
        }
    }
}

#[derive(Default)]
struct CpuRounds {
    service: Vec<Cpu>,
    raw: Vec<Cpu>,
    direct: Vec<Cpu>,
}

impl CpuRounds {
    fn row(&self, kind: &str) -> String {
        let med = |rounds: &[Cpu], f: fn(&Cpu) -> f64| {
            let mut v: Vec<f64> = rounds.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2)
                .map_or("–".to_owned(), |x| format!("{x:.2}"))
        };
        let s = &self.service;
        format!(
            "| {kind} | {} | {} | {} | {} | {} | {} |",
            med(s, |c| c.machine),
            med(s, |c| c.kyb),
            med(s, |c| c.client),
            med(s, |c| c.machine - c.kyb - c.client),
            med(&self.raw, |c| c.machine),
            med(&self.direct, |c| c.machine),
        )
    }
}

/// FULL against NORMAL on SQLite, raw work only, alternating rounds; the ratio of each FULL
/// round to the NORMAL round right after it.
async fn compare_synchronous(args: &Args) {
    let dir = tempfile::tempdir().unwrap();
    let full = Raw::start_with("sqlite", dir.path(), "full", "full").await;
    let normal = Raw::start_with("sqlite", dir.path(), "normal", "normal").await;
    full.round(args.clients, "warm", 500).await;
    normal.round(args.clients, "warm", 500).await;
    let (mut full_rounds, mut normal_rounds, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..args.rounds {
        let f = full
            .round(args.clients, &format!("full{r}"), args.requests)
            .await;
        let n = normal
            .round(args.clients, &format!("normal{r}"), args.requests)
            .await;
        println!(
            "round {r}: FULL {:.0} tx/s, NORMAL {:.0} tx/s",
            f.rate, n.rate
        );
        full_rounds.push(f);
        normal_rounds.push(n);
        ratios.push(f.rate / n.rate);
    }
    full.state.store.close().await;
    normal.state.store.close().await;
    let (f, n) = (median(full_rounds), median(normal_rounds));
    ratios.sort_by(f64::total_cmp);
    println!();
    println!("| synchronous | tx/s | p50 | p99 |");
    println!("|---|---|---|---|");
    for (name, x) in [("FULL (default)", f), ("NORMAL", n)] {
        println!(
            "| {name} | {:.0} | {:.2} ms | {:.2} ms |",
            x.rate,
            ms(x.p50),
            ms(x.p99)
        );
    }
    println!();
    println!(
        "FULL/NORMAL, median of the per-round ratios: {:.0} %",
        ratios[ratios.len() / 2] * 100.0
    );
}
