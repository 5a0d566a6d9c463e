//! Strict shape checks of a document, for the sync server: a client can craft any Automerge
//! change, so before the server stores one it checks that the resulting document still has the
//! layout this app writes (types, enum spellings, limits). Every concurrent value of a field is
//! checked, not only the visible one, since a losing value can win later.

use std::collections::HashMap;

use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use super::{DocKind, SCHEMA_VERSION};
use crate::model::{ActivityKind, CaptureChannel, Potential, Stage};
use crate::validate as v;

type Check = Result<(), String>;

/// Every value of every key of one map, read in one pass. A `get_all` per key seeks through the
/// object from its start each time, and with thirty keys the check cost more than loading the
/// document; here only keys that hold concurrent values are read again with `get_all`.
struct Fields<'a> {
    map: HashMap<String, Vec<(Value<'a>, ObjId)>>,
}

impl<'a> Fields<'a> {
    fn of(doc: &'a AutoCommit, obj: &ObjId) -> Fields<'a> {
        let mut map = HashMap::new();
        for item in doc.map_range(obj, ..) {
            let all = if item.conflict {
                doc.get_all(obj, item.key.as_ref()).unwrap_or_default()
            } else {
                let id = item.id();
                vec![(item.value.into_value(), id)]
            };
            map.insert(item.key.into_owned(), all);
        }
        Fields { map }
    }

    fn values(&self, key: &str) -> &[(Value<'a>, ObjId)] {
        self.map.get(key).map_or(&[], Vec::as_slice)
    }

    fn scalar(&self, key: &str, required: bool, ok: &dyn Fn(&ScalarValue) -> bool) -> Check {
        let all = self.values(key);
        if all.is_empty() && required {
            return Err(format!("'{key}' is missing"));
        }
        for (val, _) in all {
            match val {
                Value::Scalar(s) if ok(s) => {}
                _ => return Err(format!("'{key}' has a value of the wrong type or out of range")),
            }
        }
        Ok(())
    }

    fn object(&self, key: &str, ty: ObjType, required: bool) -> Result<Option<ObjId>, String> {
        let all = self.values(key);
        if all.is_empty() {
            return if required { Err(format!("'{key}' is missing")) } else { Ok(None) };
        }
        let mut winner = None;
        for (val, id) in all {
            match val {
                Value::Object(t) if *t == ty => winner = Some(id.clone()),
                _ => return Err(format!("'{key}' must be a {ty}")),
            }
        }
        Ok(winner)
    }

    /// The maps held under `key`, one per concurrent value; anything else is an error.
    fn maps(&self, key: &str) -> Result<Vec<ObjId>, String> {
        self.values(key)
            .iter()
            .map(|(val, id)| match val {
                Value::Object(ObjType::Map) => Ok(id.clone()),
                _ => Err(format!("'{key}' must be a map")),
            })
            .collect()
    }
}

fn text_field(max: usize) -> impl Fn(&ScalarValue) -> bool {
    move |s| matches!(s, ScalarValue::Str(t) if t.chars().count() <= max)
}

fn enum_field(parse: fn(&str) -> bool) -> impl Fn(&ScalarValue) -> bool {
    move |s| matches!(s, ScalarValue::Str(t) if parse(t))
}

fn int(s: &ScalarValue) -> bool {
    matches!(s, ScalarValue::Int(_) | ScalarValue::Uint(_) | ScalarValue::Timestamp(_))
}

fn common(root: &Fields, id: &str, type_name: &str) -> Check {
    root.scalar("schema", true, &|s| {
        matches!(s, ScalarValue::Uint(n) if *n >= 1 && *n <= SCHEMA_VERSION)
            || matches!(s, ScalarValue::Int(n) if *n >= 1 && *n as u64 <= SCHEMA_VERSION)
    })?;
    root.scalar("type", true, &|s| matches!(s, ScalarValue::Str(t) if t == type_name))?;
    root.scalar("id", true, &|s| matches!(s, ScalarValue::Str(t) if t == id))?;
    for k in ["created_at", "updated_at"] {
        root.scalar(k, true, &int)?;
    }
    for k in ["created_by", "updated_by"] {
        root.scalar(k, true, &text_field(v::MAX_SHORT_TEXT))?;
    }
    root.scalar("deleted", true, &|s| matches!(s, ScalarValue::Boolean(_)))?;
    Ok(())
}

fn string_list(
    doc: &AutoCommit,
    root: &Fields,
    key: &str,
    max_items: usize,
    max_len: usize,
) -> Check {
    if let Some(list) = root.object(key, ObjType::List, true)? {
        if doc.length(&list) > max_items {
            return Err(format!("'{key}' has too many entries"));
        }
        for (val, _) in doc.values(&list) {
            match val {
                Value::Scalar(s) if text_field(max_len)(&s) => {}
                _ => return Err(format!("'{key}' must hold short strings")),
            }
        }
    }
    Ok(())
}

pub fn check(doc: &AutoCommit, id: &str, kind: DocKind) -> Check {
    // The settings id is reserved: a record of another kind there would keep the workspace from
    // ever having its settings document.
    if id == super::sales::SETTINGS_ID && kind != DocKind::Settings {
        return Err(format!("{id} is reserved for the sales process settings"));
    }
    let root = Fields::of(doc, &ROOT);
    match kind {
        DocKind::Lead => check_lead(doc, &root, id),
        DocKind::Activity => check_activity(doc, &root, id),
        DocKind::Settings => check_settings(&root, id),
        DocKind::Target => check_target(doc, &root, id),
        DocKind::CompPlan => check_plan(doc, &root, id),
    }
}

fn bp(max: i64) -> impl Fn(&ScalarValue) -> bool {
    move |s| {
        matches!(s, ScalarValue::Int(n) if (0..=max).contains(n))
            || matches!(s, ScalarValue::Uint(n) if *n <= max as u64)
    }
}

/// Settings are flat root keys (see `doc/sales.rs`); any other key is refused, so that a
/// crafted change cannot smuggle data into the one document every user receives.
fn check_settings(root: &Fields, id: &str) -> Check {
    if id != super::sales::SETTINGS_ID {
        return Err(format!("the settings document has the id {}", super::sales::SETTINGS_ID));
    }
    common(root, id, "settings")?;
    let fixed =
        ["schema", "type", "id", "created_at", "updated_at", "created_by", "updated_by", "deleted"];
    for k in root.map.keys() {
        if fixed.contains(&k.as_str()) {
            continue;
        }
        let rest = k.strip_prefix("stage.").ok_or_else(|| format!("unknown setting '{k}'"))?;
        let (stage, what) = rest.split_once('.').ok_or_else(|| format!("unknown setting '{k}'"))?;
        if Stage::parse(stage).map(|s| s.as_str() != stage).unwrap_or(true) {
            return Err(format!("unknown stage in '{k}'"));
        }
        match what {
            "name" => root.scalar(k, true, &|s| matches!(s, ScalarValue::Str(t) if !t.trim().is_empty() && t.chars().count() <= v::MAX_SHORT_TEXT))?,
            "probability_bp" => root.scalar(k, true, &bp(crate::model::FULL_BP as i64))?,
            w => match w.strip_prefix("require.") {
                Some(f) if crate::model::RequiredField::parse(f).map(|x| x.as_str() == f).unwrap_or(false) => {
                    root.scalar(k, true, &|s| matches!(s, ScalarValue::Boolean(_)))?
                }
                _ => return Err(format!("unknown setting '{k}'")),
            },
        }
    }
    Ok(())
}

fn check_target(doc: &AutoCommit, root: &Fields, id: &str) -> Check {
    common(root, id, "target")?;
    root.scalar(
        "subject_kind",
        true,
        &enum_field(|t| crate::model::SubjectKind::parse(t).is_ok()),
    )?;
    root.scalar("subject", true, &|s| matches!(s, ScalarValue::Str(t) if !t.is_empty() && t.chars().count() <= v::MAX_SHORT_TEXT))?;
    root.scalar("metric", true, &enum_field(|t| crate::model::TargetMetric::parse(t).is_ok()))?;
    root.scalar("period_start", true, &int)?;
    root.scalar("period_end", true, &int)?;
    root.scalar("value", true, &bp(i64::MAX))?;
    root.scalar(
        "currency",
        false,
        &|s| matches!(s, ScalarValue::Str(c) if v::currency(c).is_ok()),
    )?;
    let metric = super::get_str(doc, &ROOT, "metric").unwrap_or_default();
    let has_currency = !root.values("currency").is_empty();
    if (metric == "won_value") != has_currency {
        return Err("a won value target, and only it, has a currency".into());
    }
    match (super::get_i64(doc, &ROOT, "period_start"), super::get_i64(doc, &ROOT, "period_end")) {
        (Some(s), Some(e)) if e > s => Ok(()),
        _ => Err("the period must end after it starts".into()),
    }
}

fn check_plan(doc: &AutoCommit, root: &Fields, id: &str) -> Check {
    common(root, id, "comp_plan")?;
    root.scalar("rep", true, &|s| matches!(s, ScalarValue::Str(t) if !t.is_empty() && t.chars().count() <= v::MAX_SHORT_TEXT))?;
    root.scalar("rate_bp", true, &bp(crate::model::FULL_BP as i64))?;
    let bases = root.maps("base")?;
    if bases.is_empty() {
        return Err("'base' is missing".into());
    }
    for base in bases {
        let base = Fields::of(doc, &base);
        base.scalar("amount", true, &bp(i64::MAX))?;
        base.scalar(
            "currency",
            true,
            &|s| matches!(s, ScalarValue::Str(c) if v::currency(c).is_ok()),
        )?;
    }
    for (val, tiers) in root.values("tiers") {
        if !matches!(val, Value::Object(ObjType::List)) {
            return Err("'tiers' must be a list".into());
        }
        if doc.length(tiers) > crate::model::MAX_TIERS {
            return Err("'tiers' has too many entries".into());
        }
        for (val, t) in doc.values(tiers) {
            match val {
                Value::Object(ObjType::Map) => {
                    let t = Fields::of(doc, &t);
                    t.scalar("from_bp", true, &bp(crate::model::MAX_TIER_FROM_BP as i64))?;
                    t.scalar("rate_bp", true, &bp(crate::model::FULL_BP as i64))?;
                }
                _ => return Err("'tiers' must hold maps".into()),
            }
        }
    }
    Ok(())
}

fn check_lead(doc: &AutoCommit, root: &Fields, id: &str) -> Check {
    common(root, id, "lead")?;
    for k in ["name", "company", "title", "lost_reason"] {
        root.scalar(k, false, &text_field(v::MAX_SHORT_TEXT))?;
    }
    root.scalar("owner", true, &|s| matches!(s, ScalarValue::Str(t) if !t.is_empty() && t.chars().count() <= v::MAX_SHORT_TEXT))?;
    root.scalar("stage", true, &enum_field(|t| Stage::parse(t).is_ok()))?;
    root.scalar("potential", false, &enum_field(|t| Potential::parse(t).is_ok()))?;
    root.scalar("next_follow_up", false, &int)?;
    string_list(doc, root, "emails", v::MAX_CONTACTS, 254)?;
    root.scalar(
        "merged_into",
        false,
        &|s| matches!(s, ScalarValue::Str(t) if uuid::Uuid::parse_str(t).is_ok()),
    )?;
    if root.object("merged_from", ObjType::List, false)?.is_some() {
        string_list(doc, root, "merged_from", 1_000, 36)?;
    }
    string_list(doc, root, "phones", v::MAX_CONTACTS, 40)?;
    if let Some(source) = root.object("source", ObjType::Map, true)? {
        let source = Fields::of(doc, &source);
        source.scalar("channel", true, &enum_field(|t| CaptureChannel::parse(t).is_ok()))?;
        source.scalar("event", false, &text_field(v::MAX_SHORT_TEXT))?;
    }
    for deal in root.maps("deal")? {
        let deal = Fields::of(doc, &deal);
        deal.scalar("amount", true, &|s| {
            matches!(s, ScalarValue::Int(n) if *n >= 0) || matches!(s, ScalarValue::Uint(_))
        })?;
        deal.scalar(
            "currency",
            true,
            &|s| matches!(s, ScalarValue::Str(c) if v::currency(c).is_ok()),
        )?;
    }
    if let Some(tags) = root.object("tags", ObjType::Map, true)? {
        let tags = Fields::of(doc, &tags);
        if tags.map.len() > v::MAX_TAGS {
            return Err("too many tags".into());
        }
        for k in tags.map.keys() {
            if k.chars().count() > v::MAX_TAG {
                return Err("a tag is too long".into());
            }
            tags.scalar(k, true, &|s| matches!(s, ScalarValue::Boolean(true)))?;
        }
    }
    if let Some(custom) = root.object("custom", ObjType::Map, true)? {
        let custom = Fields::of(doc, &custom);
        if custom.map.len() > v::MAX_CUSTOM_FIELDS {
            return Err("too many custom fields".into());
        }
        for k in custom.map.keys() {
            if k.chars().count() > v::MAX_CUSTOM_KEY {
                return Err("a custom field name is too long".into());
            }
            custom.scalar(k, true, &text_field(v::MAX_CUSTOM_VALUE))?;
        }
    }
    notes(doc, root)?;
    if let Some(hist) = root.object("stage_history", ObjType::List, true)? {
        for (val, e) in doc.values(&hist) {
            match val {
                Value::Object(ObjType::Map) => {
                    let e = Fields::of(doc, &e);
                    e.scalar("stage", true, &enum_field(|t| Stage::parse(t).is_ok()))?;
                    e.scalar("at", true, &int)?;
                    e.scalar("by", true, &text_field(v::MAX_SHORT_TEXT))?;
                    e.scalar("lost_reason", false, &text_field(v::MAX_SHORT_TEXT))?;
                }
                _ => return Err("'stage_history' must hold maps".into()),
            }
        }
    }
    Ok(())
}

fn notes(doc: &AutoCommit, root: &Fields) -> Check {
    if let Some(t) = root.object("notes", ObjType::Text, true)?
        && doc.length(&t) > v::MAX_NOTES
    {
        return Err("'notes' is too long".into());
    }
    Ok(())
}

fn check_activity(doc: &AutoCommit, root: &Fields, id: &str) -> Check {
    common(root, id, "activity")?;
    root.scalar(
        "lead_id",
        true,
        &|s| matches!(s, ScalarValue::Str(t) if uuid::Uuid::parse_str(t).is_ok()),
    )?;
    root.scalar("kind", true, &enum_field(|t| ActivityKind::parse(t).is_ok()))?;
    root.scalar("subject", true, &text_field(v::MAX_SUBJECT))?;
    root.scalar("outcome", false, &text_field(v::MAX_SHORT_TEXT))?;
    for k in ["occurred_at", "due_at", "duration_s"] {
        root.scalar(k, false, &int)?;
    }
    root.scalar("done", true, &|s| matches!(s, ScalarValue::Boolean(_)))?;
    notes(doc, root)?;
    for loc in root.maps("location")? {
        let loc = Fields::of(doc, &loc);
        loc.scalar(
            "lat",
            true,
            &|s| matches!(s, ScalarValue::F64(x) if (-90.0..=90.0).contains(x)),
        )?;
        loc.scalar(
            "lon",
            true,
            &|s| matches!(s, ScalarValue::F64(x) if (-180.0..=180.0).contains(x)),
        )?;
        loc.scalar("accuracy_m", false, &|s| matches!(s, ScalarValue::F64(x) if *x >= 0.0))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ActivityDraft, LeadDraft};
    use automerge::transaction::Transactable;

    fn lead_doc() -> (AutoCommit, String) {
        let id = crate::model::new_id();
        let d =
            LeadDraft { name: Some("Kim".into()), tags: vec!["a".into()], ..Default::default() };
        (super::super::lead::create(automerge::ActorId::random(), &id, &d, "rep", 1).unwrap(), id)
    }

    #[test]
    fn documents_this_app_writes_pass() {
        let (d, id) = lead_doc();
        check(&d, &id, DocKind::Lead).unwrap();
        let aid = crate::model::new_id();
        let a = super::super::activity::create(
            automerge::ActorId::random(),
            &aid,
            &ActivityDraft::new(&id, ActivityKind::Call, "x"),
            "rep",
            1,
        )
        .unwrap();
        check(&a, &aid, DocKind::Activity).unwrap();
        assert!(check(&a, &aid, DocKind::Lead).is_err());
    }

    #[test]
    fn crafted_changes_are_caught() {
        type Mutation = Box<dyn Fn(&mut AutoCommit)>;
        let cases: Vec<(&str, Mutation)> = vec![
            ("stage", Box::new(|d| d.put(&ROOT, "stage", "bribed").unwrap())),
            ("owner", Box::new(|d| d.put(&ROOT, "owner", 42).unwrap())),
            ("owner", Box::new(|d| d.delete(&ROOT, "owner").unwrap())),
            ("id", Box::new(|d| d.put(&ROOT, "id", "other").unwrap())),
            ("schema", Box::new(|d| d.put(&ROOT, "schema", 99u64).unwrap())),
            ("tags", Box::new(|d| d.put(&ROOT, "tags", "x").unwrap())),
            ("name", Box::new(|d| d.put(&ROOT, "name", "x".repeat(500)).unwrap())),
            (
                "deal",
                Box::new(|d| {
                    let m = d.put_object(&ROOT, "deal", ObjType::Map).unwrap();
                    d.put(&m, "amount", -5).unwrap();
                    d.put(&m, "currency", "USD").unwrap();
                }),
            ),
            (
                "emails",
                Box::new(|d| {
                    let l = d.put_object(&ROOT, "emails", ObjType::List).unwrap();
                    d.insert(&l, 0, 7).unwrap();
                }),
            ),
        ];
        for (what, f) in cases {
            let (mut d, id) = lead_doc();
            f(&mut d);
            d.commit();
            assert!(check(&d, &id, DocKind::Lead).is_err(), "{what} passed");
        }
    }

    /// A crafted edit of a document, named for the failure message.
    type Crafted = Vec<(&'static str, Box<dyn Fn(&mut AutoCommit)>)>;

    #[test]
    fn crafted_settings_targets_and_plans_are_caught() {
        use crate::doc::sales::{self, SETTINGS_ID};
        use crate::model::*;
        let settings = || sales::settings_create(automerge::ActorId::random(), "ann", 1).unwrap();
        let mut ok = settings();
        ok.commit();
        check(&ok, SETTINGS_ID, DocKind::Settings).unwrap();
        let settings_cases: Crafted = vec![
            ("unknown key", Box::new(|d| d.put(&ROOT, "payload", "x").unwrap())),
            ("unknown stage", Box::new(|d| d.put(&ROOT, "stage.bribed.name", "x").unwrap())),
            (
                "probability above 100 %",
                Box::new(|d| d.put(&ROOT, "stage.new.probability_bp", 10_001).unwrap()),
            ),
            (
                "negative probability",
                Box::new(|d| d.put(&ROOT, "stage.new.probability_bp", -1).unwrap()),
            ),
            ("empty name", Box::new(|d| d.put(&ROOT, "stage.new.name", " ").unwrap())),
            (
                "unknown required field",
                Box::new(|d| d.put(&ROOT, "stage.new.require.salary", true).unwrap()),
            ),
            (
                "required as text",
                Box::new(|d| d.put(&ROOT, "stage.new.require.email", "yes").unwrap()),
            ),
            (
                "a container",
                Box::new(|d| drop(d.put_object(&ROOT, "stage.new.name", ObjType::Map).unwrap())),
            ),
        ];
        for (what, f) in settings_cases {
            let mut d = settings();
            f(&mut d);
            d.commit();
            assert!(check(&d, SETTINGS_ID, DocKind::Settings).is_err(), "{what} passed");
        }
        let other_id = crate::model::new_id();
        let mut wrong_id = AutoCommit::new();
        wrong_id.put(&ROOT, "id", other_id.as_str()).unwrap();
        assert!(
            check(&wrong_id, &other_id, DocKind::Settings).is_err(),
            "settings under another id"
        );
        let mut lead_there = super::super::lead::create(
            automerge::ActorId::random(),
            SETTINGS_ID,
            &LeadDraft { name: Some("x".into()), ..Default::default() },
            "rep",
            1,
        )
        .unwrap();
        lead_there.commit();
        assert!(
            check(&lead_there, SETTINGS_ID, DocKind::Lead).is_err(),
            "a lead under the settings id"
        );

        let tid = crate::model::new_id();
        let draft = TargetDraft {
            id: None,
            subject_kind: SubjectKind::Rep,
            subject: "kim".into(),
            metric: TargetMetric::WonValue,
            period_start: 0,
            period_end: 10,
            value: 5,
            currency: Some("USD".into()),
        };
        let target =
            || sales::target_create(automerge::ActorId::random(), &tid, &draft, "ann", 1).unwrap();
        check(&target(), &tid, DocKind::Target).unwrap();
        let target_cases: Crafted = vec![
            ("metric", Box::new(|d| d.put(&ROOT, "metric", "bonus").unwrap())),
            ("negative value", Box::new(|d| d.put(&ROOT, "value", -5).unwrap())),
            ("no currency on won value", Box::new(|d| d.delete(&ROOT, "currency").unwrap())),
            ("bad currency", Box::new(|d| d.put(&ROOT, "currency", "dollars").unwrap())),
            ("backwards period", Box::new(|d| d.put(&ROOT, "period_end", -1).unwrap())),
            ("empty subject", Box::new(|d| d.put(&ROOT, "subject", "").unwrap())),
            ("subject kind", Box::new(|d| d.put(&ROOT, "subject_kind", "company").unwrap())),
        ];
        for (what, f) in target_cases {
            let mut d = target();
            f(&mut d);
            d.commit();
            assert!(check(&d, &tid, DocKind::Target).is_err(), "target: {what} passed");
        }

        let pid = crate::model::new_id();
        let plan_draft = CompPlanDraft {
            rep: "kim".into(),
            base: Money { amount_minor: 1, currency: "USD".into() },
            rate_bp: 1_000,
            tiers: vec![Tier { from_bp: 10_000, rate_bp: 1_500 }],
        };
        let plan = || {
            sales::plan_create(automerge::ActorId::random(), &pid, &plan_draft, "ann", 1).unwrap()
        };
        check(&plan(), &pid, DocKind::CompPlan).unwrap();
        let plan_cases: Crafted = vec![
            ("rate above 100 %", Box::new(|d| d.put(&ROOT, "rate_bp", 20_000).unwrap())),
            ("base as a number", Box::new(|d| d.put(&ROOT, "base", 5).unwrap())),
            ("no rep", Box::new(|d| d.delete(&ROOT, "rep").unwrap())),
            (
                "tier as text",
                Box::new(|d| {
                    let l = d.put_object(&ROOT, "tiers", ObjType::List).unwrap();
                    d.insert(&l, 0, "fast").unwrap();
                }),
            ),
        ];
        for (what, f) in plan_cases {
            let mut d = plan();
            f(&mut d);
            d.commit();
            assert!(check(&d, &pid, DocKind::CompPlan).is_err(), "plan: {what} passed");
        }
    }

    #[test]
    fn a_losing_concurrent_value_is_checked_too() {
        let (mut a, id) = lead_doc();
        let mut b = a.fork();
        a.put(&ROOT, "stage", "won").unwrap();
        a.commit();
        b.put(&ROOT, "stage", 17).unwrap();
        b.commit();
        a.merge(&mut b).unwrap();
        assert!(check(&a, &id, DocKind::Lead).is_err());
    }
}
