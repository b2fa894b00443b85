//! One reading of `HOST:PORT` everywhere, through the real binary: a collector for `forward --to`
//! and `run --forward`, a `tcp` check's target filled in from the site file, and one written in
//! the runbook. Each bad address is refused in every place, for the same reason, in the same
//! words; `run` refuses it before it opens a journal.

#[path = "support/cli.rs"]
mod cli;

use cli::{drillbook, stderr, stdout};
use std::path::Path;

/// (HOST:PORT, what every place says about it)
const BAD: &[(&str, &str)] = &[
    (
        "::1:514",
        "an IPv6 address is written in brackets, such as [fd00::1]:514",
    ),
    (
        "a:b:514",
        "an IPv6 address is written in brackets, such as [fd00::1]:514",
    ),
    (
        "10.1.2:514",
        "`10.1.2` is not a whole IPv4 address: write four numbers from 0 to 255",
    ),
    ("010.1.2.3:514", "`010.1.2.3` is not a whole IPv4 address"),
    (
        "h@x:514",
        "the host `h@x` is not a host name: write it with letters a to z, digits",
    ),
    (
        "h%0a:514",
        "the host `h%0a` is not a host name: write it with letters a to z, digits",
    ),
    (
        "a..b:514",
        "the host `a..b` is not a host name: it has an empty part",
    ),
    (
        "-gw:514",
        "the host `-gw` is not a host name: a part between dots starts or ends with `-`",
    ),
    ("gw:+514", "the port `+514` is not a number from 1 to 65535"),
    ("gw:0", "the port `0` is not a number from 1 to 65535"),
    ("gw", "the port is missing (HOST:PORT)"),
    ("[gw]:514", "`gw` in brackets is not an IPv6 address"),
];

/// A runbook with one `tcp` check on the site value `gw`, beside the fixture session.
fn runbook(dir: &Path) -> std::path::PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::copy(
        fixtures.join("checks/session.yaml"),
        dir.join("session.yaml"),
    )
    .unwrap();
    let rb = dir.join("rb.yaml");
    std::fs::write(
        &rb,
        "format: 1\nid: rb\nrole: ops\ntitle: Checks\nsession: session.yaml\nsite:\n  gw: the gateway\nphases:\n  primary:\n    - id: reach\n      title: Reach the gateway\n      check:\n        tcp: ${gw}\n        timeout: 1s\n",
    )
    .unwrap();
    rb
}

#[test]
fn a_bad_host_or_port_is_refused_alike_by_forward_run_and_a_check() {
    let dir = tempfile::tempdir().unwrap();
    let rb = runbook(dir.path());
    let site = dir.path().join("site.yaml");
    let journal = dir.path().join("j.jsonl");
    let never = dir.path().join("never.jsonl");
    let out = cli::record_all(&journal, "ep", "alice", &["note one"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for &(address, says) in BAD {
        for scheme in ["syslog+tcp", "syslog+udp"] {
            let url = format!("{scheme}://{address}");
            // `forward --to`: a usage error, before anything is read or sent.
            let out = drillbook(&["forward", "--to", &url, journal.to_str().unwrap(), "--once"]);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "forward --to {url}: {err}");
            assert!(
                err.contains(&format!("--to `{url}`: ")) && err.contains(says),
                "forward --to {url} says `{says}`:\n{err}"
            );
            // `run --forward`: the same words, and no journal opened.
            let out = drillbook(&[
                "run",
                "--role",
                "ep",
                "--forward",
                &url,
                "--rehearse",
                "--headless",
                "--journal",
                never.to_str().unwrap(),
            ]);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "run --forward {url}: {err}");
            assert!(
                err.contains(&format!("--forward `{url}`: ")) && err.contains(says),
                "run --forward {url} says `{says}`:\n{err}"
            );
            assert!(!never.exists(), "run --forward {url} opened a journal");
        }
        // A site value filled into a `tcp` check: the check is an error, for the same reason.
        std::fs::write(&site, format!("site:\n  gw: \"{address}\"\n")).unwrap();
        let out = drillbook(&[
            "check",
            "--runbook",
            rb.to_str().unwrap(),
            "--site",
            site.to_str().unwrap(),
        ]);
        // (The detail is folded to the terminal's width: read as one line.)
        let text = stdout(&out)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(out.status.code(), Some(1), "check {address}: {text}");
        assert!(
            text.contains(&format!("ERROR reach tcp {address}, "))
                && text.contains(&format!(
                    "`{address}` is not HOST:PORT (such as 10.1.2.3:443 or gw.example:443): {says}"
                )),
            "check with gw={address} says `{says}`:\n{text}{}",
            stderr(&out)
        );
    }
}

#[test]
fn a_bad_host_written_in_the_runbook_is_refused_by_validate_for_the_same_reason() {
    let dir = tempfile::tempdir().unwrap();
    let rb = runbook(dir.path());
    let text = std::fs::read_to_string(&rb).unwrap();
    for &(address, says) in BAD {
        std::fs::write(&rb, text.replace("${gw}", &format!("\"{address}\""))).unwrap();
        let out = drillbook(&["validate", rb.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{address}: {err}");
        assert!(
            err.contains(&format!("{}:13:14: ", rb.display()))
                && err.contains(&format!("gw.example:443): {says}")),
            "validate with tcp: {address} says `{says}` at 13:14:\n{err}"
        );
    }
}

#[test]
fn good_addresses_are_taken_alike() {
    let dir = tempfile::tempdir().unwrap();
    let rb = runbook(dir.path());
    let text = std::fs::read_to_string(&rb).unwrap();
    for address in [
        "10.1.2.3:514",
        "gw.example:514",
        "ocg_gw-1:514",
        "[fd00::1]:514",
    ] {
        let url = format!("syslog+tcp://{address}");
        let out = drillbook(&["forward", "--to", &url, "/nonexistent/j.jsonl", "--once"]);
        let err = stderr(&out);
        assert!(
            !err.contains("--to `") && err.contains("cannot read the journal"),
            "{url} is taken: {err}"
        );
        std::fs::write(&rb, text.replace("${gw}", &format!("\"{address}\""))).unwrap();
        let out = drillbook(&["validate", rb.to_str().unwrap()]);
        assert!(out.status.success(), "{address}: {}", stderr(&out));
    }
}
