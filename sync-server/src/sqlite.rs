//! The embedded default backend: one SQLite file in the data directory. One writer connection
//! (SQLite allows one writer at a time, which also keeps `seq` in commit order) and a few
//! readers, so pulls never wait for pushes. Admin commands open the same file, also while the
//! server runs (WAL, busy timeout).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use fieldsales_core::doc::DocKind;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::backend::*;
use crate::error::ApiError;

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
];

pub struct SqliteBackend {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
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
        Ok(SqliteBackend { path, writer: Mutex::new(writer), readers })
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

fn read_feed(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
    out: &mut Vec<FeedEntry>,
) -> Result<()> {
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
        let (seq, doc_id, kind, hash, actor, data, old_owner, new_owner, owner) = r?;
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
    Ok(())
}

struct SqlTx<'a> {
    tx: &'a Connection,
    ws: &'a str,
}

fn kind_of(k: i64) -> Result<DocKind> {
    DocKind::from_i64(k)
        .ok_or_else(|| ApiError::internal(format!("unknown document kind {k} in storage")))
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
            .execute(params![self.ws, lead_id, DocKind::Lead as i64, crate::sync::EVERYONE, old_owner, new_owner])?;
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

    fn activities_of(&mut self, lead_id: &str) -> Result<Vec<(String, DocRow)>> {
        let mut stmt = self.tx.prepare_cached("SELECT id, kind, owner, lead_id, data FROM documents WHERE workspace_id = ?1 AND lead_id = ?2 ORDER BY id")?;
        let rows = stmt.query_map(params![self.ws, lead_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        let mut out = Vec::new();
        for r in rows {
            let (id, k, o, l, d) = r?;
            out.push((id, row_to_doc(k, o, l, d)?));
        }
        Ok(out)
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

    /// With an owner filter, one index range per owner (each in `seq` order, at most `limit`
    /// rows), merged: a rep's pull reads their rows only, however busy the rest of the
    /// workspace is. The first `limit` of the merge are complete up to the last one: an owner
    /// with more rows than that has `limit` of them at or below it already.
    fn feed_after(&mut self, seq: i64, limit: u32, filter: &FeedFilter) -> Result<Vec<FeedEntry>> {
        const COLUMNS: &str = "seq, doc_id, kind, hash, actor, data, old_owner, new_owner, owner";
        let mut out = Vec::new();
        match &filter.owners {
            None => {
                let mut stmt = self.tx.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM feed WHERE workspace_id = ?1 AND seq > ?2 AND actor IS NOT ?4 ORDER BY seq LIMIT ?3"
                ))?;
                read_feed(&mut stmt, params![self.ws, seq, limit, filter.skip_actor], &mut out)?;
            }
            Some(owners) => {
                let mut stmt = self.tx.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM feed WHERE workspace_id = ?1 AND owner = ?5 AND seq > ?2 AND actor IS NOT ?4 ORDER BY seq LIMIT ?3"
                ))?;
                let everyone = crate::sync::EVERYONE.to_string();
                let mut seen: Vec<&String> = Vec::new();
                for owner in owners.iter().chain([&everyone]) {
                    if seen.contains(&owner) {
                        continue;
                    }
                    seen.push(owner);
                    read_feed(
                        &mut stmt,
                        params![self.ws, seq, limit, filter.skip_actor, owner],
                        &mut out,
                    )?;
                }
                out.sort_by_key(FeedEntry::seq);
                out.truncate(limit as usize);
            }
        }
        Ok(out)
    }

    fn feed_len_after(&mut self, seq: i64) -> Result<u64> {
        let n: i64 = self
            .tx
            .prepare_cached("SELECT count(*) FROM feed WHERE workspace_id = ?1 AND seq > ?2")?
            .query_row(params![self.ws, seq], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    fn feed_row_key(&mut self, seq: i64) -> Result<Option<String>> {
        Ok(self
            .tx
            .prepare_cached("SELECT coalesce(hash, 'owner:' || doc_id || ':' || coalesce(old_owner, '') || ':' || coalesce(new_owner, '')) FROM feed WHERE seq = ?2 AND workspace_id = ?1")?
            .query_row(params![self.ws, seq], |r| r.get(0))
            .optional()?)
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
        owners: Option<&[String]>,
    ) -> Result<Vec<(String, DocRow)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, kind, owner, lead_id, data FROM documents
             WHERE workspace_id = ?1 AND id > ?2 AND (?4 IS NULL OR owner = ?5 OR owner IN (SELECT value FROM json_each(?4)))
             ORDER BY id LIMIT ?3",
        )?;
        let owners = owners
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| ApiError::internal(format!("owner filter: {e}")))?;
        let rows = stmt
            .query_map(params![self.ws, after_id, limit, owners, crate::sync::EVERYONE], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
        let mut out = Vec::new();
        for r in rows {
            let (id, k, o, l, d) = r?;
            out.push((id, row_to_doc(k, o, l, d)?));
        }
        Ok(out)
    }

    fn docs_len_after(&mut self, after_id: &str) -> Result<u64> {
        let n: i64 = self
            .tx
            .prepare_cached("SELECT count(*) FROM documents WHERE workspace_id = ?1 AND id > ?2")?
            .query_row(params![self.ws, after_id], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    fn savepoint(&mut self) -> Result<()> {
        Ok(self.tx.execute_batch("SAVEPOINT request")?)
    }

    fn release_savepoint(&mut self) -> Result<()> {
        Ok(self.tx.execute_batch("RELEASE request")?)
    }

    fn rollback_to_savepoint(&mut self) -> Result<()> {
        Ok(self.tx.execute_batch("ROLLBACK TO request; RELEASE request")?)
    }
}

impl Backend for SqliteBackend {
    fn write<R>(&self, workspace: &str, f: impl FnOnce(&mut dyn DocTx) -> Result<R>) -> Result<R> {
        let mut c = lock(&self.writer);
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let r = f(&mut SqlTx { tx: &tx, ws: workspace })?;
        tx.commit()?;
        Ok(r)
    }

    fn read<R>(&self, workspace: &str, f: impl FnOnce(&mut dyn DocTx) -> Result<R>) -> Result<R> {
        let mut c = self.reader();
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
        let r = f(&mut SqlTx { tx: &tx, ws: workspace })?;
        tx.commit()?;
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

    fn enroll(
        &self,
        code_hash: &str,
        device_name: &str,
        actor: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<Enrolled> {
        let mut c = lock(&self.writer);
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let row: Option<(String, String, i64, Option<i64>)> = tx
            .prepare_cached("SELECT workspace_id, user_id, expires_at, used_at FROM enrollments WHERE code_hash = ?1")?
            .query_row([code_hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let invalid = || {
            ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "invalid_code",
                "this enrollment code is unknown, used or expired; ask your admin for a new one",
            )
        };
        let Some((workspace_id, user_id, expires_at, used_at)) = row else { return Err(invalid()) };
        if used_at.is_some() || expires_at < now {
            return Err(invalid());
        }
        if tx.prepare_cached("SELECT 1 FROM devices WHERE actor_id = ?1")?.exists([actor])? {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "actor_taken",
                "this actor id is already bound to another device",
            ));
        }
        let role: String = tx.query_row(
            "SELECT role FROM users WHERE workspace_id = ?1 AND id = ?2",
            params![workspace_id, user_id],
            |r| r.get(0),
        )?;
        let device_id = uuid::Uuid::now_v7().to_string();
        tx.execute(
            "INSERT INTO devices (id, workspace_id, user_id, name, token_hash, actor_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![device_id, workspace_id, user_id, device_name, token_hash, actor, now],
        )?;
        tx.execute(
            "UPDATE enrollments SET used_at = ?2 WHERE code_hash = ?1",
            params![code_hash, now],
        )?;
        tx.commit()?;
        Ok(Enrolled {
            device_id,
            user_id,
            workspace_id,
            role: Role::parse(&role).unwrap_or(Role::Rep),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            b.read("w", |tx| {
                Ok(tx.feed_after(after, limit, &filter)?.iter().map(FeedEntry::seq).collect())
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
