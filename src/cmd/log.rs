//! `drillbook log JOURNAL [--follow] [--json] [--wide]`: the timeline in the session zone beside
//! the reader's; user text neutralised. Compact (fits 80 columns: a date line when the day
//! changes, then per event a line of seq, times, who and kind, and its payload wrapped below)
//! unless stdout is a terminal at least [`WIDE_COLUMNS`] wide or `--wide` asks for one line per
//! event. `--follow` polls the file's length (no inotify, so it works on any file system) until
//! SIGINT or SIGTERM.

use super::from_journal;
use super::{Failure, Outcome};
use crate::handover::REHEARSAL_LABEL;
use crate::journal::{Action, Event};
use crate::text::clean_line;
use crate::zones;
use chrono_tz::Tz;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// How often `--follow` looks at the journal when no change notification woke it (a journal on
/// a network file system written from another host).
const FOLLOW_FALLBACK: Duration = Duration::from_millis(250);

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
            entered,
        } => {
            let mut s = format!(
                "{} planned {}, confirmed {} ({})",
                c(boundary),
                zones::hms(*planned, tz),
                zones::hms(*confirmed, tz),
                zones::drift(*confirmed - *planned)
            );
            if let Some(e) = entered {
                s.push_str(", entered ");
                s.push_str(&zones::hms(*e, tz));
            }
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
        Action::Check {
            step,
            check,
            target,
            outcome,
            detail,
            values,
            duration_ms,
            simulated,
            ..
        } => {
            let mut s = format!(
                "{} {} {} {} ({duration_ms} ms): {}",
                c(step),
                c(check),
                c(target),
                outcome.word(),
                c(detail)
            );
            for v in values {
                let _ = write!(s, "; {}={}", c(&v.name), c(&v.value));
            }
            if *simulated {
                s.push_str(" [simulated]");
            }
            s
        }
        Action::TornSetAside { line, bytes } => format!("line {line} ({bytes} bytes) set aside"),
        Action::Undo { target } => format!("of #{target}"),
        Action::Detach { reason } => c(reason),
        Action::RehearsalClock {
            change,
            speed,
            paused,
            from,
        } => {
            let mut s = format!("{} x{speed}", change.word());
            if let Some(f) = from {
                let _ = write!(s, ", from {}", crate::zones::hms(*f, tz));
            }
            if *paused && *change != crate::journal::ClockChange::Pause {
                s.push_str(", paused");
            }
            s
        }
    }
}

/// The width the one-line layout needs for a typical event; narrower terminals get the compact one.
pub const WIDE_COLUMNS: usize = 120;

/// The width the compact layout fills.
pub const COMPACT_COLUMNS: usize = 80;

/// How events are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Json,
    /// One line per event (about 120 columns).
    Wide,
    /// Fits `COMPACT_COLUMNS`: a heading line per event, the payload wrapped under it.
    Compact,
}

impl Layout {
    /// `--json`, `--wide`, else wide only on a terminal at least [`WIDE_COLUMNS`] wide.
    pub fn choose(json: bool, wide: bool) -> Self {
        if json {
            Layout::Json
        } else if wide || terminal_columns().is_some_and(|c| c >= WIDE_COLUMNS) {
            Layout::Wide
        } else {
            Layout::Compact
        }
    }
}

/// The columns of the terminal on stdout; None when stdout is not a terminal.
fn terminal_columns() -> Option<usize> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    // SAFETY: TIOCGWINSZ fills a winsize we own; a failure leaves it zeroed.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &raw mut ws) };
    (rc == 0 && ws.ws_col > 0).then_some(usize::from(ws.ws_col))
}

/// `text` wrapped at its spaces to `width` columns (runs of spaces kept), each line after
/// `indent`; a word longer than a line is cut into pieces.
fn wrap(text: &str, indent: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    let room = width.saturating_sub(indent.width()).max(10);
    let lines = crate::text::wrap_pieces(text.split(' '), room);
    let indented: Vec<String> = lines.iter().map(|l| format!("{indent}{l}")).collect();
    indented.join("\n")
}

/// The compact form of one event, without its date: a heading line within
/// [`COMPACT_COLUMNS`] (`who`, already neutralised, is cut with `…` when needed), then the
/// payload wrapped and indented.
pub fn compact(e: &Event, who: &str, tz: Tz, local: Tz) -> String {
    use unicode_width::UnicodeWidthStr;
    let t = e.session_time();
    let reh = if e.rehearsal.is_some() { " [R]" } else { "" };
    let local_part = if local == tz {
        String::new()
    } else {
        let s = t.with_timezone(&tz).date_naive();
        let l = t.with_timezone(&local);
        if l.date_naive() == s {
            format!("  {}", l.format("%H:%M:%S %Z"))
        } else {
            format!("  {}", l.format("%a %H:%M:%S %Z"))
        }
    };
    let head = format!("#{:<5} {}{local_part}  ", e.seq, zones::hms(t, tz));
    let tail = format!("  {}{reh}", e.action.kind());
    let room = COMPACT_COLUMNS.saturating_sub(head.width() + tail.width());
    let who = crate::view::fit(who, room.max(8));
    let body = wrap(&payload(&e.action, tz), "      ", COMPACT_COLUMNS);
    format!("{head}{who}{tail}\n{body}")
}

/// The date line the compact layout prints when the session day changes.
pub fn date_line(e: &Event, tz: Tz) -> String {
    let t = e.session_time();
    t.with_timezone(&tz).format("%a %d %b %Y, %Z:").to_string()
}

/// The width of the wide layout's `who` column for one journal (`alice@host`).
pub const WHO_COLUMNS: usize = 20;

/// One timeline line: `#12  2023-11-25 08:05:00 HKT  00:05:00 GMT  alice@host  step  ...`, with
/// `who` (already neutralised) in a column `who_columns` wide.
pub fn line(e: &Event, who: &str, who_columns: usize, tz: Tz, local: Tz) -> String {
    let t = e.session_time();
    let session = t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %Z");
    let reh = if e.rehearsal.is_some() { " [R]" } else { "" };
    format!(
        "#{:<5} {session}  {:<12}  {who:<who_columns$}  {:<18} {}{reh}",
        e.seq,
        zones::hms(t, local),
        e.action.kind(),
        payload(&e.action, tz)
    )
}

/// One event in `layout`, `who` (already neutralised) where the writer stands, in a column
/// `who_columns` wide in the wide layout; `day` is the session day of the previous event printed,
/// so the compact layout prints a date line when it changes.
pub fn format_event(
    e: &Event,
    layout: Layout,
    (who, who_columns): (&str, usize),
    tz: Tz,
    local: Tz,
    day: &mut Option<chrono::NaiveDate>,
) -> String {
    match layout {
        Layout::Json => serde_json::to_string(e).unwrap_or_default(),
        Layout::Wide => line(e, who, who_columns, tz, local),
        Layout::Compact => {
            let d = e.session_time().with_timezone(&tz).date_naive();
            let mut s = String::new();
            if *day != Some(d) {
                *day = Some(d);
                s.push_str(&date_line(e, tz));
                s.push('\n');
            }
            s.push_str(&compact(e, who, tz, local));
            s
        }
    }
}

/// The session's zone: the bundled session's, else a fixed zone from the first event's `local`
/// offset (a journal does not name its zone; the offset is what it stores beside UTC).
pub fn session_tz(first: Option<&Event>) -> Tz {
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

pub fn run(path: &Path, follow: bool, json: bool, wide: bool) -> Outcome {
    let layout = Layout::choose(json, wide);
    let mut day = None;
    let replay = from_journal::replay(path)?;
    let tz = session_tz(replay.events.first());
    let local = zones::local_tz();
    let mut text = String::new();
    if !json && replay.is_rehearsal() {
        text.push_str(REHEARSAL_LABEL);
        text.push('\n');
    }
    for e in &replay.events {
        let who = clean_line(&e.who()).into_owned();
        text.push_str(&format_event(
            e,
            layout,
            (&who, WHO_COLUMNS),
            tz,
            local,
            &mut day,
        ));
        text.push('\n');
    }
    crate::out::print(&text)?;
    for n in from_journal::notes(path, &replay) {
        crate::out::eprintln(&n);
    }
    if !follow {
        return Ok(());
    }
    let printed = replay.events.last().map_or(0, |e| e.seq);
    let from = (
        replay.tail_position(),
        replay.events.first().map(crate::journal::tail::Head::of),
    );
    let mut out = Follow {
        layout,
        tz,
        local,
        day,
        seen_first: !replay.events.is_empty(),
    };
    follow_from(path, printed, from, &mut out)
}

/// How `--follow` prints what the tail reads.
struct Follow {
    layout: Layout,
    tz: Tz,
    local: Tz,
    day: Option<chrono::NaiveDate>,
    seen_first: bool,
}

/// `--follow`: the journal's shared incremental tail (`journal::tail`) on a thread of its own,
/// woken by inotify (or a look every [`FOLLOW_FALLBACK`]), printing each event after `printed`
/// as it is appended, until SIGINT or SIGTERM, or until the journal is replaced or truncated
/// (said, and the exit is 1).
fn follow_from(
    path: &Path,
    printed: u64,
    (pos, head): (
        crate::journal::tail::Position,
        Option<crate::journal::tail::Head>,
    ),
    out: &mut Follow,
) -> Outcome {
    use crate::journal::tail::{Followed, Item, Tail};
    // From where the printed events ended: a journal cut or replaced since is said, not reread.
    let tail = Tail::open_at(path, pos, head).map_err(|e| match e {
        crate::journal::tail::TailError::PositionMismatch { .. } => Failure::new(format!(
            "{}: the journal changed between printing it and following it: it was truncated or \
             rewritten; stopped following",
            path.display()
        )),
        e => Failure::new(format!("{e}; stopped following")),
    })?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(format!("cannot start the runtime: {e}")))?;
    rt.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let hook = |k| signal(k).map_err(|e| Failure::new(format!("cannot hook signals: {e}")));
        let (mut int, mut term) = (hook(SignalKind::interrupt())?, hook(SignalKind::terminate())?);
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        crate::journal::tail::spawn(tail, FOLLOW_FALLBACK, tx)
            .map_err(|e| Failure::new(format!("cannot follow: {e}")))?;
        loop {
            let followed = tokio::select! {
                f = rx.recv() => f,
                _ = int.recv() => return Ok(()),
                _ = term.recv() => return Ok(()),
            };
            match followed {
                Some(Followed::Items(items)) => {
                    let mut text = String::new();
                    for item in items {
                        match item {
                            Item::Event { event, .. } if event.seq > printed => {
                                if !out.seen_first {
                                    out.tz = session_tz(Some(&event));
                                    out.seen_first = true;
                                }
                                let who = clean_line(&event.who()).into_owned();
                                text.push_str(&format_event(
                                    &event,
                                    out.layout,
                                    (&who, WHO_COLUMNS),
                                    out.tz,
                                    out.local,
                                    &mut out.day,
                                ));
                                text.push('\n');
                            }
                            Item::Unparsable { line, reason, .. } => {
                                crate::out::eprintln(&format!(
                                    "{}:{line}: a line that is not an event (a torn write, set aside by the next writer): {reason}",
                                    path.display()
                                ));
                            }
                            Item::Retracted { line, seq } => crate::out::eprintln(&format!(
                                "{}:{line}: event #{seq} above was set aside by its writer (never acknowledged)",
                                path.display()
                            )),
                            Item::Event { .. } => {}
                        }
                    }
                    crate::out::print(&text)?;
                }
                Some(Followed::Stopped(e)) => {
                    return Err(Failure::new(format!("{e}; stopped following")));
                }
                None => return Ok(()),
            }
        }
    })
}
