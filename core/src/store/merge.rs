//! The merge entry point: foreign changes and snapshots, as sync delivers them.

use automerge::{AutoCommit, Change, ReadDoc};
use rusqlite::{Connection, params};

use super::foreign::{Damage, claimed_other_id, guarded};
use super::{Record, Store, documents};
use crate::doc::{self, DocKind};
use crate::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemotePayload {
    /// Raw Automerge changes, in any order, possibly repeated.
    Changes(Vec<Vec<u8>>),
    /// A saved document (`save()` output), e.g. for a device that is new to this record.
    Snapshot(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteDoc {
    pub doc_id: String,
    pub kind: DocKind,
    pub payload: RemotePayload,
}

/// What a merge changed, so that a UI can refresh exactly those records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct MergeReport {
    pub changed_leads: Vec<String>,
    pub changed_activities: Vec<String>,
    /// Changes now held back until their dependencies arrive.
    pub pending_changes: u64,
    /// Documents removed because the user lost access to them.
    pub dropped: Vec<String>,
    /// Settings, targets and compensation plans that changed.
    pub changed_other: Vec<String>,
    /// Records that came damaged (unloadable, of another kind or id, unreadable) and were set
    /// aside in quarantine instead of merged; their documents stay as they were.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub set_aside: Vec<String>,
}

/// One step of a pull, applied in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PullApply {
    Merge(RemoteDoc),
    /// The user lost access: remove the document; its unsent local changes go to quarantine.
    Drop(String),
}

enum Parsed {
    Changes(Vec<Change>),
    Snapshot(Vec<u8>),
}

/// Reads an item's id and change bytes; on failure gives the item back with what is wrong.
fn parse(item: RemoteDoc) -> std::result::Result<(String, DocKind, Parsed), (RemoteDoc, Damage)> {
    let id = match crate::model::parse_id("document id", &item.doc_id) {
        Ok(id) => id,
        Err(_) => {
            let d = Damage::BadId(item.doc_id.chars().take(64).collect());
            return Err((item, d));
        }
    };
    let p = match item.payload {
        RemotePayload::Changes(list) => {
            let parsed = guarded(|| {
                list.iter().map(|b| Change::from_bytes(b.clone())).collect::<Result<Vec<_>, _>>()
            });
            let d = match parsed {
                Ok(Ok(c)) => return Ok((id, item.kind, Parsed::Changes(c))),
                Ok(Err(e)) => Damage::Unloadable(e.to_string()),
                Err(panic) => Damage::Panicked(panic),
            };
            return Err((RemoteDoc { payload: RemotePayload::Changes(list), ..item }, d));
        }
        RemotePayload::Snapshot(b) => Parsed::Snapshot(b),
    };
    Ok((id, item.kind, p))
}

/// Fewer snapshots than this in a page are read on the calling thread.
const PARALLEL_FROM: usize = 16;

/// The record of a snapshot, read before the write transaction: for a document new to this
/// store (every document of a bootstrap) loading and reading it is all the Automerge work there
/// is, so it runs outside the writer lock and on every core, and the received bytes are stored
/// as they came (they are the server's compact save) instead of being saved again.
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

/// Preloads every snapshot of a page, on up to as many threads as there are cores.
fn preload(steps: &[(usize, &str, DocKind, &[u8])], n: usize) -> Vec<Option<Record>> {
    let mut out: Vec<Option<Record>> = (0..n).map(|_| None).collect();
    let threads = if steps.len() < PARALLEL_FROM {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |c| c.get()).min(4)
    };
    if threads < 2 {
        for &(i, id, kind, bytes) in steps {
            out[i] = preload_one(id, kind, bytes);
        }
        return out;
    }
    let chunk = steps.len().div_ceil(threads);
    let done: Vec<Vec<(usize, Option<Record>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = steps
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|&(i, id, kind, bytes)| (i, preload_one(id, kind, bytes)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        // A worker that panicked (it cannot on these inputs) only loses its head start: its
        // documents take the ordinary path.
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    for (i, p) in done.into_iter().flatten() {
        out[i] = p;
    }
    out
}

impl Store {
    /// Merges a batch of foreign changes or snapshots in one transaction, updating projections.
    /// Changes whose dependencies are missing are kept in `pending_changes` and retried on every
    /// later merge into the same document. Anything wrong with one item (malformed bytes, a
    /// record of another kind or id) rejects the whole batch, unwritten.
    pub fn apply_remote(&self, batch: Vec<RemoteDoc>) -> Result<MergeReport> {
        self.apply_items(batch.into_iter().map(PullApply::Merge).collect(), None, true)
    }

    /// Applies a page of a pull and, in the same transaction, stores the sync cursor that covers
    /// it, so a pull cut at any point resumes without losing or repeating anything.
    ///
    /// A server is not trusted with this device's data: a record that does not load, makes
    /// Automerge panic, holds another kind or id than it came under, cannot be read, or whose
    /// merged document does not load back is set aside in quarantine (with its `Damage` code)
    /// and its document left as it was; the rest of the page merges and the cursor moves on.
    /// Only a storage failure fails the page, writing nothing.
    pub fn apply_pull(&self, items: Vec<PullApply>, cursor: Option<&str>) -> Result<MergeReport> {
        self.apply_items(items, cursor, false)
    }

    /// `strict`: a damaged item fails the whole batch (`Error::BadChange`) instead of being set
    /// aside.
    fn apply_items(
        &self,
        items: Vec<PullApply>,
        cursor: Option<&str>,
        strict: bool,
    ) -> Result<MergeReport> {
        enum Step {
            Merge(String, DocKind, Parsed),
            Drop(String),
            SetAside(RemoteDoc, Damage),
        }
        let steps = items
            .into_iter()
            .map(|i| match i {
                PullApply::Merge(d) => match parse(d) {
                    Ok((id, k, p)) => Ok(Step::Merge(id, k, p)),
                    Err((item, damage)) if strict => {
                        Err(Error::BadChange { doc_id: item.doc_id, reason: damage.to_string() })
                    }
                    Err((item, damage)) => Ok(Step::SetAside(item, damage)),
                },
                PullApply::Drop(id) => {
                    crate::model::parse_id("document id", &id).map(Step::Drop).map_err(Error::from)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let snapshots: Vec<(usize, &str, DocKind, &[u8])> = steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                Step::Merge(id, kind, Parsed::Snapshot(b)) => {
                    Some((i, id.as_str(), *kind, b.as_slice()))
                }
                _ => None,
            })
            .collect();
        let mut preloaded = preload(&snapshots, steps.len());
        drop(snapshots);
        let now = self.now();
        self.write(|tx| {
            let mut report = MergeReport::default();
            for (i, step) in steps.into_iter().enumerate() {
                match step {
                    Step::Merge(id, kind, payload) => {
                        let pre = preloaded.get_mut(i).and_then(Option::take);
                        // A savepoint, so that a record found damaged half-way leaves nothing.
                        tx.prepare_cached("SAVEPOINT merge_one")?.execute([])?;
                        match self.merge_into(tx, &id, kind, &payload, pre, &mut report)? {
                            Ok(()) => {
                                tx.prepare_cached("RELEASE merge_one")?.execute([])?;
                            }
                            Err(damage) => {
                                tx.execute_batch("ROLLBACK TO merge_one; RELEASE merge_one")?;
                                if strict {
                                    return Err(Error::BadChange {
                                        doc_id: id,
                                        reason: damage.to_string(),
                                    });
                                }
                                let raw: Vec<&[u8]> = match &payload {
                                    Parsed::Changes(c) => c.iter().map(|c| c.raw_bytes()).collect(),
                                    Parsed::Snapshot(b) => vec![b.as_slice()],
                                };
                                super::quarantine::set_aside(tx, &id, kind, &raw, &damage, now)?;
                                report.set_aside.push(id);
                            }
                        }
                    }
                    Step::SetAside(item, damage) => {
                        let raw: Vec<&[u8]> = match &item.payload {
                            RemotePayload::Changes(c) => c.iter().map(Vec::as_slice).collect(),
                            RemotePayload::Snapshot(b) => vec![b.as_slice()],
                        };
                        super::quarantine::set_aside(
                            tx,
                            &item.doc_id,
                            item.kind,
                            &raw,
                            &damage,
                            now,
                        )?;
                        report.set_aside.push(item.doc_id);
                    }
                    Step::Drop(id) => {
                        if let Some(kind) = documents::kind(tx, &id)? {
                            super::quarantine::move_outbox(
                                tx,
                                &id,
                                "access_lost",
                                "you can no longer see this record on the server",
                                now,
                            )?;
                            documents::delete(tx, &id)?;
                            super::projection::delete(tx, &id, kind)?;
                            report.dropped.push(id);
                        }
                    }
                }
            }
            if let Some(c) = cursor {
                super::set_meta(tx, super::SYNC_CURSOR, Some(c))?;
            }
            Ok(report)
        })
        .inspect(|r| {
            let mut leads = r.changed_leads.clone();
            leads.extend(r.dropped.iter().cloned());
            self.notify(super::Changed {
                leads,
                activities: r.changed_activities.clone(),
                sales: r.changed_other.clone(),
            });
        })
    }

    /// Merges one item. The outer `Result` is storage failing (the page fails); the inner one
    /// is what is wrong with the item (it is set aside). Nothing is checked twice: a damaged
    /// item may have written to `tx`, which the caller rolls back to its savepoint.
    fn merge_into(
        &self,
        tx: &Connection,
        id: &str,
        kind: DocKind,
        payload: &Parsed,
        pre: Option<Record>,
        report: &mut MergeReport,
    ) -> Result<std::result::Result<(), Damage>> {
        if let (Some(pre), Parsed::Snapshot(bytes)) = (pre, payload)
            && !documents::exists(tx, id)?
            && !has_pending(tx, id)?
        {
            documents::insert(tx, id, kind, bytes)?;
            if let Err(e) = pre.project_as(tx, &self.validator, true) {
                return Damage::unreadable(e).map(Err);
            }
            note_changed(report, id.to_string(), kind);
            return Ok(Ok(()));
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
        let mut incoming = take_pending(tx, id)?;
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
            saved = d.save();
            let heads = d.get_heads();
            match guarded(|| AutoCommit::load(&saved).map(|mut back| back.get_heads())) {
                Ok(Ok(h)) if h == heads => {}
                Ok(Ok(_)) => return Ok(Err(Damage::NoReload("its heads differ".into()))),
                Ok(Err(e)) => return Ok(Err(Damage::NoReload(e.to_string()))),
                Err(panic) => return Ok(Err(Damage::NoReload(panic))),
            }
        }
        // Changes with missing dependencies wait in the document's queue. Only then is each one
        // looked up (`get_change_by_hash` rebuilds a change from the columns: too slow to ask
        // for every change of every pull).
        let waiting = !d.get_missing_deps(&[]).is_empty();
        for ch in incoming.iter().filter(|_| waiting) {
            if d.get_change_by_hash(&ch.hash()).is_none() {
                tx.prepare_cached("INSERT OR IGNORE INTO pending_changes (doc_id, hash, kind, data) VALUES (?1, ?2, ?3, ?4)")?
                    .execute(params![id, ch.hash().to_string(), kind as i64, ch.raw_bytes()])?;
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
            if let Err(e) = r.project_as(tx, &self.validator, is_new) {
                return Damage::unreadable(e).map(Err);
            }
            note_changed(report, id.to_string(), kind);
        }
        Ok(Ok(()))
    }

    /// How many foreign changes wait for missing dependencies.
    pub fn pending_len(&self) -> Result<i64> {
        self.read(|c| Ok(c.query_row("SELECT count(*) FROM pending_changes", [], |r| r.get(0))?))
    }
}

fn note_changed(report: &mut MergeReport, id: String, kind: DocKind) {
    match kind {
        DocKind::Lead => report.changed_leads.push(id),
        DocKind::Activity => report.changed_activities.push(id),
        DocKind::Settings | DocKind::Target | DocKind::CompPlan => report.changed_other.push(id),
    }
}

fn has_pending(tx: &Connection, id: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM pending_changes WHERE doc_id = ?1)")?
        .query_row([id], |r| r.get(0))?)
}

fn take_pending(tx: &Connection, id: &str) -> Result<Vec<Change>> {
    let rows: Vec<Vec<u8>> = tx
        .prepare_cached("SELECT data FROM pending_changes WHERE doc_id = ?1")?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    tx.prepare_cached("DELETE FROM pending_changes WHERE doc_id = ?1")?.execute([id])?;
    rows.into_iter().map(|b| Change::from_bytes(b).map_err(|e| Error::corrupt(id, e))).collect()
}
