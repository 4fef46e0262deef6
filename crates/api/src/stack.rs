//! The middleware every request goes through, outermost first:
//!
//! 1. the edge ([`Edge`], one middleware for the per-request basics):
//!    - request ID: `X-Request-Id` taken from the request (1 to 128 visible characters)
//!      or made, put on the request and echoed on the response;
//!    - request timeout: past `http.request_timeout_secs` the inner service is dropped
//!      (its work cancelled) and the answer is a 408 problem;
//!    - security headers: `nosniff`, frame `DENY`, a content security policy, no
//!      referrer, HSTS when `http.hsts` is set; no `Server` header;
//!    - one log line per request: request ID, method, matched route, status, latency
//!      (never a header, so no key or token);
//! 2. panic guard: a panic in a handler becomes a 500 problem, not a dropped connection;
//! 3. CORS for the origins in `http.cors_origins` (none: no CORS headers);
//! 4. compression: gzip or brotli for bodies above `http.compress_min_bytes`, not for
//!    images or event streams;
//! 5. body size limit: `http.body_limit_bytes`, 413 problem.
//!
//! Then, for routes under `/api/v1` only: authentication (401/403), idempotency keys, the
//! handler.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::ApiError;
use crate::settings::Settings;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The route a request matched, carried to the log line on the response.
#[derive(Debug, Clone)]
struct Route(String);

fn usable_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    ((1..=128).contains(&s.len()) && s.bytes().all(|b| (0x21..0x7f).contains(&b)))
        .then(|| s.to_string())
}

fn new_id() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // Unique enough within the process without randomness.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        b[..8].copy_from_slice(&n.to_le_bytes());
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Layer 1 in one pass (a layer of its own for each part cost a boxed future and a clone
/// of the rest of the stack per request): request ID, timeout, security headers, log line.
#[derive(Clone)]
pub struct Edge {
    pub hsts: bool,
    pub timeout: Duration,
}

impl Edge {
    pub async fn run(self, mut req: Request, next: Next) -> Response {
        let start = Instant::now();
        let id = req
            .headers()
            .get(&REQUEST_ID)
            .and_then(usable_id)
            .unwrap_or_else(new_id);
        let value = HeaderValue::from_str(&id).expect("checked or hex");
        req.headers_mut().insert(REQUEST_ID, value.clone());
        let method = req.method().clone();
        crate::metrics::in_flight(1.0);
        let mut res = match tokio::time::timeout(self.timeout, next.run(req)).await {
            Ok(res) => res,
            Err(_) => ApiError::RequestTimeout(format!(
                "the request took longer than {} s and was cancelled",
                self.timeout.as_secs()
            ))
            .into_response(),
        };
        let h = res.headers_mut();
        h.insert(REQUEST_ID, value);
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        if self.hsts {
            h.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            );
        }
        h.remove(header::SERVER);
        let route = res
            .extensions()
            .get::<Route>()
            .map_or("-", |r| r.0.as_str());
        let status = res.status().as_u16();
        let seconds = start.elapsed().as_secs_f64();
        let latency_ms = seconds * 1000.0;
        crate::metrics::in_flight(-1.0);
        crate::metrics::request(method.as_str(), route, status, seconds);
        if status >= 500 {
            tracing::error!(request_id = %id, method = %method, route, status, latency_ms, "request");
        } else {
            tracing::info!(request_id = %id, method = %method, route, status, latency_ms, "request");
        }
        res
    }
}

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Route level: the matched route, for the log line and the metrics.
pub async fn tag_route(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let mut res = next.run(req).await;
    if let Some(r) = route {
        res.extensions_mut().insert(Route(r));
    }
    res
}

/// Layer 2: a panic answers 500 (and is logged), the connection and process live on.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    ApiError::Internal(format!("handler panicked: {what}")).into_response()
}

/// Layer 3: CORS for the configured origins, or none.
pub fn cors(settings: &Settings) -> Option<CorsLayer> {
    let origins = &settings.http.cors_origins;
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                HeaderName::from_static("idempotency-key"),
                REQUEST_ID,
            ])
            .expose_headers([
                header::ETAG,
                header::RETRY_AFTER,
                REQUEST_ID,
                HeaderName::from_static("idempotency-replayed"),
            ])
            .max_age(Duration::from_secs(600)),
    )
}

/// Layer 4: compression above the threshold, never for images or event streams.
pub fn compression(min_bytes: u16) -> CompressionLayer<impl Predicate> {
    CompressionLayer::new().gzip(true).br(true).compress_when(
        SizeAbove::new(min_bytes)
            .and(NotForContentType::IMAGES)
            .and(NotForContentType::SSE)
            .and(NotForContentType::GRPC)
            .and(NotForContentType::const_new("application/zip")),
    )
}
