//! The loop `drillbook run` uses (`run::drive`), driven under tokio's paused clock: a whole
//! session at 3600x in milliseconds with the headless line printer, pause, resume, jump and clock
//! steps (each transition fires exactly once and in order), SIGHUP, a notification that never
//! answers, and keys and a confirmation on ratatui's `TestBackend`.

use drillbook::alerts::Alert;
use drillbook::app::Model;
use drillbook::clock::{Clock, ManualClock, RehearsalClock};
use drillbook::journal::{self, Journal, Meta};
use drillbook::notify::{Notifier, SendResult, recording::Recording};
use drillbook::rehearsal;
use drillbook::run::lines::{Fired, Lines};
use drillbook::run::{self, Feed, Inputs, Interrupt, Setup, Source};
use drillbook::runbook::{Plan, load_bundled};
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
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

fn journal_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("r.jsonl")
}

/// What `drillbook run` builds: the journal opened, the model over its record, auto-confirm on.
fn setup(
    plan: Plan,
    clock: Arc<dyn Clock>,
    dir: &tempfile::TempDir,
    channels: Vec<Arc<dyn Notifier>>,
) -> Setup {
    let path = journal_path(dir);
    let (j, replay) = Journal::open(&path, Meta::for_plan(&plan, Some("tester"))).unwrap();
    let mut model = Model::new(plan, replay.record, &replay.events, clock.now());
    model.journal_path = path.display().to_string();
    model.rehearsal = clock.rehearsal();
    model.auto_confirm = true;
    Setup {
        model,
        clock,
        source: Source::Write(Box::new(j)),
        channels,
        arrival: None,
        forward: None,
        checks: None,
        attached: false,
    }
}

/// Inputs with no terminal and interrupts sent by the test.
fn inputs() -> (Inputs, tokio::sync::mpsc::UnboundedSender<Interrupt>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let interrupts: Feed<Interrupt> =
        Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|i| (i, rx))
        }));
    let inputs = Inputs {
        events: Box::pin(futures_util::stream::pending()),
        interrupts,
        timer: run::timer::Timer::Tokio,
    };
    (inputs, tx)
}

/// The headless run: the loop with the line printer, its output in a buffer.
async fn headless(setup: Setup, out: Shared, inputs: Inputs) -> (run::Ended, Fired) {
    let mut lines = Lines::new(out, None, chrono_tz::UTC);
    let ended = run::drive(&mut lines, setup, inputs).await;
    (ended, lines.fired)
}

#[tokio::test(start_paused = true)]
async fn whole_day_at_3600x_fires_each_transition_once_in_order() {
    let p = plan();
    let start = rehearsal::start_instant(&p, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let real_start = std::time::Instant::now();
    let rec = Recording::new();
    let clock = Arc::new(RehearsalClock::new(start, 3600.0));
    let out = Shared::default();
    let (ended, fired) = headless(
        setup(p.clone(), clock, &dir, vec![Arc::new(rec.clone())]),
        out.clone(),
        inputs().0,
    )
    .await;
    assert_eq!(ended.reason, run::SESSION_ENDED);
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
    // The phase the rehearsal starts in is entered too, as in the app.
    assert_eq!(
        entered,
        [
            "pre-session",
            "primary",
            "failover",
            "backup",
            "clean-up",
            "reporting"
        ]
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
        // `step:ID:overdue`, or `step:ID:overdue@INSTANT` for a due after its phase's start.
        .filter_map(|k| Some(k.strip_prefix("step:")?.split_once(":overdue")?.0))
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
    let out = Shared::default();
    let run = headless(
        setup(p.clone(), clock.clone(), &dir, vec![]),
        out.clone(),
        inputs().0,
    );
    let steer = async {
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
    };
    let ((_, fired), ()) = tokio::join!(run, steer);
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
    let out = Shared::default();
    let run = headless(
        setup(p.clone(), clock.clone(), &dir, vec![]),
        out.clone(),
        inputs().0,
    );
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
    let steer = async {
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
    };
    let ((_, fired), ()) = tokio::join!(run, steer);
    assert_eq!(fired.transitions, DAY);
}

#[tokio::test(start_paused = true)]
async fn sighup_quits_the_normal_way_with_the_detach_journaled() {
    let p = plan();
    let start = rehearsal::start_instant(&p, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(RehearsalClock::new(start, 60.0));
    let out = Shared::default();
    let (inputs, tx) = inputs();
    let run = headless(setup(p, clock, &dir, vec![]), out.clone(), inputs);
    let hup = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        tx.send(Interrupt::Quit("SIGHUP".into())).unwrap();
    };
    let ((ended, _), ()) = tokio::join!(run, hup);
    assert_eq!(ended.reason, "SIGHUP");
    assert!(ended.detach_error.is_none());
    let replay = journal::read(&journal_path(&dir)).unwrap();
    let last = replay.events.last().unwrap();
    assert!(
        matches!(&last.action, journal::Action::Detach { reason } if reason == "SIGHUP"),
        "{last:?}"
    );
    assert!(
        !out.text().contains("  end      "),
        "no end-of-session line"
    );
}

/// A channel whose send never answers (a wedged bus).
struct Silent;
impl Notifier for Silent {
    fn channel(&self) -> &'static str {
        "silent"
    }
    fn send(&self, _: &Alert) -> Pin<Box<dyn Future<Output = SendResult> + Send + 'static>> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test(start_paused = true)]
async fn a_notification_that_never_answers_times_out_and_is_journaled_as_failed() {
    let p = plan();
    let tz = p.session.tz;
    // Five minutes before the first boundary: its "In 5 min" alert is due at once.
    let clock = Arc::new(ManualClock::new(
        journal::session_instant(tz, "2023-11-25 07:55:00").unwrap(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let out = Shared::default();
    let (inputs, tx) = inputs();
    let run = headless(
        setup(p, clock, &dir, vec![Arc::new(Silent)]),
        out.clone(),
        inputs,
    );
    let wait = async {
        for _ in 0..100 {
            if out.count("failed") > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        tx.send(Interrupt::Quit("SIGTERM".into())).unwrap();
    };
    let ((ended, fired), ()) = tokio::join!(run, wait);
    assert_eq!(ended.reason, "SIGTERM");
    assert_eq!(
        fired.alerts.first().map(String::as_str),
        Some("pre-session.end@-5m")
    );
    let text = out.text();
    assert!(
        text.contains("silent notification failed: no answer within 5 s"),
        "{text}"
    );
    let replay = journal::read(&journal_path(&dir)).unwrap();
    let sent = replay
        .record
        .notifications
        .iter()
        .find(|n| n.channel == "silent")
        .expect("the timed-out send is journaled");
    assert!(!sent.ok);
}

#[tokio::test(start_paused = true)]
async fn keys_and_a_confirmation_drive_the_same_loop_on_a_test_backend() {
    use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
    use ratatui::backend::TestBackend;
    let p = plan();
    let tz = p.session.tz;
    let clock = Arc::new(ManualClock::new(
        journal::session_instant(tz, "2023-11-25 11:02:00").unwrap(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let mut s = setup(p, clock, &dir, vec![]);
    s.model.auto_confirm = false;
    let (keys_tx, keys_rx) = tokio::sync::mpsc::unbounded_channel::<std::io::Result<TermEvent>>();
    let (int_tx, int_rx) = tokio::sync::mpsc::unbounded_channel();
    let inputs = Inputs {
        events: Box::pin(futures_util::stream::unfold(keys_rx, |mut rx| async move {
            rx.recv().await.map(|e| (e, rx))
        })),
        interrupts: Box::pin(futures_util::stream::unfold(int_rx, |mut rx| async move {
            rx.recv().await.map(|i| (i, rx))
        })),
        timer: run::timer::Timer::Tokio,
    };
    let mut terminal = ratatui::Terminal::new(TestBackend::new(80, 24)).unwrap();
    let raw = Shared::default();
    let press = |c: KeyCode| Ok(TermEvent::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    let path = journal_path(&dir);
    let steer = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        // The failover's end is awaiting confirmation at 11:02: `c`, then Enter takes the default.
        keys_tx.send(press(KeyCode::Char('c'))).unwrap();
        keys_tx.send(press(KeyCode::Enter)).unwrap();
        for _ in 0..50 {
            let r = journal::read(&path).unwrap();
            if r.record.confirmation("failover.end").is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        int_tx.send(Interrupt::Quit("SIGINT".into())).unwrap();
    };
    let ended = {
        let mut screen = run::screen::Screen {
            terminal: &mut terminal,
            theme: drillbook::theme::Theme::default(),
            raw: Box::new(raw.clone()),
            job_control: false,
        };
        let (ended, ()) = tokio::join!(run::drive(&mut screen, s, inputs), steer);
        ended
    };
    assert_eq!(ended.reason, "SIGINT");
    let r = journal::read(&path).unwrap();
    let c = r
        .record
        .confirmation("failover.end")
        .expect("confirmed through the keys");
    assert_eq!(
        c.confirmed,
        journal::session_instant(tz, "2023-11-25 11:02:00").unwrap()
    );
    // The frame shows the backup site as the current phase after the confirmation.
    let screen_text: String = terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .map(ratatui::buffer::Cell::symbol)
        .collect();
    assert!(screen_text.contains("Backup site"), "{screen_text}");
}

/// The walk's most harmful finding: at 10:00 the list is rebuilt (the primary site's open steps
/// carried above the failover's) and the selection must stay on the step the operator chose, so
/// the done key pressed after the boundary records that step and no other.
#[tokio::test(start_paused = true)]
async fn the_selection_stays_on_its_step_across_the_10_00_boundary() {
    use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
    use ratatui::backend::TestBackend;
    let p = plan();
    let tz = p.session.tz;
    let start = journal::session_instant(tz, "2023-11-25 09:59:00").unwrap();
    let after = journal::session_instant(tz, "2023-11-25 10:00:01").unwrap();
    let clock = Arc::new(RehearsalClock::new(start, 1.0));
    let dir = tempfile::tempdir().unwrap();
    let s = setup(p.clone(), clock.clone(), &dir, vec![]);
    // `G` then `k` select the last-but-one step of the 09:59 list.
    let before = s.model.list_steps(start);
    let chosen = p.steps[before[before.len() - 2]].id.clone();
    // The boundary moves it: after 10:00 the list starts elsewhere (the failover's own steps
    // under the folded carried group), so a selection reset to the first open step would land
    // on another step.
    let rebuilt = Model::new(p.clone(), s.model.record.clone(), &[], after);
    let first_after = rebuilt.list_steps(after)[0];
    assert_ne!(
        p.steps[first_after].id, chosen,
        "the test needs a re-layout"
    );
    assert!(
        rebuilt
            .covered_steps(after)
            .contains(&p.step_index(&chosen).unwrap()),
        "carried"
    );

    let (keys_tx, keys_rx) = tokio::sync::mpsc::unbounded_channel::<std::io::Result<TermEvent>>();
    let (int_tx, int_rx) = tokio::sync::mpsc::unbounded_channel();
    let inputs = Inputs {
        events: Box::pin(futures_util::stream::unfold(keys_rx, |mut rx| async move {
            rx.recv().await.map(|e| (e, rx))
        })),
        interrupts: Box::pin(futures_util::stream::unfold(int_rx, |mut rx| async move {
            rx.recv().await.map(|i| (i, rx))
        })),
        timer: run::timer::Timer::Tokio,
    };
    let mut terminal = ratatui::Terminal::new(TestBackend::new(80, 24)).unwrap();
    let press = |c: KeyCode| Ok(TermEvent::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    let path = journal_path(&dir);
    let steer = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        keys_tx.send(press(KeyCode::Char('G'))).unwrap();
        keys_tx.send(press(KeyCode::Char('k'))).unwrap();
        // Until the failover is entered (the loop journals it once the clock passes 10:00).
        let mut entered = false;
        for _ in 0..200 {
            let r = journal::read(&path).unwrap();
            if clock.now() >= after && r.record.phases_entered.iter().any(|(p, _)| p == "failover")
            {
                entered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert!(entered, "the failover was not entered by 10:00:01");
        keys_tx.send(press(KeyCode::Char(' '))).unwrap();
        for _ in 0..50 {
            if !journal::read(&path).unwrap().record.steps.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        int_tx.send(Interrupt::Quit("SIGINT".into())).unwrap();
    };
    {
        let mut screen = run::screen::Screen {
            terminal: &mut terminal,
            theme: drillbook::theme::Theme::default(),
            raw: Box::new(Shared::default()),
            job_control: false,
        };
        tokio::join!(run::drive(&mut screen, s, inputs), steer);
    }
    let r = journal::read(&path).unwrap();
    let done: Vec<&String> = r.record.steps.keys().collect();
    assert_eq!(
        done,
        vec![&chosen],
        "Space recorded the step selected before 10:00"
    );
}

/// The loop on a TestBackend, from `start` until the session clock reaches `until`, with the
/// rundown's log-off choice journaled first (as `--choose failover-connection=log-off` does);
/// the screen of the last frame, one string per row.
async fn screen_until(plan: Plan, start: &str, until: &str) -> Vec<String> {
    use ratatui::backend::TestBackend;
    let tz = plan.session.tz;
    let start = journal::session_instant(tz, start).unwrap();
    let until = journal::session_instant(tz, until).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(RehearsalClock::new(start, 1.0));
    {
        let (mut j, _) =
            Journal::open(&journal_path(&dir), Meta::for_plan(&plan, Some("tester"))).unwrap();
        let choice = plan.session.choice("failover-connection").unwrap();
        let settler = drillbook::setup::settler(&plan, &choice.id).unwrap();
        j.append(
            journal::Action::Evidence {
                step: settler.id.clone(),
                field: choice.field(),
                value: "log-off".into(),
            },
            clock.as_ref(),
        )
        .unwrap();
    }
    let s = setup(plan, clock.clone(), &dir, vec![]);
    let (_keys_tx, keys_rx) =
        tokio::sync::mpsc::unbounded_channel::<std::io::Result<crossterm::event::Event>>();
    let (int_tx, int_rx) = tokio::sync::mpsc::unbounded_channel();
    let inputs = Inputs {
        events: Box::pin(futures_util::stream::unfold(keys_rx, |mut rx| async move {
            rx.recv().await.map(|e| (e, rx))
        })),
        interrupts: Box::pin(futures_util::stream::unfold(int_rx, |mut rx| async move {
            rx.recv().await.map(|i| (i, rx))
        })),
        timer: run::timer::Timer::Tokio,
    };
    let mut terminal = ratatui::Terminal::new(TestBackend::new(80, 24)).unwrap();
    let steer = async {
        for _ in 0..2000 {
            if clock.now() >= until {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert!(clock.now() >= until, "the clock did not reach {until}");
        // A tick past it, so the frame drawn is of that instant.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        int_tx.send(Interrupt::Quit("SIGINT".into())).unwrap();
    };
    {
        let mut screen = run::screen::Screen {
            terminal: &mut terminal,
            theme: drillbook::theme::Theme::default(),
            raw: Box::new(Shared::default()),
            job_control: false,
        };
        tokio::join!(run::drive(&mut screen, s, inputs), steer);
    }
    let buf = terminal.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

/// Walk 3 R10 and R18, on the loop `drillbook run` uses: three roles, the rundown's log-off
/// chosen, nothing of the primary site done, the clock run across 10:00. At 10:02 the banner
/// says "Now: the steps of Failover…" and those steps are on screen, the critical 10:05 log-off
/// first among them, the primary site's open steps folded to one heading above; the header
/// names the log-off due at 10:05 (with its role) before the older overdue 09:55 snapshot.
/// Once past 10:05 it leads with the log-off overdue.
#[tokio::test(start_paused = true)]
async fn at_10_02_the_failovers_steps_and_its_next_due_critical_step_are_on_screen() {
    let plan = load_bundled(&["ep".into(), "hsn".into(), "omd".into()]).unwrap();
    let rows = screen_until(plan.clone(), "2023-11-25 09:59:50", "2023-11-25 10:02:00").await;
    let text = rows.join("\n");
    let joined = rows
        .iter()
        .map(|r| r.trim_end())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        rows[2].starts_with(" Next due 10:05 HKT (in ")
            && rows[2].contains(") ! ep Log off the OCG-C sessions"),
        "{text}"
    );
    assert!(
        joined.contains("Now: the steps of Failover to the backup site."),
        "{text}"
    );
    let heading = rows
        .iter()
        .position(|r| r.starts_with(" ─ Failover to the backup site · "))
        .unwrap_or_else(|| panic!("the failover's heading on screen:\n{text}"));
    assert!(
        rows[heading + 1].contains(" 10:05 ")
            && rows[heading + 1].contains("! ep  Log off the OCG-C"),
        "{text}"
    );
    assert!(
        rows.iter()
            .any(|r| r.starts_with(" ─ carried from Primary site · ") && r.contains("z shows them")),
        "{text}"
    );
    // The older overdue steps are counted on the rule and the folded headings.
    assert!(
        rows[7].contains(" carried · ") && rows[7].contains(" OVERDUE "),
        "{text}"
    );

    let rows = screen_until(plan, "2023-11-25 10:05:30", "2023-11-25 10:06:00").await;
    let text = rows.join("\n");
    assert!(
        rows[2].starts_with(" OVERDUE 10:05 HKT (")
            && rows[2].contains("! ep Log off the OCG-C sessions"),
        "{text}"
    );
}

/// Counts the frames the loop draws.
#[derive(Default)]
struct Frames(usize);
impl run::Frontend for Frames {
    fn frame(&mut self, _: &Model, _: chrono::DateTime<chrono::Utc>) -> std::io::Result<()> {
        self.0 += 1;
        Ok(())
    }
    fn shows_seconds(&self) -> bool {
        true
    }
    fn happened(&mut self, _: &Model, _: chrono::DateTime<chrono::Utc>, _: run::Happened<'_>) {}
    fn terminal_bytes(&mut self, _: &[u8]) -> Result<(), drillbook::notify::SendError> {
        Ok(())
    }
}

/// Break finding 5, the loop's part: a paste typed as keys (a terminal without bracketed paste)
/// arrives faster than anyone types. The keys are taken as they come and drawn together, not a
/// frame per character (which made the Enter behind 6 000 of them wait seconds), and the Enter
/// records the note.
#[tokio::test(start_paused = true)]
async fn keys_faster_than_typing_are_drawn_together_and_the_enter_behind_them_records() {
    use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
    let p = plan();
    let tz = p.session.tz;
    let clock = Arc::new(ManualClock::new(
        journal::session_instant(tz, "2023-11-25 10:30:00").unwrap(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let s = setup(p, clock, &dir, vec![]);
    let press = |c: KeyCode| Ok(TermEvent::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    let mut keys = vec![press(KeyCode::Char('n'))];
    keys.extend((0..3000).map(|_| press(KeyCode::Char('x'))));
    keys.push(press(KeyCode::Enter));
    // The stream ends after the keys: the loop then quits as for a closed terminal.
    let inputs = Inputs {
        events: Box::pin(futures_util::stream::iter(keys)),
        interrupts: Box::pin(futures_util::stream::pending()),
        timer: run::timer::Timer::Tokio,
    };
    let mut frames = Frames::default();
    let ended = run::drive(&mut frames, s, inputs).await;
    assert_eq!(ended.reason, "terminal closed");
    let r = journal::read(&journal_path(&dir)).unwrap();
    assert_eq!(r.record.notes.len(), 1, "the Enter recorded the note");
    assert_eq!(r.record.notes[0].text, "x".repeat(3000));
    assert!(frames.0 < 20, "{} frames for 3 002 keys", frames.0);
}

/// walk 2 N1: a watcher follows the host's clock only if the host journals its changes. The
/// clock keys `-`, `p`, `p`, `>` on the real loop each journal one `rehearsal_clock` event (no
/// more: the loop's own look at the clock must not journal it again), stamped with the clock
/// after the change, and `run::watch_clock` over that journal gives the host's speed and pause.
#[tokio::test(start_paused = true)]
async fn clock_keys_journal_each_change_once_and_a_watchers_clock_follows_them() {
    use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
    use drillbook::journal::{Action, ClockChange};
    use ratatui::backend::TestBackend;
    let p = plan();
    let tz = p.session.tz;
    let start = journal::session_instant(tz, "2023-11-25 09:55:00").unwrap();
    let clock = Arc::new(RehearsalClock::new(start, 60.0));
    let dir = tempfile::tempdir().unwrap();
    let mut s = setup(p.clone(), clock.clone(), &dir, vec![]);
    s.model.auto_confirm = false;
    let (keys_tx, keys_rx) = tokio::sync::mpsc::unbounded_channel::<std::io::Result<TermEvent>>();
    let (int_tx, int_rx) = tokio::sync::mpsc::unbounded_channel();
    let inputs = Inputs {
        events: Box::pin(futures_util::stream::unfold(keys_rx, |mut rx| async move {
            rx.recv().await.map(|e| (e, rx))
        })),
        interrupts: Box::pin(futures_util::stream::unfold(int_rx, |mut rx| async move {
            rx.recv().await.map(|i| (i, rx))
        })),
        timer: run::timer::Timer::Tokio,
    };
    let mut terminal = ratatui::Terminal::new(TestBackend::new(80, 24)).unwrap();
    let press = |c: char| {
        Ok(TermEvent::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )))
    };
    let path = journal_path(&dir);
    let clock_events = || -> Vec<(ClockChange, f64, bool, bool)> {
        journal::read(&path)
            .unwrap()
            .events
            .iter()
            .filter_map(|e| match e.action {
                Action::RehearsalClock {
                    change,
                    speed,
                    paused,
                    from,
                } => {
                    assert!((e.rehearsal.unwrap().speed - speed).abs() < f64::EPSILON);
                    Some((change, speed, paused, from.is_some()))
                }
                _ => None,
            })
            .collect()
    };
    let screen = |t: &ratatui::Terminal<TestBackend>| -> String {
        t.backend()
            .buffer()
            .content()
            .iter()
            .map(ratatui::buffer::Cell::symbol)
            .collect()
    };
    let wait_for = |n: usize| {
        let clock_events = &clock_events;
        async move {
            for _ in 0..50 {
                if clock_events().len() >= n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("{n} clock events expected: {:?}", clock_events());
        }
    };
    let steer = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        keys_tx.send(press('-')).unwrap();
        wait_for(1).await;
        keys_tx.send(press('p')).unwrap();
        wait_for(2).await;
        // Held: a watcher now reads the host paused at the pause's instant, whenever it looks.
        let events = journal::read(&path).unwrap().events;
        let later = drillbook::clock::wall_now() + chrono::TimeDelta::minutes(5);
        let f = run::watch_clock(&[&events], later, run::session_end(&p)).unwrap();
        assert!(f.paused, "{f:?}");
        assert!((f.speed - 30.0).abs() < f64::EPSILON, "{f:?}");
        let paused_at = clock.now();
        assert_eq!(f.at, paused_at);
        tokio::time::sleep(Duration::from_secs(2)).await;
        keys_tx.send(press('p')).unwrap();
        wait_for(3).await;
        let jumped_from = clock.now();
        keys_tx.send(press('>')).unwrap();
        wait_for(4).await;
        // Time for the loop to look at the clock again: it must not journal anything more.
        tokio::time::sleep(Duration::from_millis(500)).await;
        int_tx.send(Interrupt::Quit("SIGINT".into())).unwrap();
        (paused_at, jumped_from)
    };
    let (ended, (paused_at, jumped_from)) = {
        let mut scr = run::screen::Screen {
            terminal: &mut terminal,
            theme: drillbook::theme::Theme::default(),
            raw: Box::new(Shared::default()),
            job_control: false,
        };
        tokio::join!(run::drive(&mut scr, s, inputs), steer)
    };
    assert_eq!(ended.reason, "SIGINT");
    assert_eq!(
        clock_events(),
        vec![
            (ClockChange::Speed, 30.0, false, false),
            (ClockChange::Pause, 30.0, true, false),
            (ClockChange::Resume, 30.0, false, false),
            (ClockChange::Jump, 30.0, false, true),
        ],
        "one event per change"
    );
    let events = journal::read(&path).unwrap().events;
    let jump = events
        .iter()
        .find(|e| {
            matches!(
                e.action,
                Action::RehearsalClock {
                    change: ClockChange::Jump,
                    ..
                }
            )
        })
        .unwrap();
    let Action::RehearsalClock { from, .. } = jump.action else {
        unreachable!()
    };
    assert!(from.unwrap() >= jumped_from && from.unwrap() > paused_at);
    assert_eq!(
        jump.session_time(),
        journal::session_instant(tz, "2023-11-25 09:59:00").unwrap(),
        "a minute before 10:00"
    );
    assert!(
        screen(&terminal).contains("REHEARSAL x30"),
        "{}",
        screen(&terminal)
    );
}
