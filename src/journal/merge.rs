//! Several journals, one timeline: the journals a firm's hosts wrote for one session (each
//! host's is the record for that host), read together without a server: their events merged in
//! time order, each tagged with its journal's host, operators and roles; their records folded
//! into one; and each host's confirmation of the same boundary kept apart, so the firm sees when
//! each team saw it.
//!
//! Journals of different sessions, and a rehearsal among real ones, are refused: a merged record
//! must be one session's, and a rehearsal must never pass for the real record. The same file
//! named twice (a path and a folder holding it, a link) is read once.
//!
//! [`Follower`] (in `follower`) does the same while the journals grow, picking up journals
//! that appear in a folder later: for `watch` on several journals.

mod follower;

pub use follower::{Followed, Follower, News, Standing};

use super::event::Event;
use super::folder;
use super::record::{Confirmation, Record};
use super::tail::{Head, TailError};
use super::{Action, JournalError, Replay};
use crate::text::clean_line;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One journal among several.
#[derive(Debug)]
pub struct Source {
    pub path: PathBuf,
    pub replay: Replay,
    /// The roles the journal was written for.
    pub roles: Vec<String>,
}

impl Source {
    /// The hosts that wrote it, in order of first appearance (one, unless the file moved).
    pub fn hosts(&self) -> Vec<&str> {
        distinct(self.replay.events.iter().map(|e| e.host.as_str()))
    }

    /// The operators that wrote it, in order of first appearance.
    pub fn operators(&self) -> Vec<&str> {
        distinct(self.replay.events.iter().map(|e| e.operator.as_str()))
    }

    /// `desk1 (ep, ccep)`: how the journal is named in headings and columns, neutralised.
    pub fn label(&self) -> String {
        format!(
            "{} ({})",
            clean_line(&self.hosts().join("+")),
            clean_line(&self.roles.join(", "))
        )
    }

    /// The runbook ids the journal's events were written against (its first event's).
    pub fn runbook_ids(&self) -> Vec<String> {
        self.replay
            .events
            .first()
            .map(|e| e.runbooks.clone())
            .unwrap_or_default()
    }
}

fn distinct<'a>(it: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = Vec::new();
    for s in it {
        if !v.contains(&s) {
            v.push(s);
        }
    }
    v
}

/// The roles a journal was written for: its first `attach`, else its first event's runbook ids.
pub fn roles_of(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .find_map(|e| match &e.action {
            Action::Attach { roles, .. } => Some(roles.clone()),
            _ => None,
        })
        .or_else(|| events.first().map(|e| e.runbooks.clone()))
        .unwrap_or_default()
}

/// Why several journals cannot be read as one.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error(transparent)]
    Read(#[from] JournalError),
    #[error(transparent)]
    Follow(#[from] TailError),
    #[error("{}: cannot list the folder: {}", .dir.display(), crate::files::io_words(.source))]
    Folder {
        dir: PathBuf,
        source: std::io::Error,
    },
    /// A folder named with no `*.jsonl` in it.
    #[error(
        "{}: no journal in this folder (drillbook reads the *.jsonl files in it)",
        .dir.display()
    )]
    NoJournals { dir: PathBuf },
    /// Every journal named is empty.
    #[error("{}: the journals are empty: nothing recorded yet", paths_words(.paths))]
    NothingRecorded { paths: Vec<PathBuf> },
    #[error(
        "{}: this journal is for session `{}`, and {} for session `{}`: journals of different sessions are not read as one; name the journals of one session",
        .path.display(),
        clean_line(.session),
        .first.display(),
        clean_line(.first_session)
    )]
    OtherSession {
        first: PathBuf,
        first_session: String,
        path: PathBuf,
        session: String,
    },
    #[error(
        "{}: a rehearsal journal among real ones (such as {}): a rehearsal must never pass for the real record, so they are not read as one; leave it out, or read it alone",
        .rehearsal.display(),
        .real.display()
    )]
    RehearsalAmongReal { rehearsal: PathBuf, real: PathBuf },
}

/// The journals named, for a message: `a.jsonl, b.jsonl`.
fn paths_words(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    shown.join(", ")
}

/// The journal files that `paths` name: files as given, folders as the `*.jsonl` in them; each
/// file once, however it was reached (by device and inode).
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, MergeError> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut ids = Vec::new();
    for p in paths {
        let found = if p.is_dir() {
            let v = folder::journals_in(p).map_err(|source| MergeError::Folder {
                dir: p.clone(),
                source,
            })?;
            if v.is_empty() {
                return Err(MergeError::NoJournals { dir: p.clone() });
            }
            v
        } else {
            vec![p.clone()]
        };
        for f in found {
            match std::fs::metadata(&f) {
                Ok(m) if ids.contains(&(m.dev(), m.ino())) => {}
                Ok(m) => {
                    ids.push((m.dev(), m.ino()));
                    out.push(f);
                }
                // Reading it says what is wrong, with the file's rules.
                Err(_) => out.push(f),
            }
        }
    }
    Ok(out)
}

/// Whether any journal `paths` name holds anything: files as given, folders as the `*.jsonl` in
/// them (an empty folder holds nothing yet: a watcher before the hosts start).
pub fn anything_recorded(paths: &[PathBuf]) -> Result<bool, MergeError> {
    for p in paths {
        let files = if p.is_dir() {
            folder::journals_in(p).map_err(|source| MergeError::Folder {
                dir: p.clone(),
                source,
            })?
        } else {
            vec![p.clone()]
        };
        // A file that cannot be looked at counts: reading it says what is wrong.
        if files
            .iter()
            .any(|f| std::fs::metadata(f).map_or(true, |m| m.len() > 0))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Read every journal `paths` name (files and folders), refusing a mix that cannot be one
/// record. Empty journals (a writer that has not written yet) are left out and returned apart.
pub fn read_all(paths: &[PathBuf]) -> Result<(Vec<Source>, Vec<PathBuf>), MergeError> {
    let files = expand(paths)?;
    let mut sources = Vec::new();
    let mut empty = Vec::new();
    for path in files {
        let replay = super::read(&path)?;
        if replay.events.is_empty() {
            empty.push(path);
            continue;
        }
        let roles = roles_of(&replay.events);
        sources.push(Source {
            path,
            replay,
            roles,
        });
    }
    if sources.is_empty() {
        return Err(MergeError::NothingRecorded { paths: empty });
    }
    check(&sources)?;
    Ok((sources, empty))
}

/// All of one session, and all real or all rehearsal.
pub fn check(sources: &[Source]) -> Result<(), MergeError> {
    let heads: Vec<(&Path, Head)> = sources
        .iter()
        .filter_map(|s| {
            s.replay
                .events
                .first()
                .map(|e| (s.path.as_path(), Head::of(e)))
        })
        .collect();
    check_heads(&heads)
}

fn check_heads(heads: &[(&Path, Head)]) -> Result<(), MergeError> {
    let Some((first, h0)) = heads.first() else {
        return Ok(());
    };
    for (path, h) in &heads[1..] {
        if h.session != h0.session {
            return Err(MergeError::OtherSession {
                first: first.to_path_buf(),
                first_session: h0.session.clone(),
                path: path.to_path_buf(),
                session: h.session.clone(),
            });
        }
        if h.rehearsal != h0.rehearsal {
            let (rehearsal, real) = if h.rehearsal {
                (path, first)
            } else {
                (first, path)
            };
            return Err(MergeError::RehearsalAmongReal {
                rehearsal: rehearsal.to_path_buf(),
                real: real.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// The events of all journals in time order (the session clock), each with the index of its
/// journal. Each journal's own order is kept (a clock stepped back on one host does not reorder
/// its events); between journals the earlier event comes first, ties in the order given.
pub fn timeline<'a>(journals: &[&'a [Event]]) -> Vec<(usize, &'a Event)> {
    let mut next = vec![0usize; journals.len()];
    let total = journals.iter().map(|j| j.len()).sum();
    let mut out = Vec::with_capacity(total);
    while out.len() < total {
        let pick = (0..journals.len())
            .filter(|&i| next[i] < journals[i].len())
            .min_by_key(|&i| (journals[i][next[i]].session_time(), i))
            .expect("events remain");
        out.push((pick, &journals[pick][next[pick]]));
        next[pick] += 1;
    }
    out
}

/// One record from several: every history joined and put in time order (who did what when is
/// kept on each entry), so the newest entry across journals is the current one, as within one.
/// Undo stays within its own journal: each record was folded, undos applied, before joining.
pub fn merge_records<'a>(records: impl IntoIterator<Item = &'a Record>) -> Record {
    let mut out = Record::default();
    for r in records {
        // Every field named, so that one added to `Record` cannot be left out of merged views
        // (the checks once were: `watch` showed "not run yet" for a check its host had run).
        let Record {
            steps,
            evidence,
            checks,
            notes,
            confirmations,
            notifications,
            handovers,
            shifts,
            notify_checks,
            phases_entered,
            undoable: _, // undo stays within its own journal: each record was folded first
            actions,
            last,
            last_seq,
        } = r;
        for (k, h) in steps {
            out.steps.entry(k.clone()).or_default().extend_from_slice(h);
        }
        for (k, h) in evidence {
            out.evidence
                .entry(k.clone())
                .or_default()
                .extend_from_slice(h);
        }
        for (k, h) in checks {
            out.checks
                .entry(k.clone())
                .or_default()
                .extend_from_slice(h);
        }
        for (k, h) in confirmations {
            out.confirmations
                .entry(k.clone())
                .or_default()
                .extend_from_slice(h);
        }
        out.notes.extend_from_slice(notes);
        out.notifications.extend_from_slice(notifications);
        out.handovers.extend_from_slice(handovers);
        out.shifts.extend_from_slice(shifts);
        out.notify_checks.extend_from_slice(notify_checks);
        out.phases_entered.extend_from_slice(phases_entered);
        out.actions += actions;
        out.last_seq = out.last_seq.max(*last_seq);
        if let Some(l) = last
            && out.last.as_ref().is_none_or(|o| l.at > o.at)
        {
            out.last = Some(l.clone());
        }
    }
    // Stable sorts: entries at the same instant keep the order the journals were given in.
    out.steps
        .values_mut()
        .for_each(|h| h.sort_by_key(|c| c.stamp.at));
    out.evidence
        .values_mut()
        .for_each(|h| h.sort_by_key(|c| c.stamp.at));
    out.checks
        .values_mut()
        .for_each(|h| h.sort_by_key(|c| c.stamp.at));
    out.confirmations
        .values_mut()
        .for_each(|h| h.sort_by_key(|c| c.stamp.at));
    out.notes.sort_by_key(|n| n.stamp.at);
    out.notifications.sort_by_key(|n| n.stamp.at);
    out.handovers.sort_by_key(|s| s.at);
    out.shifts.sort_by_key(|s| s.stamp.at);
    out.notify_checks.sort_by_key(|n| n.stamp.at);
    out.phases_entered.sort_by_key(|(_, s)| s.at);
    out
}

/// Each journal's current confirmation of each boundary: boundary key → (journal index,
/// confirmation), in the order the journals were given.
pub fn confirmations_by_journal<'a>(
    records: impl IntoIterator<Item = &'a Record>,
) -> BTreeMap<String, Vec<(usize, Confirmation)>> {
    let mut out: BTreeMap<String, Vec<(usize, Confirmation)>> = BTreeMap::new();
    for (i, r) in records.into_iter().enumerate() {
        for key in r.confirmations.keys() {
            if let Some(c) = r.confirmation(key) {
                out.entry(key.clone()).or_default().push((i, c.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
