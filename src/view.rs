//! Drawing the model: `view(frame, &Model, &Theme, now)`, one file per widget under `view/`.
//!
//! The view reads the model and never changes it. Layout, top to bottom: header (3 lines), phase
//! bar (2), the start-up notice and the notification banner when there are, the step list over
//! the detail pane (or the journal pane), the status area and the footer. The status area grows
//! to what it must show whole: a long message wraps (up to three lines), and a prompt takes a line
//! for its label, one for each line of its refusal, and one for the text being typed, whose
//! cursor is the terminal's own. Panes have a top rule and no side borders, so that a command in
//! the detail pane sits alone on its lines and a mouse copy takes nothing else. Below `MIN_W` x
//! `MIN_H` only a "terminal too small" notice is drawn; nothing here indexes outside the area, at
//! any size. Wherever text is cut, it ends in `…`.

mod detail;
mod footer;
mod header;
mod log;
mod overlay;
mod phases;
mod prompt;
mod steps;

use crate::app::{Mode, Model, Overlay};
use crate::theme::Theme;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The smallest terminal the full screen is drawn in.
pub const MIN_W: u16 = 60;
pub const MIN_H: u16 = 16;

/// The most lines the banner and a status message take (a prompt's refusal too).
const MAX_WRAP: usize = 3;

/// Draw the whole screen into a frame; while typing, the terminal's cursor sits where the next
/// character goes.
pub fn view(frame: &mut Frame, m: &Model, theme: &Theme, now: DateTime<Utc>) {
    let area = frame.area();
    if let Some(p) = render(area, frame.buffer_mut(), m, theme, now) {
        frame.set_cursor_position(p);
    }
}

/// Draw the whole screen into a buffer (what `view` and the tests call); returns where the
/// cursor goes, when something is being typed.
pub fn render(
    area: Rect,
    buf: &mut Buffer,
    m: &Model,
    theme: &Theme,
    now: DateTime<Utc>,
) -> Option<Position> {
    buf.set_style(area, theme.base);
    if area.width < MIN_W || area.height < MIN_H {
        too_small(area, buf, theme);
        return None;
    }
    let banner_text = banner_text(m, area.width);
    let banner_h = banner_text
        .as_deref()
        .map_or(0, |t| wrapped_height(t, area.width, BANNER_ROWS));
    let notice_text = m
        .notice
        .as_deref()
        .map(|n| format!(" {}  (b dismisses)", crate::text::clean_line(n)));
    // The notice is read once, at start-up, and carries its fix: up to three lines.
    let notice_h = notice_text
        .as_deref()
        .map_or(0, |t| wrapped_height(t, area.width, MAX_WRAP));
    let status_h = match &m.mode {
        Mode::Typing(_) | Mode::Ask(_) => prompt::height(m, area.width, now),
        _ => footer::status_height(m, area.width),
    };
    let [head, bar, notice, banner, body, status, foot] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(2),
        Constraint::Length(notice_h),
        Constraint::Length(banner_h),
        Constraint::Min(4),
        Constraint::Length(status_h),
        Constraint::Length(1),
    ])
    .areas(area);
    header::render(head, buf, m, theme, now);
    phases::render(bar, buf, m, theme, now);
    for (text, rect) in [(&notice_text, notice), (&banner_text, banner)] {
        if let Some(t) = text {
            Paragraph::new(wrap_fit(t, rect.width, usize::from(rect.height)))
                .style(theme.banner)
                .wrap(Wrap { trim: true })
                .render(rect, buf);
        }
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
    let cursor = match &m.mode {
        Mode::Typing(_) | Mode::Ask(_) => prompt::render(status, buf, m, theme, now),
        _ => {
            footer::render_status(status, buf, m, theme);
            None
        }
    };
    footer::render_keys(foot, buf, m, theme, now);
    match (m.overlay, &m.mode) {
        (Some(Overlay::Help), _) => overlay::help(area, buf, theme),
        (Some(Overlay::Handover), _) => overlay::handover(area, buf, m, theme, now),
        (None, Mode::PickEvidence { step, selected }) => {
            overlay::pick_evidence(body, buf, m, theme, *step, *selected);
        }
        _ => {}
    }
    if m.overlay.is_some() { None } else { cursor }
}

/// The banner's line: the latest alert; its body alone when it repeats its title (said once, at
/// every width). It takes up to two rows: when it does not fit, the body's closing aside (the
/// awaiting alert's "(the rundown's time, or a sign such as …)") gives way first, so that what
/// to do (`press c when it is observed`) and `(b dismisses)` stay whole. The start-up notice has
/// a line of its own above it.
fn banner_text(m: &Model, width: u16) -> Option<String> {
    use crate::text::clean_line;
    let a = m.banner.as_ref()?;
    let title = clean_line(&a.title);
    let body = clean_line(&a.body);
    let compose = |body: &str| {
        let text = if repeats(&title, body) {
            body.to_owned()
        } else {
            format!("{title}: {body}")
        };
        format!(" {text}  (b dismisses)")
    };
    let full = compose(&body);
    let fits = |t: &str| {
        Paragraph::new(t)
            .wrap(Wrap { trim: true })
            .line_count(width)
            <= BANNER_ROWS
    };
    if fits(&full) {
        return Some(full);
    }
    Some(without_aside(&body).map_or(full, |b| compose(&b)))
}

/// The most rows the notification banner takes.
const BANNER_ROWS: usize = 2;

/// `body` without its closing parenthetical aside (`Do x (because y).` → `Do x.`), when it has
/// one.
fn without_aside(body: &str) -> Option<String> {
    let (core, stop) = match body.strip_suffix('.') {
        Some(c) => (c, "."),
        None => (body, ""),
    };
    let inner = core.strip_suffix(')')?;
    let open = inner.rfind(" (")?;
    Some(format!("{}{stop}", &inner[..open]))
}

/// Whether `body` says `title` again: it begins with the title, or with most of it (the words
/// before the title's last `:`, as in `X expected ~11:00: awaiting…` / `X expected ~11:00: not…`).
fn repeats(title: &str, body: &str) -> bool {
    let title = title.trim_start_matches("[REHEARSAL] ");
    if body.starts_with(title) {
        return true;
    }
    let head = title.rsplit_once(": ").map_or(title, |(h, _)| h);
    head.len() >= 12 && body.starts_with(head)
}

/// `text` shortened, ending in `…`, so that it wraps within `max` lines of `width` (whole when it
/// does already).
pub(crate) fn wrap_fit(text: &str, width: u16, max: usize) -> String {
    let lines = |t: &str| {
        Paragraph::new(t)
            .wrap(Wrap { trim: true })
            .line_count(width)
    };
    if width == 0 || lines(text) <= max {
        return text.to_owned();
    }
    let mut room = usize::from(width) * max;
    loop {
        let t = fit(text, room);
        if room <= 1 || lines(&t) <= max {
            return t;
        }
        room -= 1;
    }
}

/// Lines `text` takes wrapped at `width`, at most `max`.
pub(crate) fn wrapped_height(text: &str, width: u16, max: usize) -> u16 {
    let n = Paragraph::new(text)
        .wrap(Wrap { trim: true })
        .line_count(width)
        .clamp(1, max);
    n as u16
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
pub(crate) use header::summary as summary_line;

/// `s` cut to `width` columns, ending in `…` when anything was cut.
pub(crate) fn fit(s: &str, width: usize) -> String {
    if s.width() <= width {
        s.to_owned()
    } else {
        cut(s, width)
    }
}

/// `s` in at most `width` columns, its middle elided with `…` when it does not fit: the start
/// and, longer, the end stay (a path keeps its folder's start and its file name).
pub(crate) fn elide_middle(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_owned();
    }
    if width < 2 {
        return fit(s, width);
    }
    let tail_w = (width - 1) * 2 / 3;
    let head = cut_plain(s, width - 1 - tail_w);
    // The tail: the last characters that fit in `tail_w` columns.
    let mut tail = Vec::new();
    let mut used = 0;
    for ch in s.chars().rev() {
        let w = ch.width().unwrap_or(0);
        if used + w > tail_w {
            break;
        }
        used += w;
        tail.push(ch);
    }
    let tail: String = tail.into_iter().rev().collect();
    format!("{head}…{tail}")
}

/// The first characters of `s` that fit in `width` columns, without an ellipsis.
fn cut_plain(s: &str, width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for ch in s.chars() {
        let w = ch.width().unwrap_or(0);
        if used + w > width {
            break;
        }
        used += w;
        out.push(ch);
    }
    out
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

/// A label made of parts, cut to `width` columns: the part with the highest `shrink` (0: never
/// first) gives way first, down to a few columns, then the next; only then is the whole cut. So a
/// prompt keeps what it asks for and shortens the step title it names.
pub(crate) fn fit_parts(parts: &[(&str, u8)], width: usize) -> String {
    const MIN: usize = 8;
    let mut texts: Vec<String> = parts.iter().map(|(t, _)| (*t).to_owned()).collect();
    let total = |t: &[String]| t.iter().map(|x| x.width()).sum::<usize>();
    let mut order: Vec<usize> = (0..parts.len()).filter(|&i| parts[i].1 > 0).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(parts[i].1));
    for i in order {
        let over = total(&texts).saturating_sub(width);
        if over == 0 {
            break;
        }
        let w = texts[i].width();
        if w > MIN {
            texts[i] = fit(&texts[i], w.saturating_sub(over).max(MIN));
        }
    }
    fit(&texts.concat(), width)
}

/// The columns `[start, start + width)` of `s` (a wide character that would straddle an edge is
/// left out).
pub(crate) fn slice_cols(s: &str, start: usize, width: usize) -> String {
    let mut out = String::new();
    let mut col = 0;
    for ch in s.chars() {
        let w = ch.width().unwrap_or(0);
        if col >= start && col + w <= start + width {
            out.push(ch);
        }
        col += w;
        if col >= start + width {
            break;
        }
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

/// A phase's start as shown: `08:00`, `~11:00` (approximate, unconfirmed), `10:58:30` or
/// `11:20` (confirmed: the time observed, to the second when it has seconds), or `15 Nov` on
/// another day. No drift here: in a column it would have to be rounded (`10:58 (-1m)` read as
/// an arithmetic error beside `1m30s` elsewhere); the status line and the banner say it whole.
pub(crate) fn boundary_label(m: &Model, transition: usize) -> String {
    let s = &m.plan.session;
    let t = &m.timeline.transitions[transition];
    let at = m.timeline.effective(transition);
    let local = at.with_timezone(&s.tz);
    let confirmed = m.timeline.confirmed_at(transition).is_some();
    let hm = if local.date_naive() != s.date {
        local.format("%d %b").to_string()
    } else if confirmed && chrono::Timelike::second(&local) != 0 {
        local.format("%H:%M:%S").to_string()
    } else {
        local.format("%H:%M").to_string()
    };
    if t.approximate && !confirmed {
        format!("~{hm}")
    } else {
        hm
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
    fn a_label_shortens_its_title_before_what_it_asks() {
        let parts = [
            ("What failed in ", 0),
            (
                "Log in to OTP-C - OCG-C Trading session at the primary site",
                1,
            ),
            (" (required)", 0),
        ];
        let l = fit_parts(&parts, 50);
        assert_eq!(l.width(), 50);
        assert!(l.starts_with("What failed in Log in"), "{l}");
        assert!(l.ends_with("… (required)"), "{l}");
        assert_eq!(fit_parts(&[("short", 1)], 50), "short");
        // Narrower than the parts that never shrink: the whole is cut, with an ellipsis.
        assert!(fit_parts(&parts, 12).ends_with('…'));
        assert_eq!(slice_cols("abcdef", 2, 3), "cde");
        assert_eq!(slice_cols("交易所", 1, 4), "易");
    }

    #[test]
    fn a_long_path_loses_its_middle_and_keeps_its_ends() {
        let p =
            "/tmp/walk/state/drillbook/hkex-ps2-2023-11-25--ep-rehearsal-20261202T045833Z.jsonl";
        let e = elide_middle(p, 40);
        assert_eq!(e.width(), 40);
        assert!(e.starts_with("/tmp/walk/"), "{e}");
        assert!(e.ends_with("20261202T045833Z.jsonl"), "{e}");
        assert_eq!(e.matches('…').count(), 1, "{e}");
        assert_eq!(elide_middle("/short/path", 40), "/short/path");
        assert!(elide_middle("交易所測試交易所測試", 7).width() <= 7);
    }

    #[test]
    fn text_longer_than_its_lines_ends_in_an_ellipsis() {
        let long = "word ".repeat(60);
        let t = wrap_fit(&long, 40, 3);
        assert!(t.ends_with('…'), "{t}");
        assert!(wrapped_height(&t, 40, 10) <= 3);
        assert_eq!(wrap_fit("short", 40, 1), "short");
    }

    #[test]
    fn a_banner_that_repeats_its_title_says_it_once() {
        assert!(repeats(
            "Failover end expected ~11:00 HKT: awaiting confirmation",
            "Failover end expected ~11:00 HKT: not confirmed yet; press c when it is observed"
        ));
        assert!(repeats(
            "[REHEARSAL] Primary site ends",
            "Primary site ends at 10:00"
        ));
        assert!(!repeats(
            "In 15 min: Primary site ends",
            "At 10:00 HKT (Sat 25 Nov)."
        ));
    }

    #[test]
    fn an_aside_gives_way() {
        assert_eq!(
            without_aside("press c when it is observed (the rundown's time, or a sign)."),
            Some("press c when it is observed.".into())
        );
        assert_eq!(
            without_aside("At 10:00 HKT (Sat 25 Nov)"),
            Some("At 10:00 HKT".into())
        );
        assert_eq!(without_aside("At 10:00 HKT."), None);
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
