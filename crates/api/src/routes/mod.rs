//! Handlers under `/api/v1`, one module per resource. GET answers carry an `ETag` (the
//! stored version); PATCH and DELETE honour `If-Match` (412 when it names another version).
//! A change without `If-Match` is made against the version read in the same request, so it
//! still never overwrites a change it did not see.
//!
//! Each handler carries its `#[utoipa::path]`: the OpenAPI document is generated from these
//! and from the routes registered with them (see `crate::openapi`), so a route cannot be
//! served without being documented.

pub mod actions;
pub mod analytics;
pub mod events;
pub mod plans;
pub mod projects;
pub mod sprints;
pub mod tasks;

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use taskman_store::StoreError;

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

/// A query string whose rejections are problem+json, naming the parameter at fault.
pub struct Q<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let Query(v) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(Q(v))
    }
}

/// A numeric id from the path; anything else is a 400 problem, not axum's plain text.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
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

/// Two numeric ids from the path (`/tasks/{id}/dependencies/{dep}`).
pub struct Ids(pub i64, pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Ids {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let Path((a, b)) = Path::<(i64, i64)>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("ids are numbers: {}", e.body_text())))?;
        Ok(Ids(a, b))
    }
}

pub fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header")
}

/// The version `If-Match` names: `None` without the header, an error when it is not one
/// of ours (`"<version>"`, or `*` for any).
pub fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
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

/// For a change whose storage call takes no expected version: `If-Match` (`given`) checked
/// against the version read now (`current`), 412 naming both when they differ.
pub fn precondition(given: Option<i64>, current: i64, what: &str, id: i64) -> ApiResult<()> {
    match given {
        Some(v) if v != current => Err(ApiError::PreconditionFailed(format!(
            "{what} {id} is at version {current}, not {v}"
        ))),
        _ => Ok(()),
    }
}

/// A stale If-Match is 412; a conflict found without one stays 409.
pub fn stale(e: StoreError, had_if_match: bool) -> ApiError {
    match e {
        StoreError::VersionConflict { .. } if had_if_match => {
            ApiError::PreconditionFailed(e.to_string())
        }
        e => e.into(),
    }
}

/// A JSON response, serialized into one buffer of about the right size (axum's `Json`
/// starts at 128 bytes and grows through a `BytesMut` writer: for a page of tasks the
/// copies cost as much as the serializing).
fn json_sized(body: impl serde::Serialize, capacity: usize) -> Response {
    let mut buf = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut buf, &body) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            buf,
        )
            .into_response(),
        Err(e) => {
            ApiError::Internal(format!("cannot write the answer as JSON: {e}")).into_response()
        }
    }
}

pub fn with_etag(version: i64, body: impl serde::Serialize) -> Response {
    let mut res = json_sized(body, 1024);
    res.headers_mut().insert(header::ETAG, etag(version));
    res
}

pub fn created(version: i64, body: impl serde::Serialize) -> Response {
    let mut res = with_etag(version, body);
    *res.status_mut() = StatusCode::CREATED;
    res
}

pub fn json(body: impl serde::Serialize) -> Response {
    json_sized(body, 16 * 1024)
}

/// A page size from the query: 50 when absent, 1 to 1000.
pub fn page_limit(limit: Option<u32>) -> ApiResult<u32> {
    let limit = limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "must be 1 to 1000"));
    }
    Ok(limit)
}

/// Tell "absent" (`None`) from "null" (`Some(None)`) in a PATCH body.
pub fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}
