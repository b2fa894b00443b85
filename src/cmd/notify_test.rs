//! `drillbook notify-test`: the preflight at the start of a shift. Sends a test notification on
//! each selected channel, reports what it detected, asks whether it appeared, records the answer
//! in the journal, and on "no" prints the fix for the setup it detected.

use super::{Failure, Outcome, load_selection};
use crate::alerts::Alert;
use crate::cli::Selection;
use crate::clock::{Clock, SystemClock};
use crate::journal::{self, Action, Journal, Meta};
use crate::notify::{self, Notifier, SendError, SendResult, detect};
use crate::text::clean_line;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

/// How long detection round trips (tmux, the bus) may take.
const DETECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one channel's test send may take (the desktop channel has its own 3 s inside).
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// The runbooks whose journal the answer goes into: as selected; else the roles a named journal
/// holds; else the operator is asked (a terminal), or told to name them. Never every role at
/// once: no normal run writes a journal of every role, so an answer there would reach nobody.
fn selection_for(select: &Selection, journal_path: Option<&Path>) -> Result<Selection, Failure> {
    if !select.role.is_empty() || !select.runbooks.is_empty() {
        return Ok(select.clone());
    }
    if let Some(p) = journal_path
        && std::fs::metadata(p).is_ok_and(|m| m.len() > 0)
    {
        let replay = super::from_journal::replay(p)?;
        let roles = super::from_journal::roles(&replay);
        if !roles.is_empty() {
            return Ok(Selection {
                role: roles,
                runbooks: vec![],
            });
        }
    }
    let usage = "notify-test records its answer in the journal of your role set: name it with \
                 --role (for example --role ep,hsn) or name an existing --journal";
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage(usage));
    }
    let mut out = crate::out::Clean::new(std::io::stdout());
    let _ = write!(
        out,
        "Which roles does this shift run ({}; a comma list, as for --role)? ",
        crate::runbook::bundled_roles().join(", ")
    );
    let _ = out.flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(n) if n > 0 && !line.trim().is_empty() => Ok(Selection {
            role: line
                .trim()
                .split(',')
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .collect(),
            runbooks: vec![],
        }),
        _ => Err(Failure::usage(usage)),
    }
}

pub fn run(spec: &[String], journal_path: Option<&Path>, select: &Selection) -> Outcome {
    let env = detect::Env::from_process();
    let names = notify::resolve(spec, &env).map_err(Failure::usage)?;
    let select = selection_for(select, journal_path)?;
    let plan = load_selection(&select)?;
    let meta = Meta::for_plan(&plan, None);
    let path = journal_path.map_or_else(
        || journal::default_path(&plan.session.id, &plan.roles(), None),
        Path::to_path_buf,
    );
    let (mut journal, replay) =
        Journal::open(&path, meta).map_err(|e| Failure::new(e.to_string()))?;
    if let Some(x) = &replay.exposure {
        crate::out::eprintln(x);
    }
    if let Some(f) = super::from_journal::role_mismatch(&path, &replay, &plan.roles()) {
        return Err(f);
    }
    if replay.is_rehearsal() {
        return Err(Failure::new(format!(
            "{}: a rehearsal journal; the preflight is recorded in the real record only",
            path.display()
        )));
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(format!("cannot start the async runtime: {e}")))?;
    let report = rt.block_on(detect::Report::detect(env.clone(), DETECT_TIMEOUT));

    // Not locked for the whole run: the terminal channel may write to stdout from the blocking pool.
    let mut out = crate::out::Clean::new(std::io::stdout());
    let _ = writeln!(out, "drillbook notification preflight\n\nDetected:");
    for l in report.lines() {
        let _ = writeln!(out, "  {l}");
    }
    let auto = spec
        .iter()
        .flat_map(|s| s.split(','))
        .any(|w| w.trim() == "auto");
    let _ = writeln!(
        out,
        "\nChannels: {}{}",
        if names.is_empty() {
            "none (--notify off): only the in-app banner".to_owned()
        } else {
            names.join(", ")
        },
        if auto {
            " (chosen by --notify auto)"
        } else {
            ""
        }
    );

    if names.is_empty() {
        // Nothing to test: nothing is sent and nobody is asked; the record says so, so a
        // handover never reads it as a path that works.
        journal
            .append(
                Action::NotifyCheck {
                    channels: Vec::new(),
                    detected: report.summary(),
                    answer: None,
                },
                &SystemClock,
            )
            .map_err(|e| {
                Failure::new(format!(
                    "{}: cannot record the preflight: {e}",
                    path.display()
                ))
            })?;
        let _ = writeln!(
            out,
            "Nothing sent, nothing asked: no channel to test.\nRecorded in {}: no channel tested.\n\
             To test one: drillbook notify-test --notify auto (or desktop, terminal) --role {}",
            path.display(),
            plan.roles().join(",")
        );
        return Ok(());
    }
    let channels = notify::channels_with(
        &names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
        None,
        &env,
    )
    .map_err(Failure::usage)?;
    let now = SystemClock.now();
    let alert = Alert {
        key: "notify-test".into(),
        title: "Test notification".into(),
        body: format!(
            "If you can read this, drillbook can reach you during {}.",
            plan.session.id
        ),
        due: now,
    };
    let mut sent_ok = Vec::new();
    for ch in &channels {
        let res = rt.block_on(send(ch.as_ref(), &alert));
        match &res {
            Ok(()) => {
                sent_ok.push(ch.channel());
                let _ = writeln!(out, "  {}: sent", ch.channel());
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "  {}: FAILED: {}",
                    ch.channel(),
                    clean_line(&e.to_string())
                );
            }
        }
    }
    let _ = out.flush();

    let answer = if channels.is_empty() {
        None
    } else if std::io::stdin().is_terminal() {
        ask(&mut out)
    } else {
        let _ = writeln!(
            out,
            "\nStandard input is not a terminal: not asking whether a notification appeared (recorded as unanswered). Run drillbook notify-test in your terminal to answer."
        );
        None
    };
    journal
        .append(
            Action::NotifyCheck {
                channels: names.iter().map(|s| (*s).to_owned()).collect(),
                detected: report.summary(),
                answer,
            },
            &SystemClock,
        )
        .map_err(|e| Failure::new(format!("{}: cannot record the answer: {e}", path.display())))?;
    let _ = writeln!(
        out,
        "Recorded in {}: answer {}.",
        path.display(),
        match answer {
            Some(true) => "yes",
            Some(false) => "no",
            None => "none",
        }
    );

    match answer {
        Some(false) => {
            let _ = writeln!(out, "\nHow to fix it for this setup:");
            for f in fixes(&report, &names) {
                let _ = writeln!(out, "\n{f}");
            }
            Err(Failure::new(""))
        }
        Some(true) => {
            let _ = writeln!(out, "Good: notifications reach you.");
            Ok(())
        }
        None => Ok(()),
    }
}

async fn send(ch: &dyn Notifier, alert: &Alert) -> SendResult {
    match tokio::time::timeout(SEND_TIMEOUT, ch.send(alert)).await {
        Ok(r) => r,
        Err(_) => Err(SendError::NoResult(SEND_TIMEOUT)),
    }
}

/// Ask until y or n (at most three times); `None` on end of input.
fn ask(out: &mut impl Write) -> Option<bool> {
    let stdin = std::io::stdin();
    for _ in 0..3 {
        let _ = write!(out, "\nDid a notification appear on your screen? [y/n] ");
        let _ = out.flush();
        let mut line = String::new();
        if stdin.lock().read_line(&mut line).ok()? == 0 {
            return None;
        }
        match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => return Some(true),
            "n" | "no" => return Some(false),
            _ => {}
        }
    }
    None
}

const EMULATORS: &str = "Your terminal emulator (on the laptop, at the end of the SSH connection) must raise notifications for one of:\n\
    OSC 777 (WezTerm, foot, Ghostty, VTE terminals built with the notify patch), OSC 9 (iTerm2, WezTerm, Ghostty, ConEmu) or OSC 99 (kitty).\n\
    iTerm2: Settings > Profiles > Terminal > enable \"Send escape sequence-generated alerts\".\n\
    Terminals that support none of them (macOS Terminal, PuTTY, xterm, most others) only ring the bell and change the window title:\n\
    switch to one of the above for the session, and keep the drillbook window visible.";

/// The fixes for the detected setup, most likely first.
pub fn fixes(report: &detect::Report, channels: &[&str]) -> Vec<String> {
    let env = &report.env;
    let mut out = Vec::new();
    let terminal = channels.contains(&"terminal");
    let desktop = channels.contains(&"desktop");
    if terminal && env.in_tmux() && !report.tmux_passes() {
        out.push(
            "tmux drops notification escape sequences unless passthrough is on (tmux 3.3 or later).\n\
             Add this line to ~/.tmux.conf:\n\
             \x20   set -g allow-passthrough on\n\
             then reload it:\n\
             \x20   tmux source-file ~/.tmux.conf\n\
             and run drillbook notify-test again."
                .to_owned(),
        );
    }
    if terminal && env.in_screen() {
        out.push(
            "GNU screen passes the sequences on in its own passthrough; if nothing appeared, the terminal emulator \
             outside screen does not raise them (see below). For the bell to reach it, add `vbell off` to ~/.screenrc \
             and reattach. Long notifications are truncated by screen; tmux with allow-passthrough on is more reliable."
                .to_owned(),
        );
    }
    if desktop {
        match (&env.dbus_address, env.bus_reachable, &report.daemon) {
            (None, ..) => out.push(
                "No D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set (usual over SSH, on a console, or under cron).\n\
                 Use the terminal channel: drillbook --notify terminal"
                    .to_owned(),
            ),
            (Some(_), false, _) => out.push(
                "DBUS_SESSION_BUS_ADDRESS is set but no bus answers there: it is stale (for example inherited by an old tmux server).\n\
                 In tmux, refresh it from the desktop session: eval \"export $(tmux show-environment DBUS_SESSION_BUS_ADDRESS)\"\n\
                 or use the terminal channel: drillbook --notify terminal"
                    .to_owned(),
            ),
            (_, true, detect::Daemon::Missing | detect::Daemon::Activatable) => out.push(
                "The session bus has no notification daemon (nothing owns org.freedesktop.Notifications).\n\
                 Start one (dunst, mako, xfce4-notifyd, or your desktop's own), or use the terminal channel: drillbook --notify terminal"
                    .to_owned(),
            ),
            (_, true, detect::Daemon::Running(_)) => out.push(
                "A notification daemon is running: check that the desktop is not in do-not-disturb mode and that it shows \
                 notifications from \"drillbook\"."
                    .to_owned(),
            ),
            _ => out.push(
                "The session bus did not answer in time: use the terminal channel: drillbook --notify terminal".to_owned(),
            ),
        }
    }
    if terminal {
        out.push(EMULATORS.to_owned());
    }
    if channels.is_empty() {
        out.push(
            "No channel was selected (--notify off): choose --notify auto, desktop or terminal."
                .to_owned(),
        );
    }
    out
}
