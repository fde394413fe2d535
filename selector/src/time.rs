//! Calendar arithmetic for the two dates the answers print (no clock here: the caller passes Unix seconds).

use alloc::string::String;

/// (year, month 1..=12, day 1..=31) of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
/// Public for the backend's pages, which print the same dates.
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `value` in decimal with at least `width` digits (zeros in front), as `{value:0width$}` without `core::fmt`:
/// the access-log date is written for every request.
fn push_padded(out: &mut String, value: u64, width: usize) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(value);
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(digits);
}

/// `YYYY-MM-DD` (UTC), the access log's date.
pub fn write_date(out: &mut String, unix: u64) {
    let (y, m, d) = civil((unix / 86_400) as i64);
    push_padded(out, y as u64, 4);
    out.push('-');
    push_padded(out, u64::from(m), 2);
    out.push('-');
    push_padded(out, u64::from(d), 2);
}

/// `HH:MM:SS` of the day.
fn write_clock(out: &mut String, unix: u64) {
    let secs = unix % 86_400;
    push_padded(out, secs / 3600, 2);
    out.push(':');
    push_padded(out, secs / 60 % 60, 2);
    out.push(':');
    push_padded(out, secs % 60, 2);
}

/// `Thu, 26 Nov 2026 13:40:03 GMT` (RFC 1123), the metalink v3 `pubdate`.
pub fn write_rfc1123(out: &mut String, unix: u64) {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix / 86_400;
    let (y, m, d) = civil(days as i64);
    out.push_str(DAYS[(days % 7) as usize]);
    out.push_str(", ");
    push_padded(out, u64::from(d), 2);
    out.push(' ');
    out.push_str(MONTHS[(m - 1) as usize]);
    out.push(' ');
    push_padded(out, y as u64, 4);
    out.push(' ');
    write_clock(out, unix);
    out.push_str(" GMT");
}

/// `2026-11-26T13:40:03Z` (RFC 3339), the metalink v4 `published`.
pub fn write_rfc3339(out: &mut String, unix: u64) {
    write_date(out, unix);
    out.push('T');
    write_clock(out, unix);
    out.push('Z');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        let mut s = String::new();
        write_rfc1123(&mut s, 0);
        assert_eq!(s, "Thu, 01 Jan 1970 00:00:00 GMT");
        s.clear();
        write_rfc1123(&mut s, 1_795_700_403);
        assert_eq!(s, "Thu, 26 Nov 2026 13:40:03 GMT");
        s.clear();
        write_date(&mut s, 951_782_400); // leap day
        assert_eq!(s, "2000-02-29");
        s.clear();
        write_rfc3339(&mut s, 1_795_700_403);
        assert_eq!(s, "2026-11-26T13:40:03Z");
        // Past year 9999 the year widens, as `{y:04}` did; the largest time still gives a date.
        s.clear();
        write_date(&mut s, 253_402_300_800);
        assert_eq!(s, "10000-01-01");
        s.clear();
        write_rfc1123(&mut s, u64::MAX);
        assert!(s.ends_with(" GMT"), "{s}");
    }
}
