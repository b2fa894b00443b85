//! The step list: the viewed phase's steps of every role in one time order (with the open steps
//! carried from phases that have ended, under "carried from <phase>"), or the open-items view.
//! Each step reads glyph and word for the state (never colour alone), due time, `late` when
//! recorded after it, `!` for critical, role, title; a pending or deferred step past its due
//! time reads `OVERDUE` (a deferred one keeps its glyph `[>]`), in the same columns. The rule says where the list stands (`9-13 of 13`, `more below`) when it does not
//! all fit. The phase's deadlines follow the steps.

use crate::app::{ListView, Model, Pane, Row, due_label};
use crate::runbook::Deadline;
use crate::text::clean_line;
use crate::theme::Theme;
use crate::zones;
use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// The deadlines listed with phase `p`: those inside its window; the first phase also takes
/// earlier ones and the last phase later ones.
pub fn deadlines_of(m: &Model, p: usize) -> Vec<&Deadline> {
    let phases = &m.plan.session.phases;
    let last = phases.len().saturating_sub(1);
    m.plan
        .deadlines()
        .filter(|d| {
            let (s, e) = (phases[p].start.at, phases[p].end.at);
            (d.due >= s || p == 0) && (d.due < e || p == last)
        })
        .collect()
}

fn deadlines_shown(m: &Model) -> Vec<&Deadline> {
    match m.list_view {
        ListView::Phase if !m.filter.is_on() => deadlines_of(m, m.view_phase),
        _ => Vec::new(),
    }
}

/// Rows the list would like: its rule, its rows and deadlines.
pub fn wanted_height(m: &Model, now: DateTime<Utc>) -> u16 {
    let n = m.rows(now).len() + deadlines_shown(m).len();
    (n.max(1) + 1).min(u16::MAX as usize) as u16
}

/// The rule's title: what is listed, how far it is settled, what is overdue or carried. The
/// fullest form that fits `room` columns: the phase's times go first, then the settled count
/// shortens, then goes; the overdue and carried counts stay.
fn title<'a>(m: &Model, theme: &Theme, now: DateTime<Utc>, room: usize) -> Vec<Span<'a>> {
    let s = &m.plan.session;
    let style = if m.focus == Pane::Steps {
        theme.rule.patch(theme.label)
    } else {
        theme.rule
    };
    // Counted over every step the list covers, a folded carried group's too.
    let steps = m.covered_steps(now);
    let overdue = steps.iter().filter(|&&i| m.overdue(i, now)).count();
    let mut tail = Vec::new();
    if overdue > 0 {
        tail.push(Span::styled(format!(" · {overdue} OVERDUE"), theme.overdue));
    }
    if m.filter.is_on() {
        tail.push(Span::styled(
            format!(" · only {}", m.filter.describe()),
            theme.rule,
        ));
    }
    let variants: Vec<Vec<Span<'a>>> = match m.list_view {
        ListView::Open => vec![vec![Span::styled(
            format!("Open items, every phase · {} open", steps.len()),
            style,
        )]],
        ListView::Phase => {
            let p = m.view_phase;
            let (st, et) = m.timeline.bounds_of(p);
            // Counted as the phase bar counts its `N open` (crate::standing).
            let tally = m.tally_in(p);
            let carried = steps
                .iter()
                .filter(|&&i| m.plan.steps[i].phase != p)
                .count();
            let name = clean_line(&s.phases[p].title).into_owned();
            let times = format!(
                " {}-{}",
                super::boundary_label(m, st),
                super::boundary_label(m, et)
            );
            let mut extra = Vec::new();
            if carried > 0 {
                extra.push(Span::styled(format!(" · {carried} carried"), theme.rule));
            }
            if p != m.clock_phase(now) {
                extra.push(Span::styled(" · browsing (t: now)", theme.rule));
            }
            // Filtered, the list is not the phase: it says how many steps the filter shows
            // (a settled count of the filtered list read `0 of 0 settled`).
            let (long, short) = if m.filter.is_on() {
                (format!(" · {} shown", steps.len()), String::new())
            } else {
                (
                    format!(" · {} of {} settled", tally.settled(), tally.steps),
                    format!(" · {}/{} settled", tally.settled(), tally.steps),
                )
            };
            let with_extra = |name: String, settled: Option<&String>, with_carried: bool| {
                let mut v = vec![Span::styled(name, style)];
                if let Some(t) = settled {
                    v.push(Span::styled(t.clone(), theme.rule));
                }
                v.extend(
                    extra
                        .iter()
                        .skip(usize::from(!with_carried && carried > 0))
                        .cloned(),
                );
                v
            };
            let with = |name: String, settled: Option<&String>| with_extra(name, settled, true);
            if m.filter.is_on() {
                // The count shown and the filter stay; the carried count goes, then the name
                // gives way.
                vec![
                    with(format!("{name}{times}"), Some(&long)),
                    with(name.clone(), Some(&long)),
                    with_extra(name, Some(&long), false),
                ]
            } else {
                vec![
                    with(format!("{name}{times}"), Some(&long)),
                    with(name.clone(), Some(&long)),
                    with(name.clone(), Some(&short)),
                    with(name, None),
                ]
            }
        }
    };
    let width = |v: &[Span]| v.iter().chain(tail.iter()).map(Span::width).sum::<usize>();
    let last = variants.len() - 1;
    let mut out = if let Some(v) = variants.iter().find(|v| width(v) <= room) {
        v.clone()
    } else {
        // Not even the shortest: the name gives way, the counts stay.
        let mut v = variants[last].clone();
        let over = width(&v).saturating_sub(room);
        let name_w = v[0].width();
        v[0] = Span::styled(
            super::fit(&v[0].content, name_w.saturating_sub(over).max(8)),
            v[0].style,
        );
        v
    };
    out.extend(tail);
    out
}

pub fn render(area: Rect, buf: &mut Buffer, m: &Model, theme: &Theme, now: DateTime<Utc>) {
    if area.height == 0 {
        return;
    }
    let s = &m.plan.session;
    let rows_all = m.rows(now);
    let dls = deadlines_shown(m);
    let width = usize::from(area.width);
    let room = area.height.saturating_sub(1) as usize;
    let total = rows_all.len() + dls.len();
    // Keep the selected row in view, centred when the list is longer than the room.
    let sel_row = m
        .cursor
        .and_then(|c| rows_all.iter().position(|r| *r == Row::Step(c)))
        .unwrap_or(0);
    let offset = if room == 0 || sel_row < room / 2 || total <= room {
        0
    } else {
        (sel_row - room / 2).min(total.saturating_sub(room))
    };

    // Where the list stands, counted in steps: `1-9 of 13, more below`, `9-13 of 13`.
    let step_rows: Vec<usize> = rows_all
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, Row::Step(_)))
        .map(|(k, _)| k)
        .collect();
    let shown: Vec<usize> = step_rows
        .iter()
        .enumerate()
        .filter(|(_, k)| **k >= offset && **k < offset + room)
        .map(|(n, _)| n)
        .collect();
    let marker = if total > room && !step_rows.is_empty() {
        let below = offset + room < total;
        let (a, b) = match (shown.first(), shown.last()) {
            (Some(a), Some(b)) => (a + 1, b + 1),
            _ => (0, 0),
        };
        Some(format!(
            "{a}-{b} of {}{}",
            step_rows.len(),
            if below { ", more below" } else { "" }
        ))
    } else {
        None
    };
    let room_title =
        width.saturating_sub(marker.as_ref().map_or(0, |mk| mk.chars().count() + 5) + 5);
    let mut head = title(m, theme, now, room_title);
    if let Some(mk) = &marker {
        // The marker is kept whole; the title gives way.
        let t = super::fit_line(head, room_title);
        head = t.spans;
        let used: usize = 3 + head.iter().map(Span::width).sum::<usize>();
        let fill = width.saturating_sub(used + mk.chars().count() + 5);
        head.push(Span::styled(format!(" {} ", "─".repeat(fill)), theme.rule));
        head.push(Span::styled(mk.clone(), theme.label));
    }
    let mut lines = vec![super::fit_line(
        super::rule(head, area.width, theme.rule).spans,
        width,
    )];

    let cols = Columns {
        word: rows_all
            .iter()
            .filter_map(|r| match r {
                Row::Step(i) => Some(state_word(m, *i, now).0.chars().count()),
                _ => None,
            })
            .max()
            .unwrap_or(0)
            .max(8),
        due: rows_all
            .iter()
            .filter_map(|r| match r {
                Row::Step(i) => due_label(&m.plan, &m.plan.steps[*i]),
                _ => None,
            })
            .map(|d| d.chars().count())
            .max()
            .unwrap_or(0),
        role: rows_all
            .iter()
            .filter_map(|r| match r {
                Row::Step(i) => Some(m.plan.steps[*i].role.chars().count()),
                _ => None,
            })
            .max()
            .unwrap_or(0),
        width,
    };
    if rows_all.is_empty() {
        let why = match (m.list_view, m.filter.is_on()) {
            (_, true) => "  (no step passes the filter: r and F change it)",
            (ListView::Open, false) => "  (nothing open: every step is settled)",
            (ListView::Phase, false) => "  (no steps for these roles in this phase)",
        };
        lines.push(Line::styled(why, theme.dim));
    }
    for row in rows_all.iter().skip(offset).take(room) {
        lines.push(match *row {
            Row::Step(i) => step_line(m, theme, i, m.cursor == Some(i), cols, now),
            heading => heading_line(m, theme, heading, width),
        });
    }
    let used = rows_all.len().saturating_sub(offset).min(room);
    let left = room.saturating_sub(used);
    let skip_d = offset.saturating_sub(rows_all.len());
    for d in dls.iter().skip(skip_d).take(left) {
        let when = if d.act_by() > now {
            format!("in {}", zones::span(d.act_by() - now))
        } else {
            "passed".into()
        };
        // A target is shown first (it is what the firm acts by), the HKEX date after it.
        let (label, at) = match d.target {
            Some(t) => (
                "  target ",
                format!(
                    "{} ({when}; due {}) ",
                    zones::day_hm(t, s.tz),
                    zones::day_hm(d.due, s.tz)
                ),
            ),
            None => (
                "  deadline ",
                format!("{} ({when}) ", zones::day_hm(d.due, s.tz)),
            ),
        };
        let spans = vec![
            Span::styled(label, theme.label),
            Span::styled(at, theme.dim),
            Span::raw(clean_line(&d.title).into_owned()),
        ];
        lines.push(super::fit_line(spans, width));
    }
    Paragraph::new(lines).render(area, buf);
}

/// A group's heading: `carried from Primary site · 5 open`.
fn heading_line<'a>(m: &Model, theme: &Theme, row: Row, width: usize) -> Line<'a> {
    let phases = &m.plan.session.phases;
    let name = |p: usize| clean_line(&phases[p].title).into_owned();
    let text = match row {
        Row::Carried {
            phase,
            open,
            overdue,
            folded,
        } => {
            let overdue = if overdue > 0 {
                format!(", {overdue} OVERDUE")
            } else {
                String::new()
            };
            let hint = if folded {
                " · z shows them"
            } else if m.unfold_carried && !m.filter.is_on() {
                " · z folds"
            } else {
                ""
            };
            format!("carried from {} · {open} open{overdue}{hint}", name(phase))
        }
        Row::Own { phase, steps } => format!("{} · {steps} steps", name(phase)),
        Row::Overdue { steps } => format!("overdue, oldest first · {steps}"),
        Row::OpenIn { phase, open } => format!("{} · {open} open", name(phase)),
        Row::Step(_) => String::new(),
    };
    super::fit_line(
        vec![
            Span::raw(" "),
            Span::styled(format!("─ {text}"), theme.label),
        ],
        width,
    )
}

/// Whether step `i` hangs on a choice nobody has recorded yet.
fn undecided(m: &Model, i: usize) -> bool {
    crate::setup::undecided(&m.plan, &m.plan.steps[i], &m.record)
        .next()
        .is_some()
}

/// The word a step's row reads and whether it is overdue: `OVERDUE` for a step surely to do past
/// its due time; for one past it that applies only on a choice nobody recorded yet, the
/// condition (`if log-off`), as its alert says `Overdue if log-off`: it is not counted overdue
/// until the choice is recorded; else the state's word.
fn state_word(m: &Model, i: usize, now: DateTime<Utc>) -> (String, bool) {
    if m.overdue(i, now) {
        return ("OVERDUE".into(), true);
    }
    if m.past_due(i, now)
        && let Some(cond) = m.condition(i)
    {
        return (cond, false);
    }
    (m.state(i).word().into(), false)
}

/// The widths a step line is laid out in: the state word, due and role columns (the widest in
/// the list, so that titles line up) and the whole line.
#[derive(Clone, Copy)]
struct Columns {
    word: usize,
    due: usize,
    role: usize,
    width: usize,
}

fn step_line<'a>(
    m: &Model,
    theme: &Theme,
    i: usize,
    selected: bool,
    cols: Columns,
    now: DateTime<Utc>,
) -> Line<'a> {
    let step = &m.plan.steps[i];
    let state = m.state(i);
    let (word, overdue) = state_word(m, i, now);
    let word_style = if overdue {
        theme.overdue
    } else {
        super::state_style(theme, state)
    };
    let due = due_label(&m.plan, step).unwrap_or_default();
    // `late` is for a step recorded after its due time; one still open past it (pending, or
    // deferred: its glyph `[>]` says so) reads OVERDUE alone, in the same columns as the rest.
    let late = if m.late(i) && !overdue { "late" } else { "" };
    let sel = if selected { "▸ " } else { "  " };
    let spans = vec![
        Span::raw(sel),
        Span::styled(
            format!("{} {word:<w$}", state.glyph(), w = cols.word),
            word_style,
        ),
        Span::styled(format!(" {due:>w$}", w = cols.due), theme.dim),
        Span::styled(format!(" {late:<4}"), theme.late),
        // `?`: it applies only if a choice not recorded yet goes its way ("log off at 10:00"
        // when the rundown may have said stay connected): settle the choice before acting.
        Span::styled(
            match (state.is_open() && undecided(m, i), step.critical) {
                (true, _) => " ?",
                (false, true) => " !",
                (false, false) => "  ",
            },
            theme.critical,
        ),
        Span::styled(
            format!(" {:<w$} ", clean_line(&step.role), w = cols.role),
            theme.dim,
        ),
        Span::raw(clean_line(&step.title).into_owned()),
    ];
    // A title cut at the edge ends in `…`: the detail pane has it whole.
    let mut line = super::fit_line(spans, cols.width);
    if selected {
        line = line.patch_style(theme.selection);
    }
    line
}
