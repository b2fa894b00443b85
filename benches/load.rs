//! Loading and validating runbooks, timed: a generated 2,000-step runbook over the bundled
//! session's phases (twenty times a real role's runbook), and the bundled set. Prints
//! `name: value unit` lines (medians). The goal for the 2,000-step runbook is under 50 ms on one
//! core in a release build.
//!
//! `cargo bench --bench load` (`LOAD_BENCH_ITERS` sets the number of runs, default 15). Wall and
//! CPU time are both printed; the load is single-threaded, so they agree on an idle machine.

use std::fmt::Write;
use std::time::{Duration, Instant};

/// Phases of the bundled session, and how many of the 2,000 steps go in each.
const PHASES: &[(&str, usize)] = &[
    ("pre-session", 400),
    ("primary", 500),
    ("failover", 200),
    ("backup", 500),
    ("clean-up", 200),
    ("reporting", 200),
];

const STEPS: usize = 2_000;

/// A runbook like the bundled ones, every optional field used on some steps.
fn generate() -> String {
    let mut y = String::from(
        "format: 1\nid: generated\nrole: ep\ntitle: Generated runbook of 2,000 steps\nsession: session.yaml\nphases:\n",
    );
    let mut n = 0;
    for (phase, count) in PHASES {
        let _ = writeln!(y, "  {phase}:");
        for _ in 0..*count {
            n += 1;
            let _ = write!(
                y,
                "    - id: step-{n:05}\n      title: Step {n} of the generated runbook, checking one thing\n      detail: >-\n        Our practice: check the thing, record what was seen, and call the desk if it is not\n        as expected. Line two of the detail text, as long as the bundled ones.\n      basis: practice\n      system: OTP-C\n"
            );
            if n % 3 == 0 {
                let _ = writeln!(y, "      critical: true");
            }
            if n % 4 == 0 && *phase != "pre-session" {
                let _ = writeln!(y, "      due: \"{:02}:{:02}\"", 8 + n % 4, n % 60);
            }
            if n % 2 == 0 {
                y.push_str(
                    "      evidence:\n        - logon time\n        - last sequence number\n",
                );
            }
            if n % 5 == 0 {
                y.push_str("      expect:\n        - disconnects during the failover\n");
            }
            if n % 7 == 0 {
                let _ = writeln!(y, "      command: ocg-status --session TRD{n:05}");
            }
            if n % 11 == 0 {
                y.push_str("      not_applicable: CCEPs log in only\n");
            }
        }
    }
    assert_eq!(n, STEPS);
    y
}

/// CPU time of this process, every thread: on a shared machine, wall time also counts waiting
/// for a core.
fn cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes only into `ts`, which outlives the call.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &raw mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Times `f` `iters` times: (median wall ms, median CPU ms).
fn time<T>(iters: usize, mut f: impl FnMut() -> T) -> (f64, f64) {
    let (mut wall, mut cpu) = (Vec::with_capacity(iters), Vec::with_capacity(iters));
    for _ in 0..iters {
        let (t, c) = (Instant::now(), cpu_now());
        std::hint::black_box(f());
        cpu.push(cpu_now().saturating_sub(c));
        wall.push(t.elapsed());
    }
    (median(wall), median(cpu))
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn main() {
    let iters: usize = std::env::var("LOAD_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15)
        .max(1);
    let dir = tempfile::tempdir().expect("temp dir");
    drillbook::runbook::export_bundled(dir.path()).expect("export the bundled session");
    let folder = dir.path().join(drillbook::runbook::BUNDLED_SESSION);
    let big = folder.join("generated.yaml");
    let text = generate();
    std::fs::write(&big, &text).expect("write the generated runbook");
    println!("generated_runbook_size: {} KiB", text.len() / 1024);

    let paths = [big];
    let plan = drillbook::runbook::load_paths(&paths).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.steps.len(), STEPS);
    let (wall, cpu) = time(iters, || drillbook::runbook::load_paths(&paths).is_ok());
    println!("load_validate_2k_steps: {wall:.1} ms");
    println!("load_validate_2k_steps_cpu: {cpu:.1} ms");

    // serde_yaml reading the same text into nothing: how much of the load is the YAML parse.
    let (wall, cpu) = time(iters, || {
        serde_yaml::from_str::<serde::de::IgnoredAny>(&text).is_ok()
    });
    println!("yaml_parse_only_2k_steps: {wall:.1} ms");
    println!("yaml_parse_only_2k_steps_cpu: {cpu:.1} ms");

    let roles = drillbook::runbook::bundled_roles();
    assert!(drillbook::runbook::load_bundled(&roles).is_ok());
    let (wall, cpu) = time(iters, || drillbook::runbook::load_bundled(&roles).is_ok());
    println!("load_validate_bundled: {wall:.2} ms");
    println!("load_validate_bundled_cpu: {cpu:.2} ms");
    // Context for the figures: other work on the machine inflates wall time.
    if let Ok(l) = std::fs::read_to_string("/proc/loadavg") {
        println!("loadavg_1m: {}", l.split_whitespace().next().unwrap_or("?"));
    }
}
