//! The local store: one SQLite file per user holding documents, projections, the full-text
//! index and the outbox.
//!
//! A writer and a reader connection (WAL lets reads run while a write is in progress). Every
//! user action is one `write` closure, which is one transaction: the document, its projection
//! and the outbox row change together or not at all.

mod documents;
mod foreign;
mod key;
mod merge;
pub(crate) mod outbox;
pub(crate) mod projection;
mod quarantine;
pub mod sales;
pub(crate) mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use automerge::{ActorId, AutoCommit, ReadDoc};
use rusqlite::{Connection, OptionalExtension, Transaction};

pub use foreign::Damage;
pub use key::{KEY_BYTES, StoreKey};
pub use merge::{MergeReport, PullApply, RemoteDoc, RemotePayload};
pub use outbox::OutboxEntry;
pub use quarantine::QuarantineEntry;

use crate::doc::{self, DocKind};
use crate::model::{
    Activity, ActivityDraft, ActivityPatch, Lead, LeadDraft, LeadPatch, new_id, parse_id,
};
use crate::validate::{self, Validator};
use crate::{Error, Result, ValidationError};

/// `meta` key of the pull cursor; written in the same transaction as what it covers.
pub const SYNC_CURSOR: &str = "sync.cursor";

/// Which records a write or a merge changed, so a list on screen refreshes without polling.
/// Dropped leads (the user lost access) are listed under `leads` too.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record), uniffi(name = "ChangedRecords"))]
pub struct Changed {
    pub leads: Vec<String>,
    pub activities: Vec<String>,
    /// The sales-process settings, targets and compensation plans among them (document ids), so
    /// a targets or commission screen refreshes after a manager's change syncs in.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub sales: Vec<String>,
}

impl Changed {
    /// One record of `kind`.
    pub(crate) fn one(kind: DocKind, id: &str) -> Changed {
        let id = vec![id.to_string()];
        match kind {
            DocKind::Lead => Changed { leads: id, ..Default::default() },
            DocKind::Activity => Changed { activities: id, ..Default::default() },
            DocKind::Settings | DocKind::Target | DocKind::CompPlan => {
                Changed { sales: id, ..Default::default() }
            }
        }
    }
}

/// Told after every committed write or merge, outside the transaction and outside any lock.
pub trait ChangeObserver: Send + Sync {
    fn changed(&self, changed: &Changed);
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
    writer: Mutex<Connection>,
    user: String,
    actor: ActorId,
    validator: Validator,
    clock: Clock,
    observers: Mutex<Vec<(u64, Arc<dyn ChangeObserver>)>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).field("user", &self.user).finish()
    }
}

/// A record read from its document.
pub(crate) enum Record {
    /// Boxed: a lead is several times the size of the other records.
    Lead(Box<Lead>),
    Activity(Activity),
    Settings(crate::model::SalesSettings),
    Target(crate::model::Target),
    Plan(crate::model::CompPlan),
}

impl Record {
    pub(crate) fn read(d: &AutoCommit, id: &str, kind: DocKind) -> Result<Record> {
        Ok(match kind {
            DocKind::Lead => Record::Lead(Box::new(doc::lead::read(d, id)?)),
            DocKind::Activity => Record::Activity(doc::activity::read(d, id)?),
            DocKind::Settings => Record::Settings(doc::sales::settings_read(d, id)?),
            DocKind::Target => Record::Target(doc::sales::target_read(d, id)?),
            DocKind::CompPlan => Record::Plan(doc::sales::plan_read(d, id)?),
        })
    }

    fn project(&self, tx: &Connection, v: &Validator) -> Result<()> {
        self.project_as(tx, v, false)
    }

    /// `fresh`: the record has no projection rows yet (a document new to this store), so there
    /// are no old tag or search rows to clear.
    fn project_as(&self, tx: &Connection, v: &Validator, fresh: bool) -> Result<()> {
        match self {
            Record::Lead(l) => projection::upsert_lead(tx, l, v, fresh),
            Record::Activity(a) => projection::upsert_activity(tx, a),
            Record::Settings(s) => sales::upsert_settings(tx, s),
            Record::Target(t) => sales::upsert_target(tx, t),
            Record::Plan(p) => sales::upsert_plan(tx, p),
        }
    }

    fn into_lead(self, id: &str) -> Result<Lead> {
        match self {
            Record::Lead(l) => Ok(*l),
            _ => Err(Error::NotFound { kind: "lead", id: id.to_string() }),
        }
    }

    fn into_activity(self, id: &str) -> Result<Activity> {
        match self {
            Record::Activity(a) => Ok(a),
            _ => Err(Error::NotFound { kind: "activity", id: id.to_string() }),
        }
    }
}

/// A lead with its activity timeline, newest first. `lead.conflicts` lists fields that two
/// devices wrote concurrently ("two values were entered").
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LeadDetail {
    pub lead: Lead,
    pub activities: Vec<Activity>,
}

/// What `verify` found: projections that disagree with their documents, and outbox rows that are
/// not local changes. Both lists are empty for a healthy store.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    pub documents: usize,
    pub projection_mismatches: Vec<String>,
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.projection_mismatches.is_empty() && self.problems.is_empty()
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path`. Cheap: it runs migrations and reads a few
    /// meta rows; no document is loaded.
    pub fn open(path: impl AsRef<Path>, opts: OpenOptions) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let validator = Validator::new(&opts.region)?;
        if opts.user_id.trim().is_empty() {
            return Err(ValidationError::Empty { field: "user id" }.into());
        }
        let mut writer = schema::open_connection(&path, false, opts.key.as_ref())?;
        schema::migrate(&mut writer)?;
        let tx = writer.transaction()?;
        let user: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = 'user_id'", [], |r| r.get(0))
            .optional()?;
        match user {
            Some(u) if u != opts.user_id => {
                return Err(Error::WrongUser { expected: opts.user_id.clone(), found: u });
            }
            Some(_) => {}
            None => {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('user_id', ?1)",
                    [&opts.user_id],
                )?;
            }
        }
        let actor_hex: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = 'actor_id'", [], |r| r.get(0))
            .optional()?;
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
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('actor_id', ?1)",
                    [a.to_hex_string()],
                )?;
                a
            }
        };
        tx.commit()?;
        let reader = schema::open_connection(&path, true, opts.key.as_ref())?;
        let store = Store {
            path,
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            user: opts.user_id,
            actor,
            validator,
            clock: opts.clock,
            observers: Mutex::new(Vec::new()),
        };
        if store.meta("reproject")?.is_some() {
            store.reproject_all()?;
        }
        Ok(store)
    }

    /// Rebuilds every projection from the documents, in one transaction; run after a migration
    /// that adds a projection SQL alone cannot fill.
    fn reproject_all(&self) -> Result<()> {
        self.write(|tx| {
            for (id, kind) in documents::all_ids(tx)? {
                if let Some((_, d, _)) = documents::load(tx, &id)?
                    && doc::kind_of(&d).is_some()
                {
                    projection::delete(tx, &id, kind)?;
                    self.project(tx, &id, kind, &d, true)?;
                }
            }
            set_meta(tx, "reproject", None)
        })
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
        let c = schema::open_connection(path.as_ref(), true, key)?;
        let has_meta: bool =
            c.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'meta'", [], |r| {
                r.get(0)
            })?;
        if !has_meta {
            return Ok(None);
        }
        Ok(c.query_row("SELECT value FROM meta WHERE key = 'user_id'", [], |r| r.get(0))
            .optional()?)
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

    pub(crate) fn notify(&self, changed: Changed) {
        if changed.leads.is_empty() && changed.activities.is_empty() && changed.sales.is_empty() {
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

    pub(crate) fn now(&self) -> i64 {
        (self.clock)()
    }

    /// Runs `f` in one write transaction; an error rolls everything back.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
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

    // ---- leads ----------------------------------------------------------------------------

    /// Captures a new lead: one document, its projection and its outbox row in one transaction.
    pub fn create_lead(&self, draft: LeadDraft) -> Result<Lead> {
        let mut leads = self.create_leads(vec![draft])?;
        leads.pop().ok_or_else(|| Error::corrupt("lead", "create returned nothing"))
    }

    /// Creates many leads in one transaction: all of them or, on the first invalid draft, none.
    /// A draft whose id already exists is an error, so a retried import reports rather than
    /// duplicates.
    pub fn create_leads(&self, drafts: Vec<LeadDraft>) -> Result<Vec<Lead>> {
        let now = self.now();
        // The workspace's stage rules apply to local writes only (see `store/sales.rs`).
        let settings = self.sales_settings()?;
        let build = |mut d: LeadDraft| -> Result<(Lead, automerge::ChangeHash, Vec<u8>)> {
            self.validator.lead_draft(&mut d)?;
            let id = d.id.clone().unwrap_or_else(new_id);
            let mut doc = doc::lead::create(self.actor.clone(), &id, &d, &self.user, now)?;
            let lead = doc::lead::read(&doc, &id)?;
            settings.check(None, &lead)?;
            let hash =
                doc.get_heads().pop().ok_or_else(|| Error::corrupt(&id, "no change was made"))?;
            Ok((lead, hash, doc.save()))
        };
        // Building documents is CPU work independent per lead: a large import spreads it over
        // the cores, and only the SQLite writes stay on one thread.
        // available_parallelism reads cgroup files (50–60 µs): only ask for a large import.
        let threads = if drafts.len() >= 256 {
            std::thread::available_parallelism().map_or(1, |n| n.get()).min(8)
        } else {
            1
        };
        let built: Vec<(Lead, automerge::ChangeHash, Vec<u8>)> = if threads > 1 {
            let chunk = drafts.len().div_ceil(threads);
            let mut drafts = drafts;
            let mut parts = Vec::new();
            while drafts.len() > chunk {
                let rest = drafts.split_off(chunk);
                parts.push(std::mem::replace(&mut drafts, rest));
            }
            parts.push(drafts);
            let results: Vec<Result<Vec<_>>> = std::thread::scope(|s| {
                let handles: Vec<_> = parts
                    .into_iter()
                    .map(|p| s.spawn(|| p.into_iter().map(build).collect::<Result<Vec<_>>>()))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(Error::corrupt("import", "a worker thread panicked"))
                        })
                    })
                    .collect()
            });
            let mut all = Vec::new();
            for r in results {
                all.extend(r?);
            }
            all
        } else {
            drafts.into_iter().map(build).collect::<Result<_>>()?
        };
        self.write(|tx| {
            for (lead, hash, saved) in &built {
                if documents::exists(tx, &lead.id)? {
                    return Err(Error::Exists { kind: "lead", id: lead.id.clone() });
                }
                documents::insert(tx, &lead.id, DocKind::Lead, saved)?;
                outbox::push(tx, &lead.id, DocKind::Lead, hash)?;
                projection::upsert_lead(tx, lead, &self.validator, true)?;
            }
            Ok(())
        })?;
        self.notify(Changed {
            leads: built.iter().map(|(l, _, _)| l.id.clone()).collect(),
            ..Default::default()
        });
        Ok(built.into_iter().map(|(l, _, _)| l).collect())
    }

    /// Applies an edit. Only the fields the patch names are written, so edits of other fields
    /// made elsewhere merge untouched. An edit that changes nothing writes nothing.
    pub fn update_lead(&self, id: &str, mut patch: LeadPatch) -> Result<Lead> {
        self.validator.lead_patch(&mut patch)?;
        let id = parse_id("lead id", id)?;
        let now = self.now();
        let settings = self.sales_settings()?;
        // The lead as it was, to tell a rule this edit breaks from one it broke already; read
        // only when the workspace has rules at all.
        let before: std::cell::RefCell<Option<Lead>> = std::cell::RefCell::new(None);
        let rec = self.edit(
            &id,
            DocKind::Lead,
            |doc| {
                if settings.has_rules() {
                    *before.borrow_mut() = Some(doc::lead::read(doc, &id)?);
                }
                doc::lead::apply_patch(doc, &patch, &self.user, now)
            },
            |rec| match rec {
                Record::Lead(l)
                    if l.name.is_none()
                        && l.company.is_none()
                        && l.emails.is_empty()
                        && l.phones.is_empty() =>
                {
                    Err(ValidationError::EmptyLead.into())
                }
                Record::Lead(l) if settings.has_rules() => {
                    Ok(settings.check(before.borrow().as_ref(), l)?)
                }
                _ => Ok(()),
            },
        )?;
        rec.into_lead(&id)
    }

    pub fn delete_lead(&self, id: &str) -> Result<Lead> {
        self.set_lead_deleted(id, true)
    }

    pub fn restore_lead(&self, id: &str) -> Result<Lead> {
        self.set_lead_deleted(id, false)
    }

    fn set_lead_deleted(&self, id: &str, deleted: bool) -> Result<Lead> {
        let id = parse_id("lead id", id)?;
        let now = self.now();
        self.edit(
            &id,
            DocKind::Lead,
            |doc| doc::lead::set_deleted(doc, deleted, &self.user, now),
            |_| Ok(()),
        )?
        .into_lead(&id)
    }

    /// The full lead, read from its document (with conflicts).
    pub fn lead(&self, id: &str) -> Result<Lead> {
        let id = parse_id("lead id", id)?;
        self.read(|c| {
            let (d, _) = documents::load_kind(c, &id, DocKind::Lead)?;
            doc::lead::read(&d, &id)
        })
    }

    pub fn lead_detail(&self, id: &str) -> Result<LeadDetail> {
        let id = parse_id("lead id", id)?;
        self.read(|c| {
            let (d, _) = documents::load_kind(c, &id, DocKind::Lead)?;
            let lead = doc::lead::read(&d, &id)?;
            let activities = self.activities_of(c, &id)?;
            Ok(LeadDetail { lead, activities })
        })
    }

    // ---- activities -----------------------------------------------------------------------

    pub fn add_activity(&self, mut draft: ActivityDraft) -> Result<Activity> {
        validate::activity_draft(&mut draft)?;
        let now = self.now();
        let id = draft.id.clone().unwrap_or_else(new_id);
        let mut d = doc::activity::create(self.actor.clone(), &id, &draft, &self.user, now)?;
        let activity = doc::activity::read(&d, &id)?;
        let hash = d.get_heads().pop().ok_or_else(|| Error::corrupt(&id, "no change was made"))?;
        let saved = d.save();
        self.write(|tx| {
            if documents::kind(tx, &draft.lead_id)? != Some(DocKind::Lead) {
                return Err(Error::NotFound { kind: "lead", id: draft.lead_id.clone() });
            }
            if documents::exists(tx, &id)? {
                return Err(Error::Exists { kind: "activity", id: id.clone() });
            }
            documents::insert(tx, &id, DocKind::Activity, &saved)?;
            outbox::push(tx, &id, DocKind::Activity, &hash)?;
            projection::upsert_activity(tx, &activity)?;
            Ok(())
        })?;
        self.notify(Changed::one(DocKind::Activity, &activity.id));
        Ok(activity)
    }

    pub fn update_activity(&self, id: &str, mut patch: ActivityPatch) -> Result<Activity> {
        validate::activity_patch(&mut patch)?;
        let id = parse_id("activity id", id)?;
        let now = self.now();
        self.edit(
            &id,
            DocKind::Activity,
            |d| doc::activity::apply_patch(d, &patch, &self.user, now),
            |_| Ok(()),
        )?
        .into_activity(&id)
    }

    pub fn complete_activity(&self, id: &str) -> Result<Activity> {
        self.update_activity(id, ActivityPatch { done: Some(true), ..Default::default() })
    }

    pub fn delete_activity(&self, id: &str) -> Result<Activity> {
        let id = parse_id("activity id", id)?;
        let now = self.now();
        self.edit(
            &id,
            DocKind::Activity,
            |d| doc::activity::set_deleted(d, true, &self.user, now),
            |_| Ok(()),
        )?
        .into_activity(&id)
    }

    pub fn activity(&self, id: &str) -> Result<Activity> {
        let id = parse_id("activity id", id)?;
        self.read(|c| {
            let (d, _) = documents::load_kind(c, &id, DocKind::Activity)?;
            doc::activity::read(&d, &id)
        })
    }

    /// Activities of one lead, newest first, deleted ones left out.
    pub fn activities_for_lead(&self, lead_id: &str) -> Result<Vec<Activity>> {
        let lead_id = parse_id("lead id", lead_id)?;
        self.read(|c| self.activities_of(c, &lead_id))
    }

    fn activities_of(&self, c: &Connection, lead_id: &str) -> Result<Vec<Activity>> {
        let ids: Vec<String> = c
            .prepare_cached(
                "SELECT id FROM activities WHERE lead_id = ?1 AND deleted = 0
                 ORDER BY coalesce(occurred_at, due_at, created_at) DESC, id DESC",
            )?
            .query_map([lead_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.iter()
            .map(|id| {
                let (d, _) = documents::load_kind(c, id, DocKind::Activity)?;
                doc::activity::read(&d, id)
            })
            .collect()
    }

    /// Loads a document, lets `f` edit it in an open Automerge transaction and, if it changed
    /// something, stores the change, the outbox row and the projection in one SQLite
    /// transaction. An error from `f` rolls both back.
    /// Loads a document, lets `f` edit it, reads the result once (for `check`, the projection
    /// and the caller), and, if something changed, stores the document, the outbox row and the
    /// projection in one SQLite transaction. An error from `f` or `check` stores nothing (the
    /// edited copy is simply dropped).
    fn edit(
        &self,
        id: &str,
        kind: DocKind,
        f: impl FnOnce(&mut AutoCommit) -> Result<bool>,
        check: impl FnOnce(&Record) -> Result<()>,
    ) -> Result<Record> {
        let now = self.now();
        let (rec, changed) = self.write(|tx| {
            let mut e = self.edit_begin(tx, id, kind)?;
            let changed = f(&mut e.0)?;
            let rec = Record::read(&e.0, id, kind)?;
            check(&rec)?;
            if changed && self.commit_store(tx, id, kind, &mut e, now)?.is_some() {
                rec.project(tx, &self.validator)?;
                return Ok((rec, true));
            }
            Ok((rec, false))
        })?;
        if changed {
            self.notify(Changed::one(kind, id));
        }
        Ok(rec)
    }

    /// Loads a document for a local edit by this device. Pair with `edit_finish` in the same
    /// transaction.
    pub(crate) fn edit_begin(
        &self,
        tx: &Connection,
        id: &str,
        kind: DocKind,
    ) -> Result<(AutoCommit, i64)> {
        let (mut d, tail) = documents::load_kind(tx, id, kind)?;
        d.set_actor(self.actor.clone());
        Ok((d, tail))
    }

    /// Commits the edit as one change and stores it with its outbox row and projection. Returns
    /// false (and stores nothing) when the edit changed nothing.
    pub(crate) fn edit_finish(
        &self,
        tx: &Connection,
        id: &str,
        kind: DocKind,
        e: (AutoCommit, i64),
        now: i64,
    ) -> Result<bool> {
        let mut e = e;
        if self.commit_store(tx, id, kind, &mut e, now)?.is_none() {
            return Ok(false);
        }
        self.project(tx, id, kind, &e.0, false)?;
        Ok(true)
    }

    /// Commits the open Automerge transaction as one change and stores the saved document and
    /// the change's outbox row; `None` when there was nothing to commit.
    fn commit_store(
        &self,
        tx: &Connection,
        id: &str,
        kind: DocKind,
        e: &mut (AutoCommit, i64),
        now: i64,
    ) -> Result<Option<automerge::ChangeHash>> {
        let Some(hash) = doc::commit(&mut e.0, now) else { return Ok(None) };
        documents::store(tx, id, &mut e.0, e.1)?;
        outbox::push(tx, id, kind, &hash)?;
        Ok(Some(hash))
    }

    fn project(
        &self,
        tx: &Connection,
        id: &str,
        kind: DocKind,
        d: &AutoCommit,
        fresh: bool,
    ) -> Result<()> {
        match kind {
            DocKind::Lead => {
                projection::upsert_lead(tx, &doc::lead::read(d, id)?, &self.validator, fresh)
            }
            DocKind::Activity => projection::upsert_activity(tx, &doc::activity::read(d, id)?),
            DocKind::Settings => sales::upsert_settings(tx, &doc::sales::settings_read(d, id)?),
            DocKind::Target => sales::upsert_target(tx, &doc::sales::target_read(d, id)?),
            DocKind::CompPlan => sales::upsert_plan(tx, &doc::sales::plan_read(d, id)?),
        }
    }

    // ---- sync support ---------------------------------------------------------------------

    /// Local changes not yet acknowledged, oldest first, after `after_seq`.
    pub fn outbox(&self, after_seq: i64, limit: u32) -> Result<Vec<OutboxEntry>> {
        self.read(|c| outbox::list(c, after_seq, limit))
    }

    pub fn outbox_len(&self) -> Result<i64> {
        self.read(outbox::count)
    }

    /// Live leads holding concurrent values a person should look at (the sync summary's
    /// `conflicts`).
    pub fn conflicted_leads(&self) -> Result<u64> {
        self.read(|c| {
            let n: i64 = c
                .prepare_cached(
                    "SELECT count(*) FROM leads WHERE has_conflicts = 1 AND deleted = 0",
                )?
                .query_row([], |r| r.get(0))?;
            Ok(n.max(0) as u64)
        })
    }

    /// Forgets outbox rows whose changes a server has stored. Unknown hashes are ignored, so a
    /// repeated acknowledgement is harmless.
    pub fn ack_outbox(&self, hashes: &[String]) -> Result<usize> {
        self.write(|tx| outbox::ack(tx, hashes))
    }

    /// The saved bytes of one document (a compact snapshot), e.g. to hand to another replica.
    pub fn document_bytes(&self, id: &str) -> Result<Vec<u8>> {
        self.read(|c| match documents::load(c, id)? {
            Some((_, mut d, _)) => Ok(d.save()),
            None => Err(Error::NotFound { kind: "document", id: id.to_string() }),
        })
    }

    /// Sorted change hashes of a document, its identity for convergence checks.
    pub fn document_heads(&self, id: &str) -> Result<Vec<String>> {
        self.read(|c| match documents::load(c, id)? {
            Some((_, mut d, _)) => {
                let mut h: Vec<String> = d.get_heads().iter().map(|h| h.to_string()).collect();
                h.sort();
                Ok(h)
            }
            None => Err(Error::NotFound { kind: "document", id: id.to_string() }),
        })
    }

    /// Ids and kinds of every document in the store.
    pub fn document_ids(&self) -> Result<Vec<(String, DocKind)>> {
        self.read(documents::all_ids)
    }

    /// Folds every document's appended changes into one saved blob and reclaims space.
    pub fn compact(&self) -> Result<usize> {
        let n = self.write(|tx| {
            let ids: Vec<String> = tx
                .prepare("SELECT id FROM documents WHERE tail_count > 0")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for id in &ids {
                if let Some((_, mut d, tail)) = documents::load(tx, id)? {
                    documents::store(tx, id, &mut d, tail)?;
                }
            }
            Ok(ids.len())
        })?;
        let w = lock(&self.writer);
        // VACUUM first: it goes through the WAL, which the checkpoint then empties.
        w.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(n)
    }

    /// Recomputes every projection from its document and compares; checks that each outbox row
    /// is a change of this device that its document holds.
    pub fn verify(&self) -> Result<VerifyReport> {
        self.read(|c| {
            let mut report = VerifyReport::default();
            let mut local: std::collections::HashSet<String> = std::collections::HashSet::new();
            for (id, kind) in documents::all_ids(c)? {
                report.documents += 1;
                // A damaged document is a finding, never a failed (or crashed) verify.
                let mut d = match documents::load(c, &id) {
                    Ok(Some((_, d, _))) => d,
                    Ok(None) => continue,
                    Err(e @ (Error::Storage(_) | Error::Io(_))) => return Err(e),
                    Err(e) => {
                        report.problems.push(format!("document {id} does not load: {e}"));
                        continue;
                    }
                };
                for ch in d.get_changes(&[]) {
                    if ch.actor_id() == &self.actor {
                        local.insert(ch.hash().to_string());
                    }
                }
                if doc::kind_of(&d).is_none() {
                    continue;
                }
                if let Some(other) = foreign::claimed_other_id(&d, &id) {
                    report.problems.push(format!("document {id} holds record {other}"));
                    continue;
                }
                match foreign::guarded(|| self.verify_one(c, &id, kind, &d)) {
                    Ok(Ok(true)) => {}
                    Ok(Ok(false)) => report.projection_mismatches.push(id),
                    Ok(Err(e @ (Error::Storage(_) | Error::Io(_)))) => return Err(e),
                    Ok(Err(e)) => {
                        report.problems.push(format!("document {id} cannot be read: {e}"))
                    }
                    Err(panic) => {
                        report.problems.push(format!("document {id} makes Automerge fail: {panic}"))
                    }
                }
            }
            for (seq, doc_id, hash) in outbox::hashes(c)? {
                if !local.contains(&hash) {
                    report.problems.push(format!(
                        "outbox row {seq} ({hash}) is not a change held by document {doc_id}"
                    ));
                }
            }
            Ok(report)
        })
    }

    /// Whether one document's projection rows match what its record says.
    fn verify_one(&self, c: &Connection, id: &str, kind: DocKind, d: &AutoCommit) -> Result<bool> {
        Ok(match kind {
            DocKind::Lead => {
                let lead = doc::lead::read(d, id)?;
                let want: Vec<_> = lead
                    .stage_history
                    .iter()
                    .map(|h| {
                        (h.stage.as_str().to_string(), h.at, h.by.clone(), h.lost_reason.clone())
                    })
                    .collect();
                projection::read_lead_row(c, id)?
                    == Some(crate::query::LeadSummary::from_lead(&lead))
                    && projection::read_history(c, id)? == want
                    && projection::read_report_columns(c, id)?
                        == Some((lead.closed_at(), lead.reached_rank()))
                    && projection::read_lead_activity(c, id)?
                        .is_some_and(|(stored, want)| stored == want)
                    && projection::read_keys(c, id)? == {
                        let mut k = projection::duplicate_keys(&lead);
                        k.sort();
                        k.dedup();
                        k
                    }
            }
            DocKind::Activity => {
                let a = doc::activity::read(d, id)?;
                projection::read_activity_row(c, id)?
                    == Some(projection::ActivityRow::from_activity(&a))
            }
            DocKind::Settings | DocKind::Target | DocKind::CompPlan => {
                sales::verify(c, id, kind, d)?
            }
        })
    }

    /// Hashes of every change this device wrote that its documents hold.
    pub fn local_change_hashes(&self) -> Result<Vec<String>> {
        self.read(|c| {
            let mut out = Vec::new();
            for (id, _) in documents::all_ids(c)? {
                if let Some((_, mut d, _)) = documents::load(c, &id)? {
                    out.extend(
                        d.get_changes(&[])
                            .iter()
                            .filter(|ch| ch.actor_id() == &self.actor)
                            .map(|ch| ch.hash().to_string()),
                    );
                }
            }
            out.sort();
            Ok(out)
        })
    }

    /// A value from the store's `meta` table (sync settings live there).
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.read(|c| {
            Ok(c.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
                .query_row([key], |r| r.get(0))
                .optional()?)
        })
    }

    pub fn set_meta(&self, key: &str, value: Option<&str>) -> Result<()> {
        self.write(|tx| set_meta(tx, key, value))
    }

    /// Removes a `meta` value so that it is gone from the file, not only unlinked: the freed
    /// bytes are overwritten (`secure_delete`) and the write-ahead log, which still holds older
    /// copies of the page, is checkpointed and truncated. For secrets (a sync token moving to
    /// the platform keystore).
    pub fn erase_meta(&self, key: &str) -> Result<()> {
        let w = lock(&self.writer);
        w.pragma_update(None, "secure_delete", true)?;
        let erased = w
            .execute("DELETE FROM meta WHERE key = ?1", [key])
            .and_then(|_| w.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);"));
        w.pragma_update(None, "secure_delete", false)?;
        Ok(erased?)
    }

    pub(crate) fn reader(&self) -> MutexGuard<'_, Connection> {
        lock(&self.reader)
    }

    /// **Benchmarks only.** Writes the projection rows of `leads` and `activities` (lead row,
    /// full-text row, tags, duplicate keys, stage history, activity row) with the same code a
    /// capture or a merge uses, in one transaction, but *without* their documents or outbox
    /// rows. A store seeded this way fails `verify` and loses these rows at the next
    /// reprojection; an app must never call it. `core/benches/report.rs` uses it to build
    /// 600,000 records in seconds rather than the minutes the document path takes.
    #[doc(hidden)]
    pub fn seed_projections_for_bench(
        &self,
        leads: &[Lead],
        activities: &[Activity],
    ) -> Result<()> {
        self.write(|tx| {
            for l in leads {
                projection::upsert_lead(tx, l, &self.validator, true)?;
            }
            for a in activities {
                projection::upsert_activity(tx, a)?;
            }
            Ok(())
        })
    }
}

pub(crate) fn set_meta(tx: &Connection, key: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(v) => tx.prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")?.execute([key, v])?,
        None => tx.prepare_cached("DELETE FROM meta WHERE key = ?1")?.execute([key])?,
    };
    Ok(())
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

#[allow(unused_imports)]
use ReadDoc as _;
