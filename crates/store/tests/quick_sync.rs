//! The quick sync (ticked boxes only) must leave the database exactly as the full sync
//! does: same report, same rows, same events. Each case runs the same edits on two fresh
//! databases, one through the quick path and one through the full path, and compares.

use taskman_core::{Status, TaskKind};
use taskman_store::{
    Clock, EventFilter, Location, Options, PageRequest, Store, TaskFilter, TaskPatch,
};
use taskman_testkit::PgDatabase;

const SEEDS: &[&str] = &[
    "000_5a8b8b0b125d8697.txt",
    "001_736f0abe7c776d48.txt",
    "002_615674f418e0ad97.txt",
    "003_ee6f4187d9d9ae4f.txt",
    "004_19de9cb1061cedc3.txt",
];

fn seed(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/fixtures/seeds/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Lines of every `step`-th plain checkbox task, starting at `from`.
fn toggled_lines(bytes: &[u8], from: usize, step: usize) -> Vec<u32> {
    let plan = taskman_markdown::parse(bytes).plan;
    plan.tasks
        .iter()
        .filter(|t| t.kind == TaskKind::Item && matches!(t.marker.as_str(), " " | "x" | "X"))
        .map(|t| t.line)
        .skip(from)
        .step_by(step)
        .collect()
}

/// Toggle the box of every `step`-th plain checkbox task, starting at `from`.
fn toggle(bytes: &[u8], from: usize, step: usize) -> (Vec<u8>, usize) {
    let lines = toggled_lines(bytes, from, step);
    let mut out = Vec::with_capacity(bytes.len());
    let mut n = 0;
    for (i, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let mut line = line.to_vec();
        if lines.contains(&(i as u32 + 1))
            && let Some(p) = line
                .windows(3)
                .position(|w| w[0] == b'[' && w[2] == b']' && matches!(w[1], b' ' | b'x' | b'X'))
        {
            line[p + 1] = if line[p + 1] == b' ' { b'x' } else { b' ' };
            n += 1;
        }
        out.extend(line);
    }
    (out, n)
}

async fn open(dir: &std::path::Path, name: &str) -> Store {
    Store::open(
        &Location::Sqlite(dir.join(name)),
        Options {
            clock: Clock::fixed("2026-11-22T10:00:00.000Z"),
            ..Options::default()
        },
    )
    .await
    .unwrap()
}

/// Everything a user can see: tasks (with versions), plan versions, events.
async fn state(store: &Store, project: i64, plan: i64) -> serde_json::Value {
    let mut tasks = Vec::new();
    let mut page = PageRequest {
        after: None,
        limit: 1000,
    };
    loop {
        let p = store
            .list_tasks(
                &TaskFilter {
                    project_id: Some(project),
                    ..TaskFilter::default()
                },
                page,
            )
            .await
            .unwrap();
        tasks.extend(p.items);
        match p.next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    let events = store
        .events(
            &EventFilter::default(),
            PageRequest {
                after: None,
                limit: 1000,
            },
        )
        .await
        .unwrap();
    let loaded = store.load_plan(plan).await.unwrap();
    serde_json::json!({
        "tasks": tasks,
        "versions": store.plan_versions(plan).await.unwrap(),
        "events": events.items,
        "plan": loaded,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticking_boxes_quickly_gives_what_the_full_sync_gives() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = 0;
    same_as_full_sync(|| {
        k += 1;
        let path = dir.path().to_path_buf();
        async move {
            (
                open(&path, &format!("q{k}.db")).await,
                open(&path, &format!("f{k}.db")).await,
            )
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_ticking_boxes_quickly_gives_what_the_full_sync_gives() {
    // Two databases per seed, dropped when the test ends (also when it fails). The first
    // `None` (no server configured, after a notice) skips the test.
    let Some(databases) = (0..2 * SEEDS.len())
        .map(|_| PgDatabase::create("quick_sync"))
        .collect::<Option<Vec<_>>>()
    else {
        return;
    };
    let mut urls = databases.iter().map(|db| db.url().to_string());
    same_as_full_sync(|| {
        let (qu, fu) = (urls.next().unwrap(), urls.next().unwrap());
        async move {
            let opts = || Options {
                clock: Clock::fixed("2026-11-22T10:00:00.000Z"),
                ..Options::default()
            };
            (
                Store::open(&Location::Postgres(qu), opts()).await.unwrap(),
                Store::open(&Location::Postgres(fu), opts()).await.unwrap(),
            )
        }
    })
    .await;
}

/// For every seed, the same edits through the quick path on one store and the full path
/// on the other give the same report and the same stored state.
async fn same_as_full_sync<F, Fut>(mut stores: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (Store, Store)>,
{
    let mut accepted = 0;
    for name in SEEDS {
        let v1 = seed(name);
        let (v2, n2) = toggle(&v1, 0, 3);
        let (v3, n3) = toggle(&v2, 1, 4);
        assert!(n2 > 0 && n3 > 0, "{name}: the edits tick boxes");
        let (quick, full) = stores().await;
        let mut plan_id = 0;
        let mut project = 0;
        for store in [&quick, &full] {
            let p = store.create_project("t", "p", "").await.unwrap();
            project = p.id;
            plan_id = store
                .import_plan("t", p.id, name, v1.clone())
                .await
                .unwrap()
                .plan_id;
        }
        // A change in the database, on a task the edits do not touch, to be written back.
        let plan = taskman_markdown::parse(&v1).plan;
        let touched: Vec<u32> = [toggled_lines(&v1, 0, 3), toggled_lines(&v2, 1, 4)].concat();
        let untouched = plan
            .tasks
            .iter()
            .position(|t| t.status == Status::Todo && !touched.contains(&t.line))
            .unwrap();
        for store in [&quick, &full] {
            let page = store
                .list_tasks(
                    &TaskFilter {
                        project_id: Some(project),
                        ..TaskFilter::default()
                    },
                    PageRequest {
                        after: None,
                        limit: 1000,
                    },
                )
                .await
                .unwrap();
            let t = page
                .items
                .iter()
                .find(|t| t.key == plan.tasks[untouched].id)
                .unwrap();
            store
                .update_task(
                    "ana",
                    t.id,
                    Some(t.version),
                    TaskPatch::status(Status::Blocked),
                )
                .await
                .unwrap();
        }
        for (k, text) in [&v2, &v3, &v3, &v1].into_iter().enumerate() {
            let rq = match quick
                .quick_sync("t", project, name, text.clone())
                .await
                .unwrap()
            {
                Some(r) => {
                    accepted += 1;
                    r
                }
                None => {
                    // Declined (a claim on the line, a conflict...): the full path decides.
                    eprintln!("{name} edit {k}: quick path declined");
                    quick
                        .import_parsed(
                            "t",
                            project,
                            name,
                            text.clone(),
                            taskman_markdown::parse(text).plan,
                        )
                        .await
                        .unwrap()
                }
            };
            let rf = full
                .import_parsed(
                    "t",
                    project,
                    name,
                    text.clone(),
                    taskman_markdown::parse(text).plan,
                )
                .await
                .unwrap();
            assert_eq!(
                serde_json::json!(rq),
                serde_json::json!(rf),
                "{name} edit {k}: reports differ"
            );
            assert_eq!(
                state(&quick, project, plan_id).await,
                state(&full, project, plan_id).await,
                "{name} edit {k}: stored state differs"
            );
        }
    }
    // 5 seeds x 4 edits; plans whose checkbox lines also carry claims decline.
    assert!(
        accepted >= 12,
        "the quick path took only {accepted} of 20 edits"
    );
}

#[tokio::test]
async fn anything_but_ticked_boxes_takes_the_full_sync() {
    let v1 = seed(SEEDS[0]);
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), "x.db").await;
    let p = store.create_project("t", "p", "").await.unwrap();
    store
        .import_plan("t", p.id, "plan", v1.clone())
        .await
        .unwrap();
    let s = &store;
    let reworded = String::from_utf8_lossy(&v1).replacen("Step 7", "Step 7b", 1);
    assert!(
        s.quick_sync("t", p.id, "plan", reworded.into_bytes())
            .await
            .unwrap()
            .is_none()
    );
    // Unknown plan: the full sync imports it.
    assert!(
        s.quick_sync("t", p.id, "other", v1.clone())
            .await
            .unwrap()
            .is_none()
    );
}
