//! The phase bar: every phase in a column with its start time. Past, current (where "now" is)
//! and next are marked with a glyph as well as a style (`✓` over with every step settled, `○`
//! over with steps open and `N open` under it, `▶`, `»`), approximate starts read `~11:00`,
//! confirmed ones `11:20 (+20m)`; the phase being browsed is underlined.

use crate::app::Model;
use crate::text::clean_line;
use crate::theme::Theme;
use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

pub fn render(area: Rect, buf: &mut Buffer, m: &Model, theme: &Theme, now: DateTime<Utc>) {
    let phases = &m.plan.session.phases;
    let n = phases.len();
    if n == 0 || area.width == 0 {
        return;
    }
    let st = m.status_at(now);
    let current = st.phase;
    // The next phase: the one the next transition starts.
    let next = st.next.and_then(|i| m.timeline.transitions[i].starting);
    let col = (area.width as usize / n).max(1);
    // Titles when every one fits its column, else the (shorter) ids: one or the other, not a mix.
    let all_fit = phases.iter().all(|p| p.title.chars().count() + 3 <= col);
    let mut names = Vec::with_capacity(n);
    let mut times = Vec::with_capacity(n);
    for (p, phase) in phases.iter().enumerate() {
        let (start_t, end_t) = m.timeline.bounds_of(p);
        let started = st.passed > start_t;
        let over = st.passed > end_t;
        // Over with every step settled (`✓`), or over with steps still open (`○`, and `N open`
        // under it): told apart without colour.
        let open = if over || (started && Some(p) != current) {
            m.tally_in(p).open()
        } else {
            0
        };
        let (mark, style) = if Some(p) == current {
            ("▶", theme.phase_current)
        } else if (over || started) && open > 0 {
            ("○", theme.phase_past)
        } else if over || started {
            ("✓", theme.phase_past)
        } else if Some(p) == next {
            ("»", theme.phase_next)
        } else {
            (" ", theme.phase_later)
        };
        let viewed = if p == m.view_phase {
            theme.phase_viewed
        } else {
            Style::new()
        };
        let w = if p + 1 == n {
            area.width as usize - col * (n - 1)
        } else {
            col
        };
        // The title when it fits, else the id when that fits, else the title cut short.
        let short = if all_fit {
            clean_line(&phase.title)
        } else {
            clean_line(&phase.id)
        };
        let name = super::fit(&format!("{mark} {short}"), w - 1);
        names.push(Span::styled(format!("{name:<w$}"), style.patch(viewed)));
        let mut time = super::boundary_label(m, start_t);
        if st.awaiting == Some(start_t) {
            time.push_str(" ?");
        }
        if p + 1 == n {
            time = format!("{time}-{}", super::boundary_label(m, end_t));
        }
        if open > 0 {
            // The count wins over the start time when both do not fit.
            let both = format!(" {time} {open} open");
            time = if both.chars().count() <= w {
                format!("{time} {open} open")
            } else {
                format!("{open} open")
            };
        }
        let time = super::fit(&format!(" {time}"), w);
        times.push(Span::styled(format!("{time:<w$}"), theme.dim.patch(viewed)));
    }
    Paragraph::new(vec![Line::from(names), Line::from(times)]).render(area, buf);
}
