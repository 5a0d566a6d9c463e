//! Storage behind the sync logic. `push.rs` and `pull.rs` speak only to these traits, so a
//! PostgreSQL backend can replace the embedded SQLite one without touching them. Storage answers
//! with its own [`BackendError`]; HTTP statuses are made from it at the edge (`error.rs`).
//!
//! The change feed is numbered (`seq`) inside the write transaction, and a backend must make
//! writers of one workspace commit in `seq` order (SQLite: one writer at a time; PostgreSQL: a
//! per-workspace advisory lock taken before the number is drawn), so that a reader can never
//! pass a number that commits later.

use fieldsales_core::doc::DocKind;

/// What storage can answer besides a result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The database failed (I/O, a constraint, a busy timeout): the request can be retried.
    #[error("storage failed: {0}")]
    Storage(String),
    #[error("this enrollment code is unknown, used or expired")]
    InvalidCode,
    /// The actor is bound to a device of another user (or workspace).
    #[error("this actor id is already bound to another user's device")]
    ActorTaken,
    /// The code enrolls `code_user`, not `store_user`, whom the device's store belongs to; the
    /// code is not used up.
    #[error("this code enrolls user '{code_user}', but this store belongs to '{store_user}'")]
    WrongUser { code_user: String, store_user: String },
    /// Too many failed enrollment attempts from this address lately.
    #[error("too many failed enrollment attempts from this address")]
    LockedOut { retry_after_s: u64 },
}

pub type Result<T, E = BackendError> = std::result::Result<T, E>;

pub use crate::principal::{Principal, Role};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocRow {
    pub kind: DocKind,
    /// The lead's owner; for an activity, its lead's owner (visibility follows the lead); for
    /// a target or a compensation plan, its rep, or `team:<team id>` for a team's target; for
    /// the settings document, `*` (everyone in the workspace). User ids cannot contain `:` or
    /// `*`, so these never name a user.
    pub owner: String,
    pub lead_id: Option<String>,
    /// `save()` bytes of the whole document.
    pub data: Vec<u8>,
}

/// Which feed entries a pull wants, applied by the backend while it reads (in SQL), so that a
/// rep's page is filled with changes they may see instead of mostly skipped rows, and the
/// skipped rows' change bytes are never read.
pub struct FeedFilter {
    /// Changes written by this actor (the pulling device) are left out: it has them.
    pub skip_actor: String,
    /// Changes written while their document's owner was not one of these (nor
    /// [`crate::authz::EVERYONE`]) are left out; `None` keeps every owner. Owner events are always
    /// kept: who gains and who loses a record is decided from both owners. (A user who gains a
    /// record gets it whole from the owner event, so its earlier changes are not needed.)
    pub owners: Option<Vec<String>>,
}

impl FeedFilter {
    /// Whether [`DocTx::feed_len_after`] counts `e`, an entry [`DocTx::feed_after`] returned
    /// with this filter: every change (the filter let it through), and the owner events that
    /// give or take a record of one of `owners`.
    pub fn counts(&self, e: &FeedEntry) -> bool {
        match (e, &self.owners) {
            (FeedEntry::Owner { old_owner, new_owner, .. }, Some(owners)) => {
                owners.contains(old_owner) || owners.contains(new_owner)
            }
            _ => true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedEntry {
    /// `owner`: the document's owner when the change was written.
    Change { seq: i64, doc_id: String, kind: DocKind, owner: String, actor: String, data: Vec<u8> },
    /// A lead changed hands: users who gain it need the whole record, users who lose it drop it.
    Owner { seq: i64, doc_id: String, old_owner: String, new_owner: String },
}

impl FeedEntry {
    pub fn seq(&self) -> i64 {
        match self {
            FeedEntry::Change { seq, .. } | FeedEntry::Owner { seq, .. } => *seq,
        }
    }

    /// The bytes it carries.
    pub fn len(&self) -> usize {
        match self {
            FeedEntry::Change { data, .. } => data.len(),
            FeedEntry::Owner { .. } => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Rows read up to a count and a byte budget: always at least one row when there is one, so
/// that a page moves; `full` when more may follow (the count or the budget was reached).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub full: bool,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Page { rows: Vec::new(), full: false }
    }
}

/// An address's failed enrollment attempts, for `admin lockouts`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Lockout {
    pub address: String,
    pub failures: u32,
    /// Milliseconds since the epoch; in the past once the lockout is over.
    pub locked_until: Option<i64>,
    pub last_attempt: i64,
}

/// One enrollment attempt.
pub struct Enrollment<'a> {
    pub code_hash: &'a str,
    pub device_name: &'a str,
    pub actor: &'a str,
    pub token_hash: &'a str,
    /// The client's address, for the lockout after repeated failures.
    pub address: &'a str,
    pub now: i64,
    /// The user the device's store belongs to, if the device said ([`BackendError::WrongUser`]
    /// for a code of anyone else).
    pub user_id: Option<&'a str>,
}

/// Document work inside one transaction, scoped to one workspace: nothing here can name
/// another workspace's data.
pub trait DocTx {
    fn doc(&mut self, id: &str) -> Result<Option<DocRow>>;
    fn has_change(&mut self, hash: &str) -> Result<bool>;
    fn put_doc(&mut self, id: &str, row: &DocRow) -> Result<()>;
    /// `owner` is the document's owner as of this change (see [`DocRow::owner`]): pulls filter
    /// on it.
    fn append_change(
        &mut self,
        doc_id: &str,
        kind: DocKind,
        owner: &str,
        hash: &str,
        actor: &str,
        data: &[u8],
    ) -> Result<()>;
    fn append_owner_event(&mut self, lead_id: &str, old_owner: &str, new_owner: &str)
    -> Result<()>;
    fn set_activities_owner(&mut self, lead_id: &str, owner: &str) -> Result<()>;
    /// The owner recorded for a document now; `None` if there is no such document.
    fn doc_owner(&mut self, id: &str) -> Result<Option<String>>;
    /// A lead's activities after `after_id` in id order, up to `max_bytes` of their documents.
    fn activities_of(
        &mut self,
        lead_id: &str,
        after_id: &str,
        max_bytes: usize,
    ) -> Result<Page<(String, DocRow)>>;
    fn activity_ids_of(&mut self, lead_id: &str) -> Result<Vec<String>>;
    /// The raw bytes of every change stored for a document, in feed order: what a document
    /// whose saved bytes no longer load is rebuilt from.
    fn doc_changes(&mut self, doc_id: &str) -> Result<Vec<Vec<u8>>>;
    fn user_exists(&mut self, user_id: &str) -> Result<bool>;
    fn team_members(&mut self, team_id: &str) -> Result<Vec<String>>;
    /// The ids of the teams a manager manages.
    fn managed_teams(&mut self, user_id: &str) -> Result<Vec<String>>;
    /// The id of a team named by its id or its name, in this workspace.
    fn team_id(&mut self, id_or_name: &str) -> Result<Option<String>>;
    /// Up to `limit` feed entries after `seq` that `filter` lets through, in `seq` order, and
    /// up to `max_bytes` of change bytes (at least one entry). Complete up to the last entry:
    /// no entry the filter lets through is left out before it.
    fn feed_after(
        &mut self,
        seq: i64,
        limit: u32,
        max_bytes: usize,
        filter: &FeedFilter,
    ) -> Result<Page<FeedEntry>>;
    /// Feed entries after `seq` that `filter` lets through; owner events only where one of the
    /// filter's owners gains or loses a record.
    fn feed_len_after(&mut self, seq: i64, filter: &FeedFilter) -> Result<u64>;
    /// What identifies the feed row numbered `seq` in this workspace (its change hash, or for an
    /// owner event its document and owners); `None` if there is none.
    fn feed_row_key(&mut self, seq: i64) -> Result<Option<String>>;
    fn max_seq(&mut self) -> Result<i64>;
    /// The owner `doc_id` had right after feed row `seq`, if it changed hands since: the old
    /// owner of its first owner event after `seq`. `None` if it has not changed hands since
    /// (its owner now is the one it had). Decides on an activity logged offline on a lead
    /// given to someone else meanwhile (`push.rs`).
    fn owner_after(&mut self, doc_id: &str, seq: i64) -> Result<Option<String>>;
    /// Documents ordered by id, for bootstrap snapshots, up to `limit` of them and `max_bytes`
    /// (at least one). Only documents whose owner is one of `owners` (or everyone's); `None`
    /// for all.
    fn docs_after(
        &mut self,
        after_id: &str,
        limit: u32,
        max_bytes: usize,
        owners: Option<&[String]>,
    ) -> Result<Page<(String, DocRow)>>;
    fn docs_len_after(&mut self, after_id: &str, owners: Option<&[String]>) -> Result<u64>;
    /// Marks a point inside the transaction that [`DocTx::rollback_to_savepoint`] returns to,
    /// so that several requests can share one transaction and one of them can fail alone.
    /// Not nested.
    fn savepoint(&mut self) -> Result<()>;
    /// Keeps what was written since [`DocTx::savepoint`].
    fn release_savepoint(&mut self) -> Result<()>;
    /// Undoes what was written since [`DocTx::savepoint`].
    fn rollback_to_savepoint(&mut self) -> Result<()>;
}

pub struct Enrolled {
    pub device_id: String,
    pub user_id: String,
    pub workspace_id: String,
    pub role: Role,
    /// The actor's device was enrolled again (see [`Backend::enroll`]).
    pub reenrolled: bool,
}

pub trait Backend: Send + Sync + 'static {
    /// Runs `f` in one write transaction for `workspace`; an error rolls it back.
    fn write<R, E: From<BackendError>>(
        &self,
        workspace: &str,
        f: impl FnOnce(&mut dyn DocTx) -> Result<R, E>,
    ) -> Result<R, E>;
    /// Runs `f` on one consistent snapshot of `workspace`.
    fn read<R, E: From<BackendError>>(
        &self,
        workspace: &str,
        f: impl FnOnce(&mut dyn DocTx) -> Result<R, E>,
    ) -> Result<R, E>;
    fn authenticate(&self, token_hash: &str) -> Result<Option<Principal>>;
    /// Consumes a one-time enrollment code and registers a device with its token hash and actor.
    /// An unknown, used or expired code counts as a failure of the address; an address with too
    /// many recent failures is refused before its code is looked at
    /// ([`BackendError::LockedOut`]). Then, in one transaction, before the code is used up:
    /// a code for another user than `e.user_id` (when given) is [`BackendError::WrongUser`];
    /// an actor bound to a device of another user or workspace is [`BackendError::ActorTaken`].
    ///
    /// **Re-enrollment**: an actor already bound to a device of the code's own user (revoked or
    /// not: a store that lost its token, or whose device was revoked, with unsent work in it)
    /// gets that same device back: its token hash is replaced by `e.token_hash` (the old token,
    /// revoked or not, never works again), its name by `e.device_name`, and it is no longer
    /// revoked. [`Enrolled::reenrolled`] says so. The device id, and so everything keyed by it,
    /// stays.
    fn enroll(&self, e: &Enrollment<'_>) -> Result<Enrolled>;
    /// Where committed writes are announced to live-update streams (`events.rs`): the backend
    /// publishes each committed write transaction's [`crate::hub::Moved`] to it.
    fn hub(&self) -> &std::sync::Arc<crate::hub::Hub>;
    /// Which of these devices are revoked (live-update streams are cut off).
    fn revoked(&self, device_ids: &[String]) -> Result<Vec<String>>;
}
