//! The runbooks embedded in the binary, so that `drillbook` works from any folder after
//! `cargo install`, and their export for a firm to adapt.

use std::path::{Path, PathBuf};

/// How a bundled file is named in messages and in [`super::Runbook::source`].
pub const SOURCE_PREFIX: &str = "bundled:";

/// The folder (and session id) of the bundled session.
pub const BUNDLED_SESSION: &str = "hkex-ps2-2023-11-25";

macro_rules! bundle {
    ($($file:literal),* $(,)?) => {
        &[$((concat!("hkex-ps2-2023-11-25/", $file), include_str!(concat!("../../runbooks/hkex-ps2-2023-11-25/", $file)))),*]
    };
}

/// Every bundled file: (name under `runbooks/`, content). The session file first.
static FILES: &[(&str, &str)] = bundle![
    "session.yaml",
    "ep.yaml",
    "ccep.yaml",
    "hsn.yaml",
    "omd.yaml"
];

pub(super) fn get(name: &str) -> Option<&'static str> {
    FILES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

pub(super) fn names() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(n, _)| *n)
}

/// The bundled roles, in the order the notices introduce them: ep, ccep, hsn, omd.
pub fn bundled_roles() -> Vec<String> {
    names()
        .filter_map(|n| n.rsplit_once('/').map(|(_, f)| f.trim_end_matches(".yaml")))
        .filter(|r| *r != "session")
        .map(str::to_owned)
        .collect()
}

/// The bundled runbook file for a role (the file is named for its role).
pub(super) fn runbook_for(role: &str) -> Option<String> {
    let name = format!("{BUNDLED_SESSION}/{role}.yaml");
    (role != "session" && get(&name).is_some()).then_some(name)
}

/// Why the bundled runbooks could not be written out.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The folder to export into, or the session folder in it, is not one drillbook writes into.
    #[error("{}: {}", .path.display(), folder_words(.source))]
    Folder {
        path: PathBuf,
        source: crate::files::FileError,
    },
    #[error("{}: already exists; export does not overwrite", .0.display())]
    Exists(PathBuf),
    #[error("{}: cannot write: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A folder refusal in words: what it is, or why it could not be made.
fn folder_words(e: &crate::files::FileError) -> String {
    match e {
        crate::files::FileError::Io(e) => {
            format!(
                "cannot create or open the folder: {}",
                crate::files::io_words(e)
            )
        }
        crate::files::FileError::FolderExists => {
            "already exists; export does not overwrite, nor write into a session folder already \
             there (it may be someone else's, or a link): move it away or export elsewhere"
                .into()
        }
        other => format!("{other}; name a folder of your own to export into"),
    }
}

/// Write the bundled runbooks under `dir`, refusing to overwrite anything. Returns the paths written.
///
/// A runbook decides what an operator is told to do, so where it lands must be the user's alone:
/// `dir` must be the user's own folder (created 0700 if missing; a symlink only the user's own;
/// not writable by others unless sticky), reached through folders and links only the user or
/// root can change ([`crate::files::open_own_dir`]), the session folder is made in it fresh (0700), and
/// every file is created relative to that folder's descriptor, `O_EXCL|O_NOFOLLOW`, 0600. A
/// session folder already there (another user's, or a link one planted) is refused, never used.
pub fn export(dir: &Path) -> Result<Vec<PathBuf>, ExportError> {
    use std::io::Write;
    let top = crate::files::open_own_dir(dir).map_err(|source| ExportError::Folder {
        path: dir.to_owned(),
        source,
    })?;
    let session_dir = dir.join(BUNDLED_SESSION);
    let folder = crate::files::create_private_dir_at(&top, BUNDLED_SESSION).map_err(|source| {
        ExportError::Folder {
            path: session_dir.clone(),
            source,
        }
    })?;
    let mut written = Vec::new();
    for (name, text) in FILES {
        let file_name = name.rsplit_once('/').map_or(*name, |(_, f)| f);
        let path = session_dir.join(file_name);
        let write = |source| ExportError::Write {
            path: path.clone(),
            source,
        };
        let mut f = crate::files::create_new_private_at(&folder, file_name).map_err(|e| match e
            .kind()
        {
            std::io::ErrorKind::AlreadyExists => ExportError::Exists(path.clone()),
            _ => write(e),
        })?;
        f.write_all(text.as_bytes()).map_err(write)?;
        f.sync_all().map_err(write)?;
        written.push(path);
    }
    folder.sync_all().map_err(|e| ExportError::Write {
        path: session_dir.clone(),
        source: e,
    })?;
    Ok(written)
}
