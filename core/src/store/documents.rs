//! Document bytes in SQLite (`documents`, `doc_changes`) and the foreign changes that wait for
//! their dependencies (`pending_changes`): the one module that reads and writes them.
//!
//! A write stores Automerge's uncompressed save (`saved`); compaction packs each document
//! (`packed`), and `load` reads either form.

use automerge::{AutoCommit, Change};
use rusqlite::{Connection, OptionalExtension, params};

use super::foreign::guarded;
use super::packed;
use crate::doc::{self, DocKind};
use crate::error::{Error, Result};

pub(crate) fn exists(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn.prepare_cached("SELECT 1 FROM documents WHERE id = ?1")?.exists([id])?)
}

pub(crate) fn kind(conn: &Connection, id: &str) -> Result<Option<DocKind>> {
    let k: Option<i64> = conn
        .prepare_cached("SELECT kind FROM documents WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(k.and_then(DocKind::from_i64))
}

/// Loads a document, or `None` if this store has never seen it.
pub(crate) fn load(conn: &Connection, id: &str) -> Result<Option<(DocKind, AutoCommit, i64)>> {
    let row: Option<(i64, Vec<u8>, i64)> = conn
        .prepare_cached("SELECT kind, data, tail_count FROM documents WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((kind, data, tail)) = row else { return Ok(None) };
    let kind = DocKind::from_i64(kind)
        .ok_or_else(|| Error::corrupt(id, format!("unknown kind {kind}")))?;
    // A stored document that makes Automerge panic (bytes that slipped past every check) is a
    // damaged record, never a crashed app.
    let panicked = |p: String| Error::corrupt(id, format!("Automerge failed to load it: {p}"));
    let data = if packed::is_packed(&data) {
        packed::unpack(&data).map_err(|e| Error::corrupt(id, format!("does not unpack: {e}")))?
    } else {
        data
    };
    let mut d = guarded(|| doc::load(id, &data)).map_err(panicked)??;
    if tail > 0 {
        let mut stmt =
            conn.prepare_cached("SELECT data FROM doc_changes WHERE doc_id = ?1 ORDER BY seq")?;
        let mut rows = stmt.query([id])?;
        while let Some(r) = rows.next()? {
            let bytes: Vec<u8> = r.get(0)?;
            guarded(|| d.load_incremental(&bytes))
                .map_err(panicked)?
                .map_err(|e| Error::corrupt(id, e))?;
        }
    }
    Ok(Some((kind, d, tail)))
}

/// Loads a document that must exist and be of `want` kind.
pub(crate) fn load_kind(conn: &Connection, id: &str, want: DocKind) -> Result<(AutoCommit, i64)> {
    match load(conn, id)? {
        Some((k, d, tail)) if k == want => Ok((d, tail)),
        _ => Err(Error::NotFound { kind: want.as_str(), id: id.to_string() }),
    }
}

pub(crate) fn insert(conn: &Connection, id: &str, kind: DocKind, data: &[u8]) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO documents (id, kind, data, tail_count) VALUES (?1, ?2, ?3, 0)",
    )?
    .execute(params![id, kind as i64, data])?;
    Ok(())
}

/// The bytes a write stores: the whole document, saved uncompressed. In automerge 0.12 saving
/// a lead-sized document is several times cheaper than extracting its one new change
/// (`get_last_local_change` rebuilds it from the op set), so every write stores a snapshot.
/// Not `save()`: it deflates each column past 256 bytes and sets up DEFLATE's tables for each
/// one, a quarter of a bulk import's CPU in the profile, for a lead a few percent smaller;
/// compaction packs every document far smaller anyway (`packed`). The server saves the same way.
pub(crate) fn saved(doc: &mut AutoCommit) -> Vec<u8> {
    doc.save_nocompress()
}

/// Stores the whole document ([`saved`]). Change tails left by older versions of this app are
/// folded in on the way.
pub(crate) fn store(conn: &Connection, id: &str, doc: &mut AutoCommit, tail: i64) -> Result<()> {
    store_saved(conn, id, &saved(doc), tail)
}

/// `store` with the document already saved (a merge checks that its saved bytes load back).
pub(crate) fn store_saved(conn: &Connection, id: &str, saved: &[u8], tail: i64) -> Result<()> {
    conn.prepare_cached("UPDATE documents SET data = ?2, tail_count = 0 WHERE id = ?1")?
        .execute(params![id, saved])?;
    if tail > 0 {
        conn.prepare_cached("DELETE FROM doc_changes WHERE doc_id = ?1")?.execute([id])?;
    }
    Ok(())
}

/// Packs the documents among the `limit` after rowid `after` (`packed`): a typical lead's
/// 894-byte uncompressed save (or a store of version 12's 675-byte compressed change) becomes
/// ~420 bytes. A document that
/// does not load, or whose packed form does not load with the same heads, stays as it is for
/// `verify` to report. Returns the last rowid looked at, `None` past the end, and how many
/// were packed.
pub(crate) fn pack_page(conn: &Connection, after: i64, limit: u32) -> Result<(Option<i64>, usize)> {
    let rows: Vec<(i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT rowid, data FROM documents WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
        )?
        .query_map(params![after, limit], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut written = 0;
    for (rowid, data) in &rows {
        if packed::is_packed(data) {
            continue;
        }
        let Ok(Some(bytes)) = guarded(|| packed_form(data)) else { continue };
        if bytes.len() < data.len() {
            conn.prepare_cached("UPDATE documents SET data = ?2 WHERE rowid = ?1")?
                .execute(params![rowid, bytes])?;
            written += 1;
        }
    }
    Ok((rows.last().map(|(rowid, _)| *rowid), written))
}

/// A stored document packed: `doc::uncompressed_chunk` in a `packed` frame that loads back with
/// the same heads; `None` for anything else.
fn packed_form(stored: &[u8]) -> Option<Vec<u8>> {
    let mut d = AutoCommit::load(stored).ok()?;
    let bytes = packed::pack(&doc::uncompressed_chunk(&mut d)).ok()?;
    let back = AutoCommit::load(&packed::unpack(&bytes).ok()?).ok()?.get_heads();
    (back == d.get_heads()).then_some(bytes)
}

pub(crate) fn all_ids(conn: &Connection) -> Result<Vec<(String, DocKind)>> {
    let mut stmt = conn.prepare("SELECT id, kind FROM documents ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for r in rows {
        let (id, k) = r?;
        if let Some(k) = DocKind::from_i64(k) {
            out.push((id, k));
        }
    }
    Ok(out)
}

pub(crate) fn delete(conn: &Connection, id: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM documents WHERE id = ?1")?.execute([id])?;
    conn.prepare_cached("DELETE FROM doc_changes WHERE doc_id = ?1")?.execute([id])?;
    conn.prepare_cached("DELETE FROM pending_changes WHERE doc_id = ?1")?.execute([id])?;
    Ok(())
}

/// Ids of documents that still have appended change rows (written by the first version).
pub(crate) fn with_tail(conn: &Connection) -> Result<Vec<String>> {
    Ok(conn
        .prepare("SELECT id FROM documents WHERE tail_count > 0")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Keeps a foreign change whose dependencies have not arrived; a repeat is ignored.
pub(crate) fn add_pending(conn: &Connection, id: &str, kind: DocKind, ch: &Change) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO pending_changes (doc_id, hash, kind, data) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, ch.hash().to_string(), kind as i64, ch.raw_bytes()])?;
    Ok(())
}

/// Whether the document is stored as exactly `data`, nothing appended and nothing waiting:
/// then merging `data` into it changes nothing.
pub(crate) fn holds_exactly(conn: &Connection, id: &str, data: &[u8]) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM documents WHERE id = ?1 AND tail_count = 0 AND data = ?2)
             AND NOT EXISTS (SELECT 1 FROM pending_changes WHERE doc_id = ?1)",
        )?
        .query_row(rusqlite::params![id, data], |r| r.get(0))?)
}

pub(crate) fn has_pending(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM pending_changes WHERE doc_id = ?1)")?
        .query_row([id], |r| r.get(0))?)
}

/// Removes and returns the changes waiting for a document.
pub(crate) fn take_pending(conn: &Connection, id: &str) -> Result<Vec<Change>> {
    let rows: Vec<Vec<u8>> = conn
        .prepare_cached("SELECT data FROM pending_changes WHERE doc_id = ?1")?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    conn.prepare_cached("DELETE FROM pending_changes WHERE doc_id = ?1")?.execute([id])?;
    rows.into_iter().map(|b| Change::from_bytes(b).map_err(|e| Error::corrupt(id, e))).collect()
}

pub(crate) fn pending_count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM pending_changes", [], |r| r.get(0))?)
}
