//! Syncs cut short: by a loopback proxy that drops the connection after N bytes (mid-request
//! and mid-response, during push and during pull), and by SIGKILL of the real server binary
//! in the middle of a stream of pushes. After each, syncing over a healthy path converges: every
//! device holds the same documents as the server, no change is stored twice, none is lost.

mod common;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use fieldsales_core::sync::protocol::*;
use fieldsales_core::sync::{SyncError, SyncSummary};
use fieldsales_core::*;
use fieldsales_server::backend::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A bound on any single sync, so a hang fails the test instead of stalling it.
const SYNC_BOUND: Duration = Duration::from_secs(30);

async fn sync_bounded(d: &Device) -> Result<SyncSummary, SyncError> {
    tokio::time::timeout(SYNC_BOUND, d.sync()).await.expect("a sync hung")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    /// Client to server: the request.
    Up,
    /// Server to client: the response.
    Down,
}

#[derive(Default)]
struct ProxyState {
    /// When armed: cut once `Dir` has carried this many bytes in total.
    cut: Mutex<Option<(Dir, usize)>>,
    carried: Mutex<[usize; 2]>,
    /// The cut happened: some bytes were withheld and every connection is closed.
    cut_done: AtomicBool,
    connections: AtomicUsize,
}

/// A loopback TCP proxy in front of the server that, when armed, forwards at most N bytes in
/// one direction, then closes both sides of the connection and refuses every later one.
struct Proxy {
    url: String,
    state: Arc<ProxyState>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(ProxyState::default());
        let st = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { return };
                st.connections.fetch_add(1, Ordering::SeqCst);
                if st.cut_done.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let st = st.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else { return };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    // Whichever direction ends (EOF or the cut), both sockets are dropped.
                    tokio::select! {
                        _ = pump(cr, sw, Dir::Up, &st) => {}
                        _ = pump(sr, cw, Dir::Down, &st) => {}
                    }
                });
            }
        });
        Proxy { url, state, task }
    }

    fn arm(&self, dir: Dir, after: usize) {
        *self.state.cut.lock().unwrap() = Some((dir, after));
        *self.state.carried.lock().unwrap() = [0, 0];
        self.state.cut_done.store(false, Ordering::SeqCst);
    }

    fn cut_happened(&self) -> bool {
        self.state.cut_done.load(Ordering::SeqCst)
    }

    fn carried(&self) -> [usize; 2] {
        *self.state.carried.lock().unwrap()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    dir: Dir,
    st: &ProxyState,
) {
    let mut buf = vec![0u8; 4096];
    loop {
        if st.cut_done.load(Ordering::SeqCst) {
            return;
        }
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let allowed = {
            let cut = *st.cut.lock().unwrap();
            let mut carried = st.carried.lock().unwrap();
            let i = dir as usize;
            let allowed = match cut {
                Some((d, limit)) if d == dir => n.min(limit.saturating_sub(carried[i])),
                _ => n,
            };
            carried[i] += allowed;
            allowed
        };
        if to.write_all(&buf[..allowed]).await.is_err() {
            return;
        }
        if allowed < n {
            st.cut_done.store(true, Ordering::SeqCst);
            let _ = to.flush().await;
            return;
        }
    }
}

fn cursor(d: &Device) -> Option<String> {
    d.meta("sync.cursor").unwrap()
}

/// Length of the push request body `d`'s next sync sends (one batch).
fn push_body_len(d: &Device) -> usize {
    let out = d.outbox(0, 500).unwrap();
    assert!(!out.is_empty());
    to_cbor(&PushRequest {
        changes: out
            .into_iter()
            .map(|e| PushChange { doc_id: e.doc_id, kind: e.kind, change: e.change })
            .collect(),
    })
    .len()
}

/// Bytes of the changes `d`'s next pull receives: the feed after its cursor, less its own.
fn pull_bytes(at: &Server, d: &Device) -> usize {
    // Feed cursors are `f<seq>~<visibility stamp>` (sync-server/src/cursor.rs).
    let seq: i64 = cursor(d)
        .and_then(|c| {
            c.strip_prefix('f').map(|n| n.split('~').next().unwrap_or(n).parse().unwrap())
        })
        .expect("the device is on the feed");
    let sql = format!(
        "SELECT CAST(coalesce(sum(length(data)), 0) AS TEXT) FROM feed WHERE seq > {seq} AND actor != '{}'",
        d.actor_id()
    );
    let n: i64 = at.db.rows2(&sql, &sql)[0].parse().unwrap();
    assert!(n > 1_000, "too little to pull for a mid-response cut: {n} bytes");
    n as usize
}

/// Every device writes something: new leads (all owned by kim, so everyone sees everything)
/// and edits of existing ones.
fn work(devices: &[&Device], round: usize) {
    for (i, d) in devices.iter().enumerate() {
        for k in 0..2 {
            d.create_lead(LeadDraft {
                name: Some(format!("r{round} d{i} #{k}")),
                owner: Some("kim".into()),
                ..Default::default()
            })
            .unwrap();
        }
        let ids = d.lead_ids();
        let target = &ids[(round * 7 + i) % ids.len()];
        let note = format!("round {round} by device {i}; ");
        let notes = d.lead(target).unwrap().notes + &note;
        d.update_lead(target, LeadPatch { notes: Some(notes), ..Default::default() }).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn syncs_cut_after_n_bytes_resume_and_converge() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "t");
    let phone = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let tablet = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let boss = s.device(&ws, "boss", Role::Manager, Some("t")).await;
    let devices = [&phone, &tablet, &boss];
    let proxy = Proxy::start(s.url.trim_start_matches("http://").parse().unwrap()).await;
    for d in devices {
        d.owned("Seed", "kim");
    }
    for d in devices.iter().chain(devices.iter()) {
        sync_bounded(d).await.unwrap();
    }

    // (phase, direction, N as a function of B: the push request's body size during a push,
    // the bytes of the changes the pull will carry during a pull). During a push the first
    // bytes up are the push request and the first bytes down its response; during a pull
    // (nothing to push) they are the first pull request and response. Each N is below what
    // that message alone carries, so the cut always falls inside it.
    type At = fn(usize) -> usize;
    let plan: Vec<(&str, Dir, At)> = vec![
        ("push", Dir::Up, |_| 0),
        ("push", Dir::Up, |_| 1),
        ("push", Dir::Up, |_| 60),
        ("push", Dir::Up, |b| b / 2),
        ("push", Dir::Up, |b| b),
        ("push", Dir::Down, |_| 0),
        ("push", Dir::Down, |_| 1),
        ("push", Dir::Down, |_| 40),
        ("push", Dir::Down, |_| 150),
        ("push", Dir::Down, |_| 260),
        ("pull", Dir::Up, |_| 1),
        ("pull", Dir::Up, |_| 40),
        ("pull", Dir::Up, |_| 100),
        ("pull", Dir::Down, |_| 1),
        ("pull", Dir::Down, |_| 60),
        ("pull", Dir::Down, |b| b / 4),
        ("pull", Dir::Down, |b| b / 2),
        ("pull", Dir::Down, |b| b - 1),
    ];
    for (round, (phase, dir, at)) in plan.into_iter().enumerate() {
        let victim = devices[round % devices.len()];
        work(&devices, round);
        if phase == "pull" {
            // Push directly first, so the cut sync is pulls only; the others' new work is what
            // it pulls (5 new changes each, some kilobytes).
            sync_bounded(victim).await.unwrap();
            for d in devices.iter().filter(|d| !std::ptr::eq(**d, victim)) {
                sync_bounded(d).await.unwrap();
            }
            assert_eq!(victim.outbox_len().unwrap(), 0);
        }
        let outbox = victim.outbox_len().unwrap();
        let n = at(if phase == "push" { push_body_len(victim) } else { pull_bytes(&s, victim) });
        let feed_before = feed_len(&s);
        let cursor_before = cursor(victim);
        let what = format!("round {round}: cut {phase} {dir:?} after {n} bytes");

        proxy.arm(dir, n);
        victim.set_server(&proxy.url);
        let r = sync_bounded(victim).await;
        assert!(
            proxy.cut_happened(),
            "{what}: the proxy never cut (carried {:?})",
            proxy.carried()
        );
        assert!(r.is_err(), "{what}: a cut sync reported success: {r:?}");
        match (phase, dir) {
            ("push", Dir::Up) => {
                assert_eq!(feed_len(&s), feed_before, "{what}: a half-sent push stored something");
                assert_eq!(victim.outbox_len().unwrap(), outbox);
            }
            ("push", Dir::Down) => {
                // The server stored the push, the device never heard: its outbox keeps it all.
                assert_eq!(feed_len(&s), feed_before + outbox as usize, "{what}");
                assert_eq!(
                    victim.outbox_len().unwrap(),
                    outbox,
                    "{what}: changes acknowledged without an answer"
                );
            }
            _ => assert_eq!(
                cursor(victim),
                cursor_before,
                "{what}: the cursor moved without the items"
            ),
        }

        // A healthy path: the retry converges without storing anything twice.
        victim.set_server(&s.url);
        let sum =
            sync_bounded(victim).await.unwrap_or_else(|e| panic!("{what}: retry failed: {e}"));
        assert_eq!(victim.outbox_len().unwrap(), 0, "{what}");
        assert_eq!(sum.rejected, 0, "{what}");
        if phase == "push" {
            assert_eq!(sum.sent, outbox as u64, "{what}: the retry acknowledged every change");
        } else {
            assert!(sum.received > 0, "{what}: the retry pulled what the cut pull lost");
        }
        assert!(feed_duplicates(&s).is_empty(), "{what}");
    }
    assert!(proxy.state.connections.load(Ordering::SeqCst) >= 18);

    // Everyone catches up over the healthy path; two rounds so each sees the others' last push.
    for d in devices.iter().chain(devices.iter()) {
        let sum = sync_bounded(d).await.unwrap();
        assert_eq!(sum.rejected, 0);
    }
    assert_converged(&devices, &s);
    assert_eq!(phone.lead_ids().len(), 3 + 18 * 3 * 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_mid_stream_restarts_and_everyone_converges() {
    let data = tempfile::tempdir().unwrap();
    let db = Db::fresh(data.path());
    let admin = db.admin().await;
    let ws = admin.create_workspace("acme").unwrap().id;
    admin.create_team(&ws, "t").unwrap();
    let mut server = ServerProcess::start(&db);
    let mut codes = vec![admin.add_user(&ws, "kim", Role::Rep, Some("t")).unwrap().enrollment_code];
    codes.push(admin.enrollment_code(&ws, "kim").unwrap());
    codes.push(admin.add_user(&ws, "boss", Role::Manager, Some("t")).unwrap().enrollment_code);
    codes.push(admin.add_user(&ws, "root", Role::Admin, None).unwrap().enrollment_code);
    let mut devices = Vec::new();
    for c in &codes {
        devices.push(Device::enroll(&server.url, c).await.unwrap());
    }

    // Three devices loop: write (a new lead, an edit), sync. Once they are under way a fourth
    // pushes an import of 1,200 leads: three push requests (the client's batches of 500), each
    // one server transaction. The server is SIGKILLed when the first request is stored and the
    // next is under way, with the small syncs still running: what is stored must be whole
    // requests, never part of one.
    const BULK: usize = 1200;
    const BATCH: usize = 500;
    const MAX_SYNCS: usize = 60;
    let bulk = devices.remove(0);
    let bulk_actor = bulk.actor_id();
    bulk.create_leads(
        (0..BULK)
            .map(|i| LeadDraft { name: Some(format!("import {i}")), ..Default::default() })
            .collect(),
    )
    .unwrap();
    let killed = Arc::new(AtomicBool::new(false));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut tasks = Vec::new();
    for (i, d) in devices.into_iter().enumerate() {
        let killed = killed.clone();
        let done_tx = done_tx.clone();
        tasks.push(tokio::spawn(async move {
            let mut created = 0usize;
            for n in 0..MAX_SYNCS {
                d.create_lead(LeadDraft {
                    name: Some(format!("d{i} #{n}")),
                    owner: Some("kim".into()),
                    ..Default::default()
                })
                .unwrap();
                created += 1;
                if let Some(id) = d.lead_ids().get(n % 3) {
                    d.update_lead(
                        id,
                        LeadPatch { notes: Some(format!("d{i} #{n}")), ..Default::default() },
                    )
                    .unwrap();
                }
                match sync_bounded(&d).await {
                    Ok(_) => {
                        let _ = done_tx.send(());
                    }
                    Err(e) => {
                        assert!(
                            killed.load(Ordering::SeqCst),
                            "device {i} failed before the kill: {e}"
                        );
                        return (d, created, true);
                    }
                }
            }
            (d, created, false)
        }));
    }
    drop(done_tx);
    for _ in 0..3 {
        done_rx.recv().await.expect("the devices stopped before 3 syncs");
    }
    let k = killed.clone();
    tasks.insert(
        0,
        tokio::spawn(async move {
            let r = sync_bounded(&bulk).await;
            assert!(k.load(Ordering::SeqCst), "the import finished before the kill: {r:?}");
            (bulk, BULK, r.is_err())
        }),
    );
    // Wait (bounded) until the first request of the import is in.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while stored_by(&db, &bulk_actor) < BATCH {
        assert!(std::time::Instant::now() < deadline, "the import never reached the server");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    killed.store(true, Ordering::SeqCst);
    server.kill();
    let partial = stored_by(&db, &bulk_actor);
    assert!(
        (BATCH..BULK).contains(&partial),
        "the kill did not land inside the import: {partial} of {BULK} stored"
    );
    assert_eq!(partial % BATCH, 0, "a push request was stored in part: {partial} of {BULK}");

    let mut devices = Vec::new();
    let mut created = 0;
    for t in tasks {
        let (d, n, cut) = t.await.unwrap();
        assert!(cut, "a device finished its {MAX_SYNCS} syncs without noticing the kill");
        created += n;
        devices.push(d);
    }
    // The device dropped from its outbox only what the server had stored: whole requests.
    let acked = BULK - devices[0].outbox_len().unwrap() as usize;
    assert!(
        acked <= partial && acked.is_multiple_of(BATCH),
        "acknowledged {acked} of the import, the server stored {partial}"
    );

    // Restarted on the same data directory, on a new port.
    let server = ServerProcess::start(&db);
    assert_eq!(
        stored_by(&db, &bulk_actor),
        partial,
        "what was committed before the kill is still there"
    );
    for d in &devices {
        d.set_server(&server.url);
    }
    for d in devices.iter().chain(devices.iter()) {
        assert_eq!(sync_bounded(d).await.unwrap().rejected, 0);
    }
    assert_eq!(stored_by(&db, &bulk_actor), BULK);
    let refs: Vec<&Device> = devices.iter().collect();
    assert_converged(&refs, &db);
    assert_eq!(
        devices[0].lead_ids().len(),
        created,
        "every lead written on any device is on every device"
    );
}
