//! Action lists (follow-ups of a review, a meeting, an incident) and their items.

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use taskman_store::{ActionItem, ActionItemPatch, ActionList};
use utoipa::{IntoParams, ToSchema};

use super::{Body, Id, Q, created, if_match, json, precondition, present, stale, with_etag};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only the lists of this project.
    project: Option<i64>,
}

/// Action lists with their items.
#[utoipa::path(get, path = "/api/v1/action-lists", tag = "action-lists", params(ListQuery),
    responses((status = 200, description = "The lists", body = [ActionList])))]
pub async fn list(State(s): State<AppState>, Q(q): Q<ListQuery>) -> ApiResult<Response> {
    Ok(json(s.store.list_action_lists(q.project).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewList {
    name: String,
    /// The project it belongs to, if any.
    project_id: Option<i64>,
}

/// Create an action list.
#[utoipa::path(post, path = "/api/v1/action-lists", tag = "action-lists", request_body = NewList,
    responses((status = 201, description = "Created", body = ActionList,
        headers(("ETag" = String, description = "The list's version")))))]
pub async fn create(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Body(b): Body<NewList>,
) -> ApiResult<Response> {
    if b.name.trim().is_empty() {
        return Err(ApiError::field("name", "must not be empty"));
    }
    let l = s
        .store
        .create_action_list(c.actor(), b.project_id, &b.name)
        .await?;
    Ok(created(l.version, &l))
}

/// One action list with its items.
#[utoipa::path(get, path = "/api/v1/action-lists/{id}", tag = "action-lists",
    params(("id" = i64, Path, description = "Action list id")),
    responses((status = 200, description = "The list", body = ActionList,
        headers(("ETag" = String, description = "The list's version")))))]
pub async fn get(State(s): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    let l = s.store.get_action_list(id).await?;
    Ok(with_etag(l.version, &l))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListChange {
    name: String,
}

/// Rename an action list.
#[utoipa::path(patch, path = "/api/v1/action-lists/{id}", tag = "action-lists",
    params(("id" = i64, Path, description = "Action list id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 when the list changed since")),
    request_body = ListChange,
    responses((status = 200, description = "Renamed", body = ActionList,
        headers(("ETag" = String, description = "The new version")))))]
pub async fn update(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(id): Id,
    headers: HeaderMap,
    Body(b): Body<ListChange>,
) -> ApiResult<Response> {
    if b.name.trim().is_empty() {
        return Err(ApiError::field("name", "must not be empty"));
    }
    let expected = if_match(&headers)?;
    let l = s
        .store
        .rename_action_list(c.actor(), id, expected, &b.name)
        .await
        .map_err(|e| stale(e, expected.is_some()))?;
    Ok(with_etag(l.version, &l))
}

/// Delete an action list and its items.
#[utoipa::path(delete, path = "/api/v1/action-lists/{id}", tag = "action-lists",
    params(("id" = i64, Path, description = "Action list id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 when the list changed since")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    if let Some(v) = if_match(&headers)? {
        let current = s.store.get_action_list(id).await?.version;
        precondition(Some(v), current, "action list", id)?;
    }
    s.store.delete_action_list(c.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    title: String,
    owner: Option<String>,
    /// `YYYY-MM-DD`.
    due: Option<String>,
}

/// Add an item to an action list.
#[utoipa::path(post, path = "/api/v1/action-lists/{id}/items", tag = "action-lists",
    params(("id" = i64, Path, description = "Action list id")),
    request_body = NewItem,
    responses((status = 201, description = "Created", body = ActionItem,
        headers(("ETag" = String, description = "The item's version")))))]
pub async fn add_item(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(list): Id,
    Body(b): Body<NewItem>,
) -> ApiResult<Response> {
    if b.title.trim().is_empty() {
        return Err(ApiError::field("title", "must not be empty"));
    }
    let it = s
        .store
        .add_action_item(
            c.actor(),
            list,
            &b.title,
            b.owner.as_deref(),
            b.due.as_deref(),
        )
        .await?;
    Ok(created(it.version, &it))
}

/// Fields to change: an absent field is left alone, `null` clears it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemChange {
    title: Option<String>,
    done: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    owner: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    due: Option<Option<String>>,
}

/// Change an item: tick it, rename it, give it an owner or a due date.
#[utoipa::path(patch, path = "/api/v1/action-items/{id}", tag = "action-lists",
    params(("id" = i64, Path, description = "Action item id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 when the item changed since")),
    request_body = ItemChange,
    responses((status = 200, description = "Updated", body = ActionItem,
        headers(("ETag" = String, description = "The new version")))))]
pub async fn update_item(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(id): Id,
    headers: HeaderMap,
    Body(b): Body<ItemChange>,
) -> ApiResult<Response> {
    if b.title.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(ApiError::field("title", "must not be empty"));
    }
    let expected = if_match(&headers)?;
    let it = s
        .store
        .update_action_item(
            c.actor(),
            id,
            expected,
            ActionItemPatch {
                title: b.title,
                done: b.done,
                owner: b.owner,
                due: b.due,
            },
        )
        .await
        .map_err(|e| stale(e, expected.is_some()))?;
    Ok(with_etag(it.version, &it))
}

/// Delete an item.
#[utoipa::path(delete, path = "/api/v1/action-items/{id}", tag = "action-lists",
    params(("id" = i64, Path, description = "Action item id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 when the item changed since")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete_item(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let expected = if_match(&headers)?;
    s.store
        .delete_action_item(c.actor(), id, expected)
        .await
        .map_err(|e| stale(e, expected.is_some()))?;
    Ok(StatusCode::NO_CONTENT)
}
