//! Whether someone other than the file's owner could have written what a log or file check
//! reads: a line planted there would otherwise pass the check (and settle its step) like the
//! gateway's own. The readers of a journal warn the same way for a journal others can write.
//!
//! Said: a file others can write (the other-write bit); a folder on the way to it that others can
//! write into without the sticky bit (anyone could put another file in its place); a file in a
//! folder anyone may create files in (sticky, as `/tmp`) that belongs to another user than the
//! operator or root (anyone could have made it first); a link as the path given that belongs to
//! such a user (it may be pointed anywhere). Not said: a log that a service account owns and
//! writes (the normal case) and a file its group may write (with user-private groups, 0664 is
//! the usual mode, and the group is its owner's own).

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Why others than the owner could have written `path` (open, with `meta`), in words for a
/// check's detail; None when nothing says so.
pub fn others_could_write(path: &Path, meta: &Metadata) -> Option<String> {
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    let foreign = |uid: u32| uid != me && uid != 0;
    let shown = path.display();
    let mode = meta.mode() & 0o7777;
    if mode & 0o002 != 0 {
        return Some(format!("others can write {shown} (mode {mode:04o})"));
    }
    if let Ok(link) = std::fs::symlink_metadata(path)
        && link.file_type().is_symlink()
        && foreign(link.uid())
    {
        return Some(format!(
            "{shown} is a link of another user (uid {}), who can point it at any file",
            link.uid()
        ));
    }
    let real = std::fs::canonicalize(path).ok()?;
    let folder = real.parent()?;
    for dir in folder.ancestors() {
        let Ok(m) = std::fs::metadata(dir) else {
            continue;
        };
        let dmode = m.mode() & 0o7777;
        if dmode & 0o002 != 0 && dmode & 0o1000 == 0 {
            return Some(format!(
                "{} is a folder others can write into (mode {dmode:04o}, no sticky bit): anyone could have put another file in place of {shown}",
                dir.display()
            ));
        }
    }
    let dmode = std::fs::metadata(folder).ok()?.mode() & 0o7777;
    if dmode & 0o002 != 0 && foreign(meta.uid()) {
        return Some(format!(
            "{shown} is in {}, a folder anyone can create files in, and belongs to another user (uid {}): anyone could have made it",
            folder.display(),
            meta.uid()
        ));
    }
    None
}

/// A check's detail with what [`others_could_write`] said: first on a pass (which then settles
/// no step by itself: the operator reads the warning on the screen's one row), last otherwise.
pub fn said(detail: &str, passed: bool, why: &str) -> String {
    if passed {
        format!(
            "warning: {why}, so a line there may be planted: this pass does not settle the step by itself; {detail}"
        )
    } else {
        format!("{detail}; warning: {why}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn what_others_could_have_written_is_said() {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        let log = open.join("bss.log");
        std::fs::write(&log, "x\n").unwrap();
        let look = |p: &Path| others_could_write(p, &std::fs::metadata(p).unwrap());
        chmod(&log, 0o644);
        chmod(&open, 0o755);
        assert_eq!(look(&log), None);
        // Group-writable: the usual mode under user-private groups.
        chmod(&log, 0o664);
        assert_eq!(look(&log), None);
        chmod(&log, 0o666);
        assert!(look(&log).unwrap().starts_with("others can write "));
        chmod(&log, 0o644);
        chmod(&open, 0o777);
        let why = look(&log).unwrap();
        assert!(
            why.contains("is a folder others can write into (mode 0777, no sticky bit)"),
            "{why}"
        );
        // Sticky, as /tmp: the operator's own file there is theirs.
        chmod(&open, 0o1777);
        assert_eq!(look(&log), None);
        chmod(&open, 0o755);
        assert_eq!(
            said("matched", false, "why"),
            "matched; warning: why".to_owned()
        );
        assert!(said("matched", true, "why").ends_with("; matched"));
    }
}
