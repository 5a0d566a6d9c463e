//! Sales process settings, targets and compensation plans in the store: the writes (with the
//! local role check), and their projections, which reports read instead of the documents.
//!
//! Stage rules are enforced on local lead writes only (`Store::create_leads`,
//! `Store::update_lead`): a merged remote change is never refused, since refusing it would
//! lose a rep's work that another device has already accepted.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Record, Store, documents, outbox};
use crate::doc::{self, DocKind, sales::SETTINGS_ID};
use crate::model::{
    CompPlan, CompPlanDraft, RequiredField, SalesSettings, Stage, StagePatch, StageSetting,
    SubjectKind, Target, TargetDraft, TargetMetric, Tier, new_id, parse_id,
};
use crate::{Error, Result, ValidationError};

/// `meta` key of the user's role as the sync server told it at enrollment (`rep`, `manager`,
/// `admin`). A store that never enrolled has none and is not restricted locally.
pub const META_ROLE: &str = "sync.role";

// ---- projections ---------------------------------------------------------------------------

pub(crate) fn upsert_settings(conn: &Connection, s: &SalesSettings) -> Result<()> {
    conn.prepare_cached("DELETE FROM stage_settings")?.execute([])?;
    let mut ins = conn.prepare_cached("INSERT INTO stage_settings (stage, name, probability_bp, required) VALUES (?1, ?2, ?3, ?4)")?;
    for st in &s.stages {
        let req: Vec<&str> = st.required.iter().map(|f| f.as_str()).collect();
        ins.execute(params![st.stage.as_str(), st.name, st.probability_bp, req.join(" ")])?;
    }
    Ok(())
}

/// The projected settings; the defaults when this store has no settings document yet.
pub(crate) fn read_settings(conn: &Connection) -> Result<SalesSettings> {
    let mut s = SalesSettings::default();
    let mut stmt =
        conn.prepare_cached("SELECT stage, name, probability_bp, required FROM stage_settings")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, u32>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    for row in rows {
        let (stage, name, bp, req) = row?;
        let Ok(stage) = Stage::parse(&stage) else { continue };
        if let Some(st) = s.stages.iter_mut().find(|x| x.stage == stage) {
            *st = StageSetting {
                stage,
                name,
                probability_bp: bp,
                required: req
                    .split_whitespace()
                    .filter_map(|f| RequiredField::parse(f).ok())
                    .collect(),
            };
        }
    }
    Ok(s)
}

pub(crate) fn upsert_target(conn: &Connection, t: &Target) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO targets (id, subject_kind, subject, metric, period_start, period_end, value, currency, deleted, created_at, created_by, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (id) DO UPDATE SET subject_kind = excluded.subject_kind, subject = excluded.subject, metric = excluded.metric,
             period_start = excluded.period_start, period_end = excluded.period_end, value = excluded.value, currency = excluded.currency,
             deleted = excluded.deleted, created_at = excluded.created_at, created_by = excluded.created_by,
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )?
    .execute(params![
        t.id,
        t.subject_kind.as_str(),
        t.subject,
        t.metric.as_str(),
        t.period_start,
        t.period_end,
        t.value,
        t.currency,
        t.deleted,
        t.created_at,
        t.created_by,
        t.updated_at,
        t.updated_by
    ])?;
    Ok(())
}

const TARGET_COLUMNS: &str = "id, subject_kind, subject, metric, period_start, period_end, value, currency, deleted, created_at, created_by, updated_at, updated_by";

fn target_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Target> {
    let conv = |i: usize, e: ValidationError| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    let kind: String = r.get(1)?;
    let metric: String = r.get(3)?;
    Ok(Target {
        id: r.get(0)?,
        subject_kind: SubjectKind::parse(&kind).map_err(|e| conv(1, e))?,
        subject: r.get(2)?,
        metric: TargetMetric::parse(&metric).map_err(|e| conv(3, e))?,
        period_start: r.get(4)?,
        period_end: r.get(5)?,
        value: r.get(6)?,
        currency: r.get(7)?,
        deleted: r.get(8)?,
        created_at: r.get(9)?,
        created_by: r.get(10)?,
        updated_at: r.get(11)?,
        updated_by: r.get(12)?,
    })
}

pub(crate) fn read_target(conn: &Connection, id: &str) -> Result<Option<Target>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {TARGET_COLUMNS} FROM targets WHERE id = ?1"))?
        .query_row([id], target_row)
        .optional()?)
}

/// Live targets whose period overlaps `[from, to)`, by subject, metric and period.
pub(crate) fn targets_overlapping(conn: &Connection, from: i64, to: i64) -> Result<Vec<Target>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TARGET_COLUMNS} FROM targets WHERE deleted = 0 AND period_start < ?2 AND period_end > ?1
         ORDER BY subject_kind, subject, metric, period_start, id"
    ))?;
    let rows = stmt.query_map([from, to], target_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn upsert_plan(conn: &Connection, p: &CompPlan) -> Result<()> {
    let tiers = p
        .tiers
        .iter()
        .map(|t| format!("{}:{}", t.from_bp, t.rate_bp))
        .collect::<Vec<_>>()
        .join(" ");
    conn.prepare_cached(
        "INSERT INTO comp_plans (id, rep, base_amount, base_currency, rate_bp, tiers, deleted, created_at, created_by, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (id) DO UPDATE SET rep = excluded.rep, base_amount = excluded.base_amount, base_currency = excluded.base_currency,
             rate_bp = excluded.rate_bp, tiers = excluded.tiers, deleted = excluded.deleted, created_at = excluded.created_at,
             created_by = excluded.created_by, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )?
    .execute(params![p.id, p.rep, p.base.amount_minor, p.base.currency, p.rate_bp, tiers, p.deleted, p.created_at, p.created_by, p.updated_at, p.updated_by])?;
    Ok(())
}

const PLAN_COLUMNS: &str = "id, rep, base_amount, base_currency, rate_bp, tiers, deleted, created_at, created_by, updated_at, updated_by";

fn plan_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CompPlan> {
    let tiers: String = r.get(5)?;
    Ok(CompPlan {
        id: r.get(0)?,
        rep: r.get(1)?,
        base: crate::model::Money { amount_minor: r.get(2)?, currency: r.get(3)? },
        rate_bp: r.get(4)?,
        tiers: tiers
            .split_whitespace()
            .filter_map(|t| {
                let (f, r) = t.split_once(':')?;
                Some(Tier { from_bp: f.parse().ok()?, rate_bp: r.parse().ok()? })
            })
            .collect(),
        deleted: r.get(6)?,
        created_at: r.get(7)?,
        created_by: r.get(8)?,
        updated_at: r.get(9)?,
        updated_by: r.get(10)?,
    })
}

pub(crate) fn read_plan(conn: &Connection, id: &str) -> Result<Option<CompPlan>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {PLAN_COLUMNS} FROM comp_plans WHERE id = ?1"))?
        .query_row([id], plan_row)
        .optional()?)
}

/// Each rep's plan. Two managers creating a plan for the same rep offline make two documents;
/// the one changed last counts (then the larger id), on every device alike.
pub(crate) fn current_plans(conn: &Connection) -> Result<Vec<CompPlan>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {PLAN_COLUMNS} FROM comp_plans WHERE deleted = 0 ORDER BY rep, updated_at DESC, id DESC"))?;
    let all: Vec<CompPlan> = stmt.query_map([], plan_row)?.collect::<rusqlite::Result<_>>()?;
    let mut out: Vec<CompPlan> = Vec::new();
    for p in all {
        if out.last().is_none_or(|l| l.rep != p.rep) {
            out.push(p);
        }
    }
    Ok(out)
}

pub(crate) fn delete(conn: &Connection, id: &str, kind: DocKind) -> Result<()> {
    match kind {
        DocKind::Settings => conn.prepare_cached("DELETE FROM stage_settings")?.execute([])?,
        DocKind::Target => {
            conn.prepare_cached("DELETE FROM targets WHERE id = ?1")?.execute([id])?
        }
        DocKind::CompPlan => {
            conn.prepare_cached("DELETE FROM comp_plans WHERE id = ?1")?.execute([id])?
        }
        DocKind::Lead | DocKind::Activity => 0,
    };
    Ok(())
}

/// Whether the projection of one of these documents matches the document, for `verify`.
pub(crate) fn verify(
    conn: &Connection,
    id: &str,
    kind: DocKind,
    d: &automerge::AutoCommit,
) -> Result<bool> {
    Ok(match kind {
        DocKind::Settings => read_settings(conn)? == doc::sales::settings_read(d, id)?,
        DocKind::Target => read_target(conn, id)? == Some(doc::sales::target_read(d, id)?),
        DocKind::CompPlan => read_plan(conn, id)? == Some(doc::sales::plan_read(d, id)?),
        DocKind::Lead | DocKind::Activity => true,
    })
}

// ---- the store's API -----------------------------------------------------------------------

impl Store {
    /// The user's role as enrolled (`rep`, `manager`, `admin`), if this store was enrolled.
    pub fn role(&self) -> Result<Option<String>> {
        self.meta(META_ROLE)
    }

    /// Refuses a rep what only managers and admins may do; the sync server would refuse it too,
    /// and a refused push would only land in quarantine.
    fn require_manager(&self, what: &str) -> Result<()> {
        match self.role()?.as_deref() {
            Some("rep") => Err(Error::Forbidden(format!("only managers and admins may {what}"))),
            _ => Ok(()),
        }
    }

    /// The workspace's sales process: every stage with its display name, win probability and
    /// required fields (defaults for whatever no manager has set).
    pub fn sales_settings(&self) -> Result<SalesSettings> {
        self.read(read_settings)
    }

    /// Changes one stage's settings (managers and admins).
    pub fn set_stage(&self, stage: Stage, mut patch: StagePatch) -> Result<SalesSettings> {
        self.require_manager("change the sales process")?;
        if let Some(n) = &mut patch.name {
            *n = n.trim().to_string();
            if n.is_empty() {
                return Err(ValidationError::Empty { field: "stage name" }.into());
            }
            crate::validate::check_len("stage name", n, crate::validate::MAX_SHORT_TEXT)?;
        }
        if patch.probability_bp.is_some_and(|bp| bp > crate::model::FULL_BP) {
            return Err(ValidationError::Invalid {
                field: "win probability",
                reason: "at most 100%".into(),
            }
            .into());
        }
        if let Some(r) = &mut patch.required {
            r.sort();
            r.dedup();
        }
        let now = self.now();
        let exists = self.read(|c| documents::exists(c, SETTINGS_ID))?;
        if !exists {
            let mut d = doc::sales::settings_create(self.actor.clone(), &self.user, now)?;
            doc::sales::settings_patch(&mut d, stage, &patch, &self.user, now)?;
            let hash = doc::commit(&mut d, now)
                .ok_or_else(|| Error::corrupt(SETTINGS_ID, "no change was made"))?;
            let s = doc::sales::settings_read(&d, SETTINGS_ID)?;
            let saved = d.save();
            let created = self.write(|tx| {
                // Merged in from the server meanwhile: edit that one instead.
                if documents::exists(tx, SETTINGS_ID)? {
                    return Ok(false);
                }
                documents::insert(tx, SETTINGS_ID, DocKind::Settings, &saved)?;
                outbox::push(tx, SETTINGS_ID, DocKind::Settings, &hash)?;
                upsert_settings(tx, &s)?;
                Ok(true)
            })?;
            if created {
                self.notify(super::Changed::one(DocKind::Settings, SETTINGS_ID));
                return Ok(s);
            }
        }
        let user = self.user.clone();
        match self.edit(
            SETTINGS_ID,
            DocKind::Settings,
            |d| doc::sales::settings_patch(d, stage, &patch, &user, now),
            |_| Ok(()),
        )? {
            Record::Settings(s) => Ok(s),
            _ => Err(Error::NotFound { kind: "settings", id: SETTINGS_ID.into() }),
        }
    }

    /// Sets a target: the existing live one for the same subject, metric and period gets the
    /// new value; otherwise a new target is created (managers and admins).
    pub fn set_target(&self, mut draft: TargetDraft) -> Result<Target> {
        self.require_manager("set targets")?;
        crate::model::validate_target(&mut draft)?;
        let now = self.now();
        let existing: Option<String> = self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT id FROM targets WHERE deleted = 0 AND subject_kind = ?1 AND subject = ?2 AND metric = ?3 AND period_start = ?4 AND period_end = ?5
                 ORDER BY id LIMIT 1",
            )?
            .query_row(params![draft.subject_kind.as_str(), draft.subject, draft.metric.as_str(), draft.period_start, draft.period_end], |r| r.get(0))
            .optional()?)
        })?;
        if let Some(id) =
            draft.id.clone().map(|i| parse_id("target id", &i)).transpose()?.or(existing)
        {
            let user = self.user.clone();
            let rec = self.edit(
                &id,
                DocKind::Target,
                |d| {
                    doc::sales::target_set_value(
                        d,
                        draft.value,
                        draft.currency.as_deref(),
                        &user,
                        now,
                    )
                },
                |_| Ok(()),
            )?;
            return match rec {
                Record::Target(t) => Ok(t),
                _ => Err(Error::NotFound { kind: "target", id }),
            };
        }
        let id = new_id();
        let mut d = doc::sales::target_create(self.actor.clone(), &id, &draft, &self.user, now)?;
        let t = doc::sales::target_read(&d, &id)?;
        let hash = d.get_heads().pop().ok_or_else(|| Error::corrupt(&id, "no change was made"))?;
        let saved = d.save();
        self.write(|tx| {
            documents::insert(tx, &id, DocKind::Target, &saved)?;
            outbox::push(tx, &id, DocKind::Target, &hash)?;
            upsert_target(tx, &t)
        })?;
        self.notify(super::Changed::one(DocKind::Target, &id));
        Ok(t)
    }

    /// Moves a target to the bin (managers and admins).
    pub fn delete_target(&self, id: &str) -> Result<Target> {
        self.require_manager("delete targets")?;
        let id = parse_id("target id", id)?;
        let now = self.now();
        match self.edit(
            &id,
            DocKind::Target,
            |d| doc::lead::set_deleted(d, true, &self.user, now),
            |_| Ok(()),
        )? {
            Record::Target(t) => Ok(t),
            _ => Err(Error::NotFound { kind: "target", id }),
        }
    }

    /// Live targets whose period overlaps `[from, to)`.
    pub fn targets(&self, from: i64, to: i64) -> Result<Vec<Target>> {
        self.read(|c| targets_overlapping(c, from, to))
    }

    /// Sets a rep's compensation plan: edits the rep's current plan, or creates one (managers
    /// and admins).
    pub fn set_plan(&self, mut draft: CompPlanDraft) -> Result<CompPlan> {
        self.require_manager("set compensation plans")?;
        crate::model::validate_plan(&mut draft)?;
        if self.role()?.as_deref() == Some("manager") && draft.rep == self.user {
            return Err(Error::Forbidden(
                "a manager's own compensation plan is set by an admin".into(),
            ));
        }
        let now = self.now();
        let existing = self.read(current_plans)?.into_iter().find(|p| p.rep == draft.rep);
        if let Some(p) = existing {
            let user = self.user.clone();
            let id = p.id.clone();
            let rec = self.edit(
                &id,
                DocKind::CompPlan,
                |d| doc::sales::plan_update(d, &id, &draft, &user, now),
                |_| Ok(()),
            )?;
            return match rec {
                Record::Plan(p) => Ok(p),
                _ => Err(Error::NotFound { kind: "plan", id: p.id }),
            };
        }
        let id = new_id();
        let mut d = doc::sales::plan_create(self.actor.clone(), &id, &draft, &self.user, now)?;
        let p = doc::sales::plan_read(&d, &id)?;
        let hash = d.get_heads().pop().ok_or_else(|| Error::corrupt(&id, "no change was made"))?;
        let saved = d.save();
        self.write(|tx| {
            documents::insert(tx, &id, DocKind::CompPlan, &saved)?;
            outbox::push(tx, &id, DocKind::CompPlan, &hash)?;
            upsert_plan(tx, &p)
        })?;
        self.notify(super::Changed::one(DocKind::CompPlan, &id));
        Ok(p)
    }

    /// The plans this device holds (a rep's device holds only the rep's own), one per rep.
    pub fn plans(&self) -> Result<Vec<CompPlan>> {
        self.read(current_plans)
    }
}
