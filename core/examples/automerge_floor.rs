//! What one typical lead costs in Automerge alone, on one thread, with no SQLite at all: the
//! floor under issue 16's capture, import, bootstrap and push targets. Each step runs over the
//! same 2,000 leads, five rounds, and the best round's mean per lead is kept (the least
//! disturbed by others on a shared machine). A plain single-row insert, each in its own
//! transaction (the store bench's baseline), is measured in the same run.
//!
//! From the steps it prints the most any code built on these Automerge calls could reach on this
//! machine's cores (`available_parallelism`), however well the rest (SQLite, threads) is done:
//! a target above that bound needs less Automerge work per record, which the fixed design (one
//! Automerge document per record, the wire protocol unchanged) does not allow.
//!
//! ```text
//! cargo run --release -p fieldsales-core --example automerge_floor
//! ```

use std::hint::black_box;
use std::time::Instant;

use automerge::{ActorId, AutoCommit, Change, ReadDoc};
use fieldsales_core::doc::{self, DocKind, check, lead};
use fieldsales_core::validate::Validator;

const LEADS: usize = 2_000;
const ROUNDS: usize = 5;

/// The best of `ROUNDS` rounds of `step` over every lead, in µs per lead.
fn per_lead<T>(n: usize, mut step: impl FnMut(usize) -> T) -> f64 {
    (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            for i in 0..n {
                black_box(step(i));
            }
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let v = Validator::new("KR")?;
    let mut drafts = testkit::drafts(16, LEADS, &testkit::companies());
    let ids: Vec<String> = (0..LEADS).map(|_| fieldsales_core::new_id()).collect();
    let actor = ActorId::random();
    let build = |i: usize, d: &fieldsales_core::LeadDraft| {
        lead::create(actor.clone(), &ids[i], d, "rep01", testkit::T0)
    };

    // Capture and import: check the draft, build the document, save it uncompressed (what the
    // store keeps; `save()`, which deflates, for comparison).
    let raw = drafts.clone();
    let validate = per_lead(LEADS, |i| v.lead_draft(&mut raw[i].clone()));
    for d in &mut drafts {
        v.lead_draft(d)?;
    }
    let build_us = per_lead(LEADS, |i| build(i, &drafts[i]));
    let mut docs =
        drafts.iter().enumerate().map(|(i, d)| build(i, d)).collect::<Result<Vec<_>, _>>()?;
    let deflated_us = per_lead(LEADS, |i| docs[i].save());
    let save_us = per_lead(LEADS, |i| docs[i].save_nocompress());
    let deflated_len = docs.iter_mut().map(|d| d.save().len()).sum::<usize>() / LEADS;
    let save_len = docs.iter_mut().map(|d| d.save_nocompress().len()).sum::<usize>() / LEADS;

    // A bootstrap, on the device: load each snapshot the server sends (its uncompressed save)
    // and read the lead out of it.
    let snapshots: Vec<Vec<u8>> = docs.iter_mut().map(AutoCommit::save_nocompress).collect();
    let load_us = per_lead(LEADS, |i| AutoCommit::load(&snapshots[i]));
    let loaded = snapshots.iter().map(|s| AutoCommit::load(s)).collect::<Result<Vec<_>, _>>()?;
    let read_us = per_lead(LEADS, |i| lead::read(&loaded[i], &ids[i]));
    let walk_us = per_lead(LEADS, |i| {
        check::within(&loaded[i], check::MAX_READ_DEPTH, check::MAX_READ_VALUES, false)
    });
    let hydrate_us = per_lead(LEADS, |i| loaded[i].hydrate(&automerge::ROOT, None));

    // A push, on the server: each lead's one change applied to a new document, the shape check,
    // the uncompressed save and the load that proves it loads again.
    let changes: Vec<Vec<u8>> = docs
        .iter_mut()
        .map(|d| d.get_last_local_change().map(|c| c.raw_bytes().to_vec()))
        .collect::<Option<_>>()
        .ok_or_else(|| anyhow::anyhow!("a new lead without its change"))?;
    let apply_us = per_lead(LEADS, |i| -> anyhow::Result<AutoCommit> {
        let mut d = AutoCommit::new();
        d.apply_changes([Change::from_bytes(changes[i].clone())?])?;
        Ok(d)
    });
    let load_change_us = per_lead(LEADS, |i| AutoCommit::load(&changes[i]));
    let check_us = per_lead(LEADS, |i| check::check(&loaded[i], &ids[i], DocKind::Lead));
    let strict_walk_us =
        per_lead(LEADS, |i| check::within(&loaded[i], check::APP_DEPTH, check::MAX_VALUES, true));
    // The loaded copies' reads and checks agree with the originals: the steps measured real work.
    for (i, d) in loaded.iter().enumerate() {
        anyhow::ensure!(doc::kind_of(d) == Some(DocKind::Lead), "lead {i} is a lead");
        anyhow::ensure!(lead::read(d, &ids[i])?.name == drafts[i].name, "lead {i} reads back");
    }

    let dir = tempfile::tempdir()?;
    let plain = testkit::bench::baseline_db(&dir.path().join("plain.db"), "NORMAL");
    let insert_us = per_lead(LEADS, |i| {
        let key = fieldsales_core::new_id();
        plain.execute_batch("BEGIN")?;
        testkit::bench::baseline_insert(&plain, &key, &drafts[i], testkit::T0);
        plain.execute_batch("COMMIT")
    });

    let capture = validate + build_us + save_us;
    let bootstrap = load_us + read_us;
    let push = apply_us + check_us + save_us + load_us;
    let rate = |us: f64| cores as f64 * 1e6 / us;
    println!(
        "Automerge's share of one typical lead, best of {ROUNDS} rounds over {LEADS} leads (µs per lead, one thread):"
    );
    println!("  validate the draft     {validate:7.1}");
    println!(
        "  build the document     {build_us:7.1}   (lead::create: init_root_from_hydrate + commit)"
    );
    println!("  save_nocompress()      {save_us:7.1}   ({save_len} bytes; what a write stores)");
    println!("  save()                 {deflated_us:7.1}   ({deflated_len} bytes; deflated)");
    println!("  load a snapshot        {load_us:7.1}   (AutoCommit::load of save_nocompress)");
    println!("  read the lead          {read_us:7.1}   (lead::read: bounds walk + hydrate)");
    println!("    of it, the bounds walk {walk_us:7.1}   (check::within)");
    println!("    of it, hydrate       {hydrate_us:7.1}");
    println!("  apply its change       {apply_us:7.1}   (a new document, as the server's push)");
    println!(
        "  load its change        {load_change_us:7.1}   (AutoCommit::load of the change's bytes)"
    );
    println!("  shape check            {check_us:7.1}   (check::check, as the server's push)");
    println!("    of it, the strict walk {strict_walk_us:5.1}   (check::within into texts)");
    println!("    of it, reading it    {read_us:7.1}   (lead::read, as above)");
    println!(
        "  plain insert, own tx   {insert_us:7.1}   (baseline: one row, WAL, synchronous=NORMAL)"
    );
    println!("Floors, Automerge only, no SQLite ({cores} cores):");
    println!(
        "  capture: validate + build + save_nocompress = {capture:.1} µs = {:.1}x the plain insert (target 3x)",
        capture / insert_us
    );
    println!(
        "  import: {capture:.1} µs a lead on {cores} cores: at most {:.0} leads/s (target 20,000)",
        rate(capture)
    );
    println!(
        "  bootstrap: load + read = {bootstrap:.1} µs a document: at most {:.0} documents/s (target 20,000)",
        rate(bootstrap)
    );
    println!(
        "  push, server: apply + check + save_nocompress + load = {push:.1} µs a document: at most {:.0} documents/s (target 10,000)",
        rate(push)
    );
    println!("(load average {})", testkit::bench::load_average());
    Ok(())
}
