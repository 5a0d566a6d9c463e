//! A target (or quota) of a rep or a team for a period ⇄ an Automerge document: an ordinary
//! document with a random id, one per subject, metric and period.

use automerge::hydrate::Value as H;
use automerge::{ActorId, AutoCommit, ROOT};

use super::*;
use crate::model::{SalesTarget, SubjectKind, TargetDraft, TargetMetric};

pub fn create(
    actor: ActorId,
    id: &str,
    d: &TargetDraft,
    user: &str,
    now: i64,
) -> Result<AutoCommit> {
    create_record(actor, DocKind::Target, id, user, now, |root, _| {
        root.insert("subject_kind", H::scalar(d.subject_kind.as_str()));
        root.insert("subject", H::scalar(d.subject.as_str()));
        root.insert("metric", H::scalar(d.metric.as_str()));
        root.insert("period_start", H::scalar(d.period_start));
        root.insert("period_end", H::scalar(d.period_end));
        root.insert("value", H::scalar(d.value));
        if let Some(c) = &d.currency {
            root.insert("currency", H::scalar(c.as_str()));
        }
    })
}

/// Sets a target's value (and currency, for won value).
pub fn set_value(
    doc: &mut AutoCommit,
    value: i64,
    currency: Option<&str>,
    user: &str,
    now: i64,
) -> Result<bool> {
    let mut changed = put_if_changed(doc, &ROOT, "value", ScalarValue::Int(value))?;
    if let Some(c) = currency {
        changed |= put_if_changed(doc, &ROOT, "currency", c.into())?;
    }
    if changed {
        touch(doc, user, now)?;
    }
    Ok(changed)
}

pub fn read(doc: &AutoCommit, id: &str) -> Result<SalesTarget> {
    let tree = hydrate_root(doc, id, DocKind::Target)?;
    let r = HMap::root(&tree)
        .ok_or_else(|| crate::error::Error::corrupt(id, "the root is not a map"))?;
    let bad =
        |what: &str| crate::error::Error::corrupt(id, format!("target without a valid {what}"));
    Ok(SalesTarget {
        id: r.str("id").unwrap_or_else(|| id.to_string()),
        subject_kind: r
            .str("subject_kind")
            .and_then(|s| SubjectKind::parse(&s).ok())
            .ok_or_else(|| bad("subject kind"))?,
        subject: r.str("subject").ok_or_else(|| bad("subject"))?,
        metric: r
            .str("metric")
            .and_then(|s| TargetMetric::parse(&s).ok())
            .ok_or_else(|| bad("metric"))?,
        period_start: r.i64("period_start").ok_or_else(|| bad("period"))?,
        period_end: r.i64("period_end").ok_or_else(|| bad("period"))?,
        value: r.i64("value").unwrap_or(0),
        currency: r.str("currency"),
        deleted: r.bool("deleted").unwrap_or(false),
        created_at: r.i64("created_at").unwrap_or(0),
        created_by: r.str("created_by").unwrap_or_default(),
        updated_at: r.i64("updated_at").unwrap_or(0),
        updated_by: r.str("updated_by").unwrap_or_default(),
    })
}

// ---- compensation plans --------------------------------------------------------------------
