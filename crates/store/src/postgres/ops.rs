//! Projects, users and API keys, sprints, action lists and the event log on PostgreSQL.

use serde_json::{Value, json};
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgRow};

use super::event;
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::rules::{
    check_name, check_sprint, check_version, not_found, paged, patched_item, patched_sprint,
};

const PROJECT_COLS: &str = "id, name, description, version, created_at, updated_at";

fn project_row(r: &PgRow) -> Result<Project> {
    Ok(Project {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        description: r.try_get(2)?,
        version: r.try_get(3)?,
        created_at: r.try_get(4)?,
        updated_at: r.try_get(5)?,
    })
}

pub(crate) async fn create_project(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    name: &str,
    description: &str,
) -> Result<Project> {
    check_name("project name", name)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO projects (name, description, created_at, updated_at) VALUES ($1, $2, $3, $3)
         RETURNING id",
    )
    .bind(name)
    .bind(description)
    .bind(now)
    .fetch_one(&mut *c)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::AlreadyExists(_) => {
            StoreError::AlreadyExists(format!("a project named {name:?} exists"))
        }
        e => e,
    })?;
    let p = get_project(c, id).await?;
    event(
        c,
        now,
        actor,
        Some(id),
        None,
        "project.created",
        None,
        Some(&json!(p)),
    )
    .await?;
    Ok(p)
}

pub(crate) async fn get_project(c: &mut PgConnection, id: i64) -> Result<Project> {
    let r = sqlx::query(sql!("SELECT {PROJECT_COLS} FROM projects WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| not_found("project", id))?;
    project_row(&r)
}

pub(crate) async fn project_by_name(c: &mut PgConnection, name: &str) -> Result<Project> {
    let r = sqlx::query(sql!("SELECT {PROJECT_COLS} FROM projects WHERE name = $1"))
        .bind(name)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| not_found("project", name))?;
    project_row(&r)
}

pub(crate) async fn list_projects(c: &mut PgConnection) -> Result<Vec<Project>> {
    let rows = sqlx::query(sql!("SELECT {PROJECT_COLS} FROM projects ORDER BY id"))
        .fetch_all(&mut *c)
        .await?;
    rows.iter().map(project_row).collect()
}

pub(crate) async fn update_project(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
    patch: &ProjectPatch,
) -> Result<Project> {
    let before = get_project(c, id).await?;
    check_version("project", id, expected, before.version)?;
    if let Some(n) = &patch.name {
        check_name("project name", n)?;
    }
    let n = sqlx::query(
        "UPDATE projects SET name = COALESCE($2, name), description = COALESCE($3, description),
         version = version + 1, updated_at = $4 WHERE id = $1 AND version = $5",
    )
    .bind(id)
    .bind(&patch.name)
    .bind(&patch.description)
    .bind(now)
    .bind(before.version)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n == 0 {
        let cur = get_project(c, id).await?;
        check_version("project", id, Some(before.version), cur.version)?;
    }
    let after = get_project(c, id).await?;
    event(
        c,
        now,
        actor,
        Some(id),
        None,
        "project.updated",
        Some(&json!(before)),
        Some(&json!(after)),
    )
    .await?;
    Ok(after)
}

pub(crate) async fn delete_project(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
) -> Result<()> {
    let before = get_project(c, id).await?;
    check_version("project", id, expected, before.version)?;
    sqlx::query("DELETE FROM projects WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    event(
        c,
        now,
        actor,
        Some(id),
        None,
        "project.deleted",
        Some(&json!(before)),
        None,
    )
    .await
}

// ---- users and API keys

fn user_row(r: &PgRow) -> Result<User> {
    let role: String = r.try_get(2)?;
    Ok(User {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        created_at: r.try_get(3)?,
    })
}

pub(crate) async fn create_user(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    name: &str,
    role: Role,
) -> Result<User> {
    check_name("user name", name)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (name, role, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(name)
    .bind(role.as_str())
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    let u = get_user(c, id).await?;
    event(
        c,
        now,
        actor,
        None,
        None,
        "user.created",
        None,
        Some(&json!(u)),
    )
    .await?;
    Ok(u)
}

pub(crate) async fn get_user(c: &mut PgConnection, id: i64) -> Result<User> {
    let r = sqlx::query("SELECT id, name, role, created_at FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| not_found("user", id))?;
    user_row(&r)
}

pub(crate) async fn list_users(c: &mut PgConnection) -> Result<Vec<User>> {
    let rows = sqlx::query("SELECT id, name, role, created_at FROM users ORDER BY id")
        .fetch_all(&mut *c)
        .await?;
    rows.iter().map(user_row).collect()
}

const KEY_COLS: &str = "id, user_id, name, prefix, hash, created_at, revoked_at";

fn key_row(r: &PgRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: r.try_get(0)?,
        user_id: r.try_get(1)?,
        name: r.try_get(2)?,
        prefix: r.try_get(3)?,
        hash: r.try_get(4)?,
        created_at: r.try_get(5)?,
        revoked_at: r.try_get(6)?,
    })
}

pub(crate) async fn create_api_key(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    user_id: i64,
    name: &str,
    prefix: &str,
    hash: &str,
) -> Result<ApiKey> {
    get_user(c, user_id).await?;
    let r = sqlx::query(sql!(
        "INSERT INTO api_keys (user_id, name, prefix, hash, created_at) VALUES ($1, $2, $3, $4, $5)
         RETURNING {KEY_COLS}"
    ))
    .bind(user_id)
    .bind(name)
    .bind(prefix)
    .bind(hash)
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    let k = key_row(&r)?;
    event(
        c,
        now,
        actor,
        None,
        None,
        "api_key.created",
        None,
        Some(&json!(k)),
    )
    .await?;
    Ok(k)
}

/// Advisory lock key of the first admin's creation (any constant unique in this crate).
const FIRST_ADMIN_LOCK: i64 = 72_707_370;

/// With no user yet, the first admin and its API key; `None` when there is a user. In the
/// caller's transaction, under a transaction-level advisory lock: two servers starting at
/// once on an empty database queue here, and the second (its next statement sees the
/// first's commit under READ COMMITTED) finds the admin and makes nothing.
pub(crate) async fn create_first_admin(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    name: &str,
    key_name: &str,
    prefix: &str,
    hash: &str,
) -> Result<Option<(User, ApiKey)>> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(FIRST_ADMIN_LOCK)
        .execute(&mut *c)
        .await?;
    let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)")
        .fetch_one(&mut *c)
        .await?;
    if any {
        return Ok(None);
    }
    let u = create_user(c, now, actor, name, Role::Admin).await?;
    let k = create_api_key(c, now, actor, u.id, key_name, prefix, hash).await?;
    Ok(Some((u, k)))
}

pub(crate) async fn api_key_by_prefix(
    c: &mut PgConnection,
    prefix: &str,
) -> Result<Option<(ApiKey, User)>> {
    let r = sqlx::query(sql!("SELECT {KEY_COLS} FROM api_keys WHERE prefix = $1"))
        .bind(prefix)
        .fetch_optional(&mut *c)
        .await?;
    match r {
        None => Ok(None),
        Some(r) => {
            let k = key_row(&r)?;
            let u = get_user(c, k.user_id).await?;
            Ok(Some((k, u)))
        }
    }
}

pub(crate) async fn revoke_api_key(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    id: i64,
) -> Result<()> {
    let n = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(not_found("api key", id));
    }
    event(
        c,
        now,
        actor,
        None,
        None,
        "api_key.revoked",
        None,
        Some(&json!({ "id": id })),
    )
    .await
}

// ---- sprints

pub(crate) async fn create_sprint(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    project_id: i64,
    s: &NewSprint,
) -> Result<Sprint> {
    get_project(c, project_id).await?;
    check_sprint(&s.name, &s.starts_on, &s.ends_on)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO sprints (project_id, name, starts_on, ends_on, goal, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(project_id)
    .bind(&s.name)
    .bind(&s.starts_on)
    .bind(&s.ends_on)
    .bind(&s.goal)
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    let sp = get_sprint(c, id).await?;
    event(
        c,
        now,
        actor,
        Some(project_id),
        None,
        "sprint.created",
        None,
        Some(&json!(sp)),
    )
    .await?;
    Ok(sp)
}

pub(crate) async fn get_sprint(c: &mut PgConnection, id: i64) -> Result<Sprint> {
    let r = sqlx::query(
        "SELECT id, project_id, name, starts_on, ends_on, goal, closed_at, version
         FROM sprints WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .ok_or_else(|| not_found("sprint", id))?;
    let task_ids: Vec<i64> = sqlx::query_scalar(
        "SELECT task_id FROM sprint_tasks WHERE sprint_id = $1 ORDER BY task_id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    Ok(Sprint {
        id: r.try_get(0)?,
        project_id: r.try_get(1)?,
        name: r.try_get(2)?,
        starts_on: r.try_get(3)?,
        ends_on: r.try_get(4)?,
        goal: r.try_get(5)?,
        closed_at: r.try_get(6)?,
        version: r.try_get(7)?,
        task_ids,
    })
}

pub(crate) async fn list_sprints(c: &mut PgConnection, project_id: i64) -> Result<Vec<Sprint>> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM sprints WHERE project_id = $1 ORDER BY starts_on, id")
            .bind(project_id)
            .fetch_all(&mut *c)
            .await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(get_sprint(c, id).await?);
    }
    Ok(out)
}

/// Apply `patch` if the sprint is still at `expected` (any version when `None`); the
/// version is checked again in the `UPDATE` itself. A patch that changes nothing is not a
/// change: no new version, no event.
pub(crate) async fn update_sprint(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
    patch: &SprintPatch,
) -> Result<Sprint> {
    let before = get_sprint(c, id).await?;
    check_version("sprint", id, expected, before.version)?;
    let after = patched_sprint(&before, patch)?;
    if after == before {
        return Ok(before);
    }
    let n = sqlx::query(
        "UPDATE sprints SET name = $2, starts_on = $3, ends_on = $4, goal = $5,
         version = version + 1 WHERE id = $1 AND version = $6",
    )
    .bind(id)
    .bind(&after.name)
    .bind(&after.starts_on)
    .bind(&after.ends_on)
    .bind(&after.goal)
    .bind(before.version)
    .execute(&mut *c)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::AlreadyExists(_) => StoreError::AlreadyExists(format!(
            "a sprint named {:?} exists in this project",
            after.name
        )),
        e => e,
    })?
    .rows_affected();
    if n == 0 {
        // Another server changed it between our read and our write.
        let cur = get_sprint(c, id).await?;
        return Err(StoreError::VersionConflict {
            entity: "sprint",
            id,
            expected: expected.unwrap_or(before.version),
            current: cur.version,
        });
    }
    let after = get_sprint(c, id).await?;
    event(
        c,
        now,
        actor,
        Some(before.project_id),
        None,
        "sprint.updated",
        Some(&json!(before)),
        Some(&json!(after)),
    )
    .await?;
    Ok(after)
}

pub(crate) async fn sprint_task(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    sprint_id: i64,
    task_id: i64,
    add: bool,
) -> Result<Sprint> {
    let sp = get_sprint(c, sprint_id).await?;
    let project: i64 = sqlx::query_scalar("SELECT project_id FROM tasks WHERE id = $1")
        .bind(task_id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| not_found("task", task_id))?;
    if project != sp.project_id {
        return Err(StoreError::Invalid(format!(
            "task {task_id} belongs to another project than sprint {sprint_id}"
        )));
    }
    if sp.closed_at.is_some() {
        return Err(StoreError::Invalid(format!("sprint {sprint_id} is closed")));
    }
    let sql = if add {
        "INSERT INTO sprint_tasks (sprint_id, task_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM sprint_tasks WHERE sprint_id = $1 AND task_id = $2"
    };
    sqlx::query(sql)
        .bind(sprint_id)
        .bind(task_id)
        .execute(&mut *c)
        .await?;
    sqlx::query("UPDATE sprints SET version = version + 1 WHERE id = $1")
        .bind(sprint_id)
        .execute(&mut *c)
        .await?;
    event(
        c,
        now,
        actor,
        Some(sp.project_id),
        Some(task_id),
        if add {
            "sprint.task_added"
        } else {
            "sprint.task_removed"
        },
        None,
        Some(&json!({ "sprint_id": sprint_id })),
    )
    .await?;
    get_sprint(c, sprint_id).await
}

pub(crate) async fn close_sprint(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
) -> Result<Sprint> {
    let before = get_sprint(c, id).await?;
    check_version("sprint", id, expected, before.version)?;
    sqlx::query("UPDATE sprints SET closed_at = $2, version = version + 1 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut *c)
        .await?;
    let after = get_sprint(c, id).await?;
    event(
        c,
        now,
        actor,
        Some(before.project_id),
        None,
        "sprint.closed",
        Some(&json!(before)),
        Some(&json!(after)),
    )
    .await?;
    Ok(after)
}

// ---- action lists

const ITEM_COLS: &str = "id, list_id, title, done, owner, due, position, version";

fn item_row(r: &PgRow) -> Result<ActionItem> {
    Ok(ActionItem {
        id: r.try_get(0)?,
        list_id: r.try_get(1)?,
        title: r.try_get(2)?,
        done: r.try_get(3)?,
        owner: r.try_get(4)?,
        due: r.try_get(5)?,
        position: r.try_get(6)?,
        version: r.try_get(7)?,
    })
}

pub(crate) async fn create_action_list(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    project_id: Option<i64>,
    name: &str,
) -> Result<ActionList> {
    check_name("action list name", name)?;
    if let Some(p) = project_id {
        get_project(c, p).await?;
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO action_lists (project_id, name, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(project_id)
    .bind(name)
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    let l = get_action_list(c, id).await?;
    event(
        c,
        now,
        actor,
        project_id,
        None,
        "action_list.created",
        None,
        Some(&json!(l)),
    )
    .await?;
    Ok(l)
}

pub(crate) async fn get_action_list(c: &mut PgConnection, id: i64) -> Result<ActionList> {
    let r = sqlx::query("SELECT id, project_id, name, version FROM action_lists WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| not_found("action list", id))?;
    let items = sqlx::query(sql!(
        "SELECT {ITEM_COLS} FROM action_items WHERE list_id = $1 ORDER BY position, id"
    ))
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    Ok(ActionList {
        id: r.try_get(0)?,
        project_id: r.try_get(1)?,
        name: r.try_get(2)?,
        version: r.try_get(3)?,
        items: items.iter().map(item_row).collect::<Result<_>>()?,
    })
}

pub(crate) async fn list_action_lists(
    c: &mut PgConnection,
    project_id: Option<i64>,
) -> Result<Vec<ActionList>> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM action_lists WHERE $1::bigint IS NULL OR project_id = $1 ORDER BY id",
    )
    .bind(project_id)
    .fetch_all(&mut *c)
    .await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(get_action_list(c, id).await?);
    }
    Ok(out)
}

/// Rename the list if it is still at `expected` (any version when `None`; checked again
/// in the `UPDATE`); the same name again is not a change.
pub(crate) async fn rename_action_list(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
    name: &str,
) -> Result<ActionList> {
    let before = get_action_list(c, id).await?;
    check_version("action list", id, expected, before.version)?;
    check_name("action list name", name)?;
    if name == before.name {
        return Ok(before);
    }
    let n = sqlx::query(
        "UPDATE action_lists SET name = $2, version = version + 1 WHERE id = $1 AND version = $3",
    )
    .bind(id)
    .bind(name)
    .bind(before.version)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n == 0 {
        let cur = get_action_list(c, id).await?;
        return Err(StoreError::VersionConflict {
            entity: "action list",
            id,
            expected: expected.unwrap_or(before.version),
            current: cur.version,
        });
    }
    let after = get_action_list(c, id).await?;
    event(
        c,
        now,
        actor,
        before.project_id,
        None,
        "action_list.updated",
        Some(&json!(before)),
        Some(&json!(after)),
    )
    .await?;
    Ok(after)
}

pub(crate) async fn delete_action_list(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    id: i64,
) -> Result<()> {
    let before = get_action_list(c, id).await?;
    sqlx::query("DELETE FROM action_lists WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    event(
        c,
        now,
        actor,
        before.project_id,
        None,
        "action_list.deleted",
        Some(&json!(before)),
        None,
    )
    .await
}

async fn get_item(c: &mut PgConnection, id: i64) -> Result<ActionItem> {
    let r = sqlx::query(sql!("SELECT {ITEM_COLS} FROM action_items WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| not_found("action item", id))?;
    item_row(&r)
}

pub(crate) async fn add_action_item(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    list_id: i64,
    title: &str,
    owner: Option<&str>,
    due: Option<&str>,
) -> Result<ActionItem> {
    let l = get_action_list(c, list_id).await?;
    check_name("action item title", title)?;
    let pos = l.items.iter().map(|i| i.position + 1).max().unwrap_or(0);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO action_items (list_id, title, owner, due, position, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(list_id)
    .bind(title)
    .bind(owner)
    .bind(due)
    .bind(pos)
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    let it = get_item(c, id).await?;
    event(
        c,
        now,
        actor,
        l.project_id,
        None,
        "action_item.created",
        None,
        Some(&json!(it)),
    )
    .await?;
    Ok(it)
}

pub(crate) async fn update_action_item(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
    patch: &ActionItemPatch,
) -> Result<ActionItem> {
    let before = get_item(c, id).await?;
    check_version("action item", id, expected, before.version)?;
    let after = patched_item(&before, patch)?;
    let n = sqlx::query(
        "UPDATE action_items SET title = $2, done = $3, owner = $4, due = $5,
         version = version + 1, updated_at = $6 WHERE id = $1 AND version = $7",
    )
    .bind(id)
    .bind(&after.title)
    .bind(after.done)
    .bind(&after.owner)
    .bind(&after.due)
    .bind(now)
    .bind(before.version)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n == 0 {
        let cur = get_item(c, id).await?;
        check_version("action item", id, Some(before.version), cur.version)?;
    }
    let after = get_item(c, id).await?;
    let project: Option<i64> =
        sqlx::query_scalar("SELECT project_id FROM action_lists WHERE id = $1")
            .bind(before.list_id)
            .fetch_one(&mut *c)
            .await?;
    event(
        c,
        now,
        actor,
        project,
        None,
        "action_item.updated",
        Some(&json!(before)),
        Some(&json!(after)),
    )
    .await?;
    Ok(after)
}

pub(crate) async fn delete_action_item(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
) -> Result<()> {
    let before = get_item(c, id).await?;
    check_version("action item", id, expected, before.version)?;
    sqlx::query("DELETE FROM action_items WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    event(
        c,
        now,
        actor,
        None,
        None,
        "action_item.deleted",
        Some(&json!(before)),
        None,
    )
    .await
}

// ---- events

pub(crate) async fn events(
    c: &mut PgConnection,
    f: &EventFilter,
    page: PageRequest,
) -> Result<Page<Event>> {
    let where_ = "($1::bigint IS NULL OR project_id = $1) AND ($2::bigint IS NULL OR task_id = $2)
        AND ($3::text IS NULL OR actor = $3) AND ($4::text IS NULL OR at >= $4)
        AND ($5::text IS NULL OR at < $5)";
    let total: i64 = sqlx::query_scalar(sql!("SELECT count(*) FROM events WHERE {where_}"))
        .bind(f.project_id)
        .bind(f.task_id)
        .bind(&f.actor)
        .bind(&f.since)
        .bind(&f.until)
        .fetch_one(&mut *c)
        .await?;
    let limit = i64::from(page.limit.clamp(1, 1000));
    let rows = sqlx::query(sql!(
        "SELECT id, at, actor, project_id, task_id, action, before, after FROM events
         WHERE {where_} AND id > $6 ORDER BY id LIMIT $7"
    ))
    .bind(f.project_id)
    .bind(f.task_id)
    .bind(&f.actor)
    .bind(&f.since)
    .bind(&f.until)
    .bind(page.after.unwrap_or(0))
    .bind(limit + 1)
    .fetch_all(&mut *c)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            let before: Option<String> = r.try_get(6)?;
            let after: Option<String> = r.try_get(7)?;
            Ok(Event {
                id: r.try_get(0)?,
                at: r.try_get(1)?,
                actor: r.try_get(2)?,
                project_id: r.try_get(3)?,
                task_id: r.try_get(4)?,
                action: r.try_get(5)?,
                before: before.and_then(|s| serde_json::from_str::<Value>(&s).ok()),
                after: after.and_then(|s| serde_json::from_str::<Value>(&s).ok()),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(paged(items, limit, total, |e| e.id))
}
