//! The evidence report as CSV for a spreadsheet: one row per boundary, one per step, one per
//! evidence value, one per note. Every field is formula-safe: a leading `=`, `+`, `-` or `@` is
//! defused with `'`, and control characters were neutralised when the report was built.

use super::{By, Report, drift_words};
use std::fmt::Write;

/// The header of the CSV report. `row` is `boundary`, `step`, `evidence` (typed), `sensed`
/// (evidence a check captured; `by` names the check) or `note`.
/// `planned`: a step's due time, a boundary's planned time. `at_session`/`at_utc`: when the
/// state, value or note was recorded; for a boundary, the confirmed instant (when it was
/// observed), and when the confirmation was entered in `field` `entered`, `value` its session time.
pub const CSV_HEADER: &str = "rehearsal,row,phase,systems,step,title,state,critical,planned,by,at_session,at_utc,field,value,note,issue,drift";

/// One CSV field: quoted when needed, and a leading `=`, `+`, `-` or `@` defused so a
/// spreadsheet does not run it as a formula.
pub fn field(s: &str) -> String {
    let mut v = s.to_owned();
    if v.starts_with(['=', '+', '-', '@']) {
        v.insert(0, '\'');
    }
    if v.contains([',', '"', '\n', '\r']) || v.starts_with(' ') || v.ends_with(' ') {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// The cells of one row, by column name; absent columns are empty.
#[derive(Default)]
struct Row<'a> {
    kind: &'a str,
    phase: &'a str,
    systems: String,
    step: &'a str,
    title: &'a str,
    state: &'a str,
    critical: &'a str,
    planned: String,
    by: Option<&'a By>,
    field: &'a str,
    value: &'a str,
    note: &'a str,
    issue: &'a str,
    drift: String,
}

fn write_row(out: &mut String, reh: &str, r: &Row<'_>) {
    let (who, at_s, at_u) = r.by.map_or_else(
        || (String::new(), String::new(), String::new()),
        |b| (b.who.clone(), b.at.session.clone(), utc(b.at.utc)),
    );
    let cells = [
        reh, r.kind, r.phase, &r.systems, r.step, r.title, r.state, r.critical, &r.planned, &who,
        &at_s, &at_u, r.field, r.value, r.note, r.issue, &r.drift,
    ];
    let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
    let _ = writeln!(out, "{}", line.join(","));
}

fn utc(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The report as CSV.
pub fn render_csv(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{CSV_HEADER}");
    let reh = if r.rehearsal { "REHEARSAL" } else { "" };
    for (i, b) in r.boundaries.iter().enumerate() {
        // The phase a boundary starts, else the one it ends.
        let phase = r
            .phases
            .iter()
            .find(|p| p.start == i)
            .or_else(|| r.phases.iter().find(|p| p.end == i))
            .map_or("", |p| p.id.as_str());
        // A confirmed boundary's row carries the confirmed instant; who confirmed it is in `by`.
        let confirmer = b.confirmed_by.as_ref().map(|w| By {
            who: w.who.clone(),
            at: b.confirmed.clone().unwrap_or_else(|| w.at.clone()),
            seq: w.seq,
        });
        write_row(
            &mut out,
            reh,
            &Row {
                kind: "boundary",
                phase,
                step: &b.key,
                title: &b.label,
                state: match (&b.confirmed, b.approximate) {
                    (Some(_), _) => "confirmed",
                    (None, true) => "not confirmed",
                    (None, false) => "fixed",
                },
                planned: b.planned.session.clone(),
                by: confirmer.as_ref(),
                // When it was entered, as the Markdown ("recorded") and JSON (`confirmed_by.at`) say.
                field: if b.confirmed_by.is_some() {
                    "entered"
                } else {
                    ""
                },
                value: b
                    .confirmed_by
                    .as_ref()
                    .map_or("", |w| w.at.session.as_str()),
                note: b.note.as_deref().unwrap_or(""),
                drift: b.drift_seconds.map(drift_words).unwrap_or_default(),
                ..Row::default()
            },
        );
    }
    for p in &r.phases {
        for st in &p.steps {
            let systems = st.systems.join(" ");
            let base = Row {
                phase: &p.id,
                systems: systems.clone(),
                step: &st.id,
                title: &st.title,
                ..Row::default()
            };
            write_row(
                &mut out,
                reh,
                &Row {
                    kind: "step",
                    state: st.state.word(),
                    critical: if st.critical { "critical" } else { "" },
                    planned: st
                        .due
                        .as_ref()
                        .map_or_else(String::new, |d| d.session.clone()),
                    by: st.by.as_ref(),
                    note: st.note.as_deref().unwrap_or(""),
                    ..base
                },
            );
            for e in st.evidence.iter().chain(&st.sensed) {
                write_row(
                    &mut out,
                    reh,
                    &Row {
                        kind: if e.sensed.is_some() {
                            "sensed"
                        } else {
                            "evidence"
                        },
                        phase: &p.id,
                        systems: systems.clone(),
                        step: &st.id,
                        title: &st.title,
                        by: Some(&e.by),
                        field: &e.field,
                        value: &e.value,
                        ..Row::default()
                    },
                );
            }
            for n in &st.notes {
                write_row(
                    &mut out,
                    reh,
                    &Row {
                        kind: "note",
                        phase: &p.id,
                        systems: systems.clone(),
                        step: &st.id,
                        title: &st.title,
                        by: Some(&n.by),
                        note: &n.text,
                        issue: if n.issue { "issue" } else { "" },
                        ..Row::default()
                    },
                );
            }
        }
    }
    for n in &r.session_notes {
        write_row(
            &mut out,
            reh,
            &Row {
                kind: "note",
                by: Some(&n.by),
                note: &n.text,
                issue: if n.issue { "issue" } else { "" },
                ..Row::default()
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn formulas_are_defused_and_commas_quoted() {
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("+1"), "'+1");
        assert_eq!(field("-1"), "'-1");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("plain"), "plain");
    }
}
