//! The terminal channel writing into a real pty: the bytes the terminal receives, plain and
//! wrapped for tmux and screen, and no control character from runbook text among them.

use chrono::Utc;
use drillbook::alerts::Alert;
use drillbook::notify::{Notifier, SharedWriter, Terminal, Wrap};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A raw pty pair: (master to read what the terminal receives, slave to write as the app does).
fn pty() -> (File, File) {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty fills two descriptors we then own; cfmakeraw/tcsetattr act on our slave.
    unsafe {
        assert_eq!(
            libc::openpty(
                &raw mut master,
                &raw mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null()
            ),
            0
        );
        let mut t: libc::termios = std::mem::zeroed();
        libc::tcgetattr(slave, &raw mut t);
        libc::cfmakeraw(&raw mut t);
        libc::tcsetattr(slave, libc::TCSANOW, &raw const t);
        let flags = libc::fcntl(master, libc::F_GETFL);
        libc::fcntl(master, libc::F_SETFL, flags | libc::O_NONBLOCK);
        (File::from_raw_fd(master), File::from_raw_fd(slave))
    }
}

/// Send `alert` through a terminal channel writing to a pty; what arrives at the other end.
fn through_pty(alert: &Alert, wrap: Wrap) -> Vec<u8> {
    let (mut master, slave) = pty();
    let w: SharedWriter = Arc::new(Mutex::new(Box::new(slave) as Box<dyn Write + Send>));
    let term = Terminal::new(w, wrap);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(term.send(alert)).unwrap();
    let expected = drillbook::notify::terminal::sequences(alert, wrap).len();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 4096];
    while got.len() < expected && Instant::now() < deadline {
        match master.read(&mut buf) {
            Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    got
}

fn alert(title: &str, body: &str) -> Alert {
    Alert {
        key: "failover.end@-5m".into(),
        title: title.into(),
        body: body.into(),
        due: Utc::now(),
    }
}

#[test]
fn plain_tmux_and_screen_sequences_reach_the_terminal() {
    let a = alert("In 5 min: Failover ends", "At 11:00 HKT.");
    let plain = through_pty(&a, Wrap::None);
    assert_eq!(
        String::from_utf8(plain).unwrap(),
        "\x1b]777;notify;In 5 min: Failover ends;At 11:00 HKT.\x07\
         \x1b]9;In 5 min: Failover ends: At 11:00 HKT.\x07\
         \x1b]99;i=failover.end_-5m:d=0;In 5 min: Failover ends\x07\
         \x1b]99;i=failover.end_-5m:d=1:p=body;At 11:00 HKT.\x07\
         \x1b]2;drillbook: In 5 min: Failover ends\x07\x07"
    );
    let tmux = String::from_utf8(through_pty(&a, Wrap::Tmux)).unwrap();
    assert_eq!(
        tmux,
        "\x1bPtmux;\x1b\x1b]777;notify;In 5 min: Failover ends;At 11:00 HKT.\x07\x1b\\\
         \x1bPtmux;\x1b\x1b]9;In 5 min: Failover ends: At 11:00 HKT.\x07\x1b\\\
         \x1bPtmux;\x1b\x1b]99;i=failover.end_-5m:d=0;In 5 min: Failover ends\x07\x1b\\\
         \x1bPtmux;\x1b\x1b]99;i=failover.end_-5m:d=1:p=body;At 11:00 HKT.\x07\x1b\\\
         \x1b]2;drillbook: In 5 min: Failover ends\x07\x07",
        "notifications in tmux passthrough (ESC doubled); title and bell to tmux itself"
    );
    let screen = String::from_utf8(through_pty(&a, Wrap::Screen)).unwrap();
    assert_eq!(
        screen,
        "\x1bP\x1b]777;notify;In 5 min: Failover ends;At 11:00 HKT.\x07\x1b\\\
         \x1bP\x1b]9;In 5 min: Failover ends: At 11:00 HKT.\x07\x1b\\\
         \x1bP\x1b]99;i=failover.end_-5m:d=0;In 5 min: Failover ends\x07\x1b\\\
         \x1bP\x1b]99;i=failover.end_-5m:d=1:p=body;At 11:00 HKT.\x07\x1b\\\
         \x1b]2;drillbook: In 5 min: Failover ends\x07\x07"
    );
}

/// Every escape and control byte in `out` must be one the channel itself put there: split at
/// each sequence terminator, each piece is exactly one introducer followed by printable text.
#[allow(clippy::comparison_chain)] // three plain cases read better as if/else
fn assert_only_structural_controls(out: &[u8], wrap: Wrap) {
    let s = String::from_utf8(out.to_vec()).unwrap();
    let (open, close) = match wrap {
        Wrap::None => ("", ""),
        Wrap::Tmux => ("\x1bPtmux;\x1b", "\x1b\\"),
        Wrap::Screen => ("\x1bP", "\x1b\\"),
    };
    let mut rest = s.as_str();
    let mut pieces = 0;
    while !rest.is_empty() {
        // Each notification sequence (wrapped) or the title, up to its BEL.
        let intro_wrapped = format!("{open}\x1b]");
        let (body, after) = if pieces < 4 {
            let r = rest
                .strip_prefix(intro_wrapped.as_str())
                .unwrap_or_else(|| panic!("piece {pieces} does not open as expected: {rest:?}"));
            let end = r.find('\x07').unwrap();
            let after = r[end + 1..].strip_prefix(close).unwrap();
            (&r[..end], after)
        } else if pieces == 4 {
            let r = rest.strip_prefix("\x1b]2;").unwrap();
            let end = r.find('\x07').unwrap();
            (&r[..end], &r[end + 1..])
        } else {
            assert_eq!(rest, "\x07", "only the bell after the title");
            break;
        };
        assert!(
            !body
                .chars()
                .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
            "control character inside a payload: {body:?}"
        );
        pieces += 1;
        rest = after;
    }
    assert_eq!(pieces, 5, "{s:?}");
}

#[test]
fn control_characters_in_runbook_text_never_reach_the_terminal() {
    let evil = alert(
        "Log in\x1b]0;pwned\x07\x1b[2J\x1b\\ now\u{9b}31m\u{202e}",
        "Body;with;separators\r\n\x1bP+q\x1b\\\x07\u{90}end\t\x7f",
    );
    for wrap in [Wrap::None, Wrap::Tmux, Wrap::Screen] {
        let out = through_pty(&evil, wrap);
        assert_only_structural_controls(&out, wrap);
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("Log in]0pwned[2J\\ now31m"), "{s:?}");
        assert!(s.contains("Bodywithseparators P+q\\end "), "{s:?}");
    }
}
