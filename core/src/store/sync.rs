//! The store's API for sync: the outbox it pushes, what it pulls merged in (or refused and set
//! aside in quarantine), and what the sync screen and the list's marks show (when the device
//! last synced, how many changes wait, which leads on a page have unsynced changes). Also the
//! raw documents, for replicas that exchange them without a server.

use serde::{Deserialize, Serialize};

use super::merge::{self, MergeReport, PullApply};
use super::quarantine;
use super::record::{self, ChangedRecords, Record};
use super::{Store, documents, meta, outbox, read};
use crate::doc::{self, DocKind};
use crate::error::{Error, Result};
use crate::model::Millis;

/// The device's sync state at a glance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncStatus {
    /// When a sync last finished (ms since the Unix epoch, this device's clock); `None` before
    /// the first.
    pub last_synced_at: Option<Millis>,
    /// Local changes no server has acknowledged yet.
    pub waiting: u64,
    /// Live leads showing concurrent values.
    pub conflicted_leads: u64,
    /// Changes the server refused, kept aside.
    pub quarantined: u64,
}

impl Store {
    /// Local changes not yet acknowledged, oldest first, after `after_seq`.
    pub fn outbox(&self, after_seq: i64, limit: u32) -> Result<Vec<outbox::OutboxEntry>> {
        self.read(|c| outbox::list(c, after_seq, limit))
    }

    pub fn outbox_len(&self) -> Result<i64> {
        self.read(outbox::count)
    }

    /// Forgets outbox rows whose changes a server has stored. Unknown hashes are ignored, so a
    /// repeated acknowledgement is harmless.
    /// Drops what the server acknowledged. Observers hear of the records with nothing waiting
    /// any more, so a list's "not synced" marks go without polling, whoever ran the sync.
    pub fn ack_outbox(&self, hashes: &[String]) -> Result<usize> {
        let (n, done) = self.write(|tx| outbox::ack(tx, hashes))?;
        let mut changed = ChangedRecords::default();
        for (doc_id, kind) in done {
            changed.add(kind, doc_id);
        }
        self.notify(changed);
        Ok(n)
    }

    /// After a server lost changes it had acknowledged (restored from an older backup, which the
    /// client learns from a `bad_cursor`): every change this device wrote goes back into the
    /// outbox, leads first, each record's changes in causal order, so that the next push gives
    /// the server what it lacks (it acknowledges again what it has: pushing is idempotent).
    /// Unsent changes are among them. Returns how many changes wait now.
    pub fn requeue_own_changes(&self) -> Result<usize> {
        self.write(|tx| {
            outbox::clear_hash_only(tx)?;
            let mut docs = documents::all_ids(tx)?;
            // An activity is refused while its lead is unknown to the server.
            docs.sort_by_key(|(_, kind)| *kind != DocKind::Lead);
            for (id, kind) in docs {
                // A damaged local copy has nothing sendable; it is reported by `verify`.
                let Ok(Some((_, mut d, _))) = documents::load(tx, &id) else { continue };
                for ch in d.get_changes(&[]) {
                    if ch.actor_id() == &self.actor {
                        outbox::push(tx, &id, kind, &ch.hash())?;
                    }
                }
            }
            outbox::count(tx).map(|n| n as usize)
        })
    }

    /// Merges a batch of foreign changes or snapshots (another replica's, without a server) in
    /// one transaction, updating projections. Changes whose dependencies are missing are kept in
    /// `pending_changes` and retried on every later merge into the same document. Anything wrong
    /// with one item (malformed bytes, a record of another kind or id) rejects the whole batch,
    /// unwritten.
    pub fn apply_remote(&self, batch: Vec<PullApply>) -> Result<MergeReport> {
        self.apply_items(batch, None, true)
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
        // A snapshot byte for byte what this store holds (a device's first sync brings back
        // the documents it has just sent) is neither loaded nor merged: it would change
        // nothing. Documents only grow (a reset takes the server's version, which holds what
        // the server sent before), so one read here is still right when the write below runs.
        let has_snapshots = items.iter().any(|i| matches!(i, PullApply::Snapshot { .. }));
        let items = if !has_snapshots {
            items
        } else {
            self.read(|c| {
                let mut kept = Vec::with_capacity(items.len());
                for item in items {
                    if let PullApply::Snapshot { doc_id, data, .. } = &item
                        && documents::holds_exactly(c, doc_id, data)?
                    {
                        continue;
                    }
                    kept.push(item);
                }
                Ok(kept)
            })?
        };
        let batch = merge::prepare(items, strict)?;
        let now = self.now();
        self.write(|tx| {
            let report = batch.apply(tx, &self.validator, now)?;
            if let Some(c) = cursor {
                meta::set(tx, meta::SYNC_CURSOR, Some(c))?;
            }
            Ok(report)
        })
        .inspect(|r| self.notify(r.notice()))
    }

    /// How many foreign changes wait for missing dependencies.
    pub fn pending_len(&self) -> Result<i64> {
        self.read(documents::pending_count)
    }

    /// Handles a server's refusal of a document's changes in one transaction: all unsent changes
    /// of the document go to quarantine, and the document is reset to `server_version` (or
    /// removed, if the server has none the user may see).
    pub fn quarantine_rejected(
        &self,
        doc_id: &str,
        kind: DocKind,
        code: &str,
        reason: &str,
        server_version: Option<&[u8]>,
    ) -> Result<usize> {
        let now = self.now();
        let server_doc = server_version.map(|b| doc::load(doc_id, b)).transpose()?;
        self.write(|tx| {
            let n = quarantine::move_outbox(tx, doc_id, code, reason, now)?;
            let local_kind = documents::kind(tx, doc_id)?.unwrap_or(kind);
            documents::delete(tx, doc_id)?;
            record::delete(tx, doc_id, local_kind)?;
            if let Some(mut d) = server_doc {
                documents::insert(tx, doc_id, kind, &documents::saved(&mut d))?;
                if doc::kind_of(&d).is_some() {
                    Record::read(&d, doc_id, kind)?.project(tx, &self.validator, true)?;
                }
            }
            Ok(n)
        })
        .inspect(|_| self.notify(ChangedRecords::one(kind, doc_id)))
    }

    /// Records that a sync finished now; `sync_status` reports it.
    pub fn mark_synced(&self) -> Result<()> {
        self.set_meta(meta::LAST_SYNC, Some(&self.now().to_string()))
    }

    pub fn sync_status(&self) -> Result<SyncStatus> {
        let last_synced_at = self.meta(meta::LAST_SYNC)?.and_then(|v| v.parse().ok());
        Ok(SyncStatus {
            last_synced_at,
            waiting: self.outbox_len()?.max(0) as u64,
            conflicted_leads: self.conflicted_leads()?,
            quarantined: self.quarantine_len()?.max(0) as u64,
        })
    }

    /// Live leads holding concurrent values a person should look at (the sync summary's
    /// `conflicts`).
    pub fn conflicted_leads(&self) -> Result<u64> {
        self.read(read::list::conflicted_leads)
    }

    /// Which of `lead_ids` (a page of the list) have local changes no server has yet, in the
    /// lead or in one of its activities: the list's "not synced" mark.
    pub fn unsynced_leads(&self, lead_ids: &[String]) -> Result<Vec<String>> {
        self.read(|c| outbox::leads_waiting(c, lead_ids))
    }

    /// The saved bytes of one document (a compact snapshot), e.g. to hand to another replica.
    pub fn document_bytes(&self, id: &str) -> Result<Vec<u8>> {
        self.read(|c| match documents::load(c, id)? {
            Some((_, mut d, _)) => Ok(d.save()),
            None => Err(Error::NotFound { kind: "document", id: id.to_string() }),
        })
    }

    /// Sorted change hashes of a document, its identity for convergence checks.
    pub fn document_heads(&self, id: &str) -> Result<Vec<String>> {
        self.read(|c| match documents::load(c, id)? {
            Some((_, mut d, _)) => {
                let mut h: Vec<String> = d.get_heads().iter().map(|h| h.to_string()).collect();
                h.sort();
                Ok(h)
            }
            None => Err(Error::NotFound { kind: "document", id: id.to_string() }),
        })
    }

    /// Ids and kinds of every document in the store.
    pub fn document_ids(&self) -> Result<Vec<(String, DocKind)>> {
        self.read(documents::all_ids)
    }

    /// Hashes of every change this device wrote that its documents hold.
    pub fn local_change_hashes(&self) -> Result<Vec<String>> {
        self.read(|c| {
            let mut out = Vec::new();
            for (id, _) in documents::all_ids(c)? {
                if let Some((_, mut d, _)) = documents::load(c, &id)? {
                    out.extend(
                        d.get_changes(&[])
                            .iter()
                            .filter(|ch| ch.actor_id() == &self.actor)
                            .map(|ch| ch.hash().to_string()),
                    );
                }
            }
            out.sort();
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{ActivityDraft, ActivityKind, LeadDraft, LeadPatch};
    use crate::store::{ChangedRecords, OpenOptions, Store};

    #[test]
    fn marks_follow_the_outbox_of_a_lead_and_its_activities() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path().join("s.db"), OpenOptions::new("kim")).unwrap();
        let a = s.create_lead(LeadDraft { name: Some("a".into()), ..Default::default() }).unwrap();
        let b = s.create_lead(LeadDraft { name: Some("b".into()), ..Default::default() }).unwrap();
        let ids = vec![a.id.clone(), b.id.clone()];
        let mut marked = s.unsynced_leads(&ids).unwrap();
        marked.sort();
        let mut want = ids.clone();
        want.sort();
        assert_eq!(marked, want);
        // The server acknowledges everything: no marks, nothing waiting.
        let hashes: Vec<String> = s.outbox(0, 1000).unwrap().into_iter().map(|e| e.hash).collect();
        s.ack_outbox(&hashes).unwrap();
        assert!(s.unsynced_leads(&ids).unwrap().is_empty());
        assert_eq!(s.sync_status().unwrap().waiting, 0);
        // A new activity marks its lead only.
        s.add_activity(ActivityDraft::new(b.id.clone(), ActivityKind::Call, "call")).unwrap();
        assert_eq!(s.unsynced_leads(&ids).unwrap(), vec![b.id.clone()]);
        assert_eq!(s.sync_status().unwrap().waiting, 1);
        assert!(s.unsynced_leads(&[]).unwrap().is_empty());
    }

    #[test]
    fn observers_hear_of_records_whose_changes_were_all_acknowledged() {
        use std::sync::{Arc, Mutex};
        struct Heard(Mutex<Vec<ChangedRecords>>);
        impl crate::store::ChangeObserver for Heard {
            fn changed(&self, c: &ChangedRecords) {
                self.0.lock().unwrap().push(c.clone());
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path().join("s.db"), OpenOptions::new("kim")).unwrap();
        let a = s.create_lead(LeadDraft { name: Some("a".into()), ..Default::default() }).unwrap();
        let call =
            s.add_activity(ActivityDraft::new(a.id.clone(), ActivityKind::Call, "call")).unwrap();
        let patch = LeadPatch { company: Some("Acme".into()), ..Default::default() };
        s.update_lead(&a.id, patch).unwrap();
        let heard = Arc::new(Heard(Mutex::new(Vec::new())));
        s.add_observer(heard.clone());
        let outbox = s.outbox(0, 1000).unwrap();
        let first_of_lead = outbox.iter().find(|e| e.doc_id == a.id).unwrap().hash.clone();
        // One of the lead's two changes: it still waits, nothing to tell.
        assert_eq!(s.ack_outbox(std::slice::from_ref(&first_of_lead)).unwrap(), 1);
        assert!(heard.0.lock().unwrap().is_empty());
        // The rest, and one hash again: the lead and the call have nothing waiting now.
        let mut rest: Vec<String> = outbox.into_iter().map(|e| e.hash).collect();
        rest.retain(|h| *h != first_of_lead);
        rest.push(first_of_lead);
        assert_eq!(s.ack_outbox(&rest).unwrap(), 2);
        let heard = heard.0.lock().unwrap();
        assert_eq!(heard.len(), 1);
        assert_eq!(heard[0].leads, vec![a.id.clone()]);
        assert_eq!(heard[0].activities, vec![call.id.clone()]);
    }

    #[test]
    fn the_server_saves_a_captured_lead_to_the_very_bytes_the_device_holds() {
        // The server applies the device's one change to a new document and saves it
        // uncompressed; a first sync's bootstrap brings that back, and it is skipped unread only
        // if the device holds the same bytes. With long notes, `save()` would deflate them.
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path().join("s.db"), OpenOptions::new("kim")).unwrap();
        let notes = "Met at the booth; wants a demo for the Busan plant next month. ".repeat(12);
        let draft =
            LeadDraft { name: Some("Kim".into()), notes: Some(notes), ..Default::default() };
        let l = s.create_lead(draft).unwrap();
        let mut sent = s.outbox(0, 10).unwrap();
        let change = automerge::Change::from_bytes(sent.remove(0).change).unwrap();
        let mut server = automerge::AutoCommit::new();
        server.apply_changes([change]).unwrap();
        let from_server = server.save_nocompress();
        assert_ne!(server.save(), from_server, "the notes are long enough to be deflated");
        assert!(s.read(|c| super::documents::holds_exactly(c, &l.id, &from_server)).unwrap());
    }

    #[test]
    fn last_synced_is_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let s = Store::open(&path, OpenOptions::new("kim")).unwrap();
        assert_eq!(s.sync_status().unwrap().last_synced_at, None);
        s.mark_synced().unwrap();
        let at = s.sync_status().unwrap().last_synced_at.unwrap();
        assert!(at > 0);
        drop(s);
        let s = Store::open(&path, OpenOptions::new("kim")).unwrap();
        assert_eq!(s.sync_status().unwrap().last_synced_at, Some(at));
    }
}
