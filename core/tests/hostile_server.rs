//! The sync client against a lying server: a small axum server on 127.0.0.1 that answers
//! `/v1/pull` with what a broken or hostile server could send (a cursor that does not move, a
//! body without end, a snapshot under another id, records that do not load or read). Real
//! sockets, the real `SyncClient`, a real store; the store must stay intact and the rest of the
//! sync must complete.

use std::sync::{Arc, Mutex};

use automerge::transaction::Transactable;
use axum::body::{Body, Bytes};
use axum::response::Response;
use fieldsales_core::doc::DocKind;
use fieldsales_core::sync::protocol::{
    CBOR, PullItem, PullRequest, PullResponse, from_cbor, to_cbor,
};
use fieldsales_core::sync::{Credentials, SyncClient, SyncError, SyncSummary};
use fieldsales_core::*;
use testkit::store;

/// What the lying server answers to the n-th pull (0-based).
type Script = dyn Fn(usize, &PullRequest) -> Response + Send + Sync;

struct Liar {
    url: String,
    /// Every pull request it got.
    pulls: Arc<Mutex<Vec<PullRequest>>>,
    rt: tokio::runtime::Runtime,
}

fn liar(script: impl Fn(usize, &PullRequest) -> Response + Send + Sync + 'static) -> Liar {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let pulls: Arc<Mutex<Vec<PullRequest>>> = Arc::default();
    let script: Arc<Script> = Arc::new(script);
    let seen = pulls.clone();
    let app = axum::Router::new().route(
        "/v1/pull",
        axum::routing::post(move |body: Bytes| {
            let (seen, script) = (seen.clone(), script.clone());
            async move {
                let req: PullRequest = from_cbor(&body).unwrap();
                let n = {
                    let mut s = seen.lock().unwrap();
                    s.push(req.clone());
                    s.len() - 1
                };
                script(n, &req)
            }
        }),
    );
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(async move { axum::serve(listener, app).await });
    Liar { url, pulls, rt }
}

impl Liar {
    /// Enrolls `s` with this server (credentials saved as enrollment would) and syncs it.
    fn sync(&self, s: &Store) -> Result<SyncSummary, SyncError> {
        SyncClient::save_credentials(
            s,
            &Credentials {
                server: self.url.clone(),
                device_id: "dev".into(),
                token: "fst_test".into(),
                user_id: s.user_id().into(),
                workspace_id: "ws".into(),
                role: "manager".into(),
                server_time: None,
            },
        )
        .unwrap();
        let client = SyncClient::for_store(s).unwrap();
        self.rt.block_on(client.sync(s, &|_| {}))
    }

    fn pulls(&self) -> Vec<PullRequest> {
        self.pulls.lock().unwrap().clone()
    }
}

fn cbor(r: &PullResponse) -> Response {
    Response::builder().header("content-type", CBOR).body(Body::from(to_cbor(r))).unwrap()
}

fn page(items: Vec<PullItem>, cursor: &str, more: bool) -> Response {
    cbor(&PullResponse { items, cursor: cursor.into(), more, remaining: 0 })
}

/// A JSON error as the real server sends it; used to stop a client that would otherwise loop.
fn refuse(code: &str) -> Response {
    Response::builder()
        .status(503)
        .header("content-type", "application/json")
        .body(Body::from(format!(r#"{{"error":{{"code":"{code}","message":"enough"}}}}"#)))
        .unwrap()
}

/// A body of `total` bytes streamed in 64 KiB chunks, without a Content-Length.
fn endless(total: usize) -> Response {
    let chunk = Bytes::from(vec![0x5au8; 64 * 1024]);
    let n = total / chunk.len();
    Response::builder().header("content-type", CBOR).body(Body::new(chunks(chunk, n))).unwrap()
}

fn chunks(
    chunk: Bytes,
    n: usize,
) -> impl axum::body::HttpBody<Data = Bytes, Error = std::io::Error> + Send + 'static {
    struct Chunks(Bytes, usize);
    impl axum::body::HttpBody for Chunks {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
            if self.1 == 0 {
                return std::task::Poll::Ready(None);
            }
            self.1 -= 1;
            std::task::Poll::Ready(Some(Ok(http_body::Frame::data(self.0.clone()))))
        }
    }
    Chunks(chunk, n)
}

fn lead_draft(name: &str) -> LeadDraft {
    LeadDraft { name: Some(name.into()), company: Some("Acme".into()), ..Default::default() }
}

/// A lead written on another device, as the server would send it: (id, snapshot).
fn foreign_lead(name: &str) -> (String, Vec<u8>) {
    let src = store("rep-src");
    let l = src.create_lead(lead_draft(name)).unwrap();
    let bytes = src.document_bytes(&l.id).unwrap();
    (l.id, bytes)
}

fn snapshot(doc_id: &str, kind: DocKind, data: Vec<u8>) -> PullItem {
    PullItem::Snapshot { doc_id: doc_id.into(), kind, data }
}

#[test]
fn a_cursor_that_comes_back_with_more_stops_the_pull_and_keeps_what_came_before() {
    let (good, good_bytes) = foreign_lead("Before the loop");
    let items = vec![snapshot(&good, DocKind::Lead, good_bytes)];
    // The first page moves to c1; from then on it answers c1 again with `more`, for ever (a
    // client that keeps asking is stopped after 20 pulls, so that old code fails rather than
    // hangs).
    let server = liar(move |n, _| match n {
        0 => page(items.clone(), "c1", true),
        1..20 => page(vec![], "c1", true),
        _ => refuse("looping"),
    });
    let s = store("rep-kim");
    let err = server.sync(&s).unwrap_err();
    assert!(matches!(&err, SyncError::CursorStuck { cursor } if cursor == "c1"), "{err:?}");
    assert_eq!(server.pulls().len(), 2, "it stopped at the first repeat");
    // The page before the loop is applied with its cursor; nothing else was written.
    assert_eq!(s.lead(&good).unwrap().name.as_deref(), Some("Before the loop"));
    assert_eq!(s.meta(store::SYNC_CURSOR).unwrap().as_deref(), Some("c1"));
    assert!(s.verify().unwrap().is_ok());
}

#[test]
fn cursors_that_go_round_in_a_cycle_are_stopped_too() {
    let server = liar(|n, _| match n {
        0..20 => page(vec![], if n % 2 == 0 { "a" } else { "b" }, true),
        _ => refuse("looping"),
    });
    let s = store("rep-kim");
    let err = server.sync(&s).unwrap_err();
    assert!(matches!(&err, SyncError::CursorStuck { cursor } if cursor == "a"), "{err:?}");
    let cursors: Vec<String> = server.pulls().into_iter().map(|p| p.cursor).collect();
    assert_eq!(cursors, ["", "a", "b"]);
    assert_eq!(s.meta(store::SYNC_CURSOR).unwrap().as_deref(), Some("b"));
}

#[test]
fn a_body_without_end_is_refused_after_asking_for_fewer_items() {
    // 64 MiB of bytes, whatever is asked for.
    let server = liar(|_, _| endless(64 * 1024 * 1024));
    let s = store("rep-kim");
    let err = server.sync(&s).unwrap_err();
    assert!(
        matches!(err, SyncError::ResponseTooLarge { limit } if limit == 16 * 1024 * 1024),
        "{err:?}"
    );
    let limits: Vec<u32> = server.pulls().iter().map(|p| p.limit).collect();
    assert_eq!(limits, [1000, 125, 15, 1]);
    assert_eq!(s.meta(store::SYNC_CURSOR).unwrap(), None, "nothing applied");
    assert!(s.document_ids().unwrap().is_empty());
}

#[test]
fn a_page_too_large_to_read_is_asked_for_again_with_fewer_items() {
    // An old server: pages bounded by count only. Over 16 MiB at 1,000 items, fine at 125.
    let (id, bytes) = foreign_lead("Small page");
    let server = liar(move |_, req| {
        if req.limit > 200 {
            endless(17 * 1024 * 1024)
        } else {
            page(vec![snapshot(&id, DocKind::Lead, bytes.clone())], "done", false)
        }
    });
    let s = store("rep-kim");
    let sum = server.sync(&s).unwrap();
    assert_eq!(sum.received, 1);
    let limits: Vec<u32> = server.pulls().iter().map(|p| p.limit).collect();
    assert_eq!(limits, [1000, 125]);
    assert_eq!(s.meta(store::SYNC_CURSOR).unwrap().as_deref(), Some("done"));
}

/// A target document with no subject: a valid Automerge document the reader refuses.
fn shapeless_target(id: &str) -> Vec<u8> {
    let mut d = automerge::AutoCommit::new();
    d.put(automerge::ROOT, "schema", 1u64).unwrap();
    d.put(automerge::ROOT, "type", "target").unwrap();
    d.put(automerge::ROOT, "id", id).unwrap();
    d.put(automerge::ROOT, "metric", "deals_won").unwrap();
    d.save()
}

#[test]
fn damaged_records_are_set_aside_and_the_rest_of_the_sync_completes() {
    let (good, good_bytes) = foreign_lead("Good lead");
    let (victim, victim_bytes) = foreign_lead("Victim");
    let (liar_lead, liar_bytes) = foreign_lead("Impostor");
    let src = store("rep-src");
    let carried = src.create_lead(lead_draft("Carried by changes")).unwrap();
    let change = src.outbox(0, 10).unwrap().remove(0).change;
    let act = src
        .add_activity(ActivityDraft::new(carried.id.clone(), ActivityKind::Call, "call"))
        .unwrap();
    let act_bytes = src.document_bytes(&act.id).unwrap();
    let (unloadable, garbage_changes, wrong_kind, shapeless, impostor) =
        (new_id(), new_id(), new_id(), new_id(), new_id());

    let s = store("rep-kim");
    // This device already holds the victim; a snapshot claiming to be it under another id must
    // not overwrite its row.
    s.apply_remote(vec![PullApply::Snapshot {
        doc_id: victim.clone(),
        kind: DocKind::Lead,
        data: victim_bytes,
    }])
    .unwrap();
    let victim_row = s.lead(&victim).unwrap();

    let page1 = vec![
        snapshot(&unloadable, DocKind::Lead, vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]),
        PullItem::Changes {
            doc_id: garbage_changes.clone(),
            kind: DocKind::Lead,
            changes: vec![serde_bytes::ByteBuf::from(b"garbage".to_vec())],
        },
        snapshot(&good, DocKind::Lead, good_bytes),
        // An activity's document delivered as a lead.
        snapshot(&wrong_kind, DocKind::Lead, act_bytes),
        snapshot(&shapeless, DocKind::Target, shapeless_target(&shapeless)),
        // The impostor lead's document (internal id liar_lead) under a fresh id, and the
        // victim's id.
        snapshot(&impostor, DocKind::Lead, liar_bytes.clone()),
        snapshot(&victim, DocKind::Lead, liar_bytes),
        PullItem::Snapshot { doc_id: "not-an-id".into(), kind: DocKind::Lead, data: vec![1] },
    ];
    let page2 = vec![PullItem::Changes {
        doc_id: carried.id.clone(),
        kind: DocKind::Lead,
        changes: vec![serde_bytes::ByteBuf::from(change)],
    }];
    let server = liar(move |n, _| match n {
        0 => page(page1.clone(), "p1", true),
        1 => page(page2.clone(), "p2", false),
        _ => refuse("done"),
    });
    let sum = server.sync(&s).unwrap();
    assert_eq!(sum.set_aside, 7, "{sum:?}");
    assert_eq!(sum.received, 2, "the good lead and the one carried by changes: {sum:?}");
    assert_eq!(s.meta(store::SYNC_CURSOR).unwrap().as_deref(), Some("p2"), "the cursor moved on");

    assert_eq!(s.lead(&good).unwrap().name.as_deref(), Some("Good lead"));
    assert_eq!(s.lead(&carried.id).unwrap().name.as_deref(), Some("Carried by changes"));
    assert_eq!(s.lead(&victim).unwrap(), victim_row, "the victim is untouched");
    for id in [&unloadable, &garbage_changes, &wrong_kind, &shapeless, &impostor, &liar_lead] {
        assert!(s.lead(id).is_err(), "{id} was stored");
    }
    let ids: Vec<String> = s.document_ids().unwrap().into_iter().map(|(id, _)| id).collect();
    let mut want = vec![good.clone(), victim.clone(), carried.id.clone()];
    want.sort();
    assert_eq!(ids, want);
    let v = s.verify().unwrap();
    assert!(v.is_ok(), "{v:?}");

    let q = s.quarantine().unwrap();
    let codes: Vec<(String, String)> =
        q.iter().map(|e| (e.doc_id.clone(), e.code.clone())).collect();
    for (id, code) in [
        (&unloadable, "unloadable"),
        (&garbage_changes, "unloadable"),
        (&wrong_kind, "wrong_kind"),
        (&shapeless, "unreadable"),
        (&impostor, "id_mismatch"),
        (&victim, "id_mismatch"),
    ] {
        assert!(codes.contains(&(id.clone(), code.to_string())), "{id} {code}: {codes:?}");
    }
    assert!(codes.contains(&("not-an-id".into(), "bad_id".into())), "{codes:?}");
    let mismatch = q.iter().find(|e| e.doc_id == impostor).unwrap();
    assert!(mismatch.reason.contains(&liar_lead), "{}", mismatch.reason);
    assert!(!mismatch.change.is_empty(), "the bytes that came are kept");

    // The same page again (a pull that starts over) adds no second row.
    let n = q.len();
    let again = liar({
        let (impostor, bytes) = (impostor.clone(), foreign_lead_bytes_of(&s, &victim));
        move |_, _| page(vec![snapshot(&impostor, DocKind::Lead, bytes.clone())], "p3", false)
    });
    let sum = again.sync(&s).unwrap();
    assert_eq!(sum.set_aside, 1);
    assert_eq!(s.quarantine().unwrap().len(), n + 1, "a new snapshot is a new row");
    again.sync(&s).unwrap();
    assert_eq!(s.quarantine().unwrap().len(), n + 1, "the same snapshot is kept once");
}

fn foreign_lead_bytes_of(s: &Store, id: &str) -> Vec<u8> {
    s.document_bytes(id).unwrap()
}

#[test]
fn a_damaged_stored_document_is_a_finding_of_verify_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let s = Store::open(&path, OpenOptions::new("rep-kim")).unwrap();
    let l = s.create_lead(lead_draft("Will be damaged")).unwrap();
    drop(s);
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute("UPDATE documents SET data = x'856f4a83010203' WHERE id = ?1", [&l.id]).unwrap();
    drop(c);
    let s = Store::open(&path, OpenOptions::new("rep-kim")).unwrap();
    let v = s.verify().unwrap();
    assert!(!v.is_ok());
    assert!(v.problems.iter().any(|p| p.contains(&l.id) && p.contains("does not load")), "{v:?}");
    assert!(matches!(s.lead(&l.id), Err(Error::Corrupt { .. })));
}
