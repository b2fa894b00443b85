//! A step's `check:` as written in the runbook and as validated: which probe, what it looks at
//! (with `${name}` references to the site file), its pattern, its timing and what it files as
//! evidence. Problems are returned with the field they concern, for the loader to position.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use regex::Regex;
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// A check exactly as written: one kind key (`tcp`, `log`, `multicast`, `file`, `command`) and
/// the options; unknown keys are errors with a did-you-mean, as everywhere in a runbook.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    pub tcp: Option<String>,
    pub log: Option<String>,
    pub multicast: Option<String>,
    pub file: Option<String>,
    pub command: Option<Vec<String>>,
    #[serde(rename = "match")]
    pub pattern: Option<String>,
    pub from: Option<String>,
    pub zone: Option<String>,
    pub source: Option<String>,
    pub interface: Option<String>,
    pub window: Option<String>,
    pub min: Option<u32>,
    pub newer_than: Option<String>,
    pub allow: Option<bool>,
    pub rehearsal_safe: Option<bool>,
    pub timeout: Option<String>,
    pub every: Option<String>,
    pub settle: Option<String>,
    pub record: Option<crate::runbook::Ordered<String>>,
}

/// The probes. Each only observes: a connect with no byte sent, a file read, a multicast join
/// that never sends, a program run only where the operator and the runbook both allow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tcp,
    Log,
    Multicast,
    File,
    Command,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Kind::Tcp => "tcp",
            Kind::Log => "log",
            Kind::Multicast => "multicast",
            Kind::File => "file",
            Kind::Command => "command",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// Text with `${name}` references to the site file's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// As written.
    pub text: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Ref(String),
}

/// What a site value's name may be: what a YAML key can hold plainly, and what reads well in a
/// message. Lower-case letters, digits and underscores, starting with a letter.
pub fn is_site_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.as_bytes()[0].is_ascii_lowercase()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Why a check's site-value template, pattern or duration was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    #[error("`${{` is never closed in `{0}`: write a site value as `${{name}}`")]
    Unclosed(String),
    #[error(
        "`${{{0}}}` is not a site value name: lower-case letters, digits and underscores, starting with a letter"
    )]
    BadName(String),
    #[error("`match` is not a valid regular expression: {}", regex_words(.0))]
    BadPattern(regex::Error),
    /// A pattern from the site file that does not compile: the template that named it.
    #[error("{source} (`match` is `{template}` from the site file)")]
    SitePattern {
        source: Box<SpecError>,
        template: String,
    },
    #[error(
        "`{0}` is not a duration: write a whole number and a unit, such as 500ms, 30s, 5m or 1h"
    )]
    NotDuration(String),
}

/// The regex crate's message is several lines with a caret under the spot; the last line says
/// what is wrong.
fn regex_words(e: &regex::Error) -> String {
    let m = e.to_string();
    m.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .trim_start_matches("error: ")
        .to_owned()
}

impl Template {
    /// Parse `${name}` references; a `$` not followed by `{` is kept as it is.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            lit.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(end) = after.find('}') else {
                return Err(SpecError::Unclosed(text.to_owned()));
            };
            let name = &after[..end];
            if !is_site_name(name) {
                return Err(SpecError::BadName(name.to_owned()));
            }
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            parts.push(Part::Ref(name.to_owned()));
            rest = &after[end + 1..];
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Self {
            text: text.to_owned(),
            parts,
        })
    }

    /// The names it refers to, in order (a name used twice is listed twice).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Ref(n) => Some(n.as_str()),
            Part::Lit(_) => None,
        })
    }

    /// The one site name it is, when it is exactly `${name}` and nothing else.
    pub fn site_name(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Ref(n)] => Some(n),
            _ => None,
        }
    }

    /// Whether it holds no reference (it can be checked when the runbook is loaded).
    pub fn is_literal(&self) -> bool {
        self.names().next().is_none()
    }

    /// The text with every reference filled from `value`; the names `value` has nothing for.
    pub fn fill(&self, value: impl Fn(&str) -> Option<String>) -> Result<String, Vec<String>> {
        let mut out = String::new();
        let mut missing = Vec::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Ref(n) => match value(n) {
                    Some(v) => out.push_str(&v),
                    None => {
                        if !missing.contains(n) {
                            missing.push(n.clone());
                        }
                    }
                },
            }
        }
        if missing.is_empty() {
            Ok(out)
        } else {
            Err(missing)
        }
    }
}

/// A regular expression from a runbook, compiled with a size limit (the `regex` crate matches
/// in linear time; the limit bounds what compiling a hostile pattern can cost).
#[derive(Debug, Clone)]
pub struct Pattern {
    pub text: String,
    pub regex: Regex,
}

/// The most memory a compiled pattern may take.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

impl Pattern {
    pub fn new(text: &str) -> Result<Self, SpecError> {
        let regex = regex::RegexBuilder::new(text)
            .size_limit(PATTERN_SIZE_LIMIT)
            .build()
            .map_err(SpecError::BadPattern)?;
        Ok(Self {
            text: text.to_owned(),
            regex,
        })
    }

    /// The names of its named groups, in order.
    pub fn groups(&self) -> Vec<String> {
        self.regex
            .capture_names()
            .flatten()
            .map(str::to_owned)
            .collect()
    }
}

/// A check's pattern: written in the runbook, or a `${name}` whose value in the site file is
/// the pattern (a BSS's log format is the firm's: a bundled runbook cannot know it). A pattern
/// from the site file is compiled when the check runs; an invalid one is that run's error.
#[derive(Debug, Clone)]
pub enum Matcher {
    Fixed(Pattern),
    Site(Template),
}

impl Matcher {
    /// As written.
    pub fn text(&self) -> &str {
        match self {
            Matcher::Fixed(p) => &p.text,
            Matcher::Site(t) => &t.text,
        }
    }

    /// The pattern, its site values filled in by `fill`.
    pub fn resolve(&self, fill: impl Fn(&Template) -> String) -> Result<Pattern, SpecError> {
        match self {
            Matcher::Fixed(p) => Ok(p.clone()),
            Matcher::Site(t) => Pattern::new(&fill(t)).map_err(|m| SpecError::SitePattern {
                source: Box::new(m),
                template: t.text.clone(),
            }),
        }
    }
}

/// Where a log check starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    /// Lines written after the check starts (and, run again, after where the last run stopped).
    Now,
    /// Lines from the start of the step's phase: the file is read from its beginning and a line
    /// counts only when its own time (the group `at`) is not before the phase started.
    PhaseStart,
}

/// The instant a file must be newer than.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewerThan {
    PhaseStart,
    At(DateTime<Utc>),
}

#[derive(Debug, Clone)]
pub enum Probe {
    Tcp {
        target: Template,
    },
    Log {
        path: Template,
        pattern: Matcher,
        from: From,
        /// The zone the log writes its times in (default: the session's).
        zone: Option<Tz>,
    },
    Multicast {
        group: Template,
        source: Option<Template>,
        interface: Option<Template>,
        window: Duration,
        min: u32,
    },
    File {
        path: Template,
        newer_than: Option<NewerThan>,
        pattern: Option<Matcher>,
    },
    Command {
        argv: Vec<Template>,
        allow: bool,
        rehearsal_safe: bool,
        pattern: Option<Matcher>,
    },
}

/// A validated check.
#[derive(Debug, Clone)]
pub struct Check {
    pub probe: Probe,
    /// How long one run may take (for multicast: the listening window and a second to join).
    pub timeout: Duration,
    /// Run by itself this often (real time) in the step's phase until it passes.
    pub every: Option<Duration>,
    /// A pass marks the step done.
    pub settle_on_pass: bool,
    /// (value name, evidence field): `record:` as written. A captured value not named there is
    /// filed under the step's field of its own name (`logon_time` for `logon time`), if any.
    pub record: Vec<(String, String)>,
    /// The step's evidence fields.
    pub fields: Vec<String>,
}

impl Check {
    pub fn kind(&self) -> Kind {
        match self.probe {
            Probe::Tcp { .. } => Kind::Tcp,
            Probe::Log { .. } => Kind::Log,
            Probe::Multicast { .. } => Kind::Multicast,
            Probe::File { .. } => Kind::File,
            Probe::Command { .. } => Kind::Command,
        }
    }

    /// What it looks at, as written (`${ocg_backup_host}:${ocg_backup_port}`).
    pub fn target_text(&self) -> String {
        match &self.probe {
            Probe::Tcp { target } => target.text.clone(),
            Probe::Log { path, .. } | Probe::File { path, .. } => path.text.clone(),
            Probe::Multicast { group, .. } => group.text.clone(),
            Probe::Command { argv, .. } => argv
                .iter()
                .map(|a| a.text.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    /// The evidence field a captured value is filed under, if any.
    pub fn field_for(&self, value: &str) -> Option<&str> {
        self.record
            .iter()
            .find(|(n, _)| n == value)
            .map(|(_, f)| f.as_str())
            .or_else(|| {
                self.fields
                    .iter()
                    .find(|f| norm(f) == norm(value))
                    .map(String::as_str)
            })
    }

    /// The pattern, if it has one.
    pub fn matcher(&self) -> Option<&Matcher> {
        match &self.probe {
            Probe::Log { pattern, .. } => Some(pattern),
            Probe::File { pattern, .. } | Probe::Command { pattern, .. } => pattern.as_ref(),
            _ => None,
        }
    }

    /// Every template it holds, its pattern's included.
    pub fn templates(&self) -> Vec<&Template> {
        let mut all = self.target_templates();
        if let Some(Matcher::Site(t)) = self.matcher() {
            all.push(t);
        }
        all
    }

    /// The templates of what it looks at.
    fn target_templates(&self) -> Vec<&Template> {
        match &self.probe {
            Probe::Tcp { target } => vec![target],
            Probe::Log { path, .. } | Probe::File { path, .. } => vec![path],
            Probe::Multicast {
                group,
                source,
                interface,
                ..
            } => std::iter::once(group)
                .chain(source.as_ref())
                .chain(interface.as_ref())
                .collect(),
            Probe::Command { argv, .. } => argv.iter().collect(),
        }
    }

    /// The site names it refers to, each once, in order.
    pub fn site_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in self.templates() {
            for n in t.names() {
                if !out.iter().any(|x| x == n) {
                    out.push(n.to_owned());
                }
            }
        }
        out
    }

    /// The names of the values a run of it captures; `None` when its pattern comes from the
    /// site file (its groups are known only then).
    pub fn value_names(&self) -> Option<Vec<String>> {
        value_names(&self.probe)
    }
}

/// The values each kind captures: fixed ones, and the named groups of its pattern.
fn value_names(probe: &Probe) -> Option<Vec<String>> {
    let fixed: &[&str] = match probe {
        Probe::Tcp { .. } => &["address", "connect_ms"],
        Probe::Log { .. } => &[],
        Probe::Multicast { .. } => &["first_arrival", "datagrams", "sender"],
        Probe::File { .. } => &["modified", "size"],
        Probe::Command { .. } => &["exit_status"],
    };
    let pattern = match probe {
        Probe::Log { pattern, .. } => Some(pattern),
        Probe::File { pattern, .. } | Probe::Command { pattern, .. } => pattern.as_ref(),
        _ => None,
    };
    let groups = match pattern {
        Some(Matcher::Site(_)) => return None,
        Some(Matcher::Fixed(p)) => p.groups(),
        None => Vec::new(),
    };
    Some(
        fixed
            .iter()
            .map(|s| (*s).to_owned())
            .chain(groups)
            .collect(),
    )
}

/// A duration as a runbook writes it: `500ms`, `30s`, `5m`, `1h`.
pub fn parse_duration(s: &str) -> Result<Duration, SpecError> {
    let t = s.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let (n, unit) = t.split_at(digits);
    let n: u64 = n.parse().map_err(|_| not_duration(s))?;
    let ms = match unit {
        "ms" => n,
        "s" => n.saturating_mul(1000),
        "m" => n.saturating_mul(60_000),
        "h" => n.saturating_mul(3_600_000),
        _ => return Err(not_duration(s)),
    };
    Ok(Duration::from_millis(ms))
}

fn not_duration(s: &str) -> SpecError {
    SpecError::NotDuration(s.to_owned())
}

/// Words for a duration in messages: `30s`, `1m30s`, `500ms`.
pub fn duration_words(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if !ms.is_multiple_of(1000) {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        let s = d.as_secs();
        match (s / 3600, s % 3600 / 60, s % 60) {
            (0, 0, s) => format!("{s}s"),
            (0, m, 0) => format!("{m}m"),
            (0, m, s) => format!("{m}m{s}s"),
            (h, 0, 0) => format!("{h}h"),
            (h, m, _) => format!("{h}h{m}m"),
        }
    }
}

/// The limits a runbook's timings must keep to.
pub const MIN_TIMEOUT: Duration = Duration::from_millis(100);
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);
/// Automatic runs no more often than this: a probe every second would be noise on a trading host.
pub const MIN_EVERY: Duration = Duration::from_secs(5);
pub const MAX_EVERY: Duration = Duration::from_secs(3600);

/// The default timeout of each kind.
fn default_timeout(kind: Kind) -> Duration {
    match kind {
        Kind::Tcp | Kind::File | Kind::Multicast => Duration::from_secs(5),
        Kind::Log => Duration::from_secs(30),
        Kind::Command => Duration::from_secs(10),
    }
}

/// One problem with a check: the field it concerns (`""` for the check itself), whether the
/// position is the key's rather than the value's, and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecProblem {
    pub field: String,
    pub at_key: bool,
    pub message: String,
}

/// What validation needs from the step and the runbook around the check.
pub struct SpecCtx<'a> {
    pub date: NaiveDate,
    pub tz: Tz,
    /// The step's evidence fields.
    pub evidence: &'a [String],
    /// Those of them that take only some values, with the values: a check does not file what
    /// it captures there (a log's text is not one of the operator's options).
    pub options: &'a [(String, Vec<String>)],
    /// The site names the runbook declares (`site:`).
    pub declared: &'a [String],
}

/// Lower-case, with spaces, dashes and underscores alike: `logon_time` names `Logon time`.
fn norm(s: &str) -> String {
    s.trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

/// Validate a check as written. Every problem is returned, each with its field.
#[allow(clippy::too_many_lines)]
pub fn from_raw(raw: RawCheck, cx: &SpecCtx) -> Result<Check, Vec<SpecProblem>> {
    let mut problems = Vec::new();
    let mut bad = |field: &str, at_key: bool, message: String| {
        problems.push(SpecProblem {
            field: field.to_owned(),
            at_key,
            message,
        });
    };
    let kinds: Vec<Kind> = [
        (raw.tcp.is_some(), Kind::Tcp),
        (raw.log.is_some(), Kind::Log),
        (raw.multicast.is_some(), Kind::Multicast),
        (raw.file.is_some(), Kind::File),
        (raw.command.is_some(), Kind::Command),
    ]
    .into_iter()
    .filter_map(|(set, k)| set.then_some(k))
    .collect();
    let kind = match kinds.as_slice() {
        [k] => *k,
        [] => {
            bad(
                "",
                true,
                "a check names what it looks at with one of tcp, log, multicast, file or command"
                    .into(),
            );
            return Err(problems);
        }
        [_, second, ..] => {
            bad(
                second.word(),
                true,
                format!(
                    "a check has one kind; this one names {}: make one a check of another step",
                    kinds
                        .iter()
                        .map(|k| k.word())
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            );
            return Err(problems);
        }
    };

    // Options that belong to other kinds: said at the key, naming where they belong.
    let only = |field: &str, set: bool, kinds: &[Kind], bad: &mut dyn FnMut(&str, bool, String)| {
        if set && !kinds.contains(&kind) {
            let names: Vec<&str> = kinds.iter().map(|k| k.word()).collect();
            bad(
                field,
                true,
                format!(
                    "`{field}` applies to {} checks, not to a {} check",
                    names.join(" and "),
                    kind.word()
                ),
            );
        }
    };
    only(
        "match",
        raw.pattern.is_some(),
        &[Kind::Log, Kind::File, Kind::Command],
        &mut bad,
    );
    only("from", raw.from.is_some(), &[Kind::Log], &mut bad);
    only("zone", raw.zone.is_some(), &[Kind::Log], &mut bad);
    for (f, set) in [
        ("source", raw.source.is_some()),
        ("interface", raw.interface.is_some()),
        ("window", raw.window.is_some()),
        ("min", raw.min.is_some()),
    ] {
        only(f, set, &[Kind::Multicast], &mut bad);
    }
    only(
        "newer_than",
        raw.newer_than.is_some(),
        &[Kind::File],
        &mut bad,
    );
    only("allow", raw.allow.is_some(), &[Kind::Command], &mut bad);
    only(
        "rehearsal_safe",
        raw.rehearsal_safe.is_some(),
        &[Kind::Command],
        &mut bad,
    );
    if kind == Kind::Multicast && raw.timeout.is_some() {
        bad(
            "timeout",
            true,
            "a multicast check listens for its `window`; set that instead of `timeout`".into(),
        );
    }

    let template =
        |field: &str, text: &str, bad: &mut dyn FnMut(&str, bool, String)| match Template::parse(
            text,
        ) {
            Ok(t) => {
                for n in t.names() {
                    if !cx.declared.iter().any(|d| d == n) {
                        bad(
                            field,
                            false,
                            format!(
                                "`${{{n}}}` is not declared under `site:` in this runbook{}",
                                declared_hint(n, cx.declared)
                            ),
                        );
                    }
                }
                if text.trim().is_empty() {
                    bad(field, false, "say what the check looks at".into());
                }
                Some(t)
            }
            Err(m) => {
                bad(field, false, m.to_string());
                None
            }
        };
    // A pattern as written, or `${name}`s whose site value is the pattern.
    let pattern = |text: &Option<String>, bad: &mut dyn FnMut(&str, bool, String)| {
        let t = text.as_deref()?;
        if t.contains("${") {
            let tpl = template("match", t, bad)?;
            if !tpl.is_literal() {
                return Some(Matcher::Site(tpl));
            }
        }
        Pattern::new(t)
            .map(Matcher::Fixed)
            .map_err(|m| bad("match", false, m.to_string()))
            .ok()
    };
    let duration = |field: &str,
                    text: &Option<String>,
                    min: Duration,
                    max: Duration,
                    bad: &mut dyn FnMut(&str, bool, String)| {
        let t = text.as_deref()?;
        match parse_duration(t) {
            Ok(d) if d < min || d > max => {
                bad(
                    field,
                    false,
                    format!(
                        "`{field}: {t}` is out of range ({} to {})",
                        duration_words(min),
                        duration_words(max)
                    ),
                );
                None
            }
            Ok(d) => Some(d),
            Err(m) => {
                bad(field, false, m.to_string());
                None
            }
        }
    };

    let probe = match kind {
        Kind::Tcp => {
            let text = raw.tcp.as_deref().unwrap_or_default();
            let target = template("tcp", text, &mut bad);
            if let Some(t) = &target
                && t.is_literal()
                && let Err(m) = crate::check::tcp::split_host_port(text)
            {
                bad("tcp", false, m.to_string());
            }
            target.map(|target| Probe::Tcp { target })
        }
        Kind::Log => {
            let path = template("log", raw.log.as_deref().unwrap_or_default(), &mut bad);
            operator_path("log", path.as_ref(), &mut bad);
            let pat = pattern(&raw.pattern, &mut bad);
            if raw.pattern.is_none() {
                bad(
                    "log",
                    true,
                    "a log check needs `match`: the regular expression of the line it waits for"
                        .into(),
                );
            }
            let from = match raw.from.as_deref().map(str::trim) {
                None | Some("now") => Some(From::Now),
                Some("phase_start") => Some(From::PhaseStart),
                Some(other) => {
                    bad(
                        "from",
                        false,
                        format!("`from: {other}`: write `now` (the default) or `phase_start`"),
                    );
                    None
                }
            };
            if from == Some(From::PhaseStart)
                && let Some(Matcher::Fixed(p)) = &pat
                && !p.groups().iter().any(|g| g == "at")
            {
                bad(
                    "from",
                    false,
                    "`from: phase_start` needs a named group `at` in `match` that captures the line's own time (its date and time, such as `(?P<at>\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2})`), so that a line from before the phase is never taken for this one".into(),
                );
            }
            let zone = raw.zone.as_deref().and_then(|z| {
                z.trim()
                    .parse::<Tz>()
                    .map_err(|_| {
                        bad(
                            "zone",
                            false,
                            format!("unknown timezone `{z}`: use an IANA name such as Asia/Hong_Kong or UTC"),
                        );
                    })
                    .ok()
            });
            match (path, pat, from) {
                (Some(path), Some(pattern), Some(from)) => Some(Probe::Log {
                    path,
                    pattern,
                    from,
                    zone,
                }),
                _ => None,
            }
        }
        Kind::Multicast => {
            let text = raw.multicast.as_deref().unwrap_or_default();
            let group = template("multicast", text, &mut bad);
            if let Some(g) = &group
                && g.is_literal()
                && let Err(m) = crate::check::multicast::parse_group(text)
            {
                bad("multicast", false, m.to_string());
            }
            let source = raw
                .source
                .as_deref()
                .and_then(|s| template("source", s, &mut bad));
            if let Some(s) = &source
                && s.is_literal()
                && let Err(m) = crate::check::multicast::parse_source(&s.text)
            {
                bad("source", false, m.to_string());
            }
            let interface = raw
                .interface
                .as_deref()
                .and_then(|s| template("interface", s, &mut bad));
            let window = duration("window", &raw.window, MIN_TIMEOUT, MAX_TIMEOUT, &mut bad)
                .unwrap_or(default_timeout(Kind::Multicast));
            if raw.min == Some(0) {
                bad(
                    "min",
                    false,
                    "`min: 0` would pass with nothing received: give at least 1".into(),
                );
            }
            group.map(|group| Probe::Multicast {
                group,
                source,
                interface,
                window,
                min: raw.min.unwrap_or(1).max(1),
            })
        }
        Kind::File => {
            let path = template("file", raw.file.as_deref().unwrap_or_default(), &mut bad);
            operator_path("file", path.as_ref(), &mut bad);
            let newer_than = raw.newer_than.as_deref().and_then(|t| {
                if t.trim() == "phase_start" {
                    return Some(NewerThan::PhaseStart);
                }
                crate::runbook::timespec::TimeSpec::parse(t, false, false)
                    .and_then(|s| s.resolve(cx.date, cx.tz))
                    .map(NewerThan::At)
                    .map_err(|m| bad("newer_than", false, format!("{m} (or write `phase_start`)")))
                    .ok()
            });
            let pat = pattern(&raw.pattern, &mut bad);
            path.map(|path| Probe::File {
                path,
                newer_than,
                pattern: pat,
            })
        }
        Kind::Command => {
            let written = raw.command.clone().unwrap_or_default();
            if written.is_empty() {
                bad(
                    "command",
                    false,
                    "a command check is a list: the program's absolute path, then its arguments"
                        .into(),
                );
            }
            let mut argv = Vec::new();
            for (i, a) in written.iter().enumerate() {
                let field = format!("command[{i}]");
                // No program or argument can hold one: refused here, not when it would run.
                if a.contains('\0') {
                    bad(
                        &field,
                        false,
                        format!(
                            "`{field}` holds a NUL byte (\\0), which no program path or argument can hold: remove it"
                        ),
                    );
                    continue;
                }
                if let Some(t) = template(&field, a, &mut bad) {
                    argv.push(t);
                }
            }
            if let Some(first) = argv.first()
                && first.is_literal()
                && !first.text.starts_with('/')
            {
                bad(
                    "command[0]",
                    false,
                    format!(
                        "`{}`: name the program by its absolute path (such as /usr/bin/...), so that PATH cannot change what runs; it is run without a shell",
                        first.text
                    ),
                );
            }
            let pat = pattern(&raw.pattern, &mut bad);
            (argv.len() == written.len() && !written.is_empty()).then(|| Probe::Command {
                argv,
                allow: raw.allow.unwrap_or(false),
                rehearsal_safe: raw.rehearsal_safe.unwrap_or(false),
                pattern: pat,
            })
        }
    };

    let timeout = duration("timeout", &raw.timeout, MIN_TIMEOUT, MAX_TIMEOUT, &mut bad)
        .unwrap_or(default_timeout(kind));
    let every = duration("every", &raw.every, MIN_EVERY, MAX_EVERY, &mut bad);
    let settle_on_pass = match raw.settle.as_deref().map(str::trim) {
        None => false,
        Some("on_pass") => true,
        Some(other) => {
            bad(
                "settle",
                false,
                format!(
                    "`settle: {other}`: the one setting is `on_pass` (a failed check never marks a step failed: the operator decides)"
                ),
            );
            false
        }
    };

    let Some(probe) = probe else {
        return Err(problems);
    };
    let timeout = match &probe {
        // The window, and a second to join the group and set up.
        Probe::Multicast { window, .. } => *window + Duration::from_secs(1),
        _ => timeout,
    };
    let produced = value_names(&probe);
    let record = filing(
        raw.record.map(|o| o.0),
        produced.as_deref(),
        cx.evidence,
        cx.options,
        &mut bad,
    );
    // A captured value is filed by its name only into a field that takes any text.
    let free: Vec<String> = cx
        .evidence
        .iter()
        .filter(|f| !cx.options.iter().any(|(c, _)| c == *f))
        .cloned()
        .collect();
    if problems.is_empty() {
        Ok(Check {
            probe,
            timeout,
            every,
            settle_on_pass,
            record,
            fields: free,
        })
    } else {
        Err(problems)
    }
}

/// A file a check reads is the operator's choice: its path is one site value, whole
/// (`log: ${bss_log}`). Otherwise a runbook from someone else could have drillbook read any file
/// the user can read and put what its pattern captures into the journal and the reports other
/// people read: a literal path (`/etc/shadow`), or text around an honest site value
/// (`${logdir}/../../etc/shadow`, `/etc/shadow${x}`) that steers it elsewhere.
fn operator_path(field: &str, path: Option<&Template>, bad: &mut dyn FnMut(&str, bool, String)) {
    let Some(t) = path else { return };
    if t.site_name().is_none() && !t.text.trim().is_empty() {
        bad(
            field,
            false,
            format!(
                "`{}`: a {field} check's path is one site value and nothing else (`{field}: ${{name}}`), so that which file drillbook reads is the operator's choice, not the runbook's",
                t.text
            ),
        );
    }
}

/// Why a path from the site file is refused for a log or file check: a `..` component. The
/// operator gives the file's own path; a path that climbs out of a folder is what a steered
/// path looks like, and is never needed.
pub fn path_problem(written: &str, value: &str) -> Option<String> {
    std::path::Path::new(value)
        .components()
        .any(|c| c == std::path::Component::ParentDir)
        .then(|| {
            format!(
                "`{written}` is `{}` in the site file: a path with a `..` component is refused; give the file's own path",
                crate::text::clean_line(value)
            )
        })
}

/// `record:` as written, checked: each value a name the check captures (when its pattern is in
/// the runbook; one from the site file is known only when it runs), each field one of the
/// step's. Values not named here are filed by name ([`Check::field_for`]).
fn filing(
    written: Option<Vec<(String, String)>>,
    produced: Option<&[String]>,
    evidence: &[String],
    options: &[(String, Vec<String>)],
    bad: &mut dyn FnMut(&str, bool, String),
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, field) in written.unwrap_or_default() {
        let at = format!("record.{name}");
        if let Some(produced) = produced
            && !produced.contains(&name)
        {
            bad(
                &at,
                true,
                format!(
                    "this check captures no value `{name}` (it captures: {})",
                    if produced.is_empty() {
                        "none; name groups in `match` as (?P<name>...)".to_owned()
                    } else {
                        produced.join(", ")
                    }
                ),
            );
            continue;
        }
        // A field with options, named in full or by its name without them.
        let closed = options.iter().find(|(f, o)| {
            norm(f) == norm(&field) || norm(f) == norm(&crate::runbook::field_name(&field, o))
        });
        if let Some((f, o)) = closed {
            bad(
                &at,
                false,
                format!(
                    "`{f}` takes one of its options ({}), which the operator records; a check files what it captures as text: record it into a field without options",
                    o.join(", ")
                ),
            );
            continue;
        }
        match evidence.iter().find(|f| norm(f) == norm(&field)) {
            Some(f) => out.push((name, f.clone())),
            None => bad(
                &at,
                false,
                format!(
                    "`{field}` is not an evidence field of this step (its fields: {})",
                    if evidence.is_empty() {
                        "none".to_owned()
                    } else {
                        evidence.join("; ")
                    }
                ),
            ),
        }
    }
    out
}

/// `; did you mean `${x}`?` for a near name, else the list of names declared.
fn declared_hint(name: &str, declared: &[String]) -> String {
    if declared.is_empty() {
        return ": declare it there with what it is (`site: {NAME: what it is}`)".into();
    }
    let near = declared
        .iter()
        .map(|d| (crate::text::edit_distance(name, d), d))
        .min()
        .filter(|(d, _)| *d <= 2);
    match near {
        Some((_, d)) => format!("; did you mean `${{{d}}}`?"),
        None => format!(" (declared: {})", declared.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_and_name_what_is_missing() {
        let t = Template::parse("${host}:${port}").unwrap();
        assert_eq!(t.names().collect::<Vec<_>>(), ["host", "port"]);
        let got = t.fill(|n| (n == "host").then(|| "10.0.0.1".to_owned()));
        assert_eq!(got, Err(vec!["port".to_owned()]));
        let got = t.fill(|n| Some(if n == "host" { "h" } else { "1" }.to_owned()));
        assert_eq!(got.unwrap(), "h:1");
        assert!(Template::parse("a$b").unwrap().is_literal());
        assert!(
            Template::parse("${host")
                .unwrap_err()
                .to_string()
                .contains("never closed")
        );
        assert!(
            Template::parse("${Host}")
                .unwrap_err()
                .to_string()
                .contains("not a site value name")
        );
    }

    #[test]
    fn durations_read_as_written_and_refuse_the_rest() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        for bad in ["5", "s", "5 sec", "-1s", "1.5s", ""] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(duration_words(Duration::from_secs(90)), "1m30s");
        assert_eq!(duration_words(Duration::from_millis(250)), "250ms");
    }
}
