//! Markdown tables for an 80-column terminal (an operator over SSH reads `report` and `handover`
//! there): a table when every line of it fits, else the same cells as a list, the first cell as
//! the item and `header: cell` under it. Both are valid Markdown; no cell is dropped but empty ones.

use std::fmt::Write;
use unicode_width::UnicodeWidthStr;

/// The terminal width the output is written for.
pub const WIDTH: usize = 80;

/// Write `rows` under `head` as a table if every line fits [`WIDTH`], else as a list.
pub fn table(out: &mut String, head: &[&str], rows: &[Vec<String>]) {
    // A pipe would end the cell (the text is neutralised already: no newlines).
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let cells: Vec<String> = cells.map(|c| c.replace('|', "\\|")).collect();
        format!("| {} |", cells.join(" | "))
    };
    let mut lines = vec![
        line(&mut head.iter().copied()),
        format!("|{}", " --- |".repeat(head.len())),
    ];
    lines.extend(rows.iter().map(|r| line(&mut r.iter().map(String::as_str))));
    if lines.iter().all(|l| l.width() <= WIDTH) {
        for l in lines {
            let _ = writeln!(out, "{l}");
        }
        return;
    }
    for r in rows {
        let _ = writeln!(out, "- {}", r.first().map_or("", String::as_str));
        for (h, c) in head.iter().zip(r).skip(1) {
            if !c.is_empty() {
                let _ = writeln!(out, "  - {h}: {c}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_that_fits_stays_one_that_does_not_becomes_a_list() {
        let mut out = String::new();
        table(&mut out, &["A", "B"], &[vec!["x|y".into(), "1".into()]]);
        assert_eq!(out, "| A | B |\n| --- | --- |\n| x\\|y | 1 |\n");
        let mut out = String::new();
        let long = "w".repeat(80);
        table(
            &mut out,
            &["A", "B", "C"],
            &[vec!["x".into(), long.clone(), String::new()]],
        );
        assert_eq!(out, format!("- x\n  - B: {long}\n"));
    }
}
