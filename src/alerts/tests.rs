//! The alert rules driven through a session day by a manual clock.

use super::*;
use crate::clock::{Clock, ManualClock};
use crate::journal::{Action, Event, StepState};
use crate::runbook::load_bundled;
use chrono::TimeZone;

/// Session-zone (HKT, UTC+8 all year) wall time on a November 2023 day.
fn hkt(day: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 11, day, h, m, 0).unwrap() - TimeDelta::hours(8)
}

fn plan(roles: &[&str]) -> Plan {
    let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
    load_bundled(&roles).unwrap()
}

/// A journal record in which `keys` were already notified (an earlier process sent them).
fn record_with(keys: &[String]) -> Record {
    let events: Vec<Event> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let action = Action::Notification {
                key: k.clone(),
                channel: "terminal".into(),
                ok: true,
                title: String::new(),
                body: String::new(),
                error: None,
            };
            Event::sample(i as u64 + 1, hkt(25, 7, 0), action)
        })
        .collect();
    Record::from_events(&events)
}

/// Step the clock minute by minute from `from` to `to`, collecting every alert with its wake time.
/// `confirm_at`: the operator confirms the failover end (as observed) when the clock reaches it.
fn run(
    plan: &Plan,
    sched: &mut Scheduler,
    record: &Record,
    clock: &ManualClock,
    to: DateTime<Utc>,
    confirm_at: Option<DateTime<Utc>>,
) -> Vec<(DateTime<Utc>, Alert)> {
    let mut tl = Timeline::new(&plan.session);
    // As the app's model does on every refold: dues after a phase's start follow the timeline.
    let mut plan = plan.clone();
    let mut out = Vec::new();
    while clock.now() <= to {
        let now = clock.now();
        if let Some(c) = confirm_at.filter(|c| *c <= now) {
            tl.confirm("failover.end", c);
            tl.resolve_dues(&mut plan.steps);
        }
        out.extend(
            sched
                .due(&plan, &tl, record, now)
                .into_iter()
                .map(|a| (now, a)),
        );
        clock.advance(TimeDelta::minutes(1));
    }
    out
}

/// [`run`] with a fresh scheduler and a clock started at `from`: a day with nothing carried over.
fn day(
    plan: &Plan,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    record: &Record,
    confirm_at: Option<DateTime<Utc>>,
) -> Vec<(DateTime<Utc>, Alert)> {
    let clock = ManualClock::new(from);
    run(
        plan,
        &mut Scheduler::new(from),
        record,
        &clock,
        to,
        confirm_at,
    )
}

/// The alert with `key` among those fired.
fn alert<'a>(got: &'a [(DateTime<Utc>, Alert)], key: &str) -> &'a Alert {
    let found = got.iter().find(|(_, a)| a.key == key);
    &found.unwrap_or_else(|| panic!("no {key} alert")).1
}

fn keys(v: &[(DateTime<Utc>, Alert)]) -> Vec<&str> {
    v.iter().map(|(_, a)| a.key.as_str()).collect()
}

const EP_DAY: &[&str] = &[
    "pre-session.end@-15m",
    "pre-session.end@-5m",
    "pre-session.end",
    "step:ep-primary-logon-trading:overdue",
    "step:ep-primary-logon-dropcopy:overdue",
    "primary.end@-15m",
    "primary.end@-5m",
    "step:ep-primary-boundary:overdue",
    "primary.end",
    // Nobody recorded whether the rundown has participants log off: the log-off step still alerts.
    "step:ep-failover-logoff:overdue",
    "failover.end@-15m",
    "failover.end@-5m",
    "failover.end:awaiting",
    "failover.end",
    // 20 minutes after the backup window opened, as confirmed (11:20 in these days).
    "step:ep-backup-escalate:overdue@2023-11-25T03:40:00Z",
    "backup.end@-15m",
    "backup.end@-5m",
    "step:ep-backup-end:overdue",
    "backup.end",
    "step:ep-cleanup-next-day:overdue",
    "clean-up.end@-15m",
    "step:ep-cleanup-test-orders:overdue",
    "step:ep-cleanup-market-data:overdue",
    "clean-up.end@-5m",
    "clean-up.end",
    "step:ep-cleanup-restore:overdue",
    "reporting.end@-15m",
    "reporting.end@-5m",
    "reporting.end",
];

#[test]
fn a_session_day_fires_each_alert_once_in_order() {
    let p = plan(&["ep"]);
    let got = day(
        &p,
        hkt(25, 7, 0),
        hkt(25, 14, 30),
        &Record::default(),
        Some(hkt(25, 11, 20)),
    );
    let k = keys(&got);
    let report: Vec<String> = got
        .iter()
        .map(|(t, a)| format!("{} {}", zones::hm(*t, p.session.tz), a.key))
        .collect();
    assert_eq!(k, EP_DAY, "{report:#?}");
    let unique: HashSet<_> = k.iter().collect();
    assert_eq!(unique.len(), k.len(), "no duplicates");
    // Each fires at the minute it is due.
    for (t, a) in &got {
        assert_eq!(*t, a.due, "{} fired late", a.key);
    }
}

#[test]
fn texts_name_the_session_zone_time() {
    let p = plan(&["ep"]);
    let got = day(&p, hkt(25, 9, 40), hkt(25, 11, 5), &Record::default(), None);
    let w = alert(&got, "primary.end@-15m");
    assert!(w.title.starts_with("In 15 min: Primary site ends"), "{w:?}");
    assert!(w.body.contains("10:00 HKT"), "{w:?}");
    let aw = alert(&got, "failover.end:awaiting");
    assert!(aw.body.contains("expected ~11:00 HKT"), "{aw:?}");
    assert!(
        aw.body
            .contains("not confirmed yet; press c when it is observed"),
        "{aw:?}"
    );
    let fw = alert(&got, "failover.end@-15m");
    assert!(fw.body.contains("~11:00 HKT"), "{fw:?}");
    // Unconfirmed: the approximate boundary itself is never announced as reached.
    assert!(got.iter().all(|(_, a)| a.key != "failover.end"));
}

#[test]
fn a_restart_fires_nothing_the_journal_says_was_sent() {
    let p = plan(&["ep"]);
    // First process: 07:00 to 10:30, then it is killed.
    let sent: Vec<String> = day(&p, hkt(25, 7, 0), hkt(25, 10, 30), &Record::default(), None)
        .into_iter()
        .map(|(_, a)| a.key)
        .collect();
    assert!(sent.contains(&"primary.end".to_owned()));
    // Second process restarts at 10:00 (within GRACE of nothing old): the journal knows what was sent.
    let record = record_with(&sent);
    let clock = ManualClock::new(hkt(25, 10, 0));
    let mut second = Scheduler::new(hkt(25, 9, 59));
    let again = run(
        &p,
        &mut second,
        &record,
        &clock,
        hkt(25, 14, 30),
        Some(hkt(25, 11, 20)),
    );
    for (_, a) in &again {
        assert!(!sent.contains(&a.key), "{} fired twice", a.key);
    }
    let mut all: Vec<String> = sent.clone();
    all.extend(again.into_iter().map(|(_, a)| a.key));
    assert_eq!(all, EP_DAY);
}

#[test]
fn a_clock_stepped_back_fires_nothing_twice() {
    let p = plan(&["ep"]);
    let clock = ManualClock::new(hkt(25, 9, 30));
    let mut sched = Scheduler::new(clock.now());
    let rec = Record::default();
    let first = run(&p, &mut sched, &rec, &clock, hkt(25, 10, 10), None);
    assert!(keys(&first).contains(&"primary.end"));
    // NTP steps the clock back 40 minutes; the same stretch passes again.
    clock.set(hkt(25, 9, 30));
    let second = run(&p, &mut sched, &rec, &clock, hkt(25, 10, 10), None);
    assert!(second.is_empty(), "{:?}", keys(&second));
}

#[test]
fn a_warning_never_follows_its_boundary_after_the_clock_steps_back() {
    let p = plan(&["ep"]);
    let clock = ManualClock::new(hkt(25, 9, 40));
    let mut sched = Scheduler::new(clock.now());
    let rec = Record::default();
    let tl = Timeline::new(&p.session);
    // A jump over the warning (a suspended laptop): the boundary fires, the warning is skipped.
    clock.set(hkt(25, 10, 1));
    let first = sched.due(&p, &tl, &rec, clock.now());
    assert!(first.iter().any(|a| a.key == "primary.end"), "{first:?}");
    assert!(first.iter().all(|a| !a.key.contains('@')), "{first:?}");
    // Then NTP steps the clock back 20 minutes: 09:41 to 09:59 again.
    clock.set(hkt(25, 9, 41));
    let again = run(&p, &mut sched, &rec, &clock, hkt(25, 9, 59), None);
    assert!(again.is_empty(), "{:?}", keys(&again));
    // Across a restart too: the journal says the boundary was sent.
    let mut fresh = Scheduler::new(hkt(25, 9, 40));
    clock.set(hkt(25, 9, 41));
    let after = run(
        &p,
        &mut fresh,
        &record_with(&["primary.end".to_owned()]),
        &clock,
        hkt(25, 9, 59),
        None,
    );
    assert!(
        keys(&after).iter().all(|k| !k.starts_with("primary.end@")),
        "{:?}",
        keys(&after)
    );
}

#[test]
fn a_jump_forward_fires_each_missed_alert_once_and_skips_useless_ones() {
    let p = plan(&["ep"]);
    let rec = Record::default();
    let mut sched = Scheduler::new(hkt(25, 9, 40));
    let tl = Timeline::new(&p.session);
    assert!(sched.due(&p, &tl, &rec, hkt(25, 9, 40)).is_empty());
    // Suspended at 09:40, woken at 10:10: the warnings for 10:00 are useless, the boundary is not.
    let woke = sched.due(&p, &tl, &rec, hkt(25, 10, 10));
    let k: Vec<_> = woke.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(
        k,
        [
            "step:ep-primary-boundary:overdue",
            "primary.end",
            "step:ep-failover-logoff:overdue"
        ]
    );
    assert!(sched.due(&p, &tl, &rec, hkt(25, 10, 10)).is_empty());
    // Woken much later (12:30): only the boundary that is current, not the ones after it passed.
    let late = sched.due(&p, &tl, &rec, hkt(25, 12, 30));
    let k: Vec<_> = late.iter().map(|a| a.key.as_str()).collect();
    // The escalation counts from the unconfirmed start's planned ~11:00: due ~11:20, missed.
    assert_eq!(
        k,
        [
            "step:ep-backup-escalate:overdue@2023-11-25T03:20:00Z",
            "step:ep-backup-end:overdue",
            "backup.end"
        ],
        "failover.end never confirmed: the later fixed boundary passed it"
    );
}

#[test]
fn a_start_mid_session_fires_nothing_for_long_past_boundaries() {
    let p = plan(&["ep"]);
    let got = day(
        &p,
        hkt(25, 10, 30),
        hkt(25, 10, 58),
        &Record::default(),
        None,
    );
    assert_eq!(keys(&got), ["failover.end@-15m", "failover.end@-5m"]);
    // Within GRACE of the start still fires: a quick restart right after 10:00.
    let mut s2 = Scheduler::new(hkt(25, 10, 1));
    let tl = Timeline::new(&p.session);
    let k: Vec<_> = s2
        .due(&p, &tl, &Record::default(), hkt(25, 10, 1))
        .into_iter()
        .map(|a| a.key)
        .collect();
    assert_eq!(k, ["primary.end"], "the 09:55 step is more than GRACE old");
}

#[test]
fn closed_and_not_applicable_steps_are_never_overdue() {
    let p = plan(&["ccep"]);
    let done = Event::sample(
        1,
        hkt(25, 8, 10),
        Action::Step {
            step: "ccep-primary-logon".into(),
            state: StepState::Done,
            note: None,
        },
    );
    let rec = Record::from_events([&done]);
    let mut sched = Scheduler::new(hkt(25, 8, 0));
    let tl = Timeline::new(&p.session);
    let k: Vec<_> = sched
        .due(&p, &tl, &rec, hkt(25, 8, 20))
        .into_iter()
        .map(|a| a.key)
        .collect();
    assert!(!k.iter().any(|k| k.contains("ccep-primary-logon")), "{k:?}");
    assert!(p.steps.iter().any(|s| s.not_applicable.is_some()));
    let all = day(&p, hkt(25, 7, 0), hkt(25, 14, 0), &Record::default(), None);
    for (_, a) in &all {
        if let Some(id) = a
            .key
            .strip_prefix("step:")
            .and_then(|k| k.split_once(":overdue"))
            .map(|(id, _)| id)
        {
            let s = &p.steps[p.step_index(id).unwrap()];
            assert!(s.critical && s.not_applicable.is_none(), "{id}");
        }
    }
}

#[test]
fn deadlines_remind_the_day_before_and_on_the_day() {
    let p = plan(&["hsn"]);
    let got = day(&p, hkt(22, 8, 0), hkt(27, 23, 59), &Record::default(), None);
    let dl: Vec<_> = got
        .iter()
        .filter(|(_, a)| a.key.starts_with("deadline:"))
        .map(|(t, a)| (zones::day_hm(*t, p.session.tz), a.key.as_str()))
        .collect();
    assert_eq!(
        dl,
        // Against the firm's targets (Thu 23 Nov 17:00, Mon 27 Nov 12:00), not HKEX's dates.
        [
            (
                "Wed 22 Nov 2023 09:00 HKT".to_owned(),
                "deadline:hsn-intention-form@eve"
            ),
            (
                "Thu 23 Nov 2023 09:00 HKT".to_owned(),
                "deadline:hsn-intention-form@day"
            ),
            (
                "Sun 26 Nov 2023 09:00 HKT".to_owned(),
                "deadline:hsn-result-form@eve"
            ),
            (
                "Mon 27 Nov 2023 09:00 HKT".to_owned(),
                "deadline:hsn-result-form@day"
            ),
        ]
    );
    let day = alert(&got, "deadline:hsn-result-form@day");
    assert!(
        day.title.starts_with("Target today: HSN Result Form"),
        "{day:?}"
    );
    assert!(
        day.body.contains("Our target Mon 27 Nov 2023 12:00 HKT")
            && day.body.contains("HKEX's date Mon 27 Nov 2023 23:59 HKT"),
        "{day:?}"
    );
}

#[test]
fn a_deadline_without_a_target_reminds_against_its_own_date() {
    let mut p = plan(&["hsn"]);
    for d in &mut p.session.deadlines {
        d.target = None;
    }
    let got = day(&p, hkt(26, 8, 0), hkt(27, 23, 59), &Record::default(), None);
    let day = alert(&got, "deadline:hsn-result-form@day");
    assert!(day.title.starts_with("Deadline today"), "{day:?}");
    assert!(
        day.body.contains("Due Mon 27 Nov 2023 23:59 HKT"),
        "{day:?}"
    );
}

/// Evidence recorded on a step: how the operator records a choice.
fn choose(plan: &Plan, picks: &[(&str, &str)]) -> Record {
    let events: Vec<Event> = picks
        .iter()
        .enumerate()
        .map(|(i, (choice, option))| {
            let c = plan.session.choice(choice).unwrap();
            let settler = crate::setup::settler(plan, choice).unwrap();
            let action = Action::Evidence {
                step: settler.id.clone(),
                field: c.field(),
                value: (*option).into(),
            };
            Event::sample(i as u64 + 1, hkt(23, 17, 0), action)
        })
        .collect();
    Record::from_events(&events)
}

#[test]
fn steps_that_do_not_apply_to_the_recorded_setup_are_never_overdue() {
    let p = plan(&["ep"]);
    let keys_for = |rec: &Record| {
        let got = day(
            &p,
            hkt(25, 7, 0),
            hkt(25, 14, 30),
            rec,
            Some(hkt(25, 11, 20)),
        );
        got.into_iter().map(|(_, a)| a.key).collect::<Vec<_>>()
    };
    let has = |k: &[String], s: &str| k.iter().any(|x| x == s);
    let stay = keys_for(&choose(
        &p,
        &[
            ("drop-copy", "no"),
            ("failover-connection", "stay-connected"),
        ],
    ));
    assert!(
        !has(&stay, "step:ep-primary-logon-dropcopy:overdue"),
        "{stay:?}"
    );
    assert!(!has(&stay, "step:ep-failover-logoff:overdue"), "{stay:?}");
    assert!(
        has(&stay, "step:ep-primary-logon-trading:overdue"),
        "{stay:?}"
    );
    let off = keys_for(&choose(
        &p,
        &[("drop-copy", "yes"), ("failover-connection", "log-off")],
    ));
    assert!(
        has(&off, "step:ep-primary-logon-dropcopy:overdue"),
        "{off:?}"
    );
    assert!(has(&off, "step:ep-failover-logoff:overdue"), "{off:?}");
}

#[test]
fn an_overdue_step_with_an_unrecorded_choice_says_which() {
    let p = plan(&["ep"]);
    let got = day(
        &p,
        hkt(25, 10, 0),
        hkt(25, 10, 10),
        &Record::default(),
        None,
    );
    let a = alert(&got, "step:ep-failover-logoff:overdue");
    // The condition leads, in the title read at a glance and in the body.
    assert!(a.title.starts_with("Overdue if log-off: Log off"), "{a:?}");
    assert!(
        a.body
            .starts_with("Not recorded yet: Through the 10:00-~11:00 failover"),
        "{a:?}"
    );
    assert!(a.body.contains("applies only if log-off"), "{a:?}");
    // A yes/no choice by its name, in the words the list's row uses (`if drop-copy`).
    let got = day(&p, hkt(25, 8, 10), hkt(25, 8, 20), &Record::default(), None);
    let a = alert(&got, "step:ep-primary-logon-dropcopy:overdue");
    assert!(
        a.title
            .starts_with("Overdue if drop-copy: Log on the OCG-C Drop Copy"),
        "{a:?}"
    );
}

#[test]
fn next_due_names_the_next_wake_and_lead_overrides_parse() {
    let p = plan(&["ep"]);
    let tl = Timeline::new(&p.session);
    let sched = Scheduler::new(hkt(25, 9, 0));
    assert_eq!(
        sched.next_due(&p, &tl, &Record::default(), hkt(25, 9, 0)),
        Some(hkt(25, 9, 45))
    );
    assert_eq!(
        parse_lead("5, 30,5").unwrap(),
        [TimeDelta::minutes(30), TimeDelta::minutes(5)]
    );
    assert!(
        parse_lead("0")
            .unwrap_err()
            .to_string()
            .contains("out of range")
    );
    assert!(
        parse_lead("x")
            .unwrap_err()
            .to_string()
            .contains("not a number")
    );
    let mut p2 = p.clone();
    p2.session.lead = parse_lead("30").unwrap();
    let mut s = Scheduler::new(hkt(25, 9, 0));
    let k: Vec<_> = s
        .due(&p2, &tl, &Record::default(), hkt(25, 9, 30))
        .into_iter()
        .map(|a| a.key)
        .collect();
    assert_eq!(k, ["primary.end@-30m"]);
}

/// A clock that jumps past two warnings (a rehearsal's `>` to 10:59, a suspend) sends the one
/// still true, with what is left: not "In ~15 min" and "In ~5 min" a minute before the boundary.
#[test]
fn a_jump_past_the_warnings_sends_the_shortest_with_what_is_left() {
    let p = plan(&["ep"]);
    let mut sched = Scheduler::new(hkt(25, 10, 30));
    let tl = Timeline::new(&p.session);
    assert!(
        sched
            .due(&p, &tl, &Record::default(), hkt(25, 10, 30))
            .is_empty()
    );
    let got = sched.due(&p, &tl, &Record::default(), hkt(25, 10, 59));
    let keys: Vec<&str> = got.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["failover.end@-5m"], "{got:?}");
    assert!(got[0].title.starts_with("In ~1 min: "), "{:?}", got[0]);
    // On time, a warning says its own lead.
    let on_time = day(
        &p,
        hkt(25, 10, 40),
        hkt(25, 10, 46),
        &Record::default(),
        None,
    );
    assert!(
        alert(&on_time, "failover.end@-15m")
            .title
            .starts_with("In ~15 min: ")
    );
}

/// The EP escalation (`due: "+20m"` after the backup window's approximate ~11:00 start) stepped
/// minute by minute from 11:00 with a scheduler that may already have a history (`sched`,
/// `record`). `changes`: at each instant the operator confirms the start at `Some(t)`, corrects
/// it, or (`None`) undoes the confirmation; the plan's dues follow, as `Model::refold` makes
/// them. Returns the escalation's alerts: when each fired, its key and body.
fn escalation(
    sched: &mut Scheduler,
    record: &Record,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    changes: &[(DateTime<Utc>, Option<DateTime<Utc>>)],
) -> Vec<(String, String, String)> {
    let mut p = plan(&["ep"]);
    let mut tl = Timeline::new(&p.session);
    let mut out = Vec::new();
    let mut now = from;
    while now <= to {
        for (at, start) in changes.iter().filter(|(at, _)| *at == now) {
            let _ = at;
            tl = Timeline::new(&p.session);
            if let Some(c) = start {
                tl.confirm("failover.end", *c);
            }
            tl.resolve_dues(&mut p.steps);
        }
        for a in sched.due(&p, &tl, record, now) {
            if a.key.starts_with("step:ep-backup-escalate:") {
                out.push((zones::hm(now, p.session.tz), a.key, a.body));
            }
        }
        now += TimeDelta::minutes(1);
    }
    out
}

fn fired_at(got: &[(String, String, String)]) -> Vec<(&str, &str)> {
    got.iter()
        .map(|(t, k, _)| (t.as_str(), k.as_str()))
        .collect()
}

#[test]
fn a_due_after_the_start_moves_with_its_confirmation_and_alerts_once() {
    const AT_1120: &str = "step:ep-backup-escalate:overdue@2023-11-25T03:20:00Z";
    const AT_1123: &str = "step:ep-backup-escalate:overdue@2023-11-25T03:23:00Z";
    const AT_1124: &str = "step:ep-backup-escalate:overdue@2023-11-25T03:24:00Z";
    let rec = Record::default();
    let from = hkt(25, 11, 0);
    let fresh = || Scheduler::new(hkt(25, 11, 0));

    // Confirmed at 11:05 as observed at 11:03: nothing at the planned ~11:20, one alert at 11:23.
    let got = escalation(
        &mut fresh(),
        &rec,
        from,
        hkt(25, 11, 50),
        &[(hkt(25, 11, 5), Some(hkt(25, 11, 3)))],
    );
    assert_eq!(fired_at(&got), [("11:23 HKT", AT_1123)]);
    assert!(
        got[0].2.contains(
            "was due at 11:23 HKT and is pending: 20 min after Backup site starts, confirmed at 11:03:00 HKT."
        ),
        "{}",
        got[0].2
    );

    // Unconfirmed at 11:20: alerted at the planned time, saying so. Confirmed at 11:21 as 11:04:
    // the step is not overdue until 11:24, when its new overdue is alerted, once. A correction
    // at 11:30 to 11:02 (due 11:22, still past) and an undo at 11:35 (back to ~11:20) move the
    // due while it stays overdue: nothing more.
    let got = escalation(
        &mut fresh(),
        &rec,
        from,
        hkt(25, 12, 0),
        &[
            (hkt(25, 11, 21), Some(hkt(25, 11, 4))),
            (hkt(25, 11, 30), Some(hkt(25, 11, 2))),
            (hkt(25, 11, 35), None),
        ],
    );
    assert_eq!(
        fired_at(&got),
        [("11:20 HKT", AT_1120), ("11:24 HKT", AT_1124)]
    );
    assert!(
        got[0].2.contains(
            "was due at ~11:20 HKT and is pending: 20 min after Backup site starts, planned ~11:00 HKT, not confirmed yet."
        ),
        "{}",
        got[0].2
    );

    // Alerted at ~11:20, then confirmed at 11:30 as 11:04: due 11:24, already past when the
    // confirmation moves it there. One overdue throughout: no second alert.
    let got = escalation(
        &mut fresh(),
        &rec,
        from,
        hkt(25, 12, 0),
        &[(hkt(25, 11, 30), Some(hkt(25, 11, 4)))],
    );
    assert_eq!(fired_at(&got), [("11:20 HKT", AT_1120)]);

    // Done before its due: nothing, wherever the due goes.
    let done = Record::from_events([&Event::sample(
        1,
        hkt(25, 11, 10),
        Action::Step {
            step: "ep-backup-escalate".into(),
            state: StepState::Skipped,
            note: Some("logged on at 11:06".into()),
        },
    )]);
    let got = escalation(
        &mut fresh(),
        &done,
        from,
        hkt(25, 12, 0),
        &[(hkt(25, 11, 5), Some(hkt(25, 11, 3)))],
    );
    assert!(got.is_empty(), "{got:?}");

    // A restart at 11:22 after the ~11:20 alert (the journal has it), with the start confirmed
    // at 11:04 meanwhile: the new process sees the step not overdue until 11:24, so 11:24 is a
    // new overdue and alerted; a restart at 11:26, past it, raises nothing (it never saw the
    // step not overdue since the first alert).
    let sent = record_with(&[AT_1120.to_owned()]);
    let confirmed = [(hkt(25, 11, 22), Some(hkt(25, 11, 4)))];
    let got = escalation(
        &mut Scheduler::new(hkt(25, 11, 22)),
        &sent,
        hkt(25, 11, 22),
        hkt(25, 11, 50),
        &confirmed,
    );
    assert_eq!(fired_at(&got), [("11:24 HKT", AT_1124)]);
    let confirmed = [(hkt(25, 11, 26), Some(hkt(25, 11, 4)))];
    let got = escalation(
        &mut Scheduler::new(hkt(25, 11, 26)),
        &sent,
        hkt(25, 11, 26),
        hkt(25, 11, 50),
        &confirmed,
    );
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn a_moved_due_stepped_back_over_fires_nothing_twice() {
    // NTP steps the clock back over 11:23 after the alert for it: its key is remembered.
    let mut sched = Scheduler::new(hkt(25, 11, 0));
    let rec = Record::default();
    let confirmed = [(hkt(25, 11, 5), Some(hkt(25, 11, 3)))];
    let first = escalation(
        &mut sched,
        &rec,
        hkt(25, 11, 0),
        hkt(25, 11, 30),
        &confirmed,
    );
    assert_eq!(first.len(), 1);
    let again = escalation(
        &mut sched,
        &rec,
        hkt(25, 11, 5),
        hkt(25, 11, 30),
        &confirmed,
    );
    assert!(again.is_empty(), "{again:?}");
}
