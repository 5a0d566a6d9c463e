//! Merge semantics of the lead and activity documents, through the public store API: two
//! replicas edit offline, exchange changes, and must agree.

use fieldsales_core::*;
use testkit::*;

fn shared_lead(a: &TestStore, b: &TestStore, draft: LeadDraft) -> String {
    let l = a.create_lead(draft).unwrap();
    send(a, b);
    l.id
}

#[test]
fn concurrent_edits_of_different_fields_both_survive() {
    let (a, b) = (store("rep-a"), store("rep-b"));
    let id =
        shared_lead(&a, &b, LeadDraft { name: Some("Kim Min-ji".into()), ..Default::default() });
    a.update_lead(&id, LeadPatch { company: Some("Acme".into()), ..Default::default() }).unwrap();
    b.update_lead(
        &id,
        LeadPatch {
            title: Some("CTO".into()),
            phones: Some(vec!["010-1234-5678".into()]),
            ..Default::default()
        },
    )
    .unwrap();
    exchange(&a, &b);
    for s in [&a, &b] {
        let l = s.lead(&id).unwrap();
        assert_eq!(l.company.as_deref(), Some("Acme"));
        assert_eq!(l.title.as_deref(), Some("CTO"));
        assert_eq!(l.phones, vec!["+821012345678"]);
        assert!(l.conflicts().is_empty(), "{:?}", l.conflicts());
    }
}

#[test]
fn concurrent_edits_of_one_field_pick_the_same_winner_and_keep_the_loser_visible() {
    let (a, b) = (store("rep-a"), store("rep-b"));
    let id = shared_lead(&a, &b, lead("Lee"));
    a.update_lead(&id, LeadPatch { company: Some("Acme Korea".into()), ..Default::default() })
        .unwrap();
    b.update_lead(&id, LeadPatch { company: Some("ACME Ltd".into()), ..Default::default() })
        .unwrap();
    exchange(&a, &b);
    let (la, lb) = (a.lead(&id).unwrap(), b.lead(&id).unwrap());
    assert_eq!(la.company, lb.company, "replicas disagree");
    let c = la.conflicts().iter().find(|c| c.field == "company").expect("conflict on company");
    assert_eq!(c.values.len(), 2);
    assert_eq!(Some(&c.values[0]), la.company.as_ref(), "the shown value comes first");
    let mut both = c.values.clone();
    both.sort();
    assert_eq!(both, vec!["ACME Ltd", "Acme Korea"]);
    assert_eq!(la.conflicts(), lb.conflicts());
    // The list shows a conflict marker too.
    assert!(a.list_leads(&LeadQuery::default()).unwrap().items[0].has_conflicts);

    // The rep settles it by writing the value they want — even the one already shown.
    let shown = la.company.clone().unwrap();
    a.update_lead(&id, LeadPatch { company: Some(shown.clone()), ..Default::default() }).unwrap();
    exchange(&a, &b);
    for s in [&a, &b] {
        let l = s.lead(&id).unwrap();
        assert!(l.conflicts().is_empty());
        assert_eq!(l.company.as_deref(), Some(shown.as_str()));
        assert!(!s.list_leads(&LeadQuery::default()).unwrap().items[0].has_conflicts);
    }
}

#[test]
fn deal_values_never_mix_one_devices_amount_with_anothers_currency() {
    let (a, b) = (store("rep-a"), store("rep-b"));
    let id = shared_lead(&a, &b, lead("Park"));
    a.update_lead(
        &id,
        LeadPatch {
            deal_value: Some(Money { amount_minor: 10_000, currency: "USD".into() }),
            ..Default::default()
        },
    )
    .unwrap();
    b.update_lead(
        &id,
        LeadPatch {
            deal_value: Some(Money { amount_minor: 5_000_000, currency: "KRW".into() }),
            ..Default::default()
        },
    )
    .unwrap();
    exchange(&a, &b);
    let v = a.lead(&id).unwrap().deal_value.unwrap();
    assert!(
        v == Money { amount_minor: 10_000, currency: "USD".into() }
            || v == Money { amount_minor: 5_000_000, currency: "KRW".into() },
        "{v:?}"
    );
    assert_eq!(Some(v), b.lead(&id).unwrap().deal_value);
    assert!(a.lead(&id).unwrap().conflicts().iter().any(|c| c.field == "deal"));
}

#[test]
fn concurrent_note_edits_merge_character_by_character() {
    let (a, b) = (store("rep-a"), store("rep-b"));
    let id = shared_lead(
        &a,
        &b,
        LeadDraft {
            name: Some("Choi".into()),
            notes: Some("Met at booth.".into()),
            ..Default::default()
        },
    );
    a.update_lead(&id, LeadPatch { notes: Some("Met at booth 12.".into()), ..Default::default() })
        .unwrap();
    b.update_lead(
        &id,
        LeadPatch { notes: Some("Met at booth. Wants a demo 🎉".into()), ..Default::default() },
    )
    .unwrap();
    exchange(&a, &b);
    for s in [&a, &b] {
        assert_eq!(s.lead(&id).unwrap().notes, "Met at booth 12. Wants a demo 🎉");
    }
    assert!(
        a.search_leads("demo", 10).unwrap().iter().any(|l| l.id == id),
        "notes are searchable after a merge"
    );
}

#[test]
fn tags_merge_as_a_set_with_add_winning_over_a_concurrent_remove() {
    let (a, b) = (store("rep-a"), store("rep-b"));
    let id = shared_lead(
        &a,
        &b,
        LeadDraft {
            name: Some("Jung".into()),
            tags: vec!["expo".into(), "vip".into()],
            ..Default::default()
        },
    );
    a.update_lead(
        &id,
        LeadPatch {
            add_tags: vec!["hardware".into()],
            remove_tags: vec!["vip".into()],
            ..Default::default()
        },
    )
    .unwrap();
    b.update_lead(
        &id,
        LeadPatch { add_tags: vec!["budget-q1".into(), "hardware".into()], ..Default::default() },
    )
    .unwrap();
    exchange(&a, &b);
    for s in [&a, &b] {
        assert_eq!(s.lead(&id).unwrap().tags, vec!["budget-q1", "expo", "hardware"]);
        let tagged = s
            .list_leads(&LeadQuery { tag: Some("budget-q1".into()), ..Default::default() })
            .unwrap();
        assert_eq!(tagged.items.len(), 1);
        assert!(
            s.list_leads(&LeadQuery { tag: Some("vip".into()), ..Default::default() })
                .unwrap()
                .items
                .is_empty()
        );
    }
    // Re-adding a tag that a concurrent remove took away: the add survives.
    a.update_lead(&id, LeadPatch { remove_tags: vec!["expo".into()], ..Default::default() })
        .unwrap();
    b.update_lead(
        &id,
        LeadPatch {
            remove_tags: vec!["expo".into()],
            add_tags: vec!["expo".into()],
            ..Default::default()
        },
    )
    .unwrap();
    exchange(&a, &b);
    assert_eq!(a.lead(&id).unwrap().tags, b.lead(&id).unwrap().tags);
}

#[test]
fn stage_histories_from_two_devices_interleave() {
    let (a, b) = (store("rep-a"), store("manager-b"));
    let id = shared_lead(&a, &b, lead("Han"));
    a.update_lead(&id, LeadPatch { stage: Some(Stage::Contacted), ..Default::default() }).unwrap();
    b.update_lead(&id, LeadPatch { stage: Some(Stage::Qualified), ..Default::default() }).unwrap();
    a.update_lead(&id, LeadPatch { stage: Some(Stage::Proposal), ..Default::default() }).unwrap();
    exchange(&a, &b);
    let (la, lb) = (a.lead(&id).unwrap(), b.lead(&id).unwrap());
    assert_eq!(la.stage_history, lb.stage_history);
    let stages: Vec<Stage> = la.stage_history.iter().map(|h| h.stage).collect();
    assert_eq!(stages.len(), 4);
    assert_eq!(stages[0], Stage::New);
    for s in [Stage::Contacted, Stage::Qualified, Stage::Proposal] {
        assert!(stages.contains(&s), "{s} missing from {stages:?}");
    }
    let by: Vec<&str> = la.stage_history.iter().map(|h| h.by.as_str()).collect();
    assert!(by.contains(&"manager-b") && by.contains(&"rep-a"));
    assert_eq!(la.stage, lb.stage);
    assert!(a.verify().unwrap().projection_mismatches.is_empty());
}

#[test]
fn changes_arriving_before_their_dependencies_wait_and_are_never_dropped() {
    let (a, b) = (store("rep-a"), store("rep-b"));
    let l = a.create_lead(lead("Yoon")).unwrap();
    a.update_lead(&l.id, LeadPatch { company: Some("Samsung".into()), ..Default::default() })
        .unwrap();
    a.update_lead(&l.id, LeadPatch { stage: Some(Stage::Contacted), ..Default::default() })
        .unwrap();
    let mut out = a.outbox(0, 100).unwrap();
    out.reverse(); // newest first: every change before the ones it depends on
    for e in &out {
        let r = b
            .apply_remote(vec![PullApply::Changes {
                doc_id: e.doc_id.clone(),
                kind: e.kind,
                changes: vec![e.change.clone()],
            }])
            .unwrap();
        if e.seq != 1 {
            assert!(r.changed.leads.is_empty());
        }
    }
    assert_eq!(b.pending_len().unwrap(), 0);
    let lb = b.lead(&l.id).unwrap();
    assert_eq!(lb.company.as_deref(), Some("Samsung"));
    assert_eq!(lb.stage, Stage::Contacted);
    assert_eq!(b.document_heads(&l.id).unwrap(), a.document_heads(&l.id).unwrap());

    // Only the last change: held back, no projection yet, and kept across a reopen.
    let c = store("rep-c");
    let last = out[0].clone();
    let r = c
        .apply_remote(vec![PullApply::Changes {
            doc_id: last.doc_id.clone(),
            kind: last.kind,
            changes: vec![last.change],
        }])
        .unwrap();
    assert_eq!(r.pending_changes, 1);
    assert_eq!(c.pending_len().unwrap(), 1);
    assert!(c.list_leads(&LeadQuery::default()).unwrap().items.is_empty());
    send(&a, &c);
    assert_eq!(c.pending_len().unwrap(), 0);
    assert_eq!(c.lead(&l.id).unwrap().stage, Stage::Contacted);
}

#[test]
fn a_snapshot_brings_a_whole_document_and_merges_with_local_edits() {
    let (a, b) = (store("rep-a"), store("rep-b"));
    let id = shared_lead(&a, &b, lead("Seo"));
    a.update_lead(&id, LeadPatch { company: Some("LG".into()), ..Default::default() }).unwrap();
    b.update_lead(&id, LeadPatch { title: Some("Buyer".into()), ..Default::default() }).unwrap();
    let snap = a.document_bytes(&id).unwrap();
    let r = b
        .apply_remote(vec![PullApply::Snapshot {
            doc_id: id.clone(),
            kind: DocKind::Lead,
            data: snap,
        }])
        .unwrap();
    assert_eq!(r.changed.leads, vec![id.clone()]);
    let l = b.lead(&id).unwrap();
    assert_eq!((l.company.as_deref(), l.title.as_deref()), (Some("LG"), Some("Buyer")));
}

/// A bootstrap page: many snapshots of documents new to the store (read ahead, in parallel,
/// stored as received), mixed with a snapshot of a document the store has and with one of the
/// wrong kind. The result must be what applying them one by one gives.
#[test]
fn a_page_of_snapshots_reads_ahead_in_parallel_and_lands_as_one_by_one_would() {
    let (a, b, c) = (store("rep-a"), store("rep-b"), store("rep-c"));
    let mut ids = Vec::new();
    for i in 0..40 {
        let l = a
            .create_lead(LeadDraft {
                name: Some(format!("김 {i}")),
                tags: vec!["expo".into()],
                ..Default::default()
            })
            .unwrap();
        a.add_activity(ActivityDraft::new(&l.id, ActivityKind::Call, format!("call {i}"))).unwrap();
        ids.push(l.id);
    }
    let page: Vec<PullApply> = a
        .document_ids()
        .unwrap()
        .into_iter()
        .map(|(id, kind)| PullApply::Snapshot {
            data: a.document_bytes(&id).unwrap(),
            doc_id: id,
            kind,
        })
        .collect();
    assert_eq!(page.len(), 80);
    // b already holds lead 0 and edits it; the page must not lose that edit.
    b.apply_remote(page.iter().filter(|d| d.doc_id() == ids[0]).cloned().collect()).unwrap();
    b.update_lead(&ids[0], LeadPatch { title: Some("Buyer".into()), ..Default::default() })
        .unwrap();
    let r = b.apply_remote(page.clone()).unwrap();
    assert_eq!(
        (r.changed.leads.len(), r.changed.activities.len()),
        (39, 40),
        "all but lead 0 are new on b"
    );
    let r = c.apply_remote(page.clone()).unwrap();
    assert_eq!((r.changed.leads.len(), r.changed.activities.len()), (40, 40));
    for one in &page {
        let d = store("rep-d");
        d.apply_remote(vec![one.clone()]).unwrap();
        assert_eq!(
            c.document_bytes(one.doc_id()).unwrap(),
            a.document_bytes(one.doc_id()).unwrap(),
            "stored as received"
        );
    }
    assert_eq!(
        c.list_leads(&LeadQuery { tag: Some("expo".into()), limit: 100, ..Default::default() })
            .unwrap()
            .items
            .len(),
        40
    );
    assert_eq!(c.search_leads("김", 100).unwrap().len(), 40);
    assert_eq!(c.activities_for_lead(&ids[7]).unwrap().len(), 1);
    let l0 = b.lead(&ids[0]).unwrap();
    assert_eq!((l0.name.as_deref(), l0.title.as_deref()), (Some("김 0"), Some("Buyer")));
    for s in [&b, &c] {
        let v = s.verify().unwrap();
        assert!(v.is_ok(), "{v:?}");
    }
    // A snapshot of the wrong kind among them still fails the whole page, writing nothing.
    let mut bad = page.clone();
    if let PullApply::Snapshot { kind, .. } = &mut bad[5] {
        *kind = if *kind == DocKind::Lead { DocKind::Activity } else { DocKind::Lead };
    }
    let e = store("rep-e");
    assert!(e.apply_remote(bad).is_err());
    assert!(e.document_ids().unwrap().is_empty(), "a rejected page wrote something");
}

/// A bootstrap page goes without a savepoint per new document, so everything around that path
/// must still land as before: a damaged snapshot in the middle of the page is set aside and the
/// rest stored, projected and searchable; a record the store already holds (edited here since)
/// is merged, not overwritten; a document twice in one page, or its snapshot followed by its
/// changes, merges the second time; observers hear of every record that changed.
#[test]
fn a_bootstrap_page_sets_aside_the_damaged_and_merges_what_the_store_holds() {
    let (server, device) = (store("rep-a"), store("rep-b"));
    let mut leads = Vec::new();
    let mut calls = Vec::new();
    for i in 0..30 {
        let l = server
            .create_lead(LeadDraft {
                company: Some(format!("Hanbit {i}")),
                tags: vec!["expo".into()],
                ..lead(&format!("Jung {i}"))
            })
            .unwrap();
        let call = ActivityDraft::new(&l.id, ActivityKind::Call, format!("call {i}"));
        calls.push(server.add_activity(call).unwrap().id);
        leads.push(l.id);
    }
    let snap = |id: &str, kind: DocKind| PullApply::Snapshot {
        doc_id: id.to_string(),
        kind,
        data: server.document_bytes(id).unwrap(),
    };
    // The device holds lead 3 already and edits it before the page comes.
    device.apply_remote(vec![snap(&leads[3], DocKind::Lead)]).unwrap();
    device
        .update_lead(&leads[3], LeadPatch { title: Some("Buyer".into()), ..Default::default() })
        .unwrap();
    server
        .update_lead(
            &leads[3],
            LeadPatch { company: Some("Hanbit Tech".into()), ..Default::default() },
        )
        .unwrap();
    // Lead 5 changes on the server after its snapshot is taken: the change follows in the page.
    let lead5 = snap(&leads[5], DocKind::Lead);
    let before = server.outbox(0, 1000).unwrap().len();
    server
        .update_lead(&leads[5], LeadPatch { title: Some("CEO".into()), ..Default::default() })
        .unwrap();
    let change5 = server.outbox(before as i64, 1000).unwrap();
    let change5 = change5.into_iter().find(|e| e.doc_id == leads[5]).unwrap();

    let (truncated, impostor) = (new_id(), new_id());
    let mut damaged = server.document_bytes(&leads[7]).unwrap();
    damaged.truncate(damaged.len() / 2);
    let mut page = Vec::new();
    for (i, id) in leads.iter().enumerate() {
        page.push(if i == 5 { lead5.clone() } else { snap(id, DocKind::Lead) });
        page.push(snap(&calls[i], DocKind::Activity));
        if i == 10 {
            page.push(PullApply::Snapshot {
                doc_id: truncated.clone(),
                kind: DocKind::Lead,
                data: damaged.clone(),
            });
            page.push(PullApply::Snapshot {
                doc_id: impostor.clone(),
                kind: DocKind::Lead,
                data: server.document_bytes(&leads[8]).unwrap(),
            });
            page.push(snap(&leads[9], DocKind::Lead));
            page.push(PullApply::Changes {
                doc_id: leads[5].clone(),
                kind: DocKind::Lead,
                changes: vec![change5.change.clone()],
            });
        }
    }
    let heard = std::sync::Arc::new(Heard::default());
    device.add_observer(heard.clone());
    let r = device.apply_pull(page, Some("c1")).unwrap();

    let mut set_aside = r.set_aside.clone();
    set_aside.sort();
    let mut want = vec![truncated.clone(), impostor.clone()];
    want.sort();
    assert_eq!(set_aside, want);
    let codes: Vec<(String, String)> =
        device.quarantine().unwrap().into_iter().map(|e| (e.doc_id, e.code)).collect();
    assert!(codes.contains(&(truncated.clone(), "unloadable".into())), "{codes:?}");
    assert!(codes.contains(&(impostor.clone(), "id_mismatch".into())), "{codes:?}");
    for id in [&truncated, &impostor] {
        assert!(device.lead(id).is_err(), "{id} was stored");
    }
    // Every lead and call stored once, with its rows.
    assert_eq!(device.document_ids().unwrap().len(), 60);
    let tagged = LeadQuery { tag: Some("expo".into()), limit: 100, ..Default::default() };
    assert_eq!(device.list_leads(&tagged).unwrap().items.len(), 30);
    assert_eq!(device.search_leads("Hanbit", 100).unwrap().len(), 30);
    assert_eq!(device.activities_for_lead(&leads[20]).unwrap().len(), 1);
    let l3 = device.lead(&leads[3]).unwrap();
    assert_eq!((l3.company.as_deref(), l3.title.as_deref()), (Some("Hanbit Tech"), Some("Buyer")));
    assert_eq!(device.lead(&leads[5]).unwrap().title.as_deref(), Some("CEO"));
    assert_eq!(
        device.document_heads(&leads[5]).unwrap(),
        server.document_heads(&leads[5]).unwrap()
    );
    assert_eq!(device.meta(store::SYNC_CURSOR).unwrap().as_deref(), Some("c1"));
    let v = device.verify().unwrap();
    assert!(v.is_ok(), "{v:?}");
    // One notice for the page, naming each changed record.
    let heard = heard.0.lock().unwrap();
    assert_eq!(heard.len(), 1);
    let mut got = heard[0].leads.clone();
    got.sort();
    got.dedup();
    let mut all = leads.clone();
    all.sort();
    assert_eq!(got, all);
    assert_eq!(heard[0].activities.len(), 30);
}

#[test]
fn malformed_remote_input_is_rejected_whole_and_writes_nothing() {
    let (a, b) = (store("rep-a"), store("rep-b"));
    let good = a.create_lead(lead("Good")).unwrap();
    let e = a.outbox(0, 10).unwrap().remove(0);
    let good_item = PullApply::Changes {
        doc_id: e.doc_id.clone(),
        kind: e.kind,
        changes: vec![e.change.clone()],
    };
    let mut truncated = e.change.clone();
    truncated.truncate(truncated.len() / 2);
    for bad in [
        PullApply::Changes {
            doc_id: new_id(),
            kind: DocKind::Lead,
            changes: vec![b"garbage".to_vec()],
        },
        PullApply::Changes { doc_id: new_id(), kind: DocKind::Lead, changes: vec![truncated] },
        PullApply::Snapshot {
            doc_id: new_id(),
            kind: DocKind::Lead,
            data: vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3],
        },
        PullApply::Changes { doc_id: "not-an-id".into(), kind: DocKind::Lead, changes: vec![] },
        // A lead's change delivered as an activity.
        PullApply::Changes {
            doc_id: good.id.clone(),
            kind: DocKind::Activity,
            changes: vec![e.change.clone()],
        },
    ] {
        let err = b.apply_remote(vec![good_item.clone(), bad]).unwrap_err();
        assert!(matches!(err, Error::BadChange { .. } | Error::Validation(_)), "{err:?}");
        assert!(b.document_ids().unwrap().is_empty(), "a rejected batch wrote something");
    }
    b.apply_remote(vec![good_item]).unwrap();
    assert_eq!(b.lead(&good.id).unwrap().name.as_deref(), Some("Good"));
}

#[test]
fn activities_merge_and_follow_their_lead() {
    let (a, b) = (store("rep-a"), store("rep-b"));
    let id = shared_lead(&a, &b, lead("Kang"));
    let call = a
        .add_activity(ActivityDraft {
            duration_s: Some(300),
            ..ActivityDraft::new(&id, ActivityKind::Call, "Intro call")
        })
        .unwrap();
    send(&a, &b);
    a.update_activity(
        &call.id,
        ActivityPatch { outcome: Some("interested".into()), ..Default::default() },
    )
    .unwrap();
    b.update_activity(
        &call.id,
        ActivityPatch { notes: Some("Asked for pricing".into()), ..Default::default() },
    )
    .unwrap();
    exchange(&a, &b);
    for s in [&a, &b] {
        let d = s.lead_detail(&id).unwrap();
        assert_eq!(d.activities.len(), 1);
        assert_eq!(d.activities[0].outcome.as_deref(), Some("interested"));
        assert_eq!(d.activities[0].notes, "Asked for pricing");
        assert!(s.verify().unwrap().projection_mismatches.is_empty());
    }
}
