//! log, handover and report against a known journal (tests/fixtures/journals/ps2-ep-hsn.jsonl,
//! written by make.py in the real format), its rehearsal twin, and `log --follow` on a journal
//! that grows.

#[path = "support/cli.rs"]
mod cli;

use cli::{drillbook, fixture, poll, stderr, stdout};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

// After the last entry (11:55), so the whole journal counts; `--at` folds only what came before it.
const AT: &str = "2023-11-25 11:56:00";

fn fx() -> String {
    fixture("ps2-ep-hsn.jsonl").to_str().unwrap().to_owned()
}

fn has(text: &str, want: &[&str]) {
    for w in want {
        assert!(text.contains(w), "missing {w:?} in:\n{text}");
    }
}

#[test]
fn the_fixture_is_a_valid_journal_for_the_bundled_runbooks() {
    let r = drillbook::journal::read(&fixture("ps2-ep-hsn.jsonl")).unwrap();
    assert_eq!(r.events.len(), 29);
    assert!(r.torn.is_none());
    let out = drillbook(&["handover", &fx()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stdout(&out).contains("hash mismatch"),
        "regenerate the fixture with make.py after changing the bundled runbooks"
    );
}

#[test]
fn handover_says_where_the_session_stands_what_was_done_and_what_is_open() {
    let out = drillbook(&["handover", &fx(), "--at", AT]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = cli::unfold(&stdout(&out));
    has(
        &s,
        &[
            "# Handover\n\n- Session: HKEX PS2 - backbone network firmware upgrade, failover practice for securities market systems (`hkex-ps2-2023-11-25`)\n",
            "- Roles: ep, hsn",
            "- Written at: Sat 25 Nov 2023 11:56 HKT (Sat 03:56 GMT)",
            "- Last journal entry: #29 by bob@desk2 at 11:55:00 HKT (03:55:00 GMT)",
            // The confirmed boundary moves the phase's start.
            "- Current phase: **Backup site** (`backup`), 11:20:00 HKT to 12:10 HKT",
            "  - 12:10:00 HKT (04:10:00 GMT): Backup site ends, Clean-up starts (in 14m00s)",
            "### Done (6)",
            "- [x] Log in to OTP-C - OCG-C Trading session at the backup site (`ep-backup-logon-trading`, ep) by alice@desk1 at 11:25:00 HKT (03:25:00 GMT)",
            "### Failed (1)",
            "(`ep-primary-logon-dropcopy`, ep) by alice@desk1 at 08:12:00 HKT (00:12:00 GMT): Drop Copy logon rejected: sequence reset needed",
            "### Skipped (1)",
            "(`ep-backup-market-data`, ep) by alice@desk1 at 11:35:00 HKT (03:35:00 GMT): vendor screens not in scope today",
            "### Deferred (1)",
            "- [>] Simulate daily operations on OTP-C (`ep-primary-simulate`, ep) by alice@desk1 at 09:30:00 HKT (01:30:00 GMT)",
            "Totals: 7 of 61 settled, 54 open, 1 of them failed; by state 1 failed, 1 deferred, 1 skipped, 6 done, 0 n/a, 52 pending.",
            "## Open steps",
            "### Carried from earlier phases",
            "- [!] failed, needs follow-up Log on the OCG-C Drop Copy session at the primary site (`ep-primary-logon-dropcopy`",
            "(`hsn-pre-intention-form`, hsn, phase pre-session, critical), due Thu 23 Nov 17:00 HKT (Thu 23 Nov 09:00 GMT) **OVERDUE**",
            "(`hsn-cleanup-routing`, hsn, phase clean-up, critical), due Sat 25 Nov 13:00 HKT (Sat 25 Nov 05:00 GMT)\n",
            "- 08:20:00 HKT (00:20:00 GMT) alice@desk1 on session: `Vendor called about the drop copy \u{241b}[31mred`",
            "- Failover to the backup site ends, Backup site starts: planned ~11:00 HKT\n  - observed 11:20:00 HKT (03:20:00 GMT), 20m00s after plan\n  - entered by alice@desk1 at 11:21:00 HKT (03:21:00 GMT)\n",
            "- Primary site ends, Failover to the backup site starts: 10:00 HKT, fixed\n",
            // Typed evidence under its step.
            "(`ep-backup-logon-trading`, ep) by alice@desk1 at 11:25:00 HKT (03:25:00 GMT)\n  - logon time: 11:24:10\n",
            "- Last preflight (`drillbook notify-test`) by alice@desk1 at 07:52:00 HKT (Fri 24 Nov 23:52:00 GMT): channels desktop, terminal; the operator saw it",
            "- Channel desktop: 1 sent, 0 failed",
            "- Channel terminal: 0 sent, 1 failed; last FAILED 10:45:00 HKT (02:45:00 GMT) (failover.end@-15m): tmux passthrough is off",
            "## Shift history\n\n- 07:50:00 HKT (Fri 24 Nov 23:50:00 GMT): alice@desk1 started recording (roles ep, hsn)",
            "- 11:46:00 HKT (03:46:00 GMT): bob@desk2 acknowledged the handover\n",
        ],
    );
    // Undone: bob's mistaken "failed" is gone, the step is pending again.
    assert!(!s.contains("pressed by mistake"), "{s}");
    assert!(!s.contains('\u{1b}'), "no raw escape reaches the terminal");
    assert!(!s.contains("REHEARSAL"));
    // Before the session, no phase; the first boundary is next.
    let out = drillbook(&["handover", &fx(), "--at", "2023-11-25 07:00:00"]);
    has(
        &cli::unfold(&stdout(&out)),
        &[
            "- Current phase: **Preparation**",
            "  - 08:00:00 HKT (00:00:00 GMT): Preparation ends, Primary site starts (in 1h00m)",
        ],
    );
    // --at takes the forms --start-at takes, in the session zone; each gives the same instant.
    for at in ["11:56", "11:56:00", "2023-11-25 11:56", AT] {
        let out = drillbook(&["handover", &fx(), "--at", at]);
        assert!(out.status.success(), "{at}: {}", stderr(&out));
        has(
            &cli::unfold(&stdout(&out)),
            &["- Written at: Sat 25 Nov 2023 11:56 HKT (Sat 03:56 GMT)"],
        );
    }
    let out = drillbook(&["handover", &fx(), "--at", "backup"]);
    has(
        &cli::unfold(&stdout(&out)),
        &["- Written at: Sat 25 Nov 2023 11:00 HKT (Sat 03:00 GMT)"],
    );
    // A refusal says what is wrong once, then the forms, in the session zone (walk 3 R16).
    for (at, why) in [
        ("25:00", "the hour `25` is not 0-23"),
        ("10:2", "minutes take two digits (`2`: 02 or 20?)"),
        ("2023-13-01 10:00", "not a date (YYYY-MM-DD)"),
        ("lunch", "not a time or a phase id"),
    ] {
        let out = drillbook(&["handover", &fx(), "--at", at]);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("--at `{at}`: {why}; write HH:MM[:SS], ")),
            "{err}"
        );
        assert!(err.trim_end().ends_with(", in Asia/Hong_Kong"), "{err}");
    }
}

#[test]
fn report_has_the_result_per_system_and_phase_times_issues_references_and_contacts() {
    let out = drillbook(&["report", &fx()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = cli::unfold(&stdout(&out));
    has(
        &s,
        &[
            "# Evidence report\n\n- Session: HKEX PS2 - backbone network firmware upgrade, failover practice for securities market systems (`hkex-ps2-2023-11-25`), Sat 25 Nov 2023\n",
            // Too wide for 80 columns as tables: lists of the same cells.
            "- OTP-C\n  - Preparation: incomplete (1 of 6 settled, 5 open)\n  - Primary site: FAILED (1 of 6 settled, 5 open, 1 of them failed)\n  - Failover to the backup site: incomplete (0 of 5 settled, 5 open)\n  - Backup site: incomplete (1 of 10 settled, 9 open)\n",
            "- HSN\n  - Preparation: incomplete (0 of 4 settled, 4 open)\n  - Primary site: success (2 of 2 done)\n  - Failover to the backup site: incomplete (0 of 2 settled, 2 open)\n  - Backup site: incomplete (1 of 3 settled, 2 open)\n",
            "- `ep-primary-logon-trading`\n  - Field: logon time\n  - Value: 08:04:30\n  - Phase: primary\n  - Systems: OTP-C\n  - Recorded: 08:05:10 HKT",
            "- `ep-backup-logon-trading`\n  - Field: logon time\n  - Value: 11:24:10\n  - Phase: backup\n  - Systems: OTP-C\n  - Recorded: 11:25:10 HKT",
            "- `hsn-backup-connectivity`\n  - Field: time verified\n  - Value: 11:29\n  - Phase: backup\n  - Systems: HSN\n  - Recorded: 11:30:05 HKT",
            "- 08:12:00 HKT (00:12:00 GMT): FAILED Log on the OCG-C Drop Copy session at the primary site (`ep-primary-logon-dropcopy`, OTP-C) by alice@desk1: Drop Copy logon rejected: sequence reset needed",
            "## Session notes\n\n- 08:20:00 HKT (00:20:00 GMT) alice@desk1: `Vendor called about the drop copy \u{241b}[31mred`\n",
            "## Notifications that failed\n\n- 10:45:00 HKT (02:45:00 GMT): `failover.end@-15m` on terminal: tmux passthrough is off",
            "- Failover to the backup site ends, Backup site starts\n  - Planned: ~11:00:00 HKT (03:00:00 GMT)\n  - Confirmed: 11:20:00 HKT (03:20:00 GMT)\n  - Drift: 20m00s after plan\n  - By: alice@desk1, recorded 11:21:00 HKT (03:21:00 GMT)\n",
            "### Backup site: 11:20:00 HKT to 12:10 HKT\n\nStart confirmed at 11:20:00 HKT: planned ~11:00 HKT, 20m00s after plan.\n",
            "- OPS/CS/010/23: Second Practice Session",
            "- MDD/23/690:",
            "- Participant General Enquiry Hotline (calls may be recorded), phone 2840 3626, e-mail trd@hkex.com.hk",
            "phone (852) 2211 6080, e-mail hsservicedesk@hkex.com.hk",
        ],
    );
    // The credential step's evidence says who confirmed it, never a secret.
    has(&s, &["evidence: credential confirmed by = alice"]);
    assert!(!s.contains('\u{1b}'));
    assert!(!s.contains("REHEARSAL"));

    let out = drillbook(&["report", "--format", "csv", &fx()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = stdout(&out);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], drillbook::report::CSV_HEADER);
    has(
        &csv,
        &[
            ",step,primary,OTP-C,ep-primary-logon-dropcopy,Log on the OCG-C Drop Copy session at the primary site,failed,critical,2023-11-25T08:15:00+08:00,alice@desk1,2023-11-25T08:12:00+08:00,2023-11-25T00:12:00Z,,,Drop Copy logon rejected: sequence reset needed,,\n",
            ",evidence,backup,OTP-C,ep-backup-logon-trading,Log in to OTP-C - OCG-C Trading session at the backup site,,,,alice@desk1,2023-11-25T11:25:10+08:00,2023-11-25T03:25:10Z,logon time,11:24:10,,,\n",
        ],
    );
    // Every row has the header's number of fields (no field holds a comma unquoted).
    for r in &rows {
        let mut n = 1;
        let mut quoted = false;
        for c in r.chars() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => n += 1,
                _ => {}
            }
        }
        assert_eq!(n, 17, "{r}");
    }
}

fn rehearsal_twin(dir: &std::path::Path) -> std::path::PathBuf {
    cli::rehearsal_twin("ps2-ep-hsn.jsonl", dir, "rehearsal.jsonl")
}

#[test]
fn a_rehearsal_journal_is_labelled_everywhere_and_reports_the_rehearsal() {
    let dir = tempfile::tempdir().unwrap();
    let j = rehearsal_twin(dir.path());
    let p = j.to_str().unwrap();
    let out = drillbook(&["handover", p]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = cli::unfold(&stdout(&out));
    assert!(s.starts_with("# REHEARSAL — not the real record\n"), "{s}");
    // Described at the rehearsal clock's last instant, not today.
    has(
        &s,
        &["- Written at: Sat 25 Nov 2023 11:55 HKT", "**Backup site**"],
    );

    let out = drillbook(&["report", p]);
    let s = cli::unfold(&stdout(&out));
    assert!(s.starts_with("# REHEARSAL — not the real record\n"), "{s}");
    has(
        &s,
        &[
            "# REHEARSAL report - not a record of the real session",
            "## Phases: planned vs reached",
        ],
    );
    let out = drillbook(&["report", "--format", "csv", p]);
    assert!(stderr(&out).contains("REHEARSAL — not the real record"));
    assert!(
        stdout(&out)
            .lines()
            .skip(1)
            .all(|l| l.starts_with("REHEARSAL,"))
    );
    let out = drillbook(&["log", p]);
    assert!(stdout(&out).starts_with("REHEARSAL — not the real record\n"));
    // `record` writes real events and will not mix them into a rehearsal journal.
    let before = std::fs::read(&j).unwrap();
    let out = drillbook(&["record", p, "--role", "ep,hsn"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("a rehearsal journal"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&j).unwrap(), before);
    // An acknowledgement carries the rehearsal stamp, so the journal stays one kind.
    let out = drillbook(&["handover", "--ack", p, "--operator", "carol"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = drillbook::journal::read(&j).unwrap();
    assert!(r.is_rehearsal());
    assert!(r.events.last().unwrap().rehearsal.is_some());
}

/// walk 2 N11: the head of `handover` fitted 80 columns but for its H1 (the session's title,
/// 105 columns) and the journal's path (a rehearsal's default name in the state folder), and
/// said `REHEARSAL — not the real record` twice. Now every line of the handover fits, the head
/// of the report too, and the label is said once, first.
#[test]
fn the_head_of_handover_and_report_fits_80_columns_and_says_rehearsal_once() {
    use unicode_width::UnicodeWidthStr;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("home/alice/.local/state/drillbook");
    std::fs::create_dir_all(&state).unwrap();
    let name = "hkex-ps2-2023-11-25--ep+hsn.rehearsal-20231125T014000Z.jsonl";
    let j = state.join(name);
    std::fs::rename(rehearsal_twin(dir.path()), &j).unwrap();
    let p = j.to_str().unwrap();
    assert!(
        p.len() > 80 - "- Journal: ``".len(),
        "a path that did not fit: {p}"
    );
    for cmd in ["handover", "report"] {
        let out = drillbook(&[cmd, p]);
        assert!(out.status.success(), "{}", stderr(&out));
        let s = stdout(&out);
        let head = &s[..s.find("\n## ").unwrap()];
        // The report's phase headings carry both ends of a phase and stay whole; its head fits.
        let lines: Vec<&str> = if cmd == "handover" {
            s.lines().collect()
        } else {
            head.lines().collect()
        };
        for l in lines {
            assert!(l.width() <= 80, "{cmd}: {} columns: {l}", l.width());
        }
        assert!(s.starts_with("# REHEARSAL — not the real record\n"), "{s}");
        assert_eq!(
            s.matches("REHEARSAL — not the real record").count(),
            1,
            "{s}"
        );
        let joined = cli::unfold(head);
        assert!(
            joined.contains(&format!("- Journal: `{name}` in `{}/`\n", state.display())),
            "{joined}"
        );
        assert!(
            joined.contains("- Session: HKEX PS2 - backbone network firmware upgrade, failover practice for securities market systems (`hkex-ps2-2023-11-25`)"),
            "{joined}"
        );
    }
}

#[test]
fn log_lines_show_both_zones_who_kind_and_neutralised_text() {
    let out = drillbook(&["log", "--wide", &fx()]);
    assert!(out.status.success());
    let s = stdout(&out);
    assert_eq!(s.lines().count(), 29);
    has(
        &s,
        &[
            "#12    2023-11-25 08:12:00 HKT  00:12:00 GMT  alice@desk1           step               ep-primary-logon-dropcopy failed: Drop Copy logon rejected: sequence reset needed\n",
            "#13    2023-11-25 08:20:00 HKT  00:20:00 GMT  alice@desk1           note               on the session: Vendor called about the drop copy \u{241b}[31mred\n",
            "boundary_confirmed failover.end planned 11:00:00 HKT, confirmed 11:20:00 HKT (20m00s after plan)",
            "undo               of #27",
        ],
    );
    assert!(!s.contains('\u{1b}'));
}

#[test]
fn log_follow_prints_appended_events_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("follow.jsonl");
    let out = cli::record_all(&j, "ep", "alice", &["done ep-pre-registration"]);
    assert!(out.status.success());
    let mut child = Command::new(cli::BIN)
        .args(["log", "--follow"])
        .arg(&j)
        .env("TZ", "Europe/London")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let reader = {
        let seen = Arc::clone(&seen);
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                seen.lock().unwrap().push(l);
            }
        })
    };
    // Not a terminal: the compact layout, a heading line per event.
    let headings = |seen: &Vec<String>| seen.iter().filter(|l| l.starts_with('#')).count();
    poll("the existing events", || {
        headings(&seen.lock().unwrap()) == 3
    });
    // A writer holds the journal (as the app does); the follower beside it reads on, read-only,
    // printing each action and phase transition as it is journaled.
    let mut w = cli::Recorder::start(&j, "ep", "bob").unwrap();
    w.send("note appended while following \u{1b}]0;title\u{7}");
    w.send("phase primary");
    poll("the appended note and phase", || {
        let seen = seen.lock().unwrap();
        seen.iter().any(|l| l.contains("appended while following"))
            && seen.iter().any(|l| l.ends_with("phase_entered"))
    });
    let seen_now = seen.lock().unwrap().clone();
    let at = seen_now
        .iter()
        .position(|l| l.contains("appended while following"))
        .unwrap();
    let (heading, note) = (&seen_now[at - 1], &seen_now[at]);
    assert!(
        heading.contains("bob@") && heading.ends_with("note"),
        "{heading}"
    );
    assert!(
        note.contains("\u{241b}]0;title\u{2407}"),
        "neutralised: {note:?}"
    );
    let phase = seen_now
        .iter()
        .position(|l| l.ends_with("phase_entered"))
        .unwrap();
    assert_eq!(seen_now[phase + 1].trim(), "primary");
    drop(w);
    // SAFETY: signalling the child we started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    assert!(status.success(), "ends cleanly on SIGTERM: {status:?}");
    reader.join().unwrap();
    let _ = std::io::stdout().flush();
}

/// A followed journal truncated under the follower: it stops, exit 1, and says why and that it
/// stopped following, once.
#[test]
fn log_follow_says_once_that_it_stopped_when_the_journal_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("follow.jsonl");
    let out = cli::record_all(&j, "ep", "alice", &["note one", "note two"]);
    assert!(out.status.success());
    let mut child = Command::new(cli::BIN)
        .args(["log", "--follow"])
        .arg(&j)
        .env("TZ", "Europe/London")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let reader = {
        let seen = Arc::clone(&seen);
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                seen.lock().unwrap().push(l);
            }
        })
    };
    poll("the existing events", || {
        seen.lock().unwrap().iter().any(|l| l.ends_with("detach"))
    });
    std::fs::OpenOptions::new()
        .write(true)
        .open(&j)
        .unwrap()
        .set_len(100)
        .unwrap();
    let mut status = None;
    poll("the follower to stop", || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    reader.join().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.unwrap().code(), Some(1), "{err}");
    assert!(err.contains("truncated or rewritten"), "{err}");
    assert_eq!(err.matches("stopped following").count(), 1, "{err}");
}

#[test]
fn a_step_about_both_market_data_systems_counts_under_each() {
    use drillbook::journal::Record;
    use drillbook::report;
    let plan = drillbook::runbook::load_bundled(&["omd".into()]).unwrap();
    assert_eq!(report::systems(&plan), ["OMD-C", "OMD-CC", "(general)"]);
    let backup = plan.session.phase_index("backup").unwrap();
    let count = |sys: &str| {
        plan.steps_in(backup)
            .filter(|(_, s)| s.systems.iter().any(|x| x == sys))
            .count()
    };
    // omd-backup-omdcc alone, and the steps tagged [OMD-C, OMD-CC].
    let both = plan
        .steps_in(backup)
        .filter(|(_, s)| s.systems.len() == 2)
        .count();
    assert!(both > 0);
    assert_eq!(count("OMD-CC"), both + 1);
    let ctx = drillbook::handover::Context {
        now: plan.session.phases[backup].start.at,
        local_tz: chrono_tz::UTC,
        journal: "j.jsonl".into(),
        rehearsal: false,
        hash_mismatch: None,
    };
    let built = report::build(&plan, &Record::default(), &ctx);
    let cell = built.phases[backup]
        .results
        .iter()
        .find(|r| r.system == "OMD-CC")
        .unwrap();
    assert_eq!(
        cell.tally.describe(),
        format!("incomplete (0 of {n} settled, {n} open)", n = both + 1)
    );
}
