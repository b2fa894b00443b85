//! Journal benchmarks (harness = false): append+fsync latency over 2,000 appends in a temp dir
//! on the file system of $TMPDIR, and the replay (read, parse, fold) of a generated
//! 100,000-event journal. Prints `name: value unit` lines:
//!
//! journal_append_fsync_p50: V us
//! journal_append_fsync_p99: V us
//! journal_replay_100k: V ms
//! journal_replay_100k_cpu: V ms   (the replaying thread's CPU time, for a loaded machine)
//!
//! BENCH_APPENDS and BENCH_EVENTS change the counts.

use chrono::{TimeDelta, TimeZone, Utc};
use drillbook::clock::SystemClock;
use drillbook::journal::{self, Action, Event, Journal, Meta, StepState};
use std::io::Write;
use std::time::Instant;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn meta() -> Meta {
    Meta {
        operator: "bench".into(),
        host: "host".into(),
        session: "hkex-ps2-2023-11-25".into(),
        runbooks: vec!["ep".into(), "hsn".into()],
        roles: vec!["ep".into(), "hsn".into()],
        sha256: "0".repeat(64),
        tz: chrono_tz::Asia::Hong_Kong,
    }
}

/// A mix like a real session's: mostly step changes and evidence, some notes and notifications.
fn action(i: usize) -> Action {
    let step = format!("ep-step-{}", i % 60);
    match i % 10 {
        0..=3 => Action::Step {
            step,
            state: if i.is_multiple_of(7) {
                StepState::Failed
            } else {
                StepState::Done
            },
            note: (i.is_multiple_of(7)).then(|| "rejected at logon, retried".into()),
        },
        4..=6 => Action::Evidence {
            step,
            field: "logon time".into(),
            value: format!("08:{:02}:{:02}", i / 60 % 60, i % 60),
        },
        7 => Action::Note {
            step: Some(step),
            text: "Vendor confirmed the drop copy session is back; sequence numbers match".into(),
            issue: false,
        },
        8 => Action::Notification {
            key: format!("k{i}"),
            channel: "desktop".into(),
            ok: true,
            title: "Failover ends in 15 min".into(),
            body: "~11:00 HKT".into(),
            error: None,
        },
        _ => Action::PhaseEntered {
            phase: "primary".into(),
        },
    }
}

/// This thread's CPU time in seconds.
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let appends = env("BENCH_APPENDS", 2000);
    let events = env("BENCH_EVENTS", 100_000);
    let dir = tempfile::tempdir().expect("a temp dir");

    let path = dir.path().join("append.jsonl");
    let (mut writer, _) = Journal::open(&path, meta()).expect("open");
    let clock = SystemClock;
    let mut us = Vec::with_capacity(appends);
    for i in 0..appends {
        let a = action(i);
        let t = Instant::now();
        writer.append(a, &clock).expect("append");
        us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    drop(writer);
    us.sort_by(f64::total_cmp);
    println!("journal_append_fsync_p50: {:.0} us", percentile(&us, 0.50));
    println!("journal_append_fsync_p99: {:.0} us", percentile(&us, 0.99));

    // Journals written directly (no fsync per line): the format is the same. 10,000 events are
    // far beyond a real day (a few hundred); 100,000 show how replay scales.
    for (n, name) in [(events / 10, "10k"), (events, "100k")] {
        let big = dir.path().join(format!("big-{name}.jsonl"));
        write_journal(&big, n);
        let (best, best_cpu) = replay_best_of_five(&big, n);
        println!("journal_replay_{name}: {best:.1} ms");
        println!("journal_replay_{name}_cpu: {best_cpu:.1} ms");
    }
}

fn write_journal(path: &std::path::Path, events: usize) {
    let start = Utc.with_ymd_and_hms(2023, 11, 25, 0, 0, 0).unwrap();
    let m = meta();
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    for i in 0..events {
        let at = start + TimeDelta::milliseconds(i as i64 * 150);
        let e = Event {
            v: journal::FORMAT,
            seq: i as u64 + 1,
            utc: at,
            local: drillbook::zones::rfc3339_in(at, m.tz),
            operator: m.operator.clone(),
            host: m.host.clone(),
            session: m.session.clone(),
            runbooks: m.runbooks.clone(),
            sha256: m.sha256.clone(),
            rehearsal: None,
            action: action(i),
        };
        serde_json::to_writer(&mut w, &e).expect("write");
        w.write_all(b"\n").expect("write");
    }
    w.flush().expect("flush");
}

/// Best of five: the first run also pays for the page cache, and on a shared machine the best
/// run is the one least disturbed. The thread's CPU time is given beside the wall time because
/// it is what other processes' load does not inflate.
fn replay_best_of_five(path: &std::path::Path, events: usize) -> (f64, f64) {
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    for _ in 0..5 {
        let (wall0, cpu0) = (Instant::now(), thread_cpu());
        let r = journal::read(path).expect("replays");
        let ms = wall0.elapsed().as_secs_f64() * 1e3;
        let cpu = (thread_cpu() - cpu0) * 1e3;
        assert_eq!(r.events.len(), events);
        best = best.min(ms);
        best_cpu = best_cpu.min(cpu);
    }
    (best, best_cpu)
}
