//! Report figures on a small fixture, each expected value computed by hand (see the comments),
//! including a lead reopened after lost, a lead reassigned after it closed, a device clock that
//! was behind, mixed currencies and a period with nothing closed.

use fieldsales_core::report::*;
use fieldsales_core::*;
use testkit::*;

const MIN: i64 = 60_000;
const H: i64 = 3_600_000;
const D: i64 = 86_400_000;

fn krw(a: i64) -> Money {
    Money { amount_minor: a, currency: "KRW".into() }
}

fn at<T>(s: &TestStore, t: i64, f: impl FnOnce() -> T) -> T {
    s.set_time(t);
    f()
}

fn stage(s: &TestStore, t: i64, id: &str, st: Stage) {
    at(s, t, || s.update_lead(id, LeadPatch { stage: Some(st), ..Default::default() }).unwrap());
}

struct Fixture {
    manager: TestStore,
    l4: String,
}

fn fixture() -> Fixture {
    let (a, b, m) = (store("rep-a"), store("rep-b"), store("manager"));
    let draft = |name: &str, event: Option<&str>, channel: CaptureChannel, value: Option<Money>| {
        LeadDraft {
            name: Some(name.into()),
            event: event.map(str::to_string),
            channel: Some(channel),
            deal_value: value,
            ..Default::default()
        }
    };
    // L1 rep-a, Expo, 1,000,000 KRW: call after 3 min, contacted, won after 10 days.
    let l1 = at(&a, T0, || {
        a.create_lead(draft("L1", Some("Expo"), CaptureChannel::BadgeScan, Some(krw(1_000_000))))
            .unwrap()
    })
    .id;
    at(&a, T0 + 4 * MIN, || {
        a.add_activity(ActivityDraft {
            occurred_at: Some(T0 + 3 * MIN),
            ..ActivityDraft::new(&l1, ActivityKind::Call, "c")
        })
        .unwrap()
    });
    stage(&a, T0 + H, &l1, Stage::Contacted);
    stage(&a, T0 + 10 * D, &l1, Stage::Won);
    // L2 rep-a, Expo, USD: meeting after 2 h, jumps to proposal, lost.
    let l2 = at(&a, T0 + D, || {
        a.create_lead(draft(
            "L2",
            Some("Expo"),
            CaptureChannel::BadgeScan,
            Some(Money { amount_minor: 50_000, currency: "USD".into() }),
        ))
        .unwrap()
    })
    .id;
    at(&a, T0 + D + 2 * H, || {
        a.add_activity(ActivityDraft {
            occurred_at: Some(T0 + D + 2 * H),
            ..ActivityDraft::new(&l2, ActivityKind::Meeting, "m")
        })
        .unwrap()
    });
    stage(&a, T0 + 2 * D, &l2, Stage::Proposal);
    stage(&a, T0 + 5 * D, &l2, Stage::Lost);
    // L5 rep-a, captured in October, won in November, 700 USD.
    let l5 = at(&a, T0 - 10 * D, || {
        a.create_lead(draft(
            "L5",
            Some("Expo"),
            CaptureChannel::BadgeScan,
            Some(Money { amount_minor: 70_000, currency: "USD".into() }),
        ))
        .unwrap()
    })
    .id;
    at(&a, T0 - 9 * D, || {
        a.add_activity(ActivityDraft {
            occurred_at: Some(T0 - 9 * D),
            ..ActivityDraft::new(&l5, ActivityKind::Note, "october")
        })
        .unwrap()
    });
    stage(&a, T0 + D, &l5, Stage::Won);
    // L3 rep-b, Web: lost, reopened, won after 4 days; e-mail after 30 h.
    let l3 = at(&b, T0 + 2 * D, || {
        b.create_lead(draft("L3", Some("Web"), CaptureChannel::WebForm, Some(krw(2_000_000))))
            .unwrap()
    })
    .id;
    at(&b, T0 + 2 * D + 30 * H, || {
        b.add_activity(ActivityDraft {
            occurred_at: Some(T0 + 2 * D + 30 * H),
            ..ActivityDraft::new(&l3, ActivityKind::Email, "e")
        })
        .unwrap()
    });
    stage(&b, T0 + 3 * D, &l3, Stage::Lost);
    stage(&b, T0 + 4 * D, &l3, Stage::Contacted);
    stage(&b, T0 + 6 * D, &l3, Stage::Won);
    // L4 rep-b, qualified, 3,000,000 KRW, never touched: going cold.
    let l4 = at(&b, T0 + 3 * D, || {
        b.create_lead(LeadDraft {
            stage: Some(Stage::Qualified),
            ..draft("L4", None, CaptureChannel::Manual, Some(krw(3_000_000)))
        })
        .unwrap()
    })
    .id;
    at(&b, T0 + 3 * D, || {
        b.add_activity(ActivityDraft {
            due_at: Some(T0 + 30 * D),
            ..ActivityDraft::new(&l4, ActivityKind::Task, "open task")
        })
        .unwrap()
    });
    // L6 rep-b, captured at +5 d on a phone whose "won" was stamped by a device clock 1 day behind.
    let l6 = at(&b, T0 + 5 * D, || {
        b.create_lead(draft("L6", None, CaptureChannel::Manual, None)).unwrap()
    })
    .id;
    stage(&b, T0 + 4 * D, &l6, Stage::Won);
    // A deleted lead counts nowhere.
    let gone = at(&b, T0 + 2 * D, || {
        b.create_lead(draft("gone", Some("Web"), CaptureChannel::WebForm, Some(krw(9)))).unwrap()
    })
    .id;
    at(&b, T0 + 2 * D, || b.delete_lead(&gone).unwrap());

    send(&a, &m);
    send(&b, &m);
    // The manager gives L6 to rep-a after it was won.
    at(&m, T0 + 7 * D, || {
        m.update_lead(&l6, LeadPatch { owner: Some("rep-a".into()), ..Default::default() }).unwrap()
    });
    Fixture { manager: m, l4 }
}

fn november() -> Period {
    // T0 is Monday 2026-11-02 09:00 UTC.
    Period::month_of(T0, &Zone::utc())
}

#[test]
fn team_figures_match_the_hand_computed_values() {
    let f = fixture();
    let r = f
        .manager
        .report(&ReportQuery { cold_after_days: 14, ..ReportQuery::new(november(), T0 + 20 * D) })
        .unwrap();
    let t = &r.team;
    // Won in November: L1, L3, L5, L6; lost: L2.
    assert_eq!(t.win_rate, WinRate { won: 4, lost: 1, rate: Some(0.8) });
    // Cycles: L1 10 d, L3 4 d, L5 11 d, L6 0 (clock behind) → mean 6.25, median 7.
    assert_eq!(
        t.sales_cycle,
        SalesCycle { won: 4, average_days: Some(6.25), median_days: Some(7.0) }
    );
    // Cohort L1 L2 L3 L4 L6; furthest stages 5, 3, 5, 2, 5.
    let reached: Vec<u32> = t.funnel.iter().map(|s| s.reached).collect();
    assert_eq!(reached, vec![5, 5, 5, 4, 3, 3]);
    let conv: Vec<Option<f64>> = t.funnel.iter().map(|s| s.conversion).collect();
    assert_eq!(conv, vec![None, Some(1.0), Some(1.0), Some(0.8), Some(0.75), Some(1.0)]);
    assert_eq!(t.captured, 5);
    // Responses: 3 min, 120 min, 1800 min; two never contacted.
    assert_eq!(
        t.response_time,
        ResponseTime {
            leads: 5,
            contacted: 3,
            median_minutes: Some(120.0),
            p90_minutes: Some(1800.0),
            within_5_minutes: Some(0.2),
            within_1_hour: Some(0.2),
            within_24_hours: Some(0.4),
        }
    );
    // Open pipeline: only L4, qualified, weighted at 40 %.
    let q = t.pipeline.iter().find(|p| p.stage == Stage::Qualified).unwrap();
    assert_eq!(
        (q.leads, q.value.clone(), q.weighted.clone(), q.probability_bp),
        (1, vec![krw(3_000_000)], vec![krw(1_200_000)], 4_000)
    );
    assert!(
        t.pipeline
            .iter()
            .filter(|p| p.stage != Stage::Qualified)
            .all(|p| p.leads == 0 && p.value.is_empty())
    );
    // Done activities in November: a call, a meeting, an e-mail (the October note and the open task do not count).
    let acts: Vec<(ActivityKind, u32)> = t.activities.iter().map(|a| (a.kind, a.count)).collect();
    assert_eq!(
        acts,
        vec![(ActivityKind::Call, 1), (ActivityKind::Meeting, 1), (ActivityKind::Email, 1)]
    );
    // Won value per currency, never added across currencies.
    assert_eq!(
        t.won_value,
        vec![krw(3_000_000), Money { amount_minor: 70_000, currency: "USD".into() }]
    );
    // Sources of the November cohort.
    let ev: Vec<(String, u32, u32, Vec<Money>)> = t
        .by_event
        .iter()
        .map(|s| (s.source.clone(), s.leads, s.won, s.won_value.clone()))
        .collect();
    assert_eq!(
        ev,
        vec![
            ("(no event)".into(), 2, 1, vec![]),
            ("Expo".into(), 2, 1, vec![krw(1_000_000)]),
            ("Web".into(), 1, 1, vec![krw(2_000_000)])
        ]
    );
    let ch: Vec<(String, u32, u32)> =
        t.by_channel.iter().map(|s| (s.source.clone(), s.leads, s.won)).collect();
    assert_eq!(
        ch,
        vec![("badge_scan".into(), 2, 1), ("manual".into(), 2, 1), ("web_form".into(), 1, 1)]
    );
    // Going cold: L4, captured 17 days before "now", never contacted.
    assert_eq!(t.going_cold.len(), 1);
    assert_eq!(
        (
            t.going_cold[0].lead_id.as_str(),
            t.going_cold[0].idle_days,
            t.going_cold[0].owner.as_str()
        ),
        (f.l4.as_str(), 17, "rep-b")
    );
}

#[test]
fn each_rep_gets_their_own_figures_with_reassigned_leads_counted_for_the_new_owner() {
    let f = fixture();
    let r = f.manager.report(&ReportQuery::new(november(), T0 + 20 * D)).unwrap();
    let owners: Vec<&str> = r.reps.iter().map(|x| x.owner.as_str()).collect();
    assert_eq!(owners, vec!["rep-a", "rep-b"]);
    let (a, b) = (&r.reps[0].figures, &r.reps[1].figures);
    // rep-a: L1, L5 and the reassigned L6 won; L2 lost.
    assert_eq!(a.win_rate, WinRate { won: 3, lost: 1, rate: Some(0.75) });
    // rep-b: L3 won.
    assert_eq!(b.win_rate, WinRate { won: 1, lost: 0, rate: Some(1.0) });
    assert_eq!(a.activities.iter().map(|x| x.count).sum::<u32>(), 2);
    assert_eq!(
        b.activities.iter().map(|x| (x.kind, x.count)).collect::<Vec<_>>(),
        vec![(ActivityKind::Email, 1)]
    );
    assert_eq!(b.going_cold.len(), 1);
    assert!(a.going_cold.is_empty());
    // The same figures restricted to one owner.
    let only_b = f
        .manager
        .report(&ReportQuery {
            owners: Some(vec!["rep-b".into()]),
            ..ReportQuery::new(november(), T0 + 20 * D)
        })
        .unwrap();
    assert_eq!(only_b.team.win_rate, b.win_rate);
}

#[test]
fn a_period_with_nothing_closed_reports_no_rates_rather_than_zero() {
    let f = fixture();
    let r = f
        .manager
        .report(&ReportQuery::new(Period::month_of(T0 + 60 * D, &Zone::utc()), T0 + 60 * D))
        .unwrap();
    assert_eq!(r.team.win_rate, WinRate { won: 0, lost: 0, rate: None });
    assert_eq!(r.team.sales_cycle, SalesCycle { won: 0, average_days: None, median_days: None });
    assert!(r.team.funnel.iter().all(|s| s.reached == 0 && (s.conversion.is_none())));
    assert_eq!(r.team.response_time.within_24_hours, None);
    // The pipeline is a snapshot of now, not of the period.
    assert_eq!(r.team.pipeline.iter().map(|p| p.leads).sum::<u32>(), 1);
}

/// The going-cold lists hold the coldest `cold_list_limit` leads; the counts hold them all.
#[test]
fn going_cold_lists_are_capped_and_counted() {
    let s = store("rep-a");
    for (i, at_ms) in [(0, T0), (1, T0 + D), (2, T0 + 2 * D)] {
        at(&s, at_ms, || {
            s.create_lead(LeadDraft { name: Some(format!("L{i}")), ..Default::default() }).unwrap()
        });
    }
    let q = |limit: u32| ReportQuery {
        cold_after_days: 0,
        cold_list_limit: limit,
        ..ReportQuery::new(Period::month_of(T0, &Zone::utc()), T0 + 20 * D)
    };
    let all = s.report(&q(50)).unwrap();
    assert_eq!(all.team.going_cold_count, 3);
    assert_eq!(
        all.team.going_cold.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["L0", "L1", "L2"],
        "the coldest first"
    );
    let two = s.report(&q(2)).unwrap();
    assert_eq!((two.team.going_cold_count, two.team.going_cold.len()), (3, 2));
    assert_eq!(two.team.going_cold, all.team.going_cold[..2].to_vec());
    let rep = &two.reps[0].figures;
    assert_eq!((rep.going_cold_count, rep.going_cold.len()), (3, 2));
    let none = s.report(&q(0)).unwrap();
    assert_eq!((none.team.going_cold_count, none.team.going_cold.len()), (3, 0));
}

#[test]
fn first_contact_and_last_activity_follow_every_kind_of_activity_edit() {
    // The report reads both from the lead row (schema v7); `verify` recomputes them from the
    // activity rows after each step.
    let s = store("rep-a");
    let cold = |s: &TestStore| -> Option<Option<i64>> {
        let r = s
            .report(&ReportQuery {
                cold_after_days: 0,
                ..ReportQuery::new(Period::month_of(T0, &Zone::utc()), T0 + 20 * D)
            })
            .unwrap();
        r.team.going_cold.first().map(|c| c.last_activity_at)
    };
    let l = at(&s, T0, || {
        s.create_lead(LeadDraft { name: Some("L".into()), ..Default::default() }).unwrap()
    })
    .id;
    let other = at(&s, T0, || {
        s.create_lead(LeadDraft { name: Some("M".into()), ..Default::default() }).unwrap()
    })
    .id;
    assert_eq!(cold(&s), Some(None));
    let note = at(&s, T0 + H, || {
        s.add_activity(ActivityDraft {
            occurred_at: Some(T0 + 2 * H),
            ..ActivityDraft::new(&l, ActivityKind::Note, "n")
        })
        .unwrap()
    })
    .id;
    let call = at(&s, T0 + H, || {
        s.add_activity(ActivityDraft {
            occurred_at: Some(T0 + H),
            ..ActivityDraft::new(&l, ActivityKind::Call, "c")
        })
        .unwrap()
    })
    .id;
    let task = at(&s, T0 + H, || {
        s.add_activity(ActivityDraft {
            due_at: Some(T0 + 5 * D),
            ..ActivityDraft::new(&l, ActivityKind::Task, "t")
        })
        .unwrap()
    })
    .id;
    assert!(s.verify().unwrap().is_ok());
    let r = s.report(&ReportQuery::new(Period::month_of(T0, &Zone::utc()), T0 + 20 * D)).unwrap();
    assert_eq!(r.team.response_time.median_minutes, Some(60.0), "the call, not the note");
    // Completing the task (stamped now) makes it the last activity.
    at(&s, T0 + 3 * D, || s.complete_activity(&task).unwrap());
    assert!(s.verify().unwrap().is_ok());
    // Moving the note later, then deleting it, and deleting the call.
    at(&s, T0 + 4 * D, || {
        s.update_activity(
            &note,
            ActivityPatch { occurred_at: Some(T0 + 4 * D), ..Default::default() },
        )
        .unwrap()
    });
    assert!(s.verify().unwrap().is_ok());
    at(&s, T0 + 4 * D, || s.delete_activity(&note).unwrap());
    at(&s, T0 + 4 * D, || s.delete_activity(&call).unwrap());
    assert!(s.verify().unwrap().is_ok());
    let r = s.report(&ReportQuery::new(Period::month_of(T0, &Zone::utc()), T0 + 20 * D)).unwrap();
    assert_eq!(r.team.response_time.contacted, 0);
    // Merging moves the remaining activity to the other lead.
    at(&s, T0 + 5 * D, || s.merge_leads(&other, &l).unwrap());
    assert!(s.verify().unwrap().is_ok());
}
