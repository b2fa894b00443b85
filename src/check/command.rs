//! `command`: run an argument list without a shell, under the timeout, its output read up to
//! [`OUTPUT_CAP`] bytes per stream (the rest drained and dropped, so a chatty program never
//! blocks on a full pipe). A pass is exit status 0 and, when the check has a pattern, a line of
//! the output matching it; its named groups are the values captured.
//!
//! It runs under a supervisor of its own ([`super::supervisor`]), a subreaper that ends
//! everything the program started, however it started it (`sleep 100 &`, `setsid …`, a double
//! fork), once the program has exited (a background child it left would hold the pipes open and
//! outlive drillbook), at the timeout, and when the probe is dropped or drillbook dies.
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
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The most of each output stream kept.
pub const OUTPUT_CAP: usize = 64 * 1024;

/// How long a check that timed out waits for its supervisor to have ended everything.
const ENDING: Duration = Duration::from_secs(5);

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
    let mut cmd = tokio::process::Command::new(path);
    cmd.args(args)
        // The supervisor's line from drillbook: closed, it ends everything (the program gets
        // /dev/null as its stdin, as before).
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Not killed on drop: a supervisor killed could not end the program's tree; dropping
        // `control` asks it to, and the runtime reaps it when it has.
        .kill_on_drop(false)
        // Out of drillbook's terminal group: Ctrl-C in a headless run is drillbook's to handle.
        .process_group(0);
    // SAFETY: the hook makes only async-signal-safe system calls (see `supervisor`).
    unsafe {
        cmd.pre_exec(|| super::supervisor::pre_exec());
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Probed::new(
                CheckOutcome::Error,
                format!("cannot run {program}: {}", crate::files::io_words(&e)),
            );
        }
    };
    let control = child.stdin.take();
    let out = child.stdout.take();
    let err = child.stderr.take();
    let finished = {
        let work = async {
            // The supervisor exits once the program has and everything it left is ended, so
            // the pipes close then too.
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
                },
                child.wait()
            )
        };
        tokio::time::timeout(timeout, work).await
    };
    let Ok(((stdout, cut_out), (stderr, _), status)) = finished else {
        // The supervisor ends the program and all it started; "killed" is said once it has
        // (bounded: a process stuck in the kernel cannot die until its I/O ends).
        drop(control);
        let _ = tokio::time::timeout(ENDING, child.wait()).await;
        return Probed::new(
            CheckOutcome::Timeout,
            format!(
                "{program} did not finish within {}; killed",
                super::spec::duration_words(timeout)
            ),
        );
    };
    drop(control);
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
