//! Activity ⇄ Automerge document.

use std::collections::HashMap;

use automerge::hydrate::Value as H;
use automerge::{ActorId, AutoCommit, ObjType, ROOT, ScalarValue, transaction::Transactable};

use super::*;
use crate::model::{Activity, ActivityDraft, ActivityField, ActivityKind, ActivityPatch, Location};

/// Builds a new activity document in one batch. The draft must already be validated.
pub fn create(
    actor: ActorId,
    id: &str,
    d: &ActivityDraft,
    user: &str,
    now: i64,
) -> Result<AutoCommit> {
    create_record(actor, DocKind::Activity, id, user, now, |root, enc| {
        root.insert("lead_id", H::scalar(d.lead_id.as_str()));
        root.insert("kind", H::scalar(d.kind.as_str()));
        root.insert("subject", H::scalar(d.subject.as_str()));
        root.insert("notes", H::text(enc, d.notes.as_deref().unwrap_or("")));
        // A task is something to do later; anything else is something that just happened.
        let is_task = d.kind == ActivityKind::Task;
        let occurred = d.occurred_at.or(if is_task { None } else { Some(now) });
        if let Some(t) = occurred {
            root.insert("occurred_at", H::scalar(t));
        }
        if let Some(t) = d.due_at {
            root.insert("due_at", H::scalar(t));
        }
        root.insert("done", H::scalar(d.done.unwrap_or(!is_task)));
        if let Some(s) = d.duration_s {
            root.insert("duration_s", H::scalar(s));
        }
        if let Some(o) = &d.outcome {
            root.insert("outcome", H::scalar(o.as_str()));
        }
        if let Some(l) = &d.location {
            root.insert("location", location(l));
        }
    })
}

fn location(l: &Location) -> H {
    let mut m: HashMap<&str, H> = HashMap::new();
    m.insert("lat", H::scalar(l.lat));
    m.insert("lon", H::scalar(l.lon));
    if let Some(a) = l.accuracy_m {
        m.insert("accuracy_m", H::scalar(a));
    }
    m.into()
}

pub fn apply_patch(doc: &mut AutoCommit, p: &ActivityPatch, user: &str, now: i64) -> Result<bool> {
    let mut changed = false;
    for f in &p.clear {
        changed |= match f {
            ActivityField::OccurredAt => delete_if_present(doc, &ROOT, "occurred_at")?,
            ActivityField::DueAt => delete_if_present(doc, &ROOT, "due_at")?,
            ActivityField::DurationS => delete_if_present(doc, &ROOT, "duration_s")?,
            ActivityField::Outcome => delete_if_present(doc, &ROOT, "outcome")?,
            ActivityField::Location => delete_if_present(doc, &ROOT, "location")?,
        };
    }
    if let Some(k) = p.kind {
        changed |= put_if_changed(doc, &ROOT, "kind", k.as_str().into())?;
    }
    if let Some(s) = &p.subject {
        changed |= put_if_changed(doc, &ROOT, "subject", s.as_str().into())?;
    }
    if let Some(n) = &p.notes {
        changed |= update_text(doc, &ROOT, "notes", n)?;
    }
    for (key, v) in
        [("occurred_at", p.occurred_at), ("due_at", p.due_at), ("duration_s", p.duration_s)]
    {
        if let Some(v) = v {
            changed |= put_if_changed(doc, &ROOT, key, ScalarValue::Int(v))?;
        }
    }
    if let Some(d) = p.done {
        changed |= put_if_changed(doc, &ROOT, "done", d.into())?;
    }
    if let Some(o) = &p.outcome {
        changed |= put_if_changed(doc, &ROOT, "outcome", o.as_str().into())?;
    }
    if let Some(l) = &p.location
        && read_location(doc).as_ref() != Some(l)
    {
        let m = doc.put_object(&ROOT, "location", ObjType::Map)?;
        doc.put(&m, "lat", l.lat)?;
        doc.put(&m, "lon", l.lon)?;
        if let Some(a) = l.accuracy_m {
            doc.put(&m, "accuracy_m", a)?;
        }
        changed = true;
    }
    if changed {
        touch(doc, user, now)?;
    }
    Ok(changed)
}

/// Moves an activity to another lead (used when two leads are merged).
pub fn move_to_lead(doc: &mut AutoCommit, lead_id: &str, user: &str, now: i64) -> Result<bool> {
    let changed = put_if_changed(doc, &ROOT, "lead_id", lead_id.into())?;
    if changed {
        touch(doc, user, now)?;
    }
    Ok(changed)
}

fn read_location(doc: &AutoCommit) -> Option<Location> {
    let m = get_obj(doc, &ROOT, "location", ObjType::Map)?;
    Some(Location {
        lat: get_f64(doc, &m, "lat")?,
        lon: get_f64(doc, &m, "lon")?,
        accuracy_m: get_f64(doc, &m, "accuracy_m"),
    })
}

pub fn read(doc: &AutoCommit, id: &str) -> Result<Activity> {
    let tree = hydrate_root(doc, id, DocKind::Activity)?;
    let r = HMap::root(&tree)
        .ok_or_else(|| crate::error::Error::corrupt(id, "the root is not a map"))?;
    let conflicts = root_conflicts(
        doc,
        &r,
        &[
            "kind",
            "subject",
            "occurred_at",
            "due_at",
            "done",
            "duration_s",
            "outcome",
            "location",
            "deleted",
            "lead_id",
        ],
    );
    let location = r.map("location").and_then(|m| {
        Some(Location { lat: m.f64("lat")?, lon: m.f64("lon")?, accuracy_m: m.f64("accuracy_m") })
    });
    Ok(Activity {
        id: r.str("id").unwrap_or_else(|| id.to_string()),
        lead_id: r
            .str("lead_id")
            .ok_or_else(|| crate::error::Error::corrupt(id, "activity without a lead"))?,
        kind: r
            .str("kind")
            .and_then(|k| ActivityKind::parse(&k).ok())
            .unwrap_or(ActivityKind::Note),
        subject: r.str("subject").unwrap_or_default(),
        notes: r.text("notes"),
        occurred_at: r.i64("occurred_at"),
        due_at: r.i64("due_at"),
        done: r.bool("done").unwrap_or(false),
        duration_s: r.i64("duration_s"),
        outcome: r.str("outcome"),
        location,
        created_at: r.i64("created_at").unwrap_or(0),
        created_by: r.str("created_by").unwrap_or_default(),
        updated_at: r.i64("updated_at").unwrap_or(0),
        updated_by: r.str("updated_by").unwrap_or_default(),
        deleted: r.bool("deleted").unwrap_or(false),
        conflicts,
    })
}
