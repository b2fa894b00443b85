//! `drillbook forward JOURNAL... --to URL [--once]`: each journal's events to a syslog collector,
//! through [`crate::forward`], one task per journal; the forwarders' state on stderr. Ends on
//! Ctrl-C or SIGTERM (or, with `--once`, when everything is delivered).

use super::{Failure, Outcome};
use crate::forward::{self, Status, Target};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A collector address from the command line (`--to`, `run --forward`), or the usage error
/// both give for a bad one.
pub(super) fn target(flag: &str, url: &str) -> Result<Target, Failure> {
    url.parse()
        .map_err(|e: forward::AddressError| Failure::usage(format!("{flag} {e}")))
}

pub fn run(journals: &[PathBuf], to: &str, once: bool) -> Outcome {
    let target = target("--to", to)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(format!("cannot start: {e}")))?;
    rt.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Status>();
        let mut tasks = tokio::task::JoinSet::new();
        for j in journals {
            tasks.spawn(forward::run_until(
                j.clone(),
                target.clone(),
                once,
                Arc::clone(&stop),
                tx.clone(),
            ));
        }
        drop(tx);
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| Failure::new(format!("cannot watch signals: {e}")))?;
        let mut failures = Vec::new();
        loop {
            tokio::select! {
                Some(s) = rx.recv() => crate::out::eprintln(&format!("forward: {s}")),
                _ = tokio::signal::ctrl_c() => stop.store(true, Ordering::SeqCst),
                _ = term.recv() => stop.store(true, Ordering::SeqCst),
                r = tasks.join_next() => match r {
                    Some(Ok(Ok(()))) => {}
                    Some(Ok(Err(e))) => {
                        crate::out::eprintln(&format!("forward: {e}"));
                        failures.push(e.to_string());
                    }
                    Some(Err(e)) => failures.push(e.to_string()),
                    None => break,
                },
            }
        }
        while let Ok(s) = rx.try_recv() {
            crate::out::eprintln(&format!("forward: {s}"));
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(Failure::new(format!(
                "{} of {} journals could not be forwarded to the end",
                failures.len(),
                journals.len()
            )))
        }
    })
}
