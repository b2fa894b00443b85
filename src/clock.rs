//! The clock behind the screen: real time, accelerated rehearsal time, or a hand-set clock for tests.
//!
//! Callers never sleep on a clock's own timer: they ask how long, in real time, until a session
//! instant (`real_until`) and sleep on tokio's timer, capped, then read `now()` again. That keeps a
//! stepped wall clock or a resumed laptop from leaving a deadline stale, and lets tests run a whole
//! rehearsal under `tokio::time::pause` in milliseconds.
//!
//! The wall clock is read through [`wall_now`], never `Utc::now` (which panics before 1970); a
//! wall clock before 1970 is refused with [`BeforeEpoch`].

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

pub trait Clock: Send + Sync {
    /// The session-clock instant now.
    fn now(&self) -> DateTime<Utc>;
    /// Real time until the session clock reaches `t`; `None` while the clock is stopped.
    fn real_until(&self, t: DateTime<Utc>) -> Option<Duration>;
    /// The rehearsal state, when this is a rehearsal clock.
    fn rehearsal(&self) -> Option<RehearsalState> {
        None
    }
    /// Steer a rehearsal clock; `false` when this clock cannot be steered (the real one).
    fn control(&self, _c: ClockControl) -> bool {
        false
    }
}

/// What the rehearsal keys ask of the clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClockControl {
    TogglePause,
    /// One step up or down the speed ladder.
    Faster,
    Slower,
    /// Jump to this session instant.
    JumpTo(DateTime<Utc>),
    /// `watch`: set the clock from the journal followed (see [`Follow`]).
    Follow(Follow),
}

/// Where a watcher's rehearsal clock stands by the journal it follows: at `at`, running on at
/// the writer's `speed` (or held there while the writer's clock is `paused`) but never past
/// `until` (the rehearsal's end: it stops there; `at == until` is stopped now).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Follow {
    pub at: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub speed: f64,
    pub paused: bool,
}

/// The speeds the `+`/`-` keys step through.
pub const SPEED_LADDER: [f64; 8] = [1.0, 10.0, 30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0];

/// The wall clock as it reads, whatever it reads: chrono's `Utc::now` panics before 1970, and a
/// host's clock can be set anywhere.
pub fn wall_now() -> DateTime<Utc> {
    let (secs, nanos) = match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            match d.subsec_nanos() {
                0 => (-secs, 0),
                n => (-secs - 1, 1_000_000_000 - n),
            }
        }
    };
    DateTime::from_timestamp(secs, nanos).unwrap_or(if secs < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// The wall clock reads before 1970: it is wrong (a dead RTC battery, a bad manual set), and
/// every time drillbook would show or record from it would be nonsense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the system clock reads {} UTC, before 1970: it is wrong, and no time read from it can \
     be shown or recorded. Set it (NTP, timedatectl) and start again",
    .0.format("%Y-%m-%d %H:%M:%S")
)]
pub struct BeforeEpoch(pub DateTime<Utc>);

/// The wall clock, refused when it reads before 1970.
pub fn wall_checked() -> Result<DateTime<Utc>, BeforeEpoch> {
    let now = wall_now();
    if now < DateTime::UNIX_EPOCH {
        Err(BeforeEpoch(now))
    } else {
        Ok(now)
    }
}

/// Resolves when the wall clock reads before 1970, looked at once a second: for loops that
/// have no wake of their own to check it at.
pub async fn stepped_before_epoch() -> BeforeEpoch {
    loop {
        if let Err(e) = wall_checked() {
            return e;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        wall_now()
    }
    fn real_until(&self, t: DateTime<Utc>) -> Option<Duration> {
        Some((t - wall_now()).to_std().unwrap_or(Duration::ZERO))
    }
}

/// What the screen shows of a rehearsal clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RehearsalState {
    pub speed: f64,
    /// Paused (`p`; for a watcher: the writer's clock is paused).
    pub paused: bool,
    /// A watcher's clock at the rehearsal's end (see [`Follow`]): it will not run again unless
    /// a writer attaches.
    pub stopped: bool,
}

#[derive(Debug)]
struct Anchor {
    virtual_at: DateTime<Utc>,
    real_at: Instant,
    speed: f64,
    paused: bool,
    /// A watcher's clock stops here (see [`Follow`]).
    until: Option<DateTime<Utc>>,
}

/// Session time running at `speed` times real time from a chosen start, built on tokio's clock.
#[derive(Debug)]
pub struct RehearsalClock {
    anchor: Mutex<Anchor>,
}

impl RehearsalClock {
    pub fn new(start: DateTime<Utc>, speed: f64) -> Self {
        Self {
            anchor: Mutex::new(Anchor {
                virtual_at: start,
                real_at: Instant::now(),
                speed,
                paused: false,
                until: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Anchor> {
        self.anchor
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn virtual_now(a: &Anchor) -> DateTime<Utc> {
        if a.paused {
            return a.virtual_at;
        }
        let real = Instant::now().saturating_duration_since(a.real_at);
        #[allow(clippy::cast_possible_truncation)]
        let nanos = (real.as_nanos() as f64 * a.speed) as i64;
        let t = a.virtual_at + TimeDelta::nanoseconds(nanos);
        a.until.map_or(t, |u| t.min(u))
    }

    /// Stopped: paused, or a watcher's clock at its `until`.
    fn stopped(a: &Anchor) -> bool {
        a.paused || a.until.is_some_and(|u| Self::virtual_now(a) >= u)
    }

    /// Re-anchor at the current virtual instant, then apply `f`.
    fn reanchor(&self, f: impl FnOnce(&mut Anchor)) {
        let mut a = self.lock();
        a.virtual_at = Self::virtual_now(&a);
        a.real_at = Instant::now();
        f(&mut a);
    }

    pub fn pause(&self) {
        self.reanchor(|a| a.paused = true);
    }
    pub fn resume(&self) {
        self.reanchor(|a| a.paused = false);
    }
    pub fn set_speed(&self, speed: f64) {
        self.reanchor(|a| a.speed = speed.clamp(1.0, 3600.0));
    }
    /// Jump the session clock to `t` (forward or back).
    pub fn jump_to(&self, t: DateTime<Utc>) {
        self.reanchor(|a| a.virtual_at = t);
    }
}

impl Clock for RehearsalClock {
    fn now(&self) -> DateTime<Utc> {
        Self::virtual_now(&self.lock())
    }
    fn real_until(&self, t: DateTime<Utc>) -> Option<Duration> {
        let a = self.lock();
        if Self::stopped(&a) || a.until.is_some_and(|u| t > u) {
            return None;
        }
        let ahead = (t - Self::virtual_now(&a))
            .to_std()
            .unwrap_or(Duration::ZERO);
        Some(ahead.div_f64(a.speed))
    }
    fn rehearsal(&self) -> Option<RehearsalState> {
        let a = self.lock();
        Some(RehearsalState {
            speed: a.speed,
            paused: a.paused,
            stopped: !a.paused && Self::stopped(&a),
        })
    }
    fn control(&self, c: ClockControl) -> bool {
        match c {
            ClockControl::TogglePause => {
                if self.lock().paused {
                    self.resume();
                } else {
                    self.pause();
                }
            }
            ClockControl::Faster | ClockControl::Slower => {
                let now = self.lock().speed;
                let next = if c == ClockControl::Faster {
                    SPEED_LADDER.iter().copied().find(|s| *s > now)
                } else {
                    SPEED_LADDER.iter().rev().copied().find(|s| *s < now)
                };
                self.set_speed(next.unwrap_or(now));
            }
            ClockControl::JumpTo(t) => self.jump_to(t),
            ClockControl::Follow(f) => self.reanchor(|a| {
                a.virtual_at = f.at.min(f.until);
                a.until = Some(f.until);
                a.speed = f.speed.clamp(1.0, 3600.0);
                a.paused = f.paused;
            }),
        }
        true
    }
}

/// `watch`'s clock: the real one until the journals followed say they are a rehearsal (a
/// [`ClockControl::Follow`]), then a [`RehearsalClock`] set from them. A watcher started on an
/// empty folder does not know yet which it will be.
#[derive(Debug, Default)]
pub struct WatchClock {
    rehearsal: Mutex<Option<std::sync::Arc<RehearsalClock>>>,
}

impl WatchClock {
    fn inner(&self) -> Option<std::sync::Arc<RehearsalClock>> {
        self.rehearsal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Clock for WatchClock {
    fn now(&self) -> DateTime<Utc> {
        self.inner().map_or_else(wall_now, |c| c.now())
    }
    fn real_until(&self, t: DateTime<Utc>) -> Option<Duration> {
        match self.inner() {
            Some(c) => c.real_until(t),
            None => SystemClock.real_until(t),
        }
    }
    fn rehearsal(&self) -> Option<RehearsalState> {
        self.inner().and_then(|c| c.rehearsal())
    }
    /// Only [`ClockControl::Follow`]: a watcher's clock is steered by the journals, not by keys.
    fn control(&self, c: ClockControl) -> bool {
        let ClockControl::Follow(f) = c else {
            return false;
        };
        let clock = {
            let mut g = self
                .rehearsal
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            g.get_or_insert_with(|| std::sync::Arc::new(RehearsalClock::new(f.at, f.speed)))
                .clone()
        };
        clock.control(c)
    }
}

/// A clock set by hand, for tests and snapshots.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(t: DateTime<Utc>) -> Self {
        Self(Mutex::new(t))
    }
    pub fn set(&self, t: DateTime<Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = t;
    }
    pub fn advance(&self, d: TimeDelta) {
        let mut g = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *g += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    fn real_until(&self, _t: DateTime<Utc>) -> Option<Duration> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[tokio::test(start_paused = true)]
    async fn rehearsal_runs_scaled_pauses_and_jumps() {
        let t0 = Utc.with_ymd_and_hms(2023, 11, 24, 23, 55, 0).unwrap();
        let c = RehearsalClock::new(t0, 60.0);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(c.now(), t0 + TimeDelta::minutes(5));
        c.pause();
        tokio::time::advance(Duration::from_secs(100)).await;
        assert_eq!(c.now(), t0 + TimeDelta::minutes(5));
        assert_eq!(c.real_until(t0 + TimeDelta::hours(1)), None);
        c.resume();
        c.set_speed(3600.0);
        assert_eq!(
            c.real_until(t0 + TimeDelta::minutes(65)),
            Some(Duration::from_secs(1))
        );
        c.jump_to(t0);
        assert_eq!(c.now(), t0);
    }

    #[tokio::test(start_paused = true)]
    async fn controls_step_the_speed_ladder_and_toggle_pause() {
        let t0 = Utc.with_ymd_and_hms(2023, 11, 24, 23, 55, 0).unwrap();
        let c = RehearsalClock::new(t0, 60.0);
        assert!(c.control(ClockControl::Faster));
        assert!((c.rehearsal().unwrap().speed - 300.0).abs() < f64::EPSILON);
        c.control(ClockControl::Slower);
        c.control(ClockControl::Slower);
        assert!((c.rehearsal().unwrap().speed - 30.0).abs() < f64::EPSILON);
        for _ in 0..10 {
            c.control(ClockControl::Faster);
        }
        assert!((c.rehearsal().unwrap().speed - 3600.0).abs() < f64::EPSILON);
        c.control(ClockControl::TogglePause);
        assert!(c.rehearsal().unwrap().paused);
        c.control(ClockControl::TogglePause);
        assert!(!c.rehearsal().unwrap().paused);
        assert!(!SystemClock.control(ClockControl::TogglePause));
    }

    #[tokio::test(start_paused = true)]
    async fn a_followed_clock_runs_to_its_until_and_stops_there() {
        let t0 = Utc.with_ymd_and_hms(2023, 11, 25, 13, 59, 0).unwrap();
        let end = t0 + TimeDelta::minutes(1);
        let c = RehearsalClock::new(t0, 60.0);
        let follow = |at, until| Follow {
            at,
            until,
            speed: 60.0,
            paused: false,
        };
        c.control(ClockControl::Follow(follow(t0, end)));
        assert!(!c.rehearsal().unwrap().stopped);
        assert_eq!(c.real_until(end + TimeDelta::seconds(1)), None, "never");
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!(c.now(), t0 + TimeDelta::seconds(30));
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert_eq!(c.now(), end, "stopped at its until");
        let r = c.rehearsal().unwrap();
        assert!(r.stopped && !r.paused, "{r:?}");
        // Stopped now: at == until.
        c.control(ClockControl::Follow(follow(t0, t0)));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(c.now(), t0);
    }

    /// A watcher's clock is real until the journals say rehearsal; then it follows them, and keys
    /// do not steer it.
    #[tokio::test(start_paused = true)]
    async fn a_watch_clock_is_real_until_a_rehearsal_is_followed() {
        let c = WatchClock::default();
        assert!(c.rehearsal().is_none());
        let wall = wall_now();
        assert!(
            (c.now() - wall).abs() < TimeDelta::seconds(5),
            "the real clock"
        );
        assert!(!c.control(ClockControl::TogglePause));
        let t0 = Utc.with_ymd_and_hms(2023, 11, 25, 2, 0, 0).unwrap();
        let follow = Follow {
            at: t0,
            until: t0 + TimeDelta::hours(4),
            speed: 30.0,
            paused: false,
        };
        assert!(c.control(ClockControl::Follow(follow)));
        assert!((c.rehearsal().unwrap().speed - 30.0).abs() < f64::EPSILON);
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(c.now(), t0 + TimeDelta::minutes(1));
        assert!(!c.control(ClockControl::Faster), "keys do not steer it");
    }

    /// The writer slowed to x30, then paused: the watcher's clock does the same.
    #[tokio::test(start_paused = true)]
    async fn a_followed_clock_takes_the_writers_speed_and_pause() {
        let t0 = Utc.with_ymd_and_hms(2023, 11, 25, 2, 0, 0).unwrap();
        let end = t0 + TimeDelta::hours(4);
        let c = RehearsalClock::new(t0, 60.0);
        let mut f = Follow {
            at: t0,
            until: end,
            speed: 30.0,
            paused: false,
        };
        c.control(ClockControl::Follow(f));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(c.now(), t0 + TimeDelta::minutes(1), "x30, not x60");
        assert!((c.rehearsal().unwrap().speed - 30.0).abs() < f64::EPSILON);
        f.at = t0 + TimeDelta::minutes(1);
        f.paused = true;
        c.control(ClockControl::Follow(f));
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(c.now(), f.at, "held while the writer is paused");
        let r = c.rehearsal().unwrap();
        assert!(r.paused && !r.stopped, "{r:?}");
        assert_eq!(c.real_until(end), None);
    }
}
