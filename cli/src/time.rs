//! The clock the CLI reads. Parsing and showing times is the core's (`fieldsales_core::calendar`)
//! so that the CLI, the phones and the reports agree on every local day.

/// Milliseconds since the Unix epoch from the system clock; a clock before 1970 reads as 0.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
