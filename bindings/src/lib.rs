//! `fieldsales-ffi`: the Fieldsales core for Kotlin and Swift, through uniffi proc-macros.
//!
//! This crate only adapts. The model and query types (`Lead`, `LeadDraft`, `LeadPatch`,
//! `Activity…`, `LeadSummary`, `LeadQuery`, `FollowUps`, `Money`, the enums) are the core's own,
//! exported by `fieldsales-core` itself with its `uniffi` feature; what is defined here is what
//! the core cannot export as it is:
//! - [`FieldStore`], an object over an `Arc<Store>`;
//! - records for the few core types that cannot cross as they are ([`LeadPage`] for the generic
//!   `Page<LeadSummary>`, [`QuarantineEntry`] with its JSON summary, [`VerifyReport`] with `ok`);
//!   `LeadDetail`, `ChangedRecords`, `MergeReport` and the sync records are the core's own;
//! - for reports, [`ReportPeriod`] to pick the period and [`SalesReport`], the core's `Report`
//!   and `Performance` of one query in one record ([`RepCommission`] copies the commission,
//!   whose deal parts are tuples in the core); the figures, the sales-process settings, targets
//!   and plans are the core's own records;
//! - sync as async functions, with a foreign progress listener and a [`CancelHandle`]; live
//!   updates ([`LiveUpdate`], `events.rs`) that sync when the server says the feed moved;
//! - a foreign [`ChangeListener`] bridged to the core's `ChangeObserver`;
//! - [`FieldsalesError`], the one error type every call throws (`Validation` names its field);
//! - secrets ([`TokenVault`], `FieldStore.openEncrypted`): the sync token in the platform
//!   keystore, the store encrypted at rest;
//! - for the screens (`ui.rs`): list pages with unsynced marks, a duplicate check of a draft,
//!   the sync status and reports compared with the previous period.
//!
//! Library-mode bindgen over the cdylib generates one Kotlin package / Swift file per crate
//! (`fieldsales_core` and `fieldsales_ffi`); see bindings/bindgen.toml and docs/bindings.md.

mod error;
mod events;
mod quarantine;
mod secrets;
mod store;
mod sync;
mod types;
mod ui;

pub use error::FieldsalesError;
pub use events::{LiveUpdate, LiveUpdateListener};
pub use quarantine::format_field_value;
pub use secrets::{TokenVault, VaultError, new_store_key, peek_encrypted_store_user};
pub use store::{ChangeListener, FieldStore, new_actor_id, peek_store_user};
pub use sync::{CancelHandle, SyncProgressListener, enroll, enroll_as};
pub use types::{
    CommissionPart, DealCommission, ImportResult, LeadPage, QuarantineEntry, RecordKind,
    RemoteDocument, RemotePayload, RepCommission, ReportPeriod, SalesReport, VerifyReport,
    format_money, parse_money,
};
pub use ui::{ComparedReport, LeadListItem, LeadListPage};

uniffi::setup_scaffolding!();
