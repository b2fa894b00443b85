//! What a step's state means to whoever reads it, said one way everywhere.
//!
//! - **settled**: done, skipped or n/a; nothing more is expected of the step.
//! - **open**: pending, deferred or failed; not settled.
//! - **overdue**: open and not acted on yet (pending or deferred) past its due time.
//! - **failed, needs follow-up**: open, but acted on: it is never called overdue, and its
//!   critical-step alert does not fire (the operator already said what failed).
//!
//! The list's rule and the phase bar, the header, the alerts, the handover, the report and the
//! rehearsal report count and word steps through here, so that one failed step cannot be "open"
//! in one place, "overdue" in another and missing from a third (walk 2 N7).

use crate::journal::StepState;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Whether a step in `state` due at `due` is overdue at `now`.
pub fn overdue(state: StepState, due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    state.awaits_action() && due.is_some_and(|d| d < now)
}

/// The state as a list of open steps says it: `failed, needs follow-up` for a failed step (open
/// but acted on), else the state's word.
pub fn open_word(state: StepState) -> &'static str {
    match state {
        StepState::Failed => "failed, needs follow-up",
        s => s.word(),
    }
}

/// How a set of steps stands: each state counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub steps: usize,
    pub done: usize,
    pub failed: usize,
    pub skipped: usize,
    pub not_applicable: usize,
    pub deferred: usize,
    pub pending: usize,
}

impl Tally {
    /// The states of some steps, counted.
    pub fn of(states: impl IntoIterator<Item = StepState>) -> Self {
        let mut t = Self::default();
        for s in states {
            t.add(s);
        }
        t
    }

    pub fn add(&mut self, s: StepState) {
        self.steps += 1;
        match s {
            StepState::Done => self.done += 1,
            StepState::Failed => self.failed += 1,
            StepState::Skipped => self.skipped += 1,
            StepState::NotApplicable => self.not_applicable += 1,
            StepState::Deferred => self.deferred += 1,
            StepState::Pending => self.pending += 1,
        }
    }

    /// Done, skipped or n/a.
    pub fn settled(&self) -> usize {
        self.done + self.skipped + self.not_applicable
    }

    /// Pending, deferred or failed.
    pub fn open(&self) -> usize {
        self.pending + self.deferred + self.failed
    }

    /// `2 of 7 settled, 5 open, 1 of them failed`; `2 of 2 settled` when none is open.
    pub fn phrase(&self) -> String {
        let open = match (self.open(), self.failed) {
            (0, _) => String::new(),
            (o, 0) => format!(", {o} open"),
            (o, f) => format!(", {o} open, {f} of them failed"),
        };
        format!("{} of {} settled{open}", self.settled(), self.steps)
    }

    /// `success`, `FAILED`, `incomplete` or `not done`: what the cell of a system says.
    pub fn result(&self) -> &'static str {
        if self.failed > 0 {
            "FAILED"
        } else if self.open() > 0 {
            "incomplete"
        } else if self.done > 0 {
            "success"
        } else {
            "not done"
        }
    }

    /// `FAILED (1 of 6 settled, 5 open, 1 of them failed)`, `success (2 of 2 done)`, ...
    pub fn describe(&self) -> String {
        let n = self.steps;
        match self.result() {
            "success" => format!("success ({} of {n} done)", self.done),
            "not done" => format!("not done ({n} skipped or n/a)"),
            r => format!("{r} ({})", self.phrase()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use StepState::{Deferred, Done, Failed, NotApplicable, Pending, Skipped};

    #[test]
    fn a_failed_step_is_open_but_never_overdue() {
        let due = Some(DateTime::<Utc>::MIN_UTC);
        let now = Utc::now();
        assert!(overdue(Pending, due, now));
        assert!(overdue(Deferred, due, now));
        assert!(!overdue(Failed, due, now));
        assert!(!Failed.is_settled());
        assert_eq!(open_word(Failed), "failed, needs follow-up");
        let t = Tally::of([
            Done,
            Failed,
            Skipped,
            NotApplicable,
            Pending,
            Deferred,
            Pending,
        ]);
        assert_eq!((t.settled(), t.open()), (3, 4));
        assert_eq!(t.phrase(), "3 of 7 settled, 4 open, 1 of them failed");
        assert_eq!(
            t.describe(),
            "FAILED (3 of 7 settled, 4 open, 1 of them failed)"
        );
        assert_eq!(
            Tally::of([Done, Pending]).describe(),
            "incomplete (1 of 2 settled, 1 open)"
        );
    }
}
