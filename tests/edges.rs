//! The edges of issue 14, item 5 (and the rehearsal resume of item 4), through the binary: a
//! journal of another role set, notify-test with no channel or no role, a headless pane beside a
//! writer, resuming a rehearsal. (`runbooks export` and `validate DIR` are in commands.rs; `log`
//! at 80 columns in report_day.rs; the read-only follower beside a writer in journal_reports.rs.)

#[path = "support/cli.rs"]
mod cli;

use cli::{BIN, fixture, lines, stderr, stdout};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `drillbook ARGS` with its own state folder, stdin closed (not a terminal).
fn run_in(state: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("TZ", "Europe/London")
        .env("NO_COLOR", "1")
        .env("XDG_STATE_HOME", state)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("TMUX")
        .env_remove("STY")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

/// A copy of the ep+hsn+omd day journal.
fn day_copy(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("day.jsonl");
    std::fs::copy(fixture("ps2-day.jsonl"), &p).unwrap();
    p
}

#[test]
fn a_journal_of_another_role_set_names_its_roles_and_the_role_that_opens_it() {
    let dir = tempfile::tempdir().unwrap();
    let j = day_copy(dir.path());
    let js = j.to_str().unwrap();
    let before = std::fs::read(&j).unwrap();
    for extra in [&[][..], &["--accept-changed-runbooks"][..]] {
        let mut args = vec![
            "run",
            "--role",
            "ep",
            "--journal",
            js,
            "--headless",
            "--notify",
            "off",
        ];
        args.extend_from_slice(extra);
        let out = run_in(dir.path(), &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("this journal holds roles ep, hsn, omd; you asked for ep")
                && err.contains("Open it with --role ep,hsn,omd"),
            "{err}"
        );
        assert!(!err.contains("other runbook files"), "{err}");
    }
    // record (every writer) holds to the same rule.
    let out = cli::record_all(&j, "ep", "carol", &["done ep-pre-ready"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--role ep,hsn,omd"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&j).unwrap(), before, "nothing was written");
    // The roles it names open it.
    let out = cli::record_all(&j, "ep,hsn,omd", "carol", &["done ep-pre-ready"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let last_attach = lines(&j)
        .into_iter()
        .rfind(|e| e["kind"] == "attach")
        .unwrap();
    assert_eq!(
        last_attach["roles"],
        serde_json::json!(["ep", "hsn", "omd"])
    );
}

#[test]
fn notify_test_with_no_channel_sends_and_asks_nothing_and_records_nothing_tested() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &["notify-test", "--notify", "off", "--role", "ep"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(s.contains("Nothing sent, nothing asked"), "{s}");
    assert!(!s.contains(": sent"), "nothing is sent: {s}");
    assert!(!s.contains("Did a notification appear"), "{s}");
    assert!(!s.contains("Good: notifications reach you"), "{s}");
    assert!(!s.contains('\u{1b}'), "no escape sequence was sent: {s:?}");
    let j = dir
        .path()
        .join(format!("drillbook/{}--ep.jsonl", cli::SESSION));
    let check = lines(&j)
        .into_iter()
        .find(|e| e["kind"] == "notify_check")
        .expect("the preflight is recorded");
    assert_eq!(check["channels"], serde_json::json!([]));
    assert!(check["answer"].is_null());
    // The handover does not read it as a path that works.
    let h = cli::unfold(&stdout(&run_in(
        dir.path(),
        &["handover", j.to_str().unwrap()],
    )));
    assert!(
        h.contains(
            "no channel was tested (--notify off); nothing is known about the notification path"
        ),
        "{h}"
    );
    assert!(!h.contains("the operator saw it"), "{h}");
}

#[test]
fn notify_test_without_role_uses_the_journal_named_or_asks_never_every_role() {
    let dir = tempfile::tempdir().unwrap();
    // No role, no journal, and no terminal to ask at: told to name them, nothing written.
    let out = run_in(dir.path(), &["notify-test", "--notify", "off"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("name it with --role"),
        "{}",
        stderr(&out)
    );
    assert!(
        !dir.path().join("drillbook").exists(),
        "no journal of every role was created"
    );
    // A named journal: recorded there, for the roles it holds.
    let j = day_copy(dir.path());
    let out = run_in(
        dir.path(),
        &[
            "notify-test",
            "--notify",
            "off",
            "--journal",
            j.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let last = lines(&j).pop().unwrap();
    assert_eq!(last["kind"], "notify_check");
    assert_eq!(last["runbooks"], serde_json::json!(["ep", "hsn", "omd"]));
    // A role set that does not match the journal named is refused, with the one that does.
    let out = run_in(
        dir.path(),
        &[
            "notify-test",
            "--notify",
            "off",
            "--role",
            "ep",
            "--journal",
            j.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--role ep,hsn,omd"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_headless_pane_on_the_apps_journal_is_refused_and_pointed_to_log_follow() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("j.jsonl");
    // The app's stand-in: a writer holding the journal.
    let w = cli::Recorder::start(&j, "ep", "alice").unwrap();
    let out = run_in(
        dir.path(),
        &[
            "run",
            "--role",
            "ep",
            "--journal",
            j.to_str().unwrap(),
            "--headless",
            "--notify",
            "off",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("another drillbook is recording in this journal")
            && err.contains(&format!("drillbook log --follow {}", j.display())),
        "{err}"
    );
    drop(w);
}

#[test]
fn a_rehearsal_says_how_to_resume_it_and_resume_takes_the_newest_of_its_roles() {
    let dir = tempfile::tempdir().unwrap();
    let day = ["--speed", "3600", "--headless", "--notify", "off"];
    let mut first = vec!["run", "--role", "ep", "--rehearse", "--start-at", "13:55"];
    first.extend_from_slice(&day);
    let out = run_in(dir.path(), &first);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    let cmd = s
        .lines()
        .find_map(|l| l.strip_prefix("to resume: "))
        .unwrap_or_else(|| panic!("no resume line in:\n{s}"));
    let journal = s
        .lines()
        .find_map(|l| l.strip_prefix("journal "))
        .and_then(|l| l.split(" (").next())
        .unwrap()
        .to_owned();
    assert!(
        cmd.starts_with("drillbook run --role ep --rehearse")
            && cmd.ends_with(&format!("--journal {journal}")),
        "{cmd}"
    );
    // A rehearsal for other roles, started later, is not the one --resume takes.
    let mut other = vec!["run", "--role", "hsn", "--rehearse", "--start-at", "13:58"];
    other.extend_from_slice(&day);
    assert!(run_in(dir.path(), &other).status.success());

    // The printed command, run as printed, continues that journal.
    let n = lines(Path::new(&journal)).len();
    let words: Vec<&str> = cmd.split(' ').skip(1).collect();
    let out = run_in(dir.path(), &words);
    assert!(out.status.success(), "{}", stderr(&out));
    let m = lines(Path::new(&journal)).len();
    assert!(m > n, "appended to the same journal");
    // --resume finds it too.
    let mut resume = vec!["run", "--role", "ep", "--rehearse", "--resume"];
    resume.extend_from_slice(&day);
    let out = run_in(dir.path(), &resume);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("journal {journal} (")),
        "{}",
        stdout(&out)
    );
    assert!(lines(Path::new(&journal)).len() > m);
    let rehearsals = std::fs::read_dir(dir.path().join("drillbook"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".jsonl"))
        .count();
    assert_eq!(rehearsals, 2, "no new journal was started");
    // Resumed without --speed, it goes on at the speed it ran at (x3600), not the default x60.
    let k = lines(Path::new(&journal)).len();
    let out = run_in(
        dir.path(),
        &[
            "run",
            "--role",
            "ep",
            "--rehearse",
            "--resume",
            "--headless",
            "--notify",
            "off",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let after = lines(Path::new(&journal));
    assert!(after.len() > k);
    for e in &after[k..] {
        assert_eq!(e["rehearsal"]["speed"], 3600.0, "{e}");
    }
    // With no rehearsal of those roles, --resume says so.
    let out = run_in(
        dir.path(),
        &[
            "run",
            "--role",
            "omd",
            "--rehearse",
            "--resume",
            "--headless",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--resume: no rehearsal journal for roles omd"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_long_journal_of_runbooks_whose_id_is_not_their_role_resumes() {
    // The attach that says which roles a journal holds can be far behind the newest events a
    // writer keeps from its replay; a runbook's id need not be its role.
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &["runbooks", "export", dir.path().to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let ep = dir.path().join("hkex-ps2-2023-11-25/ep.yaml");
    let text = std::fs::read_to_string(&ep).unwrap();
    std::fs::write(&ep, text.replacen("id: ep\n", "id: desk-ep\n", 1)).unwrap();
    let j = dir.path().join("long.jsonl");
    let notes: Vec<String> = (0..300).map(|i| format!("note bridge check {i}")).collect();
    let lines: Vec<&str> = notes.iter().map(String::as_str).collect();
    let first = cli::Recorder::start_with(&j, &[ep.to_str().unwrap()], "alice").unwrap();
    let (status, err, _) = {
        let mut r = first;
        for l in &lines {
            assert!(r.ask(l).starts_with("ok "));
        }
        r.finish()
    };
    assert!(status.success(), "{err}");
    // Opened again with the same runbook: the journal's roles are the runbook's role, not its id.
    let mut again = cli::Recorder::start_with(&j, &[ep.to_str().unwrap()], "bob")
        .unwrap_or_else(|e| panic!("the long journal did not reopen: {e}"));
    assert!(again.ask("note still here").starts_with("ok "));
}

/// With `$USER` and `$LOGNAME` unset (a container, `env -i`), the journal names the account of
/// the real uid, as `id -un` does, not `unknown`.
#[test]
fn the_operator_is_the_account_name_when_user_and_logname_are_unset() {
    let id = Command::new("id").arg("-un").output().expect("id runs");
    let account = String::from_utf8_lossy(&id.stdout).trim().to_owned();
    assert!(id.status.success() && !account.is_empty(), "id -un: {id:?}");
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("who.jsonl");
    // A rehearsal that starts a minute before the day ends: over in a moment at 3600x.
    let out = Command::new(BIN)
        .args(["run", "--role", "ep", "--rehearse", "--speed", "3600"])
        .args([
            "--start-at",
            "13:59",
            "--headless",
            "--notify",
            "off",
            "--journal",
        ])
        .arg(&j)
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env("HOME", dir.path())
        .env("TZ", "Europe/London")
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&j).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["operator"], account.as_str(), "{text}");
}

/// walk 3 R8: `drillbook record` takes a field with options as the app does: only one of them,
/// journaled as the runbook spells it; anything else is an error line naming the options, and
/// nothing is journaled for it.
#[test]
fn record_takes_only_an_option_of_a_field_that_has_them() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("r.jsonl");
    let field = "Drop Copy agrees with the Trading session (yes / no / no Drop Copy)";
    let mut r = cli::Recorder::start(&j, "ep", "alice").unwrap();
    let reply = r.ask(&format!("evidence ep-backup-reconcile {field} = maybe"));
    assert!(
        reply.starts_with("err ")
            && reply.contains(&format!("`{field}` takes one of: yes, no, no Drop Copy")),
        "{reply}"
    );
    let reply = r.ask(&format!(
        "evidence ep-backup-reconcile {field} = No drop copy"
    ));
    assert!(reply.starts_with("ok "), "{reply}");
    let (status, err, _) = r.finish();
    assert!(
        !status.success() && err.contains("1 line(s) not recorded"),
        "a refused line makes the exit say so: {err}"
    );
    let values: Vec<String> = drillbook::journal::read(&j)
        .unwrap()
        .events
        .iter()
        .filter_map(|e| match &e.action {
            drillbook::journal::Action::Evidence { value, .. } => Some(value.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(values, ["no Drop Copy"]);
}
