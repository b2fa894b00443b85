//! Overlays: the help (every key, from the one key table, and the legend of glyphs), the handover
//! text, and the evidence field picker (for a step with several fields; anything typed there
//! goes to the highlighted field).

use crate::app::{Model, keys};
use crate::handover;
use crate::journal::StepState;
use crate::text::clean_line;
use crate::theme::Theme;
use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

fn frame(area: Rect, buf: &mut Buffer, theme: &Theme, title: &str) -> Rect {
    Clear.render(area, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.label))
        .style(theme.overlay);
    let inner = block.inner(area);
    block.render(area, buf);
    inner
}

/// Every key, in as many columns as the height needs (two at 80x24), and the glyph legend in
/// the frame's bottom edge.
pub fn help(area: Rect, buf: &mut Buffer, theme: &Theme) {
    let legend = [
        StepState::Pending,
        StepState::Done,
        StepState::Failed,
        StepState::Skipped,
        StepState::NotApplicable,
        StepState::Deferred,
    ]
    .iter()
    .map(|s| format!("{} {}", s.glyph(), s.word()))
    .collect::<Vec<_>>()
    .join("  ");
    Clear.render(area, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(" Keys (any key closes) ", theme.label))
        .title_bottom(Span::styled(
            super::fit(&format!(" {legend} "), area.width.saturating_sub(2).into()),
            theme.label,
        ))
        .style(theme.overlay);
    let inner = block.inner(area);
    block.render(area, buf);
    // `to do`: pending or deferred; a failed step is open but not overdue (crate::standing).
    let legend2 = "OVERDUE to do past due · late done past due · ! critical · ? choice unrecorded";
    let rows = inner.height.saturating_sub(1) as usize;
    let n = keys::KEYS.len();
    let cols = if rows == 0 { 1 } else { n.div_ceil(rows) }.max(1);
    let rows = n.div_ceil(cols);
    let col_w = (inner.width as usize / cols).max(1);
    let cell = |(keys, long): (&str, &str)| {
        let text = format!("{keys:<9} {long}");
        let text = super::fit(&text, col_w.saturating_sub(1));
        format!("{text:<col_w$}")
    };
    let all: Vec<(&str, &str)> = keys::help_rows().collect();
    let mut lines = Vec::new();
    for r in 0..rows {
        let mut spans = Vec::new();
        for c in 0..cols {
            if let Some(k) = all.get(c * rows + r) {
                spans.push(Span::raw(cell(*k)));
            }
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::styled(
        super::fit(legend2, inner.width.into()),
        theme.label,
    ));
    Paragraph::new(lines).render(inner, buf);
}

/// The handover text: the same Markdown `drillbook handover` prints, for this screen's record.
pub fn handover_lines(m: &Model, now: DateTime<Utc>) -> Vec<String> {
    let ctx = handover::Context {
        now,
        local_tz: m.local_tz,
        journal: m.journal_path.clone(),
        rehearsal: m.rehearsal.is_some(),
        hash_mismatch: m.hash_mismatch.clone(),
    };
    handover::render(&m.plan, &m.record, &ctx)
        .lines()
        .map(str::to_owned)
        .collect()
}

pub fn handover(area: Rect, buf: &mut Buffer, m: &Model, theme: &Theme, now: DateTime<Utc>) {
    let inner = frame(
        area,
        buf,
        theme,
        " Handover (↑↓ PgUp PgDn scroll, any other key closes) ",
    );
    let lines: Vec<Line> = handover_lines(m, now).into_iter().map(Line::raw).collect();
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((m.overlay_scroll, 0))
        .render(inner, buf);
}

/// The evidence fields of a step, the selected one marked, with their current values.
pub fn pick_evidence(
    area: Rect,
    buf: &mut Buffer,
    m: &Model,
    theme: &Theme,
    step: usize,
    selected: usize,
) {
    let s = &m.plan.steps[step];
    let h = (s.evidence.len() as u16 + 2).min(area.height);
    let rect = Rect {
        x: area.x + 2.min(area.width),
        y: area.y + area.height.saturating_sub(h) / 2,
        width: area.width.saturating_sub(4),
        height: h,
    };
    let inner = frame(
        rect,
        buf,
        theme,
        " Evidence field (↑↓ choose, Enter or type to fill, Esc closes) ",
    );
    let lines: Vec<Line> = s
        .evidence
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let v = m.record.evidence_of(&s.id, f).map_or_else(
                || "(not recorded)".to_owned(),
                |e| clean_line(&e.value).into_owned(),
            );
            let mark = if k == selected { "▸" } else { " " };
            let line = super::fit_line(
                vec![Span::raw(format!("{mark} {}: {v}", clean_line(f)))],
                usize::from(inner.width),
            );
            if k == selected {
                line.patch_style(theme.selection)
            } else {
                line
            }
        })
        .collect();
    Paragraph::new(lines).render(inner, buf);
}
