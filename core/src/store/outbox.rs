//! Local changes waiting to be sent. A row is written in the same transaction as the change it
//! carries and deleted only when a server acknowledges its hash.

use automerge::Change;
use rusqlite::{Connection, params};

use crate::Result;
use crate::doc::DocKind;

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

pub(crate) fn push(conn: &Connection, doc_id: &str, kind: DocKind, change: &Change) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO outbox (doc_id, kind, hash, data) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![doc_id, kind as i64, change.hash().to_string(), change.raw_bytes()])?;
    Ok(())
}

pub(crate) fn list(conn: &Connection, after_seq: i64, limit: u32) -> Result<Vec<OutboxEntry>> {
    let mut stmt = conn.prepare_cached("SELECT seq, doc_id, kind, hash, data FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    let rows = stmt.query_map(params![after_seq, limit], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, String>(3)?, r.get::<_, Vec<u8>>(4)?))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (seq, doc_id, kind, hash, change) = r?;
        if let Some(kind) = DocKind::from_i64(kind) {
            out.push(OutboxEntry { seq, doc_id, kind, hash, change });
        }
    }
    Ok(out)
}

pub(crate) fn ack(conn: &Connection, hashes: &[String]) -> Result<usize> {
    let mut stmt = conn.prepare_cached("DELETE FROM outbox WHERE hash = ?1")?;
    let mut n = 0;
    for h in hashes {
        n += stmt.execute([h])?;
    }
    Ok(n)
}

pub(crate) fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?)
}
