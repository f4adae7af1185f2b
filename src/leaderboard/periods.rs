//! Where a board's periods begin and end: weeks from Monday 00:00 and months from the 1st 00:00, in the
//! board's time zone, as instants (UTC milliseconds). A week that holds a daylight-saving change is an
//! hour longer or shorter; a midnight that does not exist in the zone (a change at 00:00) begins the
//! period at the first instant after the gap.

use super::{Period, Which};
use crate::model::Millis;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// The instant of local midnight at the start of `day` in `zone` (the first instant of the day when
/// midnight falls in a gap; the earlier one when it occurs twice).
fn midnight(zone: Tz, day: NaiveDate) -> Millis {
    let start: NaiveDateTime = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    // A gap lasts at most a few hours: step a minute at a time to its end.
    for minutes in 0..(24 * 60) {
        if let Some(t) = zone
            .from_local_datetime(&(start + Duration::minutes(minutes)))
            .earliest()
        {
            return t.timestamp_millis();
        }
    }
    zone.from_utc_datetime(&start).timestamp_millis()
}

fn first_day(period: Period, day: NaiveDate) -> NaiveDate {
    match period {
        Period::Week => day - Duration::days(day.weekday().num_days_from_monday() as i64),
        Period::Month | Period::AllTime => day.with_day(1).expect("every month has a 1st"),
    }
}

fn next_first_day(period: Period, first: NaiveDate) -> NaiveDate {
    match period {
        Period::Week => first + Duration::days(7),
        Period::Month | Period::AllTime => first
            .checked_add_months(chrono::Months::new(1))
            .expect("dates far from the edge"),
    }
}

/// The period around `now` (or the one before it), as `[start, end)`; `(None, None)` for all-time.
pub fn bounds(
    period: Period,
    which: Which,
    zone: Tz,
    now: Millis,
) -> (Option<Millis>, Option<Millis>) {
    if period == Period::AllTime {
        return (None, None);
    }
    let local = DateTime::from_timestamp_millis(now)
        .unwrap_or_default()
        .with_timezone(&zone)
        .date_naive();
    let mut first = first_day(period, local);
    let mut start = midnight(zone, first);
    // Just after a gap at midnight the local date can say a day the period has not reached yet.
    if start > now {
        first = first_day(period, first - Duration::days(1));
        start = midnight(zone, first);
    }
    let mut end = midnight(zone, next_first_day(period, first));
    if which == Which::Previous {
        let before = start - 1;
        return bounds(period, Which::Current, zone, before);
    }
    if end <= now {
        // Cannot happen for real zones; keep the answer sane.
        end = now + 1;
    }
    (Some(start), Some(end))
}

/// The zone named `name`, or UTC for a name chrono-tz does not know.
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> Millis {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_millis()
    }

    const MINUTE: Millis = 60_000;

    #[test]
    fn weeks_and_months_are_cut_at_local_midnight_in_three_zones() {
        // UTC+14: Monday 7 December 2026 00:00 in Kiritimati is Sunday 6 December 10:00 UTC.
        let kiritimati = zone("Pacific/Kiritimati");
        let boundary = at("2026-12-06T10:00:00Z");
        let before = bounds(Period::Week, Which::Current, kiritimati, boundary - MINUTE);
        let after = bounds(Period::Week, Which::Current, kiritimati, boundary + MINUTE);
        assert_eq!(before.1, Some(boundary));
        assert_eq!(after.0, Some(boundary));
        assert_eq!(
            bounds(Period::Week, Which::Previous, kiritimati, boundary + MINUTE),
            before,
            "last week is the week before"
        );
        // UTC-11: 1 January 2027 00:00 in Pago Pago is 1 January 11:00 UTC.
        let pago = zone("Pacific/Pago_Pago");
        let new_month = at("2027-01-01T11:00:00Z");
        assert_eq!(
            bounds(Period::Month, Which::Current, pago, new_month - MINUTE),
            (Some(at("2026-12-01T11:00:00Z")), Some(new_month))
        );
        assert_eq!(
            bounds(Period::Month, Which::Current, pago, new_month + MINUTE).0,
            Some(new_month)
        );
        assert_eq!(
            bounds(Period::AllTime, Which::Current, pago, new_month),
            (None, None)
        );
    }

    #[test]
    fn a_week_with_a_daylight_saving_change_is_an_hour_longer_or_shorter() {
        let berlin = zone("Europe/Berlin");
        // Clocks go back on Sunday 25 October 2026: that week runs from Monday 19 October 00:00 CEST
        // (22:00 UTC the day before) to Monday 26 October 00:00 CET (23:00 UTC): 169 hours.
        let (start, end) = bounds(
            Period::Week,
            Which::Current,
            berlin,
            at("2026-10-22T12:00:00Z"),
        );
        assert_eq!(start, Some(at("2026-10-18T22:00:00Z")));
        assert_eq!(end, Some(at("2026-10-25T23:00:00Z")));
        let end = end.unwrap();
        assert_eq!(end - start.unwrap(), 169 * 60 * MINUTE);
        assert_eq!(
            bounds(Period::Week, Which::Current, berlin, end - MINUTE).1,
            Some(end),
            "a minute before the boundary counts in the old week"
        );
        assert_eq!(
            bounds(Period::Week, Which::Current, berlin, end + MINUTE).0,
            Some(end),
            "a minute after, in the new one"
        );
        // Clocks go forward on Sunday 29 March 2026: 167 hours.
        let (start, end) = bounds(
            Period::Week,
            Which::Current,
            berlin,
            at("2026-03-25T12:00:00Z"),
        );
        assert_eq!(end.unwrap() - start.unwrap(), 167 * 60 * MINUTE);
    }

    #[test]
    fn a_midnight_that_does_not_exist_begins_the_period_after_the_gap() {
        // Santiago moves its clocks forward at 00:00 on Sunday 6 September 2026 (no 00:00-00:59). A
        // month that began on a Sunday at midnight in such a zone starts when the day does.
        let santiago = zone("America/Santiago");
        let day = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        let start = midnight(santiago, day);
        let local = DateTime::from_timestamp_millis(start)
            .unwrap()
            .with_timezone(&santiago);
        assert_eq!(local.date_naive(), day);
        assert_eq!(local.format("%H:%M").to_string(), "01:00");
        // Unknown zone names are UTC.
        assert_eq!(zone("Mars/Olympus"), Tz::UTC);
    }
}
