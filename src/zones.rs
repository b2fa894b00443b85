//! The operator's local zone and the formatting of instants in the session zone beside it.
//!
//! Session times are never read in the host's zone: they are resolved in the session's IANA zone
//! (see `runbook::timespec`). The local zone is only for showing the operator their own clock.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The operator's zone: `TZ` when it names an IANA zone, else the system's, else UTC. A `TZ`
/// that names no zone is warned about once, on stderr (see [`local_zone`]).
pub fn local_tz() -> Tz {
    static WARNED: std::sync::Once = std::sync::Once::new();
    let (tz, warning) = local_zone();
    if let Some(w) = warning {
        WARNED.call_once(|| eprintln!("drillbook: warning: {w}"));
    }
    tz
}

/// The operator's zone and, when `TZ` is set to something that is not a zone name (`UTC+3`,
/// `garbage/Zone`), a warning that names the zone used instead: the operator's column would
/// otherwise be in a zone they did not ask for, without a word.
pub fn local_zone() -> (Tz, Option<String>) {
    zone_from(std::env::var("TZ").ok().as_deref(), || {
        iana_time_zone::get_timezone()
            .ok()
            .and_then(|n| n.parse::<Tz>().ok())
    })
}

fn zone_from(tz_env: Option<&str>, system: impl FnOnce() -> Option<Tz>) -> (Tz, Option<String>) {
    let mut bad = None;
    if let Some(tz) = tz_env.filter(|t| !t.trim().is_empty()) {
        let name = tz.trim_start_matches(':');
        if let Ok(z) = name.parse::<Tz>() {
            return (z, None);
        }
        // `TZ=/usr/share/zoneinfo/Europe/London` is also common.
        if let Some(idx) = name.find("zoneinfo/")
            && let Ok(z) = name[idx + 9..].parse::<Tz>()
        {
            return (z, None);
        }
        bad = Some(tz);
    }
    let (zone, whose) = match system() {
        Some(z) => (z, "the system's zone"),
        None => (Tz::UTC, "no system zone was found"),
    };
    let warning = bad.map(|b| {
        format!(
            "TZ `{}` is not a zone name; showing {zone} ({whose}) instead",
            crate::text::clean_line(b)
        )
    });
    (zone, warning)
}

/// `08:00 HKT` style: hours and minutes with the zone's abbreviation.
pub fn hm(t: DateTime<Utc>, tz: Tz) -> String {
    tz.from_utc_datetime(&t.naive_utc())
        .format("%H:%M %Z")
        .to_string()
}

/// `08:00:05 HKT`.
pub fn hms(t: DateTime<Utc>, tz: Tz) -> String {
    tz.from_utc_datetime(&t.naive_utc())
        .format("%H:%M:%S %Z")
        .to_string()
}

/// `Sat 25 Nov 2023 08:00 HKT`.
pub fn day_hm(t: DateTime<Utc>, tz: Tz) -> String {
    tz.from_utc_datetime(&t.naive_utc())
        .format("%a %d %b %Y %H:%M %Z")
        .to_string()
}

/// `08:00 HKT` on `day`, `15 Nov 09:00 HKT` on any other day: for tables about one session day.
pub fn hm_on(t: DateTime<Utc>, tz: Tz, day: chrono::NaiveDate) -> String {
    let l = tz.from_utc_datetime(&t.naive_utc());
    if l.date_naive() == day {
        l.format("%H:%M %Z").to_string()
    } else {
        l.format("%d %b %H:%M %Z").to_string()
    }
}

/// `10:58:30 HKT` on `day`, `15 Nov 09:00:00 HKT` on any other day: an instant observed or
/// reached, to the second (its drift is counted to the second).
pub fn hms_on(t: DateTime<Utc>, tz: Tz, day: chrono::NaiveDate) -> String {
    let l = tz.from_utc_datetime(&t.naive_utc());
    if l.date_naive() == day {
        l.format("%H:%M:%S %Z").to_string()
    } else {
        l.format("%d %b %H:%M:%S %Z").to_string()
    }
}

/// RFC 3339 in the given zone, with its offset: what the journal stores beside UTC.
pub fn rfc3339_in(t: DateTime<Utc>, tz: Tz) -> String {
    tz.from_utc_datetime(&t.naive_utc()).to_rfc3339()
}

/// How far an observed instant was from its plan, in words and [`span`]'s rounding:
/// `1m30s before plan`, `6m00s after plan`, `as planned`. The one way drift is written: the
/// status line, the banner, headless lines, `log`, handover, report and the rehearsal report
/// (walk 2 N8: one confirmation read `-1m`, `-1m30s` and `10:58 (-1m)`). Not "late": an
/// approximate boundary a few minutes after its `~` time is on plan (late is
/// `app::confirm::late`'s rule, which the rehearsal report applies).
pub fn drift(d: chrono::TimeDelta) -> String {
    let a = span(d.abs());
    match d.num_seconds().signum() {
        1 => format!("{a} after plan"),
        -1 => format!("{a} before plan"),
        _ => "as planned".to_owned(),
    }
}

/// A whole-minute offset as a runbook reads it: `20 min`, `1 h`, `1 h 05 min` (a due written
/// `+20m` after its phase's start).
pub fn after(d: chrono::TimeDelta) -> String {
    match (d.num_hours(), d.num_minutes() % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m:02} min"),
    }
}

/// A duration as `2d 03h`, `1h05m`, `4m07s`, `12s`: the largest two units that matter.
pub fn span(d: chrono::TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    let (days, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if days > 0 {
        format!("{days}d {h:02}h")
    } else if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m{sec:02}s")
    } else {
        format!("{sec}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_both_zones() {
        let t = Utc.with_ymd_and_hms(2023, 11, 25, 0, 0, 0).unwrap();
        assert_eq!(hm(t, chrono_tz::Asia::Hong_Kong), "08:00 HKT");
        assert_eq!(hm(t, chrono_tz::Europe::London), "00:00 GMT");
        assert_eq!(
            rfc3339_in(t, chrono_tz::Asia::Hong_Kong),
            "2023-11-25T08:00:00+08:00"
        );
    }

    #[test]
    fn a_tz_that_is_no_zone_name_is_warned_about_naming_the_zone_used() {
        let sys = || Some(chrono_tz::Asia::Tokyo);
        assert_eq!(
            zone_from(Some("Europe/London"), sys),
            (chrono_tz::Europe::London, None)
        );
        assert_eq!(
            zone_from(Some(":/usr/share/zoneinfo/America/New_York"), sys).0,
            chrono_tz::America::New_York
        );
        assert_eq!(zone_from(None, sys), (chrono_tz::Asia::Tokyo, None));
        for bad in ["UTC+3", "garbage/Zone"] {
            let (z, w) = zone_from(Some(bad), sys);
            assert_eq!(z, chrono_tz::Asia::Tokyo);
            let w = w.unwrap();
            assert!(w.contains(bad) && w.contains("Asia/Tokyo"), "{w}");
        }
        let (z, w) = zone_from(Some("UTC+3"), || None);
        assert_eq!(z, Tz::UTC);
        assert!(
            w.unwrap()
                .contains("showing UTC (no system zone was found)")
        );
    }

    #[test]
    fn spans() {
        assert_eq!(span(chrono::TimeDelta::seconds(3900)), "1h05m");
        assert_eq!(span(chrono::TimeDelta::seconds(247)), "4m07s");
        assert_eq!(
            span(chrono::TimeDelta::seconds(2 * 86_400 + 3 * 3600)),
            "2d 03h"
        );
        assert_eq!(drift(chrono::TimeDelta::minutes(-20)), "20m00s before plan");
        assert_eq!(drift(chrono::TimeDelta::seconds(90)), "1m30s after plan");
        assert_eq!(drift(chrono::TimeDelta::milliseconds(400)), "as planned");
    }
}
