//! A private D-Bus session bus for tests: `dbus-daemon` with a config written to a temp dir,
//! killed when dropped.

// Each test file uses part of this helper.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

pub struct Bus {
    pub address: String,
    pid: i32,
    _dir: tempfile::TempDir,
}

/// Whether a program is on PATH.
pub fn have(prog: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {prog}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Bus {
    /// Start a bus; `stalling_daemon`: org.freedesktop.Notifications is activatable, but what the
    /// bus starts never takes the name (a broken or slow daemon), so a Notify call hangs until
    /// it exits (5 s; it outlives the bus by that much at most).
    /// `None` (with the reason printed) when dbus-daemon is not installed.
    pub fn start(stalling_daemon: bool) -> Option<Self> {
        if !have("dbus-daemon") {
            eprintln!("SKIPPED: dbus-daemon is not installed (.ci/run installs it)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let services = dir.path().join("services");
        std::fs::create_dir(&services).unwrap();
        if stalling_daemon {
            std::fs::write(
                services.join("org.freedesktop.Notifications.service"),
                "[D-BUS Service]\nName=org.freedesktop.Notifications\nExec=/bin/sleep 5\n",
            )
            .unwrap();
        }
        let conf = dir.path().join("bus.conf");
        std::fs::write(
            &conf,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}/bus</listen>
  <servicedir>{}</servicedir>
  <limit name="service_start_timeout">30000</limit>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                dir.path().display(),
                services.display()
            ),
        )
        .unwrap();
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", conf.display()))
            .args(["--fork", "--print-address=1", "--print-pid=1"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let address = lines.next().unwrap().unwrap();
        let pid: i32 = lines.next().unwrap().unwrap().trim().parse().unwrap();
        child.wait().unwrap();
        Some(Self {
            address,
            pid,
            _dir: dir,
        })
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the daemon we started, by its pid.
        unsafe {
            libc::kill(self.pid, libc::SIGTERM);
        }
    }
}
