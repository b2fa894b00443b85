//! The evidence report the firm files, for the HSN Result Form and the internal report: one
//! model folded from the plan and the journal's record ([`build`]), written out as Markdown, CSV
//! (formula-safe) or JSON. Every text in the model has been through the neutraliser, so no
//! renderer can pass an escape sequence on.
//!
//! What it holds: per phase and per system the result (a step counts for every system it names),
//! the result at the primary and at the backup site with the evidence behind it, every step with
//! its state, who, when, its note or reason and its evidence; the boundaries planned against
//! confirmed, with drift; session notes; issues (failed steps, notes marked as an issue).

pub mod csv;
pub mod markdown;

use crate::handover::Context;
use crate::journal::StepState;
use crate::journal::record::{Record, Stamp};
use crate::runbook::{Plan, Step};
use crate::setup::state_of;
use crate::standing::Tally;
use crate::text::clean_line;
use crate::timeline::Timeline;
use crate::zones;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::fmt::Write as _;

pub use csv::{CSV_HEADER, render_csv};
pub use markdown::render_md;

/// The systems in the order the circulars name them; others follow alphabetically.
const SYSTEM_ORDER: [&str; 5] = ["OTP-C", "OTP-CSC", "OMD-C", "OMD-CC", "HSN"];

/// The label for steps without a `system`.
pub const NO_SYSTEM: &str = "(general)";

/// The phase ids of the two sites, whose results the report sets side by side.
pub const SITES: [(&str, &str); 2] = [("primary", "Primary site"), ("backup", "Backup site")];

/// The systems a step counts for: the ones it names, else the general row.
pub fn systems_of(step: &Step) -> Vec<&str> {
    if step.systems.is_empty() {
        vec![NO_SYSTEM]
    } else {
        step.systems.iter().map(String::as_str).collect()
    }
}

/// The systems the plan's steps exercise, in circular order.
pub fn systems(plan: &Plan) -> Vec<String> {
    let mut v: Vec<String> = plan
        .steps
        .iter()
        .flat_map(|s| systems_of(s).into_iter().map(str::to_owned))
        .collect();
    v.sort_by_key(|s| {
        (
            SYSTEM_ORDER
                .iter()
                .position(|x| x == s)
                .unwrap_or(SYSTEM_ORDER.len() + usize::from(s == NO_SYSTEM)),
            s.clone(),
        )
    });
    v.dedup();
    v
}

/// One instant, in UTC and in the session's zone (RFC 3339 with its offset).
#[derive(Debug, Clone, Serialize)]
pub struct Instant {
    pub utc: DateTime<Utc>,
    pub session: String,
}

impl Instant {
    fn new(t: DateTime<Utc>, tz: Tz) -> Self {
        use chrono::SubsecRound;
        Self {
            utc: t.trunc_subsecs(0),
            session: t
                .with_timezone(&tz)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        }
    }
}

/// Who did something, and when (session clock).
#[derive(Debug, Clone, Serialize)]
pub struct By {
    pub who: String,
    pub at: Instant,
    /// The journal event's `seq`.
    pub seq: u64,
}

impl By {
    fn of(s: &Stamp, tz: Tz) -> Self {
        Self {
            who: clean_line(&s.who()).into_owned(),
            at: Instant::new(s.at, tz),
            seq: s.seq,
        }
    }
}

/// A phase boundary: planned, and for an approximate one as confirmed.
#[derive(Debug, Clone, Serialize)]
pub struct Boundary {
    pub key: String,
    pub label: String,
    pub approximate: bool,
    pub planned: Instant,
    /// The confirmed instant, for a confirmed approximate boundary.
    pub confirmed: Option<Instant>,
    /// Confirmed minus planned, in seconds.
    pub drift_seconds: Option<i64>,
    /// Who confirmed it, and when they recorded it.
    pub confirmed_by: Option<By>,
    pub note: Option<String>,
}

impl Boundary {
    /// The instant the boundary took effect: confirmed, else planned.
    pub fn effective(&self) -> DateTime<Utc> {
        self.confirmed.as_ref().map_or(self.planned.utc, |c| c.utc)
    }
}

/// One system's result in one phase.
#[derive(Debug, Clone, Serialize)]
pub struct SystemResult {
    pub system: String,
    pub result: &'static str,
    pub tally: Tally,
}

/// An evidence value as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub field: String,
    pub value: String,
    pub by: By,
    /// Sensed by the step's check of this kind (`log`, `tcp`, ...), not typed by the operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensed: Option<String>,
}

/// The newest run of a step's check, and how many there were.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub check: String,
    pub target: String,
    pub outcome: crate::journal::CheckOutcome,
    pub detail: String,
    pub duration_ms: u64,
    pub simulated: bool,
    pub by: By,
    pub runs: usize,
}

/// A note, on a step or on the session.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub step: Option<String>,
    pub text: String,
    /// The operator marked it as an issue.
    pub issue: bool,
    pub by: By,
}

/// One step: its state as the journal leaves it, who set it and when, the note or reason, and
/// its evidence and notes.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub id: String,
    pub title: String,
    pub role: String,
    pub phase: String,
    pub systems: Vec<String>,
    pub critical: bool,
    pub due: Option<Instant>,
    pub state: StepState,
    /// Who set the state, and when; None when the journal has nothing for the step.
    pub by: Option<By>,
    /// The failure note, the skip reason, or the note given with the state; for a step n/a by
    /// design, the runbook's reason.
    pub note: Option<String>,
    /// Typed by the operator.
    pub evidence: Vec<Evidence>,
    /// Sensed by the step's check, shown apart from what was typed.
    pub sensed: Vec<Evidence>,
    /// The newest run of the step's check, if it ran.
    pub check: Option<CheckReport>,
    pub notes: Vec<Note>,
}

/// One phase: its boundaries and steps.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    pub id: String,
    pub title: String,
    /// Indices into [`Report::boundaries`].
    pub start: usize,
    pub end: usize,
    pub results: Vec<SystemResult>,
    pub steps: Vec<StepReport>,
}

/// One system at one site.
#[derive(Debug, Clone, Serialize)]
pub struct SiteResult {
    pub system: String,
    pub site: String,
    /// The phase id of the site.
    pub phase: String,
    pub result: &'static str,
    pub tally: Tally,
    /// Every evidence value of the site's steps that name the system, with the step id.
    pub evidence: Vec<(String, Evidence)>,
}

/// An entry under Issues.
#[derive(Debug, Clone, Serialize)]
pub struct Issue {
    /// `failed step` or `issue note`.
    pub kind: &'static str,
    pub step: Option<String>,
    pub title: Option<String>,
    pub systems: Vec<String>,
    pub text: String,
    pub by: By,
}

/// A notification that failed on a channel.
#[derive(Debug, Clone, Serialize)]
pub struct FailedNotification {
    pub key: String,
    pub channel: String,
    pub error: String,
    pub by: By,
}

/// What the report can say for the HSN Result Form.
#[derive(Debug, Clone, Serialize)]
pub struct HsnForm {
    /// The form's deadline, from the session file.
    pub due: Option<Instant>,
    pub due_title: Option<String>,
    /// The steps of the hsn runbook, whose evidence the form is filled from.
    pub steps: Vec<String>,
    /// What the notices leave undefined.
    pub undefined: &'static str,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `REHEARSAL`: not the real record.
    pub rehearsal: bool,
    pub session: String,
    pub title: String,
    pub date: chrono::NaiveDate,
    pub zone: String,
    pub roles: Vec<String>,
    pub journal: String,
    pub written_at: Instant,
    /// The runbook hash the journal was written with, when it differs from the runbooks read.
    pub hash_mismatch: Option<String>,
    pub boundaries: Vec<Boundary>,
    pub phases: Vec<PhaseReport>,
    pub sites: Vec<SiteResult>,
    pub session_notes: Vec<Note>,
    pub issues: Vec<Issue>,
    pub failed_notifications: Vec<FailedNotification>,
    pub hsn_result_form: Option<HsnForm>,
    /// Step ids the journal records that the runbooks read do not have.
    pub unknown_steps: Vec<String>,
    pub references: Vec<String>,
    pub contacts: Vec<String>,
}

/// What the notices say, and do not say, about the HSN Result Form (see shared domain notes:
/// the form's fields are unknown).
pub const HSN_FORM_UNDEFINED: &str = "The notices name the form (Appendix B, \"Result Form for Using HSN to participate Practice \
Session for Firmware Upgrade of HKEX Backbone Network\"), its recipient (HKEX Hosting Services - Service Desk) \
and its date (on or before 27 Nov 2023, time of day not stated). They define none of its fields: which \
results, times or contacts it asks for is not known here. Fill it from the evidence below.";

fn c(s: &str) -> String {
    clean_line(s).into_owned()
}

/// Fold the plan and the record into the report.
pub fn build(plan: &Plan, record: &Record, ctx: &Context) -> Report {
    // Dues after a phase's start (`+20m`) as the confirmations place them.
    let plan = &*crate::timeline::confirmed_plan(plan, record);
    let s = &plan.session;
    let tz = s.tz;
    let tl = Timeline::with_confirmations(s, record);
    let boundaries: Vec<Boundary> = tl
        .transitions
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let cf = record.confirmation(&t.key);
            Boundary {
                key: c(&t.key),
                label: c(&s.transition_label(t)),
                approximate: t.approximate,
                planned: Instant::new(t.at, tz),
                confirmed: tl.confirmed_at(i).map(|x| Instant::new(x, tz)),
                drift_seconds: tl.drift(i).map(|d| d.num_seconds()),
                confirmed_by: cf.map(|x| By::of(&x.stamp, tz)),
                note: cf.and_then(|x| x.note.as_deref()).map(c),
            }
        })
        .collect();

    // The current value of each of a step's evidence fields, typed or sensed.
    let evidence_of = |step: &Step, sensed: bool| -> Vec<Evidence> {
        step.evidence
            .iter()
            .filter_map(|f| {
                let e = record.evidence_of(&step.id, f)?;
                (e.sensed.is_some() == sensed).then(|| Evidence {
                    field: c(f),
                    value: c(&e.value),
                    by: By::of(&e.stamp, tz),
                    sensed: e.sensed.as_deref().map(c),
                })
            })
            .collect()
    };
    let step_report = |step: &Step| -> StepReport {
        let change = record.state_of(&step.id);
        let state = state_of(plan, step, record);
        let note = change.and_then(|x| x.note.clone()).or_else(|| {
            // n/a by the runbook, or by a choice recorded as another option: say which.
            (change.is_none() && state == StepState::NotApplicable)
                .then(|| crate::setup::not_applying(plan, step, record))
                .flatten()
        });
        StepReport {
            id: c(&step.id),
            title: c(&step.title),
            role: c(&step.role),
            phase: c(&s.phases[step.phase].id),
            systems: step.systems.iter().map(|x| c(x)).collect(),
            critical: step.critical,
            due: step.due.map(|d| Instant::new(d, tz)),
            state,
            by: change.map(|x| By::of(&x.stamp, tz)),
            note: note.as_deref().map(c),
            evidence: evidence_of(step, false),
            sensed: evidence_of(step, true),
            check: record.checks.get(&step.id).and_then(|runs| {
                let last = runs.last()?;
                Some(CheckReport {
                    check: c(&last.check),
                    target: c(&last.target),
                    outcome: last.outcome,
                    detail: c(&last.detail),
                    duration_ms: last.duration_ms,
                    simulated: last.simulated,
                    by: By::of(&last.stamp, tz),
                    runs: runs.len(),
                })
            }),
            notes: record
                .notes
                .iter()
                .filter(|n| n.step.as_deref() == Some(step.id.as_str()))
                .map(|n| note_of(n, tz))
                .collect(),
        }
    };

    let all_systems = systems(plan);
    let tally = |phase: usize, sys: &str| -> Option<Tally> {
        let mut t = Tally::default();
        for (_, st) in plan.steps_in(phase) {
            if systems_of(st).contains(&sys) {
                t.add(state_of(plan, st, record));
            }
        }
        (t.steps > 0).then_some(t)
    };
    let phases: Vec<PhaseReport> = (0..s.phases.len())
        .map(|p| {
            let (start, end) = tl.bounds_of(p);
            PhaseReport {
                id: c(&s.phases[p].id),
                title: c(&s.phases[p].title),
                start,
                end,
                results: all_systems
                    .iter()
                    .filter_map(|sys| {
                        tally(p, sys).map(|t| SystemResult {
                            system: c(sys),
                            result: t.result(),
                            tally: t,
                        })
                    })
                    .collect(),
                steps: plan.steps_in(p).map(|(_, st)| step_report(st)).collect(),
            }
        })
        .collect();

    let mut sites = Vec::new();
    for sys in &all_systems {
        for (phase_id, site) in SITES {
            let Some(p) = s.phase_index(phase_id) else {
                continue;
            };
            let Some(t) = tally(p, sys) else { continue };
            // `steps_in` and the phase's step reports are in the same order.
            let evidence = plan
                .steps_in(p)
                .zip(&phases[p].steps)
                .filter(|((_, step), _)| systems_of(step).contains(&sys.as_str()))
                .flat_map(|(_, st)| {
                    st.evidence
                        .iter()
                        .chain(&st.sensed)
                        .map(|e| (st.id.clone(), e.clone()))
                })
                .collect();
            sites.push(SiteResult {
                system: c(sys),
                site: site.to_owned(),
                phase: phase_id.to_owned(),
                result: t.result(),
                tally: t,
                evidence,
            });
        }
    }

    let mut issues: Vec<Issue> = Vec::new();
    for step in &plan.steps {
        if let Some(ch) = record.state_of(&step.id)
            && ch.state == StepState::Failed
        {
            issues.push(Issue {
                kind: "failed step",
                step: Some(c(&step.id)),
                title: Some(c(&step.title)),
                systems: step.systems.iter().map(|x| c(x)).collect(),
                text: c(ch.note.as_deref().unwrap_or("(no note)")),
                by: By::of(&ch.stamp, tz),
            });
        }
    }
    for n in record.notes.iter().filter(|n| n.issue) {
        let step = n.step.as_deref().and_then(|id| plan.step_index(id));
        issues.push(Issue {
            kind: "issue note",
            step: n.step.as_deref().map(c),
            title: step.map(|i| c(&plan.steps[i].title)),
            systems: step.map_or_else(Vec::new, |i| {
                plan.steps[i].systems.iter().map(|x| c(x)).collect()
            }),
            text: c(&n.text),
            by: By::of(&n.stamp, tz),
        });
    }
    issues.sort_by_key(|i| (i.by.at.utc, i.by.seq));

    let hsn_result_form = plan.roles().iter().any(|r| r == "hsn").then(|| {
        let dl = s.deadlines.iter().find(|d| d.id == "hsn-result-form");
        HsnForm {
            due: dl.map(|d| Instant::new(d.due, tz)),
            due_title: dl.map(|d| c(&d.title)),
            steps: plan
                .steps
                .iter()
                .filter(|st| st.role == "hsn")
                .map(|st| c(&st.id))
                .collect(),
            undefined: HSN_FORM_UNDEFINED,
        }
    });

    let mut unknown_steps: Vec<String> = record
        .steps
        .keys()
        .filter(|id| plan.step_index(id).is_none())
        .map(|id| c(id))
        .collect();
    unknown_steps.sort();
    let roles = plan.roles();
    Report {
        rehearsal: ctx.rehearsal,
        session: c(&s.id),
        title: c(&s.title),
        date: s.date,
        zone: tz.name().to_owned(),
        roles: roles.iter().map(|r| c(r)).collect(),
        journal: c(&ctx.journal),
        written_at: Instant::new(ctx.now, tz),
        hash_mismatch: ctx.hash_mismatch.as_deref().map(c),
        boundaries,
        phases,
        sites,
        session_notes: record
            .notes
            .iter()
            .filter(|n| n.step.is_none())
            .map(|n| note_of(n, tz))
            .collect(),
        issues,
        failed_notifications: record
            .notifications
            .iter()
            .filter(|n| !n.ok)
            .map(|n| FailedNotification {
                key: c(&n.key),
                channel: c(&n.channel),
                error: c(n.error.as_deref().unwrap_or("")),
                by: By::of(&n.stamp, tz),
            })
            .collect(),
        hsn_result_form,
        unknown_steps,
        references: s
            .references
            .iter()
            .map(|r| {
                let date = r
                    .date
                    .map_or_else(String::new, |d| format!(" ({})", d.format("%d %b %Y")));
                format!("{}: {}{date}", c(&r.id), c(&r.title))
            })
            .collect(),
        contacts: s
            .contacts
            .iter()
            .filter(|x| x.concerns(&roles))
            .map(|x| {
                let mut line = c(&x.name);
                if let Some(p) = &x.phone {
                    let _ = write!(line, ", phone {}", c(p));
                }
                if let Some(e) = &x.email {
                    let _ = write!(line, ", e-mail {}", c(e));
                }
                line
            })
            .collect(),
    }
}

fn note_of(n: &crate::journal::record::NoteEntry, tz: Tz) -> Note {
    Note {
        step: n.step.as_deref().map(c),
        text: c(&n.text),
        issue: n.issue,
        by: By::of(&n.stamp, tz),
    }
}

/// The report as JSON, for other tools: the model as is, pretty-printed, one trailing newline.
pub fn render_json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        // Serialising plain data cannot fail; say so rather than print nothing if it ever does.
        format!("{{\"error\": \"cannot serialise the report: {e}\"}}")
    });
    s.push('\n');
    s
}

/// Drift in words ([`zones::drift`]) from the seconds the report keeps.
pub fn drift_words(seconds: i64) -> String {
    zones::drift(chrono::TimeDelta::seconds(seconds))
}
