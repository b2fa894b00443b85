//! The journal on disk, through the real binary: replay round trip, a torn last line, a hash
//! mismatch, and bad journals (each refused with a clear message, the file left byte for byte).

#[path = "support/cli.rs"]
mod cli;

use cli::{SESSION, drillbook, lines, record_all, stderr, stdout};
use drillbook::journal::{self, StepState};
use std::io::Write;
use std::path::Path;

#[test]
fn a_second_writer_resumes_the_same_state_and_numbering() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("rt.jsonl");
    let out = record_all(
        &j,
        "ep",
        "alice",
        &[
            "done ep-pre-registration",
            "failed ep-primary-logon-trading rejected at logon",
            "evidence ep-primary-logon-trading logon time = 08:05:10",
            "note bridge open",
            "confirm failover.end 2023-11-25 11:20:00",
            "done ep-pre-rundown",
            "undo 7",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).lines().collect::<Vec<_>>(),
        [
            "ready 1",
            "ok 2",
            "ok 3",
            "ok 4",
            "ok 5",
            "ok 6",
            "ok 7",
            "ok 8",
            "detached 9"
        ]
    );
    let first = journal::read(&j).unwrap();

    // A second process continues the journal: numbering goes on, nothing is rewritten.
    let before = std::fs::read(&j).unwrap();
    let out = record_all(&j, "ep", "bob", &["deferred ep-pre-weather"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "ready 10\nok 11\ndetached 12\n");
    let after = std::fs::read(&j).unwrap();
    assert_eq!(&after[..before.len()], &before[..], "only appended to");

    let r = journal::read(&j).unwrap();
    let rec = &r.record;
    assert_eq!(
        rec.state_of("ep-pre-registration").unwrap().state,
        StepState::Done
    );
    let failed = rec.state_of("ep-primary-logon-trading").unwrap();
    assert_eq!(failed.state, StepState::Failed);
    assert_eq!(failed.note.as_deref(), Some("rejected at logon"));
    assert_eq!(failed.stamp.operator, "alice");
    assert_eq!(
        rec.evidence_of("ep-primary-logon-trading", "logon time")
            .unwrap()
            .value,
        "08:05:10"
    );
    assert_eq!(rec.notes[0].text, "bridge open");
    assert!(rec.confirmation("failover.end").is_some());
    assert!(rec.state_of("ep-pre-rundown").is_none(), "undone");
    assert_eq!(
        rec.state_of("ep-pre-weather").unwrap().stamp.operator,
        "bob"
    );
    // Folding the first run's events gives the first run's state: the fold is the state.
    assert_eq!(r.events[..first.events.len()], first.events[..]);

    // `log --json` prints the events as parsed, one a line, which parse back to the same events.
    let out = drillbook(&["log", "--json", j.to_str().unwrap()]);
    assert!(out.status.success());
    let back: Vec<journal::Event> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back, r.events);
}

#[test]
fn a_torn_last_line_is_reported_left_out_and_set_aside_by_the_next_writer() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("torn.jsonl");
    let out = record_all(&j, "ep", "alice", &["done ep-pre-registration"]);
    assert!(out.status.success());
    let mut f = std::fs::OpenOptions::new().append(true).open(&j).unwrap();
    f.write_all(br#"{"v":1,"seq":4,"utc":"2023-11-25T00:0"#)
        .unwrap();
    drop(f);
    let torn = std::fs::read(&j).unwrap();

    let out = drillbook(&["log", j.to_str().unwrap()]);
    assert!(out.status.success(), "never fatal: {}", stderr(&out));
    assert!(
        stderr(&out).contains(":4: a torn last line (37 bytes"),
        "{}",
        stderr(&out)
    );
    // Three events (the compact layout: one heading line each), the fragment left out.
    let headings = stdout(&out).lines().filter(|l| l.starts_with('#')).count();
    assert_eq!(headings, 3, "{}", stdout(&out));
    assert_eq!(std::fs::read(&j).unwrap(), torn, "reading changes nothing");

    let out = record_all(&j, "ep", "bob", &["done ep-pre-rundown"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The set-aside event takes seq 4; the torn fragment never counted.
    assert_eq!(stdout(&out), "ready 5\nok 6\ndetached 7\n");
    let after = std::fs::read(&j).unwrap();
    assert_eq!(
        &after[..torn.len()],
        &torn[..],
        "the fragment is kept, never overwritten"
    );
    let r = journal::read(&j).unwrap();
    assert!(r.torn.is_none());
    assert!(matches!(
        r.events[3].action,
        journal::Action::TornSetAside { line: 4, bytes: 37 }
    ));
    assert_eq!(
        r.record.state_of("ep-pre-rundown").unwrap().state,
        StepState::Done
    );
}

/// The bundled runbooks written out under `dir` (as a firm adapts them); the EP runbook's path.
fn exported_ep(dir: &std::path::Path) -> std::path::PathBuf {
    let books = dir.join("books");
    assert!(
        drillbook(&["runbooks", "export", books.to_str().unwrap()])
            .status
            .success()
    );
    let folder = std::fs::read_dir(&books)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    folder.join("ep.yaml")
}

#[test]
fn a_journal_for_other_runbook_content_is_flagged_not_merged() {
    let dir = tempfile::tempdir().unwrap();
    let ep = exported_ep(dir.path());
    let j = dir.path().join("hash.jsonl");
    let out = cli::Recorder::start_with(&j, &[ep.to_str().unwrap()], "alice")
        .unwrap()
        .ask("done ep-pre-registration");
    assert_eq!(out, "ok 2");

    // Edit the runbook: its content hash changes.
    let text = std::fs::read_to_string(&ep).unwrap();
    std::fs::write(
        &ep,
        text.replace("Return the registration form", "Send the registration form"),
    )
    .unwrap();
    let before = std::fs::read(&j).unwrap();
    for cmd in ["handover", "report"] {
        let out = drillbook(&[cmd, j.to_str().unwrap(), ep.to_str().unwrap()]);
        assert!(out.status.success(), "{cmd}: {}", stderr(&out));
        let s = stdout(&out);
        assert!(s.contains("WARNING: runbook hash mismatch"), "{cmd}:\n{s}");
        let written = lines(&j)[0]["sha256"].as_str().unwrap().to_owned();
        assert!(s.contains(&written), "{cmd} names the journal's hash:\n{s}");
    }
    // A writer refuses to continue it unless told to.
    let out = drillbook(&["record", j.to_str().unwrap(), ep.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("other runbook files"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(&j).unwrap(),
        before,
        "refused: nothing written"
    );
    // The bundled runbooks are what the journal was written with (the export is byte for byte).
    let out = drillbook(&["handover", j.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(!stdout(&out).contains("hash mismatch"), "{}", stdout(&out));
}

/// Run every reading command on a bad journal: each must fail with `expect` in its message and
/// leave the file as it was.
fn refused(name: &str, content: &[u8], expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join(name);
    std::fs::write(&j, content).unwrap();
    let p = j.to_str().unwrap();
    for args in [
        vec!["log", p],
        vec!["log", "--json", p],
        vec!["handover", p],
        vec!["report", p],
        vec!["report", "--format", "csv", p],
        vec!["handover", "--ack", p],
        vec!["record", p, "--role", "ep"],
    ] {
        let out = drillbook(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(expect),
            "{args:?}: expected {expect:?} in:\n{err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("{ "),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty() || args[0] == "log", "{args:?}");
        assert_eq!(
            std::fs::read(&j).unwrap(),
            content,
            "{args:?} changed the file"
        );
    }
}

fn event(seq: u64, session: &str, extra: &str) -> String {
    format!(
        r#"{{"v":1,"seq":{seq},"utc":"2023-11-25T00:00:0{seq}Z","local":"2023-11-25T08:00:0{seq}+08:00","operator":"a","host":"h","session":"{session}","runbooks":["ep"],"sha256":"x"{extra},"kind":"note","text":"n{seq}"}}"#
    )
}

#[test]
fn bad_journals_are_refused_with_a_clear_message_and_left_unchanged() {
    let good = |n: u64| event(n, SESSION, "");
    refused(
        "yaml.jsonl",
        b"session: hkex\nsteps: []\nmore: 1\n",
        "yaml.jsonl:1: not a drillbook journal line",
    );
    refused(
        "middle.jsonl",
        format!("{}\nnot json at all\n{}\n", good(1), good(2)).as_bytes(),
        "middle.jsonl:2: not a drillbook journal line",
    );
    refused(
        "newer.jsonl",
        format!("{}\n{}\n", good(1), good(2).replace(r#""v":1"#, r#""v":7"#)).as_bytes(),
        "newer.jsonl:2: written in journal format 7",
    );
    refused(
        "cut.jsonl",
        format!("{}\n{}\n", good(3), good(4)).as_bytes(),
        "cut.jsonl:1: the journal starts at event #3: its beginning is missing",
    );
    refused(
        "gap.jsonl",
        format!("{}\n{}\n{}\n", good(1), good(2), good(5)).as_bytes(),
        "gap.jsonl:3: event #5 where #3 was expected",
    );
    refused(
        "mixed.jsonl",
        format!("{}\n{}\n", good(1), event(2, "other-session", "")).as_bytes(),
        "mixed.jsonl:2: an event for session `other-session`",
    );
    refused(
        "rehearsal-mix.jsonl",
        format!(
            "{}\n{}\n",
            good(1),
            event(
                2,
                SESSION,
                r#","rehearsal":{"virtual_utc":"2023-11-25T00:00:00Z","speed":60.0}"#
            )
        )
        .as_bytes(),
        "mixes rehearsal and real events",
    );
}

#[test]
fn a_bad_number_in_a_journal_line_is_named_without_rust_types() {
    let good = |n: u64| event(n, SESSION, "");
    let cases = [
        (
            good(1).replace(r#""seq":1"#, r#""seq":"one""#),
            "expected a whole number, 0 or more (at column 18)",
        ),
        (
            good(1).replace(r#""seq":1"#, r#""seq":-1"#),
            "invalid value: integer `-1`, expected a whole number, 0 or more",
        ),
        (
            good(1).replace(r#""v":1"#, r#""v":1.5"#),
            "expected a whole number from 0 to 4294967295",
        ),
    ];
    for (line, expect) in cases {
        let content = format!("{line}\n{}\n", good(2));
        refused("types.jsonl", content.as_bytes(), expect);
        let dir = tempfile::tempdir().unwrap();
        let j = dir.path().join("t.jsonl");
        std::fs::write(&j, &content).unwrap();
        let err = stderr(&drillbook(&["log", j.to_str().unwrap()]));
        for rust in ["u8", "u16", "u32", "u64", "usize", "i64", "f64", "u128"] {
            assert!(
                !err.split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|w| w == rust),
                "`{rust}` named in:\n{err}"
            );
        }
    }
}

#[test]
fn a_journal_for_another_session_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("other.jsonl");
    let content = format!("{}\n", event(1, "lse-dr-2024", ""));
    std::fs::write(&j, &content).unwrap();
    // Against the bundled runbooks (named as files): another session.
    let ep = exported_ep(dir.path());
    for args in [
        vec!["handover", j.to_str().unwrap(), ep.to_str().unwrap()],
        vec!["report", j.to_str().unwrap(), ep.to_str().unwrap()],
        vec!["record", j.to_str().unwrap(), ep.to_str().unwrap()],
    ] {
        let out = drillbook(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out)
                .contains("this journal is for session `lse-dr-2024`, not `hkex-ps2-2023-11-25`"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // Without runbook files: the session is not bundled, so it says which files to name.
    let out = drillbook(&["handover", j.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not bundled: name its runbook files"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&j).unwrap(), content);
}

#[test]
fn an_empty_journal_has_nothing_to_hand_over() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("empty.jsonl");
    std::fs::write(&j, b"").unwrap();
    let out = drillbook(&["handover", j.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("the journal is empty"));
    let out = drillbook(&["log", j.to_str().unwrap()]);
    assert!(out.status.success(), "an empty log is just empty");
    assert!(Path::new(&j).exists());
}
