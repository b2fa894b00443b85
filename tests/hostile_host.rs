//! A shared, hostile host, with the real things: symlinks and hard links to a held journal, links
//! planted where drillbook writes, files that are not journals, FIFOs and `/dev/zero` as inputs,
//! escape sequences and invisible marks in a runbook and a journal run through every command,
//! secrets through every write path, the umask, and the directory fsync of a new journal.

#[path = "support/cli.rs"]
mod cli;

use cli::{BIN, Recorder, drillbook, stderr, stdout};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Run the binary with a hard bound: a hang is a failure, not a stuck test.
fn bounded(args: &[&str]) -> (Option<i32>, String, Duration) {
    let start = Instant::now();
    let mut child = Command::new(BIN)
        .args(args)
        .env("TZ", "Europe/London")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (status.code(), stderr(&out), start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("drillbook {args:?} still running after 10 s (it should refuse at once)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_second_path_to_a_held_journal_is_refused_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.jsonl");
    let mut a = Recorder::start(&real, "ep", "alice").unwrap();
    assert_eq!(a.ask("done ep-pre-registration"), "ok 2");
    let holder = format!("alice@{}, pid {}", drillbook::journal::hostname(), a.pid());
    let alias = dir.path().join("alias.jsonl");
    std::os::unix::fs::symlink(&real, &alias).unwrap();
    let hard = dir.path().join("hard.jsonl");
    std::fs::hard_link(&real, &hard).unwrap();
    let before = std::fs::read(&real).unwrap();
    for second in [&alias, &hard] {
        let p = second.to_str().unwrap();
        for args in [
            vec!["record", p, "--role", "ep", "--operator", "bob"],
            vec!["handover", "--ack", p, "--operator", "bob"],
        ] {
            let out = drillbook(&args);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
            assert!(err.contains(&holder), "{args:?} names {holder}: {err}");
        }
    }
    assert_eq!(std::fs::read(&real).unwrap(), before, "nothing written");
    assert_eq!(a.ask("done ep-pre-rundown"), "ok 3", "the holder goes on");
}

#[test]
fn nothing_is_written_through_a_planted_link() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious\nlines\n").unwrap();
    // Where the lock used to be made: drillbook no longer creates anything beside the journal.
    let j = dir.path().join("j.jsonl");
    std::os::unix::fs::symlink(&victim, dir.path().join("j.jsonl.lock")).unwrap();
    let out = cli::record_all(&j, "ep", "alice", &["done ep-pre-registration"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "precious\nlines\n"
    );

    // A journal path that is another user's link to the victim: refused, victim untouched.
    let planted = dir.path().join("planted.jsonl");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let c = std::ffi::CString::new(planted.to_str().unwrap()).unwrap();
    // SAFETY: lchown on a path we own; 65534 is `nobody`. Needs root (CI and this machine are).
    let rc = unsafe { libc::lchown(c.as_ptr(), 65534, 65534) };
    assert_eq!(
        rc,
        0,
        "lchown needs root: {}",
        std::io::Error::last_os_error()
    );
    let out = cli::record_all(&planted, "ep", "alice", &["done ep-pre-registration"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("symbolic link owned by another user"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "precious\nlines\n"
    );

    // The user's own link to a file that is not a journal: refused as not a journal.
    let own = dir.path().join("own.jsonl");
    std::os::unix::fs::symlink(&victim, &own).unwrap();
    let out = cli::record_all(&own, "ep", "alice", &["done ep-pre-registration"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not a drillbook journal"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "precious\nlines\n"
    );

    // Export never writes through a link either.
    let export = dir.path().join("export");
    std::fs::create_dir(&export).unwrap();
    std::os::unix::fs::symlink(&victim, export.join("hkex-ps2-2023-11-25")).unwrap();
    let out = drillbook(&["runbooks", "export", export.to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "precious\nlines\n"
    );
}

#[test]
fn a_text_file_given_as_a_journal_is_refused_and_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("notes.txt");
    std::fs::write(&j, "call the vendor at 07:30\n").unwrap();
    let p = j.to_str().unwrap();
    for args in [
        vec!["record", p, "--role", "ep"],
        vec!["log", p],
        vec!["handover", p],
    ] {
        let out = drillbook(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(err.contains("not a drillbook journal"), "{args:?}: {err}");
        assert!(
            err.contains("`call the ven…`"),
            "{args:?} says what it found: {err}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&j).unwrap(),
        "call the vendor at 07:30\n"
    );
}

#[test]
fn a_crash_inside_the_recovery_write_still_replays() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("j.jsonl");
    let out = cli::record_all(&j, "ep", "alice", &["done ep-pre-registration"]);
    assert!(out.status.success());
    // What the old two-write recovery could leave: a fragment, its newline, half an event.
    let mut bytes = std::fs::read(&j).unwrap();
    bytes.extend_from_slice(b"{\"v\":1,\"seq\":4,\"ut\n{\"v\":1,\"seq\":4,\"utc\":\"2023");
    std::fs::write(&j, &bytes).unwrap();
    let p = j.to_str().unwrap();
    let out = drillbook(&["log", p]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cli::record_all(&j, "ep", "bob", &["done ep-pre-rundown"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = drillbook(&["log", p, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.matches("torn_set_aside").count(), 2, "{text}");
    assert!(text.contains("ep-pre-rundown") && text.contains("ep-pre-registration"));
}

#[test]
fn fifos_devices_and_huge_inputs_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.jsonl");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path in our temp dir.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let f = fifo.to_str().unwrap();
    // A runbook folder whose session file is a FIFO, and one naming /dev/zero.
    let rb = dir.path().join("rb");
    std::fs::create_dir(&rb).unwrap();
    let ep = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/hkex-ps2-2023-11-25/ep.yaml"),
    )
    .unwrap();
    let with_session = |s: &str| {
        ep.lines()
            .map(|l| {
                if l.starts_with("session:") {
                    format!("session: {s}")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    std::fs::write(rb.join("zero.yaml"), with_session("/dev/zero")).unwrap();
    std::os::unix::fs::symlink(&fifo, rb.join("s.yaml")).unwrap();
    std::fs::write(rb.join("fifo.yaml"), with_session("s.yaml")).unwrap();
    let zero = rb.join("zero.yaml");
    let via_fifo = rb.join("fifo.yaml");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["record", f, "--role", "ep"], "FIFO"),
        (vec!["log", f], "FIFO"),
        (vec!["log", "/dev/zero"], "character device"),
        (vec!["handover", f], "FIFO"),
        (vec!["validate", f], "FIFO"),
        (vec!["validate", "/dev/zero"], "character device"),
        (
            vec!["validate", zero.to_str().unwrap()],
            "relative to the runbook",
        ),
        (vec!["validate", via_fifo.to_str().unwrap()], "leads out of"),
        (
            vec!["run", "--role", "ep", "--theme", "/dev/zero"],
            "character device",
        ),
        (vec!["run", "--role", "ep", "--theme", f], "FIFO"),
    ];
    for (args, says) in cases {
        let (code, err, took) = bounded(&args);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?} says {says}: {err}");
        assert!(took < Duration::from_secs(5), "{args:?} took {took:?}");
    }
    // A theme far larger than any theme: refused by its size, read no further.
    let big = dir.path().join("big.yaml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(200 * 1024 * 1024).unwrap();
    let (code, err, _) = bounded(&["run", "--role", "ep", "--theme", big.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("is 200 MiB"), "{err}");
    // A file that reports 0 bytes and holds megabytes: capped by the bytes read.
    let kallsyms = "/proc/kallsyms";
    assert_eq!(std::fs::metadata(kallsyms).unwrap().len(), 0);
    let (code, err, _) = bounded(&["run", "--role", "ep", "--theme", kallsyms]);
    assert_eq!(code, Some(1));
    assert!(err.contains("is larger than 64 KiB"), "{err}");
}

/// Bytes a terminal would act on: C0 controls other than newline, DEL, C1 controls, and the
/// invisible or reordering marks the neutraliser replaces.
fn control_bytes(s: &str) -> Vec<char> {
    s.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{061c}' | '\u{feff}')
        })
        .collect()
}

#[test]
fn hostile_text_never_reaches_the_terminal_through_any_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = drillbook(&["runbooks", "export", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rb = dir.path().join("hkex-ps2-2023-11-25");
    let evil = r"\e]0;PWN\a\e[2J\u200d\u200f\u061c\u2028\u2066";
    let session = std::fs::read_to_string(rb.join("session.yaml")).unwrap();
    let session = session
        .replace(
            "title: Primary site",
            &format!("title: \"Primary {evil} site\""),
        )
        .replace(
            "title: Failover to the backup site",
            &format!("title: \"Failover {evil}\""),
        );
    assert!(
        session.contains("PWN"),
        "the session file has phase titles to poison"
    );
    std::fs::write(rb.join("session.yaml"), session).unwrap();
    let ep_path = rb.join("ep.yaml");
    let ep = std::fs::read_to_string(&ep_path).unwrap().replacen(
        "title: Return the registration form (Attachment 1) to the Exchange",
        &format!("title: \"Return {evil} the form\""),
        1,
    );
    std::fs::write(&ep_path, ep).unwrap();
    let rbs = ep_path.to_str().unwrap();

    let j = dir.path().join("evil.jsonl");
    let jp = j.to_str().unwrap();
    let out = Command::new(BIN)
        .args(["record", jp, rbs, "--operator", "mallory\u{1b}]0;x\u{7}"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            let mut i = c.stdin.take().unwrap();
            for l in [
                "note bridge \u{1b}]0;PWN\u{7} opened \u{200f}\u{2028}",
                "failed ep-pre-registration form \u{1b}[31mlost\u{9b}",
                "evidence ep-pre-registration sent by = \u{1b}P1$q\u{1b}\\",
            ] {
                writeln!(i, "{l}").unwrap();
            }
            drop(i);
            c.wait_with_output()
        })
        .unwrap();
    let all = stdout(&out) + &stderr(&out);
    assert!(
        control_bytes(&all).is_empty(),
        "record: {:?}",
        control_bytes(&all)
    );

    // A second journal whose kind carries an escape sequence: the error path quotes it.
    let bad = dir.path().join("bad.jsonl");
    let first = std::fs::read_to_string(&j).unwrap();
    let line = first
        .lines()
        .next()
        .unwrap()
        .replace("\"attach\"", "\"\\u001b]0;PWN\\u0007\"");
    std::fs::write(&bad, format!("{line}\n{}\n", first.lines().nth(1).unwrap())).unwrap();
    let badp = bad.to_str().unwrap();

    let runs: Vec<Vec<&str>> = vec![
        vec!["validate", rbs],
        vec!["schedule", rbs],
        vec!["log", jp],
        vec!["log", jp, "--json"],
        vec!["handover", jp, rbs],
        vec!["report", jp, rbs],
        vec!["report", jp, rbs, "--format", "csv"],
        vec!["log", badp],
        vec!["handover", badp, rbs],
        vec!["report", badp, rbs],
        vec!["record", badp, rbs],
        vec![
            "run",
            rbs,
            "--rehearse",
            "--speed",
            "3600",
            "--headless",
            "--notify",
            "off",
            "--journal",
        ],
    ];
    let rehearsal = dir.path().join("r.jsonl");
    for mut args in runs {
        if args[0] == "run" {
            args.push(rehearsal.to_str().unwrap());
        }
        let out = Command::new(BIN)
            .args(&args)
            .env("TZ", "Europe/London")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let all = stdout(&out) + &stderr(&out);
        assert!(!all.is_empty(), "{args:?} printed something");
        if matches!(args[0], "schedule" | "log" | "handover" | "report") && args[1] != badp {
            assert!(
                all.contains("PWN"),
                "{args:?} shows the poisoned text, neutralised:\n{all}"
            );
        }
        let found = control_bytes(&all);
        assert!(found.is_empty(), "{args:?} let through {found:?}:\n{all}");
    }
}

#[test]
fn no_secret_is_journaled_by_any_command() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("j.jsonl");
    let p = j.to_str().unwrap();
    let out = cli::record_all(
        &j,
        "ep",
        "alice",
        &[
            "note password hunter2",
            "note PASSWORD\u{ff1a}hunter2",
            "note pw: hunter2",
            "note login trader1/Hunter2!",
            "failed ep-pre-registration trader password: Hunter2xyz",
            "evidence ep-pre-registration sent by = token=s3cr3t",
            "note password reset desk called",
            // Ordinary ways of writing one down (break findings #2).
            "note password for OCG is Hunter2!",
            "note pass: Hunter2!",
            "note p/w Hunter2!",
            "note 密碼：Hunter2",
            "note Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc.def",
            "note ftp://trader1:Hunter2!@10.0.0.1/",
            "note password -> Hunter2!",
            "note pwd for trader1: Hunter2",
            "note OCG passwd reset, now Hunter2!",
            // Break 3 F6: a pasted command line, a zero-width space inside the word, a word in
            // brackets or `--` before the value.
            "note mysql -u trader1 -pHunter2!",
            "note sshpass -p Hunter2! ssh gw",
            "evidence ep-pre-registration sent by = PGPASSWORD=Hunter2! psql -h db",
            "note curl -u trader1:Hunter2! https://gw/x",
            "note pass\u{200b}word: Hunter2!",
            "note password (OCG) = Hunter2!",
            "note Password -- Hunter2!",
            // ... and operations text that must still be recordable.
            "note credential confirmed by alice",
            "note password reset done by desk, new one given by phone",
            "note token bucket throttle 500/s",
            "note ssh -p 22 trader1@gw accepted",
            "note mysql -u trader1 -p ps2db asked for it",
        ],
    );
    let replies = stdout(&out);
    assert_eq!(
        replies.matches("looks like it holds a password").count(),
        22,
        "{replies}"
    );
    // The refusal says what it saw, so the operator can rephrase.
    for why in [
        "(`pwd` followed by a value)",
        "(a password in a web address)",
        "(a bearer token)",
        "(`密碼` followed by a value)",
        "(a password on a `sshpass` command line)",
        "(a password on a `mysql` command line)",
    ] {
        assert!(replies.contains(why), "{why}:\n{replies}");
    }
    let out = drillbook(&["handover", "--ack", p, "--note", "password: hunter2"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = drillbook(&["handover", "--ack", p, "--operator", "token=s3cr3t"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = std::fs::read_to_string(&j).unwrap();
    for secret in ["hunter2", "Hunter2", "s3cr3t"] {
        assert!(!text.contains(secret), "{secret} journaled:\n{text}");
    }
    for kept in [
        "password reset desk called",
        "credential confirmed by alice",
        "password reset done by desk, new one given by phone",
        "token bucket throttle 500/s",
        "ssh -p 22 trader1@gw accepted",
        "mysql -u trader1 -p ps2db asked for it",
    ] {
        assert!(text.contains(kept), "an ordinary phrase is kept: {kept}");
    }
}

#[test]
fn what_drillbook_creates_is_private_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let out = Command::new(BIN)
        .args(["record", "--role", "ep"])
        .arg(state.join("drillbook/j.jsonl"))
        .stdin(Stdio::null())
        .env("TZ", "UTC")
        .output_with_umask(0o022);
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&state.join("drillbook/j.jsonl")), 0o600);
    assert_eq!(mode(&state.join("drillbook")), 0o700);
    assert_eq!(mode(&state), 0o700);
    let export = dir.path().join("export");
    let out = Command::new(BIN)
        .args(["runbooks", "export"])
        .arg(&export)
        .stdin(Stdio::null())
        .output_with_umask(0o022);
    assert!(out.status.success(), "{}", stderr(&out));
    let ep = export.join("hkex-ps2-2023-11-25/ep.yaml");
    assert_eq!(mode(&ep), 0o600);
    assert_eq!(
        std::fs::metadata(&ep).unwrap().uid(),
        drillbook::files::current_uid()
    );
}

trait WithUmask {
    fn output_with_umask(&mut self, mask: u32) -> std::process::Output;
}

impl WithUmask for Command {
    fn output_with_umask(&mut self, mask: u32) -> std::process::Output {
        use std::os::unix::process::CommandExt;
        // SAFETY: umask is async-signal-safe and touches only the child's own state.
        unsafe {
            self.pre_exec(move || {
                libc::umask(mask);
                Ok(())
            });
        }
        self.output().unwrap()
    }
}

#[test]
fn a_new_journal_fsyncs_its_folder_after_creating_it() {
    let strace = Command::new("strace").arg("-V").output();
    assert!(
        strace.is_ok_and(|o| o.status.success()),
        "strace is needed for this test (`.ci/run` installs it)"
    );
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("new/j.jsonl");
    let trace = dir.path().join("trace");
    let out = Command::new("strace")
        .args(["-f", "-e", "trace=openat,mkdir,fsync,fdatasync", "-o"])
        .arg(&trace)
        .arg(BIN)
        .args(["record", "--role", "ep"])
        .arg(&j)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let t = std::fs::read_to_string(&trace).unwrap();
    let lines: Vec<&str> = t.lines().collect();
    let created = lines
        .iter()
        .position(|l| l.contains("j.jsonl\"") && l.contains("O_CREAT"))
        .unwrap_or_else(|| panic!("no creating openat in:\n{t}"));
    let dir_name = format!("{}\"", j.parent().unwrap().display());
    let dir_fd = lines[created..]
        .iter()
        .find(|l| l.contains("openat(") && l.contains(&dir_name))
        .and_then(|l| l.rsplit("= ").next())
        .unwrap_or_else(|| panic!("the folder is not opened after the file is created:\n{t}"));
    assert!(
        lines[created..]
            .iter()
            .any(|l| l.contains(&format!("fsync({dir_fd})"))),
        "no fsync of the folder (fd {dir_fd}) after the journal was created:\n{t}"
    );
}

#[test]
fn no_command_panics_on_a_full_or_closed_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("p.jsonl");
    let out = cli::record_all(&j, "ep", "alice", &["done ep-pre-registration"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let p = j.to_str().unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["validate"],
        vec!["schedule", "--role", "ep"],
        vec!["log", p],
        vec!["handover", p],
        vec!["report", p],
        vec!["runbooks", "list"],
    ];
    for args in &commands {
        // A full disk: one clear line, exit 1.
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = Command::new(BIN)
            .args(args)
            .stdout(Stdio::from(full))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?} > /dev/full: {err}");
        assert!(err.contains("No space left on device"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        // A reader that went away (`| head -1` after its line): quiet, 141 as SIGPIPE would be.
        let (r, w) = std::io::pipe().unwrap();
        drop(r);
        let out = Command::new(BIN)
            .args(args)
            .stdout(Stdio::from(w))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(141),
            "{args:?} into a closed pipe: {err}"
        );
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

/// A throwaway second user for the shared-host tests (made once; needs root, as this machine
/// and CI run the tests), its name and uid.
fn other_user() -> (&'static str, u32) {
    static MADE: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    const NAME: &str = "dbkmallory";
    let uid = *MADE.get_or_init(|| {
        let id = || {
            Command::new("id")
                .args(["-u", NAME])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| stdout(&o).trim().parse::<u32>().ok())
        };
        if let Some(uid) = id() {
            return uid;
        }
        let out = Command::new("useradd")
            .args(["-M", "-r", "-s", "/bin/sh", NAME])
            .output()
            .expect("useradd runs (the tests run as root)");
        id().unwrap_or_else(|| panic!("useradd {NAME}: {}", stderr(&out)))
    });
    (NAME, uid)
}

/// `sh -c SCRIPT` as the other user; whether it succeeded.
fn as_other_user(script: &str) -> bool {
    let (name, _) = other_user();
    Command::new("runuser")
        .args(["-u", name, "--", "sh", "-c", script])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[test]
fn a_journal_others_can_write_is_made_private_on_open_and_readers_warn() {
    let dir = tempfile::tempdir().unwrap();
    // A shared folder the other user can reach.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let j = dir.path().join("j.jsonl");
    let p = j.to_str().unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let out = cli::record_all(&j, "ep", "alice", &["note real note"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Copied in, or made with `touch` under umask 000: the mode it has is 0666.
    std::fs::set_permissions(&j, std::fs::Permissions::from_mode(0o666)).unwrap();
    // Another user forges the next event: a step done, in alice's name.
    let last = cli::lines(&j).pop().unwrap();
    let mut forged = last.clone();
    forged["seq"] = (last["seq"].as_u64().unwrap() + 1).into();
    forged["kind"] = "note".into();
    forged["text"] = "forged by another user".into();
    forged.as_object_mut().unwrap().remove("reason");
    let forged_file = dir.path().join("forged");
    std::fs::write(&forged_file, format!("{forged}\n")).unwrap();
    std::fs::set_permissions(&forged_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let append = format!("cat '{}' >> '{p}'", forged_file.display());
    assert!(as_other_user(&append), "0666: the other user can append");

    // Every reader reads it, and says who could have added events.
    for args in [vec!["log", p], vec!["handover", p], vec!["report", p]] {
        let out = drillbook(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("writable by its group and others (mode 0666)")
                && err.contains("they could have added"),
            "{args:?} warns:\n{err}"
        );
    }
    // The writer makes it private through its descriptor and says so, with what to check.
    let out = cli::record_all(&j, "ep", "alice", &["note after"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "was writable by its group and others (mode 0666); drillbook made it private (0600)"
        ) && err.contains("check with `drillbook log"),
        "{err}"
    );
    assert_eq!(mode(&j), 0o600);
    assert!(
        !as_other_user(&append),
        "0600: the other user cannot append"
    );
    // Told once: from now on the journal is private and nobody warns.
    let out = cli::record_all(&j, "ep", "alice", &["note again"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("others"), "{}", stderr(&out));
    let out = drillbook(&["log", p]);
    assert!(!stderr(&out).contains("others"), "{}", stderr(&out));

    // A journal made with `touch` under umask 022 (0644, readable by all): made private, and
    // said so without the words for a forgery, since nobody else could write it.
    let t = dir.path().join("touched.jsonl");
    std::fs::write(&t, "").unwrap();
    std::fs::set_permissions(&t, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = cli::record_all(&t, "ep", "alice", &["note x"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("was readable by others (mode 0644); drillbook made it private (0600)")
            && !err.contains("anyone could"),
        "{err}"
    );
    assert_eq!(mode(&t), 0o600);
}

#[test]
fn export_writes_only_into_a_folder_of_the_users_own() {
    let (_, uid) = other_user();
    let dir = tempfile::tempdir().unwrap();
    // A shared folder (sticky, writable by all, like /tmp) and a folder of the user's own.
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let victim = dir.path().join("victimdir");
    std::fs::create_dir(&victim).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let export = |target: &Path| drillbook(&["runbooks", "export", &s(target)]);

    // The other user's folder, holding a link to the victim's folder named for the session.
    let exp = shared.join("exp");
    assert!(as_other_user(&format!(
        "mkdir '{0}' && ln -s '{1}' '{0}/{2}'",
        s(&exp),
        s(&victim),
        cli::SESSION
    )));
    let out = export(&exp);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(&format!("is a folder of another user (uid {uid})")),
        "{}",
        stderr(&out)
    );
    // The other user's link to the victim's folder as DIR itself: refused as a planted link.
    let link = shared.join("link");
    assert!(as_other_user(&format!(
        "ln -s '{}' '{}'",
        s(&victim),
        s(&link)
    )));
    let out = export(&link);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("symbolic link owned by another user"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_dir(&victim).unwrap().count(),
        0,
        "nothing written"
    );

    // The user's own folder where the other user got a session folder in first (its folder was
    // left open for a moment): refused, never written into.
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert!(as_other_user(&format!(
        "mkdir -m 777 '{}/{}'",
        s(&mine),
        cli::SESSION
    )));
    let out = export(&mine);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("others can write into (mode 0777, no sticky bit)"),
        "{}",
        stderr(&out)
    );
    std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = export(&mine);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_dir(mine.join(cli::SESSION)).unwrap().count(),
        0,
        "nothing written into the other user's session folder"
    );

    // A sticky shared folder is fine: the session folder is the user's, made fresh, 0700.
    let out = export(&shared);
    assert!(out.status.success(), "{}", stderr(&out));
    let made = std::fs::symlink_metadata(shared.join(cli::SESSION)).unwrap();
    assert!(made.is_dir());
    assert_eq!(made.uid(), drillbook::files::current_uid());
    assert_eq!(made.permissions().mode() & 0o777, 0o700);
    assert!(shared.join(cli::SESSION).join("ep.yaml").is_file());
}

#[test]
fn export_refuses_a_way_to_its_folder_that_another_user_could_swap() {
    let (_, uid) = other_user();
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let export = |target: &Path| drillbook(&["runbooks", "export", &s(target)]);
    let refused = |target: &Path, says: &str| {
        let out = export(target);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {}",
            target.display(),
            stdout(&out)
        );
        assert!(
            err.contains(&format!("{}: goes through ", target.display())) && err.contains(says),
            "{} says `{says}`:\n{err}",
            target.display()
        );
    };

    // A folder of the user's own that all can write into, not sticky: the other user can rename
    // what is in it (so swap the export folder for one of their own), and export refuses it,
    // creating nothing there.
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::create_dir(open.join("probe")).unwrap();
    assert!(
        as_other_user(&format!("mv '{0}/probe' '{0}/moved'", s(&open))),
        "the other user can rename the user's folder in it"
    );
    refused(
        &open.join("runbooks"),
        &format!(
            "goes through {}, which is a folder others can write into (mode 0777, no sticky bit)",
            open.display()
        ),
    );
    assert!(!open.join("runbooks").exists(), "nothing made in it");
    // Deeper below it, and writable by the group only: the same.
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o775)).unwrap();
    refused(&open.join("moved/deeper"), "(mode 0775, no sticky bit)");

    // A sticky shared folder, with the other user's link and folder in it.
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let victim = dir.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    let link = shared.join("theirlink");
    let theirs = shared.join("theirs");
    assert!(as_other_user(&format!(
        "ln -s '{}' '{}' && mkdir -m 755 '{}'",
        s(&victim),
        s(&link),
        s(&theirs)
    )));
    refused(
        &link.join("x"),
        &format!(
            "goes through {}, which is a symbolic link owned by another user (uid {uid})",
            link.display()
        ),
    );
    assert_eq!(
        std::fs::read_dir(&victim).unwrap().count(),
        0,
        "nothing written"
    );
    refused(
        &theirs.join("x"),
        &format!(
            "goes through {}, which is a folder of another user (uid {uid})",
            theirs.display()
        ),
    );
    assert!(!theirs.join("x").exists(), "nothing made in their folder");

    // The user's own link on the way, and a relative path, are fine: the folder is made 0700.
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::os::unix::fs::symlink(&mine, shared.join("mylink")).unwrap();
    let out = export(&shared.join("mylink/exports"));
    assert!(out.status.success(), "{}", stderr(&out));
    let made = std::fs::metadata(mine.join("exports")).unwrap();
    assert_eq!(made.permissions().mode() & 0o777, 0o700);
    assert!(
        mine.join("exports")
            .join(cli::SESSION)
            .join("ep.yaml")
            .is_file()
    );
    let out = Command::new(BIN)
        .args(["runbooks", "export", "rel"])
        .current_dir(&mine)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        mine.join("rel")
            .join(cli::SESSION)
            .join("ep.yaml")
            .is_file()
    );
}

#[test]
fn a_hostile_journal_line_is_quoted_short_and_through_the_neutraliser() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("j.jsonl");
    let out = cli::record_all(&j, "ep", "alice", &["note one", "note two"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&j).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    // A line in the middle whose `seq` is a string of megabytes with an escape sequence in it.
    let bad = format!(
        "{{\"v\":1,\"seq\":\"c\\u001b]0;PWNED\\u0007{}\"}}",
        "x".repeat(2_000_000)
    );
    std::fs::write(&j, format!("{first}\n{bad}\n{rest}")).unwrap();
    let out = drillbook(&["log", j.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}", &err[..err.len().min(400)]);
    assert!(err.len() < 1000, "{} bytes", err.len());
    assert!(err.contains("not a drillbook journal line"), "{err}");
    assert!(err.contains("\"c␛]0;PWNED␇xxx"), "{err}");
    assert!(
        !err.contains("\\u{") && control_bytes(&err).is_empty(),
        "{err}"
    );
}

/// Markup typed into a note, a reason or an evidence value (a tag, a link, a bare web address)
/// is set as one code span in the Markdown of `report` and `handover`: rendered as GitHub renders
/// Markdown (comrak with the GFM autolink extension) it is neither a link nor a tag, and it reads
/// exactly as typed, in the code element and in the terminal (walk 3 R3: `\<b>` was not as typed).
#[test]
fn typed_markup_is_code_in_report_and_handover_never_a_link_or_a_tag() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("j.jsonl");
    let p = j.to_str().unwrap();
    let hostile =
        "<script>alert(1)</script> [click](javascript:alert(1)) `code` *bold* ep_pre_check";
    let typed = [
        hostile,
        "see https://evil.example/x and www.evil.example",
        "portal at https://evil.example/login down",
        "<b>bob</b> www.evil.example/bob",
    ];
    let out = cli::record_all(
        &j,
        "ep",
        "alice",
        &[
            &format!("note {}", typed[0]),
            &format!("note {}", typed[1]),
            &format!("failed ep-pre-registration {}", typed[2]),
            &format!("evidence ep-pre-registration sent by = {}", typed[3]),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let mut gfm = comrak::Options::default();
    gfm.extension.autolink = true;
    gfm.extension.table = true;
    for cmd in ["report", "handover"] {
        let out = drillbook(&[cmd, p]);
        assert!(out.status.success(), "{cmd}: {}", stderr(&out));
        let md = cli::unfold(&stdout(&out));
        let html = comrak::markdown_to_html(&md, &gfm);
        assert!(
            !html.contains("<a href=\"https://evil")
                && !html.contains("<a href=\"http://www.evil")
                && !html.contains("javascript:alert(1)\"")
                && !html.contains("<script>")
                && !html.contains("<b>bob"),
            "{cmd} lets markup act:\n{html}"
        );
        for t in typed {
            let esc = t
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            assert!(
                html.contains(&format!("<code>{esc}</code>")),
                "{cmd}: {t}\n{md}"
            );
            // In the terminal it reads as typed, between fences: nothing added inside.
            assert!(md.contains(t), "{cmd}: {t}\n{md}");
        }
    }
    // The CSV and JSON reports carry the text as typed: code spans are Markdown's alone.
    let csv = stdout(&drillbook(&["report", p, "--format", "csv"]));
    assert!(csv.contains("<script>alert(1)</script>"), "{csv}");
}

/// The HTML with every code element taken out: what a reader's browser reads as markup.
fn outside_code(html: &str) -> String {
    let mut rest = html;
    let mut out = String::new();
    while let Some(i) = rest.find("<code>") {
        out.push_str(&rest[..i]);
        rest = rest[i..].split_once("</code>").map_or("", |(_, r)| r);
    }
    out.push_str(rest);
    out
}

#[test]
fn folded_typed_text_stays_one_code_span_in_report_and_handover() {
    // Break 3 F4 and F5: `report` and `handover` fold at 80 columns; a fold before `***`, `===`,
    // `---` or `<p>` ended the note's code span (a rule and a live link, a heading, a raw
    // `<img>`), and a backtick in the operator's name paired with the note's fence. The notes
    // are long enough to fold, and one-letter words move each opener across a whole line, so in
    // both outputs (whose line prefixes differ) a fold falls right before it for some note.
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("j.jsonl");
    let p = j.to_str().unwrap();
    let tails = [
        format!("ooooo *** https://evil.example/{}", "x".repeat(60)),
        "oooo <p><img src=https://evil.example/pixel.png></p>".to_owned(),
        "rrrr === www.evil.example/x".to_owned(),
        "--- <details open><summary>x</summary></details> [click](https://evil.example)".to_owned(),
    ];
    let typed: Vec<String> = tails
        .iter()
        .flat_map(|t| (0..40).map(move |k| format!("{}{t}", "a ".repeat(k))))
        .collect();
    let lines: Vec<String> = typed.iter().map(|t| format!("note {t}")).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let out = cli::record_all(&j, "ep", "mal`lory", &lines);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).matches("ok ").count(),
        typed.len(),
        "{}",
        stdout(&out)
    );
    let mut gfm = comrak::Options::default();
    gfm.extension.autolink = true;
    gfm.extension.table = true;
    gfm.extension.tasklist = true;
    for cmd in ["report", "handover"] {
        let out = drillbook(&[cmd, p]);
        assert!(out.status.success(), "{cmd}: {}", stderr(&out));
        // As printed: folded, not joined back.
        let md = stdout(&out);
        assert!(
            md.lines().any(|l| l.trim_start().starts_with("a a a")),
            "{cmd} did not fold:\n{md}"
        );
        for unsafe_html in [false, true] {
            gfm.render.r#unsafe = unsafe_html;
            let html = comrak::markdown_to_html(&md, &gfm);
            for t in &typed {
                let esc = t
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
                    .replace('"', "&quot;");
                assert_eq!(
                    html.matches(&format!("<code>{esc}</code>")).count(),
                    1,
                    "{cmd}: {t}\n{md}"
                );
            }
            assert!(html.contains("<code>mal`lory@vm</code>"), "{cmd}:\n{html}");
            // Nothing typed is read as markup: no link, image, rule, heading or tag of it.
            let bare = outside_code(&html);
            for typed_part in ["evil", "a a a", "lory", "ooooo", "<hr", "<img", "<details"] {
                assert!(
                    !bare.contains(typed_part),
                    "{cmd} (unsafe {unsafe_html}): {typed_part} outside a code span:\n{bare}"
                );
            }
        }
    }
}
