//! What the notification channels can reach from here: SSH, tmux (and whether it passes escape
//! sequences through), GNU screen, a D-Bus session bus, and a notification daemon on it.
//!
//! [`Env`] is the cheap part (environment variables and one local socket connect, which never
//! waits longer than a send may: [`CONNECT_TIMEOUT`]), used by `--notify auto` at startup. [`Report`] adds what takes a round trip (asking tmux, asking the
//! bus), each under a timeout, for `drillbook notify-test`.

use socket2::{Domain, SockAddr, Socket, Type};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The longest a connect to the bus socket may take: the same as one desktop send.
pub const CONNECT_TIMEOUT: Duration = super::desktop::DEFAULT_TIMEOUT;

/// The well-known name a notification daemon owns on the session bus.
pub const NOTIFICATIONS: &str = "org.freedesktop.Notifications";

/// What the environment says, read once.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub ssh_connection: Option<String>,
    pub tmux: Option<String>,
    pub sty: Option<String>,
    pub term: Option<String>,
    pub term_program: Option<String>,
    pub dbus_address: Option<String>,
    /// `dbus_address` is set and something accepts a connection there.
    pub bus_reachable: bool,
    /// Why the bus is not reachable, when it is set but not.
    pub bus_problem: Option<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Env {
    /// This process's environment, with the bus socket tried.
    pub fn from_process() -> Self {
        let dbus_address = var("DBUS_SESSION_BUS_ADDRESS");
        let bus_problem = dbus_address
            .as_deref()
            .and_then(|a| bus_connectable(a).err())
            .map(|e| e.to_string());
        let bus_reachable = dbus_address.is_some() && bus_problem.is_none();
        Self {
            ssh_connection: var("SSH_CONNECTION"),
            tmux: var("TMUX"),
            sty: var("STY"),
            term: var("TERM"),
            term_program: var("TERM_PROGRAM"),
            dbus_address,
            bus_reachable,
            bus_problem,
        }
    }

    pub fn ssh(&self) -> bool {
        self.ssh_connection.is_some()
    }

    pub fn in_tmux(&self) -> bool {
        self.tmux.is_some()
    }

    /// Under GNU screen: `$STY`, or a `screen*` TERM when not inside tmux (tmux may use that TERM).
    pub fn in_screen(&self) -> bool {
        !self.in_tmux()
            && (self.sty.is_some()
                || self
                    .term
                    .as_deref()
                    .is_some_and(|t| t.starts_with("screen")))
    }
}

/// `--notify auto`: desktop when a session bus is reachable; terminal when over SSH or when there
/// is no bus (the terminal emulator is then the only thing that can raise a notification).
pub fn auto_channels(env: &Env) -> Vec<&'static str> {
    let mut out = Vec::new();
    if env.bus_reachable {
        out.push("desktop");
    }
    if env.ssh() || !env.bus_reachable {
        out.push("terminal");
    }
    out
}

/// Why no connection could be made to a D-Bus address (the last entry tried says).
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("no usable transport in `{0}`")]
    NoTransport(String),
    #[error("transport of `{0}` not checked (only unix sockets are)")]
    NotUnix(String),
    #[error("cannot connect to {at}: {source}")]
    Connect { at: String, source: std::io::Error },
}

/// Try to connect to a D-Bus address's socket (unix path or abstract; the first that works).
/// A local connect answers at once; this sends nothing on the bus.
pub fn bus_connectable(address: &str) -> Result<(), BusError> {
    let mut last = BusError::NoTransport(address.to_owned());
    for entry in address.split(';').filter(|e| !e.is_empty()) {
        let Some(("unix", params)) = entry.split_once(':') else {
            last = BusError::NotUnix(entry.to_owned());
            continue;
        };
        for kv in params.split(',') {
            let res = match kv.split_once('=') {
                Some(("path", p)) => SockAddr::unix(unescape(p)),
                // An abstract name is a path that starts with a NUL byte.
                #[cfg(target_os = "linux")]
                Some(("abstract", name)) => {
                    use std::os::unix::ffi::OsStrExt;
                    let mut b = vec![0u8];
                    b.extend_from_slice(unescape(name).as_bytes());
                    SockAddr::unix(std::ffi::OsStr::from_bytes(&b))
                }
                _ => continue,
            }
            .and_then(|a| connect_within(&a, CONNECT_TIMEOUT));
            match res {
                Ok(()) => return Ok(()),
                Err(source) => {
                    last = BusError::Connect {
                        at: kv.to_owned(),
                        source,
                    }
                }
            }
        }
    }
    Err(last)
}

/// Connect to a Unix socket without ever blocking past `timeout`. A plain connect blocks for as
/// long as the listener's queue is full, which is forever when nothing accepts there (a wedged
/// bus): start-up would hang on a blank screen. Non-blocking, Linux answers a full queue with
/// EAGAIN at once, which is the answer: that bus takes no connection now.
fn connect_within(addr: &SockAddr, timeout: Duration) -> std::io::Result<()> {
    let s = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    s.set_nonblocking(true)?;
    let started = Instant::now();
    match s.connect(addr) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Err(std::io::Error::new(
            std::io::ErrorKind::WouldBlock,
            "its queue of connections is full: whatever listens there accepts none",
        )),
        // Elsewhere a connect may be left in progress: wait for it, bounded.
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => loop {
            if let Some(err) = s.take_error()? {
                return Err(err);
            }
            if s.peer_addr().is_ok() {
                return Ok(());
            }
            if started.elapsed() >= timeout {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no connection within {} s", timeout.as_secs_f32()),
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        },
        Err(e) => Err(e),
    }
}

/// D-Bus addresses escape bytes as `%XX`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What answers for `org.freedesktop.Notifications` on the session bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Daemon {
    /// No reachable bus: nothing to ask.
    NoBus,
    /// A daemon owns the name; its `GetServerInformation` name and version when it answered.
    Running(String),
    /// Nobody owns it, but the bus can start one on demand (D-Bus activation, which can stall).
    Activatable,
    /// Nobody owns it and nothing can be started.
    Missing,
    /// The bus did not answer in time, or answered with an error.
    Unknown(String),
}

/// Everything the preflight detected.
#[derive(Debug, Clone)]
pub struct Report {
    pub env: Env,
    /// tmux's `allow-passthrough` (`on`, `off`, `all`) when inside tmux; `None` if it could not be read.
    pub tmux_passthrough: Option<String>,
    pub daemon: Daemon,
}

impl Report {
    /// Detect, each round trip under `timeout`.
    pub async fn detect(env: Env, timeout: Duration) -> Self {
        let tmux_passthrough = if env.in_tmux() {
            tmux_option("allow-passthrough", timeout).await
        } else {
            None
        };
        let daemon = match (&env.dbus_address, env.bus_reachable) {
            (Some(addr), true) => tokio::time::timeout(timeout, ask_bus(addr))
                .await
                .unwrap_or_else(|_| {
                    Daemon::Unknown(format!("the bus did not answer within {timeout:?}"))
                }),
            _ => Daemon::NoBus,
        };
        Self {
            env,
            tmux_passthrough,
            daemon,
        }
    }

    /// Whether tmux would pass the terminal channel's sequences on to the outer terminal.
    pub fn tmux_passes(&self) -> bool {
        matches!(self.tmux_passthrough.as_deref(), Some("on" | "all"))
    }

    /// One line per thing detected, for the operator.
    pub fn lines(&self) -> Vec<String> {
        let e = &self.env;
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        let mut out = vec![format!(
            "SSH session:      {}",
            if e.ssh() {
                "yes (SSH_CONNECTION is set)"
            } else {
                "no"
            }
        )];
        out.push(format!(
            "tmux:             {}",
            if e.in_tmux() {
                match self.tmux_passthrough.as_deref() {
                    Some(v) => format!("yes, allow-passthrough is {v}"),
                    None => {
                        "yes, allow-passthrough could not be read (tmux older than 3.3?)".into()
                    }
                }
            } else {
                "no".into()
            }
        ));
        out.push(format!("GNU screen:       {}", yes_no(e.in_screen())));
        out.push(format!(
            "D-Bus session bus: {}",
            match (&e.dbus_address, e.bus_reachable) {
                (None, _) => "none (DBUS_SESSION_BUS_ADDRESS is not set)".into(),
                (Some(_), false) => format!(
                    "DBUS_SESSION_BUS_ADDRESS is set but nothing answers there ({})",
                    crate::text::clean_line(e.bus_problem.as_deref().unwrap_or("not tried"))
                ),
                (Some(_), true) => "reachable".into(),
            }
        ));
        out.push(format!(
            "Notification daemon: {}",
            match &self.daemon {
                Daemon::NoBus => "not checked (no bus)".into(),
                Daemon::Running(n) => format!("running ({})", crate::text::clean_line(n)),
                Daemon::Activatable => "not running; the bus can start one on demand".into(),
                Daemon::Missing => "none on the bus".into(),
                Daemon::Unknown(m) => format!("unknown: {}", crate::text::clean_line(m)),
            }
        ));
        if let Some(t) = &e.term_program {
            out.push(format!("Terminal program: {}", crate::text::clean_line(t)));
        }
        out
    }

    /// A one-line summary for the journal.
    pub fn summary(&self) -> String {
        let e = &self.env;
        let tmux = if e.in_tmux() {
            format!(
                "yes(passthrough={})",
                self.tmux_passthrough.as_deref().unwrap_or("unknown")
            )
        } else {
            "no".into()
        };
        let bus = match (&e.dbus_address, e.bus_reachable) {
            (None, _) => "none",
            (Some(_), false) => "unreachable",
            (Some(_), true) => "reachable",
        };
        let daemon = match &self.daemon {
            Daemon::NoBus => "n/a".into(),
            Daemon::Running(n) => format!("running({n})"),
            Daemon::Activatable => "activatable".into(),
            Daemon::Missing => "none".into(),
            Daemon::Unknown(_) => "unknown".into(),
        };
        format!(
            "ssh={} tmux={tmux} screen={} bus={bus} daemon={daemon}",
            if e.ssh() { "yes" } else { "no" },
            if e.in_screen() { "yes" } else { "no" },
        )
    }
}

/// `tmux show -gv NAME`, waited for at most `timeout` (a wedged tmux server must not hang us),
/// through tokio's process support: nothing blocks the runtime while tmux answers.
pub async fn tmux_option(name: &str, timeout: Duration) -> Option<String> {
    let output = tokio::process::Command::new("tmux")
        .args(["show", "-gv", name])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(timeout, output).await.ok()?.ok()?;
    if !out.status.success() {
        return None;
    }
    let v = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (!v.is_empty()).then_some(v)
}

/// Who owns `org.freedesktop.Notifications`, asked without triggering D-Bus activation.
async fn ask_bus(addr: &str) -> Daemon {
    let conn = match zbus::connection::Builder::address(addr).build().await {
        Ok(c) => c,
        Err(e) => return Daemon::Unknown(format!("cannot connect to the session bus: {e}")),
    };
    let call = |method: &'static str| {
        let conn = conn.clone();
        async move {
            conn.call_method(
                Some("org.freedesktop.DBus"),
                "/org/freedesktop/DBus",
                Some("org.freedesktop.DBus"),
                method,
                &(NOTIFICATIONS,),
            )
            .await
        }
    };
    let owned: bool = match call("NameHasOwner").await {
        Ok(m) => m.body().deserialize().unwrap_or(false),
        Err(e) => return Daemon::Unknown(e.to_string()),
    };
    if owned {
        // A daemon that owns the name but does not answer this is still a daemon: ask briefly.
        let info = tokio::time::timeout(
            Duration::from_millis(500),
            conn.call_method(
                Some(NOTIFICATIONS),
                "/org/freedesktop/Notifications",
                Some(NOTIFICATIONS),
                "GetServerInformation",
                &(),
            ),
        )
        .await
        .ok()
        .and_then(Result::ok)
        .and_then(|m| {
            m.body()
                .deserialize::<(String, String, String, String)>()
                .ok()
        });
        return Daemon::Running(match info {
            Some((name, vendor, version, _)) => format!("{name} {version} by {vendor}"),
            None => "it did not say which".into(),
        });
    }
    let activatable = conn
        .call_method(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            Some("org.freedesktop.DBus"),
            "ListActivatableNames",
            &(),
        )
        .await
        .ok()
        .and_then(|m| m.body().deserialize::<Vec<String>>().ok())
        .is_some_and(|names| names.iter().any(|n| n == NOTIFICATIONS));
    if activatable {
        Daemon::Activatable
    } else {
        Daemon::Missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screen_is_not_mistaken_for_tmux_and_addresses_unescape() {
        let e = Env {
            tmux: Some("/tmp/tmux-0/default,1,0".into()),
            term: Some("screen-256color".into()),
            ..Env::default()
        };
        assert!(e.in_tmux() && !e.in_screen());
        let e = Env {
            term: Some("screen".into()),
            ..Env::default()
        };
        assert!(e.in_screen());
        assert_eq!(unescape("/tmp/a%20b"), "/tmp/a b");
        assert!(bus_connectable("unix:path=/nonexistent/bus").is_err());
        assert!(bus_connectable("tcp:host=x").is_err());
    }
}
