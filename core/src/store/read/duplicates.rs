//! Groups of live leads sharing a duplicate key (`lead_keys`).

use std::collections::BTreeMap;

use rusqlite::Connection;

use super::super::projection::lead::{lead_columns_of, lead_row_at};
use crate::duplicates::{DuplicateGroup, reason};
use crate::error::Result;
use crate::model::LeadSummary;

/// Every group of two or more live leads sharing a key; with `of`, only the groups of that
/// lead's keys.
pub(crate) fn groups(conn: &Connection, of: Option<&str>) -> Result<Vec<DuplicateGroup>> {
    let filter = if of.is_some() {
        "AND k.key IN (SELECT k1.key FROM lead_keys k1 JOIN leads l1 ON l1.rowid = k1.lead WHERE l1.id = ?1)"
    } else {
        ""
    };
    let sql = format!(
        "SELECT k.key, {} FROM lead_keys k JOIN leads l ON l.rowid = k.lead
         WHERE l.deleted = 0 {filter} AND k.key IN (
             SELECT k2.key FROM lead_keys k2 JOIN leads l2 ON l2.rowid = k2.lead WHERE l2.deleted = 0 GROUP BY k2.key HAVING count(*) > 1)
         ORDER BY k.key, l.created_at, l.id",
        lead_columns_of("l")
    );
    match of {
        Some(id) => gather(conn, &sql, [id]),
        None => gather(conn, &sql, []),
    }
}

/// The live leads holding any of `keys`, one group per key.
pub(crate) fn groups_of_keys(conn: &Connection, keys: Vec<String>) -> Result<Vec<DuplicateGroup>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT k.key, {} FROM lead_keys k JOIN leads l ON l.rowid = k.lead
         WHERE l.deleted = 0 AND k.key IN ({})
         ORDER BY k.key, l.created_at, l.id",
        lead_columns_of("l"),
        vec!["?"; keys.len()].join(",")
    );
    gather(conn, &sql, rusqlite::params_from_iter(keys))
}

/// Runs a query of `(key, lead columns…)` rows ordered by key and gathers one group per key.
fn gather(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<DuplicateGroup>> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query(args)?;
    let mut groups: BTreeMap<String, Vec<LeadSummary>> = BTreeMap::new();
    while let Some(r) = rows.next()? {
        let key: String = r.get(0)?;
        groups.entry(key).or_default().push(lead_row_at(r, 1)?);
    }
    let mut out: Vec<DuplicateGroup> = groups
        .into_iter()
        .filter_map(|(k, leads)| {
            reason(&k).map(|(reason, value)| DuplicateGroup { reason, value, leads })
        })
        .collect();
    out.sort_by(|a, b| (a.reason, &a.value).cmp(&(b.reason, &b.value)));
    Ok(out)
}
