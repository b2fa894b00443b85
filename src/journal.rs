//! The action log: an append-only JSON Lines file per session and role set.
//!
//! Write-ahead: an action is appended and fsync'd before anyone shows it as recorded. One writer:
//! an exclusive lock on a sidecar `JOURNAL.lock` naming the holder. Replay folds the events into a
//! [`Record`]; a torn last line (power lost mid-write) is reported and set aside, never fatal,
//! never overwritten: the next writer terminates it and records a `torn_set_aside` event, so the
//! file stays an honest, append-only history.

pub mod event;
pub mod handover;
pub mod record;
pub mod report;

pub use event::{Action, Event, Rehearsal, StepState};
pub use record::Record;

use crate::clock::Clock;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The journal format this build writes and reads.
pub const FORMAT: u32 = 1;

/// Who writes, about what: stamped on every event.
#[derive(Debug, Clone)]
pub struct Meta {
    pub operator: String,
    pub host: String,
    pub session: String,
    pub runbooks: Vec<String>,
    pub roles: Vec<String>,
    pub sha256: String,
    pub tz: Tz,
}

impl Meta {
    /// Meta for a plan, with the operator from `--operator`, else `$USER`.
    pub fn for_plan(plan: &crate::runbook::Plan, operator: Option<&str>) -> Self {
        Self {
            operator: operator.map_or_else(default_operator, str::to_owned),
            host: hostname(),
            session: plan.session.id.clone(),
            runbooks: plan.runbooks.iter().map(|r| r.id.clone()).collect(),
            roles: plan.roles(),
            sha256: plan.content_hash(),
            tz: plan.session.tz,
        }
    }
}

pub fn default_operator() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into a buffer we own.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown-host".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The default journal path: `$XDG_STATE_HOME/drillbook/SESSION--ROLES.jsonl`, else under
/// `~/.local/state`. A rehearsal started at `t` gets a file of its own,
/// `SESSION--ROLES.rehearsal-YYYYMMDDTHHMMSSZ.jsonl`, so no rehearsal ever lands in the real record
/// and each rehearsal's report stands alone.
pub fn default_path(session: &str, roles: &[String], rehearsal: Option<DateTime<Utc>>) -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("."));
    let suffix = rehearsal.map_or_else(String::new, |t| {
        format!(".rehearsal-{}", t.format("%Y%m%dT%H%M%SZ"))
    });
    base.join("drillbook")
        .join(format!("{session}--{}{suffix}.jsonl", roles.join("+")))
}

/// Why a journal could not be opened or read.
#[derive(Debug)]
pub enum JournalError {
    Io {
        path: PathBuf,
        what: &'static str,
        source: std::io::Error,
    },
    /// Another process holds the write lock.
    Locked { path: PathBuf, holder: String },
    /// A line in the middle is not a journal event.
    NotJournal {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    /// Written by a newer drillbook.
    NewerFormat {
        path: PathBuf,
        line: u64,
        version: u64,
    },
    /// Events are missing: the journal was cut at the front or lines were removed.
    Gap {
        path: PathBuf,
        line: u64,
        expected: u64,
        found: u64,
    },
    /// Events of two sessions in one file.
    MixedSessions {
        path: PathBuf,
        line: u64,
        first: String,
        found: String,
    },
    /// Rehearsal and real events in one file: a rehearsal must never pass for the real record.
    MixedRehearsal { path: PathBuf, line: u64, seq: u64 },
    /// Written for another session.
    OtherSession {
        path: PathBuf,
        found: String,
        expected: String,
    },
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::Io { path, what, source } => {
                write!(f, "{}: cannot {what}: {source}", path.display())
            }
            JournalError::Locked { path, holder } => write!(
                f,
                "{}: another drillbook is recording in this journal ({holder}).\nOnly one writer at a time: follow it read-only with `drillbook watch {}`",
                path.display(),
                path.display()
            ),
            JournalError::NotJournal { path, line, reason } => {
                write!(
                    f,
                    "{}:{line}: not a drillbook journal line: {reason}",
                    path.display()
                )
            }
            JournalError::NewerFormat {
                path,
                line,
                version,
            } => write!(
                f,
                "{}:{line}: written in journal format {version}; this drillbook reads format {FORMAT}: upgrade drillbook",
                path.display()
            ),
            JournalError::Gap {
                path,
                line,
                expected,
                found,
            } => {
                if *expected == 1 {
                    write!(
                        f,
                        "{}:{line}: the journal starts at event #{found}: its beginning is missing (truncated or cut); it cannot be replayed",
                        path.display()
                    )
                } else {
                    write!(
                        f,
                        "{}:{line}: event #{found} where #{expected} was expected: events are missing (truncated or edited); it cannot be replayed",
                        path.display()
                    )
                }
            }
            JournalError::MixedSessions {
                path,
                line,
                first,
                found,
            } => write!(
                f,
                "{}:{line}: an event for session `{}` in a journal for session `{}`: journals of two sessions were mixed",
                path.display(),
                crate::text::clean_line(found),
                crate::text::clean_line(first)
            ),
            JournalError::MixedRehearsal { path, line, seq } => write!(
                f,
                "{}:{line}: the journal mixes rehearsal and real events (event #{seq} differs from event #1); \
                 a rehearsal must never pass for the real record, so it is not read",
                path.display()
            ),
            JournalError::OtherSession {
                path,
                found,
                expected,
            } => write!(
                f,
                "{}: this journal is for session `{}`, not `{}`: name another journal with --journal",
                path.display(),
                crate::text::clean_line(found),
                crate::text::clean_line(expected)
            ),
        }
    }
}

impl std::error::Error for JournalError {}

/// A torn last line found on replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Torn {
    /// 1-based line number.
    pub line: u64,
    pub bytes: u64,
}

/// What replaying a journal found.
#[derive(Debug, Default)]
pub struct Replay {
    /// The events in file order: all of them from [`read`] and [`parse`]; the newest few hundred
    /// from [`Journal::open`], whose record holds the rest.
    pub events: Vec<Event>,
    pub record: Record,
    pub torn: Option<Torn>,
    /// The runbook content hash the journal was written with, when it differs from the current one.
    pub hash_mismatch: Option<String>,
    /// Newline-terminated lines in the file.
    lines: u64,
    /// Byte length up to and including the last newline.
    good_len: u64,
    /// The first event: what the journal was written for.
    head: Option<Event>,
    /// The runbook hashes the events carry, each once, the most recently seen last.
    shas: Vec<String>,
}

impl Replay {
    /// "resumed 14 actions, last at 09:41:07 HKT by alice@host", or None for a new journal.
    pub fn resumed_summary(&self, tz: Tz) -> Option<String> {
        let last = self.record.last.as_ref()?;
        Some(format!(
            "resumed {} action{}, last at {} by {}",
            self.record.actions,
            if self.record.actions == 1 { "" } else { "s" },
            crate::zones::hms(last.at, tz),
            crate::text::clean_line(&last.who())
        ))
    }

    /// The session id the journal was written for, from its first event.
    pub fn session(&self) -> Option<&str> {
        self.head.as_ref().map(|e| e.session.as_str())
    }

    /// Byte length up to and including the last newline: where `log --follow` reads on from.
    pub fn good_len(&self) -> u64 {
        self.good_len
    }

    /// Whether the journal is a rehearsal journal.
    pub fn is_rehearsal(&self) -> bool {
        self.head.as_ref().is_some_and(|e| e.rehearsal.is_some())
    }

    /// The newest runbook hash in the journal other than `current`, if any.
    pub fn other_hash(&self, current: &str) -> Option<&str> {
        self.shas
            .iter()
            .rev()
            .find(|h| *h != current)
            .map(String::as_str)
    }
}

/// Parse a journal's bytes. Unparsable lines are errors, except a torn last line and lines a
/// later `torn_set_aside` event accounts for (those are left out of the replay, even when they
/// parse: a line whose fsync failed was reported as not recorded, so it must not count).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Replay, JournalError> {
    parse_keeping(path, bytes, usize::MAX)
}

/// How many of the newest events the writer keeps from a replay: what the app's journal pane
/// shows, with room. The record holds everything else; a long journal is not held twice.
const WRITER_TAIL: usize = 256;

/// [`parse`], folding each event as it is read and keeping only the newest `keep` events in
/// `Replay::events` (the first one is kept apart, for what the journal was written for).
fn parse_keeping(path: &Path, bytes: &[u8], keep: usize) -> Result<Replay, JournalError> {
    let mut replay = Replay::default();
    let aside = set_aside_lines(bytes);
    // Sized once: events are large, and growing (or moving) 100,000 of them costs more than
    // counting the lines first.
    #[allow(clippy::naive_bytecount)]
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    let mut tail: std::collections::VecDeque<Event> =
        std::collections::VecDeque::with_capacity(lines.min(keep.saturating_add(1)));
    // Keeping every event, they are folded after reading: interleaving the record's allocations
    // with the events' made glibc's allocator work much harder (100,000 events: 240 ms against
    // 170 ms). Keeping a tail, each event is folded as it is read, so the rest can be dropped.
    let streaming = keep != usize::MAX;
    let mut last_seq = 0u64;
    // A line that does not parse is fatal unless it turns out to be the last one (torn).
    let mut bad: Option<(u64, String, usize)> = None;
    let mut pos = 0usize;
    let mut line_no = 0u64;
    while pos < bytes.len() {
        line_no += 1;
        let start = pos;
        let (line, terminated) = match memchr_nl(&bytes[pos..]) {
            Some(n) => (&bytes[pos..pos + n], true),
            None => (&bytes[pos..], false),
        };
        pos += line.len() + usize::from(terminated);
        if terminated {
            replay.good_len = pos as u64;
            replay.lines = line_no;
        }
        if line.iter().all(u8::is_ascii_whitespace) || aside.contains(&line_no) {
            continue;
        }
        if let Some((l, reason, _)) = bad.take() {
            return Err(JournalError::NotJournal {
                path: path.into(),
                line: l,
                reason,
            });
        }
        let ev = match serde_json::from_slice::<Event>(line) {
            Ok(ev) => ev,
            Err(e) => {
                if let Some(v) = newer_version(line) {
                    return Err(JournalError::NewerFormat {
                        path: path.into(),
                        line: line_no,
                        version: v,
                    });
                }
                bad = Some((line_no, event::plain_error(&e), start));
                continue;
            }
        };
        if ev.v > FORMAT {
            return Err(JournalError::NewerFormat {
                path: path.into(),
                line: line_no,
                version: u64::from(ev.v),
            });
        }
        check_continues(path, line_no, replay.head.as_ref(), last_seq, &ev)?;
        last_seq = ev.seq;
        if replay.shas.last() != Some(&ev.sha256) {
            replay.shas.retain(|h| *h != ev.sha256);
            replay.shas.push(ev.sha256.clone());
        }
        if streaming {
            replay.record.fold(&ev);
        }
        if replay.head.is_none() {
            replay.head = Some(ev.clone());
        }
        if tail.len() == keep {
            tail.pop_front();
        }
        tail.push_back(ev);
    }
    if let Some((line, _, start)) = bad {
        replay.torn = Some(Torn {
            line,
            bytes: (bytes.len() - start) as u64,
        });
    }
    replay.events = tail.into();
    if !streaming {
        for ev in &replay.events {
            replay.record.fold(ev);
        }
    }
    replay.record.last = replay.events.last().map(record::Stamp::of);
    Ok(replay)
}

/// The lines `torn_set_aside` events account for. Found first, by a cheap search, because the
/// event that sets a line aside comes after it.
fn set_aside_lines(bytes: &[u8]) -> Vec<u64> {
    const NEEDLE: &str = "\"torn_set_aside\"";
    // str's substring search is much faster than comparing byte windows. A torn fragment may
    // cut a character in two: then a lossy copy, which keeps every newline where it was.
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    if !text.contains(NEEDLE) {
        return Vec::new();
    }
    text.lines()
        .filter(|l| l.contains(NEEDLE))
        .filter_map(|l| serde_json::from_str::<Event>(l).ok())
        .filter_map(|e| match e.action {
            Action::TornSetAside { line, .. } => Some(line),
            _ => None,
        })
        .collect()
}

/// An event must follow the one before it: the next sequence number, the same session, and
/// rehearsal or real as the first event was.
fn check_continues(
    path: &Path,
    line: u64,
    head: Option<&Event>,
    last_seq: u64,
    ev: &Event,
) -> Result<(), JournalError> {
    let expected = last_seq + 1;
    if ev.seq != expected {
        return Err(JournalError::Gap {
            path: path.into(),
            line,
            expected,
            found: ev.seq,
        });
    }
    let Some(first) = head else {
        return Ok(());
    };
    if first.rehearsal.is_some() != ev.rehearsal.is_some() {
        return Err(JournalError::MixedRehearsal {
            path: path.into(),
            line,
            seq: ev.seq,
        });
    }
    if first.session != ev.session {
        return Err(JournalError::MixedSessions {
            path: path.into(),
            line,
            first: first.session.clone(),
            found: ev.session.clone(),
        });
    }
    Ok(())
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

fn newer_version(line: &[u8]) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    v.get("v")?.as_u64().filter(|&v| v > u64::from(FORMAT))
}

/// Read and replay a journal without writing or locking it (log, handover, report, watch).
pub fn read(path: &Path) -> Result<Replay, JournalError> {
    let bytes = std::fs::read(path).map_err(|source| JournalError::Io {
        path: path.into(),
        what: "read the journal",
        source,
    })?;
    parse(path, &bytes)
}

/// The one writer of a journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// Held for the life of the writer; the OS releases it when the process dies, SIGKILL included.
    _lock: File,
    meta: Meta,
    next_seq: u64,
    lines: u64,
    /// The file length after the last acknowledged append.
    len: u64,
    /// A complete but unparsable last line found at open, to be set aside by the next append.
    /// Unparsable lines (a torn tail, fragments of failed writes) still to be set aside, in order.
    pending_aside: Vec<Torn>,
    /// Whether the journal holds rehearsal events (None while empty): a writer never mixes the
    /// two, because a mixed journal is refused by every reader.
    rehearsal: Option<bool>,
}

impl Journal {
    /// Open (creating it and its folder if needed), lock, and replay. The caller decides what to do
    /// with a hash mismatch, reported in the replay.
    pub fn open(path: &Path, meta: Meta) -> Result<(Self, Replay), JournalError> {
        let io = |what: &'static str| {
            move |source| JournalError::Io {
                path: path.into(),
                what,
                source,
            }
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io("create the journal's folder"))?;
        }
        let lock_path = lock_path(path);
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io("open the journal's lock file"))?;
        if let Err(e) = lock.try_lock() {
            return Err(match e {
                std::fs::TryLockError::WouldBlock => {
                    let mut holder = String::new();
                    let _ = lock.read_to_string(&mut holder);
                    let holder = crate::text::clean_line(holder.trim()).into_owned();
                    JournalError::Locked {
                        path: path.into(),
                        holder: if holder.is_empty() {
                            "holder unknown".into()
                        } else {
                            holder
                        },
                    }
                }
                std::fs::TryLockError::Error(source) => JournalError::Io {
                    path: path.into(),
                    what: "lock the journal",
                    source,
                },
            });
        }
        let holder = format!(
            "{}@{}, pid {}",
            meta.operator,
            meta.host,
            std::process::id()
        );
        let _ = lock
            .set_len(0)
            .and_then(|()| lock.seek(SeekFrom::Start(0)))
            .and_then(|_| lock.write_all(holder.as_bytes()));

        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io("open the journal for appending"))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(io("read the journal"))?;
        let mut replay = parse_keeping(path, &bytes, WRITER_TAIL)?;
        let file_len = bytes.len() as u64;
        drop(bytes);
        if let Some(found) = replay.session()
            && found != meta.session
        {
            return Err(JournalError::OtherSession {
                path: path.into(),
                found: found.to_owned(),
                expected: meta.session.clone(),
            });
        }
        replay.hash_mismatch = replay.other_hash(&meta.sha256).map(str::to_owned);
        let next_seq = replay.events.last().map_or(1, |e| e.seq + 1);
        // An unterminated torn tail is found by `append` (the file is longer than `len`); a
        // terminated but unparsable last line has to be remembered here.
        let pending_aside: Vec<Torn> = replay
            .torn
            .clone()
            .filter(|_| replay.good_len == file_len)
            .into_iter()
            .collect();
        let journal = Self {
            path: path.into(),
            file,
            _lock: lock,
            meta,
            next_seq,
            lines: replay.lines,
            len: replay.good_len,
            pending_aside,
            rehearsal: replay.head.as_ref().map(|e| e.rehearsal.is_some()),
        };
        Ok((journal, replay))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Append one action and fsync it. Only when this returns `Ok` may the action be shown as
    /// recorded. After a failed write the next append first sets aside whatever fragment it left.
    pub fn append(&mut self, action: Action, clock: &dyn Clock) -> std::io::Result<Event> {
        let rehearsal = clock.rehearsal().is_some();
        if self.rehearsal.is_some_and(|r| r != rehearsal) {
            return Err(std::io::Error::other(if rehearsal {
                "a rehearsal event cannot go into a journal of the real session"
            } else {
                "a real event cannot go into a rehearsal journal"
            }));
        }
        self.rehearsal = Some(rehearsal);
        let actual = self.file.metadata()?.len();
        if actual > self.len {
            // A fragment from a torn or failed write (or a whole line whose fsync failed, which
            // was reported as not recorded): terminate it, and set it aside in the record.
            let mut last = [0u8; 1];
            self.file.read_exact_at(&mut last, actual - 1)?;
            let terminated = last[0] == b'\n';
            if !terminated {
                self.file.write_all(b"\n")?;
            }
            self.lines += 1;
            self.pending_aside.push(Torn {
                line: self.lines,
                bytes: actual - self.len,
            });
            self.len = actual + u64::from(!terminated);
        }
        // Each fragment is set aside by its own event; one that cannot be written yet stays
        // pending (a failed set-aside write leaves a fragment of its own, set aside after it).
        while let Some(t) = self.pending_aside.first().cloned() {
            self.write_event(
                Action::TornSetAside {
                    line: t.line,
                    bytes: t.bytes,
                },
                clock,
            )?;
            self.pending_aside.remove(0);
        }
        self.write_event(action, clock)
    }

    fn write_event(&mut self, action: Action, clock: &dyn Clock) -> std::io::Result<Event> {
        let session_now = clock.now();
        let event = Event {
            v: FORMAT,
            seq: self.next_seq,
            utc: crate::clock::wall_now(),
            local: crate::zones::rfc3339_in(session_now, self.meta.tz),
            operator: self.meta.operator.clone(),
            host: self.meta.host.clone(),
            session: self.meta.session.clone(),
            runbooks: self.meta.runbooks.clone(),
            sha256: self.meta.sha256.clone(),
            rehearsal: clock.rehearsal().map(|r| Rehearsal {
                virtual_utc: session_now,
                speed: r.speed,
            }),
            action,
        };
        let mut line = serde_json::to_vec(&event).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()?;
        self.next_seq += 1;
        self.lines += 1;
        self.len += line.len() as u64;
        Ok(event)
    }
}

/// The sidecar lock file of a journal.
pub fn lock_path(journal: &Path) -> PathBuf {
    let mut name = journal.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    journal.with_file_name(name)
}

/// The UTC instant of a session-zone local date-time, for tests and commands.
pub fn session_instant(tz: Tz, local: &str) -> Option<DateTime<Utc>> {
    let n = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S").ok()?;
    crate::runbook::timespec::resolve_local(n, tz).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use chrono::TimeZone;

    fn meta() -> Meta {
        Meta {
            operator: "alice".into(),
            host: "h1".into(),
            session: "s".into(),
            runbooks: vec!["ep".into()],
            roles: vec!["ep".into()],
            sha256: "abc".into(),
            tz: chrono_tz::Asia::Hong_Kong,
        }
    }

    fn step(id: &str, state: StepState) -> Action {
        Action::Step {
            step: id.into(),
            state,
            note: None,
        }
    }

    #[test]
    fn torn_tail_is_set_aside_and_appending_continues() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2023, 11, 25, 1, 0, 0).unwrap());
        {
            let (mut j, r) = Journal::open(&path, meta()).unwrap();
            assert!(r.events.is_empty());
            j.append(step("a", StepState::Done), &clock).unwrap();
        }
        // Power lost mid-write: half a line, no newline.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"v":1,"seq":2,"utc":"20"#).unwrap();
        drop(f);
        let before = std::fs::read(&path).unwrap();
        {
            let (mut j, r) = Journal::open(&path, meta()).unwrap();
            assert_eq!(r.torn, Some(Torn { line: 2, bytes: 24 }));
            assert_eq!(r.record.state_of("a").unwrap().state, StepState::Done);
            j.append(step("b", StepState::Skipped), &clock).unwrap();
        }
        let after = std::fs::read(&path).unwrap();
        assert_eq!(&after[..before.len()], &before[..], "only ever appended to");
        let r = read(&path).unwrap();
        assert_eq!(r.torn, None);
        assert_eq!(r.record.state_of("b").unwrap().state, StepState::Skipped);
        assert!(matches!(
            r.events[1].action,
            Action::TornSetAside { line: 2, bytes: 24 }
        ));
    }

    #[test]
    fn a_whole_line_whose_fsync_failed_is_set_aside_and_never_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2023, 11, 25, 1, 0, 0).unwrap());
        let (mut j, _) = Journal::open(&path, meta()).unwrap();
        let first = j.append(step("a", StepState::Done), &clock).unwrap();
        // What a write that succeeded but whose fsync failed leaves: a complete, parsable line
        // the writer reported as not recorded (its seq is reused by the next append).
        let mut ghost = first.clone();
        ghost.seq = 2;
        ghost.action = step("b", StepState::Failed);
        let mut line = serde_json::to_vec(&ghost).unwrap();
        line.push(b'\n');
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(&line)
            .unwrap();
        let next = j.append(step("c", StepState::Done), &clock).unwrap();
        assert_eq!(next.seq, 3, "seq 2 went to the set-aside event");
        let r = read(&path).unwrap();
        assert!(
            r.record.state_of("b").is_none(),
            "the unacknowledged line is left out"
        );
        assert_eq!(r.record.state_of("c").unwrap().state, StepState::Done);
        assert!(matches!(
            r.events[1].action,
            Action::TornSetAside { line: 2, .. }
        ));
        assert_eq!(r.events.len(), 3);
    }

    #[test]
    fn a_writer_never_mixes_rehearsal_and_real_events() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let t = Utc.with_ymd_and_hms(2023, 11, 25, 1, 0, 0).unwrap();
        let real = ManualClock::new(t);
        let (mut j, _) = Journal::open(&path, meta()).unwrap();
        j.append(step("a", StepState::Done), &real).unwrap();
        drop(j);
        let rehearsal = crate::clock::RehearsalClock::new(t, 60.0);
        let (mut j, _) = Journal::open(&path, meta()).unwrap();
        let err = j
            .append(step("b", StepState::Done), &rehearsal)
            .unwrap_err();
        assert!(err.to_string().contains("rehearsal event"), "{err}");
        j.append(step("b", StepState::Done), &real).unwrap();
        assert_eq!(read(&path).unwrap().events.len(), 2, "still readable");
    }

    #[test]
    fn second_writer_is_refused_with_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (_j, _) = Journal::open(&path, meta()).unwrap();
        let err = Journal::open(&path, meta()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("alice@h1, pid"), "{msg}");
        assert!(msg.contains("drillbook watch"), "{msg}");
    }

    #[test]
    fn undo_takes_back_the_last_action_and_is_itself_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2023, 11, 25, 1, 0, 0).unwrap());
        let (mut j, _) = Journal::open(&path, meta()).unwrap();
        j.append(step("a", StepState::Done), &clock).unwrap();
        let e = j.append(step("a", StepState::Failed), &clock).unwrap();
        j.append(Action::Undo { target: e.seq }, &clock).unwrap();
        let r = read(&path).unwrap();
        assert_eq!(r.record.state_of("a").unwrap().state, StepState::Done);
        assert_eq!(r.events.len(), 3);
        assert_eq!(r.record.actions, 3);
    }

    #[test]
    fn the_writer_keeps_the_newest_events_and_the_record_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2023, 11, 25, 1, 0, 0).unwrap());
        let mut old = meta();
        old.sha256 = "older-runbooks".into();
        let (mut j, _) = Journal::open(&path, old).unwrap();
        // The older hash only in the first event, far outside the writer's tail.
        j.append(step("a", StepState::Done), &clock).unwrap();
        drop(j);
        let (mut j, replay) = Journal::open(&path, meta()).unwrap();
        assert_eq!(replay.hash_mismatch.as_deref(), Some("older-runbooks"));
        let n = 2 * WRITER_TAIL;
        for i in 0..n {
            j.append(step(&format!("s{i}"), StepState::Done), &clock)
                .unwrap();
        }
        drop(j);

        let (mut j, replay) = Journal::open(&path, meta()).unwrap();
        assert_eq!(replay.events.len(), WRITER_TAIL);
        assert_eq!(replay.events.last().unwrap().seq, n as u64 + 1);
        assert_eq!(replay.record.actions, n + 1, "every action folded");
        assert_eq!(replay.session(), Some(meta().session.as_str()));
        assert_eq!(replay.hash_mismatch.as_deref(), Some("older-runbooks"));
        assert!(
            replay.record.state_of("a").is_some(),
            "the first action is in the record"
        );
        // Appending continues the sequence, and a full read sees every event.
        let ev = j.append(step("z", StepState::Done), &clock).unwrap();
        assert_eq!(ev.seq, n as u64 + 2);
        drop(j);
        assert_eq!(read(&path).unwrap().events.len(), n + 2);
    }

    #[test]
    fn a_fragment_that_cuts_a_character_in_two_is_still_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2023, 11, 25, 1, 0, 0).unwrap());
        {
            let (mut j, _) = Journal::open(&path, meta()).unwrap();
            j.append(step("a", StepState::Done), &clock).unwrap();
        }
        // Power lost in the middle of "é": the file now holds half a UTF-8 character.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"v\":1,\"seq\":2,\"operator\":\"\xc3")
            .unwrap();
        drop(f);
        {
            let (mut j, _) = Journal::open(&path, meta()).unwrap();
            j.append(step("b", StepState::Done), &clock).unwrap();
        }
        let r = read(&path).unwrap();
        assert!(r.torn.is_none(), "the fragment is accounted for");
        assert!(r.record.state_of("a").is_some() && r.record.state_of("b").is_some());
        assert!(
            r.events
                .iter()
                .any(|e| matches!(e.action, Action::TornSetAside { line: 2, .. }))
        );
    }
}
