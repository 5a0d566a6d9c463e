//! Store benchmarks against the targets, each next to a plain rusqlite baseline measured
//! in the same run.
//!
//!   CARGO_BUILD_JOBS=2 cargo bench -p fieldsales-core --bench store
//!
//! Groups (criterion ids are `group/function`):
//! - `baseline`: one plain INSERT of a comparable row per transaction into a WAL database,
//!   synchronous=NORMAL and =FULL (the durability cost).
//! - `capture`: `create_lead` of a typical lead, `update_lead` of one field, and two component
//!   timings (validation, Automerge build) that show where capture time goes.
//! - `bulk`: 10,000 rows in one plain transaction vs `create_leads` of 10,000 leads.
//! - `list_100k`, `search_100k`, `write_100k`, `open_100k`: on one shared 100,000-lead store
//!   built once per process with `create_leads` in batches of 10,000.
//!
//! **One million leads.** `FIELDSALES_BENCH_LEADS=1000000` sets the shared store's size in bench
//! mode (test mode always uses 2,000); the groups are then `list_1m`, `search_1m`, `write_1m`,
//! `open_1m`. The store is then kept under `target/store-bench/` and reused by later runs
//! (building it takes minutes; delete the file to rebuild it; the open and write groups add a
//! few leads; the closing whole-outbox ack is skipped). `[memory]` lines on stderr give the
//! process's resident set (VmRSS, VmHWM) after the store is opened and after each group:
//!
//!   FIELDSALES_BENCH_LEADS=1000000 cargo bench -p fieldsales-core --bench store -- \
//!     'list_1m|search_1m|open_1m'
//! - `at_rest` (with `--features encryption`): the same capture, list, search and open on two
//!   stores of 10,000 leads, one plain and one encrypted with SQLCipher, side by side:
//!   `cargo bench -p fieldsales-core --features encryption --bench store -- at_rest`.
//!
//! Bytes on disk per lead cannot be timed; they are printed (stderr) when the shared store is
//! built and again after acknowledging the whole outbox. At the end a summary table with ratios
//! and targets is printed on stdout, read back from criterion's estimates of this run.
//!
//! Under `cargo test --all-targets` (criterion's test mode) every routine runs once on small
//! stores, so the test suite stays fast.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, SamplingMode, Throughput};
use fieldsales_core::{LeadDraft, LeadPatch, LeadQuery, LeadSort, OpenOptions, Stage, Store};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rusqlite::Connection;

use testkit::bench::{
    baseline_db, baseline_insert, criterion_dir, fixture_leads, fmt_time, median_ns, print_memory,
    size_label, target_dir,
};
use testkit::data::{STAGES, owner};
use testkit::{T0, companies, drafts, typical_draft};

const USER: &str = "rep01";

// ---- sizes --------------------------------------------------------------------------------

struct Sizes {
    /// Leads in the shared store for list, search and open.
    fixture: usize,
    /// The bench-mode fixture size as group names spell it (`100k`, `1m`).
    label: String,
    /// Keep the shared store under target/ and reuse it (sizes other than the default).
    cached: bool,
    /// Leads per `create_leads` call when building it.
    fixture_batch: usize,
    /// Leads per bulk-import iteration.
    bulk: usize,
    /// Leads already in the store that capture and edit run against.
    work: usize,
}

fn sizes(bench_mode: bool) -> Sizes {
    let fixture = fixture_leads(100_000);
    let label = size_label(fixture);
    if bench_mode {
        let cached = fixture != 100_000;
        Sizes { fixture, label, cached, fixture_batch: 10_000, bulk: 10_000, work: 10_000 }
    } else {
        let (fixture_batch, bulk, work) = (1_000, 500, 200);
        Sizes { fixture: 2_000, label, cached: false, fixture_batch, bulk, work }
    }
}

// ---- stores -------------------------------------------------------------------------------

fn ticking_clock(step_ms: i64) -> fieldsales_core::Clock {
    let t = Arc::new(AtomicI64::new(T0));
    Arc::new(move || t.fetch_add(step_ms, Ordering::Relaxed))
}

fn open_store(path: &Path) -> Store {
    Store::open(path, bench_options()).unwrap()
}

fn bench_options() -> OpenOptions {
    OpenOptions::new(USER).region("KR").clock(ticking_clock(1_000))
}

/// Bytes of the database file and of its WAL.
fn file_sizes(path: &Path) -> (u64, u64) {
    let len = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    (len(path.to_path_buf()), len(PathBuf::from(wal)))
}

fn report_size(label: &str, path: &Path, leads: usize) {
    let (db, wal) = file_sizes(path);
    eprintln!(
        "[bytes] {label}: db {db} B + wal {wal} B = {} B; {:.0} B/lead (db file alone {:.0} B/lead)",
        db + wal,
        (db + wal) as f64 / leads as f64,
        db as f64 / leads as f64
    );
}

/// Where the bytes go, per table and index (SQLite's dbstat), and average blob sizes.
fn report_breakdown(path: &Path, leads: usize) {
    let c = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut stmt =
        c.prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").unwrap();
    let rows: Vec<(String, i64)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    let parts: Vec<String> = rows
        .iter()
        .filter(|(_, b)| *b as f64 / leads as f64 >= 5.0)
        .map(|(n, b)| format!("{n} {:.0}", *b as f64 / leads as f64))
        .collect();
    eprintln!("[bytes]   per lead by table/index: {}", parts.join(", "));
    let avg = |sql: &str| -> f64 {
        c.query_row(sql, [], |r| r.get::<_, Option<f64>>(0)).unwrap().unwrap_or(0.0)
    };
    eprintln!(
        "[bytes]   avg document blob {:.0} B, avg outbox change {:.0} B, outbox rows {}",
        avg("SELECT avg(length(data)) FROM documents"),
        avg("SELECT avg(length(data)) FROM outbox"),
        c.query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0)).unwrap()
    );
}

/// Pages one capture and one edit write to the WAL (the bulk of a commit's I/O), next to the
/// plain baseline insert.
fn report_wal_per_op(store: &Store, ids: &[String], companies: &[String]) {
    const OPS: usize = 20;
    let raw = Connection::open(store.path()).unwrap();
    let page: i64 = raw.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
    let frames = |path: &Path| -> f64 {
        (file_sizes(path).1.saturating_sub(32)) as f64 / (page + 24) as f64 / OPS as f64
    };
    let truncate =
        |c: &Connection| c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    truncate(&raw);
    for d in drafts(9, OPS, companies) {
        store.create_lead(d).unwrap();
    }
    let create = frames(store.path());
    truncate(&raw);
    for (n, id) in ids.iter().take(OPS).enumerate() {
        store
            .update_lead(
                id,
                LeadPatch { title: Some(format!("Head of Sales {n}")), ..Default::default() },
            )
            .unwrap();
    }
    let update = frames(store.path());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.db");
    let c = baseline_db(&path, "NORMAL");
    for (n, d) in drafts(9, OPS, companies).iter().enumerate() {
        c.execute_batch("BEGIN").unwrap();
        baseline_insert(&c, &format!("id-{n}"), d, T0);
        c.execute_batch("COMMIT").unwrap();
    }
    eprintln!(
        "[wal] pages written to the WAL per operation ({page} B pages): create_lead {create:.1}, update_lead {update:.1}, plain baseline insert {:.1}",
        frames(&path)
    );
}

/// What one typical lead's document would take in the encodings Automerge offers: the raw change
/// (what compaction packs, `store::packed`), the same change compressed, and a saved document.
fn report_blob_options(companies: &[String]) {
    let v = fieldsales_core::validate::Validator::new("KR").unwrap();
    let actor = automerge::ActorId::random();
    let (mut raw, mut compressed, mut stored, mut saved, mut n) = (0usize, 0, 0, 0, 0);
    for mut d in drafts(6, 200, companies) {
        v.lead_draft(&mut d).unwrap();
        let id = fieldsales_core::new_id();
        let mut doc = fieldsales_core::doc::lead::create(actor.clone(), &id, &d, USER, T0).unwrap();
        let mut change = doc.get_last_local_change().unwrap();
        raw += change.raw_bytes().len();
        compressed += change.bytes().len();
        stored += doc.save_nocompress().len();
        saved += doc.save().len();
        n += 1;
    }
    let n = n as f64;
    eprintln!(
        "[bytes]   one typical lead document: raw change {:.0} B, compressed change {:.0} B, save_nocompress() {:.0} B (what a write stores), save() {:.0} B",
        raw as f64 / n,
        compressed as f64 / n,
        stored as f64 / n,
        saved as f64 / n
    );
}

/// The shared 100,000-lead store for list, search and open. Its `Store` is dropped for the open
/// benchmark so that each open is the only connection, as on a phone.
struct Fixture {
    _dir: Option<tempfile::TempDir>,
    path: PathBuf,
    leads: usize,
    store: RefCell<Option<Store>>,
    company_query: String,
}

impl Fixture {
    fn build(s: &Sizes, companies: &[String]) -> Fixture {
        // A company whose three-letter prefix is the search query; "Kozora Energy" or the like.
        let company_query = companies[37].chars().take(3).collect::<String>().to_lowercase();
        if !s.cached {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("fixture.db");
            let store = Self::create(&path, s, companies);
            let f = Fixture {
                _dir: Some(dir),
                path,
                leads: s.fixture,
                store: RefCell::new(Some(store)),
                company_query,
            };
            f.explain();
            return f;
        }
        let dir = target_dir().join("store-bench");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("fixture-{}leads.db", s.fixture));
        if path.exists() {
            eprintln!("[fixture] cached: {}", path.display());
        } else {
            let building = dir.join(format!("fixture-{}leads.db.building", s.fixture));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
            }
            drop(Self::create(&building, s, companies));
            std::fs::rename(&building, &path).unwrap();
        }
        report_size("cached store, closed", &path, s.fixture);
        let f = Fixture {
            _dir: None,
            leads: lead_count(&path),
            store: RefCell::new(None),
            path,
            company_query,
        };
        let start = Instant::now();
        f.with_store(|_| ());
        eprintln!(
            "[fixture] Store::open of {} leads: {:.1} ms",
            f.leads,
            start.elapsed().as_secs_f64() * 1e3
        );
        print_memory(&format!("after opening the {}-lead store", f.leads));
        f.explain();
        f
    }

    /// Writes `s.fixture` typical leads with `create_leads` and compacts.
    fn create(path: &Path, s: &Sizes, companies: &[String]) -> Store {
        // One clock tick per batch: `updated_at` takes a value per batch, ids order within it.
        let store =
            Store::open(path, OpenOptions::new(USER).region("KR").clock(ticking_clock(60_000)))
                .unwrap();
        let mut rng = StdRng::seed_from_u64(7);
        let start = Instant::now();
        let mut made = 0;
        while made < s.fixture {
            let n = s.fixture_batch.min(s.fixture - made);
            let batch: Vec<LeadDraft> =
                (0..n).map(|_| typical_draft(&mut rng, companies)).collect();
            store.create_leads(batch).unwrap();
            made += n;
        }
        let took = start.elapsed();
        eprintln!(
            "[fixture] {made} leads in {} calls of create_leads: {:.1} s, {:.0} leads/s",
            made.div_ceil(s.fixture_batch),
            took.as_secs_f64(),
            made as f64 / took.as_secs_f64()
        );
        report_size("after import (outbox full, not compacted)", path, made);
        let start = Instant::now();
        store.compact().unwrap();
        eprintln!("[fixture] compact() took {:.2} s", start.elapsed().as_secs_f64());
        report_size("after compact() (outbox full)", path, made);
        report_breakdown(path, made);
        report_blob_options(companies);
        store
    }

    fn with_store<T>(&self, f: impl FnOnce(&Store) -> T) -> T {
        let mut slot = self.store.borrow_mut();
        if slot.is_none() {
            *slot = Some(open_store(&self.path));
        }
        f(slot.as_ref().unwrap())
    }

    fn close(&self) {
        self.store.borrow_mut().take();
    }

    /// Hit counts and query plans of the benchmarked queries, as evidence for the report.
    fn explain(&self) {
        let c = Connection::open_with_flags(&self.path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
        let count =
            |sql: &str, arg: &str| -> i64 { c.query_row(sql, [arg], |r| r.get(0)).unwrap() };
        for q in [
            format!("\"{}\"*", self.company_query),
            "\"김민\"*".to_string(),
            "\"010\"*".to_string(),
        ] {
            let n = count("SELECT count(*) FROM leads_fts WHERE leads_fts MATCH ?1", &q);
            eprintln!(
                "[fixture] fts {q}: {n} hits ({:.2}% of leads)",
                100.0 * n as f64 / self.leads as f64
            );
        }
        eprintln!(
            "[fixture] stage=qualified: {} leads; owner=rep03: {} leads",
            count("SELECT count(*) FROM leads WHERE stage = ?1", "qualified"),
            count("SELECT count(*) FROM leads WHERE owner = ?1", "rep03")
        );
        for (label, sql) in [
            // The statements list_leads builds (all projection columns), with literals.
            (
                "stage/updated",
                "SELECT * FROM leads WHERE deleted = 0 AND stage IN ('qualified') ORDER BY updated_at DESC, rowid DESC LIMIT 51",
            ),
            (
                "owner/value",
                "SELECT * FROM leads WHERE deleted = 0 AND owner = 'rep03' ORDER BY value_sort DESC, rowid DESC LIMIT 51",
            ),
            (
                "all/updated",
                "SELECT * FROM leads WHERE deleted = 0 ORDER BY updated_at DESC, rowid DESC LIMIT 51",
            ),
            // What update_lead runs on the projections for an edited lead.
            ("edit: delete fts row", "DELETE FROM leads_fts WHERE rowid = 1"),
            ("edit: delete tags", "DELETE FROM lead_tags WHERE lead = 1"),
            ("edit: delete history", "DELETE FROM stage_history WHERE lead = 1"),
            (
                "search",
                "SELECT l.id FROM (SELECT f.rowid AS r, f.rank AS score FROM leads_fts f JOIN leads l ON l.rowid = f.rowid WHERE leads_fts MATCH 'x*' AND l.deleted = 0 ORDER BY f.rowid DESC LIMIT 2000) c JOIN leads l ON l.rowid = c.r ORDER BY c.score, c.r DESC LIMIT 50",
            ),
        ] {
            let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let plan: Vec<String> = stmt
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            eprintln!("[plan] {label}: {}", plan.join(" | "));
        }
        // The lookup update_lead's `DELETE FROM lead_tags WHERE lead = ?` does, timed alone.
        let tag_rows: i64 =
            c.query_row("SELECT count(*) FROM lead_tags", [], |r| r.get(0)).unwrap();
        let start = Instant::now();
        let reps = 20;
        for _ in 0..reps {
            count("SELECT count(*) FROM lead_tags WHERE lead = ?1", "0");
        }
        eprintln!(
            "[plan] finding one lead's tags by lead among {tag_rows} lead_tags rows: {:.2} ms",
            start.elapsed().as_secs_f64() * 1e3 / reps as f64
        );
    }
}

// ---- benchmarks ---------------------------------------------------------------------------

struct Ctx {
    sizes: Sizes,
    companies: Vec<String>,
    fixture: OnceCell<Fixture>,
    /// Benchmarks whose routine ran in this process, so the summary reads no stale estimates.
    ran: RefCell<BTreeSet<String>>,
}

impl Ctx {
    fn fixture(&self) -> &Fixture {
        self.fixture.get_or_init(|| Fixture::build(&self.sizes, &self.companies))
    }

    fn mark(&self, id: &str) {
        self.ran.borrow_mut().insert(id.to_string());
    }

    /// A group on the shared store, named for its size: `list_100k`, `list_1m`.
    fn group(&self, prefix: &str) -> String {
        format!("{prefix}_{}", self.sizes.label)
    }
}

fn bench_baseline(c: &mut Criterion, ctx: &Ctx) {
    let dir = tempfile::tempdir().unwrap();
    let rows = drafts(1, 256, &ctx.companies);
    let mut g = c.benchmark_group("baseline");
    for (name, sync, id) in [
        ("insert_normal", "NORMAL", "baseline/insert_normal"),
        ("insert_full", "FULL", "baseline/insert_full"),
    ] {
        let conn = baseline_db(&dir.path().join(format!("{name}.db")), sync);
        let i = Cell::new(0usize);
        g.sample_size(if sync == "FULL" { 30 } else { 50 })
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
        g.bench_function(name, |b| {
            ctx.mark(id);
            b.iter(|| {
                let n = i.get();
                i.set(n + 1);
                let key = fieldsales_core::new_id();
                conn.execute_batch("BEGIN").unwrap();
                baseline_insert(&conn, &key, &rows[n % rows.len()], T0);
                conn.execute_batch("COMMIT").unwrap();
            })
        });
    }
    g.finish();
}

fn bench_capture(c: &mut Criterion, ctx: &Ctx) {
    // Built on first use, so that a filtered run that skips this group does not pay for it.
    let work: OnceCell<(tempfile::TempDir, Store, Vec<String>)> = OnceCell::new();
    let work = || {
        work.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let store = open_store(&dir.path().join("work.db"));
            let ids: Vec<String> = store
                .create_leads(drafts(2, ctx.sizes.work, &ctx.companies))
                .unwrap()
                .into_iter()
                .map(|l| l.id)
                .collect();
            report_wal_per_op(&store, &ids, &ctx.companies);
            (dir, store, ids)
        })
    };
    let pool = drafts(3, 256, &ctx.companies);
    let i = Cell::new(0usize);

    let mut g = c.benchmark_group("capture");
    g.sample_size(50).warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(5));
    g.bench_function("create_lead", |b| {
        ctx.mark("capture/create_lead");
        let (_, store, _) = work();
        b.iter_batched(
            || {
                let n = i.get();
                i.set(n + 1);
                let mut d = pool[n % pool.len()].clone();
                d.phones = vec!["010-1234-5678".into()];
                d
            },
            |d| store.create_lead(d).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let e = Cell::new(0usize);
    g.bench_function("update_lead", |b| {
        ctx.mark("capture/update_lead");
        let (_, store, existing) = work();
        b.iter(|| {
            let n = e.get();
            e.set(n + 1);
            let patch = LeadPatch { title: Some(format!("Director {n}")), ..Default::default() };
            store.update_lead(&existing[n % existing.len()], patch).unwrap()
        })
    });

    // Components of create_lead, to show where its time goes.
    g.sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    // create_leads asks the OS for the core count on every call, one lead or many.
    g.bench_function("part_available_parallelism", |b| {
        ctx.mark("capture/part_available_parallelism");
        b.iter(std::thread::available_parallelism)
    });
    g.bench_function("part_validate", |b| {
        ctx.mark("capture/part_validate");
        let v = fieldsales_core::validate::Validator::new("KR").unwrap();
        b.iter_batched(
            || {
                let n = i.get();
                i.set(n + 1);
                pool[n % pool.len()].clone()
            },
            |mut d| v.lead_draft(&mut d).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let v = fieldsales_core::validate::Validator::new("KR").unwrap();
    let validated: Vec<LeadDraft> = pool
        .iter()
        .map(|d| {
            let mut d = d.clone();
            v.lead_draft(&mut d).unwrap();
            d
        })
        .collect();
    let actor = automerge::ActorId::random();
    g.bench_function("part_automerge", |b| {
        ctx.mark("capture/part_automerge");
        b.iter(|| {
            let n = i.get();
            i.set(n + 1);
            let id = fieldsales_core::new_id();
            let mut doc = fieldsales_core::doc::lead::create(
                actor.clone(),
                &id,
                &validated[n % validated.len()],
                USER,
                T0,
            )
            .unwrap();
            let lead = fieldsales_core::doc::lead::read(&doc, &id).unwrap();
            (lead, doc.get_last_local_change().unwrap())
        })
    });
    // One typical lead's new document and its id, as a capture makes it.
    let new_doc = || {
        let id = fieldsales_core::new_id();
        let doc = fieldsales_core::doc::lead::create(actor.clone(), &id, &validated[0], USER, T0)
            .unwrap();
        (id, doc)
    };
    // The read-back alone, on a document just made: what building the record from the draft
    // saves.
    g.bench_function("part_read", |b| {
        ctx.mark("capture/part_read");
        let (id, doc) = new_doc();
        b.iter(|| fieldsales_core::doc::lead::read(&doc, &id).unwrap())
    });
    // The bytes a new document is stored as: its uncompressed save (`documents::saved`), against
    // its one change.
    g.bench_function("part_save", |b| {
        ctx.mark("capture/part_save");
        let (_, mut doc) = new_doc();
        b.iter(|| doc.save_nocompress())
    });
    g.bench_function("part_change_bytes", |b| {
        ctx.mark("capture/part_change_bytes");
        let (_, mut doc) = new_doc();
        b.iter(|| doc.get_last_local_change().unwrap().raw_bytes().to_vec())
    });
    g.bench_function("part_load_read", |b| {
        ctx.mark("capture/part_load_read");
        let (_, store, existing) = work();
        let some_id = existing[0].clone();
        // The stored blob as the edit path loads it (the create change, never compacted).
        let raw =
            Connection::open_with_flags(store.path(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        let bytes: Vec<u8> = raw
            .query_row("SELECT data FROM documents WHERE id = ?1", [&some_id], |r| r.get(0))
            .unwrap();
        b.iter(|| {
            let doc = fieldsales_core::doc::load(&some_id, &bytes).unwrap();
            fieldsales_core::doc::lead::read(&doc, &some_id).unwrap()
        })
    });
    // Every local lead write reads the workspace's stage rules (a read transaction over the
    // `stage_settings` projection) before it builds the document.
    g.bench_function("part_sales_settings", |b| {
        ctx.mark("capture/part_sales_settings");
        let (_, store, _) = work();
        b.iter(|| store.sales_settings().unwrap())
    });
    g.finish();
}

fn bench_bulk(c: &mut Criterion, ctx: &Ctx) {
    let n = ctx.sizes.bulk;
    let rows = drafts(4, n, &ctx.companies);
    let mut g = c.benchmark_group("bulk");
    g.throughput(Throughput::Elements(n as u64))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1));

    g.measurement_time(Duration::from_secs(3));
    g.bench_function("baseline_one_tx", |b| {
        ctx.mark("bulk/baseline_one_tx");
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir().unwrap();
                let conn = baseline_db(&dir.path().join("b.db"), "NORMAL");
                let ids: Vec<String> = (0..rows.len()).map(|_| fieldsales_core::new_id()).collect();
                let start = Instant::now();
                conn.execute_batch("BEGIN").unwrap();
                for (id, d) in ids.iter().zip(&rows) {
                    baseline_insert(&conn, id, d, T0);
                }
                conn.execute_batch("COMMIT").unwrap();
                total += start.elapsed();
            }
            total
        })
    });

    g.measurement_time(Duration::from_secs(12));
    g.bench_function("create_leads", |b| {
        ctx.mark("bulk/create_leads");
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir().unwrap();
                let store = open_store(&dir.path().join("s.db"));
                let batch = rows.clone();
                let start = Instant::now();
                let made = store.create_leads(batch).unwrap();
                total += start.elapsed();
                assert_eq!(made.len(), n);
            }
            total
        })
    });
    g.finish();
}

fn bench_list(c: &mut Criterion, ctx: &Ctx) {
    let group = ctx.group("list");
    let mut g = c.benchmark_group(&group);
    g.sample_size(50).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    let queries: [(&str, LeadQuery); 3] = [
        (
            "stage_by_updated",
            LeadQuery {
                stages: vec![Stage::Qualified],
                sort: LeadSort::Updated,
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "owner_by_value",
            LeadQuery {
                owner: Some(owner(2)),
                sort: LeadSort::Value,
                limit: 50,
                ..Default::default()
            },
        ),
        ("all_by_updated", LeadQuery { sort: LeadSort::Updated, limit: 50, ..Default::default() }),
    ];
    for (name, q) in queries {
        g.bench_function(name, |b| {
            ctx.mark(&format!("{group}/{name}"));
            let f = ctx.fixture();
            f.with_store(|s| {
                b.iter(|| {
                    let page = s.list_leads(&q).unwrap();
                    assert_eq!(page.items.len(), 50);
                    page
                })
            })
        });
    }
    g.finish();
    print_memory(&format!("after {group}"));
}

fn bench_search(c: &mut Criterion, ctx: &Ctx) {
    let group = ctx.group("search");
    let mut g = c.benchmark_group(&group);
    g.sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for name in ["company_prefix", "korean_name_prefix", "phone_prefix_all", "letter_a"] {
        g.bench_function(name, |b| {
            ctx.mark(&format!("{group}/{name}"));
            let f = ctx.fixture();
            let text = match name {
                "company_prefix" => f.company_query.clone(),
                "korean_name_prefix" => "김민".to_string(),
                "letter_a" => "a".to_string(),
                _ => "010".to_string(),
            };
            f.with_store(|s| {
                b.iter(|| {
                    let hits = s.search_leads(&text, 50).unwrap();
                    assert!(!hits.is_empty());
                    hits
                })
            })
        });
    }
    g.finish();
    print_memory(&format!("after {group}"));
}

/// Capture and edit again, on the 100,000-lead store: do they slow down as the store grows?
fn bench_write_large(c: &mut Criterion, ctx: &Ctx) {
    let group = ctx.group("write");
    let mut g = c.benchmark_group(&group);
    g.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    let pool = drafts(8, 64, &ctx.companies);
    let i = Cell::new(0usize);
    g.bench_function("create_lead", |b| {
        ctx.mark(&format!("{group}/create_lead"));
        let f = ctx.fixture();
        f.with_store(|s| {
            b.iter_batched(
                || {
                    let n = i.get();
                    i.set(n + 1);
                    pool[n % pool.len()].clone()
                },
                |d| s.create_lead(d).unwrap(),
                BatchSize::SmallInput,
            )
        })
    });
    let ids: OnceCell<Vec<String>> = OnceCell::new();
    g.bench_function("update_lead", |b| {
        ctx.mark(&format!("{group}/update_lead"));
        let f = ctx.fixture();
        f.with_store(|s| {
            // Leads spread over the whole store, from a filtered first page of each stage.
            let ids = ids.get_or_init(|| {
                STAGES
                    .iter()
                    .flat_map(|st| {
                        s.list_leads(&LeadQuery {
                            stages: vec![*st],
                            sort: LeadSort::Name,
                            limit: 100,
                            ..Default::default()
                        })
                        .unwrap()
                        .items
                    })
                    .map(|l| l.id)
                    .collect()
            });
            b.iter(|| {
                let n = i.get();
                i.set(n + 1);
                let patch =
                    LeadPatch { title: Some(format!("Director {n}")), ..Default::default() };
                s.update_lead(&ids[n % ids.len()], patch).unwrap()
            })
        })
    });
    g.finish();
}

/// The WAL a store leaves behind decides what an open costs: the first connection rebuilds the
/// WAL index by reading every valid frame. So the open is measured in three defined states.
#[derive(Clone, Copy, PartialEq)]
enum WalState {
    /// Right after `compact()`: its VACUUM is the last commit, so the WAL holds the whole database.
    AfterCompact,
    /// After 50 captures following that: the WAL restarted and holds only their frames.
    AfterWrites,
    /// After an external `PRAGMA wal_checkpoint(TRUNCATE)`: an empty WAL.
    Truncated,
}

fn bench_open(c: &mut Criterion, ctx: &Ctx) {
    let group = ctx.group("open");
    let mut g = c.benchmark_group(&group);
    g.sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    if ctx.sizes.cached {
        // An open after compact() replays a WAL as large as the database: one open per sample.
        g.sample_size(10).sampling_mode(SamplingMode::Flat);
    }
    let prepared: Cell<Option<WalState>> = Cell::new(None);
    let pool = drafts(10, 50, &ctx.companies);
    for (name, first_page, state) in [
        ("store_open", false, WalState::AfterCompact),
        ("open_first_page", true, WalState::AfterCompact),
        ("store_open_after_writes", false, WalState::AfterWrites),
        ("store_open_wal_truncated", false, WalState::Truncated),
    ] {
        g.bench_function(name, |b| {
            ctx.mark(&format!("{group}/{name}"));
            let f = ctx.fixture();
            if prepared.get() != Some(state) {
                match state {
                    WalState::AfterCompact => f.with_store(|s| s.compact().map(|_| ())).unwrap(),
                    WalState::AfterWrites => f.with_store(|s| {
                        for d in &pool {
                            s.create_lead(d.clone()).unwrap();
                        }
                    }),
                    WalState::Truncated => {
                        f.close();
                        let c = Connection::open(&f.path).unwrap();
                        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
                    }
                }
                f.close();
                prepared.set(Some(state));
                report_size(&format!("files {name} opens"), &f.path, f.leads);
            }
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    let s = Store::open(&f.path, OpenOptions::new(USER).region("KR")).unwrap();
                    if first_page {
                        assert_eq!(s.list_leads(&LeadQuery::default()).unwrap().items.len(), 50);
                    }
                    total += start.elapsed();
                    drop(s);
                }
                total
            })
        });
    }
    g.finish();
    print_memory(&format!("after {group}"));
}

fn lead_count(path: &Path) -> usize {
    let c = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    c.query_row("SELECT count(*) FROM leads", [], |r| r.get::<_, i64>(0)).unwrap() as usize
}

/// Acknowledges the whole outbox of the shared store, compacts and prints bytes per lead.
fn bytes_after_ack(ctx: &Ctx) {
    let Some(f) = ctx.fixture.get() else { return };
    if ctx.sizes.cached {
        // At 1,000,000 leads reading the whole outbox at once (`outbox(0, u32::MAX)`, which then
        // held every document it loaded) grew the process past 21 GB and the kernel killed it
        // (2026-12-06; `outbox::fill_changes` now holds one document at a time, not re-measured
        // at 1M); the bytes with the outbox full are printed above.
        eprintln!("[bytes] ack_outbox of the whole outbox skipped at {} leads", f.leads);
        return;
    }
    // The write benchmarks may have added leads.
    let leads = lead_count(&f.path);
    f.with_store(|s| {
        let hashes: Vec<String> =
            s.outbox(0, u32::MAX).unwrap().into_iter().map(|e| e.hash).collect();
        let start = Instant::now();
        let acked = s.ack_outbox(&hashes).unwrap();
        eprintln!(
            "[bytes] ack_outbox of {acked} changes took {:.2} s",
            start.elapsed().as_secs_f64()
        );
        let start = Instant::now();
        s.compact().unwrap();
        eprintln!("[bytes] compact() took {:.2} s", start.elapsed().as_secs_f64());
    });
    eprintln!("[bytes] leads now in the shared store: {leads}");
    report_size("after ack_outbox(all) + compact()", &f.path, leads);
    report_breakdown(&f.path, leads);
    f.close();
    // Closing the last read-write connection would checkpoint and remove the WAL.
    report_size("same, after the store is closed", &f.path, leads);
    // What a TRUNCATE checkpoint after the VACUUM (compact() runs it before) would leave.
    let c = Connection::open(&f.path).unwrap();
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    report_size("same, after an extra PRAGMA wal_checkpoint(TRUNCATE)", &f.path, leads);
    drop(c);
}

/// The first capture of a process also pays one-off costs (phone-number metadata, statement
/// preparation); printed once, since criterion only sees the warm path. Between the open and
/// the first capture the rep types the lead (`COLD_PAUSE`, far less than a real form takes):
/// whatever the store warms off the caller's thread at open has that long. The stores are
/// opened as the phone apps open them (`Store::open_warm`, what the FFI calls);
/// `FIELDSALES_BENCH_COLD_OPEN=plain` opens them with `Store::open` instead, to compare.
fn cold_first_capture(ctx: &Ctx) {
    const COLD_PAUSE: Duration = Duration::from_millis(500);
    let plain = std::env::var("FIELDSALES_BENCH_COLD_OPEN").is_ok_and(|v| v == "plain");
    let open = |p: &Path| {
        if plain {
            (std::sync::Arc::new(open_store(p)), None)
        } else {
            let (store, warming) = Store::open_warm(p, bench_options()).unwrap();
            (store, Some(warming))
        }
    };
    let dir = tempfile::tempdir().unwrap();
    // A different lead each time, as at a booth: the same lead again reuses what its first
    // capture loaded (its second capture 1.03 ms against 1.19 ms for another lead, in a probe).
    let mut leads = drafts(5, 7, &ctx.companies).into_iter();
    let mut next_lead = || leads.next().unwrap();
    // One capture after the rep has typed for `COLD_PAUSE`, as every capture at a booth is.
    let typed_then_captured = |store: &Store, d: LeadDraft| {
        std::thread::sleep(COLD_PAUSE);
        let start = Instant::now();
        store.create_lead(d).unwrap();
        start.elapsed()
    };
    let start = Instant::now();
    let (store, _warming) = open(&dir.path().join("cold.db"));
    let opened = start.elapsed();
    let first = typed_then_captured(&store, next_lead());
    let second = typed_then_captured(&store, next_lead());
    // Back to back, caches hot: what criterion's `capture/create_lead` sees.
    let d = next_lead();
    let start = Instant::now();
    store.create_lead(d).unwrap();
    let hot = start.elapsed();
    // The first capture on a thread started after the open, as the kits' worker threads are:
    // whatever the store warmed per thread must reach it too.
    let d = next_lead();
    let new_thread =
        std::thread::scope(|s| s.spawn(|| typed_then_captured(&store, d)).join().unwrap());
    // A second new store in the same process: what its first capture pays over its second
    // belongs to a new connection (statements, schema), not to the process.
    let (other, _warming2) = open(&dir.path().join("cold2.db"));
    let other_first = typed_then_captured(&other, next_lead());
    let other_second = typed_then_captured(&other, next_lead());
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    eprintln!(
        "[cold] ({}) open of a new store {:.2} ms; each capture after {} ms of typing: first of the process {:.2} ms, second {:.2} ms; then back to back {:.2} ms; first on a new thread {:.2} ms; a second new store: first {:.2} ms, second {:.2} ms",
        if plain { "Store::open" } else { "Store::open_warm" },
        ms(opened),
        COLD_PAUSE.as_millis(),
        ms(first),
        ms(second),
        ms(hot),
        ms(new_thread),
        ms(other_first),
        ms(other_second)
    );
}

// ---- summary ------------------------------------------------------------------------------

/// "met (2.5× under)" or "missed (1.8× over)": how a figure stands against its target.
fn verdict(value: f64, target: f64, lower_is_better: bool) -> String {
    let ok = if lower_is_better { value <= target } else { value >= target };
    let factor = if lower_is_better { value / target } else { target / value };
    if ok {
        format!("met ({:.1}× margin)", 1.0 / factor)
    } else {
        format!("MISSED ({factor:.2}× off)")
    }
}

fn summary(ctx: &Ctx, dir: &Path) {
    let ran = ctx.ran.borrow();
    let get = |id: &str| if ran.contains(id) { median_ns(dir, id) } else { None };
    let base = get("baseline/insert_normal");
    println!(
        "\n## Summary (medians of this run; ratio = figure / plain rusqlite baseline of this run)\n"
    );
    println!("| benchmark | median | baseline | ratio | target | verdict |");
    println!("|---|---|---|---|---|---|");
    let row = |id: &str, target_ms: Option<f64>| {
        let Some(m) = get(id) else { return };
        let (b, r) = match base {
            Some(b) => (fmt_time(b), format!("{:.1}×", m / b)),
            None => ("–".into(), "–".into()),
        };
        let (t, v) = match target_ms {
            Some(t) => (format!("≤ {t} ms"), verdict(m / 1e6, t, true)),
            None => ("–".into(), "–".into()),
        };
        println!("| {id} | {} | {b} insert | {r} | {t} | {v} |", fmt_time(m));
    };
    if let (Some(full), Some(b)) = (get("baseline/insert_full"), base) {
        println!(
            "| baseline/insert_full | {} | {} insert (NORMAL) | {:.1}× | – | durability cost of FULL |",
            fmt_time(full),
            fmt_time(b),
            full / b
        );
    }
    row("capture/create_lead", Some(0.5));
    row("capture/update_lead", None);
    for id in [
        "capture/part_validate",
        "capture/part_automerge",
        "capture/part_read",
        "capture/part_save",
        "capture/part_change_bytes",
        "capture/part_load_read",
        "capture/part_available_parallelism",
    ] {
        row(id, None);
    }
    if let Some(m) = get("bulk/create_leads") {
        let n = ctx.sizes.bulk as f64;
        let rate = n / (m / 1e9);
        let (b, r) = match get("bulk/baseline_one_tx") {
            Some(b) => {
                (format!("{} ({:.0} rows/s)", fmt_time(b), n / (b / 1e9)), format!("{:.1}×", m / b))
            }
            None => ("–".into(), "–".into()),
        };
        println!(
            "| bulk/create_leads ({n} leads) | {} = {rate:.0} leads/s | {b} | {r} | ≥ 20000 leads/s | {} |",
            fmt_time(m),
            verdict(rate, 20_000.0, false)
        );
    }
    let shared = |prefix: &str, name: &str| format!("{}/{name}", ctx.group(prefix));
    for name in ["stage_by_updated", "owner_by_value", "all_by_updated"] {
        row(&shared("list", name), Some(5.0));
    }
    for name in ["company_prefix", "korean_name_prefix", "phone_prefix_all", "letter_a"] {
        row(&shared("search", name), Some(20.0));
    }
    row(&shared("write", "create_lead"), Some(0.5));
    row(&shared("write", "update_lead"), None);
    for name in
        ["store_open", "open_first_page", "store_open_after_writes", "store_open_wal_truncated"]
    {
        row(&shared("open", name), Some(50.0));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Criterion's own rule: without --bench (cargo test --benches) it only checks each routine.
    let bench_mode = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    let listing = args.iter().any(|a| a == "--list");
    let dir = criterion_dir();
    let mut c = Criterion::default().output_directory(&dir).configure_from_args();
    let ctx = Ctx {
        sizes: sizes(bench_mode),
        companies: companies(),
        fixture: OnceCell::new(),
        ran: RefCell::new(BTreeSet::new()),
    };
    if !listing {
        cold_first_capture(&ctx);
    }

    bench_baseline(&mut c, &ctx);
    bench_capture(&mut c, &ctx);
    bench_bulk(&mut c, &ctx);
    bench_list(&mut c, &ctx);
    bench_search(&mut c, &ctx);
    bench_write_large(&mut c, &ctx);
    bench_open(&mut c, &ctx);
    #[cfg(feature = "encryption")]
    bench_at_rest(&mut c, &ctx);
    bytes_after_ack(&ctx);

    c.final_summary();
    if bench_mode && !listing {
        summary(&ctx, &dir);
        #[cfg(feature = "encryption")]
        at_rest_summary(&ctx, &dir);
    }
}

/// Plain and encrypted stores of `ctx.sizes.work` leads, side by side, in the same run: what
/// encryption at rest costs each operation.
#[cfg(feature = "encryption")]
fn bench_at_rest(c: &mut Criterion, ctx: &Ctx) {
    use fieldsales_core::store::StoreKey;
    let key = StoreKey::generate();
    let dir = tempfile::tempdir().unwrap();
    let opts = |encrypted: bool| {
        let o = OpenOptions::new(USER).region("KR").clock(ticking_clock(1_000));
        if encrypted { o.key(key.clone()) } else { o }
    };
    // Built on first use, so that a filtered run that skips this group does not pay for it.
    let stores: [OnceCell<Store>; 2] = [OnceCell::new(), OnceCell::new()];
    let path = |v: usize| dir.path().join(["plain.db", "encrypted.db"][v]);
    let store = |v: usize| {
        stores[v].get_or_init(|| {
            let s = Store::open(path(v), opts(v == 1)).unwrap();
            s.create_leads(drafts(7, ctx.sizes.work, &ctx.companies)).unwrap();
            s
        })
    };
    let pool = drafts(8, 256, &ctx.companies);
    let query = LeadQuery { sort: LeadSort::Updated, limit: 50, ..Default::default() };
    let mut g = c.benchmark_group("at_rest");
    g.sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    // Operation by operation, plain then encrypted, so that a change in the machine's load
    // falls on both sides of a comparison rather than on one.
    let i = Cell::new(0usize);
    let bench = |op: usize, v: usize| {
        let id = AT_REST[op].1[v];
        ctx.mark(id);
        &id["at_rest/".len()..]
    };
    for v in 0..2 {
        g.bench_function(bench(0, v), |b| {
            let s = store(v);
            b.iter(|| {
                i.set(i.get() + 1);
                s.create_lead(pool[i.get() % pool.len()].clone()).unwrap()
            })
        });
    }
    for v in 0..2 {
        g.bench_function(bench(1, v), |b| {
            let s = store(v);
            b.iter(|| s.list_leads(&query).unwrap())
        });
    }
    for v in 0..2 {
        g.bench_function(bench(2, v), |b| {
            let s = store(v);
            b.iter(|| s.search_leads("김민", 50).unwrap())
        });
    }
    // Opening next to the open store (as an app reopening after a restart would find a
    // checkpointed file): key check, schema version, meta rows.
    for v in 0..2 {
        g.bench_function(bench(3, v), |b| {
            store(v);
            b.iter(|| Store::open(path(v), opts(v == 1)).unwrap())
        });
    }
    g.finish();
}

/// The `at_rest` operations and their criterion ids, plain and encrypted.
#[cfg(feature = "encryption")]
const AT_REST: [(&str, [&str; 2]); 4] = [
    ("create_lead", ["at_rest/create_lead_plain", "at_rest/create_lead_encrypted"]),
    ("list 50", ["at_rest/list_plain", "at_rest/list_encrypted"]),
    ("search", ["at_rest/search_plain", "at_rest/search_encrypted"]),
    ("open", ["at_rest/open_plain", "at_rest/open_encrypted"]),
];

#[cfg(feature = "encryption")]
fn at_rest_summary(ctx: &Ctx, dir: &Path) {
    let ran = ctx.ran.borrow();
    let get = |id: &str| if ran.contains(id) { median_ns(dir, id) } else { None };
    println!("\n## Encryption at rest (medians of this run, {} leads per store)\n", ctx.sizes.work);
    println!("| operation | plain | encrypted (SQLCipher) | cost |");
    println!("|---|---|---|---|");
    for (op, [plain, encrypted]) in AT_REST {
        let (Some(p), Some(e)) = (get(plain), get(encrypted)) else { continue };
        println!("| {op} | {} | {} | {:+.0}% |", fmt_time(p), fmt_time(e), (e / p - 1.0) * 100.0);
    }
}
