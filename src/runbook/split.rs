//! Parsing a large runbook on every core. The step lists under `phases:` are cut at step
//! boundaries into pieces that serde_yaml parses on separate threads, and the rest of the file
//! is parsed with the lists replaced by a placeholder; the parts are joined in file order.
//!
//! The answer is exactly the whole-file parse's, or nothing: the caller then parses the whole
//! file, so every error message and position comes from that one parse. Why the join is exact:
//! - A piece starts at a line that starts a step (`- ` at the list's indentation), and the piece
//!   before it parsed alone without error. Such a parse ends with no string, flow collection or
//!   other construct left open, so the whole-file parser also reads the cut line afresh, in block
//!   context: as the next step of the same list.
//! - A piece parsed alone fails if any of its tokens is less indented than its list (the list
//!   ends and a second top-level node follows), so a piece that parses never leaves its list,
//!   and the whole-file parser reads the same events from it.
//! - The lines no piece holds (the `phases:` line, the group names, blank lines and comments
//!   between them) are checked to be exactly that, in printable ASCII.
//! - The placeholder must come back as the only entry of `phases`, and the file must start
//!   with a top-level key: so the `phases:` line was a key of the top-level block mapping, not
//!   text inside a string.
//!
//! Anything else (a tab, an empty group, a list written inline, a line the scan does not
//! expect) leaves the file to the whole-file parse. `tests` compares the two on mutated files.

use super::raw::{Ordered, RawRunbook, RawStep};
use std::num::NonZero;
use std::ops::Range;

/// Files smaller than this are parsed whole: starting threads would cost more than they save.
pub const MIN_BYTES: usize = 256 * 1024;

/// Stands in for the step lists when the rest of the file is parsed. A file that contains it
/// is never split, so it cannot be forged.
const PLACEHOLDER: &str = "(step lists parsed apart)";

/// The most threads one parse uses.
const MAX_PARTS: usize = 4;

/// A phase group: its name and the lines that start its steps.
struct Group<'a> {
    key: &'a str,
    /// Byte offsets of the lines that start a step.
    items: Vec<usize>,
    /// Where the group's last step ends: the next group's name, or the end of the lists.
    end: usize,
}

/// Where the step lists are in the text.
struct Layout<'a> {
    /// Start of the `phases:` line.
    phases_line: usize,
    /// Start of the first line after the lists (the text's length when they run to the end).
    lists_end: usize,
    groups: Vec<Group<'a>>,
}

/// One run of steps of one group, parsed by one thread.
struct Piece {
    group: usize,
    text: Range<usize>,
    part: usize,
}

/// The runbook in `text`, parsed on up to as many threads as there are cores; `None` when the
/// file is small, one core is all there is, or it is not laid out as [`layout`] expects.
pub fn parse(text: &str) -> Option<RawRunbook> {
    if text.len() < MIN_BYTES {
        return None;
    }
    let parts = std::thread::available_parallelism()
        .map_or(1, NonZero::get)
        .min(MAX_PARTS);
    if parts < 2 {
        return None;
    }
    parse_in(text, parts)
}

/// [`parse`] in `parts` parts, whatever the file's size.
fn parse_in(text: &str, parts: usize) -> Option<RawRunbook> {
    let layout = layout(text)?;
    let pieces = cut(&layout, parts);
    let header = format!(
        "{}phases: {{\"{PLACEHOLDER}\": []}}\n{}",
        &text[..layout.phases_line],
        &text[layout.lists_end..]
    );
    let (header, mut lists) = std::thread::scope(|s| {
        let mut workers = Vec::new();
        for part in 1..parts {
            let pieces = &pieces;
            let worker = std::thread::Builder::new()
                .name("runbook-parse".into())
                .spawn_scoped(s, move || parse_part(text, pieces, part));
            // Without a thread, the whole-file parse does the work.
            workers.push(worker.ok()?);
        }
        let header = serde_yaml::from_str::<RawRunbook>(&header).ok();
        let mut lists = vec![parse_part(text, &pieces, 0)];
        lists.extend(workers.into_iter().map(|w| w.join().ok().flatten()));
        Some((header, lists))
    })?;
    let mut raw = header?;
    match raw.phases.0.as_slice() {
        [(key, steps)] if key == PLACEHOLDER && steps.is_empty() => {}
        _ => return None,
    }
    let mut groups: Vec<(String, Vec<RawStep>)> = layout
        .groups
        .iter()
        .map(|g| (g.key.to_owned(), Vec::with_capacity(g.items.len())))
        .collect();
    let mut by_part: Vec<_> = lists
        .iter_mut()
        .map(|l| l.take().map(Vec::into_iter))
        .collect::<Option<_>>()?;
    for piece in &pieces {
        let steps = by_part[piece.part].next()?;
        groups[piece.group].1.extend(steps);
    }
    raw.phases = Ordered(groups);
    Some(raw)
}

/// The pieces of one part, each parsed alone, in order; `None` at the first that fails.
fn parse_part(text: &str, pieces: &[Piece], part: usize) -> Option<Vec<Vec<RawStep>>> {
    pieces
        .iter()
        .filter(|p| p.part == part)
        .map(|p| serde_yaml::from_str::<Vec<RawStep>>(&text[p.text.clone()]).ok())
        .collect()
}

/// Pieces of about equal size, cut only at step lines, in file order.
fn cut(layout: &Layout, parts: usize) -> Vec<Piece> {
    let total: usize = layout.groups.iter().map(|g| g.end - g.items[0]).sum();
    let mut pieces = Vec::with_capacity(layout.groups.len() + parts);
    let mut before = 0;
    for (g, group) in layout.groups.iter().enumerate() {
        let base = group.items[0];
        let part_at = |item: usize| ((before + item - base) * parts / total.max(1)).min(parts - 1);
        let (mut start, mut part) = (base, part_at(base));
        for &item in &group.items[1..] {
            let p = part_at(item);
            if p != part {
                pieces.push(Piece {
                    group: g,
                    text: start..item,
                    part,
                });
                (start, part) = (item, p);
            }
        }
        pieces.push(Piece {
            group: g,
            text: start..group.end,
            part,
        });
        before += group.end - base;
    }
    pieces
}

/// Lines with the byte offset where each starts, without the `\n`.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n').map(move |l| {
        let start = at;
        at += l.len();
        (start, l.strip_suffix('\n').unwrap_or(l))
    })
}

/// Leading spaces, and the rest of the line.
fn indent(line: &str) -> (usize, &str) {
    let rest = line.trim_start_matches(' ');
    (line.len() - rest.len(), rest)
}

/// Blank or a comment (the rest after the indentation is empty or starts with `#`).
fn is_gap(rest: &str) -> bool {
    rest.is_empty() || rest.starts_with('#')
}

/// Printable ASCII only: no tab, carriage return or Unicode line break that YAML reads
/// differently from a plain `\n`-split line.
fn is_plain_ascii(line: &str) -> bool {
    line.bytes().all(|b| (b' '..=b'~').contains(&b))
}

/// `name:` (trailing spaces allowed), with a name that is read the same as a YAML key and as text.
fn group_key(rest: &str) -> Option<&str> {
    let key = rest.trim_end_matches(' ').strip_suffix(':')?;
    let first = key.bytes().next()?;
    (first.is_ascii_lowercase()
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && !matches!(key, "true" | "false" | "null"))
    .then_some(key)
}

/// A step line: `-` then a space or the end of the line.
fn is_item(rest: &str) -> bool {
    rest == "-" || rest.starts_with("- ")
}

/// Where the step lists are, if the file is laid out as the bundled runbooks are:
///
/// ```yaml
/// id: ...            # the file starts with a top-level key
/// phases:
///   primary:         # a group name at one indentation, on its own line
///     - id: ...      # its steps, at one indentation (the group's or deeper)
///       ...
/// trailing: ...      # optional top-level keys after the lists
/// ```
fn layout(text: &str) -> Option<Layout<'_>> {
    if text.contains(PLACEHOLDER) {
        return None;
    }
    let mut lines = lines(text);
    // The first key at the top level: the document is a block mapping.
    let (_, first) = lines.by_ref().find(|(_, l)| !is_gap(indent(l).1))?;
    if !first.starts_with(|c: char| c.is_ascii_lowercase()) || first.starts_with("phases:") {
        return None;
    }
    let (phases_line, _) = lines.find(|(_, l)| l.trim_end_matches(' ') == "phases:")?;
    let mut groups: Vec<Group> = Vec::new();
    // The groups' indentation, and the current group's step indentation once seen.
    let mut key_indent = None;
    let mut item_indent = None;
    for (at, line) in lines {
        let (n, rest) = indent(line);
        let in_steps = item_indent.is_some();
        if is_gap(rest) {
            // Between a group name and its first step no piece holds the line: it must be
            // read as nothing by the whole-file parser too.
            if !in_steps && !is_plain_ascii(line) {
                return None;
            }
            continue;
        }
        if n == 0 {
            // The next top-level key: the lists end (the last group must have steps).
            if !in_steps {
                return None;
            }
            groups.last_mut()?.end = at;
            return Some(Layout {
                phases_line,
                lists_end: at,
                groups,
            });
        }
        let k = *key_indent.get_or_insert(n);
        let step_line = is_item(rest)
            && match item_indent {
                None => !groups.is_empty() && n >= k,
                Some(j) => n == j,
            };
        if step_line {
            item_indent.get_or_insert(n);
            groups.last_mut()?.items.push(at);
        } else if n == k {
            // A group name, first or after the previous group's steps.
            if !is_plain_ascii(line) || (!groups.is_empty() && !in_steps) {
                return None;
            }
            let key = group_key(rest)?;
            if let Some(prev) = groups.last_mut() {
                prev.end = at;
            }
            groups.push(Group {
                key,
                items: Vec::new(),
                end: text.len(),
            });
            item_indent = None;
        } else if item_indent.is_none_or(|j| n <= j) {
            // Less indented than the steps but not a group name: left to the whole parse.
            // (More indented lines are inside a step: the piece's own parse decides.)
            return None;
        }
    }
    // The lists run to the end of the file (the last group must have steps).
    item_indent?;
    Some(Layout {
        phases_line,
        lists_end: text.len(),
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(text: &str) -> Option<String> {
        serde_yaml::from_str::<RawRunbook>(text)
            .ok()
            .map(|r| format!("{r:?}"))
    }

    /// A split parse is either the whole-file parse, or refused.
    fn agrees(text: &str, parts: usize) -> bool {
        match parse_in(text, parts) {
            None => true,
            Some(r) => whole(text) == Some(format!("{r:?}")),
        }
    }

    const HEAD: &str = "format: 1\nid: t\nrole: ep\ntitle: T\nsession: session.yaml\n";

    fn step(n: usize, indent: &str) -> String {
        format!(
            "{indent}- id: s{n}\n{indent}  title: Step {n}, with commas and a:colon\n{indent}  detail: |\n{indent}    line one\n{indent}      - not a step\n{indent}  evidence: [a, b]\n"
        )
    }

    fn runbook(groups: &[(&str, usize)], key: &str, item: &str) -> String {
        let mut t = format!("{HEAD}phases:\n");
        let mut n = 0;
        for (g, count) in groups {
            t.extend([key, g, ":\n"]);
            for _ in 0..*count {
                n += 1;
                t.push_str(&step(n, item));
            }
        }
        t
    }

    #[test]
    fn a_split_parse_is_the_whole_parse() {
        for (key, item) in [("  ", "    "), ("  ", "  "), ("    ", "      ")] {
            let text = runbook(&[("pre", 7), ("primary", 1), ("backup", 12)], key, item);
            for parts in 2..=4 {
                let split = parse_in(&text, parts).expect("laid out for splitting");
                assert_eq!(Some(format!("{split:?}")), whole(&text), "{parts} parts");
                assert_eq!(split.phases.0.len(), 3);
                assert_eq!(split.phases.0[2].1.len(), 12);
            }
            // Top-level keys after the lists, comments and blank lines between.
            let text = text.replace("session: session.yaml\n", "").replace(
                &format!("{key}primary:\n"),
                &format!("\n{key}# primary\n\n{key}primary:\n  # its steps\n"),
            ) + "# the end\nsession: session.yaml\n";
            let split = parse_in(&text, 2).expect("laid out for splitting");
            assert_eq!(Some(format!("{split:?}")), whole(&text));
        }
    }

    #[test]
    fn the_bundled_runbooks_split_exactly() {
        let dir = tempfile::tempdir().unwrap();
        super::super::export_bundled(dir.path()).unwrap();
        let folder = dir.path().join(super::super::BUNDLED_SESSION);
        let mut split = 0;
        for entry in std::fs::read_dir(folder).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            if !text.contains("\nsession:") {
                continue;
            }
            let parsed = parse_in(&text, 3).expect("a bundled runbook is laid out for splitting");
            assert_eq!(Some(format!("{parsed:?}")), whole(&text));
            split += 1;
        }
        assert_eq!(split, 4);
    }

    #[test]
    fn what_the_scan_cannot_vouch_for_goes_to_the_whole_parse() {
        let base = runbook(&[("pre", 3), ("backup", 3)], "  ", "    ");
        assert!(parse_in(&base, 2).is_some());
        for text in [
            // The placeholder itself, forged.
            base.replace("title: T", &format!("title: \"{PLACEHOLDER}\"")),
            // A tab, or a carriage return, in a line no piece holds.
            base.replace("  backup:\n", "  backup:\n\t\n"),
            base.replace("  backup:\n", "  backup:\r\n"),
            // An empty group, a group written inline, a value after a group name.
            base.replace("  backup:\n", "  empty:\n  backup:\n"),
            base.replace("  backup:\n", "  inline: []\n  backup:\n"),
            // A group name that YAML reads as something other than text.
            base.replace("  backup:\n", "  null:\n"),
            // The file starts with the lists, or inside a flow mapping.
            base.replace(HEAD, "") + HEAD,
            format!("{{\n{}\n}}\n", base.replace(HEAD, "")),
            // A line less indented than the steps that is not a group name.
            base.replace("  backup:\n", "   odd: 1\n  backup:\n"),
        ] {
            assert!(parse_in(&text, 2).is_none(), "split:\n{text}");
        }
    }

    #[test]
    fn phases_inside_a_string_is_not_taken_for_the_lists() {
        // `phases:` swallowed by a string opened before it and closed after the lists, with
        // an empty `phases` key elsewhere: the whole-file parse has no steps at all.
        let lists = runbook(&[("pre", 2)], "  ", "    ").replace(HEAD, "");
        let head = HEAD.replace("title: T\n", "");
        let text = format!("{head}\"phases\": {{}}\ntitle: 'x\n{lists}'\n");
        let whole = serde_yaml::from_str::<RawRunbook>(&text).expect("valid YAML");
        assert!(whole.phases.0.is_empty());
        assert!(parse_in(&text, 2).is_none());
        // Inside a flow mapping that is itself `phases`.
        let text = format!("{head}title: T\n\"phases\": {{x: [],\n{lists}}}\n");
        assert!(agrees(&text, 2));
    }

    /// A small deterministic generator (xorshift), so failures reproduce.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 33) as usize
        }
    }

    #[test]
    fn mutated_runbooks_split_exactly_or_not_at_all() {
        // Steps indented under their group, and compact (at the group's indentation).
        let bases = [("  ", "    "), ("  ", "  ")].map(|(key, item)| {
            runbook(&[("pre", 4), ("primary", 5), ("backup", 4)], key, item)
                .replace("session: session.yaml\n", "")
                + "session: session.yaml\n"
        });
        let snippets = [
            "\"",
            "'",
            "[",
            "]",
            "{",
            "}",
            "|",
            ">-",
            "#",
            "\n",
            "- ",
            ": ",
            "&a ",
            "*a",
            "---\n",
            "  ",
            "\n  ",
            "\n    - ",
            "\n  g:\n",
            "\nx:\n",
            "\t",
            "\r\n",
            "\u{85}",
            "? ",
            "!!str ",
            "\n  null:\n",
            "\n      ",
            "...\n",
        ];
        // `SPLIT_FUZZ_CASES` and `SPLIT_FUZZ_SEED` run more, or other, cases.
        let env = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let mut rng = Rng(env("SPLIT_FUZZ_SEED", 0x9e37_79b9_7f4a_7c15) | 1);
        let (mut split, mut cases) = (0, 0);
        for _ in 0..env("SPLIT_FUZZ_CASES", 3000) {
            let mut text = bases[rng.next() % bases.len()].clone();
            for _ in 0..=rng.next() % 3 {
                let mut at = rng.next() % text.len();
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                // Half at the start of a line, where YAML's structure is decided.
                if rng.next().is_multiple_of(2) {
                    at = text[..at].rfind('\n').map_or(0, |i| i + 1);
                }
                text.insert_str(at, snippets[rng.next() % snippets.len()]);
            }
            cases += 1;
            let parts = 2 + rng.next() % 3;
            if let Some(r) = parse_in(&text, parts) {
                split += 1;
                assert_eq!(
                    Some(format!("{r:?}")),
                    whole(&text),
                    "{parts} parts:\n{text}"
                );
            }
        }
        // The comparison means something only if many mutants took the split path.
        assert!(split > cases / 20, "only {split} of {cases} were split");
    }
}
