//! Reads over the projections, by purpose: functions over a `&Connection` that the store's API
//! runs on its reader connection. Row formats come from the projection that writes the table.

pub(crate) mod duplicates;
pub(crate) mod export;
pub(crate) mod list;
pub(crate) mod performance;
pub(crate) mod report;
pub(crate) mod sales;
