//! Idempotency keys on SQLite (rules in [`crate::idempotency`]). Every call runs in the
//! single writer, so reading a claim and taking it over cannot interleave with another
//! request's claim.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;
use crate::idempotency::{Claim, Cutoffs, FINISHED, IN_FLIGHT, SWEEP, answer, not_in_flight};
use crate::model::{IdempotencyBegin, StoredResponse};

pub(crate) fn begin(
    c: &Connection,
    now: &str,
    user_id: i64,
    key: &str,
    fingerprint: &str,
) -> Result<IdempotencyBegin> {
    let cut = Cutoffs::at(now)?;
    // Expired keys go a few at a time, oldest first (through the index on created_at).
    c.prepare_cached(
        "DELETE FROM idempotency_keys WHERE (user_id, key) IN (
            SELECT user_id, key FROM idempotency_keys WHERE created_at < ?1
            ORDER BY created_at LIMIT ?2)",
    )?
    .execute(params![cut.expired, SWEEP])?;
    let claim = c
        .prepare_cached(
            "SELECT fingerprint, state, created_at, status, content_type, etag, body
             FROM idempotency_keys WHERE user_id = ?1 AND key = ?2",
        )?
        .query_row(params![user_id, key], |r| {
            Ok(Claim {
                fingerprint: r.get(0)?,
                state: r.get(1)?,
                created_at: r.get(2)?,
                status: r.get(3)?,
                content_type: r.get(4)?,
                etag: r.get(5)?,
                body: r.get(6)?,
            })
        })
        .optional()?;
    if let Some(claim) = claim
        && let Some(found) = answer(claim, fingerprint, &cut)?
    {
        return Ok(found);
    }
    // Absent, expired or abandoned: the key is this request's.
    c.prepare_cached(
        "INSERT INTO idempotency_keys (user_id, key, fingerprint, state, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = excluded.fingerprint,
            state = excluded.state, status = NULL, content_type = NULL, etag = NULL,
            body = NULL, created_at = excluded.created_at",
    )?
    .execute(params![user_id, key, fingerprint, IN_FLIGHT, cut.now])?;
    Ok(IdempotencyBegin::Started)
}

pub(crate) fn finish(
    c: &Connection,
    user_id: i64,
    key: &str,
    response: &StoredResponse,
) -> Result<()> {
    let n = c
        .prepare_cached(
            "UPDATE idempotency_keys SET state = ?3, status = ?4, content_type = ?5, etag = ?6,
                body = ?7
             WHERE user_id = ?1 AND key = ?2 AND state = ?8",
        )?
        .execute(params![
            user_id,
            key,
            FINISHED,
            response.status,
            response.content_type,
            response.etag,
            response.body,
            IN_FLIGHT
        ])?;
    if n == 0 {
        return Err(not_in_flight(key));
    }
    Ok(())
}

pub(crate) fn abandon(c: &Connection, user_id: i64, key: &str) -> Result<()> {
    c.prepare_cached(
        "DELETE FROM idempotency_keys WHERE user_id = ?1 AND key = ?2 AND state = ?3",
    )?
    .execute(params![user_id, key, IN_FLIGHT])?;
    Ok(())
}
