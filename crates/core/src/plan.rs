//! The plan as read from a document: sections, tasks, and the claims the document makes
//! about itself. Everything here is plain data; the reader fills it, analysis reads it.

use serde::{Deserialize, Serialize};

use crate::{Declared, Effort, Priority, Status};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Plan {
    /// The first level-1 heading, if any.
    pub title: Option<String>,
    /// Headings in document order; `parent` links form the section tree.
    pub sections: Vec<Section>,
    /// Tasks in document order; `parent` links form the task tree.
    pub tasks: Vec<Task>,
    /// "Phase 2 depends on Phase 1": every task under `dependent` waits for every task
    /// under `prerequisite`.
    pub section_deps: Vec<SectionDep>,
    /// Statements the document makes about itself, checked by lint.
    pub claims: Vec<Claim>,
    /// Bullets that carry a status without a checkbox (`- ✅ Phase 0.1: Foundation`): not
    /// tasks, but lint compares them with claims such as "5 of 8 phases complete".
    pub status_items: Vec<StatusItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Section {
    /// Heading text without emphasis markers and trailing status emoji.
    pub title: String,
    /// 1 to 6.
    pub level: u8,
    pub line: u32,
    pub parent: Option<usize>,
    /// Set when the heading itself is a task (`#### ☐ CORE-001: ...`).
    pub task: Option<usize>,
    /// Status emoji or words on the heading (`... ✅`, `... 🔄`).
    pub declared: Option<Declared>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// A task-list item: `- [ ] ...`.
    Item,
    /// A heading that is a task: `#### ☐ CORE-001: ...`.
    Heading,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    /// Stable identifier: the document's own (`Step 7`, `CORE-001`, `T-12`, Obsidian `🆔`)
    /// or a slug from section and title.
    pub id: String,
    /// True when `id` was written in the document rather than derived.
    pub explicit_id: bool,
    pub title: String,
    pub status: Status,
    /// The checkbox marker as written (` `, `x`, `/`, `☐`, ...).
    pub marker: String,
    /// What words or emoji next to the task declare, if anything.
    pub declared: Option<Declared>,
    pub kind: TaskKind,
    /// 1-based line of the checkbox (or heading).
    pub line: u32,
    pub depth: u16,
    pub parent: Option<usize>,
    pub section: Option<usize>,
    pub priority: Option<Priority>,
    pub effort: Option<Effort>,
    pub owner: Option<String>,
    pub tags: Vec<String>,
    pub depends_on: Vec<DepRef>,
    /// Line of the Dependencies statement, when there is one.
    pub deps_line: Option<u32>,
    pub due: Option<String>,
    pub start: Option<String>,
    pub scheduled: Option<String>,
    pub completed: Option<String>,
    /// Other labelled metadata: `Action`, `Files`, `Validation`, `Validation Command`, ...
    pub fields: Vec<Field>,
    /// Set when this item repeats a task defined elsewhere (a timeline entry
    /// `- [ ] CORE-001: FastAPI REST API Layer` under a schedule heading).
    pub mirror_of: Option<String>,
}

impl Task {
    pub fn new(id: String, title: String, line: u32) -> Task {
        Task {
            id,
            explicit_id: false,
            title,
            status: Status::Todo,
            marker: " ".into(),
            declared: None,
            kind: TaskKind::Item,
            line,
            depth: 0,
            parent: None,
            section: None,
            priority: None,
            effort: None,
            owner: None,
            tags: Vec::new(),
            depends_on: Vec::new(),
            deps_line: None,
            due: None,
            start: None,
            scheduled: None,
            completed: None,
            fields: Vec::new(),
            mirror_of: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub line: u32,
}

/// A dependency as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DepRef {
    /// Another task's id as written (`Step 6`, `CORE-001`, `abc123`).
    Id(String),
    /// `All previous tasks`: every earlier task at the same level.
    AllPrevious,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SectionDep {
    pub dependent: usize,
    pub prerequisite: usize,
    pub line: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusItem {
    pub title: String,
    pub declared: Declared,
    pub line: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claim {
    pub line: u32,
    /// The line as written (after mojibake repair), for messages.
    pub text: String,
    /// The words naming what the claim is about (`Overall Progress`, `Month 1 Week 2`,
    /// `Phase 1`); empty for the whole plan. Resolved against section titles by lint.
    pub scope: String,
    /// Innermost section the claim stands in.
    pub section: Option<usize>,
    pub kind: ClaimKind,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ClaimKind {
    /// `11/100 steps (11%)`, `62.5% (5 of 8 phases complete)`, `76.3% Complete`.
    Progress {
        done: Option<u32>,
        total: Option<u32>,
        percent: Option<f64>,
        /// `steps`, `tasks`, `phases`, ... as written, lower case.
        unit: Option<String>,
    },
    /// `Total Tasks: 47`, `Phase 1: 5 critical tasks`.
    TaskCount {
        count: u32,
        priority: Option<Priority>,
    },
    /// `CORE-001 → SEC-001 → ...` under a Critical Path heading.
    CriticalPath { ids: Vec<String> },
    /// One row of a dependency matrix: `task` depends on `depends_on`.
    Matrix(MatrixEntry),
    /// `Step 8: Integration Tests (READY)` in a summary list.
    TaskStatus { id: String, declared: Declared },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MatrixEntry {
    pub task: String,
    pub depends_on: Vec<DepRef>,
}

impl Plan {
    /// Index of the task with this id, compared the way people type ids: case, spaces,
    /// hyphens and underscores do not matter (`step 7` finds `Step 7`).
    pub fn find(&self, id: &str) -> Option<usize> {
        let want = crate::ids::normalize(id);
        self.tasks
            .iter()
            .position(|t| crate::ids::normalize(&t.id) == want)
    }

    /// Tasks of section `s` and all its subsections, in document order.
    pub fn tasks_in_section(&self, s: usize) -> impl Iterator<Item = usize> + '_ {
        self.tasks
            .iter()
            .enumerate()
            .filter(move |(_, t)| t.section.is_some_and(|ts| self.section_within(ts, s)))
            .map(|(i, _)| i)
    }

    /// True when section `inner` is `outer` or nested below it.
    pub fn section_within(&self, inner: usize, outer: usize) -> bool {
        let mut cur = Some(inner);
        while let Some(c) = cur {
            if c == outer {
                return true;
            }
            cur = self.sections[c].parent;
        }
        false
    }

    /// The section a few words name (`Phase 2`, `Month 1 Week 2`): the one whose title holds
    /// every word (counting repeats), with the fewest other words; ties go to the first.
    /// Words such as "overall", "progress" or "tasks" are ignored.
    pub fn find_section(&self, label: &str) -> Option<usize> {
        let want: Vec<String> = words(label)
            .into_iter()
            .filter(|w| !SCOPE_STOPWORDS.contains(&w.as_str()))
            .collect();
        if want.is_empty() {
            return None;
        }
        let mut best: Option<(usize, (bool, usize))> = None;
        for (i, sec) in self.sections.iter().enumerate() {
            let mut have = words(&sec.title);
            // Words in the same order side by side ("Phase 2") beat scattered ones
            // ("Phase 3 ... (2-3 weeks)").
            let scattered = !have.windows(want.len()).any(|w| w == want.as_slice());
            let all = want.iter().all(|w| match have.iter().position(|h| h == w) {
                Some(p) => {
                    have.remove(p);
                    true
                }
                None => false,
            });
            let score = (scattered, have.len());
            if all && best.is_none_or(|(_, b)| score < b) {
                best = Some((i, score));
            }
        }
        best.map(|(i, _)| i)
    }

    /// Titles from the top-level section down to `s`.
    pub fn section_path(&self, s: usize) -> Vec<&str> {
        let mut out = Vec::new();
        let mut cur = Some(s);
        while let Some(c) = cur {
            out.push(self.sections[c].title.as_str());
            cur = self.sections[c].parent;
        }
        out.reverse();
        out
    }
}

/// A task with an explicit id and dependencies, for tests.
#[cfg(test)]
pub(crate) fn test_task(id: &str, status: Status, deps: &[&str]) -> Task {
    let mut t = Task::new(id.into(), id.into(), 1);
    t.explicit_id = true;
    t.status = status;
    t.depends_on = deps.iter().map(|d| DepRef::Id((*d).into())).collect();
    t
}

/// Words that say "how much" rather than "which part" in a claim's label.
pub const SCOPE_STOPWORDS: &[&str] = &[
    "overall",
    "total",
    "progress",
    "project",
    "plan",
    "status",
    "current",
    "the",
    "of",
    "and",
    "complete",
    "completed",
    "done",
    "tasks",
    "task",
    "steps",
    "step",
    "items",
    "summary",
];

/// Lower-case alphanumeric words of a text.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}
