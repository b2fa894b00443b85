//! The app's frontend: frames drawn by ratatui, and the terminal notification sequences written
//! by the same thread into the same output between frames, so an OSC sequence can never land
//! inside a frame's CSI sequence. Ctrl-Z and SIGTSTP give the terminal back and stop; SIGCONT takes
//! it back and redraws every cell.

use super::{Frontend, Happened};
use crate::alerts::SendError;
use crate::app::Model;
use crate::theme::Theme;
use chrono::{DateTime, Utc};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::io::Write;

/// A ratatui terminal and the raw writer under it (stdout for the app, a buffer in tests).
pub struct Screen<'a, B: Backend> {
    pub terminal: &'a mut Terminal<B>,
    pub theme: Theme,
    /// The bytes the backend draws into, for notification sequences between frames.
    pub raw: Box<dyn Write + 'a>,
    /// Whether stopping gives the terminal back to a shell (false on a test backend).
    pub job_control: bool,
}

// The backend's error is carried whole inside an io::Error (crossterm's already is one).
impl<B: Backend> Frontend for Screen<'_, B>
where
    B::Error: Send + Sync + 'static,
{
    fn frame(&mut self, model: &Model, now: DateTime<Utc>) -> std::io::Result<()> {
        let theme = &self.theme;
        self.terminal
            .draw(|f| crate::view::view(f, model, theme, now))
            .map(|_| ())
            .map_err(std::io::Error::other)
    }

    fn shows_seconds(&self) -> bool {
        true
    }

    fn happened(&mut self, _: &Model, _: DateTime<Utc>, _: Happened<'_>) {}

    fn terminal_bytes(&mut self, bytes: &[u8]) -> Result<(), SendError> {
        self.raw.write_all(bytes)?;
        Ok(self.raw.flush()?)
    }

    fn suspend(&mut self) {
        if !self.job_control {
            return;
        }
        let _ = self.terminal.show_cursor();
        let _ = crossterm::execute!(self.raw, crossterm::event::DisableBracketedPaste);
        let _ = ratatui::try_restore();
        // SAFETY: raising a signal on this process; no memory is involved. SIGSTOP cannot be
        // caught, so this returns only after a SIGCONT (`fg`).
        unsafe {
            libc::raise(libc::SIGSTOP);
        }
        self.resume();
    }

    /// After a stop, whoever stopped us: raw mode and the alternate screen again (the shell set
    /// the terminal back to cooked mode, and crossterm may still believe it is raw, hence off
    /// first), and every cell drawn anew on the next frame.
    fn resume(&mut self) {
        if !self.job_control {
            return;
        }
        let _ = crossterm::terminal::disable_raw_mode();
        let _ = crossterm::terminal::enable_raw_mode();
        let _ = crossterm::execute!(
            self.raw,
            crossterm::terminal::EnterAlternateScreen,
            crossterm::event::EnableBracketedPaste
        );
        // Not `Terminal::clear`: it first asks the terminal where the cursor is, the event
        // reader's thread can take the answer, and it then fails before resetting anything (a
        // blank screen that only the changing cells come back to). An empty frame makes the diff
        // base blank; the wipe makes the screen match it; the next frame draws every cell.
        let _ = self.terminal.draw(|_| {});
        let _ = self.terminal.backend_mut().clear();
    }
}
