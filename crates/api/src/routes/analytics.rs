//! What a project's data says: progress (overall and per section), ready and blocked work,
//! the critical path and the lint findings of its plans. The last three are computed by the
//! plan engine (`taskman-core`) on each plan rebuilt from the database, the same as
//! `taskman status|critical-path|lint --project`.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use taskman_core::{Analysis, Finding, Plan, Status};
use taskman_store::{BlockedTask, PageRequest, PlanInfo, ProjectProgress, TaskFilter, TaskRecord};
use utoipa::{IntoParams, ToSchema};

use super::{Id, Q, json, page_limit};
use crate::AppState;
use crate::error::ApiResult;

/// Progress of a project: every task of every plan, and tasks created in the database.
#[utoipa::path(get, path = "/api/v1/projects/{id}/progress", tag = "analytics",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "Counts by status", body = ProjectProgress)))]
pub async fn progress(State(s): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    Ok(json(s.store.progress(id).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Limit {
    /// How many, 1 to 1000 (50 when absent).
    limit: Option<u32>,
}

/// Open tasks whose dependencies are all finished, in the order to take them: in progress
/// first, then by priority, then plan order.
#[utoipa::path(get, path = "/api/v1/projects/{id}/ready", tag = "analytics",
    params(("id" = i64, Path, description = "Project id"), Limit),
    responses((status = 200, description = "Ready tasks", body = [TaskRecord])))]
pub async fn ready(State(s): State<AppState>, Id(id): Id, Q(l): Q<Limit>) -> ApiResult<Response> {
    let limit = page_limit(l.limit)?;
    Ok(json(s.store.ready(id, limit).await?))
}

/// Open tasks waiting on unfinished work, each with the tasks it waits on.
#[utoipa::path(get, path = "/api/v1/projects/{id}/blocked", tag = "analytics",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "Blocked tasks", body = [BlockedTask])))]
pub async fn blocked(State(s): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    Ok(json(s.store.blocked(id).await?))
}

/// The project's plans rebuilt from the database, with their names.
async fn plans_of(s: &AppState, project: i64) -> ApiResult<Vec<(PlanInfo, Plan)>> {
    s.store.get_project(project).await?;
    let mut out = Vec::new();
    for info in s.store.list_plans(project).await? {
        let plan = s.store.load_plan(info.id).await?;
        out.push((info, plan));
    }
    Ok(out)
}

#[derive(Serialize, ToSchema)]
pub struct SectionRow {
    pub title: String,
    /// Heading level (1 for `#`).
    pub level: u8,
    /// Line of the heading in the newest stored text.
    pub line: u32,
    /// Tasks in the section and its subsections.
    pub total: usize,
    pub done: usize,
    pub in_progress: usize,
    pub percent: f64,
}

#[derive(Serialize, ToSchema)]
pub struct PlanSections {
    pub plan_id: i64,
    pub plan: String,
    /// Every section holding at least one task, in document order.
    pub sections: Vec<SectionRow>,
}

/// Progress per section of each plan of the project.
#[utoipa::path(get, path = "/api/v1/projects/{id}/sections", tag = "analytics",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "One entry per plan", body = [PlanSections])))]
pub async fn sections(State(s): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    let out: Vec<PlanSections> = plans_of(&s, id)
        .await?
        .into_iter()
        .map(|(info, plan)| {
            let a = Analysis::new(&plan);
            PlanSections {
                plan_id: info.id,
                plan: info.name,
                sections: a
                    .section_progress()
                    .into_iter()
                    .map(|p| SectionRow {
                        title: p.title,
                        level: p.level,
                        line: p.line,
                        total: p.total,
                        done: p.done,
                        in_progress: p.in_progress,
                        percent: p.percent,
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(json(out))
}

#[derive(Serialize, ToSchema)]
pub struct PathStep {
    /// The task's id in the database.
    pub task_id: Option<i64>,
    /// The plan's own id for the task.
    pub key: String,
    pub title: String,
    pub status: Status,
    /// Remaining effort counted (upper end of a range; 0 without effort).
    pub hours: f64,
    pub earliest_start: f64,
    pub earliest_finish: f64,
    pub slack: f64,
}

#[derive(Serialize, ToSchema)]
pub struct PlanCriticalPath {
    pub plan_id: i64,
    pub plan: String,
    /// The longest chain of open work through the dependencies, first task first.
    pub path: Vec<PathStep>,
    pub duration_hours: f64,
    /// The same with the lower end of effort ranges.
    pub duration_hours_min: f64,
    /// Open tasks without effort, counted as 0 h.
    pub zero_effort_tasks: usize,
    /// Keys of tasks left out because they sit on a dependency cycle.
    pub unscheduled: Vec<String>,
}

/// Database ids of the given keys of a plan.
async fn ids_of(s: &AppState, plan: i64, keys: &[&str]) -> ApiResult<HashMap<String, i64>> {
    let mut want: std::collections::HashSet<&str> = keys.iter().copied().collect();
    let mut out = HashMap::new();
    let mut after = None;
    while !want.is_empty() {
        let page = s
            .store
            .list_tasks(
                &TaskFilter {
                    plan_id: Some(plan),
                    ..TaskFilter::default()
                },
                PageRequest { after, limit: 1000 },
            )
            .await?;
        for t in page.items {
            if want.remove(t.key.as_str()) {
                out.insert(t.key, t.id);
            }
        }
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    Ok(out)
}

/// The critical path of each plan of the project: open work only, from effort and
/// dependencies.
#[utoipa::path(get, path = "/api/v1/projects/{id}/critical-path", tag = "analytics",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "One entry per plan", body = [PlanCriticalPath])))]
pub async fn critical_path(State(s): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    let mut out = Vec::new();
    for (info, plan) in plans_of(&s, id).await? {
        let a = Analysis::new(&plan);
        let sched = a.schedule();
        let keys: Vec<&str> = sched
            .path
            .iter()
            .map(|&i| plan.tasks[i].id.as_str())
            .collect();
        let ids = ids_of(&s, info.id, &keys).await?;
        let path = sched
            .path
            .iter()
            .map(|&i| {
                let t = &plan.tasks[i];
                let e = sched.entries.iter().find(|e| e.task == i);
                PathStep {
                    task_id: ids.get(&t.id).copied(),
                    key: t.id.clone(),
                    title: t.title.clone(),
                    status: t.status,
                    hours: e.map_or(0.0, |e| e.hours),
                    earliest_start: e.map_or(0.0, |e| e.earliest_start),
                    earliest_finish: e.map_or(0.0, |e| e.earliest_finish),
                    slack: e.map_or(0.0, |e| e.slack),
                }
            })
            .collect();
        out.push(PlanCriticalPath {
            plan_id: info.id,
            plan: info.name,
            path,
            duration_hours: sched.duration_hours,
            duration_hours_min: sched.duration_hours_min,
            zero_effort_tasks: sched.zero_effort.len(),
            unscheduled: sched
                .unscheduled
                .iter()
                .map(|&i| plan.tasks[i].id.clone())
                .collect(),
        });
    }
    Ok(json(out))
}

#[derive(Serialize, ToSchema)]
pub struct PlanLint {
    pub plan_id: i64,
    pub plan: String,
    /// Every claim of the plan its own data contradicts, by line.
    pub findings: Vec<Finding>,
}

/// Lint findings of each plan of the project: progress lines, statuses and critical paths
/// the plan claims but its own tasks contradict.
#[utoipa::path(get, path = "/api/v1/projects/{id}/lint", tag = "analytics",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "One entry per plan", body = [PlanLint])))]
pub async fn lint(State(s): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    let out: Vec<PlanLint> = plans_of(&s, id)
        .await?
        .into_iter()
        .map(|(info, plan)| PlanLint {
            plan_id: info.id,
            plan: info.name,
            findings: taskman_core::lint::lint(&Analysis::new(&plan)),
        })
        .collect();
    Ok(json(out))
}
