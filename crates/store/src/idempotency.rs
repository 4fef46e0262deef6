//! Idempotency keys for HTTP `POST` (the rules both backends share).
//!
//! A client sends a key with a request; the first request with that key claims it (in
//! flight), and once carried out its response is kept (finished), so a retry gets the same
//! response, byte for byte, instead of a second effect. The caller (the API) computes a
//! fingerprint of the request (method, path, body): a key used again for a different
//! request is a mismatch, never a replay. A key is scoped to the user who sent it.
//!
//! Keys live for [`KEEP_SECS`] from their claim; a claim still in flight after
//! [`ABANDON_SECS`] is taken to be abandoned (its server died) and may be claimed again.
//! Times come from the store's clock, so tests can fix them. Claims are not changes to
//! the data and are not recorded in the event log.

use crate::clock;
use crate::error::{Result, StoreError};
use crate::model::{IdempotencyBegin, StoredResponse};

/// How long a key is remembered, from its claim: 24 hours.
pub(crate) const KEEP_SECS: i64 = 24 * 3600;
/// How long a claim may stay in flight before another request may take it over.
pub(crate) const ABANDON_SECS: i64 = 60;
/// Most expired keys one claim deletes on its way: keeps each claim cheap while the
/// table still shrinks faster than one claim adds to it.
pub(crate) const SWEEP: i64 = 100;
/// Longest key accepted, in bytes.
const MAX_KEY: usize = 255;

pub(crate) const IN_FLIGHT: &str = "in_flight";
pub(crate) const FINISHED: &str = "finished";

/// "Now" and the two times claims are measured against, all in the stored form (RFC 3339
/// UTC with milliseconds), so stored text compares as instants.
#[derive(Debug, Clone)]
pub(crate) struct Cutoffs {
    pub now: String,
    /// Claims made before this count as absent.
    pub expired: String,
    /// In-flight claims made before this count as abandoned.
    pub abandoned: String,
}

impl Cutoffs {
    pub fn at(now: &str) -> Result<Cutoffs> {
        let bad = || StoreError::Database(format!("the clock says {now:?}, not an RFC 3339 time"));
        Ok(Cutoffs {
            now: clock::normalize(now).ok_or_else(bad)?,
            expired: clock::shifted(now, -KEEP_SECS).ok_or_else(bad)?,
            abandoned: clock::shifted(now, -ABANDON_SECS).ok_or_else(bad)?,
        })
    }
}

pub(crate) fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY {
        return Err(StoreError::Invalid(format!(
            "an idempotency key has 1 to {MAX_KEY} bytes, not {}",
            key.len()
        )));
    }
    Ok(())
}

/// A claim as stored.
#[derive(Debug)]
pub(crate) struct Claim {
    pub fingerprint: String,
    pub state: String,
    pub created_at: String,
    /// Status, content type, ETag and body; absent while in flight.
    pub status: Option<i64>,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub body: Option<Vec<u8>>,
}

/// What an existing claim means for a request with `fingerprint`; `None` when the claim
/// counts as absent (expired, or abandoned in flight) and may be replaced.
pub(crate) fn answer(
    claim: Claim,
    fingerprint: &str,
    cut: &Cutoffs,
) -> Result<Option<IdempotencyBegin>> {
    let in_flight = claim.state == IN_FLIGHT;
    if claim.created_at < cut.expired || (in_flight && claim.created_at < cut.abandoned) {
        return Ok(None);
    }
    if claim.fingerprint != fingerprint {
        return Ok(Some(IdempotencyBegin::Mismatch));
    }
    if in_flight {
        return Ok(Some(IdempotencyBegin::InFlight));
    }
    let broken = || StoreError::Database("a finished idempotency key without its response".into());
    let status = claim
        .status
        .and_then(|s| u16::try_from(s).ok())
        .ok_or_else(broken)?;
    Ok(Some(IdempotencyBegin::Replay(StoredResponse {
        status,
        content_type: claim.content_type.ok_or_else(broken)?,
        etag: claim.etag,
        body: claim.body.ok_or_else(broken)?,
    })))
}

/// `finish` found no claim in flight to finish.
pub(crate) fn not_in_flight(key: &str) -> StoreError {
    StoreError::NotFound {
        entity: "idempotency key in flight",
        id: key.to_string(),
    }
}
