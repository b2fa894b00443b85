//! A session bus that never accepts: a real listening Unix socket the test makes and never calls
//! accept() on, with its queue full (a plain connect blocks there forever) or not (the connect
//! succeeds and the bus never speaks). Start-up must not wait on it: `run` shows its screen and
//! `notify-test` answers, each within a bounded poll.

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

#[path = "support/cli.rs"]
mod cli;
#[path = "support/tmux.rs"]
mod tmux;

use cli::{BIN, WAIT};

/// A listener nobody accepts on, with the sockets that fill its queue when `full`.
struct Wedged {
    _listener: UnixListener,
    _queued: Vec<socket2::Socket>,
    address: String,
}

fn wedged_bus(dir: &Path, full: bool) -> Wedged {
    let path = dir.join("bus");
    let listener = UnixListener::bind(&path).unwrap();
    let mut queued = Vec::new();
    if full {
        // The shortest queue, then connect without blocking until the kernel says it is full.
        // SAFETY: listen(2) on a socket this test owns; no memory is involved.
        assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 0) }, 0);
        let addr = socket2::SockAddr::unix(&path).unwrap();
        loop {
            let s =
                socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
            s.set_nonblocking(true).unwrap();
            match s.connect(&addr) {
                Ok(()) => queued.push(s),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("filling the queue: {e}"),
            }
            assert!(queued.len() < 1000, "the queue never filled");
        }
    }
    Wedged {
        _listener: listener,
        _queued: queued,
        address: format!("unix:path={}", path.display()),
    }
}

/// `notify-test` on that bus, waited for by a bounded poll: its stdout.
fn notify_test(bus: &Wedged, journal: &Path, notify: &str) -> String {
    let mut child = Command::new(BIN)
        .args([
            "notify-test",
            "--notify",
            notify,
            "--role",
            "ep",
            "--journal",
        ])
        .arg(journal)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("TZ", "Europe/London")
        .env_remove("TMUX")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > WAIT {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "notify-test still silent after {WAIT:?}; it printed:\n{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn notify_test_answers_on_a_bus_whose_queue_is_full() {
    let dir = tempfile::tempdir().unwrap();
    let bus = wedged_bus(dir.path(), true);
    let out = notify_test(&bus, &dir.path().join("a.jsonl"), "desktop");
    assert!(
        out.contains("nothing answers there") && out.contains("queue of connections is full"),
        "{out}"
    );
    assert!(
        out.contains("desktop: FAILED: desktop: no answer from the session bus within 3 s"),
        "{out}"
    );
    // `auto` does not pick a bus it cannot reach.
    let out = notify_test(&bus, &dir.path().join("b.jsonl"), "auto");
    assert!(
        out.contains("Channels: terminal (chosen by --notify auto)"),
        "{out}"
    );
}

#[test]
fn notify_test_answers_on_a_bus_that_accepts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bus = wedged_bus(dir.path(), false);
    let out = notify_test(&bus, &dir.path().join("a.jsonl"), "desktop");
    assert!(
        out.contains("Notification daemon: unknown: the bus did not answer within 2s"),
        "{out}"
    );
    assert!(
        out.contains("desktop: FAILED: desktop: no answer from the session bus within 3 s"),
        "{out}"
    );
}

/// `run` in a real terminal on that bus: the screen comes up, and q still quits.
fn run_shows_its_screen(test: &str, full: bool, notify: &str) {
    let dir = tempfile::tempdir().unwrap();
    let bus = wedged_bus(dir.path(), full);
    let t = tmux::Tmux::start(
        test,
        &format!(
            "env DBUS_SESSION_BUS_ADDRESS={} NO_COLOR= TZ=Europe/London {BIN} run --role ep --journal {} --notify {notify} --operator e2e; echo EXITED $?; sleep 60",
            bus.address,
            dir.path().join("run.jsonl").display()
        ),
    );
    t.wait_for("the step list", |s| s.contains("▸ [ ]"));
    t.keys(&["q"]);
    let end = t.wait_for("the app to exit", |s| s.contains("EXITED"));
    assert!(end.contains("EXITED 0"), "{end}");
}

#[test]
fn run_shows_its_screen_on_a_bus_whose_queue_is_full() {
    run_shows_its_screen("fullq-auto", true, "auto");
    run_shows_its_screen("fullq-desktop", true, "desktop");
}

#[test]
fn run_shows_its_screen_on_a_bus_that_accepts_nothing() {
    run_shows_its_screen("noaccept", false, "desktop");
}
