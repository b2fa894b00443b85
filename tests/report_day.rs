//! The known day (tests/fixtures/journals/ps2-day.jsonl, written by make.py; roles ep, hsn, omd):
//! two operators, a handover acknowledged with a note, an undone boundary confirmation (11:03)
//! and the real one (11:06), an undone step, skipped and failed steps with their reasons, session
//! and step notes (one marked as an issue), evidence, OMD-CC steps and steps naming both OMD-C and
//! OMD-CC. Every fact must appear where it belongs in `report` (Markdown, CSV, JSON), `handover`
//! and the rehearsal report, at the right time in the session zone beside the reader's (London),
//! and nothing undone may appear anywhere.

#[path = "support/cli.rs"]
mod cli;

use cli::{drillbook, fixture, stderr, stdout};

fn fx() -> String {
    fixture("ps2-day.jsonl").to_str().unwrap().to_owned()
}

fn has(text: &str, want: &[&str]) {
    for w in want {
        assert!(text.contains(w), "missing {w:?} in:\n{text}");
    }
}

/// The text under a Markdown heading, up to the next heading of the same or a higher level.
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    let start = text
        .find(&format!("\n{heading}\n"))
        .or_else(|| text.find(&format!("\n{heading}")))
        .unwrap_or_else(|| panic!("no heading {heading:?} in:\n{text}"))
        + 1;
    let level = heading.chars().take_while(|&c| c == '#').count();
    let body = &text[start + heading.len()..];
    let end = body
        .match_indices("\n#")
        .find(|(i, _)| {
            let l = body[i + 1..].chars().take_while(|&c| c == '#').count();
            l <= level
        })
        .map_or(body.len(), |(i, _)| i);
    &text[start..start + heading.len() + end]
}

/// What an undone action left behind must never be shown: the mistaken confirmation at 11:03
/// and the step bob marked failed by mistake.
fn nothing_undone(text: &str) {
    // The report's own "written at" stamp is today's wall clock: it may read 11:03 too.
    let today = chrono::Utc::now().format("%Y").to_string();
    assert_ne!(
        today, "2023",
        "the fixture's year must differ from the clock's"
    );
    let kept: Vec<&str> = text.lines().filter(|l| !l.contains(&today)).collect();
    let text = &kept.join("\n");
    assert!(
        !text.contains("pressed by mistake"),
        "undone step shown:\n{text}"
    );
    assert!(
        !text.contains("11:03"),
        "undone confirmation shown:\n{text}"
    );
    assert!(
        !text.contains("03:03:00"),
        "undone confirmation shown:\n{text}"
    );
    assert!(!text.contains('\u{1b}'), "a raw escape reached the output");
}

#[test]
fn the_day_fixture_is_valid_for_the_bundled_runbooks() {
    let r = drillbook::journal::read(&fixture("ps2-day.jsonl")).unwrap();
    assert_eq!(r.events.len(), 44);
    let out = drillbook(&["report", &fx()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stdout(&out).contains("hash mismatch"),
        "regenerate the fixtures with make.py after changing the bundled runbooks"
    );
}

#[test]
fn markdown_report_puts_every_fact_where_it_belongs() {
    let out = drillbook(&["report", &fx()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = cli::unfold(&stdout(&out));
    nothing_undone(&s);
    assert!(!s.contains("REHEARSAL"));

    // The boundary confirmed at 11:06, planned against confirmed, with drift, who and the note.
    has(
        section(&s, "## Boundaries: planned vs confirmed"),
        &[
            "- Failover to the backup site ends, Backup site starts\n  - Planned: ~11:00:00 HKT (03:00:00 GMT)\n  - Confirmed: 11:06:00 HKT (03:06:00 GMT)\n  - Drift: 6m00s after plan\n  - By: alice@desk1, recorded 11:06:20 HKT (03:06:20 GMT)\n  - Note: observed: DR completed (2) on OMD-C and OMD-CC\n",
        ],
    );
    // ... and used in the headings of both phases it bounds.
    has(
        &s,
        &[
            "\n### Failover to the backup site: 10:00 HKT to 11:06:00 HKT\n\nEnd confirmed at 11:06:00 HKT: planned ~11:00 HKT, 6m00s after plan.\n",
            "\n### Backup site: 11:06:00 HKT to 12:10 HKT\n\nStart confirmed at 11:06:00 HKT: planned ~11:00 HKT, 6m00s after plan.\n",
            "\n### Preparation: Wed 15 Nov 09:00 HKT to 08:00 HKT\n",
        ],
    );

    // OMD-CC is counted on its own, and a step naming both systems counts for each.
    let results = section(&s, "## Result by system and phase");
    has(
        results,
        &[
            "- OMD-C\n  - Preparation: incomplete (1 of 3 settled, 2 open)\n  - Primary site: incomplete (2 of 4 settled, 2 open)\n  - Failover to the backup site: incomplete (0 of 3 settled, 3 open)\n  - Backup site: FAILED (1 of 7 settled, 6 open, 1 of them failed)\n  - Clean-up: incomplete (0 of 4 settled, 4 open)\n  - Reporting: incomplete (0 of 2 settled, 2 open)\n",
            "- OMD-CC\n  - Preparation: incomplete (1 of 3 settled, 2 open)\n  - Primary site: incomplete (2 of 3 settled, 1 open)\n  - Failover to the backup site: incomplete (0 of 3 settled, 3 open)\n  - Backup site: incomplete (1 of 6 settled, 5 open)\n  - Clean-up: incomplete (0 of 3 settled, 3 open)\n  - Reporting: incomplete (0 of 2 settled, 2 open)\n",
            "- OTP-C\n  - Preparation: incomplete (1 of 6 settled, 5 open)\n  - Primary site: FAILED (1 of 6 settled, 5 open, 1 of them failed)\n",
        ],
    );
    // Each system at each site, with its evidence.
    let omdcc = section(&s, "### OMD-CC");
    has(
        omdcc,
        &[
            "- Primary site: incomplete (2 of 3 settled, 1 open)\n  - `omd-primary-omdcc` first message time = 08:00:03 (alice@desk1 at 08:09:10 HKT (00:09:10 GMT))",
            "- Backup site: incomplete (1 of 6 settled, 5 open)\n  - `omd-backup-omdcc` first message time after the failover = 11:06:40 (alice@desk1 at 11:20:10 HKT (03:20:10 GMT))",
            "  - `omd-backup-end` last OMD-CC sequence numbers per channel = ch1 120344 (bob@desk2 at 12:00:00 HKT (04:00:00 GMT))",
        ],
    );
    has(
        section(&s, "### OTP-C"),
        &[
            "- Primary site: FAILED (1 of 6 settled, 5 open, 1 of them failed)",
            "- Backup site: incomplete (1 of 10 settled, 9 open)\n  - `ep-backup-logon-trading` logon time = 11:14:10",
        ],
    );

    // Every step in its phase with state, who, when, note or reason, evidence.
    let pre = section(&s, "### Preparation: Wed 15 Nov 09:00 HKT to 08:00 HKT");
    has(
        pre,
        &[
            "- [x] done: Confirm which OCG-C sessions the firm has and that their credentials work (`ep-pre-credentials`; ep; OTP-C; critical), due Fri 24 Nov 2023 17:00:00 HKT (09:00:00 GMT)\n  - done by alice@desk1 at 07:45:00 HKT (Fri 24 Nov 23:45:00 GMT)\n  - evidence: credential confirmed by = alice (alice@desk1 at 07:45:30 HKT (Fri 24 Nov 23:45:30 GMT))\n",
            "- [ ] pending: Check the feed handler configuration (`omd-pre-feed-config`; omd; OMD-C, OMD-CC), due Fri 24 Nov 2023 17:00:00 HKT (09:00:00 GMT)\n",
        ],
    );
    let primary = section(&s, "### Primary site: 08:00 HKT to 10:00 HKT");
    has(
        primary,
        &[
            "- [!] failed, needs follow-up: Log on the OCG-C Drop Copy session at the primary site (`ep-primary-logon-dropcopy`; ep; OTP-C; critical), due 08:15:00 HKT (00:15:00 GMT)\n  - failed by alice@desk1 at 08:12:00 HKT (00:12:00 GMT)\n  - what failed: Drop Copy logon rejected: sequence reset needed\n",
            "- [-] skipped: Try one retransmission request at the primary site (`omd-primary-rts`; omd; OMD-C, OMD-CC)\n  - skipped by alice@desk1 at 09:40:00 HKT (01:40:00 GMT)\n  - reason: RTS quota kept for Monday\n",
            "- [>] deferred: Simulate daily operations on OTP-C (`ep-primary-simulate`; ep; OTP-C)\n  - deferred by alice@desk1 at 09:45:00 HKT (01:45:00 GMT)\n",
            "- [x] done: Receive OMD-CC at the primary site (`omd-primary-omdcc`; omd; OMD-CC; critical)",
        ],
    );
    let failover = section(
        &s,
        "### Failover to the backup site: 10:00 HKT to 11:06:00 HKT",
    );
    has(
        failover,
        &[
            "(`omd-failover-omdcc-events`; omd; OMD-CC)\n  - evidence: DR in progress (1) received at = 10:01:15 (alice@desk1 at 10:20:00 HKT (02:20:00 GMT))\n  - ISSUE noted by alice@desk1 at 10:30:00 HKT (02:30:00 GMT): Sequence Reset on OMD-CC channel 3 at 10:01:25, none expected here\n",
            "  - evidence: Sequence Reset seen (none / channels, times) = =ch3 10:01:20, ch4 10:01:22 (alice@desk1 at 10:21:00 HKT (02:21:00 GMT))",
        ],
    );
    let backup = section(&s, "### Backup site: 11:06:00 HKT to 12:10 HKT");
    has(
        backup,
        &[
            "- [!] failed, needs follow-up: Receive OMD-C at the backup site (`omd-backup-omdc`; omd; OMD-C; critical)\n  - failed by bob@desk2 at 11:55:00 HKT (03:55:00 GMT)\n  - what failed: Line B silent on channels 21-24 after the failover\n  - note by bob@desk2 at 11:58:00 HKT (03:58:00 GMT): vendor ticket 4711 raised\n",
            "- [-] skipped: Verify market data at the backup site (`ep-backup-market-data`; ep; OMD-C)\n  - skipped by alice@desk1 at 11:35:00 HKT (03:35:00 GMT)\n  - reason: vendor screens not in scope today\n",
            // Bob's mistaken failure was undone: the step is pending, with no stamp.
            "- [ ] pending: Start-of-trading procedure and trader logon at the backup site (`ep-backup-start-of-day`; ep; OTP-C)\n- [ ]",
            "(`omd-backup-end`; omd; OMD-C, OMD-CC), due 12:05:00 HKT (04:05:00 GMT)\n  - evidence: last OMD-CC sequence numbers per channel = ch1 120344 (bob@desk2 at 12:00:00 HKT (04:00:00 GMT))",
        ],
    );

    // Session notes in their own section; only the note marked as an issue (and the failed
    // steps) under Issues.
    let notes = section(&s, "## Session notes");
    has(
        notes,
        &[
            "- 08:20:00 HKT (00:20:00 GMT) alice@desk1: `Vendor called about the drop copy \u{241b}[31mred`",
        ],
    );
    assert!(
        !notes.contains("vendor ticket"),
        "a step note is not a session note"
    );
    let issues = section(&s, "## Issues");
    has(
        issues,
        &[
            "- 08:12:00 HKT (00:12:00 GMT): FAILED Log on the OCG-C Drop Copy session at the primary site (`ep-primary-logon-dropcopy`, OTP-C) by alice@desk1: Drop Copy logon rejected: sequence reset needed\n",
            "- 10:30:00 HKT (02:30:00 GMT): issue on Observe the OMD-CC Disaster Recovery Signal (`omd-failover-omdcc-events`, OMD-CC) by alice@desk1: Sequence Reset on OMD-CC channel 3 at 10:01:25, none expected here\n",
            "- 11:55:00 HKT (03:55:00 GMT): FAILED Receive OMD-C at the backup site (`omd-backup-omdc`, OMD-C) by bob@desk2: Line B silent on channels 21-24 after the failover\n",
        ],
    );
    for not_issue in [
        "Vendor called",
        "vendor ticket",
        "RTS quota",
        "vendor screens",
    ] {
        assert!(
            !issues.contains(not_issue),
            "{not_issue} is no issue:\n{issues}"
        );
    }

    // The HSN Result Form: what the notices leave undefined, and what the hsn runbook recorded.
    let form = section(&s, "## HSN Result Form (Appendix B)");
    has(
        form,
        &[
            "- Due: Mon 27 Nov 2023 23:59:00 HKT (15:59:00 GMT)",
            "They define none of its fields",
            "  - `hsn-primary-connectivity` (primary): [x] done by alice@desk1 at 08:10:00 HKT (00:10:00 GMT)\n    - time verified = 08:09\n",
            "  - `hsn-backup-connectivity` (backup): [x] done by alice@desk1 at 11:30:00 HKT (03:30:00 GMT)\n    - time verified = 11:29\n",
        ],
    );
    assert!(
        !form.contains("ep-"),
        "only the hsn runbook's steps:\n{form}"
    );
}

/// A minimal RFC 4180 reader: the rows, each a list of fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            _ => field.push(c),
        }
    }
    rows
}

#[test]
fn csv_report_has_a_row_per_boundary_step_evidence_and_note_formula_safe() {
    let out = drillbook(&["report", "--format", "csv", &fx()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    nothing_undone(&text);
    let rows = parse_csv(&text);
    let header: Vec<&str> = drillbook::report::CSV_HEADER.split(',').collect();
    assert_eq!(rows[0], header);
    for r in &rows {
        assert_eq!(r.len(), header.len(), "{r:?}");
        for f in r {
            assert!(
                !f.starts_with(['=', '+', '-', '@']),
                "a field a spreadsheet would run: {f:?}"
            );
        }
    }
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let find = |row: &str, step: &str| -> Vec<&Vec<String>> {
        rows.iter()
            .filter(|r| r[col("row")] == row && r[col("step")] == step)
            .collect()
    };
    let get = |r: &Vec<String>, name: &str| r[col(name)].clone();

    let b = find("boundary", "failover.end");
    assert_eq!(b.len(), 1);
    assert_eq!(get(b[0], "state"), "confirmed");
    assert_eq!(get(b[0], "planned"), "2023-11-25T11:00:00+08:00");
    assert_eq!(get(b[0], "at_session"), "2023-11-25T11:06:00+08:00");
    assert_eq!(get(b[0], "at_utc"), "2023-11-25T03:06:00Z");
    assert_eq!(get(b[0], "by"), "alice@desk1");
    assert_eq!(get(b[0], "drift"), "6m00s after plan");
    assert_eq!(
        get(b[0], "note"),
        "observed: DR completed (2) on OMD-C and OMD-CC"
    );
    assert_eq!(get(b[0], "phase"), "backup");
    // When the confirmation was entered (11:06:20), as in the Markdown and the JSON.
    assert_eq!(get(b[0], "field"), "entered");
    assert_eq!(get(b[0], "value"), "2023-11-25T11:06:20+08:00");
    let md = cli::unfold(&stdout(&drillbook(&["report", &fx()])));
    assert!(md.contains("11:06:20 HKT"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&drillbook(&["report", "--format", "json", &fx()]))).unwrap();
    let jb = json["boundaries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["key"] == "failover.end")
        .unwrap();
    assert_eq!(
        jb["confirmed_by"]["at"]["session"],
        "2023-11-25T11:06:20+08:00"
    );
    assert_eq!(jb["confirmed"]["session"], get(b[0], "at_session"));
    assert_eq!(jb["note"], get(b[0], "note"));
    // A fixed boundary has no entry.
    let fixed = find("boundary", "primary.end");
    assert_eq!(get(fixed[0], "field"), "");

    let s = find("step", "omd-primary-rts");
    assert_eq!(get(s[0], "state"), "skipped");
    assert_eq!(get(s[0], "note"), "RTS quota kept for Monday");
    assert_eq!(get(s[0], "at_session"), "2023-11-25T09:40:00+08:00");
    let s = find("step", "omd-backup-omdc");
    assert_eq!(get(s[0], "state"), "failed");
    assert_eq!(get(s[0], "by"), "bob@desk2");
    assert_eq!(
        get(s[0], "note"),
        "Line B silent on channels 21-24 after the failover"
    );
    let s = find("step", "ep-backup-start-of-day");
    assert_eq!(get(s[0], "state"), "pending", "the failure was undone");
    assert_eq!(get(s[0], "by"), "");
    let s = find("step", "omd-backup-end");
    assert_eq!(get(s[0], "systems"), "OMD-C OMD-CC");
    let s = find("step", "ep-pre-credentials");
    assert_eq!(get(s[0], "at_session"), "2023-11-25T07:45:00+08:00");
    assert_eq!(get(s[0], "at_utc"), "2023-11-24T23:45:00Z");

    let e = find("evidence", "omd-failover-omdc-events");
    assert_eq!(get(e[0], "value"), "'=ch3 10:01:20, ch4 10:01:22");
    let e = find("evidence", "omd-backup-omdcc");
    assert_eq!(get(e[0], "field"), "first message time after the failover");
    assert_eq!(get(e[0], "value"), "11:06:40");

    let n = find("note", "omd-failover-omdcc-events");
    assert_eq!(get(n[0], "issue"), "issue");
    assert_eq!(
        get(n[0], "note"),
        "Sequence Reset on OMD-CC channel 3 at 10:01:25, none expected here"
    );
    let n = find("note", "omd-backup-omdc");
    assert_eq!(get(n[0], "issue"), "");
    let session_notes: Vec<_> = rows
        .iter()
        .filter(|r| r[col("row")] == "note" && r[col("step")].is_empty())
        .collect();
    assert_eq!(session_notes.len(), 1);
    assert_eq!(
        get(session_notes[0], "note"),
        "Vendor called about the drop copy \u{241b}[31mred"
    );
    // One row per step of the plan, and one per boundary.
    assert_eq!(rows.iter().filter(|r| r[col("row")] == "step").count(), 88);
    assert_eq!(
        rows.iter().filter(|r| r[col("row")] == "boundary").count(),
        7
    );
}

#[test]
fn json_report_holds_the_same_facts_for_other_tools() {
    let out = drillbook(&["report", "--format", "json", &fx()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    nothing_undone(&text);
    let v: serde_json::Value = serde_json::from_str(&text).expect("one JSON document");
    assert_eq!(v["rehearsal"], false);
    assert_eq!(v["zone"], "Asia/Hong_Kong");
    assert_eq!(v["roles"], serde_json::json!(["ep", "hsn", "omd"]));
    let b = v["boundaries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["key"] == "failover.end")
        .unwrap();
    assert_eq!(b["confirmed"]["session"], "2023-11-25T11:06:00+08:00");
    assert_eq!(b["planned"]["session"], "2023-11-25T11:00:00+08:00");
    assert_eq!(b["drift_seconds"], 360);
    assert_eq!(b["confirmed_by"]["who"], "alice@desk1");
    let phase = |id: &str| {
        v["phases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()
            .clone()
    };
    let backup = phase("backup");
    let omdcc = backup["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["system"] == "OMD-CC")
        .unwrap();
    assert_eq!(omdcc["tally"]["steps"], 6);
    assert_eq!(omdcc["tally"]["done"], 1);
    let step = |p: &serde_json::Value, id: &str| {
        p["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()
            .clone()
    };
    let failed = step(&backup, "omd-backup-omdc");
    assert_eq!(failed["state"], "failed");
    assert_eq!(failed["by"]["who"], "bob@desk2");
    assert_eq!(failed["by"]["at"]["session"], "2023-11-25T11:55:00+08:00");
    assert_eq!(failed["notes"][0]["text"], "vendor ticket 4711 raised");
    assert_eq!(step(&backup, "ep-backup-start-of-day")["state"], "pending");
    let skipped = step(&phase("primary"), "omd-primary-rts");
    assert_eq!(skipped["note"], "RTS quota kept for Monday");
    let ev = step(&phase("primary"), "ep-primary-logon-trading");
    assert_eq!(ev["evidence"][0]["field"], "logon time");
    assert_eq!(ev["evidence"][0]["value"], "08:04:30");
    assert_eq!(v["session_notes"].as_array().unwrap().len(), 1);
    let kinds: Vec<&str> = v["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["failed step", "issue note", "failed step"]);
    assert!(
        v["hsn_result_form"]["undefined"]
            .as_str()
            .unwrap()
            .contains("define none of its fields")
    );
}

#[test]
fn handover_has_the_shift_history_every_open_step_and_dated_due_times() {
    // After the last entry (12:02), still in the backup phase: the whole day counts.
    let out = drillbook(&["handover", &fx(), "--at", "12:05"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = cli::unfold(&stdout(&out));
    nothing_undone(&s);
    // A step on a choice not recorded yet says so under it: settle the choice before acting.
    has(
        &s,
        &[
            "(`ep-failover-logoff`, ep, phase failover, critical), due Sat 25 Nov 10:05 HKT (Sat 25 Nov 02:05 GMT) **OVERDUE**\n  \
           - applies only if Through the 10:00-~11:00 failover, as the rundown directs: log-off; not recorded yet\n",
        ],
    );
    has(
        &s,
        &[
            "- Written at: Sat 25 Nov 2023 12:05 HKT (Sat 04:05 GMT)",
            "- Current phase: **Backup site** (`backup`), 11:06:00 HKT to 12:10 HKT",
        ],
    );
    // The confirmation as the next shift needs it: observed, entered by whom, and its note.
    has(
        section(&s, "## Boundaries: planned vs confirmed"),
        &[
            "- Failover to the backup site ends, Backup site starts: planned ~11:00 HKT\n  \
             - observed 11:06:00 HKT (03:06:00 GMT), 6m00s after plan\n  \
             - entered by alice@desk1 at 11:06:20 HKT (03:06:20 GMT)\n  \
             - note: observed: DR completed (2) on OMD-C and OMD-CC\n",
            "- Primary site ends, Failover to the backup site starts: 10:00 HKT, fixed\n",
        ],
    );
    // Each step's typed evidence (field: value) and its notes, under the step, done or open.
    has(
        section(&s, "## Steps"),
        &[
            "(`ep-backup-logon-trading`, ep) by alice@desk1 at 11:15:00 HKT (03:15:00 GMT)\n  - logon time: 11:14:10\n",
            "(`omd-backup-omdcc`, omd) by alice@desk1 at 11:20:00 HKT (03:20:00 GMT)\n  - first message time after the failover: 11:06:40\n",
            "(`omd-pre-isolate`, omd) by alice@desk1 at 07:50:00 HKT (Fri 24 Nov 23:50:00 GMT)\n  - store used: md-nonprod-01\n",
            "after the failover\n  - note by bob@desk2 at 11:58:00 HKT (03:58:00 GMT): vendor ticket 4711 raised\n",
        ],
    );
    has(
        section(&s, "## Open steps"),
        &[
            "(`omd-backup-end`, omd, phase backup), due Sat 25 Nov 12:05 HKT (Sat 25 Nov 04:05 GMT)\n  - last OMD-CC sequence numbers per channel: ch1 120344\n",
            "(`omd-failover-omdc-events`, omd, phase failover)\n  - Sequence Reset seen (none / channels, times): =ch3 10:01:20, ch4 10:01:22\n",
            "(`omd-failover-omdcc-events`, omd, phase failover)\n  - DR in progress (1) received at: 10:01:15\n  - ISSUE noted by alice@desk1 at 10:30:00 HKT (02:30:00 GMT): Sequence Reset on OMD-CC channel 3",
        ],
    );
    let history = section(&s, "## Shift history");
    has(
        history,
        &[
            "- 07:40:00 HKT (Fri 24 Nov 23:40:00 GMT): alice@desk1 started recording (roles ep, hsn, omd)\n",
            "- 11:40:00 HKT (03:40:00 GMT): alice@desk1 stopped (quit)\n",
            "- 11:45:00 HKT (03:45:00 GMT): bob@desk2 started recording (roles ep, hsn, omd)\n",
            "- 11:46:00 HKT (03:46:00 GMT): bob@desk2 acknowledged the handover: read it; drop copy escalated to the vendor\n",
            "- 12:02:00 HKT (04:02:00 GMT): bob@desk2 stopped (quit)",
        ],
    );
    // The current phase's open steps, all of them, critical first.
    let current = section(&s, "### Current phase: Backup site (17)");
    let lines: Vec<&str> = current.lines().filter(|l| l.starts_with("- ")).collect();
    assert_eq!(lines.len(), 17, "{current}");
    let last_critical = lines
        .iter()
        .rposition(|l| l.contains(", critical)"))
        .unwrap();
    let first_other = lines
        .iter()
        .position(|l| !l.contains(", critical)"))
        .unwrap();
    assert!(last_critical < first_other, "critical first:\n{current}");
    has(
        current,
        &[
            "- [!] failed, needs follow-up Receive OMD-C at the backup site (`omd-backup-omdc`, omd, phase backup, critical): Line B silent on channels 21-24 after the failover\n",
            "- [ ] pending Start-of-trading procedure and trader logon at the backup site (`ep-backup-start-of-day`, ep, phase backup)\n",
            "- [ ] pending Final snapshot (`omd-backup-end`, omd, phase backup), due Sat 25 Nov 12:05 HKT (Sat 25 Nov 04:05 GMT)\n",
        ],
    );
    // Carried from earlier phases, deferred ones included; due times dated in both zones.
    let carried = section(&s, "### Carried from earlier phases (37)");
    has(
        carried,
        &[
            "- [>] deferred Simulate daily operations on OTP-C (`ep-primary-simulate`, ep, phase primary)\n",
            "- [!] failed, needs follow-up Log on the OCG-C Drop Copy session at the primary site (`ep-primary-logon-dropcopy`, ep, phase primary, critical), due Sat 25 Nov 08:15 HKT (Sat 25 Nov 00:15 GMT): Drop Copy logon rejected: sequence reset needed\n",
            "- [ ] pending Systems up, bridge open, desk sheet out (`ep-pre-ready`, ep, phase pre-session), due Sat 25 Nov 07:45 HKT (Fri 24 Nov 23:45 GMT) **OVERDUE**\n",
        ],
    );
    has(
        section(&s, "### Critical, in later phases (14)"),
        &[
            "(`hsn-report-result-form`, hsn, phase reporting, critical), due Mon 27 Nov 12:00 HKT (Mon 27 Nov 04:00 GMT)",
        ],
    );
    let notes = section(&s, "## Notes");
    has(
        notes,
        &[
            "- 08:20:00 HKT (00:20:00 GMT) alice@desk1 on session: `Vendor called about the drop copy \u{241b}[31mred`\n",
            "- 10:30:00 HKT (02:30:00 GMT) alice@desk1 on `omd-failover-omdcc-events` (ISSUE): Sequence Reset on OMD-CC channel 3 at 10:01:25, none expected here\n",
            "- 11:58:00 HKT (03:58:00 GMT) bob@desk2 on `omd-backup-omdc`: vendor ticket 4711 raised",
        ],
    );
    has(
        section(&s, "### Skipped (2)"),
        &[
            "(`omd-primary-rts`, omd) by alice@desk1 at 09:40:00 HKT (01:40:00 GMT): RTS quota kept for Monday",
            "(`ep-backup-market-data`, ep) by alice@desk1 at 11:35:00 HKT (03:35:00 GMT): vendor screens not in scope today",
        ],
    );
}

fn rehearsal_twin(dir: &std::path::Path) -> std::path::PathBuf {
    cli::rehearsal_twin("ps2-day.jsonl", dir, "day-rehearsal.jsonl")
}

/// The day as a rehearsal run two days later at real time: each event's virtual (session) time
/// is the fixture's, its wall clock (`utc`) two days on. `--at` must go by the session clock.
fn rehearsal_run_later(dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(fixture("ps2-day.jsonl")).unwrap();
    let mut out = String::new();
    for l in text.lines() {
        let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
        let virt = v["utc"].as_str().unwrap().to_owned();
        let real =
            chrono::DateTime::parse_from_rfc3339(&virt).unwrap() + chrono::TimeDelta::days(2);
        v["utc"] = serde_json::json!(real.with_timezone(&chrono::Utc).to_rfc3339());
        v["rehearsal"] = serde_json::json!({ "virtual_utc": virt, "speed": 1.0 });
        out.push_str(&serde_json::to_string(&v).unwrap());
        out.push('\n');
    }
    let p = dir.join("later.jsonl");
    std::fs::write(&p, out).unwrap();
    p
}

#[test]
fn handover_at_a_time_folds_only_what_was_journaled_by_then() {
    let dir = tempfile::tempdir().unwrap();
    let later = rehearsal_run_later(dir.path());
    for j in [fx(), later.to_str().unwrap().to_owned()] {
        // 11:04:30: the 11:03 confirmation was undone at 11:04; the one that stands was entered
        // at 11:06:20. The end of the failover is unconfirmed, so the session is still in it.
        let s = cli::unfold(&stdout(&drillbook(&[
            "handover",
            &j,
            "--at",
            "2023-11-25 11:04:30",
        ])));
        has(
            &s,
            &[
                "- Written at: Sat 25 Nov 2023 11:04 HKT (Sat 03:04 GMT)",
                "- Last journal entry: #27 by alice@desk1 at 11:04:00 HKT (03:04:00 GMT)",
                "- Current phase: **Failover to the backup site** (`failover`), 10:00 HKT to ~11:00 HKT",
                "- **AWAITING CONFIRMATION**: Failover to the backup site ends, Backup site starts",
            ],
        );
        assert!(!s.contains("11:06"), "a later confirmation leaked in:\n{s}");
        // Done at 11:15, failed at 11:55: open at 11:04, listed with the failover's carried steps.
        let steps = section(&s, "## Steps");
        assert!(!steps.contains("ep-backup-logon-trading"), "{steps}");
        assert!(!steps.contains("omd-backup-omdc"), "{steps}");
        has(
            section(&s, "### Critical, in later phases (24)"),
            &[
                "- [ ] pending Receive OMD-C at the backup site (`omd-backup-omdc`",
                // Due 20 minutes after the backup window opened: with the 11:03 confirmation
                // undone, after its planned ~11:00 again.
                "(`ep-backup-escalate`, ep, phase backup, critical), due Sat 25 Nov ~11:20 HKT (Sat 25 Nov ~03:20 GMT) (20 min after Backup site starts, planned ~11:00 HKT, not confirmed yet)\n",
            ],
        );
        // 11:03:30: the mistaken confirmation is not undone yet; the handover said so then.
        let s = cli::unfold(&stdout(&drillbook(&[
            "handover",
            &j,
            "--at",
            "2023-11-25 11:03:30",
        ])));
        has(
            &s,
            &[
                "- Current phase: **Backup site** (`backup`), 11:03:00 HKT to 12:10 HKT",
                "(`ep-backup-escalate`, ep, phase backup, critical), due Sat 25 Nov 11:23 HKT (Sat 25 Nov 03:23 GMT) (20 min after Backup site starts, confirmed at 11:03:00 HKT)\n",
            ],
        );
        // 11:50:10: bob's mistaken "failed" stands until its undo at 11:50:20; the OMD-C failure
        // (11:55), its note (11:58) and bob leaving (12:02) are still to come.
        let s = cli::unfold(&stdout(&drillbook(&[
            "handover",
            &j,
            "--at",
            "2023-11-25 11:50:10",
        ])));
        has(
            &s,
            &[
                "(`ep-backup-start-of-day`, ep) by bob@desk2 at 11:50:00 HKT (03:50:00 GMT): pressed by mistake",
                "- [ ] pending Receive OMD-C at the backup site (`omd-backup-omdc`, omd, phase backup, critical)\n",
                // The confirmation that stands, 11:06, places it; past it by now.
                "(`ep-backup-escalate`, ep, phase backup, critical), due Sat 25 Nov 11:26 HKT (Sat 25 Nov 03:26 GMT) (20 min after Backup site starts, confirmed at 11:06:00 HKT) **OVERDUE**\n",
            ],
        );
        for future in [
            "vendor ticket 4711",
            "Line B silent",
            "12:02:00",
            "ch1 120344",
        ] {
            assert!(
                !s.contains(future),
                "{future:?} is later than 11:50:10:\n{s}"
            );
        }
    }
}

#[test]
fn the_rehearsal_report_is_the_fold_of_its_journal() {
    let dir = tempfile::tempdir().unwrap();
    let j = rehearsal_twin(dir.path());
    let out = drillbook(&["report", j.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = cli::unfold(&stdout(&out));
    nothing_undone(&s);
    let r = section(&s, "# REHEARSAL report - not a record of the real session");
    has(
        r,
        &[
            "- Rehearsed from 07:40 HKT to 12:02 HKT (session clock); 31 operator actions, 2 undone",
            // Under way before the rehearsal started: said so, no drift.
            "- Preparation\n  - Planned start: 15 Nov 09:00 HKT\n  - Reached: began before the rehearsal started (07:40 HKT)\n  - Drift: —\n  - Steps settled: 2 of 20 settled, 18 open\n",
            "- Primary site\n  - Planned start: 08:00 HKT\n  - Reached: 08:00:00 HKT\n  - Drift: as planned\n  - Steps settled: 5 of 13 settled, 8 open, 1 of them failed\n",
            // The confirmation that stands (11:06), not the undone one (11:03).
            "- Backup site\n  - Planned start: ~11:00 HKT\n  - Reached: 11:06:00 HKT\n  - Drift: 6m00s after plan\n  - Steps settled: 4 of 21 settled, 17 open, 1 of them failed\n",
            "- Clean-up\n  - Planned start: 12:10 HKT\n  - Reached: not reached\n  - Steps settled: 0 of 12 settled, 12 open\n",
            "- Confirm which OCG-C sessions the firm has and that their credentials work (ep-pre-credentials): due 24 Nov 17:00 HKT, done 07:45:00 HKT (14h45m late) by alice@desk1",
        ],
    );
    let open = section(r, "## Steps still open at the end");
    has(
        open,
        &[
            "- [!] failed, needs follow-up Receive OMD-C at the backup site (omd-backup-omdc, omd, phase backup, critical), no due time\n",
            "- [ ] pending Start-of-trading procedure and trader logon at the backup site (ep-backup-start-of-day, ep, phase backup), no due time\n",
            "- [ ] pending Final snapshot (omd-backup-end, omd, phase backup), due 12:05 HKT\n",
            "- [ ] pending Systems up, bridge open, desk sheet out (ep-pre-ready, ep, phase pre-session), due 07:45 HKT (overdue at the end)\n",
        ],
    );
    assert!(
        !open.contains("ep-pre-credentials"),
        "settled steps are not open"
    );
}

#[test]
fn log_of_the_day_fits_80_columns_when_not_on_a_wide_terminal() {
    use unicode_width::UnicodeWidthStr;
    let out = drillbook(&["log", &fx()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    for l in s.lines() {
        assert!(l.width() <= 80, "{} columns: {l}", l.width());
    }
    has(
        &s,
        &[
            "Sat 25 Nov 2023, HKT:\n#1     07:40:00 HKT  Fri 23:40:00 GMT  alice@desk1  attach\n",
            "#23    10:30:00 HKT  02:30:00 GMT  alice@desk1  note\n      ISSUE on omd-failover-omdcc-events: Sequence Reset on OMD-CC channel 3 at\n      10:01:25, none expected here\n",
            // A long payload wraps under its heading instead of running past 80 columns.
            "      ep-primary-logon-dropcopy failed: Drop Copy logon rejected: sequence reset\n      needed\n",
        ],
    );
    // --wide keeps one line per event, for a wide terminal or a script.
    let wide = stdout(&drillbook(&["log", "--wide", &fx()]));
    assert_eq!(wide.lines().count(), 44);
}

/// The day's rehearsal twin with the end of the failover observed at `hh:mm` instead of 11:06.
fn confirmed_at(dir: &std::path::Path, hm: &str) -> String {
    let j = rehearsal_twin(dir);
    let text = std::fs::read_to_string(&j).unwrap();
    let text = text.replace("2023-11-25T03:06:00Z", &format!("2023-11-25T{hm}:00Z"));
    std::fs::write(&j, text).unwrap();
    j.to_str().unwrap().to_owned()
}

#[test]
fn an_approximate_boundary_is_late_by_the_apps_rule_not_a_minute_after() {
    let dir = tempfile::tempdir().unwrap();
    // ~11:00 observed at 11:01 (UTC 03:01): on plan.
    let s = cli::unfold(&stdout(&drillbook(&[
        "report",
        &confirmed_at(dir.path(), "03:01"),
    ])));
    let late = section(&s, "## Boundaries confirmed late");
    assert!(
        late.contains("30m00s or more after its planned time"),
        "{late}"
    );
    assert!(
        late.contains("None."),
        "a minute after ~11:00 is not late:\n{late}"
    );
    // At 11:30, 30 minutes after: late.
    let s = cli::unfold(&stdout(&drillbook(&[
        "report",
        &confirmed_at(dir.path(), "03:30"),
    ])));
    has(
        section(&s, "## Boundaries confirmed late"),
        &[
            "- Failover to the backup site ends, Backup site starts: planned 11:00 HKT, confirmed 11:30:00 HKT (30m00s after plan)",
        ],
    );
}

#[test]
fn report_and_handover_tables_fit_80_columns_and_csv_json_stay_complete() {
    use unicode_width::UnicodeWidthStr;
    let dir = tempfile::tempdir().unwrap();
    let twin = rehearsal_twin(dir.path());
    let twin = twin.to_str().unwrap();
    for args in [
        vec!["report", twin],
        vec!["report", &fx()],
        vec!["handover", &fx(), "--at", "12:05"],
    ] {
        let s = stdout(&drillbook(&args));
        for l in s.lines().filter(|l| l.starts_with('|')) {
            assert!(
                l.width() <= 80,
                "{args:?}: a table row of {} columns: {l}",
                l.width()
            );
        }
    }
    let s = cli::unfold(&stdout(&drillbook(&["report", &fx()])));
    // Too wide as tables: the same cells as lists, every fact kept.
    has(
        section(&s, "## Boundaries: planned vs confirmed"),
        &["- Failover to the backup site ends, Backup site starts\n  \
           - Planned: ~11:00:00 HKT (03:00:00 GMT)\n  \
           - Confirmed: 11:06:00 HKT (03:06:00 GMT)\n  \
           - Drift: 6m00s after plan\n  \
           - By: alice@desk1, recorded 11:06:20 HKT (03:06:20 GMT)\n  \
           - Note: observed: DR completed (2) on OMD-C and OMD-CC\n"],
    );
    has(
        section(&s, "## Result by system and phase"),
        &["- OMD-C\n  - Preparation: incomplete (1 of 3 settled, 2 open)\n"],
    );
    has(
        section(&s, "## Reconnect, logon and other recorded times"),
        &[
            "- `ep-backup-logon-trading`\n  - Field: logon time\n  - Value: 11:14:10\n  - Phase: backup\n  - Systems: OTP-C\n  - Recorded: 11:15:10 HKT (03:15:10 GMT)\n",
        ],
    );
    // A table that fits stays one (the rehearsal report's phases on a journal that starts at 08:00).
    let mut table = String::new();
    drillbook::mdtable::table(
        &mut table,
        &["Phase", "Reached"],
        &[vec!["Primary site".into(), "08:00 HKT".into()]],
    );
    assert_eq!(
        table,
        "| Phase | Reached |\n| --- | --- |\n| Primary site | 08:00 HKT |\n"
    );
}

/// Read at 80 columns over SSH: every line of `handover` and `report` but a heading fits, a long
/// item folding at words onto lines indented under it; joined back, the text is whole.
#[test]
fn handover_and_report_fold_to_80_columns() {
    use unicode_width::UnicodeWidthStr;
    for args in [
        vec!["report", &fx()],
        vec!["handover", &fx(), "--at", "12:05"],
    ] {
        let out = drillbook(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        let s = stdout(&out);
        for l in s.lines().filter(|l| !l.starts_with('#')) {
            assert!(l.width() <= 80, "{args:?}: {} columns: {l}", l.width());
        }
        // The longest step line, folded under its item and whole again when joined.
        assert!(s.contains("\n- [!] failed, needs follow-up Log on the OCG-C Drop Copy session at the primary\n  site (`ep-primary-logon-dropcopy`") || args[0] == "report", "{s}");
        assert!(cli::unfold(&s).contains(
            "Log on the OCG-C Drop Copy session at the primary site (`ep-primary-logon-dropcopy`"
        ));
    }
}
