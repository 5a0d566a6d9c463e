//! The counts and sums a target's attainment and a rep's commission need, over the
//! projections.

use std::collections::BTreeMap;

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params_from_iter};

use crate::error::Result;
use crate::model::{SalesTarget, SubjectKind, TargetMetric};
use crate::report::Period;

fn count(conn: &Connection, sql: &str, args: Vec<Sql>) -> Result<i64> {
    Ok(conn.prepare_cached(sql)?.query_row(params_from_iter(args), |r| r.get(0))?)
}

/// The actual of a target over its own period.
pub(crate) fn actual(conn: &Connection, t: &SalesTarget) -> Result<i64> {
    let mut args = vec![Sql::Integer(t.period_start), Sql::Integer(t.period_end)];
    let who = |col: &str, args: &mut Vec<Sql>| match t.subject_kind {
        SubjectKind::Rep => {
            args.push(Sql::Text(t.subject.clone()));
            format!(" AND {col} = ?")
        }
        SubjectKind::Team => String::new(),
    };
    match t.metric {
        TargetMetric::LeadsCaptured => {
            let w = who("owner", &mut args);
            count(
                conn,
                &format!(
                    "SELECT count(*) FROM leads WHERE deleted = 0 AND created_at >= ?1 AND created_at < ?2{w}"
                ),
                args,
            )
        }
        TargetMetric::DealsWon => {
            let w = who("owner", &mut args);
            count(
                conn,
                &format!(
                    "SELECT count(*) FROM leads WHERE deleted = 0 AND stage = 'won' AND closed_at >= ?1 AND closed_at < ?2{w}"
                ),
                args,
            )
        }
        TargetMetric::ActivitiesDone => {
            let w = who("created_by", &mut args);
            count(
                conn,
                &format!(
                    "SELECT count(*) FROM activities WHERE deleted = 0 AND done = 1 AND occurred_at >= ?1 AND occurred_at < ?2{w}"
                ),
                args,
            )
        }
        TargetMetric::WonValue => {
            args.push(Sql::Text(t.currency.clone().unwrap_or_default()));
            let w = who("owner", &mut args);
            count(
                conn,
                &format!(
                    "SELECT coalesce(sum(deal_amount), 0) FROM leads WHERE deleted = 0 AND stage = 'won' AND closed_at >= ?1 AND closed_at < ?2
                     AND deal_currency = ?3{w}"
                ),
                args,
            )
        }
    }
}

/// A rep's won deals closed in the period, per currency, in closing order.
pub(crate) fn won_deals(
    conn: &Connection,
    rep: &str,
    p: &Period,
) -> Result<BTreeMap<String, Vec<(String, i64)>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, deal_amount, deal_currency FROM leads WHERE deleted = 0 AND stage = 'won' AND closed_at >= ?1 AND closed_at < ?2
         AND owner = ?3 AND deal_amount IS NOT NULL AND deal_currency IS NOT NULL ORDER BY closed_at, id",
    )?;
    let mut rows = stmt.query(rusqlite::params![p.start, p.end, rep])?;
    let mut out: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    while let Some(r) = rows.next()? {
        out.entry(r.get(2)?).or_default().push((r.get(0)?, r.get(1)?));
    }
    Ok(out)
}
