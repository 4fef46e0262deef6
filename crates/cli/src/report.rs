//! Output of the database commands: what an import or sync found, a status change, the
//! projects, the event log. Human text for people; `--json` prints the store's own types
//! (schema in docs/cli-json.md).

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use serde_json::{Value, json};
use taskman_core::Status;
use taskman_store::{Event, PlanInfo, Project, SyncReport, TaskRecord};

use crate::render::Out;

/// A status `taskman sync` wrote into the file.
#[derive(Debug, Clone, Serialize)]
pub struct WrittenBack {
    pub key: String,
    pub from: Status,
    pub to: Status,
    /// The task's line in the written file.
    pub line: u32,
}

/// Added and removed tasks listed by name, at most this many (a first import adds them
/// all; `--json` lists every one).
const LIST_MAX: usize = 10;

pub fn imported(
    out: &mut Out,
    file: &Path,
    project: &Project,
    r: &SyncReport,
    as_json: bool,
) -> Result<()> {
    if as_json {
        return out.json(&serde_json::to_value(r)?);
    }
    sync_text(out, file, project, r)
}

pub fn synced(
    out: &mut Out,
    file: &Path,
    project: &Project,
    first: &SyncReport,
    written: &[WrittenBack],
    second: Option<&SyncReport>,
    as_json: bool,
) -> Result<()> {
    let still_pending = second.map_or(&[][..], |s| &s.pending_writeback[..]);
    if as_json {
        let mut v = serde_json::to_value(first)?;
        v["written_back"] = serde_json::to_value(written)?;
        v["written_version"] = json!(second.map(|s| s.version));
        v["still_pending"] = serde_json::to_value(still_pending)?;
        return out.json(&v);
    }
    sync_text(out, file, project, first)?;
    let f = file.display();
    match second {
        None => out.line("nothing to write back into the file")?,
        Some(s) => {
            out.line(&format!(
                "wrote {} status {} into {f} (now version {}):",
                written.len(),
                if written.len() == 1 {
                    "change"
                } else {
                    "changes"
                },
                s.version
            ))?;
            for w in written {
                out.line(&format!(
                    "  {f}:{}: {}: {} -> {}",
                    w.line,
                    w.key,
                    w.from.as_str(),
                    w.to.as_str()
                ))?;
            }
        }
    }
    for p in still_pending {
        out.line(&format!(
            "{}: the file still does not show {} (database: {}); set it by hand",
            out.paint("33", "warning"),
            p.key,
            p.to.as_str()
        ))?;
    }
    Ok(())
}

fn sync_text(out: &mut Out, file: &Path, project: &Project, r: &SyncReport) -> Result<()> {
    let what = if r.version == 1 && r.new_version {
        "imported"
    } else {
        "synced"
    };
    let text = if r.new_version {
        "new text"
    } else {
        "text unchanged"
    };
    out.line(&format!(
        "{what} {} into project \"{}\": plan {}, version {} ({text})",
        file.display(),
        project.name,
        r.plan_id,
        r.version
    ))?;
    out.line(&format!(
        "{} tasks: {} added, {} removed, {} renamed, {} moved, {} status changed, \
         {} fields updated from the file, {} conflicts, {} kept, {} pending writeback",
        r.tasks,
        r.added.len(),
        r.removed.len(),
        r.renamed.len(),
        r.moved.len(),
        r.status_changed.len(),
        r.updated_from_file,
        r.conflicts.len(),
        r.kept.len(),
        r.pending_writeback.len()
    ))?;
    // A first import adds every task: the count says it all.
    if !(r.version == 1 && r.added.len() == r.tasks) {
        list(out, "added", &r.added)?;
    }
    list(out, "removed", &r.removed)?;
    for x in &r.renamed {
        out.line(&format!(
            "  renamed: {}: \"{}\" -> \"{}\"",
            x.key, x.from, x.to
        ))?;
    }
    for x in &r.moved {
        out.line(&format!(
            "  moved: {}: {} -> {}",
            x.key,
            x.from.as_deref().unwrap_or("(no section)"),
            x.to.as_deref().unwrap_or("(no section)")
        ))?;
    }
    for x in &r.status_changed {
        out.line(&format!(
            "  status changed: {}: {} -> {}",
            x.key,
            x.from.as_str(),
            x.to.as_str()
        ))?;
    }
    for c in &r.conflicts {
        out.line(&format!(
            "  {}: {} {}: was {}, the file says {}, the database {}; left as is on both sides",
            out.paint("31;1", "conflict"),
            c.key,
            c.field,
            shown(&c.base),
            shown(&c.file),
            shown(&c.database)
        ))?;
    }
    for k in &r.kept {
        out.line(&format!(
            "  kept: {k}: removed from the file but changed in the database since"
        ))?;
    }
    for p in &r.pending_writeback {
        out.line(&format!(
            "  pending writeback: {}: the file says {}, the database {}",
            p.key,
            p.from.as_str(),
            p.to.as_str()
        ))?;
    }
    Ok(())
}

fn list(out: &mut Out, label: &str, keys: &[String]) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let mut s = keys
        .iter()
        .take(LIST_MAX)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if keys.len() > LIST_MAX {
        s.push_str(&format!(" and {} more", keys.len() - LIST_MAX));
    }
    out.line(&format!("  {label}: {s}"))
}

/// A JSON value for a sentence: strings without quotes, null as `none`.
fn shown(v: &Value) -> String {
    match v {
        Value::Null => "none".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn status_set(
    out: &mut Out,
    before: &TaskRecord,
    after: &TaskRecord,
    as_json: bool,
) -> Result<()> {
    if as_json {
        return out.json(&serde_json::to_value(after)?);
    }
    if before.status == after.status {
        return out.line(&format!(
            "{} is already {}",
            after.key,
            after.status.as_str()
        ));
    }
    out.line(&format!(
        "{}: {} -> {} in the database; `taskman sync FILE` writes it into the file",
        after.key,
        before.status.as_str(),
        after.status.as_str()
    ))
}

pub fn projects(out: &mut Out, all: &[(Project, Vec<PlanInfo>)], as_json: bool) -> Result<()> {
    if as_json {
        let mut v = Vec::with_capacity(all.len());
        for (p, plans) in all {
            let mut o = serde_json::to_value(p)?;
            o["plans"] = serde_json::to_value(plans)?;
            v.push(o);
        }
        return out.json(&Value::Array(v));
    }
    if all.is_empty() {
        return out.line("No projects yet: `taskman import FILE` adds one.");
    }
    for (p, plans) in all {
        out.line(&format!(
            "{} (id {}, {} {})",
            out.paint("1", &p.name),
            p.id,
            plans.len(),
            if plans.len() == 1 { "plan" } else { "plans" }
        ))?;
        for x in plans {
            let title = x
                .title
                .as_deref()
                .map(|t| format!("  \"{t}\""))
                .unwrap_or_default();
            out.line(&format!("  {}  version {}{title}", x.name, x.version))?;
        }
    }
    Ok(())
}

pub fn history(out: &mut Out, events: &[Event], tasks: &[TaskRecord], as_json: bool) -> Result<()> {
    if as_json {
        return out.json(&serde_json::to_value(events)?);
    }
    if events.is_empty() {
        return out.line("No events.");
    }
    let keys: HashMap<i64, &str> = tasks.iter().map(|t| (t.id, t.key.as_str())).collect();
    let rows: Vec<[String; 5]> = events
        .iter()
        .map(|e| {
            let task = match e.task_id {
                None => "-".to_string(),
                Some(id) => keys
                    .get(&id)
                    .map_or_else(|| format!("#{id}"), |k| k.to_string()),
            };
            [
                e.at.clone(),
                e.actor.clone(),
                e.action.clone(),
                task,
                change(e),
            ]
        })
        .collect();
    let header = ["AT", "ACTOR", "ACTION", "TASK", "CHANGE"];
    let mut width = header.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 4 {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = width[i]));
            }
        }
        s.trim_end().to_string()
    };
    out.line(&line(header))?;
    for r in &rows {
        out.line(&line([&r[0], &r[1], &r[2], &r[3], &r[4]]))?;
    }
    Ok(())
}

/// One line saying what an event changed: the fields that differ, else the values it
/// recorded.
fn change(e: &Event) -> String {
    let s = match (&e.before, &e.after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => a
            .iter()
            .filter(|(k, v)| b.get(*k) != Some(*v))
            .map(|(k, v)| {
                format!(
                    "{k}: {} -> {}",
                    shown(b.get(k).unwrap_or(&Value::Null)),
                    shown(v)
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        (None, Some(v)) | (Some(v), None) => summary(v),
        _ => String::new(),
    };
    truncate(&s, 120)
}

fn summary(v: &Value) -> String {
    match v {
        Value::Object(o) => o
            .iter()
            .filter_map(|(k, v)| match v {
                Value::Null => None,
                Value::Array(xs) if xs.is_empty() => None,
                Value::Array(xs) => Some(format!("{k}: {}", xs.len())),
                Value::Object(_) => None,
                other => Some(format!("{k}: {}", shown(other))),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => shown(other),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(before: Option<Value>, after: Option<Value>) -> Event {
        Event {
            id: 1,
            at: "2026-01-01T00:00:00Z".into(),
            actor: "cli:ana".into(),
            project_id: Some(1),
            task_id: Some(1),
            action: "task.status_changed".into(),
            before,
            after,
        }
    }

    #[test]
    fn an_update_event_shows_only_the_fields_that_changed() {
        let e = event(
            Some(json!({"title": "T", "status": "todo"})),
            Some(json!({"title": "T", "status": "done"})),
        );
        assert_eq!(change(&e), "status: todo -> done");
    }

    #[test]
    fn a_creation_event_shows_its_values_without_empty_ones() {
        let e = event(
            None,
            Some(json!({"key": "Step 1", "owner": null, "tags": []})),
        );
        assert_eq!(change(&e), "key: Step 1");
    }
}
