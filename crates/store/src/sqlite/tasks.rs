//! Tasks, dependencies, plans and project analytics on SQLite.

use std::collections::{HashMap, HashSet, VecDeque};

use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::json;
use taskman_core::{Effort, Plan, Status};

use super::event;
use super::ops::get_project;
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::rules::{
    changed_fields, check_name, check_version, fts_query, in_bulk, not_found, paged, patched_task,
    progress_of, with_blockers,
};
use crate::stored::{PlanMeta, SectionRow, TaskData, rebuild_plan};
use crate::sync::Mergeable;

// The section's title comes from a scalar subquery, not a LEFT JOIN: with the join SQLite
// prepares `... WHERE t.id = ?1` again at every run (the bound value feeds its join
// simplification), which cost more than the lookup itself.
pub(crate) const TASK_COLS: &str = "t.id, t.project_id, t.plan_id, t.key, t.title, t.status, \
    t.priority, t.owner, t.section_id, (SELECT s.title FROM sections s WHERE s.id = t.section_id), \
    t.parent_id, t.position, t.line, t.effort_min, \
    t.effort_max, t.due, t.tags, t.notes, t.version, t.created_at, t.updated_at, t.data, \
    (SELECT json_group_array(depends_on) FROM (SELECT DISTINCT depends_on FROM task_deps \
        WHERE task_id = t.id ORDER BY depends_on))";
pub(crate) const TASK_FROM: &str = "tasks t";

/// True for a task that waits on an open task: one of its own dependencies or one of its
/// parents' (`lineage` holds the task's id and its ancestors').
const WAITS: &str = "EXISTS (SELECT 1 FROM json_each(t.lineage) a
        JOIN task_deps d ON d.task_id = a.value JOIN tasks u ON u.id = d.depends_on
        WHERE u.status NOT IN ('done', 'cancelled') AND u.id <> t.id)";

/// A task row with the plan engine's data of the task (for rebuilding a plan).
pub(crate) fn task_row(r: &Row<'_>) -> rusqlite::Result<(TaskRecord, TaskData)> {
    let data: String = r.get(21)?;
    Ok((
        record_row(r)?,
        serde_json::from_str(&data).unwrap_or_default(),
    ))
}

/// A task row as the API and CLI see it (the `data` column is not read).
pub(crate) fn record_row(r: &Row<'_>) -> rusqlite::Result<TaskRecord> {
    let status: String = r.get(5)?;
    let tags: String = r.get(16)?;
    let (emin, emax): (Option<f64>, Option<f64>) = (r.get(13)?, r.get(14)?);
    Ok(TaskRecord {
        id: r.get(0)?,
        project_id: r.get(1)?,
        plan_id: r.get(2)?,
        key: r.get(3)?,
        title: r.get(4)?,
        status: status_from_str(&status).unwrap_or(Status::Todo),
        priority: priority_from_rank(r.get(6)?),
        owner: r.get(7)?,
        section_id: r.get(8)?,
        section: r.get(9)?,
        parent_id: r.get(10)?,
        position: r.get(11)?,
        line: r.get(12)?,
        effort: emin.zip(emax).map(|(a, b)| Effort {
            min_hours: a,
            max_hours: b,
        }),
        due: r.get(15)?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        notes: r.get(17)?,
        depends_on: {
            let deps: Option<String> = r.get(22)?;
            deps.and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or_default()
        },
        version: r.get(18)?,
        created_at: r.get(19)?,
        updated_at: r.get(20)?,
    })
}

pub(crate) fn get_task(c: &Connection, id: i64) -> Result<TaskRecord> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {TASK_COLS} FROM {TASK_FROM} WHERE t.id = ?1"
    ))?;
    let t = st
        .query_row([id], record_row)
        .optional()?
        .ok_or_else(|| not_found("task", id))?;
    Ok(t)
}

pub(crate) fn create_task(
    c: &Connection,
    now: &str,
    actor: &str,
    project_id: i64,
    t: &NewTask,
) -> Result<TaskRecord> {
    get_project(c, project_id)?;
    check_name("task title", &t.title)?;
    if let Some(plan) = t.plan_id {
        let p: Option<i64> = c
            .query_row("SELECT project_id FROM plans WHERE id = ?1", [plan], |r| {
                r.get(0)
            })
            .optional()?;
        if p != Some(project_id) {
            return Err(StoreError::Invalid(format!(
                "plan {plan} is not a plan of project {project_id}"
            )));
        }
    }
    let parent_section: Option<(Option<i64>, i64)> = match t.parent_id {
        None => None,
        Some(p) => {
            let parent = get_task(c, p)?;
            if parent.project_id != project_id {
                return Err(StoreError::Invalid(format!(
                    "parent task {p} belongs to another project"
                )));
            }
            Some((parent.section_id, p))
        }
    };
    // In a plan: after its last task. Without a plan the position is the id, set below:
    // such tasks keep their creation order (no scan of the project for a maximum).
    let position: i64 = match t.plan_id {
        Some(plan) => c
            .prepare_cached("SELECT COALESCE(max(position) + 1, 0) FROM tasks WHERE plan_id = ?1")?
            .query_row([plan], |r| r.get(0))?,
        None => 0,
    };
    // Without a key of its own a task is `#<position>` (in a plan) or `#<id>` (set below).
    let key = t.key.clone().unwrap_or_else(|| format!("#{position}"));
    let rank = priority_rank(t.priority).unwrap_or(4);
    c.execute(
        "INSERT INTO tasks (project_id, plan_id, key, title, status, priority, rank, owner,
            section_id, parent_id, position, due, tags, notes, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)",
        params![
            project_id,
            t.plan_id,
            key,
            t.title,
            t.status.unwrap_or(Status::Todo).as_str(),
            priority_rank(t.priority),
            rank,
            t.owner,
            parent_section.and_then(|p| p.0),
            t.parent_id,
            position,
            t.due,
            serde_json::to_string(&t.tags)?,
            t.notes.clone().unwrap_or_default(),
            now
        ],
    )
    .map_err(|e| match StoreError::from(e) {
        StoreError::AlreadyExists(_) => {
            StoreError::AlreadyExists(format!("a task with key {key:?} exists in this plan"))
        }
        e => e,
    })?;
    let id = c.last_insert_rowid();
    let mut lineage = vec![id];
    if let Some(p) = t.parent_id {
        let up: String =
            c.query_row("SELECT lineage FROM tasks WHERE id = ?1", [p], |r| r.get(0))?;
        lineage.extend(serde_json::from_str::<Vec<i64>>(&up)?);
    }
    let (position, key) = match t.plan_id {
        Some(_) => (position, key),
        None => (id, t.key.clone().unwrap_or_else(|| format!("#{id}"))),
    };
    c.prepare_cached("UPDATE tasks SET lineage = ?2, position = ?3, key = ?4 WHERE id = ?1")?
        .execute(params![id, serde_json::to_string(&lineage)?, position, key])?;
    // Indexed for search when the batch commits (see writer.rs), not inside this savepoint.
    c.prepare_cached("INSERT INTO fts_pending (id) VALUES (?1)")?
        .execute([id])?;
    set_tags(c, id, &t.tags)?;
    let rec = get_task(c, id)?;
    event(
        c,
        now,
        actor,
        Some(project_id),
        Some(id),
        "task.created",
        None,
        Some(&json!(rec)),
    )?;
    Ok(rec)
}

/// Add new tasks (ids from `first` on) to the full-text index.
pub(crate) fn index_text(c: &Connection, first: i64) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO tasks_fts (rowid, title, notes) SELECT id, title, notes FROM tasks WHERE id >= ?1",
    )?
    .execute([first])?;
    Ok(())
}

pub(crate) fn set_tags(c: &Connection, id: i64, tags: &[String]) -> Result<()> {
    c.prepare_cached("DELETE FROM task_tags WHERE task_id = ?1")?
        .execute([id])?;
    let mut st =
        c.prepare_cached("INSERT OR IGNORE INTO task_tags (task_id, tag) VALUES (?1, ?2)")?;
    for t in tags {
        st.execute(params![id, t])?;
    }
    Ok(())
}

/// Apply `patch` if the task is still at `expected` (any version when `None`).
pub(crate) fn update_task(
    c: &Connection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
    patch: &TaskPatch,
) -> Result<TaskRecord> {
    let before = get_task(c, id)?;
    check_version("task", id, expected, before.version)?;
    let after = patched_task(&before, patch)?;
    if after == before {
        return Ok(before);
    }
    // An empty base means "the same as the row's values" (see `sync::stored_base`): keep
    // the values the file agreed to before they change.
    c.prepare_cached(
        "UPDATE tasks SET title = ?2, status = ?3, priority = ?4, owner = ?5, due = ?6,
            notes = ?7, tags = ?8, version = version + 1, updated_at = ?9,
            base = CASE WHEN base = '' THEN ?11 ELSE base END
         WHERE id = ?1 AND version = ?10",
    )?
    .execute(params![
        id,
        after.title,
        after.status.as_str(),
        priority_rank(after.priority),
        after.owner,
        after.due,
        after.notes,
        serde_json::to_string(&after.tags)?,
        now,
        before.version,
        serde_json::to_string(&Mergeable::of_record(&before))?
    ])?;
    if patch.tags.is_some() {
        set_tags(c, id, &after.tags)?;
    }
    if patch.priority.is_some() {
        refresh_rank(c, id)?;
    }
    let (b, a) = changed_fields(&before, &after);
    let action = if before.status != after.status {
        "task.status_changed"
    } else {
        "task.updated"
    };
    event(
        c,
        now,
        actor,
        Some(before.project_id),
        Some(id),
        action,
        Some(&b),
        Some(&a),
    )?;
    get_task(c, id)
}

/// Apply each change as [`update_task`] does, in order. The writer runs the whole list as
/// one job in one savepoint, so the first failure undoes the changes before it too.
pub(crate) fn update_tasks(
    c: &Connection,
    now: &str,
    actor: &str,
    changes: &[TaskChange],
) -> Result<Vec<TaskRecord>> {
    changes
        .iter()
        .enumerate()
        .map(|(i, ch)| {
            update_task(c, now, actor, ch.id, ch.expected, &ch.patch)
                .map_err(|e| in_bulk(i, ch.id, e))
        })
        .collect()
}

/// Recompute the inherited priority ("rank") of a task and everything under it.
fn refresh_rank(c: &Connection, id: i64) -> Result<()> {
    c.execute(
        "WITH RECURSIVE sub(id, rank) AS (
            SELECT t.id, COALESCE(t.priority,
                (WITH RECURSIVE up(pid, pr) AS (
                    SELECT p.parent_id, p.priority FROM tasks p WHERE p.id = t.parent_id
                    UNION ALL
                    SELECT q.parent_id, q.priority FROM tasks q JOIN up ON q.id = up.pid
                    WHERE up.pr IS NULL)
                 SELECT pr FROM up WHERE pr IS NOT NULL LIMIT 1), 4)
            FROM tasks t WHERE t.id = ?1
            UNION ALL
            SELECT c.id, COALESCE(c.priority, sub.rank) FROM tasks c JOIN sub ON c.parent_id = sub.id
        )
        UPDATE tasks SET rank = (SELECT rank FROM sub WHERE sub.id = tasks.id)
        WHERE id IN (SELECT id FROM sub)",
        [id],
    )?;
    Ok(())
}

pub(crate) fn delete_task(
    c: &Connection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
) -> Result<()> {
    let before = get_task(c, id)?;
    check_version("task", id, expected, before.version)?;
    c.execute("DELETE FROM tasks WHERE id = ?1", [id])?;
    event(
        c,
        now,
        actor,
        Some(before.project_id),
        Some(id),
        "task.deleted",
        Some(&json!(before)),
        None,
    )
}

/// Add `task` -> `depends_on`, refusing a dependency that would close a cycle.
pub(crate) fn add_dependency(
    c: &Connection,
    now: &str,
    actor: &str,
    task: i64,
    depends_on: i64,
) -> Result<TaskRecord> {
    let t = get_task(c, task)?;
    let d = get_task(c, depends_on)?;
    if t.project_id != d.project_id {
        return Err(StoreError::Invalid(
            "a dependency must stay within one project".into(),
        ));
    }
    if task == depends_on {
        return Err(StoreError::Cycle(vec![task, task]));
    }
    if let Some(path) = path_between(c, depends_on, task)? {
        // depends_on already (transitively) waits on task: task -> depends_on -> ... -> task.
        let mut cycle = vec![task];
        cycle.extend(path);
        return Err(StoreError::Cycle(cycle));
    }
    c.execute(
        "INSERT OR IGNORE INTO task_deps (task_id, depends_on, source) VALUES (?1, ?2, 'user')",
        [task, depends_on],
    )?;
    c.execute(
        "UPDATE tasks SET version = version + 1, updated_at = ?2 WHERE id = ?1",
        params![task, now],
    )?;
    event(
        c,
        now,
        actor,
        Some(t.project_id),
        Some(task),
        "dependency.added",
        None,
        Some(&json!({ "task_id": task, "depends_on": depends_on })),
    )?;
    get_task(c, task)
}

/// Breadth-first search along dependencies from `from` to `to`; the path, both ends
/// included.
fn path_between(c: &Connection, from: i64, to: i64) -> Result<Option<Vec<i64>>> {
    let mut st =
        c.prepare_cached("SELECT DISTINCT depends_on FROM task_deps WHERE task_id = ?1")?;
    let mut prev: HashMap<i64, i64> = HashMap::new();
    let mut seen: HashSet<i64> = HashSet::from([from]);
    let mut queue = VecDeque::from([from]);
    while let Some(n) = queue.pop_front() {
        if n == to {
            let mut path = vec![to];
            let mut cur = to;
            while let Some(&p) = prev.get(&cur) {
                path.push(p);
                cur = p;
            }
            path.reverse();
            return Ok(Some(path));
        }
        let next: Vec<i64> = st.query_map([n], |r| r.get(0))?.collect::<Result<_, _>>()?;
        for m in next {
            if seen.insert(m) {
                prev.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    Ok(None)
}

pub(crate) fn remove_dependency(
    c: &Connection,
    now: &str,
    actor: &str,
    task: i64,
    depends_on: i64,
) -> Result<TaskRecord> {
    let t = get_task(c, task)?;
    let n = c.execute(
        "DELETE FROM task_deps WHERE task_id = ?1 AND depends_on = ?2",
        [task, depends_on],
    )?;
    if n == 0 {
        return Err(not_found("dependency", format!("{task} -> {depends_on}")));
    }
    c.execute(
        "UPDATE tasks SET version = version + 1, updated_at = ?2 WHERE id = ?1",
        params![task, now],
    )?;
    event(
        c,
        now,
        actor,
        Some(t.project_id),
        Some(task),
        "dependency.removed",
        Some(&json!({ "task_id": task, "depends_on": depends_on })),
        None,
    )?;
    get_task(c, task)
}

pub(crate) fn list_tasks(
    c: &Connection,
    f: &TaskFilter,
    page: PageRequest,
    counts: Option<(&super::CountCache, u64)>,
) -> Result<Page<TaskRecord>> {
    let mut wh: Vec<String> = Vec::new();
    let mut args: Vec<Box<dyn ToSql>> = Vec::new();
    // ?1 is always the project (or NULL). Values are bound through CAST(): a bare `?n`
    // next to `ORDER BY t.id` makes SQLite prepare the statement again at every run.
    args.push(Box::new(f.project_id));
    if f.project_id.is_some() {
        wh.push("t.project_id = CAST(?1 AS INTEGER)".into());
    }
    let mut arg = |wh: &mut Vec<String>, clause: &str, v: Box<dyn ToSql>| {
        args.push(v);
        let n = args.len();
        let cast =
            if clause.contains("MATCH") || clause.contains("tag =") || clause.contains("owner =") {
                format!("CAST(?{n} AS TEXT)")
            } else {
                format!("CAST(?{n} AS INTEGER)")
            };
        wh.push(clause.replace('$', &cast));
    };
    if let Some(p) = f.plan_id {
        arg(&mut wh, "t.plan_id = $", Box::new(p));
    }
    if let Some(s) = f.section_id {
        arg(&mut wh, "t.section_id = $", Box::new(s));
    }
    if !f.status.is_empty() {
        // The statuses are our own words (`todo`, `done`, ...), written into the SQL so
        // the planner sees them.
        let list: Vec<String> = f
            .status
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        wh.push(format!("t.status IN ({})", list.join(", ")));
    }
    if let Some(p) = f.priority {
        arg(&mut wh, "t.priority = $", Box::new(p as i64));
    }
    if let Some(o) = &f.owner {
        arg(&mut wh, "t.owner = $", Box::new(o.clone()));
    }
    if let Some(tag) = &f.tag {
        arg(
            &mut wh,
            "t.id IN (SELECT task_id FROM task_tags WHERE tag = $)",
            Box::new(tag.clone()),
        );
    }
    if let Some(q) = f.text.as_deref().and_then(fts_query) {
        arg(
            &mut wh,
            "t.id IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH $)",
            Box::new(q),
        );
    }
    let needs_waiting = f.ready || f.blocked;
    if needs_waiting && f.project_id.is_none() {
        return Err(StoreError::Invalid(
            "ready and blocked need a project".into(),
        ));
    }
    if f.ready {
        wh.push(format!(
            "t.status IN ('todo', 'in_progress') AND NOT {WAITS}"
        ));
    }
    if f.blocked {
        wh.push(format!(
            "t.status NOT IN ('done', 'cancelled', 'deferred')
                 AND (t.status = 'blocked' OR {WAITS})"
        ));
    }
    let cond = if wh.is_empty() {
        "1 = 1".to_string()
    } else {
        wh.join(" AND ")
    };
    let count = || -> Result<i64> {
        Ok(
            c.prepare_cached(&format!("SELECT count(*) FROM tasks t WHERE {cond}"))?
                .query_row(params_from_iter(args.iter()), |r| r.get(0))?,
        )
    };
    let total: i64 = match counts {
        Some((cache, generation)) => cache.get_or(format!("{f:?}"), generation, count)?,
        None => count()?,
    };
    let limit = i64::from(page.limit.clamp(1, 1000));
    args.push(Box::new(page.after.unwrap_or(0)));
    let after_i = args.len();
    args.push(Box::new(limit + 1));
    let limit_i = args.len();
    // Pages follow the id. When many rows match (over 2% of the table's ids), walking the
    // table in id order from the cursor finds a page after a few thousand rows at worst;
    // the planner would otherwise take the filter's index and sort every match first.
    let max_id: i64 = c
        .prepare_cached("SELECT COALESCE(max(id), 0) FROM tasks")?
        .query_row([], |r| r.get(0))?;
    let from = if total > 0 && total.saturating_mul(50) >= max_id && total > limit {
        "tasks t NOT INDEXED"
    } else {
        TASK_FROM
    };
    let sql = format!(
        "SELECT {TASK_COLS} FROM {from} WHERE {cond} AND t.id > CAST(?{after_i} AS INTEGER)
         ORDER BY t.id LIMIT CAST(?{limit_i} AS INTEGER)"
    );
    let mut st = c.prepare_cached(&sql)?;
    let mut items: Vec<TaskRecord> = st
        .query_map(params_from_iter(args.iter()), record_row)?
        .collect::<Result<_, _>>()?;
    Ok(paged(std::mem::take(&mut items), limit, total, |t| t.id))
}

pub(crate) fn progress(c: &Connection, project_id: i64) -> Result<ProjectProgress> {
    get_project(c, project_id)?;
    let mut st = c.prepare_cached(
        "SELECT status, count(*) FROM tasks WHERE project_id = ?1 GROUP BY status",
    )?;
    let rows: Vec<(String, i64)> = st
        .query_map([project_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(progress_of(rows))
}

/// Ready work of a project, in the order the plan engine gives: in progress first, then
/// by (inherited) priority, then plan order.
pub(crate) fn ready(c: &Connection, project_id: i64, limit: u32) -> Result<Vec<TaskRecord>> {
    get_project(c, project_id)?;
    // One query per status, each reading the (project, status, rank, plan, position) index
    // in order and stopping at the limit: no sort over the whole project.
    let mut st = c.prepare_cached(&format!(
        "SELECT {TASK_COLS} FROM {TASK_FROM}
         WHERE t.project_id = ?1 AND t.status = ?2 AND NOT {WAITS}
         ORDER BY t.rank, t.plan_id, t.position
         LIMIT ?3"
    ))?;
    let mut items: Vec<TaskRecord> = Vec::new();
    for status in ["in_progress", "todo"] {
        let left = i64::from(limit) - items.len() as i64;
        if left <= 0 {
            break;
        }
        let rows = st.query_map(params![project_id, status, left], record_row)?;
        for r in rows {
            items.push(r?);
        }
    }
    Ok(items)
}

/// Open tasks that wait, each with the open tasks it waits on (its own dependencies and
/// its parents').
pub(crate) fn blocked(c: &Connection, project_id: i64) -> Result<Vec<BlockedTask>> {
    get_project(c, project_id)?;
    let mut st = c.prepare_cached(&format!(
        "SELECT {TASK_COLS} FROM {TASK_FROM}
         WHERE t.project_id = ?1 AND t.status NOT IN ('done', 'cancelled', 'deferred')
           AND (t.status = 'blocked' OR {WAITS})
         ORDER BY t.plan_id, t.position, t.id"
    ))?;
    let items: Vec<TaskRecord> = st
        .query_map([project_id], record_row)?
        .collect::<Result<_, _>>()?;
    let mut open_deps: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut st = c.prepare_cached(
        "SELECT DISTINCT d.task_id, d.depends_on FROM task_deps d JOIN tasks u ON u.id = d.depends_on
         WHERE u.project_id = ?1 AND u.status NOT IN ('done', 'cancelled')",
    )?;
    for r in st.query_map([project_id], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (t, d) = r?;
        open_deps.entry(t).or_default().push(d);
    }
    let mut parent: HashMap<i64, i64> = HashMap::new();
    let mut st = c.prepare_cached(
        "SELECT id, parent_id FROM tasks WHERE project_id = ?1 AND parent_id IS NOT NULL",
    )?;
    for r in st.query_map([project_id], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (t, p) = r?;
        parent.insert(t, p);
    }
    Ok(with_blockers(items, &open_deps, &parent))
}

// ---- plans

fn plan_info(r: &Row<'_>) -> rusqlite::Result<PlanInfo> {
    Ok(PlanInfo {
        id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        title: r.get(3)?,
        version: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

const PLAN_COLS: &str = "id, project_id, name, title, version, created_at, updated_at";

pub(crate) fn list_plans(c: &Connection, project_id: i64) -> Result<Vec<PlanInfo>> {
    get_project(c, project_id)?;
    let mut st = c.prepare(&format!(
        "SELECT {PLAN_COLS} FROM plans WHERE project_id = ?1 ORDER BY id"
    ))?;
    let rows = st.query_map([project_id], plan_info)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn get_plan(c: &Connection, id: i64) -> Result<PlanInfo> {
    c.query_row(
        &format!("SELECT {PLAN_COLS} FROM plans WHERE id = ?1"),
        [id],
        plan_info,
    )
    .optional()?
    .ok_or_else(|| not_found("plan", id))
}

pub(crate) fn plan_versions(c: &Connection, plan_id: i64) -> Result<Vec<PlanVersion>> {
    get_plan(c, plan_id)?;
    let mut st = c.prepare(
        "SELECT number, length(source), actor, created_at FROM plan_versions
         WHERE plan_id = ?1 ORDER BY number",
    )?;
    let rows = st.query_map([plan_id], |r| {
        Ok(PlanVersion {
            number: r.get(0)?,
            size: r.get(1)?,
            actor: r.get(2)?,
            created_at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The source text of a version (the newest when `number` is `None`).
pub(crate) fn plan_source(c: &Connection, plan_id: i64, number: Option<i64>) -> Result<Vec<u8>> {
    let plan = get_plan(c, plan_id)?;
    let n = number.unwrap_or(plan.version);
    c.query_row(
        "SELECT source FROM plan_versions WHERE plan_id = ?1 AND number = ?2",
        [plan_id, n],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| not_found("plan version", format!("{plan_id}/{n}")))
}

/// The plan rebuilt from the database, with the database's statuses and values.
pub(crate) fn load_plan(c: &Connection, plan_id: i64) -> Result<Plan> {
    let (title, meta): (Option<String>, String) = c
        .query_row(
            "SELECT title, meta FROM plans WHERE id = ?1",
            [plan_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| not_found("plan", plan_id))?;
    let meta: PlanMeta = serde_json::from_str(&meta)?;
    let mut st = c.prepare(
        "SELECT id, title, level, line, parent_position, task_position, declared
         FROM sections WHERE plan_id = ?1 ORDER BY position",
    )?;
    let sections: Vec<(i64, SectionRow)> = st
        .query_map([plan_id], |r| {
            let declared: Option<String> = r.get(6)?;
            Ok((
                r.get(0)?,
                SectionRow {
                    title: r.get(1)?,
                    level: r.get(2)?,
                    line: r.get(3)?,
                    parent: r.get::<_, Option<i64>>(4)?.map(|p| p as usize),
                    task: r.get::<_, Option<i64>>(5)?.map(|p| p as usize),
                    declared: declared.and_then(|d| serde_json::from_str(&d).ok()),
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut st = c.prepare(&format!(
        "SELECT {TASK_COLS} FROM {TASK_FROM} WHERE t.plan_id = ?1 ORDER BY t.position, t.id"
    ))?;
    let tasks: Vec<(TaskRecord, TaskData)> = st
        .query_map([plan_id], task_row)?
        .collect::<Result<_, _>>()?;
    Ok(rebuild_plan(title, meta, &sections, &tasks))
}
