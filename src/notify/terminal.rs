//! The terminal channel: escape sequences that make the terminal emulator on the engineer's
//! laptop raise a notification, through SSH and through tmux or screen.
//!
//! Sent, in order: OSC 777 `notify` (WezTerm, foot, Ghostty, VTE with the notify patch), OSC 9
//! (iTerm2, WezTerm, Ghostty, ConEmu), OSC 99 (kitty), a window-title change, and BEL. An emulator
//! that understands more than one of them may show the notification twice; one that understands
//! none still shows the title and rings the bell. Every OSC ends with BEL rather than ST, because
//! screen's DCS passthrough ends at the first ST.
//!
//! Inside tmux the three notification sequences go in tmux's DCS passthrough
//! (`ESC P tmux; ... ESC \`, each inner ESC doubled), which tmux forwards only with
//! `allow-passthrough on`; the title and BEL go to tmux itself, which understands them (a bell
//! flag on the window, the pane title) whatever the passthrough setting. Under GNU screen each
//! notification sequence goes in screen's own DCS (`ESC P ... ESC \`).
//!
//! Untrusted text (titles and bodies come from runbooks) goes through
//! [`text::strip_controls`](crate::text::strip_controls): no control character, no `;`, reaches
//! the terminal. Lengths are capped (screen truncates long strings).
//!
//! Not blocking the UI: the bytes are built up front and written by one `write_all` + `flush` on
//! tokio's blocking pool (`spawn_blocking`), so a stalled terminal (SSH flow control, a frozen
//! tmux client) parks a pool thread, never the event loop; the caller's timeout then reports
//! the send as failed. The writer is shared behind a mutex: the TUI passes the one it draws
//! through, so a notification is never written into the middle of a frame.

use super::{Notifier, SendError, SendResult, detect::Env};
use crate::alerts::Alert;
use crate::text::{ellipsize, strip_controls};
use std::fs::OpenOptions;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

/// A writer shared between the UI and this channel.
pub type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;

/// How sequences are wrapped for a multiplexer between us and the terminal emulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    None,
    Tmux,
    Screen,
}

impl Wrap {
    /// tmux when `$TMUX` is set; screen when `$STY` is set or TERM is `screen*` (and not tmux).
    pub fn from_env(env: &Env) -> Self {
        if env.in_tmux() {
            Wrap::Tmux
        } else if env.in_screen() {
            Wrap::Screen
        } else {
            Wrap::None
        }
    }

    /// `seq` as the multiplexer needs it to pass it on to the terminal emulator (also used for the
    /// OSC 52 copy, `app::clip`).
    pub(crate) fn wrap(self, seq: &str, out: &mut Vec<u8>) {
        match self {
            Wrap::None => out.extend_from_slice(seq.as_bytes()),
            Wrap::Tmux => {
                out.extend_from_slice(b"\x1bPtmux;");
                for b in seq.bytes() {
                    if b == 0x1b {
                        out.push(0x1b);
                    }
                    out.push(b);
                }
                out.extend_from_slice(b"\x1b\\");
            }
            Wrap::Screen => {
                out.extend_from_slice(b"\x1bP");
                out.extend_from_slice(seq.as_bytes());
                out.extend_from_slice(b"\x1b\\");
            }
        }
    }
}

/// Longest title and body sent (characters); screen's string buffer is small.
const TITLE_MAX: usize = 100;
const BODY_MAX: usize = 300;

/// The bytes that raise `alert` on a terminal behind `wrap`.
pub fn sequences(alert: &Alert, wrap: Wrap) -> Vec<u8> {
    let title = ellipsize(&strip_controls(&alert.title), TITLE_MAX);
    let body = ellipsize(&strip_controls(&alert.body), BODY_MAX);
    // kitty's identifier: letters, digits and `-_+.` only.
    let id: String = alert
        .key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_+.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut out = Vec::with_capacity(4 * (title.len() + body.len()) + 128);
    for seq in [
        format!("\x1b]777;notify;{title};{body}\x07"),
        format!("\x1b]9;{title}: {body}\x07"),
        format!("\x1b]99;i={id}:d=0;{title}\x07"),
        format!("\x1b]99;i={id}:d=1:p=body;{body}\x07"),
    ] {
        wrap.wrap(&seq, &mut out);
    }
    out.extend_from_slice(format!("\x1b]2;drillbook: {title}\x07").as_bytes());
    out.push(0x07);
    out
}

/// The default writer: the controlling terminal, else standard output.
pub fn default_writer() -> SharedWriter {
    let w: Box<dyn Write + Send> = match OpenOptions::new().write(true).open("/dev/tty") {
        Ok(f) => Box::new(f),
        Err(_) => Box::new(std::io::stdout()),
    };
    Arc::new(Mutex::new(w))
}

pub struct Terminal {
    out: SharedWriter,
    wrap: Wrap,
}

impl Terminal {
    pub fn new(out: SharedWriter, wrap: Wrap) -> Self {
        Self { out, wrap }
    }

    pub fn wrap(&self) -> Wrap {
        self.wrap
    }
}

impl Notifier for Terminal {
    fn channel(&self) -> &'static str {
        "terminal"
    }

    fn sequences(&self, alert: &Alert) -> Option<Vec<u8>> {
        Some(sequences(alert, self.wrap))
    }

    /// Writes the sequences through its own writer: for `notify-test`, which draws no frames.
    fn send(&self, alert: &Alert) -> Pin<Box<dyn Future<Output = SendResult> + Send + 'static>> {
        let bytes = sequences(alert, self.wrap);
        let out = Arc::clone(&self.out);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut w = out
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                w.write_all(&bytes)?;
                w.flush()
            })
            .await
            .map_err(SendError::WriterTask)?
            .map_err(SendError::Terminal)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> Alert {
        Alert {
            key: "failover.end@-5m".into(),
            title: "In 5 min: Failover ends".into(),
            body: "At 11:00 HKT.".into(),
            due: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn plain_sequences() {
        let s = String::from_utf8(sequences(&alert(), Wrap::None)).unwrap();
        assert_eq!(
            s,
            "\x1b]777;notify;In 5 min: Failover ends;At 11:00 HKT.\x07\
             \x1b]9;In 5 min: Failover ends: At 11:00 HKT.\x07\
             \x1b]99;i=failover.end_-5m:d=0;In 5 min: Failover ends\x07\
             \x1b]99;i=failover.end_-5m:d=1:p=body;At 11:00 HKT.\x07\
             \x1b]2;drillbook: In 5 min: Failover ends\x07\x07"
        );
    }
}
