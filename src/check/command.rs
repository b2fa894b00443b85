//! `command`: run an argument list without a shell, under the timeout, its output read up to
//! [`OUTPUT_CAP`] bytes per stream (the rest drained and dropped, so a chatty program never
//! blocks on a full pipe). A pass is exit status 0 and, when the check has a pattern, a line of
//! the output matching it; its named groups are the values captured.
//!
//! It runs in a process group of its own; the group is killed at the timeout, once the program
//! has exited (a background child it left would hold the pipes open and outlive drillbook), and
//! when the probe is dropped.
//!
//! Whether it may run at all is decided before this is called (`check::Runner`): only when the
//! runbook marks it `allow: true` and the operator started drillbook with `--allow-commands`,
//! and in a rehearsal only when marked `rehearsal_safe: true`. Everything else drillbook shows
//! as a command is still only shown.

use super::Probed;
use crate::journal::CheckOutcome;
use regex::Regex;
use std::fmt::Write as _;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The most of each output stream kept.
pub const OUTPUT_CAP: usize = 64 * 1024;

/// The process group a command runs in (its id is the program's pid): killed, all of it, at
/// the timeout, once the program has exited, and when the probe is dropped (the app quits, the
/// runner's backstop fires), so nothing a check started outlives it.
struct Group {
    pgid: Option<i32>,
    /// Killed once the program has exited: a kill after that could only meet an empty group.
    done: AtomicBool,
}

impl Group {
    fn new(pid: Option<u32>) -> Self {
        Self {
            pgid: pid.and_then(|p| i32::try_from(p).ok()).filter(|p| *p > 1),
            done: AtomicBool::new(false),
        }
    }

    fn kill(&self) {
        if self.done.swap(true, Ordering::Relaxed) {
            return;
        }
        if let Some(pgid) = self.pgid {
            // The kernel keeps a group's id in use while any member lives, so this reaches
            // only the program's own group.
            // SAFETY: killpg takes plain integers; a failure is only an error code.
            unsafe {
                libc::killpg(pgid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Read a stream to its end, keeping the first `OUTPUT_CAP` bytes.
async fn capped<R: AsyncRead + Unpin>(mut r: R) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut buf = vec![0u8; 8192];
    let mut cut = false;
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => return (kept, cut),
            Ok(n) => {
                let room = OUTPUT_CAP - kept.len();
                if n > room {
                    cut = true;
                }
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
}

/// Run `argv` and wait for it at most `timeout`; a program still running then is killed.
/// Messages name the program as `shown` (as the runbook wrote it: a site value's name, not
/// its value).
pub async fn probe(
    command: &[String],
    shown: &str,
    pattern: Option<&Regex>,
    timeout: Duration,
) -> Probed {
    let Some((path, args)) = command.split_first() else {
        return Probed::new(CheckOutcome::Error, "no program to run".to_owned());
    };
    let program = shown;
    let mut child = match tokio::process::Command::new(path)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        // Its own process group, so that what it starts (`sleep 100 &`) is killed with it.
        .process_group(0)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            return Probed::new(
                CheckOutcome::Error,
                format!("cannot run {program}: {}", crate::files::io_words(&e)),
            );
        }
    };
    let group = Group::new(child.id());
    let out = child.stdout.take();
    let err = child.stderr.take();
    let work = async {
        let ((o, e), status) = tokio::join!(
            async {
                tokio::join!(
                    async {
                        match out {
                            Some(o) => capped(o).await,
                            None => (Vec::new(), false),
                        }
                    },
                    async {
                        match err {
                            Some(e) => capped(e).await,
                            None => (Vec::new(), false),
                        }
                    }
                )
            },
            async {
                let status = child.wait().await;
                // What it left running would hold the pipes open (and outlive drillbook): the
                // program has answered, so the rest of its group is killed and the reads end.
                group.kill();
                status
            }
        );
        (o, e, status)
    };
    // On timeout the whole group is killed (and dropping `work` drops the child, which
    // kill_on_drop kills and reaps); if this future is dropped, `group` kills it on drop.
    let Ok(((stdout, cut_out), (stderr, _), status)) = tokio::time::timeout(timeout, work).await
    else {
        group.kill();
        return Probed::new(
            CheckOutcome::Timeout,
            format!(
                "{program} did not finish within {}; killed",
                super::spec::duration_words(timeout)
            ),
        );
    };
    let status = match status {
        Ok(s) => s,
        Err(e) => return Probed::new(CheckOutcome::Error, format!("waiting for {program}: {e}")),
    };
    let code = status
        .code()
        .map_or_else(|| "killed by a signal".to_owned(), |c| c.to_string());
    let stdout = String::from_utf8_lossy(&stdout);
    let last_err = String::from_utf8_lossy(&stderr)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| super::excerpt(l, 120))
        .unwrap_or_default();
    if !status.success() {
        let mut d = format!("{program} exited with status {code}");
        if !last_err.is_empty() {
            let _ = write!(d, ": {last_err}");
        }
        return Probed::new(CheckOutcome::Fail, d).value("exit_status", code);
    }
    let mut p = Probed::new(
        CheckOutcome::Pass,
        format!("{program} exited with status 0"),
    )
    .value("exit_status", code);
    if let Some(re) = pattern {
        let found = stdout.lines().find_map(|l| re.captures(l).map(|c| (l, c)));
        if let Some((line, caps)) = found {
            let _ = write!(p.detail, "; matched: {}", super::excerpt(line, 120));
            for name in re.capture_names().flatten() {
                if let Some(m) = caps.name(name) {
                    p = p.value(name, m.as_str().to_owned());
                }
            }
        } else {
            p.outcome = CheckOutcome::Fail;
            let _ = write!(
                p.detail,
                ", but no line of its output matches `{}`{}",
                re.as_str(),
                if cut_out {
                    " (output cut at 64 KiB)"
                } else {
                    ""
                }
            );
        }
    }
    p
}
