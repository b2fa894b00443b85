//! Notification channels behind one `Notifier` interface: desktop (D-Bus), terminal (OSC escape
//! sequences that reach the engineer's laptop through SSH), and a recording one for tests.
//! (Interface fixed for the TUI; the channels are filled in by the notifications work.)

use crate::alerts::Alert;
use std::future::Future;
use std::pin::Pin;

/// The result of one send: `Err` carries a short message for the status bar and the journal.
pub type SendResult = Result<(), String>;

pub trait Notifier: Send + Sync {
    /// The channel's name as written in the journal: `desktop`, `terminal`, ...
    fn channel(&self) -> &'static str;
    /// Send one alert. Never called on the UI path: the caller spawns it under a timeout.
    fn send(&self, alert: &Alert) -> Pin<Box<dyn Future<Output = SendResult> + Send + 'static>>;
}

/// The channels named by `--notify` (`auto`, `desktop`, `terminal`, `off`, or a comma list).
/// NOTE: the channels are being written in the notifications work (issue 5); until then none.
pub fn channels(_spec: &[String]) -> Result<Vec<std::sync::Arc<dyn Notifier>>, String> {
    Ok(Vec::new())
}
