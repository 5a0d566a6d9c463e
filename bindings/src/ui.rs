//! What the shells' screens call beyond the plain store calls: a list page with each lead's
//! "not synced" mark, a duplicate check of a capture form before saving, the sync screen's
//! status, a conflict resolved by picking a value, and a report with every figure's change
//! against the previous period. Each is one
//! core call (or two, joined into one record); the rules live in the core.

use std::collections::HashSet;

use fieldsales_core as core;
use fieldsales_core::compare::ReportChange;
use fieldsales_core::duplicates::DuplicateGroup;
use fieldsales_core::status::SyncStatus;

use crate::types::{ReportPeriod, SalesReport};
use crate::{FieldStore, FieldsalesError};

type Result<T> = std::result::Result<T, FieldsalesError>;

/// A row of the lead list: the lead as the list shows it and whether it has local changes no
/// server has yet (`summary.hasConflicts` is the conflict mark).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct LeadListItem {
    pub summary: core::LeadSummary,
    pub unsynced: bool,
}

/// One page of the list screen; pass `next` as `LeadQuery.after` for the following page.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct LeadListPage {
    pub items: Vec<LeadListItem>,
    pub next: Option<String>,
}

/// A report for a period with the previous period's and every figure's change (the team
/// screen's "▲ 5 points on last month").
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct ComparedReport {
    pub current: SalesReport,
    pub previous: SalesReport,
    pub change: ReportChange,
}

impl FieldStore {
    fn with_marks(&self, items: Vec<core::LeadSummary>) -> Result<Vec<LeadListItem>> {
        let ids: Vec<String> = items.iter().map(|l| l.id.clone()).collect();
        let waiting: HashSet<String> = self.store.unsynced_leads(&ids)?.into_iter().collect();
        Ok(items
            .into_iter()
            .map(|summary| LeadListItem { unsynced: waiting.contains(&summary.id), summary })
            .collect())
    }

    fn compared_for(
        &self,
        period: ReportPeriod,
        now_ms: i64,
        time_zone: String,
        owners: Option<Vec<String>>,
    ) -> Result<ComparedReport> {
        let zone = fieldsales_core::Zone::parse(&time_zone)?;
        let mut q = self.store.report_query(period.resolve(now_ms, &zone)?, now_ms)?;
        q.owners = owners;
        let c = self.store.compared(&q, &zone)?;
        Ok(ComparedReport {
            current: c.current.into(),
            previous: c.previous.into(),
            change: c.change,
        })
    }
}

#[uniffi::export]
impl FieldStore {
    /// `listLeads` with each lead's "not synced" mark.
    pub fn list_page(&self, query: core::LeadQuery) -> Result<LeadListPage> {
        let page = self.store.list_leads(&query)?;
        Ok(LeadListPage { items: self.with_marks(page.items)?, next: page.next })
    }

    /// `searchLeads` (every word a prefix: "김민" finds "김민지") with each lead's mark.
    pub fn search_page(&self, text: String, limit: u32) -> Result<Vec<LeadListItem>> {
        let items = self.store.search_leads(&text, limit)?;
        self.with_marks(items)
    }

    /// Which of `lead_ids` have changes no server has yet (the "not synced" mark of one lead).
    pub fn unsynced_leads(&self, lead_ids: Vec<String>) -> Result<Vec<String>> {
        Ok(self.store.unsynced_leads(&lead_ids)?)
    }

    /// The `limit` most used events and tags of live leads (0 means 50): the list's filter
    /// choices.
    pub fn lead_facets(&self, limit: u32) -> Result<core::LeadFacets> {
        Ok(self.store.lead_facets(if limit == 0 { 50 } else { limit })?)
    }

    /// Stored leads that look like the person on a capture form that is not saved yet (same
    /// e-mail, phone, or name at the company), with who captured them. Half-typed details are
    /// ignored, never refused; nothing is written.
    pub fn duplicates_of_draft(&self, draft: core::LeadDraft) -> Result<Vec<DuplicateGroup>> {
        Ok(self.store.duplicates_of_draft(&draft)?)
    }

    /// Keeps value number `choice` of the conflict on `field` (`FieldConflict.field`, e.g.
    /// "company", "deal", "source.event") by writing it again: the one-tap resolution.
    pub fn resolve_conflict(
        &self,
        lead_id: String,
        field: String,
        choice: u32,
    ) -> Result<core::Lead> {
        Ok(self.store.resolve_conflict(&lead_id, &field, choice)?)
    }

    /// Last finished sync, changes waiting, conflicted leads and quarantined changes.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        Ok(self.store.sync_status()?)
    }

    /// `teamReport` for `period` and the period before it, with every figure's change.
    pub fn team_report_compared(
        &self,
        period: ReportPeriod,
        now_ms: i64,
        time_zone: String,
    ) -> Result<ComparedReport> {
        self.compared_for(period, now_ms, time_zone, None)
    }

    /// `myReport` for `period` and the period before it, with every figure's change.
    pub fn my_report_compared(
        &self,
        period: ReportPeriod,
        now_ms: i64,
        time_zone: String,
    ) -> Result<ComparedReport> {
        let me = vec![self.store.user_id().to_string()];
        self.compared_for(period, now_ms, time_zone, Some(me))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fieldsales_core::form::FormField;

    fn open(dir: &tempfile::TempDir, user: &str) -> std::sync::Arc<FieldStore> {
        FieldStore::open(
            dir.path().join(format!("{user}.db")).to_string_lossy().into(),
            user.into(),
            "KR".into(),
        )
        .unwrap()
    }

    #[test]
    fn validation_errors_carry_their_field_across_the_ffi() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(&dir, "kim");
        let e = s
            .create_lead(core::LeadDraft {
                name: Some("김민지".into()),
                emails: vec!["kim@".into()],
                ..Default::default()
            })
            .unwrap_err();
        match e {
            FieldsalesError::Validation { message, field } => {
                assert_eq!(field, Some(FormField::Email));
                assert_eq!(message, "'kim@' is not a valid e-mail address");
            }
            e => panic!("{e:?}"),
        }
        assert!(s.list_page(core::LeadQuery::default()).unwrap().items.is_empty());
        // Other errors keep their message as before.
        let e = s.lead("0190a0a0-0000-7000-8000-000000000000".into()).unwrap_err();
        assert!(matches!(e, FieldsalesError::NotFound { .. }), "{e:?}");
        assert!(e.to_string().contains("not found"));
    }

    #[test]
    fn list_and_search_pages_mark_unsynced_and_conflicted_leads() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(&dir, "kim");
        let a = s
            .create_lead(core::LeadDraft { name: Some("김민지".into()), ..Default::default() })
            .unwrap();
        let page = s.list_page(core::LeadQuery::default()).unwrap();
        assert_eq!(page.items.len(), 1);
        assert!(page.items[0].unsynced);
        assert!(!page.items[0].summary.has_conflicts);
        let found = s.search_page("김민".into(), 0).unwrap();
        assert_eq!(
            found.iter().map(|i| i.summary.id.clone()).collect::<Vec<_>>(),
            vec![a.id.clone()]
        );
        assert!(found[0].unsynced);
        s.update_lead(
            a.id.clone(),
            core::LeadPatch {
                event: Some("Seoul Expo".into()),
                add_tags: vec!["expo".into()],
                ..Default::default()
            },
        )
        .unwrap();
        let f = s.lead_facets(0).unwrap();
        assert_eq!(f.events, vec![core::Facet { value: "Seoul Expo".into(), leads: 1 }]);
        assert_eq!(f.tags, vec![core::Facet { value: "expo".into(), leads: 1 }]);
        // Acknowledged by a server: the mark goes.
        let hashes: Vec<String> =
            s.core().outbox(0, 100).unwrap().into_iter().map(|e| e.hash).collect();
        s.core().ack_outbox(&hashes).unwrap();
        assert!(!s.list_page(core::LeadQuery::default()).unwrap().items[0].unsynced);
        assert_eq!(s.sync_status().unwrap().waiting, 0);
    }

    #[test]
    fn a_capture_form_is_warned_of_a_stored_lead_before_saving() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(&dir, "kim");
        s.create_lead(core::LeadDraft {
            name: Some("김민지".into()),
            company: Some("Acme Korea".into()),
            ..Default::default()
        })
        .unwrap();
        let g = s
            .duplicates_of_draft(core::LeadDraft {
                name: Some("김민지".into()),
                company: Some("acme korea".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].leads[0].created_by, "kim");
    }

    #[test]
    fn a_compared_report_holds_both_periods_and_the_change() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(&dir, "kim");
        s.create_lead(core::LeadDraft { name: Some("a".into()), ..Default::default() }).unwrap();
        let now = s
            .core()
            .lead_detail(&s.list_leads(core::LeadQuery::default()).unwrap().items[0].id)
            .unwrap()
            .lead
            .created_at;
        let r = s.team_report_compared(ReportPeriod::Month, now, "Asia/Seoul".into()).unwrap();
        assert_eq!(r.previous.period.end, r.current.period.start);
        assert_eq!(r.change.previous, r.previous.period);
        assert_eq!((r.change.team.captured.current, r.change.team.captured.previous), (1, 0));
        let mine = s.my_report_compared(ReportPeriod::Week, now, "Asia/Seoul".into()).unwrap();
        assert_eq!(mine.change.team.captured.delta, 1);
    }
}
