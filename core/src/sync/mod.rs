//! Sync: the wire protocol shared with the server, and (with the `client` feature) the HTTP
//! client that pushes the outbox and pulls everything the user may see.

pub mod protocol;

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "client")]
pub mod events;
#[cfg(feature = "client")]
pub use client::{
    Credentials, SyncClient, SyncError, SyncPhase, SyncProgress, SyncSummary, enroll, enroll_as,
};
