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
///
/// Read through [`Flat`] rather than serde's `flatten` (which buffers every line into an
/// intermediate tree before matching the tag): replaying 100,000 events is 2-3 times faster.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// A journal line as read: the envelope and every payload field any kind has, then assembled
/// into an [`Event`] by `kind`. Unknown fields are ignored, as before (a newer minor addition).
#[derive(Deserialize)]
struct Flat<'a> {
    v: u32,
    seq: u64,
    #[serde(deserialize_with = "utc_fast")]
    utc: DateTime<Utc>,
    local: String,
    operator: String,
    host: String,
    session: String,
    runbooks: Vec<String>,
    sha256: String,
    #[serde(default)]
    rehearsal: Option<Rehearsal>,
    /// Borrowed from the line when it holds no escapes: one allocation fewer per event.
    #[serde(borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(default)]
    pid: Option<u32>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    step: Option<String>,
    #[serde(default)]
    state: Option<StepState>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    issue: bool,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    boundary: Option<String>,
    #[serde(default)]
    planned: Option<DateTime<Utc>>,
    #[serde(default)]
    confirmed: Option<DateTime<Utc>>,
    #[serde(default)]
    entered: Option<DateTime<Utc>>,
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    ok: Option<bool>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    channels: Option<Vec<String>>,
    #[serde(default)]
    detected: Option<String>,
    #[serde(default)]
    answer: Option<bool>,
    #[serde(default)]
    line: Option<u64>,
    #[serde(default)]
    bytes: Option<u64>,
    #[serde(default)]
    target: Option<u64>,
    #[serde(default)]
    reason: Option<String>,
}

/// `utc` as drillbook writes it (`2023-11-25T00:12:00.123456789Z`), parsed by hand: chrono's
/// general RFC 3339 parser is a measurable part of a 100,000-event replay. Anything else falls
/// back to chrono.
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
    msg
}

fn utc_fast<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let s: std::borrow::Cow<'de, str> = Deserialize::deserialize(d)?;
    if let Some(t) = parse_utc_z(s.as_bytes()) {
        return Ok(t);
    }
    DateTime::parse_from_rfc3339(&s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| serde::de::Error::custom(format!("`{s}`: {e}")))
}

fn parse_utc_z(text: &[u8]) -> Option<DateTime<Utc>> {
    use chrono::NaiveDate;
    if text.len() < 20
        || text[4] != b'-'
        || text[7] != b'-'
        || text[10] != b'T'
        || text[13] != b':'
        || text[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        text[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut nanos = 0u32;
    let rest = &text[19..];
    let zone = match rest.first()? {
        b'.' => {
            let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 || digits > 9 {
                return None;
            }
            nanos = num(20..20 + digits)? * 10u32.pow(9 - digits as u32);
            &rest[1 + digits..]
        }
        _ => rest,
    };
    if zone != b"Z" {
        return None;
    }
    Some(
        date.and_hms_nano_opt(hour, minute, second, nanos)?
            .and_utc(),
    )
}

/// A field a kind requires.
fn need<T>(v: Option<T>, kind: &str, field: &str) -> Result<T, String> {
    v.ok_or_else(|| format!("a `{kind}` event needs `{field}`"))
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Event::try_from(Flat::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<Flat<'_>> for Event {
    type Error = String;

    fn try_from(f: Flat<'_>) -> Result<Self, String> {
        let k = &*f.kind;
        let action = match k {
            "attach" => Action::Attach {
                pid: need(f.pid, k, "pid")?,
                version: need(f.version, k, "version")?,
                roles: need(f.roles, k, "roles")?,
            },
            "step" => Action::Step {
                step: need(f.step, k, "step")?,
                state: need(f.state, k, "state")?,
                note: f.note,
            },
            "note" => Action::Note {
                step: f.step,
                text: need(f.text, k, "text")?,
                issue: f.issue,
            },
            "evidence" => Action::Evidence {
                step: need(f.step, k, "step")?,
                field: need(f.field, k, "field")?,
                value: need(f.value, k, "value")?,
            },
            "boundary_confirmed" => Action::BoundaryConfirmed {
                boundary: need(f.boundary, k, "boundary")?,
                planned: need(f.planned, k, "planned")?,
                confirmed: need(f.confirmed, k, "confirmed")?,
                note: f.note,
                entered: f.entered,
            },
            "phase_entered" => Action::PhaseEntered {
                phase: need(f.phase, k, "phase")?,
            },
            "notification" => Action::Notification {
                key: need(f.key, k, "key")?,
                channel: need(f.channel, k, "channel")?,
                ok: need(f.ok, k, "ok")?,
                title: need(f.title, k, "title")?,
                body: need(f.body, k, "body")?,
                error: f.error,
            },
            "notify_check" => Action::NotifyCheck {
                channels: need(f.channels, k, "channels")?,
                detected: need(f.detected, k, "detected")?,
                answer: f.answer,
            },
            "handover" => Action::Handover { note: f.note },
            "torn_set_aside" => Action::TornSetAside {
                line: need(f.line, k, "line")?,
                bytes: need(f.bytes, k, "bytes")?,
            },
            "undo" => Action::Undo {
                target: need(f.target, k, "target")?,
            },
            "detach" => Action::Detach {
                reason: need(f.reason, k, "reason")?,
            },
            other => return Err(format!("unknown event kind `{other}`")),
        };
        Ok(Event {
            v: f.v,
            seq: f.seq,
            utc: f.utc,
            local: f.local,
            operator: f.operator,
            host: f.host,
            session: f.session,
            runbooks: f.runbooks,
            sha256: f.sha256,
            rehearsal: f.rehearsal,
            action,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_fast_path_agrees_with_chrono() {
        for s in [
            "2023-11-25T00:12:00Z",
            "2023-11-25T00:12:00.5Z",
            "2026-11-26T08:12:33.418354387Z",
            "2024-02-29T23:59:59.000000001Z",
        ] {
            let want = DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
            assert_eq!(parse_utc_z(s.as_bytes()), Some(want), "{s}");
        }
        for s in [
            "2023-11-25T00:12:00+08:00",
            "2023-02-30T00:00:00Z",
            "2023-11-25 00:12:00Z",
        ] {
            assert_eq!(parse_utc_z(s.as_bytes()), None, "{s}");
        }
    }

    /// Every kind written by serde's derive reads back through `Flat` unchanged.
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
            Action::Handover { note: None },
            Action::TornSetAside { line: 3, bytes: 9 },
            Action::Undo { target: 2 },
            Action::Detach {
                reason: "quit".into(),
            },
        ];
        for (i, action) in actions.into_iter().enumerate() {
            let e = Event {
                v: 1,
                seq: i as u64 + 1,
                utc: t,
                local: "2023-11-25T11:00:00+08:00".into(),
                operator: "o".into(),
                host: "h".into(),
                session: "s".into(),
                runbooks: vec!["ep".into()],
                sha256: "x".into(),
                rehearsal: (i % 2 == 0).then_some(Rehearsal {
                    virtual_utc: t,
                    speed: 60.0,
                }),
                action,
            };
            let line = serde_json::to_string(&e).unwrap();
            let back: Event = serde_json::from_str(&line).unwrap();
            assert_eq!(back, e, "{line}");
        }
        let err = serde_json::from_str::<Event>(
            r#"{"v":1,"seq":1,"utc":"2023-11-25T03:00:00Z","local":"x","operator":"o","host":"h","session":"s","runbooks":[],"sha256":"x","kind":"step","step":"a"}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("a `step` event needs `state`"),
            "{err}"
        );
    }
}
