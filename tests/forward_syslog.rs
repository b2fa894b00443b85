//! `drillbook forward` into a real `rsyslogd` (private configuration, 127.0.0.1 and a Unix
//! socket in a temporary folder only): a day's journal, written while it is forwarded, arrives
//! with every event exactly once and its structured data whole, across a SIGKILL of the
//! forwarder in the middle and a restart of rsyslogd; the collector's outage is reported by the
//! forwarder and in `handover`. UDP and the Unix socket carry the same messages.

#[path = "support/cli.rs"]
mod cli;
#[path = "support/rsyslog.rs"]
mod rsyslog;

use cli::{BIN, Recorder, SESSION, drillbook, stdout};
use rsyslog::{Rsyslog, parse_line};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// A `drillbook forward` child, its stderr lines read on a thread.
struct Forwarder {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Forwarder {
    fn start(journal: &Path, to: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .arg("forward")
            .arg(journal)
            .args(["--to", to])
            .args(extra)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("the binary runs");
        let err = child.stderr.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Wait for the forwarder to exit (bounded) and read the rest of what it said.
    fn finish(&mut self) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            let left = Duration::from_secs(30).saturating_sub(start.elapsed());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                Err(e) => panic!(
                    "forward still talking after 30s ({e}):\n{}",
                    self.seen.join("\n")
                ),
            }
        }
        self.child.wait().unwrap()
    }

    /// Wait until a stderr line contains `what`.
    fn wait_for(&mut self, what: &str) {
        let start = Instant::now();
        while !self.seen.iter().any(|l| l.contains(what)) {
            let left = Duration::from_secs(30).saturating_sub(start.elapsed());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(e) => panic!(
                    "forward never said {what:?} ({e}); it said:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A day's actions for roles ep, hsn, omd: every step done with its first free-text evidence field filled
/// (values carrying the characters structured data must escape), and notes.
fn day_lines() -> Vec<String> {
    let roles: Vec<String> = ["ep", "hsn", "omd"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let plan = drillbook::runbook::load_bundled(&roles).unwrap();
    let mut v = Vec::new();
    for (i, s) in plan.steps.iter().enumerate() {
        // The first field that takes any text (one with options takes only them).
        if let Some(f) = s.evidence.iter().find(|f| s.options_of(f).is_none()) {
            v.push(format!(
                "evidence {} {f} = value {i} \"quoted\" [bracket] back\\slash ]",
                s.id
            ));
        }
        v.push(format!("done {}", s.id));
        if i % 10 == 0 {
            v.push(format!("note checkpoint {i}: all well ] \"so far\""));
        }
    }
    v
}

/// The collected messages of `session` by seq.
fn by_seq(collected: &str) -> std::collections::BTreeMap<u64, Vec<rsyslog::Collected>> {
    let mut m: std::collections::BTreeMap<u64, Vec<rsyslog::Collected>> =
        std::collections::BTreeMap::new();
    for l in collected.lines() {
        let c = parse_line(l).unwrap_or_else(|| panic!("not a drillbook line: {l}"));
        if c.params.get("session").map(String::as_str) == Some(SESSION) {
            let seq = c.params["seq"].parse().unwrap();
            m.entry(seq).or_default().push(c);
        }
    }
    m
}

/// Every event of the journal exactly once, with its fields as structured data.
fn check_exactly_once(journal: &Path, collected: &str) {
    let events = cli::lines(journal);
    let got = by_seq(collected);
    let dups: Vec<u64> = got
        .iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(s, _)| *s)
        .collect();
    assert!(dups.is_empty(), "duplicated: {dups:?}");
    let missing: Vec<u64> = events
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .filter(|s| !got.contains_key(s))
        .collect();
    assert!(missing.is_empty(), "missing: {missing:?}");
    assert_eq!(got.len(), events.len());
    for e in &events {
        let seq = e["seq"].as_u64().unwrap();
        let c = &got[&seq][0];
        assert_eq!(c.app, "drillbook");
        assert_eq!(c.hostname, "desk1");
        assert_eq!(c.msgid, e["kind"].as_str().unwrap());
        for (k, v) in e.as_object().unwrap() {
            let want = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|x| x.as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
                    .join(","),
                serde_json::Value::Object(_) => continue,
                other => other.to_string(),
            };
            assert_eq!(
                c.params.get(k),
                Some(&want),
                "#{seq} field {k} in {:?}",
                c.params
            );
        }
        assert_eq!(c.params["roles"], "ep,hsn,omd");
        assert!(c.msg.starts_with("alice@desk1 [ep,hsn,omd] "), "{}", c.msg);
    }
}

#[test]
fn a_days_journal_arrives_exactly_once_across_a_forwarder_kill_and_a_collector_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut rs = Rsyslog::start(&dir.path().join("rsyslog"));
    let journal = dir.path().join("desk1.jsonl");
    let to = format!("syslog+tcp://127.0.0.1:{}", rs.tcp);
    let mut rec = Recorder::start_with(
        &journal,
        &["--role", "ep,hsn,omd", "--host", "desk1"],
        "alice",
    )
    .expect("record starts");
    let lines = day_lines();
    assert!(lines.len() > 150, "a day: {}", lines.len());
    let third = lines.len() / 3;
    let mut sent = lines.iter();
    let mut ask = |rec: &mut Recorder, n: usize| {
        for l in sent.by_ref().take(n) {
            let r = rec.ask(l);
            assert!(r.starts_with("ok "), "{l}: {r}");
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    // The morning is in the journal before the forwarder starts; it catches up, then follows.
    ask(&mut rec, third / 2);
    let mut fwd = Forwarder::start(&journal, &to, &[]);
    fwd.wait_for("caught up");
    ask(&mut rec, third / 2);
    // Killed in the middle of the day, while events are being written.
    fwd.child.kill().unwrap();
    fwd.child.wait().unwrap();
    ask(&mut rec, 10);
    let mut fwd = Forwarder::start(&journal, &to, &[]);
    fwd.wait_for("after event #");
    ask(&mut rec, third / 2);

    // The collector goes down while events keep coming: reported, nothing lost.
    rs.down();
    ask(&mut rec, 5);
    fwd.wait_for("collector down");
    let h = drillbook(&["handover", journal.to_str().unwrap()]);
    let ho = cli::unfold(&stdout(&h));
    assert!(
        ho.contains("## Forwarding") && ho.contains("**collector down** since") && ho.contains(&to),
        "{ho}"
    );
    rs.up();
    fwd.wait_for("collector back");
    ask(&mut rec, usize::MAX);
    let (status, err, _) = rec.finish();
    assert!(status.success(), "{err}");

    // Everything arrives (bounded wait), then the forwarder stops cleanly on SIGTERM.
    let total = cli::lines(&journal).len();
    let start = Instant::now();
    while by_seq(&rs.collected()).len() < total {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{} of {total} collected",
            by_seq(&rs.collected()).len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(fwd.child.id() as i32, libc::SIGTERM) };
    let st = fwd.child.wait().unwrap();
    assert!(st.success(), "{st}");
    rs.down();
    check_exactly_once(&journal, &rs.collected());
    // The position beside the journal is private and says all was delivered.
    let pos = drillbook::forward::position::path_for(&journal, &to);
    let saved = drillbook::forward::position::load(&pos).unwrap().unwrap();
    assert_eq!(saved.seq as usize, total);
    assert_eq!(saved.state, "stopped", "ended by SIGTERM, as asked");
    let h = cli::unfold(&stdout(&drillbook(&[
        "handover",
        journal.to_str().unwrap(),
    ])));
    assert!(
        h.contains(&format!("{total} events delivered, up to #{total}"))
            && h.contains("the forwarder was stopped"),
        "{h}"
    );
    assert_eq!(
        std::fs::metadata(&pos).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Started again, nothing is sent twice.
    rs.up();
    let out = Command::new(BIN)
        .arg("forward")
        .arg(&journal)
        .args(["--to", &to, "--once"])
        .output()
        .unwrap();
    assert!(out.status.success());
    rs.down();
    check_exactly_once(&journal, &rs.collected());
}

#[test]
fn udp_and_the_unix_socket_carry_the_same_messages_and_a_second_forwarder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut rs = Rsyslog::start(&dir.path().join("rsyslog"));
    let journal = dir.path().join("desk1.jsonl");
    let lines: Vec<String> = day_lines().into_iter().take(40).collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut rec = Recorder::start_with(
        &journal,
        &["--role", "ep,hsn,omd", "--host", "desk1"],
        "alice",
    )
    .unwrap();
    for l in &refs {
        assert!(rec.ask(l).starts_with("ok "));
    }
    let (status, _, _) = rec.finish();
    assert!(status.success());

    for to in [
        format!("syslog+unix://{}", rs.unix_socket().display()),
        format!("syslog+udp://127.0.0.1:{}", rs.udp),
    ] {
        let out = Command::new(BIN)
            .arg("forward")
            .arg(&journal)
            .args(["--to", &to, "--once"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let total = cli::lines(&journal).len();
        let start = Instant::now();
        while by_seq(&rs.collected()).len() < total {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{to}: not all collected"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        rs.down();
        check_exactly_once(&journal, &rs.collected());
        std::fs::remove_file(rs.dir.join("collected.log")).unwrap();
        rs.up();
    }

    // One forwarder per journal and collector.
    let to = format!("syslog+tcp://127.0.0.1:{}", rs.tcp);
    let mut first = Forwarder::start(&journal, &to, &[]);
    first.wait_for("caught up");
    let out = Command::new(BIN)
        .arg("forward")
        .arg(&journal)
        .args(["--to", &to, "--once"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("another drillbook forwarder is already sending"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A bad address is a usage error.
    let out = drillbook(&["forward", journal.to_str().unwrap(), "--to", "tcp://x:1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(cli::stderr(&out).contains("syslog+tcp://HOST:PORT"));
}

/// `forward` says what is true when it stops: everything delivered (`--once`), or, stopped
/// while the collector is down, that events were NOT delivered; never "caught up" meanwhile.
#[test]
fn forward_says_what_was_delivered_when_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("desk1.jsonl");
    let out = cli::record_all(
        &journal,
        "ep",
        "alice",
        &["note one", "note two", "note three"],
    );
    assert!(out.status.success());
    let total = cli::lines(&journal).len();

    // The collector is down: without `--once`, SIGTERM while it retries; it says so, exit 0.
    let to = format!("syslog+unix://{}", dir.path().join("down.sock").display());
    let mut fwd = Forwarder::start(&journal, &to, &[]);
    fwd.wait_for("collector down");
    // SAFETY: signalling our own child.
    unsafe { libc::kill(fwd.child.id() as i32, libc::SIGTERM) };
    assert!(fwd.finish().success());
    let said = fwd.seen.join("\n");
    assert!(!said.contains("caught up"), "{said}");
    assert!(said.contains("NOT delivered"), "{said}");
    // With `--once` (a cron job), a collector that stays down is given a few seconds, then the
    // run ends by itself, exit 1, rather than holding the journal until the next run.
    let mut fwd = Forwarder::start(&journal, &to, &["--once"]);
    assert_eq!(fwd.finish().code(), Some(1));
    let said = fwd.seen.join("\n");
    assert!(!said.contains("caught up"), "{said}");
    assert!(
        said.contains("the collector stayed down: events NOT delivered; the next run sends them"),
        "{said}"
    );

    // A collector of our own (a Unix datagram socket): everything arrives, and `--once` says so.
    let sock = dir.path().join("up.sock");
    let collector = std::os::unix::net::UnixDatagram::bind(&sock).unwrap();
    let to = format!("syslog+unix://{}", sock.display());
    let mut fwd = Forwarder::start(&journal, &to, &["--once"]);
    assert!(fwd.finish().success());
    let said = fwd.seen.join("\n");
    assert!(
        said.contains(&format!(
            "everything delivered, up to #{total} ({total} events in all)"
        )),
        "{said}"
    );
    assert!(!said.contains("waiting for more"), "{said}");
    collector
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = vec![0u8; 65536];
    for _ in 0..total {
        collector.recv(&mut buf).expect("each event arrived");
    }
}

/// `run --forward` takes the address as `forward --to` does: a bad one is the same usage error
/// (exit 2) before the journal is opened, for the app and the headless run alike; and a headless
/// run says on a line of its own when forwarding stops.
#[test]
fn run_forward_refuses_a_bad_address_up_front_and_says_when_forwarding_stops() {
    let dir = tempfile::tempdir().unwrap();
    let never = dir.path().join("never.jsonl");
    let run = |extra: &[&str], journal: &Path, forward: &str| {
        Command::new(BIN)
            .args(["run", "--role", "ep", "--rehearse", "--speed", "3600"])
            .args(["--start-at", "13:00", "--notify", "off"])
            .args(extra)
            .arg("--journal")
            .arg(journal)
            .args(["--forward", forward])
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    for bad in ["bogus", "syslog+tcp://:99999", "syslog+unix://", "http://x"] {
        let to = drillbook(&["forward", never.to_str().unwrap(), "--to", bad]);
        assert_eq!(to.status.code(), Some(2));
        let want = cli::stderr(&to).replacen("--to ", "--forward ", 1);
        for extra in [&["--headless"][..], &[]] {
            let out = run(extra, &never, bad);
            assert_eq!(out.status.code(), Some(2), "{bad} {extra:?}");
            assert_eq!(cli::stderr(&out), want, "{bad} {extra:?}");
        }
        assert!(!never.exists(), "refused before the journal was opened");
    }

    // Forwarding that stops: another forwarder already sends this journal to this collector.
    let journal = dir.path().join("r.jsonl");
    let first = run(&["--headless"], &journal, "syslog+udp://127.0.0.1:9");
    assert!(first.status.success(), "{}", cli::stderr(&first));
    let to = format!("syslog+unix://{}", dir.path().join("down.sock").display());
    let mut other = Forwarder::start(&journal, &to, &[]);
    other.wait_for("collector down");
    let out = run(&["--headless"], &journal, &to);
    assert!(out.status.success(), "{}", cli::stderr(&out));
    let said = stdout(&out);
    assert!(
        said.lines().any(|l| l.contains(" forward ")
            && l.contains("forwarding stopped")
            && l.contains("another drillbook forwarder is already sending")),
        "{said}"
    );
}
