//! `multicast`: join `GROUP:PORT` (any source, or one `source` for a source-specific join; on
//! the system's choice of interface, or on `interface`, a name or an address) and count the
//! datagrams that arrive in the window. It never sends: the socket is only ever read, and it
//! leaves the group when it is closed at the end of the window.
//!
//! The socket is bound to the group's address (so only that group's datagrams reach it) with
//! `SO_REUSEADDR`, so it can listen beside the firm's feed handler on the same port when the
//! handler allows it too.

use super::Probed;
use crate::journal::CheckOutcome;
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

/// Why a multicast check's group, source or interface was refused: the text as written.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MulticastError {
    #[error(
        "`{0}` is not GROUP:PORT with an IPv4 multicast group (224.0.0.0 to 239.255.255.255), such as 239.1.1.1:51000"
    )]
    NotGroup(String),
    #[error("`{0}` is not the IPv4 address of a sender")]
    NotSender(String),
    #[error("`{0}` is not an interface")]
    NotInterface(String),
    #[error("no network interface named `{0}` on this host")]
    NoInterface(String),
}

/// `GROUP:PORT`, the group an IPv4 multicast address (224.0.0.0/4).
pub fn parse_group(s: &str) -> Result<(Ipv4Addr, u16), MulticastError> {
    let s = s.trim();
    let bad = || MulticastError::NotGroup(s.to_owned());
    let addr: SocketAddrV4 = s.parse().map_err(|_| bad())?;
    if !addr.ip().is_multicast() || addr.port() == 0 {
        return Err(bad());
    }
    Ok((*addr.ip(), addr.port()))
}

/// A source for a source-specific join: one IPv4 address.
pub fn parse_source(s: &str) -> Result<Ipv4Addr, MulticastError> {
    s.trim()
        .parse::<Ipv4Addr>()
        .ok()
        .filter(|a| !a.is_multicast() && !a.is_unspecified())
        .ok_or_else(|| MulticastError::NotSender(s.trim().to_owned()))
}

/// An interface by address or by name.
enum Iface {
    Any,
    Addr(Ipv4Addr),
    Index(u32, Ipv4Addr),
}

fn interface(spec: Option<&str>) -> Result<Iface, MulticastError> {
    let Some(spec) = spec.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Iface::Any);
    };
    if let Ok(a) = spec.parse::<Ipv4Addr>() {
        return Ok(Iface::Addr(a));
    }
    let name =
        std::ffi::CString::new(spec).map_err(|_| MulticastError::NotInterface(spec.to_owned()))?;
    // SAFETY: if_nametoindex reads the NUL-terminated name and returns 0 when there is none.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(MulticastError::NoInterface(spec.to_owned()));
    }
    Ok(Iface::Index(
        index,
        interface_address(spec).unwrap_or(Ipv4Addr::UNSPECIFIED),
    ))
}

/// The first IPv4 address of interface `name` (a source-specific join names the interface by
/// address).
fn interface_address(name: &str) -> Option<Ipv4Addr> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&raw mut list) } != 0 {
        return None;
    }
    let mut found = None;
    let mut p = list;
    while !p.is_null() {
        // SAFETY: p walks the list getifaddrs returned; each entry and its strings stay valid
        // until freeifaddrs.
        unsafe {
            let e = &*p;
            if !e.ifa_addr.is_null()
                && i32::from((*e.ifa_addr).sa_family) == libc::AF_INET
                && std::ffi::CStr::from_ptr(e.ifa_name).to_bytes() == name.as_bytes()
            {
                // An AF_INET entry holds a sockaddr_in; read unaligned, as its alignment is
                // the smaller sockaddr's.
                let sin = e.ifa_addr.cast::<libc::sockaddr_in>().read_unaligned();
                found = Some(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
                break;
            }
            p = e.ifa_next;
        }
    }
    // SAFETY: the list came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(list) };
    found
}

/// The joined socket, not yet read.
fn joined(
    group: Ipv4Addr,
    port: u16,
    source: Option<Ipv4Addr>,
    iface: &Iface,
) -> std::io::Result<Socket> {
    let sock = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    sock.set_reuse_address(true)?;
    sock.bind(&SocketAddr::V4(SocketAddrV4::new(group, port)).into())?;
    match (source, iface) {
        (Some(src), Iface::Any) => sock.join_ssm_v4(&src, &group, &Ipv4Addr::UNSPECIFIED)?,
        (Some(src), Iface::Addr(a) | Iface::Index(_, a)) => sock.join_ssm_v4(&src, &group, a)?,
        (None, Iface::Any) => sock.join_multicast_v4(&group, &Ipv4Addr::UNSPECIFIED)?,
        (None, Iface::Addr(a)) => sock.join_multicast_v4(&group, a)?,
        (None, Iface::Index(i, _)) => {
            sock.join_multicast_v4_n(&group, &InterfaceIndexOrAddress::Index(*i))?;
        }
    }
    sock.set_nonblocking(true)?;
    Ok(sock)
}

/// Join and listen for `window`; a pass when at least `min` datagrams arrive.
pub async fn probe(
    group: &str,
    source: Option<&str>,
    iface: Option<&str>,
    window: Duration,
    min: u32,
    tz: chrono_tz::Tz,
) -> Probed {
    let (g, port) = match parse_group(group) {
        Ok(x) => x,
        Err(m) => return Probed::new(CheckOutcome::Error, m),
    };
    let src = match source.map(parse_source).transpose() {
        Ok(s) => s,
        Err(m) => return Probed::new(CheckOutcome::Error, m),
    };
    let ifc = match interface(iface) {
        Ok(i) => i,
        Err(m) => return Probed::new(CheckOutcome::Error, m),
    };
    let sock = match joined(g, port, src, &ifc) {
        Ok(s) => s,
        Err(e) => {
            return Probed::new(
                CheckOutcome::Error,
                format!("cannot join {g}:{port}: {}", crate::files::io_words(&e)),
            );
        }
    };
    let sock = match tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(sock)) {
        Ok(s) => s,
        Err(e) => return Probed::new(CheckOutcome::Error, format!("cannot listen: {e}")),
    };
    let until = Instant::now() + window;
    let mut buf = vec![0u8; 2048];
    let mut count: u32 = 0;
    let mut first: Option<(chrono::DateTime<chrono::Utc>, SocketAddr)> = None;
    loop {
        match tokio::time::timeout_at(until.into(), sock.recv_from(&mut buf)).await {
            Err(_) => break,
            Ok(Ok((_, from))) => {
                count = count.saturating_add(1);
                if first.is_none() {
                    first = Some((crate::clock::wall_now(), from));
                }
            }
            Ok(Err(e)) => {
                return Probed::new(
                    CheckOutcome::Error,
                    format!("reading {g}:{port}: {}", crate::files::io_words(&e)),
                );
            }
        }
    }
    let win = super::spec::duration_words(window);
    let via = match (&src, &ifc) {
        (Some(s), _) => format!(" from source {s}"),
        _ => String::new(),
    };
    match first {
        Some((at, from)) if count >= min => {
            let first_at = super::instant_words(at, tz);
            Probed::new(
                CheckOutcome::Pass,
                format!(
                    "{count} datagram{} on {g}:{port}{via} in {win}; the first at {first_at} from {from}",
                    if count == 1 { "" } else { "s" }
                ),
            )
            .value("first_arrival", first_at)
            .value("datagrams", count.to_string())
            .value("sender", from.ip().to_string())
        }
        _ => Probed::new(
            CheckOutcome::Fail,
            format!(
                "{count} datagram{} on {g}:{port}{via} in {win} (at least {min} wanted); joined and listened, sent nothing",
                if count == 1 { "" } else { "s" }
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_multicast_and_sources_are_not() {
        assert_eq!(
            parse_group("239.1.1.1:51000"),
            Ok((Ipv4Addr::new(239, 1, 1, 1), 51000))
        );
        for bad in ["10.0.0.1:5000", "239.1.1.1", "239.1.1.1:0", "h:1"] {
            assert!(parse_group(bad).is_err(), "{bad}");
        }
        assert!(parse_source("10.0.0.9").is_ok());
        assert!(parse_source("239.0.0.1").is_err());
        assert!(interface(Some("no-such-if0")).is_err());
    }
}
