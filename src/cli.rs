//! The command line: every subcommand and flag, with its help text.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "drillbook",
    version,
    about = "Runbooks for exchange practice sessions, on the session clock, in the terminal",
    long_about = "drillbook renders YAML runbooks as step lists bound to the session clock, notifies at \
phase transitions, keeps a crash-safe action log and rehearses a session in accelerated time.\n\n\
Bundled: HKEX PS2 of Sat 25 Nov 2023 (backbone firmware upgrade, failover of OTP-C, OTP-CSC, OMD-C \
and OMD-CC to the backup site). Roles: ep, ccep, hsn, omd."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check runbook and session files (none: the bundled runbooks). Exit 0 valid, 1 invalid, 2 usage.
    Validate {
        /// Files or folders; folders are read for *.yaml and *.yml.
        paths: Vec<PathBuf>,
    },
    /// Show the timeline and deadlines in the session's zone beside yours (TZ, else the system's).
    Schedule {
        #[command(flatten)]
        select: Selection,
    },
    /// Preflight: send a test notification on each channel, report what was detected, ask
    /// whether it appeared, record the answer in the journal, and print the fix on "no".
    NotifyTest {
        /// Channels: auto, desktop, terminal or off; a comma list is allowed.
        #[arg(long, value_delimiter = ',', default_value = "auto")]
        notify: Vec<String>,
        /// The journal to record the answer in (default: the session's journal for the roles).
        #[arg(long)]
        journal: Option<PathBuf>,
        #[command(flatten)]
        select: Selection,
    },
    /// Open the full-screen app: steps on the session clock, every action journaled.
    Run(RunArgs),
    /// Follow a journal read-only on the same screen (a supervisor, the incoming shift).
    Watch {
        /// The journal to follow (the path `drillbook run` printed), or a folder of journals
        /// (*.jsonl; one that appears later joins).
        journal: PathBuf,
        /// More journals (or folders), then runbook files (*.yaml, *.yml) they were written with
        /// (default: the bundled runbooks they name).
        runbooks: Vec<PathBuf>,
        /// Theme: default, light, high-contrast, mono, or a YAML file.
        #[arg(long)]
        theme: Option<String>,
    },
    /// Print a journal's timeline: session time (and yours), who, what. Read-only. Several
    /// journals (or a folder of them): one timeline in time order, each event tagged with its
    /// journal's who@host and roles.
    Log {
        /// The journal (the path `drillbook run` printed), or several, or a folder of *.jsonl.
        #[arg(required = true)]
        journals: Vec<PathBuf>,
        /// Keep printing events as they are appended, until Ctrl-C or SIGTERM.
        #[arg(long, short = 'f')]
        follow: bool,
        /// The events as JSON Lines, one per line, as parsed (set-aside lines left out).
        #[arg(long)]
        json: bool,
        /// One line per event (about 120 columns). Default: one line per event on a terminal at
        /// least 120 columns wide, else a compact layout that fits 80 columns (pipes and files too).
        #[arg(long, conflicts_with = "json")]
        wide: bool,
    },
    /// Markdown for the next shift: phase, next boundaries, steps by state with who and when,
    /// open critical steps, notes, boundaries, notification path. `--ack` records that the
    /// incoming operator read it.
    Handover {
        /// The journal, or a folder of journals (*.jsonl): several hosts' journals of one session
        /// read as one.
        journal: PathBuf,
        /// More journals (or folders), then runbook files (*.yaml, *.yml) the journals were written
        /// with (default: the bundled runbooks they name).
        runbooks: Vec<PathBuf>,
        /// Record the incoming operator's acknowledgement in the journal (takes the journal's lock).
        #[arg(long)]
        ack: bool,
        /// Who acknowledges (default: $USER, $LOGNAME, else the account name). Only with --ack.
        #[arg(long, requires = "ack")]
        operator: Option<String>,
        /// A note with the acknowledgement. Only with --ack.
        #[arg(long, requires = "ack")]
        note: Option<String>,
        /// Describe the session as at this session-zone time: `10:30[:15]` (the session day),
        /// `2023-11-25 10:30[:15]`, or a phase id (its planned start) (default: now; for a
        /// rehearsal journal, its last virtual instant).
        #[arg(long, conflicts_with = "ack")]
        at: Option<String>,
    },
    /// The evidence report for the HSN Result Form and the internal report.
    Report {
        /// The journal, or a folder of journals (*.jsonl): several hosts' journals of one session
        /// combined into one report.
        journal: PathBuf,
        /// More journals (or folders), then runbook files (*.yaml, *.yml) the journals were written
        /// with (default: the bundled runbooks they name).
        runbooks: Vec<PathBuf>,
        /// md (Markdown), csv (one row per boundary, step, evidence value and note; formula-safe)
        /// or json (the same model, for other tools).
        #[arg(long, default_value = "md", value_parser = ["md", "csv", "json"])]
        format: String,
    },
    /// Append actions read from stdin, one per line, printing `ok SEQ` after each fsync (for
    /// the crash tests and the soak script).
    #[command(hide = true)]
    Record {
        journal: PathBuf,
        #[command(flatten)]
        select: Selection,
        /// Who records (default: $USER, $LOGNAME, else the account name).
        #[arg(long)]
        operator: Option<String>,
        /// The host name stamped on the events (default: this machine's): for tests that play
        /// several hosts on one machine.
        #[arg(long)]
        host: Option<String>,
        /// Continue a journal written with other runbook files.
        #[arg(long)]
        accept_changed_runbooks: bool,
    },
    /// Run the runbooks' checks now and print a table: reachability of the backup site on a
    /// Wednesday, the log and files a step would sense. Reads the runbooks and the site file,
    /// writes nothing. Exit 1 when a check fails, times out or errs; not configured is not a
    /// failure.
    Check(CheckArgs),
    /// Send each event of the journals to the firm's syslog collector (RFC 5424; TCP with
    /// octet counting), from where the last run stopped (a position file beside each journal),
    /// retrying while the collector is down. Runs until Ctrl-C or SIGTERM.
    Forward {
        /// The journals to forward (each keeps its own position).
        #[arg(required = true)]
        journals: Vec<PathBuf>,
        /// The collector: syslog+unix:///dev/log, syslog+tcp://HOST:PORT or syslog+udp://HOST:PORT.
        #[arg(long, value_name = "URL")]
        to: String,
        /// Stop once everything in the journals is delivered (for a cron job or a last flush).
        #[arg(long)]
        once: bool,
    },
    /// The bundled runbooks.
    Runbooks {
        #[command(subcommand)]
        action: RunbooksAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum RunbooksAction {
    /// List the bundled roles and runbooks.
    List,
    /// Write the bundled runbooks into DIR for a firm to adapt (never overwrites).
    Export { dir: PathBuf },
}

/// Which runbooks: bundled ones by role, or files.
#[derive(Debug, Clone, Default, Args)]
pub struct Selection {
    /// Bundled runbooks by role, comma-separated: ep, ccep, hsn, omd.
    #[arg(long, short = 'r', value_delimiter = ',', conflicts_with = "runbooks")]
    pub role: Vec<String>,
    /// Runbook files (they name their session file).
    pub runbooks: Vec<PathBuf>,
}

/// `drillbook check`.
#[derive(Debug, Clone, Default, Args)]
pub struct CheckArgs {
    /// Bundled runbooks by role, comma-separated: ep, ccep, hsn, omd (default: all four).
    #[arg(long, short = 'r', value_delimiter = ',', conflicts_with = "runbook")]
    pub role: Vec<String>,
    /// A runbook file instead of the bundled ones (repeat for several).
    #[arg(long, value_name = "FILE")]
    pub runbook: Vec<std::path::PathBuf>,
    /// The site file with the values of `${name}` (default:
    /// $XDG_CONFIG_HOME/drillbook/site.yaml, else ~/.config/drillbook/site.yaml).
    #[arg(long, value_name = "FILE")]
    pub site: Option<PathBuf>,
    /// Only the checks of the steps of this phase (its id).
    #[arg(long, value_name = "PHASE")]
    pub phase: Option<String>,
    /// Run command checks the runbook allows (never otherwise).
    #[arg(long)]
    pub allow_commands: bool,
    /// Step ids (default: every step that has a check).
    #[arg(value_name = "STEP")]
    pub steps: Vec<String>,
}

/// `drillbook run`.
#[derive(Debug, Clone, Default, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub select: Selection,
    /// The journal file (default: $XDG_STATE_HOME/drillbook/SESSION--ROLES.jsonl).
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// Who records (default: $USER, $LOGNAME, else the account name).
    #[arg(long)]
    pub operator: Option<String>,
    /// Theme: default, light, high-contrast, mono, or a YAML file. NO_COLOR forces mono.
    #[arg(long)]
    pub theme: Option<String>,
    /// Notification channels: auto, desktop, terminal, off (or a comma list).
    #[arg(long, value_delimiter = ',', default_value = "auto")]
    pub notify: Vec<String>,
    /// Continue a journal written with other runbook files.
    #[arg(long)]
    pub accept_changed_runbooks: bool,
    /// Warnings before each boundary, in minutes (default from the session file, else 15,5).
    #[arg(long, value_name = "MINUTES[,MINUTES]")]
    pub lead: Option<String>,
    /// Rehearse: the session clock runs at --speed times real time, into a journal of its own.
    #[arg(long)]
    pub rehearse: bool,
    /// Rehearsal speed: session seconds per real second, 1 to 3600 (default 60).
    #[arg(long, requires = "rehearse", value_parser = parse_speed)]
    pub speed: Option<f64>,
    /// Where the rehearsal starts: `10:30`, `2023-11-25 10:30`, or a phase id (just before it).
    #[arg(long, requires = "rehearse", value_name = "TIME|PHASE")]
    pub start_at: Option<String>,
    /// Rehearse the same timetable on another day.
    #[arg(long, requires = "rehearse", value_name = "YYYY-MM-DD")]
    pub date: Option<chrono::NaiveDate>,
    /// Continue the newest rehearsal journal of the same roles (instead of starting a new one).
    #[arg(long, requires = "rehearse", conflicts_with = "journal")]
    pub resume: bool,
    /// Confirm approximate boundaries at their planned time (on by itself with --headless).
    #[arg(long, requires = "rehearse")]
    pub auto_confirm: bool,
    /// No TUI: print each transition and notification as a line; exit when the session ends.
    #[arg(long)]
    pub headless: bool,
    /// Record a choice of the firm's setup before starting (`drop-copy=no`,
    /// `failover-connection=log-off`); steps that do not apply to it become n/a. Repeatable, or
    /// a comma list. Journaled as the evidence of the step that settles the choice.
    #[arg(long, value_delimiter = ',', value_name = "CHOICE=OPTION")]
    pub choose: Vec<String>,
    /// The site file with the values of the checks' `${name}` (default:
    /// $XDG_CONFIG_HOME/drillbook/site.yaml, else ~/.config/drillbook/site.yaml).
    #[arg(long, value_name = "FILE")]
    pub site: Option<PathBuf>,
    /// Run command checks the runbook allows (`allow: true`); without it they are refused.
    #[arg(long)]
    pub allow_commands: bool,
    /// Rehearsal: every check gives this outcome without probing (marked simulated in the
    /// journal), to rehearse handling it.
    #[arg(long, requires = "rehearse", value_name = "OUTCOME", value_parser = ["pass", "fail", "timeout"])]
    pub simulate_checks: Option<String>,
    /// Forward each event of this run's journal to the firm's syslog collector as it is written
    /// (as `drillbook forward` does: syslog+unix:///dev/log, syslog+tcp://HOST:PORT,
    /// syslog+udp://HOST:PORT), from a task that never slows an append; its state on screen.
    #[arg(long, value_name = "URL")]
    pub forward: Option<String>,
}

/// Fastest supported rehearsal speed: four hours in four seconds.
pub const MAX_SPEED: f64 = 3600.0;

/// Why a `--speed` was refused.
#[derive(Debug, thiserror::Error)]
pub enum SpeedError {
    #[error("--speed `{0}`: give a number such as 60")]
    NotNumber(String),
    #[error("--speed {0}: must be from 1 to {MAX_SPEED}")]
    OutOfRange(String),
}

/// Parse `--speed`: 1 to 3600, an optional `x` after the number.
pub fn parse_speed(s: &str) -> Result<f64, SpeedError> {
    let v: f64 = s
        .trim_end_matches('x')
        .parse()
        .map_err(|_| SpeedError::NotNumber(s.to_owned()))?;
    if (1.0..=MAX_SPEED).contains(&v) {
        Ok(v)
    } else {
        Err(SpeedError::OutOfRange(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_from_1_to_3600_with_an_optional_x() {
        assert!((parse_speed("3600x").unwrap() - 3600.0).abs() < f64::EPSILON);
        assert!(parse_speed("0").is_err());
        assert!(parse_speed("7200").is_err());
        assert!(parse_speed("fast").is_err());
    }
}
