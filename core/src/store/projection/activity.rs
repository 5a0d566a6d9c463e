//! The `activities` table: the one module that writes it (and, through `lead`, the activity
//! columns of the lead it belongs to), and the check that a row matches its activity.

use rusqlite::{Connection, OptionalExtension, params};

use super::lead;
use crate::error::Result;
use crate::model::Activity;

/// The projected columns of an activity.
#[derive(Clone, Debug, PartialEq)]
struct ActivityRow {
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
    fn from_activity(a: &Activity) -> ActivityRow {
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

/// Writes the activity's row and refreshes the activity columns of its lead (and of the lead it
/// belonged to before, if it moved): for a new activity from the activity alone, otherwise from
/// the lead's activity rows. `fresh`: the activity is new to this store (its document too), so
/// there is no row to look up first.
pub(crate) fn upsert(conn: &Connection, a: &Activity, fresh: bool) -> Result<()> {
    let r = ActivityRow::from_activity(a);
    let before: Option<String> = if fresh {
        None
    } else {
        conn.prepare_cached("SELECT lead_id FROM activities WHERE id = ?1")?
            .query_row([&r.id], |r| r.get(0))
            .optional()?
    };
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
                let at = r.occurred_at.unwrap_or(r.created_at);
                lead::note_new_activity(conn, &r.lead_id, at, a.kind.is_contact())?;
            }
        }
        Some(old) => {
            lead::refresh_activity_columns(conn, &r.lead_id)?;
            if old != r.lead_id {
                lead::refresh_activity_columns(conn, &old)?;
            }
        }
    }
    Ok(())
}

fn read_row(conn: &Connection, id: &str) -> Result<Option<ActivityRow>> {
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

/// Whether the activity's row says what the activity says, for `Store::verify`.
pub(crate) fn matches(conn: &Connection, a: &Activity) -> Result<bool> {
    Ok(read_row(conn, &a.id)? == Some(ActivityRow::from_activity(a)))
}

/// Removes an activity's row and refreshes the activity columns of its lead.
pub(crate) fn delete(conn: &Connection, id: &str) -> Result<()> {
    let lead: Option<String> = conn
        .prepare_cached("SELECT lead_id FROM activities WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    conn.prepare_cached("DELETE FROM activities WHERE id = ?1")?.execute([id])?;
    if let Some(lead) = lead {
        lead::refresh_activity_columns(conn, &lead)?;
    }
    Ok(())
}
