//! Every date and time computation of the app: time zones (the IANA database, bundled so that
//! every device computes the same local days), the local day, week, month and quarter holding
//! an instant, and times as people type and read them. Stored times stay UTC milliseconds
//! ([`Millis`]); a zone matters only where a person's calendar does: "today", "this month", a
//! date typed without a zone. Built on `jiff`, so a zone with daylight saving gets 23- and
//! 25-hour days right.

use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, ToSpan, Zoned};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::model::Millis;

pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
/// 24 hours: a duration, not a calendar day (a local day across a daylight-saving change is
/// 23 or 25 hours; use [`Zone::end_of_day`] for those).
pub const DAY: Millis = 24 * HOUR;

/// A person's time zone: an IANA zone such as `Asia/Seoul`, or a fixed offset.
#[derive(Clone, Debug)]
pub struct Zone {
    tz: TimeZone,
}

impl Default for Zone {
    fn default() -> Self {
        Zone::utc()
    }
}

impl std::fmt::Display for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Zone {
    pub fn utc() -> Zone {
        Zone { tz: TimeZone::UTC }
    }

    /// An IANA name (`Asia/Seoul`, `America/New_York`, `UTC`) or a fixed offset (`+09:00`,
    /// `-0500`, `Z`).
    pub fn parse(name: &str) -> Result<Zone, ValidationError> {
        let name = name.trim();
        let invalid = || ValidationError::Invalid {
            field: "time zone",
            reason: format!(
                "'{name}' is not a time zone; use an IANA name such as Asia/Seoul or \
                 America/New_York, or an offset such as +09:00"
            ),
        };
        if name.eq_ignore_ascii_case("z") {
            return Ok(Zone::utc());
        }
        if name.starts_with(['+', '-']) {
            let minutes = parse_offset(name.as_bytes()).ok_or_else(invalid)? / MINUTE;
            return Zone::fixed_minutes(minutes as i32).map_err(|_| invalid());
        }
        TimeZone::get(name).map(|tz| Zone { tz }).map_err(|_| invalid())
    }

    /// A fixed offset east of UTC, in minutes (at most ±25 hours).
    pub fn fixed_minutes(minutes: i32) -> Result<Zone, ValidationError> {
        Offset::from_seconds(minutes.saturating_mul(60))
            .map(|o| Zone { tz: TimeZone::fixed(o) })
            .map_err(|_| ValidationError::Invalid {
                field: "time zone",
                reason: format!("an offset of {minutes} minutes is out of range"),
            })
    }

    /// The device's own zone, or UTC where it cannot be found.
    pub fn system() -> Zone {
        Zone { tz: TimeZone::try_system().unwrap_or(TimeZone::UTC) }
    }

    /// The IANA name, or the offset (`+09:00`) of a fixed zone.
    pub fn name(&self) -> String {
        match self.tz.iana_name() {
            Some(n) => n.to_string(),
            None => format_offset(self.offset_minutes(0)),
        }
    }

    /// Minutes east of UTC at `t` (daylight saving included).
    pub fn offset_minutes(&self, t: Millis) -> i32 {
        self.tz.to_offset(timestamp(t)).seconds() / 60
    }

    fn zoned(&self, t: Millis) -> Zoned {
        timestamp(t).to_zoned(self.tz.clone())
    }

    /// The local calendar date holding `t`, as `(year, month, day)`.
    pub fn date_of(&self, t: Millis) -> (i16, i8, i8) {
        let d = self.zoned(t).date();
        (d.year(), d.month(), d.day())
    }

    /// The first instant of a local date (midnight, or the end of a daylight-saving gap that
    /// swallows midnight).
    fn start_of(&self, date: Date) -> Millis {
        date.to_zoned(self.tz.clone())
            .and_then(|z| z.start_of_day())
            .map_or(if date.year() < 0 { Millis::MIN } else { Millis::MAX }, |z| {
                z.timestamp().as_millisecond()
            })
    }

    /// The start of the next local day after `t`: the end of "today".
    pub fn end_of_day(&self, t: Millis) -> Millis {
        match self.zoned(t).date().tomorrow() {
            Ok(d) => self.start_of(d),
            Err(_) => Millis::MAX,
        }
    }

    /// Parses a point in time as a person types it: RFC 3339 (`2026-11-28T15:00:00+09:00`,
    /// `2026-11-28T06:00Z`), a local date or time in this zone (`2026-11-28`,
    /// `2026-11-28T15:00`), `now`, or a time relative to `now` (`+2h`, `+3d`, `-30m`).
    pub fn parse_time(&self, input: &str, now: Millis) -> Result<Millis, String> {
        const FORMATS: &str = "use RFC 3339 (2026-11-28T15:00:00+09:00, 2026-11-28T15:00Z), \
            a local date or time (2026-11-28, 2026-11-28T15:00), 'now' or a relative time \
            (+2h, +3d, -30m)";
        let s = input.trim();
        let err = || format!("'{input}' is not a time; {FORMATS}");
        if s.eq_ignore_ascii_case("now") {
            return Ok(now);
        }
        if let Some(rest) = s.strip_prefix('+').or_else(|| s.strip_prefix('-')) {
            let secs = parse_duration(rest).map_err(|_| err())?;
            let delta = secs.checked_mul(SECOND).ok_or_else(err)?;
            let t =
                if s.starts_with('-') { now.checked_sub(delta) } else { now.checked_add(delta) };
            return t.ok_or_else(err);
        }
        self.parse_date_time(s, b'-').ok_or_else(err)
    }

    /// `YYYY-MM-DD` (the separator `sep`, or `-`), optionally followed by `T`/space and
    /// `HH:MM[:SS[.fff]]` and a zone (`Z`, `±HH:MM`, `±HHMM`); without a zone the time is local
    /// to this zone, and a date alone is its local midnight.
    pub fn parse_date_time(&self, s: &str, sep: u8) -> Option<Millis> {
        let b = s.as_bytes();
        // jiff reads a few more ISO 8601 forms than people type here (a time of hours only,
        // week dates, basic-format dates); the shape is checked first so that those stay errors
        // rather than guesses.
        // ASCII first: slicing the date's fields out of multibyte text would split a character.
        if b.len() < 10 || !b[..10].is_ascii() || b[4] != b[7] || !(b[4] == b'-' || b[4] == sep) {
            return None;
        }
        let date_part = format!("{}-{}-{}", &s[0..4], &s[5..7], &s[8..10]);
        if !date_part.bytes().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit()) {
            return None;
        }
        let date: Date = date_part.parse().ok()?;
        let rest = &s[10..];
        if rest.is_empty() {
            return Some(self.start_of(date));
        }
        let rb = rest.as_bytes();
        if !matches!(rb[0], b'T' | b't' | b' ') || rb.len() < 6 || rb[3] != b':' {
            return None;
        }
        // The clock, then whatever zone text remains.
        let clock_len = rest[1..]
            .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
            .map_or(rest.len(), |i| i + 1);
        let (clock, zone) = (&rest[1..clock_len], &rest[clock_len..]);
        if clock.ends_with('.') || !clock.split(':').all(|p| p.len() >= 2) {
            return None;
        }
        let local: DateTime = format!("{date_part}T{clock}").parse().ok()?;
        let ts = match zone.as_bytes() {
            [] => local.to_zoned(self.tz.clone()).ok()?.timestamp(),
            [b'Z' | b'z'] => local.to_zoned(TimeZone::UTC).ok()?.timestamp(),
            z => {
                let offset = Offset::from_seconds((parse_offset(z)? / SECOND) as i32).ok()?;
                local.to_zoned(TimeZone::fixed(offset)).ok()?.timestamp()
            }
        };
        Some(ts.as_millisecond())
    }

    /// `2026-11-28 15:00` in this zone: short enough for a table column.
    pub fn format_short(&self, t: Millis) -> String {
        self.zoned(t).strftime("%Y-%m-%d %H:%M").to_string()
    }

    /// `2026-11-28T15:00:00+09:00` (`Z` for UTC): unambiguous, for detail views.
    pub fn format_full(&self, t: Millis) -> String {
        let z = self.zoned(t);
        format!("{}{}", z.strftime("%Y-%m-%dT%H:%M:%S"), format_offset(z.offset().seconds() / 60))
    }

    /// `2026-11-28`, the local date of `t`.
    pub fn format_date(&self, t: Millis) -> String {
        self.zoned(t).strftime("%Y-%m-%d").to_string()
    }
}

fn timestamp(t: Millis) -> Timestamp {
    Timestamp::from_millisecond(t).unwrap_or(if t < 0 { Timestamp::MIN } else { Timestamp::MAX })
}

/// `+HH:MM`, `-HH:MM` or `±HHMM`, as milliseconds east of UTC.
fn parse_offset(b: &[u8]) -> Option<Millis> {
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let two = |s: &[u8]| -> Option<Millis> {
        (s.len() == 2 && s.iter().all(u8::is_ascii_digit))
            .then(|| Millis::from(s[0] - b'0') * 10 + Millis::from(s[1] - b'0'))
    };
    let (h, m) = match b.len() {
        6 if b[3] == b':' => (two(&b[1..3])?, two(&b[4..6])?),
        5 => (two(&b[1..3])?, two(&b[3..5])?),
        3 => (two(&b[1..3])?, 0),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 60 + m) * MINUTE)
}

/// `+09:00`, `-05:00`, `Z` for zero.
pub fn format_offset(minutes: i32) -> String {
    if minutes == 0 {
        return "Z".into();
    }
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// A half-open time range `[start, end)` in UTC milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Period {
    pub start: Millis,
    pub end: Millis,
}

impl Period {
    pub fn custom(start: Millis, end: Millis) -> Result<Period, ValidationError> {
        if end <= start {
            return Err(ValidationError::Invalid {
                field: "period",
                reason: "the end must be after the start".into(),
            });
        }
        Ok(Period { start, end })
    }

    fn between(zone: &Zone, first: Date, next: Result<Date, jiff::Error>) -> Period {
        let start = zone.start_of(first);
        Period { start, end: next.map_or(Millis::MAX, |d| zone.start_of(d)) }
    }

    /// The local week (Monday 00:00 to Monday 00:00) holding `now`.
    pub fn week_of(now: Millis, zone: &Zone) -> Period {
        let today = zone.zoned(now).date();
        let back = i64::from(today.weekday().to_monday_zero_offset());
        let monday = today.checked_sub(back.days()).unwrap_or(today);
        Period::between(zone, monday, monday.checked_add(7.days()))
    }

    /// The local calendar month holding `now`.
    pub fn month_of(now: Millis, zone: &Zone) -> Period {
        let first = zone.zoned(now).date().first_of_month();
        Period::between(zone, first, first.checked_add(1.month()))
    }

    /// The local calendar quarter (January, April, July, October) holding `now`.
    pub fn quarter_of(now: Millis, zone: &Zone) -> Period {
        let today = zone.zoned(now).date();
        let month = (today.month() - 1) / 3 * 3 + 1;
        let first = Date::new(today.year(), month, 1).unwrap_or(today.first_of_month());
        Period::between(zone, first, first.checked_add(3.months()))
    }

    /// The local day holding `now`.
    pub fn day_of(now: Millis, zone: &Zone) -> Period {
        let today = zone.zoned(now).date();
        Period::between(zone, today, today.tomorrow())
    }

    /// The period just before this one: the previous local week, month or quarter when this is
    /// one in `zone`, else the range of the same length ending at its start.
    pub fn preceding(&self, zone: &Zone) -> Period {
        for of in [Period::week_of, Period::month_of, Period::quarter_of] {
            if of(self.start, zone) == *self {
                return of(self.start.saturating_sub(1), zone);
            }
        }
        Period { start: self.start.saturating_sub(self.end - self.start), end: self.start }
    }

    pub fn contains(&self, t: Millis) -> bool {
        t >= self.start && t < self.end
    }

    /// Share of the period already past at `now` (0 to 1), for "pace" against targets.
    pub fn elapsed_share(&self, now: Millis) -> f64 {
        ((now - self.start) as f64 / (self.end - self.start) as f64).clamp(0.0, 1.0)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000_000;
    /// 2026-11-28T06:00:00Z, i.e. 15:00 in Seoul.
    const T: i64 = 1_795_845_600_000;

    fn zone(name: &str) -> Zone {
        Zone::parse(name).unwrap()
    }

    fn utc(y: i16, m: i8, d: i8, h: i8, mi: i8) -> Millis {
        jiff::civil::datetime(y, m, d, h, mi, 0, 0)
            .to_zoned(TimeZone::UTC)
            .unwrap()
            .timestamp()
            .as_millisecond()
    }

    #[test]
    fn multibyte_text_where_a_date_goes_is_no_date_and_no_panic() {
        let z = Zone::utc();
        // Found by `import::tests::no_input_makes_the_reader_panic`: "¡" and "Σ" are two bytes
        // each, so bytes 4 and 7 were both '/', and slicing out the day split the "𐌀".
        for s in ["¡Σ/A /𐌀", "2026-11-2𐌀", "20𐌀6-11-28", "가나다라마바사아자차", "2026/11/28T1𐌀:00"]
        {
            assert_eq!(z.parse_date_time(s, b'/'), None, "{s}");
            assert!(z.parse_time(s, NOW).is_err(), "{s}");
        }
        assert!(z.parse_date_time("2026/11/28", b'/').is_some());
    }

    #[test]
    fn rfc3339_in_any_zone() {
        let (z, seoul) = (Zone::utc(), zone("Asia/Seoul"));
        assert_eq!(z.parse_time("2026-11-28T15:00:00+09:00", NOW), Ok(T));
        assert_eq!(seoul.parse_time("2026-11-28T06:00Z", NOW), Ok(T));
        assert_eq!(z.parse_time("2026-11-28t06:00:00z", NOW), Ok(T));
        assert_eq!(z.parse_time("2026-11-28 15:00+0900", NOW), Ok(T));
        assert_eq!(z.parse_time("2026-11-28T01:00:00.250-05:00", NOW), Ok(T + 250));
        assert_eq!(z.parse_time("2026-11-28T06:00:00.123456Z", NOW), Ok(T + 123));
    }

    #[test]
    fn local_dates_and_times_use_the_zone() {
        let (z, seoul) = (Zone::utc(), zone("Asia/Seoul"));
        assert_eq!(seoul.parse_time("2026-11-28T15:00", NOW), Ok(T));
        assert_eq!(seoul.parse_time("2026-11-28", NOW), Ok(T - 15 * HOUR));
        assert_eq!(z.parse_time("2026-11-28", NOW), Ok(T - 6 * HOUR));
        assert_eq!(zone("-05:00").parse_time("1970-01-01", NOW), Ok(300 * MINUTE));
        assert_eq!(z.parse_time("2024-02-29", NOW), Ok(19_782 * DAY));
    }

    #[test]
    fn now_and_relative_times() {
        let z = Zone::utc();
        assert_eq!(z.parse_time(" now ", NOW), Ok(NOW));
        assert_eq!(z.parse_time("+2h", NOW), Ok(NOW + 2 * HOUR));
        assert_eq!(z.parse_time("+3d", NOW), Ok(NOW + 3 * DAY));
        assert_eq!(z.parse_time("-30m", NOW), Ok(NOW - 30 * MINUTE));
        assert_eq!(z.parse_time("+1h30m", NOW), Ok(NOW + 90 * MINUTE));
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
            "2026-W48-6",
            "2026-11-28T1500",
        ] {
            let e = Zone::utc().parse_time(bad, NOW).expect_err(bad);
            assert!(e.contains("RFC 3339"), "{bad}: {e}");
        }
    }

    #[test]
    fn zones_by_name_or_offset_and_clear_errors() {
        assert_eq!(zone("Asia/Seoul").name(), "Asia/Seoul");
        assert_eq!(zone("+09:00").offset_minutes(T), 540);
        assert_eq!(zone("-0530").offset_minutes(T), -330);
        assert_eq!(zone("Z").name(), "UTC");
        for bad in ["Mars/Olympus", "+25:00", "9", ""] {
            let e = Zone::parse(bad).expect_err(bad);
            assert!(e.to_string().contains("IANA"), "{bad}: {e}");
        }
    }

    #[test]
    fn periods_are_local_weeks_months_and_quarters() {
        let seoul = zone("Asia/Seoul");
        // 2026-11-28 21:00 UTC is the 29th in Seoul.
        let now = utc(2026, 11, 28, 21, 0);
        assert_eq!(Zone::utc().date_of(now), (2026, 11, 28));
        assert_eq!(seoul.date_of(now), (2026, 11, 29));
        let w = Period::week_of(now, &seoul);
        assert_eq!(seoul.format_full(w.start), "2026-11-23T00:00:00+09:00", "Monday");
        assert_eq!(w.end - w.start, 7 * DAY);
        let m = Period::month_of(now, &seoul);
        assert_eq!((seoul.date_of(m.start), seoul.date_of(m.end)), ((2026, 11, 1), (2026, 12, 1)));
        let q = Period::quarter_of(now, &Zone::utc());
        assert_eq!(
            (Zone::utc().date_of(q.start), Zone::utc().date_of(q.end)),
            ((2026, 10, 1), (2027, 1, 1))
        );
        let ny = zone("-05:00");
        let q1 = Period::quarter_of(utc(2027, 2, 14, 0, 0), &ny);
        assert_eq!((ny.date_of(q1.start), ny.date_of(q1.end)), ((2027, 1, 1), (2027, 4, 1)));
        assert!(Period::custom(5, 5).is_err());
        assert_eq!(Zone::utc().parse_time("2024-02-29", 0), Ok(19_782 * DAY));
    }

    /// New York moves its clocks from 02:00 EST to 03:00 EDT on Sunday 2026-03-08 and back on
    /// Sunday 2026-11-01. The local week, month and day follow the wall clock, so they are an
    /// hour shorter or longer; a fixed offset would put their edges an hour off for half a year.
    #[test]
    fn daylight_saving_changes_move_the_edges_of_days_weeks_and_months() {
        let ny = zone("America/New_York");
        let sunday_noon = utc(2026, 3, 8, 16, 0); // 12:00 EDT
        let w = Period::week_of(sunday_noon, &ny);
        assert_eq!(ny.format_full(w.start), "2026-03-02T00:00:00-05:00");
        assert_eq!(ny.format_full(w.end), "2026-03-09T00:00:00-04:00");
        assert_eq!(w.end - w.start, 7 * DAY - HOUR);
        let d = Period::day_of(sunday_noon, &ny);
        assert_eq!(d.end - d.start, 23 * HOUR);
        assert_eq!(ny.end_of_day(sunday_noon), utc(2026, 3, 9, 4, 0));
        let march = Period::month_of(sunday_noon, &ny);
        assert_eq!(ny.format_full(march.start), "2026-03-01T00:00:00-05:00");
        assert_eq!(ny.format_full(march.end), "2026-04-01T00:00:00-04:00");
        let fall_back = utc(2026, 11, 1, 15, 0);
        assert_eq!(
            Period::day_of(fall_back, &ny).end - Period::day_of(fall_back, &ny).start,
            25 * HOUR
        );
        let november = Period::month_of(fall_back, &ny);
        assert_eq!(ny.format_full(november.start), "2026-11-01T00:00:00-04:00");
        assert_eq!(ny.format_full(november.end), "2026-12-01T00:00:00-05:00");
        // A time typed for the day after the change is read with that day's offset.
        assert_eq!(ny.parse_time("2026-03-09T09:00", NOW), Ok(utc(2026, 3, 9, 13, 0)));
        assert_eq!(ny.parse_time("2026-03-06T09:00", NOW), Ok(utc(2026, 3, 6, 14, 0)));
        // 02:30 does not exist on 2026-03-08: read as the wall clock after the gap, 03:30 EDT.
        assert_eq!(ny.parse_time("2026-03-08T02:30", NOW), Ok(utc(2026, 3, 8, 7, 30)));
    }

    #[test]
    fn formatting_round_trips_and_shows_the_zone() {
        let z = |m: i32| Zone::fixed_minutes(m).unwrap();
        assert_eq!(z(540).format_full(T), "2026-11-28T15:00:00+09:00");
        assert_eq!(z(0).format_full(T), "2026-11-28T06:00:00Z");
        assert_eq!(z(-330).format_full(T), "2026-11-28T00:30:00-05:30");
        assert_eq!(z(540).format_short(T), "2026-11-28 15:00");
        assert_eq!(z(0).format_short(-1), "1969-12-31 23:59");
        for t in [0, T, T + 59_999, -DAY * 400, 4_102_444_800_000] {
            for off in [0, 540, -480] {
                let full = z(off).format_full(t - t.rem_euclid(SECOND));
                assert_eq!(
                    Zone::utc().parse_time(&full, NOW),
                    Ok(t - t.rem_euclid(SECOND)),
                    "{full}"
                );
            }
        }
        // Times from a damaged or hostile replica must print, not panic.
        let _ = z(840).format_full(i64::MAX);
        let _ = z(-840).format_short(i64::MIN);
    }

    #[test]
    fn formats() {
        let seoul = zone("Asia/Seoul");
        assert_eq!(seoul.format_short(T), "2026-11-28 15:00");
        assert_eq!(seoul.format_full(T), "2026-11-28T15:00:00+09:00");
        assert_eq!(Zone::utc().format_full(T), "2026-11-28T06:00:00Z");
        assert_eq!(seoul.format_date(T + 9 * HOUR), "2026-11-29");
        assert_eq!(format_offset(-330), "-05:30");
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        for t in [Millis::MIN, Millis::MAX, -1, 0] {
            let z = zone("Asia/Seoul");
            let _ = (z.format_full(t), z.end_of_day(t), z.date_of(t));
            for p in [Period::week_of(t, &z), Period::month_of(t, &z), Period::quarter_of(t, &z)] {
                assert!(p.start <= p.end, "{t}: {p:?}");
            }
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
    }
}
