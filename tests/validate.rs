//! `drillbook validate` on broken files, through the real binary: each fixture in
//! `tests/fixtures/invalid/` must give exit 1 and one line `path:line:column: message` naming its
//! problem, with no panic and no Rust debug dump. Hostile files (alias bomb, deep nesting, huge
//! files) must be answered the same way within a bounded time.

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/invalid")
        .join(name)
}

/// Run the binary and wait for it, killing it (and failing) if it runs past `limit`: hostile
/// input must not hang the loader.
fn run_bounded(args: &[&std::ffi::OsStr], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_drillbook"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start drillbook");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("drillbook {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn validate(paths: &[&Path]) -> (i32, String, String) {
    let args: Vec<&std::ffi::OsStr> = std::iter::once("validate".as_ref())
        .chain(paths.iter().map(|p| p.as_os_str()))
        .collect();
    let out = run_bounded(&args, Duration::from_secs(60));
    (
        out.status.code().expect("exited, not killed by a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// No panic, no `{:?}` of a Rust value, no Rust type names.
fn assert_clean(stderr: &str) {
    for bad in [
        "panicked",
        "RUST_BACKTRACE",
        "Error(",
        "{ ",
        " }",
        "Some(",
        "Raw",
        "struct ",
    ] {
        assert!(
            !stderr.contains(bad),
            "stderr has `{bad}`, a panic or debug dump:\n{stderr}"
        );
    }
}

/// `validate FILE` fails with exactly one problem at `line:col` whose message holds `fragment`.
fn expect_one(name: &str, line: usize, col: usize, fragment: &str) {
    let path = fixture(name);
    let (code, stdout, stderr) = validate(&[&path]);
    assert_eq!(
        code, 1,
        "{name}: exit code; stdout {stdout}; stderr {stderr}"
    );
    assert_clean(&stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.last(),
        Some(&"1 problem found"),
        "{name}: one problem expected:\n{stderr}"
    );
    let want = format!("{}:{line}:{col}: ", path.display());
    assert!(
        lines[0].starts_with(&want),
        "{name}: expected position `{want}`, got:\n{stderr}"
    );
    assert!(
        lines[0].contains(fragment),
        "{name}: expected `{fragment}` in the message, got:\n{stderr}"
    );
}

#[test]
fn yaml_syntax_error_is_reported_where_the_string_opens() {
    expect_one("syntax-error.yaml", 3, 8, "a quoted string is never closed");
}

#[test]
fn unknown_field_is_a_typo_with_a_suggestion() {
    expect_one(
        "unknown-field.yaml",
        10,
        7,
        "unknown field `critcal`, expected one of `id`, `title`",
    );
    expect_one("unknown-field.yaml", 10, 7, "did you mean `critical`?");
}

#[test]
fn wrong_type_names_what_was_expected() {
    expect_one(
        "wrong-type.yaml",
        10,
        17,
        "phases.primary[0].critical: invalid type: string \"sometimes\", expected true or false",
    );
}

#[test]
fn unknown_timezone() {
    expect_one(
        "unknown-timezone.yaml",
        4,
        11,
        "unknown timezone `Asia/Hongkong_City`: use an IANA name",
    );
}

#[test]
fn impossible_time() {
    expect_one(
        "impossible-time.yaml",
        10,
        10,
        "`25:70` is not a possible time of day",
    );
}

#[test]
fn phases_out_of_order() {
    expect_one(
        "phases-out-of-order.yaml",
        13,
        12,
        "phase `primary` starts before phase `backup`, which is listed before it: list phases in time order",
    );
}

#[test]
fn overlapping_phases() {
    expect_one(
        "phases-overlap.yaml",
        13,
        12,
        "phase `failover` starts (10:00) before phase `primary` ends: phases must not overlap",
    );
}

#[test]
fn step_in_an_unknown_phase_lists_the_known_ones() {
    expect_one(
        "unknown-phase.yaml",
        7,
        3,
        "steps are grouped under `primery`, which is not a phase of session `fixture-hk` (its phases: primary, failover, backup)",
    );
}

#[test]
fn duplicate_ids() {
    expect_one(
        "duplicate-step-id.yaml",
        11,
        11,
        "duplicate step id `logon` (first used at line 8, column 11)",
    );
    expect_one(
        "duplicate-phase-id.yaml",
        11,
        9,
        "duplicate phase id `primary`",
    );
}

#[test]
fn missing_session_file_is_reported_at_the_runbooks_session_line() {
    expect_one(
        "missing-session.yaml",
        5,
        10,
        "session file `no-such-session.yaml` (",
    );
    expect_one(
        "missing-session.yaml",
        5,
        10,
        "cannot be read: no such file",
    );
}

#[test]
fn unreadable_session_file() {
    expect_one(
        "session-is-folder.yaml",
        5,
        10,
        "session file `folder-not-a-session` (",
    );
    expect_one("session-is-folder.yaml", 5, 10, "is a folder, not a file");
    expect_one(
        "session-not-text.yaml",
        5,
        10,
        "is not UTF-8 text (invalid byte at offset 24)",
    );
}

#[test]
fn unreadable_session_file_without_permission() {
    // root reads any file whatever its mode, so the case only exists for other users.
    if unsafe { libc::geteuid() } == 0 {
        eprintln!("skipped: running as root, file modes do not stop reading");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("session.yaml"), dir.path().join("session.yaml")).unwrap();
    std::fs::copy(fixture("unknown-phase.yaml"), dir.path().join("rb.yaml")).unwrap();
    std::fs::set_permissions(
        dir.path().join("session.yaml"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    let rb = dir.path().join("rb.yaml");
    let (code, _, stderr) = validate(&[&rb]);
    assert_eq!(code, 1);
    assert_clean(&stderr);
    assert!(
        stderr.starts_with(&format!(
            "{}:5:10: session file `session.yaml` (",
            rb.display()
        )) && stderr.contains("cannot be read: permission denied"),
        "{stderr}"
    );
}

#[test]
fn local_times_that_daylight_saving_skips_or_repeats() {
    expect_one(
        "dst-gap-london.yaml",
        10,
        10,
        "2023-03-26 01:30 does not exist in Europe/London: the clocks skip it for daylight saving",
    );
    expect_one(
        "dst-ambiguous-new-york.yaml",
        10,
        10,
        "2023-11-05 01:30 is ambiguous in America/New_York: it happens twice when the clocks go back (UTC offsets -04:00 and -05:00)",
    );
}

#[test]
fn alias_bomb_is_refused() {
    expect_one(
        "alias-bomb.yaml",
        11,
        7,
        "too many YAML aliases expanded (an alias bomb?)",
    );
}

#[test]
fn deep_nesting_is_refused_at_the_bracket_that_goes_too_deep() {
    // `title: ` then 5000 `[`: the 129th is at column 8 + 128.
    expect_one(
        "deep-nesting.yaml",
        2,
        136,
        "nesting is too deep (over 128 levels)",
    );
}

#[test]
fn huge_files_are_answered_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    // Over the size limit: refused unread.
    let big = dir.path().join("big.yaml");
    let line = format!("# {}\n", "x".repeat(1021));
    std::fs::write(&big, line.repeat(17 * 1024)).unwrap();
    let (code, _, stderr) = validate(&[&big]);
    assert_eq!(code, 1, "{stderr}");
    assert_clean(&stderr);
    assert!(
        stderr.starts_with(&format!(
            "{}: is 17 MiB; drillbook reads runbook files up to 16 MiB",
            big.display()
        )),
        "{stderr}"
    );

    // Under the limit, but a million-entry flow list: refused before the parser holds it all.
    let flat = dir.path().join("flat.yaml");
    std::fs::write(&flat, format!("title: [{}]\n", "a,".repeat(2_000_000))).unwrap();
    let (code, _, stderr) = validate(&[&flat]);
    assert_eq!(code, 1, "{stderr}");
    assert_clean(&stderr);
    assert!(
        stderr.starts_with(&format!("{}:1:", flat.display()))
            && stderr.contains("too many YAML values (over 1000000)"),
        "{stderr}"
    );

    // Under the limit: block sequences stacked on one line.
    let stacked = dir.path().join("stacked.yaml");
    std::fs::write(&stacked, format!("a:\n  {}x\n", "- ".repeat(4_000_000))).unwrap();
    let (code, _, stderr) = validate(&[&stacked]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("{}:2:259: nesting is too deep", stacked.display())),
        "{stderr}"
    );

    // Under the limit: one unclosed 15 MiB string. Parsed, and reported where it opens.
    let string = dir.path().join("string.yaml");
    std::fs::write(
        &string,
        format!("id: x\ntitle: \"{}\n", "a".repeat(15 * 1024 * 1024)),
    )
    .unwrap();
    let (code, _, stderr) = validate(&[&string]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "{}:2:8: a quoted string is never closed",
            string.display()
        )),
        "{stderr}"
    );
}

#[test]
fn several_problems_in_one_file_are_all_reported_at_once() {
    let path = fixture("several-problems.yaml");
    let (code, _, stderr) = validate(&[&path]);
    assert_eq!(code, 1);
    assert_clean(&stderr);
    let p = path.display();
    let want = [
        format!("{p}:10:12: `08:75` is not a possible time of day (hours 00-23, minutes 00-59)"),
        format!("{p}:11:11: duplicate step id `logon` (first used at line 8, column 11)"),
        format!("{p}:13:3: steps are grouped under `lunch`, which is not a phase"),
        "3 problems found".to_owned(),
    ];
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), want.len(), "{stderr}");
    for (got, want) in lines.iter().zip(&want) {
        assert!(got.starts_with(want.as_str()), "want `{want}`, got `{got}`");
    }
}

#[test]
fn problems_in_several_files_are_all_reported() {
    let a = fixture("unknown-timezone.yaml");
    let b = fixture("impossible-time.yaml");
    let (code, _, stderr) = validate(&[&a, &b]);
    assert_eq!(code, 1);
    assert!(stderr.contains(&format!("{}:4:11: unknown timezone", a.display())));
    assert!(stderr.contains(&format!("{}:10:10: `25:70`", b.display())));
    assert!(stderr.ends_with("2 problems found\n"), "{stderr}");
}

#[test]
fn the_shared_session_fixture_itself_is_valid() {
    // Otherwise the runbook fixtures above would fail for the wrong reason.
    let (code, stdout, stderr) = validate(&[&fixture("session.yaml")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("ok: files valid (1 session"), "{stdout}");
}

#[test]
fn valid_fixtures_validate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
    for d in ["london", "new-york"] {
        let (code, stdout, stderr) = validate(&[&root.join(d)]);
        assert_eq!(code, 0, "{d}: {stderr}");
        assert!(
            stdout.starts_with("ok: files valid (1 session, 1 runbook, 2 steps)"),
            "{d}: {stdout}"
        );
    }
}

/// A runbook over the fixture session with `per_phase` steps in each of its three phases, big
/// enough (about 420 bytes a step) to be parsed on several cores.
fn large_runbook(dir: &Path, per_phase: usize) -> (PathBuf, String) {
    std::fs::copy(fixture("session.yaml"), dir.join("session.yaml")).unwrap();
    let mut text =
        String::from("format: 1\nid: large\nrole: ep\ntitle: A large runbook\nphases:\n");
    let mut n = 0;
    for phase in ["primary", "failover", "backup"] {
        let _ = writeln!(text, "  {phase}:");
        for _ in 0..per_phase {
            n += 1;
            let _ = write!(
                text,
                "    - id: step-{n:05}\n      title: Step {n}, checking one thing\n      detail: >-\n        Our practice: check the thing, record what was seen, and call the desk if\n        it is not as expected. A second line, as long as the bundled ones are.\n      evidence:\n        - logon time\n        - last sequence number\n      command: status --session TRD{n:05}\n"
            );
        }
    }
    text.push_str("session: session.yaml\n");
    let path = dir.join("large.yaml");
    std::fs::write(&path, &text).unwrap();
    (path, text)
}

#[test]
fn a_large_runbook_is_read_as_a_small_one_is() {
    let dir = tempfile::tempdir().unwrap();
    let (path, text) = large_runbook(dir.path(), 700);
    assert!(
        text.len() > 512 * 1024,
        "large enough to be parsed in parts"
    );

    let plan = drillbook::runbook::load_paths(std::slice::from_ref(&path))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.steps.len(), 2100);
    for (i, step) in plan.steps.iter().enumerate() {
        assert_eq!(step.id, format!("step-{:05}", i + 1));
        assert_eq!(step.phase, i / 700, "{}", step.id);
        assert_eq!(
            step.command.as_deref(),
            Some(format!("status --session TRD{:05}", i + 1).as_str())
        );
        assert_eq!(step.evidence, ["logon time", "last sequence number"]);
    }
    let (code, stdout, stderr) = validate(&[&path]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("2100 steps"), "{stdout}");

    // Errors deep in the file: the same message and position as in a small file.
    let typo = text.replacen(
        "    - id: step-01500\n",
        "    - id: step-01500\n      critcal: true\n",
        1,
    );
    let line = typo[..typo.find("critcal").unwrap()].lines().count();
    std::fs::write(&path, &typo).unwrap();
    let (code, _, stderr) = validate(&[&path]);
    assert_eq!(code, 1);
    assert_clean(&stderr);
    assert!(
        stderr.starts_with(&format!("{}:{line}:7: ", path.display()))
            && stderr.contains("unknown field `critcal`")
            && stderr.ends_with("1 problem found\n"),
        "{stderr}"
    );
    let unclosed = text.replacen("Step 1800,", "\"Step 1800,", 1);
    let line = unclosed[..unclosed.find("\"Step 1800").unwrap()]
        .lines()
        .count();
    std::fs::write(&path, &unclosed).unwrap();
    let (code, _, stderr) = validate(&[&path]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with(&format!("{}:{line}:14: ", path.display())),
        "{stderr}"
    );
}

/// The bundled runbooks exported into a temp folder, for editing.
fn exported() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = run_bounded(
        &[
            "runbooks".as_ref(),
            "export".as_ref(),
            dir.path().as_os_str(),
        ],
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{out:?}");
    let session = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    (dir, session)
}

#[test]
fn a_byte_order_mark_at_the_start_of_a_runbook_or_session_file_is_accepted() {
    let (_dir, folder) = exported();
    for name in ["ep.yaml", "session.yaml"] {
        let p = folder.join(name);
        let mut bytes = b"\xef\xbb\xbf".to_vec();
        bytes.extend(std::fs::read(&p).unwrap());
        std::fs::write(&p, bytes).unwrap();
    }
    let (code, stdout, stderr) = validate(&[&folder]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("ok: "), "{stdout}");
}

#[test]
fn a_nul_byte_is_reported_at_its_own_line_and_column() {
    let (_dir, folder) = exported();
    let p = folder.join("ep.yaml");
    let text = std::fs::read_to_string(&p).unwrap();
    // Line 10, after `      detail: >-` (16 characters): column 17.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert_eq!(
        lines[9].trim_end(),
        "      detail: >-",
        "the export changed"
    );
    lines[9] = format!("{}\0x", lines[9].trim_end());
    std::fs::write(&p, lines.join("\n")).unwrap();
    let (code, _, stderr) = validate(&[&p]);
    assert_eq!(code, 1, "{stderr}");
    assert_clean(&stderr);
    let want = format!("{}:10:17: control characters are not allowed", p.display());
    assert!(stderr.starts_with(&want), "want `{want}`, got:\n{stderr}");
    assert!(!stderr.contains("position"), "{stderr}");
}

#[test]
fn system_takes_one_name_or_a_list_and_anything_else_is_placed() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_bounded(
        &[
            "runbooks".as_ref(),
            "export".as_ref(),
            dir.path().as_os_str(),
        ],
        Duration::from_secs(30),
    );
    assert!(out.status.success());
    let folder = dir.path().join("hkex-ps2-2023-11-25");
    // The bundled omd runbook already names both OMD systems on some steps: valid.
    let omd = std::fs::read_to_string(folder.join("omd.yaml")).unwrap();
    assert!(omd.contains("system: [OMD-C, OMD-CC]"));
    let out = run_bounded(
        &["validate".as_ref(), folder.as_os_str()],
        Duration::from_secs(30),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = omd
        .lines()
        .position(|l| l.contains("system: [OMD-C, OMD-CC]"))
        .unwrap()
        + 1;
    std::fs::write(
        folder.join("omd.yaml"),
        omd.replacen("system: [OMD-C, OMD-CC]", "system: {a: 1}", 1),
    )
    .unwrap();
    let out = run_bounded(
        &["validate".as_ref(), folder.as_os_str()],
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("omd.yaml:{line}:15:"))
            && err.contains("expected a system name (OTP-C) or a list of them"),
        "{err}"
    );
}

#[test]
fn conditional_steps_name_choices_and_options_the_session_declares() {
    expect_one(
        "unknown-choice.yaml",
        14,
        9,
        "`dropcopy` is not a choice of session `fixture-choices` (its choices: drop-copy)",
    );
    expect_one(
        "unknown-option.yaml",
        14,
        20,
        "`maybe` is not an option of choice `drop-copy` (its options: yes, no)",
    );
    expect_one(
        "unsettled-choice.yaml",
        11,
        9,
        "no step loaded settles choice `drop-copy`: add `settles: [drop-copy]`",
    );
}

#[test]
fn evidence_and_system_names_are_given_and_evidence_names_once() {
    expect_one(
        "duplicate-evidence.yaml",
        10,
        52,
        "evidence field `logon time` is listed twice",
    );
    expect_one(
        "empty-evidence.yaml",
        12,
        11,
        "an evidence field needs a name",
    );
    expect_one("empty-system.yaml", 10, 23, "a system name cannot be empty");
}

#[test]
fn a_step_repeated_through_an_alias_is_reported_at_the_alias() {
    expect_one(
        "alias-duplicate-step.yaml",
        10,
        7,
        "duplicate step id `logon` (first used at line 8, column 19)",
    );
}

#[test]
fn a_deadline_target_comes_before_the_deadline() {
    expect_one(
        "target-after-due.yaml",
        10,
        13,
        "the target `2023-11-23 17:00` is after the deadline `2023-11-22`",
    );
}

#[test]
fn a_hostile_scalar_is_quoted_short_and_through_the_neutraliser() {
    let dir = tempfile::tempdir().unwrap();
    // One scalar of 6.7 MB on one line: the message quotes 80 characters of it, not all.
    let big = dir.path().join("bigline.yaml");
    std::fs::write(&big, "Ab1+".repeat(1_700_000)).unwrap();
    let (code, _, err) = validate(&[&big]);
    assert_eq!(code, 1, "{}", &err[..err.len().min(400)]);
    assert!(err.len() < 1000, "{} bytes:\n{}", err.len(), &err[..400]);
    assert!(
        err.contains(&format!(
            "\"{}…\"",
            "Ab1+".repeat(20).chars().take(79).collect::<String>()
        )),
        "{err}"
    );
    // /proc/kallsyms reports 0 bytes and holds megabytes on many lines.
    if Path::new("/proc/kallsyms").exists() {
        let (_, _, err) = validate(&[Path::new("/proc/kallsyms")]);
        assert!(err.len() < 1000, "{} bytes", err.len());
    }
    // Escape sequences show as the neutraliser's stand-ins, not as Rust's `\u{1b}`.
    let esc = dir.path().join("esc.yaml");
    // (YAML's own escapes in a quoted scalar: the file is plain text, the value holds ESC, BEL.)
    std::fs::write(&esc, "\"\\e]0;PWN\\a\\e[2J x\"\n").unwrap();
    let (code, _, err) = validate(&[&esc]);
    assert_eq!(code, 1);
    assert!(err.contains("\"␛]0;PWN␇␛[2J x\""), "{err}");
    assert!(!err.contains("\\u{") && !err.contains('\u{1b}'), "{err}");
    assert_clean(&err);
}

/// A YAML syntax error is reported as one, where the parser found it, even when the values
/// before it already have the wrong shape: serde_yaml used to report those first (`id: [`, a
/// sequence where a string belongs, "invalid type: sequence, expected a string" at 1:5).
#[test]
fn a_syntax_error_is_reported_as_one_not_as_the_type_error_before_it() {
    let dir = tempfile::tempdir().unwrap();
    // (file text, line:column of the error, what the message says)
    let cases = [
        ("id: [\n", "2:1:", "did not find expected node content"),
        (
            "id: [\nsteps: {}\n",
            "3:1:",
            "did not find expected ',' or ']' (while parsing a flow sequence that starts at line 1, column 5)",
        ),
        (
            "format: 1\nid: [\nsession: session.yaml\n",
            "4:1:",
            "did not find expected ',' or ']' (while parsing a flow sequence that starts at line 2, column 5)",
        ),
        (
            "id: a: b\n",
            "1:6:",
            "mapping values are not allowed in this context",
        ),
    ];
    for (i, (text, at, says)) in cases.iter().enumerate() {
        let p = dir.path().join(format!("r{i}.yaml"));
        std::fs::write(&p, text).unwrap();
        let (code, _, err) = validate(&[&p]);
        assert_eq!(code, 1, "{text:?}: {err}");
        assert_clean(&err);
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("{}:{at} ", p.display())) && first.contains(says),
            "{text:?}: expected `{at} {says}`, got:\n{err}"
        );
        assert!(!err.contains("invalid type"), "{text:?}:\n{err}");
        assert!(err.ends_with("1 problem found\n"), "{text:?}:\n{err}");
    }
    // The site file is read through the same parse: `site: [` is a syntax error there too.
    let site = dir.path().join("site.yaml");
    std::fs::write(&site, "site: [\n  x: 1\n").unwrap();
    let out = run_bounded(
        &[
            "check".as_ref(),
            "--role".as_ref(),
            "ep".as_ref(),
            "--site".as_ref(),
            site.as_os_str(),
        ],
        Duration::from_secs(60),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "{}:3:1: did not find expected ',' or ']'",
            site.display()
        )) && !err.contains("invalid type"),
        "{err}"
    );
}

#[test]
fn a_due_after_the_phase_start_is_refused_in_bad_forms_each_at_its_position() {
    // `+20m` (line 14) is valid; each other due is one problem, all reported at once.
    let dir = fixture("relative-due");
    let (code, _, stderr) = validate(&[&dir]);
    assert_eq!(code, 1, "{stderr}");
    assert_clean(&stderr);
    let p = dir.join("ops.yaml");
    let p = p.display();
    let want = [
        format!(
            "{p}:10:12: `+2h` counts from the phase's start, and phase `pre-session` does not start on the session day (2023-11-25): write a date and time (YYYY-MM-DD HH:MM)"
        ),
        format!(
            "{p}:18:12: `+20` is not a time after the phase's start: write a whole number of minutes or hours and its unit, such as +20m, +1h or +1h05m"
        ),
        format!(
            "{p}:21:12: `+-5m`: a due after the phase's start counts forward from it; write one before the start as a time (HH:MM)"
        ),
        format!(
            "{p}:24:12: `+999h` is out of range: a due after the phase's start is 1 minute to 24 hours after it (+1m to +24h)"
        ),
        format!(
            "{p}:27:12: `~+20m`: a due after the phase's start moves with that start when it is confirmed; write it without ~ (such as +20m)"
        ),
        "5 problems found".to_owned(),
    ];
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines, want, "{stderr}");
}

#[test]
fn a_due_after_the_phase_start_validates_in_a_day_phase() {
    // The same session with only the valid step: `+20m` in the backup phase (approximate start).
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("relative-due/session.yaml"),
        dir.path().join("session.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ops.yaml"),
        "id: relative\nrole: ep\ntitle: t\nsession: session.yaml\nphases:\n  backup:\n    - id: escalate\n      title: Call the hotline\n      due: \"+1h05m\"\n",
    )
    .unwrap();
    let (code, stdout, stderr) = validate(&[dir.path()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("ok: files valid"), "{stdout}");
}

/// walk 3 R8: an evidence field may name the only values it takes (`{field, options}`), beside
/// plain names. Each way of writing one wrong is reported where it is, all at once; a key that
/// is not `field` or `options` is a typo with its position.
#[test]
fn evidence_field_options_are_checked_where_they_are_written() {
    let path = fixture("field-options.yaml");
    let (code, _, stderr) = validate(&[&path]);
    assert_eq!(code, 1, "{stderr}");
    assert_clean(&stderr);
    let p = path.display();
    let want = [
        format!(
            "{p}:15:20: a field with options needs at least two: name them, or leave `options` out for free text"
        ),
        format!("{p}:17:25: an option cannot be empty"),
        format!(
            "{p}:19:30: option `Primary` is listed twice (options are compared without case, spaces and dashes alike)"
        ),
        format!("{p}:20:19: an evidence field needs a name"),
        format!(
            "{p}:31:17: `accepted (yes / no)` takes one of its options (yes, no), which the operator records; a check files what it captures as text: record it into a field without options"
        ),
        "5 problems found".to_owned(),
    ];
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines, want, "{stderr}");

    // A typo in the field's keys, and the same file written right.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("session.yaml"), dir.path().join("session.yaml")).unwrap();
    let rb = dir.path().join("typo.yaml");
    let text = "format: 1\nid: typo\nrole: ep\ntitle: T\nsession: session.yaml\nphases:\n  primary:\n    - id: logon\n      title: Log on\n      evidence:\n        - logon time\n        - field: Drop Copy agrees\n          opts: [\"yes\", \"no\"]\n";
    std::fs::write(&rb, text).unwrap();
    let (code, _, stderr) = validate(&[&rb]);
    assert_eq!(code, 1);
    assert_clean(&stderr);
    assert!(
        stderr.starts_with(&format!(
            "{}:13:11: phases.primary[0].evidence[1]: unknown field `opts`, expected `field` or `options`",
            rb.display()
        )),
        "{stderr}"
    );
    std::fs::write(&rb, text.replace("opts:", "options:")).unwrap();
    let (code, _, stderr) = validate(&[&rb]);
    assert_eq!(code, 0, "{stderr}");
    let plan = drillbook::runbook::load_paths(&[rb]).unwrap();
    let step = &plan.steps[0];
    assert_eq!(
        step.evidence,
        ["logon time", "Drop Copy agrees (yes / no)"],
        "a field with options is named with them, as a choice's is"
    );
    assert_eq!(step.options_of("logon time"), None);
    assert_eq!(
        step.options_of("Drop Copy agrees (yes / no)"),
        Some(&["yes".to_owned(), "no".to_owned()][..])
    );
}
