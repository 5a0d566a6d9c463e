//! `fieldsales demo`: a trade show with no signal. An in-process sync server on a free loopback
//! port with temporary data; a manager and three reps enroll; the reps capture leads offline,
//! Kim edits one lead on her phone and her tablet at once; everyone syncs; the manager sees the
//! merged result and the team's pipeline. Before the show the manager sets the month's targets,
//! kim's commission plan and a stage rule; at the end his report shows attainment and
//! commission, computed on his device from what synced. No external service.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result};
use fieldsales_core::Zone;
use fieldsales_core::report::Period;
use fieldsales_core::sync::{SyncClient, enroll};
use fieldsales_core::*;
use fieldsales_server::admin::AdminStore;
use fieldsales_server::backend::Role;
use fieldsales_server::sqlite::SqliteBackend;
use fieldsales_server::{AppState, serve};

use crate::print;

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Device {
    name: &'static str,
    store: Arc<Store>,
}

/// A device whose clock runs `clock` (`FIELDSALES_NOW` syntax: "now", or "+3h" for a phone
/// set three hours fast).
async fn device(
    url: &str,
    dir: &std::path::Path,
    name: &'static str,
    code: &str,
    clock: &str,
) -> Result<Device> {
    let actor = store::new_actor().to_hex_string();
    let creds = enroll(url, code, name, &actor).await?;
    let store = Store::open(
        dir.join(format!("{name}.db")),
        OpenOptions::new(&creds.user_id)
            .region("KR")
            .actor(&actor)
            .clock(store::parse_clock(clock)?),
    )?;
    SyncClient::save_credentials(&store, &creds)?;
    Ok(Device { name, store: Arc::new(store) })
}

async fn sync(d: &Device, out: &mut dyn Write) -> Result<()> {
    let s = SyncClient::for_store(&d.store)?.sync(&d.store, &|_| {}).await?;
    writeln!(
        out,
        "  {:<14} sent {:>2}, received {:>2}, rejected {}, conflicts {}",
        d.name, s.sent, s.received, s.rejected, s.conflicts
    )?;
    Ok(())
}

fn lead(name: &str, company: &str, stage: Stage, value: i64, phone: Option<&str>) -> LeadDraft {
    LeadDraft {
        name: Some(name.into()),
        company: Some(company.into()),
        phones: phone.map(|p| vec![p.to_string()]).unwrap_or_default(),
        event: Some("Seoul Expo 2026".into()),
        channel: Some(CaptureChannel::BadgeScan),
        stage: Some(stage),
        deal_value: Some(Money { amount_minor: value, currency: "KRW".into() }),
        ..Default::default()
    }
}

pub fn run(out: &mut dyn Write, tz: &Zone) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(demo(out, tz))
}

async fn demo(out: &mut dyn Write, tz: &Zone) -> Result<()> {
    let dir = TempDir(std::env::temp_dir().join(format!(
        "fieldsales-demo-{}-{}",
        std::process::id(),
        crate::time::now_ms()
    )));
    std::fs::create_dir_all(&dir.0)?;
    let server_dir = dir.0.join("server");
    let backend = SqliteBackend::open(&server_dir)?;
    let admin = SqliteBackend::open(&server_dir)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, AppState::new(backend), async {
        let _ = stopped.await;
    }));
    writeln!(out, "== Sync server on {url} (embedded SQLite in a temp folder) ==")?;

    let ws = admin.create_workspace("acme-demo")?.id;
    admin.create_team(&ws, "seoul")?;
    let park = admin.add_user(&ws, "park", Role::Manager, Some("seoul"))?;
    let kim = admin.add_user(&ws, "kim", Role::Rep, Some("seoul"))?;
    let lee = admin.add_user(&ws, "lee", Role::Rep, Some("seoul"))?;
    let choi = admin.add_user(&ws, "choi", Role::Rep, Some("seoul"))?;
    let kim_tablet_code = admin.enrollment_code(&ws, "kim")?;
    let manager = device(&url, &dir.0, "park (manager)", &park.enrollment_code, "now").await?;
    let kim_phone = device(&url, &dir.0, "kim phone", &kim.enrollment_code, "now").await?;
    let kim_tablet = device(&url, &dir.0, "kim tablet", &kim_tablet_code, "now").await?;
    let lee_phone = device(&url, &dir.0, "lee phone", &lee.enrollment_code, "+3h").await?;
    let choi_phone = device(&url, &dir.0, "choi phone", &choi.enrollment_code, "now").await?;
    writeln!(
        out,
        "Enrolled a manager (park) and three reps (kim with a phone and a tablet, lee, choi)."
    )?;
    let ahead = -lee_phone.store.clock_offset().unwrap_or(0);
    writeln!(
        out,
        "lee's phone is set 3 hours fast: enrollment measured it {:.1} h ahead of the server, and \
         what she captures is stamped with the server's time.",
        ahead as f64 / 3_600_000.0
    )?;

    writeln!(
        out,
        "\n== Before the show: park sets the month's targets, kim's plan and a stage rule =="
    )?;
    let now = crate::time::now_ms();
    let month = Period::month_of(now, tz);
    let target = |subject_kind, subject: &str, metric, value, currency: Option<&str>| TargetDraft {
        id: None,
        subject_kind,
        subject: subject.into(),
        metric,
        period_start: month.start,
        period_end: month.end,
        value,
        currency: currency.map(Into::into),
    };
    for rep in ["kim", "lee", "choi"] {
        manager.store.set_target(target(
            SubjectKind::Rep,
            rep,
            TargetMetric::LeadsCaptured,
            3,
            None,
        ))?;
    }
    manager.store.set_target(target(
        SubjectKind::Team,
        "seoul",
        TargetMetric::LeadsCaptured,
        8,
        None,
    ))?;
    manager.store.set_target(target(
        SubjectKind::Rep,
        "kim",
        TargetMetric::WonValue,
        5_000_000,
        Some("KRW"),
    ))?;
    manager.store.set_plan(CompPlanDraft {
        rep: "kim".into(),
        base: Money { amount_minor: 3_000_000, currency: "KRW".into() },
        rate_bp: 500,
        tiers: vec![Tier { from_bp: 10_000, rate_bp: 800 }],
    })?;
    manager.store.set_stage(
        Stage::Proposal,
        StagePatch {
            name: Some("Quote sent".into()),
            probability_bp: Some(5_000),
            required: Some(vec![RequiredField::DealValue]),
        },
    )?;
    writeln!(
        out,
        "targets: 3 leads each, 8 for the team, kim 5,000,000 KRW won; kim's plan: 5 % of won value, 8 % above quota;"
    )?;
    writeln!(
        out,
        "stage 'proposal' is now 'Quote sent' (50 %) and needs a deal value. Everyone syncs before leaving:"
    )?;
    for d in [&manager, &kim_phone, &kim_tablet, &lee_phone, &choi_phone] {
        sync(d, out).await?;
    }

    writeln!(out, "\n== Seoul Expo 2026: no signal, everyone captures offline ==")?;
    let shared = kim_phone.store.create_lead(LeadDraft {
        notes: Some("Wants a demo.".into()),
        ..lead("김민지", "Acme Korea", Stage::New, 15_000_000, Some("010-1234-5678"))
    })?;
    kim_phone.store.create_lead(lead("John Smith", "Globex", Stage::Contacted, 8_000_000, None))?;
    lee_phone.store.create_lead(lead(
        "박서준",
        "Initech",
        Stage::Qualified,
        22_000_000,
        Some("010-2222-3333"),
    ))?;
    lee_phone.store.create_lead(lead("Maria Garcia", "Umbrella", Stage::New, 5_000_000, None))?;
    choi_phone.store.create_lead(lead("이영희", "Hooli", Stage::Proposal, 40_000_000, None))?;
    let refused = lee_phone.store.create_lead(LeadDraft {
        deal_value: None,
        ..lead("Chen Wei", "Wayne Ent.", Stage::Proposal, 0, None)
    });
    match refused {
        Err(e) => writeln!(
            out,
            "lee tries to log a quote without a value: refused on the phone, offline: {e}"
        )?,
        Ok(_) => anyhow::bail!("the stage rule did not reach lee's phone"),
    }
    writeln!(
        out,
        "kim 2 leads, lee 2, choi 1. Kim's tablet gets kim's leads over the hall Wi-Fi for a minute:"
    )?;
    sync(&kim_phone, out).await?;
    sync(&kim_tablet, out).await?;

    writeln!(
        out,
        "\n== Signal gone again: kim edits {} on both devices ==",
        shared.display_name()
    )?;
    kim_phone.store.update_lead(
        &shared.id,
        LeadPatch {
            company: Some("Acme Korea Ltd.".into()),
            stage: Some(Stage::Contacted),
            notes: Some("Wants a demo. Budget approved in Q1.".into()),
            ..Default::default()
        },
    )?;
    kim_phone.store.add_activity(ActivityDraft {
        duration_s: Some(420),
        outcome: Some("interested".into()),
        ..ActivityDraft::new(&shared.id, ActivityKind::Call, "Intro call")
    })?;
    kim_tablet.store.update_lead(
        &shared.id,
        LeadPatch {
            company: Some("ACME Korea".into()),
            title: Some("구매 팀장".into()),
            add_tags: vec!["vip".into()],
            notes: Some("Wants a demo. Prefers Tuesdays 🎉".into()),
            ..Default::default()
        },
    )?;
    let globex = kim_phone
        .store
        .list_leads(&LeadQuery { limit: 10, ..Default::default() })?
        .items
        .into_iter()
        .find(|l| l.company.as_deref() == Some("Globex"));
    if let Some(g) = globex {
        kim_phone
            .store
            .update_lead(&g.id, LeadPatch { stage: Some(Stage::Won), ..Default::default() })?;
    }
    writeln!(
        out,
        "phone:  company → Acme Korea Ltd., stage → contacted, notes += budget, logs a call; Globex signs (won)"
    )?;
    writeln!(out, "tablet: company → ACME Korea, title → 구매 팀장, tag vip, notes += Tuesdays")?;

    writeln!(out, "\n== Back online: everyone syncs ==")?;
    for d in [&kim_phone, &kim_tablet, &lee_phone, &choi_phone, &kim_phone, &manager] {
        sync(d, out).await?;
    }

    let on_manager = manager.store.lead_detail(&shared.id)?;
    let same = [&kim_phone, &kim_tablet]
        .iter()
        .all(|d| d.store.lead_detail(&shared.id).ok().as_ref() == Some(&on_manager));
    writeln!(
        out,
        "\nThe merged lead is identical on kim's phone, kim's tablet and park's device: {}\n",
        if same { "yes" } else { "NO" }
    )?;
    print::lead_detail(out, &on_manager.lead, Some(&on_manager.activities), tz)?;

    let stranded = nothing_stranded(
        &admin,
        &ws,
        &url,
        [&manager, &lee_phone, &choi_phone, &kim_phone],
        out,
        tz,
    )
    .await?;

    writeln!(out, "\n== Team pipeline on park's device ==")?;
    let all = manager.store.list_leads(&LeadQuery { limit: 500, ..Default::default() })?.items;
    let mut by_owner: BTreeMap<&str, (usize, i64, BTreeMap<&str, usize>)> = BTreeMap::new();
    for l in &all {
        let e = by_owner.entry(l.owner.as_str()).or_default();
        e.0 += 1;
        e.1 += l.deal_value.as_ref().map_or(0, |m| m.amount_minor);
        *e.2.entry(l.stage.as_str()).or_default() += 1;
    }
    writeln!(out, "  {:<6} {:>5}  {:>16}  stages", "rep", "leads", "pipeline")?;
    for (owner, (n, value, stages)) in &by_owner {
        let stages = stages.iter().map(|(s, c)| format!("{s} {c}")).collect::<Vec<_>>().join(", ");
        writeln!(
            out,
            "  {owner:<6} {n:>5}  {:>16}  {stages}",
            Money { amount_minor: *value, currency: "KRW".into() }.to_string()
        )?;
    }
    writeln!(out, "\n== park's report for the month (on his device, offline-capable) ==")?;
    crate::report_cmd::run(
        &manager.store,
        &manager.store.report_query(month, now)?,
        false,
        false,
        tz,
        out,
    )?;
    let report = manager.store.verify()?;
    writeln!(
        out,
        "Store check on park's device: {} documents, projections {}",
        report.documents,
        if report.is_ok() { "consistent" } else { "INCONSISTENT" }
    )?;

    let _ = stop.send(());
    server.await.context("server task")??;
    if !same || !report.is_ok() || all.len() != 6 || !stranded {
        anyhow::bail!("the demo's devices did not converge");
    }
    Ok(())
}

/// Nothing a rep typed is stranded (issue 14): edits of a lead handed to someone else while
/// its rep was offline reach the new owner; a phone revoked with unsent work is enrolled again
/// and sends it; a refused change reads in plain words and is applied where the rep may.
/// Returns whether all of it went as it should.
async fn nothing_stranded(
    admin: &SqliteBackend,
    ws: &str,
    url: &str,
    [manager, lee_phone, choi_phone, kim_phone]: [&Device; 4],
    out: &mut dyn Write,
    tz: &Zone,
) -> Result<bool> {
    let mut ok = true;
    writeln!(out, "\n== lee, offline, adds a note to 박서준 while park gives the lead to choi ==")?;
    let page = lee_phone.store.list_leads(&LeadQuery { limit: 10, ..Default::default() })?;
    let Some(park_seojun) = page.items.iter().find(|l| l.display_name == "박서준") else {
        anyhow::bail!("lee's lead is missing");
    };
    let id = park_seojun.id.clone();
    lee_phone.store.update_lead(
        &id,
        LeadPatch { notes: Some("CFO signs off on Friday.".into()), ..Default::default() },
    )?;
    manager
        .store
        .update_lead(&id, LeadPatch { owner: Some("choi".into()), ..Default::default() })?;
    sync(manager, out).await?;
    sync(lee_phone, out).await?;
    sync(choi_phone, out).await?;
    let on_choi = choi_phone.store.lead(&id)?;
    let kept = lee_phone.store.quarantine_len()?;
    writeln!(
        out,
        "choi, the lead's new owner, reads lee's note: \"{}\"; in lee's quarantine: {kept}",
        on_choi.notes
    )?;
    ok &= on_choi.notes == "CFO signs off on Friday." && kept == 0;

    writeln!(
        out,
        "\n== choi's phone is revoked with a lead not yet sent; she enrolls it again =="
    )?;
    choi_phone.store.create_lead(lead("Aiko Tanaka", "Soylent", Stage::New, 3_000_000, None))?;
    let device_id = SyncClient::device_id(&choi_phone.store)?.unwrap_or_default();
    admin.revoke_device(&device_id)?;
    match SyncClient::for_store(&choi_phone.store)?.sync(&choi_phone.store, &|_| {}).await {
        Err(e) => writeln!(out, "  choi phone      {e}")?,
        Ok(_) => ok = false,
    }
    let code = admin.enrollment_code(ws, "choi")?;
    let creds = fieldsales_core::sync::enroll_as(
        url,
        &code,
        "choi phone",
        &choi_phone.store.actor_id(),
        Some("choi"),
    )
    .await?;
    SyncClient::save_credentials(&choi_phone.store, &creds)?;
    writeln!(
        out,
        "  a new code enrolls the same store again: same device {}: {}",
        creds.device_id,
        if creds.device_id == device_id { "yes" } else { "NO" }
    )?;
    ok &= creds.device_id == device_id;
    sync(choi_phone, out).await?;

    writeln!(out, "\n== kim tries to hand Globex to lee with a note; the server refuses ==")?;
    let page = kim_phone.store.list_leads(&LeadQuery { limit: 10, ..Default::default() })?;
    let Some(globex) = page.items.iter().find(|l| l.company.as_deref() == Some("Globex")) else {
        anyhow::bail!("kim's Globex lead is missing");
    };
    kim_phone.store.update_lead(
        &globex.id,
        LeadPatch {
            owner: Some("lee".into()),
            notes: Some("Renewal talks in March.".into()),
            ..Default::default()
        },
    )?;
    sync(kim_phone, out).await?;
    let Some(entry) = kim_phone.store.quarantine()?.into_iter().next() else {
        anyhow::bail!("the server took a rep's hand-over");
    };
    writeln!(out, "$ fieldsales quarantine show {}", entry.id)?;
    crate::quarantine_cmd::show(&kim_phone.store, entry.id, false, tz, out)?;
    writeln!(out, "$ fieldsales quarantine apply {}", entry.id)?;
    crate::quarantine_cmd::apply(&kim_phone.store, entry.id, false, tz, out)?;
    sync(kim_phone, out).await?;
    sync(manager, out).await?;
    let on_manager = manager.store.lead(&globex.id)?;
    ok &= on_manager.notes == "Renewal talks in March." && on_manager.owner == "kim";
    Ok(ok)
}
