//! The status line (what was recorded, refused or failed, wrapped so that it is read whole) and
//! the footer (the keys that matter in the current view, from the one key table).

use crate::app::{Model, Tone, keys};
use crate::text::clean_line;
use crate::theme::Theme;
use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

/// The status message as shown: the journal's path in it (the start-up message) takes at most
/// one row, its middle elided; the full path is in the journal pane (`L`), the handover (`H`)
/// and printed at exit. A rehearsal's path alone took three rows of the detail pane at 80x24.
fn status_text(m: &Model, width: u16) -> Option<String> {
    m.status.as_ref().map(|(t, _)| {
        let t = clean_line(t).into_owned();
        let path = clean_line(&m.journal_path);
        if path.is_empty() {
            return t;
        }
        let room = usize::from(width).saturating_sub("journal ".len());
        t.replace(path.as_ref(), &super::elide_middle(&path, room))
    })
}

/// Lines the status takes: all of its message (a resume message, a refusal), up to three.
pub fn status_height(m: &Model, width: u16) -> u16 {
    status_text(m, width).map_or(1, |t| super::wrapped_height(&t, width, super::MAX_WRAP))
}

pub fn render_status(area: Rect, buf: &mut Buffer, m: &Model, theme: &Theme) {
    let p = match (&m.status, status_text(m, area.width)) {
        (Some((_, tone)), Some(t)) => {
            Paragraph::new(super::wrap_fit(&t, area.width, super::MAX_WRAP))
                .style(match tone {
                    Tone::Ok => theme.status_ok,
                    Tone::Error => theme.status_error,
                    Tone::Info => theme.base,
                })
                .wrap(Wrap { trim: true })
        }
        _ => Paragraph::new(Line::styled(
            format!(
                "journal {}",
                super::elide_middle(
                    &clean_line(&m.journal_path),
                    usize::from(area.width).saturating_sub("journal ".len())
                )
            ),
            theme.dim,
        )),
    };
    p.render(area, buf);
}

pub fn render_keys(area: Rect, buf: &mut Buffer, m: &Model, theme: &Theme, now: DateTime<Utc>) {
    // Help and quit always show, and `c` whenever a boundary is awaiting confirmation (at any
    // width); the others in table order while they fit. Otherwise `c` shows from 30 minutes
    // before an approximate boundary.
    let awaiting = m.status_at(now).awaiting.is_some();
    let confirm_matters = awaiting
        || m.timeline
            .pending_confirmation(now)
            .is_some_and(|t| now >= m.timeline.transitions[t].at - chrono::TimeDelta::minutes(30));
    let all: Vec<&keys::KeyHelp> = keys::footer(
        m.key_ctx(),
        m.read_only.is_some(),
        m.rehearsal.is_some(),
        m.search.is_some(),
    )
    .filter(|k| k.keys != "c" || confirm_matters)
    .collect();
    let width = |k: &keys::KeyHelp| k.keys.chars().count() + k.short.chars().count() + 3;
    let pinned = |k: &keys::KeyHelp| matches!(k.keys, "?" | "q") || (k.keys == "c" && awaiting);
    let mut room = (area.width as usize)
        .saturating_sub(all.iter().filter(|k| pinned(k)).map(|k| width(k)).sum());
    let mut spans = Vec::new();
    for k in all {
        if !pinned(k) {
            if width(k) > room {
                continue;
            }
            room -= width(k);
        }
        spans.push(Span::styled(k.keys, theme.key));
        spans.push(Span::styled(format!(" {}  ", k.short), theme.footer));
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
}
