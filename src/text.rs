//! Neutralising untrusted text (runbooks, journals, notes) before it reaches a terminal.
//!
//! Anything that could move the cursor, change colours, set the window title or reorder
//! text (C0/C1 controls, ESC, DEL, bidi overrides) is replaced by a visible stand-in, so
//! the operator sees that something odd was there instead of having the screen rewritten.

use std::borrow::Cow;
use unicode_width::UnicodeWidthStr;

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

/// What made text look like it carries a secret: said in the refusal, so the operator knows
/// what to rephrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretForm {
    /// A credential word followed by a value: `password: x`, `pwd for trader1: x`, `p/w x`.
    Keyword(&'static str),
    /// A `user/password` or `user:password` pair after a login word.
    LoginPair(&'static str),
    /// A password inside a web address: `ftp://user:password@host`.
    UrlPassword,
    /// An HTTP bearer or basic credential, or a JSON web token.
    BearerToken,
    /// A PEM private key block.
    PrivateKey,
    /// A password given to a program on its command line: `mysql -pX`, `sshpass -p X`,
    /// `curl -u user:X`.
    CommandLine(&'static str),
}

impl std::fmt::Display for SecretForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretForm::Keyword(w) => write!(f, "`{w}` followed by a value"),
            SecretForm::LoginPair(w) => write!(f, "a user and password after `{w}`"),
            SecretForm::UrlPassword => f.write_str("a password in a web address"),
            SecretForm::BearerToken => f.write_str("a bearer token"),
            SecretForm::PrivateKey => f.write_str("a private key"),
            SecretForm::CommandLine(p) => write!(f, "a password on a `{p}` command line"),
        }
    }
}

/// Whether text looks like it carries a secret; see [`secret_form`].
pub fn looks_like_secret(s: &str) -> bool {
    secret_form(s).is_some()
}

/// Credential words, each with how much it takes to read what follows as a value.
const WORDS: [(&str, Strength); 23] = [
    ("password", Strength::Strong),
    // The common ways of spelling it so a filter will not see it.
    ("p@ssword", Strength::Strong),
    ("passw0rd", Strength::Strong),
    ("p@ssw0rd", Strength::Strong),
    ("passwd", Strength::Strong),
    ("passcode", Strength::Strong),
    ("passphrase", Strength::Strong),
    ("pwd", Strength::Strong),
    ("pw", Strength::Strong),
    ("p/w", Strength::Strong),
    ("pin", Strength::Strong),
    ("secret", Strength::Strong),
    ("token", Strength::Strong),
    ("apikey", Strength::Strong),
    ("api key", Strength::Strong),
    ("api_key", Strength::Strong),
    ("private key", Strength::Strong),
    // Chinese (traditional and simplified) "password" and "PIN", written without spaces around.
    ("密碼", Strength::Cjk),
    ("密码", Strength::Cjk),
    ("口令", Strength::Cjk),
    ("pin碼", Strength::Cjk),
    ("pin码", Strength::Cjk),
    // "pass" is also a check's outcome ("smoke test pass: 12/12"): only `pass:` or `pass=`
    // followed by something with a letter and a digit or symbol in it.
    ("pass", Strength::Weak),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Strength {
    Strong,
    Cjk,
    Weak,
}

const LOGIN: [&str; 5] = ["login", "logon", "log in", "credentials", "creds"];

/// What makes text look like it carries a secret, if anything: a credential word followed by a
/// value (`password: x`, `PASSWORD：x` with a full-width colon, `pw=x`, `token is x`, `password
/// Hunter2`, `password -> x`, `p/w x`, `密碼：x`), or followed by one within a few linking words
/// (`password for OCG is x`, `pwd for trader1: x`, `passwd reset, now x`) or a word in brackets
/// (`password (OCG) = x`); a variable named for a credential given a value (`PGPASSWORD=x`); a
/// pasted command that gives a program its password (`mysql -px`, `sshpass -p x`, `curl -u
/// user:x`); a `user/password` pair after a login word (`login trader1/Hunter2!`);
/// `user:password@` in a web address; a bearer token; a PEM key. Characters that show nothing
/// are dropped first: `pass\u{200b}word: x` reads as the `password: x` a reader sees.
///
/// The journal records that a credential was confirmed and by whom, never the credential: such
/// text is refused where every write passes ([`crate::journal::Journal::append`]), since an
/// append-only file cannot forget it later. Ordinary runbook phrases ("password reset desk
/// called", "credential confirmed by alice", "token bucket throttle 500/s") are not secrets: a
/// word is taken as a value only after a separator, or when it looks like one (a digit or a
/// symbol in it), and a value a few words on only after a separator and linking words.
pub fn secret_form(s: &str) -> Option<SecretForm> {
    // What shows nothing is read as not there: `pass\u{200b}word: x` is `password: x`.
    let s: String = s.chars().filter(|&c| !invisible(c)).collect();
    let s = s.as_str();
    // Full-width and other look-alike separators read as their ASCII forms.
    let lower: String = s
        .to_lowercase()
        .chars()
        .map(|c| match c {
            '\u{ff1a}' | '\u{fe55}' | '\u{a789}' => ':',
            '\u{ff1d}' => '=',
            '\u{2192}' => '>',
            c => c,
        })
        .collect();
    if lower.contains("-----begin") {
        return Some(SecretForm::PrivateKey);
    }
    if url_password(&lower) {
        return Some(SecretForm::UrlPassword);
    }
    if bearer(&lower) {
        return Some(SecretForm::BearerToken);
    }
    if let Some(program) = command_password(s) {
        return Some(SecretForm::CommandLine(program));
    }
    if let Some(w) = credential_assignment(&lower) {
        return Some(SecretForm::Keyword(w));
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
    for (w, strength) in WORDS {
        let found = lower.match_indices(w).any(|(i, _)| {
            let end = i + w.len();
            // Plurals and suffixes ("passwords", "tokens", "passed") are words about secrets,
            // not values. Chinese runs words together: no boundaries there.
            if strength != Strength::Cjk && (!word_start(i) || !word_end(end)) {
                return false;
            }
            let rest = &lower[end..];
            // A PIN is digits: `PIN 4821`, `PIN code is 4821`; "CPU pin: cores 2-3" is not one.
            let pin = w.starts_with("pin");
            match strength {
                // `pass: Hunter2!`, `pass Hunter2!`: a symbol in it, as a check's "pass: TC01"
                // or "pass 12/12" has none.
                Strength::Weak => first_word(rest.strip_prefix([':', '=']).unwrap_or(rest))
                    .is_some_and(|v| password_like(v) && has_symbol(v)),
                // `password (OCG) = x`, `pwd [trader1]: x`: a word in brackets names whose it is.
                Strength::Strong | Strength::Cjk => {
                    value_follows(rest, pin)
                        || after_aside(rest).is_some_and(|r| value_follows(r, pin))
                }
            }
        });
        if found {
            return Some(SecretForm::Keyword(w));
        }
    }
    login_pair(s).map(SecretForm::LoginPair)
}

/// `login trader1/Hunter2!`, `logon with creds ops:S3cret!`, `login trader1 / Hunter2!`: within
/// three words after a login word, a user name and a password joined by `/` or `:`. Read in the
/// text's own case, as the password must look like one (a symbol, or upper and lower case with
/// a digit): `logon SENDER1/TARGET1 accepted`, `login to ocg-bk01:9001` and `MsgSeqNum:1024` are
/// a CompID pair, a port and a field, not credentials.
fn login_pair(s: &str) -> Option<&'static str> {
    let tokens: Vec<&str> = s.split_whitespace().collect();
    let user_ok = |u: &str| {
        u.chars().any(char::is_alphabetic)
            && u.chars().all(|c| c.is_alphanumeric() || "._-".contains(c))
    };
    for (k, t) in tokens.iter().enumerate() {
        let lower = t.to_lowercase();
        let lower = lower.trim_end_matches([':', ',']);
        let Some(w) = LOGIN.iter().find(|w| {
            **w == lower
                || (**w == "log in"
                    && lower == "log"
                    && tokens
                        .get(k + 1)
                        .is_some_and(|n| n.eq_ignore_ascii_case("in")))
        }) else {
            continue;
        };
        let after = &tokens[(k + 1).min(tokens.len())..];
        for (j, t) in after.iter().take(3).enumerate() {
            let pair = t.split_once('/').or_else(|| t.split_once(':'));
            let spaced = (matches!(after.get(j + 1), Some(&"/" | &":")))
                .then(|| after.get(j + 2).map(|p| (*t, *p)))
                .flatten();
            if let Some((user, pass)) = pair.or(spaced)
                && user_ok(user)
                && strong_password(pass)
            {
                return Some(w);
            }
        }
    }
    None
}

/// Whether what follows a credential word gives its value: straight after it (`: x`, `= x`,
/// `is x4`, `-> x4`, `- x4`, `, x4,`, a bare `Hunter2`), or after a few linking words (`for OCG
/// is x`, `for trader1: x`, `reset, now x`). `pin`: a PIN's value is digits.
fn value_follows(rest: &str, pin: bool) -> bool {
    let rest = rest.trim_start();
    // A label's separator: what follows is the value (`secret: xyz`), unless it says there is
    // none or points elsewhere (`secret: none used`, `pwd: /opt/bss`, `PIN: cores 2-3`).
    if let Some(v) = rest.strip_prefix([':', '=']) {
        return first_word(v).is_some_and(|v| {
            !NOT_VALUES.contains(&v.trim_end_matches(['.', ',', ';']))
                && !v.starts_with(['/', '~'])
                && !placeholder(v)
                && (!pin || v.chars().any(|c| c.is_ascii_digit()))
        });
    }
    // `password hunter2`, `password -> hunter2`, `PIN is 4821`, `密碼係abc123`, `password,
    // Hunter2!,`: the next word counts when it looks like a value ("password is reset" is kept).
    let next = rest
        .strip_prefix("->")
        .or_else(|| rest.strip_prefix("=>"))
        .or_else(|| rest.strip_prefix("--"))
        .or_else(|| rest.strip_prefix(['>', '-', '\u{2013}', '\u{2014}', ',']))
        .or_else(|| rest.strip_prefix("is "))
        .or_else(|| rest.strip_prefix("was "))
        .or_else(|| rest.strip_prefix(['係', '是', '為', '为']))
        .unwrap_or(rest);
    first_word(next).is_some_and(|v| value_word(v, pin)) || linked_value(rest, pin)
}

/// What a label's value may be that is not one.
const NOT_VALUES: [&str; 16] = [
    "none",
    "n/a",
    "na",
    "nil",
    "-",
    "unchanged",
    "ok",
    "confirmed",
    "verified",
    "reset",
    "changed",
    "expired",
    "given",
    "sent",
    "same",
    "see",
];

/// `for OCG is Hunter2!`, `for trader1: Hunter2`, `reset, now Hunter2!`, `is now Hunter2!`:
/// up to five linking words (a preposition and the name it takes, a word saying the password
/// changed, a separator), then something that looks like a password (a letter and a digit or
/// symbol) after a separator. Any other word ends the search, so "password reset done by desk,
/// new one given by phone" and "token bucket throttle 500/s" are kept.
fn linked_value(rest: &str, pin: bool) -> bool {
    const PREPOSITIONS: [&str; 4] = ["for", "of", "on", "at"];
    // Words that change or name the credential on the way to its value ("PIN code is 4821",
    // "password for OCG login is now Hunter2!").
    const CHANGES: [&str; 13] = [
        "reset", "changed", "set", "updated", "rotated", "new", "has", "been", "login", "logon",
        "account", "user", "code",
    ];
    const SEPARATORS: [&str; 13] = [
        "is", "was", "now", "to", "->", "=>", ">", "=", ":", "-", "--", "\u{2013}", "\u{2014}",
    ];
    let mut words = rest.split_whitespace().peekable();
    let mut linked = 0;
    // A label (`trader1:`) counts only as the name a preposition took or a word of change
    // (`pwd for trader1: x`, `reset: x`): "token bucket: 500/s" labels something else.
    let mut may_label = false;
    while let Some(word) = words.next() {
        let bare = word.trim_end_matches(',');
        let labelled = bare.len() > 1 && bare.ends_with([':', '=']);
        let labelled =
            labelled && (may_label || CHANGES.contains(&bare.trim_end_matches([':', '='])));
        if !labelled && bare.len() > 1 && bare.ends_with([':', '=']) {
            return false;
        }
        may_label = PREPOSITIONS.contains(&bare);
        if labelled || SEPARATORS.contains(&bare) {
            if words
                .peek()
                .is_some_and(|v| password_like(v) || (pin && pin_digits(v)))
            {
                return true;
            }
            if labelled {
                return false;
            }
        } else if PREPOSITIONS.contains(&bare) {
            // The name it takes: `for OCG`, `for trader1:` (a label, read next time round).
            match words.peek() {
                Some(name) if name.trim_end_matches(',').ends_with([':', '=']) => {}
                Some(_) => {
                    words.next();
                }
                None => return false,
            }
        } else if !CHANGES.contains(&bare) {
            return false;
        }
        linked += 1;
        if linked > 5 {
            return false;
        }
    }
    false
}

/// A character that shows nothing where it stands: a zero-width space or joiner, a bidi mark, a
/// soft hyphen, a variation selector, a tag character, a Hangul filler, and the control
/// characters the neutraliser shows as stand-ins (whitespace aside, which separates words).
fn invisible(c: char) -> bool {
    (stand_in(c).is_some() && !c.is_whitespace())
        || matches!(
            c,
            '\u{ad}'
                | '\u{34f}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{17b4}'
                | '\u{17b5}'
                | '\u{180b}'..='\u{180f}'
                | '\u{3164}'
                | '\u{fe00}'..='\u{fe0f}'
                | '\u{ffa0}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// What follows a word in brackets right after a credential word (`password (OCG) = x`), if
/// one is there.
fn after_aside(rest: &str) -> Option<&str> {
    let r = rest.trim_start();
    let close = match r.chars().next()? {
        '(' => ')',
        '[' => ']',
        '\u{ff08}' => '\u{ff09}',
        _ => return None,
    };
    r.find(close).map(|i| &r[i + close.len_utf8()..])
}

/// How a program takes a password on its command line.
#[derive(Clone, Copy)]
enum Given {
    /// Only joined to its flag (`mysql -pX`: `-p X` asks for it, and X is the database).
    Joined(&'static str),
    /// Joined or as the next word (`sshpass -p X`, `sshpass -pX`).
    Either(&'static str),
    /// A `user:password` (or `user%password`) after the flag (`curl -u trader1:X`).
    UserPass(&'static str, char),
}

/// Programs operators paste with a password in them, and how each takes it.
const COMMANDS: [(&str, Given); 20] = [
    ("mysql", Given::Joined("-p")),
    ("mariadb", Given::Joined("-p")),
    ("mysqldump", Given::Joined("-p")),
    ("mariadb-dump", Given::Joined("-p")),
    ("mysqladmin", Given::Joined("-p")),
    ("mysqlimport", Given::Joined("-p")),
    ("mysqlcheck", Given::Joined("-p")),
    ("sshpass", Given::Either("-p")),
    ("redis-cli", Given::Either("-a")),
    ("ldapsearch", Given::Either("-w")),
    ("ldapmodify", Given::Either("-w")),
    ("ldapadd", Given::Either("-w")),
    ("ldapwhoami", Given::Either("-w")),
    ("sqlcmd", Given::Either("-P")),
    ("bcp", Given::Either("-P")),
    ("curl", Given::UserPass("-u", ':')),
    ("curl", Given::UserPass("--user", ':')),
    ("curl", Given::UserPass("--proxy-user", ':')),
    ("smbclient", Given::UserPass("-U", '%')),
    ("smbclient", Given::UserPass("--user", '%')),
];

/// A pasted command that gives a program its password (`mysql -u trader1 -pX`, `sshpass -p X
/// ssh gw`, `curl -u trader1:X https://gw/`), read up to the end of that command (`|`, `;`,
/// `&&`). Only these programs and flags: `ssh -p 22` is a port, and `mysql -p` alone or `curl -u
/// trader1` asks for the password rather than giving it. A site value's name (`-p${pw}`) or a
/// variable (`-p$PW`) is where the value goes, not the value.
fn command_password(s: &str) -> Option<&'static str> {
    let tokens: Vec<&str> = s.split_whitespace().collect();
    let value = |v: &str| {
        let v = v.trim_matches(['\'', '"']);
        !v.is_empty() && !v.starts_with('$') && !v.starts_with('-')
    };
    for (i, t) in tokens.iter().enumerate() {
        let program = t.rsplit('/').next().unwrap_or(t).to_lowercase();
        for (name, given) in COMMANDS.iter().filter(|(n, _)| *n == program) {
            let args = tokens[i + 1..]
                .iter()
                .take_while(|a| !matches!(**a, "|" | "||" | "&&" | ";") && !a.ends_with(';'));
            let args: Vec<&str> = args.copied().collect();
            for (k, a) in args.iter().enumerate() {
                let next = args.get(k + 1).copied();
                let found = match *given {
                    Given::Joined(flag) => a.strip_prefix(flag).is_some_and(value),
                    Given::Either(flag) => {
                        a.strip_prefix(flag).is_some_and(value)
                            || (*a == flag && next.is_some_and(value))
                    }
                    Given::UserPass(flag, sep) => {
                        let pair = if *a == flag {
                            next
                        } else {
                            a.strip_prefix(flag)
                                .map(|r| r.strip_prefix('=').unwrap_or(r))
                                .filter(|r| !r.is_empty())
                        };
                        pair.and_then(|p| p.split_once(sep))
                            .is_some_and(|(_, pass)| value(pass))
                    }
                };
                if found {
                    return Some(name);
                }
            }
        }
    }
    None
}

/// `PGPASSWORD=x`, `MYSQL_PWD=x`, `export SSHPASS=x`, `GITHUB_TOKEN=x`: a variable named for a
/// credential, assigned a value, read as the word itself followed by `=`. A long word may end
/// the name anyhow (`pgpassword`); a short one (`pwd`, `pw`, `pin`) only after `_` (`mysql_pwd`,
/// not `cwd`); `pass` as the weak word it is (`sshpass=x!` with a symbol; `bypass=true` is kept).
fn credential_assignment(lower: &str) -> Option<&'static str> {
    for token in lower.split_whitespace() {
        let Some((name, value)) = token.split_once('=') else {
            continue;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        let value = value.trim_matches(['\'', '"']);
        for (w, strength) in WORDS {
            let Some(head) = name.strip_suffix(w) else {
                continue;
            };
            let short = w.len() <= 3;
            if head.is_empty() || (short && !head.ends_with('_')) || !w.is_ascii() {
                continue;
            }
            let given = match strength {
                Strength::Weak => password_like(value) && has_symbol(value),
                _ => value_follows(&format!("={value}"), w == "pin"),
            };
            if given {
                return Some(w);
            }
        }
    }
    None
}

/// `scheme://user:password@host`: a web address carrying its password.
fn url_password(lower: &str) -> bool {
    lower.match_indices("://").any(|(i, _)| {
        let authority = lower[i + 3..]
            .split(|c: char| c == '/' || c.is_whitespace())
            .next()
            .unwrap_or("");
        authority
            .rsplit_once('@')
            .and_then(|(userinfo, _)| userinfo.split_once(':'))
            .is_some_and(|(_, pass)| !pass.is_empty())
    })
}

/// `Bearer <token>`, `Authorization: Basic <base64>`, or a JSON web token anywhere (`eyJ...`
/// with two dots: a base64 `{"` header).
fn bearer(lower: &str) -> bool {
    let mut words = lower.split_whitespace().peekable();
    while let Some(w) = words.next() {
        let next_is_token =
            |t: Option<&&str>| t.is_some_and(|t| t.chars().count() >= 8 && looks_like_value(t));
        if w == "bearer" && next_is_token(words.peek()) {
            return true;
        }
        if w.starts_with("authorization") && words.peek().is_some_and(|n| *n == "basic") {
            words.next();
            if next_is_token(words.peek()) || words.peek().is_some_and(|t| t.len() >= 8) {
                return true;
            }
        }
        if w.trim_start_matches(['"', '\'', '(']).starts_with("eyj") && w.matches('.').count() >= 2
        {
            return true;
        }
    }
    false
}

fn first_word(s: &str) -> Option<&str> {
    s.split_whitespace().next()
}

/// A bare word after a credential word that reads as its value: a digit or a symbol past its
/// first character (`Hunter2`, `s3cret!`, `0xdeadbeef`, `4821`), not a word with only closing
/// punctuation (`reset:`), a path (`/opt/bss`) or a conjunction (`/PIN`); a PIN's is digits.
fn value_word(t: &str, pin: bool) -> bool {
    let t = t.trim_end_matches(['.', ',', ';', ')', ':']);
    if pin {
        return pin_digits(t);
    }
    t.chars().count() >= 3
        && !t.starts_with(['/', '~'])
        && !placeholder(t)
        && t.chars()
            .skip(1)
            .any(|c| c.is_ascii_digit() || (c.is_ascii_punctuation() && c != '-' && c != '\''))
}

/// A site value's name as a runbook writes it (`${pw}`): where the value goes, not the value.
fn placeholder(t: &str) -> bool {
    t.starts_with("${")
}

/// Four to eight digits, as a PIN is written.
fn pin_digits(t: &str) -> bool {
    let t = t.trim_end_matches(['.', ',', ';', ')']);
    (4..=8).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit())
}

/// A symbol a password has and an identifier, a count or a time does not.
fn has_symbol(t: &str) -> bool {
    t.trim_end_matches(['.', ',', ';', ')'])
        .chars()
        .any(|c| "!@#$%^&*+=?~".contains(c))
}

/// A password as people write them, read in its own case: a letter, at least six characters,
/// and a symbol, or upper and lower case with a digit (`Hunter2!`, `S3cret!`, `Hunter22`; not
/// `TARGET1`, `9001` or `seq1042`).
fn strong_password(t: &str) -> bool {
    let t = t.trim_end_matches(['.', ',', ';', ')']);
    let any = |f: fn(&char) -> bool| t.chars().any(|c| f(&c));
    t.chars().count() >= 6
        && any(|c| c.is_alphabetic())
        && (has_symbol(t)
            || (any(char::is_ascii_lowercase)
                && any(char::is_ascii_uppercase)
                && any(char::is_ascii_digit)))
}

/// A token that reads as a password rather than an English word: it holds a digit, or an
/// ASCII symbol other than closing punctuation (not Chinese punctuation: `已重設，由` is words).
fn looks_like_value(t: &str) -> bool {
    let t = t.trim_end_matches(['.', ',', ';', ')']);
    t.chars().count() >= 3
        && t.chars()
            .any(|c| c.is_ascii_digit() || (c.is_ascii_punctuation() && c != '-' && c != '\''))
}

/// A token that reads as a password where a number or a time would not: a letter and a digit
/// or symbol (`Hunter2`, `s3cret!`), not `12/12`, `10:45` or `OCG-C`.
fn password_like(t: &str) -> bool {
    let t = t.trim_end_matches(['.', ',', ';', ')']);
    !placeholder(t) && t.chars().any(char::is_alphabetic) && looks_like_value(t)
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
/// terminal instead of wrapping mid-word. Plain text for a terminal, so a run of Chinese text
/// wider than a line is broken between characters.
pub fn fold_lines(text: &str, width: usize) -> String {
    fold_where(text, width, true, |indent, _| Some(indent + 2))
}

/// Markdown folded as [`fold_lines`] folds text: list items (continued two past the marker's
/// indent, under the item's text) and paragraphs (continued at their own indent) only: rendered,
/// each is the same item or paragraph. Headings, table rows, quotes and fenced code are kept
/// whole, as folding would change what they are.
///
/// Folding is safe by construction, wherever the line is cut, inside a code span or not: a
/// continuation line starts only with a word [`may_start_a_line`] allows, which no CommonMark
/// or GFM block can start with, so every continuation stays part of the paragraph it continues
/// (and a code span on it stays one span). A word wider than a line is never broken, Chinese
/// text included: Markdown reads a line break as a space (inside a code span too), so a break
/// between two characters would add a space to what was typed in every rendered report. A
/// terminal wraps such a run between characters by itself.
pub fn fold_markdown(text: &str, width: usize) -> String {
    let mut fenced = false;
    fold_where(text, width, false, |indent, t| {
        if t.starts_with("```") {
            fenced = !fenced;
            return None;
        }
        if fenced || t.starts_with(['#', '|', '>']) {
            return None;
        }
        let item = t.starts_with("- ") || t.starts_with("* ") || t.starts_with("+ ");
        Some(if item { indent + 2 } else { indent })
    })
}

/// Whether a folded line may start with `word` (after its indent). Every block CommonMark and
/// GFM know starts with a mark: a thematic break (`***`, `- - -`, `___`), a setext underline
/// (`===`, `---`, which would make a heading of the lines above), an ATX heading (`#`), a block
/// quote (`>`), a list item (`-`, `+`, `*`, `1.`, `1)`), a fence (three backticks or tildes), an
/// HTML block (`<p>`, `<div>`, `<!--`), a table's delimiter row (`|`, `:`, `-`), a link or
/// footnote definition (`[`), and the extensions some renderers add (`$$` maths, `: `
/// definitions), each of them ASCII. So a line may start with anything outside ASCII (a Chinese
/// word, a `␛` stand-in), or an ASCII letter or digit unless the word is an ordered list marker
/// (`1.`, `10)`); with one or two backticks or tildes (a code span or
/// strikethrough: a fence takes three); with one of a few marks that open nothing (`(`, `"`, `/`
/// …); or with one of `* _ - + = : #` when the word also holds a letter or digit (`**OVERDUE**`,
/// `-pX`, `#12`): those open a block only on a line of nothing but marks (a rule, an underline,
/// a delimiter row) or when a space follows them (an item, a heading), and a word is cut at
/// spaces. A list of what is allowed, rather than of what is not, so a block start nobody listed
/// still cannot end a paragraph. Indentation cannot either: a continuation is never indented
/// past its paragraph's text, and an indented code block cannot interrupt a paragraph.
fn may_start_a_line(word: &str) -> bool {
    let Some(first) = word.chars().next() else {
        return false;
    };
    let list_marker = word
        .strip_suffix(['.', ')'])
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let allowed = if !first.is_ascii()
        || first.is_ascii_alphanumeric()
        || "(\"'/\\@%&.,;?!".contains(first)
    {
        true
    } else if "*_-+=:#".contains(first) {
        word.chars().any(char::is_alphanumeric)
    } else if first == '`' || first == '~' {
        word.chars().take_while(|&c| c == first).count() < 3
    } else {
        false
    };
    allowed && !list_marker
}

/// Fold each line `hang` says may fold (given its indent and its text after it: the indent of
/// its continuation lines, or None to keep it whole). `break_cjk`: a run of wide characters
/// wider than a line may be broken between characters (plain text only).
fn fold_where(
    text: &str,
    width: usize,
    break_cjk: bool,
    mut hang: impl FnMut(usize, &str) -> Option<usize>,
) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let hang = hang(indent, line.trim_start());
        let Some(hang) = hang.filter(|_| line.width() > width) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let width = width.max(hang + 20);
        let mut cur = line[..indent].to_owned();
        let mut fresh = true;
        for word in line.trim_start().split(' ').flat_map(|w| {
            if break_cjk {
                cjk_pieces(w, width - hang)
            } else {
                vec![w]
            }
        }) {
            // A word a line may not start with ("OTP-C - OCG-C" broken before the dash, a
            // `***` or `<p>` in a note) runs on instead: the line is longer, never another block.
            let full = cur.width() + 1 + word.width() > width;
            if !fresh && full && may_start_a_line(word) {
                out.push_str(&cur);
                out.push('\n');
                cur = " ".repeat(hang);
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

/// A word as pieces to fold: whole, unless it is wider than `room` and holds wide (CJK)
/// characters, which may be broken between (Chinese text runs without spaces). A long ASCII
/// word (a path, a URL, a FIX fragment) stays whole: cut, it would no longer copy and paste.
fn cjk_pieces(word: &str, room: usize) -> Vec<&str> {
    use unicode_width::UnicodeWidthChar;
    let wide = |c: char| c.width().unwrap_or(0) > 1;
    if word.width() <= room || !word.chars().any(wide) {
        return vec![word];
    }
    let mut pieces = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, c) in word.char_indices() {
        let w = c.width().unwrap_or(0);
        if used + w > room && i > start {
            pieces.push(&word[start..i]);
            (start, used) = (i, 0);
        }
        used += w;
    }
    pieces.push(&word[start..]);
    pieces
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

/// Text someone typed (a note, an evidence value, a reason, a name), neutralised, for Markdown
/// that a renderer must leave inert and the next shift reads in a terminal exactly as typed. Text
/// that holds anything Markdown could read as markup that acts, alone or with the text beside it
/// on the line, is set whole as one code span: raw HTML and autolinks (any `<`), links, images
/// and footnotes (any `[` or `]`: a `[` in one name and a `](//host/p.png)` in the note after it
/// make an image), code spans (any backtick: one in a name would pair with the fence of the
/// note's span and leave the note bare), a backslash escape (which would take a character
/// from what was typed, or a fence from the span beside it) and a bare web address GFM links by
/// itself (`https://…`, `www.…`). No renderer makes markup or a link inside a code span, and
/// unlike backslash escapes (`\<b>`) it adds nothing inside what was typed, so a FIX or HTML
/// fragment reads as typed between its fences. Text left as typed therefore holds none of
/// `` ` < [ ] `` and no escape, so it can neither open nor close anything another text on the
/// line opened. Emphasis (`*`, `_`) is left: it changes how a word looks, not what it does. An
/// e-mail address is left too (a viewer may make a `mailto:` link of it, which fetches nothing).
pub fn md_text(s: &str) -> String {
    let s = clean_line(s);
    if markup_acts(&s) {
        code_span(&s)
    } else {
        s.into_owned()
    }
}

/// Text shown as code whatever it holds (a journal's path, a step id read from a journal),
/// neutralised, with a fence no backtick in it can close: see [`md_text`].
pub fn md_code(s: &str) -> String {
    code_span(&clean_line(s))
}

/// Whether a renderer could make something of `s` besides text, alone or with its neighbours.
fn markup_acts(s: &str) -> bool {
    let mut chars = s.chars().peekable();
    let mut escape = false;
    while let Some(c) = chars.next() {
        // A backslash escapes ASCII punctuation after it; at the end, whatever follows the text.
        escape |= c == '\\' && chars.peek().is_none_or(char::is_ascii_punctuation);
    }
    let lower = s.to_ascii_lowercase();
    escape || s.contains(['`', '<', '[', ']']) || lower.contains("://") || lower.contains("www.")
}

/// `text` as a code span: fenced by one backtick more than its longest run of them, with a
/// space inside each fence when it starts or ends with a backtick or a space (CommonMark strips
/// one space from each end when both ends have one; the padding is what it strips). Empty text
/// is one space between the fences: two backticks alone are not a span, they would pair with
/// another.
fn code_span(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.is_empty() || text.starts_with(['`', ' ']) || text.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    if text.is_empty() {
        return format!("{fence}{pad}{fence}");
    }
    // Only spaces: CommonMark keeps them as they are.
    let pad = if text.bytes().all(|b| b == b' ') {
        ""
    } else {
        pad
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// How many characters of a quoted excerpt of the input a diagnostic shows.
pub const EXCERPT: usize = 80;

/// The most a diagnostic message shows at all, whatever it quotes.
const DIAGNOSTIC_MAX: usize = 1000;

/// A diagnostic message (a parser's, quoting the input) made short and safe to show: each quoted
/// excerpt in it (serde's `"..."`, written with Rust's debug escapes, and `` `...` ``) is
/// decoded, neutralised like everything else ([`clean_line`]: `\u{1b}` shows as `␛`, not as
/// Rust's escape) and cut to [`EXCERPT`] characters with `…`; the rest is neutralised too. A
/// one-line file of megabytes gives a message of one line, not megabytes.
pub fn diagnostic(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len().min(DIAGNOSTIC_MAX) + 8);
    let mut chars = msg.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let (inner, closed) = debug_string(&mut chars);
                out.push('"');
                out.push_str(&ellipsize(&clean_line(&inner), EXCERPT));
                if closed {
                    out.push('"');
                }
            }
            '`' => {
                let inner: String = chars.by_ref().take_while(|&c| c != '`').collect();
                out.push('`');
                out.push_str(&ellipsize(&clean_line(&inner), EXCERPT));
                out.push('`');
            }
            c => out.push_str(&clean_line(c.encode_utf8(&mut [0; 4]))),
        }
        if out.chars().count() > DIAGNOSTIC_MAX {
            return ellipsize(&out, DIAGNOSTIC_MAX);
        }
    }
    out
}

/// The rest of a `"`-quoted string written with Rust's debug escapes (`\"`, `\\`, `\n`,
/// `\u{1b}`), decoded, and whether its closing quote was found.
fn debug_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> (String, bool) {
    let mut s = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return (s, true),
            '\\' => match chars.next() {
                Some('n') => s.push('\n'),
                Some('r') => s.push('\r'),
                Some('t') => s.push('\t'),
                Some('0') => s.push('\0'),
                Some('u') if chars.peek() == Some(&'{') => {
                    chars.next();
                    let hex: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) => s.push(ch),
                        None => s.push('\u{fffd}'),
                    }
                }
                Some(other) => s.push(other),
                None => s.push('\\'),
            },
            c => s.push(c),
        }
    }
    (s, false)
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
    fn folding_counts_terminal_columns_and_breaks_chinese_text_only_in_plain_text() {
        let value = "  - evidence: rundown received on = 22 Nov 2023 收到交易所的演習流程 rundown 📧 from 香港交易所 and 價格超出範圍價格超出範圍價格超出範圍價格超出範圍";
        // Plain text for a terminal: the run is broken between characters, every line fits.
        let folded = fold_lines(value, 40);
        for l in folded.lines() {
            assert!(l.width() <= 40, "{} columns: {l}", l.width());
        }
        // Nothing typed is lost or reordered: the CJK run was only broken, never cut short.
        assert_eq!(folded.replace(['\n', ' '], ""), value.replace(' ', ""));
        // Markdown: folded at spaces, counting columns, but the run is kept whole, since a
        // renderer reads a line break as a space, inside a code span too (break 3's nit:
        // `…登入 成功…` in the rendered report).
        let folded = fold_markdown(value, 40);
        assert!(
            folded
                .lines()
                .any(|l| l.trim() == "價格超出範圍價格超出範圍價格超出範圍價格超出範圍"),
            "{folded}"
        );
        for l in folded.lines().filter(|l| !l.contains("價格")) {
            assert!(l.width() <= 40, "{} columns: {l}", l.width());
        }
        let typed = format!("備份站點登入成功{}<b>x</b>", "備份站點登入成功".repeat(5));
        let md = fold_markdown(&format!("- 08:26 alice@vm: {}", md_text(&typed)), 80);
        assert_eq!(
            one_item(&gfm(&md)),
            Some(format!("08:26 alice@vm: {}", shown_as_code(&typed))),
            "{md}"
        );
        // A long ASCII word (a path) is never broken: it would not copy and paste.
        let path = format!("  - journal: /{}", "a".repeat(60));
        for folded in [fold_markdown(&path, 40), fold_lines(&path, 40)] {
            assert!(
                folded
                    .lines()
                    .any(|l| l.trim() == format!("/{}", "a".repeat(60)))
            );
        }
    }

    /// Everything a line can start with that opens a block of its own or interrupts a
    /// paragraph, in CommonMark, GFM and the extensions renderers add (break 3 F4: a fold before
    /// `***`, `===` or `<p>` ended the note's code span).
    const BLOCK_OPENERS: [&str; 40] = [
        "***",
        "* * *",
        "___",
        "_ _ _",
        "---",
        "- - -",
        "===",
        "=",
        "-",
        "+",
        "*",
        "#",
        "# heading",
        "###### h6",
        ">",
        "> quote",
        "1.",
        "1)",
        "10.",
        "```",
        "```rust",
        "~~~",
        "<p>",
        "<div>",
        "<details open><summary>x</summary></details>",
        "<table>",
        "<!--",
        "<script>",
        "<pre>",
        "<?php",
        "<![CDATA[",
        "<!DOCTYPE html>",
        "|",
        "-|-",
        "|---|",
        ":--|--:",
        "--|--",
        "[^1]: x",
        "[x]: https://e.x",
        "$$",
    ];

    /// The inside of the one list item `html` is, with line breaks read as the spaces a
    /// browser shows; None when it is anything else (two items, a heading, a rule).
    fn one_item(html: &str) -> Option<String> {
        let inner = html
            .strip_prefix("<ul>\n<li>")?
            .strip_suffix("</li>\n</ul>\n")?;
        (!inner.contains("<li>")).then(|| inner.replace('\n', " "))
    }

    #[test]
    fn a_folded_note_stays_one_code_span_wherever_the_fold_falls() {
        let prefix = "Wed 02 Dec 2026 16:26:18 HKT (08:26:18 UTC) alice@vm: ";
        let tails = [
            format!(" https://evil.example/{}", "x".repeat(60)),
            " <img src=https://evil.example/p.png>".to_owned(),
            " www.evil.example here".to_owned(),
            // Spaces as typed, two at a time: a fold at one keeps them all in the span.
            "  two  spaces  apart  https://evil.example".to_owned(),
            String::new(),
        ];
        let mut folds = 0;
        for opener in BLOCK_OPENERS {
            for tail in &tails {
                // Each one-letter word of padding moves the opener two columns on, across more
                // than a line, so at some length the fold falls right before it (and before
                // each word of the tail).
                for k in 0..=120 {
                    let typed = format!("{}{opener}{tail}", "a ".repeat(k));
                    let md = fold_markdown(&format!("- {prefix}{}", md_text(&typed)), 80);
                    folds += md.lines().count() - 1;
                    // Where typed text is left as typed (nothing in it acts), it is still the
                    // same one item: `===` or `---` made no heading, `***` no rule, `1.` no list.
                    let spanned = md_text(&typed) != typed;
                    let want = if spanned {
                        format!("{}{}", escape_html(prefix), shown_as_code(&typed))
                    } else {
                        escape_html(&format!("{prefix}{typed}"))
                    };
                    for html in [gfm(&md), gfm_html(&md)] {
                        assert_eq!(
                            one_item(&html).as_deref(),
                            Some(want.as_str()),
                            "{typed}\n{md}\n{html}"
                        );
                    }
                }
            }
        }
        // The table folds: it would prove nothing about notes short enough to stay whole.
        assert!(folds > 10_000, "{folds}");
    }

    #[test]
    fn a_folded_line_starts_only_with_a_word_no_block_can_start_with() {
        for opener in BLOCK_OPENERS {
            let first = opener.split(' ').next().unwrap();
            assert!(!may_start_a_line(first), "{opener}");
        }
        for word in [
            "OCG-C",
            "收到",
            "10:00:41",
            "1.5",
            "(ISSUE)",
            "\"quoted\"",
            "/opt/bss",
            "`hkex-ps2`",
            "``a`b``",
            "**OVERDUE**",
            "-pHunter2",
            "#12",
            "~~gone~~",
            "\u{241b}[31m",
            "\u{3000}x",
        ] {
            assert!(may_start_a_line(word), "{word}");
        }
        // Ordinary text still folds within 80 columns.
        let prose = format!(
            "- {}",
            "Log in to OTP-C - OCG-C Trading at the backup site; ".repeat(6)
        );
        for l in fold_markdown(&prose, 80).lines() {
            assert!(l.width() <= 80, "{l}");
        }
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
            // Ordinary ways of writing one down (break findings #2).
            "password for OCG is Hunter2!",
            "pass: Hunter2!",
            "p/w Hunter2!",
            "密碼：Hunter2",
            "登入密码 abc123",
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc.def",
            "bearer abcd1234efgh",
            "Authorization: Basic dHJhZGVyMTpIdW50ZXIy",
            "ftp://trader1:Hunter2!@10.0.0.1/",
            "see https://ops:s3cret@gw.example/status",
            "password -> Hunter2!",
            "password \u{2192} Hunter2!",
            "pwd for trader1: Hunter2",
            "OCG passwd reset, now Hunter2!",
            "password is now Hunter2!",
            "password changed to Hunter2!",
            "the token for OCG-C is abc123",
            "PIN is 4821",
            // More ordinary ways (second break round).
            "password for trader1 = Hunter2!",
            "pwd of OCG = Hunter2!",
            "password for OCG login is now Hunter2!",
            "the new OCG password, Hunter2!, works",
            "pass Hunter2!",
            "login trader1 / Hunter2!",
            "password - Hunter2!",
            "PIN code is 4821",
            "PIN碼：4821",
            "口令：Hunter2",
            "logon SENDER1/Target1x",
            // Break 3 F6: a pasted command line, an invisible character inside the word, a
            // word in brackets or `--` before the value, the usual misspellings.
            "mysql -u trader1 -pHunter2!",
            "/usr/bin/mysql -h db -pHunter2 ps2",
            "sshpass -p Hunter2! ssh gw",
            "sshpass -pHunter2! ssh gw",
            "PGPASSWORD=Hunter2! psql -h db",
            "export MYSQL_PWD=hunter2",
            "SSHPASS='Hunter2!' sshpass -e ssh gw",
            "GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            "curl -u trader1:Hunter2! https://gw/x",
            "curl --user=trader1:Hunter2! https://gw/x",
            "redis-cli -a Hunter2 ping",
            "smbclient -U trader1%Hunter2! //fs/ps2",
            "pass\u{200b}word: Hunter2!",
            "pass\u{ad}word: Hunter2!",
            "p\u{2060}w: Hunter2!",
            "password (OCG) = Hunter2!",
            "pwd [trader1]: Hunter2",
            "Password -- Hunter2!",
            "p@ssword: Hunter2!",
            "passw0rd: Hunter2!",
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
            // Operations text that names a credential without giving one.
            "password reset done by desk, new one given by phone",
            "password is reset",
            "password for trader1 expires in 30 days",
            "password reset at 10:30, ticket INC12345 raised",
            "password for OCG is with the desk",
            "token bucket throttle 500/s",
            "bearer of the OCG-C logon confirmation",
            "smoke test pass: 12/12",
            "check pass: OCG-C reached",
            "passed: 5 of 5",
            "passive listener on 10.0.0.1:5000",
            "密碼已重設，由 alice 確認",
            "see https://status.example/ps2 for notices",
            "ssh trader1@10.0.0.1 accepted",
            "ftp://anonymous@mirror.example/",
            "session token rotated at 10:05",
            "pin the OMD-C line to 10:00",
            // PS2 operations text the second break round saw refused.
            "logon SENDER1/TARGET1 accepted",
            "Logon accepted MsgSeqNum:1024",
            "login to ocg-bk01:9001 ok",
            "Password reset: done by desk",
            "password/PIN confirmed by alice",
            "token bucket: 500/s",
            "Test pass: TC01",
            "CPU pin: cores 2-3",
            "secret: none used",
            "ran pwd: /opt/bss",
            "Logon accepted SenderCompID=FIRM01 TargetCompID=HKEX seq 1",
            "login ok, throttle 500/s, seq 1:1042",
            "pass 12/12",
            "ORD-1, ORD-2 survived; in 1234 / out 5678",
            "10:00:41 Logout \"system failover\"",
            "/bin/echo --user trader1 --pass ${pw}",
            "bss-cli logon --password ${ocg_password}",
            // A command that asks for the password, gives a port, or names where it comes from.
            "ssh -p 22 trader1@gw",
            "mysql -u trader1 -p ps2db",
            "mysql -h db -P 3306 -u trader1 -p",
            "mysql -u trader1 -p${db_pw} ps2db",
            "curl -u trader1 https://gw/x",
            "curl -u trader1:${pw} https://gw/x",
            "sshpass -f ~/.ocgpw ssh gw",
            "export PGPASSWORD=${pgpw}",
            "bypass=true cwd=/opt/bss",
            "password (see the desk) reset",
            "password -- see the desk",
            "PGPASSWORD unset before the run",
        ] {
            assert!(!looks_like_secret(s), "{s}");
        }
        // The refusal says what it saw, so the operator knows what to rephrase.
        assert_eq!(
            secret_form("pwd for trader1: Hunter2"),
            Some(SecretForm::Keyword("pwd"))
        );
        assert_eq!(
            secret_form("ftp://trader1:Hunter2!@10.0.0.1/").map(|f| f.to_string()),
            Some("a password in a web address".into())
        );
        assert_eq!(
            secret_form("sshpass -p Hunter2! ssh gw").map(|f| f.to_string()),
            Some("a password on a `sshpass` command line".into())
        );
        assert_eq!(
            secret_form("PGPASSWORD=Hunter2! psql"),
            Some(SecretForm::Keyword("password"))
        );
    }

    #[test]
    fn diagnostics_cut_quoted_excerpts_and_show_controls_as_stand_ins() {
        // serde's debug-quoted scalar: decoded and shown through the neutraliser.
        let d = diagnostic(
            r#"invalid type: string "\u{1b}]0;PWN\u{7}\u{1b}[2J x", expected a session file"#,
        );
        assert_eq!(
            d,
            "invalid type: string \"\u{241b}]0;PWN\u{2407}\u{241b}[2J x\", expected a session file"
        );
        // A scalar of megabytes: 80 characters of it.
        let huge = format!(
            "invalid type: string {:?}, expected a session file",
            "A".repeat(5_000_000)
        );
        let d = diagnostic(&huge);
        assert!(d.chars().count() < 200, "{}", d.len());
        assert!(
            d.contains(&format!("\"{}…\"", "A".repeat(EXCERPT - 1))),
            "{d}"
        );
        assert!(d.ends_with(", expected a session file"), "{d}");
        // Back-quoted names too, raw control characters and all.
        let d = diagnostic(&format!(
            "unknown field `{}\u{1b}[31m`, expected `id`",
            "b".repeat(500)
        ));
        assert!(d.chars().count() < 200 && !d.contains('\u{1b}'), "{d}");
        assert!(d.ends_with(", expected `id`"), "{d}");
        // Escaped quotes and backslashes inside, and a message without quotes, unchanged.
        assert_eq!(diagnostic(r#"bad "a\"b\\c""#), r#"bad "a"b\c""#);
        assert_eq!(diagnostic("the file ends early"), "the file ends early");
    }

    /// What a GFM renderer (comrak, with GitHub's autolink extension) makes of `md_text`'s output.
    fn gfm(md: &str) -> String {
        let mut o = comrak::Options::default();
        o.extension.autolink = true;
        o.extension.table = true;
        comrak::markdown_to_html(md, &o)
    }

    /// The same, with raw HTML rendered, as `cmark-gfm --unsafe` does and as sanitising
    /// renderers do for the tags they keep (`<p>`, `<img>`, `<a href>`, `<details>`).
    fn gfm_html(md: &str) -> String {
        let mut o = comrak::Options::default();
        o.extension.autolink = true;
        o.extension.table = true;
        o.extension.tasklist = true;
        o.extension.strikethrough = true;
        o.extension.footnotes = true;
        o.render.r#unsafe = true;
        comrak::markdown_to_html(md, &o)
    }

    /// Text as GFM writes it into HTML.
    fn escape_html(typed: &str) -> String {
        typed
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    }

    /// What GFM shows of text inside `<code>`: the typed text, HTML-escaped.
    fn shown_as_code(typed: &str) -> String {
        format!("<code>{}</code>", escape_html(typed))
    }

    #[test]
    fn typed_markup_is_set_as_code_whole_and_read_as_typed() {
        for typed in [
            "<script>alert(1)</script> [click](javascript:alert(1))",
            "[x][ref] <!-- c --> <https://e.x>",
            "none; note: <b>bold</b> *stars* [link](http://x)",
            "\\<b>",
            "10:00:41 Logout <b>",
            // Bare web addresses: inside a word, in brackets or emphasis, capitals, another scheme.
            "see https://evil.example/x and www.evil.example",
            "a.https://e.x/ (https://e.x) *www.e.x* HTTPS://E.X WWW.E.X ftp://e.x",
            "[click here](https://evil.example) <b>https://e.x</b>",
        ] {
            let md = md_text(typed);
            // In a terminal: the text as typed, between backticks; no backslash added.
            assert_eq!(md, format!("`{typed}`"), "{typed}");
            // Rendered: one code element holding exactly what was typed; no link, no tag.
            let html = gfm(&md);
            assert!(!html.contains("<a "), "{typed} renders a link:\n{html}");
            assert!(html.contains(&shown_as_code(typed)), "{typed}:\n{html}");
        }
        // Backticks in it: a fence longer than any run of them, padded where it touches one, so
        // a code span typed inside cannot close the fence and leave the rest bare.
        for (typed, md) in [
            ("go `https://e.x`", "`` go `https://e.x` ``"),
            (
                "`a https://x`https://evil.example/",
                "`` `a https://x`https://evil.example/ ``",
            ),
            ("``<b>``", "``` ``<b>`` ```"),
        ] {
            assert_eq!(md_text(typed), md, "{typed}");
            let html = gfm(md);
            assert!(!html.contains("<a ") && !html.contains("<b>"), "{html}");
            assert!(html.contains(&shown_as_code(typed)), "{typed}:\n{html}");
        }
        // In a table cell (mdtable escapes `|`) as well.
        let cell = md_text("a|b https://e.x").replace('|', "\\|");
        let html = gfm(&format!("| h |\n| --- |\n| {cell} |\n"));
        assert!(
            html.contains("<td><code>a|b https://e.x</code></td>"),
            "{html}"
        );
        // Where nothing could act, the text is left exactly as typed: words, paths, arrows,
        // FIX fields, emphasis marks and e-mail addresses.
        for kept in [
            "ep_pre_check ok",
            "C:\\logs\\ocg",
            "OCG -> backup 10:02",
            "a|b",
            "35=5|58=Failover in 1234 > out 5678",
            "*now* _here_",
            "ORD-1, ORD-2 survived (2)",
            "ops@firm.example",
        ] {
            assert_eq!(md_text(kept), kept);
        }
        // What could pair with markup beside it on the line is a span even where it acts on
        // nothing alone: a backtick, a bracket, a `<`, a backslash escape.
        for (typed, md) in [
            ("`rm` *now* _here_", "`` `rm` *now* _here_ ``"),
            ("[ORD-1, ORD-2] survived", "`[ORD-1, ORD-2] survived`"),
            (
                "<35=5|58=Failover> in 1234 < out 5678",
                "`<35=5|58=Failover> in 1234 < out 5678`",
            ),
            ("mal`lory@vm", "``mal`lory@vm``"),
            ("a\\*b*", "`a\\*b*`"),
            ("ends in \\", "`ends in \\`"),
        ] {
            assert_eq!(md_text(typed), md, "{typed}");
            assert_eq!(
                gfm(md),
                format!("<p>{}</p>\n", shown_as_code(typed)),
                "{typed}"
            );
        }
        // Always a span, for a path or a name read from a journal: spaces at its ends kept, an
        // empty one still a span (two backticks alone would pair with the next).
        for (typed, md) in [
            (" two ends ", "`  two ends  `"),
            ("", "` `"),
            ("a`b", "``a`b``"),
        ] {
            assert_eq!(md_code(typed), md);
            let shown = if typed.is_empty() { " " } else { typed };
            assert_eq!(
                gfm(md),
                format!("<p>{}</p>\n", shown_as_code(shown)),
                "{typed}"
            );
        }
        assert_eq!(md_text("a\u{1b}[2J"), "`a\u{241b}[2J`");
        assert_eq!(md_text("a\u{1b}2J"), "a\u{241b}2J");
    }

    #[test]
    fn typed_texts_side_by_side_cannot_pair_their_marks() {
        // A name and a note on one line, as `handover` and `report` write them (break 3 F5: the
        // backtick in ``mal`lory`` closed at the note's opening fence and left the note bare; a
        // `[` in a name and a `](…)` in the note made an image fetched in safe mode).
        let long = " and then some words to make the line fold at eighty columns www.evil.example";
        for (name, note) in [
            ("mal`lory", "zero width www.evil.example here"),
            (
                "mal`lory",
                "plain with one backtick ` then <a href=\"https://evil.example\">click</a>",
            ),
            ("mal``lory", "x ``` <img src=https://evil.example/p.png>"),
            ("a![", "](//evil.example/p.png)"),
            ("[click", "](javascript:alert(1))"),
            ("x<", "img src=//evil.example/p.png>"),
            ("x\\", "`y` https://evil.example"),
            ("`", "`"),
        ] {
            for note in [note.to_owned(), format!("{note}{long}")] {
                let who = format!("{name}@vm");
                let md = fold_markdown(
                    &format!(
                        "- 16:26:18 HKT {} on session: {}",
                        md_text(&who),
                        md_text(&note)
                    ),
                    80,
                );
                // Each as it was typed: a code element, or text when nothing in it can act.
                let shown = |t: &str| {
                    if md_text(t) == t {
                        escape_html(t)
                    } else {
                        shown_as_code(t)
                    }
                };
                let want = format!("16:26:18 HKT {} on session: {}", shown(&who), shown(&note));
                for html in [gfm(&md), gfm_html(&md)] {
                    assert_eq!(
                        one_item(&html).as_deref(),
                        Some(want.as_str()),
                        "{md}\n{html}"
                    );
                }
            }
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
