//! The action log: an append-only JSON Lines file per session and role set.
//!
//! Write-ahead: an action is appended and fsync'd before anyone shows it as recorded, and text that
//! looks like a credential is refused there, whatever command writes. One writer: an exclusive
//! `flock` on the journal file itself, so every path to it (a symlink, a hard link) meets the same
//! lock. Replay folds the events into a [`Record`]; a torn end (power lost mid-write) is reported
//! and set aside, never fatal, never overwritten: the next writer sets it aside in the same single
//! write as its action, and replay accepts any prefix of that write. The reports read the record:
//! they live in `handover` and `report`, outside this module.

pub mod event;
pub mod folder;
pub mod merge;
pub mod record;
pub mod tail;

pub use event::{
    Action, Captured, CheckOutcome, ClockChange, Event, LineRef, Rehearsal, StepState,
};
pub use record::Record;

use crate::clock::Clock;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::fs::File;
use std::io::Write;
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

/// Who is at the keyboard when `--operator` is not given: `$USER`, `$LOGNAME`, else the account
/// name of the real uid (a container or `env -i` leaves both unset, and the handover's
/// who-did-what needs a name), else `unknown`.
pub fn default_operator() -> String {
    let env = |k: &str| std::env::var(k).ok().filter(|u| !u.is_empty());
    env("USER")
        .or_else(|| env("LOGNAME"))
        // SAFETY: getuid has no preconditions and cannot fail.
        .or_else(|| account_name(unsafe { libc::getuid() }))
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
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{}: cannot {what}: {source}", .path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        source: std::io::Error,
    },
    /// Another process holds the write lock.
    #[error(
        "{}: another drillbook is recording in this journal ({holder}).\nOnly one writer at a time: follow it read-only with `drillbook watch {}`",
        .path.display(),
        .path.display()
    )]
    Locked { path: PathBuf, holder: String },
    /// Not a file drillbook reads or writes: a FIFO, a device, a planted link, another's file.
    #[error("{}: {reason}", .path.display())]
    Refused { path: PathBuf, reason: String },
    /// Text that looks like a credential, where it would be stamped on every event.
    #[error(
        "{}: {field} looks like it holds a password or key; it would be stamped on every event, so nothing is recorded",
        .path.display()
    )]
    Secret { path: PathBuf, field: &'static str },
    /// A line in the middle is not a journal event.
    #[error("{}:{line}: not a drillbook journal line: {reason}", .path.display())]
    NotJournal {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    /// Written by a newer drillbook.
    #[error(
        "{}:{line}: written in journal format {version}; this drillbook reads format {FORMAT}: upgrade drillbook",
        .path.display()
    )]
    NewerFormat {
        path: PathBuf,
        line: u64,
        version: u64,
    },
    /// Events are missing: the journal was cut at the front or lines were removed.
    #[error("{}:{line}: {}", .path.display(), gap_words(*.expected, *.found))]
    Gap {
        path: PathBuf,
        line: u64,
        expected: u64,
        found: u64,
    },
    /// Events of two sessions in one file.
    #[error(
        "{}:{line}: an event for session `{}` in a journal for session `{}`: journals of two sessions were mixed",
        .path.display(),
        crate::text::clean_line(.found),
        crate::text::clean_line(.first)
    )]
    MixedSessions {
        path: PathBuf,
        line: u64,
        first: String,
        found: String,
    },
    /// Rehearsal and real events in one file: a rehearsal must never pass for the real record.
    #[error(
        "{}:{line}: the journal mixes rehearsal and real events (event #{seq} differs from event #1); \
         a rehearsal must never pass for the real record, so it is not read",
        .path.display()
    )]
    MixedRehearsal { path: PathBuf, line: u64, seq: u64 },
    /// Written for another session.
    #[error(
        "{}: this journal is for session `{}`, not `{}`: name another journal with --journal",
        .path.display(),
        crate::text::clean_line(.found),
        crate::text::clean_line(.expected)
    )]
    OtherSession {
        path: PathBuf,
        found: String,
        expected: String,
    },
}

/// The one message with two wordings: a journal cut at the front, or events missing in the middle.
fn gap_words(expected: u64, found: u64) -> String {
    if expected == 1 {
        format!(
            "the journal starts at event #{found}: its beginning is missing (truncated or cut); it cannot be replayed"
        )
    } else {
        format!(
            "event #{found} where #{expected} was expected: events are missing (truncated or edited); it cannot be replayed"
        )
    }
}

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
    /// The roles the newest `attach` named (a writer's replay keeps only the newest events, so
    /// the attach that says what the journal holds may be long gone from `events`).
    pub attached_roles: Option<Vec<String>>,
    /// What to tell the operator about the journal's permissions, once: a writer found group or
    /// other bits and took them away; a reader found it writable by others.
    pub exposure: Option<String>,
}

impl Replay {
    /// "resumed 14 actions, last at 09:41:07 HKT by alice@host", or None for a new journal.
    pub fn resumed_summary(&self, tz: Tz) -> Option<String> {
        let last = self.record.last.as_ref()?;
        if self.record.actions == 0 {
            // Only attach, detach and notification events so far: nothing an operator did.
            return Some(format!(
                "no actions recorded yet; last opened at {} by {}",
                crate::zones::hms(last.at, tz),
                crate::text::clean_line(&last.who())
            ));
        }
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

    /// Where a tail reads on from what this replay read: `log --follow` opens its tail there, so
    /// a journal truncated or replaced between the two reads is caught, not read from its start.
    pub fn tail_position(&self) -> tail::Position {
        tail::Position {
            offset: self.good_len,
            line: self.lines,
            seq: self.events.last().map_or(0, |e| e.seq),
        }
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
    let mut last_seq = 0u64;
    let mut head: Option<tail::Head> = None;
    // Lines that did not parse since the last good one: fatal unless they turn out to be the
    // end of the file (a torn write, or any prefix of the writer's one-write recovery).
    let mut bad: Vec<BadLine> = Vec::new();
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
        if line.iter().all(u8::is_ascii_whitespace) || aside.contains(&line_no) {
            if bad.is_empty() {
                replay.good_len = pos as u64;
                replay.lines = line_no;
            }
            continue;
        }
        if let Some(first) = bad.first() {
            // Something follows the unparsable run: it is not a torn end.
            if !event_prefix(line) || terminated_event(line, terminated) {
                return Err(not_journal(path, replay.head.is_none(), first));
            }
        }
        // An unterminated line was never acknowledged (the newline is written with the line,
        // and fsync'd before anyone is told), so it never counts, even when it parses.
        let parsed = if terminated {
            serde_json::from_slice::<Event>(line).map_err(|e| event::plain_error(&e))
        } else {
            Err("no newline at the end (a torn write)".to_owned())
        };
        let ev = match parsed {
            Ok(ev) => ev,
            Err(reason) => {
                newer_format(path, line_no, line, None)?;
                bad.push(BadLine {
                    line: line_no,
                    start,
                    reason,
                    excerpt: excerpt(line),
                    journal_like: event_prefix(line),
                });
                continue;
            }
        };
        newer_format(path, line_no, line, Some(ev.v))?;
        check_continues(path, line_no, head.as_ref(), last_seq, &ev)?;
        replay.good_len = pos as u64;
        replay.lines = line_no;
        last_seq = ev.seq;
        if replay.shas.last() != Some(&ev.sha256) {
            replay.shas.retain(|h| *h != ev.sha256);
            replay.shas.push(ev.sha256.clone());
        }
        replay.record.fold(&ev);
        if let Action::Attach { roles, .. } = &ev.action {
            replay.attached_roles = Some(roles.clone());
        }
        if replay.head.is_none() {
            head = Some(tail::Head::of(&ev));
            replay.head = Some(ev.clone());
        }
        if tail.len() == keep {
            tail.pop_front();
        }
        tail.push_back(ev);
    }
    if let Some(first) = bad.first() {
        // A file whose first line is not a journal line is something else: never a torn journal.
        if replay.head.is_none() && !first.journal_like {
            return Err(not_journal(path, true, first));
        }
        replay.torn = Some(Torn {
            line: first.line,
            bytes: (bytes.len() - first.start) as u64,
        });
    }
    replay.events = tail.into();
    replay.record.last = replay.events.last().map(record::Stamp::of);
    Ok(replay)
}

/// An unparsable line, remembered until the file shows whether it is a torn end.
struct BadLine {
    line: u64,
    start: usize,
    reason: String,
    excerpt: String,
    /// Begins as drillbook's lines begin: a damaged journal line, not another kind of file.
    journal_like: bool,
}

fn not_journal(path: &Path, first_line: bool, bad: &BadLine) -> JournalError {
    JournalError::NotJournal {
        path: path.into(),
        line: bad.line,
        reason: if first_line && !bad.journal_like {
            format!(
                "this file is not a drillbook journal (its first line begins `{}`)",
                bad.excerpt
            )
        } else {
            bad.reason.clone()
        },
    }
}

/// The first few characters of a line, neutralised, for a message: enough to recognise a file,
/// too few to leak one.
fn excerpt(line: &[u8]) -> String {
    const SHOWN: usize = 12;
    let text = String::from_utf8_lossy(line);
    let mut out: String = text.chars().take(SHOWN).collect();
    if text.chars().nth(SHOWN).is_some() {
        out.push('…');
    }
    crate::text::clean_line(&out).into_owned()
}

/// Whether `line` can be the start of a line drillbook writes: `{"v":` or a prefix of it.
fn event_prefix(line: &[u8]) -> bool {
    const HEAD: &[u8] = br#"{"v":"#;
    line.starts_with(HEAD) || HEAD.starts_with(line)
}

/// A whole, terminated line that parses: a real event after an unparsable run.
fn terminated_event(line: &[u8], terminated: bool) -> bool {
    terminated && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok()
}

/// The lines `torn_set_aside` events account for. Found first, by a cheap search, because the
/// event that sets a line aside comes after it.
fn set_aside_lines(bytes: &[u8]) -> std::collections::HashSet<u64> {
    const NEEDLE: &str = "\"torn_set_aside\"";
    // str's substring search is much faster than comparing byte windows. A torn fragment may
    // cut a character in two: then a lossy copy, which keeps every newline where it was.
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    if !text.contains(NEEDLE) {
        return std::collections::HashSet::new();
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
/// rehearsal or real as the first event was. Replay and the tail both ask this, so a journal
/// read whole and one followed are refused alike.
fn check_continues(
    path: &Path,
    line: u64,
    head: Option<&tail::Head>,
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
    if first.rehearsal != ev.rehearsal.is_some() {
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

/// Refuse a line written by a newer drillbook. `parsed` is the format of the event the line
/// parsed as; a line that did not parse as an event is looked into for its `v` alone (a newer
/// format may not parse as this one's events at all).
fn newer_format(
    path: &Path,
    line_no: u64,
    line: &[u8],
    parsed: Option<u32>,
) -> Result<(), JournalError> {
    let version = match parsed {
        Some(v) => Some(u64::from(v)),
        None => serde_json::from_slice::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v.get("v")?.as_u64()),
    };
    match version.filter(|&v| v > u64::from(FORMAT)) {
        Some(version) => Err(JournalError::NewerFormat {
            path: path.into(),
            line: line_no,
            version,
        }),
        None => Ok(()),
    }
}

/// Read and replay a journal without writing or locking it (log, handover, report, watch). A
/// journal others can write is read, with a warning in [`Replay::exposure`]: anyone could have
/// added events to it.
pub fn read(path: &Path) -> Result<Replay, JournalError> {
    let refused = |e| match e {
        crate::files::FileError::Io(source) => JournalError::Io {
            path: path.into(),
            what: "read the journal",
            source,
        },
        other => JournalError::Refused {
            path: path.into(),
            reason: other.to_string(),
        },
    };
    let file = crate::files::open_regular(path).map_err(refused)?;
    let exposed = file
        .metadata()
        .ok()
        .as_ref()
        .and_then(crate::files::Exposure::of)
        .filter(crate::files::Exposure::writable_by_others);
    let bytes = crate::files::read_capped_from(file, READ_CAP).map_err(refused)?;
    let mut replay = parse(path, &bytes)?;
    // The last write in the zone the journal's own events were written in, as the writer says
    // it (the reader has no session yet: the first event's offset stands for it).
    let offset = replay
        .events
        .first()
        .and_then(|e| DateTime::parse_from_rfc3339(&e.local).ok())
        .map_or(chrono::FixedOffset::east_opt(0).expect("UTC"), |t| {
            *t.offset()
        });
    replay.exposure = exposed.map(|x| {
        format!(
            "{}: warning: the journal is writable by {} (mode {}): they could have added events \
             to it (last written {}); its writer makes it private (0600) when it next opens it",
            path.display(),
            x.writers(),
            x.octal(),
            x.modified
                .with_timezone(&offset)
                .format("%a %d %b %H:%M (UTC%:z)")
        )
    });
    Ok(replay)
}

/// What a writer tells the operator when it took group and other bits off a journal.
fn tightened_words(path: &Path, x: &crate::files::Exposure, tz: Tz) -> String {
    let mut s = format!(
        "{}: the journal was {} (mode {}); drillbook made it private (0600)",
        path.display(),
        if x.writable_by_others() {
            format!("writable by {}", x.writers())
        } else {
            "readable by others".to_owned()
        },
        x.octal()
    );
    // An empty file holds no events for anyone to have added.
    if x.writable_by_others() && x.len > 0 {
        use std::fmt::Write as _;
        let _ = write!(
            s,
            ". They could have added events to it until now (it was last written {}): check \
             with `drillbook log {}` that every event in it is yours",
            crate::zones::day_hm(x.modified, tz),
            path.display()
        );
    }
    s
}

/// The one writer of a journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    /// Also the lock: an exclusive `flock` held for the life of the writer; the OS releases it
    /// when the process dies, SIGKILL included.
    file: File,
    meta: Meta,
    next_seq: u64,
    lines: u64,
    /// The file length after the last acknowledged append.
    len: u64,
    /// Whether the journal holds rehearsal events (None while empty): a writer never mixes the
    /// two, because a mixed journal is refused by every reader.
    rehearsal: Option<bool>,
}

impl Journal {
    /// Open (creating it and its folder, owner-only, if needed), lock, and replay. The caller
    /// decides what to do with a hash mismatch, reported in the replay.
    ///
    /// The lock is an exclusive `flock` on the journal's own open file, so any second path to the
    /// same file (a symlink, a hard link) meets it; nothing beside the journal is created.
    pub fn open(path: &Path, meta: Meta) -> Result<(Self, Replay), JournalError> {
        let io = |what: &'static str| {
            move |source| JournalError::Io {
                path: path.into(),
                what,
                source,
            }
        };
        if crate::text::looks_like_secret(&meta.operator) {
            return Err(JournalError::Secret {
                path: path.into(),
                field: "the operator name",
            });
        }
        if let Some(dir) = path.parent() {
            crate::files::create_private_dir_all(dir).map_err(io("create the journal's folder"))?;
        }
        let file_error = |e: crate::files::FileError| match e {
            crate::files::FileError::Io(source) => JournalError::Io {
                path: path.into(),
                what: "open the journal for appending",
                source,
            },
            other => JournalError::Refused {
                path: path.into(),
                reason: other.to_string(),
            },
        };
        let crate::files::Appendable {
            file, tightened, ..
        } = crate::files::open_appendable(path).map_err(file_error)?;
        if let Err(e) = file.try_lock() {
            return Err(match e {
                std::fs::TryLockError::WouldBlock => JournalError::Locked {
                    path: path.into(),
                    holder: lock_holder(&file).unwrap_or_else(|| "holder unknown".into()),
                },
                std::fs::TryLockError::Error(source) => JournalError::Io {
                    path: path.into(),
                    what: "lock the journal",
                    source,
                },
            });
        }
        let bytes = crate::files::read_capped_from(
            file.try_clone().map_err(io("read the journal"))?,
            READ_CAP,
        )
        .map_err(file_error)?;
        let mut replay = parse_keeping(path, &bytes, WRITER_TAIL)?;
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
        replay.exposure = tightened.map(|x| tightened_words(path, &x, meta.tz));
        let next_seq = replay.events.last().map_or(1, |e| e.seq + 1);
        // Whatever lies past the last good line (a torn write, a recovery cut short) is found
        // by `append` as bytes past `len`, and set aside there, in the same write as the action.
        let journal = Self {
            path: path.into(),
            file,
            meta,
            next_seq,
            lines: replay.lines,
            len: replay.good_len,
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
    /// recorded. Text that looks like a secret is refused here, where every write passes.
    ///
    /// Bytes past the last acknowledged line (a torn write, a line whose fsync failed, a
    /// recovery cut short) are set aside in the same single write as the action: a newline
    /// ending the fragment, one `torn_set_aside` event per unparsable line, then the action.
    /// A crash anywhere inside that write leaves a prefix that replay accepts as a torn end.
    pub fn append(&mut self, action: Action, clock: &dyn Clock) -> Result<Event, AppendError> {
        if let Some((field, form)) = secret_in(&action) {
            return Err(AppendError::Secret { field, form });
        }
        let rehearsal = clock.rehearsal().is_some();
        if self.rehearsal.is_some_and(|r| r != rehearsal) {
            return Err(AppendError::Io(std::io::Error::other(if rehearsal {
                "a rehearsal event cannot go into a journal of the real session"
            } else {
                "a real event cannot go into a rehearsal journal"
            })));
        }
        let actual = self.file.metadata()?.len();
        let mut buf = Vec::new();
        let mut lines = self.lines;
        let mut seq = self.next_seq;
        if actual > self.len {
            let mut region = vec![0u8; (actual - self.len).min(READ_CAP) as usize];
            self.file.read_exact_at(&mut region, self.len)?;
            // A fragment longer than the cap is set aside as one line without being read whole.
            let fragments = if actual - self.len > READ_CAP {
                vec![actual - self.len]
            } else {
                fragment_lengths(&region)
            };
            if region.last() != Some(&b'\n') {
                buf.push(b'\n');
            }
            let count = fragments.len() as u64;
            for (i, bytes) in (0u64..).zip(fragments) {
                let line = self.lines + 1 + i;
                self.encode(&mut buf, seq, Action::TornSetAside { line, bytes }, clock)?;
                seq += 1;
            }
            // The fragment's lines, then one set-aside event for each.
            lines += 2 * count;
        }
        let event = self.encode(&mut buf, seq, action, clock)?;
        lines += 1;
        self.file.write_all(&buf)?;
        self.file.sync_data()?;
        self.rehearsal = Some(rehearsal);
        self.next_seq = seq + 1;
        self.lines = lines;
        self.len = actual + buf.len() as u64;
        Ok(event)
    }

    /// Append one event line for `action` with sequence number `seq` to `buf`.
    fn encode(
        &self,
        buf: &mut Vec<u8>,
        seq: u64,
        action: Action,
        clock: &dyn Clock,
    ) -> std::io::Result<Event> {
        let session_now = clock.now();
        let event = Event {
            v: FORMAT,
            seq,
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
        serde_json::to_writer(&mut *buf, &event).map_err(std::io::Error::other)?;
        buf.push(b'\n');
        Ok(event)
    }
}

/// The byte length of each line in a fragment region (the last may lack its newline).
fn fragment_lengths(region: &[u8]) -> Vec<u64> {
    region
        .split_inclusive(|&b| b == b'\n')
        .map(|l| l.len() as u64)
        .collect()
}

/// Why an append did not happen. Nothing was acknowledged in either case.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The text of this field looks like a credential: an append-only file could never forget it.
    #[error(
        "{field} looks like it holds a password or key ({form}): record that the credential was checked, never the credential"
    )]
    Secret {
        field: &'static str,
        form: crate::text::SecretForm,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The field of an action whose free text looks like a secret, and what it looked like.
fn secret_in(action: &Action) -> Option<(&'static str, crate::text::SecretForm)> {
    use crate::text::secret_form as secret;
    // A check's text comes from the host (a log line, a command's output): the checks withhold
    // what looks like a credential before it gets here, and this is the backstop.
    if let Action::Check {
        target,
        detail,
        values,
        ..
    } = action
    {
        return secret(detail)
            .map(|f| ("the check's detail", f))
            .or_else(|| secret(target).map(|f| ("the check's target", f)))
            .or_else(|| {
                values
                    .iter()
                    .find_map(|v| secret(&v.value))
                    .map(|f| ("a value the check captured", f))
            });
    }
    let texts: [(&'static str, Option<&str>); 2] = match action {
        Action::Step { note, .. } => [("the note", note.as_deref()), ("", None)],
        Action::Note { text, .. } => [("the note", Some(text)), ("", None)],
        Action::Evidence { field, value, .. } => [
            ("the evidence value", Some(value)),
            ("the evidence field", Some(field)),
        ],
        Action::BoundaryConfirmed { note, .. } | Action::Handover { note } => {
            [("the note", note.as_deref()), ("", None)]
        }
        Action::Detach { reason } => [("the reason", Some(reason)), ("", None)],
        _ => [("", None), ("", None)],
    };
    texts
        .into_iter()
        .find_map(|(f, t)| t.and_then(secret).map(|form| (f, form)))
}

/// Who holds the lock on `file`: the process in `/proc/locks` holding a lock on the same device
/// and inode, named as its own `attach` event in the journal names it ("alice@host, pid N"),
/// else by its user. None where the system does not say (another host over NFS).
fn lock_holder(file: &File) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let m = file.metadata().ok()?;
    let (dev, ino) = (m.dev(), m.ino());
    let locks = crate::files::read_capped(Path::new("/proc/locks"), 1 << 20).ok()?;
    let pid = String::from_utf8_lossy(&locks).lines().find_map(|l| {
        // "1: FLOCK  ADVISORY  WRITE 12345 08:01:131 0 EOF" (major:minor in hex).
        let f: Vec<&str> = l.split_whitespace().collect();
        let pid: u32 = f.get(4)?.parse().ok()?;
        let mut id = f.get(5)?.split(':');
        let major = u32::from_str_radix(id.next()?, 16).ok()?;
        let minor = u32::from_str_radix(id.next()?, 16).ok()?;
        let inode: u64 = id.next()?.parse().ok()?;
        (inode == ino && libc::makedev(major, minor) == dev).then_some(pid)
    })?;
    let who = attached_as(file, pid).unwrap_or_else(|| format!("{}@{}", user_of(pid), hostname()));
    Some(format!("{}, pid {pid}", crate::text::clean_line(&who)))
}

/// How the newest `attach` event of process `pid` names its writer, read from the file's tail.
fn attached_as(file: &File, pid: u32) -> Option<String> {
    const TAIL: u64 = 1 << 20;
    let len = file.metadata().ok()?.len();
    let from = len.saturating_sub(TAIL);
    let mut tail = vec![0u8; (len - from) as usize];
    file.read_exact_at(&mut tail, from).ok()?;
    tail.split(|&b| b == b'\n').rev().find_map(|l| {
        let e: Event = serde_json::from_slice(l).ok()?;
        matches!(e.action, Action::Attach { pid: p, .. } if p == pid).then(|| e.who())
    })
}

/// The user name of a process, from its real uid.
fn user_of(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|u| u.parse::<u32>().ok());
    uid.map_or_else(
        || "someone".into(),
        |u| crate::text::clean_line(&user_name(u)).into_owned(),
    )
}

fn user_name(uid: u32) -> String {
    account_name(uid).unwrap_or_else(|| format!("uid {uid}"))
}

/// The account name of `uid` from the password database (getpwuid_r), if it has one.
fn account_name(uid: u32) -> Option<String> {
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r writes into the buffers we own and sets `out` to `pwd` or null.
    let rc =
        unsafe { libc::getpwuid_r(uid, &raw mut pwd, buf.as_mut_ptr(), buf.len(), &raw mut out) };
    if rc != 0 || out.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    // SAFETY: on success pw_name points to a NUL-terminated string inside `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
    Some(name.to_string_lossy().into_owned()).filter(|n| !n.is_empty())
}

/// The most of a journal that is read: far beyond any session (100,000 events are about
/// 40 MiB), and a bound on what a hostile or runaway file can cost.
pub const READ_CAP: u64 = 256 * 1024 * 1024;

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
    use std::fs::OpenOptions;

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

    /// Every prefix of the writer's one-write recovery (the newline ending a fragment, the
    /// set-aside events, the action) replays, and a writer opened on it continues and leaves a
    /// journal that replays with every acknowledged action, whatever crash came first.
    #[test]
    fn every_prefix_of_a_recovery_write_replays_and_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2023, 11, 25, 1, 0, 0).unwrap());
        let path = dir.path().join("j.jsonl");
        {
            let (mut j, _) = Journal::open(&path, meta()).unwrap();
            j.append(step("a", StepState::Done), &clock).unwrap();
        }
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"v":1,"seq":2,"utc":"20"#).unwrap();
        drop(f);
        let torn = std::fs::read(&path).unwrap();
        {
            let (mut j, _) = Journal::open(&path, meta()).unwrap();
            j.append(step("b", StepState::Done), &clock).unwrap();
        }
        let whole = std::fs::read(&path).unwrap();
        assert!(whole.len() > torn.len() + 100);
        for cut in torn.len()..=whole.len() {
            let p = dir.path().join(format!("cut{cut}.jsonl"));
            std::fs::write(&p, &whole[..cut]).unwrap();
            let r = read(&p).unwrap_or_else(|e| panic!("prefix {cut} does not replay: {e}"));
            assert!(r.record.state_of("a").is_some(), "prefix {cut}");
            // A second crash: the next writer recovers again, in one write.
            {
                let (mut j, _) = Journal::open(&p, meta()).unwrap();
                j.append(step("c", StepState::Done), &clock).unwrap();
            }
            let r = read(&p).unwrap_or_else(|e| panic!("after prefix {cut}: {e}"));
            assert!(r.torn.is_none(), "prefix {cut}: every fragment set aside");
            assert!(r.record.state_of("a").is_some() && r.record.state_of("c").is_some());
            // "b" counts only when its whole line (with its newline) was written.
            assert_eq!(
                r.record.state_of("b").is_some(),
                cut == whole.len(),
                "prefix {cut}"
            );
        }
    }

    #[test]
    fn a_file_that_is_not_a_journal_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "meeting notes for saturday\n").unwrap();
        let err = Journal::open(&path, meta()).unwrap_err().to_string();
        assert!(err.contains("not a drillbook journal"), "{err}");
        assert!(err.contains("`meeting note…`"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "meeting notes for saturday\n"
        );
        // Unterminated, it is still not a torn journal line.
        std::fs::write(&path, "hello").unwrap();
        assert!(read(&path).is_err());
        // An empty file is a new journal.
        std::fs::write(&path, "").unwrap();
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2023, 11, 25, 1, 0, 0).unwrap());
        let (mut j, _) = Journal::open(&path, meta()).unwrap();
        j.append(step("a", StepState::Done), &clock).unwrap();
        assert_eq!(read(&path).unwrap().events.len(), 1);
    }

    #[test]
    fn a_secret_is_refused_at_the_append_whatever_the_action() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2023, 11, 25, 1, 0, 0).unwrap());
        let (mut j, _) = Journal::open(&path, meta()).unwrap();
        for a in [
            Action::Note {
                step: None,
                text: "pw: hunter2".into(),
                issue: false,
            },
            Action::Step {
                step: "a".into(),
                state: StepState::Failed,
                note: Some("login trader1/Hunter2!".into()),
            },
            Action::Evidence {
                step: "a".into(),
                field: "f".into(),
                value: "PASSWORD\u{ff1a}hunter2".into(),
            },
            Action::Handover {
                note: Some("password hunter2".into()),
            },
        ] {
            assert!(matches!(
                j.append(a, &clock),
                Err(AppendError::Secret { .. })
            ));
        }
        j.append(
            Action::Note {
                step: None,
                text: "password reset desk called".into(),
                issue: false,
            },
            &clock,
        )
        .unwrap();
        drop(j);
        assert!(!std::fs::read_to_string(&path).unwrap().contains("hunter2"));
        let mut m = meta();
        m.operator = "token=s3cr3t".into();
        assert!(matches!(
            Journal::open(&path, m),
            Err(JournalError::Secret { .. })
        ));
    }

    #[test]
    fn a_journal_with_no_operator_action_says_so_instead_of_resumed_0_actions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2023, 11, 25, 1, 0, 0).unwrap());
        let (mut j, _) = Journal::open(&path, meta()).unwrap();
        j.append(
            Action::PhaseEntered {
                phase: "primary".into(),
            },
            &clock,
        )
        .unwrap();
        drop(j);
        let s = read(&path)
            .unwrap()
            .resumed_summary(chrono_tz::Asia::Hong_Kong)
            .unwrap();
        assert!(s.starts_with("no actions recorded yet"), "{s}");
        assert!(!s.contains("0 actions"), "{s}");
    }
}
