//! Issue 11's findings, each as an attack on a real server on 127.0.0.1: a hostile rep, a
//! stranger with a socket, and a rewound cursor. Each test failed on the server before the fix.

mod common;
use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ROOT};
use common::*;
use fieldsales_core::sync::protocol::*;
use fieldsales_core::*;
use fieldsales_server::backend::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn push_raw(url: &str, token: &str, changes: Vec<(&str, DocKind, Vec<u8>)>) -> PushResponse {
    post_push(url, token, push_request(changes)).await
}

fn item_id(i: &PullItem) -> &str {
    match i {
        PullItem::Changes { doc_id, .. }
        | PullItem::Snapshot { doc_id, .. }
        | PullItem::Drop { doc_id } => doc_id,
    }
}

/// One change on top of `device`'s copy of `id`, written with the device's own actor.
fn edit(device: &Device, id: &str, f: impl FnOnce(&mut AutoCommit)) -> Vec<u8> {
    edit_as(device, id, &device.actor_id(), f)
}

/// Finding 1: a rep's 3 KB change nesting 1,500 maps under an unknown key in her own lead was
/// accepted, and every device that read the lead afterwards overflowed its stack. Now the
/// server refuses it, and the manager's sync completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deeply_nested_map_under_an_unknown_key_is_refused() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "t");
    let kim = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let boss = s.device(&ws, "boss", Role::Manager, Some("t")).await;
    let lead = kim.owned("Deep", "kim");
    kim.sync().await.unwrap();
    let deep = edit(&kim, &lead.id, |d| {
        let mut obj = d.put_object(&ROOT, "x", ObjType::Map).unwrap();
        for _ in 0..1_500 {
            obj = d.put_object(&obj, "x", ObjType::Map).unwrap();
        }
    });
    assert!(deep.len() < 10_000, "a small change: {} bytes", deep.len());
    let r = push_raw(&s.url, &kim.token(), vec![(&lead.id, DocKind::Lead, deep.clone())]).await;
    assert!(r.accepted.is_empty(), "the nested change was stored");
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected[0].code, "invalid_document", "{}", r.rejected[0].message);
    // An unknown key alone, shallow, is refused too.
    let unknown = edit(&kim, &lead.id, |d| d.put(&ROOT, "payload", "x").unwrap());
    let r = push_raw(&s.url, &kim.token(), vec![(&lead.id, DocKind::Lead, unknown)]).await;
    assert_eq!(r.rejected.first().map(|r| r.code.as_str()), Some("invalid_document"));
    let sum = boss.sync().await.unwrap();
    assert_eq!(sum.received, 1);
    assert_eq!(boss.lead(&lead.id).unwrap().name.as_deref(), Some("Deep"));
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    hex::decode(std::fs::read_to_string(path).unwrap().trim()).unwrap()
}

/// A device enrolled for rep kim with the actor that wrote `change`; its token.
async fn device_writing(s: &Server, ws: &str, change: &[u8]) -> String {
    let actor = automerge::Change::from_bytes(change.to_vec()).unwrap().actor_id().to_hex_string();
    let code = match s.admin.add_user(ws, "kim", Role::Rep, None) {
        Ok(u) => u.enrollment_code,
        Err(_) => s.admin.enrollment_code(ws, "kim").unwrap(),
    };
    fieldsales_core::sync::enroll(&s.url, &code, "fuzzer", &actor).await.unwrap().token
}

/// Finding 2: mutated changes with valid checksums, found by tests/fuzz.rs on the old server.
/// One was accepted and left a stored lead whose saved bytes no longer load ("mismatching
/// heads"); the other panicked inside Automerge and came back as a 500. Both are now
/// rejections of that document, and the stored lead still loads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzed_changes_that_broke_a_stored_lead_or_panicked_are_rejected() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    // Both were written by the one actor of the fuzz run that found them.
    let token = device_writing(&s, &ws, &fixture("unloadable-base.hex")).await;
    for (base, push) in
        [("unloadable-base.hex", "unloadable-push.hex"), ("panic-base.hex", "panic-push.hex")]
    {
        let (base, push) = (fixture(base), fixture(push));
        let req: PushRequest = from_cbor(&push).unwrap();
        let doc_id = req.changes[0].doc_id.clone();
        let r = push_raw(&s.url, &token, vec![(&doc_id, DocKind::Lead, base)]).await;
        assert_eq!(r.accepted.len(), 1, "{:?}", r.rejected);
        let r = post_push(&s.url, &token, push).await;
        assert!(r.accepted.is_empty(), "the fuzzed change was stored");
        assert_eq!(r.rejected.len(), 1);
        assert_eq!(r.rejected[0].code, "invalid_document", "{}", r.rejected[0].message);
        let docs = server_documents(&s);
        assert!(docs.contains_key(&doc_id), "the stored lead loads");
    }
}

/// Finding 3: the whole body (up to 8 MiB) was read before the token was checked. A stranger's
/// upload that stalls after its first kilobyte now gets its 401 at once, and the connection is
/// closed without the server waiting for the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unauthenticated_stalled_upload_is_answered_before_its_body_and_cut_off() {
    let s = Server::start().await;
    let addr = s.url.trim_start_matches("http://").to_string();
    let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/push HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/cbor\r\ncontent-length: {}\r\n\r\n",
        8 * 1024 * 1024
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&[0u8; 1024]).await.unwrap();
    // The test's own bound, far above the server's answer time: a server that waits for the body
    // never answers.
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let answered = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            let n = sock.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    let text = String::from_utf8_lossy(&got).to_string();
    assert!(text.starts_with("HTTP/1.1 401"), "answer before the body: {text:?}");
    assert!(answered.is_ok(), "the server closes the connection after the answer: {text:?}");
}

/// Finding 4: rewinding a cursor to the feed's start (`f0~<stamp>~0`, or the old `f0`) replayed
/// the owner event that once gave the rep the lead, and the server sent its current snapshot and
/// activities, with notes written after it went to someone else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewound_cursor_does_not_return_a_lead_the_rep_lost() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "t");
    let kim = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let lee = s.device(&ws, "lee", Role::Rep, Some("t")).await;
    let boss = s.device(&ws, "boss", Role::Manager, Some("t")).await;
    // The lead is lee's first, then kim's, then lee's again.
    let lead = lee.owned("Moving", "lee");
    lee.sync().await.unwrap();
    boss.sync().await.unwrap();
    boss.update_lead(&lead.id, LeadPatch { owner: Some("kim".into()), ..Default::default() })
        .unwrap();
    boss.sync().await.unwrap();
    kim.sync().await.unwrap();
    assert!(kim.lead(&lead.id).is_ok(), "kim had it");
    boss.sync().await.unwrap();
    boss.update_lead(&lead.id, LeadPatch { owner: Some("lee".into()), ..Default::default() })
        .unwrap();
    boss.sync().await.unwrap();
    lee.sync().await.unwrap();
    lee.update_lead(
        &lead.id,
        LeadPatch { notes: Some("secret, after kim lost it".into()), ..Default::default() },
    )
    .unwrap();
    let act = lee.add_activity(ActivityDraft::new(&lead.id, ActivityKind::Call, "later")).unwrap();
    lee.sync().await.unwrap();
    kim.sync().await.unwrap();
    assert!(kim.lead(&lead.id).is_err(), "kim dropped it");

    let cursor = kim.meta(store::SYNC_CURSOR).unwrap().unwrap();
    let stamp = cursor.split('~').nth(1).unwrap().to_string();
    for rewound in [format!("f0~{stamp}~0"), "f0".to_string(), String::new()] {
        let mut cursor = rewound.clone();
        loop {
            let page = post_pull(&s.url, &kim.token(), &cursor, 1_000).await;
            for item in &page.items {
                let id = item_id(item);
                let leaked =
                    (id == lead.id || id == act.id) && !matches!(item, PullItem::Drop { .. });
                assert!(!leaked, "cursor {rewound:?} returned {item:?}");
            }
            cursor = page.cursor;
            if !page.more {
                break;
            }
        }
    }
}

/// Finding 5 (pages): a pull page was bounded by count only; one page carried 129 MB. Now a
/// page stops at a byte budget (4 MiB; a smaller one here, so that a handful of leads spans
/// pages) and always carries one item, so it moves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_pages_are_bounded_by_bytes() {
    let budget = 256 * 1024;
    let s = Server::start_with(tempfile::tempdir().unwrap(), |mut st| {
        st.page_bytes = budget;
        st
    })
    .await;
    let ws = s.workspace("acme");
    let kim = s.device(&ws, "kim", Role::Rep, None).await;
    let notes: String = (0..95_000).map(|i| char::from(b'a' + (i * 7 % 26) as u8)).collect();
    let drafts = (0..8)
        .map(|i| LeadDraft {
            name: Some(format!("Big {i}")),
            notes: Some(notes.clone()),
            ..Default::default()
        })
        .collect();
    let big = kim.create_leads(drafts).unwrap();
    // A lead that gains activities: the owner events' snapshots are bounded too (below).
    kim.sync().await.unwrap();
    let tablet = s.device(&ws, "kim", Role::Rep, None).await;
    let (mut cursor, mut pages, mut snapshots, mut total) = (String::new(), 0, 0, 0);
    loop {
        let page = post_pull(&s.url, &tablet.token(), &cursor, 2_000).await;
        let sizes: Vec<usize> = page
            .items
            .iter()
            .map(|i| match i {
                PullItem::Snapshot { data, .. } => data.len(),
                PullItem::Changes { changes, .. } => changes.iter().map(|c| c.len()).sum(),
                PullItem::Drop { .. } => 0,
            })
            .collect();
        let bytes: usize = sizes.iter().sum();
        let last = sizes.last().copied().unwrap_or(0);
        assert!(!page.items.is_empty() || !page.more, "a page that says more carries something");
        assert!(bytes - last < budget, "a page of {bytes} bytes goes on past the budget");
        snapshots += page.items.len();
        total += bytes;
        pages += 1;
        assert!(page.cursor != cursor || !page.more, "the cursor moves");
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    assert_eq!(snapshots, big.len());
    assert!(total > 2 * budget, "{total} bytes");
    assert!(pages >= 3, "{total} bytes in {pages} page(s)");
    tablet.sync().await.unwrap();
    assert_eq!(tablet.lead_ids().len(), big.len());
}

/// Finding 7: `remaining` counted the whole workspace's feed for a rep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remaining_counts_only_what_the_user_may_see() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "t");
    let kim = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let kim_tablet = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let lee = s.device(&ws, "lee", Role::Rep, Some("t")).await;
    kim_tablet.sync().await.unwrap();
    let start = kim_tablet.meta(store::SYNC_CURSOR).unwrap().unwrap();
    kim.owned("kim 0", "kim");
    kim.sync().await.unwrap();
    for i in 0..40 {
        lee.owned(&format!("lee {i}"), "lee");
    }
    lee.sync().await.unwrap();
    for i in 1..3 {
        kim.owned(&format!("kim {i}"), "kim");
    }
    kim.sync().await.unwrap();
    let page = post_pull(&s.url, &kim_tablet.token(), &start, 1).await;
    assert_eq!(page.items.len(), 1);
    assert!(page.more);
    assert_eq!(page.remaining, 2, "two more of kim's, none of lee's 40");
    let boot = post_pull(&s.url, &kim_tablet.token(), "", 1).await;
    assert_eq!(boot.remaining, 2, "bootstrap: kim's other two leads");
}

/// Finding 7: an error message ("document is a lead, not a target") confirmed that someone
/// else's document exists. Someone else's record and a record that does not exist answer
/// alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_elses_record_and_a_missing_one_answer_alike() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "east");
    s.team(&ws, "west");
    let lee = s.device(&ws, "lee", Role::Rep, Some("west")).await;
    let boss = s.device(&ws, "park", Role::Manager, Some("east")).await;
    s.device(&ws, "kim", Role::Rep, Some("east")).await;
    let theirs = lee.owned("West's lead", "lee");
    lee.sync().await.unwrap();
    let missing = model::new_id();
    // A manager's target for his own rep, pushed under the id of another team's lead, and under
    // an id nobody has.
    let target = |id: &str| {
        let draft = TargetDraft {
            id: None,
            subject_kind: SubjectKind::Rep,
            subject: "kim".into(),
            metric: TargetMetric::DealsWon,
            period_start: 0,
            period_end: 10,
            value: 5,
            currency: None,
        };
        let actor = ActorId::try_from(boss.actor_id().as_str()).unwrap();
        let mut d = doc::target::create(actor, id, &draft, "park", 1).unwrap();
        d.get_last_local_change().unwrap().raw_bytes().to_vec()
    };
    let on_theirs =
        push_raw(&s.url, &boss.token(), vec![(&theirs.id, DocKind::Target, target(&theirs.id))])
            .await;
    // The same target under a missing id is accepted (it is the manager's to set), so compare
    // with a change that cannot stand alone: an edit of the other team's lead vs. of a missing one.
    assert_eq!(on_theirs.rejected.len(), 1);
    let r = &on_theirs.rejected[0];
    assert!(
        !r.message.contains("lead"),
        "the answer names the other document's kind: {}",
        r.message
    );
    assert!(r.server_version.is_none());
    // Re-signed as the manager's device: the same edit, another actor.
    let mut d = AutoCommit::load(&lee.document_bytes(&theirs.id).unwrap()).unwrap();
    d.set_actor(ActorId::try_from(boss.actor_id().as_str()).unwrap());
    d.put(&ROOT, "name", "x").unwrap();
    d.commit();
    let boss_edit = d.get_last_local_change().unwrap().raw_bytes().to_vec();
    let a =
        push_raw(&s.url, &boss.token(), vec![(&theirs.id, DocKind::Lead, boss_edit.clone())]).await;
    let b = push_raw(&s.url, &boss.token(), vec![(&missing, DocKind::Lead, boss_edit)]).await;
    let answer = |r: &PushResponse| {
        r.rejected.iter().map(|r| (r.code.clone(), r.message.clone())).collect::<Vec<_>>()
    };
    assert_eq!(answer(&a), answer(&b), "not theirs vs. not there");
}

/// Finding 7: a manager could rewrite the plan an admin set for him so that it belonged to a
/// member of his team (only the new subject was checked).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_cannot_hand_his_own_plan_to_a_team_member() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "east");
    let root = s.device(&ws, "root", Role::Admin, None).await;
    let boss = s.device(&ws, "park", Role::Manager, Some("east")).await;
    s.device(&ws, "kim", Role::Rep, Some("east")).await;
    let plan = root
        .set_plan(CompPlanDraft {
            rep: "park".into(),
            base: Money { amount_minor: 500_000, currency: "USD".into() },
            rate_bp: 500,
            tiers: vec![],
        })
        .unwrap();
    root.sync().await.unwrap();
    boss.sync().await.unwrap();
    let change = edit(&boss, &plan.id, |d| d.put(&ROOT, "rep", "kim").unwrap());
    let r = push_raw(&s.url, &boss.token(), vec![(&plan.id, DocKind::CompPlan, change)]).await;
    assert!(r.accepted.is_empty(), "the manager gave his own plan to kim");
    assert_eq!(r.rejected[0].code, "forbidden");
}

/// Finding 7: `created_by`, `updated_by` and the stage history's `by` accepted any user name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_fields_must_name_the_pushing_user() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "t");
    let kim = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let boss = s.device(&ws, "boss", Role::Manager, Some("t")).await;
    let lead = kim.owned("Audited", "kim");
    kim.sync().await.unwrap();
    boss.sync().await.unwrap();
    // The manager edits it: older history by someone else stays valid for kim's next push.
    boss.update_lead(&lead.id, LeadPatch { title: Some("CTO".into()), ..Default::default() })
        .unwrap();
    boss.sync().await.unwrap();
    kim.sync().await.unwrap();
    kim.update_lead(&lead.id, LeadPatch { company: Some("Acme".into()), ..Default::default() })
        .unwrap();
    assert_eq!(kim.sync().await.unwrap().rejected, 0);

    type Forgery = (&'static str, Box<dyn Fn(&mut AutoCommit)>);
    let forged: Vec<Forgery> = vec![
        ("updated_by", Box::new(|d| d.put(&ROOT, "updated_by", "boss").unwrap())),
        ("created_by", Box::new(|d| d.put(&ROOT, "created_by", "boss").unwrap())),
        (
            "stage history by",
            Box::new(|d| {
                let hist = match automerge::ReadDoc::get(d, &ROOT, "stage_history").unwrap() {
                    Some((_, id)) => id,
                    None => unreachable!(),
                };
                let len = automerge::ReadDoc::length(d, &hist);
                let e = d.insert_object(&hist, len, ObjType::Map).unwrap();
                d.put(&e, "stage", "won").unwrap();
                d.put(&e, "at", 5).unwrap();
                d.put(&e, "by", "boss").unwrap();
                d.put(&ROOT, "stage", "won").unwrap();
                d.put(&ROOT, "updated_by", "kim").unwrap();
            }),
        ),
    ];
    for (what, f) in forged {
        let change = edit(&kim, &lead.id, |d| f(d));
        let r = push_raw(&s.url, &kim.token(), vec![(&lead.id, DocKind::Lead, change)]).await;
        assert!(r.accepted.is_empty(), "{what}: a change naming boss was stored");
        assert_eq!(r.rejected[0].code, "forbidden", "{what}: {}", r.rejected[0].message);
    }
}

/// A server whose connections and bodies get short deadlines and small bounds, for the tests
/// of finding 3.
async fn strict_server(limits: fieldsales_server::NetLimits) -> Server {
    Server::start_with(tempfile::tempdir().unwrap(), move |mut st| {
        st.net = limits;
        st
    })
    .await
}

fn strict() -> fieldsales_server::NetLimits {
    fieldsales_server::NetLimits {
        header_timeout: std::time::Duration::from_millis(500),
        body_timeout: std::time::Duration::from_millis(500),
        ..Default::default()
    }
}

/// Reads until the server closes the connection (or the test's own generous bound passes);
/// what it sent, and whether it closed.
async fn read_to_close(sock: &mut tokio::net::TcpStream) -> (String, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .is_ok();
    (String::from_utf8_lossy(&got).to_string(), closed)
}

fn addr_of(s: &Server) -> String {
    s.url.trim_start_matches("http://").to_string()
}

/// Finding 3: 200 slow-loris connections were never closed. Connections that trickle their
/// headers, or send nothing at all, are closed at the header deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_loris_and_idle_connections_are_closed() {
    let s = strict_server(strict()).await;
    let addr = addr_of(&s);
    let mut socks = Vec::new();
    for i in 0..20 {
        let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
        if i % 2 == 0 {
            sock.write_all(b"POST /v1/push HTTP/1.1\r\nhost: x\r\n").await.unwrap();
        }
        socks.push(sock);
    }
    // The loris keeps trickling a header byte now and then, well within any read timeout.
    let trickle = async {
        for _ in 0..10 {
            for sock in socks.iter_mut().step_by(2) {
                let _ = sock.write_all(b"x").await;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    };
    trickle.await;
    for (i, sock) in socks.iter_mut().enumerate() {
        let (_, closed) = read_to_close(sock).await;
        assert!(closed, "connection {i} is still open");
    }
    // The server still answers a well-behaved client.
    let health = raw_http().get(format!("{}/v1/health", s.url)).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

/// Finding 3, with a valid token: a body that stalls is cut off at the body deadline with a 408,
/// and a body declared larger than the limit is refused from its headers, before any of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_or_oversized_body_is_cut_off() {
    let s = strict_server(strict()).await;
    let ws = s.workspace("acme");
    let kim = s.device(&ws, "kim", Role::Rep, None).await;
    let addr = addr_of(&s);
    let head = |len: usize| {
        format!(
            "POST /v1/push HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\ncontent-type: application/cbor\r\ncontent-length: {len}\r\n\r\n",
            kim.token()
        )
    };
    let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
    sock.write_all(head(100_000).as_bytes()).await.unwrap();
    sock.write_all(&[0xa1; 100]).await.unwrap();
    let (text, closed) = read_to_close(&mut sock).await;
    assert!(text.starts_with("HTTP/1.1 408"), "{text:?}");
    assert!(text.contains("body_timeout"), "{text:?}");
    assert!(closed, "the connection is closed after the 408");

    let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
    sock.write_all(head(MAX_BODY_BYTES + 1).as_bytes()).await.unwrap();
    let (text, _) = read_to_close(&mut sock).await;
    assert!(text.starts_with("HTTP/1.1 413"), "{text:?}");
    assert!(text.contains("body_too_large"), "{text:?}");
}

/// Finding 3: connections are bounded per client address and while unauthenticated; a
/// connection over a bound is closed at once, and one that authenticates gives its
/// unauthenticated slot back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_bounded_per_address_and_while_unauthenticated() {
    let limits = fieldsales_server::NetLimits {
        per_address: 3,
        unauthenticated: 2,
        header_timeout: std::time::Duration::from_secs(30),
        ..Default::default()
    };
    let s = strict_server(limits).await;
    let ws = s.workspace("acme");
    let kim = s.device(&ws, "kim", Role::Rep, None).await;
    let addr = addr_of(&s);
    let mut a = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let _b = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Two unauthenticated connections are open: a third is closed at once.
    let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (_, closed) = read_to_close(&mut c).await;
    assert!(closed, "a third unauthenticated connection stays open");
    // The first authenticates with a pull: its slot comes back.
    let body = to_cbor(&PullRequest { cursor: String::new(), limit: 10 });
    let req = format!(
        "POST /v1/pull HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\ncontent-type: application/cbor\r\ncontent-length: {}\r\n\r\n",
        kim.token(),
        body.len()
    );
    a.write_all(req.as_bytes()).await.unwrap();
    a.write_all(&body).await.unwrap();
    let mut buf = [0u8; 12];
    a.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"HTTP/1.1 200");
    let mut d = tokio::net::TcpStream::connect(&addr).await.unwrap();
    d.write_all(format!("GET /v1/health HTTP/1.1\r\nhost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = [0u8; 12];
    d.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"HTTP/1.1 200", "a slot came back");
    // a, _b and d are open from this address: a fourth is over the per-address bound.
    let mut e = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (_, closed) = read_to_close(&mut e).await;
    assert!(closed, "a fourth connection from one address stays open");
}

/// Finding 7: enrollment codes could be guessed at ~800/s with no limit. After ten invalid
/// codes an address is locked out: 429 with Retry-After, even for a valid code, and the admin
/// sees the lockout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollment_brute_force_is_locked_out_and_visible_to_the_admin() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    let good = s.admin.add_user(&ws, "kim", Role::Rep, None).unwrap().enrollment_code;
    let http = raw_http();
    let attempt = |code: String| {
        let http = http.clone();
        let url = s.url.clone();
        async move {
            let body = serde_json::to_vec(&EnrollRequest {
                code,
                device_name: "guesser".into(),
                actor_id: store::new_actor().to_hex_string(),
                user_id: None,
            })
            .unwrap();
            http.post(format!("{url}/v1/devices"))
                .header(reqwest::header::CONTENT_TYPE, JSON)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let mut statuses = Vec::new();
    for i in 0..10 {
        statuses.push(attempt(format!("AAAA-BBBB-CCCC-{i:04}")).await.status().as_u16());
    }
    assert_eq!(statuses, vec![403; 10]);
    let locked = attempt(good.clone()).await;
    assert_eq!(locked.status(), 429);
    let retry: u64 = locked
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!(retry > 60, "locked for a while: {retry} s");
    let body: serde_json::Value = locked.json().await.unwrap();
    assert_eq!(body["error"]["code"], "enroll_locked");
    let lockouts = s.admin.lockouts().unwrap();
    assert_eq!(lockouts.len(), 1);
    assert_eq!(lockouts[0].address, "127.0.0.1");
    assert_eq!(lockouts[0].failures, 10);
    assert!(lockouts[0].locked_until.is_some());
    // The admin lifts it; the valid code, refused while locked, still works once.
    s.admin.clear_lockout("127.0.0.1").unwrap();
    assert_eq!(attempt(good).await.status(), 201);
}
