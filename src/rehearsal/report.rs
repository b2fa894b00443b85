//! The rehearsal report: the fold of the rehearsal's journal, so an undone action never counts.
//! Per phase, the planned start against the (virtual) time it was reached (a phase that began
//! before the rehearsal started says so instead of a drift) and the time its steps took to
//! settle; steps done after their due time; steps still open at the end with their due times;
//! approximate boundaries confirmed late (by the app's rule, [`crate::app::confirm::late`]) or never.

use crate::journal::{Action, Event, Record, StepState};
use crate::runbook::Plan;
use crate::setup::state_of;
use crate::standing::{self, Tally};
use crate::text::clean_line;
use crate::timeline::Timeline;
use crate::zones;
use chrono::{DateTime, Utc};
use std::fmt::Write;

/// Markdown, for the end of a rehearsal and for `drillbook report` on a rehearsal journal.
/// How the rehearsal's clock was steered, from its `rehearsal_clock` events (none in older
/// journals: then nothing is said): the speeds it ran at, how often it was paused, and each
/// jump, since a phase reached by a jump was not lived through.
fn clock_changes(events: &[Event], tz: chrono_tz::Tz, day: chrono::NaiveDate) -> Option<String> {
    use crate::journal::ClockChange;
    let mut speeds: Vec<f64> = events
        .first()
        .and_then(|e| e.rehearsal)
        .map(|r| r.speed)
        .into_iter()
        .collect();
    let (mut pauses, mut jumps, mut any) = (0, Vec::new(), false);
    for e in events {
        let at = e.session_time();
        match &e.action {
            Action::RehearsalClock {
                change,
                speed,
                from,
                ..
            } => {
                any = true;
                match change {
                    ClockChange::Pause => pauses += 1,
                    ClockChange::Resume => {}
                    ClockChange::Speed => speeds.push(*speed),
                    ClockChange::Jump => jumps.push(format!(
                        "{} to {}",
                        from.map_or_else(|| "?".into(), |f| zones::hm_on(f, tz, day)),
                        zones::hm_on(at, tz, day)
                    )),
                }
            }
            // A writer attaching again may run at another speed.
            Action::Attach { .. } => speeds.extend(e.rehearsal.map(|r| r.speed)),
            _ => {}
        }
    }
    if !any {
        return None;
    }
    speeds.dedup();
    let speeds: Vec<String> = speeds.iter().map(|s| format!("x{s}")).collect();
    let mut line = format!("- Clock: {}", speeds.join(", then "));
    match pauses {
        0 => {}
        1 => line.push_str("; paused once"),
        n => {
            let _ = write!(line, "; paused {n} times");
        }
    }
    if !jumps.is_empty() {
        let _ = write!(
            line,
            "; jumped {} (what lay between was not lived through)",
            jumps.join(", ")
        );
    }
    line.push('.');
    Some(line)
}

pub fn render(plan: &Plan, events: &[Event]) -> String {
    let record = Record::from_events(events);
    // Dues after a phase's start (`+20m`) as the confirmations place them.
    let plan = &*crate::timeline::confirmed_plan(plan, &record);
    let s = &plan.session;
    let tz = s.tz;
    let day = s.date;
    let on = |t: DateTime<Utc>| zones::hm_on(t, tz, day);
    // Instants observed or reached: to the second, as their drift is counted.
    let at = |t: DateTime<Utc>| zones::hms_on(t, tz, day);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# REHEARSAL report - not a record of the real session\n"
    );
    let _ = writeln!(
        out,
        "{} ({})\n",
        clean_line(&s.title),
        plan.roles().join(", ")
    );
    // The rehearsal's own span, on its virtual clock.
    let started = events.first().map(Event::session_time);
    let ended = events.last().map(Event::session_time);
    let undone = events
        .iter()
        .filter(|e| matches!(e.action, Action::Undo { .. }))
        .count();
    if let (Some(a), Some(b)) = (started, ended) {
        let _ = writeln!(
            out,
            "- Rehearsed from {} to {} (session clock); {} operator action{}, {undone} undone (undone actions are left out below).",
            on(a),
            on(b),
            record.actions - undone,
            if record.actions - undone == 1 {
                ""
            } else {
                "s"
            },
        );
    }

    if let Some(line) = clock_changes(events, tz, day) {
        let _ = writeln!(out, "{line}");
    }

    let tl = Timeline::with_confirmations(s, &record);
    let _ = writeln!(out, "\n## Phases: planned vs reached\n");
    let mut rows = Vec::new();
    for (p, ph) in s.phases.iter().enumerate() {
        let (start, _) = tl.bounds_of(p);
        let t = &tl.transitions[start];
        let planned = format!("{}{}", if t.approximate { "~" } else { "" }, on(t.at));
        // An approximate start is reached when it is confirmed (the record's confirmation, so an
        // undone one does not count); a fixed one when the clock entered the phase.
        let reached = if t.approximate {
            tl.confirmed_at(start)
        } else {
            record
                .phases_entered
                .iter()
                .find(|(id, _)| *id == ph.id)
                .map(|(_, st)| st.at)
        };
        let before = started.is_some_and(|r0| t.at < r0);
        // A phase already under way when the rehearsal started was never reached by it: no
        // drift to measure (only a confirmation of an approximate start is one).
        let (r, d) = match reached {
            Some(r) if !before || t.approximate => (at(r), zones::drift(r - t.at)),
            _ if before => (
                format!(
                    "began before the rehearsal started ({})",
                    on(started.unwrap_or(t.at))
                ),
                "—".to_owned(),
            ),
            None if t.approximate => ("not confirmed".to_owned(), String::new()),
            _ => ("not reached".to_owned(), String::new()),
        };
        let settle = settled(plan, &record, p, reached.or(before.then_some(t.at)));
        rows.push(vec![
            clean_line(&ph.title).into_owned(),
            planned,
            r,
            d,
            settle,
        ]);
    }
    crate::mdtable::table(
        &mut out,
        &[
            "Phase",
            "Planned start",
            "Reached",
            "Drift",
            "Steps settled",
        ],
        &rows,
    );

    let _ = writeln!(out, "\n## Steps completed late\n");
    let mut late = 0;
    for st in &plan.steps {
        let (Some(due), Some(change)) = (st.due, record.state_of(&st.id)) else {
            continue;
        };
        if change.state == StepState::Done && change.stamp.at > due {
            late += 1;
            let _ = writeln!(
                out,
                "- {} ({}): due {}, done {} ({} late) by {}",
                clean_line(&st.title),
                clean_line(&st.id),
                on(due),
                at(change.stamp.at),
                zones::span(change.stamp.at - due),
                crate::text::md_text(&change.stamp.who())
            );
        }
    }
    if late == 0 {
        let _ = writeln!(out, "None.");
    }

    let _ = writeln!(out, "\n## Steps still open at the end\n");
    let mut open = 0;
    for st in &plan.steps {
        let state = state_of(plan, st, &record);
        if state.is_settled() {
            continue;
        }
        open += 1;
        let due = st.due.map_or_else(
            || "no due time".to_owned(),
            |d| {
                // A failed step is open for follow-up, not overdue: it was acted on.
                let over = if ended.is_some_and(|e| standing::overdue(state, Some(d), e)) {
                    " (overdue at the end)"
                } else {
                    ""
                };
                format!("due {}{over}", on(d))
            },
        );
        let _ = writeln!(
            out,
            "- {} {} {} ({}, {}, phase {}{}), {due}",
            state.glyph(),
            standing::open_word(state),
            clean_line(&st.title),
            clean_line(&st.id),
            st.role,
            s.phases[st.phase].id,
            if st.critical { ", critical" } else { "" }
        );
    }
    if open == 0 {
        let _ = writeln!(out, "None.");
    }

    let _ = writeln!(out, "\n## Boundaries confirmed late\n");
    let _ = writeln!(
        out,
        "An approximate boundary is late when confirmed {} or more after its planned time, the \
         window in which the app asks again about an early one.\n",
        zones::span(crate::app::confirm::EARLY)
    );
    let mut n = 0;
    for t in s.transitions().iter().filter(|t| t.approximate) {
        if let Some(c) = record.confirmation(&t.key) {
            if crate::app::confirm::late(c.planned, c.confirmed) {
                n += 1;
                let _ = writeln!(
                    out,
                    "- {}: planned {}, confirmed {} ({})",
                    s.transition_label(t),
                    on(c.planned),
                    at(c.confirmed),
                    zones::drift(c.confirmed - c.planned)
                );
            }
        } else {
            n += 1;
            let _ = writeln!(
                out,
                "- {}: planned {}, never confirmed",
                s.transition_label(t),
                on(t.at)
            );
        }
    }
    if n == 0 {
        let _ = writeln!(out, "None.");
    }
    out
}

/// How long phase `p`'s steps took to settle after it was reached: `all 7 in 47m00s`, or how many
/// are settled and open as every count says it (`1 of 11 settled, 10 open, 1 of them failed`:
/// [`Tally::phrase`]). Steps n/a by the runbook settle without anyone, so they do not set the
/// time.
fn settled(plan: &Plan, record: &Record, p: usize, reached: Option<DateTime<Utc>>) -> String {
    let steps: Vec<_> = plan.steps_in(p).map(|(_, st)| st).collect();
    if steps.is_empty() {
        return "no steps".to_owned();
    }
    let tally = Tally::of(steps.iter().map(|st| state_of(plan, st, record)));
    if tally.open() > 0 {
        return tally.phrase();
    }
    let last = steps
        .iter()
        .filter_map(|st| record.state_of(&st.id).map(|c| c.stamp.at))
        .max();
    match (last, reached) {
        (Some(l), Some(r)) => format!(
            "all {} in {}",
            steps.len(),
            zones::span((l - r).max(chrono::TimeDelta::zero()))
        ),
        (Some(_), None) => format!("all {} settled, phase not reached", steps.len()),
        (None, _) => format!("all {} n/a by the runbook", steps.len()),
    }
}
