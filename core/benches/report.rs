//! The manager's team report (`Store::report`, what `fieldsales report` computes) over 100,000
//! leads and 500,000 activities, next to plain SQL scans of the same projections measured in the
//! same run.
//!
//!   CARGO_BUILD_JOBS=2 cargo bench -p fieldsales-core --bench report
//!
//! Groups (criterion ids are `group/function`):
//! - `baseline`: `SELECT count(*), sum(…)` over the whole `leads` projection and over the whole
//!   `activities` projection, on a plain rusqlite connection to the same file.
//! - `report_100k`: the full report (team and every rep, owners = everyone on the device) for
//!   the quarter and for the month holding "now", 2026-11-20 15:00 UTC, Seoul time; and the
//!   quarter once more with the result dropped outside the timing (`quarter_without_drop`).
//!
//! **Seeding.** Writing 600,000 records through the document path takes minutes (~0.5 ms a
//! record), so the fixture is written with `Store::seed_projections_for_bench`, a
//! `#[doc(hidden)]` helper in the core that runs the real projection code (`upsert_lead`,
//! `upsert_activity`: lead rows with `closed_at` and `reached_rank`, FTS, tags, keys, stage
//! history, activity rows) without building documents. The report reads projections only, so
//! it sees exactly what it would see after capture and sync. The seeded file is cached under
//! `target/report-bench/`, keyed by the schema version and `FIXTURE_VERSION`; delete it (or
//! bump `FIXTURE_VERSION` when the generator changes) to rebuild it. Building it took 24–104 s
//! here, depending on the load.
//!
//! The data: 10 reps in two teams plus the manager; leads spread over the year before "now",
//! 45% from 8 trade shows (captured during the show), the rest manual, imported or web forms;
//! stage histories that advance with gaps of hours to weeks, some skipping stages, ~30% closed,
//! some lost then reopened and a share of those won; deal values in KRW, USD, EUR and JPY (15%
//! without one); 1% deleted; activities of every kind, the first contact minutes to weeks after
//! capture, open and done tasks, 1% deleted, 10% logged by someone other than the owner.
//!
//! At the end a summary table (medians, ratios to the baselines, the 200 ms target) is printed
//! on stdout, and `[fixture]`, `[check]` lines on stderr: sizes, cohort sizes, and a hash of each
//! report's JSON so that an optimisation can be checked for identical results.
//!
//! Under `cargo test --benches` (criterion's test mode) every routine runs once on a small,
//! uncached store.
//!
//! **One million leads.** `FIELDSALES_BENCH_LEADS=1000000` sets the fixture's leads in bench
//! mode and `FIELDSALES_BENCH_ACTIVITIES` its activities (default five per lead, as above); the
//! group is then `report_1m` and its target 1 s (200 ms at 100,000 leads). `[memory]` lines give
//! the process's resident set (VmRSS, VmHWM) after the store is opened and after the reports:
//!
//!   FIELDSALES_BENCH_LEADS=1000000 cargo bench -p fieldsales-core --bench report

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, SamplingMode, measurement::WallTime};
use fieldsales_core::Zone;
use fieldsales_core::report::{Period, ReportQuery};
use fieldsales_core::{
    Activity, ActivityKind, CaptureChannel, Lead, Location, Money, OpenOptions, Source, Stage,
    StageChange, Store,
};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, OpenFlags};

use testkit::bench::{
    criterion_dir, fixture_leads, fmt_time, median_ns, print_memory, size_label, target_dir,
};
use testkit::data::COMPANY_SUFFIXES;

/// Bump when the generator below changes, so that a cached fixture is rebuilt.
const FIXTURE_VERSION: u32 = 2;
const MANAGER: &str = "manager";
const MIN: i64 = 60_000;
const H: i64 = 3_600_000;
const D: i64 = 86_400_000;
/// 2026-11-20 15:00 UTC, a Friday.
const NOW: i64 = 1_795_186_800_000;
/// The team's zone.
fn seoul() -> Zone {
    Zone::parse("Asia/Seoul").unwrap()
}

struct Sizes {
    leads: usize,
    activities: usize,
    /// The bench-mode size as the group name spells it (`report_100k`, `report_1m`).
    label: String,
    /// The report's target, in ns: 200 ms at 100,000 leads, 1 s at a million (issue 16).
    target_ns: f64,
}

fn sizes(bench_mode: bool) -> Sizes {
    let leads = fixture_leads(100_000);
    let label = size_label(leads);
    let target_ns = if leads > 100_000 { 1e9 } else { 200e6 };
    if bench_mode {
        let activities = match std::env::var("FIELDSALES_BENCH_ACTIVITIES") {
            Ok(v) => v.replace('_', "").parse().expect("FIELDSALES_BENCH_ACTIVITIES: a count"),
            Err(_) => 5 * leads,
        };
        Sizes { leads, activities, label, target_ns }
    } else {
        Sizes { leads: 2_000, activities: 10_000, label, target_ns }
    }
}

// ---- data ---------------------------------------------------------------------------------

/// Two teams of five reps; the manager owns a few leads too.
const REPS: [&str; 10] = [
    "kim.a", "lee.b", "park.c", "choi.d", "jung.e", "kang.f", "cho.g", "yoon.h", "jang.i", "lim.j",
];
const EVENTS: [(&str, i64); 8] = [
    // (name, days before NOW the show opened)
    ("COEX Smart Factory Expo 2026", 340),
    ("Busan Marine Week 2026", 290),
    ("Seoul Startup Fair 2026", 230),
    ("KINTEX Robot Show 2026", 180),
    ("Daegu Medical Expo 2026", 130),
    ("Incheon Logistics Forum 2026", 75),
    ("Korea Energy Show 2026", 40),
    ("Pangyo AI Summit 2026", 12),
];
const COMPANY_WORDS: [&str; 20] = [
    "Hanbit", "Saerom", "Daon", "Miraero", "Bitsol", "Nuri", "Gaon", "Haneul", "Seum", "Dasom",
    "Arum", "Boram", "Chorong", "Dami", "Eunbit", "Garam", "Hyanggi", "Iseul", "Jaram", "Kkotnim",
];
const TAGS: [&str; 6] = ["vip", "demo", "partner", "enterprise", "smb", "reseller"];

/// A UUIDv7 like `new_id()` makes, but stamped with the record's own creation time and random
/// bits from the seeded generator, so that every build of the fixture is identical (the
/// `[check]` hashes compare across builds and code versions).
fn id_at(rng: &mut StdRng, at: i64) -> String {
    uuid::Builder::from_unix_timestamp_millis(at.max(0) as u64, &rng.random())
        .into_uuid()
        .to_string()
}

fn rep_of(rng: &mut StdRng) -> String {
    if rng.random_bool(0.02) { MANAGER.to_string() } else { REPS.choose(rng).unwrap().to_string() }
}

fn money(rng: &mut StdRng) -> Option<Money> {
    let x: f64 = rng.random();
    let (amount_minor, currency) = if x < 0.15 {
        return None;
    } else if x < 0.70 {
        (rng.random_range(1_000..500_000) * 1_000, "KRW")
    } else if x < 0.87 {
        (rng.random_range(1_000..5_000_000), "USD")
    } else if x < 0.95 {
        (rng.random_range(1_000..3_000_000), "EUR")
    } else {
        (rng.random_range(10_000..50_000_000), "JPY")
    };
    Some(Money { amount_minor, currency: currency.into() })
}

/// A stage history from capture at `created` up to `NOW` at most; the last entry is the stage.
fn history(rng: &mut StdRng, created: i64, by: &str) -> Vec<StageChange> {
    let step =
        |stage: Stage, at: i64| StageChange { stage, at, by: by.to_string(), lost_reason: None };
    let mut h = vec![step(Stage::New, created)];
    // A device clock that was behind now and then.
    let skew = if rng.random_bool(0.01) { -rng.random_range(MIN..2 * D) } else { 0 };
    let mut t = created;
    let furthest =
        *[0u8, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4].choose(rng).unwrap();
    for r in 1..=furthest {
        // Some leads skip a stage (not the one they end at).
        if r < furthest && rng.random_bool(0.15) {
            continue;
        }
        t += rng.random_range(H..12 * D);
        if t >= NOW {
            return h;
        }
        h.push(step(Stage::FUNNEL[r as usize], t + skew));
    }
    let close: f64 = rng.random();
    if close >= 0.15 + 0.08 * furthest as f64 {
        return h;
    }
    let won = rng.random_bool(0.15 + 0.15 * furthest as f64);
    t += rng.random_range(D..20 * D);
    if t >= NOW {
        return h;
    }
    h.push(StageChange {
        lost_reason: (!won).then(|| "price".to_string()),
        ..step(if won { Stage::Won } else { Stage::Lost }, t + skew)
    });
    if !won && rng.random_bool(0.15) {
        // Lost, then reopened; some of those are won later.
        t += rng.random_range(2 * D..30 * D);
        if t >= NOW {
            return h;
        }
        h.push(step(if rng.random_bool(0.5) { Stage::Contacted } else { Stage::Qualified }, t));
        if rng.random_bool(0.4) {
            t += rng.random_range(D..30 * D);
            if t < NOW {
                h.push(step(Stage::Won, t));
            }
        }
    }
    h
}

fn lead(rng: &mut StdRng, i: usize) -> Lead {
    let (created, event, channel) = if rng.random_bool(0.45) {
        let (name, days_before) = *EVENTS.choose(rng).unwrap();
        let at = NOW - days_before * D + rng.random_range(0..3 * D) + rng.random_range(0..9 * H);
        let ch = if rng.random_bool(0.7) {
            CaptureChannel::BadgeScan
        } else {
            CaptureChannel::BusinessCard
        };
        (at.min(NOW - H), Some(name.to_string()), ch)
    } else {
        let ch = *[
            CaptureChannel::Manual,
            CaptureChannel::Manual,
            CaptureChannel::Import,
            CaptureChannel::WebForm,
        ]
        .choose(rng)
        .unwrap();
        (NOW - rng.random_range(H..365 * D), None, ch)
    };
    let owner = rep_of(rng);
    let stage_history = history(rng, created, &owner);
    let stage = stage_history.last().unwrap().stage;
    let updated_at = stage_history.last().unwrap().at.max(created);
    let company =
        format!("{} {}", COMPANY_WORDS.choose(rng).unwrap(), COMPANY_SUFFIXES.choose(rng).unwrap());
    Lead {
        id: id_at(rng, created),
        name: Some(format!("Contact {i}")),
        company: Some(company),
        title: None,
        emails: vec![format!("contact{i}@example.co.kr")],
        phones: vec![],
        source: Source { event, channel },
        stage,
        lost_reason: stage_history.last().unwrap().lost_reason.clone(),
        stage_history,
        potential: None,
        deal_value: money(rng),
        owner: owner.clone(),
        tags: vec![TAGS.choose(rng).unwrap().to_string()],
        notes: String::new(),
        custom_fields: vec![],
        next_follow_up: rng.random_bool(0.3).then(|| NOW + rng.random_range(0..14 * D)),
        created_at: created,
        created_by: owner.clone(),
        updated_at,
        updated_by: owner,
        deleted: rng.random_bool(0.01),
        merged_into: None,
        merged_from: vec![],
        conflicts: vec![],
    }
}

const CONTACT_KINDS: [ActivityKind; 4] =
    [ActivityKind::Call, ActivityKind::Email, ActivityKind::Meeting, ActivityKind::Visit];
const KINDS: [ActivityKind; 20] = [
    ActivityKind::Call,
    ActivityKind::Call,
    ActivityKind::Call,
    ActivityKind::Call,
    ActivityKind::Call,
    ActivityKind::Call,
    ActivityKind::Email,
    ActivityKind::Email,
    ActivityKind::Email,
    ActivityKind::Email,
    ActivityKind::Email,
    ActivityKind::Meeting,
    ActivityKind::Meeting,
    ActivityKind::Visit,
    ActivityKind::Visit,
    ActivityKind::Note,
    ActivityKind::Note,
    ActivityKind::Note,
    ActivityKind::Task,
    ActivityKind::Task,
];

/// The `k`-th of a lead's `n` activities; the first is usually the first contact.
fn activity(rng: &mut StdRng, l: &Lead, k: usize) -> Activity {
    let horizon = l.stage_history.last().unwrap().at.max(l.created_at) + 30 * D;
    let (kind, at) = if k == 0 {
        let delay = match rng.random_range(0..100) {
            0..15 => rng.random_range(0..5 * MIN),
            15..40 => rng.random_range(5 * MIN..H),
            40..70 => rng.random_range(H..D),
            70..90 => rng.random_range(D..7 * D),
            _ => rng.random_range(7 * D..40 * D),
        };
        (*CONTACT_KINDS.choose(rng).unwrap(), l.created_at + delay)
    } else {
        (*KINDS.choose(rng).unwrap(), rng.random_range(l.created_at..horizon.max(l.created_at + 1)))
    };
    let at = at.min(NOW - MIN);
    let by = if rng.random_bool(0.9) { l.owner.clone() } else { rep_of(rng) };
    let (done, occurred_at, due_at) = match kind {
        ActivityKind::Task if rng.random_bool(0.7) => {
            (false, None, Some(at + rng.random_range(D..10 * D)))
        }
        ActivityKind::Task => (true, Some(at), Some(at)),
        _ => (true, Some(at), None),
    };
    let created_at = at + rng.random_range(0..2 * H);
    Activity {
        id: id_at(rng, created_at),
        lead_id: l.id.clone(),
        kind,
        subject: format!("{} {}", kind.as_str(), k + 1),
        notes: String::new(),
        occurred_at,
        due_at,
        done,
        duration_s: matches!(kind, ActivityKind::Call | ActivityKind::Meeting)
            .then(|| rng.random_range(60..3_600)),
        outcome: None,
        location: (kind == ActivityKind::Visit).then(|| Location {
            lat: 37.5 + rng.random_range(0.0..0.2),
            lon: 127.0 + rng.random_range(0.0..0.2),
            accuracy_m: Some(12.0),
        }),
        created_at,
        created_by: by.clone(),
        updated_at: created_at,
        updated_by: by,
        deleted: rng.random_bool(0.01),
        conflicts: vec![],
    }
}

/// Seeds `store` with the fixture, in transactions of 5,000 leads and their activities.
fn seed(store: &Store, s: &Sizes) {
    let mut rng = StdRng::seed_from_u64(5);
    // Activities per lead: 0 to 10, then evened out to exactly `s.activities`.
    let mut per_lead: Vec<usize> = (0..s.leads).map(|_| rng.random_range(0..=10)).collect();
    let mut total: usize = per_lead.iter().sum();
    while total != s.activities {
        let i = rng.random_range(0..s.leads);
        if total < s.activities && per_lead[i] < 12 {
            per_lead[i] += 1;
            total += 1;
        } else if total > s.activities && per_lead[i] > 0 {
            per_lead[i] -= 1;
            total -= 1;
        }
    }
    for chunk in (0..s.leads).collect::<Vec<_>>().chunks(5_000) {
        let leads: Vec<Lead> = chunk.iter().map(|i| lead(&mut rng, *i)).collect();
        let acts: Vec<Activity> = leads
            .iter()
            .zip(chunk)
            .flat_map(|(l, i)| {
                (0..per_lead[*i]).map(|k| activity(&mut rng, l, k)).collect::<Vec<_>>()
            })
            .collect();
        store.seed_projections_for_bench(&leads, &acts).unwrap();
    }
}

fn open(path: &Path) -> Store {
    Store::open(path, OpenOptions::new(MANAGER).region("KR").clock(std::sync::Arc::new(|| NOW)))
        .unwrap()
}

fn schema_version() -> u32 {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("v.db");
    drop(open(&p));
    Connection::open(&p).unwrap().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap()
}

/// The fixture file: cached under target/ in bench mode, a temporary one in test mode.
struct Fixture {
    path: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

fn fixture(s: &Sizes, bench_mode: bool) -> Fixture {
    let (dir, tmp) = if bench_mode {
        let d = target_dir().join("report-bench");
        std::fs::create_dir_all(&d).unwrap();
        (d, None)
    } else {
        let t = tempfile::tempdir().unwrap();
        (t.path().to_path_buf(), Some(t))
    };
    let name = format!(
        "fixture-schema{}-data{}-{}leads-{}acts.db",
        schema_version(),
        FIXTURE_VERSION,
        s.leads,
        s.activities
    );
    let path = dir.join(&name);
    if path.exists() {
        eprintln!("[fixture] cached: {}", path.display());
        return Fixture { path, _tmp: tmp };
    }
    let building = dir.join(format!("{name}.building"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
    }
    let t = Instant::now();
    {
        let store = open(&building);
        seed(&store, s);
        store.compact().unwrap();
    }
    std::fs::rename(&building, &path).unwrap();
    eprintln!("[fixture] built in {:.1} s: {}", t.elapsed().as_secs_f64(), path.display());
    Fixture { path, _tmp: tmp }
}

fn plain(path: &Path) -> Connection {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap()
}

fn quarter() -> Period {
    Period::quarter_of(NOW, &seoul())
}

fn month() -> Period {
    Period::month_of(NOW, &seoul())
}

/// What the CLI's `fieldsales report` asks for on the manager's device: every owner.
fn manager_query(p: Period) -> ReportQuery {
    ReportQuery::new(p, NOW)
}

fn describe(store: &Store, path: &Path) {
    let c = plain(path);
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    eprintln!(
        "[fixture] {} leads ({} deleted), {} activities ({} done), {} stage-history rows, {} MB",
        count("SELECT count(*) FROM leads"),
        count("SELECT count(*) FROM leads WHERE deleted = 1"),
        count("SELECT count(*) FROM activities"),
        count("SELECT count(*) FROM activities WHERE done = 1 AND deleted = 0"),
        count("SELECT count(*) FROM stage_history"),
        std::fs::metadata(path).map(|m| m.len() / 1_000_000).unwrap_or(0),
    );
    for (label, p) in [("quarter", quarter()), ("month", month())] {
        let r = store.report(&manager_query(p)).unwrap();
        let json = serde_json::to_string(&r).unwrap();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        json.hash(&mut h);
        let t = &r.team;
        eprintln!(
            "[check] {label}: captured {}, won {}, lost {}, contacted {}, activities {}, open pipeline {}, going cold {}, reps {}; JSON {} bytes, hash {:016x}",
            t.captured,
            t.win_rate.won,
            t.win_rate.lost,
            t.response_time.contacted,
            t.activities.iter().map(|a| a.count).sum::<u32>(),
            t.pipeline.iter().map(|p| p.leads).sum::<u32>(),
            t.going_cold_count,
            r.reps.len(),
            json.len(),
            h.finish()
        );
    }
}

// ---- benchmarks ---------------------------------------------------------------------------

struct Ctx {
    ran: RefCell<BTreeSet<String>>,
    /// `report_100k`, `report_1m`.
    group: String,
    target_ns: f64,
}

impl Ctx {
    /// Above 100,000 leads a call takes about a second: ten samples of one call or a few each
    /// (criterion's linear sampling would make 210 calls for 20 samples).
    fn scale(&self, g: &mut BenchmarkGroup<'_, WallTime>) {
        if self.target_ns > 200e6 {
            g.sample_size(10).sampling_mode(SamplingMode::Flat);
        }
    }

    fn mark(&self, id: &str) {
        self.ran.borrow_mut().insert(id.to_string());
    }
}

const SCAN_LEADS: &str = "SELECT count(*), sum(deal_amount), sum(created_at), sum(reached_rank), sum(length(owner)) FROM leads";
const SCAN_ACTIVITIES: &str = "SELECT count(*), sum(coalesce(occurred_at, created_at)), sum(done), sum(length(kind)) FROM activities";

fn bench_all(c: &mut Criterion, ctx: &Ctx, f: &Fixture, bench_mode: bool) {
    let conn = plain(&f.path);
    let mut g = c.benchmark_group("baseline");
    g.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    ctx.scale(&mut g);
    for (id, name, sql) in [
        ("baseline/scan_leads", "scan_leads", SCAN_LEADS),
        ("baseline/scan_activities", "scan_activities", SCAN_ACTIVITIES),
    ] {
        g.bench_function(name, |b| {
            ctx.mark(id);
            let mut stmt = conn.prepare(sql).unwrap();
            b.iter(|| stmt.query_row([], |r| r.get::<_, i64>(0)).unwrap())
        });
    }
    g.finish();
    drop(conn);

    let store = open(&f.path);
    print_memory("after opening the store");
    if bench_mode {
        describe(&store, &f.path);
    }
    let group = &ctx.group;
    let mut g = c.benchmark_group(group);
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));
    ctx.scale(&mut g);
    for (name, p) in [("quarter", quarter()), ("month", month())] {
        let q = manager_query(p);
        g.bench_function(name, |b| {
            ctx.mark(&format!("{group}/{name}"));
            b.iter(|| store.report(&q).unwrap())
        });
    }
    // The same quarter report with the result dropped outside the timing: freeing ~16 MB of
    // result (mostly the going-cold lists, team and reps) is not part of computing it, and glibc
    // spends a visible share of the time above doing it.
    let q = manager_query(quarter());
    g.sample_size(10);
    ctx.scale(&mut g);
    g.bench_function("quarter_without_drop", |b| {
        ctx.mark(&format!("{group}/quarter_without_drop"));
        b.iter_with_large_drop(|| store.report(&q).unwrap())
    });
    g.finish();
    print_memory(&format!("after {group}"));
}

// ---- summary ------------------------------------------------------------------------------

fn summary(ctx: &Ctx, dir: &Path) {
    let ran = ctx.ran.borrow();
    let get = |id: &str| if ran.contains(id) { median_ns(dir, id) } else { None };
    let (Some(bl), Some(ba)) = (get("baseline/scan_leads"), get("baseline/scan_activities")) else {
        return;
    };
    println!("\n## Summary (medians of this run)\n");
    let target = ctx.target_ns;
    println!(
        "| benchmark | median | ÷ scan of leads | ÷ scan of leads + activities | target | verdict |"
    );
    println!("|---|---|---|---|---|---|");
    println!("| baseline/scan_leads | {} | 1.0× | – | – | – |", fmt_time(bl));
    println!("| baseline/scan_activities | {} | {:.1}× | – | – | – |", fmt_time(ba), ba / bl);
    for name in ["quarter", "month", "quarter_without_drop"] {
        let id = format!("{}/{name}", ctx.group);
        let Some(m) = get(&id) else { continue };
        let verdict = if m <= target {
            format!("met ({:.1}× margin)", target / m)
        } else {
            format!("MISSED ({:.2}× over)", m / target)
        };
        println!(
            "| {id} | {} | {:.1}× | {:.1}× | ≤ {} | {verdict} |",
            fmt_time(m),
            m / bl,
            m / (bl + ba),
            fmt_time(target)
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Criterion's own rule: without --bench (cargo test --benches) it only checks each routine.
    let bench_mode = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    let listing = args.iter().any(|a| a == "--list");
    let dir = criterion_dir();
    let mut c = Criterion::default().output_directory(&dir).configure_from_args();
    let s = sizes(bench_mode);
    let ctx = Ctx {
        ran: RefCell::new(BTreeSet::new()),
        group: format!("report_{}", s.label),
        target_ns: s.target_ns,
    };
    if !listing {
        let f = fixture(&s, bench_mode);
        bench_all(&mut c, &ctx, &f, bench_mode);
    }
    c.final_summary();
    if bench_mode && !listing {
        summary(&ctx, &dir);
    }
}
