//! Following a journal as it grows: an incremental reader from the last offset, for every
//! follower (`log --follow`, `watch`, the syslog forwarder).
//!
//! Each call reads only the bytes appended since the last one (`pread` from the offset), so the
//! cost of a new event does not grow with the journal's size. A last line without its newline
//! (a write in progress, or torn) is kept aside until it completes. What a follower cannot go on
//! from is said and ends the tail: the file replaced (another inode now has the name), removed,
//! or truncated under the reader; events that do not follow on (a gap in `seq`, another session,
//! rehearsal and real mixed, a newer format).
//!
//! The file is opened by the rules of [`crate::files`] (regular files only, opened without
//! blocking) and read no further than [`super::READ_CAP`], a line no longer than [`LINE_CAP`].
//! [`Waiter`] sleeps until the file may have changed (inotify where the system has it, and a
//! periodic look in any case, which also covers network file systems), and [`spawn`] runs a tail
//! on a thread of its own feeding a channel, for async code and off the UI thread.

use super::event::{Action, Event};
use super::{JournalError, READ_CAP};
use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The longest line a tail accepts: a day's events are under 1 KiB each; a longer "line" is not
/// a journal being written, and holding it would cost unbounded memory.
pub const LINE_CAP: usize = 16 * 1024 * 1024;

/// How much is read per `pread`: large enough to catch up quickly, small enough to bound memory.
const CHUNK: usize = 1 << 20;

/// How many recently read lines are remembered, to recognise one that a writer later sets aside.
/// A writer sets aside only lines written after its last acknowledged append, so the lines
/// concerned are always among the newest.
const RECENT: usize = 64;

/// Where a follower stands: just after the last complete line it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Bytes up to and including the newline of the last line taken.
    pub offset: u64,
    /// Complete lines taken (the 1-based number of the last one).
    pub line: u64,
    /// `seq` of the last event taken (0 before the first).
    pub seq: u64,
}

/// What a tail read.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// An event, with the 1-based line it is on and the offset just past it.
    Event {
        event: Box<Event>,
        line: u64,
        end: u64,
    },
    /// A complete line that is not an event: a torn write that a writer completed with its
    /// recovery (the next writer's `torn_set_aside` names it). Left out, as replay leaves it out.
    Unparsable {
        line: u64,
        bytes: u64,
        reason: String,
        end: u64,
    },
    /// An event read earlier that the writer has since set aside (it was written whole but its
    /// fsync failed, so it was never acknowledged): it does not count. Comes just before the
    /// `torn_set_aside` event that says so.
    Retracted { line: u64, seq: u64 },
}

impl Item {
    /// The offset just past this item's line, where a follower that handled it resumes.
    pub fn end(&self) -> Option<u64> {
        match self {
            Item::Event { end, .. } | Item::Unparsable { end, .. } => Some(*end),
            Item::Retracted { .. } => None,
        }
    }
}

/// Why a tail stopped. Each is final: the follower says so and stops (the follower says
/// "stopped following" in its own words; the message says only what happened).
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    /// The journal cannot be opened by the rules for files (a FIFO, a device, a folder...).
    #[error("{}: {reason}", .path.display())]
    Refused { path: PathBuf, reason: String },
    #[error("{}: cannot read the journal: {}", .path.display(), crate::files::io_words(.source))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The name now leads to another file (renamed over, or deleted and created anew).
    #[error(
        "{}: the journal was replaced by another file (its name now leads to a new file; a journal \
         is only ever appended to: start again on the new file if that is intended)",
        .path.display()
    )]
    Replaced { path: PathBuf },
    /// The name leads nowhere any more.
    #[error(
        "{}: the journal was removed (renamed or deleted)",
        .path.display()
    )]
    Removed { path: PathBuf },
    /// The file is shorter than what was already read: truncated or rewritten in place.
    #[error(
        "{}: the journal shrank from {had} to {now} bytes under the reader: it was truncated or rewritten",
        .path.display()
    )]
    Truncated { path: PathBuf, had: u64, now: u64 },
    /// A line longer than [`LINE_CAP`], or a file past [`READ_CAP`].
    #[error(
        "{}:{line}: a line longer than {} MiB, or a journal past {} MiB: not a journal being written",
        .path.display(),
        LINE_CAP >> 20,
        READ_CAP >> 20
    )]
    TooLarge { path: PathBuf, line: u64 },
    /// Where a follower resumes does not match the file: not the journal it read before.
    #[error("{}: the saved position does not match the journal: {reason}", .path.display())]
    PositionMismatch { path: PathBuf, reason: String },
    /// Events that do not follow on: a gap, another session, rehearsal and real mixed, a newer
    /// format (the same errors and messages as replay).
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// What the first event said, which every later one must agree with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub session: String,
    pub rehearsal: bool,
}

impl Head {
    /// What `first` says every later event must agree with.
    pub fn of(first: &Event) -> Head {
        Head {
            session: first.session.clone(),
            rehearsal: first.rehearsal.is_some(),
        }
    }
}

/// An incremental reader of one journal.
#[derive(Debug)]
pub struct Tail {
    path: PathBuf,
    file: File,
    /// Device and inode of the file opened: the journal this tail follows.
    id: (u64, u64),
    pos: Position,
    /// Bytes read past `pos.offset`: the start of a line not yet complete.
    pending: Vec<u8>,
    head: Option<Head>,
    /// (line, seq) of the newest events read, to recognise one set aside later.
    recent: VecDeque<(u64, u64)>,
    /// A stop found after items were read in the same call: reported by the next call.
    stopped: Option<TailError>,
}

impl Tail {
    /// Follow `path` from its first byte.
    pub fn open(path: &Path) -> Result<Self, TailError> {
        Self::open_at(path, Position::default(), None)
    }

    /// Follow `path` from `pos`, taken earlier by a tail of the same journal (its `seq` and, when
    /// known, what its first event said). The line ending at `pos.offset` is read back and must be
    /// the event `pos.seq`: a position saved for another file, or a journal rewritten since, is
    /// refused rather than read from the middle of a line.
    pub fn open_at(path: &Path, pos: Position, head: Option<Head>) -> Result<Self, TailError> {
        let file = crate::files::open_regular(path).map_err(|e| match e {
            crate::files::FileError::Io(source) => TailError::Io {
                path: path.into(),
                source,
            },
            other => TailError::Refused {
                path: path.into(),
                reason: other.to_string(),
            },
        })?;
        let meta = file.metadata().map_err(|source| TailError::Io {
            path: path.into(),
            source,
        })?;
        let mut tail = Self {
            path: path.into(),
            file,
            id: (meta.dev(), meta.ino()),
            pos,
            pending: Vec::new(),
            head,
            recent: VecDeque::new(),
            stopped: None,
        };
        if pos.offset > 0 {
            tail.check_position(meta.len())?;
        }
        Ok(tail)
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the tail stands: just past the last complete line read.
    pub fn position(&self) -> Position {
        self.pos
    }

    /// What the journal's first event said (None before it was read).
    pub fn head(&self) -> Option<&Head> {
        self.head.as_ref()
    }

    /// Bytes of a line not yet complete (a write in progress, or a torn one).
    pub fn pending_bytes(&self) -> usize {
        self.pending.len()
    }

    /// The event before `pos.offset` must be `pos.seq`, and end with a newline at the offset.
    fn check_position(&mut self, len: u64) -> Result<(), TailError> {
        let mismatch = |reason: String| TailError::PositionMismatch {
            path: self.path.clone(),
            reason,
        };
        let pos = self.pos;
        if len < pos.offset {
            return Err(mismatch(format!(
                "it was read up to byte {} and now holds {len} bytes (truncated, or another file)",
                pos.offset
            )));
        }
        // Read back the line ending at the offset: at most LINE_CAP bytes, in chunks from the end.
        let mut start = pos.offset;
        let mut line = Vec::new();
        loop {
            let from = start.saturating_sub(CHUNK as u64);
            let mut buf = vec![0u8; (start - from) as usize];
            self.file
                .read_exact_at(&mut buf, from)
                .map_err(|source| TailError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            if start == pos.offset && buf.last() != Some(&b'\n') {
                return Err(mismatch(format!(
                    "byte {} is not the end of a line",
                    pos.offset
                )));
            }
            // Leave out the newline that ends the line itself.
            let body_end = if start == pos.offset {
                buf.len() - 1
            } else {
                buf.len()
            };
            let nl = buf[..body_end].iter().rposition(|&b| b == b'\n');
            let from_here = nl.map_or(0, |i| i + 1);
            let mut l = buf[from_here..body_end].to_vec();
            l.extend_from_slice(&line);
            line = l;
            if nl.is_some() || from == 0 {
                break;
            }
            start = from;
            if line.len() > LINE_CAP {
                return Err(mismatch("the line before it is too long".into()));
            }
        }
        let ev: Event = serde_json::from_slice(&line).map_err(|_| {
            mismatch(format!(
                "the line before byte {} is not an event",
                pos.offset
            ))
        })?;
        if ev.seq != pos.seq {
            return Err(mismatch(format!(
                "the event before byte {} is #{}, not #{} as saved",
                pos.offset, ev.seq, pos.seq
            )));
        }
        let head = Head::of(&ev);
        if let Some(h) = &self.head
            && *h != head
        {
            return Err(mismatch(format!(
                "its events are for session `{}`{}, not `{}`{} as saved",
                crate::text::clean_line(&head.session),
                if head.rehearsal { " (rehearsal)" } else { "" },
                crate::text::clean_line(&h.session),
                if h.rehearsal { " (rehearsal)" } else { "" },
            )));
        }
        self.head = Some(head);
        self.recent.push_back((pos.line, pos.seq));
        Ok(())
    }

    /// Everything appended since the last call, up to the end of the last complete line.
    pub fn read_new(&mut self) -> Result<Vec<Item>, TailError> {
        self.read_up_to(u64::MAX)
    }

    /// As [`read_new`](Self::read_new), reading at most about `max_bytes` this call (the rest
    /// waits for the next): a follower far behind catches up in bounded steps.
    pub fn read_up_to(&mut self, max_bytes: u64) -> Result<Vec<Item>, TailError> {
        if let Some(e) = self.stopped.take() {
            return Err(e);
        }
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| TailError::Io { path, source }
        };
        let len = self.file.metadata().map_err(io(&self.path))?.len();
        let have = self.pos.offset + self.pending.len() as u64;
        if len < have {
            return Err(TailError::Truncated {
                path: self.path.clone(),
                had: have,
                now: len,
            });
        }
        let mut items = Vec::new();
        let mut at = have;
        let until = len.min(have.saturating_add(max_bytes));
        while at < until {
            if at >= READ_CAP {
                return Err(TailError::TooLarge {
                    path: self.path.clone(),
                    line: self.pos.line + 1,
                });
            }
            let n = ((until - at) as usize).min(CHUNK);
            let mut buf = vec![0u8; n];
            let got = self.file.read_at(&mut buf, at).map_err(io(&self.path))?;
            if got == 0 {
                break;
            }
            buf.truncate(got);
            at += got as u64;
            self.take_lines(&buf, &mut items)?;
        }
        // Read what is there first, then look whether the name still leads to this file: events
        // appended before a replacement are still this journal's.
        if let Err(e) = self.check_identity() {
            if items.is_empty() {
                return Err(e);
            }
            self.stopped = Some(e);
        }
        Ok(items)
    }

    /// Whether bytes are waiting past what was read (a follower reading in steps is behind).
    pub fn behind(&self) -> bool {
        self.file
            .metadata()
            .is_ok_and(|m| m.len() > self.pos.offset + self.pending.len() as u64)
    }

    fn check_identity(&self) -> Result<(), TailError> {
        match std::fs::metadata(&self.path) {
            Ok(m) if (m.dev(), m.ino()) == self.id => Ok(()),
            Ok(_) => Err(TailError::Replaced {
                path: self.path.clone(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(TailError::Removed {
                path: self.path.clone(),
            }),
            Err(source) => Err(TailError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Split `buf` (following `pending`) into complete lines and turn each into an item.
    fn take_lines(&mut self, buf: &[u8], items: &mut Vec<Item>) -> Result<(), TailError> {
        let mut rest = buf;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let line = if self.pending.is_empty() {
                std::borrow::Cow::Borrowed(&rest[..nl])
            } else {
                let mut l = std::mem::take(&mut self.pending);
                l.extend_from_slice(&rest[..nl]);
                std::borrow::Cow::Owned(l)
            };
            rest = &rest[nl + 1..];
            let bytes = line.len() as u64 + 1;
            self.pos.offset += bytes;
            self.pos.line += 1;
            self.take_line(&line, bytes, items)?;
        }
        if self.pending.len() + rest.len() > LINE_CAP {
            return Err(TailError::TooLarge {
                path: self.path.clone(),
                line: self.pos.line + 1,
            });
        }
        self.pending.extend_from_slice(rest);
        Ok(())
    }

    fn take_line(
        &mut self,
        line: &[u8],
        bytes: u64,
        items: &mut Vec<Item>,
    ) -> Result<(), TailError> {
        let (line_no, end) = (self.pos.line, self.pos.offset);
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let ev = match serde_json::from_slice::<Event>(line) {
            Ok(ev) => ev,
            Err(e) => {
                super::newer_format(&self.path, line_no, line, None)?;
                items.push(Item::Unparsable {
                    line: line_no,
                    bytes,
                    reason: super::event::plain_error(&e),
                    end,
                });
                return Ok(());
            }
        };
        super::newer_format(&self.path, line_no, line, Some(ev.v))?;
        // A line set aside after it was read as an event: it never counted. The writer reuses
        // its `seq` for the events that follow, so the sequence goes on from before it.
        // A second failed recovery sets aside the first recovery's events too, reusing the same
        // numbers again: a set-aside event may take the sequence back, never forward.
        if let Action::TornSetAside { line: aside, .. } = ev.action {
            if let Some(&(_, seq)) = self.recent.iter().find(|(l, _)| *l == aside) {
                items.push(Item::Retracted { line: aside, seq });
                self.recent.retain(|(l, _)| *l != aside);
            }
            if ev.seq <= self.pos.seq {
                self.pos.seq = ev.seq.saturating_sub(1);
            }
        }
        self.check_follows(&ev, line_no)?;
        self.pos.seq = ev.seq;
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back((line_no, ev.seq));
        items.push(Item::Event {
            event: Box::new(ev),
            line: line_no,
            end,
        });
        Ok(())
    }

    /// The checks replay makes between consecutive events, with its messages; the first event
    /// read becomes the head the others must agree with.
    fn check_follows(&mut self, ev: &Event, line: u64) -> Result<(), TailError> {
        super::check_continues(&self.path, line, self.head.as_ref(), self.pos.seq, ev)?;
        if self.head.is_none() {
            self.head = Some(Head::of(ev));
        }
        Ok(())
    }
}

/// Sleeps until a file may have changed: woken by inotify when the system offers it (no wake-up
/// while nothing happens), and in any case after `fallback`, which also covers what inotify does
/// not see (a journal on a network file system written from another host).
#[derive(Debug)]
pub struct Waiter {
    inotify: Option<std::os::fd::OwnedFd>,
    fallback: Duration,
}

impl Waiter {
    /// Watch `path` (the file, and its folder for a file renamed into place).
    pub fn new(path: &Path, fallback: Duration) -> Self {
        Self {
            inotify: inotify_on(path),
            fallback,
        }
    }

    /// Whether the system's change notification is in use (else: a look every `fallback`).
    pub fn notified(&self) -> bool {
        self.inotify.is_some()
    }

    /// Return when the file may have changed, or after `at_most` (and never later than the
    /// fallback period).
    pub fn wait(&mut self, at_most: Duration) {
        use std::os::fd::AsRawFd;
        let timeout = at_most.min(self.fallback);
        let Some(fd) = &self.inotify else {
            std::thread::sleep(timeout);
            return;
        };
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one pollfd we own; poll only writes its revents.
        let rc = unsafe { libc::poll(&raw mut pfd, 1, ms) };
        if rc > 0 {
            // Drain what is queued: the events only say "look again".
            let mut buf = [0u8; 4096];
            // SAFETY: reading into a buffer we own from a non-blocking descriptor we own.
            while unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
        }
    }
}

/// An inotify descriptor watching `path` for writes, attribute and link changes, a move or a
/// deletion, and its folder for a file created or moved in; None where that is not possible.
fn inotify_on(path: &Path) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: inotify_init1 returns a new descriptor or -1.
    let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
    if raw < 0 {
        return None;
    }
    // SAFETY: `raw` is a descriptor we just created and own from here on.
    let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
    let add = |p: &Path, mask: u32| -> bool {
        let Ok(c) = std::ffi::CString::new(p.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: a NUL-terminated path and a descriptor we own.
        unsafe { libc::inotify_add_watch(raw, c.as_ptr(), mask) >= 0 }
    };
    let file_mask = libc::IN_MODIFY | libc::IN_ATTRIB | libc::IN_MOVE_SELF | libc::IN_DELETE_SELF;
    if !add(path, file_mask) {
        return None;
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Without the folder's watch a rename over the file is still seen (IN_ATTRIB on the old one).
    let _ = add(dir, libc::IN_CREATE | libc::IN_MOVED_TO | libc::IN_DELETE);
    Some(fd)
}

/// What a tail thread sends.
#[derive(Debug)]
pub enum Followed {
    Items(Vec<Item>),
    /// The tail stopped: the reason, said once; nothing follows.
    Stopped(TailError),
}

/// Follow `tail` on a thread of its own, sending what it reads into `tx` (for async code and for
/// a UI loop: neither waits on the file). The thread ends when the tail stops (after sending
/// why) or when the receiver is dropped, within `fallback`.
pub fn spawn(
    mut tail: Tail,
    fallback: Duration,
    tx: tokio::sync::mpsc::Sender<Followed>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("journal-tail".into())
        .spawn(move || {
            let mut waiter = Waiter::new(tail.path(), fallback);
            loop {
                match tail.read_up_to(CHUNK as u64 * 4) {
                    Ok(items) if items.is_empty() => {}
                    Ok(items) => {
                        if tx.blocking_send(Followed::Items(items)).is_err() {
                            return;
                        }
                        if tail.behind() {
                            continue;
                        }
                    }
                    Err(e) => {
                        let _ = tx.blocking_send(Followed::Stopped(e));
                        return;
                    }
                }
                if tx.is_closed() {
                    return;
                }
                waiter.wait(fallback);
            }
        })
}

#[cfg(test)]
mod tests;
