#![allow(dead_code)]
//! Helpers shared by the end-to-end tests: stores in temp dirs with a controllable clock, and
//! change exchange between stores the way sync will do it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use fieldsales_core::*;

/// 2026-11-02 09:00 UTC, a Monday.
pub const T0: i64 = 1_793_610_000_000;

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

pub fn exchange(a: &Store, b: &Store) {
    send(a, b);
    send(b, a);
}

pub fn lead(name: &str) -> LeadDraft {
    LeadDraft { name: Some(name.to_string()), ..Default::default() }
}
