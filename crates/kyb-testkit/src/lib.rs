//! Throwaway PostgreSQL databases for tests: one uniquely named database per test, dropped when
//! the test ends (also when it panics). Under `CI=true` an unreachable server fails the test
//! instead of skipping it. Also a webhook receiver, and a TCP proxy that can be frozen.
#![forbid(unsafe_code)]

pub mod proxy;
pub mod receiver;

use rand::{distributions::Alphanumeric, Rng};
use sqlx::{Connection, Executor, PgConnection};
use std::time::Duration;

/// The server the PostgreSQL tests create their databases on (`KYB_TEST_POSTGRES_URL`).
pub fn postgres_admin_url() -> String {
    std::env::var("KYB_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh database, or `None` (with a note on stderr) when no server is reachable outside CI.
pub async fn postgres_database() -> Option<PgDatabase> {
    let reachable = matches!(
        tokio::time::timeout(
            Duration::from_secs(5),
            PgConnection::connect(&postgres_admin_url())
        )
        .await,
        Ok(Ok(_))
    );
    if !reachable {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but PostgreSQL is not reachable at {}: the PostgreSQL tests must run in CI",
            postgres_admin_url()
        );
        eprintln!(
            "PostgreSQL not reachable at {}: skipping (set CI=true to make this fail)",
            postgres_admin_url()
        );
        return None;
    }
    Some(PgDatabase::create().await)
}

/// A PostgreSQL database that exists for one test.
pub struct PgDatabase {
    name: String,
    url: String,
}

impl PgDatabase {
    pub async fn create() -> Self {
        let suffix: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(16)
            .map(|c| char::from(c).to_ascii_lowercase())
            .collect();
        let name = format!("kyb_test_{suffix}");
        let mut admin = PgConnection::connect(&postgres_admin_url())
            .await
            .expect("connect to PostgreSQL");
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        let mut url =
            url::Url::parse(&postgres_admin_url()).expect("KYB_TEST_POSTGRES_URL is a URL");
        url.set_path(&name);
        Self {
            name,
            url: url.to_string(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop may run inside a runtime, which cannot block on itself: use a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&postgres_admin_url()).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = admin.execute(sql.as_str()).await;
                }
            });
        })
        .join();
    }
}
