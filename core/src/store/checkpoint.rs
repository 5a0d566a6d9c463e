//! Checkpoints after the commit that needs them, not inside it.
//!
//! Why: in WAL mode SQLite copies the log back into the database at a checkpoint, and its
//! automatic one runs inside the commit that passes 1,000 pages: about one capture in twenty
//! returned only after copying 4 MB back (p99 of a capture ≈ 5 ms against a median of 0.3 ms;
//! docs/benchmarks.md, "Issue 16: bootstrap with both changes merged"). Here that commit only
//! wakes a thread of the store's own, which then takes the writer's lock and checkpoints on
//! the writer's connection. The rep's capture returns at once; a write that comes while the
//! checkpoint runs waits for it, as it would have waited inside the commit. Holding the
//! writer's lock matters: a checkpoint racing a writer that never pauses never copies the
//! last frame, and SQLite starts the log over only after a complete one (tried first: the log
//! grew without bound). Should the thread not start, the writer checkpoints inside the commit
//! past `HARD_PAGES`, as SQLite would have. Durability is unchanged: a commit is durable once
//! it is in the log, whoever copies it back later.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;

use rusqlite::Connection;

use crate::error::Result;

/// Log pages after a commit from which the thread is woken (SQLite's own automatic checkpoint
/// threshold: 4 MB of 4 KB pages).
const SOFT_PAGES: i32 = 1_000;
/// Log pages from which the writer checkpoints inside the commit: 32 MB of 4 KB pages.
const HARD_PAGES: i32 = 8_000;

enum Ask {
    Checkpoint,
    Stop,
}

/// The thread and the way to wake it, once a commit has needed it.
type Thread = Option<(SyncSender<Ask>, JoinHandle<()>)>;

/// The store's checkpoint thread, started by the first commit that needs it (most stores a
/// test or a short session opens never do, and an open stays as cheap as before).
pub(crate) struct Checkpointer {
    thread: Arc<Mutex<Thread>>,
    #[cfg_attr(not(test), allow(dead_code))]
    done: Arc<AtomicU64>,
}

impl Checkpointer {
    /// Takes over the checkpoints of `writer` (its `wal_hook` replaces SQLite's automatic
    /// checkpoint). The thread holds the writer weakly: it never keeps a closed store open.
    pub(crate) fn install(writer: &Arc<Mutex<Connection>>) -> Result<Checkpointer> {
        let thread: Arc<Mutex<Thread>> = Arc::new(Mutex::new(None));
        let done = Arc::new(AtomicU64::new(0));
        let (weak, started, counted) =
            (Arc::downgrade(writer), Arc::clone(&thread), Arc::clone(&done));
        super::lock(writer).wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages| {
            let woken =
                (SOFT_PAGES..HARD_PAGES).contains(&pages) && wake(&started, &weak, &counted);
            if pages >= SOFT_PAGES && !woken {
                // As SQLite's own hook: a checkpoint that cannot finish now is retried at a
                // later commit. An error returned here would fail a statement whose commit
                // has already happened.
                let _ = wal.checkpoint();
            }
            Ok(())
        }))?;
        Ok(Checkpointer { thread, done })
    }

    /// Stops the thread, if it was started, and waits for it (a checkpoint under way finishes
    /// first).
    pub(crate) fn stop(&self) {
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((asks, handle)) = thread {
            let _ = asks.send(Ask::Stop);
            let _ = handle.join();
        }
    }

    /// Checkpoints the thread has run (tests).
    #[cfg(test)]
    fn done(&self) -> u64 {
        self.done.load(Ordering::SeqCst)
    }
}

/// Asks the thread for a checkpoint, starting it if need be; `false` if it cannot start.
fn wake(thread: &Mutex<Thread>, writer: &Weak<Mutex<Connection>>, done: &Arc<AtomicU64>) -> bool {
    let mut thread = thread.lock().unwrap_or_else(|p| p.into_inner());
    if thread.is_none() {
        let (asks, rx) = sync_channel(1);
        let (writer, done) = (writer.clone(), Arc::clone(done));
        let spawned = std::thread::Builder::new()
            .name("fieldsales-checkpoint".into())
            .spawn(move || run(&writer, &rx, &done));
        let Ok(handle) = spawned else { return false };
        *thread = Some((asks, handle));
    }
    // Full: a checkpoint is already asked for, and covers this commit too.
    thread.as_ref().is_some_and(|(asks, _)| {
        !matches!(asks.try_send(Ask::Checkpoint), Err(TrySendError::Disconnected(_)))
    })
}

fn run(writer: &Weak<Mutex<Connection>>, asks: &Receiver<Ask>, done: &AtomicU64) {
    while let Ok(Ask::Checkpoint) = asks.recv() {
        let Some(writer) = writer.upgrade() else { return };
        let conn = super::lock(&writer);
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!("checkpoint failed: {e}");
        }
        done.fetch_add(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use crate::model::LeadDraft;
    use crate::store::{OpenOptions, Store};

    fn wal_bytes(s: &Store) -> u64 {
        let mut wal = s.path().as_os_str().to_owned();
        wal.push("-wal");
        std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
    }

    fn draft(i: usize) -> LeadDraft {
        LeadDraft {
            name: Some(format!("Lead {i}")),
            notes: Some(format!("note {i} ").repeat(300)),
            ..Default::default()
        }
    }

    #[test]
    fn the_log_is_checkpointed_after_the_commit_that_fills_it_and_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let s = Store::open(&path, OpenOptions::new("rep")).unwrap();
        assert!(s.checkpointer.thread.lock().unwrap().is_none(), "no thread before it is needed");
        let mut ids = Vec::new();
        let mut peak = 0;
        // Back to back, as a bootstrap writes: the checkpoint must still finish and the log
        // start over.
        for i in 0..300 {
            ids.push(s.create_lead(draft(i)).unwrap().id);
            peak = peak.max(wal_bytes(&s));
        }
        // Without a checkpoint the log would hold every page written (~60 MB); with only the
        // one inside the commit at `HARD_PAGES`, up to 32 MB.
        assert!(peak < 16 << 20, "the log peaked at {peak} B");
        assert!(s.checkpointer.done() > 0, "the thread checkpointed");
        drop(s);
        assert!(!path.with_file_name("s.db-wal").exists(), "the last close removed the log");
        let s = Store::open(&path, OpenOptions::new("rep")).unwrap();
        for id in &ids {
            s.lead(id).unwrap();
        }
        assert!(s.verify().unwrap().is_ok());
    }
}
