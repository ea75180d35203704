//! Background work of the service. Each worker does one tick in `run_once`, which tests call
//! directly; `spawn` repeats it on an interval until shutdown.

use std::time::Duration;
use tokio::sync::watch;

use crate::AppState;

/// Deletes idempotency records past their retention.
pub struct IdempotencyPurge {
    state: AppState,
}

impl IdempotencyPurge {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    pub async fn run_once(&self) -> Result<u64, kyb_store::StoreError> {
        self.state
            .store
            .purge_idempotency(self.state.clock.now())
            .await
    }

    pub fn spawn(
        self,
        every: Duration,
        mut stop: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => match self.run_once().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(purged = n, "idempotency records past retention deleted"),
                        Err(e) => tracing::warn!(error = format!("{:#}", anyhow::Error::from(e)), "idempotency purge failed"),
                    },
                    _ = stop.changed() => break,
                }
            }
        })
    }
}
