//! Storage errors, named for what the caller did rather than for the backend that noticed.
//! The API maps each to one HTTP status (noted per variant).

use thiserror::Error;

#[derive(Debug, Error, Clone)]
pub enum StoreError {
    /// 404.
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    /// 409 (412 when the caller sent If-Match): the update was made against an old version.
    #[error(
        "{entity} {id} is at version {current}, the change was made against version {expected}"
    )]
    VersionConflict {
        entity: &'static str,
        id: i64,
        expected: i64,
        current: i64,
    },
    /// 409: a unique name or key is taken.
    #[error("{0}")]
    AlreadyExists(String),
    /// 409: the dependency would close a cycle; the cycle as task ids, first = last.
    #[error("dependency would create a cycle: {}", fmt_cycle(.0))]
    Cycle(Vec<i64>),
    /// 422: the request is well formed but not acceptable (empty title, unknown status...).
    #[error("{0}")]
    Invalid(String),
    /// 503: the database cannot be reached or refused the connection.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// 500: a migration recorded in the database differs from the one this binary carries,
    /// or the database is newer than this binary.
    #[error("migrations: {0}")]
    Migration(String),
    /// 500: anything else the database reported.
    #[error("database error: {0}")]
    Database(String),
}

fn fmt_cycle(ids: &[i64]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" -> ")
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        if let rusqlite::Error::SqliteFailure(f, msg) = &e
            && f.code == rusqlite::ErrorCode::ConstraintViolation
            && f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
        {
            return StoreError::AlreadyExists(msg.clone().unwrap_or_else(|| e.to_string()));
        }
        StoreError::Database(e.to_string())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::AlreadyExists(d.message().to_string())
            }
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Database(e.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> StoreError {
        StoreError::Database(format!("stored JSON: {e}"))
    }
}
