//! Rate limits: fixed one-minute windows, counted per API key (reads and writes apart) and
//! per client address (every request but the health probes). Over a limit the answer is a
//! 429 problem with `Retry-After` (seconds to the window's end) and the `RateLimit-Limit`,
//! `RateLimit-Remaining` and `RateLimit-Reset` headers, which answers under a per-key limit
//! carry too. Counters live in this process: with several servers each counts its own.
//!
//! The client address is the TCP peer, unless the peer is one of `http.trusted_proxies`:
//! then it is the right-most address in `X-Forwarded-For` that is not a trusted proxy
//! (each proxy appends the address it saw, so everything left of that one was written by
//! the client and proves nothing). The header from any other peer is ignored: a client
//! must not pick its own budget.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::settings::{RateLimits, Settings};

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

/// An IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Network {
    type Err = String;

    fn from_str(s: &str) -> Result<Network, String> {
        let bad = || format!("{s:?} is not an IP address or a CIDR block like 10.0.0.0/8");
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        let canonical = addr.to_canonical();
        // `::ffff:10.0.0.0/104` is `10.0.0.0/8`.
        let prefix = if canonical.is_ipv4() && addr.is_ipv6() {
            prefix.saturating_sub(96)
        } else {
            prefix
        };
        Ok(Network {
            addr: canonical,
            prefix,
        })
    }
}

impl Network {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The client's address: the peer, or, from a trusted proxy, the right-most address of
/// `X-Forwarded-For` (every such header, in order) that is not a trusted proxy. When the
/// proxies wrote something that is not an address, the last proxy that did is the client
/// as far as this server can tell.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[Network],
) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    let peer = peer.to_canonical();
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for.flat_map(|h| h.split(',')).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let hop = hop.trim();
        // `1.2.3.4`, or with a port: `1.2.3.4:5678`, `[2001:db8::1]:443`.
        let Some(ip) = hop
            .parse::<IpAddr>()
            .ok()
            .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        else {
            break;
        };
        client = ip.to_canonical();
        if !is_trusted(client) {
            break;
        }
    }
    client
}

/// The limits of a server and their counters.
#[derive(Default)]
pub struct Limits {
    pub settings: RateLimits,
    /// `http.trusted_proxies`: peers whose `X-Forwarded-For` names the client.
    trusted_proxies: Vec<Network>,
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

    /// The rate limits and the trusted proxies of `settings` (validated: an entry that is
    /// not an address or a block is left out).
    pub fn from_settings(settings: &Settings) -> Limits {
        Limits {
            trusted_proxies: settings
                .http
                .trusted_proxies
                .iter()
                .filter_map(|p| p.parse().ok())
                .collect(),
            ..Limits::new(settings.rate_limit.clone())
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
/// The per-address limit (run by [`crate::stack::Edge`]): `Some(429)` when the client
/// address is over it. Health probes are never limited.
pub fn check_address(limits: &Limits, req: &Request) -> Option<Response> {
    let limit = limits.settings.per_address_per_minute;
    if limit == 0 || req.uri().path().starts_with("/health/") {
        return None;
    }
    let ConnectInfo(addr) = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .copied()?;
    let client = client_address(
        addr.ip(),
        req.headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok()),
        &limits.trusted_proxies,
    );
    match limits
        .by_address
        .hit(&client.to_string(), limit, Instant::now())
    {
        Ok(_) => None,
        Err(q) => Some(too_many(q, "too many requests from this address")),
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

    fn nets(list: &[&str]) -> Vec<Network> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn networks_are_addresses_or_cidr_blocks() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let n: Network = "10.0.0.0/8".parse().unwrap();
        assert!(n.contains(ip("10.200.3.4")) && !n.contains(ip("11.0.0.1")));
        assert!(
            n.contains(ip("::ffff:10.1.2.3")),
            "IPv4-mapped peers count as IPv4"
        );
        let one: Network = "192.0.2.7".parse().unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let v6: Network = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::1")) && !v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let all: Network = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.1")));
        for bad in ["10.0.0.0/33", "proxy.local", "10.0.0/8", "", "::/129"] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_forwarded_address() {
        let check = |peer: &str, xff: &[&str], trusted: &[&str], expect: &str| {
            let got = client_address(peer.parse().unwrap(), xff.iter().copied(), &nets(trusted));
            assert_eq!(
                got.to_string(),
                expect,
                "peer {peer}, X-Forwarded-For {xff:?}"
            );
        };
        let proxies = &["10.0.0.0/8"];
        // An untrusted peer: its header is ignored.
        check("203.0.113.5", &["198.51.100.1"], proxies, "203.0.113.5");
        check("203.0.113.5", &["198.51.100.1"], &[], "203.0.113.5");
        // From a proxy: the address it saw.
        check("10.0.0.2", &["198.51.100.1"], proxies, "198.51.100.1");
        // What the client wrote itself (left) is skipped; so are further proxies (right).
        check(
            "10.0.0.2",
            &["1.2.3.4, 198.51.100.1, 10.9.9.9"],
            proxies,
            "198.51.100.1",
        );
        check(
            "10.0.0.2",
            &["1.2.3.4", "198.51.100.1:4711"],
            proxies,
            "198.51.100.1",
        );
        check("10.0.0.2", &["[2001:db8::1]:443"], proxies, "2001:db8::1");
        // No header, only proxies, or garbage: the nearest address the proxies vouch for.
        check("10.0.0.2", &[], proxies, "10.0.0.2");
        check("10.0.0.2", &["10.0.0.1"], proxies, "10.0.0.1");
        check("10.0.0.2", &["198.51.100.1, unknown"], proxies, "10.0.0.2");
        check("10.0.0.2", &["unknown, 10.0.0.1"], proxies, "10.0.0.1");
    }
}
