//! The rows a sales report reads: every lead row in scope and every done activity of the period,
//! handed to `report::Tally` as they stream from the statement.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, Row, params_from_iter};

use crate::error::Result;
use crate::model::{ActivityKind, Stage};
use crate::report::{LeadRow, ReportQuery, Tally};

/// Feeds the report's rows to `tally`, with two statements: one pass over the lead rows (which
/// carry each lead's first contact and last activity) and one range of the covering index
/// `activities_by_time` for the activity counts. Run it in one read transaction (one snapshot).
pub(crate) fn scan(conn: &Connection, q: &ReportQuery, tally: &mut Tally<'_>) -> Result<()> {
    let (owner_sql, owner_args): (String, Vec<Sql>) = match &q.owners {
        Some(o) => (
            format!(" AND owner IN ({})", vec!["?"; o.len()].join(",")),
            o.iter().map(|s| Sql::Text(s.clone())).collect(),
        ),
        None => (String::new(), Vec::new()),
    };
    // `+deleted` keeps the planner off the (deleted, …) indexes: every live lead is read, and a
    // scan of the table in rowid order is several times faster than visiting the rows through an
    // index. First contact and last activity are kept on the lead row (schema v7), so no
    // activity is read here.
    let mut stmt = conn.prepare(&format!(
        "SELECT id, display_name, owner, stage, created_at, closed_at, reached_rank, deal_amount, deal_currency, event, channel,
            first_contact_at, last_activity_at
         FROM leads WHERE +deleted = 0{owner_sql}
             AND (stage NOT IN ('won', 'lost') OR (created_at >= ? AND created_at < ?) OR (closed_at >= ? AND closed_at < ?))"
    ))?;
    // Leads closed and captured outside the period count nowhere: left out here.
    let (start, end) = (q.period.start, q.period.end);
    let args = owner_args.iter().cloned().chain([start, end, start, end].map(Sql::Integer));
    let mut rows = stmt.query(params_from_iter(args))?;
    while let Some(r) = rows.next()? {
        tally.lead(&LeadRow {
            id: text(r, 0)?,
            name: text(r, 1)?,
            owner: text(r, 2)?,
            stage: stored_stage(text(r, 3)?),
            created_at: r.get(4)?,
            closed_at: r.get(5)?,
            reached_rank: r.get(6)?,
            amount: r.get(7)?,
            currency: opt_text(r, 8)?,
            event: opt_text(r, 9)?,
            channel: text(r, 10)?,
            first_contact: r.get(11)?,
            last_activity: r.get(12)?,
        });
    }
    drop(rows);
    // The rows come from the covering index `activities_by_time` alone.
    let mut stmt = conn.prepare(&format!(
        "SELECT created_by, kind FROM activities WHERE deleted = 0 AND done = 1 AND occurred_at >= ? AND occurred_at < ?{}",
        owner_sql.replace("owner", "created_by")
    ))?;
    let args = [Sql::Integer(start), Sql::Integer(end)].into_iter().chain(owner_args);
    let mut rows = stmt.query(params_from_iter(args))?;
    while let Some(r) = rows.next()? {
        let who = text(r, 0)?;
        if let Some(kind) = stored_kind(text(r, 1)?) {
            tally.activity(who, kind);
        }
    }
    Ok(())
}

fn text<'a>(r: &'a Row<'_>, i: usize) -> rusqlite::Result<&'a str> {
    r.get_ref(i)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn opt_text<'a>(r: &'a Row<'_>, i: usize) -> rusqlite::Result<Option<&'a str>> {
    r.get_ref(i)?.as_str_or_null().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// `Stage::parse` for a stored value: the projection writes the canonical spelling, matched
/// here without the allocations of `parse` (which also accepts what people type).
fn stored_stage(s: &str) -> Stage {
    Stage::ALL
        .iter()
        .copied()
        .find(|x| x.as_str() == s)
        .unwrap_or_else(|| Stage::parse(s).unwrap_or(Stage::New))
}

fn stored_kind(s: &str) -> Option<ActivityKind> {
    ActivityKind::ALL
        .iter()
        .copied()
        .find(|x| x.as_str() == s)
        .or_else(|| ActivityKind::parse(s).ok())
}
