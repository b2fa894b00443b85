//! Where the session stands at an instant: the transitions with the operator's confirmations of
//! approximate boundaries overlaid.
//!
//! An approximate boundary ("~11:00") is not passed at its planned time: it waits for the operator
//! to confirm it when observed. It is taken as passed anyway once a later fixed boundary passes,
//! so an unconfirmed failover cannot hold the screen in the failover phase for the rest of the day.
//! A confirmed one has passed, whatever the clock reads: a confirmation records what was
//! observed. (A watcher following several hosts can be on a clock behind the host that confirmed:
//! it must not count down to what that host already saw.)
//!
//! A step due a while after its phase's start (`due: "+20m"`) is resolved here too, where the
//! confirmations are laid over the plan: from the planned start until an approximate start is
//! confirmed, then from the confirmed instant ([`Timeline::resolve_dues`]). The app's model does
//! it on every refold and `handover`, `report` and the rehearsal report through
//! [`confirmed_plan`], so every reader of `Step::due` (the list, the header, overdue marks,
//! alerts, the texts) has the current value and none works it out again.

use crate::journal::Record;
use crate::runbook::{Plan, Session, Step, Transition};
use chrono::{DateTime, TimeDelta, Utc};
use std::borrow::Cow;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Timeline {
    pub transitions: Vec<Transition>,
    /// Confirmed instants of approximate transitions, by key.
    confirmed: HashMap<String, DateTime<Utc>>,
}

/// The session at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// The phase in progress, if any (none before, between or after phases).
    pub phase: Option<usize>,
    /// Index of the next transition not yet passed.
    pub next: Option<usize>,
    /// An approximate transition past its planned time, awaiting confirmation.
    pub awaiting: Option<usize>,
    /// How many transitions have passed.
    pub passed: usize,
}

impl Status {
    pub fn before_start(&self) -> bool {
        self.passed == 0
    }
    pub fn ended(&self) -> bool {
        self.next.is_none()
    }
}

impl Timeline {
    pub fn new(session: &Session) -> Self {
        Self {
            transitions: session.transitions(),
            confirmed: HashMap::new(),
        }
    }

    /// The session's timeline with the record's confirmations laid over it (the latest of each:
    /// an undo can take one back).
    pub fn with_confirmations(session: &Session, record: &Record) -> Self {
        let mut tl = Self::new(session);
        for (key, hist) in &record.confirmations {
            if let Some(c) = hist.last() {
                tl.confirm(key, c.confirmed);
            }
        }
        tl
    }

    /// Record that an approximate transition happened at `at`.
    pub fn confirm(&mut self, key: &str, at: DateTime<Utc>) {
        self.confirmed.insert(key.to_owned(), at);
    }

    pub fn confirmed_at(&self, i: usize) -> Option<DateTime<Utc>> {
        self.confirmed.get(&self.transitions[i].key).copied()
    }

    /// The instant a transition takes effect: confirmed if confirmed, else planned.
    pub fn effective(&self, i: usize) -> DateTime<Utc> {
        self.confirmed_at(i).unwrap_or(self.transitions[i].at)
    }

    /// Confirmed minus planned, for a confirmed transition.
    pub fn drift(&self, i: usize) -> Option<TimeDelta> {
        self.confirmed_at(i).map(|c| c - self.transitions[i].at)
    }

    fn passed_by_itself(&self, i: usize, now: DateTime<Utc>) -> bool {
        let t = &self.transitions[i];
        // Confirmed: observed, so passed, even when this clock reads earlier (see the module).
        self.confirmed_at(i).is_some() || (!t.approximate && t.at <= now)
    }

    /// Where the session stands at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> Status {
        // Passed transitions form a prefix: the last one passed by itself passes all before it.
        let passed = (0..self.transitions.len())
            .rev()
            .find(|&i| self.passed_by_itself(i, now))
            .map_or(0, |i| i + 1);
        let next = (passed < self.transitions.len()).then_some(passed);
        let phase = passed
            .checked_sub(1)
            .and_then(|i| self.transitions[i].starting);
        let awaiting = next.filter(|&i| {
            let t = &self.transitions[i];
            t.approximate && self.confirmed_at(i).is_none() && t.at <= now
        });
        Status {
            phase,
            next,
            awaiting,
            passed,
        }
    }

    /// The first approximate transition not yet confirmed and not yet passed: what `c` confirms.
    pub fn pending_confirmation(&self, now: DateTime<Utc>) -> Option<usize> {
        let st = self.status(now);
        (st.passed..self.transitions.len())
            .find(|&i| self.transitions[i].approximate && self.confirmed_at(i).is_none())
    }

    /// The transition that starts phase `p`, and the one that ends it.
    pub fn bounds_of(&self, p: usize) -> (usize, usize) {
        let start = self
            .transitions
            .iter()
            .position(|t| t.starting == Some(p))
            .unwrap_or(0);
        let end = self
            .transitions
            .iter()
            .position(|t| t.ending == Some(p))
            .unwrap_or(start);
        (start, end)
    }
}

impl Timeline {
    /// The transition that starts step `step`'s phase: the one a due after the start counts from.
    fn start_of(&self, step: &Step) -> usize {
        self.bounds_of(step.phase).0
    }

    /// Set `due` of every step written after its phase's start (`+20m`) from that start as it
    /// stands: confirmed when the start is approximate and confirmed, else planned (and then
    /// `due_approximate` while the start is approximate). Idempotent: it counts from
    /// `after_start`, never from the `due` it replaces, so an undone or corrected confirmation
    /// moves the due back or again.
    pub fn resolve_dues(&self, steps: &mut [Step]) {
        for step in steps.iter_mut() {
            let Some(after) = step.after_start else {
                continue;
            };
            let i = self.start_of(step);
            step.due = Some(self.effective(i) + after);
            step.due_approximate =
                self.transitions[i].approximate && self.confirmed_at(i).is_none();
        }
    }

    /// How a due written after its phase's start stands, in words, for the detail pane, the
    /// handover and the overdue alert: `20 min after Backup site starts, planned ~11:00 HKT, not
    /// confirmed yet`, `..., confirmed at 11:03:00 HKT`. `None` for a due written as a time.
    pub fn due_basis(&self, session: &Session, step: &Step) -> Option<String> {
        let after = step.after_start?;
        let phase = session.phases.get(step.phase)?;
        let i = self.start_of(step);
        let tz = session.tz;
        let span = crate::zones::after(after);
        let start = match self.confirmed_at(i) {
            Some(c) => format!("confirmed at {}", crate::zones::hms(c, tz)),
            None if self.transitions[i].approximate => format!(
                "planned ~{}, not confirmed yet",
                crate::zones::hm(self.transitions[i].at, tz)
            ),
            None => format!("at {}", crate::zones::hm(self.transitions[i].at, tz)),
        };
        let words = format!("{span} after {} starts, {start}", phase.title);
        Some(crate::text::clean_line(&words).into_owned())
    }
}

/// The plan with the record's confirmations laid over its dues ([`Timeline::resolve_dues`]):
/// what `handover`, `report` and the rehearsal report read, as the app's model does. Borrowed
/// when no step's due counts from its phase's start.
pub fn confirmed_plan<'a>(plan: &'a Plan, record: &Record) -> Cow<'a, Plan> {
    if plan.steps.iter().all(|s| s.after_start.is_none()) {
        return Cow::Borrowed(plan);
    }
    let mut out = plan.clone();
    Timeline::with_confirmations(&plan.session, record).resolve_dues(&mut out.steps);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::{Boundary, Phase};
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        // Hong Kong is UTC+8 all year.
        Utc.with_ymd_and_hms(2023, 11, 25, 0, 0, 0).unwrap()
            + TimeDelta::minutes(i64::from(h * 60 + m) - 8 * 60)
    }

    fn session() -> Session {
        let ph = |id: &str, s: (u32, u32, bool), e: (u32, u32, bool)| Phase {
            id: id.into(),
            title: id.into(),
            detail: String::new(),
            start: Boundary {
                at: at(s.0, s.1),
                approximate: s.2,
            },
            end: Boundary {
                at: at(e.0, e.1),
                approximate: e.2,
            },
        };
        Session {
            id: "s".into(),
            title: "s".into(),
            tz: chrono_tz::Asia::Hong_Kong,
            date: chrono::NaiveDate::from_ymd_opt(2023, 11, 25).unwrap(),
            lead: vec![],
            references: vec![],
            contacts: vec![],
            deadlines: vec![],
            choices: vec![],
            phases: vec![
                ph("primary", (8, 0, false), (10, 0, false)),
                ph("failover", (10, 0, false), (11, 0, true)),
                ph("backup", (11, 0, true), (12, 10, false)),
            ],
            source: String::new(),
            sha256: String::new(),
        }
    }

    #[test]
    fn shared_boundaries_merge_and_approximate_ones_wait_for_confirmation() {
        let mut tl = Timeline::new(&session());
        let keys: Vec<_> = tl.transitions.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(
            keys,
            ["primary.start", "primary.end", "failover.end", "backup.end"]
        );
        assert!(tl.status(at(7, 59)).before_start());
        assert_eq!(tl.status(at(9, 0)).phase, Some(0));
        let st = tl.status(at(11, 5));
        assert_eq!((st.phase, st.awaiting), (Some(1), Some(2)));
        tl.confirm("failover.end", at(11, 20));
        assert_eq!(
            tl.status(at(11, 10)).awaiting,
            None,
            "not awaiting once confirmed"
        );
        assert_eq!(tl.status(at(11, 21)).phase, Some(2));
        // walk 3 R12: a clock behind the confirmation (a watcher on another host's clock) is
        // past it too: no countdown to a boundary already observed.
        let st = tl.status(at(11, 10));
        assert_eq!((st.phase, st.next), (Some(2), Some(3)));
        assert_eq!(tl.drift(2), Some(TimeDelta::minutes(20)));
        assert!(tl.status(at(12, 10)).ended());
    }

    #[test]
    fn a_later_fixed_boundary_passes_an_unconfirmed_one() {
        let tl = Timeline::new(&session());
        let st = tl.status(at(12, 30));
        assert!(st.ended());
        assert_eq!(st.phase, None);
        assert_eq!(tl.pending_confirmation(at(9, 0)), Some(2));
    }
}
