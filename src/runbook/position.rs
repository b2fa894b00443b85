//! Source positions of YAML nodes by path, for problems found after deserialising.
//!
//! serde_yaml reports positions for syntax and type errors only. Semantic problems (a duplicate id,
//! an unknown phase, an impossible time) need the position of the offending value, so this module
//! walks yaml-rust2's event stream once, only when there is something to report, and records where
//! each node starts under a path like `phases[1].end` or `phases.primary[3].id`.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::guard::MAX_DEPTH;

/// Where each node (and each mapping key) starts.
#[derive(Debug, Default)]
pub struct Positions {
    values: HashMap<String, (usize, usize)>,
    keys: HashMap<String, (usize, usize)>,
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, next: usize },
}

#[derive(Default)]
struct Builder {
    out: Positions,
    stack: Vec<Frame>,
    too_deep: bool,
}

fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

impl Builder {
    /// The path of the node that starts now, or `None` when it is a mapping key.
    fn place(&mut self, scalar: Option<&str>, mark: Marker) -> Option<String> {
        let pos = (mark.line(), mark.col() + 1);
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                self.out.values.insert(p.clone(), pos);
                Some(p)
            }
            Some(Frame::Map { path, key }) => {
                if let Some(k) = key.take() {
                    let p = join_key(path, &k);
                    self.out.values.insert(p.clone(), pos);
                    Some(p)
                } else {
                    // A key: complex keys (mappings as keys) get an empty name.
                    let k = scalar.unwrap_or("").to_owned();
                    self.out.keys.insert(join_key(path, &k), pos);
                    *key = Some(k);
                    None
                }
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.too_deep {
            return;
        }
        match ev {
            Event::Scalar(v, ..) => {
                self.place(Some(&v), mark);
            }
            Event::Alias(_) => {
                self.place(None, mark);
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                let path = self.place(None, mark).unwrap_or_default();
                if self.stack.len() >= MAX_DEPTH {
                    self.too_deep = true;
                    return;
                }
                self.stack.push(if is_map {
                    Frame::Map { path, key: None }
                } else {
                    Frame::Seq { path, next: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

impl Positions {
    /// Index a document. A document that fails to parse yields what was read before the error.
    pub fn index(text: &str) -> Self {
        let mut b = Builder::default();
        let _ = Parser::new_from_str(text).load(&mut b, false);
        b.out
    }

    /// Where the value at `path` starts.
    pub fn value(&self, path: &str) -> Option<(usize, usize)> {
        self.values.get(path).copied()
    }

    /// Where the value at `path` starts, else where the nearest node enclosing it starts: a
    /// node repeated through an alias (`- *step`) has no positions inside it, so a problem in
    /// it is placed at the alias.
    pub fn value_or_enclosing(&self, path: &str) -> Option<(usize, usize)> {
        let mut p = path;
        loop {
            if let Some(v) = self.value(p) {
                return Some(v);
            }
            p = &p[..p.rfind(['.', '['])?];
        }
    }

    /// Where the key naming `path` starts, else where its value starts.
    pub fn key(&self, path: &str) -> Option<(usize, usize)> {
        self.keys.get(path).copied().or_else(|| self.value(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_values_and_keys() {
        let doc =
            "id: s\nphases:\n  - id: a\n    end: \"~11:00\"\nsteps:\n  primary:\n    - id: x\n";
        let p = Positions::index(doc);
        assert_eq!(p.value("id"), Some((1, 5)));
        assert_eq!(p.value("phases[0].end"), Some((4, 10)));
        assert_eq!(p.key("steps.primary"), Some((6, 3)));
        assert_eq!(p.value("steps.primary[0].id"), Some((7, 11)));
    }

    #[test]
    fn inside_an_alias_the_alias_is_the_position() {
        let doc = "a:\n  - &s {id: x}\n  - *s\n";
        let p = Positions::index(doc);
        assert_eq!(p.value("a[1].id"), None);
        assert_eq!(p.value_or_enclosing("a[1].id"), Some((3, 5)));
        assert_eq!(p.value_or_enclosing("a[0].id"), Some((2, 13)));
        assert_eq!(p.value_or_enclosing("b.c"), None);
    }
}
