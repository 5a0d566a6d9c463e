//! Storage behind the sync logic. `sync.rs` speaks only to these traits, so a PostgreSQL
//! backend can replace the embedded SQLite one without touching it.
//!
//! The change feed is numbered (`seq`) inside the write transaction, and a backend must make
//! writers of one workspace commit in `seq` order (SQLite: one writer at a time; PostgreSQL: a
//! per-workspace advisory lock taken before the number is drawn), so that a reader can never
//! pass a number that commits later.

use fieldsales_core::doc::DocKind;

use crate::error::ApiError;

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Rep,
    Manager,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Rep => "rep",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "rep" => Some(Role::Rep),
            "manager" => Some(Role::Manager),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Who is calling: resolved from a device token on every request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub device_id: String,
    pub user_id: String,
    pub workspace_id: String,
    pub role: Role,
    pub team_id: Option<String>,
    /// Hex actor id bound to the device at enrollment.
    pub actor: String,
}

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
    /// [`crate::sync::EVERYONE`]) are left out; `None` keeps every owner. Owner events are always
    /// kept: who gains and who loses a record is decided from both owners. (A user who gains a
    /// record gets it whole from the owner event, so its earlier changes are not needed.)
    pub owners: Option<Vec<String>>,
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
    fn activities_of(&mut self, lead_id: &str) -> Result<Vec<(String, DocRow)>>;
    fn user_exists(&mut self, user_id: &str) -> Result<bool>;
    fn team_members(&mut self, team_id: &str) -> Result<Vec<String>>;
    /// The ids of the teams a manager manages.
    fn managed_teams(&mut self, user_id: &str) -> Result<Vec<String>>;
    /// The id of a team named by its id or its name, in this workspace.
    fn team_id(&mut self, id_or_name: &str) -> Result<Option<String>>;
    /// Up to `limit` feed entries after `seq` that `filter` lets through, in `seq` order.
    fn feed_after(&mut self, seq: i64, limit: u32, filter: &FeedFilter) -> Result<Vec<FeedEntry>>;
    fn feed_len_after(&mut self, seq: i64) -> Result<u64>;
    /// What identifies the feed row numbered `seq` in this workspace (its change hash, or for an
    /// owner event its document and owners); `None` if there is none.
    fn feed_row_key(&mut self, seq: i64) -> Result<Option<String>>;
    fn max_seq(&mut self) -> Result<i64>;
    /// Documents ordered by id, for bootstrap snapshots.
    /// Only documents whose owner is one of `owners` (or everyone's); `None` for all.
    fn docs_after(
        &mut self,
        after_id: &str,
        limit: u32,
        owners: Option<&[String]>,
    ) -> Result<Vec<(String, DocRow)>>;
    fn docs_len_after(&mut self, after_id: &str) -> Result<u64>;
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
}

pub trait Backend: Send + Sync + 'static {
    /// Runs `f` in one write transaction for `workspace`; an error rolls it back.
    fn write<R>(&self, workspace: &str, f: impl FnOnce(&mut dyn DocTx) -> Result<R>) -> Result<R>;
    /// Runs `f` on one consistent snapshot of `workspace`.
    fn read<R>(&self, workspace: &str, f: impl FnOnce(&mut dyn DocTx) -> Result<R>) -> Result<R>;
    fn authenticate(&self, token_hash: &str) -> Result<Option<Principal>>;
    /// Consumes a one-time enrollment code and registers a device with its token hash and actor.
    fn enroll(
        &self,
        code_hash: &str,
        device_name: &str,
        actor: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<Enrolled>;
}
