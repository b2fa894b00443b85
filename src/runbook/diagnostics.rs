//! Problems with positions: the hostile-YAML guards run before any parser, serde_yaml's errors
//! made one positioned plain-English line, and the reporter that places a problem at the value or
//! key it concerns.

use super::position::Positions;
use super::read::LoadedFile;
use super::{Problem, Problems};
use super::{aliases, guard};
use std::fmt::Write;

/// Check, then deserialise (a session file or a runbook).
pub(super) fn parse<T: serde::de::DeserializeOwned>(file: &LoadedFile) -> Result<T, Problem> {
    precheck(file)?;
    deserialize(file)
}

/// What is refused before serde_yaml sees the text: deep nesting, too many nodes, an empty
/// file, aliases that expand too far.
pub(super) fn precheck(file: &LoadedFile) -> Result<(), Problem> {
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

/// serde_yaml's parse of `text` into `T`, with a YAML syntax error reported as one rather than as
/// the type error it can show up as first.
///
/// serde_yaml parses up to the first syntax error and hands the events before it to the
/// deserialiser, which reports the syntax error only if it runs out of events. When the events
/// before the error are already the wrong shape (`id: [` and nothing more: a sequence where a
/// string belongs), the type error comes first, at the wrong place, and the real mistake (a `[`
/// never closed) is lost. So when `T` refuses the text, the text is read again as any YAML at all
/// (`IgnoredAny`, which walks every event), and a failure there, a syntax error, is the one
/// reported. Valid files pay nothing: the second read happens only on an error.
pub fn from_yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_yaml::Error> {
    serde_yaml::from_str(text).map_err(|e| {
        serde_yaml::from_str::<serde::de::IgnoredAny>(text)
            .err()
            .unwrap_or(e)
    })
}

/// serde_yaml's parse of the whole file, its error made one positioned, plain-English problem.
pub(super) fn deserialize<T: serde::de::DeserializeOwned>(file: &LoadedFile) -> Result<T, Problem> {
    from_yaml(&file.text).map_err(|e| {
        let (msg, pos) = plain_message(
            &file.text,
            &e.to_string(),
            e.location().map(|l| (l.line(), l.column())),
        );
        // serde quotes a bad scalar whole, in Rust's escapes: cut and neutralised here, so a
        // one-line file of megabytes is not carried (or printed) whole.
        Problem::new(&file.display, pos, crate::text::diagnostic(&msg))
    })
}

/// Where the first alias (`*name`) is: serde_yaml gives no position when too many expand.
pub(super) fn first_alias(text: &str) -> Option<(usize, usize)> {
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
pub(super) fn at_byte_offset<'a>(text: &str, raw: &'a str) -> Option<(&'a str, (usize, usize))> {
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
pub(super) fn split_mark(s: &str) -> Option<((usize, usize), &str)> {
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
pub(super) fn plain_message(
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
pub(super) fn did_you_mean(msg: &str) -> Option<String> {
    let rest = &msg[msg.find("unknown field `")? + "unknown field `".len()..];
    let (field, expected) = rest.split_once('`')?;
    let best = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|cand| (crate::text::edit_distance(field, cand), cand))
        .min()?;
    (best.0 <= 2 && best.0 < field.len()).then(|| format!("; did you mean `{}`?", best.1))
}

/// Collects problems for one file, finding positions lazily (only when something is wrong).
pub(super) struct Reporter<'a> {
    file: &'a LoadedFile,
    positions: Option<Positions>,
    problems: &'a mut Problems,
}

impl<'a> Reporter<'a> {
    pub(super) fn new(file: &'a LoadedFile, problems: &'a mut Problems) -> Self {
        Self {
            file,
            positions: None,
            problems,
        }
    }
    pub(super) fn positions(&mut self) -> &Positions {
        self.positions
            .get_or_insert_with(|| Positions::index(&self.file.text))
    }
    /// A problem with the value at `path` (inside an alias: at the alias).
    pub(super) fn at(&mut self, path: &str, msg: impl std::fmt::Display) {
        let pos = self.positions().value_or_enclosing(path);
        self.problems
            .push(Problem::new(&self.file.display, pos, msg));
    }
    /// A problem with the key naming `path` (inside an alias: at the alias).
    pub(super) fn at_key(&mut self, path: &str, msg: impl std::fmt::Display) {
        let p = self.positions();
        let pos = p.key(path).or_else(|| p.value_or_enclosing(path));
        self.problems
            .push(Problem::new(&self.file.display, pos, msg));
    }
}
