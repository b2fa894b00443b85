//! Render time per frame: the bundled EP runbook mid-primary (as the run loop has it at 09:05:07
//! HKT with a few actions done), drawn on ratatui's TestBackend at 80x24 and 200x60. Each frame
//! moves the clock by a second, so every draw is a fresh frame as the idle loop would make it.
//! Prints `render_80x24: V us` and `render_200x60: V us` (the median of the timed frames).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use drillbook::app::{Message, Model, update};
use drillbook::journal::{Action, Event, StepState};
use drillbook::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Instant;

const WARMUP: usize = 50;
const FRAMES: usize = 1000;

fn hkt(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Hong_Kong
        .with_ymd_and_hms(2023, 11, 25, h, m, s)
        .unwrap()
        .with_timezone(&Utc)
}

fn done(seq: u64, at: DateTime<Utc>, step: &str) -> Event {
    Event {
        v: 1,
        seq,
        utc: at,
        local: String::new(),
        operator: "alice".into(),
        host: "desk1".into(),
        session: "hkex-ps2-2023-11-25".into(),
        runbooks: vec!["ep".into()],
        sha256: String::new(),
        rehearsal: None,
        action: Action::Step {
            step: step.into(),
            state: StepState::Done,
            note: None,
        },
    }
}

fn model(now: DateTime<Utc>) -> Model {
    let plan = drillbook::runbook::load_bundled(&["ep".into()]).expect("bundled runbooks load");
    let events = vec![
        done(1, hkt(8, 3, 0), "ep-primary-ocg-lookup"),
        done(2, hkt(8, 12, 0), "ep-primary-logon-trading"),
        done(3, hkt(8, 41, 0), "ep-primary-start-of-day"),
    ];
    let record = drillbook::journal::Record::from_events(&events);
    let mut m = Model::new(plan, record, &events, now);
    m.local_tz = chrono_tz::Europe::London;
    m.journal_path = "/home/alice/.local/state/drillbook/hkex-ps2-2023-11-25--ep.jsonl".into();
    update(&mut m, Message::Tick, now);
    m.status = None;
    m
}

/// Median microseconds per frame at this size.
fn per_frame(w: u16, h: u16) -> f64 {
    let start = hkt(9, 5, 7);
    let m = model(start);
    let theme = Theme::default();
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    let mut times = Vec::with_capacity(FRAMES);
    for i in 0..WARMUP + FRAMES {
        let now = start + TimeDelta::seconds(i as i64);
        let t0 = Instant::now();
        t.draw(|f| drillbook::view::view(f, &m, &theme, now))
            .expect("draw");
        if i >= WARMUP {
            times.push(t0.elapsed().as_secs_f64() * 1e6);
        }
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    for (w, h) in [(80, 24), (200, 60)] {
        println!("render_{w}x{h}: {:.1} us", per_frame(w, h));
    }
}
