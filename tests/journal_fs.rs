//! The journal on a file system that refuses writes: a read-only mount and a full disk, each a
//! real tmpfs (mounting needs root; without it the test says SKIPPED and why). A write that
//! fails is never acknowledged, and everything acknowledged replays.

#[path = "support/cli.rs"]
mod cli;

use cli::{Recorder, drillbook, stderr};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted on a temp dir, unmounted when dropped.
struct Mount {
    dir: tempfile::TempDir,
}

impl Mount {
    fn tmpfs(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Self { dir }),
            Ok(o) => {
                eprintln!(
                    "SKIPPED: cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: no mount command: {e}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, opt: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,{opt}")])
            .arg(self.path())
            .status()
            .unwrap()
            .success();
        assert!(ok, "remount {opt}");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_read_only_directory_refuses_the_writer_clearly_and_readers_still_read() {
    let Some(m) = Mount::tmpfs("1m") else { return };
    let j: PathBuf = m.path().join("ro.jsonl");
    let out = cli::record_all(&j, "ep", "alice", &["done ep-pre-registration"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = std::fs::read(&j).unwrap();
    m.remount("ro");

    let p = j.to_str().unwrap();
    for args in [
        vec!["record", p, "--role", "ep"],
        vec!["handover", "--ack", p],
    ] {
        let out = drillbook(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(p) && err.contains("Read-only file system"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // A new journal in the read-only folder.
    let out = drillbook(&[
        "record",
        m.path().join("new.jsonl").to_str().unwrap(),
        "--role",
        "ep",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("Read-only file system"),
        "{}",
        stderr(&out)
    );
    // Reading needs no write.
    let out = drillbook(&["handover", p]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(&j).unwrap(), before);
    m.remount("rw");
}

#[test]
fn a_full_disk_fails_the_action_unacknowledged_and_the_journal_recovers() {
    let Some(m) = Mount::tmpfs("64k") else { return };
    let j = m.path().join("full.jsonl");
    let mut r = Recorder::start(&j, "ep", "alice").unwrap();
    // Leave a little room, held by a file we can delete later.
    let filler = m.path().join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 40 * 1024]);

    let mut acked = Vec::new();
    let mut failed = None;
    for i in 0..200 {
        let text = format!("note {i} {}", "x".repeat(1500));
        let reply = r.ask(&format!("note {text}"));
        if reply.starts_with("ok ") {
            acked.push(text);
        } else {
            assert!(
                reply.contains("not recorded") && reply.contains("No space left"),
                "{reply}"
            );
            failed = Some(text);
            break;
        }
    }
    let failed = failed.expect("the disk fills up");
    assert!(!acked.is_empty());

    // While full, the journal still replays with every acknowledged action and not the failed one.
    let rep = drillbook::journal::read(&j).expect("replays while full");
    let texts: Vec<&str> = rep.record.notes.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(texts, acked.iter().map(String::as_str).collect::<Vec<_>>());

    // Space comes back: the next action is recorded after any fragment is set aside.
    std::fs::remove_file(&filler).unwrap();
    let reply = r.ask("note after the disk was freed");
    assert!(reply.starts_with("ok "), "{reply}");
    let (status, err, rest) = r.finish();
    assert!(!status.success(), "a failed line makes the exit non-zero");
    assert!(err.contains("not recorded"), "{err}");
    assert!(rest.iter().any(|l| l.starts_with("detached")), "{rest:?}");

    let rep = drillbook::journal::read(&j).expect("replays after recovery");
    assert!(rep.torn.is_none());
    let texts: Vec<&str> = rep.record.notes.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(texts.len(), acked.len() + 1, "{:?}", texts.len());
    assert!(
        !texts.contains(&failed.as_str()),
        "the failed action is not in the record"
    );
    assert_eq!(*texts.last().unwrap(), "after the disk was freed");
    let out = drillbook(&["log", j.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}
