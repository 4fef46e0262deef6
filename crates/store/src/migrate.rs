//! Versioned migrations, carried in the binary and applied at start, the same way on both
//! backends: a `schema_migrations` table records each applied version with a checksum of
//! its text. A database that has a migration this binary does not know, or one whose text
//! changed after it was applied, is refused rather than guessed at.

use crate::error::{Result, StoreError};

#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// FNV-1a over the text: enough to notice an edited migration.
    pub fn checksum(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.sql.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

pub const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/sqlite/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "idempotency",
        sql: include_str!("../migrations/sqlite/0002_idempotency.sql"),
    },
    Migration {
        version: 3,
        name: "fts_deferred",
        sql: include_str!("../migrations/sqlite/0003_fts_deferred.sql"),
    },
];

pub const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "idempotency",
        sql: include_str!("../migrations/postgres/0002_idempotency.sql"),
    },
];

/// An applied migration as recorded in the database.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Applied {
    pub version: i64,
    pub name: String,
    pub checksum: String,
    pub applied_at: String,
}

/// The migrations still to apply, after checking the applied ones against `known`.
pub fn pending<'a>(known: &'a [Migration], applied: &[Applied]) -> Result<Vec<&'a Migration>> {
    for a in applied {
        match known.iter().find(|m| m.version == a.version) {
            None => {
                return Err(StoreError::Migration(format!(
                    "the database has migration {} ({}) which this taskman does not know: it is \
                     newer than this binary",
                    a.version, a.name
                )));
            }
            Some(m) if m.checksum() != a.checksum => {
                return Err(StoreError::Migration(format!(
                    "migration {} ({}) was changed after it was applied (checksum {} in the \
                     database, {} here)",
                    a.version,
                    a.name,
                    a.checksum,
                    m.checksum()
                )));
            }
            Some(_) => {}
        }
    }
    Ok(known
        .iter()
        .filter(|m| !applied.iter().any(|a| a.version == m.version))
        .collect())
}
