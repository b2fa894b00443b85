//! The handover for the next shift, as Markdown: where the session stands, what was done and by
//! whom, what is open, notes, boundaries planned vs confirmed, and whether notifications get
//! through. Used by `drillbook handover` and by the app's handover overlay (`H`).

use crate::journal::StepState;
use crate::journal::record::{Record, ShiftKind, Stamp};
use crate::runbook::{Plan, Step};
use crate::setup::state_of;
use crate::standing::{self, Tally};
use crate::text::{clean_line, md_code, md_text};
use crate::timeline::Timeline;
use crate::zones;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::fmt::Write;

/// What the handover says about itself: when it was written, for whom, from which journal.
#[derive(Debug, Clone)]
pub struct Context {
    /// The session-clock instant the handover describes.
    pub now: DateTime<Utc>,
    /// The reader's zone, shown beside the session's.
    pub local_tz: Tz,
    pub journal: String,
    /// A rehearsal journal: labelled so it cannot pass for the real record.
    pub rehearsal: bool,
    /// The runbook hash the journal was written with, when it differs from the plan's.
    pub hash_mismatch: Option<String>,
}

/// The label every rehearsal handover and report opens with.
pub const REHEARSAL_LABEL: &str = "REHEARSAL — not the real record";

/// How instants are written: the session zone, the reader's beside it when it differs, and the
/// date when it is not the session day.
#[derive(Debug, Clone, Copy)]
pub struct Fmt<'a> {
    pub tz: Tz,
    pub local: Tz,
    pub date: chrono::NaiveDate,
    plan: &'a Plan,
}

impl<'a> Fmt<'a> {
    pub fn new(plan: &'a Plan, local: Tz) -> Self {
        Self {
            tz: plan.session.tz,
            local,
            date: plan.session.date,
            plan,
        }
    }

    /// `Sat 25 Nov 07:30 HKT (Fri 24 Nov 23:30 GMT)`: dated in both zones, for due times.
    pub fn dated(&self, t: DateTime<Utc>) -> String {
        self.dated_as(t, "%a %d %b %H:%M %Z")
    }

    /// [`Fmt::dated`] for a step's due: `Sat 25 Nov ~11:20 HKT (...)` while it counts from an
    /// approximate phase start not confirmed yet (`due: "+20m"`).
    pub fn due(&self, step: &Step, t: DateTime<Utc>) -> String {
        if step.due_approximate {
            self.dated_as(t, "%a %d %b ~%H:%M %Z")
        } else {
            self.dated(t)
        }
    }

    fn dated_as(&self, t: DateTime<Utc>, fmt: &str) -> String {
        let s = t.with_timezone(&self.tz).format(fmt);
        if self.tz == self.local {
            s.to_string()
        } else {
            let l = t.with_timezone(&self.local).format(fmt);
            format!("{s} ({l})")
        }
    }

    /// The id of the step's phase.
    pub fn phase_id(&self, step: &Step) -> String {
        clean_line(&self.plan.session.phases[step.phase].id).into_owned()
    }

    /// `08:00 HKT`, or `Wed 15 Nov 09:00 HKT` off the session day (session zone only).
    pub fn hm(&self, t: DateTime<Utc>) -> String {
        let l = t.with_timezone(&self.tz);
        if l.date_naive() == self.date {
            zones::hm(t, self.tz)
        } else {
            l.format("%a %d %b %H:%M %Z").to_string()
        }
    }

    /// `08:05:00 HKT (00:05:00 GMT)`, or `Fri 24 Nov 23:59:00 HKT (15:59:00 GMT)`.
    pub fn at(&self, t: DateTime<Utc>) -> String {
        let l = t.with_timezone(&self.tz);
        let s = both(t, self.tz, self.local);
        if l.date_naive() == self.date {
            s
        } else {
            format!("{} {s}", l.format("%a %d %b %Y"))
        }
    }
}

/// `08:05:00 HKT (00:05:00 GMT)`: the session zone, and the reader's when it differs, dated when
/// the reader's day is another: `07:30:00 HKT (Fri 24 Nov 23:30:00 GMT)`.
pub fn both(t: DateTime<Utc>, tz: Tz, local: Tz) -> String {
    if tz == local {
        return zones::hms(t, tz);
    }
    let (s, l) = (t.with_timezone(&tz), t.with_timezone(&local));
    if s.date_naive() == l.date_naive() {
        format!("{} ({})", zones::hms(t, tz), zones::hms(t, local))
    } else {
        format!(
            "{} ({})",
            zones::hms(t, tz),
            l.format("%a %d %b %H:%M:%S %Z")
        )
    }
}

/// `Sat 25 Nov 2023 08:00 HKT (00:00 GMT)`.
fn day_both(t: DateTime<Utc>, tz: Tz, local: Tz) -> String {
    let day = zones::day_hm(t, tz);
    if tz == local {
        day
    } else {
        format!("{day} ({})", t.with_timezone(&local).format("%a %H:%M %Z"))
    }
}

/// The head the handover and the report share, each line within 80 columns: the rehearsal
/// label once, first; the document's kind as its heading (the session's title goes in the
/// `Session` item, where it can fold: a heading cannot); the runbook hash warning.
pub fn head(
    out: &mut String,
    kind: &str,
    plan: &Plan,
    rehearsal: bool,
    hash_mismatch: Option<&str>,
) {
    if rehearsal {
        let _ = writeln!(out, "# {REHEARSAL_LABEL}\n");
    }
    let _ = writeln!(out, "# {kind}\n");
    if let Some(old) = hash_mismatch {
        let _ = writeln!(
            out,
            "> **WARNING: runbook hash mismatch.** The journal was written with runbook files of sha256 \
             `{}`; the runbooks read now hash to `{}`. Steps may have changed under the record; \
             what follows matches recorded step ids against the current runbooks.\n",
            clean_line(old),
            plan.content_hash()
        );
    }
}

/// `- Journal: \`PATH\``, several as `\`A\`, \`B\``. A path that would take the line past 80
/// columns is written as its file and its folder, `\`NAME\` in \`FOLDER/\``: two words that
/// fold apart, where one path in one code span could not fold at all.
pub fn journal_item(journals: &str) -> String {
    let spans: Vec<String> = journals
        .split(", ")
        .map(|p| {
            let p = clean_line(p);
            let path = std::path::Path::new(&*p);
            match (path.parent(), path.file_name()) {
                (Some(dir), Some(name))
                    if "- Journal: ``".len() + p.chars().count() > 80
                        && !dir.as_os_str().is_empty() =>
                {
                    format!(
                        "{} in {}",
                        md_code(&name.to_string_lossy()),
                        md_code(&format!("{}/", dir.display()))
                    )
                }
                _ => md_code(&p),
            }
        })
        .collect();
    format!("- Journal: {}", spans.join(", "))
}

fn by(stamp: &Stamp, f: Fmt) -> String {
    format!("by {} at {}", md_text(&stamp.who()), f.at(stamp.at))
}

/// The handover Markdown.
pub fn render(plan: &Plan, record: &Record, ctx: &Context) -> String {
    // Dues after a phase's start (`+20m`) as the confirmations place them.
    let plan = &*crate::timeline::confirmed_plan(plan, record);
    let s = &plan.session;
    let tz = s.tz;
    let local = ctx.local_tz;
    let f = Fmt::new(plan, local);
    let now = ctx.now;
    let mut out = String::new();
    head(
        &mut out,
        "Handover",
        plan,
        ctx.rehearsal,
        ctx.hash_mismatch.as_deref(),
    );
    let _ = writeln!(
        out,
        "- Session: {} (`{}`)",
        clean_line(&s.title),
        clean_line(&s.id)
    );
    let _ = writeln!(out, "- Roles: {}", plan.roles().join(", "));
    let _ = writeln!(out, "{}", journal_item(&ctx.journal));
    let _ = writeln!(out, "- Written at: {}", day_both(now, tz, local));
    if let Some(last) = &record.last {
        let _ = writeln!(
            out,
            "- Last journal entry: #{} {}",
            record.last_seq,
            by(last, f)
        );
    }

    // Where the session stands.
    let tl = Timeline::with_confirmations(s, record);
    let st = tl.status(now);
    let _ = writeln!(out, "\n## Where the session stands\n");
    match st.phase {
        Some(p) => {
            let ph = &s.phases[p];
            let (start, end) = tl.bounds_of(p);
            // `~11:00 HKT` planned, `10:58:30 HKT` confirmed (to the second, as observed).
            let edge = |i: usize| match tl.confirmed_at(i) {
                Some(c) => zones::hms(c, tz),
                None if tl.transitions[i].approximate => format!("~{}", f.hm(tl.effective(i))),
                None => f.hm(tl.effective(i)),
            };
            let _ = writeln!(
                out,
                "- Current phase: **{}** (`{}`), {} to {}",
                clean_line(&ph.title),
                ph.id,
                edge(start),
                edge(end)
            );
        }
        None if st.before_start() => {
            let _ = writeln!(out, "- The session has not started.");
        }
        None if st.ended() => {
            let _ = writeln!(out, "- The session has ended.");
        }
        None => {
            let _ = writeln!(out, "- Between phases.");
        }
    }
    if let Some(n) = st.awaiting {
        let t = &tl.transitions[n];
        let _ = writeln!(
            out,
            "- **AWAITING CONFIRMATION**: {} (planned ~{}); confirm it when observed (the rundown's time, or a sign such as a DR completed signal or the first logon accepted at the backup site)",
            s.transition_label(t),
            f.at(t.at)
        );
    }
    if let Some(next) = st.next {
        let _ = writeln!(out, "- Next boundaries:");
        for i in next..tl.transitions.len().min(next + 3) {
            let t = &tl.transitions[i];
            let at = tl.effective(i);
            let when = if at > now {
                format!("in {}", zones::span(at - now))
            } else {
                "awaiting confirmation".to_owned()
            };
            let _ = writeln!(
                out,
                "  - {}{}: {} ({when})",
                if t.approximate && tl.confirmed_at(i).is_none() {
                    "~"
                } else {
                    ""
                },
                f.at(at),
                s.transition_label(t)
            );
        }
    }

    // Open steps: the current phase's, all of them, critical first; then whatever earlier
    // phases left open (carried), deferred steps of later phases, and the critical steps still
    // to come, so nothing open is out of sight at the change of shift.
    let current = st.phase;
    let open_in = |keep: &dyn Fn(&Step) -> bool| -> Vec<&Step> {
        let mut v: Vec<&Step> = plan
            .steps
            .iter()
            .filter(|x| state_of(plan, x, record).is_open() && keep(x))
            .collect();
        // Stable: critical first, then phase and runbook order.
        v.sort_by_key(|x| !x.critical);
        v
    };
    let _ = writeln!(out, "\n## Open steps\n");
    let mut listed = 0;
    let mut section = |out: &mut String, title: String, steps: Vec<&Step>| {
        if steps.is_empty() {
            return;
        }
        listed += steps.len();
        let _ = writeln!(out, "### {title} ({})\n", steps.len());
        for step in steps {
            open_line(out, plan, &tl, step, record, now, f);
        }
        let _ = writeln!(out);
    };
    if let Some(p) = current {
        section(
            &mut out,
            format!("Current phase: {}", clean_line(&s.phases[p].title)),
            open_in(&|x| x.phase == p),
        );
    }
    // Before the session the first phase counts as earlier; after it, every phase does.
    let earlier = |x: &Step| match current {
        Some(p) => x.phase < p,
        None => st.ended(),
    };
    section(
        &mut out,
        "Carried from earlier phases".to_owned(),
        open_in(&|x| earlier(x)),
    );
    let later = |x: &Step| match current {
        Some(p) => x.phase > p,
        None => !st.ended(),
    };
    section(
        &mut out,
        "Deferred, in later phases".to_owned(),
        open_in(&|x| later(x) && state_of(plan, x, record) == StepState::Deferred),
    );
    section(
        &mut out,
        "Critical, in later phases".to_owned(),
        open_in(&|x| later(x) && x.critical && state_of(plan, x, record) != StepState::Deferred),
    );
    if listed == 0 {
        let _ = writeln!(out, "None.\n");
    }

    // Steps by state.
    let _ = writeln!(out, "## Steps\n");
    let mut counts = Vec::new();
    let tally = Tally::of(plan.steps.iter().map(|st| state_of(plan, st, record)));
    // What needs the next shift first: failed and deferred, then what was settled.
    for state in [
        StepState::Failed,
        StepState::Deferred,
        StepState::Skipped,
        StepState::Done,
        StepState::NotApplicable,
    ] {
        let steps: Vec<&Step> = plan
            .steps
            .iter()
            .filter(|st| state_of(plan, st, record) == state)
            .collect();
        counts.push(format!("{} {}", steps.len(), state.word()));
        if steps.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {} ({})\n", capital(state.word()), steps.len());
        for step in steps {
            let change = record.state_of(&step.id);
            let who = change.map_or_else(|| "by the runbook".to_owned(), |c| by(&c.stamp, f));
            let _ = write!(
                out,
                "- {} {} (`{}`, {}) {who}",
                state.glyph(),
                clean_line(&step.title),
                step.id,
                step.role
            );
            let note = change.and_then(|c| c.note.clone()).or_else(|| {
                (state == StepState::NotApplicable)
                    .then(|| crate::setup::not_applying(plan, step, record))
                    .flatten()
            });
            if let Some(n) = note {
                let _ = write!(out, ": {}", md_text(&n));
            }
            let _ = writeln!(out);
            details(&mut out, step, record, f);
        }
        let _ = writeln!(out);
    }
    counts.push(format!("{} pending", tally.pending));
    let _ = writeln!(
        out,
        "Totals: {}; by state {}.",
        tally.phrase(),
        counts.join(", ")
    );
    let unknown: Vec<&String> = {
        let mut v: Vec<&String> = record
            .steps
            .keys()
            .filter(|id| plan.step_index(id).is_none())
            .collect();
        v.sort();
        v
    };
    if !unknown.is_empty() {
        let _ = writeln!(
            out,
            "\nRecorded for steps not in the current runbooks: {}.",
            unknown
                .iter()
                .map(|u| md_code(u))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    checks(&mut out, plan, record, f);

    // Notes.
    let _ = writeln!(out, "\n## Notes\n");
    if record.notes.is_empty() {
        let _ = writeln!(out, "None.");
    }
    for n in &record.notes {
        let on = n
            .step
            .as_ref()
            .map_or_else(|| "session".to_owned(), |st| md_code(st));
        let _ = writeln!(
            out,
            "- {} {} on {on}{}: {}",
            f.at(n.stamp.at),
            md_text(&n.stamp.who()),
            if n.issue { " (ISSUE)" } else { "" },
            md_text(&n.text)
        );
    }

    // Boundaries: a list, not a table, so a confirmation's observed and entry times, who and
    // the note fit an 80-column terminal. The next shift reconciles from these.
    let _ = writeln!(out, "\n## Boundaries: planned vs confirmed\n");
    for (i, t) in tl.transitions.iter().enumerate() {
        if t.at.with_timezone(&tz).date_naive() != s.date {
            continue;
        }
        let label = s.transition_label(t);
        match record.confirmation(&t.key) {
            Some(c) => {
                let _ = writeln!(out, "- {label}: planned ~{}", f.hm(t.at));
                let _ = writeln!(
                    out,
                    "  - observed {}, {}",
                    f.at(c.confirmed),
                    tl.drift(i).map(zones::drift).unwrap_or_default()
                );
                let _ = writeln!(out, "  - entered {}", by(&c.stamp, f));
                if let Some(n) = &c.note {
                    let _ = writeln!(out, "  - note: {}", md_text(n));
                }
            }
            None if t.approximate => {
                let _ = writeln!(out, "- {label}: planned ~{}, not confirmed", f.hm(t.at));
            }
            None => {
                let _ = writeln!(out, "- {label}: {}, fixed", f.hm(t.at));
            }
        }
    }

    // Notifications.
    let _ = writeln!(out, "\n## Notification path\n");
    match record.notify_checks.last() {
        Some(c) if c.channels.is_empty() => {
            let _ = writeln!(
                out,
                "- Last preflight (`drillbook notify-test`) {}: no channel was tested (--notify off); \
                 nothing is known about the notification path: run `drillbook notify-test` with a channel.",
                by(&c.stamp, f)
            );
        }
        Some(c) => {
            let answer = match c.answer {
                Some(true) => "the operator saw it",
                Some(false) => "the operator did NOT see it",
                None => "the operator could not be asked",
            };
            let _ = writeln!(
                out,
                "- Last preflight (`drillbook notify-test`) {}: channels {}; {answer}; detected: {}",
                by(&c.stamp, f),
                md_text(&c.channels.join(", ")),
                md_text(&c.detected)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "- No preflight recorded: run `drillbook notify-test` before relying on notifications."
            );
        }
    }
    let mut channels: Vec<&str> = record
        .notifications
        .iter()
        .map(|n| n.channel.as_str())
        .collect();
    channels.sort_unstable();
    channels.dedup();
    if channels.is_empty() {
        let _ = writeln!(out, "- No notification sent yet.");
    }
    for ch in channels {
        let on: Vec<_> = record
            .notifications
            .iter()
            .filter(|n| n.channel == ch)
            .collect();
        let sent = on.iter().filter(|n| n.ok).count();
        let failed = on.len() - sent;
        let _ = write!(
            out,
            "- Channel {}: {sent} sent, {failed} failed",
            clean_line(ch)
        );
        if let Some(last) = on.last() {
            let _ = write!(
                out,
                "; last {} {} ({}){}",
                if last.ok { "sent" } else { "FAILED" },
                f.at(last.stamp.at),
                md_text(&last.key),
                last.error
                    .as_ref()
                    .map_or_else(String::new, |e| format!(": {}", md_text(e)))
            );
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "\n## Shift history\n");
    if record.shifts.is_empty() {
        let _ = writeln!(out, "None recorded.");
    }
    for e in &record.shifts {
        let who = md_text(&e.stamp.who());
        let what = match &e.kind {
            ShiftKind::Attach { roles } => {
                format!(
                    "{who} started recording (roles {})",
                    clean_line(&roles.join(", "))
                )
            }
            ShiftKind::Detach { reason } => format!("{who} stopped ({})", md_text(reason)),
            ShiftKind::Handover { note: None } => format!("{who} acknowledged the handover"),
            ShiftKind::Handover { note: Some(n) } => {
                format!("{who} acknowledged the handover: {}", md_text(n))
            }
        };
        let _ = writeln!(out, "- {}: {what}", f.at(e.stamp.at));
    }
    out
}

/// What the steps' checks saw, apart from what operators typed: each step's newest check run
/// and the evidence its passes filed (sensed). Only when a check ran.
fn checks(out: &mut String, plan: &Plan, record: &Record, f: Fmt) {
    let ran: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| record.checks.contains_key(&s.id))
        .collect();
    if ran.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## Checks: what drillbook sensed\n");
    for step in ran {
        let runs = &record.checks[&step.id];
        let Some(last) = runs.last() else { continue };
        let _ = writeln!(
            out,
            "- `{}` {} check ({}): {}{} at {}, {} ms: {}{}",
            clean_line(&step.id),
            clean_line(&last.check),
            md_text(&last.target),
            last.outcome.word(),
            if last.simulated { " (simulated)" } else { "" },
            f.at(last.stamp.at),
            last.duration_ms,
            md_text(&last.detail),
            if runs.len() > 1 {
                format!(" (newest of {} runs)", runs.len())
            } else {
                String::new()
            }
        );
        for field in &step.evidence {
            if let Some(e) = record.evidence_of(&step.id, field)
                && let Some(kind) = &e.sensed
            {
                let _ = writeln!(
                    out,
                    "  - sensed: {} = {} (its {} check, {})",
                    clean_line(field),
                    md_text(&e.value),
                    clean_line(kind),
                    f.at(e.stamp.at)
                );
            }
        }
    }
}

/// One open step: state, title, id, role, phase, critical mark, and its due time dated in both
/// zones (a due time at 07:30 HKT is the day before in UTC and in London).
fn open_line(
    out: &mut String,
    plan: &Plan,
    tl: &Timeline,
    step: &Step,
    record: &Record,
    now: DateTime<Utc>,
    f: Fmt,
) {
    let state = state_of(plan, step, record);
    let due = step.due.map_or_else(String::new, |d| {
        let over = if standing::overdue(state, Some(d), now) {
            " **OVERDUE**"
        } else {
            ""
        };
        // From what a due after the phase's start (`+20m`) counts.
        let basis = tl
            .due_basis(&plan.session, step)
            .map_or_else(String::new, |b| format!(" ({b})"));
        format!(", due {}{basis}{over}", f.due(step, d))
    });
    let _ = write!(
        out,
        "- {} {} {} (`{}`, {}, phase {}{}){due}",
        state.glyph(),
        standing::open_word(state),
        clean_line(&step.title),
        clean_line(&step.id),
        step.role,
        f.phase_id(step),
        if step.critical { ", critical" } else { "" }
    );
    if let Some(n) = record.state_of(&step.id).and_then(|c| c.note.as_deref()) {
        let _ = write!(out, ": {}", md_text(n));
    }
    let _ = writeln!(out);
    // A step on a choice nobody recorded yet: the next shift must settle the choice before
    // acting on it ("log off at 10:00" may not be what the rundown said).
    for (c, want) in crate::setup::undecided(plan, step, record) {
        let _ = writeln!(
            out,
            "  - applies only if {}: {want}; not recorded yet",
            clean_line(&c.title)
        );
    }
    details(out, step, record, f);
}

/// Under a step: the evidence the operator typed (`field: value`, the newest value of each
/// field) and the notes on the step, so the next shift can reconcile from the handover alone.
/// Sensed values are under "Checks".
fn details(out: &mut String, step: &Step, record: &Record, f: Fmt) {
    for field in &step.evidence {
        if let Some(e) = record.evidence_of(&step.id, field)
            && e.sensed.is_none()
        {
            let _ = writeln!(out, "  - {}: {}", md_text(field), md_text(&e.value));
        }
    }
    for n in record
        .notes
        .iter()
        .filter(|n| n.step.as_deref() == Some(step.id.as_str()))
    {
        let _ = writeln!(
            out,
            "  - {} {}: {}",
            if n.issue { "ISSUE noted" } else { "note" },
            by(&n.stamp, f),
            md_text(&n.text)
        );
    }
}

fn capital(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
