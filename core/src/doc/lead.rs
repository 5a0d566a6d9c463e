//! Lead ⇄ Automerge document.

use std::collections::HashMap;

use automerge::hydrate::Value as H;
use automerge::{
    ActorId, AutoCommit, ObjType, ROOT, ReadDoc, ScalarValue, transaction::Transactable,
};

use super::*;
use crate::model::{
    CaptureChannel, CustomField, FieldConflict, Lead, LeadDraft, LeadField, LeadPatch, Money,
    Potential, Source, Stage, StageChange,
};

/// Builds a new lead document in one batch (`init_root_from_hydrate`): several times faster than
/// putting field by field, and it yields a single change that is the whole document.
/// The draft must already be validated.
pub fn create(actor: ActorId, id: &str, d: &LeadDraft, user: &str, now: i64) -> Result<AutoCommit> {
    let stage = d.stage.unwrap_or(Stage::New);
    let owner = d.owner.as_deref().unwrap_or(user);

    create_record(actor, DocKind::Lead, id, user, now, |root, enc| {
        for (k, v) in [
            ("name", &d.name),
            ("company", &d.company),
            ("title", &d.title),
            ("lost_reason", &d.lost_reason),
        ] {
            if let Some(v) = v {
                root.insert(k, H::scalar(v.as_str()));
            }
        }
        root.insert("emails", strings(&d.emails));
        root.insert("phones", strings(&d.phones));
        let mut source: HashMap<&str, H> = HashMap::new();
        source.insert("channel", H::scalar(d.channel.unwrap_or(CaptureChannel::Manual).as_str()));
        if let Some(e) = &d.event {
            source.insert("event", H::scalar(e.as_str()));
        }
        root.insert("source", source.into());
        root.insert("stage", H::scalar(stage.as_str()));
        root.insert(
            "stage_history",
            vec![history_entry(stage, now, user, d.lost_reason.as_deref())].into(),
        );
        if let Some(p) = d.potential {
            root.insert("potential", H::scalar(p.as_str()));
        }
        if let Some(m) = &d.deal_value {
            root.insert("deal", money(m));
        }
        root.insert("owner", H::scalar(owner));
        let tags: HashMap<&str, H> = d.tags.iter().map(|t| (t.as_str(), H::scalar(true))).collect();
        root.insert("tags", tags.into());
        root.insert("notes", H::text(enc, d.notes.as_deref().unwrap_or("")));
        let custom: HashMap<&str, H> =
            d.custom_fields.iter().map(|f| (f.key.as_str(), H::scalar(f.value.as_str()))).collect();
        root.insert("custom", custom.into());
        if let Some(t) = d.next_follow_up {
            root.insert("next_follow_up", H::scalar(t));
        }
    })
}

/// The lead `create` writes, as `read` would return it, built from the same draft instead of
/// read back from the document (a capture and an import skip a hydrate per lead: ~40 µs).
/// `create` and this stay side by side; a test holds them to the same answer for any draft.
pub fn created_record(id: &str, d: &LeadDraft, user: &str, now: i64) -> Lead {
    let stage = d.stage.unwrap_or(Stage::New);
    let mut tags: Vec<String> = d.tags.clone();
    tags.sort();
    tags.dedup();
    // A map in the document: a key given twice keeps its last value.
    let custom: HashMap<&str, &str> =
        d.custom_fields.iter().map(|f| (f.key.as_str(), f.value.as_str())).collect();
    let mut custom_fields: Vec<CustomField> = custom
        .into_iter()
        .map(|(k, v)| CustomField { key: k.to_string(), value: v.to_string() })
        .collect();
    custom_fields.sort();
    Lead {
        id: id.to_string(),
        name: d.name.clone(),
        company: d.company.clone(),
        title: d.title.clone(),
        emails: d.emails.clone(),
        phones: d.phones.clone(),
        source: Source {
            event: d.event.clone(),
            channel: d.channel.unwrap_or(CaptureChannel::Manual),
        },
        stage,
        lost_reason: d.lost_reason.clone().filter(|_| stage == Stage::Lost),
        stage_history: vec![StageChange {
            stage,
            at: now,
            by: user.to_string(),
            lost_reason: d.lost_reason.clone(),
        }],
        potential: d.potential,
        deal_value: d.deal_value.clone(),
        owner: d.owner.clone().unwrap_or_else(|| user.to_string()),
        tags,
        notes: d.notes.clone().unwrap_or_default(),
        custom_fields,
        next_follow_up: d.next_follow_up,
        created_at: now,
        created_by: user.to_string(),
        updated_at: now,
        updated_by: user.to_string(),
        deleted: false,
        merged_into: None,
        merged_from: Vec::new(),
        conflicts: Vec::new(),
    }
}

fn strings(v: &[String]) -> H {
    v.iter().map(|s| H::scalar(s.as_str())).collect::<Vec<_>>().into()
}

fn money(m: &Money) -> H {
    let mut map: HashMap<&str, H> = HashMap::new();
    map.insert("amount", H::scalar(m.amount_minor));
    map.insert("currency", H::scalar(m.currency.as_str()));
    map.into()
}

fn history_entry(stage: Stage, at: i64, by: &str, lost_reason: Option<&str>) -> H {
    let mut e: HashMap<&str, H> = HashMap::new();
    e.insert("stage", H::scalar(stage.as_str()));
    e.insert("at", H::scalar(at));
    e.insert("by", H::scalar(by));
    if let Some(r) = lost_reason {
        e.insert("lost_reason", H::scalar(r));
    }
    e.into()
}

/// Applies a validated patch inside the document's open transaction. Returns whether anything
/// changed; the caller commits (or rolls back if the result is not acceptable).
pub fn apply_patch(doc: &mut AutoCommit, p: &LeadPatch, user: &str, now: i64) -> Result<bool> {
    let mut changed = false;
    let source = ensure_obj(doc, &ROOT, "source", ObjType::Map)?;
    for f in &p.clear {
        changed |= match f {
            LeadField::Name => delete_if_present(doc, &ROOT, "name")?,
            LeadField::Company => delete_if_present(doc, &ROOT, "company")?,
            LeadField::Title => delete_if_present(doc, &ROOT, "title")?,
            LeadField::Event => delete_if_present(doc, &source, "event")?,
            LeadField::Potential => delete_if_present(doc, &ROOT, "potential")?,
            LeadField::DealValue => delete_if_present(doc, &ROOT, "deal")?,
            LeadField::NextFollowUp => delete_if_present(doc, &ROOT, "next_follow_up")?,
        };
    }
    for (obj, key, val) in [
        (&ROOT, "name", &p.name),
        (&ROOT, "company", &p.company),
        (&ROOT, "title", &p.title),
        (&source, "event", &p.event),
    ] {
        if let Some(v) = val {
            changed |= if v.is_empty() {
                delete_if_present(doc, obj, key)?
            } else {
                put_if_changed(doc, obj, key, v.as_str().into())?
            };
        }
    }
    if let Some(e) = &p.emails {
        changed |= replace_string_list(doc, &ROOT, "emails", e)?;
    }
    if let Some(ph) = &p.phones {
        changed |= replace_string_list(doc, &ROOT, "phones", ph)?;
    }
    if let Some(c) = p.channel {
        changed |= put_if_changed(doc, &source, "channel", c.as_str().into())?;
    }
    if let Some(stage) = p.stage {
        let current = get_str(doc, &ROOT, "stage");
        let conflicted = several_values(doc, &ROOT, "stage");
        let reason_changed = stage == Stage::Lost
            && p.lost_reason.is_some()
            && get_str(doc, &ROOT, "lost_reason") != p.lost_reason;
        if current.as_deref() != Some(stage.as_str()) || conflicted || reason_changed {
            doc.put(&ROOT, "stage", stage.as_str())?;
            match (&p.lost_reason, stage) {
                (Some(r), Stage::Lost) => doc.put(&ROOT, "lost_reason", r.as_str())?,
                _ => {
                    delete_if_present(doc, &ROOT, "lost_reason")?;
                }
            }
            let hist = ensure_obj(doc, &ROOT, "stage_history", ObjType::List)?;
            let len = doc.length(&hist);
            let entry = doc.insert_object(&hist, len, ObjType::Map)?;
            doc.put(&entry, "stage", stage.as_str())?;
            doc.put(&entry, "at", now)?;
            doc.put(&entry, "by", user)?;
            if let (Some(r), Stage::Lost) = (&p.lost_reason, stage) {
                doc.put(&entry, "lost_reason", r.as_str())?;
            }
            changed = true;
        }
    }
    if let Some(pot) = p.potential {
        changed |= put_if_changed(doc, &ROOT, "potential", pot.as_str().into())?;
    }
    if let Some(m) = &p.deal_value {
        let current = read_money(doc, &ROOT, "deal");
        if current.as_ref() != Some(m) || several_values(doc, &ROOT, "deal") {
            // A fresh map written in one change: the amount and its currency travel together.
            let deal = doc.put_object(&ROOT, "deal", ObjType::Map)?;
            doc.put(&deal, "amount", m.amount_minor)?;
            doc.put(&deal, "currency", m.currency.as_str())?;
            changed = true;
        }
    }
    if let Some(o) = &p.owner {
        changed |= put_if_changed(doc, &ROOT, "owner", o.as_str().into())?;
    }
    if let Some(t) = p.next_follow_up {
        changed |= put_if_changed(doc, &ROOT, "next_follow_up", ScalarValue::Int(t))?;
    }
    if !p.add_tags.is_empty() || !p.remove_tags.is_empty() {
        let tags = ensure_obj(doc, &ROOT, "tags", ObjType::Map)?;
        for t in &p.remove_tags {
            changed |= delete_if_present(doc, &tags, t)?;
        }
        for t in &p.add_tags {
            if doc.get(&tags, t.as_str())?.is_none() {
                doc.put(&tags, t.as_str(), true)?;
                changed = true;
            }
        }
    }
    if let Some(n) = &p.notes {
        changed |= update_text(doc, &ROOT, "notes", n)?;
    }
    if !p.set_custom_fields.is_empty() || !p.remove_custom_fields.is_empty() {
        let custom = ensure_obj(doc, &ROOT, "custom", ObjType::Map)?;
        for k in &p.remove_custom_fields {
            changed |= delete_if_present(doc, &custom, k.trim())?;
        }
        for f in &p.set_custom_fields {
            changed |= put_if_changed(doc, &custom, &f.key, f.value.as_str().into())?;
        }
    }
    if changed {
        touch(doc, user, now)?;
    }
    Ok(changed)
}

/// Soft delete or restore; the document and its history stay.
/// Records a merge on both sides: `keep` lists what was folded into it, `other` points at `keep`.
pub fn record_merge(
    keep: &mut AutoCommit,
    other: &mut AutoCommit,
    keep_id: &str,
    other_id: &str,
    user: &str,
    now: i64,
) -> Result<()> {
    let list = ensure_obj(keep, &ROOT, "merged_from", ObjType::List)?;
    let len = keep.length(&list);
    keep.insert(&list, len, other_id)?;
    touch(keep, user, now)?;
    other.put(&ROOT, "merged_into", keep_id)?;
    set_deleted(other, true, user, now)?;
    touch(other, user, now)?;
    Ok(())
}

fn read_money(doc: &AutoCommit, obj: &automerge::ObjId, key: &str) -> Option<Money> {
    let m = get_obj(doc, obj, key, ObjType::Map)?;
    Some(Money {
        amount_minor: get_i64(doc, &m, "amount")?,
        currency: get_str(doc, &m, "currency")?,
    })
}

/// The stage of a lead whose `stage` holds concurrent values. Two devices that move a lead at
/// once leave two `stage` values and two history entries, and Automerge's winner of the one
/// need not be the last of the other (op order decides the first, list order the second), so
/// screens reading the stage and reports reading the history would disagree. The rule, the
/// same on every replica since both inputs are: the current stage is the stage of the last
/// history entry, in list order, that is one of the values `stage` holds; the value Automerge
/// shows when none is (a history written by something other than this app).
fn current_stage(doc: &AutoCommit, shown: Option<Stage>, history: &[StageChange]) -> Stage {
    let values: Vec<Stage> = doc
        .get_all(&ROOT, "stage")
        .unwrap_or_default()
        .iter()
        .filter_map(|(v, id)| value_str(doc, v, id))
        .filter_map(|s| Stage::parse(&s).ok())
        .collect();
    history
        .iter()
        .rev()
        .map(|h| h.stage)
        .find(|s| values.contains(s))
        .or(shown)
        .unwrap_or(Stage::New)
}

/// Reads a lead document. Unknown or malformed fields fall back to defaults rather than failing,
/// so that a document written by a newer app version still shows what this one understands.
pub fn read(doc: &AutoCommit, id: &str) -> Result<Lead> {
    let tree = hydrate_root(doc, id, DocKind::Lead)?;
    let r = HMap::root(&tree)
        .ok_or_else(|| crate::error::Error::corrupt(id, "the root is not a map"))?;
    let source = r.map("source");
    let stage_history: Vec<StageChange> = r
        .list("stage_history")
        .filter_map(|v| {
            let e = HMap::root(v)?;
            Some(StageChange {
                stage: Stage::parse(&e.str("stage")?).ok()?,
                at: e.i64("at").unwrap_or(0),
                by: e.str("by").unwrap_or_default(),
                lost_reason: e.str("lost_reason"),
            })
        })
        .collect();
    let mut tags: Vec<String> =
        r.map("tags").map(|t| t.keys().cloned().collect()).unwrap_or_default();
    tags.sort();
    let custom = r.map("custom");
    let mut custom_fields: Vec<CustomField> = custom
        .as_ref()
        .map(|c| {
            c.keys()
                .filter_map(|k| Some(CustomField { key: k.clone(), value: c.str(k)? }))
                .collect()
        })
        .unwrap_or_default();
    custom_fields.sort();

    let mut conflicts = root_conflicts(
        doc,
        &r,
        &[
            "name",
            "company",
            "title",
            "stage",
            "lost_reason",
            "potential",
            "deal",
            "owner",
            "next_follow_up",
            "deleted",
        ],
    );
    let shown = r.str("stage").and_then(|s| Stage::parse(&s).ok());
    let stage = if r.conflicted("stage") {
        current_stage(doc, shown, &stage_history)
    } else {
        shown.unwrap_or(Stage::New)
    };
    // The stage every replica shows leads its conflict's values, as `FieldConflict` promises.
    if let Some(c) = conflicts.iter_mut().find(|c| c.field == "stage")
        && let Some(i) = c.values.iter().position(|v| v == stage.as_str())
    {
        let current = c.values.remove(i);
        c.values.insert(0, current);
    }
    let nested = [
        ("source", source.as_ref(), vec!["event", "channel"]),
        ("custom", custom.as_ref(), custom_fields.iter().map(|f| f.key.as_str()).collect()),
    ];
    for (name, map, keys) in nested {
        let Some(map) = map else { continue };
        let flagged: Vec<&str> = keys.into_iter().filter(|k| map.conflicted(k)).collect();
        if flagged.is_empty() {
            continue;
        }
        if let Some(obj) = get_obj(doc, &ROOT, name, ObjType::Map) {
            for k in flagged {
                if let Some(values) = conflict_values(doc, &obj, k) {
                    conflicts.push(FieldConflict { field: format!("{name}.{k}"), values });
                }
            }
        }
    }
    let deal = r
        .map("deal")
        .and_then(|m| Some(Money { amount_minor: m.i64("amount")?, currency: m.str("currency")? }));

    Ok(Lead {
        id: r.str("id").unwrap_or_else(|| id.to_string()),
        name: r.str("name"),
        company: r.str("company"),
        title: r.str("title"),
        emails: r.strings("emails"),
        phones: r.strings("phones"),
        source: Source {
            event: source.as_ref().and_then(|s| s.str("event")),
            channel: source
                .as_ref()
                .and_then(|s| s.str("channel"))
                .and_then(|c| CaptureChannel::parse(&c).ok())
                .unwrap_or(CaptureChannel::Manual),
        },
        stage,
        // A reason belongs to a lost lead: a concurrent move elsewhere can leave it behind.
        lost_reason: r.str("lost_reason").filter(|_| stage == Stage::Lost),
        stage_history,
        potential: r.str("potential").and_then(|s| Potential::parse(&s).ok()),
        deal_value: deal,
        owner: r.str("owner").unwrap_or_default(),
        tags,
        notes: r.text("notes"),
        custom_fields,
        next_follow_up: r.i64("next_follow_up"),
        created_at: r.i64("created_at").unwrap_or(0),
        created_by: r.str("created_by").unwrap_or_default(),
        updated_at: r.i64("updated_at").unwrap_or(0),
        updated_by: r.str("updated_by").unwrap_or_default(),
        deleted: r.bool("deleted").unwrap_or(false),
        merged_into: r.str("merged_into"),
        merged_from: r.strings("merged_from"),
        conflicts,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![Just(String::new()), "[a-c]{1,3}", "[김이박][민지서]{0,2}", "[ -~]{0,12}"]
    }

    prop_compose! {
        fn drafts()(
            name in proptest::option::of(text()),
            company in proptest::option::of(text()),
            title in proptest::option::of(text()),
            emails in proptest::collection::vec(text(), 0..3),
            phones in proptest::collection::vec(text(), 0..3),
            event in proptest::option::of(text()),
            channel in proptest::option::of(proptest::sample::select(vec![
                CaptureChannel::Manual, CaptureChannel::BadgeScan, CaptureChannel::Import])),
            stage in proptest::option::of(proptest::sample::select(vec![
                Stage::New, Stage::Qualified, Stage::Won, Stage::Lost])),
            lost_reason in proptest::option::of(text()),
            potential in proptest::option::of(proptest::sample::select(vec![
                Potential::Hot, Potential::Warm, Potential::Cold])),
            deal in proptest::option::of((any::<i64>(), "[A-Z]{3}")),
            owner in proptest::option::of(text()),
            tags in proptest::collection::vec("[a-d]{1,2}", 0..5),
            notes in proptest::option::of(text()),
            custom in proptest::collection::vec(("[a-c]{1,2}", text()), 0..4),
            next_follow_up in proptest::option::of(any::<i64>()),
        ) -> LeadDraft {
            LeadDraft {
                id: None, name, company, title, emails, phones, event, channel, stage,
                lost_reason, potential,
                deal_value: deal.map(|(amount_minor, currency)| Money { amount_minor, currency }),
                owner, tags, notes,
                custom_fields: custom
                    .into_iter()
                    .map(|(key, value)| CustomField { key, value })
                    .collect(),
                next_follow_up,
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn the_record_built_from_a_draft_is_the_one_read_from_its_document(
            d in drafts(), now in any::<i64>()
        ) {
            let id = crate::model::new_id();
            let doc = create(ActorId::random(), &id, &d, "kim", now).unwrap();
            prop_assert_eq!(created_record(&id, &d, "kim", now), read(&doc, &id).unwrap());
        }
    }
}
