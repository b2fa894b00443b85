//! Reading, parsing and validating session and runbook files into a [`Plan`], collecting every
//! problem with its position instead of stopping at the first.

use super::position::Positions;
use super::raw::{RawRunbook, RawSession, RawStep};
use super::timespec::{TimeSpec, parse_session_date};
use super::{
    Boundary, Choice, Contact, Deadline, FORMAT, Phase, Plan, Problem, Problems, Reference,
    Runbook, Session, Step, bundled, hex,
};
use super::{aliases, guard};
use chrono::TimeDelta;
use chrono_tz::Tz;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Larger files are refused unread: a 10,000-step runbook is about 3 MiB.
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Where a file lives: on disk, or embedded in the binary.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Place {
    Disk(PathBuf),
    Bundled(String),
}

impl Place {
    fn display(&self) -> String {
        match self {
            Place::Disk(p) => p.display().to_string(),
            Place::Bundled(n) => format!("bundled:{n}"),
        }
    }

    /// The file `rel` names, relative to this one's folder and inside it: a runbook in a shared
    /// folder must not be able to make drillbook read (and quote) any file on the host.
    fn sibling(&self, rel: &str) -> Result<Place, String> {
        use std::path::Component;
        let rel_path = Path::new(rel);
        if rel.is_empty()
            || !rel_path
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(format!(
                "session file `{}` must be named relative to the runbook, inside its folder (such as `session.yaml`)",
                crate::text::clean_line(rel)
            ));
        }
        Ok(match self {
            Place::Disk(p) => {
                let dir = p.parent().unwrap_or(Path::new(""));
                let joined = dir.join(rel_path);
                // A link inside the folder must not lead out of it either.
                let dir_c = std::fs::canonicalize(if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                });
                if let (Ok(d), Ok(t)) = (dir_c, std::fs::canonicalize(&joined))
                    && !t.starts_with(&d)
                {
                    return Err(format!(
                        "session file `{}` is a link that leads out of the runbook's folder",
                        crate::text::clean_line(rel)
                    ));
                }
                Place::Disk(joined)
            }
            Place::Bundled(n) => {
                let dir = n.rsplit_once('/').map_or("", |(d, _)| d);
                Place::Bundled(if dir.is_empty() {
                    rel.to_owned()
                } else {
                    format!("{dir}/{rel}")
                })
            }
        })
    }

    /// A key that is the same for two spellings of one file.
    fn identity(&self) -> Place {
        match self {
            Place::Disk(p) => Place::Disk(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
            b @ Place::Bundled(_) => b.clone(),
        }
    }
}

/// A file read into memory, with the name problems are reported under.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    place: Place,
    pub display: String,
    pub text: String,
}

impl LoadedFile {
    fn read(place: Place) -> Result<Self, Problem> {
        let display = place.display();
        let text = match &place {
            Place::Bundled(n) => bundled::get(n)
                .ok_or_else(|| Problem::new(&display, None, "no such bundled file"))?
                .to_owned(),
            Place::Disk(p) => read_disk(p).map_err(|m| Problem::new(&display, None, m))?,
        };
        // Editors on Windows start UTF-8 files with a byte order mark; YAML allows one there, and
        // serde_yaml would read it as part of the first key. Columns are then counted as an
        // editor shows them, without it.
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_owned(),
            None => text,
        };
        Ok(Self {
            place,
            display,
            text,
        })
    }

    fn sha256(&self) -> String {
        hex(&Sha256::digest(self.text.as_bytes()))
    }

    /// A runbook names its session file; a session file has none. Decided on the top-level key
    /// so that a broken file is still reported against the right schema.
    fn is_runbook(&self) -> bool {
        self.text.lines().any(|l| l.starts_with("session:"))
    }
}

fn read_disk(p: &Path) -> Result<String, String> {
    use crate::files::FileError;
    let bytes = crate::files::read_capped(p, MAX_BYTES).map_err(|e| match e {
        FileError::Io(e) => io_message(&e),
        FileError::TooLarge { cap, size } => format!(
            "is {} MiB; drillbook reads runbook files up to {} MiB",
            size / (1024 * 1024),
            cap / (1024 * 1024)
        ),
        other => other.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "cannot be read: no such file".into(),
        std::io::ErrorKind::PermissionDenied => "cannot be read: permission denied".into(),
        _ => format!("cannot be read: {e}"),
    }
}

/// Check, then deserialise (a session file or a runbook).
fn parse<T: serde::de::DeserializeOwned>(file: &LoadedFile) -> Result<T, Problem> {
    precheck(file)?;
    deserialize(file)
}

/// [`parse`] for a runbook.
fn parse_runbook(file: &LoadedFile) -> Result<RawRunbook, Problem> {
    parse(file)
}

/// What is refused before serde_yaml sees the text: deep nesting, too many nodes, an empty
/// file, aliases that expand too far.
fn precheck(file: &LoadedFile) -> Result<(), Problem> {
    yaml_guard(&file.display, &file.text)?;
    if file
        .text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(Problem::new(&file.display, None, "the file is empty"));
    }
    Ok(())
}

/// The guards every YAML file drillbook reads passes before a parser sees it (runbooks, session
/// files, themes): nesting and node counts (`guard`), and alias expansion (`aliases`).
pub fn yaml_guard(display: &str, text: &str) -> Result<(), Problem> {
    match guard::check(text) {
        Ok(()) => {}
        Err(guard::Refusal::TooDeep(l, c)) => {
            return Err(Problem::new(
                display,
                Some((l, c)),
                format!(
                    "nesting is too deep (over {} levels); no drillbook file needs that",
                    guard::MAX_DEPTH
                ),
            ));
        }
        Err(guard::Refusal::TooManyNodes(l, c)) => {
            return Err(Problem::new(
                display,
                Some((l, c)),
                format!(
                    "too many YAML values (over {}); split the file",
                    guard::MAX_NODES
                ),
            ));
        }
    }
    // An alias can repeat a large node many times over: bounded by the text it would expand
    // to, checked only where the file has anchors at all (runbooks rarely do).
    if text.contains('&') && text.contains('*') {
        aliases::check(text)
            .map_err(|r| Problem::new(display, Some((r.line, r.column)), r.message))?;
    }
    Ok(())
}

/// serde_yaml's parse of the whole file, its error made one positioned, plain-English problem.
fn deserialize<T: serde::de::DeserializeOwned>(file: &LoadedFile) -> Result<T, Problem> {
    serde_yaml::from_str(&file.text).map_err(|e| {
        let (msg, pos) = plain_message(
            &file.text,
            &e.to_string(),
            e.location().map(|l| (l.line(), l.column())),
        );
        Problem::new(&file.display, pos, msg)
    })
}

/// Where the first alias (`*name`) is: serde_yaml gives no position when too many expand.
fn first_alias(text: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(n, line)| {
        let b = line.as_bytes();
        (0..b.len())
            .find(|&i| {
                b[i] == b'*'
                    && (i == 0 || matches!(b[i - 1], b' ' | b'[' | b'{' | b','))
                    && b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric)
            })
            .map(|i| (n + 1, i + 1))
    })
}

/// `MESSAGE at position N` (N a byte offset into `text`): the message, and the line and column
/// (in characters, as other positions are) of that byte.
fn at_byte_offset<'a>(text: &str, raw: &'a str) -> Option<(&'a str, (usize, usize))> {
    let (msg, n) = raw.rsplit_once(" at position ")?;
    let mut off = n.trim().parse::<usize>().ok()?.min(text.len());
    while !text.is_char_boundary(off) {
        off -= 1;
    }
    let before = &text[..off];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    Some((msg, (line, before[line_start..].chars().count() + 1)))
}

/// `line L column C` at the start of `s`, and the rest.
fn split_mark(s: &str) -> Option<((usize, usize), &str)> {
    let rest = s.strip_prefix("line ")?;
    let (l, rest) = rest.split_once(" column ")?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    Some(((l.parse().ok()?, rest[..end].parse().ok()?), &rest[end..]))
}

/// serde_yaml's message made plain: its own ` at line L column C` dropped (the position is in
/// front), the context it names kept (`while scanning a quoted scalar that starts at ...`), and
/// the names of Rust types replaced by what they mean in a file. A string never closed is
/// reported where it opens, not at the end of the file.
fn plain_message(
    text: &str,
    raw: &str,
    pos: Option<(usize, usize)>,
) -> (String, Option<(usize, usize)>) {
    // libyaml's reader errors (a NUL, another control character) carry a byte offset, and
    // serde_yaml then marks them at 1:1: the position is the offset's.
    let (raw, pos) = match at_byte_offset(text, raw) {
        Some((m, p)) => (m, Some(p)),
        None => (raw, pos),
    };
    if raw.contains("recursion limit exceeded") {
        return (
            format!(
                "nesting is too deep (over {} levels); a runbook never needs that",
                guard::MAX_DEPTH
            ),
            pos,
        );
    }
    if raw.contains("repetition limit exceeded") {
        return (
            "too many YAML aliases expanded (an alias bomb?); write the content out".into(),
            pos.or_else(|| first_alias(text)),
        );
    }
    let (problem, context) = match raw.find(" at line ") {
        Some(i) => {
            let after = &raw[i + " at ".len()..];
            let rest = split_mark(after).map_or("", |(_, r)| r);
            (&raw[..i], rest.strip_prefix(", "))
        }
        None => match raw.split_once(", while ") {
            Some((p, c)) => (p, Some(c)),
            None => (raw, None),
        },
    };
    let mut msg = problem.to_owned();
    let mut pos = pos;
    if let Some(ctx) = context {
        // `while scanning a quoted scalar at line 3 column 8`
        let (what, mark) = match ctx.find(" at line ") {
            Some(i) => (&ctx[..i], split_mark(&ctx[i + 4..]).map(|(m, _)| m)),
            None => (ctx, None),
        };
        let what = what
            .trim_start_matches("while ")
            .replace("scanning", "reading");
        if what.contains("quoted scalar") && problem.contains("end of stream") {
            msg = "a quoted string is never closed: add the closing quote".into();
            pos = mark.or(pos);
        } else {
            match mark {
                Some((l, c)) => {
                    let _ = write!(msg, " (while {what} that starts at line {l}, column {c})");
                }
                None => {
                    let _ = write!(msg, " (while {what})");
                }
            }
        }
    }
    if msg.is_empty() || msg.contains("EOF while parsing") {
        msg = "the file ends early".into();
    }
    for (rust, plain) in [
        (
            "struct RawSession",
            "a session file (fields such as id, title, timezone, date, phases)",
        ),
        (
            "struct RawRunbook",
            "a runbook (fields such as id, role, title, session, phases)",
        ),
        (
            "struct RawStep",
            "a step (fields such as id, title, detail)",
        ),
        ("struct RawPhase", "a phase (id, title, start, end)"),
        ("struct RawReference", "a reference (id, title, date)"),
        ("struct RawContact", "a contact (name, phone, email, roles)"),
        (
            "struct RawDeadline",
            "a deadline (id, title, due, target, roles)",
        ),
        ("struct RawChoice", "a choice (id, title, options)"),
        (
            "struct RawCheck",
            "a check (one of tcp, log, multicast, file, command, and its options)",
        ),
        ("struct RawNotify", "notify settings (lead_minutes)"),
        ("expected a boolean", "expected true or false"),
        ("expected u32", "expected a whole number"),
    ] {
        msg = msg.replace(rust, plain);
    }
    if let Some(hint) = did_you_mean(&msg) {
        msg.push_str(&hint);
    }
    (msg, pos)
}

/// For ``unknown field `critcal`, expected one of `id`, `critical`, ...``: the closest expected
/// name, when it is a likely typo.
fn did_you_mean(msg: &str) -> Option<String> {
    let rest = &msg[msg.find("unknown field `")? + "unknown field `".len()..];
    let (field, expected) = rest.split_once('`')?;
    let best = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|cand| (edit_distance(field, cand), cand))
        .min()?;
    (best.0 <= 2 && best.0 < field.len()).then(|| format!("; did you mean `{}`?", best.1))
}

/// Levenshtein distance over bytes: names are short ASCII.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Collects problems for one file, finding positions lazily (only when something is wrong).
struct Reporter<'a> {
    file: &'a LoadedFile,
    positions: Option<Positions>,
    problems: &'a mut Problems,
}

impl<'a> Reporter<'a> {
    fn new(file: &'a LoadedFile, problems: &'a mut Problems) -> Self {
        Self {
            file,
            positions: None,
            problems,
        }
    }
    fn positions(&mut self) -> &Positions {
        self.positions
            .get_or_insert_with(|| Positions::index(&self.file.text))
    }
    /// A problem with the value at `path`.
    fn at(&mut self, path: &str, msg: impl Into<String>) {
        let pos = self.positions().value(path);
        self.problems
            .push(Problem::new(&self.file.display, pos, msg));
    }
    /// A problem with the key naming `path`.
    fn at_key(&mut self, path: &str, msg: impl Into<String>) {
        let pos = self.positions().key(path);
        self.problems
            .push(Problem::new(&self.file.display, pos, msg));
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn check_format(r: &mut Reporter, format: Option<u32>) {
    if let Some(f) = format
        && f > FORMAT
    {
        r.at("format", format!("written for runbook format {f}; this drillbook reads format {FORMAT}: upgrade drillbook"));
    }
}

fn check_id(r: &mut Reporter, path: &str, what: &str, id: &str) {
    if !is_slug(id) {
        r.at(
            path,
            format!("{what} `{id}` must be lower-case letters, digits and dashes (at most 64)"),
        );
    }
}

/// Parse and validate a session file.
fn session_from(file: &LoadedFile) -> Result<Session, Problems> {
    let raw: RawSession = parse(file)?;
    let mut problems = Problems::default();
    let mut r = Reporter::new(file, &mut problems);
    check_format(&mut r, raw.format);
    check_id(&mut r, "id", "session id", &raw.id);

    let tz = if let Ok(tz) = raw.timezone.parse::<Tz>() {
        Some(tz)
    } else {
        r.at(
            "timezone",
            format!(
                "unknown timezone `{}`: use an IANA name such as Asia/Hong_Kong",
                raw.timezone
            ),
        );
        None
    };
    let date = parse_session_date(&raw.date)
        .map_err(|m| r.at("date", m))
        .ok();

    let mut lead: Vec<TimeDelta> = Vec::new();
    for (i, m) in raw
        .notify
        .lead_minutes
        .clone()
        .unwrap_or_else(|| vec![15, 5])
        .iter()
        .enumerate()
    {
        if *m == 0 || *m > 7 * 24 * 60 {
            r.at(
                &format!("notify.lead_minutes[{i}]"),
                format!("a warning {m} minutes before a boundary is out of range (1 to 10080)"),
            );
        } else {
            lead.push(TimeDelta::minutes(i64::from(*m)));
        }
    }
    lead.sort_by(|a, b| b.cmp(a));
    lead.dedup();

    let references = raw
        .references
        .iter()
        .enumerate()
        .map(|(i, x)| Reference {
            id: x.id.clone(),
            title: x.title.clone(),
            date: x.date.as_deref().and_then(|d| {
                parse_session_date(d)
                    .map_err(|m| r.at(&format!("references[{i}].date"), m))
                    .ok()
            }),
        })
        .collect();
    let contacts = raw
        .contacts
        .iter()
        .map(|c| Contact {
            name: c.name.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
            roles: c.roles.clone(),
        })
        .collect();

    let choices = choices_from(&mut r, &raw);
    let mut deadlines = Vec::new();
    let mut phases = Vec::new();
    if let (Some(tz), Some(date)) = (tz, date) {
        let mut seen = HashSet::new();
        for (i, d) in raw.deadlines.iter().enumerate() {
            let path = format!("deadlines[{i}]");
            check_id(&mut r, &format!("{path}.id"), "deadline id", &d.id);
            if !seen.insert(d.id.as_str()) {
                r.at(
                    &format!("{path}.id"),
                    format!("duplicate deadline id `{}`", d.id),
                );
            }
            let target = d.target.as_deref().and_then(|t| {
                TimeSpec::parse(t, true, false)
                    .and_then(|t| t.resolve(date, tz))
                    .map_err(|m| r.at(&format!("{path}.target"), m))
                    .ok()
            });
            match TimeSpec::parse(&d.due, true, false).and_then(|t| Ok((t, t.resolve(date, tz)?))) {
                Ok((spec, due)) => {
                    if let Some(t) = target
                        && t > due
                    {
                        r.at(
                            &format!("{path}.target"),
                            format!(
                                "the target `{}` is after the deadline `{}`: a target is the firm's earlier time to act by",
                                d.target.as_deref().unwrap_or_default().trim(),
                                d.due.trim()
                            ),
                        );
                    }
                    deadlines.push(Deadline {
                        id: d.id.clone(),
                        title: d.title.clone(),
                        due,
                        end_of_day: spec.end_of_day,
                        target,
                        roles: d.roles.clone(),
                    });
                }
                Err(m) => r.at(&format!("{path}.due"), m),
            }
        }
        phases = resolve_phases(&mut r, &raw, date, tz);
    }
    if raw.phases.is_empty() {
        r.at("phases", "a session needs at least one phase");
    }
    let (Some(tz), Some(date)) = (tz, date) else {
        return Err(problems);
    };
    problems.into_result(Session {
        id: raw.id,
        title: raw.title,
        tz,
        date,
        lead,
        references,
        contacts,
        deadlines,
        choices,
        phases,
        source: file.display.clone(),
        sha256: file.sha256(),
    })
}

/// The session's choices: slug ids, each unique, with at least two distinct slug options.
fn choices_from(r: &mut Reporter, raw: &RawSession) -> Vec<Choice> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, c) in raw.choices.iter().enumerate() {
        let path = format!("choices[{i}]");
        check_id(r, &format!("{path}.id"), "choice id", &c.id);
        if !seen.insert(c.id.as_str()) {
            r.at(
                &format!("{path}.id"),
                format!("duplicate choice id `{}`", c.id),
            );
        }
        if c.title.trim().is_empty() {
            r.at(&format!("{path}.title"), "a choice needs a title");
        }
        let mut opts = HashSet::new();
        for (j, o) in c.options.iter().enumerate() {
            check_id(r, &format!("{path}.options[{j}]"), "option", o);
            if !opts.insert(o.as_str()) {
                r.at(
                    &format!("{path}.options[{j}]"),
                    format!("option `{o}` is listed twice"),
                );
            }
        }
        if c.options.len() < 2 {
            r.at(
                &format!("{path}.options"),
                "a choice needs at least two options",
            );
        }
        out.push(Choice {
            id: c.id.clone(),
            title: c.title.clone(),
            options: c.options.clone(),
        });
    }
    out
}

fn resolve_phases(
    r: &mut Reporter,
    raw: &RawSession,
    date: chrono::NaiveDate,
    tz: Tz,
) -> Vec<Phase> {
    let mut phases: Vec<Phase> = Vec::new();
    let mut seen = HashSet::new();
    for (i, p) in raw.phases.iter().enumerate() {
        let path = format!("phases[{i}]");
        check_id(r, &format!("{path}.id"), "phase id", &p.id);
        if !seen.insert(p.id.as_str()) {
            r.at(
                &format!("{path}.id"),
                format!("duplicate phase id `{}`", p.id),
            );
        }
        let mut bound = |field: &str, raw: &str| {
            TimeSpec::parse(raw, false, true)
                .and_then(|t| {
                    Ok(Boundary {
                        at: t.resolve(date, tz)?,
                        approximate: t.approximate,
                    })
                })
                .map_err(|m| r.at(&format!("{path}.{field}"), m))
                .ok()
        };
        let (Some(start), Some(end)) = (bound("start", &p.start), bound("end", &p.end)) else {
            continue;
        };
        if end.at <= start.at {
            r.at(
                &format!("{path}.end"),
                format!(
                    "phase `{}` ends ({}) before it starts ({})",
                    p.id,
                    p.end.trim(),
                    p.start.trim()
                ),
            );
            continue;
        }
        if let Some(prev) = phases.last() {
            if start.at < prev.start.at {
                r.at(&format!("{path}.start"), format!(
                    "phase `{}` starts before phase `{}`, which is listed before it: list phases in time order",
                    p.id, prev.id
                ));
                continue;
            }
            if start.at < prev.end.at {
                r.at(
                    &format!("{path}.start"),
                    format!(
                        "phase `{}` starts ({}) before phase `{}` ends: phases must not overlap",
                        p.id,
                        p.start.trim(),
                        prev.id
                    ),
                );
                continue;
            }
        }
        phases.push(Phase {
            id: p.id.clone(),
            title: p.title.clone(),
            detail: p.detail.clone(),
            start,
            end,
        });
    }
    phases
}

/// Where a step id was first used: runbook, phase group and position in the group. Kept as
/// indices so that the common case (no duplicate) allocates no path string per step.
#[derive(Clone, Copy)]
struct FirstUse {
    runbook: usize,
    group: usize,
    index: usize,
}

/// What step validation needs from the runbook being read.
struct RunbookCtx<'a> {
    session: &'a Session,
    index: usize,
    role: &'a str,
    /// The phase keys of this runbook, in file order, for paths in messages.
    groups: &'a [String],
    /// Every runbook's file name, for a duplicate first used in another file.
    displays: &'a [String],
    /// Choice ids some step of the runbooks loaded together settles.
    settled: &'a HashSet<String>,
    /// The site names this runbook declares (`site:`), for its checks' `${name}` references.
    declared: &'a [String],
}

/// The path of a step's field, built only when there is a problem to report.
fn step_path(phase_key: &str, i: usize, field: &str) -> String {
    format!("phases.{phase_key}[{i}].{field}")
}

/// Parse and validate a runbook against its session, appending its steps.
fn runbook_from(
    file: &LoadedFile,
    raw: RawRunbook,
    cx: &RunbookCtx,
    seen_steps: &mut HashMap<String, FirstUse>,
    steps: &mut Vec<Step>,
    problems: &mut Problems,
) -> Runbook {
    let mut r = Reporter::new(file, problems);
    check_format(&mut r, raw.format);
    check_id(&mut r, "id", "runbook id", &raw.id);
    check_id(&mut r, "role", "role", &raw.role);
    let site = site_declarations(&mut r, raw.site);
    let session = cx.session;
    let mut seen_phases = HashSet::new();
    for (g, (phase_id, group)) in raw.phases.0.into_iter().enumerate() {
        let phase_path = format!("phases.{phase_id}");
        if !seen_phases.insert(phase_id.clone()) {
            r.at_key(&phase_path, format!("phase `{phase_id}` is listed twice"));
        }
        let Some(phase) = session.phase_index(&phase_id) else {
            let known: Vec<&str> = session.phases.iter().map(|p| p.id.as_str()).collect();
            r.at_key(&phase_path, format!(
                "steps are grouped under `{phase_id}`, which is not a phase of session `{}` (its phases: {})",
                session.id,
                known.join(", ")
            ));
            continue;
        };
        steps.reserve(group.len());
        for (i, s) in group.into_iter().enumerate() {
            let at = FirstUse {
                runbook: cx.index,
                group: g,
                index: i,
            };
            if let Some(step) = step_from(&mut r, cx, at, s, phase, seen_steps) {
                steps.push(step);
            }
        }
    }
    Runbook {
        id: raw.id,
        role: raw.role,
        title: raw.title,
        site,
        source: file.display.clone(),
        sha256: file.sha256(),
    }
}

fn step_from(
    r: &mut Reporter,
    cx: &RunbookCtx,
    at: FirstUse,
    step: RawStep,
    phase: usize,
    seen: &mut HashMap<String, FirstUse>,
) -> Option<Step> {
    let key = cx.groups[at.group].as_str();
    let path = |field: &str| step_path(key, at.index, field);
    if !is_slug(&step.id) {
        check_id(r, &path("id"), "step id", &step.id);
    }
    if let Some(first) = seen.get(&step.id).copied() {
        // Positions are indexed only now that there is something to report.
        let first = if first.runbook == cx.index {
            let first_path = step_path(&cx.groups[first.group], first.index, "id");
            match r.positions().value(&first_path) {
                Some((line, col)) => format!("line {line}, column {col}"),
                None => first_path,
            }
        } else {
            cx.displays[first.runbook].clone()
        };
        r.at(
            &path("id"),
            format!("duplicate step id `{}` (first used at {first})", step.id),
        );
    } else {
        seen.insert(step.id.clone(), at);
    }
    if step.title.trim().is_empty() {
        r.at(&path("title"), "a step needs a title");
    }
    if step
        .not_applicable
        .as_deref()
        .is_some_and(|x| x.trim().is_empty())
    {
        r.at(
            &path("not_applicable"),
            "give the reason the step does not apply",
        );
    }
    check_choices(r, cx, &path, &step);
    let due = match &step.due {
        None => None,
        Some(d) => match TimeSpec::parse(d, false, false)
            .and_then(|t| t.resolve(cx.session.date, cx.session.tz))
        {
            Ok(t) => Some(t),
            Err(m) => {
                r.at(&path("due"), m);
                return None;
            }
        },
    };
    let mut evidence = step.evidence;
    for c in step.settles.iter().filter_map(|c| cx.session.choice(c)) {
        let field = c.field();
        if !evidence.contains(&field) {
            evidence.push(field);
        }
    }
    let check = step.check.and_then(|raw| {
        let spec_cx = crate::check::spec::SpecCtx {
            date: cx.session.date,
            tz: cx.session.tz,
            evidence: &evidence,
            declared: cx.declared,
        };
        crate::check::spec::from_raw(raw, &spec_cx)
            .map_err(|problems| {
                for p in problems {
                    let at = if p.field.is_empty() {
                        path("check")
                    } else {
                        format!("{}.{}", path("check"), p.field)
                    };
                    if p.at_key {
                        r.at_key(&at, p.message);
                    } else {
                        r.at(&at, p.message);
                    }
                }
            })
            .ok()
    });
    Some(Step {
        id: step.id,
        role: cx.role.to_owned(),
        runbook: cx.index,
        phase,
        title: step.title,
        detail: step.detail,
        basis: step.basis,
        systems: step.system.0,
        due,
        critical: step.critical,
        evidence,
        expect: step.expect,
        command: step.command,
        not_applicable: step.not_applicable,
        settles: step.settles,
        applies_if: step.applies_if.map(|o| o.0).unwrap_or_default(),
        check,
    })
}

/// A runbook's `site:` declarations: each name a site value name, said once, with what it is
/// (the comment `runbooks export` writes beside it in `site.example.yaml`).
fn site_declarations(
    r: &mut Reporter,
    raw: Option<super::raw::Ordered<String>>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, about) in raw.map(|o| o.0).unwrap_or_default() {
        let at = format!("site.{name}");
        if !crate::check::spec::is_site_name(&name) {
            r.at_key(&at, format!(
                "`{name}` is not a site value name: lower-case letters, digits and underscores, starting with a letter"
            ));
        } else if out.iter().any(|(n, _)| *n == name) {
            r.at_key(&at, format!("site value `{name}` is declared twice"));
        } else if about.trim().is_empty() {
            r.at(
                &at,
                format!("say what `{name}` is: the site file's example gives it as a comment"),
            );
        }
        out.push((name, about));
    }
    out
}

/// `settles` and `applies_if` name the session's choices and their options, and a condition
/// names a choice some loaded step settles (else nobody could record it).
fn check_choices(r: &mut Reporter, cx: &RunbookCtx, path: &dyn Fn(&str) -> String, step: &RawStep) {
    let session = cx.session;
    let unknown = |id: &str| {
        let known: Vec<&str> = session.choices.iter().map(|c| c.id.as_str()).collect();
        format!(
            "`{id}` is not a choice of session `{}` (its choices: {})",
            session.id,
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )
    };
    for (i, c) in step.settles.iter().enumerate() {
        if session.choice(c).is_none() {
            r.at(&format!("{}[{i}]", path("settles")), unknown(c));
        }
    }
    if let Some(cond) = &step.applies_if {
        if cond.0.is_empty() {
            r.at(
                &path("applies_if"),
                "name at least one choice and its option",
            );
        }
        for (id, option) in &cond.0 {
            let at = format!("{}.{id}", path("applies_if"));
            match session.choice(id) {
                None => r.at_key(&at, unknown(id)),
                Some(c) if !c.options.contains(option) => r.at(
                    &at,
                    format!(
                        "`{option}` is not an option of choice `{id}` (its options: {})",
                        c.options.join(", ")
                    ),
                ),
                Some(_) if !cx.settled.contains(id) => r.at_key(
                    &at,
                    format!(
                        "no step loaded settles choice `{id}`: add `settles: [{id}]` to the step where the operator records it"
                    ),
                ),
                Some(_) => {}
            }
        }
        if step.not_applicable.is_some() {
            r.at(
                &path("applies_if"),
                "a step is either not applicable (not_applicable) or conditional (applies_if), not both",
            );
        }
    }
}

/// Compose runbooks (already read) over their one shared session into a plan.
fn compose(files: &[LoadedFile]) -> Result<Plan, Problems> {
    let mut problems = Problems::default();
    let mut parsed = Vec::new();
    for f in files {
        match parse_runbook(f) {
            Ok(raw) => parsed.push((f, raw)),
            Err(p) => problems.push(p),
        }
    }
    // Every runbook must name the same session file: the schedule lives in one place.
    // (index of the first runbook naming it, the place as named, the place's identity)
    let mut session_place: Option<(usize, Place, Place)> = None;
    for (i, (f, raw)) in parsed.iter().enumerate() {
        let place = match f.place.sibling(&raw.session) {
            Ok(p) => p,
            Err(m) => {
                Reporter::new(f, &mut problems).at("session", m);
                continue;
            }
        };
        let identity = place.identity();
        match &session_place {
            None => session_place = Some((i, place, identity)),
            Some((first, _, id)) if *id != identity => {
                let first = parsed[*first].0.display.clone();
                let mut r = Reporter::new(f, &mut problems);
                r.at("session", format!(
                    "names session file `{}`, but {first} names another: runbooks loaded together must share one session file",
                    raw.session
                ));
            }
            Some(_) => {}
        }
    }
    let Some((first, place, _)) = session_place else {
        return Err(problems);
    };
    let session_file = match LoadedFile::read(place) {
        Ok(f) => f,
        Err(e) => {
            // Reported where the runbook names it: that is the line to fix.
            let (f, raw) = &parsed[first];
            let mut r = Reporter::new(f, &mut problems);
            r.at(
                "session",
                format!("session file `{}` ({}) {}", raw.session, e.file, e.message),
            );
            return Err(problems);
        }
    };
    let session = match session_from(&session_file) {
        Ok(s) => s,
        Err(mut p) => {
            problems.0.append(&mut p.0);
            return Err(problems);
        }
    };
    let mut steps = Vec::new();
    let mut runbooks = Vec::new();
    let mut seen_steps = HashMap::new();
    let displays: Vec<String> = parsed.iter().map(|(f, _)| f.display.clone()).collect();
    let settled: HashSet<String> = parsed
        .iter()
        .flat_map(|(_, raw)| raw.phases.0.iter())
        .flat_map(|(_, group)| group.iter())
        .flat_map(|s| s.settles.iter().cloned())
        .collect();
    for (i, (f, raw)) in parsed.into_iter().enumerate() {
        let groups: Vec<String> = raw.phases.0.iter().map(|(k, _)| k.clone()).collect();
        let role = raw.role.clone();
        let declared: Vec<String> = raw
            .site
            .iter()
            .flat_map(|o| o.0.iter().map(|(k, _)| k.clone()))
            .collect();
        let cx = RunbookCtx {
            session: &session,
            index: i,
            role: &role,
            groups: &groups,
            displays: &displays,
            settled: &settled,
            declared: &declared,
        };
        runbooks.push(runbook_from(
            f,
            raw,
            &cx,
            &mut seen_steps,
            &mut steps,
            &mut problems,
        ));
    }
    // Stable: within a phase, runbook order then file order is kept. Usually already in order.
    if !steps.is_sorted_by_key(|s| s.phase) {
        steps.sort_by_key(|s| s.phase);
    }
    problems.into_result(Plan {
        session,
        runbooks,
        steps,
    })
}

/// Load runbooks from disk (a session file among them is checked and otherwise ignored).
pub fn load_paths(paths: &[PathBuf]) -> Result<Plan, Problems> {
    let mut problems = Problems::default();
    let mut runbooks = Vec::new();
    let mut sessions = Vec::new();
    for p in paths {
        match LoadedFile::read(Place::Disk(p.clone())) {
            Ok(f) if f.is_runbook() => runbooks.push(f),
            Ok(f) => sessions.push(f),
            Err(e) => problems.push(e),
        }
    }
    for s in &sessions {
        if let Err(mut p) = session_from(s) {
            problems.0.append(&mut p.0);
        }
    }
    if runbooks.is_empty() && problems.is_empty() {
        return Err(Problem::new(
            &paths.first().map_or_else(String::new, |p| p.display().to_string()),
            None,
            "no runbook given: a session file holds only the schedule; name the runbooks that refer to it",
        )
        .into());
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    compose(&runbooks)
}

/// Load the bundled runbooks of `roles`, in the order given.
/// Why bundled runbooks could not be loaded: the roles asked for (a usage error), or the content.
#[derive(Debug, thiserror::Error)]
pub enum BundledError {
    #[error("{0}")]
    Roles(Problems),
    #[error("{0}")]
    Invalid(Problems),
}

pub fn load_bundled(roles: &[String]) -> Result<Plan, BundledError> {
    let mut files = Vec::new();
    let mut problems = Problems::default();
    let mut named = Vec::new();
    for role in roles {
        match bundled::runbook_for(role) {
            // Loaded twice, every step of it would be a duplicate id: one usage error instead.
            Some(name) if named.contains(&name) => problems.push(Problem::new(
                "--role",
                None,
                format!(
                    "the role `{}` is named more than once; name each role once",
                    crate::text::clean_line(role)
                ),
            )),
            Some(name) => {
                named.push(name.clone());
                files.push(
                    LoadedFile::read(Place::Bundled(name))
                        .map_err(|p| BundledError::Invalid(p.into()))?,
                );
            }
            None => problems.push(Problem::new(
                "--role",
                None,
                format!(
                    "unknown role `{role}`: the bundled roles are {}",
                    bundled::bundled_roles().join(", ")
                ),
            )),
        }
    }
    if roles.is_empty() {
        problems.push(Problem::new("--role", None, "name at least one role"));
    }
    if !problems.is_empty() {
        return Err(BundledError::Roles(problems));
    }
    compose(&files).map_err(BundledError::Invalid)
}

/// What `validate` checked, for its summary line.
#[derive(Debug, Default)]
pub struct Checked {
    pub sessions: usize,
    pub runbooks: usize,
    pub steps: usize,
}

/// Validate files and folders (every `*.yaml`/`*.yml` inside); none means the bundled runbooks.
/// Runbooks are grouped by the session they name and composed per group, so duplicate step ids
/// across runbooks of one session are caught too.
pub fn validate_paths(paths: &[PathBuf]) -> Result<Checked, Problems> {
    let mut problems = Problems::default();
    let mut files = Vec::new();
    if paths.is_empty() {
        for name in bundled::names() {
            files.push(LoadedFile::read(Place::Bundled(name.to_owned())).map_err(Problems::from)?);
        }
    }
    for p in paths {
        if p.is_dir() {
            // A folder of session folders (what `runbooks export` writes) is read one level down.
            match yaml_files_in(p).and_then(|l| {
                if l.is_empty() {
                    yaml_files_in_subfolders(p)
                } else {
                    Ok(l)
                }
            }) {
                Ok(list) if list.is_empty() => problems.push(Problem::new(
                    &p.display().to_string(),
                    None,
                    "no .yaml files in this folder or in its folders",
                )),
                Ok(list) => list
                    .into_iter()
                    .for_each(|f| match LoadedFile::read(Place::Disk(f)) {
                        Ok(f) => files.push(f),
                        Err(e) => problems.push(e),
                    }),
                Err(m) => problems.push(Problem::new(&p.display().to_string(), None, m)),
            }
        } else {
            match LoadedFile::read(Place::Disk(p.clone())) {
                Ok(f) => files.push(f),
                Err(e) => problems.push(e),
            }
        }
    }
    let mut checked = Checked::default();
    let mut groups: Vec<(Place, Vec<LoadedFile>)> = Vec::new();
    let mut sessions = Vec::new();
    for f in files {
        if !f.is_runbook() && crate::site::looks_like_site_file(&f.text) {
            // `site.example.yaml` beside exported runbooks: read as a site file, not a session.
            if let Err(mut p) = crate::site::parse(&f.display, &f.text) {
                problems.0.append(&mut p.0);
            }
            continue;
        }
        if !f.is_runbook() {
            sessions.push(f);
            continue;
        }
        match parse_runbook(&f) {
            Err(p) => problems.push(p),
            Ok(raw) => {
                // A session name that is refused is reported when the group is composed.
                let key = f
                    .place
                    .sibling(&raw.session)
                    .map_or_else(|_| f.place.identity(), |p| p.identity());
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, g)) => g.push(f),
                    None => groups.push((key, vec![f])),
                }
            }
        }
    }
    for s in &sessions {
        let used = groups.iter().any(|(k, _)| *k == s.place.identity());
        match session_from(s) {
            Ok(_) if !used => checked.sessions += 1,
            Ok(_) => {}
            // A session used by runbooks is reported once, through them.
            Err(_) if used => {}
            Err(mut p) => problems.0.append(&mut p.0),
        }
    }
    for (_, group) in &groups {
        match compose(group) {
            Ok(plan) => {
                checked.sessions += 1;
                checked.runbooks += plan.runbooks.len();
                checked.steps += plan.steps.len();
            }
            Err(mut p) => problems.0.append(&mut p.0),
        }
    }
    problems.into_result(checked)
}

/// The .yaml files of each folder directly in `dir`, folder by folder in name order.
fn yaml_files_in_subfolders(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io_message(&e))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for d in dirs {
        out.extend(yaml_files_in(&d)?);
    }
    Ok(out)
}

fn yaml_files_in(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io_message(&e))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    out.sort();
    Ok(out)
}
