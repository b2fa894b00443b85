//! The rehearsal report: per phase, the planned start against the (virtual) time it was reached;
//! steps completed after their due time; approximate boundaries confirmed after their planned time.

use crate::journal::{Record, StepState};
use crate::runbook::Plan;
use crate::text::clean_line;
use crate::zones;
use std::fmt::Write;

/// Markdown, for the end of a rehearsal and for `drillbook report` on a rehearsal journal.
pub fn render(plan: &Plan, record: &Record) -> String {
    let tz = plan.session.tz;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# REHEARSAL report - not a record of the real session\n"
    );
    let _ = writeln!(
        out,
        "{} ({})\n",
        clean_line(&plan.session.title),
        plan.roles().join(", ")
    );
    let _ = writeln!(out, "## Phases: planned vs reached\n");
    let _ = writeln!(out, "| Phase | Planned start | Reached | Drift |");
    let _ = writeln!(out, "| --- | --- | --- | --- |");
    for p in &plan.session.phases {
        let reached = record
            .phases_entered
            .iter()
            .find(|(id, _)| *id == p.id)
            .map(|(_, s)| s.at);
        let planned = format!(
            "{}{}",
            if p.start.approximate { "~" } else { "" },
            zones::hm_on(p.start.at, tz, plan.session.date)
        );
        let (r, d) = reached.map_or_else(
            || ("not reached".to_owned(), String::new()),
            |t| {
                (
                    zones::hm_on(t, tz, plan.session.date),
                    zones::signed_span(t - p.start.at),
                )
            },
        );
        let _ = writeln!(out, "| {} | {planned} | {r} | {d} |", clean_line(&p.title));
    }
    let _ = writeln!(out, "\n## Steps completed late\n");
    let mut late = 0;
    for s in &plan.steps {
        let (Some(due), Some(change)) = (s.due, record.state_of(&s.id)) else {
            continue;
        };
        if change.state == StepState::Done && change.stamp.at > due {
            late += 1;
            let _ = writeln!(
                out,
                "- {} ({}): due {}, done {} ({} late) by {}",
                clean_line(&s.title),
                s.id,
                zones::hm(due, tz),
                zones::hm(change.stamp.at, tz),
                zones::span(change.stamp.at - due),
                clean_line(&change.stamp.who())
            );
        }
    }
    if late == 0 {
        let _ = writeln!(out, "None.");
    }
    let _ = writeln!(out, "\n## Boundaries confirmed late\n");
    let mut n = 0;
    for t in plan.session.transitions().iter().filter(|t| t.approximate) {
        if let Some(c) = record.confirmation(&t.key) {
            if c.confirmed > c.planned {
                n += 1;
                let _ = writeln!(
                    out,
                    "- {}: planned {}, confirmed {} ({})",
                    plan.session.transition_label(t),
                    zones::hm(c.planned, tz),
                    zones::hm(c.confirmed, tz),
                    zones::signed_span(c.confirmed - c.planned)
                );
            }
        } else {
            n += 1;
            let _ = writeln!(
                out,
                "- {}: planned {}, never confirmed",
                plan.session.transition_label(t),
                zones::hm(t.at, tz)
            );
        }
    }
    if n == 0 {
        let _ = writeln!(out, "None.");
    }
    out
}
