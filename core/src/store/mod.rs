//! The local store: one SQLite file per user holding documents, projections, the full-text
//! index and the outbox. The only module that speaks SQL.
//!
//! A writer and a reader connection (WAL lets reads run while a write is in progress). Every
//! user action is one `write` closure, which is one transaction: the document, its projection
//! and the outbox row change together or not at all.
//!
//! The store's API is `impl Store` in a few files, one chapter each: this one (opening, the
//! `meta` values, observers), `leads.rs` (capture, edits, one lead or activity), `sales.rs`
//! (settings, targets, plans), `lists.rs` (lists, search, reminders, duplicates, reports,
//! export), `sync.rs` (outbox, merge, quarantine, status) and `upkeep.rs` (verify, compact).
//! Underneath, each table has one module that writes it (`documents`, `outbox`, `quarantine`,
//! `meta`, and the projections in `projection/`), and the reads by purpose sit in `read/`, all
//! of them functions over a `&Connection`. `record.rs` is the one place that says what each
//! kind of document is to the store.

mod ahead;
mod checkpoint;
mod clock;
mod documents;
mod foreign;
mod key;
mod leads;
mod lists;
mod merge;
mod meta;
mod outbox;
mod packed;
mod projection;
mod quarantine;
mod read;
mod record;
mod sales;
pub(crate) mod schema;
pub(crate) mod sync;
pub(crate) mod upkeep;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use automerge::ActorId;
use rusqlite::{Connection, Transaction};

pub use clock::{CLOCK_ENV, META_CLOCK_OFFSET, clock_from_env, parse_clock};
pub use foreign::Damage;
pub use key::{KEY_BYTES, StoreKey};
pub use merge::{MergeReport, PullApply};
pub use meta::{META_ROLE, SYNC_CURSOR};
pub use outbox::OutboxEntry;
pub use quarantine::{QuarantineApplied, QuarantineEntry};
pub use record::ChangedRecords;

use crate::error::{Error, Result, ValidationError};
use crate::validate::Validator;

/// Told after every committed write or merge, outside the transaction and outside any lock.
pub trait ChangeObserver: Send + Sync {
    fn changed(&self, changed: &ChangedRecords);
}

/// Where the current time comes from; tests and demos replace it.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    })
}

#[derive(Clone)]
pub struct OpenOptions {
    /// The user this store belongs to; a store file never changes hands.
    pub user_id: String,
    /// ISO 3166 region used to read phone numbers written without a country code.
    pub region: String,
    pub clock: Clock,
    /// Hex actor id for a store being created (e.g. the one a device enrolled with); a new
    /// random one otherwise. Ignored for an existing store.
    pub actor: Option<String>,
    /// The file is encrypted at rest (SQLCipher) with this key: a new store is created
    /// encrypted, an existing one must have been created with it. Needs the `encryption`
    /// feature; without it a key is refused rather than ignored.
    pub key: Option<StoreKey>,
}

impl OpenOptions {
    pub fn new(user_id: impl Into<String>) -> Self {
        OpenOptions {
            user_id: user_id.into(),
            region: "US".into(),
            clock: system_clock(),
            actor: None,
            key: None,
        }
    }

    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn actor(mut self, actor_hex: impl Into<String>) -> Self {
        self.actor = Some(actor_hex.into());
        self
    }

    pub fn key(mut self, key: StoreKey) -> Self {
        self.key = Some(key);
        self
    }
}

pub struct Store {
    path: PathBuf,
    // Field order is drop order: the reader closes first, so that the writer, closing last, can
    // checkpoint and remove the WAL.
    reader: Mutex<Connection>,
    writer: Arc<Mutex<Connection>>,
    /// Stopped in `Drop`, before the connections above close, so that the writer's closes
    /// last, on the caller's thread.
    checkpointer: checkpoint::Checkpointer,
    user: String,
    actor: ActorId,
    validator: Validator,
    clock: Clock,
    /// The server's time minus this device's, learned on sync (`clock.rs`); `UNKNOWN` before.
    clock_offset: std::sync::atomic::AtomicI64,
    observers: Mutex<Vec<(u64, Arc<dyn ChangeObserver>)>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).field("user", &self.user).finish()
    }
}

/// The capture rehearsal [`Store::open_warm`] started. Dropping it waits for the rehearsal to
/// end (a few milliseconds; longer only while the process loads phone metadata), so that a
/// store closed right after it opened is not closed later on the rehearsal's thread, its files
/// perhaps already replaced.
#[must_use = "dropping it at once waits for the rehearsal"]
pub struct Warming(Option<std::thread::JoinHandle<()>>);

impl Drop for Warming {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.checkpointer.stop();
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path`. Cheap: it runs migrations and reads a few
    /// meta rows; no document is loaded. The first open of a process also starts the phone
    /// patterns' warm-up for every thread ([`Validator::warm_in_background`]), off this thread.
    pub fn open(path: impl AsRef<Path>, opts: OpenOptions) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let validator = Validator::new(&opts.region)?;
        validator.warm_in_background();
        if opts.user_id.trim().is_empty() {
            return Err(ValidationError::Empty { field: "user id" }.into());
        }
        let mut writer = schema::open_connection(&path, false, opts.key.as_ref())?;
        schema::migrate(&mut writer)?;
        let tx = writer.transaction()?;
        match meta::get(&tx, meta::USER_ID)? {
            Some(u) if u != opts.user_id => {
                return Err(Error::WrongUser { expected: opts.user_id.clone(), found: u });
            }
            Some(_) => {}
            None => meta::set(&tx, meta::USER_ID, Some(&opts.user_id))?,
        }
        let actor_hex = meta::get(&tx, meta::ACTOR_ID)?;
        let actor = match actor_hex {
            Some(h) => ActorId::try_from(h.as_str())
                .map_err(|e| Error::corrupt("meta", format!("actor id: {e}")))?,
            None => {
                // One actor per device and store: Automerge requires that no two writers share one.
                let a = match &opts.actor {
                    Some(h) => {
                        ActorId::try_from(h.as_str()).map_err(|_| ValidationError::Invalid {
                            field: "actor id",
                            reason: format!("'{h}' is not hex"),
                        })?
                    }
                    None => new_actor(),
                };
                meta::set(&tx, meta::ACTOR_ID, Some(&a.to_hex_string()))?;
                a
            }
        };
        tx.commit()?;
        let writer = Arc::new(Mutex::new(writer));
        let checkpointer = checkpoint::Checkpointer::install(&writer)?;
        let reader = schema::open_connection(&path, true, opts.key.as_ref())?;
        let store = Store {
            path,
            writer,
            reader: Mutex::new(reader),
            checkpointer,
            user: opts.user_id,
            actor,
            validator,
            clock: opts.clock,
            clock_offset: std::sync::atomic::AtomicI64::new(clock::UNKNOWN),
            observers: Mutex::new(Vec::new()),
        };
        store.load_clock_offset()?;
        if store.meta(meta::REPROJECT)?.is_some() {
            store.reproject_all()?;
        }
        Ok(store)
    }

    /// Opens the store as a phone app does: like [`Store::open`], and then a thread of its own
    /// rehearses a capture while the rep types the first lead (a sample lead captured and
    /// rolled back, see `rehearse_capture`), so that the first capture after a cold start costs
    /// what the second does: the rehearsal warms the connection, `Store::open` the phone
    /// patterns' caches of whichever thread captures. Keep the [`Warming`] beside the store and
    /// drop it first: dropping it waits for the rehearsal, so the store closes where the caller
    /// lets go of it.
    pub fn open_warm(path: impl AsRef<Path>, opts: OpenOptions) -> Result<(Arc<Store>, Warming)> {
        let store = Arc::new(Store::open(path, opts)?);
        let weak = Arc::downgrade(&store);
        let spawned =
            std::thread::Builder::new().name("fieldsales-warm-store".into()).spawn(move || {
                if let Some(store) = weak.upgrade()
                    && let Err(e) = store.rehearse_capture()
                {
                    tracing::debug!("capture rehearsal at open: {e}");
                }
            });
        let handle = spawned.map_err(|e| tracing::debug!("no thread to rehearse a capture: {e}"));
        Ok((store, Warming(handle.ok())))
    }

    /// The user a store file belongs to, without opening it for writing; `None` if the file
    /// does not exist or was never initialised.
    pub fn peek_user(path: impl AsRef<Path>) -> Result<Option<String>> {
        Store::peek_user_keyed(path, None)
    }

    /// `peek_user` of a store encrypted with `key` (`None`: a plain one).
    pub fn peek_user_keyed(
        path: impl AsRef<Path>,
        key: Option<&StoreKey>,
    ) -> Result<Option<String>> {
        if !path.as_ref().exists() {
            return Ok(None);
        }
        meta::peek_user(&schema::open_connection(path.as_ref(), true, key)?)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn user_id(&self) -> &str {
        &self.user
    }

    /// Hex of this device's Automerge actor id; the sync server binds it to the device.
    pub fn actor_id(&self) -> String {
        self.actor.to_hex_string()
    }

    pub fn validator(&self) -> &Validator {
        &self.validator
    }

    /// Registers an observer; returns a handle for `remove_observer`.
    pub fn add_observer(&self, o: Arc<dyn ChangeObserver>) -> u64 {
        let mut obs = self.observers.lock().unwrap_or_else(|p| p.into_inner());
        let id = obs.iter().map(|(i, _)| *i).max().unwrap_or(0) + 1;
        obs.push((id, o));
        id
    }

    pub fn remove_observer(&self, handle: u64) {
        self.observers.lock().unwrap_or_else(|p| p.into_inner()).retain(|(i, _)| *i != handle);
    }

    pub(crate) fn notify(&self, changed: ChangedRecords) {
        if changed.is_empty() {
            return;
        }
        let obs: Vec<Arc<dyn ChangeObserver>> = self
            .observers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(_, o)| o.clone())
            .collect();
        for o in obs {
            o.changed(&changed);
        }
    }

    /// Runs `f` in one write transaction; an error rolls everything back.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        self.write_then(f, true)
    }

    /// `write`, rolled back even when `f` succeeds: the statements run, nothing stays.
    pub(crate) fn write_rolled_back<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        self.write_then(f, false)
    }

    fn write_then<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
        keep: bool,
    ) -> Result<T> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        if keep {
            tx.commit()?
        } else {
            tx.rollback()?
        }
        Ok(out)
    }

    /// Runs `f` on the reader connection inside one read transaction, so a multi-statement read
    /// sees one snapshot.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = lock(&self.reader);
        conn.execute_batch("BEGIN")?;
        let out = f(&conn);
        conn.execute_batch("COMMIT")?;
        out
    }

    /// A value from the store's `meta` table (sync settings live there).
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.read(|c| meta::get(c, key))
    }

    pub fn set_meta(&self, key: &str, value: Option<&str>) -> Result<()> {
        self.write(|tx| meta::set(tx, key, value))
    }

    /// Removes a `meta` value so that it is gone from the file, not only unlinked (for secrets:
    /// a sync token moving to the platform keystore).
    pub fn erase_meta(&self, key: &str) -> Result<()> {
        meta::erase(&lock(&self.writer), key)
    }

    pub(crate) fn reader(&self) -> MutexGuard<'_, Connection> {
        lock(&self.reader)
    }
}

/// A fresh random Automerge actor id, for a new device.
pub fn new_actor() -> ActorId {
    ActorId::from(uuid::Uuid::new_v4().as_bytes().as_slice())
}

/// A poisoned mutex only means another thread panicked mid-call; SQLite rolled its transaction
/// back, so the connection is still sound.
fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
