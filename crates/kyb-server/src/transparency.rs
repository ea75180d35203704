//! Each platform's transparency log, as the service runs it (issue 14, in progress): the
//! checkpoint key of each platform, derived from the server secret, and the sealer that appends
//! committed audit rows to the platform's tree after their transactions and signs a checkpoint.

use kyb_domain::PlatformId;
use kyb_store::{StoreError, StoredCheckpoint};
use kyb_tlog::CheckpointKey;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;
use tokio::sync::watch;

use crate::AppState;

/// How many rows one sealing appends at most (a checkpoint each).
const SEAL_BATCH: i64 = 1000;

/// How often the sealer looks for committed rows.
pub const SEAL_INTERVAL: Duration = Duration::from_secs(5);

/// The logs' names and keys. The secret never leaves this struct.
pub struct AuditLogs {
    secret: SecretString,
    /// The service's host (and port), the start of every log's origin.
    host: String,
}

impl AuditLogs {
    pub fn new(secret: SecretString, public_url: &str) -> Self {
        let host = public_url
            .split_once("://")
            .map_or(public_url, |(_, rest)| rest)
            .trim_end_matches('/')
            .replace([' ', '+'], "");
        Self { secret, host }
    }

    /// The log's origin, also its key's name: `{host}/audit/{platform}`.
    pub fn origin(&self, platform: &PlatformId) -> String {
        format!("{}/audit/{platform}", self.host)
    }

    /// The key that signs the platform's checkpoints.
    pub fn key(&self, platform: &PlatformId) -> Result<CheckpointKey, kyb_tlog::Error> {
        CheckpointKey::derive(
            self.secret.expose_secret().as_bytes(),
            &self.origin(platform),
        )
    }

    /// Seals the platform's committed rows into its tree (in batches), signing a checkpoint
    /// after each; the newest checkpoint, if the log has one.
    pub async fn seal(
        &self,
        state: &AppState,
        platform: &PlatformId,
    ) -> Result<Option<StoredCheckpoint>, StoreError> {
        let key = self
            .key(platform)
            .map_err(|e| StoreError::Corrupt(format!("the checkpoint key: {e}")))?;
        let sign = |size, root| key.sign(size, root).map_err(|e| e.to_string());
        let mut newest = None;
        while let Some(c) = state
            .store
            .seal_audit(platform, SEAL_BATCH, state.clock.now(), &sign)
            .await?
        {
            newest = Some(c);
        }
        // Nothing new: the newest is the one stored before.
        match newest {
            Some(c) => Ok(Some(c)),
            None => state.store.audit_checkpoint(platform, None).await,
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

    /// One pass over every platform; the number of platforms whose log has a checkpoint.
    pub async fn run_once(&self) -> Result<u64, StoreError> {
        let mut sealed = 0;
        for platform in self.state.store.list_platforms().await? {
            if self
                .state
                .audit_logs
                .seal(&self.state, &platform.id)
                .await?
                .is_some()
            {
                sealed += 1;
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
