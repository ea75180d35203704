//! The audit logs' transparency logs, as the service runs them: each log's checkpoint key,
//! derived from the server secret, and the sealer that numbers committed audit rows and appends
//! them to their log's tree after their transactions, signing a checkpoint each time. Every
//! platform has a log, and so has the installation (operator accounts).

use kyb_store::audit::AuditChain;
use kyb_store::{Sealing, Store, StoreError, StoredCheckpoint};
use kyb_tlog::CheckpointKey;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;
use tokio::sync::watch;

use crate::AppState;

/// How many rows one sealing appends at most (a checkpoint each).
const SEAL_BATCH: i64 = 1000;

/// How often the sealer looks for committed rows.
pub const SEAL_INTERVAL: Duration = Duration::from_secs(5);

/// How long a sealer holds a log once it claimed it, unless it gives it up sooner: another
/// sealer (another process) takes over a log whose sealer died after this long.
const LEASE: Duration = Duration::from_secs(30);

/// How long an on-demand sealing waits for another process's sealer to give up a log.
const LEASE_WAIT: Duration = Duration::from_secs(2);

/// The logs' names and keys. The secret never leaves this struct.
pub struct AuditLogs {
    secret: SecretString,
    /// The service's host (and port), the start of every log's origin.
    host: String,
    /// This process's name as a lease holder.
    holder: String,
}

impl AuditLogs {
    pub fn new(secret: SecretString, public_url: &str) -> Self {
        let host = public_url
            .split_once("://")
            .map_or(public_url, |(_, rest)| rest)
            .trim_end_matches('/')
            .replace([' ', '+'], "");
        let holder = format!("sealer-{:016x}", rand::thread_rng().gen::<u64>());
        Self {
            secret,
            host,
            holder,
        }
    }

    /// The origin a log gets when it is made, also its key's name:
    /// `{host}/audit/{platform}` (or `/installation`). A log keeps the origin it was made
    /// with (it is stored), so its key does not change when the service's address does.
    pub fn new_origin(&self, chain: &AuditChain) -> String {
        format!("{}/audit/{chain}", self.host)
    }

    /// The key that signs the checkpoints of the log of this origin.
    pub fn key(&self, origin: &str) -> Result<CheckpointKey, kyb_tlog::Error> {
        CheckpointKey::derive(self.secret.expose_secret().as_bytes(), origin)
    }

    /// Opens a signed checkpoint of the log of `origin` with its key: the size and root it
    /// signs, or why it is not the log's (what `kyb audit verify` checks each stored checkpoint
    /// with).
    pub fn open(&self, origin: &str, note: &str) -> Result<(u64, kyb_tlog::Hash), String> {
        let key = self.key(origin).map_err(|e| e.to_string())?;
        kyb_tlog::open_checkpoint(note, key.verifier_key())
            .map(|c| (c.size(), *c.hash()))
            .map_err(|e| e.to_string())
    }

    /// Seals the log's committed rows into its tree (in batches), signing a checkpoint after
    /// each; the newest checkpoint, if the log has one. When another process's sealer holds
    /// the log, waits a little for it, then answers with the newest checkpoint stored.
    pub async fn seal(
        &self,
        store: &Store,
        clock: &kyb_domain::Clock,
        chain: &AuditChain,
    ) -> Result<Option<StoredCheckpoint>, StoreError> {
        let sign = |origin: &str, size, root| {
            let key = self
                .key(origin)
                .map_err(|e| format!("the checkpoint key: {e}"))?;
            key.sign(size, root).map_err(|e| e.to_string())
        };
        let origin = self.new_origin(chain);
        let lease = chrono::Duration::from_std(LEASE).unwrap_or_default();
        let mut newest = None;
        let mut waited = Duration::ZERO;
        loop {
            let sealing = store
                .seal_audit(
                    chain,
                    &origin,
                    &self.holder,
                    lease,
                    SEAL_BATCH,
                    clock.now(),
                    &sign,
                )
                .await;
            match sealing {
                Ok(Sealing::Sealed(c)) => newest = Some(c),
                Ok(Sealing::Nothing) => break,
                Ok(Sealing::Held) if waited < LEASE_WAIT => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    waited += Duration::from_millis(100);
                }
                Ok(Sealing::Held) => break,
                Err(e) => {
                    self.release(store, chain, newest.is_some()).await;
                    return Err(e);
                }
            }
        }
        self.release(store, chain, newest.is_some()).await;
        // Nothing new: the newest is the one stored before.
        match newest {
            Some(c) => Ok(Some(c)),
            None => store.audit_checkpoint(chain, None).await,
        }
    }

    /// Gives the log's lease up after a sealing that held it.
    async fn release(&self, store: &Store, chain: &AuditChain, held: bool) {
        if !held {
            return;
        }
        if let Err(e) = store.release_audit_lease(chain, &self.holder).await {
            tracing::warn!(log = %chain, error = format!("{:#}", anyhow::Error::from(e)), "giving up an audit log's lease failed; it runs out by itself");
        }
    }
}

/// Seals every platform's committed audit rows on an interval.
pub struct AuditSealer {
    state: AppState,
}

impl AuditSealer {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    /// One pass over every log (the installation's and each platform's); the number of logs
    /// that have a checkpoint. A log that cannot be sealed (its old chain is broken) is named
    /// in the log and does not stop the others.
    pub async fn run_once(&self) -> Result<u64, StoreError> {
        let state = &self.state;
        let mut sealed = 0;
        for chain in state.store.audit_chains().await? {
            match state
                .audit_logs
                .seal(&state.store, &state.clock, &chain)
                .await
            {
                Ok(Some(_)) => sealed += 1,
                Ok(None) => {}
                Err(StoreError::Corrupt(why)) => {
                    tracing::error!(log = %chain, error = why, "an audit log cannot be sealed");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(sealed)
    }

    pub fn spawn(self, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SEAL_INTERVAL);
            loop {
                tokio::select! {
                    _ = tick.tick() => if let Err(e) = self.run_once().await {
                        tracing::warn!(error = format!("{:#}", anyhow::Error::from(e)), "sealing the audit logs failed");
                    },
                    _ = stop.changed() => break,
                }
            }
        })
    }
}
