//! The evidence report, for the HSN Result Form and the firm's internal report: per phase and
//! per system, the result at each site, reconnect and logon times from the evidence fields,
//! issues with their times, references and contacts. Markdown, or CSV (one row per step and per
//! evidence value) for a spreadsheet.

use super::event::StepState;
use super::handover::{Context, Fmt, REHEARSAL_LABEL, state_of, warnings};
use super::record::Record;
use crate::runbook::{Plan, Step};
use crate::text::clean_line;
use crate::zones;
use chrono_tz::Tz;
use std::fmt::Write;

/// The systems in the order the circulars name them; others follow alphabetically.
const SYSTEM_ORDER: [&str; 5] = ["OTP-C", "OTP-CSC", "OMD-C", "OMD-CC", "HSN"];

/// The label for steps without a `system`.
const NO_SYSTEM: &str = "(general)";

/// The systems a step is counted under: each it names, else the general row.
fn systems_of(step: &Step) -> impl Iterator<Item = &str> {
    let none = step.systems.is_empty().then_some(NO_SYSTEM);
    step.systems.iter().map(String::as_str).chain(none)
}

/// The systems of a step as one cell: `OMD-C, OMD-CC`.
fn system_of(step: &Step) -> String {
    systems_of(step).collect::<Vec<_>>().join(", ")
}

/// The systems the plan's steps exercise, in circular order.
pub fn systems(plan: &Plan) -> Vec<String> {
    let mut v: Vec<String> = plan
        .steps
        .iter()
        .flat_map(systems_of)
        .map(str::to_owned)
        .collect();
    v.sort_by_key(|s| {
        (
            SYSTEM_ORDER
                .iter()
                .position(|x| x == s)
                .unwrap_or(SYSTEM_ORDER.len() + usize::from(s == NO_SYSTEM)),
            s.clone(),
        )
    });
    v.dedup();
    v
}

/// The result of one system in one phase.
pub fn cell(plan: &Plan, record: &Record, phase: usize, system: &str) -> Option<String> {
    let states: Vec<StepState> = plan
        .steps_in(phase)
        .filter(|(_, s)| systems_of(s).any(|x| x == system))
        .map(|(_, s)| state_of(plan, s, record))
        .collect();
    if states.is_empty() {
        return None;
    }
    let n = states.len();
    let count = |w: StepState| states.iter().filter(|&&s| s == w).count();
    let failed = count(StepState::Failed);
    let done = count(StepState::Done);
    let open = states.iter().filter(|s| !s.is_closed()).count();
    Some(if failed > 0 {
        format!("FAILED ({failed} of {n} failed)")
    } else if open > 0 {
        format!("incomplete ({open} of {n} open)")
    } else if done > 0 {
        format!("success ({done} of {n} done)")
    } else {
        format!("not done ({n} skipped or n/a)")
    })
}

/// Whether an evidence field holds a time worth listing as a reconnect or logon time.
pub fn is_time_field(field: &str) -> bool {
    let f = field.to_lowercase();
    f.contains("time")
        || f.contains("reconnect")
        || f.contains("resumed")
        || f.ends_with(" at")
        || f.contains(" at ")
}

/// Markdown cells: no pipes or newlines.
fn md(s: &str) -> String {
    clean_line(s).replace('|', "\\|")
}

/// The report as Markdown.
pub fn render_md(plan: &Plan, record: &Record, ctx: &Context) -> String {
    let s = &plan.session;
    let tz = s.tz;
    let f = Fmt::new(plan, ctx.local_tz);
    let mut out = String::new();
    if ctx.rehearsal {
        let _ = writeln!(out, "# {REHEARSAL_LABEL}\n");
    }
    let _ = writeln!(out, "# Evidence report: {}\n", md(&s.title));
    warnings(&mut out, plan, ctx);
    let _ = writeln!(
        out,
        "- Session: `{}`, {}",
        md(&s.id),
        s.date.format("%a %d %b %Y")
    );
    let _ = writeln!(out, "- Roles: {}", plan.roles().join(", "));
    let _ = writeln!(out, "- Journal: `{}`", md(&ctx.journal));
    let _ = writeln!(out, "- Written at: {}", f.at(ctx.now));
    let _ = writeln!(
        out,
        "- Times are {tz}; the reader's zone in brackets where it differs."
    );

    let phases: Vec<usize> = (0..s.phases.len())
        .filter(|&p| plan.steps_in(p).next().is_some())
        .collect();
    let systems = systems(plan);
    let _ = writeln!(out, "\n## Result by system and phase\n");
    let _ = write!(out, "| System |");
    for &p in &phases {
        let _ = write!(out, " {} |", md(&s.phases[p].title));
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "|{}", " --- |".repeat(phases.len() + 1));
    for sys in &systems {
        let _ = write!(out, "| {} |", md(sys));
        for &p in &phases {
            let c = cell(plan, record, p, sys).unwrap_or_else(|| "—".into());
            let _ = write!(out, " {c} |");
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "\n## Steps and evidence by phase");
    for &p in &phases {
        let ph = &s.phases[p];
        let _ = writeln!(
            out,
            "\n### {} ({} to {}{})\n",
            md(&ph.title),
            f.hm(ph.start.at),
            if ph.end.approximate { "~" } else { "" },
            f.hm(ph.end.at)
        );
        let _ = writeln!(out, "| Step | System | State | By, at | Evidence |");
        let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
        for (_, step) in plan.steps_in(p) {
            let state = state_of(plan, step, record);
            let stamp = record.state_of(&step.id).map_or_else(String::new, |c| {
                format!("{}, {}", md(&c.stamp.who()), f.at(c.stamp.at))
            });
            let ev: Vec<String> = step
                .evidence
                .iter()
                .filter_map(|field| {
                    record
                        .evidence_of(&step.id, field)
                        .map(|e| format!("{}: {}", md(field), md(&e.value)))
                })
                .collect();
            let _ = writeln!(
                out,
                "| {} (`{}`) | {} | {} {} | {stamp} | {} |",
                md(&step.title),
                step.id,
                md(&system_of(step)),
                state.glyph(),
                state.word(),
                ev.join("; ")
            );
        }
    }

    let _ = writeln!(out, "\n## Reconnect, logon and other recorded times\n");
    let mut n = 0;
    for &p in &phases {
        for (_, step) in plan.steps_in(p) {
            for field in step.evidence.iter().filter(|x| is_time_field(x)) {
                if let Some(e) = record.evidence_of(&step.id, field) {
                    if n == 0 {
                        let _ =
                            writeln!(out, "| Phase | System | Step | Field | Value | Recorded |");
                        let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- |");
                    }
                    n += 1;
                    let _ = writeln!(
                        out,
                        "| {} | {} | `{}` | {} | {} | {} |",
                        s.phases[p].id,
                        md(&system_of(step)),
                        step.id,
                        md(field),
                        md(&e.value),
                        f.at(e.stamp.at)
                    );
                }
            }
        }
    }
    if n == 0 {
        let _ = writeln!(out, "None recorded.");
    }

    let _ = writeln!(out, "\n## Issues\n");
    let mut issues: Vec<(chrono::DateTime<chrono::Utc>, String)> = Vec::new();
    for step in &plan.steps {
        if let Some(c) = record.state_of(&step.id)
            && c.state == StepState::Failed
        {
            issues.push((
                c.stamp.at,
                format!(
                    "FAILED {} (`{}`, {}) by {}: {}",
                    md(&step.title),
                    step.id,
                    md(&system_of(step)),
                    md(&c.stamp.who()),
                    md(c.note.as_deref().unwrap_or("(no note)"))
                ),
            ));
        }
    }
    for note in &record.notes {
        let on = note
            .step
            .as_ref()
            .map_or_else(|| "session".to_owned(), |st| format!("`{}`", md(st)));
        issues.push((
            note.stamp.at,
            format!(
                "note on {on} by {}: {}",
                md(&note.stamp.who()),
                md(&note.text)
            ),
        ));
    }
    for nf in record.notifications.iter().filter(|n| !n.ok) {
        issues.push((
            nf.stamp.at,
            format!(
                "notification `{}` FAILED on {}: {}",
                md(&nf.key),
                md(&nf.channel),
                md(nf.error.as_deref().unwrap_or(""))
            ),
        ));
    }
    issues.sort_by_key(|(t, _)| *t);
    if issues.is_empty() {
        let _ = writeln!(out, "None.");
    }
    for (t, text) in issues {
        let _ = writeln!(out, "- {}: {text}", f.at(t));
    }

    let _ = writeln!(out, "\n## Boundaries confirmed\n");
    let mut any = false;
    for t in s.transitions().iter().filter(|t| t.approximate) {
        any = true;
        match record.confirmation(&t.key) {
            Some(c) => {
                let _ = writeln!(
                    out,
                    "- {}: planned ~{}, confirmed {} ({}) by {}",
                    s.transition_label(t),
                    zones::hm(c.planned, tz),
                    f.at(c.confirmed),
                    zones::signed_span(c.confirmed - c.planned),
                    md(&c.stamp.who())
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "- {}: planned ~{}, not confirmed",
                    s.transition_label(t),
                    zones::hm(t.at, tz)
                );
            }
        }
    }
    if !any {
        let _ = writeln!(out, "No approximate boundaries.");
    }

    let _ = writeln!(out, "\n## References\n");
    for r in &s.references {
        let date = r
            .date
            .map_or_else(String::new, |d| format!(" ({})", d.format("%d %b %Y")));
        let _ = writeln!(out, "- {}: {}{date}", md(&r.id), md(&r.title));
    }
    if s.references.is_empty() {
        let _ = writeln!(out, "None.");
    }
    let _ = writeln!(out, "\n## Contacts\n");
    let roles = plan.roles();
    for c in s.contacts.iter().filter(|c| c.concerns(&roles)) {
        let mut line = format!("- {}", md(&c.name));
        if let Some(p) = &c.phone {
            let _ = write!(line, ", phone {}", md(p));
        }
        if let Some(e) = &c.email {
            let _ = write!(line, ", e-mail {}", md(e));
        }
        let _ = writeln!(out, "{line}");
    }
    out
}

/// One CSV field: control characters neutralised, quoted when needed, and a leading `=`, `+`,
/// `-` or `@` defused so a spreadsheet does not run it as a formula.
fn csv(s: &str) -> String {
    let mut v = clean_line(s).into_owned();
    if v.starts_with(['=', '+', '-', '@']) {
        v.insert(0, '\'');
    }
    if v.contains([',', '"']) || v.starts_with(' ') || v.ends_with(' ') {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// RFC 3339 to the second, in `tz` with its offset.
fn secs(t: chrono::DateTime<chrono::Utc>, tz: Tz) -> String {
    use chrono::TimeZone;
    tz.from_utc_datetime(&t.naive_utc())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// The header of the CSV report.
pub const CSV_HEADER: &str =
    "rehearsal,phase,system,step,title,state,by,at_session,at_utc,field,value,note";

/// The report as CSV: one row per step (field and value empty), then one per recorded evidence
/// value; `at_session` is in the session zone with its offset.
pub fn render_csv(plan: &Plan, record: &Record, rehearsal: bool) -> String {
    let tz = plan.session.tz;
    let mut out = String::new();
    let _ = writeln!(out, "{CSV_HEADER}");
    let reh = if rehearsal { "REHEARSAL" } else { "" };
    for step in &plan.steps {
        let phase = &plan.session.phases[step.phase].id;
        let state = state_of(plan, step, record);
        let change = record.state_of(&step.id);
        let (who, at_s, at_u) = change.map_or_else(
            || (String::new(), String::new(), String::new()),
            |c| {
                (
                    c.stamp.who(),
                    secs(c.stamp.at, tz),
                    secs(c.stamp.at, Tz::UTC),
                )
            },
        );
        let note = change
            .and_then(|c| c.note.clone())
            .or_else(|| {
                change
                    .is_none()
                    .then(|| crate::setup::not_applying(plan, step, record))
                    .flatten()
            })
            .unwrap_or_default();
        // The columns every row of a step shares, then its own: state, who, when, field, value, note.
        let mut line = |own: [&str; 7]| {
            let head = [reh, phase.as_str(), &system_of(step), &step.id, &step.title];
            let cells: Vec<String> = head.iter().chain(own.iter()).map(|c| csv(c)).collect();
            let _ = writeln!(out, "{}", cells.join(","));
        };
        line([state.word(), &who, &at_s, &at_u, "", "", &note]);
        for f in &step.evidence {
            if let Some(e) = record.evidence_of(&step.id, f) {
                let (at_s, at_u) = (secs(e.stamp.at, tz), secs(e.stamp.at, Tz::UTC));
                line(["evidence", &e.stamp.who(), &at_s, &at_u, f, &e.value, ""]);
            }
        }
    }
    out
}
