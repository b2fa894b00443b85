//! Unit tests of the pure update: keys in, effects out; the record changes only through
//! `Recorded` events from a real journal.

use super::*;
use crate::clock::{Clock, ManualClock};
use crate::journal::{Journal, Meta};
use chrono::TimeZone;
use crossterm::event::KeyEvent;

fn hkt(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Hong_Kong
        .with_ymd_and_hms(2023, 11, d, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn key(c: char) -> Message {
    Message::Key(KeyEvent::from(KeyCode::Char(c)))
}

fn code(c: KeyCode) -> Message {
    Message::Key(KeyEvent::from(c))
}

struct Rig {
    m: Model,
    j: Journal,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

impl Rig {
    fn new(now: DateTime<Utc>) -> Self {
        let plan = crate::runbook::load_bundled(&["ep".into()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let meta = Meta::for_plan(&plan, Some("tester"));
        let (j, replay) = Journal::open(&dir.path().join("j.jsonl"), meta).unwrap();
        let m = Model::new(plan, replay.record, &replay.events, now);
        Self {
            m,
            j,
            clock: ManualClock::new(now),
            _dir: dir,
        }
    }

    /// Send a message, carry out Append effects through the real journal, return the rest.
    fn send(&mut self, msg: Message) -> Vec<Effect> {
        let now = self.clock.now();
        let mut queue: VecDeque<Effect> = update(&mut self.m, msg, now).into();
        let mut other = Vec::new();
        while let Some(e) = queue.pop_front() {
            match e {
                Effect::Append(a) => {
                    let ev = self.j.append(a, &self.clock).unwrap();
                    queue.extend(update(&mut self.m, Message::Recorded(Box::new(ev)), now));
                }
                e => other.push(e),
            }
        }
        other
    }

    fn selected_id(&self) -> String {
        self.m.plan.steps[self.m.selected_step().unwrap()]
            .id
            .clone()
    }
}

#[test]
fn space_appends_a_done_step_and_the_state_follows_the_record() {
    let mut r = Rig::new(hkt(25, 8, 10));
    assert_eq!(r.m.plan.session.phases[r.m.view_phase].id, "primary");
    let id = r.selected_id();
    let effects = update(&mut r.m, key(' '), r.clock.now());
    assert_eq!(
        effects,
        vec![Effect::Append(Action::Step {
            step: id.clone(),
            state: StepState::Done,
            note: None
        })]
    );
    // Not recorded yet: the screen must not show it.
    assert_eq!(r.m.state(r.m.selected_step().unwrap()), StepState::Pending);
    r.send(key(' '));
    assert_eq!(r.m.record.state_of(&id).unwrap().state, StepState::Done);
    let (text, tone) = r.m.status.clone().unwrap();
    assert_eq!(tone, Tone::Ok);
    assert!(text.contains("recorded"), "{text}");
}

#[test]
fn failed_needs_a_note_and_skipped_a_reason() {
    let mut r = Rig::new(hkt(25, 8, 10));
    let id = r.selected_id();
    assert!(r.send(key('f')).is_empty());
    assert!(matches!(r.m.mode, Mode::Typing(_)));
    // Enter on an empty note is refused, and nothing is recorded.
    assert!(update(&mut r.m, code(KeyCode::Enter), r.clock.now()).is_empty());
    assert_eq!(r.m.status.as_ref().unwrap().1, Tone::Error);
    assert!(matches!(r.m.mode, Mode::Typing(_)));
    for c in "no logon".chars() {
        r.send(key(c));
    }
    let effects = update(&mut r.m, code(KeyCode::Enter), r.clock.now());
    assert_eq!(
        effects,
        vec![Effect::Append(Action::Step {
            step: id,
            state: StepState::Failed,
            note: Some("no logon".into())
        })]
    );
    r.m.mode = Mode::Normal;
    r.send(key('s'));
    r.send(code(KeyCode::Esc));
    assert_eq!(r.m.mode, Mode::Normal);
    assert!(r.m.record.steps.is_empty(), "Esc records nothing");
}

#[test]
fn undo_appends_an_undo_of_the_last_action() {
    let mut r = Rig::new(hkt(25, 8, 10));
    let id = r.selected_id();
    r.send(key(' '));
    let seq = r.m.record.last_undoable().unwrap();
    let effects = update(&mut r.m, key('u'), r.clock.now());
    assert_eq!(effects, vec![Effect::Append(Action::Undo { target: seq })]);
    r.send(key('u'));
    assert!(r.m.record.state_of(&id).is_none());
    assert!(r.m.status.as_ref().unwrap().0.contains("undo of"));
    r.send(key('u'));
    assert_eq!(r.m.status.as_ref().unwrap().0, "nothing to undo");
}

#[test]
fn confirm_keeps_planned_and_confirmed_and_moves_the_phase() {
    let mut r = Rig::new(hkt(25, 11, 20));
    // Past the planned ~11:00 but unconfirmed: still in the failover phase.
    assert_eq!(r.m.plan.session.phases[r.m.view_phase].id, "failover");
    let effects = r.send(key('c'));
    assert!(effects.is_empty());
    for c in "HKEX call".chars() {
        r.send(key(c));
    }
    let now = r.clock.now();
    let effects = update(&mut r.m, code(KeyCode::Enter), now);
    assert_eq!(
        effects,
        vec![Effect::Append(Action::BoundaryConfirmed {
            boundary: "failover.end".into(),
            planned: hkt(25, 11, 0),
            confirmed: now,
            note: Some("HKEX call".into()),
            entered: None,
        })]
    );
    let t = r.m.timeline.pending_confirmation(now).unwrap();
    r.m.mode = Mode::Typing(Input {
        prompt: Prompt::Confirm {
            transition: t,
            at: now,
        },
        text: String::new(),
    });
    r.send(code(KeyCode::Enter));
    assert_eq!(
        r.m.timeline.drift(t),
        Some(TimeDelta::minutes(20)),
        "the drift is shown from the record"
    );
    r.clock.advance(TimeDelta::seconds(1));
    r.send(Message::Tick);
    assert_eq!(r.m.plan.session.phases[r.m.view_phase].id, "backup");
    assert!(
        r.m.record.phases_entered.iter().any(|(p, _)| p == "backup"),
        "entering the phase is journaled"
    );
    // Once per phase: a second tick asks for nothing.
    let before = r.m.record.phases_entered.len();
    r.send(Message::Tick);
    assert_eq!(r.m.record.phases_entered.len(), before);
}

#[test]
fn nothing_to_confirm_outside_the_window_is_said() {
    let mut r = Rig::new(hkt(25, 13, 30));
    r.send(key('c'));
    assert_eq!(r.m.mode, Mode::Normal);
    assert_eq!(r.m.status.as_ref().unwrap().1, Tone::Error);
}

#[test]
fn a_failed_append_says_not_recorded() {
    let mut r = Rig::new(hkt(25, 8, 10));
    let action = Action::Note {
        step: None,
        text: "x".into(),
        issue: false,
    };
    update(
        &mut r.m,
        Message::NotRecorded {
            action: Box::new(action),
            error: "No space left on device".into(),
        },
        r.clock.now(),
    );
    let (text, tone) = r.m.status.clone().unwrap();
    assert_eq!(tone, Tone::Error);
    assert!(
        text.starts_with("NOT recorded: note on the session: No space"),
        "{text}"
    );
}

#[test]
fn quit_asks_only_when_something_is_half_typed() {
    let mut r = Rig::new(hkt(25, 8, 10));
    assert_eq!(
        r.send(key('q')),
        vec![Effect::Quit {
            reason: "quit".into()
        }]
    );
    r.m.mode = Mode::Normal;
    r.send(key('n'));
    r.send(key('q')); // typed into the note
    let ctrl_c = Message::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(r.send(ctrl_c).is_empty());
    assert!(matches!(r.m.mode, Mode::QuitAsk(_)));
    assert!(
        r.send(key('n')).is_empty(),
        "any other key goes back to typing"
    );
    assert!(matches!(r.m.mode, Mode::Typing(ref i) if i.text == "q"));
    let effects = r.send(Message::Signal("SIGHUP".into()));
    assert!(matches!(&effects[..], [Effect::Quit { reason }] if reason.starts_with("SIGHUP")));
}

#[test]
fn watch_is_read_only() {
    let mut r = Rig::new(hkt(25, 8, 10));
    r.m.read_only = Some("j.jsonl".into());
    assert!(r.send(key(' ')).is_empty());
    assert!(r.m.record.steps.is_empty());
    assert!(r.m.status.as_ref().unwrap().0.starts_with("read-only"));
    // Moving and browsing still work.
    r.send(key('j'));
    assert_eq!(r.m.selected, 1);
}

#[test]
fn browsing_stops_following_until_t() {
    let mut r = Rig::new(hkt(25, 9, 0));
    let primary = r.m.view_phase;
    r.send(code(KeyCode::Tab));
    assert_eq!(r.m.view_phase, primary + 1);
    r.clock.set(hkt(25, 10, 5));
    r.send(Message::Tick);
    assert_eq!(
        r.m.view_phase,
        primary + 1,
        "not dragged back while browsing"
    );
    r.send(key('['));
    r.send(key('['));
    assert_eq!(r.m.view_phase, primary - 1);
    r.send(key('t'));
    assert_eq!(r.m.plan.session.phases[r.m.view_phase].id, "failover");
}

/// An event as the journal writes it, stamped at a chosen session instant (a rehearsal stamp
/// carries the session clock; the journal under a ManualClock stamps the wall clock).
fn event_at(seq: u64, at: DateTime<Utc>, action: Action) -> Event {
    Event {
        v: 1,
        seq,
        utc: at,
        local: String::new(),
        operator: "tester".into(),
        host: "h".into(),
        session: "s".into(),
        runbooks: vec![],
        sha256: String::new(),
        rehearsal: None,
        action,
    }
}

#[test]
fn overdue_and_late() {
    let mut r = Rig::new(hkt(25, 8, 20));
    let i = r.m.plan.step_index("ep-primary-logon-trading").unwrap();
    assert!(
        r.m.overdue(i, hkt(25, 8, 20)),
        "due 08:15, pending at 08:20"
    );
    let done = |seq, at| {
        Message::Recorded(Box::new(event_at(
            seq,
            at,
            Action::Step {
                step: "ep-primary-logon-trading".into(),
                state: StepState::Done,
                note: None,
            },
        )))
    };
    update(&mut r.m, done(1, hkt(25, 8, 10)), hkt(25, 8, 20));
    assert!(!r.m.overdue(i, hkt(25, 8, 20)));
    assert!(!r.m.late(i), "recorded at 08:10, due 08:15");
    update(&mut r.m, done(2, hkt(25, 8, 20)), hkt(25, 8, 20));
    assert!(r.m.late(i), "recorded at 08:20, due 08:15");
}

#[test]
fn the_loop_wakes_at_the_next_second_at_the_latest() {
    let r = Rig::new(hkt(25, 8, 10));
    let now = hkt(25, 8, 10) + TimeDelta::milliseconds(300);
    assert_eq!(r.m.next_wakeup(now), hkt(25, 8, 10) + TimeDelta::seconds(1));
}

#[test]
fn the_banner_is_journaled_so_a_restart_does_not_raise_it_again() {
    let at = hkt(25, 10, 0);
    let mut r = Rig::new(at - TimeDelta::seconds(1));
    r.clock.set(at);
    let fx = r.send(Message::Tick);
    let notify = fx
        .iter()
        .filter(|e| matches!(e, Effect::Notify(a) if a.key == "primary.end"))
        .count();
    assert_eq!(notify, 1, "{fx:?}");
    assert!(r.m.record.notified("primary.end", "banner"));

    // A second process on the same journal, a minute later: nothing is raised again.
    let path = r.j.path().to_owned();
    drop(r.j);
    let plan = crate::runbook::load_bundled(&["ep".into()]).unwrap();
    let replay = crate::journal::read(&path).unwrap();
    let later = at + TimeDelta::minutes(1);
    let mut m = Model::new(plan, replay.record, &replay.events, later);
    let fx = update(&mut m, Message::Tick, later);
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Notify(a) if a.key == "primary.end")),
        "{fx:?}"
    );
}

#[test]
fn a_rehearsal_marks_its_alerts_and_steers_the_clock_by_key() {
    let at = hkt(25, 10, 30);
    let mut r = Rig::new(at);
    r.m.rehearsal = Some(crate::clock::RehearsalState {
        speed: 60.0,
        paused: false,
    });
    assert_eq!(
        r.send(key('p')),
        vec![Effect::Clock(ClockControl::TogglePause)]
    );
    // `>` lands one minute before the approximate end of the failover (~11:00).
    assert_eq!(
        r.send(key('>')),
        vec![Effect::Clock(ClockControl::JumpTo(hkt(25, 10, 59)))]
    );
    r.clock.set(hkt(25, 10, 45));
    let fx = r.send(Message::Tick);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Notify(a) if a.title.starts_with("[REHEARSAL] "))),
        "{fx:?}"
    );
    // Outside a rehearsal the keys say what they are for and steer nothing.
    r.m.rehearsal = None;
    assert!(r.send(key('>')).is_empty());
    assert!(r.m.status.as_ref().unwrap().0.contains("--rehearse"));
}

#[test]
fn a_secret_typed_into_a_note_is_refused_and_never_written() {
    let mut r = Rig::new(hkt(25, 8, 10));
    let before = r.m.record.actions;
    r.send(key('N'));
    for c in "OCG password: hunter2".chars() {
        r.send(key(c));
    }
    r.send(code(KeyCode::Enter));
    assert_eq!(r.m.record.actions, before, "nothing was recorded");
    assert!(
        matches!(r.m.mode, Mode::Typing(_)),
        "still typing, to fix it"
    );
    assert!(r.m.status.as_ref().unwrap().0.contains("never stores"));
    let on_disk = std::fs::read_to_string(r.j.path()).unwrap();
    assert!(!on_disk.contains("hunter2"));
}

#[test]
fn the_handover_overlay_scrolls_and_any_other_key_closes_it() {
    let mut r = Rig::new(hkt(25, 9, 0));
    r.send(key('H'));
    assert_eq!(r.m.overlay, Some(Overlay::Handover));
    r.send(code(KeyCode::PageDown));
    r.send(key('j'));
    assert_eq!(r.m.overlay_scroll, 11);
    r.send(code(KeyCode::Up));
    assert_eq!(r.m.overlay_scroll, 10);
    r.send(code(KeyCode::PageUp));
    r.send(code(KeyCode::PageUp));
    assert_eq!(r.m.overlay_scroll, 0, "not above the top");
    r.send(code(KeyCode::PageDown));
    let fx = r.send(key('q'));
    assert!(fx.is_empty(), "q closes the overlay, it does not quit");
    assert_eq!(r.m.overlay, None);
    assert_eq!(r.m.overlay_scroll, 0, "the next opening starts at the top");
}

#[test]
fn a_note_typed_with_a_leading_bang_is_recorded_as_an_issue() {
    let mut r = Rig::new(hkt(25, 8, 10));
    let id = r.selected_id();
    let type_note = |r: &mut Rig, k: char, text: &str| {
        r.send(key(k));
        for c in text.chars() {
            r.send(key(c));
        }
        r.send(code(KeyCode::Enter));
    };
    type_note(&mut r, 'n', "! logon took three tries");
    type_note(&mut r, 'N', "bridge line noisy");
    type_note(&mut r, 'N', "!");
    let notes = &r.m.record.notes;
    assert_eq!(notes.len(), 3);
    assert_eq!(notes[0].step.as_deref(), Some(id.as_str()));
    assert_eq!(
        notes[0].text, "logon took three tries",
        "the marker is taken off"
    );
    assert!(notes[0].issue);
    assert!(!notes[1].issue);
    assert_eq!((notes[2].text.as_str(), notes[2].issue), ("!", false));
    let on_disk = std::fs::read_to_string(r.j.path()).unwrap();
    assert_eq!(on_disk.matches("\"issue\":true").count(), 1);
}
