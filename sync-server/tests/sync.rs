//! End to end over a real server on 127.0.0.1: enrollment, push, pull, bootstrap, visibility,
//! permissions, reassignment, quarantine, revocation.

mod common;
use common::*;
use fieldsales_core::sync::SyncError;
use fieldsales_core::*;
use fieldsales_server::backend::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_captured_offline_reaches_the_manager_and_the_reps_other_device() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "seoul");
    let phone = s.device(&ws, "kim", Role::Rep, Some("seoul")).await;
    let tablet = s.device(&ws, "kim", Role::Rep, Some("seoul")).await;
    let boss = s.device(&ws, "park", Role::Manager, Some("seoul")).await;
    assert_eq!(phone.user_id(), "kim");

    let lead = phone
        .create_lead(LeadDraft {
            name: Some("김민지".into()),
            company: Some("Acme".into()),
            ..Default::default()
        })
        .unwrap();
    phone.add_activity(ActivityDraft::new(&lead.id, ActivityKind::Call, "Intro")).unwrap();
    let sum = phone.sync().await.unwrap();
    assert_eq!((sum.sent, sum.rejected), (2, 0));
    assert_eq!(phone.outbox_len().unwrap(), 0, "acknowledged changes leave the outbox");

    for d in [&tablet, &boss] {
        let sum = d.sync().await.unwrap();
        assert_eq!(sum.received, 2);
        let detail = d.lead_detail(&lead.id).unwrap();
        assert_eq!(detail.lead, phone.lead(&lead.id).unwrap());
        assert_eq!(detail.activities.len(), 1);
        assert_eq!(d.document_heads(&lead.id).unwrap(), phone.document_heads(&lead.id).unwrap());
    }
    // Nothing new: a second sync moves nothing.
    let again = tablet.sync().await.unwrap();
    assert_eq!((again.sent, again.received), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_on_two_devices_merge_through_the_server() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "t");
    let rep = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let boss = s.device(&ws, "park", Role::Manager, Some("t")).await;
    let lead = rep.owned("Lee", "kim");
    rep.sync().await.unwrap();
    boss.sync().await.unwrap();
    rep.update_lead(
        &lead.id,
        LeadPatch {
            company: Some("Acme".into()),
            notes: Some("from rep".into()),
            ..Default::default()
        },
    )
    .unwrap();
    boss.update_lead(
        &lead.id,
        LeadPatch {
            company: Some("ACME Ltd".into()),
            stage: Some(Stage::Qualified),
            ..Default::default()
        },
    )
    .unwrap();
    rep.sync().await.unwrap();
    let sum = boss.sync().await.unwrap();
    assert!(sum.conflicts >= 1);
    rep.sync().await.unwrap();
    let (a, b) = (rep.lead(&lead.id).unwrap(), boss.lead(&lead.id).unwrap());
    assert_eq!(a, b);
    assert_eq!(a.stage, Stage::Qualified);
    assert_eq!(a.notes, "from rep");
    assert!(a.conflicts().iter().any(|c| c.field == "company"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reps_see_only_their_own_leads_and_nothing_crosses_workspaces() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    let other_ws = s.workspace("globex");
    s.team(&ws, "t");
    s.team(&other_ws, "t");
    let kim = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let lee = s.device(&ws, "lee", Role::Rep, Some("t")).await;
    let admin = s.device(&ws, "root", Role::Admin, None).await;
    let outsider = s.device(&other_ws, "kim", Role::Admin, None).await;
    let k = kim.owned("Kim's lead", "kim");
    let l = lee.owned("Lee's lead", "lee");
    kim.sync().await.unwrap();
    lee.sync().await.unwrap();
    kim.sync().await.unwrap();
    admin.sync().await.unwrap();
    outsider.sync().await.unwrap();
    assert_eq!(kim.lead_ids(), vec![k.id.clone()]);
    assert_eq!(lee.lead_ids(), vec![l.id.clone()]);
    let mut both = vec![k.id.clone(), l.id.clone()];
    both.sort();
    assert_eq!(admin.lead_ids(), both);
    assert!(outsider.lead_ids().is_empty(), "an admin of another workspace sees nothing");

    // A rep writing into a teammate's lead (id learned out of band) is refused and quarantined.
    let lead_bytes = lee.document_bytes(&l.id).unwrap();
    kim.apply_remote(vec![PullApply::Snapshot {
        doc_id: l.id.clone(),
        kind: DocKind::Lead,
        data: lead_bytes,
    }])
    .unwrap();
    kim.update_lead(&l.id, LeadPatch { notes: Some("mine now".into()), ..Default::default() })
        .unwrap();
    let sum = kim.sync().await.unwrap();
    assert_eq!(sum.rejected, 1);
    // Someone else's record answers as one the server does not have (issue 11): kim's edit
    // builds on a change she may not see.
    assert_eq!(kim.quarantine().unwrap()[0].code, "missing_dependencies");
    assert!(kim.lead(&l.id).is_err(), "reset to what the server lets kim see: nothing");
    lee.sync().await.unwrap();
    assert_eq!(lee.lead(&l.id).unwrap().notes, "");

    // Another workspace's admin pushing into this workspace's lead id creates nothing there.
    let stolen = kim.document_bytes(&k.id).unwrap();
    outsider
        .apply_remote(vec![PullApply::Snapshot {
            doc_id: k.id.clone(),
            kind: DocKind::Lead,
            data: stolen,
        }])
        .unwrap();
    outsider
        .update_lead(&k.id, LeadPatch { notes: Some("x".into()), ..Default::default() })
        .unwrap();
    let sum = outsider.sync().await.unwrap();
    assert_eq!(sum.rejected, 1, "its change builds on history its workspace never had");
    kim.sync().await.unwrap();
    assert_eq!(kim.lead(&k.id).unwrap().notes, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reps_owner_change_is_rejected_and_their_work_is_kept_in_quarantine() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "t");
    let kim = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    s.device(&ws, "lee", Role::Rep, Some("t")).await;
    let lead = kim.owned("Handover", "kim");
    kim.sync().await.unwrap();
    kim.update_lead(
        &lead.id,
        LeadPatch {
            owner: Some("lee".into()),
            notes: Some("please take over".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let other = kim.owned("Unrelated", "kim");
    let sum = kim.sync().await.unwrap();
    assert_eq!(sum.rejected, 1);
    assert_eq!(sum.sent, 1, "the other lead still went through");
    let q = kim.quarantine().unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].doc_id, lead.id);
    assert_eq!(q[0].code, "forbidden");
    assert!(q[0].reason.contains("only managers"), "{}", q[0].reason);
    let back = kim.lead(&lead.id).unwrap();
    assert_eq!(back.owner, "kim", "reset to the server's version");
    assert_eq!(back.notes, "");
    assert!(kim.lead(&other.id).is_ok());
    assert!(kim.verify().unwrap().is_ok());
    // Creating a lead for someone else is refused too.
    kim.owned("For Lee", "lee");
    assert_eq!(kim.sync().await.unwrap().rejected, 1);
    assert!(kim.quarantine().unwrap()[1].reason.contains("reps can only create leads they own"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_reassigns_a_lead_the_new_rep_gets_it_whole_and_the_old_one_drops_it() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "t");
    let a = s.device(&ws, "rep-a", Role::Rep, Some("t")).await;
    let b = s.device(&ws, "rep-b", Role::Rep, Some("t")).await;
    let boss = s.device(&ws, "boss", Role::Manager, Some("t")).await;
    let lead = a.owned("Moving lead", "rep-a");
    a.add_activity(ActivityDraft::new(&lead.id, ActivityKind::Visit, "Site visit")).unwrap();
    a.update_lead(&lead.id, LeadPatch { stage: Some(Stage::Contacted), ..Default::default() })
        .unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    boss.sync().await.unwrap();
    assert!(b.lead(&lead.id).is_err());

    boss.update_lead(&lead.id, LeadPatch { owner: Some("rep-b".into()), ..Default::default() })
        .unwrap();
    // Meanwhile rep A, offline, keeps editing the lead.
    a.update_lead(
        &lead.id,
        LeadPatch { notes: Some("A's unsent notes".into()), ..Default::default() },
    )
    .unwrap();
    assert_eq!(boss.sync().await.unwrap().rejected, 0);

    let sum = b.sync().await.unwrap();
    assert!(sum.received >= 2);
    let d = b.lead_detail(&lead.id).unwrap();
    assert_eq!(d.lead.owner, "rep-b");
    assert_eq!(d.lead.stage, Stage::Contacted);
    assert_eq!(d.activities.len(), 1);

    let sum = a.sync().await.unwrap();
    assert!(a.lead(&lead.id).is_err(), "A dropped the lead");
    assert!(a.activities_for_lead(&lead.id).unwrap().is_empty());
    assert_eq!((sum.sent, sum.rejected, sum.dropped), (1, 0, 2), "the lead and its activity go");
    // A's edit was written before her phone knew of the change of hands: it reaches B, the
    // lead's new owner, instead of staying in A's quarantine (issue 14).
    assert!(a.quarantine().unwrap().is_empty(), "nothing stranded");
    b.sync().await.unwrap();
    assert_eq!(b.lead(&lead.id).unwrap().notes, "A's unsent notes");
    assert!(a.verify().unwrap().is_ok());
    assert!(b.verify().unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_gets_401_and_the_users_other_device_keeps_working() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    let lost = s.device(&ws, "kim", Role::Rep, None).await;
    let kept = s.device(&ws, "kim", Role::Rep, None).await;
    lost.owned("Before", "kim");
    lost.sync().await.unwrap();
    s.admin.revoke_device(&lost.device_id).unwrap();
    lost.owned("After", "kim");
    assert!(matches!(lost.sync().await, Err(SyncError::Unauthorized)));
    assert_eq!(lost.outbox_len().unwrap(), 1, "the unsent lead stays on the phone");
    kept.sync().await.unwrap();
    assert_eq!(kept.lead_ids().len(), 1);
    assert_eq!(s.admin.list_devices(&ws).unwrap().iter().filter(|d| d.revoked).count(), 1);
    // An enrollment code works once.
    let code = s.admin.enrollment_code(&ws, "kim").unwrap();
    Device::enroll(&s.url, &code).await.unwrap();
    assert!(matches!(
        Device::enroll(&s.url, &code).await,
        Err(SyncError::Server { status: 403, .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_device_bootstraps_from_snapshots_across_pages() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    let a = s.device(&ws, "kim", Role::Rep, None).await;
    let drafts: Vec<LeadDraft> = (0..2_500)
        .map(|i| LeadDraft { name: Some(format!("Lead {i}")), ..Default::default() })
        .collect();
    a.create_leads(drafts).unwrap();
    for l in a.list_leads(&LeadQuery { limit: 20, ..Default::default() }).unwrap().items {
        a.update_lead(&l.id, LeadPatch { stage: Some(Stage::Contacted), ..Default::default() })
            .unwrap();
    }
    let sum = a.sync().await.unwrap();
    assert_eq!(sum.sent, 2_520);
    let fresh = s.device(&ws, "kim", Role::Rep, None).await;
    let sum = fresh.sync().await.unwrap();
    assert_eq!(sum.received, 2_500);
    assert_eq!(fresh.lead_ids(), a.lead_ids());
    assert_eq!(
        fresh
            .list_leads(&LeadQuery {
                stages: vec![Stage::Contacted],
                limit: 500,
                ..Default::default()
            })
            .unwrap()
            .items
            .len(),
        20
    );
    assert!(fresh.verify().unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_merges_two_reps_duplicates_and_everyone_sees_the_result() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "t");
    let a = s.device(&ws, "rep-a", Role::Rep, Some("t")).await;
    let b = s.device(&ws, "rep-b", Role::Rep, Some("t")).await;
    let boss = s.device(&ws, "boss", Role::Manager, Some("t")).await;
    let la = a
        .create_lead(LeadDraft {
            name: Some("Visitor".into()),
            emails: vec!["v@x.com".into()],
            ..Default::default()
        })
        .unwrap();
    let lb = b
        .create_lead(LeadDraft {
            name: Some("Visitor".into()),
            emails: vec!["v@x.com".into()],
            notes: Some("from B".into()),
            ..Default::default()
        })
        .unwrap();
    let act = b.add_activity(ActivityDraft::new(&lb.id, ActivityKind::Call, "B's call")).unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    boss.sync().await.unwrap();
    assert_eq!(boss.duplicates().unwrap().len(), 1);
    boss.merge_leads(&la.id, &lb.id).unwrap();
    assert_eq!(
        boss.sync().await.unwrap().rejected,
        0,
        "a manager may move activities between team leads"
    );
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    // A keeps the merged lead and now sees B's call on it; B's lead is folded (soft-deleted).
    let merged = a.lead_detail(&la.id).unwrap();
    assert_eq!(merged.lead.notes, "from B");
    assert_eq!(
        merged.activities.iter().map(|x| x.id.clone()).collect::<Vec<_>>(),
        vec![act.id.clone()]
    );
    assert!(b.lead(&lb.id).unwrap().deleted);
    assert!(b.activity(&act.id).is_err(), "the call moved to a lead B cannot see");
    assert!(a.verify().unwrap().is_ok() && b.verify().unwrap().is_ok());
}

/// The server filters the feed by visibility while it reads it: a rep's page holds only changes
/// they may see, so a busy workspace does not turn one change into many near-empty pages, and
/// a feed read to its end moves the cursor past the rows the rep may not see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reps_pull_pages_hold_only_what_they_may_see() {
    use fieldsales_core::sync::protocol::{
        PullItem, PullRequest, PullResponse, from_cbor, to_cbor,
    };
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "t");
    let kim = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let kim_tablet = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let lee = s.device(&ws, "lee", Role::Rep, Some("t")).await;
    kim.sync().await.unwrap();
    kim_tablet.sync().await.unwrap();
    let start =
        kim_tablet.meta(store::SYNC_CURSOR).unwrap().expect("a cursor after the first sync");
    for i in 0..30 {
        lee.owned(&format!("lee {i}"), "lee");
    }
    lee.sync().await.unwrap();
    let mine: Vec<String> = (0..3).map(|i| kim.owned(&format!("kim {i}"), "kim").id).collect();
    kim.sync().await.unwrap();

    let pull = |cursor: String, limit: u32| {
        let (url, token) = (s.url.clone(), kim_tablet.token());
        async move {
            let body = to_cbor(&PullRequest { cursor, limit });
            let resp = raw_http()
                .post(format!("{url}/v1/pull"))
                .header("content-type", "application/cbor")
                .header("authorization", format!("Bearer {token}"))
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            from_cbor::<PullResponse>(&resp.bytes().await.unwrap()).unwrap()
        }
    };
    // 33 changes came after kim's tablet's cursor; 3 are kim's. Two pages of two hold them all.
    let first = pull(start.clone(), 2).await;
    let ids = |r: &PullResponse| -> Vec<String> {
        r.items
            .iter()
            .map(|i| match i {
                PullItem::Changes { doc_id, .. }
                | PullItem::Snapshot { doc_id, .. }
                | PullItem::Drop { doc_id } => doc_id.clone(),
            })
            .collect()
    };
    assert_eq!(ids(&first), mine[..2].to_vec(), "lee's 30 changes are not in kim's page");
    assert!(first.more);
    let second = pull(first.cursor.clone(), 2).await;
    assert_eq!(ids(&second), mine[2..].to_vec());
    assert!(!second.more, "the feed is read to its end");
    let third = pull(second.cursor.clone(), 2).await;
    assert!(third.items.is_empty() && !third.more);
    assert_eq!(third.cursor, second.cursor, "the cursor already stood past every row");
    // kim's phone wrote those three: its own pull leaves them out.
    kim_tablet.sync().await.unwrap();
    let mut expect = mine.clone();
    expect.sort();
    assert_eq!(kim_tablet.lead_ids(), expect);
}

/// A device over its request budget gets 429 with `Retry-After` and a JSON error; its sync
/// waits as asked and completes instead of failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_over_its_rate_limit_waits_and_its_sync_completes() {
    let s = Server::start_rate_limited(3, 2).await;
    let ws = s.workspace("acme");
    let phone = s.device(&ws, "kim", Role::Rep, None).await;
    for i in 0..3 {
        phone.owned(&format!("Lead {i}"), "kim");
    }
    // Spend the burst by hand.
    let http = raw_http();
    let pull = |http: &reqwest::Client| {
        http.post(format!("{}/v1/pull", s.url))
            .bearer_auth(phone.token())
            .header("content-type", fieldsales_core::sync::protocol::CBOR)
            .body(fieldsales_core::sync::protocol::to_cbor(
                &fieldsales_core::sync::protocol::PullRequest { cursor: String::new(), limit: 10 },
            ))
            .send()
    };
    let mut refused = None;
    for _ in 0..10 {
        let r = pull(&http).await.unwrap();
        if r.status() == 429 {
            refused = Some(r);
            break;
        }
    }
    let refused = refused.expect("the burst of 3 runs out within 10 requests");
    assert_eq!(refused.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");

    let summary = phone.sync().await.expect("the sync waits for the budget instead of failing");
    assert_eq!(summary.sent, 3);
    assert_eq!(phone.outbox_len().unwrap(), 0);
}

/// `sync()` reports each phase from zero up to its total, never backwards, and ends with
/// everything done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_reports_progress_up_to_its_totals() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    let phone = s.device(&ws, "kim", Role::Rep, None).await;
    let tablet = s.device(&ws, "kim", Role::Rep, None).await;
    for i in 0..30 {
        phone.owned(&format!("Lead {i}"), "kim");
    }
    let seen = std::sync::Mutex::new(Vec::new());
    let record = |p: fieldsales_core::sync::SyncProgress| seen.lock().unwrap().push(p);
    let client = fieldsales_core::sync::SyncClient::for_store(&phone.store).unwrap();
    client.sync(&phone.store, &record).await.unwrap();
    let tablet_client = fieldsales_core::sync::SyncClient::for_store(&tablet.store).unwrap();
    let pulled = std::sync::Mutex::new(Vec::new());
    tablet_client.sync(&tablet.store, &|p| pulled.lock().unwrap().push(p)).await.unwrap();

    let seen = seen.into_inner().unwrap();
    let push: Vec<_> =
        seen.iter().filter(|p| p.phase == fieldsales_core::sync::SyncPhase::Push).collect();
    assert_eq!((push[0].done, push[0].total), (0, 30), "{seen:?}");
    let last = push.last().unwrap();
    assert_eq!((last.done, last.total), (30, 30), "{seen:?}");
    let pulled = pulled.into_inner().unwrap();
    let pull: Vec<_> =
        pulled.iter().filter(|p| p.phase == fieldsales_core::sync::SyncPhase::Pull).collect();
    assert!(!pull.is_empty(), "{pulled:?}");
    assert!(pull.windows(2).all(|w| w[0].done <= w[1].done), "{pulled:?}");
    let last = pull.last().unwrap();
    assert!(last.done >= 30 && last.done == last.total, "{pulled:?}");
    assert_eq!(tablet.lead_ids().len(), 30);
}

/// A manager of two teams sees and edits both teams' leads and may move a lead from one team's
/// rep to the other's; a third team stays out of sight. A team given later shows up on the
/// next pull.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_of_two_teams_sees_both_and_moves_a_lead_between_them() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    for t in ["seoul", "busan", "daegu"] {
        s.team(&ws, t);
    }
    let kim = s.device(&ws, "kim", Role::Rep, Some("seoul")).await;
    let lee = s.device(&ws, "lee", Role::Rep, Some("busan")).await;
    let choi = s.device(&ws, "choi", Role::Rep, Some("daegu")).await;
    let boss = s.device(&ws, "park", Role::Manager, Some("seoul")).await;
    let seoul_lead = kim.owned("Seoul lead", "kim");
    let busan_lead = lee.owned("Busan lead", "lee");
    let daegu_lead = choi.owned("Daegu lead", "choi");
    for d in [&kim, &lee, &choi] {
        d.sync().await.unwrap();
    }
    boss.sync().await.unwrap();
    assert_eq!(boss.lead_ids(), vec![seoul_lead.id.clone()], "one team managed so far");

    s.admin.manage_team(&ws, "busan", "park").unwrap();
    boss.sync().await.unwrap();
    let mut expected = vec![seoul_lead.id.clone(), busan_lead.id.clone()];
    expected.sort();
    assert_eq!(boss.lead_ids(), expected, "busan's leads arrive on the next pull; daegu's never");
    assert!(boss.lead(&daegu_lead.id).is_err());

    // From Seoul's rep to Busan's: both teams are the manager's.
    boss.update_lead(&seoul_lead.id, LeadPatch { owner: Some("lee".into()), ..Default::default() })
        .unwrap();
    // To Daegu's rep: not the manager's team, refused and kept in quarantine.
    boss.update_lead(
        &busan_lead.id,
        LeadPatch { owner: Some("choi".into()), ..Default::default() },
    )
    .unwrap();
    let sum = boss.sync().await.unwrap();
    assert_eq!(sum.rejected, 1, "{sum:?}");
    assert_eq!(boss.quarantine().unwrap().len(), 1);
    lee.sync().await.unwrap();
    assert_eq!(lee.lead(&seoul_lead.id).unwrap().owner, "lee");
    assert_eq!(
        lee.lead(&busan_lead.id).unwrap().owner,
        "lee",
        "the refused move left the lead where it was"
    );
    choi.sync().await.unwrap();
    assert!(choi.lead(&busan_lead.id).is_err());
}
