//! Live updates for the kits: `FieldStore.followLiveUpdates` keeps the server's live stream open
//! and syncs whenever it says the feed moved (core `sync::events`), telling a foreign
//! [`LiveUpdateListener`] what happens, until its [`CancelHandle`] is cancelled. The kits wrap
//! it as a Kotlin `Flow` and a Swift `AsyncThrowingStream`, so a screen refreshes by itself.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use fieldsales_core::sync::SyncSummary;
use fieldsales_core::sync::events::{LiveEvent, LiveOptions, follow};

use crate::{CancelHandle, FieldStore, FieldsalesError};

/// What the live loop reports.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum LiveUpdate {
    /// The stream is open; the server says when something this user may see changed.
    Connected,
    /// A sync ran because something changed (or on connecting); what it did.
    Synced { summary: SyncSummary },
    /// That sync failed; the next change, or the next connection, tries again.
    SyncFailed { message: String },
    /// The stream dropped or could not open; the next try is in `retry_in_ms`.
    Disconnected { retry_in_ms: u64, reason: String },
}

impl From<LiveEvent> for LiveUpdate {
    fn from(e: LiveEvent) -> Self {
        match e {
            LiveEvent::Connected => LiveUpdate::Connected,
            LiveEvent::Synced(summary) => LiveUpdate::Synced { summary },
            LiveEvent::SyncFailed(message) => LiveUpdate::SyncFailed { message },
            LiveEvent::Disconnected { retry_in_ms, reason } => {
                LiveUpdate::Disconnected { retry_in_ms, reason }
            }
        }
    }
}

/// Told of live updates, on the thread that runs the loop. Implemented in Kotlin or Swift.
#[uniffi::export(foreign)]
pub trait LiveUpdateListener: Send + Sync {
    fn on_update(&self, update: LiveUpdate);
}

#[uniffi::export(async_runtime = "tokio")]
impl FieldStore {
    /// Keeps the live stream open while `cancel` is not cancelled, reconnecting with backoff
    /// (0.5 s doubling to 30 s) when the network drops, and syncs whenever the server says the
    /// feed moved. Returns when cancelled; throws `Unauthorized` when the server no longer
    /// accepts this device (revoked), `NotEnrolled` without credentials.
    pub async fn follow_live_updates(
        &self,
        listener: Arc<dyn LiveUpdateListener>,
        cancel: Arc<CancelHandle>,
    ) -> Result<(), FieldsalesError> {
        let stop = Arc::new(AtomicBool::new(false));
        cancel.attach(stop.clone());
        let tell = move |e: LiveEvent| {
            // A listener that throws must not end the loop.
            let _ = catch_unwind(AssertUnwindSafe(|| listener.on_update(e.into())));
        };
        let result = follow(&self.store, LiveOptions::default(), &stop, &tell).await;
        cancel.detach(&stop);
        Ok(result?)
    }
}
