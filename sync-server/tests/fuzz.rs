//! A deterministic fuzzer against the real server on 127.0.0.1: mutated push bodies and
//! mutated Automerge changes (bit flips, byte inserts and deletes, truncation, spliced runs),
//! most of them re-checksummed so that they get past Automerge's chunk checksum and into its
//! parser, apply, save and load. Every answer must be a 200 (accepted or a per-document
//! rejection) or a 4xx with a JSON error, never a 5xx or a dropped connection, and every document
//! the server stored must load again with the heads it was stored with.
//!
//! Seeded, so a run is repeatable: `FIELDSALES_FUZZ_SEED` and `FIELDSALES_FUZZ_ITERATIONS`
//! override the defaults (the CI run is bounded by the iteration count). Iterations and findings
//! are recorded in docs/fuzzing.md.

mod common;
use automerge::{ActorId, AutoCommit};
use common::*;
use fieldsales_core::sync::protocol::*;
use fieldsales_core::*;
use fieldsales_server::backend::Role;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

const DEFAULT_ITERATIONS: usize = 60_000;

/// A chunk split into its type and data (magic, checksum and length dropped).
fn split_chunk(bytes: &[u8]) -> Option<(u8, Vec<u8>)> {
    if bytes.len() < 10 || bytes[..4] != [0x85, 0x6f, 0x4a, 0x83] {
        return None;
    }
    let ty = bytes[8];
    let (mut len, mut shift, mut i) = (0u64, 0u32, 9usize);
    loop {
        let b = *bytes.get(i)?;
        len |= u64::from(b & 0x7f) << shift;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    let data = bytes.get(i..i + usize::try_from(len).ok()?)?;
    Some((ty, data.to_vec()))
}

/// A chunk of type `ty` around `data`, with the checksum Automerge checks: the first four bytes
/// of SHA-256 over the type, the LEB128 length and the data.
fn chunk(ty: u8, data: &[u8]) -> Vec<u8> {
    let mut header = vec![ty];
    let mut n = data.len() as u64;
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            header.push(b);
            break;
        }
        header.push(b | 0x80);
    }
    let sum = Sha256::new().chain_update(&header).chain_update(data).finalize();
    let mut out = vec![0x85, 0x6f, 0x4a, 0x83];
    out.extend_from_slice(&sum[..4]);
    out.extend_from_slice(&header);
    out.extend_from_slice(data);
    out
}

/// One to four random edits of `data`.
fn mutate(rng: &mut StdRng, data: &mut Vec<u8>, donor: &[u8]) {
    for _ in 0..rng.random_range(1..=4) {
        if data.is_empty() {
            data.push(rng.random());
            continue;
        }
        let at = rng.random_range(0..data.len());
        match rng.random_range(0..8) {
            0 | 1 => data[at] ^= 1 << rng.random_range(0..8),
            2 => data[at] = rng.random(),
            3 => data.insert(at, rng.random()),
            4 => {
                let n = rng.random_range(1..=4).min(data.len() - at);
                data.drain(at..at + n);
            }
            5 => data.truncate(at),
            6 => {
                // A small number where a LEB128 or a count likely was.
                data[at] = rng.random_range(0..4);
            }
            _ => {
                // A run spliced in from another valid change.
                if !donor.is_empty() {
                    let from = rng.random_range(0..donor.len());
                    let n = rng.random_range(1..=8).min(donor.len() - from);
                    let end = (at + n).min(data.len());
                    data.splice(at..end, donor[from..from + n].iter().copied());
                }
            }
        }
    }
}

/// A mutated change: usually re-checksummed (so it reaches the parser); sometimes left with a
/// stale checksum, or with its header mutated too.
fn mutated_change(rng: &mut StdRng, change: &[u8], donor: &[u8]) -> Vec<u8> {
    let Some((ty, mut data)) = split_chunk(change) else { return change.to_vec() };
    mutate(rng, &mut data, donor);
    match rng.random_range(0..20) {
        0 => {
            let mut raw = change.to_vec();
            mutate(rng, &mut raw, donor);
            raw
        }
        1 => {
            let mut stale = chunk(ty, &data);
            stale[4] ^= 1;
            stale
        }
        _ => chunk(ty, &data),
    }
}

fn push_body(doc_id: &str, kind: DocKind, changes: &[Vec<u8>]) -> Vec<u8> {
    to_cbor(&PushRequest {
        changes: changes
            .iter()
            .map(|c| PushChange { doc_id: doc_id.into(), kind, change: c.clone() })
            .collect(),
    })
}

/// A lead with something in every container, as the app writes it.
fn seed_lead(actor: &ActorId, n: usize) -> (String, AutoCommit) {
    let id = model::new_id();
    let draft = LeadDraft {
        name: Some(format!("김민지 {n}")),
        company: Some("Acme".into()),
        emails: vec!["minji@acme.co.kr".into()],
        phones: vec!["+821012345678".into()],
        tags: vec!["expo".into(), "hot".into()],
        notes: Some("Met at the booth; wants a quote.".into()),
        deal_value: Some(Money { amount_minor: 1_000_000, currency: "KRW".into() }),
        custom_fields: vec![CustomField { key: "size".into(), value: "50".into() }],
        ..Default::default()
    };
    let doc = doc::lead::create(actor.clone(), &id, &draft, "kim", 1_700_000_000_000).unwrap();
    (id, doc)
}

/// Valid edits of `base`, each one change on the same heads, as the app writes them.
fn seed_edits(base: &mut AutoCommit) -> Vec<Vec<u8>> {
    let patches = [
        LeadPatch {
            notes: Some("Met at the booth; sent the quote today.".into()),
            ..Default::default()
        },
        LeadPatch { stage: Some(Stage::Contacted), ..Default::default() },
        LeadPatch {
            stage: Some(Stage::Lost),
            lost_reason: Some("budget".into()),
            ..Default::default()
        },
        LeadPatch {
            add_tags: vec!["vip".into()],
            remove_tags: vec!["hot".into()],
            ..Default::default()
        },
        LeadPatch {
            deal_value: Some(Money { amount_minor: 2_500_000, currency: "KRW".into() }),
            emails: Some(vec!["kim@acme.co.kr".into(), "minji@acme.co.kr".into()]),
            ..Default::default()
        },
        LeadPatch {
            name: Some("Minji Kim".into()),
            title: Some("CTO".into()),
            ..Default::default()
        },
    ];
    patches
        .iter()
        .map(|p| {
            let mut d = base.fork();
            d.set_actor(base.get_actor().clone());
            doc::lead::apply_patch(&mut d, p, "kim", 1_700_000_100_000).unwrap();
            d.commit();
            d.get_last_local_change().unwrap().raw_bytes().to_vec()
        })
        .collect()
}

struct Answer {
    status: u16,
    body: Vec<u8>,
}

async fn post(http: &reqwest::Client, url: &str, token: &str, body: Vec<u8>) -> Answer {
    let resp = http
        .post(format!("{url}/v1/push"))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, CBOR)
        .body(body)
        .send()
        .await
        .expect("the server answers every request");
    let status = resp.status().as_u16();
    let body = resp.bytes().await.expect("the whole answer arrives").to_vec();
    Answer { status, body }
}

/// The document as stored now loads, and to the heads it was saved with.
fn stored_loads(data_dir: &std::path::Path, doc_id: &str) -> Result<(), String> {
    let c = rusqlite::Connection::open_with_flags(
        db_path(data_dir),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let data: Option<Vec<u8>> =
        c.query_row("SELECT data FROM documents WHERE id = ?1", [doc_id], |r| r.get(0)).ok();
    let Some(data) = data else { return Ok(()) };
    let loaded = std::panic::catch_unwind(|| AutoCommit::load(&data).map(|mut d| d.get_heads()));
    match loaded {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("stored document {doc_id} does not load: {e}")),
        Err(_) => Err(format!("loading stored document {doc_id} panics")),
    }
}

fn all_documents(data_dir: &std::path::Path) -> Vec<String> {
    let c = rusqlite::Connection::open_with_flags(
        db_path(data_dir),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut stmt = c.prepare("SELECT id FROM documents ORDER BY id").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

#[derive(Default, Debug)]
struct Tally {
    iterations: usize,
    accepted: usize,
    rejected: std::collections::BTreeMap<String, usize>,
    errors: std::collections::BTreeMap<String, usize>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_pushes_are_refused_or_stored_loadable_and_never_a_5xx() {
    let seed: u64 =
        std::env::var("FIELDSALES_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(11);
    let iterations: usize = std::env::var("FIELDSALES_FUZZ_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_ITERATIONS);
    let findings_dir = std::env::var("FIELDSALES_FUZZ_FINDINGS").ok();
    let mut rng = StdRng::seed_from_u64(seed);

    let s = Server::start_rate_limited(1_000_000, 1_000_000).await;
    let ws = s.workspace("acme");
    let kim = s.device(&ws, "kim", Role::Rep, None).await;
    let token = kim.token();
    let actor = ActorId::try_from(kim.actor_id().as_str()).unwrap();
    let http = raw_http();

    let mut tally = Tally::default();
    let mut failures: Vec<String> = Vec::new();
    let mut round = 0usize;
    let start = std::time::Instant::now();
    while tally.iterations < iterations {
        // A fresh lead per round: once a mutated edit is stored, later edits of the same
        // sequence number could no longer apply.
        round += 1;
        let (lead_id, mut base) = seed_lead(&actor, round);
        let creation = base.get_last_local_change().unwrap().raw_bytes().to_vec();
        let a = post(
            &http,
            &s.url,
            &token,
            push_body(&lead_id, DocKind::Lead, std::slice::from_ref(&creation)),
        )
        .await;
        assert_eq!(a.status, 200, "the seed lead is stored");
        let edits = seed_edits(&mut base);
        for _ in 0..200 {
            if tally.iterations >= iterations {
                break;
            }
            tally.iterations += 1;
            let pick = rng.random_range(0..10);
            let (doc_id, body) = if pick == 0 {
                // A mutated push body around a valid edit.
                let mut body = push_body(&lead_id, DocKind::Lead, &[edits[0].clone()]);
                mutate(&mut rng, &mut body, &creation);
                (lead_id.clone(), body)
            } else if pick == 1 {
                // A mutated creation of another lead.
                let (other, mut d) = seed_lead(&actor, round * 1_000 + tally.iterations);
                let c = d.get_last_local_change().unwrap().raw_bytes().to_vec();
                let m = mutated_change(&mut rng, &c, &creation);
                (other.clone(), push_body(&other, DocKind::Lead, &[m]))
            } else {
                let e = &edits[rng.random_range(0..edits.len())];
                let donor = &edits[rng.random_range(0..edits.len())];
                let m = mutated_change(&mut rng, e, donor);
                (lead_id.clone(), push_body(&lead_id, DocKind::Lead, &[m]))
            };
            let a = post(&http, &s.url, &token, body.clone()).await;
            let mut bad = None;
            match a.status {
                200 => match from_cbor::<PushResponse>(&a.body) {
                    Ok(r) => {
                        for rej in &r.rejected {
                            *tally.rejected.entry(rej.code.clone()).or_default() += 1;
                        }
                        if !r.accepted.is_empty() {
                            tally.accepted += 1;
                            if let Err(e) = stored_loads(s.dir.path(), &doc_id) {
                                bad = Some(e);
                            }
                        }
                    }
                    Err(e) => bad = Some(format!("a 200 that is not a push response: {e}")),
                },
                400..=499 => {
                    let v: Result<serde_json::Value, _> = serde_json::from_slice(&a.body);
                    match v {
                        Ok(v) => {
                            let code = v["error"]["code"].as_str().unwrap_or("").to_string();
                            *tally.errors.entry(format!("{} {code}", a.status)).or_default() += 1;
                        }
                        Err(_) => bad = Some(format!("a {} without a JSON error", a.status)),
                    }
                }
                other => {
                    bad = Some(format!(
                        "status {other}: {}",
                        String::from_utf8_lossy(&a.body[..a.body.len().min(200)])
                    ))
                }
            }
            if let Some(why) = bad {
                if let Some(dir) = &findings_dir {
                    let n = failures.len();
                    let base_bytes = creation.clone();
                    std::fs::write(format!("{dir}/finding-{n}.base"), hex::encode(&base_bytes))
                        .unwrap();
                    std::fs::write(format!("{dir}/finding-{n}.body"), hex::encode(&body)).unwrap();
                    std::fs::write(format!("{dir}/finding-{n}.why"), &why).unwrap();
                }
                failures.push(format!("iteration {}: {why}", tally.iterations));
                // The document is damaged now: start a new round.
                break;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "fuzz: seed {seed}, {} iterations in {secs:.1} s ({round} rounds): {} accepted, rejections {:?}, errors {:?}",
        tally.iterations, tally.accepted, tally.rejected, tally.errors
    );
    // Every document the server holds loads.
    for id in all_documents(s.dir.path()) {
        if let Err(e) = stored_loads(s.dir.path(), &id) {
            failures.push(format!("after the run: {e}"));
        }
    }
    // The server still serves a well-behaved device.
    kim.owned("After the fuzz", "kim");
    if let Err(e) = kim.sync().await {
        failures.push(format!("a device's sync after the run: {e}"));
    }
    assert!(failures.is_empty(), "{} findings:\n{}", failures.len(), failures.join("\n"));
}
