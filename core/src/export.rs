//! Export of leads (with their activities) as JSON or CSV, read from the documents so that
//! nothing the projection leaves out is lost.

use std::collections::BTreeSet;
use std::io::Write;

use crate::model::{Activity, Lead};
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
    "id", "name", "company", "title", "emails", "phones", "event", "channel", "stage", "lost_reason", "potential",
    "deal_amount_minor", "deal_currency", "owner", "tags", "notes", "next_follow_up", "created_at", "created_by",
    "updated_at", "updated_by", "deleted",
];

impl Store {
    /// Every lead (live, or all with `include_deleted`) in creation order, with activities.
    pub fn export_leads(&self, include_deleted: bool) -> Result<Vec<(Lead, Vec<Activity>)>> {
        let ids: Vec<String> = {
            let conn = self.reader();
            let mut stmt = conn.prepare("SELECT id FROM leads WHERE deleted = 0 OR ?1 ORDER BY created_at, id")?;
            stmt.query_map([include_deleted], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
        };
        ids.iter()
            .map(|id| {
                let d = self.lead_detail(id)?;
                Ok((d.lead, d.activities))
            })
            .collect()
    }

    pub fn export_json(&self, include_deleted: bool, out: &mut dyn Write) -> Result<usize> {
        let all = self.export_leads(include_deleted)?;
        let view: Vec<LeadWithActivities<'_>> = all.iter().map(|(l, a)| LeadWithActivities { lead: l, activities: a }).collect();
        serde_json::to_writer_pretty(&mut *out, &view).map_err(|e| Error::Io(e.into()))?;
        out.write_all(b"\n")?;
        Ok(all.len())
    }

    /// One row per lead; list fields are joined with "; ".
    pub fn export_csv(&self, include_deleted: bool, out: &mut dyn Write) -> Result<usize> {
        let all = self.export_leads(include_deleted)?;
        let custom_keys: BTreeSet<&str> = all.iter().flat_map(|(l, _)| l.custom_fields.iter().map(|f| f.key.as_str())).collect();
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
                rec.push(l.custom_fields.iter().find(|f| f.key == *k).map(|f| f.value.clone()).unwrap_or_default());
            }
            w.write_record(&rec).map_err(csv_err)?;
        }
        w.flush()?;
        Ok(all.len())
    }
}
