//! `enroll`, `sync` and `quarantine`: the CLI side of the sync client in the core.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Result, bail};
use fieldsales_core::Zone;
use fieldsales_core::store::StoreKey;
use fieldsales_core::sync::{SyncClient, SyncPhase, SyncProgress, enroll};
use fieldsales_core::{OpenOptions, Store, store};

/// Enrolls this device. A new store is created for the enrolled user with the actor id the
/// server now knows; an existing store keeps its actor and must belong to the same user.
/// `opts` gives the options to open the store for a user (region, key); `key` reads an
/// existing encrypted store's user.
pub fn enroll_device(
    db: &Path,
    key: Option<&StoreKey>,
    opts: &dyn Fn(&str) -> OpenOptions,
    server: &str,
    code: &str,
    device_name: &str,
    rt: &tokio::runtime::Runtime,
) -> Result<(Store, String)> {
    let existing = Store::peek_user_keyed(db, key)?;
    let (store, creds) = match existing {
        Some(user) => {
            let store = Store::open(db, opts(&user))?;
            let creds = rt.block_on(enroll(server, code, device_name, &store.actor_id()))?;
            if creds.user_id != user {
                bail!(
                    "this code enrolls user '{}', but the store at {} belongs to '{user}'",
                    creds.user_id,
                    db.display()
                );
            }
            (store, creds)
        }
        None => {
            let actor = store::new_actor().to_hex_string();
            let creds = rt.block_on(enroll(server, code, device_name, &actor))?;
            (Store::open(db, opts(&creds.user_id).actor(&actor))?, creds)
        }
    };
    SyncClient::save_credentials(&store, &creds)?;
    let msg = format!(
        "enrolled as {} ({}) in workspace {}; device {}",
        creds.user_id, creds.role, creds.workspace_id, creds.device_id
    );
    Ok((store, msg))
}

/// Shows progress on a terminal for runs long enough to need it.
fn progress_printer() -> impl Fn(SyncProgress) + Send + Sync {
    let tty = std::io::stderr().is_terminal();
    move |p: SyncProgress| {
        if !tty || p.total < 200 {
            return;
        }
        let phase = match p.phase {
            SyncPhase::Push => "sending",
            SyncPhase::Pull => "receiving",
        };
        let width = 30usize;
        let filled = (p.done.min(p.total) as usize * width) / p.total.max(1) as usize;
        let _ = write!(
            std::io::stderr(),
            "\r{phase:>9} [{}{}] {}/{}   ",
            "#".repeat(filled),
            " ".repeat(width - filled),
            p.done,
            p.total
        );
        if p.done >= p.total {
            let _ = writeln!(std::io::stderr());
        }
    }
}

pub fn sync(
    store: &Store,
    rt: &tokio::runtime::Runtime,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let client = SyncClient::for_store(store)?;
    let progress = progress_printer();
    let s = rt.block_on(client.sync(store, &progress))?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &s)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "sent {}, received {}, rejected {}, dropped {}, leads with conflicts {}",
            s.sent, s.received, s.rejected, s.dropped, s.conflicts
        )?;
        if s.set_aside > 0 {
            writeln!(
                out,
                "{} damaged record(s) from the server were set aside, not merged: see `fieldsales quarantine list`",
                s.set_aside
            )?;
        }
        if s.rejected > 0 {
            writeln!(
                out,
                "some changes were refused by the server and kept aside: see `fieldsales quarantine list`"
            )?;
        }
    }
    Ok(())
}

pub fn quarantine_list(store: &Store, json: bool, tz: &Zone, out: &mut dyn Write) -> Result<()> {
    let q = store.quarantine()?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &q)?;
        writeln!(out)?;
        return Ok(());
    }
    if q.is_empty() {
        writeln!(out, "nothing in quarantine")?;
        return Ok(());
    }
    for e in &q {
        writeln!(
            out,
            "{}  {} {}  {}: {}",
            tz.format_short(e.at),
            e.kind.as_str(),
            e.doc_id,
            e.code,
            e.reason
        )?;
    }
    Ok(())
}

/// Everything kept aside, with the raw changes (hex) so nothing is lost even if this app cannot
/// show it.
pub fn quarantine_export(store: &Store, out: &mut dyn Write) -> Result<usize> {
    let q = store.quarantine()?;
    let v: Vec<serde_json::Value> = q
        .iter()
        .map(|e| {
            let mut j = serde_json::to_value(e).unwrap_or_default();
            j["change_hex"] = serde_json::Value::from(
                e.change.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            );
            j
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)?;
    Ok(q.len())
}
