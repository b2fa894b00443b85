//! Checks on real parts: TCP connects to loopback listeners (open, closed, a full backlog), a
//! log followed while the test appends to it, rotates it and leaves a partial line, files, and
//! command checks and who may run them; the site file's unset values; what the journal records
//! of a result; the scheduler of automatic checks; and `drillbook check` through the binary.
//! Multicast runs in a network namespace of its own: `check_multicast.rs`.

#[path = "support/cli.rs"]
mod cli;

use chrono::{DateTime, TimeDelta, Utc};
use cli::{drillbook, stderr, stdout};
use drillbook::check::schedule::Schedule;
use drillbook::check::{self, CheckResult, Job, Mode, Runner, Simulate};
use drillbook::journal::{Action, CheckOutcome, Event, Record, StepState};
use drillbook::runbook::{Plan, load_paths};
use drillbook::site::Site;
use std::fmt::Write as _;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn sensing() -> Plan {
    load_paths(&[fixture("checks/sensing.yaml")]).expect("the sensing fixture loads")
}

fn commands() -> Plan {
    load_paths(&[fixture("checks/commands.yaml")]).expect("the commands fixture loads")
}

fn site(values: &[(&str, &str)]) -> Site {
    Site::from_values(
        values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    )
}

/// The job of step `id`, its phase taken to have started at `since`.
fn job(plan: &Plan, id: &str, since: DateTime<Utc>) -> Job {
    let i = plan.step_index(id).expect("the step exists");
    Job::for_step(plan, i, since).expect("the step has a check")
}

fn runner(site: Site) -> Runner {
    Runner::new(site, Mode::default(), check::DEFAULT_LIMIT)
}

/// A runbook of one step with this check, over the fixture session, in a temp folder.
fn plan_with(dir: &Path, check: &str, evidence: &[&str]) -> Plan {
    std::fs::copy(fixture("checks/session.yaml"), dir.join("session.yaml")).unwrap();
    let mut text = String::from(
        "format: 1\nid: one\nrole: ops\ntitle: One check\nsession: session.yaml\nsite:\n  log: the log\n  file: a file\n  pattern: the firm's pattern\nphases:\n  primary:\n    - id: step\n      title: The step\n",
    );
    if !evidence.is_empty() {
        text.push_str("      evidence:\n");
        for e in evidence {
            let _ = writeln!(text, "        - {e}");
        }
    }
    text.push_str("      check:\n");
    for l in check.lines() {
        let _ = writeln!(text, "        {l}");
    }
    let rb = dir.join("one.yaml");
    std::fs::write(&rb, text).unwrap();
    load_paths(&[rb]).unwrap_or_else(|e| panic!("{e}"))
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.flush().unwrap();
}

fn value<'a>(r: &'a CheckResult, name: &str) -> Option<&'a str> {
    r.values
        .iter()
        .find(|v| v.name == name)
        .map(|v| v.value.as_str())
}

// --- tcp -------------------------------------------------------------------------------------

#[tokio::test]
async fn tcp_passes_on_a_listener_records_the_address_and_sends_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let plan = sensing();
    let r = runner(site(&[
        ("primary_host", "127.0.0.1"),
        ("primary_port", &port),
    ]))
    .run(job(&plan, "primary-gateway", Utc::now()))
    .await;
    assert_eq!(r.outcome, CheckOutcome::Pass, "{r:?}");
    assert_eq!(r.target, format!("127.0.0.1:{port}"));
    assert_eq!(
        value(&r, "address"),
        Some(format!("127.0.0.1:{port}").as_str())
    );
    let ms: f64 = value(&r, "connect_ms").unwrap().parse().unwrap();
    assert!(ms < 2000.0, "{ms}");
    // The connection arrived, and nothing was written on it before it closed.
    let (mut conn, _) = listener.accept().unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16];
    let n = std::io::Read::read(&mut conn, &mut buf).unwrap();
    assert_eq!(n, 0, "the check sent bytes: {:?}", &buf[..n]);
}

#[tokio::test]
async fn tcp_fails_on_a_closed_port() {
    // A port that was just free: bind, note it, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let plan = sensing();
    let r = runner(site(&[
        ("primary_host", "127.0.0.1"),
        ("primary_port", &port),
    ]))
    .run(job(&plan, "primary-gateway", Utc::now()))
    .await;
    assert_eq!(r.outcome, CheckOutcome::Fail, "{r:?}");
    assert!(r.detail.contains("refused the connection"), "{}", r.detail);
    assert!(r.values.is_empty(), "a failed connect captures nothing");
}

#[tokio::test]
async fn tcp_times_out_on_a_listener_whose_backlog_is_full() {
    // A listener that never accepts, with a backlog of 0: one connection fills its queue and
    // the kernel then drops every SYN, so a connect waits until its own timeout.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(
        &"127.0.0.1:0"
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    )
    .unwrap();
    sock.listen(0).unwrap();
    let addr = sock.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    let mut full = false;
    for _ in 0..64 {
        if let Ok(s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            fillers.push(s);
        } else {
            full = true;
            break;
        }
    }
    assert!(
        full,
        "the backlog never filled after {} connections",
        fillers.len()
    );
    let port = addr.port().to_string();
    let plan = sensing(); // primary-gateway: timeout 2s
    let t0 = Instant::now();
    let r = runner(site(&[
        ("primary_host", "127.0.0.1"),
        ("primary_port", &port),
    ]))
    .run(job(&plan, "primary-gateway", Utc::now()))
    .await;
    let took = t0.elapsed();
    assert_eq!(r.outcome, CheckOutcome::Timeout, "{r:?}");
    assert!(
        r.detail.contains("no answer from 127.0.0.1"),
        "{}",
        r.detail
    );
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(4),
        "the 2 s timeout was not honoured: {took:?}"
    );
    assert!(
        r.duration >= Duration::from_millis(1900),
        "{:?}",
        r.duration
    );
}

// --- the site file ---------------------------------------------------------------------------

#[tokio::test]
async fn an_unset_site_value_leaves_the_check_not_configured_never_failed() {
    let plan = sensing();
    let r = runner(Site::empty())
        .run(job(&plan, "not-configured", Utc::now()))
        .await;
    assert_eq!(r.outcome, CheckOutcome::NotConfigured);
    assert_eq!(r.detail, "not configured: set `never_set` in the site file");
    assert_eq!(r.target, "${never_set}:443", "shown as written");
    assert!(!r.outcome.is_failure());
    // Set but empty is unset too.
    let r = runner(site(&[("never_set", "")]))
        .run(job(&plan, "not-configured", Utc::now()))
        .await;
    assert_eq!(r.outcome, CheckOutcome::NotConfigured);
    // Several unset names are all named, once each.
    let r = runner(site(&[("primary_host", "127.0.0.1")]))
        .run(job(&plan, "primary-gateway", Utc::now()))
        .await;
    assert_eq!(
        r.detail,
        "not configured: set `primary_port` in the site file"
    );
}

#[test]
fn a_site_file_is_read_from_the_config_folder_and_its_problems_are_positioned() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("drillbook");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(cfg.join("site.yaml"), "site:\n  never_set: 10.9.9.9\n").unwrap();
    let out = std::process::Command::new(cli::BIN)
        .args(["check", "--runbook"])
        .arg(fixture("checks/sensing.yaml"))
        .arg("not-configured")
        .env("XDG_CONFIG_HOME", dir.path())
        .output()
        .unwrap();
    let text = stdout(&out);
    // The value came from the default place: the check ran against it (and failed or timed
    // out; 10.9.9.9:443 is not listening here), it was not "not configured".
    assert!(text.contains("not-configured tcp 10.9.9.9:443"), "{text}");
    assert!(!text.contains("set `never_set`"), "{text}");

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "site:\n  gw_host: 10.0.0.1\n  Gw_Port: 443\n").unwrap();
    let out = drillbook(&[
        "check",
        "--runbook",
        fixture("checks/sensing.yaml").to_str().unwrap(),
        "--site",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "{}:3:3: `Gw_Port` is not a site value name",
            bad.display()
        )),
        "{}",
        stderr(&out)
    );
    let missing = dir.path().join("missing.yaml");
    let out = drillbook(&[
        "check",
        "--runbook",
        fixture("checks/sensing.yaml").to_str().unwrap(),
        "--site",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "a named site file must exist");
    assert!(stderr(&out).contains("no such file"), "{}", stderr(&out));
}

// --- log -------------------------------------------------------------------------------------

const LOGON: &str = r"log: ${log}
match: 'Logon accepted at (?P<logon_time>\S+) NextSeq=(?P<next_seq>\d+)'
timeout: 15s
settle: on_pass";

#[tokio::test]
async fn a_log_followed_through_appends_a_rotation_and_a_partial_line_captures_the_values() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_with(dir.path(), LOGON, &["logon time", "next seq"]);
    let log = dir.path().join("bss.log");
    // Before the check starts: an old logon, which `from: now` must not take.
    append(
        &log,
        "08:01:00 Logon accepted at 08:01:00.000 NextSeq=7\n08:02:00 heartbeat\n",
    );
    let runner = runner(site(&[("log", log.to_str().unwrap())]));
    let handle = runner.spawn(job(&plan, "step", Utc::now()));
    // Let the follower reach the end of the file (it starts there), then write lines that do
    // not match, rotate the file, and leave the matching line half written.
    tokio::time::sleep(Duration::from_millis(300)).await;
    append(
        &log,
        "10:59:00 Logon rejected NextSeq=8\n10:59:30 session down\n",
    );
    std::fs::rename(&log, dir.path().join("bss.log.1")).unwrap();
    append(&log, "11:03:12 Logon accepted at 11:03:12.345 NextSeq=12");
    // For a while nothing passes: a partial line is never matched (it would capture `12`).
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(800) {
        assert!(
            !handle.is_finished(),
            "the check finished on a partial line: {:?}",
            handle.await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    append(&log, "34\n11:03:13 heartbeat\n");
    let r = tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .expect("the check ends once the line is complete")
        .unwrap();
    assert_eq!(r.outcome, CheckOutcome::Pass, "{r:?}");
    assert_eq!(value(&r, "logon_time"), Some("11:03:12.345"));
    assert_eq!(
        value(&r, "next_seq"),
        Some("1234"),
        "the whole line, not the partial one"
    );
    // Filed under the step's fields of the same names.
    let logon = r.values.iter().find(|v| v.name == "logon_time").unwrap();
    assert_eq!(logon.field.as_deref(), Some("logon time"));
    let seq = r.values.iter().find(|v| v.name == "next_seq").unwrap();
    assert_eq!(seq.field.as_deref(), Some("next seq"));
    assert!(r.detail.contains("11:03:12 Logon accepted"), "{}", r.detail);
}

#[tokio::test]
async fn a_log_truncated_in_place_is_read_again_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_with(dir.path(), LOGON, &[]);
    let log = dir.path().join("bss.log");
    append(
        &log,
        &"08:00:00 a line long enough to be past what comes after\n".repeat(50),
    );
    let runner = runner(site(&[("log", log.to_str().unwrap())]));
    let handle = runner.spawn(job(&plan, "step", Utc::now()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // copytruncate: the same file, cut to nothing, then written again from the start.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&log, "Logon accepted at 11:00:01 NextSeq=1\n");
    let r = tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.outcome, CheckOutcome::Pass, "{r:?}");
    assert_eq!(value(&r, "next_seq"), Some("1"));
}

#[tokio::test]
async fn a_log_run_again_continues_where_the_last_stopped_and_skips_huge_lines() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_with(
        dir.path(),
        "log: ${log}\nmatch: 'Logon accepted at (?P<logon_time>\\S+)'\ntimeout: 1s",
        &[],
    );
    let log = dir.path().join("bss.log");
    append(&log, "start\n");
    let runner = runner(site(&[("log", log.to_str().unwrap())]));
    // First run: a 200 KiB line that holds the words but is too long to keep, then nothing.
    let handle = runner.spawn(job(&plan, "step", Utc::now()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut huge = "x".repeat(200 * 1024);
    huge.push_str(" Logon accepted at never\n");
    append(&log, &huge);
    let r = handle.await.unwrap();
    assert_eq!(r.outcome, CheckOutcome::Timeout, "{r:?}");
    assert!(
        r.detail.contains("1 line(s) over 64 KiB skipped"),
        "{}",
        r.detail
    );
    // Between the runs the logon is written; the next run, starting where the last stopped,
    // finds it although it was written before the run began.
    append(&log, "Logon accepted at 11:05:00\n");
    let r = runner.run(job(&plan, "step", Utc::now())).await;
    assert_eq!(r.outcome, CheckOutcome::Pass, "{r:?}");
    assert_eq!(value(&r, "logon_time"), Some("11:05:00"));
}

#[tokio::test]
async fn from_the_phase_start_lines_before_it_are_not_taken() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_with(
        dir.path(),
        "log: ${log}\nmatch: '^(?P<at>\\S+ \\S+) Logon accepted NextSeq=(?P<next_seq>\\d+)'\nfrom: phase_start\nzone: UTC\ntimeout: 2s",
        &[],
    );
    let log = dir.path().join("bss.log");
    append(
        &log,
        "2023-11-25 01:59:00 Logon accepted NextSeq=5\n2023-11-25 02:00:30 heartbeat\n2023-11-25 03:03:12 Logon accepted NextSeq=6\n",
    );
    let since = DateTime::parse_from_rfc3339("2023-11-25T02:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let r = runner(site(&[("log", log.to_str().unwrap())]))
        .run(job(&plan, "step", since))
        .await;
    assert_eq!(r.outcome, CheckOutcome::Pass, "{r:?}");
    assert_eq!(
        value(&r, "next_seq"),
        Some("6"),
        "the line before the phase is skipped"
    );
    // With the phase starting later still, nothing qualifies, and the detail says why.
    let later = since + TimeDelta::hours(2);
    let fresh = Runner::new(site(&[("log", log.to_str().unwrap())]), Mode::default(), 1);
    let r = fresh.run(job(&plan, "step", later)).await;
    assert_eq!(r.outcome, CheckOutcome::Timeout, "{r:?}");
    assert!(
        r.detail.contains(
            "none taken: 2 matching line(s) from before the phase started at 2023-11-25 12:00:00 HKT"
        ),
        "{}",
        r.detail
    );
}

#[tokio::test]
async fn what_looks_like_a_credential_in_a_log_line_is_withheld_and_the_event_journals() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_with(
        dir.path(),
        "log: ${log}\nmatch: 'Logon accepted (?P<what>.*)'\nfrom: now\ntimeout: 5s",
        &[],
    );
    let log = dir.path().join("bss.log");
    append(&log, "");
    let runner = runner(site(&[("log", log.to_str().unwrap())]));
    let handle = runner.spawn(job(&plan, "step", Utc::now()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    append(&log, "Logon accepted password=Hunter2!\n");
    let r = handle.await.unwrap();
    assert_eq!(r.outcome, CheckOutcome::Pass, "{r:?}");
    assert!(!format!("{r:?}").contains("Hunter2"), "{r:?}");
    assert!(r.detail.contains("withheld"), "{}", r.detail);
    // The journal takes the event: nothing in it looks like a credential.
    let j = dir.path().join("j.jsonl");
    let meta = drillbook::journal::Meta::for_plan(&plan, Some("alice"));
    let (mut journal, _) = drillbook::journal::Journal::open(&j, meta).unwrap();
    journal
        .append(r.action(), &drillbook::clock::SystemClock)
        .expect("the check event is journaled");
    assert!(!std::fs::read_to_string(&j).unwrap().contains("Hunter2"));
}

#[tokio::test]
async fn a_pattern_can_come_from_the_site_file_and_is_checked_when_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_with(
        dir.path(),
        "log: ${log}\nmatch: ${pattern}\nfrom: phase_start\ntimeout: 2s",
        &["logon time"],
    );
    let log = dir.path().join("bss.log");
    append(&log, "2023-11-25 11:03:12 LOGON OK seq 9\n");
    let since = DateTime::parse_from_rfc3339("2023-11-25T02:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let run = |pattern: &str| {
        Runner::new(
            site(&[("log", log.to_str().unwrap()), ("pattern", pattern)]),
            Mode::default(),
            1,
        )
        .run(job(&plan, "step", since))
    };
    let r = run(r"^(?P<at>\S+ (?P<logon_time>\S+)) LOGON OK").await;
    assert_eq!(r.outcome, CheckOutcome::Pass, "{r:?}");
    let v = r.values.iter().find(|v| v.name == "logon_time").unwrap();
    assert_eq!(v.value, "11:03:12");
    assert_eq!(v.field.as_deref(), Some("logon time"), "filed by its name");
    let r = run("LOGON (OK").await;
    assert_eq!(r.outcome, CheckOutcome::Error, "{r:?}");
    assert!(
        r.detail.contains("not a valid regular expression"),
        "{}",
        r.detail
    );
    assert!(r.detail.contains("from the site file"), "{}", r.detail);
    let r = run("LOGON OK").await;
    assert_eq!(r.outcome, CheckOutcome::Error, "{r:?}");
    assert!(
        r.detail.contains("needs a named group `at`"),
        "{}",
        r.detail
    );
    // Unset: not configured, like any other site value.
    let r = Runner::new(site(&[("log", log.to_str().unwrap())]), Mode::default(), 1)
        .run(job(&plan, "step", since))
        .await;
    assert_eq!(r.outcome, CheckOutcome::NotConfigured);
    assert_eq!(r.detail, "not configured: set `pattern` in the site file");
}

#[tokio::test]
async fn a_log_that_is_not_a_regular_file_is_an_error_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_with(dir.path(), LOGON, &[]);
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path in our own temp folder.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let t0 = Instant::now();
    let r = runner(site(&[("log", fifo.to_str().unwrap())]))
        .run(job(&plan, "step", Utc::now()))
        .await;
    assert_eq!(r.outcome, CheckOutcome::Error, "{r:?}");
    assert!(r.detail.contains("FIFO"), "{}", r.detail);
    assert!(t0.elapsed() < Duration::from_secs(5));
}

// --- which file a check reads ----------------------------------------------------------------

/// A runbook over the fixture session, in `dir`, its steps as written (each indented by 4).
fn runbook_in(dir: &Path, site: &str, steps: &str) -> PathBuf {
    std::fs::copy(fixture("checks/session.yaml"), dir.join("session.yaml")).unwrap();
    let rb = dir.join("rb.yaml");
    std::fs::write(
        &rb,
        format!(
            "format: 1\nid: rb\nrole: ops\ntitle: Checks\nsession: session.yaml\nsite:\n{site}phases:\n  primary:\n{steps}"
        ),
    )
    .unwrap();
    rb
}

/// `path:LINE:COLUMN: ` of the value after `key: ` on the first line holding `needle`.
fn position_of(path: &Path, needle: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let (i, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(needle))
        .unwrap();
    let col = line.find(": ").unwrap() + 3;
    format!("{}:{}:{col}: ", path.display(), i + 1)
}

#[test]
fn a_runbook_cannot_steer_a_file_or_log_check_past_the_operators_path() {
    let dir = tempfile::tempdir().unwrap();
    let rb = runbook_in(
        dir.path(),
        "  logdir: the log folder\n  x: a suffix\n",
        r#"    - id: shadow
      title: Looks harmless
      check:
        every: 5s
        file: "${logdir}/../../../../etc/shadow"
        match: '(?P<line>root.*)'
    - id: environ
      title: Reads the environment
      check:
        log: "${logdir}/../../proc/self/environ"
        match: '(?P<cred>\w+=\S+)'
    - id: suffix
      title: A literal path with a site value after it
      check:
        log: "/etc/shadow${x}"
        match: 'root'
"#,
    );
    let out = drillbook(&["validate", rb.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for (needle, kind) in [
        ("/etc/shadow\"", "file"),
        ("/proc/self/environ", "log"),
        ("/etc/shadow${x}", "log"),
    ] {
        let want = format!(
            "{}`{}`: a {kind} check's path is one site value and nothing else (`{kind}: ${{name}}`)",
            position_of(&rb, needle),
            std::fs::read_to_string(&rb)
                .unwrap()
                .lines()
                .find(|l| l.contains(needle))
                .unwrap()
                .split_once(": ")
                .unwrap()
                .1
                .trim_matches('"')
        );
        assert!(err.contains(&want), "missing `{want}` in:\n{err}");
    }
    assert!(err.contains("3 problems found"), "{err}");
    // `check` and `run` load the same way: nothing is read, nothing is journaled.
    let site = dir.path().join("site.yaml");
    std::fs::write(&site, "site:\n  logdir: /var/log\n  x: \"\"\n").unwrap();
    let out = drillbook(&[
        "check",
        "--runbook",
        rb.to_str().unwrap(),
        "--site",
        site.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let j = dir.path().join("j.jsonl");
    let out = drillbook(&[
        "run",
        rb.to_str().unwrap(),
        "--site",
        site.to_str().unwrap(),
        "--rehearse",
        "--headless",
        "--journal",
        j.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!j.exists(), "a runbook that does not load opens no journal");
}

#[test]
fn a_site_path_that_climbs_with_dotdot_is_refused_when_it_resolves() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("logs")).unwrap();
    let secret = dir.path().join("shadow");
    std::fs::write(
        &secret,
        "root:$6$saltsalt$hashhashhash:19000:0:99999:7:::\n",
    )
    .unwrap();
    let rb = runbook_in(
        dir.path(),
        "  snapshot: a file\n  bss_log: a log\n",
        r"    - id: snap
      title: The snapshot
      check:
        file: ${snapshot}
        match: '(?P<line>root.*)'
    - id: logon
      title: The logon
      check:
        log: ${bss_log}
        match: '(?P<line>root.*)'
        timeout: 1s
",
    );
    let check = |value: &Path, steps: &[&str]| {
        let site = dir.path().join("site.yaml");
        std::fs::write(
            &site,
            format!(
                "site:\n  snapshot: {}\n  bss_log: {}\n",
                value.display(),
                value.display()
            ),
        )
        .unwrap();
        drillbook(
            &[
                "check",
                "--runbook",
                rb.to_str().unwrap(),
                "--site",
                site.to_str().unwrap(),
            ]
            .iter()
            .chain(steps)
            .copied()
            .collect::<Vec<_>>(),
        )
    };
    // Its own path: the file is there and readable, and the file check reads it.
    let out = check(&secret, &["snap"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("hashhashhash"), "{}", stdout(&out));
    // The same file through a real folder and `..`: refused before anything is opened.
    let climbing = dir.path().join("logs/../shadow");
    assert!(climbing.exists());
    let out = check(&climbing, &[]);
    let text = cli::unfold(&stdout(&out));
    assert_eq!(out.status.code(), Some(1), "{text}");
    for name in ["snapshot", "bss_log"] {
        assert!(
            text.contains(&format!("`${{{name}}}` is `")),
            "{name}:\n{text}"
        );
    }
    assert_eq!(
        text.matches("a path with a `..` component is refused")
            .count(),
        2,
        "{text}"
    );
    assert!(text.contains("2 checks: 2 ERROR."), "{text}");
    assert!(!text.contains("hashhashhash"), "{text}");
}

// --- file ------------------------------------------------------------------------------------

#[tokio::test]
async fn a_file_check_needs_the_file_newer_than_the_phase_and_matching() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_with(
        dir.path(),
        "file: ${file}\nnewer_than: phase_start\nmatch: 'rows=(?P<rows>\\d+)'",
        &["rows"],
    );
    let path = dir.path().join("snapshot.csv");
    let run = |since: DateTime<Utc>| {
        runner(site(&[("file", path.to_str().unwrap())])).run(job(&plan, "step", since))
    };
    let r = run(Utc::now() - TimeDelta::minutes(5)).await;
    assert_eq!(r.outcome, CheckOutcome::Fail);
    assert!(r.detail.starts_with("no file at"), "{}", r.detail);

    std::fs::write(&path, "header\nrows=1234\n").unwrap();
    let r = run(Utc::now() - TimeDelta::minutes(5)).await;
    assert_eq!(r.outcome, CheckOutcome::Pass, "{r:?}");
    assert_eq!(value(&r, "rows"), Some("1234"));
    assert_eq!(value(&r, "size"), Some("17"));
    assert_eq!(
        r.values
            .iter()
            .find(|v| v.name == "rows")
            .unwrap()
            .field
            .as_deref(),
        Some("rows")
    );
    // The phase has not started: nothing written yet can be its snapshot, and it says so
    // rather than fail.
    let r = run(Utc::now() + TimeDelta::minutes(5)).await;
    assert_eq!(r.outcome, CheckOutcome::NotInPhase, "{r:?}");
    assert!(
        r.detail.starts_with("phase not started (it starts at ") && r.detail.contains("not after"),
        "{}",
        r.detail
    );
    // Written before the phase started: last week's snapshot is not this one.
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        .unwrap();
    let r = run(Utc::now() - TimeDelta::minutes(5)).await;
    assert_eq!(r.outcome, CheckOutcome::Fail, "{r:?}");
    assert!(r.detail.contains("not after"), "{}", r.detail);

    std::fs::write(&path, "header\nno count here\n").unwrap();
    let r = run(Utc::now() - TimeDelta::minutes(5)).await;
    assert_eq!(r.outcome, CheckOutcome::Fail, "{r:?}");
    assert!(r.detail.contains("has no line matching"), "{}", r.detail);
}

// --- command ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_command_check_is_refused_without_allow_commands_and_in_a_rehearsal() {
    let plan = commands();
    let s = || site(&[("status_word", "READY")]);
    let since = Utc::now();
    // Without --allow-commands: refused, nothing run.
    let r = Runner::new(s(), Mode::default(), 1)
        .run(job(&plan, "status-allowed", since))
        .await;
    assert_eq!(r.outcome, CheckOutcome::Refused);
    assert!(r.detail.contains("--allow-commands"), "{}", r.detail);
    // In a rehearsal, even with --allow-commands: refused unless marked rehearsal_safe.
    let rehearsal = Mode {
        allow_commands: true,
        rehearsal: true,
        simulate: None,
    };
    let r = Runner::new(s(), rehearsal, 1)
        .run(job(&plan, "status-allowed", since))
        .await;
    assert_eq!(r.outcome, CheckOutcome::Refused);
    assert!(r.detail.contains("rehearsal_safe"), "{}", r.detail);
    let r = Runner::new(s(), rehearsal, 1)
        .run(job(&plan, "status-safe", since))
        .await;
    assert_eq!(r.outcome, CheckOutcome::Pass, "{r:?}");
    // Not allowed by the runbook: refused whatever the operator says.
    let allowed = Mode {
        allow_commands: true,
        ..Mode::default()
    };
    let r = Runner::new(s(), allowed, 1)
        .run(job(&plan, "status-not-allowed", since))
        .await;
    assert_eq!(r.outcome, CheckOutcome::Refused);
    assert!(r.detail.contains("`allow: true`"), "{}", r.detail);
    // Allowed by both: run without a shell, the site value filled in, the group captured.
    let r = Runner::new(s(), allowed, 1)
        .run(job(&plan, "status-allowed", since))
        .await;
    assert_eq!(r.outcome, CheckOutcome::Pass, "{r:?}");
    // Shown and journaled as written: the values go to the process only.
    assert_eq!(r.target, "/bin/echo session status=${status_word}");
    assert_eq!(value(&r, "session_status"), Some("READY"));
    assert_eq!(value(&r, "exit_status"), Some("0"));
}

#[tokio::test]
async fn a_command_runs_under_its_timeout_with_its_output_capped() {
    let dir = tempfile::tempdir().unwrap();
    let allowed = Mode {
        allow_commands: true,
        ..Mode::default()
    };
    let plan = plan_with(
        dir.path(),
        "command: [/bin/sleep, \"30\"]\nallow: true\ntimeout: 500ms",
        &[],
    );
    let t0 = Instant::now();
    let r = Runner::new(Site::empty(), allowed, 1)
        .run(job(&plan, "step", Utc::now()))
        .await;
    assert_eq!(r.outcome, CheckOutcome::Timeout, "{r:?}");
    assert!(r.detail.contains("killed"), "{}", r.detail);
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());

    let dir = tempfile::tempdir().unwrap();
    let plan = plan_with(
        dir.path(),
        "command: [/bin/sh, -c, \"head -c 1000000 /dev/zero | tr '\\\\0' x; echo; echo done\"]\nallow: true\nmatch: '^never$'",
        &[],
    );
    let r = Runner::new(Site::empty(), allowed, 1)
        .run(job(&plan, "step", Utc::now()))
        .await;
    assert_eq!(r.outcome, CheckOutcome::Fail, "{r:?}");
    assert!(r.detail.contains("output cut at 64 KiB"), "{}", r.detail);
}

/// `drillbook run RUNBOOK --site SITE --allow-commands --rehearse --headless` from 08:00 until the
/// journal holds `n` check events (a bounded poll), then SIGTERM; its stdout and stderr.
fn run_until_checks(rb: &Path, site: &Path, j: &Path, n: usize) -> String {
    let child = std::process::Command::new(cli::BIN)
        .arg("run")
        .arg(rb)
        .arg("--site")
        .arg(site)
        .args(["--allow-commands", "--rehearse", "--speed", "1"])
        .args(["--start-at", "08:00", "--headless", "--notify", "off"])
        .arg("--journal")
        .arg(j)
        .env("TZ", "Europe/London")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let checks = || {
        cli::lines(j)
            .into_iter()
            .filter(|e| e["kind"] == "check")
            .count()
    };
    cli::poll("the check events", || checks() >= n);
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    stdout(&out) + &stderr(&out)
}

#[test]
fn a_site_secret_given_to_a_command_is_named_never_journaled_or_shown() {
    let dir = tempfile::tempdir().unwrap();
    let rb = runbook_in(
        dir.path(),
        "  pw: the trading password\n",
        r#"    - id: pass
      title: Logs on with the password
      check:
        command: ["/bin/echo", "--user", "trader1", "--pass", "${pw}"]
        match: '(?P<out>.*)'
        allow: true
        rehearsal_safe: true
        every: 5s
    - id: password
      title: Says what it was given
      check:
        command: ["/bin/sh", "-c", "echo given $2 >&2; exit 3", "sh", "--password", "${pw}"]
        allow: true
        rehearsal_safe: true
        every: 5s
"#,
    );
    let site = dir.path().join("site.yaml");
    std::fs::write(&site, "site:\n  pw: \"Hunter2!\"\n").unwrap();
    let j = dir.path().join("pw.jsonl");
    let printed = run_until_checks(&rb, &site, &j, 2);
    let text = std::fs::read_to_string(&j).unwrap();
    assert!(!text.contains("Hunter2"), "journaled:\n{text}");
    assert!(!printed.contains("Hunter2"), "shown:\n{printed}");
    let checks: Vec<_> = cli::lines(&j)
        .into_iter()
        .filter(|e| e["kind"] == "check")
        .collect();
    let of = |step: &str| checks.iter().find(|e| e["step"] == step).unwrap().clone();
    // As the runbook wrote it, and what the program printed of the value names it.
    let pass = of("pass");
    assert_eq!(
        pass["target"], "/bin/echo --user trader1 --pass ${pw}",
        "{pass}"
    );
    assert_eq!(pass["outcome"], "pass", "{pass}");
    let out = pass["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "out")
        .unwrap();
    assert_eq!(out["value"], "--user trader1 --pass ${pw}", "{pass}");
    // `--password ${pw}` names where the value goes, not the value: shown as written (a target
    // holding a value that reads as a password is withheld: the test below).
    let password = of("password");
    assert_eq!(
        password["target"], "/bin/sh -c echo given $2 >&2; exit 3 sh --password ${pw}",
        "{password}"
    );
    assert_eq!(password["outcome"], "fail", "{password}");
    assert_eq!(
        password["detail"], "/bin/sh exited with status 3: given ${pw}",
        "{password}"
    );
    // `check` prints the same.
    let out = drillbook(&[
        "check",
        "--runbook",
        rb.to_str().unwrap(),
        "--site",
        site.to_str().unwrap(),
        "--allow-commands",
    ]);
    let shown = stdout(&out) + &stderr(&out);
    assert!(shown.contains("--pass ${pw}"), "{shown}");
    assert!(!shown.contains("Hunter2"), "{shown}");
    // And so do the reports made from the journal.
    let out = drillbook(&["report", j.to_str().unwrap(), rb.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("${pw}"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("Hunter2"), "{}", stdout(&out));
}

#[test]
fn a_check_result_that_looks_secret_is_journaled_withheld_never_refused() {
    let dir = tempfile::tempdir().unwrap();
    let plan = sensing();
    let j = dir.path().join("j.jsonl");
    let meta = drillbook::journal::Meta::for_plan(&plan, Some("alice"));
    let (mut journal, _) = drillbook::journal::Journal::open(&j, meta).unwrap();
    let mut r = logon_result(CheckOutcome::Pass);
    r.target = "/usr/bin/tool --password s3cr3t!".into();
    r.detail = "matched: password=s3cr3t!".into();
    r.values[0].value = "token: s3cr3t!".into();
    journal
        .append(r.action(), &drillbook::clock::SystemClock)
        .expect("recorded, not refused");
    let text = std::fs::read_to_string(&j).unwrap();
    assert!(!text.contains("s3cr3t"), "{text}");
    let ev = cli::lines(&j).pop().unwrap();
    assert_eq!(
        ev["target"],
        "/usr/bin/tool (its arguments withheld: they look like they hold a credential)"
    );
    let withheld = "(withheld: it looks like it holds a credential)";
    assert_eq!(ev["detail"], withheld);
    assert_eq!(ev["values"][0]["value"], withheld);
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

fn pid_in(path: &Path) -> i32 {
    cli::poll("the pid file", || {
        std::fs::read_to_string(path).is_ok_and(|t| t.ends_with('\n'))
    });
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn what_a_command_check_starts_is_killed_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let rb = runbook_in(
        dir.path(),
        "  unused: nothing\n",
        &format!(
            r#"    - id: lingers
      title: Leaves a child behind and runs on
      check:
        command: ["/bin/sh", "-c", "sleep 100 & echo $! > {d}/bg1.pid; exec sleep 100"]
        allow: true
        rehearsal_safe: true
        timeout: 1s
    - id: exits
      title: Exits at once and leaves a child holding its output
      check:
        command: ["/bin/sh", "-c", "(sleep 30; touch {d}/LATE) & echo $! > {d}/bg2.pid; echo started; exit 0"]
        allow: true
        rehearsal_safe: true
        match: '(?P<said>started)'
        timeout: 5s
"#
        ),
    );
    let t0 = Instant::now();
    let out = drillbook(&[
        "check",
        "--runbook",
        rb.to_str().unwrap(),
        "--allow-commands",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("TIMEOUT         lingers"), "{text}");
    // The program answered: it passes at once, rather than waiting on its child's pipe.
    assert!(text.contains("pass            exits"), "{text}");
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    for f in ["bg1.pid", "bg2.pid"] {
        let pid = pid_in(&dir.path().join(f));
        cli::poll(&format!("{f}'s process to end"), || ended(pid));
    }
    assert!(!dir.path().join("LATE").exists());

    // The app quitting while a check runs kills its group too.
    let rb = runbook_in(
        dir.path(),
        "  unused: nothing\n",
        &format!(
            r#"    - id: lingers
      title: Leaves a child behind and runs on
      check:
        command: ["/bin/sh", "-c", "sleep 100 & echo $! > {d}/bg3.pid; exec sleep 100"]
        allow: true
        rehearsal_safe: true
        timeout: 10m
        every: 5s
"#
        ),
    );
    let child = std::process::Command::new(cli::BIN)
        .arg("run")
        .arg(&rb)
        .args(["--allow-commands", "--rehearse", "--speed", "1"])
        .args(["--start-at", "08:00", "--headless", "--notify", "off"])
        .arg("--journal")
        .arg(dir.path().join("j.jsonl"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = pid_in(&dir.path().join("bg3.pid"));
    assert!(!ended(pid));
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    cli::poll("the background child to end with the app", || ended(pid));
}

/// The processes still running (not zombies) whose command line holds `token`.
fn running_with(token: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmdline).contains(token) && !ended(pid) {
            found.push(pid);
        }
    }
    found
}

/// Kills, when dropped, every process still running with the token in its command line: a
/// failing test leaves nothing behind on the host.
struct Sweep(String);

impl Drop for Sweep {
    fn drop(&mut self) {
        for pid in running_with(&self.0) {
            // SAFETY: a signal to a process this test started (its command line holds the
            // test's own token).
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// A command that leaves processes holding `token` behind, each escaping another way:
/// in a session of its own (`setsid`, so out of the process group too), double-forked (its
/// parent gone at once), and one in the background that starts its own session and forks
/// again; then sleeps `then`, or (with `then` None) execs a long sleep itself.
fn escaping(token: &str, then: Option<&str>) -> String {
    let last = then.map_or_else(
        || format!("exec sleep {token}4"),
        |t| format!("sleep {t}; exit 0"),
    );
    format!(
        r#"["/bin/sh", "-c", "setsid sleep {token}1 & (sleep {token}2 &) ; (setsid sh -c 'sleep {token}3 & sleep 1000' &) ; {last}"]"#
    )
}

#[test]
fn nothing_a_command_check_starts_outlives_it_whatever_its_session() {
    let dir = tempfile::tempdir().unwrap();
    // Unique to this test run: `sleep 1000.<pid>1` and so on.
    let token = format!("1000.{}", std::process::id());
    // Should an assertion fail, what the test started does not stay behind on the host.
    let _sweep = Sweep(token.clone());
    let none_left = |when: &str| {
        cli::poll(&format!("nothing left running {when}"), || {
            running_with(&token).is_empty()
        });
    };
    // The program answers (after its escapees have had time to leave) and exits 0.
    let rb = runbook_in(
        dir.path(),
        "  unused: nothing\n",
        &format!(
            r"    - id: answers
      title: Exits 0 and leaves processes in sessions of their own
      check:
        command: {}
        allow: true
        rehearsal_safe: true
        timeout: 10s
    - id: lingers
      title: Runs past its timeout, its escapees with it
      check:
        command: {}
        allow: true
        rehearsal_safe: true
        timeout: 1s
",
            escaping(&token, Some("0.5")),
            escaping(&token, None)
        ),
    );
    let t0 = Instant::now();
    let out = drillbook(&[
        "check",
        "--runbook",
        rb.to_str().unwrap(),
        "--allow-commands",
    ]);
    let text = stdout(&out);
    // It passes once it has exited: what it left holding its output is ended, not waited for.
    assert!(text.contains("pass            answers"), "{text}");
    assert!(text.contains("TIMEOUT         lingers"), "{text}");
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    none_left("after `check`");

    // A run stopped by SIGTERM, and one killed by SIGKILL, while the check runs: its escapees
    // are seen running first, then ended with it.
    let rb = runbook_in(
        dir.path(),
        "  unused: nothing\n",
        &format!(
            r"    - id: lingers
      title: Runs long, its escapees with it
      check:
        command: {}
        allow: true
        rehearsal_safe: true
        timeout: 10m
        every: 5s
",
            escaping(&token, None)
        ),
    );
    for signal in [libc::SIGTERM, libc::SIGKILL] {
        let child = std::process::Command::new(cli::BIN)
            .arg("run")
            .arg(&rb)
            .args(["--allow-commands", "--rehearse", "--speed", "1"])
            .args(["--start-at", "08:00", "--headless", "--notify", "off"])
            .arg("--journal")
            .arg(dir.path().join(format!("j{signal}.jsonl")))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // sleep …1, …2, …3 and …4, and the `sh -c 'sleep …3 & sleep 1000'` that started …3.
        let seen = std::panic::catch_unwind(|| {
            cli::poll("the check's five processes to run", || {
                running_with(&token).len() == 5
            });
        });
        // SAFETY: a signal to our own child.
        unsafe { libc::kill(child.id() as i32, signal) };
        assert!(seen.is_ok(), "{:?}", running_with(&token));
        let out = child.wait_with_output().unwrap();
        if signal == libc::SIGTERM {
            assert!(out.status.success(), "{:?}", out.status);
        }
        none_left(&format!("after signal {signal} to the run"));
    }
}

#[test]
fn a_nul_byte_in_a_command_is_refused_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let rb = runbook_in(
        dir.path(),
        "  unused: nothing\n",
        r#"    - id: nul
      title: A path with a NUL byte
      check:
        command: ["/bin/true\0x", "ok"]
        allow: true
"#,
    );
    let out = drillbook(&["validate", rb.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let text = std::fs::read_to_string(&rb).unwrap();
    let (i, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("/bin/true"))
        .unwrap();
    let col = line.find('"').unwrap() + 1;
    let want = format!(
        "{}:{}:{col}: `command[0]` holds a NUL byte (\\0), which no program path or argument can hold",
        rb.display(),
        i + 1
    );
    assert!(err.contains(&want), "missing `{want}` in:\n{err}");
}

// --- a file others could have written ---------------------------------------------------------

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_log_or_file_others_could_write_is_said_so_and_settles_no_step() {
    // Break 3 F9: a line another user planted in a log they could write passed the step (and
    // settled it) like the gateway's own, and nothing said so.
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let open = logs.join("open.log");
    let own = logs.join("own.log");
    std::fs::write(&open, "").unwrap();
    std::fs::write(&own, "").unwrap();
    chmod(&open, 0o666);
    chmod(&own, 0o600);
    let step = |id: &str, value: &str| {
        format!(
            "    - id: {id}\n      title: Logon in {id}\n      check:\n        log: ${{{value}}}\n        match: '^(?P<at>\\S+ \\S+) Logon accepted'\n        from: phase_start\n        timeout: 10s\n        every: 5s\n        settle: on_pass\n"
        )
    };
    let rb = runbook_in(
        dir.path(),
        "  open_log: a log others can write\n  own_log: a log only its owner can write\n",
        &(step("open", "open_log") + &step("own", "own_log")),
    );
    let site = dir.path().join("site.yaml");
    std::fs::write(
        &site,
        format!(
            "site:\n  open_log: {}\n  own_log: {}\n",
            open.display(),
            own.display()
        ),
    )
    .unwrap();
    let j = dir.path().join("j.jsonl");
    let child = std::process::Command::new(cli::BIN)
        .arg("run")
        .arg(&rb)
        .arg("--site")
        .arg(&site)
        .args(["--rehearse", "--speed", "1", "--start-at", "08:00"])
        .args(["--headless", "--notify", "off", "--journal"])
        .arg(&j)
        .env("TZ", "Europe/London")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    cli::poll("the phase entered", || {
        cli::lines(&j).iter().any(|e| e["kind"] == "phase_entered")
    });
    // The same logon line, now on the rehearsal's day, in each.
    let line = format!(
        "{} Logon accepted endpoint=192.0.2.110:20001\n",
        Utc::now()
            .with_timezone(&chrono_tz::Asia::Hong_Kong)
            .format("%Y-%m-%d %H:%M:%S%.3f")
    );
    append(&open, &line);
    append(&own, &line);
    cli::poll("both checks passed", || {
        cli::lines(&j)
            .iter()
            .filter(|e| e["kind"] == "check" && e["outcome"] == "pass")
            .count()
            == 2
    });
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let events = cli::lines(&j);
    let check = |id: &str| {
        events
            .iter()
            .find(|e| e["kind"] == "check" && e["step"] == id)
            .unwrap()
            .clone()
    };
    let detail = check("open")["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.starts_with(&format!(
            "warning: others can write {} (mode 0666), so a line there may be planted: this pass does not settle the step by itself; matched in ",
            open.display()
        )),
        "{detail}"
    );
    assert!(
        !check("own")["detail"].as_str().unwrap().contains("warning"),
        "{}",
        check("own")
    );
    let done: Vec<&str> = events
        .iter()
        .filter(|e| e["kind"] == "step" && e["state"] == "done")
        .map(|e| e["step"].as_str().unwrap())
        .collect();
    assert_eq!(done, ["own"], "only the log its owner alone writes settles");

    // A file check on a file in a folder others can write into (no sticky bit), through
    // `drillbook check`: said, whatever the file's own mode.
    let snap = logs.join("snapshot.csv");
    std::fs::write(&snap, "rows=12\n").unwrap();
    chmod(&snap, 0o644);
    chmod(&logs, 0o777);
    let rb = runbook_in(
        dir.path(),
        "  snap: the snapshot\n",
        "    - id: snap\n      title: The snapshot\n      check:\n        file: ${snap}\n        match: 'rows=(?P<rows>\\d+)'\n",
    );
    std::fs::write(&site, format!("site:\n  snap: {}\n", snap.display())).unwrap();
    let run_check = || {
        let out = drillbook(&[
            "check",
            "--runbook",
            rb.to_str().unwrap(),
            "--site",
            site.to_str().unwrap(),
        ]);
        stdout(&out)
            .lines()
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let text = run_check();
    assert!(text.starts_with("OUTCOME"), "{text}");
    assert!(
        text.contains(&format!(
            "warning: {} is a folder others can write into (mode 0777, no sticky bit): anyone could have put another file in place of {}",
            logs.display(),
            snap.display()
        )),
        "{text}"
    );
    chmod(&logs, 0o700);
    assert!(!run_check().contains("warning"), "{}", run_check());
    // In a folder anyone may create files in (sticky, as /tmp), a file of another user: anyone
    // could have made it. Giving a file away takes root; as another user this part is not run.
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        chmod(&logs, 0o1777);
        std::os::unix::fs::chown(&snap, Some(65534), Some(65534)).unwrap();
        let text = run_check();
        assert!(
            text.contains(&format!(
                "warning: {} is in {}, a folder anyone can create files in, and belongs to another user (uid 65534): anyone could have made it",
                snap.display(),
                logs.display()
            )),
            "{text}"
        );
        chmod(&logs, 0o700);
    }
}

// --- what a result leaves in the journal -----------------------------------------------------

fn event(seq: u64, action: Action) -> Event {
    let t = Utc::now();
    Event {
        v: 1,
        seq,
        utc: t,
        local: String::new(),
        operator: "o".into(),
        host: "h".into(),
        session: "fixture-hk".into(),
        runbooks: vec!["sensing".into()],
        sha256: String::new(),
        rehearsal: None,
        action,
    }
}

fn logon_result(outcome: CheckOutcome) -> CheckResult {
    let plan = sensing();
    let check = plan.steps[plan.step_index("primary-logon").unwrap()]
        .check
        .clone()
        .unwrap();
    let field = |name: &str| check.field_for(name).map(str::to_owned);
    CheckResult {
        step: "primary-logon".into(),
        kind: check.kind(),
        target: "/var/log/bss.log".into(),
        outcome,
        detail: "matched".into(),
        values: if outcome == CheckOutcome::Pass {
            vec![drillbook::journal::Captured {
                name: "at".into(),
                value: "2023-11-25 08:03:12".into(),
                field: field("at"),
            }]
        } else {
            vec![]
        },
        started: Utc::now(),
        duration: Duration::from_millis(12),
        simulated: false,
        line: None,
        exposed: false,
    }
}

#[test]
fn a_pass_with_settle_marks_the_step_done_by_the_check_and_files_sensed_evidence() {
    let plan = sensing();
    let record = Record::default();
    let actions = check::actions_for(&plan, &record, &logon_result(CheckOutcome::Pass));
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert!(matches!(
        &actions[0],
        Action::Check {
            outcome: CheckOutcome::Pass,
            ..
        }
    ));
    match &actions[1] {
        Action::Step { step, state, note } => {
            assert_eq!(step, "primary-logon");
            assert_eq!(*state, StepState::Done);
            assert!(
                note.as_deref()
                    .unwrap()
                    .starts_with("done by its log check"),
                "{note:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let events: Vec<Event> = actions
        .into_iter()
        .enumerate()
        .map(|(i, a)| event(i as u64 + 1, a))
        .collect();
    let record = Record::from_events(&events);
    let ev = record.evidence_of("primary-logon", "logon time").unwrap();
    assert_eq!(ev.value, "2023-11-25 08:03:12");
    assert_eq!(ev.sensed.as_deref(), Some("log"));
    assert_eq!(
        record.state_of("primary-logon").unwrap().state,
        StepState::Done
    );
    assert_eq!(
        record.last_check("primary-logon").unwrap().outcome,
        CheckOutcome::Pass
    );
    // Already done: a second pass journals the check and nothing else.
    let again = check::actions_for(&plan, &record, &logon_result(CheckOutcome::Pass));
    assert_eq!(again.len(), 1);
}

#[test]
fn a_failed_or_timed_out_check_never_marks_a_step_failed() {
    let plan = sensing();
    for outcome in [
        CheckOutcome::Fail,
        CheckOutcome::Timeout,
        CheckOutcome::Error,
        CheckOutcome::NotConfigured,
    ] {
        let actions = check::actions_for(&plan, &Record::default(), &logon_result(outcome));
        assert_eq!(actions.len(), 1, "{outcome:?}: {actions:?}");
        let record = Record::from_events(&[event(1, actions[0].clone())]);
        assert!(record.state_of("primary-logon").is_none(), "{outcome:?}");
        assert!(record.evidence_of("primary-logon", "logon time").is_none());
    }
}

#[tokio::test]
async fn simulated_checks_probe_nothing_and_say_so() {
    let plan = sensing();
    for (sim, want) in [
        (Simulate::Pass, CheckOutcome::Pass),
        (Simulate::Fail, CheckOutcome::Fail),
        (Simulate::Timeout, CheckOutcome::Timeout),
    ] {
        let mode = Mode {
            allow_commands: false,
            rehearsal: true,
            simulate: Some(sim),
        };
        // Port 1 is closed: a real probe would fail.
        let r = Runner::new(
            site(&[("primary_host", "127.0.0.1"), ("primary_port", "1")]),
            mode,
            1,
        )
        .run(job(&plan, "primary-gateway", Utc::now()))
        .await;
        assert_eq!(r.outcome, want);
        assert!(r.simulated);
        assert_eq!(r.duration, Duration::ZERO);
        assert!(r.detail.contains("nothing was probed"), "{}", r.detail);
        match r.action() {
            Action::Check { simulated, .. } => assert!(simulated),
            other => panic!("{other:?}"),
        }
    }
}

// --- automatic checks ------------------------------------------------------------------------

#[test]
fn automatic_checks_are_due_in_their_phase_every_so_often_until_they_pass() {
    let plan = sensing();
    let timeline = drillbook::timeline::Timeline::new(&plan.session);
    let at = |h: u32, m: u32| {
        drillbook::journal::session_instant(
            plan.session.tz,
            &format!("2023-11-25 {h:02}:{m:02}:00"),
        )
        .unwrap()
    };
    let gw = plan.step_index("primary-gateway").unwrap();
    let mut sched = Schedule::new();
    let wall = Utc::now();
    let record = Record::default();
    assert!(
        sched
            .due(&plan, &timeline, &record, at(7, 59), wall)
            .is_empty(),
        "before its phase"
    );
    assert_eq!(
        sched.due(&plan, &timeline, &record, at(8, 0), wall),
        vec![gw]
    );
    sched.started("primary-gateway", wall);
    assert!(
        sched
            .due(&plan, &timeline, &record, at(8, 1), wall)
            .is_empty(),
        "running"
    );
    sched.finished("primary-gateway");
    let fail = Action::Check {
        step: "primary-gateway".into(),
        check: "tcp".into(),
        target: "x".into(),
        outcome: CheckOutcome::Fail,
        detail: String::new(),
        values: vec![],
        started: wall,
        duration_ms: 1,
        simulated: false,
        line: None,
    };
    let record = Record::from_events(&[event(1, fail.clone())]);
    let later = |s: i64| wall + TimeDelta::seconds(s);
    assert!(
        sched
            .due(&plan, &timeline, &record, at(8, 1), later(29))
            .is_empty(),
        "every 30s"
    );
    assert_eq!(
        sched.due(&plan, &timeline, &record, at(8, 1), later(30)),
        vec![gw]
    );
    assert!(
        sched
            .due(&plan, &timeline, &record, at(10, 1), later(60))
            .is_empty(),
        "the window ended with the phase"
    );
    let Action::Check { .. } = &fail else {
        unreachable!()
    };
    let mut pass = fail;
    if let Action::Check { outcome, .. } = &mut pass {
        *outcome = CheckOutcome::Pass;
    }
    let record = Record::from_events(&[event(1, pass)]);
    assert!(
        sched
            .due(&plan, &timeline, &record, at(8, 5), later(300))
            .is_empty(),
        "passed"
    );
}

// --- `drillbook check` -----------------------------------------------------------------------

/// A site file for the sensing fixture: both gateways at these ports, the log and snapshot in
/// `dir`. The logon line is of the primary window on the session's day (Hong Kong time): a log
/// check reading from its phase's start takes only a line of its phase.
fn site_file(dir: &Path, primary: u16, backup: u16) -> PathBuf {
    let log = dir.join("bss.log");
    std::fs::write(
        &log,
        "2023-11-25 08:04:59 heartbeat\n2023-11-25 08:05:00 Logon accepted by the gateway NextSeq=42\n",
    )
    .unwrap();
    std::fs::write(dir.join("snap.csv"), "rows=1234\n").unwrap();
    let path = dir.join("site.yaml");
    std::fs::write(
        &path,
        format!(
            "site:\n  primary_host: 127.0.0.1\n  primary_port: {primary}\n  backup_host: 127.0.0.1\n  backup_port: {backup}\n  bss_log: {}\n  snapshot: {}\n",
            log.display(),
            dir.join("snap.csv").display()
        ),
    )
    .unwrap();
    path
}

#[test]
fn drillbook_check_prints_the_table_and_exits_0_then_1_when_a_listener_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let primary = TcpListener::bind("127.0.0.1:0").unwrap();
    let backup = TcpListener::bind("127.0.0.1:0").unwrap();
    let (pp, bp) = (
        primary.local_addr().unwrap().port(),
        backup.local_addr().unwrap().port(),
    );
    let site = site_file(dir.path(), pp, bp);
    let rb = fixture("checks/sensing.yaml");
    let args = [
        "check",
        "--runbook",
        rb.to_str().unwrap(),
        "--site",
        site.to_str().unwrap(),
    ];
    let out = drillbook(&args);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    for want in [
        format!("pass            primary-gateway tcp 127.0.0.1:{pp}"),
        "pass            primary-logon log".to_owned(),
        format!("pass            backup-gateway tcp 127.0.0.1:{bp}"),
        "pass            snapshot-written file".to_owned(),
        "not configured  not-configured tcp ${never_set}:443".to_owned(),
        "not configured: set `never_set` in the site file".to_owned(),
        "next_seq=42".to_owned(),
        "5 checks: 4 pass, 1 not configured. Not configured is not a failure".to_owned(),
    ] {
        assert!(text.contains(&want), "missing `{want}` in:\n{text}");
    }
    assert!(
        text.lines().all(|l| l.chars().count() <= 80),
        "80 columns:\n{text}"
    );
    // Nothing was written beside the runbooks or the site file.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");

    drop(backup);
    let out = drillbook(&args);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "FAIL            backup-gateway tcp 127.0.0.1:{bp}"
        )),
        "{text}"
    );
    assert!(text.contains("refused the connection"), "{text}");
    assert!(text.contains("1 FAIL"), "{text}");

    // A phase and step ids narrow it; an unknown one is a usage error.
    let out = drillbook(&[&args[..], &["--phase", "primary", "primary-gateway"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("1 check: 1 pass."),
        "{}",
        stdout(&out)
    );
    let out = drillbook(&[&args[..], &["--phase", "lunch"]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`lunch` is not a phase"),
        "{}",
        stderr(&out)
    );
    let out = drillbook(&[&args[..], &["no-such-step"]].concat());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn drillbook_check_refuses_command_checks_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site.yaml");
    std::fs::write(&site, "site:\n  status_word: READY\n").unwrap();
    let rb = fixture("checks/commands.yaml");
    let base = [
        "check",
        "--runbook",
        rb.to_str().unwrap(),
        "--site",
        site.to_str().unwrap(),
    ];
    let out = drillbook(&base);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "refused is not a failure: {text}"
    );
    assert_eq!(text.matches("\nrefused ").count(), 3, "{text}");
    let out = drillbook(&[&base[..], &["--allow-commands"]].concat());
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "pass            status-allowed command /bin/echo session status=${status_word}"
        ),
        "{text}"
    );
    assert!(text.contains("session_status=READY"), "{text}");
    assert_eq!(
        text.matches("\nrefused ").count(),
        1,
        "the one the runbook does not allow:\n{text}"
    );
}

#[test]
fn check_problems_in_a_runbook_are_each_reported_at_their_position() {
    let path = fixture("invalid/checks.yaml");
    let out = drillbook(&["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let p = path.display();
    let want = [
        "9:3: `Bad_Name` is not a site value name",
        "10:12: say what `bss_log` is",
        "15:7: a check names what it looks at with one of tcp, log, multicast, file or command",
        "21:9: a check has one kind; this one names tcp and log",
        "25:14: `${gw_hots}` is not declared under `site:` in this runbook; did you mean `${gw_host}`?",
        "29:14: `10.0.0.1` is not HOST:PORT",
        "34:16: `match` is not a valid regular expression: unclosed group",
        "40:15: `from: phase_start` needs a named group `at` in `match`",
        "45:9: `window` applies to multicast checks, not to a tcp check",
        "50:16: `30` is not a duration",
        "55:16: `every: 1s` is out of range (5s to 1h)",
        "59:20: `10.1.1.1:5000` is not GROUP:PORT",
        "63:19: `status-tool`: name the program by its absolute path",
        "73:11: this check captures no value `logon_tme` (it captures: logon_time)",
        "82:23: `logoff time` is not an evidence field of this step (its fields: logon time)",
        "87:17: `settle: on_fail`: the one setting is `on_pass`",
        "91:15: `/etc/passwd`: a file check's path is one site value and nothing else (`file: ${name}`)",
    ];
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), want.len() + 1, "{err}");
    for (got, want) in lines.iter().zip(want) {
        assert!(
            got.starts_with(&format!("{p}:{want}")),
            "want `{p}:{want}`, got `{got}`"
        );
    }
    assert_eq!(lines.last(), Some(&"17 problems found"));

    let typo = fixture("invalid/check-typo.yaml");
    let out = drillbook(&["validate", typo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "{}:12:9: phases.primary[0].check: unknown field `timout`",
            typo.display()
        )),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("did you mean `timeout`?"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("RawCheck"), "{}", stderr(&out));
}

#[test]
fn report_and_handover_show_sensed_evidence_apart_from_typed() {
    let dir = tempfile::tempdir().unwrap();
    let plan = sensing();
    let j = dir.path().join("j.jsonl");
    let meta = drillbook::journal::Meta::for_plan(&plan, Some("alice"));
    let (mut journal, _) = drillbook::journal::Journal::open(&j, meta).unwrap();
    let clock = drillbook::clock::SystemClock;
    // The check passes and settles the step; the operator types the other field by hand.
    for a in check::actions_for(&plan, &Record::default(), &logon_result(CheckOutcome::Pass)) {
        journal.append(a, &clock).unwrap();
    }
    journal
        .append(
            Action::Evidence {
                step: "primary-logon".into(),
                field: "next sequence number".into(),
                value: "43".into(),
            },
            &clock,
        )
        .unwrap();
    drop(journal);
    let rb = fixture("checks/sensing.yaml");
    let out = drillbook(&["report", j.to_str().unwrap(), rb.to_str().unwrap()]);
    let md = cli::unfold(&stdout(&out));
    assert_eq!(out.status.code(), Some(0), "{md}{}", stderr(&out));
    assert!(md.contains("done by alice@"), "{md}");
    assert!(md.contains("done by its log check"), "{md}");
    assert!(
        md.contains("  - evidence: next sequence number = 43 (alice@"),
        "typed, as before:\n{md}"
    );
    assert!(
        md.contains("  - sensed: logon time = 2023-11-25 08:03:12 (sensed by its log check at"),
        "sensed, apart:\n{md}"
    );
    assert!(
        md.contains("  - check (log /var/log/bss.log): pass at"),
        "{md}"
    );
    // Among the recorded times (a list: too wide for 80 columns as a table).
    assert!(
        md.contains("- `primary-logon`\n  - Field: logon time\n  - Value: 2023-11-25 08:03:12\n  - Phase: primary\n"),
        "{md}"
    );
    assert!(md.contains("(sensed by its log check)\n"), "{md}");

    let out = drillbook(&[
        "report",
        j.to_str().unwrap(),
        rb.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    let csv = stdout(&out);
    assert!(
        csv.lines()
            .any(|l| l.contains(",sensed,") && l.contains("logon time")),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.contains(",evidence,") && l.contains("next sequence number")),
        "{csv}"
    );
    let out = drillbook(&[
        "report",
        j.to_str().unwrap(),
        rb.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let step = json["phases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["steps"].as_array().unwrap())
        .find(|s| s["id"] == "primary-logon")
        .unwrap();
    assert_eq!(step["sensed"][0]["sensed"], "log");
    assert_eq!(step["evidence"][0]["field"], "next sequence number");
    assert_eq!(step["check"]["outcome"], "pass");

    let out = drillbook(&["handover", j.to_str().unwrap(), rb.to_str().unwrap()]);
    let md = cli::unfold(&stdout(&out));
    assert_eq!(out.status.code(), Some(0), "{md}{}", stderr(&out));
    assert!(md.contains("## Checks: what drillbook sensed"), "{md}");
    assert!(
        md.contains("- `primary-logon` log check (/var/log/bss.log): pass at"),
        "{md}"
    );
    assert!(
        md.contains("  - sensed: logon time = 2023-11-25 08:03:12 (its log check,"),
        "{md}"
    );
    assert!(
        !md.contains("sensed: next sequence number"),
        "typed is not sensed:\n{md}"
    );

    let out = drillbook(&["log", j.to_str().unwrap(), "--wide"]);
    assert!(
        stdout(&out).contains("primary-logon log /var/log/bss.log pass"),
        "{}",
        stdout(&out)
    );
}

// --- the bundled runbooks and their site file ------------------------------------------------

#[test]
fn the_bundled_checks_take_every_address_from_the_site_file() {
    let plan = drillbook::runbook::load_bundled(&drillbook::runbook::bundled_roles()).unwrap();
    let with: Vec<_> = plan.steps.iter().filter(|s| s.check.is_some()).collect();
    assert!(with.len() >= 20, "{} steps with a check", with.len());
    for kind in ["tcp", "log", "multicast", "file"] {
        assert!(
            with.iter()
                .any(|s| s.check.as_ref().unwrap().kind().word() == kind),
            "no bundled {kind} check"
        );
    }
    for s in &with {
        let c = s.check.as_ref().unwrap();
        // What it looks at is the firm's: no HKEX address, port, group or path is written in.
        for t in c.templates() {
            assert!(!t.is_literal(), "{}: `{}` is written in", s.id, t.text);
        }
        assert!(
            !matches!(c.probe, drillbook::check::spec::Probe::Command { .. }),
            "{}: the bundled runbooks run no program",
            s.id
        );
    }
    // Without a site file every one of them is shown as not configured, and nothing fails.
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(cli::BIN)
        .arg("check")
        .env("XDG_CONFIG_HOME", dir.path())
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains(&format!("{n} checks: {n} not configured.", n = with.len())),
        "{text}"
    );
}

#[test]
fn runbooks_export_writes_a_site_example_naming_every_value_with_a_comment() {
    let dir = tempfile::tempdir().unwrap();
    let out = drillbook(&["runbooks", "export", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let folder = dir.path().join("hkex-ps2-2023-11-25");
    let example = folder.join("site.example.yaml");
    assert!(stdout(&out).contains(&format!("wrote {}", example.display())));
    let text = std::fs::read_to_string(&example).unwrap();
    let plan = drillbook::runbook::load_bundled(&drillbook::runbook::bundled_roles()).unwrap();
    let used: std::collections::BTreeSet<String> = plan
        .steps
        .iter()
        .filter_map(|s| s.check.as_ref())
        .flat_map(drillbook::check::spec::Check::site_names)
        .collect();
    let lines: Vec<&str> = text.lines().collect();
    for name in &used {
        let i = lines
            .iter()
            .position(|l| *l == format!("  {name}:"))
            .unwrap_or_else(|| panic!("`{name}` not listed, empty, in:\n{text}"));
        assert!(
            lines[i - 1].starts_with("  # used by: ") && lines[i - 2].starts_with("  # "),
            "`{name}` has no comment:\n{text}"
        );
    }
    // It reads as a site file with nothing set, and validate takes the folder as it is.
    let values = drillbook::site::parse("site.example.yaml", &text).unwrap();
    assert_eq!(values.len(), used.len(), "{values:?}");
    assert!(values.values().all(String::is_empty), "{values:?}");
    let out = drillbook(&["validate", folder.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Exported again: nothing is overwritten.
    let out = drillbook(&["runbooks", "export", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
}

#[test]
fn the_screen_line_gives_the_newest_outcome_and_its_age() {
    let wall = Utc::now();
    let record = Record::default();
    assert_eq!(
        check::summary_line(&record, "primary-gateway", wall),
        "check: not run yet"
    );
    let run = |outcome, ago: i64, simulated| Action::Check {
        step: "primary-gateway".into(),
        check: "tcp".into(),
        target: "x".into(),
        outcome,
        detail: String::new(),
        values: vec![],
        started: wall - TimeDelta::seconds(ago),
        duration_ms: 1,
        simulated,
        line: None,
    };
    let record = Record::from_events(&[
        event(1, run(CheckOutcome::Fail, 200, false)),
        event(2, run(CheckOutcome::Pass, 130, false)),
    ]);
    assert_eq!(
        check::summary_line(&record, "primary-gateway", wall),
        "check: pass 2m ago"
    );
    let record = Record::from_events(&[event(1, run(CheckOutcome::Timeout, 12, true))]);
    assert_eq!(
        check::summary_line(&record, "primary-gateway", wall),
        "check: TIMEOUT 12s ago (simulated)"
    );
}

#[test]
fn a_rehearsal_reads_a_phase_from_when_its_clock_was_there() {
    let plan = sensing();
    let timeline = drillbook::timeline::Timeline::new(&plan.session);
    let start = check::phase_start(&timeline, 0);
    let wall = Utc::now();
    // The real day: the phase's own start.
    assert_eq!(
        check::phase_start_wall(&timeline, 0, start + TimeDelta::minutes(30), wall, None),
        start
    );
    // At x60, 30 session minutes into the phase were 30 real seconds ago.
    assert_eq!(
        check::phase_start_wall(
            &timeline,
            0,
            start + TimeDelta::minutes(30),
            wall,
            Some(60.0)
        ),
        wall - TimeDelta::seconds(30)
    );
}

#[test]
fn simulate_checks_is_for_rehearsals_only() {
    let out = drillbook(&["run", "--role", "ep", "--simulate-checks", "pass"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--rehearse"), "{}", stderr(&out));
    let out = drillbook(&[
        "run",
        "--role",
        "ep",
        "--rehearse",
        "--simulate-checks",
        "maybe",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pass, fail, timeout"),
        "{}",
        stderr(&out)
    );
}
