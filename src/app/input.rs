//! A line being typed at a prompt: the text, the cursor, and the refusal shown beside it.
//!
//! The editing itself (a cursor that moves by grapheme and word, Home/End, Ctrl-W, Ctrl-U, the
//! scroll that keeps the cursor in view) is `tui-input`'s, fed crossterm keys. Typed text is
//! untrusted like any other: no control character gets in. A prompt holds at most
//! [`MAX_CHARS`] characters: `tui-input` recounts its whole text on every edit, so a line
//! without a bound would cost each key (or each character of a paste read as keys) more than
//! the last, and a note is a note, not a log file.

use super::Prompt;
use crossterm::event::{Event as TermEvent, KeyEvent};
use tui_input::InputRequest;

/// The most characters a prompt holds: a note of a few KiB, more than any note, reason or
/// evidence value needs, and cheap to edit on a shared host.
pub const MAX_CHARS: usize = 4000;

/// What a paste did: how many line breaks it joined with spaces, how many control characters
/// it made visible, how many characters it left out because the prompt was full.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pasted {
    pub joined: usize,
    pub shown: usize,
    pub cut: usize,
}

/// A prompt and what is typed at it.
#[derive(Debug, Clone)]
pub struct Input {
    pub prompt: Prompt,
    line: tui_input::Input,
    /// Why the last Enter was refused (an empty note, a secret, a time that cannot be), shown
    /// beside the prompt until the text changes.
    pub error: Option<String>,
    /// Pasted characters left out because the prompt was full: said again once it is recorded.
    pub cut: usize,
    /// Pasted line breaks joined with spaces: said again once it is recorded.
    pub joined: usize,
    /// The text is a value recorded before, offered whole, as a selection is: the first
    /// character typed (or a paste) replaces it, Backspace or Delete clears it, and a cursor
    /// key lets it go to edit it in place (walk 3 R8: `no` typed after `maybe` recorded
    /// `maybeno`).
    held: bool,
}

impl PartialEq for Input {
    fn eq(&self, other: &Self) -> bool {
        self.prompt == other.prompt
            && self.text() == other.text()
            && self.cursor() == other.cursor()
            && self.error == other.error
            && self.held == other.held
    }
}

impl Input {
    /// A prompt with `text` typed already, the cursor at its end.
    pub fn new(prompt: Prompt, text: &str) -> Self {
        let clean: String = text
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_CHARS)
            .collect();
        Self {
            prompt,
            line: tui_input::Input::new(clean),
            error: None,
            cut: 0,
            joined: 0,
            held: false,
        }
    }

    /// A prompt over a value recorded before: offered whole, replaced by what is typed, or
    /// edited once a cursor key lets it go (see `held`).
    pub fn editing(prompt: Prompt, old: &str) -> Self {
        let mut i = Self::new(prompt, old);
        i.held = !i.text().is_empty();
        i
    }

    /// The text is the value recorded before, whole, and typing replaces it.
    pub fn held(&self) -> bool {
        self.held
    }

    /// Let go of a held value: gone (`clear`), or kept to edit.
    fn release(&mut self, clear: bool) {
        if self.held && clear {
            self.line = tui_input::Input::default();
        }
        self.held = false;
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

    /// Pasted text inserted at the cursor, on one line, as one edit (linear in the paste's
    /// length, whatever its length): line breaks become spaces (a trailing one is dropped),
    /// every other control character its visible stand-in ([`crate::text::clean_line`]); what
    /// does not fit in [`MAX_CHARS`] is left out.
    pub fn paste(&mut self, text: &str) -> Pasted {
        // Pasted over a held value: it replaces it, as typing does.
        self.release(!text.is_empty());
        let one_line = text.trim_end_matches(['\r', '\n']).replace("\r\n", " ");
        let joined = one_line.matches(['\r', '\n']).count();
        let one_line = one_line.replace(['\r', '\n'], " ");
        // The neutraliser maps each character to one: count the ones it changed.
        let shown_text = crate::text::clean_line(&one_line);
        let room = MAX_CHARS.saturating_sub(self.line.value().chars().count());
        let mut out = Pasted {
            joined,
            ..Pasted::default()
        };
        let mut kept = String::with_capacity(shown_text.len().min(room * 4));
        let mut n = 0;
        for (a, b) in one_line.chars().zip(shown_text.chars()) {
            if n == room {
                out.cut += 1;
                continue;
            }
            if a != b {
                out.shown += 1;
            }
            kept.push(b);
            n += 1;
        }
        let cursor = self.line.cursor();
        let value = self.line.value();
        let at = value
            .char_indices()
            .nth(cursor)
            .map_or(value.len(), |(i, _)| i);
        let joined = format!("{}{kept}{}", &value[..at], &value[at..]);
        self.line = tui_input::Input::new(joined).with_cursor(cursor + n);
        self.cut += out.cut;
        self.joined += out.joined;
        if !text.is_empty() {
            self.error = None;
        }
        out
    }

    /// An editing key; whether it changed anything. A change clears the refusal shown.
    pub fn key(&mut self, k: KeyEvent) -> bool {
        let Some(req) = tui_input::backend::crossterm::to_input_request(&TermEvent::Key(k)) else {
            return false;
        };
        if self.held {
            match req {
                InputRequest::InsertChar(c) if c.is_control() => return false,
                // Moving keeps the value to edit; anything else that edits replaces it whole:
                // a character typed, a word or the line deleted.
                InputRequest::SetCursor(_)
                | InputRequest::GoToPrevChar
                | InputRequest::GoToNextChar
                | InputRequest::GoToPrevWord
                | InputRequest::GoToNextWord
                | InputRequest::GoToStart
                | InputRequest::GoToEnd => self.release(false),
                InputRequest::InsertChar(_) | InputRequest::Yank => self.release(true),
                _ => {
                    self.release(true);
                    self.error = None;
                    return true;
                }
            }
        }
        if let InputRequest::InsertChar(c) = req {
            if c.is_control() {
                return false;
            }
            if self.line.value().chars().count() >= MAX_CHARS {
                self.error = Some(full());
                return true;
            }
        }
        let before = self.line.cursor();
        let changed = self.line.handle(req).is_some_and(|s| s.value);
        if changed {
            self.error = None;
        }
        changed || self.line.cursor() != before
    }
}

/// What a full prompt says.
pub fn full() -> String {
    format!("the prompt holds at most {MAX_CHARS} characters: the rest was not taken")
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
    fn a_paste_is_one_edit_at_the_cursor_and_stops_at_the_limit() {
        let mut i = Input::new(Prompt::SessionNote, "ab");
        i.key(k(KeyCode::Left));
        let p = i.paste("x\ny\u{7}");
        assert_eq!(i.text(), "ax y␇b");
        assert_eq!(i.cursor(), 5, "the cursor after what was pasted");
        assert_eq!(
            p,
            Pasted {
                joined: 1,
                shown: 1,
                cut: 0
            }
        );
        // 100 000 characters: only what fits is taken, and the rest is counted.
        let p = i.paste(&"A".repeat(100_000));
        assert_eq!(i.text().chars().count(), MAX_CHARS);
        assert_eq!(p.cut, 100_000 - (MAX_CHARS - 6));
        assert!(
            i.text().ends_with("AAAb"),
            "the text after the cursor is kept"
        );
        // Full: a typed character is not taken either, and the prompt says why.
        assert!(i.key(k(KeyCode::Char('z'))));
        assert_eq!(i.text().chars().count(), MAX_CHARS);
        assert!(!i.text().contains('z'));
        assert_eq!(i.error.as_deref(), Some(full().as_str()));
    }

    /// walk 3 R8: `e` on a field holding `maybe`, then `no`, recorded `maybeno`. A value
    /// recorded before is offered whole: typing replaces it, Backspace clears it, a cursor key
    /// keeps it to edit.
    #[test]
    fn a_value_recorded_before_is_replaced_by_typing_or_edited_after_a_cursor_key() {
        let typed = |i: &mut Input, t: &str| {
            for c in t.chars() {
                i.key(k(KeyCode::Char(c)));
            }
        };
        let mut i = Input::editing(Prompt::SessionNote, "maybe");
        assert!(i.held());
        assert_eq!((i.text(), i.cursor()), ("maybe", 5));
        typed(&mut i, "no");
        assert_eq!(i.text(), "no");
        assert!(!i.held());

        let mut i = Input::editing(Prompt::SessionNote, "maybe");
        i.key(k(KeyCode::Backspace));
        assert_eq!(
            i.text(),
            "",
            "Backspace takes the whole value, as on a selection"
        );
        typed(&mut i, "yes");
        assert_eq!(i.text(), "yes");

        let mut i = Input::editing(Prompt::SessionNote, "10:00:41 Logout");
        i.key(k(KeyCode::End));
        assert!(!i.held());
        typed(&mut i, " (seq 12)");
        assert_eq!(i.text(), "10:00:41 Logout (seq 12)");
        let mut i = Input::editing(Prompt::SessionNote, "ab");
        i.key(k(KeyCode::Left));
        i.key(k(KeyCode::Backspace));
        assert_eq!(i.text(), "b", "once let go, keys edit as usual");

        let mut i = Input::editing(Prompt::SessionNote, "old");
        i.paste("new");
        assert_eq!(i.text(), "new", "a paste replaces it too");
        assert!(!Input::editing(Prompt::SessionNote, "").held());
        assert!(!Input::new(Prompt::SessionNote, "11:08:05 ").held());
    }

    #[test]
    fn the_scroll_keeps_the_cursor_in_view() {
        let i = Input::new(Prompt::SessionNote, &"x".repeat(100));
        let s = i.scroll(40);
        assert!(i.cursor_column() - s <= 40);
        assert!(s > 0);
    }
}
