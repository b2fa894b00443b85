//! `drillbook check`: run the runbooks' checks now, a bounded number at once, and print one row
//! per check. For the days before the session (is the backup site reachable from this host on
//! Wednesday?) and for trying a site file.
//!
//! It reads the runbooks and the site file and writes nothing: no journal is opened, so it runs
//! beside the app without touching its lock, and nothing it sees enters the session's record
//! (the app's checks do that). Exit 1 when a check failed, timed out or could not be made; not
//! configured and refused are shown but are not failures: nothing was observed. Nor is not in
//! phase: a check of what only its phase's lines (or a file written since the phase started)
//! can show, run before that phase or after it, reads what is there and says so at once instead
//! of waiting out its timeout (walk 3 R15: 20 s, then TIMEOUT and exit 1, on a Wednesday).

use super::{Failure, Outcome, load_selection};
use crate::check::{self, CheckResult, Job, Mode, Runner};
use crate::cli::{CheckArgs, Selection};
use crate::journal::CheckOutcome;
use crate::site::Site;
use crate::timeline::Timeline;
use std::fmt::Write as _;

/// The table's width: an SSH terminal's.
const WIDTH: usize = 80;
/// Where the detail lines start, under the step.
const INDENT: usize = 16;

pub fn run(args: &CheckArgs) -> Outcome {
    let plan = load_selection(&Selection {
        role: args.role.clone(),
        runbooks: args.runbook.clone(),
    })?;
    let site = Site::load(args.site.as_deref())?;
    let phase = match &args.phase {
        None => None,
        Some(p) => Some(plan.session.phase_index(p).ok_or_else(|| {
            let known: Vec<&str> = plan.session.phases.iter().map(|x| x.id.as_str()).collect();
            Failure::usage(format!(
                "--phase: `{}` is not a phase of session `{}` (its phases: {})",
                crate::text::clean_line(p),
                plan.session.id,
                known.join(", ")
            ))
        })?),
    };
    for id in &args.steps {
        match plan.steps.iter().find(|s| &s.id == id) {
            None => {
                return Err(Failure::usage(format!(
                    "no step `{}` in the runbooks loaded",
                    crate::text::clean_line(id)
                )));
            }
            Some(s) if s.check.is_none() => {
                return Err(Failure::usage(format!(
                    "step `{id}` has no check (`check:` in the runbook)"
                )));
            }
            Some(_) => {}
        }
    }
    let chosen: Vec<usize> = plan
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.check.is_some())
        .filter(|(_, s)| phase.is_none_or(|p| s.phase == p))
        .filter(|(_, s)| args.steps.is_empty() || args.steps.contains(&s.id))
        .map(|(i, _)| i)
        .collect();
    if chosen.is_empty() {
        crate::out::println("no check to run: no step of these runbooks (and --phase) has one")?;
        return Ok(());
    }
    // The session's phases as planned: a log check reading from the phase's start takes the
    // lines whose own time falls in the phase as planned (an approximate end bounded by the next
    // fixed boundary), so that one line is never both sites' logon. The checks of all phases
    // run at once and share the runner's book of lines taken: a line taken for one phase's step
    // is not taken for another's, which says whose it is.
    let timeline = Timeline::new(&plan.session);
    let jobs: Vec<Job> = chosen
        .iter()
        .filter_map(|&i| {
            let phase = plan.steps[i].phase;
            Job::for_step(&plan, i, check::phase_start(&timeline, phase))
                .map(|j| j.ending(check::phase_end(&timeline, phase)))
        })
        .collect();
    let runner = Runner::new(
        site,
        Mode {
            allow_commands: args.allow_commands,
            rehearsal: false,
            simulate: None,
        },
        check::DEFAULT_LIMIT,
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(format!("cannot start the runtime: {e}")))?;
    let results: Vec<CheckResult> = rt.block_on(async {
        let handles: Vec<_> = jobs.into_iter().map(|j| runner.spawn(j)).collect();
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            match h.await {
                Ok(r) => out.push(r),
                Err(e) => return Err(Failure::new(format!("a check stopped: {e}"))),
            }
        }
        Ok(out)
    })?;
    for line in table(&results).lines() {
        crate::out::println(line)?;
    }
    for line in crate::text::wrap_words(&summary(&results, runner.site()), WIDTH) {
        crate::out::println(&line)?;
    }
    if results.iter().any(|r| r.outcome.is_failure()) {
        // The table said it: exit 1 with nothing more on stderr.
        return Err(Failure::new(String::new()));
    }
    Ok(())
}

/// One row per check: outcome, step, kind and target, time taken; the detail and the values
/// captured indented below, wrapped to 80 columns.
pub fn table(results: &[CheckResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:<INDENT$}STEP, CHECK, TARGET, TIME TAKEN", "OUTCOME");
    for r in results {
        let took = if r.outcome == CheckOutcome::NotConfigured || r.outcome == CheckOutcome::Refused
        {
            String::new()
        } else {
            format!(", {} ms", r.duration.as_millis())
        };
        let head = format!("{} {} {}{took}", r.step, r.kind, r.target);
        let mut first = true;
        for l in crate::text::wrap_words(&head, WIDTH - INDENT) {
            let label = if first { r.outcome.word() } else { "" };
            let _ = writeln!(out, "{label:<INDENT$}{l}");
            first = false;
        }
        let mut detail = r.detail.clone();
        if !r.values.is_empty() {
            let vals: Vec<String> = r
                .values
                .iter()
                .map(|v| format!("{}={}", v.name, v.value))
                .collect();
            let _ = write!(detail, "; captured: {}", vals.join(", "));
        }
        for l in crate::text::wrap_words(&detail, WIDTH - INDENT - 2) {
            let _ = writeln!(out, "{:INDENT$}  {l}", "");
        }
    }
    out
}

/// `6 checks: 3 pass, 1 FAIL, 2 not configured` and what to do about those not configured.
fn summary(results: &[CheckResult], site: &Site) -> String {
    let mut counts: Vec<(CheckOutcome, usize)> = Vec::new();
    for r in results {
        match counts.iter_mut().find(|(o, _)| *o == r.outcome) {
            Some((_, n)) => *n += 1,
            None => counts.push((r.outcome, 1)),
        }
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(o, n)| format!("{n} {}", o.word()))
        .collect();
    let mut s = format!(
        "{} check{}: {}.",
        results.len(),
        if results.len() == 1 { "" } else { "s" },
        parts.join(", ")
    );
    if counts.iter().any(|(o, _)| *o == CheckOutcome::NotInPhase) {
        let _ = write!(
            s,
            " Not in phase is not a failure: the step's phase has not started or has ended, so no \
             line written now can be its evidence."
        );
    }
    if counts
        .iter()
        .any(|(o, _)| *o == CheckOutcome::NotConfigured)
    {
        let _ = write!(
            s,
            " Not configured is not a failure: set the values in {}.",
            site.describe()
        );
    }
    s
}
