//! The store's API for looking after the file: `verify` (every projection recomputed from its
//! document and compared; every outbox row a change this device holds), `compact`, and
//! rebuilding the projections after a migration that SQL alone cannot fill.

use std::collections::HashSet;

use super::foreign::{self, guarded};
use super::record::{self, Record};
use super::{Store, documents, lock, meta, outbox};
use crate::doc;
use crate::error::{Error, Result};
use crate::model::{Activity, Lead};

/// What `verify` found: projections that disagree with their documents, and outbox rows that are
/// not local changes. Both lists are empty for a healthy store.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    pub documents: usize,
    pub projection_mismatches: Vec<String>,
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.projection_mismatches.is_empty() && self.problems.is_empty()
    }
}

impl Store {
    /// Recomputes every projection from its document and compares; checks that each outbox row
    /// is a change of this device that its document holds.
    pub fn verify(&self) -> Result<VerifyReport> {
        self.read(|c| {
            let mut report = VerifyReport::default();
            let mut local: HashSet<String> = HashSet::new();
            for (id, kind) in documents::all_ids(c)? {
                report.documents += 1;
                // A damaged document is a finding, never a failed (or crashed) verify.
                let mut d = match documents::load(c, &id) {
                    Ok(Some((_, d, _))) => d,
                    Ok(None) => continue,
                    Err(e @ (Error::Storage(_) | Error::Io(_))) => return Err(e),
                    Err(e) => {
                        report.problems.push(format!("document {id} does not load: {e}"));
                        continue;
                    }
                };
                for ch in d.get_changes(&[]) {
                    if ch.actor_id() == &self.actor {
                        local.insert(ch.hash().to_string());
                    }
                }
                if doc::kind_of(&d).is_none() {
                    continue;
                }
                if let Some(other) = foreign::claimed_other_id(&d, &id) {
                    report.problems.push(format!("document {id} holds record {other}"));
                    continue;
                }
                match guarded(|| Record::read(&d, &id, kind).and_then(|r| r.matches(c))) {
                    Ok(Ok(true)) => {}
                    Ok(Ok(false)) => report.projection_mismatches.push(id),
                    Ok(Err(e @ (Error::Storage(_) | Error::Io(_)))) => return Err(e),
                    Ok(Err(e)) => {
                        report.problems.push(format!("document {id} cannot be read: {e}"))
                    }
                    Err(panic) => {
                        report.problems.push(format!("document {id} makes Automerge fail: {panic}"))
                    }
                }
            }
            for (seq, doc_id, hash) in outbox::hashes(c)? {
                if !local.contains(&hash) {
                    report.problems.push(format!(
                        "outbox row {seq} ({hash}) is not a change held by document {doc_id}"
                    ));
                }
            }
            Ok(report)
        })
    }

    /// Folds every document's appended changes into one saved blob, packs every document
    /// (`documents::pack_page`) and reclaims space.
    pub fn compact(&self) -> Result<usize> {
        let n = self.write(|tx| {
            let ids = documents::with_tail(tx)?;
            for id in &ids {
                if let Some((_, mut d, tail)) = documents::load(tx, id)? {
                    documents::store(tx, id, &mut d, tail)?;
                }
            }
            Ok(ids.len())
        })?;
        // A page per transaction: other writers wait for one page at most.
        let mut after = Some(0);
        while let Some(from) = after {
            after = self.write(|tx| documents::pack_page(tx, from, 500))?.0;
        }
        let w = lock(&self.writer);
        // VACUUM first: it goes through the WAL, which the checkpoint then empties.
        w.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(n)
    }

    /// Rebuilds every projection from the documents, in one transaction; run after a migration
    /// that adds a projection SQL alone cannot fill.
    pub(crate) fn reproject_all(&self) -> Result<()> {
        self.write(|tx| {
            for (id, kind) in documents::all_ids(tx)? {
                if let Some((_, d, _)) = documents::load(tx, &id)?
                    && doc::kind_of(&d).is_some()
                {
                    record::delete(tx, &id, kind)?;
                    Record::read(&d, &id, kind)?.project(tx, &self.validator, true)?;
                }
            }
            meta::set(tx, meta::REPROJECT, None)
        })
    }

    /// **Benchmarks only.** Writes the projection rows of `leads` and `activities` (lead row,
    /// full-text row, tags, duplicate keys, stage history, activity row) with the same code a
    /// capture or a merge uses, in one transaction, but *without* their documents or outbox
    /// rows. A store seeded this way fails `verify` and loses these rows at the next
    /// reprojection; an app must never call it. `core/benches/report.rs` uses it to build
    /// 600,000 records in seconds rather than the minutes the document path takes.
    #[doc(hidden)]
    pub fn seed_projections_for_bench(
        &self,
        leads: &[Lead],
        activities: &[Activity],
    ) -> Result<()> {
        use super::projection::{activity, lead};
        self.write(|tx| {
            for l in leads {
                lead::upsert(tx, l, &self.validator, true)?;
            }
            for a in activities {
                activity::upsert(tx, a, false)?;
            }
            Ok(())
        })
    }
}
