//! `taskman serve`: the HTTP API on the embedded SQLite default or on PostgreSQL.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::db::DbArgs;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "TASKMAN_LISTEN")]
    listen: SocketAddr,
    #[command(flatten)]
    db: DbArgs,
}

pub fn serve(a: &ServeArgs) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let store = Arc::new(a.db.open().await?);
        let token = std::env::var("TASKMAN_BOOTSTRAP_TOKEN")
            .ok()
            .filter(|t| !t.is_empty());
        if let Some(key) = taskman_api::bootstrap(&store, token.as_deref())
            .await
            .map_err(anyhow::Error::msg)
            .context("cannot create the first user")?
        {
            if token.is_none() {
                println!("created user \"admin\" with this API key (shown once, keep it):");
                println!("  {key}");
            } else {
                println!("created user \"admin\" with the key from TASKMAN_BOOTSTRAP_TOKEN");
            }
        }
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("cannot listen on {}", a.listen))?;
        println!(
            "taskman serving on http://{} ({} database {})",
            listener.local_addr()?,
            store.backend(),
            a.db.location().redacted()
        );
        taskman_api::serve(listener, store, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("server error")
    })
}
