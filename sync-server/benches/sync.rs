//! Sync benchmarks against issue 3's targets, in one run, on loopback against the real server
//! (`fieldsales_server::serve` on 127.0.0.1:0, SQLite backend in a temp dir) and real device
//! stores enrolled through the HTTP API and synced with the core's `SyncClient`.
//!
//!   CARGO_BUILD_JOBS=2 cargo bench -p fieldsales-server --bench sync
//!
//! 1. Bootstrap: an admin device imports 10,000 leads and 30,000 activities and pushes them
//!    (untimed); a manager's new device then runs its first `sync()` (timed). Side by side, the
//!    same saved documents are fetched one by one with Automerge's own sync protocol
//!    (`automerge::sync`, generate/receive round trips over HTTP) from a small axum endpoint in
//!    this binary that holds the server's saved documents in memory. If all 40,000 would take
//!    more than ~3 minutes, only a fixed random sample is synced and the total extrapolated.
//! 2. Incremental: the admin device edits 100 leads and syncs (timed), then the manager's
//!    device syncs and receives them (timed); 5 rounds.
//! 3. Load: 50 devices (5 teams × 4 reps with a phone and a tablet + a manager with two
//!    devices) on a fresh server. First (3b) they loop "4 local changes, then `sync()`" for
//!    FIELDSALES_BENCH_SECS (60 by default), stores and server in this one process. Then (3)
//!    the same device stores make their loops of changes offline, and 50 concurrent plain HTTP
//!    clients push them a loop at a time and pull until caught up, for the same time: the
//!    server's changes/s and p99 without the simulated phones' CPU on the same 2 cores.
//! 4. Wire size: one captured lead pushed through a counting TCP proxy; request and response
//!    bytes of the push (bodies, and with HTTP headers) against the lead's saved document.
//!
//! Server and clients share one process and the machine's cores. At the end a markdown table
//! is printed and written to docs/benchmarks-sync.md. Without `--bench` (`cargo test
//! --all-targets`) every phase runs once on tiny data and nothing is written.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use automerge::AutoCommit;
use automerge::sync::{Message as AmMessage, State as AmState, SyncDoc};
use axum::body::Bytes;
use axum::extract::{Path as AxPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use fieldsales_core::sync::protocol::{
    CBOR, PullItem, PullRequest, PullResponse, from_cbor, to_cbor,
};
use fieldsales_core::sync::{SyncClient, SyncPhase, SyncProgress, SyncSummary, enroll};
use fieldsales_core::{
    ActivityDraft, ActivityKind, DocKind, LeadDraft, LeadPatch, OpenOptions, PullApply, Stage,
    Store,
};
use fieldsales_server::backend::{Backend, Role};
use fieldsales_server::database::AdminStore;
use fieldsales_server::postgres::PgBackend;
use fieldsales_server::sqlite::SqliteBackend;
use fieldsales_server::{AppState, serve};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use testkit::data::{POTENTIALS, notes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The server binary's allocator (`src/main.rs`), so the server in this process runs as shipped.
#[path = "../tests/common/pg.rs"]
mod pg;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// 2026-11-02 09:00 UTC.
const T0: i64 = 1_793_610_000_000;
const DAY: i64 = 86_400_000;

// ---- configuration ------------------------------------------------------------------------

#[derive(Clone)]
struct Cfg {
    bench: bool,
    leads: usize,
    activities_per_lead: usize,
    /// Documents synced with Automerge's protocol before deciding whether to do them all.
    baseline_sample: usize,
    /// Do all documents with Automerge's protocol only if the extrapolation stays below this.
    baseline_budget: Duration,
    incr_rounds: usize,
    incr_leads: usize,
    load_teams: usize,
    load_secs: u64,
    load_initial_leads: usize,
    /// Loops of changes per device made offline for the server-alone replay.
    replay_loops: usize,
}

impl Cfg {
    fn new(bench: bool) -> Cfg {
        let load_secs = std::env::var("FIELDSALES_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(if bench { 60 } else { 2 });
        if bench {
            Cfg {
                bench,
                leads: 10_000,
                activities_per_lead: 3,
                baseline_sample: 2_000,
                baseline_budget: Duration::from_secs(180),
                incr_rounds: 5,
                incr_leads: 100,
                load_teams: 5,
                load_secs,
                load_initial_leads: 10,
                // Enough for the replay to last its FIELDSALES_BENCH_SECS at ~4,500 changes/s.
                replay_loops: 24 * load_secs as usize,
            }
        } else {
            Cfg {
                bench,
                leads: 200,
                activities_per_lead: 3,
                baseline_sample: 100,
                baseline_budget: Duration::from_secs(5),
                incr_rounds: 2,
                incr_leads: 20,
                load_teams: 1,
                load_secs,
                load_initial_leads: 3,
                replay_loops: 5,
            }
        }
    }
}

// ---- servers on their own runtime ---------------------------------------------------------

/// A runtime of its own for a server (2 workers, like the cores here), so client work in the
/// bench cannot block the server's accept loop; the threads are named `srv…` for CPU accounting.
struct ServerRt {
    rt: Option<tokio::runtime::Runtime>,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl ServerRt {
    fn start<F, Fut>(f: F) -> ServerRt
    where
        F: FnOnce(tokio::net::TcpListener, tokio::sync::oneshot::Receiver<()>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("srv")
            .thread_keep_alive(Duration::from_secs(3600))
            .enable_all()
            .build()
            .expect("server runtime");
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        std_listener.set_nonblocking(true).expect("nonblocking listener");
        let addr = std_listener.local_addr().expect("local addr");
        let (tx, rx) = tokio::sync::oneshot::channel();
        {
            let _g = rt.enter();
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("tokio listener");
            rt.spawn(f(listener, rx));
        }
        ServerRt { rt: Some(rt), addr, stop: Some(tx) }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for ServerRt {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Where a bench server keeps its data.
enum Data {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

/// The product server: `fieldsales_server::serve` on a SQLite data directory, or one or more
/// instances (each on a runtime of its own, as separate processes would be) on one PostgreSQL
/// database.
struct Server {
    srvs: Vec<ServerRt>,
    admin: Box<dyn AdminStore>,
    /// Runs the PostgreSQL admin handle's connections (dropped after it).
    _admin_rt: Option<tokio::runtime::Runtime>,
    docs: Vec<Arc<fieldsales_server::docs::DocCache>>,
    commits: Vec<Arc<fieldsales_server::group::GroupCommit>>,
    data: Data,
}

/// Serves the state `make` builds on a runtime of its own (which then runs the backend's
/// connections too); its document cache and group commit.
fn serve_state<B: Backend, F: std::future::Future<Output = AppState<B>> + Send + 'static>(
    make: impl FnOnce() -> F + Send + 'static,
) -> (ServerRt, Arc<fieldsales_server::docs::DocCache>, Arc<fieldsales_server::group::GroupCommit>)
{
    let (tx, rx) = std::sync::mpsc::channel();
    let srv = ServerRt::start(move |listener, stop| async move {
        let state = make().await;
        let _ = tx.send((state.docs.clone(), state.commits.clone()));
        serve(listener, state, async {
            let _ = stop.await;
        })
        .await
        .expect("server stopped with an error");
    });
    let (docs, commits) = rx.recv().expect("server state");
    (srv, docs, commits)
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().expect("server temp dir");
        let backend = SqliteBackend::open(dir.path()).expect("open server store");
        let (srv, docs, commits) = serve_state(move || async move { AppState::new(backend) });
        let admin = Box::new(SqliteBackend::open(dir.path()).expect("open admin handle"));
        Server {
            srvs: vec![srv],
            admin,
            _admin_rt: None,
            docs: vec![docs],
            commits: vec![commits],
            data: Data::Sqlite(dir),
        }
    }

    /// `instances` servers on the PostgreSQL database at `url`.
    fn start_pg(url: &str, instances: usize) -> Server {
        let admin_rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("admin runtime");
        // Also brings the schema up to date before the instances start.
        let admin = Box::new(admin_rt.block_on(PgBackend::open_quiet(url, 2)).expect("admin"));
        let (mut srvs, mut docs, mut commits) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..instances {
            let u = url.to_string();
            let (srv, d, c) = serve_state(move || async move {
                AppState::new(PgBackend::connect(&u).await.expect("connect to PostgreSQL"))
            });
            srvs.push(srv);
            docs.push(d);
            commits.push(c);
        }
        Server {
            srvs,
            admin,
            _admin_rt: Some(admin_rt),
            docs,
            commits,
            data: Data::Postgres(url.into()),
        }
    }

    fn url(&self) -> String {
        self.srvs[0].url()
    }

    /// The instance device `i` talks to.
    fn url_of(&self, i: usize) -> String {
        self.srvs[i % self.srvs.len()].url()
    }

    fn db(&self) -> rusqlite::Connection {
        let Data::Sqlite(dir) = &self.data else { panic!("phases 1, 2 and 4 run on SQLite") };
        rusqlite::Connection::open_with_flags(
            dir.path().join("fieldsales-server.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open server db read-only")
    }

    fn code(&self, ws: &str, user: &str, role: Role, team: Option<&str>) -> String {
        match self.admin.add_user(ws, user, role, team) {
            Ok(u) => u.enrollment_code,
            Err(_) => self.admin.enrollment_code(ws, user).expect("enrollment code"),
        }
    }

    fn feed_len(&self) -> i64 {
        match &self.data {
            Data::Sqlite(_) => self
                .db()
                .query_row("SELECT count(*) FROM feed", [], |r| r.get(0))
                .expect("count feed"),
            Data::Postgres(url) => {
                pg::Cluster::rows(url, "SELECT count(*) FROM feed")[0].parse().expect("count")
            }
        }
    }

    /// Document cache hits and misses, over every instance.
    fn cache(&self) -> (u64, u64) {
        self.docs.iter().map(|d| d.hits_and_misses()).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }

    /// Push transactions and the requests they held, over every instance.
    fn groups(&self) -> (u64, u64) {
        self.commits
            .iter()
            .map(|c| c.transactions_and_requests())
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }
}

// ---- devices ------------------------------------------------------------------------------

struct Device {
    store: Arc<Store>,
    _dir: tempfile::TempDir,
}

async fn enroll_device(url: &str, code: &str) -> Device {
    let dir = tempfile::tempdir().expect("device temp dir");
    let actor = fieldsales_core::store::new_actor().to_hex_string();
    let creds = enroll(url, code, "bench device", &actor).await.expect("enroll");
    let store = Store::open(
        dir.path().join("store.db"),
        OpenOptions::new(&creds.user_id).region("KR").actor(&actor),
    )
    .expect("open device store");
    SyncClient::save_credentials(&store, &creds).expect("save credentials");
    Device { store: Arc::new(store), _dir: dir }
}

async fn device(s: &Server, ws: &str, user: &str, role: Role, team: Option<&str>) -> Device {
    device_at(s, 0, ws, user, role, team).await
}

/// A device enrolled on instance `i` of `s` (its later syncs go there).
async fn device_at(
    s: &Server,
    i: usize,
    ws: &str,
    user: &str,
    role: Role,
    team: Option<&str>,
) -> Device {
    let code = s.code(ws, user, role, team);
    enroll_device(&s.url_of(i), &code).await
}

fn lead_ids(store: &Store) -> Vec<String> {
    store
        .document_ids()
        .expect("document ids")
        .into_iter()
        .filter(|(_, k)| *k == DocKind::Lead)
        .map(|(id, _)| id)
        .collect()
}

/// One `sync()` with its phases timed from the progress callback: the push phase ends at the
/// last push report, the pull phase runs from there to the end.
struct Timed {
    total: Duration,
    push: Duration,
    pull: Duration,
    pull_pages: usize,
    summary: SyncSummary,
    /// CPU seconds of the push phase and of the pull phase: (server, device).
    push_cpu: (f64, f64),
    pull_cpu: (f64, f64),
}

/// CPU seconds so far: the process's, and its live threads' by group (see [`cpu_by_group`]).
type Cpu = (f64, (f64, f64, f64));

fn cpu_now() -> Cpu {
    (process_cpu(), cpu_by_group())
}

/// (server, device) CPU seconds between `a` and `b`. Threads that ended meanwhile are counted
/// for `ended`: the server's (a push spreads its work over threads that end with the request)
/// or the device's (it applies a pull page on threads of its own).
fn cpu_between(a: Cpu, b: Cpu, ended_are_servers: bool) -> (f64, f64) {
    let srv = b.1.0 - a.1.0;
    let dev = (b.1.1 + b.1.2) - (a.1.1 + a.1.2);
    let ended = ((b.0 - a.0) - srv - dev).max(0.0);
    if ended_are_servers { (srv + ended, dev) } else { (srv, dev + ended) }
}

async fn timed_sync(client: &SyncClient, store: &Store) -> Result<Timed, String> {
    let events: Mutex<Vec<(Instant, SyncPhase, Cpu)>> = Mutex::new(Vec::new());
    let progress =
        |p: SyncProgress| events.lock().expect("events").push((Instant::now(), p.phase, cpu_now()));
    let c0 = cpu_now();
    let t0 = Instant::now();
    let r = client.sync(store, &progress).await;
    let end = Instant::now();
    let c1 = cpu_now();
    let summary = r.map_err(|e| e.to_string())?;
    let ev = events.into_inner().expect("events");
    let (push_end, cpu_mid) =
        ev.iter().rev().find(|e| e.1 == SyncPhase::Push).map_or((t0, c0), |e| (e.0, e.2));
    Ok(Timed {
        total: end - t0,
        push: push_end - t0,
        pull: end - push_end,
        pull_pages: ev.iter().filter(|e| e.1 == SyncPhase::Pull).count(),
        summary,
        push_cpu: cpu_between(c0, cpu_mid, true),
        pull_cpu: cpu_between(cpu_mid, c1, false),
    })
}

// ---- data ---------------------------------------------------------------------------------

const COMPANIES: [&str; 10] = [
    "Bazora Systems",
    "Dexora Tech",
    "Gizora Logistics",
    "Hoxora Foods",
    "Kuzora Bio",
    "Maxora Motors",
    "Nezora Telecom",
    "Pixora Energy",
    "Rozora Retail",
    "Tuxora Pharma",
];
const STAGES: [Stage; 5] =
    [Stage::New, Stage::Contacted, Stage::Qualified, Stage::Proposal, Stage::Negotiation];

/// The typical captured lead of the core's benches (`testkit::typical_draft`: name, company,
/// title, one e-mail, one phone, event, badge scan, stage, potential, a KRW deal value, two
/// tags, ~100 characters of notes, one custom field and a follow-up), owned by `owner`.
fn typical_draft(rng: &mut StdRng, owner: &str) -> LeadDraft {
    static COMPANY_NAMES: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| COMPANIES.iter().map(|c| c.to_string()).collect());
    LeadDraft { owner: Some(owner.to_string()), ..testkit::typical_draft(rng, &COMPANY_NAMES) }
}

fn typical_activity(rng: &mut StdRng, lead_id: &str) -> ActivityDraft {
    let kinds = [
        ActivityKind::Call,
        ActivityKind::Meeting,
        ActivityKind::Email,
        ActivityKind::Visit,
        ActivityKind::Note,
    ];
    let kind = *kinds.choose(rng).expect("kinds");
    let subject = match kind {
        ActivityKind::Call => "Follow-up call after the expo",
        ActivityKind::Meeting => "Demo meeting with the purchasing team",
        ActivityKind::Email => "Sent the price list and brochure",
        ActivityKind::Visit => "Site visit at the factory",
        _ => "견적 요청 메모",
    };
    let mut d = ActivityDraft::new(lead_id, kind, subject);
    d.notes = Some(notes(rng, "."));
    d.occurred_at = Some(T0 - rng.random_range(1..90) * DAY);
    if kind == ActivityKind::Call {
        d.duration_s = Some(rng.random_range(30..1800));
        d.outcome = Some("interested".into());
    }
    d
}

/// A small edit as a rep makes it: stage, potential, follow-up or a tag.
fn random_patch(rng: &mut StdRng, salt: i64) -> LeadPatch {
    match rng.random_range(0..4) {
        0 => LeadPatch {
            stage: Some(*STAGES.choose(rng).expect("stages")),
            next_follow_up: Some(T0 + salt * 60_000),
            ..Default::default()
        },
        1 => LeadPatch {
            potential: Some(*POTENTIALS.choose(rng).expect("potentials")),
            next_follow_up: Some(T0 + salt * 60_000),
            ..Default::default()
        },
        2 => LeadPatch { add_tags: vec![format!("t{}", salt % 50)], ..Default::default() },
        _ => LeadPatch { next_follow_up: Some(T0 + salt * 60_000 + 1), ..Default::default() },
    }
}

// ---- statistics and machine ---------------------------------------------------------------

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn median(v: &[Duration]) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    pct(&s, 50.0)
}

fn ms(d: Duration) -> String {
    let m = d.as_secs_f64() * 1000.0;
    if m >= 100.0 { format!("{m:.0} ms") } else { format!("{m:.1} ms") }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn cmd(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "n/a".into())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map(|kb| format!("{:.0} GiB RAM", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!(
        "{cores} cores ({cpu}), {mem}, {}; shared with other engineers' builds and tests",
        cmd("uname", &["-sr"])
    )
}

/// utime + stime of a `/proc/…/stat` line, in clock ticks.
fn stat_ticks(stat: &str) -> f64 {
    let Some(close) = stat.rfind(')') else { return 0.0 };
    let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    // After the comm: state is field 3, utime field 14, stime field 15.
    rest.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + rest.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
}

/// Clock ticks a second, as `/proc/…/stat` counts CPU time.
fn clock_ticks() -> f64 {
    static TCK: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TCK.get_or_init(|| cmd("getconf", &["CLK_TCK"]).parse().unwrap_or(100.0))
}

/// CPU seconds used so far by the whole process, threads that ended included.
fn process_cpu() -> f64 {
    let tck = clock_ticks();
    std::fs::read_to_string("/proc/self/stat").map_or(0.0, |s| stat_ticks(&s) / tck)
}

/// CPU seconds used so far by this process's live threads, grouped by name: `srv…` (server
/// runtimes), `dev…` (device runtimes), the rest.
fn cpu_by_group() -> (f64, f64, f64) {
    let tck = clock_ticks();
    let (mut srv, mut dev, mut other) = (0.0, 0.0, 0.0);
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for e in dir.flatten() {
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { continue };
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
            let comm = &stat[open + 1..close];
            let t = stat_ticks(&stat) / tck;
            if comm.starts_with("srv") {
                srv += t;
            } else if comm.starts_with("dev") {
                dev += t;
            } else {
                other += t;
            }
        }
    }
    (srv, dev, other)
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(120)).build().expect("reqwest client")
}

// ---- 1. bootstrap -------------------------------------------------------------------------

struct Bootstrap {
    leads: usize,
    activities: usize,
    seed_create: Duration,
    seed_sync: Duration,
    seed_push: Duration,
    client_setup: Duration,
    sync: Timed,
    docs_on_device: usize,
    transport: Duration,
    transport_pages: usize,
    transport_bytes: usize,
    apply_only: Duration,
    /// CPU seconds (server threads, client threads) during the timed bootstrap.
    boot_cpu: (f64, f64),
    am_load: Duration,
    am_save: Duration,
    am_read: Duration,
    baseline_docs: usize,
    baseline_measured: Duration,
    baseline_total: Duration,
    baseline_extrapolated: bool,
    baseline_round_trips: u64,
    baseline_bytes: u64,
}

struct Seeded {
    ws: String,
    admin: Device,
    manager: Device,
}

async fn seed(cfg: &Cfg, s: &Server) -> (Seeded, Duration, Duration, Duration) {
    let ws = s.admin.create_workspace("acme").expect("workspace").id;
    s.admin.create_team(&ws, "seoul").expect("team");
    let reps: Vec<String> = (1..=10).map(|i| format!("rep{i:02}")).collect();
    for r in &reps {
        s.admin.add_user(&ws, r, Role::Rep, Some("seoul")).expect("rep");
    }
    let admin = device(s, &ws, "ops", Role::Admin, None).await;
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let t = Instant::now();
    let mut ids = Vec::with_capacity(cfg.leads);
    let mut left = cfg.leads;
    while left > 0 {
        let n = left.min(1_000);
        let drafts: Vec<LeadDraft> = (0..n)
            .map(|_| {
                let owner = reps.choose(&mut rng).expect("reps").clone();
                typical_draft(&mut rng, &owner)
            })
            .collect();
        ids.extend(
            admin.store.create_leads(drafts).expect("import leads").into_iter().map(|l| l.id),
        );
        left -= n;
    }
    for id in &ids {
        for _ in 0..cfg.activities_per_lead {
            admin.store.add_activity(typical_activity(&mut rng, id)).expect("add activity");
        }
    }
    let create = t.elapsed();
    eprintln!(
        "  seeded {} leads and {} activities locally in {}",
        ids.len(),
        ids.len() * cfg.activities_per_lead,
        secs(create)
    );
    let client = SyncClient::for_store(&admin.store).expect("sync client");
    let seeded = timed_sync(&client, &admin.store).await.expect("seeding sync");
    assert_eq!(seeded.summary.rejected, 0, "seeding changes were rejected");
    assert_eq!(admin.store.outbox_len().expect("outbox"), 0);
    // The admin's device pushes what it captured offline, then its first pull is a bootstrap
    // of the same documents: issue 16's "first sync of leads captured offline".
    eprintln!(
        "  seeding sync: push {} (sent {}; CPU server {:.2} s, device {:.2} s), pull {} (CPU server {:.2} s, device {:.2} s) — total {}",
        secs(seeded.push),
        seeded.summary.sent,
        seeded.push_cpu.0,
        seeded.push_cpu.1,
        secs(seeded.pull),
        seeded.pull_cpu.0,
        seeded.pull_cpu.1,
        secs(seeded.total),
    );
    let manager = device(s, &ws, "mgr", Role::Manager, Some("seoul")).await;
    (Seeded { ws, admin, manager }, create, seeded.total, seeded.push)
}

/// (peer, document id) → the server's copy being synced and its sync state for that peer.
type AmSessions = HashMap<(String, String), (AutoCommit, AmState)>;

/// The Automerge-protocol baseline server: saved documents in memory, one sync state per
/// (peer, document) while a document is being synced.
#[derive(Clone)]
struct AmServer {
    docs: Arc<HashMap<String, Vec<u8>>>,
    sessions: Arc<Mutex<AmSessions>>,
}

async fn am_sync(
    State(s): State<AmServer>,
    AxPath(id): AxPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let peer = headers.get("x-peer").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    // Automerge work off the async threads, as the product server does with its storage work.
    let r = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, (StatusCode, String)> {
        let key = (peer, id);
        let taken = s.sessions.lock().expect("sessions").remove(&key);
        let (mut doc, mut state) = match taken {
            Some(x) => x,
            None => {
                let saved = s
                    .docs
                    .get(&key.1)
                    .ok_or((StatusCode::NOT_FOUND, "no such document".to_string()))?;
                (
                    AutoCommit::load(saved)
                        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?,
                    AmState::new(),
                )
            }
        };
        if !body.is_empty() {
            let m =
                AmMessage::decode(&body).map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
            doc.sync()
                .receive_sync_message(&mut state, m)
                .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
        }
        let out = doc.sync().generate_sync_message(&mut state);
        match out {
            Some(m) => {
                s.sessions.lock().expect("sessions").insert(key, (doc, state));
                Ok(m.encode())
            }
            // Nothing more to say: this document is done for this peer.
            None => Ok(Vec::new()),
        }
    })
    .await;
    match r {
        Ok(Ok(bytes)) => bytes.into_response(),
        Ok(Err((status, msg))) => (status, msg).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "panicked").into_response(),
    }
}

/// Fetches one document from an empty replica with generate/receive round trips until neither
/// side has anything to send. Returns the document, round trips and bytes moved.
async fn am_fetch(
    http: &reqwest::Client,
    url: &str,
    peer: &str,
    id: &str,
) -> (AutoCommit, u64, u64) {
    let mut doc = AutoCommit::new();
    let mut state = AmState::new();
    let mut last_reply_empty = false;
    let (mut trips, mut bytes) = (0u64, 0u64);
    loop {
        let out = doc.sync().generate_sync_message(&mut state);
        if out.is_none() && last_reply_empty {
            break;
        }
        let body = out.map(|m| m.encode()).unwrap_or_default();
        bytes += body.len() as u64;
        let resp = http
            .post(format!("{url}/am/{id}"))
            .header("x-peer", peer)
            .body(body)
            .send()
            .await
            .expect("baseline request");
        assert!(resp.status().is_success(), "baseline server: {}", resp.status());
        let reply = resp.bytes().await.expect("baseline reply");
        trips += 1;
        bytes += reply.len() as u64;
        last_reply_empty = reply.is_empty();
        if !reply.is_empty() {
            let m = AmMessage::decode(&reply).expect("baseline message");
            doc.sync().receive_sync_message(&mut state, m).expect("baseline receive");
        }
        assert!(trips < 20, "Automerge sync of {id} does not terminate");
    }
    (doc, trips, bytes)
}

async fn bootstrap(
    cfg: &Cfg,
    s: &Server,
    seeded: &Seeded,
    seed_create: Duration,
    seed_sync: Duration,
    seed_push: Duration,
) -> Bootstrap {
    let store = &seeded.manager.store;
    let t = Instant::now();
    let client = SyncClient::for_store(store).expect("sync client");
    let client_setup = t.elapsed();
    let c0 = cpu_by_group();
    let sync = timed_sync(&client, store).await.expect("bootstrap sync");
    let c1 = cpu_by_group();
    let boot_cpu = (c1.0 - c0.0, (c1.1 + c1.2) - (c0.1 + c0.2));
    let docs_on_device = store.document_ids().expect("ids").len();
    let expected = cfg.leads * (1 + cfg.activities_per_lead);
    assert_eq!(docs_on_device, expected, "the new device does not hold every document");
    eprintln!(
        "  bootstrap sync: {} ({} pull pages), {} documents",
        secs(sync.total),
        sync.pull_pages,
        docs_on_device
    );

    // Transport only: the same pull pages fetched and decoded, nothing applied.
    let token = store.meta("sync.token").expect("meta").expect("token");
    let h = http();
    let mut pages: Vec<PullResponse> = Vec::new();
    let mut cursor = String::new();
    let mut transport_bytes = 0usize;
    let t = Instant::now();
    loop {
        let (page, n) = raw_pull(&h, &s.url(), &token, &cursor).await;
        transport_bytes += n;
        cursor = page.cursor.clone();
        let more = page.more;
        pages.push(page);
        if !more {
            break;
        }
    }
    let transport = t.elapsed();
    let transport_pages = pages.len();

    // Where applying goes, on the same snapshots: Automerge load, save, and reading the record
    // back (hydrate), which `apply_pull` does for each new document before SQLite writes.
    let (mut am_load, mut am_save, mut am_read) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for p in &pages {
        for i in &p.items {
            if let PullItem::Snapshot { doc_id, kind, data } = i {
                let t = Instant::now();
                let mut d = AutoCommit::load(data).expect("load snapshot");
                am_load += t.elapsed();
                let t = Instant::now();
                std::hint::black_box(d.save());
                am_save += t.elapsed();
                let t = Instant::now();
                match kind {
                    DocKind::Lead => {
                        drop(std::hint::black_box(fieldsales_core::doc::lead::read(&d, doc_id)))
                    }
                    DocKind::Activity => {
                        drop(std::hint::black_box(fieldsales_core::doc::activity::read(&d, doc_id)))
                    }
                    DocKind::Settings | DocKind::Target | DocKind::CompPlan => {}
                }
                am_read += t.elapsed();
            }
        }
    }
    eprintln!(
        "  of which Automerge load {}, save {}, read back {}",
        secs(am_load),
        secs(am_save),
        secs(am_read)
    );

    // Client apply only: the same pages into a fresh store, one transaction each.
    let dir = tempfile::tempdir().expect("temp dir");
    let fresh = Store::open(dir.path().join("store.db"), OpenOptions::new("mgr").region("KR"))
        .expect("fresh store");
    let t = Instant::now();
    for p in pages {
        let items = p.items.into_iter().map(PullApply::from).collect();
        fresh.apply_pull(items, Some(&p.cursor)).expect("apply page");
    }
    let apply_only = t.elapsed();
    drop(fresh);
    eprintln!(
        "  transport only {} ({} pages, {} bytes); apply only {}",
        secs(transport),
        transport_pages,
        transport_bytes,
        secs(apply_only)
    );

    // Baseline: Automerge's sync protocol, one document at a time, from the same saved bytes.
    let docs: HashMap<String, Vec<u8>> = {
        let db = s.db();
        let mut stmt = db
            .prepare("SELECT id, data FROM documents WHERE workspace_id = ?1")
            .expect("select documents");
        stmt.query_map([&seeded.ws], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows")
    };
    let mut order: Vec<String> = docs.keys().cloned().collect();
    order.sort();
    order.shuffle(&mut StdRng::seed_from_u64(0xa5a5));
    let check: Vec<(String, Vec<u8>)> =
        order.iter().take(50).map(|id| (id.clone(), docs[id].clone())).collect();
    let am = AmServer { docs: Arc::new(docs), sessions: Arc::new(Mutex::new(HashMap::new())) };
    let router =
        axum::Router::new().route("/am/{id}", axum::routing::post(am_sync)).with_state(am.clone());
    let base = ServerRt::start(move |listener, rx| async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
            .expect("baseline server");
    });
    let url = base.url();
    let h = http();
    let (mut trips, mut bytes) = (0u64, 0u64);
    let sample = cfg.baseline_sample.min(order.len());
    let t = Instant::now();
    for id in &order[..sample] {
        let (mut d, n, b) = am_fetch(&h, &url, "new-device", id).await;
        trips += n;
        bytes += b;
        assert!(!d.get_heads().is_empty(), "baseline fetched an empty document");
    }
    let sample_time = t.elapsed();
    let projected = sample_time.mul_f64(order.len() as f64 / sample as f64);
    eprintln!(
        "  Automerge sync, sample of {sample}: {} → {} projected for {}",
        secs(sample_time),
        secs(projected),
        order.len()
    );
    let (measured_docs, measured, total, extrapolated) = if projected <= cfg.baseline_budget {
        for id in &order[sample..] {
            let (_, n, b) = am_fetch(&h, &url, "new-device", id).await;
            trips += n;
            bytes += b;
        }
        let all = t.elapsed();
        (order.len(), all, all, false)
    } else {
        (sample, sample_time, projected, true)
    };
    // The baseline's documents are the server's: check a few.
    for (id, saved) in &check {
        let (mut d, _, _) = am_fetch(&h, &url, "checker", id).await;
        let mut want = AutoCommit::load(saved).expect("load saved");
        assert_eq!(d.get_heads(), want.get_heads(), "baseline fetched another version of {id}");
    }
    assert!(am.sessions.lock().expect("sessions").is_empty(), "baseline sessions left open");
    drop(base);
    let scale = order.len() as f64 / measured_docs as f64;
    Bootstrap {
        leads: cfg.leads,
        activities: cfg.leads * cfg.activities_per_lead,
        seed_create,
        seed_sync,
        seed_push,
        client_setup,
        sync,
        docs_on_device,
        transport,
        transport_pages,
        transport_bytes,
        apply_only,
        boot_cpu,
        am_load,
        am_save,
        am_read,
        baseline_docs: measured_docs,
        baseline_measured: measured,
        baseline_total: total,
        baseline_extrapolated: extrapolated,
        baseline_round_trips: (trips as f64 * scale) as u64,
        baseline_bytes: (bytes as f64 * scale) as u64,
    }
}

// ---- 2. incremental -----------------------------------------------------------------------

struct Incremental {
    leads: usize,
    push: Vec<Timed>,
    pull: Vec<Timed>,
    /// A: reading the outbox (change bytes out of the documents), as push does first.
    outbox_read: Vec<Duration>,
    /// B: the same feed page fetched again by a plain client (server + HTTP + decode).
    transport: Vec<Duration>,
    /// B: `list_leads(limit 500)`, which `sync()` runs at the end to count conflicts.
    conflict_list: Vec<Duration>,
    /// CPU seconds (server threads, client threads) and wall time over all timed syncs.
    cpu: (f64, f64),
    wall: Duration,
}

async fn raw_pull(
    h: &reqwest::Client,
    url: &str,
    token: &str,
    cursor: &str,
) -> (PullResponse, usize) {
    let resp = h
        .post(format!("{url}/v1/pull"))
        .bearer_auth(token)
        .header("content-type", CBOR)
        .body(to_cbor(&PullRequest { cursor: cursor.to_string(), limit: 1_000 }))
        .send()
        .await
        .expect("raw pull");
    assert!(resp.status().is_success(), "raw pull: {}", resp.status());
    let body = resp.bytes().await.expect("raw pull body");
    (from_cbor(&body).expect("pull page"), body.len())
}

async fn incremental(cfg: &Cfg, s: &Server, seeded: &Seeded) -> Incremental {
    let a = &seeded.admin.store;
    let b = &seeded.manager.store;
    let ca = SyncClient::for_store(a).expect("client A");
    let cb = SyncClient::for_store(b).expect("client B");
    let b_token = b.meta("sync.token").expect("meta").expect("token");
    let h = http();
    let mut ids = lead_ids(a);
    ids.shuffle(&mut StdRng::seed_from_u64(0x1c4));
    let mut rng = StdRng::seed_from_u64(0x1c5);
    let mut inc = Incremental {
        leads: cfg.incr_leads,
        push: Vec::new(),
        pull: Vec::new(),
        outbox_read: Vec::new(),
        transport: Vec::new(),
        conflict_list: Vec::new(),
        cpu: (0.0, 0.0),
        wall: Duration::ZERO,
    };
    for round in 0..cfg.incr_rounds {
        for (i, id) in ids[round * cfg.incr_leads..(round + 1) * cfg.incr_leads].iter().enumerate()
        {
            let patch = LeadPatch {
                stage: Some(*STAGES.choose(&mut rng).expect("stages")),
                next_follow_up: Some(T0 + (round as i64 * 1000 + i as i64 + 1) * 60_000),
                ..Default::default()
            };
            a.update_lead(id, patch).expect("edit lead");
        }
        let t = Instant::now();
        let n = a.outbox(0, 500).expect("outbox").len();
        inc.outbox_read.push(t.elapsed());
        assert_eq!(n, cfg.incr_leads);
        let c0 = cpu_by_group();
        let ta = timed_sync(&ca, a).await.expect("A sync");
        let c1 = cpu_by_group();
        assert_eq!(ta.summary.sent as usize, cfg.incr_leads, "A did not push every edit");
        let cursor = b.meta(fieldsales_core::store::SYNC_CURSOR).expect("meta").unwrap_or_default();
        let c2 = cpu_by_group();
        let tb = timed_sync(&cb, b).await.expect("B sync");
        let c3 = cpu_by_group();
        inc.cpu.0 += (c1.0 - c0.0) + (c3.0 - c2.0);
        inc.cpu.1 += (c1.1 + c1.2 - c0.1 - c0.2) + (c3.1 + c3.2 - c2.1 - c2.2);
        inc.wall += ta.total + tb.total;
        assert_eq!(
            tb.summary.received as usize, cfg.incr_leads,
            "B did not receive every edited lead"
        );
        let t = Instant::now();
        let (page, _) = raw_pull(&h, &s.url(), &b_token, &cursor).await;
        inc.transport.push(t.elapsed());
        assert_eq!(page.items.len(), cfg.incr_leads);
        let t = Instant::now();
        std::hint::black_box(b.conflicted_leads().expect("conflict count"));
        inc.conflict_list.push(t.elapsed());
        eprintln!(
            "  round {round}: A sync {} (push {}, of which outbox read {}; pull {}); B sync {} (transport {}, conflict count {})",
            ms(ta.total),
            ms(ta.push),
            ms(inc.outbox_read[round]),
            ms(ta.pull),
            ms(tb.total),
            ms(inc.transport[round]),
            ms(inc.conflict_list[round])
        );
        inc.push.push(ta);
        inc.pull.push(tb);
    }
    inc
}

// ---- 3. load ------------------------------------------------------------------------------

struct Load {
    devices: usize,
    secs: f64,
    syncs: u64,
    accepted: u64,
    feed_rows: i64,
    local_changes: u64,
    errors: Vec<String>,
    lat: Vec<Duration>,
    push_lat: Vec<Duration>,
    pull_lat: Vec<Duration>,
    edit_time: Duration,
    cpu_srv: f64,
    cpu_dev: f64,
    cpu_other: f64,
}

#[derive(Default)]
struct DeviceStats {
    syncs: u64,
    accepted: u64,
    local_changes: u64,
    errors: Vec<String>,
    lat: Vec<Duration>,
    push_lat: Vec<Duration>,
    pull_lat: Vec<Duration>,
    edit_time: Duration,
}

/// One loop's local work: reps capture one lead, edit two and log one activity; managers edit
/// three of their team's leads and log one activity. Returns the changes made and the new lead.
fn local_changes(
    store: &Store,
    is_manager: bool,
    me: &str,
    known: &[String],
    rng: &mut StdRng,
    base: i64,
) -> (u64, Option<String>) {
    let mut n = 0u64;
    let mut new_id = None;
    if !is_manager {
        new_id = Some(store.create_lead(typical_draft(rng, me)).expect("capture").id);
        n += 1;
    }
    let edits = if is_manager { 3 } else { 2 };
    if !known.is_empty() {
        for k in 0..edits {
            let id = known.choose(rng).expect("known lead");
            store.update_lead(id, random_patch(rng, base + k)).expect("edit");
            n += 1;
        }
        let id = known.choose(rng).expect("known lead");
        store.add_activity(typical_activity(rng, id)).expect("activity");
        n += 1;
    }
    (n, new_id)
}

async fn device_loop(
    store: Arc<Store>,
    is_manager: bool,
    seed: u64,
    deadline: Instant,
) -> DeviceStats {
    let mut st = DeviceStats::default();
    let mut rng = StdRng::seed_from_u64(seed);
    let client = SyncClient::for_store(&store).expect("sync client");
    let me = store.user_id().to_string();
    let mut known = lead_ids(&store);
    let salt = AtomicU64::new(seed * 1_000_000);
    let mut loops = 0u64;
    while Instant::now() < deadline {
        // A few changes on the phone: reps capture one lead, edit two and log one activity;
        // managers edit three of their team's leads and log one activity.
        let t = Instant::now();
        let s2 = store.clone();
        let me2 = me.clone();
        let known2 = known.clone();
        let mut r2 = StdRng::seed_from_u64(rng.random());
        let base = salt.fetch_add(10, Ordering::Relaxed) as i64;
        let made = tokio::task::spawn_blocking(move || {
            local_changes(&s2, is_manager, &me2, &known2, &mut r2, base)
        })
        .await
        .expect("edit task");
        st.edit_time += t.elapsed();
        st.local_changes += made.0;
        if let Some(id) = made.1 {
            known.push(id);
        }
        match timed_sync(&client, &store).await {
            Ok(t) => {
                st.syncs += 1;
                st.accepted += t.summary.sent;
                st.lat.push(t.total);
                st.push_lat.push(t.push);
                st.pull_lat.push(t.pull);
            }
            Err(e) => st.errors.push(e),
        }
        loops += 1;
        if loops.is_multiple_of(10) {
            known = lead_ids(&store);
        }
    }
    st
}

/// The server alone: each device's changes are made offline beforehand and encoded into push
/// bodies of one loop's changes; then all devices replay "push, pull until caught up" as fast
/// as the server answers, with plain HTTP clients whose only work is CBOR. Shows what the
/// server sustains when the simulated phones do not take the CPU.
struct Replay {
    changes: u64,
    secs: f64,
    loops: u64,
    lat: Vec<Duration>,
    errors: usize,
    prep: Duration,
    cpu_srv: f64,
    cpu_dev: f64,
    /// The server's document cache: hits and misses during the replay.
    cache: (u64, u64),
    /// Write transactions for pushes and the push requests they held, during the replay.
    groups: (u64, u64),
}

fn replay(
    cfg: &Cfg,
    s: &Server,
    rt: &tokio::runtime::Runtime,
    devices: &[(Device, bool, bool)],
) -> Replay {
    use fieldsales_core::sync::protocol::{PushChange, PushRequest, PushResponse};
    let loops = cfg.replay_loops;
    let t = Instant::now();
    let prepared: Vec<(String, String, Vec<Vec<u8>>)> = rt.block_on(async {
        let tasks: Vec<_> = devices
            .iter()
            .enumerate()
            .map(|(i, (d, mgr, _))| {
                let store = d.store.clone();
                let mgr = *mgr;
                tokio::task::spawn_blocking(move || {
                    let mut rng = StdRng::seed_from_u64(0x7e91 + i as u64);
                    let me = store.user_id().to_string();
                    let mut known = lead_ids(&store);
                    let mut bodies = Vec::new();
                    let mut after =
                        store.outbox(0, 100_000).expect("outbox").last().map_or(0, |e| e.seq);
                    for k in 0..loops {
                        let (_, id) = local_changes(
                            &store,
                            mgr,
                            &me,
                            &known,
                            &mut rng,
                            (i as i64 + 1) * 10_000_000 + k as i64 * 10,
                        );
                        known.extend(id);
                        let entries = store.outbox(after, 100).expect("outbox");
                        after = entries.last().map_or(after, |e| e.seq);
                        let req = PushRequest {
                            changes: entries
                                .into_iter()
                                .map(|e| PushChange {
                                    doc_id: e.doc_id,
                                    kind: e.kind,
                                    change: e.change,
                                })
                                .collect(),
                        };
                        bodies.push(to_cbor(&req));
                    }
                    let token = store.meta("sync.token").expect("meta").expect("token");
                    (token, bodies)
                })
            })
            .collect();
        let mut out = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            let (token, bodies) = task.await.expect("prepare");
            let url = s.url_of(i);
            // Catch up with the feed first so the timed pulls carry only what is new.
            let h = http();
            let mut cursor = String::new();
            loop {
                let (page, _) = raw_pull(&h, &url, &token, &cursor).await;
                cursor = page.cursor;
                if !page.more {
                    break;
                }
            }
            out.push((token, cursor, bodies));
        }
        out
    });
    let prep = t.elapsed();
    eprintln!(
        "  replay: {} push bodies prepared in {}",
        prepared.iter().map(|p| p.2.len()).sum::<usize>(),
        secs(prep)
    );
    let cpu0 = cpu_by_group();
    let cache0 = s.cache();
    let groups0 = s.groups();
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(cfg.load_secs);
    let results: Vec<(u64, Vec<Duration>, usize)> = rt.block_on(async {
        let tasks: Vec<_> = prepared
            .into_iter()
            .enumerate()
            .map(|(i, (token, mut cursor, bodies))| {
                let url = s.url_of(i);
                tokio::spawn(async move {
                    let h = http();
                    let (mut accepted, mut lat, mut errors) = (0u64, Vec::new(), 0usize);
                    for body in bodies {
                        if Instant::now() >= deadline {
                            break;
                        }
                        let t = Instant::now();
                        let resp = h
                            .post(format!("{url}/v1/push"))
                            .bearer_auth(&token)
                            .header("content-type", CBOR)
                            .body(body)
                            .send()
                            .await;
                        match resp {
                            Ok(r) if r.status().is_success() => {
                                let b = r.bytes().await.expect("push body");
                                let pr: PushResponse = from_cbor(&b).expect("push response");
                                accepted += pr.accepted.len() as u64;
                                errors += pr.rejected.len();
                            }
                            _ => {
                                errors += 1;
                                continue;
                            }
                        }
                        loop {
                            let (page, _) = raw_pull(&h, &url, &token, &cursor).await;
                            cursor = page.cursor;
                            if !page.more {
                                break;
                            }
                        }
                        lat.push(t.elapsed());
                    }
                    (accepted, lat, errors)
                })
            })
            .collect();
        let mut out = Vec::new();
        for task in tasks {
            out.push(task.await.expect("replay task"));
        }
        out
    });
    let elapsed = t0.elapsed();
    let cpu1 = cpu_by_group();
    let cache1 = s.cache();
    let cache = (cache1.0 - cache0.0, cache1.1 - cache0.1);
    let groups1 = s.groups();
    let groups = (groups1.0 - groups0.0, groups1.1 - groups0.1);
    let mut r = Replay {
        changes: 0,
        secs: elapsed.as_secs_f64(),
        loops: 0,
        lat: Vec::new(),
        errors: 0,
        prep,
        cpu_srv: cpu1.0 - cpu0.0,
        cpu_dev: cpu1.1 - cpu0.1,
        cache,
        groups,
    };
    for (a, l, e) in results {
        r.changes += a;
        r.loops += l.len() as u64;
        r.lat.extend(l);
        r.errors += e;
    }
    r.lat.sort();
    r
}

/// Phase 3's 50 devices (per team: 4 reps with a phone and a tablet, and a manager with two
/// devices), device `i` enrolled on instance `i` of `s`, their first leads pushed and everyone
/// caught up.
fn load_devices(cfg: &Cfg, s: &Server, rt: &tokio::runtime::Runtime) -> Vec<(Device, bool, bool)> {
    let ws = s.admin.create_workspace("load").expect("workspace").id;
    // Per team: 4 reps with a phone and a tablet, and a manager with two devices = 10 devices.
    rt.block_on(async {
        let mut out = Vec::new();
        for t in 0..cfg.load_teams {
            let team = format!("team{t}");
            s.admin.create_team(&ws, &team).expect("team");
            for r in 0..4 {
                let user = format!("t{t}-rep{r}");
                for phone in [true, false] {
                    out.push((
                        device_at(s, out.len(), &ws, &user, Role::Rep, Some(&team)).await,
                        false,
                        phone,
                    ));
                }
            }
            for phone in [true, false] {
                out.push((
                    device_at(s, out.len(), &ws, &format!("t{t}-mgr"), Role::Manager, Some(&team))
                        .await,
                    true,
                    phone,
                ));
            }
        }
        let mut rng = StdRng::seed_from_u64(0x10ad);
        for (d, mgr, phone) in &out {
            if !*mgr && *phone {
                for _ in 0..cfg.load_initial_leads {
                    d.store
                        .create_lead(typical_draft(&mut rng, d.store.user_id()))
                        .expect("initial lead");
                }
            }
        }
        // Phones push first, then everyone pulls, so every device starts with its leads.
        for pass in 0..2 {
            for (d, _, phone) in &out {
                if pass == 1 || *phone {
                    SyncClient::for_store(&d.store)
                        .expect("client")
                        .sync(&d.store, &|_| {})
                        .await
                        .expect("initial sync");
                }
            }
        }
        out
    })
}

/// The runtime phase 3's devices run on: a worker per device.
fn device_rt(cfg: &Cfg) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(10 * cfg.load_teams)
        .thread_name("dev")
        .thread_keep_alive(Duration::from_secs(3600))
        .enable_all()
        .build()
        .expect("device runtime")
}

fn load(cfg: &Cfg) -> (Load, Replay) {
    let s = Server::start();
    let rt = device_rt(cfg);
    let devices = load_devices(cfg, &s, &rt);
    let feed_before = s.feed_len();
    let n = devices.len();
    eprintln!("  {n} devices enrolled and synced; running {} s", cfg.load_secs);
    let cpu0 = cpu_by_group();
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(cfg.load_secs);
    let stats: Vec<DeviceStats> = rt.block_on(async {
        let tasks: Vec<_> = devices
            .iter()
            .enumerate()
            .map(|(i, (d, mgr, _))| {
                tokio::spawn(device_loop(d.store.clone(), *mgr, i as u64 + 1, deadline))
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("device task"));
        }
        out
    });
    let elapsed = t0.elapsed();
    let cpu1 = cpu_by_group();
    let feed_rows = s.feed_len() - feed_before;
    let mut l = Load {
        devices: n,
        secs: elapsed.as_secs_f64(),
        syncs: 0,
        accepted: 0,
        feed_rows,
        local_changes: 0,
        errors: Vec::new(),
        lat: Vec::new(),
        push_lat: Vec::new(),
        pull_lat: Vec::new(),
        edit_time: Duration::ZERO,
        cpu_srv: cpu1.0 - cpu0.0,
        cpu_dev: cpu1.1 - cpu0.1,
        cpu_other: cpu1.2 - cpu0.2,
    };
    for st in stats {
        l.syncs += st.syncs;
        l.accepted += st.accepted;
        l.local_changes += st.local_changes;
        l.errors.extend(st.errors);
        l.lat.extend(st.lat);
        l.push_lat.extend(st.push_lat);
        l.pull_lat.extend(st.pull_lat);
        l.edit_time += st.edit_time;
    }
    l.lat.sort();
    l.push_lat.sort();
    l.pull_lat.sort();
    let r = replay(cfg, &s, &rt, &devices);
    drop(devices);
    rt.shutdown_timeout(Duration::from_secs(5));
    (l, r)
}

// ---- 5. at scale: PostgreSQL, several instances, live updates (issue 15) ----------------

/// Phase 3's server-alone replay on `instances` servers on one PostgreSQL database, devices
/// spread over them.
fn pg_load(cfg: &Cfg, cluster: &pg::Cluster, instances: usize) -> Replay {
    let s = Server::start_pg(&cluster.database(), instances);
    let rt = device_rt(cfg);
    let devices = load_devices(cfg, &s, &rt);
    let r = replay(cfg, &s, &rt, &devices);
    drop(devices);
    rt.shutdown_timeout(Duration::from_secs(5));
    r
}

struct Live {
    devices: usize,
    rounds: usize,
    /// A's acknowledgement to B's device holding the change, per watcher and round.
    lat: Vec<Duration>,
    /// Watchers whose pull finished before the writer had its acknowledgement (counted as 0).
    early: usize,
    missed: usize,
}

/// 50 devices (phase 3's teams) follow the live stream, spread over two instances on one
/// PostgreSQL database; a rep's phone on instance A pushes a new lead, and the time from A's
/// acknowledgement to each device on instance B that may see it (the rep's tablet, the team's
/// manager) having pulled it is measured.
fn live_latency(cfg: &Cfg, cluster: &pg::Cluster) -> Live {
    use fieldsales_core::sync::events::{LiveEvent, LiveOptions, follow};
    use fieldsales_core::sync::protocol::{PushChange, PushRequest};
    let s = Server::start_pg(&cluster.database(), 2);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .thread_name("dev")
        .enable_all()
        .build()
        .expect("device runtime");
    let devices = load_devices(cfg, &s, &rt);
    let n = devices.len();
    let got: Arc<Mutex<Vec<(usize, Instant)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let connected = Arc::new(AtomicU64::new(0));
    let mut loops = Vec::new();
    for (i, (d, _, _)) in devices.iter().enumerate() {
        let (store, stop, got, connected) =
            (d.store.clone(), stop.clone(), got.clone(), connected.clone());
        loops.push(rt.spawn(async move {
            let tell = move |e: LiveEvent| match e {
                LiveEvent::Connected => {
                    connected.fetch_add(1, Ordering::SeqCst);
                }
                LiveEvent::Synced(sum) if sum.received > 0 => {
                    got.lock().expect("lock").push((i, Instant::now()));
                }
                _ => {}
            };
            let _ = follow(&store, LiveOptions::default(), &stop, &tell).await;
        }));
    }
    while (connected.load(Ordering::SeqCst) as usize) < n {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(1));
    // Writers: each team's rep phones (even indexes, instance A); watchers on instance B: the
    // rep's tablet (the next index) and the team's second manager device (index 9 of the team).
    let writers: Vec<usize> = (0..n).filter(|i| i % 10 < 8 && i % 2 == 0).collect();
    let rounds = if cfg.bench { 200 } else { 6 };
    let h = http();
    let mut lat = Vec::new();
    let (mut early, mut missed) = (0, 0);
    let mut rng = StdRng::seed_from_u64(0x11fe);
    for round in 0..rounds {
        let w = writers[round % writers.len()];
        let watchers = [w + 1, w - w % 10 + 9];
        let store = &devices[w].0.store;
        let before = store.outbox(0, 100_000).expect("outbox").last().map_or(0, |e| e.seq);
        store.create_lead(typical_draft(&mut rng, store.user_id())).expect("lead");
        let changes = store
            .outbox(before, 100)
            .expect("outbox")
            .into_iter()
            .map(|e| PushChange { doc_id: e.doc_id, kind: e.kind, change: e.change })
            .collect();
        let token = store.meta("sync.token").expect("meta").expect("token");
        got.lock().expect("lock").clear();
        let url = s.url_of(w);
        let acked = rt.block_on(async {
            let r = h
                .post(format!("{url}/v1/push"))
                .bearer_auth(&token)
                .header("content-type", CBOR)
                .body(to_cbor(&PushRequest { changes }))
                .send()
                .await
                .expect("push");
            assert!(r.status().is_success(), "push {}", r.status());
            let _ = r.bytes().await;
            Instant::now()
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let seen: Vec<(usize, Instant)> = got.lock().expect("lock").clone();
            let done = watchers.iter().all(|x| seen.iter().any(|(i, _)| i == x));
            if done || Instant::now() > deadline {
                for x in watchers {
                    match seen.iter().find(|(i, _)| *i == x) {
                        Some((_, at)) => {
                            if *at < acked {
                                early += 1;
                            }
                            lat.push(at.saturating_duration_since(acked));
                        }
                        None => missed += 1,
                    }
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::SeqCst);
    rt.block_on(async {
        for l in loops {
            let _ = l.await;
        }
    });
    drop(devices);
    rt.shutdown_timeout(Duration::from_secs(5));
    lat.sort();
    Live { devices: n, rounds, lat, early, missed }
}

struct Idle {
    connections: usize,
    rss_before_kib: u64,
    rss_after_kib: u64,
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Idle live connections on one server process (the release binary, SQLite): its resident
/// memory before and with them open. Clients come from 100 loopback addresses (127.0.1.x), 50
/// streams each, within the server's per-address bound, from 100 enrolled devices.
fn idle_connections(cfg: &Cfg) -> Idle {
    use std::io::BufRead;
    let want = if cfg.bench { 5_000 } else { 200 };
    let addrs = 100usize;
    let per_addr = want / addrs;
    let dir = tempfile::tempdir().expect("temp dir");
    let admin = SqliteBackend::open(dir.path()).expect("store");
    let ws = admin.create_workspace("idle").expect("workspace").id;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fieldsales-server"))
        .args(["serve", "--data", dir.path().to_str().expect("path"), "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("server binary");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("address line");
    let url = line.trim().rsplit(' ').next().expect("url").to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");
    let tokens: Vec<String> = rt.block_on(async {
        let mut out = Vec::new();
        for i in 0..addrs {
            let code = admin
                .add_user(&ws, &format!("idle{i}"), Role::Rep, None)
                .expect("user")
                .enrollment_code;
            let actor = fieldsales_core::store::new_actor().to_hex_string();
            out.push(enroll(&url, &code, "idle", &actor).await.expect("enroll").token);
        }
        out
    });
    std::thread::sleep(Duration::from_secs(1));
    let before = rss_kib(child.id());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let streams = rt.block_on(async {
        let mut open = Vec::new();
        for (i, token) in tokens.iter().enumerate() {
            let ip = std::net::IpAddr::from([127, 0, 1, (i + 1) as u8]);
            let c = reqwest::Client::builder().local_address(ip).build().expect("client");
            let mut batch = Vec::new();
            for _ in 0..per_addr {
                batch.push(c.get(format!("{url}/v1/events")).bearer_auth(token).send());
            }
            for r in futures_util::future::join_all(batch).await {
                let r = r.expect("stream");
                assert!(r.status().is_success(), "stream {}", r.status());
                open.push(r);
            }
        }
        open
    });
    std::thread::sleep(Duration::from_secs(3));
    let after = rss_kib(child.id());
    let connections = streams.len();
    drop(streams);
    let _ = child.kill();
    let _ = child.wait();
    Idle { connections, rss_before_kib: before, rss_after_kib: after }
}

struct Scale {
    pg1: Replay,
    pg2: Replay,
    live: Live,
    idle: Idle,
    secs: u64,
}

fn scale(cfg: &Cfg) -> Scale {
    let secs: u64 = std::env::var("FIELDSALES_BENCH_PG_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if cfg.bench { 30 } else { 2 });
    let mut pg_cfg = cfg.clone();
    pg_cfg.load_secs = secs;
    pg_cfg.replay_loops = if cfg.bench { 24 * secs as usize } else { cfg.replay_loops };
    // fsync on: a commit survives a power cut, as with the SQLite server's synchronous=FULL.
    let cluster = pg::Cluster::start(true);
    eprintln!("[5/5] PostgreSQL: 50-device load, one instance, {secs} s");
    let pg1 = pg_load(&pg_cfg, &cluster, 1);
    eprintln!("[5/5] PostgreSQL: 50-device load, two instances, {secs} s");
    let pg2 = pg_load(&pg_cfg, &cluster, 2);
    eprintln!("[5/5] live updates across two instances, 50 connected devices");
    let live = live_latency(cfg, &cluster);
    eprintln!("[5/5] idle live connections on one instance");
    let idle = idle_connections(cfg);
    Scale { pg1, pg2, live, idle, secs }
}

fn scale_rows(sq: &Replay, sc: &Scale) -> (String, String) {
    let rate = |r: &Replay| r.changes as f64 / r.secs;
    let met = |ok: bool| if ok { "**yes**" } else { "no" };
    let mut t = String::new();
    t += &format!(
        "| 5 | the 50-device load of 3 (server alone) on PostgreSQL, one instance, {} s: changes/s; loop p50 / p99 | **{:.0}/s; {} / {}** | — | SQLite (3, same run): {:.0}/s → {:.2}× | — |\n",
        sc.secs,
        rate(&sc.pg1),
        ms(pct(&sc.pg1.lat, 50.0)),
        ms(pct(&sc.pg1.lat, 99.0)),
        rate(sq),
        rate(&sc.pg1) / rate(sq).max(1.0)
    );
    let p99 = pct(&sc.pg2.lat, 99.0);
    t += &format!(
        "| 5 | same, two instances on one PostgreSQL, devices spread over them: changes/s; loop p50 / p99 | **{:.0}/s; {} / {}** | ≥ SQLite's throughput at p99 ≤ 250 ms | SQLite (3, same run): {:.0}/s → {:.2}× | {} |\n",
        rate(&sc.pg2),
        ms(pct(&sc.pg2.lat, 50.0)),
        ms(p99),
        rate(sq),
        rate(&sc.pg2) / rate(sq).max(1.0),
        met(rate(&sc.pg2) >= rate(sq) && p99 <= Duration::from_millis(250))
    );
    let lp99 = pct(&sc.live.lat, 99.0);
    t += &format!(
        "| 6 | live updates, {} connected devices on two PostgreSQL instances: a push acknowledged by A → a device on B has pulled it, p50 / p99 ({} samples) | **{} / {}** | p99 ≤ 250 ms | — | {} |\n",
        sc.live.devices,
        sc.live.lat.len(),
        ms(pct(&sc.live.lat, 50.0)),
        ms(lp99),
        met(lp99 <= Duration::from_millis(250) && sc.live.missed == 0)
    );
    let per = (sc.idle.rss_after_kib.saturating_sub(sc.idle.rss_before_kib)) as f64 * 1024.0
        / sc.idle.connections.max(1) as f64;
    t += &format!(
        "| 7 | {} idle live connections on one server process: resident memory per connection | **{:.1} KiB** | — | {} MiB before, {} MiB with them open | — |\n",
        sc.idle.connections,
        per / 1024.0,
        sc.idle.rss_before_kib / 1024,
        sc.idle.rss_after_kib / 1024
    );
    let r = |name: &str, r: &Replay| {
        format!(
            "{name}: {} loops in {:.1} s, {} changes accepted, {} rejections or failed requests; CPU: server threads {:.1} s, client threads {:.1} s ⇒ {:.2} ms of server CPU per accepted change (all instances and PostgreSQL's own processes are not counted: they are other processes); document cache {}/{} hits/misses; {} pushes in {} commits ({:.2} per commit); bodies prepared in {}",
            r.loops,
            r.secs,
            r.changes,
            r.errors,
            r.cpu_srv,
            r.cpu_dev,
            r.cpu_srv * 1000.0 / r.changes.max(1) as f64,
            r.cache.0,
            r.cache.1,
            r.groups.1,
            r.groups.0,
            r.groups.1 as f64 / r.groups.0.max(1) as f64,
            secs(r.prep)
        )
    };
    let mut d = String::new();
    d += &format!(
        "- **PostgreSQL** (5): a PostgreSQL 15 cluster started by the bench (`initdb`/`pg_ctl` on a temp dir, loopback, fsync and synchronous_commit on, defaults otherwise) on the same 2 cores; each server instance on its own 2-worker runtime in this process (as a separate process would have), pool of 16 connections. Phase 3's devices and prepared loops, made anew for each database. {}. {}.\n",
        r("One instance", &sc.pg1),
        r("Two instances", &sc.pg2)
    );
    d += &format!(
        "- **Live updates** (6): the {} devices of phase 3 each run the core's live loop (`core::sync::events::follow`: `GET /v1/events`, then `sync()` on every `feed` event), even device indexes on instance A, odd on B. {} rounds, 100 ms apart: a rep's phone on A makes a lead and pushes it (a plain HTTP push of its outbox; the acknowledgement is when the response has arrived); measured for the rep's tablet and the team manager's second device, both on B, until their live loop reports a sync that received it. {} of the samples had pulled it before the writer had its acknowledgement (counted as 0); {} never arrived within 5 s.\n",
        sc.live.devices, sc.live.rounds, sc.live.early, sc.live.missed
    );
    d += &format!(
        "- **Idle connections** (7): the release `fieldsales-server` binary on SQLite in its own process; {} `GET /v1/events` streams held open from 100 loopback source addresses (the server bounds connections per address) by 100 enrolled devices; resident memory (VmRSS) read 1 s after enrolling and 3 s after the last stream opened.\n",
        sc.idle.connections
    );
    (t, d)
}

// ---- 4. bytes on the wire -----------------------------------------------------------------

#[derive(Default, Clone)]
struct Exchange {
    up: Vec<u8>,
    down: Vec<u8>,
}

/// A loopback TCP proxy that records every HTTP/1.1 exchange (request bytes, response bytes):
/// on a keep-alive connection the client sends the next request only after the whole response.
async fn counting_proxy(
    listener: tokio::net::TcpListener,
    upstream: SocketAddr,
    log: Arc<Mutex<Vec<Exchange>>>,
) {
    while let Ok((client, _)) = listener.accept().await {
        let Ok(server) = tokio::net::TcpStream::connect(upstream).await else { continue };
        let log = log.clone();
        tokio::spawn(async move {
            let current: Arc<Mutex<Option<usize>>> = Arc::new(Mutex::new(None));
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            let (log_up, cur_up) = (log.clone(), current.clone());
            let up = async move {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match cr.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    {
                        let mut l = log_up.lock().expect("log");
                        let mut c = cur_up.lock().expect("cur");
                        let idx = match *c {
                            Some(i) if l[i].down.is_empty() => i,
                            _ => {
                                l.push(Exchange::default());
                                l.len() - 1
                            }
                        };
                        *c = Some(idx);
                        l[idx].up.extend_from_slice(&buf[..n]);
                    }
                    if sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                let _ = sw.shutdown().await;
            };
            let down = async move {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match sr.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    {
                        let mut l = log.lock().expect("log");
                        if let Some(i) = *current.lock().expect("cur") {
                            l[i].down.extend_from_slice(&buf[..n]);
                        }
                    }
                    if cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                let _ = cw.shutdown().await;
            };
            tokio::join!(up, down);
        });
    }
}

/// First line, header bytes (with the blank line) and body bytes of one HTTP message.
fn split_http(raw: &[u8]) -> (String, usize, usize) {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").map_or(raw.len(), |p| p + 4);
    let first = String::from_utf8_lossy(&raw[..end]).lines().next().unwrap_or("").to_string();
    (first, end, raw.len() - end)
}

struct WireMsg {
    req_body: usize,
    req_total: usize,
    resp_body: usize,
    resp_total: usize,
}

struct Wire {
    doc_bytes: usize,
    change_bytes: usize,
    capture: WireMsg,
    edit: WireMsg,
    edit_change_bytes: usize,
}

/// The first push recorded after `mark` exchanges.
fn push_exchange(log: &Arc<Mutex<Vec<Exchange>>>, mark: usize) -> WireMsg {
    let l = log.lock().expect("log");
    let ex = l[mark..]
        .iter()
        .find(|e| split_http(&e.up).0.starts_with("POST /v1/push"))
        .expect("a push went through the proxy");
    let (_, rh, rb) = split_http(&ex.up);
    let (_, sh, sb) = split_http(&ex.down);
    WireMsg { req_body: rb, req_total: rh + rb, resp_body: sb, resp_total: sh + sb }
}

async fn wire(s: &Server) -> Wire {
    let ws = s.admin.create_workspace("wire").expect("workspace").id;
    s.admin.create_team(&ws, "solo").expect("team");
    let log: Arc<Mutex<Vec<Exchange>>> = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("proxy bind");
    let proxy_url = format!("http://{}", listener.local_addr().expect("proxy addr"));
    let proxy = tokio::spawn(counting_proxy(listener, s.srvs[0].addr, log.clone()));
    let code = s.code(&ws, "kim", Role::Rep, Some("solo"));
    let d = enroll_device(&proxy_url, &code).await;
    let client = SyncClient::for_store(&d.store).expect("client");
    client.sync(&d.store, &|_| {}).await.expect("first sync");
    let lead = d
        .store
        .create_lead(typical_draft(&mut StdRng::seed_from_u64(0x11), "kim"))
        .expect("capture");
    let change_bytes = d.store.outbox(0, 10).expect("outbox").iter().map(|e| e.change.len()).sum();
    let doc_bytes = d.store.document_bytes(&lead.id).expect("doc").len();
    let mark = log.lock().expect("log").len();
    let r = client.sync(&d.store, &|_| {}).await.expect("capture sync");
    assert_eq!(r.sent, 1);
    let capture = push_exchange(&log, mark);
    d.store
        .update_lead(
            &lead.id,
            LeadPatch { next_follow_up: Some(T0 + 12_345), ..Default::default() },
        )
        .expect("edit");
    let edit_change_bytes =
        d.store.outbox(0, 10).expect("outbox").iter().map(|e| e.change.len()).sum();
    let mark = log.lock().expect("log").len();
    client.sync(&d.store, &|_| {}).await.expect("edit sync");
    let edit = push_exchange(&log, mark);
    proxy.abort();
    Wire { doc_bytes, change_bytes, capture, edit, edit_change_bytes }
}

// ---- report -------------------------------------------------------------------------------

fn yes(ok: bool) -> &'static str {
    if ok { "**yes**" } else { "**no**" }
}

fn report(
    cfg: &Cfg,
    b: &Bootstrap,
    inc: &Incremental,
    l: &Load,
    rp: &Replay,
    w: &Wire,
) -> (String, String) {
    let boot = b.sync.total;
    let ratio = b.baseline_total.as_secs_f64() / boot.as_secs_f64();
    let ratio_t = b.baseline_total.as_secs_f64() / b.transport.as_secs_f64();
    let base_how = if b.baseline_extrapolated {
        format!(
            "{} (measured {} on a fixed random sample of {} documents, extrapolated linearly to {})",
            secs(b.baseline_total),
            secs(b.baseline_measured),
            b.baseline_docs,
            b.docs_on_device
        )
    } else {
        format!("{} (all {} documents measured)", secs(b.baseline_total), b.baseline_docs)
    };
    let push_t: Vec<Duration> = inc.push.iter().map(|t| t.total).collect();
    let pull_t: Vec<Duration> = inc.pull.iter().map(|t| t.total).collect();
    let push_max = push_t.iter().max().copied().unwrap_or_default();
    let pull_max = pull_t.iter().max().copied().unwrap_or_default();
    let rate = l.accepted as f64 / l.secs;
    let p50 = pct(&l.lat, 50.0);
    let p99 = pct(&l.lat, 99.0);
    let mut t = String::new();
    t += "| # | measurement | result | target | baseline / ratio | met |\n|---|---|---|---|---|---|\n";
    t += &format!(
        "| 1 | bootstrap a new device: {} leads + {} activities, its first `sync()` | **{}** | ≤ 10 s | Automerge sync per document: {} → this project **{:.1}× faster** | {} |\n",
        b.leads,
        b.activities,
        secs(boot),
        base_how,
        ratio,
        yes(boot <= Duration::from_secs(10) && ratio > 1.0)
    );
    t += &format!(
        "| 1a | same pull pages, transport only (server + HTTP + CBOR decode, nothing stored) | {} | — | {:.1}× faster than the Automerge baseline (which also stores nothing) | — |\n",
        secs(b.transport),
        ratio_t
    );
    t += &format!(
        "| 2 | incremental, A edits {} leads and syncs (push), median / max of {} | **{} / {}** | ≤ 200 ms | — | {} |\n",
        inc.leads,
        inc.push.len(),
        ms(median(&push_t)),
        ms(push_max),
        yes(push_max <= Duration::from_millis(200))
    );
    t += &format!(
        "| 2 | incremental, B's sync receiving them (pull), median / max of {} | **{} / {}** | ≤ 200 ms | — | {} |\n",
        inc.pull.len(),
        ms(median(&pull_t)),
        ms(pull_max),
        yes(pull_max <= Duration::from_millis(200))
    );
    let rrate = rp.changes as f64 / rp.secs;
    let rp99 = pct(&rp.lat, 99.0);
    t += &format!(
        "| 3 | {} devices pushing and pulling for {:.0} s (their changes made by real device stores beforehand; 50 concurrent connections push them a loop's worth at a time and pull until caught up): changes/s accepted | **{:.0}/s** | ≥ 2,000/s | — | {} |\n",
        l.devices,
        rp.secs,
        rrate,
        yes(rrate >= 2000.0)
    );
    t += &format!(
        "| 3 | same run: loop latency (push + pull until caught up) p50 / p99 ({} loops) | **{} / {}** | p99 ≤ 250 ms | — | {} |\n",
        rp.loops,
        ms(pct(&rp.lat, 50.0)),
        ms(rp99),
        yes(rp99 <= Duration::from_millis(250))
    );
    t += &format!(
        "| 3b | the same {} device stores running in this process too, for {:.0} s: each loop makes its changes in the store, then `sync()`; changes/s accepted, `sync()` p50 / p99 ({} syncs) | {:.0}/s; {} / {} | — (the devices' own work takes most of the 2 cores: see Details) | — | — |\n",
        l.devices,
        l.secs,
        l.syncs,
        rate,
        ms(p50),
        ms(p99)
    );
    t += &format!(
        "| 4 | one captured lead on the wire: push request + response bodies (CBOR) | **{} B** ({} + {}); {} B with HTTP headers | — | saved document {} B → {:.2}× the document | — |\n",
        w.capture.req_body + w.capture.resp_body,
        w.capture.req_body,
        w.capture.resp_body,
        w.capture.req_total + w.capture.resp_total,
        w.doc_bytes,
        (w.capture.req_body + w.capture.resp_body) as f64 / w.doc_bytes as f64
    );
    let mut d = String::new();
    d += "## Details (evidence per phase)\n\n";
    d += &format!(
        "- **Seeding** (untimed for the targets): {} leads + {} activities created on the admin's device in {}; its first sync pushed them in {} ({:.0} changes/s into the server, one write transaction per push request of up to 500 changes) and, as any first sync, pulled the bootstrap back, {} in all.\n",
        b.leads,
        b.activities,
        secs(b.seed_create),
        secs(b.seed_push),
        (b.leads + b.activities) as f64 / b.seed_push.as_secs_f64(),
        secs(b.seed_sync)
    );
    d += &format!(
        "- **Bootstrap** of the manager's new device: {} in {} pull pages of 1,000 snapshots ({} bytes of CBOR); push phase {}, pull phase {}. `SyncClient::for_store` (untimed) took {}. Split: transport alone (same pages fetched and decoded by a plain client) {}, applying the same pages to a fresh store (`apply_pull`: each page's snapshots loaded and read back on every core before the write transaction, then the received bytes, projections and FTS written) {}. For scale, measured separately on one thread on the same snapshots: Automerge `load` {}, `save` {} (no longer done for a new document) and reading the record back (hydrate) {}; apply minus those three: {}. CPU during the timed bootstrap: client {:.1} s, server {:.1} s in {:.1} s of wall time, i.e. the client thread got {:.0}% of a core (when far below 100%, the rest of the machine was busy: see the load average).\n",
        secs(boot),
        b.transport_pages,
        b.transport_bytes,
        ms(b.sync.push),
        secs(b.sync.pull),
        ms(b.client_setup),
        secs(b.transport),
        secs(b.apply_only),
        secs(b.am_load),
        secs(b.am_save),
        secs(b.am_read),
        secs(b.apply_only.saturating_sub(b.am_load + b.am_save + b.am_read)),
        b.boot_cpu.1,
        b.boot_cpu.0,
        boot.as_secs_f64(),
        100.0 * b.boot_cpu.1 / boot.as_secs_f64()
    );
    d += &format!(
        "- **Automerge baseline**: a tiny axum endpoint in the bench binary (same server runtime setup, automerge work in `spawn_blocking`) holds the server's saved documents in memory; for each document the client starts from an empty `AutoCommit` and `sync::State` and runs `generate_sync_message`/`receive_sync_message` round trips over HTTP until neither side has anything to send: {:.2} round trips and {:.0} bytes per document on average. The baseline client keeps nothing (no SQLite, no projections), so ratio 1 is the conservative one. {}\n",
        b.baseline_round_trips as f64 / b.docs_on_device as f64,
        b.baseline_bytes as f64 / b.docs_on_device as f64,
        base_how
    );
    let a_push: Vec<Duration> = inc.push.iter().map(|t| t.push).collect();
    let a_pull: Vec<Duration> = inc.push.iter().map(|t| t.pull).collect();
    let b_total: Vec<Duration> = inc.pull.iter().map(|t| t.total).collect();
    let b_apply: Vec<Duration> = inc
        .pull
        .iter()
        .zip(inc.transport.iter().zip(&inc.conflict_list))
        .map(|(t, (tr, cl))| t.total.saturating_sub(*tr + *cl))
        .collect();
    let a_server: Vec<Duration> =
        inc.push.iter().zip(&inc.outbox_read).map(|(t, o)| t.push.saturating_sub(*o)).collect();
    d += &format!(
        "- **Incremental**, per round (A: sync total / push phase / pull phase; B: sync total): {}. Medians — A: push phase {}, of which reading the outbox {} (each change's bytes are rebuilt from its loaded document) and the rest {} (HTTP, the server's one write transaction for the request, the ack); pull phase {}. B: {} = transport {} (the same page fetched again by a plain client: server, HTTP, decode) + conflict count {} (`conflicted_leads()` at the end of every sync) + applying the {} changes {} (per document: load from SQLite, apply, save, projection and FTS rewrite; B holds {} documents). CPU over all timed incremental syncs: client {:.2} s + server {:.2} s in {:.2} s of wall time ({:.0}% of one core).\n",
        inc.push
            .iter()
            .zip(&inc.pull)
            .map(|(a, b)| format!("{}/{}/{}; {}", ms(a.total), ms(a.push), ms(a.pull), ms(b.total)))
            .collect::<Vec<_>>()
            .join(" · "),
        ms(median(&a_push)),
        ms(median(&inc.outbox_read)),
        ms(median(&a_server)),
        ms(median(&a_pull)),
        ms(median(&b_total)),
        ms(median(&inc.transport)),
        ms(median(&inc.conflict_list)),
        inc.leads,
        ms(median(&b_apply)),
        b.docs_on_device,
        inc.cpu.1,
        inc.cpu.0,
        inc.wall.as_secs_f64(),
        100.0 * (inc.cpu.0 + inc.cpu.1) / inc.wall.as_secs_f64()
    );
    let wall = l.secs;
    d += &format!(
        "- **Load with the devices in process** (3b): {} syncs, {} local edits (one that changes nothing commits nothing), {} changes accepted by the server ({} new feed rows), {} sync errors{}. Push phase p50/p99 {} / {}, pull phase p50/p99 {} / {}. Each device loops: {{reps: capture 1 lead, edit 2, log 1 activity; managers: edit 3, log 1 activity}} then `sync()`, no think time. Time spent making the local changes: {:.1} device-seconds. CPU over the run: server threads {:.1} s, device threads {:.1} s, other {:.1} s, of {:.0} core-seconds available ({} cores × {:.0} s, shared with other processes); the server spent {:.2} ms of CPU per accepted change (pushes and pulls included), i.e. ~{:.0} changes/s if it had both cores to itself.\n",
        l.syncs,
        l.local_changes,
        l.accepted,
        l.feed_rows,
        l.errors.len(),
        if l.errors.is_empty() { String::new() } else { format!(" (first: {})", l.errors[0]) },
        ms(pct(&l.push_lat, 50.0)),
        ms(pct(&l.push_lat, 99.0)),
        ms(pct(&l.pull_lat, 50.0)),
        ms(pct(&l.pull_lat, 99.0)),
        l.edit_time.as_secs_f64(),
        l.cpu_srv,
        l.cpu_dev,
        l.cpu_other,
        wall * std::thread::available_parallelism().map_or(1, |n| n.get()) as f64,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        wall,
        l.cpu_srv * 1000.0 / l.accepted.max(1) as f64,
        l.accepted as f64 / l.cpu_srv.max(1e-9)
            * std::thread::available_parallelism().map_or(1, |n| n.get()) as f64
    );
    d += &format!(
        "- **Load** (3): after 3b, the same {} device stores each made {} loops of changes offline (reps: capture 1 lead, edit 2, log 1 activity; managers: edit 3, log 1 activity), taken from their outboxes as one push body per loop, in {} (untimed). Then {} concurrent plain HTTP clients, one per device with its token and cursor, each loop \"push the next body, then pull until caught up\", until the bodies or {} s ran out: {} loops in {:.1} s, {} changes accepted, {} rejections or failed requests, loop latency p50/p99 {} / {}. CPU: server threads {:.1} s, client threads {:.1} s ⇒ {:.2} ms of server CPU per accepted change. The server's document cache ({} documents) found {} of the {} stored documents pushes went to loaded already. Group commit: {} push requests in {} write transactions ({:.2} per commit). Phones are separate machines; here the simulated ones would take the server's CPU (3b), so their work is done first and only their traffic is timed.\n",
        l.devices,
        cfg.replay_loops,
        secs(rp.prep),
        l.devices,
        cfg.load_secs,
        rp.loops,
        rp.secs,
        rp.changes,
        rp.errors,
        ms(pct(&rp.lat, 50.0)),
        ms(pct(&rp.lat, 99.0)),
        rp.cpu_srv,
        rp.cpu_dev,
        rp.cpu_srv * 1000.0 / rp.changes.max(1) as f64,
        fieldsales_server::docs::DEFAULT_CAPACITY,
        rp.cache.0,
        rp.cache.0 + rp.cache.1,
        rp.groups.1,
        rp.groups.0,
        rp.groups.1 as f64 / rp.groups.0.max(1) as f64
    );
    d += &format!(
        "- **Wire**: the captured lead is one Automerge change of {} B; its saved document is {} B. Push request body {} B ({} B with headers), response body {} B ({} B with headers). A one-field edit afterwards: change {} B, push bodies {} + {} B ({} + {} B with headers).\n",
        w.change_bytes,
        w.doc_bytes,
        w.capture.req_body,
        w.capture.req_total,
        w.capture.resp_body,
        w.capture.resp_total,
        w.edit_change_bytes,
        w.edit.req_body,
        w.edit.resp_body,
        w.edit.req_total,
        w.edit.resp_total
    );
    let _ = cfg;
    (t, d)
}

/// Phase 3's headline figures on their own (for `FIELDSALES_BENCH_ONLY=load`).
fn load_summary(l: &Load, rp: &Replay) -> String {
    format!(
        "load: {:.0} changes/s accepted, sync p50/p99 {} / {}, {} errors; CPU server {:.1} s, devices {:.1} s ({:.2} ms server CPU per change)\n\
         server alone: {:.0} changes/s ({} loops in {:.1} s), loop p50/p99 {} / {}, {} errors; CPU server {:.1} s, clients {:.1} s ({:.2} ms server CPU per change); document cache hits/misses {}/{}; {} pushes in {} commits",
        l.accepted as f64 / l.secs,
        ms(pct(&l.lat, 50.0)),
        ms(pct(&l.lat, 99.0)),
        l.errors.len(),
        l.cpu_srv,
        l.cpu_dev,
        l.cpu_srv * 1000.0 / l.accepted.max(1) as f64,
        rp.changes as f64 / rp.secs,
        rp.loops,
        rp.secs,
        ms(pct(&rp.lat, 50.0)),
        ms(pct(&rp.lat, 99.0)),
        rp.errors,
        rp.cpu_srv,
        rp.cpu_dev,
        rp.cpu_srv * 1000.0 / rp.changes.max(1) as f64,
        rp.cache.0,
        rp.cache.1,
        rp.groups.1,
        rp.groups.0
    )
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let cfg = Cfg::new(bench);
    let load_start = testkit::bench::load_average();
    let started = cmd("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let wall = Instant::now();
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("dev")
        .thread_keep_alive(Duration::from_secs(3600))
        .enable_all()
        .build()
        .expect("client runtime");

    // `FIELDSALES_BENCH_ONLY=load` runs phase 3 alone and prints its figures (for profiling the
    // server); nothing is written.
    // `FIELDSALES_BENCH_ONLY=scale` runs phase 3's replay on SQLite and phase 5 and prints them.
    if std::env::var("FIELDSALES_BENCH_ONLY").is_ok_and(|v| v == "scale") {
        let (_, rp) = load(&cfg);
        let sc = scale(&cfg);
        let (t, d) = scale_rows(&rp, &sc);
        println!("{t}\n{d}");
        return;
    }
    // `FIELDSALES_BENCH_ONLY=bootstrap` times a new device's first sync at several sizes
    // (`FIELDSALES_BENCH_BOOT`: leads:activities-per-lead, comma-separated) and prints one line
    // each, to see whether the rate stays flat as the workspace grows; nothing is written.
    if std::env::var("FIELDSALES_BENCH_ONLY").is_ok_and(|v| v == "bootstrap") {
        let sizes = std::env::var("FIELDSALES_BENCH_BOOT")
            .unwrap_or_else(|_| "10000:0,100000:0,100000:3".to_string());
        for size in sizes.split(',') {
            let parsed =
                size.split_once(':').and_then(|(l, a)| Some((l.parse().ok()?, a.parse().ok()?)));
            let Some((leads, activities_per_lead)) = parsed else {
                eprintln!("FIELDSALES_BENCH_BOOT: '{size}' is not leads:activities-per-lead");
                return;
            };
            let cfg = Cfg { leads, activities_per_lead, ..Cfg::new(bench) };
            let s = Server::start();
            let t = Instant::now();
            let (seeded, ..) = client_rt.block_on(seed(&cfg, &s));
            let seeding = t.elapsed();
            let store = &seeded.manager.store;
            let client = SyncClient::for_store(store).expect("sync client");
            let sync = client_rt.block_on(timed_sync(&client, store)).expect("bootstrap sync");
            let docs = store.document_ids().expect("ids").len();
            println!(
                "bootstrap of {leads} leads + {} activities: {docs} documents in {} = {:.0} documents/s ({} pull pages; CPU: server {:.2} s, device {:.2} s; seeding took {}; load average {})",
                leads * activities_per_lead,
                secs(sync.total),
                docs as f64 / sync.total.as_secs_f64(),
                sync.pull_pages,
                sync.pull_cpu.0,
                sync.pull_cpu.1,
                secs(seeding),
                testkit::bench::load_average()
            );
        }
        return;
    }
    if std::env::var("FIELDSALES_BENCH_ONLY").is_ok_and(|v| v == "load") {
        eprintln!("[3/4] load only: {} devices for {} s", cfg.load_teams * 10, cfg.load_secs);
        let (l, rp) = load(&cfg);
        println!("{}", load_summary(&l, &rp));
        return;
    }
    eprintln!(
        "[1/4] bootstrap: seeding {} leads and {} activities",
        cfg.leads,
        cfg.leads * cfg.activities_per_lead
    );
    let s1 = Server::start();
    let (seeded, c, ss, sp) = client_rt.block_on(seed(&cfg, &s1));
    let boot = client_rt.block_on(bootstrap(&cfg, &s1, &seeded, c, ss, sp));
    eprintln!("[2/4] incremental sync of {} leads × {} rounds", cfg.incr_leads, cfg.incr_rounds);
    let inc = client_rt.block_on(incremental(&cfg, &s1, &seeded));
    eprintln!("[4/4] bytes on the wire for one captured lead");
    let w = client_rt.block_on(wire(&s1));
    drop(seeded);
    drop(s1);
    eprintln!("[3/4] load: {} devices for {} s", cfg.load_teams * 10, cfg.load_secs);
    let (l, rp) = load(&cfg);
    client_rt.shutdown_timeout(Duration::from_secs(5));
    let sc = scale(&cfg);

    let load_end = testkit::bench::load_average();
    let (mut table, mut details) = report(&cfg, &boot, &inc, &l, &rp, &w);
    let (t5, d5) = scale_rows(&rp, &sc);
    table += &t5;
    details += &d5;
    println!("\n{table}\n{details}");
    if !cfg.bench {
        return;
    }
    let doc = format!(
        "# Sync benchmarks\n\n\
         Issue 3's sync targets, measured in one run against the real server (`fieldsales_server::serve` on 127.0.0.1:0, \
         SQLite backend) with real device stores synced by the core's `SyncClient`, release build.\n\n\
         - Command: `CARGO_BUILD_JOBS=2 cargo bench -p fieldsales-server --bench sync` (load phase length: `FIELDSALES_BENCH_SECS`, {} s here)\n\
         - Date: {started}; the whole run took {:.1} min\n\
         - Machine: {}\n\
         - Load average (1/5/15 min) at start: {load_start}; at end: {load_end}\n\
         - Server, devices and the Automerge baseline run in one process and share the same 2 cores: the server on its own \
         tokio runtime (2 workers + blocking pool); devices on the bench's main thread in phases 1, 2 and 4 and on a runtime \
         with one worker per device in phase 3. Latencies include the devices' own CPU work and every other process on the machine. \
         The process's allocator is mimalloc, the server binary's, so the device-side figures (phases 1, 2 and 3b) are with \
         mimalloc too; phones use their platform's allocator.\n\n\
         {table}\n{details}\n",
        cfg.load_secs,
        wall.elapsed().as_secs_f64() / 60.0,
        machine(),
    );
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks-sync.md");
    std::fs::write(&path, doc).expect("write docs/benchmarks-sync.md");
    eprintln!("wrote {}", path.display());
}
