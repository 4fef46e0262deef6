//! Storage at scale: import a generated 100,000-task plan, re-sync it with 1% of its
//! tasks changed, and ask a 100,000-task project for its progress and ready work, on
//! SQLite and (when `TASKMAN_TEST_POSTGRES_URL` is set) PostgreSQL.
//!
//! Each figure is the median of several runs, each on a fresh database where the run
//! changes data. Durable mode (the default) throughout.
//!
//! Run: `cargo bench -p taskman-store --bench storage` (add `-- --tasks 20000` for a
//! quicker look).

#[path = "../../markdown/benches/plan_gen/mod.rs"]
#[allow(dead_code)]
mod plan_gen;

use std::time::{Duration, Instant};

use taskman_store::{Location, Options, Store};

const RUNS: usize = 3;
const QUERY_RUNS: usize = 21;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; only our own flag matters.
    let n: usize = args
        .iter()
        .position(|a| a == "--tasks")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let text = plan_gen::plan_text(n);
    let edited = tick_one_percent(&text);
    let t = Instant::now();
    let plan = taskman_markdown::parse(text.as_bytes()).plan;
    let parse = t.elapsed();
    println!(
        "plan: {} tasks, {:.2} MB; parse alone {:.0} ms; cores: {}",
        plan.tasks.len(),
        text.len() as f64 / 1e6,
        ms(parse),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let mut k = 0;
    let sqlite = || {
        k += 1;
        Location::Sqlite(dir.path().join(format!("bench{k}.db")))
    };
    rt.block_on(run("sqlite", sqlite, &text, &edited));

    match std::env::var("TASKMAN_TEST_POSTGRES_URL") {
        Ok(url) => {
            let mut i = 0;
            let admin = url.clone();
            let pg = move || {
                i += 1;
                let name = format!("taskman_bench_{}_{i}", std::process::id());
                rt_sql(&admin, &format!("DROP DATABASE IF EXISTS {name}"));
                rt_sql(&admin, &format!("CREATE DATABASE {name}"));
                Location::Postgres(with_database(&admin, &name))
            };
            rt.block_on(run("postgres", pg, &text, &edited));
            for j in 1..=i_max() {
                rt_sql(
                    &url,
                    &format!(
                        "DROP DATABASE IF EXISTS taskman_bench_{}_{j} WITH (FORCE)",
                        std::process::id()
                    ),
                );
            }
        }
        Err(_) => println!("postgres: skipped (TASKMAN_TEST_POSTGRES_URL not set)"),
    }
}

/// Databases the PostgreSQL run creates (import runs + one for sync and queries).
fn i_max() -> usize {
    RUNS + 1
}

async fn run(backend: &str, mut fresh: impl FnMut() -> Location, text: &str, edited: &str) {
    // Import into a fresh database, several times.
    let mut imports = Vec::new();
    for _ in 0..RUNS {
        let store = Store::open(&fresh(), Options::default())
            .await
            .expect("open");
        let p = store
            .create_project("bench", "p", "")
            .await
            .expect("project");
        let t = Instant::now();
        let r = store
            .import_plan("bench", p.id, "plan.md", text.as_bytes().to_vec())
            .await
            .expect("import");
        imports.push(t.elapsed());
        assert_eq!(r.added.len(), r.tasks);
    }
    println!(
        "{backend}: import (parse + store): {}",
        summary(&mut imports)
    );

    // Re-sync with 1% of tasks ticked, alternating between the two texts.
    let store = Store::open(&fresh(), Options::default())
        .await
        .expect("open");
    let p = store
        .create_project("bench", "p", "")
        .await
        .expect("project");
    store
        .import_plan("bench", p.id, "plan.md", text.as_bytes().to_vec())
        .await
        .expect("import");
    let mut syncs = Vec::new();
    let mut changed = 0;
    for i in 0..RUNS {
        let body = if i % 2 == 0 { edited } else { text };
        let t = Instant::now();
        let r = store
            .import_plan("bench", p.id, "plan.md", body.as_bytes().to_vec())
            .await
            .expect("sync");
        syncs.push(t.elapsed());
        changed = r.status_changed.len();
    }
    println!(
        "{backend}: re-sync, {changed} boxes ticked or unticked (quick sync): {}",
        summary(&mut syncs)
    );
    // The same edit through the full sync (parse, match, three-way merge, store), as any
    // other edit would take.
    let mut full = Vec::new();
    for i in 0..RUNS {
        let body = if i % 2 == 0 { text } else { edited };
        let t = Instant::now();
        let plan = taskman_markdown::parse(body.as_bytes()).plan;
        store
            .import_parsed("bench", p.id, "plan.md", body.as_bytes().to_vec(), plan)
            .await
            .expect("full sync");
        full.push(t.elapsed());
    }
    println!(
        "{backend}: re-sync, same edit through the full sync (parse + match + merge + store): {}",
        summary(&mut full)
    );

    let mut progress = Vec::new();
    let mut ready = Vec::new();
    let mut both = Vec::new();
    for _ in 0..QUERY_RUNS {
        let t = Instant::now();
        let pr = store.progress(p.id).await.expect("progress");
        progress.push(t.elapsed());
        let t2 = Instant::now();
        let r = store.ready(p.id, 50).await.expect("ready");
        ready.push(t2.elapsed());
        both.push(t.elapsed());
        assert!(pr.total > 0 && !r.is_empty());
    }
    println!("{backend}: progress: {}", summary(&mut progress));

    println!("{backend}: ready (first 50): {}", summary(&mut ready));
    println!("{backend}: progress + ready: {}", summary(&mut both));
    writes(backend, store, p.id).await;
}

/// Small durable writes from 64 concurrent callers (status changes of distinct tasks):
/// what group commit buys over one fsync per change.
async fn writes(backend: &str, store: Store, project: i64) {
    const WRITERS: usize = 64;
    const EACH: usize = 50;
    let store = std::sync::Arc::new(store);
    let ids: Vec<i64> = store
        .list_tasks(
            &taskman_store::TaskFilter {
                project_id: Some(project),
                ..Default::default()
            },
            taskman_store::PageRequest {
                after: None,
                limit: (WRITERS * EACH) as u32,
            },
        )
        .await
        .expect("tasks")
        .items
        .iter()
        .map(|t| t.id)
        .collect();
    let t = Instant::now();
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        let mine: Vec<i64> = ids.iter().copied().skip(w).step_by(WRITERS).collect();
        handles.push(tokio::spawn(async move {
            for id in mine {
                store
                    .update_task(
                        "bench",
                        id,
                        None,
                        taskman_store::TaskPatch::status(taskman_core::Status::InProgress),
                    )
                    .await
                    .expect("update");
            }
        }));
    }
    for h in handles {
        h.await.expect("writer");
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{backend}: {} durable status updates from {WRITERS} concurrent writers: {:.0} writes/s",
        ids.len(),
        ids.len() as f64 / secs
    );
}

/// Tick the box of every hundredth open task.
fn tick_one_percent(text: &str) -> String {
    let mut open = 0;
    text.split_inclusive('\n')
        .map(|line| {
            if line.trim_start().starts_with("- [ ] ") {
                open += 1;
                if open % 100 == 0 {
                    return line.replacen("- [ ] ", "- [x] ", 1);
                }
            }
            line.to_string()
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(xs: &mut [Duration]) -> String {
    xs.sort();
    format!(
        "median {:.1} ms (min {:.1}, max {:.1}, {} runs)",
        ms(xs[xs.len() / 2]),
        ms(xs[0]),
        ms(xs[xs.len() - 1]),
        xs.len()
    )
}

fn with_database(url: &str, name: &str) -> String {
    match url.rfind('/') {
        Some(i) if i > url.find("://").map_or(0, |j| j + 2) => format!("{}/{name}", &url[..i]),
        _ => format!("{url}/{name}"),
    }
}

fn rt_sql(url: &str, sql: &str) {
    let out = std::process::Command::new("psql")
        .args([url, "-q", "-c", sql])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
