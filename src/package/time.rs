//! Points in time as packages carry them (a validity's end, a certificate's not-before and
//! not-after): seconds since the Unix epoch, UTC, compared with the device's clock (a simulated
//! device's starts at 2026-01-01T00:00:00Z). People write and read them as RFC 3339 UTC times,
//! `2026-01-02T00:00:00Z` (or a date alone, `2026-01-02`, its midnight), or as plain seconds.

/// Why a text is not a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid time {text:?}: expected seconds since 1970-01-01 UTC, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ")]
pub struct TimeError {
    pub text: String,
}

/// Read a time: `1767225600`, `2026-01-01` or `2026-01-01T00:00:00Z`.
pub fn parse_time(text: &str) -> Result<u64, TimeError> {
    let err = || TimeError {
        text: text.to_string(),
    };
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map_err(|_| err());
    }
    let (date, clock) = match t.split_once('T') {
        Some((date, clock)) => (date, Some(clock.strip_suffix('Z').ok_or_else(err)?)),
        None => (t, None),
    };
    let fields = |text: &str, sep: char, n: usize| -> Option<Vec<u64>> {
        let parts: Vec<&str> = text.split(sep).collect();
        (parts.len() == n
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit())))
        .then(|| parts.iter().filter_map(|p| p.parse().ok()).collect())
    };
    let [year, month, day] = fields(date, '-', 3).ok_or_else(err)?[..] else {
        return Err(err());
    };
    let (hour, minute, second) = match clock {
        Some(clock) => match fields(clock, ':', 3).ok_or_else(err)?[..] {
            [h, m, s] => (h, m, s),
            _ => return Err(err()),
        },
        None => (0, 0, 0),
    };
    let valid = (1970..=9999).contains(&year)
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return Err(err());
    }
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// A time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_time(secs: u64) -> String {
    let (year, month, day) = civil_from_days(secs / 86_400);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// The days of `month` (1 to 12) of `year`; 0 for a month that is not one.
pub fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        _ => 0,
    }
}

/// Days from 1970-01-01 to a date (H. Hinnant's `days_from_civil`: 400-year eras of 146 097 days,
/// years starting on March 1st so the leap day is last); a date before 1970 counts as day 0, and
/// nothing a caller passes makes it panic.
pub fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = year.saturating_sub(u64::from(month <= 2));
    let era = y / 400;
    let year_of_era = y % 400;
    let march_month = (month % 12 + 9) % 12;
    let day_of_year = ((153 * march_month + 2) / 5)
        .saturating_add(day)
        .saturating_sub(1);
    let day_of_era =
        (year_of_era * 365 + year_of_era / 4 - year_of_era / 100).saturating_add(day_of_year);
    // Day 0 of era 0 is 0000-03-01; 1970-01-01 is 719 468 days later.
    era.saturating_mul(146_097)
        .saturating_add(day_of_era)
        .saturating_sub(719_468)
}

/// The date of day number `days` since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * march_month + 2) / 5 + 1;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    };
    (era * 400 + year_of_era + u64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_and_print() {
        assert_eq!(parse_time("2026-01-01T00:00:00Z"), Ok(1_767_225_600));
        assert_eq!(parse_time("2026-01-01"), Ok(1_767_225_600));
        assert_eq!(parse_time("1767225600"), Ok(1_767_225_600));
        assert_eq!(parse_time("1970-01-01"), Ok(0));
        assert_eq!(parse_time("2024-02-29T23:59:59Z"), Ok(1_709_251_199));
        assert_eq!(format_time(1_767_225_600), "2026-01-01T00:00:00Z");
        assert_eq!(format_time(1_709_251_199), "2024-02-29T23:59:59Z");
        for secs in [
            0,
            951_782_400,
            1_767_225_600,
            4_102_444_799,
            253_402_300_799,
        ] {
            assert_eq!(parse_time(&format_time(secs)), Ok(secs), "{secs}");
        }
    }

    #[test]
    fn days_count_from_1970_whatever_the_date() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 1, 1), 20_454);
        assert_eq!(
            days_from_civil(2024, 3, 1) - days_from_civil(2024, 2, 28),
            2
        );
        assert_eq!(days_from_civil(0, 0, 0), 0);
        assert_eq!(days_from_civil(1969, 12, 31), 0);
        let _ = days_from_civil(u64::MAX, u64::MAX, u64::MAX);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2026, 13), 0);
    }

    #[test]
    fn what_is_not_a_time_is_refused() {
        for text in [
            "",
            "2026-13-01",
            "2025-02-29",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00Z",
            "1969-12-31",
            "2026-1-1x",
            "99999999999999999999999",
            "-1",
            "2026-01-01T00:00:00+01:00",
        ] {
            assert!(parse_time(text).is_err(), "{text:?}");
        }
    }
}
