//! Files on a shared host: reading only regular files and only so many bytes, creating folders
//! and files private to the user, and never writing through a link someone else planted.
//!
//! Every file drillbook reads (runbooks, session files, themes, journals) and every file it
//! creates (journals, exported runbooks) goes through here, so the rules live in one place:
//! - a FIFO, a device or a socket is refused before a byte is read (opened non-blocking, so a
//!   FIFO with no writer cannot hang the open), and a read stops at its cap by bytes read, not
//!   by the size the filesystem reports (`/dev/zero` and `/proc` files report 0);
//! - what drillbook creates is owner-only (0700 folders, 0600 files) whatever the umask, and the
//!   folder entry of a new file is fsync'd, so a new journal survives a power loss;
//! - a file is written only through `O_NOFOLLOW` (a symlink as the last component is refused) and
//!   only when it is a regular file owned by the user;
//! - exported runbooks go only into a folder nobody else can swap, anywhere on the way to it
//!   ([`open_own_dir`]).

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

mod own_dir;
pub use own_dir::open_own_dir;

/// Why a file could not be read or opened.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("is a folder, not a file")]
    Folder,
    /// Not a regular file: what it is instead ("a FIFO", "a character device", ...).
    #[error("is {0}, not a regular file: drillbook reads and writes only regular files")]
    NotRegular(&'static str),
    /// More bytes than the cap allows, as the file system reported before any reading.
    #[error("is {}; drillbook reads such files up to {}", human_bytes(*.size), human_bytes(*.cap))]
    TooLarge { cap: u64, size: u64 },
    /// More bytes read than the cap allows (the file system reported less: `/proc`, growth).
    #[error("is larger than {}", human_bytes(*.cap))]
    GrewTooLarge { cap: u64 },
    /// A symlink where drillbook writes, not made by this user.
    #[error(
        "is a symbolic link owned by another user (uid {owner}): drillbook does not write through it"
    )]
    PlantedLink { owner: u32 },
    /// A file drillbook would write that belongs to someone else.
    #[error("belongs to another user (uid {owner}): drillbook writes only its own files")]
    NotOwned { owner: u32 },
    /// A folder drillbook would write into that belongs to someone else.
    #[error(
        "is a folder of another user (uid {owner}): drillbook writes only into the user's own folders"
    )]
    FolderNotOwned { owner: u32 },
    /// A folder others can write into, without the sticky bit that stops them replacing entries.
    #[error(
        "is a folder others can write into (mode {mode:04o}, no sticky bit): anyone could replace what drillbook writes there"
    )]
    FolderOpen { mode: u32 },
    /// A folder or link on the way to where drillbook writes that someone else could change.
    #[error("goes through {}, which {why}", .at.display())]
    Along { at: PathBuf, why: Box<FileError> },
    /// A folder drillbook was to create is there already (it may be someone else's, or a link).
    #[error(
        "already exists; drillbook creates it itself and does not write into one already there"
    )]
    FolderExists,
    #[error("cannot be read: {}", io_words(.0))]
    Io(#[from] std::io::Error),
}

impl FileError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, FileError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// An I/O error in words, without the "(os error 2)" suffix.
pub fn io_words(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_owned(),
                None => s,
            }
        }
    }
}

fn human_bytes(n: u64) -> String {
    if n >= 1024 * 1024 {
        format!("{} MiB", n / (1024 * 1024))
    } else {
        format!("{} KiB", n / 1024)
    }
}

/// What a file type is, in words.
fn kind_of(ft: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_file() || ft.is_dir() {
        None
    } else if ft.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if ft.is_char_device() {
        Some("a character device")
    } else if ft.is_block_device() {
        Some("a block device")
    } else if ft.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    }
}

fn check_regular(meta: &std::fs::Metadata) -> Result<(), FileError> {
    if meta.is_dir() {
        return Err(FileError::Folder);
    }
    match kind_of(meta.file_type()) {
        Some(what) => Err(FileError::NotRegular(what)),
        None => Ok(()),
    }
}

/// Open a regular file for reading without blocking on a FIFO and without reading a device.
pub fn open_regular(path: &Path) -> Result<File, FileError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    check_regular(&file.metadata()?)?;
    Ok(file)
}

/// Read a regular file whole, refusing it when it holds more than `cap` bytes (counted as read).
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, FileError> {
    let file = open_regular(path)?;
    read_capped_from(file, cap)
}

/// [`read_capped`] on a file already open.
pub fn read_capped_from(file: File, cap: u64) -> Result<Vec<u8>, FileError> {
    // The reported size refuses a large file unread; the bytes read are what is trusted, since
    // `/proc` files and a file still growing report less than they hold.
    let reported = file.metadata()?.len();
    if reported > cap {
        return Err(FileError::TooLarge {
            cap,
            size: reported,
        });
    }
    let mut bytes = Vec::with_capacity(reported as usize);
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(FileError::GrewTooLarge { cap });
    }
    Ok(bytes)
}

/// Create `dir` and any missing parents owner-only (0700), fsyncing each new entry's parent.
pub fn create_private_dir_all(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_private_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {
            // The umask may have taken bits away; 0700 is what we promise, no more, no less.
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            sync_parent(dir)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// fsync the folder that holds `path`, so a new entry in it survives a power loss.
pub fn sync_parent(path: &Path) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}

/// An append-only file opened for a writer, and whether this call created it.
pub struct Appendable {
    pub file: File,
    pub created: bool,
    /// The permissions the file had when others could read or write it (now taken away).
    pub tightened: Option<Exposure>,
}

/// Group or other permission bits found on a private file.
#[derive(Debug, Clone, Copy)]
pub struct Exposure {
    /// The permission bits found (`0o644`, `0o666`).
    pub mode: u32,
    /// When the file was last written: others who could write could have done so up to then.
    pub modified: chrono::DateTime<chrono::Utc>,
    /// Its length in bytes when found.
    pub len: u64,
}

impl Exposure {
    /// What a file's metadata shows: None when only its owner can read and write it.
    pub fn of(meta: &std::fs::Metadata) -> Option<Self> {
        let mode = meta.mode() & 0o7777;
        (mode & 0o077 != 0).then(|| Self {
            mode,
            modified: chrono::DateTime::from_timestamp(meta.mtime(), 0).unwrap_or_default(),
            len: meta.len(),
        })
    }

    /// Whether someone other than the owner could write it (group or other write bit).
    pub fn writable_by_others(&self) -> bool {
        self.mode & 0o022 != 0
    }

    /// Who besides the owner could write it, in words: "its group", "others", "its group and
    /// others" (a group-writable file is not "writable by anyone").
    pub fn writers(&self) -> &'static str {
        match (self.mode & 0o020 != 0, self.mode & 0o002 != 0) {
            (true, true) => "its group and others",
            (true, false) => "its group",
            (false, true) => "others",
            (false, false) => "nobody else",
        }
    }

    /// `0666`.
    pub fn octal(&self) -> String {
        format!("{:04o}", self.mode)
    }
}

/// Open (or create, owner-only) a file to append to, refusing what a writer must never write:
/// a symlink someone else planted, a FIFO or device, a file of another user. A symlink the
/// user made himself is followed (its target is checked the same way). A new file's folder
/// entry is fsync'd before this returns.
pub fn open_appendable(path: &Path) -> Result<Appendable, FileError> {
    let target = resolve_own_link(path)?;
    let open = |create: bool| {
        OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(create)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
            .open(&target)
    };
    let (file, created) = match open(true) {
        Ok(f) => (f, true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            (open(false).map_err(|e| refine_nofollow(&target, e))?, false)
        }
        Err(e) => return Err(refine_nofollow(&target, e)),
    };
    let meta = file.metadata()?;
    check_regular(&meta)?;
    if meta.uid() != current_uid() {
        return Err(FileError::NotOwned { owner: meta.uid() });
    }
    // An existing file keeps the mode it was made with (`touch` under umask 022, a copy): what
    // the writer holds is made private through its own descriptor (fchmod: no path to swap),
    // and the caller says so, once, since the file is private from then on.
    let tightened = if created { None } else { Exposure::of(&meta) };
    if created || tightened.is_some() {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    if created {
        sync_parent(&target)?;
    }
    clear_nonblock(&file)?;
    Ok(Appendable {
        file,
        created,
        tightened,
    })
}

/// Create a new file owner-only, failing if anything (a file or a link) is already there.
pub fn create_new_private(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// Create folder `name` in the open folder `parent`, owner-only (0700, whatever the umask), and
/// open it: refused when anything (a folder, a link, a file) is there already, since a folder
/// someone else made or linked there is theirs to change. The new entry is fsync'd.
pub fn create_private_dir_at(parent: &File, name: &str) -> Result<File, FileError> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let c = std::ffi::CString::new(name).map_err(std::io::Error::other)?;
    // SAFETY: mkdirat and openat on a descriptor we hold, with a NUL-terminated name; the
    // descriptor openat returns is ours alone and handed to a File that closes it.
    let folder = unsafe {
        if libc::mkdirat(parent.as_raw_fd(), c.as_ptr(), 0o700) != 0 {
            let e = std::io::Error::last_os_error();
            return Err(if e.kind() == std::io::ErrorKind::AlreadyExists {
                FileError::FolderExists
            } else {
                FileError::Io(e)
            });
        }
        let fd = libc::openat(
            parent.as_raw_fd(),
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return Err(FileError::Io(std::io::Error::last_os_error()));
        }
        File::from_raw_fd(fd)
    };
    folder.set_permissions(std::fs::Permissions::from_mode(0o700))?;
    parent.sync_all()?;
    Ok(folder)
}

/// Create file `name` in the open folder `parent`, owner-only (0600), failing if anything (a
/// file or a link) is already there: `O_CREAT|O_EXCL|O_NOFOLLOW` relative to the folder.
pub fn create_new_private_at(parent: &File, name: &str) -> std::io::Result<File> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let c = std::ffi::CString::new(name).map_err(std::io::Error::other)?;
    // SAFETY: openat on a descriptor we hold with a NUL-terminated name; the new descriptor is
    // handed to a File that owns and closes it.
    let file = unsafe {
        let fd = libc::openat(
            parent.as_raw_fd(),
            c.as_ptr(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            0o600 as libc::c_uint,
        );
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        File::from_raw_fd(fd)
    };
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// The path to open for `path`: itself, or the target of a symlink the user owns.
fn resolve_own_link(path: &Path) -> Result<PathBuf, FileError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            if m.uid() != current_uid() {
                return Err(FileError::PlantedLink { owner: m.uid() });
            }
            Ok(std::fs::canonicalize(path)?)
        }
        _ => Ok(path.to_owned()),
    }
}

/// `O_NOFOLLOW` on a symlink fails with ELOOP: say what was found instead.
fn refine_nofollow(path: &Path, e: std::io::Error) -> FileError {
    if e.raw_os_error() == Some(libc::ELOOP)
        && let Ok(m) = std::fs::symlink_metadata(path)
        && m.file_type().is_symlink()
    {
        return FileError::PlantedLink { owner: m.uid() };
    }
    FileError::Io(e)
}

fn clear_nonblock(file: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own; F_GETFL/F_SETFL take and return plain ints.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

pub fn current_uid() -> u32 {
    // SAFETY: getuid cannot fail.
    unsafe { libc::getuid() }
}
