//! `drillbook validate`: check files, print one line per problem, exit 0 or 1.

use super::{Failure, Outcome};
use crate::runbook;
use std::path::PathBuf;

pub fn run(paths: &[PathBuf]) -> Outcome {
    match runbook::validate_paths(paths) {
        Ok(c) => {
            let what = if paths.is_empty() {
                "bundled runbooks"
            } else {
                "files"
            };
            crate::out::println(&format!(
                "ok: {what} valid ({} session{}, {} runbook{}, {} steps)",
                c.sessions,
                if c.sessions == 1 { "" } else { "s" },
                c.runbooks,
                if c.runbooks == 1 { "" } else { "s" },
                c.steps
            ))?;
            Ok(())
        }
        Err(problems) => {
            let n = problems.len();
            Err(Failure::new(format!(
                "{problems}\n{n} problem{} found",
                if n == 1 { "" } else { "s" }
            )))
        }
    }
}
