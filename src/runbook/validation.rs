//! Validation: parsed session and runbook files checked field by field (ids, times, phases,
//! choices, checks) into the model, every problem collected with its position.

use super::diagnostics::{Reporter, parse};
use super::raw::{RawField, RawRunbook, RawSession, RawStep};
use super::read::LoadedFile;
use super::timespec::{self, TimeSpec, parse_session_date};
use super::{
    Boundary, Choice, Contact, Deadline, FORMAT, Phase, Problems, Reference, Runbook, Session, Step,
};
use chrono::TimeDelta;
use chrono_tz::Tz;
use std::collections::{HashMap, HashSet};

pub(super) fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

pub(super) fn check_format(r: &mut Reporter, format: Option<u32>) {
    if let Some(f) = format
        && f > FORMAT
    {
        r.at("format", format!("written for runbook format {f}; this drillbook reads format {FORMAT}: upgrade drillbook"));
    }
}

pub(super) fn check_id(r: &mut Reporter, path: &str, what: &str, id: &str) {
    if !is_slug(id) {
        r.at(
            path,
            format!("{what} `{id}` must be lower-case letters, digits and dashes (at most 64)"),
        );
    }
}

/// Parse and validate a session file.
pub(super) fn session_from(file: &LoadedFile) -> Result<Session, Problems> {
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
pub(super) fn choices_from(r: &mut Reporter, raw: &RawSession) -> Vec<Choice> {
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

pub(super) fn resolve_phases(
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
pub(super) struct FirstUse {
    runbook: usize,
    group: usize,
    index: usize,
}

/// What step validation needs from the runbook being read.
pub(super) struct RunbookCtx<'a> {
    pub(super) session: &'a Session,
    pub(super) index: usize,
    pub(super) role: &'a str,
    /// The phase keys of this runbook, in file order, for paths in messages.
    pub(super) groups: &'a [String],
    /// Every runbook's file name, for a duplicate first used in another file.
    pub(super) displays: &'a [String],
    /// Choice ids some step of the runbooks loaded together settles.
    pub(super) settled: &'a HashSet<String>,
    /// The site names this runbook declares (`site:`), for its checks' `${name}` references.
    pub(super) declared: &'a [String],
}

/// The path of a step's field, built only when there is a problem to report.
pub(super) fn step_path(phase_key: &str, i: usize, field: &str) -> String {
    format!("phases.{phase_key}[{i}].{field}")
}

/// Parse and validate a runbook against its session, appending its steps.
pub(super) fn runbook_from(
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

pub(super) fn step_from(
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
            match r.positions().value_or_enclosing(&first_path) {
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
    let (mut evidence, mut options) = fields(r, &path, &step.evidence);
    check_names(r, &path, &evidence, &step);
    let mut after_start = None;
    let due = match &step.due {
        None => None,
        // `+20m`: after the phase's start; planned here, moved by a confirmation of an
        // approximate start (`Timeline::resolve_dues`).
        Some(d) if timespec::is_after_start(d) => {
            let start = cx.session.phases[phase].start;
            let on_the_day = start.at.with_timezone(&cx.session.tz).date_naive() == cx.session.date;
            match timespec::parse_after_start(d) {
                Ok(_) if !on_the_day => {
                    r.at(
                        &path("due"),
                        format!(
                            "`{}` counts from the phase's start, and phase `{}` does not start on the session day ({}): write a date and time (YYYY-MM-DD HH:MM)",
                            d.trim(),
                            cx.session.phases[phase].id,
                            cx.session.date
                        ),
                    );
                    return None;
                }
                Ok(after) => {
                    after_start = Some(after);
                    Some(start.at + after)
                }
                Err(m) => {
                    r.at(&path("due"), m);
                    return None;
                }
            }
        }
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
    let due_approximate = after_start.is_some() && cx.session.phases[phase].start.approximate;
    for c in step.settles.iter().filter_map(|c| cx.session.choice(c)) {
        let field = c.field();
        if !evidence.contains(&field) {
            evidence.push(field.clone());
        }
        if !options.iter().any(|(f, _)| *f == field) {
            options.push((field, c.options.clone()));
        }
    }
    let check = step.check.and_then(|raw| {
        let spec_cx = crate::check::spec::SpecCtx {
            date: cx.session.date,
            tz: cx.session.tz,
            evidence: &evidence,
            options: &options,
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
        after_start,
        due_approximate,
        critical: step.critical,
        evidence,
        options,
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
pub(super) fn site_declarations(
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

/// A step's evidence fields as named (a field with options is `NAME (a / b)`, as a choice's
/// is), and the options of those that declare them. A field with options names at least two,
/// none empty and none twice as the operator would type it (`Yes` is `yes`): the prompt takes
/// only one of them.
fn fields(
    r: &mut Reporter,
    path: &dyn Fn(&str) -> String,
    raw: &[RawField],
) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let mut names = Vec::with_capacity(raw.len());
    let mut options = Vec::new();
    for (i, f) in raw.iter().enumerate() {
        let at = format!("{}[{i}]", path("evidence"));
        match f {
            RawField::Free(name) => names.push(name.clone()),
            RawField::Closed(c) => {
                if c.field.trim().is_empty() {
                    r.at(&format!("{at}.field"), "an evidence field needs a name");
                }
                if c.options.len() < 2 {
                    r.at(
                        &format!("{at}.options"),
                        "a field with options needs at least two: name them, or leave `options` out for free text",
                    );
                }
                let mut seen: Vec<String> = Vec::new();
                for (j, o) in c.options.iter().enumerate() {
                    let key = crate::runbook::option_key(o);
                    if key.is_empty() {
                        r.at(&format!("{at}.options[{j}]"), "an option cannot be empty");
                    } else if seen.contains(&key) {
                        r.at(
                            &format!("{at}.options[{j}]"),
                            format!(
                                "option `{}` is listed twice (options are compared without case, spaces and dashes alike)",
                                o.trim()
                            ),
                        );
                    }
                    seen.push(key);
                }
                let name = crate::runbook::field_name(&c.field, &c.options);
                options.push((name.clone(), c.options.clone()));
                names.push(name);
            }
        }
    }
    (names, options)
}

/// Evidence fields and systems have names (an empty one is a field nobody can fill, a system the
/// report cannot count), each listed once: the journal records evidence by its field's name, and
/// the report would count a step twice for a system listed twice.
pub(super) fn check_names(
    r: &mut Reporter,
    path: &dyn Fn(&str) -> String,
    evidence: &[String],
    step: &RawStep,
) {
    names_once(
        r,
        &path("evidence"),
        evidence,
        "evidence field",
        "an evidence field needs a name",
    );
    names_once(
        r,
        &path("system"),
        &step.system.0,
        "system",
        "a system name cannot be empty: name the system (OTP-C) or leave `system` out",
    );
}

/// Each name of the list at `list_path` non-empty and unlike the ones before it.
fn names_once(r: &mut Reporter, list_path: &str, names: &[String], what: &str, empty: &str) {
    let mut seen = HashSet::new();
    for (i, name) in names.iter().enumerate() {
        let name = name.trim();
        if name.is_empty() {
            r.at(&format!("{list_path}[{i}]"), empty);
        } else if !seen.insert(name) {
            r.at(
                &format!("{list_path}[{i}]"),
                format!("{what} `{name}` is listed twice"),
            );
        }
    }
}

/// `settles` and `applies_if` name the session's choices and their options, and a condition
/// names a choice some loaded step settles (else nobody could record it).
pub(super) fn check_choices(
    r: &mut Reporter,
    cx: &RunbookCtx,
    path: &dyn Fn(&str) -> String,
    step: &RawStep,
) {
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
