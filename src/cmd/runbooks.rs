//! `drillbook runbooks list|export`: what is bundled, and a copy to adapt.

use super::{Failure, Outcome};
use crate::cli::RunbooksAction;
use crate::runbook;

pub fn run(action: &RunbooksAction) -> Outcome {
    match action {
        RunbooksAction::List => {
            let plan = runbook::load_bundled(&runbook::bundled_roles())?;
            crate::out::println(&format!("{} ({})", plan.session.title, plan.session.id))?;
            for (i, r) in plan.runbooks.iter().enumerate() {
                let n = plan.steps.iter().filter(|s| s.runbook == i).count();
                // Counts before titles: titles vary in length, the columns stay straight.
                crate::out::println(&format!(
                    "  {:<5} {n:>3} steps  {}",
                    r.role,
                    crate::text::clean_line(&r.title)
                ))?;
            }
            crate::out::println("Run one: drillbook run --role ep   Several: --role ep,hsn,omd")?;
            Ok(())
        }
        RunbooksAction::Export { dir } => {
            let written = runbook::export_bundled(dir).map_err(Failure::new)?;
            for p in &written {
                crate::out::println(&format!("wrote {}", p.display()))?;
            }
            // The files land in a folder named for the session: that folder is what validate,
            // schedule and run read (validate also takes DIR, reading its session folders).
            let folder = written
                .first()
                .and_then(|p| p.parent())
                .unwrap_or(dir.as_path());
            crate::out::println(&format!(
                "Check your edits with: drillbook validate {}",
                folder.display()
            ))?;
            crate::out::println(&format!(
                "Run them with: drillbook run {}",
                folder.join("ep.yaml").display()
            ))?;
            Ok(())
        }
    }
}
