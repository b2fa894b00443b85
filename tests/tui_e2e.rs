//! End to end in a real terminal: the real binary in a private tmux server, keys sent with
//! `send-keys`, the screen read with `capture-pane`, the journal read from disk. Every wait is a
//! bounded poll.

use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_drillbook");
#[path = "support/tmux.rs"]
mod tmux;

use tmux::{Tmux, poll};

fn run_cmd(journal: &Path, exec: bool) -> String {
    format!(
        "{}env NO_COLOR= TZ=Europe/London {BIN} run --role ep --journal {} --notify off --operator e2e{}",
        if exec { "exec " } else { "" },
        journal.display(),
        if exec {
            ""
        } else {
            "; echo EXITED $?; sleep 60"
        }
    )
}

fn journal_lines(p: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a journal line"))
        .collect()
}

#[test]
fn space_marks_a_step_done_on_screen_and_in_the_journal_then_q_quits() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("e2e.jsonl");
    let t = Tmux::start("space", &run_cmd(&j, false));
    // The journal path is on the status line, drawn below the list: waiting for the list alone
    // could read a frame tmux has only half taken in.
    let path = format!("journal {}", j.display());
    let first = t.wait_for("the step list and the journal path shown at start", |s| {
        s.contains("▸ [ ]") && s.contains(&path)
    });
    assert!(!first.contains(" done, "), "nothing done yet: {first}");
    t.keys(&["Space"]);
    // The session is over, so every open step is carried into the last phase's list: once done,
    // the step leaves it; the header's count and the status say so.
    t.wait_for("the step shown done", |s| {
        s.contains(" steps: 1 done, ") && s.contains("recorded: ")
    });
    let lines = journal_lines(&j);
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "step" && l["state"] == "done" && l["operator"] == "e2e"),
        "{lines:?}"
    );
    t.keys(&["q"]);
    let end = t.wait_for("the process to exit", |s| s.contains("EXITED"));
    assert!(end.contains("EXITED 0"), "{end}");
    assert!(
        end.contains(&format!("journal {}", j.display())),
        "the path is printed at exit:\n{end}"
    );
    let last = journal_lines(&j).pop().unwrap();
    assert_eq!(last["kind"], "detach");
    assert_eq!(last["reason"], "quit");
}

/// The walk's most harmful finding, in the real terminal: a step selected before 10:00 stays
/// selected when the list is rebuilt at the boundary, and Space records that step.
#[test]
fn the_selection_stays_on_its_step_across_the_10_00_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("boundary.jsonl");
    let cmd = format!(
        "env NO_COLOR= TZ=Europe/London {BIN} run --role ep --rehearse --speed 10 --start-at 09:59 --journal {} --notify off --operator e2e; echo EXITED $?; sleep 60",
        j.display()
    );
    let t = Tmux::start("boundary", &cmd);
    t.wait_for("the step list", |s| s.contains("▸ [ ]"));
    let selected = |s: &str| {
        s.lines().any(|l| {
            l.starts_with("▸ [ ] pending ")
                && l.trim_end()
                    .ends_with(" ep Check the traders see market data")
        })
    };
    // Paused, so the selection is made before 10:00: the last-but-one step of the primary list.
    t.keys(&["p", "G", "k"]);
    t.wait_for("the step selected", selected);
    t.keys(&["p"]);
    // At 10x the boundary comes within about 6 s; the list is rebuilt with the carried group,
    // folded: the selected step shows under its heading, the failover's own steps after it.
    let after = t.wait_for("the failover and the carried group", |s| {
        s.contains("▶ failover") && s.contains("carried from Primary site")
    });
    assert!(
        selected(&after),
        "the selection stayed on its step:\n{after}"
    );
    assert!(
        after.contains("ep Log off the OCG-C sessions at 10:00"),
        "the failover's own steps show:\n{after}"
    );
    t.keys(&["Space"]);
    poll("the step to be journaled", || {
        journal_lines(&j).iter().any(|l| l["kind"] == "step")
    });
    let steps: Vec<String> = journal_lines(&j)
        .iter()
        .filter(|l| l["kind"] == "step")
        .map(|l| l["step"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(steps, ["ep-primary-market-data"]);
}

#[test]
fn sighup_detaches_releases_the_lock_and_a_second_run_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("hup.jsonl");
    let t = Tmux::start("hup", &run_cmd(&j, true));
    t.wait_for("the step list", |s| s.contains("▸ [ ]"));
    t.keys(&["Space"]);
    t.wait_for("the step shown done", |s| s.contains(" steps: 1 done, "));
    let pid = t.pane_pid();
    // SAFETY: sending a signal to the child we started; no memory is involved.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    poll("the detach to be journaled", || {
        journal_lines(&j)
            .last()
            .is_some_and(|l| l["kind"] == "detach")
    });
    let last = journal_lines(&j).pop().unwrap();
    assert_eq!(last["reason"], "SIGHUP", "{last}");
    // The lock is released once the process is gone: a writer can open the journal.
    poll("the process to exit", || unsafe { libc::kill(pid, 0) } != 0);
    drop(t);

    let t2 = Tmux::start("hup2", &run_cmd(&j, false));
    let s = t2.wait_for("the resumed summary", |s| s.contains("resumed 1 action"));
    assert!(
        s.contains(" steps: 1 done, "),
        "the recorded step is still done:\n{s}"
    );
    t2.keys(&["q"]);
    t2.wait_for("the process to exit", |s| s.contains("EXITED 0"));
    let kinds: Vec<String> = journal_lines(&j)
        .iter()
        .map(|l| l["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "attach").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(kinds.last().map(String::as_str), Some("detach"));
}

#[test]
fn a_second_writer_is_refused_and_pointed_to_watch() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("lock.jsonl");
    let t = Tmux::start("lock", &run_cmd(&j, false));
    t.wait_for("the step list", |s| s.contains("▸ [ ]"));
    let t2 = Tmux::start("lock2", &run_cmd(&j, false));
    let s = t2.wait_for("the refusal", |s| s.contains("EXITED"));
    assert!(s.contains("EXITED 1"), "{s}");
    assert!(s.contains("drillbook watch"), "{s}");
    t.keys(&["q"]);
    t.wait_for("exit", |s| s.contains("EXITED 0"));
}

#[test]
fn watch_follows_the_journal_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("watch.jsonl");
    let writer = Tmux::start("watchw", &run_cmd(&j, false));
    writer.wait_for("the step list", |s| s.contains("▸ [ ]"));
    let watcher = Tmux::start(
        "watchr",
        &format!(
            "env TZ=Europe/London {BIN} watch {}; echo EXITED $?; sleep 60",
            j.display()
        ),
    );
    watcher.wait_for("the watch screen", |s| {
        s.contains("WATCHING") && s.contains("▸ [ ]")
    });
    watcher.keys(&["Space"]);
    let s = watcher.wait_for("the refusal", |s| s.contains("read-only"));
    assert!(!s.contains(" done, "), "watch records nothing:\n{s}");
    writer.keys(&["Space"]);
    watcher.wait_for("the writer's action to appear", |s| {
        s.contains(" steps: 1 done, ")
    });
    watcher.keys(&["q"]);
    watcher.wait_for("watch to exit", |s| s.contains("EXITED 0"));
    writer.keys(&["q"]);
    writer.wait_for("the writer to exit", |s| s.contains("EXITED 0"));
    let kinds: Vec<String> = journal_lines(&j)
        .iter()
        .map(|l| l["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "step").count(),
        1,
        "{kinds:?}"
    );
}

/// A shell with job control in the pane, and `drillbook run` started from it as a job.
fn run_in_shell(test: &str, journal: &Path) -> Tmux {
    let t = Tmux::start(test, "env PS1='SHELL$ ' bash --norc --noprofile -i");
    t.wait_for("the shell prompt", |s| s.contains("SHELL$"));
    // The command alone: in a list (`run; echo`) a stopped job lets the rest of the list run.
    let cmd = run_cmd(journal, false);
    t.keys(&["-l", cmd.split(';').next().unwrap()]);
    t.keys(&["Enter"]);
    t.wait_for("the step list", |s| s.contains("▸ [ ]"));
    t
}

/// Stopped: the shell's prompt is back on the normal screen and the app's screen is gone. Then
/// `fg`: the app redraws its whole screen, and one key acts without Enter (raw mode is back).
fn stopped_then_fg_works(t: &Tmux) {
    let s = t.wait_for("the shell to report the job stopped", |s| {
        s.contains("Stopped") && s.trim_end().ends_with("SHELL$")
    });
    assert!(!s.contains("▸ [ ]"), "the app's screen is gone:\n{s}");
    let alt = t.tmux(&["display-message", "-p", "#{alternate_on} #{cursor_flag}"]);
    assert_eq!(
        String::from_utf8_lossy(&alt.stdout).trim(),
        "0 1",
        "the alternate screen is left and the cursor shown"
    );
    t.keys(&["-l", "fg"]);
    t.keys(&["Enter"]);
    let s = t.wait_for("the app to redraw", |s| s.contains("▸ [ ]"));
    assert!(!s.contains("SHELL$"), "everything redrawn:\n{s}");
    t.keys(&["?"]);
    t.wait_for("the help, from one key without Enter", |s| {
        s.contains("Keys (any key closes)")
    });
    t.keys(&["Escape"]);
    t.wait_for("the help closed", |s| !s.contains("Keys (any key closes)"));
    t.keys(&["q"]);
    t.wait_for("the app to exit", |s| s.contains("ended: quit"));
    t.keys(&["-l", "echo EXITED $?"]);
    t.keys(&["Enter"]);
    // A line of its own: the typed command holds the word too.
    let end = t.wait_for("the exit status", |s| {
        s.lines().any(|l| l.starts_with("EXITED "))
    });
    assert!(end.lines().any(|l| l == "EXITED 0"), "{end}");
}

#[test]
fn ctrl_z_stops_with_the_terminal_restored_and_fg_redraws_in_raw_mode() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("tstp.jsonl");
    let t = run_in_shell("ctrlz", &j);
    t.keys(&["C-z"]);
    stopped_then_fg_works(&t);
}

#[test]
fn sigtstp_from_kill_stops_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("killtstp.jsonl");
    let t = run_in_shell("killtstp", &j);
    let pid = journal_lines(&j)
        .iter()
        .find(|l| l["kind"] == "attach")
        .and_then(|l| l["pid"].as_i64())
        .expect("the attach names the pid");
    // SAFETY: a signal to the process this test started; no memory is involved.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGTSTP) }, 0);
    stopped_then_fg_works(&t);
}

/// The header of a session that has ended suggests rehearsing it: for the operator's own runbook
/// file, with that file, not `--role`, which would open the bundled runbook.
#[test]
fn the_header_suggests_rehearsing_the_files_that_were_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(BIN)
        .args(["runbooks", "export"])
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    assert!(out.status.success());
    // A short relative path, so that the header line fits 80 columns whole.
    let own = dir.path().join("r");
    std::fs::create_dir(&own).unwrap();
    for f in ["session.yaml", "ep.yaml"] {
        std::fs::copy(
            dir.path().join("x/hkex-ps2-2023-11-25").join(f),
            own.join(f),
        )
        .unwrap();
    }
    // On the real clock the 2023 session has ended: the header shows the suggestion.
    let cmd = format!(
        "cd {} && env NO_COLOR= TZ=Europe/London {BIN} run r/ep.yaml --journal j.jsonl --notify off; echo EXITED $?; sleep 60",
        dir.path().display()
    );
    let t = Tmux::start("rehearse-own", &cmd);
    let screen = t.wait_for("the rehearse suggestion", |s| s.contains("Rehearse:"));
    assert!(
        screen.contains("Rehearse: drillbook run r/ep.yaml --rehearse"),
        "{screen}"
    );
    t.keys(&["q"]);
    t.wait_for("the app to quit", |s| s.contains("EXITED"));
}

/// Break finding 5, in the real terminal: a paste (tmux's bracketed `paste-buffer -p`) with Enter
/// sent straight after it. A 100 KB paste is one edit, cut to what a prompt holds (and said
/// so), and the Enter behind it records the note within the usual wait; so does the Enter after
/// a 12 000-character paste, and after 3 000 characters pasted as keys.
#[test]
fn an_enter_right_after_a_long_paste_records_the_note() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("paste.jsonl");
    let t = Tmux::start("paste", &run_cmd(&j, false));
    t.wait_for("the step list", |s| s.contains("▸ [ ]"));
    let notes = || {
        journal_lines(&j)
            .into_iter()
            .filter(|l| l["kind"] == "note")
            .collect::<Vec<_>>()
    };
    for (n, what) in [(12_000, 'B'), (100_000, 'A')] {
        let before = notes().len();
        let file = dir.path().join(format!("paste-{n}.txt"));
        std::fs::write(&file, what.to_string().repeat(n)).unwrap();
        t.keys(&["n"]);
        t.wait_for("the note prompt", |s| s.contains("Note on "));
        assert!(
            t.tmux(&["load-buffer", file.to_str().unwrap()])
                .status
                .success()
        );
        assert!(t.tmux(&["paste-buffer", "-p"]).status.success());
        t.keys(&["Enter"]);
        poll("the note to be journaled", || notes().len() == before + 1);
        let text = notes()[before]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(text.chars().count(), 4000, "cut to what a prompt holds");
        assert!(text.chars().all(|c| c == what));
        t.wait_for("the prompt closed", |s| s.contains("recorded: note"));
    }
    // Without bracketed paste (`paste-buffer` alone: the text typed as keys), 3 000 characters
    // and the Enter straight after them: the Enter is read (it used to wait for the next key,
    // the tail of the paste left unread in the terminal), and the note is recorded whole.
    let before = notes().len();
    let file = dir.path().join("typed.txt");
    std::fs::write(&file, "C".repeat(3000)).unwrap();
    t.keys(&["n"]);
    t.wait_for("the note prompt", |s| s.contains("Note on "));
    assert!(
        t.tmux(&["load-buffer", file.to_str().unwrap()])
            .status
            .success()
    );
    assert!(t.tmux(&["paste-buffer"]).status.success());
    t.keys(&["Enter"]);
    poll("the note typed as keys to be journaled", || {
        notes().len() == before + 1
    });
    assert_eq!(notes()[before]["text"], "C".repeat(3000));
    t.keys(&["q"]);
    t.wait_for("the process to exit", |s| s.contains("EXITED 0"));
}

/// walk 2 N11: a log excerpt of three lines pasted (bracketed) into a note became one line with
/// nothing saying so. The prompt says how many line breaks were joined with spaces, and so does
/// the status line after an Enter pressed straight behind the paste.
#[test]
fn a_multi_line_paste_into_a_note_says_its_lines_were_joined() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("lines.jsonl");
    let t = Tmux::start("paste-lines", &run_cmd(&j, false));
    t.wait_for("the step list", |s| s.contains("▸ [ ]"));
    let file = dir.path().join("excerpt.txt");
    std::fs::write(
        &file,
        "BSS log: 10:00:41 Logout\n10:01:10 reconnect attempt 1\n10:01:40 reconnect attempt 2\n",
    )
    .unwrap();
    t.keys(&["n"]);
    t.wait_for("the note prompt", |s| s.contains("Note on "));
    assert!(
        t.tmux(&["load-buffer", file.to_str().unwrap()])
            .status
            .success()
    );
    assert!(t.tmux(&["paste-buffer", "-p"]).status.success());
    let joined = |s: &str| s.lines().map(str::trim_end).collect::<Vec<_>>().join(" ");
    t.wait_for("the notice", |s| {
        joined(s).contains("pasted text held 2 line breaks: joined into one line with spaces")
    });
    t.keys(&["Enter"]);
    t.wait_for("the status line", |s| {
        joined(s).contains("(2 pasted line breaks joined with spaces)")
    });
    let note = journal_lines(&j)
        .into_iter()
        .find(|l| l["kind"] == "note")
        .expect("the note is journaled");
    assert_eq!(
        note["text"],
        "BSS log: 10:00:41 Logout 10:01:10 reconnect attempt 1 10:01:40 reconnect attempt 2"
    );
    t.keys(&["q"]);
    t.wait_for("the process to exit", |s| s.contains("EXITED 0"));
}

/// walk 2 N11: `a` recorded n/a at once, and the report then read `n/a by …` with no why,
/// beside the runbook's n/a steps that give one. An operator's n/a takes a reason, as failed
/// and skipped do: an empty or blank one is refused with the prompt left open, and the report
/// gives the reason.
#[test]
fn an_operators_na_takes_a_reason_and_the_report_gives_it() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("na.jsonl");
    let t = Tmux::start("na-reason", &run_cmd(&j, false));
    t.wait_for("the step list", |s| s.contains("▸ [ ]"));
    t.keys(&["/"]);
    t.keys(&["-l", "Flag it if no disconnect"]);
    t.keys(&["Enter"]);
    t.wait_for("the step selected", |s| {
        s.contains("── ep-failover-absence ")
    });
    t.keys(&["a"]);
    t.wait_for("the reason prompt", |s| {
        s.contains("Why is Flag it if no disconnect was seen n/a (required)")
    });
    t.keys(&["-l", "   "]);
    t.keys(&["Enter"]);
    t.wait_for("the refusal", |s| {
        s.contains("a step marked n/a needs a reason")
    });
    let steps = || {
        journal_lines(&j)
            .into_iter()
            .filter(|l| l["kind"] == "step")
            .count()
    };
    assert_eq!(steps(), 0, "nothing recorded without a reason");
    t.keys(&["C-u"]);
    t.keys(&["-l", "the rundown keeps us connected: nothing to flag"]);
    t.keys(&["Enter"]);
    poll("the n/a to be journaled", || steps() == 1);
    t.keys(&["q"]);
    t.wait_for("the process to exit", |s| s.contains("EXITED 0"));
    let out = std::process::Command::new(BIN)
        .args(["report", j.to_str().unwrap()])
        .env("TZ", "Europe/London")
        .output()
        .unwrap();
    assert!(out.status.success());
    let report = String::from_utf8_lossy(&out.stdout);
    let item = report
        .split("\n- ")
        .find(|i| i.starts_with("[/] n/a: Flag it if no disconnect was seen"))
        .unwrap_or_else(|| panic!("{report}"));
    let item = item.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        item.contains("- n/a by e2e@")
            && item.contains("- why n/a: the rundown keeps us connected: nothing to flag"),
        "{item}"
    );
}

/// Walk finding 10: at exit the journal "held 34 actions" where the rehearsal report beside it
/// said "33 operator actions, 1 undone". The exit line counts as the report does, and says
/// what the undo adds.
#[test]
fn the_exit_count_agrees_with_the_rehearsal_report_on_undone_actions() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("undo.jsonl");
    let cmd = format!(
        "env NO_COLOR= TZ=Europe/London {BIN} run --role ep --rehearse --speed 1 --start-at 08:00 --journal {} --notify off --operator e2e; echo EXITED $?; sleep 60",
        j.display()
    );
    let t = Tmux::start("undo", &cmd);
    t.wait_for("the step list", |s| s.contains("▸ [ ]"));
    t.keys(&["Space"]);
    t.wait_for("the step done", |s| s.contains("recorded: "));
    t.keys(&["Space"]);
    poll("two steps journaled", || {
        journal_lines(&j)
            .iter()
            .filter(|l| l["kind"] == "step")
            .count()
            == 2
    });
    t.keys(&["u"]);
    t.wait_for("the undo question", |s| s.contains("Undo "));
    t.keys(&["y"]);
    poll("the undo journaled", || {
        journal_lines(&j).iter().any(|l| l["kind"] == "undo")
    });
    t.keys(&["q"]);
    t.wait_for("the process to exit", |s| s.contains("EXITED 0"));
    let all = String::from_utf8_lossy(&t.tmux(&["capture-pane", "-p", "-J", "-S", "-300"]).stdout)
        .into_owned();
    assert!(
        all.contains("the journal holds 2 actions, 1 undone (3 with the undo), last at "),
        "{all}"
    );
    // The rehearsal report is folded at 80 columns: read with its folds joined.
    let words = all.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("2 operator actions, 1 undone"), "{all}");
}

/// Break finding 9: `watch` on a rehearsal that has ended kept its clock running at the
/// rehearsal's speed (the header reached 22 Dec 2023, the `H` overlay's "Written at" disagreed
/// with `handover`). The watcher's clock stops where the rehearsal ended: it stays put, the
/// header says STOPPED, and the overlay's "Written at" is `handover`'s.
#[test]
fn watch_on_an_ended_rehearsal_stops_its_clock_where_handover_does() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("ended.jsonl");
    // A headless rehearsal at 3600x from 13:30: it reaches the session's end within a second
    // and detaches ("session ended").
    let out = std::process::Command::new(BIN)
        .args([
            "run",
            "--role",
            "ep",
            "--rehearse",
            "--speed",
            "3600",
            "--headless",
        ])
        .args(["--start-at", "13:30", "--notify", "off", "--journal"])
        .arg(&j)
        .output()
        .expect("the headless rehearsal runs");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(journal_lines(&j).last().unwrap()["kind"], "detach");
    let handover = std::process::Command::new(BIN)
        .arg("handover")
        .arg(&j)
        .output()
        .expect("handover runs");
    let handover = String::from_utf8_lossy(&handover.stdout).into_owned();
    let written = handover
        .lines()
        .find(|l| l.starts_with("- Written at: "))
        .unwrap_or_else(|| panic!("{handover}"))
        .to_owned();

    let t = Tmux::start(
        "ended",
        &format!(
            "env TZ=Europe/London {BIN} watch {}; echo EXITED $?; sleep 60",
            j.display()
        ),
    );
    let first = t.wait_for("the watch screen", |s| s.contains("WATCHING"));
    assert!(first.contains(" STOPPED"), "{first}");
    let clock = |s: &str| {
        s.lines()
            .nth(1)
            .and_then(|l| l.split("HKT").next())
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    let at = clock(&first);
    assert!(
        at.starts_with("14:0"),
        "stopped at the session's end: {first}"
    );
    // At 3600x a running clock moves an hour a second: watched for two seconds, every screen
    // shows the same instant.
    for _ in 0..20 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let later = t.screen();
        assert_eq!(clock(&later), at, "{later}");
    }
    t.keys(&["H"]);
    let overlay = t.wait_for("the handover overlay", |s| s.contains("Written at"));
    let shown = overlay
        .lines()
        .find(|l| l.contains("Written at"))
        .unwrap_or_default();
    // The overlay is boxed: compare what follows the label.
    let when = written.trim_start_matches("- Written at: ");
    let when = when.split(" (").next().unwrap_or(when);
    assert!(
        shown.contains(when),
        "overlay {shown:?}, handover {written:?}"
    );
    t.keys(&["q", "q"]);
    t.wait_for("watch to exit", |s| s.contains("EXITED 0"));
}

/// walk 2 N1: a host rehearsal in one terminal, `watch` on its journal in another. The host's
/// `-` (x30), `p` (pause) and `>` (jump) reach the watcher through the journal: its header
/// says x30 and PAUSED, its clock stands where the host's stands, and it shows the jump.
/// Before, the watcher kept x60, ran on through a pause, and showed the failover's end awaiting
/// before the host reached it.
#[test]
fn watch_follows_the_hosts_speed_pause_and_jump() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("host.jsonl");
    let host = host_rehearsal("clock-host", &j, "09:55");
    host.wait_for("the host's rehearsal", |s| s.contains("REHEARSAL x60"));
    let watcher = watcher("clock-watch", &j);
    watcher.wait_for("the watcher at x60", |s| {
        s.contains("REHEARSAL x60") && s.contains("WATCHING")
    });
    // The session clock on the header's second row: `09:56:12 HKT …`.
    let clock = |s: &str| {
        s.lines()
            .nth(1)
            .and_then(|l| l.split("HKT").next())
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    host.keys(&["-"]);
    host.wait_for("the host at x30", |s| s.contains("REHEARSAL x30"));
    watcher.wait_for("the watcher at x30", |s| s.contains("REHEARSAL x30"));
    host.keys(&["p"]);
    let paused = host.wait_for("the host paused", |s| s.contains("x30 PAUSED"));
    let at = clock(&paused);
    assert!(at.starts_with("09:") || at.starts_with("10:"), "{paused}");
    // The watcher holds the host's instant (it ran on at x60 before: minutes ahead).
    let seen = watcher.wait_for("the watcher paused where the host is", |s| {
        s.contains("x30 PAUSED") && clock(s) == at
    });
    assert!(!seen.contains("AWAITING"), "{seen}");
    // Still there a second later: a paused clock does not run on.
    let t0 = std::time::Instant::now();
    while t0.elapsed() < std::time::Duration::from_millis(1500) {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let s = watcher.screen();
        assert_eq!(clock(&s), at, "{s}");
    }
    // Resume, then pause and jump to a minute before the next boundary.
    host.keys(&["p"]);
    watcher.wait_for("the watcher running again", |s| {
        s.contains("REHEARSAL x30") && !s.contains("PAUSED")
    });
    host.keys(&["p", ">"]);
    let jumped = host.wait_for("the host paused after the jump", |s| {
        s.contains("x30 PAUSED") && s.contains("jumped to")
    });
    let at = clock(&jumped);
    assert!(
        at.ends_with(":59:00"),
        "a minute before a boundary: {jumped}"
    );
    watcher.wait_for("the watcher at the jump", |s| {
        s.contains("x30 PAUSED") && clock(s) == at
    });
    host.keys(&["q"]);
    host.wait_for("the host to exit", |s| s.contains("EXITED 0"));
    watcher.wait_for("the watcher stopped", |s| s.contains(" STOPPED"));
    watcher.keys(&["q"]);
    watcher.wait_for("watch to exit", |s| s.contains("EXITED 0"));
}

/// walk 2 N9: in `watch`, `c` records nothing, so the header's awaiting line must not tell the
/// supervisor to press it: it says the host confirms.
#[test]
fn watch_says_the_host_confirms_an_awaited_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("host.jsonl");
    let host = host_rehearsal("await-host", &j, "10:59");
    let on_host = host.wait_for("the host awaiting", |s| s.contains("AWAITING CONFIRMATION"));
    assert!(on_host.contains("press c when observed"), "{on_host}");
    let watcher = watcher("await-watch", &j);
    let seen = watcher.wait_for("the watcher awaiting", |s| {
        s.contains("AWAITING CONFIRMATION") && s.contains("WATCHING")
    });
    assert!(seen.contains("the host confirms it"), "{seen}");
    assert!(!seen.contains("press c"), "{seen}");
    host.keys(&["q"]);
    host.wait_for("the host to exit", |s| s.contains("EXITED 0"));
    watcher.keys(&["q"]);
    watcher.wait_for("watch to exit", |s| s.contains("EXITED 0"));
}

/// walk 2 N10: a rehearsal started at x60 and slowed to x30 with `-`: the command printed at
/// exit to resume it says `--speed 30`, the speed it ended at, not the starting `--speed 60`,
/// and keeps the operator it was started as.
#[test]
fn the_resume_command_keeps_the_speed_the_rehearsal_ended_at() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("slowed.jsonl");
    let t = host_rehearsal("resume-speed", &j, "09:55");
    t.wait_for("the rehearsal", |s| s.contains("REHEARSAL x60"));
    t.keys(&["-"]);
    t.wait_for("x30", |s| s.contains("REHEARSAL x30"));
    t.keys(&["q"]);
    t.wait_for("the exit", |s| s.contains("EXITED 0"));
    // The exit lines and the rehearsal report after them: more than a screen.
    let all = String::from_utf8_lossy(&t.tmux(&["capture-pane", "-p", "-J", "-S", "-400"]).stdout)
        .into_owned();
    let resume = all
        .lines()
        .find(|l| l.starts_with("to resume: "))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(resume.contains("--rehearse --speed 30 "), "{resume}");
    // walk 3 R11: and as who: `--operator host` was given, so the resumed run records as host.
    assert!(resume.contains(" --operator host --journal "), "{resume}");
    // walk 3 R1: the rehearsal report printed at exit is folded to the 80 columns it was run in,
    // as `drillbook report` folds it (`-J` joins what the terminal wrapped back into one line).
    // (The resume command above stays whole, to be copied.)
    let report = &all[all.find(resume).unwrap() + resume.len()..];
    assert!(report.contains("Steps"), "{report}");
    for l in report.lines() {
        assert!(l.chars().count() <= 80, "over 80 columns: {l}");
    }
}

/// An ep rehearsal at x60 from `start_at`, in a terminal of its own, journaling into `j` as
/// `host`; `EXITED <code>` is printed when it ends.
fn host_rehearsal(name: &str, j: &std::path::Path, start_at: &str) -> Tmux {
    Tmux::start(
        name,
        &format!(
            "env NO_COLOR= TZ=Europe/London {BIN} run --role ep --rehearse --speed 60 --start-at {start_at} --notify off --operator host --journal {}; echo EXITED $?; sleep 60",
            j.display()
        ),
    )
}

/// `drillbook watch j` in a terminal of its own; `EXITED <code>` is printed when it ends.
fn watcher(name: &str, j: &std::path::Path) -> Tmux {
    Tmux::start(
        name,
        &format!(
            "env NO_COLOR= TZ=Europe/London {BIN} watch {}; echo EXITED $?; sleep 60",
            j.display()
        ),
    )
}

/// Walk 3 R17 in the real terminal: the failover's end confirmed with `c`, undone with `u` `y`,
/// confirmed again. The banner follows each: the confirmation's own time, then "Confirmation
/// undone: awaiting again" under the header's AWAITING CONFIRMATION, then the new time (it
/// went on saying the first time through all of it).
#[test]
fn the_banner_follows_the_failover_end_confirmation_through_an_undo() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("undo.jsonl");
    let cmd = format!(
        "env NO_COLOR= TZ=Europe/London {BIN} run --role omd --rehearse --speed 30 --start-at 10:59 --journal {} --notify off --operator e2e; echo EXITED $?; sleep 60",
        j.display()
    );
    let t = Tmux::start("undo-banner", &cmd);
    // The two banner rows read as one.
    let joined = |s: &str| s.lines().map(str::trim_end).collect::<Vec<_>>().join(" ");
    t.wait_for("the boundary awaited", |s| {
        s.contains("AWAITING CONFIRMATION")
    });
    t.keys(&["c"]);
    t.wait_for("the confirm prompt", |s| s.contains("Confirm Failover"));
    t.keys(&["Enter"]);
    poll("the confirmation journaled", || {
        journal_lines(&j)
            .iter()
            .any(|l| l["kind"] == "boundary_confirmed")
    });
    let first = journal_lines(&j)
        .into_iter()
        .find(|l| l["kind"] == "boundary_confirmed")
        .unwrap();
    let at = |l: &serde_json::Value| {
        let utc = l["confirmed"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap();
        utc.with_timezone(&chrono_tz::Asia::Hong_Kong)
            .format("%H:%M:%S")
            .to_string()
    };
    let first_at = at(&first);
    let said = format!("Confirmed at {first_at} HKT");
    let s = t.wait_for("the banner with the confirmation", |s| {
        joined(s).contains(&said)
    });
    assert!(!s.contains("AWAITING CONFIRMATION"), "{s}");

    t.keys(&["u"]);
    t.wait_for("the undo question", |s| s.contains("Undo "));
    t.keys(&["y"]);
    let s = t.wait_for("the banner undone", |s| {
        joined(s).contains("Confirmation undone: awaiting again")
    });
    assert!(s.contains("AWAITING CONFIRMATION"), "{s}");
    assert!(!joined(&s).contains("Confirmed at"), "{s}");

    // Some seconds on (x30), confirmed again: its own time.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    t.keys(&["c"]);
    t.wait_for("the confirm prompt", |s| s.contains("Confirm Failover"));
    t.keys(&["Enter"]);
    poll("the second confirmation journaled", || {
        journal_lines(&j)
            .iter()
            .filter(|l| l["kind"] == "boundary_confirmed")
            .count()
            == 2
    });
    let second = journal_lines(&j)
        .into_iter()
        .filter(|l| l["kind"] == "boundary_confirmed")
        .nth(1)
        .unwrap();
    let second_at = at(&second);
    assert_ne!(first_at, second_at);
    let said = format!("Confirmed at {second_at} HKT");
    let s = t.wait_for("the banner with the new time", |s| {
        joined(s).contains(&said)
    });
    assert!(
        !joined(&s).contains(&format!("Confirmed at {first_at}")),
        "{s}"
    );
    t.keys(&["q"]);
    t.wait_for("the exit", |s| s.contains("EXITED 0"));
}
