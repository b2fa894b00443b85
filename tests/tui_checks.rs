//! A closed-loop step at 80x24, end to end (issue 16): the real binary in a private tmux server,
//! a runbook whose step follows a log file named in a site file, checked every 5 s by itself. The
//! test appends the logon line to the log; the step settles on screen, its evidence shows the
//! captured logon time marked as sensed, and the journal holds the `check` event and the step
//! done by the check. Every wait is a bounded poll.

use std::io::Write;
use std::path::{Path, PathBuf};

const BIN: &str = env!("CARGO_BIN_EXE_drillbook");
#[path = "support/tmux.rs"]
mod tmux;

use tmux::Tmux;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/checks")
        .join(name)
}

/// The journal's complete lines (one being written while we read has no newline yet).
fn journal_lines(p: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(p).unwrap_or_default();
    let done = text.rfind('\n').map_or("", |n| &text[..n]);
    done.lines()
        .map(|l| serde_json::from_str(l).expect("a journal line"))
        .collect()
}

fn checks_of(p: &Path) -> Vec<serde_json::Value> {
    journal_lines(p)
        .into_iter()
        .filter(|e| e["kind"] == "check")
        .collect()
}

#[test]
fn a_log_check_settles_its_step_when_the_logon_line_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bss.log");
    std::fs::write(&log, "2023-11-25 08:04:59.001 INFO TRD01 connecting\n").unwrap();
    let site = dir.path().join("site.yaml");
    std::fs::write(&site, format!("site:\n  bss_log: {}\n", log.display())).unwrap();
    let j = dir.path().join("checks.jsonl");
    let t = Tmux::start(
        "checks",
        &format!(
            "env NO_COLOR= TZ=Europe/London {BIN} run {} --rehearse --speed 1 --start-at 08:05 \
             --site {} --journal {} --notify off --operator e2e; echo EXITED $?; sleep 60",
            fixture("logon.yaml").display(),
            site.display(),
            j.display()
        ),
    );
    let s = t.wait_for("the step and its check", |s| {
        s.contains("The logon is accepted") && s.contains("Check (read-only): log ${bss_log}")
    });
    assert!(s.contains("every 5s · a pass marks it done"), "{s}");

    // The first automatic run follows the log from where it stood and times out after 2 s: the
    // line already there is not taken, nothing is settled, and the check says so.
    tmux::poll("the first automatic run journaled", || {
        !checks_of(&j).is_empty()
    });
    let first = &checks_of(&j)[0];
    assert_eq!(first["step"], "primary-logon");
    assert_eq!(first["outcome"], "timeout", "{first}");
    let s = t.wait_for("the timeout shown", |s| s.contains("check: TIMEOUT"));
    assert!(
        s.contains("▸ [ ] pending"),
        "a timeout settles nothing: {s}"
    );

    // The logon line arrives (in two writes: a partial line is not taken until it ends).
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(b"2023-11-25 08:06:01.250 INFO TRD01 Logon acc")
        .unwrap();
    f.flush().unwrap();
    f.write_all(b"epted endpoint=127.0.0.1:20001 NextSeq=1\n")
        .unwrap();
    f.flush().unwrap();

    // The next automatic run (5 s after the first began) sees it: the step is done, its check
    // passed; further down the pane (PgDn), the captured time is its evidence, marked sensed.
    let s = t.wait_for("the step settled by its check", |s| {
        s.contains("▸ [x] done") && s.contains("check: pass")
    });
    assert!(s.contains("done by its log check"), "{s}");
    t.keys(&["PgDn"]);
    let s = t.wait_for("the sensed evidence", |s| {
        s.contains("(sensed by its log check")
    });
    assert!(
        s.contains("- logon time: 08:06:01.250  (sensed by its log check, 08:"),
        "{s}"
    );
    assert!(s.contains("▸ [x] done"), "{s}");

    let events = journal_lines(&j);
    let pass = events
        .iter()
        .find(|e| e["kind"] == "check" && e["outcome"] == "pass")
        .expect("a passing check event");
    assert_eq!(pass["step"], "primary-logon");
    assert_eq!(pass["check"], "log");
    assert_eq!(pass["target"], log.display().to_string());
    assert_eq!(pass["values"][0]["name"], "logon_time");
    assert_eq!(pass["values"][0]["value"], "08:06:01.250");
    assert_eq!(pass["values"][0]["field"], "logon time");
    let done = events
        .iter()
        .find(|e| e["kind"] == "step" && e["step"] == "primary-logon")
        .expect("the step's done event");
    assert_eq!(done["state"], "done");
    assert!(
        done["note"]
            .as_str()
            .unwrap()
            .starts_with("done by its log check"),
        "{done}"
    );
    assert!(
        done["seq"].as_u64() > pass["seq"].as_u64(),
        "the check first, then the step"
    );
    // `r` on a step without a check says so and records nothing.
    t.keys(&["j"]);
    t.wait_for("the step without a check", |s| {
        s.contains("▸ [ ] pending") && s.contains("Enter a test order")
    });
    let lines = journal_lines(&j).len();
    t.keys(&["r"]);
    t.wait_for("no check to run", |s| s.contains("has no check to run"));
    assert_eq!(journal_lines(&j).len(), lines);

    // A supervisor's `watch` shows the journaled outcome, not "not run yet · r runs it" (walk 3
    // R7: the merged record the watcher reads had dropped the checks).
    let watcher = Tmux::start(
        "checks-watch",
        &format!(
            "env NO_COLOR= TZ=Europe/London {BIN} watch {} {}; sleep 60",
            j.display(),
            fixture("logon.yaml").display()
        ),
    );
    watcher.wait_for("the watcher", |s| s.contains("WATCHING"));
    watcher.keys(&["/"]);
    assert!(
        watcher
            .tmux(&["send-keys", "-l", "logon is accepted"])
            .status
            .success()
    );
    watcher.keys(&["Enter"]);
    let s = watcher.wait_for("the check's outcome in watch", |s| {
        s.contains("▸ [x] done") && s.contains("check: pass")
    });
    assert!(!s.contains("not run yet"), "{s}");
    t.keys(&["q"]);
    let end = t.wait_for("the exit", |s| s.contains("EXITED"));
    assert!(end.contains("EXITED 0"), "{end}");
}
