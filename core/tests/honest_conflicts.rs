//! Issue 14, points 3–5: a conflict is a real disagreement shown as its field is, and the stage
//! agrees with its history on every replica after any merge.

use fieldsales_core::*;
use testkit::*;

fn shared_lead(a: &TestStore, b: &TestStore, draft: LeadDraft) -> String {
    let l = a.create_lead(draft).unwrap();
    send(a, b);
    l.id
}

/// Two devices that enter the same value at once do not disagree: no conflict on the lead or
/// the activity, and no conflict mark in the list.
#[test]
fn equal_values_written_at_once_are_not_a_conflict() {
    let (a, b) = (store("rep"), store("rep"));
    let id = shared_lead(&a, &b, lead("Kim"));
    let act =
        a.add_activity(ActivityDraft::new(&id, ActivityKind::Task, "Send the quote")).unwrap();
    send(&a, &b);
    for s in [&a, &b] {
        s.update_lead(
            &id,
            LeadPatch {
                potential: Some(Potential::Warm),
                deal_value: Some(Money { amount_minor: 2_500_000, currency: "USD".into() }),
                ..Default::default()
            },
        )
        .unwrap();
        s.complete_activity(&act.id).unwrap();
    }
    exchange(&a, &b);
    for s in [&a, &b] {
        let l = s.lead(&id).unwrap();
        assert_eq!(l.potential, Some(Potential::Warm));
        assert!(l.conflicts().is_empty(), "equal values reported as a conflict: {:?}", l.conflicts);
        let t = s.activity(&act.id).unwrap();
        assert!(t.done);
        assert!(t.conflicts.is_empty(), "done = true | true: {:?}", t.conflicts);
        assert!(!s.list_leads(&LeadQuery::default()).unwrap().items[0].has_conflicts);
        assert_eq!(s.conflicted_leads().unwrap(), 0);
    }
    // A real disagreement is still one, with each value once.
    a.update_lead(&id, LeadPatch { potential: Some(Potential::Hot), ..Default::default() })
        .unwrap();
    b.update_lead(&id, LeadPatch { potential: Some(Potential::Cold), ..Default::default() })
        .unwrap();
    exchange(&a, &b);
    let c = a.lead(&id).unwrap().conflicts;
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].values.len(), 2);
}

/// Money and times in a conflict read as the field itself does.
#[test]
fn conflicting_money_and_times_are_shown_as_their_fields() {
    let (a, b) = (store("rep"), store("rep"));
    let id = shared_lead(&a, &b, lead("Park"));
    a.update_lead(
        &id,
        LeadPatch {
            deal_value: Some(Money { amount_minor: 2_500_000, currency: "USD".into() }),
            next_follow_up: Some(T0 + 3_600_000),
            ..Default::default()
        },
    )
    .unwrap();
    b.update_lead(
        &id,
        LeadPatch {
            deal_value: Some(Money { amount_minor: 30_000_000, currency: "KRW".into() }),
            next_follow_up: Some(T0 + 7_200_000),
            ..Default::default()
        },
    )
    .unwrap();
    exchange(&a, &b);
    let l = a.lead(&id).unwrap();
    let tz = Zone::parse("Asia/Seoul").unwrap();
    let shown = |field: &str| -> Vec<String> {
        let c = l.conflicts.iter().find(|c| c.field == field).expect("a conflict");
        let mut v: Vec<String> = c.values.iter().map(|v| conflicts::shown(field, v, &tz)).collect();
        v.sort();
        v
    };
    assert_eq!(shown("deal"), vec!["25,000.00 USD", "30,000,000 KRW"]);
    assert_eq!(
        shown("next_follow_up"),
        vec![tz.format_full(T0 + 3_600_000), tz.format_full(T0 + 7_200_000)]
    );
    // The shown value leads, and a value picked by its index still writes back.
    let deal = l.conflicts.iter().find(|c| c.field == "deal").unwrap();
    assert_eq!(
        conflicts::shown("deal", &deal.values[0], &tz),
        l.deal_value.as_ref().unwrap().to_string()
    );
    let settled = a.resolve_conflict(&id, "deal", 1).unwrap();
    assert!(settled.conflicts.iter().all(|c| c.field != "deal"));
}

/// Two devices move a lead at once. Whatever their actor ids (which decide Automerge's winners),
/// every replica shows the stage its history ends with, and the same one.
#[test]
fn the_stage_and_its_history_agree_after_concurrent_moves() {
    for round in 0..24 {
        let (a, b) = (store("rep"), store("rep"));
        let id = shared_lead(&a, &b, lead("Choi"));
        a.update_lead(&id, LeadPatch { stage: Some(Stage::Negotiation), ..Default::default() })
            .unwrap();
        b.update_lead(&id, LeadPatch { stage: Some(Stage::Qualified), ..Default::default() })
            .unwrap();
        exchange(&a, &b);
        let (la, lb) = (a.lead(&id).unwrap(), b.lead(&id).unwrap());
        assert_eq!(la.stage, lb.stage, "round {round}: replicas disagree");
        assert_eq!(la.stage_history, lb.stage_history, "round {round}");
        let last = la.stage_history.last().unwrap().stage;
        assert_eq!(la.stage, last, "round {round}: stage {} but history ends {}", la.stage, last);
        // The conflict names the stage shown first; the projection and verify agree.
        let c = la.conflicts.iter().find(|c| c.field == "stage").expect("a stage conflict");
        assert_eq!(c.values[0], la.stage.as_str());
        assert!(a.verify().unwrap().is_ok());
        let row = &a.list_leads(&LeadQuery::default()).unwrap().items[0];
        assert_eq!(row.stage, la.stage);

        // Closing it on one side while the other reopens: a won lead's close time is the last
        // move to won, and reports see what the screen shows.
        a.update_lead(&id, LeadPatch { stage: Some(Stage::Won), ..Default::default() }).unwrap();
        b.update_lead(
            &id,
            LeadPatch {
                stage: Some(Stage::Lost),
                lost_reason: Some("price".into()),
                ..Default::default()
            },
        )
        .unwrap();
        exchange(&a, &b);
        let (la, lb) = (a.lead(&id).unwrap(), b.lead(&id).unwrap());
        assert_eq!(la.stage, lb.stage, "round {round}");
        assert_eq!(la.stage, la.stage_history.last().unwrap().stage, "round {round}");
        assert_eq!(la.lost_reason.is_some(), la.stage == Stage::Lost, "round {round}");
        assert_eq!(la.closed_at(), Some(la.stage_history.last().unwrap().at));
    }
}
