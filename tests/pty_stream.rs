//! One writer to the terminal: the app runs in a real pty through a burst of notifications (a
//! whole rehearsed day at 3600x with the terminal channel on) while it redraws, and the byte
//! stream it wrote is fed through a VT parser (`vte`). Every escape sequence must be whole: no
//! sequence starts inside another, and every notification's OSC arrives intact.

use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_drillbook");

/// A pty pair at 80x24: (master, slave).
fn openpty() -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (0, 0);
    let mut ws = libc::winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors we then own; the name and termios are not wanted.
    let rc = unsafe {
        libc::openpty(
            &raw mut master,
            &raw mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &raw mut ws,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// Tracks whether a sequence is open while bytes go through the parser one at a time.
#[derive(Default)]
struct Checker {
    /// An escape sequence was started and not yet dispatched.
    open: bool,
    /// The open sequence is a string (OSC, DCS): only ST (`ESC \`) or BEL may end it.
    string: bool,
    /// The previous byte was an ESC inside a string: the next must be `\` (ST).
    esc_in_string: bool,
    after_esc: bool,
    broken: Vec<(usize, String)>,
    oscs: Vec<String>,
    csis: usize,
}

impl vte::Perform for Checker {
    fn csi_dispatch(&mut self, _: &vte::Params, _: &[u8], _: bool, _: char) {
        self.open = false;
        self.csis += 1;
    }
    fn esc_dispatch(&mut self, _: &[u8], _: bool, _: u8) {
        self.open = false;
    }
    fn osc_dispatch(&mut self, params: &[&[u8]], _: bool) {
        self.open = false;
        self.string = false;
        let p: Vec<String> = params
            .iter()
            .map(|x| String::from_utf8_lossy(x).into_owned())
            .collect();
        self.oscs.push(p.join(";"));
    }
    fn hook(&mut self, _: &vte::Params, _: &[u8], _: bool, _: char) {}
    fn unhook(&mut self) {
        self.open = false;
        self.string = false;
    }
}

fn check(bytes: &[u8]) -> Checker {
    let mut parser = vte::Parser::new();
    let mut c = Checker::default();
    for (i, &b) in bytes.iter().enumerate() {
        if c.esc_in_string {
            c.esc_in_string = false;
            if b != b'\\' {
                let ctx = String::from_utf8_lossy(
                    &bytes[i.saturating_sub(40)..(i + 20).min(bytes.len())],
                );
                c.broken.push((
                    i,
                    format!("a string sequence cut by ESC {:?}: {ctx:?}", b as char),
                ));
            }
        } else if c.after_esc {
            c.after_esc = false;
            if b == b']' || b == b'P' {
                c.string = true;
            }
        }
        if b == 0x1b {
            if c.open && c.string {
                c.esc_in_string = true;
            } else if c.open {
                let ctx = String::from_utf8_lossy(
                    &bytes[i.saturating_sub(40)..(i + 20).min(bytes.len())],
                );
                c.broken
                    .push((i, format!("ESC inside an unfinished sequence: {ctx:?}")));
            } else {
                c.open = true;
                c.after_esc = true;
            }
        } else if b == 0x9b && !c.open {
            c.open = true;
        }
        parser.advance(&mut c, &[b]);
    }
    c
}

#[test]
fn notification_sequences_and_frames_never_interleave_in_the_pty_stream() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("burst.jsonl");
    let (master, slave) = openpty();
    let slave_fd = slave.as_raw_fd();
    let mut cmd = Command::new(BIN);
    cmd.args([
        "run",
        "--role",
        "ep,hsn,omd",
        "--rehearse",
        "--speed",
        "3600",
        "--notify",
        "terminal",
        "--journal",
    ])
    .arg(&journal)
    .env("TERM", "xterm-256color")
    .env("TZ", "Europe/London")
    .env_remove("TMUX")
    .env_remove("STY")
    .stdin(Stdio::from(slave.try_clone().unwrap()))
    .stdout(Stdio::from(slave.try_clone().unwrap()))
    .stderr(Stdio::from(slave));
    // SAFETY: in the child before exec: a new session whose controlling terminal is the pty.
    unsafe {
        cmd.pre_exec(move || {
            libc::setsid();
            libc::ioctl(slave_fd, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("the binary runs");
    let mut reader = std::fs::File::from(master.try_clone().unwrap());
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut stream = Vec::new();
    let mut writer = std::fs::File::from(master);
    let start = Instant::now();
    // The whole day at 3600x takes about 6 s; then quit.
    let mut quit_sent = false;
    let status = loop {
        while let Ok(chunk) = rx.try_recv() {
            stream.extend_from_slice(&chunk);
        }
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        let ended = String::from_utf8_lossy(&stream).contains("Reporting ends");
        if !quit_sent && (ended && start.elapsed() > Duration::from_secs(9)) {
            use std::io::Write;
            writer.write_all(b"q").unwrap();
            quit_sent = true;
        }
        if start.elapsed() > Duration::from_secs(40) {
            let _ = child.kill();
            panic!(
                "the app did not end: {}",
                String::from_utf8_lossy(&stream).len()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(200));
    while let Ok(chunk) = rx.try_recv() {
        stream.extend_from_slice(&chunk);
    }
    assert!(status.success(), "exit {status:?}");

    let c = check(&stream);
    assert!(
        c.broken.is_empty(),
        "{} broken sequences, first: {:?}",
        c.broken.len(),
        c.broken.first()
    );
    // Every notification the journal says went out on the terminal channel is in the stream
    // whole: its OSC 777 with the title and body, once.
    let body = std::fs::read_to_string(&journal).unwrap();
    let sent: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &serde_json::Value| e["kind"] == "notification" && e["channel"] == "terminal")
        .collect();
    assert!(
        sent.len() >= 20,
        "a burst: {} terminal notifications",
        sent.len()
    );
    assert!(
        sent.iter().all(|e| e["ok"] == true),
        "every write succeeded"
    );
    let osc777: Vec<&String> = c
        .oscs
        .iter()
        .filter(|o| o.starts_with("777;notify;"))
        .collect();
    assert_eq!(
        osc777.len(),
        sent.len(),
        "one whole OSC 777 per notification"
    );
    for e in &sent {
        let title = e["title"].as_str().unwrap();
        assert!(
            osc777
                .iter()
                .any(|o| o.starts_with(&format!("777;notify;{title}"))),
            "{title} arrived whole"
        );
    }
    assert!(
        c.csis > 200,
        "frames were drawn during the burst ({} CSI)",
        c.csis
    );
}
