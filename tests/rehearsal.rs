//! Rehearsal under tokio's paused clock: a whole session at 3600x in milliseconds, with pause,
//! resume, jump and clock steps, checking each transition fires exactly once and in order.

use drillbook::clock::{Clock, ManualClock, RehearsalClock};
use drillbook::journal::{self, Journal, Meta};
use drillbook::notify::{Notifier, recording::Recording};
use drillbook::rehearsal::{self, headless};
use drillbook::runbook::{Plan, load_bundled};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DAY: [&str; 6] = [
    "pre-session.end",
    "primary.end",
    "failover.end",
    "backup.end",
    "clean-up.end",
    "reporting.end",
];

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);
impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
    fn count(&self, kind: &str) -> usize {
        self.text()
            .lines()
            .filter(|l| l.contains(&format!("  {kind:<8} ")))
            .count()
    }
}

fn plan() -> Plan {
    load_bundled(&["ep".into()]).unwrap()
}

fn open(dir: &tempfile::TempDir, plan: &Plan) -> (Journal, journal::Replay) {
    Journal::open(
        &dir.path().join("r.jsonl"),
        Meta::for_plan(plan, Some("tester")),
    )
    .unwrap()
}

/// Spawn a headless run; returns the task and its output buffer.
fn spawn(
    plan: Plan,
    clock: Arc<dyn Clock>,
    dir: &tempfile::TempDir,
) -> (tokio::task::JoinHandle<headless::Fired>, Shared) {
    spawn_with(plan, clock, dir, vec![])
}

fn spawn_with(
    plan: Plan,
    clock: Arc<dyn Clock>,
    dir: &tempfile::TempDir,
    notifiers: Vec<Arc<dyn Notifier>>,
) -> (tokio::task::JoinHandle<headless::Fired>, Shared) {
    let (mut j, replay) = open(dir, &plan);
    let out = Shared::default();
    let mut w = out.clone();
    let task = tokio::spawn(async move {
        let opts = headless::Options { auto_confirm: true };
        headless::run(&plan, clock, &mut j, replay.record, notifiers, opts, &mut w).await
    });
    (task, out)
}

#[tokio::test(start_paused = true)]
async fn whole_day_at_3600x_fires_each_transition_once_in_order() {
    let p = plan();
    let start = rehearsal::start_instant(&p, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let real_start = std::time::Instant::now();
    let rec = Arc::new(Recording::new());
    let clock = Arc::new(RehearsalClock::new(start, 3600.0));
    let (task, out) = spawn_with(p.clone(), clock, &dir, vec![rec.clone()]);
    let fired = task.await.unwrap();
    assert_eq!(fired.transitions, DAY);
    assert!(
        real_start.elapsed() < Duration::from_secs(5),
        "paused time: no real waiting"
    );
    assert_eq!(out.count("phase"), 6, "{}", out.text());
    assert!(out.text().contains("[REHEARSAL 3600x]"));

    // The journal records every phase entered, each stamped as rehearsal.
    let replay = journal::read(&dir.path().join("r.jsonl")).unwrap();
    assert!(replay.events.iter().all(|e| e.rehearsal.is_some()));
    let entered: Vec<_> = replay
        .record
        .phases_entered
        .iter()
        .map(|(p, _)| p.as_str())
        .collect();
    assert_eq!(
        entered,
        ["primary", "failover", "backup", "clean-up", "reporting"]
    );
    assert!(
        replay.record.confirmation("failover.end").is_some(),
        "auto-confirmed"
    );

    // Notifications: every boundary warned at 15 and 5 minutes, then announced, in order, once.
    let boundary_alerts: Vec<&str> = fired
        .alerts
        .iter()
        .map(String::as_str)
        .filter(|k| !k.starts_with("step:"))
        .collect();
    let mut expected: Vec<String> = vec!["pre-session.end@-5m".into(), "pre-session.end".into()];
    for k in &DAY[1..] {
        expected.extend([format!("{k}@-15m"), format!("{k}@-5m"), (*k).to_owned()]);
    }
    assert_eq!(boundary_alerts, expected);
    // Every critical step due during the rehearsal and left pending is reported overdue, once.
    let end = p.session.phases.last().unwrap().end.at;
    let mut overdue: Vec<&str> = fired
        .alerts
        .iter()
        .filter_map(|k| k.strip_prefix("step:")?.strip_suffix(":overdue"))
        .collect();
    let mut critical: Vec<&str> = p
        .steps
        .iter()
        .filter(|s| {
            s.critical && s.not_applicable.is_none() && s.due.is_some_and(|d| d > start && d <= end)
        })
        .map(|s| s.id.as_str())
        .collect();
    overdue.sort_unstable();
    critical.sort_unstable();
    assert_eq!(overdue, critical);

    // Each alert reached the channel once, in order, marked as rehearsal, and each send is journaled.
    let sent: Vec<String> = rec.sent().into_iter().map(|a| a.key).collect();
    assert_eq!(sent, fired.alerts);
    assert!(
        rec.sent()
            .iter()
            .all(|a| a.title.starts_with("[REHEARSAL] "))
    );
    let journaled = replay
        .record
        .notifications
        .iter()
        .filter(|n| n.channel == "recording" && n.ok)
        .count();
    assert_eq!(journaled, fired.alerts.len());
}

#[tokio::test(start_paused = true)]
async fn pause_holds_the_session_clock_and_resume_and_jump_continue_it() {
    let p = plan();
    let start = rehearsal::start_instant(&p, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(RehearsalClock::new(start, 3600.0));
    let (task, out) = spawn(p.clone(), clock.clone(), &dir);
    // 07:55 + 10 real s at 3600x = 17:55 virtual would end the day: pause after 1 s (08:55).
    tokio::time::sleep(Duration::from_secs(1)).await;
    clock.pause();
    let frozen = clock.now();
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(clock.now(), frozen, "paused clock stands still");
    assert_eq!(
        out.count("phase"),
        1,
        "only primary started while paused: {}",
        out.text()
    );
    // Jump to just before the failover's approximate end, then resume.
    let failover_end = p.session.phases[2].end.at;
    clock.jump_to(failover_end - rehearsal::JUST_BEFORE);
    clock.resume();
    let fired = task.await.unwrap();
    assert_eq!(
        fired.transitions, DAY,
        "the jump fires primary.end once, in order"
    );
}

#[tokio::test(start_paused = true)]
async fn clock_stepped_back_and_forward_fires_nothing_twice() {
    let p = plan();
    let tz = p.session.tz;
    let at = |s: &str| journal::session_instant(tz, s).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at("2023-11-25 07:59:00")));
    let (task, out) = spawn(p.clone(), clock.clone(), &dir);
    let wait_for = |kind: &'static str, n: usize| {
        let out = out.clone();
        async move {
            for _ in 0..200 {
                if out.count(kind) >= n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(1100)).await;
            }
            panic!("waited for {n} {kind} lines: {}", out.text());
        }
    };
    wait_for("start", 1).await;
    clock.set(at("2023-11-25 10:30:00"));
    wait_for("phase", 2).await;
    // NTP steps the clock back an hour: nothing is announced again.
    clock.set(at("2023-11-25 09:30:00"));
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(out.count("phase"), 2);
    // A suspend: the host wakes at 12:30 and every missed transition fires once, in order.
    clock.set(at("2023-11-25 12:30:00"));
    wait_for("phase", 4).await;
    clock.set(at("2023-11-25 14:00:01"));
    let fired = task.await.unwrap();
    assert_eq!(fired.transitions, DAY);
}
