//! Test support shared by the integration tests of `store`, `api` and `cli`: a fresh
//! PostgreSQL database per test, created on the server named by `TASKMAN_TEST_POSTGRES_URL`
//! and dropped when its guard goes away (also while a failed test unwinds).
//!
//! Without that variable a PostgreSQL test prints a notice and passes, unless
//! `TASKMAN_REQUIRE_POSTGRES=1`, in which case it fails: CI must never skip the PostgreSQL
//! tests silently.
//!
//! A dev-dependency only: nothing here may be used by a library or the binary, and nothing
//! here knows about taskman's own types (it depends on no taskman crate, so every crate can
//! use it in its tests).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{AssertSqlSafe, Connection as _};

/// The server the PostgreSQL tests create their databases on (an administrator's URL).
pub const URL_VAR: &str = "TASKMAN_TEST_POSTGRES_URL";
/// Set to `1` to make a missing [`URL_VAR`] a failure instead of a skip.
pub const REQUIRE_VAR: &str = "TASKMAN_REQUIRE_POSTGRES";

/// A database created on the PostgreSQL test server for one test, dropped (`WITH (FORCE)`,
/// so connections a test left open do not keep it) when this guard is dropped.
#[derive(Debug)]
pub struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    /// A fresh, empty database on the server at `TASKMAN_TEST_POSTGRES_URL`, or `None`
    /// (after printing a notice) when that variable is unset or blank.
    ///
    /// `suite` names the tests asking (`cli`, `api`, `conformance`, ...): it goes into the
    /// notice and into the database's name, `taskman_<suite>_<pid>_<n>_<nanos>`, which is
    /// unique across the processes of one test run and the runs before it.
    ///
    /// Panics when `TASKMAN_REQUIRE_POSTGRES=1` and the server is not configured, or when
    /// the database cannot be created.
    ///
    /// Blocking (the work runs on a thread of its own), so it may be called from a plain
    /// `#[test]` as well as from inside a test's tokio runtime.
    pub fn create(suite: &str) -> Option<PgDatabase> {
        assert!(
            !suite.is_empty()
                && suite.len() <= 24
                && suite
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "suite {suite:?}: at most 24 of [a-z0-9_], it goes into a database name"
        );
        let Some(admin_url) = server_url() else {
            if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
                panic!(
                    "{REQUIRE_VAR}=1 but {URL_VAR} is not set: \
                     the PostgreSQL {suite} tests cannot be skipped"
                );
            }
            eprintln!(
                "notice: {URL_VAR} is not set; PostgreSQL {suite} test skipped \
                 (set it to e.g. postgres://postgres@127.0.0.1:5432/postgres)"
            );
            return None;
        };
        let name = unique_name(suite);
        // A leftover of the same name (from a killed run of a process with the same id)
        // would make CREATE fail: drop it first.
        admin(
            &admin_url,
            vec![
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                format!("CREATE DATABASE {name}"),
            ],
        )
        .unwrap_or_else(|e| panic!("creating test database {name}: {e}"));
        Some(PgDatabase {
            url: with_database(&admin_url, &name),
            admin_url,
            name,
        })
    }

    /// The URL of this database: the server's URL with the database name replaced.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Drop may run while a test panics: warn rather than panic again (which would abort).
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = admin(&self.admin_url, vec![sql]) {
            eprintln!("warning: could not drop test database {}: {e}", self.name);
        }
    }
}

/// The configured server URL, if any (blank counts as unset).
fn server_url() -> Option<String> {
    std::env::var(URL_VAR).ok().filter(|u| !u.trim().is_empty())
}

/// `taskman_<suite>_<pid>_<n>_<nanos>`: the process id and a counter keep the tests of one
/// run apart, the clock keeps a run apart from an earlier process that had the same id.
fn unique_name(suite: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "taskman_{suite}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Run `statements` in order on one connection to the server at `admin_url`.
///
/// The async work runs on a thread with a runtime of its own: the caller may be a plain
/// test, a test inside a tokio runtime (where `block_on` would panic), or a `Drop` during
/// a panic.
fn admin(admin_url: &str, statements: Vec<String>) -> Result<(), String> {
    let admin_url = admin_url.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&admin_url)
                .await
                .map_err(|e| format!("connecting to {URL_VAR}: {e}"))?;
            for sql in statements {
                sqlx::query(AssertSqlSafe(sql.clone()))
                    .execute(&mut conn)
                    .await
                    .map_err(|e| format!("{sql}: {e}"))?;
            }
            let _ = conn.close().await;
            Ok(())
        })
    })
    .join()
    .unwrap_or_else(|_| Err("the thread talking to PostgreSQL panicked".to_string()))
}

/// `url` pointing at database `name` (query string kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[host_start..]
        .find('/')
        .map_or(base.len(), |i| host_start + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_database_urls_keep_host_and_options() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t_1"),
            "postgres://postgres@127.0.0.1:5432/t_1"
        );
        assert_eq!(
            with_database("postgresql://u:p@h/db?sslmode=disable", "t_2"),
            "postgresql://u:p@h/t_2?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "t_3"),
            "postgres://h:5432/t_3"
        );
    }

    #[test]
    fn database_urls_get_their_database_name_replaced() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "t1"),
            "postgres://u:p@h:5432/t1?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://h", "t1"), "postgresql://h/t1");
    }

    #[test]
    fn database_names_differ_within_a_process_and_are_identifiers() {
        let (a, b) = (unique_name("cli"), unique_name("cli"));
        assert_ne!(a, b);
        assert!(a.starts_with("taskman_cli_"), "{a}");
        let longest = unique_name(&"s".repeat(24));
        assert!(
            longest.len() <= 63,
            "{longest}: PostgreSQL cuts names at 63 bytes"
        );
    }
}
