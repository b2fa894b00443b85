//! One writer per journal, between real processes: a second writer (`record`, `handover --ack`)
//! is refused naming the holder's user@host and pid; readers are not; the lock goes with the
//! process, SIGKILL included.

#[path = "support/cli.rs"]
mod cli;

use cli::{Recorder, drillbook, lines, stderr, stdout};

#[test]
fn a_second_writer_is_refused_naming_the_holder_and_readers_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("lock.jsonl");
    let p = j.to_str().unwrap();
    let mut a = Recorder::start(&j, "ep", "alice").unwrap();
    assert_eq!(a.ask("done ep-pre-registration"), "ok 2");
    let holder = format!("alice@{}, pid {}", drillbook::journal::hostname(), a.pid());

    let before = std::fs::read(&j).unwrap();
    for args in [
        vec!["record", p, "--role", "ep", "--operator", "bob"],
        vec!["handover", "--ack", p, "--operator", "bob"],
    ] {
        let out = drillbook(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(&holder), "{args:?} names {holder}: {err}");
        assert!(err.contains(&format!("drillbook watch {p}")), "{err}");
    }
    assert_eq!(
        std::fs::read(&j).unwrap(),
        before,
        "a refused writer writes nothing"
    );

    // Readers take no lock.
    let out = drillbook(&["handover", p]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("ep-pre-registration"));
    assert!(drillbook(&["log", p]).status.success());

    // The OS drops the lock with the process, even on SIGKILL.
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    let out = drillbook(&[
        "handover",
        "--ack",
        p,
        "--operator",
        "bob",
        "--note",
        "read it",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("handover acknowledged by bob@"),
        "{}",
        stdout(&out)
    );
    let last = lines(&j).pop().unwrap();
    assert_eq!(last["kind"], "handover");
    assert_eq!(last["operator"], "bob");
    assert_eq!(last["note"], "read it");
    let out = drillbook(&["handover", p]);
    assert!(
        cli::unfold(&stdout(&out)).contains("acknowledged the handover: read it"),
        "{}",
        stdout(&out)
    );
}
