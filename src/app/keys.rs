//! The key table: one list, read by the footer (the keys that matter now) and the help overlay
//! (every key), so the two can never disagree.

/// Where a key applies, for the footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    /// The step list has the focus.
    Steps,
    /// The detail pane has the focus.
    Detail,
    /// Anywhere in the normal view.
    Both,
    /// While a search is set (`/`): its keys come first.
    Search,
    /// Typing a note, reason, value, time or search.
    Input,
    /// Choosing an evidence field.
    Pick,
    /// A yes/no question (quit, undo, a doubtful confirmation).
    Ask,
    /// Only in a rehearsal: steering the clock.
    Rehearsal,
}

/// One row of the key table.
#[derive(Debug, Clone, Copy)]
pub struct KeyHelp {
    /// As shown: `Space`, `j/k`, `Tab`.
    pub keys: &'static str,
    /// Short, for the footer.
    pub short: &'static str,
    /// Long, for the help overlay (fits its column at 80x24).
    pub long: &'static str,
    pub ctx: Ctx,
    /// Shown in the footer (the rest are in help only).
    pub footer: bool,
    /// Records something: disabled in `watch`.
    pub records: bool,
}

const fn k(
    keys: &'static str,
    short: &'static str,
    long: &'static str,
    ctx: Ctx,
    footer: bool,
    records: bool,
) -> KeyHelp {
    KeyHelp {
        keys,
        short,
        long,
        ctx,
        footer,
        records,
    }
}

/// Every key, in the order help lists them.
pub const KEYS: &[KeyHelp] = &[
    k(
        "Space",
        "done",
        "done (says so if it was)",
        // Either pane: in the detail pane it records on the step shown, so the footer says so.
        Ctx::Both,
        true,
        true,
    ),
    k(
        "f",
        "failed",
        "failed (note required)",
        Ctx::Steps,
        true,
        true,
    ),
    k(
        "s",
        "skip",
        "skipped (reason required)",
        Ctx::Steps,
        true,
        true,
    ),
    k(
        "a/x",
        "n/a",
        "n/a (reason required)",
        Ctx::Steps,
        false,
        true,
    ),
    k("d", "defer", "deferred", Ctx::Steps, false, true),
    k(
        "c",
        "confirm",
        "confirm boundary, HH:MM[:SS]",
        Ctx::Both,
        true,
        true,
    ),
    k(
        "n",
        "note",
        "note on step (!: issue)",
        Ctx::Both,
        true,
        true,
    ),
    k(
        "N",
        "session note",
        "note on the session",
        Ctx::Both,
        false,
        true,
    ),
    k(
        "e",
        "evidence",
        "record an evidence value",
        Ctx::Both,
        true,
        true,
    ),
    k(
        "u",
        "undo",
        "undo last action (asks)",
        Ctx::Both,
        true,
        true,
    ),
    k("U", "redo", "redo what u undid", Ctx::Both, false, true),
    k(
        "r",
        "check",
        "run the step's check now",
        Ctx::Both,
        false,
        true,
    ),
    k(
        "y",
        "copy",
        "copy command (OSC 52)",
        Ctx::Both,
        false,
        false,
    ),
    k(
        "o",
        "open items",
        "open items, every phase",
        Ctx::Both,
        true,
        false,
    ),
    k(
        "O",
        "next overdue",
        "jump to next overdue step",
        Ctx::Both,
        false,
        false,
    ),
    k(
        "z",
        "carried",
        "show / fold carried steps",
        Ctx::Both,
        false,
        false,
    ),
    k(
        "/",
        "search",
        "search title, id, detail",
        Ctx::Both,
        true,
        false,
    ),
    k(
        "n/N",
        "match",
        "(search) next/prev match",
        Ctx::Search,
        true,
        false,
    ),
    // One row for both filters: the help fits 80x24 in two columns.
    k(
        "R/F",
        "filter",
        "filter by role / by state",
        Ctx::Both,
        false,
        false,
    ),
    // g/G with j/k: the help fits 80x24 in two columns with `z` in it.
    k(
        "j/k g/G",
        "move",
        "move, first/last; or scroll",
        Ctx::Both,
        false,
        false,
    ),
    k(
        "PgUp/PgDn",
        "scroll",
        "scroll the detail pane",
        Ctx::Both,
        false,
        false,
    ),
    k(
        "Enter",
        "pane",
        "list / detail pane",
        Ctx::Both,
        false,
        false,
    ),
    k(
        "Tab ]",
        "phase",
        "next phase's steps",
        Ctx::Both,
        true,
        false,
    ),
    k(
        "S-Tab [",
        "prev phase",
        "previous phase's steps",
        Ctx::Both,
        false,
        false,
    ),
    k(
        "t",
        "now",
        "back to the current phase",
        Ctx::Both,
        false,
        false,
    ),
    k(
        "b",
        "dismiss",
        "dismiss banner / notice",
        Ctx::Both,
        false,
        false,
    ),
    k("H", "handover", "handover text", Ctx::Both, false, false),
    k(
        "L",
        "log",
        "latest journal entries",
        Ctx::Both,
        false,
        false,
    ),
    k(
        "p",
        "pause",
        "rehearsal: pause/resume",
        Ctx::Rehearsal,
        true,
        false,
    ),
    k(
        "+/-",
        "speed",
        "rehearsal: faster/slower",
        Ctx::Rehearsal,
        true,
        false,
    ),
    k(
        ">",
        "jump",
        "rehearsal: to next boundary",
        Ctx::Rehearsal,
        true,
        false,
    ),
    k("?", "help", "this help", Ctx::Both, true, false),
    k(
        "q",
        "quit",
        "quit (asks in live session)",
        Ctx::Both,
        true,
        false,
    ),
    k(
        "Esc",
        "end search",
        "end search; (typing) cancel",
        Ctx::Search,
        true,
        false,
    ),
    k(
        "Enter",
        "ok",
        "(typing) record; (search) go",
        Ctx::Input,
        true,
        false,
    ),
    k(
        "Esc",
        "cancel",
        "(typing) cancel: no record",
        Ctx::Input,
        true,
        false,
    ),
    k(
        "←/→ Home",
        "move",
        "(typing) move in the text",
        Ctx::Input,
        true,
        false,
    ),
    k(
        "C-w C-u",
        "delete",
        "(typing) delete word / line",
        Ctx::Input,
        false,
        false,
    ),
    k(
        "C-c",
        "quit",
        "(typing) quit, asks first",
        Ctx::Input,
        false,
        false,
    ),
    k(
        "↑/↓ Tab",
        "choose",
        "(fields) pick; type to fill",
        Ctx::Pick,
        true,
        false,
    ),
    k("Esc", "close", "(fields) close", Ctx::Pick, true, false),
    k(
        "y",
        "yes",
        "(question) yes; other: no",
        Ctx::Ask,
        true,
        false,
    ),
];

/// The footer's keys for a context; in a rehearsal the clock keys come first, since steering the
/// clock is what a rehearsal is for (not in `watch`, where they do nothing); while a search is
/// set, its keys come before those.
pub fn footer(
    ctx: Ctx,
    read_only: bool,
    rehearsal: bool,
    searching: bool,
) -> impl Iterator<Item = &'static KeyHelp> {
    let normal = matches!(ctx, Ctx::Steps | Ctx::Detail);
    let search = KEYS
        .iter()
        .filter(move |k| searching && normal && k.ctx == Ctx::Search);
    // `watch` cannot steer the clock (it is steered where the rehearsal runs): no clock keys.
    let clock = KEYS
        .iter()
        .filter(move |k| rehearsal && !read_only && normal && k.ctx == Ctx::Rehearsal);
    let rest = KEYS.iter().filter(move |k| {
        k.footer
            && !(read_only && k.records)
            && !(searching && k.keys == "n")
            && (k.ctx == ctx || (k.ctx == Ctx::Both && normal))
    });
    search.chain(clock).chain(rest)
}

/// Every key with its long text, as help lists them: the key table.
pub fn help_rows() -> impl Iterator<Item = (&'static str, &'static str)> {
    KEYS.iter().map(|k| (k.keys, k.long))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Space records on the step shown in either pane, so both footers offer it (walk 3: the
    /// detail pane's footer left it out and a step was marked done by surprise); `watch`'s not.
    #[test]
    fn the_footer_offers_what_the_keys_do_in_each_pane() {
        let has = |ctx, read_only| footer(ctx, read_only, false, false).any(|k| k.keys == "Space");
        assert!(has(Ctx::Steps, false) && has(Ctx::Detail, false));
        assert!(!has(Ctx::Detail, true));
    }
}
