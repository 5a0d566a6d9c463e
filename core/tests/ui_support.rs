//! What the screens need from the core beyond plain reads: a report against the previous period
//! (each change computed here by hand), a duplicate check of a draft before it is saved, and
//! the field a validation error belongs to.

mod common;
use common::*;
use fieldsales_core::form::FormField;
use fieldsales_core::report::*;
use fieldsales_core::*;

const D: i64 = 86_400_000;

fn utc() -> Zone {
    Zone::utc()
}

fn seoul() -> Zone {
    Zone::parse("Asia/Seoul").unwrap()
}

fn krw(a: i64) -> Money {
    Money { amount_minor: a, currency: "KRW".into() }
}

fn won_lead(s: &TestStore, created: i64, closed: i64, name: &str, value: i64) -> String {
    s.set_time(created);
    let l = s.create_lead(LeadDraft { deal_value: Some(krw(value)), ..lead(name) }).unwrap();
    s.set_time(closed);
    s.update_lead(&l.id, LeadPatch { stage: Some(Stage::Won), ..Default::default() }).unwrap();
    l.id
}

#[test]
fn the_previous_period_is_the_calendar_one_before() {
    // T0 is Monday 2026-11-02 09:00 UTC.
    let w = Period::week_of(T0, &utc());
    assert_eq!(w.preceding(&utc()), Period { start: w.start - 7 * D, end: w.start });
    let m = Period::month_of(T0, &seoul());
    let oct = m.preceding(&seoul());
    assert_eq!(oct, Period::month_of(m.start - 1, &seoul()));
    assert_eq!(oct.end, m.start);
    assert_eq!((oct.end - oct.start) / D, 31, "October has 31 days");
    let q = Period::quarter_of(T0, &utc());
    assert_eq!(q.preceding(&utc()), Period::quarter_of(q.start - 1, &utc()));
    let c = Period::custom(T0, T0 + 3 * D).unwrap();
    assert_eq!(c.preceding(&utc()), Period { start: T0 - 3 * D, end: T0 });
}

#[test]
fn every_team_and_rep_figure_carries_its_change_against_the_previous_month() {
    let m = store("manager");
    let nov = Period::month_of(T0 + 10 * D, &utc());
    let oct = nov.preceding(&utc());
    // October: one won (2,000,000 KRW, 4-day cycle), one lost, three captured in October.
    won_lead(&m, oct.start + D, oct.start + 5 * D, "O1", 2_000_000);
    m.set_time(oct.start + 2 * D);
    let lost = m.create_lead(lead("O2")).unwrap();
    m.update_lead(&lost.id, LeadPatch { stage: Some(Stage::Lost), ..Default::default() }).unwrap();
    m.create_lead(lead("O3")).unwrap();
    // November: two won (1,000,000 in 2 days and 3,000,000 in 4 days), nothing lost.
    won_lead(&m, nov.start + D, nov.start + 3 * D, "N1", 1_000_000);
    won_lead(&m, nov.start + 2 * D, nov.start + 6 * D, "N2", 3_000_000);
    m.set_time(nov.start + 10 * D);
    m.set_target(TargetDraft {
        id: None,
        subject_kind: SubjectKind::Rep,
        subject: "manager".into(),
        metric: TargetMetric::DealsWon,
        period_start: oct.start,
        period_end: oct.end,
        value: 4,
        currency: None,
    })
    .unwrap();
    let nov_target = m
        .set_target(TargetDraft {
            id: None,
            subject_kind: SubjectKind::Rep,
            subject: "manager".into(),
            metric: TargetMetric::DealsWon,
            period_start: nov.start,
            period_end: nov.end,
            value: 4,
            currency: None,
        })
        .unwrap();

    let q = m.report_query(nov, nov.start + 10 * D).unwrap();
    let c = m.compared(&q, &utc()).unwrap();
    assert_eq!(c.previous.0.period, oct);
    let t = &c.change.team;
    assert_eq!(c.change.previous, oct);
    assert_eq!((t.won.current, t.won.previous, t.won.delta, t.won.better), (2, 1, 1, Some(true)));
    assert_eq!(
        (t.lost.current, t.lost.previous, t.lost.delta, t.lost.better),
        (0, 1, -1, Some(true))
    );
    // Win rate 2/2 = 1.0 against 1/2 = 0.5: 50 points up.
    assert_eq!((t.win_rate.current, t.win_rate.previous), (Some(1.0), Some(0.5)));
    assert_eq!(t.win_rate.delta, Some(0.5));
    // Cycle: (2 + 4) / 2 = 3 days against 4 days: shorter is better.
    assert_eq!(t.cycle_average_days.current, Some(3.0));
    assert_eq!(t.cycle_average_days.previous, Some(4.0));
    assert_eq!(t.cycle_average_days.delta, Some(-1.0));
    assert_eq!(t.cycle_average_days.better, Some(true));
    assert_eq!((t.captured.current, t.captured.previous, t.captured.delta), (2, 3, -1));
    assert_eq!(t.captured.better, Some(false));
    assert_eq!(t.won_value.len(), 1);
    let v = &t.won_value[0];
    assert_eq!(
        (v.currency.as_str(), v.current, v.previous, v.delta),
        ("KRW", 4_000_000, 2_000_000, 2_000_000)
    );
    assert_eq!(t.funnel.len(), 6);
    assert_eq!(t.funnel[5].stage, Stage::Won);
    assert_eq!((t.funnel[5].reached.current, t.funnel[5].reached.previous), (2, 1));
    assert_eq!(c.change.reps.len(), 1);
    assert_eq!(c.change.reps[0].owner, "manager");
    assert_eq!(c.change.reps[0].figures.won.delta, 1);
    // The November target (2 of 4 = 5,000 bp) against October's (1 of 4 = 2,500 bp).
    let a = c.change.attainment.iter().find(|a| a.target_id == nov_target.id).unwrap();
    assert!(a.previous_target_id.is_some());
    assert_eq!((a.actual.current, a.actual.previous), (2, 1));
    assert_eq!(a.attainment_bp_current, Some(5_000));
    assert_eq!(a.attainment_bp_previous, Some(2_500));
    assert_eq!(a.attainment_bp_delta, Some(2_500));
}

#[test]
fn a_rep_only_in_one_period_counts_zero_in_the_other() {
    let m = store("manager");
    let nov = Period::month_of(T0 + 10 * D, &utc());
    won_lead(&m, nov.start + D, nov.start + 2 * D, "N1", 500);
    let q = m.report_query(nov, nov.start + 5 * D).unwrap();
    let c = m.compared(&q, &utc()).unwrap();
    let r = &c.change.reps[0].figures;
    assert_eq!((r.won.current, r.won.previous), (1, 0));
    assert_eq!(r.win_rate.previous, None);
    assert_eq!(r.win_rate.delta, None, "no change without a previous rate");
    assert_eq!(r.win_rate.better, None);
}

#[test]
fn a_draft_is_checked_for_duplicates_before_it_is_saved() {
    let lee = store("lee");
    let kept = lee
        .create_lead(LeadDraft {
            company: Some("Acme Korea".into()),
            emails: vec!["minji@acme.co.kr".into()],
            phones: vec!["010-1234-5678".into()],
            ..lead("김민지")
        })
        .unwrap();
    let kim = store("kim");
    send(&lee, &kim);
    let before = kim.outbox_len().unwrap();
    // Same name at the same company, spacing and case aside.
    let groups = kim
        .duplicates_of_draft(&LeadDraft {
            company: Some(" acme  KOREA ".into()),
            ..lead("김민지 ")
        })
        .unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].reason, duplicates::DuplicateReason::SameNameAndCompany);
    assert_eq!(groups[0].leads[0].id, kept.id);
    assert_eq!(groups[0].leads[0].created_by, "lee");
    // A phone typed another way, and an e-mail in capitals.
    let groups = kim
        .duplicates_of_draft(&LeadDraft {
            phones: vec!["+82 10 1234 5678".into()],
            emails: vec!["MINJI@ACME.CO.KR".into()],
            ..Default::default()
        })
        .unwrap();
    let reasons: Vec<_> = groups.iter().map(|g| g.reason).collect();
    assert_eq!(
        reasons,
        vec![duplicates::DuplicateReason::SameEmail, duplicates::DuplicateReason::SamePhone]
    );
    // Half-typed contact details and a name alone match nothing and raise nothing.
    assert!(
        kim.duplicates_of_draft(&LeadDraft { emails: vec!["minji@".into()], ..lead("김민지") })
            .unwrap()
            .is_empty()
    );
    assert!(kim.duplicates_of_draft(&LeadDraft::default()).unwrap().is_empty());
    assert_eq!(kim.outbox_len().unwrap(), before, "nothing was written");
}

#[test]
fn a_refused_draft_names_its_field() {
    let s = store("kim");
    let e = s
        .create_lead(LeadDraft { emails: vec!["not-an-email".into()], ..lead("김민지") })
        .unwrap_err();
    let Error::Validation(v) = e else { panic!("{e}") };
    assert_eq!(v.field(), Some(FormField::Email));
    assert_eq!(s.list_leads(&LeadQuery::default()).unwrap().items.len(), 0);
}

#[test]
fn a_conflict_is_resolved_by_picking_one_value() {
    let (a, b) = (store("kim"), store("kim"));
    let l = a.create_lead(LeadDraft { company: Some("Acme".into()), ..lead("김민지") }).unwrap();
    send(&a, &b);
    a.update_lead(&l.id, LeadPatch { company: Some("Acme Korea".into()), ..Default::default() })
        .unwrap();
    b.update_lead(&l.id, LeadPatch { company: Some("ACME Seoul".into()), ..Default::default() })
        .unwrap();
    b.update_lead(&l.id, LeadPatch { deal_value: Some(krw(1_000)), ..Default::default() }).unwrap();
    a.update_lead(&l.id, LeadPatch { deal_value: Some(krw(2_000)), ..Default::default() }).unwrap();
    exchange(&a, &b);
    let merged = a.lead(&l.id).unwrap();
    let c = merged.conflicts.iter().find(|c| c.field == "company").unwrap().clone();
    assert_eq!(c.values.len(), 2);
    // Keep the one that is not shown now.
    let kept = a.resolve_conflict(&l.id, "company", 1).unwrap();
    assert_eq!(kept.company.as_deref(), Some(c.values[1].as_str()));
    assert!(kept.conflicts.iter().all(|c| c.field != "company"));
    let deal = kept.conflicts.iter().find(|c| c.field == "deal").unwrap().clone();
    let kept = a.resolve_conflict(&l.id, "deal", 1).unwrap();
    assert!(kept.conflicts.is_empty(), "{:?}", kept.conflicts);
    assert_eq!(
        kept.deal_value.map(|m| format!("{} {}", m.amount_minor, m.currency)),
        Some(deal.values[1].clone())
    );
    assert!(!a.list_leads(&LeadQuery::default()).unwrap().items[0].has_conflicts);
    // The other device sees it resolved after the exchange.
    send(&a, &b);
    assert!(b.lead(&l.id).unwrap().conflicts.is_empty());
    assert!(matches!(a.resolve_conflict(&l.id, "company", 0), Err(Error::NotFound { .. })));
}
