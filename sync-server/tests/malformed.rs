//! A corpus of malformed and hostile requests, sent by hand to a real server on 127.0.0.1.
//! Every one must be refused with the documented status and a JSON error body (or, for a
//! per-document refusal, a 200 push response naming it), and must leave the server's storage
//! exactly as it was. Afterwards the server still serves a well-behaved device.

mod common;
use automerge::ROOT;
use automerge::transaction::Transactable;
use common::*;
use fieldsales_core::sync::protocol::*;
use fieldsales_core::*;
use fieldsales_server::backend::Role;
use reqwest::Method;

enum Expect {
    /// An error status with this `error.code`.
    Error(u16, &'static str),
    /// As `Error`, or the connection closed while the body was still being sent: the server
    /// answers from the declared size alone and reads none of the body, so a client that
    /// writes the whole body before reading may meet the closed connection first.
    ErrorOrClosed(u16, &'static str),
    /// 200, nothing accepted, one document rejected with this code.
    Rejected(&'static str),
}

struct Case {
    name: String,
    method: Method,
    path: &'static str,
    content_type: Option<&'static str>,
    /// The whole Authorization header value.
    auth: Option<Vec<u8>>,
    body: Vec<u8>,
    expect: Expect,
}

fn bearer(token: &str) -> Option<Vec<u8>> {
    Some(format!("Bearer {token}").into_bytes())
}

fn push_body(changes: Vec<(&str, DocKind, Vec<u8>)>) -> Vec<u8> {
    push_request(changes)
}

fn pull_body(cursor: &str) -> Vec<u8> {
    to_cbor(&PullRequest { cursor: cursor.to_string(), limit: 100 })
}

fn enroll_json(code: &str, actor: &str) -> Vec<u8> {
    serde_json::to_vec(&EnrollRequest {
        code: code.into(),
        device_name: "hostile".into(),
        actor_id: actor.into(),
        user_id: None,
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_hostile_requests_are_refused_and_store_nothing() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "t");
    let kim = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let boss = s.device(&ws, "boss", Role::Manager, Some("t")).await;
    let lost = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    s.device(&ws, "lee", Role::Rep, Some("t")).await;
    let http = raw_http();

    // Something on the server to damage: a lead with an activity.
    let lead = kim.owned("Kim's lead", "kim");
    kim.add_activity(ActivityDraft::new(&lead.id, ActivityKind::Call, "Intro")).unwrap();
    assert_eq!(kim.sync().await.unwrap().sent, 2);
    boss.sync().await.unwrap();
    let revoked_token = lost.token();
    s.admin.revoke_device(&lost.device_id).unwrap();
    let fresh_code = s.admin.enrollment_code(&ws, "kim").unwrap();
    // Kim's own code would enroll kim's store again (issue 14); another user's may not.
    let lee_code = s.admin.enrollment_code(&ws, "lee").unwrap();

    // Changes made with kim's actor that the server has never seen, by a scratch store: what a
    // modified app on kim's phone could send.
    let actor = kim.actor_id();
    let scratch_dir = tempfile::tempdir().unwrap();
    let scratch =
        Store::open(scratch_dir.path().join("s.db"), OpenOptions::new("kim").actor(&actor))
            .unwrap();
    let new_lead = scratch.owned_lead("New", "kim");
    let orphan_lead = scratch.owned_lead("Never pushed", "kim");
    scratch
        .update_lead(&orphan_lead, LeadPatch { notes: Some("edit".into()), ..Default::default() })
        .unwrap();
    let orphan_act = scratch
        .add_activity(ActivityDraft::new(&orphan_lead, ActivityKind::Visit, "x"))
        .unwrap()
        .id;
    let for_lee = scratch.owned_lead("For Lee", "lee");
    let for_ghost = scratch.owned_lead("For nobody", "ghost");
    let out = scratch.outbox(0, 100).unwrap();
    let change = |doc: &str| {
        out.iter().filter(|e| e.doc_id == doc).map(|e| e.change.clone()).collect::<Vec<_>>()
    };
    let valid = change(&new_lead)[0].clone();
    let orphan_edit = change(&orphan_lead)[1].clone();
    // Another actor's work, pushed with kim's token.
    let other_dir = tempfile::tempdir().unwrap();
    let other = Store::open(other_dir.path().join("o.db"), OpenOptions::new("kim")).unwrap();
    let foreign_lead = other.owned_lead("Foreign", "kim");
    let foreign = other.outbox(0, 10).unwrap()[0].change.clone();
    let foreign_edit = edit_as(&kim, &lead.id, &store::new_actor().to_hex_string(), |d| {
        d.put(&ROOT, "name", "Hijacked").unwrap()
    });
    let stage_number = edit_as(&kim, &lead.id, &actor, |d| d.put(&ROOT, "stage", 7).unwrap());
    let no_owner = edit_as(&kim, &lead.id, &actor, |d| d.delete(&ROOT, "owner").unwrap());
    let kim_edit = edit_as(&kim, &lead.id, &actor, |d| d.put(&ROOT, "name", "Edited").unwrap());

    let tok = kim.token();
    let up = uuid::Uuid::parse_str(&new_lead).unwrap().hyphenated().to_string().to_uppercase();
    let simple = uuid::Uuid::parse_str(&new_lead).unwrap().simple().to_string();
    let good_push = push_body(vec![(&new_lead, DocKind::Lead, valid.clone())]);
    let mut flipped = valid.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    let mut compressed = automerge::Change::from_bytes(valid.clone()).unwrap().bytes().into_owned();
    assert_eq!(compressed[8], 2, "the lead's first change is big enough to be compressed");
    compressed.shrink_to_fit();
    let mut huge_array = vec![0xa1, 0x67];
    huge_array.extend_from_slice(b"changes");
    huge_array.extend_from_slice(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    let mut too_many = Vec::new();
    for _ in 0..=MAX_CHANGES_PER_PUSH {
        too_many.push((new_lead.as_str(), DocKind::Lead, valid.clone()));
    }

    let push = |name: &str, body: Vec<u8>, expect: Expect| Case {
        name: name.to_string(),
        method: Method::POST,
        path: "/v1/push",
        content_type: Some(CBOR),
        auth: bearer(&tok),
        body,
        expect,
    };
    let pull = |name: &str, body: Vec<u8>, expect: Expect| Case {
        path: "/v1/pull",
        ..push(name, body, expect)
    };
    let enroll = |name: &str, body: Vec<u8>, expect: Expect| Case {
        name: name.to_string(),
        method: Method::POST,
        path: "/v1/devices",
        content_type: Some(JSON),
        auth: None,
        body,
        expect,
    };
    let route = |name: &str, method: Method, path: &'static str, expect: Expect| Case {
        method,
        path,
        body: Vec::new(),
        ..push(name, Vec::new(), expect)
    };
    use Expect::*;

    let cases = vec![
        // ---- push: the body is not a push request
        push("push: empty body", vec![], Error(400, "bad_body")),
        push(
            "push: CBOR truncated in half",
            good_push[..good_push.len() / 2].to_vec(),
            Error(400, "bad_body"),
        ),
        push(
            "push: CBOR missing its last byte",
            good_push[..good_push.len() - 1].to_vec(),
            Error(400, "bad_body"),
        ),
        push("push: CBOR array instead of a map", to_cbor(&vec![1, 2, 3]), Error(400, "bad_body")),
        push(
            "push: changes is a string",
            to_cbor(&serde_json::json!({ "changes": "nope" })),
            Error(400, "bad_body"),
        ),
        push(
            "push: change without fields",
            to_cbor(&serde_json::json!({ "changes": [{ "doc_id": 1 }] })),
            Error(400, "bad_body"),
        ),
        push("push: declared array of 2^64 items", huge_array, Error(400, "bad_body")),
        push("push: 100k nested arrays", vec![0x81; 100_000], Error(400, "bad_body")),
        push(
            "push: unknown document kind",
            to_cbor(
                &serde_json::json!({ "changes": [{ "doc_id": new_lead, "kind": "contact", "change": serde_bytes::ByteBuf::from(valid.clone()) }] }),
            ),
            Error(400, "bad_body"),
        ),
        push(
            "push: JSON body",
            serde_json::to_vec(&serde_json::json!({ "changes": [] })).unwrap(),
            Error(400, "bad_body"),
        ),
        // ---- push: a well-formed request carrying bad changes
        push(
            "push: garbage Automerge bytes",
            push_body(vec![(&new_lead, DocKind::Lead, b"definitely not automerge".to_vec())]),
            Error(400, "bad_change"),
        ),
        push(
            "push: empty change bytes",
            push_body(vec![(&new_lead, DocKind::Lead, vec![])]),
            Error(400, "bad_change"),
        ),
        push(
            "push: truncated Automerge change",
            push_body(vec![(&new_lead, DocKind::Lead, valid[..valid.len() - 10].to_vec())]),
            Error(400, "bad_change"),
        ),
        push(
            "push: change with a flipped byte",
            push_body(vec![(&new_lead, DocKind::Lead, flipped)]),
            Error(400, "bad_change"),
        ),
        push(
            "push: a valid change then garbage",
            push_body(vec![
                (&new_lead, DocKind::Lead, valid.clone()),
                (&orphan_lead, DocKind::Lead, vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]),
            ]),
            Error(400, "bad_change"),
        ),
        push(
            "push: a compressed change chunk",
            push_body(vec![(&new_lead, DocKind::Lead, compressed)]),
            Error(400, "bad_change"),
        ),
        push(
            "push: a deflate bomb (64 MiB from 420 KB)",
            push_body(vec![(&new_lead, DocKind::Lead, deflate_bomb(64 << 20))]),
            Error(400, "bad_change"),
        ),
        push(
            "push: a saved document instead of a change",
            push_body(vec![(&lead.id, DocKind::Lead, kim.document_bytes(&lead.id).unwrap())]),
            Error(400, "bad_change"),
        ),
        push(
            "push: doc id not a UUID",
            push_body(vec![("lead-1", DocKind::Lead, valid.clone())]),
            Error(400, "bad_document_id"),
        ),
        push(
            "push: doc id in upper case",
            push_body(vec![(&up, DocKind::Lead, valid.clone())]),
            Error(400, "bad_document_id"),
        ),
        push(
            "push: doc id without hyphens",
            push_body(vec![(&simple, DocKind::Lead, valid.clone())]),
            Error(400, "bad_document_id"),
        ),
        push(
            "push: doc id with a path",
            push_body(vec![(&format!("../{new_lead}"), DocKind::Lead, valid.clone())]),
            Error(400, "bad_document_id"),
        ),
        push(
            "push: one doc with two kinds",
            push_body(vec![
                (&new_lead, DocKind::Lead, valid.clone()),
                (&new_lead, DocKind::Activity, valid.clone()),
            ]),
            Error(400, "bad_change"),
        ),
        push(
            "push: more than MAX_CHANGES_PER_PUSH",
            push_body(too_many),
            Error(413, "too_many_changes"),
        ),
        push(
            "push: body over MAX_BODY_BYTES",
            vec![0x80; MAX_BODY_BYTES + 1],
            ErrorOrClosed(413, "body_too_large"),
        ),
        Case {
            content_type: Some(JSON),
            ..push(
                "push: CBOR labelled as JSON",
                good_push.clone(),
                Error(415, "unsupported_media_type"),
            )
        },
        Case {
            content_type: None,
            ..push("push: no content type", good_push.clone(), Error(415, "unsupported_media_type"))
        },
        Case {
            content_type: Some("application/cbor-seq"),
            ..push(
                "push: similar content type",
                good_push.clone(),
                Error(415, "unsupported_media_type"),
            )
        },
        // ---- push: who is asking
        Case {
            auth: None,
            ..push("push: no token", good_push.clone(), Error(401, "unauthorized"))
        },
        Case {
            auth: bearer("fst_00112233"),
            ..push("push: garbage token", good_push.clone(), Error(401, "unauthorized"))
        },
        Case {
            auth: bearer(""),
            ..push("push: empty token", good_push.clone(), Error(401, "unauthorized"))
        },
        Case {
            auth: Some(format!("Basic {tok}").into_bytes()),
            ..push("push: token in another scheme", good_push.clone(), Error(401, "unauthorized"))
        },
        Case {
            auth: Some(b"Bearer \xff\xfe".to_vec()),
            ..push("push: non-ASCII token", good_push.clone(), Error(401, "unauthorized"))
        },
        Case {
            auth: bearer(&revoked_token),
            ..push("push: revoked device", good_push.clone(), Error(401, "unauthorized"))
        },
        Case {
            auth: bearer(&revoked_token),
            ..pull("pull: revoked device", pull_body(""), Error(401, "unauthorized"))
        },
        // ---- push: per-document refusals inside a 200
        push(
            "push: another actor's new lead",
            push_body(vec![(&foreign_lead, DocKind::Lead, foreign)]),
            Rejected("actor_mismatch"),
        ),
        push(
            "push: another actor's edit of kim's lead",
            push_body(vec![(&lead.id, DocKind::Lead, foreign_edit)]),
            Rejected("actor_mismatch"),
        ),
        push(
            "push: stage set to a number",
            push_body(vec![(&lead.id, DocKind::Lead, stage_number)]),
            Rejected("invalid_document"),
        ),
        push(
            "push: owner removed",
            push_body(vec![(&lead.id, DocKind::Lead, no_owner)]),
            Rejected("invalid_document"),
        ),
        push(
            "push: a lead change under another doc id",
            push_body(vec![(&orphan_lead, DocKind::Lead, valid.clone())]),
            Rejected("invalid_document"),
        ),
        push(
            "push: a new lead sent as an activity",
            push_body(vec![(&new_lead, DocKind::Activity, valid.clone())]),
            Rejected("invalid_document"),
        ),
        push(
            "push: an edit of a lead sent as an activity",
            push_body(vec![(&lead.id, DocKind::Activity, kim_edit)]),
            Rejected("invalid_document"),
        ),
        push(
            "push: an edit whose base the server lacks",
            push_body(vec![(&orphan_lead, DocKind::Lead, orphan_edit)]),
            Rejected("missing_dependencies"),
        ),
        push(
            "push: an activity of an unknown lead",
            push_body(vec![(&orphan_act, DocKind::Activity, change(&orphan_act)[0].clone())]),
            Rejected("unknown_lead"),
        ),
        push(
            "push: a rep creating a teammate's lead",
            push_body(vec![(&for_lee, DocKind::Lead, change(&for_lee)[0].clone())]),
            Rejected("forbidden"),
        ),
        push(
            "push: a lead owned by no user",
            push_body(vec![(&for_ghost, DocKind::Lead, change(&for_ghost)[0].clone())]),
            Rejected("invalid_document"),
        ),
        // ---- pull
        pull("pull: cursor from nowhere", pull_body("zzz"), Error(400, "bad_cursor")),
        pull("pull: feed cursor not a number", pull_body("fabc"), Error(400, "bad_cursor")),
        pull("pull: bootstrap cursor without id", pull_body("b12"), Error(400, "bad_cursor")),
        pull(
            "pull: bootstrap cursor with a bad watermark",
            pull_body("bx:abc"),
            Error(400, "bad_cursor"),
        ),
        pull("pull: negative feed cursor", pull_body("f-1"), Error(400, "bad_cursor")),
        pull(
            "pull: feed cursor past the end of the feed",
            pull_body("f999999"),
            Error(400, "bad_cursor"),
        ),
        pull(
            "pull: bootstrap watermark past the end",
            pull_body("b999999:"),
            Error(400, "bad_cursor"),
        ),
        pull(
            "pull: feed cursor at a row it does not remember",
            pull_body("f1~all~00000000"),
            Error(400, "bad_cursor"),
        ),
        pull("pull: cursor with too many parts", pull_body("f1~all~0~0"), Error(400, "bad_cursor")),
        pull("pull: truncated CBOR", pull_body("")[..3].to_vec(), Error(400, "bad_body")),
        pull("pull: a push request", good_push.clone(), Error(400, "bad_body")),
        Case {
            content_type: Some(JSON),
            ..pull(
                "pull: JSON",
                br#"{"cursor":"","limit":10}"#.to_vec(),
                Error(415, "unsupported_media_type"),
            )
        },
        Case { auth: None, ..pull("pull: no token", pull_body(""), Error(401, "unauthorized")) },
        // ---- routing
        route("GET on /v1/push", Method::GET, "/v1/push", Error(405, "method_not_allowed")),
        route("GET on /v1/pull", Method::GET, "/v1/pull", Error(405, "method_not_allowed")),
        route("PUT on /v1/devices", Method::PUT, "/v1/devices", Error(405, "method_not_allowed")),
        route(
            "DELETE on /v1/health",
            Method::DELETE,
            "/v1/health",
            Error(405, "method_not_allowed"),
        ),
        route("unknown path", Method::GET, "/v1/leads", Error(404, "not_found")),
        route("POST to an unknown path", Method::POST, "/v2/push", Error(404, "not_found")),
        // ---- enrollment
        enroll(
            "enroll: unknown code",
            enroll_json("AAAA-BBBB-CCCC-DDDD", &store::new_actor().to_hex_string()),
            Error(403, "invalid_code"),
        ),
        enroll(
            "enroll: empty code",
            enroll_json("", &store::new_actor().to_hex_string()),
            Error(403, "invalid_code"),
        ),
        enroll(
            "enroll: actor not hex",
            enroll_json(&fresh_code, "not-hex-at-all"),
            Error(400, "bad_actor"),
        ),
        enroll(
            "enroll: actor too short",
            enroll_json(&fresh_code, "00ff"),
            Error(400, "bad_actor"),
        ),
        enroll(
            "enroll: actor too long",
            enroll_json(&fresh_code, &"ab".repeat(65)),
            Error(400, "bad_actor"),
        ),
        enroll(
            "enroll: actor already taken by another user",
            enroll_json(&lee_code, &actor),
            Error(409, "actor_taken"),
        ),
        enroll(
            "enroll: actor taken by another user, in upper case",
            enroll_json(&lee_code, &actor.to_uppercase()),
            Error(409, "actor_taken"),
        ),
        enroll("enroll: empty body", vec![], Error(400, "bad_body")),
        enroll(
            "enroll: JSON of the wrong shape",
            br#"{"code": 5}"#.to_vec(),
            Error(400, "bad_body"),
        ),
        enroll(
            "enroll: truncated JSON",
            enroll_json(&fresh_code, &store::new_actor().to_hex_string())[..20].to_vec(),
            Error(400, "bad_body"),
        ),
        Case {
            content_type: Some(CBOR),
            ..enroll(
                "enroll: CBOR",
                to_cbor(&EnrollRequest {
                    code: fresh_code.clone(),
                    device_name: "x".into(),
                    actor_id: store::new_actor().to_hex_string(),
                    user_id: None,
                }),
                Error(415, "unsupported_media_type"),
            )
        },
        enroll(
            "enroll: body over MAX_BODY_BYTES",
            vec![b' '; MAX_BODY_BYTES + 1],
            ErrorOrClosed(413, "body_too_large"),
        ),
        enroll(
            "enroll: body over MAX_ENROLL_BYTES",
            vec![b' '; MAX_ENROLL_BYTES + 1],
            ErrorOrClosed(413, "body_too_large"),
        ),
    ];
    assert!(cases.len() >= 24);

    let before = fingerprint(&s);
    let mut failures = Vec::new();
    for c in &cases {
        if let Err(why) = run(&http, &s.url, c).await {
            failures.push(format!("{}: {why}", c.name));
        }
        if fingerprint(&s) != before {
            failures.push(format!("{}: the server stored something", c.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // The server still serves everyone, and the fingerprint does see writes.
    let health = http.get(format!("{}/v1/health", s.url)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    kim.update_lead(&lead.id, LeadPatch { stage: Some(Stage::Contacted), ..Default::default() })
        .unwrap();
    let second = kim.owned("Second", "kim");
    let sum = kim.sync().await.unwrap();
    assert_eq!((sum.sent, sum.rejected), (2, 0));
    assert_eq!(boss.sync().await.unwrap().received, 2);
    assert_eq!(boss.lead(&lead.id).unwrap().stage, Stage::Contacted);
    assert!(boss.lead(&second.id).is_ok());
    assert_ne!(fingerprint(&s), before);
    // A change repeated within one push is stored once (it is the same change).
    let twice = push_body(vec![
        (&new_lead, DocKind::Lead, valid.clone()),
        (&new_lead, DocKind::Lead, valid.clone()),
    ]);
    let resp = http
        .post(format!("{}/v1/push", s.url))
        .bearer_auth(&tok)
        .header(reqwest::header::CONTENT_TYPE, CBOR)
        .body(twice)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.bytes().await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let r: PushResponse = from_cbor(&body).unwrap();
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    let hash = automerge::Change::from_bytes(valid.clone()).unwrap().hash().to_string();
    assert!(r.accepted.iter().all(|h| *h == hash) && !r.accepted.is_empty());
    assert!(feed_hashes(&s).contains(&hash));
    assert!(feed_duplicates(&s).is_empty());
    // The change refused beside garbage was refused for the garbage alone.
    let r: PushResponse = {
        let resp = http
            .post(format!("{}/v1/push", s.url))
            .bearer_auth(&tok)
            .header(reqwest::header::CONTENT_TYPE, CBOR)
            .body(good_push)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        from_cbor(&resp.bytes().await.unwrap()).unwrap()
    };
    assert_eq!((r.accepted.len(), r.rejected.len()), (1, 0));
    // The code that every refused enrollment carried still works once.
    Device::enroll(&s.url, &fresh_code).await.unwrap();
    let fresh_admin = s.device(&ws, "root", Role::Admin, None).await;
    fresh_admin.sync().await.unwrap();
    assert_eq!(fresh_admin.lead_ids().len(), 3);
}

/// A compressed Automerge chunk (magic, checksum, type 2, length, raw deflate) whose data
/// inflates to `size` zero bytes: one literal, then (length 258, distance 1) copies, in one
/// fixed-Huffman block (13 bits per 258 bytes).
fn deflate_bomb(size: usize) -> Vec<u8> {
    let mut bits = BitWriter::default();
    bits.put(1, 1); // BFINAL
    bits.put(1, 2); // BTYPE = fixed Huffman
    bits.code(0x30, 8); // literal 0
    for _ in 0..(size - 1) / 258 {
        bits.code(0xc5, 8); // length code 285: 258 bytes
        bits.code(0, 5); // distance code 0: distance 1
    }
    bits.code(0, 7); // end of block
    let data = bits.finish();
    let mut out = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    let mut n = data.len();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
    out.extend(data);
    out
}

#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u32,
    n: u32,
}

impl BitWriter {
    /// `len` bits of `value`, least significant first (deflate's header fields).
    fn put(&mut self, value: u32, len: u32) {
        for i in 0..len {
            self.acc |= ((value >> i) & 1) << self.n;
            self.n += 1;
            if self.n == 8 {
                self.out.push(self.acc as u8);
                (self.acc, self.n) = (0, 0);
            }
        }
    }

    /// A Huffman code, most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        for i in (0..len).rev() {
            self.put((code >> i) & 1, 1);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// Sends one case and checks the answer; `Err` says what was wrong.
async fn run(http: &reqwest::Client, url: &str, c: &Case) -> Result<(), String> {
    let mut req = http.request(c.method.clone(), format!("{url}{}", c.path)).body(c.body.clone());
    if let Some(t) = c.content_type {
        req = req.header(reqwest::header::CONTENT_TYPE, t);
    }
    if let Some(a) = &c.auth {
        req = req.header(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_bytes(a).unwrap(),
        );
    }
    let resp = match (req.send().await, &c.expect) {
        (Ok(r), _) => r,
        (Err(e), Expect::ErrorOrClosed(..)) if e.is_request() => return Ok(()),
        (Err(e), _) => return Err(format!("no response: {e:?}")),
    };
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = resp.bytes().await.map_err(|e| format!("body cut: {e}"))?;
    let text = String::from_utf8_lossy(&body[..body.len().min(300)]).to_string();
    let check = |ok: bool, what: String| if ok { Ok(()) } else { Err(what) };
    match c.expect {
        Expect::Error(want_status, want_code) | Expect::ErrorOrClosed(want_status, want_code) => {
            check(
                status == want_status,
                format!("status {status}, expected {want_status}: {text}"),
            )?;
            check(ctype.starts_with(JSON), format!("error content type {ctype:?}: {text}"))?;
            let v: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| format!("error body is not JSON ({e}): {text}"))?;
            check(
                v["error"]["code"] == want_code,
                format!("error.code is not {want_code}: {text}"),
            )?;
            let msg = v["error"]["message"].as_str().unwrap_or("");
            check(!msg.trim().is_empty(), format!("no error.message: {text}"))
        }
        Expect::Rejected(want_code) => {
            check(status == 200, format!("status {status}, expected 200: {text}"))?;
            check(ctype == CBOR, format!("content type {ctype:?}"))?;
            let r: PushResponse = from_cbor(&body)?;
            check(r.accepted.is_empty(), format!("accepted {:?}", r.accepted))?;
            check(r.rejected.len() == 1, format!("rejections {:?}", r.rejected))?;
            let r = &r.rejected[0];
            check(
                r.code == want_code,
                format!("rejected as {} ({}), expected {want_code}", r.code, r.message),
            )?;
            check(
                !r.message.is_empty() && !r.hashes.is_empty(),
                format!("rejection without message or hashes: {r:?}"),
            )
        }
    }
}

trait ScratchExt {
    fn owned_lead(&self, name: &str, owner: &str) -> String;
}

impl ScratchExt for Store {
    fn owned_lead(&self, name: &str, owner: &str) -> String {
        self.create_lead(LeadDraft {
            name: Some(name.into()),
            owner: Some(owner.into()),
            ..Default::default()
        })
        .unwrap()
        .id
    }
}

/// A cursor past the end of the server's feed is refused (`bad_cursor`) rather than served as
/// "nothing new": after the server is restored from an older backup, a device holding a newer
/// cursor would otherwise skip every later change numbered below it, silently and for good.
/// The client answers `bad_cursor` by pulling again from the start and sending everything it
/// wrote again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_ahead_of_a_restored_server_pulls_again_from_the_start() {
    let s = Server::start().await;
    let ws = s.workspace("acme");
    s.team(&ws, "t");
    let kim = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let boss = s.device(&ws, "boss", Role::Manager, Some("t")).await;
    let a = kim.owned("A", "kim");
    kim.sync().await.unwrap();
    boss.sync().await.unwrap();
    let backup = s.backup().await;
    for name in ["B", "C"] {
        kim.owned(name, "kim");
    }
    kim.sync().await.unwrap();
    boss.sync().await.unwrap();
    assert_eq!(boss.lead_ids().len(), 3);

    // The server is restored from the backup: it has only A, and its feed is shorter than the
    // cursor the manager's device holds.
    let s = s.restore(backup).await;
    kim.set_server(&s.url);
    boss.set_server(&s.url);
    let d = kim.owned("D after the restore", "kim");
    // D, then, once the pull is refused, every change kim wrote again (A, B, C and D): B and C,
    // acknowledged after the backup, were lost by the restore and come back from her device.
    assert_eq!(kim.sync().await.unwrap().sent, 5);
    boss.sync().await.unwrap();
    assert!(boss.lead(&d.id).is_ok(), "the manager's device never receives D");
    assert_eq!(boss.lead_ids().len(), 4);
    assert_eq!(boss.lead(&a.id).unwrap(), kim.lead(&a.id).unwrap());
    assert_eq!(boss.document_heads(&d.id).unwrap(), kim.document_heads(&d.id).unwrap());
    // And it is back on the feed: the next change arrives as a change.
    kim.update_lead(&d.id, LeadPatch { stage: Some(Stage::Won), ..Default::default() }).unwrap();
    kim.sync().await.unwrap();
    assert_eq!(boss.sync().await.unwrap().received, 1);
    assert_eq!(boss.lead(&d.id).unwrap().stage, Stage::Won);
}
