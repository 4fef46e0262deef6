//! Sync of a plan file with the database, planned without touching either.
//!
//! Each stored task remembers the values it had when file and database last agreed (its
//! *base*). On a sync every mergeable field is merged three ways: changed only in the file,
//! the database takes the file's value; changed only in the database, the database keeps its
//! value (and `taskman sync` writes a status back into the file); changed on both sides to
//! different values, it is a conflict, reported and left as it is on both sides, with the
//! base kept so the conflict is reported again until someone settles it. Nothing is resolved
//! silently.

use serde::{Deserialize, Serialize};
use taskman_core::matching::{Known, MatchedBy, match_tasks};
use taskman_core::{Plan, Priority, Status};

/// The fields that both a file and a user of the database can change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mergeable {
    pub title: String,
    pub status: Status,
    pub priority: Option<Priority>,
    pub owner: Option<String>,
    pub due: Option<String>,
}

impl Mergeable {
    /// From the stored columns (status as text, priority as rank).
    pub fn from_columns(
        title: String,
        status: &str,
        priority: Option<i64>,
        owner: Option<String>,
        due: Option<String>,
    ) -> Mergeable {
        Mergeable {
            title,
            status: crate::model::status_from_str(status).unwrap_or(Status::Todo),
            priority: crate::model::priority_from_rank(priority),
            owner,
            due,
        }
    }

    pub fn of_record(t: &crate::model::TaskRecord) -> Mergeable {
        Mergeable {
            title: t.title.clone(),
            status: t.status,
            priority: t.priority,
            owner: t.owner.clone(),
            due: t.due.clone(),
        }
    }

    pub fn of(t: &taskman_core::Task) -> Mergeable {
        Mergeable {
            title: t.title.clone(),
            status: t.status,
            priority: t.priority,
            owner: t.owner.clone(),
            due: t.due.clone(),
        }
    }
}

/// The `base` column: empty when the base equals the row's own values (the common case,
/// cheap to write and read), else the base as JSON. NULL (`None`) for tasks created in the
/// database.
pub fn stored_base(base: &Mergeable, value: &Mergeable) -> serde_json::Result<String> {
    if base == value {
        Ok(String::new())
    } else {
        serde_json::to_string(base)
    }
}

/// Read the `base` column back (see [`stored_base`]).
pub fn read_base(column: Option<&str>, current: &Mergeable) -> Option<Mergeable> {
    match column? {
        "" => Some(current.clone()),
        json => serde_json::from_str(json).ok(),
    }
}

/// A stored task of the plan being synced, as the planner needs it.
#[derive(Debug, Clone)]
pub struct StoredTask {
    pub id: i64,
    pub key: String,
    pub section: Option<String>,
    pub current: Mergeable,
    /// `None` for a task created in the database rather than imported.
    pub base: Option<Mergeable>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conflict {
    pub task_id: i64,
    pub key: String,
    pub field: &'static str,
    pub base: serde_json::Value,
    pub file: serde_json::Value,
    pub database: serde_json::Value,
}

/// What a sync found, in the user's words.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncReport {
    pub plan_id: i64,
    pub version: i64,
    /// False when the text was byte-identical to the newest stored version.
    pub new_version: bool,
    pub tasks: usize,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub renamed: Vec<Renamed>,
    pub moved: Vec<Moved>,
    pub status_changed: Vec<StatusChange>,
    /// Fields the file changed and the database took.
    pub updated_from_file: usize,
    /// Status changes made in the database that the file does not show yet; `taskman sync`
    /// writes them into the file.
    pub pending_writeback: Vec<StatusChange>,
    pub conflicts: Vec<Conflict>,
    /// Tasks the file removed but the database changed since: kept, listed here.
    pub kept: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Renamed {
    pub key: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Moved {
    pub key: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChange {
    pub key: String,
    pub from: Status,
    pub to: Status,
}

/// One matched task: which stored row takes which task of the new text, and what the
/// merge decided.
#[derive(Debug, Clone)]
pub struct Update {
    pub id: i64,
    pub new: usize,
    /// Values the row will hold after the sync.
    pub value: Mergeable,
    /// Base to remember.
    pub base: Mergeable,
    /// True when `value` differs from the row's current values.
    pub changed: bool,
}

#[derive(Debug, Clone, Default)]
pub struct SyncPlan {
    pub updates: Vec<Update>,
    /// Indices of new tasks to insert.
    pub inserts: Vec<usize>,
    /// Rows to delete (unchanged in the database since the last sync).
    pub deletes: Vec<i64>,
    pub report: SyncReport,
}

/// Plan the sync of `stored` (the plan's rows) with `new` (the plan parsed from the file).
pub fn plan_sync(stored: &[StoredTask], new: &Plan) -> SyncPlan {
    let section_of = |t: &taskman_core::Task| t.section.map(|s| new.sections[s].title.as_str());
    let old_known: Vec<Known<'_>> = stored
        .iter()
        .map(|s| Known {
            id: &s.key,
            title: s.base.as_ref().map_or(&s.current.title, |b| &b.title),
            section: s.section.as_deref(),
        })
        .collect();
    let new_known: Vec<Known<'_>> = new
        .tasks
        .iter()
        .map(|t| Known {
            id: &t.id,
            title: &t.title,
            section: section_of(t),
        })
        .collect();
    let m = match_tasks(&old_known, &new_known);

    let mut plan = SyncPlan::default();
    let r = &mut plan.report;
    r.tasks = new.tasks.len();
    for pair in &m.pairs {
        let s = &stored[pair.old];
        let t = &new.tasks[pair.new];
        let file = Mergeable::of(t);
        let base = s.base.clone().unwrap_or_else(|| s.current.clone());
        let (value, new_base) = merge(s, &base, &file, r);
        if base.title != file.title && pair.by != MatchedBy::Title {
            r.renamed.push(Renamed {
                key: t.id.clone(),
                from: base.title.clone(),
                to: file.title.clone(),
            });
        }
        if s.section.as_deref() != section_of(t) {
            r.moved.push(Moved {
                key: t.id.clone(),
                from: s.section.clone(),
                to: section_of(t).map(str::to_string),
            });
        }
        if value.status != s.current.status {
            r.status_changed.push(StatusChange {
                key: t.id.clone(),
                from: s.current.status,
                to: value.status,
            });
        }
        let status_conflict = r
            .conflicts
            .iter()
            .any(|c| c.task_id == s.id && c.field == "status");
        if value.status != file.status && value.status != base.status && !status_conflict {
            r.pending_writeback.push(StatusChange {
                key: t.id.clone(),
                from: file.status,
                to: value.status,
            });
        }
        let changed = value != s.current;
        plan.updates.push(Update {
            id: s.id,
            new: pair.new,
            value,
            base: new_base,
            changed,
        });
    }
    for &n in &m.added {
        r.added.push(new.tasks[n].id.clone());
        plan.inserts.push(n);
    }
    for &o in &m.removed {
        let s = &stored[o];
        match &s.base {
            // Created in the database: the file never had it.
            None => {}
            Some(b) if *b == s.current => {
                r.removed.push(s.key.clone());
                plan.deletes.push(s.id);
            }
            Some(_) => r.kept.push(s.key.clone()),
        }
    }
    plan
}

/// Merge one matched task field by field; returns the row's new values and new base.
fn merge(
    s: &StoredTask,
    base: &Mergeable,
    file: &Mergeable,
    r: &mut SyncReport,
) -> (Mergeable, Mergeable) {
    let db = &s.current;
    let mut value = db.clone();
    let mut new_base = base.clone();
    macro_rules! field {
        ($f:ident) => {
            let (b, f, d) = (&base.$f, &file.$f, &db.$f);
            if f == d {
                new_base.$f = f.clone();
            } else if f == b {
                // Changed in the database only: keep it, keep the base.
            } else if d == b {
                value.$f = f.clone();
                new_base.$f = f.clone();
                r.updated_from_file += 1;
            } else {
                r.conflicts.push(Conflict {
                    task_id: s.id,
                    key: s.key.clone(),
                    field: stringify!($f),
                    base: serde_json::json!(b),
                    file: serde_json::json!(f),
                    database: serde_json::json!(d),
                });
            }
        };
    }
    field!(title);
    field!(status);
    field!(priority);
    field!(owner);
    field!(due);
    (value, new_base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(md: &str) -> Plan {
        taskman_markdown::parse(md.as_bytes()).plan
    }

    fn stored_from(p: &Plan) -> Vec<StoredTask> {
        p.tasks
            .iter()
            .enumerate()
            .map(|(i, t)| StoredTask {
                id: i as i64 + 1,
                key: t.id.clone(),
                section: t.section.map(|s| p.sections[s].title.clone()),
                current: Mergeable::of(t),
                base: Some(Mergeable::of(t)),
            })
            .collect()
    }

    const V1: &str = "# P\n## A\n- [ ] T-1: One\n- [ ] T-2: Two\n## B\n- [ ] T-3: Three\n";

    #[test]
    fn ticking_a_box_in_the_file_updates_the_database() {
        let stored = stored_from(&plan(V1));
        let p = plan(&V1.replace("- [ ] T-2", "- [x] T-2"));
        let s = plan_sync(&stored, &p);
        assert_eq!(s.report.status_changed.len(), 1);
        assert_eq!(s.report.status_changed[0].key, "T-2");
        assert_eq!(s.updates[1].value.status, Status::Done);
        assert_eq!(s.updates[1].base.status, Status::Done);
        assert!(s.report.conflicts.is_empty() && s.inserts.is_empty() && s.deletes.is_empty());
    }

    #[test]
    fn a_status_changed_in_the_database_is_kept_and_queued_for_the_file() {
        let mut stored = stored_from(&plan(V1));
        stored[0].current.status = Status::InProgress;
        let s = plan_sync(&stored, &plan(V1));
        assert_eq!(s.updates[0].value.status, Status::InProgress);
        assert_eq!(s.updates[0].base.status, Status::Todo);
        assert_eq!(
            s.report.pending_writeback,
            vec![StatusChange {
                key: "T-1".into(),
                from: Status::Todo,
                to: Status::InProgress
            }]
        );
    }

    #[test]
    fn different_changes_on_both_sides_are_a_conflict_left_as_is() {
        let mut stored = stored_from(&plan(V1));
        stored[2].current.status = Status::Cancelled;
        let s = plan_sync(&stored, &plan(&V1.replace("- [ ] T-3", "- [x] T-3")));
        assert_eq!(s.report.conflicts.len(), 1);
        let c = &s.report.conflicts[0];
        assert_eq!((c.key.as_str(), c.field), ("T-3", "status"));
        assert_eq!(c.file, serde_json::json!("done"));
        assert_eq!(c.database, serde_json::json!("cancelled"));
        assert_eq!(s.updates[2].value.status, Status::Cancelled);
        assert_eq!(
            s.updates[2].base.status,
            Status::Todo,
            "base kept: reported again"
        );
    }

    #[test]
    fn the_same_change_on_both_sides_is_no_conflict() {
        let mut stored = stored_from(&plan(V1));
        stored[2].current.status = Status::Done;
        let s = plan_sync(&stored, &plan(&V1.replace("- [ ] T-3", "- [x] T-3")));
        assert!(s.report.conflicts.is_empty());
        assert_eq!(s.updates[2].base.status, Status::Done);
        assert!(s.report.pending_writeback.is_empty());
    }

    #[test]
    fn removed_tasks_are_deleted_unless_the_database_changed_them() {
        let mut stored = stored_from(&plan(V1));
        stored[1].current.owner = Some("ana".into());
        let p = plan("# P\n## A\n## B\n- [ ] T-3: Three\n");
        let s = plan_sync(&stored, &p);
        assert_eq!(s.deletes, vec![1]);
        assert_eq!(s.report.removed, vec!["T-1"]);
        assert_eq!(s.report.kept, vec!["T-2"]);
    }

    #[test]
    fn renamed_moved_and_added_tasks_are_reported() {
        let stored = stored_from(&plan(V1));
        let p = plan(
            "# P\n## A\n- [ ] T-2: Two\n- [ ] T-4: Four\n## B\n- [ ] T-3: Three\n- [ ] T-1: Uno\n",
        );
        let s = plan_sync(&stored, &p);
        assert_eq!(s.report.added, vec!["T-4"]);
        assert_eq!(
            s.report.renamed,
            vec![Renamed {
                key: "T-1".into(),
                from: "One".into(),
                to: "Uno".into()
            }]
        );
        assert_eq!(
            s.report.moved,
            vec![Moved {
                key: "T-1".into(),
                from: Some("A".into()),
                to: Some("B".into())
            }]
        );
        assert_eq!(
            s.updates.iter().find(|u| u.id == 1).unwrap().value.title,
            "Uno"
        );
    }
}
