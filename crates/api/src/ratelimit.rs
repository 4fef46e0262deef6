//! Rate limits: fixed one-minute windows, counted per API key (reads and writes apart) and
//! per client address (every request but the health probes). Over a limit the answer is a
//! 429 problem with `Retry-After` (seconds to the window's end) and the `RateLimit-Limit`,
//! `RateLimit-Remaining` and `RateLimit-Reset` headers, which answers under a per-key limit
//! carry too. Counters live in this process: with several servers each counts its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::ApiError;
use crate::settings::RateLimits;

const WINDOW: Duration = Duration::from_secs(60);
const MAX_ENTRIES: usize = 100_000;

/// Where a caller stands in its window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window ends (at least 1).
    pub reset: u64,
}

#[derive(Default)]
pub struct Limiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Limiter {
    /// Count one request of `key` against `limit` per minute: `Ok` with what is left, or
    /// `Err` when the window is used up.
    pub fn hit(&self, key: &str, limit: u32, now: Instant) -> Result<Quota, Quota> {
        let Ok(mut w) = self.windows.lock() else {
            return Ok(Quota {
                limit,
                remaining: limit,
                reset: WINDOW.as_secs(),
            });
        };
        if w.len() >= MAX_ENTRIES {
            w.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = w.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        let reset = (WINDOW - now.duration_since(entry.0)).as_secs().max(1);
        if entry.1 >= limit {
            return Err(Quota {
                limit,
                remaining: 0,
                reset,
            });
        }
        entry.1 += 1;
        Ok(Quota {
            limit,
            remaining: limit - entry.1,
            reset,
        })
    }
}

/// The limits of a server and their counters.
#[derive(Default)]
pub struct Limits {
    pub settings: RateLimits,
    by_key: Limiter,
    by_address: Limiter,
}

impl Limits {
    pub fn new(settings: RateLimits) -> Limits {
        Limits {
            settings,
            ..Limits::default()
        }
    }

    /// Per API key (`key_id`), reads and writes counted apart.
    pub fn key(&self, key_id: &str, write: bool) -> Option<Result<Quota, Quota>> {
        let (limit, kind) = if write {
            (self.settings.writes_per_minute, "w")
        } else {
            (self.settings.reads_per_minute, "r")
        };
        (limit > 0).then(|| {
            self.by_key
                .hit(&format!("{kind}:{key_id}"), limit, Instant::now())
        })
    }
}

pub fn set_headers(res: &mut Response, q: Quota) {
    let h = res.headers_mut();
    h.insert("ratelimit-limit", HeaderValue::from(q.limit));
    h.insert("ratelimit-remaining", HeaderValue::from(q.remaining));
    h.insert("ratelimit-reset", HeaderValue::from(q.reset));
}

pub fn too_many(q: Quota, what: &str) -> Response {
    let mut res = ApiError::TooManyRequests(format!(
        "{what}: {} requests per minute; retry in {} s",
        q.limit, q.reset
    ))
    .into_response();
    res.headers_mut()
        .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(q.reset));
    set_headers(&mut res, q);
    res
}

/// Middleware: the per-address limit (health probes are not counted).
pub async fn per_address(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.limits.settings.per_address_per_minute;
    if limit == 0 || req.uri().path().starts_with("/health/") {
        return next.run(req).await;
    }
    let Some(ConnectInfo(addr)) = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .copied()
    else {
        return next.run(req).await;
    };
    match state
        .limits
        .by_address
        .hit(&addr.ip().to_string(), limit, Instant::now())
    {
        Ok(_) => next.run(req).await,
        Err(q) => too_many(q, "too many requests from this address"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_the_limit_then_refuses_until_it_ends() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for i in 0..3 {
            let q = l.hit("k", 3, t0).unwrap();
            assert_eq!(q.remaining, 2 - i);
            assert_eq!(q.reset, 60);
        }
        let refused = l.hit("k", 3, t0 + Duration::from_secs(15)).unwrap_err();
        assert_eq!((refused.remaining, refused.reset), (0, 45));
        assert!(l.hit("other", 3, t0).is_ok(), "keys count apart");
        let q = l.hit("k", 3, t0 + Duration::from_secs(60)).unwrap();
        assert_eq!(q.remaining, 2, "a new window");
    }
}
