//! Export of leads (with their activities) as JSON or CSV, read from the documents so that
//! nothing the projection leaves out is lost.

use std::collections::BTreeSet;
use std::io::Write;

use crate::model::{Activity, Lead, Millis, Stage};
use crate::store::Store;
use crate::{Error, Result};

#[derive(serde::Serialize)]
struct LeadWithActivities<'a> {
    #[serde(flatten)]
    lead: &'a Lead,
    activities: &'a [Activity],
}

/// Columns of the lead CSV, before one `custom.<key>` column per custom field in use.
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "name",
    "company",
    "title",
    "emails",
    "phones",
    "event",
    "channel",
    "stage",
    "lost_reason",
    "potential",
    "deal_amount_minor",
    "deal_currency",
    "owner",
    "tags",
    "notes",
    "next_follow_up",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "deleted",
];

/// Which leads an export writes: every condition given must hold (an empty list or `None`
/// imposes nothing). Times are UTC milliseconds; a period is `[created_from, created_before)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportFilter {
    /// Deleted leads (the bin) too.
    pub include_deleted: bool,
    pub created_from: Option<Millis>,
    pub created_before: Option<Millis>,
    /// Changed at or after this time.
    pub updated_since: Option<Millis>,
    /// Any of these owners.
    pub owners: Vec<String>,
    /// Any of these stages.
    pub stages: Vec<Stage>,
    pub tag: Option<String>,
    pub event: Option<String>,
}

impl ExportFilter {
    pub fn all(include_deleted: bool) -> Self {
        ExportFilter { include_deleted, ..Default::default() }
    }
}

impl Store {
    /// Every lead (live, or all with `include_deleted`) in creation order, with activities.
    pub fn export_leads(&self, include_deleted: bool) -> Result<Vec<(Lead, Vec<Activity>)>> {
        self.export_leads_where(&ExportFilter::all(include_deleted))
    }

    /// The leads the filter selects, in creation order, with their activities. Selected from the
    /// projection, then read from the documents.
    pub fn export_leads_where(&self, f: &ExportFilter) -> Result<Vec<(Lead, Vec<Activity>)>> {
        use rusqlite::types::Value as SqlValue;
        let mut sql = String::from("SELECT id FROM leads WHERE (deleted = 0 OR ?)");
        let mut args: Vec<SqlValue> = vec![SqlValue::Integer(i64::from(f.include_deleted))];
        for (cond, v) in [
            (" AND created_at >= ?", f.created_from),
            (" AND created_at < ?", f.created_before),
            (" AND updated_at >= ?", f.updated_since),
        ] {
            if let Some(t) = v {
                sql.push_str(cond);
                args.push(SqlValue::Integer(t));
            }
        }
        for (column, list) in [
            ("owner", f.owners.clone()),
            ("stage", f.stages.iter().map(|s| s.as_str().to_string()).collect()),
        ] {
            if !list.is_empty() {
                sql.push_str(&format!(" AND {column} IN ({})", vec!["?"; list.len()].join(",")));
                args.extend(list.into_iter().map(SqlValue::Text));
            }
        }
        if let Some(t) = &f.tag {
            sql.push_str(" AND id IN (SELECT lead_id FROM lead_tags WHERE tag = ?)");
            args.push(SqlValue::Text(crate::validate::normalize_tag(t)));
        }
        if let Some(e) = &f.event {
            sql.push_str(" AND event = ?");
            args.push(SqlValue::Text(e.trim().to_string()));
        }
        sql.push_str(" ORDER BY created_at, id");
        let ids: Vec<String> = {
            let conn = self.reader();
            let mut stmt = conn.prepare(&sql)?;
            stmt.query_map(rusqlite::params_from_iter(args), |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
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
        let all = self.export_leads_where(filter)?;
        let view: Vec<LeadWithActivities<'_>> =
            all.iter().map(|(l, a)| LeadWithActivities { lead: l, activities: a }).collect();
        serde_json::to_writer_pretty(&mut *out, &view).map_err(|e| Error::Io(e.into()))?;
        out.write_all(b"\n")?;
        Ok(all.len())
    }

    /// One row per lead; list fields are joined with "; ". `import_csv` reads it back.
    pub fn export_csv(&self, include_deleted: bool, out: &mut dyn Write) -> Result<usize> {
        self.export_csv_where(&ExportFilter::all(include_deleted), out)
    }

    /// The selected leads as CSV, as [`Store::export_csv`] writes them.
    pub fn export_csv_where(&self, filter: &ExportFilter, out: &mut dyn Write) -> Result<usize> {
        let all = self.export_leads_where(filter)?;
        let custom_keys: BTreeSet<&str> =
            all.iter().flat_map(|(l, _)| l.custom_fields.iter().map(|f| f.key.as_str())).collect();
        let mut w = csv::Writer::from_writer(out);
        let csv_err = |e: csv::Error| Error::Io(std::io::Error::other(e));
        let mut header: Vec<String> = CSV_COLUMNS.iter().map(|c| c.to_string()).collect();
        header.extend(custom_keys.iter().map(|k| format!("custom.{k}")));
        w.write_record(&header).map_err(csv_err)?;
        for (l, _) in &all {
            let opt = |o: &Option<String>| o.clone().unwrap_or_default();
            let mut rec = vec![
                l.id.clone(),
                opt(&l.name),
                opt(&l.company),
                opt(&l.title),
                l.emails.join("; "),
                l.phones.join("; "),
                opt(&l.source.event),
                l.source.channel.to_string(),
                l.stage.to_string(),
                opt(&l.lost_reason),
                l.potential.map(|p| p.to_string()).unwrap_or_default(),
                l.deal_value.as_ref().map(|m| m.amount_minor.to_string()).unwrap_or_default(),
                l.deal_value.as_ref().map(|m| m.currency.clone()).unwrap_or_default(),
                l.owner.clone(),
                l.tags.join("; "),
                l.notes.clone(),
                l.next_follow_up.map(|t| t.to_string()).unwrap_or_default(),
                l.created_at.to_string(),
                l.created_by.clone(),
                l.updated_at.to_string(),
                l.updated_by.clone(),
                l.deleted.to_string(),
            ];
            for k in &custom_keys {
                rec.push(
                    l.custom_fields
                        .iter()
                        .find(|f| f.key == *k)
                        .map(|f| f.value.clone())
                        .unwrap_or_default(),
                );
            }
            w.write_record(&rec).map_err(csv_err)?;
        }
        w.flush()?;
        Ok(all.len())
    }
}
