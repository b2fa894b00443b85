//! Reading, parsing and validating session and runbook files into a [`Plan`], collecting every
//! problem with its position instead of stopping at the first.

use super::position::Positions;
use super::raw::{RawRunbook, RawSession, RawStep};
use super::timespec::{TimeSpec, parse_session_date};
use super::{
    Boundary, Contact, Deadline, FORMAT, Phase, Plan, Problem, Problems, Reference, Runbook,
    Session, Step, bundled, hex,
};
use chrono::TimeDelta;
use chrono_tz::Tz;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
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

    /// The file `rel` names, relative to this one's folder.
    fn sibling(&self, rel: &str) -> Place {
        match self {
            Place::Disk(p) => {
                let rel = Path::new(rel);
                if rel.is_absolute() {
                    Place::Disk(rel.to_path_buf())
                } else {
                    Place::Disk(p.parent().unwrap_or(Path::new("")).join(rel))
                }
            }
            Place::Bundled(n) => {
                let dir = n.rsplit_once('/').map_or("", |(d, _)| d);
                Place::Bundled(if dir.is_empty() {
                    rel.to_owned()
                } else {
                    format!("{dir}/{rel}")
                })
            }
        }
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
    let meta = std::fs::metadata(p).map_err(|e| io_message(&e))?;
    if meta.is_dir() {
        return Err("is a folder, not a file".into());
    }
    if meta.len() > MAX_BYTES {
        return Err(format!(
            "is {} MiB; drillbook reads runbook files up to {} MiB",
            meta.len() / (1024 * 1024),
            MAX_BYTES / (1024 * 1024)
        ));
    }
    let bytes = std::fs::read(p).map_err(|e| io_message(&e))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "cannot read: no such file".into(),
        std::io::ErrorKind::PermissionDenied => "cannot read: permission denied".into(),
        _ => format!("cannot read: {e}"),
    }
}

/// Deserialise, turning serde_yaml's error into one positioned, plain-English problem.
fn parse<T: serde::de::DeserializeOwned>(file: &LoadedFile) -> Result<T, Problem> {
    // Hostile nesting and alias expansion are refused before serde_yaml spends time or memory on them.
    super::guard::check(&file.text)
        .map_err(|r| Problem::new(&file.display, Some((r.line, r.column)), r.message))?;
    serde_yaml::from_str(&file.text).map_err(|e| {
        let pos = e.location().map(|l| (l.line(), l.column()));
        let mut msg = e.to_string();
        // serde_yaml appends " at line L column C"; the position is already in front.
        if let Some(i) = msg.find(" at line ") {
            msg.truncate(i);
        }
        if msg.contains("recursion limit exceeded") {
            msg = "nesting is too deep (over 128 levels); a runbook never needs that".into();
        } else if msg.contains("repetition limit exceeded") {
            msg = "too many YAML aliases expanded (an alias bomb?); write the content out".into();
        } else if msg.is_empty() || msg.contains("EOF while parsing") {
            msg = "the file is empty or ends early".into();
        }
        Problem::new(&file.display, pos, msg)
    })
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
            match TimeSpec::parse(&d.due, true, false).and_then(|t| Ok((t, t.resolve(date, tz)?))) {
                Ok((spec, due)) => deadlines.push(Deadline {
                    id: d.id.clone(),
                    title: d.title.clone(),
                    due,
                    end_of_day: spec.end_of_day,
                    roles: d.roles.clone(),
                }),
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
        phases,
        source: file.display.clone(),
        sha256: file.sha256(),
    })
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

/// Parse and validate a runbook against its session, appending its steps.
fn runbook_from(
    file: &LoadedFile,
    raw: RawRunbook,
    session: &Session,
    index: usize,
    seen_steps: &mut HashMap<String, String>,
    steps: &mut Vec<Step>,
    problems: &mut Problems,
) -> Runbook {
    let mut r = Reporter::new(file, problems);
    check_format(&mut r, raw.format);
    check_id(&mut r, "id", "runbook id", &raw.id);
    check_id(&mut r, "role", "role", &raw.role);
    let mut seen_phases = HashSet::new();
    for (phase_id, group) in &raw.phases.0 {
        let phase_path = format!("phases.{phase_id}");
        if !seen_phases.insert(phase_id.as_str()) {
            r.at_key(&phase_path, format!("phase `{phase_id}` is listed twice"));
        }
        let Some(phase) = session.phase_index(phase_id) else {
            let known: Vec<&str> = session.phases.iter().map(|p| p.id.as_str()).collect();
            r.at_key(&phase_path, format!(
                "steps are grouped under `{phase_id}`, which is not a phase of session `{}` (its phases: {})",
                session.id,
                known.join(", ")
            ));
            continue;
        };
        for (i, s) in group.iter().enumerate() {
            let path = format!("{phase_path}[{i}]");
            if let Some(step) = step_from(
                &mut r, &path, s, session, phase, index, &raw.role, seen_steps,
            ) {
                steps.push(step);
            }
        }
    }
    Runbook {
        id: raw.id,
        role: raw.role,
        title: raw.title,
        source: file.display.clone(),
        sha256: file.sha256(),
    }
}

#[allow(clippy::too_many_arguments)]
fn step_from(
    r: &mut Reporter,
    path: &str,
    s: &RawStep,
    session: &Session,
    phase: usize,
    runbook: usize,
    role: &str,
    seen: &mut HashMap<String, String>,
) -> Option<Step> {
    check_id(r, &format!("{path}.id"), "step id", &s.id);
    if let Some(first) = seen.get(&s.id) {
        r.at(
            &format!("{path}.id"),
            format!("duplicate step id `{}` (first used in {first})", s.id),
        );
    } else {
        seen.insert(s.id.clone(), r.file.display.clone());
    }
    if s.title.trim().is_empty() {
        r.at(&format!("{path}.title"), "a step needs a title");
    }
    if s.not_applicable
        .as_deref()
        .is_some_and(|x| x.trim().is_empty())
    {
        r.at(
            &format!("{path}.not_applicable"),
            "give the reason the step does not apply",
        );
    }
    let due = match &s.due {
        None => None,
        Some(d) => match TimeSpec::parse(d, false, false)
            .and_then(|t| t.resolve(session.date, session.tz))
        {
            Ok(t) => Some(t),
            Err(m) => {
                r.at(&format!("{path}.due"), m);
                return None;
            }
        },
    };
    Some(Step {
        id: s.id.clone(),
        role: role.to_owned(),
        runbook,
        phase,
        title: s.title.clone(),
        detail: s.detail.clone(),
        basis: s.basis,
        system: s.system.clone(),
        due,
        critical: s.critical,
        evidence: s.evidence.clone(),
        expect: s.expect.clone(),
        command: s.command.clone(),
        not_applicable: s.not_applicable.clone(),
    })
}

/// Compose runbooks (already read) over their one shared session into a plan.
fn compose(files: &[LoadedFile]) -> Result<Plan, Problems> {
    let mut problems = Problems::default();
    let mut parsed = Vec::new();
    for f in files {
        match parse::<RawRunbook>(f) {
            Ok(raw) => parsed.push((f, raw)),
            Err(p) => problems.push(p),
        }
    }
    // Every runbook must name the same session file: the schedule lives in one place.
    let mut session_place: Option<(Place, String)> = None;
    for (f, raw) in &parsed {
        let place = f.place.sibling(&raw.session).identity();
        match &session_place {
            None => session_place = Some((place, f.display.clone())),
            Some((p, first)) if *p != place => {
                let mut r = Reporter::new(f, &mut problems);
                r.at("session", format!(
                    "names session file `{}`, but {first} names another: runbooks loaded together must share one session file",
                    raw.session
                ));
            }
            Some(_) => {}
        }
    }
    let Some((place, _)) = session_place else {
        return Err(problems);
    };
    let session = match LoadedFile::read(place)
        .map_err(Problems::from)
        .and_then(|f| session_from(&f))
    {
        Ok(s) => s,
        Err(mut p) => {
            problems.0.append(&mut p.0);
            return Err(problems);
        }
    };
    let mut steps = Vec::new();
    let mut runbooks = Vec::new();
    let mut seen_steps = HashMap::new();
    for (i, (f, raw)) in parsed.into_iter().enumerate() {
        runbooks.push(runbook_from(
            f,
            raw,
            &session,
            i,
            &mut seen_steps,
            &mut steps,
            &mut problems,
        ));
    }
    // Stable: within a phase, runbook order then file order is kept.
    steps.sort_by_key(|s| s.phase);
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
pub fn load_bundled(roles: &[String]) -> Result<Plan, Problems> {
    let mut files = Vec::new();
    let mut problems = Problems::default();
    for role in roles {
        match bundled::runbook_for(role) {
            Some(name) => {
                files.push(LoadedFile::read(Place::Bundled(name)).map_err(Problems::from)?);
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
        return Err(problems);
    }
    compose(&files)
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
            match yaml_files_in(p) {
                Ok(list) if list.is_empty() => problems.push(Problem::new(
                    &p.display().to_string(),
                    None,
                    "no .yaml files in this folder",
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
        if !f.is_runbook() {
            sessions.push(f);
            continue;
        }
        match parse::<RawRunbook>(&f) {
            Err(p) => problems.push(p),
            Ok(raw) => {
                let key = f.place.sibling(&raw.session).identity();
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
