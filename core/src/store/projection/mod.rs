//! SQL projections of documents: rows that queries can filter, sort and search fast, one module
//! per kind, each the only writer of its tables. They are pure functions of a document,
//! rewritten in the same transaction as every change to it; `Store::verify` recomputes them.

pub(crate) mod activity;
pub(crate) mod lead;
pub(crate) mod sales;
