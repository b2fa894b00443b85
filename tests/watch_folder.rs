//! `watch` on a shared folder, in a real terminal: the journals there when it starts, and one
//! that appears after it started (another host joining), shown without a restart; an event
//! appended to either shows on screen. A folder watched before any host starts waits for the
//! first; a host of another role joins with its steps; one that cannot join is named; a
//! boundary one host confirmed reads as confirmed on a supervisor's clock behind it.

#[path = "support/cli.rs"]
mod cli;
#[path = "support/tmux.rs"]
mod tmux;

use cli::{BIN, Recorder};
use std::path::Path;

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

/// A host's rehearsal in a terminal of its own (80x24): `drillbook run --role ROLES --rehearse`
/// at `speed` from `start_at`, as `op`, journaling into `j`; `EXITED <code>` when it ends.
fn host(name: &str, j: &Path, roles: &str, op: &str, start_at: &str, speed: u32) -> tmux::Tmux {
    tmux::Tmux::start(
        name,
        &format!(
            "env NO_COLOR= TZ=Europe/London {BIN} run --role {roles} --rehearse --speed {speed} \
             --start-at {start_at} --notify off --operator {op} --journal {}; echo EXITED $?; sleep 60",
            j.display()
        ),
    )
}

/// `drillbook watch FOLDER` in a terminal of its own (80x24).
fn supervisor(name: &str, folder: &Path) -> tmux::Tmux {
    tmux::Tmux::start(
        name,
        &format!(
            "env NO_COLOR= TZ=Europe/London {BIN} watch {}; echo EXITED $?; sleep 60",
            folder.display()
        ),
    )
}

/// The events of kind `kind` in journal `j`.
fn events_of(j: &Path, kind: &str) -> Vec<serde_json::Value> {
    cli::lines(j)
        .into_iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

/// walk 3 R19: the supervisor starts `watch` on the shared folder before any desk (it exited
/// `no journal in this folder`), then an hsn host starts, then a ccep host a little later (its
/// steps never appeared: the header stayed `[hsn]`). Each joins without a restart, with its
/// role's steps and the header's count; a step the later host records shows as done, by whom;
/// a journal that cannot join (the real record beside a rehearsal) is named, not ignored.
#[test]
fn watch_waits_on_an_empty_folder_and_each_host_that_starts_joins_with_its_steps() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("ps3");
    std::fs::create_dir(&folder).unwrap();
    let sup = supervisor("wf-empty", &folder);
    let s = sup.wait_for("the watcher waiting", |s| s.contains(" WAITING "));
    assert!(s.contains("for the first journal in"), "{s}");
    assert!(s.contains("WATCHING no journal yet"), "{s}");

    let _hsn = host(
        "wf-hsn",
        &folder.join("desk3--hsn.jsonl"),
        "hsn",
        "dan",
        "09:58",
        10,
    );
    let s = sup.wait_for("the first host joined with its steps", |s| {
        // A row of its steps, whichever phase the clock is in (carried groups are folded).
        s.contains("[hsn]") && s.lines().any(|l| l.contains(" hsn "))
    });
    assert!(s.contains("WATCHING 1 host"), "{s}");
    assert!(s.contains("desk3--hsn.jsonl joined: dan@"), "{s}");
    assert!(!s.contains(" WAITING "), "{s}");

    let ccep_journal = folder.join("desk4--ccep.jsonl");
    let ccep = host("wf-ccep", &ccep_journal, "ccep", "eve", "09:58", 10);
    let s = sup.wait_for("the later host joined with its steps", |s| {
        s.contains("[ccep,hsn]") && s.lines().any(|l| l.contains(" ccep "))
    });
    assert!(s.contains("WATCHING 2 journals"), "{s}");
    assert!(s.contains("desk4--ccep.jsonl joined: eve@"), "{s}");

    // The later host records its selected step done; the supervisor finds it (by its id) done,
    // by eve.
    ccep.wait_for("the host's screen", |s| s.contains("REHEARSAL x10"));
    ccep.keys(&["Space"]);
    cli::poll("the host's step recorded", || {
        !events_of(&ccep_journal, "step").is_empty()
    });
    let step = events_of(&ccep_journal, "step")[0]["step"]
        .as_str()
        .unwrap()
        .to_owned();
    sup.keys(&["/"]);
    assert!(sup.tmux(&["send-keys", "-l", &step]).status.success());
    sup.keys(&["Enter"]);
    sup.wait_for("the step done by the later host", |s| {
        s.contains(&step) && s.contains("State: [x] done by eve@")
    });
    sup.keys(&["Escape"]);

    // The real record of a session lands in the folder of a rehearsal: named, not merged.
    let _real = cli::Recorder::start(&folder.join("zz--ep.jsonl"), "ep", "zed").unwrap();
    let s = sup.wait_for("the journal that cannot join named", |s| {
        s.contains("zz--ep.jsonl NOT joined: the real record of a session")
    });
    assert!(
        s.contains("[ccep,hsn]") && s.contains("WATCHING 2 journals"),
        "{s}"
    );
    sup.keys(&["q"]);
    sup.wait_for("watch to exit", |s| s.contains("EXITED 0"));
}

/// The `HH:MM:SS` the header's clock reads (line 2).
fn clock_of(screen: &str) -> String {
    screen
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_default()
        .to_owned()
}

/// walk 3 R12 and the header's count: two hosts of one team rehearsal, alice's clock ~8 minutes
/// behind bob's. Bob confirms the failover's end at 10:57:30 and leaves; the supervisor's
/// screen, now on alice's clock (before 10:57:30), reads the boundary as confirmed, when and
/// by whom, in the backup phase: not `10:57 in 1m16s: Backup site starts` under `▶ failover`.
#[test]
fn a_boundary_one_host_confirmed_reads_as_confirmed_on_a_clock_behind_it() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("ps2");
    std::fs::create_dir(&folder).unwrap();
    let desk = folder.join("desk1--ep.jsonl");
    let md = folder.join("md1--omd.jsonl");
    let _alice = host("wf-alice", &desk, "ep", "alice", "10:50", 10);
    let bob = host("wf-bob", &md, "omd", "bob", "10:58", 10);
    cli::poll("both hosts journaling", || {
        !cli::lines(&desk).is_empty() && !cli::lines(&md).is_empty()
    });
    let sup = supervisor("wf-confirm", &folder);
    let s = sup.wait_for("the supervisor on bob's clock", |s| {
        s.contains("WATCHING 2 journals, clock of bob@")
    });
    assert!(s.contains("[ep,omd]"), "{s}");

    bob.wait_for("bob's screen", |s| s.contains("REHEARSAL x10"));
    bob.keys(&["c"]);
    bob.wait_for("the confirm prompt", |s| s.contains("observed at"));
    bob.keys(&["C-u"]);
    assert!(
        bob.tmux(&[
            "send-keys",
            "-l",
            "10:57:30 DR completed (2) on OMD-C ch 21"
        ])
        .status
        .success()
    );
    bob.keys(&["Enter"]);
    cli::poll("bob's confirmation journaled", || {
        !events_of(&md, "boundary_confirmed").is_empty()
    });
    bob.keys(&["q"]);
    bob.wait_for("bob's host to leave", |s| s.contains("EXITED 0"));

    let s = sup.wait_for("the supervisor on alice's clock", |s| {
        s.contains("clock of alice@") && s.contains("confirmed 10:57:30 HKT by bob@")
    });
    let clock = clock_of(&s);
    assert!(
        clock.len() == 8 && clock.as_str() < "10:57:30",
        "alice's clock is behind the confirmation: {clock}\n{s}"
    );
    let line2 = s.lines().nth(1).unwrap();
    assert!(!line2.contains(" in "), "no countdown: {line2}");
    assert!(s.contains("▶ backup"), "{s}");
    assert!(s.contains("10:57:30"), "{s}");

    // A host of another rehearsal (x60 from 07:55) writes into the same folder: named, left out.
    let _other = host(
        "wf-other",
        &folder.join("old--ccep.jsonl"),
        "ccep",
        "carol",
        "07:55",
        60,
    );
    let s = sup.wait_for("the other rehearsal named", |s| {
        s.contains("old--ccep.jsonl NOT joined: another rehearsal (x60, at 07:5")
    });
    assert!(
        s.contains("[ep,omd]") && s.contains("WATCHING 2 journals"),
        "{s}"
    );
    sup.keys(&["q"]);
    sup.wait_for("watch to exit", |s| s.contains("EXITED 0"));
}
