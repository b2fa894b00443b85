//! The journal pane (`L`): the latest entries, newest at the bottom, as the journal holds them.

use crate::app::Model;
use crate::journal::Action;
use crate::text::clean_line;
use crate::theme::Theme;
use crate::zones;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

pub fn render(area: Rect, buf: &mut Buffer, m: &Model, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let title = vec![Span::styled(
        format!(
            "Journal {} · latest entries (L hides)",
            clean_line(&m.journal_path)
        ),
        theme.rule,
    )];
    let mut lines = vec![super::fit_line(
        super::rule(title, area.width, theme.rule).spans,
        usize::from(area.width),
    )];
    let rows = area.height.saturating_sub(1) as usize;
    let skip = m.recent.len().saturating_sub(rows);
    let tz = m.plan.session.tz;
    for e in m.recent.iter().skip(skip) {
        let extra = match &e.action {
            Action::Step { note: Some(n), .. } | Action::Note { text: n, .. } => {
                format!(": {}", clean_line(n))
            }
            Action::Evidence { value, .. } => format!(" = {}", clean_line(value)),
            Action::Detach { reason } => format!(" ({})", clean_line(reason)),
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
