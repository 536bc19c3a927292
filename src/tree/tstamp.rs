//! The TStamp property: seconds of simulated time as ISO 8601 basic UTC, `YYYYMMDDThhmmssZ`.
//!
//! Simulated time counts seconds from the Unix epoch (1970-01-01T00:00:00Z), so a node never written
//! shows `19700101T000000Z`.

/// Format `secs` since the Unix epoch as `YYYYMMDDThhmmssZ`.
pub fn format_tstamp(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Proleptic Gregorian date of day number `days` since 1970-01-01 (counting in 400-year eras of
/// 146 097 days, with years starting on March 1st so the leap day is last).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    const DAYS_PER_ERA: u64 = 146_097;
    // Day 0 of era 0 is 0000-03-01; 1970-01-01 is 719 468 days later.
    let z = days + 719_468;
    let era = z / DAYS_PER_ERA;
    let day_of_era = z % DAYS_PER_ERA;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524
        - day_of_era / (DAYS_PER_ERA - 1))
        / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_year + 2) / 153; // 0 = March … 11 = February
    let day = day_of_year - (153 * march_month + 2) / 5 + 1;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(format_tstamp(0), "19700101T000000Z");
        assert_eq!(format_tstamp(994_869_497), "20010711T163817Z");
        assert_eq!(format_tstamp(951_782_400), "20000229T000000Z");
        assert_eq!(format_tstamp(1_709_251_199), "20240229T235959Z");
        assert_eq!(format_tstamp(4_102_444_800), "21000101T000000Z");
    }
}
