//! `fieldsales report`: the sales figures of the core's `report` module as text, JSON or CSV.

use std::io::Write;

use anyhow::{Result, bail};
use fieldsales_core::report::{Figures, Period, Report, ReportQuery};
use fieldsales_core::{Money, Store};

use crate::print::Table;

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{:.1}%", v * 100.0))
}

fn num(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.1}"))
}

fn money(v: &[Money]) -> String {
    if v.is_empty() { "-".into() } else { v.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(" + ") }
}

pub fn period(kind: &str, from: Option<i64>, to: Option<i64>, now: i64, off: i32) -> Result<Period> {
    Ok(match (kind, from, to) {
        (_, Some(f), Some(t)) => Period::custom(f, t)?,
        (_, Some(_), None) | (_, None, Some(_)) => bail!("--from and --to go together"),
        ("week", ..) => Period::week_of(now, off),
        ("month", ..) => Period::month_of(now, off),
        ("quarter", ..) => Period::quarter_of(now, off),
        (other, ..) => bail!("unknown period '{other}': use week, month or quarter, or --from and --to"),
    })
}

const CSV_HEADER: &[&str] = &[
    "owner", "captured", "won", "lost", "win_rate", "avg_cycle_days", "median_cycle_days", "contacted", "median_response_min",
    "p90_response_min", "within_5_min", "within_1_h", "within_24_h", "activities", "won_value", "open_pipeline", "going_cold",
];

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
        f.going_cold.len().to_string(),
    ]
}

pub fn run(store: &Store, q: &ReportQuery, json: bool, csv: bool, off: i32, out: &mut dyn Write) -> Result<()> {
    let r = store.report(q)?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &r)?;
        writeln!(out)?;
    } else if csv {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(CSV_HEADER)?;
        w.write_record(csv_row("(team)", &r.team))?;
        for rep in &r.reps {
            w.write_record(csv_row(&rep.owner, &rep.figures))?;
        }
        w.flush()?;
    } else {
        text(&r, off, out)?;
    }
    Ok(())
}

fn text(r: &Report, off: i32, out: &mut dyn Write) -> Result<()> {
    let t = &r.team;
    writeln!(out, "Report {} – {}", crate::time::format_short(r.period.start, off), crate::time::format_short(r.period.end, off))?;
    writeln!(out, "  captured        {}", t.captured)?;
    writeln!(out, "  win rate        {} ({} won, {} lost)", pct(t.win_rate.rate), t.win_rate.won, t.win_rate.lost)?;
    writeln!(out, "  sales cycle     avg {} d, median {} d", num(t.sales_cycle.average_days), num(t.sales_cycle.median_days))?;
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
        ft.row(vec![s.stage.to_string(), s.reached.to_string(), pct(s.conversion)]);
    }
    ft.write(out)?;
    writeln!(out, "\nOpen pipeline")?;
    let mut pt = Table::new(&["STAGE", "LEADS", "VALUE", "WEIGHTED", "PROBABILITY"]);
    for p in &t.pipeline {
        pt.row(vec![p.stage.to_string(), p.leads.to_string(), money(&p.value), money(&p.weighted), format!("{}%", p.probability_bp as f64 / 100.0)]);
    }
    pt.write(out)?;
    if !t.by_event.is_empty() {
        writeln!(out, "\nEvents")?;
        let mut et = Table::new(&["EVENT", "LEADS", "WON", "WON VALUE"]);
        for e in &t.by_event {
            et.row(vec![e.source.clone(), e.leads.to_string(), e.won.to_string(), money(&e.won_value)]);
        }
        et.write(out)?;
    }
    writeln!(out, "\nReps")?;
    let mut rt = Table::new(&["REP", "CAPTURED", "WON", "LOST", "WIN RATE", "MEDIAN RESPONSE", "ACTIVITIES", "GOING COLD"]);
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
            f.going_cold.len().to_string(),
        ]);
    }
    rt.write(out)?;
    if !t.going_cold.is_empty() {
        writeln!(out, "\nGoing cold")?;
        for c in t.going_cold.iter().take(20) {
            writeln!(out, "  {:<30} {:<12} {} days", crate::print::truncate(&c.name, 30), c.owner, c.idle_days)?;
        }
    }
    Ok(())
}
