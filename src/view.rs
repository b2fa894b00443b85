//! Drawing the model: `view(frame, &Model, &Theme, now)`, one file per widget under `view/`.
//!
//! The view reads the model and never changes it. Layout, top to bottom: header (3 lines), phase
//! bar (2), the notification banner when there is one, the step list over the detail pane (or the
//! journal pane), the status line and the footer. Panes have a top rule and no side borders, so
//! that a command in the detail pane sits alone on its lines and a mouse copy takes nothing else.
//! Below `MIN_W` x `MIN_H` only a "terminal too small" notice is drawn; nothing here indexes
//! outside the area, at any size.

mod detail;
mod footer;
mod header;
mod log;
mod overlay;
mod phases;
mod steps;

use crate::app::{Mode, Model, Overlay};
use crate::theme::Theme;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The smallest terminal the full screen is drawn in.
pub const MIN_W: u16 = 60;
pub const MIN_H: u16 = 16;

/// Draw the whole screen into a frame.
pub fn view(frame: &mut Frame, m: &Model, theme: &Theme, now: DateTime<Utc>) {
    let area = frame.area();
    render(area, frame.buffer_mut(), m, theme, now);
}

/// Draw the whole screen into a buffer (what `view` and the tests call).
pub fn render(area: Rect, buf: &mut Buffer, m: &Model, theme: &Theme, now: DateTime<Utc>) {
    buf.set_style(area, theme.base);
    if area.width < MIN_W || area.height < MIN_H {
        too_small(area, buf, theme);
        return;
    }
    let banner_h = u16::from(m.banner.is_some());
    let [head, bar, banner, body, status, foot] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(2),
        Constraint::Length(banner_h),
        Constraint::Min(4),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    header::render(head, buf, m, theme, now);
    phases::render(bar, buf, m, theme, now);
    if let Some(a) = &m.banner {
        let text = format!(
            " {}: {}  (b dismisses)",
            crate::text::clean_line(&a.title),
            crate::text::clean_line(&a.body)
        );
        Paragraph::new(Line::from(text))
            .style(theme.banner)
            .render(banner, buf);
    }
    let list_h = steps::wanted_height(m, now).clamp(4, (body.height * 3 / 5).max(4));
    let [list, lower] =
        Layout::vertical([Constraint::Length(list_h), Constraint::Min(1)]).areas(body);
    steps::render(list, buf, m, theme, now);
    if m.show_log {
        log::render(lower, buf, m, theme);
    } else {
        detail::render(lower, buf, m, theme, now);
    }
    footer::render_status(status, buf, m, theme, now);
    footer::render_keys(foot, buf, m, theme, now);
    match (m.overlay, &m.mode) {
        (Some(Overlay::Help), _) => overlay::help(area, buf, theme),
        (Some(Overlay::Handover), _) => overlay::handover(area, buf, m, theme, now),
        (None, Mode::PickEvidence { step, selected }) => {
            overlay::pick_evidence(body, buf, m, theme, *step, *selected);
        }
        _ => {}
    }
}

fn too_small(area: Rect, buf: &mut Buffer, theme: &Theme) {
    let text = format!("terminal too small (need {MIN_W}x{MIN_H})");
    let p = Paragraph::new(text)
        .style(theme.base)
        .centered()
        .wrap(Wrap { trim: true });
    let lines = (text_len(MIN_W, MIN_H) as u16).div_ceil(area.width.max(1));
    let y = area.y + area.height.saturating_sub(lines) / 2;
    let h = area.height.saturating_sub(y - area.y);
    p.render(
        Rect {
            y,
            height: h,
            ..area
        },
        buf,
    );
}

fn text_len(w: u16, h: u16) -> usize {
    format!("terminal too small (need {w}x{h})").len()
}

/// One line on how the session stands, for stdout at exit: `35 steps: 3 done, 32 pending.`
pub fn summary_line(m: &Model) -> String {
    header::summary(m)
}

/// `s` cut to `width` columns, ending in `…` when anything was cut.
pub(crate) fn fit(s: &str, width: usize) -> String {
    if s.width() <= width {
        s.to_owned()
    } else {
        cut(s, width)
    }
}

/// `s` in at most `width` columns, the last of them `…`.
fn cut(s: &str, width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for ch in s.chars() {
        let w = ch.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(ch);
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// `spans` cut to `width` columns, the last span shown ending in `…` when anything was cut: a
/// line the terminal would clip silently says that there is more.
pub(crate) fn fit_line(spans: Vec<Span<'_>>, width: usize) -> Line<'_> {
    let total: usize = spans.iter().map(Span::width).sum();
    if total <= width {
        return Line::from(spans);
    }
    let mut out = Vec::with_capacity(spans.len());
    let mut room = width;
    for span in spans {
        let w = span.width();
        if w < room {
            room -= w;
            out.push(span);
        } else {
            out.push(Span::styled(cut(&span.content, room), span.style));
            break;
        }
    }
    Line::from(out)
}

/// A pane's top rule: `── title ─────────`, the title in `title_style`.
pub(crate) fn rule(title: Vec<Span<'_>>, width: u16, style: Style) -> Line<'_> {
    let used: usize = 3 + title.iter().map(Span::width).sum::<usize>();
    let mut spans = vec![Span::styled("── ", style)];
    spans.extend(title);
    spans.push(Span::styled(
        format!(" {}", "─".repeat((width as usize).saturating_sub(used + 1))),
        style,
    ));
    Line::from(spans)
}

/// A phase's start as shown: `08:00`, `~11:00` (approximate, unconfirmed), `11:20 (+20m)`
/// (confirmed, with the drift), or `from 15 Nov` on another day.
pub(crate) fn boundary_label(m: &Model, transition: usize) -> String {
    use chrono::TimeZone;
    let s = &m.plan.session;
    let t = &m.timeline.transitions[transition];
    let at = m.timeline.effective(transition);
    let local = s.tz.from_utc_datetime(&at.naive_utc());
    let hm = if local.date_naive() == s.date {
        local.format("%H:%M").to_string()
    } else {
        local.format("%d %b").to_string()
    };
    match m.timeline.drift(transition) {
        Some(d) => format!("{hm} ({})", drift(d)),
        None if t.approximate => format!("~{hm}"),
        None => hm,
    }
}

/// `+20m`, `-5m`, `+1h05m`: drift in whole minutes.
pub(crate) fn drift(d: chrono::TimeDelta) -> String {
    let mins = d.num_minutes();
    let sign = if mins < 0 { '-' } else { '+' };
    let a = mins.abs();
    if a >= 60 {
        format!("{sign}{}h{:02}m", a / 60, a % 60)
    } else {
        format!("{sign}{a}m")
    }
}

/// The theme's style for a step state (the theme knows styles, not the journal's states).
pub fn state_style(
    theme: &crate::theme::Theme,
    s: crate::journal::StepState,
) -> ratatui::style::Style {
    use crate::journal::StepState as S;
    match s {
        S::Pending => theme.pending,
        S::Done => theme.done,
        S::Failed => theme.failed,
        S::Skipped => theme.skipped,
        S::NotApplicable => theme.not_applicable,
        S::Deferred => theme.deferred,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn fit_counts_columns_not_characters() {
        assert_eq!(fit("short", 5), "short");
        assert_eq!(fit("longer", 5), "long…");
        // Wide characters take two columns: two of them and the ellipsis fill five.
        assert_eq!(fit("交易所測試", 5), "交易…");
        assert_eq!(fit("交易所測試", 5).width(), 5);
        assert_eq!(fit("abc", 0), "");
    }

    #[test]
    fn a_line_too_long_ends_in_an_ellipsis_in_its_last_span_style() {
        let bold = Style::new().bold();
        let fits = fit_line(vec![Span::raw("abc"), Span::raw("de")], 5);
        assert_eq!(text(&fits), "abcde");
        let cut = fit_line(vec![Span::raw("abc"), Span::styled("defgh", bold)], 6);
        assert_eq!(text(&cut), "abcde…");
        assert_eq!(cut.spans[1].style, bold);
        // A span that exactly fills the width, with more after it, is cut to show there is more.
        let cut = fit_line(vec![Span::raw("abcdef"), Span::raw("gh")], 6);
        assert_eq!(text(&cut), "abcde…");
        assert_eq!(cut.width(), 6);
    }
}
