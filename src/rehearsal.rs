//! Rehearsal: the session in accelerated time. Where it starts, moving the schedule to another
//! day, and the rehearsal report (planned vs reached, late steps, late confirmations). The
//! headless run is the app's own loop with a line printer (`run::lines`).
//!
//! Nothing here writes anywhere but a rehearsal journal: every event written through a
//! `RehearsalClock` carries the rehearsal stamp (see `journal::Event::rehearsal`).

pub mod report;

use crate::runbook::Plan;
use crate::runbook::timespec::{TimeError, TimeSpec, resolve_local};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

/// How far before the first phase of the session day a rehearsal starts by default.
pub const DEFAULT_LEAD_IN: Duration = Duration::minutes(5);
/// How far before a boundary `--start-at PHASE` and the jump key land.
pub const JUST_BEFORE: Duration = Duration::minutes(1);

/// The default speed: an hour of session in a minute.
pub const DEFAULT_SPEED: f64 = 60.0;

/// Why a rehearsal cannot start where asked, or cannot move to the date asked.
#[derive(Debug, thiserror::Error)]
pub enum RehearsalError {
    /// `--start-at` is neither a time nor a phase: the phases it could name.
    #[error("--start-at: {time}; or name a phase: {}", .phases.join(", "))]
    StartAt {
        time: TimeError,
        phases: Vec<String>,
    },
    #[error("--start-at: {0}")]
    StartAtZone(TimeError),
    #[error("--date {0}: {1}")]
    Date(NaiveDate, TimeError),
}

/// Where `--start-at` points.
pub fn start_instant(plan: &Plan, start_at: Option<&str>) -> Result<DateTime<Utc>, RehearsalError> {
    let s = &plan.session;
    let Some(spec) = start_at else {
        let first = s
            .day_phases()
            .next()
            .map_or(s.phases[0].start.at, |(_, p)| p.start.at);
        return Ok(first - DEFAULT_LEAD_IN);
    };
    if let Some(i) = s.phase_index(spec) {
        return Ok(s.phases[i].start.at - JUST_BEFORE);
    }
    let t = TimeSpec::parse(spec, false, false).map_err(|time| RehearsalError::StartAt {
        time,
        phases: s.phases.iter().map(|p| p.id.clone()).collect(),
    })?;
    t.resolve(s.date, s.tz).map_err(RehearsalError::StartAtZone)
}

/// The plan with its whole schedule moved to `date` (same local times, re-resolved in the session
/// zone, so a move across a daylight-saving change keeps the local timetable).
pub fn move_to_date(plan: &Plan, date: NaiveDate) -> Result<Plan, RehearsalError> {
    let s = &plan.session;
    let days = date - s.date;
    let tz = s.tz;
    let shift = |t: DateTime<Utc>| -> Result<DateTime<Utc>, RehearsalError> {
        let local = tz.from_utc_datetime(&t.naive_utc()).naive_local() + days;
        resolve_local(local, tz).map_err(|m| RehearsalError::Date(date, m))
    };
    let mut out = plan.clone();
    out.session.date = date;
    for p in &mut out.session.phases {
        p.start.at = shift(p.start.at)?;
        p.end.at = shift(p.end.at)?;
    }
    for d in &mut out.session.deadlines {
        d.due = shift(d.due)?;
        if let Some(t) = d.target {
            d.target = Some(shift(t)?);
        }
    }
    for st in &mut out.steps {
        if let Some(due) = st.due {
            st.due = Some(shift(due)?);
        }
    }
    Ok(out)
}

/// One journal's rehearsal clock, for telling one rehearsal from two.
pub struct HostClock<'a> {
    pub path: &'a std::path::Path,
    /// Its session clock at an instant common to all the journals compared.
    pub at_common: DateTime<Utc>,
    /// Its session clock as the message names it.
    pub shown: (&'static str, DateTime<Utc>),
    pub speed: f64,
}

/// How far apart the session clocks of one team rehearsal may be: hosts started by hand a few
/// seconds apart at 60x are minutes apart in session time.
pub const SAME_REHEARSAL: Duration = Duration::minutes(15);

/// Two journals that are not one rehearsal, named with their clocks, and what needs one clock.
#[derive(Debug, thiserror::Error)]
#[error("{first} and {other} are different rehearsals: {why}")]
pub struct TwoRehearsals {
    pub first: String,
    pub other: String,
    pub why: String,
}

/// Whether two rehearsal clocks (speed, session instant at a common moment) are one rehearsal's:
/// the same speed, within [`SAME_REHEARSAL`] of each other.
pub fn same_rehearsal(a: (f64, DateTime<Utc>), b: (f64, DateTime<Utc>)) -> bool {
    (a.0 - b.0).abs() <= f64::EPSILON * a.0 && (a.1 - b.1).abs() <= SAME_REHEARSAL
}

/// Refused, naming the first two that differ, unless every clock has the same speed and is
/// within [`SAME_REHEARSAL`] of the first: `why` says what needs one clock.
pub fn one_rehearsal_of(
    clocks: &[HostClock],
    tz: chrono_tz::Tz,
    why: &str,
) -> Result<(), TwoRehearsals> {
    let Some(first) = clocks.first() else {
        return Ok(());
    };
    for other in &clocks[1..] {
        if !same_rehearsal(
            (first.speed, first.at_common),
            (other.speed, other.at_common),
        ) {
            let name = |c: &HostClock| {
                format!(
                    "{} (x{}, {} {})",
                    c.path.display(),
                    c.speed,
                    c.shown.0,
                    crate::zones::day_hm(c.shown.1, tz)
                )
            };
            return Err(TwoRehearsals {
                first: name(first),
                other: name(other),
                why: why.to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        crate::runbook::load_bundled(&["ep".into()]).unwrap()
    }

    #[test]
    fn default_start_is_just_before_the_session_day() {
        let p = plan();
        let t = start_instant(&p, None).unwrap();
        assert_eq!(crate::zones::hm(t, p.session.tz), "07:55 HKT");
        let t = start_instant(&p, Some("failover")).unwrap();
        assert_eq!(crate::zones::hm(t, p.session.tz), "09:59 HKT");
        let t = start_instant(&p, Some("10:30")).unwrap();
        assert_eq!(crate::zones::hm(t, p.session.tz), "10:30 HKT");
        assert!(
            start_instant(&p, Some("lunch"))
                .unwrap_err()
                .to_string()
                .contains("failover")
        );
    }

    #[test]
    fn moving_the_date_keeps_local_times() {
        let p = plan();
        let moved = move_to_date(&p, NaiveDate::from_ymd_opt(2024, 3, 2).unwrap()).unwrap();
        let primary = &moved.session.phases[1];
        assert_eq!(
            crate::zones::day_hm(primary.start.at, p.session.tz),
            "Sat 02 Mar 2024 08:00 HKT"
        );
        assert_eq!(
            moved.session.date,
            NaiveDate::from_ymd_opt(2024, 3, 2).unwrap()
        );
    }
}
