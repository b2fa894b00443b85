//! Driving the real binary for the journal tests: one-shot commands, and a `drillbook record`
//! child fed line by line whose `ok SEQ` replies are read back. Every wait is a bounded poll.

// Each test file uses part of this helper.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_drillbook");
pub const WAIT: Duration = Duration::from_secs(15);

/// The bundled session's id.
pub const SESSION: &str = "hkex-ps2-2023-11-25";

/// `drillbook ARGS` with a fixed reader zone, to completion.
pub fn drillbook(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("TZ", "Europe/London")
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `drillbook record JOURNAL --role ROLES --operator OP` with these lines on stdin, to completion.
pub fn record_all(journal: &Path, roles: &str, operator: &str, lines: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(["record"])
        .arg(journal)
        .args(["--role", roles, "--operator", operator])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().unwrap();
    for l in lines {
        writeln!(input, "{l}").unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// A running `drillbook record` child.
pub struct Recorder {
    pub child: Child,
    stdin: Option<ChildStdin>,
    replies: Receiver<String>,
}

impl Recorder {
    /// Start it and wait for `ready SEQ`; `Err(stderr)` when it exits instead.
    pub fn start(journal: &Path, roles: &str, operator: &str) -> Result<Self, String> {
        Self::start_with(journal, &["--role", roles], operator)
    }

    /// Start it with these runbook arguments (`--role R` or runbook paths).
    pub fn start_with(journal: &Path, select: &[&str], operator: &str) -> Result<Self, String> {
        let mut child = Command::new(BIN)
            .arg("record")
            .arg(journal)
            .args(select)
            .args(["--operator", operator])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let r = Self {
            stdin: child.stdin.take(),
            child,
            replies: rx,
        };
        match r.reply() {
            Some(l) if l.starts_with("ready ") => Ok(r),
            other => {
                let (_, err, _) = r.finish();
                Err(format!("{other:?} {err}"))
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send one line without waiting.
    pub fn send(&mut self, line: &str) {
        let input = self.stdin.as_mut().expect("stdin open");
        writeln!(input, "{line}").unwrap();
        input.flush().unwrap();
    }

    /// The next reply line, or None when the child closed stdout or `WAIT` passed.
    pub fn reply(&self) -> Option<String> {
        self.reply_within(WAIT)
    }

    pub fn reply_within(&self, d: Duration) -> Option<String> {
        self.replies.recv_timeout(d).ok()
    }

    /// Every reply already received, without waiting.
    pub fn drain(&self) -> Vec<String> {
        self.replies.try_iter().collect()
    }

    /// Send a line and wait for its reply.
    pub fn ask(&mut self, line: &str) -> String {
        self.send(line);
        self.reply().expect("a reply from drillbook record")
    }

    /// Close stdin and wait for the exit: the status, stderr, and the replies not yet read.
    pub fn finish(mut self) -> (ExitStatus, String, Vec<String>) {
        drop(self.stdin.take());
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let status = self.child.wait().unwrap();
        // The reader thread ends when stdout closes, which it does at exit.
        let rest = self.replies.iter().collect();
        (status, err, rest)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Poll until `pred` holds; panic naming `what` after `WAIT`.
pub fn poll(what: &str, mut pred: impl FnMut() -> bool) {
    let start = Instant::now();
    while !pred() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The journal's lines as JSON values.
pub fn lines(p: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a journal line"))
        .collect()
}

/// The fixture journal's path.
pub fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/journals")
        .join(name)
}

/// A copy of the fixture journal `name` with the rehearsal stamp on every event (virtual time =
/// its time), written into `dir` as `out`.
pub fn rehearsal_twin(name: &str, dir: &Path, out: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    let mut lines = String::new();
    for l in text.lines() {
        let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
        let utc = v["utc"].clone();
        v["rehearsal"] = serde_json::json!({ "virtual_utc": utc, "speed": 60.0 });
        lines.push_str(&serde_json::to_string(&v).unwrap());
        lines.push('\n');
    }
    let p = dir.join(out);
    std::fs::write(&p, lines).unwrap();
    p
}

/// Markdown as `handover` and `report` print it, with each folded line joined back to the item
/// or paragraph it continues (see `text::fold_markdown`: an item continues indented under its
/// text, a paragraph at its own indent, and a continuation never starts a block of its own), so
/// a test can look for a whole sentence.
pub fn unfold(md: &str) -> String {
    let opens = |t: &str| {
        t.starts_with("- ")
            || t.starts_with("* ")
            || t.starts_with("+ ")
            || t.starts_with(['#', '|', '>'])
            || t.starts_with("```")
            || t.split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let mut out = String::with_capacity(md.len());
    let mut prev = "";
    for line in md.lines() {
        let t = line.trim_start();
        let p = prev.trim_start();
        let after_text = !p.is_empty() && !p.starts_with(['#', '|']) && !p.starts_with("```");
        // Under an item (indented), or a paragraph's next line at the paragraph's own indent.
        let continues =
            !t.is_empty() && !opens(t) && after_text && (line.starts_with("  ") || !opens(p));
        if continues {
            out.pop();
            out.push(' ');
            out.push_str(t);
        } else {
            out.push_str(line);
        }
        out.push('\n');
        prev = line;
    }
    out
}
