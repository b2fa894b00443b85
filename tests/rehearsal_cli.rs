//! `drillbook run --rehearse --headless` as a user runs it: the whole PS2 day at 3600x, every
//! transition once and in order, a journal where every event is marked rehearsal, the report at
//! the end, and the real record never mixed with a rehearsal.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_drillbook");

fn drillbook(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

/// `drillbook run --role ep --headless --notify off --journal J` plus `flags` (space-separated).
fn headless(journal: &std::path::Path, flags: &str) -> Output {
    let mut args = vec!["run", "--role", "ep", "--headless", "--notify", "off"];
    args.extend(flags.split_whitespace());
    args.extend(["--journal", journal.to_str().unwrap()]);
    drillbook(&args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn the_whole_day_at_3600x_prints_each_transition_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("r.jsonl");
    let out = headless(&j, "--rehearse --speed 3600");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let phases: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("  phase    "))
        .map(|l| l.rsplit('[').next().unwrap().trim_end_matches(']'))
        .collect();
    assert_eq!(
        phases,
        [
            "pre-session.end",
            "primary.end",
            "failover.end",
            "backup.end",
            "clean-up.end",
            "reporting.end"
        ],
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .all(|l| !l.contains("  notify  ") || l.contains("[REHEARSAL]"))
    );
    assert!(stdout.contains("# REHEARSAL report"), "{stdout}");
    assert!(
        stdout
            .contains("- Backup site\n  - Planned start: ~11:00 HKT\n  - Reached: 11:00:00 HKT\n"),
        "{stdout}"
    );

    let body = std::fs::read_to_string(&j).unwrap();
    let events: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"attach"));
    assert_eq!(kinds.last(), Some(&"detach"));
    assert!(kinds.contains(&"boundary_confirmed"), "{kinds:?}");
    assert!(events.iter().all(|e| e["rehearsal"]["speed"] == 3600.0));
    let entered: Vec<&str> = events
        .iter()
        .filter(|e| e["kind"] == "phase_entered")
        .map(|e| e["phase"].as_str().unwrap())
        .collect();
    // The phase the rehearsal starts in is entered too: the same loop as the app.
    assert_eq!(
        entered,
        [
            "pre-session",
            "primary",
            "failover",
            "backup",
            "clean-up",
            "reporting"
        ]
    );
    // Headless output is plain lines: no escape sequence reaches a stdout that is a pipe.
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{7}'),
        "{stdout}"
    );
}

#[test]
fn a_rehearsal_never_writes_into_the_real_record_nor_the_reverse() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.jsonl");
    // A real headless run after the session: it records its attach and detach, nothing else.
    let out = headless(&real, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("the session ended on Sat 25 Nov 2023 14:00 HKT"));
    let before = std::fs::read(&real).unwrap();

    let out = headless(&real, "--rehearse");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is the real record"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&real).unwrap(),
        before,
        "the real journal is untouched"
    );

    let rehearsal = dir.path().join("rehearsal.jsonl");
    let out = headless(&rehearsal, "--rehearse --speed 3600 --start-at clean-up");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = headless(&rehearsal, "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is a rehearsal journal"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn date_moves_the_timetable_and_bad_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("moved.jsonl");
    let out = headless(
        &j,
        "--rehearse --speed 3600 --date 2024-03-02 --start-at reporting",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body = std::fs::read_to_string(&j).unwrap();
    let first: serde_json::Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    // One minute before reporting (13:00 HKT) on the new date. At 3600x each real millisecond
    // before the first event is written moves the virtual clock 3.6 s: any time in that minute.
    let virt = first["rehearsal"]["virtual_utc"].as_str().unwrap();
    let virt = chrono::DateTime::parse_from_rfc3339(virt).expect(virt);
    let start = chrono::DateTime::parse_from_rfc3339("2024-03-02T04:59:00Z").unwrap();
    assert!(
        virt >= start && virt < start + chrono::TimeDelta::minutes(1),
        "{virt}"
    );

    for (args, says) in [
        (
            vec!["run", "--role", "ep", "--speed", "60", "--headless"],
            "--rehearse",
        ),
        (
            vec![
                "run",
                "--role",
                "ep",
                "--rehearse",
                "--speed",
                "0",
                "--headless",
            ],
            "from 1 to 3600",
        ),
        (
            vec![
                "run",
                "--role",
                "ep",
                "--rehearse",
                "--start-at",
                "lunch",
                "--headless",
            ],
            "name a phase",
        ),
        (
            vec![
                "run",
                "--role",
                "ep",
                "--rehearse",
                "--start-at",
                "09:59:45",
                "--headless",
            ],
            "`09:59:45`: seconds are not accepted here; write HH:MM, for example 09:59",
        ),
        (
            vec!["run", "--role", "ep", "--lead", "x", "--headless"],
            "--lead",
        ),
    ] {
        let out = drillbook(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn terminal_notifications_never_go_into_a_stdout_that_is_a_pipe() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("r.jsonl");
    let mut cmd = Command::new(BIN);
    cmd.args([
        "run",
        "--role",
        "ep",
        "--headless",
        "--rehearse",
        "--speed",
        "3600",
        "--notify",
        "terminal",
        "--journal",
    ])
    .arg(&j)
    .env("TZ", "Europe/London");
    // SAFETY: setsid in the child before exec: a new session without a controlling terminal.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("  notify  "),
        "alerts are still printed: {stdout}"
    );
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{7}'),
        "no escape sequence in stdout: {stdout:?}"
    );
    assert!(
        text(&out.stderr).contains("no controlling terminal"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn run_forward_sends_the_journal_to_a_syslog_collector_as_it_is_written() {
    let collector = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    collector
        .set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .unwrap();
    let url = format!("syslog+udp://{}", collector.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("r.jsonl");
    let out = headless(&j, &format!("--rehearse --speed 3600 --forward {url}"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = collector.recv(&mut buf) {
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    // Every phase the day entered, as an RFC 5424 message from drillbook, with its seq.
    let entered: Vec<&String> = got
        .iter()
        .filter(|m| m.contains(" drillbook ") && m.contains("phase_entered"))
        .collect();
    assert_eq!(entered.len(), 6, "{got:#?}");
    assert!(
        got.iter().all(|m| m.starts_with('<')),
        "RFC 5424 PRI first: {got:#?}"
    );
    // Nothing twice: each message names its event's seq once.
    let mut seqs: Vec<&str> = got
        .iter()
        .filter_map(|m| m.split("seq=\"").nth(1)?.split('"').next())
        .collect();
    let n = seqs.len();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), n, "a message sent twice: {got:#?}");
    assert!(n >= 6, "each message carries its seq: {got:#?}");
}

#[test]
fn a_headless_rehearsal_prints_each_simulated_check_it_journals() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("sim.jsonl");
    let mut args = vec!["run", "--role", "ep,omd", "--headless", "--notify", "off"];
    args.extend(["--rehearse", "--speed", "3600", "--simulate-checks", "pass"]);
    args.extend(["--journal", j.to_str().unwrap()]);
    let out = drillbook(&args);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let printed = stdout
        .lines()
        .filter(|l| l.contains("  check    ") && l.contains("simulated pass"))
        .count();
    let journaled = std::fs::read_to_string(&j)
        .unwrap()
        .lines()
        .filter(|l| l.contains(r#""kind":"check""#))
        .count();
    assert!(journaled > 0, "the rehearsal ran checks");
    assert_eq!(
        printed, journaled,
        "one line per check journaled:\n{stdout}"
    );
}
