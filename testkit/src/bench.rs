//! What the criterion benches share: where their files go and how their closing Markdown
//! summary reads criterion's results.

use std::path::{Path, PathBuf};

use fieldsales_core::LeadDraft;
use rusqlite::{Connection, params};

/// Cargo's target folder (`CARGO_TARGET_DIR`, else the workspace's `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("target"))
}

/// Where criterion writes its results (`CRITERION_HOME`, else `target/criterion`).
pub fn criterion_dir() -> PathBuf {
    std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("criterion"))
}

/// The median of one benchmark in the latest run, in ns, from criterion's estimates.
pub fn median_ns(dir: &Path, id: &str) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join(id).join("new").join("estimates.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

pub fn fmt_time(ns: f64) -> String {
    if ns >= 1e6 { format!("{:.2} ms", ns / 1e6) } else { format!("{:.1} µs", ns / 1e3) }
}

/// The variable that scales the store and report benches' shared fixture (e.g. `1000000`).
pub const LEADS_VAR: &str = "FIELDSALES_BENCH_LEADS";

/// Leads in a bench's shared fixture: `FIELDSALES_BENCH_LEADS` if set, else `default`.
pub fn fixture_leads(default: usize) -> usize {
    match std::env::var(LEADS_VAR) {
        Ok(v) => {
            v.replace('_', "").parse().unwrap_or_else(|_| panic!("{LEADS_VAR}={v}: not a count"))
        }
        Err(_) => default,
    }
}

/// A size as group names spell it: `100k`, `1m`, else the number.
pub fn size_label(n: usize) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}m", n / 1_000_000)
    } else if n >= 1_000 && n.is_multiple_of(1_000) {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

/// Prints the process's resident memory now and at its peak (`/proc/self/status`), with the
/// load average, as one `[memory]` line on stderr; a no-op where there is no `/proc`.
pub fn print_memory(when: &str) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return };
    let field = |name: &str| -> String {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| "?".into())
    };
    eprintln!(
        "[memory] {when}: VmRSS {}, VmHWM {} (load {})",
        field("VmRSS:"),
        field("VmHWM:"),
        load_average()
    );
}

/// The 1-, 5- and 15-minute load averages ("1.86 1.54 1.50"), which every bench figure is
/// reported with; "n/a" where there is no `/proc`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

// ---- the plain rusqlite baseline the benches and examples compare against -------------------

const BASELINE_TABLE: &str = "CREATE TABLE leads (
    id TEXT PRIMARY KEY, name TEXT, company TEXT, title TEXT, email TEXT, phone TEXT, event TEXT,
    channel TEXT, stage TEXT, potential TEXT, deal_amount INTEGER, deal_currency TEXT, owner TEXT,
    tags TEXT, notes TEXT, custom TEXT, next_follow_up INTEGER, created_at INTEGER, updated_at INTEGER)";
const BASELINE_INSERT: &str =
    "INSERT INTO leads (id, name, company, title, email, phone, event, channel, stage, potential,
    deal_amount, deal_currency, owner, tags, notes, custom, next_follow_up, created_at, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";

/// A plain SQLite file in WAL mode with one `leads` table and no index but its key.
pub fn baseline_db(path: &Path, synchronous: &str) -> Connection {
    let c = Connection::open(path).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.pragma_update(None, "synchronous", synchronous).unwrap();
    c.execute_batch(BASELINE_TABLE).unwrap();
    c
}

/// The same fields a lead has, as one plain row: no document, projection, index or outbox.
pub fn baseline_insert(c: &Connection, id: &str, d: &LeadDraft, now: i64) {
    let deal = d.deal_value.as_ref();
    let custom = d
        .custom_fields
        .iter()
        .map(|f| format!("{}={}", f.key, f.value))
        .collect::<Vec<_>>()
        .join(";");
    c.prepare_cached(BASELINE_INSERT)
        .unwrap()
        .execute(params![
            id,
            d.name,
            d.company,
            d.title,
            d.emails.first(),
            d.phones.first(),
            d.event,
            d.channel.map(|c| c.as_str()),
            d.stage.map(|s| s.as_str()),
            d.potential.map(|p| p.as_str()),
            deal.map(|m| m.amount_minor),
            deal.map(|m| m.currency.as_str()),
            d.owner,
            d.tags.join(","),
            d.notes,
            custom,
            d.next_follow_up,
            now,
            now,
        ])
        .unwrap();
}
