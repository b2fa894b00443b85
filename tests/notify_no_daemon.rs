//! The desktop channel on a bus without a working notification daemon: the send fails within its
//! timeout with a clear message, and the runtime keeps serving other tasks meanwhile.
//!
//! One test per file: it points DBUS_SESSION_BUS_ADDRESS (which notify-rust reads) at its own bus
//! before any thread starts.

#[path = "support/bus.rs"]
mod bus;

use chrono::Utc;
use drillbook::alerts::Alert;
use drillbook::notify::detect::{self, Daemon};
use drillbook::notify::{Desktop, Notifier};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;

fn alert() -> Alert {
    Alert {
        key: "primary.end".into(),
        title: "Primary site ends, Failover to the backup site starts".into(),
        body: "At 10:00 HKT.".into(),
        due: Utc::now(),
    }
}

/// Send through the desktop channel while a task ticks every 10 ms; the send's result (its
/// message, as the status line and journal show it), how long it took, and the longest a tick was
/// late.
fn send_while_ticking(timeout: Duration) -> (Result<(), String>, Duration, Duration, Daemon) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let report =
            detect::Report::detect(detect::Env::from_process(), Duration::from_secs(2)).await;
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = tokio::spawn({
            let stop = Arc::clone(&stop);
            async move {
                let mut worst = Duration::ZERO;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    worst = worst.max(t.elapsed().saturating_sub(Duration::from_millis(10)));
                }
                worst
            }
        });
        // Let the ticker start before the send begins.
        tokio::task::yield_now().await;
        let started = Instant::now();
        let res = Desktop::with_timeout(timeout)
            .send(&alert())
            .await
            .map_err(|e| e.to_string());
        let took = started.elapsed();
        stop.store(true, Ordering::Relaxed);
        let worst = ticker.await.unwrap();
        (res, took, worst, report.daemon)
    })
}

#[test]
fn a_bus_without_a_daemon_fails_fast_and_never_blocks_the_loop() {
    // A bus where the daemon is activatable but never comes up: the call hangs until our timeout.
    let Some(bus) = bus::Bus::start(true) else {
        return;
    };
    // SAFETY: no other thread exists in this process now (one test in this file; the runtime
    // of the previous step, if any, is dropped).
    unsafe { std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address) };
    let (res, took, worst, daemon) = send_while_ticking(Duration::from_secs(1));
    assert_eq!(daemon, Daemon::Activatable);
    let err = res.unwrap_err();
    assert!(
        err.starts_with("desktop: no answer from the session bus within 1 s"),
        "{err}"
    );
    assert!(took >= Duration::from_secs(1), "gave up early: {took:?}");
    assert!(
        took < Duration::from_secs(3),
        "timeout not honoured: {took:?}"
    );
    assert!(
        worst < Duration::from_millis(100),
        "a 10 ms tick was {worst:?} late while the send waited"
    );
    drop(bus);

    // A bus with nothing that could provide the name: refused at once, said plainly.
    let Some(bus) = bus::Bus::start(false) else {
        return;
    };
    // SAFETY: as above; the previous runtime and its threads are gone.
    unsafe { std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address) };
    let (res, _, worst, daemon) = send_while_ticking(Duration::from_secs(3));
    assert_eq!(daemon, Daemon::Missing);
    let err = res.unwrap_err();
    assert!(
        err.contains("no notification daemon on the session bus"),
        "{err}"
    );
    assert!(worst < Duration::from_millis(100), "{worst:?}");
    drop(bus);

    // No bus at all (the SSH case): a clear error, not a hang.
    // SAFETY: as above.
    unsafe {
        std::env::set_var(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/drillbook-bus",
        );
    }
    let (res, took, _, daemon) = send_while_ticking(Duration::from_secs(3));
    assert_eq!(daemon, Daemon::NoBus);
    let err = res.unwrap_err();
    assert!(
        err.starts_with("desktop: no D-Bus session bus to send to"),
        "{err}"
    );
    assert!(took < Duration::from_secs(1), "{took:?}");
}
