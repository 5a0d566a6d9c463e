//! Changes a server refused, and records a server sent damaged. A rejection must not lose a
//! rep's work: the refused changes are kept here, with the record as it was before and after
//! each one (read while this device still had it), and the document goes back to the server's
//! version. Every entry says, in plain words, what the change did (field by field, old → new),
//! why it was refused and what can be done; [`Store::quarantine_apply`] re-applies it where the
//! user may, [`Store::quarantine_discard`] drops it.
//!
//! This module owns the `quarantine` table and is also the store's chapter on it (`impl Store`
//! below): reading an entry, re-applying or discarding it. `Store::quarantine_rejected`, which
//! fills it from a sync, is in `sync.rs`.

use automerge::{AutoCommit, Change};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::foreign::{Damage, guarded};
use super::record::Record;
use super::{Store, documents, outbox};
use crate::doc::DocKind;
use crate::doc::diff::{self, ChangeDetail, FieldEdit};
use crate::error::{Error, Result, ValidationError};
use crate::model::{
    Activity, ActivityField, ActivityPatch, CompPlan, CompPlanDraft, CustomField, Lead, LeadField,
    LeadPatch, SalesSettings, SalesTarget, StagePatch, TargetDraft,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QuarantineEntry {
    pub id: i64,
    pub doc_id: String,
    pub kind: DocKind,
    pub hash: String,
    /// Machine code from the server (`forbidden`, `invalid_document`, …), `access_lost`, or
    /// why a record from the server was set aside (`Damage::code`: `unloadable`, `id_mismatch`,
    /// `wrong_kind`, …).
    pub code: String,
    /// The server's message, or what is wrong with a record set aside.
    pub reason: String,
    pub at: i64,
    /// The raw change, so that it can be exported and re-entered.
    #[serde(skip)]
    pub change: Vec<u8>,
    /// What the change meant, as far as this app can tell (the record as it would have been).
    pub summary: Option<serde_json::Value>,
    /// What the change did: the record, and each field it set (old → new).
    pub detail: ChangeDetail,
    /// Why it is here, in plain words.
    pub why: String,
    /// What can be done about it, in plain words.
    pub what_to_do: String,
    /// Whether [`Store::quarantine_apply`] can act on it.
    pub can_apply: bool,
}

/// What [`Store::quarantine_apply`] did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct QuarantineApplied {
    pub doc_id: String,
    /// The record as a list names it.
    pub record: String,
    /// The fields written again, as one new change on the record as it is now.
    pub applied: Vec<FieldEdit>,
    /// Fields left out, each with why ("owner: only managers …").
    pub skipped: Vec<String>,
    /// The change (with the refused changes of the record it builds on) goes to the server
    /// again as it was, at the next sync: the record is not on this device any more.
    pub resent: bool,
    /// Quarantine entries this cleared.
    pub cleared: Vec<i64>,
}

/// The record before and after one change, as this app reads it (JSON of the record).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Versions {
    before: Option<serde_json::Value>,
    after: serde_json::Value,
}

fn record_json(d: &AutoCommit, id: &str, kind: DocKind) -> Option<serde_json::Value> {
    serde_json::to_value(Record::read(d, id, kind).ok()?).ok()
}

/// The record before and after `change`, worked out on `base`, a version of its document that
/// holds the change's dependencies (an empty one for a change that creates the record).
fn versions(base: &mut AutoCommit, id: &str, kind: DocKind, change: &Change) -> Option<Versions> {
    guarded(|| {
        let deps = change.deps().to_vec();
        let mut doc = if deps.is_empty() { AutoCommit::new() } else { base.fork_at(&deps).ok()? };
        let before = if deps.is_empty() { None } else { Some(record_json(&doc, id, kind)?) };
        doc.apply_changes([change.clone()]).ok()?;
        Some(Versions { before, after: record_json(&doc, id, kind)? })
    })
    .ok()
    .flatten()
}

/// Moves every outbox row of `doc_id` into quarantine, with its change bytes and the record
/// before and after each change, read from the document (which must still be there).
pub(crate) fn move_outbox(
    tx: &Connection,
    doc_id: &str,
    code: &str,
    reason: &str,
    now: i64,
) -> Result<usize> {
    let entries = outbox::take_doc(tx, doc_id)?;
    // A damaged local copy only loses the before-and-after: the changes are kept regardless.
    let mut local = documents::load(tx, doc_id).ok().flatten().map(|(_, d, _)| d);
    let mut ins = tx.prepare_cached("INSERT INTO quarantine (doc_id, kind, hash, data, code, reason, at, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
    for e in &entries {
        let detail = match (&mut local, Change::from_bytes(e.change.clone())) {
            (Some(d), Ok(c)) => versions(d, doc_id, e.kind, &c),
            (None, Ok(c)) if c.deps().is_empty() => {
                versions(&mut AutoCommit::new(), doc_id, e.kind, &c)
            }
            _ => None,
        }
        .and_then(|v| serde_json::to_string(&v).ok());
        ins.execute(params![doc_id, e.kind as i64, e.hash, e.change, code, reason, now, detail])?;
    }
    tx.prepare_cached("DELETE FROM outbox WHERE doc_id = ?1")?.execute([doc_id])?;
    Ok(entries.len())
}

/// Keeps a damaged record from elsewhere (see `foreign::Damage`): one row per change, or one
/// for a snapshot or bytes that are not a change, so that support can look at exactly what
/// came. A row already kept for the same bytes is not added again (a pull that starts over
/// brings the same snapshot again).
pub(crate) fn set_aside(
    tx: &Connection,
    doc_id: &str,
    kind: DocKind,
    raw: &[&[u8]],
    damage: &Damage,
    now: i64,
) -> Result<usize> {
    let mut exists =
        tx.prepare_cached("SELECT 1 FROM quarantine WHERE doc_id = ?1 AND hash = ?2")?;
    let mut ins = tx.prepare_cached("INSERT INTO quarantine (doc_id, kind, hash, data, code, reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
    let mut n = 0;
    for bytes in raw {
        let hash = match guarded(|| automerge::Change::try_from(*bytes).map(|c| c.hash())) {
            Ok(Ok(h)) => h.to_string(),
            _ => format!("bytes:{:016x}", crate::fingerprint::fingerprint([*bytes])),
        };
        if exists.exists(params![doc_id, hash])? {
            continue;
        }
        let reason = damage.to_string();
        ins.execute(params![doc_id, kind as i64, hash, bytes, damage.code(), reason, now])?;
        n += 1;
    }
    Ok(n)
}

/// The codes of records a server sent damaged (`Damage::code`): nothing typed on this device.
const DAMAGE_CODES: [&str; 8] = [
    "bad_id",
    "unloadable",
    "panicked",
    "wrong_kind",
    "id_mismatch",
    "unreadable",
    "no_reload",
    "local_copy_damaged",
];

/// Why an entry is here and what can be done, in plain words. `here`: the record is on this
/// device (the server's version of it).
fn explain(code: &str, reason: &str, kind: DocKind, here: bool) -> (String, String, bool) {
    let what = match kind {
        DocKind::Lead => "lead",
        DocKind::Activity => "activity",
        DocKind::Settings => "sales process setting",
        DocKind::Target => "target",
        DocKind::CompPlan => "compensation plan",
    };
    let reapply = format!(
        "`quarantine apply` writes the values shown here again as a new change to the {what} as it is \
         now, where you may; `quarantine discard` drops them."
    );
    let resend = "`quarantine apply` sends the change to the server again as it was, at the next \
                  sync: an edit made before your device learned that the record went to \
                  someone else reaches its new owner. Otherwise tell its owner what you entered \
                  (shown here), or `quarantine discard` it.";
    if DAMAGE_CODES.contains(&code) {
        return (
            format!(
                "The server sent this {what} damaged ({reason}); it was kept aside, not merged."
            ),
            "Nothing you typed is in it. Export it for your admin (`quarantine export`), then \
             discard it."
                .into(),
            false,
        );
    }
    let why = match code {
        "forbidden" => format!("The server does not let you make this change: {reason}."),
        "access_lost" => format!(
            "You can no longer see this {what} on the server: it was given to someone else (or \
             taken off your team's list) before this change was sent."
        ),
        "missing_dependencies" if !here => format!(
            "The server no longer shows you this {what}: most likely it was given to someone \
             else while you were offline (the server answers a record that is not yours as if \
             it did not exist), or it was never stored there."
        ),
        "missing_dependencies" => {
            "It builds on an earlier change of yours that the server refused.".into()
        }
        "unknown_lead" => {
            "The lead of this activity is not on the server, or not yours any more.".into()
        }
        "invalid_document" => format!("The server found the record malformed: {reason}."),
        "document_too_large" => {
            format!("The {what} would be larger than the server stores (1 MiB): {reason}.")
        }
        "actor_mismatch" => {
            "The change was written under another device's identity; the server takes a \
             device's own changes only."
                .into()
        }
        _ => format!("The server refused it: {reason} ({code})."),
    };
    let todo = match code {
        "actor_mismatch" => {
            return (
                why,
                "Export it for your admin (`quarantine export`), then discard it.".into(),
                false,
            );
        }
        "document_too_large" => format!("Shorten the {what}'s notes first. {reapply}"),
        _ if here => reapply,
        // Its device has pulled the lead's change of hands by now (the activity left with
        // the lead): sent again, it is taken only if the lead comes back.
        _ if kind == DocKind::Activity => "Tell the lead's owner what you logged (shown here), \
             or `quarantine discard` it. `quarantine apply` sends it to the server again as it \
             was, which takes it only once the lead is yours again."
            .into(),
        _ => resend.into(),
    };
    (why, todo, true)
}

impl Store {
    /// Everything kept aside, oldest first, each with what it did, why and what can be done.
    pub fn quarantine(&self) -> Result<Vec<QuarantineEntry>> {
        let rows = self.read(|c| {
            let mut stmt = c.prepare(&format!("SELECT {COLUMNS} FROM quarantine ORDER BY id"))?;
            let rows = stmt.query_map([], row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        rows.into_iter().flatten().map(|r| self.entry(r)).collect()
    }

    /// One entry; `NotFound` if there is none with this id.
    pub fn quarantine_entry(&self, id: i64) -> Result<QuarantineEntry> {
        let r = self.read(|c| {
            Ok(c.query_row(&format!("SELECT {COLUMNS} FROM quarantine WHERE id = ?1"), [id], row)
                .optional()?)
        })?;
        match r.flatten() {
            Some(r) => self.entry(r),
            None => Err(not_found(id)),
        }
    }

    pub fn quarantine_len(&self) -> Result<i64> {
        self.read(|c| Ok(c.query_row("SELECT count(*) FROM quarantine", [], |r| r.get(0))?))
    }

    /// Drops an entry for good, and returns it (for an undo screen or a log).
    pub fn quarantine_discard(&self, id: i64) -> Result<QuarantineEntry> {
        let e = self.quarantine_entry(id)?;
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM quarantine WHERE id = ?1")?.execute([id])?;
            Ok(())
        })?;
        Ok(e)
    }

    /// Re-applies a refused change where the user may. When the record is on this device (the
    /// server's version of it), the values the change set are written again as one new change
    /// on it, under today's rules: validation, stage rules and the user's role decide, and
    /// what the user may not change (a rep giving a lead away) is left out and listed. When
    /// the record is not here any more (the server no longer shows it), the change and the
    /// refused changes of that record it builds on go back to the outbox as they were: the
    /// server decides again at the next sync (an edit written before the device learned that
    /// the lead went to someone else is taken and reaches the new owner). Either way the
    /// entries leave quarantine; a change refused again comes back with the new reason.
    pub fn quarantine_apply(&self, id: i64) -> Result<QuarantineApplied> {
        let e = self.quarantine_entry(id)?;
        if !e.can_apply {
            return Err(ValidationError::Invalid {
                field: "quarantine entry",
                reason: format!("entry {id} cannot be applied: {}", e.what_to_do),
            }
            .into());
        }
        let here = self.read(|c| documents::exists(c, &e.doc_id))?;
        if !here {
            return self.resend(&e);
        }
        let versions = self.read(|c| stored_versions(c, id))?.or_else(|| {
            let change = Change::from_bytes(e.change.clone()).ok()?;
            self.local_versions(&e.doc_id, e.kind, &change)
        });
        let Some(v) = versions else {
            return Err(ValidationError::Invalid {
                field: "quarantine entry",
                reason: format!(
                    "entry {id} holds an edit of a version of the record this device no longer \
                     has, so its values cannot be told apart; export it (`quarantine export`)"
                ),
            }
            .into());
        };
        let (record, applied, skipped) = self.reapply(&e, &v)?;
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM quarantine WHERE id = ?1")?.execute([id])?;
            Ok(())
        })?;
        Ok(QuarantineApplied {
            doc_id: e.doc_id,
            record,
            applied,
            skipped,
            resent: false,
            cleared: vec![id],
        })
    }

    /// Writes again what `v` changed, on the record as it is now.
    fn reapply(
        &self,
        e: &QuarantineEntry,
        v: &Versions,
    ) -> Result<(String, Vec<FieldEdit>, Vec<String>)> {
        let bad = |what: &str| {
            Error::from(ValidationError::Invalid {
                field: "quarantine entry",
                reason: format!("its {what} cannot be read"),
            })
        };
        match e.kind {
            DocKind::Lead => {
                let after: Lead =
                    serde_json::from_value(v.after.clone()).map_err(|_| bad("lead"))?;
                let before: Option<Lead> =
                    v.before.clone().and_then(|b| serde_json::from_value(b).ok());
                let current = self.lead(&e.doc_id)?;
                let may_give_away = self.role()?.as_deref() != Some("rep");
                let (patch, deleted, skipped) = lead_patch(
                    before.as_ref().unwrap_or(&current),
                    &after,
                    &current,
                    may_give_away,
                );
                let mut now = current.clone();
                if !patch.is_empty() {
                    now = self.update_lead(&e.doc_id, patch)?;
                }
                if let Some(d) = deleted {
                    now = if d {
                        self.delete_lead(&e.doc_id)?
                    } else {
                        self.restore_lead(&e.doc_id)?
                    };
                }
                let applied = diff::lead_edits(Some(&current), &now);
                Ok((now.display_name().to_string(), applied, skipped))
            }
            DocKind::Activity => {
                let after: Activity =
                    serde_json::from_value(v.after.clone()).map_err(|_| bad("activity"))?;
                let before: Option<Activity> =
                    v.before.clone().and_then(|b| serde_json::from_value(b).ok());
                let current = self.activity(&e.doc_id)?;
                let (patch, skipped) =
                    activity_patch(before.as_ref().unwrap_or(&current), &after, &current);
                let now = if patch == ActivityPatch::default() {
                    current.clone()
                } else {
                    self.update_activity(&e.doc_id, patch)?
                };
                let applied = diff::activity_edits(Some(&current), &now);
                Ok((now.subject.clone(), applied, skipped))
            }
            DocKind::Target => {
                let t: SalesTarget =
                    serde_json::from_value(v.after.clone()).map_err(|_| bad("target"))?;
                let before = serde_json::to_value(
                    self.targets(i64::MIN, i64::MAX)?.into_iter().find(|x| x.id == t.id),
                )
                .ok();
                let now = self.set_target(TargetDraft {
                    id: Some(t.id.clone()),
                    subject_kind: t.subject_kind,
                    subject: t.subject.clone(),
                    metric: t.metric,
                    period_start: t.period_start,
                    period_end: t.period_end,
                    value: t.value,
                    currency: t.currency.clone(),
                })?;
                Ok(json_applied(format!("target of {}", now.subject), before, &now))
            }
            DocKind::CompPlan => {
                let p: CompPlan =
                    serde_json::from_value(v.after.clone()).map_err(|_| bad("plan"))?;
                let before =
                    serde_json::to_value(self.plans()?.into_iter().find(|x| x.rep == p.rep)).ok();
                let now = self.set_plan(CompPlanDraft {
                    rep: p.rep.clone(),
                    base: p.base.clone(),
                    rate_bp: p.rate_bp,
                    tiers: p.tiers.clone(),
                })?;
                Ok(json_applied(format!("plan of {}", now.rep), before, &now))
            }
            DocKind::Settings => {
                let after: SalesSettings =
                    serde_json::from_value(v.after.clone()).map_err(|_| bad("settings"))?;
                let before: Option<SalesSettings> =
                    v.before.clone().and_then(|b| serde_json::from_value(b).ok());
                let current = self.sales_settings()?;
                let mut applied = Vec::new();
                for st in &after.stages {
                    let was = before.as_ref().and_then(|b| b.stage(st.stage));
                    if was == Some(st) {
                        continue;
                    }
                    self.set_stage(
                        st.stage,
                        StagePatch {
                            name: Some(st.name.clone()),
                            probability_bp: Some(st.probability_bp),
                            required: Some(st.required.clone()),
                        },
                    )?;
                    let old = current.stage(st.stage).and_then(|s| serde_json::to_string(s).ok());
                    applied.push(FieldEdit {
                        field: format!("stage.{}", st.stage),
                        old,
                        new: serde_json::to_string(st).ok(),
                    });
                }
                Ok(("sales process settings".into(), applied, vec![]))
            }
        }
    }

    /// Puts the entry's change back in the outbox as it was, after the refused changes of the
    /// same record it builds on (which leave quarantine with it).
    fn resend(&self, e: &QuarantineEntry) -> Result<QuarantineApplied> {
        let cleared = self.write(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT id, hash, data, code FROM quarantine WHERE doc_id = ?1 AND id <= ?2 ORDER BY id",
            )?;
            let rows: Vec<(i64, String, Vec<u8>, String)> = stmt
                .query_map(params![e.doc_id, e.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?;
            // This change and, walking back, every earlier one it depends on.
            let mut wanted: Vec<String> = vec![e.hash.clone()];
            let mut picked: Vec<(i64, String, Vec<u8>)> = Vec::new();
            for (id, hash, data, code) in rows.into_iter().rev() {
                if !wanted.contains(&hash) || DAMAGE_CODES.contains(&code.as_str()) {
                    continue;
                }
                if let Ok(c) = Change::from_bytes(data.clone()) {
                    wanted.extend(c.deps().iter().map(|h| h.to_string()));
                }
                picked.push((id, hash, data));
            }
            picked.reverse();
            let mut del = tx.prepare_cached("DELETE FROM quarantine WHERE id = ?1")?;
            for (id, hash, data) in &picked {
                outbox::push_bytes(tx, &e.doc_id, e.kind, hash, data)?;
                del.execute([id])?;
            }
            Ok(picked.into_iter().map(|(id, _, _)| id).collect::<Vec<_>>())
        })?;
        Ok(QuarantineApplied {
            doc_id: e.doc_id.clone(),
            record: e.detail.record.clone(),
            applied: e.detail.fields.clone(),
            skipped: Vec::new(),
            resent: true,
            cleared,
        })
    }

    /// The versions around a change, worked out on this device's copy of its record (an entry
    /// kept before they were stored with it).
    fn local_versions(&self, doc_id: &str, kind: DocKind, change: &Change) -> Option<Versions> {
        if change.deps().is_empty() {
            return versions(&mut AutoCommit::new(), doc_id, kind, change);
        }
        let mut d = self.read(|c| documents::load(c, doc_id)).ok().flatten()?.1;
        if !d.get_missing_deps(change.deps()).is_empty() {
            return None;
        }
        versions(&mut d, doc_id, kind, change)
    }

    fn entry(&self, r: Row) -> Result<QuarantineEntry> {
        let here = self.read(|c| documents::exists(c, &r.doc_id))?;
        let change = Change::from_bytes(r.change.clone()).ok();
        let versions =
            r.detail.as_deref().and_then(|d| serde_json::from_str::<Versions>(d).ok()).or_else(
                || change.as_ref().and_then(|c| self.local_versions(&r.doc_id, r.kind, c)),
            );
        let detail = match &versions {
            Some(v) => detail_of(&r.doc_id, r.kind, v),
            None => ChangeDetail {
                record: r.doc_id.clone(),
                created: false,
                fields: change
                    .as_ref()
                    .map(|c| guarded(|| diff::op_edits(c)).unwrap_or_default())
                    .unwrap_or_default(),
            },
        };
        let (why, what_to_do, can_apply) = explain(&r.code, &r.reason, r.kind, here);
        Ok(QuarantineEntry {
            summary: summarize(&r.doc_id, r.kind, &r.change),
            id: r.id,
            doc_id: r.doc_id,
            kind: r.kind,
            hash: r.hash,
            code: r.code,
            reason: r.reason,
            at: r.at,
            change: r.change,
            detail,
            why,
            what_to_do,
            can_apply,
        })
    }
}

/// What re-applying a target or a plan wrote, from the record before and as it is now.
fn json_applied(
    name: String,
    before: Option<serde_json::Value>,
    now: &impl Serialize,
) -> (String, Vec<FieldEdit>, Vec<String>) {
    let after = serde_json::to_value(now).unwrap_or_default();
    (name, diff::json_edits(before.as_ref(), &after), Vec::new())
}

fn not_found(id: i64) -> Error {
    Error::NotFound { kind: "quarantine entry", id: id.to_string() }
}

const COLUMNS: &str = "id, doc_id, kind, hash, data, code, reason, at, detail";

struct Row {
    id: i64,
    doc_id: String,
    kind: DocKind,
    hash: String,
    change: Vec<u8>,
    code: String,
    reason: String,
    at: i64,
    detail: Option<String>,
}

/// A row of [`COLUMNS`]; `None` for a kind this app does not know.
fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Row>> {
    let Some(kind) = DocKind::from_i64(r.get(2)?) else { return Ok(None) };
    Ok(Some(Row {
        id: r.get(0)?,
        doc_id: r.get(1)?,
        kind,
        hash: r.get(3)?,
        change: r.get(4)?,
        code: r.get(5)?,
        reason: r.get(6)?,
        at: r.get(7)?,
        detail: r.get(8)?,
    }))
}

fn stored_versions(c: &Connection, id: i64) -> Result<Option<Versions>> {
    let d: Option<Option<String>> = c
        .query_row("SELECT detail FROM quarantine WHERE id = ?1", [id], |r| r.get(0))
        .optional()?;
    Ok(d.flatten().and_then(|d| serde_json::from_str(&d).ok()))
}

/// A change, field by field, from its versions.
fn detail_of(doc_id: &str, kind: DocKind, v: &Versions) -> ChangeDetail {
    let created = v.before.is_none();
    match kind {
        DocKind::Lead => {
            let after: Option<Lead> = serde_json::from_value(v.after.clone()).ok();
            let before: Option<Lead> =
                v.before.clone().and_then(|b| serde_json::from_value(b).ok());
            match after {
                Some(a) => ChangeDetail {
                    record: Some(a.display_name())
                        .filter(|n| !n.is_empty())
                        .unwrap_or(doc_id)
                        .to_string(),
                    created,
                    fields: diff::lead_edits(before.as_ref(), &a),
                },
                None => ChangeDetail { record: doc_id.into(), created, fields: vec![] },
            }
        }
        DocKind::Activity => {
            let after: Option<Activity> = serde_json::from_value(v.after.clone()).ok();
            let before: Option<Activity> =
                v.before.clone().and_then(|b| serde_json::from_value(b).ok());
            match after {
                Some(a) => ChangeDetail {
                    record: format!("{} \u{201c}{}\u{201d}", a.kind, a.subject),
                    created,
                    fields: diff::activity_edits(before.as_ref(), &a),
                },
                None => ChangeDetail { record: doc_id.into(), created, fields: vec![] },
            }
        }
        DocKind::Settings | DocKind::Target | DocKind::CompPlan => {
            let name = match kind {
                DocKind::Settings => "sales process settings".to_string(),
                DocKind::Target => format!(
                    "target of {}",
                    v.after.get("subject").and_then(|s| s.as_str()).unwrap_or(doc_id)
                ),
                _ => format!(
                    "plan of {}",
                    v.after.get("rep").and_then(|s| s.as_str()).unwrap_or(doc_id)
                ),
            };
            ChangeDetail {
                record: name,
                created,
                fields: diff::json_edits(v.before.as_ref(), &v.after),
            }
        }
    }
}

/// Text edited in the change, put into the text as it is now: the change's result where the
/// text has not moved on since (or already holds it), else what it added, on a line of its own.
fn merge_text(before: &str, after: &str, current: &str) -> String {
    if current == before || current.contains(after) {
        return after.to_string();
    }
    let mut out = Vec::new();
    diff::text_edit(&mut out, "", before, after);
    match out.first().and_then(|e| e.new.clone()) {
        Some(added) if !current.contains(added.trim()) => {
            let added = added.trim();
            if current.is_empty() { added.to_string() } else { format!("{current}\n{added}") }
        }
        _ => current.to_string(),
    }
}

/// A list the change edited as a set: what it removed goes, what it added comes, the rest as
/// it is now.
fn merge_list(before: &[String], after: &[String], current: &[String]) -> Vec<String> {
    let mut out: Vec<String> =
        current.iter().filter(|c| !before.contains(c) || after.contains(c)).cloned().collect();
    for a in after {
        if !before.contains(a) && !out.contains(a) {
            out.push(a.clone());
        }
    }
    out
}

/// The edit that writes again what a change did to a lead (`before` → `after`) on the lead as
/// it is now; whether it deleted or restored it; and what was left out, with why.
fn lead_patch(
    before: &Lead,
    after: &Lead,
    current: &Lead,
    may_give_away: bool,
) -> (LeadPatch, Option<bool>, Vec<String>) {
    let mut p = LeadPatch::default();
    let mut skipped = Vec::new();
    let mut clear = Vec::new();
    macro_rules! text {
        ($field:ident, $which:expr) => {
            if before.$field != after.$field {
                match &after.$field {
                    Some(v) => p.$field = Some(v.clone()),
                    None => clear.push($which),
                }
            }
        };
    }
    text!(name, LeadField::Name);
    text!(company, LeadField::Company);
    text!(title, LeadField::Title);
    if before.source.event != after.source.event {
        match &after.source.event {
            Some(v) => p.event = Some(v.clone()),
            None => clear.push(LeadField::Event),
        }
    }
    if before.source.channel != after.source.channel {
        p.channel = Some(after.source.channel);
    }
    if before.emails != after.emails {
        p.emails = Some(merge_list(&before.emails, &after.emails, &current.emails));
    }
    if before.phones != after.phones {
        p.phones = Some(merge_list(&before.phones, &after.phones, &current.phones));
    }
    if before.stage != after.stage || before.lost_reason != after.lost_reason {
        p.stage = Some(after.stage);
        p.lost_reason = after.lost_reason.clone();
    }
    if before.potential != after.potential {
        match after.potential {
            Some(v) => p.potential = Some(v),
            None => clear.push(LeadField::Potential),
        }
    }
    if before.deal_value != after.deal_value {
        match &after.deal_value {
            Some(v) => p.deal_value = Some(v.clone()),
            None => clear.push(LeadField::DealValue),
        }
    }
    if before.next_follow_up != after.next_follow_up {
        match after.next_follow_up {
            Some(v) => p.next_follow_up = Some(v),
            None => clear.push(LeadField::NextFollowUp),
        }
    }
    if before.owner != after.owner {
        if may_give_away {
            p.owner = Some(after.owner.clone());
        } else {
            skipped.push(format!(
                "owner → {}: only managers and admins may give a lead to someone else",
                after.owner
            ));
        }
    }
    p.add_tags = after.tags.iter().filter(|t| !before.tags.contains(t)).cloned().collect();
    p.remove_tags = before.tags.iter().filter(|t| !after.tags.contains(t)).cloned().collect();
    if before.notes != after.notes {
        p.notes = Some(merge_text(&before.notes, &after.notes, &current.notes));
    }
    for f in &after.custom_fields {
        if !before.custom_fields.contains(f) {
            p.set_custom_fields.push(CustomField { key: f.key.clone(), value: f.value.clone() });
        }
    }
    p.remove_custom_fields = before
        .custom_fields
        .iter()
        .filter(|b| !after.custom_fields.iter().any(|a| a.key == b.key))
        .map(|b| b.key.clone())
        .collect();
    if before.merged_into != after.merged_into {
        skipped.push("the merge of two leads: merge them again with `lead merge`".into());
    }
    p.clear = clear;
    let deleted = (before.deleted != after.deleted).then_some(after.deleted);
    (p, deleted, skipped)
}

/// As [`lead_patch`], for an activity.
fn activity_patch(
    before: &Activity,
    after: &Activity,
    current: &Activity,
) -> (ActivityPatch, Vec<String>) {
    let mut p = ActivityPatch::default();
    let mut skipped = Vec::new();
    if before.kind != after.kind {
        p.kind = Some(after.kind);
    }
    if before.subject != after.subject {
        p.subject = Some(after.subject.clone());
    }
    if before.notes != after.notes {
        p.notes = Some(merge_text(&before.notes, &after.notes, &current.notes));
    }
    for (b, a, set, field) in [
        (before.occurred_at, after.occurred_at, &mut p.occurred_at, ActivityField::OccurredAt),
        (before.due_at, after.due_at, &mut p.due_at, ActivityField::DueAt),
        (before.duration_s, after.duration_s, &mut p.duration_s, ActivityField::DurationS),
    ] {
        if b != a {
            match a {
                Some(v) => *set = Some(v),
                None => p.clear.push(field),
            }
        }
    }
    if before.done != after.done {
        p.done = Some(after.done);
    }
    if before.outcome != after.outcome {
        match &after.outcome {
            Some(v) => p.outcome = Some(v.clone()),
            None => p.clear.push(ActivityField::Outcome),
        }
    }
    if before.location != after.location {
        match &after.location {
            Some(v) => p.location = Some(*v),
            None => p.clear.push(ActivityField::Location),
        }
    }
    if before.lead_id != after.lead_id {
        skipped.push("the move to another lead: merge the leads again with `lead merge`".into());
    }
    (p, skipped)
}

/// The record a lone change describes, when it is self-contained (a creation); otherwise the
/// fields it sets, read from a document holding only that change.
fn summarize(doc_id: &str, kind: DocKind, change: &[u8]) -> Option<serde_json::Value> {
    // Rows set aside from a server hold bytes Automerge may choke on.
    guarded(|| summarize_change(doc_id, kind, change)).ok().flatten()
}

fn summarize_change(doc_id: &str, kind: DocKind, change: &[u8]) -> Option<serde_json::Value> {
    let ch = automerge::Change::from_bytes(change.to_vec()).ok()?;
    let mut d = automerge::AutoCommit::new();
    d.apply_changes([ch]).ok()?;
    if d.get_heads().is_empty() {
        return Some(
            serde_json::json!({ "note": "an edit of an earlier version; see its detail" }),
        );
    }
    record_json(&d, doc_id, kind)
}
