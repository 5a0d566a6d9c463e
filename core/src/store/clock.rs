//! The one clock of the core. Every time the store writes (created, updated, a stage move, an
//! activity's "now", quarantine and sync marks) comes from [`Store::now`]: the clock the store
//! was opened with (`OpenOptions::clock`; the CLI sets it from `FIELDSALES_NOW`) corrected by
//! the offset to the sync server's clock that the last sync measured.
//!
//! The correction is applied when writing, not when reading: a manager's report reads times
//! other devices wrote, and only the device that wrote a time knows how far its clock was off.
//! A time written before the device ever talked to a server stays as its clock said
//! (docs/architecture.md, "Time").

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{Clock, Store, system_clock};
use crate::{Result, ValidationError};

/// `meta` key of the offset (ms, the server's time minus this device's clock).
pub const META_CLOCK_OFFSET: &str = "sync.clock_offset_ms";

/// The environment variable the CLI reads its clock from: a time (`2026-11-30T22:00:00Z`, the
/// clock then stands there) or a signed duration (`+3h`, `-90m`: the system clock that far
/// off, as a phone set wrong would be).
pub const CLOCK_ENV: &str = "FIELDSALES_NOW";

pub(super) const UNKNOWN: i64 = i64::MIN;

/// A clock from [`CLOCK_ENV`]'s syntax.
pub fn parse_clock(spec: &str) -> std::result::Result<Clock, ValidationError> {
    let spec = spec.trim();
    if spec.eq_ignore_ascii_case("now") {
        return Ok(system_clock());
    }
    let bad = |reason: String| ValidationError::Invalid { field: "clock", reason };
    if let Some(sign) = spec.chars().next().filter(|c| *c == '+' || *c == '-') {
        let secs = crate::calendar::parse_duration(&spec[1..])
            .map_err(|e| bad(format!("'{spec}': {e}")))?;
        let skew = secs.saturating_mul(if sign == '-' { -1000 } else { 1000 });
        let system = system_clock();
        return Ok(Arc::new(move || system().saturating_add(skew)));
    }
    let at = crate::Zone::utc()
        .parse_time(spec, 0)
        .map_err(|e| bad(format!("'{spec}' is neither a time nor +/- a duration: {e}")))?;
    Ok(Arc::new(move || at))
}

/// The clock [`CLOCK_ENV`] asks for, or the system clock when it is not set.
pub fn clock_from_env() -> std::result::Result<Clock, ValidationError> {
    match std::env::var(CLOCK_ENV) {
        Ok(spec) if !spec.trim().is_empty() => parse_clock(&spec),
        _ => Ok(system_clock()),
    }
}

impl Store {
    /// Now, as the sync server's clock would say it when the offset is known (what every write
    /// records); this device's clock otherwise.
    pub fn now(&self) -> i64 {
        let device = (self.clock)();
        match self.clock_offset.load(Ordering::Relaxed) {
            UNKNOWN => device,
            off => device.saturating_add(off),
        }
    }

    /// This device's clock as it is, uncorrected: what an offset is measured against.
    pub fn device_now(&self) -> i64 {
        (self.clock)()
    }

    /// The server's time minus this device's clock (ms), as last measured; `None` before the
    /// first exchange with a server that tells its time.
    pub fn clock_offset(&self) -> Option<i64> {
        match self.clock_offset.load(Ordering::Relaxed) {
            UNKNOWN => None,
            off => Some(off),
        }
    }

    /// Records a measured offset, to the second: a network round trip makes the milliseconds
    /// noise, and an offset that moves by a few of them on every sync would only reorder this
    /// device's own writes.
    pub fn record_clock_offset(&self, offset_ms: i64) -> Result<()> {
        let off = (offset_ms.saturating_add(500)).div_euclid(1000).saturating_mul(1000);
        if off == UNKNOWN || self.clock_offset() == Some(off) {
            return Ok(());
        }
        self.set_meta(META_CLOCK_OFFSET, Some(&off.to_string()))?;
        self.clock_offset.store(off, Ordering::Relaxed);
        Ok(())
    }

    pub(super) fn load_clock_offset(&self) -> Result<()> {
        let off = self.meta(META_CLOCK_OFFSET)?.and_then(|v| v.parse::<i64>().ok());
        self.clock_offset.store(off.unwrap_or(UNKNOWN), Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_is_a_time_or_a_skew_of_the_system_clock() {
        assert_eq!(parse_clock("2026-11-02T09:00:00Z").unwrap()(), 1_793_610_000_000);
        let fast = parse_clock("+3h").unwrap()();
        let slow = parse_clock("-3h").unwrap()();
        let system = system_clock()();
        assert!((fast - system - 3 * 3_600_000).abs() < 60_000);
        assert!((system - slow - 3 * 3_600_000).abs() < 60_000);
        assert!(parse_clock("yesterday-ish").is_err());
        assert!(parse_clock("+3 parsecs").is_err());
    }

    #[test]
    fn the_offset_corrects_now_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let opts = || crate::OpenOptions::new("kim").clock(Arc::new(|| 1_000_000_000_000));
        let s = Store::open(&path, opts()).unwrap();
        assert_eq!((s.now(), s.clock_offset()), (1_000_000_000_000, None));
        // 3 hours fast: the server is 3 hours behind this device.
        s.record_clock_offset(-3 * 3_600_000 + 240).unwrap();
        assert_eq!(s.clock_offset(), Some(-3 * 3_600_000));
        assert_eq!(s.now(), 1_000_000_000_000 - 3 * 3_600_000);
        assert_eq!(s.device_now(), 1_000_000_000_000);
        drop(s);
        let s = Store::open(&path, opts()).unwrap();
        assert_eq!(s.now(), 1_000_000_000_000 - 3 * 3_600_000);
    }
}
