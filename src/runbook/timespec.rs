//! Times as runbooks write them (`08:00`, `~11:00`, `2023-11-24 17:00`, `2023-11-22`) and their
//! resolution to UTC instants in the session's zone, daylight saving included.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
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
}
