//! The store interface on PostgreSQL: each change is one transaction, committed before
//! it is acknowledged; reads take a pooled connection.

use sqlx::postgres::PgConnection;
use taskman_core::Plan;

use super::{PgStore, idempotency, import, ops, tasks};
use crate::error::Result;
use crate::model::*;
use crate::rules::check_bulk;
use crate::sync::SyncReport;

/// Run `$body` (an expression using `$c: &mut PgConnection` and `$now: &str`) in a
/// transaction; commit on success, roll back on error.
macro_rules! write {
    ($self:ident, |$c:ident, $now:ident| $body:expr) => {{
        let mut tx = $self.pool.begin().await?;
        let now_s = $self.clock.now();
        let r = {
            let $c: &mut PgConnection = &mut tx;
            let $now: &str = &now_s;
            $body.await
        };
        match r {
            Ok(v) => {
                tx.commit().await?;
                Ok(v)
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }};
}

macro_rules! read {
    ($self:ident, |$c:ident| $body:expr) => {{
        let mut conn = $self.pool.acquire().await?;
        let $c: &mut PgConnection = &mut conn;
        $body.await
    }};
}

impl PgStore {
    pub async fn create_project(
        &self,
        actor: &str,
        name: &str,
        description: &str,
    ) -> Result<Project> {
        let (a, n, d) = (actor.to_string(), name.to_string(), description.to_string());
        write!(self, |c, now| ops::create_project(c, now, &a, &n, &d))
    }

    pub async fn get_project(&self, id: i64) -> Result<Project> {
        read!(self, |c| ops::get_project(c, id))
    }

    pub async fn project_by_name(&self, name: &str) -> Result<Project> {
        read!(self, |c| ops::project_by_name(c, name))
    }

    pub async fn list_projects(&self) -> Result<Vec<Project>> {
        read!(self, |c| ops::list_projects(c))
    }

    pub async fn update_project(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
        patch: ProjectPatch,
    ) -> Result<Project> {
        let a = actor.to_string();
        write!(self, |c, now| ops::update_project(
            c, now, &a, id, expected, &patch
        ))
    }

    pub async fn delete_project(&self, actor: &str, id: i64, expected: Option<i64>) -> Result<()> {
        let a = actor.to_string();
        write!(self, |c, now| ops::delete_project(c, now, &a, id, expected))
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
        let report: SyncReport = write!(self, |c, now| import::import(
            c, now, &a, project_id, &n, &bytes, &plan
        ))?;
        if report.added.len() > 1000 {
            // Fresh statistics after a big import, once it is acknowledged: without them
            // the planner takes a filter on a few thousand rows for one row (a page of 50
            // ran 100 times slower). VACUUM sets the visibility map too, so counting a
            // filter's matches reads the index alone (a page's total: 2.5 ms -> 1 ms for
            // 6,666 of 10,000 tasks). Autovacuum would get there, later.
            let pool = self.pool.clone();
            tokio::spawn(async move {
                // The simple protocol: VACUUM refuses to run in a transaction block.
                let _ = sqlx::raw_sql("VACUUM (ANALYZE) tasks, task_deps, task_tags")
                    .execute(&pool)
                    .await;
            });
        }
        Ok(report)
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
        write!(self, |c, now| import::quick_sync(
            c, now, actor, project_id, name, &bytes
        ))
    }

    pub async fn list_plans(&self, project_id: i64) -> Result<Vec<PlanInfo>> {
        read!(self, |c| tasks::list_plans(c, project_id))
    }

    pub async fn get_plan(&self, plan_id: i64) -> Result<PlanInfo> {
        read!(self, |c| tasks::get_plan(c, plan_id))
    }

    pub async fn plan_versions(&self, plan_id: i64) -> Result<Vec<PlanVersion>> {
        read!(self, |c| tasks::plan_versions(c, plan_id))
    }

    pub async fn plan_source(&self, plan_id: i64, number: Option<i64>) -> Result<Vec<u8>> {
        read!(self, |c| tasks::plan_source(c, plan_id, number))
    }

    pub async fn load_plan(&self, plan_id: i64) -> Result<Plan> {
        read!(self, |c| tasks::load_plan(c, plan_id))
    }

    pub async fn create_task(
        &self,
        actor: &str,
        project_id: i64,
        task: NewTask,
    ) -> Result<TaskRecord> {
        let a = actor.to_string();
        write!(self, |c, now| tasks::create_task(
            c, now, &a, project_id, &task
        ))
    }

    pub async fn get_task(&self, id: i64) -> Result<TaskRecord> {
        read!(self, |c| tasks::get_task(c, id))
    }

    pub async fn update_task(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
        patch: TaskPatch,
    ) -> Result<TaskRecord> {
        let a = actor.to_string();
        write!(self, |c, now| tasks::update_task(
            c, now, &a, id, expected, &patch
        ))
    }

    /// All or nothing: one transaction holds every change.
    pub async fn update_tasks(
        &self,
        actor: &str,
        changes: Vec<TaskChange>,
    ) -> Result<Vec<TaskRecord>> {
        check_bulk(changes.len())?;
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        write!(self, |c, now| tasks::update_tasks(c, now, actor, &changes))
    }

    pub async fn delete_task(&self, actor: &str, id: i64, expected: Option<i64>) -> Result<()> {
        let a = actor.to_string();
        write!(self, |c, now| tasks::delete_task(c, now, &a, id, expected))
    }

    pub async fn list_tasks(
        &self,
        filter: &TaskFilter,
        page: PageRequest,
    ) -> Result<Page<TaskRecord>> {
        read!(self, |c| tasks::list_tasks(c, filter, page))
    }

    pub async fn add_dependency(
        &self,
        actor: &str,
        task: i64,
        depends_on: i64,
    ) -> Result<TaskRecord> {
        let a = actor.to_string();
        write!(self, |c, now| tasks::add_dependency(
            c, now, &a, task, depends_on
        ))
    }

    pub async fn remove_dependency(
        &self,
        actor: &str,
        task: i64,
        depends_on: i64,
    ) -> Result<TaskRecord> {
        let a = actor.to_string();
        write!(self, |c, now| tasks::remove_dependency(
            c, now, &a, task, depends_on
        ))
    }

    pub async fn progress(&self, project_id: i64) -> Result<ProjectProgress> {
        read!(self, |c| tasks::progress(c, project_id))
    }

    pub async fn ready(&self, project_id: i64, limit: u32) -> Result<Vec<TaskRecord>> {
        read!(self, |c| tasks::ready(c, project_id, limit))
    }

    pub async fn blocked(&self, project_id: i64) -> Result<Vec<BlockedTask>> {
        read!(self, |c| tasks::blocked(c, project_id))
    }

    pub async fn events(&self, filter: &EventFilter, page: PageRequest) -> Result<Page<Event>> {
        read!(self, |c| ops::events(c, filter, page))
    }

    pub async fn create_user(&self, actor: &str, name: &str, role: Role) -> Result<User> {
        let (a, n) = (actor.to_string(), name.to_string());
        write!(self, |c, now| ops::create_user(c, now, &a, &n, role))
    }

    pub async fn list_users(&self) -> Result<Vec<User>> {
        read!(self, |c| ops::list_users(c))
    }

    pub async fn create_first_admin(
        &self,
        actor: &str,
        name: &str,
        key_name: &str,
        prefix: &str,
        hash: &str,
    ) -> Result<Option<(User, ApiKey)>> {
        write!(self, |c, now| ops::create_first_admin(
            c, now, actor, name, key_name, prefix, hash
        ))
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
        write!(self, |c, now| ops::create_api_key(
            c, now, &a, user_id, &n, &p, &h
        ))
    }

    pub async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<(ApiKey, User)>> {
        read!(self, |c| ops::api_key_by_prefix(c, prefix))
    }

    pub async fn revoke_api_key(&self, actor: &str, id: i64) -> Result<()> {
        let a = actor.to_string();
        write!(self, |c, now| ops::revoke_api_key(c, now, &a, id))
    }

    pub async fn create_sprint(
        &self,
        actor: &str,
        project_id: i64,
        sprint: NewSprint,
    ) -> Result<Sprint> {
        let a = actor.to_string();
        write!(self, |c, now| ops::create_sprint(
            c, now, &a, project_id, &sprint
        ))
    }

    pub async fn list_sprints(&self, project_id: i64) -> Result<Vec<Sprint>> {
        read!(self, |c| ops::list_sprints(c, project_id))
    }

    pub async fn get_sprint(&self, id: i64) -> Result<Sprint> {
        read!(self, |c| ops::get_sprint(c, id))
    }

    pub async fn update_sprint(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
        patch: SprintPatch,
    ) -> Result<Sprint> {
        write!(self, |c, now| ops::update_sprint(
            c, now, actor, id, expected, &patch
        ))
    }

    pub async fn sprint_task(
        &self,
        actor: &str,
        sprint_id: i64,
        task_id: i64,
        add: bool,
    ) -> Result<Sprint> {
        let a = actor.to_string();
        write!(self, |c, now| ops::sprint_task(
            c, now, &a, sprint_id, task_id, add
        ))
    }

    pub async fn close_sprint(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
    ) -> Result<Sprint> {
        let a = actor.to_string();
        write!(self, |c, now| ops::close_sprint(c, now, &a, id, expected))
    }

    pub async fn create_action_list(
        &self,
        actor: &str,
        project_id: Option<i64>,
        name: &str,
    ) -> Result<ActionList> {
        let (a, n) = (actor.to_string(), name.to_string());
        write!(self, |c, now| ops::create_action_list(
            c, now, &a, project_id, &n
        ))
    }

    pub async fn list_action_lists(&self, project_id: Option<i64>) -> Result<Vec<ActionList>> {
        read!(self, |c| ops::list_action_lists(c, project_id))
    }

    pub async fn get_action_list(&self, id: i64) -> Result<ActionList> {
        read!(self, |c| ops::get_action_list(c, id))
    }

    pub async fn rename_action_list(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
        name: &str,
    ) -> Result<ActionList> {
        write!(self, |c, now| ops::rename_action_list(
            c, now, actor, id, expected, name
        ))
    }

    pub async fn delete_action_list(&self, actor: &str, id: i64) -> Result<()> {
        let a = actor.to_string();
        write!(self, |c, now| ops::delete_action_list(c, now, &a, id))
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
        write!(self, |c, now| ops::add_action_item(
            c,
            now,
            &a,
            list_id,
            &t,
            o.as_deref(),
            d.as_deref()
        ))
    }

    pub async fn update_action_item(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
        patch: ActionItemPatch,
    ) -> Result<ActionItem> {
        let a = actor.to_string();
        write!(self, |c, now| ops::update_action_item(
            c, now, &a, id, expected, &patch
        ))
    }

    pub async fn delete_action_item(
        &self,
        actor: &str,
        id: i64,
        expected: Option<i64>,
    ) -> Result<()> {
        let a = actor.to_string();
        write!(self, |c, now| ops::delete_action_item(
            c, now, &a, id, expected
        ))
    }

    /// Outside a transaction: each statement of a claim commits on its own, so no lock is
    /// held from one to the next.
    pub async fn idempotency_begin(
        &self,
        user_id: i64,
        key: &str,
        fingerprint: &str,
    ) -> Result<IdempotencyBegin> {
        crate::idempotency::check_key(key)?;
        let now = self.clock.now();
        let mut c = self.pool.acquire().await?;
        idempotency::begin(&mut c, &now, user_id, key, fingerprint).await
    }

    pub async fn idempotency_finish(
        &self,
        user_id: i64,
        key: &str,
        response: StoredResponse,
    ) -> Result<()> {
        let mut c = self.pool.acquire().await?;
        idempotency::finish(&mut c, user_id, key, &response).await
    }

    pub async fn idempotency_abandon(&self, user_id: i64, key: &str) -> Result<()> {
        let mut c = self.pool.acquire().await?;
        idempotency::abandon(&mut c, user_id, key).await
    }
}
