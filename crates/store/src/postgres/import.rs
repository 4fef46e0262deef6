//! Import and sync of a plan's text on PostgreSQL: the same plan as SQLite
//! ([`crate::sync::plan_sync`]), written with array-bound bulk statements (`UNNEST`) so a
//! 100,000-task plan takes a handful of round trips.

use std::collections::{HashMap, HashSet};

use serde_json::json;
use sqlx::Row as _;
use sqlx::postgres::PgConnection;
use taskman_core::Plan;

use super::event;
use super::ops::get_project;
use super::tasks::{load_sections, set_tags};
use crate::error::Result;
use crate::model::priority_rank;
use crate::stored::{PlanMeta, SectionRow, lineage_of, match_sections, task_columns};
use crate::sync::{Mergeable, StoredTask, SyncReport, plan_sync, read_base, stored_base};

/// Rows per bulk statement: keeps each statement's parameters moderate.
const CHUNK: usize = 10_000;

pub(crate) async fn import(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    project_id: i64,
    name: &str,
    bytes: &[u8],
    plan: &Plan,
) -> Result<SyncReport> {
    get_project(c, project_id).await?;
    // Two servers syncing the same file take turns.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("plan:{project_id}:{name}"))
        .execute(&mut *c)
        .await?;
    let existing = sqlx::query("SELECT id, version FROM plans WHERE project_id = $1 AND name = $2")
        .bind(project_id)
        .bind(name)
        .fetch_optional(&mut *c)
        .await?;
    let (plan_id, prev): (i64, i64) = match existing {
        Some(r) => (r.try_get(0)?, r.try_get(1)?),
        None => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO plans (project_id, name, title, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $4) RETURNING id",
            )
            .bind(project_id)
            .bind(name)
            .bind(&plan.title)
            .bind(now)
            .fetch_one(&mut *c)
            .await?;
            (id, 0)
        }
    };
    let same_text = prev > 0
        && sqlx::query_scalar::<_, bool>(
            "SELECT source = $3 FROM plan_versions WHERE plan_id = $1 AND number = $2",
        )
        .bind(plan_id)
        .bind(prev)
        .bind(bytes)
        .fetch_one(&mut *c)
        .await?;
    let version = if same_text {
        prev
    } else {
        sqlx::query(
            "INSERT INTO plan_versions (plan_id, number, source, actor, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(plan_id)
        .bind(prev + 1)
        .bind(bytes)
        .bind(actor)
        .bind(now)
        .execute(&mut *c)
        .await?;
        prev + 1
    };

    // Stored tasks are read before the sections change, so "moved" compares with the
    // sections as they were.
    let stored = stored_tasks(c, plan_id).await?;
    let section_ids = sync_sections(c, plan_id, plan).await?;
    let sync = plan_sync(
        &stored.iter().map(|s| s.task.clone()).collect::<Vec<_>>(),
        plan,
    );
    let (cols, edges) = task_columns(plan);

    if !sync.deletes.is_empty() {
        let rows = sqlx::query(sql!(
            "SELECT {} FROM {} WHERE t.id = ANY($1)",
            super::tasks::TASK_COLS,
            super::tasks::TASK_FROM
        ))
        .bind(&sync.deletes)
        .fetch_all(&mut *c)
        .await?;
        for r in &rows {
            let (before, _) = super::tasks::task_row(r)?;
            event(
                c,
                now,
                actor,
                Some(project_id),
                Some(before.id),
                "task.deleted",
                Some(&json!(before)),
                None,
            )
            .await?;
        }
        sqlx::query("DELETE FROM tasks WHERE id = ANY($1)")
            .bind(&sync.deletes)
            .execute(&mut *c)
            .await?;
    }

    let mut id_of: Vec<Option<i64>> = vec![None; plan.tasks.len()];
    for u in &sync.updates {
        id_of[u.new] = Some(u.id);
    }

    // Inserts, in bulk.
    let by_id: HashMap<i64, &Stored> = stored.iter().map(|s| (s.task.id, s)).collect();
    // Keys that renamed rows still hold: inserts taking one use a temporary key first.
    let held: HashSet<&str> = sync
        .updates
        .iter()
        .filter(|u| by_id[&u.id].row.key != cols[u.new].key)
        .map(|u| by_id[&u.id].row.key.as_str())
        .collect();
    let mut late_keys: Vec<usize> = Vec::new();
    if sync.inserts.len() > 1000 {
        // A large import appends to the search index's pending list instead of merging
        // into the index every 4 MB; autovacuum merges it later (searches stay correct,
        // they read the pending list too).
        sqlx::query("SET LOCAL gin_pending_list_limit = '128MB'")
            .execute(&mut *c)
            .await?;
    }
    // Ids come from the sequence up front, so each new row is written once, complete with
    // its parent and lineage (a second pass would rewrite every row and every index).
    let mut new_ids: Vec<i64> = sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence('tasks', 'id')) FROM generate_series(1, $1)",
    )
    .bind(sync.inserts.len() as i64)
    .fetch_all(&mut *c)
    .await?;
    new_ids.sort_unstable();
    for (&n, &id) in sync.inserts.iter().zip(&new_ids) {
        id_of[n] = Some(id);
    }
    for chunk in sync.inserts.chunks(CHUNK) {
        let mut a = Cols::default();
        let (mut ids, mut parents, mut lineages) = (vec![], vec![], vec![]);
        for &n in chunk {
            let t = &plan.tasks[n];
            let col = &cols[n];
            let id = id_of[n].unwrap_or_default();
            ids.push(id);
            parents.push(t.parent.and_then(|p| id_of[p]));
            lineages.push(lineage_text(&lineage_of(n, id, plan, &id_of)));
            if held.contains(col.key.as_str()) {
                late_keys.push(n);
                a.key.push(format!("\u{1}new:{n}"));
            } else {
                a.key.push(col.key.clone());
            }
            a.title.push(col.value.title.clone());
            a.status.push(col.value.status.as_str().to_string());
            a.priority.push(priority_rank(col.value.priority));
            a.rank.push(col.rank);
            a.owner.push(col.value.owner.clone());
            a.section.push(t.section.map(|s| section_ids[s]));
            a.position.push(col.position);
            a.line.push(col.line);
            a.emin.push(col.effort_min);
            a.emax.push(col.effort_max);
            a.due.push(col.value.due.clone());
            a.tags.push(col.tags.clone());
            a.data.push(col.data.clone());
            a.base.push(String::new()); // the same as the values written
        }
        sqlx::query(
            "INSERT INTO tasks (project_id, plan_id, key, title, status, priority, rank, owner,
                section_id, position, line, effort_min, effort_max, due, tags, data, base,
                created_at, updated_at, id, parent_id, lineage)
             SELECT $1, $2, k, ti, st, pr, rk, ow, se, po, li, e1, e2, du, tg, da, ba, $3, $3,
                id, pa, lin::bigint[]
             FROM UNNEST($4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[],
                $9::text[], $10::bigint[], $11::bigint[], $12::bigint[], $13::float8[],
                $14::float8[], $15::text[], $16::text[], $17::text[], $18::text[], $19::bigint[],
                $20::bigint[], $21::text[])
                AS x(k, ti, st, pr, rk, ow, se, po, li, e1, e2, du, tg, da, ba, id, pa, lin)",
        )
        .bind(project_id)
        .bind(plan_id)
        .bind(now)
        .bind(&a.key)
        .bind(&a.title)
        .bind(&a.status)
        .bind(&a.priority)
        .bind(&a.rank)
        .bind(&a.owner)
        .bind(&a.section)
        .bind(&a.position)
        .bind(&a.line)
        .bind(&a.emin)
        .bind(&a.emax)
        .bind(&a.due)
        .bind(&a.tags)
        .bind(&a.data)
        .bind(&a.base)
        .bind(&ids)
        .bind(&parents)
        .bind(&lineages)
        .execute(&mut *c)
        .await?;
    }
    if !sync.inserts.is_empty() {
        let (mut ids, mut tag_ids, mut tag_vals) = (vec![], vec![], vec![]);
        let mut ev_after = vec![];
        for &n in &sync.inserts {
            let id = id_of[n].unwrap_or_default();
            ids.push(id);
            for t in &plan.tasks[n].tags {
                tag_ids.push(id);
                tag_vals.push(t.clone());
            }
            ev_after.push(
                json!({ "key": cols[n].key, "title": cols[n].value.title, "status": cols[n].value.status })
                    .to_string(),
            );
        }
        for (i, chunk) in ids.chunks(CHUNK).enumerate() {
            let r = i * CHUNK..i * CHUNK + chunk.len();
            sqlx::query(
                "INSERT INTO events (at, actor, project_id, task_id, action, after)
                 SELECT $1, $2, $3, t, 'task.created', a FROM UNNEST($4::bigint[], $5::text[]) AS x(t, a)",
            )
            .bind(now)
            .bind(actor)
            .bind(project_id)
            .bind(chunk)
            .bind(&ev_after[r])
            .execute(&mut *c)
            .await?;
        }
        for (ti, tv) in tag_ids.chunks(CHUNK).zip(tag_vals.chunks(CHUNK)) {
            sqlx::query(
                "INSERT INTO task_tags (task_id, tag) SELECT * FROM UNNEST($1::bigint[], $2::text[])
                 ON CONFLICT DO NOTHING",
            )
            .bind(ti)
            .bind(tv)
            .execute(&mut *c)
            .await?;
        }
    }

    // Updates of rows whose content differs.
    let mut a = Cols::default();
    let (mut up_ids, mut bumps, mut parents) = (vec![], vec![], vec![]);
    let mut up_lineage: Vec<String> = vec![];
    let mut rekeyed: Vec<(i64, String)> = Vec::new();
    let mut retag: Vec<(i64, usize)> = Vec::new();
    for u in &sync.updates {
        let s = by_id[&u.id];
        let t = &plan.tasks[u.new];
        let col = &cols[u.new];
        let row = Row {
            key: col.key.clone(),
            value: u.value.clone(),
            rank: if u.value.priority == col.value.priority {
                col.rank
            } else {
                priority_rank(u.value.priority).unwrap_or(col.rank)
            },
            section_id: t.section.map(|x| section_ids[x]),
            parent_id: t.parent.and_then(|p| id_of[p]),
            position: col.position,
            line: col.line,
            effort_min: col.effort_min,
            effort_max: col.effort_max,
            tags: col.tags.clone(),
            data: col.data.clone(),
            base: stored_base(&u.base, &u.value)?,
            lineage: lineage_of(u.new, u.id, plan, &id_of),
        };
        if row == s.row {
            continue;
        }
        let key_changes = row.key != s.row.key;
        if key_changes {
            rekeyed.push((u.id, row.key.clone()));
        }
        if row.tags != s.row.tags {
            retag.push((u.id, u.new));
        }
        up_ids.push(u.id);
        bumps.push(i64::from(
            u.changed || row.section_id != s.row.section_id || key_changes,
        ));
        parents.push(row.parent_id);
        a.key.push(if key_changes {
            format!("\u{1}old:{}", u.id)
        } else {
            row.key.clone()
        });
        a.title.push(row.value.title.clone());
        a.status.push(row.value.status.as_str().to_string());
        a.priority.push(priority_rank(row.value.priority));
        a.rank.push(row.rank);
        a.owner.push(row.value.owner.clone());
        a.section.push(row.section_id);
        a.position.push(row.position);
        a.line.push(row.line);
        a.emin.push(row.effort_min);
        a.emax.push(row.effort_max);
        a.due.push(row.value.due.clone());
        a.tags.push(row.tags.clone());
        a.data.push(row.data.clone());
        a.base.push(row.base.clone());
        up_lineage.push(lineage_text(&row.lineage));
        if u.changed {
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
                Some(&json!(s.task.current)),
                Some(&json!(u.value)),
            )
            .await?;
        }
    }
    for start in (0..up_ids.len()).step_by(CHUNK) {
        let r = start..(start + CHUNK).min(up_ids.len());
        sqlx::query(
            "UPDATE tasks SET key = x.k, title = x.ti, status = x.st, priority = x.pr, rank = x.rk,
                owner = x.ow, section_id = x.se, parent_id = x.pa, position = x.po, line = x.li,
                effort_min = x.e1, effort_max = x.e2, due = x.du, tags = x.tg, data = x.da,
                base = x.ba, version = version + x.bump, updated_at = $1, lineage = x.lin::bigint[]
             FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                $7::bigint[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[],
                $13::float8[], $14::float8[], $15::text[], $16::text[], $17::text[], $18::text[],
                $19::bigint[], $20::text[])
                AS x(id, k, ti, st, pr, rk, ow, se, pa, po, li, e1, e2, du, tg, da, ba, bump, lin)
             WHERE tasks.id = x.id",
        )
        .bind(now)
        .bind(&up_ids[r.clone()])
        .bind(&a.key[r.clone()])
        .bind(&a.title[r.clone()])
        .bind(&a.status[r.clone()])
        .bind(&a.priority[r.clone()])
        .bind(&a.rank[r.clone()])
        .bind(&a.owner[r.clone()])
        .bind(&a.section[r.clone()])
        .bind(&parents[r.clone()])
        .bind(&a.position[r.clone()])
        .bind(&a.line[r.clone()])
        .bind(&a.emin[r.clone()])
        .bind(&a.emax[r.clone()])
        .bind(&a.due[r.clone()])
        .bind(&a.tags[r.clone()])
        .bind(&a.data[r.clone()])
        .bind(&a.base[r.clone()])
        .bind(&bumps[r.clone()])
        .bind(&up_lineage[r])
        .execute(&mut *c)
        .await?;
    }
    for (id, n) in retag {
        set_tags(c, id, &plan.tasks[n].tags).await?;
    }
    // Final keys: renamed rows, then inserted ones.
    let mut fix_ids: Vec<i64> = rekeyed.iter().map(|(id, _)| *id).collect();
    let mut fix_keys: Vec<String> = rekeyed.into_iter().map(|(_, k)| k).collect();
    for n in late_keys {
        fix_ids.push(id_of[n].unwrap_or_default());
        fix_keys.push(cols[n].key.clone());
    }
    for (ids, keys) in fix_ids.chunks(CHUNK).zip(fix_keys.chunks(CHUNK)) {
        sqlx::query(
            "UPDATE tasks SET key = x.k FROM UNNEST($1::bigint[], $2::text[]) AS x(id, k)
             WHERE tasks.id = x.id",
        )
        .bind(ids)
        .bind(keys)
        .execute(&mut *c)
        .await?;
    }

    sync_dependencies(c, plan_id, edges, &id_of).await?;

    let mut report = sync.report;
    report.plan_id = plan_id;
    report.version = version;
    report.new_version = !same_text;
    sqlx::query(
        "UPDATE plans SET title = $2, meta = $3, version = $4, updated_at = $5, standing = $6
         WHERE id = $1",
    )
    .bind(plan_id)
    .bind(&plan.title)
    .bind(serde_json::to_string(&PlanMeta::of(plan))?)
    .bind(version)
    .bind(now)
    .bind((report.conflicts.len() + report.kept.len()) as i64)
    .execute(&mut *c)
    .await?;
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
    )
    .await?;
    Ok(report)
}

/// A lineage as PostgreSQL array text (`{3,1}`): lineages differ in length, so they
/// travel as text and are cast back in SQL.
fn lineage_text(l: &[i64]) -> String {
    let inner: Vec<String> = l.iter().map(i64::to_string).collect();
    format!("{{{}}}", inner.join(","))
}

/// Column arrays for bulk statements.
#[derive(Default)]
struct Cols {
    key: Vec<String>,
    title: Vec<String>,
    status: Vec<String>,
    priority: Vec<Option<i64>>,
    rank: Vec<i64>,
    owner: Vec<Option<String>>,
    section: Vec<Option<i64>>,
    position: Vec<i64>,
    line: Vec<i64>,
    emin: Vec<Option<f64>>,
    emax: Vec<Option<f64>>,
    due: Vec<Option<String>>,
    tags: Vec<String>,
    data: Vec<String>,
    base: Vec<String>,
}

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
    lineage: Vec<i64>,
}

struct Stored {
    task: StoredTask,
    row: Row,
}

async fn stored_tasks(c: &mut PgConnection, plan_id: i64) -> Result<Vec<Stored>> {
    let rows = sqlx::query(
        "SELECT t.id, t.key, s.title, t.title, t.status, t.priority, t.owner, t.due, t.base,
            t.rank, t.section_id, t.parent_id, t.position, t.line, t.effort_min, t.effort_max,
            t.tags, t.data, t.lineage
         FROM tasks t LEFT JOIN sections s ON s.id = t.section_id
         WHERE t.plan_id = $1 ORDER BY t.position, t.id",
    )
    .bind(plan_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get(4)?;
            let base: Option<String> = r.try_get(8)?;
            let current = Mergeable::from_columns(
                r.try_get(3)?,
                &status,
                r.try_get(5)?,
                r.try_get(6)?,
                r.try_get(7)?,
            );
            let key: String = r.try_get(1)?;
            Ok(Stored {
                task: StoredTask {
                    id: r.try_get(0)?,
                    key: key.clone(),
                    section: r.try_get(2)?,
                    current: current.clone(),
                    base: read_base(base.as_deref(), &current),
                },
                row: Row {
                    key,
                    value: current,
                    rank: r.try_get(9)?,
                    section_id: r.try_get(10)?,
                    parent_id: r.try_get(11)?,
                    position: r.try_get(12)?,
                    line: r.try_get::<Option<i64>, _>(13)?.unwrap_or(0),
                    effort_min: r.try_get(14)?,
                    effort_max: r.try_get(15)?,
                    tags: r.try_get(16)?,
                    data: r.try_get(17)?,
                    base: base.unwrap_or_default(),
                    lineage: r.try_get(18)?,
                },
            })
        })
        .collect()
}

async fn sync_sections(c: &mut PgConnection, plan_id: i64, plan: &Plan) -> Result<Vec<i64>> {
    let have = load_sections(c, plan_id).await?;
    let want: Vec<SectionRow> = plan.sections.iter().map(SectionRow::of).collect();
    if have.len() == want.len() && have.iter().zip(&want).all(|((_, h), w)| h == w) {
        return Ok(have.into_iter().map(|(id, _)| id).collect());
    }
    let keep = match_sections(&have, &want);
    let kept: Vec<i64> = keep.iter().flatten().copied().collect();
    sqlx::query("DELETE FROM sections WHERE plan_id = $1 AND NOT (id = ANY($2))")
        .bind(plan_id)
        .bind(&kept)
        .execute(&mut *c)
        .await?;
    // Positions are unique per plan: move kept rows out of the way first.
    sqlx::query("UPDATE sections SET position = -id WHERE plan_id = $1")
        .bind(plan_id)
        .execute(&mut *c)
        .await?;
    let pos: Vec<i64> = (0..want.len() as i64).collect();
    let titles: Vec<String> = want.iter().map(|s| s.title.clone()).collect();
    let levels: Vec<i32> = want.iter().map(|s| i32::from(s.level)).collect();
    let lines: Vec<i64> = want.iter().map(|s| i64::from(s.line)).collect();
    let parents: Vec<Option<i64>> = want.iter().map(|s| s.parent.map(|p| p as i64)).collect();
    let tasks: Vec<Option<i64>> = want.iter().map(|s| s.task.map(|p| p as i64)).collect();
    let declared: Vec<Option<String>> = want
        .iter()
        .map(|s| s.declared.map(|d| json!(d).to_string()))
        .collect();
    let (upd, new): (Vec<usize>, Vec<usize>) = (0..want.len()).partition(|&i| keep[i].is_some());
    let pick = |v: &[usize]| {
        (
            v.iter().map(|&i| pos[i]).collect::<Vec<_>>(),
            v.iter().map(|&i| titles[i].clone()).collect::<Vec<_>>(),
            v.iter().map(|&i| levels[i]).collect::<Vec<_>>(),
            v.iter().map(|&i| lines[i]).collect::<Vec<_>>(),
            v.iter().map(|&i| parents[i]).collect::<Vec<_>>(),
            v.iter().map(|&i| tasks[i]).collect::<Vec<_>>(),
            v.iter().map(|&i| declared[i].clone()).collect::<Vec<_>>(),
        )
    };
    let mut ids: Vec<i64> = keep.iter().map(|k| k.unwrap_or(0)).collect();
    if !upd.is_empty() {
        let (p, t, l, li, pa, ta, de) = pick(&upd);
        let up_ids: Vec<i64> = upd.iter().map(|&i| ids[i]).collect();
        sqlx::query(
            "UPDATE sections SET position = x.p, title = x.t, level = x.l, line = x.li,
                parent_position = x.pa, task_position = x.ta, declared = x.de
             FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::bigint[],
                $6::bigint[], $7::bigint[], $8::text[]) AS x(id, p, t, l, li, pa, ta, de)
             WHERE sections.id = x.id",
        )
        .bind(&up_ids)
        .bind(&p)
        .bind(&t)
        .bind(&l)
        .bind(&li)
        .bind(&pa)
        .bind(&ta)
        .bind(&de)
        .execute(&mut *c)
        .await?;
    }
    for chunk in new.chunks(CHUNK) {
        let (p, t, l, li, pa, ta, de) = pick(chunk);
        let rows = sqlx::query(
            "INSERT INTO sections (plan_id, position, title, level, line, parent_position,
                task_position, declared)
             SELECT $1, * FROM UNNEST($2::bigint[], $3::text[], $4::int[], $5::bigint[],
                $6::bigint[], $7::bigint[], $8::text[])
             RETURNING id, position",
        )
        .bind(plan_id)
        .bind(&p)
        .bind(&t)
        .bind(&l)
        .bind(&li)
        .bind(&pa)
        .bind(&ta)
        .bind(&de)
        .fetch_all(&mut *c)
        .await?;
        for r in rows {
            let id: i64 = r.try_get(0)?;
            let position: i64 = r.try_get(1)?;
            ids[position as usize] = id;
        }
    }
    Ok(ids)
}

async fn sync_dependencies(
    c: &mut PgConnection,
    plan_id: i64,
    edges: Vec<(usize, usize, &str)>,
    id_of: &[Option<i64>],
) -> Result<()> {
    let want: HashSet<(i64, i64, &str)> = edges
        .into_iter()
        .filter_map(|(t, d, s)| Some((id_of[t]?, id_of[d]?, s)))
        .collect();
    let rows = sqlx::query(
        "SELECT d.task_id, d.depends_on, d.source FROM task_deps d JOIN tasks t ON t.id = d.task_id
         WHERE t.plan_id = $1 AND d.source <> 'user'",
    )
    .bind(plan_id)
    .fetch_all(&mut *c)
    .await?;
    let have: Vec<(i64, i64, String)> = rows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<Result<_>>()?;
    let have_set: HashSet<(i64, i64, &str)> =
        have.iter().map(|(a, b, s)| (*a, *b, s.as_str())).collect();
    let del: Vec<_> = have_set.difference(&want).collect();
    let mut add: Vec<_> = want.difference(&have_set).collect();
    add.sort_unstable();
    for (list, sql) in [
        (
            del,
            "DELETE FROM task_deps d USING UNNEST($1::bigint[], $2::bigint[], $3::text[]) AS x(t, p, s)
             WHERE d.task_id = x.t AND d.depends_on = x.p AND d.source = x.s",
        ),
        (
            add,
            "INSERT INTO task_deps (task_id, depends_on, source)
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[]) ON CONFLICT DO NOTHING",
        ),
    ] {
        for chunk in list.chunks(CHUNK) {
            sqlx::query(sql)
                .bind(chunk.iter().map(|e| e.0).collect::<Vec<_>>())
                .bind(chunk.iter().map(|e| e.1).collect::<Vec<_>>())
                .bind(chunk.iter().map(|e| e.2.to_string()).collect::<Vec<_>>())
                .execute(&mut *c)
                .await?;
        }
    }
    Ok(())
}

/// The quick sync ([`crate::quick`]): `Ok(None)` when this text needs the full sync, in
/// which case nothing was written.
pub(crate) async fn quick_sync(
    c: &mut PgConnection,
    now: &str,
    actor: &str,
    project_id: i64,
    name: &str,
    bytes: &[u8],
) -> Result<Option<SyncReport>> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("plan:{project_id}:{name}"))
        .execute(&mut *c)
        .await?;
    let Some(r) = sqlx::query(
        "SELECT p.id, p.version, p.standing, p.meta, v.source FROM plans p
         JOIN plan_versions v ON v.plan_id = p.id AND v.number = p.version
         WHERE p.project_id = $1 AND p.name = $2",
    )
    .bind(project_id)
    .bind(name)
    .fetch_optional(&mut *c)
    .await?
    else {
        return Ok(None);
    };
    let (plan_id, version, standing): (i64, i64, i64) =
        (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
    let meta: String = r.try_get(3)?;
    let old: Vec<u8> = r.try_get(4)?;
    if standing > 0 {
        return Ok(None);
    }
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
    let lines: Vec<i64> = changes.iter().map(|ch| i64::from(ch.line)).collect();
    let rows = sqlx::query(
        "SELECT line, id, key, title, status, priority, owner, due, base, data FROM tasks
         WHERE plan_id = $1 AND line = ANY($2) AND base IS NOT NULL",
    )
    .bind(plan_id)
    .bind(&lines)
    .fetch_all(&mut *c)
    .await?;
    let mut by_line: HashMap<i64, Vec<crate::quick::Row>> = HashMap::new();
    for r in &rows {
        let status: String = r.try_get(4)?;
        by_line
            .entry(r.try_get(0)?)
            .or_default()
            .push(crate::quick::Row {
                id: r.try_get(1)?,
                key: r.try_get(2)?,
                current: Mergeable::from_columns(
                    r.try_get(3)?,
                    &status,
                    r.try_get(5)?,
                    r.try_get(6)?,
                    r.try_get(7)?,
                ),
                base: r.try_get(8)?,
                data: r.try_get(9)?,
            });
    }
    let mut plan = crate::quick::QuickPlan::default();
    for ch in &changes {
        let rows = by_line.remove(&i64::from(ch.line)).unwrap_or_default();
        if !plan.add(ch, rows)? {
            return Ok(None);
        }
    }
    let new_version = if changes.is_empty() {
        version
    } else {
        sqlx::query(
            "INSERT INTO plan_versions (plan_id, number, source, actor, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(plan_id)
        .bind(version + 1)
        .bind(bytes)
        .bind(actor)
        .bind(now)
        .execute(&mut *c)
        .await?;
        version + 1
    };
    if !plan.updates.is_empty() {
        let mut ids = vec![];
        let mut status = vec![];
        let mut base = vec![];
        let mut data = vec![];
        let mut bump = vec![];
        let mut ev_ids = vec![];
        let mut ev_before = vec![];
        let mut ev_after = vec![];
        for u in &plan.updates {
            ids.push(u.id);
            status.push(u.value.status.as_str().to_string());
            base.push(stored_base(&u.base, &u.value)?);
            data.push(u.data.clone());
            bump.push(i64::from(u.changed));
            if u.changed {
                ev_ids.push(u.id);
                ev_before.push(json!(u.before).to_string());
                ev_after.push(json!(u.value).to_string());
            }
        }
        sqlx::query(
            "UPDATE tasks SET status = x.s, base = x.b, data = x.d, version = version + x.v,
                updated_at = $1
             FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[])
                AS x(id, s, b, d, v)
             WHERE tasks.id = x.id",
        )
        .bind(now)
        .bind(&ids)
        .bind(&status)
        .bind(&base)
        .bind(&data)
        .bind(&bump)
        .execute(&mut *c)
        .await?;
        sqlx::query(
            "INSERT INTO events (at, actor, project_id, task_id, action, before, after)
             SELECT $1, $2, $3, t, 'task.status_changed', b, a
             FROM UNNEST($4::bigint[], $5::text[], $6::text[]) WITH ORDINALITY AS x(t, b, a, o)
             ORDER BY o",
        )
        .bind(now)
        .bind(actor)
        .bind(project_id)
        .bind(&ev_ids)
        .bind(&ev_before)
        .bind(&ev_after)
        .execute(&mut *c)
        .await?;
    }
    let tasks: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tasks WHERE plan_id = $1 AND base IS NOT NULL")
            .bind(plan_id)
            .fetch_one(&mut *c)
            .await?;
    let mut report = SyncReport {
        plan_id,
        version: new_version,
        new_version: new_version != version,
        tasks: tasks as usize,
        ..SyncReport::default()
    };
    let pending = sqlx::query(
        "SELECT key, status, base::json->>'status' FROM tasks
         WHERE plan_id = $1 AND base IS NOT NULL AND base <> ''
           AND base::json->>'status' <> status
         ORDER BY position, id",
    )
    .bind(plan_id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
    .collect::<Result<Vec<(String, String, String)>>>()?;
    plan.finish(&mut report, pending);
    sqlx::query("UPDATE plans SET version = $2, updated_at = $3 WHERE id = $1")
        .bind(plan_id)
        .bind(new_version)
        .bind(now)
        .execute(&mut *c)
        .await?;
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
    )
    .await?;
    Ok(Some(report))
}
