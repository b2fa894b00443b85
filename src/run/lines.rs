//! The headless frontend (`run --headless`): the same loop as the app, with a line printer in
//! place of a frame. Each transition, confirmation and notification is printed once, as one line
//! with the session-clock time and the real time; the run ends with the session.
//!
//! Terminal notification sequences go to the controlling terminal when there is one, never into
//! stdout (which may be a file or a pipe that a script reads).

use super::{Frontend, Happened};
use crate::alerts::SendError;
use crate::app::Model;
use crate::zones;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::collections::HashSet;
use std::io::Write;

/// What a headless run fired, in order: for tests and the closing summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fired {
    pub transitions: Vec<String>,
    pub alerts: Vec<String>,
}

/// A line printer over any writer (stdout in `run --headless`, a buffer in tests).
pub struct Lines<W: Write> {
    out: W,
    /// Where terminal notification sequences go: the controlling terminal, if any.
    tty: Option<Box<dyn Write>>,
    local: Tz,
    announced: HashSet<String>,
    started: bool,
    pub fired: Fired,
}

impl<W: Write> Lines<W> {
    pub fn new(out: W, tty: Option<Box<dyn Write>>, local: Tz) -> Self {
        Self {
            out,
            tty,
            local,
            announced: HashSet::new(),
            started: false,
            fired: Fired::default(),
        }
    }

    /// The controlling terminal, for notification sequences; None without one.
    pub fn controlling_tty() -> Option<Box<dyn Write>> {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/tty")
            .ok()
            .map(|f| Box::new(f) as Box<dyn Write>)
    }

    fn line(&mut self, model: &Model, now: DateTime<Utc>, kind: &str, text: &str) {
        let tag = model
            .rehearsal
            .map_or_else(String::new, |r| format!("[REHEARSAL {}x] ", r.speed));
        let real = zones::hms(crate::clock::wall_now(), self.local);
        let virt = zones::hms(now, model.plan.session.tz);
        let _ = writeln!(
            self.out,
            "{tag}{virt}  real {real}  {kind:<8} {}",
            crate::text::clean_line(text)
        );
        let _ = self.out.flush();
    }

    /// The first line: the session, the roles, where the clock stands, the journal.
    fn start(&mut self, model: &Model, now: DateTime<Utc>) {
        let plan = &model.plan;
        let status = model.timeline.status(now);
        // What passed before the start is stated once, not replayed as transitions.
        for t in &model.timeline.transitions[..status.passed] {
            self.announced.insert(t.key.clone());
        }
        let where_ = status.phase.map_or_else(
            || {
                if status.before_start() {
                    "before the first phase".to_owned()
                } else if status.ended() {
                    let end = plan.session.phases.iter().map(|p| p.end.at).max();
                    let end = end.map_or_else(String::new, |t| zones::day_hm(t, plan.session.tz));
                    if model.rehearsal.is_some() {
                        format!(
                            "this rehearsal already reached the session's end ({end}); to rehearse again, start one with --start-at"
                        )
                    } else {
                        format!("the session ended on {end}; to rehearse it, add --rehearse")
                    }
                } else {
                    "between phases".to_owned()
                }
            },
            |p| format!("in phase {}", plan.session.phases[p].title),
        );
        let text = format!(
            "{} ({}); {where_}; journal {}",
            plan.session.title,
            plan.roles().join(","),
            model.journal_path
        );
        self.line(model, now, "start", &text);
    }
}

impl<W: Write> Frontend for Lines<W> {
    fn observe(&mut self, model: &Model, now: DateTime<Utc>) {
        if !self.started {
            self.started = true;
            self.start(model, now);
        }
        let status = model.timeline.status(now);
        for i in 0..status.passed {
            let t = model.timeline.transitions[i].clone();
            if !self.announced.insert(t.key.clone()) {
                continue;
            }
            let tz = model.plan.session.tz;
            let label = model.plan.session.transition_label(&t);
            let drift = model
                .timeline
                .drift(i)
                .filter(|d| !d.is_zero())
                .map(|d| format!(" (planned {}, {})", zones::hm(t.at, tz), zones::drift(d)))
                .unwrap_or_default();
            self.line(model, now, "phase", &format!("{label}{drift} [{}]", t.key));
            self.fired.transitions.push(t.key);
        }
        if let Some(i) = status.awaiting {
            let t = &model.timeline.transitions[i];
            if self.announced.insert(format!("{}:awaiting-shown", t.key)) {
                let label = model.plan.session.transition_label(t);
                self.line(
                    model,
                    now,
                    "awaiting",
                    &format!(
                        "{label}: planned time reached, awaiting confirmation when observed (c in the app)"
                    ),
                );
            }
        }
    }

    fn happened(&mut self, model: &Model, now: DateTime<Utc>, what: Happened<'_>) {
        match what {
            Happened::Notify(alert) => {
                self.fired.alerts.push(alert.key.clone());
                let text = format!("{}: {} [{}]", alert.title, alert.body, alert.key);
                self.line(model, now, "notify", &text);
            }
            Happened::NotifyFailed { channel, error } => {
                self.line(
                    model,
                    now,
                    "failed",
                    &format!("{channel} notification failed: {error}"),
                );
            }
            Happened::Recorded(ev) => match &ev.action {
                crate::journal::Action::BoundaryConfirmed {
                    boundary,
                    confirmed,
                    ..
                } => {
                    let at = zones::hm(*confirmed, model.plan.session.tz);
                    let text = format!("{boundary} confirmed at {at}");
                    self.line(model, now, "confirm", &text);
                }
                // A step's check ran: its outcome, what it looked at, and what it saw.
                crate::journal::Action::Check {
                    step,
                    check,
                    target,
                    outcome,
                    detail,
                    ..
                } => {
                    let text = format!(
                        "{step}: {check} check {} on {target}: {detail}",
                        outcome.word()
                    );
                    self.line(model, now, "check", &text);
                }
                _ => {}
            },
            Happened::NotRecorded { error } => {
                self.line(
                    model,
                    now,
                    "error",
                    &format!("journal write failed, action NOT recorded: {error}"),
                );
            }
            Happened::Forwarding(text) => self.line(model, now, "forward", text),
        }
    }

    fn terminal_bytes(&mut self, bytes: &[u8]) -> Result<(), SendError> {
        let t = self.tty.as_mut().ok_or(SendError::NoTerminal)?;
        t.write_all(bytes)?;
        Ok(t.flush()?)
    }

    fn ends_with_session(&self) -> bool {
        true
    }

    fn finish(&mut self, model: &Model, now: DateTime<Utc>, reason: &str) {
        if reason == super::SESSION_ENDED {
            let summary = format!(
                "session ended: {} transitions and {} notifications fired",
                self.fired.transitions.len(),
                self.fired.alerts.len()
            );
            self.line(model, now, "end", &summary);
        }
    }
}
