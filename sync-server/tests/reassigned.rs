//! Issue 14, point 2: edits a rep made offline to a lead her manager gave to someone else
//! meanwhile reach the lead's new owner. The server decides on them as the rep's device saw the
//! lead when she wrote them (their dependencies: she owned it, and her device had not yet
//! received the change of hands); a device that has received it can no longer write to it.

mod common;
use automerge::transaction::Transactable;
use common::*;
use fieldsales_core::sync::protocol::PushChange;
use fieldsales_core::*;
use fieldsales_server::backend::Role;

async fn push_raw(
    url: &str,
    token: &str,
    doc_id: &str,
    changes: Vec<Vec<u8>>,
) -> fieldsales_core::sync::protocol::PushResponse {
    let changes = changes
        .into_iter()
        .map(|change| PushChange { doc_id: doc_id.into(), kind: DocKind::Lead, change })
        .collect();
    push_changes(url, token, changes).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_edits_of_a_lead_reassigned_meanwhile_reach_its_new_owner() {
    let server = Server::start().await;
    let ws = server.workspace("acme");
    server.team(&ws, "seoul");
    let park = server.device(&ws, "park", Role::Manager, Some("seoul")).await;
    let kim = server.device(&ws, "kim", Role::Rep, Some("seoul")).await;
    let lee = server.device(&ws, "lee", Role::Rep, Some("seoul")).await;
    let lead = kim
        .create_lead(LeadDraft {
            name: Some("Yuna Jung".into()),
            notes: Some("Met at the booth.".into()),
            ..Default::default()
        })
        .unwrap();
    kim.sync().await.unwrap();
    park.sync().await.unwrap();

    // Kim, offline at a customer's, edits the lead; meanwhile park gives it to lee.
    kim.update_lead(
        &lead.id,
        LeadPatch {
            company: Some("Hanbit Tech".into()),
            potential: Some(Potential::Hot),
            notes: Some("Met at the booth. Wants a quote by Friday.".into()),
            ..Default::default()
        },
    )
    .unwrap();
    park.update_lead(&lead.id, LeadPatch { owner: Some("lee".into()), ..Default::default() })
        .unwrap();
    park.sync().await.unwrap();

    // Kim syncs: her edits are taken, and the lead leaves her device.
    let s = kim.sync().await.unwrap();
    assert_eq!((s.sent, s.rejected, s.dropped), (1, 0, 1), "{s:?}");
    assert_eq!(kim.quarantine_len().unwrap(), 0, "nothing stranded");
    assert!(kim.lead(&lead.id).is_err(), "the lead is lee's now");

    // Lee, its new owner, and park see what kim typed.
    for d in [&lee, &park] {
        d.sync().await.unwrap();
        let l = d.lead(&lead.id).unwrap();
        assert_eq!(l.owner, "lee");
        assert_eq!(l.company.as_deref(), Some("Hanbit Tech"));
        assert_eq!(l.potential, Some(Potential::Hot));
        assert_eq!(l.notes, "Met at the booth. Wants a quote by Friday.");
    }

    // A device that has received the change of hands can no longer write to the lead: an edit
    // built on the lead as it is now (lee's) is refused and stores nothing.
    let now_bytes = lee.document_bytes(&lead.id).unwrap();
    let mut current = automerge::AutoCommit::load(&now_bytes)
        .unwrap()
        .with_actor(automerge::ActorId::try_from(kim.actor_id().as_str()).unwrap());
    let heads = current.get_heads();
    current.put(automerge::ROOT, "company", "Kim was here").unwrap();
    current.put(automerge::ROOT, "updated_by", "kim").unwrap();
    current.commit();
    let change = current.get_changes(&heads).into_iter().map(|c| c.raw_bytes().to_vec()).collect();
    let r = push_raw(&server.url, &kim.token(), &lead.id, change).await;
    assert_eq!(r.rejected.len(), 1, "{r:?}");
    assert!(r.rejected[0].server_version.is_none(), "nothing of lee's lead goes back to kim");
    lee.sync().await.unwrap();
    assert_eq!(lee.lead(&lead.id).unwrap().company.as_deref(), Some("Hanbit Tech"));
}

/// An edit written before the change of hands may still not take the lead back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_from_before_the_reassignment_may_not_take_the_lead_back() {
    let server = Server::start().await;
    let ws = server.workspace("acme");
    server.team(&ws, "seoul");
    let park = server.device(&ws, "park", Role::Manager, Some("seoul")).await;
    let kim = server.device(&ws, "kim", Role::Rep, Some("seoul")).await;
    server.device(&ws, "lee", Role::Rep, Some("seoul")).await;
    let lead = kim.owned("Choi", "kim");
    kim.sync().await.unwrap();
    park.sync().await.unwrap();
    let before = kim.document_bytes(&lead.id).unwrap();
    park.update_lead(&lead.id, LeadPatch { owner: Some("lee".into()), ..Default::default() })
        .unwrap();
    park.sync().await.unwrap();

    // Built on the version kim had, but writing `owner` (as settling a conflict would).
    let mut doc = automerge::AutoCommit::load(&before)
        .unwrap()
        .with_actor(automerge::ActorId::try_from(kim.actor_id().as_str()).unwrap());
    let heads = doc.get_heads();
    // (Writing the value it holds is a no-op in Automerge: write another one over it.)
    doc.put(automerge::ROOT, "owner", "nobody").unwrap();
    doc.put(automerge::ROOT, "owner", "kim").unwrap();
    doc.put(automerge::ROOT, "updated_at", 1).unwrap();
    doc.commit();
    let change = doc.get_changes(&heads).into_iter().map(|c| c.raw_bytes().to_vec()).collect();
    let r = push_raw(&server.url, &kim.token(), &lead.id, change).await;
    assert_eq!(r.rejected.len(), 1, "{r:?}");
    assert_eq!(r.rejected[0].code, "forbidden");
    assert!(r.rejected[0].message.contains("given to someone else"), "{}", r.rejected[0].message);
    park.sync().await.unwrap();
    assert_eq!(park.lead(&lead.id).unwrap().owner, "lee");
}

/// An activity a rep logged offline on a lead given to someone else meanwhile reaches the new
/// owner too: the server decides on it by the lead's owner as of her device's last pull (the
/// cursor it sends with its push). Once her device has pulled the change of hands, it cannot
/// log activities on the lead any more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activity_logged_offline_on_a_lead_reassigned_meanwhile_reaches_its_new_owner() {
    use fieldsales_core::sync::protocol::{
        CBOR, PULL_CURSOR_HEADER, PushRequest, from_cbor, to_cbor,
    };
    let server = Server::start().await;
    let ws = server.workspace("acme");
    server.team(&ws, "seoul");
    let park = server.device(&ws, "park", Role::Manager, Some("seoul")).await;
    let kim = server.device(&ws, "kim", Role::Rep, Some("seoul")).await;
    let lee = server.device(&ws, "lee", Role::Rep, Some("seoul")).await;
    let lead = kim.owned("Lim", "kim");
    let earlier = kim
        .add_activity(ActivityDraft::new(&lead.id, ActivityKind::Task, "Send the deck"))
        .unwrap();
    kim.sync().await.unwrap();
    park.sync().await.unwrap();

    // Offline: kim logs a visit and ticks the task off; park gives the lead to lee.
    let visit = kim
        .add_activity(ActivityDraft {
            duration_s: Some(1_800),
            outcome: Some("wants a quote".into()),
            ..ActivityDraft::new(&lead.id, ActivityKind::Visit, "Site visit")
        })
        .unwrap();
    kim.complete_activity(&earlier.id).unwrap();
    park.update_lead(&lead.id, LeadPatch { owner: Some("lee".into()), ..Default::default() })
        .unwrap();
    park.sync().await.unwrap();

    let s = kim.sync().await.unwrap();
    assert_eq!((s.sent, s.rejected), (2, 0), "{s:?}");
    assert_eq!(kim.quarantine_len().unwrap(), 0, "nothing stranded");
    lee.sync().await.unwrap();
    let on_lee = lee.activities_for_lead(&lead.id).unwrap();
    let got = on_lee.iter().find(|a| a.id == visit.id).expect("the visit reached lee");
    assert_eq!(got.outcome.as_deref(), Some("wants a quote"));
    assert!(on_lee.iter().find(|a| a.id == earlier.id).unwrap().done);

    // Kim's device has pulled the change of hands: a new activity on the lead is refused, and
    // so is one from a device that does not say what it has pulled.
    let cursor = kim.meta("sync.cursor").unwrap().expect("a cursor");
    let actor = automerge::ActorId::try_from(kim.actor_id().as_str()).unwrap();
    let late = new_id();
    let doc = fieldsales_core::doc::activity::create(
        actor,
        &late,
        &ActivityDraft::new(&lead.id, ActivityKind::Call, "Too late"),
        "kim",
        1,
    )
    .unwrap();
    let mut doc = doc;
    let changes: Vec<PushChange> = doc
        .get_changes(&[])
        .into_iter()
        .map(|c| PushChange {
            doc_id: late.clone(),
            kind: DocKind::Activity,
            change: c.raw_bytes().to_vec(),
        })
        .collect();
    for header in [Some(cursor), None] {
        let mut req = raw_http()
            .post(format!("{}/v1/push", server.url))
            .bearer_auth(kim.token())
            .header("content-type", CBOR);
        if let Some(c) = &header {
            req = req.header(PULL_CURSOR_HEADER, c.as_str());
        }
        let resp =
            req.body(to_cbor(&PushRequest { changes: changes.clone() })).send().await.unwrap();
        let r: fieldsales_core::sync::protocol::PushResponse =
            from_cbor(&resp.bytes().await.unwrap()).unwrap();
        assert_eq!(r.rejected.len(), 1, "{header:?}: {r:?}");
        assert_eq!(r.rejected[0].code, "unknown_lead");
    }
}
