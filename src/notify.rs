//! Notification channels behind one `Notifier` interface: desktop (D-Bus), terminal (OSC escape
//! sequences that reach the engineer's laptop through SSH), and a recording one for tests.
//!
//! `--notify` names them: `auto`, `desktop`, `terminal`, `off`, or a comma list. `auto` picks
//! desktop when a session bus is reachable and terminal when over SSH or when there is no bus (see
//! [`detect`]). The in-app banner is not a channel: the TUI always shows it.

pub mod desktop;
pub mod detect;
pub mod recording;
pub mod terminal;

use crate::alerts::Alert;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use desktop::Desktop;
pub use recording::Recording;
pub use terminal::{SharedWriter, Terminal, Wrap};

pub use crate::alerts::{SendError, SendResult};

pub trait Notifier: Send + Sync {
    /// The channel's name as written in the journal: `desktop`, `terminal`, ...
    fn channel(&self) -> &'static str;
    /// Send one alert. Never called on the UI path: the caller spawns it under a timeout.
    fn send(&self, alert: &Alert) -> Pin<Box<dyn Future<Output = SendResult> + Send + 'static>>;
    /// For a channel whose alert is bytes for the terminal the app draws on: the bytes. The event
    /// loop writes them itself, between frames, instead of calling `send` (one writer to the
    /// terminal).
    fn sequences(&self, _alert: &Alert) -> Option<Vec<u8>> {
        None
    }
}

/// The channel names `--notify` accepts.
pub const CHANNEL_NAMES: &str = "auto, desktop, terminal or off";

/// Why a `--notify` spec was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error(
        "--notify: unknown channel `{}`: use {CHANNEL_NAMES} (a comma list is allowed)",
        crate::text::clean_line(.0)
    )]
    Unknown(String),
    #[error("--notify: `off` cannot be combined with other channels")]
    OffWithOthers,
}

/// The channels named by `--notify` (`auto`, `desktop`, `terminal`, `off`, or a comma list), with
/// the terminal channel writing to /dev/tty (else stdout) and detection from this process's
/// environment.
pub fn channels(spec: &[String]) -> Result<Vec<Arc<dyn Notifier>>, ChannelError> {
    channels_with(spec, None, &detect::Env::from_process())
}

/// [`channels`] with the terminal channel's writer given (the TUI passes the writer it draws
/// through, so that a notification never lands inside a half-written frame) and the environment
/// given.
pub fn channels_with(
    spec: &[String],
    writer: Option<&SharedWriter>,
    env: &detect::Env,
) -> Result<Vec<Arc<dyn Notifier>>, ChannelError> {
    let names = resolve(spec, env)?;
    let mut out: Vec<Arc<dyn Notifier>> = Vec::new();
    for name in names {
        match name {
            "desktop" => out.push(Arc::new(Desktop::new())),
            "terminal" => {
                let w = writer.map_or_else(terminal::default_writer, Arc::clone);
                out.push(Arc::new(Terminal::new(w, Wrap::from_env(env))));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The concrete channel names a `--notify` spec stands for, `auto` expanded, without duplicates.
pub fn resolve(spec: &[String], env: &detect::Env) -> Result<Vec<&'static str>, ChannelError> {
    let words: Vec<&str> = spec
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let words = if words.is_empty() {
        vec!["auto"]
    } else {
        words
    };
    let mut out: Vec<&'static str> = Vec::new();
    let mut push = |n: &'static str| {
        if !out.contains(&n) {
            out.push(n);
        }
    };
    let mut off = false;
    for w in &words {
        match w.to_ascii_lowercase().as_str() {
            "off" | "none" => off = true,
            "desktop" => push("desktop"),
            "terminal" => push("terminal"),
            "auto" => {
                for n in detect::auto_channels(env) {
                    push(n);
                }
            }
            _ => {
                return Err(ChannelError::Unknown((*w).to_owned()));
            }
        }
    }
    if off && !out.is_empty() {
        return Err(ChannelError::OffWithOthers);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(ssh: bool, bus: bool) -> detect::Env {
        detect::Env {
            ssh_connection: ssh.then(|| "10.0.0.1 5000 10.0.0.2 22".into()),
            dbus_address: None,
            bus_reachable: bus,
            ..detect::Env::default()
        }
    }

    #[test]
    fn auto_follows_the_bus_and_ssh() {
        let s = |x: &str| vec![x.to_owned()];
        assert_eq!(
            resolve(&s("auto"), &env(true, false)).unwrap(),
            ["terminal"]
        );
        assert_eq!(resolve(&s("auto"), &env(false, true)).unwrap(), ["desktop"]);
        assert_eq!(
            resolve(&s("auto"), &env(true, true)).unwrap(),
            ["desktop", "terminal"]
        );
        assert_eq!(
            resolve(&s("auto"), &env(false, false)).unwrap(),
            ["terminal"]
        );
        assert_eq!(resolve(&[], &env(false, true)).unwrap(), ["desktop"]);
        assert!(resolve(&s("off"), &env(false, true)).unwrap().is_empty());
        assert_eq!(
            resolve(&s("terminal,desktop,terminal"), &env(true, false)).unwrap(),
            ["terminal", "desktop"]
        );
        let e = resolve(&s("email"), &env(true, false))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown channel `email`"), "{e}");
        assert!(resolve(&s("off,terminal"), &env(true, false)).is_err());
    }
}
