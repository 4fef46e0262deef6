//! Health probes, without a key: `/health/live` (the process answers), `/health/ready`
//! (the database answers within 5 s and every migration is applied: 200 `ok`, 200
//! `degraded` when the database took over 1 s, 503 `down`), `/health/startup` (200 once
//! the server is up: it only listens after migrations and the first admin). Readiness is
//! worked out at most every `health.ready_cache_secs` (default 10 s); answers in between
//! are the cached result, so a burst of probes costs the database one check.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;

const DB_TIMEOUT: Duration = Duration::from_secs(5);
const SLOW: Duration = Duration::from_secs(1);
/// How long a readiness result is reused by default (`health.ready_cache_secs`).
pub const CACHE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Check {
    /// `database`, `migrations`.
    pub name: String,
    /// `ok`, `degraded` or `down`.
    pub status: String,
    pub latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `degraded` (answers, slowly) or `down`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub checks: Vec<Check>,
    /// Connections of the database pool (SQLite: idle readers kept).
    pub pool: Pool,
    /// When this result was worked out (RFC 3339); it is reused for up to
    /// `health.ready_cache_secs` (default 10 s).
    pub checked_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Pool {
    pub size: u32,
    pub idle: u32,
}

/// The last readiness result, reused for its time to live.
pub struct Cached {
    ttl: Duration,
    last: std::sync::Mutex<Option<(Instant, StatusCode, Health)>>,
}

impl Cached {
    /// Results reused for `ttl` (zero: every probe checks).
    pub fn new(ttl: Duration) -> Cached {
        Cached {
            ttl,
            last: std::sync::Mutex::new(None),
        }
    }
}

impl Default for Cached {
    fn default() -> Cached {
        Cached::new(CACHE)
    }
}

/// The process answers.
#[utoipa::path(get, path = "/health/live", tag = "health",
    responses((status = 200, description = "The process is running", body = String,
        content_type = "text/plain")))]
pub async fn live() -> &'static str {
    "ok"
}

/// The server started: migrations applied and the first admin made (it does not listen
/// before).
#[utoipa::path(get, path = "/health/startup", tag = "health",
    responses((status = 200, description = "Started", body = String, content_type = "text/plain")))]
pub async fn startup() -> &'static str {
    "ok"
}

/// Whether to send traffic here: the database answers and is fully migrated.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Ready (`ok`, or `degraded` when the database is slow)", body = Health),
        (status = 503, description = "Not ready: the database does not answer or is not migrated", body = Health)))]
pub async fn ready(State(s): State<AppState>) -> Response {
    if let Ok(c) = s.health.last.lock()
        && let Some((at, code, h)) = c.as_ref()
        && at.elapsed() < s.health.ttl
    {
        return (*code, Json(h.clone())).into_response();
    }
    let (code, h) = check(&s).await;
    if let Ok(mut c) = s.health.last.lock() {
        *c = Some((Instant::now(), code, h.clone()));
    }
    (code, Json(h)).into_response()
}

async fn check(s: &AppState) -> (StatusCode, Health) {
    let mut checks = Vec::new();
    let start = Instant::now();
    let db = tokio::time::timeout(DB_TIMEOUT, s.store.ping()).await;
    let took = start.elapsed();
    let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
    let (db_status, detail) = match db {
        Ok(Ok(())) if took > SLOW => ("degraded", Some(format!("answered in {:.0} ms", ms(took)))),
        Ok(Ok(())) => ("ok", None),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            ("down", Some("the database does not answer".to_string()))
        }
        Err(_) => (
            "down",
            Some(format!("no answer within {} s", DB_TIMEOUT.as_secs())),
        ),
    };
    checks.push(Check {
        name: "database".into(),
        status: db_status.into(),
        latency_ms: ms(took),
        detail,
    });
    if db_status != "down" {
        let start = Instant::now();
        let known = match s.store.backend() {
            "sqlite" => taskman_store::migrate::SQLITE.len(),
            _ => taskman_store::migrate::POSTGRES.len(),
        };
        let (status, detail) = match tokio::time::timeout(DB_TIMEOUT, s.store.migrations()).await {
            Ok(Ok(applied)) if applied.len() == known => ("ok", None),
            Ok(Ok(applied)) => (
                "down",
                Some(format!("{} of {known} migrations applied", applied.len())),
            ),
            _ => ("down", Some("cannot read the applied migrations".into())),
        };
        checks.push(Check {
            name: "migrations".into(),
            status: status.into(),
            latency_ms: ms(start.elapsed()),
            detail,
        });
    }
    let overall = if checks.iter().any(|c| c.status == "down") {
        "down"
    } else if checks.iter().any(|c| c.status == "degraded") {
        "degraded"
    } else {
        "ok"
    };
    let (size, idle) = s.store.pool_stats();
    let h = Health {
        status: overall.into(),
        backend: s.store.backend().into(),
        checks,
        pool: Pool { size, idle },
        checked_at: taskman_store::Clock::system().now(),
    };
    let code = if overall == "down" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, h)
}
