//! Idempotency keys whose request is running in this process right now. A second request with the
//! same key answers 409 at once instead of queueing behind the first.

use kyb_domain::PlatformId;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

#[derive(Default, Clone)]
pub struct InFlight(Arc<Mutex<HashSet<(PlatformId, String)>>>);

/// Holds a key as running until dropped.
pub struct Running {
    set: InFlight,
    entry: Option<(PlatformId, String)>,
}

impl InFlight {
    /// `None` when the key is already running.
    pub fn enter(&self, platform_id: &PlatformId, key: &str) -> Option<Running> {
        let entry = (platform_id.clone(), key.to_owned());
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(entry.clone()).then(|| Running {
            set: self.clone(),
            entry: Some(entry),
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(entry) = self.entry.take() {
            self.set
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&entry);
        }
    }
}
