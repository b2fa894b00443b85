//! A rehearsal of each role, and of all four together, run as a user runs it (`drillbook run
//! --role R --rehearse --speed 3600 --headless --choose ...`): the whole day passes, the choices
//! are journaled, and no step that does not apply to the chosen setup raises an overdue alert,
//! while the steps that do apply still do.

use drillbook::journal;
use drillbook::runbook::load_bundled;
use std::collections::HashSet;
use std::process::Command;

/// Run the day headless; the overdue keys it printed, and the plan and record it left.
fn rehearse(roles: &str, choose: &str) -> (Vec<String>, drillbook::runbook::Plan, journal::Record) {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("r.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_drillbook"))
        .args([
            "run",
            "--role",
            roles,
            "--rehearse",
            "--speed",
            "3600",
            "--headless",
        ])
        .args(["--notify", "off", "--choose", choose, "--journal"])
        .arg(&j)
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("[reporting.end]"),
        "the day ran to its end: {stdout}"
    );
    let overdue = stdout
        .lines()
        .filter_map(|l| l.rsplit_once("[step:"))
        .map(|(_, k)| format!("step:{}", k.trim_end_matches(']')))
        .filter(|k| k.ends_with(":overdue"))
        .collect();
    let roles: Vec<String> = roles.split(',').map(str::to_owned).collect();
    let plan = load_bundled(&roles).unwrap();
    let record = journal::read(&j).unwrap().record;
    (overdue, plan, record)
}

/// The steps the recorded setup rules out: none of them may have been alerted as overdue.
fn check(roles: &str, choose: &str, must_be_na: &[&str], must_alert: &[&str]) {
    let (overdue, plan, record) = rehearse(roles, choose);
    let alerted: HashSet<&str> = overdue.iter().map(String::as_str).collect();
    let na: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.not_applicable.is_none())
        .filter(|s| drillbook::setup::not_applying(&plan, s, &record).is_some())
        .map(|s| s.id.as_str())
        .collect();
    for id in must_be_na {
        assert!(
            na.contains(id),
            "{roles} with {choose}: {id} should be n/a ({na:?})"
        );
    }
    for id in &na {
        let key = format!("step:{id}:overdue");
        assert!(
            !alerted.contains(key.as_str()),
            "{roles} with {choose}: {id} does not apply, yet it was alerted as overdue"
        );
    }
    for id in must_alert {
        let key = format!("step:{id}:overdue");
        assert!(
            alerted.contains(key.as_str()),
            "{roles}: {key} missing: {overdue:?}"
        );
    }
}

#[test]
fn ep_without_drop_copy_staying_connected() {
    check(
        "ep",
        "drop-copy=no,failover-connection=stay-connected,rundown-feedback-form=no",
        &[
            "ep-primary-logon-dropcopy",
            "ep-backup-logon-dropcopy",
            "ep-failover-logoff",
            "ep-report-hkex-feedback",
        ],
        &["ep-primary-logon-trading", "ep-backup-end"],
    );
}

#[test]
fn ep_with_drop_copy_logging_off_alerts_those_steps() {
    // The other branch: the same steps now apply, and their alerts come.
    check(
        "ep",
        "drop-copy=yes,failover-connection=log-off",
        &["ep-failover-disconnects", "ep-failover-absence"],
        &["ep-primary-logon-dropcopy", "ep-failover-logoff"],
    );
}

#[test]
fn ccep_staying_connected() {
    check(
        "ccep",
        "failover-connection=stay-connected,rundown-feedback-form=no",
        &["ccep-failover-logoff", "ccep-report-hkex-feedback"],
        &["ccep-primary-logon"],
    );
}

#[test]
fn hsn_logging_off() {
    check(
        "hsn",
        "failover-connection=log-off",
        &["hsn-failover-absence"],
        &["hsn-primary-connectivity"],
    );
}

#[test]
fn omd_without_a_market_data_form() {
    check(
        "omd",
        "mdd-feedback-form=no",
        &["omd-report-hkex-feedback"],
        &["omd-primary-omdc", "omd-primary-omdcc"],
    );
}

#[test]
fn all_four_roles_together() {
    check(
        "ep,ccep,hsn,omd",
        "drop-copy=no,failover-connection=stay-connected,rundown-feedback-form=no,mdd-feedback-form=no",
        &[
            "ep-primary-logon-dropcopy",
            "ep-failover-logoff",
            "ccep-failover-logoff",
            "omd-report-hkex-feedback",
        ],
        &[
            "ep-primary-logon-trading",
            "ccep-primary-logon",
            "omd-primary-omdc",
        ],
    );
}

#[test]
fn a_choice_the_session_does_not_have_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_drillbook"))
        .args([
            "run",
            "--role",
            "omd",
            "--rehearse",
            "--headless",
            "--notify",
            "off",
        ])
        .args(["--choose", "drop-copy=no"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no loaded runbook records `drop-copy`"),
        "{err}"
    );
}

/// One choice given two options is refused before anything is journaled, naming both; the same
/// option twice (spelled as the operator likes) is taken once.
#[test]
fn one_choice_takes_one_option() {
    let dir = tempfile::tempdir().unwrap();
    let run = |choose: &str, journal: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_drillbook"))
            .args(["run", "--role", "ep", "--rehearse", "--speed", "3600"])
            .args(["--headless", "--notify", "off", "--choose", choose])
            .arg("--journal")
            .arg(journal)
            .env("TZ", "UTC")
            .output()
            .unwrap()
    };
    let conflict = dir.path().join("conflict.jsonl");
    let out = run("drop-copy=no,drop-copy=yes", &conflict);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`drop-copy` is given two options, `no` and `yes`"),
        "{err}"
    );
    assert!(!conflict.exists(), "refused before the journal was opened");

    let repeat = dir.path().join("repeat.jsonl");
    let out = run("drop-copy=no,drop-copy=NO", &repeat);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan = load_bundled(&["ep".to_owned()]).unwrap();
    let settler = drillbook::setup::settler(&plan, "drop-copy").unwrap();
    let events = journal::read(&repeat).unwrap().events;
    let recorded: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.action {
            journal::Action::Evidence { step, value, .. } if *step == settler.id => {
                Some(value.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(recorded, ["no"], "the repeated option journaled once");

    // Resumed with the other option: changed as asked, and said, not silently.
    let out = run("drop-copy=yes", &repeat);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "--choose changed `drop-copy` from no (recorded earlier in this journal) to yes"
        ),
        "{err}"
    );
}

/// walk 3: `--choose` journaled its choice as `#1`, before the `attach` (`#2`), so the record
/// showed a choice made before anyone started recording. The attach comes first, on a new
/// journal and on a resumed one whose choice is changed.
#[test]
fn a_choice_is_journaled_after_the_attach_of_the_run_that_made_it() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("c.jsonl");
    let run = |choose: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_drillbook"))
            .args(["run", "--role", "ep", "--rehearse", "--speed", "3600"])
            .args(["--headless", "--notify", "off", "--operator", "alice"])
            .args(["--choose", choose, "--journal"])
            .arg(&j)
            .env("TZ", "UTC")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let kinds = || -> Vec<(u64, String)> {
        journal::read(&j)
            .unwrap()
            .events
            .iter()
            .map(|e| {
                let kind = match &e.action {
                    journal::Action::Evidence { value, .. } => format!("evidence {value}"),
                    a => a.kind().to_owned(),
                };
                (e.seq, kind)
            })
            .collect()
    };
    run("drop-copy=no");
    let first = kinds();
    assert_eq!(
        first[..2],
        [(1, "attach".to_owned()), (2, "evidence no".to_owned())],
        "{first:?}"
    );
    // Resumed with the other option: this run's attach, then its choice.
    run("drop-copy=yes");
    let all = kinds();
    let resumed = &all[first.len()..];
    assert_eq!(
        resumed[..2],
        [
            (first.len() as u64 + 1, "attach".to_owned()),
            (first.len() as u64 + 2, "evidence yes".to_owned())
        ],
        "{all:?}"
    );
    assert_eq!(
        all.iter().filter(|(_, k)| k == "attach").count(),
        2,
        "one attach per run, not one more from the loop: {all:?}"
    );
}
