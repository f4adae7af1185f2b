//! Times in the viewer's zone: `<LocalTime at=…>` ("3 min ago", "yesterday 14:05", the exact time on
//! hover) and `<LocalDay day=…>` for calendar days, both ticking with one shared page clock.
//!
//! The server and the browser must print the same text, or hydration would not match. Each side finds
//! the wall clock of an instant in the zone its own way (chrono-tz on the server; the browser's own
//! `Intl` database in WASM, so chrono-tz's tables never ship there) and the pure functions in
//! [`crate::format`] make the words. The server's "now" rides in the page, so the browser's first
//! render uses it too; only later ticks move it.

use crate::format::{self, Wall};
use crate::session::CurrentUser;
use leptos::prelude::*;
use studyhall::model::Millis;

/// The page clock: one signal for every time on the page, and the viewer's zone once they change it
/// on the profile page (until then it is the signed-in user's, or UTC when signed out).
#[derive(Clone, Copy)]
pub struct Clock {
    now: RwSignal<Millis>,
    zone: RwSignal<Option<String>>,
}

impl Clock {
    /// Now by the page clock: the server's time while rendering there and hydrating, the browser's
    /// (kept to the server's) after. Tracked; moves every tick.
    pub fn now(&self) -> Millis {
        self.now.get()
    }

    /// The viewer switched zones (saved on the profile): every time on the page follows at once.
    pub fn set_zone(&self, zone: String) {
        self.zone.set(Some(zone));
    }
}

/// Starts the page clock (once, in `App`).
pub fn provide_clock() {
    // Serialized into the page by the server, read back while hydrating.
    let start = SharedValue::new(server_now).into_inner();
    let now = RwSignal::new(start);
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        use crate::format::MINUTE;
        /// How often relative times move on ("just now" → "1 min ago").
        const TICK_MS: u64 = 30_000;
        // Keep to the server's clock: timestamps come from it, and a browser a minute behind would
        // otherwise show fresh items "in 1 min". A page far older than its render (restored from a
        // cache) uses the browser's clock as it is.
        let skew = start - crate::browser::now_ms();
        let skew = if skew.abs() <= 10 * MINUTE { skew } else { 0 };
        crate::browser::every(TICK_MS, move || now.set(crate::browser::now_ms() + skew));
    }
    provide_context(Clock {
        now,
        zone: RwSignal::new(None),
    });
}

pub fn use_clock() -> Clock {
    expect_context::<Clock>()
}

fn server_now() -> Millis {
    #[cfg(feature = "ssr")]
    {
        studyhall::server::now_ms()
    }
    #[cfg(not(feature = "ssr"))]
    {
        crate::browser::now_ms()
    }
}

/// The zone every time on this page is shown in, as a name both sides know ("UTC" otherwise).
fn viewer_zone(clock: Clock) -> Memo<String> {
    let user_zone = use_context::<CurrentUser>().map(|u| u.0.time_zone);
    Memo::new(move |_| {
        let zone = clock
            .zone
            .get()
            .or_else(|| user_zone.clone())
            .unwrap_or_else(|| "UTC".into());
        if platform::wall(&zone, 0).is_some() {
            zone
        } else {
            "UTC".into()
        }
    })
}

/// `at` on the wall clock of `zone` (UTC's when the zone is unknown).
pub fn wall(zone: &str, at: Millis) -> Wall {
    platform::wall(zone, at).unwrap_or(at)
}

/// An instant in the viewer's zone, relative while that reads better, exact in its tooltip.
#[component]
pub fn LocalTime(at: Millis) -> impl IntoView {
    let clock = use_clock();
    let zone = viewer_zone(clock);
    let at_wall = Memo::new(move |_| wall(&zone.get(), at));
    let text = move || {
        let now = clock.now.get();
        format::relative(at, at_wall.get(), now, wall(&zone.read(), now))
    };
    let title = move || format::exact(at, at_wall.get(), &zone.read());
    // Never broken across lines: "yesterday" alone on one line and "14:05" on the next misleads.
    view! { <time class="whitespace-nowrap" datetime=format::iso_utc(at) title=title>{text}</time> }
}

/// The viewer's calendar day of an instant (days since 1970-01-01 on their clock); tracked.
pub fn local_day(at: Millis) -> i64 {
    let zone = viewer_zone(use_clock());
    wall(&zone.get(), at).div_euclid(format::DAY)
}

/// The viewer's day of an instant as a heading: "today", "yesterday", "Mon 17 Nov", the full date
/// on hover.
#[component]
pub fn DayOf(at: Millis) -> impl IntoView {
    let clock = use_clock();
    let zone = viewer_zone(clock);
    let day = Memo::new(move |_| wall(&zone.get(), at).div_euclid(format::DAY));
    let text = move || {
        let today = wall(&zone.read(), clock.now.get()).div_euclid(format::DAY);
        format::day_relative(day.get(), today)
    };
    view! { <time class="whitespace-nowrap" datetime=format::iso_utc(at) title=move || format::day_exact(day.get())>{text}</time> }
}

/// A calendar day (`YYYY-MM-DD`, already local: a session's day, a goal's target) relative to the
/// viewer's today. Anything that is not a day is shown as it is.
#[component]
pub fn LocalDay(#[prop(into)] day: String) -> impl IntoView {
    let Some(days) = format::parse_day(&day) else {
        return day.into_any();
    };
    let clock = use_clock();
    let zone = viewer_zone(clock);
    let text = move || {
        let today = wall(&zone.read(), clock.now.get()).div_euclid(format::DAY);
        format::day_relative(days, today)
    };
    view! { <time class="whitespace-nowrap" datetime=day title=format::day_exact(days)>{text}</time> }
        .into_any()
}

#[cfg(feature = "ssr")]
mod platform {
    use chrono::{Offset, TimeZone};
    use studyhall::model::Millis;

    pub fn wall(zone: &str, at: Millis) -> Option<crate::format::Wall> {
        let tz: chrono_tz::Tz = zone.parse().ok()?;
        let utc = chrono::DateTime::from_timestamp_millis(at)?.naive_utc();
        let offset = tz.offset_from_utc_datetime(&utc).fix().local_minus_utc();
        Some(at + i64::from(offset) * 1000)
    }
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
mod platform {
    //! The browser's time-zone database through `Intl.DateTimeFormat(…, {timeZone}).formatToParts`.
    use js_sys::{Array, Date, Function, Intl::DateTimeFormat, Object, Reflect};
    use std::cell::RefCell;
    use studyhall::model::Millis;
    use wasm_bindgen::{JsCast, JsValue};

    thread_local! {
        // Making a DateTimeFormat is slow; a page has one zone (two when it changes).
        static FORMATS: RefCell<Vec<(String, Option<DateTimeFormat>)>> = const { RefCell::new(Vec::new()) };
    }

    fn format_for(zone: &str) -> Option<DateTimeFormat> {
        FORMATS.with(|cache| {
            if let Some((_, f)) = cache.borrow().iter().find(|(z, _)| z == zone) {
                return f.clone();
            }
            let f = make(zone);
            cache.borrow_mut().push((zone.to_string(), f.clone()));
            f
        })
    }

    /// Numeric fields, 24-hour, Gregorian, Latin digits. `None` when the browser does not know the
    /// zone (the constructor throws a RangeError, which `Reflect::construct` catches).
    fn make(zone: &str) -> Option<DateTimeFormat> {
        let options = Object::new();
        for (key, value) in [
            ("timeZone", zone),
            ("hourCycle", "h23"),
            ("year", "numeric"),
            ("month", "numeric"),
            ("day", "numeric"),
            ("hour", "numeric"),
            ("minute", "numeric"),
            ("second", "numeric"),
        ] {
            Reflect::set(&options, &key.into(), &value.into()).ok()?;
        }
        let intl = Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
        let ctor: Function = Reflect::get(&intl, &"DateTimeFormat".into())
            .ok()?
            .dyn_into()
            .ok()?;
        let args = Array::of2(&"en-US-u-ca-gregory-nu-latn".into(), &options);
        Some(Reflect::construct(&ctor, &args).ok()?.unchecked_into())
    }

    pub fn wall(zone: &str, at: Millis) -> Option<crate::format::Wall> {
        let parts = format_for(zone)?.format_to_parts(&Date::new(&JsValue::from_f64(at as f64)));
        let mut f = [None::<i64>; 6];
        for part in parts.iter() {
            let field = Reflect::get(&part, &"type".into()).ok()?.as_string()?;
            let slot = match field.as_str() {
                "year" => 0,
                "month" => 1,
                "day" => 2,
                "hour" => 3,
                "minute" => 4,
                "second" => 5,
                _ => continue,
            };
            f[slot] = Reflect::get(&part, &"value".into())
                .ok()?
                .as_string()?
                .parse()
                .ok();
        }
        let [y, mo, d, h, mi, s] = f;
        let field = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
        // Some engines print midnight as "24" even with h23.
        let wall = crate::format::wall_from_parts(
            y?,
            field(mo)?,
            field(d)?,
            field(h)? % 24,
            field(mi)?,
            field(s)?,
        );
        Some(wall + at.rem_euclid(1000))
    }
}

#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
mod platform {
    //! Neither side (a plain `cargo check`): only UTC.
    pub fn wall(zone: &str, at: studyhall::model::Millis) -> Option<crate::format::Wall> {
        (zone == "UTC").then_some(at)
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    //! Real zones through chrono-tz (the server's side; the browser's is checked by end2end/time.spec.ts
    //! against the same text).
    use super::wall;
    use crate::format::{exact, relative, wall_from_parts, HOUR, MINUTE};

    fn rel(zone: &str, at: i64, now: i64) -> String {
        relative(at, wall(zone, at), now, wall(zone, now))
    }

    #[test]
    fn zones_east_and_west_of_utc() {
        let at = wall_from_parts(2026, 12, 1, 9, 30, 0);
        let now = at + 75 * MINUTE;
        assert_eq!(rel("Pacific/Kiritimati", at, now), "yesterday 23:30");
        assert_eq!(rel("UTC", at, now), "today 09:30");
        let at = wall_from_parts(2026, 12, 2, 10, 0, 0);
        assert_eq!(
            rel("Pacific/Pago_Pago", at, at + 90 * MINUTE),
            "yesterday 23:00"
        );
        assert_eq!(
            exact(at, wall("Pacific/Kiritimati", at), "Pacific/Kiritimati"),
            "Thursday 3 December 2026, 00:00 Pacific/Kiritimati (UTC+14:00)"
        );
        assert_eq!(wall("Not/AZone", at), at, "unknown zones read as UTC");
    }

    #[test]
    fn dst_change_days() {
        // New York springs forward at 02:00 EST on 2026-03-08 (07:00 UTC): 01:30 EST, then 03:30 EDT.
        let before = wall_from_parts(2026, 3, 8, 6, 30, 0);
        let after = before + HOUR;
        let ny = "America/New_York";
        assert_eq!(
            rel(ny, before, after),
            "today 01:30",
            "an hour passed, two on the wall clock"
        );
        assert_eq!(rel(ny, after, after + 2 * HOUR), "today 03:30");
        assert!(exact(before, wall(ny, before), ny).ends_with("01:30 America/New_York (UTC-05:00)"));
        assert!(exact(after, wall(ny, after), ny).ends_with("03:30 America/New_York (UTC-04:00)"));
        // "Yesterday" is by the calendar: late on the 7th (EST) seen the morning after the change.
        let late = wall_from_parts(2026, 3, 8, 4, 30, 0); // 23:30 EST on the 7th
        assert_eq!(
            rel(ny, late, wall_from_parts(2026, 3, 8, 13, 0, 0)),
            "yesterday 23:30"
        );
        // Berlin falls back on 2026-10-25: 02:30 happens twice, an hour apart, told apart by offset.
        let berlin = "Europe/Berlin";
        let first = wall_from_parts(2026, 10, 25, 0, 30, 0);
        let second = first + HOUR;
        let later = wall_from_parts(2026, 10, 25, 12, 0, 0);
        assert_eq!(rel(berlin, first, later), "today 02:30");
        assert_eq!(rel(berlin, second, later), "today 02:30");
        assert!(
            exact(first, wall(berlin, first), berlin).ends_with("02:30 Europe/Berlin (UTC+02:00)")
        );
        assert!(exact(second, wall(berlin, second), berlin)
            .ends_with("02:30 Europe/Berlin (UTC+01:00)"));
        // The 25-hour day is still one calendar day: 00:05 and 23:55 local are both "today".
        let dawn = wall_from_parts(2026, 10, 24, 22, 5, 0); // 00:05 CEST
        let dusk = wall_from_parts(2026, 10, 25, 22, 55, 0); // 23:55 CET
        assert_eq!(rel(berlin, dawn, dusk), "today 00:05");
    }
}
