//! What to notify and when: phase starts and ends, lead warnings before boundaries, an approximate
//! boundary reaching its planned time unconfirmed, critical steps overdue, and deadlines.
//!
//! Pure: given the plan, the timeline, the journal's record and the time, it says which alerts are
//! due. The journal is what makes each alert fire exactly once, across restarts too.
//! (Interface fixed for the TUI; the scheduling rules are filled in by the notifications work.)

use chrono::{DateTime, Utc};

/// One notification to raise, on every selected channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Stable key, one alert per key ever: `failover.end@-15m`, `failover.end`, `step:ep-x:overdue`.
    pub key: String,
    /// Short summary (the desktop notification's summary, the banner's first words).
    pub title: String,
    /// One or two sentences.
    pub body: String,
    /// The instant the alert became due (session clock).
    pub due: DateTime<Utc>,
}

use crate::journal::Record;
use crate::runbook::Plan;
use crate::timeline::Timeline;
use std::collections::HashSet;

/// Decides which alerts are due, each once.
#[derive(Debug, Clone)]
pub struct Scheduler {
    /// When this process started watching: boundaries passed long before it are shown, not notified.
    pub started_at: DateTime<Utc>,
    /// Keys fired by this process (the journal's record covers earlier processes).
    pub fired: HashSet<String>,
}

impl Scheduler {
    pub fn new(started_at: DateTime<Utc>) -> Self {
        Self {
            started_at,
            fired: HashSet::new(),
        }
    }

    /// Alerts due at `now` that were not fired before, by this process or (per `record`) any other.
    /// NOTE: the rules are being written in the notifications work (issue 5); until then nothing is due.
    pub fn due(
        &mut self,
        _plan: &Plan,
        _timeline: &Timeline,
        _record: &Record,
        _now: DateTime<Utc>,
    ) -> Vec<Alert> {
        Vec::new()
    }

    /// The next instant after `now` at which an alert could become due, for the event loop's wake-up.
    pub fn next_due(
        &self,
        _plan: &Plan,
        _timeline: &Timeline,
        _record: &Record,
        _now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        None
    }
}
