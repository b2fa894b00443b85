//! Loading: runbooks composed over their one session file into a [`Plan`], from disk, from the
//! bundled set, or for `validate` (every file read and parsed once, every problem reported).

use super::diagnostics::{Reporter, parse};
use super::raw::RawRunbook;
use super::read::{LoadedFile, Place, io_message, yaml_files_in, yaml_files_in_subfolders};
use super::validation::{RunbookCtx, runbook_from, session_from};
use super::{Plan, Problem, Problems, bundled};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

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
    compose_parsed(parsed, problems, &[])
}

/// [`compose`] over runbooks already parsed; a session file among `read` (already in memory) is
/// used as it is, so `validate` reads and parses every file once.
fn compose_parsed(
    parsed: Vec<(&LoadedFile, RawRunbook)>,
    mut problems: Problems,
    read: &[LoadedFile],
) -> Result<Plan, Problems> {
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
    let Some((first, place, identity)) = session_place else {
        return Err(problems);
    };
    let in_memory = read
        .iter()
        .find(|f| f.place.identity() == identity)
        .cloned();
    let session_file = match in_memory.map_or_else(|| LoadedFile::read(place), Ok) {
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
                Err(e) => {
                    problems.push(Problem::new(&p.display().to_string(), None, io_message(&e)));
                }
            }
        } else {
            match LoadedFile::read(Place::Disk(p.clone())) {
                Ok(f) => files.push(f),
                Err(e) => problems.push(e),
            }
        }
    }
    let mut checked = Checked::default();
    // Runbooks grouped by the session file they name, each parsed once.
    let mut groups: Vec<(Place, Vec<(&LoadedFile, RawRunbook)>)> = Vec::new();
    let mut sessions = Vec::new();
    for f in &files {
        if !f.is_runbook() && crate::site::looks_like_site_file(&f.text) {
            // `site.example.yaml` beside exported runbooks: read as a site file, not a session.
            if let Err(mut p) = crate::site::parse(&f.display, &f.text) {
                problems.0.append(&mut p.0);
            }
            continue;
        }
        if !f.is_runbook() {
            sessions.push(f.clone());
            continue;
        }
        match parse::<RawRunbook>(f) {
            Err(p) => problems.push(p),
            Ok(raw) => {
                // A session name that is refused is reported when the group is composed.
                let key = f
                    .place
                    .sibling(&raw.session)
                    .map_or_else(|_| f.place.identity(), |p| p.identity());
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, g)) => g.push((f, raw)),
                    None => groups.push((key, vec![(f, raw)])),
                }
            }
        }
    }
    // A session no runbook uses is checked on its own; one used is checked once, with its runbooks.
    for s in &sessions {
        if groups.iter().any(|(k, _)| *k == s.place.identity()) {
            continue;
        }
        match session_from(s) {
            Ok(_) => checked.sessions += 1,
            Err(mut p) => problems.0.append(&mut p.0),
        }
    }
    for (_, group) in groups {
        match compose_parsed(group, Problems::default(), &sessions) {
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
