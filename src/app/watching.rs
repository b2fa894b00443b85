//! `watch` on several journals (a shared folder): which journals the screen merges and whose
//! rehearsal clock it runs on ([`Watched`], for the header), what it says when a journal joins,
//! is set aside or stops ([`Said`], on the status line), and the plan growing when a journal of
//! other roles joins ([`Model::replan`]).

use super::{Mode, Model, Prompt, Tone};
use crate::runbook::Plan;
use crate::text::clean_line;
use chrono::{DateTime, Utc};

/// The most of a name the header gives to whose clock it is (the title gives way first).
const WHO_COLUMNS: usize = 16;

/// One journal the screen merges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedJournal {
    /// Its file name (`desk1--ep+hsn+omd.jsonl`).
    pub file: String,
    /// Who wrote it: `alice@desk1`, or several, comma-separated.
    pub who: String,
    /// The hosts that wrote it.
    pub hosts: Vec<String>,
    /// Who wrote its newest event: whose clock it is.
    pub writer: String,
    pub roles: Vec<String>,
}

/// The journals `watch` merges: those joined so far, and whose clock the screen runs on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Watched {
    /// What was named on the command line (a folder), for "waiting for the first journal in".
    pub named: String,
    pub journals: Vec<WatchedJournal>,
    /// The journal (index into `journals`) whose rehearsal clock the screen runs on: the one
    /// furthest on (see `run::watch_clock_of`).
    pub clock_of: Option<usize>,
}

impl Watched {
    /// `2 hosts` (one journal each), `3 journals` (two from one host), `1 host`, `no journal
    /// yet`: what the header says the screen merges.
    pub fn count_words(&self) -> String {
        let n = self.journals.len();
        let mut hosts: Vec<&str> = self
            .journals
            .iter()
            .flat_map(|j| j.hosts.iter().map(String::as_str))
            .collect();
        hosts.sort_unstable();
        hosts.dedup();
        match n {
            0 => "no journal yet".to_owned(),
            _ if hosts.len() == n => format!("{n} host{}", if n == 1 { "" } else { "s" }),
            _ => format!("{n} journals"),
        }
    }

    /// Whose rehearsal clock the screen is on, when that says something (several journals):
    /// `clock of bob@md1`, the name cut to [`WHO_COLUMNS`].
    pub fn clock_words(&self) -> Option<String> {
        if self.journals.len() < 2 {
            return None;
        }
        let j = self.journals.get(self.clock_of?)?;
        Some(format!(
            "clock of {}",
            crate::text::ellipsize(&clean_line(&j.writer), WHO_COLUMNS)
        ))
    }
}

/// What happened among the journals watched, said on the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    Joined(WatchedJournal),
    /// A journal that appeared is not merged: `why`.
    SetAside {
        file: String,
        why: String,
    },
    /// A joined journal is no longer followed (what it held stays on screen): `why`.
    Stopped {
        file: String,
        why: String,
    },
}

/// `watch` on several journals: the journals as they now stand, a new plan when journals of
/// other roles joined, and what to say.
#[derive(Debug, Clone)]
pub struct JournalsNow {
    pub watched: Watched,
    pub plan: Option<Plan>,
    pub said: Vec<Said>,
}

impl Model {
    /// Take what the watched journals say: the plan of their roles when it grew, the header's
    /// count, and the status line for each journal that joined, was set aside or stopped.
    pub(super) fn journals_now(&mut self, now: DateTime<Utc>, j: JournalsNow) {
        let first = self.watched.as_ref().is_some_and(|w| w.journals.is_empty());
        if let Some(plan) = j.plan {
            self.replan(plan, now);
        }
        if first && !j.watched.journals.is_empty() {
            // The first journal: nothing was selected by anyone, start at its first open step.
            self.follow = true;
            self.view_phase = self.clock_phase(now);
            self.cursor = None;
            self.listed.clear();
            self.settle_cursor(now);
        }
        let count = j.watched.count_words();
        let mut lines = Vec::new();
        let mut tone = Tone::Info;
        for s in &j.said {
            match s {
                Said::Joined(w) => lines.push(format!(
                    "{} joined: {} [{}]",
                    clean_line(&w.file),
                    clean_line(&w.who),
                    clean_line(&w.roles.join(","))
                )),
                Said::SetAside { file, why } => {
                    tone = Tone::Error;
                    lines.push(format!(
                        "{} NOT joined: {}",
                        clean_line(file),
                        clean_line(why)
                    ));
                }
                Said::Stopped { file, why } => {
                    tone = Tone::Error;
                    lines.push(format!(
                        "{} no longer followed (what it held stays): {}",
                        clean_line(file),
                        clean_line(why)
                    ));
                }
            }
        }
        if !lines.is_empty() {
            // The errors first: a line too long for the screen keeps its start.
            if tone == Tone::Error {
                lines.sort_by_key(|l| !l.contains(" NOT joined: ") && !l.contains(" no longer "));
            }
            self.say(format!("{} · now {count}", lines.join(" · ")), tone);
        }
        self.watched = Some(j.watched);
        self.changed = true;
    }

    /// The plan of more roles (a journal of other roles joined `watch`): every step listed,
    /// ordered and folded again; the selection, the phase browsed and the filters stay as they
    /// were (the selection on its step, found by id).
    pub fn replan(&mut self, plan: Plan, now: DateTime<Utc>) {
        let id = |m: &Model, i: usize| m.plan.steps.get(i).map(|s| s.id.clone());
        let selected = self.cursor.and_then(|i| id(self, i));
        let listed: Vec<String> = self.listed.iter().filter_map(|&i| id(self, i)).collect();
        self.plan = plan;
        self.order = super::list::time_order(&self.plan);
        self.refold();
        self.listed = listed
            .iter()
            .filter_map(|s| self.plan.step_index(s))
            .collect();
        self.cursor = selected.and_then(|s| self.plan.step_index(&s));
        // A prompt or a choice about a step by its old index would act on another step; a
        // watcher types only searches.
        let keep = match &self.mode {
            Mode::Normal => true,
            Mode::Typing(i) => i.prompt == Prompt::Search,
            _ => false,
        };
        if !keep {
            self.mode = Mode::Normal;
        }
        if self.follow {
            self.view_phase = self.clock_phase(now);
        }
        if self.cursor.is_none() {
            self.cursor = self.first_open(now);
        }
        self.settle_cursor(now);
        self.changed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(file: &str, host: &str) -> WatchedJournal {
        WatchedJournal {
            file: file.into(),
            who: format!("op@{host}"),
            hosts: vec![host.into()],
            writer: format!("op@{host}"),
            roles: vec!["ep".into()],
        }
    }

    #[test]
    fn the_header_counts_hosts_or_journals_and_names_whose_clock() {
        let mut w = Watched::default();
        assert_eq!(w.count_words(), "no journal yet");
        w.journals.push(journal("a.jsonl", "desk1"));
        assert_eq!(w.count_words(), "1 host");
        w.clock_of = Some(0);
        assert_eq!(
            w.clock_words(),
            None,
            "one journal: its clock goes without saying"
        );
        w.journals.push(journal("b.jsonl", "md1"));
        assert_eq!(w.count_words(), "2 hosts");
        w.clock_of = Some(1);
        assert_eq!(w.clock_words().as_deref(), Some("clock of op@md1"));
        // Two journals written on one host are two journals, not two hosts.
        w.journals.push(journal("c.jsonl", "md1"));
        assert_eq!(w.count_words(), "3 journals");
        w.journals[1].writer = "a-very-long-operator-name@a-long-host".into();
        assert_eq!(
            w.clock_words().unwrap().chars().count(),
            "clock of ".len() + WHO_COLUMNS
        );
    }
}
