//! Cheap checks on a file's text before any YAML parser sees it.
//!
//! The YAML scanners (libyaml inside serde_yaml, and yaml-rust2) look back over every open flow
//! collection for each token, so `[[[[...` a hundred thousand deep costs time quadratic in the
//! depth: minutes for a file well under the size limit. Nothing in a runbook nests more than a few
//! levels, so this pass finds flow nesting deeper than [`MAX_DEPTH`] in one linear scan and the
//! file is refused with the position of the bracket that went too deep.
//!
//! The scan is a YAML lexer reduced to what moves the flow depth: quoted scalars (which may span
//! lines), comments, block scalars (`|`, `>`) and plain text (a `[` inside a plain scalar in
//! block context does not open anything). It can only over-count in text no runbook contains.

/// The deepest flow nesting accepted (the positions index stops at the same depth).
pub const MAX_DEPTH: usize = 128;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

/// `Err((line, column))`, both 1-based, of the first `[` or `{` that nests deeper than [`MAX_DEPTH`].
pub fn check_depth(text: &str) -> Result<(), (usize, usize)> {
    let mut depth = 0usize;
    let mut quote = Quote::None;
    // The indentation of the line that opened a block scalar: lines indented more belong to it.
    let mut block_scalar: Option<usize> = None;
    for (n, line) in text.lines().enumerate() {
        let indent = line.bytes().take_while(|&b| b == b' ').count();
        if let Some(open) = block_scalar {
            if line.trim().is_empty() || indent > open {
                continue;
            }
            block_scalar = None;
        }
        // The last significant byte on this line and whether whitespace followed it:
        // a node starts after `: `, `- `, `? `, `,`, `[`, `{` or at the start of a line.
        let mut last: Option<u8> = None;
        let mut spaced = true;
        let mut escaped = false;
        for (col, b) in line.bytes().enumerate() {
            match quote {
                Quote::Double => {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        quote = Quote::None;
                        last = Some(b'"');
                        spaced = false;
                    }
                    continue;
                }
                // `''` inside a single-quoted scalar closes and reopens: the same state.
                Quote::Single => {
                    if b == b'\'' {
                        quote = Quote::None;
                        last = Some(b'\'');
                        spaced = false;
                    }
                    continue;
                }
                Quote::None => {}
            }
            if b == b' ' || b == b'\t' {
                spaced = true;
                continue;
            }
            let node_start = match last {
                None | Some(b',' | b'[' | b'{') => true,
                Some(b':' | b'-' | b'?') => spaced,
                _ => false,
            };
            match b {
                b'#' if spaced => break,
                b'"' if node_start => quote = Quote::Double,
                b'\'' if node_start => quote = Quote::Single,
                b'[' | b'{' if node_start || depth > 0 => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err((n + 1, col + 1));
                    }
                }
                b']' | b'}' if depth > 0 => depth -= 1,
                b'|' | b'>' if node_start && depth == 0 => {
                    block_scalar = Some(indent);
                    break;
                }
                _ => {}
            }
            last = Some(b);
            spaced = false;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_deep_flow_nesting_at_the_bracket_that_goes_too_deep() {
        let doc = format!("id: x\ntitle: {}{}\n", "[".repeat(200), "]".repeat(200));
        assert_eq!(check_depth(&doc), Err((2, 8 + MAX_DEPTH)));
        let doc = format!("a: {}\n", "{b: ".repeat(MAX_DEPTH + 1));
        assert!(check_depth(&doc).is_err());
    }

    #[test]
    fn brackets_in_text_do_not_count() {
        let many = |s: &str| s.repeat(MAX_DEPTH + 5);
        // Plain scalars, quoted scalars (across lines), comments and block scalars.
        for doc in [
            format!("title: see {}\n", many("[")),
            format!("title: \"{}\n  {}\"\n", many("["), many("{")),
            format!("title: '{}'' {}'\n", many("["), many("[")),
            format!("a: 1 # {}\n", many("[")),
            format!("detail: |\n  {}\n  {}\nnext: [1]\n", many("["), many("{")),
            format!("- >-\n    {}\n", many("[")),
        ] {
            assert_eq!(check_depth(&doc), Ok(()), "{doc}");
        }
    }

    #[test]
    fn ordinary_flow_collections_pass() {
        let doc = "lead_minutes: [15, 5]\nroles: [ep, ccep]\nx: {a: [1, {b: 2}]}\n";
        assert_eq!(check_depth(doc), Ok(()));
    }
}
