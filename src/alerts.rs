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
