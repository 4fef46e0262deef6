//! The test server and client: a real server on 127.0.0.1:0 over a fresh SQLite or
//! PostgreSQL database, and a client that checks every response against the OpenAPI
//! document the server serves (documented status, media type, headers and body schema).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reqwest::header::HeaderMap;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use taskman_store::{Location, Options, Store};
use taskman_testkit::PgDatabase;

pub const ADMIN: &str = "tm_0a1b2c3d_0123456789abcdef0123";

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Run a test body once per backend: `both!(name)` makes `name::sqlite` and
/// `name::postgres` from `async fn name(b: Backend)`.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::support::Backend::Postgres).await
            }
        }
    };
}

pub struct Server {
    pub base: String,
    pub store: Arc<Store>,
    pub http: Client,
    contract: Arc<Contract>,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

impl Server {
    /// A server on `backend`, or `None` (with a notice) when PostgreSQL is not configured
    /// for tests; with `TASKMAN_REQUIRE_POSTGRES=1` that is a failure instead.
    pub async fn start(backend: Backend) -> Option<Server> {
        Server::start_with(backend, taskman_api::Settings::default()).await
    }

    /// A server with these settings.
    pub async fn start_with(backend: Backend, settings: taskman_api::Settings) -> Option<Server> {
        Server::start_through(backend, settings, |location| location).await
    }

    /// A server whose store opens `through(location)` rather than the test's database
    /// itself: a test puts a proxy between the server and PostgreSQL this way.
    #[allow(dead_code)] // Called directly by tests/ops.rs only.
    pub async fn start_through(
        backend: Backend,
        settings: taskman_api::Settings,
        through: impl FnOnce(Location) -> Location,
    ) -> Option<Server> {
        let dir = tempfile::tempdir().unwrap();
        let (location, pg) = match backend {
            Backend::Sqlite => (Location::Sqlite(dir.path().join("api.db")), None),
            Backend::Postgres => {
                let pg = PgDatabase::create("api")?;
                (Location::Postgres(pg.url().to_string()), Some(pg))
            }
        };
        let location = through(location);
        let store = Arc::new(Store::open(&location, Options::default()).await.unwrap());
        let key = taskman_api::bootstrap(&store, Some(ADMIN)).await.unwrap();
        assert_eq!(key.as_deref(), Some(ADMIN));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(taskman_api::serve_with(
            listener,
            store.clone(),
            settings,
            std::future::pending(),
        ));
        let http = Client::new();
        // The document the server serves, without a key, is the one every answer is
        // checked against.
        let res = http
            .get(format!("{base}{}", taskman_api::OPENAPI_PATH))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let doc: Value = res.json().await.unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        Some(Server {
            base,
            store,
            http,
            contract: Arc::new(Contract::new(doc)),
            _dir: dir,
            _pg: pg,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.call(self.http.get(self.url(path)).bearer_auth(ADMIN))
    }

    pub fn post(&self, path: &str, body: Value) -> Call<'_> {
        self.call(
            self.http
                .post(self.url(path))
                .bearer_auth(ADMIN)
                .json(&body),
        )
    }

    /// A POST with a body as given (not JSON-encoded) and its media type.
    pub fn post_raw(&self, path: &str, media: &str, body: impl Into<reqwest::Body>) -> Call<'_> {
        self.call(
            self.http
                .post(self.url(path))
                .bearer_auth(ADMIN)
                .header("content-type", media)
                .body(body),
        )
    }

    pub fn patch(&self, path: &str, body: Value) -> Call<'_> {
        self.call(
            self.http
                .patch(self.url(path))
                .bearer_auth(ADMIN)
                .json(&body),
        )
    }

    pub fn put(&self, path: &str) -> Call<'_> {
        self.call(self.http.put(self.url(path)).bearer_auth(ADMIN))
    }

    pub fn delete(&self, path: &str) -> Call<'_> {
        self.call(self.http.delete(self.url(path)).bearer_auth(ADMIN))
    }

    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    /// Any request, checked against the contract when sent.
    pub fn call(&self, req: reqwest::RequestBuilder) -> Call<'_> {
        Call { s: self, req }
    }

    /// A new project's id.
    pub async fn project(&self, name: &str) -> i64 {
        let res = self
            .post("/api/v1/projects", json!({ "name": name }))
            .go()
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text());
        res.json()["id"].as_i64().unwrap()
    }

    /// A new task's id.
    pub async fn task(&self, project: i64, body: Value) -> i64 {
        let res = self
            .post(&format!("/api/v1/projects/{project}/tasks"), body)
            .go()
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text());
        res.json()["id"].as_i64().unwrap()
    }
}

pub struct Call<'a> {
    s: &'a Server,
    req: reqwest::RequestBuilder,
}

impl Call<'_> {
    pub fn header(self, name: &str, value: &str) -> Self {
        Call {
            s: self.s,
            req: self.req.header(name, value),
        }
    }

    /// Send, read the whole answer, and check it against the OpenAPI document.
    pub async fn go(self) -> Resp {
        let req = self.req.build().unwrap();
        let method = req.method().as_str().to_ascii_lowercase();
        let path = req.url().path().to_string();
        let res = self.s.http.execute(req).await.unwrap();
        let resp = Resp {
            status: res.status(),
            headers: res.headers().clone(),
            body: res.bytes().await.unwrap().to_vec(),
        };
        self.s.contract.check(&method, &path, &resp);
        resp
    }
}

#[derive(Debug)]
pub struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    /// An answer made up by a test, to show the contract check refuses it.
    pub fn fake(status: u16, media: &str, body: &Value, etag: Option<&str>) -> Resp {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", media.parse().unwrap());
        if let Some(e) = etag {
            headers.insert("etag", e.parse().unwrap());
        }
        Resp {
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body: serde_json::to_vec(body).unwrap(),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn etag(&self) -> String {
        self.headers["etag"].to_str().unwrap().to_string()
    }
}

/// Status and body of a problem, checking its media type and members.
pub fn problem(res: &Resp) -> (StatusCode, Value) {
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "errors are RFC 9457 problems: {}",
        res.text()
    );
    let body = res.json();
    assert_eq!(body["status"], res.status().as_u16());
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
    (res.status(), body)
}

/// The OpenAPI document as a checker of answers.
pub struct Contract {
    doc: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl Contract {
    fn new(doc: Value) -> Contract {
        Contract {
            doc,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The documented path template matching a concrete path (`/api/v1/tasks/{id}`).
    fn template(&self, path: &str) -> Option<String> {
        let segs: Vec<&str> = path.split('/').collect();
        let paths = self.doc["paths"].as_object().unwrap();
        // Literal segments win over parameters (`/tasks/bulk` before `/tasks/{id}`).
        let mut best: Option<(usize, &String)> = None;
        for t in paths.keys() {
            let ts: Vec<&str> = t.split('/').collect();
            if ts.len() != segs.len() {
                continue;
            }
            let mut literal = 0;
            let fits = ts.iter().zip(&segs).all(|(a, b)| {
                if a.starts_with('{') {
                    true
                } else {
                    literal += 1;
                    a == b
                }
            });
            if fits && best.is_none_or(|(l, _)| literal > l) {
                best = Some((literal, t));
            }
        }
        best.map(|(_, t)| t.clone())
    }

    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let ptr = r.trim_start_matches('#');
                self.doc
                    .pointer(ptr)
                    .unwrap_or_else(|| panic!("dangling $ref {r}"))
            }
            None => v,
        }
    }

    pub fn check(&self, method: &str, path: &str, res: &Resp) {
        if path == taskman_api::OPENAPI_PATH || path.starts_with(taskman_api::DOCS_PATH) {
            return;
        }
        let Some(template) = self.template(path) else {
            // Unknown routes answer 404 with a problem; nothing else may be undocumented.
            assert_eq!(
                res.status,
                StatusCode::NOT_FOUND,
                "{method} {path} is not documented"
            );
            problem(res);
            return;
        };
        let op = &self.doc["paths"][&template][method];
        assert!(
            op.is_object(),
            "{method} {template} is not documented (status {})",
            res.status
        );
        let code = res.status.as_u16().to_string();
        let documented = op["responses"].get(&code).unwrap_or_else(|| {
            panic!(
                "{method} {template} answered {code}, which its operation does not document: {}",
                res.text()
            )
        });
        let documented = self.resolve(documented);
        if let Some(headers) = documented.get("headers").and_then(Value::as_object) {
            for h in headers.keys() {
                assert!(
                    res.headers.contains_key(h.to_ascii_lowercase().as_str()),
                    "{method} {template} {code} documents header {h}, not sent"
                );
            }
        }
        let Some(content) = documented.get("content").and_then(Value::as_object) else {
            assert!(
                res.body.is_empty(),
                "{method} {template} {code} documents no body but sent {}",
                res.text()
            );
            return;
        };
        let media = res
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap()
            .trim()
            .to_string();
        let Some(entry) = content.get(&media) else {
            panic!(
                "{method} {template} {code} sent {media:?}; documented: {:?}",
                content.keys().collect::<Vec<_>>()
            );
        };
        if !media.ends_with("json") {
            return;
        }
        let key = format!("{method} {template} {code} {media}");
        let validator = {
            let mut cache = self.validators.lock().unwrap();
            cache
                .entry(key.clone())
                .or_insert_with(|| {
                    let mut schema = entry["schema"].clone();
                    schema["components"] = self.doc["components"].clone();
                    Arc::new(
                        jsonschema::draft202012::new(&schema)
                            .unwrap_or_else(|e| panic!("schema of {key}: {e}")),
                    )
                })
                .clone()
        };
        let body: Value = serde_json::from_slice(&res.body)
            .unwrap_or_else(|e| panic!("{key}: body is not JSON ({e}): {}", res.text()));
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{key}: the body does not match the documented schema:\n{}\nbody: {body}",
            errors.join("\n")
        );
    }
}
