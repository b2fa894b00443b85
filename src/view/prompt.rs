//! The prompt while typing, and the yes/no questions. What is typed and the cursor are always
//! visible: the label has a line of its own and is shortened (the step title first, never what it
//! asks for), the text has the next line to itself and scrolls to keep the cursor in view (`…`
//! where it is cut), and a refusal (an empty note, a time that cannot be, the journal's own
//! reason, such as a secret) sits between them, wrapped, while the prompt stays open. A value
//! recorded before shows selected, the line above saying that typing replaces it.

use crate::app::{Input, Mode, Model, Prompt, Question, confirm};
use crate::journal::StepState;
use crate::text::clean_line;
use crate::theme::Theme;
use crate::zones;
use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use unicode_width::UnicodeWidthStr;

/// The prompt's label, fitted to `width`: the step title gives way first.
pub fn label(m: &Model, p: &Prompt, width: usize) -> String {
    let title = |i: usize| clean_line(&m.plan.steps[i].title).into_owned();
    let tz = m.plan.session.tz;
    match p {
        Prompt::StepNote { step } => super::fit_parts(
            &[
                ("Note on ", 0),
                (&title(*step), 1),
                (" (! first: an issue)", 0),
            ],
            width,
        ),
        Prompt::SessionNote => super::fit("Note on the session (! first: an issue)", width),
        Prompt::Why { step, state } => {
            let (before, after) = match state {
                StepState::Failed => ("What failed in ", " (required)"),
                StepState::NotApplicable => ("Why is ", " n/a (required)"),
                _ => ("Why skip ", " (required)"),
            };
            super::fit_parts(&[(before, 0), (&title(*step), 1), (after, 0)], width)
        }
        Prompt::Evidence { step, field } => {
            let field = clean_line(&m.plan.steps[*step].evidence[*field]).into_owned();
            super::fit_parts(
                &[(&field, 1), (" · evidence on ", 0), (&title(*step), 2)],
                width,
            )
        }
        Prompt::Confirm { transition, .. } => {
            let t = &m.timeline.transitions[*transition];
            let what = m.plan.session.transition_label(t);
            super::fit_parts(
                &[
                    ("Confirm ", 0),
                    (&what, 1),
                    (&format!(" (planned ~{})", zones::hm(t.at, tz)), 0),
                ],
                width,
            )
        }
        Prompt::Search => super::fit("Search titles, ids and details", width),
    }
}

/// The line under the label that tells what the text will do: for a confirmation, the time it
/// reads and the drift; for a search, how many steps match; for a choice, its options.
fn hint(m: &Model, input: &Input, now: DateTime<Utc>) -> Option<String> {
    let tz = m.plan.session.tz;
    match &input.prompt {
        Prompt::Confirm { transition, at } => {
            let t = &m.timeline.transitions[*transition];
            Some(match confirm::parse(input.text(), *at, tz, now) {
                Ok(o) => format!(
                    "observed at {} (planned ~{}, {}){} · the time HH:MM[:SS], then a note",
                    zones::hms(o.at, tz),
                    zones::hm(t.at, tz),
                    zones::drift(o.at - t.at),
                    if o.note.is_some() {
                        ", with a note"
                    } else {
                        ""
                    }
                ),
                Err(_) => "the time it was observed, HH:MM[:SS], then an optional note".into(),
            })
        }
        Prompt::Search => {
            let matches = m.matches_for(input.text(), now);
            let n = matches.len();
            (!input.text().trim().is_empty()).then(|| {
                let enter = if n == 0 {
                    String::new()
                } else {
                    // The same choice Enter makes: from the selected step on.
                    format!(
                        " · Enter goes to match {} of {n}, the first from the selected step on",
                        m.match_from_selection(&matches) + 1
                    )
                };
                format!(
                    "{n} step{} match{}{enter}",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "es" } else { "" }
                )
            })
        }
        Prompt::Evidence { step, field } => {
            let s = &m.plan.steps[*step];
            // A value recorded before is offered whole (shown selected): say that typing
            // replaces it, so that nobody types on after it (walk 3 R8: `maybeno`).
            let was = input.held().then(|| {
                format!(
                    "was \"{}\": typing replaces it, ← → edit it",
                    super::fit(&clean_line(input.text()), 24)
                )
            });
            let options = s
                .options_of(&s.evidence[*field])
                .map(|o| format!("one of: {}", o.join(", ")));
            match (was, options) {
                (Some(w), Some(o)) => Some(format!("{w} · {o}")),
                (w, o) => w.or(o),
            }
        }
        _ => None,
    }
}

/// The text of a yes/no question.
fn question(m: &Model, q: &Question) -> String {
    match q {
        Question::Discard(_) => {
            "Quit and lose what you typed (it is not recorded)? y quits, any other key goes back to typing".into()
        }
        Question::Quit => "Quit drillbook? Notifications stop until it runs again; the journal stays, and the same command resumes it. y quits, any other key stays".into(),
        Question::Undo { what, .. } => format!(
            "Undo {what}? Journaled as a new action, nothing erased; U redoes it. y undoes, any other key keeps it"
        ),
        Question::Confirm { action, why, .. } => {
            let what = match action {
                crate::journal::Action::BoundaryConfirmed { boundary, .. } => {
                    m.boundary_title(boundary)
                }
                _ => String::new(),
            };
            format!(
                "{why}. Confirm {what} at that time anyway? y confirms, any other key goes back to the time"
            )
        }
    }
}

/// Lines the prompt or question takes at `width`.
pub fn height(m: &Model, width: u16, now: DateTime<Utc>) -> u16 {
    match &m.mode {
        Mode::Typing(input) => {
            let err = input
                .error
                .as_deref()
                .map_or(0, |e| super::wrapped_height(e, width, super::MAX_WRAP));
            2 + u16::from(hint(m, input, now).is_some()) + err
        }
        Mode::Ask(q) => super::wrapped_height(&question(m, q), width, super::MAX_WRAP),
        _ => 1,
    }
}

/// Draw the prompt or question; returns where the cursor goes.
pub fn render(
    area: Rect,
    buf: &mut Buffer,
    m: &Model,
    theme: &Theme,
    now: DateTime<Utc>,
) -> Option<Position> {
    let width = usize::from(area.width);
    match &m.mode {
        Mode::Ask(q) => {
            Paragraph::new(super::wrap_fit(
                &question(m, q),
                area.width,
                super::MAX_WRAP,
            ))
            .style(theme.prompt)
            .wrap(Wrap { trim: true })
            .render(area, buf);
            None
        }
        Mode::Typing(input) => {
            let mut lines = vec![Line::styled(label(m, &input.prompt, width), theme.prompt)];
            if let Some(h) = hint(m, input, now) {
                lines.push(Line::styled(super::fit(&h, width), theme.dim));
            }
            let top = Rect {
                height: area.height.saturating_sub(1),
                ..area
            };
            let n = lines.len() as u16;
            Paragraph::new(lines).render(top, buf);
            if let Some(e) = &input.error {
                let err = Rect {
                    y: top.y + n,
                    height: top.height.saturating_sub(n),
                    ..top
                };
                Paragraph::new(super::wrap_fit(&clean_line(e), area.width, super::MAX_WRAP))
                    .style(theme.status_error)
                    .wrap(Wrap { trim: true })
                    .render(err, buf);
            }
            let y = area.y + area.height.saturating_sub(1);
            Some(text_line(input, area.x, y, area.width, buf, theme))
        }
        _ => None,
    }
}

/// `› typed text`, scrolled so that the cursor shows, `…` where it is cut; the cursor's place.
fn text_line(
    input: &Input,
    x: u16,
    y: u16,
    width: u16,
    buf: &mut Buffer,
    theme: &Theme,
) -> Position {
    let lead = "› ";
    let avail = usize::from(width).saturating_sub(lead.width() + 1).max(1);
    // One column is kept for the cursor after the last character.
    let scroll = input.scroll(avail - 1);
    let text = clean_line(input.text()).into_owned();
    let total = text.width();
    let mut shown = super::slice_cols(&text, scroll, avail);
    if scroll > 0 {
        // Cut on the left: the first column says so.
        shown = format!("…{}", super::slice_cols(&text, scroll + 1, avail - 1));
    }
    if scroll + avail < total {
        let keep = super::slice_cols(&shown, 0, avail.saturating_sub(1));
        shown = format!("{keep}…");
    }
    // A value recorded before, offered whole, shows as selected: what typing replaces.
    let text = if input.held() {
        Span::styled(shown, theme.selection)
    } else {
        Span::raw(shown)
    };
    let line = Line::from(vec![Span::styled(lead, theme.prompt), text]);
    Paragraph::new(line).render(
        Rect {
            x,
            y,
            width,
            height: 1,
        },
        buf,
    );
    let col = input.cursor_column().saturating_sub(scroll);
    Position {
        x: x + (lead.width() + col).min(usize::from(width).saturating_sub(1)) as u16,
        y,
    }
}
