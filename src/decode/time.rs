//! Points in time as engines print them: RFC 3339 with nanoseconds
//! (`2026-11-23T17:03:15.312769009Z`, log prefixes, podman events) and
//! epoch numbers (docker events). No calendar crate: converting between
//! civil UTC time and the epoch is a few lines of arithmetic.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Serialize, Serializer};

/// An instant with nanosecond precision, in UTC.
///
/// Serialized (and displayed) as RFC 3339 in UTC with nine fraction digits.
///
/// ```
/// use dockhand::decode::time::Timestamp;
/// let t = Timestamp::parse_rfc3339("2026-11-23T18:03:15.5+01:00").unwrap();
/// assert_eq!(t.to_string(), "2026-11-23T17:03:15.500000000Z");
/// assert_eq!(Timestamp::from_unix_nanos(t.unix_nanos()), t);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

/// Longest RFC 3339 text [`Timestamp::parse_rfc3339_prefix`] looks at:
/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+HH:MM`.
pub const RFC3339_MAX_LEN: usize = 35;

impl Timestamp {
    /// The instant `secs` seconds and `nanos` nanoseconds after the epoch.
    pub fn from_unix(secs: i64, nanos: u32) -> Timestamp {
        let carry = i64::from(nanos / 1_000_000_000);
        Timestamp {
            secs: secs + carry,
            nanos: nanos % 1_000_000_000,
        }
    }

    /// The instant `nanos` nanoseconds after the epoch (docker's `timeNano`).
    pub fn from_unix_nanos(nanos: i128) -> Timestamp {
        Timestamp {
            secs: nanos.div_euclid(1_000_000_000) as i64,
            nanos: nanos.rem_euclid(1_000_000_000) as u32,
        }
    }

    /// Nanoseconds since the epoch.
    pub fn unix_nanos(&self) -> i128 {
        i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// Whole seconds since the epoch.
    pub fn unix_secs(&self) -> i64 {
        self.secs
    }

    /// The system clock now.
    pub fn now() -> Timestamp {
        Timestamp::from(SystemTime::now())
    }

    /// This instant moved back by `d` (saturating).
    pub fn minus(&self, d: Duration) -> Timestamp {
        Timestamp::from_unix_nanos(self.unix_nanos() - d.as_nanos() as i128)
    }

    /// This instant moved forward by `d`.
    pub fn plus(&self, d: Duration) -> Timestamp {
        Timestamp::from_unix_nanos(self.unix_nanos() + d.as_nanos() as i128)
    }

    /// Parse a whole RFC 3339 text (`Z` or a numeric offset, any number of
    /// fraction digits up to nine, `T` or a space between date and time).
    ///
    /// ```
    /// use dockhand::decode::time::Timestamp;
    /// assert!(Timestamp::parse_rfc3339("2026-11-23T17:03:22Z").is_some());
    /// assert!(Timestamp::parse_rfc3339("2026-11-23").is_none());
    /// assert!(Timestamp::parse_rfc3339("2026-11-23T17:03:22Z ").is_none());
    /// ```
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        match Timestamp::parse_rfc3339_prefix(text.as_bytes(), false)? {
            (t, n) if n == text.len() => Some(t),
            _ => None,
        }
    }

    /// Parse the RFC 3339 timestamp that `bytes` starts with; returns it and
    /// its length. With `nine_digits`, only the fixed-width form engines use
    /// for log prefixes (exactly nine fraction digits) is accepted.
    pub fn parse_rfc3339_prefix(bytes: &[u8], nine_digits: bool) -> Option<(Timestamp, usize)> {
        if let Some(t) = bytes.get(..UTC_NANOS_LEN).and_then(parse_utc_nanos) {
            return Some((t, UTC_NANOS_LEN));
        }
        let num = |range: std::ops::Range<usize>| decimal(bytes.get(range)?);
        let at = |i: usize, set: &[u8]| bytes.get(i).is_some_and(|b| set.contains(b));
        if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt ") && at(13, b":") && at(16, b":")) {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month)
            || !(1..=days_in_month(year, month)).contains(&day)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let mut i = 19;
        let mut nanos = 0u32;
        if at(i, b".") {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits == 0 || digits > 9 || (nine_digits && digits != 9) {
                return None;
            }
            let value = num(i + 1..i + 1 + digits)? as u32;
            nanos = value * 10u32.pow(9 - digits as u32);
            i += 1 + digits;
        } else if nine_digits {
            return None;
        }
        let offset = match bytes.get(i)? {
            b'Z' | b'z' => {
                i += 1;
                0
            }
            sign @ (b'+' | b'-') => {
                if !at(i + 3, b":") {
                    return None;
                }
                let (h, m) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
                if h > 23 || m > 59 {
                    return None;
                }
                i += 6;
                let minutes = h * 60 + m;
                if *sign == b'+' {
                    minutes
                } else {
                    -minutes
                }
            }
            _ => return None,
        };
        let days = days_from_civil(year, month, day);
        // A leap second (:60) folds onto the next second, as engines do.
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset * 60;
        Some((Timestamp::from_unix(secs, nanos), i))
    }

    /// RFC 3339 in UTC with nine fraction digits.
    pub fn to_rfc3339(&self) -> String {
        self.with_rfc3339(str::to_string)
    }

    /// `f` of the RFC 3339 text, without allocating for years 0–9999 (one
    /// log line of `logs --json` formats one timestamp: this was a quarter
    /// of dockhand's instructions there, through `format!`).
    pub(crate) fn with_rfc3339<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        let days = self.secs.div_euclid(86_400);
        let rest = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let (hh, mm, ss) = (rest / 3600, rest % 3600 / 60, rest % 60);
        if !(0..=9999).contains(&y) {
            return f(&format!(
                "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{:09}Z",
                self.nanos
            ));
        }
        let mut text = *b"0000-00-00T00:00:00.000000000Z";
        let mut put = |end: usize, width: usize, mut value: u64| {
            for at in (end - width..end).rev() {
                text[at] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(4, 4, y as u64);
        put(7, 2, m as u64);
        put(10, 2, d as u64);
        put(13, 2, hh as u64);
        put(16, 2, mm as u64);
        put(19, 2, ss as u64);
        put(29, 9, u64::from(self.nanos));
        // Only ASCII digits were written into an ASCII template.
        f(std::str::from_utf8(&text).unwrap_or_default())
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Timestamp {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp::from_unix(d.as_secs() as i64, d.subsec_nanos()),
            Err(e) => Timestamp::from_unix_nanos(-(e.duration().as_nanos() as i128)),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_rfc3339(|text| f.write_str(text))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.with_rfc3339(|text| s.serialize_str(text))
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Length of the timestamps engines put before log lines:
/// `2026-11-23T17:03:22.396750831Z`.
const UTC_NANOS_LEN: usize = 30;

/// [`Timestamp::parse_rfc3339_prefix`] of exactly that shape, at fixed
/// positions (the general parse took ~850 instructions per log line).
/// `None` for anything else, which the general parse then decides.
fn parse_utc_nanos(bytes: &[u8]) -> Option<Timestamp> {
    let b: &[u8; UTC_NANOS_LEN] = bytes.try_into().ok()?;
    let separators = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (29, b'Z'),
    ];
    if separators.iter().any(|&(i, sep)| b[i] != sep) {
        return None;
    }
    let num = |from: usize, to: usize| decimal(&b[from..to]);
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second, nanos) = (num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 29)?);
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour <= 23
        && minute <= 59
        && second <= 60;
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    valid.then(|| Timestamp::from_unix(secs, nanos as u32))
}

/// The value of ASCII decimal digits; `None` if one is not a digit.
fn decimal(digits: &[u8]) -> Option<i64> {
    digits.iter().try_fold(0i64, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_timestamps_parse_to_the_epoch_they_mean() {
        // docker events capture: time 1795453402, timeNano 1795453402396750831,
        // printed by `docker events` (plain) as 2026-11-23T17:03:22.396750831Z.
        let t = Timestamp::parse_rfc3339("2026-11-23T17:03:22.396750831Z").unwrap();
        assert_eq!(t.unix_nanos(), 1_795_453_402_396_750_831);
        assert_eq!(t.to_rfc3339(), "2026-11-23T17:03:22.396750831Z");
        // podman trims trailing zeros in events.
        let p = Timestamp::parse_rfc3339("2026-11-23T17:03:22.9089801Z").unwrap();
        assert_eq!(p.unix_nanos() % 1_000_000_000, 908_980_100);
    }

    #[test]
    fn the_one_pass_parse_agrees_with_the_general_one() {
        // The general parse alone: with a lower-case `t` (which RFC 3339
        // allows) the one-pass parse, which takes only `T`, steps aside.
        let general = |text: &str| {
            let lower = text.replace('T', "t");
            Timestamp::parse_rfc3339_prefix(lower.as_bytes(), true).map(|(t, _)| t)
        };
        let mut secs: i64 = -62_167_219_200; // year 0
        while secs < 253_402_300_800 {
            // through year 9999, leap days and month ends included
            let text =
                Timestamp::from_unix(secs, (secs.unsigned_abs() % 999_999_937) as u32).to_rfc3339();
            assert_eq!(parse_utc_nanos(text.as_bytes()), general(&text), "{text}");
            assert!(parse_utc_nanos(text.as_bytes()).is_some(), "{text}");
            secs += 86_400 * 23 + 3_607;
        }
        for text in [
            "2026-02-29T00:00:00.000000000Z",
            "2024-02-29T23:59:60.000000000Z",
            "2026-13-01T00:00:00.000000000Z",
            "2026-11-31T00:00:00.000000000Z",
            "2026-11-23T24:00:00.000000000Z",
            "2026-11-23T17:60:00.000000000Z",
            "2026-11-23T17:03:61.000000000Z",
            "2026-11-23T17:03:22.00000000xZ",
            "2026-11-23T17:03:22.396750831+",
            "2026-11-23 17:03:22.396750831Z",
        ] {
            // Another shape is left to the general parse.
            let fast = parse_utc_nanos(text.as_bytes());
            assert!(fast.is_none() || fast == general(text), "{text}");
            let whole = Timestamp::parse_rfc3339_prefix(text.as_bytes(), true).map(|(t, _)| t);
            assert_eq!(whole, general(text), "{text}");
        }
    }

    #[test]
    fn the_fixed_width_text_is_what_format_printed() {
        let formatted = |t: Timestamp| {
            let (y, m, d) = civil_from_days(t.secs.div_euclid(86_400));
            let rest = t.secs.rem_euclid(86_400);
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z",
                rest / 3600,
                rest % 3600 / 60,
                rest % 60,
                t.nanos
            )
        };
        let mut secs: i64 = -62_167_219_300; // a little before year 0
        while secs < 253_402_400_000 {
            // past year 9999
            let t = Timestamp::from_unix(secs, (secs.unsigned_abs() % 1_000_000_007) as u32);
            assert_eq!(t.to_rfc3339(), formatted(t), "{secs}");
            secs += 86_400 * 37 + 3_599;
        }
        for t in [
            Timestamp::from_unix(0, 0),
            Timestamp::from_unix(-1, 999_999_999),
        ] {
            assert_eq!(t.to_string(), formatted(t));
        }
    }

    #[test]
    fn offsets_dates_and_round_trips() {
        let a = Timestamp::parse_rfc3339("2024-02-29T23:30:00-01:00").unwrap();
        assert_eq!(a.to_rfc3339(), "2024-03-01T00:30:00.000000000Z");
        assert_eq!(
            Timestamp::parse_rfc3339("1970-01-01T00:00:00Z").unwrap(),
            Timestamp::from_unix(0, 0)
        );
        let before = Timestamp::parse_rfc3339("1969-12-31T23:59:59.5Z").unwrap();
        assert_eq!(before.unix_nanos(), -500_000_000);
        assert_eq!(before.to_rfc3339(), "1969-12-31T23:59:59.500000000Z");
        for days in [-800_000i64, -1, 0, 59, 10_957, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        for bad in [
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T17:03:22",
            "2026-11-23T17:03:22.Z",
            "2026-11-23T17:03:22.1234567890Z",
            "2026-11-23T17:03:22+0100",
            "out1 2026-11-23T17:03:22Z",
        ] {
            assert!(Timestamp::parse_rfc3339(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn prefix_parsing_reports_the_length_and_can_demand_nine_digits() {
        let line = b"2026-11-23T17:03:15.312769009Z out1";
        let (_, n) = Timestamp::parse_rfc3339_prefix(line, true).unwrap();
        assert_eq!(&line[n..], b" out1");
        assert!(Timestamp::parse_rfc3339_prefix(b"2026-11-23T17:03:15.3Z x", true).is_none());
        assert!(Timestamp::parse_rfc3339_prefix(b"2026-11-23T17:03:15.3Z x", false).is_some());
    }
}
