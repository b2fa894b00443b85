//! `command`: run an argument list without a shell, under the timeout, its output read up to
//! [`OUTPUT_CAP`] bytes per stream (the rest drained and dropped, so a chatty program never
//! blocks on a full pipe). A pass is exit status 0 and, when the check has a pattern, a line of
//! the output matching it; its named groups are the values captured.
//!
//! It runs under a supervisor of its own ([`super::supervisor`]), a subreaper that ends every
//! process the program and its descendants start, however they start it (`sleep 100 &`,
//! `setsid …`, a double fork), once the program has exited (a background child it left would hold the pipes open and
//! outlive drillbook), at the timeout, and when the probe is dropped or drillbook dies.
//!
//! The program has no terminal (a session of its own, stdin /dev/null, stdout and stderr
//! drillbook's pipes) and a small environment ([`environment`]): not the operator's, whose
//! `TMUX`, `SSH_AUTH_SOCK`, `DBUS_SESSION_BUS_ADDRESS` or `DISPLAY` would let it ask a server
//! outside its tree (the operator's tmux, agent or desktop) to start or do something for it.
//!
//! A supervisor the program holds stopped (SIGSTOP) is woken (SIGCONT) when drillbook closes its
//! pipe, and killed and reaped if it has not ended [`ENDING`] later ([`Supervisor`]), so that a
//! run repeating such a check does not pile them up.
//!
//! Whether it may run at all is decided before this is called (`check::Runner`): only when the
//! runbook marks it `allow: true` and the operator started drillbook with `--allow-commands`,
//! and in a rehearsal only when marked `rehearsal_safe: true`. Everything else drillbook shows
//! as a command is still only shown.

use super::Probed;
use crate::journal::CheckOutcome;
use regex::Regex;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, ChildStdin};

/// The most of each output stream kept.
pub const OUTPUT_CAP: usize = 64 * 1024;

/// How long a supervisor told to end everything has before drillbook kills it: a little more
/// than it gives itself (its kill rounds), so one that is merely busy ending a slow tree is not
/// cut short.
const ENDING: Duration = Duration::from_secs(6);
/// How often a supervisor being ended is woken again (a program may stop it more than once).
const WAKE: Duration = Duration::from_millis(100);
/// How long a check that timed out waits to say its program was ended (the rest of the ending
/// goes on in a task of its own): within the runner's half-second backstop.
const SAID: Duration = Duration::from_millis(300);

/// The program's `PATH`: fixed, so that what a script finds by name does not depend on the
/// operator's shell (the program itself is named by its absolute path).
pub const PATH: &str = "/usr/local/bin:/usr/bin:/bin";
/// What the program is given of drillbook's own environment, when set: who it runs as, its
/// home, its language and zone (with every `LC_*`). Nothing else: no `TMUX`, `SSH_AUTH_SOCK`,
/// `DBUS_SESSION_BUS_ADDRESS`, `DISPLAY`, `XDG_RUNTIME_DIR`, `TERM`, no token of the operator's.
pub const PASSED: [&str; 5] = ["HOME", "USER", "LOGNAME", "LANG", "TZ"];

/// The program's whole environment: [`PATH`], and [`PASSED`] and `LC_*` as drillbook has them.
pub fn environment() -> Vec<(OsString, OsString)> {
    let mut env = vec![(OsString::from("PATH"), OsString::from(PATH))];
    env.extend(std::env::vars_os().filter(|(name, _)| {
        name.to_str()
            .is_some_and(|n| PASSED.contains(&n) || n.starts_with("LC_"))
    }));
    env
}

/// The supervisor, made sure of: dropped or told to [`end`](Self::end), it closes the pipe
/// (which asks it to end everything), wakes it (SIGCONT: the program may have stopped it) and
/// leaves a task that wakes it again until it has ended, kills it if it has not within
/// [`ENDING`], and reaps it. Without it, a supervisor stopped by its program stayed stopped
/// with the program's tree for the rest of a run, one more each time the check ran.
struct Supervisor {
    child: Option<Child>,
    control: Option<ChildStdin>,
}

impl Supervisor {
    /// Ask it to end everything, and see to it that it does and is reaped; the task doing so.
    fn end(&mut self) -> Option<tokio::task::JoinHandle<()>> {
        drop(self.control.take());
        let child = self.child.take()?;
        wake(&child);
        tokio::runtime::Handle::try_current()
            .ok()
            .map(|rt| rt.spawn(ending(child)))
    }

    /// It exited (and was reaped): nothing to end.
    fn exited(&mut self) {
        self.control = None;
        self.child = None;
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        let _ = self.end();
    }
}

/// SIGCONT to a supervisor not reaped yet (its pid cannot have been reused).
fn wake(child: &Child) {
    if let Some(pid) = child.id().and_then(|p| libc::pid_t::try_from(p).ok()) {
        // SAFETY: a signal to our own child, not yet reaped.
        unsafe {
            libc::kill(pid, libc::SIGCONT);
        }
    }
}

/// Wait for a supervisor told to end, waking it now and then; kill it at [`ENDING`]; reap it.
async fn ending(mut child: Child) {
    let give_up = tokio::time::Instant::now() + ENDING;
    loop {
        if tokio::time::timeout(WAKE, child.wait()).await.is_ok() {
            return;
        }
        if tokio::time::Instant::now() >= give_up {
            let _ = child.start_kill();
            let _ = child.wait().await;
            return;
        }
        wake(&child);
    }
}

/// `signal 15 (SIGTERM)`.
fn signal_words(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGUSR2 => "SIGUSR2",
        _ => return format!("signal {sig}"),
    };
    format!("signal {sig} ({name})")
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
    let mut cmd = tokio::process::Command::new(path);
    cmd.args(args)
        .env_clear()
        .envs(environment())
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
    // From here the supervisor is ended whatever happens to this future.
    let mut sup = Supervisor {
        child: None,
        control,
    };
    let child = sup.child.insert(child);
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
        // The supervisor ends the program and all it started; "killed" is said once it has,
        // or after a moment (the ending goes on in its task: a process stuck in the kernel
        // cannot die until its I/O ends).
        if let Some(task) = sup.end() {
            let _ = tokio::time::timeout(SAID, task).await;
        }
        return Probed::new(
            CheckOutcome::Timeout,
            format!(
                "{program} did not finish within {}; killed",
                super::spec::duration_words(timeout)
            ),
        );
    };
    let status = match status {
        Ok(s) => {
            sup.exited();
            s
        }
        Err(e) => return Probed::new(CheckOutcome::Error, format!("waiting for {program}: {e}")),
    };
    let stdout = String::from_utf8_lossy(&stdout);
    let last_err = String::from_utf8_lossy(&stderr)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| super::excerpt(l, 120))
        .unwrap_or_default();
    if let Some(how) = last_err.strip_prefix(super::supervisor::ENDED_BY)
        && status.code() == Some(super::supervisor::ENDED)
    {
        // Not the program's status: a signal to the supervisor ended the check.
        return Probed::new(
            CheckOutcome::Fail,
            format!("{program} was ended by {how}: its own exit status is unknown"),
        );
    }
    let code = match (status.code(), status.signal()) {
        (Some(c), _) => c.to_string(),
        (None, Some(sig)) => signal_words(sig),
        (None, None) => "unknown".to_owned(),
    };
    if !status.success() {
        let mut d = if status.code().is_some() {
            format!("{program} exited with status {code}")
        } else {
            format!("{program} was killed by {code}")
        };
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
