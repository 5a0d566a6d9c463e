//! The `quarantine` table: changes a server refused and records from elsewhere that came
//! damaged. A rejection must not lose a rep's work: the refused changes are kept here, visible
//! and exportable, and the document goes back to the server's version.

use rusqlite::{Connection, params};
use serde::Serialize;

use super::foreign::{Damage, guarded};
use super::outbox;
use super::record::Record;
use crate::doc::DocKind;
use crate::error::Result;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QuarantineEntry {
    pub id: i64,
    pub doc_id: String,
    pub kind: DocKind,
    pub hash: String,
    /// Machine code from the server (`forbidden`, `invalid_document`, …), `access_lost`, or
    /// why a record from the server was set aside (`Damage::code`: `unloadable`, `id_mismatch`,
    /// `wrong_kind`, …).
    pub code: String,
    pub reason: String,
    pub at: i64,
    /// The raw change, so that it can be exported and re-entered.
    #[serde(skip)]
    pub change: Vec<u8>,
    /// What the change meant, as far as this app can tell (the record as it would have been).
    pub summary: Option<serde_json::Value>,
}

/// One row: what came or was refused, and why.
struct Row<'a> {
    doc_id: &'a str,
    kind: DocKind,
    hash: &'a str,
    data: &'a [u8],
    code: &'a str,
    reason: &'a str,
    at: i64,
}

fn insert(conn: &Connection, r: &Row<'_>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO quarantine (doc_id, kind, hash, data, code, reason, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![r.doc_id, r.kind as i64, r.hash, r.data, r.code, r.reason, r.at])?;
    Ok(())
}

/// Moves every outbox row of `doc_id` into quarantine, with its change bytes (read from the
/// document, which must still be there).
pub(crate) fn move_outbox(
    tx: &Connection,
    doc_id: &str,
    code: &str,
    reason: &str,
    now: i64,
) -> Result<usize> {
    let entries = outbox::take_doc(tx, doc_id)?;
    for e in &entries {
        let (hash, data, kind) = (e.hash.as_str(), e.change.as_slice(), e.kind);
        insert(tx, &Row { doc_id, kind, hash, data, code, reason, at: now })?;
    }
    Ok(entries.len())
}

/// Keeps a damaged record from elsewhere (see `foreign::Damage`): one row per change, or one
/// for a snapshot or bytes that are not a change, so that support can look at exactly what
/// came. A row already kept for the same bytes is not added again (a pull that starts over
/// brings the same snapshot again).
pub(crate) fn set_aside(
    tx: &Connection,
    doc_id: &str,
    kind: DocKind,
    raw: &[&[u8]],
    damage: &Damage,
    now: i64,
) -> Result<usize> {
    let mut exists =
        tx.prepare_cached("SELECT 1 FROM quarantine WHERE doc_id = ?1 AND hash = ?2")?;
    let reason = damage.to_string();
    let mut n = 0;
    for data in raw {
        let hash = match guarded(|| automerge::Change::try_from(*data).map(|c| c.hash())) {
            Ok(Ok(h)) => h.to_string(),
            _ => format!("bytes:{:016x}", crate::fingerprint::fingerprint([*data])),
        };
        if exists.exists(params![doc_id, hash])? {
            continue;
        }
        let (hash, code) = (hash.as_str(), damage.code());
        insert(tx, &Row { doc_id, kind, hash, data, code, reason: &reason, at: now })?;
        n += 1;
    }
    Ok(n)
}

/// Every entry, oldest first, with what each change meant.
pub(crate) fn list(conn: &Connection) -> Result<Vec<QuarantineEntry>> {
    let mut stmt = conn.prepare(
        "SELECT id, doc_id, kind, hash, data, code, reason, at FROM quarantine ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let Some(kind) = DocKind::from_i64(r.get(2)?) else { continue };
        let (doc_id, change): (String, Vec<u8>) = (r.get(1)?, r.get(4)?);
        out.push(QuarantineEntry {
            summary: summarize(&doc_id, kind, &change),
            id: r.get(0)?,
            doc_id,
            kind,
            hash: r.get(3)?,
            code: r.get(5)?,
            reason: r.get(6)?,
            at: r.get(7)?,
            change,
        });
    }
    Ok(out)
}

pub(crate) fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM quarantine", [], |r| r.get(0))?)
}

/// The record a lone change describes, when it is self-contained (a creation); otherwise the
/// fields it sets, read from a document holding only that change.
fn summarize(doc_id: &str, kind: DocKind, change: &[u8]) -> Option<serde_json::Value> {
    // Rows set aside from a server hold bytes Automerge may choke on.
    guarded(|| summarize_change(doc_id, kind, change)).ok().flatten()
}

fn summarize_change(doc_id: &str, kind: DocKind, change: &[u8]) -> Option<serde_json::Value> {
    let ch = automerge::Change::from_bytes(change.to_vec()).ok()?;
    let mut d = automerge::AutoCommit::new();
    d.apply_changes([ch]).ok()?;
    if d.get_heads().is_empty() {
        return Some(
            serde_json::json!({ "note": "an edit of an earlier version; export the raw change to re-apply it" }),
        );
    }
    Record::read(&d, doc_id, kind).ok().and_then(|r| serde_json::to_value(r).ok())
}
