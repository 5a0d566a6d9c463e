//! The mapping between domain types and Automerge documents: one document per record.
//!
//! Field choices, and the merge behaviour each one gives:
//! - short text (name, company, stage, owner, …): scalar strings, last-writer-wins with the
//!   concurrent losers kept and reported as conflicts (`Lead::conflicts`);
//! - notes: an Automerge text, so concurrent edits merge character by character;
//! - tags: a map of tag → true, so concurrent adds and removes merge as a set (add wins);
//! - stage history: a list that both devices append to, so histories interleave;
//! - deal value: a map `{amount, currency}` always written as a pair in one change, so the
//!   pair never mixes one device's amount with another's currency;
//! - every container exists from the first change, so two devices never create two competing
//!   `tags` maps.

pub mod activity;
pub mod check;
pub mod diff;
pub mod lead;
pub mod plan;
pub mod settings;
pub mod target;

use std::collections::HashMap;

use automerge::hydrate::Value as H;
use automerge::{ActorId, TextEncoding};
use automerge::{
    AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value, transaction::Transactable,
};

use crate::error::{Error, Result};
use crate::model::FieldConflict;

/// Version of the document layout written by this build; stored in every document as `schema`.
pub const SCHEMA_VERSION: u64 = 1;

/// What a document holds. The number is what the store and the wire format use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Lead = 1,
    Activity = 2,
    /// The workspace's sales process settings (one document, `settings::SETTINGS_ID`).
    Settings = 3,
    /// A target or quota of a rep or a team for a period.
    Target = 4,
    /// A rep's compensation plan.
    CompPlan = 5,
}

impl DocKind {
    pub fn from_i64(v: i64) -> Option<DocKind> {
        match v {
            1 => Some(DocKind::Lead),
            2 => Some(DocKind::Activity),
            3 => Some(DocKind::Settings),
            4 => Some(DocKind::Target),
            5 => Some(DocKind::CompPlan),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Lead => "lead",
            DocKind::Activity => "activity",
            DocKind::Settings => "settings",
            DocKind::Target => "target",
            DocKind::CompPlan => "comp_plan",
        }
    }

    pub fn parse(s: &str) -> Option<DocKind> {
        match s {
            "lead" => Some(DocKind::Lead),
            "activity" => Some(DocKind::Activity),
            "settings" => Some(DocKind::Settings),
            "target" => Some(DocKind::Target),
            "comp_plan" => Some(DocKind::CompPlan),
            _ => None,
        }
    }
}

/// The kind a document says it is, or `None` while its first change has not arrived.
pub fn kind_of(doc: &AutoCommit) -> Option<DocKind> {
    get_str(doc, &automerge::ROOT, "type").and_then(|s| DocKind::parse(&s))
}

/// The fields every record's document starts with: the layout version, its kind and id, who
/// made it and when, and not deleted.
pub(crate) fn record_root(
    root: &mut HashMap<&str, H>,
    kind: DocKind,
    id: &str,
    user: &str,
    now: i64,
) {
    root.insert("schema", H::scalar(SCHEMA_VERSION));
    root.insert("type", H::scalar(kind.as_str()));
    root.insert("id", H::scalar(id));
    root.insert("created_at", H::scalar(now));
    root.insert("created_by", H::scalar(user));
    root.insert("updated_at", H::scalar(now));
    root.insert("updated_by", H::scalar(user));
    root.insert("deleted", H::scalar(false));
}

/// A new record's document, built in one batch (`init_root_from_hydrate`: several times faster
/// than putting field by field) and committed as its single first change: the fields every
/// record starts with, and what `fill` adds (given the document's text encoding).
pub(crate) fn create_record(
    actor: ActorId,
    kind: DocKind,
    id: &str,
    user: &str,
    now: i64,
    fill: impl FnOnce(&mut HashMap<&'static str, H>, TextEncoding),
) -> Result<AutoCommit> {
    let mut doc = AutoCommit::new().with_actor(actor);
    let enc = doc.text_encoding();
    let mut root = HashMap::with_capacity(24);
    record_root(&mut root, kind, id, user, now);
    fill(&mut root, enc);
    doc.init_root_from_hydrate(&root.into())?;
    commit(&mut doc, now);
    Ok(doc)
}

/// Moves a record to the bin or back (records are never hard-deleted); true if it changed.
pub fn set_deleted(doc: &mut AutoCommit, deleted: bool, user: &str, now: i64) -> Result<bool> {
    let changed = put_if_changed(doc, &automerge::ROOT, "deleted", deleted.into())?;
    if changed {
        touch(doc, user, now)?;
    }
    Ok(changed)
}

/// Stamps an edit with who made it and when.
pub(crate) fn touch(doc: &mut AutoCommit, user: &str, now: i64) -> Result<()> {
    doc.put(&automerge::ROOT, "updated_at", now)?;
    doc.put(&automerge::ROOT, "updated_by", user)?;
    Ok(())
}

/// The fields of a record's root that two devices wrote at once, with every value (the one
/// shown first). Conflicts are rare: `hydrate` flags them, and only then are values fetched.
pub(crate) fn root_conflicts(doc: &AutoCommit, r: &HMap<'_>, keys: &[&str]) -> Vec<FieldConflict> {
    keys.iter()
        .filter(|k| r.conflicted(k))
        .filter_map(|k| {
            let values = conflict_values(doc, &automerge::ROOT, k)?;
            Some(FieldConflict { field: k.to_string(), values })
        })
        .collect()
}

/// Commits the open transaction with the wall-clock time in seconds (advisory only in Automerge).
pub(crate) fn commit(doc: &mut AutoCommit, now_ms: i64) -> Option<automerge::ChangeHash> {
    doc.commit_with(
        automerge::transaction::CommitOptions::default().with_time(now_ms.div_euclid(1000)),
    )
}

pub(crate) fn scalar_to_string(v: &ScalarValue) -> String {
    match v {
        ScalarValue::Str(s) => s.to_string(),
        ScalarValue::Int(i) => i.to_string(),
        ScalarValue::Uint(u) => u.to_string(),
        ScalarValue::F64(f) => f.to_string(),
        ScalarValue::Timestamp(t) => t.to_string(),
        ScalarValue::Boolean(b) => b.to_string(),
        ScalarValue::Null => String::new(),
        other => format!("{other}"),
    }
}

pub(crate) fn get_scalar(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<ScalarValue> {
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(s), _))) => Some(s.into_owned()),
        _ => None,
    }
}

/// Whether `key` holds anything at all.
pub(crate) fn get_any(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<()> {
    doc.get(obj, key).ok().flatten().map(drop)
}

// Other Automerge implementations write the same fields in other encodings, and every reader
// here takes them all (docs/architecture.md, "Documents from other implementations"):
// `@automerge/automerge` 2.x and later makes a plain JavaScript string a text object, and a
// JavaScript number an `int` or an `f64` (a `uint` reads back there as a `BigInt`). So a
// string field is a scalar string or a text, and a number any integer or float encoding.

/// A string value: a scalar string or a text object.
pub(crate) fn value_str(doc: &AutoCommit, v: &Value<'_>, id: &ObjId) -> Option<String> {
    match v {
        Value::Object(ObjType::Text) => doc.text(id).ok(),
        v => scalar_str(v),
    }
}

/// A scalar string value, if `v` is one.
pub fn scalar_str(v: &Value<'_>) -> Option<String> {
    match v {
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        Value::Object(_) => None,
    }
}

/// A whole number in any encoding: `int`, `uint` (within i64), `timestamp`, `counter`, or an
/// `f64` with no fraction within i64 (JavaScript numbers may arrive as floats).
pub fn scalar_i64(v: &ScalarValue) -> Option<i64> {
    match v {
        ScalarValue::Int(i) | ScalarValue::Timestamp(i) => Some(*i),
        ScalarValue::Uint(u) => i64::try_from(*u).ok(),
        ScalarValue::Counter(c) => Some(i64::from(c)),
        // 2^63 is exactly representable; anything from it up does not fit.
        ScalarValue::F64(f) if f.fract() == 0.0 && *f >= -(2f64.powi(63)) && *f < 2f64.powi(63) => {
            Some(*f as i64)
        }
        _ => None,
    }
}

/// A number in any encoding, as a float.
pub fn scalar_f64(v: &ScalarValue) -> Option<f64> {
    match v {
        ScalarValue::F64(f) => Some(*f),
        ScalarValue::Int(i) | ScalarValue::Timestamp(i) => Some(*i as f64),
        ScalarValue::Uint(u) => Some(*u as f64),
        ScalarValue::Counter(c) => Some(f64::from(c)),
        _ => None,
    }
}

/// A string field, whichever way it was written (see [`value_str`]).
pub fn get_str(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key) {
        Ok(Some((v, id))) => value_str(doc, &v, &id),
        _ => None,
    }
}

pub(crate) fn get_i64(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<i64> {
    scalar_i64(&get_scalar(doc, obj, key)?)
}

pub(crate) fn get_f64(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<f64> {
    scalar_f64(&get_scalar(doc, obj, key)?)
}

pub(crate) fn get_obj(doc: &AutoCommit, obj: &ObjId, key: &str, ty: ObjType) -> Option<ObjId> {
    match doc.get(obj, key) {
        Ok(Some((Value::Object(t), id))) if t == ty => Some(id),
        _ => None,
    }
}

/// Like `get_obj`, but creates the container if a document from elsewhere lacks it.
pub(crate) fn ensure_obj(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    ty: ObjType,
) -> Result<ObjId> {
    match get_obj(doc, obj, key, ty) {
        Some(id) => Ok(id),
        None => Ok(doc.put_object(obj, key, ty)?),
    }
}

/// The elements of a list, each as a string where it is one (a scalar string or a text).
fn list_items_str(doc: &AutoCommit, list: &ObjId) -> Vec<Option<String>> {
    doc.values(list).map(|(v, id)| value_str(doc, &v, &id)).collect()
}

/// Whether concurrent writes left more than one value at `key`, equal ones included: writing
/// the field again is what settles them.
pub(crate) fn several_values(doc: &AutoCommit, obj: &ObjId, key: &str) -> bool {
    doc.get_all(obj, key).map(|v| v.len() > 1).unwrap_or(false)
}

/// A value as a conflict lists it: what `conflicts::patch_for` reads back into an edit (a
/// deal as `amount currency` in minor units, a time in milliseconds); screens format it as
/// the field itself (`conflicts::shown`).
fn render_value(doc: &AutoCommit, v: &Value<'_>, id: &ObjId) -> String {
    match v {
        Value::Scalar(s) => scalar_to_string(s),
        Value::Object(ObjType::Text) => doc.text(id).unwrap_or_default(),
        Value::Object(ObjType::Map) if get_any(doc, id, "amount").is_some() => {
            // A deal value: "amount currency".
            let amount = get_i64(doc, id, "amount").map(|a| a.to_string()).unwrap_or_default();
            let cur = get_str(doc, id, "currency").unwrap_or_default();
            format!("{amount} {cur}").trim().to_string()
        }
        Value::Object(ObjType::Map) if get_any(doc, id, "lat").is_some() => {
            // A location: "lat,lon" and the accuracy when there is one.
            let n = |k| get_f64(doc, id, k).map(|f| f.to_string()).unwrap_or_default();
            match get_f64(doc, id, "accuracy_m") {
                Some(a) => format!("{},{} ±{a}", n("lat"), n("lon")),
                None => format!("{},{}", n("lat"), n("lon")),
            }
        }
        Value::Object(t) => format!("<{t}>"),
    }
}

/// The distinct values of `key` when concurrent writes left more than one; the visible winner
/// first. Equal values count once: two devices that entered the same thing do not disagree,
/// so `warm | warm` is no conflict.
pub(crate) fn conflict_values(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<Vec<String>> {
    let all = doc.get_all(obj, key).ok()?;
    if all.len() < 2 {
        return None;
    }
    // get_all lists values in op order; the last is the winner `get` returns.
    let mut out: Vec<String> = Vec::with_capacity(all.len());
    for (v, id) in all.iter().rev() {
        let s = render_value(doc, v, id);
        if !out.contains(&s) {
            out.push(s);
        }
    }
    (out.len() > 1).then_some(out)
}

/// Read access to a hydrated map. Reading a whole document with one `hydrate` is several times
/// faster in automerge 0.12 than a `get` per field, and it carries the conflict flags too.
pub(crate) struct HMap<'a>(pub &'a automerge::hydrate::Map);

impl<'a> HMap<'a> {
    pub(crate) fn root(v: &'a automerge::hydrate::Value) -> Option<HMap<'a>> {
        match v {
            automerge::hydrate::Value::Map(m) => Some(HMap(m)),
            _ => None,
        }
    }

    fn scalar(&self, k: &str) -> Option<&'a ScalarValue> {
        match self.0.get(k) {
            Some(automerge::hydrate::Value::Scalar(s)) => Some(s),
            _ => None,
        }
    }

    /// A string field: a scalar string or a text (see [`value_str`]).
    pub(crate) fn str(&self, k: &str) -> Option<String> {
        self.0.get(k).and_then(hydrated_str)
    }

    pub(crate) fn i64(&self, k: &str) -> Option<i64> {
        scalar_i64(self.scalar(k)?)
    }

    pub(crate) fn f64(&self, k: &str) -> Option<f64> {
        scalar_f64(self.scalar(k)?)
    }

    pub(crate) fn bool(&self, k: &str) -> Option<bool> {
        match self.scalar(k)? {
            ScalarValue::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    pub(crate) fn map(&self, k: &str) -> Option<HMap<'a>> {
        match self.0.get(k) {
            Some(automerge::hydrate::Value::Map(m)) => Some(HMap(m)),
            _ => None,
        }
    }

    pub(crate) fn list(&self, k: &str) -> impl Iterator<Item = &'a automerge::hydrate::Value> {
        let list = match self.0.get(k) {
            Some(automerge::hydrate::Value::List(l)) => Some(l),
            _ => None,
        };
        list.into_iter().flat_map(|l| l.iter().map(|v| &v.value))
    }

    pub(crate) fn strings(&self, k: &str) -> Vec<String> {
        self.list(k).filter_map(hydrated_str).collect()
    }

    /// A text field (notes); a scalar string where another implementation wrote one.
    pub(crate) fn text(&self, k: &str) -> String {
        self.str(k).unwrap_or_default()
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &'a String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub(crate) fn conflicted(&self, k: &str) -> bool {
        self.0.iter().any(|(key, v)| key == k && v.conflict)
    }
}

fn hydrated_str(v: &automerge::hydrate::Value) -> Option<String> {
    match v {
        automerge::hydrate::Value::Scalar(ScalarValue::Str(s)) => Some(s.to_string()),
        automerge::hydrate::Value::Text(t) => Some(String::from(t)),
        _ => None,
    }
}

/// Hydrates the root of a document, checking its type. `hydrate` recurses once per nested
/// object, so a document nested deeper than any app writes (a hostile or corrupt one) is refused
/// first, by a walk that does not recurse; a panic inside Automerge becomes an error too. Either
/// way the caller gets [`Error::Corrupt`] for this one record, never a crash.
pub(crate) fn hydrate_root(
    doc: &AutoCommit,
    id: &str,
    want: DocKind,
) -> Result<automerge::hydrate::Value> {
    check_type(doc, id, want)?;
    check::within(doc, check::MAX_READ_DEPTH, check::MAX_READ_VALUES, false)
        .map_err(|e| Error::corrupt(id, e))?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.hydrate(&automerge::ROOT, None)))
        .map_err(|_| Error::corrupt(id, "reading the document failed inside Automerge"))?
        .map_err(Error::from)
}

/// Sets a scalar when it differs from what is shown or when the field is in conflict: writing
/// the same value again is how a rep settles a conflict, and skipping unchanged fields keeps
/// edits from overwriting what another device wrote to them.
pub(crate) fn put_if_changed(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    value: ScalarValue,
) -> Result<bool> {
    // What another implementation wrote in another encoding (a text, a float) is the same
    // value too: rewriting it would only make a change.
    let same = match (&value, get_scalar(doc, obj, key)) {
        (ScalarValue::Str(v), _) => get_str(doc, obj, key).as_deref() == Some(v.as_str()),
        (v, Some(c)) if scalar_i64(v).is_some() => scalar_i64(v) == scalar_i64(&c),
        (v, c) => c.as_ref() == Some(v),
    };
    if same && !several_values(doc, obj, key) {
        return Ok(false);
    }
    doc.put(obj, key, value)?;
    Ok(true)
}

pub(crate) fn delete_if_present(doc: &mut AutoCommit, obj: &ObjId, key: &str) -> Result<bool> {
    if doc.get(obj, key)?.is_none() {
        return Ok(false);
    }
    doc.delete(obj, key)?;
    Ok(true)
}

/// Replaces a list of strings by deleting what went and appending what came, so that a
/// concurrent addition on another device survives. Elements written as text by another
/// implementation count as the strings they hold.
pub(crate) fn replace_string_list(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    new: &[String],
) -> Result<bool> {
    let list = ensure_obj(doc, obj, key, ObjType::List)?;
    let items = list_items_str(doc, &list);
    let old: Vec<&String> = items.iter().flatten().collect();
    if old.len() == new.len() && old.iter().zip(new).all(|(a, b)| *a == b) {
        return Ok(false);
    }
    let kept: Vec<String> = old.iter().filter(|o| new.contains(o)).map(|o| o.to_string()).collect();
    for (i, item) in items.iter().enumerate().rev() {
        if item.as_ref().is_some_and(|s| !new.contains(s)) {
            doc.delete(&list, i)?;
        }
    }
    for n in new {
        if !kept.contains(n) {
            let len = doc.length(&list);
            doc.insert(&list, len, n.as_str())?;
        }
    }
    Ok(true)
}

/// Writes a text field as a text (merged character by character), also where another
/// implementation left a scalar string.
pub(crate) fn update_text(doc: &mut AutoCommit, obj: &ObjId, key: &str, new: &str) -> Result<bool> {
    if get_str(doc, obj, key).as_deref() == Some(new) {
        return Ok(false);
    }
    let text = ensure_obj(doc, obj, key, ObjType::Text)?;
    if doc.text(&text)? == new {
        return Ok(false);
    }
    doc.update_text(&text, new)?;
    Ok(true)
}

/// Loads stored bytes (a saved document, change chunks, or both concatenated).
pub fn load(id: &str, bytes: &[u8]) -> Result<AutoCommit> {
    AutoCommit::load(bytes).map_err(|e| Error::corrupt(id, e))
}

/// The document as one uncompressed chunk that loads as the same document: its one change's
/// raw bytes (a record captured and not edited since), or `save_nocompress()` if it holds
/// several. What the store packs at compaction (`store::packed`), and so what the packing
/// dictionary is trained on (`core/examples/doc_dictionary.rs`).
pub fn uncompressed_chunk(doc: &mut AutoCommit) -> Vec<u8> {
    match doc.get_changes(&[]).as_slice() {
        [one] => one.raw_bytes().to_vec(),
        _ => doc.save_nocompress(),
    }
}

pub(crate) fn check_type(doc: &AutoCommit, id: &str, want: DocKind) -> Result<()> {
    match kind_of(doc) {
        Some(k) if k == want => Ok(()),
        Some(k) => Err(Error::corrupt(
            id,
            format!("expected a {} document, found a {}", want.as_str(), k.as_str()),
        )),
        None => {
            Err(Error::corrupt(id, "the document has no type yet (its first change is missing)"))
        }
    }
}
