//! Tasks: a project's filtered list, create, get, update, delete, status transitions, bulk
//! update, dependencies, and search across projects.

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use taskman_core::{Priority, Status};
use taskman_store::{Page, PageRequest, TaskFilter, TaskPatch, TaskRecord, status_from_str};
use utoipa::{IntoParams, ToSchema};

use super::{
    Body, Id, Ids, Q, created, if_match, json, page_limit, precondition, present, stale, with_etag,
};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError};

#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// Comma-separated statuses: `todo`, `in_progress`, `blocked`, `deferred`, `done`, `cancelled`.
    status: Option<String>,
    priority: Option<Priority>,
    owner: Option<String>,
    tag: Option<String>,
    /// Section id.
    section: Option<i64>,
    /// Plan id.
    plan: Option<i64>,
    /// Full-text search over titles and notes: every word must match.
    q: Option<String>,
    /// Only open tasks whose dependencies are all finished.
    #[serde(default)]
    ready: bool,
    /// Only open tasks waiting on unfinished work.
    #[serde(default)]
    blocked: bool,
    /// The `next` of the previous page.
    cursor: Option<i64>,
    /// Page size, 1 to 1000 (50 when absent).
    limit: Option<u32>,
}

fn statuses(list: &Option<String>) -> ApiResult<Vec<Status>> {
    match list {
        None => Ok(Vec::new()),
        Some(list) => list
            .split(',')
            .map(|w| {
                status_from_str(w.trim())
                    .ok_or_else(|| ApiError::field("status", format!("unknown status {w:?}")))
            })
            .collect(),
    }
}

/// A project's tasks, filtered, one page at a time (keyset pagination, with the total).
#[utoipa::path(get, path = "/api/v1/projects/{id}/tasks", tag = "tasks",
    params(("id" = i64, Path, description = "Project id"), TaskQuery),
    responses((status = 200, description = "One page", body = Page<TaskRecord>)))]
pub async fn list(
    State(s): State<AppState>,
    Id(project): Id,
    Q(q): Q<TaskQuery>,
) -> ApiResult<Response> {
    let status = statuses(&q.status)?;
    let limit = page_limit(q.limit)?;
    s.store.get_project(project).await?;
    let page = s
        .store
        .list_tasks(
            &TaskFilter {
                project_id: Some(project),
                plan_id: q.plan,
                section_id: q.section,
                status,
                priority: q.priority,
                owner: q.owner,
                tag: q.tag,
                text: q.q,
                ready: q.ready,
                blocked: q.blocked,
            },
            PageRequest {
                after: q.cursor,
                limit,
            },
        )
        .await?;
    Ok(json(page))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    title: String,
    /// The plan's own id for it; a slug of the title when absent.
    key: Option<String>,
    status: Option<Status>,
    priority: Option<Priority>,
    owner: Option<String>,
    /// `YYYY-MM-DD`.
    due: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    notes: Option<String>,
    parent_id: Option<i64>,
    plan_id: Option<i64>,
}

/// Create a task in a project.
#[utoipa::path(post, path = "/api/v1/projects/{id}/tasks", tag = "tasks",
    params(("id" = i64, Path, description = "Project id")),
    request_body = NewTask,
    responses((status = 201, description = "Created", body = TaskRecord,
        headers(("ETag" = String, description = "The task's version")))))]
pub async fn create(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(project): Id,
    Body(t): Body<NewTask>,
) -> ApiResult<Response> {
    if t.title.trim().is_empty() {
        return Err(ApiError::field("title", "must not be empty"));
    }
    let t = s
        .store
        .create_task(
            c.actor(),
            project,
            taskman_store::NewTask {
                title: t.title,
                plan_id: t.plan_id,
                key: t.key,
                status: t.status,
                priority: t.priority,
                owner: t.owner,
                due: t.due,
                tags: t.tags,
                notes: t.notes,
                parent_id: t.parent_id,
            },
        )
        .await?;
    crate::metrics::task_created();
    Ok(created(t.version, &t))
}

/// One task.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks",
    params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, description = "The task", body = TaskRecord,
        headers(("ETag" = String, description = "The task's version")))))]
pub async fn get(State(s): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    let t = s.store.get_task(id).await?;
    Ok(with_etag(t.version, &t))
}

/// Fields to change: an absent field is left alone, `null` clears it.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TaskUpdate {
    title: Option<String>,
    status: Option<Status>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Priority>)]
    priority: Option<Option<Priority>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    owner: Option<Option<String>>,
    /// `YYYY-MM-DD`, or `null` to clear.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    due: Option<Option<String>>,
    notes: Option<String>,
    tags: Option<Vec<String>>,
}

impl TaskUpdate {
    fn check(&self, at: &str) -> ApiResult<()> {
        if self.title.as_deref().is_some_and(|t| t.trim().is_empty()) {
            return Err(ApiError::field(format!("{at}title"), "must not be empty"));
        }
        Ok(())
    }

    fn into_patch(self) -> TaskPatch {
        TaskPatch {
            title: self.title,
            status: self.status,
            priority: self.priority,
            owner: self.owner,
            due: self.due,
            notes: self.notes,
            tags: self.tags,
        }
    }
}

/// Change a task.
#[utoipa::path(patch, path = "/api/v1/tasks/{id}", tag = "tasks",
    params(("id" = i64, Path, description = "Task id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 when the task changed since")),
    request_body = TaskUpdate,
    responses((status = 200, description = "Updated", body = TaskRecord,
        headers(("ETag" = String, description = "The new version")))))]
pub async fn update(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(id): Id,
    headers: HeaderMap,
    Body(ch): Body<TaskUpdate>,
) -> ApiResult<Response> {
    ch.check("")?;
    let had = headers.contains_key(header::IF_MATCH);
    let expected = match if_match(&headers)? {
        Some(v) => v,
        // Against the version this request reads: a concurrent change is a 409, never
        // overwritten.
        None => s.store.get_task(id).await?.version,
    };
    let to = ch.status;
    let before = if to.is_some() {
        Some(s.store.get_task(id).await?.status)
    } else {
        None
    };
    let t = s
        .store
        .update_task(c.actor(), id, Some(expected), ch.into_patch())
        .await
        .map_err(|e| stale(e, had))?;
    if let (Some(from), Some(_)) = (before, to) {
        crate::metrics::transition(from, t.status);
    }
    Ok(with_etag(t.version, &t))
}

/// Delete a task (its events stay in the log).
#[utoipa::path(delete, path = "/api/v1/tasks/{id}", tag = "tasks",
    params(("id" = i64, Path, description = "Task id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 when the task changed since")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let expected = if_match(&headers)?;
    s.store
        .delete_task(c.actor(), id, expected)
        .await
        .map_err(|e| stale(e, expected.is_some()))?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- status transitions

/// A named move of a task's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// todo, blocked or deferred -> in_progress.
    Start,
    /// any open status -> done.
    Complete,
    /// todo, in_progress or deferred -> blocked.
    Block,
    /// todo, in_progress or blocked -> deferred.
    Defer,
    /// any open status -> cancelled.
    Cancel,
    /// done or cancelled -> todo.
    Reopen,
}

impl Action {
    fn target(self) -> Status {
        match self {
            Action::Start => Status::InProgress,
            Action::Complete => Status::Done,
            Action::Block => Status::Blocked,
            Action::Defer => Status::Deferred,
            Action::Cancel => Status::Cancelled,
            Action::Reopen => Status::Todo,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Complete => "complete",
            Action::Block => "block",
            Action::Defer => "defer",
            Action::Cancel => "cancel",
            Action::Reopen => "reopen",
        }
    }
}

/// Whether `action` may move a task from `from`: `Ok(false)` when it is already there
/// (nothing to do), an error naming the rule otherwise.
pub fn transition_allowed(from: Status, action: Action) -> Result<bool, String> {
    let to = action.target();
    if from == to {
        return Ok(false);
    }
    let closed = from.is_closed();
    let ok = match action {
        Action::Reopen => closed,
        Action::Start | Action::Complete | Action::Block | Action::Defer | Action::Cancel => {
            !closed
        }
    };
    if ok {
        Ok(true)
    } else if closed {
        Err(format!(
            "the task is {}; reopen it before you {} it",
            from.as_str(),
            action.name()
        ))
    } else {
        Err(format!(
            "the task is {} (open); only a done or cancelled task can be reopened",
            from.as_str()
        ))
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    action: Action,
    /// Start or complete even though dependencies are unfinished.
    #[serde(default)]
    force: bool,
}

/// Move a task through its life: start, complete, block, defer, cancel, reopen. Starting or
/// completing a task whose dependencies are unfinished is refused (409 naming them) unless
/// `force` is set; a move the rules do not allow (complete a cancelled task) is a 409.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/transitions", tag = "tasks",
    params(("id" = i64, Path, description = "Task id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 when the task changed since")),
    request_body = Transition,
    responses((status = 200, description = "The task after the move (unchanged when it was already there)",
        body = TaskRecord, headers(("ETag" = String, description = "The task's version")))))]
pub async fn transition(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(id): Id,
    headers: HeaderMap,
    Body(t): Body<Transition>,
) -> ApiResult<Response> {
    let given = if_match(&headers)?;
    let task = s.store.get_task(id).await?;
    precondition(given, task.version, "task", id)?;
    if !transition_allowed(task.status, t.action).map_err(ApiError::Conflict)? {
        return Ok(with_etag(task.version, &task));
    }
    if matches!(t.action, Action::Start | Action::Complete) && !t.force {
        let mut open = Vec::new();
        for &dep in &task.depends_on {
            match s.store.get_task(dep).await {
                Ok(d) if !d.status.is_closed() => open.push(format!("{} ({})", d.id, d.key)),
                _ => {}
            }
        }
        if !open.is_empty() {
            return Err(ApiError::Conflict(format!(
                "task {id} waits on unfinished tasks: {}; finish them first or send \"force\": true",
                open.join(", ")
            )));
        }
    }
    let updated = s
        .store
        .update_task(
            c.actor(),
            id,
            Some(task.version),
            TaskPatch::status(t.action.target()),
        )
        .await
        .map_err(|e| stale(e, given.is_some()))?;
    crate::metrics::transition(task.status, updated.status);
    Ok(with_etag(updated.version, &updated))
}

// ---- bulk

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkChange {
    id: i64,
    /// The version last read (like If-Match); the version read now when absent.
    version: Option<i64>,
    set: TaskUpdate,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkUpdate {
    /// Up to 1000 changes, applied all or none.
    changes: Vec<BulkChange>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkResult {
    /// The tasks after the change, in the order given.
    tasks: Vec<TaskRecord>,
}

/// Change many tasks at once, all or none: when one change fails (unknown task, stale
/// version, invalid value) nothing is changed and the problem names the task.
#[utoipa::path(post, path = "/api/v1/tasks/bulk", tag = "tasks",
    request_body = BulkUpdate,
    responses((status = 200, description = "Every change made", body = BulkResult)))]
pub async fn bulk(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Body(b): Body<BulkUpdate>,
) -> ApiResult<Response> {
    if b.changes.len() > 1000 {
        return Err(ApiError::field("changes", "at most 1000 changes at once"));
    }
    let mut errors = Vec::new();
    for (i, ch) in b.changes.iter().enumerate() {
        if let Err(ApiError::Invalid(e)) = ch.set.check(&format!("changes[{i}].set.")) {
            errors.extend(e);
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let mut changes = Vec::with_capacity(b.changes.len());
    let mut before = Vec::with_capacity(b.changes.len());
    for ch in b.changes {
        let current = s.store.get_task(ch.id).await?;
        before.push(current.status);
        let expected = ch.version.unwrap_or(current.version);
        changes.push(taskman_store::TaskChange {
            id: ch.id,
            expected: Some(expected),
            patch: ch.set.into_patch(),
        });
    }
    let tasks = s.store.update_tasks(c.actor(), changes).await?;
    for (from, t) in before.into_iter().zip(&tasks) {
        crate::metrics::transition(from, t.status);
    }
    Ok(json(BulkResult { tasks }))
}

// ---- dependencies

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DependencyIn {
    /// The task this one waits on.
    depends_on: i64,
}

/// Make a task wait on another; a dependency that would close a cycle is refused (409
/// naming the cycle).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/dependencies", tag = "tasks",
    params(("id" = i64, Path, description = "Task id")),
    request_body = DependencyIn,
    responses((status = 200, description = "The task with its dependencies", body = TaskRecord,
        headers(("ETag" = String, description = "The task's version")))))]
pub async fn add_dependency(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(task): Id,
    Body(d): Body<DependencyIn>,
) -> ApiResult<Response> {
    let t = s
        .store
        .add_dependency(c.actor(), task, d.depends_on)
        .await?;
    Ok(with_etag(t.version, &t))
}

/// Remove a dependency.
#[utoipa::path(delete, path = "/api/v1/tasks/{id}/dependencies/{dep}", tag = "tasks",
    params(("id" = i64, Path, description = "Task id"),
        ("dep" = i64, Path, description = "Id of the task it waits on"),
        ("If-Match" = Option<String>, Header, description = "The task's ETag last read; 412 when the task changed since")),
    responses((status = 200, description = "The task with its remaining dependencies", body = TaskRecord,
        headers(("ETag" = String, description = "The task's version")))))]
pub async fn remove_dependency(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Ids(task, dep): Ids,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(v) = if_match(&headers)? {
        let current = s.store.get_task(task).await?.version;
        precondition(Some(v), current, "task", task)?;
    }
    let t = s.store.remove_dependency(c.actor(), task, dep).await?;
    Ok(with_etag(t.version, &t))
}

// ---- search

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find in titles and notes (all must match).
    q: String,
    /// Comma-separated statuses.
    status: Option<String>,
    /// The `next` of the previous page.
    cursor: Option<i64>,
    /// Page size, 1 to 1000 (50 when absent).
    limit: Option<u32>,
}

/// Search tasks across every project.
#[utoipa::path(get, path = "/api/v1/search", tag = "tasks", params(SearchQuery),
    responses((status = 200, description = "Matching tasks of every project", body = Page<TaskRecord>)))]
pub async fn search(State(s): State<AppState>, Q(q): Q<SearchQuery>) -> ApiResult<Response> {
    if q.q.trim().is_empty() {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "q",
            "must name at least one word",
        )]));
    }
    let status = statuses(&q.status)?;
    let limit = page_limit(q.limit)?;
    let page = s
        .store
        .list_tasks(
            &TaskFilter {
                status,
                text: Some(q.q),
                ..TaskFilter::default()
            },
            PageRequest {
                after: q.cursor,
                limit,
            },
        )
        .await?;
    Ok(json(page))
}
