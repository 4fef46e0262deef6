//! The ceiling for the HTTP benchmarks: a bare axum "hello world" on the same runtime
//! settings as `taskman serve` (multi-threaded, one worker per core, the same allocator). Prints the address.
//!
//! `cargo run --release -p taskman-api --example hello -- 127.0.0.1:8089`

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use axum::Router;
use axum::routing::get;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8089".into());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let app = Router::new().route("/", get(|| async { "Hello, World!" }));
            let listener = tokio::net::TcpListener::bind(&addr).await?;
            println!("hello serving on http://{}", listener.local_addr()?);
            axum::serve(listener, app).await
        })
}
