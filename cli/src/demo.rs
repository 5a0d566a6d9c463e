//! `fieldsales demo`: two phones at a trade show with no signal. Rep Kim captures a lead,
//! hands it to rep Lee's tablet, both edit it offline, and the two stores merge. Runs on the
//! embedded store in a temporary folder; no server, no network.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use anyhow::Result;
use fieldsales_core::*;

use crate::{print, time};

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Sends every change `from` has not had acknowledged to `to`, as sync will.
fn hand_over(from: &Store, to: &Store) -> Result<MergeReport> {
    let batch = from
        .outbox(0, u32::MAX)?
        .into_iter()
        .map(|e| RemoteDoc { doc_id: e.doc_id, kind: e.kind, payload: RemotePayload::Changes(vec![e.change]) })
        .collect();
    Ok(to.apply_remote(batch)?)
}

pub fn run(out: &mut dyn Write, off: i32) -> Result<()> {
    let dir = TempDir(std::env::temp_dir().join(format!("fieldsales-demo-{}-{}", std::process::id(), time::now_ms())));
    std::fs::create_dir_all(&dir.0)?;
    let clock = Arc::new(AtomicI64::new(time::now_ms()));
    let c = clock.clone();
    let tick: Clock = Arc::new(move || c.fetch_add(1_000, Ordering::SeqCst));
    let kim = Store::open(dir.0.join("kim-phone.db"), OpenOptions::new("rep-kim").region("KR").clock(tick.clone()))?;
    let lee = Store::open(dir.0.join("lee-tablet.db"), OpenOptions::new("rep-lee").region("KR").clock(tick))?;

    writeln!(out, "== Seoul Expo 2026, booth 12, no signal ==")?;
    let lead = kim.create_lead(LeadDraft {
        name: Some("김민지".into()),
        company: Some("Acme Korea".into()),
        emails: vec!["minji.kim@acme.co.kr".into()],
        phones: vec!["010-1234-5678".into()],
        event: Some("Seoul Expo 2026".into()),
        channel: Some(CaptureChannel::BadgeScan),
        potential: Some(Potential::Hot),
        tags: vec!["expo".into()],
        notes: Some("Wants a demo.".into()),
        ..Default::default()
    })?;
    for (name, company) in [("John Smith", "Globex"), ("박서준", "Initech"), ("Maria Garcia", "Umbrella")] {
        kim.create_lead(LeadDraft {
            name: Some(name.into()),
            company: Some(company.into()),
            event: Some("Seoul Expo 2026".into()),
            channel: Some(CaptureChannel::BusinessCard),
            ..Default::default()
        })?;
    }
    writeln!(out, "Kim's phone captured 4 leads offline; Kim hands {} to Lee's tablet over the booth Wi-Fi.", lead.display_name())?;
    hand_over(&kim, &lee)?;

    writeln!(out, "\n== Both edit the same lead offline ==")?;
    kim.update_lead(
        &lead.id,
        LeadPatch { company: Some("Acme Korea Ltd.".into()), stage: Some(Stage::Contacted), notes: Some("Wants a demo. Budget approved in Q1.".into()), ..Default::default() },
    )?;
    kim.add_activity(ActivityDraft { duration_s: Some(420), outcome: Some("interested".into()), ..ActivityDraft::new(&lead.id, ActivityKind::Call, "Intro call") })?;
    writeln!(out, "Kim: company → Acme Korea Ltd., stage → contacted, notes += budget, logs a call")?;
    lee.update_lead(
        &lead.id,
        LeadPatch {
            company: Some("ACME Korea".into()),
            title: Some("구매 팀장".into()),
            add_tags: vec!["vip".into()],
            notes: Some("Wants a demo. Prefers Tuesdays 🎉".into()),
            ..Default::default()
        },
    )?;
    writeln!(out, "Lee: company → ACME Korea, title → 구매 팀장, tag vip, notes += Tuesdays")?;

    writeln!(out, "\n== Back online: the two stores merge ==")?;
    let to_lee = hand_over(&kim, &lee)?;
    let to_kim = hand_over(&lee, &kim)?;
    writeln!(
        out,
        "Lee received {} lead(s) and {} activity(ies); Kim received {} lead(s).",
        to_lee.changed_leads.len(),
        to_lee.changed_activities.len(),
        to_kim.changed_leads.len()
    )?;
    let (a, b) = (kim.lead_detail(&lead.id)?, lee.lead_detail(&lead.id)?);
    writeln!(out, "Both devices show the same lead: {}\n", if a == b { "yes" } else { "NO" })?;
    print::lead_detail(out, &a.lead, Some(&a.activities), off)?;

    writeln!(out, "\n== Team summary on Lee's tablet ==")?;
    let all = lee.list_leads(&LeadQuery { limit: 500, ..Default::default() })?.items;
    for stage in Stage::ALL {
        let n = all.iter().filter(|l| l.stage == *stage).count();
        if n > 0 {
            writeln!(out, "  {:<12} {n}", stage.as_str())?;
        }
    }
    writeln!(out, "  {:<12} {}", "total", all.len())?;
    let report = lee.verify()?;
    writeln!(out, "Store check: {} documents, projections {}", report.documents, if report.is_ok() { "consistent" } else { "INCONSISTENT" })?;
    if a != b || !report.is_ok() {
        anyhow::bail!("the demo's replicas did not converge");
    }
    Ok(())
}
