//! Stores in temporary folders with a clock the test sets, and changes exchanged between stores
//! the way sync delivers them.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use fieldsales_core::{LeadDraft, MergeReport, OpenOptions, PullApply, Store};

use crate::T0;

/// A store in its own temporary folder (removed with it), region KR, whose clock starts at `T0`
/// and moves one second per read.
pub struct TestStore {
    pub store: Store,
    pub clock: Arc<AtomicI64>,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl TestStore {
    pub fn set_time(&self, t: i64) {
        self.clock.store(t, Ordering::SeqCst);
    }
}

/// A new empty store of `user`.
pub fn store(user: &str) -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(AtomicI64::new(T0));
    let c = clock.clone();
    let opts = OpenOptions::new(user)
        .region("KR")
        .clock(Arc::new(move || c.fetch_add(1000, Ordering::SeqCst)));
    let store = Store::open(dir.path().join("store.db"), opts).expect("open store");
    TestStore { store, clock, _dir: dir }
}

/// Everything `from` wrote that `to` has not seen, delivered as raw changes.
pub fn send(from: &Store, to: &Store) -> MergeReport {
    let batch: Vec<PullApply> = from
        .outbox(0, u32::MAX)
        .expect("outbox")
        .into_iter()
        .map(|e| PullApply::Changes { doc_id: e.doc_id, kind: e.kind, changes: vec![e.change] })
        .collect();
    to.apply_remote(batch).expect("apply")
}

/// Both ways, `a`'s changes to `b` and then `b`'s to `a`.
pub fn exchange(a: &Store, b: &Store) {
    send(a, b);
    send(b, a);
}

/// A draft with a name and nothing else.
pub fn lead(name: &str) -> LeadDraft {
    LeadDraft { name: Some(name.to_string()), ..Default::default() }
}

/// A change observer that keeps every notice it hears, in order.
#[derive(Default)]
pub struct Heard(pub std::sync::Mutex<Vec<fieldsales_core::ChangedRecords>>);

impl fieldsales_core::ChangeObserver for Heard {
    fn changed(&self, c: &fieldsales_core::ChangedRecords) {
        self.0.lock().expect("observer log").push(c.clone());
    }
}
