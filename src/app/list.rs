//! What the step list shows and in what order: the viewed phase's steps of every role in one time
//! order, the open steps carried from phases that have ended, the view of every open step, the
//! filters by role and state, and the search.
//!
//! Time order within a phase: the due time; a step without one keeps its place in its runbook (it
//! sorts at the due time of the step written before it, else at the phase's start), so an EP's
//! 09:55 snapshot no longer sits above an HSN 08:15 logon just because the EP runbook came first.
//! A step due in the phase's opening quarter hour ([`SOON`]) is the phase's first action ("log
//! off at 10:00", due 10:05): it sorts before the steps that have no time of their own, which
//! would otherwise fill the screen above it at 10:00 (walk 3 R10).
//!
//! Carried steps follow the electronic checklist's rule: a phase can end "complete except
//! deferred items", and those items stay in front of the crew. When the clock's phase is listed,
//! the open steps (pending, failed, deferred) of every phase that has ended come first, the most
//! recent phase first, each group under "carried from <phase>", until they are settled. A group
//! is folded to its heading (its open and overdue counts) so that the phase's own steps are on
//! screen under the banner that says "Now: the steps of …" (walk 3 R18: 33 carried rows hid
//! them); `z` unfolds every group, a filter shows what it lets through, and the selected step
//! always shows under its heading, so a selection kept across the boundary stays in view.

use super::Model;
use crate::journal::StepState;
use crate::runbook::Plan;
use chrono::{DateTime, TimeDelta, Utc};

/// How soon is soon: a phase's opening (a step due in it is the phase's first action), and how
/// far ahead the header looks for the current phase's next critical step. A quarter hour, as long
/// as the session's longest warning before a boundary.
pub const SOON: TimeDelta = TimeDelta::minutes(15);

/// One row of the list: a group's heading, or a step (its index into `Plan::steps`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// Open steps of a phase that has ended, shown with the current phase: `open` of them,
    /// `overdue` past due; `folded` when only the heading (and the selected step, if it is one
    /// of them) shows.
    Carried {
        phase: usize,
        open: usize,
        overdue: usize,
        folded: bool,
    },
    /// The listed phase's own steps, after carried groups.
    Own {
        phase: usize,
        steps: usize,
    },
    /// The open-items view: the steps past their due time, oldest first.
    Overdue {
        steps: usize,
    },
    /// The open-items view: the other open steps of one phase.
    OpenIn {
        phase: usize,
        open: usize,
    },
    Step(usize),
}

/// What the header leads with: a critical step to act on now, overdue or due soon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Focus {
    pub step: usize,
    pub overdue: bool,
}

/// Which list is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListView {
    /// The viewed phase (with carried steps when it is the clock's phase).
    #[default]
    Phase,
    /// Every open step across phases, overdue first (`o`).
    Open,
}

/// The state filter, cycled with `F`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateFilter {
    #[default]
    All,
    /// Pending, failed or deferred.
    Open,
    /// Open and past its due time.
    Overdue,
    Failed,
    Deferred,
    /// Done, skipped or n/a.
    Settled,
}

impl StateFilter {
    #[must_use]
    pub fn next(self) -> Self {
        match self {
            StateFilter::All => StateFilter::Open,
            StateFilter::Open => StateFilter::Overdue,
            StateFilter::Overdue => StateFilter::Failed,
            StateFilter::Failed => StateFilter::Deferred,
            StateFilter::Deferred => StateFilter::Settled,
            StateFilter::Settled => StateFilter::All,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            StateFilter::All => "all states",
            StateFilter::Open => "open",
            StateFilter::Overdue => "overdue",
            StateFilter::Failed => "failed",
            StateFilter::Deferred => "deferred",
            StateFilter::Settled => "settled",
        }
    }
}

/// The filters in force: a role (None: every role) and a state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub role: Option<String>,
    pub state: StateFilter,
}

impl Filter {
    pub fn is_on(&self) -> bool {
        self.role.is_some() || self.state != StateFilter::All
    }

    /// `role hsn, open`, for the list's rule.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(r) = &self.role {
            parts.push(format!("role {}", crate::text::clean_line(r)));
        }
        if self.state != StateFilter::All {
            parts.push(self.state.word().to_owned());
        }
        parts.join(", ")
    }
}

/// Every step's index, phase by phase, each phase in time order.
pub fn time_order(plan: &Plan) -> Vec<usize> {
    // (phase, when it sorts, 0 for a step due in the phase's opening, its own time, index)
    type Key = (usize, DateTime<Utc>, u8, DateTime<Utc>, usize);
    let mut key: Vec<Key> = Vec::with_capacity(plan.steps.len());
    // The due time a step without one sorts at: the one written before it in its runbook.
    let mut last: Option<(usize, usize, DateTime<Utc>)> = None;
    for (i, s) in plan.steps.iter().enumerate() {
        let inherited = match last {
            Some((rb, ph, t)) if rb == s.runbook && ph == s.phase => Some(t),
            _ => None,
        };
        let phase_start = plan
            .session
            .phases
            .get(s.phase)
            .map(|p| p.start.at)
            .unwrap_or_default();
        let at = s.due.or(inherited).unwrap_or(phase_start);
        if s.due.is_some() || inherited.is_none() {
            last = Some((s.runbook, s.phase, at));
        }
        // Due in the opening: at the phase's start, ahead of the steps that sort there for want
        // of a time of their own.
        let opening = s
            .due
            .is_some_and(|d| d >= phase_start && d <= phase_start + SOON);
        let sorts = if opening { phase_start } else { at };
        key.push((s.phase, sorts, u8::from(!opening), at, i));
    }
    key.sort();
    key.into_iter().map(|(.., i)| i).collect()
}

impl Model {
    /// Whether a step is still open: pending, failed or deferred.
    pub fn is_open(&self, i: usize) -> bool {
        self.state(i).is_open()
    }

    /// The condition step `i` hangs on while a choice it names is unrecorded (`if log-off`).
    pub fn condition(&self, i: usize) -> Option<String> {
        crate::setup::condition(&self.plan, &self.plan.steps[i], &self.record)
    }

    /// Whether the carried groups are folded to their headings: unless `z` unfolded them or a
    /// filter is on (a filter shows what it lets through).
    pub fn carried_folded(&self) -> bool {
        !self.unfold_carried && !self.filter.is_on()
    }

    /// Whether the filters let a step through.
    pub fn passes(&self, i: usize, now: DateTime<Utc>) -> bool {
        let s = &self.plan.steps[i];
        if self.filter.role.as_ref().is_some_and(|r| *r != s.role) {
            return false;
        }
        let state = self.state(i);
        match self.filter.state {
            StateFilter::All => true,
            StateFilter::Open => state.is_open(),
            StateFilter::Overdue => self.overdue(i, now),
            StateFilter::Failed => state == StepState::Failed,
            StateFilter::Deferred => state == StepState::Deferred,
            StateFilter::Settled => state.is_settled(),
        }
    }

    /// Whether phase `p` has ended at `now` (its end boundary passed).
    pub fn ended(&self, p: usize, now: DateTime<Utc>) -> bool {
        let (_, end) = self.timeline.bounds_of(p);
        self.status_at(now).passed > end
    }

    /// The open steps of phase `p`, in time order, unfiltered.
    pub fn open_in(&self, p: usize) -> Vec<usize> {
        self.order
            .iter()
            .copied()
            .filter(|&i| self.plan.steps[i].phase == p && self.is_open(i))
            .collect()
    }

    /// The phases whose open steps are carried into the viewed phase, most recent first: every
    /// phase that has ended with steps open, when the viewed phase is the clock's.
    pub fn carried_phases(&self, now: DateTime<Utc>) -> Vec<usize> {
        if self.view_phase != self.clock_phase(now) {
            return Vec::new();
        }
        (0..self.plan.session.phases.len())
            .rev()
            .filter(|&q| q != self.view_phase && self.ended(q, now))
            .filter(|&q| !self.open_in(q).is_empty())
            .collect()
    }

    /// The steps the list covers, folded or not: the carried ones (most recent phase first) and
    /// the viewed phase's own, within the filters. What the rule counts.
    pub fn covered_steps(&self, now: DateTime<Utc>) -> Vec<usize> {
        match self.list_view {
            ListView::Phase => {
                let mut v: Vec<usize> = self
                    .carried_phases(now)
                    .into_iter()
                    .flat_map(|q| self.open_in(q))
                    .filter(|&i| self.passes(i, now))
                    .collect();
                v.extend(self.own_steps(now));
                v
            }
            ListView::Open => self.list_steps(now),
        }
    }

    /// The viewed phase's steps, in time order, within the filters.
    fn own_steps(&self, now: DateTime<Utc>) -> Vec<usize> {
        self.order
            .iter()
            .copied()
            .filter(|&i| self.plan.steps[i].phase == self.view_phase)
            .filter(|&i| self.passes(i, now))
            .collect()
    }

    /// The list as shown: headings and steps.
    pub fn rows(&self, now: DateTime<Utc>) -> Vec<Row> {
        let mut rows = Vec::new();
        match self.list_view {
            ListView::Phase => {
                let mut carried_any = false;
                let folded = self.carried_folded();
                for q in self.carried_phases(now) {
                    let steps: Vec<usize> = self
                        .open_in(q)
                        .into_iter()
                        .filter(|&i| self.passes(i, now))
                        .collect();
                    if steps.is_empty() {
                        continue;
                    }
                    carried_any = true;
                    rows.push(Row::Carried {
                        phase: q,
                        open: steps.len(),
                        overdue: steps.iter().filter(|&&i| self.overdue(i, now)).count(),
                        folded,
                    });
                    // Folded, the group shows the selected step alone, if it is one of them.
                    rows.extend(
                        steps
                            .into_iter()
                            .filter(|&i| !folded || self.cursor == Some(i))
                            .map(Row::Step),
                    );
                }
                let own = self.own_steps(now);
                if carried_any {
                    rows.push(Row::Own {
                        phase: self.view_phase,
                        steps: own.len(),
                    });
                }
                rows.extend(own.into_iter().map(Row::Step));
            }
            ListView::Open => {
                let mut overdue: Vec<usize> = self
                    .order
                    .iter()
                    .copied()
                    .filter(|&i| self.overdue(i, now) && self.passes(i, now))
                    .collect();
                overdue.sort_by_key(|&i| self.plan.steps[i].due);
                if !overdue.is_empty() {
                    rows.push(Row::Overdue {
                        steps: overdue.len(),
                    });
                    rows.extend(overdue.iter().copied().map(Row::Step));
                }
                for p in 0..self.plan.session.phases.len() {
                    let open: Vec<usize> = self
                        .open_in(p)
                        .into_iter()
                        .filter(|&i| !self.overdue(i, now) && self.passes(i, now))
                        .collect();
                    if open.is_empty() {
                        continue;
                    }
                    rows.push(Row::OpenIn {
                        phase: p,
                        open: open.len(),
                    });
                    rows.extend(open.into_iter().map(Row::Step));
                }
            }
        }
        rows
    }

    /// The steps of the list, in its order.
    pub fn list_steps(&self, now: DateTime<Utc>) -> Vec<usize> {
        self.rows(now)
            .into_iter()
            .filter_map(|r| match r {
                Row::Step(i) => Some(i),
                _ => None,
            })
            .collect()
    }

    /// The open steps past their due time, oldest first (ties in time order), filtered by role.
    pub fn overdue_steps(&self, now: DateTime<Utc>) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .order
            .iter()
            .copied()
            .filter(|&i| self.overdue(i, now))
            .filter(|&i| {
                self.filter
                    .role
                    .as_ref()
                    .is_none_or(|r| *r == self.plan.steps[i].role)
            })
            .collect();
        v.sort_by_key(|&i| self.plan.steps[i].due);
        v
    }

    /// The critical step to act on now, if any: what the header leads with, overdue or due soon.
    /// One rule ranks the candidates, critical steps not acted on yet (pending or deferred;
    /// never a failed one: it was acted on) that are past due, or due within [`SOON`] in the
    /// clock's phase:
    /// 1. a step that surely applies before one that applies only on a choice not recorded yet
    ///    ("log off at 10:00" for a firm that may stay connected): the header must not lead with
    ///    an instruction that may be the wrong one;
    /// 2. the clock's phase before earlier ones: at 10:02 the failover's 10:05 log-off, not the
    ///    09:55 snapshot (walk 3 R10), and at 09:56 that snapshot, not a preparation item two
    ///    days old (those stay in `o` and `O`, oldest first);
    /// 3. overdue before due soon;
    /// 4. among the overdue, the most recently due (the one whose moment has just passed); among
    ///    those due soon, the soonest; ties go to the first in the list's order.
    pub fn act_on_now(&self, now: DateTime<Utc>) -> Option<Focus> {
        self.ranked(now, true)
    }

    /// The overdue critical step the header names, by [`Model::act_on_now`]'s rule among the
    /// overdue ones alone.
    pub fn overdue_critical_now(&self, now: DateTime<Utc>) -> Option<usize> {
        self.ranked(now, false).map(|f| f.step)
    }

    fn ranked(&self, now: DateTime<Utc>, soon: bool) -> Option<Focus> {
        use std::cmp::Reverse;
        let phase = self.clock_phase(now);
        self.order
            .iter()
            .copied()
            .enumerate()
            .filter_map(|(k, i)| {
                let s = &self.plan.steps[i];
                let due = s.due?;
                if !s.critical || !self.state(i).awaits_action() {
                    return None;
                }
                let overdue = due < now;
                let due_soon = soon && !overdue && s.phase == phase && due <= now + SOON;
                (overdue || due_soon).then_some((k, i, due, overdue))
            })
            .max_by_key(|&(k, i, due, overdue)| {
                let s = &self.plan.steps[i];
                let sure = self.condition(i).is_none();
                // Most recently due among the overdue, soonest among those due soon.
                let recent = overdue.then_some(due);
                let soonest = Reverse((!overdue).then_some(due));
                (sure, s.phase == phase, overdue, recent, soonest, Reverse(k))
            })
            .map(|(_, step, _, overdue)| Focus { step, overdue })
    }

    /// The step not acted on yet (pending or deferred) due soonest after `now`, other than
    /// `except`: the header's "Next due". Never a failed step: it was acted on, and needs a
    /// follow-up, not a reminder that it is due.
    pub fn next_due(&self, now: DateTime<Utc>, except: Option<usize>) -> Option<usize> {
        (0..self.plan.steps.len())
            .filter(|&i| Some(i) != except)
            .filter(|&i| self.state(i).awaits_action())
            .filter(|&i| self.plan.steps[i].due.is_some_and(|d| d > now))
            .min_by_key(|&i| (self.plan.steps[i].due, self.condition(i).is_some()))
    }

    /// The steps the search matches (titles, ids, details; any case), in phase and time order,
    /// within the filters.
    pub fn search_matches(&self, now: DateTime<Utc>) -> Vec<usize> {
        self.matches_for(self.search.as_deref().unwrap_or_default(), now)
    }

    /// Where Enter on `/` lands among `matches`: the first at or after the selected step, in
    /// phase and time order, else the first. The prompt's hint says the same.
    pub fn match_from_selection(&self, matches: &[usize]) -> usize {
        let rank = |i: usize| self.order.iter().position(|&x| x == i).unwrap_or(0);
        let here = self.cursor.map_or(0, rank);
        matches.iter().position(|&i| rank(i) >= here).unwrap_or(0)
    }

    /// The steps `query` matches (see [`Model::search_matches`]); none for an empty query.
    pub fn matches_for(&self, query: &str, now: DateTime<Utc>) -> Vec<usize> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return Vec::new();
        }
        self.order
            .iter()
            .copied()
            .filter(|&i| {
                let s = &self.plan.steps[i];
                s.title.to_lowercase().contains(&q)
                    || s.id.to_lowercase().contains(&q)
                    || s.detail.to_lowercase().contains(&q)
            })
            .filter(|&i| self.passes(i, now))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_of_all_roles_interleave_by_due_time_and_undated_ones_keep_their_place() {
        let plan =
            crate::runbook::load_bundled(&["ep".into(), "hsn".into(), "omd".into()]).unwrap();
        let order = time_order(&plan);
        assert_eq!(order.len(), plan.steps.len());
        let primary = plan.session.phase_index("primary").unwrap();
        let ids: Vec<&str> = order
            .iter()
            .filter(|&&i| plan.steps[i].phase == primary)
            .map(|&i| plan.steps[i].id.as_str())
            .collect();
        let pos = |id: &str| ids.iter().position(|x| *x == id).unwrap();
        // An HSN step due 08:15 comes before the EP snapshot due 09:55.
        assert!(
            pos("hsn-primary-connectivity") < pos("ep-primary-boundary"),
            "{ids:?}"
        );
        // The undated EP step written after the 08:30 step stays after it, and before 09:55.
        assert!(pos("ep-primary-start-of-day") < pos("ep-primary-simulate"));
        assert!(pos("ep-primary-simulate") < pos("ep-primary-boundary"));
        // Dated steps are in due order.
        let dues: Vec<_> = order
            .iter()
            .filter(|&&i| plan.steps[i].phase == primary)
            .filter_map(|&i| plan.steps[i].due)
            .collect();
        assert!(dues.windows(2).all(|w| w[0] <= w[1]), "{dues:?}");
    }

    /// Walk 3 R10: at 10:00 the 10:05 "log off at 10:00" was the 7th failover row, under the
    /// undated steps of every role. A step due in the phase's opening quarter hour comes first;
    /// one due later keeps the time order (the backup site's logons, undated, stay above its
    /// 12:05 end-of-window step).
    #[test]
    fn a_step_due_in_the_phase_opening_sorts_before_the_steps_with_no_time() {
        let plan =
            crate::runbook::load_bundled(&["ep".into(), "hsn".into(), "omd".into()]).unwrap();
        let order = time_order(&plan);
        let ids = |phase: &str| -> Vec<&str> {
            let p = plan.session.phase_index(phase).unwrap();
            order
                .iter()
                .filter(|&&i| plan.steps[i].phase == p)
                .map(|&i| plan.steps[i].id.as_str())
                .collect()
        };
        let failover = ids("failover");
        assert_eq!(failover[0], "ep-failover-logoff", "{failover:?}");
        let pos = |v: &[&str], id: &str| v.iter().position(|x| *x == id).unwrap();
        // The runbook's own order after it: the undated step written after it stays after it.
        assert!(pos(&failover, "ep-failover-window") < pos(&failover, "ep-failover-disconnects"));
        let backup = ids("backup");
        assert_eq!(backup[0], "ep-backup-ocg-lookup", "{backup:?}");
        assert!(pos(&backup, "ep-backup-logon-trading") < pos(&backup, "ep-backup-end"));
        assert!(pos(&backup, "hsn-backup-connectivity") < pos(&backup, "ep-backup-end"));
    }
}
