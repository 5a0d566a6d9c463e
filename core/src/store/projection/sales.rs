//! The sales tables (`stage_settings`, `targets`, `comp_plans`): the one module that writes
//! them, their row formats, and the check that they match their documents. Reports read these
//! rows instead of the documents.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Result, ValidationError};
use crate::model::{
    CompPlan, Money, RequiredField, SalesSettings, SalesTarget, Stage, StageSetting, SubjectKind,
    TargetMetric, Tier,
};

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
pub(crate) fn settings(conn: &Connection) -> Result<SalesSettings> {
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

pub(crate) fn upsert_target(conn: &Connection, t: &SalesTarget) -> Result<()> {
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

pub(crate) const TARGET_COLUMNS: &str = "id, subject_kind, subject, metric, period_start, period_end, value, currency, deleted, created_at, created_by, updated_at, updated_by";

pub(crate) fn target_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SalesTarget> {
    let conv = |i: usize, e: ValidationError| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    let kind: String = r.get(1)?;
    let metric: String = r.get(3)?;
    Ok(SalesTarget {
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

fn read_target(conn: &Connection, id: &str) -> Result<Option<SalesTarget>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {TARGET_COLUMNS} FROM targets WHERE id = ?1"))?
        .query_row([id], target_row)
        .optional()?)
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

pub(crate) const PLAN_COLUMNS: &str = "id, rep, base_amount, base_currency, rate_bp, tiers, deleted, created_at, created_by, updated_at, updated_by";

pub(crate) fn plan_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CompPlan> {
    let tiers: String = r.get(5)?;
    Ok(CompPlan {
        id: r.get(0)?,
        rep: r.get(1)?,
        base: Money { amount_minor: r.get(2)?, currency: r.get(3)? },
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

fn read_plan(conn: &Connection, id: &str) -> Result<Option<CompPlan>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {PLAN_COLUMNS} FROM comp_plans WHERE id = ?1"))?
        .query_row([id], plan_row)
        .optional()?)
}

/// Removes the settings' rows (the document was reset or dropped).
pub(crate) fn delete_settings(conn: &Connection) -> Result<()> {
    conn.prepare_cached("DELETE FROM stage_settings")?.execute([])?;
    Ok(())
}

pub(crate) fn delete_target(conn: &Connection, id: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM targets WHERE id = ?1")?.execute([id])?;
    Ok(())
}

pub(crate) fn delete_plan(conn: &Connection, id: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM comp_plans WHERE id = ?1")?.execute([id])?;
    Ok(())
}

/// Whether the projected settings are these, for `Store::verify`.
pub(crate) fn settings_match(conn: &Connection, s: &SalesSettings) -> Result<bool> {
    Ok(settings(conn)? == *s)
}

pub(crate) fn target_matches(conn: &Connection, t: &SalesTarget) -> Result<bool> {
    Ok(read_target(conn, &t.id)?.as_ref() == Some(t))
}

pub(crate) fn plan_matches(conn: &Connection, p: &CompPlan) -> Result<bool> {
    Ok(read_plan(conn, &p.id)?.as_ref() == Some(p))
}
