//! Reads over the projections: lists, search and follow-ups. None of these load a document.

use rusqlite::types::Value as SqlValue;
use serde::{Deserialize, Serialize};

use crate::calendar::Zone;
use crate::model::{CaptureChannel, Millis, Money, Potential, Stage};
use crate::store::Store;
use crate::store::projection::LEAD_COLUMNS;
use crate::{Error, Result};

/// A lead as a list row shows it, straight from the projection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LeadSummary {
    pub id: String,
    pub name: Option<String>,
    pub display_name: String,
    pub company: Option<String>,
    pub title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub event: Option<String>,
    pub channel: CaptureChannel,
    pub stage: Stage,
    pub potential: Option<Potential>,
    pub deal_value: Option<Money>,
    pub owner: String,
    pub next_follow_up: Option<Millis>,
    pub created_at: Millis,
    pub created_by: String,
    pub updated_at: Millis,
    pub updated_by: String,
    pub deleted: bool,
    pub tags: Vec<String>,
    pub has_conflicts: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum LeadSort {
    #[default]
    Updated,
    Created,
    Name,
    Value,
}

impl LeadSort {
    fn column(self) -> &'static str {
        match self {
            LeadSort::Updated => "updated_at",
            LeadSort::Created => "created_at",
            LeadSort::Name => "sort_name",
            LeadSort::Value => "value_sort",
        }
    }

    pub fn parse(s: &str) -> Result<LeadSort, crate::ValidationError> {
        match s {
            "updated" => Ok(LeadSort::Updated),
            "created" => Ok(LeadSort::Created),
            "name" => Ok(LeadSort::Name),
            "value" => Ok(LeadSort::Value),
            _ => Err(crate::ValidationError::UnknownValue {
                field: "sort",
                value: s.into(),
                expected: "updated created name value",
            }),
        }
    }
}

/// Filters and order for the lead list. Every filter is optional; `after` is the `next` cursor
/// of the previous page.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct LeadQuery {
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub stages: Vec<Stage>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub potential: Option<Potential>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub owner: Option<String>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub tag: Option<String>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub event: Option<String>,
    /// Leads whose next follow-up is at or before this time.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub follow_up_due_before: Option<Millis>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub updated_since: Option<Millis>,
    /// List the deleted leads (the bin) instead of the live ones.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub deleted: bool,
    pub sort: LeadSort,
    /// Defaults to newest/largest first, and A→Z for names.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub ascending: Option<bool>,
    /// 1 to 500; 0 means 50.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub limit: u32,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub after: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; `None` on the last page.
    pub next: Option<String>,
}

/// A reminder: a lead's next follow-up, or an open task on one of the user's leads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FollowUp {
    pub due_at: Millis,
    pub lead_id: String,
    pub lead_name: String,
    pub activity_id: Option<String>,
    pub subject: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FollowUps {
    pub overdue: Vec<FollowUp>,
    pub today: Vec<FollowUp>,
    /// Due after today, within the next seven days.
    pub upcoming: Vec<FollowUp>,
}

/// A value to filter the list by and how many live leads have it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Facet {
    pub value: String,
    pub leads: u32,
}

/// The events and tags of the live leads, most used first: the choices of the list's filters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LeadFacets {
    pub events: Vec<Facet>,
    pub tags: Vec<Facet>,
}

/// Keyset cursor: the sort value and id of the last row of a page.
#[derive(Serialize, Deserialize)]
struct Cursor {
    v: serde_json::Value,
    id: String,
}

fn encode_cursor(v: SqlValue, id: &str) -> String {
    let v = match v {
        SqlValue::Integer(i) => serde_json::Value::from(i),
        SqlValue::Text(s) => serde_json::Value::from(s),
        _ => serde_json::Value::Null,
    };
    let json = serde_json::to_string(&Cursor { v, id: id.to_string() }).unwrap_or_default();
    json.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_cursor(s: &str) -> Result<(SqlValue, String)> {
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
    Ok((v, c.id))
}

/// Turns what a person types into an FTS5 query: every word must match as a prefix, and
/// nothing they type is read as FTS syntax.
pub(crate) fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(16)
        .map(|t| format!("\"{}\"*", t.to_lowercase()))
        .collect();
    if terms.is_empty() { None } else { Some(terms.join(" AND ")) }
}

impl Store {
    pub fn list_leads(&self, q: &LeadQuery) -> Result<Page<crate::query::LeadSummary>> {
        let limit = match q.limit {
            0 => 50,
            n => n.min(500),
        };
        let col = q.sort.column();
        let asc = q.ascending.unwrap_or(q.sort == LeadSort::Name);
        let mut sql = format!("SELECT {LEAD_COLUMNS}, {col} FROM leads WHERE deleted = ?");
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
                " AND id IN (SELECT lead_id FROM lead_tags WHERE tag = ?)",
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
            let (v, id) = decode_cursor(after)?;
            sql.push_str(&format!(" AND ({col}, id) {} (?, ?)", if asc { ">" } else { "<" }));
            args.push(v);
            args.push(SqlValue::Text(id));
        }
        let dir = if asc { "ASC" } else { "DESC" };
        sql.push_str(&format!(" ORDER BY {col} {dir}, id {dir} LIMIT {}", limit + 1));

        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut items = Vec::with_capacity(limit as usize);
        let mut next = None;
        while let Some(r) = rows.next()? {
            if items.len() == limit as usize {
                if let Some(last) = items.last() {
                    let last: &LeadSummary = last;
                    let key: SqlValue = match q.sort {
                        LeadSort::Updated => SqlValue::Integer(last.updated_at),
                        LeadSort::Created => SqlValue::Integer(last.created_at),
                        LeadSort::Name => SqlValue::Text(last.display_name.to_lowercase()),
                        LeadSort::Value => SqlValue::Integer(
                            last.deal_value.as_ref().map_or(-1, |m| m.amount_minor),
                        ),
                    };
                    next = Some(encode_cursor(key, &last.id));
                }
                break;
            }
            items.push(LeadSummary::from_row(r)?);
        }
        Ok(Page { items, next })
    }

    /// The `limit` most used events and tags of live leads (ties by name).
    pub fn lead_facets(&self, limit: u32) -> Result<LeadFacets> {
        let conn = self.reader();
        let facets = |sql: &str| -> Result<Vec<Facet>> {
            let mut stmt = conn.prepare_cached(sql)?;
            let rows =
                stmt.query_map([limit], |r| Ok(Facet { value: r.get(0)?, leads: r.get(1)? }))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        Ok(LeadFacets {
            events: facets(
                "SELECT event, count(*) AS n FROM leads WHERE deleted = 0 AND event IS NOT NULL
                 GROUP BY event ORDER BY n DESC, event LIMIT ?1",
            )?,
            tags: facets(
                "SELECT t.tag, count(*) AS n FROM lead_tags t JOIN leads l ON l.id = t.lead_id
                 WHERE l.deleted = 0 GROUP BY t.tag ORDER BY n DESC, t.tag LIMIT ?1",
            )?,
        })
    }

    /// Full-text search over name, company, e-mail, phone, notes and tags; every word typed is
    /// matched as a prefix ("acm" finds "Acme"). Best matches first.
    pub fn search_leads(&self, text: &str, limit: u32) -> Result<Vec<LeadSummary>> {
        let Some(q) = fts_query(text) else { return Ok(Vec::new()) };
        let limit = if limit == 0 { 50 } else { limit.min(500) };
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {} FROM leads_fts f JOIN leads l ON l.rowid = f.rowid
             WHERE leads_fts MATCH ?1 AND l.deleted = 0 ORDER BY f.rank LIMIT ?2",
            LEAD_COLUMNS.split(", ").map(|c| format!("l.{c}")).collect::<Vec<_>>().join(", ")
        ))?;
        let rows = stmt.query_map(rusqlite::params![q, limit], LeadSummary::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Follow-ups for `user`: overdue (before `now`), due later today (before the next local
    /// midnight in `zone`), and upcoming in the seven local days after today.
    pub fn follow_ups(&self, user: &str, now: Millis, zone: &Zone) -> Result<FollowUps> {
        let end_of_day = zone.end_of_day(now);
        let horizon = (0..7).fold(end_of_day, |t, _| zone.end_of_day(t));
        let mut out = FollowUps::default();
        for f in self.due_items(user, None, horizon, u32::MAX)? {
            if f.due_at < now {
                out.overdue.push(f)
            } else if f.due_at < end_of_day {
                out.today.push(f)
            } else {
                out.upcoming.push(f)
            }
        }
        Ok(out)
    }

    /// The next `limit` reminder times for `user` at or after `now`, soonest first: what a phone
    /// schedules as local notifications (call again after every sync or edit).
    pub fn reminders(&self, user: &str, now: Millis, limit: u32) -> Result<Vec<FollowUp>> {
        self.due_items(user, Some(now), i64::MAX, limit)
    }

    /// Lead follow-ups and open tasks of `user`'s live leads due in `[from, before)`.
    fn due_items(
        &self,
        user: &str,
        from: Option<Millis>,
        before: Millis,
        limit: u32,
    ) -> Result<Vec<FollowUp>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT next_follow_up, id, display_name, NULL, NULL FROM leads
               WHERE owner = ?1 AND deleted = 0 AND next_follow_up IS NOT NULL AND next_follow_up >= ?2 AND next_follow_up < ?3
             UNION ALL
             SELECT a.due_at, l.id, l.display_name, a.id, a.subject FROM activities a JOIN leads l ON l.id = a.lead_id
               WHERE a.done = 0 AND a.deleted = 0 AND a.due_at IS NOT NULL AND a.due_at >= ?2 AND a.due_at < ?3 AND l.owner = ?1 AND l.deleted = 0
             ORDER BY 1, 2 LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            rusqlite::params![user, from.unwrap_or(i64::MIN), before, limit],
            |r| {
                Ok(FollowUp {
                    due_at: r.get(0)?,
                    lead_id: r.get(1)?,
                    lead_name: r.get(2)?,
                    activity_id: r.get(3)?,
                    subject: r.get(4)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
