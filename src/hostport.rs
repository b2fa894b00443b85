//! `HOST:PORT`, as every address drillbook connects to is written: a `tcp` check's target (in the
//! runbook, or filled in from the site file) and a syslog collector (`forward --to`, `run
//! --forward`). One reading and one set of messages for all of them, so an address refused in one
//! place is refused in the others, for the same reason.
//!
//! What is refused is what a resolver would read as something else than it looks: `10.1.2`
//! (which `getaddrinfo` reads as 10.1.0.2), `010.1.2.3` (octal: 8.1.2.3), `2130706433` (127.0.0.1),
//! `::1:514` (which `::1` is the host?), a name with spaces, controls, `@`, `/` or `%` in it.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A host and a port, read from `HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// A host name, an IPv4 address, or an IPv6 address (without its brackets).
    pub host: String,
    pub port: u16,
}

/// Why a text is not `HOST:PORT`, in words that say what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostPortError {
    #[error("it is empty")]
    Empty,
    #[error("the port is missing (HOST:PORT)")]
    NoPort,
    #[error("the host is missing (HOST:PORT)")]
    NoHost,
    #[error("the port `{}` is not a number from 1 to 65535", crate::text::clean_line(.0))]
    BadPort(String),
    #[error("an IPv6 address is written in brackets, such as [fd00::1]:514")]
    Unbracketed,
    #[error("`{}` in brackets is not an IPv6 address", crate::text::clean_line(.0))]
    NotIpv6(String),
    #[error(
        "`{}` is not a whole IPv4 address: write four numbers from 0 to 255 without leading zeros, such as 10.1.2.3",
        crate::text::clean_line(.0)
    )]
    PartialIpv4(String),
    #[error("the host `{}` is not a host name: {why}", crate::text::clean_line(.host))]
    NotHostName { host: String, why: &'static str },
}

/// The longest host name (RFC 1035), without a final dot.
const MAX_NAME: usize = 253;
/// The longest label of a host name.
const MAX_LABEL: usize = 63;

/// Read `HOST:PORT`: `gw.example:443`, `10.1.2.3:443`, `[fd00::1]:514`. Spaces around it are
/// dropped (a site value may carry them); nothing else is forgiven.
pub fn parse(text: &str) -> Result<HostPort, HostPortError> {
    let s = text.trim();
    if s.is_empty() {
        return Err(HostPortError::Empty);
    }
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, p) = match rest.split_once(']') {
            Some((h, after)) => match after.strip_prefix(':') {
                Some(p) => (h, p),
                None if after.is_empty() => return Err(HostPortError::NoPort),
                None => return Err(HostPortError::NotIpv6(format!("[{h}]{after}"))),
            },
            None => return Err(HostPortError::NotIpv6(rest.to_owned())),
        };
        if h.parse::<Ipv6Addr>().is_err() {
            return Err(HostPortError::NotIpv6(h.to_owned()));
        }
        (h, p)
    } else {
        let (h, p) = s.rsplit_once(':').ok_or(HostPortError::NoPort)?;
        if h.contains(':') {
            return Err(HostPortError::Unbracketed);
        }
        if h.is_empty() {
            return Err(HostPortError::NoHost);
        }
        host_name(h)?;
        (h, p)
    };
    Ok(HostPort {
        host: host.to_owned(),
        port: port_number(port)?,
    })
}

/// A port: digits only (`+443` and ` 443` are not ports), 1 to 65535.
fn port_number(p: &str) -> Result<u16, HostPortError> {
    if p.is_empty() {
        return Err(HostPortError::NoPort);
    }
    p.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| p.parse::<u16>().ok())
        .flatten()
        .filter(|n| *n > 0)
        .ok_or_else(|| HostPortError::BadPort(p.to_owned()))
}

/// A host name (RFC 1123 labels; `_` allowed, as internal names use it) or a whole IPv4
/// address. A name whose last label is a number is an address to a resolver, so it must be a
/// whole, plain one.
fn host_name(h: &str) -> Result<(), HostPortError> {
    let bad = |why| {
        Err(HostPortError::NotHostName {
            host: h.to_owned(),
            why,
        })
    };
    if !h
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return bad("write it with letters a to z, digits, `-`, `_` and `.` only");
    }
    let name = h.strip_suffix('.').unwrap_or(h);
    if name.len() > MAX_NAME {
        return bad("it is longer than 253 characters");
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return bad("it has an empty part (a leading dot or `..`)");
    }
    if labels.iter().any(|l| l.len() > MAX_LABEL) {
        return bad("a part between dots is longer than 63 characters");
    }
    if labels
        .iter()
        .any(|l| l.starts_with('-') || l.ends_with('-'))
    {
        return bad("a part between dots starts or ends with `-`");
    }
    let numeric = |l: &str| {
        l.bytes().all(|b| b.is_ascii_digit())
            || l.strip_prefix("0x")
                .or_else(|| l.strip_prefix("0X"))
                .is_some_and(|x| x.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    if labels.last().is_some_and(|l| numeric(l)) && name.parse::<Ipv4Addr>().is_err() {
        return Err(HostPortError::PartialIpv4(h.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_is_read_or_refused_for_its_reason() {
        use HostPortError as E;
        let ok = |host: &str, port| {
            Ok(HostPort {
                host: host.into(),
                port,
            })
        };
        let name = |host: &str, why| {
            Err(E::NotHostName {
                host: host.into(),
                why,
            })
        };
        let chars = "write it with letters a to z, digits, `-`, `_` and `.` only";
        let cases: Vec<(&str, Result<HostPort, HostPortError>)> = vec![
            ("10.1.2.3:443", ok("10.1.2.3", 443)),
            ("gw.example:9000", ok("gw.example", 9000)),
            ("gw.example.:9000", ok("gw.example.", 9000)),
            ("ocg_gw-1:514", ok("ocg_gw-1", 514)),
            ("localhost:65535", ok("localhost", 65535)),
            (" gw:1 ", ok("gw", 1)),
            ("[::1]:80", ok("::1", 80)),
            ("[fd00::1]:514", ok("fd00::1", 514)),
            ("", Err(E::Empty)),
            ("10.1.2.3", Err(E::NoPort)),
            ("gw:", Err(E::NoPort)),
            ("[::1]", Err(E::NoPort)),
            (":443", Err(E::NoHost)),
            ("h:0", Err(E::BadPort("0".into()))),
            ("h:70000", Err(E::BadPort("70000".into()))),
            ("h:+514", Err(E::BadPort("+514".into()))),
            ("h:51 4", Err(E::BadPort("51 4".into()))),
            ("::1:514", Err(E::Unbracketed)),
            ("a:b:514", Err(E::Unbracketed)),
            ("[gw]:514", Err(E::NotIpv6("gw".into()))),
            ("[::1:514", Err(E::NotIpv6("::1:514".into()))),
            ("[::1]x:514", Err(E::NotIpv6("[::1]x:514".into()))),
            ("10.1.2:514", Err(E::PartialIpv4("10.1.2".into()))),
            ("010.1.2.3:514", Err(E::PartialIpv4("010.1.2.3".into()))),
            ("2130706433:514", Err(E::PartialIpv4("2130706433".into()))),
            ("0x7f000001:514", Err(E::PartialIpv4("0x7f000001".into()))),
            ("256.1.1.1:514", Err(E::PartialIpv4("256.1.1.1".into()))),
            ("a b:1", name("a b", chars)),
            ("h\tx:514", name("h\tx", chars)),
            ("h@x:1", name("h@x", chars)),
            ("h%0a:514", name("h%0a", chars)),
            ("gw/x:514", name("gw/x", chars)),
            ("ocg.香港:514", name("ocg.香港", chars)),
            (
                "a..b:514",
                name("a..b", "it has an empty part (a leading dot or `..`)"),
            ),
            (
                ".gw:514",
                name(".gw", "it has an empty part (a leading dot or `..`)"),
            ),
            (
                "-gw:514",
                name("-gw", "a part between dots starts or ends with `-`"),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), want, "{text:?}");
        }
        let long = format!("{}:1", "a".repeat(64));
        assert!(matches!(parse(&long), Err(E::NotHostName { .. })));
        let long = format!("{}:1", "abcdefgh.".repeat(29));
        assert!(matches!(parse(&long), Err(E::NotHostName { .. })));
    }

    #[test]
    fn messages_say_what_to_write_and_show_controls_as_stand_ins() {
        let msg = |s: &str| parse(s).unwrap_err().to_string();
        assert_eq!(
            msg("::1:514"),
            "an IPv6 address is written in brackets, such as [fd00::1]:514"
        );
        assert_eq!(
            msg("h\u{1b}[2J:1"),
            "the host `h␛[2J` is not a host name: write it with letters a to z, digits, `-`, `_` and `.` only"
        );
        assert!(msg("10.1.2:514").contains("such as 10.1.2.3"));
    }
}
