//! Tasks, dependencies, plans and project analytics on PostgreSQL.

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::json;
use sqlx::postgres::{PgArguments, PgConnection, PgRow};
use sqlx::{Arguments, Row};
use taskman_core::{Effort, Plan, Status};

use super::event;
use super::ops::get_project;
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::rules::{
    changed_fields, check_name, check_version, in_bulk, not_found, paged, patched_task,
    progress_of, with_blockers,
};
use crate::stored::{PlanMeta, SectionRow, TaskData, rebuild_plan};
use crate::sync::Mergeable;

pub(crate) const TASK_COLS: &str = "t.id, t.project_id, t.plan_id, t.key, t.title, t.status, \
    t.priority, t.owner, t.section_id, s.title, t.parent_id, t.position, t.line, t.effort_min, \
    t.effort_max, t.due, t.tags, t.notes, t.version, t.created_at, t.updated_at, t.data";
pub(crate) const TASK_FROM: &str = "tasks t LEFT JOIN sections s ON s.id = t.section_id";

/// True for a task that waits on an open task: one of its own dependencies or one of its
/// parents' (`lineage` holds the task's id and its ancestors').
const WAITS: &str = "EXISTS (SELECT 1 FROM task_deps d JOIN tasks u ON u.id = d.depends_on
        WHERE d.task_id = ANY(t.lineage) AND u.status NOT IN ('done', 'cancelled')
          AND u.id <> t.id)";

pub(crate) fn task_row(r: &PgRow) -> Result<(TaskRecord, TaskData)> {
    let status: String = r.try_get(5)?;
    let tags: String = r.try_get(16)?;
    let data: String = r.try_get(21)?;
    let (emin, emax): (Option<f64>, Option<f64>) = (r.try_get(13)?, r.try_get(14)?);
    Ok((
        TaskRecord {
            id: r.try_get(0)?,
            project_id: r.try_get(1)?,
            plan_id: r.try_get(2)?,
            key: r.try_get(3)?,
            title: r.try_get(4)?,
            status: status_from_str(&status).unwrap_or(Status::Todo),
            priority: priority_from_rank(r.try_get(6)?),
            owner: r.try_get(7)?,
            section_id: r.try_get(8)?,
            section: r.try_get(9)?,
            parent_id: r.try_get(10)?,
            position: r.try_get(11)?,
            line: r.try_get(12)?,
            effort: emin.zip(emax).map(|(a, b)| Effort {
                min_hours: a,
                max_hours: b,
            }),
            due: r.try_get(15)?,
            tags: serde_json::from_str(&tags).unwrap_or_default(),
            notes: r.try_get(17)?,
            depends_on: Vec::new(),
            version: r.try_get(18)?,
            created_at: r.try_get(19)?,
            updated_at: r.try_get(20)?,
        },
        serde_json::from_str(&data).unwrap_or_default(),
    ))
}

pub(crate) async fn fill_deps(c: &mut PgConnection, tasks: &mut [TaskRecord]) -> Result<()> {
    if tasks.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
    let rows = sqlx::query(
        "SELECT DISTINCT task_id, depends_on FROM task_deps WHERE task_id = ANY($1)
         ORDER BY task_id, depends_on",
    )
    .bind(&ids)
    .fetch_all(&mut *c)
    .await?;
    let mut by: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in rows {
        by.entry(r.try_get(0)?).or_default().push(r.try_get(1)?);
    }
    for t in tasks {
        t.depends_on = by.remove(&t.id).unwrap_or_default();
    }
    Ok(())
}

pub(crate) async fn get_task(c: &mut PgConnection, id: i64) -> Result<TaskRecord> {
    let r = sqlx::query(sql!("SELECT {TASK_COLS} FROM {TASK_FROM} WHERE t.id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| not_found("task", id))?;
    let mut v = [task_row(&r)?.0];
    fill_deps(c, &mut v).await?;
    let [t] = v;
    Ok(t)
}

pub(crate) async fn create_task(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    project_id: i64,
    t: &NewTask,
) -> Result<TaskRecord> {
    get_project(c, project_id).await?;
    check_name("task title", &t.title)?;
    if let Some(plan) = t.plan_id {
        let p: Option<i64> = sqlx::query_scalar("SELECT project_id FROM plans WHERE id = $1")
            .bind(plan)
            .fetch_optional(&mut *c)
            .await?;
        if p != Some(project_id) {
            return Err(StoreError::Invalid(format!(
                "plan {plan} is not a plan of project {project_id}"
            )));
        }
    }
    let mut section_id = None;
    if let Some(p) = t.parent_id {
        let parent = get_task(c, p).await?;
        if parent.project_id != project_id {
            return Err(StoreError::Invalid(format!(
                "parent task {p} belongs to another project"
            )));
        }
        section_id = parent.section_id;
    }
    // In a plan: after its last task. Without a plan the position is the id, set below:
    // such tasks keep their creation order (no scan of the project for a maximum).
    let position: i64 = match t.plan_id {
        Some(plan) => {
            sqlx::query_scalar(
                "SELECT COALESCE(max(position) + 1, 0) FROM tasks WHERE plan_id = $1",
            )
            .bind(plan)
            .fetch_one(&mut *c)
            .await?
        }
        None => 0,
    };
    // Without a key of its own a task is `#<position>` (in a plan) or `#<id>` (set below).
    let key = t.key.clone().unwrap_or_else(|| format!("#{position}"));
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tasks (project_id, plan_id, key, title, status, priority, rank, owner,
            section_id, parent_id, position, due, tags, notes, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
         RETURNING id",
    )
    .bind(project_id)
    .bind(t.plan_id)
    .bind(&key)
    .bind(&t.title)
    .bind(t.status.unwrap_or(Status::Todo).as_str())
    .bind(priority_rank(t.priority))
    .bind(priority_rank(t.priority).unwrap_or(4))
    .bind(&t.owner)
    .bind(section_id)
    .bind(t.parent_id)
    .bind(position)
    .bind(&t.due)
    .bind(serde_json::to_string(&t.tags)?)
    .bind(t.notes.clone().unwrap_or_default())
    .bind(now)
    .fetch_one(&mut *c)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::AlreadyExists(_) => {
            StoreError::AlreadyExists(format!("a task with key {key:?} exists in this plan"))
        }
        e => e,
    })?;
    sqlx::query(
        "UPDATE tasks SET lineage = ARRAY[id] || COALESCE(
            (SELECT p.lineage FROM tasks p WHERE p.id = tasks.parent_id), '{}'),
            position = CASE WHEN plan_id IS NULL THEN id ELSE position END,
            key = CASE WHEN plan_id IS NULL AND $2 THEN '#' || id ELSE key END
         WHERE id = $1",
    )
    .bind(id)
    .bind(t.key.is_none())
    .execute(&mut *c)
    .await?;
    set_tags(c, id, &t.tags).await?;
    let rec = get_task(c, id).await?;
    event(
        c,
        now,
        actor,
        Some(project_id),
        Some(id),
        "task.created",
        None,
        Some(&json!(rec)),
    )
    .await?;
    Ok(rec)
}

pub(crate) async fn set_tags(c: &mut PgConnection, id: i64, tags: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM task_tags WHERE task_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    if !tags.is_empty() {
        sqlx::query(
            "INSERT INTO task_tags (task_id, tag) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(tags)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

pub(crate) async fn update_task(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
    patch: &TaskPatch,
) -> Result<TaskRecord> {
    let before = get_task(c, id).await?;
    check_version("task", id, expected, before.version)?;
    let after = patched_task(&before, patch)?;
    if after == before {
        return Ok(before);
    }
    let n = sqlx::query(
        "UPDATE tasks SET title = $2, status = $3, priority = $4, owner = $5, due = $6,
            notes = $7, tags = $8, version = version + 1, updated_at = $9,
            base = CASE WHEN base = '' THEN $11 ELSE base END
         WHERE id = $1 AND version = $10",
    )
    .bind(id)
    .bind(&after.title)
    .bind(after.status.as_str())
    .bind(priority_rank(after.priority))
    .bind(&after.owner)
    .bind(&after.due)
    .bind(&after.notes)
    .bind(serde_json::to_string(&after.tags)?)
    .bind(now)
    .bind(before.version)
    .bind(serde_json::to_string(&Mergeable::of_record(&before))?)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n == 0 {
        // Another server changed it between our read and our write.
        let cur = get_task(c, id).await?;
        return Err(StoreError::VersionConflict {
            entity: "task",
            id,
            expected: expected.unwrap_or(before.version),
            current: cur.version,
        });
    }
    if patch.tags.is_some() {
        set_tags(c, id, &after.tags).await?;
    }
    if patch.priority.is_some() {
        refresh_rank(c, id).await?;
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
    )
    .await?;
    get_task(c, id).await
}

/// Apply each change as [`update_task`] does, in order, in the caller's transaction: the
/// first failure rolls back the changes before it too. The tasks are locked first, in id
/// order, so two bulk updates over the same tasks queue up instead of deadlocking.
pub(crate) async fn update_tasks(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    changes: &[TaskChange],
) -> Result<Vec<TaskRecord>> {
    let mut ids: Vec<i64> = changes.iter().map(|ch| ch.id).collect();
    ids.sort_unstable();
    ids.dedup();
    sqlx::query("SELECT id FROM tasks WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(&ids)
        .execute(&mut *c)
        .await?;
    let mut out = Vec::with_capacity(changes.len());
    for (i, ch) in changes.iter().enumerate() {
        let t = update_task(c, now, actor, ch.id, ch.expected, &ch.patch)
            .await
            .map_err(|e| in_bulk(i, ch.id, e))?;
        out.push(t);
    }
    Ok(out)
}

async fn refresh_rank(c: &mut PgConnection, id: i64) -> Result<()> {
    sqlx::query(
        "WITH RECURSIVE up(id, parent_id, priority, depth) AS (
            SELECT t.id, t.parent_id, t.priority, 0 FROM tasks t WHERE t.id = $1
            UNION ALL
            SELECT p.id, p.parent_id, p.priority, up.depth + 1 FROM tasks p
            JOIN up ON p.id = up.parent_id WHERE up.priority IS NULL
        ),
        start AS (
            SELECT COALESCE((SELECT priority FROM up WHERE priority IS NOT NULL
                             ORDER BY depth LIMIT 1), 4) AS rank
        ),
        sub(id, rank) AS (
            SELECT $1::bigint, (SELECT rank FROM start)
            UNION ALL
            SELECT c.id, COALESCE(c.priority, sub.rank) FROM tasks c JOIN sub ON c.parent_id = sub.id
        )
        UPDATE tasks SET rank = sub.rank FROM sub WHERE tasks.id = sub.id",
    )
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(crate) async fn delete_task(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    id: i64,
    expected: Option<i64>,
) -> Result<()> {
    let before = get_task(c, id).await?;
    check_version("task", id, expected, before.version)?;
    let n = sqlx::query("DELETE FROM tasks WHERE id = $1 AND version = $2")
        .bind(id)
        .bind(before.version)
        .execute(&mut *c)
        .await?
        .rows_affected();
    if n == 0 {
        let cur = get_task(c, id).await?;
        check_version("task", id, Some(before.version), cur.version)?;
    }
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
    .await
}

pub(crate) async fn add_dependency(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    task: i64,
    depends_on: i64,
) -> Result<TaskRecord> {
    let t = get_task(c, task).await?;
    let d = get_task(c, depends_on).await?;
    if t.project_id != d.project_id {
        return Err(StoreError::Invalid(
            "a dependency must stay within one project".into(),
        ));
    }
    if task == depends_on {
        return Err(StoreError::Cycle(vec![task, task]));
    }
    // Serialise dependency changes per project so two servers cannot each add half a
    // cycle.
    sqlx::query("SELECT pg_advisory_xact_lock(7270, $1::int)")
        .bind(t.project_id as i32)
        .execute(&mut *c)
        .await?;
    if let Some(path) = path_between(c, depends_on, task).await? {
        let mut cycle = vec![task];
        cycle.extend(path);
        return Err(StoreError::Cycle(cycle));
    }
    sqlx::query(
        "INSERT INTO task_deps (task_id, depends_on, source) VALUES ($1, $2, 'user')
         ON CONFLICT DO NOTHING",
    )
    .bind(task)
    .bind(depends_on)
    .execute(&mut *c)
    .await?;
    sqlx::query("UPDATE tasks SET version = version + 1, updated_at = $2 WHERE id = $1")
        .bind(task)
        .bind(now)
        .execute(&mut *c)
        .await?;
    event(
        c,
        now,
        actor,
        Some(t.project_id),
        Some(task),
        "dependency.added",
        None,
        Some(&json!({ "task_id": task, "depends_on": depends_on })),
    )
    .await?;
    get_task(c, task).await
}

async fn path_between(c: &mut PgConnection, from: i64, to: i64) -> Result<Option<Vec<i64>>> {
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
        let next: Vec<i64> =
            sqlx::query_scalar("SELECT DISTINCT depends_on FROM task_deps WHERE task_id = $1")
                .bind(n)
                .fetch_all(&mut *c)
                .await?;
        for m in next {
            if seen.insert(m) {
                prev.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    Ok(None)
}

pub(crate) async fn remove_dependency(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    task: i64,
    depends_on: i64,
) -> Result<TaskRecord> {
    let t = get_task(c, task).await?;
    let n = sqlx::query("DELETE FROM task_deps WHERE task_id = $1 AND depends_on = $2")
        .bind(task)
        .bind(depends_on)
        .execute(&mut *c)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(not_found("dependency", format!("{task} -> {depends_on}")));
    }
    sqlx::query("UPDATE tasks SET version = version + 1, updated_at = $2 WHERE id = $1")
        .bind(task)
        .bind(now)
        .execute(&mut *c)
        .await?;
    event(
        c,
        now,
        actor,
        Some(t.project_id),
        Some(task),
        "dependency.removed",
        Some(&json!({ "task_id": task, "depends_on": depends_on })),
        None,
    )
    .await?;
    get_task(c, task).await
}

pub(crate) async fn list_tasks(
    c: &mut PgConnection,
    f: &TaskFilter,
    page: PageRequest,
) -> Result<Page<TaskRecord>> {
    let mut wh: Vec<String> = Vec::new();
    let mut args = PgArguments::default();
    let mut n = 1;
    let _ = args.add(f.project_id);
    if f.project_id.is_some() {
        wh.push("t.project_id = $1".into());
    }
    macro_rules! arg {
        ($clause:expr, $v:expr) => {{
            n += 1;
            let _ = args.add($v);
            wh.push($clause.replace('$', &format!("${n}")));
        }};
    }
    if let Some(p) = f.plan_id {
        arg!("t.plan_id = $", p);
    }
    if let Some(s) = f.section_id {
        arg!("t.section_id = $", s);
    }
    if !f.status.is_empty() {
        let list: Vec<String> = f.status.iter().map(|s| s.as_str().to_string()).collect();
        arg!("t.status = ANY($)", list);
    }
    if let Some(p) = f.priority {
        arg!("t.priority = $", p as i64);
    }
    if let Some(o) = &f.owner {
        arg!("t.owner = $", o.clone());
    }
    if let Some(tag) = &f.tag {
        arg!(
            "t.id IN (SELECT task_id FROM task_tags WHERE tag = $)",
            tag.clone()
        );
    }
    if let Some(q) = f.text.as_deref().filter(|q| !q.trim().is_empty()) {
        arg!("t.search @@ plainto_tsquery('simple', $)", q.to_string());
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
    // $1 must be used in every statement for its type to be known.
    let cond = if wh.is_empty() {
        "($1::bigint IS NULL OR TRUE)".to_string()
    } else if f.project_id.is_none() {
        format!("$1::bigint IS NULL AND {}", wh.join(" AND "))
    } else {
        wh.join(" AND ")
    };
    let total: i64 = sqlx::query_scalar_with(
        sql!("SELECT count(*) FROM tasks t WHERE {cond}"),
        args.clone(),
    )
    .fetch_one(&mut *c)
    .await?;
    let limit = i64::from(page.limit.clamp(1, 1000));
    let _ = args.add(page.after.unwrap_or(0));
    let _ = args.add(limit + 1);
    let sql = format!(
        "SELECT {TASK_COLS} FROM {TASK_FROM} WHERE {cond} AND t.id > ${}
         ORDER BY t.id LIMIT ${}",
        n + 1,
        n + 2
    );
    let rows = sqlx::query_with(sqlx::AssertSqlSafe(sql), args)
        .fetch_all(&mut *c)
        .await?;
    let items = rows
        .iter()
        .map(|r| task_row(r).map(|(t, _)| t))
        .collect::<Result<Vec<_>>>()?;
    let mut p = paged(items, limit, total, |t| t.id);
    fill_deps(c, &mut p.items).await?;
    Ok(p)
}

pub(crate) async fn progress(c: &mut PgConnection, project_id: i64) -> Result<ProjectProgress> {
    get_project(c, project_id).await?;
    let rows =
        sqlx::query("SELECT status, count(*) FROM tasks WHERE project_id = $1 GROUP BY status")
            .bind(project_id)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<Vec<(String, i64)>>>()?;
    Ok(progress_of(rows))
}

pub(crate) async fn ready(
    c: &mut PgConnection,
    project_id: i64,
    limit: u32,
) -> Result<Vec<TaskRecord>> {
    get_project(c, project_id).await?;
    // One query per status, each reading the (project, status, rank, plan, position) index
    // in order and stopping at the limit.
    let mut items: Vec<TaskRecord> = Vec::new();
    for status in ["in_progress", "todo"] {
        let left = i64::from(limit) - items.len() as i64;
        if left <= 0 {
            break;
        }
        let rows = sqlx::query(sql!(
            "SELECT {TASK_COLS} FROM {TASK_FROM}
             WHERE t.project_id = $1 AND t.status = $2 AND NOT {WAITS}
             ORDER BY t.rank, t.plan_id, t.position
             LIMIT $3"
        ))
        .bind(project_id)
        .bind(status)
        .bind(left)
        .fetch_all(&mut *c)
        .await?;
        for r in &rows {
            items.push(task_row(r)?.0);
        }
    }
    fill_deps(c, &mut items).await?;
    Ok(items)
}

pub(crate) async fn blocked(c: &mut PgConnection, project_id: i64) -> Result<Vec<BlockedTask>> {
    get_project(c, project_id).await?;
    let rows = sqlx::query(sql!(
        "SELECT {TASK_COLS} FROM {TASK_FROM}
         WHERE t.project_id = $1 AND t.status NOT IN ('done', 'cancelled', 'deferred')
           AND (t.status = 'blocked' OR {WAITS})
         ORDER BY t.plan_id, t.position, t.id"
    ))
    .bind(project_id)
    .fetch_all(&mut *c)
    .await?;
    let mut items = rows
        .iter()
        .map(|r| task_row(r).map(|(t, _)| t))
        .collect::<Result<Vec<_>>>()?;
    fill_deps(c, &mut items).await?;
    let mut open_deps: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in sqlx::query(
        "SELECT DISTINCT d.task_id, d.depends_on FROM task_deps d JOIN tasks u ON u.id = d.depends_on
         WHERE u.project_id = $1 AND u.status NOT IN ('done', 'cancelled')",
    )
    .bind(project_id)
    .fetch_all(&mut *c)
    .await?
    {
        open_deps
            .entry(r.try_get(0)?)
            .or_default()
            .push(r.try_get(1)?);
    }
    let mut parent: HashMap<i64, i64> = HashMap::new();
    for r in sqlx::query(
        "SELECT id, parent_id FROM tasks WHERE project_id = $1 AND parent_id IS NOT NULL",
    )
    .bind(project_id)
    .fetch_all(&mut *c)
    .await?
    {
        parent.insert(r.try_get(0)?, r.try_get(1)?);
    }
    Ok(with_blockers(items, &open_deps, &parent))
}

// ---- plans

const PLAN_COLS: &str = "id, project_id, name, title, version, created_at, updated_at";

fn plan_info(r: &PgRow) -> Result<PlanInfo> {
    Ok(PlanInfo {
        id: r.try_get(0)?,
        project_id: r.try_get(1)?,
        name: r.try_get(2)?,
        title: r.try_get(3)?,
        version: r.try_get(4)?,
        created_at: r.try_get(5)?,
        updated_at: r.try_get(6)?,
    })
}

pub(crate) async fn list_plans(c: &mut PgConnection, project_id: i64) -> Result<Vec<PlanInfo>> {
    get_project(c, project_id).await?;
    let rows = sqlx::query(sql!(
        "SELECT {PLAN_COLS} FROM plans WHERE project_id = $1 ORDER BY id"
    ))
    .bind(project_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(plan_info).collect()
}

pub(crate) async fn get_plan(c: &mut PgConnection, id: i64) -> Result<PlanInfo> {
    let r = sqlx::query(sql!("SELECT {PLAN_COLS} FROM plans WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| not_found("plan", id))?;
    plan_info(&r)
}

pub(crate) async fn plan_versions(c: &mut PgConnection, plan_id: i64) -> Result<Vec<PlanVersion>> {
    get_plan(c, plan_id).await?;
    let rows = sqlx::query(
        "SELECT number, length(source)::bigint, actor, created_at FROM plan_versions
         WHERE plan_id = $1 ORDER BY number",
    )
    .bind(plan_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PlanVersion {
                number: r.try_get(0)?,
                size: r.try_get(1)?,
                actor: r.try_get(2)?,
                created_at: r.try_get(3)?,
            })
        })
        .collect()
}

pub(crate) async fn plan_source(
    c: &mut PgConnection,
    plan_id: i64,
    number: Option<i64>,
) -> Result<Vec<u8>> {
    let plan = get_plan(c, plan_id).await?;
    let n = number.unwrap_or(plan.version);
    sqlx::query_scalar("SELECT source FROM plan_versions WHERE plan_id = $1 AND number = $2")
        .bind(plan_id)
        .bind(n)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| not_found("plan version", format!("{plan_id}/{n}")))
}

pub(crate) async fn load_sections(
    c: &mut PgConnection,
    plan_id: i64,
) -> Result<Vec<(i64, SectionRow)>> {
    let rows = sqlx::query(
        "SELECT id, title, level, line, parent_position, task_position, declared
         FROM sections WHERE plan_id = $1 ORDER BY position",
    )
    .bind(plan_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            let declared: Option<String> = r.try_get(6)?;
            let level: i32 = r.try_get(2)?;
            let line: i64 = r.try_get(3)?;
            Ok((
                r.try_get(0)?,
                SectionRow {
                    title: r.try_get(1)?,
                    level: level as u8,
                    line: line as u32,
                    parent: r.try_get::<Option<i64>, _>(4)?.map(|p| p as usize),
                    task: r.try_get::<Option<i64>, _>(5)?.map(|p| p as usize),
                    declared: declared.and_then(|d| serde_json::from_str(&d).ok()),
                },
            ))
        })
        .collect()
}

pub(crate) async fn load_plan(c: &mut PgConnection, plan_id: i64) -> Result<Plan> {
    let r = sqlx::query("SELECT title, meta FROM plans WHERE id = $1")
        .bind(plan_id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| not_found("plan", plan_id))?;
    let title: Option<String> = r.try_get(0)?;
    let meta: String = r.try_get(1)?;
    let meta: PlanMeta = serde_json::from_str(&meta)?;
    let sections = load_sections(c, plan_id).await?;
    let rows = sqlx::query(sql!(
        "SELECT {TASK_COLS} FROM {TASK_FROM} WHERE t.plan_id = $1 ORDER BY t.position, t.id"
    ))
    .bind(plan_id)
    .fetch_all(&mut *c)
    .await?;
    let tasks = rows.iter().map(task_row).collect::<Result<Vec<_>>>()?;
    Ok(rebuild_plan(title, meta, &sections, &tasks))
}
