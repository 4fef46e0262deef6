//! `taskman config check` as a user runs it: the real binary, its settings from a file,
//! `TASKMAN_*` variables and flags, and what it says about each.

use std::path::Path;
use std::process::{Command, Output};

/// A well-formed bootstrap token (not a real one).
const TOKEN: &str = "tm_0badc0de_configconfigconfig00";

/// Run `taskman ARGS` in `dir` with exactly the `TASKMAN_*` variables given.
fn taskman(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_taskman"));
    cmd.args(args).current_dir(dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TASKMAN_") {
            cmd.env_remove(name);
        }
    }
    cmd.envs(vars.iter().copied());
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A successful `config check`: its stdout.
fn check_ok(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> String {
    let mut all = vec!["config", "check"];
    all.extend_from_slice(args);
    let out = taskman(dir, &all, vars);
    assert!(
        out.status.success(),
        "config check failed: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A refused `config check`: exit 2, nothing on stdout; its stderr.
fn check_refused(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> String {
    let mut all = vec!["config", "check"];
    all.extend_from_slice(args);
    let out = taskman(dir, &all, vars);
    assert_eq!(out.status.code(), Some(2), "stdout: {}", text(&out.stdout));
    assert_eq!(text(&out.stdout), "");
    text(&out.stderr)
}

/// The `key = value` and source comment of `key`'s line in `config check` output.
fn line<'a>(output: &'a str, key: &str) -> (&'a str, &'a str) {
    let l = output
        .lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no {key} in\n{output}"));
    let (setting, source) = l.split_once(" # ").unwrap();
    (setting.trim_end(), source)
}

#[test]
fn flags_beat_variables_beat_the_file_beat_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("taskman.toml"),
        "listen = \"0.0.0.0:9000\"\n\
         [http]\n\
         request_timeout_secs = 10\n\
         [rate_limit]\n\
         writes_per_minute = 5\n\
         [log]\n\
         level = \"warn\"\n",
    )
    .unwrap();
    let vars = [
        ("TASKMAN_CONFIG", "taskman.toml"),
        ("TASKMAN_HTTP_REQUEST_TIMEOUT_SECS", "20"),
        ("TASKMAN_LOG_LEVEL", "info"),
        (
            "TASKMAN_HTTP_CORS_ORIGINS",
            "https://a.example, https://b.example",
        ),
    ];
    let out = check_ok(dir.path(), &["--log-level", "debug"], &vars);
    assert_eq!(
        line(&out, "listen"),
        ("listen = \"0.0.0.0:9000\"", "file taskman.toml line 1")
    );
    assert_eq!(
        line(&out, "writes_per_minute"),
        ("writes_per_minute = 5", "file taskman.toml line 5")
    );
    assert_eq!(
        line(&out, "request_timeout_secs"),
        (
            "request_timeout_secs = 20",
            "env TASKMAN_HTTP_REQUEST_TIMEOUT_SECS"
        )
    );
    assert_eq!(
        line(&out, "cors_origins"),
        (
            "cors_origins = [\"https://a.example\", \"https://b.example\"]",
            "env TASKMAN_HTTP_CORS_ORIGINS"
        )
    );
    assert_eq!(
        line(&out, "level"),
        ("level = \"debug\"", "flag --log-level")
    );
    assert_eq!(
        line(&out, "reads_per_minute"),
        ("reads_per_minute = 6000", "default")
    );

    // `--config` names the file too, and wins over TASKMAN_CONFIG.
    std::fs::write(
        dir.path().join("other.toml"),
        "listen = \"127.0.0.1:7000\"\n",
    )
    .unwrap();
    let out = check_ok(dir.path(), &["--config", "other.toml"], &vars);
    assert_eq!(
        line(&out, "listen"),
        ("listen = \"127.0.0.1:7000\"", "file other.toml line 1")
    );
    // Without either, no file is read.
    let out = check_ok(dir.path(), &[], &[]);
    assert_eq!(
        line(&out, "listen"),
        ("listen = \"127.0.0.1:8080\"", "default")
    );
}

type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn a_bad_value_names_the_setting_and_where_it_came_from_in_every_layer() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("zero.toml"),
        "[http]\nrequest_timeout_secs = 0\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("text.toml"),
        "demo = true\n[http]\nrequest_timeout_secs = \"abc\"\n",
    )
    .unwrap();
    // (flags, variables, what stderr must say)
    let cases: &[Case] = &[
        (
            &["--config", "zero.toml"],
            &[],
            "http.request_timeout_secs = 0 (from zero.toml line 2): must be 1 to 3600 seconds",
        ),
        (
            &["--config", "text.toml"],
            &[],
            "text.toml: line 3: http.request_timeout_secs = \"abc\": expected a whole number of seconds",
        ),
        (
            &[],
            &[("TASKMAN_HTTP_REQUEST_TIMEOUT_SECS", "abc")],
            "TASKMAN_HTTP_REQUEST_TIMEOUT_SECS=\"abc\": expected a whole number of seconds",
        ),
        (
            &[],
            &[("TASKMAN_HTTP_REQUEST_TIMEOUT_SECS", "0")],
            "http.request_timeout_secs = 0 (from TASKMAN_HTTP_REQUEST_TIMEOUT_SECS): must be 1 to 3600 seconds",
        ),
        (
            &["--request-timeout-secs", "0"],
            &[],
            "http.request_timeout_secs = 0 (from --request-timeout-secs): must be 1 to 3600 seconds",
        ),
        (
            &["--listen", "localhost"],
            &[],
            "--listen \"localhost\": expected an IP address and port like 127.0.0.1:8080",
        ),
        (
            &[],
            &[("TASKMAN_DURABILITY", "sometimes")],
            "TASKMAN_DURABILITY=\"sometimes\": expected one of durable, fast",
        ),
        (
            &["--config", "missing.toml"],
            &[],
            "missing.toml (from --config): cannot read",
        ),
    ];
    for (args, vars, expected) in cases {
        let err = check_refused(dir.path(), args, vars);
        assert!(
            err.contains(expected),
            "{args:?} {vars:?}: expected {expected:?} in\n{err}"
        );
    }
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let err = check_refused(
        dir.path(),
        &["--log-format", "xml"],
        &[
            ("TASKMAN_HTTP_BODY_LIMIT_BYTES", "12"),
            ("TASKMAN_HTTP_CORS_ORIGINS", "example.com/"),
        ],
    );
    for expected in [
        "--log-format \"xml\": expected one of auto, json, text",
        "http.body_limit_bytes = 12 (from TASKMAN_HTTP_BODY_LIMIT_BYTES): must be 1 KiB to 1 GiB",
        "http.cors_origins = [\"example.com/\"] (from TASKMAN_HTTP_CORS_ORIGINS)",
    ] {
        assert!(err.contains(expected), "{expected:?} in\n{err}");
    }
}

#[test]
fn a_misspelt_variable_is_refused_and_other_taskman_variables_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let err = check_refused(
        dir.path(),
        &[],
        &[("TASKMAN_RATE_LIMIT_WRITES_PER_MINUT", "5")],
    );
    assert!(
        err.contains(
            "TASKMAN_RATE_LIMIT_WRITES_PER_MINUT: unknown setting variable \
             (did you mean TASKMAN_RATE_LIMIT_WRITES_PER_MINUTE?)"
        ),
        "{err}"
    );
    check_ok(
        dir.path(),
        &[],
        &[
            ("TASKMAN_TEST_POSTGRES_URL", "postgres://x@y/z"),
            ("TASKMAN_REQUIRE_POSTGRES", "1"),
            ("TASKMAN_CORPUS_DIR", "/nowhere"),
            ("TASKMAN_BENCH_DUMP", "/tmp"),
            ("TASKMAN_LISTEN", ""),
        ],
    );
}

#[test]
fn an_unknown_key_in_the_file_is_refused_with_its_name_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("taskman.toml"),
        "listen = \"127.0.0.1:8080\"\n[http]\nrequest_timout_secs = 5\n[logging]\nlevel = \"info\"\n",
    )
    .unwrap();
    let err = check_refused(dir.path(), &["--config", "taskman.toml"], &[]);
    assert!(
        err.contains(
            "taskman.toml: line 3: unknown setting http.request_timout_secs \
             (did you mean http.request_timeout_secs?)"
        ),
        "{err}"
    );
    assert!(
        err.contains("taskman.toml: line 4: unknown setting logging"),
        "{err}"
    );
}

#[test]
fn secrets_are_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let out = check_ok(
        dir.path(),
        &[],
        &[
            (
                "TASKMAN_DATABASE_URL",
                "postgres://taskman:s3cr3t-pw@db.example:5432/taskman?sslpassword=s3cr3t-ssl",
            ),
            ("TASKMAN_BOOTSTRAP_TOKEN", TOKEN),
        ],
    );
    assert!(!out.contains("s3cr3t") && !out.contains(TOKEN), "{out}");
    assert_eq!(
        line(&out, "database"),
        (
            "database = \"postgres://taskman:***@db.example:5432/taskman?sslpassword=***\"",
            "env TASKMAN_DATABASE_URL"
        )
    );
    assert!(out.contains("# bootstrap token: set by TASKMAN_BOOTSTRAP_TOKEN (hidden)"));

    // A malformed token is refused without being echoed.
    let err = check_refused(
        dir.path(),
        &[],
        &[("TASKMAN_BOOTSTRAP_TOKEN", "hunter2-hunter2")],
    );
    assert!(
        err.contains("TASKMAN_BOOTSTRAP_TOKEN (value hidden)"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn the_example_file_is_accepted_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let example = taskman(dir.path(), &["config", "example"], &[]);
    assert!(example.status.success());
    std::fs::write(dir.path().join("example.toml"), &example.stdout).unwrap();
    let out = check_ok(dir.path(), &["--config", "example.toml"], &[]);
    assert!(
        out.lines()
            .filter(|l| l.contains(" = "))
            .all(|l| l.ends_with("# default")
                || l.ends_with("# default (the user's data directory)")),
        "{out}"
    );
}
