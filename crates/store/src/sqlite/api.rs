//! The store interface on SQLite: reads run on a pooled connection in the caller, changes
//! go through the writer (one transaction per batch, acknowledged after commit).

use taskman_core::Plan;

use super::{SqliteStore, idempotency, import, ops, tasks};
use crate::error::Result;
use crate::model::*;
use crate::rules::check_bulk;
use crate::sync::SyncReport;

impl SqliteStore {
    pub async fn create_project(
        &self,
        actor: &str,
        name: &str,
        description: &str,
    ) -> Result<Project> {
        let (a, n, d) = (actor.to_string(), name.to_string(), description.to_string());
        self.write(move |c, now| ops::create_project(c, now, &a, &n, &d))
            .await
    }

    pub async fn get_project(&self, id: i64) -> Result<Project> {
        self.read(|c| ops::get_project(c, id))
    }

    pub async fn project_by_name(&self, name: &str) -> Result<Project> {
        self.read(|c| ops::project_by_name(c, name))
    }

    pub async fn list_projects(&self) -> Result<Vec<Project>> {
        self.read(ops::list_projects)
    }

    pub async fn update_project(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
        patch: ProjectPatch,
    ) -> Result<Project> {
        let a = actor.to_string();
        self.write(move |c, now| ops::update_project(c, now, &a, id, expected, &patch))
            .await
    }

    pub async fn delete_project(&self, actor: &str, id: i64, expected: Option<i64>) -> Result<()> {
        let a = actor.to_string();
        self.write(move |c, now| ops::delete_project(c, now, &a, id, expected))
            .await
    }

    pub async fn import_plan(
        &self,
        actor: &str,
        project_id: i64,
        name: &str,
        bytes: Vec<u8>,
        plan: Plan,
    ) -> Result<SyncReport> {
        let (a, n) = (actor.to_string(), name.to_string());
        self.write(move |c, now| import::import(c, now, &a, project_id, &n, &bytes, &plan))
            .await
    }

    /// The quick sync for ticked boxes (see [`crate::quick`]); `None` when the text needs
    /// the full one.
    pub async fn quick_sync(
        &self,
        actor: &str,
        project_id: i64,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<Option<SyncReport>> {
        let (a, n) = (actor.to_string(), name.to_string());
        self.write(move |c, now| import::quick_sync(c, now, &a, project_id, &n, &bytes))
            .await
    }

    pub async fn list_plans(&self, project_id: i64) -> Result<Vec<PlanInfo>> {
        self.read(|c| tasks::list_plans(c, project_id))
    }

    pub async fn get_plan(&self, plan_id: i64) -> Result<PlanInfo> {
        self.read(|c| tasks::get_plan(c, plan_id))
    }

    pub async fn plan_versions(&self, plan_id: i64) -> Result<Vec<PlanVersion>> {
        self.read(|c| tasks::plan_versions(c, plan_id))
    }

    pub async fn plan_source(&self, plan_id: i64, number: Option<i64>) -> Result<Vec<u8>> {
        self.read(|c| tasks::plan_source(c, plan_id, number))
    }

    pub async fn load_plan(&self, plan_id: i64) -> Result<Plan> {
        self.read(|c| tasks::load_plan(c, plan_id))
    }

    pub async fn create_task(
        &self,
        actor: &str,
        project_id: i64,
        task: NewTask,
    ) -> Result<TaskRecord> {
        let a = actor.to_string();
        self.write(move |c, now| tasks::create_task(c, now, &a, project_id, &task))
            .await
    }

    pub async fn get_task(&self, id: i64) -> Result<TaskRecord> {
        self.read(|c| tasks::get_task(c, id))
    }

    pub async fn update_task(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
        patch: TaskPatch,
    ) -> Result<TaskRecord> {
        let a = actor.to_string();
        self.write(move |c, now| tasks::update_task(c, now, &a, id, expected, &patch))
            .await
    }

    /// All or nothing: one writer job, so one savepoint holds every change.
    pub async fn update_tasks(
        &self,
        actor: &str,
        changes: Vec<TaskChange>,
    ) -> Result<Vec<TaskRecord>> {
        check_bulk(changes.len())?;
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let a = actor.to_string();
        self.write(move |c, now| tasks::update_tasks(c, now, &a, &changes))
            .await
    }

    pub async fn delete_task(&self, actor: &str, id: i64, expected: Option<i64>) -> Result<()> {
        let a = actor.to_string();
        self.write(move |c, now| tasks::delete_task(c, now, &a, id, expected))
            .await
    }

    pub async fn list_tasks(
        &self,
        filter: &TaskFilter,
        page: PageRequest,
    ) -> Result<Page<TaskRecord>> {
        let generation = self
            .writer
            .generation
            .load(std::sync::atomic::Ordering::Acquire);
        self.read(|c| tasks::list_tasks(c, filter, page, Some((&self.counts, generation))))
    }

    pub async fn add_dependency(
        &self,
        actor: &str,
        task: i64,
        depends_on: i64,
    ) -> Result<TaskRecord> {
        let a = actor.to_string();
        self.write(move |c, now| tasks::add_dependency(c, now, &a, task, depends_on))
            .await
    }

    pub async fn remove_dependency(
        &self,
        actor: &str,
        task: i64,
        depends_on: i64,
    ) -> Result<TaskRecord> {
        let a = actor.to_string();
        self.write(move |c, now| tasks::remove_dependency(c, now, &a, task, depends_on))
            .await
    }

    pub async fn progress(&self, project_id: i64) -> Result<ProjectProgress> {
        self.read(|c| tasks::progress(c, project_id))
    }

    pub async fn ready(&self, project_id: i64, limit: u32) -> Result<Vec<TaskRecord>> {
        self.read(|c| tasks::ready(c, project_id, limit))
    }

    pub async fn blocked(&self, project_id: i64) -> Result<Vec<BlockedTask>> {
        self.read(|c| tasks::blocked(c, project_id))
    }

    pub async fn events(&self, filter: &EventFilter, page: PageRequest) -> Result<Page<Event>> {
        self.read(|c| ops::events(c, filter, page))
    }

    pub async fn create_user(&self, actor: &str, name: &str, role: Role) -> Result<User> {
        let (a, n) = (actor.to_string(), name.to_string());
        self.write(move |c, now| ops::create_user(c, now, &a, &n, role))
            .await
    }

    pub async fn list_users(&self) -> Result<Vec<User>> {
        self.read(ops::list_users)
    }

    pub async fn create_first_admin(
        &self,
        actor: &str,
        name: &str,
        key_name: &str,
        prefix: &str,
        hash: &str,
    ) -> Result<Option<(User, ApiKey)>> {
        let (a, n, kn, p, h) = (
            actor.to_string(),
            name.to_string(),
            key_name.to_string(),
            prefix.to_string(),
            hash.to_string(),
        );
        self.write(move |c, now| ops::create_first_admin(c, now, &a, &n, &kn, &p, &h))
            .await
    }

    pub async fn create_api_key(
        &self,
        actor: &str,
        user_id: i64,
        name: &str,
        prefix: &str,
        hash: &str,
    ) -> Result<ApiKey> {
        let (a, n, p, h) = (
            actor.to_string(),
            name.to_string(),
            prefix.to_string(),
            hash.to_string(),
        );
        self.write(move |c, now| ops::create_api_key(c, now, &a, user_id, &n, &p, &h))
            .await
    }

    pub async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<(ApiKey, User)>> {
        self.read(|c| ops::api_key_by_prefix(c, prefix))
    }

    pub async fn revoke_api_key(&self, actor: &str, id: i64) -> Result<()> {
        let a = actor.to_string();
        self.write(move |c, now| ops::revoke_api_key(c, now, &a, id))
            .await
    }

    pub async fn create_sprint(
        &self,
        actor: &str,
        project_id: i64,
        sprint: NewSprint,
    ) -> Result<Sprint> {
        let a = actor.to_string();
        self.write(move |c, now| ops::create_sprint(c, now, &a, project_id, &sprint))
            .await
    }

    pub async fn list_sprints(&self, project_id: i64) -> Result<Vec<Sprint>> {
        self.read(|c| ops::list_sprints(c, project_id))
    }

    pub async fn get_sprint(&self, id: i64) -> Result<Sprint> {
        self.read(|c| ops::get_sprint(c, id))
    }

    pub async fn update_sprint(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
        patch: SprintPatch,
    ) -> Result<Sprint> {
        let a = actor.to_string();
        self.write(move |c, now| ops::update_sprint(c, now, &a, id, expected, &patch))
            .await
    }

    pub async fn sprint_task(
        &self,
        actor: &str,
        sprint_id: i64,
        task_id: i64,
        add: bool,
    ) -> Result<Sprint> {
        let a = actor.to_string();
        self.write(move |c, now| ops::sprint_task(c, now, &a, sprint_id, task_id, add))
            .await
    }

    pub async fn close_sprint(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
    ) -> Result<Sprint> {
        let a = actor.to_string();
        self.write(move |c, now| ops::close_sprint(c, now, &a, id, expected))
            .await
    }

    pub async fn create_action_list(
        &self,
        actor: &str,
        project_id: Option<i64>,
        name: &str,
    ) -> Result<ActionList> {
        let (a, n) = (actor.to_string(), name.to_string());
        self.write(move |c, now| ops::create_action_list(c, now, &a, project_id, &n))
            .await
    }

    pub async fn list_action_lists(&self, project_id: Option<i64>) -> Result<Vec<ActionList>> {
        self.read(|c| ops::list_action_lists(c, project_id))
    }

    pub async fn get_action_list(&self, id: i64) -> Result<ActionList> {
        self.read(|c| ops::get_action_list(c, id))
    }

    pub async fn rename_action_list(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
        name: &str,
    ) -> Result<ActionList> {
        let (a, n) = (actor.to_string(), name.to_string());
        self.write(move |c, now| ops::rename_action_list(c, now, &a, id, expected, &n))
            .await
    }

    pub async fn delete_action_list(&self, actor: &str, id: i64) -> Result<()> {
        let a = actor.to_string();
        self.write(move |c, now| ops::delete_action_list(c, now, &a, id))
            .await
    }

    pub async fn add_action_item(
        &self,
        actor: &str,
        list_id: i64,
        title: &str,
        owner: Option<&str>,
        due: Option<&str>,
    ) -> Result<ActionItem> {
        let (a, t) = (actor.to_string(), title.to_string());
        let (o, d) = (owner.map(str::to_string), due.map(str::to_string));
        self.write(move |c, now| {
            ops::add_action_item(c, now, &a, list_id, &t, o.as_deref(), d.as_deref())
        })
        .await
    }

    pub async fn update_action_item(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
        patch: ActionItemPatch,
    ) -> Result<ActionItem> {
        let a = actor.to_string();
        self.write(move |c, now| ops::update_action_item(c, now, &a, id, expected, &patch))
            .await
    }

    pub async fn delete_action_item(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
    ) -> Result<()> {
        let a = actor.to_string();
        self.write(move |c, now| ops::delete_action_item(c, now, &a, id, expected))
            .await
    }

    pub async fn idempotency_begin(
        &self,
        user_id: i64,
        key: &str,
        fingerprint: &str,
    ) -> Result<IdempotencyBegin> {
        crate::idempotency::check_key(key)?;
        let (k, f) = (key.to_string(), fingerprint.to_string());
        self.write(move |c, now| idempotency::begin(c, now, user_id, &k, &f))
            .await
    }

    pub async fn idempotency_finish(
        &self,
        user_id: i64,
        key: &str,
        response: StoredResponse,
    ) -> Result<()> {
        let k = key.to_string();
        self.write(move |c, _| idempotency::finish(c, user_id, &k, &response))
            .await
    }

    pub async fn idempotency_abandon(&self, user_id: i64, key: &str) -> Result<()> {
        let k = key.to_string();
        self.write(move |c, _| idempotency::abandon(c, user_id, &k))
            .await
    }
}
