//! What a command check's program can reach, on the real binary (break 3, F1 F2 F3 F10): it has
//! no controlling terminal (in a real terminal, tmux at 80x24: it cannot open `/dev/tty`, write
//! over the screen or type keys into drillbook or into the shell after it), it runs in a session
//! and group of its own (`kill 0` in it reaches its own processes, not its supervisor), it gets a
//! small, documented environment (not the operator's tmux, agent or bus), and a supervisor it
//! stops is woken, ended and reaped while the run goes on. Every wait is a bounded poll.

#[path = "support/cli.rs"]
mod cli;
#[path = "support/tmux.rs"]
mod tmux;

use cli::{BIN, drillbook, stdout};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tmux::Tmux;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/checks")
        .join(name)
}

/// A runbook over the fixture session, in `dir`, its primary-phase steps as written.
fn runbook_in(dir: &Path, steps: &str) -> PathBuf {
    std::fs::copy(fixture("session.yaml"), dir.join("session.yaml")).unwrap();
    let rb = dir.join("rb.yaml");
    std::fs::write(
        &rb,
        format!(
            "format: 1\nid: rb\nrole: ops\ntitle: Command checks\nsession: session.yaml\nsite:\n  unused: nothing\nphases:\n  primary:\n{steps}"
        ),
    )
    .unwrap();
    rb
}

/// `drillbook check`'s rows: the outcome and the row's text with its wrapped lines joined, by
/// step.
fn rows(text: &str) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    for line in text.lines().skip(1) {
        if line.starts_with(' ') {
            if let Some(last) = out.last_mut() {
                last.2.push(' ');
                last.2.push_str(line.trim());
            }
        } else if let Some((outcome, rest)) = line.split_once("  ") {
            let rest = rest.trim();
            let step = rest.split(' ').next().unwrap_or_default().to_owned();
            out.push((outcome.trim().to_owned(), step, rest.to_owned()));
        }
    }
    out
}

fn row(text: &str, step: &str) -> (String, String) {
    let rows = rows(text);
    let r = rows
        .iter()
        .find(|r| r.1 == step)
        .unwrap_or_else(|| panic!("no row for {step}:\n{text}"));
    (r.0.clone(), r.2.clone())
}

/// The journal's complete lines (one being written while we read has no newline yet).
fn journal(p: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(p).unwrap_or_default();
    let done = text.rfind('\n').map_or("", |n| &text[..n]);
    done.lines()
        .map(|l| serde_json::from_str(l).expect("a journal line"))
        .collect()
}

/// A check program (Perl, which every Debian-like host has as `perl-base`) that does what F1's
/// `tty.c` did: opens `/dev/tty`, writes a raw escape over the screen and pushes its first
/// argument into the terminal's input queue with `TIOCSTI` (0x5412 on Linux), one byte at a
/// time. It prints what it managed: `tty: opened` or the error of the open (`tty: ENXIO` when
/// it has no controlling terminal), `ctty: N` (field 7 of /proc/self/stat, the controlling
/// terminal's device number, 0 for none) and `ttyfds: N` (descriptors it holds on a terminal).
const TTY_PL: &str = r#"use strict;
use Fcntl;
my $r;
if (sysopen(my $t, "/dev/tty", O_RDWR | O_NOCTTY)) {
    syswrite($t, "\e[41mRAW-FROM-CHECK\e[0m\r\n");
    ioctl($t, 0x5412, $_) for split //, $ARGV[0];
    close($t);
    $r = "opened";
} else {
    $r = $!{ENXIO} ? "ENXIO" : "errno" . ($! + 0);
}
open(my $s, "<", "/proc/self/stat") or die;
my $stat = <$s>;
$stat =~ s/.*\) //s;
my $ctty = (split / /, $stat)[4];
my $fds = 0;
opendir(my $d, "/proc/self/fd") or die;
for my $f (readdir $d) {
    my $to = readlink("/proc/self/fd/$f") // "";
    $fds++ if $to =~ m{^/dev/(pts/|tty|console)};
}
print "tty: $r ctty: $ctty ttyfds: $fds\n";
"#;

fn tty_program(dir: &Path) -> PathBuf {
    let p = dir.join("tty.pl");
    std::fs::write(&p, TTY_PL).unwrap();
    p
}

#[test]
fn a_check_program_has_no_terminal_and_cannot_type_into_drillbook_or_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let prog = tty_program(dir.path());
    // In the app: keys that, typed into drillbook, open a note on the step and record it as
    // the operator (what the tester's program did).
    let rb = runbook_in(
        dir.path(),
        &format!(
            r#"    - id: ttyc
      title: A status tool
      check:
        command: ["/usr/bin/perl", "{}", "nINJECTED-BY-THE-CHECK\r"]
        match: 'tty: (?P<tty>\S+) ctty: (?P<ctty>\S+) ttyfds: (?P<ttyfds>\S+)'
        allow: true
        rehearsal_safe: true
        every: 5s
"#,
            prog.display()
        ),
    );
    let j = dir.path().join("j.jsonl");
    let t = Tmux::start(
        "cmd-tty",
        &format!(
            "env NO_COLOR= TZ=Europe/London {BIN} run {} --allow-commands --rehearse --speed 1 \
             --start-at 08:00 --notify off --operator e2e --journal {}; echo EXITED $?; sleep 60",
            rb.display(),
            j.display()
        ),
    );
    t.wait_for("the step", |s| s.contains("A status tool"));
    tmux::poll("the check's first run journaled", || {
        journal(&j).iter().any(|e| e["kind"] == "check")
    });
    // Our own note, typed after the check ran: the terminal's input is read in order, so once
    // it is journaled, anything the program had pushed into the input queue was read before it.
    t.keys(&["n"]);
    t.wait_for("the note prompt", |s| s.contains("Note on "));
    assert!(
        t.tmux(&["send-keys", "-l", "typed by the operator"])
            .status
            .success()
    );
    t.keys(&["Enter"]);
    tmux::poll("the operator's note journaled", || {
        journal(&j)
            .iter()
            .any(|e| e["kind"] == "note" && e["text"] == "typed by the operator")
    });
    let screen = t.screen();
    let events = journal(&j);
    let check = events.iter().find(|e| e["kind"] == "check").unwrap();
    let value = |name: &str| {
        check["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .map(|v| v["value"].as_str().unwrap().to_owned())
    };
    // Nothing it could have typed reached drillbook: the only note is the operator's.
    let notes: Vec<_> = events.iter().filter(|e| e["kind"] == "note").collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["text"], "typed by the operator", "{notes:?}");
    assert!(
        !events.iter().any(|e| e["kind"] == "step"),
        "a step acted on as the operator: {events:?}"
    );
    assert_eq!(check["outcome"], "pass", "{check}");
    // No controlling terminal: /dev/tty is ENXIO, the kernel names none, none inherited.
    assert_eq!(value("tty").as_deref(), Some("ENXIO"), "{check}");
    assert_eq!(value("ctty").as_deref(), Some("0"), "{check}");
    assert_eq!(value("ttyfds").as_deref(), Some("0"), "{check}");
    assert!(!screen.contains("RAW-FROM-CHECK"), "{screen}");
    t.keys(&["q"]);
    t.wait_for("the exit", |s| s.contains("EXITED 0"));

    // `drillbook check` in a shell: keys pushed then would be read by the shell once it
    // returns, and run.
    let injected = dir.path().join("INJECTED");
    let rb = runbook_in(
        dir.path(),
        &format!(
            r#"    - id: ttyc
      title: A status tool
      check:
        command: ["/usr/bin/perl", "{}", "touch {}\n"]
        match: 'tty: (?P<tty>\S+)'
        allow: true
"#,
            prog.display(),
            injected.display()
        ),
    );
    let out = dir.path().join("check.out");
    let sh = Tmux::start(
        "cmd-tty-sh",
        &format!(
            "env NO_COLOR= TZ=Europe/London PS1='$ ' sh -c '{BIN} check --runbook {} --allow-commands > {}; echo CHECKED; exec sh'",
            rb.display(),
            out.display()
        ),
    );
    sh.wait_for("check to return", |s| s.contains("CHECKED"));
    // Again our own line after it: once it has run, whatever was typed before it has too.
    let sentinel = dir.path().join("SENTINEL");
    assert!(
        sh.tmux(&["send-keys", "-l", &format!("touch {}", sentinel.display())])
            .status
            .success()
    );
    sh.keys(&["Enter"]);
    tmux::poll("the operator's command to run", || sentinel.exists());
    let printed = std::fs::read_to_string(&out).unwrap();
    assert!(printed.contains("tty=ENXIO"), "{printed}");
    assert!(
        !injected.exists(),
        "the shell ran what the check typed:\n{}",
        sh.screen()
    );
}

#[test]
fn kill_0_in_a_checked_script_ends_its_own_group_not_its_supervisor() {
    let dir = tempfile::tempdir().unwrap();
    let rb = runbook_in(
        dir.path(),
        r#"    - id: plain
      title: The cleanup idiom, which also ends the shell itself
      check:
        command: ["/bin/sh", "-c", "trap 'kill 0' EXIT; echo 'status: OK'; exit 0"]
        match: 'status: (?P<st>OK)'
        allow: true
    - id: careful
      title: The cleanup idiom, the shell keeping its own exit status
      check:
        command: ["/bin/sh", "-c", "trap 'trap \"\" TERM; kill 0; sleep 0.3' EXIT; sleep 30 & echo 'status: OK'; exit 0"]
        match: 'status: (?P<st>OK)'
        allow: true
    - id: hits
      title: A program that signals its supervisor on purpose
      check:
        command: ["/bin/sh", "-c", "kill -TERM $PPID; sleep 5"]
        allow: true
"#,
    );
    let out = drillbook(&[
        "check",
        "--runbook",
        rb.to_str().unwrap(),
        "--allow-commands",
    ]);
    let text = stdout(&out);
    // The script that keeps its status passes: its `kill 0` ended its own group (its `sleep`),
    // not its supervisor.
    let (outcome, careful) = row(&text, "careful");
    assert_eq!(outcome, "pass", "{text}");
    assert!(careful.contains("exited with status 0"), "{text}");
    // The plain idiom's SIGTERM ends the shell too (as `sh` says in a terminal, status 143): it
    // is said as what happened to the program, not as an exit status 124 of the supervisor's.
    let (outcome, plain) = row(&text, "plain");
    assert_eq!(outcome, "FAIL", "{text}");
    assert!(
        plain.contains("/bin/sh was killed by signal 15 (SIGTERM)"),
        "{text}"
    );
    assert!(!plain.contains("124"), "{text}");
    // A signal to the supervisor itself is said as that.
    let (outcome, hits) = row(&text, "hits");
    assert_eq!(outcome, "FAIL", "{text}");
    assert!(
        hits.contains("ended by SIGTERM sent to its supervisor"),
        "{text}"
    );
    assert!(!hits.contains("exited with status 124"), "{text}");
}

#[test]
fn a_check_program_gets_a_small_documented_environment() {
    let dir = tempfile::tempdir().unwrap();
    let listing = dir.path().join("env.txt");
    let rb = runbook_in(
        dir.path(),
        &format!(
            r#"    - id: env
      title: Lists its environment
      check:
        command: ["/usr/bin/perl", "-e", "open(my $f, '>', $ARGV[0]) or die; print $f map {{ \"$_=$ENV{{$_}}\\n\" }} sort keys %ENV", "{}"]
        allow: true
"#,
            listing.display()
        ),
    );
    // The operator's environment inside tmux on a desktop-forwarding SSH session, with an agent.
    let out = Command::new(BIN)
        .args(["check", "--runbook"])
        .arg(&rb)
        .arg("--allow-commands")
        .env_clear()
        .envs([
            ("PATH", "/home/op/bin:/usr/local/bin:/usr/bin:/bin"),
            ("HOME", "/home/op"),
            ("USER", "op"),
            ("LOGNAME", "op"),
            ("LANG", "C.UTF-8"),
            ("LC_TIME", "C"),
            ("TZ", "Asia/Hong_Kong"),
            ("TERM", "tmux-256color"),
            ("TMUX", "/tmp/tmux-1000/default,4242,0"),
            ("TMUX_PANE", "%3"),
            ("SSH_AUTH_SOCK", "/tmp/ssh-XXXX/agent.4242"),
            ("SSH_CONNECTION", "192.0.2.1 50000 192.0.2.2 22"),
            ("DISPLAY", "localhost:10.0"),
            ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1000/bus"),
            ("XDG_RUNTIME_DIR", "/run/user/1000"),
            ("OCG_TOKEN", "not-for-the-check"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let got = std::fs::read_to_string(&listing).unwrap();
    assert_eq!(
        got,
        "HOME=/home/op\nLANG=C.UTF-8\nLC_TIME=C\nLOGNAME=op\nPATH=/usr/local/bin:/usr/bin:/bin\nTZ=Asia/Hong_Kong\nUSER=op\n",
        "the program's environment"
    );
}

/// Whether process `pid` has ended (gone, or a zombie waiting for its new parent to reap it).
fn ended(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

/// Kills, when dropped, these processes if still there: a failing test leaves nothing stopped
/// behind on the host.
struct Sweep(PathBuf);

impl Drop for Sweep {
    fn drop(&mut self) {
        for pid in pids(&self.0).into_iter().flat_map(|(a, b)| [a, b]) {
            // SAFETY: signals to processes this test's own check started (their ids it wrote).
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// `SUPERVISOR CHILD` per line, as the program wrote them.
fn pids(path: &Path) -> Vec<(i32, i32)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (a, b) = l.split_once(' ')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .collect()
}

#[test]
fn a_supervisor_its_program_stops_is_woken_ended_and_reaped_while_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let written = dir.path().join("pids");
    let _sweep = Sweep(written.clone());
    let rb = runbook_in(
        dir.path(),
        &format!(
            r#"    - id: stops
      title: Stops its supervisor and leaves a child
      check:
        command: ["/bin/sh", "-c", "sleep 300 & echo \"$PPID $!\" >> {}; kill -STOP $PPID; exit 0"]
        allow: true
        rehearsal_safe: true
        timeout: 1s
        every: 5s
"#,
            written.display()
        ),
    );
    let mut run = Command::new(BIN)
        .arg("run")
        .arg(&rb)
        .args(["--allow-commands", "--rehearse", "--speed", "1"])
        .args(["--start-at", "08:00", "--headless", "--notify", "off"])
        .arg("--journal")
        .arg(dir.path().join("j.jsonl"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Two runs of the check (the second 5 s after the first), each stopping its supervisor.
    cli::poll("two runs of the check", || pids(&written).len() >= 2);
    let two: Vec<(i32, i32)> = pids(&written).into_iter().take(2).collect();
    // Each supervisor is woken at its timeout and ends the child, and the run reaps it (no
    // zombie left), while the run goes on.
    for (supervisor, child) in &two {
        cli::poll(&format!("supervisor {supervisor} reaped"), || {
            !Path::new(&format!("/proc/{supervisor}")).exists()
        });
        cli::poll(&format!("its child {child} ended"), || ended(*child));
    }
    assert!(run.try_wait().unwrap().is_none(), "the run goes on");
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(run.id() as i32, libc::SIGTERM) };
    assert!(run.wait().unwrap().success());
}
