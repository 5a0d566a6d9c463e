//! The quarantine a person can read and act on (issue 14), for the kits: one entry with what
//! the change did field by field, why it was refused and what can be done; applying it again
//! where the user may, or dropping it. The words and the decisions are the core's
//! (`core/src/store/quarantine.rs`); this adapts.

use fieldsales_core as core;

use crate::types::QuarantineEntry;
use crate::{FieldStore, FieldsalesError};

type Result<T> = std::result::Result<T, FieldsalesError>;

#[uniffi::export]
impl FieldStore {
    /// One entry of `quarantine()`; `NotFound` if there is none with this id.
    pub fn quarantine_entry(&self, id: i64) -> Result<QuarantineEntry> {
        Ok(self.store.quarantine_entry(id)?.into())
    }

    /// Re-applies an entry where the user may: as one new change on the record as it is now
    /// (what the user may not do is left out and listed in `skipped`), or, for a record no
    /// longer on this device, sent to the server again as it was at the next sync. A rule of
    /// today that refuses it (a stage rule) throws `Validation`, and the entry stays.
    pub fn quarantine_apply(&self, id: i64) -> Result<core::QuarantineApplied> {
        Ok(self.store.quarantine_apply(id)?)
    }

    /// Drops an entry for good, and returns it.
    pub fn quarantine_discard(&self, id: i64) -> Result<QuarantineEntry> {
        Ok(self.store.quarantine_discard(id)?.into())
    }
}

/// A value of a quarantine entry's field (or a conflict's) as the field itself shows it:
/// money with its decimals ("25,000.00 USD"), a time in `time_zone` (an IANA name), a task's
/// `done` as done or open. Other values come back as they are.
#[uniffi::export]
pub fn format_field_value(field: String, raw: String, time_zone: String) -> Result<String> {
    let zone = core::Zone::parse(&time_zone)?;
    Ok(core::conflicts::shown(&field, &raw, &zone))
}
