//! Every error the API sends is an RFC 9457 problem: `application/problem+json` with
//! `type`, `title`, `status` and `detail`. Storage errors are mapped here, where the HTTP
//! meaning is decided; internal detail is never sent.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use taskman_store::StoreError;
use utoipa::ToSchema;

/// An RFC 9457 problem, sent as `application/problem+json` with every error.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`https://taskman.dev/problems/not-found`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    /// The HTTP status, repeated.
    pub status: u16,
    /// What went wrong with this request, in words.
    pub detail: String,
    /// For validation problems: the fields at fault.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One field at fault: its path in the body or query (`title`, `changes[2].status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An error as the API reports it. Each variant names its status.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request cannot be read (malformed JSON, a bad query string).
    BadRequest(String),
    /// 401: no valid API key.
    Unauthorized(String),
    /// 403: the key's role may not do this.
    Forbidden(String),
    /// 404.
    NotFound(String),
    /// 409: the change conflicts with the stored state (duplicate, cycle, stale version
    /// without If-Match).
    Conflict(String),
    /// 412: If-Match named another version.
    PreconditionFailed(String),
    /// 408: the request took longer than the server's timeout; its work was cancelled.
    RequestTimeout(String),
    /// 413: the body is over the limit.
    PayloadTooLarge(String),
    /// 415: the body is not of a type the route takes.
    UnsupportedMediaType(String),
    /// 429: over a rate limit (the caller adds `Retry-After`).
    TooManyRequests(String),
    /// 422: well-formed but not acceptable (wrong types, unknown fields, empty title).
    Unprocessable(String),
    /// 422 naming the fields at fault.
    Invalid(Vec<FieldError>),
    /// 503: the database cannot be reached.
    Unavailable(String),
    /// 500: logged, never detailed to the client.
    Internal(String),
}

impl ApiError {
    /// A 422 for one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str, String) {
        use ApiError::*;
        match self {
            BadRequest(d) => (
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Bad request",
                d.clone(),
            ),
            Unauthorized(d) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Unauthorized",
                d.clone(),
            ),
            Forbidden(d) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden", d.clone()),
            NotFound(d) => (StatusCode::NOT_FOUND, "not-found", "Not found", d.clone()),
            Conflict(d) => (StatusCode::CONFLICT, "conflict", "Conflict", d.clone()),
            PreconditionFailed(d) => (
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "Precondition failed",
                d.clone(),
            ),
            RequestTimeout(d) => (
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                "Request timeout",
                d.clone(),
            ),
            PayloadTooLarge(d) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
                d.clone(),
            ),
            UnsupportedMediaType(d) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                d.clone(),
            ),
            Unprocessable(d) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid request",
                d.clone(),
            ),
            Invalid(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid request",
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            TooManyRequests(d) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
                d.clone(),
            ),
            Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
                "the database cannot be reached; try again".into(),
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "an internal error occurred".into(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title, detail) = self.parts();
        if let ApiError::Internal(d) | ApiError::Unavailable(d) = &self {
            eprintln!("taskman api: {status}: {d}");
        }
        let body = Problem {
            kind: format!("https://taskman.dev/problems/{kind}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            errors: match self {
                ApiError::Invalid(errors) => errors,
                _ => Vec::new(),
            },
        };
        let mut res = (status, Json(body)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        res
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound { .. } => ApiError::NotFound(e.to_string()),
            StoreError::VersionConflict { .. }
            | StoreError::AlreadyExists(_)
            | StoreError::Cycle(_) => ApiError::Conflict(e.to_string()),
            StoreError::Invalid(d) => ApiError::Unprocessable(d),
            StoreError::Unavailable(d) => ApiError::Unavailable(d),
            StoreError::Migration(d) | StoreError::Database(d) => ApiError::Internal(d),
        }
    }
}

tokio::task_local! {
    /// The server's `http.body_limit_bytes` while a request under `/api/v1` runs (set by
    /// the idempotency middleware, which wraps every such request), so a rejection made
    /// without the state can name the configured limit.
    pub static BODY_LIMIT: usize;
}

/// The 413 for a body over the server's limit, naming it when known.
pub fn too_large() -> ApiError {
    ApiError::PayloadTooLarge(match BODY_LIMIT.try_with(|limit| *limit) {
        Ok(limit) => format!("the body is over the limit of {limit} bytes"),
        Err(_) => "the body is over the server's limit".into(),
    })
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        match r {
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::UnsupportedMediaType("send the body as application/json".into())
            }
            JsonRejection::JsonDataError(e) => match fields_at_fault(&e) {
                Some(errors) => ApiError::Invalid(errors),
                None => ApiError::Unprocessable(e.body_text()),
            },
            JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest(e.body_text()),
            JsonRejection::BytesRejection(e) => {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    ApiError::BadRequest(e.body_text())
                }
            }
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        match fields_at_fault(&r) {
            Some(errors) => ApiError::Invalid(errors),
            None => ApiError::BadRequest(r.body_text()),
        }
    }
}

/// The field a body or query string got wrong, from the deserializer's path
/// (`changes[2].status: unknown variant ...`; an unknown field is named itself).
fn fields_at_fault(e: &(dyn std::error::Error + 'static)) -> Option<Vec<FieldError>> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(p) = err.downcast_ref::<serde_path_to_error::Error<serde_json::Error>>() {
            return Some(vec![field_error(
                p.path().to_string(),
                p.inner().to_string(),
            )]);
        }
        if let Some(p) = err.downcast_ref::<serde_path_to_error::Error<serde::de::value::Error>>() {
            return Some(vec![field_error(
                p.path().to_string(),
                p.inner().to_string(),
            )]);
        }
        cur = err.source();
    }
    None
}

fn field_error(path: String, message: String) -> FieldError {
    // serde names an unknown field in its message; the path may or may not include it.
    let message = match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some(name) = rest.split('`').next()
    {
        let field = if path == "." {
            name.to_string()
        } else if path == name || path.ends_with(&format!(".{name}")) {
            path
        } else {
            format!("{path}.{name}")
        };
        return FieldError::new(field, "unknown field");
    }
    let field = if path == "." { String::new() } else { path };
    FieldError::new(field, message)
}

pub type ApiResult<T> = Result<T, ApiError>;
