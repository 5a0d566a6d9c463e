//! `stages`, `target` and `plan`: the sales process settings, targets and compensation plans of
//! the core, as commands. Printing only; every rule lives in `fieldsales-core`.

use std::io::Write;

use anyhow::{Context, Result, anyhow, bail};
use fieldsales_core::report::Period;
use fieldsales_core::{
    CompPlan, CompPlanDraft, Money, RequiredField, SalesTarget, Stage, StagePatch, Store,
    SubjectKind, TargetDraft, TargetMetric, Tier, format_bp, parse_percent,
};
use fieldsales_core::{Zone, validate};

use crate::print::Table;

fn json(out: &mut dyn Write, v: &impl serde::Serialize) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, v)?;
    writeln!(out)?;
    Ok(())
}

fn required(r: &[RequiredField]) -> String {
    if r.is_empty() {
        "-".into()
    } else {
        r.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
    }
}

pub fn stages_show(store: &Store, as_json: bool, out: &mut dyn Write) -> Result<()> {
    let s = store.sales_settings()?;
    if as_json {
        return json(out, &s);
    }
    let mut t = Table::new(&["STAGE", "NAME", "PROBABILITY", "REQUIRES"]);
    for st in &s.stages {
        t.row(vec![
            st.stage.to_string(),
            st.name.clone(),
            format_bp(st.probability_bp as i64),
            required(&st.required),
        ]);
    }
    t.write(out)?;
    Ok(())
}

pub fn stages_set(
    store: &Store,
    stage: Stage,
    name: Option<String>,
    probability: Option<&str>,
    required: Option<Vec<RequiredField>>,
    as_json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let probability_bp =
        probability.map(parse_percent).transpose().map_err(|e| anyhow!("--probability: {e}"))?;
    let patch = StagePatch { name, probability_bp, required };
    if patch == StagePatch::default() {
        bail!(
            "nothing to change: name at least one of --name, --probability, --require or --require-nothing"
        );
    }
    store.set_stage(stage, patch)?;
    stages_show(store, as_json, out)
}

/// `2026-11-01 – 2026-12-01` (the times too when a bound is not a local midnight).
pub fn period_text(start: i64, end: i64, tz: &Zone) -> String {
    let day = |t: i64| {
        let s = tz.format_short(t);
        match s.strip_suffix(" 00:00") {
            Some(d) => d.to_string(),
            None => s,
        }
    };
    format!("{} – {}", day(start), day(end))
}

/// A target's value as people read it: a count, or money.
pub fn value_text(metric: TargetMetric, value: i64, currency: Option<&str>) -> String {
    match (metric, currency) {
        (TargetMetric::WonValue, Some(c)) => {
            Money { amount_minor: value, currency: c.to_string() }.to_string()
        }
        _ => value.to_string(),
    }
}

pub fn subject_text(t: &SalesTarget) -> String {
    match t.subject_kind {
        SubjectKind::Rep => t.subject.clone(),
        SubjectKind::Team => format!("team {}", t.subject),
    }
}

#[allow(clippy::too_many_arguments)]
pub fn target_set(
    store: &Store,
    subject: (SubjectKind, String),
    metric: TargetMetric,
    p: Period,
    value: &str,
    currency: Option<&str>,
    as_json: bool,
    tz: &Zone,
    out: &mut dyn Write,
) -> Result<()> {
    let (value, currency) = match (metric, currency) {
        (TargetMetric::WonValue, Some(c)) => {
            let m = validate::parse_money(value, c).map_err(|e| anyhow!("--value: {e}"))?;
            (m.amount_minor, Some(m.currency))
        }
        (TargetMetric::WonValue, None) => {
            bail!("a won_value target needs --currency (such as KRW or USD)")
        }
        (_, Some(_)) => bail!("--currency goes with --metric won_value only; {metric} is a count"),
        (_, None) => (
            value
                .trim()
                .parse::<i64>()
                .with_context(|| format!("--value: '{value}' is not a whole number"))?,
            None,
        ),
    };
    let t = store.set_target(TargetDraft {
        id: None,
        subject_kind: subject.0,
        subject: subject.1,
        metric,
        period_start: p.start,
        period_end: p.end,
        value,
        currency,
    })?;
    if as_json {
        return json(out, &t);
    }
    writeln!(out, "{}", t.id)?;
    writeln!(
        out,
        "{} {}: {} ({})",
        subject_text(&t),
        t.metric,
        value_text(t.metric, t.value, t.currency.as_deref()),
        period_text(t.period_start, t.period_end, tz)
    )?;
    Ok(())
}

pub fn target_list(
    store: &Store,
    p: Period,
    as_json: bool,
    tz: &Zone,
    out: &mut dyn Write,
) -> Result<()> {
    let ts = store.targets(p.start, p.end)?;
    if as_json {
        return json(out, &ts);
    }
    if ts.is_empty() {
        writeln!(out, "no targets")?;
        return Ok(());
    }
    let mut t = Table::new(&["ID", "FOR", "METRIC", "PERIOD", "TARGET"]);
    for x in &ts {
        t.row(vec![
            x.id.clone(),
            subject_text(x),
            x.metric.to_string(),
            period_text(x.period_start, x.period_end, tz),
            value_text(x.metric, x.value, x.currency.as_deref()),
        ]);
    }
    t.write(out)?;
    Ok(())
}

fn parse_tier(s: &str) -> Result<Tier> {
    let (from, rate) = s
        .split_once(':')
        .ok_or_else(|| anyhow!("--tier: '{s}' is not PCT_OF_QUOTA:RATE, such as 100:15"))?;
    Ok(Tier {
        from_bp: parse_percent(from).map_err(|e| anyhow!("--tier: {e}"))?,
        rate_bp: parse_percent(rate).map_err(|e| anyhow!("--tier: {e}"))?,
    })
}

fn tiers_text(p: &CompPlan) -> String {
    let mut parts = vec![format!("{} from 0", format_bp(p.rate_bp as i64))];
    parts.extend(p.tiers.iter().map(|t| {
        format!("{} above {} of quota", format_bp(t.rate_bp as i64), format_bp(t.from_bp as i64))
    }));
    parts.join(", ")
}

#[allow(clippy::too_many_arguments)]
pub fn plan_set(
    store: &Store,
    rep: &str,
    base: &str,
    currency: &str,
    rate: &str,
    tiers: &[String],
    as_json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let base = validate::parse_money(base, currency).map_err(|e| anyhow!("--base: {e}"))?;
    let rate_bp = parse_percent(rate).map_err(|e| anyhow!("--rate: {e}"))?;
    let tiers = tiers.iter().map(|t| parse_tier(t)).collect::<Result<Vec<_>>>()?;
    let p = store.set_plan(CompPlanDraft { rep: rep.to_string(), base, rate_bp, tiers })?;
    plan_print(&[p], as_json, out)
}

pub fn plan_show(
    store: &Store,
    rep: Option<&str>,
    as_json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let plans: Vec<CompPlan> =
        store.plans()?.into_iter().filter(|p| rep.is_none_or(|r| p.rep == r)).collect();
    if plans.is_empty() && !as_json {
        writeln!(out, "no plans")?;
        return Ok(());
    }
    plan_print(&plans, as_json, out)
}

fn plan_print(plans: &[CompPlan], as_json: bool, out: &mut dyn Write) -> Result<()> {
    if as_json {
        return json(out, &plans);
    }
    // One line per plan: the commission rules are too long for a table cell.
    for p in plans {
        writeln!(
            out,
            "{}: base {}; commission {}",
            crate::print::clean(&p.rep),
            p.base,
            tiers_text(p)
        )?;
    }
    Ok(())
}
