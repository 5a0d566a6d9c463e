#![allow(dead_code)]
//! A real sync server on 127.0.0.1 with an ephemeral port and a temp data directory, plus
//! devices: real stores enrolled through the HTTP API and synced with the core's client.

pub mod pg;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fieldsales_core::sync::{SyncClient, SyncError, SyncSummary, enroll};
use fieldsales_core::*;
use fieldsales_server::auth::RateLimiter;
use fieldsales_server::backend::{Backend, Role};
use fieldsales_server::database::AdminStore;
use fieldsales_server::postgres::PgBackend;
use fieldsales_server::sqlite::SqliteBackend;
use fieldsales_server::{AppState, NetLimits, serve};

/// Where a test server keeps its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Db {
    /// The embedded store in this data directory.
    Sqlite(PathBuf),
    /// A PostgreSQL database of the test cluster ([`pg::cluster`]).
    Postgres(String),
}

/// The storage the end-to-end suites run on: `FIELDSALES_TEST_DB=postgres` for PostgreSQL
/// (a cluster of this test process, [`pg::cluster`]), SQLite otherwise. `.ci/run` runs the
/// suites once with each.
pub fn on_postgres() -> bool {
    std::env::var("FIELDSALES_TEST_DB").is_ok_and(|v| v == "postgres")
}

impl Db {
    /// A new empty store of the backend under test; SQLite in `dir`.
    pub fn fresh(dir: &Path) -> Db {
        if on_postgres() { Db::Postgres(pg::cluster().database()) } else { Db::Sqlite(dir.into()) }
    }

    /// The admin commands on it. Call from a multi-threaded runtime.
    pub async fn admin(&self) -> Box<dyn AdminStore> {
        match self {
            Db::Sqlite(dir) => Box::new(SqliteBackend::open(dir).unwrap()),
            Db::Postgres(url) => Box::new(PgBackend::open_quiet(url, 2).await.unwrap()),
        }
    }

    /// `--data DIR` or `--database URL`, for the server binary.
    pub fn args(&self) -> Vec<String> {
        match self {
            Db::Sqlite(dir) => vec!["--data".into(), dir.display().to_string()],
            Db::Postgres(url) => vec!["--database".into(), url.clone()],
        }
    }

    /// Rows of a query, each row's columns as text joined by spaces: `sqlite` on SQLite (one
    /// text column), `postgres` on PostgreSQL.
    pub fn rows2(&self, sqlite: &str, postgres: &str) -> Vec<String> {
        match self {
            Db::Sqlite(dir) => rows(&ro(dir), sqlite),
            Db::Postgres(url) => pg::Cluster::rows(url, postgres),
        }
    }
}

/// Something that names a test server's storage: the server, its [`Db`], or (SQLite) its data
/// directory.
pub trait AsDb {
    fn db(&self) -> Db;
}

impl AsDb for Db {
    fn db(&self) -> Db {
        self.clone()
    }
}

impl AsDb for Server {
    fn db(&self) -> Db {
        self.db.clone()
    }
}

impl AsDb for Path {
    fn db(&self) -> Db {
        Db::Sqlite(self.into())
    }
}

/// Settings a test changes on the server's state before it serves.
pub struct Knobs {
    pub limiter: Arc<RateLimiter>,
    pub net: NetLimits,
    pub page_bytes: usize,
    pub clock: fieldsales_server::clock::ServerClock,
}

pub struct Server {
    pub url: String,
    pub admin: Box<dyn AdminStore>,
    /// The data directory on SQLite; an unused directory on PostgreSQL.
    pub dir: tempfile::TempDir,
    pub db: Db,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// What [`Server::backup`] took.
pub enum Backup {
    Sqlite(tempfile::TempDir),
    Postgres(tempfile::TempDir),
}

/// Serves `backend` on 127.0.0.1 with an ephemeral port until the sender fires.
pub async fn serve_backend<B: Backend>(
    backend: B,
    setup: impl FnOnce(Knobs) -> Knobs,
) -> (String, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let mut state = AppState::new(backend);
    let knobs = setup(Knobs {
        limiter: state.limiter.clone(),
        net: state.net,
        page_bytes: state.page_bytes,
        clock: state.clock.clone(),
    });
    state.limiter = knobs.limiter;
    state.net = knobs.net;
    state.page_bytes = knobs.page_bytes;
    state.clock = knobs.clock;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        serve(listener, state, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (url, tx, task)
}

impl Server {
    pub async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir).await
    }

    pub async fn start_in(dir: tempfile::TempDir) -> Server {
        Self::start_with(dir, |s| s).await
    }

    /// A server whose devices may send `burst` requests at once and `per_second` after that.
    pub async fn start_rate_limited(burst: u32, per_second: u32) -> Server {
        let dir = tempfile::tempdir().unwrap();
        Self::start_with(dir, |mut s| {
            s.limiter = Arc::new(RateLimiter::new(burst, per_second));
            s
        })
        .await
    }

    /// A server of the backend under test ([`on_postgres`]) with its settings changed by `setup`.
    pub async fn start_with(dir: tempfile::TempDir, setup: impl FnOnce(Knobs) -> Knobs) -> Server {
        let db = Db::fresh(dir.path());
        Self::start_on(db, dir, setup).await
    }

    /// A server on `db` (kept: a restart, or a second instance on one PostgreSQL database).
    pub async fn start_on(
        db: Db,
        dir: tempfile::TempDir,
        setup: impl FnOnce(Knobs) -> Knobs,
    ) -> Server {
        let (url, stop, task) = match &db {
            Db::Sqlite(path) => serve_backend(SqliteBackend::open(path).unwrap(), setup).await,
            Db::Postgres(u) => serve_backend(PgBackend::connect(u).await.unwrap(), setup).await,
        };
        let admin = db.admin().await;
        Server { url, admin, dir, db, stop: Some(stop), task: Some(task) }
    }

    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        self.dir
    }

    /// A consistent copy of the server's data, taken while it runs.
    pub async fn backup(&self) -> Backup {
        let to = tempfile::tempdir().unwrap();
        match &self.db {
            Db::Sqlite(dir) => {
                let file = to.path().join("backup.db");
                rusqlite::Connection::open(db_path(dir))
                    .unwrap()
                    .execute("VACUUM INTO ?1", [file.to_str().unwrap()])
                    .unwrap();
                Backup::Sqlite(to)
            }
            Db::Postgres(url) => {
                let file = to.path().join("backup.dump");
                let out = pg::cluster().tool("pg_dump", &["-Fc", "-d", url]);
                std::fs::write(&file, out.stdout).unwrap();
                Backup::Postgres(to)
            }
        }
    }

    /// Stops the server, restores `backup` (SQLite: over its data directory; PostgreSQL: into a
    /// new database) and starts a server on it.
    pub async fn restore(self, backup: Backup) -> Server {
        let db = self.db.clone();
        let dir = self.stop().await;
        let db = match (db, backup) {
            (Db::Sqlite(path), Backup::Sqlite(b)) => {
                for ext in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", db_path(&path).display()));
                }
                std::fs::copy(b.path().join("backup.db"), db_path(&path)).unwrap();
                Db::Sqlite(path)
            }
            (Db::Postgres(_), Backup::Postgres(b)) => {
                let url = pg::cluster().database();
                let file = b.path().join("backup.dump");
                let file = file.to_str().unwrap();
                // pg_restore runs as the cluster's user: let it read the dump.
                let _ =
                    std::process::Command::new("chmod").args(["-R", "a+rX"]).arg(b.path()).status();
                pg::cluster().tool("pg_restore", &["-d", &url, "--no-owner", file]);
                Db::Postgres(url)
            }
            _ => panic!("a backup of another backend"),
        };
        Server::start_on(db, dir, |s| s).await
    }

    pub fn workspace(&self, name: &str) -> String {
        self.admin.create_workspace(name).unwrap().id
    }

    pub fn team(&self, ws: &str, name: &str) {
        self.admin.create_team(ws, name).unwrap();
    }

    /// Adds the user if needed and enrolls a new device for them.
    pub async fn device(&self, ws: &str, user: &str, role: Role, team: Option<&str>) -> Device {
        let code = match self.admin.add_user(ws, user, role, team) {
            Ok(u) => u.enrollment_code,
            Err(_) => self.admin.enrollment_code(ws, user).unwrap(),
        };
        Device::enroll(&self.url, &code).await.unwrap()
    }
}

/// The real server binary on the backend under test, killed with SIGKILL if the test ends
/// early.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub url: String,
}

impl ServerProcess {
    pub fn start(db: &Db) -> ServerProcess {
        Self::start_with(db, &[])
    }

    /// With more arguments after `serve`'s.
    pub fn start_with(db: &Db, extra: &[&str]) -> ServerProcess {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fieldsales-server"))
            .arg("serve")
            .args(db.args())
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("fieldsales-server listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        assert!(
            url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:"),
            "{url}"
        );
        ServerProcess { child, url }
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert!(!status.success());
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Device {
    pub store: Arc<Store>,
    pub device_id: String,
    pub dir: tempfile::TempDir,
}

impl std::ops::Deref for Device {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl Device {
    pub async fn enroll(url: &str, code: &str) -> Result<Device, SyncError> {
        let dir = tempfile::tempdir().unwrap();
        let actor = store::new_actor().to_hex_string();
        let creds = enroll(url, code, "test phone", &actor).await?;
        let store = Store::open(
            dir.path().join("store.db"),
            OpenOptions::new(&creds.user_id).region("KR").actor(&actor),
        )?;
        SyncClient::save_credentials(&store, &creds)?;
        Ok(Device { store: Arc::new(store), device_id: creds.device_id, dir })
    }

    pub async fn sync(&self) -> Result<SyncSummary, SyncError> {
        SyncClient::for_store(&self.store)?.sync(&self.store, &|_| {}).await
    }

    pub fn owned(&self, name: &str, owner: &str) -> Lead {
        self.create_lead(LeadDraft {
            name: Some(name.into()),
            owner: Some(owner.into()),
            ..Default::default()
        })
        .unwrap()
    }

    /// Every lead id this device holds, live or deleted.
    pub fn lead_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .document_ids()
            .unwrap()
            .into_iter()
            .filter(|(_, k)| *k == DocKind::Lead)
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        ids
    }
}

// ---- helpers for the malformed-request and interruption tests ---------------------------

/// Store meta keys the sync client keeps its settings in (see core/src/sync/client.rs).
pub const META_SERVER: &str = "sync.server";
pub const META_TOKEN: &str = "sync.token";

impl Device {
    /// This device's bearer token.
    pub fn token(&self) -> String {
        self.meta(META_TOKEN).unwrap().expect("enrolled device has a token")
    }

    /// Points later syncs at another address (a proxy, or a restarted server).
    pub fn set_server(&self, url: &str) {
        self.set_meta(META_SERVER, Some(url)).unwrap();
    }
}

/// A plain-http reqwest client for hand-made requests. reqwest is built without a default TLS
/// provider and panics on `build` unless one is installed, even for http.
pub fn raw_http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap()
}

pub fn db_path(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("fieldsales-server.db")
}

fn ro(data_dir: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        db_path(data_dir),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap()
}

fn rows(c: &rusqlite::Connection, sql: &str) -> Vec<String> {
    let mut stmt = c.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
}

/// Everything the server has stored that a request could change: documents (with their bytes),
/// the feed, devices, enrollment codes, users. Equal fingerprints mean nothing was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub documents: Vec<String>,
    pub feed: Vec<String>,
    pub devices: Vec<String>,
    pub enrollments: Vec<String>,
    pub users: Vec<String>,
}

pub fn fingerprint(at: &(impl AsDb + ?Sized)) -> Fingerprint {
    let db = at.db();
    Fingerprint {
        documents: db.rows2(
            "SELECT workspace_id || ' ' || id || ' ' || kind || ' ' || owner || ' ' || coalesce(lead_id, '-') || ' ' || hex(data) FROM documents ORDER BY workspace_id, id",
            "SELECT workspace_id || ' ' || id || ' ' || kind || ' ' || owner || ' ' || coalesce(lead_id, '-') || ' ' || encode(data, 'hex') FROM documents ORDER BY workspace_id, id",
        ),
        feed: db.rows2(
            "SELECT seq || ' ' || doc_id || ' ' || kind || ' ' || coalesce(hash, '-') || ' ' || coalesce(actor, '-') || ' ' || coalesce(hex(data), '-') || ' ' || coalesce(old_owner, '-') || ' ' || coalesce(new_owner, '-') FROM feed ORDER BY seq",
            "SELECT seq || ' ' || doc_id || ' ' || kind || ' ' || coalesce(hash, '-') || ' ' || coalesce(actor, '-') || ' ' || coalesce(encode(data, 'hex'), '-') || ' ' || coalesce(old_owner, '-') || ' ' || coalesce(new_owner, '-') FROM feed ORDER BY seq",
        ),
        devices: db.rows2(
            "SELECT id || ' ' || user_id || ' ' || token_hash || ' ' || actor_id || ' ' || coalesce(revoked_at, '-') FROM devices ORDER BY id",
            "SELECT id || ' ' || user_id || ' ' || token_hash || ' ' || actor_id || ' ' || coalesce(revoked_at::text, '-') FROM devices ORDER BY id",
        ),
        enrollments: db.rows2(
            "SELECT code_hash || ' ' || coalesce(used_at, '-') FROM enrollments ORDER BY code_hash",
            "SELECT code_hash || ' ' || coalesce(used_at::text, '-') FROM enrollments ORDER BY code_hash",
        ),
        users: db.rows2(
            "SELECT workspace_id || ' ' || id || ' ' || role FROM users ORDER BY workspace_id, id",
            "SELECT workspace_id || ' ' || id || ' ' || role FROM users ORDER BY workspace_id, id",
        ),
    }
}

/// Change hashes in the server's feed, each once (duplicates would show in `feed_duplicates`).
pub fn feed_hashes(at: &(impl AsDb + ?Sized)) -> std::collections::BTreeSet<String> {
    let sql = "SELECT hash FROM feed WHERE hash IS NOT NULL";
    at.db().rows2(sql, sql).into_iter().collect()
}

/// Hashes stored more than once in the feed.
pub fn feed_duplicates(at: &(impl AsDb + ?Sized)) -> Vec<String> {
    let sql = "SELECT hash FROM feed WHERE hash IS NOT NULL GROUP BY workspace_id, hash HAVING count(*) > 1";
    at.db().rows2(sql, sql)
}

pub fn feed_len(at: &(impl AsDb + ?Sized)) -> usize {
    at.db().rows2("SELECT CAST(count(*) AS TEXT) FROM feed", "SELECT count(*) FROM feed")[0]
        .parse()
        .unwrap()
}

/// How many of `actor`'s changes the server's feed holds.
pub fn stored_by(at: &(impl AsDb + ?Sized), actor: &str) -> usize {
    let sql = format!("SELECT CAST(count(*) AS TEXT) FROM feed WHERE actor = '{actor}'");
    at.db().rows2(&sql, &sql)[0].parse().unwrap()
}

/// Every stored document's saved bytes, by id.
pub fn stored_documents(at: &(impl AsDb + ?Sized)) -> Vec<(String, Vec<u8>)> {
    at.db()
        .rows2(
            "SELECT id || ' ' || hex(data) FROM documents ORDER BY id",
            "SELECT id || ' ' || encode(data, 'hex') FROM documents ORDER BY id",
        )
        .into_iter()
        .map(|r| {
            let (id, data) = r.split_once(' ').unwrap();
            (id.to_string(), hex::decode(data).unwrap())
        })
        .collect()
}

/// One stored document's saved bytes.
pub fn stored_document(at: &(impl AsDb + ?Sized), id: &str) -> Vec<u8> {
    let row = at.db().rows2(
        &format!("SELECT hex(data) FROM documents WHERE id = '{id}'"),
        &format!("SELECT encode(data, 'hex') FROM documents WHERE id = '{id}'"),
    );
    hex::decode(&row[0]).unwrap()
}

/// Every document the server stores, by id: its sorted heads and the hashes of all its changes.
pub fn server_documents(
    at: &(impl AsDb + ?Sized),
) -> std::collections::BTreeMap<String, (Vec<String>, Vec<String>)> {
    stored_documents(at)
        .into_iter()
        .map(|(id, data)| {
            let mut d = automerge::AutoCommit::load(&data).unwrap();
            let mut heads: Vec<String> = d.get_heads().iter().map(|h| h.to_string()).collect();
            heads.sort();
            let changes = d.get_changes(&[]).iter().map(|c| c.hash().to_string()).collect();
            (id, (heads, changes))
        })
        .collect()
}

/// What the server stores hangs together: every document loads, every change it holds is in
/// the feed, and no change is there twice.
pub fn assert_server_consistent(at: &(impl AsDb + ?Sized)) {
    let dups = feed_duplicates(at);
    assert!(dups.is_empty(), "changes stored twice on the server: {dups:?}");
    let on_server = feed_hashes(at);
    for (id, (_, changes)) in &server_documents(at) {
        let missing: Vec<&String> = changes.iter().filter(|h| !on_server.contains(*h)).collect();
        assert!(
            missing.is_empty(),
            "document {id} holds changes missing from the server's feed: {missing:?}"
        );
    }
}

/// Devices that see the same records, after syncing, hold exactly what the server holds:
/// empty outboxes, the same documents with the same heads (and so the same changes, since a
/// head's hash covers its whole history), every one of those changes in the server's feed
/// exactly once.
pub fn assert_converged(devices: &[&Device], at: &(impl AsDb + ?Sized)) {
    assert_server_consistent(at);
    let server = server_documents(at);
    let server_ids: Vec<String> = server.keys().cloned().collect();
    for (i, d) in devices.iter().enumerate() {
        assert_eq!(d.outbox_len().unwrap(), 0, "device {i} still has unsent changes");
        let ids: Vec<String> = d.document_ids().unwrap().into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, server_ids, "device {i} holds other documents than the server");
        for id in &ids {
            assert_eq!(
                d.document_heads(id).unwrap(),
                server[id].0,
                "device {i}, document {id}: heads differ from the server's"
            );
        }
        assert!(d.verify().unwrap().is_ok(), "device {i}: projections disagree with documents");
    }
}

// ---- helpers for the live-update, operations and multi-instance tests --------------------

impl Server {
    /// Starts the shutdown without waiting for it (requests under way go on).
    pub fn begin_shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// `d`'s whole outbox as one push request body (CBOR).
pub fn outbox_body(d: &Device) -> Vec<u8> {
    use fieldsales_core::sync::protocol::{PushChange, PushRequest, to_cbor};
    let changes = d
        .outbox(0, 1_000)
        .unwrap()
        .into_iter()
        .map(|e| PushChange { doc_id: e.doc_id, kind: e.kind, change: e.change })
        .collect();
    to_cbor(&PushRequest { changes })
}

/// An open `GET /v1/events` stream, read event by event.
pub struct EventStream {
    resp: reqwest::Response,
    parser: fieldsales_core::sync::events::SseParser,
    pending: std::collections::VecDeque<String>,
}

impl EventStream {
    /// Opens the stream; the status if the server refuses it.
    pub async fn open(url: &str, token: &str) -> Result<EventStream, u16> {
        let resp = raw_http_streaming()
            .get(format!("{url}/v1/events"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        if !resp.status().is_success() {
            return Err(resp.status().as_u16());
        }
        Ok(EventStream { resp, parser: Default::default(), pending: Default::default() })
    }

    /// The next event's name; `None` when the stream ended. Waits at most 30 s (a hang guard).
    pub async fn next(&mut self) -> Option<String> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Some(e);
            }
            let chunk = tokio::time::timeout(std::time::Duration::from_secs(30), self.resp.chunk())
                .await
                .expect("no event within 30 s");
            match chunk {
                Ok(Some(bytes)) => self.pending.extend(self.parser.feed(&bytes)),
                Ok(None) | Err(_) => return None,
            }
        }
    }
}

/// A client without a whole-request timeout, for streams.
pub fn raw_http_streaming() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().unwrap()
}

/// The value of a metric line (`name{labels}` exactly as exposed), 0 when absent.
pub async fn metric(url: &str, series: &str) -> f64 {
    let text = raw_http().get(format!("{url}/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

/// Waits (at most 30 s, a hang guard) until `cond` holds.
pub async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut cond: impl FnMut() -> F,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !cond().await {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

// ---- hand-made requests, as a modified app could send them ------------------------------

/// A push request body of `changes` (document id, kind, change bytes).
pub fn push_request(changes: Vec<(&str, DocKind, Vec<u8>)>) -> Vec<u8> {
    use fieldsales_core::sync::protocol::{PushChange, PushRequest, to_cbor};
    to_cbor(&PushRequest {
        changes: changes
            .into_iter()
            .map(|(d, kind, change)| PushChange { doc_id: d.to_string(), kind, change })
            .collect(),
    })
}

/// Posts a push body with `token`; it must be answered 200 with a push response.
pub async fn post_push(
    url: &str,
    token: &str,
    body: Vec<u8>,
) -> fieldsales_core::sync::protocol::PushResponse {
    post_cbor(url, "/v1/push", token, body).await
}

/// One pull page from `cursor`; it must be answered 200.
pub async fn post_pull(
    url: &str,
    token: &str,
    cursor: &str,
    limit: u32,
) -> fieldsales_core::sync::protocol::PullResponse {
    use fieldsales_core::sync::protocol::{PullRequest, to_cbor};
    post_cbor(url, "/v1/pull", token, to_cbor(&PullRequest { cursor: cursor.into(), limit })).await
}

async fn post_cbor<T: for<'de> serde::Deserialize<'de>>(
    url: &str,
    path: &str,
    token: &str,
    body: Vec<u8>,
) -> T {
    use fieldsales_core::sync::protocol::{CBOR, from_cbor};
    let resp = raw_http()
        .post(format!("{url}{path}"))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, CBOR)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    from_cbor(&bytes).unwrap()
}

/// One change on top of `device`'s copy of `id`, made by `actor`.
pub fn edit_as(
    device: &Device,
    id: &str,
    actor: &str,
    f: impl FnOnce(&mut automerge::AutoCommit),
) -> Vec<u8> {
    let mut d = automerge::AutoCommit::load(&device.document_bytes(id).unwrap()).unwrap();
    d.set_actor(automerge::ActorId::try_from(actor).unwrap());
    f(&mut d);
    d.commit();
    d.get_last_local_change().unwrap().raw_bytes().to_vec()
}

/// Pushes hand-made changes with `token`, as a modified app (or another implementation) could;
/// the server must answer 200.
pub async fn push_changes(
    url: &str,
    token: &str,
    changes: Vec<fieldsales_core::sync::protocol::PushChange>,
) -> fieldsales_core::sync::protocol::PushResponse {
    use fieldsales_core::sync::protocol::{CBOR, PushRequest, from_cbor, to_cbor};
    let resp = raw_http()
        .post(format!("{url}/v1/push"))
        .bearer_auth(token)
        .header("content-type", CBOR)
        .body(to_cbor(&PushRequest { changes }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    from_cbor(&resp.bytes().await.unwrap()).unwrap()
}
