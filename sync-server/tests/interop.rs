//! Issue 14, point 7, over the wire: changes made by the JavaScript implementation
//! (core/tests/fixtures/js) are pushed by a device enrolled with their actor, stored by the
//! server, and read whole by this app's devices.

mod common;
use common::*;
use fieldsales_core::sync::protocol::PushChange;
use fieldsales_core::*;
use fieldsales_server::backend::Role;

const JS_ACTOR: &str = "4a5a4a5a4a5a4a5a4a5a4a5a4a5a4a5a";
const LEAD_ID: &str = "0193a7c0-0000-7000-8000-00000000a001";
const ACTIVITY_ID: &str = "0193a7c0-0000-7000-8000-00000000a002";

fn fixture(name: &str) -> automerge::AutoCommit {
    let path = format!("{}/../core/tests/fixtures/js/{name}", env!("CARGO_MANIFEST_DIR"));
    automerge::AutoCommit::load(&std::fs::read(&path).unwrap()).unwrap()
}

fn changes(doc_id: &str, kind: DocKind, doc: &mut automerge::AutoCommit) -> Vec<PushChange> {
    doc.get_changes(&[])
        .into_iter()
        .map(|c| PushChange { doc_id: doc_id.into(), kind, change: c.raw_bytes().to_vec() })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_in_javascript_are_stored_and_read_whole_by_the_app() {
    let server = Server::start().await;
    let ws = server.workspace("acme");
    server.team(&ws, "seoul");
    let code = server.admin.add_user(&ws, "kim", Role::Rep, Some("seoul")).unwrap().enrollment_code;
    let js = sync::enroll(&server.url, &code, "a JavaScript app", JS_ACTOR).await.unwrap();

    let mut lead = fixture("lead-edited-in-js.automerge");
    let mut activity = fixture("activity-created-in-js.automerge");
    let mut batch = changes(LEAD_ID, DocKind::Lead, &mut lead);
    batch.extend(changes(ACTIVITY_ID, DocKind::Activity, &mut activity));
    let n = batch.len();
    let r = push_changes(&server.url, &js.token, batch).await;
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!(r.accepted.len(), n);

    // Kim's phone, running this app, receives them and reads every field.
    let phone = server.device(&ws, "kim", Role::Rep, None).await;
    phone.sync().await.unwrap();
    let l = phone.lead(LEAD_ID).unwrap();
    assert_eq!(l.name.as_deref(), Some("Yuna Jung"));
    assert_eq!(l.company.as_deref(), Some("Hanbit Technologies"));
    assert_eq!(l.stage, Stage::Qualified);
    assert_eq!(l.notes, "Wants a demo. Call back Tuesday.");
    assert_eq!(l.emails, vec!["yuna@hanbit.example"]);
    let a = phone.activity(ACTIVITY_ID).unwrap();
    assert_eq!((a.subject.as_str(), a.duration_s), ("Site visit", Some(1800)));

    // The phone edits the JavaScript lead; the server takes that too.
    phone
        .update_lead(
            LEAD_ID,
            LeadPatch {
                title: Some("CEO".into()),
                stage: Some(Stage::Proposal),
                ..Default::default()
            },
        )
        .unwrap();
    let s = phone.sync().await.unwrap();
    assert_eq!((s.sent, s.rejected), (1, 0));
}

/// A string written as a text can be changed by editing the text in place, without a new
/// value at its key. The server's authorship check sees that too: a JavaScript device of kim
/// cannot rewrite a `created_by` text to name someone else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_an_authorship_text_in_place_to_name_someone_else_is_refused() {
    use automerge::{ReadDoc, transaction::Transactable};
    let server = Server::start().await;
    let ws = server.workspace("acme");
    server.team(&ws, "seoul");
    let code = server.admin.add_user(&ws, "kim", Role::Rep, Some("seoul")).unwrap().enrollment_code;
    server.admin.add_user(&ws, "lee", Role::Rep, Some("seoul")).unwrap();
    let js = sync::enroll(&server.url, &code, "a JavaScript app", JS_ACTOR).await.unwrap();
    let mut lead = fixture("lead-created-in-js.automerge");
    let r = push_changes(&server.url, &js.token, changes(LEAD_ID, DocKind::Lead, &mut lead)).await;
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);

    let heads = lead.get_heads();
    let mut forged = lead.fork().with_actor(automerge::ActorId::try_from(JS_ACTOR).unwrap());
    let by = match forged.get(automerge::ROOT, "created_by").unwrap() {
        Some((automerge::Value::Object(automerge::ObjType::Text), id)) => id,
        other => panic!("created_by is not a text: {other:?}"),
    };
    forged.splice_text(&by, 0, 3, "lee").unwrap();
    forged.commit();
    let change: Vec<PushChange> = forged
        .get_changes(&heads)
        .into_iter()
        .map(|c| PushChange {
            doc_id: LEAD_ID.into(),
            kind: DocKind::Lead,
            change: c.raw_bytes().to_vec(),
        })
        .collect();
    let r = push_changes(&server.url, &js.token, change).await;
    assert_eq!(r.rejected.len(), 1, "{r:?}");
    assert_eq!(r.rejected[0].code, "forbidden");
    assert!(r.rejected[0].message.contains("created_by"), "{}", r.rejected[0].message);
}
