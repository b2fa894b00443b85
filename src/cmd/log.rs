//! `drillbook log JOURNAL [--follow] [--json]`: the timeline, one event a line, in the session
//! zone beside the reader's; user text neutralised. `--follow` polls the file's length (no
//! inotify, so it works on any file system) until SIGINT or SIGTERM.

use super::from_journal;
use super::{Failure, Outcome};
use crate::journal::handover::REHEARSAL_LABEL;
use crate::journal::{Action, Event};
use crate::text::clean_line;
use crate::zones;
use chrono::TimeZone;
use chrono_tz::Tz;
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often `--follow` looks at the journal's length: fast enough for a person, cheap enough
/// to leave running all day.
const FOLLOW_POLL: Duration = Duration::from_millis(200);

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Write everything to stdout; a closed pipe (`| head`) is not an error.
pub fn print_all(bytes: &[u8]) -> Outcome {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::new(format!("cannot write to stdout: {e}"))),
    }
}

/// What an action says, user text neutralised.
pub fn payload(a: &Action, tz: Tz) -> String {
    let c = |s: &str| clean_line(s).into_owned();
    match a {
        Action::Attach {
            pid,
            version,
            roles,
        } => {
            format!(
                "pid {pid}, drillbook {}, roles {}",
                c(version),
                c(&roles.join(","))
            )
        }
        Action::Step { step, state, note } => match note {
            Some(n) => format!("{} {}: {}", c(step), state.word(), c(n)),
            None => format!("{} {}", c(step), state.word()),
        },
        Action::Note { step, text, issue } => {
            let what = if *issue { "ISSUE " } else { "" };
            match step {
                Some(s) => format!("{what}on {}: {}", c(s), c(text)),
                None => format!("{what}on the session: {}", c(text)),
            }
        }
        Action::Evidence { step, field, value } => {
            format!("{} \"{}\" = {}", c(step), c(field), c(value))
        }
        Action::BoundaryConfirmed {
            boundary,
            planned,
            confirmed,
            note,
        } => {
            let mut s = format!(
                "{} planned {}, confirmed {} ({})",
                c(boundary),
                zones::hms(*planned, tz),
                zones::hms(*confirmed, tz),
                zones::signed_span(*confirmed - *planned)
            );
            if let Some(n) = note {
                s.push_str(": ");
                s.push_str(&c(n));
            }
            s
        }
        Action::PhaseEntered { phase } => c(phase),
        Action::Notification {
            key,
            channel,
            ok,
            title,
            error,
            ..
        } => {
            let mut s = format!(
                "{} on {} {}: {}",
                c(key),
                c(channel),
                if *ok { "sent" } else { "FAILED" },
                c(title)
            );
            if let Some(e) = error {
                s.push_str(" (");
                s.push_str(&c(e));
                s.push(')');
            }
            s
        }
        Action::NotifyCheck {
            channels,
            detected,
            answer,
        } => format!(
            "channels {}; seen: {}; detected: {}",
            c(&channels.join(",")),
            match answer {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "not asked",
            },
            c(detected)
        ),
        Action::Handover { note } => match note {
            Some(n) => format!("acknowledged: {}", c(n)),
            None => "acknowledged".into(),
        },
        Action::TornSetAside { line, bytes } => format!("line {line} ({bytes} bytes) set aside"),
        Action::Undo { target } => format!("of #{target}"),
        Action::Detach { reason } => c(reason),
    }
}

/// One timeline line: `#12  2023-11-25 08:05:00 HKT  00:05:00 GMT  alice@host  step  ...`.
pub fn line(e: &Event, tz: Tz, local: Tz) -> String {
    let t = e.session_time();
    let session = tz
        .from_utc_datetime(&t.naive_utc())
        .format("%Y-%m-%d %H:%M:%S %Z");
    let reh = if e.rehearsal.is_some() { " [R]" } else { "" };
    format!(
        "#{:<5} {session}  {:<12}  {:<20}  {:<18} {}{reh}",
        e.seq,
        zones::hms(t, local),
        clean_line(&e.who()),
        e.action.kind(),
        payload(&e.action, tz)
    )
}

fn format_event(e: &Event, json: bool, tz: Tz, local: Tz) -> String {
    if json {
        serde_json::to_string(e).unwrap_or_default()
    } else {
        line(e, tz, local)
    }
}

/// The session's zone: the bundled session's, else a fixed zone from the first event's `local`
/// offset (a journal does not name its zone; the offset is what it stores beside UTC).
fn session_tz(first: Option<&Event>) -> Tz {
    let Some(e) = first else { return Tz::UTC };
    if e.session == crate::runbook::BUNDLED_SESSION
        && let Ok(p) = crate::runbook::load_bundled(&crate::runbook::bundled_roles())
    {
        return p.session.tz;
    }
    chrono::DateTime::parse_from_rfc3339(&e.local)
        .ok()
        .map(|t| t.offset().local_minus_utc())
        .filter(|s| s % 3600 == 0)
        .and_then(|s| format!("Etc/GMT{:+}", -s / 3600).parse().ok())
        .unwrap_or(Tz::UTC)
}

pub fn run(path: &Path, follow: bool, json: bool) -> Outcome {
    let replay = from_journal::replay(path)?;
    let tz = session_tz(replay.events.first());
    let local = zones::local_tz();
    let mut text = String::new();
    if !json && replay.is_rehearsal() {
        text.push_str(REHEARSAL_LABEL);
        text.push('\n');
    }
    for e in &replay.events {
        text.push_str(&format_event(e, json, tz, local));
        text.push('\n');
    }
    print_all(text.as_bytes())?;
    if let Some(t) = from_journal::torn_note(path, &replay) {
        eprintln!("{t}");
    }
    if !follow {
        return Ok(());
    }
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        let h = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGINT, h);
        libc::signal(libc::SIGTERM, h);
    }
    let mut offset = replay.good_len();
    let mut tz = tz;
    let mut seen_first = !replay.events.is_empty();
    let mut pending: Vec<u8> = Vec::new();
    while !STOP.load(Ordering::SeqCst) {
        std::thread::sleep(FOLLOW_POLL);
        let len = match std::fs::metadata(path) {
            Ok(m) => m.len(),
            Err(e) => {
                return Err(Failure::new(format!(
                    "{}: cannot follow the journal: {e}",
                    path.display()
                )));
            }
        };
        let have = offset + pending.len() as u64;
        if len < have {
            return Err(Failure::new(format!(
                "{}: the journal shrank from {have} to {len} bytes: it was replaced or truncated; stopped following",
                path.display()
            )));
        }
        if len == have {
            continue;
        }
        let mut f = std::fs::File::open(path)
            .map_err(|e| Failure::new(format!("{}: cannot read: {e}", path.display())))?;
        f.seek(SeekFrom::Start(have))
            .and_then(|_| f.take(len - have).read_to_end(&mut pending))
            .map_err(|e| Failure::new(format!("{}: cannot read: {e}", path.display())))?;
        let mut out = String::new();
        while let Some(n) = pending.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = pending.drain(..=n).collect();
            offset += raw.len() as u64;
            let body = &raw[..raw.len() - 1];
            if body.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Event>(body) {
                Ok(e) => {
                    if !seen_first {
                        tz = session_tz(Some(&e));
                        seen_first = true;
                    }
                    out.push_str(&format_event(&e, json, tz, local));
                    out.push('\n');
                }
                Err(err) => eprintln!(
                    "{}: a line that is not an event (a torn write, set aside by the next writer?): {err}",
                    path.display()
                ),
            }
        }
        print_all(out.as_bytes())?;
    }
    Ok(())
}
