//! Projects, users and API keys, sprints, action lists and the event log on SQLite.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Value, json};

use super::event;
use crate::error::{Result, StoreError};
use crate::model::*;
pub(crate) use crate::rules::{
    check_name, check_sprint, check_version, not_found, paged, patched_item, patched_sprint,
};

const PROJECT_COLS: &str = "id, name, description, version, created_at, updated_at";

fn project_row(r: &Row<'_>) -> rusqlite::Result<Project> {
    Ok(Project {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        version: r.get(3)?,
        created_at: r.get(4)?,
        updated_at: r.get(5)?,
    })
}

pub(crate) fn create_project(
    c: &Connection,
    now: &str,
    actor: &str,
    name: &str,
    description: &str,
) -> Result<Project> {
    check_name("project name", name)?;
    c.execute(
        "INSERT INTO projects (name, description, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
        params![name, description, now],
    )
    .map_err(|e| match StoreError::from(e) {
        StoreError::AlreadyExists(_) => {
            StoreError::AlreadyExists(format!("a project named {name:?} exists"))
        }
        e => e,
    })?;
    let p = get_project(c, c.last_insert_rowid())?;
    event(
        c,
        now,
        actor,
        Some(p.id),
        None,
        "project.created",
        None,
        Some(&json!(p)),
    )?;
    Ok(p)
}

pub(crate) fn get_project(c: &Connection, id: i64) -> Result<Project> {
    c.query_row(
        &format!("SELECT {PROJECT_COLS} FROM projects WHERE id = ?1"),
        [id],
        project_row,
    )
    .optional()?
    .ok_or_else(|| not_found("project", id))
}

pub(crate) fn project_by_name(c: &Connection, name: &str) -> Result<Project> {
    c.query_row(
        &format!("SELECT {PROJECT_COLS} FROM projects WHERE name = ?1"),
        [name],
        project_row,
    )
    .optional()?
    .ok_or_else(|| not_found("project", name))
}

pub(crate) fn list_projects(c: &Connection) -> Result<Vec<Project>> {
    let mut st = c.prepare(&format!("SELECT {PROJECT_COLS} FROM projects ORDER BY id"))?;
    let rows = st.query_map([], project_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn update_project(
    c: &Connection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
    patch: &ProjectPatch,
) -> Result<Project> {
    let before = get_project(c, id)?;
    check_version("project", id, expected, before.version)?;
    if let Some(n) = &patch.name {
        check_name("project name", n)?;
    }
    c.execute(
        "UPDATE projects SET name = COALESCE(?2, name), description = COALESCE(?3, description),
         version = version + 1, updated_at = ?4 WHERE id = ?1",
        params![id, patch.name, patch.description, now],
    )?;
    let after = get_project(c, id)?;
    event(
        c,
        now,
        actor,
        Some(id),
        None,
        "project.updated",
        Some(&json!(before)),
        Some(&json!(after)),
    )?;
    Ok(after)
}

pub(crate) fn delete_project(
    c: &Connection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
) -> Result<()> {
    let before = get_project(c, id)?;
    check_version("project", id, expected, before.version)?;
    c.execute("DELETE FROM projects WHERE id = ?1", [id])?;
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
}

// ---- users and API keys

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(2)?;
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        created_at: r.get(3)?,
    })
}

pub(crate) fn create_user(
    c: &Connection,
    now: &str,
    actor: &str,
    name: &str,
    role: Role,
) -> Result<User> {
    check_name("user name", name)?;
    c.execute(
        "INSERT INTO users (name, role, created_at) VALUES (?1, ?2, ?3)",
        params![name, role.as_str(), now],
    )?;
    let u = get_user(c, c.last_insert_rowid())?;
    event(
        c,
        now,
        actor,
        None,
        None,
        "user.created",
        None,
        Some(&json!(u)),
    )?;
    Ok(u)
}

pub(crate) fn get_user(c: &Connection, id: i64) -> Result<User> {
    c.query_row(
        "SELECT id, name, role, created_at FROM users WHERE id = ?1",
        [id],
        user_row,
    )
    .optional()?
    .ok_or_else(|| not_found("user", id))
}

pub(crate) fn list_users(c: &Connection) -> Result<Vec<User>> {
    let mut st = c.prepare("SELECT id, name, role, created_at FROM users ORDER BY id")?;
    let rows = st.query_map([], user_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn key_row(r: &Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: r.get(0)?,
        user_id: r.get(1)?,
        name: r.get(2)?,
        prefix: r.get(3)?,
        hash: r.get(4)?,
        created_at: r.get(5)?,
        revoked_at: r.get(6)?,
    })
}

const KEY_COLS: &str = "id, user_id, name, prefix, hash, created_at, revoked_at";

pub(crate) fn create_api_key(
    c: &Connection,
    now: &str,
    actor: &str,
    user_id: i64,
    name: &str,
    prefix: &str,
    hash: &str,
) -> Result<ApiKey> {
    get_user(c, user_id)?;
    c.execute(
        "INSERT INTO api_keys (user_id, name, prefix, hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![user_id, name, prefix, hash, now],
    )?;
    let k = c.query_row(
        &format!("SELECT {KEY_COLS} FROM api_keys WHERE id = ?1"),
        [c.last_insert_rowid()],
        key_row,
    )?;
    // The hash is not part of the record: `ApiKey` skips it when serialised.
    event(
        c,
        now,
        actor,
        None,
        None,
        "api_key.created",
        None,
        Some(&json!(k)),
    )?;
    Ok(k)
}

/// With no user yet, the first admin and its API key; `None` when there is a user. Run by
/// the single writer (`BEGIN IMMEDIATE`), so the check and the inserts are one step even
/// for several processes on one file.
#[allow(clippy::too_many_arguments)]
pub(crate) fn create_first_admin(
    c: &Connection,
    now: &str,
    actor: &str,
    name: &str,
    key_name: &str,
    prefix: &str,
    hash: &str,
) -> Result<Option<(User, ApiKey)>> {
    let any: bool = c.query_row("SELECT EXISTS (SELECT 1 FROM users)", [], |r| r.get(0))?;
    if any {
        return Ok(None);
    }
    let u = create_user(c, now, actor, name, Role::Admin)?;
    let k = create_api_key(c, now, actor, u.id, key_name, prefix, hash)?;
    Ok(Some((u, k)))
}

pub(crate) fn api_key_by_prefix(c: &Connection, prefix: &str) -> Result<Option<(ApiKey, User)>> {
    let k = c
        .query_row(
            &format!("SELECT {KEY_COLS} FROM api_keys WHERE prefix = ?1"),
            [prefix],
            key_row,
        )
        .optional()?;
    match k {
        None => Ok(None),
        Some(k) => {
            let u = get_user(c, k.user_id)?;
            Ok(Some((k, u)))
        }
    }
}

pub(crate) fn revoke_api_key(c: &Connection, now: &str, actor: &str, id: i64) -> Result<()> {
    let n = c.execute(
        "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, now],
    )?;
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
}

// ---- sprints

pub(crate) fn create_sprint(
    c: &Connection,
    now: &str,
    actor: &str,
    project_id: i64,
    s: &NewSprint,
) -> Result<Sprint> {
    get_project(c, project_id)?;
    check_sprint(&s.name, &s.starts_on, &s.ends_on)?;
    c.execute(
        "INSERT INTO sprints (project_id, name, starts_on, ends_on, goal, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![project_id, s.name, s.starts_on, s.ends_on, s.goal, now],
    )?;
    let sp = get_sprint(c, c.last_insert_rowid())?;
    event(
        c,
        now,
        actor,
        Some(project_id),
        None,
        "sprint.created",
        None,
        Some(&json!(sp)),
    )?;
    Ok(sp)
}

pub(crate) fn get_sprint(c: &Connection, id: i64) -> Result<Sprint> {
    let mut sp = c
        .query_row(
            "SELECT id, project_id, name, starts_on, ends_on, goal, closed_at, version
             FROM sprints WHERE id = ?1",
            [id],
            |r| {
                Ok(Sprint {
                    id: r.get(0)?,
                    project_id: r.get(1)?,
                    name: r.get(2)?,
                    starts_on: r.get(3)?,
                    ends_on: r.get(4)?,
                    goal: r.get(5)?,
                    closed_at: r.get(6)?,
                    version: r.get(7)?,
                    task_ids: Vec::new(),
                })
            },
        )
        .optional()?
        .ok_or_else(|| not_found("sprint", id))?;
    let mut st =
        c.prepare_cached("SELECT task_id FROM sprint_tasks WHERE sprint_id = ?1 ORDER BY task_id")?;
    sp.task_ids = st
        .query_map([id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(sp)
}

pub(crate) fn list_sprints(c: &Connection, project_id: i64) -> Result<Vec<Sprint>> {
    let ids: Vec<i64> = c
        .prepare("SELECT id FROM sprints WHERE project_id = ?1 ORDER BY starts_on, id")?
        .query_map([project_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    ids.into_iter().map(|id| get_sprint(c, id)).collect()
}

/// Apply `patch` if the sprint is still at `expected` (any version when `None`). A patch
/// that changes nothing is not a change: no new version, no event.
pub(crate) fn update_sprint(
    c: &Connection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
    patch: &SprintPatch,
) -> Result<Sprint> {
    let before = get_sprint(c, id)?;
    check_version("sprint", id, expected, before.version)?;
    let after = patched_sprint(&before, patch)?;
    if after == before {
        return Ok(before);
    }
    c.execute(
        "UPDATE sprints SET name = ?2, starts_on = ?3, ends_on = ?4, goal = ?5,
         version = version + 1 WHERE id = ?1",
        params![id, after.name, after.starts_on, after.ends_on, after.goal],
    )
    .map_err(|e| match StoreError::from(e) {
        StoreError::AlreadyExists(_) => StoreError::AlreadyExists(format!(
            "a sprint named {:?} exists in this project",
            after.name
        )),
        e => e,
    })?;
    let after = get_sprint(c, id)?;
    event(
        c,
        now,
        actor,
        Some(before.project_id),
        None,
        "sprint.updated",
        Some(&json!(before)),
        Some(&json!(after)),
    )?;
    Ok(after)
}

/// Add (`add = true`) or remove a task; closing records `closed_at`.
pub(crate) fn sprint_task(
    c: &Connection,
    now: &str,
    actor: &str,
    sprint_id: i64,
    task_id: i64,
    add: bool,
) -> Result<Sprint> {
    let sp = get_sprint(c, sprint_id)?;
    let project: i64 = c
        .query_row(
            "SELECT project_id FROM tasks WHERE id = ?1",
            [task_id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| not_found("task", task_id))?;
    if project != sp.project_id {
        return Err(StoreError::Invalid(format!(
            "task {task_id} belongs to another project than sprint {sprint_id}"
        )));
    }
    if sp.closed_at.is_some() {
        return Err(StoreError::Invalid(format!("sprint {sprint_id} is closed")));
    }
    if add {
        c.execute(
            "INSERT OR IGNORE INTO sprint_tasks (sprint_id, task_id) VALUES (?1, ?2)",
            [sprint_id, task_id],
        )?;
    } else {
        c.execute(
            "DELETE FROM sprint_tasks WHERE sprint_id = ?1 AND task_id = ?2",
            [sprint_id, task_id],
        )?;
    }
    c.execute(
        "UPDATE sprints SET version = version + 1 WHERE id = ?1",
        [sprint_id],
    )?;
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
    )?;
    get_sprint(c, sprint_id)
}

pub(crate) fn close_sprint(
    c: &Connection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
) -> Result<Sprint> {
    let before = get_sprint(c, id)?;
    check_version("sprint", id, expected, before.version)?;
    c.execute(
        "UPDATE sprints SET closed_at = ?2, version = version + 1 WHERE id = ?1",
        params![id, now],
    )?;
    let after = get_sprint(c, id)?;
    event(
        c,
        now,
        actor,
        Some(before.project_id),
        None,
        "sprint.closed",
        Some(&json!(before)),
        Some(&json!(after)),
    )?;
    Ok(after)
}

// ---- action lists

pub(crate) fn create_action_list(
    c: &Connection,
    now: &str,
    actor: &str,
    project_id: Option<i64>,
    name: &str,
) -> Result<ActionList> {
    check_name("action list name", name)?;
    if let Some(p) = project_id {
        get_project(c, p)?;
    }
    c.execute(
        "INSERT INTO action_lists (project_id, name, created_at) VALUES (?1, ?2, ?3)",
        params![project_id, name, now],
    )?;
    let l = get_action_list(c, c.last_insert_rowid())?;
    event(
        c,
        now,
        actor,
        project_id,
        None,
        "action_list.created",
        None,
        Some(&json!(l)),
    )?;
    Ok(l)
}

fn item_row(r: &Row<'_>) -> rusqlite::Result<ActionItem> {
    Ok(ActionItem {
        id: r.get(0)?,
        list_id: r.get(1)?,
        title: r.get(2)?,
        done: r.get(3)?,
        owner: r.get(4)?,
        due: r.get(5)?,
        position: r.get(6)?,
        version: r.get(7)?,
    })
}

const ITEM_COLS: &str = "id, list_id, title, done, owner, due, position, version";

pub(crate) fn get_action_list(c: &Connection, id: i64) -> Result<ActionList> {
    let mut l = c
        .query_row(
            "SELECT id, project_id, name, version FROM action_lists WHERE id = ?1",
            [id],
            |r| {
                Ok(ActionList {
                    id: r.get(0)?,
                    project_id: r.get(1)?,
                    name: r.get(2)?,
                    version: r.get(3)?,
                    items: Vec::new(),
                })
            },
        )
        .optional()?
        .ok_or_else(|| not_found("action list", id))?;
    let mut st = c.prepare_cached(&format!(
        "SELECT {ITEM_COLS} FROM action_items WHERE list_id = ?1 ORDER BY position, id"
    ))?;
    l.items = st.query_map([id], item_row)?.collect::<Result<_, _>>()?;
    Ok(l)
}

pub(crate) fn list_action_lists(
    c: &Connection,
    project_id: Option<i64>,
) -> Result<Vec<ActionList>> {
    let ids: Vec<i64> = c
        .prepare("SELECT id FROM action_lists WHERE ?1 IS NULL OR project_id = ?1 ORDER BY id")?
        .query_map([project_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    ids.into_iter().map(|id| get_action_list(c, id)).collect()
}

/// Rename the list if it is still at `expected` (any version when `None`); the same name
/// again is not a change.
pub(crate) fn rename_action_list(
    c: &Connection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
    name: &str,
) -> Result<ActionList> {
    let before = get_action_list(c, id)?;
    check_version("action list", id, expected, before.version)?;
    check_name("action list name", name)?;
    if name == before.name {
        return Ok(before);
    }
    c.execute(
        "UPDATE action_lists SET name = ?2, version = version + 1 WHERE id = ?1",
        params![id, name],
    )?;
    let after = get_action_list(c, id)?;
    event(
        c,
        now,
        actor,
        before.project_id,
        None,
        "action_list.updated",
        Some(&json!(before)),
        Some(&json!(after)),
    )?;
    Ok(after)
}

pub(crate) fn delete_action_list(c: &Connection, now: &str, actor: &str, id: i64) -> Result<()> {
    let before = get_action_list(c, id)?;
    c.execute("DELETE FROM action_lists WHERE id = ?1", [id])?;
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
}

fn get_item(c: &Connection, id: i64) -> Result<ActionItem> {
    c.query_row(
        &format!("SELECT {ITEM_COLS} FROM action_items WHERE id = ?1"),
        [id],
        item_row,
    )
    .optional()?
    .ok_or_else(|| not_found("action item", id))
}

pub(crate) fn add_action_item(
    c: &Connection,
    now: &str,
    actor: &str,
    list_id: i64,
    title: &str,
    owner: Option<&str>,
    due: Option<&str>,
) -> Result<ActionItem> {
    let l = get_action_list(c, list_id)?;
    check_name("action item title", title)?;
    let pos = l.items.iter().map(|i| i.position + 1).max().unwrap_or(0);
    c.execute(
        "INSERT INTO action_items (list_id, title, owner, due, position, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![list_id, title, owner, due, pos, now],
    )?;
    let it = get_item(c, c.last_insert_rowid())?;
    event(
        c,
        now,
        actor,
        l.project_id,
        None,
        "action_item.created",
        None,
        Some(&json!(it)),
    )?;
    Ok(it)
}

pub(crate) fn update_action_item(
    c: &Connection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
    patch: &ActionItemPatch,
) -> Result<ActionItem> {
    let before = get_item(c, id)?;
    check_version("action item", id, expected, before.version)?;
    let after = patched_item(&before, patch)?;
    c.execute(
        "UPDATE action_items SET title = ?2, done = ?3, owner = ?4, due = ?5,
         version = version + 1, updated_at = ?6 WHERE id = ?1",
        params![id, after.title, after.done, after.owner, after.due, now],
    )?;
    let after = get_item(c, id)?;
    let project: Option<i64> = c.query_row(
        "SELECT project_id FROM action_lists WHERE id = ?1",
        [before.list_id],
        |r| r.get(0),
    )?;
    event(
        c,
        now,
        actor,
        project,
        None,
        "action_item.updated",
        Some(&json!(before)),
        Some(&json!(after)),
    )?;
    Ok(after)
}

pub(crate) fn delete_action_item(
    c: &Connection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
) -> Result<()> {
    let before = get_item(c, id)?;
    check_version("action item", id, expected, before.version)?;
    c.execute("DELETE FROM action_items WHERE id = ?1", [id])?;
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
}

// ---- events

pub(crate) fn events(c: &Connection, f: &EventFilter, page: PageRequest) -> Result<Page<Event>> {
    let where_ = "(?1 IS NULL OR project_id = ?1) AND (?2 IS NULL OR task_id = ?2)
        AND (?3 IS NULL OR actor = ?3) AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR at < ?5)";
    let total: i64 = c.query_row(
        &format!("SELECT count(*) FROM events WHERE {where_}"),
        params![f.project_id, f.task_id, f.actor, f.since, f.until],
        |r| r.get(0),
    )?;
    let limit = i64::from(page.limit.clamp(1, 1000));
    let mut st = c.prepare_cached(&format!(
        "SELECT id, at, actor, project_id, task_id, action, before, after FROM events
         WHERE {where_} AND id > ?6 ORDER BY id LIMIT ?7"
    ))?;
    let items: Vec<Event> = st
        .query_map(
            params![
                f.project_id,
                f.task_id,
                f.actor,
                f.since,
                f.until,
                page.after.unwrap_or(0),
                limit + 1
            ],
            |r| {
                let before: Option<String> = r.get(6)?;
                let after: Option<String> = r.get(7)?;
                Ok(Event {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    project_id: r.get(3)?,
                    task_id: r.get(4)?,
                    action: r.get(5)?,
                    before: before.and_then(|s| serde_json::from_str::<Value>(&s).ok()),
                    after: after.and_then(|s| serde_json::from_str::<Value>(&s).ok()),
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    Ok(paged(items, limit, total, |e| e.id))
}
