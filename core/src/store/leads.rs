//! The store's API for leads and activities: capture, edit, delete and restore, open one, fold
//! two duplicates together, settle a conflict, import a CSV file. Also the write path every
//! record takes: a new document, or an edit of a stored one, stored with its outbox row and
//! projection in one transaction.

use std::io::Read;

use automerge::{AutoCommit, ChangeHash};
use rusqlite::Connection;

use super::record::{ChangedRecords, Record};
use super::{Store, ahead, documents, outbox, read};
use crate::doc::{self, DocKind};
use crate::error::{Error, Result, ValidationError};
use crate::import::{ColumnMapping, ImportOptions, ImportReport};
use crate::model::{
    Activity, ActivityDraft, ActivityPatch, Lead, LeadDetail, LeadDraft, LeadPatch, Millis, new_id,
    parse_id,
};
use crate::{conflicts, duplicates, import, validate};

/// A record made on this device, ready to store: its saved document and its one change.
pub(crate) struct New {
    pub(crate) id: String,
    pub(crate) kind: DocKind,
    pub(crate) record: Record,
    hash: ChangeHash,
    saved: Vec<u8>,
}

impl New {
    /// Reads back a document `doc::*::create` made and committed.
    pub(crate) fn of(d: AutoCommit, id: &str, kind: DocKind) -> Result<New> {
        let record = Record::read(&d, id, kind)?;
        New::made(d, id, record)
    }

    /// A document `doc::*::create` made and committed, with the record it holds.
    pub(crate) fn made(mut d: AutoCommit, id: &str, record: Record) -> Result<New> {
        let hash = d.get_heads().pop().ok_or_else(|| Error::corrupt(id, "no change was made"))?;
        Ok(New {
            id: id.to_string(),
            kind: record.kind(),
            record,
            hash,
            saved: documents::saved(&mut d),
        })
    }
}

/// Whether drafts still need `Validator::lead_draft` (as a person or an app typed them) or
/// have had it with this store's validator already (an import's rows, checked before any is
/// written: validating again would parse each phone number a third time).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Drafts {
    AsTyped,
    Validated,
}

impl Store {
    /// Captures a new lead: one document, its projection and its outbox row in one transaction.
    pub fn create_lead(&self, draft: LeadDraft) -> Result<Lead> {
        let mut leads = self.create_leads(vec![draft])?;
        leads.pop().ok_or_else(|| Error::corrupt("lead", "create returned nothing"))
    }

    /// Creates many leads in one transaction: all of them or, on the first invalid draft, none.
    /// A draft whose id already exists is an error, so a retried import reports rather than
    /// duplicates.
    pub fn create_leads(&self, drafts: Vec<LeadDraft>) -> Result<Vec<Lead>> {
        self.create_leads_as(drafts, Drafts::AsTyped)
    }

    fn create_leads_as(&self, drafts: Vec<LeadDraft>, given: Drafts) -> Result<Vec<Lead>> {
        let now = self.now();
        // The workspace's stage rules apply to local writes only (see `store/sales.rs`).
        let settings = self.sales_settings()?;
        // Building documents is CPU work independent per lead: a large import builds them on
        // every core while this thread stores each one, in the drafts' order, in one
        // transaction. A draft that fails stops the import there and nothing is stored.
        let build = |i: usize| self.new_lead(drafts[i].clone(), given, &settings, now);
        let threads = ahead::threads(drafts.len(), 256, 8);
        let built = ahead::run(drafts.len(), threads, build, |ahead| {
            self.write(|tx| {
                let mut built = Vec::with_capacity(drafts.len());
                for i in 0..drafts.len() {
                    let new = ahead
                        .take(i)
                        .ok_or_else(|| Error::corrupt("import", "a worker thread panicked"))??;
                    self.insert_new_lead(tx, &new)?;
                    built.push(new);
                }
                Ok(built)
            })
        })?;
        self.notify(ChangedRecords {
            leads: built.iter().map(|n| n.id.clone()).collect(),
            ..Default::default()
        });
        built.into_iter().map(|n| n.record.into_lead(&n.id)).collect()
    }

    /// Applies an edit. Only the fields the patch names are written, so edits of other fields
    /// made elsewhere merge untouched. An edit that changes nothing writes nothing.
    pub fn update_lead(&self, id: &str, mut patch: LeadPatch) -> Result<Lead> {
        self.validator.lead_patch(&mut patch)?;
        let id = parse_id("lead id", id)?;
        let now = self.now();
        let settings = self.sales_settings()?;
        // The lead as it was, to tell a rule this edit breaks from one it broke already; read
        // only when the workspace has rules at all.
        let before: std::cell::RefCell<Option<Lead>> = std::cell::RefCell::new(None);
        let rec = self.edit(
            &id,
            DocKind::Lead,
            |doc| {
                if settings.has_rules() {
                    *before.borrow_mut() = Some(doc::lead::read(doc, &id)?);
                }
                doc::lead::apply_patch(doc, &patch, &self.user, now)
            },
            |rec| match rec {
                Record::Lead(l)
                    if l.name.is_none()
                        && l.company.is_none()
                        && l.emails.is_empty()
                        && l.phones.is_empty() =>
                {
                    Err(ValidationError::EmptyLead.into())
                }
                Record::Lead(l) if settings.has_rules() => {
                    Ok(settings.check(before.borrow().as_ref(), l)?)
                }
                _ => Ok(()),
            },
        )?;
        rec.into_lead(&id)
    }

    pub fn delete_lead(&self, id: &str) -> Result<Lead> {
        let id = parse_id("lead id", id)?;
        self.set_deleted(DocKind::Lead, &id, true)?.into_lead(&id)
    }

    pub fn restore_lead(&self, id: &str) -> Result<Lead> {
        let id = parse_id("lead id", id)?;
        self.set_deleted(DocKind::Lead, &id, false)?.into_lead(&id)
    }

    /// The full lead, read from its document (with conflicts).
    pub fn lead(&self, id: &str) -> Result<Lead> {
        let id = parse_id("lead id", id)?;
        self.read(|c| read_record(c, DocKind::Lead, &id))?.into_lead(&id)
    }

    pub fn lead_detail(&self, id: &str) -> Result<LeadDetail> {
        let id = parse_id("lead id", id)?;
        self.read(|c| {
            let lead = read_record(c, DocKind::Lead, &id)?.into_lead(&id)?;
            Ok(LeadDetail { lead, activities: activities_of(c, &id)? })
        })
    }

    /// Keeps value number `choice` of the conflict on `field` of a lead (0 is the one every
    /// replica shows now) by writing it again; the conflict is gone here at once and on the
    /// other devices after they sync. `NotFound` when the field has no conflict (any more).
    pub fn resolve_conflict(&self, lead_id: &str, field: &str, choice: u32) -> Result<Lead> {
        let id = parse_id("lead id", lead_id)?;
        let lead = self.lead(&id)?;
        let value = lead
            .conflicts
            .iter()
            .find(|c| c.field == field)
            .and_then(|c| c.values.get(choice as usize))
            .ok_or_else(|| Error::NotFound {
                kind: "conflict",
                id: format!("{id} {field} #{choice}"),
            })?;
        if field == "deleted" {
            return if value == "true" { self.delete_lead(&id) } else { self.restore_lead(&id) };
        }
        let patch = conflicts::patch_for(&lead, field, value)?;
        self.update_lead(&id, patch)
    }

    /// Folds `other` into `keep` in one transaction: empty fields of `keep` are filled from
    /// `other`, e-mails, phones, tags and custom fields are united, notes appended, every
    /// activity of `other` moves to `keep`, the merge is recorded on both, and `other` is
    /// soft-deleted (restorable, its document intact). Nothing is lost.
    pub fn merge_leads(&self, keep_id: &str, other_id: &str) -> Result<Lead> {
        let keep_id = parse_id("lead id", keep_id)?;
        let other_id = parse_id("lead id", other_id)?;
        if keep_id == other_id {
            return Err(ValidationError::Invalid {
                field: "merge",
                reason: "a lead cannot be merged with itself".into(),
            }
            .into());
        }
        let (keep, other) = (self.lead(&keep_id)?, self.lead(&other_id)?);
        if other.deleted || keep.deleted {
            return Err(ValidationError::Invalid {
                field: "merge",
                reason: "restore a deleted lead before merging it".into(),
            }
            .into());
        }
        let mut patch = duplicates::merge_patch(&keep, &other);
        self.validator.lead_patch(&mut patch)?;
        let activities: Vec<String> =
            self.activities_for_lead(&other_id)?.into_iter().map(|a| a.id).collect();
        let user = self.user.clone();
        let now = self.now();
        self.write(|tx| {
            let mut keep_doc = self.edit_begin(tx, &keep_id, DocKind::Lead)?;
            let mut other_doc = self.edit_begin(tx, &other_id, DocKind::Lead)?;
            doc::lead::apply_patch(&mut keep_doc.0, &patch, &user, now)?;
            doc::lead::record_merge(
                &mut keep_doc.0,
                &mut other_doc.0,
                &keep_id,
                &other_id,
                &user,
                now,
            )?;
            self.edit_finish(tx, &keep_id, DocKind::Lead, keep_doc, now)?;
            self.edit_finish(tx, &other_id, DocKind::Lead, other_doc, now)?;
            for a in &activities {
                let mut d = self.edit_begin(tx, a, DocKind::Activity)?;
                doc::activity::move_to_lead(&mut d.0, &keep_id, &user, now)?;
                self.edit_finish(tx, a, DocKind::Activity, d, now)?;
            }
            Ok(())
        })?;
        self.notify(ChangedRecords {
            leads: vec![keep_id.clone(), other_id.clone()],
            activities,
            ..Default::default()
        });
        self.lead(&keep_id).map_err(|e| match e {
            Error::NotFound { .. } => {
                Error::corrupt(&keep_id, "the kept lead vanished during the merge")
            }
            e => e,
        })
    }

    /// Imports leads from CSV; see [`Store::import_csv_with`]. `mapping` overrides the detected
    /// one; `default_currency` is used for amounts whose row names no currency.
    pub fn import_csv(
        &self,
        input: impl Read,
        mapping: Option<ColumnMapping>,
        dry_run: bool,
        default_currency: Option<&str>,
    ) -> Result<ImportReport> {
        self.import_csv_with(
            input,
            ImportOptions {
                mapping,
                dry_run,
                default_currency: default_currency.map(str::to_string),
                skip_invalid: false,
            },
        )
    }

    /// Reads every row, reports each row's problems, and (unless a dry run) writes the valid
    /// rows in one transaction through [`Store::create_leads`] — none of them when any row
    /// failed, unless `skip_invalid`. Row problems are in the report, not an `Err`; an `Err` is
    /// a file that cannot be read as CSV, a mapping that names a column the file lacks, a bad
    /// default currency, or a storage failure (nothing is written then either).
    pub fn import_csv_with(&self, input: impl Read, opts: ImportOptions) -> Result<ImportReport> {
        let exists = |id: &str| documents::exists(&self.reader(), id);
        let mut checked = import::check(input, &opts, &self.validator, &exists)?;
        match checked.take_drafts(&opts) {
            Some(drafts) => {
                let written = self.create_leads_as(drafts, Drafts::Validated);
                checked.finish(written)
            }
            None => Ok(checked.report),
        }
    }

    pub fn add_activity(&self, mut draft: ActivityDraft) -> Result<Activity> {
        validate::activity_draft(&mut draft)?;
        let now = self.now();
        let id = draft.id.clone().unwrap_or_else(new_id);
        let d = doc::activity::create(self.actor.clone(), &id, &draft, &self.user, now)?;
        let lead_id = draft.lead_id.as_str();
        let new = New::of(d, &id, DocKind::Activity)?;
        self.insert_one(new, |tx| {
            if documents::kind(tx, lead_id)? != Some(DocKind::Lead) {
                return Err(Error::NotFound { kind: "lead", id: lead_id.to_string() });
            }
            if documents::exists(tx, &id)? {
                return Err(Error::Exists { kind: "activity", id: id.clone() });
            }
            Ok(())
        })?
        .into_activity(&id)
    }

    pub fn update_activity(&self, id: &str, mut patch: ActivityPatch) -> Result<Activity> {
        validate::activity_patch(&mut patch)?;
        let id = parse_id("activity id", id)?;
        let now = self.now();
        self.edit(
            &id,
            DocKind::Activity,
            |d| doc::activity::apply_patch(d, &patch, &self.user, now),
            |_| Ok(()),
        )?
        .into_activity(&id)
    }

    pub fn complete_activity(&self, id: &str) -> Result<Activity> {
        self.update_activity(id, ActivityPatch { done: Some(true), ..Default::default() })
    }

    pub fn delete_activity(&self, id: &str) -> Result<Activity> {
        let id = parse_id("activity id", id)?;
        self.set_deleted(DocKind::Activity, &id, true)?.into_activity(&id)
    }

    pub fn activity(&self, id: &str) -> Result<Activity> {
        let id = parse_id("activity id", id)?;
        self.read(|c| read_record(c, DocKind::Activity, &id))?.into_activity(&id)
    }

    /// Activities of one lead, newest first, deleted ones left out.
    pub fn activities_for_lead(&self, lead_id: &str) -> Result<Vec<Activity>> {
        let lead_id = parse_id("lead id", lead_id)?;
        self.read(|c| activities_of(c, &lead_id))
    }

    // ---- the write path ------------------------------------------------------------------

    /// Stores a record made on this device in a transaction of its own, after `check` (run in
    /// that transaction) lets it, and tells the observers.
    pub(crate) fn insert_one(
        &self,
        new: New,
        check: impl FnOnce(&Connection) -> Result<()>,
    ) -> Result<Record> {
        self.write(|tx| {
            check(tx)?;
            self.insert_new(tx, &new)
        })?;
        self.notify(ChangedRecords::one(new.kind, &new.id));
        Ok(new.record)
    }

    /// A validated draft made into its document and record, checked against the stage rules.
    fn new_lead(
        &self,
        mut d: LeadDraft,
        given: Drafts,
        settings: &crate::model::SalesSettings,
        now: Millis,
    ) -> Result<New> {
        if given == Drafts::AsTyped {
            self.validator.lead_draft(&mut d)?;
        }
        let id = d.id.clone().unwrap_or_else(new_id);
        let doc = doc::lead::create(self.actor.clone(), &id, &d, &self.user, now)?;
        let lead = doc::lead::created_record(&id, &d, &self.user, now);
        settings.check(None, &lead)?;
        New::made(doc, &id, Record::Lead(Box::new(lead)))
    }

    /// Runs a capture of a sample lead to its last statement and rolls it back, so that the
    /// rep's first capture finds what the second would: the writer's statements prepared,
    /// FTS5's per-connection state and the touched index pages loaded, the document code run.
    /// Nothing is stored, queued or announced.
    pub(crate) fn rehearse_capture(&self) -> Result<()> {
        let now = self.now();
        let settings = self.sales_settings()?;
        let sample = LeadDraft {
            name: Some("Warm Up".into()),
            company: Some("Fieldsales".into()),
            title: Some("Sample".into()),
            emails: vec!["warm.up@example.com".into()],
            phones: vec![self.validator.example_number().into()],
            event: Some("Warm up".into()),
            tags: vec!["warm-up".into()],
            notes: Some("Rolled back.".into()),
            ..LeadDraft::default()
        };
        let new = self.new_lead(sample, Drafts::AsTyped, &settings, now)?;
        self.write_rolled_back(|tx| self.insert_new_lead(tx, &new))
    }

    /// `insert_new` for a lead, refused when its id is taken (a retried import).
    fn insert_new_lead(&self, tx: &Connection, new: &New) -> Result<()> {
        if documents::exists(tx, &new.id)? {
            return Err(Error::Exists { kind: "lead", id: new.id.clone() });
        }
        self.insert_new(tx, new)
    }

    /// Stores a record made on this device: its document, its outbox row, its projection.
    pub(crate) fn insert_new(&self, tx: &Connection, new: &New) -> Result<()> {
        documents::insert(tx, &new.id, new.kind, &new.saved)?;
        outbox::push(tx, &new.id, new.kind, &new.hash)?;
        new.record.project(tx, &self.validator, true)
    }

    /// Moves a record to the bin or back: its `deleted` flag written, nothing else.
    pub(crate) fn set_deleted(&self, kind: DocKind, id: &str, deleted: bool) -> Result<Record> {
        let now = self.now();
        self.edit(id, kind, |d| doc::set_deleted(d, deleted, &self.user, now), |_| Ok(()))
    }

    /// Loads a document, lets `f` edit it, reads the result once (for `check`, the projection
    /// and the caller), and, if something changed, stores the document, the outbox row and the
    /// projection in one SQLite transaction. An error from `f` or `check` stores nothing (the
    /// edited copy is simply dropped).
    pub(crate) fn edit(
        &self,
        id: &str,
        kind: DocKind,
        f: impl FnOnce(&mut AutoCommit) -> Result<bool>,
        check: impl FnOnce(&Record) -> Result<()>,
    ) -> Result<Record> {
        let now = self.now();
        let (rec, changed) = self.write(|tx| {
            let mut e = self.edit_begin(tx, id, kind)?;
            let changed = f(&mut e.0)?;
            let rec = Record::read(&e.0, id, kind)?;
            check(&rec)?;
            if changed && self.commit_store(tx, id, kind, &mut e, now)?.is_some() {
                rec.project(tx, &self.validator, false)?;
                return Ok((rec, true));
            }
            Ok((rec, false))
        })?;
        if changed {
            self.notify(ChangedRecords::one(kind, id));
        }
        Ok(rec)
    }

    /// Loads a document for a local edit by this device. Pair with `edit_finish` in the same
    /// transaction.
    fn edit_begin(&self, tx: &Connection, id: &str, kind: DocKind) -> Result<(AutoCommit, i64)> {
        let (mut d, tail) = documents::load_kind(tx, id, kind)?;
        d.set_actor(self.actor.clone());
        Ok((d, tail))
    }

    /// Commits the edit as one change and stores it with its outbox row and projection. Returns
    /// false (and stores nothing) when the edit changed nothing.
    fn edit_finish(
        &self,
        tx: &Connection,
        id: &str,
        kind: DocKind,
        e: (AutoCommit, i64),
        now: i64,
    ) -> Result<bool> {
        let mut e = e;
        if self.commit_store(tx, id, kind, &mut e, now)?.is_none() {
            return Ok(false);
        }
        Record::read(&e.0, id, kind)?.project(tx, &self.validator, false)?;
        Ok(true)
    }

    /// Commits the open Automerge transaction as one change and stores the saved document and
    /// the change's outbox row; `None` when there was nothing to commit.
    fn commit_store(
        &self,
        tx: &Connection,
        id: &str,
        kind: DocKind,
        e: &mut (AutoCommit, i64),
        now: i64,
    ) -> Result<Option<ChangeHash>> {
        let Some(hash) = doc::commit(&mut e.0, now) else { return Ok(None) };
        documents::store(tx, id, &mut e.0, e.1)?;
        outbox::push(tx, id, kind, &hash)?;
        Ok(Some(hash))
    }
}

/// A stored record of `kind`, read from its document.
fn read_record(c: &Connection, kind: DocKind, id: &str) -> Result<Record> {
    let (d, _) = documents::load_kind(c, id, kind)?;
    Record::read(&d, id, kind)
}

/// A lead's live activities, newest first, read from their documents.
fn activities_of(c: &Connection, lead_id: &str) -> Result<Vec<Activity>> {
    read::list::activity_ids(c, lead_id)?
        .iter()
        .map(|id| read_record(c, DocKind::Activity, id)?.into_activity(id))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use crate::model::{LeadDraft, LeadQuery};
    use crate::store::record::ChangedRecords;
    use crate::store::{ChangeObserver, OpenOptions, Store};

    struct Seen(Mutex<Vec<ChangedRecords>>);
    impl ChangeObserver for Seen {
        fn changed(&self, c: &ChangedRecords) {
            self.0.lock().unwrap().push(c.clone());
        }
    }

    #[test]
    fn a_rehearsed_capture_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path().join("s.db"), OpenOptions::new("kim").region("KR")).unwrap();
        let seen = Arc::new(Seen(Mutex::new(Vec::new())));
        s.add_observer(seen.clone());
        s.rehearse_capture().unwrap();
        s.rehearse_capture().unwrap();
        assert!(s.list_leads(&LeadQuery::default()).unwrap().items.is_empty());
        assert!(s.search_leads("warm", 50).unwrap().is_empty(), "nothing in the search index");
        assert!(s.lead_facets(10).unwrap().tags.is_empty());
        assert_eq!(s.outbox_len().unwrap(), 0, "nothing queued for the server");
        let docs: i64 =
            s.reader().query_row("SELECT count(*) FROM documents", [], |r| r.get(0)).unwrap();
        assert_eq!(docs, 0);
        assert!(seen.0.lock().unwrap().is_empty(), "nobody was told of a change");
        let lead =
            s.create_lead(LeadDraft { name: Some("김민지".into()), ..Default::default() });
        assert_eq!(lead.unwrap().name.as_deref(), Some("김민지"));
        assert_eq!(s.outbox_len().unwrap(), 1);
        assert!(s.verify().unwrap().is_ok());
    }

    #[test]
    fn a_store_opened_warm_takes_a_capture_at_once_and_holds_exactly_it() {
        let dir = tempfile::tempdir().unwrap();
        let opts = || OpenOptions::new("kim").region("KR");
        let (s, warming) = Store::open_warm(dir.path().join("s.db"), opts()).unwrap();
        // At once: while the rehearsal may still run, the capture waits for the writer.
        let lead = s
            .create_lead(LeadDraft { name: Some("Warm Up".into()), ..Default::default() })
            .unwrap();
        // Dropping the warming waits for the rehearsal; the store is then held here alone.
        drop(warming);
        assert_eq!((Arc::strong_count(&s), Arc::weak_count(&s)), (1, 0));
        assert_eq!(s.outbox_len().unwrap(), 1);
        let page = s.list_leads(&LeadQuery::default()).unwrap();
        assert_eq!(
            page.items.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
            [lead.id.as_str()]
        );
        assert_eq!(s.search_leads("warm", 50).unwrap().len(), 1);
        drop(s);
        let again = Store::open(dir.path().join("s.db"), opts()).unwrap();
        assert_eq!(again.list_leads(&LeadQuery::default()).unwrap().items.len(), 1);
    }
}
