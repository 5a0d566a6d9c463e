//! `fieldsales import`: builds the caller's overrides of the detected column mapping, runs the
//! core's import and prints the mapping, the per-row errors and what was (or would be) written.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use fieldsales_core::Store;
use fieldsales_core::import::{Column, ColumnMapping, ImportOptions, ImportReport, MappedBy};

use crate::print::{clean, width};

pub struct Args<'a> {
    pub file: &'a Path,
    pub dry_run: bool,
    pub map: &'a [String],
    pub ignore: &'a [String],
    pub currency: Option<&'a str>,
    pub skip_invalid: bool,
}

/// Exits 1 when any row had an error (whether or not the valid rows were imported). Without a
/// store (a dry run before the first lead), rows are checked as for an empty store in `region`.
pub fn run(
    store: Option<&Store>,
    region: &str,
    a: &Args<'_>,
    json: bool,
    out: &mut dyn Write,
) -> Result<ExitCode> {
    let bytes =
        std::fs::read(a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let mut mapping = ColumnMapping::new();
    for m in a.map {
        let (header, field) = m.rsplit_once('=').ok_or_else(|| {
            anyhow!("--map '{m}' is not HEADER=FIELD (such as \"Company Name=company\")")
        })?;
        let target = Column::parse(field).map_err(|e| anyhow!("--map '{m}': {e}"))?;
        mapping.set(header, target);
    }
    for h in a.ignore {
        mapping.ignore(h);
    }
    let overridden = !a.map.is_empty() || !a.ignore.is_empty();
    let opts = ImportOptions {
        mapping: overridden.then_some(mapping),
        dry_run: a.dry_run,
        default_currency: a.currency.map(str::to_string),
        skip_invalid: a.skip_invalid,
    };
    let report = match store {
        Some(store) => store.import_csv_with(bytes.as_slice(), opts)?,
        None => fieldsales_core::import::check_csv(bytes.as_slice(), region, opts)?,
    };
    if json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        print_report(out, &report, a.skip_invalid)?;
    }
    Ok(if report.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The mapping (one line per column), the errors (one line each, by file line), and a summary.
pub fn print_report(out: &mut dyn Write, r: &ImportReport, skip_invalid: bool) -> Result<()> {
    writeln!(out, "columns:")?;
    let w = r.mapping.columns().iter().map(|c| width(&clean(&c.header))).max().unwrap_or(0).min(40);
    for c in r.mapping.columns() {
        let header = clean(&c.header);
        let pad = " ".repeat(w.saturating_sub(width(&header)));
        let what = match &c.target {
            Column::Ignore => "ignored".to_string(),
            Column::Custom(k) => format!("custom field \"{}\"", clean(k)),
            t => t.to_string(),
        };
        let why = match (c.by, &c.note) {
            (_, Some(note)) => format!(" ({})", clean(note)),
            (MappedBy::Unknown, None) => " (not recognised)".to_string(),
            (MappedBy::Caller, None) => " (--map)".to_string(),
            _ => String::new(),
        };
        writeln!(out, "  {header}{pad} → {what}{why}")?;
    }
    if !r.errors.is_empty() {
        writeln!(out, "errors:")?;
        for e in &r.errors {
            match &e.column {
                Some(c) => writeln!(out, "  line {}, {}: {}", e.row, clean(c), clean(&e.message))?,
                None => writeln!(out, "  line {}: {}", e.row, clean(&e.message))?,
            }
        }
    }
    let failed = r.errors.iter().map(|e| e.row).collect::<BTreeSet<_>>().len();
    let rows = |n: usize| if n == 1 { "1 row".to_string() } else { format!("{n} rows") };
    if r.dry_run {
        writeln!(
            out,
            "dry run: {} read, {} would be imported, {} with errors; nothing was written",
            rows(r.rows_read),
            r.valid_rows,
            failed
        )?;
    } else if r.imported > 0 || r.errors.is_empty() {
        let skipped = if failed > 0 {
            format!(", {} with errors skipped", rows(failed))
        } else {
            String::new()
        };
        writeln!(out, "imported {} of {}{skipped}", r.imported, rows(r.rows_read))?;
    } else if r.valid_rows > 0 && !skip_invalid {
        writeln!(
            out,
            "nothing was imported: {} with errors (fix them, or pass --skip-invalid to import the {} valid ones)",
            rows(failed),
            r.valid_rows
        )?;
    } else {
        writeln!(out, "nothing was imported: {} with errors", rows(failed))?;
    }
    Ok(())
}
