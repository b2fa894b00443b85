//! `drillbook notify-test` run as a new user would: over SSH with no bus, and inside a real tmux
//! server with allow-passthrough off and on. Checks what it prints and what it records.

#[path = "support/bus.rs"]
mod bus;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_drillbook");

fn last_check(journal: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(journal).unwrap();
    let line = text.lines().last().unwrap();
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["kind"], "notify_check", "{line}");
    v
}

#[test]
fn over_ssh_without_a_bus_it_uses_the_terminal_and_does_not_ask_without_a_tty() {
    let state = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["notify-test", "--role", "ep"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", state.path())
        .env("XDG_STATE_HOME", state.path())
        .env("SSH_CONNECTION", "203.0.113.5 51022 10.1.2.3 22")
        .env("TERM", "xterm-256color")
        .env("USER", "alice")
        .stdin(Stdio::null());
    // SAFETY: setsid in the child before exec: no controlling terminal, so the terminal channel
    // falls back to standard output, where the test can see it.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "SSH session:      yes (SSH_CONNECTION is set)",
        "tmux:             no",
        "D-Bus session bus: none (DBUS_SESSION_BUS_ADDRESS is not set)",
        "Notification daemon: not checked (no bus)",
        "Channels: terminal (chosen by --notify auto)",
        "terminal: sent",
        "Standard input is not a terminal: not asking whether a notification appeared",
        "answer none",
        "\x1b]777;notify;Test notification;",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in:\n{stdout}");
    }
    assert!(!stdout.contains("Did a notification appear"), "{stdout}");
    let v = last_check(&state.path().join("drillbook/hkex-ps2-2023-11-25--ep.jsonl"));
    assert_eq!(v["answer"], serde_json::Value::Null);
    assert_eq!(v["channels"], serde_json::json!(["terminal"]));
    assert_eq!(
        v["detected"],
        "ssh=yes tmux=no screen=no bus=none daemon=n/a"
    );
    assert_eq!(v["operator"], "alice");
}

/// A private tmux server, killed when dropped.
struct Tmux {
    name: String,
}

impl Tmux {
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.name, "-f", "/dev/null"]);
        c
    }
    fn run(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-J", "-t", "t", "-S", "-200"])
    }
    /// Wait (bounded) until the pane shows `text`.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {text:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

/// Run notify-test in a window of a private tmux server with `allow-passthrough` set to `pass`,
/// answer `answer`, and return the final screen and the journal's last check.
fn in_tmux(pass: &str, answer: &str) -> Option<(String, serde_json::Value)> {
    if !bus::have("tmux") {
        eprintln!("SKIPPED: tmux is not installed (.ci/run installs it)");
        return None;
    }
    let state = tempfile::tempdir().unwrap();
    let journal = state.path().join("j.jsonl");
    let tmux = Tmux {
        name: format!("drillbook-preflight-{}-{pass}-{answer}", std::process::id()),
    };
    let mut start = tmux.cmd();
    start
        .args([
            "new-session",
            "-d",
            "-s",
            "keep",
            "-x",
            "200",
            "-y",
            "60",
            "sleep 600",
        ])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("SSH_CONNECTION")
        .env_remove("STY")
        .env_remove("TMUX")
        .env("XDG_STATE_HOME", state.path());
    assert!(start.status().unwrap().success());
    tmux.run(&["set", "-g", "allow-passthrough", pass]);
    let script = format!(
        "{BIN} notify-test --role ep --journal {}; echo EXIT=$?; sleep 600",
        journal.display()
    );
    tmux.run(&["new-window", "-d", "-n", "t", "-t", "keep", &script]);
    tmux.wait_for("Did a notification appear on your screen? [y/n]");
    tmux.run(&["send-keys", "-t", "t", answer, "Enter"]);
    let screen = tmux.wait_for("EXIT=");
    Some((screen, last_check(&journal)))
}

#[test]
fn in_tmux_with_passthrough_off_it_prints_the_tmux_fix() {
    let Some((screen, check)) = in_tmux("off", "n") else {
        return;
    };
    for want in [
        "tmux:             yes, allow-passthrough is off",
        "D-Bus session bus: none",
        "Channels: terminal (chosen by --notify auto)",
        "terminal: sent",
        "How to fix it for this setup:",
        "tmux drops notification escape sequences unless passthrough is on",
        "    set -g allow-passthrough on",
        "    tmux source-file ~/.tmux.conf",
        "OSC 777",
        "EXIT=1",
    ] {
        assert!(screen.contains(want), "missing {want:?} in:\n{screen}");
    }
    assert_eq!(check["answer"], false);
    assert_eq!(
        check["detected"],
        "ssh=no tmux=yes(passthrough=off) screen=no bus=none daemon=n/a"
    );
}

#[test]
fn in_tmux_with_passthrough_on_it_does_not_blame_tmux() {
    let Some((screen, check)) = in_tmux("on", "n") else {
        return;
    };
    assert!(
        screen.contains("tmux:             yes, allow-passthrough is on"),
        "{screen}"
    );
    assert!(screen.contains("How to fix it for this setup:"), "{screen}");
    assert!(!screen.contains("set -g allow-passthrough on"), "{screen}");
    assert!(screen.contains("OSC 9 (iTerm2"), "{screen}");
    assert_eq!(check["answer"], false);
    assert_eq!(
        check["detected"],
        "ssh=no tmux=yes(passthrough=on) screen=no bus=none daemon=n/a"
    );
}

#[test]
fn in_tmux_a_yes_is_recorded_and_the_exit_is_clean() {
    let Some((screen, check)) = in_tmux("on", "y") else {
        return;
    };
    assert!(
        screen.contains("Good: notifications reach you."),
        "{screen}"
    );
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(!screen.contains("How to fix"), "{screen}");
    assert_eq!(check["answer"], true);
}
