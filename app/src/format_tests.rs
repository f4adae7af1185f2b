//! The rules for times shown to people (`format::relative`, `exact`, days). Offsets are fixed here;
//! real zones, DST included, are tested through chrono-tz in `components::time`.

use super::*;

/// An instant given as its UTC reading.
fn utc_at(y: i64, m: u32, d: u32, h: u32, mi: u32) -> Millis {
    wall_from_parts(y, m, d, h, mi, 0)
}

/// (instant, its wall clock at a fixed offset in hours).
fn seen(at: Millis, offset_hours: i64) -> (Millis, Wall) {
    (at, at + offset_hours * HOUR)
}

fn rel(at: (Millis, Wall), now: (Millis, Wall)) -> String {
    relative(at.0, at.1, now.0, now.1)
}

#[test]
fn minutes_then_days() {
    let now = seen(utc_at(2026, 12, 2, 12, 0), 0);
    let ago = |ms: i64| rel(seen(now.0 - ms, 0), now);
    assert_eq!(ago(0), "just now");
    assert_eq!(ago(59_999), "just now");
    assert_eq!(
        ago(-30_000),
        "just now",
        "a clock a little ahead is not the future"
    );
    assert_eq!(ago(MINUTE), "1 min ago");
    assert_eq!(ago(3 * MINUTE + 59_000), "3 min ago");
    assert_eq!(ago(HOUR - 1), "59 min ago");
    assert_eq!(ago(HOUR), "today 11:00");
    assert_eq!(ago(-5 * MINUTE), "in 5 min");
    assert_eq!(ago(-2 * HOUR), "today 14:00");
    assert_eq!(
        ago(12 * HOUR + 5 * MINUTE),
        "yesterday 23:55",
        "12 hours ago, but before midnight"
    );
    assert_eq!(
        rel(seen(utc_at(2026, 12, 1, 14, 5), 0), now),
        "yesterday 14:05"
    );
    assert_eq!(
        rel(seen(utc_at(2026, 12, 3, 9, 0), 0), now),
        "tomorrow 09:00"
    );
    assert_eq!(rel(seen(utc_at(2026, 11, 30, 9, 30), 0), now), "Mon 09:30");
    assert_eq!(
        rel(seen(utc_at(2026, 11, 26, 9, 30), 0), now),
        "Thu 09:30",
        "six days back"
    );
    assert_eq!(
        rel(seen(utc_at(2026, 11, 25, 9, 30), 0), now),
        "25 Nov",
        "a week back"
    );
    assert_eq!(
        rel(seen(utc_at(2026, 12, 5, 8, 0), 0), now),
        "Sat 08:00",
        "later this week"
    );
    assert_eq!(rel(seen(utc_at(2026, 1, 1, 0, 0), 0), now), "1 Jan");
    assert_eq!(
        rel(seen(utc_at(2025, 11, 12, 10, 0), 0), now),
        "12 Nov 2025"
    );
    assert_eq!(rel(seen(utc_at(2027, 2, 1, 10, 0), 0), now), "1 Feb 2027");
}

#[test]
fn days_follow_the_viewers_clock_east_of_utc() {
    // Pacific/Kiritimati, UTC+14: 09:30 UTC is 23:30 local, 10:45 UTC is already tomorrow.
    let at = utc_at(2026, 12, 1, 9, 30);
    let now = utc_at(2026, 12, 1, 10, 45);
    assert_eq!(rel(seen(at, 14), seen(now, 14)), "yesterday 23:30");
    assert_eq!(
        rel(seen(at, 0), seen(now, 0)),
        "today 09:30",
        "the same pair in UTC"
    );
    // New Year comes first in UTC+14: the year shown is the viewer's.
    let at = utc_at(2026, 12, 31, 10, 30);
    let now = utc_at(2027, 1, 20, 12, 0);
    assert_eq!(rel(seen(at, 14), seen(now, 14)), "1 Jan");
    assert_eq!(rel(seen(at, 0), seen(now, 0)), "31 Dec 2026");
    // A minute before local midnight and two after: a day apart although 3 minutes passed...
    let at = utc_at(2026, 12, 1, 9, 59);
    assert_eq!(rel(seen(at, 14), seen(at + 3 * MINUTE, 14)), "3 min ago");
    // ...and once past the hour it says which day.
    assert_eq!(
        rel(seen(at, 14), seen(at + HOUR + MINUTE, 14)),
        "yesterday 23:59"
    );
}

#[test]
fn days_follow_the_viewers_clock_west_of_utc() {
    // Pacific/Pago_Pago, UTC−11: 10:00 UTC on the 2nd is 23:00 on the 1st.
    let at = utc_at(2026, 12, 2, 10, 0);
    let now = utc_at(2026, 12, 2, 11, 30);
    assert_eq!(rel(seen(at, -11), seen(now, -11)), "yesterday 23:00");
    assert_eq!(rel(seen(at, 0), seen(now, 0)), "today 10:00");
    // The other way round: yesterday in UTC, today for the viewer.
    let at = utc_at(2026, 12, 1, 23, 0);
    let now = utc_at(2026, 12, 2, 1, 0);
    assert_eq!(rel(seen(at, -11), seen(now, -11)), "today 12:00");
    assert_eq!(rel(seen(at, 0), seen(now, 0)), "yesterday 23:00");
}

#[test]
fn exact_names_day_time_zone_and_offset() {
    let at = 1_796_187_967_000; // 2026-12-02T05:06:07Z, a Wednesday
    assert_eq!(exact(at, at, "UTC"), "Wednesday 2 December 2026, 05:06 UTC");
    assert_eq!(
        exact(at, at + 14 * HOUR, "Pacific/Kiritimati"),
        "Wednesday 2 December 2026, 19:06 Pacific/Kiritimati (UTC+14:00)"
    );
    assert_eq!(
        exact(at, at - 11 * HOUR, "Pacific/Pago_Pago"),
        "Tuesday 1 December 2026, 18:06 Pacific/Pago_Pago (UTC-11:00)"
    );
    assert_eq!(
        exact(at, at - 210 * MINUTE, "America/St_Johns"),
        "Wednesday 2 December 2026, 01:36 America/St_Johns (UTC-03:30)"
    );
    assert_eq!(
        exact(at, at + 345 * MINUTE, "Asia/Kathmandu"),
        "Wednesday 2 December 2026, 10:51 Asia/Kathmandu (UTC+05:45)"
    );
    assert_eq!(
        exact(at, at, "Europe/London"),
        "Wednesday 2 December 2026, 05:06 Europe/London (UTC+00:00)"
    );
}

#[test]
fn iso_is_utc_to_the_second() {
    assert_eq!(iso_utc(1_796_187_967_000), "2026-12-02T05:06:07Z");
    assert_eq!(iso_utc(1_796_187_967_999), "2026-12-02T05:06:07Z");
    assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
    assert_eq!(iso_utc(-1), "1969-12-31T23:59:59Z");
}

#[test]
fn wall_from_parts_matches_the_calendar() {
    assert_eq!(wall_from_parts(1970, 1, 1, 0, 0, 0), 0);
    assert_eq!(wall_from_parts(2026, 12, 2, 5, 6, 7), 1_796_187_967_000);
    assert_eq!(wall_from_parts(2000, 2, 29, 0, 0, 0), 951_782_400_000);
    assert_eq!(
        wall_from_parts(2024, 3, 1, 0, 0, 0) - wall_from_parts(2024, 2, 28, 0, 0, 0),
        2 * DAY
    );
    for days in [-800_000, -1, 0, 59, 10_957, 20_789, 2_000_000] {
        let (y, m, d) = civil_from_days(days);
        assert_eq!(days_from_civil(y, m, d), days);
    }
}

#[test]
fn calendar_days() {
    assert_eq!(parse_day("2026-11-17"), Some(days_from_civil(2026, 11, 17)));
    for bad in [
        "2026-02-30",
        "2026-13-01",
        "2026-1-01",
        "+10000-01-01",
        "",
        "2026-11-17x",
        "abcd-ef-gh",
    ] {
        assert_eq!(parse_day(bad), None, "{bad}");
    }
    let today = parse_day("2026-12-02").unwrap();
    let day = |raw| day_relative(parse_day(raw).unwrap(), today);
    assert_eq!(day("2026-12-02"), "today");
    assert_eq!(day("2026-12-01"), "yesterday");
    assert_eq!(day("2026-12-03"), "tomorrow");
    assert_eq!(day("2026-11-17"), "Tue 17 Nov");
    assert_eq!(day("2025-11-12"), "12 Nov 2025");
    assert_eq!(
        day_exact(parse_day("2025-11-12").unwrap()),
        "Wednesday 12 November 2025"
    );
}

#[test]
fn leap_days_and_far_instants() {
    assert_eq!(iso_utc(951_782_400_000), "2000-02-29T00:00:00Z");
    assert_eq!(iso_utc(1_795_000_000_000), "2026-11-18T11:06:40Z");
    let at = 951_782_400_000;
    assert_eq!(exact(at, at, "UTC"), "Tuesday 29 February 2000, 00:00 UTC");
}
