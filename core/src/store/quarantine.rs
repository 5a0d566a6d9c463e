//! Changes a server refused. A rejection must not lose a rep's work: the refused changes are
//! kept here, visible and exportable, and the document goes back to the server's version.

use rusqlite::{Connection, params};
use serde::Serialize;

use super::foreign::{Damage, guarded};
use super::{Store, documents, outbox, projection};
use crate::Result;
use crate::doc::{self, DocKind};

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

/// Moves every outbox row of `doc_id` into quarantine, with its change bytes (read from the
/// document, which must still be there).
pub(crate) fn move_outbox(
    tx: &Connection,
    doc_id: &str,
    code: &str,
    reason: &str,
    now: i64,
) -> Result<usize> {
    let mut entries: Vec<outbox::OutboxEntry> = {
        let mut stmt = tx.prepare_cached(
            "SELECT seq, kind, hash, data FROM outbox WHERE doc_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([doc_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })?;
        let mut v = Vec::new();
        for r in rows {
            let (seq, kind, hash, change) = r?;
            if let Some(kind) = DocKind::from_i64(kind) {
                v.push(outbox::OutboxEntry { seq, doc_id: doc_id.to_string(), kind, hash, change });
            }
        }
        v
    };
    outbox::fill_changes(tx, &mut entries)?;
    let mut ins = tx.prepare_cached("INSERT INTO quarantine (doc_id, kind, hash, data, code, reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
    for e in &entries {
        ins.execute(params![doc_id, e.kind as i64, e.hash, e.change, code, reason, now])?;
    }
    tx.prepare_cached("DELETE FROM outbox WHERE doc_id = ?1")?.execute([doc_id])?;
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
    let mut ins = tx.prepare_cached("INSERT INTO quarantine (doc_id, kind, hash, data, code, reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
    let mut n = 0;
    for bytes in raw {
        let hash = match guarded(|| automerge::Change::try_from(*bytes).map(|c| c.hash())) {
            Ok(Ok(h)) => h.to_string(),
            _ => format!("bytes:{:016x}", crate::fingerprint::fingerprint([*bytes])),
        };
        if exists.exists(params![doc_id, hash])? {
            continue;
        }
        let reason = damage.to_string();
        ins.execute(params![doc_id, kind as i64, hash, bytes, damage.code(), reason, now])?;
        n += 1;
    }
    Ok(n)
}

impl Store {
    /// Handles a server's refusal of a document's changes in one transaction: all unsent changes
    /// of the document go to quarantine, and the document is reset to `server_version` (or
    /// removed, if the server has none the user may see).
    pub fn quarantine_rejected(
        &self,
        doc_id: &str,
        kind: DocKind,
        code: &str,
        reason: &str,
        server_version: Option<&[u8]>,
    ) -> Result<usize> {
        let now = self.now();
        let server_doc = server_version.map(|b| doc::load(doc_id, b)).transpose()?;
        self.write(|tx| {
            let n = move_outbox(tx, doc_id, code, reason, now)?;
            let local_kind = documents::kind(tx, doc_id)?.unwrap_or(kind);
            documents::delete(tx, doc_id)?;
            projection::delete(tx, doc_id, local_kind)?;
            if let Some(mut d) = server_doc {
                documents::insert(tx, doc_id, kind, &d.save())?;
                if doc::kind_of(&d).is_some() {
                    self.project(tx, doc_id, kind, &d, true)?;
                }
            }
            Ok(n)
        })
        .inspect(|_| self.notify(super::Changed::one(kind, doc_id)))
    }

    pub fn quarantine(&self) -> Result<Vec<QuarantineEntry>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, doc_id, kind, hash, data, code, reason, at FROM quarantine ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, doc_id, kind, hash, change, code, reason, at) = row?;
                let Some(kind) = DocKind::from_i64(kind) else { continue };
                out.push(QuarantineEntry {
                    summary: summarize(&doc_id, kind, &change),
                    id,
                    doc_id,
                    kind,
                    hash,
                    code,
                    reason,
                    at,
                    change,
                });
            }
            Ok(out)
        })
    }

    pub fn quarantine_len(&self) -> Result<i64> {
        self.read(|c| Ok(c.query_row("SELECT count(*) FROM quarantine", [], |r| r.get(0))?))
    }
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
    match kind {
        DocKind::Lead => {
            doc::lead::read(&d, doc_id).ok().and_then(|l| serde_json::to_value(l).ok())
        }
        DocKind::Activity => {
            doc::activity::read(&d, doc_id).ok().and_then(|a| serde_json::to_value(a).ok())
        }
        DocKind::Settings => {
            doc::sales::settings_read(&d, doc_id).ok().and_then(|s| serde_json::to_value(s).ok())
        }
        DocKind::Target => {
            doc::sales::target_read(&d, doc_id).ok().and_then(|t| serde_json::to_value(t).ok())
        }
        DocKind::CompPlan => {
            doc::sales::plan_read(&d, doc_id).ok().and_then(|p| serde_json::to_value(p).ok())
        }
    }
}
