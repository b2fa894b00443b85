//! Several journals written by the journal's own writer on real files: the timeline's order, the
//! merged record, each host's confirmation, the refusals, and a follower picking up a journal
//! that appears in a folder after it started.

use super::*;
use crate::clock::{ManualClock, RehearsalClock};
use crate::journal::{Journal, Meta, StepState};
use chrono::{DateTime, TimeZone, Utc};

fn meta(host: &str, operator: &str, role: &str, session: &str) -> Meta {
    Meta {
        operator: operator.into(),
        host: host.into(),
        session: session.into(),
        runbooks: vec![role.into()],
        roles: vec![role.into()],
        sha256: "abc".into(),
        tz: chrono_tz::Asia::Hong_Kong,
    }
}

fn at(h: u32, m: u32) -> DateTime<Utc> {
    // HKT h:m on the session day.
    Utc.with_ymd_and_hms(2023, 11, 25, h - 8, m, 0).unwrap()
}

fn step(id: &str, state: StepState) -> Action {
    Action::Step {
        step: id.into(),
        state,
        note: None,
    }
}

fn confirm(h: u32, m: u32) -> Action {
    Action::BoundaryConfirmed {
        boundary: "failover.end".into(),
        planned: at(11, 0),
        confirmed: at(h, m),
        note: None,
        entered: None,
    }
}

/// Write `actions` into a new journal.
fn write(path: &Path, m: Meta, actions: &[Action]) {
    let (mut j, _) = Journal::open(path, m).unwrap();
    for a in actions {
        j.append(a.clone(), &ManualClock::new(at(8, 0))).unwrap();
    }
}

/// Three hosts' journals, written interleaved: a real event's time is the wall clock at its
/// writing, so the order of writing is the time order.
fn three(dir: &Path) -> Vec<PathBuf> {
    let paths = vec![
        dir.join("desk1.jsonl"),
        dir.join("md1.jsonl"),
        dir.join("net1.jsonl"),
    ];
    let metas = [
        meta("desk1", "alice", "ep", "s"),
        meta("md1", "carol", "omd", "s"),
        meta("net1", "dave", "hsn", "s"),
    ];
    let mut js: Vec<Journal> = paths
        .iter()
        .zip(metas)
        .map(|(p, m)| Journal::open(p, m).unwrap().0)
        .collect();
    let script: [(usize, Action); 9] = [
        (1, step("omd-a", StepState::Done)),
        (0, step("ep-a", StepState::Done)),
        (2, step("hsn-a", StepState::Done)),
        (0, step("shared", StepState::Failed)),
        (1, step("shared", StepState::Done)),
        (1, step("omd-b", StepState::Done)),
        // Undone in its own journal: it stays undone in the merged record.
        (1, Action::Undo { target: 3 }),
        (0, confirm(11, 4)),
        (1, confirm(11, 6)),
    ];
    for (i, a) in script {
        js[i].append(a, &ManualClock::new(at(8, 0))).unwrap();
        // Distinct instants, whatever the clock's resolution.
        std::thread::sleep(std::time::Duration::from_millis(3));
    }
    paths
}

#[test]
fn events_come_in_time_order_each_journal_keeping_its_own_order() {
    let dir = tempfile::tempdir().unwrap();
    let paths = three(dir.path());
    let (sources, empty) = read_all(&paths).unwrap();
    assert!(empty.is_empty());
    let slices: Vec<&[Event]> = sources.iter().map(|s| s.replay.events.as_slice()).collect();
    let t = timeline(&slices);
    let order: Vec<(usize, u64)> = t.iter().map(|(i, e)| (*i, e.seq)).collect();
    assert_eq!(
        order,
        [
            (1, 1),
            (0, 1),
            (2, 1),
            (0, 2),
            (1, 2),
            (1, 3),
            (1, 4),
            (0, 3),
            (1, 5)
        ]
    );
    assert_eq!(sources[0].label(), "desk1 (ep)");
    assert_eq!(sources[1].operators(), ["carol"]);

    // A clock stepped back on one host does not reorder that host's events.
    let a = [ev(1, at(9, 0)), ev(2, at(8, 0))];
    let b = [ev(1, at(8, 30))];
    let t = timeline(&[&a, &b]);
    let order: Vec<(usize, u64)> = t.iter().map(|(i, e)| (*i, e.seq)).collect();
    assert_eq!(order, [(1, 1), (0, 1), (0, 2)]);
}

fn ev(seq: u64, utc: DateTime<Utc>) -> Event {
    let quit = Action::Detach {
        reason: "quit".into(),
    };
    Event::sample(seq, utc, quit)
}

#[test]
fn the_merged_record_takes_the_newest_across_journals_and_keeps_each_confirmation() {
    let dir = tempfile::tempdir().unwrap();
    let (sources, _) = read_all(&three(dir.path())).unwrap();
    let r = merge_records(sources.iter().map(|s| &s.replay.record));
    // `shared` failed on desk1 at 09:00, done on md1 at 09:30: done is the newest.
    let shared = r.state_of("shared").unwrap();
    assert_eq!(shared.state, StepState::Done);
    assert_eq!(shared.stamp.host, "md1");
    assert_eq!(r.steps["shared"].len(), 2, "both kept in the history");
    assert!(
        r.state_of("omd-b").is_none(),
        "undone where it was recorded"
    );
    assert_eq!(r.state_of("hsn-a").unwrap().stamp.operator, "dave");
    assert_eq!(r.confirmation("failover.end").unwrap().confirmed, at(11, 6));
    assert_eq!(r.last.as_ref().unwrap().host, "md1");

    let seen = confirmations_by_journal(sources.iter().map(|s| &s.replay.record));
    let fe: Vec<(usize, DateTime<Utc>, &str)> = seen["failover.end"]
        .iter()
        .map(|(i, c)| (*i, c.confirmed, c.stamp.host.as_str()))
        .collect();
    assert_eq!(fe, [(0, at(11, 4), "desk1"), (1, at(11, 6), "md1")]);
}

#[test]
fn a_folder_is_its_journals_and_the_same_file_twice_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let paths = three(dir.path());
    std::fs::write(dir.path().join("notes.txt"), "not a journal").unwrap();
    std::os::unix::fs::symlink(&paths[0], dir.path().join("link.jsonl")).unwrap();
    let files = expand(&[paths[1].clone(), dir.path().to_owned()]).unwrap();
    assert_eq!(files.len(), 3, "{files:?}");
    assert_eq!(files[0], paths[1]);
    let empty = tempfile::tempdir().unwrap();
    let e = expand(&[empty.path().to_owned()]).unwrap_err();
    assert!(e.to_string().contains("no journal in this folder"), "{e}");
}

#[test]
fn journals_of_two_sessions_or_a_rehearsal_among_real_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = three(dir.path());
    let other = dir.path().join("other.jsonl");
    write(
        &other,
        meta("x1", "eve", "ep", "other-session"),
        &[step("a", StepState::Done)],
    );
    paths.push(other);
    let e = read_all(&paths).unwrap_err().to_string();
    assert!(
        e.contains("other.jsonl: this journal is for session `other-session`")
            && e.contains("journals of different sessions are not read as one"),
        "{e}"
    );
    paths.pop();

    let reh = dir.path().join("reh.jsonl");
    let (mut j, _) = Journal::open(&reh, meta("x1", "eve", "ep", "s")).unwrap();
    j.append(
        step("a", StepState::Done),
        &RehearsalClock::new(at(8, 0), 60.0),
    )
    .unwrap();
    drop(j);
    paths.insert(1, reh);
    let e = read_all(&paths).unwrap_err().to_string();
    assert!(
        e.contains("reh.jsonl: a rehearsal journal among real ones")
            && e.contains("never pass for the real record"),
        "{e}"
    );
}

#[test]
fn a_follower_picks_up_a_journal_that_appears_in_the_folder_later() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        &d.join("desk1.jsonl"),
        meta("desk1", "alice", "ep", "s"),
        &[step("ep-a", StepState::Done)],
    );
    let mut f = Follower::new(&[d.to_owned()]).unwrap();
    assert!(f.poll().unwrap());
    assert_eq!(f.journals.len(), 1);
    assert!(!f.poll().unwrap(), "nothing new");

    // A second host's journal lands in the shared folder, and grows.
    let md = d.join("md1.jsonl");
    let (mut j, _) = Journal::open(&md, meta("md1", "carol", "omd", "s")).unwrap();
    j.append(step("omd-a", StepState::Done), &ManualClock::new(at(8, 0)))
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while f.journals.len() < 2 {
        assert!(std::time::Instant::now() < deadline, "not picked up");
        f.poll().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let order: Vec<(usize, u64)> = f.timeline().iter().map(|(i, e)| (*i, e.seq)).collect();
    assert_eq!(order, [(0, 1), (1, 1)], "written in that order");
    assert_eq!(f.journals[1].roles, ["omd"]);
    j.append(step("omd-b", StepState::Done), &ManualClock::new(at(9, 0)))
        .unwrap();
    assert!(f.poll().unwrap());
    assert_eq!(f.record().state_of("omd-b").unwrap().stamp.host, "md1");
    assert_eq!(f.record().state_of("ep-a").unwrap().stamp.host, "desk1");

    assert_eq!(f.take_news(), [News::Joined(0), News::Joined(1)]);

    // A journal of another session landing in the folder is set aside, said once, and the
    // others go on being followed.
    let other = d.join("zz.jsonl");
    write(
        &other,
        meta("zz", "eve", "ep", "other"),
        &[step("a", StepState::Done)],
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let news = loop {
        assert!(std::time::Instant::now() < deadline, "not refused");
        f.poll().unwrap();
        let news = f.take_news();
        if !news.is_empty() {
            break news;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    match &news[..] {
        [News::SetAside { path, why }] => {
            assert_eq!(path, &other);
            assert!(
                why.contains("it is for session `other`, the journals watched for `s`"),
                "{why}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(f.journals[2].standing, Standing::SetAside(_)));
    assert!(f.record().state_of("a").is_none(), "not merged");
    j.append(step("omd-c", StepState::Done), &ManualClock::new(at(9, 30)))
        .unwrap();
    assert!(f.poll().unwrap());
    assert!(f.record().state_of("omd-c").is_some(), "still followed");
    assert!(f.take_news().is_empty(), "said once");
}

/// The caller's test decides whether a journal may join (for `watch`: one rehearsal clock, a
/// runbook for its roles); one refused is named with the reason. A joined journal that is
/// removed stops, what it held kept, and the others are still followed.
#[test]
fn a_follower_asks_before_a_journal_joins_and_keeps_what_a_removed_one_held() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        &d.join("a.jsonl"),
        meta("desk1", "alice", "ep", "s"),
        &[step("ep-a", StepState::Done)],
    );
    write(
        &d.join("b.jsonl"),
        meta("md1", "bob", "omd", "s"),
        &[step("omd-a", StepState::Done)],
    );
    let mut f = Follower::new(&[d.to_owned()]).unwrap();
    let mut judge = |j: &Followed, joined: &[&Followed]| {
        if j.roles == ["omd"] {
            Err(format!("no runbook for omd (joined: {})", joined.len()))
        } else {
            Ok(())
        }
    };
    assert!(f.poll_with(&mut judge).unwrap());
    let news = f.take_news();
    assert_eq!(news[0], News::Joined(0), "{news:?}");
    assert_eq!(
        news[1],
        News::SetAside {
            path: d.join("b.jsonl"),
            why: "no runbook for omd (joined: 1)".into()
        }
    );
    assert_eq!(f.merged().count(), 1);
    // Removed under the follower: stopped, said, its record kept.
    std::fs::remove_file(d.join("a.jsonl")).unwrap();
    assert!(f.poll().unwrap());
    match &f.take_news()[..] {
        [News::Stopped { path, why }] => {
            assert_eq!(path, &d.join("a.jsonl"));
            assert!(why.contains("removed"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert!(f.record().state_of("ep-a").is_some());
    assert_eq!(f.recent(10).len(), 1, "its one event");
}
