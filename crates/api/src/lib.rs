//! The taskman HTTP API, version 1 (first slice: projects, tasks, analytics, health).
//!
//! [`router`] builds the whole application for a store, so tests can serve it on port 0;
//! [`bootstrap`] gives an empty database its first admin and API key. Every route under
//! `/api/v1` needs `Authorization: Bearer <api key>`; errors are RFC 9457 problem+json.
//! What this crate must never do: send internal error detail, or accept a change made
//! against a version the caller did not see.

pub mod auth;
pub mod error;
pub mod health;
pub mod idempotency;
pub mod logging;
pub mod metrics;
pub mod openapi;
pub mod ratelimit;
mod routes;
pub mod settings;
pub mod stack;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use taskman_store::Store;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

pub use error::{ApiError, FieldError, Problem};
pub use settings::{LogFormat, Settings};

use routes::{actions, analytics, events, plans, projects, sprints, tasks};

/// What every handler and middleware shares: one reference-counted pointer, so a request
/// clones one `Arc` per extractor, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub store: Arc<Store>,
    /// API keys verified lately (see [`auth::KeyCache`]).
    pub keys: Arc<auth::KeyCache>,
    /// The last readiness result (see [`health`]).
    pub health: Arc<health::Cached>,
    /// Rate limits and their counters (see [`ratelimit`]).
    pub limits: Arc<ratelimit::Limits>,
    /// `http.body_limit_bytes`: bodies above this are refused (413), also where a body is
    /// read outside an extractor (idempotency) and in the 413's message.
    pub body_limit: usize,
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

/// Where the OpenAPI document and the docs page are served (no key needed).
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";
pub const DOCS_PATH: &str = "/api/v1/docs";

/// Every route under `/api/v1`, each registered with its OpenAPI operation.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(projects::list, projects::create))
        .routes(routes!(projects::get, projects::update, projects::delete))
        .routes(routes!(tasks::list, tasks::create))
        .routes(routes!(tasks::get, tasks::update, tasks::delete))
        .routes(routes!(tasks::transition))
        .routes(routes!(tasks::bulk))
        .routes(routes!(tasks::add_dependency))
        .routes(routes!(tasks::remove_dependency))
        .routes(routes!(tasks::search))
        .routes(routes!(analytics::progress))
        .routes(routes!(analytics::sections))
        .routes(routes!(analytics::ready))
        .routes(routes!(analytics::blocked))
        .routes(routes!(analytics::critical_path))
        .routes(routes!(analytics::lint))
        .routes(routes!(plans::list, plans::upload))
        .routes(routes!(plans::versions))
        .routes(routes!(plans::markdown))
        .routes(routes!(sprints::list, sprints::create))
        .routes(routes!(sprints::get, sprints::update))
        .routes(routes!(sprints::close))
        .routes(routes!(sprints::add_task, sprints::remove_task))
        .routes(routes!(actions::list, actions::create))
        .routes(routes!(actions::get, actions::update, actions::delete))
        .routes(routes!(actions::add_item))
        .routes(routes!(actions::update_item, actions::delete_item))
        .routes(routes!(events::list))
}

/// Every route with its operation: the probes, then `/api/v1` (wrapped by `layer`).
fn all_routes(
    layer: impl FnOnce(OpenApiRouter<AppState>) -> OpenApiRouter<AppState>,
) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(<openapi::ApiDoc as utoipa::OpenApi>::openapi())
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .routes(routes!(health::startup))
        .routes(routes!(metrics::render))
        .merge(layer(api_routes()))
}

/// The OpenAPI 3.1 document of the whole API, as served at [`OPENAPI_PATH`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi::finish(all_routes(|r| r).into_openapi())
}

/// The application with default settings (tests, examples).
pub fn router(store: Arc<Store>) -> Router {
    router_with(store, &Settings::default())
}

/// The whole application: routes, their OpenAPI document and docs page, and the middleware
/// stack in the order `stack` documents.
pub fn router_with(store: Arc<Store>, settings: &Settings) -> Router {
    router_layers(store, settings, Layers::All)
}

/// How much of the application [`router_layers`] builds: the middleware benchmark
/// (`benches/middleware.rs`) measures each part's cost against the handlers alone.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layers {
    /// The handlers and their routing only: no authentication, no middleware.
    Handlers,
    /// Plus the `/api/v1` route layers: authentication and idempotency keys.
    Auth,
    /// Everything, as served: [`router_with`].
    All,
}

#[doc(hidden)]
pub fn router_layers(store: Arc<Store>, settings: &Settings, layers: Layers) -> Router {
    metrics::handle();
    let state = AppState(Arc::new(Shared {
        store,
        keys: Arc::default(),
        health: Arc::new(health::Cached::new(settings.ready_cache())),
        limits: Arc::new(ratelimit::Limits::from_settings(settings)),
        body_limit: settings.http.body_limit_bytes,
    }));
    // Authentication, then (inside `auth::require_key`) the idempotency check, then the
    // handler.
    let (router, doc) = all_routes(|api| {
        if layers == Layers::Handlers {
            return api;
        }
        api.route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ))
    })
    .split_for_parts();
    if layers != Layers::All {
        return router.with_state(state);
    }
    let doc = openapi::finish(doc);
    let app = router
        .route_layer(stack::TagRoute)
        .merge(SwaggerUi::new(DOCS_PATH).url(OPENAPI_PATH, doc))
        .fallback(not_found)
        .with_state(state.clone());
    // Innermost first: `.layer` wraps what is already there. The request ID, log line,
    // security headers and timeout are one middleware (`stack::Edge`), outermost.
    let app = app
        .layer(DefaultBodyLimit::max(settings.http.body_limit_bytes))
        .layer(stack::compression(settings.http.compress_min_bytes));
    let app = match stack::cors(settings) {
        Some(cors) => app.layer(cors),
        None => app,
    };
    let edge = stack::Edge {
        hsts: settings.http.hsts,
        timeout: settings.request_timeout(),
        limits: state.limits.clone(),
    };
    app.layer(tower_http::catch_panic::CatchPanicLayer::custom(
        stack::panic_response,
    ))
    .layer(edge)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

/// With no user yet, create the admin and an API key for it: `token` when given (scripts,
/// tests, CI: `TASKMAN_BOOTSTRAP_TOKEN`), else a new random key. Returns the key to show
/// once, or `None` when the database already has users. Several servers starting at once
/// on an empty database: the store makes the admin and its key in one step, for exactly
/// one of them; the others get `None`.
pub async fn bootstrap(store: &Store, token: Option<&str>) -> Result<Option<String>, String> {
    // The usual case (users exist) costs one read, not a write.
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
    let made = store
        .create_first_admin("bootstrap", "admin", "bootstrap", &prefix, &hash)
        .await
        .map_err(|e| e.to_string())?;
    Ok(made.map(|_| key))
}

/// Serve on `listener` with default settings until `shutdown` resolves, finishing
/// requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Arc<Store>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, store, Settings::default(), shutdown).await
}

/// Serve on `listener` until `shutdown` resolves; then stop accepting, give requests in
/// flight `settings.http.shutdown_grace_secs` to finish, and return (the caller closes the
/// store).
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    store: Arc<Store>,
    settings: Settings,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router_with(store, &settings);
    let grace = settings.shutdown_grace();
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections; requests in flight may finish");
        let _ = stopping_tx.send(());
    };
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown);
    let server = std::pin::pin!(server.into_future());
    // Requests in flight get `grace` once shutdown begins; then the server stops anyway.
    tokio::select! {
        r = server => r,
        () = async {
            let _ = stopping_rx.await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still running after the shutdown grace; stopping");
            Ok(())
        }
    }
}
