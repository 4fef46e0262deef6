//! Storage conformance: one suite, run against every backend.
//!
//! Each check is an `async fn check_xxx(store: &Store)` (or `(db: &TestDb)` when it must
//! reopen the database or reach it behind the store's back). The `conformance!` macro at the
//! bottom runs every check twice: `sqlite::check_xxx` on a fresh temporary file and
//! `postgres::check_xxx` on a fresh database created on the server named by
//! `TASKMAN_TEST_POSTGRES_URL` (dropped afterwards, `WITH (FORCE)`). Without that variable
//! the PostgreSQL runs print a notice and pass, unless `TASKMAN_REQUIRE_POSTGRES=1`, in
//! which case they fail (CI must not skip them silently).
//!
//! Expected values come from reading the inputs (the seed plans under
//! `tests/fixtures/seeds/`, the values each check writes), or from the plan engine
//! (`taskman_markdown::parse` + `taskman_core::Analysis`, what `taskman next/blocked/status`
//! print for a bare file) when a check compares the store with the file commands.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection as _};
use taskman_core::{Analysis, Plan, Priority, Status};
use taskman_store::sync::{Conflict, Renamed, StatusChange, SyncReport};
use taskman_store::{
    ActionItemPatch, Clock, Event, EventFilter, IdempotencyBegin, Location, NewSprint, NewTask,
    Options, PageRequest, Project, ProjectPatch, Role, SprintPatch, Store, StoreError,
    StoredResponse, TaskChange, TaskFilter, TaskPatch, TaskRecord, migrate,
};
use taskman_testkit::PgDatabase;

// ---------------------------------------------------------------------------------------
// Inputs

const SEED_000: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/seeds/000_5a8b8b0b125d8697.txt"
));
const SEED_001: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/seeds/001_736f0abe7c776d48.txt"
));
const SEED_002: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/seeds/002_615674f418e0ad97.txt"
));
const SEED_003: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/seeds/003_ee6f4187d9d9ae4f.txt"
));
const SEED_004: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/seeds/004_19de9cb1061cedc3.txt"
));

const SEEDS: [(&str, &[u8]); 5] = [
    ("000", SEED_000),
    ("001", SEED_001),
    ("002", SEED_002),
    ("003", SEED_003),
    ("004", SEED_004),
];

/// The fixed clock of every store a check gets.
const FIXED: &str = "2026-11-22T10:00:00.000Z";

/// Section of seed 000 holding Steps 6-10 (heading at line 24, emphasis and the trailing
/// status emoji are not part of the title).
const WEEK_2: &str = "MONTH 1: Foundation - Week 2: Testing Infrastructure (Steps 6-10)";

/// Tasks of seed 000 ready to start, in the order `taskman next` gives: Step 7 (the one in
/// progress) first, then open tasks without open dependencies in document order (no task
/// of the seed has a priority). Steps 0.1-6 are done; Step 8 waits on Step 7 and Step 10 on
/// Step 8; Step 9 says "Dependencies: None".
fn seed_000_ready() -> Vec<String> {
    let mut v = vec!["Step 7".to_string(), "Step 9".to_string()];
    v.extend((11..=100).map(|n| format!("Step {n}")));
    v
}

fn options_at(at: &str) -> Options {
    Options {
        clock: Clock::fixed(at),
        ..Options::default()
    }
}

/// `src` with the one occurrence of `from` replaced by `to`.
fn replace_once(src: &[u8], from: &str, to: &str) -> Vec<u8> {
    let f = from.as_bytes();
    let hits: Vec<usize> = src
        .windows(f.len())
        .enumerate()
        .filter(|(_, w)| *w == f)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "{from:?} must occur exactly once in the text"
    );
    let i = hits[0];
    [&src[..i], to.as_bytes(), &src[i + f.len()..]].concat()
}

/// `src` without the whole line containing `needle` (which must occur once).
fn delete_line(src: &[u8], needle: &str) -> Vec<u8> {
    let f = needle.as_bytes();
    let hits: Vec<usize> = src
        .windows(f.len())
        .enumerate()
        .filter(|(_, w)| *w == f)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "{needle:?} must occur exactly once in the text"
    );
    let start = src[..hits[0]]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let end = src[hits[0]..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(src.len(), |p| hits[0] + p + 1);
    [&src[..start], &src[end..]].concat()
}

fn find(src: &[u8], needle: &str) -> usize {
    src.windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap_or_else(|| panic!("{needle:?} not in the text"))
}

// ---------------------------------------------------------------------------------------
// Test databases

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database for one check: a temporary SQLite file, or a PostgreSQL database
/// created for the check and dropped when this value goes away (also after a panic).
struct TestDb {
    backend: Backend,
    location: Location,
    /// Scratch space: the SQLite file, backups.
    scratch: tempfile::TempDir,
    /// PostgreSQL: the database, dropped with this value.
    _pg: Option<PgDatabase>,
}

impl TestDb {
    fn sqlite() -> TestDb {
        let scratch = tempfile::tempdir().expect("temp dir");
        TestDb {
            backend: Backend::Sqlite,
            location: Location::Sqlite(scratch.path().join("t.db")),
            scratch,
            _pg: None,
        }
    }

    /// `None` (after a notice) when no server is configured.
    fn postgres() -> Option<TestDb> {
        let pg = PgDatabase::create("conformance")?;
        Some(TestDb {
            backend: Backend::Postgres,
            location: Location::Postgres(pg.url().to_string()),
            scratch: tempfile::tempdir().expect("temp dir"),
            _pg: Some(pg),
        })
    }

    async fn open(&self) -> Store {
        self.open_at(FIXED).await
    }

    /// Open a store on this database whose clock always says `at`.
    async fn open_at(&self, at: &str) -> Store {
        Store::open(&self.location, options_at(at))
            .await
            .unwrap_or_else(|e| panic!("opening {}: {e}", self.location.redacted()))
    }

    async fn try_open(&self) -> Result<Store, StoreError> {
        Store::open(&self.location, options_at(FIXED)).await
    }

    fn scratch_path(&self, name: &str) -> PathBuf {
        self.scratch.path().join(name)
    }

    /// Run one statement behind the store's back; the rows it changed, or the error.
    async fn raw_execute(&self, sql: &str) -> Result<u64, String> {
        match &self.location {
            Location::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
                c.busy_timeout(Duration::from_secs(5))
                    .map_err(|e| e.to_string())?;
                c.execute(sql, ())
                    .map(|n| n as u64)
                    .map_err(|e| e.to_string())
            }
            Location::Postgres(url) => {
                let mut c = sqlx::PgConnection::connect(url)
                    .await
                    .map_err(|e| e.to_string())?;
                let r = sqlx::query(AssertSqlSafe(sql.to_string()))
                    .execute(&mut c)
                    .await
                    .map(|r| r.rows_affected())
                    .map_err(|e| e.to_string());
                let _ = c.close().await;
                r
            }
        }
    }
}

impl TestDb {
    /// Run several statements behind the store's back (no store open).
    async fn raw_batch(&self, sql: &str) {
        match &self.location {
            Location::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).expect("opening the SQLite file");
                c.execute_batch(sql).expect("raw SQL batch");
            }
            Location::Postgres(url) => {
                let mut c = sqlx::PgConnection::connect(url)
                    .await
                    .expect("connecting to the test database");
                sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                    .execute(&mut c)
                    .await
                    .expect("raw SQL batch");
                let _ = c.close().await;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Helpers over the store

fn in_plan(plan_id: i64) -> TaskFilter {
    TaskFilter {
        plan_id: Some(plan_id),
        ..TaskFilter::default()
    }
}

fn in_project(project_id: i64) -> TaskFilter {
    TaskFilter {
        project_id: Some(project_id),
        ..TaskFilter::default()
    }
}

/// Every task matching `filter`, following the pages.
async fn all_tasks(store: &Store, filter: &TaskFilter) -> Vec<TaskRecord> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_tasks(filter, PageRequest { after, limit: 1000 })
            .await
            .expect("list_tasks");
        out.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => return out,
        }
    }
}

/// Every event matching `filter`, following the pages.
async fn all_events(store: &Store, filter: &EventFilter) -> Vec<Event> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .events(filter, PageRequest { after, limit: 1000 })
            .await
            .expect("events");
        out.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => return out,
        }
    }
}

fn project_events(project_id: i64) -> EventFilter {
    EventFilter {
        project_id: Some(project_id),
        ..EventFilter::default()
    }
}

fn task_events(task_id: i64) -> EventFilter {
    EventFilter {
        task_id: Some(task_id),
        ..EventFilter::default()
    }
}

fn actions(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.action.as_str()).collect()
}

fn keys(tasks: &[TaskRecord]) -> Vec<&str> {
    tasks.iter().map(|t| t.key.as_str()).collect()
}

fn ids(tasks: &[TaskRecord]) -> Vec<i64> {
    tasks.iter().map(|t| t.id).collect()
}

async fn task_by_key(store: &Store, plan_id: i64, key: &str) -> TaskRecord {
    all_tasks(store, &in_plan(plan_id))
        .await
        .into_iter()
        .find(|t| t.key == key)
        .unwrap_or_else(|| panic!("no task {key:?} in plan {plan_id}"))
}

/// Key -> database id of every task of a plan.
async fn key_ids(store: &Store, plan_id: i64) -> HashMap<String, i64> {
    all_tasks(store, &in_plan(plan_id))
        .await
        .into_iter()
        .map(|t| (t.key, t.id))
        .collect()
}

/// A project named `name` with `seed` imported as plan `plan.md` by `cli`.
async fn project_with_seed(store: &Store, name: &str, seed: &[u8]) -> (Project, SyncReport) {
    let p = store
        .create_project("cli", name, "")
        .await
        .expect("create_project");
    let r = store
        .import_plan("cli", p.id, "plan.md", seed.to_vec())
        .await
        .expect("import_plan");
    (p, r)
}

async fn new_task(store: &Store, actor: &str, project_id: i64, title: &str) -> TaskRecord {
    store
        .create_task(
            actor,
            project_id,
            NewTask {
                title: title.into(),
                ..NewTask::default()
            },
        )
        .await
        .expect("create_task")
}

fn assert_report_quiet(r: &SyncReport) {
    assert!(r.added.is_empty(), "added: {:?}", r.added);
    assert!(r.removed.is_empty(), "removed: {:?}", r.removed);
    assert!(r.renamed.is_empty(), "renamed: {:?}", r.renamed);
    assert!(
        r.moved.is_empty(),
        "moved: {} tasks, first {:?}",
        r.moved.len(),
        r.moved.first()
    );
    assert!(
        r.status_changed.is_empty(),
        "status_changed: {:?}",
        r.status_changed
    );
    assert!(r.conflicts.is_empty(), "conflicts: {:?}", r.conflicts);
    assert!(r.kept.is_empty(), "kept: {:?}", r.kept);
}

/// The first place two JSON values differ, as a path.
fn json_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => {
                        if let Some(d) = json_diff(u, v, &p) {
                            return Some(d);
                        }
                    }
                    (u, v) => return Some(format!("{p}: {u:?} vs {v:?}")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                if let Some(d) = json_diff(u, v, &format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            (x.len() != y.len()).then(|| format!("{path}: length {} vs {}", x.len(), y.len()))
        }
        _ => (a != b).then(|| format!("{path}: {a} vs {b}")),
    }
}

/// `load_plan` gives back exactly `want` (the plan engine's reading of a text).
async fn assert_loads_as(store: &Store, plan_id: i64, want: &Plan, what: &str) {
    let got = store.load_plan(plan_id).await.expect("load_plan");
    let (g, w) = (json!(got), json!(want));
    if let Some(d) = json_diff(&g, &w, "plan") {
        panic!("{what}: load_plan (left) differs from the parsed text (right) at {d}");
    }
}

/// What the plan engine (the file commands `status`, `next`, `blocked`) says about a text.
struct EngineView {
    plan: Plan,
    total: i64,
    done: i64,
    in_progress: i64,
    cancelled: i64,
    percent: f64,
    ready: Vec<String>,
    blocked: Vec<(String, Vec<String>)>,
}

fn engine(bytes: &[u8]) -> EngineView {
    let plan = taskman_markdown::parse(bytes).plan;
    let a = Analysis::new(&plan);
    let p = a.progress();
    let key = |i: usize| plan.tasks[i].id.clone();
    let ready = a.ready().into_iter().map(key).collect();
    let blocked = a
        .blocked()
        .into_iter()
        .map(|b| {
            let mut by: Vec<String> = b.blocked_by.into_iter().map(key).collect();
            by.sort();
            (key(b.task), by)
        })
        .collect();
    EngineView {
        total: p.total as i64,
        done: p.done as i64,
        in_progress: p.in_progress as i64,
        cancelled: p.cancelled as i64,
        percent: p.percent,
        ready,
        blocked,
        plan,
    }
}

/// `blocked()` of a project as (key, sorted keys it waits on).
async fn blocked_keys(store: &Store, project_id: i64) -> Vec<(String, Vec<String>)> {
    let key_of: HashMap<i64, String> = all_tasks(store, &in_project(project_id))
        .await
        .into_iter()
        .map(|t| (t.id, t.key))
        .collect();
    store
        .blocked(project_id)
        .await
        .expect("blocked")
        .into_iter()
        .map(|b| {
            let mut by: Vec<String> = b
                .blocked_by
                .iter()
                .map(|i| key_of.get(i).cloned().unwrap_or_else(|| format!("#id{i}")))
                .collect();
            by.sort();
            (b.task.key, by)
        })
        .collect()
}

async fn ready_keys(store: &Store, project_id: i64) -> Vec<String> {
    store
        .ready(project_id, 10_000)
        .await
        .expect("ready")
        .into_iter()
        .map(|t| t.key)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Migrations

fn known_migrations(backend: &str) -> &'static [migrate::Migration] {
    match backend {
        "sqlite" => migrate::SQLITE,
        "postgres" => migrate::POSTGRES,
        b => panic!("unknown backend {b}"),
    }
}

/// A fresh database records every migration (1 initial, 2 idempotency) with the checksum
/// of its text, applied now.
async fn check_migrations_listed(store: &Store) {
    let applied = store.migrations().await.expect("migrations");
    let names: Vec<(i64, &str)> = applied
        .iter()
        .map(|m| (m.version, m.name.as_str()))
        .collect();
    let expected: &[(i64, &str)] = match store.backend() {
        "sqlite" => &[(1, "initial"), (2, "idempotency"), (3, "fts_deferred")],
        _ => &[(1, "initial"), (2, "idempotency")],
    };
    assert_eq!(names, expected, "{applied:?}");
    for (m, known) in applied.iter().zip(known_migrations(store.backend())) {
        assert_eq!(m.checksum, known.checksum());
        assert_eq!(m.checksum.len(), 16);
        assert!(m.checksum.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(m.applied_at, FIXED);
    }
    assert_ne!(applied[0].checksum, applied[1].checksum);
    store.ping().await.expect("ping");
    // A fresh database is empty.
    assert!(store.list_projects().await.unwrap().is_empty());
    assert!(store.list_users().await.unwrap().is_empty());
    let ev = store
        .events(&EventFilter::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!((ev.items.len(), ev.total, ev.next), (0, 0, None));
}

/// Reopening a migrated database full of data applies nothing (the record of migration 1
/// keeps its first `applied_at`) and finds every row. On PostgreSQL a second store also
/// opens while the first is still open.
async fn check_migrations_reopen(db: &TestDb) {
    let (t1, t2, t3) = (
        "2026-11-22T10:00:00.000Z",
        "2026-11-22T11:00:00.000Z",
        "2026-11-22T12:00:00.000Z",
    );
    let first = db.open_at(t1).await;
    let applied = first.migrations().await.unwrap();
    assert_eq!(applied.len(), known_migrations(first.backend()).len());
    assert!(applied.iter().all(|m| m.applied_at == t1));

    let (p, _) = project_with_seed(&first, "kept", SEED_000).await;
    let plan_id = first.list_plans(p.id).await.unwrap()[0].id;
    let s9 = task_by_key(&first, plan_id, "Step 9").await;
    first
        .update_task(
            "alice",
            s9.id,
            Some(s9.version),
            TaskPatch::status(Status::Done),
        )
        .await
        .unwrap();
    let projects = first.list_projects().await.unwrap();
    let tasks = all_tasks(&first, &in_project(p.id)).await;
    let progress = first.progress(p.id).await.unwrap();
    assert_eq!((progress.total, progress.done), (105, 12));

    if db.backend == Backend::Postgres {
        let second = db.open_at(t2).await;
        assert_eq!(second.migrations().await.unwrap(), applied);
        assert_eq!(second.list_projects().await.unwrap(), projects);
        assert_eq!(all_tasks(&second, &in_project(p.id)).await, tasks);
        let q = second
            .create_project("bob", "seen by both", "")
            .await
            .unwrap();
        assert_eq!(first.get_project(q.id).await.unwrap(), q);
        first
            .delete_project("alice", q.id, Some(q.version))
            .await
            .unwrap();
        drop(second);
    }
    drop(first);

    let again = db.open_at(t3).await;
    assert_eq!(
        again.migrations().await.unwrap(),
        applied,
        "reopening must not apply or re-record a migration"
    );
    again.ping().await.unwrap();
    assert_eq!(again.list_projects().await.unwrap(), projects);
    assert_eq!(all_tasks(&again, &in_project(p.id)).await, tasks);
    assert_eq!(again.progress(p.id).await.unwrap(), progress);
    // Still writable, and the stored text is still the newest version.
    let r = again
        .import_plan("cli", p.id, "plan.md", SEED_000.to_vec())
        .await
        .unwrap();
    assert!(!r.new_version);
    let extra = again
        .create_project("cli", "after reopen", "")
        .await
        .unwrap();
    assert!(extra.id > p.id);
    drop(again);

    let third = db.open().await;
    assert_eq!(third.migrations().await.unwrap(), applied);
    assert_eq!(third.list_projects().await.unwrap().len(), 2);
}

/// A database that only migration 1 made (as an older taskman left it, data included) is
/// upgraded on open: migration 2 is applied and recorded, migration 1 keeps its record,
/// the data stays, and the new table works. Reopening applies nothing more.
async fn check_migrations_upgrade_from_1(db: &TestDb) {
    let backend = match db.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let first = &known_migrations(backend)[0];
    let old = "2026-01-05T08:00:00.000Z";
    let version_type = match db.backend {
        Backend::Sqlite => "INTEGER",
        Backend::Postgres => "BIGINT",
    };
    db.raw_batch(&format!(
        "CREATE TABLE schema_migrations (version {version_type} PRIMARY KEY, name TEXT NOT NULL,
            checksum TEXT NOT NULL, applied_at TEXT NOT NULL);
         {sql}
         INSERT INTO schema_migrations (version, name, checksum, applied_at)
            VALUES (1, 'initial', '{sum}', '{old}');
         INSERT INTO projects (name, description, created_at, updated_at)
            VALUES ('made by version 1', 'kept', '{old}', '{old}');",
        sql = first.sql,
        sum = first.checksum(),
    ))
    .await;

    let store = db.open().await;
    let applied = store.migrations().await.unwrap();
    let got: Vec<(i64, &str, &str, &str)> = applied
        .iter()
        .map(|m| {
            (
                m.version,
                m.name.as_str(),
                m.checksum.as_str(),
                m.applied_at.as_str(),
            )
        })
        .collect();
    let later: Vec<(i64, &str, &str, &str)> = known_migrations(backend)[1..]
        .iter()
        .map(|m| (m.version, m.name, "", FIXED))
        .collect();
    let sums: Vec<String> = known_migrations(backend)[1..]
        .iter()
        .map(|m| m.checksum())
        .collect();
    let mut expected = vec![(1, "initial", first.checksum(), old.to_string())];
    for ((v, n, _, at), sum) in later.into_iter().zip(sums) {
        expected.push((v, n, sum, at.to_string()));
    }
    let got: Vec<(i64, &str, String, String)> = got
        .into_iter()
        .map(|(v, n, c, a)| (v, n, c.to_string(), a.to_string()))
        .collect();
    assert_eq!(
        got, expected,
        "every later migration applied to a version 1 database"
    );
    let p = store.project_by_name("made by version 1").await.unwrap();
    assert_eq!((p.description.as_str(), p.version), ("kept", 1));
    assert_eq!(
        store
            .idempotency_begin(1, "after upgrade", "fp")
            .await
            .unwrap(),
        IdempotencyBegin::Started
    );
    assert_eq!(
        store
            .idempotency_begin(1, "after upgrade", "fp")
            .await
            .unwrap(),
        IdempotencyBegin::InFlight
    );
    drop(store);

    let again = db.open_at("2026-11-22T10:00:30.000Z").await;
    assert_eq!(again.migrations().await.unwrap(), applied);
    assert_eq!(
        again
            .idempotency_begin(1, "after upgrade", "fp")
            .await
            .unwrap(),
        IdempotencyBegin::InFlight,
        "the claim survived reopening"
    );
}

/// A migration whose text changed after it was applied, or one this binary does not know,
/// makes the database refuse to open rather than be guessed at.
async fn check_migrations_tampered(db: &TestDb) {
    let store = db.open().await;
    let p = store.create_project("cli", "tamper", "").await.unwrap();
    let sum = store.migrations().await.unwrap()[0].checksum.clone();
    drop(store);

    let n = db
        .raw_execute("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1")
        .await
        .expect("tampering with schema_migrations");
    assert_eq!(n, 1);
    match db.try_open().await {
        Err(StoreError::Migration(msg)) => assert!(msg.contains('1'), "{msg}"),
        Err(e) => panic!("tampered checksum: expected StoreError::Migration, got {e:?}"),
        Ok(_) => panic!("tampered checksum: the store opened"),
    }

    db.raw_execute(&format!(
        "UPDATE schema_migrations SET checksum = '{sum}' WHERE version = 1"
    ))
    .await
    .unwrap();
    let store = db.open().await;
    assert_eq!(store.get_project(p.id).await.unwrap().name, "tamper");
    drop(store);

    db.raw_execute(
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) \
         VALUES (99, 'from the future', '0000000000000000', '2030-01-01T00:00:00.000Z')",
    )
    .await
    .expect("recording an unknown migration");
    match db.try_open().await {
        Err(StoreError::Migration(_)) => {}
        Err(e) => panic!("unknown migration: expected StoreError::Migration, got {e:?}"),
        Ok(_) => panic!("unknown migration 99: the store opened"),
    }
}

/// `Durability::Fast` stores the same data, and it survives closing the store.
async fn check_durability_fast(db: &TestDb) {
    let options = Options {
        durability: taskman_store::Durability::Fast,
        ..options_at(FIXED)
    };
    let store = Store::open(&db.location, options.clone()).await.unwrap();
    let (p, r) = project_with_seed(&store, "fast", SEED_000).await;
    let tasks = all_tasks(&store, &in_project(p.id)).await;
    assert_eq!(tasks.len(), 105);
    drop(store);
    let store = Store::open(&db.location, options).await.unwrap();
    assert_eq!(all_tasks(&store, &in_project(p.id)).await, tasks);
    assert_eq!(store.plan_source(r.plan_id, None).await.unwrap(), SEED_000);
    drop(store);
    let durable = db.open().await;
    assert_eq!(all_tasks(&durable, &in_project(p.id)).await, tasks);
}

// ---------------------------------------------------------------------------------------
// Projects

async fn check_projects(store: &Store) {
    let a = store
        .create_project("alice", "alpha", "first project")
        .await
        .unwrap();
    assert!(a.id > 0);
    assert_eq!(
        (a.name.as_str(), a.description.as_str()),
        ("alpha", "first project")
    );
    assert_eq!(a.version, 1);
    assert_eq!(
        (a.created_at.as_str(), a.updated_at.as_str()),
        (FIXED, FIXED)
    );
    assert_eq!(store.get_project(a.id).await.unwrap(), a);
    assert_eq!(store.project_by_name("alpha").await.unwrap(), a);

    let b = store.create_project("alice", "beta", "").await.unwrap();
    assert!(b.id > a.id);
    assert_eq!(
        store.list_projects().await.unwrap(),
        vec![a.clone(), b.clone()]
    );

    // Update with the right version.
    let a2 = store
        .update_project(
            "bob",
            a.id,
            Some(1),
            ProjectPatch {
                description: Some("changed".into()),
                ..ProjectPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(a2.version, 2);
    assert_eq!(
        (a2.name.as_str(), a2.description.as_str()),
        ("alpha", "changed")
    );
    assert_eq!(store.get_project(a.id).await.unwrap(), a2);

    // Update against the old version: refused, naming both versions, nothing changed.
    let stale = store
        .update_project(
            "carol",
            a.id,
            Some(1),
            ProjectPatch {
                name: Some("alpha-2".into()),
                ..ProjectPatch::default()
            },
        )
        .await;
    match stale {
        Err(StoreError::VersionConflict {
            entity,
            id,
            expected,
            current,
        }) => {
            assert_eq!((entity, id, expected, current), ("project", a.id, 1, 2));
        }
        other => panic!("stale project update: expected VersionConflict, got {other:?}"),
    }
    assert_eq!(store.get_project(a.id).await.unwrap(), a2);

    // No expected version: applies to whatever version.
    let a3 = store
        .update_project(
            "carol",
            a.id,
            None,
            ProjectPatch {
                name: Some("alpha-renamed".into()),
                ..ProjectPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((a3.name.as_str(), a3.version), ("alpha-renamed", 3));
    assert_eq!(a3.description, "changed");
    assert!(matches!(
        store.project_by_name("alpha").await,
        Err(StoreError::NotFound {
            entity: "project",
            ..
        })
    ));
    assert_eq!(store.project_by_name("alpha-renamed").await.unwrap(), a3);

    // Names are unique, on create and on rename.
    assert!(
        matches!(
            store.create_project("alice", "beta", "again").await,
            Err(StoreError::AlreadyExists(_))
        ),
        "duplicate project name on create"
    );
    assert!(
        matches!(
            store
                .update_project(
                    "alice",
                    a.id,
                    Some(3),
                    ProjectPatch {
                        name: Some("beta".into()),
                        ..ProjectPatch::default()
                    }
                )
                .await,
            Err(StoreError::AlreadyExists(_))
        ),
        "duplicate project name on rename"
    );
    assert_eq!(store.get_project(a.id).await.unwrap(), a3);

    // Empty names are not acceptable.
    for bad in ["", "   "] {
        assert!(
            matches!(
                store.create_project("alice", bad, "").await,
                Err(StoreError::Invalid(_))
            ),
            "project name {bad:?}"
        );
    }
    assert!(matches!(
        store
            .update_project(
                "alice",
                b.id,
                None,
                ProjectPatch {
                    name: Some(String::new()),
                    ..ProjectPatch::default()
                }
            )
            .await,
        Err(StoreError::Invalid(_))
    ));

    // Delete: stale version refused, right version deletes.
    match store.delete_project("alice", b.id, Some(7)).await {
        Err(StoreError::VersionConflict {
            expected, current, ..
        }) => assert_eq!((expected, current), (7, 1)),
        other => panic!("stale project delete: expected VersionConflict, got {other:?}"),
    }
    assert_eq!(store.get_project(b.id).await.unwrap(), b);
    store.delete_project("alice", b.id, Some(1)).await.unwrap();
    assert!(matches!(
        store.get_project(b.id).await,
        Err(StoreError::NotFound {
            entity: "project",
            ..
        })
    ));
    assert!(matches!(
        store.project_by_name("beta").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.delete_project("alice", b.id, None).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store
            .update_project("alice", b.id, None, ProjectPatch::default())
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.get_project(999_999).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(store.list_projects().await.unwrap(), vec![a3.clone()]);

    // Project events: who did what, before and after.
    let ev = all_events(store, &project_events(a.id)).await;
    assert_eq!(
        actions(&ev),
        ["project.created", "project.updated", "project.updated"]
    );
    assert_eq!(ev[1].actor, "bob");
    assert_eq!(
        ev[1].before.as_ref().unwrap()["description"],
        "first project"
    );
    assert_eq!(ev[1].after.as_ref().unwrap()["description"], "changed");
    assert_eq!(ev[2].after.as_ref().unwrap()["name"], "alpha-renamed");
    let ev = all_events(store, &project_events(b.id)).await;
    assert_eq!(actions(&ev), ["project.created", "project.deleted"]);
    assert_eq!(ev[1].before.as_ref().unwrap()["name"], "beta");
    assert_eq!(ev[1].after, None);

    // The name of a deleted project is free again.
    let b2 = store.create_project("alice", "beta", "").await.unwrap();
    assert_eq!(b2.name, "beta");
    assert_eq!(store.project_by_name("beta").await.unwrap(), b2);
}

/// Ids are never handed out twice: the event log has no foreign keys and outlives what it
/// describes, so a new project or task taking a deleted one's id would inherit its history
/// (`events(project_id = ..)` / `events(task_id = ..)` would mix the two).
async fn check_ids_never_reused(store: &Store) {
    let keep = store.create_project("alice", "keep", "").await.unwrap();
    let gone = store.create_project("alice", "gone", "").await.unwrap();
    store.delete_project("alice", gone.id, None).await.unwrap();
    let fresh = store.create_project("alice", "fresh", "").await.unwrap();
    assert!(
        fresh.id > gone.id,
        "project id reused: deleted project {} was the newest, the next project got id {}",
        gone.id,
        fresh.id
    );
    assert_eq!(
        actions(&all_events(store, &project_events(fresh.id)).await),
        ["project.created"],
        "a new project's history holds only its own events"
    );

    let t1 = new_task(store, "alice", keep.id, "one").await;
    let t2 = new_task(store, "alice", keep.id, "two").await;
    store.delete_task("alice", t2.id, None).await.unwrap();
    let t3 = new_task(store, "alice", keep.id, "three").await;
    assert!(
        t3.id > t2.id,
        "task id reused: deleted task {} was the newest, the next task got id {}",
        t2.id,
        t3.id
    );
    assert_eq!(
        actions(&all_events(store, &task_events(t3.id)).await),
        ["task.created"],
        "a new task's history holds only its own events"
    );
    assert!(t3.id > t1.id);
}

/// Deleting a project takes its plans, tasks, sprints and lists with it; its history stays.
async fn check_project_delete_cascades(store: &Store) {
    let (p, r) = project_with_seed(store, "doomed", SEED_000).await;
    let s7 = task_by_key(store, r.plan_id, "Step 7").await;
    let sprint = store
        .create_sprint(
            "alice",
            p.id,
            NewSprint {
                name: "S".into(),
                starts_on: "2026-11-23".into(),
                ends_on: "2026-11-30".into(),
                goal: String::new(),
            },
        )
        .await
        .unwrap();
    store
        .sprint_task("alice", sprint.id, s7.id, true)
        .await
        .unwrap();
    store
        .create_action_list("alice", Some(p.id), "follow-ups")
        .await
        .unwrap();
    let other = store.create_project("alice", "survivor", "").await.unwrap();
    let keep = new_task(store, "alice", other.id, "keep me").await;

    store
        .delete_project("alice", p.id, Some(p.version))
        .await
        .unwrap();
    assert!(matches!(
        store.get_task(s7.id).await,
        Err(StoreError::NotFound { entity: "task", .. })
    ));
    assert!(matches!(
        store.get_plan(r.plan_id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.load_plan(r.plan_id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(
        store
            .list_tasks(&in_project(p.id), PageRequest::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert!(store.list_sprints(p.id).await.unwrap().is_empty());
    assert!(
        store
            .list_action_lists(Some(p.id))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.get_task(keep.id).await.unwrap(), keep);
    // History outlives what it describes.
    let ev = all_events(store, &project_events(p.id)).await;
    assert_eq!(ev.first().unwrap().action, "project.created");
    assert_eq!(ev.last().unwrap().action, "project.deleted");
    assert!(ev.iter().any(|e| e.action == "plan.imported"));
    assert_eq!(
        all_events(store, &task_events(s7.id)).await[0].action,
        "task.created"
    );
}

// ---------------------------------------------------------------------------------------
// Import

/// Seed 000 (105 tasks: Steps 0.1-0.5, 1-6 done, Step 7 in progress, Steps 8-100 open;
/// Step 8 depends on Step 7, Step 10 on Step 8, Step 7 on Step 6).
async fn check_import_seed_000(store: &Store) {
    let (p, r) = project_with_seed(store, "factoria", SEED_000).await;
    assert!(r.plan_id > 0);
    assert_eq!((r.version, r.new_version, r.tasks), (1, true, 105));
    assert_eq!(r.added.len(), 105);
    assert_eq!(
        &r.added[..6],
        [
            "Step 0.1", "Step 0.2", "Step 0.3", "Step 0.4", "Step 0.5", "Step 1"
        ]
    );
    assert_eq!(r.added[104], "Step 100");
    assert!(r.removed.is_empty() && r.renamed.is_empty() && r.moved.is_empty());
    assert!(r.status_changed.is_empty() && r.conflicts.is_empty() && r.kept.is_empty());
    assert!(r.pending_writeback.is_empty());

    // Progress: 105 tasks, 11 done, 1 in progress, the rest to do.
    let pr = store.progress(p.id).await.unwrap();
    assert_eq!(
        (
            pr.total,
            pr.done,
            pr.in_progress,
            pr.todo,
            pr.blocked,
            pr.deferred,
            pr.cancelled
        ),
        (105, 11, 1, 93, 0, 0, 0)
    );
    assert!((pr.percent - 10.5).abs() < 1e-9, "percent {}", pr.percent);

    // Ready, in the order of `taskman next`.
    assert_eq!(ready_keys(store, p.id).await, seed_000_ready());
    let first3 = store.ready(p.id, 3).await.unwrap();
    assert_eq!(keys(&first3), ["Step 7", "Step 9", "Step 11"]);
    assert_eq!(first3[0].status, Status::InProgress);

    // Blocked, as `taskman blocked`: Step 8 waits on Step 7, Step 10 on Step 8.
    assert_eq!(
        blocked_keys(store, p.id).await,
        vec![
            ("Step 8".to_string(), vec!["Step 7".to_string()]),
            ("Step 10".to_string(), vec!["Step 8".to_string()]),
        ]
    );

    // The plan's records.
    let plans = store.list_plans(p.id).await.unwrap();
    assert_eq!(plans.len(), 1);
    let plan = &plans[0];
    assert_eq!(
        (plan.id, plan.project_id, plan.version),
        (r.plan_id, p.id, 1)
    );
    assert_eq!(plan.name, "plan.md");
    assert_eq!(
        plan.title.as_deref(),
        Some("La Factoria Comprehensive Todo Tracking System")
    );
    assert_eq!(&store.get_plan(r.plan_id).await.unwrap(), plan);
    let versions = store.plan_versions(r.plan_id).await.unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(
        (
            versions[0].number,
            versions[0].size,
            versions[0].actor.as_str()
        ),
        (1, SEED_000.len() as i64, "cli")
    );
    assert_eq!(versions[0].created_at, FIXED);
    assert_eq!(store.plan_source(r.plan_id, None).await.unwrap(), SEED_000);
    assert_eq!(
        store.plan_source(r.plan_id, Some(1)).await.unwrap(),
        SEED_000
    );
    assert!(matches!(
        store.plan_source(r.plan_id, Some(2)).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.get_plan(999_999).await,
        Err(StoreError::NotFound { .. })
    ));

    // One task in detail: line 26, `- [ ] **Step 7: Test Coverage Reporting** 🔄 **IN
    // PROGRESS**`, "Dependencies: Step 6".
    let ids = key_ids(store, r.plan_id).await;
    assert_eq!(ids.len(), 105);
    let s7 = store.get_task(ids["Step 7"]).await.unwrap();
    assert_eq!(s7.key, "Step 7");
    assert_eq!(s7.title, "Test Coverage Reporting");
    assert_eq!(s7.status, Status::InProgress);
    assert_eq!((s7.project_id, s7.plan_id), (p.id, Some(r.plan_id)));
    assert_eq!(s7.section.as_deref(), Some(WEEK_2));
    assert_eq!(s7.line, Some(26));
    assert_eq!(s7.depends_on, vec![ids["Step 6"]]);
    assert_eq!(
        (s7.priority, s7.owner.as_deref(), s7.parent_id),
        (None, None, None)
    );
    assert_eq!(s7.version, 1);
    assert_eq!(
        (s7.created_at.as_str(), s7.updated_at.as_str()),
        (FIXED, FIXED)
    );
    let s8 = store.get_task(ids["Step 8"]).await.unwrap();
    assert_eq!(s8.depends_on, vec![ids["Step 7"]]);
    assert!(s8.position > s7.position);
    let s01 = store.get_task(ids["Step 0.1"]).await.unwrap();
    assert_eq!((s01.status, s01.line), (Status::Done, Some(11)));
    assert_eq!(s01.title, "Usage Monitoring");

    // load_plan gives back what the engine reads from the file.
    assert_loads_as(
        store,
        r.plan_id,
        &taskman_markdown::parse(SEED_000).plan,
        "seed 000",
    )
    .await;

    // Import events.
    let ev = all_events(store, &project_events(p.id)).await;
    assert_eq!(
        ev.len(),
        1 + 105 + 1,
        "project.created, 105 task.created, plan.imported"
    );
    assert_eq!(ev[0].action, "project.created");
    assert!(
        ev[1..106]
            .iter()
            .all(|e| e.action == "task.created" && e.actor == "cli")
    );
    assert_eq!(ev[106].action, "plan.imported");
    assert_eq!(ev[106].after.as_ref().unwrap()["plan_id"], json!(r.plan_id));
    let s7_created = all_events(store, &task_events(s7.id)).await;
    assert_eq!(actions(&s7_created), ["task.created"]);
    assert_eq!(s7_created[0].after.as_ref().unwrap()["key"], "Step 7");

    // Importing into a project that does not exist.
    assert!(matches!(
        store
            .import_plan("cli", 999_999, "plan.md", SEED_000.to_vec())
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

/// Every seed: progress, ready (order included), blocked and the rebuilt plan agree with
/// the plan engine, which is what `taskman status/next/blocked --json` print for the file.
async fn check_import_every_seed_matches_engine(store: &Store) {
    for (name, bytes) in SEEDS {
        let want = engine(bytes);
        let (p, r) = project_with_seed(store, &format!("seed {name}"), bytes).await;
        assert_eq!(r.tasks, want.plan.tasks.len(), "seed {name}: tasks");
        let want_keys: Vec<&str> = want.plan.tasks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(r.added, want_keys, "seed {name}: added");
        let pr = store.progress(p.id).await.unwrap();
        assert_eq!(
            (pr.total, pr.done, pr.in_progress, pr.cancelled),
            (want.total, want.done, want.in_progress, want.cancelled),
            "seed {name}: progress"
        );
        assert!(
            (pr.percent - want.percent).abs() < 1e-9,
            "seed {name}: percent"
        );
        assert_eq!(
            ready_keys(store, p.id).await,
            want.ready,
            "seed {name}: ready"
        );
        assert_eq!(
            blocked_keys(store, p.id).await,
            want.blocked,
            "seed {name}: blocked"
        );
        assert_loads_as(store, r.plan_id, &want.plan, &format!("seed {name}")).await;
        // The ready/blocked filters of list_tasks agree with ready()/blocked().
        let ready_f = all_tasks(
            store,
            &TaskFilter {
                ready: true,
                ..in_project(p.id)
            },
        )
        .await;
        let mut a: Vec<&str> = keys(&ready_f);
        let mut b: Vec<&str> = want.ready.iter().map(String::as_str).collect();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "seed {name}: list_tasks ready filter");
        let blocked_f = all_tasks(
            store,
            &TaskFilter {
                blocked: true,
                ..in_project(p.id)
            },
        )
        .await;
        let mut a: Vec<&str> = keys(&blocked_f);
        let mut b: Vec<&str> = want.blocked.iter().map(|(k, _)| k.as_str()).collect();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "seed {name}: list_tasks blocked filter");
    }
}

/// Two plans in one project, and the same plan name in two projects.
async fn check_import_several_plans(store: &Store) {
    let p = store.create_project("cli", "two plans", "").await.unwrap();
    let a = store
        .import_plan("cli", p.id, "a.md", SEED_000.to_vec())
        .await
        .unwrap();
    let b = store
        .import_plan("cli", p.id, "b.md", SEED_004.to_vec())
        .await
        .unwrap();
    assert_ne!(a.plan_id, b.plan_id);
    let names: Vec<String> = store
        .list_plans(p.id)
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.name)
        .collect();
    assert_eq!(names, ["a.md", "b.md"]);
    // Seed 004: 180 open tasks (5 phases x 5 and the checklist), none done.
    let pr = store.progress(p.id).await.unwrap();
    assert_eq!((pr.total, pr.done, pr.in_progress), (105 + 180, 11, 1));
    let ready = ready_keys(store, p.id).await;
    // In progress first, then (no priorities anywhere) plan a before plan b, document order.
    let mut want = seed_000_ready();
    want.extend(engine(SEED_004).ready);
    assert_eq!(ready, want);

    // Same name in another project: a separate plan.
    let q = store.create_project("cli", "other", "").await.unwrap();
    let c = store
        .import_plan("cli", q.id, "a.md", SEED_000.to_vec())
        .await
        .unwrap();
    assert!(c.new_version && c.version == 1 && c.added.len() == 105);
    assert_ne!(c.plan_id, a.plan_id);
    assert_eq!(store.progress(q.id).await.unwrap().total, 105);
    assert_eq!(store.progress(p.id).await.unwrap().total, 285);
}

// ---------------------------------------------------------------------------------------
// Sync

async fn check_reimport_identical(store: &Store) {
    let (p, first) = project_with_seed(store, "again", SEED_000).await;
    let before = all_tasks(store, &in_project(p.id)).await;
    let r = store
        .import_plan("cli", p.id, "plan.md", SEED_000.to_vec())
        .await
        .unwrap();
    assert_eq!(r.plan_id, first.plan_id);
    assert_eq!((r.version, r.new_version, r.tasks), (1, false, 105));
    assert_report_quiet(&r);
    assert!(r.pending_writeback.is_empty(), "{:?}", r.pending_writeback);
    assert_eq!(r.updated_from_file, 0);
    assert_eq!(store.plan_versions(r.plan_id).await.unwrap().len(), 1);
    assert_eq!(store.get_plan(r.plan_id).await.unwrap().version, 1);
    assert_eq!(
        all_tasks(store, &in_project(p.id)).await,
        before,
        "an identical import changes no task"
    );
    let ev = all_events(store, &project_events(p.id)).await;
    assert_eq!(ev.last().unwrap().action, "plan.synced");
    assert_eq!(
        ev.iter().filter(|e| e.action.starts_with("task.")).count(),
        105,
        "only the 105 task.created of the first import"
    );
}

/// Ticking `- [ ] Step 14: Fix N+1 Query Problems` (line 48) in the file marks it done.
async fn check_sync_tick_box(store: &Store) {
    let (p, first) = project_with_seed(store, "tick", SEED_000).await;
    let before = task_by_key(store, first.plan_id, "Step 14").await;
    let s13_before = task_by_key(store, first.plan_id, "Step 13").await;
    let ticked = replace_once(
        SEED_000,
        "- [ ] Step 14: Fix N+1 Query Problems",
        "- [x] Step 14: Fix N+1 Query Problems",
    );
    let r = store
        .import_plan("sync", p.id, "plan.md", ticked.clone())
        .await
        .unwrap();
    assert_eq!(
        (r.plan_id, r.version, r.new_version, r.tasks),
        (first.plan_id, 2, true, 105)
    );
    assert_eq!(
        r.status_changed,
        vec![StatusChange {
            key: "Step 14".into(),
            from: Status::Todo,
            to: Status::Done
        }]
    );
    assert_eq!(r.updated_from_file, 1);
    assert!(r.pending_writeback.is_empty());
    let versions = store.plan_versions(first.plan_id).await.unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| (v.number, v.actor.as_str()))
            .collect::<Vec<_>>(),
        [(1, "cli"), (2, "sync")]
    );
    assert_eq!(
        store.plan_source(first.plan_id, None).await.unwrap(),
        ticked
    );
    assert_eq!(
        store.plan_source(first.plan_id, Some(1)).await.unwrap(),
        SEED_000
    );

    let after = store.get_task(before.id).await.unwrap();
    assert_eq!(after.status, Status::Done);
    assert_eq!(after.version, before.version + 1);
    assert_eq!(
        store.get_task(s13_before.id).await.unwrap(),
        s13_before,
        "a task the file did not change stays as it was"
    );
    let pr = store.progress(p.id).await.unwrap();
    assert_eq!((pr.done, pr.todo), (12, 92));
    assert!(
        !ready_keys(store, p.id)
            .await
            .contains(&"Step 14".to_string())
    );
    assert_loads_as(
        store,
        first.plan_id,
        &taskman_markdown::parse(&ticked).plan,
        "ticked",
    )
    .await;

    let ev = all_events(store, &task_events(before.id)).await;
    assert_eq!(actions(&ev), ["task.created", "task.status_changed"]);
    assert_eq!(ev[1].actor, "sync");
    assert_eq!(ev[1].before.as_ref().unwrap()["status"], "todo");
    assert_eq!(ev[1].after.as_ref().unwrap()["status"], "done");
    let pe = all_events(store, &project_events(p.id)).await;
    let synced = pe.last().unwrap();
    assert_eq!(synced.action, "plan.synced");
    assert_eq!(synced.after.as_ref().unwrap()["version"], 2);
    assert_eq!(synced.after.as_ref().unwrap()["status_changed"], 1);
}

/// Renaming tasks in the file: an explicit id (`Step 12`) is matched by id and its title
/// updated; a derived slug id (seed 004) is matched by its place and takes the new key.
async fn check_sync_rename(store: &Store) {
    let (p, first) = project_with_seed(store, "rename", SEED_000).await;
    let s12 = task_by_key(store, first.plan_id, "Step 12").await;
    assert_eq!(s12.title, "Implement CDN for Static Assets");
    let renamed = replace_once(
        SEED_000,
        "Step 12: Implement CDN for Static Assets",
        "Step 12: Implement CDN for Static Files",
    );
    let r = store
        .import_plan("cli", p.id, "plan.md", renamed.clone())
        .await
        .unwrap();
    assert_eq!(
        r.renamed,
        vec![Renamed {
            key: "Step 12".into(),
            from: "Implement CDN for Static Assets".into(),
            to: "Implement CDN for Static Files".into()
        }]
    );
    assert!(r.added.is_empty() && r.removed.is_empty() && r.status_changed.is_empty());
    assert!(r.conflicts.is_empty() && r.moved.is_empty());
    assert_eq!(r.updated_from_file, 1);
    let after = store.get_task(s12.id).await.unwrap();
    assert_eq!(after.title, "Implement CDN for Static Files");
    assert_eq!(after.key, "Step 12");
    assert_eq!(after.version, s12.version + 1);
    assert_loads_as(
        store,
        first.plan_id,
        &taskman_markdown::parse(&renamed).plan,
        "renamed",
    )
    .await;
    // Search follows the new title.
    let found = all_tasks(
        store,
        &TaskFilter {
            text: Some("files".into()),
            ..in_plan(first.plan_id)
        },
    )
    .await;
    assert_eq!(ids(&found), [s12.id]);
    let ev = all_events(store, &task_events(s12.id)).await;
    assert_eq!(actions(&ev), ["task.created", "task.updated"]);
    assert_eq!(
        ev[1].before.as_ref().unwrap()["title"],
        "Implement CDN for Static Assets"
    );
    assert_eq!(
        ev[1].after.as_ref().unwrap()["title"],
        "Implement CDN for Static Files"
    );

    // A task without an explicit id (line 9 of seed 004, fourth task of Phase 1).
    let (q, first4) = project_with_seed(store, "rename slug", SEED_004).await;
    let old_key = "phase-1-critical-security/docker-containerization";
    let docker = task_by_key(store, first4.plan_id, old_key).await;
    let text = replace_once(
        SEED_004,
        "- [ ] Docker containerization\n",
        "- [ ] Docker containerisation with compose\n",
    );
    let new_key = "phase-1-critical-security/docker-containerisation-with-compose";
    let r = store
        .import_plan("cli", q.id, "plan.md", text.clone())
        .await
        .unwrap();
    assert_eq!(
        r.renamed,
        vec![Renamed {
            key: new_key.into(),
            from: "Docker containerization".into(),
            to: "Docker containerisation with compose".into()
        }]
    );
    assert!(r.added.is_empty(), "added: {:?}", r.added);
    assert!(r.removed.is_empty(), "removed: {:?}", r.removed);
    let after = store.get_task(docker.id).await.unwrap();
    assert_eq!(after.key, new_key, "the same row takes the new key");
    assert_eq!(after.title, "Docker containerisation with compose");
    assert_eq!(store.progress(q.id).await.unwrap().total, 180);
    assert_loads_as(
        store,
        first4.plan_id,
        &taskman_markdown::parse(&text).plan,
        "slug renamed",
    )
    .await;
}

/// Deleting the line of Step 13 removes the task; a removed task the database changed
/// since is kept and listed.
async fn check_sync_delete_task(store: &Store) {
    let (p, first) = project_with_seed(store, "delete", SEED_000).await;
    let ids_before = key_ids(store, first.plan_id).await;
    let s13 = task_by_key(store, first.plan_id, "Step 13").await;
    let without_13 = delete_line(SEED_000, "Step 13: Add Response Caching Headers");
    let r = store
        .import_plan("cli", p.id, "plan.md", without_13.clone())
        .await
        .unwrap();
    assert_eq!(r.removed, ["Step 13"]);
    assert!(r.added.is_empty() && r.renamed.is_empty() && r.status_changed.is_empty());
    assert!(r.kept.is_empty() && r.conflicts.is_empty());
    assert_eq!((r.tasks, r.version), (104, 2));
    assert!(matches!(
        store.get_task(s13.id).await,
        Err(StoreError::NotFound { .. })
    ));
    let ids_after = key_ids(store, first.plan_id).await;
    assert_eq!(ids_after.len(), 104);
    for (k, id) in &ids_after {
        assert_eq!(ids_before.get(k), Some(id), "{k} keeps its row");
    }
    let pr = store.progress(p.id).await.unwrap();
    assert_eq!((pr.total, pr.todo), (104, 92));
    assert_loads_as(
        store,
        first.plan_id,
        &taskman_markdown::parse(&without_13).plan,
        "deleted",
    )
    .await;
    let ev = all_events(store, &task_events(s13.id)).await;
    assert_eq!(actions(&ev), ["task.created", "task.deleted"]);
    assert_eq!(ev[1].before.as_ref().unwrap()["key"], "Step 13");
    assert_eq!(ev[1].after, None);

    // Step 15 was given an owner in the database; a file without it keeps it.
    let s15 = task_by_key(store, first.plan_id, "Step 15").await;
    store
        .update_task(
            "alice",
            s15.id,
            Some(s15.version),
            TaskPatch {
                owner: Some(Some("ana".into())),
                ..TaskPatch::default()
            },
        )
        .await
        .unwrap();
    let without_15 = delete_line(&without_13, "Step 15: Implement Connection Pooling");
    let r = store
        .import_plan("cli", p.id, "plan.md", without_15)
        .await
        .unwrap();
    assert_eq!(r.kept, ["Step 15"]);
    assert!(r.removed.is_empty(), "removed: {:?}", r.removed);
    assert_eq!(
        store.get_task(s15.id).await.unwrap().owner.as_deref(),
        Some("ana")
    );

    // Deleting a line shifts every later heading by one line; no task changed section,
    // so none may be reported moved, and none but the edited ones gets a new version.
    let (q, fresh) = project_with_seed(store, "delete quiet", SEED_000).await;
    let r = store
        .import_plan("cli", q.id, "plan.md", without_13.clone())
        .await
        .unwrap();
    let mut problems = Vec::new();
    if !r.moved.is_empty() {
        problems.push(format!(
            "deleting one task line reported {} tasks as moved, first {:?}",
            r.moved.len(),
            r.moved.first()
        ));
    }
    let bumped: Vec<String> = all_tasks(store, &in_plan(fresh.plan_id))
        .await
        .into_iter()
        .filter(|t| t.version != 1)
        .map(|t| t.key)
        .collect();
    if !bumped.is_empty() {
        problems.push(format!(
            "{} tasks the file did not change got a new version (first {:?})",
            bumped.len(),
            bumped.first()
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A task without an explicit id renamed in the same edit that deletes a line above it
/// (so every later heading moves up a line): still the same task, renamed, not deleted
/// and re-added (which would lose its row, its database changes and its history).
async fn check_sync_rename_after_line_shift(store: &Store) {
    let (p, first) = project_with_seed(store, "rename shifted", SEED_004).await;
    let health = task_by_key(
        store,
        first.plan_id,
        "phase-2-core-stability-week-3-4/basic-health-checks",
    )
    .await;
    let gone = task_by_key(
        store,
        first.plan_id,
        "phase-1-critical-security/load-balancer-configuration",
    )
    .await;
    let text = delete_line(SEED_004, "- [ ] Load balancer configuration");
    let text = replace_once(
        &text,
        "- [ ] Basic health checks\n",
        "- [ ] Basic health and readiness checks\n",
    );
    let parsed = taskman_markdown::parse(&text).plan;
    let new_key = parsed
        .tasks
        .iter()
        .find(|t| t.title == "Basic health and readiness checks")
        .map(|t| t.id.clone())
        .unwrap();
    let r = store
        .import_plan("cli", p.id, "plan.md", text.clone())
        .await
        .unwrap();
    assert_eq!(r.removed, [gone.key.as_str()]);
    assert!(matches!(
        store.get_task(gone.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(
        (r.added.clone(), r.renamed.clone()),
        (
            vec![],
            vec![Renamed {
                key: new_key.clone(),
                from: "Basic health checks".into(),
                to: "Basic health and readiness checks".into()
            }]
        ),
        "renamed task reported as (added, renamed)"
    );
    let after = store
        .get_task(health.id)
        .await
        .expect("the renamed task keeps its row");
    assert_eq!(
        (after.key.as_str(), after.title.as_str()),
        (new_key.as_str(), "Basic health and readiness checks")
    );
    assert_loads_as(store, first.plan_id, &parsed, "renamed after shift").await;
}

/// Moving the whole "Week 3" section (line 44-50) below "Week 4" (51-57): the same tasks,
/// none added, removed or moved to another section; only their order changes.
async fn check_sync_reorder_sections(store: &Store) {
    let (p, first) = project_with_seed(store, "reorder", SEED_000).await;
    let ids_before = key_ids(store, first.plan_id).await;
    let w3 = find(SEED_000, "### **MONTH 1: Foundation - Week 3");
    let w4 = find(SEED_000, "### **MONTH 1: Foundation - Week 4");
    let m2 = find(SEED_000, "### **MONTH 2:");
    let text = [
        &SEED_000[..w3],
        &SEED_000[w4..m2],
        &SEED_000[w3..w4],
        &SEED_000[m2..],
    ]
    .concat();
    assert_eq!(text.len(), SEED_000.len());
    let r = store
        .import_plan("cli", p.id, "plan.md", text.clone())
        .await
        .unwrap();
    assert!(r.added.is_empty(), "added: {:?}", r.added);
    assert!(r.removed.is_empty(), "removed: {:?}", r.removed);
    assert!(r.kept.is_empty() && r.status_changed.is_empty() && r.renamed.is_empty());
    assert_eq!((r.tasks, r.version, r.new_version), (105, 2, true));
    assert_eq!(
        key_ids(store, first.plan_id).await,
        ids_before,
        "every task keeps its row"
    );
    let s11 = store.get_task(ids_before["Step 11"]).await.unwrap();
    let s16 = store.get_task(ids_before["Step 16"]).await.unwrap();
    assert!(s16.position < s11.position, "Week 4 now comes first");
    assert_eq!((s16.line, s11.line), (Some(45), Some(52)));
    // Ready follows the new document order: Steps 16-20 before 11-15.
    let mut want = vec!["Step 7".to_string(), "Step 9".to_string()];
    want.extend(
        (16..=20)
            .chain(11..=15)
            .chain(21..=100)
            .map(|n| format!("Step {n}")),
    );
    assert_eq!(ready_keys(store, p.id).await, want);
    assert_loads_as(
        store,
        first.plan_id,
        &taskman_markdown::parse(&text).plan,
        "reordered",
    )
    .await;
    assert!(
        r.moved.is_empty(),
        "reordering sections reported {} tasks as moved, first {:?}",
        r.moved.len(),
        r.moved.first()
    );
}

/// A status changed in the database and a different box ticked in the file: both kept,
/// and the database's change is queued for the file.
async fn check_sync_three_way(store: &Store) {
    let (p, first) = project_with_seed(store, "three way", SEED_000).await;
    let s15 = task_by_key(store, first.plan_id, "Step 15").await;
    let s16 = task_by_key(store, first.plan_id, "Step 16").await;
    store
        .update_task(
            "alice",
            s15.id,
            Some(s15.version),
            TaskPatch::status(Status::InProgress),
        )
        .await
        .unwrap();
    let text = replace_once(
        SEED_000,
        "- [ ] Step 16: Define SLAs and SLOs",
        "- [x] Step 16: Define SLAs and SLOs",
    );
    let r = store
        .import_plan("sync", p.id, "plan.md", text.clone())
        .await
        .unwrap();
    assert_eq!(
        r.status_changed,
        vec![StatusChange {
            key: "Step 16".into(),
            from: Status::Todo,
            to: Status::Done
        }]
    );
    assert_eq!(
        r.pending_writeback,
        vec![StatusChange {
            key: "Step 15".into(),
            from: Status::Todo,
            to: Status::InProgress
        }]
    );
    assert!(r.conflicts.is_empty() && r.added.is_empty() && r.removed.is_empty());
    assert_eq!(
        store.get_task(s15.id).await.unwrap().status,
        Status::InProgress
    );
    assert_eq!(store.get_task(s16.id).await.unwrap().status, Status::Done);
    assert_eq!(store.plan_versions(first.plan_id).await.unwrap().len(), 2);
    let pr = store.progress(p.id).await.unwrap();
    assert_eq!((pr.done, pr.in_progress), (12, 2));
    // The rebuilt plan carries the database's status for Step 15.
    let mut want = taskman_markdown::parse(&text).plan;
    let i = want.find("Step 15").unwrap();
    want.tasks[i].status = Status::InProgress;
    assert_loads_as(store, first.plan_id, &want, "three-way").await;
    // The same file again: still waiting to be written back, nothing else.
    let again = store
        .import_plan("sync", p.id, "plan.md", text)
        .await
        .unwrap();
    assert!(!again.new_version);
    assert_eq!(again.pending_writeback, r.pending_writeback);
    assert!(again.status_changed.is_empty() && again.conflicts.is_empty());
}

/// Step 17 cancelled in the database and ticked in the file: a conflict on `status`,
/// reported on every sync until settled, the database's value left alone.
async fn check_sync_conflict(store: &Store) {
    let (p, first) = project_with_seed(store, "conflict", SEED_000).await;
    let s17 = task_by_key(store, first.plan_id, "Step 17").await;
    let cancelled = store
        .update_task(
            "alice",
            s17.id,
            Some(s17.version),
            TaskPatch::status(Status::Cancelled),
        )
        .await
        .unwrap();
    let ticked = replace_once(
        SEED_000,
        "- [ ] Step 17: Create Runbook Library",
        "- [x] Step 17: Create Runbook Library",
    );
    let want = vec![Conflict {
        task_id: s17.id,
        key: "Step 17".into(),
        field: "status",
        base: json!("todo"),
        file: json!("done"),
        database: json!("cancelled"),
    }];
    let r = store
        .import_plan("sync", p.id, "plan.md", ticked.clone())
        .await
        .unwrap();
    assert_eq!(r.conflicts, want);
    assert!(r.status_changed.is_empty(), "{:?}", r.status_changed);
    assert_eq!(r.updated_from_file, 0);
    assert_eq!(
        store.get_task(s17.id).await.unwrap(),
        cancelled,
        "database value kept"
    );

    let again = store
        .import_plan("sync", p.id, "plan.md", ticked.clone())
        .await
        .unwrap();
    assert!(!again.new_version);
    assert_eq!(again.conflicts, want, "reported again until settled");
    assert_eq!(
        store.get_task(s17.id).await.unwrap().status,
        Status::Cancelled
    );
    let ev = all_events(store, &project_events(p.id)).await;
    let last = ev.last().unwrap();
    assert_eq!(last.action, "plan.synced");
    assert_eq!(
        last.after.as_ref().unwrap()["conflicts"][0]["key"],
        "Step 17"
    );

    // Settled in the database the file's way: no conflict any more.
    store
        .update_task("alice", s17.id, None, TaskPatch::status(Status::Done))
        .await
        .unwrap();
    let settled = store
        .import_plan("sync", p.id, "plan.md", ticked.clone())
        .await
        .unwrap();
    assert!(settled.conflicts.is_empty(), "{:?}", settled.conflicts);
    assert!(settled.pending_writeback.is_empty());
    assert_eq!(store.get_task(s17.id).await.unwrap().status, Status::Done);

    // Nothing is resolved silently: a conflicting status must not be queued to be written
    // into the file (which would settle the conflict the database's way).
    let (q, fresh) = project_with_seed(store, "conflict writeback", SEED_000).await;
    let t = task_by_key(store, fresh.plan_id, "Step 17").await;
    store
        .update_task("alice", t.id, None, TaskPatch::status(Status::Cancelled))
        .await
        .unwrap();
    let r = store
        .import_plan("sync", q.id, "plan.md", ticked)
        .await
        .unwrap();
    assert_eq!(r.conflicts.len(), 1);
    assert!(
        r.pending_writeback.iter().all(|c| c.key != "Step 17"),
        "a conflicted task is queued for write-back: {:?}",
        r.pending_writeback
    );
}

/// Tasks created in the database inside a plan are not the file's to delete.
async fn check_sync_keeps_database_tasks(store: &Store) {
    let (p, first) = project_with_seed(store, "db tasks", SEED_000).await;
    let extra = store
        .create_task(
            "alice",
            p.id,
            NewTask {
                title: "Write the release notes".into(),
                plan_id: Some(first.plan_id),
                key: Some("EXTRA-1".into()),
                ..NewTask::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (extra.plan_id, extra.key.as_str()),
        (Some(first.plan_id), "EXTRA-1")
    );
    // Keys are unique within a plan.
    assert!(matches!(
        store
            .create_task(
                "alice",
                p.id,
                NewTask {
                    title: "dup".into(),
                    plan_id: Some(first.plan_id),
                    key: Some("Step 7".into()),
                    ..NewTask::default()
                }
            )
            .await,
        Err(StoreError::AlreadyExists(_))
    ));
    let r = store
        .import_plan("cli", p.id, "plan.md", SEED_000.to_vec())
        .await
        .unwrap();
    assert!(r.removed.is_empty() && r.kept.is_empty() && r.added.is_empty());
    assert_eq!(store.get_task(extra.id).await.unwrap(), extra);
    assert_eq!(store.progress(p.id).await.unwrap().total, 106);
    // A plan of another project is refused.
    let q = store
        .create_project("alice", "elsewhere", "")
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_task(
                "alice",
                q.id,
                NewTask {
                    title: "x".into(),
                    plan_id: Some(first.plan_id),
                    ..NewTask::default()
                }
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
}

// ---------------------------------------------------------------------------------------
// Tasks

async fn check_tasks_crud(store: &Store) {
    let p = store.create_project("alice", "crud", "").await.unwrap();
    let t = store
        .create_task(
            "alice",
            p.id,
            NewTask {
                title: "Write spec".into(),
                priority: Some(Priority::High),
                owner: Some("ana".into()),
                due: Some("2026-12-01".into()),
                tags: vec!["docs".into(), "q1".into()],
                notes: Some("first draft".into()),
                ..NewTask::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(t.project_id, p.id);
    assert_eq!((t.plan_id, t.section_id, t.parent_id), (None, None, None));
    // Without a plan or a key of its own, a task is named and ordered by its id.
    assert_eq!(t.key, format!("#{}", t.id));
    assert_eq!(t.position, t.id);
    assert_eq!(t.title, "Write spec");
    assert_eq!(t.status, Status::Todo);
    assert_eq!(t.priority, Some(Priority::High));
    assert_eq!(t.owner.as_deref(), Some("ana"));
    assert_eq!(t.due.as_deref(), Some("2026-12-01"));
    assert_eq!(t.tags, ["docs", "q1"]);
    assert_eq!(t.notes, "first draft");
    assert!(t.depends_on.is_empty());
    assert_eq!(t.version, 1);
    assert_eq!(
        (t.created_at.as_str(), t.updated_at.as_str()),
        (FIXED, FIXED)
    );
    assert_eq!(store.get_task(t.id).await.unwrap(), t);

    // Update with the version the caller saw (If-Match).
    let t2 = store
        .update_task("bob", t.id, Some(1), TaskPatch::status(Status::InProgress))
        .await
        .unwrap();
    assert_eq!((t2.status, t2.version), (Status::InProgress, 2));
    assert_eq!(t2.title, t.title);
    assert_eq!(store.get_task(t.id).await.unwrap(), t2);

    // Against the old version: refused, naming both; nothing changed.
    match store
        .update_task("carol", t.id, Some(1), TaskPatch::status(Status::Done))
        .await
    {
        Err(StoreError::VersionConflict {
            entity,
            id,
            expected,
            current,
        }) => assert_eq!((entity, id, expected, current), ("task", t.id, 1, 2)),
        other => panic!("stale task update: expected VersionConflict, got {other:?}"),
    }
    assert_eq!(store.get_task(t.id).await.unwrap(), t2);

    // Clearing fields, replacing tags, notes.
    let t3 = store
        .update_task(
            "bob",
            t.id,
            Some(2),
            TaskPatch {
                priority: Some(None),
                owner: Some(None),
                due: Some(None),
                tags: Some(vec!["q2".into()]),
                notes: Some("second draft".into()),
                title: Some("Write the spec".into()),
                ..TaskPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(t3.version, 3);
    assert_eq!(
        (t3.priority, t3.owner.as_deref(), t3.due.as_deref()),
        (None, None, None)
    );
    assert_eq!(t3.tags, ["q2"]);
    assert_eq!(t3.notes, "second draft");
    assert_eq!(t3.title, "Write the spec");
    assert_eq!(t3.status, Status::InProgress);

    // Not acceptable.
    for bad in ["", "  "] {
        assert!(
            matches!(
                store
                    .create_task(
                        "alice",
                        p.id,
                        NewTask {
                            title: bad.into(),
                            ..NewTask::default()
                        }
                    )
                    .await,
                Err(StoreError::Invalid(_))
            ),
            "task title {bad:?}"
        );
    }
    assert!(matches!(
        store
            .update_task(
                "alice",
                t.id,
                None,
                TaskPatch {
                    title: Some(String::new()),
                    ..TaskPatch::default()
                }
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .create_task(
                "alice",
                999_999,
                NewTask {
                    title: "orphan".into(),
                    ..NewTask::default()
                }
            )
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store
            .update_task("alice", 999_999, None, TaskPatch::status(Status::Done))
            .await,
        Err(StoreError::NotFound { entity: "task", .. })
    ));
    assert_eq!(store.get_task(t.id).await.unwrap(), t3);

    // Subtasks.
    let child = store
        .create_task(
            "alice",
            p.id,
            NewTask {
                title: "Outline".into(),
                parent_id: Some(t.id),
                status: Some(Status::Done),
                ..NewTask::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((child.parent_id, child.status), (Some(t.id), Status::Done));
    assert_ne!(child.key, t.key);

    // Delete: stale version refused, then deleted, then gone.
    match store.delete_task("alice", t.id, Some(2)).await {
        Err(StoreError::VersionConflict {
            entity,
            expected,
            current,
            ..
        }) => assert_eq!((entity, expected, current), ("task", 2, 3)),
        other => panic!("stale task delete: expected VersionConflict, got {other:?}"),
    }
    assert_eq!(store.get_task(t.id).await.unwrap(), t3);
    store.delete_task("alice", t.id, Some(3)).await.unwrap();
    assert!(matches!(
        store.get_task(t.id).await,
        Err(StoreError::NotFound { entity: "task", .. })
    ));
    assert!(matches!(
        store.delete_task("alice", t.id, None).await,
        Err(StoreError::NotFound { .. })
    ));
    // The child stays, without its parent.
    assert_eq!(store.get_task(child.id).await.unwrap().parent_id, None);

    let ev = all_events(store, &task_events(t.id)).await;
    assert_eq!(
        actions(&ev),
        [
            "task.created",
            "task.status_changed",
            "task.updated",
            "task.deleted"
        ]
    );
}

/// Two writers holding the same version: exactly one wins, the others get a conflict.
async fn check_concurrent_writers(store: &Store) {
    let p = store.create_project("alice", "race", "").await.unwrap();
    let t = new_task(store, "alice", p.id, "contested").await;
    let (a, b, c, d) = tokio::join!(
        store.update_task("u1", t.id, Some(1), TaskPatch::status(Status::InProgress)),
        store.update_task("u2", t.id, Some(1), TaskPatch::status(Status::Done)),
        store.update_task("u3", t.id, Some(1), TaskPatch::status(Status::Blocked)),
        store.update_task("u4", t.id, Some(1), TaskPatch::status(Status::Deferred)),
    );
    let results = [a, b, c, d];
    let won: Vec<&TaskRecord> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(won.len(), 1, "exactly one writer wins: {results:?}");
    for r in &results {
        if let Err(e) = r {
            assert!(
                matches!(
                    e,
                    StoreError::VersionConflict {
                        expected: 1,
                        current: 2,
                        ..
                    }
                ),
                "{e:?}"
            );
        }
    }
    let now = store.get_task(t.id).await.unwrap();
    assert_eq!(now.version, 2);
    assert_eq!(now.status, won[0].status);
    assert_eq!(
        actions(&all_events(store, &task_events(t.id)).await),
        ["task.created", "task.status_changed"]
    );

    let (x, y, z) = tokio::join!(
        store.create_project("a", "same name", ""),
        store.create_project("b", "same name", ""),
        store.create_project("c", "same name", ""),
    );
    let results = [x, y, z];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, StoreError::AlreadyExists(_))),
        "{results:?}"
    );
}

/// Every filter of list_tasks on tasks whose values the check chose.
async fn check_list_filters(store: &Store) {
    let p = store.create_project("alice", "filters", "").await.unwrap();
    let q = store
        .create_project("alice", "elsewhere", "")
        .await
        .unwrap();
    let mk = |title: &'static str,
              priority: Option<Priority>,
              owner: Option<&'static str>,
              tags: &[&str],
              status: Status,
              notes: &'static str| NewTask {
        title: title.into(),
        priority,
        owner: owner.map(Into::into),
        tags: tags.iter().map(|s| s.to_string()).collect(),
        status: Some(status),
        notes: Some(notes.into()),
        ..NewTask::default()
    };
    let t1 = store
        .create_task(
            "alice",
            p.id,
            mk(
                "Design login page",
                Some(Priority::High),
                Some("ana"),
                &["ui"],
                Status::Todo,
                "",
            ),
        )
        .await
        .unwrap();
    let t2 = store
        .create_task(
            "alice",
            p.id,
            mk(
                "Implement login API",
                Some(Priority::Critical),
                Some("bo"),
                &["api", "auth"],
                Status::InProgress,
                "",
            ),
        )
        .await
        .unwrap();
    let t3 = store
        .create_task(
            "alice",
            p.id,
            mk(
                "Write login tests",
                Some(Priority::High),
                Some("ana"),
                &["qa"],
                Status::Done,
                "",
            ),
        )
        .await
        .unwrap();
    let t4 = store
        .create_task(
            "alice",
            p.id,
            mk(
                "Deploy staging server",
                Some(Priority::Low),
                None,
                &[],
                Status::Blocked,
                "",
            ),
        )
        .await
        .unwrap();
    let t5 = store
        .create_task(
            "alice",
            p.id,
            mk(
                "Document the API",
                None,
                Some("bo"),
                &["api", "docs"],
                Status::Todo,
                "mention rate limiting",
            ),
        )
        .await
        .unwrap();
    let other = store
        .create_task(
            "alice",
            q.id,
            mk(
                "Login for the other project",
                None,
                Some("ana"),
                &["api"],
                Status::Todo,
                "",
            ),
        )
        .await
        .unwrap();
    // t1 waits on t2 (open).
    store.add_dependency("alice", t1.id, t2.id).await.unwrap();

    let f = |g: TaskFilter| TaskFilter {
        project_id: Some(p.id),
        ..g
    };
    let d = TaskFilter::default;
    let cases: Vec<(&str, TaskFilter, Vec<i64>)> = vec![
        ("project", f(d()), vec![t1.id, t2.id, t3.id, t4.id, t5.id]),
        (
            "status todo",
            f(TaskFilter {
                status: vec![Status::Todo],
                ..d()
            }),
            vec![t1.id, t5.id],
        ),
        (
            "status done|blocked",
            f(TaskFilter {
                status: vec![Status::Done, Status::Blocked],
                ..d()
            }),
            vec![t3.id, t4.id],
        ),
        (
            "priority high",
            f(TaskFilter {
                priority: Some(Priority::High),
                ..d()
            }),
            vec![t1.id, t3.id],
        ),
        (
            "priority critical",
            f(TaskFilter {
                priority: Some(Priority::Critical),
                ..d()
            }),
            vec![t2.id],
        ),
        (
            "owner bo",
            f(TaskFilter {
                owner: Some("bo".into()),
                ..d()
            }),
            vec![t2.id, t5.id],
        ),
        (
            "owner nobody",
            f(TaskFilter {
                owner: Some("zed".into()),
                ..d()
            }),
            vec![],
        ),
        (
            "tag api",
            f(TaskFilter {
                tag: Some("api".into()),
                ..d()
            }),
            vec![t2.id, t5.id],
        ),
        (
            "tag qa",
            f(TaskFilter {
                tag: Some("qa".into()),
                ..d()
            }),
            vec![t3.id],
        ),
        (
            "text login",
            f(TaskFilter {
                text: Some("login".into()),
                ..d()
            }),
            vec![t1.id, t2.id, t3.id],
        ),
        (
            "text LOGIN",
            f(TaskFilter {
                text: Some("LOGIN".into()),
                ..d()
            }),
            vec![t1.id, t2.id, t3.id],
        ),
        (
            "text two words",
            f(TaskFilter {
                text: Some("login tests".into()),
                ..d()
            }),
            vec![t3.id],
        ),
        (
            "text in notes",
            f(TaskFilter {
                text: Some("limiting".into()),
                ..d()
            }),
            vec![t5.id],
        ),
        (
            "text no match",
            f(TaskFilter {
                text: Some("kubernetes".into()),
                ..d()
            }),
            vec![],
        ),
        (
            "text with operators",
            f(TaskFilter {
                text: Some("login\" OR \"x".into()),
                ..d()
            }),
            vec![],
        ),
        (
            "text all projects",
            TaskFilter {
                text: Some("login".into()),
                ..d()
            },
            vec![t1.id, t2.id, t3.id, other.id],
        ),
        (
            "tag api all projects",
            TaskFilter {
                tag: Some("api".into()),
                ..d()
            },
            vec![t2.id, t5.id, other.id],
        ),
        (
            "ready",
            f(TaskFilter { ready: true, ..d() }),
            vec![t2.id, t5.id],
        ),
        (
            "blocked",
            f(TaskFilter {
                blocked: true,
                ..d()
            }),
            vec![t1.id, t4.id],
        ),
        (
            "owner ana and status todo",
            f(TaskFilter {
                owner: Some("ana".into()),
                status: vec![Status::Todo],
                ..d()
            }),
            vec![t1.id],
        ),
        (
            "tag api and ready",
            f(TaskFilter {
                tag: Some("api".into()),
                ready: true,
                ..d()
            }),
            vec![t2.id, t5.id],
        ),
    ];
    for (what, filter, want) in cases {
        let page = store
            .list_tasks(&filter, PageRequest::default())
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(ids(&page.items), want, "{what}");
        assert_eq!(page.total, want.len() as i64, "{what}: total");
        assert_eq!(page.next, None, "{what}: next");
    }
    // Ready and blocked need a project.
    assert!(matches!(
        store
            .list_tasks(&TaskFilter { ready: true, ..d() }, PageRequest::default())
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(ids(&store.ready(p.id, 10).await.unwrap()), [t2.id, t5.id]);

    // Search follows edits and deletions.
    store
        .update_task(
            "alice",
            t4.id,
            None,
            TaskPatch {
                title: Some("Deploy staging cluster".into()),
                ..TaskPatch::default()
            },
        )
        .await
        .unwrap();
    let text = |s: &str| TaskFilter {
        text: Some(s.into()),
        ..in_project(p.id)
    };
    assert_eq!(ids(&all_tasks(store, &text("cluster")).await), [t4.id]);
    assert!(all_tasks(store, &text("server")).await.is_empty());
    store.delete_task("alice", t3.id, None).await.unwrap();
    assert_eq!(ids(&all_tasks(store, &text("login")).await), [t1.id, t2.id]);
    // Tags follow edits.
    store
        .update_task(
            "alice",
            t5.id,
            None,
            TaskPatch {
                tags: Some(vec!["docs".into()]),
                ..TaskPatch::default()
            },
        )
        .await
        .unwrap();
    let tag = |s: &str| TaskFilter {
        tag: Some(s.into()),
        ..in_project(p.id)
    };
    assert_eq!(ids(&all_tasks(store, &tag("api")).await), [t2.id]);
    assert_eq!(ids(&all_tasks(store, &tag("docs")).await), [t5.id]);

    // Plan, section and seed-wide filters on seed 000 and seed 003.
    let (s, r) = project_with_seed(store, "seed filters", SEED_000).await;
    let plan_tasks = all_tasks(store, &in_plan(r.plan_id)).await;
    assert_eq!(plan_tasks.len(), 105);
    let s7 = plan_tasks.iter().find(|t| t.key == "Step 7").unwrap();
    let section = TaskFilter {
        section_id: s7.section_id,
        ..TaskFilter::default()
    };
    let in_week_2 = all_tasks(store, &section).await;
    assert_eq!(
        keys(&in_week_2),
        ["Step 6", "Step 7", "Step 8", "Step 9", "Step 10"]
    );
    assert!(
        in_week_2
            .iter()
            .all(|t| t.section.as_deref() == Some(WEEK_2))
    );
    let done = all_tasks(
        store,
        &TaskFilter {
            status: vec![Status::Done],
            ..in_plan(r.plan_id)
        },
    )
    .await;
    assert_eq!(done.len(), 11);
    let caching = all_tasks(
        store,
        &TaskFilter {
            text: Some("caching".into()),
            ..in_plan(r.plan_id)
        },
    )
    .await;
    assert_eq!(keys(&caching), ["Step 13", "Step 35", "Step 70"]);
    let blocked = all_tasks(
        store,
        &TaskFilter {
            blocked: true,
            ..in_project(s.id)
        },
    )
    .await;
    assert_eq!(keys(&blocked), ["Step 8", "Step 10"]);
    let ready = all_tasks(
        store,
        &TaskFilter {
            ready: true,
            plan_id: Some(r.plan_id),
            ..in_project(s.id)
        },
    )
    .await;
    assert_eq!(ready.len(), 92);

    // Seed 003 writes owners as `**Owner:** DevOps | ...`: six tasks are DevOps'.
    let (o, r3) = project_with_seed(store, "owners", SEED_003).await;
    let devops = all_tasks(
        store,
        &TaskFilter {
            owner: Some("DevOps".into()),
            ..in_project(o.id)
        },
    )
    .await;
    assert_eq!(devops.len(), 6);
    let parsed = taskman_markdown::parse(SEED_003).plan;
    let want: Vec<&str> = parsed
        .tasks
        .iter()
        .filter(|t| t.owner.as_deref() == Some("DevOps"))
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(keys(&devops), want);
    for pr in [
        Priority::Critical,
        Priority::High,
        Priority::Medium,
        Priority::Low,
    ] {
        let got = all_tasks(
            store,
            &TaskFilter {
                priority: Some(pr),
                ..in_plan(r3.plan_id)
            },
        )
        .await;
        let want: Vec<&str> = parsed
            .tasks
            .iter()
            .filter(|t| t.priority == Some(pr))
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(keys(&got), want, "seed 003 priority {pr:?}");
    }
}

/// Keyset pagination: pages of 7 over seed 000's 105 tasks.
async fn check_pagination(store: &Store) {
    let (p, _) = project_with_seed(store, "pages", SEED_000).await;
    let full = all_tasks(store, &in_project(p.id)).await;
    assert_eq!(full.len(), 105);
    assert!(full.windows(2).all(|w| w[0].id < w[1].id), "ordered by id");

    for (filter, count) in [
        (in_project(p.id), 105usize),
        (
            TaskFilter {
                status: vec![Status::Todo],
                ..in_project(p.id)
            },
            93,
        ),
    ] {
        let mut got: Vec<TaskRecord> = Vec::new();
        let mut after = None;
        let mut pages = 0;
        loop {
            let page = store
                .list_tasks(&filter, PageRequest { after, limit: 7 })
                .await
                .unwrap();
            pages += 1;
            assert_eq!(page.total, count as i64, "total on every page");
            assert!(page.items.len() <= 7);
            got.extend(page.items.iter().cloned());
            match page.next {
                Some(n) => {
                    assert_eq!(page.items.len(), 7, "only the last page is short");
                    assert_eq!(Some(n), page.items.last().map(|t| t.id));
                    after = Some(n);
                }
                None => break,
            }
            assert!(pages <= 100, "pagination does not end");
        }
        assert_eq!(pages, count.div_ceil(7));
        assert_eq!(got.len(), count);
        let unique: HashSet<i64> = got.iter().map(|t| t.id).collect();
        assert_eq!(unique.len(), count, "no duplicates");
        let want: Vec<TaskRecord> = full
            .iter()
            .filter(|t| filter.status.is_empty() || filter.status.contains(&t.status))
            .cloned()
            .collect();
        assert_eq!(got, want, "the pages together are the whole list");
    }
    // Past the end.
    let last = full.last().unwrap().id;
    let page = store
        .list_tasks(
            &in_project(p.id),
            PageRequest {
                after: Some(last),
                limit: 7,
            },
        )
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert_eq!((page.next, page.total), (None, 105));
}

// ---------------------------------------------------------------------------------------
// Dependencies

async fn check_dependencies(store: &Store) {
    let p = store.create_project("alice", "deps", "").await.unwrap();
    let a = new_task(store, "alice", p.id, "A").await;
    let b = new_task(store, "alice", p.id, "B").await;
    let c = new_task(store, "alice", p.id, "C").await;
    assert_eq!(
        ids(&store.ready(p.id, 10).await.unwrap()),
        [a.id, b.id, c.id]
    );
    assert!(store.blocked(p.id).await.unwrap().is_empty());

    let a2 = store.add_dependency("alice", a.id, b.id).await.unwrap();
    assert_eq!(a2.depends_on, [b.id]);
    assert_eq!(a2.version, a.version + 1);
    assert_eq!(ids(&store.ready(p.id, 10).await.unwrap()), [b.id, c.id]);
    let blocked = store.blocked(p.id).await.unwrap();
    assert_eq!(blocked.len(), 1);
    assert_eq!(
        (blocked[0].task.id, blocked[0].blocked_by.clone()),
        (a.id, vec![b.id])
    );

    // B -> A closes A -> B -> A.
    match store.add_dependency("alice", b.id, a.id).await {
        Err(StoreError::Cycle(cycle)) => assert_eq!(cycle, [b.id, a.id, b.id]),
        other => panic!("B -> A: expected Cycle, got {other:?}"),
    }
    // A longer one: B -> C, then C -> A closes C -> A -> B -> C.
    store.add_dependency("alice", b.id, c.id).await.unwrap();
    match store.add_dependency("alice", c.id, a.id).await {
        Err(StoreError::Cycle(cycle)) => assert_eq!(cycle, [c.id, a.id, b.id, c.id]),
        other => panic!("C -> A: expected Cycle, got {other:?}"),
    }
    // A task cannot wait on itself.
    match store.add_dependency("alice", c.id, c.id).await {
        Err(StoreError::Cycle(_) | StoreError::Invalid(_)) => {}
        other => panic!("C -> C: expected refusal, got {other:?}"),
    }
    assert!(store.get_task(c.id).await.unwrap().depends_on.is_empty());
    assert_eq!(store.get_task(b.id).await.unwrap().depends_on, [c.id]);
    // Unknown tasks, other projects.
    assert!(matches!(
        store.add_dependency("alice", a.id, 999_999).await,
        Err(StoreError::NotFound { .. })
    ));
    let q = store
        .create_project("alice", "deps elsewhere", "")
        .await
        .unwrap();
    let x = new_task(store, "alice", q.id, "X").await;
    assert!(matches!(
        store.add_dependency("alice", a.id, x.id).await,
        Err(StoreError::Invalid(_))
    ));
    // Adding the same dependency twice is harmless.
    store.add_dependency("alice", a.id, b.id).await.unwrap();
    assert_eq!(store.get_task(a.id).await.unwrap().depends_on, [b.id]);

    // Now C is the only ready task; B waits on C, A on B.
    assert_eq!(ids(&store.ready(p.id, 10).await.unwrap()), [c.id]);
    let blocked: Vec<(i64, Vec<i64>)> = store
        .blocked(p.id)
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.task.id, b.blocked_by))
        .collect();
    assert_eq!(blocked, [(a.id, vec![b.id]), (b.id, vec![c.id])]);

    // Closing C frees B.
    store
        .update_task("alice", c.id, None, TaskPatch::status(Status::Done))
        .await
        .unwrap();
    assert_eq!(ids(&store.ready(p.id, 10).await.unwrap()), [b.id]);
    // Removing A -> B frees A.
    let a3 = store.remove_dependency("alice", a.id, b.id).await.unwrap();
    assert!(a3.depends_on.is_empty());
    assert!(a3.version > a2.version);
    assert_eq!(ids(&store.ready(p.id, 10).await.unwrap()), [a.id, b.id]);
    assert!(store.blocked(p.id).await.unwrap().is_empty());
    assert!(matches!(
        store.remove_dependency("alice", a.id, b.id).await,
        Err(StoreError::NotFound { .. })
    ));
    // With A -> B gone, B -> A is no cycle any more.
    store.add_dependency("alice", b.id, a.id).await.unwrap();
    assert_eq!(ids(&store.ready(p.id, 10).await.unwrap()), [a.id]);

    // A subtask waits on what its parent waits on.
    let parent = new_task(store, "alice", p.id, "Parent").await;
    let child = store
        .create_task(
            "alice",
            p.id,
            NewTask {
                title: "Child".into(),
                parent_id: Some(parent.id),
                ..NewTask::default()
            },
        )
        .await
        .unwrap();
    let blocker = new_task(store, "alice", p.id, "Blocker").await;
    store
        .add_dependency("alice", parent.id, blocker.id)
        .await
        .unwrap();
    let blocked: HashMap<i64, Vec<i64>> = store
        .blocked(p.id)
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.task.id, b.blocked_by))
        .collect();
    assert_eq!(blocked.get(&parent.id), Some(&vec![blocker.id]));
    assert_eq!(
        blocked.get(&child.id),
        Some(&vec![blocker.id]),
        "through its parent"
    );
    let ready = ids(&store.ready(p.id, 10).await.unwrap());
    assert!(!ready.contains(&parent.id) && !ready.contains(&child.id));
    assert!(ready.contains(&blocker.id));

    // Deleting a prerequisite frees what waited on it.
    store.delete_task("alice", blocker.id, None).await.unwrap();
    assert!(
        store
            .get_task(parent.id)
            .await
            .unwrap()
            .depends_on
            .is_empty()
    );
    let ready = ids(&store.ready(p.id, 10).await.unwrap());
    assert!(ready.contains(&parent.id) && ready.contains(&child.id));

    let ev = all_events(store, &task_events(a.id)).await;
    let acts = actions(&ev);
    assert_eq!(acts[0], "task.created");
    assert_eq!(
        acts.iter().filter(|a| **a == "dependency.removed").count(),
        1
    );
    let added = ev.iter().find(|e| e.action == "dependency.added").unwrap();
    assert_eq!(
        added.after,
        Some(json!({ "task_id": a.id, "depends_on": b.id }))
    );
    let removed = ev
        .iter()
        .find(|e| e.action == "dependency.removed")
        .unwrap();
    assert_eq!(
        removed.before,
        Some(json!({ "task_id": a.id, "depends_on": b.id }))
    );
}

// ---------------------------------------------------------------------------------------
// Sprints, action lists, users and keys

async fn check_sprints(store: &Store) {
    let p = store.create_project("alice", "sprints", "").await.unwrap();
    let q = store
        .create_project("alice", "not this one", "")
        .await
        .unwrap();
    let a = new_task(store, "alice", p.id, "A").await;
    let b = new_task(store, "alice", p.id, "B").await;
    let x = new_task(store, "alice", q.id, "X").await;
    let sprint = |name: &str, starts: &str, ends: &str| NewSprint {
        name: name.into(),
        starts_on: starts.into(),
        ends_on: ends.into(),
        goal: "ship it".into(),
    };
    let s = store
        .create_sprint(
            "alice",
            p.id,
            sprint("Sprint 1", "2026-11-23", "2026-12-06"),
        )
        .await
        .unwrap();
    assert_eq!(s.project_id, p.id);
    assert_eq!(
        (
            s.name.as_str(),
            s.starts_on.as_str(),
            s.ends_on.as_str(),
            s.goal.as_str()
        ),
        ("Sprint 1", "2026-11-23", "2026-12-06", "ship it")
    );
    assert_eq!((s.closed_at.clone(), s.version), (None, 1));
    assert!(s.task_ids.is_empty());

    let s1 = store.sprint_task("alice", s.id, a.id, true).await.unwrap();
    assert_eq!(s1.task_ids, [a.id]);
    assert!(s1.version > s.version);
    let s2 = store.sprint_task("alice", s.id, b.id, true).await.unwrap();
    assert_eq!(s2.task_ids, [a.id, b.id]);
    let s3 = store.sprint_task("alice", s.id, a.id, true).await.unwrap();
    assert_eq!(s3.task_ids, [a.id, b.id], "adding twice keeps one");
    let s4 = store.sprint_task("alice", s.id, b.id, false).await.unwrap();
    assert_eq!(s4.task_ids, [a.id]);
    assert!(matches!(
        store.sprint_task("alice", s.id, x.id, true).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.sprint_task("alice", s.id, 999_999, true).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.sprint_task("alice", 999_999, a.id, true).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store
            .create_sprint(
                "alice",
                p.id,
                sprint("Backwards", "2026-12-06", "2026-11-23")
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .create_sprint("alice", p.id, sprint("", "2026-11-23", "2026-12-06"))
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .create_sprint(
                "alice",
                p.id,
                sprint("Sprint 1", "2027-01-04", "2027-01-15")
            )
            .await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        store
            .create_sprint("alice", 999_999, sprint("S", "2026-11-23", "2026-12-06"))
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let second = store
        .create_sprint(
            "alice",
            p.id,
            sprint("Sprint 2", "2026-12-07", "2026-12-20"),
        )
        .await
        .unwrap();
    let current = store.list_sprints(p.id).await.unwrap();
    assert_eq!(current.len(), 2);
    assert_eq!(current[0], s4);
    assert_eq!(current[1], second);
    assert!(store.list_sprints(q.id).await.unwrap().is_empty());

    // Closing: against an old version refused; then closed; a closed sprint takes no task.
    match store.close_sprint("alice", s.id, Some(s.version)).await {
        Err(StoreError::VersionConflict {
            entity,
            expected,
            current,
            ..
        }) => assert_eq!(
            (entity, expected, current),
            ("sprint", s.version, s4.version)
        ),
        other => panic!("stale close: expected VersionConflict, got {other:?}"),
    }
    let closed = store
        .close_sprint("alice", s.id, Some(s4.version))
        .await
        .unwrap();
    assert_eq!(closed.closed_at.as_deref(), Some(FIXED));
    assert_eq!(closed.task_ids, [a.id]);
    assert_eq!(closed.version, s4.version + 1);
    assert!(matches!(
        store.sprint_task("alice", s.id, b.id, true).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.sprint_task("alice", s.id, a.id, false).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.list_sprints(p.id).await.unwrap()[0], closed);

    // A deleted task leaves the sprint.
    store.delete_task("alice", a.id, None).await.unwrap();
    assert!(
        store.list_sprints(p.id).await.unwrap()[0]
            .task_ids
            .is_empty()
    );

    let ev = all_events(store, &project_events(p.id)).await;
    let sprint_actions: Vec<&str> = actions(&ev)
        .into_iter()
        .filter(|a| a.starts_with("sprint."))
        .collect();
    assert_eq!(
        sprint_actions,
        [
            "sprint.created",
            "sprint.task_added",
            "sprint.task_added",
            "sprint.task_added",
            "sprint.task_removed",
            "sprint.created",
            "sprint.closed"
        ]
    );
}

async fn check_action_lists(store: &Store) {
    let p = store.create_project("alice", "actions", "").await.unwrap();
    let l = store
        .create_action_list("alice", Some(p.id), "Retro actions")
        .await
        .unwrap();
    assert_eq!(
        (l.project_id, l.name.as_str(), l.version),
        (Some(p.id), "Retro actions", 1)
    );
    assert!(l.items.is_empty());
    let g = store
        .create_action_list("alice", None, "Personal")
        .await
        .unwrap();
    assert_eq!(g.project_id, None);

    let i1 = store
        .add_action_item("alice", l.id, "Book room", Some("ana"), Some("2026-11-30"))
        .await
        .unwrap();
    assert_eq!(i1.list_id, l.id);
    assert_eq!(
        (
            i1.title.as_str(),
            i1.owner.as_deref(),
            i1.due.as_deref(),
            i1.done
        ),
        ("Book room", Some("ana"), Some("2026-11-30"), false)
    );
    assert_eq!((i1.position, i1.version), (0, 1));
    let i2 = store
        .add_action_item("alice", l.id, "Send notes", None, None)
        .await
        .unwrap();
    assert_eq!(
        (i2.position, i2.owner.clone(), i2.due.clone()),
        (1, None, None)
    );

    let i1b = store
        .update_action_item(
            "bob",
            i1.id,
            Some(1),
            ActionItemPatch {
                done: Some(true),
                ..ActionItemPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (i1b.done, i1b.version, i1b.title.as_str()),
        (true, 2, "Book room")
    );
    match store
        .update_action_item(
            "carol",
            i1.id,
            Some(1),
            ActionItemPatch {
                done: Some(false),
                ..ActionItemPatch::default()
            },
        )
        .await
    {
        Err(StoreError::VersionConflict {
            entity,
            id,
            expected,
            current,
        }) => assert_eq!(
            (entity, id, expected, current),
            ("action item", i1.id, 1, 2)
        ),
        other => panic!("stale action item update: expected VersionConflict, got {other:?}"),
    }
    let i1c = store
        .update_action_item(
            "bob",
            i1.id,
            Some(2),
            ActionItemPatch {
                title: Some("Book the big room".into()),
                owner: Some(None),
                ..ActionItemPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (i1c.title.as_str(), i1c.owner.clone(), i1c.done, i1c.version),
        ("Book the big room", None, true, 3)
    );
    assert_eq!(i1c.due.as_deref(), Some("2026-11-30"));
    assert!(matches!(
        store
            .update_action_item(
                "bob",
                i1.id,
                None,
                ActionItemPatch {
                    title: Some(String::new()),
                    ..ActionItemPatch::default()
                }
            )
            .await,
        Err(StoreError::Invalid(_))
    ));

    let lists = store.list_action_lists(Some(p.id)).await.unwrap();
    assert_eq!(lists.len(), 1);
    assert_eq!(
        (lists[0].id, lists[0].items.clone()),
        (l.id, vec![i1c.clone(), i2.clone()])
    );
    let all: Vec<i64> = store
        .list_action_lists(None)
        .await
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(all, [l.id, g.id]);

    match store.delete_action_item("alice", i2.id, Some(5)).await {
        Err(StoreError::VersionConflict {
            expected, current, ..
        }) => assert_eq!((expected, current), (5, 1)),
        other => panic!("stale action item delete: expected VersionConflict, got {other:?}"),
    }
    store
        .delete_action_item("alice", i2.id, Some(1))
        .await
        .unwrap();
    assert!(matches!(
        store.delete_action_item("alice", i2.id, None).await,
        Err(StoreError::NotFound { .. })
    ));
    let items = store.list_action_lists(Some(p.id)).await.unwrap()[0]
        .items
        .clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0], i1c);
    // The next item goes after the last one.
    let i3 = store
        .add_action_item("alice", l.id, "Follow up", None, None)
        .await
        .unwrap();
    assert!(i3.position > i1c.position);

    assert!(matches!(
        store
            .add_action_item("alice", 999_999, "x", None, None)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.add_action_item("alice", l.id, " ", None, None).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.create_action_list("alice", Some(p.id), "").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.create_action_list("alice", Some(999_999), "x").await,
        Err(StoreError::NotFound { .. })
    ));
    store.delete_action_list("alice", g.id).await.unwrap();
    assert!(matches!(
        store.delete_action_list("alice", g.id).await,
        Err(StoreError::NotFound { .. })
    ));
    let all: Vec<i64> = store
        .list_action_lists(None)
        .await
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(all, [l.id]);
    // Deleting a list takes its items.
    store.delete_action_list("alice", l.id).await.unwrap();
    assert!(matches!(
        store
            .update_action_item("bob", i1.id, None, ActionItemPatch::default())
            .await,
        Err(StoreError::NotFound { .. })
    ));

    let ev = all_events(store, &project_events(p.id)).await;
    let upd = ev
        .iter()
        .find(|e| e.action == "action_item.updated")
        .unwrap();
    assert_eq!(upd.actor, "bob");
    assert_eq!(upd.before.as_ref().unwrap()["done"], false);
    assert_eq!(upd.after.as_ref().unwrap()["done"], true);
}

/// Several servers starting at once on an empty database (each its own store, so its own
/// pool or writer) all try to make the first admin: exactly one does, with its key, and
/// the others are told a user exists (no error, no second admin). Done again, nobody does.
async fn check_first_admin_once(db: &TestDb) {
    let stores = [
        db.open().await,
        db.open().await,
        db.open().await,
        db.open().await,
    ];
    let first = |i: usize| {
        let store = &stores[i];
        async move {
            store
                .create_first_admin(
                    "bootstrap",
                    "admin",
                    "bootstrap",
                    &format!("tm_0000000{i}"),
                    &format!("hash-{i}"),
                )
                .await
        }
    };
    let (a, b, c, d) = tokio::join!(first(0), first(1), first(2), first(3));
    let results = [a, b, c, d];
    let made: Vec<usize> = (0..4)
        .filter(|i| matches!(results[*i], Ok(Some(_))))
        .collect();
    assert_eq!(made.len(), 1, "exactly one admin is made: {results:?}");
    assert!(
        results.iter().all(|r| matches!(r, Ok(Some(_)) | Ok(None))),
        "the others are told a user exists: {results:?}"
    );
    let winner = made[0];
    let Ok(Some((admin, key))) = &results[winner] else {
        unreachable!()
    };
    assert_eq!((admin.name.as_str(), admin.role), ("admin", Role::Admin));
    assert_eq!(key.user_id, admin.id);
    let store = &stores[0];
    assert_eq!(
        store.list_users().await.unwrap(),
        std::slice::from_ref(admin)
    );
    for i in 0..4 {
        let found = store
            .api_key_by_prefix(&format!("tm_0000000{i}"))
            .await
            .unwrap();
        assert_eq!(
            found.map(|(k, u)| (k.hash, u.id)),
            (i == winner).then(|| (format!("hash-{i}"), admin.id)),
            "key {i}"
        );
    }
    assert_eq!(
        store
            .create_first_admin("bootstrap", "admin", "bootstrap", "tm_0000000f", "h")
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.list_users().await.unwrap().len(), 1);
}

async fn check_users_and_api_keys(store: &Store) {
    let root = store
        .create_user("cli:root", "root", Role::Admin)
        .await
        .unwrap();
    assert_eq!((root.name.as_str(), root.role), ("root", Role::Admin));
    assert_eq!(root.created_at, FIXED);
    let vera = store
        .create_user("cli:root", "vera", Role::Viewer)
        .await
        .unwrap();
    let mo = store.create_user("root", "mo", Role::Member).await.unwrap();
    assert_eq!(
        store.list_users().await.unwrap(),
        [root.clone(), vera.clone(), mo]
    );
    assert!(matches!(
        store.create_user("cli:root", "root", Role::Member).await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        store.create_user("cli:root", "", Role::Member).await,
        Err(StoreError::Invalid(_))
    ));

    let k = store
        .create_api_key(
            "cli:root",
            root.id,
            "laptop",
            "tm_4f2a9c",
            "argon2-hash-one",
        )
        .await
        .unwrap();
    assert_eq!(
        (k.user_id, k.name.as_str(), k.prefix.as_str()),
        (root.id, "laptop", "tm_4f2a9c")
    );
    assert_eq!(k.hash, "argon2-hash-one");
    assert_eq!((k.created_at.as_str(), k.revoked_at.clone()), (FIXED, None));
    let kv = store
        .create_api_key("cli:root", vera.id, "ci", "tm_77e0b1", "argon2-hash-two")
        .await
        .unwrap();
    assert_eq!(
        store.api_key_by_prefix("tm_4f2a9c").await.unwrap(),
        Some((k.clone(), root.clone()))
    );
    assert_eq!(
        store.api_key_by_prefix("tm_77e0b1").await.unwrap(),
        Some((kv.clone(), vera.clone()))
    );
    assert_eq!(store.api_key_by_prefix("tm_nope").await.unwrap(), None);
    assert!(matches!(
        store
            .create_api_key("cli:root", vera.id, "again", "tm_4f2a9c", "h")
            .await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        store
            .create_api_key("cli:root", 999_999, "ghost", "tm_ghost", "h")
            .await,
        Err(StoreError::NotFound { .. })
    ));

    store.revoke_api_key("cli:root", k.id).await.unwrap();
    let (revoked, user) = store.api_key_by_prefix("tm_4f2a9c").await.unwrap().unwrap();
    assert_eq!(user, root);
    assert_eq!(revoked.revoked_at.as_deref(), Some(FIXED));
    assert_eq!(
        (revoked.id, revoked.hash.as_str()),
        (k.id, "argon2-hash-one")
    );
    assert!(matches!(
        store.revoke_api_key("cli:root", k.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.revoke_api_key("cli:root", 999_999).await,
        Err(StoreError::NotFound { .. })
    ));
    // The other key is untouched.
    assert_eq!(
        store.api_key_by_prefix("tm_77e0b1").await.unwrap(),
        Some((kv, vera))
    );

    // The log says who made which key, never the secret's hash.
    let ev = all_events(
        store,
        &EventFilter {
            actor: Some("cli:root".into()),
            ..EventFilter::default()
        },
    )
    .await;
    assert_eq!(
        actions(&ev),
        [
            "user.created",
            "user.created",
            "api_key.created",
            "api_key.created",
            "api_key.revoked"
        ]
    );
    assert_eq!(ev[2].after.as_ref().unwrap()["prefix"], "tm_4f2a9c");
    for e in &all_events(store, &EventFilter::default()).await {
        let text = format!("{:?} {:?}", e.before, e.after);
        assert!(
            !text.contains("argon2-hash"),
            "event {} holds a key hash: {text}",
            e.action
        );
    }
}

// ---------------------------------------------------------------------------------------
// Events

/// A series of changes, read back by project, task, actor, with exact before/after.
async fn check_events(store: &Store) {
    let p = store.create_project("alice", "events", "").await.unwrap();
    let t1 = new_task(store, "alice", p.id, "First").await;
    let t2 = new_task(store, "alice", p.id, "Second").await;
    store
        .update_task("bob", t1.id, Some(1), TaskPatch::status(Status::Done))
        .await
        .unwrap();
    store
        .update_task(
            "bob",
            t2.id,
            Some(1),
            TaskPatch {
                title: Some("Second, renamed".into()),
                owner: Some(Some("ana".into())),
                ..TaskPatch::default()
            },
        )
        .await
        .unwrap();
    store.add_dependency("alice", t2.id, t1.id).await.unwrap();
    store
        .remove_dependency("carol", t2.id, t1.id)
        .await
        .unwrap();
    let t2_now = store.get_task(t2.id).await.unwrap();
    store
        .delete_task("alice", t2.id, Some(t2_now.version))
        .await
        .unwrap();
    let q = store.create_project("dave", "other", "").await.unwrap();

    let all = all_events(store, &EventFilter::default()).await;
    assert_eq!(all.len(), 9);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "in order");
    assert!(all.iter().all(|e| e.at == FIXED));

    let ev = all_events(store, &project_events(p.id)).await;
    assert_eq!(
        actions(&ev),
        [
            "project.created",
            "task.created",
            "task.created",
            "task.status_changed",
            "task.updated",
            "dependency.added",
            "dependency.removed",
            "task.deleted"
        ]
    );
    assert!(ev.iter().all(|e| e.project_id == Some(p.id)));
    assert_eq!(ev[0].task_id, None);
    assert_eq!(ev[0].before, None);
    assert_eq!(ev[0].after.as_ref().unwrap()["name"], "events");

    // Exact before/after of a status change and of an edit: only the fields that changed.
    let status = &ev[3];
    assert_eq!(
        (status.actor.as_str(), status.task_id),
        ("bob", Some(t1.id))
    );
    assert_eq!(status.before, Some(json!({ "status": "todo" })));
    assert_eq!(status.after, Some(json!({ "status": "done" })));
    let edit = &ev[4];
    assert_eq!(edit.task_id, Some(t2.id));
    assert_eq!(
        edit.before,
        Some(json!({ "title": "Second", "owner": null }))
    );
    assert_eq!(
        edit.after,
        Some(json!({ "title": "Second, renamed", "owner": "ana" }))
    );
    // Creation holds the record; deletion holds what was deleted.
    let created = &ev[1];
    assert_eq!(created.before, None);
    assert_eq!(created.after.as_ref().unwrap()["title"], "First");
    assert_eq!(created.after.as_ref().unwrap()["id"], json!(t1.id));
    let deleted = &ev[7];
    assert_eq!(deleted.after, None);
    assert_eq!(deleted.before.as_ref().unwrap()["title"], "Second, renamed");
    assert_eq!(deleted.before.as_ref().unwrap()["owner"], "ana");

    let ev = all_events(store, &task_events(t2.id)).await;
    assert_eq!(
        actions(&ev),
        [
            "task.created",
            "task.updated",
            "dependency.added",
            "dependency.removed",
            "task.deleted"
        ]
    );
    let by = |actor: &str| EventFilter {
        actor: Some(actor.into()),
        ..EventFilter::default()
    };
    assert_eq!(
        actions(&all_events(store, &by("bob")).await),
        ["task.status_changed", "task.updated"]
    );
    assert_eq!(
        actions(&all_events(store, &by("carol")).await),
        ["dependency.removed"]
    );
    let dave = all_events(store, &by("dave")).await;
    assert_eq!(actions(&dave), ["project.created"]);
    assert_eq!(dave[0].project_id, Some(q.id));
    assert!(all_events(store, &by("nobody")).await.is_empty());
    let bob_on_t1 = all_events(
        store,
        &EventFilter {
            actor: Some("bob".into()),
            task_id: Some(t1.id),
            ..EventFilter::default()
        },
    )
    .await;
    assert_eq!(actions(&bob_on_t1), ["task.status_changed"]);
    // Time bounds: since is inclusive, until exclusive.
    let at = |since: Option<&str>, until: Option<&str>| EventFilter {
        since: since.map(Into::into),
        until: until.map(Into::into),
        ..EventFilter::default()
    };
    assert_eq!(all_events(store, &at(Some(FIXED), None)).await.len(), 9);
    assert!(all_events(store, &at(None, Some(FIXED))).await.is_empty());

    // Pages of 3 over the project's 8 events.
    let mut got = Vec::new();
    let mut after = None;
    let mut sizes = Vec::new();
    loop {
        let page = store
            .events(&project_events(p.id), PageRequest { after, limit: 3 })
            .await
            .unwrap();
        assert_eq!(page.total, 8);
        sizes.push(page.items.len());
        got.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(sizes, [3, 3, 2]);
    assert_eq!(got, all_events(store, &project_events(p.id)).await);
}

/// Three stores over one database, with clocks an hour or so apart: the time bounds.
async fn timeline(db: &TestDb) -> (Store, Project, TaskRecord) {
    let s1 = db.open_at("2026-11-22T10:00:00.000Z").await;
    let p = s1.create_project("alice", "timeline", "").await.unwrap();
    let t = new_task(&s1, "alice", p.id, "walk the dog").await;
    drop(s1);
    let s2 = db.open_at("2026-11-22T11:00:00.000Z").await;
    s2.update_task("bob", t.id, None, TaskPatch::status(Status::InProgress))
        .await
        .unwrap();
    drop(s2);
    let s3 = db.open_at("2026-11-22T12:30:00.000Z").await;
    s3.update_task("carol", t.id, None, TaskPatch::status(Status::Done))
        .await
        .unwrap();
    (s3, p, t)
}

async fn actors_between(
    store: &Store,
    project_id: i64,
    since: Option<&str>,
    until: Option<&str>,
) -> Vec<String> {
    all_events(
        store,
        &EventFilter {
            project_id: Some(project_id),
            since: since.map(Into::into),
            until: until.map(Into::into),
            ..EventFilter::default()
        },
    )
    .await
    .into_iter()
    .map(|e| format!("{}@{}", e.actor, &e.at[11..16]))
    .collect()
}

async fn check_events_time_filter(db: &TestDb) {
    let (store, p, _) = timeline(db).await;
    let all = actors_between(&store, p.id, None, None).await;
    assert_eq!(
        all,
        ["alice@10:00", "alice@10:00", "bob@11:00", "carol@12:30"]
    );
    let cases = [
        (
            Some("2026-11-22T11:00:00.000Z"),
            None,
            vec!["bob@11:00", "carol@12:30"],
        ),
        (
            None,
            Some("2026-11-22T11:00:00.000Z"),
            vec!["alice@10:00", "alice@10:00"],
        ),
        (
            Some("2026-11-22T11:00:00.000Z"),
            Some("2026-11-22T12:30:00.000Z"),
            vec!["bob@11:00"],
        ),
        (
            Some("2026-11-22T10:30:00.000Z"),
            None,
            vec!["bob@11:00", "carol@12:30"],
        ),
        (Some("2026-11-22T12:30:00.000Z"), None, vec!["carol@12:30"]),
        (None, Some("2026-11-22T10:00:00.000Z"), vec![]),
        (Some("2026-11-23T00:00:00.000Z"), None, vec![]),
    ];
    for (since, until, want) in cases {
        assert_eq!(
            actors_between(&store, p.id, since, until).await,
            want,
            "since {since:?} until {until:?}"
        );
    }
}

/// The bounds written as the model documents them (`2026-11-22T00:00:00Z`, whole seconds,
/// no fraction) select the same events.
async fn check_events_time_filter_whole_seconds(db: &TestDb) {
    let (store, p, _) = timeline(db).await;
    let cases = [
        (
            Some("2026-11-22T11:00:00Z"),
            None,
            vec!["bob@11:00", "carol@12:30"],
        ),
        (
            None,
            Some("2026-11-22T12:30:00Z"),
            vec!["alice@10:00", "alice@10:00", "bob@11:00"],
        ),
        (
            Some("2026-11-22T10:30:00Z"),
            None,
            vec!["bob@11:00", "carol@12:30"],
        ),
    ];
    for (since, until, want) in cases {
        assert_eq!(
            actors_between(&store, p.id, since, until).await,
            want,
            "since {since:?} until {until:?}"
        );
    }
}

/// Nothing, not even SQL behind the store's back, edits or deletes an event.
async fn check_events_append_only(db: &TestDb) {
    let store = db.open().await;
    let p = store.create_project("alice", "log", "").await.unwrap();
    let t = new_task(&store, "alice", p.id, "something").await;
    store
        .update_task("bob", t.id, None, TaskPatch::status(Status::Done))
        .await
        .unwrap();
    let before = all_events(&store, &EventFilter::default()).await;
    assert_eq!(before.len(), 3);

    for sql in [
        "UPDATE events SET actor = 'x'",
        "UPDATE events SET before = NULL, after = NULL WHERE action = 'task.status_changed'",
        "DELETE FROM events",
        "DELETE FROM events WHERE actor = 'bob'",
    ] {
        let r = db.raw_execute(sql).await;
        assert!(r.is_err(), "{sql:?} went through: {r:?}");
    }
    assert_eq!(all_events(&store, &EventFilter::default()).await, before);
    // Appending still works.
    store.create_project("alice", "log 2", "").await.unwrap();
    assert_eq!(all_events(&store, &EventFilter::default()).await.len(), 4);
}

// ---------------------------------------------------------------------------------------
// Backup and restore

#[derive(Debug, PartialEq)]
struct Snapshot {
    projects: Vec<Project>,
    plans: Vec<(
        taskman_store::PlanInfo,
        Vec<taskman_store::PlanVersion>,
        Vec<u8>,
    )>,
    tasks: Vec<TaskRecord>,
    progress: Vec<taskman_store::ProjectProgress>,
    sprints: Vec<taskman_store::Sprint>,
    action_lists: Vec<taskman_store::ActionList>,
    users: Vec<taskman_store::User>,
    keys: Vec<Option<(taskman_store::ApiKey, taskman_store::User)>>,
    migrations: Vec<taskman_store::Applied>,
}

async fn snapshot(store: &Store, key_prefixes: &[&str]) -> Snapshot {
    let projects = store.list_projects().await.unwrap();
    let mut plans = Vec::new();
    let mut tasks = Vec::new();
    let mut progress = Vec::new();
    let mut sprints = Vec::new();
    for p in &projects {
        for plan in store.list_plans(p.id).await.unwrap() {
            let versions = store.plan_versions(plan.id).await.unwrap();
            let source = store.plan_source(plan.id, None).await.unwrap();
            plans.push((plan, versions, source));
        }
        tasks.extend(all_tasks(store, &in_project(p.id)).await);
        progress.push(store.progress(p.id).await.unwrap());
        sprints.extend(store.list_sprints(p.id).await.unwrap());
    }
    let mut keys = Vec::new();
    for k in key_prefixes {
        keys.push(store.api_key_by_prefix(k).await.unwrap());
    }
    Snapshot {
        projects,
        plans,
        tasks,
        progress,
        sprints,
        action_lists: store.list_action_lists(None).await.unwrap(),
        users: store.list_users().await.unwrap(),
        keys,
        migrations: store.migrations().await.unwrap(),
    }
}

async fn check_backup_restore(db: &TestDb) {
    let store = db.open().await;
    // Fill.
    let (p, r) = project_with_seed(&store, "backed up", SEED_000).await;
    let s9 = task_by_key(&store, r.plan_id, "Step 9").await;
    store
        .update_task("alice", s9.id, None, TaskPatch::status(Status::InProgress))
        .await
        .unwrap();
    let b = store.create_project("alice", "small", "").await.unwrap();
    let bt = new_task(&store, "alice", b.id, "tiny").await;
    let sprint = store
        .create_sprint(
            "alice",
            p.id,
            NewSprint {
                name: "Sprint 1".into(),
                starts_on: "2026-11-23".into(),
                ends_on: "2026-12-06".into(),
                goal: String::new(),
            },
        )
        .await
        .unwrap();
    store
        .sprint_task("alice", sprint.id, s9.id, true)
        .await
        .unwrap();
    let list = store
        .create_action_list("alice", Some(p.id), "retro")
        .await
        .unwrap();
    store
        .add_action_item("alice", list.id, "book room", Some("ana"), None)
        .await
        .unwrap();
    let user = store.create_user("cli", "root", Role::Admin).await.unwrap();
    let key = store
        .create_api_key("cli", user.id, "laptop", "tm_backup1", "hash")
        .await
        .unwrap();
    // A request carried out before the backup, with its response kept.
    let kept = stored(201, ODD_BODY);
    assert_eq!(
        store.idempotency_begin(9, "before", "fp").await.unwrap(),
        IdempotencyBegin::Started
    );
    store
        .idempotency_finish(9, "before", kept.clone())
        .await
        .unwrap();
    let prefixes = ["tm_backup1", "tm_backup2"];
    let saved = snapshot(&store, &prefixes).await;
    let saved_events = all_events(&store, &EventFilter::default()).await;
    assert_eq!(saved.tasks.len(), 106);

    let dest = db.scratch_path("backup");
    store.backup(&dest).await.expect("backup");
    assert!(dest.exists(), "the backup file was written");
    assert!(
        matches!(store.backup(&dest).await, Err(StoreError::Invalid(_))),
        "a backup never overwrites"
    );

    // Change everything.
    store
        .update_task("bob", s9.id, None, TaskPatch::status(Status::Done))
        .await
        .unwrap();
    store.delete_project("bob", b.id, None).await.unwrap();
    store.create_project("bob", "new since", "").await.unwrap();
    let ticked = replace_once(
        SEED_000,
        "- [ ] Step 14: Fix N+1 Query Problems",
        "- [x] Step 14: Fix N+1 Query Problems",
    );
    store
        .import_plan("bob", p.id, "plan.md", ticked.clone())
        .await
        .unwrap();
    store.revoke_api_key("bob", key.id).await.unwrap();
    store
        .create_user("bob", "intruder", Role::Member)
        .await
        .unwrap();
    store
        .create_api_key("bob", user.id, "phone", "tm_backup2", "hash2")
        .await
        .unwrap();
    store.close_sprint("bob", sprint.id, None).await.unwrap();
    store.delete_action_list("bob", list.id).await.unwrap();
    assert_eq!(
        store.idempotency_begin(9, "after", "fp").await.unwrap(),
        IdempotencyBegin::Started
    );
    store
        .idempotency_finish(9, "after", stored(201, b"after"))
        .await
        .unwrap();
    assert_ne!(snapshot(&store, &prefixes).await, saved);

    // Restore: the data is the data at backup time.
    store.restore(&dest).await.expect("restore");
    let restored = snapshot(&store, &prefixes).await;
    assert_eq!(restored.projects, saved.projects);
    assert_eq!(restored.tasks, saved.tasks);
    assert_eq!(restored, saved);
    let events = all_events(&store, &EventFilter::default()).await;
    assert!(events.len() >= saved_events.len());
    assert_eq!(
        &events[..saved_events.len()],
        &saved_events[..],
        "the log as it was"
    );
    for e in &events[saved_events.len()..] {
        assert!(
            e.action.contains("restore"),
            "unexpected event after restore: {e:?}"
        );
    }
    assert_eq!(store.get_task(bt.id).await.unwrap(), bt);
    // Idempotency keys come back as they were: the response kept before the backup is
    // replayed byte for byte; the request carried out after it (its effect undone) may run
    // again.
    assert_eq!(
        store.idempotency_begin(9, "before", "fp").await.unwrap(),
        IdempotencyBegin::Replay(kept)
    );
    assert_eq!(
        store.idempotency_begin(9, "after", "fp").await.unwrap(),
        IdempotencyBegin::Started
    );

    // And the restored database takes writes: new rows get new ids.
    let max_project = saved.projects.iter().map(|p| p.id).max().unwrap();
    let max_task = saved.tasks.iter().map(|t| t.id).max().unwrap();
    let np = store
        .create_project("carol", "after restore", "")
        .await
        .unwrap();
    assert!(np.id > max_project, "project id {} reused", np.id);
    let nt = new_task(&store, "carol", np.id, "first after restore").await;
    assert!(nt.id > max_task, "task id {} reused", nt.id);
    store
        .create_user("carol", "intruder", Role::Member)
        .await
        .unwrap();
    let r = store
        .import_plan("carol", p.id, "plan.md", ticked)
        .await
        .unwrap();
    assert_eq!(r.version, 2);
    assert_eq!(r.status_changed.len(), 1);
    assert_eq!(r.status_changed[0].key, "Step 14");
    let last = all_events(&store, &EventFilter::default()).await;
    assert!(last.last().unwrap().id > saved_events.last().unwrap().id);

    // Restoring something that is not a backup is refused and changes nothing.
    let before = snapshot(&store, &prefixes).await;
    let junk = db.scratch_path("junk");
    std::fs::write(&junk, b"this is not a backup").unwrap();
    let r = store.restore(&junk).await;
    assert!(
        matches!(r, Err(StoreError::Invalid(_))),
        "junk restore: {r:?}"
    );
    assert!(store.restore(&db.scratch_path("missing")).await.is_err());
    assert_eq!(snapshot(&store, &prefixes).await, before);
    drop(store);

    // A reopened store sees the restored data too.
    let again = db.open().await;
    assert_eq!(snapshot(&again, &prefixes).await, before);
}

// ---------------------------------------------------------------------------------------
// Sprint and action list edits

async fn check_sprint_get_update(store: &Store) {
    let p = store
        .create_project("alice", "sprint edits", "")
        .await
        .unwrap();
    let new = |name: &str| NewSprint {
        name: name.into(),
        starts_on: "2026-11-23".into(),
        ends_on: "2026-12-06".into(),
        goal: "ship it".into(),
    };
    let s = store
        .create_sprint("alice", p.id, new("Sprint 1"))
        .await
        .unwrap();
    let other = store
        .create_sprint("alice", p.id, new("Sprint 2"))
        .await
        .unwrap();
    assert_eq!(store.get_sprint(s.id).await.unwrap(), s);
    match store.get_sprint(999_999).await {
        Err(StoreError::NotFound { entity, id }) => {
            assert_eq!((entity, id.as_str()), ("sprint", "999999"))
        }
        r => panic!("missing sprint: expected NotFound, got {r:?}"),
    }

    // With the version the caller saw: changed, one version on.
    let s2 = store
        .update_sprint(
            "bob",
            s.id,
            Some(s.version),
            SprintPatch {
                name: Some("Sprint 1b".into()),
                ends_on: Some("2026-12-13".into()),
                ..SprintPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            s2.name.as_str(),
            s2.starts_on.as_str(),
            s2.ends_on.as_str(),
            s2.goal.as_str()
        ),
        ("Sprint 1b", "2026-11-23", "2026-12-13", "ship it")
    );
    assert_eq!((s2.id, s2.project_id), (s.id, p.id));
    assert_eq!(s2.version, s.version + 1);
    assert_eq!(store.get_sprint(s.id).await.unwrap(), s2);
    let s3 = store
        .update_sprint(
            "bob",
            s.id,
            None,
            SprintPatch {
                goal: Some(String::new()),
                ..SprintPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((s3.goal.as_str(), s3.version), ("", s2.version + 1));
    assert_eq!(s3.name, "Sprint 1b");

    // Against an old version: refused, naming both versions; nothing changed.
    match store
        .update_sprint(
            "carol",
            s.id,
            Some(s.version),
            SprintPatch {
                name: Some("late".into()),
                ..SprintPatch::default()
            },
        )
        .await
    {
        Err(StoreError::VersionConflict {
            entity,
            id,
            expected,
            current,
        }) => assert_eq!(
            (entity, id, expected, current),
            ("sprint", s.id, s.version, s3.version)
        ),
        r => panic!("stale sprint update: expected VersionConflict, got {r:?}"),
    }

    // Checked as a new sprint is (the sprint now runs 2026-11-23 to 2026-12-13).
    let bad = [
        ("empty name", Some(" "), None, None),
        ("start after the end", None, Some("2026-12-14"), None),
        ("end before the start", None, None, Some("2026-11-22")),
        ("not ISO", None, Some("23/11/2026"), None),
        ("no such day", None, None, Some("2026-02-30")),
        ("not a date", None, None, Some("soon")),
        (
            "both, backwards",
            None,
            Some("2027-01-04"),
            Some("2027-01-03"),
        ),
    ];
    for (what, name, starts, ends) in bad {
        let r = store
            .update_sprint(
                "carol",
                s.id,
                None,
                SprintPatch {
                    name: name.map(String::from),
                    starts_on: starts.map(String::from),
                    ends_on: ends.map(String::from),
                    goal: None,
                },
            )
            .await;
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{what}: {r:?}");
    }
    for (what, starts, ends) in [
        ("no such day", "2026-11-31", "2026-12-06"),
        ("not ISO", "2026-11-23", "6 Dec 2026"),
    ] {
        let r = store
            .create_sprint(
                "alice",
                p.id,
                NewSprint {
                    starts_on: starts.into(),
                    ends_on: ends.into(),
                    ..new("Sprint 3")
                },
            )
            .await;
        assert!(
            matches!(r, Err(StoreError::Invalid(_))),
            "create, {what}: {r:?}"
        );
    }
    // Another sprint of the project has that name.
    let r = store
        .update_sprint(
            "carol",
            s.id,
            None,
            SprintPatch {
                name: Some(other.name.clone()),
                ..SprintPatch::default()
            },
        )
        .await;
    assert!(matches!(r, Err(StoreError::AlreadyExists(_))), "{r:?}");
    let r = store
        .update_sprint(
            "carol",
            999_999,
            None,
            SprintPatch {
                goal: Some("x".into()),
                ..SprintPatch::default()
            },
        )
        .await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
    // The values it has already: not a change.
    let same = store
        .update_sprint(
            "carol",
            s.id,
            Some(s3.version),
            SprintPatch {
                name: Some(s3.name.clone()),
                ..SprintPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(same, s3);
    assert_eq!(store.get_sprint(s.id).await.unwrap(), s3);
    assert_eq!(store.get_sprint(other.id).await.unwrap(), other);

    // One event per change, with the sprint before and after.
    let ev = all_events(store, &project_events(p.id)).await;
    let upd: Vec<&Event> = ev.iter().filter(|e| e.action == "sprint.updated").collect();
    assert_eq!(upd.len(), 2, "{:?}", actions(&ev));
    let (b, a) = (
        upd[0].before.as_ref().unwrap(),
        upd[0].after.as_ref().unwrap(),
    );
    assert_eq!((upd[0].actor.as_str(), upd[0].at.as_str()), ("bob", FIXED));
    assert_eq!((upd[0].project_id, upd[0].task_id), (Some(p.id), None));
    assert_eq!(
        (&b["name"], &b["ends_on"]),
        (&json!("Sprint 1"), &json!("2026-12-06"))
    );
    assert_eq!(
        (&a["name"], &a["ends_on"]),
        (&json!("Sprint 1b"), &json!("2026-12-13"))
    );
    assert_eq!(
        (&b["version"], &a["version"]),
        (&json!(s.version), &json!(s2.version))
    );
    assert_eq!(
        (
            &upd[1].before.as_ref().unwrap()["goal"],
            &upd[1].after.as_ref().unwrap()["goal"]
        ),
        (&json!("ship it"), &json!(""))
    );
}

async fn check_action_list_get_rename(store: &Store) {
    let p = store
        .create_project("alice", "list edits", "")
        .await
        .unwrap();
    let l = store
        .create_action_list("alice", Some(p.id), "Retro")
        .await
        .unwrap();
    let i1 = store
        .add_action_item("alice", l.id, "Book room", Some("ana"), Some("2026-11-30"))
        .await
        .unwrap();
    let i2 = store
        .add_action_item("alice", l.id, "Send notes", None, None)
        .await
        .unwrap();
    let got = store.get_action_list(l.id).await.unwrap();
    assert_eq!(got.items, [i1.clone(), i2.clone()]);
    assert_eq!((got.name.as_str(), got.project_id), ("Retro", Some(p.id)));
    assert_eq!(got, store.list_action_lists(Some(p.id)).await.unwrap()[0]);
    match store.get_action_list(999_999).await {
        Err(StoreError::NotFound { entity, id }) => {
            assert_eq!((entity, id.as_str()), ("action list", "999999"))
        }
        r => panic!("missing list: expected NotFound, got {r:?}"),
    }

    let renamed = store
        .rename_action_list("bob", l.id, Some(got.version), "Retro, week 47")
        .await
        .unwrap();
    assert_eq!(renamed.name, "Retro, week 47");
    assert_eq!(renamed.version, got.version + 1);
    assert_eq!(renamed.items, got.items, "the items stay");
    assert_eq!(store.get_action_list(l.id).await.unwrap(), renamed);

    match store
        .rename_action_list("carol", l.id, Some(got.version), "Stale")
        .await
    {
        Err(StoreError::VersionConflict {
            entity,
            id,
            expected,
            current,
        }) => assert_eq!(
            (entity, id, expected, current),
            ("action list", l.id, got.version, renamed.version)
        ),
        r => panic!("stale rename: expected VersionConflict, got {r:?}"),
    }
    for bad in ["", "   "] {
        let r = store.rename_action_list("carol", l.id, None, bad).await;
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{bad:?}: {r:?}");
    }
    let r = store.rename_action_list("carol", 999_999, None, "x").await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
    // The name it has already: not a change.
    let same = store
        .rename_action_list("carol", l.id, Some(renamed.version), "Retro, week 47")
        .await
        .unwrap();
    assert_eq!(same, renamed);
    assert_eq!(store.get_action_list(l.id).await.unwrap(), renamed);

    // A list outside any project renames too.
    let g = store
        .create_action_list("alice", None, "Personal")
        .await
        .unwrap();
    let g2 = store
        .rename_action_list("alice", g.id, Some(1), "Mine")
        .await
        .unwrap();
    assert_eq!(
        (g2.name.as_str(), g2.project_id, g2.version),
        ("Mine", None, 2)
    );

    let ev = all_events(store, &EventFilter::default()).await;
    let upd: Vec<&Event> = ev
        .iter()
        .filter(|e| e.action == "action_list.updated")
        .collect();
    assert_eq!(upd.len(), 2, "{:?}", actions(&ev));
    assert_eq!(
        (upd[0].actor.as_str(), upd[0].project_id),
        ("bob", Some(p.id))
    );
    assert_eq!(upd[0].before.as_ref().unwrap()["name"], "Retro");
    assert_eq!(upd[0].after.as_ref().unwrap()["name"], "Retro, week 47");
    assert_eq!(upd[0].after.as_ref().unwrap()["version"], renamed.version);
    assert_eq!((upd[1].actor.as_str(), upd[1].project_id), ("alice", None));
}

// ---------------------------------------------------------------------------------------
// Bulk task updates

fn change(id: i64, expected: Option<i64>, patch: TaskPatch) -> TaskChange {
    TaskChange {
        id,
        expected,
        patch,
    }
}

fn titled(title: &str) -> TaskPatch {
    TaskPatch {
        title: Some(title.into()),
        ..TaskPatch::default()
    }
}

/// A task without what differs between two projects holding the same tasks (ids, and
/// the key and position a task without a plan takes from its id).
fn task_shape(t: &TaskRecord) -> TaskRecord {
    let by_id = t.plan_id.is_none() && t.key == format!("#{}", t.id);
    TaskRecord {
        id: 0,
        project_id: 0,
        key: if by_id { "#id".into() } else { t.key.clone() },
        position: if t.plan_id.is_none() { 0 } else { t.position },
        ..t.clone()
    }
}

/// Events without their ids, with task ids replaced by `task_index`'s answer.
fn event_shape(events: &[Event], task_index: &HashMap<i64, usize>) -> Vec<Value> {
    events
        .iter()
        .map(|e| {
            json!([
                e.actor,
                e.at,
                e.action,
                e.task_id.map(|t| task_index[&t]),
                e.before,
                e.after
            ])
        })
        .collect()
}

/// The same changes through `update_tasks` (one call) and through `update_task` (one at a
/// time) leave the same tasks and write the same events; results come in the order given;
/// a task changed twice in one call sees its first change (its version moved on).
async fn check_bulk_update(store: &Store) {
    let changes_for = |ids: &[i64]| {
        vec![
            change(ids[0], Some(1), TaskPatch::status(Status::Done)),
            change(
                ids[1],
                Some(1),
                TaskPatch {
                    title: Some("B, renamed".into()),
                    priority: Some(Some(Priority::High)),
                    tags: Some(vec!["x".into(), "y".into()]),
                    ..TaskPatch::default()
                },
            ),
            change(
                ids[2],
                None,
                TaskPatch {
                    owner: Some(Some("ana".into())),
                    due: Some(Some("2026-12-01".into())),
                    notes: Some("see the spec".into()),
                    ..TaskPatch::default()
                },
            ),
            change(ids[0], Some(2), titled("A, done")),
            // Nothing to change: like update_task, no new version and no event.
            change(ids[3], Some(1), TaskPatch::default()),
        ]
    };
    let mut shapes = Vec::new();
    for (name, bulk) in [("one by one", false), ("in bulk", true)] {
        let p = store.create_project("alice", name, "").await.unwrap();
        let mut task_ids = Vec::new();
        for title in ["A", "B", "C", "D"] {
            task_ids.push(new_task(store, "alice", p.id, title).await.id);
        }
        let index: HashMap<i64, usize> =
            task_ids.iter().enumerate().map(|(i, &t)| (t, i)).collect();
        let changes = changes_for(&task_ids);
        let results = if bulk {
            store.update_tasks("bob", changes).await.unwrap()
        } else {
            let mut out = Vec::new();
            for ch in changes {
                out.push(
                    store
                        .update_task("bob", ch.id, ch.expected, ch.patch)
                        .await
                        .unwrap(),
                );
            }
            out
        };
        let got: Vec<(usize, i64)> = results.iter().map(|t| (index[&t.id], t.version)).collect();
        assert_eq!(got, [(0, 2), (1, 2), (2, 2), (0, 3), (3, 1)], "{name}");
        assert_eq!(results[3].title, "A, done");
        assert_eq!(results[3].status, Status::Done);
        let tasks = all_tasks(store, &in_project(p.id)).await;
        assert_eq!(ids(&tasks), task_ids, "{name}");
        for t in &tasks {
            assert_eq!(&store.get_task(t.id).await.unwrap(), t);
        }
        let tagged = all_tasks(
            store,
            &TaskFilter {
                tag: Some("y".into()),
                ..in_project(p.id)
            },
        )
        .await;
        assert_eq!(tagged.len(), 1, "{name}: tags are indexed");
        let ev = all_events(store, &project_events(p.id)).await;
        let updates: Vec<Event> = ev
            .into_iter()
            .filter(|e| !e.action.ends_with(".created"))
            .collect();
        assert_eq!(
            actions(&updates),
            [
                "task.status_changed",
                "task.updated",
                "task.updated",
                "task.updated"
            ],
            "{name}: one event per task changed"
        );
        shapes.push((
            tasks.iter().map(task_shape).collect::<Vec<_>>(),
            results.iter().map(task_shape).collect::<Vec<_>>(),
            event_shape(&updates, &index),
        ));
    }
    assert_eq!(shapes[0].0, shapes[1].0, "tasks");
    assert_eq!(shapes[0].1, shapes[1].1, "results");
    assert_eq!(shapes[0].2, shapes[1].2, "events");

    // An empty list changes nothing and writes nothing.
    let before = all_events(store, &EventFilter::default()).await.len();
    assert!(
        store
            .update_tasks("bob", Vec::new())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        all_events(store, &EventFilter::default()).await.len(),
        before
    );
}

/// One failing change (stale version, missing task, bad patch) anywhere in the list leaves
/// every task as it was, writes no event, and says which task failed.
async fn check_bulk_update_all_or_nothing(store: &Store) {
    let p = store.create_project("alice", "bulk", "").await.unwrap();
    let mut t = Vec::new();
    for title in ["A", "B", "C", "D"] {
        t.push(new_task(store, "alice", p.id, title).await);
    }
    let pid = p.id;
    let tasks_before = all_tasks(store, &in_project(pid)).await;
    let events_before = all_events(store, &EventFilter::default()).await;
    let unchanged = |what: &'static str| {
        let tasks_before = tasks_before.clone();
        let events_before = events_before.clone();
        async move {
            assert_eq!(
                all_tasks(store, &in_project(pid)).await,
                tasks_before,
                "{what}: tasks changed"
            );
            assert_eq!(
                all_events(store, &EventFilter::default()).await,
                events_before,
                "{what}: events written"
            );
            let tagged = all_tasks(
                store,
                &TaskFilter {
                    tag: Some("urgent".into()),
                    ..in_project(pid)
                },
            )
            .await;
            assert!(tagged.is_empty(), "{what}: tags of an undone change stayed");
        }
    };
    // Earlier changes touch every side table: tags, priority (rank), status.
    let first_two = || {
        vec![
            change(
                t[0].id,
                Some(1),
                TaskPatch {
                    status: Some(Status::Done),
                    tags: Some(vec!["urgent".into()]),
                    ..TaskPatch::default()
                },
            ),
            change(
                t[1].id,
                None,
                TaskPatch {
                    title: Some("B, renamed".into()),
                    priority: Some(Some(Priority::Critical)),
                    ..TaskPatch::default()
                },
            ),
        ]
    };

    let mut stale = first_two();
    stale.push(change(t[2].id, Some(7), TaskPatch::status(Status::Done)));
    stale.push(change(t[3].id, None, TaskPatch::status(Status::Done)));
    match store.update_tasks("bob", stale).await {
        Err(StoreError::VersionConflict {
            entity,
            id,
            expected,
            current,
        }) => assert_eq!((entity, id, expected, current), ("task", t[2].id, 7, 1)),
        r => panic!("stale change: expected VersionConflict, got {r:?}"),
    }
    unchanged("stale version").await;

    let mut missing = first_two();
    missing.push(change(999_999, None, TaskPatch::status(Status::Done)));
    missing.push(change(t[3].id, None, TaskPatch::status(Status::Done)));
    match store.update_tasks("bob", missing).await {
        Err(StoreError::NotFound { entity, id }) => {
            assert_eq!((entity, id.as_str()), ("task", "999999"))
        }
        r => panic!("missing task: expected NotFound, got {r:?}"),
    }
    unchanged("missing task").await;

    let mut invalid = first_two();
    invalid.push(change(t[2].id, None, titled(" ")));
    match store.update_tasks("bob", invalid).await {
        Err(StoreError::Invalid(msg)) => {
            assert!(msg.contains(&format!("task {}", t[2].id)), "{msg}");
            assert!(msg.contains("change 3"), "{msg}");
        }
        r => panic!("empty title: expected Invalid, got {r:?}"),
    }
    unchanged("empty title").await;

    // The second change of a task against the version before the first: refused too.
    let twice = vec![
        change(t[0].id, Some(1), TaskPatch::status(Status::Done)),
        change(t[0].id, Some(1), titled("A again")),
    ];
    match store.update_tasks("bob", twice).await {
        Err(StoreError::VersionConflict {
            id,
            expected,
            current,
            ..
        }) => assert_eq!((id, expected, current), (t[0].id, 1, 2)),
        r => panic!("second change, old version: expected VersionConflict, got {r:?}"),
    }
    unchanged("same task twice").await;

    // Nothing was bumped: the versions the caller saw still work.
    let done = store.update_tasks("bob", first_two()).await.unwrap();
    assert_eq!(done.iter().map(|t| t.version).collect::<Vec<_>>(), [2, 2]);
}

/// More than 1000 changes are refused whole; 1000 are taken.
async fn check_bulk_update_limit(store: &Store) {
    let p = store.create_project("alice", "big bulk", "").await.unwrap();
    let t = new_task(store, "alice", p.id, "often renamed").await;
    let changes = |n: usize| -> Vec<TaskChange> {
        (0..n)
            .map(|i| change(t.id, None, titled(&format!("title {i}"))))
            .collect()
    };
    let r = store.update_tasks("bob", changes(1001)).await;
    assert!(matches!(r, Err(StoreError::Invalid(_))), "{r:?}");
    assert_eq!(store.get_task(t.id).await.unwrap(), t);
    assert_eq!(all_events(store, &task_events(t.id)).await.len(), 1);

    let done = store.update_tasks("bob", changes(1000)).await.unwrap();
    assert_eq!(done.len(), 1000);
    assert_eq!(
        (done[999].title.as_str(), done[999].version),
        ("title 999", 1001)
    );
    assert_eq!(done[0].version, 2);
    assert_eq!(store.get_task(t.id).await.unwrap(), done[999]);
    assert_eq!(all_events(store, &task_events(t.id)).await.len(), 1001);
}

// ---------------------------------------------------------------------------------------
// Idempotency keys

fn stored(status: u16, body: &[u8]) -> StoredResponse {
    StoredResponse {
        status,
        content_type: "application/json".into(),
        etag: Some("\"3\"".into()),
        body: body.to_vec(),
    }
}

/// Bytes that are not UTF-8, with a NUL: the body is kept as bytes.
const ODD_BODY: &[u8] = b"{\"id\":1}\x00\xff\xfe\x80 end";

async fn check_idempotency(store: &Store) {
    use IdempotencyBegin::{InFlight, Mismatch, Replay, Started};
    let (alice, bob) = (1, 2);
    let events_before = all_events(store, &EventFilter::default()).await;
    let begin = |user: i64, key: &'static str, fp: &'static str| async move {
        store.idempotency_begin(user, key, fp).await.unwrap()
    };

    assert_eq!(begin(alice, "k1", "POST /a {}").await, Started);
    // The same request again while the first is carried out; another request with the key.
    assert_eq!(begin(alice, "k1", "POST /a {}").await, InFlight);
    assert_eq!(begin(alice, "k1", "POST /b {}").await, Mismatch);
    // Keys belong to one user.
    assert_eq!(begin(bob, "k1", "POST /b {}").await, Started);

    let first = stored(201, ODD_BODY);
    store
        .idempotency_finish(alice, "k1", first.clone())
        .await
        .unwrap();
    match begin(alice, "k1", "POST /a {}").await {
        Replay(r) => {
            assert_eq!(r, first);
            assert_eq!(r.body, ODD_BODY, "the very bytes");
        }
        r => panic!("finished key: expected Replay, got {r:?}"),
    }
    assert_eq!(
        begin(alice, "k1", "POST /a {}").await,
        Replay(first.clone()),
        "replays do not use the key up"
    );
    assert_eq!(begin(alice, "k1", "POST /a {\"x\":1}").await, Mismatch);
    // Bob's claim of his own k1 is untouched by Alice's.
    assert_eq!(begin(bob, "k1", "POST /b {}").await, InFlight);

    // Only a claim in flight can be finished.
    for (user, key) in [(alice, "k1"), (alice, "never claimed"), (bob, "k2")] {
        let r = store
            .idempotency_finish(user, key, stored(200, b"late"))
            .await;
        assert!(
            matches!(r, Err(StoreError::NotFound { .. })),
            "finish {user}/{key}: {r:?}"
        );
    }
    assert_eq!(
        begin(alice, "k1", "POST /a {}").await,
        Replay(first.clone())
    );

    // After a failure the claim is abandoned and a retry starts afresh...
    store.idempotency_abandon(bob, "k1").await.unwrap();
    assert_eq!(begin(bob, "k1", "POST /b {}").await, Started);
    store.idempotency_abandon(bob, "k1").await.unwrap();
    assert_eq!(begin(bob, "k1", "POST /c {}").await, Started);
    // ...but abandoning never drops a finished response, and unknown keys are fine.
    store.idempotency_abandon(alice, "k1").await.unwrap();
    store
        .idempotency_abandon(alice, "never claimed")
        .await
        .unwrap();
    assert_eq!(
        begin(alice, "k1", "POST /a {}").await,
        Replay(first.clone())
    );

    // No ETag, an empty body.
    assert_eq!(begin(alice, "k2", "DELETE-ish").await, Started);
    let empty = StoredResponse {
        status: 204,
        content_type: "text/plain".into(),
        etag: None,
        body: Vec::new(),
    };
    store
        .idempotency_finish(alice, "k2", empty.clone())
        .await
        .unwrap();
    assert_eq!(begin(alice, "k2", "DELETE-ish").await, Replay(empty));

    // Keys of 1 to 255 bytes.
    let long = "k".repeat(255);
    assert_eq!(
        store.idempotency_begin(alice, &long, "fp").await.unwrap(),
        Started
    );
    for bad in [String::new(), "k".repeat(256)] {
        let r = store.idempotency_begin(alice, &bad, "fp").await;
        assert!(
            matches!(r, Err(StoreError::Invalid(_))),
            "{}: {r:?}",
            bad.len()
        );
    }

    // Concurrent claims of one key: exactly one starts.
    let claim = || store.idempotency_begin(alice, "raced", "POST /r {}");
    let (a, b, c, d, e, f) = tokio::join!(claim(), claim(), claim(), claim(), claim(), claim());
    let got = [a, b, c, d, e, f].map(Result::unwrap);
    assert_eq!(got.iter().filter(|g| **g == Started).count(), 1, "{got:?}");
    assert_eq!(got.iter().filter(|g| **g == InFlight).count(), 5, "{got:?}");

    // Keys are not changes to the data: nothing in the event log.
    assert_eq!(
        all_events(store, &EventFilter::default()).await,
        events_before
    );
}

/// Two stores on one database (two servers) claim one key at once: exactly one starts,
/// and each sees the other's claims and responses.
async fn check_idempotency_two_servers(db: &TestDb) {
    use IdempotencyBegin::{InFlight, Mismatch, Replay, Started};
    let one = db.open().await;
    let two = db.open().await;
    let key = "shared";
    let (a, b, c, d, e, f) = tokio::join!(
        one.idempotency_begin(7, key, "fp"),
        two.idempotency_begin(7, key, "fp"),
        one.idempotency_begin(7, key, "fp"),
        two.idempotency_begin(7, key, "fp"),
        one.idempotency_begin(7, key, "fp"),
        two.idempotency_begin(7, key, "fp"),
    );
    let got = [a, b, c, d, e, f].map(Result::unwrap);
    assert_eq!(got.iter().filter(|g| **g == Started).count(), 1, "{got:?}");
    assert_eq!(got.iter().filter(|g| **g == InFlight).count(), 5, "{got:?}");
    assert_eq!(
        two.idempotency_begin(7, key, "other").await.unwrap(),
        Mismatch
    );
    let r = stored(201, ODD_BODY);
    // Whichever store started it, either may finish it (the API answers on the server
    // that started it; the store does not care which).
    one.idempotency_finish(7, key, r.clone()).await.unwrap();
    assert_eq!(
        two.idempotency_begin(7, key, "fp").await.unwrap(),
        Replay(r.clone())
    );
    assert_eq!(
        one.idempotency_begin(7, key, "fp").await.unwrap(),
        Replay(r)
    );
}

/// Time as the store's clock tells it: an unfinished claim is abandoned after 60 seconds,
/// a key forgotten after 24 hours (and swept on the way).
async fn check_idempotency_expiry(db: &TestDb) {
    use IdempotencyBegin::{InFlight, Mismatch, Replay, Started};
    let t0 = "2026-11-22T10:00:00.000Z";
    let store = db.open_at(t0).await;
    for key in ["done", "swept"] {
        assert_eq!(
            store.idempotency_begin(1, key, "fp").await.unwrap(),
            Started
        );
        store
            .idempotency_finish(1, key, stored(201, key.as_bytes()))
            .await
            .unwrap();
    }
    assert_eq!(
        store.idempotency_begin(1, "stuck", "fp").await.unwrap(),
        Started
    );
    drop(store);

    let at = |t: &'static str| db.open_at(t);
    // 59 seconds on: still in flight.
    let store = at("2026-11-22T10:00:59.000Z").await;
    assert_eq!(
        store.idempotency_begin(1, "stuck", "fp").await.unwrap(),
        InFlight
    );
    assert_eq!(
        store.idempotency_begin(1, "stuck", "fp2").await.unwrap(),
        Mismatch
    );
    drop(store);
    // 61 seconds on: abandoned; the next claim takes it, whatever its request.
    let store = at("2026-11-22T10:01:01.000Z").await;
    assert_eq!(
        store.idempotency_begin(1, "stuck", "fp2").await.unwrap(),
        Started
    );
    assert_eq!(
        store.idempotency_begin(1, "stuck", "fp2").await.unwrap(),
        InFlight
    );
    assert_eq!(
        store.idempotency_begin(1, "stuck", "fp").await.unwrap(),
        Mismatch
    );
    // A finished key is never abandoned.
    assert_eq!(
        store.idempotency_begin(1, "done", "fp").await.unwrap(),
        Replay(stored(201, b"done"))
    );
    drop(store);
    // A millisecond short of 24 hours: still replayed.
    let store = at("2026-11-23T09:59:59.999Z").await;
    assert_eq!(
        store.idempotency_begin(1, "done", "fp").await.unwrap(),
        Replay(stored(201, b"done"))
    );
    drop(store);
    // Past 24 hours: forgotten; a new request may use the key.
    let store = at("2026-11-23T10:00:00.001Z").await;
    assert_eq!(
        store.idempotency_begin(1, "done", "another").await.unwrap(),
        Started
    );
    // The other expired key was swept on the way; the claim from 10:01:01 was not.
    let rows = |key: &str| {
        let sql =
            format!("UPDATE idempotency_keys SET fingerprint = fingerprint WHERE key = '{key}'");
        async move { db.raw_execute(&sql).await }
    };
    assert_eq!(rows("swept").await, Ok(0));
    assert_eq!(rows("stuck").await, Ok(1));
    assert_eq!(
        store.idempotency_begin(1, "stuck", "fp2").await.unwrap(),
        Started
    );
}

// ---------------------------------------------------------------------------------------

macro_rules! conformance {
    (store: [$($s:ident),* $(,)?], db: [$($d:ident),* $(,)?] $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $s() {
                    let db = super::TestDb::sqlite();
                    let store = db.open().await;
                    super::$s(&store).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $d() {
                    let db = super::TestDb::sqlite();
                    super::$d(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $s() {
                    let Some(db) = super::TestDb::postgres() else { return };
                    let store = db.open().await;
                    super::$s(&store).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $d() {
                    let Some(db) = super::TestDb::postgres() else { return };
                    super::$d(&db).await;
                }
            )*
        }
    };
}

conformance! {
    store: [
        check_migrations_listed,
        check_projects,
        check_project_delete_cascades,
        check_ids_never_reused,
        check_import_seed_000,
        check_import_every_seed_matches_engine,
        check_import_several_plans,
        check_reimport_identical,
        check_sync_tick_box,
        check_sync_rename,
        check_sync_rename_after_line_shift,
        check_sync_delete_task,
        check_sync_reorder_sections,
        check_sync_three_way,
        check_sync_conflict,
        check_sync_keeps_database_tasks,
        check_tasks_crud,
        check_concurrent_writers,
        check_list_filters,
        check_pagination,
        check_dependencies,
        check_sprints,
        check_sprint_get_update,
        check_action_lists,
        check_action_list_get_rename,
        check_bulk_update,
        check_bulk_update_all_or_nothing,
        check_bulk_update_limit,
        check_idempotency,
        check_users_and_api_keys,
        check_events,
    ],
    db: [
        check_migrations_reopen,
        check_migrations_tampered,
        check_migrations_upgrade_from_1,
        check_durability_fast,
        check_events_time_filter,
        check_events_time_filter_whole_seconds,
        check_events_append_only,
        check_backup_restore,
        check_idempotency_two_servers,
        check_idempotency_expiry,
        check_first_admin_once,
    ],
}
