//! The PostgreSQL backend (`serve --database postgres://…`): any number of server instances on
//! one database, none holding state another needs.
//!
//! **Feed numbers never pass a late commit.** Every write transaction of a workspace first takes
//! that workspace's advisory transaction lock (`pg_advisory_xact_lock`), held until its commit.
//! Writers of one workspace therefore run one at a time whichever instance they are on, and a
//! feed number is drawn only under the lock: number N+1 is drawn after N's transaction
//! committed. PostgreSQL makes a transaction visible to new snapshots before it releases its
//! locks, so a reader whose snapshot holds N+1 holds N too. Reads (pulls, the first step of a
//! push) run in one `REPEATABLE READ` snapshot, as SQLite's readers do. The lock also makes the
//! write transaction's reads (the stored document a push is merged into) current: whatever the
//! previous holder wrote is committed and visible when the lock is granted.
//!
//! **Sync trait, async client.** The storage traits are synchronous and run on the blocking
//! threads (`spawn_blocking`) together with the Automerge work they interleave with; each call
//! here runs its query on the runtime with `block_on` (inside `block_in_place`, so that a call
//! from a runtime thread does not stall the others). The pool (deadpool) keeps one connection
//! per request at work; statements are prepared once per connection.
//!
//! Modules: `schema` (versioned migrations), `admin` (the admin commands), `listen` (the
//! `LISTEN` side of live updates).

pub mod admin;
pub mod import;
pub mod listen;
pub mod schema;

use std::future::Future;
use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use fieldsales_core::doc::DocKind;
use fieldsales_core::fingerprint::fingerprint;
use tokio::runtime::Handle;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use crate::authz::EVERYONE;
use crate::backend::*;
use crate::hub::{Hub, MovedLog};

/// The channel every instance listens on.
pub const CHANNEL: &str = "fieldsales_feed";

/// Connections a server instance keeps at most: one per request at work (the worker bound is
/// twice the cores) plus the group-commit writer and enrollments.
pub const DEFAULT_POOL: usize = 16;

impl From<tokio_postgres::Error> for BackendError {
    fn from(e: tokio_postgres::Error) -> Self {
        BackendError::Storage(match e.as_db_error() {
            Some(db) => format!("{}: {}", db.code().code(), db.message()),
            None => e.to_string(),
        })
    }
}

impl From<deadpool_postgres::PoolError> for BackendError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        BackendError::Storage(format!("no database connection: {e}"))
    }
}

/// Runs `f` to completion from synchronous code on `rt`: on a blocking thread (where storage
/// calls run) or on a runtime thread of a multi-threaded runtime (admin calls from async code),
/// never on a current-thread runtime.
pub(crate) fn block<F: Future>(rt: &Handle, f: F) -> F::Output {
    tokio::task::block_in_place(|| rt.block_on(f))
}

pub struct PgBackend {
    pool: Pool,
    rt: Handle,
    hub: Arc<Hub>,
    url: String,
    /// The `LISTEN` task, stopped with the backend.
    listener: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for PgBackend {
    fn drop(&mut self) {
        if let Some(l) = self.listener.take() {
            l.abort();
        }
    }
}

fn pool(url: &str, size: usize) -> anyhow::Result<Pool> {
    let config: tokio_postgres::Config =
        url.parse().map_err(|e| anyhow::anyhow!("{url} is not a PostgreSQL URL: {e}"))?;
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig { recycling_method: RecyclingMethod::Fast },
    );
    Ok(Pool::builder(manager).max_size(size).runtime(deadpool_postgres::Runtime::Tokio1).build()?)
}

impl PgBackend {
    /// Connects to `url`, brings its schema up to date and starts listening for other
    /// instances' commits. Call on a multi-threaded tokio runtime, which then runs the
    /// connections.
    pub async fn connect(url: &str) -> anyhow::Result<PgBackend> {
        PgBackend::connect_with(url, DEFAULT_POOL).await
    }

    /// As [`PgBackend::connect`], with a pool of `size` connections.
    pub async fn connect_with(url: &str, size: usize) -> anyhow::Result<PgBackend> {
        let mut b = PgBackend::open_quiet(url, size).await?;
        b.listener = Some(listen::spawn(url, b.hub.clone()).await?);
        Ok(b)
    }

    /// Connected and migrated, without listening: for admin commands, which publish nothing
    /// they need to hear.
    pub async fn open_quiet(url: &str, size: usize) -> anyhow::Result<PgBackend> {
        let pool = pool(url, size)?;
        {
            let mut c = pool
                .get()
                .await
                .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
            schema::migrate(&mut c).await?;
        }
        Ok(PgBackend {
            pool,
            rt: Handle::current(),
            hub: Hub::new(),
            url: url.into(),
            listener: None,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    pub(crate) fn run<F: Future>(&self, f: F) -> F::Output {
        block(&self.rt, f)
    }

    pub(crate) fn client(&self) -> Result<Object> {
        Ok(self.run(self.pool.get())?)
    }

    /// Runs `f` in one transaction begun with `begin` on `workspace`'s data; an error rolls it
    /// back. With `announce`, what the transaction appended to the feed is sent with `NOTIFY`,
    /// delivered to every listening instance when, and only if, it commits.
    pub(crate) fn transaction<R, E: From<BackendError>>(
        &self,
        begin: &str,
        workspace: &str,
        announce: bool,
        f: impl FnOnce(&mut PgTx<'_>) -> std::result::Result<R, E>,
    ) -> std::result::Result<R, E> {
        let open = Open { conn: Some(self.client()?) };
        self.run(open.conn().batch_execute(begin)).map_err(BackendError::from)?;
        let mut moved = MovedLog::default();
        let log = announce.then_some(&mut moved);
        let mut tx = PgTx { b: self, c: open.conn(), ws: workspace, moved: log, feed: Vec::new() };
        let r = match f(&mut tx) {
            // Feed rows still held go in before the commit.
            Ok(r) => tx.flush().map(|()| r).map_err(E::from),
            Err(e) => Err(e),
        };
        drop(tx);
        let c: Object = open.finish();
        let ended = self.run(async {
            if r.is_err() {
                return c.batch_execute("ROLLBACK").await;
            }
            let moved = moved.into_moved();
            if !moved.is_empty() {
                let st = c.prepare_cached("SELECT pg_notify($1, $2)").await?;
                c.execute(&st, &[&CHANNEL, &crate::hub::payload(workspace, &moved)]).await?;
            }
            c.batch_execute("COMMIT").await
        });
        if let Err(e) = ended {
            // The connection's state is unknown: close it (PostgreSQL rolls back what is open).
            drop(Object::take(c));
            r?;
            return Err(BackendError::from(e).into());
        }
        r
    }
}

/// The advisory lock key of a workspace's writers: a 64-bit fingerprint of its id (two
/// workspaces sharing a key only wait for each other).
fn lock_key(workspace: &str) -> i64 {
    fingerprint([workspace.as_bytes()]) as i64
}

/// A transaction that did not commit (an error, a panic) leaves the pool with its connection:
/// closing it makes PostgreSQL roll it back.
struct Open {
    conn: Option<Object>,
}

impl Open {
    fn conn(&self) -> &Object {
        self.conn.as_ref().expect("taken only on drop or finish")
    }

    fn finish(mut self) -> Object {
        self.conn.take().expect("taken once")
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            drop(Object::take(c));
        }
    }
}

pub(crate) struct PgTx<'a> {
    b: &'a PgBackend,
    c: &'a Object,
    ws: &'a str,
    moved: Option<&'a mut MovedLog>,
    /// Feed rows appended and not yet sent: a transaction's rows go in with one `INSERT`
    /// (one round trip instead of one per change, under the workspace's lock), sent before
    /// anything reads the feed, at savepoints and before the commit.
    feed: Vec<FeedRow>,
}

/// A feed row waiting in [`PgTx::feed`].
struct FeedRow {
    doc_id: String,
    kind: i16,
    owner: String,
    hash: Option<String>,
    actor: Option<String>,
    data: Option<Vec<u8>>,
    old_owner: Option<String>,
    new_owner: Option<String>,
}

impl PgTx<'_> {
    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        self.b.run(async {
            let st = self.c.prepare_cached(sql).await?;
            Ok(self.c.query(&st, params).await?)
        })
    }

    fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        self.b.run(async {
            let st = self.c.prepare_cached(sql).await?;
            Ok(self.c.query_opt(&st, params).await?)
        })
    }

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        self.b.run(async {
            let st = self.c.prepare_cached(sql).await?;
            Ok(self.c.execute(&st, params).await?)
        })
    }

    /// Sends the feed rows held, in order (their numbers follow that order).
    fn flush(&mut self) -> Result<()> {
        if self.feed.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.feed);
        macro_rules! col {
            ($f:ident) => {
                rows.iter().map(|r| r.$f.clone()).collect::<Vec<_>>()
            };
        }
        let (doc_id, kind, owner, hash) = (col!(doc_id), col!(kind), col!(owner), col!(hash));
        let (actor, data, old, new) = (col!(actor), col!(data), col!(old_owner), col!(new_owner));
        self.execute(
            "INSERT INTO feed (workspace_id, doc_id, kind, owner, hash, actor, data, old_owner, new_owner)
             SELECT $1, d, k, o, h, a, b, oo, no
             FROM unnest($2::text[], $3::int2[], $4::text[], $5::text[], $6::text[], $7::bytea[], $8::text[], $9::text[])
                  WITH ORDINALITY AS r (d, k, o, h, a, b, oo, no, n)
             ORDER BY n",
            &[&self.ws, &doc_id, &kind, &owner, &hash, &actor, &data, &old, &new],
        )?;
        Ok(())
    }

    fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.b.run(self.c.batch_execute(sql))?)
    }

    fn count(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let row = self.query_opt(sql, params)?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0)).max(0) as u64)
    }
}

fn kind_of(k: i16) -> Result<DocKind> {
    DocKind::from_i64(i64::from(k))
        .ok_or_else(|| BackendError::Storage(format!("unknown document kind {k} in storage")))
}

fn doc_row(r: &Row, at: usize) -> Result<DocRow> {
    Ok(DocRow {
        kind: kind_of(r.try_get(at)?)?,
        owner: r.try_get(at + 1)?,
        lead_id: r.try_get(at + 2)?,
        data: r.try_get(at + 3)?,
    })
}

/// Rows `(id, kind, owner, lead_id, data)` as a page of up to `limit` rows and `max_bytes`
/// (at least one row).
fn docs_page(rows: Vec<Row>, limit: usize, max_bytes: usize) -> Result<Page<(String, DocRow)>> {
    let mut page = Page::default();
    let mut bytes = 0usize;
    for r in &rows {
        if page.rows.len() >= limit || (bytes >= max_bytes && !page.rows.is_empty()) {
            page.full = true;
            break;
        }
        let row = doc_row(r, 1)?;
        bytes += row.data.len();
        page.rows.push((r.try_get(0)?, row));
    }
    Ok(page)
}

const FEED_COLUMNS: &str = "seq, doc_id, kind, hash, actor, data, old_owner, new_owner, owner";

fn feed_entry(r: &Row) -> Result<FeedEntry> {
    let seq: i64 = r.try_get(0)?;
    let doc_id: String = r.try_get(1)?;
    let hash: Option<String> = r.try_get(3)?;
    let data: Option<Vec<u8>> = r.try_get(5)?;
    Ok(match (hash, data) {
        (Some(_), Some(data)) => FeedEntry::Change {
            seq,
            doc_id,
            kind: kind_of(r.try_get(2)?)?,
            owner: r.try_get(8)?,
            actor: r.try_get::<_, Option<String>>(4)?.unwrap_or_default(),
            data,
        },
        _ => FeedEntry::Owner {
            seq,
            doc_id,
            old_owner: r.try_get::<_, Option<String>>(6)?.unwrap_or_default(),
            new_owner: r.try_get::<_, Option<String>>(7)?.unwrap_or_default(),
        },
    })
}

/// The owners a filter lets through, with everyone's (`*`) rows.
fn with_everyone(owners: &[String]) -> Vec<String> {
    let mut v = owners.to_vec();
    v.push(EVERYONE.to_string());
    v
}

impl DocTx for PgTx<'_> {
    fn doc(&mut self, id: &str) -> Result<Option<DocRow>> {
        self.query_opt(
            "SELECT kind, owner, lead_id, data FROM documents WHERE workspace_id = $1 AND id = $2",
            &[&self.ws, &id],
        )?
        .map(|r| doc_row(&r, 0))
        .transpose()
    }

    fn has_change(&mut self, hash: &str) -> Result<bool> {
        self.flush()?;
        Ok(self
            .query_opt(
                "SELECT 1 FROM feed WHERE workspace_id = $1 AND hash = $2",
                &[&self.ws, &hash],
            )?
            .is_some())
    }

    fn put_doc(&mut self, id: &str, row: &DocRow) -> Result<()> {
        self.execute(
            "INSERT INTO documents (workspace_id, id, kind, owner, lead_id, data) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (workspace_id, id) DO UPDATE SET owner = excluded.owner, lead_id = excluded.lead_id, data = excluded.data",
            &[&self.ws, &id, &(row.kind as i16), &row.owner, &row.lead_id, &row.data],
        )?;
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
        self.feed.push(FeedRow {
            doc_id: doc_id.to_string(),
            kind: kind as i16,
            owner: owner.to_string(),
            hash: Some(hash.to_string()),
            actor: Some(actor.to_string()),
            data: Some(data.to_vec()),
            old_owner: None,
            new_owner: None,
        });
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
        self.feed.push(FeedRow {
            doc_id: lead_id.to_string(),
            kind: DocKind::Lead as i16,
            owner: EVERYONE.to_string(),
            hash: None,
            actor: None,
            data: None,
            old_owner: Some(old_owner.to_string()),
            new_owner: Some(new_owner.to_string()),
        });
        if let Some(m) = self.moved.as_deref_mut() {
            m.handover(old_owner, new_owner);
        }
        Ok(())
    }

    fn set_activities_owner(&mut self, lead_id: &str, owner: &str) -> Result<()> {
        self.execute(
            "UPDATE documents SET owner = $3 WHERE workspace_id = $1 AND lead_id = $2",
            &[&self.ws, &lead_id, &owner],
        )?;
        Ok(())
    }

    fn doc_owner(&mut self, id: &str) -> Result<Option<String>> {
        Ok(self
            .query_opt(
                "SELECT owner FROM documents WHERE workspace_id = $1 AND id = $2",
                &[&self.ws, &id],
            )?
            .map(|r| r.try_get(0))
            .transpose()?)
    }

    fn activities_of(
        &mut self,
        lead_id: &str,
        after_id: &str,
        max_bytes: usize,
    ) -> Result<Page<(String, DocRow)>> {
        let rows = self.query(
            "SELECT id, kind, owner, lead_id, data FROM documents WHERE workspace_id = $1 AND lead_id = $2 AND id > $3 ORDER BY id",
            &[&self.ws, &lead_id, &after_id],
        )?;
        docs_page(rows, usize::MAX, max_bytes)
    }

    fn activity_ids_of(&mut self, lead_id: &str) -> Result<Vec<String>> {
        let rows = self.query(
            "SELECT id FROM documents WHERE workspace_id = $1 AND lead_id = $2 ORDER BY id",
            &[&self.ws, &lead_id],
        )?;
        Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
    }

    fn doc_changes(&mut self, doc_id: &str) -> Result<Vec<Vec<u8>>> {
        self.flush()?;
        let rows = self.query(
            "SELECT data FROM feed WHERE workspace_id = $1 AND doc_id = $2 AND hash IS NOT NULL ORDER BY seq",
            &[&self.ws, &doc_id],
        )?;
        Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
    }

    fn user_exists(&mut self, user_id: &str) -> Result<bool> {
        Ok(self
            .query_opt(
                "SELECT 1 FROM users WHERE workspace_id = $1 AND id = $2",
                &[&self.ws, &user_id],
            )?
            .is_some())
    }

    fn team_members(&mut self, team_id: &str) -> Result<Vec<String>> {
        let rows = self.query(
            "SELECT id FROM users WHERE workspace_id = $1 AND team_id = $2",
            &[&self.ws, &team_id],
        )?;
        Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
    }

    fn managed_teams(&mut self, user_id: &str) -> Result<Vec<String>> {
        let rows = self.query(
            "SELECT team_id FROM team_managers WHERE workspace_id = $1 AND user_id = $2 ORDER BY team_id COLLATE \"C\"",
            &[&self.ws, &user_id],
        )?;
        Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
    }

    fn team_id(&mut self, id_or_name: &str) -> Result<Option<String>> {
        Ok(self
            .query_opt(
                "SELECT id FROM teams WHERE workspace_id = $1 AND (id = $2 OR name = $2) ORDER BY id = $2 DESC LIMIT 1",
                &[&self.ws, &id_or_name],
            )?
            .map(|r| r.try_get(0))
            .transpose()?)
    }

    /// One query in `seq` order (the owner filter as `= ANY`), cut at the count and the byte
    /// budget: complete up to its last row by construction.
    fn feed_after(
        &mut self,
        seq: i64,
        limit: u32,
        max_bytes: usize,
        filter: &FeedFilter,
    ) -> Result<Page<FeedEntry>> {
        self.flush()?;
        let n = i64::from(limit);
        let rows = match &filter.owners {
            None => self.query(
                &format!("SELECT {FEED_COLUMNS} FROM feed WHERE workspace_id = $1 AND seq > $2 AND actor IS DISTINCT FROM $4 ORDER BY seq LIMIT $3"),
                &[&self.ws, &seq, &n, &filter.skip_actor],
            )?,
            Some(owners) => self.query(
                &format!("SELECT {FEED_COLUMNS} FROM feed WHERE workspace_id = $1 AND seq > $2 AND actor IS DISTINCT FROM $4 AND owner = ANY($5) ORDER BY seq LIMIT $3"),
                &[&self.ws, &seq, &n, &filter.skip_actor, &with_everyone(owners)],
            )?,
        };
        let mut page = Page { rows: Vec::new(), full: rows.len() as i64 >= n };
        let mut bytes = 0usize;
        for r in &rows {
            if bytes >= max_bytes && !page.rows.is_empty() {
                page.full = true;
                break;
            }
            let e = feed_entry(r)?;
            bytes += e.len();
            page.rows.push(e);
        }
        Ok(page)
    }

    fn feed_len_after(&mut self, seq: i64, filter: &FeedFilter) -> Result<u64> {
        self.flush()?;
        match &filter.owners {
            None => self.count(
                "SELECT count(*) FROM feed WHERE workspace_id = $1 AND seq > $2 AND actor IS DISTINCT FROM $3",
                &[&self.ws, &seq, &filter.skip_actor],
            ),
            Some(owners) => self.count(
                "SELECT count(*) FROM feed WHERE workspace_id = $1 AND seq > $2 AND actor IS DISTINCT FROM $3
                 AND ((hash IS NOT NULL AND (owner = $5 OR owner = ANY($4)))
                      OR (hash IS NULL AND (old_owner = ANY($4) OR new_owner = ANY($4))))",
                &[&self.ws, &seq, &filter.skip_actor, owners, &EVERYONE],
            ),
        }
    }

    fn feed_row_key(&mut self, seq: i64) -> Result<Option<String>> {
        self.flush()?;
        Ok(self
            .query_opt(
                "SELECT coalesce(hash, 'owner:' || doc_id || ':' || coalesce(old_owner, '') || ':' || coalesce(new_owner, '')) FROM feed WHERE seq = $2 AND workspace_id = $1",
                &[&self.ws, &seq],
            )?
            .map(|r| r.try_get(0))
            .transpose()?)
    }

    fn owner_after(&mut self, doc_id: &str, seq: i64) -> Result<Option<String>> {
        self.flush()?;
        Ok(self
            .query_opt(
                "SELECT old_owner FROM feed WHERE workspace_id = $1 AND doc_id = $2 AND hash IS NULL AND seq > $3 ORDER BY seq LIMIT 1",
                &[&self.ws, &doc_id, &seq],
            )?
            .map(|r| r.try_get::<_, Option<String>>(0))
            .transpose()?
            .flatten())
    }

    fn max_seq(&mut self) -> Result<i64> {
        self.flush()?;
        Ok(self
            .query_opt(
                "SELECT coalesce(max(seq), 0)::bigint FROM feed WHERE workspace_id = $1",
                &[&self.ws],
            )?
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or(0))
    }

    fn docs_after(
        &mut self,
        after_id: &str,
        limit: u32,
        max_bytes: usize,
        owners: Option<&[String]>,
    ) -> Result<Page<(String, DocRow)>> {
        let n = i64::from(limit);
        let rows = match owners {
            None => self.query(
                "SELECT id, kind, owner, lead_id, data FROM documents WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                &[&self.ws, &after_id, &n],
            )?,
            Some(owners) => self.query(
                "SELECT id, kind, owner, lead_id, data FROM documents WHERE workspace_id = $1 AND id > $2 AND owner = ANY($4) ORDER BY id LIMIT $3",
                &[&self.ws, &after_id, &n, &with_everyone(owners)],
            )?,
        };
        let mut page = docs_page(rows, limit as usize, max_bytes)?;
        page.full |= page.rows.len() >= limit as usize;
        Ok(page)
    }

    fn docs_len_after(&mut self, after_id: &str, owners: Option<&[String]>) -> Result<u64> {
        match owners {
            None => self.count(
                "SELECT count(*) FROM documents WHERE workspace_id = $1 AND id > $2",
                &[&self.ws, &after_id],
            ),
            Some(owners) => self.count(
                "SELECT count(*) FROM documents WHERE workspace_id = $1 AND id > $2 AND owner = ANY($3)",
                &[&self.ws, &after_id, &with_everyone(owners)],
            ),
        }
    }

    fn savepoint(&mut self) -> Result<()> {
        if let Some(m) = self.moved.as_deref_mut() {
            m.savepoint();
        }
        self.flush()?;
        self.batch("SAVEPOINT request")
    }

    fn release_savepoint(&mut self) -> Result<()> {
        if let Some(m) = self.moved.as_deref_mut() {
            m.release();
        }
        self.flush()?;
        self.batch("RELEASE request")
    }

    fn rollback_to_savepoint(&mut self) -> Result<()> {
        if let Some(m) = self.moved.as_deref_mut() {
            m.rollback();
        }
        // Rows of the request being undone never go in.
        self.feed.clear();
        self.batch("ROLLBACK TO request; RELEASE request")
    }
}

impl Backend for PgBackend {
    fn write<R, E: From<BackendError>>(
        &self,
        workspace: &str,
        f: impl FnOnce(&mut dyn DocTx) -> Result<R, E>,
    ) -> Result<R, E> {
        // One round trip: the transaction and the workspace's lock (see the module docs).
        let begin = format!("BEGIN; SELECT pg_advisory_xact_lock({})", lock_key(workspace));
        self.transaction(&begin, workspace, true, |tx| f(tx))
    }

    fn read<R, E: From<BackendError>>(
        &self,
        workspace: &str,
        f: impl FnOnce(&mut dyn DocTx) -> Result<R, E>,
    ) -> Result<R, E> {
        self.transaction(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            workspace,
            false,
            |tx| f(tx),
        )
    }

    fn authenticate(&self, token_hash: &str) -> Result<Option<Principal>> {
        let c = self.client()?;
        let row = self.run(async {
            let st = c
                .prepare_cached(
                    "SELECT d.id, d.user_id, d.workspace_id, u.role, u.team_id, d.actor_id FROM devices d
                     JOIN users u ON u.workspace_id = d.workspace_id AND u.id = d.user_id
                     WHERE d.token_hash = $1 AND d.revoked_at IS NULL",
                )
                .await?;
            c.query_opt(&st, &[&token_hash]).await
        })?;
        let Some(r) = row else { return Ok(None) };
        let role: String = r.try_get(3)?;
        Role::parse(&role)
            .map(|role| -> Result<Principal> {
                Ok(Principal {
                    device_id: r.try_get(0)?,
                    user_id: r.try_get(1)?,
                    workspace_id: r.try_get(2)?,
                    role,
                    team_id: r.try_get(4)?,
                    actor: r.try_get(5)?,
                })
            })
            .transpose()
    }

    fn enroll(&self, e: &Enrollment<'_>) -> Result<Enrolled> {
        admin::enroll(self, e)
    }

    fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    fn revoked(&self, device_ids: &[String]) -> Result<Vec<String>> {
        let c = self.client()?;
        let rows = self.run(async {
            let st = c
                .prepare_cached(
                    "SELECT id FROM devices WHERE id = ANY($1) AND revoked_at IS NOT NULL",
                )
                .await?;
            c.query(&st, &[&device_ids]).await
        })?;
        Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
    }
}
