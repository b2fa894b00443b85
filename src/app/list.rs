//! What the step list shows and in what order: the viewed phase's steps of every role in one time
//! order, the open steps carried from phases that have ended, the view of every open step, the
//! filters by role and state, and the search.
//!
//! Time order within a phase: the due time; a step without one keeps its place in its runbook (it
//! sorts at the due time of the step written before it, else at the phase's start), so an EP's
//! 09:55 snapshot no longer sits above an HSN 08:15 logon just because the EP runbook came first.
//!
//! Carried steps follow the electronic checklist's rule: a phase can end "complete except
//! deferred items", and those items stay in front of the crew. When the clock's phase is listed,
//! the open steps (pending, failed, deferred) of every phase that has ended come first, the most
//! recent phase first, each group under "carried from <phase>", until they are settled.

use super::Model;
use crate::journal::StepState;
use crate::runbook::Plan;
use chrono::{DateTime, Utc};

/// One row of the list: a group's heading, or a step (its index into `Plan::steps`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// Open steps of a phase that has ended, shown with the current phase.
    Carried {
        phase: usize,
        open: usize,
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
    let mut key: Vec<(usize, DateTime<Utc>, usize)> = Vec::with_capacity(plan.steps.len());
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
        key.push((s.phase, at, i));
    }
    key.sort();
    key.into_iter().map(|(_, _, i)| i).collect()
}

impl Model {
    /// Whether a step is still open: pending, failed or deferred.
    pub fn is_open(&self, i: usize) -> bool {
        self.state(i).is_open()
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

    /// The list as shown: headings and steps.
    pub fn rows(&self, now: DateTime<Utc>) -> Vec<Row> {
        let mut rows = Vec::new();
        match self.list_view {
            ListView::Phase => {
                let mut carried_any = false;
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
                    });
                    rows.extend(steps.into_iter().map(Row::Step));
                }
                let own: Vec<usize> = self
                    .order
                    .iter()
                    .copied()
                    .filter(|&i| self.plan.steps[i].phase == self.view_phase)
                    .filter(|&i| self.passes(i, now))
                    .collect();
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

    /// The overdue critical step the operator should act on now, if any: what the header points
    /// at first. One of the clock's phase when there is one, else the most recently due: at
    /// 09:56 the 09:55 snapshot, not a preparation item two days old that an all-day header
    /// would otherwise show (those stay in `o` and `O`, oldest first). Among several, the most
    /// recently due: the one whose moment has just passed. A step that applies only on a choice
    /// not recorded yet ("log off at 10:00" for a firm that may stay connected) comes after
    /// every step that surely applies: the header must not lead with an instruction that may
    /// be the wrong one.
    pub fn overdue_critical_now(&self, now: DateTime<Utc>) -> Option<usize> {
        let phase = self.clock_phase(now);
        // Ties (several due at 08:15) go to the first in the list's order.
        self.order
            .iter()
            .copied()
            .enumerate()
            .filter(|&(_, i)| self.plan.steps[i].critical && self.overdue(i, now))
            .max_by_key(|&(k, i)| {
                let s = &self.plan.steps[i];
                let sure = crate::setup::undecided(&self.plan, s, &self.record)
                    .next()
                    .is_none();
                (sure, s.phase == phase, s.due, std::cmp::Reverse(k))
            })
            .map(|(_, i)| i)
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
}
