//! `drillbook report JOURNAL [--format md|csv]`: the evidence report; for a rehearsal journal,
//! labelled REHEARSAL and followed by the rehearsal report.

use super::from_journal::{self, Loaded};
use super::{Failure, Outcome};
use crate::journal::handover::{Context, REHEARSAL_LABEL};
use crate::journal::report;
use std::path::{Path, PathBuf};

pub fn run(path: &Path, runbooks: &[PathBuf], format: &str) -> Outcome {
    let Loaded {
        replay,
        plan,
        hash_mismatch,
    } = from_journal::load_noting_torn(path, runbooks)?;
    let rehearsal = replay.is_rehearsal();
    let text = match format {
        "csv" => {
            if rehearsal {
                crate::out::eprintln(&format!("{}: {REHEARSAL_LABEL}", path.display()));
            }
            if hash_mismatch.is_some() {
                crate::out::eprintln(&format!(
                    "{}: WARNING: the journal was written with other runbook files (sha256 differs)",
                    path.display()
                ));
            }
            report::render_csv(&plan, &replay.record, rehearsal)
        }
        "md" => {
            let ctx = Context {
                now: from_journal::now_for(&replay),
                local_tz: crate::zones::local_tz(),
                journal: path.display().to_string(),
                rehearsal,
                hash_mismatch,
            };
            let mut t = report::render_md(&plan, &replay.record, &ctx);
            if rehearsal {
                t.push('\n');
                t.push_str(&crate::rehearsal::report::render(&plan, &replay.record));
            }
            t
        }
        other => return Err(Failure::usage(format!("--format {other}: use md or csv"))),
    };
    Ok(crate::out::print(&text)?)
}
