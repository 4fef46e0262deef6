//! `taskman serve`: the HTTP API on the embedded SQLite default or on PostgreSQL, with the
//! settings [`crate::config`] loads, until SIGTERM or SIGINT.
//!
//! The order matters: settings are checked before anything starts (a bad one exits 2 with
//! nothing listening), logging starts before anything is printed, the signal handlers are
//! installed before the address is announced (so a supervisor's SIGTERM right after it is
//! never the default "die at once"), and the store is closed after the last request.

use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result};
use taskman_store::{Options, Store};

use crate::config::{self, SettingFlags};

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    settings: SettingFlags,
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
    let config = config::load(&a.settings)?;
    // Held to the end: dropping it writes out the log lines still queued.
    let _log = taskman_api::logging::init(&config.settings.log)
        .map_err(anyhow::Error::msg)
        .context("cannot start logging")?;
    if let Some(file) = &config.file {
        println!("settings from {}", file.display());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let stopped_by = rt.block_on(run(config))?;
    // Whatever still holds the store (a task outliving the grace period, a background
    // task) is dropped with the runtime, so after this the database is closed.
    drop(rt);
    println!("taskman stopped ({stopped_by}); database closed");
    Ok(())
}

/// Serve until a signal; the signal's name.
async fn run(config: config::Config) -> Result<&'static str> {
    let location = config.location();
    let options = Options {
        durability: config.durability,
        ..Options::default()
    };
    let store = Arc::new(Store::open(&location, options).await.with_context(|| {
        format!(
            "{}: cannot open the database",
            config.database_for_display()
        )
    })?);
    let token = config.bootstrap_token.as_ref().map(|t| t.expose());
    if let Some(key) = taskman_api::bootstrap(&store, token)
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
    if config.demo {
        load_demo(&store).await?;
    }
    let stop = Stop::install().context("cannot install the signal handlers")?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    println!(
        "taskman serving on http://{} ({} database {})",
        listener.local_addr()?,
        store.backend(),
        config.database_for_display()
    );
    let grace = config.settings.http.shutdown_grace_secs;
    let signal = Arc::new(OnceLock::new());
    let received = signal.clone();
    let shutdown = async move {
        let name = stop.wait().await;
        let _ = received.set(name);
        println!(
            "taskman: {name} received: no new connections, finishing requests in flight (up to {grace} s)"
        );
    };
    let served = taskman_api::serve_with(listener, store.clone(), config.settings, shutdown).await;
    close(store).await;
    served.context("server error")?;
    Ok(signal.get().copied().unwrap_or("the server ended"))
}

/// Close the store: SQLite's writer finishes the changes already queued, then checkpoints;
/// PostgreSQL's pool is dropped. `Store` has no close method, so closing is dropping the
/// last reference, on a blocking thread since the SQLite threads are joined. When others
/// still hold it, the last of them closes it as the runtime drops them.
async fn close(store: Arc<Store>) {
    if let Ok(store) = Arc::try_unwrap(store) {
        let _ = tokio::task::spawn_blocking(move || drop(store)).await;
    }
}

/// The signals that stop the server, installed before it announces itself.
struct Stop {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Stop {
    fn install() -> std::io::Result<Stop> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Stop {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Stop {})
    }

    /// The name of the first signal received.
    async fn wait(self) -> &'static str {
        #[cfg(unix)]
        {
            let Stop { mut term, mut int } = self;
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
