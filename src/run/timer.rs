//! The loop's sleep: a kernel timer (`timerfd`) for the real app, tokio's own sleep for tests.
//!
//! Why not tokio's sleep everywhere: tokio's hierarchical timer wheel files a sleep of about a
//! second in a slot 64 ms wide, and its driver wakes at the slot's edge and again at a finer one
//! before the deadline: three wake-ups for each displayed second (measured with strace:
//! `epoll_wait` returning at 826 ms, 953 ms and 1004 ms). A timerfd wakes the process once, at the
//! deadline, so an idle screen costs one wake-up a second. Tests run the loop under tokio's paused
//! clock, which only tokio's sleep follows.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;
use tokio::io::unix::AsyncFd;

/// How the loop sleeps.
pub enum Timer {
    /// A timerfd, armed anew for each sleep.
    Kernel(AsyncFd<OwnedFd>),
    /// tokio's sleep (follows a paused test clock).
    Tokio,
}

impl Timer {
    /// A kernel timer, or tokio's sleep where one cannot be made. Call inside the runtime.
    pub fn kernel() -> Self {
        // SAFETY: timerfd_create takes flags and returns a new descriptor or -1.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Timer::Tokio;
        }
        // SAFETY: `fd` was just created and is owned by nobody else.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: the OwnedFd is the AsyncFd's own: open, and the same descriptor, until dropped.
        unsafe { AsyncFd::register_with_interest(owned, tokio::io::Interest::READABLE) }
            .map_or(Timer::Tokio, Timer::Kernel)
    }

    /// Sleep for `d` (at least a microsecond).
    pub async fn sleep(&self, d: Duration) {
        let Timer::Kernel(fd) = self else {
            tokio::time::sleep(d).await;
            return;
        };
        let d = d.max(Duration::from_micros(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: d.as_secs() as libc::time_t,
                tv_nsec: libc::c_long::from(d.subsec_nanos()),
            },
        };
        // SAFETY: arming a timerfd we own with a spec on the stack.
        let rc = unsafe {
            libc::timerfd_settime(fd.as_raw_fd(), 0, &raw const spec, std::ptr::null_mut())
        };
        if rc != 0 {
            tokio::time::sleep(d).await;
            return;
        }
        loop {
            let Ok(mut guard) = fd.readable().await else {
                tokio::time::sleep(d).await;
                return;
            };
            let mut expirations = 0u64;
            // SAFETY: reading 8 bytes into a u64 we own, from a timerfd we own.
            let n = unsafe {
                libc::read(
                    fd.as_raw_fd(),
                    (&raw mut expirations).cast(),
                    std::mem::size_of::<u64>(),
                )
            };
            if n == 8 {
                return;
            }
            // Not expired yet (EAGAIN): wait for the next readiness.
            guard.clear_ready();
        }
    }
}
