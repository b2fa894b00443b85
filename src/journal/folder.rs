//! A folder of journals (a shared mount where each host's journal lands): which `*.jsonl` files
//! it holds, and which appeared since the last look, so a follower picks up a journal that
//! joins after it started. Looked at by listing the folder (a poll every second is cheap and
//! works on network file systems, where change notification does not see other hosts' writes).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// How often a follower looks for new journals in a folder.
pub const POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether `name` is a journal's file name: `*.jsonl`, not hidden (editors' and tools' temporary
/// files start with a dot).
pub fn is_journal_name(name: &str) -> bool {
    let p = Path::new(name);
    p.extension().is_some_and(|e| e == "jsonl")
        && p.file_stem().is_some_and(|s| !s.is_empty())
        && !name.starts_with('.')
}

/// The journals in `dir`, sorted by name: files (or links, whose targets are checked when
/// opened, by the rules for files) named `*.jsonl`. Sub-folders are not entered.
pub fn journals_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !is_journal_name(name) {
            continue;
        }
        let ft = entry.file_type()?;
        if ft.is_file() || ft.is_symlink() {
            v.push(entry.path());
        }
    }
    v.sort();
    Ok(v)
}

/// The journals of a folder not yet seen: each call returns those that appeared since the last.
#[derive(Debug)]
pub struct NewJournals {
    dir: PathBuf,
    seen: BTreeSet<PathBuf>,
}

impl NewJournals {
    /// Watch `dir`; `known` are journals already followed (not reported again).
    pub fn new(dir: &Path, known: impl IntoIterator<Item = PathBuf>) -> Self {
        Self {
            dir: dir.to_owned(),
            seen: known.into_iter().collect(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Journals that appeared in the folder since the last call (sorted by name).
    pub fn poll(&mut self) -> std::io::Result<Vec<PathBuf>> {
        let mut fresh = Vec::new();
        for p in journals_in(&self.dir)? {
            if self.seen.insert(p.clone()) {
                fresh.push(p);
            }
        }
        Ok(fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_that_appears_later_is_reported_once_and_other_files_never() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("desk1.jsonl"), "").unwrap();
        std::fs::write(d.join("notes.txt"), "").unwrap();
        std::fs::write(d.join(".desk1.jsonl.swp"), "").unwrap();
        std::fs::write(d.join(".hidden.jsonl"), "").unwrap();
        std::fs::write(d.join("desk1.jsonl.forward-0123456789ab"), "").unwrap();
        std::fs::create_dir(d.join("sub.jsonl")).unwrap();
        let mut w = NewJournals::new(d, []);
        assert_eq!(w.poll().unwrap(), [d.join("desk1.jsonl")]);
        assert!(w.poll().unwrap().is_empty());
        std::fs::write(d.join("md1.jsonl"), "").unwrap();
        std::fs::write(d.join("a-net.jsonl"), "").unwrap();
        assert_eq!(
            w.poll().unwrap(),
            [d.join("a-net.jsonl"), d.join("md1.jsonl")]
        );
        assert!(w.poll().unwrap().is_empty());
        // Known from the start: not reported.
        let mut w = NewJournals::new(d, [d.join("md1.jsonl")]);
        assert_eq!(
            w.poll().unwrap(),
            [d.join("a-net.jsonl"), d.join("desk1.jsonl")]
        );
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(journals_in(&dir.path().join("nope")).is_err());
    }
}
