//! Timeline resolution through the loader: phase boundaries, due times and deadlines written as
//! local times become the right UTC instants in Asia/Hong_Kong (no daylight saving) and in zones
//! that change their clocks during the session (Europe/London in October, America/New_York in
//! March), and the session's progress is read on those instants.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use drillbook::runbook::{Plan, load_bundled, load_paths};
use drillbook::timeline::Timeline;
use std::path::Path;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn load(dir: &str) -> Plan {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/valid")
        .join(dir)
        .join("ops.yaml");
    load_paths(&[p]).unwrap_or_else(|e| panic!("{e}"))
}

fn phase<'a>(plan: &'a Plan, id: &str) -> &'a drillbook::runbook::Phase {
    &plan.session.phases[plan.session.phase_index(id).expect(id)]
}

fn due(plan: &Plan, id: &str) -> DateTime<Utc> {
    plan.steps[plan.step_index(id).expect(id)]
        .due
        .expect("a due time")
}

#[test]
fn hong_kong_session_resolves_at_utc_plus_8() {
    let plan = load_bundled(&["ep".into()]).unwrap();
    let primary = phase(&plan, "primary");
    assert_eq!(primary.start.at, utc(2023, 11, 25, 0, 0), "08:00 HKT");
    assert_eq!(primary.end.at, utc(2023, 11, 25, 2, 0), "10:00 HKT");
    let failover = phase(&plan, "failover");
    assert!(failover.end.approximate && !failover.start.approximate);
    assert_eq!(failover.end.at, utc(2023, 11, 25, 3, 0), "~11:00 HKT");
    let backup = phase(&plan, "backup");
    assert!(backup.start.approximate);
    assert_eq!(backup.end.at, utc(2023, 11, 25, 4, 10), "12:10 HKT");
    // The preparation phase starts on another day, written as a full local date-time.
    assert_eq!(
        phase(&plan, "pre-session").start.at,
        utc(2023, 11, 15, 1, 0)
    );
    // A bare-date deadline is due by 23:59 HKT on that day.
    let reg = plan
        .session
        .deadlines
        .iter()
        .find(|d| d.id == "registration-form")
        .unwrap();
    assert!(reg.end_of_day);
    assert_eq!(reg.due, utc(2023, 11, 22, 15, 59));
    // A step due time on another day.
    assert_eq!(due(&plan, "ep-pre-friday-close"), utc(2023, 11, 24, 15, 59));
}

#[test]
fn london_session_across_the_end_of_summer_time() {
    let plan = load("london");
    let s = &plan.session;
    assert_eq!(s.tz, chrono_tz::Europe::London);
    // 28 Oct is still BST (UTC+1).
    assert_eq!(phase(&plan, "evening").start.at, utc(2023, 10, 28, 21, 0));
    let failover = phase(&plan, "failover");
    assert_eq!(failover.start.at, utc(2023, 10, 28, 23, 30), "00:30 BST");
    // 03:00 on 29 Oct is after the change: GMT (UTC+0).
    assert_eq!(failover.end.at, utc(2023, 10, 29, 3, 0), "03:00 GMT");
    assert!(failover.end.approximate);
    // 00:30 to 03:00 on the wall clock is three and a half hours: the hour from 01:00 repeats.
    assert_eq!(failover.end.at - failover.start.at, TimeDelta::minutes(210));
    assert_eq!(
        due(&plan, "check-in"),
        utc(2023, 10, 28, 22, 0),
        "23:00 BST"
    );
    assert_eq!(
        due(&plan, "after-change"),
        utc(2023, 10, 29, 2, 30),
        "02:30 GMT"
    );
    let d = |id: &str| s.deadlines.iter().find(|d| d.id == id).unwrap().due;
    assert_eq!(d("register"), utc(2023, 10, 27, 22, 59), "23:59 BST");
    assert_eq!(d("report"), utc(2023, 10, 30, 12, 0), "12:00 GMT");

    // Progress is read on those instants: at 01:30 UTC (the second 01:30 on the wall clock)
    // the failover is in progress, and it waits for confirmation once 03:00 GMT passes.
    let tl = Timeline::new(s);
    let failover_idx = s.phase_index("failover");
    assert_eq!(tl.status(utc(2023, 10, 29, 1, 30)).phase, failover_idx);
    let st = tl.status(utc(2023, 10, 29, 3, 5));
    assert_eq!(st.phase, failover_idx);
    assert!(st.awaiting.is_some(), "approximate end awaits confirmation");
    assert!(tl.status(utc(2023, 10, 29, 4, 0)).ended());
}

#[test]
fn new_york_session_across_the_start_of_daylight_saving() {
    let plan = load("new-york");
    assert_eq!(plan.session.tz, chrono_tz::America::New_York);
    assert_eq!(
        phase(&plan, "primary").start.at,
        utc(2023, 3, 12, 5, 30),
        "00:30 EST"
    );
    let failover = phase(&plan, "failover");
    assert_eq!(failover.start.at, utc(2023, 3, 12, 6, 30), "01:30 EST");
    assert_eq!(failover.end.at, utc(2023, 3, 12, 7, 30), "03:30 EDT");
    // 01:30 to 03:30 on the wall clock is one hour: 02:00-02:59 does not exist that night.
    assert_eq!(failover.end.at - failover.start.at, TimeDelta::hours(1));
    assert_eq!(due(&plan, "watch-gap"), utc(2023, 3, 12, 7, 5), "03:05 EDT");
    assert_eq!(
        phase(&plan, "backup").end.at,
        utc(2023, 3, 12, 8, 0),
        "04:00 EDT"
    );
}

#[test]
fn a_due_after_the_phase_start_follows_the_confirmed_start_and_an_undo_takes_it_back() {
    use drillbook::journal::{Action, Event, Record};
    use drillbook::timeline::confirmed_plan;
    let plan = load_bundled(&["ep".into()]).unwrap();
    let i = plan.step_index("ep-backup-escalate").unwrap();
    let step = |p: &Plan| (p.steps[i].due.unwrap(), p.steps[i].due_approximate);
    let event = |seq: u64, at: DateTime<Utc>, action: Action| Event {
        v: 1,
        seq,
        utc: at,
        local: String::new(),
        operator: "alice".into(),
        host: "desk1".into(),
        session: plan.session.id.clone(),
        runbooks: vec!["ep".into()],
        sha256: String::new(),
        rehearsal: None,
        action,
    };
    // As loaded: 20 minutes after the planned ~11:00 HKT, approximate.
    assert_eq!(plan.steps[i].after_start, Some(TimeDelta::minutes(20)));
    assert_eq!(step(&plan), (utc(2023, 11, 25, 3, 20), true));
    let confirm = |seq: u64, at: DateTime<Utc>| {
        event(
            seq,
            at,
            Action::BoundaryConfirmed {
                boundary: "failover.end".into(),
                planned: utc(2023, 11, 25, 3, 0),
                confirmed: at,
                note: None,
                entered: Some(at),
            },
        )
    };
    // Confirmed at 11:03:20 HKT: due 11:23:20, no longer approximate.
    let first = confirm(1, utc(2023, 11, 25, 3, 3) + TimeDelta::seconds(20));
    let rec = Record::from_events([&first]);
    assert_eq!(
        step(&confirmed_plan(&plan, &rec)),
        (utc(2023, 11, 25, 3, 23) + TimeDelta::seconds(20), false)
    );
    // Corrected to 11:05: 11:25.
    let second = confirm(2, utc(2023, 11, 25, 3, 5));
    let rec = Record::from_events([&first, &second]);
    assert_eq!(
        step(&confirmed_plan(&plan, &rec)),
        (utc(2023, 11, 25, 3, 25), false)
    );
    // Both undone: back to the planned ~11:20.
    let undo = |seq, target| event(seq, utc(2023, 11, 25, 3, 30), Action::Undo { target });
    let rec = Record::from_events([&first, &second, &undo(3, 2), &undo(4, 1)]);
    assert_eq!(
        step(&confirmed_plan(&plan, &rec)),
        (utc(2023, 11, 25, 3, 20), true)
    );
    // A step due at a written time is never moved.
    let fixed = plan.step_index("ep-backup-end").unwrap();
    let rec = Record::from_events([&first]);
    assert_eq!(
        confirmed_plan(&plan, &rec).steps[fixed].due,
        plan.steps[fixed].due
    );
}
