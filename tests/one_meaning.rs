//! One fact, said one way: a rehearsal walked at 80x24 in a real terminal (the real binary in a
//! private tmux server), then `handover`, `report` and `log` read from its journal. A failed
//! step is open, needs follow-up and is never overdue, and the counts of the rule, the phase
//! bar, the handover and the reports agree (walk 2 N7); one confirmation shows one drift, in
//! one rounding, everywhere (walk 2 N8). Every wait is a bounded poll.

use std::path::Path;

#[path = "support/cli.rs"]
mod cli;
#[path = "support/tmux.rs"]
mod tmux;

use cli::{BIN, drillbook, stderr, stdout, unfold};
use tmux::Tmux;

/// An ep rehearsal at x60 from `start_at`, journaling into `j`; `EXITED <code>` at its end.
fn rehearsal(name: &str, j: &Path, start_at: &str) -> Tmux {
    Tmux::start(
        name,
        &format!(
            "env NO_COLOR= TZ=Europe/London {BIN} run --role ep --rehearse --speed 60 --start-at {start_at} --notify off --operator walker --journal {}; echo EXITED $?; sleep 60",
            j.display()
        ),
    )
}

fn line(screen: &str, n: usize) -> &str {
    screen.lines().nth(n).unwrap_or_default()
}

/// The screen's rows joined, so a message wrapped over two rows reads whole.
fn joined(screen: &str) -> String {
    screen
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Run the paused rehearsal clock until the header shows `hhmm`, then pause it again.
fn run_until(t: &Tmux, hhmm: &str) -> String {
    t.keys(&["p"]);
    t.wait_for(&format!("the clock at {hhmm}"), |s| {
        line(s, 1).starts_with(&format!(" {hhmm}:"))
    });
    t.keys(&["p"]);
    t.wait_for("the pause", |s| s.contains("PAUSED"))
}

/// `handover`, `report` or `log` on the journal, which must succeed.
fn read(args: &[&str]) -> String {
    let out = drillbook(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// The text of section `head` of `doc`: from the heading to the next heading of its level.
fn section<'a>(doc: &'a str, head: &str) -> &'a str {
    let at = doc
        .find(head)
        .unwrap_or_else(|| panic!("no {head:?} in:\n{doc}"));
    let rest = &doc[at + head.len()..];
    let level = head.split(' ').next().unwrap_or("##");
    let end = rest.find(&format!("\n{level} ")).unwrap_or(rest.len());
    &rest[..end]
}

/// walk 2 N7: the snapshot (critical, due 09:55) marked failed at 09:50. It is open but never
/// overdue: no overdue alert at 09:55, the detail pane says it needs follow-up; the rule's
/// settled count and the phase bar's open count add up to the phase's steps, and the handover,
/// the report and the rehearsal report count and word it the same way.
#[test]
fn a_failed_step_is_open_needs_follow_up_and_is_counted_alike_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("failed.jsonl");
    let t = rehearsal("failed-step", &j, "09:50");
    t.wait_for("the rehearsal", |s| s.contains("REHEARSAL x60"));
    t.keys(&["p"]);
    t.wait_for("the pause", |s| s.contains("PAUSED"));
    t.keys(&["/"]);
    t.keys(&["-l", "Snapshot before the failover"]);
    t.keys(&["Enter"]);
    t.wait_for("the snapshot selected", |s| {
        s.contains("── ep-primary-boundary ")
    });
    t.keys(&["f"]);
    t.wait_for("the failed prompt", |s| s.contains("What failed in"));
    t.keys(&["-l", "no snapshot: the disk was full"]);
    t.keys(&["Enter"]);
    t.wait_for("the failure recorded", |s| {
        s.contains("recorded: Snapshot before the failover: failed")
    });
    // Failed is not settled: none of the primary site's 7 steps is. (The preparation's open
    // steps are folded under their heading: the list fits, and the rule has room for the count.)
    t.keys(&["G"]);
    let s = t.wait_for("the rule with its count", |s| {
        s.lines()
            .any(|l| l.starts_with("── Primary site") && l.contains(" settled"))
    });
    let rule = s
        .lines()
        .find(|l| l.starts_with("── Primary site"))
        .unwrap_or_else(|| panic!("{s}"));
    assert!(rule.contains(" · 0 of 7 settled"), "{rule}");
    t.keys(&["/"]);
    t.keys(&["-l", "Snapshot before the failover"]);
    t.keys(&["Enter"]);
    let s = t.wait_for("its detail", |s| s.contains("── ep-primary-boundary "));
    assert!(
        s.contains("State: [!] failed, needs follow-up by walker@"),
        "{s}"
    );

    // Past its due time: not overdue, so no overdue alert and no OVERDUE on its row.
    let s = run_until(&t, "09:56");
    assert!(
        !joined(&s).contains("Overdue: Snapshot before the failover"),
        "{s}"
    );
    let row = s
        .lines()
        .find(|l| l.ends_with("ep Snapshot before the failover"))
        .unwrap_or_else(|| panic!("{s}"));
    assert!(
        row.contains("[!] failed") && !row.contains("OVERDUE"),
        "{row}"
    );

    // After 10:00 the phase bar counts the primary site's open steps: all 7, the failed one too.
    t.keys(&[">"]);
    t.wait_for("the jump", |s| s.contains("jumped to 09:59:00 HKT"));
    let s = run_until(&t, "10:00");
    let bar = line(&s, 4);
    assert!(bar.contains(" 7 open "), "the phase bar: {bar}\n{s}");
    t.keys(&["q"]);
    t.wait_for("the exit", |s| s.contains("EXITED 0"));
    // The rehearsal report printed at exit is folded at 80 columns, as `report` prints it: read
    // with tmux's wrapped rows joined, none of its lines is longer (the resume command above it
    // stays whole: it is to be copied).
    let printed =
        String::from_utf8_lossy(&t.tmux(&["capture-pane", "-p", "-J", "-S", "-400"]).stdout)
            .into_owned();
    let at = printed
        .find("# REHEARSAL report")
        .unwrap_or_else(|| panic!("{printed}"));
    for l in printed[at..].lines() {
        assert!(
            l.chars().count() <= 80,
            "{} columns: {l}",
            l.chars().count()
        );
    }

    let journal = std::fs::read_to_string(&j).unwrap();
    assert!(
        !journal.contains("step:ep-primary-boundary:overdue"),
        "no overdue alert for a failed step:\n{journal}"
    );

    let path = j.to_str().unwrap();
    let ho = unfold(&read(&["handover", path]));
    let item = ho
        .lines()
        .find(|l| l.contains("Snapshot before the failover (`ep-primary-boundary`"))
        .unwrap_or_else(|| panic!("{ho}"));
    assert!(
        item.starts_with("- [!] failed, needs follow-up Snapshot before the failover")
            && !item.contains("OVERDUE"),
        "{item}"
    );
    assert!(ho.contains("Totals: 0 of "), "{ho}");
    assert!(
        ho.contains(" open, 1 of them failed; by state 1 failed,"),
        "{ho}"
    );

    let rep = unfold(&read(&["report", path]));
    assert!(
        rep.contains("- [!] failed, needs follow-up: Snapshot before the failover"),
        "{rep}"
    );
    let rehearsal = section(&rep, "# REHEARSAL report");
    let primary = section(rehearsal, "- Primary site\n");
    assert!(
        primary.contains("Steps settled: 0 of 7 settled, 7 open, 1 of them failed"),
        "{primary}"
    );
    let open = section(rehearsal, "## Steps still open at the end");
    let snap = open
        .lines()
        .find(|l| l.contains("(ep-primary-boundary,"))
        .unwrap_or_else(|| panic!("{open}"));
    assert_eq!(
        snap,
        "- [!] failed, needs follow-up Snapshot before the failover (ep-primary-boundary, ep, phase primary, critical), due 09:55 HKT"
    );
}

/// walk 2 N8: the end of the failover confirmed at 10:58:30 against the planned ~11:00. The
/// status line, the banner, `log`, the handover, the report and the rehearsal report all say
/// `1m30s before plan` beside 10:58:30; the phase bar gives the time itself; no `-1m` anywhere.
#[test]
fn one_confirmation_shows_one_drift_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("drift.jsonl");
    let t = rehearsal("one-drift", &j, "10:59");
    t.wait_for("the rehearsal", |s| s.contains("REHEARSAL x60"));
    t.keys(&["p"]);
    t.wait_for("the pause", |s| s.contains("PAUSED"));
    t.keys(&["c"]);
    t.wait_for("the confirm prompt", |s| {
        s.contains("Confirm Failover to the backup site ends")
    });
    t.keys(&["C-u"]);
    t.keys(&["-l", "10:58:30 DR completed on OMD-C channel 21"]);
    let s = t.wait_for("the drift read back", |s| {
        s.contains("observed at 10:58:30 HKT (planned ~11:00 HKT, 1m30s before plan)")
    });
    assert!(!s.contains("-1m"), "{s}");
    t.keys(&["Enter"]);
    let s = t.wait_for("the status and the banner", |s| {
        let all = joined(s);
        all.contains("confirmed at 10:58:30 HKT (planned ~11:00 HKT, 1m30s before plan)")
            && all.contains("Confirmed at 10:58:30 HKT (planned ~11:00 HKT, 1m30s before plan).")
    });
    let bar = line(&s, 4);
    assert!(bar.contains(" 10:58:30 "), "the phase bar: {bar}");
    for wrong in ["-1m", "10:58 (", "+0"] {
        assert!(!s.contains(wrong), "{wrong:?} on screen:\n{s}");
    }
    t.keys(&["q"]);
    t.wait_for("the exit", |s| s.contains("EXITED 0"));

    let path = j.to_str().unwrap();
    // `log` folds its lines under 80 columns: read with the folds joined.
    let log = read(&["log", path])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let ho = unfold(&read(&["handover", path]));
    let rep = unfold(&read(&["report", path]));
    assert!(
        log.contains("confirmed 10:58:30 HKT (1m30s before plan)"),
        "{log}"
    );
    assert!(
        ho.contains("  - observed 10:58:30 HKT (02:58:30 GMT), 1m30s before plan\n"),
        "{ho}"
    );
    assert!(
        ho.contains("- Current phase: **Backup site** (`backup`), 10:58:30 HKT to 12:10 HKT"),
        "{ho}"
    );
    assert!(
        rep.contains(
            "### Backup site: 10:58:30 HKT to 12:10 HKT\n\nStart confirmed at 10:58:30 HKT: planned ~11:00 HKT, 1m30s before plan.\n"
        ),
        "{rep}"
    );
    assert!(rep.contains("  - Drift: 1m30s before plan\n"), "{rep}");
    let backup = section(section(&rep, "# REHEARSAL report"), "- Backup site\n");
    assert!(
        backup.contains("  - Reached: 10:58:30 HKT\n  - Drift: 1m30s before plan\n"),
        "{backup}"
    );
    for (what, text) in [("log", &log), ("handover", &ho), ("report", &rep)] {
        assert!(!text.contains("-1m"), "{what} has -1m:\n{text}");
    }
}
