//! Sync through the core's client, as uniffi async functions (Kotlin `suspend`, Swift `async`).
//! They run on uniffi's tokio compatibility runtime, which reqwest needs.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use fieldsales_core::sync as core_sync;

use fieldsales_core::sync::{Credentials, SyncProgress, SyncSummary};

use crate::{FieldStore, FieldsalesError};

/// Told of a running sync's progress, on the thread that runs it. Implemented in Kotlin or Swift.
#[uniffi::export(foreign)]
pub trait SyncProgressListener: Send + Sync {
    fn on_progress(&self, progress: SyncProgress);
}

/// Stops the syncs it is passed to at their next step boundary (between pushed batches and
/// pulled pages); what was done stays done and the next sync carries on from there. Once
/// cancelled it stays cancelled: make a new one for the next sync.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancelHandle {
    cancelled: AtomicBool,
    flags: Mutex<Vec<Arc<AtomicBool>>>,
}

#[uniffi::export]
impl CancelHandle {
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(CancelHandle::default())
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        for f in self.flags.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            f.store(true, Ordering::SeqCst);
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

impl CancelHandle {
    pub(crate) fn attach(&self, flag: Arc<AtomicBool>) {
        let mut flags = self.flags.lock().unwrap_or_else(|p| p.into_inner());
        if self.cancelled.load(Ordering::SeqCst) {
            flag.store(true, Ordering::SeqCst);
        }
        flags.push(flag);
    }

    pub(crate) fn detach(&self, flag: &Arc<AtomicBool>) {
        self.flags.lock().unwrap_or_else(|p| p.into_inner()).retain(|f| !Arc::ptr_eq(f, flag));
    }
}

/// Exchanges a one-time enrollment code (from `fieldsales-server admin user add|code`) for this
/// device's credentials. `actor_id` is the store's `actorId()`, or `newActorId()` for a store
/// that will be created with `FieldStore.openWithActor` once the user is known.
#[uniffi::export(async_runtime = "tokio")]
pub async fn enroll(
    server: String,
    code: String,
    device_name: String,
    actor_id: String,
) -> Result<Credentials, FieldsalesError> {
    Ok(core_sync::enroll(&server, &code, &device_name, &actor_id).await?)
}

/// `enroll` for an existing store of `user_id` (its `actorId()`): a code for anyone else is
/// refused (`Server`, code `wrong_user`) before the server uses it up. A store enrolled again
/// (its device revoked, its token lost) gets its device back with a new token, and sends what
/// waited in it at the next sync.
#[uniffi::export(async_runtime = "tokio")]
pub async fn enroll_as(
    server: String,
    code: String,
    device_name: String,
    actor_id: String,
    user_id: String,
) -> Result<Credentials, FieldsalesError> {
    Ok(core_sync::enroll_as(&server, &code, &device_name, &actor_id, Some(&user_id)).await?)
}

#[uniffi::export(async_runtime = "tokio")]
impl FieldStore {
    /// Pushes local changes, then pulls until caught up. Resumable: cut anywhere (cancel, lost
    /// network, app killed), the next sync converges with nothing lost or applied twice.
    /// Observers are told what each pulled page changed.
    pub async fn sync(
        &self,
        listener: Option<Arc<dyn SyncProgressListener>>,
        cancel: Option<Arc<CancelHandle>>,
    ) -> Result<SyncSummary, FieldsalesError> {
        let client = core_sync::SyncClient::for_store(&self.store)?;
        self.run_sync(client, listener, cancel).await
    }
}

impl FieldStore {
    /// Runs a sync session with progress and cancellation from the foreign side.
    pub(crate) async fn run_sync(
        &self,
        client: core_sync::SyncClient,
        listener: Option<Arc<dyn SyncProgressListener>>,
        cancel: Option<Arc<CancelHandle>>,
    ) -> Result<SyncSummary, FieldsalesError> {
        let store = self.store.clone();
        let flag = client.cancel_handle();
        if let Some(c) = &cancel {
            c.attach(flag.clone());
        }
        let progress = move |p: core_sync::SyncProgress| {
            if let Some(l) = &listener {
                // A listener that throws must not abort the sync half-way through a page.
                let _ = catch_unwind(AssertUnwindSafe(|| l.on_progress(p)));
            }
        };
        let result = client.sync(&store, &progress).await;
        if let Some(c) = &cancel {
            c.detach(&flag);
        }
        let summary = result?;
        // For the sync screen's "last synced" (`syncStatus`).
        store.mark_synced()?;
        Ok(summary)
    }
}
