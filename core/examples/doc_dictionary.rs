//! Trains the dictionary `core/src/store/packed.rs` packs documents with, and says what it
//! saves. The samples are documents a real store writes (captures, edits, activities), with
//! every text drawn at random (`testkit::data::random_draft`): the dictionary learns the
//! layout of a document, not the benches' names and notes, which are measured afterwards on
//! documents it never saw.
//!
//! ```text
//! cargo run --release -p fieldsales-core --example doc_dictionary -- core/src/store/documents.dict
//! ```
//!
//! The shipped dictionary must never be replaced (packed documents name it by id); see
//! `packed.rs` for adding a second one.

use automerge::AutoCommit;
use fieldsales_core::{LeadPatch, OpenOptions, Store};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// 64 KB: 433 B a typical lead at level 3 against 459 B with 16 KB and 443 B with 110 KB
/// (one run of this example with the sizes swept).
const DICTIONARY_BYTES: usize = 64 * 1024;

/// The uncompressed bytes compaction packs, of a document a store handed out.
fn raw(saved: &[u8]) -> Vec<u8> {
    let mut d = AutoCommit::load(saved).expect("a stored document loads");
    fieldsales_core::doc::uncompressed_chunk(&mut d)
}

/// Documents of `leads` random leads, a fifth of them edited once, and one random activity on
/// each of half of them, each captured by a store of its own rep (actor).
fn samples(seed: u64, leads: usize) -> Vec<Vec<u8>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut out = Vec::new();
    for rep in 0..leads.div_ceil(1000) {
        let path = dir.path().join(format!("rep{rep}.db"));
        let s = Store::open(&path, OpenOptions::new(format!("rep{rep}")).region("KR"))
            .expect("open store");
        for i in 0..1000.min(leads - rep * 1000) {
            let l = s.create_lead(testkit::data::random_draft(&mut rng)).expect("capture");
            if i % 5 == 0 {
                let patch = LeadPatch {
                    title: Some(format!("t{}", i * 7919 % 1000)),
                    ..Default::default()
                };
                s.update_lead(&l.id, patch).expect("edit");
            }
            out.push(raw(&s.document_bytes(&l.id).expect("lead bytes")));
            if i % 2 == 0 {
                let a = s
                    .add_activity(testkit::data::random_activity(&mut rng, &l.id))
                    .expect("activity");
                out.push(raw(&s.document_bytes(&a.id).expect("activity bytes")));
            }
        }
    }
    out
}

/// Typical leads of the benches (`testkit::drafts`), captured once each.
fn typical(n: usize) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Store::open(dir.path().join("typical.db"), OpenOptions::new("rep01").region("KR"))
        .expect("open store");
    testkit::drafts(7, n, &testkit::companies())
        .into_iter()
        .map(|d| {
            let l = s.create_lead(d).expect("capture");
            raw(&s.document_bytes(&l.id).expect("lead bytes"))
        })
        .collect()
}

fn mean_len(v: &[Vec<u8>]) -> f64 {
    v.iter().map(Vec::len).sum::<usize>() as f64 / v.len().max(1) as f64
}

fn packed_mean(dict: &[u8], docs: &[Vec<u8>]) -> f64 {
    // The level `packed` uses.
    let mut c = zstd::bulk::Compressor::with_dictionary(9, dict).expect("compressor");
    c.include_checksum(false).expect("option");
    let packed: Vec<Vec<u8>> = docs.iter().map(|d| c.compress(d).expect("compress")).collect();
    mean_len(&packed)
}

fn main() {
    let out = std::env::args().nth(1);
    let train = samples(1, 20_000);
    let held_out = samples(2, 2_000);
    let typical = typical(2_000);
    let dict = zstd::dict::from_samples(&train, DICTIONARY_BYTES).expect("train");
    println!("trained on {} documents ({:.0} B each, uncompressed)", train.len(), mean_len(&train));
    println!(
        "random documents it never saw: {:.0} B raw -> {:.0} B packed",
        mean_len(&held_out),
        packed_mean(&dict, &held_out)
    );
    println!(
        "typical leads of the benches: {:.0} B raw -> {:.0} B packed (without the dictionary {:.0} B)",
        mean_len(&typical),
        packed_mean(&dict, &typical),
        packed_mean(&[], &typical)
    );
    if let Some(path) = out {
        std::fs::write(&path, &dict).expect("write the dictionary");
        println!("wrote {} B to {path}", dict.len());
    }
}
