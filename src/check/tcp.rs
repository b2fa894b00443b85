//! `tcp`: connect to `HOST:PORT` within the timeout and close at once. No byte is sent: the
//! handshake alone says the gateway is reachable. Records the address reached and the time the
//! connect took.

use super::Probed;
use crate::journal::CheckOutcome;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A `tcp` target that is not `HOST:PORT`: the target as written, and why.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{}` is not HOST:PORT (such as 10.1.2.3:443 or gw.example:443): {why}",
    crate::text::clean_line(.text)
)]
pub struct NotHostPort {
    text: String,
    why: crate::hostport::HostPortError,
}

/// `host:port`, `10.1.2.3:443`, `[fd00::1]:443`: read as [`crate::hostport`] reads every address.
pub fn split_host_port(s: &str) -> Result<(String, u16), NotHostPort> {
    crate::hostport::parse(s)
        .map(|hp| (hp.host, hp.port))
        .map_err(|why| NotHostPort {
            text: s.trim().to_owned(),
            why,
        })
}

/// Connect to `target` (resolved, each address in turn) within `timeout`.
pub async fn probe(target: &str, timeout: Duration) -> Probed {
    let start = Instant::now();
    let deadline = start + timeout;
    let (host, port) = match split_host_port(target) {
        Ok(hp) => hp,
        Err(m) => return Probed::new(CheckOutcome::Error, m),
    };
    let addrs: Vec<SocketAddr> = match tokio::time::timeout_at(
        deadline.into(),
        tokio::net::lookup_host((host.as_str(), port)),
    )
    .await
    {
        Err(_) => {
            return Probed::new(
                CheckOutcome::Timeout,
                format!(
                    "could not resolve `{host}` within {}",
                    super::spec::duration_words(timeout)
                ),
            );
        }
        Ok(Err(e)) => {
            return Probed::new(
                CheckOutcome::Error,
                format!("cannot resolve `{host}`: {}", crate::files::io_words(&e)),
            );
        }
        Ok(Ok(a)) => a.collect(),
    };
    if addrs.is_empty() {
        return Probed::new(
            CheckOutcome::Error,
            format!("`{host}` resolves to no address"),
        );
    }
    let mut failures = Vec::new();
    for addr in &addrs {
        let t0 = Instant::now();
        match tokio::time::timeout_at(deadline.into(), tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let took = t0.elapsed();
                let reached = stream.peer_addr().unwrap_or(*addr);
                // Closed at once: a FIN, never a byte of payload.
                drop(stream);
                let ms = took.as_secs_f64() * 1000.0;
                return Probed::new(
                    CheckOutcome::Pass,
                    format!("connected to {reached} in {ms:.1} ms; closed without sending"),
                )
                .value("address", reached.to_string())
                .value("connect_ms", format!("{ms:.1}"));
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                failures.push(format!("{addr} refused the connection"));
            }
            Ok(Err(e)) => failures.push(format!("{addr}: {}", crate::files::io_words(&e))),
            Err(_) => {
                let mut detail = format!(
                    "no answer from {addr} within {}",
                    super::spec::duration_words(timeout)
                );
                if !failures.is_empty() {
                    detail = format!("{}; {detail}", failures.join("; "));
                }
                return Probed::new(CheckOutcome::Timeout, detail);
            }
        }
    }
    Probed::new(CheckOutcome::Fail, failures.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_are_read_and_the_rest_refused() {
        assert_eq!(
            split_host_port("10.1.2.3:443"),
            Ok(("10.1.2.3".into(), 443))
        );
        assert_eq!(split_host_port("[::1]:80"), Ok(("::1".into(), 80)));
        assert_eq!(
            split_host_port("gw.example:9000"),
            Ok(("gw.example".into(), 9000))
        );
        for bad in ["10.1.2.3", ":443", "h:0", "h:70000", "::1:80", "a b:1"] {
            assert!(split_host_port(bad).is_err(), "{bad}");
        }
    }
}
