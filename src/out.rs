//! The one way text leaves drillbook for stdout and stderr (everything outside ratatui's buffer
//! and the notification escape sequences drillbook means to send).
//!
//! Every byte passes [`crate::text::clean_block`]: newlines stay, tabs become spaces, and every
//! other control character, escape sequence or invisible formatting mark becomes a visible
//! stand-in, whatever runbook, journal or file name it came from. A closed pipe (`| head -1`)
//! ends the output quietly; a full disk (`> /dev/full`) is a clear error, never a panic.

use std::io::{ErrorKind, Write};

/// Why output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The reader went away (`| head -1`): stop quietly.
    #[error("the output was closed")]
    Closed,
    /// Any other failure (a full disk, an I/O error).
    #[error("drillbook: cannot write the output: {}", crate::files::io_words(.0))]
    Failed(std::io::Error),
}

impl From<std::io::Error> for OutputError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == ErrorKind::BrokenPipe {
            OutputError::Closed
        } else {
            OutputError::Failed(e)
        }
    }
}

/// A writer that neutralises what passes through it, a line at a time (a line is held until
/// its newline, or a flush, so a character or an escape sequence split between two writes is
/// still seen whole).
pub struct Clean<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> Clean<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self, upto: usize) -> std::io::Result<()> {
        let text = String::from_utf8_lossy(&self.pending[..upto]);
        let clean = crate::text::clean_block(&text);
        self.inner.write_all(clean.as_bytes())?;
        self.pending.drain(..upto);
        Ok(())
    }
}

impl<W: Write> Write for Clean<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(n) = self.pending.iter().rposition(|&b| b == b'\n') {
            self.emit(n + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            let n = self.pending.len();
            self.emit(n)?;
        }
        self.inner.flush()
    }
}

/// Standard output, neutralised. Write errors come back to the caller: map them with
/// `OutputError::from`.
pub fn stdout() -> Clean<std::io::StdoutLock<'static>> {
    Clean::new(std::io::stdout().lock())
}

/// Write `text` to stdout, neutralised, and flush.
pub fn print(text: &str) -> Result<(), OutputError> {
    let mut out = stdout();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Write `text` and a newline to stdout.
pub fn println(text: &str) -> Result<(), OutputError> {
    let mut out = stdout();
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Write `text` and a newline to stderr, neutralised. A stderr that cannot be written to has
/// nobody to tell, so failures are ignored.
pub fn eprintln(text: &str) {
    let mut err = Clean::new(std::io::stderr().lock());
    let _ = err
        .write_all(text.as_bytes())
        .and_then(|()| err.write_all(b"\n"))
        .and_then(|()| err.flush());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sequence_split_between_writes_is_still_neutralised() {
        let mut buf = Vec::new();
        {
            let mut c = Clean::new(&mut buf);
            c.write_all(b"title \x1b]0;PW").unwrap();
            c.write_all(b"N\x07 end\nnext \xe2\x80").unwrap();
            c.write_all(b"\x8f rlm\n").unwrap();
            c.flush().unwrap();
        }
        let s = String::from_utf8(buf).unwrap();
        assert_eq!(s, "title \u{241b}]0;PWN\u{2407} end\nnext \u{fffd} rlm\n");
    }
}
