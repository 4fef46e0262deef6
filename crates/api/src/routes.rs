//! Handlers under `/api/v1`. GET answers carry an `ETag` (the stored version); PATCH and
//! DELETE honour `If-Match` (412 when it names another version). A change without
//! `If-Match` is made against the version read in the same request, so it still never
//! overwrites a change it did not see.

use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use taskman_core::{Priority, Status};
use taskman_store::{
    NewTask, PageRequest, ProjectPatch, StoreError, TaskFilter, TaskPatch, status_from_str,
};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

/// `Json` whose rejections are problem+json like every other error.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(v) = Json::<T>::from_request(req, state).await?;
        Ok(Body(v))
    }
}

/// A numeric id from the path; anything else is a 400 problem, not axum's plain text.
pub struct Id(pub i64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let Path(id) = Path::<i64>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("ids are numbers: {}", e.body_text())))?;
        Ok(Id(id))
    }
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header")
}

/// The version `If-Match` names: `None` without the header, an error when it is not one
/// of ours (`"<version>"`, or `*` for any).
fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let v = v
        .to_str()
        .map_err(|_| ApiError::BadRequest("If-Match is not text".into()))?
        .trim();
    if v == "*" {
        return Ok(None);
    }
    v.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| {
            ApiError::PreconditionFailed(format!("If-Match {v} names no version of this resource"))
        })
}

/// A stale If-Match is 412; a conflict found without one stays 409.
fn stale(e: StoreError, had_if_match: bool) -> ApiError {
    match e {
        StoreError::VersionConflict { .. } if had_if_match => {
            ApiError::PreconditionFailed(e.to_string())
        }
        e => e.into(),
    }
}

fn with_etag(version: i64, body: impl serde::Serialize) -> Response {
    let mut res = Json(body).into_response();
    res.headers_mut().insert(header::ETAG, etag(version));
    res
}

// ---- projects

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    name: String,
    #[serde(default)]
    description: String,
}

pub async fn list_projects(State(s): State<AppState>) -> ApiResult<Response> {
    Ok(Json(s.store.list_projects().await?).into_response())
}

pub async fn create_project(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Body(p): Body<NewProject>,
) -> ApiResult<Response> {
    let p = s
        .store
        .create_project(c.actor(), &p.name, &p.description)
        .await?;
    let mut res = with_etag(p.version, &p);
    *res.status_mut() = StatusCode::CREATED;
    Ok(res)
}

pub async fn get_project(State(s): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    let p = s.store.get_project(id).await?;
    Ok(with_etag(p.version, &p))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectChange {
    name: Option<String>,
    description: Option<String>,
}

pub async fn update_project(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(id): Id,
    headers: HeaderMap,
    Body(ch): Body<ProjectChange>,
) -> ApiResult<Response> {
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

pub async fn delete_project(
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

// ---- tasks

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    /// Comma-separated statuses.
    status: Option<String>,
    priority: Option<Priority>,
    owner: Option<String>,
    tag: Option<String>,
    section: Option<i64>,
    plan: Option<i64>,
    q: Option<String>,
    #[serde(default)]
    ready: bool,
    #[serde(default)]
    blocked: bool,
    cursor: Option<i64>,
    limit: Option<u32>,
}

pub async fn list_tasks(
    State(s): State<AppState>,
    Id(project): Id,
    query: Result<Query<TaskQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    s.store.get_project(project).await?;
    let status = match &q.status {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|w| {
                status_from_str(w.trim())
                    .ok_or_else(|| ApiError::Unprocessable(format!("unknown status {w:?}")))
            })
            .collect::<ApiResult<Vec<Status>>>()?,
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::Unprocessable("limit must be 1 to 1000".into()));
    }
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
    Ok(Json(page).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskIn {
    title: String,
    key: Option<String>,
    status: Option<Status>,
    priority: Option<Priority>,
    owner: Option<String>,
    due: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    notes: Option<String>,
    parent_id: Option<i64>,
    plan_id: Option<i64>,
}

pub async fn create_task(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(project): Id,
    Body(t): Body<TaskIn>,
) -> ApiResult<Response> {
    let t = s
        .store
        .create_task(
            c.actor(),
            project,
            NewTask {
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
    let mut res = with_etag(t.version, &t);
    *res.status_mut() = StatusCode::CREATED;
    Ok(res)
}

pub async fn get_task(State(s): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    let t = s.store.get_task(id).await?;
    Ok(with_etag(t.version, &t))
}

/// `null` clears a field; an absent field is left alone.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskChange {
    title: Option<String>,
    status: Option<Status>,
    #[serde(default, deserialize_with = "present")]
    priority: Option<Option<Priority>>,
    #[serde(default, deserialize_with = "present")]
    owner: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    due: Option<Option<String>>,
    notes: Option<String>,
    tags: Option<Vec<String>>,
}

/// Tell "absent" (`None`) from "null" (`Some(None)`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

pub async fn update_task(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(id): Id,
    headers: HeaderMap,
    Body(ch): Body<TaskChange>,
) -> ApiResult<Response> {
    let expected = match if_match(&headers)? {
        Some(v) => Some(v),
        // Against the version this request reads: a concurrent change is a 409, never
        // overwritten.
        None => Some(s.store.get_task(id).await?.version),
    };
    let had = headers.contains_key(header::IF_MATCH);
    let t = s
        .store
        .update_task(
            c.actor(),
            id,
            expected,
            TaskPatch {
                title: ch.title,
                status: ch.status,
                priority: ch.priority,
                owner: ch.owner,
                due: ch.due,
                notes: ch.notes,
                tags: ch.tags,
            },
        )
        .await
        .map_err(|e| stale(e, had))?;
    Ok(with_etag(t.version, &t))
}

pub async fn delete_task(
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

// ---- analytics

pub async fn progress(State(s): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    Ok(Json(s.store.progress(id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    limit: Option<u32>,
}

pub async fn ready(
    State(s): State<AppState>,
    Id(id): Id,
    query: Result<Query<Limit>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(l) = query?;
    let limit = l.limit.unwrap_or(50).clamp(1, 1000);
    Ok(Json(s.store.ready(id, limit).await?).into_response())
}

pub async fn blocked(State(s): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    Ok(Json(s.store.blocked(id).await?).into_response())
}

// ---- plans

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanName {
    /// The plan's name in the project (a file name); uploading the same name again syncs.
    name: String,
}

/// `POST /projects/{id}/plans?name=...` with a `text/markdown` body: import or sync, and
/// the change report.
pub async fn upload_plan(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Id(project): Id,
    query: Result<Query<PlanName>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let Query(q) = query?;
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
        return Err(ApiError::Unprocessable("name must not be empty".into()));
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
    Ok((status, Json(report)).into_response())
}

pub async fn list_plans(State(s): State<AppState>, Id(project): Id) -> ApiResult<Response> {
    Ok(Json(s.store.list_plans(project).await?).into_response())
}

pub async fn plan_versions(State(s): State<AppState>, Id(plan): Id) -> ApiResult<Response> {
    Ok(Json(s.store.plan_versions(plan).await?).into_response())
}

/// The newest text of the plan with the database's statuses written in, through the plan
/// engine's byte-exact writer (a task whose status the text already shows is untouched).
pub async fn plan_markdown(State(s): State<AppState>, Id(plan): Id) -> ApiResult<Response> {
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
    let bytes = doc.bytes;
    let mut res = bytes.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/markdown; charset=utf-8"),
    );
    Ok(res)
}

// ---- dependencies

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependencyIn {
    depends_on: i64,
}

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

pub async fn remove_dependency(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    path: Result<Path<(i64, i64)>, axum::extract::rejection::PathRejection>,
) -> ApiResult<Response> {
    let Path((task, dep)) =
        path.map_err(|e| ApiError::BadRequest(format!("ids are numbers: {}", e.body_text())))?;
    let t = s.store.remove_dependency(c.actor(), task, dep).await?;
    Ok(with_etag(t.version, &t))
}

// ---- events

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    project: Option<i64>,
    task: Option<i64>,
    actor: Option<String>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<i64>,
    limit: Option<u32>,
}

pub async fn events(
    State(s): State<AppState>,
    query: Result<Query<EventQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::Unprocessable("limit must be 1 to 1000".into()));
    }
    let page = s
        .store
        .events(
            &taskman_store::EventFilter {
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
    Ok(Json(page).into_response())
}
