//! Issue 14, point 6: device clocks are not trusted as they are. Devices learn the server's
//! time on every exchange and stamp what they write with it, so that reps whose phones are 3
//! hours fast, 3 hours slow or right produce the same figures in their manager's report.
//! Every clock here (the server's and the devices') follows one virtual "true" time that the
//! test moves, so the figures can be compared exactly.

mod common;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use common::*;
use fieldsales_core::report::{Figures, Period};
use fieldsales_core::sync::{SyncClient, enroll};
use fieldsales_core::*;
use fieldsales_server::backend::Role;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// 2026-11-01 00:00 UTC.
const NOV1: i64 = 1_793_491_200_000;

fn at(day: i64, hour: i64, minute: i64) -> i64 {
    NOV1 + (day - 1) * DAY + hour * HOUR + minute * MINUTE
}

/// A server whose clock is the true time, with workspace "acme" and team "seoul".
async fn server_at(truth: &Arc<AtomicI64>) -> (Server, String) {
    let t = truth.clone();
    let server = Server::start_with(tempfile::tempdir().unwrap(), move |mut s| {
        s.clock = Arc::new(move || t.load(Ordering::SeqCst));
        s
    })
    .await;
    let ws = server.workspace("acme");
    server.team(&ws, "seoul");
    (server, ws)
}

/// A device whose clock is the true time plus `skew`.
async fn device(
    server: &Server,
    truth: &Arc<AtomicI64>,
    ws: &str,
    user: &str,
    role: Role,
    skew: i64,
) -> Device {
    let code = server.admin.add_user(ws, user, role, Some("seoul")).unwrap().enrollment_code;
    let dir = tempfile::tempdir().unwrap();
    let actor = store::new_actor().to_hex_string();
    let creds = enroll(&server.url, &code, "phone", &actor).await.unwrap();
    let t = truth.clone();
    let store = Store::open(
        dir.path().join("store.db"),
        OpenOptions::new(user)
            .actor(&actor)
            .clock(Arc::new(move || t.load(Ordering::SeqCst) + skew)),
    )
    .unwrap();
    SyncClient::save_credentials(&store, &creds).unwrap();
    Device { store: Arc::new(store), device_id: creds.device_id, dir }
}

/// What the manager's report says about one rep, the lead names left out.
fn figures_of(f: &Figures) -> String {
    let cold: Vec<(i64, Option<i64>)> =
        f.going_cold.iter().map(|c| (c.idle_days, c.last_activity_at)).collect();
    format!(
        "captured {} | {:?} | {:?} | {:?} | cold {} {:?} | activities {:?} | won {:?}",
        f.captured,
        f.win_rate,
        f.sales_cycle,
        f.response_time,
        f.going_cold_count,
        cold,
        f.activities,
        f.won_value
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_three_hours_fast_or_slow_give_the_same_report_as_a_correct_one() {
    let truth = Arc::new(AtomicI64::new(at(20, 20, 0)));
    let (server, ws) = server_at(&truth).await;
    let manager = device(&server, &truth, &ws, "park", Role::Manager, 0).await;
    let reps = [
        (device(&server, &truth, &ws, "kim", Role::Rep, 3 * HOUR).await, "kim"),
        (device(&server, &truth, &ws, "lee", Role::Rep, -3 * HOUR).await, "lee"),
        (device(&server, &truth, &ws, "choi", Role::Rep, 0).await, "choi"),
    ];
    for (d, _) in &reps {
        assert_eq!(d.now(), truth.load(Ordering::SeqCst), "enrollment taught the offset");
    }

    // Nov 20, 21:00: each rep meets someone and logs the visit; then nothing for ten days.
    truth.store(at(20, 21, 0), Ordering::SeqCst);
    for (d, name) in &reps {
        let l = d
            .create_lead(LeadDraft { name: Some(format!("cold {name}")), ..Default::default() })
            .unwrap();
        d.add_activity(ActivityDraft::new(&l.id, ActivityKind::Visit, "Booth chat")).unwrap();
        d.sync().await.unwrap();
    }
    // Nov 30, 09:00: each rep captures a lead; the manager calls each one 7 minutes later.
    truth.store(at(30, 9, 0), Ordering::SeqCst);
    let mut deals = Vec::new();
    for (d, name) in &reps {
        deals.push(
            d.create_lead(LeadDraft { name: Some(format!("deal {name}")), ..Default::default() })
                .unwrap()
                .id,
        );
        d.sync().await.unwrap();
    }
    truth.store(at(30, 9, 7), Ordering::SeqCst);
    manager.sync().await.unwrap();
    for id in &deals {
        manager.add_activity(ActivityDraft::new(id, ActivityKind::Call, "Intro call")).unwrap();
    }
    manager.sync().await.unwrap();
    // Nov 30, 22:00: each rep wins the deal, two hours before the month ends.
    truth.store(at(30, 22, 0), Ordering::SeqCst);
    for ((d, _), id) in reps.iter().zip(&deals) {
        d.sync().await.unwrap();
        d.update_lead(
            id,
            LeadPatch {
                stage: Some(Stage::Won),
                deal_value: Some(Money { amount_minor: 5_000_000, currency: "KRW".into() }),
                ..Default::default()
            },
        )
        .unwrap();
        d.sync().await.unwrap();
    }
    // Nov 30, 23:00: the manager's report for November.
    truth.store(at(30, 23, 0), Ordering::SeqCst);
    manager.sync().await.unwrap();
    let now = manager.now();
    let month = Period::month_of(now, &Zone::utc());
    assert_eq!((month.start, month.end), (NOV1, at(31, 0, 0)));
    let mut q = manager.report_query(month, now).unwrap();
    q.cold_after_days = 10;
    let report = manager.report(&q).unwrap();
    let rep = |name: &str| {
        let r = report.reps.iter().find(|r| r.owner == name).unwrap_or_else(|| panic!("{name}"));
        &r.figures
    };

    // The correct device's figures, as the script made them.
    let choi = rep("choi");
    assert_eq!(choi.captured, 2);
    assert_eq!(choi.win_rate.won, 1, "won before the month ended");
    assert_eq!(choi.sales_cycle.median_days, Some(13.0 / 24.0), "captured 09:00, won 22:00");
    assert_eq!(choi.response_time.median_minutes, Some(3.5), "0 min (the visit) and 7 min");
    assert_eq!(choi.going_cold_count, 1, "idle 10 days and 2 hours");
    // The skewed ones give the same.
    for name in ["kim", "lee"] {
        assert_eq!(figures_of(rep(name)), figures_of(choi), "{name}'s phone, 3 hours off");
    }
}

/// The offset is measured on every sync, so a clock changed since enrollment (the rep set the
/// phone's time by hand) is corrected from the next sync on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_changed_after_enrollment_is_corrected_from_the_next_sync() {
    let truth = Arc::new(AtomicI64::new(at(10, 12, 0)));
    let (server, ws) = server_at(&truth).await;
    let skew = Arc::new(AtomicI64::new(0));
    let code = server.admin.add_user(&ws, "kim", Role::Rep, Some("seoul")).unwrap().enrollment_code;
    let actor = store::new_actor().to_hex_string();
    let creds = enroll(&server.url, &code, "phone", &actor).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (t, s) = (truth.clone(), skew.clone());
    let store = Store::open(
        dir.path().join("s.db"),
        OpenOptions::new("kim")
            .actor(&actor)
            .clock(Arc::new(move || t.load(Ordering::SeqCst) + s.load(Ordering::SeqCst))),
    )
    .unwrap();
    SyncClient::save_credentials(&store, &creds).unwrap();
    assert_eq!(store.clock_offset(), Some(0));
    skew.store(-5 * HOUR, Ordering::SeqCst);
    SyncClient::for_store(&store).unwrap().sync(&store, &|_| {}).await.unwrap();
    assert_eq!(store.clock_offset(), Some(5 * HOUR));
    let l =
        store.create_lead(LeadDraft { name: Some("Yun".into()), ..Default::default() }).unwrap();
    assert_eq!(l.created_at, at(10, 12, 0));
}
