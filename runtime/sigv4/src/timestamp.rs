//! Request times in the forms SigV4 uses: the ISO 8601 basic form `YYYYMMDD'T'HHMMSS'Z'` of
//! `x-amz-date` and `X-Amz-Date`, the `YYYYMMDD` date of a credential scope, and the HTTP date
//! of a `Date` header.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// Parses `YYYYMMDD'T'HHMMSS'Z'` (UTC), rejecting any other length or character.
pub fn parse_amz_date(value: &str) -> Option<OffsetDateTime> {
    let bytes = value.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let date = parse_scope_date(&value[..8])?;
    let hour = parse_digits(&bytes[9..11])?;
    let minute = parse_digits(&bytes[11..13])?;
    let second = parse_digits(&bytes[13..15])?;
    let time = Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// Parses a credential scope date `YYYYMMDD`, rejecting dates that do not exist.
pub fn parse_scope_date(value: &str) -> Option<Date> {
    let bytes = value.as_bytes();
    if bytes.len() != 8 {
        return None;
    }
    let year = i32::try_from(parse_digits(&bytes[..4])?).ok()?;
    let month = Month::try_from(u8::try_from(parse_digits(&bytes[4..6])?).ok()?).ok()?;
    let day = u8::try_from(parse_digits(&bytes[6..8])?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// Parses the `Date` header (IMF-fixdate, RFC 850 or asctime form).
pub fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    let system_time = httpdate::parse_http_date(value).ok()?;
    Some(OffsetDateTime::from(system_time))
}

/// Formats a time as `YYYYMMDD'T'HHMMSS'Z'`, after converting it to UTC.
pub fn format_amz_date(time: OffsetDateTime) -> String {
    let utc = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
}

/// Parses ASCII decimal digits, returning `None` for an empty slice or any other character.
fn parse_digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() {
        return None;
    }
    bytes.iter().try_fold(0_u32, |value, &byte| {
        byte.is_ascii_digit()
            .then(|| value * 10 + u32::from(byte - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn amz_date_round_trips() {
        let time = parse_amz_date("20130524T000000Z").unwrap();
        assert_eq!(time, datetime!(2013-05-24 00:00:00 UTC));
        assert_eq!(format_amz_date(time), "20130524T000000Z");
    }

    #[test]
    fn amz_date_rejects_bad_forms() {
        for value in [
            "",
            "20130524T000000",
            "20130524T000000z",
            "20130524 000000Z",
            "2013052AT000000Z",
            "20130230T000000Z",
            "20130524T240000Z",
            "20130524T006000Z",
            "+0130524T000000Z",
            "20130524T000000ZZ",
        ] {
            assert_eq!(parse_amz_date(value), None, "{value:?}");
        }
    }

    #[test]
    fn http_date_parses_imf_fixdate() {
        let time = parse_http_date("Fri, 24 May 2013 00:00:00 GMT").unwrap();
        assert_eq!(time, datetime!(2013-05-24 00:00:00 UTC));
    }

    #[test]
    fn format_converts_to_utc() {
        let time = datetime!(2013-05-24 02:00:00 +02:00);
        assert_eq!(format_amz_date(time), "20130524T000000Z");
    }
}
