//! Crash test: a child process streams writes into a store and acknowledges outbox rows the way
//! sync will; the parent kills it with SIGKILL at a random moment, reopens the store and checks
//! that it is consistent: every projection matches its document, and the outbox holds exactly
//! the local changes not yet acknowledged. Repeated over several kill cycles on one file.
//!
//! The same binary is the child when FIELDSALES_CRASH_CHILD names a store path.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fieldsales_core::*;

const CYCLES: usize = 4;

fn main() {
    if let Ok(path) = std::env::var("FIELDSALES_CRASH_CHILD") {
        child(&path);
        return;
    }
    match parent() {
        Ok(()) => println!("crash: 1 passed, 0 failed"),
        Err(e) => {
            println!("crash: 0 passed, 1 failed");
            eprintln!("crash test failed: {e}");
            std::process::exit(1);
        }
    }
}

/// Writes forever: captures, edits, activities, and every few rounds acknowledges the oldest
/// outbox rows, announcing each acknowledgement before it commits and confirming it after.
fn child(path: &str) {
    let store = Store::open(path, OpenOptions::new("rep").region("KR")).expect("child open");
    let out = std::io::stdout();
    let mut round = 0u64;
    let mut ids: Vec<String> = Vec::new();
    loop {
        round += 1;
        let l = store
            .create_lead(LeadDraft {
                name: Some(format!("Lead {round}")),
                tags: vec![format!("t{}", round % 5)],
                ..Default::default()
            })
            .expect("create");
        ids.push(l.id.clone());
        let target = &ids[(round as usize * 7) % ids.len()];
        store
            .update_lead(
                target,
                LeadPatch {
                    notes: Some(format!("round {round}")),
                    stage: Some(Stage::ALL[round as usize % 7]),
                    ..Default::default()
                },
            )
            .expect("edit");
        store
            .add_activity(ActivityDraft::new(
                target.clone(),
                ActivityKind::Call,
                format!("call {round}"),
            ))
            .expect("activity");
        if round.is_multiple_of(4) {
            let batch: Vec<String> =
                store.outbox(0, 5).expect("outbox").into_iter().map(|e| e.hash).collect();
            let mut o = out.lock();
            writeln!(o, "ACKING {}", batch.join(" ")).ok();
            o.flush().ok();
            store.ack_outbox(&batch).expect("ack");
            writeln!(o, "ACKED").ok();
            o.flush().ok();
        }
    }
}

fn parent() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("crash.db");
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut acked: HashSet<String> = HashSet::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ std::process::id() as u64;
    for cycle in 0..CYCLES {
        let mut child = Command::new(&exe)
            .env("FIELDSALES_CRASH_CHILD", &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| e.to_string())?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        // Kill after a pseudo-random number of acknowledgement lines, or a time limit.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let kill_after_lines = 6 + (seed % 30) as usize;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(l).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        let mut lines = Vec::new();
        let start = Instant::now();
        while lines.len() < kill_after_lines && start.elapsed() < Duration::from_secs(20) {
            if let Ok(l) = rx.recv_timeout(Duration::from_millis(50)) {
                lines.push(l);
            }
        }
        // SIGKILL: no destructor, no rollback, no flush runs in the child.
        child.kill().map_err(|e| e.to_string())?;
        child.wait().map_err(|e| e.to_string())?;
        let _ = reader.join();
        lines.extend(rx.try_iter());

        // Acknowledgements confirmed by "ACKED" certainly committed; the last unconfirmed
        // batch may or may not have.
        let mut maybe: HashSet<String> = HashSet::new();
        for l in &lines {
            if let Some(rest) = l.strip_prefix("ACKING ") {
                maybe = rest.split_whitespace().map(str::to_string).collect();
            } else if l == "ACKED" {
                acked.extend(maybe.drain());
            }
        }

        let store =
            Store::open(&path, OpenOptions::new("rep").region("KR")).map_err(|e| e.to_string())?;
        let report = store.verify().map_err(|e| e.to_string())?;
        if !report.projection_mismatches.is_empty() || !report.problems.is_empty() {
            return Err(format!("cycle {cycle}: {report:?}"));
        }
        let outbox: HashSet<String> = store
            .outbox(0, u32::MAX)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|e| e.hash)
            .collect();
        let local: HashSet<String> =
            store.local_change_hashes().map_err(|e| e.to_string())?.into_iter().collect();
        if let Some(h) = outbox.iter().find(|h| acked.contains(*h)) {
            return Err(format!("cycle {cycle}: acknowledged change {h} is back in the outbox"));
        }
        let missing: Vec<&String> = local
            .iter()
            .filter(|h| !outbox.contains(*h) && !acked.contains(*h) && !maybe.contains(*h))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "cycle {cycle}: {} local changes are neither in the outbox nor acknowledged",
                missing.len()
            ));
        }
        // Settle the uncertain batch the way a retried sync would.
        let settled: Vec<String> = maybe.into_iter().collect();
        store.ack_outbox(&settled).map_err(|e| e.to_string())?;
        acked.extend(settled);
        let leads = store
            .list_leads(&LeadQuery { limit: 1, ..Default::default() })
            .map_err(|e| e.to_string())?;
        if cycle > 0 && leads.items.is_empty() {
            return Err(format!("cycle {cycle}: no leads survived"));
        }
        eprintln!(
            "crash cycle {cycle}: {} documents, {} in outbox, {} acknowledged, killed after {} lines",
            report.documents,
            outbox.len(),
            acked.len(),
            lines.len()
        );
    }
    Ok(())
}
