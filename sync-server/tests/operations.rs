//! Live updates and what an operator needs, through the real server on 127.0.0.1, on the
//! backend under test (`FIELDSALES_TEST_DB`): `GET /v1/events` (a device hears of what it may
//! see, pulls it, and is cut off when revoked), `/metrics`, request ids, TLS, graceful shutdown,
//! and a backup taken under load that restores into a server devices sync with.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use fieldsales_core::sync::events::{LiveEvent, LiveOptions, follow};
use fieldsales_core::sync::protocol::*;
use fieldsales_server::backend::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A device following the live stream in the background; its events on a channel.
struct Following {
    stop: Arc<AtomicBool>,
    events: tokio::sync::mpsc::UnboundedReceiver<LiveEvent>,
    task: tokio::task::JoinHandle<Result<(), fieldsales_core::sync::SyncError>>,
}

fn start_following(d: &Device) -> Following {
    let (tx, events) = tokio::sync::mpsc::unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    let (store, flag) = (d.store.clone(), stop.clone());
    let task = tokio::spawn(async move {
        follow(&store, LiveOptions::default(), &flag, &move |e| {
            let _ = tx.send(e);
        })
        .await
    });
    Following { stop, events, task }
}

impl Following {
    /// The next sync it ran that received something.
    async fn received(&mut self) -> u64 {
        loop {
            let e = tokio::time::timeout(std::time::Duration::from_secs(30), self.events.recv())
                .await
                .expect("no live event within 30 s")
                .expect("the live loop ended");
            if let LiveEvent::Synced(s) = e
                && s.received > 0
            {
                return s.received;
            }
        }
    }

    async fn connected_and_caught_up(&mut self) {
        let mut connected = false;
        loop {
            match self.events.recv().await.expect("the live loop ended") {
                LiveEvent::Connected => connected = true,
                LiveEvent::Synced(_) if connected => return,
                _ => {}
            }
        }
    }

    async fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_device_pulls_a_colleagues_lead_without_being_asked() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "t");
    let kim = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let boss = s.device(&ws, "boss", Role::Manager, Some("t")).await;
    let mut live = start_following(&boss);
    live.connected_and_caught_up().await;

    let lead = kim.owned("Seen live", "kim");
    kim.sync().await.unwrap();
    assert_eq!(live.received().await, 1);
    assert_eq!(boss.lead(&lead.id).unwrap(), kim.lead(&lead.id).unwrap());
    live.stop().await;
}

/// A rep's stream is not woken by a colleague's lead (the hub counts no wake-up for it), and is
/// woken by a change to their own lead from their other device.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_says_only_what_its_user_may_see() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    let kim = s.device(&ws, "kim", Role::Rep, None).await;
    let lee = s.device(&ws, "lee", Role::Rep, None).await;
    let lee_tablet = s.device(&ws, "lee", Role::Rep, None).await;
    let mut stream = EventStream::open(&s.url, &lee.token()).await.unwrap();
    assert_eq!(stream.next().await.as_deref(), Some("ready"));

    let moves = metric(&s.url, "fieldsales_live_moves_total").await;
    let woken = metric(&s.url, "fieldsales_live_wakeups_total").await;
    kim.owned("Kim's", "kim");
    kim.sync().await.unwrap();
    eventually("kim's push reached the hub", || async {
        metric(&s.url, "fieldsales_live_moves_total").await > moves
    })
    .await;
    assert_eq!(metric(&s.url, "fieldsales_live_wakeups_total").await, woken, "lee was woken");

    lee_tablet.owned("Lee's", "lee");
    lee_tablet.sync().await.unwrap();
    assert_eq!(stream.next().await.as_deref(), Some("feed"));
    assert_eq!(metric(&s.url, "fieldsales_live_wakeups_total").await, woken + 1.0);
    assert_eq!(metric(&s.url, "fieldsales_live_connections").await, 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_is_cut_off_and_cannot_reconnect() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    let kim = s.device(&ws, "kim", Role::Rep, None).await;
    assert_eq!(EventStream::open(&s.url, "fst_not-a-token").await.err(), Some(401));
    let mut stream = EventStream::open(&s.url, &kim.token()).await.unwrap();
    assert_eq!(stream.next().await.as_deref(), Some("ready"));
    s.admin.revoke_device(&kim.device_id).unwrap();
    assert_eq!(stream.next().await.as_deref(), Some("revoked"));
    assert_eq!(stream.next().await, None, "the stream ends");
    assert_eq!(EventStream::open(&s.url, &kim.token()).await.err(), Some(401));

    // The device's live loop stops with Unauthorized instead of retrying forever.
    let mut live = start_following(&kim);
    let r = tokio::time::timeout(std::time::Duration::from_secs(30), &mut live.task)
        .await
        .expect("the loop ends")
        .unwrap();
    assert!(matches!(r, Err(fieldsales_core::sync::SyncError::Unauthorized)), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_changes_and_rejections_and_answers_carry_a_request_id() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    let kim = s.device(&ws, "kim", Role::Rep, None).await;
    let push_ok = "fieldsales_http_requests_total{endpoint=\"/v1/push\",status=\"200\"}";
    assert_eq!(metric(&s.url, push_ok).await, 0.0);
    for i in 0..3 {
        kim.owned(&format!("lead {i}"), "kim");
    }
    kim.owned("not kim's to give", "lee-does-not-exist");
    let summary = kim.sync().await.unwrap();
    assert_eq!((summary.sent, summary.rejected), (3, 1));

    assert_eq!(metric(&s.url, push_ok).await, 1.0);
    assert_eq!(metric(&s.url, "fieldsales_changes_accepted_total").await, 3.0);
    assert_eq!(
        metric(&s.url, "fieldsales_changes_rejected_total{code=\"invalid_document\"}").await,
        1.0
    );
    assert_eq!(
        metric(&s.url, "fieldsales_http_request_duration_seconds_count{endpoint=\"/v1/push\"}")
            .await,
        1.0
    );
    assert_eq!(metric(&s.url, "fieldsales_committed_pushes_total").await, 1.0);
    assert_eq!(metric(&s.url, "fieldsales_commits_total").await, 1.0);
    assert!(metric(&s.url, "fieldsales_doc_cache_misses_total").await >= 0.0);

    // An edit of a lead the server just stored finds it loaded.
    let lead = kim.list_leads(&Default::default()).unwrap().items[0].id.clone();
    kim.update_lead(
        &lead,
        fieldsales_core::LeadPatch { company: Some("Acme".into()), ..Default::default() },
    )
    .unwrap();
    kim.sync().await.unwrap();
    assert_eq!(metric(&s.url, "fieldsales_doc_cache_hits_total").await, 1.0);

    let resp = raw_http()
        .get(format!("{}/v1/health", s.url))
        .header("x-request-id", "lb-42")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "lb-42");
    let resp = raw_http().get(format!("{}/v1/health", s.url)).send().await.unwrap();
    assert_eq!(resp.headers()["x-request-id"].len(), 32, "a new id");
}

/// A push whose body is still arriving when the shutdown begins is finished and answered;
/// the listener no longer takes connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_a_push_under_way() {
    let mut s = Server::start().await;
    let ws = s.workspace("acme");
    let kim = s.device(&ws, "kim", Role::Rep, None).await;
    for i in 0..20 {
        kim.owned(&format!("lead {i}"), "kim");
    }
    let body = outbox_body(&kim);
    let addr = s.url.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/push HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: {CBOR}\r\nContent-Length: {}\r\n\r\n",
        kim.token(),
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&body[..body.len() / 2]).await.unwrap();
    conn.flush().await.unwrap();
    // The server is reading the request's body when the shutdown begins.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    s.begin_shutdown();
    eventually("the listener closed", || async {
        tokio::net::TcpStream::connect(&addr).await.is_err()
    })
    .await;
    conn.write_all(&body[body.len() / 2..]).await.unwrap();
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let resp: PushResponse = from_cbor(&answer[split..]).unwrap();
    assert_eq!(resp.accepted.len(), 20);
    let db = s.db.clone();
    let _dir = s.stop().await;
    assert_eq!(feed_len(&db), 20, "the push was stored");
}

/// Over https with a self-signed certificate: the handshake, and the API behind it; plain http
/// to the TLS port gets nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_binary_speaks_tls_when_given_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::fresh(dir.path());
    let admin = db.admin().await;
    let ws = admin.create_workspace("acme").unwrap().id;
    let code = admin.add_user(&ws, "kim", Role::Rep, None).unwrap().enrollment_code;
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();
    let server = ServerProcess::start_with(
        &db,
        &["--tls-cert", cert_file.to_str().unwrap(), "--tls-key", key_file.to_str().unwrap()],
    );
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let trusted = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let health = trusted.get(format!("{}/v1/health", server.url)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let enrolled: EnrollResponse = trusted
        .post(format!("{}/v1/devices", server.url))
        .json(&EnrollRequest {
            code,
            device_name: "phone".into(),
            actor_id: fieldsales_core::store::new_actor().to_hex_string(),
            user_id: None,
        })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pulled = trusted
        .post(format!("{}/v1/pull", server.url))
        .bearer_auth(&enrolled.token)
        .header(reqwest::header::CONTENT_TYPE, CBOR)
        .body(to_cbor(&PullRequest { cursor: String::new(), limit: 10 }))
        .send()
        .await
        .unwrap();
    assert_eq!(pulled.status(), 200);
    // An untrusting client fails the handshake; plain http gets no answer.
    assert!(raw_http().get(format!("{}/v1/health", server.url)).send().await.is_err());
    let plain = server.url.replacen("https://", "http://", 1);
    assert!(raw_http().get(format!("{plain}/v1/health")).send().await.is_err());
}

/// A backup taken while devices push (`admin backup` on SQLite, `pg_dump` on PostgreSQL) is a
/// consistent store: every document it holds loads and has all its changes in its feed, once.
/// It restores into a server that the devices sync with (their cursors, now past its feed,
/// are refused and they start over), and new work flows between them again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_into_a_server_devices_sync_with() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "t");
    let kim = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let boss = s.device(&ws, "boss", Role::Manager, Some("t")).await;
    let load = {
        let (kim, boss) = (kim.store.clone(), boss.store.clone());
        tokio::spawn(async move {
            for i in 0..15 {
                kim.create_lead(fieldsales_core::LeadDraft {
                    name: Some(format!("load {i}")),
                    owner: Some("kim".into()),
                    ..Default::default()
                })
                .unwrap();
                for store in [&kim, &boss] {
                    let c = fieldsales_core::sync::SyncClient::for_store(store).unwrap();
                    c.sync(store, &|_| {}).await.unwrap();
                }
            }
        })
    };
    // Taken while the load runs.
    eventually("some pushes stored", || async { feed_len(&s) >= 4 }).await;
    let backup = match &s.db {
        Db::Sqlite(dir) => {
            let to = tempfile::tempdir().unwrap();
            let file = to.path().join("fs.db");
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_fieldsales-server"))
                .args(["admin", "--data", dir.to_str().unwrap(), "backup", "--to"])
                .arg(&file)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            std::fs::rename(&file, to.path().join("backup.db")).unwrap();
            Backup::Sqlite(to)
        }
        Db::Postgres(_) => s.backup().await,
    };
    load.await.unwrap();
    let s = s.restore(backup).await;
    let restored = server_documents(&s);
    assert!(restored.len() >= 2, "the backup holds what was stored when it was taken");
    assert_server_consistent(&s);
    kim.set_server(&s.url);
    boss.set_server(&s.url);
    kim.sync().await.unwrap();
    boss.sync().await.unwrap();
    let after = kim.owned("after the restore", "kim");
    kim.sync().await.unwrap();
    boss.sync().await.unwrap();
    assert_eq!(boss.lead(&after.id).unwrap(), kim.lead(&after.id).unwrap());
    for id in restored.keys() {
        assert!(boss.document_heads(id).is_ok(), "{id} from the backup is on the manager's device");
    }
    assert_server_consistent(&s);
}

/// What a restore from an older backup lost comes back from the devices: a device whose cursor
/// the restored server refuses puts every change it wrote into its outbox again and sends it.
/// A change built on another device's lost change waits in the outbox (not in quarantine)
/// until that device has sent its own again. Nothing acknowledged before the restore is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_work_lost_by_a_restore_comes_back_from_the_devices() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "t");
    let kim = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let boss = s.device(&ws, "boss", Role::Manager, Some("t")).await;
    let lead = kim.owned("before the backup", "kim");
    kim.sync().await.unwrap();
    boss.sync().await.unwrap();
    let backup = s.backup().await;

    // Acknowledged after the backup: kim's new leads and a call; the boss's edit of her lead;
    // kim's edit on top of the boss's (its Automerge dependencies include his change).
    let after: Vec<_> =
        (0..5).map(|i| kim.owned(&format!("after the backup {i}"), "kim")).collect();
    let call = kim
        .add_activity(fieldsales_core::ActivityDraft::new(
            lead.id.clone(),
            fieldsales_core::ActivityKind::Call,
            "Called",
        ))
        .unwrap();
    kim.sync().await.unwrap();
    let company =
        fieldsales_core::LeadPatch { company: Some("Boss edit".into()), ..Default::default() };
    boss.update_lead(&lead.id, company).unwrap();
    boss.sync().await.unwrap();
    kim.sync().await.unwrap();
    let notes =
        fieldsales_core::LeadPatch { notes: Some("Kim's note".into()), ..Default::default() };
    kim.update_lead(&lead.id, notes).unwrap();
    let sent = kim.sync().await.unwrap();
    assert_eq!((sent.sent, kim.outbox_len().unwrap()), (1, 0), "all acknowledged");

    let s = s.restore(backup).await;
    kim.set_server(&s.url);
    boss.set_server(&s.url);
    // Kim first: her leads and call go back; her edits of the lead wait for the boss's.
    let first = kim.sync().await.unwrap();
    assert_eq!(first.rejected, 0);
    assert_eq!(first.held, 1, "{first:?}");
    // What waits is the lead's changes only (a refusal is for the whole record's batch).
    let left: Vec<String> = kim.outbox(0, 100).unwrap().into_iter().map(|e| e.doc_id).collect();
    assert!(!left.is_empty() && left.iter().all(|d| *d == lead.id), "{left:?}");
    assert_eq!(kim.quarantine_len().unwrap(), 0);
    boss.sync().await.unwrap();
    let again = kim.sync().await.unwrap();
    assert_eq!((again.rejected, again.held), (0, 0), "{again:?}");
    assert_eq!(kim.outbox_len().unwrap(), 0);

    // A new device of the boss gets everything from the server alone.
    let tablet = s.device(&ws, "boss", Role::Manager, Some("t")).await;
    tablet.sync().await.unwrap();
    for l in &after {
        assert_eq!(tablet.lead(&l.id).unwrap().name, l.name);
    }
    let merged = tablet.lead(&lead.id).unwrap();
    assert_eq!(merged.company.as_deref(), Some("Boss edit"));
    assert_eq!(merged.notes, "Kim's note");
    assert_eq!(tablet.activities_for_lead(&lead.id).unwrap()[0].id, call.id);
    assert_server_consistent(&s);
}
