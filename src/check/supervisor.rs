//! The small process between drillbook and a command check's program, which ends everything the
//! program started, however it started it.
//!
//! A process group is not enough: `setsid sleep 1000 &` leaves the group (and the session), and a
//! double fork (`(sleep 1000 &)`) leaves its parent, so that killing the group or following
//! parent links from the program finds nothing. A subreaper is: every process whose parent dies
//! is handed to its nearest ancestor that is a subreaper (`PR_SET_CHILD_SUBREAPER`), instead of
//! to init, whatever session or group it is in. So the child drillbook forks (the supervisor)
//! makes itself a subreaper, forks again, and the grandchild execs the program; everything the
//! program starts is then, for as long as it lives, a descendant of the supervisor, and when its
//! parent ends it becomes the supervisor's own child. Once the program has exited (or drillbook
//! asks, or goes away) the supervisor kills its children, which hands it their children, and so
//! on until it has none left: nothing of the check is left running.
//!
//! Only the supervisor reaps (`waitpid(-1)`), and only its own children: drillbook's runtime
//! reaps its children (the supervisors) by pid as before, and nothing of the check ever becomes
//! drillbook's child, so no one's child is reaped by someone else. The supervisor kills only its
//! own children, whose ids cannot be reused before it reaps them.
//!
//! It is not a program of its own: it is the forked child running the hook below, before it
//! would have exec'd (`pre_exec`), so it needs no binary on disk. Forked from a process with
//! threads, it may only make async-signal-safe calls: raw system calls, buffers on the stack, no
//! allocation, no locks, no panics.
//!
//! How drillbook talks to it: the supervisor's stdin is a pipe whose write end only drillbook
//! holds. drillbook never writes; closing it (at the timeout, or when the probe is dropped because
//! the app quits, or when drillbook dies, even by SIGKILL) means "end everything now". Its stdout
//! and stderr are the program's (the supervisor keeps only a copy of stderr, to say that a signal
//! sent to itself ended the check, and exits once the program's tree is gone). It exits as the
//! program did: with its exit code, or killed by its signal.
//!
//! The program has no terminal: it runs in a session of its own (`setsid`), so `/dev/tty` is
//! ENXIO, `TIOCSTI` has no terminal to type into, and it never stops on SIGTTIN; its stdin is
//! /dev/null and its stdout and stderr drillbook's pipes, and every other descriptor is closed at
//! its exec. Being its own session's only group also keeps the supervisor out of a `kill 0` the
//! program sends (the `trap 'kill 0' EXIT` idiom). The supervisor stays in drillbook's session,
//! in a group of its own (Ctrl-C is drillbook's to handle), so that if drillbook dies while the
//! program holds the supervisor stopped, the kernel wakes it (SIGHUP and SIGCONT to a stopped
//! group that is orphaned) and it ends everything. It is not dumpable (`PR_SET_DUMPABLE` 0): the
//! program, running as the same user, cannot ptrace it.
//!
//! What it cannot stop: a program that kills its own supervisor on purpose (the program it runs
//! is killed then, by `PR_SET_PDEATHSIG`, but what it started is not); one that stops it
//! (SIGSTOP) is ended when drillbook wakes it at the timeout (`command`). A command check runs
//! only a program the runbook marks `allow: true` and the operator allows with
//! `--allow-commands`.

use std::sync::atomic::{AtomicI32, Ordering};

/// How long the supervisor keeps killing before it gives up (a process stuck in the kernel, in
/// uninterruptible sleep, cannot die until its I/O ends).
const END_ROUNDS: u32 = 500;
/// The wait between two rounds, unless a child's end wakes it sooner.
const ROUND_NS: libc::c_long = 10_000_000;
/// The exit code when it ended everything before the program exited (with [`ENDED_BY`] on
/// stderr when a signal to the supervisor was why).
pub const ENDED: libc::c_int = 124;

/// The first SIGTERM, SIGINT or SIGHUP sent to the supervisor itself (0: none): end everything,
/// as when drillbook closes the pipe, and say which signal did.
static STOP: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    if sig != libc::SIGCHLD {
        let _ = STOP.compare_exchange(0, sig, Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// The line the supervisor writes to the program's stderr when a signal sent to itself ended
/// the check: drillbook reads it as the check's last error line (`command` recognises it), so
/// the check is not reported as the program exiting with [`ENDED`].
pub const ENDED_BY: &str = "drillbook-check: ended by ";

/// [`ENDED_BY`] and the rest of the line, for a stop signal.
fn ended_words(sig: libc::c_int) -> &'static [u8] {
    match sig {
        libc::SIGTERM => b"drillbook-check: ended by SIGTERM sent to its supervisor\n",
        libc::SIGINT => b"drillbook-check: ended by SIGINT sent to its supervisor\n",
        _ => b"drillbook-check: ended by SIGHUP sent to its supervisor\n",
    }
}

/// The `pre_exec` hook of a command check: in the forked child, becomes the supervisor (and
/// never returns), or, in the grandchild, returns so that the program is exec'd.
///
/// # Safety
/// Runs between `fork` and `exec` in a child of a process with threads: everything in it is an
/// async-signal-safe system call on memory of its own stack.
pub unsafe fn pre_exec() -> std::io::Result<()> {
    // SAFETY: the calls below are async-signal-safe system calls; the structures passed are on
    // this stack and zeroed or filled by the kernel before they are read.
    unsafe {
        let me = libc::getpid();
        STOP.store(0, Ordering::Relaxed);
        // Whatever drillbook's runtime installed is not this process's business.
        for sig in 1..32 {
            libc::signal(sig, libc::SIG_DFL);
        }
        let ours = [libc::SIGCHLD, libc::SIGTERM, libc::SIGINT, libc::SIGHUP];
        let mut blocked: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut blocked);
        for sig in ours {
            libc::sigaddset(&raw mut blocked, sig);
        }
        // Blocked from here, so that no child's end is missed between a look and a wait:
        // `ppoll` lets them in only while it waits.
        let mut before: libc::sigset_t = std::mem::zeroed();
        libc::sigprocmask(libc::SIG_BLOCK, &raw const blocked, &raw mut before);
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = on_signal as *const () as libc::sighandler_t;
        libc::sigemptyset(&raw mut act.sa_mask);
        for sig in ours {
            libc::sigaction(sig, &raw const act, std::ptr::null_mut());
        }
        // Named for what it is in `ps -o comm` and `top` (it is a fork: its arguments are
        // drillbook's own).
        libc::prctl(libc::PR_SET_NAME, c"drillbook-check".as_ptr(), 0, 0, 0);
        if libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // The program runs as the same user: without this it could ptrace its supervisor and
        // hold it (the exec below makes the program dumpable again).
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        let program = libc::fork();
        if program < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if program == 0 {
            // The program: the signal state drillbook gave it, killed if the supervisor dies
            // (so it never runs unsupervised), stdin closed as before.
            for sig in ours {
                libc::signal(sig, libc::SIG_DFL);
            }
            libc::sigprocmask(libc::SIG_SETMASK, &raw const before, std::ptr::null_mut());
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            if libc::getppid() != me {
                libc::_exit(127);
            }
            // No terminal: a session of its own has no controlling terminal, and it is the
            // only group in it (not the supervisor's: a `kill 0` stays among its own).
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
            if null < 0 || libc::dup2(null, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::close(null);
            // Nothing of drillbook's past the exec, even a descriptor some library opened
            // without O_CLOEXEC (a terminal would be one to write escapes to). The status pipe
            // of `spawn` is close-on-exec already.
            descriptors_from(3, true);
            return Ok(());
        }
        // The supervisor. It keeps only the pipe from drillbook (stdin): the program's output
        // pipes, and every descriptor of drillbook's (the journal and its lock, sockets, the
        // status pipe of `spawn`, which must close for drillbook to learn the exec happened).
        // A copy of stderr stays, to say so if a signal to the supervisor ends the check.
        descriptors_from(3, false);
        let told = libc::fcntl(2, libc::F_DUPFD_CLOEXEC, 3);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if null >= 0 {
            libc::dup2(null, 1);
            libc::dup2(null, 2);
            libc::close(null);
        }
        let mut waiting = before;
        for sig in ours {
            libc::sigdelset(&raw mut waiting, sig);
        }
        let status = wait_for(program, &waiting);
        end_all(me, &waiting);
        let sig = STOP.load(Ordering::Relaxed);
        if status.is_none() && sig != 0 && told >= 0 {
            let words = ended_words(sig);
            libc::write(told, words.as_ptr().cast(), words.len());
        }
        exit_as(status)
    }
}

/// Wait until the program exits (its wait status), or until drillbook closes the pipe or a stop
/// signal comes (None). Children that end meanwhile are reaped.
unsafe fn wait_for(program: libc::pid_t, waiting: &libc::sigset_t) -> Option<libc::c_int> {
    // SAFETY: waitpid and ppoll on this process's own children and stdin, with their arguments
    // on this stack.
    unsafe {
        let mut status = None;
        loop {
            loop {
                let mut st = 0;
                let pid = libc::waitpid(-1, &raw mut st, libc::WNOHANG);
                if pid <= 0 {
                    break;
                }
                if pid == program {
                    status = Some(st);
                }
            }
            if status.is_some() || STOP.load(Ordering::Relaxed) != 0 {
                return status;
            }
            let mut pipe = libc::pollfd {
                fd: 0,
                events: libc::POLLIN,
                revents: 0,
            };
            // Returns on a signal (a child ended: EINTR) or when the pipe closes (POLLHUP).
            if libc::ppoll(&raw mut pipe, 1, std::ptr::null(), waiting) > 0 && pipe.revents != 0 {
                return None;
            }
        }
    }
}

/// Kill every child until there are none: each one killed hands the supervisor its own
/// children, which the next round kills.
unsafe fn end_all(me: libc::pid_t, waiting: &libc::sigset_t) {
    // SAFETY: waitpid, kill (of this process's own unreaped children only) and ppoll, with their
    // arguments on this stack.
    unsafe {
        for _ in 0..END_ROUNDS {
            loop {
                let mut st = 0;
                let pid = libc::waitpid(-1, &raw mut st, libc::WNOHANG);
                if pid < 0 {
                    // ECHILD: no child left, living or dead.
                    return;
                }
                if pid == 0 {
                    break;
                }
            }
            for_each_child(me, |pid| {
                libc::kill(pid, libc::SIGKILL);
            });
            let pause = libc::timespec {
                tv_sec: 0,
                tv_nsec: ROUND_NS,
            };
            libc::ppoll(std::ptr::null_mut(), 0, &raw const pause, waiting);
        }
    }
}

/// Exit as the program did: its code, or its signal (raised again, without a core dump).
unsafe fn exit_as(status: Option<libc::c_int>) -> ! {
    // SAFETY: plain system calls on this process.
    unsafe {
        match status {
            Some(st) if libc::WIFEXITED(st) => libc::_exit(libc::WEXITSTATUS(st)),
            Some(st) if libc::WIFSIGNALED(st) => {
                let sig = libc::WTERMSIG(st);
                let no_core = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                libc::setrlimit(libc::RLIMIT_CORE, &raw const no_core);
                libc::signal(sig, libc::SIG_DFL);
                let mut only: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&raw mut only);
                libc::sigaddset(&raw mut only, sig);
                libc::sigprocmask(libc::SIG_UNBLOCK, &raw const only, std::ptr::null_mut());
                libc::kill(libc::getpid(), sig);
                libc::_exit(128 + sig)
            }
            _ => libc::_exit(ENDED),
        }
    }
}

/// Every descriptor from `low` up closed (`cloexec` false) or marked close-on-exec (`cloexec`
/// true): `close_range` where the kernel has it (5.9; `CLOSE_RANGE_CLOEXEC` from 5.11), else each
/// one `/proc/self/fd` lists.
unsafe fn descriptors_from(low: libc::c_int, cloexec: bool) {
    let flags = if cloexec {
        libc::CLOSE_RANGE_CLOEXEC
    } else {
        0
    };
    // SAFETY: close_range, close and fcntl on this process's own descriptors; the listing is
    // read into a buffer on this stack.
    unsafe {
        if libc::syscall(
            libc::SYS_close_range,
            low as libc::c_uint,
            libc::c_uint::MAX,
            flags,
        ) == 0
        {
            return;
        }
        let dir = libc::open(
            c"/proc/self/fd".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        );
        if dir < 0 {
            return;
        }
        for_each_number(dir, |fd| {
            if fd < low || fd == dir {
                return;
            }
            if cloexec {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            } else {
                libc::close(fd);
            }
        });
        libc::close(dir);
    }
}

/// Call `f` with the pid of each process whose parent is `parent` (from `/proc/PID/stat`).
unsafe fn for_each_child(parent: libc::pid_t, mut f: impl FnMut(libc::pid_t)) {
    // SAFETY: open, read and close of /proc files into buffers on this stack.
    unsafe {
        let dir = libc::open(
            c"/proc".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        );
        if dir < 0 {
            return;
        }
        for_each_number(dir, |pid| {
            if parent_of(pid) == Some(parent) {
                f(pid);
            }
        });
        libc::close(dir);
    }
}

/// Call `f` with each entry of the open folder `dir` whose name is a number.
unsafe fn for_each_number(dir: libc::c_int, mut f: impl FnMut(libc::c_int)) {
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: getdents64 into a buffer of the length given, on a descriptor we hold.
        let n = unsafe { libc::syscall(libc::SYS_getdents64, dir, buf.as_mut_ptr(), buf.len()) };
        let Ok(n) = usize::try_from(n) else { return };
        if n == 0 {
            return;
        }
        let mut off = 0;
        // Each record: inode (8), offset (8), record length (2), type (1), name, NUL.
        while off + 19 < n.min(buf.len()) {
            let len = usize::from(u16::from_ne_bytes([buf[off + 16], buf[off + 17]]));
            if len < 20 || off + len > n {
                return;
            }
            if let Some(number) = number_in(&buf[off + 19..off + len]) {
                f(number);
            }
            off += len;
        }
    }
}

/// The decimal number a NUL-terminated name is, if it is one.
fn number_in(name: &[u8]) -> Option<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut digits = 0;
    for &b in name {
        if b == 0 {
            break;
        }
        if !b.is_ascii_digit() {
            return None;
        }
        value = value
            .checked_mul(10)?
            .checked_add(libc::c_int::from(b - b'0'))?;
        digits += 1;
    }
    (digits > 0).then_some(value)
}

/// A process's parent, from `/proc/PID/stat` (`PID (COMM) STATE PPID ...`; COMM may hold
/// anything, `)` too, so the fields are read after the last `)`).
fn parent_of(pid: libc::pid_t) -> Option<libc::pid_t> {
    let mut path = [0u8; 32];
    let mut at = 0;
    for &b in b"/proc/" {
        path[at] = b;
        at += 1;
    }
    let mut digits = [0u8; 12];
    let mut n = 0;
    let mut p = pid;
    loop {
        digits[n] = b'0' + (p % 10) as u8;
        n += 1;
        p /= 10;
        if p == 0 || n == digits.len() {
            break;
        }
    }
    while n > 0 {
        n -= 1;
        path[at] = digits[n];
        at += 1;
    }
    for &b in b"/stat\0" {
        path[at] = b;
        at += 1;
    }
    let mut buf = [0u8; 512];
    // SAFETY: open, read and close of a /proc file into a buffer on this stack; the path is
    // NUL-terminated.
    let len = unsafe {
        let fd = libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return None;
        }
        let r = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
        libc::close(fd);
        usize::try_from(r).ok()?
    };
    ppid_in(&buf[..len.min(buf.len())])
}

/// The PPID field of a `/proc/PID/stat` line.
fn ppid_in(stat: &[u8]) -> Option<libc::pid_t> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    // `) S PPID `
    let rest = stat.get(close + 4..)?;
    let end = rest.iter().position(|&b| b == b' ')?;
    let mut value: libc::pid_t = 0;
    for &b in rest.get(..end)? {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value
            .checked_mul(10)?
            .checked_add(libc::pid_t::from(b - b'0'))?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_is_read_after_the_last_parenthesis() {
        assert_eq!(ppid_in(b"123 (sleep) S 45 123 1 0"), Some(45));
        assert_eq!(ppid_in(b"123 (a) b) S 7 1"), Some(7));
        assert_eq!(ppid_in(b"123 (x"), None);
        assert_eq!(number_in(b"1234\0junk"), Some(1234));
        assert_eq!(number_in(b"self\0"), None);
        assert_eq!(number_in(b"\0"), None);
    }

    #[test]
    fn this_process_parent_is_read_from_proc() {
        // SAFETY: getpid and getppid cannot fail.
        let (me, parent) = unsafe { (libc::getpid(), libc::getppid()) };
        assert_eq!(parent_of(me), Some(parent));
        let mut found = false;
        // SAFETY: a listing of /proc, reading files only.
        unsafe { for_each_child(parent, |pid| found |= pid == me) };
        assert!(found, "this process is listed among its parent's children");
    }
}
