//! Validation problems: one line each, `file:line:column: message`, reported all at once.

use std::fmt;

/// One problem found in a runbook or session file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file as the user named it (or `bundled:...` for an embedded runbook).
    pub file: String,
    /// 1-based line and column; `None` when the problem has no single position.
    pub position: Option<(usize, usize)>,
    /// Plain-English message, no Rust types.
    pub message: String,
}

impl Problem {
    pub fn new(file: &str, position: Option<(usize, usize)>, message: impl fmt::Display) -> Self {
        Self {
            file: file.to_owned(),
            position,
            message: message.to_string(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A message may quote the input (a parser's does): excerpts cut, controls as stand-ins.
        let msg = crate::text::diagnostic(&self.message);
        match self.position {
            Some((l, c)) => write!(f, "{}:{l}:{c}: {msg}", self.file),
            None => write!(f, "{}: {msg}", self.file),
        }
    }
}

/// Every problem found in one load, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(&mut self, p: Problem) {
        self.0.push(p);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }
    /// `Ok(v)` when nothing was found, else these problems.
    pub fn into_result<T>(self, v: T) -> Result<T, Problems> {
        if self.0.is_empty() { Ok(v) } else { Err(self) }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

impl From<Problem> for Problems {
    fn from(p: Problem) -> Self {
        Problems(vec![p])
    }
}
