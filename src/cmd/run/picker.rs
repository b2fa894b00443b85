//! The bare `drillbook` picker: the bundled roles with their runbook titles, checkboxes, Space
//! toggles, Enter starts, q quits. Blocking reads are fine here: nothing else runs yet.

use crate::runbook;
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

/// The roles chosen, or None when the user quit.
pub fn pick() -> std::io::Result<Option<Vec<String>>> {
    let plan = runbook::load_bundled(&runbook::bundled_roles())
        .map_err(|p| std::io::Error::other(p.to_string()))?;
    let items: Vec<(String, String)> = plan
        .runbooks
        .iter()
        .map(|r| {
            (
                r.role.clone(),
                crate::text::clean_line(&r.title).into_owned(),
            )
        })
        .collect();
    let mut on = vec![false; items.len()];
    let mut sel = 0usize;
    let mut note = String::new();
    let mut terminal = ratatui::try_init()?;
    // Restored however the picker ends: a choice, a quit, or an error from a draw or a read.
    let _restore = Restore;
    let result = loop {
        terminal.draw(|f| {
            let a = f.area();
            let mut lines = vec![
                Line::styled(
                    crate::text::clean_line(&plan.session.title).into_owned(),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Line::raw("Which runbooks? Space toggles, Enter starts, q quits."),
                Line::raw(""),
            ];
            for (i, (role, title)) in items.iter().enumerate() {
                let mark = if on[i] { "[x]" } else { "[ ]" };
                let cur = if i == sel { "▸" } else { " " };
                let l = Line::raw(format!("{cur} {mark} {role:<5} {title}"));
                lines.push(if i == sel {
                    l.style(Style::new().add_modifier(Modifier::REVERSED))
                } else {
                    l
                });
            }
            lines.push(Line::raw(""));
            lines.push(Line::raw(note.clone()));
            f.render_widget(
                Paragraph::new(lines).wrap(Wrap { trim: false }),
                Rect {
                    x: a.x + 1,
                    width: a.width.saturating_sub(2),
                    ..a
                },
            );
        })?;
        let Event::Key(k) = event::read()? else {
            continue;
        };
        if k.kind == KeyEventKind::Release {
            continue;
        }
        match k.code {
            KeyCode::Char('q') | KeyCode::Esc => break None,
            KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => break None,
            KeyCode::Down | KeyCode::Char('j') => {
                sel = (sel + 1).min(items.len().saturating_sub(1));
            }
            KeyCode::Up | KeyCode::Char('k') => sel = sel.saturating_sub(1),
            KeyCode::Char(' ') => on[sel] = !on[sel],
            KeyCode::Enter => {
                let chosen: Vec<String> = items
                    .iter()
                    .zip(&on)
                    .filter(|(_, o)| **o)
                    .map(|((r, _), _)| r.clone())
                    .collect();
                if chosen.is_empty() {
                    note = "Pick at least one with Space.".into();
                } else {
                    break Some(chosen);
                }
            }
            _ => {}
        }
    };
    Ok(result)
}

/// Gives the terminal back when dropped.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
    }
}
