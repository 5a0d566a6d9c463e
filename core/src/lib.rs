//! Fieldsales core: leads and activities captured offline on a phone, stored as one Automerge
//! document per record in SQLite, with SQL projections for fast lists and search.
//!
//! Data path: a tap → [`model`] draft → [`validate`] → [`doc`] (Automerge change) → [`store`]
//! (one transaction: document, projection, outbox) → sync → another device's
//! [`Store::apply_remote`] → [`query`].

// With the `uniffi` feature the model and query types carry uniffi derives, so that the
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
pub mod query;
pub mod report;
pub mod status;
pub mod store;
pub mod sync;
pub mod validate;

pub use calendar::{Period, Zone};
pub use doc::DocKind;
pub use error::{Error, Result, ValidationError};
pub use model::*;
pub use query::{Facet, FollowUp, FollowUps, LeadFacets, LeadQuery, LeadSort, LeadSummary, Page};
pub use store::{
    ChangeObserver, Changed, Clock, LeadDetail, MergeReport, OpenOptions, OutboxEntry, PullApply,
    QuarantineEntry, RemoteDoc, RemotePayload, Store, VerifyReport,
};
