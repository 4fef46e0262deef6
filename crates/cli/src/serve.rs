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
    /// Also load the five seed plans as demo projects (skipped for a project that exists).
    #[arg(long)]
    demo: bool,
    #[command(flatten)]
    db: DbArgs,
}

/// The seed plans shipped in the binary for `--demo`: (file name, text).
const DEMO: &[(&str, &[u8])] = &[
    (
        "000_5a8b8b0b125d8697.md",
        include_bytes!("../../../tests/fixtures/seeds/000_5a8b8b0b125d8697.txt"),
    ),
    (
        "001_736f0abe7c776d48.md",
        include_bytes!("../../../tests/fixtures/seeds/001_736f0abe7c776d48.txt"),
    ),
    (
        "002_615674f418e0ad97.md",
        include_bytes!("../../../tests/fixtures/seeds/002_615674f418e0ad97.txt"),
    ),
    (
        "003_ee6f4187d9d9ae4f.md",
        include_bytes!("../../../tests/fixtures/seeds/003_ee6f4187d9d9ae4f.txt"),
    ),
    (
        "004_19de9cb1061cedc3.md",
        include_bytes!("../../../tests/fixtures/seeds/004_19de9cb1061cedc3.txt"),
    ),
];

/// Import each demo plan into a project named after its title, unless that project exists.
async fn load_demo(store: &taskman_store::Store) -> Result<()> {
    for (name, text) in DEMO {
        let plan = taskman_markdown::parse(text).plan;
        let title = plan.title.clone().unwrap_or_else(|| name.to_string());
        match store.project_by_name(&title).await {
            Ok(_) => continue,
            Err(taskman_store::StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e).context("demo projects"),
        }
        let p = store
            .create_project("demo", &title, "demo plan shipped with taskman")
            .await
            .context("demo project")?;
        let r = store
            .import_parsed("demo", p.id, name, text.to_vec(), plan)
            .await
            .context("demo plan")?;
        println!("demo project {} \"{title}\": {} tasks", p.id, r.tasks);
    }
    Ok(())
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
        if a.demo {
            load_demo(&store).await?;
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
