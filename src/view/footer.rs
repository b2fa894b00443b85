//! The status line (what was recorded, refused or failed; the prompt while typing) and the footer
//! (the keys that matter in the current view, from the one key table).

use crate::app::{Mode, Model, Prompt, Tone, keys};
use crate::text::clean_line;
use crate::theme::Theme;
use crate::zones;
use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// The prompt's label.
pub fn prompt_label(m: &Model, p: &Prompt) -> String {
    let id = |i: usize| clean_line(&m.plan.steps[i].id).into_owned();
    match p {
        Prompt::StepNote { step } => format!("Note on {} (! first marks an issue)", id(*step)),
        Prompt::SessionNote => "Note on the session (! first marks an issue)".into(),
        Prompt::Failed { step } => format!("What failed in {} (required)", id(*step)),
        Prompt::Skipped { step } => format!("Why skip {} (required)", id(*step)),
        Prompt::Evidence { step, field } => format!(
            "{} for {}",
            clean_line(&m.plan.steps[*step].evidence[*field]),
            id(*step)
        ),
        Prompt::Confirm { transition, at } => {
            let t = &m.timeline.transitions[*transition];
            format!(
                "Confirm {} at {} (planned ~{}); optional note, Enter confirms",
                clean_line(&m.plan.session.transition_label(t)),
                zones::hms(*at, m.plan.session.tz),
                zones::hm(t.at, m.plan.session.tz)
            )
        }
    }
}

pub fn render_status(area: Rect, buf: &mut Buffer, m: &Model, theme: &Theme, _now: DateTime<Utc>) {
    let line = match &m.mode {
        Mode::Typing(i) => {
            // Show the end of a long input: that is where the typing happens.
            let label = prompt_label(m, &i.prompt);
            let room = (area.width as usize).saturating_sub(label.chars().count() + 4);
            let n = i.text.chars().count();
            let text: String = i.text.chars().skip(n.saturating_sub(room)).collect();
            Line::from(vec![
                Span::styled(format!("{label}: "), theme.prompt),
                Span::raw(text),
                Span::styled("_", theme.prompt),
            ])
        }
        Mode::QuitAsk(_) => Line::styled(
            "Quit and lose what you typed (it is not recorded)? y = quit, any other key = keep typing",
            theme.status_error,
        ),
        _ => match &m.status {
            Some((t, tone)) => Line::styled(
                clean_line(t).into_owned(),
                match tone {
                    Tone::Ok => theme.status_ok,
                    Tone::Error => theme.status_error,
                    Tone::Info => theme.base,
                },
            ),
            None => Line::styled(
                format!("journal {}", clean_line(&m.journal_path)),
                theme.dim,
            ),
        },
    };
    Paragraph::new(line).render(area, buf);
}

pub fn render_keys(area: Rect, buf: &mut Buffer, m: &Model, theme: &Theme, now: DateTime<Utc>) {
    // Help and quit always show; the others in table order while they fit.
    // `c` matters only around an approximate boundary: awaiting it, or within 30 minutes of it.
    let confirm_matters = m
        .timeline
        .pending_confirmation(now)
        .is_some_and(|t| now >= m.timeline.transitions[t].at - chrono::TimeDelta::minutes(30));
    let all: Vec<&keys::KeyHelp> =
        keys::footer(m.key_ctx(), m.read_only.is_some(), m.rehearsal.is_some())
            .filter(|k| k.keys != "c" || confirm_matters)
            .collect();
    let width = |k: &keys::KeyHelp| k.keys.chars().count() + k.short.chars().count() + 3;
    let pinned = |k: &keys::KeyHelp| matches!(k.keys, "?" | "q");
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
