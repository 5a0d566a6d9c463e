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
//! Writing (`Store::import_csv_with`): all valid rows go to `Store::create_leads` in one
//! transaction. By default a single bad row imports nothing; [`ImportOptions::skip_invalid`] imports the valid rows
//! instead. A row whose `id` is already in the store is an error ("already imported"), so a
//! retried import cannot duplicate leads.
//!
//! `read` turns the bytes into a table, `mapping` decides where each column goes, `convert`
//! turns a row into a validated lead draft; this module checks a whole file and says what the
//! store is to write.

mod convert;
mod mapping;
mod read;

use std::collections::HashMap;
use std::io::Read;

use serde::Serialize;

use convert::{CellErrors, Converter};
pub use convert::{parse_channel, parse_potential, parse_stage, parse_time};
pub use mapping::{Column, ColumnMapping, MappedBy, MappedColumn};
use mapping::{col_of, is_native, resolve};
use read::read_table;

use crate::error::{Error, Result};
use crate::model::{Lead, LeadDraft};
use crate::validate::{self, Validator};

/// What `Store::import_csv_with` does besides reading the file.
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

/// What checking a file gives: the report so far, the drafts of the valid rows, the line of each
/// id, and the header of the id column.
pub(crate) struct Checked {
    pub(crate) report: ImportReport,
    drafts: Vec<LeadDraft>,
    seen_ids: HashMap<String, u64>,
    id_col: Option<String>,
}

impl Checked {
    /// The drafts to write, or `None` when nothing is to be written: a dry run, no valid row,
    /// or a bad row without `skip_invalid`.
    pub(crate) fn take_drafts(&mut self, opts: &ImportOptions) -> Option<Vec<LeadDraft>> {
        let stop = !self.report.errors.is_empty() && !opts.skip_invalid;
        if opts.dry_run || self.drafts.is_empty() || stop {
            return None;
        }
        Some(std::mem::take(&mut self.drafts))
    }

    /// The report after the drafts were written (or refused).
    pub(crate) fn finish(mut self, written: Result<Vec<Lead>>) -> Result<ImportReport> {
        match written {
            Ok(leads) => {
                self.report.imported = leads.len();
                self.report.lead_ids = leads.into_iter().map(|l| l.id).collect();
            }
            // Written (by a sync) between the check and the transaction: nothing was written.
            Err(Error::Exists { id, .. }) => {
                let row = self.seen_ids.get(&id).copied().unwrap_or(0);
                self.report.errors.push(RowError {
                    row,
                    column: self.id_col,
                    message: format!("already imported: lead {id} is in the store"),
                });
            }
            Err(e) => return Err(e),
        }
        Ok(self.report)
    }
}

/// Reads and checks every row of a file: the report so far and the drafts of the valid rows.
/// `exists` tells an id already in the store.
pub(crate) fn check(
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
    let id_col = col_of(&plan, |t| *t == Column::Id);
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

#[cfg(test)]
mod tests {
    use super::convert::*;
    use super::mapping::*;
    use super::*;
    use crate::error::ValidationError as V;
    use crate::model::*;
    use crate::store::{OpenOptions, Store};

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
    fn import(store: &Store, csv: &str) -> Vec<crate::model::Lead> {
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
        assert_eq!((c[0].target.clone(), c[0].by), (Column::Amount, MappedBy::Detected));
        assert_eq!(
            (c[1].target.clone(), c[1].by),
            (Column::Custom("Annual Revenue".into()), MappedBy::Duplicate)
        );
        assert_eq!(c[1].note.as_deref(), Some("'Amount' is read as deal value"));
        assert_eq!(c[2].target, Column::Company);
        assert_eq!(c[3].target, Column::Custom("Account Name".into()));
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
        assert_eq!(r.mapping.columns()[0].target, Column::Name);
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
        assert_eq!(m.target("column x"), Some(&Column::Custom("Column X".into())));
        m.set("column  x", Column::Company)
            .ignore("SECRET")
            .set("Title", Column::parse("custom").unwrap());
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
        m.set("Column X", Column::Name);
        let r = s.import_csv(csv.as_bytes(), Some(m), true, None).unwrap();
        assert_eq!(r.mapping.columns()[3].target, Column::Custom("Name".into()));
        assert_eq!(r.mapping.columns()[3].by, MappedBy::Duplicate);

        let mut m = ColumnMapping::new();
        m.set("Colum X", Column::Company);
        let e = s.import_csv(csv.as_bytes(), Some(m), true, None).unwrap_err().to_string();
        assert!(e.contains("no column 'Colum X'"), "{e}");
        let mut m = ColumnMapping::new();
        m.set("Column X", Column::Company).set("Secret", Column::Company);
        let e = s.import_csv(csv.as_bytes(), Some(m), true, None).unwrap_err().to_string();
        assert!(e.contains("both 'Column X' and 'Secret' are mapped to company"), "{e}");
        assert!(Column::parse("nickname").is_err());
        assert_eq!(Column::parse("custom.Booth"), Ok(Column::Custom("Booth".into())));
        assert_eq!(Column::parse("Deal Value"), Ok(Column::Amount));
    }

    #[test]
    fn an_id_column_of_another_crm_is_a_custom_field() {
        let (_d, s) = store();
        let r = dry(&s, "Id,Name\n00Q5g00000AbCdEFGH,Kim\n");
        assert_eq!(r.mapping.columns()[0].target, Column::Custom("Id".into()));
        assert!(r.errors.is_empty());
        let id = crate::model::new_id();
        let r = dry(&s, &format!("Id,Name\n{},Kim\n", id.to_uppercase()));
        assert_eq!(r.mapping.columns()[0].target, Column::Id);
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
