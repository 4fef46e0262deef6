//! The middleware every request goes through, outermost first:
//!
//! 1. the edge ([`Edge`], one tower service for the per-request basics):
//!    - request ID: `X-Request-Id` taken from the request (1 to 128 visible characters)
//!      or made, put on the request and echoed on the response;
//!    - request timeout: past `http.request_timeout_secs` the inner service is dropped
//!      (its work cancelled) and the answer is a 408 problem;
//!    - security headers: `nosniff`, frame `DENY`, a content security policy, no
//!      referrer, HSTS when `http.hsts` is set; no `Server` header;
//!    - one log line per request: request ID, method, matched route, status, latency
//!      (never a header, so no key or token), and the request metrics;
//!    - the per-address rate limit (`rate_limit.per_address_per_minute`, 429 problem);
//! 2. panic guard: a panic in a handler becomes a 500 problem, not a dropped connection;
//! 3. CORS for the origins in `http.cors_origins` (none: no CORS headers);
//! 4. compression: gzip or brotli for bodies above `http.compress_min_bytes`, not for
//!    images or event streams;
//! 5. body size limit: `http.body_limit_bytes`, 413 problem.
//!
//! Then, for routes under `/api/v1` only: authentication (401/403), idempotency keys, the
//! handler.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::ApiError;
use crate::ratelimit::Limits;
use crate::settings::Settings;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

fn usable_id(v: &HeaderValue) -> Option<HeaderValue> {
    let s = v.to_str().ok()?;
    ((1..=128).contains(&s.len()) && s.bytes().all(|b| (0x21..0x7f).contains(&b)))
        .then(|| v.clone())
}

/// A new request ID: 32 hex digits, a random half drawn once per process and a counter,
/// so IDs never repeat within a process and differ between processes (and cost no system
/// call per request).
fn new_id() -> HeaderValue {
    static PREFIX: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static N: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| {
        let mut b = [0u8; 8];
        if getrandom::fill(&mut b).is_err() {
            // No randomness: the process ID and the time keep processes apart.
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            return t ^ (u64::from(std::process::id()) << 32);
        }
        u64::from_le_bytes(b)
    });
    let n = N.fetch_add(1, Ordering::Relaxed);
    HeaderValue::from_str(&format!("{prefix:016x}{n:016x}")).expect("hex")
}

/// Layer 1 (see the module's documentation): request ID, timeout, security headers, the
/// per-address rate limit, the log line and the request metrics, in one service. A tower
/// service of its own rather than `middleware::from_fn`, which boxes and clones the rest of
/// the stack on every request.
#[derive(Clone)]
pub struct Edge {
    pub hsts: bool,
    pub timeout: Duration,
    pub limits: Arc<Limits>,
}

impl<S> Layer<S> for Edge {
    type Service = EdgeService<S>;
    fn layer(&self, inner: S) -> EdgeService<S> {
        EdgeService {
            inner,
            edge: Arc::new(self.clone()),
        }
    }
}

#[derive(Clone)]
pub struct EdgeService<S> {
    inner: S,
    edge: Arc<Edge>,
}

impl<S> Service<Request> for EdgeService<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> BoxFuture {
        let start = Instant::now();
        let id = req
            .headers()
            .get(&REQUEST_ID)
            .and_then(usable_id)
            .unwrap_or_else(new_id);
        req.headers_mut().insert(REQUEST_ID, id.clone());
        let method = req.method().clone();
        let edge = self.edge.clone();
        let mut flight = InFlight::begin(id, method, start);
        let step = match crate::ratelimit::check_address(&edge.limits, &req) {
            Some(refused) => Err(refused),
            None => Ok(self.inner.call(req)),
        };
        Box::pin(async move {
            let res = match step {
                Err(refused) => refused,
                Ok(fut) => match tokio::time::timeout(edge.timeout, fut).await {
                    Ok(res) => res.unwrap_or_else(|never| match never {}),
                    Err(_) => ApiError::RequestTimeout(format!(
                        "the request took longer than {} s and was cancelled",
                        edge.timeout.as_secs()
                    ))
                    .into_response(),
                },
            };
            flight.answered = true;
            Ok(edge.finish(res, &flight))
        })
    }
}

/// A request between the edge's start and its answer: counted in
/// `http_requests_in_flight` until dropped, which also happens when the client goes away
/// first and the server drops the request's work; such a request gets its own log line.
struct InFlight {
    id: HeaderValue,
    method: Method,
    start: Instant,
    answered: bool,
}

impl InFlight {
    fn begin(id: HeaderValue, method: Method, start: Instant) -> InFlight {
        crate::metrics::in_flight(1.0);
        InFlight {
            id,
            method,
            start,
            answered: false,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        crate::metrics::in_flight(-1.0);
        if !self.answered {
            let latency_ms = self.start.elapsed().as_secs_f64() * 1000.0;
            tracing::info!(
                request_id = self.id.to_str().unwrap_or("-"),
                method = %self.method,
                latency_ms,
                "request abandoned: the client went away before the answer"
            );
        }
    }
}

impl Edge {
    /// The response's headers, the log line and the metrics.
    fn finish(&self, mut res: Response, flight: &InFlight) -> Response {
        let h = res.headers_mut();
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
        let status = res.status().as_u16();
        let seconds = flight.start.elapsed().as_secs_f64();
        let latency_ms = seconds * 1000.0;
        let route = res
            .extensions()
            .get::<MatchedPath>()
            .map_or("-", MatchedPath::as_str);
        let method = &flight.method;
        crate::metrics::request(method, route, status, seconds);
        let request_id = flight.id.to_str().unwrap_or("-");
        if status >= 500 {
            tracing::error!(request_id, method = %method, route, status, latency_ms, "request");
        } else {
            tracing::info!(request_id, method = %method, route, status, latency_ms, "request");
        }
        res.headers_mut().insert(REQUEST_ID, flight.id.clone());
        res
    }
}

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Route level: the matched route, carried on the response to the edge's log line and
/// metrics (the edge runs before routing, so it cannot read it from the request).
#[derive(Clone, Copy)]
pub struct TagRoute;

impl<S> Layer<S> for TagRoute {
    type Service = TagRouteService<S>;
    fn layer(&self, inner: S) -> TagRouteService<S> {
        TagRouteService { inner }
    }
}

#[derive(Clone)]
pub struct TagRouteService<S> {
    inner: S,
}

impl<S> Service<Request> for TagRouteService<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> BoxFuture {
        let route = req.extensions().get::<MatchedPath>().cloned();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let mut res = fut.await?;
            if let Some(r) = route {
                res.extensions_mut().insert(r);
            }
            Ok(res)
        })
    }
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
