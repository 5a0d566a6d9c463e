//! Merging what came from elsewhere (foreign changes, snapshots, drops) into the documents and
//! their projections: parsed outside the write lock, then applied item by item in one
//! transaction while worker threads load and read the snapshots ahead of the writer, a damaged
//! item set aside rather than merged.

use automerge::{AutoCommit, Change, ReadDoc};
use rusqlite::Connection;

use super::ahead::{self, Ahead};
use super::foreign::{Damage, claimed_other_id, guarded};
use super::record::{self, ChangedRecords, Record};
use super::{documents, quarantine};
use crate::doc::{self, DocKind};
use crate::error::{Error, Result};
use crate::validate::Validator;

/// What a merge changed, so that a UI can refresh exactly those records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct MergeReport {
    /// The leads, activities and sales records whose documents changed.
    pub changed: ChangedRecords,
    /// Changes now held back until their dependencies arrive.
    pub pending_changes: u64,
    /// Documents removed because the user lost access to them.
    pub dropped: Vec<String>,
    /// Records that came damaged (unloadable, of another kind or id, unreadable) and were set
    /// aside in quarantine instead of merged; their documents stay as they were.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub set_aside: Vec<String>,
}

impl MergeReport {
    /// What observers are told: the changed records, and the dropped ones among the leads.
    pub(crate) fn notice(&self) -> ChangedRecords {
        let mut c = self.changed.clone();
        c.leads.extend(self.dropped.iter().cloned());
        c
    }
}

/// One item from elsewhere, merged in order: what a pull page carries (`sync::protocol`'s
/// `PullItem` turns into one) and what one replica hands another (`Store::apply_remote`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PullApply {
    /// Raw Automerge changes of a document, in any order, possibly repeated.
    Changes { doc_id: String, kind: DocKind, changes: Vec<Vec<u8>> },
    /// A saved document (`save()` output), e.g. for a device that is new to this record.
    Snapshot { doc_id: String, kind: DocKind, data: Vec<u8> },
    /// The user lost access: remove the document; its unsent local changes go to quarantine.
    Drop { doc_id: String },
}

impl PullApply {
    pub fn doc_id(&self) -> &str {
        match self {
            PullApply::Changes { doc_id, .. }
            | PullApply::Snapshot { doc_id, .. }
            | PullApply::Drop { doc_id } => doc_id,
        }
    }
}

enum Parsed {
    Changes(Vec<Change>),
    Snapshot(Vec<u8>),
}

/// What to do with one item, once read.
enum Step {
    Merge(String, DocKind, Parsed),
    Drop(String),
    /// Keep the bytes that came in quarantine.
    SetAside {
        doc_id: String,
        kind: DocKind,
        raw: Vec<Vec<u8>>,
        damage: Damage,
    },
}

/// Reads an item's id and change bytes; what is wrong with a damaged one is a `SetAside`.
fn parse(item: PullApply) -> Result<Step> {
    let (doc_id, kind, payload) = match item {
        PullApply::Drop { doc_id } => {
            return crate::model::parse_id("document id", &doc_id)
                .map(Step::Drop)
                .map_err(Error::from);
        }
        PullApply::Changes { doc_id, kind, changes } => (doc_id, kind, Ok(changes)),
        PullApply::Snapshot { doc_id, kind, data } => (doc_id, kind, Err(data)),
    };
    let id = match crate::model::parse_id("document id", &doc_id) {
        Ok(id) => id,
        Err(_) => {
            let damage = Damage::BadId(doc_id.chars().take(64).collect());
            let raw = payload.unwrap_or_else(|data| vec![data]);
            return Ok(Step::SetAside { doc_id, kind, raw, damage });
        }
    };
    match payload {
        Ok(list) => {
            let parsed = guarded(|| {
                list.iter().map(|b| Change::from_bytes(b.clone())).collect::<Result<Vec<_>, _>>()
            });
            let damage = match parsed {
                Ok(Ok(c)) => return Ok(Step::Merge(id, kind, Parsed::Changes(c))),
                Ok(Err(e)) => Damage::Unloadable(e.to_string()),
                Err(panic) => Damage::Panicked(panic),
            };
            Ok(Step::SetAside { doc_id, kind, raw: list, damage })
        }
        Err(data) => Ok(Step::Merge(id, kind, Parsed::Snapshot(data))),
    }
}

/// Fewer snapshots than this in a page are read on the calling thread.
const PARALLEL_FROM: usize = 16;

/// The record of a snapshot, read apart from the writes: for a document new to this store
/// (every document of a bootstrap) loading and reading it is all the Automerge work there is,
/// so it runs on other threads while the writer stores what is ready, and the received bytes
/// are stored as they came (they are the server's compact save) instead of being saved again.
fn preload_one(id: &str, kind: DocKind, bytes: &[u8]) -> Option<Record> {
    // Anything unusual (unreadable bytes, a panic, a document of another kind or id, a record
    // that does not read) is left to the ordinary path, which says what is wrong with it.
    guarded(|| {
        let doc = AutoCommit::load(bytes).ok()?;
        if doc::kind_of(&doc) != Some(kind) || claimed_other_id(&doc, id).is_some() {
            return None;
        }
        Record::read(&doc, id, kind).ok()
    })
    .ok()
    .flatten()
}

/// A batch ready to merge: every item parsed.
pub(crate) struct Batch {
    steps: Vec<Step>,
    strict: bool,
}

/// Parses the items, outside any transaction. `strict`: a damaged item fails the whole batch
/// (`Error::BadChange`) instead of being set aside.
pub(crate) fn prepare(items: Vec<PullApply>, strict: bool) -> Result<Batch> {
    let steps = items
        .into_iter()
        .map(|item| match parse(item)? {
            Step::SetAside { doc_id, damage, .. } if strict => {
                Err(Error::BadChange { doc_id, reason: damage.to_string() })
            }
            step => Ok(step),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Batch { steps, strict })
}

impl Batch {
    /// Applies every item in `tx`. A document new to this store whose snapshot loaded and read
    /// before the transaction (every document of a bootstrap) is inserted and projected without
    /// a savepoint of its own: at every savepoint FTS5 writes its pending index to disk, which
    /// made savepoints the largest single cost of a bootstrap. Should such an item fail after
    /// all, the page is rolled back to where it began and applied again with a savepoint per
    /// item, so a damaged record is set aside and the rest merged, with nothing half-written.
    ///
    /// The snapshots are loaded and read on up to as many threads as there are cores while
    /// this thread writes, each item as soon as its record is there.
    pub(crate) fn apply(&self, tx: &Connection, v: &Validator, now: i64) -> Result<MergeReport> {
        let snapshots = self
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Merge(_, _, Parsed::Snapshot(_))))
            .count();
        let preload = |i: usize| match &self.steps[i] {
            Step::Merge(id, kind, Parsed::Snapshot(bytes)) => preload_one(id, *kind, bytes),
            _ => None,
        };
        let threads = ahead::threads(snapshots, PARALLEL_FROM, 4);
        ahead::run(self.steps.len(), threads, preload, |pre| self.apply_page(tx, v, now, pre))
    }

    /// Applies the page in a savepoint of its own, first with the fast path, and again item by
    /// item should a fast item fail.
    fn apply_page(
        &self,
        tx: &Connection,
        v: &Validator,
        now: i64,
        pre: &mut Ahead<Option<Record>>,
    ) -> Result<MergeReport> {
        tx.execute_batch("SAVEPOINT merge_page")?;
        let mut fast = true;
        loop {
            // Without `fast` every item has its savepoint, and a pass always ends.
            if let Some(report) = self.apply_all(tx, v, now, pre, fast)? {
                tx.execute_batch("RELEASE merge_page")?;
                return Ok(report);
            }
            tx.execute_batch("ROLLBACK TO merge_page")?;
            fast = false;
        }
    }

    /// One pass over the items. `fast`: new documents go without a savepoint; `None` when one
    /// of them failed and `tx` may hold part of it (the caller rolls the page back).
    fn apply_all(
        &self,
        tx: &Connection,
        v: &Validator,
        now: i64,
        preloaded: &mut Ahead<Option<Record>>,
        fast: bool,
    ) -> Result<Option<MergeReport>> {
        let mut report = MergeReport::default();
        for (i, step) in self.steps.iter().enumerate() {
            let pre = preloaded.get(i).and_then(Option::as_ref);
            if let (true, Step::Merge(id, kind, Parsed::Snapshot(bytes)), Some(pre)) =
                (fast, step, pre)
                && is_new(tx, id)?
            {
                if store_new(tx, v, id, *kind, bytes, pre, &mut report)?.is_err() {
                    return Ok(None);
                }
                continue;
            }
            match step {
                Step::Merge(id, kind, payload) => {
                    tx.prepare_cached("SAVEPOINT merge_one")?.execute([])?;
                    match merge_one(tx, v, id, *kind, payload, pre, &mut report)? {
                        Ok(()) => {
                            tx.prepare_cached("RELEASE merge_one")?.execute([])?;
                        }
                        Err(damage) => {
                            tx.execute_batch("ROLLBACK TO merge_one; RELEASE merge_one")?;
                            if self.strict {
                                return Err(Error::BadChange {
                                    doc_id: id.clone(),
                                    reason: damage.to_string(),
                                });
                            }
                            let raw: Vec<&[u8]> = match payload {
                                Parsed::Changes(c) => c.iter().map(|c| c.raw_bytes()).collect(),
                                Parsed::Snapshot(b) => vec![b.as_slice()],
                            };
                            quarantine::set_aside(tx, id, *kind, &raw, &damage, now)?;
                            report.set_aside.push(id.clone());
                        }
                    }
                }
                Step::SetAside { doc_id, kind, raw, damage } => {
                    let raw: Vec<&[u8]> = raw.iter().map(Vec::as_slice).collect();
                    quarantine::set_aside(tx, doc_id, *kind, &raw, damage, now)?;
                    report.set_aside.push(doc_id.clone());
                }
                Step::Drop(id) => {
                    if let Some(kind) = documents::kind(tx, id)? {
                        quarantine::move_outbox(
                            tx,
                            id,
                            "access_lost",
                            "you can no longer see this record on the server",
                            now,
                        )?;
                        documents::delete(tx, id)?;
                        record::delete(tx, id, kind)?;
                        report.dropped.push(id.clone());
                    }
                }
            }
        }
        Ok(Some(report))
    }
}

/// Whether this store knows nothing of the document: no copy, no changes waiting for it.
fn is_new(tx: &Connection, id: &str) -> Result<bool> {
    Ok(!documents::exists(tx, id)? && !documents::has_pending(tx, id)?)
}

/// Stores a snapshot of a document new to this store as received, with the record read from
/// it beforehand. The outer `Result` is storage failing; the inner one a record that does not
/// project (the caller undoes what was written).
fn store_new(
    tx: &Connection,
    v: &Validator,
    id: &str,
    kind: DocKind,
    bytes: &[u8],
    pre: &Record,
    report: &mut MergeReport,
) -> Result<std::result::Result<(), Damage>> {
    documents::insert(tx, id, kind, bytes)?;
    if let Err(e) = pre.project(tx, v, true) {
        return Damage::unreadable(e).map(Err);
    }
    report.changed.add(kind, id.to_string());
    Ok(Ok(()))
}

/// Merges one item. The outer `Result` is storage failing (the page fails); the inner one is
/// what is wrong with the item (it is set aside). Nothing is checked twice: a damaged item may
/// have written to `tx`, which the caller rolls back to its savepoint.
fn merge_one(
    tx: &Connection,
    v: &Validator,
    id: &str,
    kind: DocKind,
    payload: &Parsed,
    pre: Option<&Record>,
    report: &mut MergeReport,
) -> Result<std::result::Result<(), Damage>> {
    if let (Some(pre), Parsed::Snapshot(bytes)) = (pre, payload)
        && is_new(tx, id)?
    {
        return store_new(tx, v, id, kind, bytes, pre, report);
    }
    let existing = match documents::load(tx, id) {
        Ok(e) => e,
        Err(e @ (Error::Storage(_) | Error::Io(_))) => return Err(e),
        Err(e) => return Ok(Err(Damage::LocalCopy(e.to_string()))),
    };
    let is_new = existing.is_none();
    let (mut d, tail) = match existing {
        Some((k, _, _)) if k != kind => return Ok(Err(Damage::wrong_kind(kind, k))),
        Some((_, d, tail)) => (d, tail),
        None => (AutoCommit::new(), 0),
    };
    let before = d.get_heads();
    let mut incoming = documents::take_pending(tx, id)?;
    if let Parsed::Changes(c) = payload {
        incoming.extend(c.iter().cloned());
    }
    let applied = guarded(|| -> std::result::Result<(), String> {
        if let Parsed::Snapshot(bytes) = payload {
            d.load_incremental(bytes).map_err(|e| format!("unreadable document: {e}"))?;
        }
        d.apply_changes(incoming.clone()).map_err(|e| e.to_string())
    });
    match applied {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Ok(Err(Damage::Unloadable(e))),
        Err(panic) => return Ok(Err(Damage::Panicked(panic))),
    }
    let changed = d.get_heads() != before;
    let mut record = None;
    let mut saved = Vec::new();
    if changed {
        let found = doc::kind_of(&d);
        if let Some(k) = found.filter(|k| *k != kind) {
            return Ok(Err(Damage::wrong_kind(kind, k)));
        }
        if let Some(other) = claimed_other_id(&d, id) {
            return Ok(Err(Damage::IdMismatch { expected: id.to_string(), found: other }));
        }
        if found.is_some() {
            record = match guarded(|| Record::read(&d, id, kind)) {
                Ok(Ok(r)) => Some(r),
                Ok(Err(e)) => return Damage::unreadable(e).map(Err),
                Err(panic) => return Ok(Err(Damage::Panicked(panic))),
            };
        }
        // What is stored must load: Automerge 0.12 can accept changes whose saved document
        // then fails to load ("mismatching heads").
        saved = documents::saved(&mut d);
        let heads = d.get_heads();
        match guarded(|| AutoCommit::load(&saved).map(|mut back| back.get_heads())) {
            Ok(Ok(h)) if h == heads => {}
            Ok(Ok(_)) => return Ok(Err(Damage::NoReload("its heads differ".into()))),
            Ok(Err(e)) => return Ok(Err(Damage::NoReload(e.to_string()))),
            Err(panic) => return Ok(Err(Damage::NoReload(panic))),
        }
    }
    // Changes with missing dependencies wait in the document's queue. Only then is each one
    // looked up (`get_change_by_hash` rebuilds a change from the columns: too slow to ask for
    // every change of every pull).
    let waiting = !d.get_missing_deps(&[]).is_empty();
    for ch in incoming.iter().filter(|_| waiting) {
        if d.get_change_by_hash(&ch.hash()).is_none() {
            documents::add_pending(tx, id, kind, ch)?;
            report.pending_changes += 1;
        }
    }
    if !changed {
        return Ok(Ok(()));
    }
    if is_new {
        documents::insert(tx, id, kind, &saved)?;
    } else {
        documents::store_saved(tx, id, &saved, tail)?;
    }
    if let Some(r) = record {
        if let Err(e) = r.project(tx, v, is_new) {
            return Damage::unreadable(e).map(Err);
        }
        report.changed.add(kind, id.to_string());
    }
    Ok(Ok(()))
}
