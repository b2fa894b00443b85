//! drillbook: a terminal runbook assistant for exchange practice sessions.
//!
//! The library holds everything; `main.rs` only parses the command line and maps errors to exit
//! codes, so that tests drive the same code the binary runs.
//!
//! - [`runbook`]: the session and runbook model, YAML loading and validation with positions.
//! - [`timeline`]: where the session stands at an instant, confirmations overlaid.
//! - [`clock`]: real, rehearsal and manual clocks behind one trait.
//! - [`cmd`]: the subcommands.

pub mod alerts;
pub mod app;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod journal;
pub mod notify;
pub mod rehearsal;
pub mod run;
pub mod runbook;
pub mod text;
pub mod theme;
pub mod timeline;
pub mod view;
pub mod zones;
