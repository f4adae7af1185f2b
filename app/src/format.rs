//! Formatting that gives the same text on the server and in the browser (hydration must match).

use studyhall::model::Millis;

// Times for people. Both sides turn an instant into a wall-clock reading in the viewer's zone their
// own way (chrono-tz on the server, the browser's Intl in WASM, see `components::time`), then these
// pure functions make the text, so the same (instant, wall clock, now) gives the same words.

/// A wall-clock reading in some zone, counted in milliseconds since 1970-01-01 00:00 on that clock
/// (UTC's own instants are their own wall clock).
pub type Wall = i64;

pub const MINUTE: i64 = 60_000;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The wall clock of a calendar reading (month and day from 1). The browser reads Intl's parts with it;
/// the server has chrono-tz.
// Used by the browser's platform code only (not when the server's is compiled in beside it).
#[cfg_attr(
    not(any(all(feature = "hydrate", not(feature = "ssr")), test)),
    allow(dead_code)
)]
pub fn wall_from_parts(y: i64, m: u32, d: u32, hour: u32, minute: u32, second: u32) -> Wall {
    days_from_civil(y, m, d) * DAY
        + i64::from(hour) * HOUR
        + i64::from(minute) * MINUTE
        + i64::from(second) * 1000
}

/// Short relative text for `at` seen at `now` (`at_wall` and `now_wall` on the viewer's clock):
/// "just now", "3 min ago", "in 5 min", "today 14:05", "yesterday 14:05", "tomorrow 09:00",
/// "Mon 09:30" (within a week), "12 Nov" (this year), "12 Nov 2025".
pub fn relative(at: Millis, at_wall: Wall, now: Millis, now_wall: Wall) -> String {
    let ago = now - at;
    if ago.abs() < MINUTE {
        return "just now".into();
    }
    if ago > 0 && ago < HOUR {
        return format!("{} min ago", ago / MINUTE);
    }
    if ago < 0 && -ago < HOUR {
        return format!("in {} min", -ago / MINUTE);
    }
    // Calendar days on the viewer's clock, not elapsed hours: 23:50 is "yesterday" at 00:10.
    let days = now_wall.div_euclid(DAY) - at_wall.div_euclid(DAY);
    let c = Civil::of(at_wall);
    let hm = format!("{:02}:{:02}", c.hour, c.minute);
    match days {
        0 => format!("today {hm}"),
        1 => format!("yesterday {hm}"),
        -1 => format!("tomorrow {hm}"),
        -6..=6 => format!("{} {hm}", &WEEKDAYS[c.weekday][..3]),
        _ if c.year == Civil::of(now_wall).year => {
            format!("{} {}", c.day, &MONTHS[c.month - 1][..3])
        }
        _ => format!("{} {} {}", c.day, &MONTHS[c.month - 1][..3], c.year),
    }
}

/// The exact time for a tooltip: "Wednesday 2 December 2026, 19:06 Pacific/Kiritimati (UTC+14:00)".
/// The offset is the wall clock's distance from the instant, so both sides print the same one.
pub fn exact(at: Millis, at_wall: Wall, zone: &str) -> String {
    let c = Civil::of(at_wall);
    let when = format!(
        "{} {} {} {}, {:02}:{:02}",
        WEEKDAYS[c.weekday],
        c.day,
        MONTHS[c.month - 1],
        c.year,
        c.hour,
        c.minute
    );
    let offset = (at_wall - at).div_euclid(MINUTE);
    if zone == "UTC" && offset == 0 {
        return format!("{when} UTC");
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.abs();
    format!(
        "{when} {zone} (UTC{sign}{:02}:{:02})",
        offset / 60,
        offset % 60
    )
}

/// The instant for a `<time datetime>`: `2026-12-02T05:06:07Z`.
pub fn iso_utc(at: Millis) -> String {
    let c = Civil::of(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` day (a local calendar day, no zone involved).
pub fn parse_day(raw: &str) -> Option<i64> {
    let mut it = raw.splitn(3, '-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let days = days_from_civil(y, m, d);
    // Round-trip check: refuses 2026-02-30 and 2026-13-01.
    (civil_from_days(days) == (y, m, d)).then_some(days)
}

/// A calendar day relative to today: "today", "yesterday", "tomorrow", "Mon 17 Nov", "17 Nov 2025".
pub fn day_relative(day: i64, today: i64) -> String {
    let c = Civil::of(day * DAY);
    match today - day {
        0 => "today".into(),
        1 => "yesterday".into(),
        -1 => "tomorrow".into(),
        _ if c.year == Civil::of(today * DAY).year => {
            format!(
                "{} {} {}",
                &WEEKDAYS[c.weekday][..3],
                c.day,
                &MONTHS[c.month - 1][..3]
            )
        }
        _ => format!("{} {} {}", c.day, &MONTHS[c.month - 1][..3], c.year),
    }
}

/// A calendar day in full: "Monday 17 November 2025".
pub fn day_exact(day: i64) -> String {
    let c = Civil::of(day * DAY);
    format!(
        "{} {} {} {}",
        WEEKDAYS[c.weekday],
        c.day,
        MONTHS[c.month - 1],
        c.year
    )
}

/// A wall-clock reading split into its fields.
struct Civil {
    year: i64,
    month: usize,
    day: u32,
    hour: i64,
    minute: i64,
    second: i64,
    /// Monday = 0.
    weekday: usize,
}

impl Civil {
    fn of(wall: Wall) -> Self {
        let days = wall.div_euclid(DAY);
        let secs = wall.rem_euclid(DAY) / 1000;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month: month as usize,
            day,
            hour: secs / 3600,
            minute: secs % 3600 / 60,
            second: secs % 60,
            // 1970-01-01 was a Thursday.
            weekday: (days + 3).rem_euclid(7) as usize,
        }
    }
}

/// Howard Hinnant's civil-to-days algorithm (the inverse of `civil_from_days`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let (m, d) = (i64::from(m), i64::from(d));
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
