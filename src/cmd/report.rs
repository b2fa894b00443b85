//! `drillbook report JOURNAL [--format md|csv|json]`: the evidence report; for a rehearsal
//! journal, labelled REHEARSAL and (in Markdown) followed by the rehearsal report.

use super::from_journal::{self, Loaded};
use super::{Failure, Outcome};
use crate::handover::{Context, Fmt, REHEARSAL_LABEL};
use crate::report;
use std::path::{Path, PathBuf};

pub fn run(path: &Path, runbooks: &[PathBuf], format: &str) -> Outcome {
    if !matches!(format, "md" | "csv" | "json") {
        return Err(Failure::usage(format!(
            "--format {}: use md, csv or json",
            crate::text::clean_line(format)
        )));
    }
    let Loaded {
        replay,
        plan,
        hash_mismatch,
    } = from_journal::load_noting_torn(path, runbooks)?;
    let rehearsal = replay.is_rehearsal();
    let local_tz = crate::zones::local_tz();
    let ctx = Context {
        now: from_journal::now_for(&replay),
        local_tz,
        journal: path.display().to_string(),
        rehearsal,
        hash_mismatch,
    };
    let model = report::build(&plan, &replay.record, &ctx);
    let text = match format {
        "csv" | "json" => {
            // The label and the warning go to stderr: the output stays one clean CSV or JSON
            // document (and both say `rehearsal` and `hash_mismatch` in the data).
            if rehearsal {
                crate::out::eprintln(&format!("{}: {REHEARSAL_LABEL}", path.display()));
            }
            if ctx.hash_mismatch.is_some() {
                crate::out::eprintln(&format!(
                    "{}: WARNING: the journal was written with other runbook files (sha256 differs)",
                    path.display()
                ));
            }
            if format == "csv" {
                report::render_csv(&model)
            } else {
                report::render_json(&model)
            }
        }
        _ => {
            let mut t = report::render_md(&plan, &model, &Fmt::new(&plan, local_tz));
            if rehearsal {
                t.push('\n');
                t.push_str(&crate::rehearsal::report::render(&plan, &replay.events));
            }
            crate::text::fold_markdown(&t, 80)
        }
    };
    Ok(crate::out::print(&text)?)
}
