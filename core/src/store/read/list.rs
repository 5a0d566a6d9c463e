//! The lead list, search, facets, follow-ups and an opened lead's timeline: reads over the
//! projections (none of them loads a document).

use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde::{Deserialize, Serialize};

use super::super::projection::lead::{LEAD_COLUMNS, lead_row};
use crate::error::{Error, Result};
use crate::model::{Facet, FollowUp, LeadFacets, LeadQuery, LeadSort, LeadSummary, Millis, Page};

fn sort_column(sort: LeadSort) -> &'static str {
    match sort {
        LeadSort::Updated => "updated_at",
        LeadSort::Created => "created_at",
        LeadSort::Name => "sort_name",
        LeadSort::Value => "value_sort",
    }
}

/// Keyset cursor: the sort value and rowid of the last row of a page. Ties break by rowid, the
/// tail of every list index (schema v11).
#[derive(Serialize, Deserialize)]
struct Cursor {
    v: serde_json::Value,
    r: i64,
}

fn encode_cursor(v: SqlValue, r: i64) -> String {
    let v = match v {
        SqlValue::Integer(i) => serde_json::Value::from(i),
        SqlValue::Text(s) => serde_json::Value::from(s),
        _ => serde_json::Value::Null,
    };
    let json = serde_json::to_string(&Cursor { v, r }).unwrap_or_default();
    json.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_cursor(s: &str) -> Result<(SqlValue, i64)> {
    if !s.len().is_multiple_of(2) || s.len() > 4096 {
        return Err(Error::BadCursor);
    }
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::BadCursor)?;
    let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| Error::BadCursor)?;
    let v = match c.v {
        serde_json::Value::Number(n) => SqlValue::Integer(n.as_i64().ok_or(Error::BadCursor)?),
        serde_json::Value::String(s) => SqlValue::Text(s),
        _ => return Err(Error::BadCursor),
    };
    Ok((v, c.r))
}

/// The FTS5 query for the words a person typed (`search_text::words`): every word must match
/// as a prefix. A word holds only letters and digits, so nothing typed is read as FTS syntax.
fn fts_query(words: &[String]) -> String {
    words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" AND ")
}

/// One page of the lead list, by keyset on the sort column and rowid.
pub(crate) fn leads(conn: &Connection, q: &LeadQuery) -> Result<Page<LeadSummary>> {
    let limit = match q.limit {
        0 => 50,
        n => n.min(500),
    };
    let col = sort_column(q.sort);
    let asc = q.ascending.unwrap_or(q.sort == LeadSort::Name);
    let mut sql = format!("SELECT {LEAD_COLUMNS}, {col}, rowid FROM leads WHERE deleted = ?");
    let mut args: Vec<SqlValue> = vec![SqlValue::Integer(q.deleted as i64)];
    if !q.stages.is_empty() {
        sql.push_str(&format!(" AND stage IN ({})", vec!["?"; q.stages.len()].join(",")));
        args.extend(q.stages.iter().map(|s| SqlValue::Text(s.as_str().into())));
    }
    for (clause, v) in [
        (" AND potential = ?", q.potential.map(|p| SqlValue::Text(p.as_str().into()))),
        (" AND owner = ?", q.owner.clone().map(SqlValue::Text)),
        (" AND event = ?", q.event.clone().map(SqlValue::Text)),
        (
            " AND rowid IN (SELECT lead FROM lead_tags WHERE tag = ?)",
            q.tag.clone().map(SqlValue::Text),
        ),
        (" AND next_follow_up <= ?", q.follow_up_due_before.map(SqlValue::Integer)),
        (" AND updated_at >= ?", q.updated_since.map(SqlValue::Integer)),
    ] {
        if let Some(v) = v {
            sql.push_str(clause);
            args.push(v);
        }
    }
    if let Some(after) = &q.after {
        let (v, r) = decode_cursor(after)?;
        sql.push_str(&format!(" AND ({col}, rowid) {} (?, ?)", if asc { ">" } else { "<" }));
        args.push(v);
        args.push(SqlValue::Integer(r));
    }
    let dir = if asc { "ASC" } else { "DESC" };
    sql.push_str(&format!(" ORDER BY {col} {dir}, rowid {dir} LIMIT {}", limit + 1));

    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    let mut items = Vec::with_capacity(limit as usize);
    let mut next = None;
    // The sort value and rowid of the last row read, as the index holds them.
    let mut last_key: Option<(SqlValue, i64)> = None;
    let key_at = LEAD_COLUMNS.split(", ").count();
    while let Some(r) = rows.next()? {
        if items.len() == limit as usize {
            next = last_key.map(|(v, rowid)| encode_cursor(v, rowid));
            break;
        }
        items.push(lead_row(r)?);
        last_key = Some((r.get(key_at)?, r.get(key_at + 1)?));
    }
    Ok(Page { items, next })
}

/// The `limit` most used events and tags of live leads (ties by name).
pub(crate) fn facets(conn: &Connection, limit: u32) -> Result<LeadFacets> {
    let facets = |sql: &str| -> Result<Vec<Facet>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map([limit], |r| Ok(Facet { value: r.get(0)?, leads: r.get(1)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    };
    Ok(LeadFacets {
        events: facets(
            "SELECT event, count(*) AS n FROM leads WHERE deleted = 0 AND event IS NOT NULL
             GROUP BY event ORDER BY n DESC, event LIMIT ?1",
        )?,
        tags: facets(
            "SELECT t.tag, count(*) AS n FROM lead_tags t JOIN leads l ON l.rowid = t.lead
             WHERE l.deleted = 0 GROUP BY t.tag ORDER BY n DESC, t.tag LIMIT ?1",
        )?,
    })
}

/// How many matches a search orders: the most recently stored live matches. FTS5 walks a
/// term's rowids newest first and stops there, so a term that matches nearly every lead
/// ("010", "a") costs what a selective one does.
pub(crate) const RANKED_MATCHES: u32 = 2_000;

/// Live leads matching every word typed as a prefix, best matches first: among the
/// `RANKED_MATCHES` most recently stored live matches (all of them for a selective term),
/// leads whose name starts with what was typed, then the others, newest first within each.
///
/// The order is stated here rather than left to FTS5's bm25: the index keeps no word
/// positions (schema v12), and bm25 scores every row of such an index alike. A rep typing a
/// few letters is looking for a person by name, or for the lead they captured last.
pub(crate) fn search(conn: &Connection, text: &str, limit: u32) -> Result<Vec<LeadSummary>> {
    search_ranking(conn, text, limit, RANKED_MATCHES)
}

/// `search`, ordering at most `ranked` matches (tests use a small bound).
pub(crate) fn search_ranking(
    conn: &Connection,
    text: &str,
    limit: u32,
    ranked: u32,
) -> Result<Vec<LeadSummary>> {
    let words: Vec<String> = crate::search_text::words(text).take(16).collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let limit = if limit == 0 { 50 } else { limit.min(500) };
    // `sort_name` is the display name in lower case. A word holds no LIKE wildcard.
    let name_prefix = format!("{}%", words.join(" "));
    // The inner query is driven by FTS5 in descending rowid order (its index consumes the
    // ORDER BY), so it stops after `ranked` live matches; only those are ordered.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {} FROM (
             SELECT f.rowid AS r FROM leads_fts f JOIN leads l ON l.rowid = f.rowid
             WHERE leads_fts MATCH ?1 AND l.deleted = 0 ORDER BY f.rowid DESC LIMIT ?3
         ) c JOIN leads l ON l.rowid = c.r
         ORDER BY l.sort_name LIKE ?4 DESC, c.r DESC LIMIT ?2",
        LEAD_COLUMNS.split(", ").map(|c| format!("l.{c}")).collect::<Vec<_>>().join(", ")
    ))?;
    let rows = stmt.query_map(
        rusqlite::params![fts_query(&words), limit, ranked.max(limit), name_prefix],
        lead_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Lead follow-ups and open tasks of `user`'s live leads due in `[from, before)`, soonest
/// first.
pub(crate) fn due_items(
    conn: &Connection,
    user: &str,
    from: Option<Millis>,
    before: Millis,
    limit: u32,
) -> Result<Vec<FollowUp>> {
    let mut stmt = conn.prepare_cached(
        "SELECT next_follow_up, id, display_name, NULL, NULL FROM leads
           WHERE owner = ?1 AND deleted = 0 AND next_follow_up IS NOT NULL AND next_follow_up >= ?2 AND next_follow_up < ?3
         UNION ALL
         SELECT a.due_at, l.id, l.display_name, a.id, a.subject FROM activities a JOIN leads l ON l.id = a.lead_id
           WHERE a.done = 0 AND a.deleted = 0 AND a.due_at IS NOT NULL AND a.due_at >= ?2 AND a.due_at < ?3 AND l.owner = ?1 AND l.deleted = 0
         ORDER BY 1, 2 LIMIT ?4",
    )?;
    let rows =
        stmt.query_map(rusqlite::params![user, from.unwrap_or(i64::MIN), before, limit], |r| {
            Ok(FollowUp {
                due_at: r.get(0)?,
                lead_id: r.get(1)?,
                lead_name: r.get(2)?,
                activity_id: r.get(3)?,
                subject: r.get(4)?,
            })
        })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Ids of a lead's live activities, newest first (the timeline's order).
pub(crate) fn activity_ids(conn: &Connection, lead_id: &str) -> Result<Vec<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM activities WHERE lead_id = ?1 AND deleted = 0
             ORDER BY coalesce(occurred_at, due_at, created_at) DESC, id DESC",
        )?
        .query_map([lead_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Live leads holding concurrent values a person should look at.
pub(crate) fn conflicted_leads(conn: &Connection) -> Result<u64> {
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM leads WHERE has_conflicts = 1 AND deleted = 0")?
        .query_row([], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}
