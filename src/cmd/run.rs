//! `drillbook run`, `drillbook watch` and the bare `drillbook` picker: load the plan, open the
//! journal (or follow one), build the model, hand over to the event loop, and report at exit.

mod picker;

use super::from_journal::Loaded;
use super::{Failure, Outcome, load_selection};
use crate::app::{Model, Tone};
use crate::cli::{RunArgs, Selection};
use crate::clock::{Clock, RehearsalClock, SystemClock};
use crate::journal::{self, Action, Journal, Meta, Record, Replay};
use crate::rehearsal;
use crate::run::{Ended, Setup, Source};
use crate::runbook::Plan;
use crate::text::clean_line;
use crate::theme::Theme;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn theme(spec: Option<&str>) -> Result<Theme, Failure> {
    Theme::load(spec, Theme::no_color_env()).map_err(|e| Failure::new(e.to_string()))
}

fn need_terminal() -> Result<(), Failure> {
    if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        Ok(())
    } else {
        Err(Failure::new(
            "drillbook run needs a terminal (stdin and stdout); for a plain listing use `drillbook schedule`",
        ))
    }
}

/// The plan a run works on: the selection, moved to `--date`, with `--lead` applied.
fn plan_for(args: &RunArgs) -> Result<Plan, Failure> {
    let mut plan = load_selection(&args.select)?;
    if let Some(date) = args.date {
        plan = rehearsal::move_to_date(&plan, date).map_err(Failure::usage)?;
    }
    if let Some(lead) = &args.lead {
        plan.session.lead = crate::alerts::parse_lead(lead).map_err(Failure::usage)?;
    }
    Ok(plan)
}

/// Open the journal, refusing what must not be mixed: a rehearsal never writes into the real
/// record and a real run never into a rehearsal's, and other runbook content only when asked.
fn open_journal(path: &Path, plan: &Plan, args: &RunArgs) -> Result<(Journal, Replay), Failure> {
    let meta = Meta::for_plan(plan, args.operator.as_deref());
    let (journal, replay) = Journal::open(path, meta).map_err(|e| {
        // A headless pane beside the app cannot write the app's journal; following it can.
        let follow = matches!(e, journal::JournalError::Locked { .. }) && args.headless;
        let mut m = e.to_string();
        if follow {
            let _ = write!(
                m,
                "\nA pane beside the app: `drillbook log --follow {}` prints each action and phase \
                 transition as it is journaled, read-only",
                path.display()
            );
        }
        Failure::new(m)
    })?;
    if !replay.events.is_empty() && replay.is_rehearsal() != args.rehearse {
        let msg = if args.rehearse {
            "is the real record of a session; a rehearsal never writes into it. Leave out --journal \
             (each rehearsal gets a file of its own) or name a new file"
        } else {
            "is a rehearsal journal; the real record is never mixed with a rehearsal. Add --rehearse \
             to continue that rehearsal, or name another --journal"
        };
        return Err(Failure::new(format!("{}: {msg}", path.display())));
    }
    if let Some(f) = super::from_journal::role_mismatch(path, &replay, &plan.roles()) {
        return Err(f);
    }
    if let Some(old) = &replay.hash_mismatch
        && !args.accept_changed_runbooks
    {
        return Err(Failure::new(format!(
            "{}: this journal was written with other runbook files (sha256 {}…, now {}…).\n\
             The steps may have changed under the record. Check with `drillbook log {}`, then either name \
             a new journal with --journal or continue with --accept-changed-runbooks.",
            path.display(),
            &old[..old.len().min(12)],
            &plan.content_hash()[..12],
            path.display()
        )));
    }
    Ok((journal, replay))
}

/// The clock: real, or a rehearsal clock from `--start-at` (or where a resumed rehearsal stopped).
fn clock_for(args: &RunArgs, plan: &Plan, replay: &Replay) -> Result<Arc<dyn Clock>, Failure> {
    if !args.rehearse {
        return Ok(Arc::new(SystemClock));
    }
    let resumed = replay.events.last().and_then(|e| e.rehearsal.as_ref());
    let start = match (&args.start_at, resumed) {
        (None, Some(r)) => r.virtual_utc,
        (spec, _) => rehearsal::start_instant(plan, spec.as_deref()).map_err(Failure::usage)?,
    };
    // A resumed rehearsal goes on at the speed it ended at (a `-` may have slowed it), as the
    // printed resume command says, unless --speed names another.
    let speed = args
        .speed
        .or(resumed.map(|r| r.speed))
        .unwrap_or(rehearsal::DEFAULT_SPEED);
    Ok(Arc::new(RehearsalClock::new(start, speed)))
}

/// `drillbook run`.
pub fn run(args: &RunArgs) -> Outcome {
    let theme = theme(args.theme.as_deref())?;
    let plan = plan_for(args)?;
    // The site file is read before the journal is opened: a bad one stops here, nothing written.
    let checks = crate::check::Runner::new(
        crate::site::Site::load(args.site.as_deref())?,
        crate::check::Mode::for_run(args),
        crate::check::DEFAULT_LIMIT,
    );
    let channels = crate::notify::channels(&args.notify).map_err(Failure::usage)?;
    // As `drillbook forward --to` refuses a bad address: before the journal is opened, for the
    // app and the headless run alike (a cron job must not run with nothing forwarded).
    let forward = args
        .forward
        .as_deref()
        .map(|url| super::forward::target("--forward", url))
        .transpose()?;
    if !args.headless {
        need_terminal()?;
    }
    let path = match &args.journal {
        Some(p) => p.clone(),
        None if args.resume => newest_rehearsal(&plan)?,
        None => journal::default_path(
            &plan.session.id,
            &plan.roles(),
            args.rehearse.then(crate::clock::wall_now),
        ),
    };
    let choices = crate::setup::parse_choices(&plan, &args.choose).map_err(Failure::usage)?;
    let (mut journal, mut replay) = open_journal(&path, &plan, args)?;
    let clock = clock_for(args, &plan, &replay)?;
    // What the journal held before this run: the choices below are this run's own actions.
    let resumed = replay.resumed_summary(plan.session.tz);
    // The attach first, then what --choose records: a choice is made by someone who started
    // recording, and the journal reads so (walk 3: `#1` was the choice, `#2` the attach).
    append(
        crate::run::attach_action(&plan),
        &mut journal,
        &mut replay,
        clock.as_ref(),
    )?;
    let changed = record_choices(&plan, &choices, &mut journal, &mut replay, clock.as_ref())?;
    let now = clock.now();
    let torn = replay.torn.take();
    let exposure = replay.exposure.take();
    let hash_mismatch = replay.hash_mismatch.take();
    // The record moves into the model (the writer's replay holds only the newest events).
    let record = std::mem::take(&mut replay.record);
    let mut model = Model::new(plan, record, &replay.events, now);
    drop(replay);
    let (local_tz, tz_warning) = crate::zones::local_zone();
    model.local_tz = local_tz;
    model.journal_path = path.display().to_string();
    model.rehearsal = clock.rehearsal();
    model.hash_mismatch = hash_mismatch;
    // Nobody observes anything in a rehearsal: confirm at the planned time when asked to (and
    // always headless, where nobody is at the keys; on the real clock only an operator confirms).
    model.auto_confirm = args.auto_confirm || (args.headless && args.rehearse);
    if args.headless {
        for w in tz_warning.iter().chain(&exposure).chain(&changed) {
            crate::out::eprintln(w);
        }
        // Terminal notification sequences go to the controlling terminal, never into stdout
        // (a file or a pipe a script reads): without one, that channel has nowhere to go.
        let mut channels = channels;
        if crate::run::lines::Lines::<std::io::Stdout>::controlling_tty().is_none()
            && channels.iter().any(|c| c.channel() == "terminal")
        {
            channels.retain(|c| c.channel() != "terminal");
            crate::out::eprintln(
                "drillbook: no controlling terminal: terminal notifications are not sent (stdout stays plain lines)",
            );
        }
        let setup = Setup {
            model,
            clock,
            source: Source::Write(Box::new(journal)),
            channels,
            arrival: None,
            checks: Some(checks),
            forward,
            attached: true,
        };
        return headless(args, setup, &path);
    }
    let mut start = format!("journal {}", path.display());
    if let Some(r) = &resumed {
        let _ = write!(start, " · {r}");
    }
    if let Some(t) = &torn {
        let _ = write!(start, " · a torn last line ({}) will be set aside", t.line);
    }
    // Printed to stderr it would vanish under the full screen: the status line carries it.
    let warnings: Vec<String> = tz_warning
        .into_iter()
        .chain(exposure)
        .chain(changed)
        .collect();
    model.status = Some(if warnings.is_empty() {
        (start, Tone::Info)
    } else {
        (format!("{} · {start}", warnings.join(" · ")), Tone::Error)
    });
    // What surrounds the app (no answered preflight, tmux passthrough off) is probed once the
    // screen is up, and said on one line.
    let notify = args.notify.clone();
    let arrival: crate::run::Arrival = Box::pin(async move {
        crate::app::Message::Arrived(crate::app::Surroundings::detect(&notify).await)
    });
    let ended = crate::run::run(
        Setup {
            model,
            clock,
            source: Source::Write(Box::new(journal)),
            channels,
            arrival: Some(arrival),
            checks: Some(checks),
            forward,
            attached: true,
        },
        theme,
    )
    .map_err(|e| Failure::new(format!("cannot run the terminal: {e}")))?;
    let done = report(
        &path,
        &ended,
        resumed.as_deref(),
        Some(&resume_command(
            args,
            &ended.model.plan,
            &path,
            ended.model.rehearsal.map(|r| r.speed),
        )),
    );
    if args.rehearse {
        rehearsal_report(&path, &ended.model.plan);
    }
    done
}

/// `--choose`: each choice journaled as the evidence of the step that settles it, unless the
/// journal already holds that option (a resumed run does not repeat it). A resumed journal that
/// held the other option is changed, as asked, and said: what it held, and what it holds now.
fn record_choices(
    plan: &Plan,
    choices: &[(&crate::runbook::Choice, &str)],
    journal: &mut Journal,
    replay: &mut Replay,
    clock: &dyn Clock,
) -> Result<Vec<String>, Failure> {
    let mut changed = Vec::new();
    for (c, option) in choices {
        let before = crate::setup::recorded(plan, &replay.record, &c.id);
        if before == Some(*option) {
            continue;
        }
        if let Some(was) = before {
            changed.push(format!(
                "--choose changed `{}` from {was} (recorded earlier in this journal) to {option}",
                c.id
            ));
        }
        let Some(step) = crate::setup::settler(plan, &c.id) else {
            continue;
        };
        let action = Action::Evidence {
            step: step.id.clone(),
            field: c.field(),
            value: (*option).to_owned(),
        };
        append(action, journal, replay, clock)?;
    }
    Ok(changed)
}

/// Journal `action` before the loop starts, and fold it into the replay the model is built on.
fn append(
    action: Action,
    journal: &mut Journal,
    replay: &mut Replay,
    clock: &dyn Clock,
) -> Result<(), Failure> {
    let ev = journal.append(action, clock).map_err(|e| {
        Failure::new(format!(
            "{}: cannot write the journal: {e}",
            journal.path().display()
        ))
    })?;
    replay.record.apply(&ev);
    replay.events.push(ev);
    Ok(())
}

/// `--headless`: the app's loop with a line printer for a screen, one line per transition and
/// notification, until the session ends (or a signal).
fn headless(args: &RunArgs, setup: Setup, path: &Path) -> Outcome {
    let (ended, _) = crate::run::run_headless(setup)
        .map_err(|e| Failure::new(format!("cannot start the headless run: {e}")))?;
    let plan = &ended.model.plan;
    crate::out::println(&format!("journal {} ({})", path.display(), ended.reason))?;
    let speed = ended.model.rehearsal.map(|r| r.speed);
    crate::out::println(&format!(
        "to resume: {}",
        resume_command(args, plan, path, speed)
    ))?;
    if args.rehearse {
        rehearsal_report(path, plan);
    }
    if let Some(e) = &ended.detach_error {
        return Err(Failure::new(format!(
            "{}: the detach was NOT recorded: {e}",
            path.display()
        )));
    }
    match ended.clock_error {
        Some(e) => Err(Failure::new(e.to_string())),
        None => Ok(()),
    }
}

/// The exact command that continues this journal: the same runbooks, `--rehearse` for a
/// rehearsal (its journal is a file of its own, so it is named) at the speed it ended at
/// (`ended_speed`: a `-` during the run changed it; left out when it is the default and none
/// was given), the journal path, quoted for a POSIX shell.
fn resume_command(args: &RunArgs, plan: &Plan, path: &Path, ended_speed: Option<f64>) -> String {
    let mut cmd = plan.run_words();
    if args.rehearse {
        cmd.push("--rehearse".into());
        let speed = ended_speed.or(args.speed).filter(|s| {
            args.speed.is_some() || (s - rehearsal::DEFAULT_SPEED).abs() > f64::EPSILON
        });
        if let Some(s) = speed {
            cmd.push(format!("--speed {s}"));
        }
        if let Some(d) = args.date {
            cmd.push(format!("--date {d}"));
        }
    }
    if args.headless {
        cmd.push("--headless".into());
    }
    // Who records and where the checks read their values: left out, a resumed run would record
    // as the account (on a shared one, someone else) and find its checks "not configured".
    if let Some(o) = &args.operator {
        cmd.push(format!("--operator {}", crate::shell::word(o)));
    }
    if let Some(site) = &args.site {
        cmd.push(format!(
            "--site {}",
            crate::shell::word(&site.display().to_string())
        ));
    }
    cmd.push("--journal".into());
    cmd.push(crate::shell::word(&path.display().to_string()));
    clean_line(&cmd.join(" ")).into_owned()
}

/// `--rehearse --resume`: the newest rehearsal journal of these roles in the default folder (the
/// file names carry the rehearsal's start, so the greatest name is the newest).
fn newest_rehearsal(plan: &Plan) -> Result<PathBuf, Failure> {
    let any = journal::default_path(&plan.session.id, &plan.roles(), Some(chrono::Utc::now()));
    let dir = any.parent().map(Path::to_path_buf).unwrap_or_default();
    let prefix = format!("{}--{}.rehearsal-", plan.session.id, plan.roles().join("+"));
    let newest = std::fs::read_dir(&dir)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.starts_with(&prefix) && Path::new(n).extension().is_some_and(|x| x == "jsonl")
        })
        .max();
    match newest {
        Some(n) => Ok(dir.join(n)),
        None => Err(Failure::new(format!(
            "--resume: no rehearsal journal for roles {} in {}; start one with `{} --rehearse`",
            plan.roles().join(", "),
            dir.display(),
            plan.run_command()
        ))),
    }
}

/// The rehearsal report, from the journal as written: per phase planned vs reached, late steps,
/// late confirmations. Folded at 80 columns as `drillbook report` prints it (the terminal cut
/// its long items mid-word).
fn rehearsal_report(path: &Path, plan: &Plan) {
    match journal::read(path) {
        Ok(r) => {
            // Folded as `drillbook report` folds it: the app was on an 80-column terminal.
            let text = crate::text::fold_markdown(&rehearsal::report::render(plan, &r.events), 80);
            let _ = crate::out::println(&format!("\n{text}"));
        }
        Err(e) => crate::out::eprintln(&format!(
            "drillbook: cannot read the rehearsal journal back for its report: {e}"
        )),
    }
}

/// `drillbook watch JOURNAL [RUNBOOK...]`: the same screen, read-only, following the journal.
/// The plan is rebuilt as `handover` and `report` rebuild it: from the bundled runbooks the
/// journal names, or from the files given. On several journals or a folder, a journal that
/// appears later joins, its roles' steps added to the plan (see `run::follow`); on a folder with
/// nothing recorded yet (a supervisor before the hosts start), the screen waits for the first.
pub fn watch(first: &Path, rest: &[PathBuf], theme_spec: Option<&str>) -> Outcome {
    let theme = theme(theme_spec)?;
    let (journals, runbooks) = super::journals::split(first, rest);
    let several = super::journals::several(&journals);
    // Said on the status line, where a read-only watcher looks (stderr is under the screen).
    let mut exposure: Vec<String> = Vec::new();
    let wall = crate::clock::wall_now();
    let names = journals
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let waiting = several
        && !crate::journal::merge::anything_recorded(&journals)
            .map_err(|e| Failure::new(e.to_string()))?;
    let mut watched = crate::app::Watched {
        named: names.clone(),
        ..Default::default()
    };
    let (plan, record, events, follow, started_with) = if waiting {
        let plan = plan_before_any_journal(&runbooks)?;
        (plan, Record::default(), Vec::new(), None, Vec::new())
    } else if several {
        let many = super::journals::load(&journals, &runbooks)?;
        one_rehearsal_clock(&many)?;
        exposure.extend(
            many.sources
                .iter()
                .filter_map(|s| s.replay.exposure.clone()),
        );
        let slices: Vec<&[crate::journal::Event]> = many
            .sources
            .iter()
            .map(|s| s.replay.events.as_slice())
            .collect();
        let follow = crate::run::watch_clock_of(&slices, wall, crate::run::session_end(&many.plan));
        watched.clock_of = follow.map(|(i, _)| i);
        watched.journals = many.sources.iter().map(watched_journal).collect();
        let timeline = crate::journal::merge::timeline(&slices);
        let start = timeline.len().saturating_sub(crate::app::RECENT);
        let events: Vec<_> = timeline[start..]
            .iter()
            .map(|(_, e)| (*e).clone())
            .collect();
        let started_with = many.sources.iter().map(|s| s.path.clone()).collect();
        (
            many.plan,
            many.record,
            events,
            follow.map(|(_, f)| f),
            started_with,
        )
    } else {
        let Loaded {
            mut replay, plan, ..
        } = super::from_journal::load(first, &runbooks)?;
        exposure.extend(replay.exposure.take());
        let record = std::mem::take(&mut replay.record);
        let start = replay.events.len().saturating_sub(crate::app::RECENT);
        let follow =
            crate::run::watch_clock(&[&replay.events], wall, crate::run::session_end(&plan));
        (
            plan,
            record,
            replay.events.split_off(start),
            follow,
            vec![first.to_owned()],
        )
    };
    need_terminal()?;
    // Real until the journals say rehearsal (a watcher that waits does not know yet).
    let clock = Arc::new(crate::clock::WatchClock::default());
    if let Some(f) = follow {
        clock.control(crate::clock::ClockControl::Follow(f));
    }
    let mut model = Model::new(plan, record, &events, clock.now());
    let (local_tz, tz_warning) = crate::zones::local_zone();
    model.local_tz = local_tz;
    model.journal_path.clone_from(&names);
    model.read_only = Some(names.clone());
    let watching = if waiting {
        format!("waiting for the first journal in {names}, read-only; q quits")
    } else {
        format!("watching {names} read-only; q quits")
    };
    let warnings: Vec<String> = tz_warning.into_iter().chain(exposure).collect();
    model.status = Some(if warnings.is_empty() {
        (watching, Tone::Info)
    } else {
        (
            format!("{} · {watching}", warnings.join(" · ")),
            Tone::Error,
        )
    });
    let watch = crate::run::Watch {
        planner: several.then(|| planner(&runbooks, &model.plan)),
        roles: model.plan.roles(),
        started_with,
        named: names,
        tz: Some(model.plan.session.tz),
        paths: journals,
    };
    model.watched = several.then_some(watched);
    let ended = crate::run::run(
        Setup {
            model,
            clock,
            source: Source::Watch(Box::new(watch)),
            channels: Vec::new(),
            arrival: None,
            checks: None,
            forward: None,
            attached: false,
        },
        theme,
    )
    .map_err(|e| Failure::new(format!("cannot run the terminal: {e}")))?;
    report(first, &ended, None, None)
}

/// A journal as `watch`'s header and status line name it.
fn watched_journal(s: &crate::journal::merge::Source) -> crate::app::WatchedJournal {
    crate::app::WatchedJournal {
        file: s.path.file_name().map_or_else(
            || s.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        who: s
            .replay
            .events
            .iter()
            .map(crate::journal::Event::who)
            .fold(Vec::<String>::new(), |mut v, w| {
                if !v.contains(&w) {
                    v.push(w);
                }
                v
            })
            .join(", "),
        hosts: s.hosts().into_iter().map(str::to_owned).collect(),
        writer: s
            .replay
            .events
            .last()
            .map(crate::journal::Event::who)
            .unwrap_or_default(),
        roles: s.roles.clone(),
    }
}

/// The plan a watcher waits with, before any journal says which roles: the runbook files given,
/// else the bundled session's schedule with no steps (the steps come with the journals' roles).
fn plan_before_any_journal(runbooks: &[PathBuf]) -> Result<Plan, Failure> {
    if !runbooks.is_empty() {
        return Ok(crate::runbook::load_paths(runbooks)?);
    }
    let any = crate::runbook::bundled_roles();
    let plan = load_selection(&Selection {
        role: any.into_iter().take(1).collect(),
        runbooks: vec![],
    })?;
    Ok(Plan {
        session: plan.session,
        runbooks: Vec::new(),
        steps: Vec::new(),
    })
}

/// How `watch` on several journals gets the plan of a journal that joins: the runbook files
/// given (a journal of other roles or another session cannot join them), else the bundled
/// runbooks of every role joined, in the bundled order.
fn planner(runbooks: &[PathBuf], plan: &Plan) -> Box<crate::run::follow::Planner> {
    if runbooks.is_empty() {
        return Box::new(|session: &str, roles: &[String]| {
            if session != crate::runbook::BUNDLED_SESSION {
                return Err(format!(
                    "written for session `{}`, which is not bundled: watch it alone with its runbook files named",
                    clean_line(session)
                ));
            }
            let bundled = crate::runbook::bundled_roles();
            let mut roles = roles.to_vec();
            roles.sort_by_key(|r| bundled.iter().position(|b| b == r).unwrap_or(usize::MAX));
            roles.dedup();
            load_selection(&Selection {
                role: roles,
                runbooks: vec![],
            })
            .map_err(|f| format!("cannot load the bundled runbooks of its roles: {f}"))
        });
    }
    let plan = plan.clone();
    Box::new(move |session: &str, roles: &[String]| {
        if session != plan.session.id {
            return Err(format!(
                "written for session `{}`, and the runbook files given are for `{}`",
                clean_line(session),
                clean_line(&plan.session.id)
            ));
        }
        let have = plan.roles();
        let missing: Vec<&str> = roles
            .iter()
            .filter(|r| !have.contains(r))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            Ok(plan.clone())
        } else {
            Err(format!(
                "its roles {} are not in the runbook files given",
                clean_line(&missing.join(","))
            ))
        }
    })
}

/// Several rehearsal journals share one screen, so one clock: only when they are one rehearsal
/// (the same speed, their clocks carried to now within 15 minutes of each other), as
/// hosts that start a team rehearsal together are. A finished rehearsal beside a live one would
/// otherwise show the live host's failover as "session ended".
fn one_rehearsal_clock(many: &super::journals::Many) -> Result<(), Failure> {
    let now = crate::clock::wall_now();
    let end = crate::run::session_end(&many.plan);
    // Each journal's clock as a watcher of it alone would set it (a paused host's held).
    let clocks: Vec<crate::rehearsal::HostClock> = many
        .sources
        .iter()
        .filter_map(|s| {
            let f = crate::run::watch_clock(&[&s.replay.events], now, end)?;
            Some(crate::rehearsal::HostClock {
                path: s.path.as_path(),
                at_common: f.at,
                shown: ("at", f.at),
                speed: f.speed,
            })
        })
        .collect();
    crate::rehearsal::one_rehearsal_of(
        &clocks,
        many.plan.session.tz,
        "one screen has one clock; watch each journal alone",
    )
    .map_err(|e| Failure::new(e.to_string()))
}

/// After the terminal is restored: where the journal is and how the session stands. Written with
/// errors ignored: after an SSH drop there is no terminal to print to.
fn report(path: &Path, ended: &Ended, resumed: Option<&str>, resume: Option<&str>) -> Outcome {
    let mut out = crate::out::stdout();
    let _ = writeln!(out, "journal {}", path.display());
    if let Some(r) = resumed {
        let _ = writeln!(out, "at start: {r}");
    }
    let tz = ended.model.plan.session.tz;
    if let Some(cmd) = resume
        && let Some(s) = journal::read(path).ok().and_then(|r| held(&r, tz))
    {
        let _ = writeln!(out, "the journal holds {s}");
        let _ = writeln!(out, "to resume: {cmd}");
    }
    let _ = writeln!(out, "{}", crate::view::summary_line(&ended.model));
    let _ = writeln!(out, "ended: {}", clean_line(&ended.reason));
    let _ = out.flush();
    if let Some(e) = &ended.detach_error {
        return Err(Failure::new(format!(
            "{}: the detach was NOT recorded: {e}",
            path.display()
        )));
    }
    if let Some(e) = &ended.clock_error {
        return Err(Failure::new(e.to_string()));
    }
    if let Some(e) = &ended.terminal_error {
        return Err(Failure::new(format!("terminal error: {e}")));
    }
    Ok(())
}

/// What the journal holds, for the exit lines: `14 actions, last at 09:41:07 HKT by
/// alice@host`. An undo is journaled as an action of its own; the count says so, in the
/// rehearsal report's terms (`33 operator actions, 1 undone`): `33 actions, 1 undone (34 with
/// the undo), last at …`.
fn held(r: &Replay, tz: chrono_tz::Tz) -> Option<String> {
    let summary = r.resumed_summary(tz)?;
    let summary = summary.trim_start_matches("resumed ");
    let undos = r
        .events
        .iter()
        .filter(|e| matches!(e.action, Action::Undo { .. }))
        .count();
    let last = r.record.last.as_ref()?;
    if undos == 0 || r.record.actions < undos {
        return Some(summary.to_owned());
    }
    let kept = r.record.actions - undos;
    Some(format!(
        "{kept} action{}, {undos} undone ({} with the undo{}), last at {} by {}",
        if kept == 1 { "" } else { "s" },
        r.record.actions,
        if undos == 1 { "" } else { "s" },
        crate::zones::hms(last.at, tz),
        clean_line(&last.who())
    ))
}

/// `drillbook` with no arguments: pick roles, then run.
pub fn pick_and_run() -> Outcome {
    if !std::io::stdout().is_terminal() {
        return Err(Failure::usage(
            "no command given; try `drillbook --help` (with a terminal, `drillbook` alone opens a picker)",
        ));
    }
    match picker::pick().map_err(|e| Failure::new(format!("cannot run the terminal: {e}")))? {
        Some(roles) => run(&RunArgs {
            select: Selection {
                role: roles,
                runbooks: vec![],
            },
            notify: vec!["auto".into()],
            ..RunArgs::default()
        }),
        None => Ok(()),
    }
}
