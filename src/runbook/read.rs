//! Reading runbook and session files: where a file lives (on disk or bundled), reading it through
//! the shared-host rules of `files` (regular files only, capped), and finding the YAML files of a
//! folder.

use super::{Problem, bundled, hex};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Larger files are refused unread: a 10,000-step runbook is about 3 MiB.
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Why a runbook's session file is refused, or a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(
        "session file `{}` must be named relative to the runbook, inside its folder (such as `session.yaml`)",
        crate::text::clean_line(.0)
    )]
    NotRelative(String),
    #[error(
        "session file `{}` is a link that leads out of the runbook's folder",
        crate::text::clean_line(.0)
    )]
    LeadsOut(String),
    #[error("{}", io_message(.0))]
    Io(#[from] std::io::Error),
    #[error("is {} MiB; drillbook reads runbook files up to {} MiB", .size / (1024 * 1024), .cap / (1024 * 1024))]
    TooLarge { cap: u64, size: u64 },
    #[error("{0}")]
    File(crate::files::FileError),
    /// The offset of the first byte that is not UTF-8.
    #[error("is not UTF-8 text (invalid byte at offset {0})")]
    NotUtf8(usize),
}

/// Where a file lives: on disk, or embedded in the binary.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Place {
    Disk(PathBuf),
    Bundled(String),
}

impl Place {
    pub(super) fn display(&self) -> String {
        match self {
            Place::Disk(p) => p.display().to_string(),
            Place::Bundled(n) => format!("{}{n}", super::bundled::SOURCE_PREFIX),
        }
    }

    /// The file `rel` names, relative to this one's folder and inside it: a runbook in a shared
    /// folder must not be able to make drillbook read (and quote) any file on the host.
    pub(super) fn sibling(&self, rel: &str) -> Result<Place, ReadError> {
        use std::path::Component;
        let rel_path = Path::new(rel);
        if rel.is_empty()
            || !rel_path
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(ReadError::NotRelative(rel.to_owned()));
        }
        Ok(match self {
            Place::Disk(p) => {
                let dir = p.parent().unwrap_or(Path::new(""));
                let joined = dir.join(rel_path);
                // A link inside the folder must not lead out of it either.
                let dir_c = std::fs::canonicalize(if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                });
                if let (Ok(d), Ok(t)) = (dir_c, std::fs::canonicalize(&joined))
                    && !t.starts_with(&d)
                {
                    return Err(ReadError::LeadsOut(rel.to_owned()));
                }
                Place::Disk(joined)
            }
            Place::Bundled(n) => {
                let dir = n.rsplit_once('/').map_or("", |(d, _)| d);
                Place::Bundled(if dir.is_empty() {
                    rel.to_owned()
                } else {
                    format!("{dir}/{rel}")
                })
            }
        })
    }

    /// A key that is the same for two spellings of one file.
    pub(super) fn identity(&self) -> Place {
        match self {
            Place::Disk(p) => Place::Disk(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
            b @ Place::Bundled(_) => b.clone(),
        }
    }
}

/// A file read into memory, with the name problems are reported under.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    pub(super) place: Place,
    pub display: String,
    pub text: String,
}

impl LoadedFile {
    pub(super) fn read(place: Place) -> Result<Self, Problem> {
        let display = place.display();
        let text = match &place {
            Place::Bundled(n) => bundled::get(n)
                .ok_or_else(|| Problem::new(&display, None, "no such bundled file"))?
                .to_owned(),
            Place::Disk(p) => read_disk(p).map_err(|m| Problem::new(&display, None, m))?,
        };
        // Editors on Windows start UTF-8 files with a byte order mark; YAML allows one there, and
        // serde_yaml would read it as part of the first key. Columns are then counted as an
        // editor shows them, without it.
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_owned(),
            None => text,
        };
        Ok(Self {
            place,
            display,
            text,
        })
    }

    pub(super) fn sha256(&self) -> String {
        hex(&Sha256::digest(self.text.as_bytes()))
    }

    /// A runbook names its session file; a session file has none. Decided on the top-level key
    /// so that a broken file is still reported against the right schema.
    pub(super) fn is_runbook(&self) -> bool {
        self.text.lines().any(|l| l.starts_with("session:"))
    }
}

pub(super) fn read_disk(p: &Path) -> Result<String, ReadError> {
    use crate::files::FileError;
    let bytes = crate::files::read_capped(p, MAX_BYTES).map_err(|e| match e {
        FileError::Io(e) => ReadError::Io(e),
        FileError::TooLarge { cap, size } => ReadError::TooLarge { cap, size },
        other => ReadError::File(other),
    })?;
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8(e.utf8_error().valid_up_to()))
}

pub(super) fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "cannot be read: no such file".into(),
        std::io::ErrorKind::PermissionDenied => "cannot be read: permission denied".into(),
        _ => format!("cannot be read: {e}"),
    }
}

/// The .yaml files of each folder directly in `dir`, folder by folder in name order.
pub(super) fn yaml_files_in_subfolders(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for d in dirs {
        out.extend(yaml_files_in(&d)?);
    }
    Ok(out)
}

pub(super) fn yaml_files_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    out.sort();
    Ok(out)
}
