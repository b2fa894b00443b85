//! `file`: a file exists (a regular file), was written after a time (the snapshot of this
//! phase, not last week's), and holds a line matching a pattern. Read in chunks on a blocking
//! thread, at most [`MAX_SCAN`] bytes, stopping at the deadline.

use super::Probed;
use crate::journal::CheckOutcome;
use chrono::{DateTime, Utc};
use regex::Regex;
use std::fmt::Write as _;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Instant;

/// The most of a file a pattern is looked for in.
pub const MAX_SCAN: u64 = 256 * 1024 * 1024;

/// Look at `path`. The detail says when others than its owner could have written it (and the
/// result is marked so: a pass then settles no step by itself).
pub fn probe(
    path: &Path,
    newer_than: Option<DateTime<Utc>>,
    pattern: Option<&Regex>,
    deadline: Instant,
    tz: chrono_tz::Tz,
) -> Probed {
    let mut exposed = None;
    let p = look(path, newer_than, pattern, deadline, tz, &mut exposed);
    p.exposed(exposed.as_deref())
}

/// [`probe`], with what [`super::exposure`] says of the file, once it is open, in `exposed`.
fn look(
    path: &Path,
    newer_than: Option<DateTime<Utc>>,
    pattern: Option<&Regex>,
    deadline: Instant,
    tz: chrono_tz::Tz,
    exposed: &mut Option<String>,
) -> Probed {
    let shown = path.display();
    let file = match crate::files::open_regular(path) {
        Ok(f) => f,
        Err(e) if e.is_not_found() => {
            return Probed::new(CheckOutcome::Fail, format!("no file at {shown}"));
        }
        Err(e) => return Probed::new(CheckOutcome::Error, format!("{shown} {e}")),
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => {
            return Probed::new(
                CheckOutcome::Error,
                format!("{shown}: {}", crate::files::io_words(&e)),
            );
        }
    };
    *exposed = super::exposure::others_could_write(path, &meta);
    let modified: Option<DateTime<Utc>> = meta.modified().ok().map(DateTime::<Utc>::from);
    let modified_words =
        modified.map_or_else(|| "unknown".to_owned(), |m| super::instant_words(m, tz));
    if let Some(t) = newer_than {
        match modified {
            Some(m) if m > t => {}
            _ => {
                return Probed::new(
                    CheckOutcome::Fail,
                    format!(
                        "{shown} was last written {modified_words}, not after {}",
                        super::instant_words(t, tz)
                    ),
                )
                .value("modified", modified_words);
            }
        }
    }
    let size = meta.len();
    let mut p = Probed::new(
        CheckOutcome::Pass,
        format!(
            "{shown}: {size} bytes, last written {modified_words}{}",
            newer_than.map_or_else(String::new, |t| format!(
                " (after {})",
                super::instant_words(t, tz)
            ))
        ),
    )
    .value("modified", modified_words.clone())
    .value("size", size.to_string());
    let Some(re) = pattern else { return p };
    // Lines in chunks; at most one line (capped) carried between chunks.
    let mut buf = vec![0u8; super::log::CHUNK];
    let mut carry: Vec<u8> = Vec::new();
    let mut offset = 0u64;
    let mut skipping = false;
    let check_line = |line: &[u8], p: &mut Probed| -> bool {
        let text = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line));
        let Some(caps) = re.captures(&text) else {
            return false;
        };
        let _ = write!(p.detail, "; matched: {}", super::excerpt(&text, 120));
        for name in re.capture_names().flatten() {
            if let Some(m) = caps.name(name) {
                p.values.push((name.to_owned(), m.as_str().to_owned()));
            }
        }
        true
    };
    loop {
        if Instant::now() >= deadline {
            return Probed::new(
                CheckOutcome::Timeout,
                format!(
                    "{shown}: searched {offset} bytes for `{}` before the timeout",
                    re.as_str()
                ),
            );
        }
        if offset >= MAX_SCAN {
            break;
        }
        let n = match file.read_at(&mut buf, offset) {
            Ok(n) => n,
            Err(e) => {
                return Probed::new(
                    CheckOutcome::Error,
                    format!("{shown}: {}", crate::files::io_words(&e)),
                );
            }
        };
        if n == 0 {
            // The last line may lack its newline: a file written whole is complete.
            if !carry.is_empty() && !skipping && check_line(&carry, &mut p) {
                return p;
            }
            break;
        }
        offset += n as u64;
        let chunk = &buf[..n];
        let newlines = chunk.split(|&b| b == b'\n').count() - 1;
        for (i, piece) in chunk.split(|&b| b == b'\n').enumerate() {
            let last = i == newlines;
            if last {
                if !skipping {
                    carry.extend_from_slice(piece);
                    if carry.len() > super::log::MAX_LINE {
                        carry.clear();
                        skipping = true;
                    }
                }
                break;
            }
            if skipping {
                skipping = false;
                continue;
            }
            let found = if carry.is_empty() {
                check_line(piece, &mut p)
            } else {
                carry.extend_from_slice(piece);
                let line = std::mem::take(&mut carry);
                check_line(&line, &mut p)
            };
            if found {
                return p;
            }
        }
    }
    Probed::new(
        CheckOutcome::Fail,
        format!(
            "{shown} ({size} bytes, last written {modified_words}) has no line matching `{}`{}",
            re.as_str(),
            if offset >= MAX_SCAN {
                " in its first 256 MiB"
            } else {
                ""
            }
        ),
    )
}
