//! Reading a journal for a report command (log, handover, report): replay it, refuse what cannot
//! be trusted (a mix of rehearsal and real events, another session than the runbooks named), and
//! rebuild the plan it was written for: the bundled runbooks it names, or the files given.

use super::{Failure, load_selection};
use crate::cli::Selection;
use crate::journal::{self, Action, Replay};
use crate::runbook::{self, Plan};
use crate::text::clean_line;
use std::path::{Path, PathBuf};

/// A replayed journal and the plan it is read against.
pub struct Loaded {
    pub replay: Replay,
    pub plan: Plan,
    /// The runbook hash the journal was written with, when it differs from the plan's.
    pub hash_mismatch: Option<String>,
}

/// Replay a journal (a mix of rehearsal and real events is refused by the parser).
pub fn replay(path: &Path) -> Result<Replay, Failure> {
    journal::read(path).map_err(|e| Failure::new(e.to_string()))
}

/// The roles a journal was written for: from its first `attach`, else its runbook ids.
pub fn roles(replay: &Replay) -> Vec<String> {
    replay
        .events
        .iter()
        .find_map(|e| match &e.action {
            Action::Attach { roles, .. } => Some(roles.clone()),
            _ => None,
        })
        .or_else(|| replay.events.first().map(|e| e.runbooks.clone()))
        .unwrap_or_default()
}

/// The roles a journal holds, from the newest `attach` in it (remembered by the replay, however
/// long ago it was), else from the newest event's runbook ids. Every writer checks
/// them with [`role_mismatch`], so every attach in one journal names the same set.
pub fn held_roles(replay: &Replay) -> Option<Vec<String>> {
    replay
        .attached_roles
        .clone()
        .or_else(|| replay.events.last().map(|e| e.runbooks.clone()))
}

/// A journal holds one role set for good: a writer for another set is refused, naming the
/// roles the journal holds and the `--role` that opens it. `--accept-changed-runbooks` does
/// not lift this (it accepts edited runbook files, never another set of roles).
pub fn role_mismatch(path: &Path, replay: &Replay, roles: &[String]) -> Option<Failure> {
    let held = held_roles(replay)?;
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    if sorted(&held) == sorted(roles) {
        return None;
    }
    let held_c: Vec<String> = held.iter().map(|r| clean_line(r).into_owned()).collect();
    Some(Failure::new(format!(
        "{}: this journal holds roles {}; you asked for {}.\n\
         Open it with --role {} (a journal keeps the roles it was started with), or leave out \
         --journal to use the journal of roles {}.",
        path.display(),
        held_c.join(", "),
        roles.join(", "),
        held_c.join(","),
        roles.join(", ")
    )))
}

/// Replay `path` and load its plan from `runbooks`, or the bundled runbooks it names.
pub fn load(path: &Path, runbooks: &[PathBuf]) -> Result<Loaded, Failure> {
    let replay = replay(path)?;
    let Some(session) = replay.session().map(str::to_owned) else {
        return Err(Failure::new(format!(
            "{}: the journal is empty: nothing recorded yet",
            path.display()
        )));
    };
    let plan = if runbooks.is_empty() {
        if session != runbook::BUNDLED_SESSION {
            return Err(Failure::new(format!(
                "{}: written for session `{}`, which is not bundled: name its runbook files after the journal",
                path.display(),
                clean_line(&session)
            )));
        }
        load_selection(&Selection {
            role: roles(&replay),
            runbooks: vec![],
        })
        .map_err(|f| {
            Failure::new(format!(
                "{}: cannot load the bundled runbooks it names: {}",
                path.display(),
                f
            ))
        })?
    } else {
        let plan = runbook::load_paths(runbooks)?;
        if plan.session.id != session {
            return Err(Failure::new(
                journal::JournalError::OtherSession {
                    path: path.into(),
                    found: session,
                    expected: plan.session.id.clone(),
                }
                .to_string(),
            ));
        }
        plan
    };
    let hash = plan.content_hash();
    let hash_mismatch = replay.other_hash(&hash).map(str::to_owned);
    Ok(Loaded {
        replay,
        plan,
        hash_mismatch,
    })
}

/// The session-clock instant to describe the journal at: now, or for a rehearsal the virtual
/// instant of its last event (a rehearsal's session clock does not run after it ends).
pub fn now_for(replay: &Replay) -> chrono::DateTime<chrono::Utc> {
    if replay.is_rehearsal() {
        replay
            .events
            .last()
            .map_or_else(crate::clock::wall_now, journal::Event::session_time)
    } else {
        crate::clock::wall_now()
    }
}

/// [`load`] for a command that reads the journal out: a torn last line and a journal others
/// can write are noted on stderr.
pub fn load_noting_torn(path: &Path, runbooks: &[PathBuf]) -> Result<Loaded, Failure> {
    let loaded = load(path, runbooks)?;
    for n in notes(path, &loaded.replay) {
        crate::out::eprintln(&n);
    }
    Ok(loaded)
}

/// What a reader says on stderr about a journal: a torn last line, and that others can write it.
pub fn notes(path: &Path, replay: &Replay) -> Vec<String> {
    torn_note(path, replay)
        .into_iter()
        .chain(replay.exposure.clone())
        .collect()
}

/// What to print on stderr about a torn last line, if any.
pub fn torn_note(path: &Path, replay: &Replay) -> Option<String> {
    replay.torn.as_ref().map(|t| {
        format!(
            "{}:{}: a torn last line ({} bytes, power lost mid-write?) is left out; the next writer sets it aside",
            path.display(),
            t.line,
            t.bytes
        )
    })
}
