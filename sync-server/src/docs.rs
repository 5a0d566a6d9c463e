//! Documents the server wrote recently, kept loaded. Loading a document (`AutoCommit::load`)
//! was the largest single cost of a push, and pushes come back to the same few documents: a
//! rep edits the lead they just captured. An entry is used only if the bytes it was saved as
//! are the bytes in storage, so a write this process did not make (another server process on
//! the same database, a rolled-back transaction) is a miss, never a stale document.
//!
//! Bounded by bytes as well as by count: one user with large documents must not multiply the
//! server's memory by the count. An entry is counted as [`cost`]: the saved bytes kept beside
//! the loaded document, and the loaded document's own estimate.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use automerge::AutoCommit;
use lru::LruCache;

/// Documents kept by default: a loaded lead takes about 20 KB, so about 330 MB when full. With
/// 4,096 the sync bench's 50 devices, editing any of 30,000 leads at random, found one in four
/// loaded; see docs/benchmarks-sync.md.
pub const DEFAULT_CAPACITY: usize = 16_384;

/// Bytes the cache holds at most by default, counted as [`cost`].
pub const DEFAULT_BYTES: usize = 256 * 1024 * 1024;

/// A loaded document's memory is about [`LOADED_FACTOR`] times its saved (uncompressed) size
/// plus [`LOADED_OVERHEAD`]: measured with a counting allocator over `AutoCommit::load` of leads
/// saved at 424 B to 95 KB (with up to 400 edits): 12.6 KB for the smallest, 1.1 to 2.3 times
/// the saved size for the large ones.
pub const LOADED_FACTOR: usize = 2;
pub const LOADED_OVERHEAD: usize = 16 * 1024;

/// What a document kept loaded beside its `saved` bytes is counted as.
pub fn cost(saved: usize) -> usize {
    saved * (1 + LOADED_FACTOR) + LOADED_OVERHEAD
}

pub struct DocCache {
    entries: Option<Mutex<Entries>>,
    max_bytes: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

struct Entries {
    lru: LruCache<(String, String), Entry>,
    bytes: usize,
}

struct Entry {
    saved: Vec<u8>,
    doc: AutoCommit,
}

impl Entry {
    fn cost(&self) -> usize {
        cost(self.saved.len())
    }
}

impl DocCache {
    /// A cache of `capacity` documents and [`DEFAULT_BYTES`]; 0 turns it off.
    pub fn new(capacity: usize) -> DocCache {
        DocCache::with_bytes(capacity, DEFAULT_BYTES)
    }

    /// A cache of up to `capacity` documents and `max_bytes` (as [`cost`] counts them).
    pub fn with_bytes(capacity: usize, max_bytes: usize) -> DocCache {
        DocCache {
            entries: NonZeroUsize::new(capacity)
                .map(|c| Mutex::new(Entries { lru: LruCache::new(c), bytes: 0 })),
            max_bytes,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> Option<std::sync::MutexGuard<'_, Entries>> {
        self.entries.as_ref().map(|m| m.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Takes out the loaded form of the document stored as `saved`, if there is one. The caller
    /// owns it from here: a push that is then rejected drops it rather than putting back a
    /// document with changes applied that storage does not have.
    pub fn take(&self, workspace: &str, id: &str, saved: &[u8]) -> Option<AutoCommit> {
        let doc = self
            .lock()
            .and_then(|mut entries| {
                let e = entries.lru.pop(&(workspace.to_string(), id.to_string()))?;
                entries.bytes -= e.cost();
                Some(e)
            })
            .filter(|e| e.saved == saved)
            .map(|e| e.doc);
        let counter = if doc.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        doc
    }

    /// Takes that found their document, and takes that did not, since the start.
    pub fn hits_and_misses(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    /// Keeps `doc`, which storage now holds as `saved`. Call only after the write committed.
    pub fn put(&self, workspace: &str, id: &str, saved: Vec<u8>, doc: AutoCommit) {
        let entry = Entry { saved, doc };
        if entry.cost() > self.max_bytes {
            return;
        }
        // The documents pushed out are dropped after the lock is released: freeing a loaded
        // document is thousands of frees, and every push waits for this lock.
        let mut evicted = Vec::new();
        if let Some(mut entries) = self.lock() {
            entries.bytes += entry.cost();
            if let Some((_, old)) = entries.lru.push((workspace.to_string(), id.to_string()), entry)
            {
                entries.bytes -= old.cost();
                evicted.push(old);
            }
            while entries.bytes > self.max_bytes {
                let Some((_, old)) = entries.lru.pop_lru() else { break };
                entries.bytes -= old.cost();
                evicted.push(old);
            }
        }
        drop(evicted);
    }

    pub fn len(&self) -> usize {
        self.lock().map_or(0, |e| e.lru.len())
    }

    /// Bytes held, as [`cost`] counts them.
    pub fn bytes(&self) -> usize {
        self.lock().map_or(0, |e| e.bytes)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::{ROOT, ReadDoc, transaction::Transactable};

    fn doc(v: &str) -> (AutoCommit, Vec<u8>) {
        let mut d = AutoCommit::new();
        d.put(&ROOT, "v", v).unwrap();
        let saved = d.save();
        (d, saved)
    }

    #[test]
    fn a_document_is_used_only_while_storage_holds_what_it_was_saved_as() {
        let cache = DocCache::new(2);
        let (d, saved) = doc("a");
        cache.put("w", "1", saved.clone(), d);
        let (_, other) = doc("b");
        assert!(cache.take("w", "1", &other).is_none(), "stored bytes differ: a miss");
        assert!(cache.take("w", "1", &saved).is_none(), "a miss also drops the entry");
        let (d, saved) = doc("a");
        cache.put("w", "1", saved.clone(), d);
        assert!(cache.take("other-workspace", "1", &saved).is_none());
        let got = cache.take("w", "1", &saved).expect("hit");
        assert_eq!(got.get(&ROOT, "v").unwrap().unwrap().0.as_str(), Some("a"));
        assert!(cache.take("w", "1", &saved).is_none(), "taken out");
        assert_eq!(cache.hits_and_misses(), (1, 4));
    }

    #[test]
    fn the_least_recently_written_document_goes_first_and_zero_turns_it_off() {
        let cache = DocCache::new(2);
        let mut saved = Vec::new();
        for id in ["1", "2", "3"] {
            let (d, s) = doc(id);
            cache.put("w", id, s.clone(), d);
            saved.push(s);
        }
        assert_eq!(cache.len(), 2);
        assert!(cache.take("w", "1", &saved[0]).is_none(), "evicted");
        assert!(cache.take("w", "3", &saved[2]).is_some());
        let off = DocCache::new(0);
        let (d, saved) = doc("a");
        off.put("w", "1", saved.clone(), d);
        assert!(off.take("w", "1", &saved).is_none());
        assert!(off.is_empty());
    }

    /// Bounded by bytes too: large documents push out others long before the count is reached,
    /// and one larger than the whole budget is not kept at all.
    #[test]
    fn the_cache_is_bounded_by_bytes_as_well_as_by_count() {
        let big = |v: usize| {
            let mut d = AutoCommit::new();
            d.put(&ROOT, "v", "x".repeat(v)).unwrap();
            let saved = d.save_nocompress();
            (d, saved)
        };
        let (_, probe) = big(100_000);
        let cost = cost(probe.len());
        let cache = DocCache::with_bytes(1_000, 3 * cost);
        let mut saved = Vec::new();
        for id in 0..5 {
            let (d, s) = big(100_000);
            cache.put("w", &id.to_string(), s.clone(), d);
            saved.push(s);
            assert!(cache.bytes() <= 3 * cost, "{} bytes held", cache.bytes());
        }
        assert_eq!(cache.len(), 3, "three fit the budget, not the thousand the count allows");
        assert!(cache.take("w", "0", &saved[0]).is_none(), "the oldest went first");
        assert!(cache.take("w", "4", &saved[4]).is_some());
        assert_eq!(cache.bytes(), 2 * cost, "a taken document leaves the budget");
        let (d, s) = big(400_000);
        cache.put("w", "huge", s.clone(), d);
        assert!(cache.take("w", "huge", &s).is_none(), "larger than the budget: not kept");
        assert!(cache.bytes() <= 3 * cost);
    }
}
