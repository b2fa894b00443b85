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
        Self::with_roles(now, &["ep"])
    }

    fn with_roles(now: DateTime<Utc>, roles: &[&str]) -> Self {
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        let plan = crate::runbook::load_bundled(&roles).unwrap();
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
                    // As the loop does: what the journal refuses comes back as NotRecorded.
                    let msg = match self.j.append(a.clone(), &self.clock) {
                        Ok(ev) => Message::Recorded(Box::new(ev)),
                        Err(e) => Message::NotRecorded {
                            action: Box::new(a),
                            error: e.to_string(),
                        },
                    };
                    queue.extend(update(&mut self.m, msg, now));
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

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.send(key(c));
        }
    }

    fn select(&mut self, id: &str) {
        let i = self.m.plan.step_index(id).unwrap();
        self.m.cursor = Some(i);
    }

    fn status(&self) -> String {
        self.m.status.clone().map(|s| s.0).unwrap_or_default()
    }

    fn typing(&self) -> &Input {
        match &self.m.mode {
            Mode::Typing(i) => i,
            other => panic!("not typing: {other:?}"),
        }
    }

    fn lines_on_disk(&self) -> usize {
        std::fs::read_to_string(self.j.path())
            .unwrap()
            .lines()
            .count()
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
    // The title, not the internal id.
    let title = r.m.step_title(&id);
    assert_eq!(text, format!("recorded: {title}: done"));
}

#[test]
fn failed_needs_a_note_and_skipped_a_reason() {
    let mut r = Rig::new(hkt(25, 8, 10));
    let id = r.selected_id();
    assert!(r.send(key('f')).is_empty());
    assert!(matches!(r.m.mode, Mode::Typing(_)));
    // Enter on an empty note is refused, and nothing is recorded: the prompt stays open with
    // the reason beside it.
    assert!(update(&mut r.m, code(KeyCode::Enter), r.clock.now()).is_empty());
    let why = r.typing().error.clone().unwrap();
    assert!(why.contains("needs a note saying what failed"), "{why}");
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
fn undo_names_its_target_asks_first_and_can_be_redone() {
    let mut r = Rig::new(hkt(25, 8, 10));
    let id = r.selected_id();
    let title = r.m.step_title(&id);
    r.send(key(' '));
    let seq = r.m.record.last_undoable().unwrap();
    // `u` asks, naming what it would undo; nothing is appended yet.
    assert!(update(&mut r.m, key('u'), r.clock.now()).is_empty());
    match &r.m.mode {
        Mode::Ask(Question::Undo { target, what, .. }) => {
            assert_eq!(*target, seq);
            assert!(what.starts_with(&format!("{title}: done")), "{what}");
            assert!(what.contains("by tester@"), "{what}");
        }
        other => panic!("{other:?}"),
    }
    // Any other key keeps it.
    r.send(key('n'));
    assert_eq!(r.m.mode, Mode::Normal);
    assert!(r.m.record.state_of(&id).is_some());
    assert!(r.status().starts_with("not undone"), "{}", r.status());
    r.send(key('u'));
    assert_eq!(
        update(&mut r.m, key('y'), r.clock.now()),
        vec![Effect::Append(Action::Undo { target: seq })]
    );
    r.m.mode = Mode::Ask(Question::Undo {
        target: seq,
        what: String::new(),
        action: r.m.find_action(seq),
    });
    r.send(key('y'));
    assert!(r.m.record.state_of(&id).is_none());
    assert_eq!(r.status(), format!("recorded: undo of {title}: done"));
    // Redo records the action again, as a new one.
    assert_eq!(
        update(&mut r.m, key('U'), r.clock.now()),
        vec![Effect::Append(Action::Step {
            step: id.clone(),
            state: StepState::Done,
            note: None
        })]
    );
    r.m.redo.push(Action::Step {
        step: id.clone(),
        state: StepState::Done,
        note: None,
    });
    r.send(key('U'));
    assert_eq!(r.m.record.state_of(&id).unwrap().state, StepState::Done);
    r.send(key('U'));
    assert!(r.status().starts_with("nothing to redo"), "{}", r.status());
    // Undo everything there is, then nothing is left.
    while r.m.record.last_undoable().is_some() {
        r.send(key('u'));
        r.send(key('y'));
    }
    r.send(key('u'));
    assert_eq!(r.status(), "nothing to undo");
}

#[test]
fn confirm_keeps_planned_and_confirmed_and_moves_the_phase() {
    let mut r = Rig::new(hkt(25, 11, 20));
    // Past the planned ~11:00 but unconfirmed: still in the failover phase.
    assert_eq!(r.m.plan.session.phases[r.m.view_phase].id, "failover");
    let effects = r.send(key('c'));
    assert!(effects.is_empty());
    // The prompt starts with the time `c` was pressed: Enter alone confirms then.
    assert_eq!(r.typing().text(), "11:20:00 ");
    r.type_text("HKEX call");
    let now = r.clock.now();
    let effects = update(&mut r.m, code(KeyCode::Enter), now);
    assert_eq!(
        effects,
        vec![Effect::Append(Action::BoundaryConfirmed {
            boundary: "failover.end".into(),
            planned: hkt(25, 11, 0),
            confirmed: now,
            note: Some("HKEX call".into()),
            entered: Some(now),
        })]
    );
    let t = r.m.timeline.pending_confirmation(now).unwrap();
    r.m.mode = Mode::Typing(Input::new(
        Prompt::Confirm {
            transition: t,
            at: now,
        },
        "",
    ));
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
fn a_prompt_refused_by_the_journal_stays_open_with_its_reason() {
    let mut r = Rig::new(hkt(25, 8, 10));
    r.send(key('N'));
    r.type_text("bridge call opened");
    let action = Action::Note {
        step: None,
        text: "bridge call opened".into(),
        issue: false,
    };
    let fx = update(&mut r.m, code(KeyCode::Enter), r.clock.now());
    assert_eq!(fx, vec![Effect::Append(action.clone())]);
    update(
        &mut r.m,
        Message::NotRecorded {
            action: Box::new(action),
            error: "No space left on device".into(),
        },
        r.clock.now(),
    );
    let i = r.typing();
    assert_eq!(i.text(), "bridge call opened", "the text as typed");
    assert_eq!(
        i.error.as_deref(),
        Some("NOT recorded: No space left on device")
    );
}

#[test]
fn quit_asks_in_a_live_session_and_when_something_is_half_typed() {
    // 08:10 on the day, the real clock: a live session.
    let mut r = Rig::new(hkt(25, 8, 10));
    assert!(r.send(key('q')).is_empty());
    assert_eq!(r.m.mode, Mode::Ask(Question::Quit));
    assert!(r.send(key('n')).is_empty(), "any other key stays");
    assert_eq!(r.m.mode, Mode::Normal);
    r.send(key('q'));
    assert_eq!(
        r.send(key('y')),
        vec![Effect::Quit {
            reason: "quit".into()
        }]
    );
    // In a rehearsal, after the session, or watching: q quits at once.
    for (at, rehearsal, watch) in [
        (hkt(25, 8, 10), true, false),
        (hkt(25, 15, 0), false, false),
        (hkt(25, 8, 10), false, true),
    ] {
        let mut r = Rig::new(at);
        if rehearsal {
            r.m.rehearsal = Some(crate::clock::RehearsalState {
                speed: 60.0,
                paused: false,
                stopped: false,
            });
        }
        if watch {
            r.m.read_only = Some("j".into());
        }
        assert_eq!(
            r.send(key('q')),
            vec![Effect::Quit {
                reason: "quit".into()
            }],
            "{at} rehearsal {rehearsal} watch {watch}"
        );
    }
    // Ctrl-C while typing asks whether to lose the text.
    let mut r = Rig::new(hkt(25, 15, 0));
    r.m.mode = Mode::Normal;
    r.send(key('n'));
    r.send(key('q')); // typed into the note
    let ctrl_c = Message::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(r.send(ctrl_c).is_empty());
    assert!(matches!(r.m.mode, Mode::Ask(Question::Discard(_))));
    assert!(
        r.send(key('n')).is_empty(),
        "any other key goes back to typing"
    );
    assert_eq!(r.typing().text(), "q");
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
    let first = r.m.cursor;
    r.send(key('j'));
    assert_ne!(r.m.cursor, first);
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

#[test]
fn overdue_and_late() {
    let mut r = Rig::new(hkt(25, 8, 20));
    let i = r.m.plan.step_index("ep-primary-logon-trading").unwrap();
    assert!(
        r.m.overdue(i, hkt(25, 8, 20)),
        "due 08:15, pending at 08:20"
    );
    let done = |seq, at| {
        Message::Recorded(Box::new(Event::sample(
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
        stopped: false,
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
fn a_secret_typed_into_a_note_is_refused_by_the_journal_and_shown_at_the_prompt() {
    let mut r = Rig::new(hkt(25, 8, 10));
    let before = r.m.record.actions;
    let lines = r.lines_on_disk();
    r.send(key('N'));
    r.type_text("trader password: Hunter2xyz");
    r.send(code(KeyCode::Enter));
    assert_eq!(r.m.record.actions, before, "nothing was recorded");
    assert_eq!(r.lines_on_disk(), lines);
    // Still typing, to fix it, with the journal's own reason beside the prompt.
    let i = r.typing();
    assert_eq!(i.text(), "trader password: Hunter2xyz");
    let why = i.error.clone().unwrap();
    assert!(
        why.starts_with("NOT recorded: the note looks like"),
        "{why}"
    );
    let on_disk = std::fs::read_to_string(r.j.path()).unwrap();
    assert!(!on_disk.contains("Hunter2"));
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

#[test]
fn space_on_a_settled_step_says_when_and_by_whom_and_records_nothing() {
    let mut r = Rig::new(hkt(25, 8, 10));
    // A step of the phase listed: a settled one stays in the list.
    r.select("ep-primary-ocg-lookup");
    let id = r.selected_id();
    r.send(key(' '));
    let at = r.m.record.state_of(&id).unwrap().stamp.at;
    r.select(&id);
    let lines = r.lines_on_disk();
    let fx = r.send(key(' '));
    assert!(fx.is_empty());
    assert_eq!(r.lines_on_disk(), lines, "nothing appended");
    assert_eq!(
        r.m.record.state_of(&id).unwrap().stamp.at,
        at,
        "its time is kept"
    );
    let s = r.status();
    let when = zones::hms(at, r.m.plan.session.tz);
    assert!(
        s.starts_with(&format!("already done at {when} by tester@")),
        "{s}"
    );
    assert!(s.contains("Nothing recorded"), "{s}");
    // `a` on a step already n/a, `d` on one already deferred: the same.
    r.send(key('d'));
    assert_eq!(r.m.record.state_of(&id).unwrap().state, StepState::Deferred);
    r.select(&id);
    let lines = r.lines_on_disk();
    r.send(key('d'));
    assert_eq!(r.lines_on_disk(), lines);
    assert!(r.status().starts_with("already deferred"), "{}", r.status());
}

#[test]
fn after_an_action_the_cursor_moves_to_the_next_open_step() {
    let mut r = Rig::with_roles(hkt(25, 9, 0), &["ep", "hsn", "omd"]);
    let list = r.m.list_steps(r.clock.now());
    let first = r.m.cursor.unwrap();
    let pos = list.iter().position(|&i| i == first).unwrap();
    r.send(key(' '));
    let next_open = list[pos + 1..]
        .iter()
        .copied()
        .find(|&i| i != first && r.m.is_open(i))
        .unwrap();
    assert_eq!(r.m.cursor, Some(next_open));
    // Failed (with its note) moves on too.
    let here = r.m.cursor.unwrap();
    r.send(key('f'));
    r.type_text("no logon");
    r.send(code(KeyCode::Enter));
    assert_ne!(r.m.cursor, Some(here));
    assert!(r.m.is_open(r.m.cursor.unwrap()));
    // A note does not move it.
    let here = r.m.cursor;
    r.send(key('n'));
    r.type_text("checked twice");
    r.send(code(KeyCode::Enter));
    assert_eq!(r.m.cursor, here);
}

#[test]
fn steps_of_a_phase_that_ended_open_are_carried_into_the_next() {
    let mut r = Rig::with_roles(hkt(25, 9, 50), &["ep", "hsn", "omd"]);
    // Settle the preparation, so only the primary site's steps are carried.
    let prep = r.m.plan.session.phase_index("pre-session").unwrap();
    for i in r.m.open_in(prep) {
        r.m.cursor = Some(i);
        r.send(key('a'));
        r.type_text("not part of this test");
        r.send(code(KeyCode::Enter));
    }
    r.select("ep-primary-ocg-lookup");
    r.send(key(' '));
    r.clock.set(hkt(25, 10, 1));
    r.send(Message::Tick);
    let now = r.clock.now();
    assert_eq!(r.m.plan.session.phases[r.m.view_phase].id, "failover");
    let primary = r.m.plan.session.phase_index("primary").unwrap();
    let rows = r.m.rows(now);
    let open = r.m.open_in(primary);
    let overdue = open.iter().filter(|&&i| r.m.overdue(i, now)).count();
    assert!(overdue >= 2, "the two 09:55 snapshots");
    // Folded to its heading, with its counts; the selection stayed on its step, now carried,
    // and shows under the heading; the failover's own steps follow.
    assert_eq!(
        rows[0],
        Row::Carried {
            phase: primary,
            open: open.len(),
            overdue,
            folded: true,
        }
    );
    let first = r.m.cursor.unwrap();
    assert_eq!(r.m.plan.steps[first].phase, primary);
    assert_eq!(rows[1], Row::Step(first));
    assert!(matches!(rows[2], Row::Own { .. }), "{rows:?}");
    let snapshot = r.m.plan.step_index("ep-primary-boundary").unwrap();
    assert!(!rows.contains(&Row::Step(snapshot)), "folded");
    assert!(
        r.m.covered_steps(now).contains(&snapshot),
        "the 09:55 snapshot stays, counted"
    );
    // `z` shows the group in front, as the list had it before.
    r.send(key('z'));
    let rows = r.m.rows(now);
    assert!(matches!(rows[0], Row::Carried { folded: false, .. }));
    assert!(
        rows.contains(&Row::Step(snapshot)),
        "the 09:55 snapshot stays"
    );
    let done = r.m.plan.step_index("ep-primary-ocg-lookup").unwrap();
    assert!(
        !rows.contains(&Row::Step(done)),
        "a settled step is not carried"
    );
    assert!(rows.iter().any(|r| matches!(r, Row::Own { .. })));
    // Settling the selected step takes it off the list.
    r.send(key(' '));
    assert!(!r.m.rows(now).contains(&Row::Step(first)));
    // The header's item: none of the failover is overdue yet, so the most recently due
    // overdue critical step (the carried 09:55 snapshots).
    let now_item = r.m.overdue_critical_now(now).unwrap();
    assert!(r.m.plan.steps[now_item].critical);
    assert_eq!(
        r.m.plan.steps[now_item].due,
        r.m.overdue_steps(now)
            .iter()
            .filter(|&&i| r.m.plan.steps[i].critical)
            .filter_map(|&i| r.m.plan.steps[i].due)
            .max()
    );
    // Browsing the primary phase shows it without carried groups.
    r.send(key('['));
    assert!(
        !r.m.rows(now)
            .iter()
            .any(|r| matches!(r, Row::Carried { .. }))
    );
}

#[test]
fn the_open_items_view_puts_overdue_first_and_o_jumps_between_them() {
    let mut r = Rig::with_roles(hkt(25, 10, 30), &["ep", "hsn", "omd"]);
    let now = r.clock.now();
    r.send(key('o'));
    assert_eq!(r.m.list_view, ListView::Open);
    let rows = r.m.rows(now);
    let Row::Overdue { steps } = rows[0] else {
        panic!("{rows:?}")
    };
    let overdue: Vec<usize> = rows[1..=steps]
        .iter()
        .map(|r| match r {
            Row::Step(i) => *i,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(overdue.iter().all(|&i| r.m.overdue(i, now)));
    let dues: Vec<_> = overdue.iter().map(|&i| r.m.plan.steps[i].due).collect();
    assert!(dues.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    // Every open step is there, once.
    let all: usize = (0..r.m.plan.steps.len())
        .filter(|&i| r.m.is_open(i))
        .count();
    assert_eq!(r.m.list_steps(now).len(), all);
    // `O` goes from overdue step to overdue step, oldest first, and wraps.
    r.send(key('o'));
    r.select("ep-failover-window");
    r.send(key('O'));
    let a = r.m.cursor.unwrap();
    assert_eq!(a, r.m.overdue_steps(now)[0]);
    // The oldest is due before the session day, and the status says which day (walk 3 R5):
    // "due 17:00 HKT" beside "overdue" on the day would read as later today.
    let due = r.m.plan.steps[a]
        .due
        .unwrap()
        .with_timezone(&chrono_tz::Asia::Hong_Kong);
    assert!(due.date_naive() < r.m.plan.session.date, "{due}");
    let day = due.format("(due %d %b %H:%M HKT)").to_string();
    assert!(r.status().ends_with(&day), "{} / {day}", r.status());
    r.send(key('O'));
    assert_eq!(r.m.cursor.unwrap(), r.m.overdue_steps(now)[1]);
    assert!(r.status().starts_with("overdue 2 of"), "{}", r.status());
    assert!(r.m.list_steps(now).contains(&r.m.cursor.unwrap()));
}

#[test]
fn search_with_slash_then_n_and_shift_n() {
    let mut r = Rig::with_roles(hkt(25, 8, 10), &["ep", "hsn", "omd"]);
    let now = r.clock.now();
    r.send(key('/'));
    r.type_text("logon");
    r.send(code(KeyCode::Enter));
    let matches = r.m.search_matches(now);
    assert!(matches.len() > 2, "{matches:?}");
    assert!(matches.iter().all(|&i| {
        let s = &r.m.plan.steps[i];
        format!("{} {} {}", s.title, s.id, s.detail)
            .to_lowercase()
            .contains("logon")
    }));
    let first = r.m.cursor.unwrap();
    assert!(matches.contains(&first));
    assert!(r.status().contains("match"), "{}", r.status());
    r.send(key('n'));
    let second = r.m.cursor.unwrap();
    assert_ne!(first, second);
    assert!(matches.contains(&second));
    assert!(r.m.list_steps(now).contains(&second), "shown where it is");
    r.send(key('N'));
    assert_eq!(r.m.cursor.unwrap(), first);
    assert_eq!(r.m.mode, Mode::Normal, "n/N move while a search is set");
    // Esc ends the search: n is a note again.
    r.send(code(KeyCode::Esc));
    assert_eq!(r.m.search, None);
    r.send(key('n'));
    assert!(matches!(r.typing().prompt, Prompt::StepNote { .. }));
}

#[test]
fn filters_by_role_and_by_state() {
    let mut r = Rig::with_roles(hkt(25, 9, 0), &["ep", "hsn", "omd"]);
    let now = r.clock.now();
    r.send(key('R'));
    assert_eq!(r.m.filter.role.as_deref(), Some("ep"));
    let steps = r.m.list_steps(now);
    assert!(!steps.is_empty());
    assert!(steps.iter().all(|&i| r.m.plan.steps[i].role == "ep"));
    r.send(key('R'));
    assert_eq!(r.m.filter.role.as_deref(), Some("hsn"));
    r.send(key('R'));
    r.send(key('R'));
    assert_eq!(r.m.filter.role, None, "back to every role");
    r.send(key('F'));
    assert_eq!(r.m.filter.state, StateFilter::Open);
    r.send(key(' '));
    let steps = r.m.list_steps(now);
    assert!(steps.iter().all(|&i| r.m.is_open(i)), "the done one left");
    r.send(key('F'));
    assert_eq!(r.m.filter.state, StateFilter::Overdue);
    assert!(r.m.list_steps(now).iter().all(|&i| r.m.overdue(i, now)));
}

#[test]
fn e_goes_straight_to_a_single_field_and_the_picker_passes_typed_keys_on() {
    let mut r = Rig::new(hkt(25, 11, 40));
    r.select("ep-backup-market-data");
    r.send(key('e'));
    let i = r.typing();
    assert_eq!(
        i.prompt,
        Prompt::Evidence {
            step: r.m.plan.step_index("ep-backup-market-data").unwrap(),
            field: 0
        }
    );
    r.send(code(KeyCode::Esc));
    // Several fields: the picker opens, and typing goes to the highlighted field whole.
    r.select("ep-primary-logon-trading");
    r.send(key('e'));
    assert!(matches!(r.m.mode, Mode::PickEvidence { .. }));
    r.send(code(KeyCode::Down));
    r.type_text("yes, 08:12");
    let i = r.typing();
    assert_eq!(i.text(), "yes, 08:12");
    assert!(matches!(i.prompt, Prompt::Evidence { field: 1, .. }));
}

#[test]
fn a_confirmation_takes_the_observed_time_and_journals_both() {
    let mut r = Rig::new(hkt(25, 11, 8));
    r.send(key('c'));
    // Replace the prefilled time with the observed one.
    r.send(Message::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    r.type_text("11:06 DR completed");
    r.send(code(KeyCode::Enter));
    let c = r.m.record.confirmation("failover.end").unwrap();
    assert_eq!(c.confirmed, hkt(25, 11, 6));
    assert_eq!(c.note.as_deref(), Some("DR completed"));
    let t =
        r.m.timeline
            .transitions
            .iter()
            .position(|t| t.key == "failover.end")
            .unwrap();
    assert_eq!(r.m.timeline.drift(t), Some(TimeDelta::minutes(6)));
    let on_disk = std::fs::read_to_string(r.j.path()).unwrap();
    let line = on_disk
        .lines()
        .find(|l| l.contains("boundary_confirmed"))
        .unwrap();
    assert!(
        line.contains("\"confirmed\":\"2023-11-25T03:06:00Z\""),
        "{line}"
    );
    assert!(
        line.contains("\"entered\":\"2023-11-25T03:08:00Z\""),
        "{line}"
    );
    // Titles in the message, not `failover.end`.
    let s = r.status();
    assert!(
        s.starts_with("recorded: Failover to the backup site ends, Backup site starts confirmed at 11:06:00 HKT (planned ~11:00 HKT, 6m00s after plan)"),
        "{s}"
    );
}

#[test]
fn a_confirmation_well_before_the_plan_or_before_the_failover_asks_again() {
    // 10:11, 49 minutes before the planned ~11:00.
    let mut r = Rig::new(hkt(25, 10, 11));
    let lines = r.lines_on_disk();
    r.send(key('c'));
    r.send(code(KeyCode::Enter));
    let Mode::Ask(Question::Confirm { why, .. }) = &r.m.mode else {
        panic!("{:?}", r.m.mode)
    };
    assert!(
        why.contains("49m00s before the planned ~11:00 HKT"),
        "{why}"
    );
    assert_eq!(r.lines_on_disk(), lines, "nothing recorded yet");
    // Any other key goes back to the prompt, the text kept.
    r.send(key('n'));
    assert_eq!(r.typing().text(), "10:11:00 ");
    r.send(code(KeyCode::Enter));
    r.send(key('y'));
    assert_eq!(
        r.m.record.confirmation("failover.end").unwrap().confirmed,
        hkt(25, 10, 11)
    );

    // Before the failover started (09:50, typed at 10:20).
    let mut r = Rig::new(hkt(25, 10, 20));
    r.send(key('c'));
    r.send(Message::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    r.type_text("09:50");
    r.send(code(KeyCode::Enter));
    let Mode::Ask(Question::Confirm { why, .. }) = &r.m.mode else {
        panic!("{:?}", r.m.mode)
    };
    assert!(
        why.contains("before Failover to the backup site started (10:00 HKT)"),
        "{why}"
    );

    // A time still to come is refused at the prompt.
    let mut r = Rig::new(hkt(25, 11, 2));
    r.send(key('c'));
    r.send(Message::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    r.type_text("11:06");
    r.send(code(KeyCode::Enter));
    let why = r.typing().error.clone().unwrap();
    assert!(why.contains("later than now"), "{why}");
}

#[test]
fn y_copies_the_command_through_the_terminal_and_says_so() {
    let mut r = Rig::new(hkt(25, 8, 10));
    r.select("ep-primary-ocg-lookup");
    let cmd = r.m.plan.steps[r.m.cursor.unwrap()].command.clone().unwrap();
    let fx = r.send(key('y'));
    let [Effect::WriteTerminal { bytes, what }] = &fx[..] else {
        panic!("{fx:?}")
    };
    assert_eq!(
        bytes,
        &clip::osc52(
            crate::text::clean_block(&cmd).trim_end(),
            crate::notify::Wrap::None
        )
    );
    assert_eq!(r.m.record.actions, 0, "nothing journaled, nothing run");
    r.send(Message::TerminalWritten {
        what: what.clone(),
        result: Ok(()),
    });
    let s = r.status();
    assert!(
        s.starts_with("copied the command of \"Record the OCG-C lookup"),
        "{s}"
    );
    assert!(s.contains("drillbook does not run it"), "{s}");
    // Inside tmux the sequence is also wrapped for its passthrough.
    r.m.set_surroundings(Surroundings {
        channels: vec![],
        wrap: crate::notify::Wrap::Tmux,
        passthrough: Some("on".into()),
    });
    let fx = r.send(key('y'));
    let [Effect::WriteTerminal { bytes, .. }] = &fx[..] else {
        panic!("{fx:?}")
    };
    assert!(bytes.windows(7).any(|w| w == b"\x1bPtmux;"));
    // A step without a command says so.
    r.select("ep-primary-simulate");
    assert!(r.send(key('y')).is_empty());
    assert!(r.status().contains("has no command"), "{}", r.status());
}

#[test]
fn the_start_up_notice_says_what_to_fix_and_b_dismisses_it() {
    let mut r = Rig::new(hkt(25, 8, 10));
    r.m.set_surroundings(Surroundings {
        channels: vec!["terminal".into()],
        wrap: crate::notify::Wrap::Tmux,
        passthrough: Some("off".into()),
    });
    let n = r.m.notice.clone().unwrap();
    assert!(n.contains("tmux set -g allow-passthrough on"), "{n}");
    assert!(n.contains("drillbook notify-test --role ep"), "{n}");
    r.send(key('b'));
    assert_eq!(r.m.notice, None);
}

// --- the steps' checks -----------------------------------------------------------------------

/// What the loop would send back for `step`'s check: `outcome`, and for a pass the logon time
/// captured, filed under the step's field as the check says.
fn logon_checked(m: &Model, step: &str, outcome: crate::journal::CheckOutcome) -> Message {
    let i = m.plan.step_index(step).unwrap();
    let check = m.plan.steps[i].check.clone().unwrap();
    let values = if outcome == crate::journal::CheckOutcome::Pass {
        vec![crate::journal::Captured {
            name: "logon_time".into(),
            value: "08:03:12.345".into(),
            field: check.field_for("logon_time").map(str::to_owned),
        }]
    } else {
        Vec::new()
    };
    Message::Checked(Box::new(crate::check::CheckResult {
        step: step.into(),
        kind: check.kind(),
        target: "/var/log/bss/ocg.log".into(),
        outcome,
        detail: "matched in /var/log/bss/ocg.log at byte 0: 2023-11-25 08:03:12.345 Logon accepted"
            .into(),
        values,
        started: hkt(25, 8, 3),
        duration: std::time::Duration::from_millis(20),
        simulated: false,
        line: None,
        exposed: false,
    }))
}

/// The journal's events from line `from` on, without the phase entry the first append brings.
fn journal_since(r: &Rig, from: usize) -> Vec<serde_json::Value> {
    std::fs::read_to_string(r.j.path())
        .unwrap()
        .lines()
        .skip(from)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["kind"] != "phase_entered")
        .collect()
}

#[test]
fn r_runs_the_check_and_a_pass_with_settle_journals_it_and_marks_the_step_done() {
    let mut r = Rig::new(hkt(25, 8, 10));
    r.m.sensing = true;
    let id = "ep-primary-logon-trading";
    let i = r.m.plan.step_index(id).unwrap();
    r.select(id);
    let lines = r.lines_on_disk();
    assert_eq!(r.send(key('r')), vec![Effect::RunCheck { step: i }]);
    assert!(
        r.status().starts_with("checking \"Log in to OTP-C"),
        "{}",
        r.status()
    );
    assert!(r.m.checks.is_running(id));
    assert_eq!(r.lines_on_disk(), lines, "starting a check records nothing");
    // A second `r` while it runs starts nothing more.
    assert_eq!(r.send(key('r')), vec![]);
    assert!(r.status().contains("already running"), "{}", r.status());

    // The result comes back: the check event, then the step done by the check.
    r.send(logon_checked(&r.m, id, crate::journal::CheckOutcome::Pass));
    assert!(!r.m.checks.is_running(id));
    assert_eq!(r.m.state(i), StepState::Done);
    let ev = r.m.record.evidence_of(id, "logon time").unwrap();
    assert_eq!(ev.value, "08:03:12.345");
    assert_eq!(ev.sensed.as_deref(), Some("log"));
    let new = journal_since(&r, lines);
    assert_eq!(new.len(), 2, "{new:?}");
    assert_eq!(new[0]["kind"], "check");
    assert_eq!(new[0]["step"], id);
    assert_eq!(new[0]["outcome"], "pass");
    assert_eq!(new[1]["kind"], "step");
    assert_eq!(new[1]["state"], "done");
    assert!(
        new[1]["note"]
            .as_str()
            .unwrap()
            .starts_with("done by its log check"),
        "{new:?}"
    );
    // The operator asked: the check's outcome was said, then the step done.
    assert!(
        r.status().starts_with("recorded: Log in to OTP-C"),
        "{}",
        r.status()
    );
}

#[test]
fn a_failed_check_never_marks_the_step_failed() {
    use crate::journal::CheckOutcome;
    let mut r = Rig::new(hkt(25, 8, 10));
    r.m.sensing = true;
    let id = "ep-primary-logon-trading";
    let i = r.m.plan.step_index(id).unwrap();
    r.select(id);
    for outcome in [
        CheckOutcome::Fail,
        CheckOutcome::Timeout,
        CheckOutcome::Error,
    ] {
        let lines = r.lines_on_disk();
        assert_eq!(r.send(key('r')), vec![Effect::RunCheck { step: i }]);
        r.send(logon_checked(&r.m, id, outcome));
        assert_eq!(r.m.state(i), StepState::Pending, "{outcome:?}");
        let new = journal_since(&r, lines);
        assert_eq!(new.len(), 1, "only the check event: {new:?}");
        assert_eq!(new[0]["kind"], "check");
        assert_eq!(new[0]["outcome"], outcome.word().to_lowercase().as_str());
        assert!(r.m.record.evidence_of(id, "logon time").is_none());
        assert!(
            r.status()
                .starts_with(&format!("recorded: log check of Log in to OTP-C - OCG-C Trading session at the primary site: {}", outcome.word())),
            "{}",
            r.status()
        );
    }
    assert_eq!(r.m.record.checks[id].len(), 3);
}

#[test]
fn r_on_a_step_without_a_check_says_so_and_watch_refuses_it() {
    let mut r = Rig::new(hkt(25, 8, 10));
    r.m.sensing = true;
    r.select("ep-primary-logon-dropcopy");
    assert!(r.m.plan.steps[r.m.cursor.unwrap()].check.is_none());
    assert_eq!(r.send(key('r')), vec![]);
    assert!(r.status().contains("has no check to run"), "{}", r.status());
    // Without a runner (the loop was given none) nothing starts either.
    r.m.sensing = false;
    r.select("ep-primary-logon-trading");
    assert_eq!(r.send(key('r')), vec![]);
    assert!(r.status().contains("checks do not run"), "{}", r.status());
    // `watch` records nothing, checks included.
    r.m.sensing = true;
    r.m.read_only = Some("j.jsonl".into());
    assert_eq!(r.send(key('r')), vec![]);
    assert!(r.status().starts_with("read-only"), "{}", r.status());
}

#[test]
fn automatic_checks_start_on_the_wall_clock_and_again_after_every() {
    use crate::journal::CheckOutcome;
    let mut r = Rig::new(hkt(25, 8, 10));
    r.m.sensing = true;
    let id = "ep-primary-logon-trading";
    let i = r.m.plan.step_index(id).unwrap();
    let wall = hkt(25, 8, 10);
    // In the primary phase the logon check (every 30s) is due at once; only checks with
    // `every:` of the phase the clock is in start by themselves.
    let fx = r.send(Message::WallClock(wall));
    assert!(fx.contains(&Effect::RunCheck { step: i }), "{fx:?}");
    for e in &fx {
        let Effect::RunCheck { step } = e else {
            panic!("{e:?}")
        };
        let s = &r.m.plan.steps[*step];
        assert!(s.check.as_ref().unwrap().every.is_some(), "{}", s.id);
        assert_eq!(r.m.plan.session.phases[s.phase].id, "primary", "{}", s.id);
    }
    assert_eq!(r.m.wall, wall);
    // Running: not started again; finished with a timeout, not before 30 s on the wall clock.
    assert!(
        !r.send(Message::WallClock(wall + TimeDelta::seconds(1)))
            .contains(&Effect::RunCheck { step: i })
    );
    r.send(logon_checked(&r.m, id, CheckOutcome::Timeout));
    assert_eq!(r.m.state(i), StepState::Pending);
    assert!(
        !r.send(Message::WallClock(wall + TimeDelta::seconds(29)))
            .contains(&Effect::RunCheck { step: i })
    );
    assert!(
        r.send(Message::WallClock(wall + TimeDelta::seconds(30)))
            .contains(&Effect::RunCheck { step: i })
    );
    // It passes: the step is done and nothing more starts.
    r.send(logon_checked(&r.m, id, CheckOutcome::Pass));
    assert_eq!(r.m.state(i), StepState::Done);
    assert!(
        !r.send(Message::WallClock(wall + TimeDelta::seconds(90)))
            .contains(&Effect::RunCheck { step: i })
    );
    // Without a runner nothing is ever due.
    let mut q = Rig::new(hkt(25, 8, 10));
    assert_eq!(q.send(Message::WallClock(wall)), vec![]);
}

#[test]
fn watch_keeps_the_selection_on_its_step_and_says_so_when_the_step_leaves_the_list() {
    let mut r = Rig::new(hkt(25, 10, 5));
    r.m.read_only = Some("j.jsonl".into());
    let now = r.clock.now();
    let primary = r.m.plan.session.phase_index("primary").unwrap();
    let carried = r.m.open_in(primary);
    assert!(carried.len() >= 4, "{carried:?}");
    // The operator shows the carried steps (z) and watches the third; another step is settled
    // on the host: the list is rebuilt (one row fewer above) and the selection stays where it
    // was.
    r.send(Message::Tick);
    r.send(key('z'));
    r.m.cursor = Some(carried[2]);
    r.send(Message::Tick);
    let other =
        r.j.append(
            Action::Step {
                step: r.m.plan.steps[carried[0]].id.clone(),
                state: StepState::Done,
                note: None,
            },
            &r.clock,
        )
        .unwrap();
    r.send(Message::JournalAppended {
        events: vec![other],
        clock_at: None,
    });
    assert!(!r.m.list_steps(now).contains(&carried[0]));
    assert_eq!(r.m.cursor, Some(carried[2]));
    // The selected step itself is settled on the host: it leaves the list, the selection goes
    // to its neighbour in the list as it was (not back to the first open step), and the status
    // line says so.
    let mine =
        r.j.append(
            Action::Step {
                step: r.m.plan.steps[carried[2]].id.clone(),
                state: StepState::Done,
                note: None,
            },
            &r.clock,
        )
        .unwrap();
    r.send(Message::JournalAppended {
        events: vec![mine],
        clock_at: None,
    });
    assert_eq!(r.m.cursor, Some(carried[3]));
    let title = clean_line(&r.m.plan.steps[carried[2]].title).into_owned();
    assert!(
        r.status()
            .contains(&format!("\"{title}\" left the list (done)")),
        "{}",
        r.status()
    );
}

#[test]
fn a_paste_keeps_its_control_bytes_visible_and_the_prompt_says_so() {
    let mut r = Rig::new(hkt(25, 8, 10));
    let id = r.selected_id();
    r.send(key('n'));
    r.send(Message::Paste(
        "pasted \u{1b}[31mRED\u{1b}[0m and \u{1b}]0;title\u{7} bell\u{7} end\n".into(),
    ));
    // Nothing recorded by the pasted newline: the prompt is still open, and says what it did.
    assert!(r.m.record.steps.is_empty() && r.m.record.notes.is_empty());
    let shown = "pasted ␛[31mRED␛[0m and ␛]0;title␇ bell␇ end";
    assert_eq!(r.typing().text(), shown);
    let notice = r.typing().error.clone().unwrap_or_default();
    assert!(notice.contains("5 control characters"), "{notice}");
    r.send(code(KeyCode::Enter));
    assert!(
        matches!(r.m.mode, Mode::Normal),
        "{:?} {}",
        r.m.mode,
        r.status()
    );
    let text = std::fs::read_to_string(r.j.path()).unwrap();
    let note: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l["kind"] == "note")
        .expect("the note is journaled");
    assert_eq!(note["step"], id.as_str(), "{note}");
    assert_eq!(note["text"], shown, "{note}");
    // Outside a prompt a paste is not a stream of keys: nothing recorded, and said so.
    let lines = r.lines_on_disk();
    r.send(Message::Paste(" f s".into()));
    assert_eq!(r.lines_on_disk(), lines);
    assert!(r.status().starts_with("paste ignored"), "{}", r.status());
}

#[test]
fn recording_a_choice_says_which_value_was_recorded() {
    let mut r = Rig::new(hkt(22, 9, 0));
    r.select("ep-pre-rundown");
    let i = r.m.plan.step_index("ep-pre-rundown").unwrap();
    let field =
        r.m.plan
            .session
            .choice("failover-connection")
            .unwrap()
            .field();
    let k = r.m.plan.steps[i]
        .evidence
        .iter()
        .position(|f| *f == field)
        .unwrap();
    r.send(key('e'));
    for _ in 0..k {
        r.send(code(KeyCode::Down));
    }
    r.send(code(KeyCode::Enter));
    r.type_text("Log off");
    r.send(code(KeyCode::Enter));
    assert!(
        r.status()
            .contains(&format!("evidence \"{field}\" = log-off on ")),
        "{}",
        r.status()
    );
}

/// Break finding 5: a 100 KB paste into the note prompt. It is one edit, cut to what a prompt
/// holds and said so beside the prompt, and the Enter after it records the note.
#[test]
fn a_long_paste_is_cut_to_what_a_prompt_holds_and_said_so() {
    let mut r = Rig::new(hkt(25, 8, 10));
    r.send(key('n'));
    r.send(Message::Paste("A".repeat(100_000)));
    assert_eq!(r.typing().text().chars().count(), input::MAX_CHARS);
    let notice = r.typing().error.clone().unwrap_or_default();
    assert!(
        notice.contains(&format!(
            "at most {} characters, {} left out",
            input::MAX_CHARS,
            100_000 - input::MAX_CHARS
        )),
        "{notice}"
    );
    r.send(code(KeyCode::Enter));
    assert!(matches!(r.m.mode, Mode::Normal), "{}", r.status());
    assert_eq!(r.m.record.notes.len(), 1, "{}", r.status());
    assert_eq!(r.m.record.notes[0].text.chars().count(), input::MAX_CHARS);
    assert!(
        r.status().contains(&format!(
            "(cut to {} characters: {} pasted characters left out)",
            input::MAX_CHARS,
            100_000 - input::MAX_CHARS
        )),
        "{}",
        r.status()
    );
}

/// `watch` on a folder: a journal of another role joins (walk 3 R19). Its roles' steps are
/// added to the plan, the selection stays on its step, the header counts two hosts and the
/// status line names the journal; one set aside is named with its reason.
#[test]
fn a_journal_of_another_role_joins_watch_with_its_steps_and_is_named() {
    let mut r = Rig::new(hkt(25, 10, 5));
    r.m.read_only = Some("ps2/".into());
    let first = WatchedJournal {
        file: "desk1--ep.jsonl".into(),
        who: "alice@desk1".into(),
        hosts: vec!["desk1".into()],
        writer: "alice@desk1".into(),
        roles: vec!["ep".into()],
    };
    r.m.watched = Some(Watched {
        named: "ps2/".into(),
        journals: vec![first.clone()],
        clock_of: Some(0),
    });
    let ep_step =
        r.m.open_in(r.m.plan.session.phase_index("primary").unwrap())[2];
    r.m.cursor = Some(ep_step);
    let id = r.selected_id();
    assert!(r.m.plan.step_index("omd-primary-omdc").is_none());
    let md = WatchedJournal {
        file: "md1--omd.jsonl".into(),
        who: "bob@md1".into(),
        hosts: vec!["md1".into()],
        writer: "bob@md1".into(),
        roles: vec!["omd".into()],
    };
    let plan = crate::runbook::load_bundled(&["ep".into(), "omd".into()]).unwrap();
    r.send(Message::JournalChanged {
        record: Box::new(r.m.record.clone()),
        events: Vec::new(),
        clock_at: None,
        journals: Some(Box::new(JournalsNow {
            watched: Watched {
                named: "ps2/".into(),
                journals: vec![first, md],
                clock_of: Some(0),
            },
            plan: Some(plan),
            said: vec![Said::Joined(WatchedJournal {
                file: "md1--omd.jsonl".into(),
                who: "bob@md1".into(),
                hosts: vec!["md1".into()],
                writer: "bob@md1".into(),
                roles: vec!["omd".into()],
            })],
        })),
    });
    assert_eq!(r.m.plan.roles(), ["ep", "omd"]);
    assert!(r.m.plan.step_index("omd-primary-omdc").is_some());
    assert_eq!(r.selected_id(), id, "the selection stays on its step");
    assert!(
        r.m.list_steps(r.clock.now())
            .iter()
            .any(|&i| r.m.plan.steps[i].id.starts_with("omd-")),
        "the omd steps are listed"
    );
    assert_eq!(
        r.status(),
        "md1--omd.jsonl joined: bob@md1 [omd] · now 2 hosts"
    );
    assert_eq!(r.m.watched.as_ref().unwrap().count_words(), "2 hosts");
    let watched = r.m.watched.clone().unwrap();
    r.send(Message::JournalChanged {
        record: Box::new(r.m.record.clone()),
        events: Vec::new(),
        clock_at: None,
        journals: Some(Box::new(JournalsNow {
            watched,
            plan: None,
            said: vec![Said::SetAside {
                file: "old.jsonl".into(),
                why: "another rehearsal".into(),
            }],
        })),
    });
    assert_eq!(
        r.m.status,
        Some((
            "old.jsonl NOT joined: another rehearsal · now 2 hosts".into(),
            Tone::Error
        ))
    );
}

/// The screen's text at 80x24, rows joined by newlines.
fn screen(m: &Model, now: DateTime<Utc>) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    t.draw(|f| crate::view::view(f, m, &crate::theme::Theme::default(), now))
        .unwrap();
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_due_after_the_backup_start_moves_with_its_confirmation_and_alerts_once() {
    const KEY: &str = "step:ep-backup-escalate:overdue@2023-11-25T03:23:00Z";
    let mut r = Rig::new(hkt(25, 10, 58));
    // A morning kept up with: every step due by now done, so the header's first words are the
    // next due time rather than an earlier overdue step.
    let past: Vec<String> = (r.m.plan.steps.iter())
        .filter(|s| s.due.is_some_and(|d| d < hkt(25, 10, 58)))
        .map(|s| s.id.clone())
        .collect();
    for id in past {
        let action = Action::Step {
            step: id,
            state: StepState::Done,
            note: None,
        };
        let ev = r.j.append(action, &r.clock).unwrap();
        r.send(Message::Recorded(Box::new(ev)));
    }
    let i = r.m.plan.step_index("ep-backup-escalate").unwrap();
    let due = |r: &Rig| r.m.plan.steps[i].due.unwrap();
    let label = |r: &Rig| due_label(&r.m.plan, &r.m.plan.steps[i]).unwrap();
    // Unconfirmed: 20 minutes after the planned ~11:00, shown as approximate.
    assert_eq!(due(&r), hkt(25, 11, 20));
    assert_eq!(label(&r), "~11:20");
    let s = screen(&r.m, r.clock.now());
    assert!(
        s.contains("Next due ~11:20 HKT (in 22m00s) ! Not logged on"),
        "{s}"
    );

    // `c` at 11:03, Enter: the backup window opened at 11:03:00, so the step is due at 11:23.
    r.clock.set(hkt(25, 11, 3));
    r.send(Message::Tick);
    r.send(key('c'));
    assert_eq!(r.typing().text(), "11:03:00 ");
    r.send(code(KeyCode::Enter));
    assert_eq!(
        r.m.record.confirmation("failover.end").unwrap().confirmed,
        hkt(25, 11, 3)
    );
    assert_eq!(due(&r), hkt(25, 11, 23));
    assert_eq!(label(&r), "11:23");
    assert_eq!(r.m.next_event(hkt(25, 11, 22)), Some(hkt(25, 11, 23)));
    let s = screen(&r.m, r.clock.now());
    assert!(
        s.contains("Next due 11:23 HKT (in 20m00s) ! Not logged on"),
        "{s}"
    );

    // Second by second ten at a time through 11:40: overdue from 11:23 on, alerted once, then.
    let mut fired = Vec::new();
    while r.clock.now() < hkt(25, 11, 40) {
        r.clock.advance(TimeDelta::seconds(10));
        let now = r.clock.now();
        for e in r.send(Message::Tick) {
            if let Effect::Notify(a) = e
                && a.key.starts_with("step:ep-backup-escalate:")
            {
                fired.push((now, a));
            }
        }
        // Overdue once past it (`standing::overdue`), and the alert at it.
        assert_eq!(r.m.overdue(i, now), now > hkt(25, 11, 23), "at {now}");
    }
    assert_eq!(fired.len(), 1, "{fired:?}");
    let (at, alert) = &fired[0];
    assert_eq!((*at, alert.key.as_str()), (hkt(25, 11, 23), KEY));
    assert!(
        alert.title.starts_with("Overdue: Not logged on"),
        "{alert:?}"
    );
    assert!(r.m.record.notified(KEY, "banner"));
    let s = screen(&r.m, r.clock.now());
    assert!(s.contains("OVERDUE 11:23 HKT (17m00s ago)"), "{s}");

    // An undo of the confirmation takes the due back to ~11:20: still overdue, nothing new.
    r.send(key('u'));
    match &r.m.mode {
        Mode::Ask(Question::Undo { what, .. }) => assert!(what.contains("11:03:00"), "{what}"),
        other => panic!("{other:?}"),
    }
    r.send(key('y'));
    assert!(r.m.record.confirmation("failover.end").is_none());
    assert_eq!((due(&r), label(&r)), (hkt(25, 11, 20), "~11:20".to_owned()));
    r.clock.advance(TimeDelta::seconds(10));
    let fx = r.send(Message::Tick);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Notify(_))), "{fx:?}");
    assert!(r.m.overdue(i, r.clock.now()));
}

/// `c`, the observed time typed over the default, Enter.
fn confirm_at(r: &mut Rig, hms: &str) {
    r.send(key('c'));
    r.send(Message::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    r.type_text(hms);
    r.send(code(KeyCode::Enter));
    assert!(matches!(r.m.mode, Mode::Normal), "{:?}", r.m.mode);
}

/// Walk 3 R17: after the failover-end confirmation was undone the banner went on saying
/// "Confirmed at 11:00 … +45s" under the header's AWAITING CONFIRMATION, and after a new one
/// at 11:01:30 it still said 11:00. The banner says what is true now: undone and awaited, or
/// confirmed at the time of the confirmation in force (redo brings the first one back).
#[test]
fn undoing_or_redoing_the_failover_end_confirmation_restates_the_banner() {
    let mut r = Rig::with_roles(hkt(25, 10, 59), &["omd"]);
    r.send(Message::Tick);
    r.clock.set(hkt(25, 11, 0) + TimeDelta::seconds(50));
    r.send(Message::Tick);
    let body = |r: &Rig| {
        r.m.banner
            .as_ref()
            .map(|b| b.body.clone())
            .unwrap_or_default()
    };
    assert!(
        r.m.banner
            .as_ref()
            .is_some_and(|b| b.key == "failover.end:awaiting"),
        "{:?}",
        r.m.banner
    );

    confirm_at(&mut r, "11:00:45");
    let now = r.clock.now();
    assert!(
        body(&r).starts_with("Confirmed at 11:00:45 HKT"),
        "{}",
        body(&r)
    );
    assert!(screen(&r.m, now).contains("Confirmed at 11:00:45 HKT"));

    // Undone: the header awaits again, and so does the banner; nothing on screen says 11:00:45.
    r.send(key('u'));
    r.send(key('y'));
    let s = screen(&r.m, now);
    assert!(s.contains("AWAITING CONFIRMATION"), "{s}");
    // (The banner's two rows read as one.)
    let joined: String = s.lines().map(str::trim_end).collect::<Vec<_>>().join(" ");
    assert!(
        joined.contains(
            "Confirmation undone: awaiting again; press c when it is observed.  (b dismisses)"
        ),
        "{s}"
    );
    assert!(!s.contains("Confirmed at"), "{s}");
    // 11:00:45 only where the status line (the two rows above the footer) says what was undone.
    assert!(!s.lines().take(21).any(|l| l.contains("11:00:45")), "{s}");
    assert!(joined.contains("recorded: undo of"), "{s}");

    // Redone: the confirmation in force again, and the banner with it.
    r.send(key('U'));
    assert!(
        body(&r).starts_with("Confirmed at 11:00:45 HKT"),
        "{}",
        body(&r)
    );

    // Undone, then confirmed anew: the banner has the new time.
    r.send(key('u'));
    r.send(key('y'));
    r.clock.set(hkt(25, 11, 1) + TimeDelta::seconds(40));
    r.send(Message::Tick);
    confirm_at(&mut r, "11:01:30");
    let now = r.clock.now();
    let s = screen(&r.m, now);
    assert!(s.contains("Confirmed at 11:01:30 HKT"), "{s}");
    assert!(!s.contains("11:00:45"), "{s}");
    assert!(!s.contains("AWAITING"), "{s}");
    // The operator's own action: no second notification of the boundary was sent.
    assert_eq!(
        r.m.recent
            .iter()
            .filter(
                |e| matches!(&e.action, Action::Notification { key, .. } if key == "failover.end")
            )
            .count(),
        1
    );
}

/// walk 3 R8: "Drop Copy agrees with the Trading session (yes / no / no Drop Copy)" took
/// `maybe`; then `e` on it opened `maybe` with the cursor at its end and `no` recorded
/// `maybeno`. The runbook gives the field its options: anything else is refused as a choice is,
/// with the options; an option is recorded as the runbook spells it. Re-opened, the value is
/// offered whole and typing replaces it; Enter on it unchanged records nothing.
#[test]
fn a_field_with_options_takes_only_them_and_a_reopened_value_is_replaced_by_typing() {
    let mut r = Rig::new(hkt(25, 11, 40));
    r.select("ep-backup-reconcile");
    let i = r.m.plan.step_index("ep-backup-reconcile").unwrap();
    let field = "Drop Copy agrees with the Trading session (yes / no / no Drop Copy)";
    let k = r.m.plan.steps[i]
        .evidence
        .iter()
        .position(|f| f == field)
        .expect("the field keeps its name");
    assert_eq!(
        r.m.plan.steps[i].options_of(field),
        Some(&["yes".to_owned(), "no".to_owned(), "no Drop Copy".to_owned()][..])
    );
    let open = |r: &mut Rig| {
        r.select("ep-backup-reconcile");
        r.send(key('e'));
        for _ in 0..k {
            r.send(code(KeyCode::Down));
        }
        r.send(code(KeyCode::Enter));
    };
    let lines = r.lines_on_disk();
    open(&mut r);
    r.type_text("maybe");
    r.send(code(KeyCode::Enter));
    assert_eq!(
        r.typing().error.as_deref(),
        Some("type one of: yes, no, no Drop Copy"),
        "refused with the options, the prompt open"
    );
    assert_eq!(r.lines_on_disk(), lines, "nothing journaled");
    // An option however typed, recorded as the runbook spells it.
    r.send(Message::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    r.send(Message::Paste("NO DROP COPY".into()));
    r.send(code(KeyCode::Enter));
    assert!(matches!(r.m.mode, Mode::Normal), "{}", r.status());
    let step = r.m.plan.steps[i].id.clone();
    assert_eq!(
        r.m.record.evidence_of(&step, field).unwrap().value,
        "no Drop Copy"
    );
    assert!(
        r.status().contains(&format!("\"{field}\" = no Drop Copy")),
        "{}",
        r.status()
    );

    // Re-opened: the value is there, held; typing replaces it, it is not appended to.
    open(&mut r);
    assert_eq!(r.typing().text(), "no Drop Copy");
    assert!(r.typing().held());
    r.type_text("no");
    assert_eq!(r.typing().text(), "no");
    r.send(code(KeyCode::Enter));
    assert_eq!(r.m.record.evidence_of(&step, field).unwrap().value, "no");

    // From the field list, a typed key goes to the field and replaces its value too.
    r.select("ep-backup-reconcile");
    r.send(key('e'));
    for _ in 0..k {
        r.send(code(KeyCode::Down));
    }
    r.type_text("yes");
    assert_eq!(r.typing().text(), "yes");
    r.send(code(KeyCode::Esc));

    // Enter on the value as it stands records nothing more.
    let lines = r.lines_on_disk();
    open(&mut r);
    r.send(code(KeyCode::Enter));
    assert_eq!(r.lines_on_disk(), lines);
    assert!(r.status().starts_with("unchanged: "), "{}", r.status());

    // A free-text field takes anything; re-opened, End lets its value go to be added to.
    let free = "execution reports missed during the disconnect recovered (count, how)";
    let f = r.m.plan.steps[i]
        .evidence
        .iter()
        .position(|x| x == free)
        .unwrap();
    assert_eq!(r.m.plan.steps[i].options_of(free), None);
    let open_free = |r: &mut Rig| {
        r.select("ep-backup-reconcile");
        r.send(key('e'));
        for _ in 0..f {
            r.send(code(KeyCode::Down));
        }
        r.send(code(KeyCode::Enter));
    };
    open_free(&mut r);
    r.type_text("3, by resend request");
    r.send(code(KeyCode::Enter));
    open_free(&mut r);
    r.send(code(KeyCode::End));
    r.type_text(" at 11:12");
    r.send(code(KeyCode::Enter));
    assert_eq!(
        r.m.record.evidence_of(&step, free).unwrap().value,
        "3, by resend request at 11:12"
    );
}

/// Once the phase's own steps are settled, Space walks on into the open steps of the folded
/// carried groups (the selected one shows under its heading) rather than stopping on the last
/// one with "already done" (seen in the evidence run's key probe after the groups folded).
#[test]
fn space_walks_on_into_folded_carried_steps_once_the_phase_is_settled() {
    let mut r = Rig::new(hkt(25, 15, 0));
    let last = r.m.plan.session.phases.len() - 1;
    let own = r.m.open_in(last).len();
    assert!(own > 0 && r.m.carried_folded());
    for n in 1..=own + 1 {
        r.send(key(' '));
        assert!(
            r.status().starts_with("recorded: "),
            "press {n}: {}",
            r.status()
        );
    }
    let i = r.m.plan.step_index(&r.selected_id()).unwrap();
    assert_ne!(r.m.plan.steps[i].phase, last, "on a carried step");
    assert!(r.m.open_in(last).is_empty());
}
