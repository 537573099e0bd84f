//! Parsing of the time values conditions compare: points in time for the `Date` operators,
//! clock ranges and IANA time zones for `TimeOfDay`.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Seconds in a day.
pub(crate) const SECONDS_PER_DAY: u32 = 86_400;

/// Parses a point in time as seconds since the Unix epoch. Accepted forms: an integer number
/// of seconds (`1767225600`), an RFC 3339 timestamp (`2026-01-01T00:00:00Z`, any offset), and
/// a date (`2026-01-01`), which means midnight UTC. Fractions of a second are dropped.
pub fn parse_date_seconds(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Some(seconds);
    }
    if let Ok(timestamp) = text.parse::<Timestamp>() {
        return Some(timestamp.as_second());
    }
    let date = text.parse::<Date>().ok()?;
    let zoned = date.to_zoned(TimeZone::UTC).ok()?;
    Some(zoned.timestamp().as_second())
}

/// A range of clock times within a day, in seconds after midnight. `start` is inclusive and
/// `end` exclusive; a range whose end is before its start wraps past midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClockRange {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl ClockRange {
    /// Returns true when `second_of_day` lies in the range.
    pub(crate) fn contains(self, second_of_day: u32) -> bool {
        if self.start < self.end {
            (self.start..self.end).contains(&second_of_day)
        } else {
            second_of_day >= self.start || second_of_day < self.end
        }
    }
}

/// Parses `HH:MM-HH:MM`, with optional seconds on either side (`07:00:30`). The end may be
/// `24:00`, and start and end must differ.
pub(crate) fn parse_clock_range(text: &str) -> Option<ClockRange> {
    let (start, end) = text.trim().split_once('-')?;
    let start = parse_clock_time(start.trim())?;
    let end = parse_clock_time(end.trim())?;
    if start == end || start >= SECONDS_PER_DAY {
        return None;
    }
    Some(ClockRange {
        start,
        end: end % SECONDS_PER_DAY,
    })
    .filter(|range| range.start != range.end || end == SECONDS_PER_DAY)
}

fn parse_clock_time(text: &str) -> Option<u32> {
    let mut parts = text.split(':');
    let hours = two_digits(parts.next()?)?;
    let minutes = two_digits(parts.next()?)?;
    let seconds = match parts.next() {
        Some(part) => two_digits(part)?,
        None => 0,
    };
    if parts.next().is_some() || minutes > 59 || seconds > 59 {
        return None;
    }
    let total = hours * 3_600 + minutes * 60 + seconds;
    (total <= SECONDS_PER_DAY).then_some(total)
}

fn two_digits(text: &str) -> Option<u32> {
    if text.len() != 2 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Looks up an IANA time zone, such as `Europe/Berlin`, in the time zone database compiled
/// into the binary, so that a decision never reads the disk.
pub(crate) fn parse_time_zone(name: &str) -> Option<TimeZone> {
    if name.eq_ignore_ascii_case("UTC") {
        return Some(TimeZone::UTC);
    }
    TimeZone::get(name).ok()
}

/// Returns the second of the day that `unix_seconds` shows on the clocks of `zone`.
pub(crate) fn second_of_day(zone: &TimeZone, unix_seconds: i64) -> Option<u32> {
    let timestamp = Timestamp::from_second(unix_seconds).ok()?;
    let offset = i64::from(zone.to_offset(timestamp).seconds());
    let local = unix_seconds.checked_add(offset)?;
    u32::try_from(local.rem_euclid(i64::from(SECONDS_PER_DAY))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_forms_agree() {
        assert_eq!(parse_date_seconds("2026-01-01"), Some(1_767_225_600));
        assert_eq!(
            parse_date_seconds("2026-01-01T01:00:00+01:00"),
            Some(1_767_225_600)
        );
        assert_eq!(parse_date_seconds("1767225600"), Some(1_767_225_600));
    }

    #[test]
    fn invalid_date_rejected() {
        assert_eq!(parse_date_seconds("yesterday"), None);
    }

    #[test]
    fn clock_range_parses() {
        let range = parse_clock_range("07:00-19:00").unwrap();
        assert_eq!(range.start, 7 * 3_600);
        assert_eq!(range.end, 19 * 3_600);
    }

    #[test]
    fn wrapping_range_contains_midnight() {
        let range = parse_clock_range("22:00-06:00").unwrap();
        assert!(range.contains(0));
        assert!(!range.contains(12 * 3_600));
    }

    #[test]
    fn range_to_midnight() {
        let range = parse_clock_range("18:00-24:00").unwrap();
        assert!(range.contains(23 * 3_600));
        assert!(!range.contains(0));
    }

    #[test]
    fn malformed_ranges_rejected() {
        for text in [
            "7:00-19:00",
            "07:00",
            "07:60-08:00",
            "08:00-08:00",
            "25:00-26:00",
        ] {
            assert_eq!(parse_clock_range(text), None, "{text}");
        }
    }

    #[test]
    fn berlin_offset_applied() {
        let zone = parse_time_zone("Europe/Berlin").unwrap();
        // 2026-01-01T00:00:00Z is 01:00 in Berlin (CET, UTC+1).
        assert_eq!(second_of_day(&zone, 1_767_225_600), Some(3_600));
    }

    #[test]
    fn unknown_zone_rejected() {
        assert!(parse_time_zone("Mars/Olympus").is_none());
    }
}
