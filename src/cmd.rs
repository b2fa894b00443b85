//! The subcommands, one module each, and the failure type that carries an exit code.

mod check;
mod forward;
mod from_journal;
mod handover;
mod journals;
mod log;
mod notify_test;
mod record;
mod report;
mod run;
mod runbooks;
mod schedule;
mod validate;

use crate::cli::{Cli, Command, Selection};

// For the syslog forwarder's human message: the same words `log` prints.
use crate::runbook::{self, Plan, Problems};
pub(crate) use log::{payload as log_payload, session_tz as log_session_tz};

/// A command that did not succeed, and so how the process exits: the kind carries the code.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Exit 1: the input or the environment is wrong.
    #[error("{0}")]
    Failed(String),
    /// Exit 2: the command line is wrong.
    #[error("{0}")]
    Usage(String),
    /// Exit 141, quietly: the reader of stdout went away (`| head -1`), as SIGPIPE would end us.
    #[error("")]
    OutputClosed,
}

impl Failure {
    pub fn new(message: impl std::fmt::Display) -> Self {
        Failure::Failed(message.to_string())
    }
    pub fn usage(message: impl std::fmt::Display) -> Self {
        Failure::Usage(message.to_string())
    }
    /// The process exit code.
    pub fn code(&self) -> u8 {
        match self {
            Failure::Failed(_) => 1,
            Failure::Usage(_) => 2,
            Failure::OutputClosed => 141,
        }
    }
}

impl From<Problems> for Failure {
    fn from(p: Problems) -> Self {
        Failure::new(p.to_string())
    }
}

impl From<runbook::BundledError> for Failure {
    fn from(e: runbook::BundledError) -> Self {
        match e {
            runbook::BundledError::Roles(p) => Failure::usage(p.to_string()),
            runbook::BundledError::Invalid(p) => p.into(),
        }
    }
}

impl From<crate::out::OutputError> for Failure {
    fn from(e: crate::out::OutputError) -> Self {
        match e {
            crate::out::OutputError::Closed => Failure::OutputClosed,
            failed @ crate::out::OutputError::Failed(_) => Failure::new(failed.to_string()),
        }
    }
}

pub type Outcome = Result<(), Failure>;

pub fn dispatch(cli: Cli) -> Outcome {
    // What reads the wall clock to show or record a time refuses one before 1970 up front; the
    // running ones (`run`, `record`) also check it as they go.
    let reads_clock = !matches!(
        cli.command,
        Some(
            Command::Validate { .. }
                | Command::Schedule { .. }
                | Command::Log { .. }
                | Command::Runbooks { .. }
        )
    );
    if reads_clock {
        crate::clock::wall_checked().map_err(|e| Failure::new(e.to_string()))?;
    }
    match cli.command {
        None => run::pick_and_run(),
        Some(Command::Run(args)) => run::run(&args),
        Some(Command::Watch {
            journal,
            runbooks,
            theme,
        }) => run::watch(&journal, &runbooks, theme.as_deref()),
        Some(Command::Validate { paths }) => validate::run(&paths),
        Some(Command::Schedule { select }) => schedule::run(&select),
        Some(Command::Log {
            journals,
            follow,
            json,
            wide,
        }) => {
            if journals::several(&journals) {
                journals::log(&journals, follow, json, wide)
            } else {
                log::run(&journals[0], follow, json, wide)
            }
        }
        Some(Command::Handover {
            journal,
            runbooks,
            ack,
            operator,
            note,
            at,
        }) => {
            let (journals, runbook_files) = journals::split(&journal, &runbooks);
            if journals::several(&journals) {
                if ack {
                    return Err(Failure::usage(
                        "--ack records in one journal: name the journal of the shift you take over",
                    ));
                }
                journals::handover(&journals, &runbook_files, at.as_deref())
            } else if ack {
                handover::ack(&journal, &runbooks, operator.as_deref(), note)
            } else {
                handover::show(&journal, &runbooks, at.as_deref())
            }
        }
        Some(Command::Report {
            journal,
            runbooks,
            format,
        }) => {
            let (journals, runbook_files) = journals::split(&journal, &runbooks);
            if journals::several(&journals) {
                journals::report(&journals, &runbook_files, &format)
            } else {
                report::run(&journal, &runbooks, &format)
            }
        }
        Some(Command::Record {
            journal,
            select,
            operator,
            host,
            accept_changed_runbooks,
        }) => record::run(
            &journal,
            &select,
            operator.as_deref(),
            host.as_deref(),
            accept_changed_runbooks,
        ),
        Some(Command::Runbooks { action }) => runbooks::run(&action),
        Some(Command::Check(args)) => check::run(&args),
        Some(Command::Forward { journals, to, once }) => forward::run(&journals, &to, once),
        Some(Command::NotifyTest {
            notify,
            journal,
            select,
        }) => notify_test::run(&notify, journal.as_deref(), &select),
    }
}

/// Load what a selection names; no role and no file means every bundled role.
pub fn load_selection(select: &Selection) -> Result<Plan, Failure> {
    if !select.runbooks.is_empty() {
        return Ok(runbook::load_paths(&select.runbooks)?);
    }
    let roles = if select.role.is_empty() {
        runbook::bundled_roles()
    } else {
        select.role.clone()
    };
    // An unknown or repeated role is a usage error, like any other bad flag value.
    Ok(runbook::load_bundled(&roles)?)
}
