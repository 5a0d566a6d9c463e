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
pub mod lead;
pub mod sales;

use automerge::{
    AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value, transaction::Transactable,
};

use crate::{Error, Result};

/// Version of the document layout written by this build; stored in every document as `schema`.
pub const SCHEMA_VERSION: u64 = 1;

/// What a document holds. The number is what the store and the wire format use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Lead = 1,
    Activity = 2,
    /// The workspace's sales process settings (one document, `sales::SETTINGS_ID`).
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

pub(crate) fn get_str(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<String> {
    match get_scalar(doc, obj, key)? {
        ScalarValue::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

pub(crate) fn get_i64(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<i64> {
    match get_scalar(doc, obj, key)? {
        ScalarValue::Int(i) | ScalarValue::Timestamp(i) => Some(i),
        ScalarValue::Uint(u) => i64::try_from(u).ok(),
        _ => None,
    }
}

pub(crate) fn get_f64(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<f64> {
    match get_scalar(doc, obj, key)? {
        ScalarValue::F64(f) => Some(f),
        ScalarValue::Int(i) => Some(i as f64),
        _ => None,
    }
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

pub(crate) fn list_of_strings(doc: &AutoCommit, obj: &ObjId, key: &str) -> Vec<String> {
    let Some(list) = get_obj(doc, obj, key, ObjType::List) else { return Vec::new() };
    doc.values(&list)
        .filter_map(|(v, _)| match v {
            Value::Scalar(s) => match s.as_ref() {
                ScalarValue::Str(s) => Some(s.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// All values of `key` when concurrent writes left more than one; the visible winner first.
pub(crate) fn conflict_values(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<Vec<String>> {
    let all = doc.get_all(obj, key).ok()?;
    if all.len() < 2 {
        return None;
    }
    // get_all lists values in op order; the last is the winner `get` returns.
    let render = |v: &Value<'_>, id: &ObjId| match v {
        Value::Scalar(s) => scalar_to_string(s),
        Value::Object(ObjType::Map) => {
            // Deal values: render "amount currency".
            let amount = get_i64(doc, id, "amount").map(|a| a.to_string()).unwrap_or_default();
            let cur = get_str(doc, id, "currency").unwrap_or_default();
            format!("{amount} {cur}").trim().to_string()
        }
        Value::Object(t) => format!("<{t}>"),
    };
    Some(all.iter().rev().map(|(v, id)| render(v, id)).collect())
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

    pub(crate) fn str(&self, k: &str) -> Option<String> {
        match self.scalar(k)? {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        }
    }

    pub(crate) fn i64(&self, k: &str) -> Option<i64> {
        match self.scalar(k)? {
            ScalarValue::Int(i) | ScalarValue::Timestamp(i) => Some(*i),
            ScalarValue::Uint(u) => i64::try_from(*u).ok(),
            _ => None,
        }
    }

    pub(crate) fn f64(&self, k: &str) -> Option<f64> {
        match self.scalar(k)? {
            ScalarValue::F64(f) => Some(*f),
            ScalarValue::Int(i) => Some(*i as f64),
            _ => None,
        }
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
        self.list(k)
            .filter_map(|v| match v {
                automerge::hydrate::Value::Scalar(ScalarValue::Str(s)) => Some(s.to_string()),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn text(&self, k: &str) -> String {
        match self.0.get(k) {
            Some(automerge::hydrate::Value::Text(t)) => String::from(t),
            _ => String::new(),
        }
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &'a String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub(crate) fn conflicted(&self, k: &str) -> bool {
        self.0.iter().any(|(key, v)| key == k && v.conflict)
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
    let current = get_scalar(doc, obj, key);
    let conflicted = doc.get_all(obj, key).map(|v| v.len() > 1).unwrap_or(false);
    if current.as_ref() == Some(&value) && !conflicted {
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
/// concurrent addition on another device survives.
pub(crate) fn replace_string_list(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    new: &[String],
) -> Result<bool> {
    let list = ensure_obj(doc, obj, key, ObjType::List)?;
    let old = list_of_strings(doc, obj, key);
    if old == new {
        return Ok(false);
    }
    for i in (0..old.len()).rev() {
        if !new.contains(&old[i]) {
            doc.delete(&list, i)?;
        }
    }
    let kept: Vec<&String> = old.iter().filter(|o| new.contains(o)).collect();
    for n in new {
        if !kept.contains(&n) {
            let len = doc.length(&list);
            doc.insert(&list, len, n.as_str())?;
        }
    }
    Ok(true)
}

pub(crate) fn update_text(doc: &mut AutoCommit, obj: &ObjId, key: &str, new: &str) -> Result<bool> {
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
