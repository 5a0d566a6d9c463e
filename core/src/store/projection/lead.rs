//! The `leads` table and the rows that hang off it (`lead_tags`, `stage_history`, `lead_keys`,
//! `leads_fts`): the one module that writes them, the format of a lead row (read back by every
//! list), and the check that they match the lead (`Store::verify`).

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::duplicates;
use crate::error::{Result, ValidationError};
use crate::model::{CaptureChannel, Lead, LeadSummary, Money, Potential, Stage};
use crate::search_text::indexed;
use crate::validate::Validator;

/// Separates tags inside the `tags` column; a unit separator never appears in a tag.
const TAG_SEP: char = '\u{1f}';

/// The columns `lead_row` reads, in its order.
pub(crate) const LEAD_COLUMNS: &str = "id, name, display_name, company, title, email, phone, event, channel, stage, potential, \
     deal_amount, deal_currency, owner, next_follow_up, created_at, created_by, updated_at, updated_by, deleted, tags, has_conflicts";

/// `LEAD_COLUMNS` qualified with a table alias (`l.id, l.name, …`), for joins.
pub(crate) fn lead_columns_of(alias: &str) -> String {
    LEAD_COLUMNS.split(", ").map(|c| format!("{alias}.{c}")).collect::<Vec<_>>().join(", ")
}

/// Reads a row selected with `LEAD_COLUMNS`.
pub(crate) fn lead_row(r: &Row<'_>) -> rusqlite::Result<LeadSummary> {
    lead_row_at(r, 0)
}

/// Reads `LEAD_COLUMNS` starting at column `o`.
pub(crate) fn lead_row_at(r: &Row<'_>, o: usize) -> rusqlite::Result<LeadSummary> {
    let parse_err = |i: usize, e: ValidationError| {
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
        channel: CaptureChannel::parse(&channel).map_err(|e| parse_err(o + 8, e))?,
        stage: Stage::parse(&stage).map_err(|e| parse_err(o + 9, e))?,
        potential: potential
            .map(|p| Potential::parse(&p))
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

/// A fingerprint of a lead's search row, to tell whether an edit changed it.
fn search_key(fields: &[&str]) -> i64 {
    crate::fingerprint::fingerprint(fields.iter().map(|f| f.as_bytes())) as i64
}

/// Writes the lead's projection rows. `fresh` skips the deletes when the lead is new to this
/// store, which keeps bulk capture cheap.
pub(crate) fn upsert(conn: &Connection, l: &Lead, v: &Validator, fresh: bool) -> Result<()> {
    let s = LeadSummary::from(l);
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
        delete_children(conn, rowid)?;
    }
    let mut key_stmt =
        conn.prepare_cached("INSERT OR IGNORE INTO lead_keys (key, lead) VALUES (?1, ?2)")?;
    for k in duplicates::keys(l) {
        key_stmt.execute(params![k, rowid])?;
    }
    if search_changed {
        let [name, company, email, phone, notes, tags] = search.each_ref().map(|t| indexed(t));
        conn.prepare_cached("INSERT INTO leads_fts (rowid, name, company, email, phone, notes, tags) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?
            .execute(params![rowid, name, company, email, phone, notes, tags])?;
    }
    let mut tag_stmt =
        conn.prepare_cached("INSERT OR IGNORE INTO lead_tags (tag, lead) VALUES (?1, ?2)")?;
    for t in &l.tags {
        tag_stmt.execute(params![t, rowid])?;
    }
    let mut hist = conn.prepare_cached("INSERT INTO stage_history (lead, idx, stage, at, by, lost_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
    for (i, h) in l.stage_history.iter().enumerate() {
        hist.execute(params![rowid, i as i64, h.stage.as_str(), h.at, h.by, h.lost_reason])?;
    }
    Ok(())
}

/// Deletes the rows hanging off the lead whose row is `rowid` (schema v11 keys them by it).
fn delete_children(conn: &Connection, rowid: i64) -> Result<()> {
    for table in ["lead_tags", "stage_history", "lead_keys"] {
        conn.prepare_cached(&format!("DELETE FROM {table} WHERE lead = ?1"))?.execute([rowid])?;
    }
    Ok(())
}

fn read_row(conn: &Connection, id: &str) -> Result<Option<LeadSummary>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {LEAD_COLUMNS} FROM leads WHERE id = ?1"))?
        .query_row([id], lead_row)
        .optional()?)
}

/// Recomputes a lead's `last_activity_at` and `first_contact_at` (schema v7) from its activity
/// rows; a no-op when the lead has no row (yet: its activities may arrive first, and
/// `upsert` computes both when it does).
pub(crate) fn refresh_activity_columns(conn: &Connection, lead_id: &str) -> Result<()> {
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
type ActivityTimes = (Option<i64>, Option<i64>);

/// A lead's `last_activity_at` and `first_contact_at` as stored, and as its activity rows say
/// they should be, for `verify`.
fn read_activity_columns(
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

/// Sets the activity columns of a lead after an activity new to this store: it can only move
/// them one way, so the lead's other activities need not be read.
pub(crate) fn note_new_activity(
    conn: &Connection,
    lead_id: &str,
    at: i64,
    is_contact: bool,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE leads SET
             last_activity_at = max(coalesce(last_activity_at, ?2), ?2),
             first_contact_at = CASE WHEN ?3 THEN min(coalesce(first_contact_at, ?2), ?2) ELSE first_contact_at END
         WHERE id = ?1",
    )?
    .execute(params![lead_id, at, is_contact])?;
    Ok(())
}

/// Whether the lead's rows say what the lead says, for `Store::verify`.
pub(crate) fn matches(conn: &Connection, lead: &Lead) -> Result<bool> {
    let id = lead.id.as_str();
    let history: Vec<HistoryRow> = lead
        .stage_history
        .iter()
        .map(|h| (h.stage.as_str().to_string(), h.at, h.by.clone(), h.lost_reason.clone()))
        .collect();
    let mut keys = duplicates::keys(lead);
    keys.sort();
    keys.dedup();
    Ok(read_row(conn, id)? == Some(LeadSummary::from(lead))
        && read_history(conn, id)? == history
        && read_report_columns(conn, id)? == Some((lead.closed_at(), lead.reached_rank()))
        && read_activity_columns(conn, id)?.is_some_and(|(stored, want)| stored == want)
        && read_keys(conn, id)? == keys)
}

fn read_keys(conn: &Connection, id: &str) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT k.key FROM lead_keys k JOIN leads l ON l.rowid = k.lead WHERE l.id = ?1 ORDER BY k.key")?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The report columns of a lead row (`closed_at`, `reached_rank`), for `verify`.
fn read_report_columns(conn: &Connection, id: &str) -> Result<Option<(Option<i64>, u8)>> {
    Ok(conn
        .prepare_cached("SELECT closed_at, reached_rank FROM leads WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// One stage history row: stage, at, by, lost reason.
type HistoryRow = (String, i64, String, Option<String>);

/// Stage history rows of one lead, in document order, for `verify`.
fn read_history(conn: &Connection, lead_id: &str) -> Result<Vec<HistoryRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT h.stage, h.at, h.by, h.lost_reason FROM stage_history h JOIN leads l ON l.rowid = h.lead
         WHERE l.id = ?1 ORDER BY h.idx",
    )?;
    let rows = stmt.query_map([lead_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Removes every projection row of a lead (its document was reset or dropped).
pub(crate) fn delete(conn: &Connection, id: &str) -> Result<()> {
    let rowid: Option<i64> = conn
        .prepare_cached("SELECT rowid FROM leads WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    if let Some(rowid) = rowid {
        conn.prepare_cached("DELETE FROM leads_fts WHERE rowid = ?1")?.execute([rowid])?;
        delete_children(conn, rowid)?;
    }
    conn.prepare_cached("DELETE FROM leads WHERE id = ?1")?.execute([id])?;
    Ok(())
}
