//! Local changes waiting to be sent. A row is written in the same transaction as the change it
//! carries and deleted only when a server acknowledges its hash.

use std::collections::HashMap;

use automerge::{AutoCommit, ChangeHash};
use rusqlite::{Connection, params};

use crate::doc::DocKind;
use crate::error::{Error, Result};

/// One local change as sync sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    pub seq: i64,
    pub doc_id: String,
    pub kind: DocKind,
    /// Hex of the Automerge change hash: unique, so a retried push is recognisable.
    pub hash: String,
    /// The raw change bytes.
    pub change: Vec<u8>,
}

/// Records a local change by its hash. The bytes are not copied here: they are read from the
/// document when sync asks for them, which keeps a capture cheap.
pub(crate) fn push(
    conn: &Connection,
    doc_id: &str,
    kind: DocKind,
    hash: &ChangeHash,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO outbox (doc_id, kind, hash, data) VALUES (?1, ?2, ?3, X'')",
    )?
    .execute(params![doc_id, kind as i64, hash.to_string()])?;
    Ok(())
}

/// Forgets every row that holds only a hash (a change still in its document), before
/// `Store::requeue_own_changes` writes them all again in causal order. Rows holding their bytes
/// (changes sent again from quarantine) stay.
pub(crate) fn clear_hash_only(conn: &Connection) -> Result<usize> {
    Ok(conn.prepare_cached("DELETE FROM outbox WHERE length(data) = 0")?.execute([])?)
}

/// Records a change with its bytes: one that is not in the local document any more (a refused
/// change sent again from quarantine).
pub(crate) fn push_bytes(
    conn: &Connection,
    doc_id: &str,
    kind: DocKind,
    hash: &str,
    data: &[u8],
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO outbox (doc_id, kind, hash, data) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![doc_id, kind as i64, hash, data])?;
    Ok(())
}

/// Outbox rows after `after_seq`, with their change bytes (read from the documents for rows
/// that hold only a hash).
pub(crate) fn list(conn: &Connection, after_seq: i64, limit: u32) -> Result<Vec<OutboxEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, doc_id, kind, hash, data FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    entries(conn, stmt.query(params![after_seq, limit])?)
}

/// Removes every row of one document and returns them with their change bytes (read from the
/// document, which must still be there).
pub(crate) fn take_doc(conn: &Connection, doc_id: &str) -> Result<Vec<OutboxEntry>> {
    let taken = {
        let mut stmt = conn.prepare_cached(
            "SELECT seq, doc_id, kind, hash, data FROM outbox WHERE doc_id = ?1 ORDER BY seq",
        )?;
        entries(conn, stmt.query([doc_id])?)?
    };
    conn.prepare_cached("DELETE FROM outbox WHERE doc_id = ?1")?.execute([doc_id])?;
    Ok(taken)
}

/// Reads `(seq, doc_id, kind, hash, data)` rows, filling in the bytes of hash-only ones.
fn entries(conn: &Connection, mut rows: rusqlite::Rows<'_>) -> Result<Vec<OutboxEntry>> {
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        if let Some(kind) = DocKind::from_i64(r.get(2)?) {
            out.push(OutboxEntry {
                seq: r.get(0)?,
                doc_id: r.get(1)?,
                kind,
                hash: r.get(3)?,
                change: r.get(4)?,
            });
        }
    }
    fill_changes(conn, &mut out)?;
    Ok(out)
}

/// Reads the bytes of hash-only entries from their documents, one load per document.
fn fill_changes(conn: &Connection, entries: &mut [OutboxEntry]) -> Result<()> {
    // One document held at a time: a document's rows are mostly next to each other, and
    // holding every document of a long outbox at once grew a 1,000,000-lead bench past 21 GB.
    let mut current: Option<(String, Option<AutoCommit>)> = None;
    for e in entries.iter_mut().filter(|e| e.change.is_empty()) {
        if current.as_ref().is_none_or(|(id, _)| *id != e.doc_id) {
            let doc = super::documents::load(conn, &e.doc_id)?.map(|(_, d, _)| d);
            current = Some((e.doc_id.clone(), doc));
        }
        let doc = current.as_mut().and_then(|(_, d)| d.as_mut());
        let hash: ChangeHash = e.hash.parse().map_err(|_| {
            Error::corrupt(&e.doc_id, format!("outbox hash {} is not a change hash", e.hash))
        })?;
        let change = doc.and_then(|d| d.get_change_by_hash(&hash)).ok_or_else(|| {
            Error::corrupt(
                &e.doc_id,
                format!("outbox change {} is missing from its document", e.hash),
            )
        })?;
        e.change = change.raw_bytes().to_vec();
    }
    Ok(())
}

/// `(seq, doc_id, hash)` of every row, without reading any document (for `verify`, which must
/// report a damaged document rather than fail on it).
pub(crate) fn hashes(conn: &Connection) -> Result<Vec<(i64, String, String)>> {
    let mut stmt = conn.prepare_cached("SELECT seq, doc_id, hash FROM outbox ORDER BY seq")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Drops the rows the server acknowledged. Returns how many, and the records that have nothing
/// waiting any more (their "not synced" mark goes), each once.
pub(crate) fn ack(conn: &Connection, hashes: &[String]) -> Result<(usize, Vec<(String, DocKind)>)> {
    let mut stmt =
        conn.prepare_cached("DELETE FROM outbox WHERE hash = ?1 RETURNING doc_id, kind")?;
    let mut n = 0;
    let mut docs: HashMap<String, DocKind> = HashMap::new();
    for h in hashes {
        let rows = stmt.query_map([h], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (doc_id, kind) = row?;
            n += 1;
            if let Some(kind) = DocKind::from_i64(kind) {
                docs.insert(doc_id, kind);
            }
        }
    }
    let mut waiting = conn.prepare_cached("SELECT 1 FROM outbox WHERE doc_id = ?1 LIMIT 1")?;
    let mut done = Vec::with_capacity(docs.len());
    for (doc_id, kind) in docs {
        if !waiting.exists([&doc_id])? {
            done.push((doc_id, kind));
        }
    }
    done.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((n, done))
}

pub(crate) fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?)
}

/// Which of `lead_ids` have local changes waiting: in the lead's own document or in one of its
/// activities.
pub(crate) fn leads_waiting(conn: &Connection, lead_ids: &[String]) -> Result<Vec<String>> {
    if lead_ids.is_empty() {
        return Ok(Vec::new());
    }
    // Index probes per lead (outbox_by_doc, activities_by_lead): the cost follows the page,
    // not the outbox.
    let marks = vec!["?"; lead_ids.len()].join(",");
    let mut stmt = conn.prepare(&format!(
        "SELECT l.id FROM leads l WHERE l.id IN ({marks}) AND (
             EXISTS (SELECT 1 FROM outbox o WHERE o.doc_id = l.id)
             OR EXISTS (SELECT 1 FROM activities a JOIN outbox o ON o.doc_id = a.id
                        WHERE a.lead_id = l.id))"
    ))?;
    let rows = stmt.query_map(rusqlite::params_from_iter(lead_ids), |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
