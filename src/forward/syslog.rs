//! One journal event as an RFC 5424 syslog message: the event's own time, its host, app name
//! `drillbook`, a message id per kind, every field of the event as structured data (SD-ID
//! `drillbook@32473`), and a one-line human message. Untrusted text (notes, evidence, names) goes
//! through the neutraliser before it is written, in the structured data as in the message, so a
//! collector's file or a terminal reading it meets no control character; then the structured
//! data's values are escaped as RFC 5424 requires (`"`, `\` and `]`).
//!
//! drillbook has no IANA private enterprise number; 32473 is the number RFC 5612 reserves for
//! documentation and examples. A firm that wants its own can rewrite the SD-ID at its collector.

use crate::journal::Event;
use crate::text::clean_line;
use chrono_tz::Tz;
use std::fmt::Write as _;

/// The structured data element's id.
pub const SD_ID: &str = "drillbook@32473";

/// APP-NAME.
pub const APP_NAME: &str = "drillbook";

/// Facility `user` (1): drillbook is an application, not a system daemon; a collector selects
/// its messages by APP-NAME.
const FACILITY: u8 = 1;

/// The human message is cut here (the structured data carries every field whole).
const MSG_CAP: usize = 1024;

/// Severities used.
const WARNING: u8 = 4;
const NOTICE: u8 = 5;
const INFO: u8 = 6;

/// What a forwarder sends for one item of the journal.
#[derive(Debug, Clone, Copy)]
pub enum What<'a> {
    Event(&'a Event),
    /// An event already sent that its writer later set aside (its fsync failed): it does not
    /// count. Carries the retracted event's seq and line.
    Retracted {
        seq: u64,
        line: u64,
        /// The event that sets it aside (its session, host and time are used).
        by: &'a Event,
    },
}

/// The journal-wide context a message names: the journal's roles and the session's zone (for
/// the human message's times).
#[derive(Debug, Clone)]
pub struct Journal {
    pub roles: Vec<String>,
    pub tz: Tz,
}

fn severity(e: &Event) -> u8 {
    use crate::journal::{Action, StepState};
    match &e.action {
        Action::Step {
            state: StepState::Failed,
            ..
        }
        | Action::Notification { ok: false, .. }
        | Action::Note { issue: true, .. }
        | Action::TornSetAside { .. } => WARNING,
        Action::BoundaryConfirmed { .. }
        | Action::PhaseEntered { .. }
        | Action::Handover { .. } => NOTICE,
        _ => INFO,
    }
}

/// HOSTNAME: printable US-ASCII without spaces, at most 255; anything else becomes `_`.
fn hostname(h: &str) -> String {
    let s: String = h
        .chars()
        .take(255)
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    if s.is_empty() { "-".into() } else { s }
}

/// An SD-PARAM value: neutralised, then `"`, `\` and `]` escaped with a backslash.
pub fn param_value(v: &str) -> String {
    let clean = clean_line(v);
    let mut out = String::with_capacity(clean.len());
    for c in clean.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An SD-NAME: 1 to 32 printable US-ASCII characters other than `=`, space, `]` and `"`.
fn param_name(k: &str) -> String {
    let s: String = k
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '=' | ']' | '"'))
        .take(32)
        .collect();
    if s.is_empty() { "_".into() } else { s }
}

/// The event's fields as (name, value) pairs: `session` and `seq` first (what a collector drops
/// duplicates by, with `host` and `roles`), then every other field by name; lists comma-joined,
/// the rehearsal stamp as `rehearsal.virtual_utc` and `rehearsal.speed`.
fn params(e: &Event, j: &Journal) -> Vec<(String, String)> {
    let mut out = vec![
        ("session".to_owned(), e.session.clone()),
        ("seq".to_owned(), e.seq.to_string()),
    ];
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(e) else {
        return out;
    };
    let mut rest: Vec<(String, String)> = Vec::new();
    let flat = |k: String, v: &serde_json::Value, rest: &mut Vec<(String, String)>| {
        let s = match v {
            serde_json::Value::Null => return,
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        rest.push((k, s));
    };
    for (k, v) in &map {
        if k == "session" || k == "seq" {
            continue;
        }
        if let serde_json::Value::Object(inner) = v {
            for (ik, iv) in inner {
                flat(format!("{k}.{ik}"), iv, &mut rest);
            }
        } else {
            flat(k.clone(), v, &mut rest);
        }
    }
    if !map.contains_key("roles") {
        rest.push(("roles".into(), j.roles.join(",")));
    }
    rest.sort();
    out.extend(rest);
    out
}

fn sd(params: &[(String, String)]) -> String {
    let mut s = format!("[{SD_ID}");
    for (k, v) in params {
        let _ = write!(s, " {}=\"{}\"", param_name(k), param_value(v));
    }
    s.push(']');
    s
}

/// `2023-11-25T00:12:31.204000Z`.
fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The human message, one line, neutralised, cut at [`MSG_CAP`]; with the BOM RFC 5424 asks
/// for before UTF-8 text when it is not plain ASCII.
fn msg(text: &str) -> String {
    let mut t = clean_line(text).into_owned();
    if t.len() > MSG_CAP {
        let mut cut = MSG_CAP;
        while !t.is_char_boundary(cut) {
            cut -= 1;
        }
        t.truncate(cut);
        t.push('…');
    }
    if t.is_ascii() {
        t
    } else {
        format!("\u{feff}{t}")
    }
}

/// The whole message: `<PRI>1 TIMESTAMP HOSTNAME drillbook - MSGID [SD] MSG`.
pub fn message(what: What<'_>, j: &Journal) -> String {
    match what {
        What::Event(e) => {
            let pri = FACILITY * 8 + severity(e);
            let text = format!(
                "{} [{}] {}: {}",
                e.who(),
                j.roles.join(","),
                e.action.kind(),
                crate::cmd::log_payload(&e.action, j.tz)
            );
            format!(
                "<{pri}>1 {} {} {APP_NAME} - {} {} {}",
                timestamp(e.utc),
                hostname(&e.host),
                e.action.kind(),
                sd(&params(e, j)),
                msg(&text)
            )
        }
        What::Retracted { seq, line, by } => {
            let pri = FACILITY * 8 + WARNING;
            let p = vec![
                ("session".to_owned(), by.session.clone()),
                ("seq".to_owned(), seq.to_string()),
                ("host".to_owned(), by.host.clone()),
                ("line".to_owned(), line.to_string()),
                ("roles".to_owned(), j.roles.join(",")),
                ("set_aside_by_seq".to_owned(), by.seq.to_string()),
            ];
            let text = format!(
                "event #{seq} (line {line}) of {} was set aside by its writer (its fsync failed): it does not count",
                by.host
            );
            format!(
                "<{pri}>1 {} {} {APP_NAME} - retracted {} {}",
                timestamp(by.utc),
                hostname(&by.host),
                sd(&p),
                msg(&text)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Action, StepState};
    use chrono::TimeZone;

    fn ev(action: Action) -> Event {
        Event {
            v: 1,
            seq: 7,
            utc: chrono::Utc
                .with_ymd_and_hms(2023, 11, 25, 0, 12, 31)
                .unwrap()
                + chrono::TimeDelta::milliseconds(204),
            local: "2023-11-25T08:12:31.204+08:00".into(),
            operator: "alice".into(),
            host: "desk 1".into(),
            session: "hkex-ps2-2023-11-25".into(),
            runbooks: vec!["ep".into(), "hsn".into()],
            sha256: "9f2c".into(),
            rehearsal: None,
            action,
        }
    }

    fn j() -> Journal {
        Journal {
            roles: vec!["ep".into(), "hsn".into()],
            tz: chrono_tz::Asia::Hong_Kong,
        }
    }

    #[test]
    fn a_step_is_a_well_formed_rfc5424_message_with_every_field() {
        let m = message(
            What::Event(&ev(Action::Step {
                step: "ep-primary-logon-dropcopy".into(),
                state: StepState::Failed,
                note: Some("rejected".into()),
            })),
            &j(),
        );
        assert_eq!(
            m,
            "<12>1 2023-11-25T00:12:31.204000Z desk_1 drillbook - step [drillbook@32473 \
             session=\"hkex-ps2-2023-11-25\" seq=\"7\" host=\"desk 1\" kind=\"step\" \
             local=\"2023-11-25T08:12:31.204+08:00\" note=\"rejected\" operator=\"alice\" \
             roles=\"ep,hsn\" runbooks=\"ep,hsn\" sha256=\"9f2c\" state=\"failed\" \
             step=\"ep-primary-logon-dropcopy\" utc=\"2023-11-25T00:12:31.204Z\" v=\"1\"] \
             alice@desk 1 [ep,hsn] step: ep-primary-logon-dropcopy failed: rejected"
        );
    }

    #[test]
    fn quotes_backslashes_brackets_and_controls_cannot_break_out_of_a_param() {
        let hostile = "a\"] [evil@1 x=\"y\\\u{1b}[31m\nnext";
        let m = message(
            What::Event(&ev(Action::Note {
                step: None,
                text: hostile.into(),
                issue: true,
            })),
            &j(),
        );
        assert!(m.starts_with("<12>1 "), "an issue is a warning: {m}");
        assert!(
            m.contains(r#"text="a\"\] [evil@1 x=\"y\\␛[31m␊next""#),
            "{m}"
        );
        assert!(!m.contains('\n') && !m.contains('\u{1b}'), "{m}");
        // Exactly one SD element: every `]` inside values is escaped.
        let sd_start = m.find('[').unwrap();
        let mut depth_end = None;
        let b = m.as_bytes();
        let mut i = sd_start + 1;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 1,
                b']' => {
                    depth_end = Some(i);
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let end = depth_end.unwrap();
        assert!(
            m[end + 1..].starts_with(' ') && !m[end + 1..].starts_with(" ["),
            "the message follows the one element: {}",
            &m[end..]
        );
        // Non-ASCII text carries the BOM.
        let m = message(
            What::Event(&ev(Action::Note {
                step: None,
                text: "港交所".into(),
                issue: false,
            })),
            &j(),
        );
        assert!(m.contains("] \u{feff}alice@desk 1"), "{m}");
        assert!(m.starts_with("<14>1 "), "a note is informational");
    }

    #[test]
    fn a_rehearsal_stamp_and_a_retraction_are_fields_too() {
        let mut e = ev(Action::PhaseEntered {
            phase: "backup".into(),
        });
        e.rehearsal = Some(crate::journal::Rehearsal {
            virtual_utc: chrono::Utc.with_ymd_and_hms(2023, 11, 25, 3, 0, 0).unwrap(),
            speed: 60.0,
        });
        let m = message(What::Event(&e), &j());
        assert!(m.starts_with("<13>1 "), "{m}");
        assert!(
            m.contains("rehearsal.speed=\"60.0\" rehearsal.virtual_utc=\"2023-11-25T03:00:00Z\""),
            "{m}"
        );
        let m = message(
            What::Retracted {
                seq: 6,
                line: 6,
                by: &ev(Action::TornSetAside {
                    line: 6,
                    bytes: 120,
                }),
            },
            &j(),
        );
        assert!(
            m.starts_with("<12>1 2023-11-25T00:12:31.204000Z desk_1 drillbook - retracted [drillbook@32473 session=\"hkex-ps2-2023-11-25\" seq=\"6\""),
            "{m}"
        );
    }
}
