//! A folder of the user's own to write into, reached so that nobody else can swap any part of the
//! way to it: walked from `/` one name at a time through open descriptors (`openat`,
//! `O_NOFOLLOW`), every folder on the way checked for who could replace what is in it, a link
//! followed only when the user or root made it, and a missing folder created owner-only.
//!
//! A check of the last folder alone is not enough: in `/srv/open/mine` with `/srv/open` writable by
//! all and not sticky, another user renames `mine` away and puts a folder of their own in its
//! place; through `/tmp/theirs/x`, where `theirs` is a link another user made, they point the
//! link elsewhere. Either way the path the user is told to run (`drillbook run …/ep.yaml`) leads
//! to their files. So every folder on the way must be the user's or root's and, if others can
//! write into it, sticky (they then cannot rename or remove what is not theirs), and every link on
//! the way the user's or root's. The folder returned is open: files are made relative to it.

use super::{FileError, current_uid};
use std::collections::VecDeque;
use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// Links followed on the way before giving up, as the kernel's own limit.
const MAX_LINKS: usize = 40;

/// Open `dir` to write into (created owner-only, with any missing folders on the way, when
/// missing). Refused, naming the place: a folder or link on the way that another user (not root)
/// owns, a folder on the way that others can write into without the sticky bit, and a last
/// folder that is not the user's own or that others can write into without the sticky bit.
pub fn open_own_dir(dir: &Path) -> Result<File, FileError> {
    let abs = if dir.is_absolute() {
        dir.to_owned()
    } else {
        std::env::current_dir()?.join(dir)
    };
    let mut todo: VecDeque<OsString> = names(&abs);
    // The folders walked so far, each open, with the path it was reached by (for messages).
    let mut way: Vec<(File, PathBuf)> = vec![(open_root()?, PathBuf::from("/"))];
    let mut links = 0;
    // Set when a folder was just made: it is made 0700 once open (the umask may have taken
    // bits away from what `mkdirat` asked for).
    let mut just_made = false;
    while let Some(name) = todo.pop_front() {
        let fresh = std::mem::take(&mut just_made);
        if name == ".." {
            if way.len() > 1 {
                way.pop();
            }
            continue;
        }
        let (parent, at) = way.last().expect("the root is never popped");
        // Whatever is done in this folder, only its owner (and root) may change it.
        on_the_way(parent, at)?;
        let here = at.join(&name);
        let c = CString::new(name.as_bytes()).map_err(std::io::Error::other)?;
        match lstat_at(parent, &c) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match mkdir_at(parent, &c) {
                    Ok(()) => {
                        parent.sync_all()?;
                        just_made = true;
                    }
                    // Made by someone else in between: looked at again, like any folder.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(FileError::Io(e)),
                }
                todo.push_front(name);
            }
            Err(e) => return Err(FileError::Io(e)),
            Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFLNK => {
                if !trusted(st.st_uid) {
                    return Err(along(here, FileError::PlantedLink { owner: st.st_uid }));
                }
                links += 1;
                if links > MAX_LINKS {
                    return Err(FileError::Io(std::io::Error::from_raw_os_error(
                        libc::ELOOP,
                    )));
                }
                let target = read_link_at(parent, &c)?;
                if target.is_absolute() {
                    way.truncate(1);
                }
                for n in names(&target).into_iter().rev() {
                    todo.push_front(n);
                }
            }
            Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFDIR => {
                let folder = open_dir_at(parent, &c)?;
                if fresh {
                    folder.set_permissions(std::fs::Permissions::from_mode(0o700))?;
                }
                way.push((folder, here));
            }
            Ok(_) => {
                return Err(FileError::Io(std::io::Error::from_raw_os_error(
                    libc::ENOTDIR,
                )));
            }
        }
    }
    let (folder, _) = way.pop().expect("the root is never popped");
    let meta = folder.metadata()?;
    if meta.uid() != current_uid() {
        return Err(FileError::FolderNotOwned { owner: meta.uid() });
    }
    let mode = meta.mode() & 0o7777;
    if open_to_others(mode) {
        return Err(FileError::FolderOpen { mode });
    }
    Ok(folder)
}

/// The user, or root (who can change anything anyway).
fn trusted(uid: u32) -> bool {
    uid == current_uid() || uid == 0
}

/// Writable by its group or others, without the sticky bit that keeps them to their own entries.
fn open_to_others(mode: u32) -> bool {
    mode & 0o022 != 0 && mode & libc::S_ISVTX == 0
}

/// A folder the walk goes through: the user's or root's, and not open to others.
fn on_the_way(folder: &File, at: &Path) -> Result<(), FileError> {
    let meta = folder.metadata()?;
    if !trusted(meta.uid()) {
        return Err(along(
            at.to_owned(),
            FileError::FolderNotOwned { owner: meta.uid() },
        ));
    }
    let mode = meta.mode() & 0o7777;
    if open_to_others(mode) {
        return Err(along(at.to_owned(), FileError::FolderOpen { mode }));
    }
    Ok(())
}

fn along(at: PathBuf, why: FileError) -> FileError {
    FileError::Along {
        at,
        why: Box::new(why),
    }
}

/// The names of `path` in order, `..` kept (it is resolved against the folders actually
/// reached, after any link, as the kernel does).
fn names(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_owned()),
            Component::ParentDir => Some(OsStr::new("..").to_owned()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

fn open_root() -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open("/")
}

/// `fstatat(…, AT_SYMLINK_NOFOLLOW)`: what `name` is in `dir`, a link as a link.
fn lstat_at(dir: &File, name: &CString) -> std::io::Result<libc::stat> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstatat on a descriptor we hold, a NUL-terminated name, and a buffer of the size
    // it fills; the buffer is read only when the call succeeded.
    unsafe {
        if libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
        Ok(st.assume_init())
    }
}

/// Open folder `name` in `dir`, never through a link (one swapped in since it was looked at).
fn open_dir_at(dir: &File, name: &CString) -> std::io::Result<File> {
    // SAFETY: openat on a descriptor we hold with a NUL-terminated name; the descriptor it
    // returns is ours alone and handed to a File that closes it.
    unsafe {
        let fd = libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(File::from_raw_fd(fd))
    }
}

/// Create folder `name` in `dir`, owner-only (the umask can only take bits away from 0700).
fn mkdir_at(dir: &File, name: &CString) -> std::io::Result<()> {
    // SAFETY: mkdirat on a descriptor we hold with a NUL-terminated name.
    if unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), 0o700) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Where link `name` in `dir` points.
fn read_link_at(dir: &File, name: &CString) -> std::io::Result<PathBuf> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: readlinkat on a descriptor we hold, a NUL-terminated name, and a buffer of the
    // length given; it returns how many bytes it wrote.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let n = usize::try_from(n).map_err(|_| std::io::Error::last_os_error())?;
    if n >= buf.len() {
        return Err(std::io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    buf.truncate(n);
    Ok(PathBuf::from(OsStr::from_bytes(&buf)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_dotdot_and_drop_dots() {
        let n: Vec<OsString> = names(Path::new("/a/./b/../c/")).into_iter().collect();
        assert_eq!(n, ["a", "b", "..", "c"]);
    }

    #[test]
    fn a_folder_of_the_users_own_is_made_and_opened_through_links_of_the_users_own() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
        let target = dir.path().join("link/a/b");
        let f = open_own_dir(&target).unwrap();
        assert_eq!(
            f.metadata().unwrap().ino(),
            std::fs::metadata(real.join("a/b")).unwrap().ino()
        );
        let made = std::fs::metadata(real.join("a")).unwrap();
        assert_eq!(made.permissions().mode() & 0o777, 0o700);
        // A relative path and `..` reach the same folder.
        let again = dir.path().join("link/a/b/../b");
        assert!(open_own_dir(&again).is_ok());
        // A file on the way is not a folder.
        std::fs::write(real.join("file"), "").unwrap();
        assert!(open_own_dir(&real.join("file/x")).is_err());
    }
}
