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
    /// Typing a note, reason or value.
    Input,
    /// Choosing an evidence field.
    Pick,
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
    /// Long, for the help overlay.
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
        "mark the step done",
        Ctx::Steps,
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
    k("a/x", "n/a", "not applicable", Ctx::Steps, false, true),
    k("d", "defer", "deferred", Ctx::Steps, false, true),
    k(
        "c",
        "confirm",
        "confirm approximate boundary",
        Ctx::Both,
        true,
        true,
    ),
    k("n", "note", "note on the step", Ctx::Both, true, true),
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
    k("u", "undo", "undo the last action", Ctx::Both, true, true),
    k(
        "j/k ↑/↓",
        "move",
        "move, or scroll the detail",
        Ctx::Both,
        false,
        false,
    ),
    k(
        "g/G",
        "first/last",
        "first / last step",
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
        "switch list / detail pane",
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
        "dismiss the banner",
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
        "quit (run again to resume)",
        Ctx::Both,
        true,
        false,
    ),
    k(
        "Enter",
        "save",
        "(typing) record it",
        Ctx::Input,
        true,
        false,
    ),
    k(
        "Esc",
        "cancel",
        "(typing) cancel, record nothing",
        Ctx::Input,
        true,
        false,
    ),
    k(
        "Ctrl-C",
        "quit",
        "(typing) quit, asks first",
        Ctx::Input,
        true,
        false,
    ),
    k(
        "↑/↓ 1-9",
        "pick",
        "(field list) choose",
        Ctx::Pick,
        true,
        false,
    ),
    k(
        "Esc",
        "cancel",
        "(field list) close",
        Ctx::Pick,
        true,
        false,
    ),
];

/// The footer's keys for a context; in a rehearsal the clock keys come first, since steering the
/// clock is what a rehearsal is for.
pub fn footer(
    ctx: Ctx,
    read_only: bool,
    rehearsal: bool,
) -> impl Iterator<Item = &'static KeyHelp> {
    let normal = matches!(ctx, Ctx::Steps | Ctx::Detail);
    let clock = KEYS
        .iter()
        .filter(move |k| rehearsal && normal && k.ctx == Ctx::Rehearsal);
    let rest = KEYS.iter().filter(move |k| {
        k.footer && !(read_only && k.records) && (k.ctx == ctx || (k.ctx == Ctx::Both && normal))
    });
    clock.chain(rest)
}
