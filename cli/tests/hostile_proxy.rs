//! The real `fieldsales` binary and the real sync server, with a lying proxy between them that
//! rewrites the server's pull answers: a snapshot under another lead's id, and a cursor that
//! never moves. The client must set the one record aside and merge the rest, or stop with a
//! clear error; the store stays intact either way.

mod common;

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use common::Fs;
use fieldsales_core::sync::protocol::{PullItem, PullRequest, PullResponse, from_cbor, to_cbor};
use serde_json::Value;

type Rewrite = dyn Fn(&PullRequest, PullResponse) -> PullResponse + Send + Sync;

/// A proxy on 127.0.0.1 that forwards every request to `upstream` and passes each pull
/// answer through `rewrite`. Returns its URL.
fn proxy(
    rt: &tokio::runtime::Runtime,
    upstream: String,
    rewrite: impl Fn(&PullRequest, PullResponse) -> PullResponse + Send + Sync + 'static,
) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let rewrite: Arc<Rewrite> = Arc::new(rewrite);
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
            let (http, upstream, rewrite) = (http.clone(), upstream.clone(), rewrite.clone());
            async move {
                let mut req = http.post(format!("{upstream}{}", uri.path())).body(body.clone());
                for (k, v) in headers.iter().filter(|(k, _)| *k != "host" && *k != "content-length")
                {
                    req = req.header(k, v);
                }
                let resp = req.send().await.unwrap();
                let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
                let ctype = resp.headers().get("content-type").cloned();
                let mut bytes = resp.bytes().await.unwrap().to_vec();
                if uri.path() == "/v1/pull" && status.is_success() {
                    let asked: PullRequest = from_cbor(&body).unwrap();
                    let page: PullResponse = from_cbor(&bytes).unwrap();
                    bytes = to_cbor(&rewrite(&asked, page));
                }
                let mut out = axum::response::Response::new(axum::body::Body::from(bytes));
                *out.status_mut() = status;
                if let Some(c) = ctype {
                    out.headers_mut().insert("content-type", c);
                }
                out
            }
        },
    );
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(async move { axum::serve(listener, app).await });
    url
}

/// A rep's two leads on the real server, and a manager's code to bootstrap a device from it.
struct World {
    server: common::Acme,
    leads: [String; 2],
}

fn world() -> World {
    let server = common::acme();
    let phone = Fs::new();
    let out = phone.bare(&["enroll", "--server", &server.url, "--code", &server.kim_code]);
    assert!(out.status.success());
    let a = phone.add(&["--name", "Lead A", "--company", "Acme"]);
    let b = phone.add(&["--name", "Lead B", "--company", "Globex"]);
    assert_eq!(phone.json(&["sync"])["sent"], 2);
    World { server, leads: [a, b] }
}

fn boss_json(desk: &Fs, args: &[&str]) -> Value {
    let out = desk.bare(&[&["--json"], args].concat());
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_snapshot_under_another_leads_id_is_set_aside_and_the_rest_syncs() {
    let w = world();
    let [a, b] = w.leads.clone();
    // Lead A's snapshot carries lead B's document.
    let (a2, b2) = (a.clone(), b.clone());
    let liar = proxy(&w.server.rt, w.server.url.clone(), move |_, mut page| {
        let b_data = page.items.iter().find_map(|i| match i {
            PullItem::Snapshot { doc_id, data, .. } if *doc_id == b2 => Some(data.clone()),
            _ => None,
        });
        for i in &mut page.items {
            if let (PullItem::Snapshot { doc_id, data, .. }, Some(bd)) = (i, &b_data)
                && *doc_id == a2
            {
                *data = bd.clone();
            }
        }
        page
    });
    let desk = Fs::new();
    let out = desk.bare(&["enroll", "--server", &liar, "--code", &w.server.boss_code]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sum = boss_json(&desk, &["sync"]);
    assert_eq!(sum["set_aside"], 1, "{sum}");
    assert_eq!(sum["received"], 1, "{sum}");
    assert_eq!(boss_json(&desk, &["lead", "show", &b])["lead"]["name"], "Lead B");
    let missing = desk.bare(&["lead", "show", &a]);
    assert_eq!(missing.status.code(), Some(1), "lead A was stored under the wrong record");
    let q = boss_json(&desk, &["quarantine", "list"]);
    assert_eq!(q[0]["doc_id"], a.as_str());
    assert_eq!(q[0]["code"], "id_mismatch");
    assert!(q[0]["reason"].as_str().unwrap().contains(&b), "{q}");
    assert!(desk.bare(&["verify"]).status.success());
    // The next sync, straight to the real server, goes on from where the first stopped.
    let again = boss_json(&desk, &["sync"]);
    assert_eq!((again["received"].as_u64(), again["set_aside"].as_u64()), (Some(0), Some(0)));
}

#[test]
fn a_server_whose_cursor_never_moves_is_stopped_with_a_clear_error() {
    let w = world();
    // Every answer says "more" and hands back the cursor it was given (once there is one).
    let liar = proxy(&w.server.rt, w.server.url.clone(), |asked, mut page| {
        if !asked.cursor.is_empty() {
            page.cursor = asked.cursor.clone();
        }
        page.more = true;
        page
    });
    let desk = Fs::new();
    assert!(
        desk.bare(&["enroll", "--server", &liar, "--code", &w.server.boss_code]).status.success()
    );
    let out = desk.bare(&["sync"]);
    let err = desk.fail(out, 1);
    assert!(err.contains("keeps asking to pull again without moving on"), "{err}");
    // The first page (both leads) was applied with its cursor; nothing after it.
    let list = boss_json(&desk, &["lead", "list"]);
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert!(desk.bare(&["verify"]).status.success());
}
