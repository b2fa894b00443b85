//! Where a forwarder stands, kept beside the journal: `JOURNAL.forward-HASH` (HASH from the
//! collector's address, so one journal can go to two collectors), private (0600), written whole
//! to a new file and renamed over the old, so a forwarder killed at any moment leaves the old
//! position or the new one, never a mix. The same file says how forwarding goes (collector up or
//! down, since when, the last error), which `handover` reports.
//!
//! The rename happens on every delivered batch, without fsync: a forwarder killed (SIGKILL)
//! leaves the rename done, since the kernel holds it. fsync (of the file and the folder) follows
//! when the forwarder has caught up, so after a power loss the position is at worst a little
//! old: events sent again, never skipped.

use crate::files;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The most a position file may hold: it is a few hundred bytes.
const CAP: u64 = 64 * 1024;

/// What a position file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    pub v: u32,
    /// The collector (`syslog+tcp://...`).
    pub to: String,
    /// Bytes of the journal delivered: up to and including the newline of the last line sent.
    pub offset: u64,
    /// The line and the `seq` of the last event sent (0 before the first).
    pub line: u64,
    pub seq: u64,
    /// What the journal's first event said: its session, and whether it is a rehearsal.
    pub session: Option<String>,
    #[serde(default)]
    pub rehearsal: bool,
    /// The journal's roles and its session zone, for messages sent after a restart.
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub tz: Option<String>,
    /// Events delivered since the file was created.
    #[serde(default)]
    pub sent: u64,
    /// `ok`, `down` (the collector), or `stopped` (the forwarder ended as asked).
    pub state: String,
    /// The last delivery error, while down.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub down_since: Option<chrono::DateTime<chrono::Utc>>,
    pub updated: chrono::DateTime<chrono::Utc>,
    /// The forwarder's process id and host, to tell whether it still runs.
    pub pid: u32,
    #[serde(default)]
    pub host: String,
}

/// The position file of `journal` for collector `to`.
pub fn path_for(journal: &Path, to: &str) -> PathBuf {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(to.as_bytes());
    let hex = crate::runbook::hex(&h[..6]);
    let mut name = journal.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".forward-{hex}"));
    journal.with_file_name(name)
}

/// Every position file beside `journal` (one per collector), for reports.
pub fn beside(journal: &Path) -> Vec<PathBuf> {
    let Some(name) = journal.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let prefix = format!("{name}.forward-");
    let dir = match journal.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name().to_str().is_some_and(|n| {
                n.strip_prefix(&prefix)
                    .is_some_and(|h| h.len() == 12 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            })
        })
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// Why a position file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PositionError(pub String);

/// Read a position file: None when there is none. A file of another user (planted in a shared
/// folder to make a forwarder skip events), or one that does not parse, is refused.
pub fn load(path: &Path) -> Result<Option<Saved>, PositionError> {
    let err = |why: String| PositionError(format!("{}: {why}", path.display()));
    let file = match files::open_regular(path) {
        Ok(f) => f,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(err(e.to_string())),
    };
    let meta = file.metadata().map_err(|e| err(files::io_words(&e)))?;
    if meta.uid() != files::current_uid() {
        return Err(err(format!(
            "belongs to another user (uid {}): drillbook trusts only its own position files",
            meta.uid()
        )));
    }
    let bytes = files::read_capped_from(file, CAP).map_err(|e| err(e.to_string()))?;
    serde_json::from_slice(&bytes).map(Some).map_err(|_| {
        err("this forwarding position is damaged. Remove it to send the journal again from its start (the collector can drop what it already has by session, host, roles and seq)".into())
    })
}

/// Write `saved` to `path`: a new private file beside it (never through a link: created with
/// `O_EXCL|O_NOFOLLOW`), then renamed over it.
pub fn store(path: &Path, saved: &Saved) -> std::io::Result<()> {
    prepare(path, saved)?.commit()
}

/// A position written whole to its temporary file, waiting to be renamed into place: the
/// forwarder prepares it before handing a batch to the collector, so that only the rename (one
/// system call) lies between the hand-over and the saved position. Dropped uncommitted, the
/// temporary file is removed.
#[derive(Debug)]
pub struct Prepared {
    tmp: PathBuf,
    path: PathBuf,
    done: bool,
}

impl Prepared {
    /// Rename it into place.
    pub fn commit(mut self) -> std::io::Result<()> {
        self.done = true;
        if let Err(e) = std::fs::rename(&self.tmp, &self.path) {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(e);
        }
        Ok(())
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Write `saved` to the temporary file beside `path`, for [`Prepared::commit`].
pub fn prepare(path: &Path, saved: &Saved) -> std::io::Result<Prepared> {
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let file = match files::create_new_private(&tmp) {
        Ok(f) => f,
        // Left by a forwarder of this pid killed mid-write (pids are reused), or planted:
        // unlinking never follows a link.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(&tmp)?;
            files::create_new_private(&tmp)?
        }
        Err(e) => return Err(e),
    };
    let prepared = Prepared {
        tmp,
        path: path.to_owned(),
        done: false,
    };
    let mut w = std::io::BufWriter::new(file);
    serde_json::to_writer(&mut w, saved).map_err(std::io::Error::other)?;
    w.write_all(b"\n")?;
    w.flush()?;
    Ok(prepared)
}

/// Make the last [`store`] survive a power loss: fsync the file and its folder.
pub fn sync(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()?;
    files::sync_parent(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn saved() -> Saved {
        Saved {
            v: 1,
            to: "syslog+tcp://127.0.0.1:5514".into(),
            offset: 100,
            line: 2,
            seq: 2,
            session: Some("s".into()),
            rehearsal: false,
            roles: vec!["ep".into()],
            tz: Some("Asia/Hong_Kong".into()),
            sent: 2,
            state: "ok".into(),
            error: None,
            down_since: None,
            updated: chrono::Utc::now(),
            pid: 1,
            host: "h".into(),
        }
    }

    #[test]
    fn stored_privately_read_back_and_found_beside_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let j = dir.path().join("desk1.jsonl");
        let p = path_for(&j, "syslog+tcp://127.0.0.1:5514");
        assert_ne!(p, path_for(&j, "syslog+udp://127.0.0.1:5514"));
        assert!(p.to_str().unwrap().contains("desk1.jsonl.forward-"));
        assert_eq!(load(&p).unwrap(), None);
        let mut s = saved();
        store(&p, &s).unwrap();
        assert_eq!(load(&p).unwrap(), Some(s.clone()));
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        s.offset = 200;
        store(&p, &s).unwrap();
        assert_eq!(load(&p).unwrap().unwrap().offset, 200);
        sync(&p).unwrap();
        assert_eq!(beside(&j), std::slice::from_ref(&p));
        // No temporary file is left.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_planted_link_is_replaced_not_written_through_and_damage_is_said() {
        let dir = tempfile::tempdir().unwrap();
        let j = dir.path().join("j.jsonl");
        let p = path_for(&j, "x");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        // A link where the temporary file goes, and one where the position goes.
        let mut tmp = p.as_os_str().to_os_string();
        tmp.push(format!(".tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();
        std::os::unix::fs::symlink(&victim, &p).unwrap();
        store(&p, &saved()).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert!(
            !std::fs::symlink_metadata(&p)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        std::fs::write(&p, "{not json").unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("damaged") && e.contains("Remove it"), "{e}");
    }
}
