//! The `meta` table: the store's own settings (its user, this device's actor, the sync cursor
//! and credentials, the role, when it last synced), one text value per key.

use rusqlite::{Connection, OptionalExtension};

use crate::error::Result;

/// The user a store file belongs to.
pub(crate) const USER_ID: &str = "user_id";
/// Hex of this device's Automerge actor.
pub(crate) const ACTOR_ID: &str = "actor_id";
/// Set by a migration that adds a projection SQL alone cannot fill: the next open rebuilds
/// every projection from the documents.
pub(crate) const REPROJECT: &str = "reproject";
/// The pull cursor; written in the same transaction as what it covers.
pub const SYNC_CURSOR: &str = "sync.cursor";
/// The user's role as the sync server told it at enrollment (`rep`, `manager`, `admin`). A
/// store that never enrolled has none and is not restricted locally.
pub const META_ROLE: &str = "sync.role";
/// When a sync last finished (ms since the Unix epoch).
pub(crate) const LAST_SYNC: &str = "last_sync_at";

pub(crate) fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// Sets (`Some`) or removes (`None`) a value.
pub(crate) fn set(conn: &Connection, key: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(v) => conn
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute([key, v])?,
        None => conn.prepare_cached("DELETE FROM meta WHERE key = ?1")?.execute([key])?,
    };
    Ok(())
}

/// Removes a value so that its bytes are gone from the file: the freed bytes are overwritten
/// (`secure_delete`) and the write-ahead log, which still holds older copies of the page, is
/// checkpointed and truncated. Outside any transaction.
pub(crate) fn erase(conn: &Connection, key: &str) -> Result<()> {
    conn.pragma_update(None, "secure_delete", true)?;
    let erased = conn
        .execute("DELETE FROM meta WHERE key = ?1", [key])
        .and_then(|_| conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);"));
    conn.pragma_update(None, "secure_delete", false)?;
    Ok(erased.map(|_| ())?)
}

/// The store's user without opening it for writing: `None` for a file with no `meta` table
/// yet (never initialised).
pub(crate) fn peek_user(conn: &Connection) -> Result<Option<String>> {
    let has_meta: bool =
        conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'meta'", [], |r| r.get(0))?;
    if !has_meta {
        return Ok(None);
    }
    get(conn, USER_ID)
}
