//! What to notify and when: phase starts and ends, lead warnings before boundaries, an approximate
//! boundary reaching its planned time unconfirmed, critical steps overdue, and deadlines.
//!
//! Pure: given the plan, the timeline, the journal's record and the time, it says which alerts are
//! due. The journal is what makes each alert fire exactly once, across restarts too.
//!
//! # Keys (stable: they are written in the journal and must not change between versions)
//! - `B@-15m`: a warning 15 minutes before boundary `B` (one per `session.lead` entry).
//! - `B`: boundary `B` reached (`primary.start`, `primary.end`, `failover.end`, ...). A shared
//!   end/start boundary is one transition, named after the phase it ends.
//! - `B:awaiting`: approximate boundary `B` reached its planned time without a confirmation.
//! - `step:ID:overdue`: critical step `ID` past its due time and not acted on (pending or
//!   deferred: a failed step needs follow-up, it is not overdue; see [`crate::standing`]).
//! - `step:ID:overdue@2023-11-25T03:23:00Z`: the same for a step due after its phase's start
//!   (`due: "+20m"`), keyed on the due instant (UTC) it was raised for: that due moves when the
//!   start is confirmed, corrected or the confirmation undone (see below).
//! - `deadline:ID@eve` / `deadline:ID@day`: the day before a deadline, and the day itself; both
//!   against the deadline's `target` (the firm's own earlier time) when it has one.
//!
//! # Exactly once
//! An alert fires when its due instant has passed, it is still useful, it was not fired by this
//! scheduler (`fired`) and the journal has no notification with its key (`Record::notified_any`,
//! which covers earlier processes). Because the rules are re-evaluated from the wall clock on every
//! wake, a clock stepped back cannot refire (the key is remembered) and a jump forward (suspend,
//! NTP) fires each missed alert once if it is still useful. Alerts due more than [`GRACE`] before
//! the scheduler started are never notified: the screen shows that state instead.
//!
//! # Usefulness
//! - a warning: until its boundary is reached (a 15-minute warning for a boundary already passed
//!   is skipped), and never once the boundary has fired (a clock stepped back past it);
//! - a boundary: until the next boundary is reached;
//! - awaiting: while the boundary is still unconfirmed and not passed by a later fixed one;
//! - overdue: while the step is not acted on;
//! - deadline eve: until the day's alert is due; deadline day: until the deadline.
//!
//! # A due that moves
//! A due after the phase's start (`+20m` from an approximate `~11:00`) is ~11:20 until the start
//! is confirmed, then counts from the confirmed time (11:03 gives 11:23). Its overdue alert is
//! keyed on the due it is for, so a due that moves before it passes simply fires once, at the new
//! time. Once an overdue alert for the step went out, another fires only for a **new overdue**:
//! the step was seen not overdue after that alert (its due moved past the clock: the ~11:20
//! alert went out with the start unconfirmed, then `c` put the start at 11:03, so the step is
//! due again at 11:23) and its due passed again. A due that moves while the step stays overdue
//! (the start confirmed or corrected to a time that still leaves it past due, or an undo) fires
//! nothing more: the operator was told and nothing new happened. The sight of the step not
//! overdue is this process's ([`Scheduler::rearmed`]); a restart sees it again at its first wake
//! when the due is still ahead, and a clock stepped back over one due finds its key already
//! fired.

use crate::journal::Record;
use crate::runbook::Plan;
use crate::text::clean_line;
use crate::timeline::Timeline;
use crate::zones;
use chrono::{DateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use std::collections::HashSet;
use std::fmt::Write;

/// The outcome of sending an alert on one channel.
pub type SendResult = Result<(), SendError>;

/// Why an alert did not reach a channel: its text is the short message for the status line and
/// the journal.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("desktop: no D-Bus session bus to send to ({0})")]
    NoBus(notify_rust::error::Error),
    #[error(
        "desktop: no notification daemon on the session bus (nothing owns org.freedesktop.Notifications)"
    )]
    NoDaemon,
    #[error("desktop: {0}")]
    Desktop(notify_rust::error::Error),
    #[error(
        "desktop: no answer from the session bus within {} s: is a notification daemon running? (drillbook notify-test checks)",
        .0.as_secs_f32()
    )]
    DesktopSilent(std::time::Duration),
    #[error("terminal: the writer task failed: {0}")]
    WriterTask(tokio::task::JoinError),
    #[error("terminal: cannot write the notification: {0}")]
    Terminal(#[from] std::io::Error),
    #[error("terminal: no controlling terminal (sequences are never written into stdout)")]
    NoTerminal,
    /// The loop stopped waiting for the channel.
    #[error("no answer within {} s", .0.as_secs())]
    NoAnswer(std::time::Duration),
    /// `notify-test` stopped waiting for the channel.
    #[error("no result within {} s", .0.as_secs())]
    NoResult(std::time::Duration),
    /// A test channel told to fail, with the words it was given.
    #[error("{0}")]
    Simulated(String),
}

/// One notification to raise, on every selected channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Stable key, one alert per key ever: `failover.end@-15m`, `failover.end`, `step:ep-x:overdue`.
    pub key: String,
    /// Short summary (the desktop notification's summary, the banner's first words).
    pub title: String,
    /// One or two sentences.
    pub body: String,
    /// The instant the alert became due (session clock).
    pub due: DateTime<Utc>,
}

/// How long before the scheduler started an alert may have been due and still be notified.
/// Anything older "passed long before the app started": the screen shows it, no notification.
/// Two minutes covers a restart after a crash or a quick reconnect without replaying a morning.
pub const GRACE: TimeDelta = TimeDelta::minutes(2);

/// Session-zone time of day at which deadline reminders go out.
pub const DEADLINE_REMINDER_AT: (u32, u32) = (9, 0);

/// The longest title an alert carries; longer ones end in `…` (notification summaries are short).
const TITLE_MAX: usize = 90;

/// Decides which alerts are due, each once.
#[derive(Debug, Clone)]
pub struct Scheduler {
    /// When this process started watching: boundaries passed long before it are shown, not notified.
    pub started_at: DateTime<Utc>,
    /// Keys fired by this process (the journal's record covers earlier processes).
    pub fired: HashSet<String>,
    /// Critical steps whose overdue alert went out and that were since seen not overdue (their
    /// due moved past the clock): the next time their due passes is a new overdue, alerted
    /// again (see "A due that moves").
    pub rearmed: HashSet<String>,
}

/// An alert the rules know about at an instant, with when it stops being worth sending.
#[derive(Debug)]
struct Candidate {
    alert: Alert,
    /// The alert's condition holds at `now` (apart from time).
    active: bool,
    /// Not sent at or after this instant.
    useful_until: Option<DateTime<Utc>>,
    /// A warning's boundary: once that has fired, the warning is never sent (the clock stepped
    /// back past a boundary already announced must not announce it as coming).
    warns_of: Option<String>,
}

impl Scheduler {
    pub fn new(started_at: DateTime<Utc>) -> Self {
        Self {
            started_at,
            fired: HashSet::new(),
            rearmed: HashSet::new(),
        }
    }

    fn already(&self, key: &str, record: &Record) -> bool {
        self.fired.contains(key) || record.notified_any(key)
    }

    /// Whether an overdue alert for step `id` went out, under either of its keys.
    fn overdue_alerted(&self, id: &str, record: &Record) -> bool {
        let base = overdue_key(id);
        let of = |k: &str| {
            k.strip_prefix(base.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('@'))
        };
        self.fired.iter().any(|k| of(k)) || record.notifications.iter().any(|n| of(&n.key))
    }

    /// Note the critical steps alerted overdue that are not overdue now: their due moved past
    /// the clock, so its next passing is a new overdue. Only a due after its phase's start moves.
    fn rearm(&mut self, plan: &Plan, record: &Record, now: DateTime<Utc>) {
        let movable = plan
            .steps
            .iter()
            .filter(|s| s.critical && s.after_start.is_some());
        for step in movable {
            let ahead = step.due.is_some_and(|d| d > now);
            if ahead
                && !self.rearmed.contains(&step.id)
                && crate::setup::state_of(plan, step, record).awaits_action()
                && self.overdue_alerted(&step.id, record)
            {
                self.rearmed.insert(step.id.clone());
            }
        }
    }

    /// Alerts due at `now` that were not fired before, by this process or (per `record`) any other.
    /// Each returned alert counts as fired: the caller sends it and journals the outcome.
    /// `plan`'s dues are resolved against `timeline` (`Model::refold` does it on every change).
    pub fn due(
        &mut self,
        plan: &Plan,
        timeline: &Timeline,
        record: &Record,
        now: DateTime<Utc>,
    ) -> Vec<Alert> {
        self.rearm(plan, record, now);
        let mut out: Vec<Alert> = candidates(plan, timeline, record, now, self)
            .into_iter()
            .filter(|c| {
                c.active
                    && c.alert.due <= now
                    && c.useful_until.is_none_or(|u| now < u)
                    && c.alert.due >= self.started_at - GRACE
                    && !self.already(&c.alert.key, record)
                    && !c.warns_of.as_ref().is_some_and(|b| self.already(b, record))
            })
            .map(|c| c.alert)
            .collect();
        out.sort_by_key(|a| a.due);
        for a in &out {
            self.fired.insert(a.key.clone());
            if let Some(id) = a
                .key
                .strip_prefix("step:")
                .and_then(|k| k.split_once(":overdue"))
                .map(|(id, _)| id)
            {
                self.rearmed.remove(id);
            }
        }
        out
    }

    /// The next instant after `now` at which an alert could become due, for the event loop's wake-up.
    /// Conditions that change by an operator action (a confirmation, a step closed) are not
    /// predicted: the loop wakes on those actions anyway.
    pub fn next_due(
        &self,
        plan: &Plan,
        timeline: &Timeline,
        record: &Record,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        candidates(plan, timeline, record, now, self)
            .into_iter()
            .filter(|c| {
                c.alert.due > now
                    && !self.already(&c.alert.key, record)
                    && !c.warns_of.as_ref().is_some_and(|b| self.already(b, record))
            })
            .map(|c| c.alert.due)
            .min()
    }
}

/// Why a `--lead` override was refused.
#[derive(Debug, thiserror::Error)]
pub enum LeadError {
    #[error("--lead: `{0}` is not a number of minutes (example: --lead 15,5)")]
    NotMinutes(String),
    #[error("--lead: a warning {0} minutes before a boundary is out of range (1 to 10080)")]
    OutOfRange(u32),
}

/// Parse a `--lead MINUTES[,MINUTES]` override (`15,5`): the warnings before each boundary, largest
/// first, as `Session::lead` holds them. Each must be 1 to 10080 minutes (a week).
pub fn parse_lead(s: &str) -> Result<Vec<TimeDelta>, LeadError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim) {
        let m: u32 = part
            .parse()
            .map_err(|_| LeadError::NotMinutes(part.to_owned()))?;
        if m == 0 || m > 7 * 24 * 60 {
            return Err(LeadError::OutOfRange(m));
        }
        out.push(TimeDelta::minutes(i64::from(m)));
    }
    out.sort_by(|a, b| b.cmp(a));
    out.dedup();
    Ok(out)
}

/// A title for a screen: neutralised, then cut.
fn truncate(s: &str, max: usize) -> String {
    crate::text::ellipsize(&clean_line(s), max)
}

fn local_at(tz: Tz, date: chrono::NaiveDate, (h, m): (u32, u32)) -> DateTime<Utc> {
    let naive = date.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default());
    tz.from_local_datetime(&naive)
        .earliest()
        .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc))
}

/// The overdue alert's key for a step whose due is written as a time.
fn overdue_key(id: &str) -> String {
    format!("step:{id}:overdue")
}

/// `Confirmed at 11:00:45 HKT (planned ~11:00 HKT, 45s after plan).`
fn confirmed_body(tz: Tz, planned: DateTime<Utc>, confirmed: DateTime<Utc>) -> String {
    format!(
        "Confirmed at {} (planned ~{}, {}).",
        zones::hms(confirmed, tz),
        zones::hm(planned, tz),
        zones::drift(confirmed - planned)
    )
}

/// What the banner says of approximate boundary `i` once its confirmation changed under it (an
/// undo, a new confirmation, another host's in `watch`): its own time when it is confirmed,
/// else that it is awaited again. Each alert fires once per key, so a second confirmation raises
/// no new one; without this the banner went on saying "Confirmed at 11:00 … +45s" under a header
/// back to AWAITING CONFIRMATION (walk 3 R17). Not a notification: it restates on screen what
/// the operator (or the journal) just did.
pub fn restated(plan: &Plan, timeline: &Timeline, i: usize) -> Alert {
    let s = &plan.session;
    let tz = s.tz;
    let t = &timeline.transitions[i];
    let label = s.transition_label(t);
    match timeline.confirmed_at(i) {
        Some(c) => Alert {
            key: t.key.clone(),
            title: truncate(&label, TITLE_MAX),
            body: confirmed_body(tz, t.at, c),
            due: c,
        },
        None => Alert {
            key: format!("{}:awaiting", t.key),
            title: truncate(&label, TITLE_MAX),
            // Short enough for the banner's two rows with `[REHEARSAL]` and `(b dismisses)`.
            body: "Confirmation undone: awaiting again; press c when it is observed.".into(),
            due: t.at,
        },
    }
}

/// Whether an alert (by its key) is about transition `key`: its warnings, its arrival, its
/// awaiting.
pub fn is_about(alert_key: &str, key: &str) -> bool {
    alert_key
        .strip_prefix(key)
        .is_some_and(|rest| rest.is_empty() || rest == ":awaiting" || rest.starts_with("@-"))
}

/// Every alert the rules define, with its state at `now`.
fn candidates(
    plan: &Plan,
    timeline: &Timeline,
    record: &Record,
    now: DateTime<Utc>,
    sched: &Scheduler,
) -> Vec<Candidate> {
    let s = &plan.session;
    let tz = s.tz;
    let status = timeline.status(now);
    let mut out = Vec::new();

    for (i, t) in timeline.transitions.iter().enumerate() {
        let label = s.transition_label(t);
        let confirmed = timeline.confirmed_at(i);
        let unconfirmed_approx = t.approximate && confirmed.is_none();
        let eff = timeline.effective(i);
        let when = if unconfirmed_approx {
            format!("~{}", zones::hm(eff, tz))
        } else {
            zones::hm(eff, tz)
        };
        let passed = status.passed > i;

        // Longest first: each warning gives way to the next shorter one, so a clock that jumps
        // (a rehearsal's `>`, a suspend) sends the one that is still true, not a stale "In 15 min".
        let mut leads = s.lead.clone();
        leads.sort_by(|a, b| b.cmp(a));
        for (k, lead) in leads.iter().enumerate() {
            let until = leads.get(k + 1).map_or(eff, |shorter| eff - *shorter);
            // What is left when it is sent, if that is later than planned: never more than is true.
            let left = ((eff - now).num_seconds() + 59).div_euclid(60).max(1);
            let mins = lead.num_minutes();
            let says = if now > eff - *lead {
                left.min(mins)
            } else {
                mins
            };
            let (title, body) = if unconfirmed_approx {
                (
                    format!("In ~{says} min: {label}"),
                    format!(
                        "Expected {when}, approximate: press c when it is observed (the rundown's time, or a sign such as a DR completed signal or a logon accepted at the backup site)."
                    ),
                )
            } else {
                (
                    format!("In {says} min: {label}"),
                    format!("At {when} ({}).", zones::day_hm(eff, tz)),
                )
            };
            out.push(Candidate {
                alert: Alert {
                    key: format!("{}@-{mins}m", t.key),
                    title: truncate(&title, TITLE_MAX),
                    body,
                    due: eff - *lead,
                },
                active: !passed,
                useful_until: Some(until),
                warns_of: Some(t.key.clone()),
            });
        }

        // The boundary itself: fixed ones at their planned time, approximate ones once confirmed.
        let reached = match confirmed {
            Some(c) => c <= now,
            None => !t.approximate && t.at <= now,
        };
        let body = match (confirmed, t.starting) {
            (Some(c), _) => confirmed_body(tz, t.at, c),
            (None, Some(p)) => format!(
                "At {when}. Now: the steps of {}.",
                clean_line(&s.phases[p].title)
            ),
            (None, None) => format!("At {when}."),
        };
        out.push(Candidate {
            alert: Alert {
                key: t.key.clone(),
                title: truncate(&label, TITLE_MAX),
                body,
                due: eff,
            },
            active: reached && status.passed == i + 1,
            useful_until: None,
            warns_of: None,
        });

        if t.approximate {
            let what = t
                .ending
                .map_or_else(|| label.clone(), |e| format!("{} end", s.phases[e].title));
            out.push(Candidate {
                alert: Alert {
                    key: format!("{}:awaiting", t.key),
                    title: truncate(
                        &format!("{what} expected {when}: awaiting confirmation"),
                        TITLE_MAX,
                    ),
                    body: format!(
                        "{what} expected {when}: not confirmed yet; press c when it is observed (the rundown's time, or a sign such as a DR completed signal or a logon accepted at the backup site)."
                    ),
                    due: t.at,
                },
                active: status.awaiting == Some(i),
                useful_until: None,
                warns_of: None,
            });
        }
    }

    for step in &plan.steps {
        let Some(due) = step.due else { continue };
        if !step.critical {
            continue;
        }
        // n/a by design or by a recorded choice: settled, so never overdue; failed: acted on.
        let state = crate::setup::state_of(plan, step, record);
        // A choice not recorded yet leads title and body: "Overdue: Log off…" read at a glance
        // could send an operator to log off a session the rundown wanted connected.
        // The same words as the list's row and the header: `if log-off`, `if drop-copy`.
        let title = match crate::setup::condition(plan, step, record) {
            Some(cond) => format!("Overdue {cond}"),
            None => String::from("Overdue"),
        };
        let mut body = String::new();
        for (c, want) in crate::setup::undecided(plan, step, record) {
            let _ = write!(
                body,
                "Not recorded yet: {}. This step applies only if {want}; record the choice (the other option makes it n/a). ",
                clean_line(&c.title)
            );
        }
        // A due after the phase's start says from what it counts (`~11:20`: the start is not
        // confirmed yet).
        let approx = if step.due_approximate { "~" } else { "" };
        // The basis last: a two-line banner cuts it first, never the state.
        let basis = timeline
            .due_basis(s, step)
            .map_or_else(String::new, |b| format!(": {b}"));
        let _ = write!(
            body,
            "Critical step {} was due at {approx}{} and is {}{basis}.",
            clean_line(&step.id),
            zones::hm(due, tz),
            state.word()
        );
        // A due that can move is keyed on the instant it is for; after a first overdue alert,
        // only a new overdue (seen not overdue since) is alerted again ("A due that moves").
        let (key, again) = match step.after_start {
            None => (overdue_key(&step.id), true),
            Some(_) => (
                format!(
                    "{}@{}",
                    overdue_key(&step.id),
                    due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                !sched.overdue_alerted(&step.id, record) || sched.rearmed.contains(&step.id),
            ),
        };
        out.push(Candidate {
            alert: Alert {
                key,
                title: truncate(&format!("{title}: {}", step.title), TITLE_MAX),
                body,
                due,
            },
            active: state.awaits_action() && again,
            useful_until: None,
            warns_of: None,
        });
    }

    for d in plan.deadlines() {
        // Reminders go against the firm's own target when it set one: a warning on the last
        // day of an HKEX date can come too late to act on.
        let act_by = d.act_by();
        let day = act_by.with_timezone(&tz).date_naive();
        let day_start = local_at(tz, day, (0, 0));
        let day_at = local_at(tz, day, DEADLINE_REMINDER_AT)
            .min(act_by - TimeDelta::hours(1))
            .max(day_start);
        let eve_at = local_at(tz, day - TimeDelta::days(1), DEADLINE_REMINDER_AT);
        let due_text = match d.target {
            Some(t) => format!(
                "Our target {}; HKEX's date {}",
                zones::day_hm(t, tz),
                zones::day_hm(d.due, tz)
            ),
            None => format!("Due {}", zones::day_hm(d.due, tz)),
        };
        let (eve_title, day_title) = if d.target.is_some() {
            ("Target tomorrow", "Target today")
        } else {
            ("Deadline tomorrow", "Deadline today")
        };
        out.push(Candidate {
            alert: Alert {
                key: format!("deadline:{}@eve", d.id),
                title: truncate(&format!("{eve_title}: {}", d.title), TITLE_MAX),
                body: format!("{due_text} ({}).", clean_line(&d.id)),
                due: eve_at,
            },
            active: true,
            useful_until: Some(day_at),
            warns_of: None,
        });
        out.push(Candidate {
            alert: Alert {
                key: format!("deadline:{}@day", d.id),
                title: truncate(&format!("{day_title}: {}", d.title), TITLE_MAX),
                body: format!("{due_text} ({}).", clean_line(&d.id)),
                due: day_at,
            },
            active: true,
            useful_until: Some(act_by),
            warns_of: None,
        });
    }
    out
}

#[cfg(test)]
mod tests;
