//! Strict shape checks of a document, for the sync server: a client can craft any Automerge
//! change, so before the server stores one it checks that the resulting document still has the
//! layout this app writes (only the keys it writes, types, enum spellings, limits, nesting and
//! size), and that this app's reader reads it. Every concurrent value of a field is checked, not
//! only the visible one, since a losing value can win later.
//!
//! Also the bound every reader of a document applies first ([`within`]): Automerge's `hydrate`
//! recurses once per nested object, so a document nested a few thousand levels deep overflows
//! the stack of whoever reads it. The walk here uses a heap stack of its own.

use std::collections::HashMap;

use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use super::{DocKind, SCHEMA_VERSION};
use crate::model::{ActivityKind, CaptureChannel, Potential, Stage};
use crate::validate as v;

type Check = Result<(), String>;

/// The largest saved document the server stores (`save()` bytes): a rejection
/// `document_too_large` above it.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// How deep this app nests: the root (0), `stage_history` or `tiers` (1), an entry (2).
pub const APP_DEPTH: usize = 2;

/// Visible values a document may hold (map entries, list elements, text characters, each
/// concurrent value counted): a lead at every limit of `validate.rs` holds about 106,000
/// (its notes are 100,000 of them).
pub const MAX_VALUES: usize = 150_000;

/// Readers refuse a document nested deeper than this (a newer app may nest a little more; a
/// stack overflows in the thousands).
pub const MAX_READ_DEPTH: usize = 32;

/// Readers refuse a document with more visible values than this (text counted by length).
pub const MAX_READ_VALUES: usize = 1_000_000;

/// Why a document is out of the bounds a reader or the server accepts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Bound {
    #[error("the document is nested deeper than {0} levels")]
    TooDeep(usize),
    #[error("the document holds more than {0} values")]
    TooLarge(usize),
    #[error("the document holds an object inside a text")]
    ObjectInText,
}

/// Walks every visible value of `doc`, concurrent ones included, without recursion, and
/// refuses it at the first object deeper than `max_depth` (the root is 0) or past `max_values`
/// values. `into_text`: count a text's characters one by one and refuse objects (blocks) in it;
/// otherwise a text counts its length and is not entered (readers never enter one).
pub fn within(
    doc: &AutoCommit,
    max_depth: usize,
    max_values: usize,
    into_text: bool,
) -> Result<(), Bound> {
    let mut stack: Vec<(ObjId, ObjType, usize)> = vec![(ROOT, ObjType::Map, 0)];
    let mut values = 0usize;
    let mut count = |n: usize| {
        values = values.saturating_add(n);
        if values > max_values { Err(Bound::TooLarge(max_values)) } else { Ok(()) }
    };
    while let Some((obj, ty, depth)) = stack.pop() {
        let mut children: Vec<(Value<'_>, ObjId)> = Vec::new();
        match ty {
            ObjType::Map | ObjType::Table => {
                for item in doc.map_range(&obj, ..) {
                    if item.conflict {
                        children.extend(doc.get_all(&obj, item.key.as_ref()).unwrap_or_default());
                    } else {
                        let id = item.id();
                        children.push((item.value.into_value(), id));
                    }
                }
            }
            ObjType::List => {
                for item in doc.list_range(&obj, ..) {
                    if item.conflict {
                        children.extend(doc.get_all(&obj, item.index).unwrap_or_default());
                    } else {
                        let id = item.id();
                        children.push((item.value.into_value(), id));
                    }
                }
            }
            ObjType::Text if into_text => {
                for item in doc.list_range(&obj, ..) {
                    if matches!(item.value.into_value(), Value::Object(_)) {
                        return Err(Bound::ObjectInText);
                    }
                    count(1)?;
                }
            }
            ObjType::Text => count(doc.length(&obj))?,
        }
        count(children.len())?;
        for (value, id) in children {
            if let Value::Object(t) = value {
                // A text is a string value (another implementation writes every string as
                // one), not a level: it holds no objects, and readers never enter it.
                let d = if t == ObjType::Text { depth } else { depth + 1 };
                if d > max_depth {
                    return Err(Bound::TooDeep(max_depth));
                }
                stack.push((id, t, d));
            }
        }
    }
    Ok(())
}

/// Checks who a document says wrote it: each value of `created_by` and `updated_by` at the root
/// and of `by` in a stage history entry that `written_now` picks (by its op id: the values a
/// push writes) must be `user`. Older values by other users stay as they are. A value written
/// as a text (another implementation's strings) can also be changed by editing the text in
/// place, which makes no new value at the key: a text that reads otherwise than at `before`
/// (the document's heads before the push) was written now too.
pub fn audit(
    doc: &AutoCommit,
    user: &str,
    written_now: impl Fn(&ObjId) -> bool,
    before: &[automerge::ChangeHash],
) -> Check {
    let edited = |value: &Value<'_>, id: &ObjId| {
        matches!(value, Value::Object(ObjType::Text))
            && doc.text_at(id, before).ok() != doc.text(id).ok()
    };
    let mut fields: Vec<(&str, Value<'_>, ObjId)> = Vec::new();
    for key in ["created_by", "updated_by"] {
        for (v, id) in doc.get_all(&ROOT, key).unwrap_or_default() {
            fields.push((key, v, id));
        }
    }
    for (v, hist) in doc.get_all(&ROOT, "stage_history").unwrap_or_default() {
        if !matches!(v, Value::Object(ObjType::List)) {
            continue;
        }
        for (e, entry) in list_items(doc, &hist) {
            if matches!(e, Value::Object(ObjType::Map)) {
                for (v, id) in doc.get_all(&entry, "by").unwrap_or_default() {
                    fields.push(("by", v, id));
                }
            }
        }
    }
    for (key, value, id) in fields {
        if !written_now(&id) && !edited(&value, &id) {
            continue;
        }
        match super::value_str(doc, &value, &id) {
            Some(v) if v == user => {}
            Some(v) => {
                let shown: String = v.chars().take(64).collect();
                return Err(format!("'{key}' must name you ({user}), not '{shown}'"));
            }
            None => return Err(format!("'{key}' must be a user id")),
        }
    }
    Ok(())
}

/// The keys every kind's root holds.
const COMMON: [&str; 8] =
    ["schema", "type", "id", "created_at", "updated_at", "created_by", "updated_by", "deleted"];
const LEAD_KEYS: [&str; 18] = [
    "name",
    "company",
    "title",
    "lost_reason",
    "emails",
    "phones",
    "source",
    "stage",
    "stage_history",
    "potential",
    "deal",
    "owner",
    "tags",
    "notes",
    "custom",
    "next_follow_up",
    "merged_into",
    "merged_from",
];
const ACTIVITY_KEYS: [&str; 10] = [
    "lead_id",
    "kind",
    "subject",
    "notes",
    "occurred_at",
    "due_at",
    "done",
    "duration_s",
    "outcome",
    "location",
];
const TARGET_KEYS: [&str; 7] =
    ["subject_kind", "subject", "metric", "period_start", "period_end", "value", "currency"];
const PLAN_KEYS: [&str; 4] = ["rep", "base", "rate_bp", "tiers"];
const MONEY_KEYS: [&str; 2] = ["amount", "currency"];

/// Every value of every key of one map, read in one pass. A `get_all` per key seeks through the
/// object from its start each time, and with thirty keys the check cost more than loading the
/// document; here only keys that hold concurrent values are read again with `get_all`.
struct Fields<'a> {
    doc: &'a AutoCommit,
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
        Fields { doc, map }
    }

    /// Refuses any key that is neither in `common` nor in `own`.
    fn only(&self, common: &[&str], own: &[&str]) -> Check {
        match self.map.keys().find(|k| !common.contains(&k.as_str()) && !own.contains(&k.as_str()))
        {
            Some(k) => Err(format!("unknown key '{}'", k.chars().take(64).collect::<String>())),
            None => Ok(()),
        }
    }

    fn values(&self, key: &str) -> &[(Value<'a>, ObjId)] {
        self.map.get(key).map_or(&[], Vec::as_slice)
    }

    fn scalar(&self, key: &str, required: bool, ok: &dyn Fn(&ScalarValue) -> bool) -> Check {
        let all = self.values(key);
        if all.is_empty() && required {
            return Err(format!("'{key}' is missing"));
        }
        for (val, id) in all {
            if !as_scalar(self.doc, val, id).is_some_and(|s| ok(&s)) {
                return Err(format!(
                    "'{key}' has a value of the wrong type or out of range: {}",
                    describe(self.doc, val, id)
                ));
            }
        }
        Ok(())
    }

    /// The objects of type `ty` held under `key`, one per concurrent value (a losing one can win
    /// later); anything else is an error.
    fn objects(&self, key: &str, ty: ObjType, required: bool) -> Result<Vec<ObjId>, String> {
        let all = self.values(key);
        if all.is_empty() && required {
            return Err(format!("'{key}' is missing"));
        }
        all.iter()
            .map(|(val, id)| match val {
                Value::Object(t) if *t == ty => Ok(id.clone()),
                _ => Err(format!("'{key}' must be a {ty}")),
            })
            .collect()
    }

    /// The maps held under `key`, one per concurrent value; anything else is an error.
    fn maps(&self, key: &str) -> Result<Vec<ObjId>, String> {
        self.objects(key, ObjType::Map, false)
    }
}

/// A value as the predicates of a scalar field see it. Another Automerge implementation may
/// write a string as a text object (`@automerge/automerge` 2.x and later does for a plain
/// JavaScript string): this app's readers read it as the string it holds, so it is checked as
/// one. Any other object is no scalar.
fn as_scalar(doc: &AutoCommit, val: &Value<'_>, id: &ObjId) -> Option<ScalarValue> {
    match val {
        Value::Scalar(s) => Some(s.as_ref().clone()),
        Value::Object(ObjType::Text) => doc.text(id).ok().map(|t| ScalarValue::Str(t.into())),
        Value::Object(_) => None,
    }
}

/// What a refused value is, for the rejection message: its type and the start of it.
fn describe(doc: &AutoCommit, val: &Value<'_>, id: &ObjId) -> String {
    let cut = |s: String| -> String {
        let short: String = s.chars().take(40).collect();
        if short.len() < s.len() { format!("{short}…") } else { short }
    };
    match val {
        Value::Object(ObjType::Text) => {
            format!("a text of {} characters", doc.length(id))
        }
        Value::Object(t) => format!("a {t}"),
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Str(t) => {
                format!("the string '{}' ({} characters)", cut(t.to_string()), t.chars().count())
            }
            ScalarValue::Boolean(b) => format!("the boolean {b}"),
            ScalarValue::Null => "null".to_string(),
            ScalarValue::Bytes(b) => format!("{} bytes", b.len()),
            ScalarValue::Unknown { type_code, .. } => {
                format!("a value of unknown type {type_code}")
            }
            n => format!("the number {}", cut(super::scalar_to_string(n))),
        },
    }
}

fn text_field(max: usize) -> impl Fn(&ScalarValue) -> bool {
    move |s| matches!(s, ScalarValue::Str(t) if t.chars().count() <= max)
}

fn enum_field(parse: fn(&str) -> bool) -> impl Fn(&ScalarValue) -> bool {
    move |s| matches!(s, ScalarValue::Str(t) if parse(t))
}

/// A whole number in any encoding Automerge has (see `doc::scalar_i64`).
fn int(s: &ScalarValue) -> bool {
    super::scalar_i64(s).is_some()
}

/// A number in any encoding, as a float, where `ok`.
fn float(ok: impl Fn(f64) -> bool) -> impl Fn(&ScalarValue) -> bool {
    move |s| super::scalar_f64(s).is_some_and(|x| x.is_finite() && ok(x))
}

fn common(root: &Fields, id: &str, type_name: &str) -> Check {
    root.scalar("schema", true, &|s| {
        super::scalar_i64(s).is_some_and(|n| n >= 1 && n as u64 <= SCHEMA_VERSION)
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

/// Every element of a list, each concurrent value of an element too.
fn list_items<'a>(doc: &'a AutoCommit, list: &ObjId) -> Vec<(Value<'a>, ObjId)> {
    let mut out = Vec::new();
    for item in doc.list_range(list, ..) {
        if item.conflict {
            out.extend(doc.get_all(list, item.index).unwrap_or_default());
        } else {
            let id = item.id();
            out.push((item.value.into_value(), id));
        }
    }
    out
}

/// The maps in a list (stage history, tiers), each checked by `entry`.
fn list_of_maps(
    doc: &AutoCommit,
    list: &ObjId,
    key: &str,
    entry: impl Fn(&Fields) -> Check,
) -> Check {
    for (val, e) in list_items(doc, list) {
        match val {
            Value::Object(ObjType::Map) => entry(&Fields::of(doc, &e))?,
            _ => return Err(format!("'{key}' must hold maps")),
        }
    }
    Ok(())
}

fn string_list(
    doc: &AutoCommit,
    root: &Fields,
    key: &str,
    required: bool,
    max_items: usize,
    max_len: usize,
) -> Check {
    for list in root.objects(key, ObjType::List, required)? {
        if doc.length(&list) > max_items {
            return Err(format!("'{key}' has too many entries"));
        }
        for (val, id) in list_items(doc, &list) {
            if !as_scalar(doc, &val, &id).is_some_and(|s| text_field(max_len)(&s)) {
                return Err(format!(
                    "'{key}' must hold strings of at most {max_len} characters, not {}",
                    describe(doc, &val, &id)
                ));
            }
        }
    }
    Ok(())
}

pub fn check(doc: &AutoCommit, id: &str, kind: DocKind) -> Check {
    // The settings id is reserved: a record of another kind there would keep the workspace from
    // ever having its settings document.
    if id == super::settings::SETTINGS_ID && kind != DocKind::Settings {
        return Err(format!("{id} is reserved for the sales process settings"));
    }
    within(doc, APP_DEPTH, MAX_VALUES, true).map_err(|e| e.to_string())?;
    let root = Fields::of(doc, &ROOT);
    match kind {
        DocKind::Lead => check_lead(doc, &root, id),
        DocKind::Activity => check_activity(doc, &root, id),
        DocKind::Settings => check_settings(&root, id),
        DocKind::Target => check_target(doc, &root, id),
        DocKind::CompPlan => check_plan(doc, &root, id),
    }?;
    // What the server stores, every device reads: this app's own reader must take it.
    let read = match kind {
        DocKind::Lead => super::lead::read(doc, id).map(drop),
        DocKind::Activity => super::activity::read(doc, id).map(drop),
        DocKind::Settings => super::settings::read(doc, id).map(drop),
        DocKind::Target => super::target::read(doc, id).map(drop),
        DocKind::CompPlan => super::plan::read(doc, id).map(drop),
    };
    read.map_err(|e| format!("the app cannot read it: {e}"))
}

fn bp(max: i64) -> impl Fn(&ScalarValue) -> bool {
    move |s| super::scalar_i64(s).is_some_and(|n| (0..=max).contains(&n))
}

/// Settings are flat root keys (see `doc/sales.rs`); any other key is refused, so that a
/// crafted change cannot smuggle data into the one document every user receives.
fn check_settings(root: &Fields, id: &str) -> Check {
    if id != super::settings::SETTINGS_ID {
        return Err(format!("the settings document has the id {}", super::settings::SETTINGS_ID));
    }
    common(root, id, "settings")?;
    for k in root.map.keys() {
        if COMMON.contains(&k.as_str()) {
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
    root.only(&COMMON, &TARGET_KEYS)?;
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

/// A `{amount, currency}` map (a deal value, a base pay), each concurrent one.
fn money(
    doc: &AutoCommit,
    root: &Fields,
    key: &str,
    amount: &dyn Fn(&ScalarValue) -> bool,
) -> Check {
    for m in root.maps(key)? {
        let m = Fields::of(doc, &m);
        m.only(&[], &MONEY_KEYS)?;
        m.scalar("amount", true, amount)?;
        m.scalar(
            "currency",
            true,
            &|s| matches!(s, ScalarValue::Str(c) if v::currency(c).is_ok()),
        )?;
    }
    Ok(())
}

fn check_plan(doc: &AutoCommit, root: &Fields, id: &str) -> Check {
    common(root, id, "comp_plan")?;
    root.only(&COMMON, &PLAN_KEYS)?;
    root.scalar("rep", true, &|s| matches!(s, ScalarValue::Str(t) if !t.is_empty() && t.chars().count() <= v::MAX_SHORT_TEXT))?;
    root.scalar("rate_bp", true, &bp(crate::model::FULL_BP as i64))?;
    if root.values("base").is_empty() {
        return Err("'base' is missing".into());
    }
    money(doc, root, "base", &bp(i64::MAX))?;
    for tiers in root.objects("tiers", ObjType::List, false)? {
        if doc.length(&tiers) > v::MAX_TIERS {
            return Err("'tiers' has too many entries".into());
        }
        list_of_maps(doc, &tiers, "tiers", |t| {
            t.only(&[], &["from_bp", "rate_bp"])?;
            t.scalar("from_bp", true, &bp(v::MAX_TIER_FROM_BP as i64))?;
            t.scalar("rate_bp", true, &bp(crate::model::FULL_BP as i64))
        })?;
    }
    Ok(())
}

fn check_lead(doc: &AutoCommit, root: &Fields, id: &str) -> Check {
    common(root, id, "lead")?;
    root.only(&COMMON, &LEAD_KEYS)?;
    for k in ["name", "company", "title", "lost_reason"] {
        root.scalar(k, false, &text_field(v::MAX_SHORT_TEXT))?;
    }
    root.scalar("owner", true, &|s| matches!(s, ScalarValue::Str(t) if !t.is_empty() && t.chars().count() <= v::MAX_SHORT_TEXT))?;
    root.scalar("stage", true, &enum_field(|t| Stage::parse(t).is_ok()))?;
    root.scalar("potential", false, &enum_field(|t| Potential::parse(t).is_ok()))?;
    root.scalar("next_follow_up", false, &int)?;
    string_list(doc, root, "emails", true, v::MAX_CONTACTS, 254)?;
    root.scalar(
        "merged_into",
        false,
        &|s| matches!(s, ScalarValue::Str(t) if uuid::Uuid::parse_str(t).is_ok()),
    )?;
    string_list(doc, root, "merged_from", false, 1_000, 36)?;
    string_list(doc, root, "phones", true, v::MAX_CONTACTS, 40)?;
    for source in root.objects("source", ObjType::Map, true)? {
        let source = Fields::of(doc, &source);
        source.only(&[], &["channel", "event"])?;
        source.scalar("channel", true, &enum_field(|t| CaptureChannel::parse(t).is_ok()))?;
        source.scalar("event", false, &text_field(v::MAX_SHORT_TEXT))?;
    }
    money(doc, root, "deal", &bp(i64::MAX))?;
    for tags in root.objects("tags", ObjType::Map, true)? {
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
    for custom in root.objects("custom", ObjType::Map, true)? {
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
    for hist in root.objects("stage_history", ObjType::List, true)? {
        list_of_maps(doc, &hist, "stage_history", |e| {
            e.only(&[], &["stage", "at", "by", "lost_reason"])?;
            e.scalar("stage", true, &enum_field(|t| Stage::parse(t).is_ok()))?;
            e.scalar("at", true, &int)?;
            e.scalar("by", true, &text_field(v::MAX_SHORT_TEXT))?;
            e.scalar("lost_reason", false, &text_field(v::MAX_SHORT_TEXT))
        })?;
    }
    Ok(())
}

/// Notes are a text; another implementation may write a scalar string, which reads the same.
fn notes(doc: &AutoCommit, root: &Fields) -> Check {
    let all = root.values("notes");
    if all.is_empty() {
        return Err("'notes' is missing".into());
    }
    for (val, id) in all {
        let len = match val {
            Value::Object(ObjType::Text) => doc.length(id),
            Value::Scalar(s) if matches!(s.as_ref(), ScalarValue::Str(_)) => {
                super::scalar_to_string(s).chars().count()
            }
            _ => return Err(format!("'notes' must be a text, not {}", describe(doc, val, id))),
        };
        if len > v::MAX_NOTES {
            return Err("'notes' is too long".into());
        }
    }
    Ok(())
}

fn check_activity(doc: &AutoCommit, root: &Fields, id: &str) -> Check {
    common(root, id, "activity")?;
    root.only(&COMMON, &ACTIVITY_KEYS)?;
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
        loc.only(&[], &["lat", "lon", "accuracy_m"])?;
        loc.scalar("lat", true, &float(|x| (-90.0..=90.0).contains(&x)))?;
        loc.scalar("lon", true, &float(|x| (-180.0..=180.0).contains(&x)))?;
        loc.scalar("accuracy_m", false, &float(|x| x >= 0.0))?;
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
        use crate::doc::settings::{self, SETTINGS_ID};
        use crate::doc::{plan, target};
        use crate::model::*;
        let settings = || {
            let none = StagePatch::default();
            settings::create(automerge::ActorId::random(), Stage::New, &none, "ann", 1).unwrap()
        };
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
            || target::create(automerge::ActorId::random(), &tid, &draft, "ann", 1).unwrap();
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
        let plan =
            || plan::create(automerge::ActorId::random(), &pid, &plan_draft, "ann", 1).unwrap();
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

    /// `depth` maps nested under an unknown key of a new lead.
    fn nested(depth: usize) -> (AutoCommit, String) {
        let (mut d, id) = lead_doc();
        let mut obj = d.put_object(&ROOT, "x", ObjType::Map).unwrap();
        for _ in 0..depth {
            obj = d.put_object(&obj, "x", ObjType::Map).unwrap();
        }
        d.commit();
        (d, id)
    }

    #[test]
    fn unknown_keys_are_refused_in_every_kind_and_every_map() {
        let lead_cases: Crafted = vec![
            ("root", Box::new(|d| d.put(&ROOT, "payload", "x").unwrap())),
            (
                "source",
                Box::new(|d| {
                    let s = crate::doc::get_obj(d, &ROOT, "source", ObjType::Map).unwrap();
                    d.put(&s, "referrer", "x").unwrap();
                }),
            ),
            (
                "deal",
                Box::new(|d| {
                    let m = d.put_object(&ROOT, "deal", ObjType::Map).unwrap();
                    d.put(&m, "amount", 5).unwrap();
                    d.put(&m, "currency", "USD").unwrap();
                    d.put(&m, "note", "x").unwrap();
                }),
            ),
            (
                "stage history entry",
                Box::new(|d| {
                    let h = crate::doc::get_obj(d, &ROOT, "stage_history", ObjType::List).unwrap();
                    let e = d.insert_object(&h, 1, ObjType::Map).unwrap();
                    d.put(&e, "stage", "won").unwrap();
                    d.put(&e, "at", 1).unwrap();
                    d.put(&e, "by", "rep").unwrap();
                    d.put(&e, "extra", 1).unwrap();
                }),
            ),
            (
                "an object in the notes",
                Box::new(|d| {
                    let n = crate::doc::get_obj(d, &ROOT, "notes", ObjType::Text).unwrap();
                    d.split_block(&n, 0).unwrap();
                }),
            ),
        ];
        for (what, f) in lead_cases {
            let (mut d, id) = lead_doc();
            f(&mut d);
            d.commit();
            assert!(check(&d, &id, DocKind::Lead).is_err(), "lead: {what} passed");
        }
        let aid = crate::model::new_id();
        let mut draft = ActivityDraft::new(&aid, ActivityKind::Visit, "x");
        draft.location = Some(crate::model::Location { lat: 1.0, lon: 2.0, accuracy_m: None });
        let activity =
            || super::super::activity::create(automerge::ActorId::random(), &aid, &draft, "rep", 1);
        check(&activity().unwrap(), &aid, DocKind::Activity).unwrap();
        let mut a = activity().unwrap();
        a.put(&ROOT, "priority", "high").unwrap();
        assert!(check(&a, &aid, DocKind::Activity).is_err(), "activity root");
        let mut a = activity().unwrap();
        let loc = crate::doc::get_obj(&a, &ROOT, "location", ObjType::Map).unwrap();
        a.put(&loc, "altitude", 3.0).unwrap();
        assert!(check(&a, &aid, DocKind::Activity).is_err(), "activity location");
    }

    #[test]
    fn a_concurrent_losing_container_is_checked_too() {
        let (mut a, id) = lead_doc();
        let mut b = a.fork();
        let s = a.put_object(&ROOT, "source", ObjType::Map).unwrap();
        a.put(&s, "channel", "manual").unwrap();
        a.commit();
        let s = b.put_object(&ROOT, "source", ObjType::Map).unwrap();
        b.put(&s, "channel", "manual").unwrap();
        b.put(&s, "smuggled", "x").unwrap();
        b.commit();
        a.merge(&mut b).unwrap();
        assert!(check(&a, &id, DocKind::Lead).is_err());
    }

    #[test]
    fn nesting_deeper_than_the_app_writes_is_refused_without_recursion() {
        let (d, id) = nested(2);
        assert!(check(&d, &id, DocKind::Lead).unwrap_err().contains("nested deeper"));
        // Deep enough to overflow a reader's stack through `hydrate`.
        let (d, id) = nested(20_000);
        assert!(check(&d, &id, DocKind::Lead).unwrap_err().contains("nested deeper"));
        assert_eq!(within(&d, 10, usize::MAX, false), Err(Bound::TooDeep(10)));
        assert_eq!(within(&d, usize::MAX, 100, false), Err(Bound::TooLarge(100)));
    }

    /// A document that reached a device anyway: its reader answers a typed error for that
    /// record instead of overflowing the stack.
    #[test]
    fn the_reader_refuses_a_too_deep_document_with_a_typed_error() {
        let (d, id) = nested(20_000);
        match super::super::lead::read(&d, &id) {
            Err(crate::error::Error::Corrupt { id: got, reason }) => {
                assert_eq!(got, id);
                assert!(reason.contains("nested deeper"), "{reason}");
            }
            other => panic!("expected a corrupt-document error, got {other:?}"),
        }
        // Within the reader's bound, an unknown key is read past (a newer app's field).
        let (d, id) = nested(5);
        assert_eq!(super::super::lead::read(&d, &id).unwrap().name.as_deref(), Some("Kim"));
    }

    #[test]
    fn a_lead_at_every_limit_passes() {
        let id = crate::model::new_id();
        let d = LeadDraft {
            name: Some("n".repeat(v::MAX_SHORT_TEXT)),
            emails: (0..v::MAX_CONTACTS).map(|i| format!("a{i}@x.com")).collect(),
            phones: (0..v::MAX_CONTACTS).map(|i| format!("+8210000000{i:02}")).collect(),
            tags: (0..v::MAX_TAGS).map(|i| format!("{i:0>50}")).collect(),
            notes: Some("x".repeat(v::MAX_NOTES)),
            custom_fields: (0..v::MAX_CUSTOM_FIELDS)
                .map(|i| crate::model::CustomField {
                    key: format!("{i:0>64}"),
                    value: "v".repeat(v::MAX_CUSTOM_VALUE),
                })
                .collect(),
            ..Default::default()
        };
        let doc =
            super::super::lead::create(automerge::ActorId::random(), &id, &d, "rep", 1).unwrap();
        check(&doc, &id, DocKind::Lead).unwrap();
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
