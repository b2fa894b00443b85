//! One journal line: the envelope every event carries, and the actions it records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The state of a step. Shown everywhere as a glyph and a word, never by colour alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum StepState {
    #[default]
    #[serde(rename = "pending")]
    Pending,
    #[serde(rename = "done")]
    Done,
    /// Requires a note saying what failed.
    #[serde(rename = "failed")]
    Failed,
    /// Requires a reason.
    #[serde(rename = "skipped")]
    Skipped,
    /// Not applicable by design (a CCEP's order steps): never counted as failed.
    #[serde(rename = "n/a")]
    NotApplicable,
    #[serde(rename = "deferred")]
    Deferred,
}

impl StepState {
    /// The word shown beside the glyph and written in reports.
    pub fn word(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Done => "done",
            StepState::Failed => "failed",
            StepState::Skipped => "skipped",
            StepState::NotApplicable => "n/a",
            StepState::Deferred => "deferred",
        }
    }

    /// A glyph that reads without colour and survives a plain terminal font.
    pub fn glyph(self) -> &'static str {
        match self {
            StepState::Pending => "[ ]",
            StepState::Done => "[x]",
            StepState::Failed => "[!]",
            StepState::Skipped => "[-]",
            StepState::NotApplicable => "[/]",
            StepState::Deferred => "[>]",
        }
    }

    /// Whether this state needs a note (failed) or reason (skipped) before it can be recorded.
    pub fn needs_note(self) -> bool {
        matches!(self, StepState::Failed | StepState::Skipped)
    }

    /// Settled: nothing more is expected of the step.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            StepState::Done | StepState::Skipped | StepState::NotApplicable
        )
    }
}

/// Rehearsal stamp: present on every event of a rehearsal journal, so that nothing done in a
/// rehearsal can be mistaken for the real record.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rehearsal {
    /// The session-clock (virtual) instant.
    pub virtual_utc: DateTime<Utc>,
    pub speed: f64,
}

/// What happened. Serialised with a `kind` tag, flattened into the event line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// A process started writing (or reading, for `watch`, which writes nothing).
    Attach {
        pid: u32,
        version: String,
        roles: Vec<String>,
    },
    /// A step changed state.
    Step {
        step: String,
        state: StepState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// A note on a step, or on the session when `step` is absent.
    Note {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<String>,
        text: String,
    },
    /// A value recorded against one of a step's evidence fields.
    Evidence {
        step: String,
        field: String,
        value: String,
    },
    /// The operator confirmed an approximate boundary (HKEX announced it).
    BoundaryConfirmed {
        boundary: String,
        planned: DateTime<Utc>,
        confirmed: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// The session clock entered a phase.
    PhaseEntered { phase: String },
    /// A notification was sent, or failed, on one channel.
    Notification {
        /// Stable key: one notification per key is ever sent (`failover.end@-15m`, ...).
        key: String,
        channel: String,
        ok: bool,
        title: String,
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// The notification preflight and the operator's answer (None: could not ask).
    NotifyCheck {
        channels: Vec<String>,
        detected: String,
        answer: Option<bool>,
    },
    /// The incoming operator acknowledged the handover.
    Handover {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// A torn line (power lost mid-write) was found and set aside at this 1-based line number.
    TornSetAside { line: u64, bytes: u64 },
    /// Undo of an earlier action: recorded as a new action, nothing is erased.
    Undo { target: u64 },
    /// A process stopped writing.
    Detach { reason: String },
}

impl Action {
    /// The `kind` tag as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Attach { .. } => "attach",
            Action::Step { .. } => "step",
            Action::Note { .. } => "note",
            Action::Evidence { .. } => "evidence",
            Action::BoundaryConfirmed { .. } => "boundary_confirmed",
            Action::PhaseEntered { .. } => "phase_entered",
            Action::Notification { .. } => "notification",
            Action::NotifyCheck { .. } => "notify_check",
            Action::Handover { .. } => "handover",
            Action::TornSetAside { .. } => "torn_set_aside",
            Action::Undo { .. } => "undo",
            Action::Detach { .. } => "detach",
        }
    }

    /// An operator's action on the record (what undo can take back, what "resumed N actions" counts).
    pub fn is_operator_action(&self) -> bool {
        matches!(
            self,
            Action::Step { .. }
                | Action::Note { .. }
                | Action::Evidence { .. }
                | Action::BoundaryConfirmed { .. }
        )
    }
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Journal format version.
    pub v: u32,
    /// 1, 2, 3, ... in file order.
    pub seq: u64,
    /// Wall-clock time of writing, UTC.
    pub utc: DateTime<Utc>,
    /// The session-clock instant in the session zone, RFC 3339 with its offset.
    pub local: String,
    pub operator: String,
    pub host: String,
    pub session: String,
    pub runbooks: Vec<String>,
    /// sha256 over the session and runbook files (see `Plan::content_hash`).
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rehearsal: Option<Rehearsal>,
    #[serde(flatten)]
    pub action: Action,
}

impl Event {
    /// The session-clock instant: virtual in a rehearsal, else the wall clock.
    pub fn session_time(&self) -> DateTime<Utc> {
        self.rehearsal.map_or(self.utc, |r| r.virtual_utc)
    }

    /// `alice@host`.
    pub fn who(&self) -> String {
        format!("{}@{}", self.operator, self.host)
    }
}
