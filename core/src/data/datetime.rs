//! Calendar arithmetic and the one date-time format the engine reads: ISO 8601 dates and
//! date-times, turned into days since 1970-01-01 (UTC, fractional for times of day).
//!
//! Days are plain numbers so datetime columns become ages at a snapshot date by subtraction,
//! and the conversion is pure integer arithmetic (proleptic Gregorian calendar), identical on
//! every target.

use alloc::format;
use alloc::string::String;

const SECONDS_PER_DAY: f64 = 86_400.0;

/// Years outside this range are clamped so the arithmetic below can never overflow; no real
/// file holds dates anywhere near it.
const MAX_YEAR: i64 = 1_000_000_000_000;

/// Whether `year` is a leap year in the proleptic Gregorian calendar.
pub fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` (1-12) of `year`; 0 for a month outside 1-12.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of the civil date `y-m-d` (proleptic Gregorian). Meant for valid
/// dates; out-of-range months or days are not rejected but counted on from the month start.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let m = i64::from(m);
    let d = i64::from(d);
    // Counting years from March puts the leap day last, so day-of-year needs no leap test.
    let y = y.clamp(-MAX_YEAR, MAX_YEAR) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = if m > 2 { m - 3 } else { m + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01; the inverse of
/// [`days_from_civil`].
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are small and positive by construction (month 1-12, day 1-31).
    (year, month as u32, day as u32)
}

/// The day as `YYYY-MM-DD` (years outside 0-9999 carry a sign, as ISO 8601 extends them).
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    if (0..=9999).contains(&y) {
        format!("{y:04}-{m:02}-{d:02}")
    } else if y < 0 {
        format!("-{:04}-{m:02}-{d:02}", y.unsigned_abs())
    } else {
        format!("+{y}-{m:02}-{d:02}")
    }
}

/// Reads an ISO 8601 date or date-time as days since 1970-01-01 UTC.
///
/// Accepted: `YYYY-MM-DD`, then optionally `T` (or a space) and `HH:MM`, `HH:MM:SS` or
/// `HH:MM:SS.fff...`, then optionally `Z` or a `±HH:MM` offset, which is converted to UTC.
/// Surrounding whitespace is ignored. Anything else, and impossible dates such as
/// `2023-02-29` or `2024-04-31`, give `None`.
pub fn parse_datetime(raw: &str) -> Option<f64> {
    let b = raw.trim().as_bytes();
    let year = i64::from(digits(b.get(0..4)?)?);
    expect(b, 4, b'-')?;
    let month = digits(b.get(5..7)?)?;
    expect(b, 7, b'-')?;
    let day = digits(b.get(8..10)?)?;
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let date = days_from_civil(year, month, day) as f64;
    let rest = b.get(10..)?;
    if rest.is_empty() {
        return Some(date);
    }
    if !matches!(rest.first(), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let hour = digits(rest.get(1..3)?)?;
    expect(rest, 3, b':')?;
    let minute = digits(rest.get(4..6)?)?;
    let mut pos = 6;
    let mut second = 0.0;
    if rest.get(pos) == Some(&b':') {
        second = f64::from(digits(rest.get(7..9)?)?);
        pos = 9;
        if second >= 60.0 {
            return None;
        }
        if rest.get(pos) == Some(&b'.') {
            let frac_len = rest
                .get(pos + 1..)?
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if frac_len == 0 {
                return None;
            }
            second += fraction(rest.get(pos + 1..pos + 1 + frac_len)?);
            pos += 1 + frac_len;
        }
    }
    if hour > 23 || minute > 59 {
        return None;
    }
    let offset_seconds = offset(rest.get(pos..)?)?;
    let seconds = f64::from(hour * 3600 + minute * 60) + second - offset_seconds;
    Some(date + seconds / SECONDS_PER_DAY)
}

/// The offset suffix in seconds east of UTC: empty or `Z` is 0, otherwise exactly `±HH:MM`.
fn offset(suffix: &[u8]) -> Option<f64> {
    match suffix {
        [] | [b'Z' | b'z'] => Some(0.0),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hours = digits(&[*h1, *h2])?;
            let minutes = digits(&[*m1, *m2])?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let magnitude = f64::from(hours * 3600 + minutes * 60);
            Some(if *sign == b'-' { -magnitude } else { magnitude })
        }
        _ => None,
    }
}

fn expect(b: &[u8], pos: usize, byte: u8) -> Option<()> {
    (b.get(pos) == Some(&byte)).then_some(())
}

/// A run of ASCII digits as a number; `None` if any byte is not a digit.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Fractional seconds from the digits after the point; digits past nanoseconds add nothing
/// a day count in f64 could hold.
fn fraction(b: &[u8]) -> f64 {
    let mut value = 0.0;
    let mut scale = 1.0;
    for &c in b.iter().take(9) {
        scale /= 10.0;
        value += f64::from(c - b'0') * scale;
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_day_numbers() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(2024, 1, 1), 19_723);
        assert_eq!(days_from_civil(1600, 1, 1), -135_140);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(format_date(19_723), "2024-01-01");
        assert_eq!(format_date(days_from_civil(-44, 3, 15)), "-0044-03-15");
        assert_eq!(format_date(days_from_civil(12_345, 6, 7)), "+12345-06-07");
    }

    #[test]
    fn civil_round_trip_over_many_years() {
        let start = days_from_civil(1599, 12, 1);
        let end = days_from_civil(2401, 3, 1);
        let mut expected = civil_from_days(start);
        for days in start..end {
            let (y, m, d) = civil_from_days(days);
            assert_eq!((y, m, d), expected, "day {days}");
            assert_eq!(days_from_civil(y, m, d), days);
            assert!(d >= 1 && d <= days_in_month(y, m));
            expected = if d < days_in_month(y, m) {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        let _ = civil_from_days(i64::MAX);
        let _ = civil_from_days(i64::MIN);
        let _ = days_from_civil(i64::MAX, u32::MAX, u32::MAX);
        let _ = days_from_civil(i64::MIN, 0, 0);
        let _ = format_date(i64::MIN);
    }

    #[test]
    fn parses_dates_and_times() {
        assert_eq!(parse_datetime("1970-01-01"), Some(0.0));
        assert_eq!(parse_datetime(" 2000-03-01 "), Some(11_017.0));
        assert_eq!(parse_datetime("2024-02-29"), Some(19_782.0));
        assert_eq!(parse_datetime("2000-02-29"), Some(11_016.0));
        assert_eq!(parse_datetime("1970-01-01T12:00"), Some(0.5));
        assert_eq!(parse_datetime("1970-01-01 06:00:00"), Some(0.25));
        assert_eq!(parse_datetime("1970-01-02T00:00:00Z"), Some(1.0));
        assert_eq!(parse_datetime("1970-01-01T18:00:00.000"), Some(0.75));
        let t = parse_datetime("1970-01-01T00:00:01.5").unwrap();
        assert!((t * SECONDS_PER_DAY - 1.5).abs() < 1e-9);
        let t = parse_datetime("1970-01-01T00:00:00.123456789123Z").unwrap();
        assert!((t * SECONDS_PER_DAY - 0.123_456_789).abs() < 1e-9);
    }

    #[test]
    fn offsets_convert_to_utc() {
        // 12:00 at +02:00 is 10:00 UTC; 20:00 at -05:00 is 01:00 UTC the next day.
        let plus = parse_datetime("2020-06-01T12:00:00+02:00").unwrap();
        let utc = parse_datetime("2020-06-01T10:00:00Z").unwrap();
        assert!((plus - utc).abs() < 1e-12);
        let minus = parse_datetime("2020-06-01T20:00-05:00").unwrap();
        let next = parse_datetime("2020-06-02T01:00").unwrap();
        assert!((minus - next).abs() < 1e-12);
        let half = parse_datetime("2020-06-01T00:00:00+05:30").unwrap();
        let base = days_from_civil(2020, 6, 1) as f64;
        assert!((half - (base - 5.5 / 24.0)).abs() < 1e-12);
    }

    #[test]
    fn rejects_invalid_input() {
        for bad in [
            "",
            "2023-02-29",
            "1900-02-29",
            "2024-04-31",
            "2024-13-01",
            "2024-00-10",
            "2024-01-00",
            "2024-1-01",
            "24-01-01",
            "2024/01/01",
            "2024-01-01T",
            "2024-01-01T24:00",
            "2024-01-01T12:60",
            "2024-01-01T12:00:60",
            "2024-01-01T12",
            "2024-01-01T12:00:00.",
            "2024-01-01T12:00:00+2:00",
            "2024-01-01T12:00:00+0200",
            "2024-01-01T12:00:00+24:00",
            "2024-01-01Z",
            "2024-01-01x",
            "2024-01-01T12:00:00Zjunk",
            "２０２４-01-01",
            "12.5",
            "yesterday",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad:?}");
        }
    }
}
