//! The merge entry point: foreign changes and snapshots, as sync delivers them.

use automerge::{AutoCommit, Change, ReadDoc};
use rusqlite::{Connection, params};

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

fn parse(item: RemoteDoc) -> Result<(String, DocKind, Parsed)> {
    let id = crate::model::parse_id("document id", &item.doc_id)?;
    let p = match item.payload {
        RemotePayload::Changes(list) => Parsed::Changes(
            list.into_iter()
                .map(|b| {
                    Change::from_bytes(b)
                        .map_err(|e| Error::BadChange { doc_id: id.clone(), reason: e.to_string() })
                })
                .collect::<Result<_>>()?,
        ),
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
    // Anything unusual (unreadable bytes, a document of another kind, a record that does not
    // read) is left to the ordinary path, which reports it exactly as before.
    let doc = AutoCommit::load(bytes).ok()?;
    if doc::kind_of(&doc) != Some(kind) {
        return None;
    }
    Record::read(&doc, id, kind).ok()
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
    /// later merge into the same document. Malformed bytes reject the whole batch, unwritten.
    pub fn apply_remote(&self, batch: Vec<RemoteDoc>) -> Result<MergeReport> {
        self.apply_pull(batch.into_iter().map(PullApply::Merge).collect(), None)
    }

    /// Applies a page of a pull and, in the same transaction, stores the sync cursor that covers
    /// it, so a pull cut at any point resumes without losing or repeating anything.
    pub fn apply_pull(&self, items: Vec<PullApply>, cursor: Option<&str>) -> Result<MergeReport> {
        enum Step {
            Merge(String, DocKind, Parsed),
            Drop(String),
        }
        let steps = items
            .into_iter()
            .map(|i| match i {
                PullApply::Merge(d) => parse(d).map(|(id, k, p)| Step::Merge(id, k, p)),
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
                        self.merge_into(tx, id, kind, payload, pre, &mut report)?
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

    fn merge_into(
        &self,
        tx: &Connection,
        id: String,
        kind: DocKind,
        payload: Parsed,
        pre: Option<Record>,
        report: &mut MergeReport,
    ) -> Result<()> {
        if let (Some(pre), Parsed::Snapshot(bytes)) = (pre, &payload)
            && !documents::exists(tx, &id)?
            && !has_pending(tx, &id)?
        {
            documents::insert(tx, &id, kind, bytes)?;
            pre.project_as(tx, &self.validator, true)?;
            note_changed(report, id, kind);
            return Ok(());
        }
        let bad = |reason: String| Error::BadChange { doc_id: id.clone(), reason };
        let existing = documents::load(tx, &id)?;
        let is_new = existing.is_none();
        let (mut d, tail) = match existing {
            Some((k, _, _)) if k != kind => {
                return Err(bad(format!("is a {}, not a {}", k.as_str(), kind.as_str())));
            }
            Some((_, d, tail)) => (d, tail),
            None => (AutoCommit::new(), 0),
        };
        let before = d.get_heads();
        let mut incoming = take_pending(tx, &id)?;
        match payload {
            Parsed::Changes(c) => incoming.extend(c),
            Parsed::Snapshot(bytes) => {
                d.load_incremental(&bytes).map_err(|e| bad(format!("unreadable document: {e}")))?;
            }
        }
        d.apply_changes(incoming.clone()).map_err(|e| bad(e.to_string()))?;
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
        if d.get_heads() == before {
            return Ok(());
        }
        if let Some(k) = doc::kind_of(&d)
            && k != kind
        {
            return Err(bad(format!(
                "claims to be a {} but holds a {}",
                kind.as_str(),
                k.as_str()
            )));
        }
        if is_new {
            documents::insert(tx, &id, kind, &d.save())?;
        } else {
            documents::store(tx, &id, &mut d, tail)?;
        }
        if doc::kind_of(&d).is_some() {
            self.project(tx, &id, kind, &d, is_new)?;
            note_changed(report, id, kind);
        }
        Ok(())
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
