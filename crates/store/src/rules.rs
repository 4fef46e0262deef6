//! Checks and helpers both backends apply the same way.

use crate::error::{Result, StoreError};
use std::collections::HashMap;

use taskman_core::Status;

use crate::clock::is_date;
use crate::model::{
    ActionItem, ActionItemPatch, BlockedTask, Page, ProjectProgress, Sprint, SprintPatch,
    TaskPatch, TaskRecord, status_from_str,
};

pub(crate) fn not_found(entity: &'static str, id: impl ToString) -> StoreError {
    StoreError::NotFound {
        entity,
        id: id.to_string(),
    }
}

pub(crate) fn check_name(what: &str, name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid(format!("{what} must not be empty")));
    }
    Ok(())
}

/// A sprint's name and dates, checked the same way when it is created and when it changes.
pub(crate) fn check_sprint(name: &str, starts_on: &str, ends_on: &str) -> Result<()> {
    check_name("sprint name", name)?;
    for (what, d) in [("start", starts_on), ("end", ends_on)] {
        if !is_date(d) {
            return Err(StoreError::Invalid(format!(
                "sprint {what} {d:?} is not a date (YYYY-MM-DD)"
            )));
        }
    }
    if ends_on < starts_on {
        return Err(StoreError::Invalid(format!(
            "sprint ends ({ends_on}) before it starts ({starts_on})"
        )));
    }
    Ok(())
}

/// The sprint as `patch` would leave it, checked as a new sprint is. Only what the patch
/// touches is checked (a new name; both dates when either changes), so a sprint stored
/// before dates were checked can still have its goal edited.
pub(crate) fn patched_sprint(before: &Sprint, patch: &SprintPatch) -> Result<Sprint> {
    let mut after = before.clone();
    if let Some(v) = &patch.name {
        check_name("sprint name", v)?;
        after.name = v.clone();
    }
    if let Some(v) = &patch.starts_on {
        after.starts_on = v.clone();
    }
    if let Some(v) = &patch.ends_on {
        after.ends_on = v.clone();
    }
    if let Some(v) = &patch.goal {
        after.goal = v.clone();
    }
    if patch.starts_on.is_some() || patch.ends_on.is_some() {
        check_sprint(&after.name, &after.starts_on, &after.ends_on)?;
    }
    Ok(after)
}

/// Most changes one bulk task update takes.
pub(crate) const MAX_BULK: usize = 1000;

pub(crate) fn check_bulk(n: usize) -> Result<()> {
    if n > MAX_BULK {
        return Err(StoreError::Invalid(format!(
            "{n} task changes in one update; at most {MAX_BULK}"
        )));
    }
    Ok(())
}

/// The error of change `index` (0-based) of a bulk update, naming the task where the
/// error does not already (`NotFound` and `VersionConflict` carry its id).
pub(crate) fn in_bulk(index: usize, id: i64, e: StoreError) -> StoreError {
    let at = |m: String| format!("change {} (task {id}): {m}", index + 1);
    match e {
        StoreError::Invalid(m) => StoreError::Invalid(at(m)),
        StoreError::Database(m) => StoreError::Database(at(m)),
        e => e,
    }
}

/// A change made against version `expected` of something now at `current` is refused.
pub(crate) fn check_version(
    entity: &'static str,
    id: i64,
    expected: Option<i64>,
    current: i64,
) -> Result<()> {
    match expected {
        Some(e) if e != current => Err(StoreError::VersionConflict {
            entity,
            id,
            expected: e,
            current,
        }),
        _ => Ok(()),
    }
}

/// Cut a page fetched with `limit + 1` rows and set its cursor.
pub(crate) fn paged<T>(
    mut items: Vec<T>,
    limit: i64,
    total: i64,
    id: impl Fn(&T) -> i64,
) -> Page<T> {
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(&id)
    } else {
        None
    };
    Page { items, next, total }
}

/// The fields that differ between two JSON-serialised records, as (before, after).
pub(crate) fn changed_fields<T: serde::Serialize>(
    before: &T,
    after: &T,
) -> (serde_json::Value, serde_json::Value) {
    let (b, a) = (serde_json::json!(before), serde_json::json!(after));
    let (mut ob, mut oa) = (serde_json::Map::new(), serde_json::Map::new());
    if let (Some(bm), Some(am)) = (b.as_object(), a.as_object()) {
        for (k, v) in am {
            if matches!(k.as_str(), "version" | "updated_at") {
                continue;
            }
            if bm.get(k) != Some(v) {
                ob.insert(k.clone(), bm.get(k).cloned().unwrap_or_default());
                oa.insert(k.clone(), v.clone());
            }
        }
    }
    (ob.into(), oa.into())
}

/// FTS query words for user text: each word quoted, so operators in the text are words.
pub(crate) fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The task as `patch` would leave it (the title checked).
pub(crate) fn patched_task(before: &TaskRecord, patch: &TaskPatch) -> Result<TaskRecord> {
    let mut after = before.clone();
    if let Some(v) = &patch.title {
        check_name("task title", v)?;
        after.title = v.clone();
    }
    if let Some(v) = patch.status {
        after.status = v;
    }
    if let Some(v) = patch.priority {
        after.priority = v;
    }
    if let Some(v) = &patch.owner {
        after.owner = v.clone();
    }
    if let Some(v) = &patch.due {
        after.due = v.clone();
    }
    if let Some(v) = &patch.notes {
        after.notes = v.clone();
    }
    if let Some(v) = &patch.tags {
        after.tags = v.clone();
    }
    Ok(after)
}

/// The action item as `patch` would leave it (the title checked).
pub(crate) fn patched_item(before: &ActionItem, patch: &ActionItemPatch) -> Result<ActionItem> {
    let mut after = before.clone();
    if let Some(t) = &patch.title {
        check_name("action item title", t)?;
        after.title = t.clone();
    }
    if let Some(d) = patch.done {
        after.done = d;
    }
    if let Some(o) = &patch.owner {
        after.owner = o.clone();
    }
    if let Some(d) = &patch.due {
        after.due = d.clone();
    }
    Ok(after)
}

/// Progress from (stored status, count) rows.
pub(crate) fn progress_of(rows: impl IntoIterator<Item = (String, i64)>) -> ProjectProgress {
    let mut p = ProjectProgress {
        total: 0,
        done: 0,
        in_progress: 0,
        blocked: 0,
        deferred: 0,
        cancelled: 0,
        todo: 0,
        percent: 0.0,
    };
    for (s, n) in rows {
        p.total += n;
        match status_from_str(&s) {
            Some(Status::Done) => p.done += n,
            Some(Status::InProgress) => p.in_progress += n,
            Some(Status::Blocked) => p.blocked += n,
            Some(Status::Deferred) => p.deferred += n,
            Some(Status::Cancelled) => p.cancelled += n,
            _ => p.todo += n,
        }
    }
    p.percent = taskman_core::analysis::percent(p.done as usize, p.total as usize);
    p
}

/// Each waiting task with the open tasks it waits on: its own open dependencies and its
/// parents' (`open_deps`: task -> open prerequisites; `parent`: task -> parent).
pub(crate) fn with_blockers(
    items: Vec<TaskRecord>,
    open_deps: &HashMap<i64, Vec<i64>>,
    parent: &HashMap<i64, i64>,
) -> Vec<BlockedTask> {
    items
        .into_iter()
        .map(|t| {
            let mut by: Vec<i64> = Vec::new();
            let mut cur = Some(t.id);
            while let Some(id) = cur {
                by.extend(
                    open_deps
                        .get(&id)
                        .into_iter()
                        .flatten()
                        .filter(|&&d| d != t.id),
                );
                cur = parent.get(&id).copied();
            }
            by.sort_unstable();
            by.dedup();
            BlockedTask {
                task: t,
                blocked_by: by,
            }
        })
        .collect()
}
