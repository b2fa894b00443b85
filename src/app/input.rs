//! A line being typed at a prompt: the text, the cursor, and the refusal shown beside it.
//!
//! The editing itself (a cursor that moves by grapheme and word, Home/End, Ctrl-W, Ctrl-U, the
//! scroll that keeps the cursor in view) is `tui-input`'s, fed crossterm keys. Typed text is
//! untrusted like any other: no control character gets in.

use super::Prompt;
use crossterm::event::{Event as TermEvent, KeyEvent};
use tui_input::InputRequest;

/// A prompt and what is typed at it.
#[derive(Debug, Clone)]
pub struct Input {
    pub prompt: Prompt,
    line: tui_input::Input,
    /// Why the last Enter was refused (an empty note, a secret, a time that cannot be), shown
    /// beside the prompt until the text changes.
    pub error: Option<String>,
}

impl PartialEq for Input {
    fn eq(&self, other: &Self) -> bool {
        self.prompt == other.prompt
            && self.text() == other.text()
            && self.cursor() == other.cursor()
            && self.error == other.error
    }
}

impl Input {
    /// A prompt with `text` typed already, the cursor at its end.
    pub fn new(prompt: Prompt, text: &str) -> Self {
        let clean: String = text.chars().filter(|c| !c.is_control()).collect();
        Self {
            prompt,
            line: tui_input::Input::new(clean),
            error: None,
        }
    }

    pub fn text(&self) -> &str {
        self.line.value()
    }

    /// The cursor, in characters from the start.
    pub fn cursor(&self) -> usize {
        self.line.cursor()
    }

    /// The cursor, in terminal columns from the start.
    pub fn cursor_column(&self) -> usize {
        self.line.visual_cursor()
    }

    /// The columns scrolled off the left so that the cursor shows in `width` columns.
    pub fn scroll(&self, width: usize) -> usize {
        self.line.visual_scroll(width)
    }

    /// Pasted text inserted at the cursor, on one line: line breaks become spaces (a trailing
    /// one is dropped), every other control character its visible stand-in
    /// ([`crate::text::clean_line`]). Returns how many were made visible.
    pub fn paste(&mut self, text: &str) -> usize {
        let one_line = text.trim_end_matches(['\r', '\n']).replace("\r\n", " ");
        let one_line = one_line.replace(['\r', '\n'], " ");
        // The neutraliser maps each character to one: count the ones it changed.
        let shown_text = crate::text::clean_line(&one_line);
        let shown = one_line
            .chars()
            .zip(shown_text.chars())
            .filter(|(a, b)| a != b)
            .count();
        for c in shown_text.chars() {
            self.line.handle(InputRequest::InsertChar(c));
        }
        if !text.is_empty() {
            self.error = None;
        }
        shown
    }

    /// An editing key; whether it changed anything. A change clears the refusal shown.
    pub fn key(&mut self, k: KeyEvent) -> bool {
        let Some(req) = tui_input::backend::crossterm::to_input_request(&TermEvent::Key(k)) else {
            return false;
        };
        if let InputRequest::InsertChar(c) = req
            && c.is_control()
        {
            return false;
        }
        let before = self.line.cursor();
        let changed = self.line.handle(req).is_some_and(|s| s.value);
        if changed {
            self.error = None;
        }
        changed || self.line.cursor() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::from(code)
    }

    #[test]
    fn typing_moving_and_deleting_and_no_control_characters() {
        let mut i = Input::new(Prompt::SessionNote, "11:08:05 ");
        assert_eq!(i.cursor(), 9);
        for c in "note".chars() {
            i.key(k(KeyCode::Char(c)));
        }
        assert_eq!(i.text(), "11:08:05 note");
        i.key(k(KeyCode::Home));
        i.key(k(KeyCode::Delete));
        i.key(k(KeyCode::Char('2')));
        assert_eq!(i.text(), "21:08:05 note");
        i.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(i.text(), "", "Ctrl-U clears the line");
        i.key(k(KeyCode::Char('\u{1b}')));
        assert_eq!(i.text(), "", "no escape character gets in");
        let j = Input::new(Prompt::SessionNote, "a\u{7}b");
        assert_eq!(j.text(), "ab");
    }

    #[test]
    fn an_edit_clears_the_refusal_shown() {
        let mut i = Input::new(Prompt::SessionNote, "");
        i.error = Some("a note cannot be empty".into());
        i.key(k(KeyCode::Left));
        assert!(i.error.is_some(), "moving changes nothing");
        i.key(k(KeyCode::Char('x')));
        assert!(i.error.is_none());
    }

    #[test]
    fn the_scroll_keeps_the_cursor_in_view() {
        let i = Input::new(Prompt::SessionNote, &"x".repeat(100));
        let s = i.scroll(40);
        assert!(i.cursor_column() - s <= 40);
        assert!(s > 0);
    }
}
