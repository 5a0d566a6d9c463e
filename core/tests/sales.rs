//! Sales process settings (stage rules, names, probabilities), targets with attainment, and
//! compensation plans with commission, through the store: local writes, merges from another
//! device, projections and `verify`.

use fieldsales_core::doc::settings::SETTINGS_ID;
use fieldsales_core::report::Period;
use fieldsales_core::*;
use testkit::*;

const D: i64 = 86_400_000;

fn usd(a: i64) -> Money {
    Money { amount_minor: a, currency: "USD".into() }
}

fn needs_deal_value(s: &Store) {
    s.set_stage(
        Stage::Proposal,
        StagePatch { required: Some(vec![RequiredField::DealValue]), ..Default::default() },
    )
    .unwrap();
}

fn stage_error(e: Error) -> String {
    match e {
        Error::Validation(v @ ValidationError::StageRequires { .. }) => v.to_string(),
        other => panic!("expected a stage rule error, got {other:?}"),
    }
}

#[test]
fn stage_rules_on_create_and_edit() {
    let s = store("manager");
    needs_deal_value(&s);
    let docs = s.document_ids().unwrap().len();
    let outbox = s.outbox_len().unwrap();

    // Rejected create: nothing written.
    let e = s.create_lead(LeadDraft { stage: Some(Stage::Proposal), ..lead("Kim") }).unwrap_err();
    assert_eq!(stage_error(e), "stage 'proposal' needs a deal value");
    assert_eq!((s.document_ids().unwrap().len(), s.outbox_len().unwrap()), (docs, outbox));
    // An import (many drafts) is all or nothing too.
    let e = s
        .create_leads(vec![lead("A"), LeadDraft { stage: Some(Stage::Proposal), ..lead("B") }])
        .unwrap_err();
    assert!(matches!(
        e,
        Error::Validation(ValidationError::StageRequires { field: "deal_value", .. })
    ));
    assert_eq!(s.document_ids().unwrap().len(), docs);

    // Rejected edit: the lead stays where it was.
    let l = s.create_lead(lead("Lee")).unwrap();
    let e = s
        .update_lead(&l.id, LeadPatch { stage: Some(Stage::Proposal), ..Default::default() })
        .unwrap_err();
    assert_eq!(stage_error(e), "stage 'proposal' needs a deal value");
    assert_eq!(s.lead(&l.id).unwrap().stage, Stage::New);

    // Allowed after adding the value (same edit, or first the value then the stage).
    let ok = s
        .update_lead(
            &l.id,
            LeadPatch {
                stage: Some(Stage::Proposal),
                deal_value: Some(usd(1_000)),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(ok.stage, Stage::Proposal);
    let m = s.create_lead(lead("Moon")).unwrap();
    s.update_lead(&m.id, LeadPatch { deal_value: Some(usd(5)), ..Default::default() }).unwrap();
    s.update_lead(&m.id, LeadPatch { stage: Some(Stage::Proposal), ..Default::default() }).unwrap();
    let c = s
        .create_lead(LeadDraft {
            stage: Some(Stage::Proposal),
            deal_value: Some(usd(7)),
            ..lead("Choi")
        })
        .unwrap();
    assert_eq!(c.stage, Stage::Proposal);

    // Clearing a required field in that stage breaks the rule too.
    let e = s
        .update_lead(&c.id, LeadPatch { clear: vec![LeadField::DealValue], ..Default::default() })
        .unwrap_err();
    stage_error(e);

    // A renamed stage is named in the message.
    s.set_stage(
        Stage::Proposal,
        StagePatch { name: Some("Quote sent".into()), ..Default::default() },
    )
    .unwrap();
    let e = s.create_lead(LeadDraft { stage: Some(Stage::Proposal), ..lead("Park") }).unwrap_err();
    assert_eq!(stage_error(e), "stage 'Quote sent' needs a deal value");
    assert!(s.verify().unwrap().is_ok());
}

#[test]
fn merged_changes_are_never_rejected_and_old_breaks_do_not_block_other_edits() {
    let (rep, manager) = (store("rep"), store("manager"));
    // The rep moved a lead to proposal without a value before the rule existed anywhere.
    let l = rep.create_lead(LeadDraft { stage: Some(Stage::Proposal), ..lead("Kim") }).unwrap();
    needs_deal_value(&manager);
    // Merging the rule into the rep's store, and the lead into the manager's, refuses nothing.
    send(&manager, &rep);
    send(&rep, &manager);
    assert_eq!(manager.lead(&l.id).unwrap().stage, Stage::Proposal);
    assert_eq!(
        rep.sales_settings().unwrap().stage(Stage::Proposal).unwrap().required,
        vec![RequiredField::DealValue]
    );
    // An unrelated edit of the lead that already broke the rule is allowed.
    rep.update_lead(&l.id, LeadPatch { notes: Some("called".into()), ..Default::default() })
        .unwrap();
    // A new lead in that stage is not.
    assert!(rep.create_lead(LeadDraft { stage: Some(Stage::Proposal), ..lead("Lee") }).is_err());
    assert!(rep.verify().unwrap().is_ok() && manager.verify().unwrap().is_ok());
}

#[test]
fn settings_defaults_rename_probabilities_and_the_weighted_pipeline() {
    let s = store("manager");
    let defaults = s.sales_settings().unwrap();
    assert_eq!(defaults, SalesSettings::default());
    assert_eq!(defaults.stage(Stage::Proposal).unwrap().probability_bp, 6_000);
    s.create_lead(LeadDraft {
        stage: Some(Stage::Proposal),
        deal_value: Some(usd(10_000)),
        ..lead("Kim")
    })
    .unwrap();
    let period = Period::custom(T0 - D, T0 + D).unwrap();

    let weighted = |s: &Store| {
        let q = s.report_query(period, T0).unwrap();
        let r = s.report(&q).unwrap();
        r.team.pipeline.iter().find(|p| p.stage == Stage::Proposal).unwrap().weighted.clone()
    };
    assert_eq!(weighted(&s), vec![usd(6_000)], "default 60 %");
    s.set_stage(
        Stage::Proposal,
        StagePatch {
            name: Some("Quote sent".into()),
            probability_bp: Some(2_500),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(weighted(&s), vec![usd(2_500)], "the workspace's 25 %");
    let perf = s.performance(&s.report_query(period, T0).unwrap()).unwrap();
    assert_eq!(
        perf.stages.iter().find(|x| x.stage == Stage::Proposal).unwrap().name,
        "Quote sent",
        "reports show the new name"
    );
    // Invalid settings are refused.
    assert!(
        s.set_stage(Stage::New, StagePatch { probability_bp: Some(10_001), ..Default::default() })
            .is_err()
    );
    assert!(
        s.set_stage(Stage::New, StagePatch { name: Some("  ".into()), ..Default::default() })
            .is_err()
    );
    // One settings document, with the well-known id.
    let settings_docs: Vec<_> =
        s.document_ids().unwrap().into_iter().filter(|(_, k)| *k == DocKind::Settings).collect();
    assert_eq!(settings_docs, vec![(SETTINGS_ID.to_string(), DocKind::Settings)]);
}

#[test]
fn two_managers_edit_settings_offline_and_converge() {
    let (a, b) = (store("ann"), store("bob"));
    a.set_stage(Stage::Proposal, StagePatch { probability_bp: Some(5_000), ..Default::default() })
        .unwrap();
    b.set_stage(
        Stage::Qualified,
        StagePatch { name: Some("Qualified (BANT)".into()), ..Default::default() },
    )
    .unwrap();
    exchange(&a, &b);
    assert_eq!(a.sales_settings().unwrap(), b.sales_settings().unwrap());
    assert_eq!(a.document_heads(SETTINGS_ID).unwrap(), b.document_heads(SETTINGS_ID).unwrap());
    let s = a.sales_settings().unwrap();
    assert_eq!(
        (s.stage(Stage::Proposal).unwrap().probability_bp, s.name(Stage::Qualified)),
        (5_000, "Qualified (BANT)".to_string())
    );
    assert!(a.verify().unwrap().is_ok() && b.verify().unwrap().is_ok());
}

/// Kim wins 3 deals on the first day.
fn kims_deals_target() -> TargetDraft {
    TargetDraft {
        id: None,
        subject_kind: SubjectKind::Rep,
        subject: "kim".into(),
        metric: TargetMetric::DealsWon,
        period_start: T0,
        period_end: T0 + D,
        value: 3,
        currency: None,
    }
}

#[test]
fn a_rep_may_not_set_targets_plans_or_settings_locally() {
    let s = store("kim");
    s.set_meta(store::META_ROLE, Some("rep")).unwrap();
    let t = kims_deals_target();
    assert!(matches!(s.set_target(t.clone()), Err(Error::Forbidden(_))));
    let plan = CompPlanDraft { rep: "kim".into(), base: usd(1), rate_bp: 1, tiers: vec![] };
    assert!(matches!(s.set_plan(plan), Err(Error::Forbidden(_))));
    assert!(matches!(s.set_stage(Stage::New, StagePatch::default()), Err(Error::Forbidden(_))));
    assert!(s.document_ids().unwrap().is_empty());
    s.set_meta(store::META_ROLE, Some("manager")).unwrap();
    s.set_target(t).unwrap();
}

/// A targets or commission screen refreshes from the change observer like a lead list does:
/// after a local write and after a merge from elsewhere.
#[test]
fn observers_hear_about_settings_targets_and_plans() {
    use std::sync::{Arc, Mutex};
    use testkit::Heard as Log;
    let (m, rep) = (store("manager"), store("kim"));
    let (on_m, on_rep) =
        (Arc::new(Log(Mutex::new(Vec::new()))), Arc::new(Log(Mutex::new(Vec::new()))));
    m.add_observer(on_m.clone());
    rep.add_observer(on_rep.clone());
    let t = m.set_target(kims_deals_target()).unwrap();
    m.set_stage(
        Stage::Proposal,
        StagePatch { name: Some("Quote sent".into()), ..Default::default() },
    )
    .unwrap();
    assert_eq!(
        *on_m.0.lock().unwrap(),
        vec![
            ChangedRecords { sales: vec![t.id.clone()], ..Default::default() },
            ChangedRecords { sales: vec![SETTINGS_ID.into()], ..Default::default() }
        ]
    );
    send(&m, &rep);
    let heard = on_rep.0.lock().unwrap().clone();
    assert_eq!(heard.len(), 1, "one merge, one notification: {heard:?}");
    let mut sales = heard[0].sales.clone();
    sales.sort();
    let mut want = vec![t.id.clone(), SETTINGS_ID.to_string()];
    want.sort();
    assert_eq!(sales, want);
    assert!(heard[0].leads.is_empty() && heard[0].activities.is_empty());
}

fn won(s: &TestStore, name: &str, owner: &str, value: Money, at: i64) -> Lead {
    s.set_time(at);
    let l = s
        .create_lead(LeadDraft { owner: Some(owner.into()), deal_value: Some(value), ..lead(name) })
        .unwrap();
    s.update_lead(&l.id, LeadPatch { stage: Some(Stage::Won), ..Default::default() }).unwrap()
}

#[test]
fn attainment_and_commission_from_the_store() {
    let m = store("manager");
    let period = Period::custom(T0, T0 + 10 * D).unwrap();
    let target = |metric, value, currency: Option<&str>| TargetDraft {
        id: None,
        subject_kind: SubjectKind::Rep,
        subject: "kim".into(),
        metric,
        period_start: period.start,
        period_end: period.end,
        value,
        currency: currency.map(str::to_string),
    };
    m.set_target(target(TargetMetric::WonValue, 100_000, Some("USD"))).unwrap();
    m.set_target(target(TargetMetric::DealsWon, 4, None)).unwrap();
    m.set_target(target(TargetMetric::LeadsCaptured, 10, None)).unwrap();
    m.set_target(target(TargetMetric::ActivitiesDone, 2, None)).unwrap();
    // Setting it again updates the same target.
    let again = m.set_target(target(TargetMetric::DealsWon, 5, None)).unwrap();
    assert_eq!(m.targets(period.start, period.end).unwrap().len(), 4);
    assert_eq!(again.value, 5);
    m.set_target(TargetDraft {
        subject_kind: SubjectKind::Team,
        subject: "east".into(),
        ..target(TargetMetric::DealsWon, 10, None)
    })
    .unwrap();
    m.set_plan(CompPlanDraft {
        rep: "kim".into(),
        base: usd(300_000),
        rate_bp: 1_000,
        tiers: vec![Tier { from_bp: 10_000, rate_bp: 1_500 }],
    })
    .unwrap();

    // Kim wins 80,000 then 40,000 USD (straddling the 100,000 quota) and 1,000,000 KRW; Lee
    // wins 5,000 USD. One activity by the manager's device is counted for the manager.
    let a = won(&m, "A", "kim", usd(80_000), T0 + D);
    won(&m, "B", "kim", usd(40_000), T0 + 2 * D);
    won(&m, "C", "kim", Money { amount_minor: 1_000_000, currency: "KRW".into() }, T0 + 3 * D);
    won(&m, "D", "lee", usd(5_000), T0 + 3 * D);
    m.set_time(T0 + 3 * D);
    m.add_activity(ActivityDraft::new(&a.id, ActivityKind::Call, "thanks")).unwrap();

    let now = T0 + 5 * D;
    let p = m.performance(&m.report_query(period, now).unwrap()).unwrap();
    let fig = |metric: TargetMetric, kind: SubjectKind| {
        p.attainment
            .iter()
            .find(|x| x.target.metric == metric && x.target.subject_kind == kind)
            .unwrap()
            .progress
            .clone()
    };
    let won_value = fig(TargetMetric::WonValue, SubjectKind::Rep);
    assert_eq!(
        (won_value.actual, won_value.attainment_bp, won_value.expected, won_value.pace_bp),
        (120_000, Some(12_000), 50_000, Some(24_000))
    );
    let deals = fig(TargetMetric::DealsWon, SubjectKind::Rep);
    assert_eq!(
        (deals.actual, deals.target, deals.attainment_bp, deals.pace_bp),
        (3, 5, Some(6_000), Some(15_000))
    );
    assert_eq!(fig(TargetMetric::LeadsCaptured, SubjectKind::Rep).actual, 3);
    assert_eq!(
        fig(TargetMetric::ActivitiesDone, SubjectKind::Rep).actual,
        0,
        "the call was logged by the manager"
    );
    assert_eq!(
        fig(TargetMetric::DealsWon, SubjectKind::Team).actual,
        4,
        "a team target counts every lead on this device"
    );

    let kim = p.commission.iter().find(|c| c.rep == "kim").unwrap();
    assert_eq!(kim.base, usd(300_000));
    assert_eq!(kim.quota, vec![usd(100_000)]);
    // USD: 100,000 @10 % + 20,000 @15 % = 13,000; KRW (no quota in KRW): 10 % = 100,000.
    assert_eq!(
        kim.won_value,
        vec![Money { amount_minor: 1_000_000, currency: "KRW".into() }, usd(120_000)]
    );
    assert_eq!(
        kim.commission,
        vec![Money { amount_minor: 100_000, currency: "KRW".into() }, usd(13_000)]
    );
    assert!(p.commission.iter().all(|c| c.rep != "lee"), "lee has no plan");

    // Only kim's figures when asked for kim.
    let mut q = m.report_query(period, now).unwrap();
    q.owners = Some(vec!["lee".into()]);
    let p = m.performance(&q).unwrap();
    assert!(p.attainment.is_empty() && p.commission.is_empty());
    assert!(m.verify().unwrap().is_ok());
}

#[test]
fn targets_and_plans_merge_into_another_device_and_reproject() {
    let (m, rep) = (store("manager"), store("kim"));
    let draft = TargetDraft {
        id: None,
        subject_kind: SubjectKind::Rep,
        subject: "kim".into(),
        metric: TargetMetric::WonValue,
        period_start: T0,
        period_end: T0 + D,
        value: 500,
        currency: Some("usd".into()),
    };
    let t = m.set_target(draft.clone()).unwrap();
    assert_eq!(t.currency.as_deref(), Some("USD"));
    m.set_plan(CompPlanDraft { rep: "kim".into(), base: usd(10), rate_bp: 500, tiers: vec![] })
        .unwrap();
    let r = send(&m, &rep);
    assert_eq!(r.changed.sales.len(), 2);
    assert_eq!(rep.targets(T0, T0 + D).unwrap(), vec![t.clone()]);
    assert_eq!(rep.plans().unwrap().len(), 1);
    // A later change of the value merges too.
    let edit = TargetDraft { id: Some(t.id.clone()), value: 900, ..draft.clone() };
    m.set_target(edit).unwrap();
    send(&m, &rep);
    assert_eq!(rep.targets(T0, T0 + D).unwrap()[0].value, 900);
    m.delete_target(&t.id).unwrap();
    send(&m, &rep);
    assert!(rep.targets(T0, T0 + D).unwrap().is_empty());
    assert!(rep.verify().unwrap().is_ok() && m.verify().unwrap().is_ok());
}

#[test]
fn a_store_rebuilds_the_sales_projections_when_asked_to_reproject() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    {
        let s = Store::open(&path, OpenOptions::new("manager")).unwrap();
        s.set_stage(Stage::Won, StagePatch { name: Some("Signed".into()), ..Default::default() })
            .unwrap();
        s.set_target(TargetDraft {
            id: None,
            subject_kind: SubjectKind::Team,
            subject: "east".into(),
            metric: TargetMetric::LeadsCaptured,
            period_start: T0,
            period_end: T0 + D,
            value: 9,
            currency: None,
        })
        .unwrap();
        s.set_plan(CompPlanDraft {
            rep: "kim".into(),
            base: usd(1),
            rate_bp: 100,
            tiers: vec![Tier { from_bp: 5_000, rate_bp: 200 }],
        })
        .unwrap();
    }
    {
        // Lose the projections (as a migration that adds them would find them), and ask for a
        // rebuild on the next open.
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("DELETE FROM stage_settings; DELETE FROM targets; DELETE FROM comp_plans; INSERT INTO meta (key, value) VALUES ('reproject', '1');")
            .unwrap();
    }
    let s = Store::open(&path, OpenOptions::new("manager")).unwrap();
    assert_eq!(s.sales_settings().unwrap().name(Stage::Won), "Signed");
    assert_eq!(s.targets(T0, T0 + D).unwrap()[0].value, 9);
    assert_eq!(s.plans().unwrap()[0].tiers, vec![Tier { from_bp: 5_000, rate_bp: 200 }]);
    assert!(s.verify().unwrap().is_ok());
    // verify notices a projection that disagrees with its document.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("UPDATE targets SET value = 1; UPDATE stage_settings SET probability_bp = 1 WHERE stage = 'new';").unwrap();
    }
    let report = s.verify().unwrap();
    assert_eq!(report.projection_mismatches.len(), 2, "{report:?}");
}
