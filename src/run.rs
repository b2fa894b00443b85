//! The event loop: waits for whatever comes first (a key, a resize, the next displayed second or
//! boundary, a signal, a notification result, the followed journal growing), feeds it to
//! `app::update`, carries out the effects, and draws only when the model changed or the displayed
//! second ticked. No frame rate: idle, it wakes once a second to move the clock.
//!
//! Effects: a journal append is done here, synchronously, with fsync (write-ahead, on purpose: the
//! screen shows an action as recorded only after it is on disk); notifications are spawned, each
//! under a timeout, and come back as messages. SIGTERM, SIGHUP (an SSH drop) and SIGINT take the
//! same quit path as `q`: `Detach` journaled, lock released, terminal restored. Ctrl-Z (a key in
//! raw mode) and SIGTSTP stop the process with the terminal restored; SIGCONT takes it back.
//!
//! The clock is an `Arc<dyn Clock>`: the real one here, the rehearsal one later. Every wake reads
//! it again and no single sleep exceeds a second, so a stepped wall clock or a resumed laptop
//! cannot leave the screen stale.

use crate::app::{Effect, Message, Model, update};
use crate::clock::{Clock, ClockControl};
use crate::journal::{self, Action, Journal};
use crate::notify::Notifier;
use crate::theme::Theme;
use crossterm::event::{Event as TermEvent, EventStream, KeyCode, KeyEventKind, KeyModifiers};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::collections::VecDeque;
use std::path::PathBuf;
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
/// How often `watch` looks at the journal's length.
const WATCH_POLL: Duration = Duration::from_millis(500);

/// Where the record comes from: the journal this process writes, or one it follows read-only.
pub enum Source {
    Write(Box<Journal>),
    Watch(PathBuf),
}

/// Everything the loop needs.
pub struct Setup {
    pub model: Model,
    pub clock: Arc<dyn Clock>,
    pub theme: Theme,
    pub source: Source,
    pub channels: Vec<Arc<dyn Notifier>>,
}

/// How the loop ended.
#[derive(Debug)]
pub struct Ended {
    pub reason: String,
    /// The journal's own error, if the final `Detach` could not be written.
    pub detach_error: Option<String>,
    /// A terminal error that ended the loop.
    pub terminal_error: Option<String>,
    /// The wall clock read before 1970, which ended the loop.
    pub clock_error: Option<crate::clock::BeforeEpoch>,
    pub model: Model,
}

/// Set up the terminal, run the loop on a current-thread runtime, restore the terminal.
pub fn run(setup: Setup) -> std::io::Result<Ended> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        // Signals first: if they cannot be hooked, fail before touching the terminal.
        let signals = Signals::new()?;
        // try_init installs a panic hook that restores the terminal, then calls the previous hook.
        let mut terminal = ratatui::try_init()?;
        let events = EventStream::new();
        let ended = drive(&mut terminal, setup, events, signals, JobControl::new()?).await;
        ratatui::restore();
        Ok(ended)
    })
}

/// SIGTERM, SIGHUP and SIGINT as one stream.
pub struct Signals {
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn new() -> std::io::Result<Self> {
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// The next of the three, by name.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.hup.recv() => "SIGHUP",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

/// SIGTSTP and SIGCONT, for stopping with the terminal given back to the shell. Hooking SIGTSTP
/// takes away its default stop: [`suspend`] stops the process itself, once the terminal is restored.
pub struct JobControl {
    tstp: tokio::signal::unix::Signal,
    cont: tokio::signal::unix::Signal,
}

/// What job control asks of the loop.
enum Job {
    Stop,
    Continued,
}

impl JobControl {
    pub fn new() -> std::io::Result<Self> {
        Ok(Self {
            tstp: signal(SignalKind::from_raw(libc::SIGTSTP))?,
            cont: signal(SignalKind::from_raw(libc::SIGCONT))?,
        })
    }

    async fn recv(&mut self) -> Job {
        tokio::select! {
            _ = self.tstp.recv() => Job::Stop,
            _ = self.cont.recv() => Job::Continued,
        }
    }
}

/// Ctrl-Z: in raw mode the terminal sends it as a key, not as SIGTSTP.
fn is_ctrl_z(k: &crossterm::event::KeyEvent) -> bool {
    k.modifiers.contains(KeyModifiers::CONTROL) && matches!(k.code, KeyCode::Char('z' | 'Z'))
}

/// Give the terminal back to the shell (raw mode off, normal screen, cursor shown) and stop, as
/// the default SIGTSTP would; on continue, take it back and redraw.
fn suspend<B: Backend>(terminal: &mut Terminal<B>) {
    let _ = terminal.show_cursor();
    let _ = ratatui::try_restore();
    // SAFETY: raising a signal on this process; no memory is involved. SIGSTOP cannot be caught,
    // so this returns only after a SIGCONT (`fg`).
    unsafe {
        libc::raise(libc::SIGSTOP);
    }
    resume(terminal);
}

/// After a stop, whoever stopped us: raw mode and the alternate screen again (the shell set the
/// terminal back to cooked mode, and crossterm may still believe it is raw, hence off first), and
/// every cell drawn anew on the next frame.
fn resume<B: Backend>(terminal: &mut Terminal<B>) {
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::terminal::enable_raw_mode();
    let _ = crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen);
    // Not `Terminal::clear`: it first asks the terminal where the cursor is, the event reader's
    // thread can take the answer, and it then fails before resetting anything (a blank screen
    // that only the changing cells come back to). An empty frame makes the diff base blank; the
    // wipe makes the screen match it; the next frame draws every cell.
    let _ = terminal.draw(|_| {});
    let _ = terminal.backend_mut().clear();
}

/// The loop itself, over any backend and any terminal event stream (a seam for headless runs).
pub async fn drive<B, S>(
    terminal: &mut Terminal<B>,
    setup: Setup,
    mut events: S,
    mut signals: Signals,
    mut job: JobControl,
) -> Ended
where
    B: Backend,
    S: futures_util::Stream<Item = std::io::Result<TermEvent>> + Unpin,
{
    let Setup {
        mut model,
        clock,
        theme,
        mut source,
        channels,
    } = setup;
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let mut ctx = Ctx {
        clock: &clock,
        channels: &channels,
        tx: &tx,
    };
    let mut watch_len: Option<u64> = None;
    let mut poll = tokio::time::interval(WATCH_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    let mut quit: Option<String> = None;
    if let Source::Write(j) = &mut source {
        let attach = Action::Attach {
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").into(),
            roles: model.plan.roles(),
        };
        quit = ctx.carry_out(
            &mut model,
            &mut Some(&mut **j),
            vec![Effect::Append(attach)],
        );
    }
    if quit.is_none() {
        let fx = update(&mut model, Message::Tick, clock.now());
        quit = ctx.carry_out(&mut model, &mut source_opt(&mut source), fx);
    }
    let mut drawn_second = i64::MIN;
    let mut terminal_error = None;
    let mut clock_error = None;
    while quit.is_none() {
        // The wall clock stepped back before 1970: leave the usual way, the detach journaled.
        if let Err(e) = crate::clock::wall_checked() {
            quit = Some(e.to_string());
            clock_error = Some(e);
            break;
        }
        let now = clock.now();
        let rehearsal = clock.rehearsal();
        if rehearsal != model.rehearsal {
            model.rehearsal = rehearsal;
            model.changed = true;
        }
        if model.changed || now.timestamp() != drawn_second {
            if let Err(e) = terminal.draw(|f| crate::view::view(f, &model, &theme, now)) {
                terminal_error = Some(e.to_string());
                quit = Some(format!("terminal error: {e}"));
                break;
            }
            model.changed = false;
            drawn_second = now.timestamp();
        }
        let wake = model.next_wakeup(now);
        // A few ms past the second, so the wake lands after the displayed second flips.
        let floor = if rehearsal.is_some() {
            REHEARSAL_FRAME
        } else {
            Duration::ZERO
        };
        let sleep = clock
            .real_until(wake)
            .map_or(CAP, |d| (d + Duration::from_millis(3)).clamp(floor, CAP));
        let watching = matches!(source, Source::Watch(_));
        let msg = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(TermEvent::Key(k))) if is_ctrl_z(&k) => {
                    if k.kind == KeyEventKind::Press {
                        suspend(terminal);
                        model.changed = true;
                    }
                    None
                }
                Some(Ok(TermEvent::Key(k))) if k.kind != KeyEventKind::Release => Some(Message::Key(k)),
                Some(Ok(TermEvent::Resize(..))) => Some(Message::Resize),
                Some(Ok(_)) => None,
                // The terminal went away (an SSH drop without SIGHUP): quit the normal way.
                Some(Err(e)) => Some(Message::Signal(format!("terminal input error: {e}"))),
                None => Some(Message::Signal("terminal closed".into())),
            },
            () = tokio::time::sleep(sleep) => Some(Message::Tick),
            name = signals.recv() => Some(Message::Signal(name.into())),
            j = job.recv() => {
                match j {
                    Job::Stop => suspend(terminal),
                    // Stopped by something else (SIGSTOP), or the echo of our own stop: redraw.
                    Job::Continued => resume(terminal),
                }
                model.changed = true;
                None
            }
            Some(m) = rx.recv() => Some(m),
            _ = poll.tick(), if watching => match &source {
                Source::Watch(path) => poll_journal(path, &mut watch_len, clock.as_ref()),
                Source::Write(_) => None,
            },
        };
        let Some(msg) = msg else { continue };
        let fx = update(&mut model, msg, clock.now());
        quit = ctx.carry_out(&mut model, &mut source_opt(&mut source), fx);
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

fn source_opt(s: &mut Source) -> Option<&mut Journal> {
    match s {
        Source::Write(j) => Some(&mut **j),
        Source::Watch(_) => None,
    }
}

/// `watch`: when the journal's length changed, read and replay it. Following a rehearsal, the
/// watcher's clock is set again from the newest event (a pause or a jump there shows here).
fn poll_journal(
    path: &std::path::Path,
    last: &mut Option<u64>,
    clock: &dyn Clock,
) -> Option<Message> {
    let len = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) => return Some(Message::JournalUnreadable(e.to_string())),
    };
    if *last == Some(len) {
        return None;
    }
    *last = Some(len);
    Some(match journal::read(path) {
        Ok(r) => {
            if let Some(at) = r
                .events
                .last()
                .and_then(|e| e.carried_to(crate::clock::wall_now()))
            {
                clock.control(ClockControl::JumpTo(at));
            }
            Message::JournalChanged {
                record: Box::new(r.record),
                events: r.events,
            }
        }
        Err(e) => Message::JournalUnreadable(e.to_string()),
    })
}

struct Ctx<'a> {
    clock: &'a Arc<dyn Clock>,
    channels: &'a [Arc<dyn Notifier>],
    tx: &'a mpsc::UnboundedSender<Message>,
}

impl Ctx<'_> {
    /// Carry out effects (and those their outcomes produce); `Some(reason)` when one says quit.
    fn carry_out(
        &mut self,
        model: &mut Model,
        journal: &mut Option<&mut Journal>,
        effects: Vec<Effect>,
    ) -> Option<String> {
        let mut queue: VecDeque<Effect> = effects.into();
        let mut quit = None;
        while let Some(e) = queue.pop_front() {
            match e {
                Effect::Append(action) => {
                    let msg = match journal.as_deref_mut() {
                        Some(j) => match j.append(action.clone(), self.clock.as_ref()) {
                            Ok(ev) => Message::Recorded(Box::new(ev)),
                            Err(err) => Message::NotRecorded {
                                action: Box::new(action),
                                error: err.to_string(),
                            },
                        },
                        None => continue,
                    };
                    queue.extend(update(model, msg, self.clock.now()));
                }
                Effect::Notify(alert) => {
                    for ch in self.channels {
                        let ch = Arc::clone(ch);
                        let tx = self.tx.clone();
                        let alert = alert.clone();
                        tokio::spawn(async move {
                            let result = tokio::time::timeout(NOTIFY_TIMEOUT, ch.send(&alert))
                                .await
                                .unwrap_or_else(|_| {
                                    Err(format!("timed out after {}s", NOTIFY_TIMEOUT.as_secs()))
                                });
                            let _ = tx.send(Message::Notified {
                                alert,
                                channel: ch.channel().to_owned(),
                                result,
                            });
                        });
                    }
                }
                Effect::Quit { reason } => quit = quit.or(Some(reason)),
                Effect::WriteTerminal { bytes, what } => {
                    let result = crate::app::clip::write(&bytes);
                    let msg = Message::TerminalWritten { what, result };
                    queue.extend(update(model, msg, self.clock.now()));
                }
                Effect::Clock(c) => {
                    if self.clock.control(c) {
                        model.rehearsal = self.clock.rehearsal();
                        model.changed = true;
                        // A jump may have passed boundaries: deal with them now, not at the next wake.
                        queue.extend(update(model, Message::Tick, self.clock.now()));
                    }
                }
            }
        }
        quit
    }
}
