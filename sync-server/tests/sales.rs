//! End to end over a real server: sales process settings, targets and compensation plans —
//! who may write them, who receives them, and what happens to a rep's refused change.

mod common;
use common::*;
use fieldsales_core::*;
use fieldsales_server::backend::Role;

const D: i64 = 86_400_000;
const START: i64 = 1_793_577_600_000; // 2026-11-02 00:00 UTC

fn target(
    kind: SubjectKind,
    subject: &str,
    metric: TargetMetric,
    value: i64,
    currency: Option<&str>,
) -> TargetDraft {
    TargetDraft {
        id: None,
        subject_kind: kind,
        subject: subject.into(),
        metric,
        period_start: START,
        period_end: START + 30 * D,
        value,
        currency: currency.map(str::to_string),
    }
}

fn usd(a: i64) -> Money {
    Money { amount_minor: a, currency: "USD".into() }
}

fn ids(d: &Device, kind: DocKind) -> Vec<String> {
    d.document_ids().unwrap().into_iter().filter(|(_, k)| *k == kind).map(|(id, _)| id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managers_targets_and_plans_reach_the_right_reps_only() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "east");
    s.team(&ws, "west");
    let boss = s.device(&ws, "park", Role::Manager, Some("east")).await;
    let kim = s.device(&ws, "kim", Role::Rep, Some("east")).await;
    let lee = s.device(&ws, "lee", Role::Rep, Some("east")).await;
    let zoe = s.device(&ws, "zoe", Role::Rep, Some("west")).await;
    assert_eq!(kim.role().unwrap().as_deref(), Some("rep"), "enrollment stores the role");

    let kim_target = boss
        .set_target(target(SubjectKind::Rep, "kim", TargetMetric::WonValue, 1_000_000, Some("USD")))
        .unwrap();
    let team_target = boss
        .set_target(target(SubjectKind::Team, "east", TargetMetric::DealsWon, 20, None))
        .unwrap();
    let kim_plan = boss
        .set_plan(CompPlanDraft {
            rep: "kim".into(),
            base: usd(300_000),
            rate_bp: 1_000,
            tiers: vec![Tier { from_bp: 10_000, rate_bp: 1_500 }],
        })
        .unwrap();
    let lee_plan = boss
        .set_plan(CompPlanDraft {
            rep: "lee".into(),
            base: usd(280_000),
            rate_bp: 800,
            tiers: vec![],
        })
        .unwrap();
    boss.set_stage(
        Stage::Proposal,
        StagePatch {
            name: Some("Quote sent".into()),
            required: Some(vec![RequiredField::DealValue]),
            ..Default::default()
        },
    )
    .unwrap();
    let sum = boss.sync().await.unwrap();
    assert_eq!(sum.rejected, 0);

    // Kim gets her target, her team's target, her plan — not Lee's — and the settings.
    kim.sync().await.unwrap();
    let mut kim_targets = ids(&kim, DocKind::Target);
    kim_targets.sort();
    let mut want = vec![kim_target.id.clone(), team_target.id.clone()];
    want.sort();
    assert_eq!(kim_targets, want);
    assert_eq!(
        ids(&kim, DocKind::CompPlan),
        vec![kim_plan.id.clone()],
        "a rep cannot pull another rep's plan"
    );
    assert_eq!(kim.plans().unwrap()[0].base, usd(300_000));
    assert_eq!(kim.sales_settings().unwrap().name(Stage::Proposal), "Quote sent");
    // …and the stage rule holds on her phone.
    let e = kim
        .create_lead(LeadDraft {
            name: Some("Acme".into()),
            stage: Some(Stage::Proposal),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.to_string(), "stage 'Quote sent' needs a deal value");

    // Lee: the team's target and his own plan only.
    lee.sync().await.unwrap();
    assert_eq!(ids(&lee, DocKind::Target), vec![team_target.id.clone()]);
    assert_eq!(ids(&lee, DocKind::CompPlan), vec![lee_plan.id.clone()]);
    // Zoe, in another team: the settings and nothing else.
    zoe.sync().await.unwrap();
    assert!(ids(&zoe, DocKind::Target).is_empty() && ids(&zoe, DocKind::CompPlan).is_empty());
    assert_eq!(ids(&zoe, DocKind::Settings).len(), 1);

    // A later change reaches Kim through the feed.
    boss.set_target(target(
        SubjectKind::Rep,
        "kim",
        TargetMetric::WonValue,
        1_200_000,
        Some("USD"),
    ))
    .unwrap();
    boss.sync().await.unwrap();
    kim.sync().await.unwrap();
    assert_eq!(
        kim.targets(START, START + D)
            .unwrap()
            .iter()
            .find(|t| t.id == kim_target.id)
            .unwrap()
            .value,
        1_200_000
    );

    // A manager may not set their own plan, here nor (with an app that does not know the role)
    // on the server.
    assert!(matches!(
        boss.set_plan(CompPlanDraft {
            rep: "park".into(),
            base: usd(1),
            rate_bp: 1,
            tiers: vec![]
        }),
        Err(Error::Forbidden(_))
    ));
    boss.set_meta(store::META_ROLE, None).unwrap();
    boss.set_plan(CompPlanDraft { rep: "park".into(), base: usd(1), rate_bp: 1, tiers: vec![] })
        .unwrap();
    let sum = boss.sync().await.unwrap();
    assert_eq!(sum.rejected, 1);
    assert!(boss.quarantine().unwrap()[0].reason.contains("own compensation plan"));
    boss.set_meta(store::META_ROLE, Some("manager")).unwrap();

    // A manager may not set a target for another team's rep.
    boss.set_target(target(SubjectKind::Rep, "zoe", TargetMetric::DealsWon, 5, None)).unwrap();
    let sum = boss.sync().await.unwrap();
    assert_eq!(sum.rejected, 1);
    assert_eq!(boss.quarantine().unwrap()[1].code, "forbidden");
    for d in [&boss, &kim, &lee, &zoe] {
        assert!(d.verify().unwrap().is_ok());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reps_change_to_a_target_is_rejected_by_the_server_and_kept_in_quarantine() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "east");
    let boss = s.device(&ws, "park", Role::Manager, Some("east")).await;
    let kim = s.device(&ws, "kim", Role::Rep, Some("east")).await;
    let t =
        boss.set_target(target(SubjectKind::Rep, "kim", TargetMetric::DealsWon, 10, None)).unwrap();
    boss.sync().await.unwrap();
    kim.sync().await.unwrap();

    // The store knows Kim is a rep and refuses before anything is written…
    let lower = TargetDraft {
        id: Some(t.id.clone()),
        ..target(SubjectKind::Rep, "kim", TargetMetric::DealsWon, 3, None)
    };
    assert!(matches!(kim.set_target(lower.clone()), Err(Error::Forbidden(_))));
    // …but an app that does not know the role (an older version) writes it; the server refuses.
    kim.set_meta(store::META_ROLE, None).unwrap();
    assert_eq!(kim.set_target(lower).unwrap().value, 3);
    let own = kim
        .set_target(target(SubjectKind::Rep, "kim", TargetMetric::LeadsCaptured, 1, None))
        .unwrap();
    kim.set_stage(Stage::New, StagePatch { probability_bp: Some(9_000), ..Default::default() })
        .unwrap();
    let sum = kim.sync().await.unwrap();
    assert_eq!(sum.rejected, 3);
    let q = kim.quarantine().unwrap();
    assert_eq!(q.len(), 3);
    assert!(q.iter().all(|e| e.code == "forbidden"), "{q:?}");
    let edit = q.iter().find(|e| e.doc_id == t.id).unwrap();
    assert!(edit.reason.contains("only managers and admins may set targets"), "{}", edit.reason);
    assert!(q.iter().any(|e| e.doc_id == own.id));
    assert!(q.iter().any(|e| e.reason.contains("sales process settings")));
    // The target is back to the server's version; the one Kim created is gone.
    let now: Vec<SalesTarget> = kim.targets(START, START + D).unwrap();
    assert_eq!(now.len(), 1);
    assert_eq!((now[0].id.as_str(), now[0].value), (t.id.as_str(), 10));
    assert_eq!(kim.sales_settings().unwrap(), SalesSettings::default());
    assert!(kim.verify().unwrap().is_ok());
    // The manager still sees the target as set.
    boss.sync().await.unwrap();
    assert_eq!(boss.targets(START, START + D).unwrap()[0].value, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_managers_create_the_settings_offline_and_the_server_keeps_one_document() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "east");
    s.team(&ws, "west");
    let ann = s.device(&ws, "ann", Role::Manager, Some("east")).await;
    let bob = s.device(&ws, "bob", Role::Manager, Some("west")).await;
    let kim = s.device(&ws, "kim", Role::Rep, Some("east")).await;
    // Neither has seen the other's: two first changes of one document, no shared history.
    ann.set_stage(
        Stage::Proposal,
        StagePatch {
            probability_bp: Some(5_000),
            required: Some(vec![RequiredField::DealValue]),
            ..Default::default()
        },
    )
    .unwrap();
    bob.set_stage(
        Stage::Negotiation,
        StagePatch { name: Some("Contract review".into()), ..Default::default() },
    )
    .unwrap();
    assert_eq!(ann.sync().await.unwrap().rejected, 0);
    assert_eq!(bob.sync().await.unwrap().rejected, 0);
    ann.sync().await.unwrap();
    kim.sync().await.unwrap();
    let id = doc::settings::SETTINGS_ID;
    assert_eq!(ann.document_heads(id).unwrap(), bob.document_heads(id).unwrap());
    assert_eq!(kim.document_heads(id).unwrap(), bob.document_heads(id).unwrap());
    for d in [&ann, &bob, &kim] {
        let st = d.sales_settings().unwrap();
        assert_eq!(st.stage(Stage::Proposal).unwrap().probability_bp, 5_000);
        assert_eq!(st.name(Stage::Negotiation), "Contract review");
        assert!(d.verify().unwrap().is_ok());
    }
    assert_converged(&[&ann, &bob], &s);
}
