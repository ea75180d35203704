//! Sign-in throttling for the console. Three limits, all keyed on what the visitor typed (never
//! on whether the account exists, so every answer and its timing is the same for unknown and
//! known addresses):
//! - **per client address**: at most 20 tries in a burst, then one every 3 s (password spraying
//!   across many accounts from one address is slowed);
//! - **per account, from addresses it has not signed in from**: 30 tries in a burst, then one
//!   every 20 s (guessing one account from many addresses is slowed, while its operator, from
//!   an address that signed in before, is never slowed by a stranger);
//! - **per account and address**: five failures in a row lock that pair for 15 minutes. The
//!   lock is on the pair, so a stranger who knows an admin's address cannot keep the admin out.
//!
//! Password hashing (argon2, ~20 MiB and tens of milliseconds each) runs on blocking threads,
//! at most [`HASHING_AT_ONCE`] at a time, so sign-in floods never slow the API's requests.
//! The counters live in memory: each node keeps its own, and a restart forgets them.

use chrono::{DateTime, Duration, Utc};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use tokio::sync::Semaphore;

/// Failures in a row, per account and address, before that pair is locked.
pub const LOCK_AFTER: u32 = 5;
/// How long a locked pair stays locked.
pub const LOCK_FOR: Duration = Duration::minutes(15);
/// Password hashes computed at once; the rest wait their turn.
pub const HASHING_AT_ONCE: usize = 2;
/// Entries kept per table before old ones are forgotten.
const MAX_ENTRIES: usize = 10_000;

/// What a sign-in attempt may do.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    Go,
    /// Too many tries: wait this many seconds.
    TooMany(u64),
    /// This account is locked for this address until then.
    Locked(DateTime<Utc>),
}

#[derive(Default)]
struct Pair {
    failures: u32,
    locked_until: Option<DateTime<Utc>>,
}

pub struct SignInGuard {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
    pairs: Mutex<HashMap<[u8; 32], Pair>>,
    /// Pairs that signed in successfully: their account's limit does not apply to them.
    trusted: Mutex<HashSet<[u8; 32]>>,
    hashing: Semaphore,
}

impl Default for SignInGuard {
    fn default() -> Self {
        let per = |burst: u32, every_secs: u64| {
            Quota::with_period(std::time::Duration::from_secs(every_secs))
                .expect("a period above zero")
                .allow_burst(NonZeroU32::new(burst).expect("a burst above zero"))
        };
        Self {
            per_address: RateLimiter::keyed(per(20, 3)),
            per_account: RateLimiter::keyed(per(30, 20)),
            pairs: Mutex::default(),
            trusted: Mutex::default(),
            hashing: Semaphore::new(HASHING_AT_ONCE),
        }
    }
}

fn pair_key(email: &str, ip: Option<IpAddr>) -> [u8; 32] {
    let ip = ip.map(|ip| ip.to_string()).unwrap_or_default();
    Sha256::new()
        .chain_update(email.as_bytes())
        .chain_update([0])
        .chain_update(ip.as_bytes())
        .finalize()
        .into()
}

fn wait_secs(not_until: governor::NotUntil<governor::clock::QuantaInstant>) -> u64 {
    use governor::clock::{Clock, DefaultClock};
    not_until
        .wait_time_from(DefaultClock::default().now())
        .as_secs()
        .max(1)
}

impl SignInGuard {
    /// Whether this attempt may go ahead. Counts it against the address and, unless the pair
    /// signed in before, against the account.
    pub fn admit(&self, email: &str, ip: Option<IpAddr>, now: DateTime<Utc>) -> Admission {
        let key = pair_key(email, ip);
        if let Some(until) = self
            .pairs
            .lock()
            .expect("sign-in table")
            .get(&key)
            .and_then(|p| p.locked_until)
            .filter(|until| *until > now)
        {
            return Admission::Locked(until);
        }
        if let Some(ip) = ip {
            if let Err(wait) = self.per_address.check_key(&ip) {
                return Admission::TooMany(wait_secs(wait));
            }
        }
        let trusted = self.trusted.lock().expect("sign-in table").contains(&key);
        if !trusted {
            if let Err(wait) = self.per_account.check_key(&email.to_owned()) {
                return Admission::TooMany(wait_secs(wait));
            }
        }
        if self.per_address.len() > MAX_ENTRIES {
            self.per_address.retain_recent();
        }
        if self.per_account.len() > MAX_ENTRIES {
            self.per_account.retain_recent();
        }
        Admission::Go
    }

    /// A failed attempt; `Some` when it locks the pair.
    pub fn failed(
        &self,
        email: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let mut pairs = self.pairs.lock().expect("sign-in table");
        if pairs.len() > MAX_ENTRIES {
            pairs.retain(|_, p| p.locked_until.is_some_and(|u| u > now));
        }
        let pair = pairs.entry(pair_key(email, ip)).or_default();
        if pair.locked_until.is_some_and(|u| u <= now) {
            *pair = Pair::default();
        }
        pair.failures += 1;
        (pair.failures >= LOCK_AFTER).then(|| {
            let until = now + LOCK_FOR;
            pair.locked_until = Some(until);
            until
        })
    }

    /// A successful sign-in: the pair's count starts again, and the pair is trusted.
    pub fn succeeded(&self, email: &str, ip: Option<IpAddr>) {
        let key = pair_key(email, ip);
        self.pairs.lock().expect("sign-in table").remove(&key);
        let mut trusted = self.trusted.lock().expect("sign-in table");
        if trusted.len() > MAX_ENTRIES {
            trusted.clear();
        }
        trusted.insert(key);
    }

    /// Checks a password against a PHC hash on a blocking thread, at most
    /// [`HASHING_AT_ONCE`] at a time.
    pub async fn verify(&self, password: String, hash: String) -> bool {
        let Ok(_permit) = self.hashing.acquire().await else {
            return false;
        };
        tokio::task::spawn_blocking(move || super::password::verify(&password, &hash))
            .await
            .unwrap_or(false)
    }

    /// Hashes a new password on a blocking thread, on the same bounded pool as sign-ins.
    pub async fn hash(&self, password: String) -> Result<String, String> {
        let Ok(_permit) = self.hashing.acquire().await else {
            return Err("the server is stopping".into());
        };
        tokio::task::spawn_blocking(move || super::password::hash(&password))
            .await
            .map_err(|e| format!("hashing failed: {e}"))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_locks_after_five_failures_and_others_stay_open() {
        let guard = SignInGuard::default();
        let now = Utc::now();
        let stranger: Option<IpAddr> = Some("203.0.113.9".parse().unwrap());
        let admin: Option<IpAddr> = Some("198.51.100.7".parse().unwrap());
        for _ in 0..LOCK_AFTER - 1 {
            assert_eq!(guard.admit("a@x", stranger, now), Admission::Go);
            assert_eq!(guard.failed("a@x", stranger, now), None);
        }
        assert_eq!(guard.admit("a@x", stranger, now), Admission::Go);
        let until = guard.failed("a@x", stranger, now).unwrap();
        assert_eq!(guard.admit("a@x", stranger, now), Admission::Locked(until));
        assert_eq!(
            guard.admit("a@x", admin, now),
            Admission::Go,
            "not the admin"
        );
        assert_eq!(
            guard.admit("a@x", stranger, until),
            Admission::Go,
            "lock ends"
        );
    }

    #[test]
    fn one_address_is_slowed_across_accounts() {
        let guard = SignInGuard::default();
        let now = Utc::now();
        let ip: Option<IpAddr> = Some("203.0.113.9".parse().unwrap());
        let admitted = (0..40)
            .filter(|i| guard.admit(&format!("user{i}@x"), ip, now) == Admission::Go)
            .count();
        assert_eq!(admitted, 20);
    }

    #[test]
    fn an_account_is_slowed_across_addresses_but_not_for_its_own() {
        let guard = SignInGuard::default();
        let now = Utc::now();
        let own: Option<IpAddr> = Some("198.51.100.7".parse().unwrap());
        guard.succeeded("a@x", own);
        let admitted = (0..40u8)
            .filter(|i| {
                let ip: Option<IpAddr> = Some(IpAddr::from([203, 0, 113, *i]));
                guard.admit("a@x", ip, now) == Admission::Go
            })
            .count();
        assert_eq!(admitted, 30);
        assert_eq!(guard.admit("a@x", own, now), Admission::Go);
    }
}
