//! Where messages go, and when a collector has them: `syslog+unix://PATH` (a datagram socket,
//! such as `/dev/log`), `syslog+udp://HOST:PORT`, `syslog+tcp://HOST:PORT` (octet-counting
//! framing, RFC 6587).
//!
//! When a message counts as delivered, which is when the forwarder may move its position on:
//! - Unix datagram: `send` returned; the message is in the collector's socket queue (a collector
//!   that is down refuses it, and it is sent again).
//! - UDP: `send` returned. UDP has no acknowledgement: a message sent while the collector is down
//!   is lost. Use TCP where loss matters.
//! - TCP: each batch goes on a connection of its own: written, then the writing side closed, then
//!   the collector's close awaited. A collector closes after it has read everything up to our
//!   close, so its close says it read the batch; a connection reset says it did not, and the batch
//!   is sent again. The forwarder saves its position once the batch is written (so a forwarder
//!   killed then does not send it twice: the kernel still delivers what was written), and takes it
//!   back if the collector's close does not come.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::Duration;

/// How long a connection or a send may take before the collector counts as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a TCP collector has to close after reading a batch.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// A collector's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Unix(PathBuf),
    Udp { host: String, port: u16 },
    Tcp { host: String, port: u16 },
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hp = |host: &str| {
            if host.contains(':') {
                format!("[{host}]")
            } else {
                host.to_owned()
            }
        };
        match self {
            Target::Unix(p) => write!(f, "syslog+unix://{}", p.display()),
            Target::Udp { host, port } => write!(f, "syslog+udp://{}:{port}", hp(host)),
            Target::Tcp { host, port } => write!(f, "syslog+tcp://{}:{port}", hp(host)),
        }
    }
}

/// The forms `--to` takes, for messages.
pub const FORMS: &str = "syslog+unix:///dev/log, syslog+tcp://HOST:PORT or syslog+udp://HOST:PORT";

/// A `--to` that is not a syslog address drillbook sends to: the address as given, and why.
#[derive(Debug, thiserror::Error)]
#[error("`{}`: {why}; use {FORMS}", crate::text::clean_line(.address))]
pub struct AddressError {
    address: String,
    why: String,
}

/// The longest path a Unix socket address holds (`sun_path` is 108 bytes with its NUL).
const MAX_SOCKET_PATH: usize = 107;

impl std::str::FromStr for Target {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, AddressError> {
        let bad = |why: &dyn std::fmt::Display| AddressError {
            address: s.to_owned(),
            why: why.to_string(),
        };
        if let Some(path) = s.strip_prefix("syslog+unix://") {
            if !path.starts_with('/') {
                return Err(bad(&"a Unix socket is named by its absolute path"));
            }
            if path.chars().any(char::is_control) {
                return Err(bad(&"the socket path has a control character in it"));
            }
            if path.len() > MAX_SOCKET_PATH {
                return Err(bad(&format_args!(
                    "a Unix socket path is at most {MAX_SOCKET_PATH} bytes"
                )));
            }
            return Ok(Target::Unix(PathBuf::from(path)));
        }
        let (tcp, rest) = if let Some(r) = s.strip_prefix("syslog+tcp://") {
            (true, r)
        } else if let Some(r) = s.strip_prefix("syslog+udp://") {
            (false, r)
        } else {
            return Err(bad(&"not a syslog address drillbook sends to"));
        };
        // The one reading of HOST:PORT that `tcp` checks and site values get too.
        let crate::hostport::HostPort { host, port } =
            crate::hostport::parse(rest.trim_end_matches('/')).map_err(|e| bad(&e))?;
        Ok(if tcp {
            Target::Tcp { host, port }
        } else {
            Target::Udp { host, port }
        })
    }
}

/// Why a batch was not delivered: the collector is down, unreachable or did not confirm.
#[derive(Debug)]
pub struct Undelivered(pub String);

impl std::fmt::Display for Undelivered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn words(what: &str, e: &std::io::Error) -> Undelivered {
    Undelivered(format!("{what}: {}", crate::files::io_words(e)))
}

/// A TCP batch written and not yet confirmed.
#[derive(Debug)]
pub struct Written(TcpStream);

impl Written {
    /// Wait for the collector's close: Ok when it came (it read everything), Err when the
    /// connection was reset or nothing came in time while bytes were still unacknowledged.
    pub fn confirm(mut self) -> Result<(), Undelivered> {
        self.0
            .shutdown(Shutdown::Write)
            .map_err(|e| words("closing the batch", &e))?;
        let _ = self.0.set_read_timeout(Some(CLOSE_TIMEOUT));
        let mut buf = [0u8; 512];
        loop {
            match self.0.read(&mut buf) {
                Ok(0) => return Ok(()),
                // A collector has nothing to say; whatever it says is read past.
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    // No close in time: a collector that keeps connections open. Its kernel has
                    // acknowledged every byte when nothing is left in the send queue.
                    return if unacknowledged(&self.0) == Some(0) {
                        Ok(())
                    } else {
                        Err(Undelivered(
                            "the collector neither closed nor acknowledged the batch".into(),
                        ))
                    };
                }
                Err(e) => return Err(words("the collector did not confirm the batch", &e)),
            }
        }
    }
}

/// Bytes in the socket's send queue not yet acknowledged by the peer (SIOCOUTQ).
fn unacknowledged(s: &TcpStream) -> Option<i32> {
    use std::os::fd::AsRawFd;
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ (SIOCOUTQ) writes one int we own.
    let rc = unsafe { libc::ioctl(s.as_raw_fd(), libc::TIOCOUTQ, &raw mut n) };
    (rc == 0).then_some(n)
}

/// An open way to the collector for datagrams (Unix or UDP); TCP connects per batch.
#[derive(Debug)]
pub enum Link {
    Unix(UnixDatagram, PathBuf),
    Udp(UdpSocket),
    Tcp { host: String, port: u16 },
}

impl Link {
    pub fn new(t: &Target) -> Result<Self, Undelivered> {
        match t {
            Target::Unix(p) => {
                let s = UnixDatagram::unbound().map_err(|e| words("a Unix socket", &e))?;
                let _ = s.set_write_timeout(Some(CONNECT_TIMEOUT));
                Ok(Link::Unix(s, p.clone()))
            }
            Target::Udp { host, port } => {
                let addr = resolve(host, *port)?;
                let bind = if addr.is_ipv4() {
                    "0.0.0.0:0"
                } else {
                    "[::]:0"
                };
                let s = UdpSocket::bind(bind).map_err(|e| words("a UDP socket", &e))?;
                s.connect(addr)
                    .map_err(|e| words(&format!("{host}:{port}"), &e))?;
                Ok(Link::Udp(s))
            }
            Target::Tcp { host, port } => Ok(Link::Tcp {
                host: host.clone(),
                port: *port,
            }),
        }
    }

    /// Whether each message is delivered on its own (datagrams) rather than in a batch (TCP).
    pub fn per_message(&self) -> bool {
        !matches!(self, Link::Tcp { .. })
    }

    /// Send one datagram.
    pub fn send_one(&self, msg: &[u8]) -> Result<(), Undelivered> {
        match self {
            Link::Unix(s, p) => s.send_to(msg, p).map(|_| ()).map_err(|e| {
                if e.raw_os_error() == Some(libc::EPROTOTYPE) {
                    Undelivered(format!(
                        "{}: not a datagram socket (drillbook sends datagrams to Unix sockets, as /dev/log takes them)",
                        p.display()
                    ))
                } else {
                    words(&p.display().to_string(), &e)
                }
            }),
            Link::Udp(s) => s.send(msg).map(|_| ()).map_err(|e| words("UDP", &e)),
            Link::Tcp { .. } => self.write_batch(&[msg.to_vec()])?.confirm(),
        }
    }

    /// TCP: connect and write the batch with octet-counting framing (closing the writing side
    /// and awaiting the collector's close is [`Written::confirm`]).
    pub fn write_batch(&self, msgs: &[Vec<u8>]) -> Result<Written, Undelivered> {
        let Link::Tcp { host, port } = self else {
            return Err(Undelivered("not a TCP collector".into()));
        };
        let addr = resolve(host, *port)?;
        let mut s = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
            .map_err(|e| words(&format!("{host}:{port}"), &e))?;
        let _ = s.set_write_timeout(Some(CONNECT_TIMEOUT));
        let _ = s.set_nodelay(true);
        let mut buf = Vec::with_capacity(msgs.iter().map(|m| m.len() + 8).sum());
        for m in msgs {
            buf.extend_from_slice(m.len().to_string().as_bytes());
            buf.push(b' ');
            buf.extend_from_slice(m);
        }
        s.write_all(&buf)
            .map_err(|e| words(&format!("{host}:{port}"), &e))?;
        Ok(Written(s))
    }
}

fn resolve(host: &str, port: u16) -> Result<std::net::SocketAddr, Undelivered> {
    (host, port)
        .to_socket_addrs()
        .map_err(|e| words(&format!("cannot resolve {host}"), &e))?
        .next()
        .ok_or_else(|| Undelivered(format!("{host}: no address")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms_parse_and_print_back() {
        for s in [
            "syslog+unix:///dev/log",
            "syslog+tcp://127.0.0.1:5514",
            "syslog+udp://collector.example:514",
            "syslog+tcp://[::1]:6514",
        ] {
            let t: Target = s.parse().unwrap();
            assert_eq!(t.to_string(), s);
        }
        assert_eq!(
            "syslog+tcp://h:1/".parse::<Target>().unwrap(),
            Target::Tcp {
                host: "h".into(),
                port: 1
            }
        );
        for (bad, why) in [
            ("tcp://h:1", "not a syslog address"),
            ("syslog+tcp://h", "port is missing"),
            ("syslog+tcp://h:0", "1 to 65535"),
            ("syslog+tcp://h:99999", "1 to 65535"),
            ("syslog+udp://:514", "host is missing"),
            ("syslog+unix://dev/log", "absolute path"),
            ("syslog+unix:///dev/\u{1b}log", "control character"),
            (
                &format!("syslog+unix:///{}", "s".repeat(107)),
                "at most 107 bytes",
            ),
            // The host read as every HOST:PORT is (`crate::hostport`).
            ("syslog+tcp://::1:514", "written in brackets"),
            ("syslog+udp://10.1.2:514", "not a whole IPv4 address"),
            ("syslog+tcp://h@x:514", "is not a host name"),
        ] {
            let e = bad.parse::<Target>().unwrap_err().to_string();
            assert!(
                e.contains(why) && e.contains("syslog+unix:///dev/log"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn a_tcp_batch_is_framed_by_octet_count_and_confirmed_by_the_close() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut got = Vec::new();
            c.read_to_end(&mut got).unwrap();
            got
        });
        let link = Link::new(&Target::Tcp {
            host: "127.0.0.1".into(),
            port,
        })
        .unwrap();
        let w = link
            .write_batch(&[b"<14>1 a".to_vec(), "<14>1 \u{e9}".as_bytes().to_vec()])
            .unwrap();
        w.confirm().unwrap();
        let got = server.join().unwrap();
        assert_eq!(got, "7 <14>1 a8 <14>1 \u{e9}".as_bytes());
    }

    #[test]
    fn a_collector_that_is_down_or_resets_is_not_delivered() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let link = Link::new(&Target::Tcp {
            host: "127.0.0.1".into(),
            port,
        })
        .unwrap();
        let e = link.write_batch(&[b"x".to_vec()]).unwrap_err();
        assert!(e.0.contains("refused"), "{e}");

        // A collector that closes without reading: the connection is reset, not confirmed.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (c, _) = l.accept().unwrap();
            std::thread::sleep(Duration::from_millis(200));
            drop(c);
        });
        let link = Link::new(&Target::Tcp {
            host: "127.0.0.1".into(),
            port,
        })
        .unwrap();
        let w = link.write_batch(&[vec![b'x'; 1000]]).unwrap();
        server.join().unwrap();
        assert!(w.confirm().is_err());

        // A Unix socket nobody listens on.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let link = Link::new(&Target::Unix(p)).unwrap();
        assert!(link.send_one(b"x").is_err());
    }
}
