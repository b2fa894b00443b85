//! The site file: the firm's own values for the `${name}` references in the runbooks' checks
//! (gateway hosts and ports, multicast groups, log paths), and the example `runbooks export`
//! writes listing every name the runbooks use.
//!
//! ```yaml
//! site:
//!   ocg_primary_host: 10.1.2.3
//!   ocg_primary_port: 12345
//!   bss_log:                      # empty: checks that need it are "not configured"
//! ```
//!
//! `--site FILE`, else `$XDG_CONFIG_HOME/drillbook/site.yaml` (`~/.config/drillbook/site.yaml`).
//! No file at the default place is not an error: every value is then unset, and each check that
//! needs one says which to set. Read like every other file (a regular file, at most 1 MiB, the
//! same YAML guards); a problem is one line with its position.

use crate::runbook::{ExportError, Plan, Problem, Problems};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The most of a site file that is read: a few hundred names is a few KiB.
pub const MAX_BYTES: u64 = 1024 * 1024;

/// The values, and where they came from.
#[derive(Debug, Clone, Default)]
pub struct Site {
    /// The file read, or the default place looked at (None: no place to look, no HOME).
    pub path: Option<PathBuf>,
    /// Whether a file was there.
    pub found: bool,
    values: BTreeMap<String, String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    #[serde(default)]
    site: Option<serde_yaml::Mapping>,
}

impl Site {
    /// No values: every reference is unset.
    pub fn empty() -> Self {
        Self::default()
    }

    /// A site from values in memory (tests, the simulated run).
    pub fn from_values(values: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            path: None,
            found: true,
            values: values.into_iter().collect(),
        }
    }

    /// `$XDG_CONFIG_HOME/drillbook/site.yaml`, else `~/.config/drillbook/site.yaml`.
    pub fn default_path() -> Option<PathBuf> {
        std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
            .map(|d| d.join("drillbook").join("site.yaml"))
    }

    /// Read `given`, else the default place (where a missing file means no values).
    pub fn load(given: Option<&Path>) -> Result<Self, Problems> {
        let (path, required) = match given {
            Some(p) => (Some(p.to_path_buf()), true),
            None => (Self::default_path(), false),
        };
        let Some(path) = path else {
            return Ok(Self::empty());
        };
        let display = path.display().to_string();
        let bytes = match crate::files::read_capped(&path, MAX_BYTES) {
            Ok(b) => b,
            Err(e) if e.is_not_found() && !required => {
                return Ok(Self {
                    path: Some(path),
                    found: false,
                    values: BTreeMap::new(),
                });
            }
            Err(e) => return Err(Problem::new(&display, None, e.to_string()).into()),
        };
        let text = String::from_utf8(bytes).map_err(|e| {
            Problem::new(
                &display,
                None,
                format!(
                    "is not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            )
        })?;
        let values = parse(&display, &text)?;
        Ok(Self {
            path: Some(path),
            found: true,
            values,
        })
    }

    /// A set value; an empty one counts as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// The values that are never shown or journaled: those named like a credential (`pw`,
    /// `ocg_password`, `api_token`) and those that look like one themselves. Longest first, so
    /// that [`Site::scrub`] replaces a value before any shorter one inside it.
    pub fn secrets(&self) -> Vec<(&str, &str)> {
        let mut out: Vec<(&str, &str)> = self
            .values
            .iter()
            .filter(|(n, v)| {
                !v.trim().is_empty() && (named_secret(n) || crate::text::looks_like_secret(v))
            })
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        out.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
        out
    }

    /// `text` with every secret value ([`Site::secrets`]) replaced by its name, `${name}`: what
    /// a command printed of the password it was given is recorded as `${pw}`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (name, value) in self.secrets() {
            if out.contains(value) {
                out = out.replace(value, &format!("${{{name}}}"));
            }
        }
        out
    }

    /// How a message names the file: `the site file (/home/a/.config/drillbook/site.yaml)`, or
    /// says there is none.
    pub fn describe(&self) -> String {
        match (&self.path, self.found) {
            (Some(p), true) => format!("the site file ({})", p.display()),
            (Some(p), false) => format!(
                "the site file (none yet at {}; or --site FILE)",
                p.display()
            ),
            (None, _) => "the site file (--site FILE)".into(),
        }
    }
}

/// Parse a site file's text: `site:` mapping names to text or numbers (empty: unset).
pub fn parse(display: &str, text: &str) -> Result<BTreeMap<String, String>, Problems> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    crate::runbook::yaml_guard(display, text)?;
    let raw: RawSite = crate::runbook::from_yaml(text).map_err(|e| {
        let msg = e.to_string();
        let msg = msg
            .find(" at line ")
            .map_or(msg.as_str(), |i| &msg[..i])
            .replace(
                "struct RawSite",
                "a site file (one key, `site:`, holding the values)",
            );
        Problem::new(display, e.location().map(|l| (l.line(), l.column())), msg)
    })?;
    let mut problems = Problems::default();
    let mut positions: Option<crate::runbook::position::Positions> = None;
    let mut at = |key: &str, on_key: bool, msg: String, problems: &mut Problems| {
        let p = positions.get_or_insert_with(|| crate::runbook::position::Positions::index(text));
        let path = format!("site.{key}");
        let pos = if on_key { p.key(&path) } else { p.value(&path) };
        problems.push(Problem::new(display, pos, msg));
    };
    let mut out = BTreeMap::new();
    for (k, v) in raw.site.unwrap_or_default() {
        let Some(name) = k.as_str() else {
            problems.push(Problem::new(
                display,
                None,
                "a site value's name is text, such as `ocg_backup_host`",
            ));
            continue;
        };
        if !crate::check::spec::is_site_name(name) {
            at(
                name,
                true,
                format!(
                    "`{name}` is not a site value name: lower-case letters, digits and underscores, starting with a letter"
                ),
                &mut problems,
            );
            continue;
        }
        let value = match v {
            serde_yaml::Value::Null => String::new(),
            serde_yaml::Value::String(s) => s,
            serde_yaml::Value::Number(n) => n.to_string(),
            _ => {
                at(
                    name,
                    false,
                    format!("`{name}`: a site value is text or a number (quote it if in doubt)"),
                    &mut problems,
                );
                continue;
            }
        };
        out.insert(name.to_owned(), value);
    }
    problems.into_result(out)
}

/// Whether a site value's name says it holds a credential: it contains a long word for one, or
/// one of its words (split at `_`, `-`, `.`, digits at the end dropped) is a short one.
fn named_secret(name: &str) -> bool {
    const WORDS: [&str; 18] = [
        "password",
        "passwd",
        "pass",
        "passcode",
        "passphrase",
        "pwd",
        "pw",
        "pin",
        "secret",
        "token",
        "key",
        "apikey",
        "credential",
        "credentials",
        "cred",
        "creds",
        "auth",
        "bearer",
    ];
    // Long words anywhere in the name (`ocgpassword`, `logon_secret2x`, `fixToken`); short ones
    // only as a word of it, at `_`, `-` or `.` (`pin` is not `spinning_host`, `key` not `keyboard`).
    const ANYWHERE: [&str; 7] = [
        "password",
        "passwd",
        "passphrase",
        "passcode",
        "secret",
        "token",
        "credential",
    ];
    let name = name.to_ascii_lowercase();
    ANYWHERE.iter().any(|w| name.contains(w))
        || name
            .split(['_', '-', '.'])
            .map(|w| w.trim_end_matches(|c: char| c.is_ascii_digit()))
            .any(|w| WORDS.contains(&w))
}

/// Whether a file is a site file (a top-level `site:` and no `session:`): `validate` on an
/// exported folder meets `site.example.yaml` beside the runbooks.
pub fn looks_like_site_file(text: &str) -> bool {
    text.lines().any(|l| l.starts_with("site:")) && !text.lines().any(|l| l.starts_with("session:"))
}

/// Every site name the plan's runbooks declare: (name, what it is, the steps whose checks use it).
pub fn names_used(plan: &Plan) -> Vec<(String, String, Vec<String>)> {
    let mut out: Vec<(String, String, Vec<String>)> = Vec::new();
    for r in &plan.runbooks {
        for (name, about) in &r.site {
            if !out.iter().any(|(n, _, _)| n == name) {
                out.push((name.clone(), about.clone(), Vec::new()));
            }
        }
    }
    for s in &plan.steps {
        let Some(c) = &s.check else { continue };
        for n in c.site_names() {
            if let Some((_, _, steps)) = out.iter_mut().find(|(x, _, _)| *x == n) {
                steps.push(s.id.clone());
            }
        }
    }
    out
}

/// `site.example.yaml`: every name the runbooks use, each with a comment saying what it is and
/// which steps use it, every value empty. Nothing is filled in: HKEX's addresses, ports and
/// groups are in the firm's own connectivity records, not in the notices, and none is invented.
pub fn example(plan: &Plan) -> String {
    let mut out = String::new();
    out.push_str(
        "# drillbook site file: the firm's own values for the ${name} references in the runbooks' checks.\n\
         # Copy it to ~/.config/drillbook/site.yaml (or pass --site FILE) and fill in what applies.\n\
         # Every value is empty here on purpose: the addresses, ports, groups and paths are the firm's\n\
         # own (from its connectivity records and host setup); the HKEX notices give none of them.\n\
         # A value left empty leaves the checks that need it \"not configured\": shown, never failed.\n\
         # Quote a regular expression with single quotes ('...'), so that YAML keeps its backslashes.\n\
         site:\n",
    );
    for (name, about, steps) in names_used(plan) {
        for line in crate::text::wrap_words(&crate::text::clean_line(&about), 96) {
            let _ = writeln!(out, "  # {line}");
        }
        if !steps.is_empty() {
            let _ = writeln!(out, "  # used by: {}", steps.join(", "));
        }
        let _ = writeln!(out, "  {name}:");
    }
    out
}

/// Write [`example`] to `path`, never over anything already there (as `runbooks export` writes).
pub fn write_example(path: &Path, plan: &Plan) -> Result<(), ExportError> {
    use std::io::Write;
    let write = |source| ExportError::Write {
        path: path.to_owned(),
        source,
    };
    let mut f = crate::files::create_new_private(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => ExportError::Exists(path.to_owned()),
        _ => write(e),
    })?;
    f.write_all(example(plan).as_bytes()).map_err(write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_text_or_numbers_and_empty_is_unset() {
        let v = parse(
            "s.yaml",
            "site:\n  host: 10.0.0.1\n  port: 443\n  log:\n  blank: \"\"\n",
        )
        .unwrap();
        assert_eq!(v["host"], "10.0.0.1");
        assert_eq!(v["port"], "443");
        let site = Site::from_values(v);
        assert_eq!(site.get("log"), None);
        assert_eq!(site.get("blank"), None);
        assert_eq!(site.get("port"), Some("443"));
    }

    #[test]
    fn secret_values_are_named_in_what_is_shown_and_others_are_kept() {
        let site = Site::from_values(
            [
                ("pw", "Hunter2!"),
                ("ocgpassword", "plainwords"),
                ("ocg_password2", "pa55"),
                ("api_token", "abcd1234XYZ"),
                ("conn", "user=t password=letmein9"),
                ("status_word", "READY"),
                ("ocg_primary_host", "10.0.0.1"),
            ]
            .map(|(n, v)| (n.to_owned(), v.to_owned())),
        );
        let names: Vec<&str> = site.secrets().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), 5, "{names:?}");
        assert!(!names.contains(&"status_word") && !names.contains(&"ocg_primary_host"));
        assert_eq!(
            site.scrub("--pass Hunter2! pa55 abcd1234XYZ READY 10.0.0.1"),
            "--pass ${pw} ${ocg_password2} ${api_token} READY 10.0.0.1"
        );
    }

    #[test]
    fn bad_names_and_values_are_positioned() {
        let err = parse("s.yaml", "site:\n  Host: x\n  ok: [1, 2]\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("s.yaml:2:3: `Host` is not a site value name"),
            "{text}"
        );
        assert!(
            text.contains("s.yaml:3:7: `ok`: a site value is text or a number"),
            "{text}"
        );
        let err = parse("s.yaml", "sites:\n  a: 1\n").unwrap_err().to_string();
        assert!(err.contains("unknown field `sites`"), "{err}");
    }
}
