//! The operator's day at 80x24, end to end (issue 13): the real binary in a private tmux server,
//! a rehearsed PS2 day of `--role ep,hsn,omd` walked with keys, the screen read with
//! `capture-pane`, the journal read from disk. The rehearsal clock is paused while keys are sent,
//! and moved with `>` (just before the next boundary) and a short unpaused run; every wait is a
//! bounded poll.
//!
//! A second test runs on the real clock with the session moved to today, so that `q` falls in a
//! live session and asks first.

use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_drillbook");
#[path = "support/tmux.rs"]
mod tmux;

use tmux::Tmux;

/// The journal's complete lines (one being written while we read has no newline yet).
fn journal_lines(p: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(p).unwrap_or_default();
    let done = text.rfind('\n').map_or("", |n| &text[..n]);
    done.lines()
        .map(|l| serde_json::from_str(l).expect("a journal line"))
        .collect()
}

fn line(screen: &str, n: usize) -> &str {
    screen.lines().nth(n).unwrap_or_default()
}

/// The line being typed at a prompt (`› ...`).
fn input_line(screen: &str) -> &str {
    screen
        .lines()
        .find(|l| l.starts_with("› "))
        .unwrap_or_default()
}

/// The number in `carried from Preparation · N open`.
fn carried_from(screen: &str, phase: &str) -> Option<usize> {
    let at = screen.find(&format!("carried from {phase} · "))?;
    let rest = &screen[at + "carried from  · ".len() + phase.len()..];
    rest.split(' ').next()?.parse().ok()
}

/// Wait for `pred`, then for the screen to hold still (two reads 100 ms apart the same): the
/// clock is paused, so a screen that changes is a frame still being drawn.
fn wait_still(t: &Tmux, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let start = std::time::Instant::now();
    loop {
        let a = t.wait_for(what, &pred);
        std::thread::sleep(std::time::Duration::from_millis(100));
        let b = t.screen();
        if a == b {
            return b;
        }
        assert!(
            start.elapsed() < tmux::WAIT,
            "the screen never held still:\n{b}"
        );
    }
}

/// Run the rehearsal clock until the session clock shows `hhmm` (`10:01`), then pause.
fn run_until(t: &Tmux, hhmm: &str) -> String {
    t.keys(&["p"]);
    t.wait_for(&format!("the clock at {hhmm}"), |s| {
        line(s, 1).starts_with(&format!(" {hhmm}:"))
    });
    t.keys(&["p"]);
    wait_still(t, "the pause", |s| s.contains("PAUSED"))
}

#[test]
fn a_rehearsed_day_of_three_roles_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("day.jsonl");
    let t = Tmux::start(
        "day",
        &format!(
            "env NO_COLOR= TZ=Europe/London {BIN} run --role ep,hsn,omd --rehearse --speed 60 \
             --start-at 08:19 --journal {} --notify off --operator e2e; echo EXITED $?; sleep 60",
            j.display()
        ),
    );
    t.wait_for("the rehearsal", |s| s.contains("REHEARSAL x60"));
    t.keys(&["p"]);
    let s = wait_still(&t, "the pause", |s| s.contains("PAUSED"));

    // The roles are in the header at 80 columns; it points at the overdue critical step to act
    // on now, the primary site's 08:15 logon, not the preparation left open two days before
    // (nothing of it was done in this rehearsal; it is carried, first in the list).
    assert!(line(&s, 0).contains("[ep,hsn,omd]"), "{s}");
    assert!(
        line(&s, 2).contains("OVERDUE 08:15 HKT") && line(&s, 2).contains("Log in to OTP-C"),
        "{s}"
    );
    // The preparation's open steps are carried into the primary site's list, first, folded to
    // their heading so that the primary site's own steps show.
    let prep = carried_from(&s, "Preparation").expect("carried from Preparation");
    assert!(s.contains("○ pre-sessi"), "over with steps open: {s}");
    assert!(s.contains("· z shows them"), "{s}");
    assert!(s.contains("ep  Record the OCG-C lookup result"), "{s}");
    // Show them (z) and settle them from the first (g): Space on each, the cursor moving on to
    // the next open step by itself.
    t.keys(&["z", "g"]);
    wait_still(&t, "the carried steps shown", |s| s.contains("· z folds"));
    let before = journal_lines(&j).len();
    let spaces = vec!["Space"; prep];
    t.keys(&spaces);
    let s = wait_still(&t, "the preparation settled", |s| {
        !s.contains("carried from Preparation")
    });
    assert_eq!(journal_lines(&j).len(), before + prep);
    assert!(s.contains("✓ pre-sessi"), "{s}");
    // The header still points at the primary site's 08:15 step.
    assert!(line(&s, 2).contains("OVERDUE 08:15 HKT"), "{s}");
    assert!(s.contains(" of 13, more below"), "the list's position: {s}");

    // Failed: the label and the whole end of a long note, as typed.
    t.keys(&["f"]);
    t.wait_for("the failed prompt", |s| s.contains("What failed in"));
    t.keys(&["Enter"]);
    t.wait_for("an empty note refused beside the prompt", |s| {
        s.contains("a failed step needs a note saying what failed") && s.contains("What failed in")
    });
    let note = "lookup returned the secondary endpoint first, BSS retried after 30s";
    t.keys(&["-l", note]);
    let s = wait_still(&t, "the note typed", |s| {
        input_line(s).contains("BSS retried after 30s")
    });
    assert!(s.contains("What failed in Record the OCG-C lookup"), "{s}");
    t.keys(&["Enter"]);
    t.wait_for("failed recorded", |s| {
        s.contains("recorded: Record the OCG-C lookup result as the BSS logs it: failed")
    });

    // Space: the selected step done, then Space on it again records nothing.
    t.keys(&["Space"]);
    t.wait_for("done recorded", |s| {
        s.contains(": done") && s.contains("recorded:")
    });
    t.keys(&["k"]);
    t.wait_for("back on the done step", |s| {
        s.lines().any(|l| l.starts_with("▸ [x] done"))
    });
    let lines = journal_lines(&j).len();
    t.keys(&["Space"]);
    let s = wait_still(&t, "already done", |s| s.contains("already done at"));
    assert!(s.contains("by e2e@"), "{s}");
    assert_eq!(
        journal_lines(&j).len(),
        lines,
        "Space on a done step records nothing"
    );

    // Skip and note prompts.
    t.keys(&["j", "s"]);
    t.wait_for("the skip prompt", |s| s.contains("Why skip"));
    t.keys(&[
        "-l",
        "no Drop Copy session at this firm, confirmed with ops",
    ]);
    t.wait_for("the reason typed", |s| {
        input_line(s).contains("confirmed with ops")
    });
    t.keys(&["Enter"]);
    t.wait_for("skipped recorded", |s| s.contains(": skipped"));
    t.keys(&["n"]);
    t.wait_for("the note prompt", |s| s.contains("Note on "));
    t.keys(&["-l", "! traders saw a 20s freeze at logon"]);
    t.wait_for("the note typed", |s| {
        input_line(s).contains("freeze at logon")
    });
    t.keys(&["Enter"]);
    t.wait_for("the issue recorded", |s| s.contains("recorded: issue on"));

    // A secret is refused by the journal, and its reason shows at the prompt, text kept.
    let lines = journal_lines(&j).len();
    t.keys(&["N"]);
    t.wait_for("the session note prompt", |s| {
        s.contains("Note on the session")
    });
    t.keys(&["-l", "trader password: Hunter2xyz"]);
    t.keys(&["Enter"]);
    let s = wait_still(&t, "the refusal", |s| {
        s.contains("NOT recorded: the note looks like")
    });
    assert!(
        input_line(&s).contains("trader password: Hunter2xyz"),
        "{s}"
    );
    assert_eq!(journal_lines(&j).len(), lines);
    t.keys(&["Escape"]);
    t.wait_for("cancelled", |s| s.contains("cancelled: nothing recorded"));
    assert!(!std::fs::read_to_string(&j).unwrap().contains("Hunter2"));

    // An evidence field with a long name, through the picker: typing goes to the field.
    t.keys(&["/"]);
    t.wait_for("the search prompt", |s| {
        s.contains("Search titles, ids and details")
    });
    t.keys(&["-l", "ep-primary-logon-trading"]);
    t.keys(&["Enter"]);
    t.wait_for("the match", |s| s.contains("match 1 of"));
    t.keys(&["e"]);
    t.wait_for("the field picker", |s| s.contains("Evidence field"));
    t.keys(&["Down", "Down", "Down"]);
    t.keys(&["-l", "in 1001 out 998 at 08:16:02"]);
    let s = wait_still(&t, "the value typed", |s| {
        input_line(s).contains("out 998 at 08:16:02")
    });
    assert!(
        s.contains("inbound and outbound sequence numbers at logon"),
        "{s}"
    );
    t.keys(&["Enter"]);
    t.wait_for("evidence recorded", |s| s.contains("recorded: evidence"));
    // Esc on its own: an Esc followed at once by a key reads as Alt+key in any terminal.
    t.keys(&["Escape"]);
    t.wait_for("the search ended", |s| s.contains("search ended"));

    // `u` names its target and asks; `y` undoes it, `U` redoes it.
    t.keys(&["u"]);
    let s = wait_still(&t, "the undo question", |s| s.contains("Undo evidence"));
    assert!(
        s.contains("\"inbound and outbound sequence numbers at logon\""),
        "{s}"
    );
    t.keys(&["y"]);
    t.wait_for("undone", |s| s.contains("recorded: undo of evidence"));
    t.keys(&["U"]);
    t.wait_for("redone", |s| s.contains("recorded: evidence"));

    // The rest of the morning: six more steps done, five left open (the 09:55 snapshots among
    // them), as in the issue.
    t.keys(&["/"]);
    t.keys(&["-l", "hsn-primary-connectivity"]);
    t.keys(&["Enter"]);
    t.wait_for("the match", |s| s.contains("match 1 of 1"));
    let before = journal_lines(&j).len();
    t.keys(&["Space", "Space", "Space", "Space", "Space", "Space"]);
    tmux::poll("six steps done", || journal_lines(&j).len() == before + 6);
    t.keys(&["Escape"]);
    t.wait_for("the search ended", |s| s.contains("search ended"));

    // 10:01: the primary site's open steps are carried, the phase bar says how many.
    t.keys(&[">"]);
    t.wait_for("the jump", |s| line(s, 1).starts_with(" 09:59:"));
    let s = run_until(&t, "10:01");
    assert_eq!(carried_from(&s, "Primary site"), Some(5), "{s}");
    assert!(s.contains("○ primary"), "{s}");
    assert!(
        line(&s, 4).contains("5 open"),
        "the phase bar's N open: {s}"
    );
    // Folded, under the banner's "Now: the steps of Failover…": those steps are on screen.
    assert!(
        s.contains("─ Failover to the backup site · 11 steps"),
        "{s}"
    );
    assert!(s.contains("ep  Log off the OCG-C sessions at 10:00"), "{s}");
    // z shows the carried steps: a failed one is carried too.
    t.keys(&["z", "g"]);
    let shown = wait_still(&t, "the carried steps shown", |s| s.contains("· z folds"));
    assert!(
        shown.contains("[!] failed"),
        "a failed step is carried too: {shown}"
    );
    t.keys(&["z"]);
    wait_still(&t, "folded again", |s| s.contains("· z shows them"));
    // The header points at the overdue critical step to act on: the 09:55 snapshot (the
    // log-off at 10:05 applies only on the rundown's choice, not recorded here).
    assert!(
        line(&s, 2).contains("OVERDUE 09:55 HKT")
            && line(&s, 2).contains("Snapshot before the failover"),
        "{s}"
    );

    // The end of the failover, confirmed as observed: 11:06, typed at 11:07.
    t.keys(&[">"]);
    t.wait_for("the jump", |s| line(s, 1).starts_with(" 10:59:"));
    let s = run_until(&t, "11:07");
    assert!(s.contains("AWAITING"), "{s}");
    let footer = s.lines().last().unwrap();
    assert!(
        footer.contains("c confirm"),
        "c in the footer at 80 columns: {s}"
    );
    t.keys(&["c"]);
    let s = wait_still(&t, "the confirm prompt", |s| {
        s.contains("Confirm Failover to the backup site ends")
    });
    assert!(
        input_line(&s).starts_with("› 11:07:"),
        "now by default: {s}"
    );
    t.keys(&["C-u"]);
    t.keys(&["-l", "11:06 DR completed on OMD-C"]);
    t.wait_for("the drift read back", |s| {
        s.contains("observed at 11:06:00 HKT (planned ~11:00 HKT, 6m00s after plan), with a note")
    });
    t.keys(&["Enter"]);
    // The time observed on the phase bar, and the whole message with titles, not ids and the
    // drift in the words every output uses (a frame is read whole: the wait covers both).
    let joined = |s: &str| s.lines().map(str::trim_end).collect::<Vec<_>>().join(" ");
    t.wait_for("the time and the message", |s| {
        line(s, 4).contains(" 11:06 ")
            && joined(s).contains(
                "Backup site starts confirmed at 11:06:00 HKT (planned ~11:00 HKT, 6m00s after plan)",
            )
    });
    let confirmed = journal_lines(&j)
        .into_iter()
        .find(|l| l["kind"] == "boundary_confirmed")
        .unwrap();
    assert_eq!(confirmed["confirmed"], "2023-11-25T03:06:00Z");
    assert!(
        confirmed["entered"]
            .as_str()
            .is_some_and(|e| e.starts_with("2023-11-25T03:07:")),
        "{confirmed}"
    );

    // A single evidence field: `e` goes straight to it, `yes, …` keeps every character.
    // By id: OMD's step of the same title (two fields) may come first in the list.
    t.keys(&["/"]);
    t.keys(&["-l", "ep-backup-market-data"]);
    t.keys(&["Enter"]);
    t.wait_for("the match", |s| s.contains("match 1 of 1"));
    t.keys(&["e"]);
    t.keys(&["-l", "yes, from 11:12"]);
    let s = wait_still(&t, "the value typed", |s| {
        input_line(s).contains("yes, from 11:12")
    });
    assert!(s.contains("screens updating after the failover"), "{s}");
    t.keys(&["Enter"]);
    t.wait_for("evidence recorded", |s| s.contains("recorded: evidence"));

    // A rehearsal quits without asking.
    t.keys(&["Escape"]);
    t.wait_for("the search ended", |s| s.contains("search ended"));
    t.keys(&["q"]);
    let end = t.wait_for("the exit", |s| s.contains("EXITED"));
    assert!(end.contains("EXITED 0"), "{end}");
}

#[test]
fn q_in_a_live_session_asks_first() {
    use chrono::TimeZone;
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("live.jsonl");
    // The session moved to today on the real clock. `--date` is for rehearsals only (a real run
    // on a moved date would share the real journal's default path), so this does what a firm
    // adapting the runbooks does: export them and change the session's date. Live from the
    // preparation's start (in 2023) to 14:00 HKT today; past 13:30 HKT, tomorrow: live too.
    let hk = chrono_tz::Asia::Hong_Kong.from_utc_datetime(&chrono::Utc::now().naive_utc());
    let date = if hk.time() < chrono::NaiveTime::from_hms_opt(13, 30, 0).unwrap() {
        hk.date_naive()
    } else {
        hk.date_naive() + chrono::Days::new(1)
    };
    let out = std::process::Command::new(BIN)
        .args(["runbooks", "export"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let folder = dir.path().join("hkex-ps2-2023-11-25");
    let session = folder.join("session.yaml");
    let text = std::fs::read_to_string(&session).unwrap();
    assert!(text.contains("\ndate: 2023-11-25\n"));
    std::fs::write(
        &session,
        text.replace("\ndate: 2023-11-25\n", &format!("\ndate: {date}\n")),
    )
    .unwrap();
    let t = Tmux::start(
        "live",
        &format!(
            "env NO_COLOR= TZ=Europe/London {BIN} run {} --journal {} --notify off \
             --operator e2e; echo EXITED $?; sleep 60",
            folder.join("ep.yaml").display(),
            j.display()
        ),
    );
    t.wait_for("the step list", |s| s.contains("▸ "));
    t.keys(&["q"]);
    let s = wait_still(&t, "the question", |s| s.contains("Quit drillbook?"));
    assert!(s.contains("Notifications stop"), "{s}");
    assert!(s.contains("the journal stays"), "{s}");
    t.keys(&["n"]);
    t.wait_for("still running", |s| s.contains("still running"));
    t.keys(&["q"]);
    t.wait_for("the question", |s| s.contains("Quit drillbook?"));
    t.keys(&["y"]);
    let end = t.wait_for("the exit", |s| s.contains("EXITED"));
    assert!(end.contains("EXITED 0"), "{end}");
    let last = journal_lines(&j).pop().unwrap();
    assert_eq!(last["kind"], "detach");
    assert_eq!(last["reason"], "quit");
}

#[test]
fn y_copies_the_selected_command_to_the_clipboard_through_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("copy.jsonl");
    let t = Tmux::start(
        "copy",
        &format!(
            "env NO_COLOR= TZ=Europe/London {BIN} run --role ep --journal {} --notify off \
             --operator e2e; echo EXITED $?; sleep 60",
            j.display()
        ),
    );
    // tmux takes OSC 52 from the pane into a paste buffer with set-clipboard on: what an outer
    // terminal would put on the clipboard is readable here.
    assert!(
        t.tmux(&["set", "-g", "set-clipboard", "on"])
            .status
            .success()
    );
    t.wait_for("the step list", |s| s.contains("▸ "));
    t.keys(&["/"]);
    t.keys(&["-l", "ep-primary-ocg-lookup"]);
    t.keys(&["Enter"]);
    t.wait_for("the match", |s| s.contains("match 1 of 1"));
    let lines = journal_lines(&j).len();
    t.keys(&["y"]);
    let s = wait_still(&t, "the copy said", |s| s.contains("copied the command of"));
    // The status wraps at 80 columns: read its words across the lines.
    let words = s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("drillbook does not run it"), "{s}");
    tmux::poll("the paste buffer", || {
        String::from_utf8_lossy(&t.tmux(&["show-buffer"]).stdout)
            == "nc -vz -w 5 <endpoint address from the lookup> <port>"
    });
    assert_eq!(journal_lines(&j).len(), lines, "a copy records nothing");
    t.keys(&["Escape"]);
    t.wait_for("the search ended", |s| s.contains("search ended"));
    t.keys(&["q"]);
    t.wait_for("the exit", |s| s.contains("EXITED 0"));
}
