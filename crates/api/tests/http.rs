//! The API over real HTTP: a server on port 0 over a fresh SQLite database, spoken to with
//! an HTTP client.

use std::sync::Arc;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use taskman_store::{Location, Options, Role, Store};

const ADMIN: &str = "tm_0a1b2c3d_0123456789abcdef0123";

struct Server {
    base: String,
    store: Arc<Store>,
    http: Client,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            Store::open(
                &Location::Sqlite(dir.path().join("api.db")),
                Options::default(),
            )
            .await
            .unwrap(),
        );
        let key = taskman_api::bootstrap(&store, Some(ADMIN)).await.unwrap();
        assert_eq!(key.as_deref(), Some(ADMIN));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let s = store.clone();
        tokio::spawn(taskman_api::serve(listener, s, std::future::pending()));
        Server {
            base,
            store,
            http: Client::new(),
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(ADMIN)
    }

    fn post(&self, path: &str, body: Value) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .bearer_auth(ADMIN)
            .json(&body)
    }

    /// A POST with a body as given (not JSON-encoded) and its media type.
    fn post_raw(
        &self,
        path: &str,
        media: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .bearer_auth(ADMIN)
            .header("content-type", media)
            .body(body)
    }

    fn patch(&self, path: &str, body: Value) -> reqwest::RequestBuilder {
        self.http
            .patch(self.url(path))
            .bearer_auth(ADMIN)
            .json(&body)
    }
}

/// Status, and the body as a problem (checking its media type and fields).
async fn problem(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "errors are RFC 9457 problems"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
    (status, body)
}

#[tokio::test]
async fn health_needs_no_key_everything_else_does() {
    let s = Server::start().await;
    let res = s.http.get(s.url("/health/live")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let res = s.http.get(s.url("/api/v1/projects")).send().await.unwrap();
    assert_eq!(problem(res).await.0, StatusCode::UNAUTHORIZED);
    let res = s
        .http
        .get(s.url("/api/v1/projects"))
        .bearer_auth("tm_0a1b2c3d_0123456789abcdef0124")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.0, StatusCode::UNAUTHORIZED);

    // A viewer reads but may not write: 403, not 401.
    let viewer = s
        .store
        .create_user("t", "vera", Role::Viewer)
        .await
        .unwrap();
    let key = "tm_99990000_viewerviewerviewer00";
    let (prefix, hash) = taskman_api::auth::prefix_and_hash(key).unwrap();
    s.store
        .create_api_key("t", viewer.id, "ro", &prefix, &hash)
        .await
        .unwrap();
    let res = s
        .http
        .get(s.url("/api/v1/projects"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = s
        .http
        .post(s.url("/api/v1/projects"))
        .bearer_auth(key)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn clients_mistakes_are_4xx_problems() {
    let s = Server::start().await;
    let res = s
        .post("/api/v1/projects", json!({"name": "p"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"1\"");

    let res = s
        .post("/api/v1/projects", json!({"name": "p"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.0, StatusCode::CONFLICT, "duplicate name");
    let res = s
        .post("/api/v1/projects", json!({"name": "q", "colour": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(res).await.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown field"
    );
    let res = s
        .post("/api/v1/projects", json!({"name": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(res).await.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong type"
    );
    let res = s
        .post("/api/v1/projects", json!({"name": "  "}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(res).await.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "empty name"
    );
    let res = s
        .post_raw("/api/v1/projects", "application/json", "{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(res).await.0,
        StatusCode::BAD_REQUEST,
        "malformed JSON"
    );
    let res = s
        .post_raw("/api/v1/projects", "text/plain", "name=p")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = s
        .post_raw(
            "/api/v1/projects",
            "application/json",
            vec![b' '; taskman_api::BODY_LIMIT + 1],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    let res = s
        .post_raw(
            "/api/v1/projects",
            "application/json",
            vec![b'"', 0xff, 0xfe, b'"'],
        )
        .send()
        .await
        .unwrap();
    assert!(problem(res).await.0.is_client_error(), "bad UTF-8");
    let res = s.get("/api/v1/projects/abc").send().await.unwrap();
    assert!(problem(res).await.0.is_client_error(), "bad id");
    let res = s.get("/api/v1/projects/999").send().await.unwrap();
    assert_eq!(problem(res).await.0, StatusCode::NOT_FOUND);
    let res = s.get("/api/v1/nothing-here").send().await.unwrap();
    assert_eq!(problem(res).await.0, StatusCode::NOT_FOUND);
    let res = s
        .get("/api/v1/projects/1/tasks?limit=0")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let res = s
        .get("/api/v1/projects/1/tasks?status=finished")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.0, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn updates_need_the_version_they_were_made_against() {
    let s = Server::start().await;
    s.post("/api/v1/projects", json!({"name": "p"}))
        .send()
        .await
        .unwrap();
    let res = s
        .post(
            "/api/v1/projects/1/tasks",
            json!({"title": "Write docs", "priority": "high"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let t: Value = res.json().await.unwrap();
    let path = format!("/api/v1/tasks/{}", t["id"]);

    let res = s.get(&path).send().await.unwrap();
    assert_eq!(res.headers()["etag"], "\"1\"");

    let res = s
        .patch(&path, json!({"status": "in_progress"}))
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let t: Value = res.json().await.unwrap();
    assert_eq!(t["status"], "in_progress");

    // Someone else's client still holds version 1: refused, nothing changed.
    let res = s
        .patch(&path, json!({"status": "done"}))
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    let (status, body) = problem(res).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert!(body["detail"].as_str().unwrap().contains("version 2"));
    let t: Value = s.get(&path).send().await.unwrap().json().await.unwrap();
    assert_eq!(t["status"], "in_progress");

    // null clears, absent leaves alone.
    let t: Value = s
        .patch(&path, json!({"priority": null, "owner": "ana"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            t["priority"].clone(),
            t["owner"].clone(),
            t["title"].clone()
        ),
        (Value::Null, json!("ana"), json!("Write docs"))
    );

    let res = s
        .http
        .delete(s.url(&path))
        .bearer_auth(ADMIN)
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.0, StatusCode::PRECONDITION_FAILED);
    let res = s
        .http
        .delete(s.url(&path))
        .bearer_auth(ADMIN)
        .header("if-match", "\"3\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = s.get(&path).send().await.unwrap();
    assert_eq!(problem(res).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn task_lists_filter_and_page_with_a_cursor() {
    let s = Server::start().await;
    s.post("/api/v1/projects", json!({"name": "p"}))
        .send()
        .await
        .unwrap();
    for i in 0..12 {
        let owner = if i % 3 == 0 { "ana" } else { "ben" };
        s.post(
            "/api/v1/projects/1/tasks",
            json!({"title": format!("Task number {i}"), "owner": owner, "tags": ["api"]}),
        )
        .send()
        .await
        .unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor: Option<i64> = None;
    loop {
        let q = match cursor {
            Some(c) => format!("/api/v1/projects/1/tasks?owner=ben&limit=3&cursor={c}"),
            None => "/api/v1/projects/1/tasks?owner=ben&limit=3".into(),
        };
        let page: Value = s.get(&q).send().await.unwrap().json().await.unwrap();
        assert_eq!(page["total"], 8, "12 tasks, 4 of them ana's");
        for t in page["items"].as_array().unwrap() {
            assert_eq!(t["owner"], "ben");
            seen.push(t["id"].as_i64().unwrap());
        }
        match page["next"].as_i64() {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.dedup();
    assert_eq!(seen.len(), 8);
    assert_eq!(sorted, seen, "no task twice, in order");

    let found: Value = s
        .get("/api/v1/projects/1/tasks?q=number%207")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["title"], "Task number 7");

    let p: Value = s
        .get("/api/v1/projects/1/progress")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (p["total"].clone(), p["todo"].clone()),
        (json!(12), json!(12))
    );
    let r: Value = s
        .get("/api/v1/projects/1/ready?limit=5")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r.as_array().unwrap().len(), 5);
}

const SEED: &[u8] = include_bytes!("../../../tests/fixtures/seeds/000_5a8b8b0b125d8697.txt");

#[tokio::test]
async fn plans_upload_sync_and_download_with_the_databases_changes() {
    let s = Server::start().await;
    s.post("/api/v1/projects", json!({"name": "p"}))
        .send()
        .await
        .unwrap();
    let upload = |body: Vec<u8>, media: &'static str| {
        s.http
            .post(s.url("/api/v1/projects/1/plans?name=plan.md"))
            .bearer_auth(ADMIN)
            .header("content-type", media)
            .body(body)
            .send()
    };
    let res = upload(SEED.to_vec(), "text/markdown").await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["tasks"], 105, "seed 000 has 105 tasks");
    let plan = r["plan_id"].as_i64().unwrap();
    let res = upload(SEED.to_vec(), "text/markdown").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["new_version"], false);
    let res = upload(SEED.to_vec(), "application/json").await.unwrap();
    assert_eq!(problem(res).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Step 12 is open in the file; mark it done through the API.
    let page: Value = s
        .get("/api/v1/projects/1/tasks?status=todo&limit=200")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let step12 = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == "Step 12")
        .unwrap()
        .clone();
    assert_eq!(step12["status"], "todo");
    let res = s
        .patch(
            &format!("/api/v1/tasks/{}", step12["id"]),
            json!({"status": "done"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let md = s
        .get(&format!("/api/v1/plans/{plan}/markdown"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let doc = taskman_markdown::parse(&md);
    let i = doc.plan.find("Step 12").unwrap();
    assert_eq!(doc.plan.tasks[i].status, taskman_core::Status::Done);
    let changed: Vec<usize> = SEED
        .split(|&b| b == b'\n')
        .zip(md.split(|&b| b == b'\n'))
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(n, _)| n + 1)
        .collect();
    assert_eq!(
        changed,
        vec![doc.plan.tasks[i].line as usize],
        "only Step 12's line"
    );

    let versions: Value = s
        .get(&format!("/api/v1/plans/{plan}/versions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(versions.as_array().unwrap().len(), 1);

    // The audit log has the change, with the values before and after.
    let ev: Value = s
        .get(&format!("/api/v1/events?task={}", step12["id"]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = ev["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "task.status_changed");
    assert_eq!(last["actor"], "admin");
    assert_eq!(
        (
            last["before"]["status"].clone(),
            last["after"]["status"].clone()
        ),
        (json!("todo"), json!("done"))
    );
}

#[tokio::test]
async fn a_dependency_that_closes_a_cycle_is_refused_naming_it() {
    let s = Server::start().await;
    s.post("/api/v1/projects", json!({"name": "p"}))
        .send()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for t in ["a", "b", "c"] {
        let v: Value = s
            .post("/api/v1/projects/1/tasks", json!({"title": t}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(v["id"].as_i64().unwrap());
    }
    for (t, d) in [(ids[1], ids[0]), (ids[2], ids[1])] {
        let res = s
            .post(
                &format!("/api/v1/tasks/{t}/dependencies"),
                json!({"depends_on": d}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = s
        .post(
            &format!("/api/v1/tasks/{}/dependencies", ids[0]),
            json!({"depends_on": ids[2]}),
        )
        .send()
        .await
        .unwrap();
    let (status, body) = problem(res).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let cycle = format!("{} -> {} -> {} -> {}", ids[0], ids[2], ids[1], ids[0]);
    assert!(body["detail"].as_str().unwrap().contains(&cycle), "{body}");

    let ready: Value = s
        .get("/api/v1/projects/1/ready")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        ready.as_array().unwrap().len(),
        1,
        "only a has nothing to wait on"
    );
    let res = s
        .http
        .delete(s.url(&format!("/api/v1/tasks/{}/dependencies/{}", ids[2], ids[1])))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let ready: Value = s
        .get("/api/v1/projects/1/ready")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready.as_array().unwrap().len(), 2);
}
