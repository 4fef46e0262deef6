//! Idempotency keys on PostgreSQL (rules in [`crate::idempotency`]), safe with several
//! servers on one database: a claim is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE`
//! that either inserts the key or takes over an expired or abandoned claim, atomically;
//! only when it did neither is the claim read. Each statement commits on its own: no lock
//! is held from one statement to the next, so two claims can never wait on each other.

use sqlx::Row;
use sqlx::postgres::PgConnection;

use crate::error::{Result, StoreError};
use crate::idempotency::{Claim, Cutoffs, FINISHED, IN_FLIGHT, SWEEP, answer, not_in_flight};
use crate::model::{IdempotencyBegin, StoredResponse};

/// Claims tried before giving up: another attempt is needed only when the claim that
/// blocked ours was deleted between our two statements.
const ATTEMPTS: usize = 3;

pub(crate) async fn begin(
    c: &mut PgConnection,
    now: &str,
    user_id: i64,
    key: &str,
    fingerprint: &str,
) -> Result<IdempotencyBegin> {
    let cut = Cutoffs::at(now)?;
    // Expired keys go a few at a time, oldest first; keys another server is deleting or
    // claiming right now are skipped rather than waited for.
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE (user_id, key) IN (
            SELECT user_id, key FROM idempotency_keys WHERE created_at < $1
            ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(&cut.expired)
    .bind(SWEEP)
    .execute(&mut *c)
    .await?;
    for _ in 0..ATTEMPTS {
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, key, fingerprint, state, created_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,
                state = EXCLUDED.state, status = NULL, content_type = NULL, etag = NULL,
                body = NULL, created_at = EXCLUDED.created_at
             WHERE idempotency_keys.created_at < $6
                OR (idempotency_keys.state = $4 AND idempotency_keys.created_at < $7)",
        )
        .bind(user_id)
        .bind(key)
        .bind(fingerprint)
        .bind(IN_FLIGHT)
        .bind(&cut.now)
        .bind(&cut.expired)
        .bind(&cut.abandoned)
        .execute(&mut *c)
        .await?
        .rows_affected();
        if claimed == 1 {
            return Ok(IdempotencyBegin::Started);
        }
        let row = sqlx::query(
            "SELECT fingerprint, state, created_at, status, content_type, etag, body
             FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        )
        .bind(user_id)
        .bind(key)
        .fetch_optional(&mut *c)
        .await?;
        let Some(r) = row else {
            // Abandoned or swept since our insert found it: claim again.
            continue;
        };
        let claim = Claim {
            fingerprint: r.try_get(0)?,
            state: r.try_get(1)?,
            created_at: r.try_get(2)?,
            status: r.try_get::<Option<i32>, _>(3)?.map(i64::from),
            content_type: r.try_get(4)?,
            etag: r.try_get(5)?,
            body: r.try_get(6)?,
        };
        if let Some(found) = answer(claim, fingerprint, &cut)? {
            return Ok(found);
        }
        // The claim turned stale between the two statements (another server's clock):
        // the next insert takes it over.
    }
    Err(StoreError::Database(format!(
        "idempotency key {key:?} changed under {ATTEMPTS} claims in a row"
    )))
}

pub(crate) async fn finish(
    c: &mut PgConnection,
    user_id: i64,
    key: &str,
    response: &StoredResponse,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE idempotency_keys SET state = $3, status = $4, content_type = $5, etag = $6,
            body = $7
         WHERE user_id = $1 AND key = $2 AND state = $8",
    )
    .bind(user_id)
    .bind(key)
    .bind(FINISHED)
    .bind(i32::from(response.status))
    .bind(&response.content_type)
    .bind(&response.etag)
    .bind(&response.body)
    .bind(IN_FLIGHT)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(not_in_flight(key));
    }
    Ok(())
}

pub(crate) async fn abandon(c: &mut PgConnection, user_id: i64, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND state = $3")
        .bind(user_id)
        .bind(key)
        .bind(IN_FLIGHT)
        .execute(&mut *c)
        .await?;
    Ok(())
}
