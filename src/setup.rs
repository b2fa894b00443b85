//! The firm's setup as the operator recorded it, and which steps apply to it.
//!
//! A session declares choices (`choices:` in the session file: whether the rundown has
//! participants stay connected through the failover or log off at 10:00, whether the firm has a
//! Drop Copy session). A step that `settles` a choice carries it as an evidence field; the value
//! recorded there is the choice. A step with `applies_if` is not applicable once a choice it
//! names is recorded as another option: shown `n/a` with the reason, never overdue, never failed.
//! Until the choice is recorded the step stays pending, so nothing is silently dropped.
//!
//! Derived from the journal's record on every read, never written back: an undo of the evidence
//! brings the step back.

use crate::journal::{Record, StepState};
use crate::runbook::{Choice, Plan, Step};

/// The option recorded for `choice`: the newest value on any step that settles it, when it names
/// one of the choice's options. `None`: not recorded yet, or recorded as something else.
pub fn recorded<'a>(plan: &'a Plan, record: &Record, choice: &str) -> Option<&'a str> {
    let c = plan.session.choice(choice)?;
    let field = c.field();
    plan.steps
        .iter()
        .filter(|s| s.settles.iter().any(|x| x == choice))
        .filter_map(|s| record.evidence_of(&s.id, &field))
        .max_by_key(|e| e.stamp.seq)
        .and_then(|e| c.option_for(&e.value))
}

/// Why `step` does not apply: its runbook says so (`not_applicable`), or a choice it depends on
/// was recorded as another option. `None`: it applies, or that is not known yet.
pub fn not_applying(plan: &Plan, step: &Step, record: &Record) -> Option<String> {
    if let Some(r) = &step.not_applicable {
        return Some(r.clone());
    }
    step.applies_if.iter().find_map(|(id, want)| {
        let got = recorded(plan, record, id)?;
        (got != want).then(|| {
            let title = plan.session.choice(id).map_or(id.as_str(), |c| &c.title);
            format!("applies only if {title}: {want}; recorded: {got}")
        })
    })
}

/// The conditions of `step` not yet settled: (choice, the option it needs).
pub fn undecided<'a>(
    plan: &'a Plan,
    step: &'a Step,
    record: &Record,
) -> impl Iterator<Item = (&'a Choice, &'a str)> {
    step.applies_if.iter().filter_map(move |(id, want)| {
        let c = plan.session.choice(id)?;
        recorded(plan, record, id)
            .is_none()
            .then_some((c, want.as_str()))
    })
}

/// The condition `step` hangs on while its choices are unrecorded, in the words the screen, the
/// alert and the header all use: `if log-off`; a yes/no choice by its name, `if drop-copy` or
/// `if no drop-copy`. `None` when every choice it names is recorded (or it names none).
pub fn condition(plan: &Plan, step: &Step, record: &Record) -> Option<String> {
    let parts: Vec<String> = undecided(plan, step, record)
        .map(|(c, want)| {
            let id = crate::text::clean_line(&c.id);
            match want {
                "yes" => id.into_owned(),
                "no" => format!("no {id}"),
                w => crate::text::clean_line(w).into_owned(),
            }
        })
        .collect();
    (!parts.is_empty()).then(|| format!("if {}", parts.join(" and ")))
}

/// A step's state: the journal's, else n/a when it does not apply, else pending.
pub fn state_of(plan: &Plan, step: &Step, record: &Record) -> StepState {
    match record.state_of(&step.id) {
        Some(c) => c.state,
        None if not_applying(plan, step, record).is_some() => StepState::NotApplicable,
        None => StepState::Pending,
    }
}

/// The first step (in plan order) where `choice` is recorded.
pub fn settler<'a>(plan: &'a Plan, choice: &str) -> Option<&'a Step> {
    plan.steps
        .iter()
        .find(|s| s.settles.iter().any(|x| x == choice))
}

/// Why a `--choose` was refused; `known` lists the session's choices, `ID=OPTION|OPTION, ...`.
#[derive(Debug, thiserror::Error)]
pub enum ChoiceError {
    #[error("--choose `{spec}`: write CHOICE=OPTION (this session's: {known})")]
    NoOption { spec: String, known: String },
    #[error("--choose: `{id}` is not a choice of this session (its choices: {known})")]
    NotChoice { id: String, known: String },
    #[error("--choose: `{value}` is not an option of `{choice}` (its options: {})", .options.join(", "))]
    NotOption {
        value: String,
        choice: String,
        options: Vec<String>,
    },
    #[error("--choose: no loaded runbook records `{0}`; load the runbook whose steps depend on it")]
    Unrecorded(String),
    #[error("--choose: `{choice}` is given two options, `{first}` and `{second}`; give it one")]
    Conflict {
        choice: String,
        first: String,
        second: String,
    },
}

/// Parse `--choose ID=OPTION`: the choice and its option as the session spells it.
pub fn parse_choice<'a>(plan: &'a Plan, spec: &str) -> Result<(&'a Choice, &'a str), ChoiceError> {
    let known = || {
        plan.session
            .choices
            .iter()
            .map(|c| format!("{}={}", c.id, c.options.join("|")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some((id, value)) = spec.split_once('=') else {
        return Err(ChoiceError::NoOption {
            spec: spec.to_owned(),
            known: known(),
        });
    };
    let Some(c) = plan.session.choice(id.trim()) else {
        return Err(ChoiceError::NotChoice {
            id: id.trim().to_owned(),
            known: known(),
        });
    };
    let Some(option) = c.option_for(value) else {
        return Err(ChoiceError::NotOption {
            value: value.trim().to_owned(),
            choice: c.id.clone(),
            options: c.options.clone(),
        });
    };
    if settler(plan, &c.id).is_none() {
        return Err(ChoiceError::Unrecorded(c.id.clone()));
    }
    Ok((c, option))
}

/// Parse every `--choose`: one option per choice. The same option given twice is taken once;
/// two options for one choice are refused (journaled one after the other, the later would
/// silently win).
pub fn parse_choices<'a>(
    plan: &'a Plan,
    specs: &[String],
) -> Result<Vec<(&'a Choice, &'a str)>, ChoiceError> {
    let mut out: Vec<(&Choice, &str)> = Vec::new();
    for spec in specs {
        let (c, option) = parse_choice(plan, spec)?;
        match out.iter().find(|(seen, _)| seen.id == c.id) {
            Some((_, first)) if *first == option => {}
            Some((_, first)) => {
                return Err(ChoiceError::Conflict {
                    choice: c.id.clone(),
                    first: (*first).to_owned(),
                    second: option.to_owned(),
                });
            }
            None => out.push((c, option)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Action, Event};

    fn plan() -> Plan {
        crate::runbook::load_bundled(&["ep".into()]).unwrap()
    }

    fn evidence(seq: u64, step: &str, field: &str, value: &str) -> Event {
        let action = Action::Evidence {
            step: step.into(),
            field: field.into(),
            value: value.into(),
        };
        Event::sample(seq, chrono::DateTime::UNIX_EPOCH, action)
    }

    #[test]
    fn a_recorded_choice_makes_the_other_branch_not_applicable() {
        let p = plan();
        let c = p.session.choice("drop-copy").unwrap();
        let settler = settler(&p, "drop-copy").unwrap();
        let dc = p.step_index("ep-primary-logon-dropcopy").unwrap();
        let dc = &p.steps[dc];
        let empty = Record::default();
        // Undecided: still pending, and its condition is listed as open.
        assert_eq!(state_of(&p, dc, &empty), StepState::Pending);
        assert_eq!(undecided(&p, dc, &empty).count(), 1);
        let no = Record::from_events(&[evidence(1, &settler.id, &c.field(), "No")]);
        assert_eq!(recorded(&p, &no, "drop-copy"), Some("no"));
        assert_eq!(state_of(&p, dc, &no), StepState::NotApplicable);
        assert!(not_applying(&p, dc, &no).unwrap().contains("recorded: no"));
        // The newest value wins; a value that names no option leaves it undecided.
        let yes = Record::from_events(&[
            evidence(1, &settler.id, &c.field(), "no"),
            evidence(2, &settler.id, &c.field(), "yes"),
        ]);
        assert_eq!(state_of(&p, dc, &yes), StepState::Pending);
        let odd = Record::from_events(&[evidence(1, &settler.id, &c.field(), "perhaps")]);
        assert_eq!(recorded(&p, &odd, "drop-copy"), None);
        assert_eq!(state_of(&p, dc, &odd), StepState::Pending);
    }

    #[test]
    fn choose_flags_are_checked_against_the_session() {
        let p = plan();
        assert_eq!(parse_choice(&p, "drop-copy=NO").unwrap().1, "no");
        assert!(
            parse_choice(&p, "drop-copy")
                .unwrap_err()
                .to_string()
                .contains("CHOICE=OPTION")
        );
        assert!(
            parse_choice(&p, "dropcopy=no")
                .unwrap_err()
                .to_string()
                .contains("drop-copy")
        );
        assert!(
            parse_choice(&p, "drop-copy=maybe")
                .unwrap_err()
                .to_string()
                .contains("yes, no")
        );
    }
}
