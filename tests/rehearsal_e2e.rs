//! A rehearsal in a real terminal: the real binary in tmux on the rehearsal clock. Pause stops the
//! clock, `>` jumps to just before the next boundary, resuming lets the approximate boundary come
//! due, `c` confirms it, and the screen and the rehearsal journal follow.

#[path = "support/tmux.rs"]
mod tmux;

use std::time::{Duration, Instant};
use tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_drillbook");

/// The session clock on screen (`10:30:07 HKT`), from the header.
fn hkt_clock(screen: &str) -> Option<String> {
    screen
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .find_map(|w| {
            (w[1] == "HKT" && w[0].len() == 8 && w[0].as_bytes()[2] == b':')
                .then(|| w[0].to_owned())
        })
}

#[test]
fn pause_jump_and_confirm_in_a_rehearsal() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("rehearsal.jsonl");
    let cmd = format!(
        "env NO_COLOR= TZ=UTC {BIN} run --role ep --rehearse --speed 60 --start-at 10:30 \
         --journal {} --notify off --operator e2e; echo EXITED $?; sleep 60",
        j.display()
    );
    let t = Tmux::start("rehearse", &cmd);
    let s = t.wait_for("the REHEARSAL marker", |s| s.contains("REHEARSAL x60"));
    assert!(
        s.contains("Failover"),
        "starts in the failover window:\n{s}"
    );

    // Pause: the marker says so and the virtual clock stands still.
    t.keys(&["p"]);
    let s = t.wait_for("PAUSED", |s| s.contains("PAUSED"));
    let frozen = hkt_clock(&s).expect("a session clock on screen");
    // Watched for two real seconds (two session minutes at 60x), it must not move.
    let since = Instant::now();
    while since.elapsed() < Duration::from_secs(2) {
        let now = hkt_clock(&t.screen());
        assert_eq!(
            now.as_deref(),
            Some(frozen.as_str()),
            "a paused clock moved"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Jump: to just before the approximate end of the failover (~11:00), still paused.
    t.keys(&[">"]);
    t.wait_for("the clock at 10:59", |s| {
        hkt_clock(s).as_deref() == Some("10:59:00")
    });

    // Resume: the planned time passes and the boundary awaits confirmation.
    t.keys(&["p"]);
    let s = t.wait_for("the boundary awaiting confirmation", |s| {
        !s.contains("PAUSED") && s.to_lowercase().contains("awaiting")
    });
    assert!(s.contains("REHEARSAL"), "{s}");

    // Confirm with c, Enter: the screen moves to the backup site.
    t.keys(&["c"]);
    t.wait_for("the confirm prompt", |s| s.contains("Confirm"));
    t.keys(&["Enter"]);
    t.wait_for("the backup site phase", |s| {
        s.contains("recorded") && s.contains("Backup site")
    });

    let events: Vec<serde_json::Value> = std::fs::read_to_string(&j)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let confirmed = events
        .iter()
        .find(|e| e["kind"] == "boundary_confirmed")
        .expect("a boundary_confirmed event");
    assert_eq!(confirmed["boundary"], "failover.end");
    assert!(
        events.iter().all(|e| e["rehearsal"]["speed"].is_number()),
        "every event in a rehearsal journal is marked as rehearsal"
    );
    // At x60 the clock runs on while the prompt is answered: a slow machine adds virtual minutes.
    let virt = confirmed["rehearsal"]["virtual_utc"].as_str().unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(virt).expect(virt);
    let eleven = chrono::DateTime::parse_from_rfc3339("2023-11-25T03:00:00Z").unwrap();
    assert!(
        at >= eleven && at < eleven + chrono::TimeDelta::minutes(30),
        "virtual time after 11:00 HKT, within the half hour: {virt}"
    );

    t.keys(&["q"]);
    let s = t.wait_for("exit and the rehearsal report", |s| s.contains("EXITED"));
    assert!(s.contains("EXITED 0"), "{s}");
}

#[test]
fn watch_follows_a_rehearsal_on_its_virtual_clock_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("rehearsal.jsonl");
    let run = format!(
        "env NO_COLOR= TZ=UTC {BIN} run --role ep --rehearse --speed 60 --start-at 10:30 \
         --journal {} --notify off --operator e2e",
        j.display()
    );
    let writer = Tmux::start("rehearse-w", &run);
    writer.wait_for("the rehearsal", |s| s.contains("REHEARSAL x60"));
    let watch = format!(
        "env NO_COLOR= TZ=UTC {BIN} watch {}; echo EXITED $?; sleep 60",
        j.display()
    );
    let watcher = Tmux::start("rehearse-r", &watch);
    let s = watcher.wait_for("the watcher on the rehearsal clock", |s| {
        s.contains("WATCHING") && s.contains("REHEARSAL x60")
    });
    // The session clock of the rehearsal (10:3x HKT on the day), not today's.
    let clock = hkt_clock(&s).expect("a session clock");
    assert!(clock.starts_with("10:3"), "{clock}\n{s}");
    // The watcher cannot steer the rehearsal.
    watcher.keys(&["p"]);
    watcher.wait_for("the refusal", |s| s.contains("steered where it runs"));
    assert!(!writer.screen().contains("PAUSED"));
    watcher.keys(&["q"]);
    watcher.wait_for("exit", |s| s.contains("EXITED 0"));
    writer.keys(&["q"]);
}
