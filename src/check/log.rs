//! `log`: follow a log file the firm already writes (BSS, FIX engine, market-data handler) until
//! a line matches the check's pattern; its named groups are the values captured.
//!
//! Runs on a blocking thread (the screen's thread never reads a file) and stops itself at its
//! deadline. Memory stays bounded whatever the file's size: the file is read in chunks of
//! [`CHUNK`] bytes, and at most one line (up to [`MAX_LINE`] bytes) is kept across chunks; a
//! longer line is skipped and counted. Only complete lines are matched: a partial last line
//! waits for its newline, so a value is never captured half-written.
//!
//! Rotation: when the path names another file than the one open (rename and a new file), the
//! rest of the old file is read, then the new one from its start; a file that shrinks below the
//! position read (truncated in place, copytruncate) is read again from its start. A partial
//! line left at the end of a rotated file is dropped: it will never be completed.
//!
//! A [`Cursor`] says where a run stopped (at a line boundary), so the next run of the same check
//! continues there and no line written between two runs is missed.
//!
//! Which step a line is evidence for: reading from the phase's start, a line counts only when its
//! own time (the group `at`) falls in the phase, not before it started and not after it ended
//! (when its end is known), and only when that time has a date (a bare `08:31:00` may be from any
//! day: it places the line in no phase); without its own time, in the app, only when it is read while the
//! phase is in progress; and a line another phase's step already took (the same text, in this
//! file or a copy of it) is left to it (the [`claims`](super::claims) book), the detail saying
//! whose it is.

use super::Probed;
use super::claims::{Book, line_ref};
use crate::journal::CheckOutcome;
use chrono::{DateTime, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use regex::Regex;
use std::fmt::Write as _;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Bytes read at a time.
pub const CHUNK: usize = 64 * 1024;
/// The longest line kept for matching; a longer one is skipped (and counted).
pub const MAX_LINE: usize = 64 * 1024;
/// How long to wait at the end of the file before looking again.
const POLL: Duration = Duration::from_millis(100);

/// Where a follow stopped: the file (device and inode) and the offset after the last complete
/// line read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub dev: u64,
    pub ino: u64,
    pub offset: u64,
}

/// One run of a log check.
pub struct Follow {
    pub path: PathBuf,
    pub regex: Regex,
    /// Read from the file's start and take only lines whose group `at` is not before `since`;
    /// else start at the end (or at `cursor`).
    pub since: Option<DateTime<Utc>>,
    /// With `since`: take only lines whose `at` is before this (the phase's end, when known).
    pub until: Option<DateTime<Utc>>,
    /// The zone the log writes its times in.
    pub zone: Tz,
    /// Without `since` (lines without their own time), in the app: take only lines read (wall
    /// clock) from the phase's start and before its end, when known.
    pub read_in: Option<(DateTime<Utc>, Option<DateTime<Utc>>)>,
    /// The session's zone, for the phase's bounds in what is said.
    pub shown: Tz,
    /// The step this run is for, and its phase: a line another phase's step took is not taken.
    pub claim: Option<Claimant>,
    pub deadline: Instant,
    /// Read what the file holds and stop at its end (or the deadline), without waiting for a
    /// line: no line written from now on could be taken (its phase has not started, or ended).
    pub once: bool,
    pub cursor: Option<Cursor>,
    pub cancel: Arc<AtomicBool>,
}

/// Who a run takes lines for: its step and phase, and the book of lines taken.
pub struct Claimant {
    pub book: Book,
    pub step: String,
    pub phase: usize,
}

/// What the follow saw along the way, for the detail of a run that found nothing.
#[derive(Default)]
struct Seen {
    bytes: u64,
    lines: u64,
    long_lines: u64,
    early: u64,
    late: u64,
    read_early: u64,
    read_late: u64,
    bad_at: u64,
    /// Matching lines whose `at` is a time of day without a date, and the first such `at`.
    undated: u64,
    undated_at: Option<String>,
    /// Matching lines that steps of other phases took, and the first such step, the byte it is
    /// at here, and whether it is a copy of the line the step took (another file or offset).
    taken: u64,
    taken_by: Option<(String, u64, bool)>,
    rotations: u64,
    truncations: u64,
    /// What [`super::exposure`] says of the file open now, if anything.
    exposed: Option<String>,
}

struct Open {
    file: File,
    dev: u64,
    ino: u64,
    /// Offset of the next byte to read.
    offset: u64,
    /// Offset just after the last complete line.
    line_end: u64,
}

impl Follow {
    /// Follow until a match, the deadline or a cancel. Returns what was seen and where it stopped;
    /// its detail says when others than its owner could have written the file (and the result
    /// is marked so: a pass then settles no step by itself).
    pub fn run(self) -> (Probed, Option<Cursor>) {
        let mut seen = Seen::default();
        let (p, cursor) = self.follow(&mut seen);
        (p.exposed(seen.exposed.as_deref()), cursor)
    }

    fn follow(&self, seen: &mut Seen) -> (Probed, Option<Cursor>) {
        let shown = self.path.display().to_string();
        // Wait for the file to exist: a log may be created when the gateway starts.
        let mut cur = loop {
            match crate::files::open_regular(&self.path) {
                Ok(file) => match file.metadata() {
                    Ok(m) => {
                        seen.exposed = super::exposure::others_could_write(&self.path, &m);
                        break self.start(file, &m);
                    }
                    Err(e) => {
                        return (
                            Probed::new(
                                CheckOutcome::Error,
                                format!("{shown}: {}", crate::files::io_words(&e)),
                            ),
                            None,
                        );
                    }
                },
                Err(e) if e.is_not_found() => {
                    if self.once || self.stopped() {
                        return (
                            Probed::new(
                                CheckOutcome::Timeout,
                                if self.once {
                                    format!("{shown} does not exist")
                                } else {
                                    format!("{shown} does not exist (waited for it to appear)")
                                },
                            ),
                            self.cursor,
                        );
                    }
                    std::thread::sleep(POLL);
                }
                Err(e) => {
                    return (
                        Probed::new(CheckOutcome::Error, format!("{shown} {e}")),
                        None,
                    );
                }
            }
        };
        let mut buf = vec![0u8; CHUNK];
        let mut carry: Vec<u8> = Vec::new();
        // Discarding up to the next newline: the rest of a line begun before the start, or
        // one too long to keep.
        let mut skipping = cur.offset > 0 && !ends_line(&cur.file, cur.offset);
        loop {
            if self.stopped() {
                let cursor = Some(Cursor {
                    dev: cur.dev,
                    ino: cur.ino,
                    offset: cur.line_end,
                });
                return (self.nothing(seen), cursor);
            }
            let n = match cur.file.read_at(&mut buf, cur.offset) {
                Ok(n) => n,
                Err(e) => {
                    return (
                        Probed::new(
                            CheckOutcome::Error,
                            format!("{shown}: {}", crate::files::io_words(&e)),
                        ),
                        None,
                    );
                }
            };
            if n > 0 {
                seen.bytes += n as u64;
                let read_at = crate::clock::wall_now();
                let chunk = &buf[..n];
                let mut pos = 0;
                while pos < chunk.len() {
                    let nl = chunk[pos..].iter().position(|&b| b == b'\n');
                    let Some(nl) = nl else {
                        // A partial line: kept for the next chunk, up to the cap.
                        if !skipping {
                            carry.extend_from_slice(&chunk[pos..]);
                            if carry.len() > MAX_LINE {
                                carry.clear();
                                skipping = true;
                                seen.long_lines += 1;
                            }
                        }
                        break;
                    };
                    let end = pos + nl;
                    let line_offset = cur.offset + pos as u64 - carry.len() as u64;
                    if skipping {
                        skipping = false;
                    } else {
                        let line: &[u8] = if carry.is_empty() {
                            &chunk[pos..end]
                        } else {
                            carry.extend_from_slice(&chunk[pos..end]);
                            &carry
                        };
                        if line.len() > MAX_LINE {
                            seen.long_lines += 1;
                        } else {
                            seen.lines += 1;
                            if let Some(p) =
                                self.try_line(line, (cur.dev, cur.ino, line_offset), read_at, seen)
                            {
                                let cursor = Cursor {
                                    dev: cur.dev,
                                    ino: cur.ino,
                                    offset: cur.offset + end as u64 + 1,
                                };
                                return (p, Some(cursor));
                            }
                        }
                        carry.clear();
                    }
                    cur.line_end = cur.offset + end as u64 + 1;
                    pos = end + 1;
                }
                cur.offset += n as u64;
                continue;
            }
            // At the end: truncated in place, rotated away, or just nothing new yet.
            let size = cur.file.metadata().map_or(cur.offset, |m| m.len());
            if size < cur.offset {
                seen.truncations += 1;
                cur.offset = 0;
                cur.line_end = 0;
                carry.clear();
                skipping = false;
                continue;
            }
            if let Ok(m) = std::fs::metadata(&self.path)
                && (m.dev(), m.ino()) != (cur.dev, cur.ino)
                && let Ok(file) = crate::files::open_regular(&self.path)
                && let Ok(meta) = file.metadata()
                && (meta.dev(), meta.ino()) == (m.dev(), m.ino())
            {
                // The old file was read to its end just now; a partial line there is dropped.
                seen.rotations += 1;
                seen.exposed = super::exposure::others_could_write(&self.path, &meta);
                cur = Open {
                    file,
                    dev: meta.dev(),
                    ino: meta.ino(),
                    offset: 0,
                    line_end: 0,
                };
                carry.clear();
                skipping = false;
                continue;
            }
            if self.once {
                let cursor = Some(Cursor {
                    dev: cur.dev,
                    ino: cur.ino,
                    offset: cur.line_end,
                });
                return (self.nothing(seen), cursor);
            }
            let left = self.deadline.saturating_duration_since(Instant::now());
            std::thread::sleep(POLL.min(left));
        }
    }

    fn stopped(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || Instant::now() >= self.deadline
    }

    /// Where to start in a newly opened file.
    fn start(&self, file: File, m: &std::fs::Metadata) -> Open {
        let (dev, ino, size) = (m.dev(), m.ino(), m.len());
        let offset = match (self.cursor, self.since) {
            // The same file, not shrunk: continue where the last run stopped.
            (Some(c), _) if c.dev == dev && c.ino == ino && c.offset <= size => c.offset,
            // Rotated or truncated since: the new file from its start.
            (Some(_), _) | (None, Some(_)) => 0,
            (None, None) => size,
        };
        Open {
            file,
            dev,
            ino,
            offset,
            line_end: offset,
        }
    }

    /// A complete line at `(dev, ino, offset)`: a pass when it matches, (reading from the phase
    /// start) its own time falls in the phase, and no step of another phase took it.
    fn try_line(
        &self,
        line: &[u8],
        (dev, ino, offset): (u64, u64, u64),
        read_at: DateTime<Utc>,
        seen: &mut Seen,
    ) -> Option<Probed> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = String::from_utf8_lossy(line);
        let caps = self.regex.captures(&text)?;
        if let Some(since) = self.since {
            let at = caps.name("at").map(|m| m.as_str()).unwrap_or_default();
            match parse_log_time(at, self.zone) {
                LogTime::At(t) if t < since => {
                    seen.early += 1;
                    return None;
                }
                LogTime::At(t) if self.until.is_some_and(|end| t >= end) => {
                    seen.late += 1;
                    return None;
                }
                LogTime::At(_) => {}
                LogTime::NoDate => {
                    seen.undated += 1;
                    seen.undated_at
                        .get_or_insert_with(|| super::excerpt(at, 40));
                    return None;
                }
                LogTime::Unreadable => {
                    seen.bad_at += 1;
                    return None;
                }
            }
        } else if let Some((start, end)) = self.read_in {
            if read_at < start {
                seen.read_early += 1;
                return None;
            }
            if end.is_some_and(|end| read_at >= end) {
                seen.read_late += 1;
                return None;
            }
        }
        let id = line_ref(dev, ino, offset, line);
        if let Some(c) = &self.claim
            && let Err(owner) = c.book.take(&id, &c.step, c.phase)
        {
            seen.taken += 1;
            let copy = !owner.took_here(&id);
            seen.taken_by.get_or_insert((owner.step, offset, copy));
            return None;
        }
        let mut p = Probed::new(
            CheckOutcome::Pass,
            format!(
                "matched in {} at byte {offset}: {}",
                self.path.display(),
                super::excerpt(&text, 160)
            ),
        );
        for name in self.regex.capture_names().flatten() {
            if let Some(m) = caps.name(name) {
                p = p.value(name, m.as_str().to_owned());
            }
        }
        p.line = Some(id);
        Some(p)
    }

    /// The detail of a run that ended without a match.
    fn nothing(&self, seen: &Seen) -> Probed {
        let bound = |t: Option<DateTime<Utc>>| {
            t.map(|t| {
                t.with_timezone(&self.shown)
                    .format(" at %Y-%m-%d %H:%M:%S %Z")
                    .to_string()
            })
            .unwrap_or_default()
        };
        let early = format!(
            "matching line(s) from before the phase started{}",
            bound(self.since)
        );
        let late = format!(
            "matching line(s) from after the phase ended{}",
            bound(self.until)
        );
        let (read_start, read_end) = self.read_in.unwrap_or_default();
        let read_early = format!(
            "matching line(s) read before the phase started{} (a line without its own time is the phase's it is read in)",
            bound(Some(read_start))
        );
        let read_late = format!(
            "matching line(s) read after the phase ended{} (a line without its own time is the phase's it is read in)",
            bound(read_end)
        );
        let taken = seen
            .taken_by
            .as_ref()
            .map_or_else(String::new, |(step, byte, copy)| {
                if *copy {
                    format!(
                        "matching line(s) another phase's step took (same text as the line {step} took, here a copy at byte {byte}: needs a line of its own)"
                    )
                } else {
                    format!(
                        "matching line(s) another phase's step took (same line as {step}, byte {byte}: needs a line of its own)"
                    )
                }
            });
        let undated = seen.undated_at.as_ref().map_or_else(String::new, |at| {
            format!(
                "matching line(s) whose `at` ({at}) has no date: its own time cannot place it in the phase (it may be from any day); capture the date in `at`, or follow the log with `from: now`"
            )
        });
        // Why matching lines were not taken comes first: on the screen's one row it is what
        // the operator needs to read.
        let why = [
            (seen.early, early.as_str()),
            (seen.late, late.as_str()),
            (seen.read_early, read_early.as_str()),
            (seen.read_late, read_late.as_str()),
            (seen.taken, taken.as_str()),
            (seen.undated, undated.as_str()),
            (seen.bad_at, "matching line(s) whose `at` is not a time"),
        ];
        let why: Vec<String> = why
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        let read = format!(
            "{} new line{} read",
            seen.lines,
            if seen.lines == 1 { "" } else { "s" }
        );
        let pattern = super::excerpt(self.regex.as_str(), 80);
        let path = self.path.display();
        let mut d = if why.is_empty() {
            format!("no line matching `{pattern}` in {path} ({read})")
        } else {
            format!(
                "none taken: {} (in {path}: {read}; pattern `{pattern}`)",
                why.join("; ")
            )
        };
        let notes = [
            (seen.long_lines, "line(s) over 64 KiB skipped"),
            (seen.rotations, "rotation(s) followed"),
            (seen.truncations, "truncation(s) followed"),
        ];
        for (n, what) in notes {
            if n > 0 {
                let _ = write!(d, "; {n} {what}");
            }
        }
        Probed::new(CheckOutcome::Timeout, d)
    }
}

/// Whether the byte before `offset` is a newline (the file is at a line boundary there).
fn ends_line(file: &File, offset: u64) -> bool {
    let mut b = [0u8; 1];
    matches!(file.read_at(&mut b, offset - 1), Ok(1) if b[0] == b'\n')
}

/// What a log line's `at` says of when it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTime {
    /// An instant.
    At(DateTime<Utc>),
    /// A time of day without a date (`08:31:00`): the line may be from any day, so its own time
    /// cannot place it in a phase. (It was once taken on the phase's day: a log without dates
    /// then gave yesterday's or the rehearsal's logon to the session's step.)
    NoDate,
    /// Not a time drillbook reads.
    Unreadable,
}

/// A log line's own time: RFC 3339 (`2023-11-25T11:03:12.345+08:00`, `...Z`), or a local date
/// and time (`2023-11-25 11:03:12.345`, `2023-11-25T11:03:12`, FIX's `20231125-11:03:12.345`) in
/// `zone`; a bare time (`11:03:12`) is [`LogTime::NoDate`].
pub fn parse_log_time(s: &str, zone: Tz) -> LogTime {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return LogTime::At(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y%m%d-%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return zone
                .from_local_datetime(&n)
                .earliest()
                .map_or(LogTime::Unreadable, |t| LogTime::At(t.with_timezone(&Utc)));
        }
    }
    if ["%H:%M:%S%.f", "%H:%M"]
        .iter()
        .any(|f| NaiveTime::parse_from_str(s, f).is_ok())
    {
        return LogTime::NoDate;
    }
    LogTime::Unreadable
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_times_in_their_forms() {
        let hk = chrono_tz::Asia::Hong_Kong;
        let want = Utc.with_ymd_and_hms(2023, 11, 25, 3, 3, 12).unwrap();
        for s in [
            "2023-11-25T11:03:12+08:00",
            "2023-11-25T03:03:12Z",
            "2023-11-25 11:03:12",
            "2023-11-25T11:03:12",
            "20231125-11:03:12",
        ] {
            assert_eq!(parse_log_time(s, hk), LogTime::At(want), "{s}");
        }
        assert_eq!(
            parse_log_time("2023-11-25 11:03:12.250", hk),
            LogTime::At(want + chrono::TimeDelta::milliseconds(250))
        );
        // A time of day alone says no day.
        for s in ["11:03:12", "11:03:12.250", "11:03"] {
            assert_eq!(parse_log_time(s, hk), LogTime::NoDate, "{s}");
        }
        assert_eq!(parse_log_time("soon", hk), LogTime::Unreadable);
    }
}
