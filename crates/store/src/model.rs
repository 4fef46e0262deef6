//! What the store keeps and hands out: rows as the API and CLI see them, the changes they
//! ask for, filters and pages.

use serde::{Deserialize, Serialize};
use taskman_core::{Effort, Priority, Status};

/// Who made a change, as recorded in the event log (`alice`, `cli:root`, `sync`).
pub type Actor = str;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProjectPatch {
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanInfo {
    pub id: i64,
    pub project_id: i64,
    /// The file name (or path) the plan was imported from; unique within a project.
    pub name: String,
    pub title: Option<String>,
    /// Number of the newest stored version of the source text (1, 2, ...).
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanVersion {
    pub number: i64,
    pub size: i64,
    pub actor: String,
    pub created_at: String,
}

/// A task as stored. `key` is the plan's own id for it (`Step 7`, `CORE-001`, or a slug);
/// `id` is the database's, stable for the task's life.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskRecord {
    pub id: i64,
    pub project_id: i64,
    pub plan_id: Option<i64>,
    pub key: String,
    pub title: String,
    pub status: Status,
    pub priority: Option<Priority>,
    pub owner: Option<String>,
    pub section_id: Option<i64>,
    pub section: Option<String>,
    pub parent_id: Option<i64>,
    /// Order within the plan (document order after each sync).
    pub position: i64,
    /// Line in the newest stored version of the plan's text.
    pub line: Option<i64>,
    pub effort: Option<Effort>,
    pub due: Option<String>,
    pub tags: Vec<String>,
    pub notes: String,
    /// Ids of the tasks this one depends on directly (as written, through section rules,
    /// or added by a user).
    pub depends_on: Vec<i64>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// A task created through the store rather than imported from a plan.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewTask {
    pub title: String,
    pub plan_id: Option<i64>,
    pub key: Option<String>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub owner: Option<String>,
    pub due: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub parent_id: Option<i64>,
}

/// A change to a task; `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TaskPatch {
    pub title: Option<String>,
    pub status: Option<Status>,
    pub priority: Option<Option<Priority>>,
    pub owner: Option<Option<String>>,
    pub due: Option<Option<String>>,
    pub notes: Option<String>,
    pub tags: Option<Vec<String>>,
}

impl TaskPatch {
    pub fn status(s: Status) -> TaskPatch {
        TaskPatch {
            status: Some(s),
            ..TaskPatch::default()
        }
    }
}

/// One task's change in a bulk update: `patch` applied if the task is still at version
/// `expected` (`None`: whatever version).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TaskChange {
    pub id: i64,
    pub expected: Option<i64>,
    pub patch: TaskPatch,
}

#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub project_id: Option<i64>,
    pub plan_id: Option<i64>,
    pub section_id: Option<i64>,
    pub status: Vec<Status>,
    pub priority: Option<Priority>,
    pub owner: Option<String>,
    pub tag: Option<String>,
    /// Full-text search over titles and notes (words, all must match).
    pub text: Option<String>,
    pub ready: bool,
    pub blocked: bool,
}

/// Keyset pagination: `after` is the `next` of the previous page.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after: Option<i64>,
    pub limit: u32,
}

impl Default for PageRequest {
    fn default() -> PageRequest {
        PageRequest {
            after: None,
            limit: 50,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Cursor for the next page, absent on the last one.
    pub next: Option<i64>,
    /// How many items match the filter in all.
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectProgress {
    pub total: i64,
    pub done: i64,
    pub in_progress: i64,
    pub blocked: i64,
    pub deferred: i64,
    pub cancelled: i64,
    pub todo: i64,
    pub percent: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockedTask {
    pub task: TaskRecord,
    /// Open tasks it waits on, directly or through its parents.
    pub blocked_by: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub project_id: Option<i64>,
    pub task_id: Option<i64>,
    /// `project.created`, `plan.imported`, `task.updated`, ...
    pub action: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub project_id: Option<i64>,
    pub task_id: Option<i64>,
    pub actor: Option<String>,
    /// Inclusive lower bound, RFC 3339 (`2026-11-22T00:00:00Z`).
    pub since: Option<String>,
    /// Exclusive upper bound, RFC 3339.
    pub until: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sprint {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub starts_on: String,
    pub ends_on: String,
    pub goal: String,
    pub closed_at: Option<String>,
    pub task_ids: Vec<i64>,
    pub version: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NewSprint {
    pub name: String,
    pub starts_on: String,
    pub ends_on: String,
    #[serde(default)]
    pub goal: String,
}

/// A change to a sprint; `None` leaves a field alone. Checked as a new sprint is: a name,
/// dates as `YYYY-MM-DD`, the end not before the start.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SprintPatch {
    pub name: Option<String>,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub goal: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionList {
    pub id: i64,
    pub project_id: Option<i64>,
    pub name: String,
    pub items: Vec<ActionItem>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionItem {
    pub id: i64,
    pub list_id: i64,
    pub title: String,
    pub done: bool,
    pub owner: Option<String>,
    pub due: Option<String>,
    pub position: i64,
    pub version: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActionItemPatch {
    pub title: Option<String>,
    pub done: Option<bool>,
    pub owner: Option<Option<String>>,
    pub due: Option<Option<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    Admin,
    Member,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "admin" => Role::Admin,
            "member" => Role::Member,
            "viewer" => Role::Viewer,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_at: String,
}

/// An API key as stored: the secret itself is never kept, only its hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKey {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The first characters of the key, shown to tell keys apart and used to find the
    /// hash to check against.
    pub prefix: String,
    #[serde(skip)]
    pub hash: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A response kept under an idempotency key, to be sent again, byte for byte, when the
/// same request is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: String,
    pub etag: Option<String>,
    pub body: Vec<u8>,
}

/// What claiming an idempotency key found (see `Store::idempotency_begin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// The key is this request's now: carry it out, then finish (or abandon) the key.
    Started,
    /// The same request was carried out before: send its response again.
    Replay(StoredResponse),
    /// The key was used for a different request (method, path or body).
    Mismatch,
    /// The same request is being carried out right now.
    InFlight,
}

/// Parse a status as stored (`todo`, `in_progress`, ...).
pub fn status_from_str(s: &str) -> Option<Status> {
    Some(match s {
        "todo" => Status::Todo,
        "in_progress" => Status::InProgress,
        "blocked" => Status::Blocked,
        "deferred" => Status::Deferred,
        "done" => Status::Done,
        "cancelled" => Status::Cancelled,
        _ => return None,
    })
}

pub(crate) fn priority_rank(p: Option<Priority>) -> Option<i64> {
    p.map(|p| p as i64)
}

pub(crate) fn priority_from_rank(r: Option<i64>) -> Option<Priority> {
    Some(match r? {
        0 => Priority::Critical,
        1 => Priority::High,
        2 => Priority::Medium,
        3 => Priority::Low,
        _ => return None,
    })
}
