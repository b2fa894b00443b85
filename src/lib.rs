//! drillbook: a terminal runbook assistant for exchange practice sessions.
//!
//! The library holds everything; `main.rs` only parses the command line and maps errors to exit
//! codes, so that tests drive the same code the binary runs.
//!
//! - [`runbook`]: the session and runbook model, YAML loading and validation with positions.
//! - [`check`], [`site`]: read-only checks that sense a step's outcome; the firm's site values.
//! - [`setup`]: the firm's recorded choices and which steps apply to them.
//! - [`standing`]: what settled, open, overdue and failed mean, and the counts of each.
//! - [`timeline`]: where the session stands at an instant, confirmations overlaid.
//! - [`clock`]: real, rehearsal and manual clocks behind one trait.
//! - [`zones`], [`text`]: formatting instants in two zones; neutralising untrusted text.
//! - [`files`], [`out`]: files on a shared host (regular only, bounded, private, no planted links);
//!   the one writer of stdout and stderr.
//! - [`journal`]: the append-only action log, its lock, replay as a fold, its tail, several read as one.
//! - [`handover`], [`report`], [`mdtable`]: what leaves the host, read from the record: the shift's handover,
//!   the evidence report; their tables, sized for 80 columns.
//! - [`forward`]: each journal event into the firm's syslog pipeline, at least once, in order.
//! - [`hostport`]: `HOST:PORT`, read one way for checks and collectors alike.
//! - [`alerts`], [`notify`]: what to notify and when, exactly once; the channels.
//! - [`app`], [`view`], [`theme`], [`run`]: the TUI's model and update, drawing, styles, event loop.
//! - [`rehearsal`]: accelerated time, the rehearsal report.
//! - [`cli`], [`cmd`]: the command line and the subcommands.

pub mod alerts;
pub mod app;
pub mod check;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod files;
pub mod forward;
pub mod handover;
pub mod hostport;
pub mod journal;
pub mod mdtable;
pub mod notify;
pub mod out;
pub mod rehearsal;
pub mod report;
pub mod run;
pub mod runbook;
pub mod setup;
pub mod shell;
pub mod site;
pub mod standing;
pub mod text;
pub mod theme;
pub mod timeline;
pub mod view;
pub mod zones;
