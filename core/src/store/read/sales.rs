//! Targets and compensation plans as reports and the sales screens ask for them.

use rusqlite::{Connection, OptionalExtension, params};

use super::super::projection::sales::{PLAN_COLUMNS, TARGET_COLUMNS, plan_row, target_row};
use crate::error::Result;
use crate::model::{CompPlan, SalesTarget, TargetDraft};

/// Live targets whose period overlaps `[from, to)`, by subject, metric and period.
pub(crate) fn targets_overlapping(
    conn: &Connection,
    from: i64,
    to: i64,
) -> Result<Vec<SalesTarget>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TARGET_COLUMNS} FROM targets WHERE deleted = 0 AND period_start < ?2 AND period_end > ?1
         ORDER BY subject_kind, subject, metric, period_start, id"
    ))?;
    let rows = stmt.query_map([from, to], target_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Each rep's plan. Two managers creating a plan for the same rep offline make two documents;
/// the one changed last counts (then the larger id), on every device alike.
pub(crate) fn current_plans(conn: &Connection) -> Result<Vec<CompPlan>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {PLAN_COLUMNS} FROM comp_plans WHERE deleted = 0 ORDER BY rep, updated_at DESC, id DESC"))?;
    let all: Vec<CompPlan> = stmt.query_map([], plan_row)?.collect::<rusqlite::Result<_>>()?;
    let mut out: Vec<CompPlan> = Vec::new();
    for p in all {
        if out.last().is_none_or(|l| l.rep != p.rep) {
            out.push(p);
        }
    }
    Ok(out)
}

/// The live target with the draft's subject, metric and period, if there is one.
pub(crate) fn target_id_for(conn: &Connection, d: &TargetDraft) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM targets WHERE deleted = 0 AND subject_kind = ?1 AND subject = ?2 AND metric = ?3 AND period_start = ?4 AND period_end = ?5
             ORDER BY id LIMIT 1",
        )?
        .query_row(
            params![d.subject_kind.as_str(), d.subject, d.metric.as_str(), d.period_start, d.period_end],
            |r| r.get(0),
        )
        .optional()?)
}
