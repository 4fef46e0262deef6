//! The API over real HTTP: a server on port 0 over a fresh database (SQLite, and
//! PostgreSQL when `TASKMAN_TEST_POSTGRES_URL` is set), spoken to with an HTTP client that
//! checks every answer against the served OpenAPI document.

#[macro_use]
mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, Server, problem};
use taskman_store::Role;

both!(health_needs_no_key_everything_else_does);
async fn health_needs_no_key_everything_else_does(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    let res = s.call(s.http.get(s.url("/health/live"))).go().await;
    assert_eq!(res.status(), StatusCode::OK);

    let res = s.call(s.http.get(s.url("/api/v1/projects"))).go().await;
    assert_eq!(problem(&res).0, StatusCode::UNAUTHORIZED);
    let res = s
        .call(
            s.http
                .get(s.url("/api/v1/projects"))
                .bearer_auth("tm_0a1b2c3d_0123456789abcdef0124"),
        )
        .go()
        .await;
    assert_eq!(problem(&res).0, StatusCode::UNAUTHORIZED);

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
        .call(s.http.get(s.url("/api/v1/projects")).bearer_auth(key))
        .go()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = s
        .call(
            s.http
                .post(s.url("/api/v1/projects"))
                .bearer_auth(key)
                .json(&json!({"name": "x"})),
        )
        .go()
        .await;
    assert_eq!(problem(&res).0, StatusCode::FORBIDDEN);
}

both!(clients_mistakes_are_4xx_problems);
async fn clients_mistakes_are_4xx_problems(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    let res = s.post("/api/v1/projects", json!({"name": "p"})).go().await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"1\"");

    let res = s.post("/api/v1/projects", json!({"name": "p"})).go().await;
    assert_eq!(problem(&res).0, StatusCode::CONFLICT, "duplicate name");
    let res = s
        .post("/api/v1/projects", json!({"name": "q", "colour": 1}))
        .go()
        .await;
    assert_eq!(
        problem(&res).0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown field"
    );
    let res = s.post("/api/v1/projects", json!({"name": 7})).go().await;
    assert_eq!(
        problem(&res).0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong type"
    );
    let res = s.post("/api/v1/projects", json!({"name": "  "})).go().await;
    assert_eq!(
        problem(&res).0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "empty name"
    );
    let res = s
        .post_raw("/api/v1/projects", "application/json", "{\"name\": ")
        .go()
        .await;
    assert_eq!(problem(&res).0, StatusCode::BAD_REQUEST, "malformed JSON");
    let res = s
        .post_raw("/api/v1/projects", "text/plain", "name=p")
        .go()
        .await;
    assert_eq!(problem(&res).0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = s
        .post_raw(
            "/api/v1/projects",
            "application/json",
            vec![b' '; taskman_api::BODY_LIMIT + 1],
        )
        .go()
        .await;
    assert_eq!(problem(&res).0, StatusCode::PAYLOAD_TOO_LARGE);
    let res = s
        .post_raw(
            "/api/v1/projects",
            "application/json",
            vec![b'"', 0xff, 0xfe, b'"'],
        )
        .go()
        .await;
    assert!(problem(&res).0.is_client_error(), "bad UTF-8");
    let res = s.get("/api/v1/projects/abc").go().await;
    assert!(problem(&res).0.is_client_error(), "bad id");
    let res = s.get("/api/v1/projects/999").go().await;
    assert_eq!(problem(&res).0, StatusCode::NOT_FOUND);
    let res = s.get("/api/v1/nothing-here").go().await;
    assert_eq!(problem(&res).0, StatusCode::NOT_FOUND);
    let res = s.get("/api/v1/projects/1/tasks?limit=0").go().await;
    assert_eq!(problem(&res).0, StatusCode::UNPROCESSABLE_ENTITY);
    let res = s.get("/api/v1/projects/1/tasks?status=finished").go().await;
    assert_eq!(problem(&res).0, StatusCode::UNPROCESSABLE_ENTITY);
}

both!(updates_need_the_version_they_were_made_against);
async fn updates_need_the_version_they_were_made_against(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    s.post("/api/v1/projects", json!({"name": "p"})).go().await;
    let res = s
        .post(
            "/api/v1/projects/1/tasks",
            json!({"title": "Write docs", "priority": "high"}),
        )
        .go()
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let t: Value = res.json();
    let path = format!("/api/v1/tasks/{}", t["id"]);

    let res = s.get(&path).go().await;
    assert_eq!(res.headers()["etag"], "\"1\"");

    let res = s
        .patch(&path, json!({"status": "in_progress"}))
        .header("if-match", "\"1\"")
        .go()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let t: Value = res.json();
    assert_eq!(t["status"], "in_progress");

    // Someone else's client still holds version 1: refused, nothing changed.
    let res = s
        .patch(&path, json!({"status": "done"}))
        .header("if-match", "\"1\"")
        .go()
        .await;
    let (status, body) = problem(&res);
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert!(body["detail"].as_str().unwrap().contains("version 2"));
    let t: Value = s.get(&path).go().await.json();
    assert_eq!(t["status"], "in_progress");

    // null clears, absent leaves alone.
    let t: Value = s
        .patch(&path, json!({"priority": null, "owner": "ana"}))
        .go()
        .await
        .json();
    assert_eq!(
        (
            t["priority"].clone(),
            t["owner"].clone(),
            t["title"].clone()
        ),
        (Value::Null, json!("ana"), json!("Write docs"))
    );

    let res = s.delete(&path).header("if-match", "\"1\"").go().await;
    assert_eq!(problem(&res).0, StatusCode::PRECONDITION_FAILED);
    let res = s.delete(&path).header("if-match", "\"3\"").go().await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = s.get(&path).go().await;
    assert_eq!(problem(&res).0, StatusCode::NOT_FOUND);
}

both!(task_lists_filter_and_page_with_a_cursor);
async fn task_lists_filter_and_page_with_a_cursor(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    s.post("/api/v1/projects", json!({"name": "p"})).go().await;
    for i in 0..12 {
        let owner = if i % 3 == 0 { "ana" } else { "ben" };
        s.post(
            "/api/v1/projects/1/tasks",
            json!({"title": format!("Task number {i}"), "owner": owner, "tags": ["api"]}),
        )
        .go()
        .await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<i64> = None;
    loop {
        let q = match cursor {
            Some(c) => format!("/api/v1/projects/1/tasks?owner=ben&limit=3&cursor={c}"),
            None => "/api/v1/projects/1/tasks?owner=ben&limit=3".into(),
        };
        let page: Value = s.get(&q).go().await.json();
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
        .go()
        .await
        .json();
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["title"], "Task number 7");

    let p: Value = s.get("/api/v1/projects/1/progress").go().await.json();
    assert_eq!(
        (p["total"].clone(), p["todo"].clone()),
        (json!(12), json!(12))
    );
    let r: Value = s.get("/api/v1/projects/1/ready?limit=5").go().await.json();
    assert_eq!(r.as_array().unwrap().len(), 5);
}

const SEED: &[u8] = include_bytes!("../../../tests/fixtures/seeds/000_5a8b8b0b125d8697.txt");

both!(plans_upload_sync_and_download_with_the_databases_changes);
async fn plans_upload_sync_and_download_with_the_databases_changes(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    s.post("/api/v1/projects", json!({"name": "p"})).go().await;
    let upload = |body: Vec<u8>, media: &'static str| {
        s.post_raw("/api/v1/projects/1/plans?name=plan.md", media, body)
            .go()
    };
    let res = upload(SEED.to_vec(), "text/markdown").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let r: Value = res.json();
    assert_eq!(r["tasks"], 105, "seed 000 has 105 tasks");
    let plan = r["plan_id"].as_i64().unwrap();
    let res = upload(SEED.to_vec(), "text/markdown").await;
    assert_eq!(res.status(), StatusCode::OK);
    let r: Value = res.json();
    assert_eq!(r["new_version"], false);
    let res = upload(SEED.to_vec(), "application/json").await;
    assert_eq!(problem(&res).0, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Step 12 is open in the file; mark it done through the API.
    let page: Value = s
        .get("/api/v1/projects/1/tasks?status=todo&limit=200")
        .go()
        .await
        .json();
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
        .go()
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let md = s
        .get(&format!("/api/v1/plans/{plan}/markdown"))
        .go()
        .await
        .bytes()
        .to_vec();
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
        .go()
        .await
        .json();
    assert_eq!(versions.as_array().unwrap().len(), 1);

    // The audit log has the change, with the values before and after.
    let ev: Value = s
        .get(&format!("/api/v1/events?task={}", step12["id"]))
        .go()
        .await
        .json();
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

both!(a_dependency_that_closes_a_cycle_is_refused_naming_it);
async fn a_dependency_that_closes_a_cycle_is_refused_naming_it(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    s.post("/api/v1/projects", json!({"name": "p"})).go().await;
    let mut ids = Vec::new();
    for t in ["a", "b", "c"] {
        let v: Value = s
            .post("/api/v1/projects/1/tasks", json!({"title": t}))
            .go()
            .await
            .json();
        ids.push(v["id"].as_i64().unwrap());
    }
    for (t, d) in [(ids[1], ids[0]), (ids[2], ids[1])] {
        let res = s
            .post(
                &format!("/api/v1/tasks/{t}/dependencies"),
                json!({"depends_on": d}),
            )
            .go()
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = s
        .post(
            &format!("/api/v1/tasks/{}/dependencies", ids[0]),
            json!({"depends_on": ids[2]}),
        )
        .go()
        .await;
    let (status, body) = problem(&res);
    assert_eq!(status, StatusCode::CONFLICT);
    let cycle = format!("{} -> {} -> {} -> {}", ids[0], ids[2], ids[1], ids[0]);
    assert!(body["detail"].as_str().unwrap().contains(&cycle), "{body}");

    let ready: Value = s.get("/api/v1/projects/1/ready").go().await.json();
    assert_eq!(
        ready.as_array().unwrap().len(),
        1,
        "only a has nothing to wait on"
    );
    let res = s
        .delete(&format!("/api/v1/tasks/{}/dependencies/{}", ids[2], ids[1]))
        .go()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let ready: Value = s.get("/api/v1/projects/1/ready").go().await.json();
    assert_eq!(ready.as_array().unwrap().len(), 2);
}

/// Id of the task with this plan key in project `p` (first 1000 tasks).
async fn task_by_key(s: &Server, p: i64, key: &str) -> Value {
    let page = s
        .get(&format!("/api/v1/projects/{p}/tasks?limit=1000"))
        .go()
        .await
        .json();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == key)
        .unwrap_or_else(|| panic!("no task {key}"))
        .clone()
}

both!(the_document_covers_every_route_and_its_docs_page_works_offline);
async fn the_document_covers_every_route_and_its_docs_page_works_offline(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    let res = s
        .call(s.http.get(s.url(taskman_api::OPENAPI_PATH)))
        .go()
        .await;
    let doc = res.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/health/live",
        "/api/v1/projects",
        "/api/v1/projects/{id}",
        "/api/v1/projects/{id}/tasks",
        "/api/v1/projects/{id}/plans",
        "/api/v1/projects/{id}/progress",
        "/api/v1/projects/{id}/sections",
        "/api/v1/projects/{id}/ready",
        "/api/v1/projects/{id}/blocked",
        "/api/v1/projects/{id}/critical-path",
        "/api/v1/projects/{id}/lint",
        "/api/v1/projects/{id}/sprints",
        "/api/v1/plans/{id}/versions",
        "/api/v1/plans/{id}/markdown",
        "/api/v1/tasks/{id}",
        "/api/v1/tasks/{id}/transitions",
        "/api/v1/tasks/bulk",
        "/api/v1/tasks/{id}/dependencies",
        "/api/v1/tasks/{id}/dependencies/{dep}",
        "/api/v1/sprints/{id}",
        "/api/v1/sprints/{id}/close",
        "/api/v1/sprints/{id}/tasks/{task}",
        "/api/v1/action-lists",
        "/api/v1/action-lists/{id}",
        "/api/v1/action-lists/{id}/items",
        "/api/v1/action-items/{id}",
        "/api/v1/events",
        "/api/v1/search",
    ] {
        assert!(paths.contains_key(p), "{p} is not in the document");
    }
    // Every operation under /api/v1 documents 401 and the problem schema; every POST
    // takes an Idempotency-Key; the probes need no key.
    for (p, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if p.starts_with("/api/v1/") {
                assert!(op["responses"]["401"].is_object(), "{method} {p}: 401");
                if method == "post" {
                    let params = op["parameters"].as_array().unwrap();
                    assert!(
                        params.iter().any(|x| x["name"] == "Idempotency-Key"),
                        "{method} {p}: Idempotency-Key"
                    );
                }
            } else {
                assert_eq!(op["security"], json!([]), "{method} {p} needs no key");
            }
        }
    }
    let mut ids: Vec<&str> = paths
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "operation ids are unique: {ids:?}");
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    // The interactive page and its script come from the binary (no network here).
    let page = s
        .call(s.http.get(s.url(&format!("{}/", taskman_api::DOCS_PATH))))
        .go()
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text();
    assert!(html.contains("swagger-ui"), "{html}");
    let js = s
        .call(
            s.http
                .get(s.url(&format!("{}/swagger-ui-bundle.js", taskman_api::DOCS_PATH))),
        )
        .go()
        .await;
    assert_eq!(js.status(), StatusCode::OK);
    assert!(
        js.bytes().len() > 100_000,
        "the Swagger UI bundle is served"
    );
}

both!(the_contract_check_refuses_an_answer_the_document_does_not_allow);
async fn the_contract_check_refuses_an_answer_the_document_does_not_allow(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    let p = s.project("p").await;
    // A real answer passes; the same answer with a field of the wrong type, or a status
    // the operation does not document, is refused by the checker every test uses.
    let good = s.get(&format!("/api/v1/projects/{p}")).go().await;
    let mut bad_body = good.json();
    bad_body["version"] = json!("one");
    let wrong = support::Resp::fake(200, "application/json", &bad_body, Some("\"1\""));
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.contract()
            .check("get", &format!("/api/v1/projects/{p}"), &wrong)
    }));
    assert!(refused.is_err(), "a wrong type must fail the check");
    let teapot = support::Resp::fake(418, "application/json", &good.json(), None);
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.contract()
            .check("get", &format!("/api/v1/projects/{p}"), &teapot)
    }));
    assert!(
        refused.is_err(),
        "an undocumented status must fail the check"
    );
}

both!(validation_problems_name_the_fields_at_fault);
async fn validation_problems_name_the_fields_at_fault(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    let res = s
        .post("/api/v1/projects", json!({"name": "q", "colour": 1}))
        .go()
        .await;
    let (status, body) = problem(&res);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "colour");
    let res = s.post("/api/v1/projects", json!({"name": 7})).go().await;
    assert_eq!(problem(&res).1["errors"][0]["field"], "name");
    let p = s.project("p").await;
    let res = s
        .get(&format!("/api/v1/projects/{p}/tasks?limit=5000"))
        .go()
        .await;
    assert_eq!(problem(&res).1["errors"][0]["field"], "limit");
    let res = s
        .get(&format!("/api/v1/projects/{p}/tasks?limit=many"))
        .go()
        .await;
    let (status, body) = problem(&res);
    assert!(status.is_client_error());
    assert_eq!(body["errors"][0]["field"], "limit");
}

both!(status_transitions_follow_the_rules_and_the_dependencies);
async fn status_transitions_follow_the_rules_and_the_dependencies(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    s.project("p").await;
    let res = s
        .post_raw(
            "/api/v1/projects/1/plans?name=plan.md",
            "text/markdown",
            SEED.to_vec(),
        )
        .go()
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // Seed 000: Step 7 is in progress, Step 8 depends on Step 7, Step 6 is done.
    let step7 = task_by_key(&s, 1, "Step 7").await;
    let step8 = task_by_key(&s, 1, "Step 8").await;
    assert_eq!(step7["status"], "in_progress");
    assert_eq!(step8["depends_on"], json!([step7["id"]]));
    let tr = |id: &Value, body: Value| s.post(&format!("/api/v1/tasks/{id}/transitions"), body);

    let res = tr(&step8["id"], json!({"action": "start"})).go().await;
    let (status, body) = problem(&res);
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["detail"].as_str().unwrap().contains("Step 7"),
        "names what it waits on: {body}"
    );
    assert_eq!(task_by_key(&s, 1, "Step 8").await["status"], "todo");

    let res = tr(&step8["id"], json!({"action": "start", "force": true}))
        .go()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json()["status"], "in_progress");
    // Already there: nothing changes, not even the version.
    let again = tr(&step8["id"], json!({"action": "start"})).go().await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.etag(), res.etag());

    let res = tr(&step7["id"], json!({"action": "complete"})).go().await;
    assert_eq!(res.json()["status"], "done");
    let res = tr(&step7["id"], json!({"action": "block"})).go().await;
    assert_eq!(problem(&res).0, StatusCode::CONFLICT, "done: reopen first");
    let res = tr(&step7["id"], json!({"action": "reopen"})).go().await;
    assert_eq!(res.json()["status"], "todo");
    let res = tr(&step7["id"], json!({"action": "reopen"}))
        .go()
        .await
        .json();
    assert_eq!(res["status"], "todo", "reopening an open task is a no-op");
    let res = tr(&step7["id"], json!({"action": "cancel"})).go().await;
    assert_eq!(res.json()["status"], "cancelled");
    let res = tr(&step7["id"], json!({"action": "complete"})).go().await;
    assert_eq!(problem(&res).0, StatusCode::CONFLICT);
    let res = tr(&step7["id"], json!({"action": "fly"})).go().await;
    assert_eq!(problem(&res).0, StatusCode::UNPROCESSABLE_ENTITY);

    // A stale If-Match is refused with 412.
    let res = tr(&step7["id"], json!({"action": "reopen"}))
        .header("if-match", "\"1\"")
        .go()
        .await;
    assert_eq!(problem(&res).0, StatusCode::PRECONDITION_FAILED);

    let ev = s
        .get(&format!("/api/v1/events?task={}", step7["id"]))
        .go()
        .await
        .json();
    let actions: Vec<&str> = ev["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "task.status_changed")
        .map(|e| e["after"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["done", "todo", "cancelled"],
        "every move is in the audit log: {ev}"
    );
}

both!(bulk_updates_are_all_or_nothing);
async fn bulk_updates_are_all_or_nothing(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    let p = s.project("p").await;
    let a = s.task(p, json!({"title": "a"})).await;
    let b2 = s.task(p, json!({"title": "b"})).await;
    let c = s.task(p, json!({"title": "c"})).await;

    let res = s
        .post(
            "/api/v1/tasks/bulk",
            json!({"changes": [
                {"id": a, "set": {"status": "done"}},
                {"id": b2, "version": 1, "set": {"owner": "ana", "priority": "high"}},
            ]}),
        )
        .go()
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text());
    let tasks = res.json()["tasks"].clone();
    assert_eq!(tasks[0]["status"], "done");
    assert_eq!(tasks[1]["owner"], "ana");
    assert_eq!(tasks[1]["version"], 2);

    // b is at version 2 now: a change made against version 1 fails, and so does the
    // whole request: c is not touched.
    let res = s
        .post(
            "/api/v1/tasks/bulk",
            json!({"changes": [
                {"id": c, "set": {"status": "done"}},
                {"id": b2, "version": 1, "set": {"status": "done"}},
            ]}),
        )
        .go()
        .await;
    assert_eq!(problem(&res).0, StatusCode::CONFLICT);
    let now = s.get(&format!("/api/v1/tasks/{c}")).go().await.json();
    assert_eq!(
        (now["status"].clone(), now["version"].clone()),
        (json!("todo"), json!(1))
    );

    let res = s
        .post(
            "/api/v1/tasks/bulk",
            json!({"changes": [
                {"id": c, "set": {"status": "done"}},
                {"id": 99999, "set": {"status": "done"}},
            ]}),
        )
        .go()
        .await;
    assert_eq!(problem(&res).0, StatusCode::NOT_FOUND);
    let res = s
        .post(
            "/api/v1/tasks/bulk",
            json!({"changes": [
                {"id": c, "set": {"status": "done"}},
                {"id": a, "set": {"title": " "}},
            ]}),
        )
        .go()
        .await;
    let (status, body) = problem(&res);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "changes[1].set.title");
    let now = s.get(&format!("/api/v1/tasks/{c}")).go().await.json();
    assert_eq!(
        now["status"], "todo",
        "nothing of a refused bulk update is made"
    );
}

both!(sprints_and_action_lists_round_trip);
async fn sprints_and_action_lists_round_trip(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    let p = s.project("p").await;
    let t = s.task(p, json!({"title": "a"})).await;
    let res = s
        .post(
            &format!("/api/v1/projects/{p}/sprints"),
            json!({"name": "S1", "starts_on": "2026-11-23", "ends_on": "2026-12-04", "goal": "ship"}),
        )
        .go()
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text());
    let sp = res.json()["id"].as_i64().unwrap();
    let res = s
        .post(
            &format!("/api/v1/projects/{p}/sprints"),
            json!({"name": "S2", "starts_on": "2026-12-04", "ends_on": "2026-11-23"}),
        )
        .go()
        .await;
    assert_eq!(
        problem(&res).0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ends before it starts"
    );

    let res = s.put(&format!("/api/v1/sprints/{sp}/tasks/{t}")).go().await;
    assert_eq!(res.json()["task_ids"], json!([t]));
    let v = s.get(&format!("/api/v1/sprints/{sp}")).go().await.etag();
    let res = s
        .patch(&format!("/api/v1/sprints/{sp}"), json!({"goal": "ship it"}))
        .header("if-match", &v)
        .go()
        .await;
    assert_eq!(res.json()["goal"], "ship it");
    let res = s
        .patch(&format!("/api/v1/sprints/{sp}"), json!({"goal": "stale"}))
        .header("if-match", &v)
        .go()
        .await;
    assert_eq!(problem(&res).0, StatusCode::PRECONDITION_FAILED);
    let res = s
        .delete(&format!("/api/v1/sprints/{sp}/tasks/{t}"))
        .go()
        .await;
    assert_eq!(res.json()["task_ids"], json!([]));
    let res = s
        .post(&format!("/api/v1/sprints/{sp}/close"), json!(null))
        .go()
        .await;
    assert!(res.json()["closed_at"].is_string());
    let list = s
        .get(&format!("/api/v1/projects/{p}/sprints"))
        .go()
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);

    let res = s
        .post(
            "/api/v1/action-lists",
            json!({"name": "Retro", "project_id": p}),
        )
        .go()
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let l = res.json()["id"].as_i64().unwrap();
    let res = s
        .post(
            &format!("/api/v1/action-lists/{l}/items"),
            json!({"title": "Fix flaky test", "owner": "ben", "due": "2026-11-30"}),
        )
        .go()
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let item = res.json()["id"].as_i64().unwrap();
    let res = s
        .patch(
            &format!("/api/v1/action-items/{item}"),
            json!({"done": true, "owner": null}),
        )
        .header("if-match", "\"1\"")
        .go()
        .await;
    let it = res.json();
    assert_eq!(
        (it["done"].clone(), it["owner"].clone()),
        (json!(true), Value::Null)
    );
    let res = s
        .patch(
            &format!("/api/v1/action-lists/{l}"),
            json!({"name": "Retro 47"}),
        )
        .go()
        .await;
    assert_eq!(res.json()["name"], "Retro 47");
    let lists = s
        .get(&format!("/api/v1/action-lists?project={p}"))
        .go()
        .await
        .json();
    assert_eq!(lists[0]["items"][0]["done"], true);
    let res = s.delete(&format!("/api/v1/action-items/{item}")).go().await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = s
        .delete(&format!("/api/v1/action-lists/{l}"))
        .header("if-match", "\"1\"")
        .go()
        .await;
    assert_eq!(
        problem(&res).0,
        StatusCode::PRECONDITION_FAILED,
        "renamed since"
    );
    let res = s.delete(&format!("/api/v1/action-lists/{l}")).go().await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = s.get(&format!("/api/v1/action-lists/{l}")).go().await;
    assert_eq!(problem(&res).0, StatusCode::NOT_FOUND);
}

both!(search_finds_tasks_across_projects);
async fn search_finds_tasks_across_projects(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    let p = s.project("web").await;
    let q = s.project("ops").await;
    s.task(p, json!({"title": "Deploy the web front"})).await;
    s.task(q, json!({"title": "Deploy monitoring", "status": "done"}))
        .await;
    s.task(q, json!({"title": "Rotate keys"})).await;
    let r = s.get("/api/v1/search?q=deploy").go().await.json();
    assert_eq!(r["total"], 2);
    let mut projects: Vec<i64> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["project_id"].as_i64().unwrap())
        .collect();
    projects.sort();
    assert_eq!(projects, vec![p, q]);
    let r = s
        .get("/api/v1/search?q=deploy&status=done")
        .go()
        .await
        .json();
    assert_eq!(r["items"][0]["title"], "Deploy monitoring");
    assert_eq!(r["total"], 1);
    let res = s.get("/api/v1/search?q=%20").go().await;
    assert_eq!(problem(&res).1["errors"][0]["field"], "q");
    let res = s.get("/api/v1/search").go().await;
    assert!(problem(&res).0.is_client_error(), "q is required");
}

both!(analytics_of_a_seed_plan_match_what_the_document_says);
async fn analytics_of_a_seed_plan_match_what_the_document_says(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    let p = s.project("factoria").await;
    s.post_raw(
        &format!("/api/v1/projects/{p}/plans?name=plan.md"),
        "text/markdown",
        SEED.to_vec(),
    )
    .go()
    .await;
    // Read off seed 000: "EMERGENCY WEEK 0" (line 10) has 5 steps, all done; "Week 2:
    // Testing Infrastructure" (line 24) has Step 6 done of Steps 6-10.
    let sections = s
        .get(&format!("/api/v1/projects/{p}/sections"))
        .go()
        .await
        .json();
    let rows = sections[0]["sections"].as_array().unwrap();
    let row = |line: u64| rows.iter().find(|r| r["line"] == line).unwrap().clone();
    assert_eq!(
        (row(10)["done"].clone(), row(10)["total"].clone()),
        (json!(5), json!(5))
    );
    assert_eq!(
        (row(24)["done"].clone(), row(24)["total"].clone()),
        (json!(1), json!(5))
    );
    // Step 7 (in progress) -> Step 8 -> Step 10 is the chain of open work.
    let cp = s
        .get(&format!("/api/v1/projects/{p}/critical-path"))
        .go()
        .await
        .json();
    let keys: Vec<&str> = cp[0]["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["Step 7", "Step 8", "Step 10"]);
    let step7 = task_by_key(&s, p, "Step 7").await;
    assert_eq!(cp[0]["path"][0]["task_id"], step7["id"]);
    // Line 201 claims "11/100 steps (11%)"; the plan has 105 tasks, 11 done.
    let lint = s
        .get(&format!("/api/v1/projects/{p}/lint"))
        .go()
        .await
        .json();
    let findings = lint[0]["findings"].as_array().unwrap();
    let claim = findings
        .iter()
        .find(|f| f["code"] == "progress-claim-total")
        .unwrap();
    assert_eq!(
        (claim["line"].clone(), claim["severity"].clone()),
        (json!(201), json!("error"))
    );
    assert!(
        findings
            .iter()
            .any(|f| f["code"] == "ready-with-open-deps" && f["line"] == 31)
    );
}

both!(a_retried_post_with_an_idempotency_key_makes_one_change);
async fn a_retried_post_with_an_idempotency_key_makes_one_change(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    let p = s.project("p").await;
    let path = format!("/api/v1/projects/{p}/tasks");
    let first = s
        .post(&path, json!({"title": "Once"}))
        .header("idempotency-key", "k-1")
        .go()
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let again = s
        .post(&path, json!({"title": "Once"}))
        .header("idempotency-key", "k-1")
        .go()
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.bytes(), first.bytes(), "the same response");
    assert_eq!(again.etag(), first.etag());
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    let page = s.get(&path).go().await.json();
    assert_eq!(page["total"], 1, "one task made");

    let other = s
        .post(&path, json!({"title": "Twice"}))
        .header("idempotency-key", "k-1")
        .go()
        .await;
    let (status, body) = problem(&other);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "Idempotency-Key");
    let res = s
        .post(&path, json!({"title": "Once"}))
        .header("idempotency-key", "k-2")
        .go()
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "a new key is a new request"
    );
    assert_eq!(s.get(&path).go().await.json()["total"], 2);

    // A refused request is remembered too: the retry gets the same problem.
    let bad = s
        .post(&path, json!({"title": ""}))
        .header("idempotency-key", "k-3")
        .go()
        .await;
    let bad_again = s
        .post(&path, json!({"title": ""}))
        .header("idempotency-key", "k-3")
        .go()
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_again.bytes(), bad.bytes());
    let res = s
        .post(&path, json!({"title": "x"}))
        .header("idempotency-key", "")
        .go()
        .await;
    assert_eq!(problem(&res).0, StatusCode::BAD_REQUEST);
}

both!(every_answer_carries_a_request_id_and_the_security_headers);
async fn every_answer_carries_a_request_id_and_the_security_headers(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    let res = s
        .get("/api/v1/projects")
        .header("x-request-id", "abc-123")
        .go()
        .await;
    let h = res.headers();
    assert_eq!(h["x-request-id"], "abc-123", "taken from the request");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(!h.contains_key("server"), "no Server header");
    assert!(
        !h.contains_key("strict-transport-security"),
        "HSTS only when configured"
    );
    // Made when absent (or unusable), also on errors and on unknown routes.
    for path in ["/api/v1/projects/999", "/nowhere", "/health/live"] {
        let res = s.get(path).go().await;
        let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_eq!(id.len(), 32, "{path}: {id}");
        assert!(id.bytes().all(|c| c.is_ascii_hexdigit()));
    }
    let res = s
        .get("/api/v1/projects")
        .header("x-request-id", &"x".repeat(200))
        .go()
        .await;
    assert_eq!(
        res.headers()["x-request-id"].len(),
        32,
        "too long: replaced"
    );
}

both!(hsts_and_cors_follow_the_settings);
async fn hsts_and_cors_follow_the_settings(b: Backend) {
    let mut settings = taskman_api::Settings::default();
    settings.http.hsts = true;
    settings.http.cors_origins = vec!["https://app.example".into()];
    let Some(s) = Server::start_with(b, settings).await else {
        return;
    };
    let res = s
        .get("/api/v1/projects")
        .header("origin", "https://app.example")
        .go()
        .await;
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let res = s
        .get("/api/v1/projects")
        .header("origin", "https://evil.example")
        .go()
        .await;
    assert!(!res.headers().contains_key("access-control-allow-origin"));
}

both!(bodies_are_compressed_only_above_the_threshold);
async fn bodies_are_compressed_only_above_the_threshold(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    let p = s.project("p").await;
    for i in 0..20 {
        s.task(
            p,
            json!({"title": format!("A task with a long enough title, number {i}")}),
        )
        .await;
    }
    // Spoken to without the contract check: the bodies here are compressed bytes.
    let raw = |path: String, enc: &'static str| {
        s.http
            .get(s.url(&path))
            .bearer_auth(support::ADMIN)
            .header("accept-encoding", enc)
            .send()
    };
    let big = raw(format!("/api/v1/projects/{p}/tasks"), "gzip")
        .await
        .unwrap();
    assert_eq!(big.headers()["content-encoding"], "gzip");
    let bytes = big.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip stream");
    let br = raw(format!("/api/v1/projects/{p}/tasks"), "br")
        .await
        .unwrap();
    assert_eq!(br.headers()["content-encoding"], "br");
    let small = raw(format!("/api/v1/projects/{p}"), "gzip").await.unwrap();
    assert!(
        !small.headers().contains_key("content-encoding"),
        "under 1 KiB: sent as is"
    );
    let plain = raw(format!("/api/v1/projects/{p}/tasks"), "identity")
        .await
        .unwrap();
    assert!(!plain.headers().contains_key("content-encoding"));
}

both!(a_request_over_the_timeout_gets_408);
async fn a_request_over_the_timeout_gets_408(b: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut settings = taskman_api::Settings::default();
    settings.http.request_timeout_secs = 1;
    let Some(s) = Server::start_with(b, settings).await else {
        return;
    };
    // A client that announces a body and never sends it: the server gives up after 1 s.
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let req = format!(
        "POST /api/v1/projects HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\"",
        support::ADMIN
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), tcp.read(&mut buf))
        .await
        .expect("an answer before 10 s")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    // Nothing was made.
    let list = s.get("/api/v1/projects").go().await.json();
    assert_eq!(list, json!([]));
}

both!(readiness_reports_each_check);
async fn readiness_reports_each_check(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    let res = s.call(s.http.get(s.url("/health/ready"))).go().await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.json();
    assert_eq!(h["status"], "ok");
    let names: Vec<&str> = h["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["database", "migrations"]);
    assert!(h["checks"][0]["latency_ms"].is_number());
    // Cached: the same result within 10 s.
    let again = s.call(s.http.get(s.url("/health/ready"))).go().await.json();
    assert_eq!(again["checked_at"], h["checked_at"]);
    let res = s.call(s.http.get(s.url("/health/startup"))).go().await;
    assert_eq!(res.status(), StatusCode::OK);
}

both!(over_a_rate_limit_the_answer_is_429_with_retry_after);
async fn over_a_rate_limit_the_answer_is_429_with_retry_after(b: Backend) {
    let mut settings = taskman_api::Settings::default();
    settings.rate_limit.reads_per_minute = 5;
    settings.rate_limit.writes_per_minute = 2;
    let Some(s) = Server::start_with(b, settings).await else {
        return;
    };
    for i in 0..2 {
        let res = s
            .post("/api/v1/projects", json!({"name": format!("p{i}")}))
            .go()
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(res.headers()["ratelimit-limit"], "2");
        assert_eq!(
            res.headers()["ratelimit-remaining"],
            (1 - i).to_string().as_str()
        );
    }
    // Writes are used up; reads are counted apart and still go through.
    let res = s.post("/api/v1/projects", json!({"name": "p2"})).go().await;
    let (status, body) = problem(&res);
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(body["detail"].as_str().unwrap().contains("writes"));
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(res.headers()["ratelimit-remaining"], "0");
    assert_eq!(
        s.get("/api/v1/projects")
            .go()
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2,
        "the refused write made nothing"
    );
    for _ in 0..4 {
        assert_eq!(
            s.get("/api/v1/projects").go().await.status(),
            StatusCode::OK
        );
    }
    let res = s.get("/api/v1/projects").go().await;
    assert_eq!(problem(&res).0, StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    // Probes are never limited.
    let res = s.call(s.http.get(s.url("/health/live"))).go().await;
    assert_eq!(res.status(), StatusCode::OK);
}

both!(a_client_address_has_its_own_limit);
async fn a_client_address_has_its_own_limit(b: Backend) {
    let mut settings = taskman_api::Settings::default();
    settings.rate_limit.per_address_per_minute = 4;
    let Some(s) = Server::start_with(b, settings).await else {
        return;
    };
    // Starting, the test client read the OpenAPI document: one of the four. Unauthenticated
    // requests count too.
    for _ in 0..3 {
        let res = s.call(s.http.get(s.url("/api/v1/projects"))).go().await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = s.get("/api/v1/projects").go().await;
    assert_eq!(problem(&res).0, StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    assert!(res.headers().contains_key("x-request-id"));
}

both!(metrics_count_requests_by_route_and_what_the_service_does);
async fn metrics_count_requests_by_route_and_what_the_service_does(b: Backend) {
    let Some(s) = Server::start(b).await else {
        return;
    };
    let p = s.project("p").await;
    let t = s.task(p, json!({"title": "measure me"})).await;
    let res = s
        .post(
            &format!("/api/v1/tasks/{t}/transitions"),
            json!({"action": "complete"}),
        )
        .go()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = s.call(s.http.get(s.url("/metrics"))).go().await;
    assert_eq!(res.status(), StatusCode::OK, "no key needed");
    let text = res.text();
    let has = |needle: &str| {
        assert!(
            text.lines().any(|l| l.contains(needle)),
            "{needle} missing in:\n{text}"
        )
    };
    // Requests by matched route (the template, not the id), method and status.
    has(r#"http_requests_total{method="POST",route="/api/v1/projects/{id}/tasks",status="201"}"#);
    has(r#"route="/api/v1/tasks/{id}/transitions",status="200""#);
    has("http_request_duration_seconds_bucket{");
    has("http_requests_in_flight");
    has("taskman_tasks_created_total");
    has("taskman_tasks_completed_total");
    has(r#"taskman_task_status_transitions_total{from="todo",to="done"}"#);
    has(r#"taskman_db_pool_connections{state="open"}"#);
    let done = format!(r#"taskman_tasks{{project="{p}",status="done"}} 1"#);
    has(&done);
}
