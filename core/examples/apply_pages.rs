//! The device's side of a bootstrap alone, without a server: `N` typical leads' saved documents
//! (built once and kept in `/tmp/fieldsales-apply-pages-N.bin`) applied to a fresh store with
//! `Store::apply_pull` in pages of 1,000 snapshots, as a new device's first pull does. The sync
//! bench times the whole sync (server, transport and device); this isolates what core does.
//!
//! ```text
//! cargo build --release -p fieldsales-core --example apply_pages
//! /usr/bin/time target/release/examples/apply_pages 100000
//! ```

use std::io::{Read, Write};
use std::time::Instant;

use fieldsales_core::{DocKind, OpenOptions, PullApply, Store};

const PAGE: usize = 1000;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let snapshots = snapshots(n);
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = OpenOptions::new("manager").region("KR");
    let s = Store::open(dir.path().join("device.db"), opts).expect("open store");
    let t = Instant::now();
    for (i, page) in snapshots.chunks(PAGE).enumerate() {
        let items = page
            .iter()
            .map(|(id, data)| PullApply::Snapshot {
                doc_id: id.clone(),
                kind: DocKind::Lead,
                data: data.clone(),
            })
            .collect();
        let r = s.apply_pull(items, Some(&i.to_string())).expect("apply page");
        assert_eq!(r.changed.leads.len(), page.len(), "every lead of page {i} stored");
    }
    let e = t.elapsed();
    println!(
        "apply_pull of {} lead snapshots in pages of {PAGE}: {:.2} s = {:.0} documents/s (load average {})",
        snapshots.len(),
        e.as_secs_f64(),
        snapshots.len() as f64 / e.as_secs_f64(),
        testkit::bench::load_average()
    );
}

/// `(id, saved document)` of `n` typical leads, from the cache file or built and cached.
fn snapshots(n: usize) -> Vec<(String, Vec<u8>)> {
    let path = std::env::temp_dir().join(format!("fieldsales-apply-pages-{n}.bin"));
    if let Ok(mut f) = std::fs::File::open(&path) {
        let mut all = Vec::new();
        f.read_to_end(&mut all).expect("read cache");
        let mut rest = all.as_slice();
        let mut out = Vec::new();
        while !rest.is_empty() {
            let id = String::from_utf8(take(&mut rest).to_vec()).expect("id");
            out.push((id, take(&mut rest).to_vec()));
        }
        return out;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Store::open(dir.path().join("source.db"), OpenOptions::new("kim").region("KR"))
        .expect("open store");
    let companies = testkit::companies();
    let mut out = Vec::new();
    for chunk in 0..n.div_ceil(PAGE) {
        let drafts = testkit::drafts(chunk as u64, PAGE.min(n - chunk * PAGE), &companies);
        for l in s.create_leads(drafts).expect("create leads") {
            out.push((l.id.clone(), s.document_bytes(&l.id).expect("document")));
        }
    }
    let mut f = std::fs::File::create(&path).expect("create cache");
    for (id, data) in &out {
        for part in [id.as_bytes(), data] {
            f.write_all(&(part.len() as u32).to_le_bytes()).expect("write cache");
            f.write_all(part).expect("write cache");
        }
    }
    out
}

/// The next length-prefixed part of the cache.
fn take<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    let (len, tail) = rest.split_at(4);
    let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
    let (part, tail) = tail.split_at(len);
    *rest = tail;
    part
}
