//! `watch` on a shared folder, in a real terminal: the journals there when it starts, and one
//! that appears after it started (another host joining), shown without a restart; an event
//! appended to either shows on screen.

#[path = "support/cli.rs"]
mod cli;
#[path = "support/tmux.rs"]
mod tmux;

use cli::{BIN, Recorder};

#[test]
fn watch_on_a_folder_picks_up_a_journal_that_appears_after_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("shared");
    std::fs::create_dir(&folder).unwrap();
    let mut desk = Recorder::start_with(
        &folder.join("desk1.jsonl"),
        &["--role", "ep", "--host", "desk1"],
        "alice",
    )
    .expect("record starts");
    assert_eq!(desk.ask("note desk bridge opened"), "ok 2");

    let t = tmux::Tmux::start(
        "watchfolder",
        &format!("TZ=Europe/London {BIN} watch {}", folder.display()),
    );
    t.wait_for("the first frame", |s| s.contains("HKT"));
    t.keys(&["L"]);
    t.wait_for("the journal pane with the desk's note", |s| {
        s.contains("desk bridge opened")
    });

    // The market-data team starts recording on another host, into the same folder.
    let mut md = Recorder::start_with(
        &folder.join("md1.jsonl"),
        &["--role", "ep", "--host", "md1"],
        "carol",
    )
    .expect("record starts");
    assert_eq!(md.ask("note md feed handler up"), "ok 2");
    t.wait_for("the journal that joined, without a restart", |s| {
        s.contains("md feed handler up")
    });
    // Both keep being followed.
    assert_eq!(desk.ask("note desk second note"), "ok 3");
    t.wait_for("a later event of the first journal", |s| {
        s.contains("desk second note")
    });
    t.keys(&["q"]);
}

/// A folder holding a finished rehearsal at 3600x and a live one at 60x in the failover: one
/// screen has one clock, and the finished one's would show the live host's failover as "session
/// ended". `watch` refuses, naming both, before it takes the terminal.
#[test]
fn watch_refuses_two_rehearsals_on_different_clocks() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("team");
    std::fs::create_dir(&folder).unwrap();
    let done = cli::drillbook(&[
        "run",
        "--role",
        "ccep",
        "--rehearse",
        "--headless",
        "--speed",
        "3600",
        "--journal",
        folder.join("ccep.jsonl").to_str().unwrap(),
    ]);
    assert!(done.status.success(), "{}", cli::stderr(&done));
    let live_path = folder.join("omd.jsonl");
    let mut live = std::process::Command::new(BIN)
        .args(["run", "--role", "omd", "--rehearse", "--headless"])
        .args(["--speed", "60", "--start-at", "failover", "--journal"])
        .arg(&live_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary runs");
    cli::poll("the live rehearsal's first events", || {
        !cli::lines(&live_path).is_empty()
    });

    let out = cli::drillbook(&["watch", folder.to_str().unwrap()]);
    let _ = live.kill();
    let _ = live.wait();
    let err = cli::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("are different rehearsals"), "{err}");
    assert!(
        err.contains("ccep.jsonl (x3600") && err.contains("omd.jsonl (x60"),
        "{err}"
    );
}
