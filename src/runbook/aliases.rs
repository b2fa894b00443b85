//! Alias expansion bounded by the text it repeats, checked on yaml-rust2's event stream before
//! serde_yaml sees a file that has anchors.
//!
//! serde_yaml's own alias limit counts references, not bytes: one anchored 1 MiB string referenced
//! 200 times validated as a runbook at 418 MiB resident, and a few thousand references exhaust
//! memory. This pass adds up what each alias would repeat and stops at the first one past
//! [`MAX_EXPANSION`]. Nesting depth is the text guard's job (`guard.rs`), which runs first.

use yaml_rust2::parser::{Event, Parser};

/// Aliases may repeat at most this much text in total (a runbook file is at most 16 MiB).
pub const MAX_EXPANSION: usize = 16 * 1024 * 1024;

/// A refusal: 1-based line and column, and what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Check `text`. Syntax errors are left to serde_yaml, which reports them in its own words.
pub fn check(text: &str) -> Result<(), Refused> {
    let mut parser = Parser::new_from_str(text);
    // The open collections: their anchor and the text they hold so far (aliases expanded).
    let mut open: Vec<(usize, usize)> = Vec::new();
    // The expanded size of each anchored node, by anchor id.
    let mut sizes: Vec<usize> = Vec::new();
    let mut expanded = 0usize;
    loop {
        let Ok((event, mark)) = parser.next_token() else {
            return Ok(());
        };
        let at = |message: String| Refused {
            line: mark.line(),
            column: mark.col() + 1,
            message,
        };
        let mut add = 0usize;
        match event {
            Event::StreamEnd => return Ok(()),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                open.push((anchor, 0));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some((anchor, size)) = open.pop() else {
                    continue;
                };
                remember(&mut sizes, anchor, size);
                add = size;
            }
            Event::Scalar(value, _, anchor, _) => {
                // At least one per node, so that aliases of empty values still count.
                add = value.len().max(1);
                remember(&mut sizes, anchor, add);
            }
            Event::Alias(anchor) => {
                add = sizes.get(anchor).copied().unwrap_or(0);
                expanded = expanded.saturating_add(add);
                if expanded > MAX_EXPANSION {
                    return Err(at(format!(
                        "YAML aliases here repeat more than {} MiB of text (an alias bomb?); write the content out",
                        MAX_EXPANSION / (1024 * 1024)
                    )));
                }
            }
            _ => {}
        }
        if let Some((_, size)) = open.last_mut() {
            *size = size.saturating_add(add);
        }
    }
}

fn remember(sizes: &mut Vec<usize>, anchor: usize, size: usize) {
    if anchor == 0 {
        return;
    }
    if sizes.len() <= anchor {
        sizes.resize(anchor + 1, 0);
    }
    sizes[anchor] = size;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn ordinary_runbooks_pass() {
        for f in ["session", "ep", "ccep", "hsn", "omd"] {
            let path = format!(
                "{}/runbooks/hkex-ps2-2023-11-25/{f}.yaml",
                env!("CARGO_MANIFEST_DIR")
            );
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(check(&text), Ok(()), "{path}");
        }
        // Anchors and a few aliases are fine.
        assert_eq!(check("a: &x [1, 2]\nb: *x\nc: *x\n"), Ok(()));
    }

    #[test]
    fn a_large_scalar_repeated_by_aliases_is_refused() {
        let big = "x".repeat(1 << 20);
        let refs = vec!["*b"; 17].join(", ");
        let text = format!("title: &b \"{big}\"\nevidence: [{refs}]\n");
        let e = check(&text).unwrap_err();
        assert_eq!(e.line, 2, "{e:?}");
        assert!(e.message.contains("alias bomb"), "{}", e.message);
        // Sixteen copies are within the limit.
        let refs = vec!["*b"; 16].join(", ");
        assert_eq!(
            check(&format!("title: &b \"{big}\"\nevidence: [{refs}]\n")),
            Ok(())
        );
    }

    #[test]
    fn nested_aliases_count_their_full_expansion() {
        let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 9].join(", ");
            let _ = writeln!(text, "a{i}: &a{i} [{refs}]");
        }
        let e = check(&text).unwrap_err();
        assert!(e.message.contains("alias bomb"), "{}", e.message);
    }
}
