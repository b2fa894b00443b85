//! `drillbook schedule`: the timeline and deadlines, session zone beside the operator's.

use super::{Outcome, load_selection};
use crate::cli::Selection;
use crate::runbook::{Boundary, Plan};
use crate::text::clean_line;
use crate::zones;
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::fmt::Write;

pub fn run(select: &Selection) -> Outcome {
    let plan = load_selection(select)?;
    let mut out = crate::text::fold_lines(&render(&plan, zones::local_tz()), 80);
    // The command that opens what was loaded, on a line of its own and never folded: it is
    // there to be pasted, and a fold would split a quoted path.
    let _ = writeln!(out, "  {}", plan.run_command());
    Ok(crate::out::print(&out)?)
}

fn day(t: DateTime<Utc>, tz: Tz) -> chrono::NaiveDate {
    tz.from_utc_datetime(&t.naive_utc()).date_naive()
}

/// `25 Nov 08:00-10:00`, `25 Nov ~11:00-12:10`; the end's date is shown only when it differs from the start's.
fn span(start: Boundary, end: Boundary, tz: Tz) -> String {
    let fmt = |b: Boundary, with_day: bool| {
        let l = tz.from_utc_datetime(&b.at.naive_utc());
        let approx = if b.approximate { "~" } else { "" };
        let date = if with_day {
            l.format("%d %b ").to_string()
        } else {
            String::new()
        };
        format!("{date}{approx}{}", l.format("%H:%M"))
    };
    let same_day = day(start.at, tz) == day(end.at, tz);
    format!("{}-{}", fmt(start, true), fmt(end, !same_day))
}

/// The schedule as text; `run` folds it to 80 columns and adds the command that opens it.
pub fn render(plan: &Plan, local: Tz) -> String {
    let s = &plan.session;
    let mut out = String::new();
    let _ = writeln!(out, "{} ({})", clean_line(&s.title), s.id);
    let _ = writeln!(out, "Roles: {}", plan.roles().join(", "));
    let _ = writeln!(
        out,
        "Times in the session zone {} beside yours, {}.",
        s.tz, local
    );
    let _ = writeln!(
        out,
        "~ marks an approximate boundary, confirmed when observed: by the rundown's time\n\
         or a sign such as OMD's DR completed or the first logon accepted at the backup\n\
         site.\n"
    );
    let (sz, lz) = (short_zone(s, s.tz), short_zone(s, local));
    let (sh, lh) = (format!("SESSION ({sz})"), format!("LOCAL ({lz})"));
    let _ = writeln!(out, "{:<24} {sh:<27} {lh}", "PHASE");
    for p in &s.phases {
        let title: String = clean_line(&p.title).chars().take(23).collect();
        let _ = writeln!(
            out,
            "{title:<24} {:<27} {}",
            span(p.start, p.end, s.tz),
            span(p.start, p.end, local)
        );
    }
    after_start(&mut out, plan, local);
    let deadlines: Vec<_> = plan.deadlines().collect();
    if !deadlines.is_empty() {
        let _ = writeln!(out, "\nDEADLINES");
        for d in deadlines {
            let _ = writeln!(
                out,
                "  {}  [local {}]",
                zones::day_hm(d.due, s.tz),
                zones::day_hm(d.due, local)
            );
            let note = if d.end_of_day {
                " (a date: due by its end)"
            } else {
                ""
            };
            let _ = writeln!(out, "    {}{note}", clean_line(&d.title));
            if let Some(t) = d.target {
                let _ = writeln!(
                    out,
                    "    our target: {}  [local {}]",
                    zones::day_hm(t, s.tz),
                    zones::day_hm(t, local)
                );
            }
        }
    }
    other_days(&mut out, plan, local);
    let contacts: Vec<_> = s
        .contacts
        .iter()
        .filter(|c| c.concerns(&plan.roles()))
        .collect();
    if !contacts.is_empty() {
        let _ = writeln!(out, "\nCONTACTS");
        for c in contacts {
            let parts: Vec<&str> = [c.phone.as_deref(), c.email.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            if parts.is_empty() {
                let _ = writeln!(out, "  {}", clean_line(&c.name));
            } else {
                let _ = writeln!(
                    out,
                    "  {}: {}",
                    clean_line(&c.name),
                    clean_line(&parts.join(", "))
                );
            }
        }
    }
    if !s.references.is_empty() {
        let _ = writeln!(out, "\nREFERENCES");
        for r in &s.references {
            let _ = writeln!(out, "  {}", clean_line(&r.id));
        }
    }
    let _ = writeln!(
        out,
        "\n{} steps in {} runbook(s). Open them with:",
        plan.steps.len(),
        plan.runbooks.len(),
    );
    out
}

/// The steps due a while after their phase's start (`due: "+20m"`), at their planned time: `~`
/// when that start is approximate, as the due then moves with its confirmed time.
fn after_start(out: &mut String, plan: &Plan, local: Tz) {
    let s = &plan.session;
    let mut steps: Vec<_> = plan
        .steps
        .iter()
        .filter_map(|st| Some((st.due?, st.after_start?, st)))
        .collect();
    if steps.is_empty() {
        return;
    }
    steps.sort_by_key(|(d, after, st)| (*d, st.phase, *after));
    let _ = writeln!(
        out,
        "\nSTEPS DUE AFTER THEIR PHASE'S START (! critical; ~ moves with the start's\nconfirmed time)"
    );
    let mut last = None;
    for (d, after, st) in steps {
        // Steps due at one instant after one start share its line.
        if last != Some((d, st.phase, after)) {
            let phase = &s.phases[st.phase];
            let approx = if phase.start.approximate { "~" } else { "" };
            let _ = writeln!(
                out,
                "  {approx}{}  [local {approx}{}]  {} after {} starts ({approx}{})",
                zones::hm(d, s.tz),
                zones::hm(d, local),
                zones::after(after),
                clean_line(&phase.title),
                zones::hm(phase.start.at, s.tz),
            );
            last = Some((d, st.phase, after));
        }
        let mark = if st.critical { "!" } else { " " };
        let _ = writeln!(
            out,
            "   {mark} {} ({}): {}",
            clean_line(&st.id),
            clean_line(&st.role),
            clean_line(&st.title)
        );
    }
}

/// The steps due on other days than the session's (the week before, the Friday close, the
/// Monday pre-open), by due time: the day's timetable alone would hide them.
fn other_days(out: &mut String, plan: &Plan, local: Tz) {
    let s = &plan.session;
    let mut steps: Vec<_> = plan
        .steps
        .iter()
        .filter(|st| st.after_start.is_none())
        .filter_map(|st| st.due.map(|d| (d, st)))
        .filter(|(d, _)| day(*d, s.tz) != s.date)
        .collect();
    if steps.is_empty() {
        return;
    }
    steps.sort_by_key(|(d, _)| *d);
    let _ = writeln!(out, "\nSTEPS ON OTHER DAYS (! critical)");
    let mut last = None;
    for (d, st) in steps {
        // Steps due at one instant share its line.
        if last != Some(d) {
            let _ = writeln!(
                out,
                "  {}  [local {}]",
                zones::day_hm(d, s.tz),
                zones::day_hm(d, local)
            );
            last = Some(d);
        }
        let mark = if st.critical { "!" } else { " " };
        let _ = writeln!(
            out,
            "   {mark} {} ({}): {}",
            clean_line(&st.id),
            clean_line(&st.role),
            clean_line(&st.title)
        );
    }
}

/// The zone's abbreviation on the session date (HKT, GMT, EST, ...).
fn short_zone(s: &crate::runbook::Session, tz: Tz) -> String {
    let t = s
        .phases
        .first()
        .map_or_else(crate::clock::wall_now, |p| p.start.at);
    tz.from_utc_datetime(&t.naive_utc())
        .format("%Z")
        .to_string()
}
