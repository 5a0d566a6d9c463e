//! `quarantine list|show|apply|discard|export`: what the server refused (or sent damaged), in
//! plain words, and what to do about it. The words and the decisions are the core's
//! (`store/quarantine.rs`); this prints them.

use std::io::Write;

use anyhow::Result;
use fieldsales_core::doc::diff::FieldEdit;
use fieldsales_core::{QuarantineEntry, Store, Zone, conflicts};

use crate::print::clean;

/// A value as its field shows it; "(not set)" for none.
fn value(field: &str, v: &Option<String>, tz: &Zone) -> String {
    match v {
        Some(v) => clean(&conflicts::shown(field, v, tz)),
        None => "(not set)".into(),
    }
}

/// One field of a change: `company  Hanbit → Hanbit Tech`, `notes  added "…"`.
pub fn field_line(f: &FieldEdit, tz: &Zone) -> String {
    let quoted = |s: &str| format!("\u{201c}{}\u{201d}", clean(s.trim()));
    let what = match f.field.as_str() {
        "notes" | "text" => match (&f.old, &f.new) {
            (None, Some(n)) => format!("added {}", quoted(n)),
            (Some(o), None) => format!("removed {}", quoted(o)),
            (Some(o), Some(n)) => format!("{} → {}", quoted(o), quoted(n)),
            (None, None) => String::new(),
        },
        "tags" | "emails" | "phones" => {
            let mut parts = Vec::new();
            if let Some(n) = &f.new {
                parts.push(format!("added {}", clean(n)));
            }
            if let Some(o) = &f.old {
                parts.push(format!("removed {}", clean(o)));
            }
            parts.join("; ")
        }
        field => format!("{} → {}", value(field, &f.old, tz), value(field, &f.new, tz)),
    };
    format!("{:<14} {what}", clean(&f.field))
}

fn kind(e: &QuarantineEntry) -> &'static str {
    e.kind.as_str()
}

pub fn list(store: &Store, json: bool, tz: &Zone, out: &mut dyn Write) -> Result<()> {
    let q = store.quarantine()?;
    if json {
        return crate::json(out, &q);
    }
    if q.is_empty() {
        writeln!(out, "nothing in quarantine")?;
        return Ok(());
    }
    for e in &q {
        let fields: Vec<&str> = e.detail.fields.iter().map(|f| f.field.as_str()).collect();
        let what = if e.detail.created {
            "created".to_string()
        } else if fields.is_empty() {
            "changed".to_string()
        } else {
            fields.join(", ")
        };
        writeln!(
            out,
            "#{:<4} {}  {} {}: {}  [{}]",
            e.id,
            tz.format_short(e.at),
            kind(e),
            clean(&format!("\u{201c}{}\u{201d}", e.detail.record)),
            clean(&what),
            e.code
        )?;
    }
    writeln!(out, "see one with `fieldsales quarantine show ID`")?;
    Ok(())
}

pub fn show(store: &Store, id: i64, json: bool, tz: &Zone, out: &mut dyn Write) -> Result<()> {
    let e = store.quarantine_entry(id)?;
    if json {
        return crate::json(out, &e);
    }
    writeln!(
        out,
        "quarantine entry {}: {} \u{201c}{}\u{201d} ({})",
        e.id,
        kind(&e),
        clean(&e.detail.record),
        e.doc_id
    )?;
    writeln!(out, "  kept aside   {}", tz.format_full(e.at))?;
    writeln!(out, "  refused      {}: {}", e.code, clean(&e.reason))?;
    let heading = if e.detail.created { "what you created" } else { "what you changed" };
    writeln!(out, "  {heading}:")?;
    if e.detail.fields.is_empty() {
        writeln!(out, "    (nothing this app can show; `quarantine export` has the raw change)")?;
    }
    for f in &e.detail.fields {
        writeln!(out, "    {}", field_line(f, tz))?;
    }
    writeln!(out, "  why          {}", clean(&e.why))?;
    writeln!(out, "  what to do   {}", clean(&e.what_to_do))?;
    Ok(())
}

pub fn apply(store: &Store, id: i64, json: bool, tz: &Zone, out: &mut dyn Write) -> Result<()> {
    let done = store.quarantine_apply(id)?;
    if json {
        return crate::json(out, &done);
    }
    let cleared: Vec<String> = done.cleared.iter().map(|i| format!("#{i}")).collect();
    if done.resent {
        writeln!(
            out,
            "\u{201c}{}\u{201d} is not on this device any more: the change goes to the server \
             again as it was at the next `fieldsales sync` ({} out of quarantine)",
            clean(&done.record),
            cleared.join(", ")
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "applied to \u{201c}{}\u{201d} as a new change ({} out of quarantine); it goes to the \
         server at the next `fieldsales sync`",
        clean(&done.record),
        cleared.join(", ")
    )?;
    if done.applied.is_empty() {
        writeln!(out, "  (the record already held these values)")?;
    }
    for f in &done.applied {
        writeln!(out, "    {}", field_line(f, tz))?;
    }
    for s in &done.skipped {
        writeln!(out, "  left out: {}", clean(s))?;
    }
    Ok(())
}

pub fn discard(store: &Store, id: i64, json: bool, out: &mut dyn Write) -> Result<()> {
    let e = store.quarantine_discard(id)?;
    if json {
        return crate::json(out, &e);
    }
    writeln!(
        out,
        "discarded quarantine entry {} ({} \u{201c}{}\u{201d})",
        e.id,
        kind(&e),
        clean(&e.detail.record)
    )?;
    Ok(())
}

/// Everything kept aside, with the raw changes (hex) so nothing is lost even if this app cannot
/// show it.
pub fn export(store: &Store, out: &mut dyn Write) -> Result<usize> {
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
