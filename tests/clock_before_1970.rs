//! A wall clock before 1970, for real: the binary under libfaketime, the fake time read from a
//! file the test rewrites, so the clock can step back while a command runs. Refused with a clear
//! message and exit 1, never a panic; a running `run` or `record` journals its detach first.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;

#[path = "support/cli.rs"]
mod cli;
#[path = "support/tmux.rs"]
mod tmux;

use cli::{BIN, WAIT};

const BEFORE_1970: &str = "@1969-12-31 23:00:00";

/// libfaketime's preload library, where Debian and others put it (.ci/run installs `faketime`).
fn libfaketime() -> Option<PathBuf> {
    let found = [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/faketime/libfaketime.so.1",
        "/usr/local/lib/faketime/libfaketime.so.1",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists());
    if found.is_none() {
        eprintln!("SKIPPED: libfaketime is not installed (.ci/run installs faketime)");
    }
    found
}

/// The environment that makes the binary read its wall clock from `spec_file` (re-read at every
/// call, so a rewrite steps the clock); the monotonic clock is left real.
fn faked(lib: &Path, spec_file: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("LD_PRELOAD", lib.display().to_string()),
        ("FAKETIME_TIMESTAMP_FILE", spec_file.display().to_string()),
        ("FAKETIME_NO_CACHE", "1".into()),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1".into()),
        ("TZ", "Europe/London".into()),
        ("NO_COLOR", "1".into()),
    ]
}

fn journal_lines(p: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a journal line"))
        .collect()
}

#[test]
fn every_clock_reading_command_refuses_a_clock_before_1970_without_writing() {
    let Some(lib) = libfaketime() else { return };
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("faketime");
    std::fs::write(&spec, BEFORE_1970).unwrap();
    let j = dir.path().join("j.jsonl");
    let j = j.to_str().unwrap();
    let commands: [&[&str]; 5] = [
        &["record", j, "--role", "ep", "--operator", "x"],
        &[
            "run",
            "--headless",
            "--role",
            "ep",
            "--journal",
            j,
            "--notify",
            "off",
        ],
        &[
            "notify-test",
            "--notify",
            "off",
            "--role",
            "ep",
            "--journal",
            j,
        ],
        &["handover", j],
        &["report", j],
    ];
    for args in commands {
        let out = Command::new(BIN)
            .args(args)
            .envs(faked(&lib, &spec))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("the system clock reads 1969-12-31") && err.contains("UTC, before 1970"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(journal_lines(Path::new(j)).is_empty(), "{args:?} wrote");
    }
    // What does not read the clock still works.
    let out = Command::new(BIN)
        .args(["schedule", "--role", "ep"])
        .envs(faked(&lib, &spec))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn record_stops_when_the_clock_steps_before_1970_and_journals_the_detach() {
    let Some(lib) = libfaketime() else { return };
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("faketime");
    std::fs::write(&spec, "+0").unwrap();
    let j = dir.path().join("rec.jsonl");
    let mut child = Command::new(BIN)
        .arg("record")
        .arg(&j)
        .args(["--role", "ep", "--operator", "x"])
        .envs(faked(&lib, &spec))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, replies) = channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let mut input = child.stdin.take().unwrap();
    let mut ask = move |line: &str| {
        writeln!(input, "{line}").unwrap();
        input.flush().unwrap();
        loop {
            let r = replies.recv_timeout(WAIT).expect("a reply");
            if !r.starts_with("ready ") {
                return r;
            }
        }
    };
    assert!(ask("note before the step").starts_with("ok "));
    std::fs::write(&spec, BEFORE_1970).unwrap();
    let r = ask("note after the step");
    assert!(
        r.starts_with("err 2: not recorded: the system clock reads 1969-12-31"),
        "{r}"
    );
    drop(ask); // closes stdin
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    let lines = journal_lines(&j);
    let kinds: Vec<&str> = lines.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["attach", "note", "detach"], "{lines:?}");
    let reason = lines[2]["reason"].as_str().unwrap();
    assert!(reason.contains("before 1970"), "{reason}");
}

#[test]
fn run_leaves_when_the_clock_steps_before_1970_and_journals_the_detach() {
    let Some(lib) = libfaketime() else { return };
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("faketime");
    std::fs::write(&spec, "+0").unwrap();
    let j = dir.path().join("run.jsonl");
    let env: Vec<String> = faked(&lib, &spec)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let t = tmux::Tmux::start(
        "clock1969",
        &format!(
            "env {} {BIN} run --role ep --journal {} --notify off --operator e2e; echo EXITED $?; sleep 60",
            env.join(" "),
            j.display()
        ),
    );
    t.wait_for("the step list", |s| s.contains("▸ [ ]"));
    std::fs::write(&spec, BEFORE_1970).unwrap();
    let end = t.wait_for("the app to leave", |s| s.contains("EXITED"));
    assert!(end.contains("EXITED 1"), "{end}");
    assert!(end.contains("before 1970"), "{end}");
    let last = journal_lines(&j).pop().unwrap();
    assert_eq!(last["kind"], "detach");
    assert!(
        last["reason"].as_str().unwrap().contains("before 1970"),
        "{last}"
    );
}
