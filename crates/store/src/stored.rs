//! How a parsed task is laid out in rows, shared by both backends: the columns the queries
//! filter on, plus [`TaskData`] for everything else the plan engine needs to rebuild the
//! plan from the database ([`rebuild_plan`]).

use serde::{Deserialize, Serialize};
use taskman_core::{
    Analysis, Claim, Declared, DepRef, Field, Plan, Section, SectionDep, StatusItem, Task, TaskKind,
};

use crate::model::TaskRecord;
use crate::sync::Mergeable;

/// The parts of a parsed task that have no column of their own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskData {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub explicit_id: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<Declared>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub heading: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub depth: u16,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<DepRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deps_line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror_of: Option<String>,
}

fn is_zero(d: &u16) -> bool {
    *d == 0
}

impl TaskData {
    pub fn of(t: &Task) -> TaskData {
        TaskData {
            explicit_id: t.explicit_id,
            marker: (t.marker != " ").then(|| t.marker.clone()),
            declared: t.declared,
            heading: t.kind == TaskKind::Heading,
            depth: t.depth,
            depends_on: t.depends_on.clone(),
            deps_line: t.deps_line,
            start: t.start.clone(),
            scheduled: t.scheduled.clone(),
            completed: t.completed.clone(),
            fields: t.fields.clone(),
            mirror_of: t.mirror_of.clone(),
        }
    }
}

/// Plan-level structure kept beside the tasks, JSON in `plans.meta`. Section indices are
/// positions in the plan's section list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PlanMeta {
    #[serde(default)]
    pub section_deps: Vec<SectionDep>,
    #[serde(default)]
    pub claims: Vec<Claim>,
    #[serde(default)]
    pub status_items: Vec<StatusItem>,
}

impl PlanMeta {
    pub fn of(p: &Plan) -> PlanMeta {
        PlanMeta {
            section_deps: p.section_deps.clone(),
            claims: p.claims.clone(),
            status_items: p.status_items.clone(),
        }
    }
}

/// One task's columns as both backends write them.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskColumns {
    pub key: String,
    pub value: Mergeable,
    pub rank: i64,
    pub position: i64,
    pub line: i64,
    pub effort_min: Option<f64>,
    pub effort_max: Option<f64>,
    pub tags: String,
    pub data: String,
}

/// Columns for every task of a parsed plan, in document order, and its direct
/// dependencies as (task, prerequisite, source) index triples: `document` for the task's
/// own words, `section` for what a section rule adds. One analysis serves both.
pub fn task_columns(plan: &Plan) -> (Vec<TaskColumns>, Vec<(usize, usize, &'static str)>) {
    let a = Analysis::new(plan);
    let cols = plan
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| TaskColumns {
            key: t.id.clone(),
            value: Mergeable::of(t),
            rank: a.effective_priority(i).map_or(4, |p| p as i64),
            position: i as i64,
            line: i64::from(t.line),
            effort_min: t.effort.map(|e| e.min_hours),
            effort_max: t.effort.map(|e| e.max_hours),
            tags: serde_json::to_string(&t.tags).unwrap_or_else(|_| "[]".into()),
            data: serde_json::to_string(&TaskData::of(t)).unwrap_or_else(|_| "{}".into()),
        })
        .collect();
    (cols, dependency_edges(&a))
}

fn dependency_edges(a: &Analysis<'_>) -> Vec<(usize, usize, &'static str)> {
    let mut out = Vec::new();
    for (i, direct) in a.direct.iter().enumerate() {
        for &d in direct {
            let source = if a.own[i].binary_search(&d).is_ok() {
                "document"
            } else {
                "section"
            };
            out.push((i, d, source));
        }
    }
    out
}

/// A stored section row.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionRow {
    pub title: String,
    pub level: u8,
    pub line: u32,
    pub parent: Option<usize>,
    pub task: Option<usize>,
    pub declared: Option<Declared>,
}

impl SectionRow {
    pub fn of(s: &Section) -> SectionRow {
        SectionRow {
            title: s.title.clone(),
            level: s.level,
            line: s.line,
            parent: s.parent,
            task: s.task,
            declared: s.declared,
        }
    }
}

/// Which stored section row each section of the new text keeps: the k-th section with a
/// given title and level takes the k-th row with them, so tasks under a section that only
/// moved or shifted keep their `section_id`.
pub fn match_sections(have: &[(i64, SectionRow)], want: &[SectionRow]) -> Vec<Option<i64>> {
    let mut pool: std::collections::HashMap<(&str, u8), std::collections::VecDeque<i64>> =
        std::collections::HashMap::new();
    for (id, s) in have {
        pool.entry((s.title.as_str(), s.level))
            .or_default()
            .push_back(*id);
    }
    want.iter()
        .map(|s| {
            pool.get_mut(&(s.title.as_str(), s.level))
                .and_then(|q| q.pop_front())
        })
        .collect()
}

/// Task `n` of the new plan (database id `id`) and its ancestors' ids, innermost first.
pub fn lineage_of(n: usize, id: i64, plan: &Plan, id_of: &[Option<i64>]) -> Vec<i64> {
    let mut out = vec![id];
    let mut p = plan.tasks[n].parent;
    while let Some(i) = p {
        out.extend(id_of[i]);
        p = plan.tasks[i].parent;
    }
    out
}

/// Rebuild a plan from stored rows: the same structure the file gives, with the
/// database's values (status, title, owner...) in place of the text's.
pub fn rebuild_plan(
    title: Option<String>,
    meta: PlanMeta,
    sections: &[(i64, SectionRow)],
    tasks: &[(TaskRecord, TaskData)],
) -> Plan {
    let section_index: std::collections::HashMap<i64, usize> = sections
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let task_index: std::collections::HashMap<i64, usize> = tasks
        .iter()
        .enumerate()
        .map(|(i, (t, _))| (t.id, i))
        .collect();
    let tasks_out = tasks
        .iter()
        .map(|(r, d)| Task {
            id: r.key.clone(),
            explicit_id: d.explicit_id,
            title: r.title.clone(),
            status: r.status,
            marker: d.marker.clone().unwrap_or_else(|| " ".into()),
            declared: d.declared,
            kind: if d.heading {
                TaskKind::Heading
            } else {
                TaskKind::Item
            },
            line: r.line.unwrap_or(0) as u32,
            depth: d.depth,
            parent: r.parent_id.and_then(|p| task_index.get(&p).copied()),
            section: r.section_id.and_then(|s| section_index.get(&s).copied()),
            priority: r.priority,
            effort: r.effort,
            owner: r.owner.clone(),
            tags: r.tags.clone(),
            depends_on: d.depends_on.clone(),
            deps_line: d.deps_line,
            due: r.due.clone(),
            start: d.start.clone(),
            scheduled: d.scheduled.clone(),
            completed: d.completed.clone(),
            fields: d.fields.clone(),
            mirror_of: d.mirror_of.clone(),
        })
        .collect();
    let n = sections.len();
    Plan {
        title,
        sections: sections
            .iter()
            .map(|(_, s)| Section {
                title: s.title.clone(),
                level: s.level,
                line: s.line,
                parent: s.parent.filter(|&p| p < n),
                task: s.task.filter(|&t| t < tasks.len()),
                declared: s.declared,
            })
            .collect(),
        tasks: tasks_out,
        section_deps: meta
            .section_deps
            .into_iter()
            .filter(|d| d.dependent < n && d.prerequisite < n)
            .collect(),
        claims: meta.claims,
        status_items: meta.status_items,
    }
}
