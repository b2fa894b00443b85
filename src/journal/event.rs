//! One journal line: the envelope every event carries, and the actions it records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The state of a step. Shown everywhere as a glyph and a word, never by colour alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StepState {
    #[default]
    Pending,
    Done,
    /// Requires a note saying what failed.
    Failed,
    /// Requires a reason.
    Skipped,
    /// Not applicable by design (a CCEP's order steps): never counted as failed.
    #[serde(rename = "n/a")]
    NotApplicable,
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

    /// Whether this state needs a note (failed) or reason (skipped, n/a) before it can be
    /// recorded. An operator's n/a says why, as the runbook's n/a steps do (walk 2 N11: the
    /// report read `n/a by root@vm` with no reason beside runbook n/a's that gave one).
    pub fn needs_note(self) -> bool {
        matches!(
            self,
            StepState::Failed | StepState::Skipped | StepState::NotApplicable
        )
    }

    /// Settled: nothing more is expected of the step (done, skipped, n/a). The rest is open;
    /// [`crate::standing`] says what each means where it is shown.
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            StepState::Done | StepState::Skipped | StepState::NotApplicable
        )
    }

    /// Not settled: pending, deferred or failed.
    pub fn is_open(self) -> bool {
        !self.is_settled()
    }

    /// Open and not acted on yet (pending, deferred): what can be overdue, and what a passing
    /// check may mark done. A failed step is open too, but it was acted on.
    pub fn awaits_action(self) -> bool {
        matches!(self, StepState::Pending | StepState::Deferred)
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

/// How a rehearsal's clock was steered (the `p`, `+`/`-` and `>` keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockChange {
    Pause,
    Resume,
    /// Faster or slower: the event's `rehearsal.speed` is the new speed.
    Speed,
    /// Jumped: the event's `rehearsal.virtual_utc` is where to, `from` where from.
    Jump,
}

impl ClockChange {
    /// The word `log` and the journal pane show.
    pub fn word(self) -> &'static str {
        match self {
            ClockChange::Pause => "paused",
            ClockChange::Resume => "resumed",
            ClockChange::Speed => "speed",
            ClockChange::Jump => "jumped",
        }
    }
}

/// What a check saw, in one word. `not_configured` and `refused` are not failures: nothing
/// was observed (a site value unset; a command check drillbook was not allowed to run); nor is
/// `not_in_phase`: nothing read now could be the step's evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Pass,
    Fail,
    /// The probe did not finish within its timeout (no answer, no matching line yet).
    Timeout,
    /// A `${name}` it needs is not set in the site file.
    NotConfigured,
    /// A command check that may not run here (no `--allow-commands`, not allowed by the
    /// runbook, or a rehearsal and not marked safe for one).
    Refused,
    /// The probe could not be made (an unreadable file, a socket error).
    Error,
    /// What it looks for can only be its phase's, and its phase has not started (or has
    /// ended): nothing it could read now is the step's evidence, so it read what was there and
    /// did not wait. Not a failure (`drillbook check` on the Wednesday before).
    NotInPhase,
}

impl CheckOutcome {
    /// The word shown in tables, reports and the journal pane.
    pub fn word(self) -> &'static str {
        match self {
            CheckOutcome::Pass => "pass",
            CheckOutcome::Fail => "FAIL",
            CheckOutcome::Timeout => "TIMEOUT",
            CheckOutcome::NotConfigured => "not configured",
            CheckOutcome::Refused => "refused",
            CheckOutcome::Error => "ERROR",
            CheckOutcome::NotInPhase => "not in phase",
        }
    }

    /// A failure of what was checked (or of checking it): what makes `drillbook check` exit 1.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            CheckOutcome::Fail | CheckOutcome::Timeout | CheckOutcome::Error
        )
    }
}

/// A value a check captured (a named group of its pattern, the address a connect reached), and
/// the step's evidence field it is filed under, when it is filed as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Captured {
    pub name: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The log line a passing log check took: its file (device and inode, so that a rotated file's
/// byte 0 is not the old one's), where the line begins, and a hash of its bytes (FNV-1a, so that
/// a file truncated in place and written again is not taken for the old line at that offset).
/// Journaled so that a line keeps the step it served across a restart: one line never serves
/// steps of two phases.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LineRef {
    pub dev: u64,
    pub ino: u64,
    pub byte: u64,
    pub fnv: String,
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
    /// A note on a step, or on the session when `step` is absent. `issue`: the operator marked it
    /// as an issue (the report lists it under Issues); written only when true, so older readers
    /// and journals are unaffected.
    Note {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<String>,
        text: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        issue: bool,
    },
    /// A value recorded against one of a step's evidence fields.
    Evidence {
        step: String,
        field: String,
        value: String,
    },
    /// The operator confirmed an approximate boundary (observed it: the rundown's time, a signal).
    /// `confirmed` is when it was observed (typed as `HH:MM[:SS]`, else when `c` was pressed);
    /// `entered` is when the confirmation was entered (session clock). Older journals have no
    /// `entered`; the event's own stamp is then the nearest there is.
    BoundaryConfirmed {
        boundary: String,
        planned: DateTime<Utc>,
        confirmed: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entered: Option<DateTime<Utc>>,
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
    /// A step's check ran (or was simulated in a rehearsal): what it looked at, what it saw.
    /// Values of a passing check with a `field` are the step's sensed evidence.
    Check {
        step: String,
        /// The kind: tcp, log, multicast, file or command.
        check: String,
        /// What it looked at, site values filled in (`10.1.2.3:443`, a log path).
        target: String,
        outcome: CheckOutcome,
        detail: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        values: Vec<Captured>,
        /// When the probe started (wall clock, UTC).
        started: DateTime<Utc>,
        duration_ms: u64,
        /// A rehearsal's `--simulate-checks`: nothing was probed.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        simulated: bool,
        /// The log line a passing log check took (older journals have none). Boxed: most
        /// events have none, and every action is as large as the largest.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line: Option<Box<LineRef>>,
    },
    /// A rehearsal's clock was paused, resumed, sped up or slowed down, or jumped, so that a
    /// watcher's clock follows the writer's (it carries the clock on from the newest event at
    /// its speed, and holds it while `paused`). The envelope's `rehearsal` stamp is the clock
    /// after the change. Older journals have none: their clock ran at one speed between
    /// attaches, as far as anyone can tell.
    RehearsalClock {
        change: ClockChange,
        /// The speed after the change (as the envelope's `rehearsal.speed`).
        speed: f64,
        /// The clock stands still after this change (until a `resume`, or the next `attach`).
        paused: bool,
        /// A jump's start: the session instant the clock jumped from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<DateTime<Utc>>,
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
            Action::Check { .. } => "check",
            Action::RehearsalClock { .. } => "rehearsal_clock",
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

/// One line of the journal: the envelope, then the action's `kind` and fields, flat. serde's
/// derive reads it (a hand-written reader was faster, and a new kind had to be added in four
/// places; the derive replays a day's few hundred events in well under a millisecond and 100,000
/// within the replay goal, see README).
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

    /// For a rehearsal event, the virtual instant at real time `now` had its clock run on at its
    /// speed since: how a watcher follows a rehearsal between its events.
    pub fn carried_to(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let r = self.rehearsal?;
        let since = (now - self.utc).max(chrono::TimeDelta::zero());
        let carried = since.num_milliseconds() as f64 * r.speed;
        Some(r.virtual_utc + chrono::TimeDelta::milliseconds(carried as i64))
    }

    /// `alice@host`.
    pub fn who(&self) -> String {
        format!("{}@{}", self.operator, self.host)
    }
}

#[cfg(test)]
impl Event {
    /// A test event: `action` in a neutral envelope (operator `t@h`, session `s`, no runbooks,
    /// not a rehearsal); a test sets afterwards the fields it relies on.
    pub(crate) fn sample(seq: u64, utc: DateTime<Utc>, action: Action) -> Event {
        Event {
            v: 1,
            seq,
            utc,
            local: String::new(),
            operator: "t".into(),
            host: "h".into(),
            session: "s".into(),
            runbooks: vec![],
            sha256: String::new(),
            rehearsal: None,
            action,
        }
    }
}

/// serde_json's complaint about a journal line in the file's own terms: the names of Rust
/// types (`expected u64`) said as what they mean, the column kept (the line is known already).
pub fn plain_error(e: &serde_json::Error) -> String {
    let raw = e.to_string();
    let msg = raw
        .rfind(" at line ")
        .map_or(raw.as_str(), |i| &raw[..i])
        .to_owned();
    let mut msg = [
        ("u8", "a whole number from 0 to 255"),
        ("u16", "a whole number from 0 to 65535"),
        ("u32", "a whole number from 0 to 4294967295"),
        ("u64", "a whole number, 0 or more"),
        ("usize", "a whole number, 0 or more"),
        ("i32", "a whole number"),
        ("i64", "a whole number"),
        ("f32", "a number"),
        ("f64", "a number"),
    ]
    .iter()
    .fold(msg, |m, (rust, plain)| {
        m.replace(&format!("expected {rust}"), &format!("expected {plain}"))
    });
    if e.column() > 0 {
        use std::fmt::Write as _;
        let _ = write!(msg, " (at column {})", e.column());
    }
    // serde quotes the bad value whole, in Rust's escapes: cut and shown through the neutraliser.
    crate::text::diagnostic(&msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind written reads back unchanged.
    #[test]
    fn every_kind_round_trips() {
        let t = DateTime::parse_from_rfc3339("2023-11-25T03:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let actions = vec![
            Action::Attach {
                pid: 1,
                version: "0.1.0".into(),
                roles: vec!["ep".into()],
            },
            Action::Step {
                step: "a".into(),
                state: StepState::NotApplicable,
                note: Some("n".into()),
            },
            Action::Note {
                step: None,
                text: "t".into(),
                issue: false,
            },
            Action::Note {
                step: Some("a".into()),
                text: "t".into(),
                issue: true,
            },
            Action::Evidence {
                step: "a".into(),
                field: "f".into(),
                value: "v".into(),
            },
            Action::BoundaryConfirmed {
                boundary: "failover.end".into(),
                planned: t,
                confirmed: t,
                note: None,
                entered: None,
            },
            Action::BoundaryConfirmed {
                boundary: "failover.end".into(),
                planned: t,
                confirmed: t - chrono::TimeDelta::minutes(2),
                note: Some("DR completed".into()),
                entered: Some(t),
            },
            Action::PhaseEntered {
                phase: "primary".into(),
            },
            Action::Notification {
                key: "k".into(),
                channel: "desktop".into(),
                ok: false,
                title: "t".into(),
                body: "b".into(),
                error: Some("e".into()),
            },
            Action::NotifyCheck {
                channels: vec!["terminal".into()],
                detected: "d".into(),
                answer: None,
            },
            Action::Check {
                step: "a".into(),
                check: "log".into(),
                target: "/var/log/bss.log".into(),
                outcome: CheckOutcome::Pass,
                detail: "matched line 12".into(),
                values: vec![
                    Captured {
                        name: "logon_time".into(),
                        value: "11:03:12.345".into(),
                        field: Some("logon time".into()),
                    },
                    Captured {
                        name: "next_seq".into(),
                        value: "1".into(),
                        field: None,
                    },
                ],
                started: t,
                duration_ms: 1234,
                simulated: false,
                line: Some(Box::new(LineRef {
                    dev: 2049,
                    ino: 131_074,
                    byte: 88_211,
                    fnv: "cbf29ce484222325".into(),
                })),
            },
            Action::Check {
                step: "a".into(),
                check: "tcp".into(),
                target: "10.0.0.1:443".into(),
                outcome: CheckOutcome::NotConfigured,
                detail: "not configured: set `ocg_backup_host` in the site file".into(),
                values: vec![],
                started: t,
                duration_ms: 0,
                simulated: true,
                line: None,
            },
            Action::RehearsalClock {
                change: ClockChange::Pause,
                speed: 30.0,
                paused: true,
                from: None,
            },
            Action::RehearsalClock {
                change: ClockChange::Jump,
                speed: 60.0,
                paused: false,
                from: Some(t - chrono::TimeDelta::minutes(40)),
            },
            Action::Handover { note: None },
            Action::TornSetAside { line: 3, bytes: 9 },
            Action::Undo { target: 2 },
            Action::Detach {
                reason: "quit".into(),
            },
        ];
        for (i, action) in actions.into_iter().enumerate() {
            let mut e = Event::sample(i as u64 + 1, t, action);
            e.local = "2023-11-25T11:00:00+08:00".into();
            e.runbooks = vec!["ep".into()];
            e.sha256 = "x".into();
            e.rehearsal = (i % 2 == 0).then_some(Rehearsal {
                virtual_utc: t,
                speed: 60.0,
            });
            let line = serde_json::to_string(&e).unwrap();
            let back: Event = serde_json::from_str(&line).unwrap();
            assert_eq!(back, e, "{line}");
        }
        let err = serde_json::from_str::<Event>(
            r#"{"v":1,"seq":1,"utc":"2023-11-25T03:00:00Z","local":"x","operator":"o","host":"h","session":"s","runbooks":[],"sha256":"x","kind":"step","step":"a"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("missing field `state`"), "{err}");
    }
}
