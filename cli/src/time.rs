//! Times as people type and read them. The store keeps UTC milliseconds; people think in their
//! own zone, given as a fixed `--utc-offset` so that output never depends on the machine's zone
//! database. Hand-written instead of a date crate: the few formats below are all the CLI needs.

pub const SECOND: i64 = 1_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const DAY: i64 = 86_400_000;

/// Milliseconds since the Unix epoch from the system clock; a clock before 1970 reads as 0.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

const FORMATS: &str = "use RFC 3339 (2026-11-28T15:00:00+09:00, 2026-11-28T15:00Z), \
a local date or time (2026-11-28, 2026-11-28T15:00), 'now' or a relative time (+2h, +3d, -30m)";

/// Parses a point in time. Dates and times without a zone are local to `offset_min`.
pub fn parse_time(input: &str, now: i64, offset_min: i32) -> Result<i64, String> {
    let s = input.trim();
    let err = || format!("'{input}' is not a time; {FORMATS}");
    if s.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(rest) = s.strip_prefix('+').or_else(|| s.strip_prefix('-')) {
        let secs = parse_duration(rest).map_err(|_| err())?;
        let delta = secs.checked_mul(SECOND).ok_or_else(err)?;
        let t = if s.starts_with('-') { now.checked_sub(delta) } else { now.checked_add(delta) };
        return t.ok_or_else(err);
    }
    let offset = i64::from(offset_min) * MINUTE;
    let b = s.as_bytes();
    let days = parse_date(b).ok_or_else(err)?;
    if b.len() == 10 {
        return Ok(days * DAY - offset);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return Err(err());
    }
    let (ms_of_day, zone) = parse_clock(&b[11..]).ok_or_else(err)?;
    let zone_offset = match zone {
        [] => offset,
        [b'Z' | b'z'] => 0,
        _ => parse_zone(zone).ok_or_else(err)?,
    };
    Ok(days * DAY + ms_of_day - zone_offset)
}

/// `YYYY-MM-DD` at the start of `b`, as days since 1970-01-01.
fn parse_date(b: &[u8]) -> Option<i64> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(fieldsales_core::model::days_from_civil(y, m, d))
}

/// `HH:MM[:SS[.fff…]]` followed by whatever zone text remains; returns milliseconds into the day.
fn parse_clock(b: &[u8]) -> Option<(i64, &[u8])> {
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let (h, mi) = (digits(&b[0..2])?, digits(&b[3..5])?);
    let mut rest = &b[5..];
    let mut sec = 0;
    let mut millis = 0;
    if rest.first() == Some(&b':') {
        sec = digits(rest.get(1..3)?)?;
        rest = &rest[3..];
        if rest.first() == Some(&b'.') {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            // Only milliseconds are stored; further digits are dropped, not rounded.
            for (i, c) in rest[1..=n].iter().take(3).enumerate() {
                millis += i64::from(c - b'0') * [100, 10, 1][i];
            }
            rest = &rest[1 + n..];
        }
    }
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    Some((((h * 60 + mi) * 60 + sec) * SECOND + millis, rest))
}

/// `+HH:MM`, `-HH:MM` or `+HHMM`, as milliseconds east of UTC.
fn parse_zone(b: &[u8]) -> Option<i64> {
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = match b.len() {
        6 if b[3] == b':' => (digits(&b[1..3])?, digits(&b[4..6])?),
        5 => (digits(&b[1..3])?, digits(&b[3..5])?),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 60 + m) * MINUTE)
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, c| n * 10 + i64::from(c - b'0')))
}

/// A length of time such as `5m`, `300s`, `1h30m`, `2d` or `1w`, in seconds. A bare number is
/// refused: "--duration 5" is as likely to mean minutes as seconds.
pub fn parse_duration(input: &str) -> Result<i64, String> {
    let err = || {
        format!("'{input}' is not a duration; use a number with a unit: 300s, 5m, 1h30m, 2d, 1w")
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(err());
    }
    let mut total: i64 = 0;
    let mut num: Option<i64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            let n = num
                .unwrap_or(0)
                .checked_mul(10)
                .and_then(|n| n.checked_add(i64::from(d)))
                .ok_or_else(err)?;
            num = Some(n);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(err()),
        };
        let n = num.take().ok_or_else(err)?;
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(err)?;
    }
    if num.is_some() {
        return Err(err());
    }
    Ok(total)
}

/// `1h30m`, `5m`, `45s`, `0s`.
pub fn format_duration(secs: i64) -> String {
    if secs <= 0 {
        return format!("{secs}s");
    }
    let mut out = String::new();
    let mut rest = secs;
    for (unit, n) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if rest >= n {
            out.push_str(&format!("{}{unit}", rest / n));
            rest %= n;
        }
    }
    out
}

/// `2026-11-28 15:00` in the given zone: short enough for a table column.
pub fn format_short(ms: i64, offset_min: i32) -> String {
    let (y, mo, d, h, mi, _, _) = civil(ms, offset_min);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}")
}

/// `2026-11-28T15:00:00+09:00`: unambiguous, for detail views.
pub fn format_full(ms: i64, offset_min: i32) -> String {
    let (y, mo, d, h, mi, s, _) = civil(ms, offset_min);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{}", format_offset(offset_min))
}

pub fn format_offset(offset_min: i32) -> String {
    if offset_min == 0 {
        return "Z".into();
    }
    let sign = if offset_min < 0 { '-' } else { '+' };
    let m = offset_min.unsigned_abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

fn civil(ms: i64, offset_min: i32) -> (i64, i64, i64, i64, i64, i64, i64) {
    let local = ms.saturating_add(i64::from(offset_min) * MINUTE);
    let days = local.div_euclid(DAY);
    let in_day = local.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    (y, m, d, in_day / 3_600_000, in_day / MINUTE % 60, in_day / SECOND % 60, in_day % SECOND)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil_from_days (proleptic Gregorian calendar); days_from_civil is the core's.

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000_000;
    /// 2026-11-28T06:00:00Z, i.e. 15:00 in Seoul.
    const T: i64 = 1_795_845_600_000;

    #[test]
    fn rfc3339_in_any_zone() {
        assert_eq!(parse_time("2026-11-28T15:00:00+09:00", NOW, 0), Ok(T));
        assert_eq!(parse_time("2026-11-28T06:00Z", NOW, 540), Ok(T));
        assert_eq!(parse_time("2026-11-28t06:00:00z", NOW, 0), Ok(T));
        assert_eq!(parse_time("2026-11-28 15:00+0900", NOW, 0), Ok(T));
        assert_eq!(parse_time("2026-11-28T01:00:00.250-05:00", NOW, 0), Ok(T + 250));
        assert_eq!(parse_time("2026-11-28T06:00:00.123456Z", NOW, 0), Ok(T + 123));
    }

    #[test]
    fn local_dates_and_times_use_the_offset() {
        assert_eq!(parse_time("2026-11-28T15:00", NOW, 540), Ok(T));
        assert_eq!(parse_time("2026-11-28", NOW, 540), Ok(T - 15 * 3_600_000));
        assert_eq!(parse_time("2026-11-28", NOW, 0), Ok(T - 6 * 3_600_000));
        assert_eq!(parse_time("1970-01-01", NOW, -300), Ok(300 * MINUTE));
        assert_eq!(parse_time("2024-02-29", NOW, 0), Ok(19_782 * DAY));
    }

    #[test]
    fn now_and_relative_times() {
        assert_eq!(parse_time(" now ", NOW, 0), Ok(NOW));
        assert_eq!(parse_time("+2h", NOW, 0), Ok(NOW + 2 * 3_600_000));
        assert_eq!(parse_time("+3d", NOW, 0), Ok(NOW + 3 * DAY));
        assert_eq!(parse_time("-30m", NOW, 0), Ok(NOW - 30 * MINUTE));
        assert_eq!(parse_time("+1h30m", NOW, 0), Ok(NOW + 90 * MINUTE));
    }

    #[test]
    fn nonsense_is_refused_with_the_formats_named() {
        for bad in [
            "",
            "tomorrow",
            "2026-13-01",
            "2026-02-29",
            "2026-11-31",
            "2026-11-28T24:00",
            "2026-11-28T15:60",
            "2026-11-28T15",
            "2026-11-28X15:00",
            "2026-11-28T15:00+9",
            "2026-11-28T15:00:00.Z",
            "26-11-28",
            "+",
            "+2",
            "+2x",
            "+99999999999999w",
            "2026-11-28T15:00:61Z",
            "２０２６-11-28",
        ] {
            let e = parse_time(bad, NOW, 0).expect_err(bad);
            assert!(e.contains("RFC 3339"), "{bad}: {e}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m"), Ok(300));
        assert_eq!(parse_duration("300s"), Ok(300));
        assert_eq!(parse_duration("1h"), Ok(3_600));
        assert_eq!(parse_duration("1h30m"), Ok(5_400));
        assert_eq!(parse_duration("1W"), Ok(604_800));
        for bad in ["", "5", "m", "5x", "1h30", "-5m", "99999999999999999999s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(300), "5m");
        assert_eq!(format_duration(5_400), "1h30m");
        assert_eq!(format_duration(90_061), "1d1h1m1s");
        assert_eq!(format_duration(0), "0s");
    }

    #[test]
    fn formatting_round_trips_and_shows_the_zone() {
        assert_eq!(format_full(T, 540), "2026-11-28T15:00:00+09:00");
        assert_eq!(format_full(T, 0), "2026-11-28T06:00:00Z");
        assert_eq!(format_full(T, -330), "2026-11-28T00:30:00-05:30");
        assert_eq!(format_short(T, 540), "2026-11-28 15:00");
        assert_eq!(format_short(-1, 0), "1969-12-31 23:59");
        for t in [0, T, T + 59_999, -DAY * 400, 4_102_444_800_000] {
            for off in [0, 540, -480] {
                let full = format_full(t - t.rem_euclid(SECOND), off);
                assert_eq!(parse_time(&full, NOW, 0), Ok(t - t.rem_euclid(SECOND)), "{full}");
            }
        }
        // Times from a damaged or hostile replica must print, not panic.
        let _ = format_full(i64::MAX, 840);
        let _ = format_short(i64::MIN, -840);
    }
}
