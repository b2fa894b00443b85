//! Times as runbooks write them (`08:00`, `~11:00`, `2023-11-24 17:00`, `2023-11-22`, and for a
//! step's due `+20m` after its phase's start) and their resolution to UTC instants in the
//! session's zone, daylight saving included.

use chrono::{
    DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;

/// A time as written, before it is placed in a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSpec {
    /// The local date, or `None` for "on the session date".
    pub date: Option<NaiveDate>,
    pub time: NaiveTime,
    /// Written with a leading `~`: planned, confirmed when observed.
    pub approximate: bool,
    /// Written as a bare date (deadlines): due by the end of that day.
    pub end_of_day: bool,
}

/// Why a written time could not be read, or not placed in the session's zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("`{0}` is not a time: write HH:MM, for example 08:00")]
    NotTime(String),
    #[error("`{written}`: seconds are not accepted here; write HH:MM, for example {minute}")]
    Seconds { written: String, minute: String },
    #[error("`{0}` is not a possible time of day (hours 00-23, minutes 00-59)")]
    ImpossibleTime(String),
    #[error("`{0}` is not a date: write YYYY-MM-DD")]
    NotDate(String),
    #[error("`{0}` is not a possible date")]
    ImpossibleDate(String),
    #[error("`{0}`: only phase boundaries can be approximate (~); write an exact time")]
    Approximate(String),
    /// `+20`, `+-5m`, `+1h75m`: written after a phase's start, but not a duration.
    #[error(
        "`{0}` is not a time after the phase's start: write a whole number of minutes or hours and its unit, such as +20m, +1h or +1h05m"
    )]
    NotAfter(String),
    /// `+0m`, `+999h`.
    #[error(
        "`{0}` is out of range: a due after the phase's start is 1 minute to {max} hours after it (+1m to +{max}h)",
        max = AFTER_START_MAX_HOURS
    )]
    AfterOutOfRange(String),
    /// `+-5m`: before the start, which a due after it cannot say.
    #[error(
        "`{0}`: a due after the phase's start counts forward from it; write one before the start as a time (HH:MM)"
    )]
    AfterNegative(String),
    /// `~+20m`: the due follows its phase's start, approximate or not.
    #[error(
        "`{0}`: a due after the phase's start moves with that start when it is confirmed; write it without ~ (such as +20m)"
    )]
    AfterApproximate(String),
    #[error(
        "`{raw}` is not a time: write HH:MM on the session date, or YYYY-MM-DD HH:MM{}",
        if *.date_only { ", or a date YYYY-MM-DD" } else { "" }
    )]
    Unreadable { raw: String, date_only: bool },
    /// Skipped by a daylight-saving change.
    #[error(
        "{} does not exist in {tz}: the clocks skip it for daylight saving; pick a time outside the gap",
        .local.format("%Y-%m-%d %H:%M")
    )]
    Gap { local: NaiveDateTime, tz: Tz },
    /// Repeated by a daylight-saving change: the two UTC offsets it has.
    #[error(
        "{} is ambiguous in {tz}: it happens twice when the clocks go back (UTC offsets {} and {}); pick a time outside the repeated hour",
        .local.format("%Y-%m-%d %H:%M"), .offsets.0, .offsets.1
    )]
    Fold {
        local: NaiveDateTime,
        tz: Tz,
        offsets: (String, String),
    },
}

/// The longest a due may be written after its phase's start (`+24h`): the day's phases are hours
/// long, and a larger count is a typo (`+999h`), not a plan.
pub const AFTER_START_MAX_HOURS: i64 = 24;

/// Whether a written due counts from its phase's start (`+20m`; `~+20m` too, to refuse it with
/// its own reason) rather than naming a time.
pub fn is_after_start(raw: &str) -> bool {
    let s = raw.trim();
    s.strip_prefix('~')
        .unwrap_or(s)
        .trim_start()
        .starts_with('+')
}

/// Parse a due written after its phase's start: `+20m`, `+1h`, `+1h05m`, `+90m`. Whole minutes
/// only; minutes after hours are 00-59 (`+1h75m` is refused rather than read as 2h15m).
pub fn parse_after_start(raw: &str) -> Result<TimeDelta, TimeError> {
    let s = raw.trim();
    if s.starts_with('~') {
        return Err(TimeError::AfterApproximate(s.to_owned()));
    }
    let not = || TimeError::NotAfter(s.to_owned());
    let body = s.strip_prefix('+').ok_or_else(not)?;
    if body.trim_start().starts_with('-') {
        return Err(TimeError::AfterNegative(s.to_owned()));
    }
    // `+1h05m` -> ("1", Some("05")); `+20m` -> (None, "20").
    let number = |x: &str| -> Result<i64, TimeError> {
        if x.is_empty() || x.len() > 6 || !x.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not());
        }
        x.parse().map_err(|_| not())
    };
    let minutes = match body.split_once('h') {
        Some((h, "")) => number(h)? * 60,
        Some((h, m)) => {
            let m = number(m.strip_suffix('m').ok_or_else(not)?)?;
            if m > 59 {
                return Err(not());
            }
            number(h)? * 60 + m
        }
        None => number(body.strip_suffix('m').ok_or_else(not)?)?,
    };
    if !(1..=AFTER_START_MAX_HOURS * 60).contains(&minutes) {
        return Err(TimeError::AfterOutOfRange(s.to_owned()));
    }
    Ok(TimeDelta::minutes(minutes))
}

fn parse_time(s: &str) -> Result<NaiveTime, TimeError> {
    let (h, m) = s
        .split_once(':')
        .ok_or_else(|| TimeError::NotTime(s.to_owned()))?;
    let digits = |x: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&x.len()) && x.bytes().all(|b| b.is_ascii_digit())
    };
    // `09:59:45` is a time, only finer than these are written: say so, not "is not a time".
    if let Some((mm, ss)) = m.split_once(':')
        && digits(h, 1..=2)
        && digits(mm, 2..=2)
        && digits(ss, 2..=2)
    {
        return Err(TimeError::Seconds {
            written: s.to_owned(),
            minute: format!("{h}:{mm}"),
        });
    }
    if !digits(h, 1..=2) || !digits(m, 2..=2) {
        return Err(TimeError::NotTime(s.to_owned()));
    }
    let (h, m): (u32, u32) = (h.parse().unwrap_or(99), m.parse().unwrap_or(99));
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(|| TimeError::ImpossibleTime(s.to_owned()))
}

fn parse_date(s: &str) -> Result<NaiveDate, TimeError> {
    let mut it = s.splitn(3, '-');
    let (Some(y), Some(mo), Some(d)) = (it.next(), it.next(), it.next()) else {
        return Err(TimeError::NotDate(s.to_owned()));
    };
    let (Ok(y), Ok(mo), Ok(d)) = (y.parse::<i32>(), mo.parse::<u32>(), d.parse::<u32>()) else {
        return Err(TimeError::NotDate(s.to_owned()));
    };
    NaiveDate::from_ymd_opt(y, mo, d).ok_or_else(|| TimeError::ImpossibleDate(s.to_owned()))
}

/// Parse a session date (`2023-11-25`).
pub fn parse_session_date(s: &str) -> Result<NaiveDate, TimeError> {
    parse_date(s.trim())
}

impl TimeSpec {
    /// Parse a boundary or due time. `allow_date_only` admits a bare date (deadlines);
    /// `allow_approx` admits a leading `~` (phase boundaries).
    pub fn parse(raw: &str, allow_date_only: bool, allow_approx: bool) -> Result<Self, TimeError> {
        let s = raw.trim();
        let (approximate, s) = match s.strip_prefix('~') {
            Some(rest) if allow_approx => (true, rest.trim_start()),
            Some(_) => {
                return Err(TimeError::Approximate(raw.to_owned()));
            }
            None => (false, s),
        };
        if let Some((d, t)) = s.split_once([' ', 'T']) {
            let date = parse_date(d)?;
            let time = parse_time(t.trim())?;
            return Ok(Self {
                date: Some(date),
                time,
                approximate,
                end_of_day: false,
            });
        }
        if s.contains(':') {
            return Ok(Self {
                date: None,
                time: parse_time(s)?,
                approximate,
                end_of_day: false,
            });
        }
        if allow_date_only && s.contains('-') {
            let date = parse_date(s)?;
            let time = NaiveTime::from_hms_opt(23, 59, 0).expect("23:59 is a time");
            return Ok(Self {
                date: Some(date),
                time,
                approximate,
                end_of_day: true,
            });
        }
        Err(TimeError::Unreadable {
            raw: raw.to_owned(),
            date_only: allow_date_only,
        })
    }

    /// The local date and time this names, with `session_date` for bare times.
    pub fn local(&self, session_date: NaiveDate) -> NaiveDateTime {
        self.date.unwrap_or(session_date).and_time(self.time)
    }

    /// The UTC instant in `tz`. A local time skipped or repeated by a daylight-saving change is
    /// an error that says which, rather than a silent guess.
    pub fn resolve(&self, session_date: NaiveDate, tz: Tz) -> Result<DateTime<Utc>, TimeError> {
        resolve_local(self.local(session_date), tz)
    }
}

/// A local date-time in `tz` as a UTC instant, refusing gaps and folds.
pub fn resolve_local(local: NaiveDateTime, tz: Tz) -> Result<DateTime<Utc>, TimeError> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::None => Err(TimeError::Gap { local, tz }),
        LocalResult::Ambiguous(a, b) => Err(TimeError::Fold {
            local,
            tz,
            offsets: (a.format("%:z").to_string(), b.format("%:z").to_string()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_written_form() {
        let t = TimeSpec::parse("~11:00", false, true).unwrap();
        assert!(t.approximate && t.date.is_none());
        let t = TimeSpec::parse("2023-11-24 17:00", false, false).unwrap();
        assert_eq!(t.date, NaiveDate::from_ymd_opt(2023, 11, 24));
        let t = TimeSpec::parse("2023-11-22", true, false).unwrap();
        assert!(t.end_of_day);
        assert_eq!(t.time, NaiveTime::from_hms_opt(23, 59, 0).unwrap());
    }

    #[test]
    fn refuses_impossible_and_misplaced_times() {
        assert!(
            TimeSpec::parse("25:00", false, true)
                .unwrap_err()
                .to_string()
                .contains("not a possible time")
        );
        assert!(
            TimeSpec::parse("2023-02-30 08:00", false, true)
                .unwrap_err()
                .to_string()
                .contains("not a possible date")
        );
        assert!(
            TimeSpec::parse("~08:00", false, false)
                .unwrap_err()
                .to_string()
                .contains("approximate")
        );
        assert!(TimeSpec::parse("2023-11-22", false, true).is_err());
        assert!(TimeSpec::parse("eight", false, true).is_err());
    }

    #[test]
    fn a_due_after_the_phase_start_takes_minutes_and_hours_with_their_unit() {
        let m = |x: i64| TimeDelta::minutes(x);
        assert_eq!(parse_after_start("+20m"), Ok(m(20)));
        assert_eq!(parse_after_start(" +1h "), Ok(m(60)));
        assert_eq!(parse_after_start("+1h05m"), Ok(m(65)));
        assert_eq!(parse_after_start("+90m"), Ok(m(90)));
        assert_eq!(parse_after_start("+24h"), Ok(m(24 * 60)));
        assert_eq!(
            parse_after_start("+-5m"),
            Err(TimeError::AfterNegative("+-5m".into()))
        );
        for bad in [
            "+20", "+m", "+1h75m", "+1.5h", "+20 m", "+1h5", "+h05m", "20m",
        ] {
            assert_eq!(
                parse_after_start(bad),
                Err(TimeError::NotAfter(bad.trim().to_owned())),
                "{bad}"
            );
        }
        for far in ["+999h", "+0m", "+24h01m", "+1441m", "+999999m"] {
            assert_eq!(
                parse_after_start(far),
                Err(TimeError::AfterOutOfRange(far.to_owned())),
                "{far}"
            );
        }
        assert_eq!(
            parse_after_start("~+20m"),
            Err(TimeError::AfterApproximate("~+20m".into()))
        );
        assert!(is_after_start("~ +20m") && is_after_start("+20") && !is_after_start("08:20"));
    }
}
