//! `drillbook handover JOURNAL`: the handover Markdown; `--ack` records the incoming operator's
//! acknowledgement in the journal, as its one writer (refused while a `run` holds the lock).

use super::from_journal::{self, Loaded};
use super::{Failure, Outcome};
use crate::clock::{Clock, RehearsalState};
use crate::journal::handover::{self, Context};
use crate::journal::{Action, Journal, Meta};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Print the handover.
pub fn show(path: &Path, runbooks: &[PathBuf], at: Option<&str>) -> Outcome {
    let Loaded {
        replay,
        plan,
        hash_mismatch,
    } = from_journal::load_noting_torn(path, runbooks)?;
    let now = match at {
        None => from_journal::now_for(&replay),
        Some(a) => crate::journal::session_instant(plan.session.tz, a).ok_or_else(|| {
            Failure::usage(format!(
                "--at {}: expected YYYY-MM-DD HH:MM:SS in the session zone ({})",
                crate::text::clean_line(a),
                plan.session.tz
            ))
        })?,
    };
    let ctx = Context {
        now,
        local_tz: crate::zones::local_tz(),
        journal: path.display().to_string(),
        rehearsal: replay.is_rehearsal(),
        hash_mismatch,
    };
    let text = handover::render(&plan, &replay.record, &ctx);
    Ok(crate::out::print(&text)?)
}

/// A rehearsal's session clock, stopped at its last instant: an acknowledgement in a rehearsal
/// journal carries the rehearsal stamp like every other event in it.
struct Stopped {
    at: DateTime<Utc>,
    speed: f64,
}

impl Clock for Stopped {
    fn now(&self) -> DateTime<Utc> {
        self.at
    }
    fn real_until(&self, _t: DateTime<Utc>) -> Option<Duration> {
        None
    }
    fn rehearsal(&self) -> Option<RehearsalState> {
        Some(RehearsalState {
            speed: self.speed,
            paused: true,
        })
    }
}

/// `--ack`: append a `handover` event.
pub fn ack(
    path: &Path,
    runbooks: &[PathBuf],
    operator: Option<&str>,
    note: Option<String>,
) -> Outcome {
    let Loaded { replay, plan, .. } = from_journal::load(path, runbooks)?;
    let mut meta = Meta::for_plan(&plan, operator);
    // The roles the journal was written for, so the journal's default name still fits.
    meta.roles = from_journal::roles(&replay);
    let (mut journal, fresh) =
        Journal::open(path, meta).map_err(|e| Failure::new(e.to_string()))?;
    let clock: Box<dyn Clock> = match fresh.events.last().and_then(|e| e.rehearsal) {
        Some(r) => Box::new(Stopped {
            at: r.virtual_utc,
            speed: r.speed,
        }),
        None => Box::new(crate::clock::SystemClock),
    };
    let ev = journal
        .append(Action::Handover { note }, clock.as_ref())
        .map_err(|e| {
            Failure::new(format!(
                "{}: the acknowledgement was NOT recorded: {e}",
                path.display()
            ))
        })?;
    crate::out::println(&format!(
        "handover acknowledged by {} at {}: event #{} in {}",
        ev.who(),
        handover::both(ev.session_time(), plan.session.tz, crate::zones::local_tz()),
        ev.seq,
        path.display()
    ))?;
    Ok(())
}
