//! The journal pane (`L`): the journal's full path (the status line elides its middle), then
//! the latest entries, newest at the bottom, as the journal holds them.

use crate::app::Model;
use crate::journal::Action;
use crate::text::clean_line;
use crate::theme::Theme;
use crate::zones;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

pub fn render(area: Rect, buf: &mut Buffer, m: &Model, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let title = vec![Span::styled(
        "Journal · latest entries (L hides)",
        theme.rule,
    )];
    let mut lines = vec![super::fit_line(
        super::rule(title, area.width, theme.rule).spans,
        usize::from(area.width),
    )];
    // The path whole, in as many rows as it takes (up to three, leaving room for entries).
    let path = format!("journal {}", clean_line(&m.journal_path));
    let width = usize::from(area.width).max(1);
    let max_rows = usize::from(area.height.saturating_sub(2)).clamp(1, 3);
    let mut start = 0;
    let total = path.width();
    while start < total && lines.len() <= max_rows {
        let last = lines.len() == max_rows;
        let row = if last && total - start > width {
            super::fit(&super::slice_cols(&path, start, total - start), width)
        } else {
            super::slice_cols(&path, start, width)
        };
        start += width;
        lines.push(Line::styled(row, theme.dim));
    }
    let rows = (area.height as usize).saturating_sub(lines.len());
    let skip = m.recent.len().saturating_sub(rows);
    let tz = m.plan.session.tz;
    for e in m.recent.iter().skip(skip) {
        let extra = match &e.action {
            Action::Step { note: Some(n), .. } | Action::Note { text: n, .. } => {
                format!(": {}", clean_line(n))
            }
            Action::Evidence { value, .. } => format!(" = {}", clean_line(value)),
            Action::Detach { reason } => format!(" ({})", clean_line(reason)),
            Action::RehearsalClock { change, speed, .. } => {
                format!(" {} x{speed}", change.word())
            }
            Action::Notification { ok, channel, .. } => {
                format!(
                    " on {} {}",
                    clean_line(channel),
                    if *ok { "sent" } else { "FAILED" }
                )
            }
            _ => String::new(),
        };
        // Cut at the edge with `…`: `drillbook log` has every line whole.
        lines.push(super::fit_line(
            vec![
                Span::styled(
                    format!(
                        "#{:<4} {} {:<14} ",
                        e.seq,
                        zones::hms(e.session_time(), tz),
                        clean_line(&e.who())
                    ),
                    theme.dim,
                ),
                Span::raw(format!("{}{extra}", m.describe(&e.action))),
            ],
            usize::from(area.width),
        ));
    }
    if m.recent.is_empty() {
        lines.push(Line::styled("  (the journal is empty)", theme.dim));
    }
    Paragraph::new(lines).render(area, buf);
}
