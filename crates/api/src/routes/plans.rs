//! Plans: upload markdown to import or sync, list, versions, download with the database's
//! changes written in.

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use taskman_store::{PlanInfo, PlanVersion, SyncReport};
use utoipa::IntoParams;

use super::{Id, Q, json};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlanName {
    /// The plan's name in the project (a file name); uploading the same name again syncs.
    name: String,
}

/// Upload a plan's markdown (`text/markdown`): the first upload of a name imports it, a
/// later one syncs the tasks with what the database holds (three-way, per task) and stores
/// the text as a new version. The answer is the change report.
#[utoipa::path(post, path = "/api/v1/projects/{id}/plans", tag = "plans",
    params(("id" = i64, Path, description = "Project id"), PlanName),
    request_body(content = String, content_type = "text/markdown", description = "The plan as written"),
    responses(
        (status = 201, description = "Imported: the first version of this plan", body = SyncReport),
        (status = 200, description = "Synced with the stored plan", body = SyncReport)))]
pub async fn upload(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(project): Id,
    Q(q): Q<PlanName>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !media.starts_with("text/markdown") && !media.starts_with("text/plain") {
        return Err(ApiError::UnsupportedMediaType(
            "send the plan as text/markdown".into(),
        ));
    }
    if q.name.trim().is_empty() {
        return Err(ApiError::field("name", "must not be empty"));
    }
    let report = s
        .store
        .import_plan(c.actor(), project, &q.name, body.to_vec())
        .await?;
    let status = if report.version == 1 && report.new_version {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(report)).into_response())
}

/// The plans of a project.
#[utoipa::path(get, path = "/api/v1/projects/{id}/plans", tag = "plans",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "Its plans", body = [PlanInfo])))]
pub async fn list(State(s): State<AppState>, Id(project): Id) -> ApiResult<Response> {
    s.store.get_project(project).await?;
    Ok(json(s.store.list_plans(project).await?))
}

/// Every stored version of a plan's text.
#[utoipa::path(get, path = "/api/v1/plans/{id}/versions", tag = "plans",
    params(("id" = i64, Path, description = "Plan id")),
    responses((status = 200, description = "Versions, oldest first", body = [PlanVersion])))]
pub async fn versions(State(s): State<AppState>, Id(plan): Id) -> ApiResult<Response> {
    Ok(json(s.store.plan_versions(plan).await?))
}

/// The newest text of the plan with the database's statuses written in, through the plan
/// engine's byte-exact writer: only the lines of tasks whose status changed differ.
#[utoipa::path(get, path = "/api/v1/plans/{id}/markdown", tag = "plans",
    params(("id" = i64, Path, description = "Plan id")),
    responses((status = 200, description = "The plan as markdown", body = String,
        content_type = "text/markdown")))]
pub async fn markdown(State(s): State<AppState>, Id(plan): Id) -> ApiResult<Response> {
    let source = s.store.plan_source(plan, None).await?;
    let stored = s.store.load_plan(plan).await?;
    let today = &s.store_today();
    // Parse once to find the tasks whose status differs; the text is parsed again only
    // after each edit (the writer needs the spans of the current bytes).
    let mut doc = taskman_markdown::parse(&source);
    let differ: Vec<_> = stored
        .tasks
        .iter()
        .filter(|t| {
            doc.plan
                .find(&t.id)
                .is_some_and(|i| doc.plan.tasks[i].status != t.status)
        })
        .map(|t| (t.id.clone(), t.status))
        .collect();
    for (id, status) in differ {
        if let Ok(new) = taskman_markdown::set_status(&doc, &id, status, today) {
            doc = taskman_markdown::parse(&new);
        }
    }
    let mut res = doc.bytes.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/markdown; charset=utf-8"),
    );
    Ok(res)
}
