//! `enroll` and `sync`: the CLI side of the sync client in the core.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Result, bail};
use fieldsales_core::store::StoreKey;
use fieldsales_core::sync::{SyncClient, SyncPhase, SyncProgress, enroll, enroll_as};
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
    let mut again = None;
    let (store, creds) = match existing {
        Some(user) => {
            let store = Store::open(db, opts(&user))?;
            let before = SyncClient::device_id(&store)?;
            // The server refuses a code for anyone else before using it up.
            let creds =
                rt.block_on(enroll_as(server, code, device_name, &store.actor_id(), Some(&user)))?;
            if before.as_deref() == Some(creds.device_id.as_str()) {
                again = Some(store.outbox_len()?);
            }
            // A server from before `user_id` was sent checks nothing: check here too.
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
    let mut msg = format!(
        "enrolled as {} ({}) in workspace {}; device {}",
        creds.user_id, creds.role, creds.workspace_id, creds.device_id
    );
    if let Some(waiting) = again {
        msg = format!(
            "enrolled this store again as {} ({}) in workspace {}; device {} has a new token \
             (the old one stays revoked); {waiting} changes waiting here go at the next \
             `fieldsales sync`",
            creds.user_id, creds.role, creds.workspace_id, creds.device_id
        );
    }
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
