//! API keys: `tm_<prefix>_<secret>`. The store keeps the prefix (to find the key) and a
//! SHA-256 of the whole key, never the key: keys are 128 random bits, so a fast hash is
//! enough (a slow password hash guards against guessing, which such keys rule out).

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use taskman_store::{Role, User};

use crate::AppState;
use crate::error::ApiError;

/// A new key: (the key to hand out once, its prefix, its hash).
pub fn new_key() -> Result<(String, String, String), String> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let key = format!("tm_{}_{}", &hex[..8], &hex[8..]);
    let (prefix, hash) = prefix_and_hash(&key).ok_or("malformed key")?;
    Ok((key, prefix, hash))
}

/// The prefix and hash of a key as written, `None` when it is not shaped like one.
pub fn prefix_and_hash(key: &str) -> Option<(String, String)> {
    let rest = key.strip_prefix("tm_")?;
    let (prefix, secret) = rest.split_once('_')?;
    if prefix.len() != 8 || secret.len() < 16 {
        return None;
    }
    let digest = Sha256::digest(key.as_bytes());
    Some((
        prefix.to_string(),
        digest.iter().map(|b| format!("{b:02x}")).collect(),
    ))
}

/// Equal in time independent of where the first difference is.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Who is calling, set by [`require_key`] for the handlers.
#[derive(Debug, Clone)]
pub struct Caller(pub User);

impl Caller {
    pub fn actor(&self) -> &str {
        &self.0.name
    }
}

/// Middleware: a valid, unrevoked key is required (401 otherwise); viewers may only read
/// (403 on anything else); then the per-key rate limit and [`crate::idempotency`].
pub async fn require_key(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| ApiError::Unauthorized("send Authorization: Bearer <api key>".into()))?;
    // The cache is keyed by the key's digest (no hex, no database) on the hot path.
    let digest: [u8; 32] = Sha256::digest(given.as_bytes()).into();
    let user = match state.keys.get(&digest) {
        Some(user) => user,
        None => {
            let (prefix, hash) = prefix_and_hash(given)
                .ok_or_else(|| ApiError::Unauthorized("the API key is not valid".into()))?;
            let (_, user) = state
                .store
                .api_key_by_prefix(&prefix)
                .await?
                .filter(|(k, _)| k.revoked_at.is_none() && same(&k.hash, &hash))
                .ok_or_else(|| ApiError::Unauthorized("the API key is not valid".into()))?;
            state.keys.put(digest, user.clone());
            user
        }
    };
    let reads = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if user.role == Role::Viewer && !reads {
        return Err(ApiError::Forbidden(format!(
            "{} has the viewer role and may only read",
            user.name
        )));
    }
    let quota = match state.limits.key(
        &u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")).to_string(),
        !reads,
    ) {
        None => None,
        Some(Ok(q)) => Some(q),
        Some(Err(q)) => {
            return Ok(crate::ratelimit::too_many(
                q,
                if reads {
                    "too many reads with this API key"
                } else {
                    "too many writes with this API key"
                },
            ));
        }
    };
    req.extensions_mut().insert(Caller(user));
    // The idempotency check runs here, inside authentication, rather than as a layer of
    // its own: one middleware per request instead of two.
    let mut res = crate::idempotency::idempotency(State(state), req, next)
        .await
        .into_response();
    if let Some(q) = quota {
        crate::ratelimit::set_headers(&mut res, q);
    }
    Ok(res)
}

/// Keys verified lately, by their hash, so that a request does not read the database to
/// check its key. An entry lasts [`KeyCache::TTL`]: a key revoked (or a role changed) in
/// the database is refused by every server within that time.
pub struct KeyCache {
    entries: std::sync::Mutex<std::collections::HashMap<[u8; 32], (User, std::time::Instant)>>,
}

impl Default for KeyCache {
    fn default() -> KeyCache {
        KeyCache {
            entries: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }
}

impl KeyCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(30);
    const MAX: usize = 10_000;

    fn get(&self, digest: &[u8; 32]) -> Option<User> {
        let entries = self.entries.lock().ok()?;
        let (user, at) = entries.get(digest)?;
        (at.elapsed() < Self::TTL).then(|| user.clone())
    }

    fn put(&self, digest: [u8; 32], user: User) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= Self::MAX {
                entries.retain(|_, (_, at)| at.elapsed() < Self::TTL);
                if entries.len() >= Self::MAX {
                    entries.clear();
                }
            }
            entries.insert(digest, (user, std::time::Instant::now()));
        }
    }

    /// Forget every key (after a key is revoked through this server).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_by_prefix_and_checked_by_hash() {
        let (key, prefix, hash) = new_key().unwrap();
        assert!(key.starts_with(&format!("tm_{prefix}_")));
        assert_eq!(prefix_and_hash(&key).unwrap(), (prefix, hash.clone()));
        let mut other = key.clone();
        other.pop();
        other.push('z');
        assert_ne!(prefix_and_hash(&other).unwrap().1, hash);
        assert_eq!(prefix_and_hash("Bearer nonsense"), None);
    }
}
