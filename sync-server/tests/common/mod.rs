#![allow(dead_code)]
//! A real sync server on 127.0.0.1 with an ephemeral port and a temp data directory, plus
//! devices: real stores enrolled through the HTTP API and synced with the core's client.

use std::sync::Arc;

use fieldsales_core::sync::{SyncClient, SyncError, SyncSummary, enroll};
use fieldsales_core::*;
use fieldsales_server::backend::Role;
use fieldsales_server::sqlite::SqliteBackend;
use fieldsales_server::{AppState, serve};

pub struct Server {
    pub url: String,
    pub admin: SqliteBackend,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
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
            s.limiter = Arc::new(fieldsales_server::auth::RateLimiter::new(burst, per_second));
            s
        })
        .await
    }

    pub async fn start_with(
        dir: tempfile::TempDir,
        setup: impl FnOnce(AppState<SqliteBackend>) -> AppState<SqliteBackend>,
    ) -> Server {
        let backend = SqliteBackend::open(dir.path()).unwrap();
        let state = setup(AppState::new(backend));
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
        let admin = SqliteBackend::open(dir.path()).unwrap();
        Server { url, admin, dir, stop: Some(tx), task: Some(task) }
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

pub fn fingerprint(data_dir: &std::path::Path) -> Fingerprint {
    let c = ro(data_dir);
    let c = &c;
    Fingerprint {
        documents: rows(
            c,
            "SELECT workspace_id || ' ' || id || ' ' || kind || ' ' || owner || ' ' || coalesce(lead_id, '-') || ' ' || hex(data) FROM documents ORDER BY workspace_id, id",
        ),
        feed: rows(
            c,
            "SELECT seq || ' ' || doc_id || ' ' || kind || ' ' || coalesce(hash, '-') || ' ' || coalesce(actor, '-') || ' ' || coalesce(hex(data), '-') || ' ' || coalesce(old_owner, '-') || ' ' || coalesce(new_owner, '-') FROM feed ORDER BY seq",
        ),
        devices: rows(
            c,
            "SELECT id || ' ' || user_id || ' ' || token_hash || ' ' || actor_id || ' ' || coalesce(revoked_at, '-') FROM devices ORDER BY id",
        ),
        enrollments: rows(
            c,
            "SELECT code_hash || ' ' || coalesce(used_at, '-') FROM enrollments ORDER BY code_hash",
        ),
        users: rows(
            c,
            "SELECT workspace_id || ' ' || id || ' ' || role FROM users ORDER BY workspace_id, id",
        ),
    }
}

/// Change hashes in the server's feed, each once (duplicates would show in `feed_duplicates`).
pub fn feed_hashes(data_dir: &std::path::Path) -> std::collections::BTreeSet<String> {
    rows(&ro(data_dir), "SELECT hash FROM feed WHERE hash IS NOT NULL").into_iter().collect()
}

/// Hashes stored more than once in the feed.
pub fn feed_duplicates(data_dir: &std::path::Path) -> Vec<String> {
    rows(
        &ro(data_dir),
        "SELECT hash FROM feed WHERE hash IS NOT NULL GROUP BY workspace_id, hash HAVING count(*) > 1",
    )
}

pub fn feed_len(data_dir: &std::path::Path) -> usize {
    rows(&ro(data_dir), "SELECT CAST(count(*) AS TEXT) FROM feed")[0].parse().unwrap()
}

/// Every document the server stores, by id: its sorted heads and the hashes of all its changes.
pub fn server_documents(
    data_dir: &std::path::Path,
) -> std::collections::BTreeMap<String, (Vec<String>, Vec<String>)> {
    let c = ro(data_dir);
    let mut stmt = c.prepare("SELECT id, data FROM documents").unwrap();
    let all: Vec<(String, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    all.into_iter()
        .map(|(id, data)| {
            let mut d = automerge::AutoCommit::load(&data).unwrap();
            let mut heads: Vec<String> = d.get_heads().iter().map(|h| h.to_string()).collect();
            heads.sort();
            let changes = d.get_changes(&[]).iter().map(|c| c.hash().to_string()).collect();
            (id, (heads, changes))
        })
        .collect()
}

/// Devices that see the same records, after syncing, hold exactly what the server holds:
/// empty outboxes, the same documents with the same heads (and so the same changes, since a
/// head's hash covers its whole history), every one of those changes in the server's feed
/// exactly once.
pub fn assert_converged(devices: &[&Device], data_dir: &std::path::Path) {
    let dups = feed_duplicates(data_dir);
    assert!(dups.is_empty(), "changes stored twice on the server: {dups:?}");
    let on_server = feed_hashes(data_dir);
    let server = server_documents(data_dir);
    for (id, (_, changes)) in &server {
        let missing: Vec<&String> = changes.iter().filter(|h| !on_server.contains(*h)).collect();
        assert!(
            missing.is_empty(),
            "document {id} holds changes missing from the server's feed: {missing:?}"
        );
    }
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
