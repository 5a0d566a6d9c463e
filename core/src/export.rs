//! Export of leads (with their activities) as JSON or CSV: which leads (`ExportFilter`) and how
//! they are written. The store selects them and reads them from their documents, so that
//! nothing the projection leaves out is lost (`Store::export_json_where`, `export_csv_where`).

use std::collections::BTreeSet;
use std::io::Write;

use crate::error::{Error, Result};
use crate::model::{Activity, Lead, Millis, Stage};

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

/// The leads, each with its activities, as a JSON array; how many.
pub(crate) fn write_json(all: &[(Lead, Vec<Activity>)], out: &mut dyn Write) -> Result<usize> {
    let view: Vec<LeadWithActivities<'_>> =
        all.iter().map(|(l, a)| LeadWithActivities { lead: l, activities: a }).collect();
    serde_json::to_writer_pretty(&mut *out, &view).map_err(|e| Error::Io(e.into()))?;
    out.write_all(b"\n")?;
    Ok(all.len())
}

/// One row per lead (list fields joined with "; ") under `CSV_COLUMNS` and one `custom.<key>`
/// column per custom field in use; how many. `Store::import_csv` reads it back.
pub(crate) fn write_csv(all: &[(Lead, Vec<Activity>)], out: &mut dyn Write) -> Result<usize> {
    let custom_keys: BTreeSet<&str> =
        all.iter().flat_map(|(l, _)| l.custom_fields.iter().map(|f| f.key.as_str())).collect();
    let mut w = csv::Writer::from_writer(out);
    let csv_err = |e: csv::Error| Error::Io(std::io::Error::other(e));
    let mut header: Vec<String> = CSV_COLUMNS.iter().map(|c| c.to_string()).collect();
    header.extend(custom_keys.iter().map(|k| format!("custom.{k}")));
    w.write_record(&header).map_err(csv_err)?;
    for (l, _) in all {
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
