//! Which phase's step a log line is evidence for, on real files: a line reading from the phase's
//! start counts only when its own time falls in the phase (not before it started, not after it
//! ended when that is known); a line without its own time, in the app, only when it is read while
//! the phase is on; and one line never serves steps of two phases, the second saying whose it is
//! (across a restart too, from the journal). Through `drillbook check` with the bundled EP
//! runbook and the tester's log line, and through `drillbook run`'s loop in a rehearsal whose
//! primary-site check is still following the log when the backup site's logon is written.

#[path = "support/cli.rs"]
mod cli;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use cli::{drillbook, stderr, stdout};
use drillbook::check::{self, Job, Mode, Runner};
use drillbook::journal::{Action, CheckOutcome, Event, Record};
use drillbook::runbook::{Plan, load_paths};
use drillbook::site::Site;
use drillbook::timeline::Timeline;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/checks")
        .join(name)
}

/// The tester's line: a logon on the day of the test, long after the session.
const TESTERS_LINE: &str = "2026-12-02 14:19:03 LOGON ACCEPTED endpoint=10.1.1.1:5000\n";
/// A logon at the primary site and one at the backup site, on the session's day (Hong Kong).
const PRIMARY_LINE: &str = "2023-11-25 08:31:07 LOGON ACCEPTED endpoint=10.1.1.1:5000\n";
const BACKUP_LINE: &str = "2023-11-25 11:04:40 LOGON ACCEPTED endpoint=10.2.2.2:5000\n";

/// A site file giving the BSS log and, as the tester wrote it, the logon pattern.
fn site_file(dir: &Path, log: &Path) -> PathBuf {
    let path = dir.join("site.yaml");
    std::fs::write(
        &path,
        format!(
            "site:\n  bss_log: {}\n  bss_logon_accepted: '^(?P<at>\\S+ \\S+) LOGON ACCEPTED endpoint=(?P<endpoint>\\S+)'\n",
            log.display()
        ),
    )
    .unwrap();
    path
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

fn row<'a>(rows: &'a [(String, String, String)], step: &str) -> (&'a str, &'a str) {
    let r = rows
        .iter()
        .find(|r| r.1 == step)
        .unwrap_or_else(|| panic!("no row for {step}: {rows:?}"));
    (r.0.as_str(), r.2.as_str())
}

fn check_bundled(site: &Path) -> std::process::Output {
    drillbook(&[
        "check",
        "--role",
        "ep",
        "--site",
        site.to_str().unwrap(),
        "ep-primary-logon-trading",
        "ep-backup-logon-trading",
    ])
}

#[test]
fn the_testers_line_is_no_sites_logon_and_a_backup_time_line_is_the_backup_sites_only() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bss.log");
    std::fs::write(&log, format!("{TESTERS_LINE}{BACKUP_LINE}")).unwrap();
    let out = check_bundled(&site_file(dir.path(), &log));
    let text = stdout(&out);
    assert!(
        text.lines().all(|l| l.chars().count() <= 80),
        "80 columns:\n{text}"
    );
    let rows = rows(&text);
    // The primary-site step takes neither line: both are from after its phase ended. The
    // phase is over (the session was in 2023): said at once, not waited out, not a failure.
    let (outcome, primary) = row(&rows, "ep-primary-logon-trading");
    assert_eq!(outcome, "not in phase", "{text}");
    assert!(
        primary.contains(
            "none taken: 2 matching line(s) from after the phase ended at 2023-11-25 10:00:00 HKT"
        ),
        "{text}"
    );
    // The backup-site step takes the line of its own window, not the tester's at byte 0.
    let (outcome, backup) = row(&rows, "ep-backup-logon-trading");
    assert_eq!(outcome, "pass", "{text}");
    let at = TESTERS_LINE.len();
    assert!(
        backup.contains(&format!("at byte {at}: 2023-11-25 11:04:40")),
        "{text}"
    );
    assert!(backup.contains("endpoint=10.2.2.2:5000"), "{text}");
    assert!(text.contains("2 checks: 1 not in phase, 1 pass."), "{text}");
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
}

#[test]
fn each_site_passes_on_the_logon_line_of_its_own_window() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bss.log");
    std::fs::write(&log, format!("{PRIMARY_LINE}{TESTERS_LINE}{BACKUP_LINE}")).unwrap();
    let out = check_bundled(&site_file(dir.path(), &log));
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let rows = rows(&text);
    let (outcome, primary) = row(&rows, "ep-primary-logon-trading");
    assert_eq!(outcome, "pass", "{text}");
    assert!(primary.contains("at byte 0: 2023-11-25 08:31:07"), "{text}");
    assert!(primary.contains("endpoint=10.1.1.1:5000"), "{text}");
    let (outcome, backup) = row(&rows, "ep-backup-logon-trading");
    assert_eq!(outcome, "pass", "{text}");
    let at = PRIMARY_LINE.len() + TESTERS_LINE.len();
    assert!(
        backup.contains(&format!("at byte {at}: 2023-11-25 11:04:40")),
        "{text}"
    );
}

#[test]
fn one_line_in_two_phases_windows_passes_one_step_and_the_other_says_whose_it_is() {
    // 11:30 is in the backup window (from 11:00 as planned) and, while the failover's approximate
    // end is not confirmed, in the failover's too (up to 12:10, the next fixed boundary): the
    // time cannot tell, so the line goes to one step only.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bss.log");
    std::fs::write(
        &log,
        "2023-11-25 11:30:00 LOGON ACCEPTED endpoint=10.2.2.2:5000\n",
    )
    .unwrap();
    let out = drillbook(&[
        "check",
        "--runbook",
        fixture("sites.yaml").to_str().unwrap(),
        "--site",
        site_file(dir.path(), &log).to_str().unwrap(),
        "failover-logon",
        "backup-logon",
    ]);
    let text = stdout(&out);
    let rows = rows(&text);
    let passed: Vec<_> = rows.iter().filter(|r| r.0 == "pass").collect();
    assert_eq!(passed.len(), 1, "one line, one pass:\n{text}");
    assert!(passed[0].2.contains("at byte 0:"), "{text}");
    let other = rows.iter().find(|r| r.0 != "pass").unwrap();
    // Both phases are over (2023): the other reads what is there and says why it took nothing.
    assert_eq!(other.0, "not in phase", "{text}");
    assert!(
        other.2.contains(&format!(
            "none taken: 1 matching line(s) another phase's step took (same line as {}, byte 0: needs a line of its own)",
            passed[0].1
        )),
        "{text}"
    );
    assert!(
        text.lines().all(|l| l.chars().count() <= 80),
        "80 columns:\n{text}"
    );
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
}

#[test]
fn a_line_whose_time_has_no_date_is_placed_in_no_phase() {
    // Break 3 F8: a bare `08:31:00` was taken on the day the phase started, so a log without
    // dates gave any day's logon (the Friday rehearsal's, yesterday's) to the session's step.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("session.yaml"), dir.path().join("session.yaml")).unwrap();
    let rb = dir.path().join("rb.yaml");
    std::fs::write(
        &rb,
        "format: 1\nid: rb\nrole: ops\ntitle: Undated\nsession: session.yaml\nsite:\n  bss_log: the log\n  pat: the logon line\nphases:\n  primary:\n    - id: logon\n      title: Logged on\n      check:\n        log: ${bss_log}\n        match: ${pat}\n        from: phase_start\n        timeout: 1s\n",
    )
    .unwrap();
    let log = dir.path().join("bss.log");
    std::fs::write(
        &log,
        "08:31:00 INFO Logon accepted (Friday rehearsal, no date in this log)\n",
    )
    .unwrap();
    let site = dir.path().join("site.yaml");
    std::fs::write(
        &site,
        format!(
            "site:\n  bss_log: {}\n  pat: '^(?P<at>\\S+) .*Logon accepted'\n",
            log.display()
        ),
    )
    .unwrap();
    let out = drillbook(&[
        "check",
        "--runbook",
        rb.to_str().unwrap(),
        "--site",
        site.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    let rows = rows(&text);
    let (outcome, detail) = row(&rows, "logon");
    // Read on a day after the session: the phase has ended, which is no failure; the line is
    // said to be placed in no phase.
    assert_eq!(outcome, "not in phase", "{text}");
    assert!(
        detail.contains(
            "none taken: 1 matching line(s) whose `at` (08:31:00) has no date: its own time cannot place it in the phase"
        ),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
}

// --- in `drillbook run` --------------------------------------------------------------------------

/// The journal's complete lines (one being written while we read has no newline yet).
fn journal(p: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(p).unwrap_or_default();
    let done = text.rfind('\n').map_or("", |n| &text[..n]);
    done.lines()
        .map(|l| serde_json::from_str(l).expect("a journal line"))
        .collect()
}

fn checks_of(j: &Path, step: &str) -> Vec<serde_json::Value> {
    journal(j)
        .into_iter()
        .filter(|e| e["kind"] == "check" && e["step"] == step)
        .collect()
}

/// Poll until `pred` holds, for up to `limit`.
fn poll_for(what: &str, limit: Duration, mut pred: impl FnMut() -> bool) {
    let start = Instant::now();
    while !pred() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn in_a_rehearsal_the_backup_logon_is_not_taken_by_the_primary_check_still_following() {
    // At x300 from 09:59 the primary window closes 0.2 s in; the primary check started then
    // follows the log for 20 s. The failover ends at 11:00 (confirmed then: headless) 12.2 s in,
    // and the backup window lasts until 14:00 in this copy of the session, 36.2 s in. The backup
    // site's logon is written as soon as the backup phase is entered, with the wall clock's
    // time in the session's zone (as a BSS on a rehearsal day writes it): the primary check
    // still following the log sees it, and must leave it to the backup step.
    let dir = tempfile::tempdir().unwrap();
    let session = std::fs::read_to_string(fixture("session.yaml")).unwrap();
    let longer = session.replace("end: \"12:10\"", "end: \"14:00\"");
    assert_ne!(longer, session, "the backup window is made longer");
    std::fs::write(dir.path().join("session.yaml"), longer).unwrap();
    std::fs::copy(fixture("sites.yaml"), dir.path().join("sites.yaml")).unwrap();
    let log = dir.path().join("bss.log");
    std::fs::write(&log, "").unwrap();
    let site = site_file(dir.path(), &log);
    let j = dir.path().join("run.jsonl");
    let mut child = std::process::Command::new(cli::BIN)
        .arg("run")
        .arg(dir.path().join("sites.yaml"))
        .arg("--site")
        .arg(&site)
        .args(["--rehearse", "--speed", "300", "--start-at", "09:59"])
        .args(["--headless", "--notify", "off", "--journal"])
        .arg(&j)
        .env("TZ", "Europe/London")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let entered = |phase: &str| {
        journal(&j)
            .iter()
            .any(|e| e["kind"] == "phase_entered" && e["phase"] == phase)
    };
    poll_for("the backup phase", Duration::from_secs(30), || {
        entered("backup")
    });
    assert!(
        checks_of(&j, "primary-logon").is_empty(),
        "the primary check is still following the log"
    );
    let hk = chrono_tz::Asia::Hong_Kong;
    let line = format!(
        "{} LOGON ACCEPTED endpoint=10.2.2.2:5000\n",
        Utc::now()
            .with_timezone(&hk)
            .format("%Y-%m-%d %H:%M:%S%.3f")
    );
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(line.as_bytes()).unwrap();
    drop(f);

    poll_for(
        "the backup check's pass and the primary check's end",
        Duration::from_secs(40),
        || {
            checks_of(&j, "backup-logon")
                .iter()
                .any(|e| e["outcome"] == "pass")
                && !checks_of(&j, "primary-logon").is_empty()
        },
    );
    let backup = checks_of(&j, "backup-logon");
    let pass = backup.iter().find(|e| e["outcome"] == "pass").unwrap();
    assert!(
        pass["detail"].as_str().unwrap().contains("at byte 0:"),
        "{pass}"
    );
    assert_eq!(pass["line"]["byte"], 0, "{pass}");
    let primary = checks_of(&j, "primary-logon");
    for e in &primary {
        assert_ne!(
            e["outcome"], "pass",
            "the backup logon passed the primary step: {e}"
        );
    }
    let detail = primary[0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("1 matching line(s) from after the phase ended at "),
        "{detail}"
    );
    // The primary step stays open: nothing settled it.
    let settled: Vec<_> = journal(&j)
        .into_iter()
        .filter(|e| e["kind"] == "step" && e["state"] == "done")
        .map(|e| e["step"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(settled, ["backup-logon"], "{settled:?}");

    // SAFETY: a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
}

// --- the runner --------------------------------------------------------------------------------

fn sites() -> Plan {
    load_paths(&[fixture("sites.yaml")]).expect("the sites fixture loads")
}

fn runner(log: &Path) -> Runner {
    Runner::new(
        Site::from_values([("bss_log".to_owned(), log.display().to_string())]),
        Mode::default(),
        check::DEFAULT_LIMIT,
    )
}

/// The job of step `id` over its phase as planned, start and end, as `drillbook check` makes it.
fn planned_job(plan: &Plan, id: &str) -> Job {
    let i = plan.step_index(id).unwrap();
    let tl = Timeline::new(&plan.session);
    let phase = plan.steps[i].phase;
    Job::for_step(plan, i, check::phase_start(&tl, phase))
        .unwrap()
        .ending(check::phase_end(&tl, phase))
}

#[tokio::test]
async fn a_line_a_journaled_pass_took_stays_its_steps_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bss.log");
    std::fs::write(
        &log,
        "2023-11-25 11:30:00 LOGON ACCEPTED endpoint=10.2.2.2:5000\n",
    )
    .unwrap();
    let plan = sites();
    let first = runner(&log).run(planned_job(&plan, "failover-logon")).await;
    assert_eq!(first.outcome, CheckOutcome::Pass, "{first:?}");
    let line = first.line.clone().expect("a pass names its line");
    assert_eq!(line.byte, 0);
    // The journal keeps it: written and read back.
    let event: Event = serde_json::from_str(
        &serde_json::to_string(&serde_json::json!({
            "v": 1, "seq": 7, "utc": "2023-11-25T03:30:01Z", "local": "", "operator": "o",
            "host": "h", "session": "fixture-hk", "runbooks": ["sites"], "sha256": "",
            "kind": "check", "step": "failover-logon", "check": "log",
            "target": log.display().to_string(), "outcome": "pass", "detail": first.detail,
            "started": "2023-11-25T03:30:00Z", "duration_ms": 1, "line": line,
        }))
        .unwrap(),
    )
    .unwrap();
    assert!(matches!(&event.action, Action::Check { line: Some(l), .. } if **l == line));
    let record = Record::from_events(&[event]);

    // A new process: its runner knows the line from the journal only.
    let after = runner(&log);
    after.remember(&plan, &record);
    let r = after.run(planned_job(&plan, "backup-logon")).await;
    // Its phase (in 2023) is over: the run read the log and stopped, saying whose the line is.
    assert_eq!(r.outcome, CheckOutcome::NotInPhase, "{r:?}");
    assert!(
        r.detail.contains("same line as failover-logon, byte 0"),
        "{}",
        r.detail
    );
    // The step that took it may read it again.
    let again = after.run(planned_job(&plan, "failover-logon")).await;
    assert_eq!(again.outcome, CheckOutcome::Pass, "{again:?}");
    assert_eq!(again.line, Some(line));
}

/// Replace `path` by a copy of itself, as a shipper, `rsync`, `sed -i` or an editor does: the
/// same lines in a new file (a new inode) renamed over it.
fn replace_by_a_copy(path: &Path) {
    let copy = path.with_extension("new");
    std::fs::copy(path, &copy).unwrap();
    std::fs::rename(&copy, path).unwrap();
}

fn inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap().ino()
}

#[tokio::test]
async fn a_line_copied_into_a_new_file_or_written_twice_serves_one_phase_only() {
    // Break 3 F7: the line was known by its file and offset, so a copy of the log (a new inode)
    // or the line written twice gave the 11:30 logon to the failover's step and the backup's.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bss.log");
    let logon = "2023-11-25 11:30:00 LOGON ACCEPTED endpoint=10.2.2.2:5000\n";
    std::fs::write(&log, logon).unwrap();
    let plan = sites();
    let r = runner(&log);
    let first = r.run(planned_job(&plan, "failover-logon")).await;
    assert_eq!(first.outcome, CheckOutcome::Pass, "{first:?}");
    let before = inode(&log);
    replace_by_a_copy(&log);
    assert_ne!(inode(&log), before, "a new file");
    let backup = r.run(planned_job(&plan, "backup-logon")).await;
    // Not a pass; read on a day after the session, the backup phase has ended too.
    assert_eq!(backup.outcome, CheckOutcome::NotInPhase, "{backup:?}");
    assert!(
        backup.detail.contains(
            "1 matching line(s) another phase's step took (same text as the line failover-logon took, here a copy at byte 0: needs a line of its own)"
        ),
        "{}",
        backup.detail
    );

    // The same line written twice in one file: once.
    std::fs::write(&log, format!("{logon}{logon}")).unwrap();
    let r = runner(&log);
    let first = r.run(planned_job(&plan, "failover-logon")).await;
    assert_eq!(first.outcome, CheckOutcome::Pass, "{first:?}");
    let backup = r.run(planned_job(&plan, "backup-logon")).await;
    // Not a pass; read on a day after the session, the backup phase has ended too.
    assert_eq!(backup.outcome, CheckOutcome::NotInPhase, "{backup:?}");
    // Both are counted; the first is the very line the failover's step took.
    assert!(
        backup.detail.contains(
            "2 matching line(s) another phase's step took (same line as failover-logon, byte 0:"
        ),
        "{}",
        backup.detail
    );

    // Across a restart: the journal's `line` (file, byte, hash) keeps the text with its step,
    // in a copy of the file too.
    std::fs::write(&log, logon).unwrap();
    let first = runner(&log).run(planned_job(&plan, "failover-logon")).await;
    let line = first.line.clone().expect("a pass names its line");
    let event: Event = serde_json::from_value(serde_json::json!({
        "v": 1, "seq": 7, "utc": "2023-11-25T03:30:01Z", "local": "", "operator": "o",
        "host": "h", "session": "fixture-hk", "runbooks": ["sites"], "sha256": "",
        "kind": "check", "step": "failover-logon", "check": "log",
        "target": log.display().to_string(), "outcome": "pass", "detail": first.detail,
        "started": "2023-11-25T03:30:00Z", "duration_ms": 1, "line": line,
    }))
    .unwrap();
    replace_by_a_copy(&log);
    let after = runner(&log);
    after.remember(&plan, &Record::from_events(&[event]));
    let backup = after.run(planned_job(&plan, "backup-logon")).await;
    // Not a pass; read on a day after the session, the backup phase has ended too.
    assert_eq!(backup.outcome, CheckOutcome::NotInPhase, "{backup:?}");
    assert!(
        backup
            .detail
            .contains("same text as the line failover-logon took"),
        "{}",
        backup.detail
    );

    // Another line at the same time (another endpoint) is another logon: each step has its own.
    std::fs::write(
        &log,
        format!("{logon}2023-11-25 11:30:00 LOGON ACCEPTED endpoint=10.2.2.3:5000\n"),
    )
    .unwrap();
    let r = runner(&log);
    let first = r.run(planned_job(&plan, "failover-logon")).await;
    assert_eq!(first.outcome, CheckOutcome::Pass, "{first:?}");
    let backup = r.run(planned_job(&plan, "backup-logon")).await;
    assert_eq!(backup.outcome, CheckOutcome::Pass, "{backup:?}");
    assert!(backup.detail.contains("10.2.2.3"), "{}", backup.detail);
}

fn hkt(h: u32, m: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Hong_Kong
        .with_ymd_and_hms(2023, 11, 25, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn a_phase_ends_where_the_timeline_knows_it_has() {
    let plan = sites();
    let mut tl = Timeline::new(&plan.session);
    // A fixed end is the end.
    assert_eq!(check::phase_end(&tl, 0), Some(hkt(10, 0)));
    // An approximate end not yet confirmed: at the latest the next fixed boundary.
    assert_eq!(check::phase_end(&tl, 1), Some(hkt(12, 10)));
    assert_eq!(check::phase_start(&tl, 2), hkt(11, 0));
    // Confirmed, it is the confirmed instant, and the next phase starts there.
    tl.confirm("failover.end", hkt(10, 47));
    assert_eq!(check::phase_end(&tl, 1), Some(hkt(10, 47)));
    assert_eq!(check::phase_start(&tl, 2), hkt(10, 47));
    assert_eq!(check::phase_end(&tl, 2), Some(hkt(12, 10)));
    // In a rehearsal at x60, on the wall clock: past ends counted back, future ones ahead.
    let wall = Utc::now();
    let at = |h, m| check::phase_end_wall(&tl, 0, hkt(h, m), wall, Some(60.0));
    assert_eq!(at(10, 30), Some(wall - TimeDelta::seconds(30)));
    assert_eq!(at(9, 30), Some(wall + TimeDelta::seconds(30)));
    // A phase not begun starts ahead too (a line from before it is not its).
    assert_eq!(
        check::phase_start_wall(&tl, 2, hkt(10, 17), wall, Some(60.0)),
        wall + TimeDelta::seconds(30)
    );
}

/// A runbook of one primary-site step whose log check has no time of its own (`from: now`).
fn untimed(dir: &Path) -> Plan {
    std::fs::copy(fixture("session.yaml"), dir.join("session.yaml")).unwrap();
    let rb = dir.join("untimed.yaml");
    std::fs::write(
        &rb,
        "format: 1\nid: untimed\nrole: ops\ntitle: Untimed\nsession: session.yaml\nsite:\n  bss_log: the log\nphases:\n  primary:\n    - id: tail\n      title: A logon line, no time in it\n      check:\n        log: ${bss_log}\n        match: 'LOGON ACCEPTED'\n        timeout: 300ms\n",
    )
    .unwrap();
    load_paths(&[rb]).unwrap()
}

#[tokio::test]
async fn in_the_app_a_line_without_its_own_time_is_the_phase_s_it_is_read_in() {
    let dir = tempfile::tempdir().unwrap();
    let plan = untimed(dir.path());
    let log = dir.path().join("bss.log");
    let now = Utc::now();
    let job = |start: DateTime<Utc>, end: Option<DateTime<Utc>>| {
        Job::for_step(&plan, 0, start)
            .unwrap()
            .ending(end)
            .in_session()
    };
    // A run over the empty log leaves the runner's cursor at its start; the line is written
    // after it, and the next run reads it from there. Out of its phase, a run does not wait
    // for a line (none read now could be the phase's): `not in phase` at once.
    let read = |start, end, first_outcome| {
        let log = log.clone();
        let job = job(start, end);
        async move {
            std::fs::write(&log, "").unwrap();
            let r = runner(&log);
            let first = r.run(job.clone()).await;
            assert_eq!(first.outcome, first_outcome, "{first:?}");
            let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
            f.write_all(b"LOGON ACCEPTED\n").unwrap();
            r.run(job).await
        }
    };
    // The phase ended a minute ago: a line read now is not its.
    let r = read(
        now - TimeDelta::hours(2),
        Some(now - TimeDelta::minutes(1)),
        CheckOutcome::NotInPhase,
    )
    .await;
    assert_eq!(r.outcome, CheckOutcome::NotInPhase, "{r:?}");
    assert!(
        r.detail
            .contains("1 matching line(s) read after the phase ended at "),
        "{}",
        r.detail
    );
    // The phase starts in an hour: not yet its either.
    let r = read(now + TimeDelta::hours(1), None, CheckOutcome::NotInPhase).await;
    assert_eq!(r.outcome, CheckOutcome::NotInPhase, "{r:?}");
    assert!(
        r.detail
            .contains("1 matching line(s) read before the phase started at "),
        "{}",
        r.detail
    );
    // In progress: it is.
    let r = read(
        now - TimeDelta::minutes(1),
        Some(now + TimeDelta::hours(1)),
        CheckOutcome::Timeout,
    )
    .await;
    assert_eq!(r.outcome, CheckOutcome::Pass, "{r:?}");
    // `drillbook check`'s jobs are on no session clock: the line is taken when read.
    std::fs::write(&log, "").unwrap();
    let r = runner(&log);
    let off_clock = Job::for_step(&plan, 0, now - TimeDelta::hours(2))
        .unwrap()
        .ending(Some(now - TimeDelta::minutes(1)));
    let _ = r.run(off_clock.clone()).await;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(b"LOGON ACCEPTED\n")
        .unwrap();
    assert_eq!(r.run(off_clock).await.outcome, CheckOutcome::Pass);
}

// --- a phase that has not started, or has ended -----------------------------------------------

/// A session whose phases are long over (`past`), going on now (`now`, to 2098) and not begun
/// (`future`, on 25 Nov 2099), each with a log check reading by the line's own time, and a file
/// check of the future phase's snapshot (written since its start).
fn three_times(dir: &Path, log: &Path, snapshot: &Path) -> (PathBuf, PathBuf) {
    std::fs::write(
        dir.join("session.yaml"),
        "format: 1\nid: three-times\ntitle: Over, going on, to come\ntimezone: Asia/Hong_Kong\n\
         date: 2099-11-25\nphases:\n\
         \x20 - {id: past, title: Long over, start: \"2020-01-01 09:00\", end: \"2020-01-01 10:00\"}\n\
         \x20 - {id: now, title: Going on, start: \"2020-01-02 09:00\", end: \"2098-01-01 00:00\"}\n\
         \x20 - {id: future, title: To come, start: \"08:00\", end: \"10:00\"}\n",
    )
    .unwrap();
    let log_check = |timeout: &str| {
        format!(
            "      check:\n        log: ${{bss_log}}\n        match: '^(?P<at>\\S+ \\S+) LOGON ACCEPTED'\n        \
             from: phase_start\n        timeout: {timeout}\n"
        )
    };
    let runbook = dir.join("three.yaml");
    std::fs::write(
        &runbook,
        format!(
            "format: 1\nid: three\nrole: ops\ntitle: Three times\nsession: session.yaml\nsite:\n  \
             bss_log: The log\n  snapshot: The snapshot file\nphases:\n  past:\n    - id: past-logon\n      \
             title: Logged on back then\n{}  now:\n    - id: now-logon\n      title: Logged on now\n{}  \
             future:\n    - id: future-logon\n      title: Logged on then\n{}    - id: future-snapshot\n      \
             title: Snapshot taken then\n      check:\n        file: ${{snapshot}}\n        \
             newer_than: phase_start\n        timeout: 20s\n",
            log_check("20s"),
            log_check("1s"),
            log_check("20s"),
        ),
    )
    .unwrap();
    let site = dir.join("site.yaml");
    std::fs::write(
        &site,
        format!(
            "site:\n  bss_log: {}\n  snapshot: {}\n",
            log.display(),
            snapshot.display()
        ),
    )
    .unwrap();
    (runbook, site)
}

/// walk 3 R15: `drillbook check` on a day before the session waited 20 s per log check of a
/// phase not begun, then said TIMEOUT and exited 1. A check whose phase has not started, or has
/// ended, reads what is there and says so at once (`not in phase`, with which), and only real
/// failures make the exit status: a check of a phase going on still waits for its line.
#[test]
fn a_check_out_of_its_phase_says_so_at_once_and_is_no_failure() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bss.log");
    // A logon in the long-over phase, and one from today.
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Hong_Kong)
        .format("%Y-%m-%d %H:%M:%S");
    std::fs::write(
        &log,
        format!("2020-01-01 09:30:00 LOGON ACCEPTED\n{today} LOGON ACCEPTED\n"),
    )
    .unwrap();
    let snapshot = dir.path().join("snapshot.csv");
    std::fs::write(&snapshot, "orders\n").unwrap();
    let (runbook, site) = three_times(dir.path(), &log, &snapshot);
    let check = |steps: &[&str]| {
        let mut args = vec![
            "check",
            "--runbook",
            runbook.to_str().unwrap(),
            "--site",
            site.to_str().unwrap(),
        ];
        args.extend_from_slice(steps);
        let t0 = Instant::now();
        let out = drillbook(&args);
        (out, t0.elapsed())
    };

    let (out, took) = check(&["past-logon", "future-logon", "future-snapshot"]);
    let text = stdout(&out);
    assert!(
        took < Duration::from_secs(10),
        "the 20 s timeouts were waited out ({took:?}):\n{text}"
    );
    let first = rows(&text);
    // Over, but its line is in the log: a pass, read after the fact.
    let (outcome, past) = row(&first, "past-logon");
    assert_eq!(outcome, "pass", "{text}");
    assert!(past.contains("2020-01-01 09:30:00"), "{text}");
    // Not begun: the lines there are from before it, and it says so.
    let (outcome, future) = row(&first, "future-logon");
    assert_eq!(outcome, "not in phase", "{text}");
    assert!(
        future.contains("phase not started (it starts at 2099-11-25 08:00:00 HKT)"),
        "{text}"
    );
    assert!(
        future.contains("matching line(s) from before the phase started"),
        "what was read is still said: {text}"
    );
    let (outcome, snap) = row(&first, "future-snapshot");
    assert_eq!(outcome, "not in phase", "{text}");
    assert!(snap.contains("phase not started"), "{text}");
    assert!(
        text.contains("3 checks: 1 pass, 2 not in phase. Not in phase is not a failure"),
        "{text}"
    );
    assert!(
        text.lines().all(|l| l.chars().count() <= 80),
        "80 columns:\n{text}"
    );
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));

    // A phase that has ended with no line of its own: said at once, not a failure either.
    std::fs::write(&log, format!("{today} LOGON ACCEPTED\n")).unwrap();
    let (out, took) = check(&["past-logon"]);
    let text = stdout(&out);
    assert!(took < Duration::from_secs(10), "{took:?}:\n{text}");
    let ended = rows(&text);
    let (outcome, past) = row(&ended, "past-logon");
    assert_eq!(outcome, "not in phase", "{text}");
    assert!(
        past.contains("phase ended (at 2020-01-01 10:00:00 HKT)")
            && past.contains("1 matching line(s) from after the phase ended"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));

    // The phase going on: its check waits for a line (1 s here) and a timeout is a failure.
    std::fs::write(&log, "2020-01-01 09:30:00 LOGON ACCEPTED\n").unwrap();
    let (out, took) = check(&["now-logon", "future-logon"]);
    let text = stdout(&out);
    assert!(took >= Duration::from_millis(900), "{took:?}:\n{text}");
    let last = rows(&text);
    assert_eq!(row(&last, "now-logon").0, "TIMEOUT", "{text}");
    assert_eq!(row(&last, "future-logon").0, "not in phase", "{text}");
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
}
