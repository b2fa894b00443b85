//! Which log line each passing log check took, so that one line never serves steps of two
//! phases: a logon seen once, at one site, is not also the other site's logon.
//!
//! The [`Book`] is shared by the runner's clones (checks that run at once see each other's
//! lines at once) and, in the app, filled again from the journal's `check` events before each
//! run, so that a line keeps its step across a restart. A step may take its own line again (`r`
//! after a pass), and steps of one phase may share a line (two facts read from one logon line);
//! a step of another phase does not get it: it is told which step has it, and looks on for a
//! line of its own.
//!
//! A line is known by what it says: the hash of its text, whatever file or offset it is read at.
//! A log replaced by a copy of itself (a shipper or `rsync` writing a new file and renaming it,
//! `sed -i`, an editor's save) presents every line again in a new file, and the same line may be
//! written twice (two appenders, a resend): the logon it records is still one. The file and
//! offset where a step took it are kept too, to say when a line is such a copy. A log whose lines
//! say exactly the same thing for two logons (no time in them) therefore serves one phase only.

use crate::journal::{CheckOutcome, LineRef, Record};
use crate::runbook::Plan;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The step that took a line, its phase (a plan index), and where it read the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub step: String,
    pub phase: usize,
    pub line: LineRef,
}

impl Owner {
    /// Whether `line` is the very line the owner took (same file, same offset), not a copy of it.
    pub fn took_here(&self, line: &LineRef) -> bool {
        (self.line.dev, self.line.ino, self.line.byte) == (line.dev, line.ino, line.byte)
    }
}

/// The lines taken so far, by the hash of their text. Cheap to clone; clones share the book.
#[derive(Debug, Clone, Default)]
pub struct Book(Arc<Mutex<HashMap<String, Owner>>>);

impl Book {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Owner>> {
        // A poisoned lock still holds a consistent map: every change is one insert.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Take `line` (its text, wherever it is) for `step` of `phase`, unless a step of another
    /// phase has it: then that step (the line stays with it). Checking and taking are one step
    /// under the lock, so two checks reading the same line at the same moment cannot both have
    /// it.
    pub fn take(&self, line: &LineRef, step: &str, phase: usize) -> Result<(), Owner> {
        let mut map = self.lock();
        match map.get(&line.fnv) {
            Some(o) if o.phase != phase => Err(o.clone()),
            Some(_) => Ok(()),
            None => {
                map.insert(
                    line.fnv.clone(),
                    Owner {
                        step: step.to_owned(),
                        phase,
                        line: line.clone(),
                    },
                );
                Ok(())
            }
        }
    }

    /// Every line the journal records a passing check taking, for the step that took it first
    /// (the journal is in order; a step no runbook loaded now has is skipped). The journal's
    /// `line` holds the text's hash, so a line keeps its step in a copy of the file too.
    pub fn remember(&self, plan: &Plan, record: &Record) {
        let mut taken: Vec<(u64, &LineRef, &str, usize)> = Vec::new();
        for (step, runs) in &record.checks {
            let Some(phase) = plan.steps.iter().find(|s| &s.id == step).map(|s| s.phase) else {
                continue;
            };
            for run in runs {
                if let (CheckOutcome::Pass, Some(line)) = (run.outcome, &run.line) {
                    taken.push((run.stamp.seq, line, step, phase));
                }
            }
        }
        // The record keeps runs per step; the journal's order decides who was first.
        taken.sort_by_key(|t| t.0);
        let mut map = self.lock();
        for (_, line, step, phase) in taken {
            map.entry(line.fnv.clone()).or_insert_with(|| Owner {
                step: step.to_owned(),
                phase,
                line: line.clone(),
            });
        }
    }
}

/// What the journal keeps of a line: its file, where it begins, and the FNV-1a hash of its
/// bytes (stable across builds and versions, unlike the standard library's hasher: it is
/// journaled). The hash is the line's identity in the [`Book`]; the rest says where it was read.
pub fn line_ref(dev: u64, ino: u64, byte: u64, bytes: &[u8]) -> LineRef {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    LineRef {
        dev,
        ino,
        byte,
        fnv: format!("{h:016x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_stays_with_the_first_phase_that_took_it() {
        let book = Book::default();
        let l = line_ref(1, 2, 0, b"2026-12-02 14:19:03 LOGON ACCEPTED");
        assert_eq!(book.take(&l, "primary-logon", 1), Ok(()));
        // Its own step again, and another step of its phase, may read it.
        assert_eq!(book.take(&l, "primary-logon", 1), Ok(()));
        assert_eq!(book.take(&l, "primary-seq", 1), Ok(()));
        // Another phase's step may not; it is told who has it.
        let other = book.clone().take(&l, "backup-logon", 3).unwrap_err();
        assert_eq!(other.step, "primary-logon");
        assert!(other.took_here(&l));
        // The same offset in a file written again (another text) is another line.
        assert_eq!(
            book.take(&line_ref(1, 2, 0, b"other text"), "backup-logon", 3),
            Ok(())
        );
        // The same text in another file, or further on in this one, is the same line: a copy.
        for copy in [
            line_ref(1, 3, 0, b"2026-12-02 14:19:03 LOGON ACCEPTED"),
            line_ref(1, 2, 35, b"2026-12-02 14:19:03 LOGON ACCEPTED"),
        ] {
            let owner = book.take(&copy, "backup-logon", 3).unwrap_err();
            assert_eq!(owner.step, "primary-logon");
            assert!(!owner.took_here(&copy));
        }
    }

    #[test]
    fn the_hash_is_fnv1a() {
        // The published FNV-1a 64 test vectors: it must not change between versions.
        assert_eq!(line_ref(0, 0, 0, b"").fnv, "cbf29ce484222325");
        assert_eq!(line_ref(0, 0, 0, b"a").fnv, "af63dc4c8601ec8c");
    }
}
