//! Neutralising untrusted text (runbooks, journals, notes) before it reaches a terminal.
//!
//! Anything that could move the cursor, change colours, set the window title or reorder
//! text (C0/C1 controls, ESC, DEL, bidi overrides) is replaced by a visible stand-in, so
//! the operator sees that something odd was there instead of having the screen rewritten.

use std::borrow::Cow;

/// The visible stand-in for a neutralised character.
fn stand_in(c: char) -> Option<char> {
    match c {
        // C0 controls map onto the Unicode "control pictures" block (U+2400..), ESC shows as ␛.
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32),
        '\u{7f}' => Some('\u{2421}'),
        // C1 controls (CSI, OSC, DCS, ST as single bytes) and bidi overrides/isolates.
        '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => Some('\u{fffd}'),
        _ => None,
    }
}

fn clean_with(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let needs = |c: char| {
        if keep_newlines && (c == '\n' || c == '\t') {
            c == '\t'
        } else {
            stand_in(c).is_some()
        }
    };
    if !s.chars().any(needs) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\t' if keep_newlines => out.push_str("    "),
            _ => match stand_in(c) {
                Some(r) => out.push(r),
                None => out.push(c),
            },
        }
    }
    Cow::Owned(out)
}

/// One line of untrusted text: every control character, newlines included, is made visible.
pub fn clean_line(s: &str) -> Cow<'_, str> {
    clean_with(s, false)
}

/// A block of untrusted text: newlines are kept, tabs become spaces, every other control is made visible.
pub fn clean_block(s: &str) -> Cow<'_, str> {
    clean_with(s, true)
}

/// Text for a terminal notification payload: controls are dropped outright (not shown), because
/// the payload travels inside an escape sequence where even a stand-in could confuse a parser.
pub fn strip_controls(s: &str) -> String {
    s.chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .filter(|&c| stand_in(c).is_none() && c != ';')
        .collect()
}

/// Whether typed text looks like it carries a secret (`password: ...`, `token=...`, a PEM key).
/// The journal records that a credential was confirmed and by whom, never the credential: such
/// text is refused before it is written, since an append-only file cannot forget it later.
pub fn looks_like_secret(s: &str) -> bool {
    const WORDS: [&str; 8] = [
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "api key",
    ];
    let lower = s.to_lowercase();
    if lower.contains("-----begin") {
        return true;
    }
    WORDS.iter().any(|w| {
        lower.match_indices(w).any(|(i, _)| {
            let rest = lower[i + w.len()..].trim_start();
            // `password: x`, `token=x`, `password is x`; not "password confirmed by alice".
            let value = rest
                .strip_prefix(':')
                .or_else(|| rest.strip_prefix('='))
                .or_else(|| rest.strip_prefix("is "));
            value.is_some_and(|v| !v.trim().is_empty())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_made_visible() {
        let s = "ok\u{1b}[2J\u{1b}]0;owned\u{7}\u{9b}31m";
        let c = clean_line(s);
        assert!(!c.chars().any(char::is_control), "{c:?}");
        assert!(c.starts_with("ok\u{241b}[2J"));
    }

    #[test]
    fn clean_text_is_borrowed_and_blocks_keep_newlines() {
        assert!(matches!(clean_line("plain 08:00 HKT"), Cow::Borrowed(_)));
        assert_eq!(clean_block("a\n\tb\r"), "a\n    b\u{240d}");
        assert_eq!(clean_line("a\nb"), "a\u{240a}b");
    }

    #[test]
    fn notification_payload_loses_controls_and_separators() {
        assert_eq!(strip_controls("a;b\u{1b}\\c\u{7}\nd"), "ab\\c d");
    }

    #[test]
    fn secrets_are_recognised_and_confirmations_are_not() {
        for s in [
            "password: hunter2",
            "OCG PWD=abc123",
            "the token is 0xdeadbeef",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "API key: 42",
        ] {
            assert!(looks_like_secret(s), "{s}");
        }
        for s in [
            "credential confirmed by alice",
            "password works, confirmed with the vendor",
            "tokens of appreciation",
            "password:",
        ] {
            assert!(!looks_like_secret(s), "{s}");
        }
    }
}
