//! The embedded default backend: one SQLite file in the data directory. One writer connection
//! (SQLite allows one writer at a time, which also keeps `seq` in commit order) and a few
//! readers, so pulls never wait for pushes. Admin commands open the same file, also while the
//! server runs (WAL, busy timeout).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use fieldsales_core::doc::DocKind;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::authz::EVERYONE;
use crate::backend::*;
use crate::hub::{Hub, MovedLog};

impl From<rusqlite::Error> for BackendError {
    fn from(e: rusqlite::Error) -> Self {
        BackendError::Storage(e.to_string())
    }
}

/// Failed enrollment attempts an address may make within [`ENROLL_WINDOW_MS`] before it is
/// locked out for [`LOCKOUT_MS`].
pub const MAX_ENROLL_FAILURES: u32 = 10;
pub const ENROLL_WINDOW_MS: i64 = 15 * 60 * 1000;
pub const LOCKOUT_MS: i64 = 15 * 60 * 1000;

const SCHEMA: &[&str] = &[
    r#"
CREATE TABLE workspaces (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE teams (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name         TEXT NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE TABLE users (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id           TEXT NOT NULL,
    role         TEXT NOT NULL,
    team_id      TEXT REFERENCES teams (id),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX users_by_team ON users (team_id);
CREATE TABLE enrollments (
    code_hash    TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
);
CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    actor_id     TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE TABLE documents (
    workspace_id TEXT NOT NULL,
    id           TEXT NOT NULL,
    kind         INTEGER NOT NULL,
    owner        TEXT NOT NULL,
    lead_id      TEXT,
    data         BLOB NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX documents_by_lead ON documents (workspace_id, lead_id) WHERE lead_id IS NOT NULL;
-- The change feed: every stored change, and every change of a lead's owner, numbered in
-- commit order. Pulls read it from a cursor.
CREATE TABLE feed (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    doc_id       TEXT NOT NULL,
    kind         INTEGER NOT NULL,
    hash         TEXT,
    actor        TEXT,
    data         BLOB,
    old_owner    TEXT,
    new_owner    TEXT
);
CREATE UNIQUE INDEX feed_by_hash ON feed (workspace_id, hash) WHERE hash IS NOT NULL;
CREATE INDEX feed_by_workspace ON feed (workspace_id, seq);
"#,
    r#"
-- v2: the owner a change was written under, so that a pull reads only the rows its user may
-- see through an index instead of every row since its cursor (which made 50 devices pulling
-- cost 50 x 50 row visits). Owner events are everyone's ('*'): who gains and who loses a
-- record is decided from both owners. Rows written before this are given today's owner.
ALTER TABLE feed ADD COLUMN owner TEXT;
UPDATE feed SET owner = CASE
    WHEN hash IS NULL THEN '*'
    ELSE coalesce((SELECT d.owner FROM documents d WHERE d.workspace_id = feed.workspace_id AND d.id = feed.doc_id), '*')
END;
CREATE INDEX feed_by_owner ON feed (workspace_id, owner, seq);
"#,
    r#"
-- v3: a manager may manage several teams. Until now a manager managed the team they belong
-- to; that team is their first managed one.
CREATE TABLE team_managers (
    workspace_id TEXT NOT NULL,
    team_id      TEXT NOT NULL REFERENCES teams (id),
    user_id      TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id, team_id)
);
INSERT INTO team_managers (workspace_id, team_id, user_id)
    SELECT workspace_id, team_id, id FROM users WHERE role = 'manager' AND team_id IS NOT NULL;
"#,
    r#"
-- v4: failed enrollment attempts by client address, so that guessing codes is locked out
-- after a few tries, visibly to an admin (`admin lockouts`).
CREATE TABLE enroll_failures (
    address      TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    first_at     INTEGER NOT NULL,
    last_at      INTEGER NOT NULL,
    locked_until INTEGER
);
"#,
    r#"
-- v5: a document's changes of hands by feed number (`DocTx::owner_after`): the owner a lead
-- had when a device last pulled decides on an activity it logged offline (issue 14).
CREATE INDEX feed_owner_events ON feed (workspace_id, doc_id, seq) WHERE hash IS NULL;
"#,
];

pub struct SqliteBackend {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    hub: std::sync::Arc<Hub>,
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let c = Connection::open(path)?;
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a push is answered "accepted" after its commit, and the device then deletes those
    // changes from its outbox, so the commit must survive a power cut, not only a crash of
    // this process (NORMAL in WAL mode may lose the last commits then). Group commit spreads
    // the fsync over every push waiting for the writer.
    c.pragma_update(None, "synchronous", "FULL")?;
    c.pragma_update(None, "foreign_keys", "ON")?;
    // Bundled SQLite is built with STAT4, which re-prepares a statement whenever a bound value
    // might change its plan, i.e. on nearly every step here: 8% of the server's CPU in the
    // profile. One stable plan per statement is what this schema wants anyway.
    c.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // SQLite's defaults stay for the page cache and no mmap: readers in WAL mode drop their
    // cache whenever a write came in between anyway; a larger cache made every commit walk a
    // larger hash table, and with mmap every read after a write unmapped the grown file (both
    // seen in profiles). Checkpoints every 4,000 pages instead of 1,000 copy a page that many
    // pushes rewrote once instead of four times.
    c.pragma_update(None, "wal_autocheckpoint", 4_000)?;
    Ok(c)
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SqliteBackend {
    /// Opens (creating if needed) `DIR/fieldsales-server.db`.
    pub fn open(dir: &Path) -> anyhow::Result<SqliteBackend> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("fieldsales-server.db");
        let mut writer = open(&path)?;
        let version: i64 = writer.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let version = version.max(0) as usize;
        if version > SCHEMA.len() {
            anyhow::bail!("{} was written by a newer server (schema {version})", path.display());
        }
        for (i, script) in SCHEMA.iter().enumerate().skip(version) {
            let tx = writer.transaction()?;
            tx.execute_batch(script)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        let readers =
            (0..4).map(|_| open(&path).map(Mutex::new)).collect::<rusqlite::Result<_>>()?;
        Ok(SqliteBackend { path, writer: Mutex::new(writer), readers, hub: Hub::new() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        for r in &self.readers {
            if let Ok(g) = r.try_lock() {
                return g;
            }
        }
        lock(&self.readers[0])
    }

    pub(crate) fn admin<R>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> anyhow::Result<R>,
    ) -> anyhow::Result<R> {
        let mut c = lock(&self.writer);
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let r = f(&tx)?;
        tx.commit()?;
        Ok(r)
    }
}

/// Reads feed rows into `out` up to `limit` rows and `max_bytes` of change bytes (at least one
/// row); true if more rows may follow.
fn read_feed(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
    limit: usize,
    max_bytes: usize,
    out: &mut Vec<FeedEntry>,
) -> Result<bool> {
    let (mut n, mut bytes) = (0usize, 0usize);
    let rows = stmt.query_map(params, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<Vec<u8>>>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, Option<String>>(8)?,
        ))
    })?;
    for r in rows {
        if n >= limit || (bytes >= max_bytes && n > 0) {
            return Ok(true);
        }
        let (seq, doc_id, kind, hash, actor, data, old_owner, new_owner, owner) = r?;
        n += 1;
        bytes += data.as_ref().map_or(0, Vec::len);
        out.push(match (hash, data) {
            (Some(_), Some(data)) => FeedEntry::Change {
                seq,
                doc_id,
                kind: kind_of(kind)?,
                owner: owner.unwrap_or_default(),
                actor: actor.unwrap_or_default(),
                data,
            },
            _ => FeedEntry::Owner {
                seq,
                doc_id,
                old_owner: old_owner.unwrap_or_default(),
                new_owner: new_owner.unwrap_or_default(),
            },
        });
    }
    Ok(n >= limit)
}

fn owners_json(owners: Option<&[String]>) -> Result<Option<String>> {
    owners
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| BackendError::Storage(format!("owner filter: {e}")))
}

struct SqlTx<'a> {
    tx: &'a Connection,
    ws: &'a str,
    /// What a write transaction appended, for live updates.
    moved: Option<&'a mut MovedLog>,
}

fn kind_of(k: i64) -> Result<DocKind> {
    DocKind::from_i64(k)
        .ok_or_else(|| BackendError::Storage(format!("unknown document kind {k} in storage")))
}

fn rows_to_docs(
    rows: impl Iterator<Item = rusqlite::Result<(String, i64, String, Option<String>, Vec<u8>)>>,
    limit: usize,
    max_bytes: usize,
) -> Result<Page<(String, DocRow)>> {
    let mut page = Page::default();
    let mut bytes = 0usize;
    for r in rows {
        if page.rows.len() >= limit || (bytes >= max_bytes && !page.rows.is_empty()) {
            page.full = true;
            break;
        }
        let (id, k, o, l, d) = r?;
        bytes += d.len();
        page.rows.push((id, row_to_doc(k, o, l, d)?));
    }
    Ok(page)
}

fn row_to_doc(kind: i64, owner: String, lead_id: Option<String>, data: Vec<u8>) -> Result<DocRow> {
    Ok(DocRow { kind: kind_of(kind)?, owner, lead_id, data })
}

impl DocTx for SqlTx<'_> {
    fn doc(&mut self, id: &str) -> Result<Option<DocRow>> {
        let r: Option<(i64, String, Option<String>, Vec<u8>)> = self
            .tx
            .prepare_cached("SELECT kind, owner, lead_id, data FROM documents WHERE workspace_id = ?1 AND id = ?2")?
            .query_row(params![self.ws, id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        r.map(|(k, o, l, d)| row_to_doc(k, o, l, d)).transpose()
    }

    fn has_change(&mut self, hash: &str) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM feed WHERE workspace_id = ?1 AND hash = ?2")?
            .exists(params![self.ws, hash])?)
    }

    fn put_doc(&mut self, id: &str, row: &DocRow) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO documents (workspace_id, id, kind, owner, lead_id, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (workspace_id, id) DO UPDATE SET owner = excluded.owner, lead_id = excluded.lead_id, data = excluded.data",
            )?
            .execute(params![self.ws, id, row.kind as i64, row.owner, row.lead_id, row.data])?;
        Ok(())
    }

    fn append_change(
        &mut self,
        doc_id: &str,
        kind: DocKind,
        owner: &str,
        hash: &str,
        actor: &str,
        data: &[u8],
    ) -> Result<()> {
        self.tx
            .prepare_cached("INSERT INTO feed (workspace_id, doc_id, kind, owner, hash, actor, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?
            .execute(params![self.ws, doc_id, kind as i64, owner, hash, actor, data])?;
        if let Some(m) = self.moved.as_deref_mut() {
            m.change(owner, actor);
        }
        Ok(())
    }

    fn append_owner_event(
        &mut self,
        lead_id: &str,
        old_owner: &str,
        new_owner: &str,
    ) -> Result<()> {
        self.tx
            .prepare_cached("INSERT INTO feed (workspace_id, doc_id, kind, owner, old_owner, new_owner) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
            .execute(params![self.ws, lead_id, DocKind::Lead as i64, EVERYONE, old_owner, new_owner])?;
        if let Some(m) = self.moved.as_deref_mut() {
            m.handover(old_owner, new_owner);
        }
        Ok(())
    }

    fn set_activities_owner(&mut self, lead_id: &str, owner: &str) -> Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE documents SET owner = ?3 WHERE workspace_id = ?1 AND lead_id = ?2",
            )?
            .execute(params![self.ws, lead_id, owner])?;
        Ok(())
    }

    fn doc_owner(&mut self, id: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .prepare_cached("SELECT owner FROM documents WHERE workspace_id = ?1 AND id = ?2")?
            .query_row(params![self.ws, id], |r| r.get(0))
            .optional()?)
    }

    fn activities_of(
        &mut self,
        lead_id: &str,
        after_id: &str,
        max_bytes: usize,
    ) -> Result<Page<(String, DocRow)>> {
        let mut stmt = self.tx.prepare_cached("SELECT id, kind, owner, lead_id, data FROM documents WHERE workspace_id = ?1 AND lead_id = ?2 AND id > ?3 ORDER BY id")?;
        let rows = stmt.query_map(params![self.ws, lead_id, after_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        rows_to_docs(rows, usize::MAX, max_bytes)
    }

    fn activity_ids_of(&mut self, lead_id: &str) -> Result<Vec<String>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id FROM documents WHERE workspace_id = ?1 AND lead_id = ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![self.ws, lead_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn doc_changes(&mut self, doc_id: &str) -> Result<Vec<Vec<u8>>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT data FROM feed WHERE workspace_id = ?1 AND doc_id = ?2 AND hash IS NOT NULL ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![self.ws, doc_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn user_exists(&mut self, user_id: &str) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM users WHERE workspace_id = ?1 AND id = ?2")?
            .exists(params![self.ws, user_id])?)
    }

    fn team_id(&mut self, id_or_name: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .prepare_cached("SELECT id FROM teams WHERE workspace_id = ?1 AND (id = ?2 OR name = ?2) ORDER BY id = ?2 DESC LIMIT 1")?
            .query_row(params![self.ws, id_or_name], |r| r.get(0))
            .optional()?)
    }

    fn managed_teams(&mut self, user_id: &str) -> Result<Vec<String>> {
        let mut stmt = self.tx.prepare_cached("SELECT team_id FROM team_managers WHERE workspace_id = ?1 AND user_id = ?2 ORDER BY team_id")?;
        let rows = stmt.query_map(params![self.ws, user_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn team_members(&mut self, team_id: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT id FROM users WHERE workspace_id = ?1 AND team_id = ?2")?;
        let rows = stmt.query_map(params![self.ws, team_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// With an owner filter, one index range per owner (each in `seq` order, up to the limit
    /// and the byte budget), merged: a rep's pull reads their rows only, however busy the rest
    /// of the workspace is. The merge is complete up to the lowest last row of the ranges that
    /// were cut: every range holds all its rows up to there.
    fn feed_after(
        &mut self,
        seq: i64,
        limit: u32,
        max_bytes: usize,
        filter: &FeedFilter,
    ) -> Result<Page<FeedEntry>> {
        const COLUMNS: &str = "seq, doc_id, kind, hash, actor, data, old_owner, new_owner, owner";
        let mut out = Vec::new();
        let n = limit as usize;
        match &filter.owners {
            None => {
                let mut stmt = self.tx.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM feed WHERE workspace_id = ?1 AND seq > ?2 AND actor IS NOT ?4 ORDER BY seq LIMIT ?3"
                ))?;
                let full = read_feed(
                    &mut stmt,
                    params![self.ws, seq, limit, filter.skip_actor],
                    n,
                    max_bytes,
                    &mut out,
                )?;
                Ok(Page { rows: out, full })
            }
            Some(owners) => {
                let mut stmt = self.tx.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM feed WHERE workspace_id = ?1 AND owner = ?5 AND seq > ?2 AND actor IS NOT ?4 ORDER BY seq LIMIT ?3"
                ))?;
                let everyone = EVERYONE.to_string();
                let mut seen: Vec<&String> = Vec::new();
                let mut complete_to = i64::MAX;
                for owner in owners.iter().chain([&everyone]) {
                    if seen.contains(&owner) {
                        continue;
                    }
                    seen.push(owner);
                    let mut range = Vec::new();
                    let cut = read_feed(
                        &mut stmt,
                        params![self.ws, seq, limit, filter.skip_actor, owner],
                        n,
                        max_bytes,
                        &mut range,
                    )?;
                    if cut {
                        complete_to = complete_to.min(range.last().map_or(seq, FeedEntry::seq));
                    }
                    out.extend(range);
                }
                out.sort_by_key(FeedEntry::seq);
                let mut full = complete_to != i64::MAX;
                out.retain(|e| e.seq() <= complete_to);
                let mut bytes = 0usize;
                let mut keep = 0usize;
                for e in &out {
                    if keep >= n || (bytes >= max_bytes && keep > 0) {
                        full = true;
                        break;
                    }
                    bytes += e.len();
                    keep += 1;
                }
                out.truncate(keep);
                Ok(Page { rows: out, full })
            }
        }
    }

    fn feed_len_after(&mut self, seq: i64, filter: &FeedFilter) -> Result<u64> {
        let owners = owners_json(filter.owners.as_deref())?;
        let n: i64 = self
            .tx
            .prepare_cached(
                "SELECT count(*) FROM feed WHERE workspace_id = ?1 AND seq > ?2 AND actor IS NOT ?3
                 AND (?4 IS NULL
                      OR (hash IS NOT NULL AND (owner = ?5 OR owner IN (SELECT value FROM json_each(?4))))
                      OR (hash IS NULL AND (old_owner IN (SELECT value FROM json_each(?4)) OR new_owner IN (SELECT value FROM json_each(?4)))))",
            )?
            .query_row(params![self.ws, seq, filter.skip_actor, owners, EVERYONE], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    fn feed_row_key(&mut self, seq: i64) -> Result<Option<String>> {
        Ok(self
            .tx
            .prepare_cached("SELECT coalesce(hash, 'owner:' || doc_id || ':' || coalesce(old_owner, '') || ':' || coalesce(new_owner, '')) FROM feed WHERE seq = ?2 AND workspace_id = ?1")?
            .query_row(params![self.ws, seq], |r| r.get(0))
            .optional()?)
    }

    fn owner_after(&mut self, doc_id: &str, seq: i64) -> Result<Option<String>> {
        Ok(self
            .tx
            .prepare_cached("SELECT old_owner FROM feed WHERE workspace_id = ?1 AND doc_id = ?2 AND hash IS NULL AND seq > ?3 ORDER BY seq LIMIT 1")?
            .query_row(params![self.ws, doc_id, seq], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    fn max_seq(&mut self) -> Result<i64> {
        Ok(self
            .tx
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM feed WHERE workspace_id = ?1")?
            .query_row([self.ws], |r| r.get(0))?)
    }

    fn docs_after(
        &mut self,
        after_id: &str,
        limit: u32,
        max_bytes: usize,
        owners: Option<&[String]>,
    ) -> Result<Page<(String, DocRow)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, kind, owner, lead_id, data FROM documents
             WHERE workspace_id = ?1 AND id > ?2 AND (?4 IS NULL OR owner = ?5 OR owner IN (SELECT value FROM json_each(?4)))
             ORDER BY id LIMIT ?3",
        )?;
        let owners = owners_json(owners)?;
        let rows = stmt.query_map(params![self.ws, after_id, limit, owners, EVERYONE], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        let mut page = rows_to_docs(rows, limit as usize, max_bytes)?;
        page.full |= page.rows.len() >= limit as usize;
        Ok(page)
    }

    fn docs_len_after(&mut self, after_id: &str, owners: Option<&[String]>) -> Result<u64> {
        let owners = owners_json(owners)?;
        let n: i64 = self
            .tx
            .prepare_cached(
                "SELECT count(*) FROM documents WHERE workspace_id = ?1 AND id > ?2
                 AND (?3 IS NULL OR owner = ?4 OR owner IN (SELECT value FROM json_each(?3)))",
            )?
            .query_row(params![self.ws, after_id, owners, EVERYONE], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    fn savepoint(&mut self) -> Result<()> {
        if let Some(m) = self.moved.as_deref_mut() {
            m.savepoint();
        }
        Ok(self.tx.execute_batch("SAVEPOINT request")?)
    }

    fn release_savepoint(&mut self) -> Result<()> {
        if let Some(m) = self.moved.as_deref_mut() {
            m.release();
        }
        Ok(self.tx.execute_batch("RELEASE request")?)
    }

    fn rollback_to_savepoint(&mut self) -> Result<()> {
        if let Some(m) = self.moved.as_deref_mut() {
            m.rollback();
        }
        Ok(self.tx.execute_batch("ROLLBACK TO request; RELEASE request")?)
    }
}

impl Backend for SqliteBackend {
    fn write<R, E: From<BackendError>>(
        &self,
        workspace: &str,
        f: impl FnOnce(&mut dyn DocTx) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut c = lock(&self.writer);
        let tx = c
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(BackendError::from)?;
        let mut moved = MovedLog::default();
        let r = f(&mut SqlTx { tx: &tx, ws: workspace, moved: Some(&mut moved) })?;
        tx.commit().map_err(BackendError::from)?;
        self.hub.publish(workspace, &moved.into_moved());
        Ok(r)
    }

    fn read<R, E: From<BackendError>>(
        &self,
        workspace: &str,
        f: impl FnOnce(&mut dyn DocTx) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut c = self.reader();
        let tx = c
            .transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)
            .map_err(BackendError::from)?;
        let r = f(&mut SqlTx { tx: &tx, ws: workspace, moved: None })?;
        tx.commit().map_err(BackendError::from)?;
        Ok(r)
    }

    fn authenticate(&self, token_hash: &str) -> Result<Option<Principal>> {
        let c = self.reader();
        let r = c
            .prepare_cached(
                "SELECT d.id, d.user_id, d.workspace_id, u.role, u.team_id, d.actor_id FROM devices d
                 JOIN users u ON u.workspace_id = d.workspace_id AND u.id = d.user_id
                 WHERE d.token_hash = ?1 AND d.revoked_at IS NULL",
            )?
            .query_row([token_hash], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?, r.get(4)?, r.get(5)?)))
            .optional()?;
        Ok(r.and_then(|(device_id, user_id, workspace_id, role, team_id, actor)| {
            Some(Principal {
                device_id,
                user_id,
                workspace_id,
                role: Role::parse(&role)?,
                team_id,
                actor,
            })
        }))
    }

    fn enroll(&self, e: &Enrollment<'_>) -> Result<Enrolled> {
        let mut c = lock(&self.writer);
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // An address locked out is refused before its code is looked at: guessing gets no
        // answer either way.
        let locked: Option<i64> = tx
            .prepare_cached("SELECT locked_until FROM enroll_failures WHERE address = ?1")?
            .query_row([e.address], |r| r.get(0))
            .optional()?
            .flatten();
        if let Some(until) = locked.filter(|u| *u > e.now) {
            return Err(BackendError::LockedOut {
                retry_after_s: ((until - e.now) as u64).div_ceil(1000),
            });
        }
        let row: Option<(String, String, i64, Option<i64>)> = tx
            .prepare_cached("SELECT workspace_id, user_id, expires_at, used_at FROM enrollments WHERE code_hash = ?1")?
            .query_row([e.code_hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let valid =
            row.filter(|(_, _, expires_at, used_at)| used_at.is_none() && *expires_at >= e.now);
        let Some((workspace_id, user_id, _, _)) = valid else {
            record_failure(&tx, e.address, e.now)?;
            tx.commit()?;
            return Err(BackendError::InvalidCode);
        };
        // Refused before the code is used up: the right person can still use it.
        if let Some(store_user) = e.user_id.filter(|u| *u != user_id) {
            return Err(BackendError::WrongUser {
                code_user: user_id,
                store_user: store_user.into(),
            });
        }
        let bound: Option<(String, String, String)> = tx
            .prepare_cached("SELECT id, workspace_id, user_id FROM devices WHERE actor_id = ?1")?
            .query_row([e.actor], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let role: String = tx.query_row(
            "SELECT role FROM users WHERE workspace_id = ?1 AND id = ?2",
            params![workspace_id, user_id],
            |r| r.get(0),
        )?;
        let (device_id, reenrolled) = match bound {
            // The same user's store again: that device, with a new token (see `Backend::enroll`).
            Some((id, ws, u)) if ws == workspace_id && u == user_id => {
                tx.execute(
                    "UPDATE devices SET token_hash = ?2, name = ?3, revoked_at = NULL WHERE id = ?1",
                    params![id, e.token_hash, e.device_name],
                )?;
                (id, true)
            }
            Some(_) => return Err(BackendError::ActorTaken),
            None => {
                let id = uuid::Uuid::now_v7().to_string();
                tx.execute(
                    "INSERT INTO devices (id, workspace_id, user_id, name, token_hash, actor_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![id, workspace_id, user_id, e.device_name, e.token_hash, e.actor, e.now],
                )?;
                (id, false)
            }
        };
        tx.execute(
            "UPDATE enrollments SET used_at = ?2 WHERE code_hash = ?1",
            params![e.code_hash, e.now],
        )?;
        tx.commit()?;
        Ok(Enrolled {
            device_id,
            user_id,
            workspace_id,
            role: Role::parse(&role).unwrap_or(Role::Rep),
            reenrolled,
        })
    }

    fn hub(&self) -> &std::sync::Arc<Hub> {
        &self.hub
    }

    fn revoked(&self, device_ids: &[String]) -> Result<Vec<String>> {
        let ids = serde_json::to_string(device_ids)
            .map_err(|e| BackendError::Storage(format!("device ids: {e}")))?;
        let c = self.reader();
        let mut stmt = c.prepare_cached(
            "SELECT id FROM devices WHERE id IN (SELECT value FROM json_each(?1)) AND revoked_at IS NOT NULL",
        )?;
        let rows = stmt.query_map([ids], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// An address's failures, first failure and lockout after one more failure at `now`, given its
/// failures and first failure so far.
pub(crate) fn next_failure(row: Option<(u32, i64)>, now: i64) -> (u32, i64, Option<i64>) {
    let (failures, first_at) = match row {
        Some((n, first)) if now - first <= ENROLL_WINDOW_MS => (n + 1, first),
        _ => (1, now),
    };
    (failures, first_at, (failures >= MAX_ENROLL_FAILURES).then_some(now + LOCKOUT_MS))
}

/// Counts a failed enrollment of `address`: failures within [`ENROLL_WINDOW_MS`] of the first
/// add up, and the [`MAX_ENROLL_FAILURES`]th locks the address out for [`LOCKOUT_MS`].
fn record_failure(tx: &Transaction<'_>, address: &str, now: i64) -> Result<()> {
    let row: Option<(u32, i64)> = tx
        .prepare_cached("SELECT failures, first_at FROM enroll_failures WHERE address = ?1")?
        .query_row([address], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (failures, first_at, locked_until) = next_failure(row, now);
    tx.prepare_cached(
        "INSERT INTO enroll_failures (address, failures, first_at, last_at, locked_until) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (address) DO UPDATE SET failures = excluded.failures, first_at = excluded.first_at,
             last_at = excluded.last_at, locked_until = coalesce(excluded.locked_until, enroll_failures.locked_until)",
    )?
    .execute(params![address, failures, first_at, now, locked_until])?;
    if failures >= MAX_ENROLL_FAILURES {
        tracing::warn!(address, failures, "enrollment locked out after repeated invalid codes");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::AdminStore;

    fn change(owners: Option<Vec<String>>) -> FeedFilter {
        FeedFilter { skip_actor: "me".into(), owners }
    }

    /// A v1 database (feed rows without their owner) opens upgraded: each change gets its
    /// document's owner, each owner event everyone's, and pulls filter on them.
    #[test]
    fn a_v1_database_is_upgraded_and_its_feed_filtered_by_owner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fieldsales-server.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(SCHEMA[0]).unwrap();
            c.pragma_update(None, "user_version", 1).unwrap();
            c.execute_batch(
                "INSERT INTO documents (workspace_id, id, kind, owner, data) VALUES ('w', 'lead-a', 1, 'ann', x'00'), ('w', 'lead-b', 1, 'bob', x'00');
                 INSERT INTO feed (workspace_id, doc_id, kind, hash, actor, data) VALUES ('w', 'lead-a', 1, 'h1', 'a1', x'01');
                 INSERT INTO feed (workspace_id, doc_id, kind, hash, actor, data) VALUES ('w', 'lead-b', 1, 'h2', 'b1', x'02');
                 INSERT INTO feed (workspace_id, doc_id, kind, old_owner, new_owner) VALUES ('w', 'lead-b', 1, 'bob', 'ann');
                 INSERT INTO feed (workspace_id, doc_id, kind, hash, actor, data) VALUES ('w', 'lead-a', 1, 'h3', 'me', x'03');",
            )
            .unwrap();
        }
        let b = SqliteBackend::open(dir.path()).unwrap();
        let owners: Vec<(i64, String)> = {
            let c = lock(&b.writer);
            let mut st = c.prepare("SELECT seq, owner FROM feed ORDER BY seq").unwrap();
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
        };
        assert_eq!(
            owners,
            vec![(1, "ann".into()), (2, "bob".into()), (3, "*".into()), (4, "ann".into())]
        );
        let seqs = |filter: FeedFilter, after: i64, limit: u32| -> Vec<i64> {
            b.read("w", |tx| -> Result<Vec<i64>> {
                Ok(tx
                    .feed_after(after, limit, usize::MAX, &filter)?
                    .rows
                    .iter()
                    .map(FeedEntry::seq)
                    .collect())
            })
            .unwrap()
        };
        // Ann: her change and the owner event, not Bob's change nor her own device's.
        assert_eq!(seqs(change(Some(vec!["ann".into()])), 0, 10), vec![1, 3]);
        assert_eq!(seqs(change(Some(vec!["ann".into(), "bob".into()])), 0, 10), vec![1, 2, 3]);
        assert_eq!(
            seqs(change(Some(vec!["ann".into(), "bob".into()])), 1, 2),
            vec![2, 3],
            "merged in seq order, cut at the limit"
        );
        assert_eq!(seqs(change(None), 0, 10), vec![1, 2, 3]);
        // New rows carry their owner from the start.
        b.write("w", |tx| tx.append_change("lead-b", DocKind::Lead, "ann", "h4", "b1", b"x"))
            .unwrap();
        assert_eq!(seqs(change(Some(vec!["ann".into()])), 3, 10), vec![5]);
        assert_eq!(seqs(change(Some(vec!["bob".into()])), 3, 10), Vec::<i64>::new());
    }

    /// A v2 database's managers keep managing the team they belong to, as their first managed
    /// team; reps manage nothing.
    #[test]
    fn a_v2_database_is_upgraded_and_its_managers_keep_their_team() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fieldsales-server.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(SCHEMA[0]).unwrap();
            c.execute_batch(SCHEMA[1]).unwrap();
            c.pragma_update(None, "user_version", 2).unwrap();
            c.execute_batch(
                "INSERT INTO workspaces VALUES ('w', 'acme', 0);
                 INSERT INTO teams VALUES ('t1', 'w', 'seoul'), ('t2', 'w', 'busan');
                 INSERT INTO users VALUES ('w', 'park', 'manager', 't1', 0), ('w', 'kim', 'rep', 't1', 0), ('w', 'lee', 'rep', 't2', 0);",
            )
            .unwrap();
        }
        let b = SqliteBackend::open(dir.path()).unwrap();
        let v: i64 =
            lock(&b.writer).pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v as usize, SCHEMA.len());
        assert_eq!(b.read("w", |tx| tx.managed_teams("park")).unwrap(), vec!["t1".to_string()]);
        assert!(b.read("w", |tx| tx.managed_teams("kim")).unwrap().is_empty());
        b.manage_team("acme", "busan", "park").unwrap();
        assert_eq!(
            b.read("w", |tx| tx.managed_teams("park")).unwrap(),
            vec!["t1".to_string(), "t2".to_string()]
        );
    }
}
