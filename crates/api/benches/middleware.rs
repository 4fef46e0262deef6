//! What the middleware stack costs per request, against the bare router (issue 5), in
//! process: no network, one thread, each request sent through the application with
//! `tower::ServiceExt::oneshot`, so the figures are the server's own CPU per request.
//!
//! For GET one task (of 1,000) and a page of 50 tasks, four builds of the same application:
//! - handlers: the routes and handlers alone (`Layers::Handlers`);
//! - + auth: plus the `/api/v1` route layers, API key check and idempotency keys;
//! - whole stack, log off: everything `taskman serve` runs, logging at `warn` (no line);
//! - whole stack: the same with the JSON request line at `info` written to /dev/null, as
//!   in production.
//!
//! A bare axum "hello world" gives the floor of the HTTP plumbing in the same harness.
//! The allocator is the server's (mimalloc).
//! Run: `cargo bench -p taskman-api --bench middleware`.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use criterion::{Criterion, criterion_group, criterion_main};
use taskman_api::{Layers, LogFormat, Settings};
use taskman_store::{Durability, Location, Options, Store};
use tower::ServiceExt;

const TOKEN: &str = "tm_bench000_0123456789abcdef0123";
const TASKS: usize = 1000;

fn plan(n: usize) -> String {
    let mut s = String::from("# Bench plan\n");
    for i in 0..n {
        if i % 100 == 0 {
            s.push_str(&format!("\n## Section {}\n\n", i / 100));
        }
        let b = if i % 3 == 0 { 'x' } else { ' ' };
        s.push_str(&format!("- [{b}] Task {i}: do the thing number {i}\n"));
    }
    s
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = rt.block_on(async {
        let store = Store::open(
            &Location::Sqlite(dir.path().join("bench.db")),
            Options {
                durability: Durability::Fast,
                ..Options::default()
            },
        )
        .await
        .expect("store");
        taskman_api::bootstrap(&store, Some(TOKEN))
            .await
            .expect("bootstrap");
        let p = store
            .create_project("bench", "bench", "")
            .await
            .expect("project");
        store
            .import_plan("bench", p.id, "plan.md", plan(TASKS).into_bytes())
            .await
            .expect("import");
        Arc::new(store)
    });
    let mut settings = Settings::default();
    // The limits on, as in production, but out of reach: the run measures their cost.
    settings.rate_limit.reads_per_minute = 1_000_000_000;
    settings.rate_limit.per_address_per_minute = 1_000_000_000;
    settings.log.format = LogFormat::Json;

    let hello = axum::Router::new().route("/", axum::routing::get(|| async { "Hello, World!" }));
    let mut g = c.benchmark_group("per request");
    g.bench_function("hello world (bare axum)", |b| {
        b.iter(|| {
            let res = rt
                .block_on(
                    hello
                        .clone()
                        .oneshot(Request::get("/").body(Body::empty()).unwrap()),
                )
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
        })
    });

    let builds = [
        ("handlers", Layers::Handlers, "warn"),
        ("+ auth", Layers::Auth, "warn"),
        ("whole stack, log off", Layers::All, "warn"),
        ("whole stack", Layers::All, "info"),
    ];
    for (what, path) in [
        ("GET one task", None),
        (
            "page of 50",
            Some("/api/v1/projects/1/tasks?status=todo&limit=50"),
        ),
    ] {
        for (build, layers, level) in builds {
            let app = taskman_api::router_layers(store.clone(), &settings, layers);
            let mut log = settings.log.clone();
            log.level = level.into();
            let null = Arc::new(std::fs::File::create("/dev/null").expect("/dev/null"));
            let subscriber = taskman_api::logging::subscriber(&log, null).expect("subscriber");
            let mut i = 0usize;
            tracing::subscriber::with_default(subscriber, || {
                g.bench_function(format!("{what}: {build}"), |b| {
                    b.iter(|| {
                        i = (i * 7919 + 13) % TASKS;
                        let uri = match path {
                            Some(p) => p.to_string(),
                            None => format!("/api/v1/tasks/{}", i + 1),
                        };
                        let req = Request::get(uri)
                            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                            .extension(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                                [127, 0, 0, 1],
                                40000,
                            ))))
                            .body(Body::empty())
                            .unwrap();
                        let res = rt.block_on(app.clone().oneshot(req)).unwrap();
                        assert_eq!(res.status(), StatusCode::OK);
                        // The body is produced when it is read, as hyper would.
                        rt.block_on(axum::body::to_bytes(res.into_body(), usize::MAX))
                            .unwrap()
                    })
                });
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
