//! Fixtures shared by the workspace's tests and benches (a dev-dependency, never published):
//! Korean and English names and a typical captured lead ([`data`]), stores in temporary folders
//! with a clock the test sets and changes exchanged between them ([`stores`]), and reading
//! criterion's results for a bench's closing table ([`bench`]).

pub mod bench;
pub mod data;
pub mod stores;

pub use data::{companies, drafts, typical_draft};
pub use stores::{Heard, TestStore, exchange, lead, send, store};

/// 2026-11-02 09:00 UTC, a Monday: the time fixtures start at.
pub const T0: i64 = 1_793_610_000_000;
