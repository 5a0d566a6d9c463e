//! `FieldStore`: the local store as a uniffi object. Every method is a direct call of the core
//! `Store`; they block on SQLite (a few ms at most for lists and edits), so foreign callers run
//! them off the UI thread (the Kotlin and Swift layers do).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use fieldsales_core as core;
use fieldsales_core::{OpenOptions, Store, Warming};

use crate::FieldsalesError;
use crate::types::{
    ImportResult, LeadPage, QuarantineEntry, RemoteDocument, ReportPeriod, SalesReport,
    VerifyReport,
};
use fieldsales_core::{ChangedRecords, LeadDetail, MergeReport};

type Result<T> = std::result::Result<T, FieldsalesError>;

/// One user's local store: a SQLite file holding their leads and activities.
///
/// Thread-safe: share one per store file in the app. It closes when the last reference goes
/// (Kotlin `close()`, Swift release); a running sync keeps it open until it ends.
#[derive(uniffi::Object)]
pub struct FieldStore {
    /// Declared first, so dropped first: closing waits for the capture rehearsal of the open.
    _warming: Warming,
    pub(crate) store: Arc<Store>,
}

impl FieldStore {
    pub(crate) fn open_with(path: String, opts: OpenOptions) -> Result<Arc<Self>> {
        let (store, warming) = Store::open_warm(path, opts)?;
        Ok(Arc::new(FieldStore { _warming: warming, store }))
    }

    fn report_for(
        &self,
        period: ReportPeriod,
        now_ms: i64,
        time_zone: String,
        owners: Option<Vec<String>>,
    ) -> Result<SalesReport> {
        let zone = core::Zone::parse(&time_zone)?;
        let mut q = self.store.report_query(period.resolve(now_ms, &zone)?, now_ms)?;
        q.owners = owners;
        Ok((self.store.report(&q)?, self.store.performance(&q)?).into())
    }

    /// The core store, for Rust callers (tests, benchmarks).
    pub fn core(&self) -> &Store {
        &self.store
    }
}

#[uniffi::export]
impl FieldStore {
    /// Opens the store at `path`, creating it if needed. `region` (ISO 3166, e.g. "KR") is how
    /// phone numbers typed without a country code are read.
    #[uniffi::constructor]
    pub fn open(path: String, user_id: String, region: String) -> Result<Arc<Self>> {
        Self::open_with(path, OpenOptions::new(user_id).region(region))
    }

    /// Like `open`, and a new store writes with `actor_id` (the one a device enrolled with, see
    /// `newActorId`). An existing store keeps its own actor.
    #[uniffi::constructor]
    pub fn open_with_actor(
        path: String,
        user_id: String,
        region: String,
        actor_id: String,
    ) -> Result<Arc<Self>> {
        Self::open_with(path, OpenOptions::new(user_id).region(region).actor(actor_id))
    }

    pub fn path(&self) -> String {
        self.store.path().to_string_lossy().into_owned()
    }

    pub fn user_id(&self) -> String {
        self.store.user_id().to_string()
    }

    /// Hex of this device's Automerge actor id; enrollment binds it to the device.
    pub fn actor_id(&self) -> String {
        self.store.actor_id()
    }

    pub fn region(&self) -> String {
        self.store.validator().region().to_string()
    }

    /// The role this store was enrolled with (`rep`, `manager`, `admin`); `None` before
    /// enrollment. The shells show the Team screen to managers and admins only.
    pub fn role(&self) -> Result<Option<String>> {
        Ok(self.store.role()?)
    }

    // ---- leads ----------------------------------------------------------------------------

    /// Captures a lead. Validates and normalises first (E.164 phones, lower-case e-mails,
    /// ISO 4217 currencies); a `Validation` error means nothing was written.
    pub fn create_lead(&self, draft: core::LeadDraft) -> Result<core::Lead> {
        Ok(self.store.create_lead(draft)?)
    }

    /// Creates many leads in one transaction: all of them, or none on the first invalid draft.
    pub fn create_leads(&self, drafts: Vec<core::LeadDraft>) -> Result<Vec<core::Lead>> {
        Ok(self.store.create_leads(drafts)?)
    }

    /// Applies an edit: only the fields the patch sets (or `clear`s) are written.
    pub fn update_lead(&self, id: String, patch: core::LeadPatch) -> Result<core::Lead> {
        Ok(self.store.update_lead(&id, patch)?)
    }

    /// Moves a lead to the bin (restorable).
    pub fn delete_lead(&self, id: String) -> Result<core::Lead> {
        Ok(self.store.delete_lead(&id)?)
    }

    pub fn restore_lead(&self, id: String) -> Result<core::Lead> {
        Ok(self.store.restore_lead(&id)?)
    }

    /// The full lead, with `conflicts`.
    pub fn lead(&self, id: String) -> Result<core::Lead> {
        Ok(self.store.lead(&id)?)
    }

    /// The lead with its activities, newest first.
    pub fn lead_detail(&self, id: String) -> Result<LeadDetail> {
        Ok(self.store.lead_detail(&id)?)
    }

    /// One page of the lead list: filters, sort and keyset paging from `query`.
    pub fn list_leads(&self, query: core::LeadQuery) -> Result<LeadPage> {
        Ok(self.store.list_leads(&query)?.into())
    }

    /// Full-text search; every word typed matches as a prefix ("acm" finds "Acme", "김철" finds
    /// "김철수"). `limit` 0 means 50.
    pub fn search_leads(&self, text: String, limit: u32) -> Result<Vec<core::LeadSummary>> {
        Ok(self.store.search_leads(&text, limit)?)
    }

    /// The store user's follow-ups: overdue at `now_ms`, due later that local day, and due in
    /// the next seven days, in `time_zone` (an IANA name such as `Asia/Seoul`, or `+09:00`).
    pub fn follow_ups(&self, now_ms: i64, time_zone: String) -> Result<core::FollowUps> {
        let zone = core::Zone::parse(&time_zone)?;
        Ok(self.store.follow_ups(self.store.user_id(), now_ms, &zone)?)
    }

    /// The store user's next `limit` reminder times at or after `now_ms`, soonest first: what
    /// the app schedules as local notifications (again after every sync or edit).
    pub fn reminders(&self, now_ms: i64, limit: u32) -> Result<Vec<core::FollowUp>> {
        Ok(self.store.reminders(self.store.user_id(), now_ms, limit)?)
    }

    // ---- activities -----------------------------------------------------------------------

    pub fn add_activity(&self, draft: core::ActivityDraft) -> Result<core::Activity> {
        Ok(self.store.add_activity(draft)?)
    }

    pub fn update_activity(
        &self,
        id: String,
        patch: core::ActivityPatch,
    ) -> Result<core::Activity> {
        Ok(self.store.update_activity(&id, patch)?)
    }

    pub fn complete_activity(&self, id: String) -> Result<core::Activity> {
        Ok(self.store.complete_activity(&id)?)
    }

    pub fn delete_activity(&self, id: String) -> Result<core::Activity> {
        Ok(self.store.delete_activity(&id)?)
    }

    pub fn activity(&self, id: String) -> Result<core::Activity> {
        Ok(self.store.activity(&id)?)
    }

    /// A lead's activities, newest first, deleted ones left out.
    pub fn activities_for_lead(&self, lead_id: String) -> Result<Vec<core::Activity>> {
        Ok(self.store.activities_for_lead(&lead_id)?)
    }

    // ---- capture, duplicates, import ---------------------------------------------------------

    /// Reads a scanned badge or business-card QR code (vCard 2.1/3.0/4.0, MECARD, a web
    /// address, an e-mail or a phone link) into a draft for the rep to review; nothing is saved.
    /// Throws `UnreadableCode` with a message for the rep when the code is not a contact.
    pub fn parse_qr(&self, text: String) -> Result<core::capture::CaptureDraft> {
        core::capture::parse_qr(&text, self.store.validator()).map_err(FieldsalesError::from)
    }

    /// Reads the text a phone's OCR returns for a business card into a best-effort draft, with a
    /// confidence per field (below about 0.8: ask the rep to check it); nothing is saved.
    pub fn parse_card_text(&self, text: String) -> core::capture::CaptureDraft {
        core::capture::parse_card_text(&text, self.store.validator())
    }

    /// Likely duplicates among the leads this store holds: same e-mail, same phone, or the same
    /// name at the same company. Run it after captures and after every sync.
    pub fn duplicates(&self) -> Result<Vec<core::duplicates::DuplicateGroup>> {
        Ok(self.store.duplicates()?)
    }

    /// The groups `lead_id` belongs to, e.g. right after a capture ("this visitor was scanned
    /// before").
    pub fn duplicates_of(&self, lead_id: String) -> Result<Vec<core::duplicates::DuplicateGroup>> {
        Ok(self.store.duplicates_of(&lead_id)?)
    }

    /// Folds `other_id` into `keep_id` (fields `keep` lacks, tags, notes, all activities),
    /// records the merge on both and soft-deletes `other`; nothing is lost.
    pub fn merge_leads(&self, keep_id: String, other_id: String) -> Result<core::Lead> {
        Ok(self.store.merge_leads(&keep_id, &other_id)?)
    }

    /// Imports leads from a CSV file (columns mapped from common CRM export headers). With
    /// `dry_run` nothing is written and every row is checked; otherwise one bad row imports
    /// nothing unless `skip_invalid`. Amounts without a currency column use `default_currency`.
    pub fn import_csv(
        &self,
        csv: Vec<u8>,
        dry_run: bool,
        default_currency: Option<String>,
        skip_invalid: bool,
    ) -> Result<ImportResult> {
        let opts =
            core::import::ImportOptions { mapping: None, dry_run, default_currency, skip_invalid };
        Ok(self.store.import_csv_with(csv.as_slice(), opts)?.into())
    }

    // ---- reports, sales process, targets, plans ---------------------------------------------

    /// The store user's own report for `period` (the week, month or quarter holding `now_ms` in
    /// `time_zone`, an IANA name such as `Asia/Seoul`, or a custom range): figures, targets' attainment and
    /// commission of their own leads, with the workspace's win probabilities. Leads idle for 14
    /// days are "going cold".
    pub fn my_report(
        &self,
        period: ReportPeriod,
        now_ms: i64,
        time_zone: String,
    ) -> Result<SalesReport> {
        self.report_for(period, now_ms, time_zone, Some(vec![self.store.user_id().to_string()]))
    }

    /// The team's report for `period`: every lead on this device (a manager's device holds the
    /// team's), with each rep's figures, every target's attainment and each rep's commission.
    pub fn team_report(
        &self,
        period: ReportPeriod,
        now_ms: i64,
        time_zone: String,
    ) -> Result<SalesReport> {
        self.report_for(period, now_ms, time_zone, None)
    }

    /// The workspace's sales process: every stage with its display name, win probability (basis
    /// points) and required fields, defaults filled in.
    pub fn sales_settings(&self) -> Result<core::SalesSettings> {
        Ok(self.store.sales_settings()?)
    }

    /// Changes one stage's settings (managers and admins; `Forbidden` for a rep). Returns the
    /// whole process as it now is. The rules apply to later lead writes on this device: a move
    /// into the stage without a required field throws `Validation`.
    pub fn set_stage(
        &self,
        stage: core::Stage,
        patch: core::StagePatch,
    ) -> Result<core::SalesSettings> {
        Ok(self.store.set_stage(stage, patch)?)
    }

    /// Sets a rep's or team's target for a period: the live target with the same subject, metric
    /// and period gets the new value, otherwise one is created (managers and admins).
    pub fn set_target(&self, draft: core::TargetDraft) -> Result<core::SalesTarget> {
        Ok(self.store.set_target(draft)?)
    }

    /// Live targets whose period overlaps `[from_ms, to_ms)`.
    pub fn targets(&self, from_ms: i64, to_ms: i64) -> Result<Vec<core::SalesTarget>> {
        Ok(self.store.targets(from_ms, to_ms)?)
    }

    /// Moves a target to the bin (managers and admins).
    pub fn delete_target(&self, id: String) -> Result<core::SalesTarget> {
        Ok(self.store.delete_target(&id)?)
    }

    /// Sets a rep's compensation plan: base pay, commission rate, and tiers above a share of the
    /// quota (managers and admins; a manager's own plan is set by an admin).
    pub fn set_plan(&self, draft: core::CompPlanDraft) -> Result<core::CompPlan> {
        Ok(self.store.set_plan(draft)?)
    }

    /// The plans this device holds, one per rep (a rep's device holds only the rep's own).
    pub fn plans(&self) -> Result<Vec<core::CompPlan>> {
        Ok(self.store.plans()?)
    }

    // ---- sync state -----------------------------------------------------------------------

    /// Changes the server refused, kept aside.
    pub fn quarantine(&self) -> Result<Vec<QuarantineEntry>> {
        Ok(self.store.quarantine()?.into_iter().map(Into::into).collect())
    }

    /// Local changes not yet acknowledged by a server.
    pub fn pending_upload_count(&self) -> Result<i64> {
        Ok(self.store.outbox_len()?)
    }

    /// Whether sync credentials are saved in this store.
    pub fn is_enrolled(&self) -> bool {
        core::sync::SyncClient::for_store(&self.store).is_ok()
    }

    /// Saves what `enroll` returned, so that `sync` needs nothing else.
    pub fn save_credentials(&self, credentials: core::sync::Credentials) -> Result<()> {
        Ok(core::sync::SyncClient::save_credentials(&self.store, &credentials)?)
    }

    // ---- merge (without a server) -----------------------------------------------------------

    /// A compact snapshot of one document, to hand to another replica's `applyRemote`.
    pub fn document_bytes(&self, id: String) -> Result<Vec<u8>> {
        Ok(self.store.document_bytes(&id)?)
    }

    /// Merges documents from another replica in one transaction. Concurrent edits of one field
    /// show up as `Lead.conflicts`. Malformed bytes reject the whole batch, unwritten.
    pub fn apply_remote(&self, documents: Vec<RemoteDocument>) -> Result<MergeReport> {
        Ok(self.store.apply_remote(documents.into_iter().map(Into::into).collect())?)
    }

    // ---- maintenance ----------------------------------------------------------------------

    /// Recomputes every projection from its document and compares.
    pub fn verify(&self) -> Result<VerifyReport> {
        Ok(self.store.verify()?.into())
    }

    /// Folds appended changes into their documents and reclaims space; returns how many
    /// documents were folded.
    pub fn compact(&self) -> Result<u64> {
        Ok(self.store.compact()? as u64)
    }

    // ---- observers ------------------------------------------------------------------------

    /// Registers `listener`; it is told after every committed write or merge which records
    /// changed, on the thread that wrote. Returns a handle for `removeObserver`. The store holds
    /// the listener until then.
    pub fn add_observer(&self, listener: Arc<dyn ChangeListener>) -> u64 {
        self.store.add_observer(Arc::new(Forward(listener)))
    }

    pub fn remove_observer(&self, handle: u64) {
        self.store.remove_observer(handle)
    }
}

/// Told which leads and activities changed, after a local write or a merge from sync, so a
/// list on screen refreshes without polling. Implemented in Kotlin or Swift.
#[uniffi::export(foreign)]
pub trait ChangeListener: Send + Sync {
    fn on_change(&self, changed: ChangedRecords);
}

struct Forward(Arc<dyn ChangeListener>);

impl core::ChangeObserver for Forward {
    fn changed(&self, changed: &core::ChangedRecords) {
        // The write has committed; a listener that throws must not turn it into an error.
        let _ = catch_unwind(AssertUnwindSafe(|| self.0.on_change(changed.clone())));
    }
}

/// A fresh random actor id (hex) for a device that enrolls before its store exists.
#[uniffi::export]
pub fn new_actor_id() -> String {
    core::store::new_actor().to_hex_string()
}

/// The user a store file belongs to, without opening it for writing; `None` if there is no
/// store at `path` yet.
#[uniffi::export]
pub fn peek_store_user(path: String) -> Result<Option<String>> {
    Ok(Store::peek_user(path)?)
}
