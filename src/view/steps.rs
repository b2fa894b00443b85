//! The step list of the viewed phase: glyph and word for the state (never colour alone), due
//! time, `late` when recorded after it, `!` for critical, role, title. A pending step past its due
//! time reads `OVERDUE`. The phase's deadlines follow the steps.

use crate::app::{Model, Pane, due_label};
use crate::journal::StepState;
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

/// Rows the list would like: its rule, its steps and deadlines.
pub fn wanted_height(m: &Model, _now: DateTime<Utc>) -> u16 {
    let n = m.visible().len() + deadlines_of(m, m.view_phase).len();
    (n.max(1) + 1).min(u16::MAX as usize) as u16
}

pub fn render(area: Rect, buf: &mut Buffer, m: &Model, theme: &Theme, now: DateTime<Utc>) {
    if area.height == 0 {
        return;
    }
    let s = &m.plan.session;
    let p = m.view_phase;
    let vis = m.visible();
    let done = vis.iter().filter(|&&i| m.state(i).is_closed()).count();
    let overdue = vis.iter().filter(|&&i| m.overdue(i, now)).count();
    let (st, et) = m.timeline.bounds_of(p);
    let mut title = vec![Span::styled(
        format!(
            "{} {}-{}",
            clean_line(&s.phases[p].title),
            super::boundary_label(m, st),
            super::boundary_label(m, et)
        ),
        if m.focus == Pane::Steps {
            theme.rule.patch(theme.label)
        } else {
            theme.rule
        },
    )];
    title.push(Span::styled(
        format!(" · {} steps, {done} settled", vis.len()),
        theme.rule,
    ));
    if overdue > 0 {
        title.push(Span::styled(format!(" · {overdue} OVERDUE"), theme.overdue));
    }
    if p != m.clock_phase(now) {
        title.push(Span::styled(" · browsing (t: now)", theme.rule));
    }
    let mut lines = vec![super::rule(title, area.width, theme.rule)];

    let cols = Columns {
        due: vis
            .iter()
            .filter_map(|&i| due_label(&m.plan, &m.plan.steps[i]))
            .map(|d| d.chars().count())
            .max()
            .unwrap_or(0),
        role: vis
            .iter()
            .map(|&i| m.plan.steps[i].role.chars().count())
            .max()
            .unwrap_or(0),
        width: area.width.into(),
    };
    let rows = area.height.saturating_sub(1) as usize;
    let dls = deadlines_of(m, p);
    let total = vis.len() + dls.len();
    let offset = if rows == 0 || m.selected < rows / 2 {
        0
    } else {
        (m.selected - rows / 2).min(total.saturating_sub(rows))
    };
    if vis.is_empty() {
        lines.push(Line::styled(
            "  (no steps for these roles in this phase)",
            theme.dim,
        ));
    }
    for (row, &i) in vis.iter().enumerate().skip(offset).take(rows) {
        lines.push(step_line(m, theme, i, row == m.selected, cols, now));
    }
    let shown = vis.len().saturating_sub(offset).min(rows);
    let room = rows.saturating_sub(shown);
    let skip_d = offset.saturating_sub(vis.len());
    for d in dls.iter().skip(skip_d).take(room) {
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
        lines.push(super::fit_line(spans, area.width.into()));
    }
    Paragraph::new(lines).render(area, buf);
}

/// The widths a step line is laid out in: the due and role columns (the widest in the list, so
/// that titles line up) and the whole line.
#[derive(Clone, Copy)]
struct Columns {
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
    let overdue = m.overdue(i, now);
    let (word, word_style) = if overdue {
        ("OVERDUE", theme.overdue)
    } else {
        (state.word(), super::state_style(theme, state))
    };
    let due = due_label(&m.plan, step).unwrap_or_default();
    let late = if m.late(i) { "late" } else { "" };
    let sel = if selected { "▸ " } else { "  " };
    let mut spans = vec![
        Span::raw(sel),
        Span::styled(format!("{} {word:<8}", state.glyph()), word_style),
        Span::styled(format!(" {due:>w$}", w = cols.due), theme.dim),
        Span::styled(format!(" {late:<4}"), theme.late),
        Span::styled(if step.critical { " !" } else { "  " }, theme.critical),
        Span::styled(
            format!(" {:<w$} ", clean_line(&step.role), w = cols.role),
            theme.dim,
        ),
        Span::raw(clean_line(&step.title).into_owned()),
    ];
    if state == StepState::Deferred && overdue {
        spans.insert(2, Span::styled("(deferred) ", theme.deferred));
    }
    // A title cut at the edge ends in `…`: the detail pane has it whole.
    let mut line = super::fit_line(spans, cols.width);
    if selected {
        line = line.patch_style(theme.selection);
    }
    line
}
