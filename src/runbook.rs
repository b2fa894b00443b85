//! The session and runbook model: what a loaded, validated set of runbooks looks like.
//!
//! A [`Session`] holds the schedule (phases bound to UTC instants, resolved in the session's
//! zone), references, contacts and deadlines. A [`Plan`] is one session with one or more
//! runbooks composed over it: every step tagged with its role, listed phase by phase.

mod aliases;
mod bundled;
mod diagnostics;
mod guard;
mod load;
pub(crate) mod position;
mod problem;
mod raw;
mod read;
pub mod timespec;
mod validation;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

pub use bundled::{BUNDLED_SESSION, ExportError, bundled_roles, export as export_bundled};
pub use diagnostics::{from_yaml, yaml_guard};
pub use load::{BundledError, load_bundled, load_paths, validate_paths};
pub use problem::{Problem, Problems};
pub use raw::{Basis, Ordered};
pub use read::LoadedFile;

/// The newest runbook format this build reads.
pub const FORMAT: u32 = 1;

/// A phase boundary: its planned instant, and whether it is only approximate (confirmed when
/// observed on the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Boundary {
    pub at: DateTime<Utc>,
    pub approximate: bool,
}

#[derive(Debug, Clone)]
pub struct Phase {
    pub id: String,
    pub title: String,
    pub detail: String,
    pub start: Boundary,
    pub end: Boundary,
}

#[derive(Debug, Clone)]
pub struct Reference {
    pub id: String,
    pub title: String,
    pub date: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct Contact {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Empty means every role.
    pub roles: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Deadline {
    pub id: String,
    pub title: String,
    pub due: DateTime<Utc>,
    /// Written as a bare date: due by 23:59 local on that day.
    pub end_of_day: bool,
    /// The firm's own time to act by, before `due`: reminders are raised against it.
    pub target: Option<DateTime<Utc>>,
    /// Empty means every role.
    pub roles: Vec<String>,
}

impl Deadline {
    /// The instant the firm works to: its own target when it set one, else the deadline.
    pub fn act_by(&self) -> DateTime<Utc> {
        self.target.unwrap_or(self.due)
    }

    /// Whether this deadline concerns any of `roles`.
    pub fn concerns(&self, roles: &[String]) -> bool {
        self.roles.is_empty() || self.roles.iter().any(|r| roles.contains(r))
    }
}

impl Contact {
    pub fn concerns(&self, roles: &[String]) -> bool {
        self.roles.is_empty() || self.roles.iter().any(|r| roles.contains(r))
    }
}

/// A fact that decides which steps apply (the rundown's connection arrangement, whether the firm
/// has a Drop Copy session), recorded by the operator as evidence on a step that `settles` it.
#[derive(Debug, Clone)]
pub struct Choice {
    pub id: String,
    pub title: String,
    pub options: Vec<String>,
}

impl Choice {
    /// The evidence field a settling step records the choice in: `TITLE (a / b)`.
    pub fn field(&self) -> String {
        field_name(&self.title, &self.options)
    }

    /// The option a recorded value names ([`option_in`]); `None` when it names none.
    pub fn option_for(&self, value: &str) -> Option<&str> {
        option_in(&self.options, value)
    }
}

/// The option of `options` a typed value names, compared without case and with spaces or
/// underscores taken as dashes (`Log off` is `log-off`, `No drop copy` is `no Drop Copy`);
/// `None` when it names none.
pub fn option_in<'a>(options: &'a [String], value: &str) -> Option<&'a str> {
    let v = option_key(value);
    options
        .iter()
        .find(|o| option_key(o) == v)
        .map(String::as_str)
}

/// What two spellings of one option have in common (see [`option_in`]).
pub fn option_key(s: &str) -> String {
    s.trim().to_lowercase().replace([' ', '_'], "-")
}

/// An evidence field's name with its options, as shown and journaled: `TITLE (a / b)`, the
/// options not repeated when the title already ends with them.
pub fn field_name(title: &str, options: &[String]) -> String {
    let suffix = format!(" ({})", options.join(" / "));
    if title.ends_with(&suffix) {
        title.to_owned()
    } else {
        format!("{title}{suffix}")
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub title: String,
    pub tz: Tz,
    pub date: NaiveDate,
    /// Warnings before each boundary, largest first.
    pub lead: Vec<TimeDelta>,
    pub references: Vec<Reference>,
    pub contacts: Vec<Contact>,
    pub deadlines: Vec<Deadline>,
    pub choices: Vec<Choice>,
    pub phases: Vec<Phase>,
    /// The file it came from, as named.
    pub source: String,
    pub sha256: String,
}

/// An instant at which one phase ends and/or another starts. Adjacent phases share one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Stable name: `failover.end` when it ends a phase, else `primary.start`.
    pub key: String,
    pub at: DateTime<Utc>,
    pub approximate: bool,
    pub ending: Option<usize>,
    pub starting: Option<usize>,
}

impl Session {
    /// Every phase boundary as a transition, in time order; a shared end/start is one transition.
    pub fn transitions(&self) -> Vec<Transition> {
        let mut out: Vec<Transition> = Vec::with_capacity(self.phases.len() * 2);
        for (i, p) in self.phases.iter().enumerate() {
            match out.last_mut() {
                Some(t) if t.at == p.start.at && t.ending.is_some() => {
                    t.starting = Some(i);
                    t.approximate |= p.start.approximate;
                }
                _ => out.push(Transition {
                    key: format!("{}.start", p.id),
                    at: p.start.at,
                    approximate: p.start.approximate,
                    ending: None,
                    starting: Some(i),
                }),
            }
            out.push(Transition {
                key: format!("{}.end", p.id),
                at: p.end.at,
                approximate: p.end.approximate,
                ending: Some(i),
                starting: None,
            });
        }
        out
    }

    /// The phases that fall on the session date: the day itself, without preparation days.
    pub fn day_phases(&self) -> impl Iterator<Item = (usize, &Phase)> {
        let tz = self.tz;
        let date = self.date;
        self.phases
            .iter()
            .enumerate()
            .filter(move |(_, p)| p.start.at.with_timezone(&tz).date_naive() == date)
    }

    pub fn choice(&self, id: &str) -> Option<&Choice> {
        self.choices.iter().find(|c| c.id == id)
    }

    pub fn phase_index(&self, id: &str) -> Option<usize> {
        self.phases.iter().position(|p| p.id == id)
    }

    /// A transition's human name: "failover ends, backup starts", neutralised (phase titles come
    /// from a runbook author; the label reaches the screen, notifications and every report).
    pub fn transition_label(&self, t: &Transition) -> String {
        let label = match (t.ending, t.starting) {
            (Some(e), Some(s)) => {
                format!(
                    "{} ends, {} starts",
                    self.phases[e].title, self.phases[s].title
                )
            }
            (Some(e), None) => format!("{} ends", self.phases[e].title),
            (None, Some(s)) => format!("{} starts", self.phases[s].title),
            (None, None) => t.key.clone(),
        };
        crate::text::clean_line(&label).into_owned()
    }
}

#[derive(Debug, Clone)]
pub struct Runbook {
    pub id: String,
    pub role: String,
    pub title: String,
    /// The site values its checks use (`${name}`), each with what it is, as declared.
    pub site: Vec<(String, String)>,
    pub source: String,
    pub sha256: String,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub id: String,
    /// The role of the runbook it came from.
    pub role: String,
    /// Index into `Plan::runbooks`.
    pub runbook: usize,
    /// Index into `Session::phases`.
    pub phase: usize,
    pub title: String,
    pub detail: String,
    pub basis: Basis,
    /// The systems the step exercises (`system:` gives one or a list), in the order written.
    pub systems: Vec<String>,
    /// When the step is due, as it stands. A due written after its phase's start (`+20m`,
    /// [`Step::after_start`]) counts from that start: planned until an approximate start is
    /// confirmed, then from the confirmed instant ([`crate::timeline::Timeline::resolve_dues`],
    /// run wherever confirmations are laid over the plan), so every reader of `due` has the
    /// current value.
    pub due: Option<DateTime<Utc>>,
    /// Written `due: "+20m"`: how long after its phase's start the step is due.
    pub after_start: Option<TimeDelta>,
    /// `due` counts from an approximate start not confirmed yet: shown as `~11:20`.
    pub due_approximate: bool,
    pub critical: bool,
    pub evidence: Vec<String>,
    /// The fields of `evidence` that take only some values, with those values: declared with
    /// `options:`, or a choice the step settles.
    pub options: Vec<(String, Vec<String>)>,
    pub expect: Vec<String>,
    /// Shown for copying; drillbook never runs it.
    pub command: Option<String>,
    /// Not applicable by design, with the reason.
    pub not_applicable: Option<String>,
    /// Choice ids recorded on this step; each also adds its field to `evidence`.
    pub settles: Vec<String>,
    /// (choice id, option): the step applies only when each choice was recorded as its option.
    pub applies_if: Vec<(String, String)>,
    /// What drillbook can sense for the step, read-only (see [`crate::check`]).
    pub check: Option<crate::check::spec::Check>,
}

impl Step {
    /// The values evidence field `field` takes, when it takes only some.
    pub fn options_of(&self, field: &str) -> Option<&[String]> {
        self.options
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, o)| o.as_slice())
    }
}

/// One session with its runbooks composed: what the app, the journal and the reports work on.
#[derive(Debug, Clone)]
pub struct Plan {
    pub session: Session,
    pub runbooks: Vec<Runbook>,
    /// Phase by phase; within a phase runbook by runbook in the order given, then file order.
    pub steps: Vec<Step>,
}

impl Plan {
    /// The roles loaded, in the order given.
    pub fn roles(&self) -> Vec<String> {
        self.runbooks.iter().map(|r| r.role.clone()).collect()
    }

    /// The steps of one phase, with their indices into `steps`.
    pub fn steps_in(&self, phase: usize) -> impl Iterator<Item = (usize, &Step)> {
        self.steps
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.phase == phase)
    }

    pub fn step_index(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }

    /// One hash over the session file and every runbook file, in order: a journal records it so that
    /// replaying against edited runbooks is flagged rather than silently merged.
    pub fn content_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.session.sha256.as_bytes());
        for r in &self.runbooks {
            h.update(b"\n");
            h.update(r.sha256.as_bytes());
        }
        hex(&h.finalize())
    }

    /// The words of the command that opens this plan again: `drillbook run --role ep,hsn` for
    /// the bundled runbooks, `drillbook run FILE...` (each quoted for a POSIX shell) for the
    /// operator's own files, which `--role` would not open.
    pub fn run_words(&self) -> Vec<String> {
        let mut words = vec!["drillbook".to_owned(), "run".to_owned()];
        if self
            .runbooks
            .iter()
            .all(|r| r.source.starts_with(bundled::SOURCE_PREFIX))
        {
            words.push("--role".into());
            words.push(self.roles().join(","));
        } else {
            words.extend(self.runbooks.iter().map(|r| crate::shell::word(&r.source)));
        }
        words
    }

    /// [`Plan::run_words`] as one line, neutralised for the terminal.
    pub fn run_command(&self) -> String {
        crate::text::clean_line(&self.run_words().join(" ")).into_owned()
    }

    /// Deadlines that concern the loaded roles.
    pub fn deadlines(&self) -> impl Iterator<Item = &Deadline> {
        let roles = self.roles();
        self.session
            .deadlines
            .iter()
            .filter(move |d| d.concerns(&roles))
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
