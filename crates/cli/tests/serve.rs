//! `taskman serve` as a user starts it: the real binary on port 0, spoken to over HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

const KEY: &str = "tm_5e4e0000_serveserveserve0000";

/// Start the server and return it with the address it prints.
fn start(db: &std::path::Path, demo: bool) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_taskman"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .env("TASKMAN_BOOTSTRAP_TOKEN", KEY)
        .env_remove("TASKMAN_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
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
    (child, addr)
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
    let (mut child, addr) = start(&db, true);
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
    let (mut child, addr) = start(&db, true);
    let (_, body) = get(&addr, "/api/v1/projects", Some(KEY));
    let projects: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(projects.as_array().unwrap().len(), 5);
    child.kill().unwrap();
    child.wait().unwrap();
}
