//! The PostgreSQL backend (sqlx), for teams that outgrow one machine: several stateless
//! servers share one database. Every change is one transaction; version checks are part
//! of the `UPDATE ... WHERE version = $n`, so two servers cannot both win; a plan's import
//! holds an advisory lock on (project, plan name) so two syncs of one file queue up.

/// `format!` for SQL built from this crate's own constants (never from input).
macro_rules! sql {
    ($($t:tt)*) => {
        sqlx::AssertSqlSafe(format!($($t)*))
    };
}

mod api;
mod idempotency;
mod import;
mod ops;
mod tasks;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::{Connection, PgPool, Row};

use crate::clock::Clock;
use crate::error::{Result, StoreError};
use crate::migrate::{self, Applied};
use crate::{Durability, Options};

pub struct PgStore {
    pub(crate) pool: PgPool,
    pub(crate) clock: Clock,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

/// Tables in dependency order: restore fills them in this order.
pub(crate) const TABLES: &[&str] = &[
    "users",
    "api_keys",
    "projects",
    "plans",
    "plan_versions",
    "sections",
    "tasks",
    "task_tags",
    "task_deps",
    "sprints",
    "sprint_tasks",
    "action_lists",
    "action_items",
    "events",
    // Exported too, so a restored database replays the responses of the requests whose
    // effects it holds, as a SQLite file backup (a copy of every table) does.
    "idempotency_keys",
];

impl PgStore {
    pub async fn open(url: &str, options: &Options) -> Result<PgStore> {
        let mut connect = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Invalid(format!("database URL: {e}")))?;
        if options.durability == Durability::Fast {
            connect = connect.options([("synchronous_commit", "off")]);
        }
        // One direct connection first, so a refused or misconfigured connection is
        // reported as itself rather than as a pool timeout.
        PgConnection::connect_with(&connect)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?
            .close()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(connect)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let store = PgStore {
            pool,
            clock: options.clock.clone(),
        };
        store.apply_migrations().await?;
        Ok(store)
    }

    async fn apply_migrations(&self) -> Result<()> {
        let mut c = self.pool.acquire().await?;
        // One server migrates at a time; the others wait and then find nothing to do.
        sqlx::query("SELECT pg_advisory_lock(72707369)")
            .execute(&mut *c)
            .await?;
        let r = migrate_locked(&mut c, &self.clock).await;
        sqlx::query("SELECT pg_advisory_unlock(72707369)")
            .execute(&mut *c)
            .await?;
        r
    }

    pub async fn migrations(&self) -> Result<Vec<Applied>> {
        let mut c = self.pool.acquire().await?;
        applied(&mut c).await
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// A logical export: every table as JSON rows, in one consistent snapshot
    /// (`REPEATABLE READ`), written to a new file.
    pub async fn backup(&self, dest: &Path) -> Result<()> {
        if dest.exists() {
            return Err(StoreError::Invalid(format!(
                "{} already exists; backups never overwrite",
                dest.display()
            )));
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
        let mut tables = serde_json::Map::new();
        for t in TABLES {
            let cols = columns(&mut tx, t).await?;
            let rows: String = sqlx::query_scalar(sql!(
                "SELECT COALESCE(json_agg(row_to_json(x))::text, '[]') FROM (SELECT {cols} FROM {t}) x"
            ))
            .fetch_one(&mut *tx)
            .await?;
            tables.insert(t.to_string(), serde_json::from_str(&rows)?);
        }
        let migrations = applied(&mut tx).await?;
        tx.commit().await?;
        let doc = serde_json::json!({
            "format": "taskman-export",
            "format_version": 1,
            "backend": "postgres",
            "migrations": migrations,
            "tables": tables,
        });
        write_new(dest, doc.to_string().as_bytes())
    }

    /// Replace every table's contents with a JSON export, in one transaction: either the
    /// whole backup is in place or nothing changed.
    pub async fn restore(&self, src: &Path) -> Result<()> {
        let text = std::fs::read(src)
            .map_err(|e| StoreError::Invalid(format!("{}: {e}", src.display())))?;
        let doc: Value = serde_json::from_slice(&text).map_err(|e| {
            StoreError::Invalid(format!("{}: not a taskman export: {e}", src.display()))
        })?;
        if doc["format"] != "taskman-export" {
            return Err(StoreError::Invalid(format!(
                "{}: not a taskman export",
                src.display()
            )));
        }
        let recorded: Vec<Applied> = serde_json::from_value(doc["migrations"].clone())
            .map_err(|e| StoreError::Invalid(format!("{}: migrations: {e}", src.display())))?;
        let pending = migrate::pending(migrate::POSTGRES, &recorded)?;
        if !pending.is_empty() {
            return Err(StoreError::Invalid(format!(
                "{}: written by an older schema (version {}); restore it with that taskman",
                src.display(),
                recorded.iter().map(|a| a.version).max().unwrap_or(0)
            )));
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query(sql!("TRUNCATE {} RESTART IDENTITY", TABLES.join(", ")))
            .execute(&mut *tx)
            .await?;
        for t in TABLES {
            let rows = doc["tables"][t].to_string();
            let cols = columns(&mut tx, t).await?;
            sqlx::query(sql!(
                "INSERT INTO {t} ({cols}) SELECT {cols} FROM json_populate_recordset(NULL::{t}, $1::json)"
            ))
            .bind(&rows)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::Invalid(format!("{}: table {t}: {e}", src.display())))?;
            // Identity sequences continue after the restored ids.
            if !matches!(*t, "plan_versions" | "sprint_tasks" | "idempotency_keys")
                && !t.starts_with("task_")
            {
                sqlx::query(sql!(
                    "SELECT setval(pg_get_serial_sequence('{t}', 'id'),
                        COALESCE((SELECT max(id) FROM {t}), 0) + 1, false)"
                ))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The table's stored columns (generated ones, such as the search vector, are computed
/// again on insert), as a SQL list.
async fn columns(c: &mut PgConnection, table: &str) -> Result<String> {
    Ok(sqlx::query_scalar(
        "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
         FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER'",
    )
    .bind(table)
    .fetch_one(&mut *c)
    .await?)
}

/// Write a new file: refuses to replace one, and syncs it before returning.
pub(crate) fn write_new(dest: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)
        .map_err(|e| StoreError::Invalid(format!("{}: {e}", dest.display())))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| StoreError::Database(format!("{}: {e}", dest.display())))
}

async fn applied(c: &mut PgConnection) -> Result<Vec<Applied>> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('schema_migrations') IS NOT NULL")
        .fetch_one(&mut *c)
        .await?;
    if !exists {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version",
    )
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Applied {
                version: r.try_get(0)?,
                name: r.try_get(1)?,
                checksum: r.try_get(2)?,
                applied_at: r.try_get(3)?,
            })
        })
        .collect()
}

async fn migrate_locked(c: &mut PgConnection, clock: &Clock) -> Result<()> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,
            applied_at TEXT NOT NULL)",
    )
    .execute(&mut *c)
    .await?;
    let done = applied(c).await?;
    for m in migrate::pending(migrate::POSTGRES, &done)? {
        let mut tx = c.begin().await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(m.sql))
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::Migration(format!("{} ({}): {e}", m.version, m.name)))?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(m.checksum())
        .bind(clock.now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Append one event to the log.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn event(
    c: &mut PgConnection,
    at: &str,
    actor: &str,
    project: Option<i64>,
    task: Option<i64>,
    action: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (at, actor, project_id, task_id, action, before, after)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(at)
    .bind(actor)
    .bind(project)
    .bind(task)
    .bind(action)
    .bind(before.map(Value::to_string))
    .bind(after.map(Value::to_string))
    .execute(&mut *c)
    .await?;
    Ok(())
}
