//! `drillbook handover JOURNAL`: the handover Markdown; `--ack` records the incoming operator's
//! acknowledgement in the journal, as its one writer (refused while a `run` holds the lock).

use super::from_journal::{self, Loaded};
use super::{Failure, Outcome};
use crate::clock::{Clock, RehearsalClock};
use crate::handover::{self, Context};
use crate::journal::{Action, Journal, Meta, Record};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// Print the handover.
pub fn show(path: &Path, runbooks: &[PathBuf], at: Option<&str>) -> Outcome {
    let Loaded {
        replay,
        plan,
        hash_mismatch,
    } = from_journal::load_noting_torn(path, runbooks)?;
    let rehearsal = replay.is_rehearsal();
    let (now, record) = match at {
        None => (from_journal::now_for(&replay), replay.record),
        // The session as it stood at TIME: only the events journaled by then, on the session
        // clock (a rehearsal's virtual time), so nothing confirmed, failed or done later leaks in.
        Some(a) => {
            let now = at_instant(&plan, a)?;
            let record =
                Record::from_events(replay.events.iter().filter(|e| e.session_time() <= now));
            (now, record)
        }
    };
    let ctx = Context {
        now,
        local_tz: crate::zones::local_tz(),
        journal: path.display().to_string(),
        rehearsal,
        hash_mismatch,
    };
    let mut text = handover::render(&plan, &record, &ctx);
    text.push_str(&crate::forward::handover_section(
        &[path.to_owned()],
        &handover::Fmt::new(&plan, ctx.local_tz),
    ));
    Ok(crate::out::print(&crate::text::fold_markdown(&text, 80))?)
}

/// `--at`: a time of day on the session day (`10:30`, `10:30:15`), a date and time
/// (`2023-11-25 10:30[:15]`) or a phase id (its start), all in the session's zone, never the
/// host's. Times read as the confirm prompt reads them: `10:2` asks `02 or 20?`.
pub(super) fn at_instant(plan: &crate::runbook::Plan, a: &str) -> Result<DateTime<Utc>, Failure> {
    let s = &plan.session;
    let a = a.trim();
    if let Some(i) = s.phase_index(a) {
        return Ok(s.phases[i].start.at);
    }
    let (day, time) = match a.split_once([' ', 'T']) {
        Some((d, t)) => (
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok(),
            t.trim(),
        ),
        None => (Some(s.date), a),
    };
    let why = match (day, crate::app::confirm::time_of_day(time)) {
        (Some(day), Ok(t)) => {
            return crate::runbook::timespec::resolve_local(day.and_time(t), s.tz)
                .map_err(|e| Failure::usage(format!("--at: {e}")));
        }
        (None, _) => "not a date (YYYY-MM-DD)".to_owned(),
        (_, Err(_)) if !a.contains(':') => "not a time or a phase id".to_owned(),
        (_, Err(e)) => e.to_string(),
    };
    let ids: Vec<&str> = s.phases.iter().map(|p| p.id.as_str()).collect();
    Err(Failure::usage(format!(
        "--at `{}`: {why}; write HH:MM[:SS], YYYY-MM-DD HH:MM[:SS] or a phase id ({}), in {}",
        crate::text::clean_line(a),
        ids.join(", "),
        s.tz
    )))
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
    if let Some(x) = &fresh.exposure {
        crate::out::eprintln(x);
    }
    // In a rehearsal journal the acknowledgement carries the rehearsal stamp like every other
    // event in it: the session clock stopped at its last instant (jumped back there, since the
    // pause re-anchors wherever the running clock had got to).
    let clock: Box<dyn Clock> = match fresh.events.last().and_then(|e| e.rehearsal) {
        Some(r) => {
            let stopped = RehearsalClock::new(r.virtual_utc, r.speed);
            stopped.pause();
            stopped.jump_to(r.virtual_utc);
            Box::new(stopped)
        }
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
