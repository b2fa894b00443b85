//! The detail pane of the selected step: state and who recorded it, basis, its check (what it
//! looks at, its last outcome and age), instructions, evidence with recorded values (sensed ones
//! marked so), expected events, notes, and the command. When it does not all fit, its rule says
//! which lines show (`lines 1-7 of 20, more below (PgDn)`).
//!
//! Only a top rule, no side borders: the command's lines hold the command and nothing else (no
//! indent, no box-drawing), so a mouse selection copies it clean.

use crate::app::{Model, Pane, due_label};
use crate::journal::CheckOutcome;
use crate::runbook::Basis;
use crate::text::{clean_block, clean_line};
use crate::theme::Theme;
use crate::zones;
use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use std::fmt::Write as _;

pub fn basis_word(b: Basis) -> &'static str {
    match b {
        Basis::Notice => "HKEX notice for this session",
        Basis::Source => "public HKEX or industry source",
        Basis::Practice => "firm practice (not an HKEX instruction)",
    }
}

/// The step's check: what it looks at and when it runs by itself, then, on one row cut to
/// `width`, its newest outcome, how long ago (on the wall clock) and what it saw; "running now"
/// while a run is out.
fn check_lines(
    lines: &mut Vec<Line<'static>>,
    m: &Model,
    theme: &Theme,
    width: usize,
    step: &crate::runbook::Step,
) {
    let (id, check) = (step.id.as_str(), step.check.as_ref());
    let Some(c) = check else { return };
    let kind = c.kind();
    // The truth about what a check does to the host.
    let label = if kind == crate::check::spec::Kind::Command {
        "Check (a program, run only with --allow-commands and the runbook's allow): "
    } else {
        "Check (read-only): "
    };
    let mut what = format!("{kind} {}", clean_line(&c.target_text()));
    if let Some(every) = c.every {
        let _ = write!(
            what,
            " · every {}",
            crate::check::spec::duration_words(every)
        );
    }
    if c.settle_on_pass {
        what.push_str(" · a pass marks it done");
    }
    lines.push(Line::from(vec![
        Span::styled(label, theme.label),
        Span::raw(what),
    ]));
    let last = m.record.last_check(id);
    let style = match last.map(|l| l.outcome) {
        Some(CheckOutcome::Pass) => theme.done,
        Some(CheckOutcome::Fail | CheckOutcome::Timeout | CheckOutcome::Error) => theme.overdue,
        _ => theme.dim,
    };
    let running = m.checks.is_running(id);
    let mut l = vec![Span::raw("  ")];
    match (last, running) {
        (None, true) => l.push(Span::styled("check: running now", theme.label)),
        // A watcher cannot run it: the host does.
        (None, false) if m.read_only.is_some() => {
            l.push(Span::styled("check: not run yet", style));
        }
        (None, false) => l.push(Span::styled("check: not run yet · r runs it", style)),
        (Some(_), _) => {
            l.push(Span::styled(
                crate::check::summary_line(&m.record, id, m.wall),
                style,
            ));
            if running {
                l.push(Span::styled(" · running now", theme.label));
            }
        }
    }
    if let Some(last) = last {
        l.push(Span::raw(format!(
            ": {}",
            crate::check::excerpt(&last.detail, 160)
        )));
    }
    lines.push(super::fit_line(l, width));
}

pub fn render(area: Rect, buf: &mut Buffer, m: &Model, theme: &Theme, now: DateTime<Utc>) {
    if area.height == 0 {
        return;
    }
    let Some(idx) = m.selected_step() else {
        let r = super::rule(vec![Span::raw("Detail")], area.width, theme.rule);
        Paragraph::new(vec![r]).render(area, buf);
        return;
    };
    let step = &m.plan.steps[idx];
    let tz = m.plan.session.tz;
    let title_style = if m.focus == Pane::Detail {
        theme.rule.patch(theme.label)
    } else {
        theme.rule
    };
    let mut head = vec![Span::styled(clean_line(&step.id).into_owned(), title_style)];
    if !step.systems.is_empty() {
        let sys = step.systems.join(", ");
        head.push(Span::styled(format!(" · {}", clean_line(&sys)), theme.rule));
    }
    if m.focus == Pane::Detail {
        head.push(Span::styled(
            " · j/k scroll, Enter back to the list",
            theme.rule,
        ));
    }
    let mut lines: Vec<Line> = Vec::new();
    lines.push(Line::styled(
        clean_line(&step.title).into_owned(),
        theme.label,
    ));
    let state = m.state(idx);
    let mut st = vec![
        Span::styled("State: ", theme.label),
        Span::styled(
            format!("{} {}", state.glyph(), crate::standing::open_word(state)),
            super::state_style(theme, state),
        ),
    ];
    if m.overdue(idx, now) {
        st.push(Span::styled(" OVERDUE", theme.overdue));
    } else if m.past_due(idx, now)
        && let Some(cond) = m.condition(idx)
    {
        // As its alert and the header say: overdue only if the choice goes its way.
        st.push(Span::styled(format!(" OVERDUE {cond}"), theme.overdue));
    }
    if let Some(c) = m.record.state_of(&step.id) {
        st.push(Span::raw(format!(
            " by {} at {}",
            clean_line(&c.stamp.who()),
            zones::hms(c.stamp.at, tz)
        )));
        if m.late(idx) {
            st.push(Span::styled(" (late)", theme.late));
        }
    }
    if let Some(d) = due_label(&m.plan, step) {
        // A due after the phase's start says from what it counts, and whether that is confirmed.
        let basis = m
            .timeline
            .due_basis(&m.plan.session, step)
            .map_or_else(String::new, |b| format!(", {b}"));
        st.push(Span::styled(format!(" · due {d}{basis}"), theme.dim));
    }
    if step.critical {
        st.push(Span::styled(" · ! critical", theme.critical));
    }
    lines.push(Line::from(st));
    // Right under the state: what senses it and how it last went, in view at 80x24.
    check_lines(&mut lines, m, theme, usize::from(area.width), step);
    if let Some(note) = m.record.state_of(&step.id).and_then(|c| c.note.as_deref()) {
        lines.push(Line::from(vec![
            Span::styled("Why: ", theme.label),
            Span::raw(clean_line(note).into_owned()),
        ]));
    }
    lines.push(Line::from(vec![
        Span::styled("Basis: ", theme.label),
        Span::raw(basis_word(step.basis)),
    ]));
    if let Some(na) = &step.not_applicable {
        lines.push(Line::from(vec![
            Span::styled("Not applicable by design: ", theme.label),
            Span::raw(clean_line(na).into_owned()),
        ]));
    } else if let Some(why) = crate::setup::not_applying(&m.plan, step, &m.record) {
        lines.push(Line::from(vec![
            Span::styled("Not applicable here: ", theme.label),
            Span::raw(clean_line(&why).into_owned()),
        ]));
    }
    for (c, want) in crate::setup::undecided(&m.plan, step, &m.record) {
        let at = crate::setup::settler(&m.plan, &c.id).map_or("", |s| s.id.as_str());
        lines.push(Line::from(vec![
            Span::styled("Applies if: ", theme.label),
            Span::raw(format!(
                "{}: {want} (not recorded yet: evidence on {})",
                clean_line(&c.title),
                clean_line(at)
            )),
        ]));
    }
    if !step.detail.is_empty() {
        lines.push(Line::raw(""));
        for l in clean_block(&step.detail).lines() {
            lines.push(Line::raw(l.to_owned()));
        }
    }
    if !step.evidence.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Evidence (e records a value):", theme.label));
        for field in &step.evidence {
            let mut l = vec![Span::raw(format!("  - {}: ", clean_line(field)))];
            match m.record.evidence_of(&step.id, field) {
                Some(e) => {
                    l.push(Span::styled(clean_line(&e.value).into_owned(), theme.done));
                    // Sensed apart from typed: a value a check saw says which check and when.
                    let by = match &e.sensed {
                        Some(kind) => format!(
                            "  (sensed by its {} check, {})",
                            clean_line(kind),
                            zones::hms(e.stamp.at, tz)
                        ),
                        None => format!(
                            "  ({}, {})",
                            clean_line(&e.stamp.who()),
                            zones::hms(e.stamp.at, tz)
                        ),
                    };
                    l.push(Span::styled(by, theme.dim));
                }
                None => l.push(Span::styled("(not recorded)", theme.dim)),
            }
            lines.push(Line::from(l));
        }
    }
    if !step.expect.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Expect:", theme.label));
        for e in &step.expect {
            lines.push(Line::raw(format!("  - {}", clean_line(e))));
        }
    }
    let notes: Vec<_> = m
        .record
        .notes
        .iter()
        .filter(|n| n.step.as_deref() == Some(step.id.as_str()))
        .collect();
    if !notes.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Notes:", theme.label));
        for n in notes {
            lines.push(Line::from(vec![
                Span::styled(
                    format!(
                        "  {} {}: ",
                        zones::hms(n.stamp.at, tz),
                        clean_line(&n.stamp.who())
                    ),
                    theme.dim,
                ),
                Span::raw(clean_line(&n.text).into_owned()),
            ]));
        }
    }
    if let Some(cmd) = &step.command {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            "Command (copy it; drillbook shows it, never runs it):",
            theme.label,
        ));
        for l in clean_block(cmd).lines() {
            lines.push(Line::styled(l.to_owned(), theme.command));
        }
    }

    let body = Rect {
        y: area.y + 1,
        height: area.height - 1,
        ..area
    };
    // Clamp the scroll to the length as ratatui wraps it, and say where the pane stands.
    let para = Paragraph::new(lines).wrap(Wrap { trim: false });
    let total = para.line_count(body.width);
    let rows = usize::from(body.height);
    let max_scroll = total.saturating_sub(rows);
    let scroll = usize::from(m.detail_scroll).min(max_scroll);
    let width = usize::from(area.width);
    if total > rows && rows > 0 {
        let last = (scroll + rows).min(total);
        let below = last < total;
        let mark = format!(
            "lines {}-{last} of {total}{}",
            scroll + 1,
            if below { ", more below (PgDn)" } else { "" }
        );
        let t = super::fit_line(head, width.saturating_sub(mark.chars().count() + 8));
        head = t.spans;
        let used: usize = 3 + head.iter().map(Span::width).sum::<usize>();
        let fill = width.saturating_sub(used + mark.chars().count() + 5);
        head.push(Span::styled(format!(" {} ", "─".repeat(fill)), theme.rule));
        head.push(Span::styled(mark, theme.label));
    }
    let rule = super::rule(head, area.width, theme.rule);
    Paragraph::new(vec![super::fit_line(rule.spans, width)]).render(area, buf);
    para.scroll((scroll as u16, 0)).render(body, buf);
}
