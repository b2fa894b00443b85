//! The header: session title and roles (the roles always whole); the session clock (with
//! seconds) beside the operator's, said once when the two read the same; the phase and the
//! countdown to the next boundary (or, for a while after it, the boundary just confirmed: when
//! and by whom); and one line for what matters most now (a watcher waiting for the first
//! journal, a boundary awaiting confirmation, the countdown to the day, the end-of-session
//! summary, or the critical step to act on now by one rule, `Model::act_on_now`: the current
//! phase's, overdue or due within a quarter hour, before an older overdue one; then the other of
//! the two, and the nearest deadline). With several roles loaded each step named carries its
//! role, as in the list. A watcher of several journals says how many it merges.

use crate::app::Model;
use crate::journal::StepState;
use crate::text::clean_line;
use crate::theme::Theme;
use crate::zones;
use chrono::{DateTime, TimeDelta, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

pub fn render(area: Rect, buf: &mut Buffer, m: &Model, theme: &Theme, now: DateTime<Utc>) {
    let s = &m.plan.session;
    let tz = s.tz;
    let st = m.status_at(now);

    // Line 1: title, roles, markers on the right.
    let mut marks = Vec::new();
    if let Some(r) = m.rehearsal {
        // A watcher's clock is paused when the writer's is (journaled), and stops where the
        // rehearsal ended (or at the session's end) and stays there.
        let paused = if r.stopped {
            " STOPPED"
        } else if r.paused {
            " PAUSED"
        } else {
            ""
        };
        marks.push(format!(" REHEARSAL x{}{paused} ", r.speed));
    }
    match (&m.read_only, &m.watched) {
        // Several hosts of a rehearsal: whose clock this is (each host's runs on its own).
        (Some(_), Some(w)) => marks.push(match w.clock_words().filter(|_| m.rehearsal.is_some()) {
            Some(clock) => format!(" WATCHING {}, {clock} ", w.count_words()),
            None => format!(" WATCHING {} (read-only) ", w.count_words()),
        }),
        (Some(_), None) => marks.push(" WATCHING (read-only) ".into()),
        _ => {}
    }
    let marks_w: usize = marks.iter().map(|x| x.chars().count()).sum();
    // The roles are always shown whole: the title gives way. (None yet: a watcher waiting.)
    let roles = m.plan.roles();
    let roles = if roles.is_empty() {
        String::new()
    } else {
        format!("  [{}]", clean_line(&roles.join(",")))
    };
    let room = (area.width as usize).saturating_sub(marks_w);
    let left = super::fit_parts(&[(" ", 0), (&clean_line(&s.title), 1), (&roles, 0)], room);
    let pad = room.saturating_sub(left.width());
    let mut l1 = vec![
        Span::styled(left, theme.header),
        Span::styled(" ".repeat(pad), theme.header),
    ];
    l1.extend(marks.into_iter().map(|x| Span::styled(x, theme.rehearsal)));

    // Line 2: clocks, phase, next boundary.
    let phase = match st.phase {
        Some(p) => clean_line(&s.phases[p].title).into_owned(),
        None if st.before_start() => "before the session".into(),
        None if st.ended() => "session over".into(),
        None => "between phases".into(),
    };
    // The date too when today is not the session day (before it, after it, in another year).
    let today = {
        use chrono::TimeZone;
        let l = tz.from_utc_datetime(&now.naive_utc());
        if l.date_naive() == s.date {
            String::new()
        } else {
            l.format("%d %b %Y ").to_string()
        }
    };
    let mut l2 = vec![Span::styled(
        format!(" {today}{}", zones::hms(now, tz)),
        theme.clock,
    )];
    // The operator's zone beside the session's, unless it reads the same (said once).
    let local = zones::hms(now, m.local_tz);
    if local != zones::hms(now, tz) {
        l2.push(Span::styled(format!("  local {local}"), theme.dim));
    }
    if let Some(said) = just_confirmed(m, st.passed, now) {
        l2.push(Span::styled("  │ ", theme.dim));
        l2.push(Span::styled(said.0, theme.label));
        l2.push(Span::raw(said.1));
    } else if let Some(n) = st.next {
        let t = &m.timeline.transitions[n];
        let at = m.timeline.effective(n);
        let hm = zones::hm(at, tz);
        let hm = hm.split(' ').next().unwrap_or_default();
        let approx = t.approximate && m.timeline.confirmed_at(n).is_none();
        l2.push(Span::styled("  │ ", theme.dim));
        if st.awaiting == Some(n) {
            l2.push(Span::styled(
                format!("~{hm} awaiting confirmation"),
                theme.awaiting,
            ));
        } else {
            l2.push(Span::styled(
                format!(
                    "{}{hm} in {}",
                    if approx { "~" } else { "" },
                    zones::span(at - now)
                ),
                theme.label,
            ));
        }
        l2.push(Span::raw(format!(": {}", short_label(m, n))));
    }
    if st.ended() {
        l2.push(Span::styled("  │ ", theme.dim));
        l2.push(Span::styled(
            format!(
                "session ended on {}",
                zones::day_hm(session_end(m, now), tz)
            ),
            theme.label,
        ));
    } else {
        // Only whole: the phase bar's `▶` says it too, and `now Fa…` says nothing.
        let used: usize = l2.iter().map(Span::width).sum();
        if used + 8 + phase.width() <= usize::from(area.width) {
            l2.push(Span::styled("  │ now ", theme.dim));
            l2.push(Span::styled(phase, theme.phase_current));
        }
    }

    // Line 3: what matters most now.
    let l3 = focus_line(m, theme, now);
    let w = usize::from(area.width);
    Paragraph::new(vec![
        Line::from(l1),
        super::fit_line(l2, w),
        super::fit_line(l3.spans, w),
    ])
    .render(area, buf);
}

/// How long the header names a confirmed boundary (on the session clock) instead of counting
/// down to the next: the failover hour's question is whether the end was confirmed, and when.
const JUST_CONFIRMED: TimeDelta = TimeDelta::minutes(10);

/// The boundary passed last, when it was confirmed within [`JUST_CONFIRMED`] or later than this
/// clock reads (a watcher on a host's clock behind the host that confirmed): `confirmed
/// 10:57:30 by bob@md1`, then `: Backup site starts`. Never a countdown to what was observed.
fn just_confirmed(m: &Model, passed: usize, now: DateTime<Utc>) -> Option<(String, String)> {
    let n = passed.checked_sub(1)?;
    let t = &m.timeline.transitions[n];
    let at = m.timeline.confirmed_at(n)?;
    if now - at >= JUST_CONFIRMED {
        return None;
    }
    let by = m
        .record
        .confirmation(&t.key)
        .map(|c| format!(" by {}", clean_line(&c.stamp.who())))
        .unwrap_or_default();
    Some((
        format!("confirmed {}{by}", zones::hms(at, m.plan.session.tz)),
        format!(": {}", short_label(m, n)),
    ))
}

/// A transition in few words: `Failover starts` (what begins matters more), else `Reporting ends`.
fn short_label(model: &Model, n: usize) -> String {
    let phases = &model.plan.session.phases;
    let tr = &model.timeline.transitions[n];
    match (tr.starting, tr.ending) {
        (Some(p), _) => format!("{} starts", clean_line(&phases[p].title)),
        (None, Some(p)) => format!("{} ends", clean_line(&phases[p].title)),
        (None, None) => clean_line(&tr.key).into_owned(),
    }
}

/// When the last phase ended (confirmed if it was confirmed).
fn session_end(m: &Model, now: DateTime<Utc>) -> DateTime<Utc> {
    m.timeline
        .transitions
        .len()
        .checked_sub(1)
        .map_or(now, |i| m.timeline.effective(i))
}

fn focus_line<'a>(m: &Model, theme: &Theme, now: DateTime<Utc>) -> Line<'a> {
    let s = &m.plan.session;
    let tz = s.tz;
    let st = m.status_at(now);
    if let Some(w) = m.watched.as_ref().filter(|w| w.journals.is_empty()) {
        return Line::from(vec![
            Span::styled(" WAITING ", theme.awaiting),
            Span::raw(format!(
                " for the first journal in {}: a host joins when it starts recording there",
                clean_line(&w.named)
            )),
        ]);
    }
    if let Some(n) = st.awaiting {
        let t = &m.timeline.transitions[n];
        // A watcher cannot confirm (`c` records): it says who does.
        let who = if m.read_only.is_some() {
            "the host confirms it"
        } else {
            "press c when observed"
        };
        return Line::from(vec![
            Span::styled(" AWAITING CONFIRMATION ", theme.awaiting),
            Span::raw(format!(
                " planned ~{}, {} ago: {who} ({})",
                zones::hm(t.at, tz).split(' ').next().unwrap_or_default(),
                zones::span(now - t.at),
                clean_line(&s.transition_label(t))
            )),
        ]);
    }
    if st.ended() {
        // After the real session, how to rehearse it; a rehearsal (or a watcher) has no use for it.
        let mut spans = vec![Span::raw(format!(" {}", summary(m)))];
        if m.rehearsal.is_none() && m.read_only.is_none() {
            spans.push(Span::styled(
                format!(" Rehearse: {} --rehearse", m.plan.run_command()),
                theme.dim,
            ));
        }
        return Line::from(spans);
    }
    let day_start = s.day_phases().next().map(|(_, p)| p.start.at);
    if let Some(start) = day_start.filter(|d| *d > now) {
        let mut spans = vec![Span::styled(
            format!(
                " Session day starts {} (in {}).",
                zones::day_hm(start, tz),
                zones::span(start - now)
            ),
            theme.label,
        )];
        if let Some(d) = nearest_deadline(m, now) {
            spans.push(Span::raw(format!("  {d}")));
        }
        return Line::from(spans);
    }
    let mut spans = Vec::new();
    // One rule picks what leads (`Model::act_on_now`): the current phase's critical step,
    // overdue or due soon, before an older overdue step from an earlier phase.
    let lead = m.act_on_now(now);
    let overdue = m.overdue_critical_now(now);
    let next = m.next_due(now, lead.map(|f| f.step));
    match lead {
        Some(f) if !f.overdue => {
            next_due_spans(&mut spans, m, theme, f.step, now);
            if let Some(i) = overdue {
                overdue_spans(&mut spans, m, theme, i, now);
            }
        }
        _ => {
            if let Some(i) = overdue {
                overdue_spans(&mut spans, m, theme, i, now);
            }
            if let Some(i) = next {
                next_due_spans(&mut spans, m, theme, i, now);
            }
        }
    }
    match nearest_deadline(m, now) {
        Some(d) => spans.push(Span::raw(format!(" {d}"))),
        None => spans.push(Span::styled(format!(" {}", summary(m)), theme.dim)),
    }
    Line::from(spans)
}

/// A step as the header names it: its mark as the list has it (`!` critical, `?` when it hangs
/// on a choice nobody recorded yet), its role when more than one is loaded (two roles' steps
/// can share a title: "Snapshot before the failover" is ep's and omd's, walk 3 R9), its title.
fn step_words(m: &Model, i: usize) -> String {
    let step = &m.plan.steps[i];
    let mark = if m.condition(i).is_some() {
        "?"
    } else if step.critical {
        "!"
    } else {
        ""
    };
    let role = if m.plan.roles().len() > 1 {
        format!("{} ", clean_line(&step.role))
    } else {
        String::new()
    };
    let mark = if mark.is_empty() {
        String::new()
    } else {
        format!("{mark} ")
    };
    format!("{mark}{role}{}", clean_line(&step.title))
}

/// `OVERDUE 09:55 HKT (6m00s ago)  ! omd Snapshot before the failover. 3 more overdue (O, o).`
/// A step past due that applies only on a choice not recorded yet reads `OVERDUE if log-off`,
/// as its alert does, and says which choice.
fn overdue_spans(
    spans: &mut Vec<Span<'_>>,
    m: &Model,
    theme: &Theme,
    i: usize,
    now: DateTime<Utc>,
) {
    let s = &m.plan.session;
    let step = &m.plan.steps[i];
    let due = step.due.unwrap_or(now);
    let cond = m.condition(i);
    let more = m.overdue_steps(now).into_iter().filter(|&o| o != i).count();
    spans.push(Span::styled(
        format!(
            " OVERDUE{} {}{} ({} ago) ",
            cond.as_deref().map(|c| format!(" {c}")).unwrap_or_default(),
            approx(step),
            zones::hm_on(due, s.tz, s.date),
            zones::span(now - due)
        ),
        theme.overdue,
    ));
    spans.push(Span::raw(format!(" {}.", step_words(m, i))));
    for (c, want) in crate::setup::undecided(&m.plan, step, &m.record) {
        spans.push(Span::raw(format!(
            " Applies only if {}: {}, not recorded yet.",
            clean_line(&c.title),
            clean_line(want)
        )));
    }
    if more > 0 {
        spans.push(Span::styled(
            format!(" {more} more overdue (O, o)."),
            theme.dim,
        ));
    }
}

/// `Next due 10:05 HKT (in 2m19s) ! ep Log off the OCG-C sessions at 10:00, ….`
/// `~` before a due that counts from an approximate start not confirmed yet (`+20m`: `~11:20`).
fn approx(step: &crate::runbook::Step) -> &'static str {
    if step.due_approximate { "~" } else { "" }
}

fn next_due_spans(
    spans: &mut Vec<Span<'_>>,
    m: &Model,
    theme: &Theme,
    i: usize,
    now: DateTime<Utc>,
) {
    let step = &m.plan.steps[i];
    let due = step.due.unwrap_or(now);
    spans.push(Span::styled(" Next due ", theme.label));
    let cond = m
        .condition(i)
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    spans.push(Span::raw(format!(
        "{}{} (in {}) {}{cond}.",
        approx(step),
        zones::hm(due, m.plan.session.tz),
        zones::span(due - now),
        step_words(m, i)
    )));
}

/// The next deadline of the loaded roles within two weeks: `deadline Mon 27 Nov 23:59 (in 2d 03h): HSN Result Form`.
fn nearest_deadline(m: &Model, now: DateTime<Utc>) -> Option<String> {
    let d = m
        .plan
        .deadlines()
        .filter(|d| d.act_by() > now && d.act_by() - now <= TimeDelta::days(14))
        .min_by_key(|d| d.act_by())?;
    // Counted down to the firm's own target when it set one: that is the time to act by.
    let what = if d.target.is_some() {
        "Next target"
    } else {
        "Next deadline"
    };
    Some(format!(
        "{what} {} (in {}): {}",
        zones::day_hm(d.act_by(), m.plan.session.tz),
        zones::span(d.act_by() - now),
        clean_line(&d.title)
    ))
}

/// `32 steps: 20 done, 1 failed, 2 skipped, 9 pending`: only the states present.
pub(crate) fn summary(m: &Model) -> String {
    let order = [
        StepState::Done,
        StepState::Failed,
        StepState::Skipped,
        StepState::NotApplicable,
        StepState::Deferred,
        StepState::Pending,
    ];
    let mut counts = [0usize; 6];
    for i in 0..m.plan.steps.len() {
        let st = m.state(i);
        if let Some(k) = order.iter().position(|&o| o == st) {
            counts[k] += 1;
        }
    }
    let parts: Vec<String> = order
        .iter()
        .zip(counts)
        .filter(|(_, c)| *c > 0)
        .map(|(s, c)| format!("{c} {}", s.word()))
        .collect();
    format!("{} steps: {}.", m.plan.steps.len(), parts.join(", "))
}
