//! `/metrics` in the Prometheus text format: requests by matched route, method and status,
//! a latency histogram, requests in flight, the database pool, and what the service does
//! (tasks created and completed, status transitions, tasks per project by status, read
//! at scrape time). The registry is the process's (`metrics` crate); several servers in
//! one process (tests) share it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use taskman_core::Status;

use crate::AppState;

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(LATENCY_BUCKETS)
            .expect("buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (an embedding program's): then ours
        // renders only what is recorded through it, which is nothing; say so once.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
        }
        handle
    })
}

/// One request's figures (called by the edge middleware). The counter and histogram of
/// each (method, route, status) are looked up in the registry once per thread and kept:
/// building and hashing the labels at every request cost more than the rest of the edge.
pub fn request(method: &Method, route: &str, status: u16, seconds: f64) {
    type Handles = (metrics::Counter, metrics::Histogram);
    thread_local! {
        static HANDLES: RefCell<(String, HashMap<String, Handles>)> =
            RefCell::new((String::new(), HashMap::new()));
    }
    HANDLES.with_borrow_mut(|(key, handles)| {
        key.clear();
        let _ = write!(key, "{method} {status} {route}");
        if let Some((count, latency)) = handles.get(key.as_str()) {
            count.increment(1);
            latency.record(seconds);
            return;
        }
        // Routes are the matched ones (or "-"), so the set is small; bound it anyway.
        if handles.len() >= 4096 {
            handles.clear();
        }
        let labels = [
            ("method", method.to_string()),
            ("route", route.to_string()),
            ("status", status.to_string()),
        ];
        let count = metrics::counter!("http_requests_total", &labels);
        let latency = metrics::histogram!(
            "http_request_duration_seconds",
            "method" => method.to_string(),
            "route" => route.to_string()
        );
        count.increment(1);
        latency.record(seconds);
        handles.insert(key.clone(), (count, latency));
    });
}

pub fn in_flight(delta: f64) {
    static GAUGE: OnceLock<metrics::Gauge> = OnceLock::new();
    GAUGE
        .get_or_init(|| metrics::gauge!("http_requests_in_flight"))
        .increment(delta);
}

/// A task was created through the API.
pub fn task_created() {
    metrics::counter!("taskman_tasks_created_total").increment(1);
}

/// A task's status moved (through the API).
pub fn transition(from: Status, to: Status) {
    if from == to {
        return;
    }
    metrics::counter!(
        "taskman_task_status_transitions_total",
        "from" => from.as_str(),
        "to" => to.as_str()
    )
    .increment(1);
    if to == Status::Done {
        metrics::counter!("taskman_tasks_completed_total").increment(1);
    }
}

/// The metrics, for Prometheus (no key: keep it off the public side, see
/// docs/deployment.md).
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text format", body = String,
        content_type = "text/plain")))]
pub async fn render(State(s): State<AppState>) -> Response {
    let h = handle();
    let (size, idle) = s.store.pool_stats();
    metrics::gauge!("taskman_db_pool_connections", "state" => "open").set(f64::from(size));
    metrics::gauge!("taskman_db_pool_connections", "state" => "idle").set(f64::from(idle));
    // Tasks per project by status, read now (the first 200 projects).
    if let Ok(projects) = s.store.list_projects().await {
        for p in projects.iter().take(200) {
            if let Ok(pr) = s.store.progress(p.id).await {
                let id = p.id.to_string();
                for (status, n) in [
                    ("todo", pr.todo),
                    ("in_progress", pr.in_progress),
                    ("blocked", pr.blocked),
                    ("deferred", pr.deferred),
                    ("done", pr.done),
                    ("cancelled", pr.cancelled),
                ] {
                    metrics::gauge!("taskman_tasks", "project" => id.clone(), "status" => status)
                        .set(n as f64);
                }
            }
        }
    }
    let mut res = h.render().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}
