//! Issue 14, point 2 (the store's half): a quarantine a person can read and act on. Each entry
//! says which record, which fields and values were refused (old → new, text added, an
//! activity's fields), why and what can be done; `quarantine_apply` re-applies it where the
//! user may, `quarantine_discard` drops it.

use fieldsales_core::doc::diff::FieldEdit;
use fieldsales_core::*;
use testkit::*;

/// A lead the server has (its creation acknowledged), as the server stores it.
fn synced_lead(s: &Store, draft: LeadDraft) -> (Lead, Vec<u8>) {
    let l = s.create_lead(draft).unwrap();
    let hashes: Vec<String> = s.outbox(0, 100).unwrap().into_iter().map(|e| e.hash).collect();
    s.ack_outbox(&hashes).unwrap();
    (l.clone(), s.document_bytes(&l.id).unwrap())
}

fn field<'a>(fields: &'a [FieldEdit], name: &str) -> &'a FieldEdit {
    fields.iter().find(|f| f.field == name).unwrap_or_else(|| panic!("no {name} in {fields:?}"))
}

#[test]
fn a_refused_edit_shows_the_record_the_fields_why_and_what_to_do() {
    let s = store("kim");
    let (lead, server) = synced_lead(
        &s,
        LeadDraft {
            name: Some("Yuna Jung".into()),
            company: Some("Hanbit".into()),
            notes: Some("Met at the booth.".into()),
            ..Default::default()
        },
    );
    s.update_lead(
        &lead.id,
        LeadPatch {
            company: Some("Hanbit Tech".into()),
            notes: Some("Met at the booth. Wants a quote by Friday.".into()),
            potential: Some(Potential::Hot),
            deal_value: Some(Money { amount_minor: 2_500_000, currency: "USD".into() }),
            add_tags: vec!["vip".into()],
            ..Default::default()
        },
    )
    .unwrap();
    s.quarantine_rejected(
        &lead.id,
        DocKind::Lead,
        "forbidden",
        "you may not change this record",
        Some(&server),
    )
    .unwrap();
    let q = s.quarantine().unwrap();
    assert_eq!(q.len(), 1);
    let e = &q[0];
    assert_eq!(e.detail.record, "Yuna Jung");
    assert!(!e.detail.created);
    let f = &e.detail.fields;
    assert_eq!(field(f, "company").old.as_deref(), Some("Hanbit"));
    assert_eq!(field(f, "company").new.as_deref(), Some("Hanbit Tech"));
    assert_eq!(field(f, "notes").old, None);
    assert_eq!(field(f, "notes").new.as_deref(), Some(" Wants a quote by Friday."));
    assert_eq!(field(f, "potential").new.as_deref(), Some("hot"));
    assert_eq!(field(f, "deal").new.as_deref(), Some("2500000 USD"));
    assert_eq!(field(f, "tags").new.as_deref(), Some("vip"));
    assert!(f.iter().all(|x| x.field != "updated_at" && x.field != "name"), "{f:?}");
    assert!(e.why.contains("you may not change this record"), "{}", e.why);
    assert!(e.what_to_do.contains("quarantine apply"), "{}", e.what_to_do);
    assert!(e.can_apply);
    assert_eq!(s.quarantine_entry(e.id).unwrap(), *e);
    assert!(matches!(s.quarantine_entry(e.id + 100), Err(Error::NotFound { .. })));
    // The lead is back to the server's version.
    assert_eq!(s.lead(&lead.id).unwrap().company.as_deref(), Some("Hanbit"));

    // Applied: written again as one new change, the entry gone.
    let done = s.quarantine_apply(e.id).unwrap();
    assert!(!done.resent);
    assert_eq!(done.record, "Yuna Jung");
    assert_eq!(done.cleared, vec![e.id]);
    let l = s.lead(&lead.id).unwrap();
    assert_eq!(l.company.as_deref(), Some("Hanbit Tech"));
    assert_eq!(l.notes, "Met at the booth. Wants a quote by Friday.");
    assert_eq!(l.potential, Some(Potential::Hot));
    assert_eq!(l.tags, vec!["vip"]);
    assert_eq!(s.outbox_len().unwrap(), 1);
    assert_eq!(s.quarantine_len().unwrap(), 0);
}

/// The notes moved on since the refused change: what it added is added, nothing is lost.
#[test]
fn applying_keeps_what_was_written_since() {
    let s = store("kim");
    let (lead, server) = synced_lead(
        &s,
        LeadDraft { name: Some("Choi".into()), notes: Some("A.".into()), ..Default::default() },
    );
    s.update_lead(
        &lead.id,
        LeadPatch { notes: Some("A. Call Tuesday.".into()), ..Default::default() },
    )
    .unwrap();
    s.quarantine_rejected(&lead.id, DocKind::Lead, "forbidden", "no", Some(&server)).unwrap();
    s.update_lead(
        &lead.id,
        LeadPatch { notes: Some("A. Sent samples.".into()), ..Default::default() },
    )
    .unwrap();
    let id = s.quarantine().unwrap()[0].id;
    s.quarantine_apply(id).unwrap();
    assert_eq!(s.lead(&lead.id).unwrap().notes, "A. Sent samples.\nCall Tuesday.");
}

/// A stage move a stage rule refuses today is not applied, and stays; once the rule is met
/// (the deal value entered), it applies.
#[test]
fn a_stage_move_applies_once_the_stage_rule_is_met() {
    let s = store("kim");
    let (lead, server) = synced_lead(&s, lead("Lim"));
    s.update_lead(&lead.id, LeadPatch { stage: Some(Stage::Proposal), ..Default::default() })
        .unwrap();
    s.quarantine_rejected(&lead.id, DocKind::Lead, "invalid_document", "try again", Some(&server))
        .unwrap();
    s.set_stage(
        Stage::Proposal,
        StagePatch { required: Some(vec![RequiredField::DealValue]), ..Default::default() },
    )
    .unwrap();
    let id = s.quarantine().unwrap()[0].id;
    let e = s.quarantine_apply(id).unwrap_err();
    assert!(e.to_string().contains("deal value"), "{e}");
    assert_eq!(s.quarantine_len().unwrap(), 1, "kept");
    s.update_lead(
        &lead.id,
        LeadPatch {
            deal_value: Some(Money { amount_minor: 10_000, currency: "USD".into() }),
            ..Default::default()
        },
    )
    .unwrap();
    s.quarantine_apply(id).unwrap();
    assert_eq!(s.lead(&lead.id).unwrap().stage, Stage::Proposal);
}

/// A rep's own store leaves out what a rep may not do, and says so.
#[test]
fn applying_leaves_out_what_the_user_may_not_do() {
    let s = store("kim");
    s.set_meta("sync.role", Some("rep")).unwrap();
    let (lead, server) = synced_lead(&s, lead("Han"));
    s.update_lead(
        &lead.id,
        LeadPatch { owner: Some("lee".into()), title: Some("CFO".into()), ..Default::default() },
    )
    .unwrap();
    s.quarantine_rejected(
        &lead.id,
        DocKind::Lead,
        "forbidden",
        "only managers and admins may give a lead to someone else",
        Some(&server),
    )
    .unwrap();
    let id = s.quarantine().unwrap()[0].id;
    let done = s.quarantine_apply(id).unwrap();
    assert_eq!(done.skipped.len(), 1, "{:?}", done.skipped);
    assert!(done.skipped[0].starts_with("owner"));
    let l = s.lead(&lead.id).unwrap();
    assert_eq!((l.owner.as_str(), l.title.as_deref()), ("kim", Some("CFO")));
}

/// The record left the device (the server no longer shows it): applying sends the change again
/// as it was, with the refused changes it builds on; discarding drops an entry.
#[test]
fn a_record_no_longer_here_is_sent_again_as_it_was() {
    let s = store("kim");
    let (lead, _) = synced_lead(&s, lead("Park"));
    let act =
        s.add_activity(ActivityDraft::new(&lead.id, ActivityKind::Call, "Intro call")).unwrap();
    s.update_lead(&lead.id, LeadPatch { company: Some("Acme".into()), ..Default::default() })
        .unwrap();
    s.update_lead(&lead.id, LeadPatch { title: Some("CTO".into()), ..Default::default() }).unwrap();
    // The server answers a record that is not hers any more as one that does not exist.
    s.quarantine_rejected(
        &lead.id,
        DocKind::Lead,
        "missing_dependencies",
        "the changes build on changes the server does not have",
        None,
    )
    .unwrap();
    s.quarantine_rejected(
        &act.id,
        DocKind::Activity,
        "unknown_lead",
        "lead is not on the server, or not yours",
        None,
    )
    .unwrap();
    assert!(s.lead(&lead.id).is_err());
    let q = s.quarantine().unwrap();
    assert_eq!(q.len(), 3);
    let (company, title, call) = (&q[0], &q[1], &q[2]);
    assert_eq!(company.detail.record, "Park", "named although the lead is gone");
    assert_eq!(field(&company.detail.fields, "company").new.as_deref(), Some("Acme"));
    assert!(company.why.contains("given to someone else"), "{}", company.why);
    assert!(company.what_to_do.contains("as it was"), "{}", company.what_to_do);
    assert_eq!(call.detail.record, "call \u{201c}Intro call\u{201d}");
    assert!(call.detail.created);
    assert_eq!(field(&call.detail.fields, "subject").new.as_deref(), Some("Intro call"));
    assert_eq!(field(&call.detail.fields, "lead_id").new.as_deref(), Some(lead.id.as_str()));

    let done = s.quarantine_apply(title.id).unwrap();
    assert!(done.resent);
    assert_eq!(done.cleared, vec![company.id, title.id], "with the change it builds on");
    let out = s.outbox(0, 10).unwrap();
    assert_eq!(
        out.iter().map(|e| e.hash.as_str()).collect::<Vec<_>>(),
        vec![company.hash.as_str(), title.hash.as_str()]
    );
    assert_eq!(out[0].change, company.change, "as it was");

    let gone = s.quarantine_discard(call.id).unwrap();
    assert_eq!(gone.id, call.id);
    assert_eq!(s.quarantine_len().unwrap(), 0);
    assert!(matches!(s.quarantine_discard(call.id), Err(Error::NotFound { .. })));
}

/// Damaged records a server sent are shown, explained and cannot be applied.
#[test]
fn a_damaged_record_from_a_server_cannot_be_applied() {
    let s = store("kim");
    let r = s
        .apply_pull(
            vec![PullApply::Snapshot {
                doc_id: new_id(),
                kind: DocKind::Lead,
                data: b"not automerge".to_vec(),
            }],
            None,
        )
        .unwrap();
    assert_eq!(r.set_aside.len(), 1);
    let e = &s.quarantine().unwrap()[0];
    assert!(!e.can_apply);
    assert!(e.why.contains("damaged"), "{}", e.why);
    assert!(e.what_to_do.contains("Nothing you typed"), "{}", e.what_to_do);
    assert!(s.quarantine_apply(e.id).is_err());
}
