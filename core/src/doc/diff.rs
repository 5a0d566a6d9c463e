//! What one change did to a record, field by field, in words a person can act on: the record
//! read before the change (at its dependencies) and after it, compared. The quarantine shows
//! this for every change a server refused, and re-applies it from the same two records.
//!
//! Values are in the stored form conflicts use (`conflicts::shown` formats them as their
//! fields): a deal as `amount currency` in minor units, a time in milliseconds, lists joined
//! with `, `. For a text (notes) `old` and `new` hold only what was removed and what was added.

use serde::{Deserialize, Serialize};

use crate::model::{Activity, Lead, Money};

/// One field a change set, cleared or edited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FieldEdit {
    /// Named as conflicts name fields: `company`, `deal`, `source.event`, `custom.size`,
    /// `tags`, `notes`, …
    pub field: String,
    /// Before; `None` when it was not set (for a text: what the change removed, if anything;
    /// for tags, e-mails and phones: the ones it removed).
    pub old: Option<String>,
    /// After; `None` when the change cleared it (for a text: what it added; for tags, e-mails
    /// and phones: the ones it added).
    pub new: Option<String>,
}

/// A change, as a person reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ChangeDetail {
    /// The record as a list names it (a lead's name, an activity's subject), or its id.
    pub record: String,
    /// The change made the record.
    pub created: bool,
    pub fields: Vec<FieldEdit>,
}

fn edit(out: &mut Vec<FieldEdit>, field: &str, old: Option<String>, new: Option<String>) {
    if old != new {
        out.push(FieldEdit { field: field.to_string(), old, new });
    }
}

fn money(m: &Option<Money>) -> Option<String> {
    m.as_ref().map(|m| format!("{} {}", m.amount_minor, m.currency))
}

fn num(n: Option<i64>) -> Option<String> {
    n.map(|n| n.to_string())
}

/// What a text edit removed and added: the part between the common start and end.
pub(crate) fn text_edit(out: &mut Vec<FieldEdit>, field: &str, old: &str, new: &str) {
    if old == new {
        return;
    }
    let (o, n): (Vec<char>, Vec<char>) = (old.chars().collect(), new.chars().collect());
    let start = o.iter().zip(&n).take_while(|(a, b)| a == b).count();
    let end =
        o[start..].iter().rev().zip(n[start..].iter().rev()).take_while(|(a, b)| a == b).count();
    let part = |v: &[char]| -> Option<String> {
        let s: String = v.iter().collect();
        (!s.is_empty()).then_some(s)
    };
    out.push(FieldEdit {
        field: field.to_string(),
        old: part(&o[start..o.len() - end]),
        new: part(&n[start..n.len() - end]),
    });
}

/// A set-like list: what went and what came.
fn set_edit(out: &mut Vec<FieldEdit>, field: &str, old: &[String], new: &[String]) {
    let went: Vec<&str> = old.iter().filter(|o| !new.contains(o)).map(String::as_str).collect();
    let came: Vec<&str> = new.iter().filter(|n| !old.contains(n)).map(String::as_str).collect();
    let joined = |v: Vec<&str>| (!v.is_empty()).then(|| v.join(", "));
    if !went.is_empty() || !came.is_empty() {
        out.push(FieldEdit { field: field.to_string(), old: joined(went), new: joined(came) });
    }
}

/// The fields of a lead a change set, from the lead before it (`None`: the change created it).
/// `updated_at`, `updated_by` and the stage history (which follows the stage) are left out.
pub fn lead_edits(before: Option<&Lead>, after: &Lead) -> Vec<FieldEdit> {
    let empty = blank_lead(&after.id);
    let b = before.unwrap_or(&empty);
    let mut out = Vec::new();
    edit(&mut out, "name", b.name.clone(), after.name.clone());
    edit(&mut out, "company", b.company.clone(), after.company.clone());
    edit(&mut out, "title", b.title.clone(), after.title.clone());
    set_edit(&mut out, "emails", &b.emails, &after.emails);
    set_edit(&mut out, "phones", &b.phones, &after.phones);
    edit(&mut out, "source.event", b.source.event.clone(), after.source.event.clone());
    if before.is_none() || b.source.channel != after.source.channel {
        edit(&mut out, "source.channel", None, Some(after.source.channel.to_string()));
    }
    if before.is_none() || b.stage != after.stage {
        edit(&mut out, "stage", before.map(|b| b.stage.to_string()), Some(after.stage.to_string()));
    }
    edit(&mut out, "lost_reason", b.lost_reason.clone(), after.lost_reason.clone());
    edit(
        &mut out,
        "potential",
        b.potential.map(|p| p.to_string()),
        after.potential.map(|p| p.to_string()),
    );
    edit(&mut out, "deal", money(&b.deal_value), money(&after.deal_value));
    edit(&mut out, "owner", before.map(|b| b.owner.clone()), Some(after.owner.clone()));
    set_edit(&mut out, "tags", &b.tags, &after.tags);
    text_edit(&mut out, "notes", &b.notes, &after.notes);
    for f in &after.custom_fields {
        let old = b.custom_fields.iter().find(|o| o.key == f.key).map(|o| o.value.clone());
        edit(&mut out, &format!("custom.{}", f.key), old, Some(f.value.clone()));
    }
    for f in b.custom_fields.iter().filter(|o| !after.custom_fields.iter().any(|a| a.key == o.key))
    {
        edit(&mut out, &format!("custom.{}", f.key), Some(f.value.clone()), None);
    }
    edit(&mut out, "next_follow_up", num(b.next_follow_up), num(after.next_follow_up));
    if b.deleted != after.deleted {
        edit(&mut out, "deleted", Some(b.deleted.to_string()), Some(after.deleted.to_string()));
    }
    edit(&mut out, "merged_into", b.merged_into.clone(), after.merged_into.clone());
    out
}

/// The fields of an activity a change set (`before`: `None` when it created it).
pub fn activity_edits(before: Option<&Activity>, after: &Activity) -> Vec<FieldEdit> {
    let mut out = Vec::new();
    let b = before;
    let opt = |f: fn(&Activity) -> Option<String>| (b.and_then(f), f(after));
    edit(&mut out, "lead_id", b.map(|b| b.lead_id.clone()), Some(after.lead_id.clone()));
    edit(&mut out, "kind", b.map(|b| b.kind.to_string()), Some(after.kind.to_string()));
    edit(&mut out, "subject", b.map(|b| b.subject.clone()), Some(after.subject.clone()));
    text_edit(&mut out, "notes", b.map_or("", |b| b.notes.as_str()), &after.notes);
    for (field, f) in [
        ("occurred_at", (|a: &Activity| num(a.occurred_at)) as fn(&Activity) -> Option<String>),
        ("due_at", |a| num(a.due_at)),
        ("duration_s", |a| num(a.duration_s)),
        ("outcome", |a| a.outcome.clone()),
        ("location", |a| {
            a.location.as_ref().map(|l| match l.accuracy_m {
                Some(acc) => format!("{},{} ±{acc}", l.lat, l.lon),
                None => format!("{},{}", l.lat, l.lon),
            })
        }),
    ] {
        let (old, new) = opt(f);
        edit(&mut out, field, old, new);
    }
    edit(&mut out, "done", b.map(|b| b.done.to_string()), Some(after.done.to_string()));
    if b.is_some_and(|b| b.deleted != after.deleted) {
        edit(
            &mut out,
            "deleted",
            b.map(|b| b.deleted.to_string()),
            Some(after.deleted.to_string()),
        );
    }
    out
}

/// The top-level fields of any other record (settings, a target, a plan), from its JSON.
pub fn json_edits(before: Option<&serde_json::Value>, after: &serde_json::Value) -> Vec<FieldEdit> {
    const SKIP: [&str; 5] = ["id", "created_at", "created_by", "updated_at", "updated_by"];
    let show = |v: &serde_json::Value| match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    };
    let mut out = Vec::new();
    let Some(after) = after.as_object() else { return out };
    for (k, v) in after.iter().filter(|(k, _)| !SKIP.contains(&k.as_str())) {
        let old = before.and_then(|b| b.get(k)).and_then(show);
        edit(&mut out, k, old, show(v));
    }
    out
}

/// What a change sets, read from its operations alone, when no version of its record before it
/// is at hand: the root fields it puts, and the text it inserts.
pub fn op_edits(change: &automerge::Change) -> Vec<FieldEdit> {
    use automerge::legacy::{Key, ObjectId, OpType};
    let decoded = change.decode();
    let mut out: Vec<FieldEdit> = Vec::new();
    let mut inserted = String::new();
    for op in &decoded.operations {
        match (&op.obj, &op.key, &op.action) {
            (ObjectId::Root, Key::Map(k), OpType::Put(v))
                if !matches!(k.as_str(), "updated_at" | "updated_by") =>
            {
                edit(&mut out, k, None, Some(super::scalar_to_string(v)));
            }
            (ObjectId::Root, Key::Map(k), OpType::Delete) => {
                out.push(FieldEdit { field: k.to_string(), old: Some("(set)".into()), new: None })
            }
            (ObjectId::Id(_), _, OpType::Put(automerge::ScalarValue::Str(s))) if op.insert => {
                inserted.push_str(s)
            }
            _ => {}
        }
    }
    if !inserted.is_empty() {
        out.push(FieldEdit { field: "text".into(), old: None, new: Some(inserted) });
    }
    out
}

fn blank_lead(id: &str) -> Lead {
    Lead {
        id: id.to_string(),
        name: None,
        company: None,
        title: None,
        emails: Vec::new(),
        phones: Vec::new(),
        source: crate::model::Source { event: None, channel: crate::model::CaptureChannel::Manual },
        stage: crate::model::Stage::New,
        lost_reason: None,
        stage_history: Vec::new(),
        potential: None,
        deal_value: None,
        owner: String::new(),
        tags: Vec::new(),
        notes: String::new(),
        custom_fields: Vec::new(),
        next_follow_up: None,
        created_at: 0,
        created_by: String::new(),
        updated_at: 0,
        updated_by: String::new(),
        deleted: false,
        merged_into: None,
        merged_from: Vec::new(),
        conflicts: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_edit_shows_what_went_and_what_came() {
        let mut out = Vec::new();
        text_edit(&mut out, "notes", "Met at the booth.", "Met at the booth. Call back Tuesday.");
        assert_eq!(out[0].old, None);
        assert_eq!(out[0].new.as_deref(), Some(" Call back Tuesday."));
        let mut out = Vec::new();
        text_edit(&mut out, "notes", "Call Monday.", "Call Tuesday.");
        assert_eq!((out[0].old.as_deref(), out[0].new.as_deref()), (Some("Mon"), Some("Tues")));
    }

    #[test]
    fn a_lead_edit_lists_only_what_changed() {
        let mut before = blank_lead("x");
        before.name = Some("Kim".into());
        before.owner = "kim".into();
        before.tags = vec!["expo".into()];
        let mut after = before.clone();
        after.company = Some("Acme".into());
        after.tags = vec!["expo".into(), "vip".into()];
        after.deal_value = Some(Money { amount_minor: 2_500_000, currency: "USD".into() });
        after.updated_at = 99;
        let e = lead_edits(Some(&before), &after);
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["company", "deal", "tags"]);
        assert_eq!(e[1].new.as_deref(), Some("2500000 USD"));
        assert_eq!((e[2].old.as_deref(), e[2].new.as_deref()), (None, Some("vip")));
    }
}
