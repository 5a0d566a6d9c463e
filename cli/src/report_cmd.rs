//! `fieldsales report`: the sales figures of the core's `report` module as text, JSON or CSV.

use std::io::Write;

use anyhow::{Result, bail};
use fieldsales_core::Zone;
use fieldsales_core::performance::{Attainment, Commission, Performance};
use fieldsales_core::report::{Figures, Period, Report, ReportQuery};
use fieldsales_core::{Money, Stage, Store, SubjectKind, format_bp};

use crate::print::Table;

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{:.1}%", v * 100.0))
}

fn num(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.1}"))
}

fn money(v: &[Money]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(" + ")
    }
}

pub fn period(
    kind: &str,
    from: Option<i64>,
    to: Option<i64>,
    now: i64,
    tz: &Zone,
) -> Result<Period> {
    Ok(match (kind, from, to) {
        (_, Some(f), Some(t)) => Period::custom(f, t)?,
        (_, Some(_), None) | (_, None, Some(_)) => bail!("--from and --to go together"),
        ("week", ..) => Period::week_of(now, tz),
        ("month", ..) => Period::month_of(now, tz),
        ("quarter", ..) => Period::quarter_of(now, tz),
        (other, ..) => {
            bail!("unknown period '{other}': use week, month or quarter, or --from and --to")
        }
    })
}

const CSV_HEADER: &[&str] = &[
    "owner",
    "captured",
    "won",
    "lost",
    "win_rate",
    "avg_cycle_days",
    "median_cycle_days",
    "contacted",
    "median_response_min",
    "p90_response_min",
    "within_5_min",
    "within_1_h",
    "within_24_h",
    "activities",
    "won_value",
    "open_pipeline",
    "going_cold",
    "targets",
    "base_pay",
    "commission",
];

fn bp(x: Option<i64>) -> String {
    x.map_or("-".into(), format_bp)
}

/// "deals_won 3/5 60% pace 120%", for one target.
fn attainment_text(a: &Attainment) -> String {
    let t = &a.target;
    let v = |x: i64| crate::sales_cmd::value_text(t.metric, x, t.currency.as_deref());
    format!(
        "{} {}/{} {} pace {}",
        t.metric,
        v(a.progress.actual),
        v(a.progress.target),
        bp(a.progress.attainment_bp),
        bp(a.progress.pace_bp)
    )
}

/// The performance columns of a CSV row: the owner's targets (or the team's, for the team row),
/// base pay and commission.
fn csv_performance(owner: Option<&str>, perf: &Performance) -> Vec<String> {
    let targets: Vec<String> = perf
        .attainment
        .iter()
        .filter(|a| match owner {
            Some(o) => a.target.subject_kind == SubjectKind::Rep && a.target.subject == o,
            None => a.target.subject_kind == SubjectKind::Team,
        })
        .map(attainment_text)
        .collect();
    let c = owner.and_then(|o| perf.commission.iter().find(|c| c.rep == o));
    vec![
        targets.join("; "),
        c.map(|c| c.base.to_string()).unwrap_or_default(),
        c.map(|c| money(&c.commission)).unwrap_or_default(),
    ]
}

fn csv_row(owner: &str, f: &Figures) -> Vec<String> {
    let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    let pipeline: Vec<Money> = f.pipeline.iter().flat_map(|p| p.value.clone()).collect();
    vec![
        owner.to_string(),
        f.captured.to_string(),
        f.win_rate.won.to_string(),
        f.win_rate.lost.to_string(),
        opt(f.win_rate.rate),
        opt(f.sales_cycle.average_days),
        opt(f.sales_cycle.median_days),
        f.response_time.contacted.to_string(),
        opt(f.response_time.median_minutes),
        opt(f.response_time.p90_minutes),
        opt(f.response_time.within_5_minutes),
        opt(f.response_time.within_1_hour),
        opt(f.response_time.within_24_hours),
        f.activities.iter().map(|a| a.count).sum::<u32>().to_string(),
        money(&f.won_value),
        money(&pipeline),
        f.going_cold_count.to_string(),
    ]
}

pub fn run(
    store: &Store,
    q: &ReportQuery,
    json: bool,
    csv: bool,
    tz: &Zone,
    out: &mut dyn Write,
) -> Result<()> {
    let r = store.report(q)?;
    let perf = store.performance(q)?;
    if json {
        // The report's fields as before, with the targets, commission and stage names added.
        let mut v = serde_json::to_value(&r)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("stages".into(), serde_json::to_value(&perf.stages)?);
            o.insert("attainment".into(), serde_json::to_value(&perf.attainment)?);
            o.insert("commission".into(), serde_json::to_value(&perf.commission)?);
        }
        serde_json::to_writer_pretty(&mut *out, &v)?;
        writeln!(out)?;
    } else if csv {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(CSV_HEADER)?;
        w.write_record(csv_row("(team)", &r.team).into_iter().chain(csv_performance(None, &perf)))?;
        for rep in &r.reps {
            w.write_record(
                csv_row(&rep.owner, &rep.figures)
                    .into_iter()
                    .chain(csv_performance(Some(&rep.owner), &perf)),
            )?;
        }
        w.flush()?;
    } else {
        text(&r, &perf, tz, out)?;
    }
    Ok(())
}

fn stage_name(perf: &Performance, s: Stage) -> String {
    perf.stages.iter().find(|x| x.stage == s).map_or_else(|| s.to_string(), |x| x.name.clone())
}

fn performance_text(perf: &Performance, tz: &Zone, out: &mut dyn Write) -> Result<()> {
    if !perf.attainment.is_empty() {
        writeln!(out, "\nTargets")?;
        let mut t =
            Table::new(&["FOR", "METRIC", "PERIOD", "ACTUAL", "TARGET", "ATTAINMENT", "PACE"]);
        for a in &perf.attainment {
            let x = &a.target;
            let v = |n: i64| crate::sales_cmd::value_text(x.metric, n, x.currency.as_deref());
            t.row(vec![
                crate::sales_cmd::subject_text(x),
                x.metric.to_string(),
                crate::sales_cmd::period_text(x.period_start, x.period_end, tz),
                v(a.progress.actual),
                v(a.progress.target),
                bp(a.progress.attainment_bp),
                bp(a.progress.pace_bp),
            ]);
        }
        t.write(out)?;
    }
    if !perf.commission.is_empty() {
        writeln!(out, "\nCommission")?;
        let mut t = Table::new(&["REP", "BASE", "WON VALUE", "QUOTA", "COMMISSION"]);
        for c in &perf.commission {
            let c: &Commission = c;
            t.row(vec![
                c.rep.clone(),
                c.base.to_string(),
                money(&c.won_value),
                money(&c.quota),
                money(&c.commission),
            ]);
        }
        t.write(out)?;
    }
    Ok(())
}

fn text(r: &Report, perf: &Performance, tz: &Zone, out: &mut dyn Write) -> Result<()> {
    let t = &r.team;
    writeln!(
        out,
        "Report {} – {}",
        tz.format_short(r.period.start),
        tz.format_short(r.period.end)
    )?;
    writeln!(out, "  captured        {}", t.captured)?;
    writeln!(
        out,
        "  win rate        {} ({} won, {} lost)",
        pct(t.win_rate.rate),
        t.win_rate.won,
        t.win_rate.lost
    )?;
    writeln!(
        out,
        "  sales cycle     avg {} d, median {} d",
        num(t.sales_cycle.average_days),
        num(t.sales_cycle.median_days)
    )?;
    let rt = &t.response_time;
    writeln!(
        out,
        "  response time   median {} min, p90 {} min; within 5 min {}, 1 h {}, 24 h {}",
        num(rt.median_minutes),
        num(rt.p90_minutes),
        pct(rt.within_5_minutes),
        pct(rt.within_1_hour),
        pct(rt.within_24_hours)
    )?;
    writeln!(out, "  won value       {}", money(&t.won_value))?;
    writeln!(out, "\nFunnel (leads captured in the period)")?;
    let mut ft = Table::new(&["STAGE", "REACHED", "CONVERSION"]);
    for s in &t.funnel {
        ft.row(vec![stage_name(perf, s.stage), s.reached.to_string(), pct(s.conversion)]);
    }
    ft.write(out)?;
    writeln!(out, "\nOpen pipeline")?;
    let mut pt = Table::new(&["STAGE", "LEADS", "VALUE", "WEIGHTED", "PROBABILITY"]);
    for p in &t.pipeline {
        pt.row(vec![
            stage_name(perf, p.stage),
            p.leads.to_string(),
            money(&p.value),
            money(&p.weighted),
            format!("{}%", p.probability_bp as f64 / 100.0),
        ]);
    }
    pt.write(out)?;
    if !t.by_event.is_empty() {
        writeln!(out, "\nEvents")?;
        let mut et = Table::new(&["EVENT", "LEADS", "WON", "WON VALUE"]);
        for e in &t.by_event {
            et.row(vec![
                e.source.clone(),
                e.leads.to_string(),
                e.won.to_string(),
                money(&e.won_value),
            ]);
        }
        et.write(out)?;
    }
    writeln!(out, "\nReps")?;
    let mut rt = Table::new(&[
        "REP",
        "CAPTURED",
        "WON",
        "LOST",
        "WIN RATE",
        "MEDIAN RESPONSE",
        "ACTIVITIES",
        "GOING COLD",
    ]);
    for rep in &r.reps {
        let f = &rep.figures;
        rt.row(vec![
            rep.owner.clone(),
            f.captured.to_string(),
            f.win_rate.won.to_string(),
            f.win_rate.lost.to_string(),
            pct(f.win_rate.rate),
            f.response_time.median_minutes.map_or("-".into(), |m| format!("{m:.0} min")),
            f.activities.iter().map(|a| a.count).sum::<u32>().to_string(),
            f.going_cold_count.to_string(),
        ]);
    }
    rt.write(out)?;
    if !t.going_cold.is_empty() {
        writeln!(out, "\nGoing cold ({} in all, the coldest first)", t.going_cold_count)?;
        for c in t.going_cold.iter().take(20) {
            writeln!(
                out,
                "  {:<30} {:<12} {} days",
                crate::print::truncate(&c.name, 30),
                c.owner,
                c.idle_days
            )?;
        }
    }
    performance_text(perf, tz, out)
}
