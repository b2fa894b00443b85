//! `watch`'s follower: a thread of its own that follows the journals (files, or folders whose
//! journals appearing later join) through the shared incremental tail
//! ([`journal::merge::Follower`] over `journal::tail`), woken by inotify or at
//! [`FOLLOW_FALLBACK`], and sends each change to the loop. One journal: only what was appended.
//! Several: the merged record, the newest events, the journals merged now and what changed among
//! them. A journal that appears joins when it can be one screen with the others: the same
//! session, rehearsal or real as they are, one rehearsal clock (the same speed, within
//! [`crate::rehearsal::SAME_REHEARSAL`]) and runbooks for its roles, whose steps are then added
//! to the plan; one that cannot is set aside and named, never dropped silently.
//!
//! Also the watcher's rehearsal clock: whose it is, and where it stands ([`watch_clock_of`]).

use crate::app::{JournalsNow, Message, Said, Watched, WatchedJournal};
use crate::journal::merge::{Followed, Follower, News};
use crate::journal::{self, Action, Event};
use crate::runbook::Plan;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the follower looks at the journals when no change notification woke it (a journal
/// on a network file system written from another host, a second journal of a list).
const FOLLOW_FALLBACK: Duration = Duration::from_millis(250);

/// The plan of a session's roles (the roles of every journal joined, in the bundled order), or
/// why there is none (a session that is not bundled, roles the runbook files given lack).
pub type Planner = dyn Fn(&str, &[String]) -> Result<Plan, String> + Send;

/// What `watch` follows.
#[derive(Default)]
pub struct Watch {
    /// Journal files, or folders of them.
    pub paths: Vec<PathBuf>,
    /// Several journals (or a folder): the plan for journals of other roles that join. None for
    /// one journal, which nothing joins.
    pub planner: Option<Box<Planner>>,
    /// The roles of the plan the screen starts with.
    pub roles: Vec<String>,
    /// The journals the screen starts with: they join without a word.
    pub started_with: Vec<PathBuf>,
    /// What was named (a folder), for the header's "waiting for the first journal in".
    pub named: String,
    /// The session's zone, for naming rehearsal clocks.
    pub tz: Option<chrono_tz::Tz>,
}

/// Start following on a thread of its own.
pub fn spawn(
    w: Watch,
    end: DateTime<Utc>,
    tx: mpsc::UnboundedSender<Message>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("watch-follow".into())
        .spawn(move || follow(w, end, &tx))
}

fn follow(mut w: Watch, end: DateTime<Utc>, tx: &mpsc::UnboundedSender<Message>) {
    let mut follower = match Follower::new(&w.paths) {
        Ok(f) => f,
        Err(e) => {
            let _ = tx.send(Message::JournalUnreadable(e.to_string()));
            return;
        }
    };
    let Some(first) = w.paths.first() else { return };
    let mut waiter = journal::tail::Waiter::new(first, FOLLOW_FALLBACK);
    // One journal: after the first look, only what was appended goes to the loop, so the cost
    // of an event does not grow with the journal. Several: the merged view.
    let single = w.planner.is_none();
    let mut sent: Option<(usize, u64)> = None;
    let tz = w.tz.unwrap_or(chrono_tz::Asia::Hong_Kong);
    loop {
        let wall = crate::clock::wall_now();
        let mut plan: Option<Plan> = None;
        let polled = {
            let roles = &mut w.roles;
            let planner = w.planner.as_deref();
            let plan = &mut plan;
            follower.poll_with(&mut |j: &Followed, joined: &[&Followed]| {
                let Some(planner) = planner else {
                    return Ok(());
                };
                one_clock(j, joined, wall, end, tz)?;
                let mut want = roles.clone();
                want.extend(j.roles.iter().filter(|r| !roles.contains(r)).cloned());
                // The first journal also says which session: the planner checks it.
                if joined.is_empty() || want.len() > roles.len() {
                    let session = j.events.first().map_or("", |e| e.session.as_str());
                    let p = planner(session, &want)?;
                    *roles = p.roles();
                    *plan = Some(p);
                }
                Ok(())
            })
        };
        let news = follower.take_news();
        // One journal: nothing joins, and when it cannot be followed any more, watching ends.
        if single
            && let Some(why) = news.iter().find_map(|n| match n {
                News::Stopped { why, .. } | News::SetAside { why, .. } => Some(why),
                News::Joined(_) => None,
            })
        {
            let _ = tx.send(Message::JournalUnreadable(format!(
                "{why}; stopped following"
            )));
            return;
        }
        match polled {
            Ok(changed) if changed || !news.is_empty() || plan.is_some() => {
                let msg = message(&follower, &w, single, &mut sent, wall, end, news, plan);
                if tx.send(msg).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                let _ = tx.send(Message::JournalUnreadable(format!(
                    "{e}; stopped following"
                )));
                return;
            }
        }
        if tx.is_closed() {
            return;
        }
        waiter.wait(FOLLOW_FALLBACK);
    }
}

/// What goes to the loop after a change.
#[allow(clippy::too_many_arguments)]
fn message(
    follower: &Follower,
    w: &Watch,
    single: bool,
    sent: &mut Option<(usize, u64)>,
    wall: DateTime<Utc>,
    end: DateTime<Utc>,
    news: Vec<News>,
    plan: Option<Plan>,
) -> Message {
    let merged: Vec<&Followed> = follower.merged().collect();
    let slices: Vec<&[Event]> = merged.iter().map(|j| j.events.as_slice()).collect();
    let clock = watch_clock_of(&slices, wall, end);
    let clock_at = clock.map(|(_, f)| f);
    let appended = match (single, *sent, merged.first()) {
        (true, Some((n, seq)), Some(j))
            if j.events.len() >= n && (n == 0 || j.events[n - 1].seq == seq) =>
        {
            Some(j.events[n..].to_vec())
        }
        _ => None,
    };
    if let Some(j) = merged.first() {
        *sent = Some((j.events.len(), j.events.last().map_or(0, |e| e.seq)));
    }
    if let Some(events) = appended {
        return Message::JournalAppended { events, clock_at };
    }
    let journals = (!single).then(|| {
        let said = news
            .into_iter()
            .filter_map(|n| match n {
                News::Joined(i) => {
                    let j = &follower.journals[i];
                    (!w.started_with.contains(&j.path)).then(|| Said::Joined(watched(j)))
                }
                News::SetAside { path, why } => Some(Said::SetAside {
                    file: file_name(&path),
                    why,
                }),
                News::Stopped { path, why } => Some(Said::Stopped {
                    file: file_name(&path),
                    why,
                }),
            })
            .collect();
        Box::new(JournalsNow {
            watched: Watched {
                named: w.named.clone(),
                journals: merged.iter().map(|j| watched(j)).collect(),
                clock_of: clock.map(|(i, _)| i),
            },
            plan,
            said,
        })
    });
    Message::JournalChanged {
        record: Box::new(follower.record()),
        events: follower
            .recent(crate::app::RECENT)
            .into_iter()
            .cloned()
            .collect(),
        clock_at,
        journals,
    }
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// A journal as the header and the status line name it.
fn watched(j: &Followed) -> WatchedJournal {
    let mut who: Vec<String> = Vec::new();
    let mut hosts: Vec<String> = Vec::new();
    for e in &j.events {
        let w = e.who();
        if !who.contains(&w) {
            who.push(w);
        }
        if !hosts.contains(&e.host) {
            hosts.push(e.host.clone());
        }
    }
    WatchedJournal {
        file: file_name(&j.path),
        who: who.join(", "),
        hosts,
        writer: j.events.last().map(Event::who).unwrap_or_default(),
        roles: j.roles.clone(),
    }
}

/// A rehearsal journal joins only on the screen's clock: the same speed, within
/// [`crate::rehearsal::SAME_REHEARSAL`] of the clock the screen runs on (as hosts that start a
/// team rehearsal together are); otherwise it is another rehearsal, to be watched alone. Said
/// in a few words: it goes on the status line.
fn one_clock(
    j: &Followed,
    joined: &[&Followed],
    wall: DateTime<Utc>,
    end: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<(), String> {
    let slices: Vec<&[Event]> = joined.iter().map(|j| j.events.as_slice()).collect();
    let (Some(theirs), Some((_, ours))) = (
        journal_clock(&j.events, wall, end),
        watch_clock_of(&slices, wall, end),
    ) else {
        return Ok(());
    };
    if crate::rehearsal::same_rehearsal((ours.speed, ours.at), (theirs.speed, theirs.at)) {
        return Ok(());
    }
    Err(format!(
        "another rehearsal (x{}, at {}; this screen x{}, at {}): one screen has one clock; watch it alone",
        theirs.speed,
        crate::zones::hm(theirs.at, tz),
        ours.speed,
        crate::zones::hm(ours.at, tz)
    ))
}

/// A watcher's clock for a rehearsal, from the events of each journal it follows (`None`: not
/// a rehearsal, the real clock); see [`watch_clock_of`].
pub fn watch_clock(
    journals: &[&[Event]],
    wall: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Option<crate::clock::Follow> {
    watch_clock_of(journals, wall, end).map(|(_, f)| f)
}

/// A watcher's clock for a rehearsal, and the index of the journal whose clock it is. Each
/// journal has its own ([`journal_clock`]); with several (the hosts of one team rehearsal, a few
/// minutes apart), the screen runs on the clock furthest on among the hosts still attached, so
/// that it neither jumps back and forth as one host then another writes, nor counts down to what
/// a host ahead has already seen. Once every writer has detached, the rehearsal is over and the
/// clock stops at the latest session instant any of them reached: the instant `handover`
/// describes a finished rehearsal at (`journals::now_for`), so the header and the `H` overlay
/// agree with it.
pub fn watch_clock_of(
    journals: &[&[Event]],
    wall: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Option<(usize, crate::clock::Follow)> {
    let clocks: Vec<(usize, crate::clock::Follow, bool)> = journals
        .iter()
        .enumerate()
        .filter_map(|(i, events)| {
            let attached = !matches!(events.last()?.action, Action::Detach { .. });
            Some((i, journal_clock(events, wall, end)?, attached))
        })
        .collect();
    let any_attached = clocks.iter().any(|c| c.2);
    clocks
        .into_iter()
        .filter(|c| c.2 == any_attached)
        // The furthest on; between equals, the one written to last.
        .max_by_key(|(i, f, _)| (f.at, journals[*i].last().map(|e| e.utc)))
        .map(|(i, f, _)| (i, f))
}

/// One journal's rehearsal clock as a watcher of it alone sets it (`None`: not a rehearsal).
/// While its writer is attached: carried on from its last event at the writer's speed (the
/// speed stamped on it, so a `-` on the host slows the watcher too), as far as the session's end
/// (or that event, if later): with no writer to say otherwise, a rehearsal does not run on into
/// December. A writer whose clock is paused (its last `rehearsal_clock` since its `attach` says
/// so) holds it at that event. Once the writer has detached (quit, signal, `session ended`) it
/// stops at the last event's session time.
pub fn journal_clock(
    events: &[Event],
    wall: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Option<crate::clock::Follow> {
    let newest = events.last()?;
    let speed = newest.rehearsal?.speed;
    let last_at = newest.session_time();
    if matches!(newest.action, Action::Detach { .. }) {
        return Some(crate::clock::Follow {
            at: last_at,
            until: last_at,
            speed,
            paused: false,
        });
    }
    let until = end.max(last_at);
    let paused = paused_at_end(events);
    let at = if paused {
        last_at
    } else {
        newest.carried_to(wall)?
    };
    Some(crate::clock::Follow {
        at: at.min(until),
        until,
        speed,
        paused,
    })
}

/// Whether a rehearsal journal's clock stands paused after its last event: its newest
/// `rehearsal_clock` says so, unless a writer attached since (a new writer's clock runs).
fn paused_at_end(events: &[Event]) -> bool {
    events
        .iter()
        .rev()
        .find_map(|e| match e.action {
            Action::RehearsalClock { paused, .. } => Some(paused),
            Action::Attach { .. } => Some(false),
            _ => None,
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Rehearsal;
    use chrono::TimeDelta;

    /// A rehearsal event written at `wall`, its session clock at `at`, at 60x.
    fn ev(wall: DateTime<Utc>, at: DateTime<Utc>, action: Action) -> Event {
        let mut e = Event::sample(1, wall, action);
        e.rehearsal = Some(Rehearsal {
            virtual_utc: at,
            speed: 60.0,
        });
        e
    }

    #[test]
    fn a_watchers_rehearsal_clock_runs_to_the_session_end_and_stops_when_the_writers_leave() {
        let wall = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let end = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let note = || Action::Note {
            step: None,
            text: "x".into(),
            issue: false,
        };
        let detach = || Action::Detach {
            reason: "quit".into(),
        };
        // Written 10 s ago at 60x, 20 minutes before the end: carried 10 minutes on.
        let live = ev(
            wall - TimeDelta::seconds(10),
            end - TimeDelta::minutes(20),
            note(),
        );
        let one = |e: &Event| vec![e.clone()];
        let f = watch_clock(&[&one(&live)], wall, end).unwrap();
        assert_eq!(f.at, end - TimeDelta::minutes(10));
        assert_eq!(f.until, end);
        assert!(!f.paused);
        // Written an hour ago: carried to the session's end, not past it.
        let old = ev(
            wall - TimeDelta::hours(1),
            end - TimeDelta::minutes(20),
            note(),
        );
        assert_eq!(watch_clock(&[&one(&old)], wall, end).unwrap().at, end);
        // The writer left: stopped at its last event, whenever that was.
        let gone = ev(
            wall - TimeDelta::hours(1),
            end - TimeDelta::minutes(20),
            detach(),
        );
        let f = watch_clock(&[&one(&gone)], wall, end).unwrap();
        assert_eq!((f.at, f.until), (gone.session_time(), gone.session_time()));
        // Several journals: running while any writer is attached.
        assert_eq!(
            watch_clock(&[&one(&gone), &one(&live)], wall, end)
                .unwrap()
                .until,
            end
        );
        // Not a rehearsal: the real clock.
        let real = Event::sample(1, wall, note());
        assert_eq!(watch_clock(&[&one(&real)], wall, end), None);
    }

    /// walk 2 N1: the host slowed to x30 (`-`) then paused (`p`); each change is journaled and
    /// the watcher's clock takes it: x30 from the speed change, held at the pause (not carried
    /// on at the first speed), running again from a new writer's attach.
    #[test]
    fn a_watchers_clock_takes_the_writers_speed_changes_and_pauses() {
        use crate::journal::ClockChange;
        let wall = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let end = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let at = end - TimeDelta::hours(2);
        let attach = Action::Attach {
            pid: 1,
            version: "0".into(),
            roles: vec![],
        };
        let clock = |change, speed, paused| Action::RehearsalClock {
            change,
            speed,
            paused,
            from: None,
        };
        let mut slower = ev(
            wall - TimeDelta::seconds(10),
            at,
            clock(ClockChange::Speed, 30.0, false),
        );
        slower.rehearsal.as_mut().unwrap().speed = 30.0;
        let mut events = vec![
            ev(wall - TimeDelta::seconds(20), at, attach.clone()),
            slower,
        ];
        let f = watch_clock(&[&events], wall, end).unwrap();
        assert!((f.speed - 30.0).abs() < f64::EPSILON, "{f:?}");
        assert_eq!(f.at, at + TimeDelta::minutes(5), "10 s at x30, not x60");
        assert!(!f.paused);
        // Paused 60 s ago, then a note recorded while paused: held where it was paused.
        let mut pause = ev(
            wall - TimeDelta::seconds(60),
            at,
            clock(ClockChange::Pause, 30.0, true),
        );
        pause.rehearsal.as_mut().unwrap().speed = 30.0;
        events.push(pause);
        let note = Action::Note {
            step: None,
            text: "while paused".into(),
            issue: false,
        };
        let mut quiet = ev(wall - TimeDelta::seconds(5), at, note);
        quiet.rehearsal.as_mut().unwrap().speed = 30.0;
        events.push(quiet);
        let f = watch_clock(&[&events], wall, end).unwrap();
        assert!(f.paused, "{f:?}");
        assert_eq!(f.at, at, "held at the pause");
        // A new writer attached: its clock runs.
        events.push(ev(wall - TimeDelta::seconds(1), at, attach));
        let f = watch_clock(&[&events], wall, end).unwrap();
        assert!(!f.paused);
        assert_eq!(f.at, at + TimeDelta::minutes(1));
    }

    /// walk 3 R12: two hosts of one team rehearsal, A 4 minutes behind B (A was paused). The
    /// screen runs on B's clock, whichever host wrote last (it jumped between the two), so it
    /// does not count down to what B already saw; once B has left, on A's (still running).
    #[test]
    fn several_hosts_clock_is_the_one_furthest_on_among_those_attached() {
        let wall = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let end = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let at = end - TimeDelta::hours(1);
        let note = || Action::Note {
            step: None,
            text: "x".into(),
            issue: false,
        };
        let b = vec![ev(wall - TimeDelta::seconds(10), at, note())];
        // A wrote after B, 4 minutes behind on the session clock.
        let a = vec![ev(
            wall - TimeDelta::seconds(2),
            at - TimeDelta::minutes(12),
            note(),
        )];
        let (i, f) = watch_clock_of(&[&a, &b], wall, end).unwrap();
        assert_eq!(i, 1, "B's clock");
        assert_eq!(f.at, at + TimeDelta::minutes(10));
        // B quits: A's running clock, not B's stopped one.
        let mut b_gone = b.clone();
        b_gone.push(ev(
            wall - TimeDelta::seconds(1),
            at + TimeDelta::minutes(9),
            Action::Detach {
                reason: "quit".into(),
            },
        ));
        let (i, f) = watch_clock_of(&[&a, &b_gone], wall, end).unwrap();
        assert_eq!(i, 0, "A's clock");
        assert_eq!(f.at, at - TimeDelta::minutes(10));
        assert!(f.until > f.at, "running");
        // Both gone: stopped at the furthest either reached.
        let mut a_gone = a.clone();
        a_gone.push(ev(
            wall,
            at - TimeDelta::minutes(10),
            Action::Detach {
                reason: "quit".into(),
            },
        ));
        let (i, f) = watch_clock_of(&[&a_gone, &b_gone], wall, end).unwrap();
        assert_eq!((i, f.at, f.until), (1, at + TimeDelta::minutes(9), f.at));
    }
}
