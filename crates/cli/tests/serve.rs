//! `taskman serve` as a user starts it: the real binary on port 0, spoken to over HTTP.

use std::io::{BufRead, BufReader, Lines, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "tm_5e4e0000_serveserveserve0000";

/// `taskman serve` on `db`, port 0, with no `TASKMAN_*` variable but the bootstrap token.
fn command(db: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_taskman"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(db);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TASKMAN_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("TASKMAN_BOOTSTRAP_TOKEN", KEY);
    cmd
}

/// Start the server and return it with the address it prints and the rest of its output
/// (kept open: a server whose stdout is closed cannot print its stop line).
fn start(db: &std::path::Path, demo: bool) -> (Child, String, Lines<BufReader<ChildStdout>>) {
    let mut cmd = command(db);
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    if demo {
        cmd.arg("--demo");
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server says where it listens")
            .unwrap();
        if let Some(rest) = line.strip_prefix("taskman serving on http://") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    (child, addr, lines)
}

/// Wait for the process to end by itself, at most `limit`.
fn wait_for_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            panic!("the server did not stop within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A plain HTTP/1.1 request with a JSON body: (status, body).
fn post(addr: &str, path: &str, key: &str, json: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw[9..12].parse().unwrap();
    let body = raw
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// A plain HTTP/1.1 GET: (status, body).
fn get(addr: &str, path: &str, key: Option<&str>) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let auth = key.map_or(String::new(), |k| format!("Authorization: Bearer {k}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw[9..12].parse().unwrap();
    let body = raw
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

#[test]
fn serve_demo_loads_the_seed_plans_once_and_answers_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("serve.db");
    let (mut child, addr, _out) = start(&db, true);
    assert_eq!(get(&addr, "/health/live", None).0, 200);
    assert_eq!(get(&addr, "/api/v1/projects", None).0, 401);
    let (status, body) = get(&addr, "/api/v1/projects", Some(KEY));
    assert_eq!(status, 200);
    let projects: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        projects.as_array().unwrap().len(),
        5,
        "one project per seed"
    );
    let p = projects
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "La Factoria Comprehensive Todo Tracking System")
        .unwrap();
    let (_, body) = get(
        &addr,
        &format!("/api/v1/projects/{}/progress", p["id"]),
        Some(KEY),
    );
    let progress: serde_json::Value = serde_json::from_str(&body).unwrap();
    // Seed 000: 105 tasks, 11 done, 1 in progress.
    assert_eq!(
        (
            &progress["total"],
            &progress["done"],
            &progress["in_progress"]
        ),
        (
            &serde_json::json!(105),
            &serde_json::json!(11),
            &serde_json::json!(1)
        )
    );
    child.kill().unwrap();
    child.wait().unwrap();

    // Started again on the same database: the demo is not loaded twice.
    let (mut child, addr, _out) = start(&db, true);
    let (_, body) = get(&addr, "/api/v1/projects", Some(KEY));
    let projects: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(projects.as_array().unwrap().len(), 5);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn sigterm_stops_the_server_cleanly_and_keeps_acknowledged_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("stop.db");
    let (mut child, addr, out) = start(&db, false);
    let (status, _) = post(&addr, "/api/v1/projects", KEY, r#"{"name": "kept"}"#);
    assert_eq!(status, 201, "the write is acknowledged");

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = wait_for_exit(&mut child, Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "a SIGTERM is a normal stop");
    let rest: Vec<String> = out.map(Result::unwrap).collect();
    assert!(
        rest.iter()
            .any(|l| l.starts_with("taskman: SIGTERM received")),
        "{rest:?}"
    );
    assert_eq!(
        rest.last().map(String::as_str),
        Some("taskman stopped (SIGTERM); database closed")
    );

    // Started again: the acknowledged write is there.
    let (mut child, addr, _out) = start(&db, false);
    let (_, body) = get(&addr, "/api/v1/projects", Some(KEY));
    assert!(body.contains("\"kept\""), "{body}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn sigint_stops_it_too() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _addr, out) = start(&dir.path().join("int.db"), false);
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = wait_for_exit(&mut child, Duration::from_secs(60));
    assert_eq!(status.code(), Some(0));
    let rest: Vec<String> = out.map(Result::unwrap).collect();
    assert_eq!(
        rest.last().map(String::as_str),
        Some("taskman stopped (SIGINT); database closed")
    );
}

#[test]
fn an_invalid_setting_stops_serve_before_it_opens_the_database_or_listens() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("never.db");
    let out = command(&db)
        .args(["--request-timeout-secs", "0"])
        .env("TASKMAN_LOG_FORMAT", "yaml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stdout.contains("serving on"), "{stdout}");
    assert!(
        stderr.contains(
            "http.request_timeout_secs = 0 (from --request-timeout-secs): must be 1 to 3600 seconds"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("TASKMAN_LOG_FORMAT=\"yaml\": expected one of auto, json, text"),
        "{stderr}"
    );
    assert!(!db.exists(), "the database was not opened");
}

#[test]
fn request_log_lines_carry_the_request_id_and_never_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    let log = dir.path().join("serve.log");
    let mut cmd = command(&db);
    cmd.env("TASKMAN_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("serving line").unwrap();
        if let Some(rest) = line.strip_prefix("taskman serving on http://") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    // A request with its own ID and a key; one with a wrong key.
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "GET /api/v1/projects/1 HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {KEY}\r\n\
         X-Request-Id: trace-me-42\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 404"), "{raw}");
    assert!(
        raw.to_ascii_lowercase()
            .contains("x-request-id: trace-me-42")
    );
    let (status, _) = get(
        &addr,
        "/api/v1/projects",
        Some("tm_deadbeef_wrongwrongwrong00000"),
    );
    assert_eq!(status, 401);

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert!(wait_for_exit(&mut child, Duration::from_secs(20)).success());
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("trace-me-42"))
        .unwrap_or_else(|| panic!("no log line with the request ID:\n{text}"));
    let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
    assert_eq!(v["request_id"], "trace-me-42");
    assert_eq!(v["method"], "GET");
    assert_eq!(v["route"], "/api/v1/projects/{id}");
    assert_eq!(v["status"], 404);
    assert!(v["latency_ms"].is_number());
    assert!(text.lines().any(|l| l.contains("\"status\":401")));
    for secret in [
        KEY,
        "tm_deadbeef_wrongwrongwrong00000",
        "Bearer",
        "uthorization",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} must never be logged:\n{text}"
        );
    }
}
