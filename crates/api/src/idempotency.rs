//! `Idempotency-Key` on POST (draft-ietf-httpapi-idempotency-key-header): a client that
//! retries a POST with the same key and the same body gets the first response again, and
//! the change is made once. The same key with another body is refused (422); a retry while
//! the first request is still running gets 409. Keys belong to the caller and last 24
//! hours. The claim and the stored response live in the database, so several servers on
//! one PostgreSQL agree.
//!
//! Limit: the response is stored after the change commits; if the process dies between
//! the two, the key stays "in flight" for 60 seconds and a retry after that runs again.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use taskman_store::{IdempotencyBegin, StoredResponse};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

pub const HEADER: &str = "idempotency-key";
/// Set on a response replayed from a stored one.
pub const REPLAYED: &str = "idempotency-replayed";

fn valid_key(k: &str) -> bool {
    (1..=255).contains(&k.len()) && k.bytes().all(|b| (0x21..0x7f).contains(&b))
}

/// Middleware for the routes under `/api/v1`, inside authentication. The request runs
/// with the configured body limit known to the 413 it may get ([`crate::error::BODY_LIMIT`]).
pub async fn idempotency(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    crate::error::BODY_LIMIT
        .scope(state.body_limit, claim_or_replay(state, req, next))
        .await
}

async fn claim_or_replay(state: AppState, req: Request, next: Next) -> Result<Response, ApiError> {
    if req.method() != Method::POST {
        return Ok(next.run(req).await);
    }
    let Some(key) = req.headers().get(HEADER) else {
        return Ok(next.run(req).await);
    };
    let key = key
        .to_str()
        .ok()
        .filter(|k| valid_key(k))
        .ok_or_else(|| {
            ApiError::BadRequest("Idempotency-Key must be 1 to 255 visible ASCII characters".into())
        })?
        .to_string();
    let Some(Caller(user)) = req.extensions().get::<Caller>().cloned() else {
        return Err(ApiError::Internal(
            "idempotency ran before authentication".into(),
        ));
    };
    let (parts, body) = req.into_parts();
    // Read here, before any extractor, so the configured limit is applied here too.
    let bytes = axum::body::to_bytes(body, state.body_limit)
        .await
        .map_err(|_| crate::error::too_large())?;
    let mut h = Sha256::new();
    h.update(parts.method.as_str());
    h.update(b" ");
    h.update(parts.uri.to_string());
    h.update(b"\n");
    if let Some(ct) = parts.headers.get(header::CONTENT_TYPE) {
        h.update(ct.as_bytes());
    }
    h.update(b"\n");
    h.update(&bytes);
    let fingerprint: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();

    match state
        .store
        .idempotency_begin(user.id, &key, &fingerprint)
        .await?
    {
        IdempotencyBegin::Replay(stored) => Ok(replay(stored)),
        IdempotencyBegin::Mismatch => Err(ApiError::field(
            "Idempotency-Key",
            "was used with another request; use a new key for a new request",
        )),
        IdempotencyBegin::InFlight => Err(ApiError::Conflict(
            "a request with this Idempotency-Key is still running; retry later".into(),
        )),
        IdempotencyBegin::Started => {
            let res = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            if res.status().is_server_error() {
                state.store.idempotency_abandon(user.id, &key).await?;
                return Ok(res);
            }
            let (parts, body) = res.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .map_err(|e| ApiError::Internal(format!("reading a response: {e}")))?;
            let text = |h: header::HeaderName| {
                parts
                    .headers
                    .get(h)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let stored = StoredResponse {
                status: parts.status.as_u16(),
                content_type: text(header::CONTENT_TYPE).unwrap_or_default(),
                etag: text(header::ETAG),
                body: body.to_vec(),
            };
            if let Err(e) = state.store.idempotency_finish(user.id, &key, stored).await {
                // The change is made; the retry protection is not. Say so in the log and
                // still answer.
                eprintln!("taskman api: storing the response of an idempotent POST: {e}");
            }
            Ok(Response::from_parts(parts, Body::from(body)))
        }
    }
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut res = (status, stored.body).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&stored.content_type)
        && !stored.content_type.is_empty()
    {
        h.insert(header::CONTENT_TYPE, v);
    } else {
        h.remove(header::CONTENT_TYPE);
    }
    if let Some(v) = stored.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        h.insert(header::ETAG, v);
    }
    h.insert(REPLAYED, HeaderValue::from_static("true"));
    res
}
