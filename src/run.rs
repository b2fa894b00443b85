//! The one event loop, for the app, `watch` and the headless run: waits for whatever comes first
//! (a key, a resize, the next displayed second, boundary or alert, a signal, a notification
//! result, the followed journal growing), feeds it to `app::update`, carries out the effects, and
//! hands the model to its [`Frontend`]: a screen of frames ([`screen::Screen`]) or a line printer
//! ([`lines::Lines`]). Auto-confirmation, phase entry and alerts are decided once, in `update`.
//!
//! Effects: a journal append is done here, synchronously, with fsync (write-ahead, on purpose: the
//! screen shows an action as recorded only after it is on disk); notifications on a channel of
//! its own are spawned, each under [`NOTIFY_TIMEOUT`], and come back as messages; terminal
//! notification sequences are written by this thread through the frontend, between frames. A
//! step's check runs in a task of its own under the [`crate::check::Runner`]'s timeout and
//! limit, and comes back as `Checked`; once a second the loop tells `update` the wall clock,
//! which automatic checks are due on.
//! SIGTERM, SIGHUP (an SSH drop) and SIGINT take the same quit path as `q`: `Detach` journaled,
//! lock released, terminal restored. Ctrl-Z (a key in raw mode) and SIGTSTP stop the process with
//! the terminal restored; SIGCONT takes it back.
//!
//! Every input is a stream given to [`drive`] ([`Inputs`]), so tests drive this loop on ratatui's
//! `TestBackend` under tokio's paused time. Every wake reads the clock again and no single sleep
//! exceeds a second, so a stepped wall clock or a resumed laptop cannot leave the screen stale.

pub mod follow;
pub mod lines;
pub mod screen;
pub mod timer;

pub use follow::{Watch, journal_clock, watch_clock, watch_clock_of};

use crate::alerts::{Alert, SendError};
use crate::app::{Effect, Message, Model, update};
use crate::clock::{Clock, ClockControl};
use crate::journal::{Action, Event, Journal};
use crate::notify::Notifier;
use chrono::{DateTime, Utc};
use crossterm::event::{Event as TermEvent, EventStream, KeyCode, KeyEventKind, KeyModifiers};
use futures_util::{Stream, StreamExt};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

/// The longest single sleep: the clock on screen shows seconds.
const CAP: Duration = Duration::from_secs(1);
/// How long one notification channel may take.
pub const NOTIFY_TIMEOUT: Duration = Duration::from_secs(5);
/// The shortest sleep on a rehearsal clock: at 3600x the displayed second flips every 0.3 ms of
/// real time, and ten frames a second is all anyone can read.
const REHEARSAL_FRAME: Duration = Duration::from_millis(100);
/// The least time between two frames drawn for keys: keys that come faster than anyone types (a
/// paste typed as keys, on a terminal without bracketed paste) are taken as they come and drawn
/// together, not a frame per character, so the Enter behind them is read seconds sooner. A key
/// after a pause is drawn at once.
const KEY_FRAME: Duration = Duration::from_millis(30);

/// Where the record comes from: the journal this process writes, or one it follows read-only.
pub enum Source {
    Write(Box<Journal>),
    /// Journal files, or folders of them, followed read-only.
    Watch(Box<Watch>),
}

/// Everything the loop needs besides its inputs and its frontend.
pub struct Setup {
    pub model: Model,
    pub clock: Arc<dyn Clock>,
    pub source: Source,
    pub channels: Vec<Arc<dyn Notifier>>,
    /// A start-up probe run as a task once the loop has started (the screen is up first); its
    /// message goes to `update` like any other.
    pub arrival: Option<Arrival>,
    /// Runs the steps' checks (`drillbook run`); none in `watch`, which records nothing.
    pub checks: Option<crate::check::Runner>,
    /// `run --forward URL`: the journal forwarded to a syslog collector by a task of its own.
    pub forward: Option<crate::forward::Target>,
    /// The writer's `attach` is journaled already: `drillbook run` journals it before the
    /// choices it records (`--choose`), so that nothing is recorded before anyone attached.
    /// Otherwise the loop journals it first.
    pub attached: bool,
}

/// The `attach` a writer journals first: who started recording, with which build and roles.
pub fn attach_action(plan: &crate::runbook::Plan) -> Action {
    Action::Attach {
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").into(),
        roles: plan.roles(),
    }
}

/// A start-up probe: a future that ends with a message for `update`.
pub type Arrival = Pin<Box<dyn std::future::Future<Output = Message> + Send>>;

/// The quit reason of a headless run that reached the end of the session.
pub const SESSION_ENDED: &str = "session ended";

/// What stops or ends the loop from outside: a signal, or job control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interrupt {
    /// SIGTERM, SIGHUP, SIGINT (by name): quit the normal way.
    Quit(String),
    /// SIGTSTP: give the terminal back and stop.
    Stop,
    /// SIGCONT: take the terminal back and redraw.
    Continue,
}

/// A stream of inputs, boxed so that tests can give their own.
pub type Feed<T> = Pin<Box<dyn Stream<Item = T> + Send>>;

/// The loop's inputs besides the clock and the notification results.
pub struct Inputs {
    /// Terminal events: keys and resizes (a pending stream for a headless run).
    pub events: Feed<std::io::Result<TermEvent>>,
    pub interrupts: Feed<Interrupt>,
    /// How the loop sleeps between wakes.
    pub timer: timer::Timer,
}

impl Inputs {
    /// The real ones: the terminal's events and this process's signals, with job control
    /// (SIGTSTP, SIGCONT) only for a frontend that can give the terminal back.
    pub fn os(terminal: bool) -> std::io::Result<Self> {
        let events: Feed<std::io::Result<TermEvent>> = if terminal {
            Box::pin(EventStream::new())
        } else {
            Box::pin(futures_util::stream::pending())
        };
        Ok(Self {
            events,
            interrupts: os_interrupts(terminal)?,
            timer: timer::Timer::kernel(),
        })
    }
}

/// What the loop did, for a frontend that reports it (the line printer).
pub enum Happened<'a> {
    /// An alert is being sent on every channel.
    Notify(&'a Alert),
    /// One channel's send failed or timed out.
    NotifyFailed {
        channel: &'a str,
        error: &'a SendError,
    },
    /// An event was appended and fsync'd.
    Recorded(&'a Event),
    /// An append failed.
    NotRecorded { error: &'a str },
    /// `run --forward`: the forwarder started, the collector went down or came back, or
    /// forwarding stopped.
    Forwarding(&'a str),
}

/// Where the model is shown: a screen of frames, or lines.
pub trait Frontend {
    /// Show the model; called when it changed (and, with [`Frontend::shows_seconds`], when the
    /// displayed second ticked).
    fn frame(&mut self, _model: &Model, _now: DateTime<Utc>) -> std::io::Result<()> {
        Ok(())
    }
    /// Whether the frontend shows the clock's seconds, so the loop wakes for each.
    fn shows_seconds(&self) -> bool {
        false
    }
    /// After every update: look at the model (the line printer announces transitions here).
    fn observe(&mut self, _model: &Model, _now: DateTime<Utc>) {}
    fn happened(&mut self, model: &Model, now: DateTime<Utc>, what: Happened<'_>);
    /// Write terminal notification sequences, between frames, from the loop's own thread.
    fn terminal_bytes(&mut self, bytes: &[u8]) -> Result<(), SendError>;
    fn suspend(&mut self) {}
    fn resume(&mut self) {}
    /// Whether the loop ends when the session does (the headless run).
    fn ends_with_session(&self) -> bool {
        false
    }
    /// The loop ended for `reason`.
    fn finish(&mut self, _model: &Model, _now: DateTime<Utc>, _reason: &str) {}
}

/// How the loop ended.
#[derive(Debug)]
pub struct Ended {
    pub reason: String,
    /// The journal's own error, if the final `Detach` could not be written.
    pub detach_error: Option<String>,
    /// A terminal error that ended the loop.
    pub terminal_error: Option<std::io::Error>,
    /// The wall clock read before 1970, which ended the loop.
    pub clock_error: Option<crate::clock::BeforeEpoch>,
    pub model: Model,
}

/// Set up the terminal, run the loop on a current-thread runtime, restore the terminal.
pub fn run(setup: Setup, theme: crate::theme::Theme) -> std::io::Result<Ended> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        // Signals first: if they cannot be hooked, fail before touching the terminal.
        let inputs = Inputs::os(true)?;
        // try_init installs a panic hook that restores the terminal, then calls the previous hook.
        let mut terminal = ratatui::try_init()?;
        // Bracketed paste: a paste arrives whole (Message::Paste), control bytes included.
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableBracketedPaste);
        let mut screen = screen::Screen {
            terminal: &mut terminal,
            theme,
            raw: Box::new(std::io::stdout()),
            job_control: true,
        };
        let ended = drive(&mut screen, setup, inputs).await;
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableBracketedPaste);
        ratatui::restore();
        Ok(ended)
    })
}

/// Run the loop headless on a current-thread runtime: lines to stdout until the session ends.
pub fn run_headless(setup: Setup) -> std::io::Result<(Ended, lines::Fired)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let inputs = Inputs::os(false)?;
        let mut out = lines::Lines::new(
            crate::out::stdout(),
            lines::Lines::<std::io::Stdout>::controlling_tty(),
            crate::zones::local_tz(),
        );
        let ended = drive(&mut out, setup, inputs).await;
        Ok((ended, out.fired))
    })
}

/// SIGTERM, SIGHUP and SIGINT (and with `job_control`, SIGTSTP and SIGCONT) as one stream.
fn os_interrupts(job_control: bool) -> std::io::Result<Feed<Interrupt>> {
    let quit = (
        signal(SignalKind::terminate())?,
        signal(SignalKind::hangup())?,
        signal(SignalKind::interrupt())?,
    );
    // Hooking SIGTSTP takes away its default stop: the frontend stops the process itself, once
    // the terminal is restored. Without a terminal, the default stop is right.
    let job = if job_control {
        Some((
            signal(SignalKind::from_raw(libc::SIGTSTP))?,
            signal(SignalKind::from_raw(libc::SIGCONT))?,
        ))
    } else {
        None
    };
    Ok(Box::pin(futures_util::stream::unfold(
        (quit, job),
        |(mut q, mut job)| async move {
            let stop = async {
                match &mut job {
                    Some((tstp, cont)) => tokio::select! {
                        _ = tstp.recv() => Interrupt::Stop,
                        _ = cont.recv() => Interrupt::Continue,
                    },
                    None => std::future::pending().await,
                }
            };
            let i = tokio::select! {
                _ = q.0.recv() => Interrupt::Quit("SIGTERM".into()),
                _ = q.1.recv() => Interrupt::Quit("SIGHUP".into()),
                _ = q.2.recv() => Interrupt::Quit("SIGINT".into()),
                i = stop => i,
            };
            Some((i, (q, job)))
        },
    )))
}

/// Ctrl-Z: in raw mode the terminal sends it as a key, not as SIGTSTP.
fn is_ctrl_z(k: &crossterm::event::KeyEvent) -> bool {
    k.modifiers.contains(KeyModifiers::CONTROL) && matches!(k.code, KeyCode::Char('z' | 'Z'))
}

/// The loop itself, over any frontend and any inputs.
pub async fn drive<F: Frontend>(frontend: &mut F, setup: Setup, inputs: Inputs) -> Ended {
    let Setup {
        mut model,
        clock,
        mut source,
        channels,
        arrival,
        checks,
        forward: forward_to,
        attached,
    } = setup;
    // What the loop can do is part of the setup, as the model's other settings are: without a
    // runner, `r` says so and no automatic check is started.
    model.sensing = checks.is_some();
    // Fused: a feed that ended (a test's sender dropped) is not polled again.
    let mut interrupts = inputs.interrupts.fuse();
    // Terminal events come through a task of their own, polled only when crossterm's reader wakes
    // it: polling crossterm's stream from the loop would try its reader's lock (spinning) on every
    // wake. `None` says the terminal's stream ended.
    let (events_tx, mut events) = mpsc::unbounded_channel::<Option<std::io::Result<TermEvent>>>();
    let mut terminal_events = inputs.events;
    let events_task = tokio::spawn(async move {
        while let Some(e) = terminal_events.next().await {
            if events_tx.send(Some(e)).is_err() {
                return;
            }
        }
        let _ = events_tx.send(None);
    });
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let mut ctx = Ctx {
        clock: &clock,
        channels: &channels,
        tx: &tx,
        in_flight: 0,
        checks: checks.as_ref(),
    };
    if let Some(probe) = arrival {
        let tx = tx.clone();
        tokio::spawn(async move {
            let _ = tx.send(probe.await);
        });
    }
    let forwarder = match (&forward_to, &source) {
        (Some(target), Source::Write(j)) => Some(forward_task(
            j.path().to_owned(),
            target.clone(),
            tx.clone(),
        )),
        _ => None,
    };
    if let Source::Watch(w) = &mut source
        && let Err(e) = follow::spawn(
            std::mem::take(&mut **w),
            session_end(&model.plan),
            tx.clone(),
        )
    {
        update(
            &mut model,
            Message::JournalUnreadable(format!("cannot start following: {e}")),
            clock.now(),
        );
    }

    let mut quit: Option<String> = None;
    if let Source::Write(j) = &mut source
        && !attached
    {
        let attach = attach_action(&model.plan);
        quit = ctx.carry_out(
            frontend,
            &mut model,
            &mut Some(&mut **j),
            vec![Effect::Append(attach)],
        );
    }
    if quit.is_none() {
        let now = clock.now();
        let fx = update(&mut model, Message::Tick, now);
        frontend.observe(&model, now);
        quit = ctx.carry_out(frontend, &mut model, &mut source_opt(&mut source), fx);
    }
    let mut drawn_second = i64::MIN;
    let mut wall_second = i64::MIN;
    let mut terminal_error = None;
    let mut clock_error = None;
    // When the last frame drawn for a key was: a burst of keys is drawn together. A frame for
    // the clock does not count, so a key after a pause is drawn at once whatever the clock did.
    let mut last_key_frame: Option<tokio::time::Instant> = None;
    let mut from_terminal = false;
    while quit.is_none() {
        // The wall clock stepped back before 1970: leave the usual way, the detach journaled.
        let wall = match crate::clock::wall_checked() {
            Ok(w) => w,
            Err(e) => {
                quit = Some(e.to_string());
                clock_error = Some(e);
                break;
            }
        };
        // Once a wall-clock second, whatever woke the loop (the timer wakes it at least that
        // often): automatic checks are due on the wall clock.
        if wall.timestamp() != wall_second {
            wall_second = wall.timestamp();
            // No `observe`: the wall clock changes nothing a frontend announces (phases,
            // alerts), which come with the session clock's own wake.
            let fx = update(&mut model, Message::WallClock(wall), clock.now());
            quit = ctx.carry_out(frontend, &mut model, &mut source_opt(&mut source), fx);
            if quit.is_some() {
                break;
            }
        }
        let now = clock.now();
        let rehearsal = clock.rehearsal();
        if rehearsal != model.rehearsal {
            update(&mut model, Message::ClockChanged(rehearsal), now);
        }
        let seconds = frontend.shows_seconds();
        let due = model.changed || (seconds && now.timestamp() != drawn_second);
        // After a key, a frame only when the last one is KEY_FRAME old; until then, the sleep
        // below ends when it is.
        let hold = (from_terminal && due)
            .then(|| last_key_frame.map(|t| KEY_FRAME.saturating_sub(t.elapsed())))
            .flatten()
            .filter(|left| !left.is_zero());
        if due && hold.is_none() {
            if from_terminal {
                last_key_frame = Some(tokio::time::Instant::now());
            }
            if let Err(e) = frontend.frame(&model, now) {
                quit = Some(format!("terminal error: {e}"));
                terminal_error = Some(e);
                break;
            }
            update(&mut model, Message::Drawn, now);
            drawn_second = now.timestamp();
        }
        // The headless run ends with the session, once the sends under way have answered
        // (each is bounded by NOTIFY_TIMEOUT).
        if frontend.ends_with_session() && model.timeline.status(now).ended() && ctx.in_flight == 0
        {
            quit = Some(SESSION_ENDED.into());
            break;
        }
        let sleep = sleep_for(&model, clock.as_ref(), now, seconds);
        let sleep = hold.map_or(sleep, |left| sleep.min(left));
        from_terminal = false;
        let msg = tokio::select! {
            Some(ev) = events.recv() => match ev {
                Some(Ok(TermEvent::Key(k))) if is_ctrl_z(&k) => {
                    if k.kind != KeyEventKind::Press {
                        continue;
                    }
                    frontend.suspend();
                    Some(Message::Resize)
                }
                Some(Ok(TermEvent::Key(k))) if k.kind != KeyEventKind::Release => {
                    from_terminal = true;
                    Some(Message::Key(k))
                }
                Some(Ok(TermEvent::Resize(..))) => Some(Message::Resize),
                Some(Ok(TermEvent::Paste(text))) => {
                    from_terminal = true;
                    Some(Message::Paste(text))
                }
                Some(Ok(_)) => None,
                // The terminal went away (an SSH drop without SIGHUP): quit the normal way.
                Some(Err(e)) => Some(Message::Signal(format!("terminal input error: {e}"))),
                None => Some(Message::Signal("terminal closed".into())),
            },
            () = inputs.timer.sleep(sleep) => Some(Message::Tick),
            Some(i) = interrupts.next() => match i {
                Interrupt::Quit(name) => Some(Message::Signal(name)),
                Interrupt::Stop => {
                    frontend.suspend();
                    Some(Message::Resize)
                }
                // Stopped by something else (SIGSTOP), or the echo of our own stop: redraw.
                Interrupt::Continue => {
                    frontend.resume();
                    Some(Message::Resize)
                }
            },
            Some(m) = rx.recv() => {
                // A headless run has no status line: the forwarder's changes (down, back,
                // stopped) are lines of their own.
                if let Message::Forwarding { text, .. } = &m {
                    frontend.happened(&model, clock.now(), Happened::Forwarding(text));
                }
                if let Message::Notified { channel, result, .. } = &m {
                    ctx.in_flight = ctx.in_flight.saturating_sub(1);
                    if let Err(error) = result {
                        frontend.happened(&model, clock.now(), Happened::NotifyFailed { channel, error });
                    }
                }
                Some(m)
            }
        };
        let Some(msg) = msg else { continue };
        let now = clock.now();
        let fx = update(&mut model, msg, now);
        frontend.observe(&model, now);
        quit = ctx.carry_out(frontend, &mut model, &mut source_opt(&mut source), fx);
    }
    let reason = quit.unwrap_or_else(|| "quit".into());
    let mut detach_error = None;
    if let Source::Write(j) = &mut source
        && let Err(e) = j.append(
            Action::Detach {
                reason: reason.clone(),
            },
            clock.as_ref(),
        )
    {
        detach_error = Some(e.to_string());
    }
    frontend.finish(&model, clock.now(), &reason);
    events_task.abort();
    if let Some(f) = forwarder {
        // Dropping its future stops the forwarder's thread; its position is saved as it goes.
        f.abort();
    }
    // Dropping the journal closes it and releases the lock.
    drop(source);
    Ended {
        reason,
        detach_error,
        terminal_error,
        clock_error,
        model,
    }
}

/// How long to sleep: until the next boundary, due time or alert; for a frontend with seconds on
/// screen, also until the displayed second flips (a few ms past it, so the wake lands after the
/// flip), but no more often than [`REHEARSAL_FRAME`] on a fast rehearsal clock. Never above
/// [`CAP`].
fn sleep_for(model: &Model, clock: &dyn Clock, now: DateTime<Utc>, seconds: bool) -> Duration {
    let until = |t: DateTime<Utc>| clock.real_until(t).map(|d| d + Duration::from_millis(3));
    let event = model.next_event(now).and_then(until).unwrap_or(CAP);
    let second = if seconds {
        let floor = if clock.rehearsal().is_some() {
            REHEARSAL_FRAME
        } else {
            Duration::ZERO
        };
        until(model.next_wakeup(now)).map_or(CAP, |d| d.max(floor))
    } else {
        CAP
    };
    event.min(second).min(CAP)
}

fn source_opt(s: &mut Source) -> Option<&mut Journal> {
    match s {
        Source::Write(j) => Some(&mut **j),
        Source::Watch(_) => None,
    }
}

/// `run --forward`: the journal's events to a syslog collector by `forward::run` (which reads the
/// journal's tail on a thread of its own, so an append never waits for it), its state changes
/// sent to the loop: started, collector down (retrying), collector back, stopped.
fn forward_task(
    journal: PathBuf,
    target: crate::forward::Target,
    tx: mpsc::UnboundedSender<Message>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        use crate::forward::Status;
        let (status_tx, mut status) = mpsc::unbounded_channel();
        let run = crate::forward::run(journal, target, status_tx);
        tokio::pin!(run);
        loop {
            tokio::select! {
                Some(s) = status.recv() => {
                    // Caught up is the normal state: only changes are worth the status line.
                    if !matches!(s, Status::CaughtUp { .. }) {
                        let down = matches!(
                            s,
                            Status::Down { .. }
                                | Status::Stopped { how: crate::forward::Stop::Undelivered, .. }
                        );
                        let _ = tx.send(Message::Forwarding { text: s.to_string(), down });
                    }
                }
                r = &mut run => {
                    let text = match r {
                        Ok(()) => "forwarding stopped".to_owned(),
                        Err(e) => format!("forwarding stopped: {e}"),
                    };
                    let _ = tx.send(Message::Forwarding { text, down: true });
                    return;
                }
            }
        }
    })
}

/// The session's end: the end of its last phase.
pub fn session_end(plan: &crate::runbook::Plan) -> DateTime<Utc> {
    plan.session
        .phases
        .iter()
        .map(|p| p.end.at)
        .max()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

struct Ctx<'a> {
    clock: &'a Arc<dyn Clock>,
    channels: &'a [Arc<dyn Notifier>],
    tx: &'a mpsc::UnboundedSender<Message>,
    /// Notification sends whose result has not come back yet.
    in_flight: usize,
    checks: Option<&'a crate::check::Runner>,
}

impl Ctx<'_> {
    /// Start step `step`'s check in a task: its result comes back as `Checked`. The screen never
    /// waits for it; the runner's semaphore bounds how many probe at once.
    fn run_check(&self, model: &Model, step: usize) {
        let (Some(runner), Some(s)) = (self.checks, model.plan.steps.get(step)) else {
            return;
        };
        // Where the phase's start and end are on the wall clock: in a rehearsal, when the
        // rehearsal clock was (or will be) there (a log's lines carry today's times).
        let (now, wall, speed) = (
            self.clock.now(),
            crate::clock::wall_now(),
            self.clock.rehearsal().map(|r| r.speed),
        );
        let start = crate::check::phase_start_wall(&model.timeline, s.phase, now, wall, speed);
        let end = crate::check::phase_end_wall(&model.timeline, s.phase, now, wall, speed);
        let Some(job) = crate::check::Job::for_step(&model.plan, step, start) else {
            return;
        };
        // The lines the journal says passing checks took stay theirs (after a restart too).
        runner.remember(&model.plan, &model.record);
        let job = job.ending(end).in_session();
        let run = runner.run(job);
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let _ = tx.send(Message::Checked(Box::new(run.await)));
        });
    }

    /// Carry out effects (and those their outcomes produce); `Some(reason)` when one says quit.
    fn carry_out<F: Frontend>(
        &mut self,
        frontend: &mut F,
        model: &mut Model,
        journal: &mut Option<&mut Journal>,
        effects: Vec<Effect>,
    ) -> Option<String> {
        let mut queue: VecDeque<Effect> = effects.into();
        let mut quit = None;
        while let Some(e) = queue.pop_front() {
            let now = self.clock.now();
            match e {
                Effect::Append(action) => {
                    let msg = match journal.as_deref_mut() {
                        Some(j) => match j.append(action.clone(), self.clock.as_ref()) {
                            Ok(ev) => {
                                frontend.happened(model, now, Happened::Recorded(&ev));
                                Message::Recorded(Box::new(ev))
                            }
                            Err(err) => {
                                let error = err.to_string();
                                frontend.happened(
                                    model,
                                    now,
                                    Happened::NotRecorded { error: &error },
                                );
                                Message::NotRecorded {
                                    action: Box::new(action),
                                    error,
                                }
                            }
                        },
                        None => continue,
                    };
                    queue.extend(update(model, msg, self.clock.now()));
                    frontend.observe(model, self.clock.now());
                }
                Effect::Notify(alert) => {
                    frontend.happened(model, now, Happened::Notify(&alert));
                    for ch in self.channels {
                        self.in_flight += 1;
                        // The terminal channel's bytes are written here, between frames, into the
                        // writer the frames go to: never from another thread.
                        if let Some(bytes) = ch.sequences(&alert) {
                            let result = frontend.terminal_bytes(&bytes);
                            let _ = self.tx.send(Message::Notified {
                                alert: alert.clone(),
                                channel: ch.channel().to_owned(),
                                result,
                            });
                            continue;
                        }
                        let ch = Arc::clone(ch);
                        let tx = self.tx.clone();
                        let alert = alert.clone();
                        tokio::spawn(async move {
                            let result = tokio::time::timeout(NOTIFY_TIMEOUT, ch.send(&alert))
                                .await
                                .unwrap_or(Err(SendError::NoAnswer(NOTIFY_TIMEOUT)));
                            let _ = tx.send(Message::Notified {
                                alert,
                                channel: ch.channel().to_owned(),
                                result,
                            });
                        });
                    }
                }
                Effect::Quit { reason } => quit = quit.or(Some(reason)),
                Effect::RunCheck { step } => self.run_check(model, step),
                Effect::WriteTerminal { bytes, what } => {
                    // Between frames, through the frontend: the one writer to the terminal.
                    let result = frontend.terminal_bytes(&bytes);
                    let msg = Message::TerminalWritten { what, result };
                    queue.extend(update(model, msg, self.clock.now()));
                }
                Effect::Clock(c) => {
                    if self.clock.control(c) {
                        let state = self.clock.rehearsal();
                        let msg = match c {
                            ClockControl::Follow(_) => Message::ClockChanged(state),
                            // A key steered it: the model journals the change (once).
                            control => Message::ClockSteered {
                                control,
                                from: now,
                                state,
                            },
                        };
                        queue.extend(update(model, msg, self.clock.now()));
                        // A jump may have passed boundaries: deal with them now, not at the next wake.
                        queue.extend(update(model, Message::Tick, self.clock.now()));
                        frontend.observe(model, self.clock.now());
                    }
                }
            }
        }
        quit
    }
}
