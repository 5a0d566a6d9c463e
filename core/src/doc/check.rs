//! Strict shape checks of a document, for the sync server: a client can craft any Automerge
//! change, so before the server stores one it checks that the resulting document still has the
//! layout this app writes (types, enum spellings, limits). Every concurrent value of a field is
//! checked, not only the visible one, since a losing value can win later.

use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use super::{DocKind, SCHEMA_VERSION};
use crate::model::{ActivityKind, CaptureChannel, Potential, Stage};
use crate::validate as v;

type Check = Result<(), String>;

fn values<'a>(doc: &'a AutoCommit, obj: &ObjId, key: &str) -> Vec<(Value<'a>, ObjId)> {
    doc.get_all(obj, key).unwrap_or_default()
}

fn scalar(doc: &AutoCommit, obj: &ObjId, key: &str, required: bool, ok: &dyn Fn(&ScalarValue) -> bool) -> Check {
    let all = values(doc, obj, key);
    if all.is_empty() && required {
        return Err(format!("'{key}' is missing"));
    }
    for (val, _) in all {
        match val {
            Value::Scalar(s) if ok(&s) => {}
            _ => return Err(format!("'{key}' has a value of the wrong type or out of range")),
        }
    }
    Ok(())
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

fn object(doc: &AutoCommit, obj: &ObjId, key: &str, ty: ObjType, required: bool) -> Result<Option<ObjId>, String> {
    let all = values(doc, obj, key);
    if all.is_empty() {
        return if required { Err(format!("'{key}' is missing")) } else { Ok(None) };
    }
    let mut winner = None;
    for (val, id) in all {
        match val {
            Value::Object(t) if t == ty => winner = Some(id),
            _ => return Err(format!("'{key}' must be a {ty}")),
        }
    }
    Ok(winner)
}

fn common(doc: &AutoCommit, id: &str, type_name: &str) -> Check {
    scalar(doc, &ROOT, "schema", true, &|s| matches!(s, ScalarValue::Uint(n) if *n >= 1 && *n <= SCHEMA_VERSION) || matches!(s, ScalarValue::Int(n) if *n >= 1 && *n as u64 <= SCHEMA_VERSION))?;
    scalar(doc, &ROOT, "type", true, &|s| matches!(s, ScalarValue::Str(t) if t == type_name))?;
    scalar(doc, &ROOT, "id", true, &|s| matches!(s, ScalarValue::Str(t) if t == id))?;
    for k in ["created_at", "updated_at"] {
        scalar(doc, &ROOT, k, true, &int)?;
    }
    for k in ["created_by", "updated_by"] {
        scalar(doc, &ROOT, k, true, &text_field(v::MAX_SHORT_TEXT))?;
    }
    scalar(doc, &ROOT, "deleted", true, &|s| matches!(s, ScalarValue::Boolean(_)))?;
    Ok(())
}

fn string_list(doc: &AutoCommit, key: &str, max_items: usize, max_len: usize) -> Check {
    if let Some(list) = object(doc, &ROOT, key, ObjType::List, true)? {
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
    match kind {
        DocKind::Lead => check_lead(doc, id),
        DocKind::Activity => check_activity(doc, id),
        DocKind::Settings => check_settings(doc, id),
        DocKind::Target => check_target(doc, id),
        DocKind::CompPlan => check_plan(doc, id),
    }
}

fn bp(max: i64) -> impl Fn(&ScalarValue) -> bool {
    move |s| matches!(s, ScalarValue::Int(n) if (0..=max).contains(n)) || matches!(s, ScalarValue::Uint(n) if *n <= max as u64)
}

/// Settings are flat root keys (see `doc/sales.rs`); any other key is refused, so that a
/// crafted change cannot smuggle data into the one document every user receives.
fn check_settings(doc: &AutoCommit, id: &str) -> Check {
    if id != super::sales::SETTINGS_ID {
        return Err(format!("the settings document has the id {}", super::sales::SETTINGS_ID));
    }
    common(doc, id, "settings")?;
    let fixed = ["schema", "type", "id", "created_at", "updated_at", "created_by", "updated_by", "deleted"];
    let keys: Vec<String> = doc.keys(&ROOT).collect();
    for k in keys {
        if fixed.contains(&k.as_str()) {
            continue;
        }
        let rest = k.strip_prefix("stage.").ok_or_else(|| format!("unknown setting '{k}'"))?;
        let (stage, what) = rest.split_once('.').ok_or_else(|| format!("unknown setting '{k}'"))?;
        if Stage::parse(stage).map(|s| s.as_str() != stage).unwrap_or(true) {
            return Err(format!("unknown stage in '{k}'"));
        }
        match what {
            "name" => scalar(doc, &ROOT, &k, true, &|s| matches!(s, ScalarValue::Str(t) if !t.trim().is_empty() && t.chars().count() <= v::MAX_SHORT_TEXT))?,
            "probability_bp" => scalar(doc, &ROOT, &k, true, &bp(crate::model::FULL_BP as i64))?,
            w => match w.strip_prefix("require.") {
                Some(f) if crate::model::RequiredField::parse(f).map(|x| x.as_str() == f).unwrap_or(false) => {
                    scalar(doc, &ROOT, &k, true, &|s| matches!(s, ScalarValue::Boolean(_)))?
                }
                _ => return Err(format!("unknown setting '{k}'")),
            },
        }
    }
    Ok(())
}

fn check_target(doc: &AutoCommit, id: &str) -> Check {
    common(doc, id, "target")?;
    scalar(doc, &ROOT, "subject_kind", true, &enum_field(|t| crate::model::SubjectKind::parse(t).is_ok()))?;
    scalar(doc, &ROOT, "subject", true, &|s| matches!(s, ScalarValue::Str(t) if !t.is_empty() && t.chars().count() <= v::MAX_SHORT_TEXT))?;
    scalar(doc, &ROOT, "metric", true, &enum_field(|t| crate::model::TargetMetric::parse(t).is_ok()))?;
    scalar(doc, &ROOT, "period_start", true, &int)?;
    scalar(doc, &ROOT, "period_end", true, &int)?;
    scalar(doc, &ROOT, "value", true, &bp(i64::MAX))?;
    scalar(doc, &ROOT, "currency", false, &|s| matches!(s, ScalarValue::Str(c) if v::currency(c).is_ok()))?;
    let metric = super::get_str(doc, &ROOT, "metric").unwrap_or_default();
    let has_currency = !values(doc, &ROOT, "currency").is_empty();
    if (metric == "won_value") != has_currency {
        return Err("a won value target, and only it, has a currency".into());
    }
    match (super::get_i64(doc, &ROOT, "period_start"), super::get_i64(doc, &ROOT, "period_end")) {
        (Some(s), Some(e)) if e > s => Ok(()),
        _ => Err("the period must end after it starts".into()),
    }
}

fn check_plan(doc: &AutoCommit, id: &str) -> Check {
    common(doc, id, "comp_plan")?;
    scalar(doc, &ROOT, "rep", true, &|s| matches!(s, ScalarValue::Str(t) if !t.is_empty() && t.chars().count() <= v::MAX_SHORT_TEXT))?;
    scalar(doc, &ROOT, "rate_bp", true, &bp(crate::model::FULL_BP as i64))?;
    let all = values(doc, &ROOT, "base");
    if all.is_empty() {
        return Err("'base' is missing".into());
    }
    for (val, base) in all {
        if !matches!(val, Value::Object(ObjType::Map)) {
            return Err("'base' must be a map".into());
        }
        scalar(doc, &base, "amount", true, &bp(i64::MAX))?;
        scalar(doc, &base, "currency", true, &|s| matches!(s, ScalarValue::Str(c) if v::currency(c).is_ok()))?;
    }
    for (val, tiers) in values(doc, &ROOT, "tiers") {
        if !matches!(val, Value::Object(ObjType::List)) {
            return Err("'tiers' must be a list".into());
        }
        if doc.length(&tiers) > crate::model::MAX_TIERS {
            return Err("'tiers' has too many entries".into());
        }
        for i in 0..doc.length(&tiers) {
            match doc.get(&tiers, i) {
                Ok(Some((Value::Object(ObjType::Map), t))) => {
                    scalar(doc, &t, "from_bp", true, &bp(crate::model::MAX_TIER_FROM_BP as i64))?;
                    scalar(doc, &t, "rate_bp", true, &bp(crate::model::FULL_BP as i64))?;
                }
                _ => return Err("'tiers' must hold maps".into()),
            }
        }
    }
    Ok(())
}

fn check_lead(doc: &AutoCommit, id: &str) -> Check {
    common(doc, id, "lead")?;
    for k in ["name", "company", "title", "lost_reason"] {
        scalar(doc, &ROOT, k, false, &text_field(v::MAX_SHORT_TEXT))?;
    }
    scalar(doc, &ROOT, "owner", true, &|s| matches!(s, ScalarValue::Str(t) if !t.is_empty() && t.chars().count() <= v::MAX_SHORT_TEXT))?;
    scalar(doc, &ROOT, "stage", true, &enum_field(|t| Stage::parse(t).is_ok()))?;
    scalar(doc, &ROOT, "potential", false, &enum_field(|t| Potential::parse(t).is_ok()))?;
    scalar(doc, &ROOT, "next_follow_up", false, &int)?;
    string_list(doc, "emails", v::MAX_CONTACTS, 254)?;
    scalar(doc, &ROOT, "merged_into", false, &|s| matches!(s, ScalarValue::Str(t) if uuid::Uuid::parse_str(t).is_ok()))?;
    if object(doc, &ROOT, "merged_from", ObjType::List, false)?.is_some() {
        string_list(doc, "merged_from", 1_000, 36)?;
    }
    string_list(doc, "phones", v::MAX_CONTACTS, 40)?;
    if let Some(source) = object(doc, &ROOT, "source", ObjType::Map, true)? {
        scalar(doc, &source, "channel", true, &enum_field(|t| CaptureChannel::parse(t).is_ok()))?;
        scalar(doc, &source, "event", false, &text_field(v::MAX_SHORT_TEXT))?;
    }
    for (val, deal) in values(doc, &ROOT, "deal") {
        if !matches!(val, Value::Object(ObjType::Map)) {
            return Err("'deal' must be a map".into());
        }
        scalar(doc, &deal, "amount", true, &|s| matches!(s, ScalarValue::Int(n) if *n >= 0) || matches!(s, ScalarValue::Uint(_)))?;
        scalar(doc, &deal, "currency", true, &|s| matches!(s, ScalarValue::Str(c) if v::currency(c).is_ok()))?;
    }
    if let Some(tags) = object(doc, &ROOT, "tags", ObjType::Map, true)? {
        let keys: Vec<String> = doc.keys(&tags).collect();
        if keys.len() > v::MAX_TAGS {
            return Err("too many tags".into());
        }
        for k in keys {
            if k.chars().count() > v::MAX_TAG {
                return Err("a tag is too long".into());
            }
            scalar(doc, &tags, &k, true, &|s| matches!(s, ScalarValue::Boolean(true)))?;
        }
    }
    if let Some(custom) = object(doc, &ROOT, "custom", ObjType::Map, true)? {
        let keys: Vec<String> = doc.keys(&custom).collect();
        if keys.len() > v::MAX_CUSTOM_FIELDS {
            return Err("too many custom fields".into());
        }
        for k in keys {
            if k.chars().count() > v::MAX_CUSTOM_KEY {
                return Err("a custom field name is too long".into());
            }
            scalar(doc, &custom, &k, true, &text_field(v::MAX_CUSTOM_VALUE))?;
        }
    }
    notes(doc)?;
    if let Some(hist) = object(doc, &ROOT, "stage_history", ObjType::List, true)? {
        for i in 0..doc.length(&hist) {
            match doc.get(&hist, i) {
                Ok(Some((Value::Object(ObjType::Map), e))) => {
                    scalar(doc, &e, "stage", true, &enum_field(|t| Stage::parse(t).is_ok()))?;
                    scalar(doc, &e, "at", true, &int)?;
                    scalar(doc, &e, "by", true, &text_field(v::MAX_SHORT_TEXT))?;
                    scalar(doc, &e, "lost_reason", false, &text_field(v::MAX_SHORT_TEXT))?;
                }
                _ => return Err("'stage_history' must hold maps".into()),
            }
        }
    }
    Ok(())
}

fn notes(doc: &AutoCommit) -> Check {
    if let Some(t) = object(doc, &ROOT, "notes", ObjType::Text, true)? {
        if doc.length(&t) > v::MAX_NOTES {
            return Err("'notes' is too long".into());
        }
    }
    Ok(())
}

fn check_activity(doc: &AutoCommit, id: &str) -> Check {
    common(doc, id, "activity")?;
    scalar(doc, &ROOT, "lead_id", true, &|s| matches!(s, ScalarValue::Str(t) if uuid::Uuid::parse_str(t).is_ok()))?;
    scalar(doc, &ROOT, "kind", true, &enum_field(|t| ActivityKind::parse(t).is_ok()))?;
    scalar(doc, &ROOT, "subject", true, &text_field(v::MAX_SUBJECT))?;
    scalar(doc, &ROOT, "outcome", false, &text_field(v::MAX_SHORT_TEXT))?;
    for k in ["occurred_at", "due_at", "duration_s"] {
        scalar(doc, &ROOT, k, false, &int)?;
    }
    scalar(doc, &ROOT, "done", true, &|s| matches!(s, ScalarValue::Boolean(_)))?;
    notes(doc)?;
    for (val, loc) in values(doc, &ROOT, "location") {
        if !matches!(val, Value::Object(ObjType::Map)) {
            return Err("'location' must be a map".into());
        }
        scalar(doc, &loc, "lat", true, &|s| matches!(s, ScalarValue::F64(x) if (-90.0..=90.0).contains(x)))?;
        scalar(doc, &loc, "lon", true, &|s| matches!(s, ScalarValue::F64(x) if (-180.0..=180.0).contains(x)))?;
        scalar(doc, &loc, "accuracy_m", false, &|s| matches!(s, ScalarValue::F64(x) if *x >= 0.0))?;
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
        let d = LeadDraft { name: Some("Kim".into()), tags: vec!["a".into()], ..Default::default() };
        (super::super::lead::create(automerge::ActorId::random(), &id, &d, "rep", 1).unwrap(), id)
    }

    #[test]
    fn documents_this_app_writes_pass() {
        let (d, id) = lead_doc();
        check(&d, &id, DocKind::Lead).unwrap();
        let aid = crate::model::new_id();
        let a = super::super::activity::create(automerge::ActorId::random(), &aid, &ActivityDraft::new(&id, ActivityKind::Call, "x"), "rep", 1).unwrap();
        check(&a, &aid, DocKind::Activity).unwrap();
        assert!(check(&a, &aid, DocKind::Lead).is_err());
    }

    #[test]
    fn crafted_changes_are_caught() {
        let cases: Vec<(&str, Box<dyn Fn(&mut AutoCommit)>)> = vec![
            ("stage", Box::new(|d| d.put(&ROOT, "stage", "bribed").unwrap())),
            ("owner", Box::new(|d| d.put(&ROOT, "owner", 42).unwrap())),
            ("owner", Box::new(|d| d.delete(&ROOT, "owner").unwrap())),
            ("id", Box::new(|d| d.put(&ROOT, "id", "other").unwrap())),
            ("schema", Box::new(|d| d.put(&ROOT, "schema", 99u64).unwrap())),
            ("tags", Box::new(|d| d.put(&ROOT, "tags", "x").unwrap())),
            ("name", Box::new(|d| d.put(&ROOT, "name", "x".repeat(500)).unwrap())),
            ("deal", Box::new(|d| {
                let m = d.put_object(&ROOT, "deal", ObjType::Map).unwrap();
                d.put(&m, "amount", -5).unwrap();
                d.put(&m, "currency", "USD").unwrap();
            })),
            ("emails", Box::new(|d| {
                let l = d.put_object(&ROOT, "emails", ObjType::List).unwrap();
                d.insert(&l, 0, 7).unwrap();
            })),
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
            ("probability above 100 %", Box::new(|d| d.put(&ROOT, "stage.new.probability_bp", 10_001).unwrap())),
            ("negative probability", Box::new(|d| d.put(&ROOT, "stage.new.probability_bp", -1).unwrap())),
            ("empty name", Box::new(|d| d.put(&ROOT, "stage.new.name", " ").unwrap())),
            ("unknown required field", Box::new(|d| d.put(&ROOT, "stage.new.require.salary", true).unwrap())),
            ("required as text", Box::new(|d| d.put(&ROOT, "stage.new.require.email", "yes").unwrap())),
            ("a container", Box::new(|d| drop(d.put_object(&ROOT, "stage.new.name", ObjType::Map).unwrap()))),
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
        assert!(check(&wrong_id, &other_id, DocKind::Settings).is_err(), "settings under another id");
        let mut lead_there = super::super::lead::create(automerge::ActorId::random(), SETTINGS_ID, &LeadDraft { name: Some("x".into()), ..Default::default() }, "rep", 1).unwrap();
        lead_there.commit();
        assert!(check(&lead_there, SETTINGS_ID, DocKind::Lead).is_err(), "a lead under the settings id");

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
        let target = || sales::target_create(automerge::ActorId::random(), &tid, &draft, "ann", 1).unwrap();
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
        let plan_draft = CompPlanDraft { rep: "kim".into(), base: Money { amount_minor: 1, currency: "USD".into() }, rate_bp: 1_000, tiers: vec![Tier { from_bp: 10_000, rate_bp: 1_500 }] };
        let plan = || sales::plan_create(automerge::ActorId::random(), &pid, &plan_draft, "ann", 1).unwrap();
        check(&plan(), &pid, DocKind::CompPlan).unwrap();
        let plan_cases: Crafted = vec![
            ("rate above 100 %", Box::new(|d| d.put(&ROOT, "rate_bp", 20_000).unwrap())),
            ("base as a number", Box::new(|d| d.put(&ROOT, "base", 5).unwrap())),
            ("no rep", Box::new(|d| d.delete(&ROOT, "rep").unwrap())),
            ("tier as text", Box::new(|d| {
                let l = d.put_object(&ROOT, "tiers", ObjType::List).unwrap();
                d.insert(&l, 0, "fast").unwrap();
            })),
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
