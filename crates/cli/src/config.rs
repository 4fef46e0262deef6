//! The server's settings from four layers, each overriding the one before: defaults, a TOML
//! file (`--config PATH` or `TASKMAN_CONFIG`; no other file is ever read), `TASKMAN_*`
//! environment variables, command-line flags. `taskman serve` and `taskman config check`
//! load them the same way; docs/configuration.md lists every setting, and a test keeps it
//! in step with [`SPECS`].
//!
//! Every problem is collected, not just the first, and each names the setting and where its
//! value came from, so one run shows everything there is to fix. What this module must
//! never do: print a secret (the bootstrap token, a database password), or read a file
//! nobody named.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches};
use serde_json::{Value, json};
use taskman_api::Settings;
use taskman_store::{Durability, Location};
use toml::de::{DeTable, DeValue};

use crate::render::Out;

/// `taskman config ...`
#[derive(clap::Subcommand)]
pub enum ConfigCommand {
    /// Check the server's settings without serving or opening the database: print the
    /// effective settings as TOML, each with where it came from (secrets hidden), or print
    /// every problem and exit 2.
    Check(SettingFlags),
    /// Print an example settings file: every setting, commented out at its default.
    Example,
}

pub fn run(out: &mut Out, command: &ConfigCommand) -> Result<()> {
    match command {
        ConfigCommand::Check(flags) => {
            let config = load(flags)?;
            out.write_bytes(config.to_toml().as_bytes())
        }
        ConfigCommand::Example => out.write_bytes(example().as_bytes()),
    }
}

/// One setting: its TOML name, variable, flag, what its values look like, what it does.
pub struct Spec {
    /// `listen` at the top of the file, `http.request_timeout_secs` in `[http]`.
    pub name: &'static str,
    pub env: &'static str,
    /// The long flag, without its dashes.
    pub flag: &'static str,
    kind: Kind,
    pub help: &'static str,
}

#[derive(Clone, Copy)]
enum Kind {
    /// A whole number from 0 to `max`, counted in `unit`.
    Number {
        unit: &'static str,
        max: u64,
    },
    /// A switch as a flag (`--demo`); `true`/`false` (or 1/0, yes/no, on/off) elsewhere.
    Bool,
    Text,
    /// A TOML array of strings; a comma-separated list in a variable or a flag.
    List,
    Address,
    OneOf(&'static [&'static str]),
}

const SECONDS: Kind = Kind::Number {
    unit: "seconds",
    max: u32::MAX as u64,
};
const PER_MINUTE: Kind = Kind::Number {
    unit: "requests per minute",
    max: u32::MAX as u64,
};

/// Every setting, in the order docs/configuration.md and `config check` show them. The
/// server's sections mirror [`taskman_api::Settings`] (a test checks they match).
pub const SPECS: &[Spec] = &[
    Spec {
        name: "listen",
        env: "TASKMAN_LISTEN",
        flag: "listen",
        kind: Kind::Address,
        help: "Address and port to listen on (port 0: any free port).",
    },
    Spec {
        name: "database",
        env: "TASKMAN_DATABASE_URL",
        flag: "db",
        kind: Kind::Text,
        help: "The database: a SQLite file (PATH or sqlite://PATH) or a postgres:// URL. \
               Default: taskman/taskman.db in the user's data directory.",
    },
    Spec {
        name: "durability",
        env: "TASKMAN_DURABILITY",
        flag: "durability",
        kind: Kind::OneOf(&["durable", "fast"]),
        help: "durable: an acknowledged change survives a power loss; fast: it survives a \
               killed process, but the last changes may be lost on power loss.",
    },
    Spec {
        name: "demo",
        env: "TASKMAN_DEMO",
        flag: "demo",
        kind: Kind::Bool,
        help: "Also load the five seed plans as demo projects (skipped for a project that exists).",
    },
    Spec {
        name: "http.body_limit_bytes",
        env: "TASKMAN_HTTP_BODY_LIMIT_BYTES",
        flag: "body-limit-bytes",
        kind: Kind::Number {
            unit: "bytes",
            max: u32::MAX as u64,
        },
        help: "Request bodies above this many bytes are refused with 413 (1 KiB to 1 GiB).",
    },
    Spec {
        name: "http.request_timeout_secs",
        env: "TASKMAN_HTTP_REQUEST_TIMEOUT_SECS",
        flag: "request-timeout-secs",
        kind: SECONDS,
        help: "A request taking longer is answered 408 and its work cancelled (1 to 3600).",
    },
    Spec {
        name: "http.shutdown_grace_secs",
        env: "TASKMAN_HTTP_SHUTDOWN_GRACE_SECS",
        flag: "shutdown-grace-secs",
        kind: SECONDS,
        help: "On SIGTERM or SIGINT, requests in flight get this long to finish (0 to 3600).",
    },
    Spec {
        name: "http.cors_origins",
        env: "TASKMAN_HTTP_CORS_ORIGINS",
        flag: "cors-origins",
        kind: Kind::List,
        help: "Origins allowed by CORS, like https://app.example.com (a comma-separated list \
               in the variable and the flag); empty: no CORS headers.",
    },
    Spec {
        name: "http.hsts",
        env: "TASKMAN_HTTP_HSTS",
        flag: "hsts",
        kind: Kind::Bool,
        help: "Send Strict-Transport-Security: set it when clients reach the server over TLS \
               (e.g. behind a TLS-terminating proxy).",
    },
    Spec {
        name: "http.compress_min_bytes",
        env: "TASKMAN_HTTP_COMPRESS_MIN_BYTES",
        flag: "compress-min-bytes",
        kind: Kind::Number {
            unit: "bytes",
            max: u16::MAX as u64,
        },
        help: "Responses larger than this are compressed (gzip or brotli) when the client \
               accepts it.",
    },
    Spec {
        name: "http.trusted_proxies",
        env: "TASKMAN_HTTP_TRUSTED_PROXIES",
        flag: "trusted-proxies",
        kind: Kind::List,
        help: "Reverse proxies (IP addresses or CIDR blocks like 10.0.0.0/8) whose \
               X-Forwarded-For names the client for the per-address rate limit; empty: \
               the TCP peer is the client and the header is ignored.",
    },
    Spec {
        name: "rate_limit.reads_per_minute",
        env: "TASKMAN_RATE_LIMIT_READS_PER_MINUTE",
        flag: "reads-per-minute",
        kind: PER_MINUTE,
        help: "Reads (GET, HEAD) per API key per minute; 0: no limit.",
    },
    Spec {
        name: "rate_limit.writes_per_minute",
        env: "TASKMAN_RATE_LIMIT_WRITES_PER_MINUTE",
        flag: "writes-per-minute",
        kind: PER_MINUTE,
        help: "Writes (POST, PUT, PATCH, DELETE) per API key per minute; 0: no limit.",
    },
    Spec {
        name: "rate_limit.per_address_per_minute",
        env: "TASKMAN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE",
        flag: "per-address-per-minute",
        kind: PER_MINUTE,
        help: "Requests of any kind per client address per minute (unauthenticated ones \
               too); 0: no limit.",
    },
    Spec {
        name: "log.level",
        env: "TASKMAN_LOG_LEVEL",
        flag: "log-level",
        kind: Kind::Text,
        help: "error, warn, info, debug, trace, or a filter like info,taskman_api=debug.",
    },
    Spec {
        name: "log.format",
        env: "TASKMAN_LOG_FORMAT",
        flag: "log-format",
        kind: Kind::OneOf(&["auto", "json", "text"]),
        help: "json, text, or auto: JSON on a server, readable text on a terminal.",
    },
    Spec {
        name: "health.ready_cache_secs",
        env: "TASKMAN_HEALTH_READY_CACHE_SECS",
        flag: "ready-cache-secs",
        kind: SECONDS,
        help: "/health/ready checks the database at most this often and repeats its last \
               answer in between (0 to 3600; 0: every probe checks).",
    },
];

/// `TASKMAN_*` variables that are not settings: read by `serve` itself, or by tests and
/// benchmarks. Any other `TASKMAN_*` variable is taken for a misspelt setting and refused.
const OTHER_VARIABLES: &[&str] = &[
    "TASKMAN_CONFIG",
    "TASKMAN_BOOTSTRAP_TOKEN",
    "TASKMAN_CORPUS_DIR",
];
/// Families of test and benchmark switches (`TASKMAN_TEST_POSTGRES_URL`,
/// `TASKMAN_REQUIRE_POSTGRES`, `TASKMAN_BENCH_DUMP`, ...).
const OTHER_PREFIXES: &[&str] = &["TASKMAN_TEST_", "TASKMAN_REQUIRE_", "TASKMAN_BENCH_"];

/// The settings' flags (`--listen`, `--log-level`, ...), built from [`SPECS`], and
/// `--config`.
#[derive(Default, Clone)]
pub struct SettingFlags {
    config: Option<PathBuf>,
    /// The flags given on the command line, as typed (a switch as `true`).
    given: Vec<(&'static Spec, String)>,
}

impl SettingFlags {
    /// The flags of a command that needs only the database from the settings (`backup`,
    /// `restore`): `--config`, `--db` and `--durability`, each as `serve` takes it.
    pub fn database(
        config: Option<PathBuf>,
        db: Option<&str>,
        durability: Option<&str>,
    ) -> SettingFlags {
        let spec = |name: &str| SPECS.iter().find(|s| s.name == name).expect("a setting");
        let given = [("database", db), ("durability", durability)]
            .into_iter()
            .filter_map(|(name, value)| Some((spec(name), value?.to_string())))
            .collect();
        SettingFlags { config, given }
    }
}

impl clap::FromArgMatches for SettingFlags {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut flags = SettingFlags::default();
        flags.update_from_arg_matches(m)?;
        Ok(flags)
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        if let Some(path) = m.get_one::<PathBuf>("config") {
            self.config = Some(path.clone());
        }
        for spec in SPECS {
            // A switch not given still has a (default) value; only the command line counts.
            if m.value_source(spec.name) != Some(ValueSource::CommandLine) {
                continue;
            }
            let value = match spec.kind {
                Kind::Bool => "true".to_string(),
                _ => m.get_one::<String>(spec.name).cloned().unwrap_or_default(),
            };
            self.given.retain(|(s, _)| s.name != spec.name);
            self.given.push((spec, value));
        }
        Ok(())
    }
}

impl clap::Args for SettingFlags {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let mut cmd = cmd.arg(
            Arg::new("config")
                .long("config")
                .value_name("PATH")
                .value_parser(clap::value_parser!(PathBuf))
                .help("The TOML settings file [env: TASKMAN_CONFIG]; without it, none is read")
                .help_heading("Settings (docs/configuration.md)"),
        );
        for spec in SPECS {
            // Values are checked by `load`, so a bad one is reported with the others.
            let arg = Arg::new(spec.name)
                .long(spec.flag)
                .help(format!("{} [env: {}]", spec.help, spec.env))
                .help_heading("Settings (docs/configuration.md)");
            cmd = cmd.arg(match spec.kind {
                Kind::Bool => arg.action(ArgAction::SetTrue),
                Kind::Number { .. } => arg.value_name("N"),
                Kind::Address => arg.value_name("ADDR"),
                Kind::List => arg.value_name("LIST"),
                Kind::OneOf(_) => arg.value_name("MODE"),
                Kind::Text => arg.value_name(if spec.name == "database" {
                    "LOCATION"
                } else {
                    "VALUE"
                }),
            });
        }
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// A value that must not be printed: its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where a value came from.
#[derive(Clone, Debug)]
enum Source {
    Default,
    File { path: String, line: usize },
    Env(&'static str),
    Flag(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File { path, line } => write!(f, "{path} line {line}"),
            Source::Env(var) => f.write_str(var),
            Source::Flag(flag) => write!(f, "--{flag}"),
        }
    }
}

impl Source {
    /// For `config check`: `default`, `file taskman.toml line 3`, `env TASKMAN_LISTEN`,
    /// `flag --listen`.
    fn label(&self) -> String {
        match self {
            Source::Default => "default".into(),
            Source::File { .. } => format!("file {self}"),
            Source::Env(_) => format!("env {self}"),
            Source::Flag(_) => format!("flag {self}"),
        }
    }
}

#[derive(Clone, Debug)]
struct Entry {
    value: Value,
    source: Source,
}

/// Every problem found in the settings, each naming the setting and where it came from.
#[derive(Debug)]
pub struct Problems(pub Vec<String>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid settings (see docs/configuration.md):")?;
        for p in &self.0 {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// The effective settings of `taskman serve`.
#[derive(Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// `None`: the platform's default SQLite file.
    database: Option<Secret>,
    pub durability: Durability,
    pub demo: bool,
    /// `TASKMAN_BOOTSTRAP_TOKEN`: the first admin's API key on an empty database.
    pub bootstrap_token: Option<Secret>,
    pub settings: Settings,
    /// The TOML file read, if any.
    pub file: Option<PathBuf>,
    entries: BTreeMap<&'static str, Entry>,
}

impl Config {
    pub fn location(&self) -> Location {
        self.database
            .as_ref()
            .map_or_else(Location::default_sqlite, |d| Location::parse(d.expose()))
    }

    /// The database for messages: a PostgreSQL password replaced by `***`.
    pub fn database_for_display(&self) -> String {
        redact_database(&self.location())
    }

    /// The effective settings as TOML, each line saying where its value came from.
    pub fn to_toml(&self) -> String {
        let mut s = String::new();
        match &self.file {
            Some(f) => s.push_str(&format!(
                "# taskman settings: defaults < {} < TASKMAN_* variables < flags\n",
                f.display()
            )),
            None => s.push_str(
                "# taskman settings: defaults < TASKMAN_* variables < flags \
                 (no file: give --config PATH or TASKMAN_CONFIG)\n",
            ),
        }
        let mut section = "";
        for spec in SPECS {
            let (sec, key) = spec.name.split_once('.').unwrap_or(("", spec.name));
            if sec != section {
                if section.is_empty() {
                    s.push_str(&self.token_note());
                }
                s.push_str(&format!("\n[{sec}]\n"));
                section = sec;
            }
            let e = &self.entries[spec.name];
            // The database entry holds the redacted location (see `build`).
            let (value, note) = match (spec.name, &e.source) {
                ("database", Source::Default) => (
                    toml_value(&json!(self.database_for_display())),
                    "default (the user's data directory)".to_string(),
                ),
                (_, src) => (toml_value(&e.value), src.label()),
            };
            s.push_str(&format!("{:<44} # {note}\n", format!("{key} = {value}")));
        }
        s
    }

    fn token_note(&self) -> String {
        match self.bootstrap_token {
            Some(_) => "# bootstrap token: set by TASKMAN_BOOTSTRAP_TOKEN (hidden)\n".into(),
            None => {
                "# bootstrap token: not set (an empty database gets a new key, shown once)\n".into()
            }
        }
    }
}

/// Load the settings from the flags, the process environment and the file they name.
pub fn load(flags: &SettingFlags) -> Result<Config, Problems> {
    load_from(flags, std::env::vars_os())
}

fn load_from(
    flags: &SettingFlags,
    env: impl IntoIterator<Item = (OsString, OsString)>,
) -> Result<Config, Problems> {
    let mut problems = Vec::new();
    let mut entries = defaults();
    let mut vars = BTreeMap::new();
    for (name, value) in env {
        let Some(name) = name.to_str().filter(|n| n.starts_with("TASKMAN_")) else {
            continue;
        };
        match value.into_string() {
            Ok(v) => {
                vars.insert(name.to_string(), v);
            }
            Err(_) => problems.push(format!("{name}: the value is not valid UTF-8")),
        }
    }
    let nonempty = |name: &str| vars.get(name).filter(|v| !v.is_empty()).cloned();

    // The file.
    let file = match (&flags.config, nonempty("TASKMAN_CONFIG")) {
        (Some(path), _) => Some((path.clone(), "--config")),
        (None, Some(path)) => Some((PathBuf::from(path), "TASKMAN_CONFIG")),
        (None, None) => None,
    };
    if let Some((path, via)) = &file {
        match std::fs::read_to_string(path) {
            Ok(text) => read_file(
                &path.display().to_string(),
                &text,
                &mut entries,
                &mut problems,
            ),
            Err(e) => problems.push(format!("{} (from {via}): cannot read: {e}", path.display())),
        }
    }

    // The variables. An empty one counts as unset (as compose files and unit files
    // often leave them).
    for (name, value) in &vars {
        if let Some(spec) = SPECS.iter().find(|s| s.env == name) {
            if value.is_empty() {
                continue;
            }
            match from_text(spec.kind, value) {
                Ok(v) => set(&mut entries, spec, v, Source::Env(spec.env)),
                Err(m) => problems.push(format!("{name}={value:?}: {m}")),
            }
        } else if !OTHER_VARIABLES.contains(&name.as_str())
            && !OTHER_PREFIXES.iter().any(|p| name.starts_with(p))
        {
            let known = SPECS
                .iter()
                .map(|s| s.env)
                .chain(OTHER_VARIABLES.iter().copied());
            problems.push(format!(
                "{name}: unknown setting variable{}",
                did_you_mean(name, known)
            ));
        }
    }

    // The flags.
    for (spec, value) in &flags.given {
        match from_text(spec.kind, value) {
            Ok(v) => set(&mut entries, spec, v, Source::Flag(spec.flag)),
            Err(m) => problems.push(format!("--{} {value:?}: {m}", spec.flag)),
        }
    }

    let bootstrap_token = nonempty("TASKMAN_BOOTSTRAP_TOKEN").map(Secret);
    if let Some(t) = &bootstrap_token
        && taskman_api::auth::prefix_and_hash(t.expose()).is_none()
    {
        problems.push(
            "TASKMAN_BOOTSTRAP_TOKEN (value hidden): must look like \
             tm_<8 hex digits>_<at least 16 more characters>"
                .into(),
        );
    }
    let config = build(
        entries,
        bootstrap_token,
        file.map(|(p, _)| p),
        &mut problems,
    );
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(Problems(problems))
    }
}

/// Turn the merged values into a [`Config`], adding what the validations find.
fn build(
    mut entries: BTreeMap<&'static str, Entry>,
    bootstrap_token: Option<Secret>,
    file: Option<PathBuf>,
    problems: &mut Vec<String>,
) -> Config {
    let text = |name: &str| entries[name].value.as_str().unwrap_or_default().to_string();
    // Both were checked as they were read; the defaults are valid.
    let listen = text("listen")
        .parse()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let durability = Durability::parse(&text("durability")).unwrap_or_default();
    let database = match text("database") {
        s if s.trim().is_empty() => {
            if entries["database"].value.is_string() {
                problems.push(format!(
                    "database = \"\" (from {}): must not be empty (leave it out for the default)",
                    entries["database"].source
                ));
            }
            None
        }
        s => Some(Secret(s)),
    };
    // From here on the entries hold only what may be shown.
    if let (Some(db), Some(e)) = (&database, entries.get_mut("database")) {
        e.value = json!(redact_database(&Location::parse(db.expose())));
    }

    let mut sections = serde_json::Map::new();
    for (name, e) in &entries {
        if let Some((section, key)) = name.split_once('.') {
            let table = sections
                .entry(section)
                .or_insert_with(|| Value::Object(Default::default()));
            if let Value::Object(t) = table {
                t.insert(key.to_string(), e.value.clone());
            }
        }
    }
    let settings = match serde_json::from_value::<Settings>(Value::Object(sections)) {
        Ok(s) => s,
        Err(e) => {
            // Each value's type was checked as it was read, so this is a setting the
            // loader and the server disagree about: say so rather than guess.
            problems.push(format!("settings: {e}"));
            Settings::default()
        }
    };
    if let Err(invalid) = settings.validate() {
        for i in invalid {
            match entries.get(i.setting.as_str()) {
                Some(e) => problems.push(format!(
                    "{} = {} ({}): {}",
                    i.setting,
                    toml_value(&e.value),
                    match &e.source {
                        Source::Default => "default".to_string(),
                        s => format!("from {s}"),
                    },
                    i.message
                )),
                None => problems.push(i.to_string()),
            }
        }
    }
    Config {
        listen,
        database,
        durability,
        demo: entries["demo"].value.as_bool().unwrap_or(false),
        bootstrap_token,
        settings,
        file,
        entries,
    }
}

/// Every setting at its default.
fn defaults() -> BTreeMap<&'static str, Entry> {
    let server = serde_json::to_value(Settings::default()).unwrap_or_default();
    SPECS
        .iter()
        .map(|spec| {
            let value = match spec.name {
                "listen" => json!("127.0.0.1:8080"),
                "database" => Value::Null,
                "durability" => json!("durable"),
                "demo" => json!(false),
                name => server
                    .pointer(&format!("/{}", name.replace('.', "/")))
                    .cloned()
                    .unwrap_or(Value::Null),
            };
            let source = Source::Default;
            (spec.name, Entry { value, source })
        })
        .collect()
}

fn set(entries: &mut BTreeMap<&'static str, Entry>, spec: &Spec, value: Value, source: Source) {
    entries.insert(spec.name, Entry { value, source });
}

/// The settings in a TOML file: top-level keys and the `[http]`, `[rate_limit]`, `[log]`
/// and `[health]` tables. Unknown names are refused with their line.
fn read_file(
    path: &str,
    text: &str,
    entries: &mut BTreeMap<&'static str, Entry>,
    problems: &mut Vec<String>,
) {
    let line = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
    // (line, message): reported in the file's order, not the parser's (sorted) key order.
    let mut found: Vec<(usize, String)> = Vec::new();
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let at = e
                .span()
                .map_or(String::new(), |s| format!(" line {}:", line(s.start)));
            problems.push(format!("{path}:{at} {}", e.message().trim_end()));
            return;
        }
    };
    let sections: Vec<&str> = SPECS
        .iter()
        .filter_map(|s| Some(s.name.split_once('.')?.0))
        .collect();
    let known = SPECS.iter().map(|s| s.name).chain(sections.iter().copied());
    let mut take = |name: String, key_at: usize, value: &toml::Spanned<DeValue<'_>>| {
        let Some(spec) = SPECS.iter().find(|s| s.name == name) else {
            found.push((
                line(key_at),
                format!(
                    "{path}: line {}: unknown setting {name}{}",
                    line(key_at),
                    did_you_mean(&name, known.clone())
                ),
            ));
            return;
        };
        let at = line(value.span().start);
        match from_toml(spec.kind, value.get_ref()) {
            Ok(v) => {
                let source = Source::File {
                    path: path.to_string(),
                    line: at,
                };
                set(entries, spec, v, source);
            }
            Err(m) => {
                let written = text.get(value.span()).unwrap_or("?");
                found.push((at, format!("{path}: line {at}: {name} = {written}: {m}")));
            }
        }
    };
    let mut not_tables = Vec::new();
    for (key, value) in doc.get_ref() {
        let key_name = key.get_ref().as_ref();
        match value.get_ref() {
            DeValue::Table(table) if sections.contains(&key_name) => {
                for (k, v) in table {
                    take(format!("{key_name}.{}", k.get_ref()), k.span().start, v);
                }
            }
            _ if sections.contains(&key_name) => {
                let at = line(key.span().start);
                let m = format!("{path}: line {at}: {key_name} must be a table: [{key_name}]");
                not_tables.push((at, m));
            }
            _ => take(key_name.to_string(), key.span().start, value),
        }
    }
    found.extend(not_tables);
    found.sort_by_key(|(at, _)| *at);
    problems.extend(found.into_iter().map(|(_, m)| m));
}

/// A value from a variable or a flag.
fn from_text(kind: Kind, s: &str) -> Result<Value, String> {
    match kind {
        Kind::Number { unit, max } => match s.trim().parse::<u64>() {
            Ok(n) => within(n, unit, max),
            Err(_) => Err(format!("expected a whole number of {unit}")),
        },
        Kind::Bool => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(json!(true)),
            "false" | "0" | "no" | "off" => Ok(json!(false)),
            _ => Err("expected true or false".into()),
        },
        Kind::List => Ok(Value::Array(
            s.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| json!(item))
                .collect(),
        )),
        Kind::Text | Kind::Address | Kind::OneOf(_) => text_value(kind, s),
    }
}

/// A value from the TOML file: the type the setting needs, then the same checks.
fn from_toml(kind: Kind, v: &DeValue<'_>) -> Result<Value, String> {
    match (kind, v) {
        (Kind::Number { unit, max }, DeValue::Integer(i)) => {
            match i64::from_str_radix(i.as_str(), i.radix()).map(u64::try_from) {
                Ok(Ok(n)) => within(n, unit, max),
                _ => Err(format!("expected a whole number of {unit}")),
            }
        }
        (Kind::Number { unit, .. }, _) => Err(format!(
            "expected a whole number of {unit}, not {}",
            a_type(v)
        )),
        (Kind::Bool, DeValue::Boolean(b)) => Ok(json!(b)),
        (Kind::Bool, _) => Err(format!("expected true or false, not {}", a_type(v))),
        (Kind::List, DeValue::Array(items)) => items
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::String(s) => Ok(json!(s)),
                _ => Err("expected a list of strings like [\"https://app.example.com\"]".into()),
            })
            .collect::<Result<Vec<_>, String>>()
            .map(Value::Array),
        (Kind::List, _) => Err(format!(
            "expected a list of strings like [\"https://app.example.com\"], not {}",
            a_type(v)
        )),
        (_, DeValue::String(s)) => text_value(kind, s),
        (_, _) => Err(format!("expected a string, not {}", a_type(v))),
    }
}

/// `a string`, `an integer`: a TOML value's type for messages.
fn a_type(v: &DeValue<'_>) -> String {
    let t = v.type_str();
    let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {t}")
}

fn text_value(kind: Kind, s: &str) -> Result<Value, String> {
    match kind {
        Kind::Address => match s.trim().parse::<SocketAddr>() {
            Ok(a) => Ok(json!(a.to_string())),
            Err(_) => Err("expected an IP address and port like 127.0.0.1:8080".into()),
        },
        Kind::OneOf(choices) if !choices.contains(&s) => {
            Err(format!("expected one of {}", choices.join(", ")))
        }
        _ => Ok(json!(s)),
    }
}

fn within(n: u64, unit: &str, max: u64) -> Result<Value, String> {
    if n <= max {
        Ok(json!(n))
    } else {
        Err(format!("must be at most {max} {unit}"))
    }
}

/// A value as TOML writes it (the settings hold only these kinds).
fn toml_value(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(toml_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Null => "\"\"".into(),
        other => other.to_string(),
    }
}

/// A database location for messages: PostgreSQL passwords, in the user part or in a
/// `password=` parameter, become `***`.
pub fn redact_database(location: &Location) -> String {
    let shown = location.redacted();
    let Location::Postgres(_) = location else {
        return shown;
    };
    match shown.split_once('?') {
        Some((base, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.to_ascii_lowercase().contains("password") => {
                        format!("{k}=***")
                    }
                    _ => p.to_string(),
                })
                .collect();
            format!("{base}?{}", params.join("&"))
        }
        None => shown,
    }
}

/// ` (did you mean X?)` when a known name is a few edits away.
fn did_you_mean<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> String {
    known
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 6))
        .min()
        .map_or(String::new(), |(_, k)| format!(" (did you mean {k}?)"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// An example settings file: every setting with what it does, commented out at its default.
pub fn example() -> String {
    let defaults = defaults();
    let mut s = String::from(
        "# taskman settings file: `taskman serve --config FILE` (or TASKMAN_CONFIG=FILE).\n\
         # Precedence: defaults < this file < TASKMAN_* variables < flags.\n\
         # Every setting below is at its default; uncomment a line to change it.\n\
         # The bootstrap token is never read from a file: set TASKMAN_BOOTSTRAP_TOKEN.\n",
    );
    let mut section = "";
    for spec in SPECS {
        let (sec, key) = spec.name.split_once('.').unwrap_or(("", spec.name));
        if sec != section {
            s.push_str(&format!("\n[{sec}]\n"));
            section = sec;
        }
        s.push('\n');
        for line in wrap(spec.help, 88) {
            s.push_str(&format!("# {line}\n"));
        }
        let value = match spec.name {
            "database" => "\"/var/lib/taskman/taskman.db\"".to_string(),
            _ => toml_value(&defaults[spec.name].value),
        };
        s.push_str(&format!("# {key} = {value}\n"));
    }
    s
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().expect("never empty");
        if !last.is_empty() && last.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        vars.iter().map(|(k, v)| (k.into(), v.into())).collect()
    }

    fn problems(flags: &SettingFlags, vars: &[(&str, &str)]) -> Vec<String> {
        match load_from(flags, env(vars)) {
            Ok(_) => Vec::new(),
            Err(p) => p.0,
        }
    }

    fn repo_file(path: &str) -> String {
        let p = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    #[test]
    fn the_loader_knows_exactly_the_server_settings() {
        let server = serde_json::to_value(Settings::default()).unwrap();
        let mut names = Vec::new();
        for (section, table) in server.as_object().unwrap() {
            for key in table.as_object().unwrap().keys() {
                names.push(format!("{section}.{key}"));
            }
        }
        names.sort();
        let mut ours: Vec<String> = SPECS
            .iter()
            .filter(|s| s.name.contains('.'))
            .map(|s| s.name.to_string())
            .collect();
        ours.sort();
        assert_eq!(
            ours, names,
            "a server setting without its spec, or the reverse"
        );
    }

    #[test]
    fn variables_and_flags_follow_the_naming_rule() {
        for s in SPECS {
            let env = format!("TASKMAN_{}", s.name.replace('.', "_").to_uppercase());
            if s.name != "database" {
                assert_eq!(s.env, env);
            }
            assert!(
                !s.flag.starts_with('-') && !s.flag.contains('_'),
                "{}",
                s.flag
            );
        }
    }

    #[test]
    fn docs_table_lists_exactly_the_settings_with_their_defaults() {
        let docs = repo_file("docs/configuration.md");
        // The rows of the table under `| TOML | variable | flag | default | meaning |`.
        let rows: Vec<Vec<String>> = docs
            .lines()
            .skip_while(|l| !l.starts_with("| TOML |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                l.trim_matches('|')
                    .split(" | ")
                    .map(|c| c.trim().trim_matches('`').to_string())
                    .collect()
            })
            .collect();
        let defaults = defaults();
        let expected: Vec<Vec<String>> = SPECS
            .iter()
            .map(|s| {
                vec![
                    s.name.to_string(),
                    s.env.to_string(),
                    format!("--{}", s.flag),
                    match s.name {
                        "database" => "the user's data directory".to_string(),
                        _ => toml_value(&defaults[s.name].value),
                    },
                ]
            })
            .collect();
        let got: Vec<Vec<String>> = rows.iter().map(|r| r[..4].to_vec()).collect();
        assert_eq!(got, expected);
        assert!(
            docs.contains(&example()),
            "docs/configuration.md shows `taskman config example` verbatim"
        );
    }

    #[test]
    fn env_example_lists_every_variable_and_nothing_else() {
        let text = repo_file(".env.example");
        let mut listed: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim_start_matches('#').trim().split_once('='))
            .map(|(k, _)| k.trim())
            .filter(|k| k.starts_with("TASKMAN_"))
            .collect();
        listed.sort();
        let mut expected: Vec<&str> = SPECS.iter().map(|s| s.env).collect();
        expected.extend(["TASKMAN_CONFIG", "TASKMAN_BOOTSTRAP_TOKEN"]);
        expected.sort();
        assert_eq!(listed, expected);
        assert!(
            !text.contains("TASKMAN_BOOTSTRAP_TOKEN=tm_"),
            "no real-looking token in the example"
        );
    }

    #[test]
    fn the_example_file_uncommented_gives_the_defaults() {
        let text: String = example()
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(kv) if kv.contains(" = ") && !kv.starts_with("database") => kv,
                _ => l,
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let mut entries = defaults();
        let mut problems = Vec::new();
        read_file("example.toml", &text, &mut entries, &mut problems);
        assert_eq!(problems, Vec::<String>::new());
        for (name, e) in &entries {
            if *name != "database" {
                assert_eq!(e.value, defaults()[name].value, "{name}");
                assert!(
                    matches!(e.source, Source::File { .. }),
                    "{name} is in the example"
                );
            }
        }
    }

    #[test]
    fn a_misspelt_variable_is_refused_with_a_suggestion() {
        let p = problems(
            &SettingFlags::default(),
            &[
                ("TASKMAN_HTTP_REQUEST_TIMOUT_SECS", "5"),
                ("TASKMAN_TEST_POSTGRES_URL", "x"),
            ],
        );
        assert_eq!(
            p,
            vec![
                "TASKMAN_HTTP_REQUEST_TIMOUT_SECS: unknown setting variable \
                 (did you mean TASKMAN_HTTP_REQUEST_TIMEOUT_SECS?)"
            ]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let p = problems(
            &SettingFlags::default(),
            &[
                ("TASKMAN_HTTP_REQUEST_TIMEOUT_SECS", "abc"),
                ("TASKMAN_LISTEN", "localhost"),
                ("TASKMAN_LOG_LEVEL", "loud"),
                ("TASKMAN_BOOTSTRAP_TOKEN", "secret-value"),
            ],
        );
        assert_eq!(p.len(), 4, "{p:#?}");
        assert!(p[0].starts_with("TASKMAN_HTTP_REQUEST_TIMEOUT_SECS=\"abc\": expected a whole"));
        assert!(p[1].starts_with("TASKMAN_LISTEN=\"localhost\": expected an IP address"));
        assert!(p[2].contains("TASKMAN_BOOTSTRAP_TOKEN (value hidden)"));
        assert!(!p.concat().contains("secret-value"));
        assert!(
            p[3].starts_with("log.level = \"loud\" (from TASKMAN_LOG_LEVEL): "),
            "{}",
            p[3]
        );
    }

    #[test]
    fn file_values_are_typed_and_named_with_their_line() {
        let mut entries = defaults();
        let mut p = Vec::new();
        let text = "listen = \"0.0.0.0:9000\"\ndemo = \"yes\"\n[http]\nbody_limit_bytes = -1\n\
                    cors_origins = \"https://a.example\"\n[rate_limit]\nreads = 5\n[htp]\n";
        read_file("t.toml", text, &mut entries, &mut p);
        assert_eq!(
            p,
            vec![
                "t.toml: line 2: demo = \"yes\": expected true or false, not a string",
                "t.toml: line 4: http.body_limit_bytes = -1: expected a whole number of bytes",
                "t.toml: line 5: http.cors_origins = \"https://a.example\": expected a list of \
                 strings like [\"https://app.example.com\"], not a string",
                "t.toml: line 7: unknown setting rate_limit.reads",
                "t.toml: line 8: unknown setting htp (did you mean http?)",
            ]
        );
        assert_eq!(entries["listen"].value, json!("0.0.0.0:9000"));
    }

    #[test]
    fn a_broken_file_is_reported_with_its_line() {
        let mut p = Vec::new();
        read_file("t.toml", "listen = \"a\"\n[http\n", &mut defaults(), &mut p);
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("t.toml: line 2: "), "{}", p[0]);
    }

    #[test]
    fn database_passwords_are_hidden() {
        let show = |s: &str| redact_database(&Location::parse(s));
        assert_eq!(show("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            show("postgresql://h/db?user=u&password=pw&sslmode=require"),
            "postgresql://h/db?user=u&password=***&sslmode=require"
        );
        assert_eq!(show("/var/lib/taskman.db"), "/var/lib/taskman.db");
        assert_eq!(format!("{:?}", Secret("pw".into())), "Secret(***)");
    }

    #[test]
    fn the_loaded_config_debug_prints_no_secret() {
        let token = "tm_0123abcd_0123456789abcdef0123";
        let config = load_from(
            &SettingFlags::default(),
            env(&[
                ("TASKMAN_DATABASE_URL", "postgres://u:pw-secret@h/db"),
                ("TASKMAN_BOOTSTRAP_TOKEN", token),
            ]),
        )
        .unwrap();
        let shown = format!("{config:?}{}", config.to_toml());
        assert!(
            !shown.contains("pw-secret") && !shown.contains(token),
            "{shown}"
        );
        assert_eq!(
            config.location(),
            Location::Postgres("postgres://u:pw-secret@h/db".into())
        );
    }

    #[test]
    fn suggestions_are_only_for_near_misses() {
        let known = ["TASKMAN_LISTEN", "TASKMAN_LOG_LEVEL"];
        assert_eq!(
            did_you_mean("TASKMAN_LISTN", known.into_iter()),
            " (did you mean TASKMAN_LISTEN?)"
        );
        assert_eq!(did_you_mean("TASKMAN_WHATEVER", known.into_iter()), "");
    }
}
