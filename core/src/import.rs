//! CSV import of leads: a column mapping detected from the headers that common CRMs and address
//! books write (and this app's own export), overridable by the caller; a dry run that reports
//! every row's problems; and an import that never half-applies.
//!
//! Reading: a UTF-8 BOM (or a UTF-16 file with its BOM) is accepted, the delimiter (`,`, `;` or
//! tab) is sniffed from the header line (or taken from Excel's `sep=;` first line), quoted fields
//! may span lines, and line ends may be CRLF. Headers are compared without case, spacing or
//! punctuation, so "E-mail Address", "email_address" and "EmailAddress" are one header.
//!
//! Mapping: every column goes somewhere. A header that is not recognised becomes a custom field
//! named after the header; a second column for a field that takes one value (two "Title"
//! columns) becomes a custom field too; only columns that carry nothing a lead can hold (the
//! label columns of a Google Contacts export, this app's `created_at`…) are ignored, and the
//! mapping in the report says so.
//!
//! Writing: all valid rows go to [`Store::create_leads`] in one transaction. By default a
//! single bad row imports nothing; [`ImportOptions::skip_invalid`] imports the valid rows
//! instead. A row whose `id` is already in the store is an error ("already imported"), so a
//! retried import cannot duplicate leads.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use serde::{Serialize, Serializer};

use crate::calendar::Zone;
use crate::model::{
    CaptureChannel, CustomField, LeadDraft, Millis, Money, Potential, Stage, currency_exponent,
    parse_id,
};
use crate::store::Store;
use crate::validate::{self, MAX_CUSTOM_KEY, MAX_CUSTOM_VALUE, Validator};
use crate::{Error, Result, ValidationError as V};

/// Where the values of one column go.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// The lead's id (this app's export); kept, so that a retried import is recognised.
    Id,
    /// The full name.
    Name,
    /// Combined with [`Target::MiddleName`] and [`Target::LastName`] into the name when no
    /// full name is given ("김" + "철수" → "김철수", "Jane" + "Doe" → "Jane Doe").
    FirstName,
    MiddleName,
    LastName,
    Company,
    /// Job title.
    Title,
    /// One or more e-mail addresses (separated by `;`, `,` or spaces); several columns add up.
    Email,
    /// One or more phone numbers (separated by `;`, `,` or `:::`); several columns add up.
    Phone,
    Event,
    Channel,
    /// A "lead source": the capture channel when it names one ("Web", "badge scan"), otherwise
    /// the event (or, when an event column exists too, a custom field named after the header).
    Source,
    Stage,
    LostReason,
    Potential,
    /// A deal value in major units ("1,500.50"), in the currency of the [`Target::Currency`]
    /// column, of a code written in the cell ("1500 USD"), or the import's default currency.
    Amount,
    /// A deal value in minor units (this app's `deal_amount_minor`).
    AmountMinor,
    Currency,
    Owner,
    /// Tags separated by `;` (also `,` and `:::` in other apps' files); several columns add up.
    Tags,
    /// Several notes columns are joined with a blank line.
    Notes,
    /// RFC 3339, a date (YYYY-MM-DD, UTC midnight) or milliseconds since 1970 (this app's export).
    NextFollowUp,
    /// This app's `deleted` flag: a row of a deleted lead is refused rather than brought back.
    Deleted,
    /// A custom field with this key.
    Custom(String),
    /// The column is not read.
    Ignore,
}

const TARGET_NAMES: &str = "id, name, first_name, middle_name, last_name, company, title, email, phone, event, channel, \
source, stage, lost_reason, potential, amount, amount_minor, currency, owner, tags, notes, next_follow_up, deleted, \
custom, custom.<key>, ignore";

impl Target {
    /// Parses a field name as a user types it (`--map "Header=field"`): the names of
    /// [`Target`]'s `Display`, this app's export columns, and `custom` (a custom field named
    /// after the header, filled in by [`ColumnMapping::set`]) or `custom.<key>`.
    pub fn parse(s: &str) -> Result<Target, V> {
        let t = s.trim();
        if let Some(key) = t.strip_prefix("custom.").or_else(|| t.strip_prefix("custom:")) {
            let key = key.trim();
            if key.is_empty() {
                return Err(V::Empty { field: "custom field name" });
            }
            validate::check_len("custom field name", key, MAX_CUSTOM_KEY)?;
            return Ok(Target::Custom(key.to_string()));
        }
        let n = t.to_ascii_lowercase().replace(['-', ' '], "_");
        Ok(match n.as_str() {
            "id" => Target::Id,
            "name" | "full_name" => Target::Name,
            "first_name" | "given_name" => Target::FirstName,
            "middle_name" => Target::MiddleName,
            "last_name" | "family_name" | "surname" => Target::LastName,
            "company" | "organization" | "organisation" => Target::Company,
            "title" | "job_title" => Target::Title,
            "email" | "emails" | "e_mail" => Target::Email,
            "phone" | "phones" | "mobile" => Target::Phone,
            "event" => Target::Event,
            "channel" => Target::Channel,
            "source" | "lead_source" => Target::Source,
            "stage" | "status" => Target::Stage,
            "lost_reason" => Target::LostReason,
            "potential" | "rating" => Target::Potential,
            "amount" | "deal_value" | "value" => Target::Amount,
            "amount_minor" | "deal_amount_minor" => Target::AmountMinor,
            "currency" | "deal_currency" => Target::Currency,
            "owner" => Target::Owner,
            "tags" | "tag" | "labels" => Target::Tags,
            "notes" | "note" | "description" => Target::Notes,
            "next_follow_up" | "follow_up" => Target::NextFollowUp,
            "deleted" => Target::Deleted,
            "custom" => Target::Custom(String::new()),
            "ignore" | "skip" | "none" => Target::Ignore,
            _ => {
                return Err(V::UnknownValue {
                    field: "import field",
                    value: s.to_string(),
                    expected: TARGET_NAMES,
                });
            }
        })
    }

    /// Fields that take one value per lead; a second column for one of them is not merged.
    /// The amount in major and in minor units are one slot (the deal value).
    fn slot(&self) -> Option<&'static str> {
        Some(match self {
            Target::Email
            | Target::Phone
            | Target::Tags
            | Target::Notes
            | Target::Custom(_)
            | Target::Ignore => return None,
            Target::Amount | Target::AmountMinor => "deal value",
            Target::Id => "id",
            Target::Name => "name",
            Target::FirstName => "first_name",
            Target::MiddleName => "middle_name",
            Target::LastName => "last_name",
            Target::Company => "company",
            Target::Title => "title",
            Target::Event => "event",
            Target::Channel => "channel",
            Target::Source => "source",
            Target::Stage => "stage",
            Target::LostReason => "lost_reason",
            Target::Potential => "potential",
            Target::Currency => "currency",
            Target::Owner => "owner",
            Target::NextFollowUp => "next_follow_up",
            Target::Deleted => "deleted",
        })
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Target::Id => "id",
            Target::Name => "name",
            Target::FirstName => "first_name",
            Target::MiddleName => "middle_name",
            Target::LastName => "last_name",
            Target::Company => "company",
            Target::Title => "title",
            Target::Email => "email",
            Target::Phone => "phone",
            Target::Event => "event",
            Target::Channel => "channel",
            Target::Source => "source",
            Target::Stage => "stage",
            Target::LostReason => "lost_reason",
            Target::Potential => "potential",
            Target::Amount => "amount",
            Target::AmountMinor => "amount_minor",
            Target::Currency => "currency",
            Target::Owner => "owner",
            Target::Tags => "tags",
            Target::Notes => "notes",
            Target::NextFollowUp => "next_follow_up",
            Target::Deleted => "deleted",
            Target::Custom(k) => return write!(f, "custom.{k}"),
            Target::Ignore => "ignore",
        };
        f.write_str(s)
    }
}

impl std::str::FromStr for Target {
    type Err = V;
    fn from_str(s: &str) -> Result<Self, V> {
        Target::parse(s)
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How a column's target was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MappedBy {
    /// Recognised from the header (and, for `id`, the values).
    Detected,
    /// Set by the caller ([`ColumnMapping::set`], [`ColumnMapping::ignore`]).
    Caller,
    /// The header was not recognised: the column became a custom field named after it.
    Unknown,
    /// Another column already fills this one-value field: the column became a custom field.
    Duplicate,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MappedColumn {
    /// The header as written in the file (without a BOM, trimmed).
    pub header: String,
    pub target: Target,
    pub by: MappedBy,
    /// Why a detected column was mapped as it was, when that is not obvious.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Header → field, one entry per column in file order.
///
/// [`ColumnMapping::detect`] (or [`ColumnMapping::from_csv`]) gives the automatic mapping, which
/// [`ColumnMapping::set`] and [`ColumnMapping::ignore`] override; [`ColumnMapping::new`] is an
/// empty mapping to which only overrides are added. When an import is given a mapping, only the
/// caller's entries are taken from it: every other column is detected again from the file.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ColumnMapping {
    columns: Vec<MappedColumn>,
}

impl ColumnMapping {
    /// No overrides: every column of the file is detected.
    pub fn new() -> Self {
        Self::default()
    }

    /// The automatic mapping of a header row (without looking at any values).
    pub fn detect<S: AsRef<str>>(headers: &[S]) -> Self {
        let headers: Vec<String> = headers.iter().map(|h| clean_header(h.as_ref())).collect();
        resolve(&headers, &[], &[]).map(|(m, _)| m).unwrap_or_default()
    }

    /// The automatic mapping of a CSV file, as an import of it would use it (the values of an
    /// `id` column are checked to be record ids).
    pub fn from_csv(input: &[u8]) -> Result<Self> {
        let table = read_table(input)?;
        let (m, _) = resolve(&table.headers, &[], &table.rows)?;
        Ok(m)
    }

    /// Maps the column(s) with this header (compared without case, spacing and punctuation) to
    /// `target`. `Target::Custom("")` names the custom field after the header. A header that is
    /// not in the mapping is added, and an import of a file without it fails.
    pub fn set(&mut self, header: &str, target: Target) -> &mut Self {
        let header = clean_header(header);
        let target = match target {
            Target::Custom(k) if k.trim().is_empty() => Target::Custom(custom_key(&header, 0)),
            t => t,
        };
        let key = norm(&header);
        let mut found = false;
        for c in self.columns.iter_mut().filter(|c| norm(&c.header) == key) {
            c.target = target.clone();
            c.by = MappedBy::Caller;
            c.note = None;
            found = true;
        }
        if !found {
            self.columns.push(MappedColumn { header, target, by: MappedBy::Caller, note: None });
        }
        self
    }

    /// The column(s) with this header are not read.
    pub fn ignore(&mut self, header: &str) -> &mut Self {
        self.set(header, Target::Ignore)
    }

    pub fn columns(&self) -> &[MappedColumn] {
        &self.columns
    }

    /// The target of the first column with this header.
    pub fn target(&self, header: &str) -> Option<&Target> {
        let key = norm(&clean_header(header));
        self.columns.iter().find(|c| norm(&c.header) == key).map(|c| &c.target)
    }

    fn overrides(&self) -> Vec<(String, Target)> {
        self.columns
            .iter()
            .filter(|c| c.by == MappedBy::Caller)
            .map(|c| (c.header.clone(), c.target.clone()))
            .collect()
    }
}

/// What [`Store::import_csv_with`] does besides reading the file.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Overrides of the detected mapping; `None` detects every column.
    pub mapping: Option<ColumnMapping>,
    /// Check every row and report, writing nothing.
    pub dry_run: bool,
    /// The currency of amounts whose row names none (ISO 4217).
    pub default_currency: Option<String>,
    /// Import the valid rows even when some rows have errors (which are reported and left
    /// out). Off by default: one bad row imports nothing.
    pub skip_invalid: bool,
}

/// A problem with one row: nothing of it is imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RowError {
    /// The line of the file where the row starts (the header is line 1); a spreadsheet shows the
    /// same number unless an earlier cell spans lines.
    pub row: u64,
    /// The header(s) of the column(s) at fault, when one can be named.
    pub column: Option<String>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImportReport {
    /// The mapping that was applied, one entry per column of the file.
    pub mapping: ColumnMapping,
    pub delimiter: char,
    pub dry_run: bool,
    /// Data rows read (rows whose cells are all empty are not counted).
    pub rows_read: usize,
    /// Rows without errors: what a real import writes (all of them, or none when some row
    /// failed and `skip_invalid` is off).
    pub valid_rows: usize,
    /// Leads written: 0 on a dry run or when an error stopped the import.
    pub imported: usize,
    /// Ids of the leads written, in file order.
    pub lead_ids: Vec<String>,
    pub errors: Vec<RowError>,
}

impl ImportReport {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

impl Store {
    /// Imports leads from CSV; see [`Store::import_csv_with`]. `mapping` overrides the detected
    /// one; `default_currency` is used for amounts whose row names no currency.
    pub fn import_csv(
        &self,
        input: impl Read,
        mapping: Option<ColumnMapping>,
        dry_run: bool,
        default_currency: Option<&str>,
    ) -> Result<ImportReport> {
        self.import_csv_with(
            input,
            ImportOptions {
                mapping,
                dry_run,
                default_currency: default_currency.map(str::to_string),
                skip_invalid: false,
            },
        )
    }

    /// Reads every row, reports each row's problems, and (unless a dry run) writes the valid
    /// rows in one transaction through [`Store::create_leads`] — none of them when any row
    /// failed, unless `skip_invalid`. Row problems are in the report, not an `Err`; an `Err` is
    /// a file that cannot be read as CSV, a mapping that names a column the file lacks, a bad
    /// default currency, or a storage failure (nothing is written then either).
    pub fn import_csv_with(&self, input: impl Read, opts: ImportOptions) -> Result<ImportReport> {
        let Checked { mut report, drafts, seen_ids, id_col } =
            check(input, &opts, self.validator(), &|id| self.document_exists(id))?;
        if opts.dry_run || drafts.is_empty() || (!report.errors.is_empty() && !opts.skip_invalid) {
            return Ok(report);
        }
        match self.create_leads(drafts) {
            Ok(leads) => {
                report.imported = leads.len();
                report.lead_ids = leads.into_iter().map(|l| l.id).collect();
            }
            // Written (by a sync) between the check above and the transaction: nothing was written.
            Err(Error::Exists { id, .. }) => {
                let row = seen_ids.get(&id).copied().unwrap_or(0);
                report.errors.push(RowError {
                    row,
                    column: id_col,
                    message: format!("already imported: lead {id} is in the store"),
                });
            }
            Err(e) => return Err(e),
        }
        Ok(report)
    }

    fn document_exists(&self, id: &str) -> Result<bool> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached("SELECT 1 FROM documents WHERE id = ?1")?;
        Ok(stmt.exists([id])?)
    }
}

/// What checking a file gives: the report so far, the drafts of the valid rows, the line of each
/// id, and the header of the id column.
struct Checked {
    report: ImportReport,
    drafts: Vec<LeadDraft>,
    seen_ids: HashMap<String, u64>,
    id_col: Option<String>,
}

fn check(
    mut input: impl Read,
    opts: &ImportOptions,
    validator: &Validator,
    exists: &dyn Fn(&str) -> Result<bool>,
) -> Result<Checked> {
    let default_currency = opts.default_currency.as_deref().map(validate::currency).transpose()?;
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    let table = read_table(&bytes)?;
    let overrides = opts.mapping.as_ref().map(ColumnMapping::overrides).unwrap_or_default();
    let (mapping, plan) = resolve(&table.headers, &overrides, &table.rows)?;
    let conv = Converter {
        plan: &plan,
        validator,
        default_currency: default_currency.as_deref(),
        native: is_native(&table.headers),
    };

    let mut errors: Vec<RowError> = Vec::new();
    let mut drafts: Vec<LeadDraft> = Vec::new();
    let mut seen_ids: HashMap<String, u64> = HashMap::new();
    let mut rows_read = 0;
    let id_col = col_of(&plan, |t| *t == Target::Id);
    for row in &table.rows {
        if row.cells.iter().all(|c| c.as_deref().is_ok_and(|s| s.trim().is_empty())) {
            continue;
        }
        rows_read += 1;
        let mut row_errs: CellErrors = Vec::new();
        let width = table.headers.len();
        if row.cells.len() > width
            && row.cells[width..].iter().any(|c| !c.as_deref().is_ok_and(|s| s.trim().is_empty()))
        {
            row_errs.push((
                None,
                format!("the row has {} cells but the header has {width} columns", row.cells.len()),
            ));
        }
        let mut cells: Vec<&str> = Vec::with_capacity(row.cells.len());
        for (i, c) in row.cells.iter().enumerate() {
            match c {
                Ok(s) => cells.push(s),
                Err(()) => {
                    row_errs.push((
                        table.headers.get(i).cloned(),
                        "the cell is not UTF-8 text; save the file as \"CSV UTF-8\"".into(),
                    ));
                    cells.push("");
                }
            }
        }
        match conv.draft(&cells) {
            Ok(d) => {
                if let Some(id) = &d.id {
                    if let Some(first) = seen_ids.get(id) {
                        row_errs
                            .push((id_col.clone(), format!("lead {id} is also on line {first}")));
                    } else {
                        seen_ids.insert(id.clone(), row.line);
                        if exists(id)? {
                            row_errs.push((
                                id_col.clone(),
                                format!("already imported: lead {id} is in the store"),
                            ));
                        }
                    }
                }
                if row_errs.is_empty() {
                    drafts.push(d);
                }
            }
            Err(list) => row_errs.extend(list),
        }
        errors.extend(row_errs.into_iter().map(|(column, message)| RowError {
            row: row.line,
            column,
            message,
        }));
    }

    let report = ImportReport {
        mapping,
        delimiter: table.delimiter as char,
        dry_run: opts.dry_run,
        rows_read,
        valid_rows: drafts.len(),
        imported: 0,
        lead_ids: Vec::new(),
        errors,
    };
    Ok(Checked { report, drafts, seen_ids, id_col })
}

/// A dry run without a store: every row is checked as an import into an empty store with this
/// phone region would check it (for a file looked at before any store exists).
pub fn check_csv(input: impl Read, region: &str, mut opts: ImportOptions) -> Result<ImportReport> {
    let validator = Validator::new(region)?;
    opts.dry_run = true;
    Ok(check(input, &opts, &validator, &|_| Ok(false))?.report)
}

// ---------------------------------------------------------------------------------------------
// Reading the file

struct Row {
    /// Line of the file where the row starts.
    line: u64,
    /// `Err` for a cell that is not UTF-8.
    cells: Vec<std::result::Result<String, ()>>,
}

struct Table {
    headers: Vec<String>,
    rows: Vec<Row>,
    delimiter: u8,
}

/// The header row is this app's export: its own column names are read exactly, and lists are
/// split on ";" only.
fn is_native(headers: &[String]) -> bool {
    let lower: HashSet<String> = headers.iter().map(|h| h.to_lowercase()).collect();
    ["id", "deal_amount_minor", "created_by"].iter().all(|h| lower.contains(*h))
}

fn bad_file(reason: impl Into<String>) -> Error {
    V::Invalid { field: "CSV file", reason: reason.into() }.into()
}

/// UTF-8 text of the input: a UTF-8 BOM is dropped, UTF-16 with a BOM is decoded.
fn decode(input: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    let utf16 = |bytes: &[u8], le: bool| -> Result<Vec<u8>> {
        if !bytes.len().is_multiple_of(2) {
            return Err(bad_file("the UTF-16 text ends in the middle of a character"));
        }
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| {
                if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) }
            })
            .collect();
        String::from_utf16(&units)
            .map(String::into_bytes)
            .map_err(|_| bad_file("the file is not valid UTF-16 text"))
    };
    Ok(match input {
        [0xEF, 0xBB, 0xBF, rest @ ..] => rest.into(),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true)?.into(),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false)?.into(),
        _ => input.into(),
    })
}

/// The delimiter of the header line: the most frequent of `,` `;` and tab outside quotes
/// (`,` on a tie or when there is none).
fn sniff_delimiter(text: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in text {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let mut best = (b',', counts[0]);
    for (d, n) in [(b';', counts[1]), (b'\t', counts[2])] {
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

fn read_table(input: &[u8]) -> Result<Table> {
    let text = decode(input)?;
    let mut body: &[u8] = &text;
    let mut line_offset = 0;
    // Excel writes `sep=;` as a first line to name the delimiter.
    let first_end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    let first = body[..first_end].strip_suffix(b"\r").unwrap_or(&body[..first_end]);
    let declared = match first {
        [b's' | b'S', b'e' | b'E', b'p' | b'P', b'=', d] => Some(*d),
        _ => None,
    };
    if declared.is_some() {
        body = body.get(first_end + 1..).unwrap_or(&[]);
        line_offset = 1;
    }
    let delimiter = declared.unwrap_or_else(|| sniff_delimiter(body));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(body);
    let csv_err = |e: csv::Error| bad_file(format!("it cannot be read as CSV: {e}"));
    let mut records = reader.byte_records();
    let header = loop {
        match records.next() {
            None => return Err(bad_file("it is empty: the first line must name the columns")),
            Some(r) => {
                let r = r.map_err(csv_err)?;
                if r.iter().any(|c| !c.iter().all(u8::is_ascii_whitespace)) {
                    break r;
                }
            }
        }
    };
    let mut headers = Vec::with_capacity(header.len());
    for h in header.iter() {
        let h = std::str::from_utf8(h).map_err(|_| {
            bad_file("it is not UTF-8 text; save it as \"CSV UTF-8\" (in Excel: Save As → CSV UTF-8) and import it again")
        })?;
        headers.push(clean_header(h));
    }
    let mut rows = Vec::new();
    // The csv crate's own line numbers (and byte offsets) lag behind after CRLF line ends and
    // empty lines: its offset points at the terminator before the record. Skip those and count.
    let (mut counted_to, mut newlines) = (0usize, 0u64);
    for r in records {
        let r = r.map_err(csv_err)?;
        let mut start = r
            .position()
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
            .min(body.len());
        while matches!(body.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start > counted_to {
            newlines += body[counted_to..start].iter().filter(|&&b| b == b'\n').count() as u64;
            counted_to = start;
        }
        let line = newlines + 1 + line_offset;
        let cells =
            r.iter().map(|c| std::str::from_utf8(c).map(str::to_string).map_err(|_| ())).collect();
        rows.push(Row { line, cells });
    }
    Ok(Table { headers, rows, delimiter })
}

fn clean_header(h: &str) -> String {
    h.trim_start_matches('\u{feff}').trim().to_string()
}

/// A header compared without case, spacing or punctuation.
fn norm(h: &str) -> String {
    h.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The custom field key for a column: its header (at most 64 characters), or "column N".
fn custom_key(header: &str, index: usize) -> String {
    let h = header.trim();
    if h.is_empty() {
        format!("column {}", index + 1)
    } else {
        h.chars().take(MAX_CUSTOM_KEY).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Detecting the mapping

/// What a header means, with a rank: when two columns claim one field, the lower rank wins
/// ("Job Title" 1 over Outlook's "Title" 2, "Amount" 1 over "Annual Revenue" 3).
fn detect_header(header: &str, native: bool) -> Option<(Target, u8)> {
    if native {
        let h = header.to_lowercase();
        if let Some(key) = header.strip_prefix("custom.") {
            return Some((Target::Custom(key.to_string()), 0));
        }
        let t = match h.as_str() {
            "id" => Target::Id,
            "emails" => Target::Email,
            "phones" => Target::Phone,
            "deal_amount_minor" => Target::AmountMinor,
            "deal_currency" => Target::Currency,
            "deleted" => Target::Deleted,
            // Set by the store on import; the lead's history starts here.
            "created_at" | "created_by" | "updated_at" | "updated_by" => Target::Ignore,
            _ => return detect_key(&norm(header)),
        };
        return Some((t, 0));
    }
    if let Some(key) = header.strip_prefix("custom.").filter(|k| !k.trim().is_empty()) {
        return Some((Target::Custom(key.trim().to_string()), 0));
    }
    let key = norm(header);
    if key == "id" {
        return Some((Target::Id, 1));
    }
    if let Some(t) = detect_key(&key) {
        return Some(t);
    }
    // Numbered columns: "Email 2", "E-mail 2 Address", "Phone 1 - Value", "Organization 1 - Name".
    let plain: String = key.chars().filter(|c| !c.is_ascii_digit()).collect();
    if plain != key
        && !plain.is_empty()
        && let Some((t, rank)) = detect_key(&plain)
    {
        return Some((t, rank.max(2)));
    }
    // Pipedrive-style "Person - Email", "Deal - Value": an entity prefix before the field.
    for prefix in ["person", "contact", "lead", "deal", "opportunity"] {
        if let Some(rest) = plain.strip_prefix(prefix).filter(|r| !r.is_empty()) {
            // A deal's or lead's "title"/"name" names the deal, not the person.
            if prefix != "person" && prefix != "contact" && matches!(rest, "title" | "name") {
                return None;
            }
            if let Some((t, rank)) = detect_key(rest) {
                return Some((t, rank.max(2)));
            }
        }
    }
    None
}

/// Normalised header → target and rank. Kept as one table so that adding a CRM's spelling is a
/// one-line change.
fn detect_key(key: &str) -> Option<(Target, u8)> {
    use Target as T;
    let (t, rank) = match key {
        "name" | "fullname" | "contactname" | "personname" | "leadname" | "customername"
        | "이름" | "성명" | "고객명" | "성함" => (T::Name, 1),
        "displayname" | "fileas" => (T::Name, 3),
        "firstname" | "givenname" | "first" | "forename" => (T::FirstName, 1),
        "middlename" | "additionalname" | "middle" => (T::MiddleName, 1),
        "lastname" | "familyname" | "surname" | "last" | "성" => (T::LastName, 1),
        "company" | "companyname" | "accountname" | "account" | "organization"
        | "organizationname" | "organisation" | "organisationname" | "org" | "orgname"
        | "businessname" | "employer" | "회사" | "회사명" | "업체" | "업체명" | "기업"
        | "기업명" | "소속" | "상호" => (T::Company, 1),
        "jobtitle" | "position" | "designation" | "organizationtitle" | "organisationtitle"
        | "직함" | "직책" | "직위" | "직급" => (T::Title, 1),
        "title" => (T::Title, 2),
        "email" | "emails" | "mail" | "emailaddress" | "emailaddresses" | "emailvalue"
        | "primaryemail" | "workemail" | "businessemail" | "이메일" | "메일" | "전자우편"
        | "이메일주소" => (T::Email, 1),
        "emailwork" | "emailhome" | "emailother" | "homeemail" | "otheremail" | "personalemail"
        | "secondaryemail" | "additionalemail" | "alternateemail" => (T::Email, 2),
        "phone" | "phones" | "phonenumber" | "phonevalue" | "telephone" | "tel" | "mobile"
        | "mobilephone" | "mobilephonenumber" | "mobilenumber" | "cellphone" | "cell"
        | "businessphone" | "workphone" | "officephone" | "directphone" | "primaryphone"
        | "전화" | "전화번호" | "휴대폰" | "휴대전화" | "핸드폰" | "휴대폰번호" | "핸드폰번호"
        | "연락처" | "직통전화" | "회사전화" => (T::Phone, 1),
        "homephone" | "otherphone" | "phonework" | "phonemobile" | "phonehome" | "phoneother"
        | "mobilephone2" | "companymainphone" => (T::Phone, 2),
        // Google Contacts writes a label column next to each value column.
        "emaillabel" | "emailtype" | "phonelabel" | "phonetype" => (T::Ignore, 1),
        "event" | "eventname" | "tradeshow" | "이벤트" | "행사" | "행사명" | "전시회"
        | "박람회" => (T::Event, 1),
        "campaign" | "campaignname" | "listname" | "leadlist" | "eventlist" | "캠페인" => {
            (T::Event, 2)
        }
        "channel" | "capturechannel" => (T::Channel, 1),
        "leadsource" | "source" | "originalsource" | "contactsource" | "sourcename" | "출처"
        | "유입경로" | "리드소스" => (T::Source, 1),
        "stage" | "dealstage" | "pipelinestage" | "salesstage" | "opportunitystage" | "단계"
        | "영업단계" | "진행단계" => (T::Stage, 1),
        "leadstatus" | "contactstatus" => (T::Stage, 2),
        "status" | "dealstatus" | "상태" => (T::Stage, 3),
        "lostreason" | "reasonlost" | "lossreason" | "closedlostreason" | "실패사유"
        | "실주사유" => (T::LostReason, 1),
        "rating" | "leadrating" | "potential" | "temperature" | "leadtemperature" | "등급"
        | "잠재력" | "가망도" => (T::Potential, 1),
        "amount" | "dealvalue" | "dealamount" | "dealsize" | "value" | "opportunityamount"
        | "expectedrevenue" | "금액" | "거래금액" | "예상금액" | "계약금액" => {
            (T::Amount, 1)
        }
        "annualrevenue" | "revenue" | "매출" | "연매출" => (T::Amount, 3),
        "amountminor" | "dealamountminor" => (T::AmountMinor, 0),
        "currency" | "dealcurrency" | "currencycode" | "currencyisocode" | "통화" => {
            (T::Currency, 1)
        }
        "owner" | "leadowner" | "contactowner" | "dealowner" | "accountowner" | "recordowner"
        | "ownername" | "담당자" | "영업담당자" => (T::Owner, 1),
        "assignedto" | "salesrep" | "salesperson" => (T::Owner, 2),
        "tags" | "tag" | "labels" | "label" | "categories" | "groupmembership" | "태그"
        | "라벨" => (T::Tags, 1),
        "notes" | "note" | "description" | "comments" | "comment" | "remarks" | "memo" | "메모"
        | "비고" | "노트" | "설명" => (T::Notes, 1),
        "nextfollowup" | "followup" | "followupdate" | "nextfollowupdate" | "nextfollowupat"
        | "다음연락일" | "후속조치일" | "팔로업" => (T::NextFollowUp, 1),
        "nextactivitydate" | "nextstepdate" => (T::NextFollowUp, 2),
        _ => return None,
    };
    Some((t, rank))
}

/// What each column is read as: its target, and the column index.
type Plan = Vec<(Target, String)>;

/// The effective mapping of a file's columns: the caller's overrides first, every other column
/// detected; a one-value field claimed by two detected columns goes to the better-ranked one and
/// the other becomes a custom field. Also returns the plan (target and header per column).
fn resolve(
    headers: &[String],
    overrides: &[(String, Target)],
    rows: &[Row],
) -> Result<(ColumnMapping, Plan)> {
    let native = is_native(headers);
    let mut used = vec![false; overrides.len()];
    let mut cols: Vec<(MappedColumn, u8)> = Vec::with_capacity(headers.len());
    for (i, h) in headers.iter().enumerate() {
        let key = norm(h);
        if let Some(j) = overrides.iter().position(|(oh, _)| norm(oh) == key) {
            used[j] = true;
            let target = match &overrides[j].1 {
                Target::Custom(k) if k.is_empty() => Target::Custom(custom_key(h, i)),
                t => t.clone(),
            };
            cols.push((
                MappedColumn { header: h.clone(), target, by: MappedBy::Caller, note: None },
                0,
            ));
            continue;
        }
        let mut col = match detect_header(h, native) {
            Some((target, rank)) => (
                MappedColumn { header: h.clone(), target, by: MappedBy::Detected, note: None },
                rank,
            ),
            None => (
                MappedColumn {
                    header: h.clone(),
                    target: Target::Custom(custom_key(h, i)),
                    by: MappedBy::Unknown,
                    note: None,
                },
                u8::MAX,
            ),
        };
        // An `id` column of another CRM (Salesforce's 18-character ids) is kept as a custom field.
        if col.0.target == Target::Id {
            let foreign = rows
                .iter()
                .filter_map(|r| r.cells.get(i))
                .filter_map(|c| c.as_deref().ok())
                .map(str::trim)
                .any(|v| !v.is_empty() && parse_id("lead id", v).is_err());
            if foreign {
                col.0.target = Target::Custom(custom_key(h, i));
                col.0.note = Some("the values are not this app's record ids".into());
            }
        }
        cols.push(col);
    }
    if let Some(j) = used.iter().position(|u| !u) {
        let list: Vec<&str> = headers.iter().map(String::as_str).collect();
        return Err(V::Invalid {
            field: "column mapping",
            reason: format!(
                "the file has no column '{}' (its columns: {})",
                overrides[j].0,
                list.join(", ")
            ),
        }
        .into());
    }
    // The caller's targets must not claim one field twice.
    let mut caller_slots: HashMap<&'static str, &str> = HashMap::new();
    for (c, _) in cols.iter().filter(|(c, _)| c.by == MappedBy::Caller) {
        if let Some(slot) = c.target.slot()
            && let Some(other) = caller_slots.insert(slot, &c.header)
        {
            return Err(V::Invalid {
                field: "column mapping",
                reason: format!("both '{other}' and '{}' are mapped to {slot}", c.header),
            }
            .into());
        }
    }
    // Korean exports with 성 and 이름: 이름 is then the given name.
    if cols.iter().any(|(c, _)| c.target == Target::LastName) {
        for (c, _) in cols.iter_mut().filter(|(c, _)| {
            c.by == MappedBy::Detected && c.target == Target::Name && norm(&c.header) == "이름"
        }) {
            c.target = Target::FirstName;
        }
    }
    // One column per one-value field: the caller's, else the best rank, else the first.
    let mut winner: HashMap<&'static str, usize> = HashMap::new();
    for (i, (c, rank)) in cols.iter().enumerate() {
        let Some(slot) = c.target.slot() else { continue };
        match winner.get(slot) {
            Some(&w)
                if cols[w].0.by == MappedBy::Caller
                    || cols[w].1 <= *rank && c.by != MappedBy::Caller => {}
            _ => {
                winner.insert(slot, i);
            }
        }
    }
    let demoted: Vec<(usize, &'static str)> = cols
        .iter()
        .enumerate()
        .filter_map(|(i, (c, _))| {
            c.target.slot().filter(|s| winner.get(s) != Some(&i)).map(|s| (i, s))
        })
        .collect();
    for (i, slot) in demoted {
        let other = winner.get(slot).map(|&w| cols[w].0.header.clone()).unwrap_or_default();
        let c = &mut cols[i].0;
        c.note = Some(format!("'{other}' is read as {slot}"));
        c.target = Target::Custom(custom_key(&c.header, i));
        c.by = MappedBy::Duplicate;
    }
    let columns: Vec<MappedColumn> = cols.into_iter().map(|(c, _)| c).collect();
    let plan = columns.iter().map(|c| (c.target.clone(), c.header.clone())).collect();
    Ok((ColumnMapping { columns }, plan))
}

fn col_of(plan: &Plan, f: impl Fn(&Target) -> bool) -> Option<String> {
    let names: Vec<&str> = plan.iter().filter(|(t, _)| f(t)).map(|(_, h)| h.as_str()).collect();
    (!names.is_empty()).then(|| names.join(", "))
}

// ---------------------------------------------------------------------------------------------
// Rows to drafts

struct Converter<'a> {
    plan: &'a Plan,
    validator: &'a Validator,
    default_currency: Option<&'a str>,
    native: bool,
}

type CellErrors = Vec<(Option<String>, String)>;

impl Converter<'_> {
    /// The draft of one row, validated; or every problem found in it.
    fn draft(&self, cells: &[&str]) -> std::result::Result<LeadDraft, CellErrors> {
        let mut errs: CellErrors = Vec::new();
        let mut d = LeadDraft::default();
        let (mut first, mut middle, mut last) = (None, None, None);
        // (header, cell) of the deal value's columns.
        let mut amount: Option<(&str, &str)> = None;
        let mut amount_minor: Option<(&str, &str)> = None;
        let mut currency: Option<&str> = None;
        let mut sources: Vec<(&str, &str)> = Vec::new();
        let mut notes: Vec<&str> = Vec::new();
        let text = |s: &str| Some(s.trim().to_string());
        for (i, (target, header)) in self.plan.iter().enumerate() {
            let raw = cells.get(i).copied().unwrap_or("");
            let v = raw.trim();
            if v.is_empty() {
                continue;
            }
            let mut fail = |e: V| errs.push((Some(header.clone()), e.to_string()));
            match target {
                Target::Id => match parse_id("lead id", v) {
                    Ok(id) => d.id = Some(id),
                    Err(e) => fail(e),
                },
                Target::Name => d.name = text(v),
                Target::FirstName => first = Some(v),
                Target::MiddleName => middle = Some(v),
                Target::LastName => last = Some(v),
                Target::Company => d.company = text(v),
                Target::Title => d.title = text(v),
                Target::Email => {
                    // "a@x.com, b@y.com" and "a@x.com b@y.com" are lists; "not an email" is one bad value.
                    let pieces = v.split([';', ',']).map(str::trim).filter(|s| !s.is_empty()).flat_map(|p| {
                        let words: Vec<&str> = p.split_whitespace().collect();
                        if words.iter().all(|w| w.contains('@')) { words } else { vec![p] }
                    });
                    for e in pieces {
                        match validate::email(e) {
                            Ok(e) => d.emails.push(e),
                            Err(e) => fail(e),
                        }
                    }
                }
                Target::Phone => {
                    let list: Vec<&str> = if self.native { v.split(';').collect() } else { v.split([';', ',', '\n']).flat_map(|s| s.split(":::")).collect() };
                    for p in list.into_iter().map(str::trim).filter(|s| !s.is_empty()) {
                        match self.validator.phone(p) {
                            Ok(p) => d.phones.push(p),
                            Err(e) => fail(e),
                        }
                    }
                }
                Target::Event => d.event = text(v),
                Target::Channel => match parse_channel(v) {
                    Ok(c) => d.channel = Some(c),
                    Err(e) => fail(e),
                },
                Target::Source => sources.push((header, v)),
                Target::Stage => match parse_stage(v) {
                    Ok(s) => d.stage = Some(s),
                    Err(e) => fail(e),
                },
                Target::LostReason => d.lost_reason = text(v),
                Target::Potential => match parse_potential(v) {
                    Ok(p) => d.potential = Some(p),
                    Err(e) => fail(e),
                },
                Target::Amount => amount = Some((header, v)),
                Target::AmountMinor => amount_minor = Some((header, v)),
                Target::Currency => currency = Some(v),
                Target::Owner => d.owner = text(v),
                Target::Tags => {
                    let list: Vec<&str> = if self.native || v.contains(';') { v.split(';').collect() } else { v.split(',').flat_map(|s| s.split(":::")).collect() };
                    d.tags.extend(list.into_iter().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string));
                }
                // Kept as written: notes are the rep's text, line breaks and all.
                Target::Notes => notes.push(raw),
                Target::NextFollowUp => match parse_time(v) {
                    Ok(t) => d.next_follow_up = Some(t),
                    Err(e) => fail(e),
                },
                Target::Deleted => match v.to_ascii_lowercase().as_str() {
                    "false" | "0" | "no" => {}
                    "true" | "1" | "yes" => fail(V::Invalid {
                        field: "deleted",
                        reason: "the lead was in the bin when it was exported; leave the row out, or ignore the column to import it as a live lead".into(),
                    }),
                    _ => fail(V::UnknownValue { field: "deleted flag", value: v.to_string(), expected: "true false" }),
                },
                Target::Custom(key) => d.custom_fields.push(CustomField { key: key.clone(), value: raw.to_string() }),
                Target::Ignore => {}
            }
        }
        if d.name.is_none() {
            d.name = join_name(first, middle, last);
        }
        if !notes.is_empty() {
            d.notes = Some(notes.join("\n\n"));
        }
        // A source names the channel when it can, else the event; a second meaning is kept as a
        // custom field rather than overwriting a column that says it outright.
        for (header, v) in sources {
            match parse_channel(v) {
                Ok(c) if d.channel.is_none() => d.channel = Some(c),
                Err(_) if d.event.is_none() => d.event = Some(v.to_string()),
                _ => d
                    .custom_fields
                    .push(CustomField { key: custom_key(header, 0), value: v.to_string() }),
            }
        }
        d.channel.get_or_insert(CaptureChannel::Import);
        let amount_col = amount.or(amount_minor).map(|(h, _)| h.to_string());
        match self.deal_value(amount, amount_minor, currency) {
            Ok(m) => d.deal_value = m,
            Err(e) => errs.push((amount_col.clone(), e.to_string())),
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        let mut checked = d.clone();
        match self.validator.lead_draft(&mut checked) {
            Ok(()) => Ok(checked),
            Err(e) => {
                let column = self.column_of(&e, cells, amount_col);
                Err(vec![(column, e.to_string())])
            }
        }
    }

    fn deal_value(
        &self,
        amount: Option<(&str, &str)>,
        minor: Option<(&str, &str)>,
        currency: Option<&str>,
    ) -> std::result::Result<Option<Money>, V> {
        let no_currency = |v: &str| V::Invalid {
            field: "deal value",
            reason: format!(
                "'{v}' has no currency: add a currency column, write the code in the cell (1500 USD) or give a default currency"
            ),
        };
        if let Some((_, v)) = minor {
            let code = currency.or(self.default_currency).ok_or_else(|| no_currency(v))?;
            let amount_minor = v.parse::<i64>().map_err(|_| V::Invalid {
                field: "deal value",
                reason: format!("'{v}' is not a whole number of minor units"),
            })?;
            return Ok(Some(Money { amount_minor, currency: validate::currency(code)? }));
        }
        let Some((_, v)) = amount else { return Ok(None) };
        let (number, code_in_cell) = split_amount(v);
        let code = match (code_in_cell, currency) {
            (Some(a), Some(b)) if !a.eq_ignore_ascii_case(b.trim()) => {
                return Err(V::Invalid {
                    field: "deal value",
                    reason: format!("'{v}' is in {a} but the currency column says {b}"),
                });
            }
            (Some(a), _) => a,
            (None, Some(b)) => b,
            (None, None) => self.default_currency.ok_or_else(|| no_currency(v))?,
        };
        let code = validate::currency(code)?;
        let exp = currency_exponent(&code) as usize;
        Money::parse_major(&trim_zero_decimals(&number, exp), &code).map(Some)
    }

    /// The column(s) a validation error is about.
    fn column_of(&self, e: &V, cells: &[&str], amount_col: Option<String>) -> Option<String> {
        let plan = self.plan;
        let field = match e {
            V::EmptyLead => return None,
            V::Email(_) => "e-mail addresses",
            V::Phone { .. } => "phone numbers",
            V::Currency(_) => return col_of(plan, |t| *t == Target::Currency).or(amount_col),
            V::NegativeAmount => return amount_col,
            V::LostReasonWithoutLost => return col_of(plan, |t| *t == Target::LostReason),
            V::TooLong { field, .. }
            | V::TooMany { field, .. }
            | V::Empty { field }
            | V::UnknownValue { field, .. }
            | V::Invalid { field, .. } => field,
            V::Region(_) => return None,
            V::StageRequires { .. } => return col_of(plan, |t| *t == Target::Stage),
        };
        let is = |targets: &[Target]| col_of(plan, |t| targets.contains(t));
        match field {
            "name" => is(&[Target::Name, Target::FirstName, Target::MiddleName, Target::LastName]),
            "company" => is(&[Target::Company]),
            "job title" => is(&[Target::Title]),
            "event" => is(&[Target::Event, Target::Source]),
            "owner" => is(&[Target::Owner]),
            "lost reason" => is(&[Target::LostReason]),
            "notes" => is(&[Target::Notes]),
            "tag" | "tags" => is(&[Target::Tags]),
            "e-mail addresses" => is(&[Target::Email]),
            "phone numbers" => is(&[Target::Phone]),
            "lead id" => is(&[Target::Id]),
            "custom field value" => {
                let long = plan.iter().enumerate().find(|(i, (t, _))| {
                    matches!(t, Target::Custom(_))
                        && cells.get(*i).is_some_and(|c| c.chars().count() > MAX_CUSTOM_VALUE)
                });
                long.map(|(_, (_, h))| h.clone())
            }
            _ => col_of(plan, |t| matches!(t, Target::Custom(_))),
        }
    }
}

/// "Jane" + "Doe" → "Jane Doe"; Korean names ("김" + "철수") are written family name first and
/// without a space.
fn join_name(first: Option<&str>, middle: Option<&str>, last: Option<&str>) -> Option<String> {
    let hangul = |s: &str| {
        s.chars().all(|c| matches!(c as u32, 0xAC00..=0xD7A3 | 0x1100..=0x11FF | 0x3130..=0x318F))
    };
    let parts: Vec<&str> = [first, middle, last].into_iter().flatten().collect();
    if parts.is_empty() {
        return None;
    }
    if parts.iter().all(|p| hangul(p)) {
        let ordered: Vec<&str> = [last, first, middle].into_iter().flatten().collect();
        return Some(ordered.concat());
    }
    Some(parts.join(" "))
}

/// An amount cell without currency symbols and spaces, and a currency code written in it.
fn split_amount(v: &str) -> (String, Option<&str>) {
    let mut code = None;
    let mut rest = v.trim();
    let is_code = |s: &str| s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic());
    if let Some((a, b)) = rest.rsplit_once(char::is_whitespace)
        && is_code(b.trim())
    {
        code = Some(b.trim());
        rest = a;
    } else if let Some((a, b)) = rest.split_once(char::is_whitespace)
        && is_code(a.trim())
    {
        code = Some(a.trim());
        rest = b;
    }
    let number = rest
        .trim()
        .trim_start_matches(['$', '€', '£', '₩', '¥', '￦'])
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    (number, code)
}

/// "1500000.00" in a currency without decimals is 1500000: spreadsheets pad amounts with zeros.
fn trim_zero_decimals(s: &str, exp: usize) -> String {
    match s.split_once('.') {
        Some((whole, frac))
            if frac.len() > exp
                && frac.bytes().all(|b| b.is_ascii_digit())
                && frac[exp..].bytes().all(|b| b == b'0') =>
        {
            if exp == 0 {
                whole.to_string()
            } else {
                format!("{whole}.{}", &frac[..exp])
            }
        }
        _ => s.to_string(),
    }
}

fn squash(v: &str) -> String {
    v.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// A stage as other CRMs spell it (Salesforce lead statuses, HubSpot, Pipedrive and Zoho stages,
/// Korean terms), or this app's own names.
pub fn parse_stage(v: &str) -> Result<Stage, V> {
    if let Ok(s) = Stage::parse(v) {
        return Ok(s);
    }
    let s = squash(v);
    Ok(match s.as_str() {
        "open" | "opennotcontacted" | "notcontacted" | "leadin" | "lead" | "incoming"
        | "unassigned" | "newlead" | "신규" | "신규리드" | "미접촉" | "접수" => {
            Stage::New
        }
        "working"
        | "workingcontacted"
        | "attemptedtocontact"
        | "attempted"
        | "inprogress"
        | "connected"
        | "contactmade"
        | "contactinfuture"
        | "appointmentscheduled"
        | "meetingscheduled"
        | "연락"
        | "연락함"
        | "연락완료"
        | "접촉"
        | "진행중"
        | "상담"
        | "상담중" => Stage::Contacted,
        "prequalified"
        | "qualification"
        | "qualifiedtobuy"
        | "salesqualifiedlead"
        | "sql"
        | "marketingqualifiedlead"
        | "mql"
        | "needsanalysis"
        | "valueproposition"
        | "iddecisionmakers"
        | "perceptionanalysis"
        | "closedconverted"
        | "converted"
        | "opportunity"
        | "opendeal"
        | "demoscheduled"
        | "검증"
        | "자격확인"
        | "적격"
        | "검토" => Stage::Qualified,
        "quote"
        | "quoted"
        | "proposalmade"
        | "proposalquote"
        | "proposalpricequote"
        | "pricequote"
        | "presentationscheduled"
        | "제안"
        | "제안서"
        | "제안서발송"
        | "견적"
        | "견적발송" => Stage::Proposal,
        "negotiations"
        | "negotiationreview"
        | "negotiationsstarted"
        | "innegotiation"
        | "contractsent"
        | "decisionmakerboughtin"
        | "협상"
        | "협상중"
        | "계약협의" => Stage::Negotiation,
        "closedwon" | "win" | "customer" | "성사" | "수주" | "계약" | "계약완료" | "성공" => {
            Stage::Won
        }
        "closedlost"
        | "closednotconverted"
        | "unqualified"
        | "notqualified"
        | "disqualified"
        | "junk"
        | "junklead"
        | "lostlead"
        | "closedlosttocompetition"
        | "실패"
        | "실주"
        | "무산" => Stage::Lost,
        _ => {
            return Err(V::UnknownValue {
                field: "stage",
                value: v.to_string(),
                expected: "new contacted qualified proposal negotiation won lost (or Open, Working, Quote, Closed Won, Closed Lost…)",
            });
        }
    })
}

/// Hot/warm/cold, also as high/medium/low and in Korean.
pub fn parse_potential(v: &str) -> Result<Potential, V> {
    if let Ok(p) = Potential::parse(v) {
        return Ok(p);
    }
    Ok(match squash(v).as_str() {
        "high" | "상" | "높음" | "핫" => Potential::Hot,
        "medium" | "med" | "mid" | "중" | "보통" | "웜" => Potential::Warm,
        "low" | "하" | "낮음" | "콜드" => Potential::Cold,
        _ => {
            return Err(V::UnknownValue {
                field: "potential",
                value: v.to_string(),
                expected: "hot warm cold (or high, medium, low)",
            });
        }
    })
}

/// A capture channel, also as other apps name the source of a lead ("Web", "Business card").
pub fn parse_channel(v: &str) -> Result<CaptureChannel, V> {
    if let Ok(c) = CaptureChannel::parse(v) {
        return Ok(c);
    }
    Ok(match squash(v).as_str() {
        "badge" | "badgescan" | "badgescanner" | "qr" | "qrcode" | "qrscan" | "배지"
        | "배지스캔" => CaptureChannel::BadgeScan,
        "card" | "businesscard" | "businesscardscan" | "cardscan" | "namecard" | "명함"
        | "명함스캔" => CaptureChannel::BusinessCard,
        "web" | "webform" | "website" | "form" | "webtolead" | "웹" | "웹폼" | "홈페이지" => {
            CaptureChannel::WebForm
        }
        "manual" | "manualentry" | "직접입력" | "수기" => CaptureChannel::Manual,
        "import" | "csv" | "csvimport" | "가져오기" => CaptureChannel::Import,
        _ => {
            return Err(V::UnknownValue {
                field: "capture channel",
                value: v.to_string(),
                expected: "manual badge_scan business_card import web_form",
            });
        }
    })
}

/// A follow-up time: RFC 3339 (a time without a zone is UTC), a date YYYY-MM-DD (also with `/`
/// or `.`; midnight UTC), or milliseconds since 1970 as this app's export writes them.
pub fn parse_time(v: &str) -> Result<Millis, V> {
    let err = || V::Invalid {
        field: "next follow-up",
        reason: format!(
            "'{v}' is not a date; use RFC 3339 (2026-11-28T15:00:00+09:00) or YYYY-MM-DD"
        ),
    };
    let s = v.trim();
    if !s.is_empty() && s.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()) && s.len() > 8
    {
        return s.parse().map_err(|_| err());
    }
    let sep = s.as_bytes().get(4).copied().filter(|c| matches!(c, b'/' | b'.')).unwrap_or(b'-');
    Zone::utc().parse_date_time(s, sep).ok_or_else(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OpenOptions;

    fn targets(headers: &[&str]) -> Vec<String> {
        ColumnMapping::detect(headers).columns().iter().map(|c| c.target.to_string()).collect()
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::open(dir.path().join("s.db"), OpenOptions::new("kim").region("KR")).unwrap();
        (dir, store)
    }

    fn dry(store: &Store, csv: &str) -> ImportReport {
        store.import_csv(csv.as_bytes(), None, true, Some("KRW")).unwrap()
    }

    /// Imports for real and returns the leads in file order.
    fn import(store: &Store, csv: &str) -> Vec<crate::Lead> {
        let r = store.import_csv(csv.as_bytes(), None, false, Some("KRW")).unwrap();
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        r.lead_ids.iter().map(|id| store.lead(id).unwrap()).collect()
    }

    #[test]
    fn headers_of_common_crm_exports_are_detected() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                "Salesforce leads",
                &[
                    ("Lead ID", "custom.Lead ID"),
                    ("Salutation", "custom.Salutation"),
                    ("First Name", "first_name"),
                    ("Last Name", "last_name"),
                    ("Title", "title"),
                    ("Company", "company"),
                    ("Email", "email"),
                    ("Phone", "phone"),
                    ("Mobile", "phone"),
                    ("Lead Source", "source"),
                    ("Lead Status", "stage"),
                    ("Rating", "potential"),
                    ("Annual Revenue", "amount"),
                    ("Lead Owner", "owner"),
                    ("Description", "notes"),
                    ("Email Opt Out", "custom.Email Opt Out"),
                ],
            ),
            (
                "Salesforce API names",
                &[
                    ("FirstName", "first_name"),
                    ("LastName", "last_name"),
                    ("MobilePhone", "phone"),
                    ("LeadSource", "source"),
                    ("Status", "stage"),
                    ("CurrencyIsoCode", "currency"),
                ],
            ),
            (
                "HubSpot contacts",
                &[
                    ("Record ID", "custom.Record ID"),
                    ("First Name", "first_name"),
                    ("Last Name", "last_name"),
                    ("Email", "email"),
                    ("Phone Number", "phone"),
                    ("Mobile Phone Number", "phone"),
                    ("Company Name", "company"),
                    ("Job Title", "title"),
                    ("Lead Status", "stage"),
                    ("Lifecycle Stage", "custom.Lifecycle Stage"),
                    ("Contact owner", "owner"),
                    ("Original Source", "source"),
                ],
            ),
            (
                "Zoho leads",
                &[
                    ("Lead Owner", "owner"),
                    ("Company", "company"),
                    ("First Name", "first_name"),
                    ("Last Name", "last_name"),
                    ("Designation", "title"),
                    ("Email", "email"),
                    ("Secondary Email", "email"),
                    ("Lead Status", "stage"),
                    ("Annual Revenue", "custom.Annual Revenue"),
                    ("Deal Value", "amount"),
                    ("Currency", "currency"),
                    ("Tag", "tags"),
                ],
            ),
            (
                "Pipedrive deals",
                &[
                    ("Deal - Title", "custom.Deal - Title"),
                    ("Deal - Value", "amount"),
                    ("Deal - Currency", "currency"),
                    ("Deal - Stage", "stage"),
                    ("Deal - Status", "custom.Deal - Status"),
                    ("Deal - Owner", "owner"),
                    ("Person - Name", "name"),
                    ("Person - Email - Work", "email"),
                    ("Person - Phone - Mobile", "phone"),
                    ("Organization - Name", "company"),
                    ("Lead - Labels", "tags"),
                    ("Deal - Next activity date", "next_follow_up"),
                ],
            ),
            (
                "Google Contacts",
                &[
                    ("First Name", "first_name"),
                    ("Middle Name", "middle_name"),
                    ("Last Name", "last_name"),
                    ("Nickname", "custom.Nickname"),
                    ("Notes", "notes"),
                    ("Labels", "tags"),
                    ("E-mail 1 - Label", "ignore"),
                    ("E-mail 1 - Value", "email"),
                    ("E-mail 2 - Value", "email"),
                    ("Phone 1 - Label", "ignore"),
                    ("Phone 1 - Value", "phone"),
                    ("Organization Name", "company"),
                    ("Organization Title", "title"),
                    ("Organization Department", "custom.Organization Department"),
                ],
            ),
            (
                "Outlook contacts",
                &[
                    ("Title", "custom.Title"),
                    ("First Name", "first_name"),
                    ("Last Name", "last_name"),
                    ("Company", "company"),
                    ("Job Title", "title"),
                    ("Business Phone", "phone"),
                    ("Business Phone 2", "phone"),
                    ("Mobile Phone", "phone"),
                    ("E-mail Address", "email"),
                    ("E-mail 2 Address", "email"),
                    ("E-mail Display Name", "custom.E-mail Display Name"),
                    ("Categories", "tags"),
                    ("Notes", "notes"),
                ],
            ),
            (
                "HelloLeads",
                &[
                    ("Name", "name"),
                    ("Designation", "title"),
                    ("Organization", "organization").into_target("company"),
                    ("Email", "email"),
                    ("Mobile", "phone"),
                    ("Potential", "potential"),
                    ("Stage", "stage"),
                    ("Deal Size", "amount"),
                    ("Tags", "tags"),
                    ("Notes", "notes"),
                    ("Assigned To", "owner"),
                    ("List Name", "event"),
                    ("Next Follow-up", "next_follow_up"),
                ],
            ),
            (
                "Korean",
                &[
                    ("성명", "name"),
                    ("회사명", "company"),
                    ("직함", "title"),
                    ("이메일", "email"),
                    ("휴대폰", "phone"),
                    ("전화번호", "phone"),
                    ("행사", "event"),
                    ("태그", "tags"),
                    ("메모", "notes"),
                    ("단계", "stage"),
                    ("부서", "custom.부서"),
                ],
            ),
            (
                "Korean with family name",
                &[
                    ("성", "last_name"),
                    ("이름", "first_name"),
                    ("회사", "company"),
                    ("직책", "title"),
                    ("전화", "phone"),
                    ("이벤트", "event"),
                ],
            ),
            (
                "spelling differences",
                &[
                    ("  FULL_NAME ", "full_name").into_target("name"),
                    ("e-mail", "email"),
                    ("Email 2", "email"),
                    ("Lead   source", "source"),
                    ("NEXT FOLLOW UP", "next_follow_up"),
                ],
            ),
        ];
        for (style, cols) in cases {
            let headers: Vec<&str> = cols.iter().map(|(h, _)| *h).collect();
            let want: Vec<&str> = cols.iter().map(|(_, t)| *t).collect();
            let got = targets(&headers);
            for ((h, w), g) in headers.iter().zip(&want).zip(&got) {
                assert_eq!(g, w, "{style}: column '{h}'");
            }
        }
    }

    trait IntoTarget {
        fn into_target(self, t: &'static str) -> (&'static str, &'static str);
    }
    impl IntoTarget for (&'static str, &'static str) {
        fn into_target(self, t: &'static str) -> (&'static str, &'static str) {
            (self.0, t)
        }
    }

    #[test]
    fn this_apps_export_columns_map_to_themselves() {
        let mut headers: Vec<&str> = crate::export::CSV_COLUMNS.to_vec();
        headers.push("custom.Booth");
        let m = ColumnMapping::detect(&headers);
        let got: Vec<(String, String)> =
            m.columns().iter().map(|c| (c.header.clone(), c.target.to_string())).collect();
        let want = [
            ("id", "id"),
            ("name", "name"),
            ("company", "company"),
            ("title", "title"),
            ("emails", "email"),
            ("phones", "phone"),
            ("event", "event"),
            ("channel", "channel"),
            ("stage", "stage"),
            ("lost_reason", "lost_reason"),
            ("potential", "potential"),
            ("deal_amount_minor", "amount_minor"),
            ("deal_currency", "currency"),
            ("owner", "owner"),
            ("tags", "tags"),
            ("notes", "notes"),
            ("next_follow_up", "next_follow_up"),
            ("created_at", "ignore"),
            ("created_by", "ignore"),
            ("updated_at", "ignore"),
            ("updated_by", "ignore"),
            ("deleted", "deleted"),
            ("custom.Booth", "custom.Booth"),
        ];
        assert_eq!(
            got,
            want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>()
        );
    }

    #[test]
    fn unknown_columns_become_custom_fields_named_after_the_header() {
        let (_d, s) = store();
        let leads = import(&s, "Name,Booth No.,Interest,\nKim,A-12,Robots,x\nLee,,,\n");
        assert_eq!(
            leads[0].custom_fields,
            vec![
                CustomField { key: "Booth No.".into(), value: "A-12".into() },
                CustomField { key: "Interest".into(), value: "Robots".into() },
                CustomField { key: "column 4".into(), value: "x".into() },
            ]
        );
        assert!(leads[1].custom_fields.is_empty(), "empty cells add nothing");
        let r = dry(&s, "Name,Booth No.\nKim,1\n");
        assert_eq!(r.mapping.columns()[1].by, MappedBy::Unknown);
        assert_eq!(leads[0].source.channel, CaptureChannel::Import);
    }

    #[test]
    fn a_second_column_for_a_one_value_field_is_kept_as_a_custom_field() {
        let m = ColumnMapping::detect(&["Amount", "Annual Revenue", "Company", "Account Name"]);
        let c = m.columns();
        assert_eq!((c[0].target.clone(), c[0].by), (Target::Amount, MappedBy::Detected));
        assert_eq!(
            (c[1].target.clone(), c[1].by),
            (Target::Custom("Annual Revenue".into()), MappedBy::Duplicate)
        );
        assert_eq!(c[1].note.as_deref(), Some("'Amount' is read as deal value"));
        assert_eq!(c[2].target, Target::Company);
        assert_eq!(c[3].target, Target::Custom("Account Name".into()));
        // The better-ranked column wins even when it comes later.
        assert_eq!(targets(&["Annual Revenue", "Amount"]), ["custom.Annual Revenue", "amount"]);
    }

    #[test]
    fn the_delimiter_is_sniffed() {
        let (_d, s) = store();
        for (csv, delim) in [
            ("Name;Company;Notes\nKim;Acme;\"a, b; c\"\n", ';'),
            ("Name,Company,Notes\nKim,Acme,\"a; b\"\n", ','),
            ("Name\tCompany\tNotes\nKim\tAcme\ta, b\n", '\t'),
            ("\"Name;x\",Company,Notes\nKim,Acme,n\n", ','),
            ("Name\nKim\n", ','),
        ] {
            let r = dry(&s, csv);
            assert_eq!(r.delimiter, delim, "{csv}");
            assert_eq!((r.rows_read, r.valid_rows), (1, 1), "{csv}: {:?}", r.errors);
        }
        // Excel's first line naming the delimiter; line numbers still count it.
        let r = dry(&s, "sep=;\nName;Email\nKim;bad\n");
        assert_eq!(r.delimiter, ';');
        assert_eq!(r.errors[0].row, 3);
        assert_eq!(r.errors[0].column.as_deref(), Some("Email"));
    }

    #[test]
    fn byte_order_marks_and_utf16_are_read() {
        let (_d, s) = store();
        let r = s
            .import_csv("\u{feff}이름,회사\n김철수,에이크미\n".as_bytes(), None, true, None)
            .unwrap();
        assert_eq!(r.mapping.columns()[0].header, "이름");
        assert_eq!(r.mapping.columns()[0].target, Target::Name);
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(
            "Name\tE-mail Address\r\nKim\tkim@acme.com\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        let r = s.import_csv(utf16.as_slice(), None, false, None).unwrap();
        assert_eq!(r.imported, 1, "{:?}", r.errors);
        assert_eq!(s.lead(&r.lead_ids[0]).unwrap().emails, ["kim@acme.com"]);
        // Not UTF-8 (an EUC-KR file): a clear error, nothing read.
        let err = s.import_csv(&b"\xc0\xcc\xb8\xa7\nx\n"[..], None, true, None).unwrap_err();
        assert!(err.to_string().contains("CSV UTF-8"), "{err}");
        let err = s.import_csv(&b"\n\n"[..], None, true, None).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn quoted_fields_span_lines_and_rows_keep_their_file_line() {
        let (_d, s) = store();
        let csv = "Name,Notes,Email\r\n\"Kim\",\"first line\r\nsecond, with comma\r\n\"\"quoted\"\"\",kim@acme.com\r\nLee,,not-an-email\r\n\r\nPark,,park@acme.com\r\n";
        let r = dry(&s, csv);
        assert_eq!((r.rows_read, r.valid_rows), (3, 2));
        assert_eq!(
            r.errors,
            vec![RowError {
                row: 5,
                column: Some("Email".into()),
                message: "'not-an-email' is not a valid e-mail address".into()
            }]
        );
        let csv = csv.replace("not-an-email", "lee@acme.com");
        let leads = import(&s, &csv);
        assert_eq!(leads[0].notes, "first line\r\nsecond, with comma\r\n\"quoted\"");
        assert_eq!(leads.len(), 3);
    }

    #[test]
    fn stages_and_potentials_of_other_crms_are_mapped() {
        let stages = [
            ("new", Stage::New),
            ("Open - Not Contacted", Stage::New),
            ("NEW", Stage::New),
            ("신규", Stage::New),
            ("Working - Contacted", Stage::Contacted),
            ("Attempted to Contact", Stage::Contacted),
            ("IN_PROGRESS", Stage::Contacted),
            ("Qualified", Stage::Qualified),
            ("qualifiedtobuy", Stage::Qualified),
            ("Closed - Converted", Stage::Qualified),
            ("Proposal", Stage::Proposal),
            ("Proposal/Price Quote", Stage::Proposal),
            ("Quote", Stage::Proposal),
            ("견적", Stage::Proposal),
            ("Negotiation/Review", Stage::Negotiation),
            ("contractsent", Stage::Negotiation),
            ("협상", Stage::Negotiation),
            ("Closed Won", Stage::Won),
            ("closedwon", Stage::Won),
            ("Won", Stage::Won),
            ("수주", Stage::Won),
            ("Closed Lost", Stage::Lost),
            ("Lost", Stage::Lost),
            ("Unqualified", Stage::Lost),
            ("Closed - Not Converted", Stage::Lost),
            ("Junk Lead", Stage::Lost),
        ];
        for (v, want) in stages {
            assert_eq!(parse_stage(v), Ok(want), "{v}");
        }
        let e = parse_stage("Maybe later").unwrap_err().to_string();
        assert!(
            e.contains("'Maybe later' is not a valid stage") && e.contains("Closed Won"),
            "{e}"
        );
        for (v, want) in [
            ("Hot", Potential::Hot),
            ("WARM", Potential::Warm),
            ("cold", Potential::Cold),
            ("High", Potential::Hot),
            ("Medium", Potential::Warm),
            ("low", Potential::Cold),
            ("보통", Potential::Warm),
        ] {
            assert_eq!(parse_potential(v), Ok(want), "{v}");
        }
        assert!(parse_potential("lukewarm").is_err());
        for (v, want) in [
            ("Web", CaptureChannel::WebForm),
            ("badge scan", CaptureChannel::BadgeScan),
            ("명함", CaptureChannel::BusinessCard),
            ("business_card", CaptureChannel::BusinessCard),
        ] {
            assert_eq!(parse_channel(v), Ok(want), "{v}");
        }

        let (_d, s) = store();
        let leads = import(
            &s,
            "Name,Lead Status,Rating,Lead Source,Event\nA,Closed Won,Hot,Web,Expo\nB,Working - Contacted,Cold,Trade Show,\nC,,,Trade Show,Expo\n",
        );
        assert_eq!(
            (leads[0].stage, leads[0].potential, leads[0].source.channel),
            (Stage::Won, Some(Potential::Hot), CaptureChannel::WebForm)
        );
        assert_eq!(leads[0].source.event.as_deref(), Some("Expo"));
        assert_eq!(
            (leads[1].stage, leads[1].source.event.as_deref(), leads[1].source.channel),
            (Stage::Contacted, Some("Trade Show"), CaptureChannel::Import)
        );
        // The event column says it outright; the source is kept, not dropped.
        assert_eq!(leads[2].source.event.as_deref(), Some("Expo"));
        assert_eq!(
            leads[2].custom_fields,
            vec![CustomField { key: "Lead Source".into(), value: "Trade Show".into() }]
        );
        let r = dry(&s, "Name,Status,Rating\nA,Someday,Hot\nB,Won,Tepid\n");
        let msgs: Vec<(u64, Option<&str>)> =
            r.errors.iter().map(|e| (e.row, e.column.as_deref())).collect();
        assert_eq!(msgs, [(2, Some("Status")), (3, Some("Rating"))]);
    }

    #[test]
    fn money_keeps_the_decimals_of_its_currency() {
        let (_d, s) = store();
        let csv = "Name,Amount,Currency\n\
                   a,\"1,500,000\",KRW\n\
                   b,1500000.00,KRW\n\
                   c,\"1,500.50\",USD\n\
                   d,$99,usd\n\
                   e,0.125,KWD\n\
                   f,2500 EUR,\n\
                   g,700000,\n\
                   h,,\n";
        let leads = import(&s, csv);
        let got: Vec<Option<(i64, String)>> = leads
            .iter()
            .map(|l| l.deal_value.clone().map(|m| (m.amount_minor, m.currency)))
            .collect();
        let m = |a: i64, c: &str| Some((a, c.to_string()));
        assert_eq!(
            got,
            [
                m(1_500_000, "KRW"),
                m(1_500_000, "KRW"),
                m(150_050, "USD"),
                m(9_900, "USD"),
                m(125, "KWD"),
                m(250_000, "EUR"),
                m(700_000, "KRW"),
                None
            ]
        );

        let r = s.import_csv("Name,Amount,Currency\na,1500.5,KRW\nb,1.005,USD\nc,100,XYZ\nd,100,\ne,-5,USD\nf,100 USD,EUR\n".as_bytes(), None, true, None).unwrap();
        let errs: Vec<(u64, &str)> = r.errors.iter().map(|e| (e.row, e.message.as_str())).collect();
        assert!(errs[0].1.contains("KRW has no decimal places"), "{errs:?}");
        assert!(errs[1].1.contains("USD has at most 2 decimal places"), "{errs:?}");
        assert!(errs[2].1.contains("'XYZ' is not an ISO 4217 currency code"), "{errs:?}");
        assert!(errs[3].1.contains("has no currency"), "{errs:?}");
        assert_eq!(errs[4].1, "a deal value must not be negative");
        assert!(errs[5].1.contains("in USD but the currency column says EUR"), "{errs:?}");
        assert_eq!(
            r.errors.iter().map(|e| e.column.as_deref()).collect::<Vec<_>>(),
            [Some("Amount"); 6]
        );
        assert!(matches!(
            s.import_csv(&b"Name\nx\n"[..], None, true, Some("won")),
            Err(Error::Validation(V::Currency(_)))
        ));
    }

    #[test]
    fn names_lists_and_dates_are_read() {
        let (_d, s) = store();
        let csv = "성,이름,First Name 2,Email,Phone,Mobile,Tags,Next Follow-up\n\
                   김,철수,,\"KIM@acme.com; kim2@acme.com\",010-1234-5678,\"+1 415 555 2671 ::: 02-312-3456\",\"expo, vip\",2026-11-28\n\
                   ,,,lee@acme.com,,,\"vip;a, b\",2026-11-28T15:00:00+09:00\n";
        let leads = import(&s, csv);
        assert_eq!(leads[0].name.as_deref(), Some("김철수"));
        assert_eq!(leads[0].emails, ["kim@acme.com", "kim2@acme.com"]);
        assert_eq!(leads[0].phones, ["+821012345678", "+14155552671", "+8223123456"]);
        assert_eq!(leads[0].tags, ["expo", "vip"]);
        assert_eq!(leads[1].tags, ["a, b", "vip"], "with ';' present, ',' is part of a tag");
        assert_eq!(leads[0].next_follow_up, Some(1_795_824_000_000));
        assert_eq!(leads[1].next_follow_up, Some(1_795_824_000_000 + 6 * 3_600_000));
        assert_eq!(
            join_name(Some("Jane"), Some("Q."), Some("Doe")).as_deref(),
            Some("Jane Q. Doe")
        );
        assert_eq!(parse_time("2026-11-28T06:00Z"), Ok(1_795_824_000_000 + 6 * 3_600_000));
        assert_eq!(parse_time("2026/11/28"), Ok(1_795_824_000_000));
        assert_eq!(parse_time("1795824000123"), Ok(1_795_824_000_123));
        for bad in
            ["11/28/2026", "2026-02-30", "2026-11-28T25:00", "tomorrow", "2026-11-28T10:00+9"]
        {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_caller_overrides_the_mapping() {
        let (_d, s) = store();
        let csv = "Column X,Title,Secret,Name\nAcme,CTO,hush,Kim\n";
        let mut m = ColumnMapping::from_csv(csv.as_bytes()).unwrap();
        assert_eq!(m.target("column x"), Some(&Target::Custom("Column X".into())));
        m.set("column  x", Target::Company)
            .ignore("SECRET")
            .set("Title", Target::parse("custom").unwrap());
        let r = s.import_csv(csv.as_bytes(), Some(m), false, None).unwrap();
        assert_eq!(
            r.mapping.columns().iter().map(|c| (c.target.to_string(), c.by)).collect::<Vec<_>>(),
            [
                ("company".to_string(), MappedBy::Caller),
                ("custom.Title".to_string(), MappedBy::Caller),
                ("ignore".to_string(), MappedBy::Caller),
                ("name".to_string(), MappedBy::Detected),
            ]
        );
        let lead = s.lead(&r.lead_ids[0]).unwrap();
        assert_eq!((lead.company.as_deref(), lead.title.as_deref()), (Some("Acme"), None));
        assert_eq!(
            lead.custom_fields,
            vec![CustomField { key: "Title".into(), value: "CTO".into() }]
        );

        // A caller's column beats a detected one for the same field; a sparse mapping is enough.
        let mut m = ColumnMapping::new();
        m.set("Column X", Target::Name);
        let r = s.import_csv(csv.as_bytes(), Some(m), true, None).unwrap();
        assert_eq!(r.mapping.columns()[3].target, Target::Custom("Name".into()));
        assert_eq!(r.mapping.columns()[3].by, MappedBy::Duplicate);

        let mut m = ColumnMapping::new();
        m.set("Colum X", Target::Company);
        let e = s.import_csv(csv.as_bytes(), Some(m), true, None).unwrap_err().to_string();
        assert!(e.contains("no column 'Colum X'"), "{e}");
        let mut m = ColumnMapping::new();
        m.set("Column X", Target::Company).set("Secret", Target::Company);
        let e = s.import_csv(csv.as_bytes(), Some(m), true, None).unwrap_err().to_string();
        assert!(e.contains("both 'Column X' and 'Secret' are mapped to company"), "{e}");
        assert!(Target::parse("nickname").is_err());
        assert_eq!(Target::parse("custom.Booth"), Ok(Target::Custom("Booth".into())));
        assert_eq!(Target::parse("Deal Value"), Ok(Target::Amount));
    }

    #[test]
    fn an_id_column_of_another_crm_is_a_custom_field() {
        let (_d, s) = store();
        let r = dry(&s, "Id,Name\n00Q5g00000AbCdEFGH,Kim\n");
        assert_eq!(r.mapping.columns()[0].target, Target::Custom("Id".into()));
        assert!(r.errors.is_empty());
        let id = crate::model::new_id();
        let r = dry(&s, &format!("Id,Name\n{},Kim\n", id.to_uppercase()));
        assert_eq!(r.mapping.columns()[0].target, Target::Id);
        assert_eq!(r.valid_rows, 1);
    }

    #[test]
    fn row_problems_name_their_column() {
        let (_d, s) = store();
        let long = "x".repeat(201);
        let csv = format!(
            "Name,Company,Phone,Stage,Lost Reason,Extra\nKim,{long},,,,\n,,,,,\n,,,,,note\nLee,,12,,,\nPark,,,new,price,\nKim,Acme,,,,,surplus\n"
        );
        let r = dry(&s, &csv);
        let got: Vec<(u64, Option<&str>, &str)> =
            r.errors.iter().map(|e| (e.row, e.column.as_deref(), e.message.as_str())).collect();
        assert_eq!(
            got,
            [
                (2, Some("Company"), "company is too long: 201 characters, at most 200 allowed"),
                (
                    4,
                    None,
                    "a lead needs at least a name, a company, an e-mail address or a phone number"
                ),
                (5, Some("Phone"), "'12' is not a valid phone number (default region KR)"),
                (
                    6,
                    Some("Lost Reason"),
                    "a lost reason can only be given when the stage is 'lost'"
                ),
                (7, None, "the row has 7 cells but the header has 6 columns"),
            ]
        );
        assert_eq!((r.rows_read, r.valid_rows), (5, 0), "the empty row is not counted");
    }

    proptest::proptest! {
        #[test]
        fn no_input_makes_the_reader_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), text in "\\PC{0,40}") {
            let _ = check_csv(bytes.as_slice(), "KR", ImportOptions::default());
            let _ = parse_time(&text);
            let (n, _) = split_amount(&text);
            let _ = trim_zero_decimals(&n, 2);
            let _ = trim_zero_decimals(&text, 3);
            let csv = format!("Name,Amount,Next Follow-up,Stage,Rating,Phone\nx,{text:?},{text:?},{text:?},{text:?},{text:?}\n");
            let _ = check_csv(csv.as_bytes(), "KR", ImportOptions { default_currency: Some("USD".into()), ..Default::default() });
        }
    }
}
