//! Records for the core types that cannot cross the FFI as they are: generic ones
//! (`Page<T>`), ones holding values with no FFI shape (`serde_json::Value`), and ones whose
//! foreign shape adds something (`VerifyReport.ok`). Each is a copy with a `From` conversion;
//! every other record (`LeadDetail`, `ChangedRecords`, `MergeReport`, the sync records) is the
//! core's own, derived there behind its `uniffi` feature.

use fieldsales_core as core;
use fieldsales_core::doc::DocKind;

use crate::FieldsalesError;

/// One page of the lead list (`Page<LeadSummary>` in the core). Pass `next` as
/// `LeadQuery.after` to get the following page; `None` on the last page.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct LeadPage {
    pub items: Vec<core::LeadSummary>,
    pub next: Option<String>,
}

impl From<core::Page<core::LeadSummary>> for LeadPage {
    fn from(p: core::Page<core::LeadSummary>) -> Self {
        LeadPage { items: p.items, next: p.next }
    }
}

/// What a CSV import did (or, on a dry run, would do). `errors` lists every bad row with its
/// line number; `imported` is 0 on a dry run or when a bad row stopped the import.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ImportResult {
    pub dry_run: bool,
    pub rows_read: u64,
    pub valid_rows: u64,
    pub imported: u64,
    pub lead_ids: Vec<String>,
    pub errors: Vec<core::import::RowError>,
    /// Each column of the file and where it went, e.g. `E-mail Address → email`.
    pub columns: Vec<String>,
}

impl From<core::import::ImportReport> for ImportResult {
    fn from(r: core::import::ImportReport) -> Self {
        let columns =
            r.mapping.columns().iter().map(|c| format!("{} → {}", c.header, c.target)).collect();
        ImportResult {
            dry_run: r.dry_run,
            rows_read: r.rows_read as u64,
            valid_rows: r.valid_rows as u64,
            imported: r.imported as u64,
            lead_ids: r.lead_ids,
            errors: r.errors,
            columns,
        }
    }
}

/// What a document holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum RecordKind {
    Lead,
    Activity,
    Settings,
    Target,
    CompPlan,
}

impl From<DocKind> for RecordKind {
    fn from(k: DocKind) -> Self {
        match k {
            DocKind::Lead => RecordKind::Lead,
            DocKind::Activity => RecordKind::Activity,
            DocKind::Settings => RecordKind::Settings,
            DocKind::Target => RecordKind::Target,
            DocKind::CompPlan => RecordKind::CompPlan,
        }
    }
}

impl From<RecordKind> for DocKind {
    fn from(k: RecordKind) -> Self {
        match k {
            RecordKind::Lead => DocKind::Lead,
            RecordKind::Activity => DocKind::Activity,
            RecordKind::Settings => DocKind::Settings,
            RecordKind::Target => DocKind::Target,
            RecordKind::CompPlan => DocKind::CompPlan,
        }
    }
}

/// A change the server refused, kept aside on the device so the rep's work is not lost.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct QuarantineEntry {
    pub id: i64,
    pub doc_id: String,
    pub kind: RecordKind,
    pub hash: String,
    /// Machine code from the server (`forbidden`, `invalid_document`, …) or `access_lost`.
    pub code: String,
    /// Why, in words.
    pub reason: String,
    /// When it was set aside, ms since the Unix epoch.
    pub at: i64,
    /// The raw Automerge change, to export or re-enter.
    pub change: Vec<u8>,
    /// What the change meant as far as the app can tell, as JSON (the record as it would have
    /// been), when it can tell.
    pub summary_json: Option<String>,
    /// What the change did: the record as a list names it, and each field it set, old → new
    /// (`formatFieldValue` shows a value as its field; bindings/src/quarantine.rs).
    pub detail: core::doc::diff::ChangeDetail,
    /// Why it is here, in plain words.
    pub why: String,
    /// What can be done about it, in plain words.
    pub what_to_do: String,
    /// Whether `quarantineApply` can act on it.
    pub can_apply: bool,
}

impl From<core::QuarantineEntry> for QuarantineEntry {
    fn from(q: core::QuarantineEntry) -> Self {
        QuarantineEntry {
            id: q.id,
            doc_id: q.doc_id,
            kind: q.kind.into(),
            hash: q.hash,
            code: q.code,
            reason: q.reason,
            at: q.at,
            change: q.change,
            summary_json: q.summary.map(|v| v.to_string()),
            detail: q.detail,
            why: q.why,
            what_to_do: q.what_to_do,
            can_apply: q.can_apply,
        }
    }
}

/// What came in from elsewhere for one document.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum RemotePayload {
    /// Raw Automerge changes, in any order, possibly repeated.
    Changes { changes: Vec<Vec<u8>> },
    /// A saved document, as `FieldStore.documentBytes` returns it.
    Snapshot { data: Vec<u8> },
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RemoteDocument {
    pub doc_id: String,
    pub kind: RecordKind,
    pub payload: RemotePayload,
}

impl From<RemoteDocument> for core::PullApply {
    fn from(d: RemoteDocument) -> Self {
        let (doc_id, kind) = (d.doc_id, d.kind.into());
        match d.payload {
            RemotePayload::Changes { changes } => {
                core::PullApply::Changes { doc_id, kind, changes }
            }
            RemotePayload::Snapshot { data } => core::PullApply::Snapshot { doc_id, kind, data },
        }
    }
}

/// Result of `FieldStore.verify`: projections that disagree with their documents and outbox
/// rows that are not this device's changes. `ok` when both lists are empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct VerifyReport {
    pub ok: bool,
    pub documents: u64,
    pub projection_mismatches: Vec<String>,
    pub problems: Vec<String>,
}

impl From<core::VerifyReport> for VerifyReport {
    fn from(r: core::VerifyReport) -> Self {
        VerifyReport {
            ok: r.is_ok(),
            documents: r.documents as u64,
            projection_mismatches: r.projection_mismatches,
            problems: r.problems,
        }
    }
}

/// Reads an amount typed in major units ("1,500.50") of an ISO 4217 currency into minor units.
#[uniffi::export]
pub fn parse_money(amount: String, currency: String) -> Result<core::Money, FieldsalesError> {
    Ok(core::validate::parse_money(&amount, &currency)?)
}

/// `1,500,000 KRW`, `1,500.50 USD`.
#[uniffi::export]
pub fn format_money(money: core::Money) -> String {
    money.to_string()
}

/// Decimal places of an ISO 4217 currency as the core counts them (KRW 0, USD 2, BHD 3; an
/// unknown code 0), for a shell that formats or edits amounts itself.
#[uniffi::export]
pub fn currency_exponent(currency: String) -> u32 {
    core::model::currency_exponent(&currency)
}

// ---- reports -------------------------------------------------------------------------------

/// Which period a report covers: the local week (Monday to Monday), month or quarter holding
/// `now`, or a custom half-open range `[start_ms, end_ms)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ReportPeriod {
    Week,
    Month,
    Quarter,
    Custom { start_ms: i64, end_ms: i64 },
}

impl ReportPeriod {
    /// The core's period for this choice at `now_ms` in `zone`.
    pub(crate) fn resolve(
        self,
        now_ms: i64,
        zone: &core::Zone,
    ) -> Result<core::report::Period, FieldsalesError> {
        use core::report::Period;
        Ok(match self {
            ReportPeriod::Week => Period::week_of(now_ms, zone),
            ReportPeriod::Month => Period::month_of(now_ms, zone),
            ReportPeriod::Quarter => Period::quarter_of(now_ms, zone),
            ReportPeriod::Custom { start_ms, end_ms } => Period::custom(start_ms, end_ms)?,
        })
    }
}

/// One part of a won deal and the commission rate it earns (`DealCommission.parts` in the core,
/// a tuple there).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct CommissionPart {
    /// Minor units of the deal's currency.
    pub amount: i64,
    pub rate_bp: u32,
}

/// One won deal's share of the commission; two or more parts when it straddles a tier.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct DealCommission {
    pub lead_id: String,
    pub amount: i64,
    pub parts: Vec<CommissionPart>,
}

/// A rep's pay for the period under their plan (`performance::Commission` in the core).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RepCommission {
    pub rep: String,
    pub plan_id: String,
    pub base: core::Money,
    pub rate_bp: u32,
    pub tiers: Vec<core::Tier>,
    /// The rep's won-value target for exactly this period, per currency (none: no tiers apply).
    pub quota: Vec<core::Money>,
    /// Won value in the period, per currency.
    pub won_value: Vec<core::Money>,
    /// Commission earned, per currency, in minor units (rounded down once per currency).
    pub commission: Vec<core::Money>,
    pub deals: Vec<DealCommission>,
}

impl From<core::performance::Commission> for RepCommission {
    fn from(c: core::performance::Commission) -> Self {
        RepCommission {
            rep: c.rep,
            plan_id: c.plan_id,
            base: c.base,
            rate_bp: c.rate_bp,
            tiers: c.tiers,
            quota: c.quota,
            won_value: c.won_value,
            commission: c.commission,
            deals: c
                .deals
                .into_iter()
                .map(|d| DealCommission {
                    lead_id: d.lead_id,
                    amount: d.amount,
                    parts: d
                        .parts
                        .into_iter()
                        .map(|(amount, rate_bp)| CommissionPart { amount, rate_bp })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// The figures of a period (`Store::report`) with the targets' attainment and each rep's
/// commission (`Store::performance`) over the same query: what `fieldsales report --json` prints.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct SalesReport {
    pub period: core::report::Period,
    /// Every lead in scope together.
    pub team: core::report::Figures,
    /// Each owner's figures, by owner.
    pub reps: Vec<core::report::RepFigures>,
    /// The stage names, probabilities and rules the figures used.
    pub stages: Vec<core::StageSetting>,
    pub attainment: Vec<core::performance::Attainment>,
    pub commission: Vec<RepCommission>,
}

impl From<(core::report::Report, core::performance::Performance)> for SalesReport {
    fn from((r, p): (core::report::Report, core::performance::Performance)) -> Self {
        SalesReport {
            period: r.period,
            team: r.team,
            reps: r.reps,
            stages: p.stages,
            attainment: p.attainment,
            commission: p.commission.into_iter().map(Into::into).collect(),
        }
    }
}
