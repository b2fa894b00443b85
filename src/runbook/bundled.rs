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
    #[error("{}: cannot create folder: {source}", .path.display())]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: already exists; export does not overwrite", .0.display())]
    Exists(PathBuf),
    #[error("{}: cannot write: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Write the bundled runbooks under `dir`, refusing to overwrite anything. Returns the paths written.
pub fn export(dir: &Path) -> Result<Vec<PathBuf>, ExportError> {
    use std::io::Write;
    let mut written = Vec::new();
    for (name, text) in FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            crate::files::create_private_dir_all(parent).map_err(|source| ExportError::Folder {
                path: parent.to_owned(),
                source,
            })?;
        }
        // Never through a link and never over a file: `create_new` fails on anything there.
        let write = |source| ExportError::Write {
            path: path.clone(),
            source,
        };
        let mut f = crate::files::create_new_private(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => ExportError::Exists(path.clone()),
            _ => write(e),
        })?;
        f.write_all(text.as_bytes()).map_err(write)?;
        written.push(path);
    }
    Ok(written)
}
