//! The taskman HTTP API, version 1 (first slice: projects, tasks, analytics, health).
//!
//! [`router`] builds the whole application for a store, so tests can serve it on port 0;
//! [`bootstrap`] gives an empty database its first admin and API key. Every route under
//! `/api/v1` needs `Authorization: Bearer <api key>`; errors are RFC 9457 problem+json.
//! What this crate must never do: send internal error detail, or accept a change made
//! against a version the caller did not see.

pub mod auth;
pub mod error;
mod routes;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use taskman_store::{Role, Store};

pub use error::{ApiError, Problem};

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
}

impl AppState {
    /// Today in UTC (`YYYY-MM-DD`), for completion notes written into a plan.
    pub fn store_today(&self) -> String {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let (y, m, d) = taskman_store::civil_date(secs.div_euclid(86_400));
        format!("{y:04}-{m:02}-{d:02}")
    }
}

/// Request bodies above this are refused (413).
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

pub fn router(store: Arc<Store>) -> Router {
    let state = AppState { store };
    let api = Router::new()
        .route(
            "/projects",
            get(routes::list_projects).post(routes::create_project),
        )
        .route(
            "/projects/{id}",
            get(routes::get_project)
                .patch(routes::update_project)
                .delete(routes::delete_project),
        )
        .route(
            "/projects/{id}/tasks",
            get(routes::list_tasks).post(routes::create_task),
        )
        .route("/projects/{id}/progress", get(routes::progress))
        .route("/projects/{id}/ready", get(routes::ready))
        .route("/projects/{id}/blocked", get(routes::blocked))
        .route(
            "/projects/{id}/plans",
            get(routes::list_plans).post(routes::upload_plan),
        )
        .route("/plans/{id}/versions", get(routes::plan_versions))
        .route("/plans/{id}/markdown", get(routes::plan_markdown))
        .route("/tasks/{id}/dependencies", post(routes::add_dependency))
        .route(
            "/tasks/{id}/dependencies/{dep}",
            axum::routing::delete(routes::remove_dependency),
        )
        .route("/events", get(routes::events))
        .route(
            "/tasks/{id}",
            get(routes::get_task)
                .patch(routes::update_task)
                .delete(routes::delete_task),
        )
        .fallback(not_found)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ));
    Router::new()
        .route("/health/live", get(|| async { "ok" }))
        .nest("/api/v1", api)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

/// With no user yet, create the admin and an API key for it: `token` when given (scripts,
/// tests, CI: `TASKMAN_BOOTSTRAP_TOKEN`), else a new random key. Returns the key to show
/// once, or `None` when the database already has users.
pub async fn bootstrap(store: &Store, token: Option<&str>) -> Result<Option<String>, String> {
    if !store
        .list_users()
        .await
        .map_err(|e| e.to_string())?
        .is_empty()
    {
        return Ok(None);
    }
    let (key, prefix, hash) = match token {
        Some(t) => {
            let (p, h) = auth::prefix_and_hash(t).ok_or(
                "TASKMAN_BOOTSTRAP_TOKEN must look like tm_<8 hex>_<at least 16 more characters>",
            )?;
            (t.to_string(), p, h)
        }
        None => auth::new_key()?,
    };
    let admin = store
        .create_user("bootstrap", "admin", Role::Admin)
        .await
        .map_err(|e| e.to_string())?;
    store
        .create_api_key("bootstrap", admin.id, "bootstrap", &prefix, &hash)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some(key))
}

/// Serve on `listener` until `shutdown` resolves, finishing requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Arc<Store>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(store))
        .with_graceful_shutdown(shutdown)
        .await
}
