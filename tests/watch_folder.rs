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
