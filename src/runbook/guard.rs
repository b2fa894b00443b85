//! Cheap checks on a file's text before any YAML parser sees it.
//!
//! The YAML scanner inside serde_yaml (libyaml) looks back over every open flow collection for
//! each token, so `[[[[...` costs time quadratic in the depth: 40,000 levels (80 KB) took 18 s
//! in a debug build, and a file near the size limit would take hours. Nothing in a runbook nests more than a few
//! levels, so this pass finds flow nesting deeper than [`MAX_DEPTH`] in one linear scan and the
//! file is refused with the position of the bracket that went too deep.
//!
//! The same pass refuses `- - - - x` stacked deeper than [`MAX_DEPTH`] on one line and documents
//! of more than [`MAX_NODES`] nodes, which would cost memory far beyond the file's size.
//!
//! The scan is a YAML lexer reduced to what moves the flow depth: quoted scalars (which may span
//! lines), comments, block scalars (`|`, `>`) and plain text (a `[` inside a plain scalar in
//! block context does not open anything). It can only over-count in text no runbook contains.

/// The deepest flow nesting accepted (the positions index stops at the same depth).
pub const MAX_DEPTH: usize = 128;

/// The most YAML nodes (scalars, keys, collections) accepted. serde_yaml holds every parse event
/// of a document in memory, about 130 bytes each, so a file of nothing but `a,a,a,...` would
/// cost over 60 times its size; this caps that near 130 MB. A 10,000-step runbook has about
/// 200,000 nodes.
pub const MAX_NODES: usize = 1_000_000;

/// Why a file is refused before parsing, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `[`/`{` nested, or `- ` entries stacked on one line, deeper than [`MAX_DEPTH`].
    TooDeep(usize, usize),
    /// More than [`MAX_NODES`] nodes, at the one that went over.
    TooManyNodes(usize, usize),
}

/// The bytes that can change the scan's state; every other byte is plain text.
static INDICATOR: [bool; 256] = {
    let mut t = [false; 256];
    let set = b" \t#\"'[]{},:-?|>";
    let mut i = 0;
    while i < set.len() {
        t[set[i] as usize] = true;
        i += 1;
    }
    t
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

/// `Err` with the 1-based line and column of the first `[`, `{` or `- ` that nests deeper than
/// [`MAX_DEPTH`], or of the node that goes over [`MAX_NODES`]. Node counting is an estimate from
/// the indicators (`- `, `key: `, `,`, `[`, `{`) that can only over-count plain text.
pub fn check(text: &str) -> Result<(), Refusal> {
    if within_bounds_quickly(text) {
        return Ok(());
    }
    let mut depth = 0usize;
    let mut nodes = 0usize;
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
        // `- - - x`: block sequences opened on one line, each one level deeper.
        let mut stacked = 0usize;
        let bytes = line.as_bytes();
        for (col, &b) in bytes.iter().enumerate() {
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
            // Most bytes are plain text: one table look-up, and on to the next.
            if !INDICATOR[usize::from(b)] {
                last = Some(b);
                spaced = false;
                continue;
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
            let spaced_after = bytes.get(col + 1).is_none_or(|&n| n == b' ' || n == b'\t');
            let counted = match b {
                b'[' | b'{' if node_start || depth > 0 => 2,
                b',' if depth > 0 => 1,
                b':' if spaced_after || depth > 0 => 2,
                b'-' | b'?' if node_start && depth == 0 && spaced_after => {
                    stacked += 1;
                    if stacked > MAX_DEPTH {
                        return Err(Refusal::TooDeep(n + 1, col + 1));
                    }
                    2
                }
                _ => 0,
            };
            nodes += counted;
            if nodes > MAX_NODES {
                return Err(Refusal::TooManyNodes(n + 1, col + 1));
            }
            match b {
                b'#' if spaced => break,
                b'"' if node_start => quote = Quote::Double,
                b'\'' if node_start => quote = Quote::Single,
                b'[' | b'{' if node_start || depth > 0 => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(Refusal::TooDeep(n + 1, col + 1));
                    }
                }
                b']' | b'}' if depth > 0 => depth -= 1,
                b'|' | b'>' if node_start && depth == 0 => {
                    block_scalar = Some(indent);
                    break;
                }
                _ => {}
            }
            // In block context a `[`, `{` or `,` inside plain text is text: it starts nothing.
            let text_only =
                depth == 0 && !node_start && matches!(b, b'[' | b'{') || depth == 0 && b == b',';
            last = Some(if text_only { b'a' } else { b });
            spaced = false;
        }
    }
    Ok(())
}

/// Bounds on what [`check`] counts, from byte counts alone: every `[`/`{` for the flow depth,
/// every indicator for the nodes, every `-`/`?` on a line for the stacked entries. When the
/// bounds are within the limits so is the exact count, and the slower lexing is skipped
/// (ordinary runbooks, however long, take this path).
fn within_bounds_quickly(text: &str) -> bool {
    let bytes = text.as_bytes();
    let brackets = count_any(bytes, [b'[', b'{']);
    let entries = count_any(bytes, [b'-', b'?']);
    let indicators = brackets + entries + count_any(bytes, [b':', b',']);
    // Only a line longer than the limit can hold more entries than the limit.
    let stacked_ok = entries <= MAX_DEPTH
        || text
            .lines()
            .filter(|line| line.len() > MAX_DEPTH)
            .all(|line| count_any(line.as_bytes(), [b'-', b'?']) <= MAX_DEPTH);
    brackets <= MAX_DEPTH && 2 * indicators <= MAX_NODES && stacked_ok
}

/// How many bytes of `s` are one of `set` (distinct bytes). Counted in runs of 255 into a `u8`
/// so that the compiler turns the loop into vector compares: several bytes a cycle.
fn count_any<const N: usize>(s: &[u8], set: [u8; N]) -> usize {
    s.chunks(255)
        .map(|run| {
            let mut n = 0u8;
            for &b in run {
                for t in set {
                    n += u8::from(b == t);
                }
            }
            usize::from(n)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_deep_flow_nesting_at_the_bracket_that_goes_too_deep() {
        let doc = format!("id: x\ntitle: {}{}\n", "[".repeat(200), "]".repeat(200));
        assert_eq!(check(&doc), Err(Refusal::TooDeep(2, 8 + MAX_DEPTH)));
        let doc = format!("a: {}\n", "{b: ".repeat(MAX_DEPTH + 1));
        assert!(matches!(check(&doc), Err(Refusal::TooDeep(1, _))));
        let doc = format!("a:\n  {}x\n", "- ".repeat(MAX_DEPTH + 1));
        assert_eq!(check(&doc), Err(Refusal::TooDeep(2, 3 + 2 * MAX_DEPTH)));
    }

    #[test]
    fn refuses_too_many_nodes_and_accepts_a_large_ordinary_list() {
        let flat = format!("a: [{}]\n", "x,".repeat(MAX_NODES));
        assert!(matches!(check(&flat), Err(Refusal::TooManyNodes(1, _))));
        let steps = "- id: s\n  title: t\n".repeat(10_000);
        assert_eq!(check(&steps), Ok(()));
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
            assert_eq!(check(&doc), Ok(()), "{doc}");
        }
    }

    #[test]
    fn the_quick_bound_never_passes_what_the_full_scan_refuses() {
        let deep = format!(
            "t: {}{}\n",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        let stacked = format!("a:\n  {}x\n", "- ".repeat(MAX_DEPTH + 1));
        let flat = format!("a: [{}]\n", "x,".repeat(MAX_NODES));
        for doc in [deep, stacked, flat] {
            assert!(!within_bounds_quickly(&doc));
            assert!(check(&doc).is_err());
        }
        // Many brackets, but shallow: the full scan decides, and passes it.
        let shallow = "e: [a, b]\n".repeat(MAX_DEPTH * 2);
        assert!(!within_bounds_quickly(&shallow));
        assert_eq!(check(&shallow), Ok(()));
    }

    #[test]
    fn ordinary_flow_collections_pass() {
        let doc = "lead_minutes: [15, 5]\nroles: [ep, ccep]\nx: {a: [1, {b: 2}]}\n";
        assert_eq!(check(doc), Ok(()));
    }
}
