//! `log`, `handover` and `report` on several journals (or a folder of them): the firm's hosts'
//! journals for one session read as one, through [`crate::journal::merge`]. Events merged in time
//! order, each tagged with its journal's host, operators and roles; the plan of every role the
//! journals hold (OTP-C from the desk's journal, OMD-C from the market-data team's); each
//! journal's confirmation of a boundary side by side. One journal named alone goes the way it
//! always went (`from_journal`), so nothing changes for it.

use super::from_journal::notes;
use super::log::Layout;
use super::{Failure, Outcome, load_selection};
use crate::cli::Selection;
use crate::handover::{self, Context, Fmt, REHEARSAL_LABEL};
use crate::journal::Event;
use crate::journal::merge::{self, Source};
use crate::journal::record::{Confirmation, Record};
use crate::rehearsal::{HostClock, one_rehearsal_of};
use crate::report::{self, drift_words};
use crate::runbook::{self, Plan};
use crate::text::clean_line;
use crate::text::md_text;
use chrono_tz::Tz;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Split what follows `handover`/`report` into journals and runbook files: folders and files not
/// named `*.yaml`/`*.yml` are journals; the first path always is one.
pub fn split(first: &Path, rest: &[PathBuf]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut journals = vec![first.to_owned()];
    let mut runbooks = Vec::new();
    for p in rest {
        let yaml = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        if yaml && !p.is_dir() {
            runbooks.push(p.clone());
        } else {
            journals.push(p.clone());
        }
    }
    (journals, runbooks)
}

/// Whether `journals` is more than one journal file (several, or a folder).
pub fn several(journals: &[PathBuf]) -> bool {
    journals.len() > 1 || journals.iter().any(|p| p.is_dir())
}

/// Several journals read as one, with the plan of all their roles.
pub struct Many {
    pub sources: Vec<Source>,
    pub plan: Plan,
    pub record: Record,
    /// Journals written with other runbook content than the plan's for their runbooks.
    pub mismatches: Vec<(PathBuf, String)>,
    pub rehearsal: bool,
}

impl Many {
    fn journal_names(&self) -> String {
        self.sources
            .iter()
            .map(|s| s.path.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn read(journals: &[PathBuf]) -> Result<Vec<Source>, Failure> {
    let (sources, empty) = merge::read_all(journals).map_err(|e| Failure::new(e.to_string()))?;
    for p in empty {
        crate::out::eprintln(&format!(
            "{}: empty (nothing recorded yet): left out",
            p.display()
        ));
    }
    for s in &sources {
        for n in notes(&s.path, &s.replay) {
            crate::out::eprintln(&n);
        }
    }
    Ok(sources)
}

/// Read the journals and the plan they were written for: the bundled runbooks of every role they
/// hold, or the runbook files given.
pub fn load(journals: &[PathBuf], runbooks: &[PathBuf]) -> Result<Many, Failure> {
    let sources = read(journals)?;
    let session = sources[0].replay.session().unwrap_or_default().to_owned();
    let plan = if runbooks.is_empty() {
        if session != runbook::BUNDLED_SESSION {
            return Err(Failure::new(format!(
                "{}: written for session `{}`, which is not bundled: name its runbook files after the journals",
                sources[0].path.display(),
                clean_line(&session)
            )));
        }
        let bundled = runbook::bundled_roles();
        let mut roles: Vec<String> = sources.iter().flat_map(|s| s.roles.clone()).collect();
        roles.sort_by_key(|r| bundled.iter().position(|b| b == r).unwrap_or(usize::MAX));
        roles.dedup();
        load_selection(&Selection {
            role: roles,
            runbooks: vec![],
        })
        .map_err(|f| {
            Failure::new(format!(
                "cannot load the bundled runbooks the journals name: {f}"
            ))
        })?
    } else {
        let plan = runbook::load_paths(runbooks)?;
        if plan.session.id != session {
            return Err(Failure::new(
                crate::journal::JournalError::OtherSession {
                    path: sources[0].path.clone(),
                    found: session,
                    expected: plan.session.id.clone(),
                }
                .to_string(),
            ));
        }
        plan
    };
    let mismatches = sources
        .iter()
        .filter_map(|s| {
            let want = hash_for(&plan, &s.runbook_ids());
            let found = match &want {
                Some(h) => s.replay.other_hash(h),
                None => s.replay.events.last().map(|e| e.sha256.as_str()),
            };
            found.map(|f| (s.path.clone(), clean_line(f).into_owned()))
        })
        .collect();
    let record = merge::merge_records(sources.iter().map(|s| &s.replay.record));
    let rehearsal = sources[0].replay.is_rehearsal();
    Ok(Many {
        sources,
        plan,
        record,
        mismatches,
        rehearsal,
    })
}

/// The hash a journal of these runbook ids would carry if written with the plan's files (the
/// session file's and its runbooks', in the journal's order); None when one is not loaded.
fn hash_for(plan: &Plan, ids: &[String]) -> Option<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(plan.session.sha256.as_bytes());
    for id in ids {
        let r = plan.runbooks.iter().find(|r| &r.id == id)?;
        h.update(b"\n");
        h.update(r.sha256.as_bytes());
    }
    Some(crate::runbook::hex(&h.finalize()))
}

/// The session instant to describe the journals at: now, or for rehearsals the newest virtual
/// instant among them.
fn now_for(m: &Many) -> chrono::DateTime<chrono::Utc> {
    if m.rehearsal {
        m.sources
            .iter()
            .filter_map(|s| s.replay.events.last().map(Event::session_time))
            .max()
            .unwrap_or_else(crate::clock::wall_now)
    } else {
        crate::clock::wall_now()
    }
}

fn context(m: &Many, now: chrono::DateTime<chrono::Utc>) -> Context {
    Context {
        now,
        local_tz: crate::zones::local_tz(),
        journal: m.journal_names(),
        rehearsal: m.rehearsal,
        hash_mismatch: None,
    }
}

/// Names read from journals (hosts, operators) for one table cell: each as typed, or a code span
/// when it holds what could pair with the name beside it (see `text::md_text`).
fn md_names(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| md_text(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `## Journals`: each journal with its host, operators, roles, events and span; then each
/// runbook hash warning.
fn journals_section(m: &Many, f: &Fmt) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n## Journals\n");
    let _ = writeln!(
        out,
        "{} journals of this session, read as one: events merged in time order; a step's state, an \
         evidence value or a confirmation is the newest recorded in any of them.\n",
        m.sources.len()
    );
    let rows: Vec<Vec<String>> = m
        .sources
        .iter()
        .map(|s| {
            let ev = &s.replay.events;
            let t = |e: Option<&Event>| e.map_or_else(String::new, |e| f.at(e.session_time()));
            vec![
                crate::text::md_code(&s.path.display().to_string()),
                md_names(&s.hosts()),
                md_names(&s.operators()),
                clean_line(&s.roles.join(", ")).into_owned(),
                ev.len().to_string(),
                t(ev.first()),
                t(ev.last()),
            ]
        })
        .collect();
    let head = [
        "Journal",
        "Host",
        "Operators",
        "Roles",
        "Events",
        "First",
        "Last",
    ];
    crate::mdtable::table(&mut out, &head, &rows);
    for (p, old) in &m.mismatches {
        let _ = writeln!(
            out,
            "\n> **WARNING: runbook hash mismatch.** `{}` was written with runbook files of sha256 `{old}`, \
             not the ones read now; what follows matches its step ids against the current runbooks.",
            clean_line(&p.display().to_string())
        );
    }
    out
}

/// One boundary as each journal confirmed it.
struct Seen<'a> {
    key: String,
    label: String,
    planned: chrono::DateTime<chrono::Utc>,
    by_journal: Vec<(usize, &'a Confirmation)>,
}

fn seen<'a>(
    m: &Many,
    rep: &report::Report,
    by: &'a std::collections::BTreeMap<String, Vec<(usize, Confirmation)>>,
) -> Vec<Seen<'a>> {
    rep.boundaries
        .iter()
        .filter(|b| b.approximate)
        .map(|b| Seen {
            key: b.key.clone(),
            label: b.label.clone(),
            planned: b.planned.utc,
            by_journal: by
                .get(&b.key)
                .map(|v| v.iter().map(|(i, c)| (*i, c)).collect())
                .unwrap_or_default(),
        })
        .filter(|s| !s.by_journal.is_empty() || m.sources.len() > 1)
        .collect()
}

/// `## Boundaries as each host saw them`: one row per approximate boundary, one column per
/// journal, each cell the confirmed instant, its drift and who; then the spread between them.
/// `merged` says which parts of the document go by the newest confirmation recorded, and where
/// they are: the section sits near the top of a handover and below the merged boundaries in a
/// report (walk 3 R13: "the boundaries above" pointed 250 lines down).
fn seen_section(m: &Many, rows: &[Seen], f: &Fmt, merged: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n## Boundaries as each host saw them\n");
    let _ = writeln!(
        out,
        "Each journal's own confirmation (undone ones left out). {merged} go by the newest one \
         recorded.\n"
    );
    let mut head = vec!["Boundary".to_owned(), "Planned".to_owned()];
    head.extend(m.sources.iter().map(crate::journal::merge::Source::label));
    head.push("Spread".to_owned());
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut row = vec![r.label.clone(), format!("~{}", f.at(r.planned))];
            row.extend((0..m.sources.len()).map(
                |i| match r.by_journal.iter().find(|(j, _)| *j == i) {
                    Some((_, c)) => {
                        let note = c
                            .note
                            .as_deref()
                            .map_or_else(String::new, |n| format!(": {}", md_text(n)));
                        format!(
                            "{} ({}), by {}{note}",
                            f.at(c.confirmed),
                            drift_words((c.confirmed - c.planned).num_seconds()),
                            md_text(&c.stamp.who())
                        )
                    }
                    None => "not confirmed".to_owned(),
                },
            ));
            let times: Vec<_> = r.by_journal.iter().map(|(_, c)| c.confirmed).collect();
            row.push(match (times.iter().min(), times.iter().max()) {
                (Some(a), Some(b)) if times.len() > 1 => crate::zones::span(*b - *a),
                _ => String::new(),
            });
            row
        })
        .collect();
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    crate::mdtable::table(&mut out, &head, &cells);
    out
}

/// Insert `section` before the first line that is `marker` (a heading), else at the end.
fn insert_before(text: &mut String, marker: &str, section: &str) {
    match text.find(marker) {
        Some(i) => text.insert_str(i, section),
        None => text.push_str(section),
    }
}

/// Rehearsal journals make one record only when they are one rehearsal: the same speed, and
/// their clocks, each carried from its first event to the earliest of them, close together
/// (hosts that start a team rehearsal together). A finished rehearsal at 3600x beside a live
/// one at 60x would otherwise give one handover of two different days.
fn one_rehearsal(m: &Many) -> Result<(), Failure> {
    if !m.rehearsal {
        return Ok(());
    }
    let firsts: Vec<_> = m
        .sources
        .iter()
        .filter_map(|s| {
            let e = s.replay.events.first()?;
            Some((s.path.as_path(), e.utc, e.rehearsal?))
        })
        .collect();
    let Some(w0) = firsts.iter().map(|f| f.1).min() else {
        return Ok(());
    };
    let clocks: Vec<HostClock> = firsts
        .iter()
        .map(|&(path, wall, r)| {
            let back = (wall - w0).num_milliseconds() as f64 * r.speed;
            HostClock {
                path,
                at_common: r.virtual_utc - chrono::TimeDelta::milliseconds(back as i64),
                shown: ("from", r.virtual_utc),
                speed: r.speed,
            }
        })
        .collect();
    one_rehearsal_of(
        &clocks,
        m.plan.session.tz,
        "one record has one clock; read each journal alone",
    )
    .map_err(|e| Failure::new(e.to_string()))
}

/// `handover J1 J2 ...` / `handover FOLDER`.
pub fn handover(journals: &[PathBuf], runbooks: &[PathBuf], at: Option<&str>) -> Outcome {
    let mut m = load(journals, runbooks)?;
    one_rehearsal(&m)?;
    let now = match at {
        None => now_for(&m),
        Some(a) => super::handover::at_instant(&m.plan, a)?,
    };
    // `--at`: each journal as it stood then (its events up to TIME on the session clock), as
    // for one journal, so nothing journaled later leaks in.
    let cut: Option<Vec<Record>> = at.map(|_| {
        m.sources
            .iter()
            .map(|s| {
                Record::from_events(s.replay.events.iter().filter(|e| e.session_time() <= now))
            })
            .collect()
    });
    let records: Vec<&Record> = match &cut {
        Some(v) => v.iter().collect(),
        None => m.sources.iter().map(|s| &s.replay.record).collect(),
    };
    if cut.is_some() {
        m.record = merge::merge_records(records.iter().copied());
    }
    let ctx = context(&m, now);
    let f = Fmt::new(&m.plan, ctx.local_tz);
    let mut text = handover::render(&m.plan, &m.record, &ctx);
    let rep = report::build(&m.plan, &m.record, &ctx);
    let by = merge::confirmations_by_journal(records.iter().copied());
    let rows = seen(&m, &rep, &by);
    let mut add = journals_section(&m, &f);
    add.push_str(&seen_section(
        &m,
        &rows,
        &f,
        "\"Where the session stands\" (next) and \"Boundaries: planned vs confirmed\" (near the end)",
    ));
    insert_before(&mut text, "\n## Where the session stands", &add);
    let paths: Vec<PathBuf> = m.sources.iter().map(|s| s.path.clone()).collect();
    text.push_str(&crate::forward::handover_section(&paths, &f));
    Ok(crate::out::print(&crate::text::fold_markdown(&text, 80))?)
}

/// `report J1 J2 ... [--format md|csv|json]` / `report FOLDER`.
pub fn report(journals: &[PathBuf], runbooks: &[PathBuf], format: &str) -> Outcome {
    let m = load(journals, runbooks)?;
    one_rehearsal(&m)?;
    let ctx = context(&m, now_for(&m));
    let f = Fmt::new(&m.plan, ctx.local_tz);
    let model = report::build(&m.plan, &m.record, &ctx);
    let by = merge::confirmations_by_journal(m.sources.iter().map(|s| &s.replay.record));
    let rows = seen(&m, &model, &by);
    let tz = m.plan.session.tz;
    let text = match format {
        "csv" => {
            warn_on_stderr(&m);
            let mut t = report::render_csv(&model);
            t.push_str(&seen_csv(&m, &rows, tz, model.rehearsal));
            t
        }
        "json" => {
            warn_on_stderr(&m);
            seen_json(&m, &model, &rows, tz)
        }
        _ => {
            let mut t = report::render_md(&m.plan, &model, &f);
            let mut add = journals_section(&m, &f);
            add.push_str(&seen_section(
                &m,
                &rows,
                &f,
                "\"Boundaries: planned vs confirmed\" (above) and the phase headings under \"Steps by \
                 phase\"",
            ));
            insert_before(&mut t, "\n## Result by system and phase", &add);
            if m.rehearsal {
                let slices: Vec<&[Event]> = m
                    .sources
                    .iter()
                    .map(|s| s.replay.events.as_slice())
                    .collect();
                let events: Vec<Event> = merge::timeline(&slices)
                    .into_iter()
                    .map(|(_, e)| e.clone())
                    .collect();
                t.push('\n');
                t.push_str(&crate::rehearsal::report::render(&m.plan, &events));
            }
            crate::text::fold_markdown(&t, 80)
        }
    };
    Ok(crate::out::print(&text)?)
}

/// For CSV and JSON the label and the warnings go to stderr, as for one journal.
fn warn_on_stderr(m: &Many) {
    if m.rehearsal {
        crate::out::eprintln(&format!("{}: {REHEARSAL_LABEL}", m.journal_names()));
    }
    for (p, _) in &m.mismatches {
        crate::out::eprintln(&format!(
            "{}: WARNING: the journal was written with other runbook files (sha256 differs)",
            p.display()
        ));
    }
}

/// Rows `boundary_seen`, one per journal's confirmation: `step` the boundary key, `title` its
/// label, `planned`, `by`, `at_session`/`at_utc` the confirmed instant, `field` = `journal` and
/// `value` its path, `note`, `drift`.
fn seen_csv(m: &Many, rows: &[Seen], tz: Tz, rehearsal: bool) -> String {
    use report::csv::field;
    let mut out = String::new();
    let inst = |t: chrono::DateTime<chrono::Utc>| {
        crate::zones::rfc3339_in(chrono::SubsecRound::trunc_subsecs(t, 0), tz)
    };
    for r in rows {
        for (i, c) in &r.by_journal {
            let cells = [
                if rehearsal { "REHEARSAL" } else { "" }.to_owned(),
                "boundary_seen".into(),
                String::new(),
                String::new(),
                r.key.clone(),
                format!("{} ({})", r.label, m.sources[*i].label()),
                String::new(),
                String::new(),
                inst(r.planned),
                clean_line(&c.stamp.who()).into_owned(),
                inst(c.confirmed),
                c.confirmed
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "journal".into(),
                clean_line(&m.sources[*i].path.display().to_string()).into_owned(),
                c.note
                    .as_deref()
                    .map(|n| clean_line(n).into_owned())
                    .unwrap_or_default(),
                String::new(),
                drift_words((c.confirmed - c.planned).num_seconds()),
            ];
            let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
            let _ = writeln!(out, "{}", line.join(","));
        }
    }
    out
}

/// The report's JSON with `journals` and `boundaries_seen` added.
fn seen_json(m: &Many, model: &report::Report, rows: &[Seen], tz: Tz) -> String {
    let mut v = serde_json::to_value(model).unwrap_or_default();
    let inst = |t: chrono::DateTime<chrono::Utc>| {
        serde_json::json!({
            "utc": t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "session": crate::zones::rfc3339_in(chrono::SubsecRound::trunc_subsecs(t, 0), tz),
        })
    };
    let journals: Vec<serde_json::Value> = m
        .sources
        .iter()
        .map(|s| {
            serde_json::json!({
                "path": clean_line(&s.path.display().to_string()),
                "hosts": s.hosts().iter().map(|h| clean_line(h)).collect::<Vec<_>>(),
                "operators": s.operators().iter().map(|o| clean_line(o)).collect::<Vec<_>>(),
                "roles": s.roles.iter().map(|r| clean_line(r)).collect::<Vec<_>>(),
                "events": s.replay.events.len(),
                "hash_mismatch": m.mismatches.iter().find(|(p, _)| *p == s.path).map(|(_, h)| h),
            })
        })
        .collect();
    let seen: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "key": r.key,
                "label": r.label,
                "planned": inst(r.planned),
                "seen": r.by_journal.iter().map(|(i, c)| serde_json::json!({
                    "journal": clean_line(&m.sources[*i].path.display().to_string()),
                    "host": clean_line(&c.stamp.host),
                    "who": clean_line(&c.stamp.who()),
                    "confirmed": inst(c.confirmed),
                    "drift_seconds": (c.confirmed - c.planned).num_seconds(),
                    "recorded": inst(c.stamp.at),
                    "note": c.note.as_deref().map(clean_line),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    if let Some(o) = v.as_object_mut() {
        o.insert("journals".into(), journals.into());
        o.insert("boundaries_seen".into(), seen.into());
    }
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

/// `log J1 J2 ...` / `log FOLDER`: the merged timeline, each event tagged with who and the roles
/// of its journal. `--follow` follows one journal.
pub fn log(journals: &[PathBuf], follow: bool, json: bool, wide: bool) -> Outcome {
    if follow {
        return Err(Failure::usage(
            "--follow follows one journal; to follow several, run `drillbook log --follow` on each (one pane each)",
        ));
    }
    let sources = read(journals)?;
    let layout = Layout::choose(json, wide);
    let tz = super::log::session_tz(sources[0].replay.events.first());
    let local = crate::zones::local_tz();
    let slices: Vec<&[Event]> = sources.iter().map(|s| s.replay.events.as_slice()).collect();
    let mut text = String::new();
    if layout != Layout::Json {
        if sources[0].replay.is_rehearsal() {
            text.push_str(REHEARSAL_LABEL);
            text.push('\n');
        }
        let _ = writeln!(
            text,
            "{} journals of session {}, merged in time order:",
            sources.len(),
            clean_line(sources[0].replay.session().unwrap_or_default())
        );
        for s in &sources {
            let _ = writeln!(
                text,
                "  {}: {}, roles {}, {} events",
                clean_line(&s.path.display().to_string()),
                clean_line(
                    &s.operators()
                        .iter()
                        .flat_map(|o| s.hosts().into_iter().map(move |h| format!("{o}@{h}")))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                clean_line(&s.roles.join(",")),
                s.replay.events.len()
            );
        }
    }
    let mut day = None;
    for (i, e) in merge::timeline(&slices) {
        let roles = &sources[i].roles;
        let line = if layout == Layout::Json {
            let mut v = serde_json::to_value(e).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "journal".into(),
                    sources[i].path.display().to_string().into(),
                );
                o.insert("roles".into(), roles.clone().into());
            }
            v.to_string()
        } else {
            let who = tag(e, roles);
            super::log::format_event(e, layout, (&who, TAG_COLUMNS), tz, local, &mut day)
        };
        text.push_str(&line);
        text.push('\n');
    }
    Ok(crate::out::print(&text)?)
}

/// The width of the wide layout's `who` column when it carries the tag.
const TAG_COLUMNS: usize = 28;

/// `alice@desk1 [ep,ccep]`.
fn tag(e: &Event, roles: &[String]) -> String {
    clean_line(&format!("{} [{}]", e.who(), roles.join(","))).into_owned()
}
