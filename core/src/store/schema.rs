//! Opening connections and upgrading the schema with `PRAGMA user_version`.
//!
//! Each migration is one SQL script applied in one transaction; an app that finds a newer
//! version than it knows refuses to open the store rather than damage it.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::key::StoreKey;
use crate::error::{Error, Result, ValidationError};

/// One script per version; index 0 upgrades from version 0 (empty) to 1.
pub(crate) const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12, V13];

pub const VERSION: u32 = MIGRATIONS.len() as u32;

const V1: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One Automerge document per record: `data` is a saved document or change chunks that load as
-- one; `doc_changes` holds changes appended since, folded back into `data` by compaction.
CREATE TABLE documents (
    id         TEXT PRIMARY KEY,
    kind       INTEGER NOT NULL,
    data       BLOB NOT NULL,
    tail_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE doc_changes (
    seq    INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL,
    data   BLOB NOT NULL
);
CREATE INDEX doc_changes_by_doc ON doc_changes (doc_id, seq);

-- Foreign changes whose dependencies have not arrived yet; retried on every merge into the
-- same document, never dropped.
CREATE TABLE pending_changes (
    doc_id TEXT NOT NULL,
    hash   TEXT NOT NULL,
    kind   INTEGER NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (doc_id, hash)
) WITHOUT ROWID;

-- Local changes not yet acknowledged by a server.
CREATE TABLE outbox (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL,
    kind   INTEGER NOT NULL,
    hash   TEXT NOT NULL UNIQUE,
    data   BLOB NOT NULL
);

-- Projections: derived from the documents, rewritten in the same transaction as every change.
CREATE TABLE leads (
    rowid          INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    name           TEXT,
    display_name   TEXT NOT NULL,
    sort_name      TEXT NOT NULL,
    company        TEXT,
    title          TEXT,
    email          TEXT,
    phone          TEXT,
    event          TEXT,
    channel        TEXT NOT NULL,
    stage          TEXT NOT NULL,
    potential      TEXT,
    deal_amount    INTEGER,
    deal_currency  TEXT,
    value_sort     INTEGER NOT NULL,
    owner          TEXT NOT NULL,
    next_follow_up INTEGER,
    created_at     INTEGER NOT NULL,
    created_by     TEXT NOT NULL,
    updated_at     INTEGER NOT NULL,
    updated_by     TEXT NOT NULL,
    deleted        INTEGER NOT NULL,
    tags           TEXT NOT NULL,
    has_conflicts  INTEGER NOT NULL
);
CREATE INDEX leads_by_updated ON leads (deleted, updated_at, id);
CREATE INDEX leads_by_created ON leads (deleted, created_at, id);
CREATE INDEX leads_by_name    ON leads (deleted, sort_name, id);
CREATE INDEX leads_by_value   ON leads (deleted, value_sort, id);
CREATE INDEX leads_by_owner   ON leads (owner, deleted, updated_at, id);
CREATE INDEX leads_by_stage   ON leads (stage, deleted, updated_at, id);
CREATE INDEX leads_by_event   ON leads (event, deleted, updated_at, id) WHERE event IS NOT NULL;
CREATE INDEX leads_follow_up  ON leads (owner, next_follow_up) WHERE next_follow_up IS NOT NULL AND deleted = 0;

CREATE TABLE lead_tags (
    tag     TEXT NOT NULL,
    lead_id TEXT NOT NULL,
    PRIMARY KEY (tag, lead_id)
) WITHOUT ROWID;

CREATE TABLE stage_history (
    lead_id     TEXT NOT NULL,
    idx         INTEGER NOT NULL,
    stage       TEXT NOT NULL,
    at          INTEGER NOT NULL,
    by          TEXT NOT NULL,
    lost_reason TEXT,
    PRIMARY KEY (lead_id, idx)
) WITHOUT ROWID;

CREATE TABLE activities (
    rowid         INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    lead_id       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    subject       TEXT NOT NULL,
    occurred_at   INTEGER,
    due_at        INTEGER,
    done          INTEGER NOT NULL,
    duration_s    INTEGER,
    outcome       TEXT,
    lat           REAL,
    lon           REAL,
    accuracy_m    REAL,
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    updated_by    TEXT NOT NULL,
    deleted       INTEGER NOT NULL,
    has_conflicts INTEGER NOT NULL
);
CREATE INDEX activities_by_lead ON activities (lead_id, occurred_at);
CREATE INDEX activities_due ON activities (due_at) WHERE done = 0 AND deleted = 0 AND due_at IS NOT NULL;

-- Contentless: the text lives in the documents; the index only maps words to lead rowids.
-- unicode61 keeps Hangul syllables together as words, so a prefix query finds Korean names
-- ("김철" finds "김철수"); trigram would need three characters and misses two-syllable
-- prefixes. The prefix indexes make short prefix queries cheap. (v12 rebuilds it smaller.)
CREATE VIRTUAL TABLE leads_fts USING fts5 (
    name, company, email, phone, notes, tags,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);
"#;

/// Sync: changes a server refused, kept so that nothing a rep entered is lost.
const V2: &str = r#"
CREATE TABLE quarantine (
    id     INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL,
    kind   INTEGER NOT NULL,
    hash   TEXT NOT NULL,
    data   BLOB NOT NULL,
    code   TEXT NOT NULL,
    reason TEXT NOT NULL,
    at     INTEGER NOT NULL
);
CREATE INDEX quarantine_by_doc ON quarantine (doc_id);
"#;

/// Reports: when a lead closed and how far down the funnel it got, kept on the lead row so
/// that a team report over 100,000 leads reads one table. Existing rows are filled from the
/// stage history projection.
const V3: &str = r#"
ALTER TABLE leads ADD COLUMN closed_at INTEGER;
ALTER TABLE leads ADD COLUMN reached_rank INTEGER NOT NULL DEFAULT 0;
UPDATE leads SET
    reached_rank = max(
        CASE stage WHEN 'contacted' THEN 1 WHEN 'qualified' THEN 2 WHEN 'proposal' THEN 3 WHEN 'negotiation' THEN 4 WHEN 'won' THEN 5 ELSE 0 END,
        coalesce((SELECT max(CASE h.stage WHEN 'contacted' THEN 1 WHEN 'qualified' THEN 2 WHEN 'proposal' THEN 3
                                          WHEN 'negotiation' THEN 4 WHEN 'won' THEN 5 ELSE 0 END)
                  FROM stage_history h WHERE h.lead_id = leads.id), 0)),
    closed_at = CASE WHEN stage IN ('won', 'lost')
        THEN (SELECT h.at FROM stage_history h WHERE h.lead_id = leads.id AND h.stage = leads.stage ORDER BY h.idx DESC LIMIT 1) END;
CREATE INDEX leads_by_closed ON leads (closed_at) WHERE closed_at IS NOT NULL AND deleted = 0;
CREATE INDEX activities_by_time ON activities (occurred_at) WHERE deleted = 0 AND done = 1;
"#;

/// Duplicate detection: every normalised e-mail, phone and name-at-company of a lead. Rows for
/// leads stored before this version are rebuilt from the documents when the store opens
/// (`reproject` in meta), since SQL alone cannot read the documents.
const V4: &str = r#"
CREATE TABLE lead_keys (
    key     TEXT NOT NULL,
    lead_id TEXT NOT NULL,
    PRIMARY KEY (key, lead_id)
) WITHOUT ROWID;
CREATE INDEX lead_keys_by_lead ON lead_keys (lead_id);
INSERT INTO meta (key, value) VALUES ('reproject', '1') ON CONFLICT (key) DO UPDATE SET value = '1';
"#;

/// Rewriting a lead's projection deletes its tag rows by lead id: without this index that is a
/// scan of every tag row (18–22 ms at 100,000 leads, measured).
const V5: &str = r#"
CREATE INDEX lead_tags_by_lead ON lead_tags (lead_id);
"#;

/// Sales process settings, targets and compensation plans: projections of their documents, so
/// that reports and lead writes read SQL. A store from before has none of those documents, so
/// empty tables are right (settings then read as the defaults).
const V6: &str = r#"
CREATE TABLE stage_settings (
    stage          TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    probability_bp INTEGER NOT NULL,
    required       TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE targets (
    id           TEXT PRIMARY KEY,
    subject_kind TEXT NOT NULL,
    subject      TEXT NOT NULL,
    metric       TEXT NOT NULL,
    period_start INTEGER NOT NULL,
    period_end   INTEGER NOT NULL,
    value        INTEGER NOT NULL,
    currency     TEXT,
    deleted      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    updated_by   TEXT NOT NULL
);
CREATE INDEX targets_by_period ON targets (period_start, period_end) WHERE deleted = 0;
CREATE TABLE comp_plans (
    id            TEXT PRIMARY KEY,
    rep           TEXT NOT NULL,
    base_amount   INTEGER NOT NULL,
    base_currency TEXT NOT NULL,
    rate_bp       INTEGER NOT NULL,
    tiers         TEXT NOT NULL,
    deleted       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    updated_by    TEXT NOT NULL
);
CREATE INDEX comp_plans_by_rep ON comp_plans (rep, updated_at);
"#;

/// Reports: a lead's first contact and last activity, kept on the lead row next to `closed_at`
/// and `reached_rank` so that the team report over 100,000 leads and 500,000 activities reads the
/// lead rows once instead of looking up every lead's activities (measured in
/// docs/benchmarks.md). Both are derived from the `activities` projection, over the lead's done,
/// live activities, time = `coalesce(occurred_at, created_at)`:
/// - `last_activity_at`: the latest of any kind ("going cold");
/// - `first_contact_at`: the earliest call, meeting, visit or e-mail (lead response time).
///
/// Every write of an activity's projection refreshes them (`projection::refresh_lead_activity`).
/// Existing rows are filled here. `activities_by_time` (same rows: done and not deleted) gains
/// `created_by` and `kind`, so that the activity counts per rep and kind are read from the
/// index alone; the number of indexes on `activities` does not change. (Not a `(done, deleted,
/// …)` index: without `ANALYZE` the planner would prefer it to `activities_by_lead` for one
/// lead's activities, and scan them all.)
const V7: &str = r#"
ALTER TABLE leads ADD COLUMN last_activity_at INTEGER;
ALTER TABLE leads ADD COLUMN first_contact_at INTEGER;
UPDATE leads SET
    last_activity_at = (SELECT max(coalesce(a.occurred_at, a.created_at)) FROM activities a
                        WHERE a.lead_id = leads.id AND a.deleted = 0 AND a.done = 1),
    first_contact_at = (SELECT min(coalesce(a.occurred_at, a.created_at)) FROM activities a
                        WHERE a.lead_id = leads.id AND a.deleted = 0 AND a.done = 1 AND a.kind IN ('call', 'meeting', 'visit', 'email'));
DROP INDEX activities_by_time;
CREATE INDEX activities_by_time ON activities (occurred_at, created_by, kind) WHERE deleted = 0 AND done = 1;
"#;

/// v8: a fingerprint of what a lead's search row holds (`projection::search_key`). Most edits
/// (stage, potential, follow-up) leave the searchable text as it was; comparing fingerprints
/// spares them the search index's delete and insert, the largest part of writing a lead's
/// projection. NULL (rows from before) never matches, so those rows are rewritten once.
const V8: &str = r#"
ALTER TABLE leads ADD COLUMN search_key INTEGER;
"#;

/// v9: the list's "not synced" marks look up a page of leads (and their activities) in the
/// outbox by document id: without this index each page read the whole outbox (54 ms a page with
/// 100,000 changes waiting, measured: docs/benchmarks.md).
const V9: &str = r#"
CREATE INDEX IF NOT EXISTS outbox_by_doc ON outbox (doc_id);
"#;

/// Issue 14: a quarantined change keeps the record before and after it (`detail`, JSON), read
/// while the device still had the record, so that it can be shown field by field and applied
/// again. Projections are rebuilt: equal concurrent values are no conflict any more, a stage is
/// the last history entry among its values, and fields other implementations write as text or
/// in other number encodings are read.
const V10: &str = r#"
ALTER TABLE quarantine ADD COLUMN detail TEXT;
INSERT INTO meta (key, value) VALUES ('reproject', '1') ON CONFLICT (key) DO UPDATE SET value = '1';
"#;

/// Issue 16, bytes per lead: the rows hanging off a lead (`lead_tags`, `stage_history`,
/// `lead_keys`) name it by its integer `leads.rowid` (`lead`) instead of its 36-character id,
/// and the list indexes on `leads` end with the rowid every index entry holds anyway instead
/// of the id (lists break ties and page by rowid). The id was repeated in 12 secondary
/// structures: about 600 B per lead at 100,000 leads (docs/benchmarks.md, section 6). A lead
/// keeps its rowid for its life (an upsert keeps it; only `projection::lead::delete`, which
/// deletes its child rows too, frees it). Existing rows are converted here; rows of no lead
/// (there should be none) are dropped, as a reprojection would.
const V11: &str = r#"
CREATE TABLE lead_tags_v11 (
    tag  TEXT NOT NULL,
    lead INTEGER NOT NULL,
    PRIMARY KEY (tag, lead)
) WITHOUT ROWID;
CREATE TABLE stage_history_v11 (
    lead        INTEGER NOT NULL,
    idx         INTEGER NOT NULL,
    stage       TEXT NOT NULL,
    at          INTEGER NOT NULL,
    by          TEXT NOT NULL,
    lost_reason TEXT,
    PRIMARY KEY (lead, idx)
) WITHOUT ROWID;
CREATE TABLE lead_keys_v11 (
    key  TEXT NOT NULL,
    lead INTEGER NOT NULL,
    PRIMARY KEY (key, lead)
) WITHOUT ROWID;

INSERT INTO lead_tags_v11 (tag, lead) SELECT t.tag, l.rowid FROM lead_tags t JOIN leads l ON l.id = t.lead_id;
INSERT INTO stage_history_v11 (lead, idx, stage, at, by, lost_reason)
    SELECT l.rowid, h.idx, h.stage, h.at, h.by, h.lost_reason FROM stage_history h JOIN leads l ON l.id = h.lead_id;
INSERT INTO lead_keys_v11 (key, lead) SELECT k.key, l.rowid FROM lead_keys k JOIN leads l ON l.id = k.lead_id;

-- Dropping a table drops its indexes (lead_tags_by_lead, lead_keys_by_lead).
DROP TABLE lead_tags;
DROP TABLE stage_history;
DROP TABLE lead_keys;
ALTER TABLE lead_tags_v11 RENAME TO lead_tags;
ALTER TABLE stage_history_v11 RENAME TO stage_history;
ALTER TABLE lead_keys_v11 RENAME TO lead_keys;
CREATE INDEX lead_tags_by_lead ON lead_tags (lead);
CREATE INDEX lead_keys_by_lead ON lead_keys (lead);

DROP INDEX leads_by_updated;
DROP INDEX leads_by_created;
DROP INDEX leads_by_name;
DROP INDEX leads_by_value;
DROP INDEX leads_by_owner;
DROP INDEX leads_by_stage;
DROP INDEX leads_by_event;
CREATE INDEX leads_by_updated ON leads (deleted, updated_at);
CREATE INDEX leads_by_created ON leads (deleted, created_at);
CREATE INDEX leads_by_name    ON leads (deleted, sort_name);
CREATE INDEX leads_by_value   ON leads (deleted, value_sort);
CREATE INDEX leads_by_owner   ON leads (owner, deleted, updated_at);
CREATE INDEX leads_by_stage   ON leads (stage, deleted, updated_at);
CREATE INDEX leads_by_event   ON leads (event, deleted, updated_at) WHERE event IS NOT NULL;
"#;

/// Issue 16, search: the full-text index holds words cut and folded in Rust
/// (`crate::search_text`), with FTS5's `ascii` tokenizer, no positions or columns
/// (`detail=none`) and a one-letter prefix index. Measured on a million typical leads
/// (docs/benchmarks.md, "Issue 16: a smaller full-text index"): 427 → 133 B a lead, and "a"
/// 137 → ~11 ms, because a one-letter prefix no longer merges the doclists of every word it
/// starts. No query needs more: every typed word is one prefix term, no column filter is used,
/// and the search states its own order (`store::read::list::search`), since FTS5's bm25 needs
/// positions a contentless index without them cannot give (`detail=column` scores alike too).
///
/// The new rows are written from the old index's own words (`fts5vocab`, one row per word
/// instance), in SQL, not from the documents: 1.2 s instead of 19.5 s for 100,000 leads
/// (docs/benchmarks.md). `unicode61 remove_diacritics 2` cut and folded those words as
/// `search_text` does for Latin, Greek, Cyrillic and Hangul text (the same leads match every
/// query tried); an edit that changes a lead's searchable text writes its row again from the
/// lead itself.
const V12: &str = r#"
CREATE VIRTUAL TABLE temp.leads_fts_v11_words USING fts5vocab(main, 'leads_fts', 'instance');
CREATE VIRTUAL TABLE leads_fts_v12 USING fts5 (
    name, company, email, phone, notes, tags,
    content = '',
    contentless_delete = 1,
    tokenize = 'ascii',
    detail = none,
    prefix = '1 2 3'
);
INSERT INTO leads_fts_v12 (rowid, name, company, email, phone, notes, tags)
    SELECT doc,
        group_concat(term, ' ') FILTER (WHERE col = 'name'),
        group_concat(term, ' ') FILTER (WHERE col = 'company'),
        group_concat(term, ' ') FILTER (WHERE col = 'email'),
        group_concat(term, ' ') FILTER (WHERE col = 'phone'),
        group_concat(term, ' ') FILTER (WHERE col = 'notes'),
        group_concat(term, ' ') FILTER (WHERE col = 'tags')
    FROM temp.leads_fts_v11_words GROUP BY doc;
DROP TABLE temp.leads_fts_v11_words;
DROP TABLE leads_fts;
ALTER TABLE leads_fts_v12 RENAME TO leads_fts;
"#;

/// Issue 16, bytes per lead: `documents.data` may now hold a packed document (a zstd frame made
/// with the documents' dictionary, `store::packed`), which compaction writes. No table changes;
/// the version keeps out an app older than this one, which could not read such a document.
/// (`documents` as a `WITHOUT ROWID` table keyed by its id saved another 45 B a lead, the index
/// that repeats every id, but made a bulk import of 10,000 leads 1.5× slower: SQLite appends
/// to a rowid table's last page cheaply and splits an index tree's pages instead;
/// docs/benchmarks.md, "Issue 16: documents packed with a dictionary".)
const V13: &str = "SELECT 1;";

/// Opens one connection to the store file; the one place a connection is made. `key`: the file
/// is (or becomes) encrypted with SQLCipher under it; `None` opens a plain file. A file that
/// does not read with the key given (another key, none, or not a database) is
/// `Error::WrongKey`, before anything is written to it.
pub(crate) fn open_connection(
    path: &Path,
    read_only: bool,
    key: Option<&StoreKey>,
) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    };
    if !read_only {
        owner_only(path)?;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    if let Some(k) = key {
        apply_key(&conn, k)?;
    }
    // The first read tells a store from a file this key (or no key) does not open.
    let wrong_key = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => {
            Error::WrongKey { path: path.display().to_string() }
        }
        _ => Error::Storage(e),
    };
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))
        .map_err(wrong_key)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    // In WAL mode NORMAL never corrupts the file and survives an app crash (the commit is in the
    // WAL, in the OS cache); only a power cut can lose the last commits. Its cost against FULL is
    // in docs/benchmarks.md.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -8192)?;
    // Bundled SQLite has STAT4, which re-prepares a cached statement whenever a new bound
    // value might change its plan (nearly every step): seen at 8% of the sync server's CPU.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // After a checkpoint the WAL file is cut back to this size instead of keeping its peak.
    conn.pragma_update(None, "journal_size_limit", 4 * 1024 * 1024)?;
    Ok(conn)
}

#[cfg(feature = "encryption")]
fn apply_key(conn: &Connection, key: &StoreKey) -> Result<()> {
    // A wrong key is reported as `Error::WrongKey`; SQLCipher need not also log it to stderr.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    // Before anything reads the file. The raw-key form skips key derivation.
    conn.execute_batch(&format!("PRAGMA key = {};", key.sql_literal()))?;
    // A plain SQLite ignores `PRAGMA key` and would write the file in the clear: make sure the
    // library linked is SQLCipher (it answers `cipher_version`).
    use rusqlite::OptionalExtension;
    let version: Option<String> =
        conn.query_row("PRAGMA cipher_version", [], |r| r.get(0)).optional()?;
    if version.is_none() {
        return Err(unavailable());
    }
    Ok(())
}

#[cfg(not(feature = "encryption"))]
fn apply_key(_: &Connection, _: &StoreKey) -> Result<()> {
    Err(unavailable())
}

fn unavailable() -> Error {
    ValidationError::Invalid {
        field: "encryption key",
        reason: "this build has no encryption at rest (the core's `encryption` feature, SQLCipher)"
            .into(),
    }
    .into()
}

/// Makes the store file, and its `-wal` and `-shm` files, readable by their owner only: the
/// store holds the sync token and everything the rep captured. A new file is created 0600
/// here, before SQLite creates it with 0644 (less the umask); SQLite gives the `-wal` and
/// `-shm` files it creates later the mode of the database file. Existing files are tightened.
#[cfg(unix)]
fn owner_only(path: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        // A path SQLite reads otherwise (a URI) or a folder that does not exist: SQLite says.
        Err(_) => return Ok(()),
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let p = Path::new(&p);
        if let Ok(meta) = std::fs::metadata(p) {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode & 0o700))?;
            }
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_: &Path) -> Result<()> {
    Ok(())
}

/// Brings the schema up to `VERSION`, each step in its own transaction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > VERSION {
        return Err(Error::FutureSchema { found: current, supported: VERSION });
    }
    for (i, script) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(script)?;
        tx.pragma_update(None, "user_version", (i + 1) as u32)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_an_empty_file_and_refuses_a_future_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut c = open_connection(&path, false, None).unwrap();
        migrate(&mut c).unwrap();
        let v: u32 = c.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, VERSION);
        // Running again is a no-op.
        migrate(&mut c).unwrap();
        c.pragma_update(None, "user_version", VERSION + 1).unwrap();
        assert!(matches!(migrate(&mut c), Err(Error::FutureSchema { .. })));
    }

    #[test]
    fn the_report_columns_are_filled_in_for_leads_stored_before_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = open_connection(&dir.path().join("s.db"), false, None).unwrap();
        for (i, s) in MIGRATIONS.iter().take(2).enumerate() {
            c.execute_batch(s).unwrap();
            c.pragma_update(None, "user_version", (i + 1) as u32).unwrap();
        }
        let row = "INSERT INTO leads (id, display_name, sort_name, channel, stage, value_sort, owner, created_at, created_by, updated_at, updated_by, deleted, tags, has_conflicts)
                   VALUES (?1, 'x', 'x', 'manual', ?2, -1, 'rep', 0, 'rep', 0, 'rep', 0, '', 0)";
        c.execute(row, ["won-lead", "won"]).unwrap();
        c.execute(row, ["reopened", "contacted"]).unwrap();
        let hist = "INSERT INTO stage_history (lead_id, idx, stage, at, by) VALUES (?1, ?2, ?3, ?4, 'rep')";
        for (lead, idx, stage, at) in [
            ("won-lead", 0, "new", 10),
            ("won-lead", 1, "proposal", 20),
            ("won-lead", 2, "won", 30),
            ("reopened", 0, "new", 10),
            ("reopened", 1, "negotiation", 20),
            ("reopened", 2, "lost", 30),
            ("reopened", 3, "contacted", 40),
        ] {
            c.execute(hist, rusqlite::params![lead, idx, stage, at]).unwrap();
        }
        migrate(&mut c).unwrap();
        let get = |id: &str| -> (Option<i64>, i64) {
            c.query_row("SELECT closed_at, reached_rank FROM leads WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap()
        };
        assert_eq!(get("won-lead"), (Some(30), 5));
        assert_eq!(get("reopened"), (None, 4));
    }

    #[test]
    fn a_version_5_store_gains_empty_sales_tables_and_keeps_its_leads() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = open_connection(&dir.path().join("s.db"), false, None).unwrap();
        for (i, s) in MIGRATIONS.iter().take(5).enumerate() {
            c.execute_batch(s).unwrap();
            c.pragma_update(None, "user_version", (i + 1) as u32).unwrap();
        }
        c.execute(
            "INSERT INTO leads (id, display_name, sort_name, channel, stage, value_sort, owner, created_at, created_by, updated_at, updated_by, deleted, tags, has_conflicts)
             VALUES ('l', 'x', 'x', 'manual', 'proposal', -1, 'rep', 0, 'rep', 0, 'rep', 0, '', 0)",
            [],
        )
        .unwrap();
        migrate(&mut c).unwrap();
        let v: u32 = c.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, VERSION);
        for t in ["stage_settings", "targets", "comp_plans"] {
            let n: i64 =
                c.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0)).unwrap();
            assert_eq!(n, 0, "{t}");
        }
        let n: i64 = c.query_row("SELECT count(*) FROM leads", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
        // With no settings rows the workspace's process reads as the defaults.
        assert_eq!(
            crate::store::projection::sales::settings(&c).unwrap(),
            crate::model::SalesSettings::default()
        );
    }

    #[test]
    fn first_contact_and_last_activity_are_filled_in_for_leads_stored_before_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = open_connection(&dir.path().join("s.db"), false, None).unwrap();
        for (i, s) in MIGRATIONS.iter().take(6).enumerate() {
            c.execute_batch(s).unwrap();
            c.pragma_update(None, "user_version", (i + 1) as u32).unwrap();
        }
        let lead = "INSERT INTO leads (id, display_name, sort_name, channel, stage, value_sort, owner, created_at, created_by, updated_at, updated_by, deleted, tags, has_conflicts)
                    VALUES (?1, 'x', 'x', 'manual', 'new', -1, 'rep', 0, 'rep', 0, 'rep', 0, '', 0)";
        for id in ["busy", "quiet"] {
            c.execute(lead, [id]).unwrap();
        }
        let act = "INSERT INTO activities (id, lead_id, kind, subject, occurred_at, done, created_at, created_by, updated_at, updated_by, deleted, has_conflicts)
                   VALUES (?1, ?2, ?3, 's', ?4, ?5, 5, 'rep', 5, 'rep', ?6, 0)";
        // busy: a note at 20 (latest), a call at 10 (first contact), an e-mail with no time
        // (counts at its created_at, 5), an open task, a deleted visit at 1 and at 99.
        for (id, kind, at, done, deleted) in [
            ("a1", "call", Some(10), 1, 0),
            ("a2", "note", Some(20), 1, 0),
            ("a3", "email", None, 1, 0),
            ("a4", "task", Some(50), 0, 0),
            ("a5", "visit", Some(1), 1, 1),
            ("a6", "visit", Some(99), 1, 1),
        ] {
            c.execute(act, rusqlite::params![id, "busy", kind, at, done, deleted]).unwrap();
        }
        c.execute(act, rusqlite::params!["q1", "quiet", "note", 7, 1, 0]).unwrap();
        migrate(&mut c).unwrap();
        let get = |id: &str| -> (Option<i64>, Option<i64>) {
            c.query_row(
                "SELECT last_activity_at, first_contact_at FROM leads WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
        };
        assert_eq!(get("busy"), (Some(20), Some(5)));
        assert_eq!(get("quiet"), (Some(7), None));
        let columns: Vec<String> = c
            .prepare("PRAGMA index_info(activities_by_time)")
            .unwrap()
            .query_map([], |r| r.get(2))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(columns, ["occurred_at", "created_by", "kind"]);
        let plan = |sql: &str| -> String {
            c.query_row(&format!("EXPLAIN QUERY PLAN {sql}"), [], |r| r.get(3)).unwrap()
        };
        let counts = "SELECT created_by, kind, count(*) FROM activities WHERE done = 1 AND deleted = 0 AND occurred_at >= 0 AND occurred_at < 100 GROUP BY created_by, kind";
        assert!(plan(counts).contains("COVERING INDEX activities_by_time"), "{}", plan(counts));
        // Refreshing one lead's columns looks up that lead's activities only.
        let one = "SELECT max(coalesce(a.occurred_at, a.created_at)) FROM activities a WHERE a.lead_id = 'busy' AND a.deleted = 0 AND a.done = 1";
        assert!(plan(one).contains("activities_by_lead (lead_id=?)"), "{}", plan(one));
    }

    /// Turns a store written at v11 back into the v10 layout: child rows keyed by the lead's
    /// text id, list indexes ending in the id.
    /// The v11 search index (unicode61, with positions) holding the words the current one
    /// holds, all in one column (no query filters by column), as the stores v11 left.
    const SEARCH_INDEX_BACK_TO_V11: &str = r#"
CREATE VIRTUAL TABLE temp.v12_words USING fts5vocab(main, 'leads_fts', 'instance');
CREATE VIRTUAL TABLE leads_fts_v11 USING fts5 (name, company, email, phone, notes, tags,
    content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
INSERT INTO leads_fts_v11 (rowid, notes) SELECT doc, group_concat(term, ' ') FROM temp.v12_words GROUP BY doc;
DROP TABLE temp.v12_words;
DROP TABLE leads_fts;
ALTER TABLE leads_fts_v11 RENAME TO leads_fts;
"#;

    const BACK_TO_V10: &str = r#"
CREATE TABLE t10 (tag TEXT NOT NULL, lead_id TEXT NOT NULL, PRIMARY KEY (tag, lead_id)) WITHOUT ROWID;
INSERT INTO t10 SELECT t.tag, l.id FROM lead_tags t JOIN leads l ON l.rowid = t.lead;
DROP TABLE lead_tags; ALTER TABLE t10 RENAME TO lead_tags;
CREATE INDEX lead_tags_by_lead ON lead_tags (lead_id);
CREATE TABLE h10 (lead_id TEXT NOT NULL, idx INTEGER NOT NULL, stage TEXT NOT NULL, at INTEGER NOT NULL,
    by TEXT NOT NULL, lost_reason TEXT, PRIMARY KEY (lead_id, idx)) WITHOUT ROWID;
INSERT INTO h10 SELECT l.id, h.idx, h.stage, h.at, h.by, h.lost_reason FROM stage_history h JOIN leads l ON l.rowid = h.lead;
DROP TABLE stage_history; ALTER TABLE h10 RENAME TO stage_history;
CREATE TABLE k10 (key TEXT NOT NULL, lead_id TEXT NOT NULL, PRIMARY KEY (key, lead_id)) WITHOUT ROWID;
INSERT INTO k10 SELECT k.key, l.id FROM lead_keys k JOIN leads l ON l.rowid = k.lead;
DROP TABLE lead_keys; ALTER TABLE k10 RENAME TO lead_keys;
CREATE INDEX lead_keys_by_lead ON lead_keys (lead_id);
DROP INDEX leads_by_updated; CREATE INDEX leads_by_updated ON leads (deleted, updated_at, id);
DROP INDEX leads_by_created; CREATE INDEX leads_by_created ON leads (deleted, created_at, id);
DROP INDEX leads_by_name; CREATE INDEX leads_by_name ON leads (deleted, sort_name, id);
DROP INDEX leads_by_value; CREATE INDEX leads_by_value ON leads (deleted, value_sort, id);
DROP INDEX leads_by_owner; CREATE INDEX leads_by_owner ON leads (owner, deleted, updated_at, id);
DROP INDEX leads_by_stage; CREATE INDEX leads_by_stage ON leads (stage, deleted, updated_at, id);
DROP INDEX leads_by_event; CREATE INDEX leads_by_event ON leads (event, deleted, updated_at, id) WHERE event IS NOT NULL;
PRAGMA user_version = 10;
"#;

    /// Everything a store reads from the rows v11 converts: every page of every list order,
    /// tag and event facets, a tag filter, duplicates, search, the export's selection.
    fn reads(s: &crate::store::Store) -> Vec<String> {
        use crate::model::{LeadQuery, LeadSort};
        let mut out = Vec::new();
        for sort in [LeadSort::Updated, LeadSort::Created, LeadSort::Name, LeadSort::Value] {
            for tag in [None, Some("vip".to_string())] {
                let mut q = LeadQuery { sort, tag: tag.clone(), limit: 2, ..Default::default() };
                loop {
                    let page = s.list_leads(&q).unwrap();
                    out.push(format!("{sort:?} {tag:?} {:?}", page.items));
                    match page.next {
                        Some(next) => q.after = Some(next),
                        None => break,
                    }
                }
            }
        }
        out.push(format!("{:?}", s.lead_facets(10).unwrap()));
        out.push(format!("{:?}", s.duplicates().unwrap()));
        out.push(format!("{:?}", s.search_leads("acme", 50).unwrap()));
        let f = crate::export::ExportFilter { tag: Some("vip".into()), ..Default::default() };
        out.push(format!("{:?}", s.export_leads_where(&f).unwrap()));
        out
    }

    #[test]
    fn a_version_10_store_keys_its_lead_rows_by_rowid_and_reads_the_same() {
        use crate::model::{LeadDraft, LeadPatch, Money, Stage};
        use crate::store::{OpenOptions, Store};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let open = || {
            // A clock that stands still: every lead has the same times, so ties decide order.
            Store::open(&path, OpenOptions::new("rep").clock(std::sync::Arc::new(|| 1_000)))
                .unwrap()
        };
        let s = open();
        for (i, name) in ["Kim", "Lee", "Park", "Choi", "Jung"].iter().enumerate() {
            let l = s
                .create_lead(LeadDraft {
                    name: Some(name.to_string()),
                    company: Some("Acme".into()),
                    emails: vec![format!("{name}@acme.com"), "shared@acme.com".into()],
                    tags: if i % 2 == 0 { vec!["vip".into(), "expo".into()] } else { vec![] },
                    event: Some("Expo".into()),
                    deal_value: Some(Money {
                        amount_minor: 100 * (i as i64 % 2),
                        currency: "EUR".into(),
                    }),
                    ..Default::default()
                })
                .unwrap();
            let patch = LeadPatch { stage: Some(Stage::Qualified), ..Default::default() };
            s.update_lead(&l.id, patch).unwrap();
        }
        let before = reads(&s);
        let rows = |c: &Connection| -> Vec<i64> {
            ["lead_tags", "stage_history", "lead_keys"]
                .map(|t| {
                    c.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0)).unwrap()
                })
                .to_vec()
        };
        drop(s);
        let c = open_connection(&path, false, None).unwrap();
        let counts = rows(&c);
        assert!(counts.iter().all(|n| *n > 0), "{counts:?}");
        c.execute_batch(SEARCH_INDEX_BACK_TO_V11).unwrap();
        c.execute_batch(BACK_TO_V10).unwrap();
        assert_eq!(rows(&c), counts, "the v10 layout holds the same rows");
        drop(c);

        let s = open();
        assert_eq!(reads(&s), before);
        assert!(s.verify().unwrap().is_ok());
        // Converted by SQL, not rebuilt from the documents.
        assert_eq!(s.meta("reproject").unwrap(), None);
        drop(s);
        let c = open_connection(&path, false, None).unwrap();
        assert_eq!(rows(&c), counts);
        let columns = |index: &str| -> Vec<String> {
            c.prepare(&format!("PRAGMA index_info({index})"))
                .unwrap()
                .query_map([], |r| r.get(2))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        assert_eq!(columns("leads_by_owner"), ["owner", "deleted", "updated_at"]);
        assert_eq!(columns("lead_tags_by_lead"), ["lead"]);
    }

    #[test]
    fn a_version_11_search_index_is_rewritten_from_its_own_words_and_finds_the_same() {
        use crate::model::{LeadDraft, LeadPatch};
        use crate::store::{OpenOptions, Store};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let open = || Store::open(&path, OpenOptions::new("rep").region("KR")).unwrap();
        let s = open();
        // (name, company, e-mail, phone, notes); the last one gets a new company below.
        let drafts = [
            ("Kim Müller", "Acme", "kim@acme.com", "010-9876-5432", "Wants a demo"),
            ("김철수", "삼성전자", "cs.kim@samsung.co.kr", "010-2345-6789", "견적서 요청"),
            ("Ana Ñúñez", "Globex", "ana@globex.com", "010-3456-7890", "asked about pricing"),
            ("Lee Park", "Acme", "lee@park.kr", "010-4567-8901", "Booth visit"),
        ];
        let mut ids = Vec::new();
        for (name, company, mail, phone, notes) in drafts {
            let l = s
                .create_lead(LeadDraft {
                    name: Some(name.into()),
                    company: Some(company.into()),
                    emails: vec![mail.into()],
                    phones: vec![phone.into()],
                    notes: Some(notes.into()),
                    tags: vec!["trade show".into()],
                    ..Default::default()
                })
                .unwrap();
            ids.push(l.id);
        }
        let patch = LeadPatch { company: Some("Initech".into()), ..Default::default() };
        s.update_lead(&ids[3], patch).unwrap();
        let queries = [
            "a",
            "muller",
            "MÜLL",
            "김철",
            "삼성",
            "0109876",
            "82102345",
            "nunez",
            "견적",
            "trade sh",
            "globex com",
            "acme",
            "initech",
            "zz",
        ];
        let search = |s: &Store| -> Vec<Vec<String>> {
            queries
                .iter()
                .map(|q| s.search_leads(q, 50).unwrap().into_iter().map(|l| l.id).collect())
                .collect()
        };
        let before = search(&s);
        assert_eq!(before[11], vec![ids[0].clone()], "acme: Lee Park's company is Initech now");
        assert_eq!(before[12], vec![ids[3].clone()]);
        assert!(before[..11].iter().all(|ids| !ids.is_empty()), "{before:?}");
        assert!(before[13].is_empty());
        let rowids: Vec<i64> = ids
            .iter()
            .map(|id| {
                s.reader()
                    .query_row("SELECT rowid FROM leads WHERE id = ?1", [id], |r| r.get(0))
                    .unwrap()
            })
            .collect();
        drop(s);

        // The v11 index, written as v11's projection wrote it: unicode61 with positions, the
        // phones in both spellings, and Lee Park's row deleted and written again by the edit
        // (a tombstone the rewrite must honour).
        let c = open_connection(&path, false, None).unwrap();
        c.execute_batch(
            "DROP TABLE leads_fts;
             CREATE VIRTUAL TABLE leads_fts USING fts5 (name, company, email, phone, notes, tags,
                 content = '', contentless_delete = 1,
                 tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
             PRAGMA user_version = 11;",
        )
        .unwrap();
        let insert =
            |rowid: i64, (name, company, mail, phone, notes): (&str, &str, &str, &str, &str)| {
                let national = phone.replace('-', "");
                let e164 = format!("82{}", &national[1..]);
                c.execute(
                "INSERT INTO leads_fts (rowid, name, company, email, phone, notes, tags) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'trade show')",
                rusqlite::params![rowid, name, company, mail, format!("{e164} {national}"), notes],
            )
            .unwrap();
            };
        for (rowid, d) in rowids.iter().zip(drafts) {
            insert(*rowid, d);
        }
        c.execute("DELETE FROM leads_fts WHERE rowid = ?1", [rowids[3]]).unwrap();
        let (name, _, mail, phone, notes) = drafts[3];
        insert(rowids[3], (name, "Initech", mail, phone, notes));
        drop(c);

        let s = open();
        assert_eq!(search(&s), before, "the same leads for every query after the upgrade");
        assert_eq!(s.meta("reproject").unwrap(), None, "rewritten in SQL, not reprojected");
        assert!(s.verify().unwrap().is_ok());
        drop(s);
        let c = open_connection(&path, false, None).unwrap();
        let sql: String = c
            .query_row("SELECT sql FROM sqlite_master WHERE name = 'leads_fts'", [], |r| r.get(0))
            .unwrap();
        assert!(sql.contains("detail = none") && sql.contains("'1 2 3'"), "{sql}");
        let leftovers: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name LIKE 'leads_fts_v1%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn every_prefix_of_the_migrations_upgrades_to_the_latest() {
        // Simulates stores left by every older app version: apply the first k scripts by hand,
        // then let `migrate` finish.
        for k in 0..=MIGRATIONS.len() {
            let dir = tempfile::tempdir().unwrap();
            let mut c = open_connection(&dir.path().join("s.db"), false, None).unwrap();
            for (i, s) in MIGRATIONS.iter().take(k).enumerate() {
                c.execute_batch(s).unwrap();
                c.pragma_update(None, "user_version", (i + 1) as u32).unwrap();
            }
            migrate(&mut c).unwrap();
            let n: i64 = c
                .query_row("SELECT count(*) FROM sqlite_master WHERE name IN ('leads_fts', 'quarantine', 'stage_settings', 'targets', 'comp_plans')", [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 5);
        }
    }

    #[test]
    fn a_version_12_store_reads_its_compressed_changes_and_packs_them_at_compaction() {
        use crate::model::{LeadDraft, LeadPatch};
        use crate::store::{OpenOptions, Store};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let open = || Store::open(&path, OpenOptions::new("rep").region("KR")).unwrap();
        let s = open();
        let draft = |name: &str| LeadDraft {
            name: Some(name.into()),
            company: Some("Acme".into()),
            emails: vec![format!("{name}@acme.com")],
            ..Default::default()
        };
        let once = s.create_lead(draft("kim")).unwrap().id;
        let twice = s.create_lead(draft("lee")).unwrap().id;
        s.update_lead(&twice, LeadPatch { title: Some("CTO".into()), ..Default::default() })
            .unwrap();
        let before = (reads(&s), [&once, &twice].map(|id| s.document_heads(id).unwrap()));
        drop(s);
        // What version 12's compaction left: a lead of one change as Automerge's compressed
        // change chunk, one of several as `save()`.
        let c = open_connection(&path, false, None).unwrap();
        let saved: Vec<u8> =
            c.query_row("SELECT data FROM documents WHERE id = ?1", [&once], |r| r.get(0)).unwrap();
        let mut d = automerge::AutoCommit::load(&saved).unwrap();
        let chunk = d.get_changes(&[])[0].clone().bytes().to_vec();
        assert_eq!(chunk[8], 2, "a compressed change chunk");
        c.execute("UPDATE documents SET data = ?2 WHERE id = ?1", rusqlite::params![once, chunk])
            .unwrap();
        c.pragma_update(None, "user_version", 12).unwrap();
        drop(c);

        let s = open();
        let after = || (reads(&s), [&once, &twice].map(|id| s.document_heads(id).unwrap()));
        assert_eq!(after(), before);
        assert!(s.verify().unwrap().is_ok());
        s.compact().unwrap();
        assert_eq!(after(), before);
        assert!(s.verify().unwrap().is_ok());
        let c = open_connection(&path, false, None).unwrap();
        let v: u32 = c.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, VERSION);
        let packed: i64 = c
            .query_row(
                "SELECT count(*) FROM documents WHERE hex(substr(data, 1, 4)) = '28B52FFD'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(packed, 2, "both leads packed by the compaction after the upgrade");
    }
}
