//! The tail on real files: growth, a torn last line completed later, truncation, replacement
//! and removal, a line set aside after it was read, resuming from a position, the thread and
//! the waiter. Each compares with what a full replay of the same bytes says.

use super::*;
use crate::clock::ManualClock;
use crate::journal::{Journal, Meta, StepState};
use chrono::{TimeZone, Utc};
use std::io::Write;
use std::time::Instant;

fn meta() -> Meta {
    Meta {
        operator: "alice".into(),
        host: "desk1".into(),
        session: "s".into(),
        runbooks: vec!["ep".into()],
        roles: vec!["ep".into()],
        sha256: "abc".into(),
        tz: chrono_tz::Asia::Hong_Kong,
    }
}

fn clock() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2023, 11, 25, 1, 0, 0).unwrap())
}

fn step(id: &str) -> Action {
    Action::Step {
        step: id.into(),
        state: StepState::Done,
        note: None,
    }
}

/// An event line as a writer writes it, for files built by hand.
fn line(seq: u64, action: Action) -> Vec<u8> {
    let utc = Utc
        .with_ymd_and_hms(2023, 11, 25, 1, 0, seq as u32)
        .unwrap();
    let mut e = Event::sample(seq, utc, action);
    e.local = "2023-11-25T09:00:00+08:00".into();
    e.operator = "alice".into();
    e.host = "desk1".into();
    e.runbooks = vec!["ep".into()];
    e.sha256 = "abc".into();
    let mut v = serde_json::to_vec(&e).unwrap();
    v.push(b'\n');
    v
}

fn append_raw(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

fn seqs(items: &[Item]) -> Vec<u64> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Event { event, .. } => Some(event.seq),
            _ => None,
        })
        .collect()
}

#[test]
fn growth_is_read_in_order_and_matches_a_full_replay() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (mut j, _) = Journal::open(&path, meta()).unwrap();
    let mut tail = Tail::open(&path).unwrap();
    assert!(tail.read_new().unwrap().is_empty(), "an empty journal");
    let mut got = Vec::new();
    for round in 0..5 {
        for k in 0..=round {
            j.append(step(&format!("s{round}-{k}")), &clock()).unwrap();
        }
        got.extend(tail.read_new().unwrap());
        assert!(tail.read_new().unwrap().is_empty(), "nothing read twice");
    }
    let replay = crate::journal::read(&path).unwrap();
    let events: Vec<Event> = got
        .into_iter()
        .map(|i| match i {
            Item::Event { event, .. } => *event,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(events, replay.events);
    assert_eq!(
        tail.position().offset,
        std::fs::metadata(&path).unwrap().len()
    );
    assert_eq!(tail.position().seq, 15);
    assert_eq!(
        tail.head(),
        Some(&Head {
            session: "s".into(),
            rehearsal: false
        })
    );
}

#[test]
fn a_torn_last_line_waits_until_it_completes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    std::fs::write(&path, line(1, step("a"))).unwrap();
    let mut tail = Tail::open(&path).unwrap();
    assert_eq!(seqs(&tail.read_new().unwrap()), [1]);
    let second = line(2, step("b"));
    let (head, rest) = second.split_at(17);
    append_raw(&path, head);
    assert!(
        tail.read_new().unwrap().is_empty(),
        "half a line is no event"
    );
    assert_eq!(tail.pending_bytes(), 17);
    let before = tail.position();
    // Completed one byte at a time: still one event, once.
    let mut items = Vec::new();
    for b in rest {
        append_raw(&path, std::slice::from_ref(b));
        items.extend(tail.read_new().unwrap());
    }
    assert_eq!(seqs(&items), [2]);
    assert_eq!(tail.pending_bytes(), 0);
    assert_eq!(
        tail.position().offset,
        before.offset + second.len() as u64,
        "the position moves only past complete lines"
    );
}

#[test]
fn a_torn_write_completed_by_the_next_writer_is_left_out_as_replay_leaves_it_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    {
        let (mut j, _) = Journal::open(&path, meta()).unwrap();
        j.append(step("a"), &clock()).unwrap();
    }
    let mut tail = Tail::open(&path).unwrap();
    assert_eq!(seqs(&tail.read_new().unwrap()), [1]);
    // Power lost mid-write.
    append_raw(&path, br#"{"v":1,"seq":2,"utc":"20"#);
    assert!(tail.read_new().unwrap().is_empty());
    // The next writer ends the fragment, sets it aside and appends.
    let (mut j, _) = Journal::open(&path, meta()).unwrap();
    j.append(step("b"), &clock()).unwrap();
    let items = tail.read_new().unwrap();
    assert!(
        matches!(items[0], Item::Unparsable { line: 2, .. }),
        "{items:?}"
    );
    let replay = crate::journal::read(&path).unwrap();
    let events: Vec<&Event> = items
        .iter()
        .filter_map(|i| match i {
            Item::Event { event, .. } => Some(&**event),
            _ => None,
        })
        .collect();
    assert_eq!(events, replay.events[1..].iter().collect::<Vec<_>>());
    assert!(matches!(
        events[0].action,
        Action::TornSetAside { line: 2, .. }
    ));
}

#[test]
fn a_line_set_aside_after_it_was_read_is_retracted_and_the_sequence_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    // #3 was written whole but its fsync failed: the writer sets it aside (reusing seq 3) and
    // writes the action again as #4.
    let mut bytes = [line(1, step("a")), line(2, step("b")), line(3, step("c"))].concat();
    std::fs::write(&path, &bytes).unwrap();
    let mut tail = Tail::open(&path).unwrap();
    assert_eq!(seqs(&tail.read_new().unwrap()), [1, 2, 3]);
    let recovery = [
        line(
            3,
            Action::TornSetAside {
                line: 3,
                bytes: 100,
            },
        ),
        line(4, step("c")),
    ]
    .concat();
    append_raw(&path, &recovery);
    bytes.extend_from_slice(&recovery);
    let items = tail.read_new().unwrap();
    assert_eq!(items[0], Item::Retracted { line: 3, seq: 3 });
    assert_eq!(seqs(&items), [3, 4]);
    // What the tail kept is what replay keeps.
    let replay = crate::journal::parse(&path, &bytes).unwrap();
    let replayed: Vec<u64> = replay.events.iter().map(|e| e.seq).collect();
    assert_eq!(replayed, [1, 2, 3, 4]);
    assert!(matches!(
        replay.events[2].action,
        Action::TornSetAside { .. }
    ));
}

#[test]
fn a_gap_another_session_or_a_rehearsal_event_stops_the_tail_with_replays_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    std::fs::write(&path, line(1, step("a"))).unwrap();
    let mut tail = Tail::open(&path).unwrap();
    tail.read_new().unwrap();
    append_raw(&path, &line(3, step("b")));
    let e = tail.read_new().unwrap_err();
    assert!(
        e.to_string()
            .contains("event #3 where #2 was expected: events are missing"),
        "{e}"
    );

    std::fs::write(&path, line(1, step("a"))).unwrap();
    let mut tail = Tail::open(&path).unwrap();
    tail.read_new().unwrap();
    let other = String::from_utf8(line(2, step("b")))
        .unwrap()
        .replace("\"session\":\"s\"", "\"session\":\"other\"");
    append_raw(&path, other.as_bytes());
    let e = tail.read_new().unwrap_err();
    assert!(e.to_string().contains("journals of two sessions"), "{e}");
}

#[test]
fn truncation_under_the_reader_is_said_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    std::fs::write(&path, [line(1, step("a")), line(2, step("b"))].concat()).unwrap();
    let mut tail = Tail::open(&path).unwrap();
    assert_eq!(seqs(&tail.read_new().unwrap()), [1, 2]);
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(10).unwrap();
    let e = tail.read_new().unwrap_err();
    assert!(matches!(e, TailError::Truncated { now: 10, .. }), "{e:?}");
    assert!(e.to_string().contains("truncated"), "{e}");
}

#[test]
fn a_journal_replaced_by_rename_is_drained_then_said() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    std::fs::write(&path, line(1, step("a"))).unwrap();
    let mut tail = Tail::open(&path).unwrap();
    assert_eq!(seqs(&tail.read_new().unwrap()), [1]);
    // One more event in the old file, then another file renamed over its name.
    append_raw(&path, &line(2, step("b")));
    let new = dir.path().join("new.jsonl");
    std::fs::write(&new, [line(1, step("x")), line(2, step("y"))].concat()).unwrap();
    std::fs::rename(&new, &path).unwrap();
    let items = tail.read_new().unwrap();
    assert_eq!(seqs(&items), [2], "the old file's last event is still read");
    let Item::Event { event, .. } = &items[0] else {
        unreachable!()
    };
    assert!(matches!(&event.action, Action::Step { step, .. } if step == "b"));
    let e = tail.read_new().unwrap_err();
    assert!(matches!(e, TailError::Replaced { .. }), "{e:?}");
    assert!(e.to_string().contains("replaced"), "{e}");
}

#[test]
fn a_removed_journal_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    std::fs::write(&path, line(1, step("a"))).unwrap();
    let mut tail = Tail::open(&path).unwrap();
    tail.read_new().unwrap();
    std::fs::remove_file(&path).unwrap();
    let e = tail.read_new().unwrap_err();
    assert!(matches!(e, TailError::Removed { .. }), "{e:?}");
}

#[test]
fn only_new_bytes_are_read_whatever_lies_before_them() {
    // The cost of a new event does not depend on the journal's length: the tail never reads
    // what it read before. Shown by damaging the part already read (same length, in place):
    // a reader that went back over it would fail.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (mut j, _) = Journal::open(&path, meta()).unwrap();
    for k in 0..2000 {
        j.append(step(&format!("s{k}")), &clock()).unwrap();
    }
    let mut tail = Tail::open(&path).unwrap();
    assert_eq!(tail.read_new().unwrap().len(), 2000);
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.write_all_at(&vec![b'#'; 100_000], 0).unwrap();
    j.append(step("late"), &clock()).unwrap();
    let items = tail.read_new().unwrap();
    assert_eq!(seqs(&items), [2001]);
}

#[test]
fn resuming_from_a_position_reads_only_what_follows_and_a_wrong_position_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    std::fs::write(&path, [line(1, step("a")), line(2, step("b"))].concat()).unwrap();
    let mut tail = Tail::open(&path).unwrap();
    tail.read_new().unwrap();
    let pos = tail.position();
    let head = tail.head().cloned();
    append_raw(&path, &line(3, step("c")));
    let mut again = Tail::open_at(&path, pos, head.clone()).unwrap();
    assert_eq!(seqs(&again.read_new().unwrap()), [3]);

    let wrong_seq = Position { seq: 1, ..pos };
    let e = Tail::open_at(&path, wrong_seq, head.clone()).unwrap_err();
    assert!(e.to_string().contains("is #2, not #1 as saved"), "{e}");
    let mid_line = Position {
        offset: pos.offset - 3,
        ..pos
    };
    let e = Tail::open_at(&path, mid_line, head.clone()).unwrap_err();
    assert!(e.to_string().contains("not the end of a line"), "{e}");
    let other_session = Head {
        session: "other".into(),
        rehearsal: false,
    };
    let e = Tail::open_at(&path, pos, Some(other_session)).unwrap_err();
    assert!(e.to_string().contains("session `s`"), "{e}");
    let beyond = Position {
        offset: 1 << 20,
        ..pos
    };
    assert!(matches!(
        Tail::open_at(&path, beyond, head),
        Err(TailError::PositionMismatch { .. })
    ));
}

#[test]
fn a_fifo_or_a_folder_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let e = Tail::open(dir.path()).unwrap_err();
    assert!(matches!(e, TailError::Refused { .. }), "{e:?}");
    let fifo = dir.path().join("fifo.jsonl");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let started = Instant::now();
    let e = Tail::open(&fifo).unwrap_err();
    assert!(e.to_string().contains("FIFO"), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "never waits on a FIFO"
    );
}

#[test]
fn the_waiter_wakes_on_an_append_well_before_its_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    std::fs::write(&path, line(1, step("a"))).unwrap();
    let mut w = Waiter::new(&path, Duration::from_secs(30));
    assert!(w.notified(), "inotify is available on Linux");
    let p = path.clone();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        append_raw(&p, &line(2, step("b")));
    });
    let started = Instant::now();
    w.wait(Duration::from_secs(30));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "woken by the write, not the 30 s fallback: {:?}",
        started.elapsed()
    );
    writer.join().unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_spawned_tail_feeds_a_channel_and_says_why_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    std::fs::write(&path, line(1, step("a"))).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let handle = spawn(Tail::open(&path).unwrap(), Duration::from_millis(100), tx).unwrap();
    let within = Duration::from_secs(10);
    let first = tokio::time::timeout(within, rx.recv()).await.unwrap();
    assert!(
        matches!(first, Some(Followed::Items(ref i)) if seqs(i) == [1]),
        "{first:?}"
    );
    append_raw(&path, &line(2, step("b")));
    let second = tokio::time::timeout(within, rx.recv()).await.unwrap();
    assert!(
        matches!(second, Some(Followed::Items(ref i)) if seqs(i) == [2]),
        "{second:?}"
    );
    std::fs::remove_file(&path).unwrap();
    let last = tokio::time::timeout(within, rx.recv()).await.unwrap();
    assert!(
        matches!(last, Some(Followed::Stopped(TailError::Removed { .. }))),
        "{last:?}"
    );
    assert!(
        tokio::time::timeout(within, rx.recv())
            .await
            .unwrap()
            .is_none()
    );
    handle.join().unwrap();
}

#[test]
fn a_recovery_whose_own_fsync_failed_is_set_aside_again_and_still_followed() {
    // #3 failed its fsync; the recovery (set-aside #3, action #4) failed its fsync too; the
    // next recovery sets aside all three lines again, reusing 3, 4, 5, then writes #6.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let aside = |line| Action::TornSetAside { line, bytes: 100 };
    let mut bytes = [line(1, step("a")), line(2, step("b")), line(3, step("c"))].concat();
    let first = [line(3, aside(3)), line(4, step("c"))].concat();
    let second = [
        line(3, aside(3)),
        line(4, aside(4)),
        line(5, aside(5)),
        line(6, step("c")),
    ]
    .concat();
    std::fs::write(&path, &bytes).unwrap();
    let mut tail = Tail::open(&path).unwrap();
    let mut items = tail.read_new().unwrap();
    for part in [&first, &second] {
        append_raw(&path, part);
        bytes.extend_from_slice(part);
        items.extend(tail.read_new().unwrap());
    }
    let retracted: Vec<(u64, u64)> = items
        .iter()
        .filter_map(|i| match i {
            Item::Retracted { line, seq } => Some((*line, *seq)),
            _ => None,
        })
        .collect();
    // Line 3 (#3) once; then line 4 (the first set-aside, #3) and line 5 (#4).
    assert_eq!(retracted, [(3, 3), (4, 3), (5, 4)]);
    assert_eq!(tail.position().seq, 6);
    let replay = crate::journal::parse(&path, &bytes).unwrap();
    assert_eq!(replay.events.last().unwrap().seq, 6);
}
