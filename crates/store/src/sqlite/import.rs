//! Import and sync of a plan's text on SQLite: the rows follow the plan that
//! [`crate::sync::plan_sync`] decided, in one transaction.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;
use taskman_core::Plan;

use super::event;
use super::ops::get_project;
use crate::error::Result;
use crate::model::priority_rank;
use crate::stored::{PlanMeta, SectionRow, lineage_of, match_sections, task_columns};
use crate::sync::{Mergeable, StoredTask, SyncReport, plan_sync, read_base, stored_base};

/// Store `bytes` (already parsed into `plan`) as the newest version of plan `name` in the
/// project, creating the plan or syncing it.
pub(crate) fn import(
    c: &Connection,
    now: &str,
    actor: &str,
    project_id: i64,
    name: &str,
    bytes: &[u8],
    plan: &Plan,
) -> Result<SyncReport> {
    get_project(c, project_id)?;
    let existing: Option<(i64, i64)> = c
        .query_row(
            "SELECT id, version FROM plans WHERE project_id = ?1 AND name = ?2",
            params![project_id, name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (plan_id, prev) = match existing {
        Some(p) => p,
        None => {
            c.execute(
                "INSERT INTO plans (project_id, name, title, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![project_id, name, plan.title, now],
            )?;
            (c.last_insert_rowid(), 0)
        }
    };
    let same_text = prev > 0
        && c.query_row(
            "SELECT source = ?3 FROM plan_versions WHERE plan_id = ?1 AND number = ?2",
            params![plan_id, prev, bytes],
            |r| r.get::<_, bool>(0),
        )?;
    let version = if same_text {
        prev
    } else {
        c.execute(
            "INSERT INTO plan_versions (plan_id, number, source, actor, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![plan_id, prev + 1, bytes, actor, now],
        )?;
        prev + 1
    };

    // Stored tasks are read before the sections change, so "moved" compares with the
    // sections as they were.
    let stored = stored_tasks(c, plan_id)?;
    let section_ids = sync_sections(c, plan_id, plan)?;
    let sync = plan_sync(
        &stored.iter().map(|s| s.task.clone()).collect::<Vec<_>>(),
        plan,
    );
    let (cols, edges) = task_columns(plan);

    for &id in &sync.deletes {
        let before = super::tasks::get_task(c, id)?;
        c.execute("DELETE FROM tasks WHERE id = ?1", [id])?;
        event(
            c,
            now,
            actor,
            Some(project_id),
            Some(id),
            "task.deleted",
            Some(&json!(before)),
            None,
        )?;
    }

    let by_id: HashMap<i64, &Stored> = stored.iter().map(|s| (s.task.id, s)).collect();
    let mut late_keys: Vec<usize> = Vec::new();
    let mut first_new: Option<i64> = None;
    // Ids of the new plan's tasks: matched rows first, then inserted ones in document
    // order (a parent always comes before its children).
    let mut id_of: Vec<Option<i64>> = vec![None; plan.tasks.len()];
    for u in &sync.updates {
        id_of[u.new] = Some(u.id);
    }
    {
        let mut ins = c.prepare_cached(
            "INSERT INTO tasks (project_id, plan_id, key, title, status, priority, rank, owner,
                section_id, parent_id, position, line, effort_min, effort_max, due, tags, data,
                base, created_at, updated_at, id, lineage)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                ?18, ?19, ?19, ?20, ?21)",
        )?;
        // The single writer hands out ids itself (AUTOINCREMENT's sequence is kept up to
        // date by the inserts), so a new task's lineage is known when it is written.
        let first_id: i64 = c.query_row(
            "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'tasks'), 0) + 1",
            [],
            |r| r.get(0),
        )?;
        let mut tag =
            c.prepare_cached("INSERT OR IGNORE INTO task_tags (task_id, tag) VALUES (?1, ?2)")?;
        // A key a renamed row still holds may be taken by an insert: such inserts use a
        // temporary key until the updates have settled. Others get their key at once.
        let held: HashSet<&str> = sync
            .updates
            .iter()
            .filter(|u| by_id[&u.id].row.key != cols[u.new].key)
            .map(|u| by_id[&u.id].row.key.as_str())
            .collect();
        for (&n, next_id) in sync.inserts.iter().zip(first_id..) {
            let t = &plan.tasks[n];
            let col = &cols[n];
            let base = String::new(); // the same as the values written
            ins.execute(params![
                project_id,
                plan_id,
                if held.contains(col.key.as_str()) {
                    late_keys.push(n);
                    format!("\u{1}new:{n}")
                } else {
                    col.key.clone()
                },
                col.value.title,
                col.value.status.as_str(),
                priority_rank(col.value.priority),
                col.rank,
                col.value.owner,
                t.section.map(|s| section_ids[s]),
                t.parent.and_then(|p| id_of[p]),
                col.position,
                col.line,
                col.effort_min,
                col.effort_max,
                col.value.due,
                col.tags,
                col.data,
                base,
                now,
                next_id,
                serde_json::to_string(&lineage_of(n, next_id, plan, &id_of))?
            ])?;
            let id = next_id;
            first_new.get_or_insert(id);
            id_of[n] = Some(id);
            for tg in &t.tags {
                tag.execute(params![id, tg])?;
            }
            event(
                c,
                now,
                actor,
                Some(project_id),
                Some(id),
                "task.created",
                None,
                Some(
                    &json!({ "key": col.key, "title": col.value.title, "status": col.value.status }),
                ),
            )?;
        }
    }

    // The one writer hands out increasing ids, so the new rows are those from the first.
    if let Some(first) = first_new {
        super::tasks::index_text(c, first)?;
    }

    // Updates: only rows whose content differs are written. Keys go through a temporary
    // value first so two tasks may swap keys.
    let mut rekeyed: Vec<(i64, &str)> = Vec::new();
    {
        let mut up = c.prepare_cached(
            "UPDATE tasks SET key = ?2, title = ?3, status = ?4, priority = ?5, rank = ?6,
                owner = ?7, section_id = ?8, parent_id = ?9, position = ?10, line = ?11,
                effort_min = ?12, effort_max = ?13, due = ?14, tags = ?15, data = ?16, base = ?17,
                version = version + ?18, updated_at = ?19, lineage = ?20
             WHERE id = ?1",
        )?;
        for u in &sync.updates {
            let s = by_id[&u.id];
            let t = &plan.tasks[u.new];
            let col = &cols[u.new];
            let section_id = t.section.map(|x| section_ids[x]);
            let parent_id = t.parent.and_then(|p| id_of[p]);
            let base = stored_base(&u.base, &u.value)?;
            let row = Row {
                key: col.key.clone(),
                value: u.value.clone(),
                rank: if u.value.priority == col.value.priority {
                    col.rank
                } else {
                    priority_rank(u.value.priority).unwrap_or(col.rank)
                },
                section_id,
                parent_id,
                position: col.position,
                line: col.line,
                effort_min: col.effort_min,
                effort_max: col.effort_max,
                tags: col.tags.clone(),
                data: col.data.clone(),
                base: base.clone(),
                lineage: serde_json::to_string(&lineage_of(u.new, u.id, plan, &id_of))?,
            };
            if row == s.row {
                continue;
            }
            let key_changes = row.key != s.row.key;
            up.execute(params![
                u.id,
                if key_changes {
                    format!("\u{1}old:{}", u.id)
                } else {
                    row.key.clone()
                },
                row.value.title,
                row.value.status.as_str(),
                priority_rank(row.value.priority),
                row.rank,
                row.value.owner,
                row.section_id,
                row.parent_id,
                row.position,
                row.line,
                row.effort_min,
                row.effort_max,
                row.value.due,
                row.tags,
                row.data,
                row.base,
                i64::from(u.changed || row.section_id != s.row.section_id || key_changes),
                now,
                row.lineage
            ])?;
            if key_changes {
                rekeyed.push((u.id, &col.key));
            }
            if row.tags != s.row.tags {
                super::tasks::set_tags(c, u.id, &t.tags)?;
            }
            if u.changed {
                let before = json!(s.task.current);
                let after = json!(u.value);
                event(
                    c,
                    now,
                    actor,
                    Some(project_id),
                    Some(u.id),
                    if s.task.current.status != u.value.status {
                        "task.status_changed"
                    } else {
                        "task.updated"
                    },
                    Some(&before),
                    Some(&after),
                )?;
            }
        }
    }
    let mut set_key = c.prepare_cached("UPDATE tasks SET key = ?2 WHERE id = ?1")?;
    for (id, key) in rekeyed {
        set_key.execute(params![id, key])?;
    }
    for n in late_keys {
        set_key.execute(params![id_of[n], cols[n].key])?;
    }

    sync_dependencies(c, plan_id, edges, &id_of)?;

    let mut report = sync.report;
    report.plan_id = plan_id;
    report.version = version;
    report.new_version = !same_text;
    c.execute(
        "UPDATE plans SET title = ?2, meta = ?3, version = ?4, updated_at = ?5, standing = ?6
         WHERE id = ?1",
        params![
            plan_id,
            plan.title,
            serde_json::to_string(&PlanMeta::of(plan))?,
            version,
            now,
            (report.conflicts.len() + report.kept.len()) as i64
        ],
    )?;
    event(
        c,
        now,
        actor,
        Some(project_id),
        None,
        if prev == 0 {
            "plan.imported"
        } else {
            "plan.synced"
        },
        None,
        Some(&json!({
            "plan_id": plan_id, "name": name, "version": version,
            "added": report.added.len(), "removed": report.removed.len(),
            "renamed": report.renamed.len(), "moved": report.moved.len(),
            "status_changed": report.status_changed.len(), "conflicts": report.conflicts,
        })),
    )?;
    Ok(report)
}

/// A stored row's content, compared with what the sync would write.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    key: String,
    value: Mergeable,
    rank: i64,
    section_id: Option<i64>,
    parent_id: Option<i64>,
    position: i64,
    line: i64,
    effort_min: Option<f64>,
    effort_max: Option<f64>,
    tags: String,
    data: String,
    base: String,
    lineage: String,
}

struct Stored {
    task: StoredTask,
    row: Row,
}

fn stored_tasks(c: &Connection, plan_id: i64) -> Result<Vec<Stored>> {
    let mut st = c.prepare_cached(
        "SELECT t.id, t.key, s.title, t.title, t.status, t.priority, t.owner, t.due, t.base,
            t.rank, t.section_id, t.parent_id, t.position, t.line, t.effort_min, t.effort_max,
            t.tags, t.data, t.lineage
         FROM tasks t LEFT JOIN sections s ON s.id = t.section_id
         WHERE t.plan_id = ?1 ORDER BY t.position, t.id",
    )?;
    let rows = st.query_map([plan_id], |r| {
        let status: String = r.get(4)?;
        let base: Option<String> = r.get(8)?;
        let current = Mergeable::from_columns(r.get(3)?, &status, r.get(5)?, r.get(6)?, r.get(7)?);
        let key: String = r.get(1)?;
        Ok(Stored {
            task: StoredTask {
                id: r.get(0)?,
                key: key.clone(),
                section: r.get(2)?,
                current: current.clone(),
                base: read_base(base.as_deref(), &current),
            },
            row: Row {
                key,
                value: current,
                rank: r.get(9)?,
                section_id: r.get(10)?,
                parent_id: r.get(11)?,
                position: r.get(12)?,
                line: r.get::<_, Option<i64>>(13)?.unwrap_or(0),
                effort_min: r.get(14)?,
                effort_max: r.get(15)?,
                tags: r.get(16)?,
                data: r.get(17)?,
                base: base.unwrap_or_default(),
                lineage: r.get(18)?,
            },
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Make the plan's section rows match `plan`; returns the row id of each section. A
/// section that keeps its title and level keeps its row (see [`match_sections`]).
fn sync_sections(c: &Connection, plan_id: i64, plan: &Plan) -> Result<Vec<i64>> {
    let mut st = c.prepare_cached(
        "SELECT id, title, level, line, parent_position, task_position, declared
         FROM sections WHERE plan_id = ?1 ORDER BY position",
    )?;
    let have: Vec<(i64, SectionRow)> = st
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
    let want: Vec<SectionRow> = plan.sections.iter().map(SectionRow::of).collect();
    if have.len() == want.len() && have.iter().zip(&want).all(|((_, h), w)| h == w) {
        return Ok(have.into_iter().map(|(id, _)| id).collect());
    }
    let keep = match_sections(&have, &want);
    let kept: HashSet<i64> = keep.iter().flatten().copied().collect();
    let mut del = c.prepare_cached("DELETE FROM sections WHERE id = ?1")?;
    for (id, _) in &have {
        if !kept.contains(id) {
            del.execute([id])?;
        }
    }
    // Positions are unique per plan: move kept rows out of the way first.
    c.execute(
        "UPDATE sections SET position = -id WHERE plan_id = ?1",
        [plan_id],
    )?;
    let mut up = c.prepare_cached(
        "UPDATE sections SET position = ?2, title = ?3, level = ?4, line = ?5,
            parent_position = ?6, task_position = ?7, declared = ?8 WHERE id = ?1",
    )?;
    let mut ins = c.prepare_cached(
        "INSERT INTO sections (plan_id, position, title, level, line, parent_position,
            task_position, declared)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut ids = Vec::with_capacity(want.len());
    for (i, s) in want.iter().enumerate() {
        let declared = s.declared.map(|d| json!(d).to_string());
        let (parent, task) = (s.parent.map(|p| p as i64), s.task.map(|t| t as i64));
        match keep[i] {
            Some(id) => {
                up.execute(params![
                    id, i as i64, s.title, s.level, s.line, parent, task, declared
                ])?;
                ids.push(id);
            }
            None => {
                ins.execute(params![
                    plan_id, i as i64, s.title, s.level, s.line, parent, task, declared
                ])?;
                ids.push(c.last_insert_rowid());
            }
        }
    }
    Ok(ids)
}

/// Make the document and section dependencies of the plan's tasks match `plan`, leaving
/// dependencies users added alone.
fn sync_dependencies(
    c: &Connection,
    plan_id: i64,
    edges: Vec<(usize, usize, &str)>,
    id_of: &[Option<i64>],
) -> Result<()> {
    let want: HashSet<(i64, i64, &str)> = edges
        .into_iter()
        .filter_map(|(t, d, s)| Some((id_of[t]?, id_of[d]?, s)))
        .collect();
    let mut st = c.prepare_cached(
        "SELECT d.task_id, d.depends_on, d.source FROM task_deps d JOIN tasks t ON t.id = d.task_id
         WHERE t.plan_id = ?1 AND d.source <> 'user'",
    )?;
    let have: Vec<(i64, i64, String)> = st
        .query_map([plan_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let have_set: HashSet<(i64, i64, &str)> =
        have.iter().map(|(a, b, s)| (*a, *b, s.as_str())).collect();
    let mut del = c.prepare_cached(
        "DELETE FROM task_deps WHERE task_id = ?1 AND depends_on = ?2 AND source = ?3",
    )?;
    for e in have_set.difference(&want) {
        del.execute(params![e.0, e.1, e.2])?;
    }
    let mut ins = c.prepare_cached(
        "INSERT OR IGNORE INTO task_deps (task_id, depends_on, source) VALUES (?1, ?2, ?3)",
    )?;
    let mut add: Vec<_> = want.difference(&have_set).collect();
    add.sort_unstable();
    for e in add {
        ins.execute(params![e.0, e.1, e.2])?;
    }
    Ok(())
}

/// The quick sync ([`crate::quick`]): `Ok(None)` when this text needs the full sync, in
/// which case nothing was written.
pub(crate) fn quick_sync(
    c: &Connection,
    now: &str,
    actor: &str,
    project_id: i64,
    name: &str,
    bytes: &[u8],
) -> Result<Option<SyncReport>> {
    let Some((plan_id, version, standing, meta)) = c
        .query_row(
            "SELECT id, version, standing, meta FROM plans WHERE project_id = ?1 AND name = ?2",
            params![project_id, name],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            },
        )
        .optional()?
    else {
        return Ok(None);
    };
    if standing > 0 || version == 0 {
        return Ok(None);
    }
    let old: Vec<u8> = c.query_row(
        "SELECT source FROM plan_versions WHERE plan_id = ?1 AND number = ?2",
        params![plan_id, version],
        |r| r.get(0),
    )?;
    let Some(changes) = crate::quick::marker_changes(&old, bytes) else {
        return Ok(None);
    };
    let meta: PlanMeta = serde_json::from_str(&meta)?;
    if changes
        .iter()
        .any(|ch| meta.claims.iter().any(|cl| cl.line == ch.line))
    {
        return Ok(None);
    }
    // Decide everything before writing anything. One pass over the plan's rows finds the
    // tasks on the changed lines (no index on lines: imports would pay for it).
    let lines = serde_json::to_string(&changes.iter().map(|ch| ch.line).collect::<Vec<_>>())?;
    let mut st = c.prepare_cached(
        "SELECT line, id, key, title, status, priority, owner, due, base, data FROM tasks
         WHERE plan_id = ?1 AND base IS NOT NULL
           AND line IN (SELECT value FROM json_each(?2))",
    )?;
    let mut by_line: HashMap<i64, Vec<crate::quick::Row>> = HashMap::new();
    let rows = st.query_map(params![plan_id, lines], |r| {
        let status: String = r.get(4)?;
        Ok((
            r.get::<_, i64>(0)?,
            crate::quick::Row {
                id: r.get(1)?,
                key: r.get(2)?,
                current: Mergeable::from_columns(
                    r.get(3)?,
                    &status,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ),
                base: r.get(8)?,
                data: r.get(9)?,
            },
        ))
    })?;
    for r in rows {
        let (line, row) = r?;
        by_line.entry(line).or_default().push(row);
    }
    let mut plan = crate::quick::QuickPlan::default();
    for ch in &changes {
        let rows = by_line.remove(&i64::from(ch.line)).unwrap_or_default();
        if !plan.add(ch, rows)? {
            return Ok(None);
        }
    }
    // Write.
    let new_version = if changes.is_empty() {
        version
    } else {
        c.execute(
            "INSERT INTO plan_versions (plan_id, number, source, actor, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![plan_id, version + 1, bytes, actor, now],
        )?;
        version + 1
    };
    let mut up = c.prepare_cached(
        "UPDATE tasks SET status = ?2, base = ?3, data = ?4, version = version + ?5,
            updated_at = ?6 WHERE id = ?1",
    )?;
    for u in &plan.updates {
        up.execute(params![
            u.id,
            u.value.status.as_str(),
            stored_base(&u.base, &u.value)?,
            u.data,
            i64::from(u.changed),
            now
        ])?;
        if u.changed {
            event(
                c,
                now,
                actor,
                Some(project_id),
                Some(u.id),
                "task.status_changed",
                Some(&json!(u.before)),
                Some(&json!(u.value)),
            )?;
        }
    }
    let mut report = SyncReport {
        plan_id,
        version: new_version,
        new_version: new_version != version,
        tasks: c.query_row(
            "SELECT count(*) FROM tasks WHERE plan_id = ?1 AND base IS NOT NULL",
            [plan_id],
            |r| r.get::<_, i64>(0),
        )? as usize,
        ..SyncReport::default()
    };
    let mut pending = c.prepare_cached(
        "SELECT key, status, json_extract(base, '$.status') FROM tasks
         WHERE plan_id = ?1 AND base IS NOT NULL AND base <> ''
           AND json_extract(base, '$.status') <> status
         ORDER BY position, id",
    )?;
    let pending: Vec<(String, String, String)> = pending
        .query_map([plan_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    plan.finish(&mut report, pending);
    c.execute(
        "UPDATE plans SET version = ?2, updated_at = ?3 WHERE id = ?1",
        params![plan_id, new_version, now],
    )?;
    event(
        c,
        now,
        actor,
        Some(project_id),
        None,
        "plan.synced",
        None,
        Some(&json!({
            "plan_id": plan_id, "name": name, "version": new_version,
            "added": 0, "removed": 0, "renamed": 0, "moved": 0,
            "status_changed": report.status_changed.len(), "conflicts": report.conflicts,
        })),
    )?;
    Ok(Some(report))
}
