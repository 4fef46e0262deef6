//! Storage for taskman: one interface ([`Store`]) over embedded SQLite (the default) and
//! PostgreSQL.
//!
//! Both backends keep the same model (projects, plans with every version of their text,
//! sections, tasks, dependencies, sprints, action lists, users and API keys) and the same
//! append-only event log: every change records who, when, what, and the values before and
//! after. Every task, project, sprint and action item carries a version; a change made
//! against an old version fails with [`StoreError::VersionConflict`] naming both.
//!
//! What this crate must never do: resolve a sync conflict silently, edit or delete an event,
//! or acknowledge a write before it is committed.

mod clock;
mod error;
mod idempotency;
pub mod migrate;
mod model;
pub mod postgres;
pub mod quick;
mod rules;
pub mod sqlite;
pub mod stored;
pub mod sync;

use std::path::{Path, PathBuf};

pub use clock::{Clock, civil_date};
pub use error::{Result, StoreError};
pub use migrate::Applied;
pub use model::*;
pub use sync::SyncReport;
use taskman_core::Plan;

/// How hard a commit tries before it is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Survives a killed process and a power loss: SQLite `synchronous=FULL`, PostgreSQL's
    /// default. Small writes share commits (group commit).
    #[default]
    Durable,
    /// Survives a killed process, may lose the last commits on power loss: SQLite
    /// `synchronous=NORMAL` in WAL mode; PostgreSQL `synchronous_commit=off`.
    Fast,
}

impl Durability {
    pub fn parse(s: &str) -> Option<Durability> {
        match s {
            "durable" => Some(Durability::Durable),
            "fast" => Some(Durability::Fast),
            _ => None,
        }
    }
}

/// Where the data lives: a SQLite file or a PostgreSQL URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// `postgres://...` or `postgresql://...` is PostgreSQL, `sqlite://PATH` or anything
    /// else a SQLite file path.
    pub fn parse(s: &str) -> Location {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Location::Postgres(s.to_string())
        } else {
            Location::Sqlite(PathBuf::from(s.strip_prefix("sqlite://").unwrap_or(s)))
        }
    }

    /// The platform data directory's `taskman/taskman.db`: `$XDG_DATA_HOME`, else
    /// `~/.local/share` (on macOS `~/Library/Application Support`).
    pub fn default_sqlite() -> Location {
        let base = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| {
                    let h = PathBuf::from(h);
                    if cfg!(target_os = "macos") {
                        h.join("Library/Application Support")
                    } else {
                        h.join(".local/share")
                    }
                })
            })
            .unwrap_or_else(|| PathBuf::from("."));
        Location::Sqlite(base.join("taskman").join("taskman.db"))
    }

    /// For messages and logs: a PostgreSQL password is replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres(url) => redact_url(url),
        }
    }
}

fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some(x) => x,
        None => return url.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub durability: Durability,
    pub clock: Clock,
    /// Most connections to PostgreSQL.
    pub max_connections: u32,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            durability: Durability::Durable,
            clock: Clock::system(),
            max_connections: 16,
        }
    }
}

/// The store: the same operations on either backend.
#[derive(Debug)]
pub enum Store {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

macro_rules! both {
    ($self:ident . $m:ident ( $($a:expr),* )) => {
        match $self {
            Store::Sqlite(s) => s.$m($($a),*).await,
            Store::Postgres(p) => p.$m($($a),*).await,
        }
    };
}

impl Store {
    /// Open the store at `location`, applying pending migrations.
    pub async fn open(location: &Location, options: Options) -> Result<Store> {
        match location {
            Location::Sqlite(path) => Ok(Store::Sqlite(sqlite::SqliteStore::open(
                path,
                options.durability,
                options.clock,
            )?)),
            Location::Postgres(url) => Ok(Store::Postgres(
                postgres::PgStore::open(url, &options).await?,
            )),
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Migrations recorded in the database.
    pub async fn migrations(&self) -> Result<Vec<Applied>> {
        match self {
            Store::Sqlite(s) => s.migrations(),
            Store::Postgres(p) => p.migrations().await,
        }
    }

    /// Check the database answers (health probes).
    /// Connections of the pool: (open, idle). SQLite: the writer and the idle readers
    /// kept; PostgreSQL: the pool's.
    pub fn pool_stats(&self) -> (u32, u32) {
        match self {
            Store::Sqlite(s) => {
                let idle = s.idle_readers() as u32;
                (idle + 1, idle)
            }
            Store::Postgres(p) => (p.pool.size(), p.pool.num_idle() as u32),
        }
    }

    pub async fn ping(&self) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.list_projects().await.map(|_| ()),
            Store::Postgres(p) => p.ping().await,
        }
    }

    /// Write a backup to `dest`, which must not exist: a SQLite database file (online
    /// backup) for SQLite, a JSON export of every table for PostgreSQL.
    pub async fn backup(&self, dest: &Path) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.backup(dest),
            Store::Postgres(p) => p.backup(dest).await,
        }
    }

    /// Replace everything in the database with the backup at `src`.
    pub async fn restore(&self, src: &Path) -> Result<()> {
        both!(self.restore(src))
    }

    pub async fn create_project(
        &self,
        actor: &str,
        name: &str,
        description: &str,
    ) -> Result<Project> {
        both!(self.create_project(actor, name, description))
    }
    pub async fn get_project(&self, id: i64) -> Result<Project> {
        both!(self.get_project(id))
    }
    pub async fn project_by_name(&self, name: &str) -> Result<Project> {
        both!(self.project_by_name(name))
    }
    pub async fn list_projects(&self) -> Result<Vec<Project>> {
        both!(self.list_projects())
    }
    pub async fn update_project(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
        patch: ProjectPatch,
    ) -> Result<Project> {
        both!(self.update_project(actor, id, expected, patch))
    }
    pub async fn delete_project(&self, actor: &str, id: i64, expected: Option<i64>) -> Result<()> {
        both!(self.delete_project(actor, id, expected))
    }

    /// Import `bytes` as plan `name` of the project, or sync it when the project already has
    /// a plan of that name. Parses the text first (outside any transaction).
    pub async fn import_plan(
        &self,
        actor: &str,
        project_id: i64,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<SyncReport> {
        // Ticked boxes only: no need to read the whole document again.
        if let Some(report) = self
            .quick_sync(actor, project_id, name, bytes.clone())
            .await?
        {
            return Ok(report);
        }
        let plan = taskman_markdown::parse(&bytes).plan;
        self.import_parsed(actor, project_id, name, bytes, plan)
            .await
    }

    /// [`Store::import_plan`] for text the caller has parsed already.
    pub async fn import_parsed(
        &self,
        actor: &str,
        project_id: i64,
        name: &str,
        bytes: Vec<u8>,
        plan: Plan,
    ) -> Result<SyncReport> {
        both!(self.import_plan(actor, project_id, name, bytes, plan))
    }

    /// The quick sync alone (see [`quick`]): `None` when the text needs the full sync.
    /// [`Store::import_plan`] tries it first.
    pub async fn quick_sync(
        &self,
        actor: &str,
        project_id: i64,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<Option<SyncReport>> {
        both!(self.quick_sync(actor, project_id, name, bytes))
    }

    pub async fn list_plans(&self, project_id: i64) -> Result<Vec<PlanInfo>> {
        both!(self.list_plans(project_id))
    }
    pub async fn get_plan(&self, plan_id: i64) -> Result<PlanInfo> {
        both!(self.get_plan(plan_id))
    }
    pub async fn plan_versions(&self, plan_id: i64) -> Result<Vec<PlanVersion>> {
        both!(self.plan_versions(plan_id))
    }
    /// The stored text of a version of the plan, the newest when `number` is `None`.
    pub async fn plan_source(&self, plan_id: i64, number: Option<i64>) -> Result<Vec<u8>> {
        both!(self.plan_source(plan_id, number))
    }
    /// The plan rebuilt from the database: the plan engine's structure with the database's
    /// statuses, titles, owners... so every plan command works on stored data.
    pub async fn load_plan(&self, plan_id: i64) -> Result<Plan> {
        both!(self.load_plan(plan_id))
    }

    pub async fn create_task(
        &self,
        actor: &str,
        project_id: i64,
        task: NewTask,
    ) -> Result<TaskRecord> {
        both!(self.create_task(actor, project_id, task))
    }
    pub async fn get_task(&self, id: i64) -> Result<TaskRecord> {
        both!(self.get_task(id))
    }
    /// Apply `patch` if the task is still at version `expected` (`None`: whatever version).
    pub async fn update_task(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
        patch: TaskPatch,
    ) -> Result<TaskRecord> {
        both!(self.update_task(actor, id, expected, patch))
    }
    /// Apply every change as [`Store::update_task`] would, in order, all or nothing: when
    /// one fails (`NotFound`, `VersionConflict`, `Invalid` naming the change and task) no
    /// task is changed and no event written. The tasks as changed, in the order given; at
    /// most 1000 changes.
    pub async fn update_tasks(
        &self,
        actor: &str,
        changes: Vec<TaskChange>,
    ) -> Result<Vec<TaskRecord>> {
        both!(self.update_tasks(actor, changes))
    }
    pub async fn delete_task(&self, actor: &str, id: i64, expected: Option<i64>) -> Result<()> {
        both!(self.delete_task(actor, id, expected))
    }
    pub async fn list_tasks(
        &self,
        filter: &TaskFilter,
        page: PageRequest,
    ) -> Result<Page<TaskRecord>> {
        both!(self.list_tasks(filter, page))
    }
    pub async fn add_dependency(
        &self,
        actor: &str,
        task: i64,
        depends_on: i64,
    ) -> Result<TaskRecord> {
        both!(self.add_dependency(actor, task, depends_on))
    }
    pub async fn remove_dependency(
        &self,
        actor: &str,
        task: i64,
        depends_on: i64,
    ) -> Result<TaskRecord> {
        both!(self.remove_dependency(actor, task, depends_on))
    }

    pub async fn progress(&self, project_id: i64) -> Result<ProjectProgress> {
        both!(self.progress(project_id))
    }
    pub async fn ready(&self, project_id: i64, limit: u32) -> Result<Vec<TaskRecord>> {
        both!(self.ready(project_id, limit))
    }
    pub async fn blocked(&self, project_id: i64) -> Result<Vec<BlockedTask>> {
        both!(self.blocked(project_id))
    }

    /// The event log, oldest first. `since` and `until` take any RFC 3339 spelling.
    pub async fn events(&self, filter: &EventFilter, page: PageRequest) -> Result<Page<Event>> {
        let bound = |b: &Option<String>| -> Result<Option<String>> {
            b.as_deref()
                .map(|t| {
                    clock::normalize(t).ok_or_else(|| {
                        StoreError::Invalid(format!("{t:?} is not an RFC 3339 time"))
                    })
                })
                .transpose()
        };
        let filter = &EventFilter {
            since: bound(&filter.since)?,
            until: bound(&filter.until)?,
            ..filter.clone()
        };
        both!(self.events(filter, page))
    }

    pub async fn create_user(&self, actor: &str, name: &str, role: Role) -> Result<User> {
        both!(self.create_user(actor, name, role))
    }
    pub async fn list_users(&self) -> Result<Vec<User>> {
        both!(self.list_users())
    }
    /// With no user yet, create the first admin (`name`) and its API key in one
    /// transaction; `None` when the database has a user. Safe when several servers
    /// bootstrap one database at once: exactly one of them makes the admin.
    pub async fn create_first_admin(
        &self,
        actor: &str,
        name: &str,
        key_name: &str,
        prefix: &str,
        hash: &str,
    ) -> Result<Option<(User, ApiKey)>> {
        both!(self.create_first_admin(actor, name, key_name, prefix, hash))
    }
    pub async fn create_api_key(
        &self,
        actor: &str,
        user_id: i64,
        name: &str,
        prefix: &str,
        hash: &str,
    ) -> Result<ApiKey> {
        both!(self.create_api_key(actor, user_id, name, prefix, hash))
    }
    pub async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<(ApiKey, User)>> {
        both!(self.api_key_by_prefix(prefix))
    }
    pub async fn revoke_api_key(&self, actor: &str, id: i64) -> Result<()> {
        both!(self.revoke_api_key(actor, id))
    }

    pub async fn create_sprint(
        &self,
        actor: &str,
        project_id: i64,
        sprint: NewSprint,
    ) -> Result<Sprint> {
        both!(self.create_sprint(actor, project_id, sprint))
    }
    pub async fn list_sprints(&self, project_id: i64) -> Result<Vec<Sprint>> {
        both!(self.list_sprints(project_id))
    }
    pub async fn get_sprint(&self, id: i64) -> Result<Sprint> {
        both!(self.get_sprint(id))
    }
    /// Apply `patch` if the sprint is still at version `expected` (`None`: whatever
    /// version), checked as [`Store::create_sprint`] checks a new one.
    pub async fn update_sprint(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
        patch: SprintPatch,
    ) -> Result<Sprint> {
        both!(self.update_sprint(actor, id, expected, patch))
    }
    /// Add a task to the sprint (`add`) or take it out.
    pub async fn sprint_task(
        &self,
        actor: &str,
        sprint_id: i64,
        task_id: i64,
        add: bool,
    ) -> Result<Sprint> {
        both!(self.sprint_task(actor, sprint_id, task_id, add))
    }
    pub async fn close_sprint(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
    ) -> Result<Sprint> {
        both!(self.close_sprint(actor, id, expected))
    }

    pub async fn create_action_list(
        &self,
        actor: &str,
        project_id: Option<i64>,
        name: &str,
    ) -> Result<ActionList> {
        both!(self.create_action_list(actor, project_id, name))
    }
    pub async fn list_action_lists(&self, project_id: Option<i64>) -> Result<Vec<ActionList>> {
        both!(self.list_action_lists(project_id))
    }
    /// The list with its items.
    pub async fn get_action_list(&self, id: i64) -> Result<ActionList> {
        both!(self.get_action_list(id))
    }
    pub async fn rename_action_list(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
        name: &str,
    ) -> Result<ActionList> {
        both!(self.rename_action_list(actor, id, expected, name))
    }
    pub async fn delete_action_list(&self, actor: &str, id: i64) -> Result<()> {
        both!(self.delete_action_list(actor, id))
    }
    pub async fn add_action_item(
        &self,
        actor: &str,
        list_id: i64,
        title: &str,
        owner: Option<&str>,
        due: Option<&str>,
    ) -> Result<ActionItem> {
        both!(self.add_action_item(actor, list_id, title, owner, due))
    }
    pub async fn update_action_item(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
        patch: ActionItemPatch,
    ) -> Result<ActionItem> {
        both!(self.update_action_item(actor, id, expected, patch))
    }
    pub async fn delete_action_item(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
    ) -> Result<()> {
        both!(self.delete_action_item(actor, id, expected))
    }

    /// Claim idempotency key `key` of user `user_id` for a request whose method, path and
    /// body hash to `fingerprint`, atomically (across servers too):
    /// [`IdempotencyBegin::Started`] when the key is free (never used, used more than 24
    /// hours ago, or claimed more than 60 seconds ago and never finished);
    /// [`IdempotencyBegin::Replay`] when the same request finished; `Mismatch` when the key
    /// belongs to another request; `InFlight` when the same request is still being carried
    /// out. Deletes a few expired keys on the way. Not recorded in the event log.
    pub async fn idempotency_begin(
        &self,
        user_id: i64,
        key: &str,
        fingerprint: &str,
    ) -> Result<IdempotencyBegin> {
        both!(self.idempotency_begin(user_id, key, fingerprint))
    }
    /// Keep the response of a started request; its retries get it again. `NotFound` when
    /// the key is not in flight (abandoned, expired, or finished already).
    pub async fn idempotency_finish(
        &self,
        user_id: i64,
        key: &str,
        response: StoredResponse,
    ) -> Result<()> {
        both!(self.idempotency_finish(user_id, key, response))
    }
    /// Release a key still in flight (the request failed, say with a 5xx), so a retry
    /// starts afresh. A finished key is left alone.
    pub async fn idempotency_abandon(&self, user_id: i64, key: &str) -> Result<()> {
        both!(self.idempotency_abandon(user_id, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_told_apart_by_scheme() {
        assert_eq!(
            Location::parse("postgres://u@h/db"),
            Location::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(
            Location::parse("sqlite:///tmp/x.db"),
            Location::Sqlite("/tmp/x.db".into())
        );
        assert_eq!(Location::parse("x.db"), Location::Sqlite("x.db".into()));
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            Location::Postgres("postgres://app:s3cret@db:5432/t".into()).redacted(),
            "postgres://app:***@db:5432/t"
        );
    }
}
