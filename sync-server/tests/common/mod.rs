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
        let backend = SqliteBackend::open(dir.path()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            serve(listener, AppState::new(backend), async {
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
        let store = Store::open(dir.path().join("store.db"), OpenOptions::new(&creds.user_id).region("KR").actor(&actor))?;
        SyncClient::save_credentials(&store, &creds)?;
        Ok(Device { store: Arc::new(store), device_id: creds.device_id, dir })
    }

    pub async fn sync(&self) -> Result<SyncSummary, SyncError> {
        SyncClient::for_store(&self.store)?.sync(&self.store, &|_| {}).await
    }

    pub fn owned(&self, name: &str, owner: &str) -> Lead {
        self.create_lead(LeadDraft { name: Some(name.into()), owner: Some(owner.into()), ..Default::default() }).unwrap()
    }

    /// Every lead id this device holds, live or deleted.
    pub fn lead_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.document_ids().unwrap().into_iter().filter(|(_, k)| *k == DocKind::Lead).map(|(id, _)| id).collect();
        ids.sort();
        ids
    }
}
