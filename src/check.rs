//! Checks: what drillbook can sense for a step, read-only, and what it records of it.
//!
//! A step's `check:` (see [`spec`]) names a probe that only observes: a TCP connect with no byte
//! sent ([`tcp`]), a log followed until a line matches ([`log`]), a multicast group joined and
//! listened to, never sent to ([`multicast`]), a file looked at ([`file`]), and, only where both
//! the runbook and the operator allow it, a program run without a shell ([`command`]). Values
//! come from the site file ([`crate::site`]); one unset leaves the check "not configured".
//!
//! The [`Runner`] runs checks in tasks, each under its timeout, a bounded number at once (a
//! semaphore); file reading happens on blocking threads, so the screen's thread never waits on
//! a probe. A run gives a [`CheckResult`]; [`actions_for`] turns it into what the journal
//! records: a `check` event (values of a pass filed as the step's sensed evidence by the
//! record's fold), and for `settle: on_pass` a `step` event marking it done by the check. A
//! failed check never marks a step failed: the operator decides. [`schedule`] says which
//! automatic checks (`every:`) are due at an instant.
//!
//! A log line is evidence for one phase only: reading from the phase's start, a line counts when
//! its own date and time falls between the phase's start and its end (when known: see
//! [`phase_end`]), and a line a step of another phase took ([`claims`]: by its text, in whatever
//! file) is not taken again.
//!
//! In a rehearsal read-only checks run for real (testing the probes before the day is the point
//! of a dry run); `--simulate-checks pass|fail|timeout` replaces every probe by that outcome,
//! marked simulated in the journal.

pub mod claims;
pub mod command;
pub mod exposure;
pub mod file;
pub mod log;
pub mod multicast;
pub mod schedule;
pub mod spec;
mod supervisor;
pub mod tcp;

use crate::journal::{Action, Captured, CheckOutcome, LineRef, Record, StepState};
use crate::runbook::Plan;
use crate::site::Site;
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use spec::{Check, Kind, NewerThan, Probe};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How many checks run at once by default: a trading host's CPU is not ours to take.
pub const DEFAULT_LIMIT: usize = 4;

/// The longest value kept from a capture (a log field, a command's output).
const VALUE_CAP: usize = 200;

/// What a probe saw, before the runner stamps it with step, target and times.
#[derive(Debug, Clone, PartialEq)]
pub struct Probed {
    pub outcome: CheckOutcome,
    pub detail: String,
    pub values: Vec<(String, String)>,
    /// The log line a pass took.
    pub line: Option<LineRef>,
    /// Others than its owner could have written the file it read ([`exposure`]; the detail says
    /// how): a pass settles no step by itself.
    pub exposed: bool,
}

impl Probed {
    pub fn new(outcome: CheckOutcome, detail: impl std::fmt::Display) -> Self {
        Self {
            outcome,
            detail: detail.to_string(),
            values: Vec::new(),
            line: None,
            exposed: false,
        }
    }

    /// Say in the detail that others could have written the file read (`why`), and mark it so.
    #[must_use]
    pub fn exposed(mut self, why: Option<&str>) -> Self {
        if let Some(why) = why {
            self.detail = exposure::said(&self.detail, self.outcome == CheckOutcome::Pass, why);
            self.exposed = true;
        }
        self
    }

    #[must_use]
    pub fn value(mut self, name: &str, value: String) -> Self {
        self.values.push((name.to_owned(), value));
        self
    }
}

/// What stands in for text that looks like it carries a credential.
pub const WITHHELD: &str = "(withheld: it looks like it holds a credential)";

/// Host text made safe to show and to journal: controls neutralised, cut to `max` characters,
/// and withheld whole when it looks like it carries a credential (a log line can), before or
/// after the cut (a cut can make `password hello world` read as `password hello…`).
pub fn excerpt(text: &str, max: usize) -> String {
    if crate::text::looks_like_secret(text) {
        return WITHHELD.into();
    }
    let clean = crate::text::clean_line(text.trim());
    let cut = if clean.chars().count() <= max {
        clean.into_owned()
    } else {
        let mut s: String = clean.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    };
    if crate::text::looks_like_secret(&cut) {
        WITHHELD.into()
    } else {
        cut
    }
}

/// A target made safe to journal: as it is, or, when it looks like it carries a credential
/// (a runbook's `--password ${pw}`), its first word (the program) and the rest withheld, so
/// that the check event is still recorded (the journal refuses an event that looks secret).
pub fn safe_target(target: &str) -> String {
    if !crate::text::looks_like_secret(target) {
        return target.to_owned();
    }
    match target.split_once(' ') {
        Some((first, _)) if !crate::text::looks_like_secret(first) => {
            format!("{first} (its arguments withheld: they look like they hold a credential)")
        }
        _ => WITHHELD.into(),
    }
}

/// An instant as values and details give it: `2023-11-25 11:03:12.345 HKT`.
pub fn instant_words(t: DateTime<Utc>, tz: Tz) -> String {
    tz.from_utc_datetime(&t.naive_utc())
        .format("%Y-%m-%d %H:%M:%S%.3f %Z")
        .to_string()
}

/// `--simulate-checks`: the outcome every check gives in a rehearsal, nothing probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Simulate {
    Pass,
    Fail,
    Timeout,
}

impl Simulate {
    /// `pass`, `fail` or `timeout` (clap offers only these, and refuses anything else).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pass" => Some(Simulate::Pass),
            "fail" => Some(Simulate::Fail),
            "timeout" => Some(Simulate::Timeout),
            _ => None,
        }
    }

    fn outcome(self) -> CheckOutcome {
        match self {
            Simulate::Pass => CheckOutcome::Pass,
            Simulate::Fail => CheckOutcome::Fail,
            Simulate::Timeout => CheckOutcome::Timeout,
        }
    }
}

/// How checks run in this process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mode {
    /// `--allow-commands`: command checks the runbook allows may run.
    pub allow_commands: bool,
    /// A rehearsal: command checks run only when marked `rehearsal_safe`.
    pub rehearsal: bool,
    /// `--simulate-checks` (rehearsals only): no probe, this outcome.
    pub simulate: Option<Simulate>,
}

impl Mode {
    /// The mode `drillbook run` asks for: `--allow-commands`, `--rehearse`, `--simulate-checks`.
    pub fn for_run(args: &crate::cli::RunArgs) -> Self {
        Self {
            allow_commands: args.allow_commands,
            rehearsal: args.rehearse,
            simulate: args.simulate_checks.as_deref().and_then(Simulate::parse),
        }
    }
}

/// One check to run: the step's, with the instant its phase started (on the wall clock: in a
/// rehearsal, when the rehearsal entered the phase) for `from: phase_start` and
/// `newer_than: phase_start`, the instant it ended when that is known (a log line from after it
/// is not this phase's), the phase (a line another phase's step took is not taken), and the
/// session's zone for times read and shown.
#[derive(Debug, Clone)]
pub struct Job {
    pub step: String,
    pub check: Check,
    pub phase: usize,
    pub phase_start: DateTime<Utc>,
    pub phase_end: Option<DateTime<Utc>>,
    /// Run on the session's clock (the app), not on a day of its own (`drillbook check`): a
    /// log line without its own time is this phase's only when read while the phase is on.
    pub in_session: bool,
    pub tz: Tz,
}

impl Job {
    /// The job for plan step `step`, if it has a check; its phase's end not known until
    /// [`Job::ending`] says it.
    pub fn for_step(plan: &Plan, step: usize, phase_start: DateTime<Utc>) -> Option<Self> {
        let s = plan.steps.get(step)?;
        Some(Self {
            step: s.id.clone(),
            check: s.check.clone()?,
            phase: s.phase,
            phase_start,
            phase_end: None,
            in_session: false,
            tz: plan.session.tz,
        })
    }

    /// The instant its phase ended (wall clock), when known.
    #[must_use]
    pub fn ending(mut self, end: Option<DateTime<Utc>>) -> Self {
        self.phase_end = end;
        self
    }

    /// Run on the session's clock: the app's checks.
    #[must_use]
    pub fn in_session(mut self) -> Self {
        self.in_session = true;
        self
    }
}

/// What one run of a check saw.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    pub step: String,
    pub kind: Kind,
    /// What it looked at, site values filled in (as written where one is unset; a command
    /// always as written, so that a value it is given is named, never shown).
    pub target: String,
    pub outcome: CheckOutcome,
    pub detail: String,
    pub values: Vec<Captured>,
    /// When the probe started (wall clock), after waiting for its turn.
    pub started: DateTime<Utc>,
    pub duration: Duration,
    pub simulated: bool,
    /// The log line a passing log check took.
    pub line: Option<LineRef>,
    /// Others than its owner could have written the file the check read (its detail says how):
    /// a pass does not settle the step by itself.
    pub exposed: bool,
}

impl CheckResult {
    /// The journal's `check` event for it. Every text in it is made safe here once more (the
    /// runner already did): the journal refuses an event that looks like it holds a secret, and
    /// a check event refused would be a run silently lost. Withheld, it is recorded as withheld.
    pub fn action(&self) -> Action {
        let safe = |t: &str| {
            if crate::text::looks_like_secret(t) {
                WITHHELD.to_owned()
            } else {
                t.to_owned()
            }
        };
        Action::Check {
            step: self.step.clone(),
            check: self.kind.word().to_owned(),
            target: safe_target(&self.target),
            outcome: self.outcome,
            detail: safe(&self.detail),
            values: self
                .values
                .iter()
                .map(|v| Captured {
                    value: safe(&v.value),
                    ..v.clone()
                })
                .collect(),
            started: self.started,
            duration_ms: u64::try_from(self.duration.as_millis()).unwrap_or(u64::MAX),
            simulated: self.simulated,
            line: self.line.clone().map(Box::new),
        }
    }
}

/// What the journal records for a result: the `check` event and, for a passing check with
/// `settle: on_pass` on a step not acted on yet (pending or deferred), a `step` event marking it done
/// by the check (the operator can undo it like any other), unless others could have written the
/// file it read (a planted line must not settle a step: the operator decides). Nothing else: a
/// failed check never marks a step failed.
pub fn actions_for(plan: &Plan, record: &Record, result: &CheckResult) -> Vec<Action> {
    let mut out = vec![result.action()];
    let Some(step) = plan.steps.iter().find(|s| s.id == result.step) else {
        return out;
    };
    let settles = step.check.as_ref().is_some_and(|c| c.settle_on_pass);
    let open = crate::setup::state_of(plan, step, record).awaits_action();
    if settles && open && result.outcome == CheckOutcome::Pass && !result.exposed {
        out.push(Action::Step {
            step: step.id.clone(),
            state: StepState::Done,
            note: Some(format!(
                "done by its {} check{}: {}",
                result.kind,
                if result.simulated { " (simulated)" } else { "" },
                excerpt(&result.detail, 160)
            )),
        });
    }
    out
}

/// Runs checks: a bounded number at once, each under its timeout. Cheap to clone; clones share
/// the limit and the log cursors.
#[derive(Clone)]
pub struct Runner {
    site: Arc<Site>,
    mode: Mode,
    permits: Arc<Semaphore>,
    /// Where each step's log check stopped, so the next run continues there.
    cursors: Arc<Mutex<HashMap<String, log::Cursor>>>,
    /// The log lines passing checks took, so that no line serves steps of two phases.
    lines: claims::Book,
}

impl Runner {
    /// At most `limit` probes at once (at least one).
    pub fn new(site: Site, mode: Mode, limit: usize) -> Self {
        Self {
            site: Arc::new(site),
            mode,
            permits: Arc::new(Semaphore::new(limit.max(1))),
            cursors: Arc::default(),
            lines: claims::Book::default(),
        }
    }

    /// The lines the journal records passing checks taking, each kept for its step: a line
    /// keeps the step it served across a restart.
    pub fn remember(&self, plan: &Plan, record: &Record) {
        self.lines.remember(plan, record);
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn site(&self) -> &Site {
        &self.site
    }

    /// Run `job` in a task of the current runtime.
    pub fn spawn(&self, job: Job) -> tokio::task::JoinHandle<CheckResult> {
        tokio::spawn(self.run(job))
    }

    /// The run of `job`, as a future that owns what it needs.
    pub fn run(&self, job: Job) -> impl Future<Output = CheckResult> + Send + use<> {
        let runner = self.clone();
        async move { runner.run_inner(job).await }
    }

    async fn run_inner(self, job: Job) -> CheckResult {
        let kind = job.check.kind();
        let written = job.check.target_text();
        // A site value that is a credential never leaves in what is shown or journaled: what
        // the host gave back (a command echoing its `--pass`) names it instead (`${pw}`).
        let site = self.site.clone();
        let result = |target: String, p: Probed, started, duration, simulated| CheckResult {
            line: p.line,
            exposed: p.exposed,
            step: job.step.clone(),
            kind,
            target: safe_target(&site.scrub(&target)),
            outcome: p.outcome,
            detail: excerpt(&site.scrub(&p.detail), 400),
            values: file_values(
                &job.check,
                p.values
                    .into_iter()
                    .map(|(n, v)| (n, site.scrub(&v)))
                    .collect(),
            ),
            started,
            duration,
            simulated,
        };
        // The target as the site fills it; unset names make the check "not configured".
        let missing: Vec<String> = job
            .check
            .site_names()
            .into_iter()
            .filter(|n| self.site.get(n).is_none())
            .collect();
        let target = if missing.is_empty() {
            target_of(&job.check, &|t| self.fill(t))
        } else {
            written.clone()
        };
        if let Some(sim) = self.mode.simulate {
            let p = Probed::new(
                sim.outcome(),
                format!(
                    "simulated {} (--simulate-checks): nothing was probed",
                    sim.outcome().word().to_lowercase()
                ),
            );
            return result(target, p, crate::clock::wall_now(), Duration::ZERO, true);
        }
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|n| format!("`{n}`")).collect();
            let p = Probed::new(
                CheckOutcome::NotConfigured,
                format!("not configured: set {} in the site file", names.join(", ")),
            );
            return result(target, p, crate::clock::wall_now(), Duration::ZERO, false);
        }
        if let Some(why) = self.refusal(&job.check) {
            let p = Probed::new(CheckOutcome::Refused, why);
            return result(target, p, crate::clock::wall_now(), Duration::ZERO, false);
        }
        // Wait for a turn; the timeout starts with the probe.
        let _permit = self.permits.clone().acquire_owned().await;
        let started = crate::clock::wall_now();
        let t0 = Instant::now();
        let limit = job.check.timeout;
        // The probes keep to their own deadline; this is the backstop for one that does not.
        let p = match tokio::time::timeout(limit + Duration::from_millis(500), self.probe(&job))
            .await
        {
            Ok(p) => p,
            Err(_) => Probed::new(
                CheckOutcome::Timeout,
                format!("no result within {}", spec::duration_words(limit)),
            ),
        };
        result(target, p, started, t0.elapsed(), false)
    }

    /// Why a command check may not run here, if it may not.
    fn refusal(&self, check: &Check) -> Option<String> {
        let Probe::Command {
            allow,
            rehearsal_safe,
            ..
        } = &check.probe
        else {
            return None;
        };
        if !allow {
            Some("refused: the runbook does not allow this command to run (`allow: true`); it is shown, never run".into())
        } else if !self.mode.allow_commands {
            Some(
                "refused: command checks run only when drillbook is started with --allow-commands"
                    .into(),
            )
        } else if self.mode.rehearsal && !rehearsal_safe {
            Some("refused: a rehearsal runs a command check only when the runbook marks it `rehearsal_safe: true`".into())
        } else {
            None
        }
    }

    /// A template with the site's values (every name it uses is set: checked before).
    fn fill(&self, t: &spec::Template) -> String {
        t.fill(|n| self.site.get(n).map(str::to_owned))
            .unwrap_or_else(|_| t.text.clone())
    }

    /// The probe itself.
    async fn probe(&self, job: &Job) -> Probed {
        let check = &job.check;
        let deadline = Instant::now() + check.timeout;
        let fill = |t: &spec::Template| self.fill(t);
        let pattern = match check.matcher().map(|m| m.resolve(fill)).transpose() {
            Ok(p) => p,
            Err(m) => return Probed::new(CheckOutcome::Error, m),
        };
        match &check.probe {
            Probe::Tcp { target } => tcp::probe(&fill(target), check.timeout).await,
            Probe::Multicast {
                group,
                source,
                interface,
                window,
                min,
            } => {
                let src = source.as_ref().map(fill);
                let ifc = interface.as_ref().map(fill);
                multicast::probe(
                    &fill(group),
                    src.as_deref(),
                    ifc.as_deref(),
                    *window,
                    *min,
                    job.tz,
                )
                .await
            }
            Probe::Log {
                path, from, zone, ..
            } => {
                let Some(pattern) = pattern else {
                    return Probed::new(CheckOutcome::Error, "a log check needs a pattern");
                };
                if *from == spec::From::PhaseStart && !pattern.groups().iter().any(|g| g == "at") {
                    return Probed::new(
                        CheckOutcome::Error,
                        format!(
                            "`from: phase_start` needs a named group `at` (the line's own time) in the pattern `{}`",
                            excerpt(&pattern.text, 120)
                        ),
                    );
                }
                if let Some(why) = spec::path_problem(&path.text, &fill(path)) {
                    return Probed::new(CheckOutcome::Error, why);
                }
                let cancel = Arc::new(AtomicBool::new(false));
                let cursor = self
                    .cursors
                    .lock()
                    .ok()
                    .and_then(|c| c.get(&job.step).copied());
                let by_time = *from == spec::From::PhaseStart;
                // A line is taken by its own time (`by_time`) or, in the app, by when it is
                // read: either way only within the phase. Outside it, no line written from now
                // on could be taken: read what is there and do not wait out the timeout.
                let off = if by_time || job.in_session {
                    off_phase(job, crate::clock::wall_now())
                } else {
                    None
                };
                let follow = log::Follow {
                    path: fill(path).into(),
                    regex: pattern.regex,
                    since: by_time.then_some(job.phase_start),
                    until: job.phase_end.filter(|_| by_time),
                    read_in: (!by_time && job.in_session)
                        .then_some((job.phase_start, job.phase_end)),
                    zone: zone.unwrap_or(job.tz),
                    shown: job.tz,
                    claim: Some(log::Claimant {
                        book: self.lines.clone(),
                        step: job.step.clone(),
                        phase: job.phase,
                    }),
                    deadline,
                    once: off.is_some(),
                    cursor,
                    cancel: cancel.clone(),
                };
                // Told to stop if this future is dropped (the app quit, the backstop fired).
                let _stop = StopOnDrop(cancel);
                match tokio::task::spawn_blocking(move || follow.run()).await {
                    Ok((p, cursor)) => {
                        if let (Some(c), Ok(mut map)) = (cursor, self.cursors.lock()) {
                            map.insert(job.step.clone(), c);
                        }
                        match off {
                            Some(off) => off.say(p),
                            None => p,
                        }
                    }
                    Err(e) => {
                        Probed::new(CheckOutcome::Error, format!("the log check stopped: {e}"))
                    }
                }
            }
            Probe::File {
                path, newer_than, ..
            } => {
                if let Some(why) = spec::path_problem(&path.text, &fill(path)) {
                    return Probed::new(CheckOutcome::Error, why);
                }
                let path = std::path::PathBuf::from(fill(path));
                let since = newer_than.map(|n| match n {
                    NewerThan::PhaseStart => job.phase_start,
                    NewerThan::At(t) => t,
                });
                let re = pattern.map(|p| p.regex);
                let tz = job.tz;
                // Written since its phase started: not before the phase has (its end does not
                // matter: a file written since the start stays so).
                let off = off_phase(job, crate::clock::wall_now())
                    .filter(|o| !o.ended && *newer_than == Some(NewerThan::PhaseStart));
                match tokio::task::spawn_blocking(move || {
                    file::probe(&path, since, re.as_ref(), deadline, tz)
                })
                .await
                {
                    Ok(p) => match off {
                        Some(off) => off.say(p),
                        None => p,
                    },
                    Err(e) => {
                        Probed::new(CheckOutcome::Error, format!("the file check stopped: {e}"))
                    }
                }
            }
            Probe::Command { argv, .. } => {
                // The values go to the process only; messages name the program as written.
                let shown = argv.first().map_or("", |a| a.text.as_str());
                let argv: Vec<String> = argv.iter().map(fill).collect();
                command::probe(
                    &argv,
                    shown,
                    pattern.as_ref().map(|p| &p.regex),
                    check.timeout,
                )
                .await
            }
        }
    }
}

/// A job's phase seen from `now`: not started yet, or ended.
struct OffPhase {
    ended: bool,
    at: DateTime<Utc>,
    tz: Tz,
}

impl OffPhase {
    /// What the probe found becomes `not in phase` with why in front, unless it passed (a line
    /// of the phase's own time was there) or could not be made (an unreadable log is the
    /// operator's to fix whatever the day).
    fn say(&self, p: Probed) -> Probed {
        if matches!(p.outcome, CheckOutcome::Pass | CheckOutcome::Error) {
            return p;
        }
        let at = self
            .at
            .with_timezone(&self.tz)
            .format("%Y-%m-%d %H:%M:%S %Z");
        let why = if self.ended {
            format!("phase ended (at {at}): nothing written from now on can be its evidence")
        } else {
            format!("phase not started (it starts at {at}): nothing can be its evidence yet")
        };
        Probed {
            outcome: CheckOutcome::NotInPhase,
            detail: format!("{why}; {}", p.detail),
            ..p
        }
    }
}

/// Whether `job`'s phase has not started or has ended at `now` (wall clock).
fn off_phase(job: &Job, now: DateTime<Utc>) -> Option<OffPhase> {
    let (ended, at) = if now < job.phase_start {
        (false, job.phase_start)
    } else {
        (true, job.phase_end.filter(|e| now >= *e)?)
    };
    Some(OffPhase {
        ended,
        at,
        tz: job.tz,
    })
}

/// Sets the flag when dropped: a blocking follower polls it and stops.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The target shown and journaled, site values filled in; a command's as written, its
/// `${name}`s unexpanded: its arguments are where a password would be given, and the values
/// are passed to the process only.
fn target_of(check: &Check, fill: &dyn Fn(&spec::Template) -> String) -> String {
    match &check.probe {
        Probe::Tcp { target } => fill(target),
        Probe::Log { path, .. } | Probe::File { path, .. } => fill(path),
        Probe::Multicast {
            group,
            source,
            interface,
            ..
        } => {
            let mut s = fill(group);
            if let Some(src) = source {
                let _ = write!(s, " source {}", fill(src));
            }
            if let Some(i) = interface {
                let _ = write!(s, " on {}", fill(i));
            }
            s
        }
        Probe::Command { .. } => check.target_text(),
    }
}

/// The captured values, made safe, each with the evidence field it is filed under.
fn file_values(check: &Check, values: Vec<(String, String)>) -> Vec<Captured> {
    values
        .into_iter()
        .map(|(name, value)| Captured {
            field: check.field_for(&name).map(str::to_owned),
            value: excerpt(&value, VALUE_CAP),
            name,
        })
        .collect()
}

/// The wall-clock instant a phase started, for a job: its effective start on the session's
/// clock (confirmed, else planned). A rehearsal passes instead the `utc` of the journal's
/// `phase_entered` event for the phase ([`entered_wall`]), since its log lines carry today's
/// times.
pub fn phase_start(timeline: &crate::timeline::Timeline, phase: usize) -> DateTime<Utc> {
    let (start, _) = timeline.bounds_of(phase);
    timeline.effective(start)
}

/// The instant a phase ended on the session's clock, when it is known: its end if fixed or
/// confirmed; an approximate end not yet confirmed is bounded by the first later boundary that
/// is (the timeline takes it as passed then); none when nothing later is known. A log line from
/// this instant on is not evidence for the phase.
pub fn phase_end(timeline: &crate::timeline::Timeline, phase: usize) -> Option<DateTime<Utc>> {
    let (start, end) = timeline.bounds_of(phase);
    if end == start {
        return None;
    }
    (end..timeline.transitions.len())
        .find(|&i| !timeline.transitions[i].approximate || timeline.confirmed_at(i).is_some())
        .map(|i| timeline.effective(i))
}

/// [`phase_end`] on the wall clock, for the app: on the real day the same; in a rehearsal at
/// `speed`, the wall instant the rehearsal clock was (or, at this speed, will be) there.
pub fn phase_end_wall(
    timeline: &crate::timeline::Timeline,
    phase: usize,
    session_now: DateTime<Utc>,
    wall_now: DateTime<Utc>,
    rehearsal_speed: Option<f64>,
) -> Option<DateTime<Utc>> {
    let end = phase_end(timeline, phase)?;
    Some(on_the_wall(end, session_now, wall_now, rehearsal_speed))
}

/// A session instant on the wall clock: itself on the real day; in a rehearsal at `speed`, when
/// the rehearsal clock was there, or at this speed will be (a pause or a jump makes it
/// approximate).
fn on_the_wall(
    t: DateTime<Utc>,
    session_now: DateTime<Utc>,
    wall_now: DateTime<Utc>,
    rehearsal_speed: Option<f64>,
) -> DateTime<Utc> {
    match rehearsal_speed {
        None => t,
        Some(speed) => {
            let ahead = (t - session_now).num_milliseconds() as f64 / speed.max(1.0);
            wall_now + chrono::TimeDelta::milliseconds(ahead as i64)
        }
    }
}

/// The wall-clock instant a job's `phase_start` is, for the app: the phase's effective start
/// (confirmed, else planned) on the real day; in a rehearsal at `speed`, the wall instant the
/// rehearsal clock was at that start, counted back from now (a pause or a jump since makes it
/// approximate; [`entered_wall`] gives the journaled entry when the events are at hand). A phase
/// not yet begun starts when the rehearsal clock will get there at this speed, as on the real
/// day it starts at its planned time: a line from before then is not the phase's.
pub fn phase_start_wall(
    timeline: &crate::timeline::Timeline,
    phase: usize,
    session_now: DateTime<Utc>,
    wall_now: DateTime<Utc>,
    rehearsal_speed: Option<f64>,
) -> DateTime<Utc> {
    on_the_wall(
        phase_start(timeline, phase),
        session_now,
        wall_now,
        rehearsal_speed,
    )
}

/// What the screen shows for a step's check: its newest outcome and how long ago it ran
/// (`check: pass 2m ago`, `check: TIMEOUT 12s ago (simulated)`), or that it has not run.
pub fn summary_line(record: &Record, step: &str, wall_now: DateTime<Utc>) -> String {
    let Some(last) = record.last_check(step) else {
        return "check: not run yet".into();
    };
    let ago = (wall_now - last.started).num_seconds().max(0);
    let age = match ago {
        0..60 => format!("{ago}s"),
        60..3600 => format!("{}m", ago / 60),
        _ => format!("{}h{:02}m", ago / 3600, ago % 3600 / 60),
    };
    format!(
        "check: {} {age} ago{}",
        last.outcome.word(),
        if last.simulated { " (simulated)" } else { "" }
    )
}

/// The wall-clock time the journal recorded entering `phase` (its `phase_entered` event).
pub fn entered_wall<'a>(
    events: impl IntoIterator<Item = &'a crate::journal::Event>,
    phase: &str,
) -> Option<DateTime<Utc>> {
    events.into_iter().find_map(|e| match &e.action {
        Action::PhaseEntered { phase: p } if p == phase => Some(e.utc),
        _ => None,
    })
}
