//! Sprints of a project: create, list, get, update, close, add and remove tasks.

use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use taskman_store::{NewSprint, Sprint, SprintPatch};
use utoipa::ToSchema;

use super::{Body, Id, Ids, created, if_match, json, precondition, stale, with_etag};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SprintIn {
    name: String,
    /// `YYYY-MM-DD`.
    starts_on: String,
    /// `YYYY-MM-DD`, not before `starts_on`.
    ends_on: String,
    #[serde(default)]
    goal: String,
}

/// The sprints of a project.
#[utoipa::path(get, path = "/api/v1/projects/{id}/sprints", tag = "sprints",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "Its sprints", body = [Sprint])))]
pub async fn list(State(s): State<AppState>, Id(project): Id) -> ApiResult<Response> {
    s.store.get_project(project).await?;
    Ok(json(s.store.list_sprints(project).await?))
}

/// Create a sprint.
#[utoipa::path(post, path = "/api/v1/projects/{id}/sprints", tag = "sprints",
    params(("id" = i64, Path, description = "Project id")),
    request_body = SprintIn,
    responses((status = 201, description = "Created", body = Sprint,
        headers(("ETag" = String, description = "The sprint's version")))))]
pub async fn create(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(project): Id,
    Body(b): Body<SprintIn>,
) -> ApiResult<Response> {
    if b.name.trim().is_empty() {
        return Err(ApiError::field("name", "must not be empty"));
    }
    let sp = s
        .store
        .create_sprint(
            c.actor(),
            project,
            NewSprint {
                name: b.name,
                starts_on: b.starts_on,
                ends_on: b.ends_on,
                goal: b.goal,
            },
        )
        .await?;
    Ok(created(sp.version, &sp))
}

/// One sprint with its tasks.
#[utoipa::path(get, path = "/api/v1/sprints/{id}", tag = "sprints",
    params(("id" = i64, Path, description = "Sprint id")),
    responses((status = 200, description = "The sprint", body = Sprint,
        headers(("ETag" = String, description = "The sprint's version")))))]
pub async fn get(State(s): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    let sp = s.store.get_sprint(id).await?;
    Ok(with_etag(sp.version, &sp))
}

/// Fields to change; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SprintChange {
    name: Option<String>,
    starts_on: Option<String>,
    ends_on: Option<String>,
    goal: Option<String>,
}

/// Rename a sprint, move its dates or change its goal.
#[utoipa::path(patch, path = "/api/v1/sprints/{id}", tag = "sprints",
    params(("id" = i64, Path, description = "Sprint id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 when the sprint changed since")),
    request_body = SprintChange,
    responses((status = 200, description = "Updated", body = Sprint,
        headers(("ETag" = String, description = "The new version")))))]
pub async fn update(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(id): Id,
    headers: HeaderMap,
    Body(b): Body<SprintChange>,
) -> ApiResult<Response> {
    if b.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(ApiError::field("name", "must not be empty"));
    }
    let expected = if_match(&headers)?;
    let sp = s
        .store
        .update_sprint(
            c.actor(),
            id,
            expected,
            SprintPatch {
                name: b.name,
                starts_on: b.starts_on,
                ends_on: b.ends_on,
                goal: b.goal,
            },
        )
        .await
        .map_err(|e| stale(e, expected.is_some()))?;
    Ok(with_etag(sp.version, &sp))
}

/// Close a sprint (its tasks stay as they are).
#[utoipa::path(post, path = "/api/v1/sprints/{id}/close", tag = "sprints",
    params(("id" = i64, Path, description = "Sprint id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 when the sprint changed since")),
    responses((status = 200, description = "Closed", body = Sprint,
        headers(("ETag" = String, description = "The new version")))))]
pub async fn close(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let sp = s
        .store
        .close_sprint(c.actor(), id, expected)
        .await
        .map_err(|e| stale(e, expected.is_some()))?;
    Ok(with_etag(sp.version, &sp))
}

/// A stale If-Match on a membership change: checked against the sprint as read now.
async fn check_version(s: &AppState, id: i64, headers: &HeaderMap) -> ApiResult<()> {
    if let Some(v) = if_match(headers)? {
        let current = s.store.get_sprint(id).await?.version;
        precondition(Some(v), current, "sprint", id)?;
    }
    Ok(())
}

/// Put a task of the same project into the sprint.
#[utoipa::path(put, path = "/api/v1/sprints/{id}/tasks/{task}", tag = "sprints",
    params(("id" = i64, Path, description = "Sprint id"), ("task" = i64, Path, description = "Task id"),
        ("If-Match" = Option<String>, Header, description = "The sprint's ETag last read")),
    responses((status = 200, description = "The sprint with the task", body = Sprint,
        headers(("ETag" = String, description = "The new version")))))]
pub async fn add_task(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Ids(id, task): Ids,
    headers: HeaderMap,
) -> ApiResult<Response> {
    check_version(&s, id, &headers).await?;
    let sp = s.store.sprint_task(c.actor(), id, task, true).await?;
    Ok(with_etag(sp.version, &sp))
}

/// Take a task out of the sprint.
#[utoipa::path(delete, path = "/api/v1/sprints/{id}/tasks/{task}", tag = "sprints",
    params(("id" = i64, Path, description = "Sprint id"), ("task" = i64, Path, description = "Task id"),
        ("If-Match" = Option<String>, Header, description = "The sprint's ETag last read")),
    responses((status = 200, description = "The sprint without the task", body = Sprint,
        headers(("ETag" = String, description = "The new version")))))]
pub async fn remove_task(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Ids(id, task): Ids,
    headers: HeaderMap,
) -> ApiResult<Response> {
    check_version(&s, id, &headers).await?;
    let sp = s.store.sprint_task(c.actor(), id, task, false).await?;
    Ok(with_etag(sp.version, &sp))
}
