//! Arriving: what the terminal around drillbook can carry (notification channels, tmux and its
//! passthrough), detected once at start-up by the existing `notify::detect` code, and the one
//! line the screen shows when notifications may not reach the operator: no answered
//! notification preflight in this journal, or tmux passthrough off, each with its fix.
//!
//! [`Surroundings::detect`] does the I/O (environment, one bounded `tmux show` through tokio) and
//! runs as a task of the loop, after the first frame, its result coming back as
//! `Message::Arrived`; [`startup_line`] is pure, so it is tested without a terminal.

use crate::journal::Record;
use crate::notify::{Wrap, detect};
use crate::text::clean_line;
use std::time::Duration;

/// How long asking tmux for `allow-passthrough` may take at start-up.
pub const TMUX_TIMEOUT: Duration = Duration::from_millis(500);

/// What drillbook found around it at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surroundings {
    /// The channels `--notify` resolved to (`desktop`, `terminal`); empty with `--notify off`.
    pub channels: Vec<String>,
    /// How escape sequences must be wrapped to reach the terminal emulator.
    pub wrap: Wrap,
    /// tmux's `allow-passthrough` (`on`, `all`, `off`) when inside tmux; None when it could not
    /// be read (tmux older than 3.3, or no answer in time).
    pub passthrough: Option<String>,
}

impl Default for Surroundings {
    fn default() -> Self {
        Self {
            channels: Vec::new(),
            wrap: Wrap::None,
            passthrough: None,
        }
    }
}

impl Surroundings {
    /// Detect from this process's environment; `notify` is the `--notify` spec. Bounded: the
    /// only round trip is `tmux show -gv allow-passthrough`, under [`TMUX_TIMEOUT`].
    pub async fn detect(notify: &[String]) -> Self {
        Self::from_env(&detect::Env::from_process(), notify).await
    }

    /// The same from an environment already read (the one `--notify auto` was resolved with).
    pub async fn from_env(env: &detect::Env, notify: &[String]) -> Self {
        let env = env.clone();
        let channels = crate::notify::resolve(notify, &env)
            .unwrap_or_default()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let passthrough = if env.in_tmux() {
            detect::tmux_option("allow-passthrough", TMUX_TIMEOUT).await
        } else {
            None
        };
        Self {
            channels,
            wrap: Wrap::from_env(&env),
            passthrough,
        }
    }

    fn terminal_channel(&self) -> bool {
        self.channels.iter().any(|c| c == "terminal")
    }

    /// Inside tmux with passthrough known to be off: terminal notifications (and the OSC 52
    /// copy's passthrough) stop at tmux.
    pub fn passthrough_off(&self) -> bool {
        self.wrap == Wrap::Tmux && self.passthrough.as_deref() == Some("off")
    }
}

/// The start-up line, when there is something to fix: no answered notification preflight in
/// this journal (a real session's; `notify-test` refuses rehearsal journals, so a rehearsal is
/// never asked for one), or tmux passthrough off while the terminal channel is on. `roles` are
/// the loaded roles, for the command that fixes it.
pub fn startup_line(
    record: &Record,
    s: &Surroundings,
    rehearsal: bool,
    roles: &[String],
) -> Option<String> {
    if s.channels.is_empty() {
        return None;
    }
    let answered = record.notify_checks.iter().rev().find_map(|c| c.answer);
    let roles = clean_line(&roles.join(",")).into_owned();
    let preflight = if rehearsal {
        None
    } else {
        match answered {
            None => Some(format!(
                "no preflight answered in this journal (quit, then drillbook notify-test --role {roles})"
            )),
            Some(false) => Some(format!(
                "the last preflight did not reach you (drillbook notify-test --role {roles} prints the fix)"
            )),
            Some(true) => None,
        }
    };
    let tmux = (s.terminal_channel() && s.passthrough_off()).then_some(
        "tmux passthrough is off, terminal alerts stop at tmux (tmux set -g allow-passthrough on)",
    );
    match (preflight, tmux) {
        (None, None) => None,
        (Some(p), None) => Some(format!("Notifications: {p}")),
        (None, Some(t)) => Some(format!("Notifications: {t}")),
        (Some(p), Some(t)) => Some(format!("Notifications: {t}; {p}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::record::NotifyCheckEntry;
    use crate::journal::record::Stamp;

    fn check(answer: Option<bool>) -> NotifyCheckEntry {
        NotifyCheckEntry {
            channels: vec!["terminal".into()],
            detected: String::new(),
            answer,
            stamp: Stamp {
                seq: 1,
                at: chrono::DateTime::UNIX_EPOCH,
                operator: "o".into(),
                host: "h".into(),
            },
        }
    }

    fn terminal(wrap: Wrap, passthrough: Option<&str>) -> Surroundings {
        Surroundings {
            channels: vec!["terminal".into()],
            wrap,
            passthrough: passthrough.map(str::to_owned),
        }
    }

    #[test]
    fn no_answered_preflight_is_said_with_its_fix() {
        let roles = ["ep".to_owned(), "hsn".to_owned()];
        let mut r = Record::default();
        let s = terminal(Wrap::None, None);
        let line = startup_line(&r, &s, false, &roles).unwrap();
        assert!(line.contains("no preflight answered"), "{line}");
        assert!(
            line.contains("drillbook notify-test --role ep,hsn"),
            "{line}"
        );
        // Asked but not answered (no terminal to ask on) counts as not answered.
        r.notify_checks.push(check(None));
        assert!(startup_line(&r, &s, false, &roles).is_some());
        r.notify_checks.push(check(Some(false)));
        let line = startup_line(&r, &s, false, &roles).unwrap();
        assert!(line.contains("did not reach you"), "{line}");
        r.notify_checks.push(check(Some(true)));
        assert_eq!(startup_line(&r, &s, false, &roles), None);
        // A rehearsal journal never holds a preflight: not asked for.
        assert_eq!(startup_line(&Record::default(), &s, true, &roles), None);
        // --notify off: nothing to reach anyone.
        assert_eq!(
            startup_line(&Record::default(), &Surroundings::default(), false, &roles),
            None
        );
    }

    #[test]
    fn tmux_passthrough_off_is_said_with_its_fix() {
        let roles = ["ep".to_owned()];
        let mut answered = Record::default();
        answered.notify_checks.push(check(Some(true)));
        let off = terminal(Wrap::Tmux, Some("off"));
        let line = startup_line(&answered, &off, false, &roles).unwrap();
        assert!(line.contains("tmux set -g allow-passthrough on"), "{line}");
        assert!(!line.contains("preflight"), "{line}");
        assert_eq!(
            startup_line(&answered, &terminal(Wrap::Tmux, Some("on")), false, &roles),
            None
        );
        // Not read (older tmux): no claim either way.
        assert_eq!(
            startup_line(&answered, &terminal(Wrap::Tmux, None), false, &roles),
            None
        );
        // Both at once: one line.
        let line = startup_line(&Record::default(), &off, false, &roles).unwrap();
        assert!(line.contains("passthrough") && line.contains("preflight"));
        // Desktop only: tmux does not stand in the way.
        let desktop = Surroundings {
            channels: vec!["desktop".into()],
            ..off
        };
        assert_eq!(startup_line(&answered, &desktop, false, &roles), None);
    }
}
