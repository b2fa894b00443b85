//! The multicast check on a real multicast path: inside a network namespace the test makes
//! (`unshare -rn`: a user and a network namespace, no privilege needed), loopback is brought up
//! with multicast on and a route for 224.0.0.0/4; the test's own sender sends to a group, and
//! `drillbook check` joins, counts and passes; with the sender stopped it fails, and the
//! loopback interface's transmit counter shows the check itself sent nothing.
//!
//! If namespaces are unavailable here the test fails, saying why: it does not pass quietly.

#[path = "support/cli.rs"]
mod cli;

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const INSIDE: &str = "DRILLBOOK_TEST_INSIDE_NETNS";

#[test]
fn multicast_in_a_network_namespace() {
    let exe = std::env::current_exe().expect("the test binary's path");
    let script = "ip link set lo up && ip link set lo multicast on && \
                  ip route add 224.0.0.0/4 dev lo && \
                  exec \"$0\" --exact inside_the_namespace --include-ignored --nocapture --test-threads=1";
    let out = Command::new("unshare")
        .args(["-rn", "sh", "-c", script])
        .arg(&exe)
        .env(INSIDE, "1")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "network namespaces unavailable: cannot run `unshare` ({e}); install util-linux and iproute2 (.ci/run does)"
            )
        });
    let so = String::from_utf8_lossy(&out.stdout);
    let se = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() || so.contains("running 1 test"),
        "network namespaces unavailable here: `unshare -rn` with `ip` failed ({}), so the multicast check cannot be tested on a private loopback. This test needs unprivileged user and network namespaces (kernel.unprivileged_userns_clone=1, or root) and iproute2.\nstdout: {so}\nstderr: {se}",
        out.status
    );
    assert!(
        out.status.success(),
        "inside the namespace:\nstdout: {so}\nstderr: {se}"
    );
    assert!(
        so.contains("test inside_the_namespace ... ok") && so.contains("1 passed"),
        "the inner test did not run:\n{so}"
    );
}

/// UDP datagrams this network namespace has sent, from `/proc/self/net/snmp` (per namespace;
/// `/sys/class/net` shows the host's). The kernel's own IGMP membership report when a socket
/// joins is not a datagram anyone sent, and is not counted.
fn udp_out() -> u64 {
    let snmp = std::fs::read_to_string("/proc/self/net/snmp").expect("the namespace's counters");
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let names: Vec<&str> = udp.next().expect("Udp header").split_whitespace().collect();
    let values: Vec<&str> = udp.next().expect("Udp values").split_whitespace().collect();
    let i = names
        .iter()
        .position(|n| *n == "OutDatagrams")
        .expect("OutDatagrams");
    values[i].parse().unwrap()
}

/// A free UDP port on the group.
fn free_port() -> u16 {
    UdpSocket::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn check(runbook: &Path, site: &Path, step: &str) -> (i32, String) {
    let out = cli::drillbook(&[
        "check",
        "--runbook",
        runbook.to_str().unwrap(),
        "--site",
        site.to_str().unwrap(),
        step,
    ]);
    // Words joined by single spaces: the table wraps long rows at 80 columns.
    let text = format!("{}{}", cli::stdout(&out), cli::stderr(&out));
    (
        out.status.code().unwrap_or(-1),
        text.split_whitespace().collect::<Vec<_>>().join(" "),
    )
}

#[test]
#[ignore = "run by multicast_in_a_network_namespace, inside the namespace it makes"]
fn inside_the_namespace() {
    assert!(
        std::env::var_os(INSIDE).is_some(),
        "this part runs inside the namespace multicast_in_a_network_namespace makes; run that test"
    );
    let group = Ipv4Addr::new(239, 255, 7, 7);
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site.yaml");
    let write_site = |source: &str| {
        std::fs::write(
            &site,
            format!(
                "site:\n  omd_group: {group}:{port}\n  omd_source: {source}\n  omd_interface: lo\n"
            ),
        )
        .unwrap();
    };
    write_site("127.0.0.1");
    let runbook =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/checks/multicast.yaml");

    // The test's sender: a datagram every 20 ms from 127.0.0.1 to the group.
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                s.send_to(&n.to_be_bytes(), SocketAddrV4::new(group, port))
                    .unwrap();
                n += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            n
        })
    };

    let (code, text) = check(&runbook, &site, "omd-flowing");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!("pass omd-flowing multicast {group}:{port}")),
        "{text}"
    );
    assert!(text.contains("from 127.0.0.1"), "{text}");
    let count: u32 = text
        .split("datagrams=")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count in:\n{text}"));
    assert!(
        (10..=200).contains(&count),
        "about 50 datagrams in 1 s, got {count}:\n{text}"
    );
    assert!(text.contains("first_arrival="), "{text}");

    // Source-specific, on the interface named: the sender's source passes, another does not.
    let (code, text) = check(&runbook, &site, "omd-flowing-from-source");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("source 127.0.0.1 on lo"), "{text}");
    write_site("127.0.0.2");
    let (code, text) = check(&runbook, &site, "omd-flowing-from-source");
    assert_eq!(
        code, 1,
        "datagrams from another source are not this channel's:\n{text}"
    );
    assert!(text.contains("0 datagrams"), "{text}");

    stop.store(true, Ordering::Relaxed);
    let sent = sender.join().unwrap();
    assert!(sent > 0);
    // Silence: the check fails, and no datagram was sent in the namespace while it joined and listened.
    write_site("127.0.0.1");
    let before = udp_out();
    let (code, text) = check(&runbook, &site, "omd-flowing");
    let after = udp_out();
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FAIL omd-flowing"), "{text}");
    assert!(text.contains("0 datagrams on"), "{text}");
    assert!(text.contains("at least 3 wanted"), "{text}");
    assert_eq!(
        after - before,
        0,
        "the check sent {} datagram(s)",
        after - before
    );
}
