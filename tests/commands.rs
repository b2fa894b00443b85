//! The command line through the real binary: exit codes, help and version, `schedule` with the
//! session zone beside the operator's, `runbooks export` round-tripping through `validate`, and
//! role composition (`--role ep,hsn`).

use drillbook::cli::Selection;
use drillbook::cmd::load_selection;
use drillbook::runbook::{bundled_roles, load_bundled};
use std::process::{Command, Output};

fn drillbook(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_drillbook"));
    c.args(args).env_remove("RUST_BACKTRACE");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("run drillbook")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn validate_with_no_path_checks_the_bundled_runbooks() {
    let out = drillbook(&["validate"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("ok: bundled runbooks valid (1 session, 4 runbooks, "),
        "{stdout}"
    );
}

#[test]
fn every_bundled_runbook_validates_alone_and_together() {
    for role in bundled_roles() {
        let plan =
            load_bundled(std::slice::from_ref(&role)).unwrap_or_else(|e| panic!("{role}: {e}"));
        assert!(!plan.steps.is_empty(), "{role} has steps");
        assert!(plan.steps.iter().all(|s| s.role == role));
    }
    assert_eq!(bundled_roles(), ["ep", "ccep", "hsn", "omd"]);
    let all = load_bundled(&bundled_roles()).unwrap();
    assert_eq!(all.runbooks.len(), 4);
}

#[test]
fn usage_errors_exit_2() {
    let out = drillbook(&["validate", "--no-such-flag"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--no-such-flag"));

    let out = drillbook(&["schedule", "--role", "ep,trader"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("unknown role `trader`: the bundled roles are ep, ccep, hsn, omd"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn help_and_version() {
    let out = drillbook(&["--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for cmd in ["validate", "schedule", "runbooks", "run"] {
        assert!(help.contains(cmd), "--help lists {cmd}:\n{help}");
    }
    let out = drillbook(&["validate", "--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("Exit 0 valid, 1 invalid, 2 usage"));
    let out = drillbook(&["--version"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout).trim(),
        format!("drillbook {}", env!("CARGO_PKG_VERSION"))
    );
}

/// The schedule line of a phase.
fn line_of<'a>(out: &'a str, title: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(title))
        .unwrap_or_else(|| panic!("no `{title}` line in:\n{out}"))
}

#[test]
fn schedule_shows_hong_kong_beside_london() {
    let out = drillbook(&["schedule", "--role", "ep"], &[("TZ", "Europe/London")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.contains("SESSION (HKT)") && s.contains("LOCAL (GMT)"),
        "{s}"
    );
    // 08:00 in Hong Kong is 00:00 in London (GMT in November), on the same line.
    let primary = line_of(&s, "Primary site");
    assert!(
        primary.contains("25 Nov 08:00-10:00") && primary.contains("25 Nov 00:00-02:00"),
        "{primary}"
    );
    // 12:10 beside 04:10; the start is approximate in both zones.
    let backup = line_of(&s, "Backup site");
    assert!(
        backup.contains("25 Nov ~11:00-12:10") && backup.contains("25 Nov ~03:00-04:10"),
        "{backup}"
    );
    // Deadlines of the role, in both zones.
    assert!(
        s.contains("Wed 22 Nov 2023 23:59 HKT  [local Wed 22 Nov 2023 15:59 GMT]"),
        "{s}"
    );
    assert!(
        !s.contains("HSN Intention"),
        "an HSN deadline is not an EP's:\n{s}"
    );
}

#[test]
fn schedule_lists_the_steps_due_after_their_phase_start_at_the_planned_time() {
    let out = drillbook(
        &["schedule", "--role", "ep,hsn"],
        &[("TZ", "Europe/London")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    // `+20m` after the backup window's approximate ~11:00: ~11:20, one line for both roles' steps,
    // in both zones, before the deadlines; never among the steps on other days.
    assert!(
        s.contains(
            "\nSTEPS DUE AFTER THEIR PHASE'S START (! critical; ~ moves with the start's\nconfirmed time)\n  ~11:20 HKT  [local ~03:20 GMT]  20 min after Backup site starts (~11:00 HKT)\n   ! ep-backup-escalate (ep): Not logged on 20 minutes into the backup window -\n     call the hotline\n   ! hsn-backup-escalate (hsn): Not reached 20 minutes into the backup window -\n     call the Service Desk\n\nDEADLINES\n"
        ),
        "{s}"
    );
    assert_eq!(s.matches("ep-backup-escalate").count(), 1, "{s}");
    // A runbook with no such step has no such section.
    let omd = text(&drillbook(&["schedule", "--role", "omd"], &[]).stdout);
    assert!(!omd.contains("AFTER THEIR PHASE'S START"), "{omd}");
}

#[test]
fn schedule_fits_80_columns_folding_at_words() {
    let s = text(
        &drillbook(
            &["schedule", "--role", "ep,ccep,hsn,omd"],
            &[("TZ", "Europe/London")],
        )
        .stdout,
    );
    for line in s.lines() {
        assert!(line.chars().count() <= 80, "over 80 columns: {line:?}");
    }
    // A long step title goes on at a hanging indent, whole words kept.
    assert!(
        s.contains("After Friday's close - no next-day requests, back\n     up, disconnect"),
        "{s}"
    );
}

#[test]
fn schedule_reads_session_times_in_the_session_zone_whatever_the_host_zone() {
    // The same instants whatever TZ says: only the local column moves.
    let ny = text(&drillbook(&["schedule", "--role", "ep"], &[("TZ", "America/New_York")]).stdout);
    let primary = line_of(&ny, "Primary site");
    assert!(
        primary.contains("25 Nov 08:00-10:00") && primary.contains("24 Nov 19:00-21:00"),
        "{primary}"
    );
}

#[test]
fn runbooks_export_writes_files_that_validate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = drillbook(&["runbooks", "export", d], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let folder = dir.path().join("hkex-ps2-2023-11-25");
    // The command it suggests works as printed, and so does validate on DIR itself (a folder of
    // session folders).
    let said = text(&out.stdout);
    let suggested = said
        .lines()
        .find_map(|l| l.strip_prefix("Check your edits with: drillbook validate "))
        .expect("a validate suggestion");
    assert_eq!(suggested, folder.to_str().unwrap(), "{said}");
    for target in [suggested, d] {
        let out = drillbook(&["validate", target], &[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{target}: {}",
            text(&out.stderr)
        );
    }
    let empty = tempfile::tempdir().unwrap();
    let out = drillbook(&["validate", empty.path().to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no .yaml files in this folder or in its folders"));
    for f in [
        "session.yaml",
        "ep.yaml",
        "ccep.yaml",
        "hsn.yaml",
        "omd.yaml",
    ] {
        assert!(folder.join(f).is_file(), "{f} written");
    }
    let bundled = text(&drillbook(&["validate"], &[]).stdout);
    let counts = bundled.split_once('(').unwrap().1;
    let out = drillbook(&["validate", folder.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("ok: files valid ({counts}"));

    // A second export refuses to overwrite the firm's edits.
    let again = drillbook(&["runbooks", "export", d], &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("already exists; export does not overwrite"));

    // An edit that breaks the exported copy is caught with its position.
    let ep = folder.join("ep.yaml");
    let broken =
        std::fs::read_to_string(&ep)
            .unwrap()
            .replacen("critical: true", "critcal: true", 1);
    std::fs::write(&ep, broken).unwrap();
    let out = drillbook(&["validate", folder.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!("{}:", ep.display()))
            && stderr.contains("did you mean `critical`?"),
        "{stderr}"
    );
}

#[test]
fn roles_compose_with_each_step_tagged() {
    let plan = load_selection(&Selection {
        role: vec!["ep".into(), "hsn".into()],
        runbooks: vec![],
    })
    .unwrap();
    assert_eq!(plan.roles(), ["ep", "hsn"]);
    for s in &plan.steps {
        assert_eq!(s.role, plan.runbooks[s.runbook].role, "{}", s.id);
    }
    let ep = plan.steps.iter().filter(|s| s.role == "ep").count();
    let hsn = plan.steps.iter().filter(|s| s.role == "hsn").count();
    assert_eq!(ep, load_bundled(&["ep".into()]).unwrap().steps.len());
    assert_eq!(hsn, load_bundled(&["hsn".into()]).unwrap().steps.len());
    // Phase by phase; within a phase, the roles in the order given.
    for w in plan.steps.windows(2) {
        assert!(w[0].phase <= w[1].phase);
        if w[0].phase == w[1].phase {
            assert!(w[0].runbook <= w[1].runbook);
        }
    }
    // The order given is kept.
    let rev = load_bundled(&["hsn".into(), "ep".into()]).unwrap();
    assert_eq!(rev.roles(), ["hsn", "ep"]);

    // Through the binary: both roles' deadlines and contacts, both named.
    let out = drillbook(&["schedule", "--role", "ep,hsn"], &[("TZ", "UTC")]);
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    assert!(s.contains("Roles: ep, hsn"), "{s}");
    assert!(
        s.contains("Registration form") && s.contains("HSN Intention Form"),
        "{s}"
    );
    assert!(
        s.contains(&format!("{} steps in 2 runbook(s)", ep + hsn)),
        "{s}"
    );
}

/// The last line of `schedule`: the command that opens what was loaded.
fn open_command(out: &Output) -> String {
    let said = text(&out.stdout);
    let mut lines = said.lines().rev();
    let cmd = lines.next().unwrap_or_default();
    assert!(
        lines.next().is_some_and(|l| l.ends_with("Open them with:")),
        "{said}"
    );
    cmd.trim().to_owned()
}

#[test]
fn schedule_suggests_the_command_that_opens_what_was_loaded() {
    let bundled = drillbook(&["schedule", "--role", "ep,hsn"], &[]);
    assert_eq!(open_command(&bundled), "drillbook run --role ep,hsn");

    // The operator's own file, in a folder whose name needs quoting: `--role ep` would open the
    // bundled runbook instead.
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("our runbooks");
    let out = drillbook(&["runbooks", "export", folder.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let ep = folder.join("hkex-ps2-2023-11-25/ep.yaml");
    let own = drillbook(&["schedule", ep.to_str().unwrap()], &[]);
    assert_eq!(own.status.code(), Some(0), "{}", text(&own.stderr));
    let cmd = open_command(&own);
    assert_eq!(cmd, format!("drillbook run '{}'", ep.display()));
    // Pasted into a shell, it names that same file: `schedule` given its words says the same.
    let words = cmd.strip_prefix("drillbook run ").unwrap();
    let again = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} schedule {words}",
            env!("CARGO_BIN_EXE_drillbook")
        ))
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(open_command(&again), cmd);
}

#[test]
fn runbook_files_compose_over_one_session() {
    let dir = tempfile::tempdir().unwrap();
    let out = drillbook(&["runbooks", "export", dir.path().to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0));
    let f = dir.path().join("hkex-ps2-2023-11-25");
    let plan = load_selection(&Selection {
        role: vec![],
        runbooks: vec![f.join("ccep.yaml"), f.join("omd.yaml")],
    })
    .unwrap();
    assert_eq!(plan.roles(), ["ccep", "omd"]);
    // A CCEP's order steps are not applicable by design, with the reason.
    assert!(
        plan.steps
            .iter()
            .any(|s| s.role == "ccep" && s.not_applicable.as_deref().is_some_and(|r| !r.is_empty()))
    );
}

#[test]
fn the_format_documents_examples_validate_together() {
    // docs/runbook-format.md: the first YAML block is a session file, the second a runbook on it.
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/runbook-format.md"
    ))
    .unwrap();
    let blocks: Vec<&str> = doc
        .split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 2, "two yaml examples");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("session.yaml"), blocks[0]).unwrap();
    std::fs::write(dir.path().join("ep.yaml"), blocks[1]).unwrap();
    let out = drillbook(&["validate", dir.path().to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Every optional step field is shown in the example.
    for field in [
        "detail:",
        "basis:",
        "system:",
        "due:",
        "critical:",
        "evidence:",
        "expect:",
        "command:",
        "not_applicable:",
        "settles:",
        "applies_if:",
        "check:",
    ] {
        assert!(blocks[1].contains(field), "example shows {field}");
    }
    // And every optional session field that decides what a runbook does.
    for field in ["choices:", "target:", "options:"] {
        assert!(blocks[0].contains(field), "example shows {field}");
    }
}

#[test]
fn a_tz_that_is_no_zone_name_is_warned_about_and_steps_on_other_days_are_listed() {
    for bad in ["UTC+3", "garbage/Zone"] {
        let out = drillbook(&["schedule", "--role", "ep"], &[("TZ", bad)]);
        assert!(out.status.success());
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!("TZ `{bad}` is not a zone name; showing ")),
            "{err}"
        );
        // The zone used instead is named, and it is the one the local column shows.
        let zone = err
            .split("showing ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        assert!(
            text(&out.stdout).contains(&format!("beside yours, {zone}.")),
            "{zone}"
        );
    }
    let out = drillbook(&["schedule", "--role", "ep"], &[("TZ", "Europe/London")]);
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for want in [
        "confirmed when observed",
        "STEPS ON OTHER DAYS",
        "  Fri 24 Nov 2023 23:59 HKT  [local Fri 24 Nov 2023 15:59 GMT]\n   ! ep-pre-friday-close (ep)",
        "  Mon 27 Nov 2023 08:30 HKT  [local Mon 27 Nov 2023 00:30 GMT]\n   ! ep-monday-logon (ep)",
        "    our target: Tue 21 Nov 2023 17:00 HKT  [local Tue 21 Nov 2023 09:00 GMT]",
    ] {
        assert!(s.contains(want), "missing {want:?} in:\n{s}");
    }
    assert!(!s.contains("announces"), "{s}");
}

#[test]
fn a_role_named_twice_is_one_usage_error() {
    for roles in [
        &["--role", "ep,ep"][..],
        &["--role", "ep", "--role", "ccep,ep"],
    ] {
        let mut args = vec!["schedule"];
        args.extend_from_slice(roles);
        let out = drillbook(&args, &[]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(
            err.trim_end(),
            "--role: the role `ep` is named more than once; name each role once",
            "{args:?}"
        );
    }
}
