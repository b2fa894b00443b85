//! Confirming an approximate boundary as it happened: the prompt's text is the observed time
//! (`HH:MM` or `HH:MM:SS` in the session zone, prefilled with the time `c` was pressed) and an
//! optional note after it. A time later than now is refused; one well before the planned time, or
//! before the phase it ends had started, is asked about again with the reason.

use super::Model;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// How far before the planned time a confirmation is asked about again. The failover window is
/// an hour; finishing half an hour early is possible but worth a second look.
pub const EARLY: TimeDelta = TimeDelta::minutes(30);

/// Whether a confirmation at `at` is late for an approximate boundary planned at `planned`:
/// [`EARLY`] or more after it, the mirror of what [`doubt`] asks again about. "~11:00" is
/// approximate, so 11:01 is on plan.
pub fn late(planned: DateTime<Utc>, at: DateTime<Utc>) -> bool {
    at >= planned + EARLY
}

/// What the confirm prompt's text says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

/// `11:06` or `11:06:30` (hours 0-23, one digit or two), else what is wrong with it. Minutes
/// and seconds take two digits: `10:2` is a typo for 10:20 as likely as for 10:02, and a
/// boundary confirmed 18 minutes off is worse than a prompt that asks again.
pub fn time_of_day(word: &str) -> Result<NaiveTime, TimeOfDayError> {
    let parts: Vec<&str> = word.split(':').collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let hour = |s: &str| match s.parse::<u32>() {
        Ok(v) if digits(s) && s.len() <= 2 && v <= 23 => Ok(v),
        _ => Err(TimeOfDayError::Hour(s.to_owned())),
    };
    let two = |s: &str, what: &'static str| {
        if s.len() == 1 && digits(s) {
            return Err(TimeOfDayError::OneDigit {
                what,
                v: s.to_owned(),
            });
        }
        match s.parse::<u32>() {
            Ok(v) if digits(s) && s.len() == 2 && v <= 59 => Ok(v),
            _ => Err(TimeOfDayError::Range {
                what,
                v: s.to_owned(),
            }),
        }
    };
    let t = match parts.as_slice() {
        [h, m] => NaiveTime::from_hms_opt(hour(h)?, two(m, "minutes")?, 0),
        [h, m, s] => NaiveTime::from_hms_opt(hour(h)?, two(m, "minutes")?, two(s, "seconds")?),
        _ => None,
    };
    t.ok_or(TimeOfDayError::Shape)
}

/// What is wrong with the time word of the confirmation prompt.
#[derive(Debug, thiserror::Error)]
pub enum TimeOfDayError {
    #[error("the hour `{}` is not 0-23", crate::text::clean_line(.0))]
    Hour(String),
    #[error("{what} take two digits (`{v}`: 0{v} or {v}0?)")]
    OneDigit { what: &'static str, v: String },
    #[error("{what} `{}` are not 00-59", crate::text::clean_line(.v))]
    Range { what: &'static str, v: String },
    #[error("not a time of day")]
    Shape,
}

/// Why the confirmation prompt's text was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error(
        "`{}`: {why}. Start with the time it was observed, HH:MM or HH:MM:SS, then an optional note",
        crate::text::clean_line(.word)
    )]
    NotTime { word: String, why: TimeOfDayError },
    #[error("{word} does not exist on {day} in {tz} (a clock change)")]
    Skipped {
        word: String,
        day: NaiveDate,
        tz: Tz,
    },
    /// `now` as the session zone shows it.
    #[error("{word} is later than now ({now}): type the time it was observed")]
    Future { word: String, now: String },
}

/// Read the prompt's text: the observed time first (empty text: `pressed`, when `c` was
/// pressed), then an optional note. The time is on the session-zone day of `now` and may not be
/// later than `now`.
pub fn parse(
    text: &str,
    pressed: DateTime<Utc>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Observed, ConfirmError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Observed {
            at: pressed,
            note: None,
        });
    }
    let (word, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let t = time_of_day(word).map_err(|why| ConfirmError::NotTime {
        word: word.to_owned(),
        why,
    })?;
    let day = tz.from_utc_datetime(&now.naive_utc()).date_naive();
    let at = tz
        .from_local_datetime(&day.and_time(t))
        .earliest()
        .ok_or_else(|| ConfirmError::Skipped {
            word: word.to_owned(),
            day,
            tz,
        })?
        .with_timezone(&Utc);
    if at > now {
        return Err(ConfirmError::Future {
            word: word.to_owned(),
            now: crate::zones::hms(now, tz),
        });
    }
    let note = rest.trim();
    Ok(Observed {
        at,
        note: (!note.is_empty()).then(|| note.to_owned()),
    })
}

/// Why a confirmation at `at` deserves a second look, if it does: it is before the phase the
/// boundary ends had started, or [`EARLY`] or more before the planned time.
pub fn doubt(m: &Model, transition: usize, at: DateTime<Utc>) -> Option<String> {
    let s = &m.plan.session;
    let tz = s.tz;
    let t = &m.timeline.transitions[transition];
    if let Some(p) = t.ending {
        let (start, _) = m.timeline.bounds_of(p);
        let started = m.timeline.effective(start);
        if at < started {
            return Some(format!(
                "{} is before {} started ({})",
                crate::zones::hms(at, tz),
                crate::text::clean_line(&s.phases[p].title),
                crate::zones::hm(started, tz)
            ));
        }
    }
    if at <= t.at - EARLY {
        return Some(format!(
            "{} is {} before the planned ~{}",
            crate::zones::hms(at, tz),
            crate::zones::span(t.at - at),
            crate::zones::hm(t.at, tz)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hkt(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Hong_Kong
            .with_ymd_and_hms(2023, 11, 25, h, m, s)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_observed_time_and_a_note() {
        let tz = chrono_tz::Asia::Hong_Kong;
        let now = hkt(11, 8, 5);
        let pressed = hkt(11, 8, 0);
        assert_eq!(
            parse("", pressed, tz, now).unwrap(),
            Observed {
                at: pressed,
                note: None
            }
        );
        assert_eq!(
            parse("11:06 DR completed on OMD-C", pressed, tz, now).unwrap(),
            Observed {
                at: hkt(11, 6, 0),
                note: Some("DR completed on OMD-C".into())
            }
        );
        assert_eq!(
            parse("9:05:30", pressed, tz, now).unwrap().at,
            hkt(9, 5, 30)
        );
        for bad in [
            "DR done", "11:60", "24:00", "11", "1:2:3:4", "11:0a", "10:2", "10:02:5", "10:002",
            "+1:02",
        ] {
            let e = parse(bad, pressed, tz, now).unwrap_err().to_string();
            assert!(e.contains("HH:MM"), "{bad}: {e}");
        }
        // A one-digit minute is refused, saying what was wrong and what it may have meant.
        let e = parse("10:2 DR completed", pressed, tz, now)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("`10:2`: minutes take two digits (`2`: 02 or 20?)."),
            "{e}"
        );
        let e = parse("10:20:7", pressed, tz, now).unwrap_err().to_string();
        assert!(e.contains("seconds take two digits"), "{e}");
        let e = parse("25:00", pressed, tz, now).unwrap_err().to_string();
        assert!(e.contains("the hour `25` is not 0-23"), "{e}");
        let e = parse("11:09", pressed, tz, now).unwrap_err().to_string();
        assert!(e.contains("later than now (11:08:05 HKT)"), "{e}");
    }
}
