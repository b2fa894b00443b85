//! The app's state and its pure update: `Model`, `Message`, `update(&mut Model, Message, now) ->
//! Vec<Effect>`.
//!
//! `update` does no I/O and reads no clock: the event loop (`run.rs`) gives it the time, carries out
//! the effects it returns and feeds the outcomes back as messages. An action is shown as recorded
//! only when `Message::Recorded` brings back the event the journal appended and fsync'd; until then
//! the record (the fold of the journal) does not change. That keeps the screen honest: it never shows
//! what the journal does not hold.

pub mod keys;

use crate::alerts::{Alert, Scheduler};
use crate::clock::{ClockControl, RehearsalState};
use crate::journal::{Action, Event, Record, StepState};
use crate::notify::SendResult;
use crate::runbook::{Plan, Step};
use crate::text::clean_line;
use crate::timeline::{Status, Timeline};
use crate::zones;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use chrono_tz::Tz;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::{HashSet, VecDeque};

/// How many journal events the `L` pane keeps.
const RECENT: usize = 50;

/// What drives the update.
#[derive(Debug)]
pub enum Message {
    Key(KeyEvent),
    Resize,
    /// Time passed (the loop woke for a second, a boundary or an alert).
    Tick,
    /// SIGTERM, SIGHUP or SIGINT: quit the normal way, without asking.
    Signal(String),
    /// The journal appended and fsync'd this event.
    Recorded(Box<Event>),
    /// The journal could not record this action.
    NotRecorded {
        action: Box<Action>,
        error: String,
    },
    /// One channel's send finished (or timed out).
    Notified {
        alert: Alert,
        channel: String,
        result: SendResult,
    },
    /// `watch`: the journal grew; here is its new content, replayed.
    JournalChanged {
        record: Box<Record>,
        events: Vec<Event>,
    },
    /// `watch`: the journal could not be read.
    JournalUnreadable(String),
}

/// What the loop must do for the update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Append to the journal (fsync), then send `Recorded` or `NotRecorded` back.
    Append(Action),
    /// Send on every channel, each under a timeout; results come back as `Notified`.
    Notify(Alert),
    /// Leave: the loop appends `Detach { reason }`, releases the lock and restores the terminal.
    Quit { reason: String },
    /// Steer the rehearsal clock (pause, speed, jump).
    Clock(ClockControl),
}

/// Which pane has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Steps,
    Detail,
}

/// What a text prompt is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    StepNote {
        step: usize,
    },
    SessionNote,
    Failed {
        step: usize,
    },
    Skipped {
        step: usize,
    },
    Evidence {
        step: usize,
        field: usize,
    },
    /// Confirm transition `transition` as happened at `at` (when `c` was pressed).
    Confirm {
        transition: usize,
        at: DateTime<Utc>,
    },
}

impl Prompt {
    /// Whether Enter on an empty text is refused.
    pub fn required(&self) -> bool {
        !matches!(self, Prompt::Confirm { .. })
    }
}

/// A text being typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub prompt: Prompt,
    pub text: String,
}

/// What the keys do right now.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    Typing(Input),
    /// Choosing one of a step's evidence fields.
    PickEvidence {
        step: usize,
        selected: usize,
    },
    /// Ctrl-C while typing: discard and quit? (y/n)
    QuitAsk(Input),
}

/// A full-screen overlay over the normal view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    Help,
    Handover,
}

/// The status line's tone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Ok,
    Error,
}

/// Everything the screen shows, and nothing the terminal holds.
#[derive(Debug)]
pub struct Model {
    pub plan: Plan,
    pub timeline: Timeline,
    /// The journal folded: the only source of step states.
    pub record: Record,
    /// The latest journal events, for the `L` pane.
    pub recent: VecDeque<Event>,
    pub scheduler: Scheduler,
    /// The operator's zone, shown beside the session's.
    pub local_tz: Tz,
    /// The phase whose steps are listed.
    pub view_phase: usize,
    /// The list follows the clock's phase until the operator browses away (`t` comes back).
    pub follow: bool,
    /// Index into the viewed phase's steps.
    pub selected: usize,
    pub focus: Pane,
    pub detail_scroll: u16,
    pub mode: Mode,
    pub overlay: Option<Overlay>,
    /// Lines the handover overlay is scrolled down by (it is longer than most screens).
    pub overlay_scroll: u16,
    pub show_log: bool,
    /// The latest alert, until dismissed with `b`.
    pub banner: Option<Alert>,
    pub status: Option<(String, Tone)>,
    /// `watch`: the journal followed, read-only.
    pub read_only: Option<String>,
    /// The journal's path, shown at start and in the handover.
    pub journal_path: String,
    /// Set by the loop from `clock.rehearsal()`.
    pub rehearsal: Option<RehearsalState>,
    /// The sha256 the journal was written with, when it differs from these runbooks' (continued
    /// with `--accept-changed-runbooks`): the handover says so.
    pub hash_mismatch: Option<String>,
    /// Rehearsal `--auto-confirm`: approximate boundaries confirm themselves at their planned time.
    pub auto_confirm: bool,
    /// PhaseEntered actions asked for and not yet answered, so a tick does not ask twice.
    pending_phase: HashSet<String>,
    /// An auto-confirmation asked for and not yet answered.
    pending_confirm: Option<String>,
    /// Something changed since the last draw.
    pub changed: bool,
}

impl Model {
    pub fn new(plan: Plan, record: Record, events: &[Event], now: DateTime<Utc>) -> Self {
        let timeline = Timeline::new(&plan.session);
        let mut m = Self {
            plan,
            timeline,
            record,
            recent: events.iter().rev().take(RECENT).rev().cloned().collect(),
            scheduler: Scheduler::new(now),
            local_tz: Tz::UTC,
            view_phase: 0,
            follow: true,
            selected: 0,
            focus: Pane::Steps,
            detail_scroll: 0,
            mode: Mode::Normal,
            overlay: None,
            overlay_scroll: 0,
            show_log: false,
            banner: None,
            status: None,
            read_only: None,
            journal_path: String::new(),
            rehearsal: None,
            hash_mismatch: None,
            auto_confirm: false,
            pending_phase: HashSet::new(),
            pending_confirm: None,
            changed: true,
        };
        m.refold();
        m.view_phase = m.clock_phase(now);
        m.selected = m.first_open();
        m
    }

    /// Rebuild the timeline from the record's confirmations (an undo can take one back).
    fn refold(&mut self) {
        let mut tl = Timeline::new(&self.plan.session);
        for (key, hist) in &self.record.confirmations {
            if let Some(c) = hist.last() {
                tl.confirm(key, c.confirmed);
            }
        }
        self.timeline = tl;
    }

    pub fn status_at(&self, now: DateTime<Utc>) -> Status {
        self.timeline.status(now)
    }

    /// The phase the clock is in; before the session the first, after it the last, between two
    /// phases the next one.
    pub fn clock_phase(&self, now: DateTime<Utc>) -> usize {
        let st = self.timeline.status(now);
        let last = self.plan.session.phases.len().saturating_sub(1);
        st.phase
            .or_else(|| {
                st.next
                    .and_then(|n| self.timeline.transitions[n].starting)
                    .or(st.next.and_then(|n| self.timeline.transitions[n].ending))
            })
            .unwrap_or(if st.before_start() { 0 } else { last })
    }

    /// Plan indices of the viewed phase's steps.
    pub fn visible(&self) -> Vec<usize> {
        self.plan
            .steps_in(self.view_phase)
            .map(|(i, _)| i)
            .collect()
    }

    /// The selected step's plan index.
    pub fn selected_step(&self) -> Option<usize> {
        self.visible().get(self.selected).copied()
    }

    fn first_open(&self) -> usize {
        let vis = self.visible();
        vis.iter()
            .position(|&i| !self.state(i).is_closed())
            .unwrap_or(0)
    }

    /// A step's state: the journal's, else n/a when it does not apply (by design, or by a
    /// recorded choice), else pending.
    pub fn state(&self, i: usize) -> StepState {
        crate::setup::state_of(&self.plan, &self.plan.steps[i], &self.record)
    }

    /// Pending (or deferred) past its due time.
    pub fn overdue(&self, i: usize, now: DateTime<Utc>) -> bool {
        let s = &self.plan.steps[i];
        matches!(self.state(i), StepState::Pending | StepState::Deferred)
            && s.due.is_some_and(|d| d < now)
    }

    /// Recorded (done, failed, skipped) after its due time.
    pub fn late(&self, i: usize) -> bool {
        let s = &self.plan.steps[i];
        let Some(due) = s.due else { return false };
        self.record
            .state_of(&s.id)
            .is_some_and(|c| c.state != StepState::Pending && c.stamp.at > due)
    }

    /// The context the footer shows keys for.
    pub fn key_ctx(&self) -> keys::Ctx {
        match (&self.mode, self.focus) {
            (Mode::Typing(_) | Mode::QuitAsk(_), _) => keys::Ctx::Input,
            (Mode::PickEvidence { .. }, _) => keys::Ctx::Pick,
            (Mode::Normal, Pane::Steps) => keys::Ctx::Steps,
            (Mode::Normal, Pane::Detail) => keys::Ctx::Detail,
        }
    }

    /// When the loop must wake next, at the latest: the next displayed second, the next
    /// boundary, the next due time (a step turns overdue), or the next alert.
    pub fn next_wakeup(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let second =
            now.duration_trunc(TimeDelta::seconds(1)).unwrap_or(now) + TimeDelta::seconds(1);
        let st = self.timeline.status(now);
        let boundary = st.next.map(|n| self.timeline.effective(n));
        let due = self
            .plan
            .steps
            .iter()
            .filter_map(|s| s.due)
            .filter(|d| *d > now)
            .min();
        let alert = self
            .scheduler
            .next_due(&self.plan, &self.timeline, &self.record, now);
        [Some(second), boundary, due, alert]
            .into_iter()
            .flatten()
            .filter(|t| *t > now)
            .min()
            .unwrap_or(second)
    }

    fn say(&mut self, text: impl Into<String>, tone: Tone) {
        self.status = Some((text.into(), tone));
    }

    /// One line saying what an action is, for the status line.
    pub fn describe(&self, a: &Action) -> String {
        let tz = self.plan.session.tz;
        match a {
            Action::Step { step, state, .. } => format!("{} {}", clean_line(step), state.word()),
            Action::Note {
                step: Some(s),
                issue,
                ..
            } => format!(
                "{} on {}",
                if *issue { "issue" } else { "note" },
                clean_line(s)
            ),
            Action::Note {
                step: None, issue, ..
            } => format!("{} on the session", if *issue { "issue" } else { "note" }),
            Action::Evidence { step, field, .. } => {
                format!("evidence \"{}\" on {}", clean_line(field), clean_line(step))
            }
            Action::BoundaryConfirmed {
                boundary,
                confirmed,
                ..
            } => format!(
                "{} confirmed at {}",
                clean_line(boundary),
                zones::hms(*confirmed, tz)
            ),
            Action::Undo { target } => match self.recent.iter().find(|e| e.seq == *target) {
                Some(e) => format!("undo of #{target} ({})", self.describe(&e.action)),
                None => format!("undo of #{target}"),
            },
            other => other.kind().replace('_', " "),
        }
    }

    /// The alerts and phase entries due at `now`.
    fn on_time(&mut self, now: DateTime<Utc>) -> Vec<Effect> {
        let mut out = Vec::new();
        let phase = self.clock_phase(now);
        if self.follow && phase != self.view_phase && matches!(self.mode, Mode::Normal) {
            self.view_phase = phase;
            self.selected = self.first_open();
            self.detail_scroll = 0;
            self.changed = true;
        }
        if self.read_only.is_some() {
            return out;
        }
        if self.auto_confirm
            && let Some(i) = self.timeline.status(now).awaiting
        {
            let t = &self.timeline.transitions[i];
            if self.pending_confirm.as_deref() != Some(t.key.as_str()) {
                self.pending_confirm = Some(t.key.clone());
                out.push(Effect::Append(Action::BoundaryConfirmed {
                    boundary: t.key.clone(),
                    planned: t.at,
                    confirmed: t.at,
                    note: Some("auto-confirmed at the planned time (rehearsal)".into()),
                    entered: Some(now),
                }));
            }
        }
        if let Some(p) = self.timeline.status(now).phase {
            let id = self.plan.session.phases[p].id.clone();
            let entered = self.record.phases_entered.iter().any(|(x, _)| *x == id);
            if !entered && self.pending_phase.insert(id.clone()) {
                out.push(Effect::Append(Action::PhaseEntered { phase: id }));
            }
        }
        for mut alert in self
            .scheduler
            .due(&self.plan, &self.timeline, &self.record, now)
        {
            if self.rehearsal.is_some() {
                alert.title = format!("[REHEARSAL] {}", alert.title);
            }
            self.banner = Some(alert.clone());
            self.changed = true;
            // The banner is a channel too: journaled, so a restart does not raise it again, and
            // the record shows the alert was on screen even with --notify off.
            out.push(Effect::Append(Action::Notification {
                key: alert.key.clone(),
                channel: "banner".into(),
                ok: true,
                title: alert.title.clone(),
                body: alert.body.clone(),
                error: None,
            }));
            out.push(Effect::Notify(alert));
        }
        out
    }
}

/// The pure update.
pub fn update(m: &mut Model, msg: Message, now: DateTime<Utc>) -> Vec<Effect> {
    match msg {
        Message::Tick => m.on_time(now),
        Message::Resize => {
            m.changed = true;
            Vec::new()
        }
        Message::Signal(name) => {
            let mut reason = name;
            if let Mode::Typing(i) | Mode::QuitAsk(i) = &m.mode
                && !i.text.is_empty()
            {
                reason.push_str("; a half-typed input was not recorded");
            }
            vec![Effect::Quit { reason }]
        }
        Message::Recorded(ev) => {
            m.changed = true;
            let quiet = matches!(
                ev.action,
                Action::Attach { .. }
                    | Action::Detach { .. }
                    | Action::PhaseEntered { .. }
                    | Action::Notification { .. }
                    | Action::TornSetAside { .. }
                    | Action::NotifyCheck { .. }
            );
            if !quiet {
                let d = m.describe(&ev.action);
                m.say(format!("recorded: {d}"), Tone::Ok);
            }
            if let Action::PhaseEntered { phase } = &ev.action {
                m.pending_phase.remove(phase);
            }
            if let Action::BoundaryConfirmed { boundary, .. } = &ev.action
                && m.pending_confirm.as_deref() == Some(boundary.as_str())
            {
                m.pending_confirm = None;
            }
            m.record.apply(&ev);
            m.recent.push_back(*ev);
            while m.recent.len() > RECENT {
                m.recent.pop_front();
            }
            m.refold();
            m.on_time(now)
        }
        Message::NotRecorded { action, error } => {
            let d = m.describe(&action);
            m.say(format!("NOT recorded: {d}: {error}"), Tone::Error);
            m.changed = true;
            Vec::new()
        }
        Message::Notified {
            alert,
            channel,
            result,
        } => {
            if let Err(e) = &result {
                m.say(
                    format!("notification on {channel} failed: {}", clean_line(e)),
                    Tone::Error,
                );
                m.changed = true;
            }
            vec![Effect::Append(Action::Notification {
                key: alert.key,
                channel,
                ok: result.is_ok(),
                title: alert.title,
                body: alert.body,
                error: result.err(),
            })]
        }
        Message::JournalChanged { record, events } => {
            m.record = *record;
            m.recent = events.into_iter().rev().take(RECENT).rev().collect();
            m.refold();
            m.changed = true;
            m.on_time(now)
        }
        Message::JournalUnreadable(e) => {
            m.say(format!("cannot read the journal: {e}"), Tone::Error);
            m.changed = true;
            Vec::new()
        }
        Message::Key(k) => {
            m.changed = true;
            on_key(m, k, now)
        }
    }
}

fn ctrl_c(k: &KeyEvent) -> bool {
    k.modifiers.contains(KeyModifiers::CONTROL) && matches!(k.code, KeyCode::Char('c' | 'q'))
}

fn on_key(m: &mut Model, k: KeyEvent, now: DateTime<Utc>) -> Vec<Effect> {
    match std::mem::replace(&mut m.mode, Mode::Normal) {
        Mode::Normal => normal_key(m, k, now),
        Mode::Typing(input) => typing_key(m, input, k),
        Mode::QuitAsk(input) => {
            if let KeyCode::Char('y' | 'Y') = k.code {
                return vec![Effect::Quit {
                    reason: "quit; a half-typed input was not recorded".into(),
                }];
            }
            m.mode = Mode::Typing(input);
            m.say("still typing", Tone::Info);
            Vec::new()
        }
        Mode::PickEvidence { step, selected } => {
            let n = m.plan.steps[step].evidence.len();
            match k.code {
                KeyCode::Esc | KeyCode::Char('q') => m.status = None,
                KeyCode::Down | KeyCode::Char('j') => {
                    m.mode = Mode::PickEvidence {
                        step,
                        selected: (selected + 1).min(n.saturating_sub(1)),
                    };
                }
                KeyCode::Up | KeyCode::Char('k') => {
                    m.mode = Mode::PickEvidence {
                        step,
                        selected: selected.saturating_sub(1),
                    };
                }
                KeyCode::Char(c @ '1'..='9') if (c as usize - '1' as usize) < n => {
                    start_evidence(m, step, c as usize - '1' as usize);
                }
                KeyCode::Enter => start_evidence(m, step, selected),
                _ if ctrl_c(&k) => {
                    return vec![Effect::Quit {
                        reason: "quit".into(),
                    }];
                }
                _ => m.mode = Mode::PickEvidence { step, selected },
            }
            Vec::new()
        }
    }
}

fn start_evidence(m: &mut Model, step: usize, field: usize) {
    let existing = m
        .record
        .evidence_of(&m.plan.steps[step].id, &m.plan.steps[step].evidence[field])
        .map(|e| e.value.clone())
        .unwrap_or_default();
    m.mode = Mode::Typing(Input {
        prompt: Prompt::Evidence { step, field },
        text: existing,
    });
}

fn typing_key(m: &mut Model, mut input: Input, k: KeyEvent) -> Vec<Effect> {
    if ctrl_c(&k) {
        if input.text.is_empty() {
            return vec![Effect::Quit {
                reason: "quit".into(),
            }];
        }
        m.mode = Mode::QuitAsk(input);
        return Vec::new();
    }
    match k.code {
        KeyCode::Esc => {
            m.say("cancelled: nothing recorded", Tone::Info);
            return Vec::new();
        }
        KeyCode::Enter => return submit(m, input),
        KeyCode::Backspace => {
            input.text.pop();
        }
        // Typed text is untrusted like any other: no control characters get in.
        KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) && !c.is_control() => {
            input.text.push(c);
        }
        _ => {}
    }
    m.mode = Mode::Typing(input);
    Vec::new()
}

/// A note typed with a leading `!` is an issue: the report lists it under Issues. The marker is
/// taken off the text; a note that is only `!` stays a plain note.
fn issue_marked(text: String) -> (String, bool) {
    match text.strip_prefix('!').map(str::trim_start) {
        Some(rest) if !rest.is_empty() => (rest.to_owned(), true),
        _ => (text, false),
    }
}

fn submit(m: &mut Model, input: Input) -> Vec<Effect> {
    let text = input.text.trim().to_owned();
    if text.is_empty() && input.prompt.required() {
        let what = match input.prompt {
            Prompt::Failed { .. } => "a failed step needs a note saying what failed",
            Prompt::Skipped { .. } => "a skipped step needs a reason",
            Prompt::Evidence { .. } => "an evidence value cannot be empty",
            _ => "a note cannot be empty",
        };
        m.say(format!("{what}: type it, or Esc to cancel"), Tone::Error);
        m.mode = Mode::Typing(input);
        return Vec::new();
    }
    if crate::text::looks_like_secret(&text) {
        m.say(
            "this looks like a secret: drillbook never stores one. Record who confirmed the credential, not the credential",
            Tone::Error,
        );
        m.mode = Mode::Typing(input);
        return Vec::new();
    }
    // A choice is recorded as evidence: only one of its options, so the steps that depend on
    // it follow what was meant.
    if let Prompt::Evidence { step, field } = input.prompt {
        let st = &m.plan.steps[step];
        let choice = st
            .settles
            .iter()
            .filter_map(|c| m.plan.session.choice(c))
            .find(|c| c.field() == st.evidence[field]);
        if let Some(c) = choice
            && c.option_for(&text).is_none()
        {
            m.say(
                format!("type one of: {}", c.options.join(", ")),
                Tone::Error,
            );
            m.mode = Mode::Typing(input);
            return Vec::new();
        }
    }
    let id = |i: usize| m.plan.steps[i].id.clone();
    let action = match input.prompt {
        Prompt::StepNote { step } => {
            let (text, issue) = issue_marked(text);
            Action::Note {
                step: Some(id(step)),
                text,
                issue,
            }
        }
        Prompt::SessionNote => {
            let (text, issue) = issue_marked(text);
            Action::Note {
                step: None,
                text,
                issue,
            }
        }
        Prompt::Failed { step } => Action::Step {
            step: id(step),
            state: StepState::Failed,
            note: Some(text),
        },
        Prompt::Skipped { step } => Action::Step {
            step: id(step),
            state: StepState::Skipped,
            note: Some(text),
        },
        Prompt::Evidence { step, field } => Action::Evidence {
            step: id(step),
            field: m.plan.steps[step].evidence[field].clone(),
            value: text,
        },
        Prompt::Confirm { transition, at } => Action::BoundaryConfirmed {
            boundary: m.timeline.transitions[transition].key.clone(),
            planned: m.timeline.transitions[transition].at,
            confirmed: at,
            note: (!text.is_empty()).then_some(text),
            entered: None,
        },
    };
    m.status = None;
    vec![Effect::Append(action)]
}

fn normal_key(m: &mut Model, k: KeyEvent, now: DateTime<Utc>) -> Vec<Effect> {
    if let Some(o) = m.overlay {
        // The handover scrolls with the arrows, j/k and the page keys.
        if o == Overlay::Handover {
            let by: i32 = match k.code {
                KeyCode::Down | KeyCode::Char('j') => 1,
                KeyCode::Up | KeyCode::Char('k') => -1,
                KeyCode::PageDown => 10,
                KeyCode::PageUp => -10,
                _ => 0,
            };
            if by != 0 {
                m.overlay_scroll = (i32::from(m.overlay_scroll) + by).clamp(0, 2000) as u16;
                m.changed = true;
                return Vec::new();
            }
        }
        // Any other key closes an overlay; `q` there closes it rather than quitting.
        m.overlay = None;
        m.overlay_scroll = 0;
        let reopen = matches!(
            (o, k.code),
            (Overlay::Help, KeyCode::Char('H')) | (Overlay::Handover, KeyCode::Char('?'))
        );
        if !reopen {
            return Vec::new();
        }
    }
    if ctrl_c(&k) {
        return vec![Effect::Quit {
            reason: "quit".into(),
        }];
    }
    let n = m.visible().len();
    let step = m.selected_step();
    let recording = matches!(
        k.code,
        KeyCode::Char(' ' | 'f' | 's' | 'a' | 'x' | 'd' | 'n' | 'N' | 'e' | 'u' | 'c')
    );
    if recording && let Some(path) = &m.read_only {
        let path = path.clone();
        m.say(
            format!("read-only: watching {path}; record from the drillbook that holds the journal"),
            Tone::Error,
        );
        return Vec::new();
    }
    let needs_step = |m: &mut Model| {
        if step.is_none() {
            m.say("no step selected in this phase", Tone::Error);
        }
        step
    };
    let set = |m: &mut Model, state: StepState| -> Vec<Effect> {
        match needs_step(m) {
            Some(i) if state.needs_note() => {
                m.mode = Mode::Typing(Input {
                    prompt: if state == StepState::Failed {
                        Prompt::Failed { step: i }
                    } else {
                        Prompt::Skipped { step: i }
                    },
                    text: String::new(),
                });
                Vec::new()
            }
            Some(i) => vec![Effect::Append(Action::Step {
                step: m.plan.steps[i].id.clone(),
                state,
                note: None,
            })],
            None => Vec::new(),
        }
    };
    match k.code {
        KeyCode::Char('q') => {
            return vec![Effect::Quit {
                reason: "quit".into(),
            }];
        }
        KeyCode::Char('?') => m.overlay = Some(Overlay::Help),
        KeyCode::Char('H') => m.overlay = Some(Overlay::Handover),
        KeyCode::Char('L') => m.show_log = !m.show_log,
        KeyCode::Char('b') => m.banner = None,
        KeyCode::Esc => m.status = None,
        KeyCode::Enter => {
            m.focus = match m.focus {
                Pane::Steps => Pane::Detail,
                Pane::Detail => Pane::Steps,
            };
        }
        KeyCode::Down | KeyCode::Char('j') => match m.focus {
            Pane::Steps => {
                m.selected = (m.selected + 1).min(n.saturating_sub(1));
                m.detail_scroll = 0;
            }
            Pane::Detail => m.detail_scroll = m.detail_scroll.saturating_add(1),
        },
        KeyCode::Up | KeyCode::Char('k') => match m.focus {
            Pane::Steps => {
                m.selected = m.selected.saturating_sub(1);
                m.detail_scroll = 0;
            }
            Pane::Detail => m.detail_scroll = m.detail_scroll.saturating_sub(1),
        },
        KeyCode::Home | KeyCode::Char('g') => match m.focus {
            Pane::Steps => {
                m.selected = 0;
                m.detail_scroll = 0;
            }
            Pane::Detail => m.detail_scroll = 0,
        },
        KeyCode::End | KeyCode::Char('G') => match m.focus {
            Pane::Steps => {
                m.selected = n.saturating_sub(1);
                m.detail_scroll = 0;
            }
            Pane::Detail => m.detail_scroll = u16::MAX / 2,
        },
        KeyCode::PageDown => m.detail_scroll = m.detail_scroll.saturating_add(5),
        KeyCode::PageUp => m.detail_scroll = m.detail_scroll.saturating_sub(5),
        KeyCode::Tab | KeyCode::Char(']') => browse(m, 1),
        KeyCode::BackTab | KeyCode::Char('[') => browse(m, -1),
        KeyCode::Char('t') => {
            m.follow = true;
            m.view_phase = m.clock_phase(now);
            m.selected = m.first_open();
            m.detail_scroll = 0;
        }
        KeyCode::Char(' ') => return set(m, StepState::Done),
        KeyCode::Char('f') => return set(m, StepState::Failed),
        KeyCode::Char('s') => return set(m, StepState::Skipped),
        KeyCode::Char('a' | 'x') => return set(m, StepState::NotApplicable),
        KeyCode::Char('d') => return set(m, StepState::Deferred),
        KeyCode::Char('n') => {
            if let Some(i) = needs_step(m) {
                m.mode = Mode::Typing(Input {
                    prompt: Prompt::StepNote { step: i },
                    text: String::new(),
                });
            }
        }
        KeyCode::Char('N') => {
            m.mode = Mode::Typing(Input {
                prompt: Prompt::SessionNote,
                text: String::new(),
            });
        }
        KeyCode::Char('e') => {
            if let Some(i) = needs_step(m) {
                if m.plan.steps[i].evidence.is_empty() {
                    m.say(
                        "this step asks for no evidence; add a note with n",
                        Tone::Error,
                    );
                } else {
                    m.mode = Mode::PickEvidence {
                        step: i,
                        selected: 0,
                    };
                }
            }
        }
        KeyCode::Char('u') => match m.record.last_undoable() {
            Some(target) => return vec![Effect::Append(Action::Undo { target })],
            None => m.say("nothing to undo", Tone::Error),
        },
        KeyCode::Char('p' | '+' | '=' | '-' | '>') => return rehearsal_key(m, k.code, now),
        KeyCode::Char('c') => match m.timeline.pending_confirmation(now) {
            Some(t) => {
                m.mode = Mode::Typing(Input {
                    prompt: Prompt::Confirm {
                        transition: t,
                        at: now,
                    },
                    text: String::new(),
                });
            }
            None => m.say(
                "no approximate boundary is waiting for confirmation",
                Tone::Error,
            ),
        },
        _ => m.changed = false,
    }
    Vec::new()
}

/// The rehearsal keys: pause/resume, speed up/down the ladder, jump to just before the next
/// boundary. The clock itself is steered by the loop (`Effect::Clock`); the header shows the result.
fn rehearsal_key(m: &mut Model, code: KeyCode, now: DateTime<Utc>) -> Vec<Effect> {
    if m.rehearsal.is_none() {
        m.say(
            "p, +, - and > steer a rehearsal clock (drillbook run --rehearse)",
            Tone::Error,
        );
        return Vec::new();
    }
    if m.read_only.is_some() {
        m.say(
            "watching: the rehearsal's clock is steered where it runs",
            Tone::Error,
        );
        return Vec::new();
    }
    let control = match code {
        KeyCode::Char('p') => ClockControl::TogglePause,
        KeyCode::Char('+' | '=') => ClockControl::Faster,
        KeyCode::Char('-') => ClockControl::Slower,
        _ => {
            let Some(i) = m.timeline.status(now).next else {
                m.say("no boundary left to jump to", Tone::Error);
                return Vec::new();
            };
            let at = m.timeline.effective(i);
            // Just before it, so the transition itself is seen to happen; never backwards.
            let target = (at - crate::rehearsal::JUST_BEFORE).max(now);
            let label = m.plan.session.transition_label(&m.timeline.transitions[i]);
            m.say(
                format!(
                    "jumped to {}, just before: {}",
                    zones::hms(target, m.plan.session.tz),
                    clean_line(&label)
                ),
                Tone::Info,
            );
            ClockControl::JumpTo(target)
        }
    };
    vec![Effect::Clock(control)]
}

fn browse(m: &mut Model, by: isize) {
    let n = m.plan.session.phases.len();
    if n == 0 {
        return;
    }
    m.view_phase = (m.view_phase as isize + by).rem_euclid(n as isize) as usize;
    m.follow = false;
    m.selected = 0;
    m.detail_scroll = 0;
}

/// A step's due time in the session zone, with the day when it is not the session date.
pub fn due_label(plan: &Plan, s: &Step) -> Option<String> {
    use chrono::TimeZone;
    let due = s.due?;
    let tz = plan.session.tz;
    let l = tz.from_utc_datetime(&due.naive_utc());
    Some(if l.date_naive() == plan.session.date {
        l.format("%H:%M").to_string()
    } else {
        l.format("%d %b %H:%M").to_string()
    })
}

#[cfg(test)]
mod tests;
