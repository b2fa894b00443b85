//! Several hosts' journals read as one: three `drillbook record` processes, each with its host,
//! operator and roles, write into a shared folder in an interleaved order; `log`, `report` and
//! `handover` on the folder (and on the files) give one timeline in time order with each event
//! tagged, each system's evidence from its own journal, and the failover's end as each host
//! confirmed it, side by side. Mixed sessions and a rehearsal among real journals are refused.

#[path = "support/cli.rs"]
mod cli;

use cli::{Recorder, drillbook, stderr, stdout};
use std::path::{Path, PathBuf};

struct Day {
    _dir: tempfile::TempDir,
    folder: PathBuf,
    /// (tag, kind, payload fragment) in the order written.
    written: Vec<(&'static str, &'static str, &'static str)>,
}

fn start(folder: &Path, file: &str, roles: &str, host: &str, op: &str) -> Recorder {
    Recorder::start_with(&folder.join(file), &["--role", roles, "--host", host], op)
        .expect("record starts")
}

/// Three hosts' journals, written interleaved (each acknowledged before the next is sent, so the
/// order of writing is the order of the events' times).
fn day() -> Day {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("shared");
    std::fs::create_dir(&folder).unwrap();
    let mut desk = start(&folder, "desk1.jsonl", "ep,ccep", "desk1", "alice");
    let mut md = start(&folder, "md1.jsonl", "omd", "md1", "carol");
    let mut net = start(&folder, "net1.jsonl", "hsn", "net1", "dave");
    let desk_t = "alice@desk1 [ep,ccep]";
    let md_t = "carol@md1 [omd]";
    let net_t = "dave@net1 [hsn]";
    let script: Vec<(usize, &str, (&str, &str, &str))> = vec![
        (
            1,
            "done omd-primary-omdc",
            (md_t, "step", "omd-primary-omdc done"),
        ),
        (
            0,
            "done ep-primary-logon-trading",
            (desk_t, "step", "ep-primary-logon-trading done"),
        ),
        (
            2,
            "done hsn-primary-connectivity",
            (net_t, "step", "hsn-primary-connectivity done"),
        ),
        (
            0,
            "evidence ep-primary-logon-trading logon time = 08:01:05",
            (desk_t, "evidence", "\"logon time\" = 08:01:05"),
        ),
        (
            1,
            "evidence omd-primary-omdc first message time = 08:00:02",
            (md_t, "evidence", "\"first message time\" = 08:00:02"),
        ),
        (
            2,
            "evidence hsn-primary-connectivity address reached = 10.1.2.3",
            (net_t, "evidence", "\"address reached\" = 10.1.2.3"),
        ),
        (
            1,
            "confirm failover.end 2023-11-25 11:04:00",
            (md_t, "boundary_confirmed", "confirmed 11:04:00 HKT"),
        ),
        (
            0,
            "confirm failover.end 2023-11-25 11:06:30",
            (desk_t, "boundary_confirmed", "confirmed 11:06:30 HKT"),
        ),
        (
            2,
            "note HSN path steady",
            (net_t, "note", "HSN path steady"),
        ),
    ];
    let mut written = Vec::new();
    let rs = [&mut desk, &mut md, &mut net];
    let mut rs: Vec<&mut Recorder> = rs.into_iter().collect();
    for (who, line, want) in script {
        let reply = rs[who].ask(line);
        assert!(reply.starts_with("ok "), "{line}: {reply}");
        written.push(want);
        // Distinct instants on the wall clock, whatever its resolution.
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    for r in [desk, md, net] {
        let (status, err, _) = r.finish();
        assert!(status.success(), "{err}");
    }
    Day {
        _dir: dir,
        folder,
        written,
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn log_of_a_folder_is_one_timeline_in_time_order_each_event_tagged() {
    let d = day();
    let out = drillbook(&["log", s(&d.folder)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("3 journals of session hkex-ps2-2023-11-25, merged in time order:"),
        "{text}"
    );
    for l in text.lines().filter(|l| l.starts_with('#')) {
        assert!(l.chars().count() <= 80, "fits 80 columns: {l}");
    }
    // The operator actions, in the order they were written across the three processes.
    let heads: Vec<(String, String)> = text
        .lines()
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[0].starts_with('#'))
        .filter(|w| !w[0].ends_with("attach") && !w[0].ends_with("detach"))
        .map(|w| (w[0].to_owned(), w[1].trim().to_owned()))
        .collect();
    assert_eq!(heads.len(), d.written.len(), "{text}");
    for ((head, body), (tag, kind, payload)) in heads.iter().zip(&d.written) {
        assert!(
            head.contains(tag) && head.ends_with(kind) && body.contains(payload),
            "expected {tag} {kind} {payload}, got:\n{head}\n{body}\n\nin:\n{text}"
        );
    }

    // The same from the files named one by one, and as JSON with the journal and roles.
    let files: Vec<PathBuf> = ["net1", "desk1", "md1"]
        .iter()
        .map(|n| d.folder.join(format!("{n}.jsonl")))
        .collect();
    let out = drillbook(&["log", "--json", s(&files[0]), s(&files[1]), s(&files[2])]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        events.len(),
        9 + 6,
        "nine actions, an attach and a detach each"
    );
    let times: Vec<&str> = events.iter().map(|e| e["utc"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_unstable();
    assert_eq!(times, sorted, "in time order");
    let omd = events
        .iter()
        .find(|e| e["step"] == "omd-primary-omdc")
        .unwrap();
    assert_eq!(omd["host"], "md1");
    assert_eq!(omd["roles"], serde_json::json!(["omd"]));
    assert!(omd["journal"].as_str().unwrap().ends_with("md1.jsonl"));
}

#[test]
fn report_takes_each_system_from_its_journal_and_shows_each_hosts_confirmation() {
    let d = day();
    let out = drillbook(&["report", s(&d.folder)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = cli::unfold(&stdout(&out));
    let section = |name: &str| -> String {
        let start = text
            .find(name)
            .unwrap_or_else(|| panic!("{name} in:\n{text}"));
        let rest = &text[start + name.len()..];
        let end = rest
            .find("\n### ")
            .or_else(|| rest.find("\n## "))
            .unwrap_or(rest.len());
        rest[..end].to_owned()
    };
    // Roles of all three journals, each system's evidence by the host that recorded it.
    assert!(text.contains("- Roles: ep, ccep, hsn, omd"), "{text}");
    let otp = section("### OTP-C\n");
    assert!(
        otp.contains("`ep-primary-logon-trading` logon time = 08:01:05 (alice@desk1"),
        "{otp}"
    );
    let omd = section("### OMD-C\n");
    assert!(
        omd.contains("`omd-primary-omdc` first message time = 08:00:02 (carol@md1"),
        "{omd}"
    );
    let hsn = section("### HSN\n");
    assert!(
        hsn.contains("`hsn-primary-connectivity` address reached = 10.1.2.3 (dave@net1"),
        "{hsn}"
    );
    // The journals, and the failover's end as each host confirmed it, side by side.
    // Too wide for 80 columns as tables: lists, a journal or a boundary an item.
    let journals = section("## Journals\n");
    for item in [
        "  - Host: desk1\n  - Operators: alice\n  - Roles: ep, ccep\n",
        "  - Host: md1\n  - Operators: carol\n  - Roles: omd\n",
        "  - Host: net1\n  - Operators: dave\n  - Roles: hsn\n",
    ] {
        assert!(journals.contains(item), "{item} in:\n{journals}");
    }
    let seen = section("## Boundaries as each host saw them\n");
    assert!(
        seen.contains(
            "- Failover to the backup site ends, Backup site starts\n  - Planned: ~11:00:00 HKT (03:00:00 GMT)\n  \
             - desk1 (ep, ccep): 11:06:30 HKT (03:06:30 GMT) (6m30s after plan), by alice@desk1\n  \
             - md1 (omd): 11:04:00 HKT (03:04:00 GMT) (4m00s after plan), by carol@md1\n  \
             - net1 (hsn): not confirmed\n  - Spread: 2m30s\n"
        ),
        "{seen}"
    );
    // The phase headings take the newest confirmation recorded (desk1's, written last).
    assert!(
        text.contains(
            "### Backup site: 11:06:30 HKT to 12:10 HKT\n\nStart confirmed at 11:06:30 HKT: planned ~11:00 HKT, 6m30s after plan.\n"
        ),
        "{text}"
    );

    // CSV: a `boundary_seen` row per host; JSON: the journals and what each saw.
    let out = drillbook(&["report", s(&d.folder), "--format", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = stdout(&out);
    let seen_rows: Vec<&str> = csv
        .lines()
        .filter(|l| l.contains(",boundary_seen,"))
        .collect();
    assert_eq!(seen_rows.len(), 2, "{csv}");
    assert!(
        seen_rows
            .iter()
            .any(|r| r.contains("carol@md1,2023-11-25T11:04:00+08:00"))
    );
    let out = drillbook(&["report", s(&d.folder), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["journals"].as_array().unwrap().len(), 3);
    let seen = &v["boundaries_seen"][0]["seen"];
    assert_eq!(seen[0]["host"], "desk1");
    assert_eq!(seen[0]["drift_seconds"], 390);
    assert_eq!(seen[1]["host"], "md1");
    assert_eq!(seen[1]["drift_seconds"], 240);
}

#[test]
fn handover_of_several_journals_names_them_and_refuses_an_ack() {
    let d = day();
    let out = drillbook(&["handover", s(&d.folder)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("## Journals"), "{text}");
    assert!(
        text.contains("## Boundaries as each host saw them"),
        "{text}"
    );
    // The confirmed end of the failover (the newest confirmation: desk1's 11:06:30) is the one
    // the session goes by.
    assert!(text.contains("11:06:30 HKT"), "{text}");
    // The journals were written today: on the session day at 11:30 none of it had been
    // journaled yet, so the end of the failover still awaited confirmation.
    let out = drillbook(&["handover", s(&d.folder), "--at", "11:30"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("- **AWAITING CONFIRMATION**: Failover to the backup site ends"),
        "{text}"
    );
    assert!(
        !text.contains("11:06:30"),
        "a later confirmation leaked in:\n{text}"
    );
    let out = drillbook(&["handover", s(&d.folder), "--ack"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--ack records in one journal"));
}

#[test]
fn another_session_or_a_rehearsal_among_real_journals_is_refused_and_nothing_is_printed() {
    use drillbook::clock::RehearsalClock;
    use drillbook::journal::{Action, Journal, Meta, StepState};
    let d = day();
    let plan = drillbook::runbook::load_bundled(&["ep".to_owned()]).unwrap();
    // A rehearsal journal lands in the shared folder.
    let reh = d.folder.join("rehearsal.jsonl");
    let (mut j, _) = Journal::open(&reh, Meta::for_plan(&plan, Some("eve"))).unwrap();
    let at = plan.session.phases[1].start.at;
    j.append(
        Action::Step {
            step: "ep-primary-logon-trading".into(),
            state: StepState::Done,
            note: None,
        },
        &RehearsalClock::new(at, 60.0),
    )
    .unwrap();
    drop(j);
    for cmd in ["log", "report", "handover"] {
        let out = drillbook(&[cmd, s(&d.folder)]);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        assert!(stdout(&out).is_empty(), "{cmd}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains("rehearsal.jsonl: a rehearsal journal among real ones")
                && err.contains("never pass for the real record"),
            "{cmd}: {err}"
        );
    }
    std::fs::remove_file(&reh).unwrap();

    // A journal of another session, named beside them.
    let other = d.folder.join("other.jsonl");
    let mut meta = Meta::for_plan(&plan, Some("eve"));
    meta.session = "hkex-ps1-2023-10-28".into();
    let (mut j, _) = Journal::open(&other, meta).unwrap();
    j.append(
        Action::Note {
            step: None,
            text: "x".into(),
            issue: false,
        },
        &drillbook::clock::SystemClock,
    )
    .unwrap();
    drop(j);
    let out = drillbook(&["report", s(&d.folder.join("desk1.jsonl")), s(&other)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("other.jsonl: this journal is for session `hkex-ps1-2023-10-28`"),
        "{}",
        stderr(&out)
    );
    // One journal alone goes the way it always went.
    let out = drillbook(&["report", s(&d.folder.join("md1.jsonl"))]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("## Journals"));
}

/// Two different rehearsals in one folder (a finished 3600x day beside another at 60x, started
/// from the failover a little later) are not one record: `handover` and `report` refuse, naming
/// both, as `watch` does. Two hosts of one team rehearsal (the same clock) are read as one.
#[test]
fn handover_and_report_refuse_two_different_rehearsals() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("team");
    std::fs::create_dir(&folder).unwrap();
    let headless = |role: &str, speed: &str, start: &str, file: &str| {
        let out = drillbook(&[
            "run",
            "--role",
            role,
            "--rehearse",
            "--headless",
            "--notify",
            "off",
            "--speed",
            speed,
            "--start-at",
            start,
            "--journal",
            folder.join(file).to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    };
    headless("ccep", "3600", "primary", "ccep.jsonl");
    headless("omd", "3600", "failover", "omd.jsonl");
    for cmd in ["handover", "report"] {
        let out = drillbook(&[cmd, folder.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {err}");
        assert!(err.contains("are different rehearsals"), "{cmd}: {err}");
        assert!(
            err.contains("ccep.jsonl (x3600") && err.contains("omd.jsonl (x3600"),
            "{err}"
        );
    }
    // One rehearsal's journal beside a copy of it (two hosts on one clock): one record.
    let one = dir.path().join("one");
    std::fs::create_dir(&one).unwrap();
    let text = std::fs::read_to_string(folder.join("ccep.jsonl")).unwrap();
    std::fs::write(one.join("a.jsonl"), &text).unwrap();
    std::fs::write(one.join("b.jsonl"), &text).unwrap();
    let out = drillbook(&["report", one.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// walk 3 R13: the per-host table said "the boundaries above take the newest recorded", while in
/// a handover `## Boundaries: planned vs confirmed` is ~250 lines below it. Each section the
/// paragraph names is where it says (above, next, near the end) in handover and report alike.
/// And the report's phase headings, which cannot fold, keep to the phase and its times within
/// 80 columns; the confirmation is the line under the heading.
#[test]
fn the_per_host_boundaries_say_where_the_merged_ones_are_and_headings_fit_80_columns() {
    use unicode_width::UnicodeWidthStr;
    let d = day();
    for cmd in ["handover", "report"] {
        let out = drillbook(&[cmd, s(&d.folder)]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = cli::unfold(&stdout(&out));
        let lines: Vec<&str> = text.lines().collect();
        let here = lines
            .iter()
            .position(|l| l.starts_with("Each journal's own confirmation"))
            .unwrap_or_else(|| panic!("{cmd}: no pointer paragraph in:\n{text}"));
        let para = lines[here];
        // `"Name" (where)`, each named section once.
        let named: Vec<(&str, &str)> = para
            .split('"')
            .skip(1)
            .collect::<Vec<_>>()
            .chunks(2)
            .filter_map(|c| {
                let name = c.first()?;
                let rest = c.get(1)?.trim_start();
                let place = rest.strip_prefix('(')?.split(')').next()?;
                Some((*name, place))
            })
            .collect();
        assert!(
            named
                .iter()
                .any(|(n, _)| *n == "Boundaries: planned vs confirmed"),
            "{cmd}: {para}"
        );
        for (name, place) in named {
            let heading = format!("## {name}");
            let at = lines
                .iter()
                .position(|l| *l == heading)
                .unwrap_or_else(|| panic!("{cmd}: {heading} not in:\n{text}"));
            let next_heading = lines[here..]
                .iter()
                .position(|l| l.starts_with("## "))
                .map(|i| i + here);
            match place {
                "above" => assert!(at < here, "{cmd}: {name} is not above: {para}"),
                "next" => assert_eq!(Some(at), next_heading, "{cmd}: {name} is not next"),
                "near the end" => assert!(
                    at > here && at * 2 > lines.len(),
                    "{cmd}: {name} at line {at} of {} is not near the end (pointer at {here})",
                    lines.len()
                ),
                other => panic!("{cmd}: unexpected place {other:?} in: {para}"),
            }
        }
    }
    // Headings within 80 columns as printed (not unfolded); the confirmation under its heading.
    let out = drillbook(&["report", s(&d.folder)]);
    let printed = stdout(&out);
    for l in printed.lines().filter(|l| l.starts_with('#')) {
        assert!(l.width() <= 80, "{} columns: {l}", l.width());
    }
    assert!(
        printed.contains(
            "\n### Failover to the backup site: 10:00 HKT to 11:06:30 HKT\n\nEnd confirmed at \
             11:06:30 HKT: planned ~11:00 HKT, 6m30s after plan.\n"
        ),
        "{printed}"
    );
}
