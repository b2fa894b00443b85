//! Snapshots of the TUI at fixed session instants with the bundled EP runbook, drawn on ratatui's
//! TestBackend: before the session, mid-primary, the failover window awaiting confirmation, the backup
//! site after a confirmed boundary, after the end; 80x24 and 120x40; help; tiny terminals; and
//! the style lock (the mono theme reads without colour).

use chrono::{DateTime, TimeZone, Utc};
use drillbook::app::{Message, Model, update};
use drillbook::clock::RehearsalState;
use drillbook::journal::{Action, Event, StepState};
use drillbook::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn hkt(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Hong_Kong
        .with_ymd_and_hms(2023, 11, d, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// An event stamped at a session instant (as a rehearsal journal stamps the session clock).
fn ev(seq: u64, at: DateTime<Utc>, action: Action) -> Event {
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
        action,
    }
}

fn done(step: &str) -> Action {
    Action::Step {
        step: step.into(),
        state: StepState::Done,
        note: None,
    }
}

/// The model as the run loop would have it at `now`, with these actions in the journal.
fn model(now: DateTime<Utc>, actions: Vec<(DateTime<Utc>, Action)>) -> Model {
    let plan = drillbook::runbook::load_bundled(&["ep".into()]).unwrap();
    // As at start-up: the journal replayed, then the model built over its record.
    let events: Vec<Event> = actions
        .into_iter()
        .enumerate()
        .map(|(seq, (at, a))| ev(seq as u64 + 1, at, a))
        .collect();
    let record = drillbook::journal::Record::from_events(&events);
    let mut m = Model::new(plan, record, &events, now);
    m.local_tz = chrono_tz::Europe::London;
    m.journal_path = "/home/alice/.local/state/drillbook/hkex-ps2-2023-11-25--ep.jsonl".into();
    update(&mut m, Message::Tick, now);
    m.status = None;
    m
}

fn draw(m: &Model, theme: &Theme, now: DateTime<Utc>, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| drillbook::view::view(f, m, theme, now)).unwrap();
    t
}

fn both_sizes(name: &str, m: &Model, now: DateTime<Utc>) {
    let theme = Theme::default();
    insta::assert_snapshot!(
        format!("{name}_80x24"),
        draw(m, &theme, now, 80, 24).backend()
    );
    insta::assert_snapshot!(
        format!("{name}_120x40"),
        draw(m, &theme, now, 120, 40).backend()
    );
}

fn before() -> (Model, DateTime<Utc>) {
    let now = hkt(24, 10, 0);
    let m = model(
        now,
        vec![
            (hkt(21, 15, 0), done("ep-pre-registration")),
            (hkt(22, 9, 30), done("ep-pre-rundown")),
        ],
    );
    (m, now)
}

fn mid_primary() -> (Model, DateTime<Utc>) {
    let now = hkt(25, 9, 5) + chrono::TimeDelta::seconds(7);
    let m = model(
        now,
        vec![
            (hkt(25, 8, 3), done("ep-primary-ocg-lookup")),
            (
                hkt(25, 8, 4),
                Action::Evidence {
                    step: "ep-primary-ocg-lookup".into(),
                    field: "primary endpoint returned".into(),
                    value: "10.0.0.1:443".into(),
                },
            ),
            (hkt(25, 8, 12), done("ep-primary-logon-trading")),
            (hkt(25, 8, 41), done("ep-primary-start-of-day")),
        ],
    );
    (m, now)
}

fn failover_awaiting() -> (Model, DateTime<Utc>) {
    let now = hkt(25, 11, 10);
    let m = model(
        now,
        vec![
            (hkt(25, 8, 12), done("ep-primary-logon-trading")),
            (hkt(25, 10, 2), done("ep-failover-disconnects")),
        ],
    );
    (m, now)
}

fn backup_confirmed() -> (Model, DateTime<Utc>) {
    let now = hkt(25, 11, 45);
    let m = model(
        now,
        vec![
            (
                hkt(25, 11, 20),
                Action::BoundaryConfirmed {
                    boundary: "failover.end".into(),
                    planned: hkt(25, 11, 0),
                    confirmed: hkt(25, 11, 20),
                    note: Some("HKEX phone call".into()),
                    entered: None,
                },
            ),
            (hkt(25, 11, 25), done("ep-backup-ocg-lookup")),
            (hkt(25, 11, 31), done("ep-backup-logon-trading")),
            (
                hkt(25, 11, 33),
                Action::Step {
                    step: "ep-backup-logon-dropcopy".into(),
                    state: StepState::Failed,
                    note: Some("logon rejected, vendor called".into()),
                },
            ),
        ],
    );
    (m, now)
}

fn after() -> (Model, DateTime<Utc>) {
    let now = hkt(25, 15, 0);
    let m = model(
        now,
        vec![
            (hkt(25, 8, 12), done("ep-primary-logon-trading")),
            (hkt(25, 11, 31), done("ep-backup-logon-trading")),
            (hkt(25, 13, 40), done("ep-report-evidence")),
        ],
    );
    (m, now)
}

#[test]
fn before_the_session() {
    let (m, now) = before();
    both_sizes("before", &m, now);
}

#[test]
fn mid_primary_with_steps_done_and_one_overdue() {
    let (m, now) = mid_primary();
    let text = format!("{}", draw(&m, &Theme::default(), now, 80, 24).backend());
    assert!(text.contains("OVERDUE"), "{text}");
    assert!(text.contains("late"), "{text}");
    both_sizes("mid_primary", &m, now);
}

#[test]
fn failover_window_awaiting_the_announcement() {
    let (m, now) = failover_awaiting();
    let text = format!("{}", draw(&m, &Theme::default(), now, 80, 24).backend());
    assert!(text.contains("AWAITING CONFIRMATION"), "{text}");
    both_sizes("failover_awaiting", &m, now);
}

#[test]
fn backup_site_after_a_confirmed_boundary() {
    let (m, now) = backup_confirmed();
    let text = format!("{}", draw(&m, &Theme::default(), now, 80, 24).backend());
    assert!(text.contains("11:20 (+20m)"), "the drift shows: {text}");
    both_sizes("backup_confirmed", &m, now);
}

#[test]
fn after_the_end() {
    let (m, now) = after();
    let text = format!("{}", draw(&m, &Theme::default(), now, 80, 24).backend());
    assert!(
        text.contains("session ended on Sat 25 Nov 2023 14:00 HKT"),
        "{text}"
    );
    assert!(
        text.contains("drillbook run --role ep --rehearse"),
        "{text}"
    );
    both_sizes("after", &m, now);
}

#[test]
fn help_overlay() {
    let (mut m, now) = mid_primary();
    m.overlay = Some(drillbook::app::Overlay::Help);
    let theme = Theme::default();
    insta::assert_snapshot!("help_80x24", draw(&m, &theme, now, 80, 24).backend());
    insta::assert_snapshot!("help_120x40", draw(&m, &theme, now, 120, 40).backend());
    // Every key of the table is listed at 80x24.
    let text = format!("{}", draw(&m, &theme, now, 80, 24).backend());
    for k in drillbook::app::keys::KEYS {
        assert!(text.contains(k.keys), "help misses {}", k.keys);
    }
}

#[test]
fn tiny_terminals_say_so_and_never_panic() {
    let (m, now) = mid_primary();
    let theme = Theme::default();
    insta::assert_snapshot!("tiny_1x1", draw(&m, &theme, now, 1, 1).backend());
    insta::assert_snapshot!("tiny_20x5", draw(&m, &theme, now, 20, 5).backend());
    for w in [0u16, 1, 2, 7, 30, 59, 60, 61, 79] {
        for h in [0u16, 1, 2, 5, 15, 16, 17, 23] {
            let _ = draw(&m, &theme, now, w.max(1), h.max(1));
        }
    }
    let text = format!("{}", draw(&m, &theme, now, 59, 24).backend());
    assert!(text.contains("terminal too small (need 60x16)"), "{text}");
}

#[test]
fn mono_theme_states_read_without_colour() {
    let (m, now) = backup_confirmed();
    let theme = Theme::load(Some("high-contrast"), true).unwrap();
    let t = draw(&m, &theme, now, 80, 24);
    let buf = t.backend().buffer();
    for cell in buf.content() {
        assert_eq!(
            cell.fg,
            ratatui::style::Color::Reset,
            "a colour at {cell:?}"
        );
        assert_eq!(
            cell.bg,
            ratatui::style::Color::Reset,
            "a colour at {cell:?}"
        );
    }
    let text = format!("{}", t.backend());
    for want in ["[x] done", "[!] failed", "[ ] pending", "11:20 (+20m)"] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
}

#[test]
fn runbook_text_cannot_reach_the_terminal_raw() {
    let (mut m, now) = mid_primary();
    let i = m.selected_step().unwrap();
    m.plan.steps[i].title = "evil \u{1b}]0;pwned\u{7} title".into();
    m.plan.steps[i].command = Some("echo \u{1b}[2J".into());
    let text = format!("{}", draw(&m, &Theme::default(), now, 120, 40).backend());
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(text.contains("evil \u{241b}]0;pwned"), "{text}");
}

#[test]
fn rehearsal_paused_shows_the_marker_and_the_clock_keys() {
    let (mut m, now) = failover_awaiting();
    m.rehearsal = Some(RehearsalState {
        speed: 600.0,
        paused: true,
    });
    let theme = Theme::load(Some("mono"), false).unwrap();
    let t = draw(&m, &theme, now, 80, 24);
    let text: String = t
        .backend()
        .buffer()
        .content()
        .iter()
        .map(ratatui::buffer::Cell::symbol)
        .collect();
    assert!(text.contains("REHEARSAL x600 PAUSED"), "{text}");
    insta::assert_snapshot!("rehearsal_paused_80x24", t.backend());
}
