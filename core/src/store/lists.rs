//! The store's API for what screens list and count: the lead list, search, facets, follow-ups
//! and reminders, likely duplicates, reports with targets and commission (and their change on
//! the previous period), and exports. Each reads the projections through `read/` and hands the
//! rows to the module that computes or writes the result.

use std::io::Write;

use super::{Store, read};
use crate::calendar::{Period, Zone};
use crate::compare::{self, Compared};
use crate::duplicates::{self, DuplicateGroup};
use crate::error::Result;
use crate::export::{self, ExportFilter};
use crate::model::{
    Activity, FollowUp, FollowUps, Lead, LeadDraft, LeadFacets, LeadQuery, LeadSummary, Millis,
    Page, SubjectKind, parse_id,
};
use crate::performance::{self, Attainment, Performance, TargetProgress};
use crate::report::{Report, ReportQuery, Tally};

impl Store {
    pub fn list_leads(&self, q: &LeadQuery) -> Result<Page<LeadSummary>> {
        read::list::leads(&self.reader(), q)
    }

    /// The `limit` most used events and tags of live leads (ties by name).
    pub fn lead_facets(&self, limit: u32) -> Result<LeadFacets> {
        read::list::facets(&self.reader(), limit)
    }

    /// Full-text search over name, company, e-mail, phone, notes and tags; every word typed is
    /// matched as a prefix ("acm" finds "Acme"). Best matches first: leads whose name starts
    /// with what was typed, then the rest, newest first (`read::list::search`).
    pub fn search_leads(&self, text: &str, limit: u32) -> Result<Vec<LeadSummary>> {
        read::list::search(&self.reader(), text, limit)
    }

    /// Follow-ups for `user`: overdue (before `now`), due later today (before the next local
    /// midnight in `zone`), and upcoming in the seven local days after today.
    pub fn follow_ups(&self, user: &str, now: Millis, zone: &Zone) -> Result<FollowUps> {
        let end_of_day = zone.end_of_day(now);
        let horizon = (0..7).fold(end_of_day, |t, _| zone.end_of_day(t));
        let mut out = FollowUps::default();
        for f in read::list::due_items(&self.reader(), user, None, horizon, u32::MAX)? {
            if f.due_at < now {
                out.overdue.push(f)
            } else if f.due_at < end_of_day {
                out.today.push(f)
            } else {
                out.upcoming.push(f)
            }
        }
        Ok(out)
    }

    /// The next `limit` reminder times for `user` at or after `now`, soonest first: what a phone
    /// schedules as local notifications (call again after every sync or edit).
    pub fn reminders(&self, user: &str, now: Millis, limit: u32) -> Result<Vec<FollowUp>> {
        read::list::due_items(&self.reader(), user, Some(now), i64::MAX, limit)
    }

    /// Every group of live leads that look like the same person.
    pub fn duplicates(&self) -> Result<Vec<DuplicateGroup>> {
        read::duplicates::groups(&self.reader(), None)
    }

    /// Live leads that look like `lead_id` (call it after a capture or a sync).
    pub fn duplicates_of(&self, lead_id: &str) -> Result<Vec<DuplicateGroup>> {
        let id = parse_id("lead id", lead_id)?;
        read::duplicates::groups(&self.reader(), Some(&id))
    }

    /// Stored live leads that look like the same person as `draft`, before it is saved: what a
    /// capture form warns about ("김민지, Acme Korea — captured by lee"). Each group holds the
    /// stored leads sharing one key with the draft. Works on a half-typed form: an e-mail or
    /// phone that is not valid yet is left out rather than refused.
    pub fn duplicates_of_draft(&self, draft: &LeadDraft) -> Result<Vec<DuplicateGroup>> {
        let v = &self.validator;
        let trimmed = |s: &Option<String>| {
            s.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_string)
        };
        let emails: Vec<String> =
            draft.emails.iter().filter_map(|e| crate::validate::email(e).ok()).collect();
        let phones: Vec<String> = draft.phones.iter().filter_map(|p| v.phone(p).ok()).collect();
        let keys =
            duplicates::keys_of(&trimmed(&draft.name), &trimmed(&draft.company), &emails, &phones);
        read::duplicates::groups_of_keys(&self.reader(), keys)
    }

    /// The team's figures and each rep's, for a period. Reads projections only, in one read
    /// transaction (one snapshot).
    pub fn report(&self, q: &ReportQuery) -> Result<Report> {
        let mut tally = Tally::new(q);
        self.read(|c| read::report::scan(c, q, &mut tally))?;
        Ok(tally.finish())
    }

    /// A report query for `period` with the workspace's win probabilities (the sales process
    /// settings, or their defaults) instead of the built-in ones.
    pub fn report_query(&self, period: Period, now: i64) -> Result<ReportQuery> {
        let s = self.sales_settings()?;
        let mut q = ReportQuery::new(period, now);
        q.probabilities = performance::probabilities(&s);
        Ok(q)
    }

    /// Attainment of every target overlapping the period and each rep's commission in it.
    /// `q.owners`, when set, keeps those reps' targets and plans only.
    pub fn performance(&self, q: &ReportQuery) -> Result<Performance> {
        self.read(|c| {
            let stages = super::projection::sales::settings(c)?.stages;
            let targets = read::sales::targets_overlapping(c, q.period.start, q.period.end)?;
            let keep = |rep: &str| q.owners.as_ref().is_none_or(|o| o.iter().any(|x| x == rep));
            let mut attainment = Vec::new();
            for t in targets.iter().filter(|t| {
                t.subject_kind == SubjectKind::Team && q.owners.is_none()
                    || t.subject_kind == SubjectKind::Rep && keep(&t.subject)
            }) {
                let a = read::performance::actual(c, t)?;
                attainment.push(Attainment {
                    target: t.clone(),
                    progress: TargetProgress::new(a, t.value, t.period_start, t.period_end, q.now),
                });
            }
            let mut commission = Vec::new();
            for plan in read::sales::current_plans(c)?.iter().filter(|p| keep(&p.rep)) {
                let deals = read::performance::won_deals(c, &plan.rep, &q.period)?;
                commission.push(performance::plan_commission(plan, &q.period, &targets, deals));
            }
            Ok(Performance { period: q.period, stages, attainment, commission })
        })
    }

    /// `report` and `performance` for `q` and for the period before it (same owners and
    /// settings; measured as at that period's end), with every figure's change.
    pub fn compared(&self, q: &ReportQuery, zone: &Zone) -> Result<Compared> {
        let mut pq = q.clone();
        pq.period = q.period.preceding(zone);
        pq.now = q.now.min(pq.period.end);
        let current = (self.report(q)?, self.performance(q)?);
        let previous = (self.report(&pq)?, self.performance(&pq)?);
        let change = compare::report_change((&current.0, &current.1), (&previous.0, &previous.1));
        Ok(Compared { current, previous, change })
    }

    /// Every lead (live, or all with `include_deleted`) in creation order, with activities.
    pub fn export_leads(&self, include_deleted: bool) -> Result<Vec<(Lead, Vec<Activity>)>> {
        self.export_leads_where(&ExportFilter::all(include_deleted))
    }

    /// The leads the filter selects, in creation order, with their activities. Selected from the
    /// projection, then read from the documents.
    pub fn export_leads_where(&self, f: &ExportFilter) -> Result<Vec<(Lead, Vec<Activity>)>> {
        let ids = read::export::lead_ids(&self.reader(), f)?;
        ids.iter()
            .map(|id| {
                let d = self.lead_detail(id)?;
                Ok((d.lead, d.activities))
            })
            .collect()
    }

    pub fn export_json(&self, include_deleted: bool, out: &mut dyn Write) -> Result<usize> {
        self.export_json_where(&ExportFilter::all(include_deleted), out)
    }

    /// The selected leads, each with its activities, as a JSON array.
    pub fn export_json_where(&self, filter: &ExportFilter, out: &mut dyn Write) -> Result<usize> {
        export::write_json(&self.export_leads_where(filter)?, out)
    }

    /// One row per lead; list fields are joined with "; ". `import_csv` reads it back.
    pub fn export_csv(&self, include_deleted: bool, out: &mut dyn Write) -> Result<usize> {
        self.export_csv_where(&ExportFilter::all(include_deleted), out)
    }

    /// The selected leads as CSV, as [`Store::export_csv`] writes them.
    pub fn export_csv_where(&self, filter: &ExportFilter, out: &mut dyn Write) -> Result<usize> {
        export::write_csv(&self.export_leads_where(filter)?, out)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::LeadDraft;
    use crate::store::{OpenOptions, Store, read};

    /// Twelve leads whose phones all start 010, created in order; even ones are named
    /// "Lead {i}", odd ones "Big Lead {i}".
    fn store_of_twelve(dir: &std::path::Path) -> (Store, Vec<String>) {
        let s = Store::open(dir.join("s.db"), OpenOptions::new("kim").region("KR")).unwrap();
        let ids = (0..12)
            .map(|i| {
                let name = if i % 2 == 0 { format!("Lead {i}") } else { format!("Big Lead {i}") };
                let draft = LeadDraft {
                    name: Some(name),
                    phones: vec![format!("010-1234-{:04}", 1000 + i)],
                    notes: Some("word ".repeat(i + 1)),
                    ..Default::default()
                };
                s.create_lead(draft).unwrap().id
            })
            .collect();
        (s, ids)
    }

    #[test]
    fn a_search_orders_the_newest_live_matches_names_starting_with_the_words_first() {
        let dir = tempfile::tempdir().unwrap();
        let (s, ids) = store_of_twelve(dir.path());
        s.delete_lead(&ids[11]).unwrap();
        let found = |text: &str, limit: u32, ranked: u32| {
            read::list::search_ranking(&s.reader(), text, limit, ranked)
                .unwrap()
                .into_iter()
                .map(|l| l.id)
                .collect::<Vec<_>>()
        };
        let of = |idx: &[usize]| idx.iter().map(|&i| ids[i].clone()).collect::<Vec<_>>();
        // No name starts with "010": newest first, over the four newest live matches (the
        // deleted newest is not one of them).
        assert_eq!(found("010", 3, 4), of(&[10, 9, 8]));
        // Names starting with "lead" first, newest first within each group.
        assert_eq!(found("lead", 4, 4), of(&[10, 8, 9, 7]));
        assert_eq!(found("LEAD", 50, 1_000), of(&[10, 8, 6, 4, 2, 0, 9, 7, 5, 3, 1]));
        // Every word must match; the name must start with all of them, in order.
        assert_eq!(found("lead 1", 50, 1_000), of(&[10, 1]));
        assert_eq!(found("big 1", 50, 1_000), of(&[1]));
        // The store's own bound orders all eleven here, and never returns the deleted lead.
        let page = s.search_leads("010", 5).unwrap();
        assert_eq!(page.into_iter().map(|l| l.id).collect::<Vec<_>>(), of(&[10, 9, 8, 7, 6]));
        assert_eq!(s.search_leads("word", 50).unwrap().len(), 11);
        // A bound below the page size still fills the page.
        assert_eq!(found("010", 5, 2).len(), 5);
    }
}
