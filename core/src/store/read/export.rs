//! Which leads an export writes, selected from the projection.

use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;

use crate::error::Result;
use crate::export::ExportFilter;
use crate::validate::normalize_tag;

/// Ids of the leads the filter selects, in creation order.
pub(crate) fn lead_ids(conn: &Connection, f: &ExportFilter) -> Result<Vec<String>> {
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
        sql.push_str(" AND rowid IN (SELECT lead FROM lead_tags WHERE tag = ?)");
        args.push(SqlValue::Text(normalize_tag(t)));
    }
    if let Some(e) = &f.event {
        sql.push_str(" AND event = ?");
        args.push(SqlValue::Text(e.trim().to_string()));
    }
    sql.push_str(" ORDER BY created_at, id");
    let mut stmt = conn.prepare(&sql)?;
    let ids = stmt.query_map(rusqlite::params_from_iter(args), |r| r.get(0))?;
    Ok(ids.collect::<rusqlite::Result<_>>()?)
}
