//! The audit log: every change, who made it and when, with before and after.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use taskman_store::{Event, EventFilter, Page, PageRequest};
use utoipa::IntoParams;

use super::{Q, json, page_limit};
use crate::AppState;
use crate::error::ApiResult;

#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Project id.
    project: Option<i64>,
    /// Task id.
    task: Option<i64>,
    /// Who made the change (a user name, `sync`, `cli:<user>`).
    actor: Option<String>,
    /// Inclusive lower bound, RFC 3339 (`2026-11-22T00:00:00Z`).
    since: Option<String>,
    /// Exclusive upper bound, RFC 3339.
    until: Option<String>,
    /// The `next` of the previous page.
    cursor: Option<i64>,
    /// Page size, 1 to 1000 (50 when absent).
    limit: Option<u32>,
}

/// The audit log, oldest first, filtered, one page at a time.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventQuery),
    responses((status = 200, description = "One page of events", body = Page<Event>)))]
pub async fn list(State(s): State<AppState>, Q(q): Q<EventQuery>) -> ApiResult<Response> {
    let limit = page_limit(q.limit)?;
    let page = s
        .store
        .events(
            &EventFilter {
                project_id: q.project,
                task_id: q.task,
                actor: q.actor,
                since: q.since,
                until: q.until,
            },
            PageRequest {
                after: q.cursor,
                limit,
            },
        )
        .await?;
    Ok(json(page))
}
