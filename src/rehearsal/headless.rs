//! `--headless`: no TUI. Each transition and notification is printed once, as one line with the
//! session-clock (virtual) time and the real time, and the run ends with the session. Used for
//! rehearsals in CI and scripts, and with the real clock in a spare tmux pane on the day.

use crate::alerts::{Alert, Scheduler};
use crate::clock::Clock;
use crate::journal::{Action, Journal, Record};
use crate::notify::Notifier;
use crate::runbook::Plan;
use crate::timeline::Timeline;
use crate::zones;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::collections::HashSet;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// The longest single sleep: the clock is re-read at least this often, so a paused, jumped or
/// stepped clock (or a resumed laptop) is noticed promptly.
const MAX_SLEEP: Duration = Duration::from_secs(1);
/// A notification send that takes longer is abandoned and journaled as failed.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Confirm approximate boundaries at their planned time (a rehearsal has nobody to observe them).
    pub auto_confirm: bool,
}

/// What a headless run fired, in order: for tests and the closing summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fired {
    pub transitions: Vec<String>,
    pub alerts: Vec<String>,
}

struct Runner<'a> {
    plan: &'a Plan,
    clock: Arc<dyn Clock>,
    timeline: Timeline,
    scheduler: Scheduler,
    journal: &'a mut Journal,
    record: Record,
    notifiers: Vec<Arc<dyn Notifier>>,
    out: &'a mut (dyn Write + Send),
    local: Tz,
    announced: HashSet<String>,
    fired: Fired,
    errors: usize,
}

type SendOutcome = (Alert, &'static str, Result<(), String>);

impl Runner<'_> {
    fn line(&mut self, kind: &str, text: &str) {
        let now = self.clock.now();
        let tag = self
            .clock
            .rehearsal()
            .map_or_else(String::new, |r| format!("[REHEARSAL {}x] ", r.speed));
        let real = zones::hms(crate::clock::wall_now(), self.local);
        let virt = zones::hms(now, self.plan.session.tz);
        let _ = writeln!(
            self.out,
            "{tag}{virt}  real {real}  {kind:<8} {}",
            crate::text::clean_line(text)
        );
        let _ = self.out.flush();
    }

    /// Append to the journal and fold the event in; a failed write is reported, never fatal.
    fn record(&mut self, action: Action) {
        match self.journal.append(action, self.clock.as_ref()) {
            Ok(ev) => self.record.apply(&ev),
            Err(e) => {
                self.errors += 1;
                self.line(
                    "error",
                    &format!("journal write failed, action NOT recorded: {e}"),
                );
            }
        }
    }

    fn auto_confirm(&mut self, now: DateTime<Utc>) {
        let status = self.timeline.status(now);
        if let Some(i) = status.awaiting {
            let t = self.timeline.transitions[i].clone();
            self.timeline.confirm(&t.key, t.at);
            self.record(Action::BoundaryConfirmed {
                boundary: t.key.clone(),
                planned: t.at,
                confirmed: t.at,
                note: Some("auto-confirmed at the planned time (rehearsal)".into()),
                entered: None,
            });
            self.line(
                "confirm",
                &format!(
                    "{} confirmed at its planned time ({})",
                    t.key,
                    zones::hm(t.at, self.plan.session.tz)
                ),
            );
        }
    }

    fn announce_transitions(&mut self, now: DateTime<Utc>) {
        let status = self.timeline.status(now);
        for i in 0..status.passed {
            let t = self.timeline.transitions[i].clone();
            if !self.announced.insert(t.key.clone()) {
                continue;
            }
            let label = self.plan.session.transition_label(&t);
            let drift = self
                .timeline
                .drift(i)
                .filter(|d| !d.is_zero())
                .map(|d| {
                    format!(
                        " (planned {}, {})",
                        zones::hm(t.at, self.plan.session.tz),
                        zones::signed_span(d)
                    )
                })
                .unwrap_or_default();
            self.line("phase", &format!("{label}{drift} [{}]", t.key));
            self.fired.transitions.push(t.key.clone());
            if let Some(p) = t.starting {
                let id = self.plan.session.phases[p].id.clone();
                if !self.record.phases_entered.iter().any(|(x, _)| *x == id) {
                    self.record(Action::PhaseEntered { phase: id });
                }
            }
        }
        if let Some(i) = status.awaiting {
            let key = format!("{}:awaiting-shown", self.timeline.transitions[i].key);
            if self.announced.insert(key) {
                let label = self
                    .plan
                    .session
                    .transition_label(&self.timeline.transitions[i]);
                self.line("awaiting", &format!("{label}: planned time reached, awaiting confirmation when observed (c in the app)"));
            }
        }
    }

    fn dispatch_alerts(
        &mut self,
        now: DateTime<Utc>,
        tx: &tokio::sync::mpsc::UnboundedSender<SendOutcome>,
    ) -> usize {
        let alerts = self
            .scheduler
            .due(self.plan, &self.timeline, &self.record, now);
        let mut spawned = 0;
        for mut alert in alerts {
            if self.clock.rehearsal().is_some() {
                alert.title = format!("[REHEARSAL] {}", alert.title);
            }
            self.line(
                "notify",
                &format!("{}: {} [{}]", alert.title, alert.body, alert.key),
            );
            self.fired.alerts.push(alert.key.clone());
            for n in &self.notifiers {
                let (tx, n, alert) = (tx.clone(), n.clone(), alert.clone());
                spawned += 1;
                tokio::spawn(async move {
                    let res = match tokio::time::timeout(SEND_TIMEOUT, n.send(&alert)).await {
                        Ok(r) => r,
                        Err(_) => Err(format!("no answer within {} s", SEND_TIMEOUT.as_secs())),
                    };
                    let _ = tx.send((alert, n.channel(), res));
                });
            }
        }
        spawned
    }

    fn journal_send(&mut self, (alert, channel, res): SendOutcome) {
        if let Err(e) = &res {
            self.line("failed", &format!("{channel} notification failed: {e}"));
        }
        self.record(Action::Notification {
            key: alert.key,
            channel: channel.to_owned(),
            ok: res.is_ok(),
            title: alert.title,
            body: alert.body,
            error: res.err(),
        });
    }

    /// When to look again: the next transition, the next alert, capped.
    fn next_wake(&self, now: DateTime<Utc>) -> Duration {
        let status = self.timeline.status(now);
        let mut next: Option<DateTime<Utc>> = status.next.map(|i| self.timeline.effective(i));
        if let Some(a) = self
            .scheduler
            .next_due(self.plan, &self.timeline, &self.record, now)
        {
            next = Some(next.map_or(a, |n| n.min(a)));
        }
        next.and_then(|t| self.clock.real_until(t))
            .map_or(MAX_SLEEP, |d| d.min(MAX_SLEEP))
    }
}

/// Run until the session ends. Returns what fired, in order.
pub async fn run(
    plan: &Plan,
    clock: Arc<dyn Clock>,
    journal: &mut Journal,
    record: Record,
    notifiers: Vec<Arc<dyn Notifier>>,
    opts: Options,
    out: &mut (dyn Write + Send),
) -> Fired {
    let start = clock.now();
    let mut timeline = Timeline::new(&plan.session);
    for t in &timeline.transitions.clone() {
        if let Some(c) = record.confirmation(&t.key) {
            timeline.confirm(&t.key, c.confirmed);
        }
    }
    let mut r = Runner {
        plan,
        clock,
        scheduler: Scheduler::new(start),
        journal,
        record,
        notifiers,
        out,
        local: zones::local_tz(),
        announced: HashSet::new(),
        fired: Fired::default(),
        errors: 0,
        timeline,
    };
    // What passed before the start is stated once, not replayed as transitions.
    let status = r.timeline.status(start);
    for i in 0..status.passed {
        r.announced.insert(r.timeline.transitions[i].key.clone());
    }
    let where_ = status.phase.map_or_else(
        || {
            if status.before_start() {
                "before the first phase".to_owned()
            } else if status.ended() {
                let end = plan.session.phases.iter().map(|p| p.end.at).max();
                let end = end.map_or_else(String::new, |t| zones::day_hm(t, plan.session.tz));
                if r.clock.rehearsal().is_some() {
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
    r.line(
        "start",
        &format!(
            "{} ({}); {where_}; journal {}",
            plan.session.title,
            plan.roles().join(","),
            r.journal.path().display()
        ),
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<SendOutcome>();
    let mut in_flight = 0usize;
    loop {
        let now = r.clock.now();
        if opts.auto_confirm {
            r.auto_confirm(now);
        }
        r.announce_transitions(now);
        in_flight += r.dispatch_alerts(now, &tx);
        if r.timeline.status(now).ended() {
            break;
        }
        let wait = r.next_wake(now);
        tokio::select! {
            Some(outcome) = rx.recv() => { in_flight -= 1; r.journal_send(outcome); }
            () = tokio::time::sleep(wait) => {}
        }
    }
    // Sends still under way finish or time out: bounded by SEND_TIMEOUT.
    while in_flight > 0 {
        match rx.recv().await {
            Some(outcome) => {
                in_flight -= 1;
                r.journal_send(outcome);
            }
            None => break,
        }
    }
    let summary = format!(
        "session ended: {} transitions and {} notifications fired",
        r.fired.transitions.len(),
        r.fired.alerts.len()
    );
    r.line("end", &summary);
    r.fired
}
