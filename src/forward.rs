//! Forwarding a journal into the firm's log pipeline: each event as an RFC 5424 syslog message
//! ([`syslog`]) to a collector over a Unix socket, UDP or TCP ([`transport`]), read from the
//! journal's tail ([`crate::journal::tail`]: the writer is never slowed or blocked, and the cost of
//! an event does not grow with the journal), with the position kept beside the journal
//! ([`position`]) so a restart sends nothing twice and misses nothing.
//!
//! Delivery is at least once, and exactly once in the failures a forwarder meets on its own:
//! - the forwarder killed (SIGKILL) at any moment: the position is saved (renamed into place) as
//!   soon as a batch is handed to the collector (TCP: written; the kernel delivers it even after
//!   the process is gone), so on restart it goes on from there. The window for a duplicate is the
//!   time between that hand-over and the rename (tens of microseconds per batch);
//! - the collector down or restarted: a TCP batch counts only once the collector closed the
//!   connection after reading it; otherwise the saved position is taken back and the batch sent
//!   again. The window for a duplicate is a collector that read part of a batch and then died
//!   (the part is sent again); the window for a loss is the forwarder killed in the same instant
//!   as the collector dies with the batch unread;
//! - UDP has no acknowledgement: what is sent while the collector is down is lost.
//!
//! Each message carries the event's session, host, roles and seq, so a collector can drop the
//! duplicates these windows allow. One forwarder per journal and collector at a time (a second
//! is refused); the position file also says whether the collector is up, which `handover` shows.
//!
//! [`run`] is the async entry point (a thread of its own does the blocking work, so an app's loop
//! can spawn it beside everything else); `drillbook forward` drives it from the command line.

pub mod position;
pub mod syslog;
pub mod transport;

pub use transport::{AddressError, Target};

use crate::journal::tail::{Head, Item, Position, Tail, TailError, Waiter};
use crate::journal::{Action, Event};
use position::{PositionError, Saved};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use transport::{Link, Undelivered};

/// Read per round: a forwarder far behind catches up in steps of this size.
const BATCH_BYTES: u64 = 256 * 1024;
/// Messages per TCP connection.
const BATCH_MESSAGES: usize = 256;
/// The first wait after a failed delivery; doubled up to [`BACKOFF_MAX`].
const BACKOFF_START: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// `--once` retries a collector that is down for about this long (0.5 + 1 + 2 + 4 s), then stops.
const ONCE_PATIENCE: Duration = Duration::from_secs(4);
/// How often an idle forwarder looks at the journal when no change notification woke it.
const IDLE: Duration = Duration::from_secs(1);

/// What a forwarder reports as it goes (on stderr for `drillbook forward`, on screen in the app).
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Started (or resumed after event `from_seq`).
    Started {
        journal: PathBuf,
        to: String,
        from_seq: u64,
    },
    /// Everything in the journal is delivered, up to event `seq`.
    CaughtUp {
        journal: PathBuf,
        seq: u64,
        sent: u64,
    },
    /// The collector did not take a batch; retried after `retry_in`. Nothing is lost meanwhile:
    /// the journal is the record and the position waits.
    Down {
        journal: PathBuf,
        error: String,
        retry_in: Duration,
    },
    /// The collector takes messages again.
    Up { journal: PathBuf },
    /// The forwarder stopped: everything delivered (`--once`), asked to stop (a signal) after
    /// delivering up to `seq`, or asked to stop with events not yet delivered (the collector
    /// down): each says which, never "caught up" while events wait.
    Stopped {
        journal: PathBuf,
        seq: u64,
        sent: u64,
        how: Stop,
    },
}

/// How a forwarder stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// `--once`: the journal read to its end, all of it delivered.
    Done,
    /// Asked to stop between batches: delivered up to the position.
    Asked,
    /// Asked to stop while events read from the journal were not delivered.
    Undelivered,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let j = |p: &Path| crate::text::clean_line(&p.display().to_string()).into_owned();
        match self {
            Status::Started {
                journal,
                to,
                from_seq,
            } => {
                if *from_seq == 0 {
                    write!(f, "forwarding {} to {to} from its start", j(journal))
                } else {
                    write!(
                        f,
                        "forwarding {} to {to} after event #{from_seq} (sent before)",
                        j(journal)
                    )
                }
            }
            Status::CaughtUp { journal, seq, sent } => write!(
                f,
                "{}: caught up: delivered up to #{seq} ({sent} events in all); waiting for more",
                j(journal)
            ),
            Status::Down {
                journal,
                error,
                retry_in,
            } => write!(
                f,
                "{}: collector down: {}; retrying in {:.1}s (nothing is lost: the journal keeps the record)",
                j(journal),
                crate::text::clean_line(error),
                retry_in.as_secs_f64()
            ),
            Status::Up { journal } => write!(f, "{}: collector back: sending again", j(journal)),
            Status::Stopped {
                journal,
                seq,
                sent,
                how,
            } => match how {
                Stop::Done => write!(
                    f,
                    "{}: everything delivered, up to #{seq} ({sent} events in all); stopped",
                    j(journal)
                ),
                Stop::Asked => write!(
                    f,
                    "{}: stopped after delivering up to #{seq} ({sent} events in all); started again, it goes on from there",
                    j(journal)
                ),
                Stop::Undelivered if *seq == 0 => write!(
                    f,
                    "{}: stopped with events NOT delivered (the collector did not take them; none delivered yet); started again, it sends them",
                    j(journal)
                ),
                Stop::Undelivered => write!(
                    f,
                    "{}: stopped with the events after #{seq} NOT delivered (the collector did not take them; {sent} events delivered before); started again, it sends them",
                    j(journal)
                ),
            },
        }
    }
}

/// Why forwarding stopped.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// The journal cannot be followed any more (replaced, truncated, a gap...).
    #[error(transparent)]
    Journal(#[from] TailError),
    #[error(transparent)]
    Position(#[from] PositionError),
    /// `--once` met a collector that stayed down: what was not delivered waits for the next run.
    #[error(
        "{}: the collector stayed down: events NOT delivered; the next run sends them",
        .journal.display()
    )]
    OnceUndelivered { journal: PathBuf },
    /// Another forwarder sends this journal to this collector.
    #[error(
        "{}: another drillbook forwarder is already sending this journal to {to}; one at a time",
        .journal.display()
    )]
    Busy { journal: PathBuf, to: String },
    #[error("{}: cannot {what}: {}", .journal.display(), crate::files::io_words(.source))]
    Io {
        journal: PathBuf,
        what: &'static str,
        source: std::io::Error,
    },
}

/// Forward `journal` to `target` until the returned future is dropped, the receiver of
/// `status_tx` is dropped, or the journal cannot be followed (the error). For the app's loop:
/// spawn it as a task (`tokio::spawn(forward::run(path, target, tx))`) and show what comes on the
/// channel. The address is parsed by the caller, before anything starts, so that a bad one is a
/// usage error rather than a forwarder that stops at once.
pub async fn run(
    journal: PathBuf,
    target: Target,
    status_tx: tokio::sync::mpsc::UnboundedSender<Status>,
) -> Result<(), ForwardError> {
    run_until(
        journal,
        target,
        false,
        Arc::new(AtomicBool::new(false)),
        status_tx,
    )
    .await
}

/// [`run`] with a stop flag shared with the caller, and `once`: stop when caught up.
pub async fn run_until(
    journal: PathBuf,
    target: Target,
    once: bool,
    stop: Arc<AtomicBool>,
    status_tx: tokio::sync::mpsc::UnboundedSender<Status>,
) -> Result<(), ForwardError> {
    /// Dropping the future (the task aborted, the runtime shut down) stops the thread.
    struct StopOnDrop(Arc<AtomicBool>);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let _guard = StopOnDrop(Arc::clone(&stop));
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let j = journal.clone();
    // A thread of its own rather than tokio's blocking pool: a runtime shutting down never waits
    // for it.
    std::thread::Builder::new()
        .name("forward".into())
        .spawn(move || {
            let tx = status_tx.clone();
            let mut report = move |s: Status| {
                let _ = tx.send(s);
            };
            let stop_or_gone = StopFlag {
                stop: &stop,
                closed: &|| status_tx.is_closed(),
            };
            let r = forward_blocking(&j, &target, once, &stop_or_gone, &mut report);
            let _ = done_tx.send(r);
        })
        .map_err(|source| ForwardError::Io {
            journal: journal.clone(),
            what: "start the forwarding thread",
            source,
        })?;
    done_rx.await.unwrap_or_else(|_| {
        Err(ForwardError::Io {
            journal,
            what: "forward",
            source: std::io::Error::other("the forwarding thread ended without a result"),
        })
    })
}

/// When to stop: the flag set, or nobody listening any more.
pub struct StopFlag<'a> {
    pub stop: &'a AtomicBool,
    pub closed: &'a dyn Fn() -> bool,
}

impl StopFlag<'_> {
    fn now(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || (self.closed)()
    }

    /// Sleep `d` in short steps, returning early (true) when told to stop.
    fn sleep(&self, d: Duration) -> bool {
        let step = Duration::from_millis(100);
        let mut left = d;
        while !left.is_zero() {
            if self.now() {
                return true;
            }
            let s = left.min(step);
            std::thread::sleep(s);
            left -= s;
        }
        self.now()
    }
}

/// One message to deliver, and the position to save once it (and all before it) is delivered.
struct Out {
    bytes: Vec<u8>,
    /// The tail's position just past the event, when this is the last message of its line.
    after: Option<Position>,
    /// Whether it counts as an event sent (a retraction notice does not).
    event: bool,
}

/// The blocking forwarder: follow `journal` and deliver each event to `target`, saving the
/// position beside the journal, until `stop` (or, with `once`, until caught up).
pub fn forward_blocking(
    journal: &Path,
    target: &Target,
    once: bool,
    stop: &StopFlag<'_>,
    report: &mut dyn FnMut(Status),
) -> Result<(), ForwardError> {
    let to = target.to_string();
    let _lock = lock(journal, &to)?;
    let pos_path = position::path_for(journal, &to);
    let saved = position::load(&pos_path)?;
    let first = first_event(journal);
    let roles = saved
        .as_ref()
        .map(|s| s.roles.clone())
        .filter(|r| !r.is_empty())
        .or_else(|| {
            first
                .as_ref()
                .map(|e| crate::journal::merge::roles_of(std::slice::from_ref(e)))
        })
        .unwrap_or_default();
    let tz = saved
        .as_ref()
        .and_then(|s| s.tz.as_deref())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| crate::cmd::log_session_tz(first.as_ref()));
    let mut ctx = syslog::Journal { roles, tz };
    let mut tail = match &saved {
        Some(s) if s.offset > 0 => Tail::open_at(
            journal,
            Position {
                offset: s.offset,
                line: s.line,
                seq: s.seq,
            },
            s.session.clone().map(|session| Head {
                session,
                rehearsal: s.rehearsal,
            }),
        ),
        _ => Tail::open(journal),
    }?;
    let mut state = saved.unwrap_or_else(|| Saved {
        v: 1,
        to: to.clone(),
        offset: 0,
        line: 0,
        seq: 0,
        session: None,
        rehearsal: false,
        roles: Vec::new(),
        tz: None,
        sent: 0,
        state: "ok".into(),
        error: None,
        down_since: None,
        updated: crate::clock::wall_now(),
        pid: 0,
        host: String::new(),
    });
    state.pid = std::process::id();
    state.host = crate::journal::hostname();
    if state.state == "stopped" {
        state.state = "ok".into();
    }
    report(Status::Started {
        journal: journal.to_owned(),
        to: to.clone(),
        from_seq: state.seq,
    });
    let mut fw = Fwd {
        journal,
        pos_path,
        state,
        report,
        stop,
        unsynced: false,
        caught_up_at: None,
        reported_down: false,
        once,
    };
    // Running now, under this pid: what `handover` reads.
    fw.save()?;
    let mut waiter = Waiter::new(journal, IDLE);
    let mut link: Option<Link> = None;
    let how = loop {
        if stop.now() {
            break Stop::Asked;
        }
        let items = tail.read_up_to(BATCH_BYTES)?;
        if items.is_empty() {
            if once {
                break Stop::Done;
            }
            fw.idle()?;
            waiter.wait(IDLE);
            continue;
        }
        if ctx.roles.is_empty() {
            ctx.roles = items.iter().find_map(attach_roles).unwrap_or_default();
        }
        fw.state.roles.clone_from(&ctx.roles);
        fw.state.tz = Some(ctx.tz.name().to_owned());
        if let Some(h) = tail.head() {
            fw.state.session = Some(h.session.clone());
            fw.state.rehearsal = h.rehearsal;
        }
        let outs = messages(&items, &ctx);
        if !fw.deliver(target, &mut link, &outs)? {
            break Stop::Undelivered;
        }
    };
    // Stopped as asked (a signal, `--once`): said in the position, so `handover` does not take
    // it for a forwarder that died.
    fw.state.state = "stopped".into();
    fw.save()?;
    fw.sync()?;
    let undelivered = once && matches!(how, Stop::Undelivered);
    (fw.report)(Status::Stopped {
        journal: journal.to_owned(),
        seq: fw.state.seq,
        sent: fw.state.sent,
        how,
    });
    if undelivered {
        return Err(ForwardError::OnceUndelivered {
            journal: journal.to_owned(),
        });
    }
    Ok(())
}

/// The roles an `attach` item names.
fn attach_roles(i: &Item) -> Option<Vec<String>> {
    match i {
        Item::Event { event, .. } => match &event.action {
            Action::Attach { roles, .. } => Some(roles.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The messages for what the tail read: one per event, a notice before an event that sets aside
/// one already sent; nothing for a line that is not an event (it never counted).
fn messages(items: &[Item], ctx: &syslog::Journal) -> Vec<Out> {
    let mut out = Vec::new();
    let mut retracted: Vec<(u64, u64)> = Vec::new();
    for item in items {
        match item {
            Item::Retracted { line, seq } => retracted.push((*line, *seq)),
            Item::Unparsable { .. } => {}
            Item::Event { event, line, end } => {
                for (l, s) in retracted.drain(..) {
                    out.push(Out {
                        bytes: syslog::message(
                            syslog::What::Retracted {
                                seq: s,
                                line: l,
                                by: event,
                            },
                            ctx,
                        )
                        .into_bytes(),
                        after: None,
                        event: false,
                    });
                }
                out.push(Out {
                    bytes: syslog::message(syslog::What::Event(event), ctx).into_bytes(),
                    after: Some(Position {
                        offset: *end,
                        line: *line,
                        seq: event.seq,
                    }),
                    event: true,
                });
            }
        }
    }
    out
}

/// The forwarder's state while it runs.
struct Fwd<'a, 'b> {
    journal: &'a Path,
    pos_path: PathBuf,
    state: Saved,
    report: &'a mut dyn FnMut(Status),
    stop: &'a StopFlag<'b>,
    /// A position renamed into place but not yet fsync'd.
    unsynced: bool,
    /// The seq last reported as caught up.
    caught_up_at: Option<u64>,
    /// A `Down` was reported and no `Up` since.
    reported_down: bool,
    /// `--once`: a run from cron gives up on a collector that stays down (said, exit 1) rather
    /// than retrying until the next run finds it still holding the journal.
    once: bool,
}

impl Fwd<'_, '_> {
    fn save(&mut self) -> Result<(), ForwardError> {
        self.state.updated = crate::clock::wall_now();
        position::store(&self.pos_path, &self.state).map_err(|source| ForwardError::Io {
            journal: self.journal.to_owned(),
            what: "save the forwarding position",
            source,
        })?;
        self.unsynced = true;
        Ok(())
    }

    /// The state once `outs` are delivered, written to the position's temporary file: only the
    /// rename remains once the collector has them. None when they move no position (no event).
    fn prepare(&self, outs: &[Out]) -> Result<Option<(Saved, position::Prepared)>, ForwardError> {
        let Some(p) = outs.iter().rev().find_map(|o| o.after) else {
            return Ok(None);
        };
        let mut next = self.state.clone();
        next.offset = p.offset;
        next.line = p.line;
        next.seq = p.seq;
        next.sent += outs.iter().filter(|o| o.event).count() as u64;
        next.state = "ok".into();
        next.error = None;
        next.down_since = None;
        next.updated = crate::clock::wall_now();
        let prepared =
            position::prepare(&self.pos_path, &next).map_err(|source| ForwardError::Io {
                journal: self.journal.to_owned(),
                what: "save the forwarding position",
                source,
            })?;
        Ok(Some((next, prepared)))
    }

    /// The collector has them: rename the prepared position into place.
    fn commit(
        &mut self,
        prepared: Option<(Saved, position::Prepared)>,
    ) -> Result<(), ForwardError> {
        if let Some((next, p)) = prepared {
            p.commit().map_err(|source| ForwardError::Io {
                journal: self.journal.to_owned(),
                what: "save the forwarding position",
                source,
            })?;
            self.state = next;
            self.unsynced = true;
        }
        Ok(())
    }

    /// Make the position durable, if a rename since the last sync left it otherwise.
    fn sync(&mut self) -> Result<(), ForwardError> {
        if self.unsynced {
            position::sync(&self.pos_path).map_err(|source| ForwardError::Io {
                journal: self.journal.to_owned(),
                what: "save the forwarding position",
                source,
            })?;
            self.unsynced = false;
        }
        Ok(())
    }

    /// Nothing to send: make the position durable and say so once.
    fn idle(&mut self) -> Result<(), ForwardError> {
        self.sync()?;
        if self.caught_up_at != Some(self.state.seq) {
            self.caught_up_at = Some(self.state.seq);
            (self.report)(Status::CaughtUp {
                journal: self.journal.to_owned(),
                seq: self.state.seq,
                sent: self.state.sent,
            });
        }
        Ok(())
    }

    /// The collector did not take it: record and report the state, wait. False when told to stop.
    fn down(&mut self, e: &Undelivered, backoff: &mut Duration) -> Result<bool, ForwardError> {
        let was_down = self.state.state == "down";
        if !was_down || self.state.error.as_deref() != Some(e.0.as_str()) {
            self.state.state = "down".into();
            self.state.error = Some(e.0.clone());
            if !was_down {
                self.state.down_since = Some(crate::clock::wall_now());
            }
            self.save()?;
            self.reported_down = true;
            (self.report)(Status::Down {
                journal: self.journal.to_owned(),
                error: e.0.clone(),
                retry_in: *backoff,
            });
        }
        if self.once && *backoff > ONCE_PATIENCE {
            return Ok(false);
        }
        let stopped = self.stop.sleep(*backoff);
        *backoff = (*backoff * 2).min(BACKOFF_MAX);
        Ok(!stopped)
    }

    /// Delivered: if the collector was down, it is back (the committed position already says
    /// `ok` when it moved; a batch that moved none is saved here).
    fn up(&mut self) -> Result<(), ForwardError> {
        if self.state.state == "down" {
            self.state.state = "ok".into();
            self.state.error = None;
            self.state.down_since = None;
            self.save()?;
        }
        if self.reported_down {
            self.reported_down = false;
            (self.report)(Status::Up {
                journal: self.journal.to_owned(),
            });
        }
        Ok(())
    }

    /// Deliver `outs` in order, retrying each until the collector takes it. False when told to
    /// stop first (what was delivered is saved).
    fn deliver(
        &mut self,
        target: &Target,
        link: &mut Option<Link>,
        outs: &[Out],
    ) -> Result<bool, ForwardError> {
        let mut backoff = BACKOFF_START;
        let mut i = 0;
        while i < outs.len() {
            if self.stop.now() {
                return Ok(false);
            }
            let l = match link {
                Some(l) => l,
                None => match Link::new(target) {
                    Ok(l) => link.insert(l),
                    Err(e) => {
                        if !self.down(&e, &mut backoff)? {
                            return Ok(false);
                        }
                        continue;
                    }
                },
            };
            if l.per_message() {
                let prepared = self.prepare(&outs[i..=i])?;
                match l.send_one(&outs[i].bytes) {
                    Ok(()) => {
                        self.commit(prepared)?;
                        self.up()?;
                        i += 1;
                        backoff = BACKOFF_START;
                    }
                    Err(e) => {
                        drop(prepared);
                        // A new socket next time: a UDP socket keeps a refused port's error.
                        *link = None;
                        if !self.down(&e, &mut backoff)? {
                            return Ok(false);
                        }
                    }
                }
                continue;
            }
            let batch = &outs[i..outs.len().min(i + BATCH_MESSAGES)];
            let bytes: Vec<Vec<u8>> = batch.iter().map(|o| o.bytes.clone()).collect();
            let before = self.state.clone();
            let prepared = self.prepare(batch)?;
            let result = match l.write_batch(&bytes) {
                Ok(w) => {
                    // Written: the kernel delivers it even if this process dies now, so the
                    // position moves at once (the rename was prepared before the write); it is
                    // taken back if the collector does not confirm.
                    self.commit(prepared)?;
                    w.confirm()
                }
                Err(e) => {
                    drop(prepared);
                    Err(e)
                }
            };
            match result {
                Ok(()) => {
                    self.up()?;
                    i += batch.len();
                    backoff = BACKOFF_START;
                }
                Err(e) => {
                    if self.state.offset != before.offset {
                        // Not confirmed: the saved position goes back before the batch.
                        self.state = before;
                        self.save()?;
                    }
                    if !self.down(&e, &mut backoff)? {
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }
}

/// The journal's first event, read alone (at most 64 KiB): its roles and zone name the messages.
fn first_event(journal: &Path) -> Option<Event> {
    use std::io::Read;
    let f = crate::files::open_regular(journal).ok()?;
    let mut buf = Vec::new();
    f.take(64 * 1024).read_to_end(&mut buf).ok()?;
    let end = buf.iter().position(|&b| b == b'\n')?;
    serde_json::from_slice(&buf[..end]).ok()
}

/// One forwarder per journal and collector: an abstract Unix socket named for the journal's
/// device and inode and the collector, held while the forwarder runs. The system releases it
/// when the process ends, however it ends; nothing is created on disk.
fn lock(journal: &Path, to: &str) -> Result<std::os::unix::net::UnixListener, ForwardError> {
    use sha2::{Digest, Sha256};
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::fs::MetadataExt;
    let io = |what, source| ForwardError::Io {
        journal: journal.to_owned(),
        what,
        source,
    };
    let m = std::fs::metadata(journal).map_err(|e| io("read the journal", e))?;
    let h = Sha256::digest(to.as_bytes());
    let hex = crate::runbook::hex(&h[..6]);
    let name = format!("drillbook-forward-{:x}-{:x}-{hex}", m.dev(), m.ino());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
        .map_err(|e| io("lock the forwarding", e))?;
    std::os::unix::net::UnixListener::bind_addr(&addr).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            ForwardError::Busy {
                journal: journal.to_owned(),
                to: to.to_owned(),
            }
        } else {
            io("lock the forwarding", e)
        }
    })
}

/// `## Forwarding` for `handover`: each collector a journal goes to, from its position file:
/// what was delivered, whether the collector is down (since when, why), and whether the
/// forwarder still runs (when it runs on this host).
pub fn handover_section(journals: &[PathBuf], fmt: &crate::handover::Fmt) -> String {
    use std::fmt::Write as _;
    let mut lines = Vec::new();
    for j in journals {
        for p in position::beside(j) {
            let clean = |s: &str| crate::text::clean_line(s).into_owned();
            let line = match position::load(&p) {
                Ok(Some(s)) => {
                    let mut l = format!(
                        "- `{}` to `{}`: {} events delivered, up to #{} (position saved {})",
                        clean(&j.display().to_string()),
                        clean(&s.to),
                        s.sent,
                        s.seq,
                        fmt.at(s.updated)
                    );
                    if s.state == "down" {
                        let _ = write!(
                            l,
                            "; **collector down** since {}: {}",
                            s.down_since.map_or_else(|| "?".into(), |t| fmt.at(t)),
                            clean(s.error.as_deref().unwrap_or("unknown"))
                        );
                    }
                    if s.state == "stopped" {
                        l.push_str(
                            "; the forwarder was stopped: started again, it resumes from here",
                        );
                    } else if s.host == crate::journal::hostname() && !running(s.pid) {
                        let _ = write!(
                            l,
                            "; **the forwarder (pid {}) is not running** (killed?): start `drillbook forward` again, it resumes from here",
                            s.pid
                        );
                    }
                    l
                }
                Ok(None) => continue,
                Err(e) => format!("- {}", clean(&e.to_string())),
            };
            lines.push(line);
        }
    }
    if lines.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n## Forwarding\n\n");
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

fn running(pid: u32) -> bool {
    pid != 0 && Path::new(&format!("/proc/{pid}")).exists()
}
