//! The state of the session's record: a fold over the journal's events.
//!
//! Every change keeps its history (seq, who, when), so an undo (itself a new event) removes the
//! undone entry from the history and the state is whatever is left on top. Nothing is erased from
//! the file.

use super::event::{Action, Captured, CheckOutcome, Event, StepState};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// Who did something and when (session clock).
#[derive(Debug, Clone, PartialEq)]
pub struct Stamp {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub operator: String,
    pub host: String,
}

impl Stamp {
    pub(crate) fn of(e: &Event) -> Self {
        Self {
            seq: e.seq,
            at: e.session_time(),
            operator: e.operator.clone(),
            host: e.host.clone(),
        }
    }
    pub fn who(&self) -> String {
        format!("{}@{}", self.operator, self.host)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    pub state: StepState,
    pub note: Option<String>,
    pub stamp: Stamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NoteEntry {
    pub step: Option<String>,
    pub text: String,
    /// Marked by the operator as an issue.
    pub issue: bool,
    pub stamp: Stamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceEntry {
    pub value: String,
    /// Sensed by a check of this kind (`log`, `tcp`, ...) rather than typed by the operator;
    /// the stamp is the check event's.
    pub sensed: Option<String>,
    pub stamp: Stamp,
}

/// One run of a step's check, as journaled.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckEntry {
    pub check: String,
    pub target: String,
    pub outcome: CheckOutcome,
    pub detail: String,
    pub values: Vec<Captured>,
    /// When the probe started (wall clock) and how long it took.
    pub started: DateTime<Utc>,
    pub duration_ms: u64,
    pub simulated: bool,
    /// The log line a passing log check took.
    pub line: Option<super::LineRef>,
    pub stamp: Stamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Confirmation {
    pub planned: DateTime<Utc>,
    pub confirmed: DateTime<Utc>,
    pub note: Option<String>,
    pub stamp: Stamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NotificationEntry {
    pub key: String,
    pub channel: String,
    pub ok: bool,
    pub title: String,
    pub error: Option<String>,
    pub stamp: Stamp,
}

/// What happened at a shift's edges: a writer attached or left, an incoming operator
/// acknowledged the handover.
#[derive(Debug, Clone, PartialEq)]
pub enum ShiftKind {
    Attach { roles: Vec<String> },
    Detach { reason: String },
    Handover { note: Option<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ShiftEntry {
    pub kind: ShiftKind,
    pub stamp: Stamp,
}

/// A notification preflight (`drillbook notify-test`) and the operator's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyCheckEntry {
    pub channels: Vec<String>,
    pub detected: String,
    /// Whether the operator saw the test notification; None: could not ask.
    pub answer: Option<bool>,
    pub stamp: Stamp,
}

/// Everything the journal says, folded.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// State history per step id, oldest first; the last entry is the current state.
    pub steps: HashMap<String, Vec<StateChange>>,
    /// Evidence history per (step, field): typed by the operator, or sensed by a check.
    pub evidence: BTreeMap<(String, String), Vec<EvidenceEntry>>,
    /// Check runs per step id, oldest first.
    pub checks: HashMap<String, Vec<CheckEntry>>,
    pub notes: Vec<NoteEntry>,
    /// Confirmation history per boundary key.
    pub confirmations: HashMap<String, Vec<Confirmation>>,
    pub notifications: Vec<NotificationEntry>,
    pub handovers: Vec<Stamp>,
    /// Attach, detach and handover acknowledgements, oldest first: the shift history.
    pub shifts: Vec<ShiftEntry>,
    /// Notification preflights, oldest first.
    pub notify_checks: Vec<NotifyCheckEntry>,
    pub phases_entered: Vec<(String, Stamp)>,
    /// Operator actions still in effect, in order: the last is what undo takes back.
    pub undoable: Vec<u64>,
    /// Operator actions recorded (undos included), for "resumed N actions".
    pub actions: usize,
    /// The last event of any kind.
    pub last: Option<Stamp>,
    pub last_seq: u64,
}

impl Record {
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut r = Self::default();
        for e in events {
            r.apply(e);
        }
        r
    }

    /// Fold one event in.
    pub fn apply(&mut self, e: &Event) {
        self.fold(e);
        self.last = Some(Stamp::of(e));
    }

    /// Fold one event in without updating `last`: replay sets it once, from the final event,
    /// instead of cloning who and when for every line.
    pub(crate) fn fold(&mut self, e: &Event) {
        let stamp = || Stamp::of(e);
        self.last_seq = e.seq;
        if e.action.is_operator_action() {
            self.actions += 1;
            self.undoable.push(e.seq);
        }
        match &e.action {
            Action::Step { step, state, note } => {
                let change = StateChange {
                    state: *state,
                    note: note.clone(),
                    stamp: stamp(),
                };
                // Look up before inserting: most changes are to steps already in the map.
                match self.steps.get_mut(step) {
                    Some(h) => h.push(change),
                    None => {
                        self.steps.insert(step.clone(), vec![change]);
                    }
                }
            }
            Action::Note { step, text, issue } => self.notes.push(NoteEntry {
                step: step.clone(),
                text: text.clone(),
                issue: *issue,
                stamp: stamp(),
            }),
            Action::Evidence { step, field, value } => {
                self.evidence
                    .entry((step.clone(), field.clone()))
                    .or_default()
                    .push(EvidenceEntry {
                        value: value.clone(),
                        sensed: None,
                        stamp: stamp(),
                    });
            }
            Action::BoundaryConfirmed {
                boundary,
                planned,
                confirmed,
                note,
                ..
            } => {
                self.confirmations
                    .entry(boundary.clone())
                    .or_default()
                    .push(Confirmation {
                        planned: *planned,
                        confirmed: *confirmed,
                        note: note.clone(),
                        stamp: stamp(),
                    });
            }
            Action::Notification {
                key,
                channel,
                ok,
                title,
                error,
                ..
            } => self.notifications.push(NotificationEntry {
                key: key.clone(),
                channel: channel.clone(),
                ok: *ok,
                title: title.clone(),
                error: error.clone(),
                stamp: stamp(),
            }),
            Action::PhaseEntered { phase } => self.phases_entered.push((phase.clone(), stamp())),
            Action::Handover { note } => {
                self.handovers.push(stamp());
                self.shifts.push(ShiftEntry {
                    kind: ShiftKind::Handover { note: note.clone() },
                    stamp: stamp(),
                });
            }
            Action::Attach { roles, .. } => self.shifts.push(ShiftEntry {
                kind: ShiftKind::Attach {
                    roles: roles.clone(),
                },
                stamp: stamp(),
            }),
            Action::Detach { reason } => self.shifts.push(ShiftEntry {
                kind: ShiftKind::Detach {
                    reason: reason.clone(),
                },
                stamp: stamp(),
            }),
            Action::Undo { target } => {
                self.actions += 1;
                self.undo(*target);
            }
            Action::NotifyCheck {
                channels,
                detected,
                answer,
            } => self.notify_checks.push(NotifyCheckEntry {
                channels: channels.clone(),
                detected: detected.clone(),
                answer: *answer,
                stamp: stamp(),
            }),
            Action::Check {
                step,
                check,
                target,
                outcome,
                detail,
                values,
                started,
                duration_ms,
                simulated,
                line,
            } => {
                // What a passing check captured for a field is that field's current value, as
                // sensed; a typed value recorded later goes on top of it.
                if *outcome == CheckOutcome::Pass {
                    for v in values {
                        if let Some(field) = &v.field {
                            self.evidence
                                .entry((step.clone(), field.clone()))
                                .or_default()
                                .push(EvidenceEntry {
                                    value: v.value.clone(),
                                    sensed: Some(check.clone()),
                                    stamp: stamp(),
                                });
                        }
                    }
                }
                self.checks
                    .entry(step.clone())
                    .or_default()
                    .push(CheckEntry {
                        check: check.clone(),
                        target: target.clone(),
                        outcome: *outcome,
                        detail: detail.clone(),
                        values: values.clone(),
                        started: *started,
                        duration_ms: *duration_ms,
                        simulated: *simulated,
                        line: line.as_deref().cloned(),
                        stamp: stamp(),
                    });
            }
            // A rehearsal clock's changes are for a watcher's clock and the rehearsal report,
            // which read the events: the record of the session does not change.
            Action::TornSetAside { .. } | Action::RehearsalClock { .. } => {}
        }
    }

    fn undo(&mut self, target: u64) {
        self.undoable.retain(|&s| s != target);
        for h in self.steps.values_mut() {
            h.retain(|c| c.stamp.seq != target);
        }
        for h in self.evidence.values_mut() {
            h.retain(|c| c.stamp.seq != target);
        }
        for h in self.confirmations.values_mut() {
            h.retain(|c| c.stamp.seq != target);
        }
        self.notes.retain(|n| n.stamp.seq != target);
    }

    /// The current state of a step; `default` when the journal has nothing for it.
    pub fn state_of(&self, step: &str) -> Option<&StateChange> {
        self.steps.get(step).and_then(|h| h.last())
    }

    /// The current value of an evidence field.
    pub fn evidence_of(&self, step: &str, field: &str) -> Option<&EvidenceEntry> {
        self.evidence
            .get(&(step.to_owned(), field.to_owned()))
            .and_then(|h| h.last())
    }

    /// The newest run of a step's check.
    pub fn last_check(&self, step: &str) -> Option<&CheckEntry> {
        self.checks.get(step).and_then(|h| h.last())
    }

    /// The current confirmation of an approximate boundary.
    pub fn confirmation(&self, key: &str) -> Option<&Confirmation> {
        self.confirmations.get(key).and_then(|h| h.last())
    }

    /// Whether a notification with this key was already sent or attempted on `channel`.
    pub fn notified(&self, key: &str, channel: &str) -> bool {
        self.notifications
            .iter()
            .any(|n| n.key == key && n.channel == channel)
    }

    /// Whether a notification with this key was handled on any channel.
    pub fn notified_any(&self, key: &str) -> bool {
        self.notifications.iter().any(|n| n.key == key)
    }

    /// The action `undo` would take back now.
    pub fn last_undoable(&self) -> Option<u64> {
        self.undoable.last().copied()
    }
}
