//! The bundled runbooks read against the two HKEX notices (copies in `tests/fixtures/notices/`,
//! so the test stands alone): a step whose basis is `notice` must carry a phrase of the notices
//! (six words in a row, compared without case or punctuation) and quote them word for word; a
//! step whose basis is `source` must name its source, a reference of the session that is not
//! one of the notices. The checks are tried on statements known to be wrong first, so a check
//! that stopped checking fails here too.

use drillbook::runbook::{Basis, Plan, Step, load_bundled};
use std::collections::HashSet;
use std::path::Path;

/// How many words in a row make a phrase of the notices.
const PHRASE: usize = 6;

fn notices_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/notices")
}

/// The notices' text, one string.
fn notices() -> String {
    let mut files: Vec<_> = std::fs::read_dir(notices_dir())
        .expect("tests/fixtures/notices")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "the two notices: {files:?}");
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Lower-case words of letters and digits; HTML tags (the circular's table) left out, so
/// `<u>At the Primary Site:</u>` reads as `at the primary site`.
fn words(text: &str) -> Vec<String> {
    let mut plain = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                plain.push(' ');
            }
            _ if in_tag => {}
            _ => plain.push(c),
        }
    }
    plain
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

struct Notices {
    words: Vec<String>,
    phrases: HashSet<String>,
    text: String,
}

impl Notices {
    fn load() -> Self {
        let text = notices();
        let words = words(&text);
        let phrases = words.windows(PHRASE).map(|w| w.join(" ")).collect();
        Self {
            words,
            phrases,
            text,
        }
    }

    fn has_phrase(&self, text: &str) -> bool {
        words(text)
            .windows(PHRASE)
            .any(|w| self.phrases.contains(&w.join(" ")))
    }

    /// Whether `quote`'s words occur in the notices in that order, one after another.
    fn has_words(&self, quote: &str) -> bool {
        let q = words(quote);
        q.is_empty() || self.words.windows(q.len()).any(|w| w == q.as_slice())
    }
}

/// Text between double quotes (straight or curly) of two words or more.
fn quotes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for c in text.chars() {
        match (c, &mut cur) {
            ('"' | '\u{201c}' | '\u{201d}', Some(q)) => {
                if q.split_whitespace().count() >= 2 {
                    out.push(q.clone());
                }
                cur = None;
            }
            ('"' | '\u{201c}', None) => cur = Some(String::new()),
            (c, Some(q)) => q.push(c),
            _ => {}
        }
    }
    out
}

/// What is wrong with one step's statement, if anything.
fn problems(step: &Step, plan: &Plan, notices: &Notices) -> Vec<String> {
    let text = format!("{}\n{}", step.title, step.detail);
    let mut out = Vec::new();
    match step.basis {
        Basis::Notice => {
            if !notices.has_phrase(&text) {
                out.push(format!(
                    "{}: basis notice, but no phrase of {PHRASE} words from the notices",
                    step.id
                ));
            }
            for q in quotes(&text) {
                if !notices.has_words(&q) {
                    out.push(format!(
                        "{}: quotes \"{q}\", which the notices do not say word for word",
                        step.id
                    ));
                }
            }
        }
        Basis::Source => {
            let lower = text.to_lowercase();
            let named = plan
                .session
                .references
                .iter()
                .any(|r| !notices.text.contains(&r.id) && lower.contains(&r.id.to_lowercase()));
            if !named {
                out.push(format!(
                    "{}: basis source, but it names no source (a session reference that is not a notice)",
                    step.id
                ));
            }
        }
        Basis::Practice => {}
    }
    out
}

fn all_roles() -> Plan {
    load_bundled(&["ep".into(), "ccep".into(), "hsn".into(), "omd".into()]).expect("bundled")
}

fn step_like(plan: &Plan, basis: Basis, title: &str, detail: &str) -> Step {
    let mut s = plan.steps[0].clone();
    s.id = "probe".into();
    s.basis = basis;
    s.title = title.into();
    s.detail = detail.into();
    s
}

#[test]
fn the_checks_catch_statements_known_to_be_wrong() {
    let plan = all_roles();
    let n = Notices::load();
    let bad = [
        // A claim the notices do not make, marked as theirs.
        step_like(
            &plan,
            Basis::Notice,
            "Wait for the end",
            "HKEX announces the end of the failover on the day.",
        ),
        // The notice's "Hosing Services" typo silently corrected inside quotation marks.
        step_like(
            &plan,
            Basis::Notice,
            "Intention Form",
            "Complete the \"Intention Form for Using HSN to participate Practice session for Firmware \
             Upgrade of HKEX Backbone Network for Hosting Services Subscribers\" and return it to HKEX \
             Hosting Services - Service Desk on or before 24 Nov 2023.",
        ),
        // Other material, not named.
        step_like(
            &plan,
            Basis::Source,
            "Endpoints",
            "The OCG lookup service returns a primary and a secondary endpoint (public HKEX material).",
        ),
        // Named, but the name is a notice's: not where the statement comes from.
        step_like(
            &plan,
            Basis::Source,
            "Feedback",
            "Packages carry a feedback form (MDD/23/690).",
        ),
    ];
    for s in &bad {
        assert!(
            !problems(s, &plan, &n).is_empty(),
            "not caught: {}",
            s.detail
        );
    }
    let good = [
        step_like(
            &plan,
            Basis::Notice,
            "Post Release Tests",
            "The circular: Post Release Tests will be further arranged in due course.",
        ),
        step_like(
            &plan,
            Basis::Source,
            "Throttles",
            "HKEX OCG-C interface specifications: throughput is limited by throttles.",
        ),
    ];
    for s in &good {
        assert_eq!(problems(s, &plan, &n), Vec::<String>::new());
    }
}

#[test]
fn every_bundled_statement_is_traceable_to_the_notices_or_a_named_source() {
    let plan = all_roles();
    let n = Notices::load();
    let all: Vec<String> = plan
        .steps
        .iter()
        .flat_map(|s| problems(s, &plan, &n))
        .collect();
    assert!(all.is_empty(), "{}", all.join("\n"));
    // The walk covered statements of each kind.
    for b in [Basis::Notice, Basis::Source, Basis::Practice] {
        assert!(plan.steps.iter().any(|s| s.basis == b), "{b:?}");
    }
}

/// CI runs with `shared/` beside the clone: when it is there, the fixture copies must be the
/// notices themselves.
#[test]
fn the_fixture_notices_are_the_seeds_when_those_are_beside_the_clone() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds");
    let Ok(dir) = std::fs::read_dir(&seeds) else {
        return;
    };
    let mut theirs: Vec<String> = dir
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    theirs.sort();
    let mut ours: Vec<String> = std::fs::read_dir(notices_dir())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    ours.sort();
    assert_eq!(
        ours, theirs,
        "tests/fixtures/notices differ from ../shared/seeds"
    );
}
