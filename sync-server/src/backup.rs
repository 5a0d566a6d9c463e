//! `admin --data DIR backup --to FILE`: an online, consistent copy of the embedded store while
//! the server runs. SQLite's `VACUUM INTO` reads one snapshot (a read transaction, which in WAL
//! mode never blocks the writer) and writes it compacted to a new file; the copy is written
//! beside the target and renamed, so a crash never leaves half a backup under its name.
//!
//! To restore: stop the server and put the file in place as `DIR/fieldsales-server.db` (with no
//! `-wal`/`-shm` files beside it). Devices whose cursors are past the backup's feed start over
//! from snapshots on their next sync (`bad_cursor`), and their unsent work is pushed again.
//! On PostgreSQL use its own tools (docs/architecture.md, "Operations").

use std::path::Path;

use crate::sqlite::SqliteBackend;

/// Writes a consistent copy of `b`'s store to `to`, which must not exist; its size in bytes.
pub fn backup(b: &SqliteBackend, to: &Path) -> anyhow::Result<u64> {
    if to.exists() {
        anyhow::bail!("{} exists already; choose a new file", to.display());
    }
    let name = to.file_name().and_then(|n| n.to_str()).unwrap_or("backup");
    let partial = to.with_file_name(format!(".{name}.partial"));
    let _ = std::fs::remove_file(&partial);
    let c = rusqlite::Connection::open_with_flags(
        b.path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    c.busy_timeout(std::time::Duration::from_secs(30))?;
    let target = partial
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("{}: not a UTF-8 path", partial.display()))?;
    c.execute("VACUUM INTO ?1", [target])?;
    drop(c);
    std::fs::rename(&partial, to)?;
    Ok(std::fs::metadata(to)?.len())
}
