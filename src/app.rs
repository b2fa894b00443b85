//! The app's state and its pure update: `Model`, `Message`, `update(&mut Model, Message, now) ->
//! Vec<Effect>`.
//!
//! `update` does no I/O and reads no clock: the event loop (`run.rs`) gives it the time, carries out
//! the effects it returns and feeds the outcomes back as messages. An action is shown as recorded
//! only when `Message::Recorded` brings back the event the journal appended and fsync'd; until then
//! the record (the fold of the journal) does not change. That keeps the screen honest: it never shows
//! what the journal does not hold. A prompt stays open until its action is recorded: when the
//! journal refuses it (a secret, a full disk), the prompt comes back with the journal's reason
//! beside it and the text as typed.
//!
//! The list (`list`), the typed line (`input`), the boundary confirmation (`confirm`), the
//! clipboard copy (`clip`), the start-up checks (`arrival`) and the steps' checks (`sensing`)
//! have modules of their own.

pub mod arrival;
pub mod clip;
pub mod confirm;
pub mod input;
pub mod keys;
pub mod list;
pub mod sensing;
pub mod watching;

use crate::alerts::{Alert, Scheduler, SendError, SendResult};
use crate::check::CheckResult;
use crate::check::schedule::Schedule;
use crate::clock::{ClockControl, RehearsalState};
use crate::journal::{Action, Event, Record, StepState};
use crate::runbook::{Plan, Step};
use crate::text::clean_line;
use crate::timeline::{Status, Timeline};
use crate::zones;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use chrono_tz::Tz;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::{HashSet, VecDeque};

pub use arrival::Surroundings;
pub use input::Input;
pub use list::{Filter, Focus, ListView, Row, StateFilter};
pub use watching::{JournalsNow, Said, Watched, WatchedJournal};

/// How many journal events the `L` pane keeps.
/// The newest events the model keeps, for the journal pane.
pub const RECENT: usize = 50;

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
    /// `watch`: the journals grew; here is the record as it stands and the newest events, and
    /// for a rehearsal the virtual instant its clock has reached. On several journals, also
    /// which journals it merges now, and what changed among them (a journal joined, with the
    /// plan of its roles; one set aside).
    JournalChanged {
        record: Box<Record>,
        events: Vec<Event>,
        clock_at: Option<crate::clock::Follow>,
        journals: Option<Box<JournalsNow>>,
    },
    /// `watch` on one journal: these events were appended since the last message.
    JournalAppended {
        events: Vec<Event>,
        clock_at: Option<crate::clock::Follow>,
    },
    /// `watch`: the journal could not be read.
    JournalUnreadable(String),
    /// The rehearsal clock changed by itself, or a watcher's was set from its journal (the loop
    /// saw it change).
    ClockChanged(Option<RehearsalState>),
    /// The loop steered the rehearsal clock as a key asked ([`Effect::Clock`]): `from` is the
    /// session instant before, `state` the clock after. The writer journals the change.
    ClockSteered {
        control: ClockControl,
        from: DateTime<Utc>,
        state: Option<RehearsalState>,
    },
    /// What the start-up probe found around the app (channels, tmux passthrough).
    Arrived(Surroundings),
    /// `run --forward`: the forwarder's state changed (started, collector down or back, stopped).
    Forwarding {
        text: String,
        down: bool,
    },
    /// The loop drew a frame of the model as it is.
    Drawn,
    /// The loop wrote an [`Effect::WriteTerminal`] (or could not).
    TerminalWritten {
        what: TerminalWrite,
        result: Result<(), SendError>,
    },
    /// The wall clock's reading, sent by the loop once a second: automatic checks are due on it
    /// (`every:` counts real time, also in a rehearsal), and a check's age is shown by it.
    WallClock(DateTime<Utc>),
    /// A step's check ran ([`Effect::RunCheck`]): what it saw.
    Checked(Box<CheckResult>),
    /// Text pasted into the terminal (bracketed paste): whole, with its control bytes, so none
    /// is lost silently and a pasted newline does not press Enter.
    Paste(String),
}

/// What bytes written to the terminal were for, so the outcome can be said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminalWrite {
    /// The selected step's command, to the clipboard (OSC 52): the step's title.
    Copy { title: String, lines: usize },
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
    /// Write these bytes to the terminal between two frames, through the same output the frames
    /// go through (never in the middle of one), then send `TerminalWritten { what, result }`
    /// back. Today: an OSC 52 clipboard sequence, already wrapped for tmux or screen
    /// ([`clip::osc52`]); the loop writes it through its frontend.
    WriteTerminal { bytes: Vec<u8>, what: TerminalWrite },
    /// Run plan step `step`'s check in a task of its own (the screen never waits for it); its
    /// result comes back as `Checked`.
    RunCheck { step: usize },
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
    /// Why `step` is to be `state`: failed, skipped or n/a, each of which needs its note
    /// ([`StepState::needs_note`]).
    Why {
        step: usize,
        state: StepState,
    },
    Evidence {
        step: usize,
        field: usize,
    },
    /// Confirm transition `transition`; `at` is when `c` was pressed (the default observed time).
    Confirm {
        transition: usize,
        at: DateTime<Utc>,
    },
    /// `/`: search titles, ids and details.
    Search,
}

impl Prompt {
    /// Why Enter on an empty text is refused, when it is.
    pub fn empty_refusal(&self) -> Option<&'static str> {
        match self {
            Prompt::Why {
                state: StepState::Failed,
                ..
            } => Some("a failed step needs a note saying what failed"),
            Prompt::Why {
                state: StepState::NotApplicable,
                ..
            } => Some("a step marked n/a needs a reason"),
            Prompt::Why { .. } => Some("a skipped step needs a reason"),
            Prompt::Evidence { .. } => Some("an evidence value cannot be empty"),
            Prompt::StepNote { .. } | Prompt::SessionNote => Some("a note cannot be empty"),
            Prompt::Confirm { .. } | Prompt::Search => None,
        }
    }
}

/// A yes/no question on the status line: `y` goes ahead, any other key does not.
#[derive(Debug, Clone, PartialEq)]
pub enum Question {
    /// Ctrl-C while typing: discard what is typed and quit?
    Discard(Input),
    /// `q` (or Ctrl-C) in a live session: notifications stop, the journal stays.
    Quit,
    /// `u`: undo this action (journal seq `target`)? `action` is the action as recorded, kept
    /// so that `U` can redo it.
    Undo {
        target: u64,
        what: String,
        action: Option<Action>,
    },
    /// A boundary confirmation that deserves a second look (`why`); no goes back to the prompt.
    Confirm {
        action: Action,
        input: Input,
        why: String,
    },
}

/// What the keys do right now.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    Typing(Input),
    /// Choosing one of a step's evidence fields (only for a step with several).
    PickEvidence {
        step: usize,
        selected: usize,
    },
    Ask(Question),
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

/// An operator's action sent to the journal and not answered yet, and what to do when it is.
#[derive(Debug, Clone, PartialEq)]
struct Unsent {
    action: Action,
    /// The prompt it came from: reopened, with the journal's reason, if the append fails.
    input: Option<Input>,
    /// A step's state was set from the list: move on from this step once recorded.
    advance: Option<usize>,
    /// An undo: the action it takes back, which `U` can then redo.
    undoes: Option<Action>,
    /// A redo (the redo stack is kept, not cleared, when it is recorded).
    redo: bool,
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
    /// Every step, phase by phase, each phase in time order (see `list`).
    pub order: Vec<usize>,
    /// The phase whose steps are listed.
    pub view_phase: usize,
    /// The phase list or the open-items view.
    pub list_view: ListView,
    pub filter: Filter,
    /// The search typed with `/` (n/N move between matches while it is set).
    pub search: Option<String>,
    /// The list follows the clock's phase until the operator browses away (`t` comes back).
    pub follow: bool,
    /// `z` unfolded the carried groups; folded again when the clock starts a new phase.
    pub unfold_carried: bool,
    /// The selected step (index into `plan.steps`).
    pub cursor: Option<usize>,
    /// The steps of the list when the selection was last settled: where to look for a
    /// neighbour when a rebuilt list no longer shows the selected step.
    listed: Vec<usize>,
    pub focus: Pane,
    pub detail_scroll: u16,
    pub mode: Mode,
    pub overlay: Option<Overlay>,
    /// Lines the handover overlay is scrolled down by (it is longer than most screens).
    pub overlay_scroll: u16,
    pub show_log: bool,
    /// The latest alert, until dismissed with `b`.
    pub banner: Option<Alert>,
    /// The start-up line about notifications (see `arrival`), until dismissed with `b`.
    pub notice: Option<String>,
    pub status: Option<(String, Tone)>,
    /// `watch`: the journal followed, read-only.
    pub read_only: Option<String>,
    /// `watch` on several journals (a folder): the journals merged, whose clock.
    pub watched: Option<Watched>,
    /// The journal's path, shown at start and in the handover.
    pub journal_path: String,
    /// Set by the loop from `clock.rehearsal()`.
    pub rehearsal: Option<RehearsalState>,
    /// The sha256 the journal was written with, when it differs from these runbooks' (continued
    /// with `--accept-changed-runbooks`): the handover says so.
    pub hash_mismatch: Option<String>,
    /// Rehearsal `--auto-confirm`: approximate boundaries confirm themselves at their planned time.
    pub auto_confirm: bool,
    /// What the terminal around us carries (see `arrival`); the default until set.
    pub surroundings: Surroundings,
    /// Actions undone here, newest last: what `U` redoes.
    pub redo: Vec<Action>,
    /// When each step's check last started and which are running (see `sensing`).
    pub checks: Schedule,
    /// The loop runs checks (it was given a runner): `r` and automatic checks start them.
    pub sensing: bool,
    /// The wall clock as the loop last said ([`Message::WallClock`]).
    pub wall: DateTime<Utc>,
    /// Steps whose check the operator started with `r`: their outcome is said on the status
    /// line when the journal has it (an automatic run's is shown in the detail pane only).
    asked: HashSet<String>,
    /// PhaseEntered actions asked for and not yet answered, so a tick does not ask twice.
    pending_phase: HashSet<String>,
    /// An auto-confirmation asked for and not yet answered.
    pending_confirm: Option<String>,
    unsent: Option<Unsent>,
    /// Something changed since the last draw.
    pub changed: bool,
}

impl Model {
    pub fn new(plan: Plan, record: Record, events: &[Event], now: DateTime<Utc>) -> Self {
        let timeline = Timeline::new(&plan.session);
        let order = list::time_order(&plan);
        let mut m = Self {
            plan,
            timeline,
            record,
            recent: events.iter().rev().take(RECENT).rev().cloned().collect(),
            scheduler: Scheduler::new(now),
            local_tz: Tz::UTC,
            order,
            view_phase: 0,
            list_view: ListView::Phase,
            filter: Filter::default(),
            search: None,
            follow: true,
            unfold_carried: false,
            cursor: None,
            listed: Vec::new(),
            focus: Pane::Steps,
            detail_scroll: 0,
            mode: Mode::Normal,
            overlay: None,
            overlay_scroll: 0,
            show_log: false,
            banner: None,
            notice: None,
            status: None,
            read_only: None,
            watched: None,
            journal_path: String::new(),
            rehearsal: None,
            hash_mismatch: None,
            auto_confirm: false,
            surroundings: Surroundings::default(),
            redo: Vec::new(),
            checks: Schedule::new(),
            sensing: false,
            wall: now,
            asked: HashSet::new(),
            pending_phase: HashSet::new(),
            pending_confirm: None,
            unsent: None,
            changed: true,
        };
        m.refold();
        m.view_phase = m.clock_phase(now);
        m.cursor = m.first_open(now);
        m
    }

    /// What the terminal around us carries, from [`Surroundings::detect`]; sets the start-up
    /// line when notifications may not reach the operator. Call after `rehearsal` is set.
    pub fn set_surroundings(&mut self, s: Surroundings) {
        self.notice = arrival::startup_line(
            &self.record,
            &s,
            self.rehearsal.is_some(),
            &self.plan.roles(),
        );
        self.surroundings = s;
        self.changed = true;
    }

    /// Rebuild the timeline from the record's confirmations (an undo can take one back), and
    /// with it the dues written after a phase's start (`+20m`): a confirmation entered,
    /// corrected or undone moves them here, once, for every reader of `Step::due`. When a
    /// confirmation changed and the banner is about that boundary, the banner says what is true
    /// now (`Confirmed at 11:01:30 …`, or `Confirmation undone: awaiting …`): on the failover
    /// hour the header, the phase bar and the banner give one answer to "confirmed, and when?".
    fn refold(&mut self) {
        let before = std::mem::replace(
            &mut self.timeline,
            Timeline::with_confirmations(&self.plan.session, &self.record),
        );
        self.timeline.resolve_dues(&mut self.plan.steps);
        let Some(key) = self.banner.as_ref().map(|b| b.key.clone()) else {
            return;
        };
        let changed = (0..self.timeline.transitions.len()).find(|&i| {
            let t = &self.timeline.transitions[i];
            t.approximate
                && crate::alerts::is_about(&key, &t.key)
                && before.confirmed_at(i) != self.timeline.confirmed_at(i)
        });
        if let Some(i) = changed {
            let alert = crate::alerts::restated(&self.plan, &self.timeline, i);
            self.banner = Some(self.as_shown(alert));
            self.changed = true;
        }
    }

    /// An alert as the banner shows it: `[REHEARSAL]` before its title in a rehearsal.
    fn as_shown(&self, mut alert: Alert) -> Alert {
        if self.rehearsal.is_some() {
            alert.title = format!("[REHEARSAL] {}", alert.title);
        }
        alert
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

    /// The selected step's plan index.
    pub fn selected_step(&self) -> Option<usize> {
        self.cursor
    }

    /// The first open step of the list, else its first step.
    fn first_open(&self, now: DateTime<Utc>) -> Option<usize> {
        let steps = self.list_steps(now);
        steps
            .iter()
            .copied()
            .find(|&i| self.is_open(i))
            .or(steps.first().copied())
    }

    /// Select a step (the detail pane starts at its top).
    fn select(&mut self, i: Option<usize>) {
        if self.cursor != i {
            self.detail_scroll = 0;
        }
        self.cursor = i;
    }

    /// Keep the selection on the same step whenever the list is rebuilt (a phase boundary, a
    /// filter, a new carried or overdue group, the journal moving on): a key pressed just after
    /// a re-layout must act on the step the operator chose. Only when the list no longer shows
    /// that step (settled while carried, filtered out) does the selection move: to the nearest
    /// step after it in the list as it was that is still shown, else before it, else the first
    /// open step. Returns the step it moved from when it moved.
    fn settle_cursor(&mut self, now: DateTime<Utc>) -> Option<usize> {
        let steps = self.list_steps(now);
        let from = self.cursor;
        if !from.is_some_and(|c| steps.contains(&c)) {
            let at = from.and_then(|c| self.listed.iter().position(|&i| i == c));
            let near = at.and_then(|p| {
                let after = self.listed[p + 1..].iter();
                let before = self.listed[..p].iter().rev();
                after.chain(before).copied().find(|i| steps.contains(i))
            });
            let to = near.or_else(|| self.first_open(now));
            self.select(to);
        }
        self.listed = steps;
        from.filter(|&f| self.cursor != Some(f))
    }

    /// After an action on `from`: the next open step after it in the list as it was (`before`),
    /// that the list still shows; else the first open one; else the first open step of a folded
    /// carried group (a selected step shows under its heading), so that Space walks on through
    /// the open work once the phase's own steps are settled; else stay.
    fn advance(&mut self, from: usize, before: &[usize], now: DateTime<Utc>) {
        let steps = self.list_steps(now);
        let pos = before.iter().position(|&i| i == from).unwrap_or(0);
        let next = before
            .iter()
            .skip(pos + 1)
            .copied()
            .find(|&i| i != from && self.is_open(i) && steps.contains(&i))
            .or_else(|| {
                steps
                    .iter()
                    .copied()
                    .find(|&i| i != from && self.is_open(i))
            })
            .or_else(|| {
                (self.covered_steps(now).into_iter()).find(|&i| i != from && self.is_open(i))
            });
        match next {
            Some(i) => self.select(Some(i)),
            None => {
                self.settle_cursor(now);
            }
        }
    }

    /// A step's state: the journal's, else n/a when it does not apply (by design, or by a
    /// recorded choice), else pending.
    pub fn state(&self, i: usize) -> StepState {
        crate::setup::state_of(&self.plan, &self.plan.steps[i], &self.record)
    }

    /// Pending (or deferred) past its due time ([`crate::standing::overdue`]), and surely to be
    /// done: a step that applies only if a choice nobody recorded goes its way is past due
    /// `if log-off`, said so in its row, not counted OVERDUE (its alert says `Overdue if
    /// log-off`). A failed step past it is open too, but it says `failed, needs follow-up`.
    pub fn overdue(&self, i: usize, now: DateTime<Utc>) -> bool {
        self.past_due(i, now) && self.condition(i).is_none()
    }

    /// Pending (or deferred) past its due time, whether or not a choice may make it n/a.
    pub fn past_due(&self, i: usize, now: DateTime<Utc>) -> bool {
        crate::standing::overdue(self.state(i), self.plan.steps[i].due, now)
    }

    /// How the steps of phase `p` stand: the list's rule and the phase bar count from it.
    pub fn tally_in(&self, p: usize) -> crate::standing::Tally {
        crate::standing::Tally::of(
            (0..self.plan.steps.len())
                .filter(|&i| self.plan.steps[i].phase == p)
                .map(|i| self.state(i)),
        )
    }

    /// Recorded (done, failed, skipped) after its due time.
    pub fn late(&self, i: usize) -> bool {
        let s = &self.plan.steps[i];
        let Some(due) = s.due else { return false };
        self.record
            .state_of(&s.id)
            .is_some_and(|c| c.state != StepState::Pending && c.stamp.at > due)
    }

    /// A live session: the real clock (not a rehearsal, not `watch`), between the start of the
    /// first phase and the end of the last. Quitting then stops the notifications.
    pub fn live(&self, now: DateTime<Utc>) -> bool {
        if self.rehearsal.is_some() || self.read_only.is_some() {
            return false;
        }
        let n = self.timeline.transitions.len();
        n > 0 && now >= self.timeline.effective(0) && now < self.timeline.effective(n - 1)
    }

    /// The context the footer shows keys for.
    pub fn key_ctx(&self) -> keys::Ctx {
        match (&self.mode, self.focus) {
            (Mode::Typing(_), _) => keys::Ctx::Input,
            (Mode::Ask(_), _) => keys::Ctx::Ask,
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
        self.next_event(now).map_or(second, |t| t.min(second))
    }

    /// The next instant something happens besides the clock's second: a boundary, a step's due
    /// time, an alert. A frontend without a clock on screen wakes only for these.
    pub fn next_event(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
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
        [boundary, due, alert]
            .into_iter()
            .flatten()
            .filter(|t| *t > now)
            .min()
    }

    fn say(&mut self, text: impl Into<String>, tone: Tone) {
        self.status = Some((text.into(), tone));
    }

    /// A step's title by id, as shown (the id when the plan has no such step).
    pub fn step_title(&self, id: &str) -> String {
        match self.plan.step_index(id) {
            Some(i) => clean_line(&self.plan.steps[i].title).into_owned(),
            None => clean_line(id).into_owned(),
        }
    }

    /// A boundary's human name by key (`Failover to the backup site ends, Backup site starts`).
    pub fn boundary_title(&self, key: &str) -> String {
        match self.timeline.transitions.iter().find(|t| t.key == key) {
            Some(t) => self.plan.session.transition_label(t),
            None => clean_line(key).into_owned(),
        }
    }

    /// One line saying what an action is, for the status line and the journal pane: titles,
    /// never internal ids.
    pub fn describe(&self, a: &Action) -> String {
        let tz = self.plan.session.tz;
        match a {
            Action::Step { step, state, .. } => {
                format!("{}: {}", self.step_title(step), state.word())
            }
            Action::Note {
                step: Some(s),
                issue,
                ..
            } => format!(
                "{} on {}",
                if *issue { "issue" } else { "note" },
                self.step_title(s)
            ),
            Action::Note {
                step: None, issue, ..
            } => format!("{} on the session", if *issue { "issue" } else { "note" }),
            Action::Evidence { step, field, value } => {
                // One of a field's options (a choice's decides which steps apply): say which
                // one it was. Only an option: free evidence may be what the journal refused as
                // a secret, and this text also says what was NOT recorded.
                let choice = self
                    .plan
                    .step_index(step)
                    .and_then(|i| self.plan.steps[i].options_of(field))
                    .and_then(|o| crate::runbook::option_in(o, value));
                format!(
                    "evidence \"{}\"{} on {}",
                    clean_line(field),
                    choice.map_or_else(String::new, |o| format!(" = {}", clean_line(o))),
                    self.step_title(step)
                )
            }
            Action::BoundaryConfirmed {
                boundary,
                planned,
                confirmed,
                ..
            } => format!(
                "{} confirmed at {} (planned ~{}, {})",
                self.boundary_title(boundary),
                zones::hms(*confirmed, tz),
                zones::hm(*planned, tz),
                zones::drift(*confirmed - *planned)
            ),
            Action::Undo { target } => match self.find_action(*target) {
                Some(a) => format!("undo of {}", self.describe(&a)),
                None => format!("undo of journal entry #{target}"),
            },
            Action::PhaseEntered { phase } => match self.plan.session.phase_index(phase) {
                Some(p) => format!("entered {}", clean_line(&self.plan.session.phases[p].title)),
                None => format!("entered {}", clean_line(phase)),
            },
            Action::Check {
                step,
                check,
                outcome,
                simulated,
                ..
            } => format!(
                "{} check of {}: {}{}",
                clean_line(check),
                self.step_title(step),
                outcome.word(),
                if *simulated { " (simulated)" } else { "" }
            ),
            other => other.kind().replace('_', " "),
        }
    }

    /// The operator action journaled as `seq`, rebuilt from the latest events or, for an older
    /// one still in effect, from the record's histories (which keep every change's seq).
    pub fn find_action(&self, seq: u64) -> Option<Action> {
        if let Some(e) = self.recent.iter().find(|e| e.seq == seq) {
            return Some(e.action.clone());
        }
        let r = &self.record;
        for (step, h) in &r.steps {
            if let Some(c) = h.iter().find(|c| c.stamp.seq == seq) {
                return Some(Action::Step {
                    step: step.clone(),
                    state: c.state,
                    note: c.note.clone(),
                });
            }
        }
        for ((step, field), h) in &r.evidence {
            if let Some(e) = h.iter().find(|e| e.stamp.seq == seq) {
                return Some(Action::Evidence {
                    step: step.clone(),
                    field: field.clone(),
                    value: e.value.clone(),
                });
            }
        }
        if let Some(n) = r.notes.iter().find(|n| n.stamp.seq == seq) {
            return Some(Action::Note {
                step: n.step.clone(),
                text: n.text.clone(),
                issue: n.issue,
            });
        }
        for (key, h) in &r.confirmations {
            if let Some(c) = h.iter().find(|c| c.stamp.seq == seq) {
                return Some(Action::BoundaryConfirmed {
                    boundary: key.clone(),
                    planned: c.planned,
                    confirmed: c.confirmed,
                    note: c.note.clone(),
                    entered: None,
                });
            }
        }
        None
    }

    /// Who recorded `seq` and when: `09:56:10 HKT by alice@desk1`.
    fn stamp_of(&self, seq: u64) -> Option<String> {
        let tz = self.plan.session.tz;
        if let Some(e) = self.recent.iter().find(|e| e.seq == seq) {
            return Some(format!(
                "{} by {}",
                zones::hms(e.session_time(), tz),
                clean_line(&e.who())
            ));
        }
        let r = &self.record;
        let stamps = r
            .steps
            .values()
            .flat_map(|h| h.iter().map(|c| &c.stamp))
            .chain(r.evidence.values().flat_map(|h| h.iter().map(|e| &e.stamp)))
            .chain(r.notes.iter().map(|n| &n.stamp))
            .chain(
                r.confirmations
                    .values()
                    .flat_map(|h| h.iter().map(|c| &c.stamp)),
            );
        stamps
            .into_iter()
            .find(|s| s.seq == seq)
            .map(|s| format!("{} by {}", zones::hms(s.at, tz), clean_line(&s.who())))
    }

    /// The alerts and phase entries due at `now`.
    fn on_time(&mut self, now: DateTime<Utc>) -> Vec<Effect> {
        let mut out = Vec::new();
        let phase = self.clock_phase(now);
        if self.follow && phase != self.view_phase && matches!(self.mode, Mode::Normal) {
            // A new phase: its own steps on screen under the carried groups, folded again; the
            // selection stays on its step (a folded group shows it).
            self.view_phase = phase;
            self.unfold_carried = false;
            self.changed = true;
        }
        self.settle_on_rebuild(now);
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
                // Phase entry and alerts wait for the confirmation to be recorded (its
                // `Recorded` comes back here): decided now, they would still see the boundary
                // unconfirmed and raise "awaiting confirmation".
                return out;
            }
        }
        if let Some(p) = self.timeline.status(now).phase {
            let id = self.plan.session.phases[p].id.clone();
            let entered = self.record.phases_entered.iter().any(|(x, _)| *x == id);
            if !entered && self.pending_phase.insert(id.clone()) {
                out.push(Effect::Append(Action::PhaseEntered { phase: id }));
            }
        }
        for alert in self
            .scheduler
            .due(&self.plan, &self.timeline, &self.record, now)
        {
            let alert = self.as_shown(alert);
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
        self.settle_on_rebuild(now);
        out
    }

    /// [`Model::settle_cursor`] when the list changed by itself (the clock, the journal): when
    /// the selected step left the list, the status line says the selection moved, so a key is
    /// not pressed on a step the operator did not choose without a word on screen.
    fn settle_on_rebuild(&mut self, now: DateTime<Utc>) {
        let Some(from) = self.settle_cursor(now) else {
            return;
        };
        let left = clean_line(&self.plan.steps[from].title).into_owned();
        let to = self.cursor.map_or_else(
            || "nothing selected".to_owned(),
            |i| format!("now on \"{}\"", clean_line(&self.plan.steps[i].title)),
        );
        self.say(
            format!(
                "\"{left}\" left the list ({}): selection {to}",
                self.state(from).word()
            ),
            Tone::Info,
        );
        self.changed = true;
    }

    /// An operator's action: append it, and remember what to do when the journal answers.
    fn send(&mut self, action: Action, input: Option<Input>, advance: bool) -> Vec<Effect> {
        self.unsent = Some(Unsent {
            action: action.clone(),
            input,
            advance: if advance { self.cursor } else { None },
            undoes: None,
            redo: false,
        });
        vec![Effect::Append(action)]
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
        Message::ClockChanged(r) => {
            m.rehearsal = r;
            m.changed = true;
            Vec::new()
        }
        Message::ClockSteered {
            control,
            from,
            state,
        } => clock_steered(m, control, from, state, now),
        Message::Drawn => {
            m.changed = false;
            Vec::new()
        }
        Message::Arrived(s) => {
            m.set_surroundings(s);
            Vec::new()
        }
        Message::Forwarding { text, down } => {
            m.say(text, if down { Tone::Error } else { Tone::Info });
            m.changed = true;
            Vec::new()
        }
        Message::Signal(name) => {
            let mut reason = name;
            if let Mode::Typing(i) | Mode::Ask(Question::Discard(i)) = &m.mode
                && !i.text().is_empty()
            {
                reason.push_str("; a half-typed input was not recorded");
            }
            vec![Effect::Quit { reason }]
        }
        Message::Recorded(ev) => recorded(m, *ev, now),
        Message::NotRecorded { action, error } => {
            m.changed = true;
            if sensing::answered(m, &action, Some(&error)) {
                return Vec::new();
            }
            let d = m.describe(&action);
            let error = clean_line(&error).into_owned();
            match m.unsent.take() {
                Some(u) if u.action == *action => {
                    if let Some(mut input) = u.input {
                        // Back to the prompt, the text as typed, the journal's reason beside it.
                        input.error = Some(format!("NOT recorded: {error}"));
                        m.mode = Mode::Typing(input);
                        m.status = None;
                        return Vec::new();
                    }
                }
                other => m.unsent = other,
            }
            m.say(format!("NOT recorded: {d}: {error}"), Tone::Error);
            Vec::new()
        }
        Message::Notified {
            alert,
            channel,
            result,
        } => {
            if let Err(e) = &result {
                m.say(
                    format!(
                        "notification on {channel} failed: {}",
                        clean_line(&e.to_string())
                    ),
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
                error: result.err().map(|e| e.to_string()),
            })]
        }
        Message::JournalChanged {
            record,
            events,
            clock_at,
            journals,
        } => {
            // The instant the watcher's clock is about to be set to (the `Follow` below): the
            // list laid out for it, not for the clock before (a first journal at 09:58 on a
            // watcher that was waiting on the real clock).
            let now = clock_at.map_or(now, |f| f.at.min(f.until));
            m.record = *record;
            m.recent = events.into_iter().rev().take(RECENT).rev().collect();
            m.refold();
            if let Some(j) = journals {
                m.journals_now(now, *j);
            }
            m.changed = true;
            let mut fx = m.on_time(now);
            if let Some(f) = clock_at {
                fx.push(Effect::Clock(ClockControl::Follow(f)));
            }
            fx
        }
        Message::JournalAppended { events, clock_at } => {
            let now = clock_at.map_or(now, |f| f.at.min(f.until));
            for ev in events {
                m.record.apply(&ev);
                m.recent.push_back(ev);
            }
            while m.recent.len() > RECENT {
                m.recent.pop_front();
            }
            m.refold();
            m.changed = true;
            let mut fx = m.on_time(now);
            if let Some(f) = clock_at {
                fx.push(Effect::Clock(ClockControl::Follow(f)));
            }
            fx
        }
        Message::JournalUnreadable(e) => {
            m.say(format!("cannot read the journal: {e}"), Tone::Error);
            m.changed = true;
            Vec::new()
        }
        Message::TerminalWritten { what, result } => {
            m.changed = true;
            let TerminalWrite::Copy { title, lines } = what;
            match result {
                Ok(()) => m.say(
                    format!(
                        "copied the command of \"{title}\" ({lines} line{}) to your clipboard through the terminal (OSC 52); drillbook does not run it. Nothing arrived? Your terminal may not allow OSC 52 (tmux: set -g set-clipboard on)",
                        if lines == 1 { "" } else { "s" }
                    ),
                    Tone::Ok,
                ),
                Err(e) => m.say(
                    format!("could not copy: {}", clean_line(&e.to_string())),
                    Tone::Error,
                ),
            }
            Vec::new()
        }
        Message::WallClock(wall) => sensing::wall_clock(m, wall, now),
        Message::Checked(result) => sensing::checked(m, &result),
        Message::Paste(text) => {
            m.changed = true;
            on_paste(m, &text);
            Vec::new()
        }
        Message::Key(k) => {
            m.changed = true;
            let fx = on_key(m, k, now);
            if matches!(m.mode, Mode::Normal) {
                m.settle_cursor(now);
            }
            fx
        }
    }
}

/// A key steered the rehearsal clock: show it, and journal what changed (once per change; a
/// `+` at the top of the ladder or a jump that went nowhere changes nothing and records nothing),
/// so that a watcher's clock follows this one (see `run::watch_clock`).
fn clock_steered(
    m: &mut Model,
    control: ClockControl,
    from: DateTime<Utc>,
    state: Option<RehearsalState>,
    now: DateTime<Utc>,
) -> Vec<Effect> {
    use crate::journal::ClockChange;
    let before = m.rehearsal;
    m.rehearsal = state;
    m.changed = true;
    let (Some(b), Some(a)) = (before, state) else {
        return Vec::new();
    };
    if m.read_only.is_some() {
        return Vec::new();
    }
    let change = match control {
        ClockControl::TogglePause if a.paused != b.paused => {
            if a.paused {
                ClockChange::Pause
            } else {
                ClockChange::Resume
            }
        }
        ClockControl::Faster | ClockControl::Slower if (a.speed - b.speed).abs() > f64::EPSILON => {
            ClockChange::Speed
        }
        ClockControl::Faster | ClockControl::Slower => {
            m.say(
                format!(
                    "already at the {} speed, x{}",
                    if control == ClockControl::Faster {
                        "fastest"
                    } else {
                        "slowest"
                    },
                    a.speed
                ),
                Tone::Info,
            );
            return Vec::new();
        }
        ClockControl::JumpTo(_) if now != from => ClockChange::Jump,
        _ => return Vec::new(),
    };
    vec![Effect::Append(Action::RehearsalClock {
        change,
        speed: a.speed,
        paused: a.paused,
        from: (change == ClockChange::Jump).then_some(from),
    })]
}

/// The journal has an event on disk: fold it in, and finish what the operator's action asked for.
fn recorded(m: &mut Model, ev: Event, now: DateTime<Utc>) -> Vec<Effect> {
    m.changed = true;
    let quiet = matches!(
        ev.action,
        Action::Attach { .. }
            | Action::Detach { .. }
            | Action::PhaseEntered { .. }
            | Action::Notification { .. }
            | Action::TornSetAside { .. }
            | Action::NotifyCheck { .. }
            | Action::RehearsalClock { .. }
    );
    let check = sensing::answered(m, &ev.action, None);
    if !quiet && !check {
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
    // The list as it stood, to find the next open step after the one acted on.
    let before = m.list_steps(now);
    let mine = m.unsent.take_if(|u| u.action == ev.action);
    let (cut, joined) = mine
        .as_ref()
        .and_then(|u| u.input.as_ref())
        .map_or((0, 0), |i| (i.cut, i.joined));
    if let Some((text, _)) = &mut m.status {
        // An Enter pressed straight after the paste never saw the prompt say it.
        if joined > 0 {
            let _ = std::fmt::Write::write_fmt(
                text,
                format_args!(
                    " ({joined} pasted line break{} joined with spaces)",
                    if joined == 1 { "" } else { "s" }
                ),
            );
        }
        if cut > 0 {
            let _ = std::fmt::Write::write_fmt(
                text,
                format_args!(
                    " (cut to {} characters: {cut} pasted characters left out)",
                    input::MAX_CHARS
                ),
            );
        }
    }
    if mine.is_none() && ev.action.is_operator_action() {
        // Someone else's action (or one not from this screen): redo no longer follows.
        m.redo.clear();
    }
    m.record.apply(&ev);
    m.recent.push_back(ev);
    while m.recent.len() > RECENT {
        m.recent.pop_front();
    }
    m.refold();
    if let Some(u) = mine {
        if let Some(undone) = u.undoes {
            m.redo.push(undone);
        } else if !u.redo {
            m.redo.clear();
        }
        if let Some(from) = u.advance {
            m.advance(from, &before, now);
        }
    }
    m.on_time(now)
}

fn ctrl_c(k: &KeyEvent) -> bool {
    k.modifiers.contains(KeyModifiers::CONTROL) && matches!(k.code, KeyCode::Char('c' | 'q'))
}

fn quit() -> Vec<Effect> {
    vec![Effect::Quit {
        reason: "quit".into(),
    }]
}

fn on_key(m: &mut Model, k: KeyEvent, now: DateTime<Utc>) -> Vec<Effect> {
    match std::mem::replace(&mut m.mode, Mode::Normal) {
        Mode::Normal => normal_key(m, k, now),
        Mode::Typing(input) => typing_key(m, input, k, now),
        Mode::Ask(q) => answer(m, q, k),
        Mode::PickEvidence { step, selected } => {
            let n = m.plan.steps[step].evidence.len();
            match k.code {
                KeyCode::Esc => m.status = None,
                KeyCode::Down | KeyCode::Tab => {
                    m.mode = Mode::PickEvidence {
                        step,
                        selected: (selected + 1) % n.max(1),
                    };
                }
                KeyCode::Up | KeyCode::BackTab => {
                    m.mode = Mode::PickEvidence {
                        step,
                        selected: (selected + n.max(1) - 1) % n.max(1),
                    };
                }
                KeyCode::Enter => start_evidence(m, step, selected),
                _ if ctrl_c(&k) => return quit_asked(m, now),
                // Anything typed goes to the highlighted field: the picker takes no key the text
                // needs (`yes, …` typed right after `e` keeps its `y`, `e`, `s` and space).
                KeyCode::Char(_) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                    start_evidence(m, step, selected);
                    if let Mode::Typing(i) = &mut m.mode {
                        i.key(k);
                    }
                }
                _ => m.mode = Mode::PickEvidence { step, selected },
            }
            Vec::new()
        }
    }
}

/// `y` goes ahead; any other key does not.
fn answer(m: &mut Model, q: Question, k: KeyEvent) -> Vec<Effect> {
    let yes = matches!(k.code, KeyCode::Char('y' | 'Y'));
    match q {
        Question::Discard(input) => {
            if yes || ctrl_c(&k) {
                return vec![Effect::Quit {
                    reason: "quit; a half-typed input was not recorded".into(),
                }];
            }
            m.mode = Mode::Typing(input);
            m.say("still typing", Tone::Info);
        }
        Question::Quit => {
            // A second Ctrl-C means it.
            if yes || ctrl_c(&k) {
                return quit();
            }
            m.say("still running: notifications continue", Tone::Info);
        }
        Question::Undo {
            target,
            what,
            action,
        } => {
            if yes {
                let undo = Action::Undo { target };
                m.unsent = Some(Unsent {
                    action: undo.clone(),
                    input: None,
                    advance: None,
                    undoes: action,
                    redo: false,
                });
                return vec![Effect::Append(undo)];
            }
            m.say(format!("not undone: {what}"), Tone::Info);
        }
        Question::Confirm { action, input, .. } => {
            if yes {
                return m.send(action, Some(input), false);
            }
            m.mode = Mode::Typing(input);
            m.status = None;
        }
    }
    Vec::new()
}

fn start_evidence(m: &mut Model, step: usize, field: usize) {
    let existing = m
        .record
        .evidence_of(&m.plan.steps[step].id, &m.plan.steps[step].evidence[field])
        .map(|e| e.value.clone())
        .unwrap_or_default();
    m.mode = Mode::Typing(Input::editing(Prompt::Evidence { step, field }, &existing));
}

fn typing_key(m: &mut Model, mut input: Input, k: KeyEvent, now: DateTime<Utc>) -> Vec<Effect> {
    if ctrl_c(&k) {
        if input.text().is_empty() {
            return quit_asked(m, now);
        }
        m.mode = Mode::Ask(Question::Discard(input));
        return Vec::new();
    }
    match k.code {
        KeyCode::Esc => {
            if input.prompt == Prompt::Search {
                m.status = None;
            } else {
                m.say("cancelled: nothing recorded", Tone::Info);
            }
            return Vec::new();
        }
        KeyCode::Enter => return submit(m, input, now),
        _ => {
            input.key(k);
        }
    }
    m.mode = Mode::Typing(input);
    Vec::new()
}

/// Pasted text goes into the prompt open, its control characters shown as the same stand-ins
/// the screen uses (`␛`, `␇`: see `text`), and the prompt says how many there were: a careful
/// tool neither drops bytes silently nor lets them through. A prompt is one line: the lines of
/// a paste are joined with spaces, and that is said too (walk 2 N11: a log excerpt pasted into
/// a note read as one run-on line with nothing saying so). Outside a prompt a paste is not a
/// stream of keys (a pasted `f` or Space would record): it is ignored, and said so.
fn on_paste(m: &mut Model, text: &str) {
    match &mut m.mode {
        Mode::Typing(input) => {
            let p = input.paste(text);
            let mut said = Vec::new();
            if p.joined > 0 {
                said.push(format!(
                    "pasted text held {} line break{}: joined into one line with spaces",
                    p.joined,
                    if p.joined == 1 { "" } else { "s" }
                ));
            }
            if p.cut > 0 {
                said.push(format!(
                    "pasted text cut: a prompt holds at most {} characters, {} left out",
                    input::MAX_CHARS,
                    p.cut
                ));
            }
            if p.shown > 0 {
                said.push(format!(
                    "pasted text held {} control character{} (escape sequences): shown as ␛, ␇ … and kept so",
                    p.shown,
                    if p.shown == 1 { "" } else { "s" }
                ));
            }
            if !said.is_empty() {
                input.error = Some(format!("{}; edit or Esc", said.join("; ")));
            }
        }
        _ => m.say(
            "paste ignored: not at a prompt (n note, e evidence, / search open one)",
            Tone::Error,
        ),
    }
}

/// A note typed with a leading `!` is an issue: the report lists it under Issues. The marker is
/// taken off the text; a note that is only `!` stays a plain note.
fn issue_marked(text: String) -> (String, bool) {
    match text.strip_prefix('!').map(str::trim_start) {
        Some(rest) if !rest.is_empty() => (rest.to_owned(), true),
        _ => (text, false),
    }
}

/// Keep the prompt open with `why` beside it.
fn refuse(m: &mut Model, mut input: Input, why: String) -> Vec<Effect> {
    input.error = Some(why);
    m.mode = Mode::Typing(input);
    Vec::new()
}

fn submit(m: &mut Model, input: Input, now: DateTime<Utc>) -> Vec<Effect> {
    let text = input.text().trim().to_owned();
    if text.is_empty()
        && let Some(why) = input.prompt.empty_refusal()
    {
        return refuse(m, input, format!("{why}: type it, or Esc to cancel"));
    }
    // A field with options (a choice, or one the runbook gives options) takes only one of
    // them, recorded as the runbook spells it: the steps that depend on a choice follow what
    // was meant, and the report reads `yes`, not `maybe` (walk 3 R8).
    let mut text = text;
    if let Prompt::Evidence { step, field } = input.prompt {
        let st = &m.plan.steps[step];
        if let Some(options) = st.options_of(&st.evidence[field]) {
            let Some(o) = crate::runbook::option_in(options, &text) else {
                let why = format!("type one of: {}", options.join(", "));
                return refuse(m, input, why);
            };
            o.clone_into(&mut text);
        }
    }
    // The value the field holds already, typed: recording it again would only repeat it.
    if let Prompt::Evidence { step, field } = input.prompt {
        let st = &m.plan.steps[step];
        if m.record
            .evidence_of(&st.id, &st.evidence[field])
            .is_some_and(|e| e.sensed.is_none() && e.value == text)
        {
            m.say(
                format!(
                    "unchanged: {} is still {}; nothing recorded",
                    clean_line(&st.evidence[field]),
                    clean_line(&text)
                ),
                Tone::Info,
            );
            return Vec::new();
        }
    }
    let id = |i: usize| m.plan.steps[i].id.clone();
    let action = match input.prompt.clone() {
        Prompt::Search => {
            m.search = (!text.is_empty()).then_some(text);
            m.status = None;
            if m.search.is_some() {
                jump_to_match(m, 0, now);
            }
            return Vec::new();
        }
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
        Prompt::Why { step, state } => Action::Step {
            step: id(step),
            state,
            note: Some(text),
        },
        Prompt::Evidence { step, field } => Action::Evidence {
            step: id(step),
            field: m.plan.steps[step].evidence[field].clone(),
            value: text,
        },
        Prompt::Confirm { transition, at } => {
            let observed = match confirm::parse(&text, at, m.plan.session.tz, now) {
                Ok(o) => o,
                Err(why) => return refuse(m, input, why.to_string()),
            };
            let t = &m.timeline.transitions[transition];
            let action = Action::BoundaryConfirmed {
                boundary: t.key.clone(),
                planned: t.at,
                confirmed: observed.at,
                note: observed.note,
                entered: Some(now),
            };
            if let Some(why) = confirm::doubt(m, transition, observed.at) {
                m.mode = Mode::Ask(Question::Confirm { action, input, why });
                return Vec::new();
            }
            return m.send(action, Some(input), false);
        }
    };
    let advance = matches!(input.prompt, Prompt::Why { .. });
    m.status = None;
    m.send(action, Some(input), advance)
}

/// `q`, Ctrl-C: in a live session ask first (notifications stop); otherwise quit.
fn quit_asked(m: &mut Model, now: DateTime<Utc>) -> Vec<Effect> {
    if m.live(now) {
        m.mode = Mode::Ask(Question::Quit);
        Vec::new()
    } else {
        quit()
    }
}

/// Move the selection by `by` steps in the list.
fn move_by(m: &mut Model, by: isize, now: DateTime<Utc>) {
    let steps = m.list_steps(now);
    if steps.is_empty() {
        return;
    }
    let pos = m
        .cursor
        .and_then(|c| steps.iter().position(|&i| i == c))
        .unwrap_or(0) as isize;
    let to = (pos + by).clamp(0, steps.len() as isize - 1) as usize;
    m.select(Some(steps[to]));
}

/// Show step `i`: selected in the list as it is, else in its own phase (or the current view
/// when it is carried there); filters that hide it are cleared, and said so.
fn reveal(m: &mut Model, i: usize, now: DateTime<Utc>) {
    // Selected first: a folded carried group shows its selected step.
    m.select(Some(i));
    if !m.list_steps(now).contains(&i) {
        m.list_view = ListView::Phase;
        let current = m.clock_phase(now);
        m.view_phase = current;
        m.follow = true;
        if !m.list_steps(now).contains(&i) {
            m.view_phase = m.plan.steps[i].phase;
            m.follow = m.view_phase == current;
        }
        if !m.list_steps(now).contains(&i) && m.filter.is_on() {
            m.filter = Filter::default();
            m.say("filters cleared to show it", Tone::Info);
        }
    }
    m.select(Some(i));
}

/// `n`/`N` (and Enter on `/`): the next (`dir` 1), previous (-1) or first from here (0) match.
fn jump_to_match(m: &mut Model, dir: isize, now: DateTime<Utc>) {
    let matches = m.search_matches(now);
    let q = clean_line(m.search.as_deref().unwrap_or_default()).into_owned();
    if matches.is_empty() {
        m.say(
            format!("search \"{q}\": no step matches (Esc ends the search)"),
            Tone::Error,
        );
        return;
    }
    let rank = |i: usize| m.order.iter().position(|&x| x == i).unwrap_or(0);
    let here = m.cursor.map_or(0, rank);
    let pos = match dir {
        0 => m.match_from_selection(&matches),
        1 => matches.iter().position(|&i| rank(i) > here).unwrap_or(0),
        _ => matches
            .iter()
            .rposition(|&i| rank(i) < here)
            .unwrap_or(matches.len() - 1),
    };
    reveal(m, matches[pos], now);
    m.say(
        format!(
            "search \"{q}\": match {} of {} · n next, N previous, Esc ends the search",
            pos + 1,
            matches.len()
        ),
        Tone::Info,
    );
}

/// `O`: the next overdue step after the selected one, oldest first, wrapping around.
fn next_overdue(m: &mut Model, now: DateTime<Utc>) {
    let overdue = m.overdue_steps(now);
    if overdue.is_empty() {
        m.say("nothing is overdue", Tone::Info);
        return;
    }
    let pos = m
        .cursor
        .and_then(|c| overdue.iter().position(|&i| i == c))
        .map_or(0, |p| (p + 1) % overdue.len());
    let i = overdue[pos];
    reveal(m, i, now);
    let s = &m.plan.steps[i];
    // With its date when that is not the session day: "due 17:00" beside "overdue" on the
    // day would read as later today.
    let session = &m.plan.session;
    let approx = if s.due_approximate { "~" } else { "" };
    let due = s
        .due
        .map(|d| format!("{approx}{}", zones::hm_on(d, session.tz, session.date)));
    m.say(
        format!(
            "overdue {} of {}: {} (due {})",
            pos + 1,
            overdue.len(),
            clean_line(&s.title),
            due.unwrap_or_default()
        ),
        Tone::Info,
    );
}

/// A step's state from a key: refused when it would record nothing new (already that state, or
/// Space on a settled step), a prompt when a note is required, else appended. A state that
/// takes a note can be recorded again with a new one (`f` on a failed step), except on a step
/// n/a by its runbook or a recorded choice: that one was never recorded, and says why.
fn set_state(m: &mut Model, i: usize, state: StepState, space: bool) -> Vec<Effect> {
    let current = m.state(i);
    let settled_space = space && current.is_settled();
    let recorded = m.record.state_of(&m.plan.steps[i].id).is_some();
    if settled_space || (current == state && (!state.needs_note() || !recorded)) {
        let s = &m.plan.steps[i];
        let title = clean_line(&s.title).into_owned();
        let msg = if let Some(c) = m.record.state_of(&s.id) {
            format!(
                "already {} at {} by {}: {title}. Nothing recorded (u undoes; f, s, a change it)",
                current.word(),
                zones::hms(c.stamp.at, m.plan.session.tz),
                clean_line(&c.stamp.who())
            )
        } else {
            let why = crate::setup::not_applying(&m.plan, s, &m.record).unwrap_or_default();
            format!(
                "{title} is {}: {}. Nothing recorded",
                current.word(),
                clean_line(&why)
            )
        };
        m.say(msg, Tone::Info);
        return Vec::new();
    }
    if state.needs_note() {
        m.mode = Mode::Typing(Input::new(Prompt::Why { step: i, state }, ""));
        return Vec::new();
    }
    m.status = None;
    let action = Action::Step {
        step: m.plan.steps[i].id.clone(),
        state,
        note: None,
    };
    m.send(action, None, true)
}

/// `y`: the selected step's command to the clipboard, through the terminal.
fn copy_command(m: &mut Model) -> Vec<Effect> {
    let Some(i) = m.cursor else {
        m.say("no step selected", Tone::Error);
        return Vec::new();
    };
    let s = &m.plan.steps[i];
    let title = clean_line(&s.title).into_owned();
    let Some(cmd) = s.command.as_deref() else {
        m.say(format!("\"{title}\" has no command to copy"), Tone::Info);
        return Vec::new();
    };
    // What the screen shows is what is copied: neutralised, no escape sequence gets through.
    let text = crate::text::clean_block(cmd).trim_end().to_owned();
    if text.len() > clip::MAX_BYTES {
        m.say(
            format!(
                "the command is too long to copy through the terminal ({} bytes, at most {}): select it with the mouse",
                text.len(),
                clip::MAX_BYTES
            ),
            Tone::Error,
        );
        return Vec::new();
    }
    let lines = text.lines().count().max(1);
    vec![Effect::WriteTerminal {
        bytes: clip::osc52(&text, m.surroundings.wrap),
        what: TerminalWrite::Copy { title, lines },
    }]
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
        return quit_asked(m, now);
    }
    let searching = m.search.is_some();
    let step = m.selected_step();
    let recording = matches!(
        k.code,
        KeyCode::Char(' ' | 'f' | 's' | 'a' | 'x' | 'd' | 'e' | 'u' | 'U' | 'c' | 'r')
    ) || (!searching && matches!(k.code, KeyCode::Char('n' | 'N')));
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
            m.say("no step selected in this list", Tone::Error);
        }
        step
    };
    match k.code {
        KeyCode::Char('q') => return quit_asked(m, now),
        KeyCode::Char('?') => m.overlay = Some(Overlay::Help),
        KeyCode::Char('H') => m.overlay = Some(Overlay::Handover),
        KeyCode::Char('L') => m.show_log = !m.show_log,
        KeyCode::Char('b') => {
            if m.banner.take().is_none() {
                m.notice = None;
            }
        }
        KeyCode::Esc => {
            if m.search.take().is_some() {
                m.say("search ended", Tone::Info);
            } else {
                m.status = None;
            }
        }
        KeyCode::Enter => {
            m.focus = match m.focus {
                Pane::Steps => Pane::Detail,
                Pane::Detail => Pane::Steps,
            };
        }
        KeyCode::Down | KeyCode::Char('j') => match m.focus {
            Pane::Steps => move_by(m, 1, now),
            Pane::Detail => m.detail_scroll = m.detail_scroll.saturating_add(1),
        },
        KeyCode::Up | KeyCode::Char('k') => match m.focus {
            Pane::Steps => move_by(m, -1, now),
            Pane::Detail => m.detail_scroll = m.detail_scroll.saturating_sub(1),
        },
        KeyCode::Home | KeyCode::Char('g') => match m.focus {
            Pane::Steps => move_by(m, isize::MIN / 2, now),
            Pane::Detail => m.detail_scroll = 0,
        },
        KeyCode::End | KeyCode::Char('G') => match m.focus {
            Pane::Steps => move_by(m, isize::MAX / 2, now),
            Pane::Detail => m.detail_scroll = u16::MAX / 2,
        },
        KeyCode::PageDown => m.detail_scroll = m.detail_scroll.saturating_add(5),
        KeyCode::PageUp => m.detail_scroll = m.detail_scroll.saturating_sub(5),
        KeyCode::Tab | KeyCode::Char(']') => browse(m, 1, now),
        KeyCode::BackTab | KeyCode::Char('[') => browse(m, -1, now),
        KeyCode::Char('t') => {
            m.follow = true;
            m.list_view = ListView::Phase;
            m.view_phase = m.clock_phase(now);
            let first = m.first_open(now);
            m.select(first);
        }
        KeyCode::Char('o') => {
            m.list_view = match m.list_view {
                ListView::Phase => ListView::Open,
                ListView::Open => ListView::Phase,
            };
            if m.list_view == ListView::Phase {
                m.follow = true;
                m.view_phase = m.clock_phase(now);
            }
            let first = m.first_open(now);
            m.select(first);
        }
        KeyCode::Char('O') => next_overdue(m, now),
        KeyCode::Char('z') => {
            if m.list_view == ListView::Phase && !m.carried_phases(now).is_empty() {
                m.unfold_carried = !m.unfold_carried;
                m.say(
                    if m.unfold_carried {
                        "carried steps shown (z folds them)"
                    } else {
                        "carried steps folded to their headings (z shows them)"
                    },
                    Tone::Info,
                );
            } else {
                m.say("nothing carried into this list", Tone::Info);
            }
        }
        // A new search starts empty: typing never lands after an old query.
        KeyCode::Char('/') => m.mode = Mode::Typing(Input::new(Prompt::Search, "")),
        KeyCode::Char('n') if searching => jump_to_match(m, 1, now),
        KeyCode::Char('N') if searching => jump_to_match(m, -1, now),
        KeyCode::Char('r') => {
            if let Some(i) = needs_step(m) {
                return sensing::run_key(m, i);
            }
        }
        KeyCode::Char('R') => {
            let roles = m.plan.roles();
            if roles.len() < 2 {
                m.say("one role loaded: nothing to filter by", Tone::Info);
            } else {
                let at = m
                    .filter
                    .role
                    .as_ref()
                    .and_then(|r| roles.iter().position(|x| x == r));
                m.filter.role = match at {
                    None => Some(roles[0].clone()),
                    Some(p) => roles.get(p + 1).cloned(),
                };
                let first = m.first_open(now);
                if !m.cursor.is_some_and(|c| m.list_steps(now).contains(&c)) {
                    m.select(first);
                }
                m.say(
                    match &m.filter.role {
                        Some(r) => format!("showing role {} only (R: next role)", clean_line(r)),
                        None => "showing every role".into(),
                    },
                    Tone::Info,
                );
            }
        }
        KeyCode::Char('F') => {
            m.filter.state = m.filter.state.next();
            m.say(
                format!("showing {} (F: next state)", m.filter.state.word()),
                Tone::Info,
            );
        }
        KeyCode::Char('y') => return copy_command(m),
        KeyCode::Char(' ') => {
            if let Some(i) = needs_step(m) {
                return set_state(m, i, StepState::Done, true);
            }
        }
        KeyCode::Char('f') => {
            if let Some(i) = needs_step(m) {
                return set_state(m, i, StepState::Failed, false);
            }
        }
        KeyCode::Char('s') => {
            if let Some(i) = needs_step(m) {
                return set_state(m, i, StepState::Skipped, false);
            }
        }
        KeyCode::Char('a' | 'x') => {
            if let Some(i) = needs_step(m) {
                return set_state(m, i, StepState::NotApplicable, false);
            }
        }
        KeyCode::Char('d') => {
            if let Some(i) = needs_step(m) {
                return set_state(m, i, StepState::Deferred, false);
            }
        }
        KeyCode::Char('n') => {
            if let Some(i) = needs_step(m) {
                m.mode = Mode::Typing(Input::new(Prompt::StepNote { step: i }, ""));
            }
        }
        KeyCode::Char('N') => {
            m.mode = Mode::Typing(Input::new(Prompt::SessionNote, ""));
        }
        KeyCode::Char('e') => {
            if let Some(i) = needs_step(m) {
                match m.plan.steps[i].evidence.len() {
                    0 => m.say(
                        "this step asks for no evidence; add a note with n",
                        Tone::Error,
                    ),
                    // One field: straight to it, nothing to pick.
                    1 => start_evidence(m, i, 0),
                    _ => {
                        m.mode = Mode::PickEvidence {
                            step: i,
                            selected: 0,
                        };
                    }
                }
            }
        }
        KeyCode::Char('u') => match m.record.last_undoable() {
            Some(target) => {
                let action = m.find_action(target);
                let what = match &action {
                    Some(a) => m.describe(a),
                    None => format!("journal entry #{target}"),
                };
                let when = m
                    .stamp_of(target)
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
                m.mode = Mode::Ask(Question::Undo {
                    target,
                    what: format!("{what}{when}"),
                    action,
                });
            }
            None => m.say("nothing to undo", Tone::Error),
        },
        KeyCode::Char('U') => match m.redo.pop() {
            Some(action) => {
                m.unsent = Some(Unsent {
                    action: action.clone(),
                    input: None,
                    advance: None,
                    undoes: None,
                    redo: true,
                });
                return vec![Effect::Append(action)];
            }
            None => m.say(
                "nothing to redo (U redoes what u undid here, until something new is recorded)",
                Tone::Error,
            ),
        },
        KeyCode::Char('p' | '+' | '=' | '-' | '>') => return rehearsal_key(m, k.code, now),
        KeyCode::Char('c') => match m.timeline.pending_confirmation(now) {
            Some(t) => {
                let tz = m.plan.session.tz;
                let hms = zones::hms(now, tz);
                let hms = hms.split(' ').next().unwrap_or_default();
                m.mode = Mode::Typing(Input::new(
                    Prompt::Confirm {
                        transition: t,
                        at: now,
                    },
                    &format!("{hms} "),
                ));
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

fn browse(m: &mut Model, by: isize, now: DateTime<Utc>) {
    let n = m.plan.session.phases.len();
    if n == 0 {
        return;
    }
    if m.list_view == ListView::Open {
        m.list_view = ListView::Phase;
    } else {
        m.view_phase = (m.view_phase as isize + by).rem_euclid(n as isize) as usize;
    }
    m.follow = false;
    let first = m.list_steps(now).first().copied();
    m.select(first);
}

/// A step's due time in the session zone, with the day when it is not the session date; `~11:20`
/// while it counts from an approximate phase start not confirmed yet (`+20m`).
pub fn due_label(plan: &Plan, s: &Step) -> Option<String> {
    let due = s.due?;
    let tz = plan.session.tz;
    let l = due.with_timezone(&tz);
    let approx = if s.due_approximate { "~" } else { "" };
    Some(if l.date_naive() == plan.session.date {
        format!("{approx}{}", l.format("%H:%M"))
    } else {
        format!("{approx}{}", l.format("%d %b %H:%M"))
    })
}

#[cfg(test)]
mod tests;
