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
        // C1 controls (CSI, OSC, DCS, ST as single bytes); bidi marks, embeddings, overrides and
        // isolates (ALM, LRM, RLM, LRE..RLO, LRI..PDI), which reorder what is shown; zero-width
        // and invisible characters (ZWSP, ZWNJ, ZWJ, word joiner, BOM, Mongolian vowel
        // separator), which hide text or leave stale cells; line and paragraph separators, which
        // some terminals break lines at; interlinear annotation marks.
        '\u{80}'..='\u{9f}'
        | '\u{061c}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}' => Some('\u{fffd}'),
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

/// Whether text looks like it carries a secret: a credential word followed by a value
/// (`password: x`, `PASSWORD：x` with a full-width colon, `pw=x`, `token is x`, `password
/// Hunter2`), a `user/password` pair after a login word (`login trader1/Hunter2!`), or a PEM key.
/// The journal records that a credential was confirmed and by whom, never the credential: such
/// text is refused where every write passes ([`crate::journal::Journal::append`]), since an
/// append-only file cannot forget it later. Ordinary runbook phrases ("password reset desk
/// called", "credential confirmed by alice") are not secrets: a bare word after the keyword is
/// taken as a value only when it looks like one (a digit or a symbol in it).
pub fn looks_like_secret(s: &str) -> bool {
    const WORDS: [&str; 13] = [
        "password",
        "passwd",
        "passcode",
        "passphrase",
        "pwd",
        "pw",
        "pin",
        "secret",
        "token",
        "apikey",
        "api key",
        "api_key",
        "private key",
    ];
    const LOGIN: [&str; 5] = ["login", "logon", "log in", "credentials", "creds"];
    // Full-width and other look-alike separators read as their ASCII forms.
    let lower: String = s
        .to_lowercase()
        .chars()
        .map(|c| match c {
            '\u{ff1a}' | '\u{fe55}' | '\u{a789}' => ':',
            '\u{ff1d}' => '=',
            c => c,
        })
        .collect();
    if lower.contains("-----begin") {
        return true;
    }
    let word_start = |i: usize| {
        lower[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric())
    };
    let word_end = |j: usize| {
        lower[j..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric())
    };
    let keyword_value = WORDS.iter().any(|w| {
        lower.match_indices(w).any(|(i, _)| {
            let end = i + w.len();
            // Plurals and suffixes ("passwords", "tokens") are words about secrets, not values.
            if !word_start(i) || !word_end(end) {
                return false;
            }
            let rest = lower[end..].trim_start();
            let sep = rest
                .strip_prefix(':')
                .or_else(|| rest.strip_prefix('='))
                .or_else(|| rest.strip_prefix("is "))
                .or_else(|| rest.strip_prefix("was "));
            match sep {
                Some(v) => !v.trim().is_empty(),
                // `password hunter2`: a bare next word counts when it looks like a value.
                None => first_word(rest).is_some_and(looks_like_value),
            }
        })
    });
    keyword_value
        || LOGIN.iter().any(|w| {
            lower.match_indices(w).any(|(i, _)| {
                word_start(i)
                    && lower[i + w.len()..].split_whitespace().take(3).any(|t| {
                        t.split_once('/').or_else(|| t.split_once(':')).is_some_and(
                            |(user, pass)| {
                                // A user name: letters, digits, `._-`, at least one letter
                                // (`time=11:03:12` and `08:01` are not user:password).
                                user.chars().any(char::is_alphabetic)
                                    && user
                                        .chars()
                                        .all(|c| c.is_alphanumeric() || "._-".contains(c))
                                    && looks_like_value(pass)
                            },
                        )
                    })
            })
        })
}

fn first_word(s: &str) -> Option<&str> {
    s.split_whitespace().next()
}

/// A token that reads as a password rather than an English word: it holds a digit, or a
/// symbol other than closing punctuation.
fn looks_like_value(t: &str) -> bool {
    let t = t.trim_end_matches(['.', ',', ';', ')']);
    t.chars().count() >= 3
        && t.chars()
            .any(|c| c.is_ascii_digit() || (!c.is_alphanumeric() && c != '-' && c != '\''))
}

/// Words into lines at most `width` terminal columns wide, a word wider than a line cut into
/// pieces; at least one line.
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut lines = wrap_pieces(text.split_whitespace(), width);
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// The one word-wrapper: `words` joined by single spaces into lines at most `width` terminal
/// columns wide; a word wider than a line is cut into pieces, so no text is lost and no line is
/// wider. An empty word keeps an extra space where the text had two (the journal log keeps a
/// note's spacing; [`wrap_words`] gives none).
pub fn wrap_pieces<'a>(words: impl IntoIterator<Item = &'a str>, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in words {
        let mut word = word.to_owned();
        loop {
            let need = if cur.is_empty() { 0 } else { cur.width() + 1 };
            if need + word.width() <= width {
                if !cur.is_empty() {
                    cur.push(' ');
                }
                cur.push_str(&word);
                break;
            }
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
                continue;
            }
            // A word wider than a whole line: cut it.
            let mut head = String::new();
            let mut rest = word.chars();
            for ch in rest.by_ref() {
                if (head.clone() + &ch.to_string()).width() > width {
                    let tail: String = std::iter::once(ch).chain(rest).collect();
                    lines.push(head);
                    word = tail;
                    head = String::new();
                    break;
                }
                head.push(ch);
            }
            if !head.is_empty() {
                cur = head;
                break;
            }
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Each line of `text` longer than `width` columns folded at spaces, its continuation lines
/// indented two past the line's own indent: printed reports stay readable in an 80-column
/// terminal instead of wrapping mid-word.
pub fn fold_lines(text: &str, width: usize) -> String {
    fold_where(text, width, |_| true)
}

/// Markdown folded as [`fold_lines`] folds text: list items and paragraphs only (a folded line
/// indented two past its own is the same item or paragraph when rendered); headings, table rows,
/// quotes and fenced code kept whole, as folding would change what they are.
pub fn fold_markdown(text: &str, width: usize) -> String {
    let mut fenced = false;
    fold_where(text, width, |line| {
        let t = line.trim_start();
        if t.starts_with("```") {
            fenced = !fenced;
            return false;
        }
        !fenced && !t.starts_with(['#', '|', '>'])
    })
}

fn fold_where(text: &str, width: usize, mut foldable: impl FnMut(&str) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if !foldable(line) || line.chars().count() <= width {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let width = width.max(indent + 22);
        let mut cur = line[..indent].to_owned();
        let mut fresh = true;
        for word in line.trim_start().split(' ') {
            // A continuation never starts with what would make it a list item, a heading or a
            // quote of its own ("OTP-C - OCG-C" broken before the dash): it runs on instead.
            let opens_block = matches!(word, "-" | "*" | "+")
                || word.starts_with(['#', '>', '|'])
                || word
                    .strip_suffix(['.', ')'])
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            let full = cur.chars().count() + 1 + word.chars().count() > width;
            if !fresh && full && !opens_block {
                out.push_str(&cur);
                out.push('\n');
                cur = " ".repeat(indent + 2);
                fresh = true;
            }
            if !fresh {
                cur.push(' ');
            }
            cur.push_str(word);
            fresh = false;
        }
        out.push_str(&cur);
        out.push('\n');
    }
    out
}

/// `s` (already neutralised) cut to `max` characters, ending in `…` when anything was cut.
pub fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.push('…');
    t
}

/// Levenshtein distance over bytes, for "did you mean" on short ASCII names.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_folds_items_at_words_and_never_opens_an_item_or_heading() {
        let item = "- [ ] pending Log in to OTP-C - OCG-C Trading session at the backup site (`ep-backup-logon-trading`)";
        // Width 40 would break right before " - OCG-C": the dash runs on instead.
        let folded = fold_markdown(item, 40);
        for l in folded.lines().skip(1) {
            assert!(
                l.starts_with("  ") && !l.trim_start().starts_with("- "),
                "{folded}"
            );
        }
        assert_eq!(
            folded.split_whitespace().collect::<Vec<_>>(),
            item.split_whitespace().collect::<Vec<_>>()
        );
        // Headings, tables and fenced code are left whole.
        let whole = "# A heading that is much longer than forty columns, kept\n| a | table row longer than forty columns |\n```\na code line that is longer than forty columns\n```\n";
        assert_eq!(fold_markdown(whole, 40), whole);
        // A nested item's continuation hangs under its own text.
        assert!(
            fold_markdown(
                "  - note by alice at 11:58:00 HKT (03:58:00 UTC): vendor ticket raised",
                40
            )
            .contains("\n    ")
        );
    }

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
            "PASSWORD\u{ff1a}hunter2",
            "pw: hunter2",
            "password hunter2",
            "trader password: Hunter2xyz",
            "login trader1/Hunter2!",
            "logon with creds ops:S3cret!",
            "token=s3cr3t",
            "OCG PWD=abc123",
            "passwd=abc",
            "the token is 0xdeadbeef",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "API key: 42",
            "secret: xyz",
            "PIN 4821",
        ] {
            assert!(looks_like_secret(s), "{s}");
        }
        for s in [
            "password reset desk called",
            "credential confirmed by alice",
            "password works, confirmed with the vendor",
            "tokens of appreciation",
            "passwords unchanged",
            "password:",
            "change no password during PS2",
            "follow the rundown's password arrangement",
            "login accepted at 08:01:05",
            "Logon accepted time=11:03:12 seq=1042",
            "logon accepted, next seq 1/2",
            "spinning up the backup gateway",
            "OCG-C primary endpoint reached",
        ] {
            assert!(!looks_like_secret(s), "{s}");
        }
    }

    #[test]
    fn invisible_and_reordering_marks_are_made_visible() {
        for c in [
            '\u{200d}', '\u{200f}', '\u{061c}', '\u{2028}', '\u{2029}', '\u{2067}', '\u{feff}',
        ] {
            let s = format!("a{c}b");
            assert_eq!(clean_line(&s), "a\u{fffd}b", "{:X}", c as u32);
        }
    }
}
