//! SQL projections of documents: rows that queries can filter, sort and search fast. They are
//! pure functions of a document, rewritten in the same transaction as every change to it, and
//! `Store::verify` recomputes them to prove it.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::Result;
use crate::model::{Activity, Lead, Money};
use crate::query::LeadSummary;
use crate::validate::Validator;

/// Separates tags inside the `tags` column; a unit separator never appears in a tag.
pub(crate) const TAG_SEP: char = '\u{1f}';

pub(crate) const LEAD_COLUMNS: &str = "id, name, display_name, company, title, email, phone, event, channel, stage, potential, \
     deal_amount, deal_currency, owner, next_follow_up, created_at, created_by, updated_at, updated_by, deleted, tags, has_conflicts";

impl LeadSummary {
    pub(crate) fn from_lead(l: &Lead) -> LeadSummary {
        LeadSummary {
            id: l.id.clone(),
            name: l.name.clone(),
            display_name: l.display_name().to_string(),
            company: l.company.clone(),
            title: l.title.clone(),
            email: l.emails.first().cloned(),
            phone: l.phones.first().cloned(),
            event: l.source.event.clone(),
            channel: l.source.channel,
            stage: l.stage,
            potential: l.potential,
            deal_value: l.deal_value.clone(),
            owner: l.owner.clone(),
            next_follow_up: l.next_follow_up,
            created_at: l.created_at,
            created_by: l.created_by.clone(),
            updated_at: l.updated_at,
            updated_by: l.updated_by.clone(),
            deleted: l.deleted,
            tags: l.tags.clone(),
            has_conflicts: !l.conflicts.is_empty(),
        }
    }

    /// Reads a row selected with `LEAD_COLUMNS`.
    pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<LeadSummary> {
        Self::from_row_at(r, 0)
    }

    /// Reads `LEAD_COLUMNS` starting at column `o`.
    pub(crate) fn from_row_at(r: &Row<'_>, o: usize) -> rusqlite::Result<LeadSummary> {
        let parse_err = |i: usize, e: crate::ValidationError| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        };
        let channel: String = r.get(o + 8)?;
        let stage: String = r.get(o + 9)?;
        let potential: Option<String> = r.get(o + 10)?;
        let amount: Option<i64> = r.get(o + 11)?;
        let currency: Option<String> = r.get(o + 12)?;
        let tags: String = r.get(o + 20)?;
        Ok(LeadSummary {
            id: r.get(o)?,
            name: r.get(o + 1)?,
            display_name: r.get(o + 2)?,
            company: r.get(o + 3)?,
            title: r.get(o + 4)?,
            email: r.get(o + 5)?,
            phone: r.get(o + 6)?,
            event: r.get(o + 7)?,
            channel: crate::model::CaptureChannel::parse(&channel)
                .map_err(|e| parse_err(o + 8, e))?,
            stage: crate::model::Stage::parse(&stage).map_err(|e| parse_err(o + 9, e))?,
            potential: potential
                .map(|p| crate::model::Potential::parse(&p))
                .transpose()
                .map_err(|e| parse_err(o + 10, e))?,
            deal_value: match (amount, currency) {
                (Some(amount_minor), Some(currency)) => Some(Money { amount_minor, currency }),
                _ => None,
            },
            owner: r.get(o + 13)?,
            next_follow_up: r.get(o + 14)?,
            created_at: r.get(o + 15)?,
            created_by: r.get(o + 16)?,
            updated_at: r.get(o + 17)?,
            updated_by: r.get(o + 18)?,
            deleted: r.get(o + 19)?,
            tags: if tags.is_empty() {
                Vec::new()
            } else {
                tags.split(TAG_SEP).map(str::to_string).collect()
            },
            has_conflicts: r.get(o + 21)?,
        })
    }
}

/// A fingerprint of a lead's search row, to tell whether an edit changed it.
fn search_key(fields: &[&str]) -> i64 {
    crate::fingerprint::fingerprint(fields.iter().map(|f| f.as_bytes())) as i64
}

/// Writes the lead's projection rows. `fresh` skips the deletes when the lead is new to this
/// store, which keeps bulk capture cheap.
pub(crate) fn upsert_lead(conn: &Connection, l: &Lead, v: &Validator, fresh: bool) -> Result<()> {
    let s = LeadSummary::from_lead(l);
    let tags = s.tags.join(&TAG_SEP.to_string());
    let phones: Vec<String> = l
        .phones
        .iter()
        .flat_map(|p| [p.trim_start_matches('+').to_string(), v.national_digits(p)])
        .collect();
    let search = [
        l.name.clone().unwrap_or_default(),
        l.company.clone().unwrap_or_default(),
        l.emails.join(" "),
        phones.join(" "),
        l.notes.clone(),
        l.tags.join(" "),
    ];
    let key = search_key(&search.iter().map(String::as_str).collect::<Vec<_>>());
    let before: Option<(i64, Option<i64>)> = if fresh {
        None
    } else {
        conn.prepare_cached("SELECT rowid, search_key FROM leads WHERE id = ?1")?
            .query_row([&s.id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
    };
    // No RETURNING here: a statement with RETURNING opens a statement savepoint, and FTS5
    // writes its pending index to disk at every savepoint, i.e. once per lead of a page.
    conn.prepare_cached(
            "INSERT INTO leads (id, name, display_name, sort_name, company, title, email, phone, event, channel, stage, potential,
                 deal_amount, deal_currency, value_sort, owner, next_follow_up, created_at, created_by, updated_at, updated_by,
                 deleted, tags, has_conflicts, closed_at, reached_rank, search_key, last_activity_at, first_contact_at)
             VALUES (?1, ?2, ?3, lower(?3), ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, coalesce(?12, -1), ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25,
                 (SELECT max(coalesce(a.occurred_at, a.created_at)) FROM activities a WHERE a.lead_id = ?1 AND a.deleted = 0 AND a.done = 1),
                 (SELECT min(coalesce(a.occurred_at, a.created_at)) FROM activities a WHERE a.lead_id = ?1 AND a.deleted = 0 AND a.done = 1
                     AND a.kind IN ('call', 'meeting', 'visit', 'email')))
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, display_name = excluded.display_name, sort_name = excluded.sort_name,
                 company = excluded.company, title = excluded.title, email = excluded.email, phone = excluded.phone,
                 event = excluded.event, channel = excluded.channel, stage = excluded.stage, potential = excluded.potential,
                 deal_amount = excluded.deal_amount, deal_currency = excluded.deal_currency, value_sort = excluded.value_sort,
                 owner = excluded.owner, next_follow_up = excluded.next_follow_up, created_at = excluded.created_at,
                 created_by = excluded.created_by, updated_at = excluded.updated_at, updated_by = excluded.updated_by,
                 deleted = excluded.deleted, tags = excluded.tags, has_conflicts = excluded.has_conflicts,
                 closed_at = excluded.closed_at, reached_rank = excluded.reached_rank, search_key = excluded.search_key,
                 last_activity_at = excluded.last_activity_at, first_contact_at = excluded.first_contact_at",
        )?
        .execute(
            params![
                s.id,
                s.name,
                s.display_name,
                s.company,
                s.title,
                s.email,
                s.phone,
                s.event,
                s.channel.as_str(),
                s.stage.as_str(),
                s.potential.map(|p| p.as_str()),
                s.deal_value.as_ref().map(|m| m.amount_minor),
                s.deal_value.as_ref().map(|m| m.currency.as_str()),
                s.owner,
                s.next_follow_up,
                s.created_at,
                s.created_by,
                s.updated_at,
                s.updated_by,
                s.deleted,
                tags,
                s.has_conflicts,
                l.closed_at(),
                l.reached_rank(),
                key,
            ],
        )?;
    // An upsert keeps an existing row's rowid; a new row's is the last one inserted.
    let rowid = before.map_or_else(|| conn.last_insert_rowid(), |(rowid, _)| rowid);
    let search_changed = before.is_none_or(|(_, old)| old != Some(key));
    if let Some((rowid, _)) = before.filter(|_| search_changed) {
        conn.prepare_cached("DELETE FROM leads_fts WHERE rowid = ?1")?.execute([rowid])?;
    }
    if before.is_some() {
        conn.prepare_cached("DELETE FROM lead_tags WHERE lead_id = ?1")?.execute([&l.id])?;
        conn.prepare_cached("DELETE FROM stage_history WHERE lead_id = ?1")?.execute([&l.id])?;
        conn.prepare_cached("DELETE FROM lead_keys WHERE lead_id = ?1")?.execute([&l.id])?;
    }
    let mut key_stmt =
        conn.prepare_cached("INSERT OR IGNORE INTO lead_keys (key, lead_id) VALUES (?1, ?2)")?;
    for k in duplicate_keys(l) {
        key_stmt.execute(params![k, l.id])?;
    }
    if search_changed {
        conn.prepare_cached("INSERT INTO leads_fts (rowid, name, company, email, phone, notes, tags) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?
            .execute(params![rowid, l.name, l.company, search[2], search[3], l.notes, search[5]])?;
    }
    let mut tag_stmt =
        conn.prepare_cached("INSERT OR IGNORE INTO lead_tags (tag, lead_id) VALUES (?1, ?2)")?;
    for t in &l.tags {
        tag_stmt.execute(params![t, l.id])?;
    }
    let mut hist = conn.prepare_cached("INSERT INTO stage_history (lead_id, idx, stage, at, by, lost_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
    for (i, h) in l.stage_history.iter().enumerate() {
        hist.execute(params![l.id, i as i64, h.stage.as_str(), h.at, h.by, h.lost_reason])?;
    }
    Ok(())
}

pub(crate) fn read_lead_row(conn: &Connection, id: &str) -> Result<Option<LeadSummary>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {LEAD_COLUMNS} FROM leads WHERE id = ?1"))?
        .query_row([id], LeadSummary::from_row)
        .optional()?)
}

/// The projected columns of an activity, for queries and for `verify`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ActivityRow {
    pub id: String,
    pub lead_id: String,
    pub kind: String,
    pub subject: String,
    pub occurred_at: Option<i64>,
    pub due_at: Option<i64>,
    pub done: bool,
    pub duration_s: Option<i64>,
    pub outcome: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub accuracy_m: Option<f64>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub deleted: bool,
    pub has_conflicts: bool,
}

impl ActivityRow {
    pub(crate) fn from_activity(a: &Activity) -> ActivityRow {
        ActivityRow {
            id: a.id.clone(),
            lead_id: a.lead_id.clone(),
            kind: a.kind.as_str().to_string(),
            subject: a.subject.clone(),
            occurred_at: a.occurred_at,
            due_at: a.due_at,
            done: a.done,
            duration_s: a.duration_s,
            outcome: a.outcome.clone(),
            lat: a.location.map(|l| l.lat),
            lon: a.location.map(|l| l.lon),
            accuracy_m: a.location.and_then(|l| l.accuracy_m),
            created_at: a.created_at,
            created_by: a.created_by.clone(),
            updated_at: a.updated_at,
            updated_by: a.updated_by.clone(),
            deleted: a.deleted,
            has_conflicts: !a.conflicts.is_empty(),
        }
    }
}

/// Recomputes a lead's `last_activity_at` and `first_contact_at` (schema v7) from its activity
/// rows; a no-op when the lead has no row (yet: its activities may arrive first, and
/// `upsert_lead` computes both when it does).
pub(crate) fn refresh_lead_activity(conn: &Connection, lead_id: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE leads SET
             last_activity_at = (SELECT max(coalesce(a.occurred_at, a.created_at)) FROM activities a
                                 WHERE a.lead_id = ?1 AND a.deleted = 0 AND a.done = 1),
             first_contact_at = (SELECT min(coalesce(a.occurred_at, a.created_at)) FROM activities a
                                 WHERE a.lead_id = ?1 AND a.deleted = 0 AND a.done = 1 AND a.kind IN ('call', 'meeting', 'visit', 'email'))
         WHERE id = ?1",
    )?
    .execute([lead_id])?;
    Ok(())
}

/// `(last_activity_at, first_contact_at)` of a lead.
pub(crate) type ActivityTimes = (Option<i64>, Option<i64>);

/// A lead's `last_activity_at` and `first_contact_at` as stored, and as its activity rows say
/// they should be, for `verify`.
pub(crate) fn read_lead_activity(
    conn: &Connection,
    lead_id: &str,
) -> Result<Option<(ActivityTimes, ActivityTimes)>> {
    Ok(conn
        .prepare_cached(
            "SELECT last_activity_at, first_contact_at,
                 (SELECT max(coalesce(a.occurred_at, a.created_at)) FROM activities a WHERE a.lead_id = ?1 AND a.deleted = 0 AND a.done = 1),
                 (SELECT min(coalesce(a.occurred_at, a.created_at)) FROM activities a WHERE a.lead_id = ?1 AND a.deleted = 0 AND a.done = 1
                     AND a.kind IN ('call', 'meeting', 'visit', 'email'))
             FROM leads WHERE id = ?1",
        )?
        .query_row([lead_id], |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?))))
        .optional()?)
}

/// Writes the activity's row and refreshes the activity columns of its lead (and of the lead it
/// belonged to before, if it moved): for a new activity from the activity alone, otherwise from
/// the lead's activity rows.
pub(crate) fn upsert_activity(conn: &Connection, a: &Activity) -> Result<()> {
    let r = ActivityRow::from_activity(a);
    let before: Option<String> = conn
        .prepare_cached("SELECT lead_id FROM activities WHERE id = ?1")?
        .query_row([&r.id], |r| r.get(0))
        .optional()?;
    conn.prepare_cached(
        "INSERT INTO activities (id, lead_id, kind, subject, occurred_at, due_at, done, duration_s, outcome, lat, lon, accuracy_m,
             created_at, created_by, updated_at, updated_by, deleted, has_conflicts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
         ON CONFLICT (id) DO UPDATE SET lead_id = excluded.lead_id, kind = excluded.kind, subject = excluded.subject,
             occurred_at = excluded.occurred_at, due_at = excluded.due_at, done = excluded.done, duration_s = excluded.duration_s,
             outcome = excluded.outcome, lat = excluded.lat, lon = excluded.lon, accuracy_m = excluded.accuracy_m,
             created_at = excluded.created_at, created_by = excluded.created_by, updated_at = excluded.updated_at,
             updated_by = excluded.updated_by, deleted = excluded.deleted, has_conflicts = excluded.has_conflicts",
    )?
    .execute(params![
        r.id,
        r.lead_id,
        r.kind,
        r.subject,
        r.occurred_at,
        r.due_at,
        r.done,
        r.duration_s,
        r.outcome,
        r.lat,
        r.lon,
        r.accuracy_m,
        r.created_at,
        r.created_by,
        r.updated_at,
        r.updated_by,
        r.deleted,
        r.has_conflicts,
    ])?;
    match before {
        // A new activity (a capture, or one first seen in a sync) can only move its lead's
        // figures one way: no need to read the lead's other activities.
        None => {
            if r.done && !r.deleted {
                let is_contact = a.kind.is_contact();
                conn.prepare_cached(
                    "UPDATE leads SET
                         last_activity_at = max(coalesce(last_activity_at, ?2), ?2),
                         first_contact_at = CASE WHEN ?3 THEN min(coalesce(first_contact_at, ?2), ?2) ELSE first_contact_at END
                     WHERE id = ?1",
                )?
                .execute(params![r.lead_id, r.occurred_at.unwrap_or(r.created_at), is_contact])?;
            }
        }
        Some(old) => {
            refresh_lead_activity(conn, &r.lead_id)?;
            if old != r.lead_id {
                refresh_lead_activity(conn, &old)?;
            }
        }
    }
    Ok(())
}

pub(crate) fn read_activity_row(conn: &Connection, id: &str) -> Result<Option<ActivityRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, lead_id, kind, subject, occurred_at, due_at, done, duration_s, outcome, lat, lon, accuracy_m,
                    created_at, created_by, updated_at, updated_by, deleted, has_conflicts FROM activities WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(ActivityRow {
                id: r.get(0)?,
                lead_id: r.get(1)?,
                kind: r.get(2)?,
                subject: r.get(3)?,
                occurred_at: r.get(4)?,
                due_at: r.get(5)?,
                done: r.get(6)?,
                duration_s: r.get(7)?,
                outcome: r.get(8)?,
                lat: r.get(9)?,
                lon: r.get(10)?,
                accuracy_m: r.get(11)?,
                created_at: r.get(12)?,
                created_by: r.get(13)?,
                updated_at: r.get(14)?,
                updated_by: r.get(15)?,
                deleted: r.get(16)?,
                has_conflicts: r.get(17)?,
            })
        })
        .optional()?)
}

/// What makes two leads likely the same person: a shared e-mail or phone, or the same name at
/// the same company (case and spacing ignored).
pub(crate) fn duplicate_keys(l: &Lead) -> Vec<String> {
    keys_of(&l.name, &l.company, &l.emails, &l.phones)
}

/// `duplicate_keys` from the parts, for a draft not yet saved (normalised e-mails and phones).
pub(crate) fn keys_of(
    name: &Option<String>,
    company: &Option<String>,
    emails: &[String],
    phones: &[String],
) -> Vec<String> {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let mut keys: Vec<String> = emails
        .iter()
        .map(|e| format!("e:{e}"))
        .chain(phones.iter().map(|p| format!("p:{p}")))
        .collect();
    if let (Some(n), Some(c)) = (name, company) {
        keys.push(format!("n:{}|{}", norm(n), norm(c)));
    }
    keys
}

pub(crate) fn read_keys(conn: &Connection, id: &str) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT key FROM lead_keys WHERE lead_id = ?1 ORDER BY key")?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The report columns of a lead row (`closed_at`, `reached_rank`), for `verify`.
pub(crate) fn read_report_columns(
    conn: &Connection,
    id: &str,
) -> Result<Option<(Option<i64>, u8)>> {
    Ok(conn
        .prepare_cached("SELECT closed_at, reached_rank FROM leads WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// One stage history row: stage, at, by, lost reason.
pub(crate) type HistoryRow = (String, i64, String, Option<String>);

/// Stage history rows of one lead, in document order, for `verify`.
pub(crate) fn read_history(conn: &Connection, lead_id: &str) -> Result<Vec<HistoryRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT stage, at, by, lost_reason FROM stage_history WHERE lead_id = ?1 ORDER BY idx",
    )?;
    let rows = stmt.query_map([lead_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Removes every projection row of a document (it was reset or dropped).
pub(crate) fn delete(conn: &Connection, id: &str, kind: crate::doc::DocKind) -> Result<()> {
    match kind {
        crate::doc::DocKind::Lead => {
            let rowid: Option<i64> = conn
                .prepare_cached("SELECT rowid FROM leads WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            if let Some(rowid) = rowid {
                conn.prepare_cached("DELETE FROM leads_fts WHERE rowid = ?1")?.execute([rowid])?;
            }
            conn.prepare_cached("DELETE FROM leads WHERE id = ?1")?.execute([id])?;
            conn.prepare_cached("DELETE FROM lead_tags WHERE lead_id = ?1")?.execute([id])?;
            conn.prepare_cached("DELETE FROM stage_history WHERE lead_id = ?1")?.execute([id])?;
            conn.prepare_cached("DELETE FROM lead_keys WHERE lead_id = ?1")?.execute([id])?;
        }
        crate::doc::DocKind::Activity => {
            let lead: Option<String> = conn
                .prepare_cached("SELECT lead_id FROM activities WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            conn.prepare_cached("DELETE FROM activities WHERE id = ?1")?.execute([id])?;
            if let Some(lead) = lead {
                refresh_lead_activity(conn, &lead)?;
            }
        }
        k => super::sales::delete(conn, id, k)?,
    }
    Ok(())
}
