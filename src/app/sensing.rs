//! The steps' checks in the app: `r` runs the selected step's check, automatic checks (`every:`)
//! start when [`Schedule::due`](crate::check::schedule::Schedule::due) says so on the wall
//! clock, and a result is journaled as [`crate::check::actions_for`] says: the `check` event
//! (its captured values filed as the step's sensed evidence by the record's fold) and, for
//! `settle: on_pass`, the step done by the check. A failed check never marks a step failed.
//!
//! Nothing here runs a probe: `update` returns [`Effect::RunCheck`], the loop runs it in a task
//! and sends the result back as [`Message::Checked`](super::Message::Checked).

use super::{Effect, Model, Tone};
use crate::check::{self, CheckResult};
use crate::journal::{Action, CheckOutcome};
use crate::text::clean_line;
use chrono::{DateTime, Utc};

/// `r` on step `i`: start its check, or say why not.
pub(super) fn run_key(m: &mut Model, i: usize) -> Vec<Effect> {
    let s = &m.plan.steps[i];
    let title = clean_line(&s.title).into_owned();
    let Some(c) = &s.check else {
        m.say(
            format!("\"{title}\" has no check to run: nothing here senses it (record what you see with e or n)"),
            Tone::Info,
        );
        return Vec::new();
    };
    let kind = c.kind();
    let timeout = check::spec::duration_words(c.timeout);
    if !m.sensing {
        m.say("checks do not run in this view", Tone::Error);
        return Vec::new();
    }
    if m.checks.is_running(&s.id) {
        m.say(
            format!("the {kind} check of \"{title}\" is already running; its result shows here"),
            Tone::Info,
        );
        return Vec::new();
    }
    let id = s.id.clone();
    m.checks.started(&id, m.wall);
    m.asked.insert(id);
    m.say(
        format!("checking \"{title}\" ({kind} check, up to {timeout})…"),
        Tone::Info,
    );
    vec![Effect::RunCheck { step: i }]
}

/// The wall clock moved on: the selected step's check age is redrawn when its text changes
/// (also while a rehearsal is paused and the session clock stands still), and the automatic
/// checks now due are started.
pub(super) fn wall_clock(m: &mut Model, wall: DateTime<Utc>, now: DateTime<Utc>) -> Vec<Effect> {
    let age = |m: &Model| {
        let id = &m.plan.steps[m.cursor?].id;
        m.record
            .last_check(id)
            .map(|_| check::summary_line(&m.record, id, m.wall))
    };
    let before = age(m);
    m.wall = wall;
    if age(m) != before {
        m.changed = true;
    }
    due(m, now)
}

/// The automatic checks due now (session clock `now`, wall clock as last told), started.
fn due(m: &mut Model, now: DateTime<Utc>) -> Vec<Effect> {
    if !m.sensing || m.read_only.is_some() {
        return Vec::new();
    }
    let due = m.checks.due(&m.plan, &m.timeline, &m.record, now, m.wall);
    let mut out = Vec::with_capacity(due.len());
    for i in due {
        m.checks.started(&m.plan.steps[i].id, m.wall);
        out.push(Effect::RunCheck { step: i });
    }
    if !out.is_empty() {
        // The detail pane says a check is running.
        m.changed = true;
    }
    out
}

/// A check's result came back: it is no longer running, and the journal gets what it saw.
pub(super) fn checked(m: &mut Model, result: &CheckResult) -> Vec<Effect> {
    m.checks.finished(&result.step);
    m.changed = true;
    check::actions_for(&m.plan, &m.record, result)
        .into_iter()
        .map(Effect::Append)
        .collect()
}

/// A `check` event is on disk (or could not be written): when the operator asked for it with
/// `r`, what it saw goes on the status line; an automatic run stays in the detail pane (a
/// settled step says so itself with its own `recorded:`).
pub(super) fn answered(m: &mut Model, action: &Action, error: Option<&str>) -> bool {
    let Action::Check {
        step,
        outcome,
        detail,
        ..
    } = action
    else {
        return false;
    };
    if !m.asked.remove(step) && error.is_none() {
        return true;
    }
    let d = m.describe(action);
    if let Some(e) = error {
        m.say(format!("NOT recorded: {d}: {}", clean_line(e)), Tone::Error);
        return true;
    }
    let tone = match outcome {
        CheckOutcome::Pass => Tone::Ok,
        CheckOutcome::NotConfigured | CheckOutcome::Refused | CheckOutcome::NotInPhase => {
            Tone::Info
        }
        _ => Tone::Error,
    };
    m.say(
        format!("recorded: {d} · {}", check::excerpt(detail, 200)),
        tone,
    );
    true
}
