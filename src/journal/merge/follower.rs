//! Several journals (and folders of them) followed as they grow, for `watch`: each poll reads
//! what was appended to each journal since the last (through [`Tail`]: the cost of a new event
//! does not grow with the journals' size) and, at most once per [`folder::POLL`], lists the
//! folders for journals that appeared since.
//!
//! A journal that appears is not merged blindly: once its first event is read, it joins only if
//! it is of the joined journals' session, rehearsal or real as they are, and passes the caller's
//! own test (for `watch`: one rehearsal clock, runbooks for its roles). One that does not is set
//! aside with the reason, and one that cannot be read any more stops with its events kept: each
//! is said once, as [`News`], never dropped silently, and the others go on being followed.

use super::super::event::Event;
use super::super::folder::{self, NewJournals};
use super::super::record::Record;
use super::super::tail::{Head, Item, Tail};
use super::{MergeError, merge_records, roles_of, timeline};
use crate::text::clean_line;
use std::path::{Path, PathBuf};

/// Where a followed journal stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Opened, its first event not read yet (a host that has just created it).
    Waiting,
    /// Part of the merged view.
    Joined,
    /// Not part of the merged view, for this reason (another session, another rehearsal...).
    SetAside(String),
    /// Joined, then could not be followed any more (removed, replaced, truncated): what was read
    /// stays in the merged view; nothing more is read.
    Stopped(String),
}

/// What happened among the journals followed, for the screen to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum News {
    /// `journals[i]` joined the merged view.
    Joined(usize),
    /// A journal that appeared is not merged, and why.
    SetAside { path: PathBuf, why: String },
    /// A joined journal is no longer followed, and why (what it held stays).
    Stopped { path: PathBuf, why: String },
}

/// One journal a [`Follower`] follows.
#[derive(Debug)]
pub struct Followed {
    pub path: PathBuf,
    /// None once set aside or stopped.
    tail: Option<Tail>,
    pub events: Vec<Event>,
    pub record: Record,
    pub roles: Vec<String>,
    pub standing: Standing,
}

impl Followed {
    /// Whether its events are part of the merged view (joined, or stopped after joining).
    pub fn merged(&self) -> bool {
        matches!(self.standing, Standing::Joined | Standing::Stopped(_))
    }

    fn set_aside(&mut self, why: String) -> News {
        self.tail = None;
        self.events = Vec::new();
        self.record = Record::default();
        self.standing = Standing::SetAside(why.clone());
        News::SetAside {
            path: self.path.clone(),
            why,
        }
    }
}

/// The caller's test for a journal about to join: its reason when it may not. Given the
/// journal (its first events read) and the journals joined so far.
pub type Judge<'a> = dyn FnMut(&Followed, &[&Followed]) -> Result<(), String> + 'a;

/// Several journals followed as they grow: call [`poll`](Self::poll) when woken (a timer, or a
/// [`super::super::tail::Waiter`]); it says whether the merged view changed, [`take_news`]
/// (Self::take_news) what happened among the journals, and [`record`](Self::record) and
/// [`recent`](Self::recent) give the merged view.
#[derive(Debug)]
pub struct Follower {
    folders: Vec<NewJournals>,
    pub journals: Vec<Followed>,
    /// Journals of a folder that could not be opened (a host's journal is owner-only until it
    /// gives its group read access): tried again at each listing.
    unopened: Vec<PathBuf>,
    last_listing: Option<std::time::Instant>,
    news: Vec<News>,
}

impl Follower {
    /// Follow the journals `paths` name (files, and folders whose `*.jsonl` are followed,
    /// including those that appear later). Nothing is read until the first poll; a file named
    /// that cannot be opened is an error.
    pub fn new(paths: &[PathBuf]) -> Result<Self, MergeError> {
        let mut f = Self {
            folders: Vec::new(),
            journals: Vec::new(),
            unopened: Vec::new(),
            last_listing: None,
            news: Vec::new(),
        };
        for p in paths {
            if p.is_dir() {
                f.folders.push(NewJournals::new(p, []));
            } else if let Err(why) = f.add(p) {
                return Err(MergeError::Follow(why));
            }
        }
        Ok(f)
    }

    /// Open `path` unless it is a journal followed already (the same file by another name).
    fn add(&mut self, path: &Path) -> Result<(), super::super::tail::TailError> {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata(path) {
            let id = (m.dev(), m.ino());
            let known = self
                .journals
                .iter()
                .any(|j| std::fs::metadata(&j.path).is_ok_and(|n| (n.dev(), n.ino()) == id));
            if known {
                return Ok(());
            }
        }
        let tail = Tail::open(path)?;
        self.journals.push(Followed {
            path: path.to_owned(),
            tail: Some(tail),
            events: Vec::new(),
            record: Record::default(),
            roles: Vec::new(),
            standing: Standing::Waiting,
        });
        Ok(())
    }

    /// Read what is new, every journal joining as it may; Ok(true) when the merged view changed
    /// (events read, a journal joined or stopped). Only a folder that cannot be listed stops the
    /// whole.
    pub fn poll(&mut self) -> Result<bool, MergeError> {
        self.poll_with(&mut |_, _| Ok(()))
    }

    /// [`poll`](Self::poll), with `judge` deciding, after the one-session rule, whether a
    /// journal whose first events were just read may join.
    pub fn poll_with(&mut self, judge: &mut Judge<'_>) -> Result<bool, MergeError> {
        let mut changed = false;
        let due = self
            .last_listing
            .is_none_or(|t| t.elapsed() >= folder::POLL);
        if due {
            self.last_listing = Some(std::time::Instant::now());
            let mut fresh = std::mem::take(&mut self.unopened);
            let retried = fresh.len();
            for w in &mut self.folders {
                fresh.extend(w.poll().map_err(|source| MergeError::Folder {
                    dir: w.dir().to_owned(),
                    source,
                })?);
            }
            for (k, p) in fresh.into_iter().enumerate() {
                if let Err(e) = self.add(&p) {
                    // Said once, when it first appears; then tried again quietly.
                    if k >= retried {
                        self.news.push(News::SetAside {
                            path: p.clone(),
                            why: format!("{e}; tried again every second"),
                        });
                    }
                    self.unopened.push(p);
                }
            }
        }
        for j in &mut self.journals {
            let Some(tail) = &mut j.tail else { continue };
            let items = match tail.read_new() {
                Ok(items) => items,
                Err(e) => {
                    let why = e.to_string();
                    if j.standing == Standing::Joined {
                        j.tail = None;
                        j.standing = Standing::Stopped(why.clone());
                        self.news.push(News::Stopped {
                            path: j.path.clone(),
                            why,
                        });
                        changed = true;
                    } else {
                        self.news.push(j.set_aside(why));
                    }
                    continue;
                }
            };
            for item in items {
                match item {
                    Item::Event { event, .. } => {
                        j.record.apply(&event);
                        j.events.push(*event);
                        changed |= j.standing == Standing::Joined;
                    }
                    // Set aside by its writer: replay leaves it out, so must the follower. The
                    // record is folded again from the events kept (rare: a failed fsync).
                    Item::Retracted { seq, line: _ } => {
                        if let Some(i) = j.events.iter().rposition(|e| e.seq == seq) {
                            j.events.remove(i);
                            j.record = Record::from_events(&j.events);
                            changed |= j.standing == Standing::Joined;
                        }
                    }
                    Item::Unparsable { .. } => {}
                }
            }
            if j.roles.is_empty() {
                j.roles = roles_of(&j.events);
            }
        }
        // Journals whose first events were just read join, in the order followed: each is
        // judged against those joined before it, this poll's included.
        for i in 0..self.journals.len() {
            if self.journals[i].standing != Standing::Waiting || self.journals[i].events.is_empty()
            {
                continue;
            }
            let verdict = {
                let joined: Vec<&Followed> = self.journals.iter().filter(|j| j.merged()).collect();
                let candidate = &self.journals[i];
                one_session(candidate, &joined).and_then(|()| judge(candidate, &joined))
            };
            match verdict {
                Ok(()) => {
                    self.journals[i].standing = Standing::Joined;
                    self.news.push(News::Joined(i));
                    changed = true;
                }
                Err(why) => {
                    let news = self.journals[i].set_aside(why);
                    self.news.push(news);
                }
            }
        }
        Ok(changed)
    }

    /// What happened among the journals since the last call.
    pub fn take_news(&mut self) -> Vec<News> {
        std::mem::take(&mut self.news)
    }

    /// The journals in the merged view.
    pub fn merged(&self) -> impl Iterator<Item = &Followed> {
        self.journals.iter().filter(|j| j.merged())
    }

    /// The merged record of everything read so far.
    pub fn record(&self) -> Record {
        merge_records(self.merged().map(|j| &j.record))
    }

    /// Every event of the merged view, in time order, with the index of its journal.
    pub fn timeline(&self) -> Vec<(usize, &Event)> {
        timeline(&self.slices(usize::MAX))
    }

    /// The newest `n` events of the merged view, in time order: merged from each journal's
    /// newest `n` (an event among the newest `n` of the whole is among the newest `n` of its
    /// own journal), so the cost does not grow with the journals.
    pub fn recent(&self, n: usize) -> Vec<&Event> {
        let all = timeline(&self.slices(n));
        let start = all.len().saturating_sub(n);
        all[start..].iter().map(|(_, e)| *e).collect()
    }

    /// Each journal's newest `n` events (none for one not merged), by journal index.
    fn slices(&self, n: usize) -> Vec<&[Event]> {
        self.journals
            .iter()
            .map(|j| {
                if j.merged() {
                    &j.events[j.events.len().saturating_sub(n)..]
                } else {
                    &[][..]
                }
            })
            .collect()
    }
}

/// The one-session rule for a journal about to join: the session of those joined, rehearsal or
/// real as they are (the first joined decides), said from the watcher's side.
fn one_session(candidate: &Followed, joined: &[&Followed]) -> Result<(), String> {
    let (Some(first), Some(this)) = (
        joined.first().and_then(|j| j.events.first()).map(Head::of),
        candidate.events.first().map(Head::of),
    ) else {
        return Ok(());
    };
    if this.session != first.session {
        return Err(format!(
            "it is for session `{}`, the journals watched for `{}`: journals of different sessions are not read as one",
            clean_line(&this.session),
            clean_line(&first.session)
        ));
    }
    match (this.rehearsal, first.rehearsal) {
        (true, false) => Err(
            "a rehearsal journal, and the journals watched are the real record: a rehearsal must never pass for it; watch it alone"
                .to_owned(),
        ),
        (false, true) => Err(
            "the real record of a session, and the journals watched are a rehearsal: watch it alone"
                .to_owned(),
        ),
        _ => Ok(()),
    }
}
