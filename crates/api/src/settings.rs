//! What a running server can be told: limits, timeouts, CORS, rate limits, logging, the
//! readiness cache. Plain data with defaults and a validation that names the setting at
//! fault; reading it from flags, `TASKMAN_*` variables and a TOML file is the CLI's job
//! (`taskman serve`, `taskman config check`), documented in docs/configuration.md.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// JSON on a server, readable text on a terminal.
    Auto,
    Json,
    Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Request bodies above this many bytes are refused with 413.
    pub body_limit_bytes: usize,
    /// A request taking longer is answered 408 and its work cancelled.
    pub request_timeout_secs: u64,
    /// On SIGTERM/SIGINT, requests in flight get this long to finish.
    pub shutdown_grace_secs: u64,
    /// Origins allowed by CORS (`https://app.example.com`); empty: no CORS headers.
    pub cors_origins: Vec<String>,
    /// Send `Strict-Transport-Security` (set when clients reach the server over TLS,
    /// e.g. behind a TLS-terminating proxy).
    pub hsts: bool,
    /// Responses larger than this are compressed (gzip or brotli) when the client accepts it.
    pub compress_min_bytes: u16,
    /// Reverse proxies (IP addresses or CIDR blocks) whose `X-Forwarded-For` names the
    /// client for the per-address rate limit; empty: the TCP peer is the client.
    pub trusted_proxies: Vec<String>,
}

impl Default for HttpSettings {
    fn default() -> HttpSettings {
        HttpSettings {
            body_limit_bytes: 2 * 1024 * 1024,
            request_timeout_secs: 30,
            shutdown_grace_secs: 30,
            cors_origins: Vec::new(),
            hsts: false,
            compress_min_bytes: 1024,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Requests per minute; 0 turns a limit off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// Reads (GET, HEAD) per API key.
    pub reads_per_minute: u32,
    /// Writes (POST, PUT, PATCH, DELETE) per API key.
    pub writes_per_minute: u32,
    /// Every request per client address (including unauthenticated ones).
    pub per_address_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> RateLimits {
        RateLimits {
            reads_per_minute: 6000,
            writes_per_minute: 1200,
            per_address_per_minute: 12000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `error`, `warn`, `info`, `debug`, `trace`, or a filter such as
    /// `info,taskman_api=debug`.
    pub level: String,
    pub format: LogFormat,
}

impl Default for LogSettings {
    fn default() -> LogSettings {
        LogSettings {
            level: "info".into(),
            format: LogFormat::Auto,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthSettings {
    /// `/health/ready` checks the database at most this often and repeats its last answer
    /// in between; 0: every probe checks.
    pub ready_cache_secs: u64,
}

impl Default for HealthSettings {
    fn default() -> HealthSettings {
        HealthSettings {
            ready_cache_secs: crate::health::CACHE.as_secs(),
        }
    }
}

/// The server's settings (the database and the listen address are the CLI's).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub http: HttpSettings,
    pub rate_limit: RateLimits,
    pub log: LogSettings,
    pub health: HealthSettings,
}

/// A setting that cannot be used, by its TOML name (`http.request_timeout_secs`).
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub setting: String,
    pub message: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

impl Settings {
    /// Every setting that cannot be used, each named.
    pub fn validate(&self) -> Result<(), Vec<Invalid>> {
        let mut bad = Vec::new();
        let mut no = |setting: &str, message: &str| {
            bad.push(Invalid {
                setting: setting.into(),
                message: message.into(),
            })
        };
        let h = &self.http;
        if h.body_limit_bytes < 1024 || h.body_limit_bytes > 1024 * 1024 * 1024 {
            no("http.body_limit_bytes", "must be 1 KiB to 1 GiB");
        }
        if h.request_timeout_secs == 0 || h.request_timeout_secs > 3600 {
            no("http.request_timeout_secs", "must be 1 to 3600 seconds");
        }
        if h.shutdown_grace_secs > 3600 {
            no("http.shutdown_grace_secs", "must be at most 3600 seconds");
        }
        for o in &h.cors_origins {
            let ok = (o.starts_with("http://") || o.starts_with("https://"))
                && !o.ends_with('/')
                && axum::http::HeaderValue::from_str(o).is_ok();
            if !ok && o != "*" {
                no(
                    "http.cors_origins",
                    &format!("{o:?} is not an origin like https://app.example.com (no path)"),
                );
            }
        }
        for p in &h.trusted_proxies {
            if let Err(m) = p.parse::<crate::ratelimit::Network>() {
                no("http.trusted_proxies", &m);
            }
        }
        if self.health.ready_cache_secs > 3600 {
            no("health.ready_cache_secs", "must be at most 3600 seconds");
        }
        if !valid_level(&self.log.level) {
            no(
                "log.level",
                &format!(
                    "{:?} is not a level (error, warn, info, debug, trace) or a filter like info,taskman_api=debug",
                    self.log.level
                ),
            );
        }
        if bad.is_empty() { Ok(()) } else { Err(bad) }
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.http.request_timeout_secs)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.http.shutdown_grace_secs)
    }

    /// How long a readiness result is reused.
    pub fn ready_cache(&self) -> Duration {
        Duration::from_secs(self.health.ready_cache_secs)
    }
}

/// `info`, or `info,taskman_api=debug,tower_http=warn`.
fn valid_level(s: &str) -> bool {
    const LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace", "off"];
    !s.trim().is_empty()
        && s.split(',').all(|part| {
            let level = match part.split_once('=') {
                Some((target, level)) => {
                    if target.trim().is_empty()
                        || !target
                            .chars()
                            .all(|c| c.is_alphanumeric() || c == '_' || c == ':')
                    {
                        return false;
                    }
                    level
                }
                None => part,
            };
            LEVELS.contains(&level.trim().to_ascii_lowercase().as_str())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        assert_eq!(Settings::default().validate(), Ok(()));
        let mut s = Settings::default();
        s.http.request_timeout_secs = 0;
        s.http.cors_origins = vec!["https://ok.example".into(), "example.com/".into()];
        s.http.trusted_proxies = vec!["10.0.0.0/8".into(), "10.0.0.0/40".into()];
        s.log.level = "loud".into();
        let bad: Vec<String> = s
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|i| i.setting)
            .collect();
        assert_eq!(
            bad,
            vec![
                "http.request_timeout_secs",
                "http.cors_origins",
                "http.trusted_proxies",
                "log.level"
            ]
        );
    }

    #[test]
    fn log_filters_are_levels_or_target_equals_level() {
        assert!(valid_level("debug"));
        assert!(valid_level("info,taskman_api=debug,tower_http=warn"));
        assert!(!valid_level("info,=debug"));
        assert!(!valid_level("verbose"));
        assert!(!valid_level(""));
    }

    #[test]
    fn toml_names_match_the_documented_ones() {
        let s: Settings = serde_json::from_value(serde_json::json!({
            "http": {"request_timeout_secs": 5, "cors_origins": ["https://a.example"]},
            "rate_limit": {"writes_per_minute": 0},
            "log": {"format": "json"}
        }))
        .unwrap();
        assert_eq!(s.http.request_timeout_secs, 5);
        assert_eq!(s.http.body_limit_bytes, 2 * 1024 * 1024, "absent: default");
        assert_eq!(s.rate_limit.writes_per_minute, 0);
        assert_eq!(s.log.format, LogFormat::Json);
        let unknown = serde_json::from_value::<Settings>(serde_json::json!({"htp": {}}));
        assert!(unknown.is_err(), "a misspelt section is refused");
    }
}
