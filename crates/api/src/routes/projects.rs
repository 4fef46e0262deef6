//! Projects: create, list, get, update, delete.

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use taskman_store::{Project, ProjectPatch};
use utoipa::ToSchema;

use super::{Body, Id, created, if_match, json, stale, with_etag};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    /// Unique among projects.
    name: String,
    #[serde(default)]
    description: String,
}

/// Every project, by name.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects",
    responses((status = 200, description = "All projects", body = [Project])))]
pub async fn list(State(s): State<AppState>) -> ApiResult<Response> {
    Ok(json(s.store.list_projects().await?))
}

/// Create a project.
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = NewProject,
    responses((status = 201, description = "Created", body = Project,
        headers(("ETag" = String, description = "The project's version")))))]
pub async fn create(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Body(p): Body<NewProject>,
) -> ApiResult<Response> {
    if p.name.trim().is_empty() {
        return Err(ApiError::field("name", "must not be empty"));
    }
    let p = s
        .store
        .create_project(c.actor(), &p.name, &p.description)
        .await?;
    Ok(created(p.version, &p))
}

/// One project.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "The project", body = Project,
        headers(("ETag" = String, description = "The project's version")))))]
pub async fn get(State(s): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    let p = s.store.get_project(id).await?;
    Ok(with_etag(p.version, &p))
}

/// Fields to change; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectChange {
    name: Option<String>,
    description: Option<String>,
}

/// Rename a project or change its description.
#[utoipa::path(patch, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = i64, Path, description = "Project id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 when the project changed since")),
    request_body = ProjectChange,
    responses((status = 200, description = "Updated", body = Project,
        headers(("ETag" = String, description = "The new version")))))]
pub async fn update(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(id): Id,
    headers: HeaderMap,
    Body(ch): Body<ProjectChange>,
) -> ApiResult<Response> {
    if ch.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(ApiError::field("name", "must not be empty"));
    }
    let expected = if_match(&headers)?;
    let p = s
        .store
        .update_project(
            c.actor(),
            id,
            expected,
            ProjectPatch {
                name: ch.name,
                description: ch.description,
            },
        )
        .await
        .map_err(|e| stale(e, expected.is_some()))?;
    Ok(with_etag(p.version, &p))
}

/// Delete a project with its plans, tasks and sprints (its events stay in the log).
#[utoipa::path(delete, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = i64, Path, description = "Project id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 when the project changed since")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let expected = if_match(&headers)?;
    s.store
        .delete_project(c.actor(), id, expected)
        .await
        .map_err(|e| stale(e, expected.is_some()))?;
    Ok(StatusCode::NO_CONTENT)
}
