//! The evidence report as Markdown: what a person reads and the firm files. Times in the
//! session's zone, the reader's beside them where it differs; phase headings carry their
//! boundaries as confirmed, the line under them the planned time and the drift.

use super::{Boundary, By, Report, StepReport, drift_words, systems};
use crate::handover::Fmt;
use crate::journal::event::StepState;
use crate::runbook::Plan;
use std::fmt::Write;

/// One end of a phase in a heading: `11:06:00 HKT` confirmed (to the second, as observed),
/// `~11:00 HKT` approximate and not confirmed, or a fixed `10:00 HKT`. The confirmation's detail
/// goes on the line under the heading ([`confirmation`]): a heading cannot fold, and with it the
/// heading ran to 108 columns (walk 3 R13).
pub fn edge(b: &Boundary, f: &Fmt) -> String {
    match &b.confirmed {
        Some(c) => crate::zones::hms(c.utc, f.tz),
        None if b.approximate => format!("~{}", f.hm(b.planned.utc)),
        None => f.hm(b.planned.utc),
    }
}

/// What a phase's approximate end (`which`: `Start`, `End`) is: `End confirmed at 11:06:00 HKT:
/// planned ~11:00 HKT, 6m00s after plan.`, or `End not confirmed: planned ~11:00 HKT.`; `None`
/// for a fixed one, which the heading says in full.
pub fn confirmation(b: &Boundary, which: &str, f: &Fmt) -> Option<String> {
    match (&b.confirmed, b.drift_seconds) {
        (Some(c), Some(d)) => Some(format!(
            "{which} confirmed at {}: planned ~{}, {}.",
            crate::zones::hms(c.utc, f.tz),
            f.hm(b.planned.utc),
            drift_words(d)
        )),
        _ if b.approximate => Some(format!(
            "{which} not confirmed: planned ~{}.",
            f.hm(b.planned.utc)
        )),
        _ => None,
    }
}

fn by(b: &By, f: &Fmt) -> String {
    format!("by {} at {}", md(&b.who), f.at(b.at.utc))
}

/// Text someone typed (or a host gave), as Markdown that renders as that text.
fn md(s: &str) -> String {
    crate::text::md_text(s)
}

/// A name read from a journal (a step id, a notification's key), shown as code whatever it holds.
fn code(s: &str) -> String {
    crate::text::md_code(s)
}

/// What the state's note is called.
fn note_word(state: StepState) -> &'static str {
    match state {
        StepState::Failed => "what failed",
        StepState::Skipped => "reason",
        StepState::NotApplicable => "why n/a",
        _ => "note",
    }
}

fn step_line(out: &mut String, st: &StepReport, f: &Fmt) {
    let mut tags = vec![format!("`{}`", st.id), st.role.clone()];
    if !st.systems.is_empty() {
        tags.push(st.systems.join(", "));
    }
    if st.critical {
        tags.push("critical".into());
    }
    let _ = write!(
        out,
        "- {} {}: {} ({})",
        st.state.glyph(),
        crate::standing::open_word(st.state),
        st.title,
        tags.join("; ")
    );
    if let Some(d) = &st.due {
        let _ = write!(out, ", due {}", f.at(d.utc));
    }
    let _ = writeln!(out);
    match &st.by {
        Some(b) => {
            let _ = writeln!(out, "  - {} {}", st.state.word(), by(b, f));
        }
        None if st.state == StepState::NotApplicable => {
            let _ = writeln!(out, "  - n/a by the runbook");
        }
        None => {}
    }
    if let Some(n) = &st.note {
        let _ = writeln!(out, "  - {}: {}", note_word(st.state), md(n));
    }
    for e in &st.evidence {
        let _ = writeln!(
            out,
            "  - evidence: {} = {} ({} at {})",
            md(&e.field),
            md(&e.value),
            md(&e.by.who),
            f.at(e.by.at.utc)
        );
    }
    for e in &st.sensed {
        let _ = writeln!(
            out,
            "  - sensed: {} = {} ({} at {})",
            md(&e.field),
            md(&e.value),
            sensed_or_who(e),
            f.at(e.by.at.utc)
        );
    }
    if let Some(ch) = &st.check {
        let _ = writeln!(
            out,
            "  - check ({} {}): {}{} at {}, {} ms{}: {}",
            ch.check,
            ch.target,
            ch.outcome.word(),
            if ch.simulated { " (simulated)" } else { "" },
            f.at(ch.by.at.utc),
            ch.duration_ms,
            if ch.runs > 1 {
                format!(", newest of {} runs", ch.runs)
            } else {
                String::new()
            },
            md(&ch.detail)
        );
    }
    for n in &st.notes {
        let _ = writeln!(
            out,
            "  - {} {}: {}",
            if n.issue { "ISSUE noted" } else { "note" },
            by(&n.by, f),
            md(&n.text)
        );
    }
}

/// The report as Markdown. The plan gives the column order of the result tables.
pub fn render_md(plan: &Plan, r: &Report, f: &Fmt) -> String {
    let mut out = String::new();
    crate::handover::head(
        &mut out,
        "Evidence report",
        plan,
        r.rehearsal,
        r.hash_mismatch.as_deref(),
    );
    let _ = writeln!(
        out,
        "- Session: {} (`{}`), {}",
        r.title,
        r.session,
        r.date.format("%a %d %b %Y")
    );
    let _ = writeln!(out, "- Roles: {}", r.roles.join(", "));
    let _ = writeln!(out, "{}", crate::handover::journal_item(&r.journal));
    let _ = writeln!(out, "- Written at: {}", f.at(r.written_at.utc));
    let _ = writeln!(
        out,
        "- Times are {}; the reader's zone in brackets where it differs.",
        r.zone
    );

    // Boundaries first: every heading below uses them.
    let _ = writeln!(out, "\n## Boundaries: planned vs confirmed\n");
    let rows: Vec<Vec<String>> = r
        .boundaries
        .iter()
        .map(|b| {
            let planned = format!(
                "{}{}",
                if b.approximate { "~" } else { "" },
                f.at(b.planned.utc)
            );
            let (confirmed, drift, who) = match (&b.confirmed, b.drift_seconds, &b.confirmed_by) {
                (Some(at), Some(secs), by) => (
                    f.at(at.utc),
                    drift_words(secs),
                    by.as_ref().map_or_else(String::new, |w| {
                        format!("{}, recorded {}", md(&w.who), f.at(w.at.utc))
                    }),
                ),
                _ if b.approximate => ("not confirmed".into(), String::new(), String::new()),
                _ => ("fixed".into(), String::new(), String::new()),
            };
            let note = b.note.as_deref().map(md).unwrap_or_default();
            vec![b.label.clone(), planned, confirmed, drift, who, note]
        })
        .collect();
    crate::mdtable::table(
        &mut out,
        &["Boundary", "Planned", "Confirmed", "Drift", "By", "Note"],
        &rows,
    );

    let with_steps: Vec<&super::PhaseReport> =
        r.phases.iter().filter(|p| !p.steps.is_empty()).collect();
    let systems = systems(plan);
    let _ = writeln!(out, "\n## Result by system and phase\n");
    let mut head = vec!["System"];
    head.extend(with_steps.iter().map(|p| p.title.as_str()));
    let rows: Vec<Vec<String>> = systems
        .iter()
        .map(|sys| {
            let sys = crate::text::clean_line(sys).into_owned();
            let mut row = vec![sys.clone()];
            row.extend(with_steps.iter().map(|p| {
                p.results
                    .iter()
                    .find(|x| x.system == sys)
                    .map_or_else(|| "—".to_owned(), |x| x.tally.describe())
            }));
            row
        })
        .collect();
    crate::mdtable::table(&mut out, &head, &rows);
    let _ = writeln!(
        out,
        "\nA step that names several systems counts for each of them."
    );

    let _ = writeln!(out, "\n## Result at each site\n");
    if r.sites.is_empty() {
        let _ = writeln!(out, "No primary or backup site phase in this session.");
    }
    let mut last = String::new();
    for (i, s) in r.sites.iter().enumerate() {
        if s.system != last {
            let _ = writeln!(out, "### {}\n", s.system);
            last.clone_from(&s.system);
        }
        let _ = writeln!(out, "- {}: {}", s.site, s.tally.describe());
        for (step, e) in &s.evidence {
            let _ = writeln!(
                out,
                "  - `{step}` {} = {} ({} at {})",
                md(&e.field),
                md(&e.value),
                sensed_or_who(e),
                f.at(e.by.at.utc)
            );
        }
        if s.evidence.is_empty() {
            let _ = writeln!(out, "  - no evidence recorded");
        }
        let next_other = r.sites.get(i + 1).is_none_or(|x| x.system != s.system);
        if next_other {
            let _ = writeln!(out);
        }
    }

    let _ = writeln!(out, "## Steps by phase");
    for p in &with_steps {
        let (start, end) = (&r.boundaries[p.start], &r.boundaries[p.end]);
        let _ = writeln!(
            out,
            "\n### {}: {} to {}\n",
            p.title,
            edge(start, f),
            edge(end, f)
        );
        let said: Vec<String> = [confirmation(start, "Start", f), confirmation(end, "End", f)]
            .into_iter()
            .flatten()
            .collect();
        if !said.is_empty() {
            let _ = writeln!(out, "{}\n", said.join(" "));
        }
        for st in &p.steps {
            step_line(&mut out, st, f);
        }
    }

    let _ = writeln!(out, "\n## Reconnect, logon and other recorded times\n");
    // The step first: it names the row when the table is too wide and becomes a list.
    let mut rows = Vec::new();
    for p in &with_steps {
        for st in &p.steps {
            for e in st
                .evidence
                .iter()
                .chain(&st.sensed)
                .filter(|e| is_time_field(&e.field))
            {
                rows.push(vec![
                    format!("`{}`", st.id),
                    md(&e.field),
                    md(&e.value),
                    p.id.clone(),
                    st.systems.join(", "),
                    match &e.sensed {
                        Some(kind) => format!("{} (sensed by its {kind} check)", f.at(e.by.at.utc)),
                        None => f.at(e.by.at.utc),
                    },
                ]);
            }
        }
    }
    if rows.is_empty() {
        let _ = writeln!(out, "None recorded.");
    } else {
        crate::mdtable::table(
            &mut out,
            &["Step", "Field", "Value", "Phase", "Systems", "Recorded"],
            &rows,
        );
    }

    let _ = writeln!(out, "\n## Session notes\n");
    if r.session_notes.is_empty() {
        let _ = writeln!(out, "None.");
    }
    for n in &r.session_notes {
        let _ = writeln!(
            out,
            "- {} {}{}: {}",
            f.at(n.by.at.utc),
            md(&n.by.who),
            if n.issue { " (ISSUE)" } else { "" },
            md(&n.text)
        );
    }

    let _ = writeln!(out, "\n## Issues\n");
    let _ = writeln!(
        out,
        "Failed steps, and notes the operator marked as an issue (a note typed with a leading `!`).\n"
    );
    if r.issues.is_empty() {
        let _ = writeln!(out, "None.");
    }
    for i in &r.issues {
        let what = match (&i.step, &i.title) {
            (Some(id), Some(t)) => format!("{t} ({}{})", code(id), sys_suffix(&i.systems)),
            (Some(id), None) => code(id),
            _ => "the session".to_owned(),
        };
        let head = if i.kind == "failed step" {
            format!("FAILED {what}")
        } else {
            format!("issue on {what}")
        };
        let _ = writeln!(
            out,
            "- {}: {head} by {}: {}",
            f.at(i.by.at.utc),
            md(&i.by.who),
            md(&i.text)
        );
    }

    if !r.failed_notifications.is_empty() {
        let _ = writeln!(out, "\n## Notifications that failed\n");
        for n in &r.failed_notifications {
            let _ = writeln!(
                out,
                "- {}: {} on {}: {}",
                f.at(n.by.at.utc),
                code(&n.key),
                md(&n.channel),
                md(&n.error)
            );
        }
    }

    if let Some(form) = &r.hsn_result_form {
        let _ = writeln!(out, "\n## HSN Result Form (Appendix B)\n");
        if let Some(d) = &form.due {
            let _ = writeln!(
                out,
                "- Due: {} (the notice gives the date; the time of day is our reading)",
                f.at(d.utc)
            );
        }
        let _ = writeln!(out, "- {}", form.undefined);
        let _ = writeln!(
            out,
            "- What the hsn runbook records for it, step by step (state, then evidence):\n"
        );
        for p in &r.phases {
            for st in p.steps.iter().filter(|s| form.steps.contains(&s.id)) {
                let when = st
                    .by
                    .as_ref()
                    .map_or_else(String::new, |b| format!(" {}", by(b, f)));
                let _ = writeln!(
                    out,
                    "  - `{}` ({}): {} {}{when}",
                    st.id,
                    p.id,
                    st.state.glyph(),
                    st.state.word()
                );
                if let Some(n) = &st.note {
                    let _ = writeln!(out, "    - {}: {}", note_word(st.state), md(n));
                }
                for e in &st.evidence {
                    let _ = writeln!(out, "    - {} = {}", md(&e.field), md(&e.value));
                }
            }
        }
    }

    if !r.unknown_steps.is_empty() {
        let _ = writeln!(
            out,
            "\nRecorded for steps not in the current runbooks: {}.",
            r.unknown_steps
                .iter()
                .map(|u| code(u))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    let _ = writeln!(out, "\n## References\n");
    for x in &r.references {
        let _ = writeln!(out, "- {x}");
    }
    if r.references.is_empty() {
        let _ = writeln!(out, "None.");
    }
    let _ = writeln!(out, "\n## Contacts\n");
    for x in &r.contacts {
        let _ = writeln!(out, "- {x}");
    }
    if r.contacts.is_empty() {
        let _ = writeln!(out, "None.");
    }
    out
}

fn sys_suffix(systems: &[String]) -> String {
    if systems.is_empty() {
        String::new()
    } else {
        format!(", {}", systems.join(", "))
    }
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

/// Who recorded a value: `by its log check` for a sensed one, else the operator.
fn sensed_or_who(e: &super::Evidence) -> String {
    match &e.sensed {
        Some(kind) => format!("sensed by its {kind} check"),
        None => md(&e.by.who),
    }
}
