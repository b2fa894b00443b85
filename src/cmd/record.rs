//! `drillbook record JOURNAL` (hidden): append actions read from stdin, one per line, and print
//! `ok SEQ` only after each append's fsync returned, so a test or the soak script that kills
//! this process knows exactly which actions were acknowledged.
//!
//! Input lines (blank lines and `#` comments are ignored):
//! `done|failed|skipped|deferred|n/a|pending STEP [NOTE]`, `note TEXT`, `step-note STEP TEXT`,
//! `evidence STEP FIELD = VALUE`, `confirm BOUNDARY YYYY-MM-DD HH:MM:SS` (session zone),
//! `phase PHASE`, `notify KEY CHANNEL ok|failed TITLE`, `handover [NOTE]`, `undo SEQ`.
//! Output lines: `ready SEQ` (the attach), then per input line `ok SEQ` or `err LINE: MESSAGE`,
//! and `detached SEQ` at the end of input.

use super::{Failure, Outcome, load_selection};
use crate::cli::Selection;
use crate::clock::SystemClock;
use crate::journal::{self, Action, Journal, Meta, StepState};
use crate::runbook::Plan;
use std::io::{BufRead, Write};
use std::path::Path;

fn state(word: &str) -> Option<StepState> {
    Some(match word {
        "done" => StepState::Done,
        "failed" => StepState::Failed,
        "skipped" => StepState::Skipped,
        "deferred" => StepState::Deferred,
        "n/a" => StepState::NotApplicable,
        "pending" => StepState::Pending,
        _ => return None,
    })
}

fn split1(s: &str) -> (&str, &str) {
    match s.split_once(' ') {
        Some((a, b)) => (a, b.trim()),
        None => (s, ""),
    }
}

/// Why an input line is not an action of the plan.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("no step `{0}` in the runbooks loaded")]
    NoStep(String),
    #[error("`{0}` needs a note: {0} STEP NOTE")]
    NeedsNote(String),
    #[error("{0} STEP TEXT")]
    NeedsText(String),
    /// The line does not follow its verb's form: the form.
    #[error("{0}")]
    Form(&'static str),
    #[error("step `{step}` has no evidence field `{field}`")]
    NoField { step: String, field: String },
    #[error("`{field}` takes one of: {}", .options.join(", "))]
    NotOption { field: String, options: Vec<String> },
    #[error("no approximate boundary `{0}`")]
    NoBoundary(String),
    #[error("cannot read `{}`", crate::text::clean_line(.0))]
    Unknown(String),
}

/// One input line as an action, checked against the plan.
pub fn parse_action(plan: &Plan, line: &str) -> Result<Action, LineError> {
    let (verb, rest) = split1(line.trim());
    let step_id = |id: &str| {
        plan.step_index(id)
            .map(|_| id.to_owned())
            .ok_or_else(|| LineError::NoStep(id.to_owned()))
    };
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    if let Some(st) = state(verb) {
        let (id, note) = split1(rest);
        if st.needs_note() && note.is_empty() {
            return Err(LineError::NeedsNote(verb.to_owned()));
        }
        return Ok(Action::Step {
            step: step_id(id)?,
            state: st,
            note: opt(note),
        });
    }
    match verb {
        "note" | "issue" if !rest.is_empty() => Ok(Action::Note {
            step: None,
            text: rest.to_owned(),
            issue: verb == "issue",
        }),
        "step-note" | "step-issue" => {
            let (id, text) = split1(rest);
            if text.is_empty() {
                return Err(LineError::NeedsText(verb.to_owned()));
            }
            Ok(Action::Note {
                step: Some(step_id(id)?),
                text: text.to_owned(),
                issue: verb == "step-issue",
            })
        }
        "evidence" => {
            let (id, fv) = split1(rest);
            let (field, value) = fv
                .split_once(" = ")
                .ok_or(LineError::Form("evidence STEP FIELD = VALUE"))?;
            let step = step_id(id)?;
            let i = plan.step_index(&step).unwrap_or_default();
            let s = &plan.steps[i];
            if !s.evidence.iter().any(|f| f == field) {
                return Err(LineError::NoField {
                    step,
                    field: field.to_owned(),
                });
            }
            // As the app takes it: only one of a field's options, as the runbook spells it.
            let value = match s.options_of(field) {
                Some(options) => crate::runbook::option_in(options, value)
                    .ok_or_else(|| LineError::NotOption {
                        field: crate::text::clean_line(field).into_owned(),
                        options: options.to_vec(),
                    })?
                    .to_owned(),
                None => value.to_owned(),
            };
            Ok(Action::Evidence {
                step,
                field: field.to_owned(),
                value,
            })
        }
        "confirm" => {
            let (key, at) = split1(rest);
            let t = plan
                .session
                .transitions()
                .into_iter()
                .find(|t| t.key == key && t.approximate)
                .ok_or_else(|| LineError::NoBoundary(key.to_owned()))?;
            let confirmed = journal::session_instant(plan.session.tz, at).ok_or(
                LineError::Form("confirm BOUNDARY YYYY-MM-DD HH:MM:SS (session zone)"),
            )?;
            Ok(Action::BoundaryConfirmed {
                boundary: t.key,
                planned: t.at,
                confirmed,
                note: None,
                entered: None,
            })
        }
        "phase" if plan.session.phase_index(rest).is_some() => Ok(Action::PhaseEntered {
            phase: rest.to_owned(),
        }),
        "notify" => {
            let mut it = rest.splitn(4, ' ');
            let (Some(key), Some(channel), Some(ok), title) =
                (it.next(), it.next(), it.next(), it.next().unwrap_or(""))
            else {
                return Err(LineError::Form("notify KEY CHANNEL ok|failed TITLE"));
            };
            let ok = match ok {
                "ok" => true,
                "failed" => false,
                _ => return Err(LineError::Form("notify KEY CHANNEL ok|failed TITLE")),
            };
            Ok(Action::Notification {
                key: key.to_owned(),
                channel: channel.to_owned(),
                ok,
                title: title.to_owned(),
                body: String::new(),
                error: (!ok).then(|| "recorded as failed".to_owned()),
            })
        }
        "handover" => Ok(Action::Handover { note: opt(rest) }),
        "undo" => rest
            .parse()
            .map(|target| Action::Undo { target })
            .map_err(|_| LineError::Form("undo SEQ")),
        _ => Err(LineError::Unknown(verb.to_owned())),
    }
}

pub fn run(
    path: &Path,
    select: &Selection,
    operator: Option<&str>,
    host: Option<&str>,
    accept: bool,
) -> Outcome {
    let plan = load_selection(select)?;
    let mut meta = Meta::for_plan(&plan, operator);
    if let Some(h) = host {
        h.clone_into(&mut meta.host);
    }
    let (mut journal, replay) =
        Journal::open(path, meta).map_err(|e| Failure::new(e.to_string()))?;
    if let Some(x) = &replay.exposure {
        crate::out::eprintln(x);
    }
    if replay.is_rehearsal() {
        return Err(Failure::new(format!(
            "{}: a rehearsal journal; `record` writes real events, which must not be mixed into it",
            path.display()
        )));
    }
    if let Some(f) = super::from_journal::role_mismatch(path, &replay, &plan.roles()) {
        return Err(f);
    }
    if replay.hash_mismatch.is_some() && !accept {
        return Err(Failure::new(format!(
            "{}: this journal was written with other runbook files; pass --accept-changed-runbooks to continue it",
            path.display()
        )));
    }
    let clock = SystemClock;
    let mut out = crate::out::stdout();
    let fail = |e: crate::journal::AppendError| Failure::new(format!("{}: {e}", path.display()));
    let attach = Action::Attach {
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").into(),
        roles: plan.roles(),
    };
    let ev = journal.append(attach, &clock).map_err(fail)?;
    let _ = writeln!(out, "ready {}", ev.seq);
    let _ = out.flush();
    let mut failures = 0u32;
    let mut reason = "end of input".to_owned();
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.map_err(|e| Failure::new(format!("stdin: {e}")))?;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        // The clock stepped back before 1970: nothing more is recorded from it but the detach.
        if let Err(e) = crate::clock::wall_checked() {
            failures += 1;
            let _ = writeln!(out, "err {}: not recorded: {e}", n + 1);
            reason = e.to_string();
            break;
        }
        let answer = match parse_action(&plan, t) {
            Ok(a) => match journal.append(a, &clock) {
                Ok(ev) => format!("ok {}", ev.seq),
                Err(e) => {
                    failures += 1;
                    format!("err {}: not recorded: {e}", n + 1)
                }
            },
            Err(m) => {
                failures += 1;
                format!("err {}: {m}", n + 1)
            }
        };
        // The reply is written only now: `ok` means the fsync returned.
        let _ = writeln!(out, "{answer}");
        let _ = out.flush();
    }
    let detach = Action::Detach { reason };
    match journal.append(detach, &clock) {
        Ok(ev) => {
            let _ = writeln!(out, "detached {}", ev.seq);
        }
        Err(e) => {
            failures += 1;
            let _ = writeln!(out, "err detach: not recorded: {e}");
        }
    }
    if failures > 0 {
        return Err(Failure::new(format!(
            "{}: {failures} line(s) not recorded",
            path.display()
        )));
    }
    Ok(())
}
