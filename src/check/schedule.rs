//! When automatic checks run: a step whose check has `every:` is checked while its phase is in
//! progress (on the session clock, confirmations included) and the step is still open (pending
//! or deferred), every so often on the wall clock (a rehearsal at x60 does not probe sixty times
//! as often), until a run passes. A run that cannot observe anything (not configured, refused)
//! also stops the repeats: running it again changes nothing until the operator does (`r` runs
//! it again).

use crate::journal::{CheckOutcome, Record};
use crate::runbook::Plan;
use crate::timeline::Timeline;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::{HashMap, HashSet};

/// What the scheduler remembers between ticks: when each step's check last started (wall
/// clock) and which are running now.
#[derive(Debug, Clone, Default)]
pub struct Schedule {
    last_start: HashMap<String, DateTime<Utc>>,
    running: HashSet<String>,
}

impl Schedule {
    pub fn new() -> Self {
        Self::default()
    }

    /// Plan indices of the steps whose automatic check is due: at `session_now` their phase is
    /// in progress and they are open, their last run (in the record) neither passed nor could
    /// not run, none is running, and `every` has passed on the wall clock since the last start.
    pub fn due(
        &self,
        plan: &Plan,
        timeline: &Timeline,
        record: &Record,
        session_now: DateTime<Utc>,
        wall_now: DateTime<Utc>,
    ) -> Vec<usize> {
        let phase = timeline.status(session_now).phase;
        plan.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| Some(s.phase) == phase)
            .filter_map(|(i, s)| Some((i, s, s.check.as_ref()?.every?)))
            .filter(|(_, s, _)| !self.running.contains(&s.id))
            .filter(|(_, s, _)| crate::setup::state_of(plan, s, record).awaits_action())
            .filter(|(_, s, _)| {
                !record.last_check(&s.id).is_some_and(|c| {
                    matches!(
                        c.outcome,
                        CheckOutcome::Pass | CheckOutcome::NotConfigured | CheckOutcome::Refused
                    )
                })
            })
            .filter(|(_, s, every)| {
                self.last_start.get(&s.id).is_none_or(|last| {
                    *last + TimeDelta::from_std(*every).unwrap_or(TimeDelta::MAX) <= wall_now
                })
            })
            .map(|(i, _, _)| i)
            .collect()
    }

    /// A check of `step` started (automatically or by the operator's `r`).
    pub fn started(&mut self, step: &str, wall_now: DateTime<Utc>) {
        self.last_start.insert(step.to_owned(), wall_now);
        self.running.insert(step.to_owned());
    }

    /// Its result came back (and was journaled).
    pub fn finished(&mut self, step: &str) {
        self.running.remove(step);
    }

    /// Whether a check of `step` is running.
    pub fn is_running(&self, step: &str) -> bool {
        self.running.contains(step)
    }
}
