//! Fieldsales core: leads and activities captured offline on a phone, stored as one Automerge
//! document per record in SQLite, with SQL projections for fast lists and search.
//!
//! Layers, each using only those before it: [`model`] (plain types) → [`validate`] → [`doc`]
//! (Automerge documents) → computations over plain values ([`report`], [`performance`],
//! [`compare`], [`duplicates`], [`conflicts`], [`export`], [`import`], [`capture`]) → [`store`]
//! (all SQL; `impl Store` is the API) → [`sync`] (the wire protocol and the client).
//!
//! Data path: a tap → [`model`] draft → [`validate`] → [`doc`] (Automerge change) → [`store`]
//! (one transaction: document, projection, outbox) → [`sync`] → the server → another device's
//! [`sync`] → [`Store::apply_pull`] → its lists ([`Store::list_leads`]).

// With the `uniffi` feature the model, store and report types carry uniffi derives, so that the
// `fieldsales-ffi` crate can use them in its exported API as they are.
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();

pub mod calendar;
pub mod capture;
pub mod compare;
pub mod conflicts;
pub mod doc;
pub mod duplicates;
mod error;
pub mod export;
pub mod fingerprint;
pub mod form;
pub mod import;
pub mod model;
pub mod performance;
pub mod report;
pub mod search_text;
pub mod store;
pub mod sync;
pub mod validate;

pub use calendar::{Period, Zone};
pub use doc::DocKind;
pub use error::{Error, Result, ValidationError};
pub use model::*;
pub use store::sync::SyncStatus;
pub use store::upkeep::VerifyReport;
pub use store::{
    ChangeObserver, ChangedRecords, Clock, MergeReport, OpenOptions, OutboxEntry, PullApply,
    QuarantineApplied, QuarantineEntry, Store, Warming,
};
