//! The desktop channel: a freedesktop notification over the D-Bus session bus (notify-rust on
//! zbus, driven by tokio).
//!
//! Only the async path is used (`Notification::show_async`): the blocking `show()` would park the
//! runtime's thread. Every send runs under its own timeout ([`DEFAULT_TIMEOUT`]) because a bus
//! with no notification daemon but an activatable one can leave the call unanswered for the
//! bus's whole activation timeout (25 s by default), and zbus itself sets no method timeout.

use super::{Notifier, SendError, SendResult};
use crate::alerts::Alert;
use crate::text::clean_line;
use notify_rust::{Notification, Timeout};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// How long one desktop notification may take before it counts as failed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// The application name notification daemons show.
pub const APP_NAME: &str = "drillbook";

#[derive(Debug, Clone)]
pub struct Desktop {
    timeout: Duration,
}

impl Default for Desktop {
    fn default() -> Self {
        Self::new()
    }
}

impl Desktop {
    pub fn new() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn with_timeout(timeout: Duration) -> Self {
        Self { timeout }
    }
}

/// Body text for a daemon that may read it as markup: controls made visible, `&<>` escaped.
fn body_text(s: &str) -> String {
    clean_line(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Sort a zbus/notify-rust error (known only by its words) into the failure the status bar and
/// journal describe.
fn describe(e: notify_rust::error::Error) -> SendError {
    let m = e.to_string();
    if m.contains("DBUS_SESSION_BUS_ADDRESS") || m.contains("No such file") {
        SendError::NoBus(e)
    } else if m.contains("ServiceUnknown") || m.contains("was not provided by any .service") {
        SendError::NoDaemon
    } else {
        SendError::Desktop(e)
    }
}

impl Notifier for Desktop {
    fn channel(&self) -> &'static str {
        "desktop"
    }

    fn send(&self, alert: &Alert) -> Pin<Box<dyn Future<Output = SendResult> + Send + 'static>> {
        let mut n = Notification::new();
        n.appname(APP_NAME)
            .summary(&clean_line(&alert.title))
            .body(&body_text(&alert.body))
            .timeout(Timeout::Default);
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, n.show_async()).await {
                Ok(Ok(_handle)) => Ok(()),
                Ok(Err(e)) => Err(describe(e)),
                Err(_) => Err(SendError::DesktopSilent(timeout)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_is_escaped() {
        assert_eq!(super::body_text("a<b>&\u{1b}"), "a&lt;b&gt;&amp;\u{241b}");
    }
}
