//! Commands drillbook prints for the operator to paste: words quoted for a POSIX shell.

/// One word for a POSIX shell: as is when plain, else in single quotes.
pub fn word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:+=,@".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_and_others_are_single_quoted() {
        assert_eq!(word("hr/hx.yaml"), "hr/hx.yaml");
        assert_eq!(word("my runbooks/ep.yaml"), "'my runbooks/ep.yaml'");
        assert_eq!(word("it's"), "'it'\\''s'");
        assert_eq!(word(""), "''");
    }
}
