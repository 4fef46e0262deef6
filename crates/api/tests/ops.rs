//! Operations over real HTTP, where a test needs more than a server on a fresh database:
//! the database taken away and given back under a running server, shutdown with a request
//! in flight, proxies and their `X-Forwarded-For`, configured limits.

#[macro_use]
#[allow(dead_code)] // Each test binary uses part of the shared support.
mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use support::{Backend, Server};
use taskman_store::Location;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A TCP proxy on 127.0.0.1 in front of the PostgreSQL server. While "down" it closes
/// every connection it carries and every new one as soon as it is accepted, as a database
/// that went away would; "up" again, it forwards new connections. With a delay set, each
/// piece of the server's answers waits that long before it is passed on (a slow database).
struct DbProxy {
    addr: SocketAddr,
    up: watch::Sender<bool>,
    delay: watch::Sender<Duration>,
}

impl DbProxy {
    /// Listen at once (so the store can be pointed here) and forward to `upstream`.
    fn start(upstream: String) -> Arc<DbProxy> {
        let std = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std.set_nonblocking(true).unwrap();
        let listener = TcpListener::from_std(std).unwrap();
        let (up, _) = watch::channel(true);
        let (delay, _) = watch::channel(Duration::ZERO);
        let proxy = Arc::new(DbProxy {
            addr: listener.local_addr().unwrap(),
            up,
            delay,
        });
        let p = proxy.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if !*p.up.borrow() {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let mut up = p.up.subscribe();
                let delay = p.delay.subscribe();
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (mut from_client, mut to_client) = client.into_split();
                    let (mut from_server, mut to_server) = server.into_split();
                    // As `copy_bidirectional`: the client's end of sending does not end
                    // the server's answers.
                    let requests = async {
                        let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
                        let _ = to_server.shutdown().await;
                        std::future::pending::<()>().await
                    };
                    let answers = async {
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = match from_server.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            let wait = *delay.borrow();
                            if !wait.is_zero() {
                                tokio::time::sleep(wait).await;
                            }
                            if to_client.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    };
                    tokio::select! {
                        () = requests => {}
                        () = answers => {}
                        _ = up.wait_for(|up| !*up) => {}
                    }
                    // Dropping both ends closes them: the pool's connection is gone.
                });
            }
        });
        proxy
    }

    fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }

    fn set_delay(&self, delay: Duration) {
        self.delay.send_replace(delay);
    }
}

/// `host:port` of a `postgres://` URL (5432 when the URL names none).
fn host_and_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    assert!(
        !host.is_empty(),
        "the PostgreSQL test URL must name a TCP host to proxy: {url}"
    );
    if host.contains(':') && !host.ends_with(']') {
        host.to_string()
    } else {
        format!("{host}:5432")
    }
}

/// `url` with its `host:port` replaced by `addr`.
fn through(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let user = authority.rsplit_once('@').map(|(u, _)| format!("{u}@"));
    format!("{scheme}://{}{addr}{tail}", user.unwrap_or_default())
}

#[test]
fn proxy_urls_keep_everything_but_the_address() {
    let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
    assert_eq!(
        host_and_port("postgres://postgres@127.0.0.1:5432/db"),
        "127.0.0.1:5432"
    );
    assert_eq!(
        host_and_port("postgres://u:p@db.example/x?a=b"),
        "db.example:5432"
    );
    assert_eq!(
        through("postgres://u:p@db.example/x?sslmode=disable", addr),
        "postgres://u:p@127.0.0.1:9/x?sslmode=disable"
    );
    assert_eq!(
        through("postgres://127.0.0.1:5432/db", addr),
        "postgres://127.0.0.1:9/db"
    );
}

/// Readiness follows the database: 200 `ok`, 503 naming the `database` check while the
/// database cannot be reached, 200 `ok` again once it can, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_is_degraded_when_the_database_is_slow_503_when_it_goes_and_200_when_it_returns()
{
    let mut settings = taskman_api::Settings::default();
    // Every probe checks the database (the production default reuses an answer for 10 s).
    settings.health.ready_cache_secs = 0;
    let mut proxy = None;
    let Some(s) = Server::start_through(Backend::Postgres, settings, |location| {
        let Location::Postgres(url) = location else {
            unreachable!("a PostgreSQL server")
        };
        let p = DbProxy::start(host_and_port(&url));
        let url = through(&url, p.addr);
        proxy = Some(p);
        Location::Postgres(url)
    })
    .await
    else {
        return;
    };
    let proxy = proxy.unwrap();
    let ready = || s.call(s.http.get(s.url("/health/ready"))).go();

    let res = ready().await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["status"], "ok");

    // A slow database (over 1 s, under the 5 s limit): still ready, but `degraded`, with
    // the database check's latency showing why.
    proxy.set_delay(Duration::from_millis(1200));
    let res = ready().await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text());
    let h = res.json();
    assert_eq!(h["status"], "degraded", "{h}");
    assert_eq!(h["checks"][0]["name"], "database");
    assert_eq!(h["checks"][0]["status"], "degraded", "{h}");
    assert!(
        h["checks"][0]["latency_ms"].as_f64().unwrap() > 1000.0,
        "{h}"
    );
    proxy.set_delay(Duration::ZERO);
    let res = ready().await;
    assert_eq!(res.json()["status"], "ok", "{}", res.text());

    proxy.set_up(false);
    let res = ready().await;
    assert_eq!(
        res.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        res.text()
    );
    // Documented (and checked against the document by `go`): the readiness JSON, not a
    // problem, naming the check that failed.
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let h = res.json();
    assert_eq!(h["status"], "down");
    assert_eq!(h["backend"], "postgres");
    assert_eq!(h["checks"][0]["name"], "database");
    assert_eq!(h["checks"][0]["status"], "down");
    assert!(h["checks"][0]["detail"].is_string(), "{h}");
    // API calls fail too, as a 5xx problem rather than a hang.
    let res = s.get("/api/v1/projects").go().await;
    assert!(res.status().is_server_error(), "{}", res.text());

    proxy.set_up(true);
    let res = ready().await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text());
    let h = res.json();
    assert_eq!(h["status"], "ok");
    let checks: Vec<(&str, &str)> = h["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(checks, vec![("database", "ok"), ("migrations", "ok")]);
    let res = s.get("/api/v1/projects").go().await;
    assert_eq!(res.status(), StatusCode::OK, "the pool reconnected");
}

/// Read an HTTP/1.1 answer from `tcp` up to the end of its head (and whatever came with it).
async fn read_head(tcp: &mut TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Shutdown stops new connections at once and lets the request in flight finish with its
/// normal answer (`serve_with`, as `taskman serve` uses it on SIGTERM).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_request_in_flight_and_refuses_new_connections() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let location = Location::Sqlite(dir.path().join("shutdown.db"));
    let store = Arc::new(
        taskman_store::Store::open(&location, taskman_store::Options::default())
            .await
            .unwrap(),
    );
    taskman_api::bootstrap(&store, Some(support::ADMIN))
        .await
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(taskman_api::serve_with(
        listener,
        store.clone(),
        taskman_api::Settings::default(),
        async move {
            let _ = stopped.await;
        },
    ));

    // A create whose body is sent only after shutdown has begun. `Expect: 100-continue`
    // makes the server say when the handler starts reading the body: from then on the
    // request is in flight.
    let body = r#"{"name": "made during shutdown"}"#;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/projects HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        support::ADMIN,
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let interim = read_head(&mut tcp).await;
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");

    stop.send(()).unwrap();
    // The listener closes: new connections are refused (it happens when the server's task
    // next runs, so wait for it rather than assume it).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect(addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            // The listener closed during this handshake: look again.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                assert!(tokio::time::Instant::now() < deadline, "{e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("connecting after shutdown began: {e}"),
            Ok(_) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "still accepting connections 10 s after shutdown began"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    assert!(!server.is_finished(), "a request is still in flight");

    // The request in flight gets its normal answer.
    tcp.write_all(body.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer))
        .await
        .expect("the answer within 10 s")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let json = answer.split_once("\r\n\r\n").unwrap().1;
    let project: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(project["name"], "made during shutdown");

    // With nothing left in flight the server stops by itself, long before the grace ends,
    // and the change is in the database.
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops once the request is answered")
        .unwrap()
        .unwrap();
    let projects = store.list_projects().await.unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].name, "made during shutdown");
    assert!(TcpStream::connect(addr).await.is_err());
}

/// `GET /api/v1/projects` with this `X-Forwarded-For`.
async fn get_from(s: &Server, xff: &str) -> support::Resp {
    s.call(
        s.http
            .get(s.url("/api/v1/projects"))
            .bearer_auth(support::ADMIN)
            .header("x-forwarded-for", xff),
    )
    .go()
    .await
}

/// Behind a trusted proxy the per-address limit counts each client named by
/// `X-Forwarded-For`; from any other peer the header is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_count_apart_only_from_a_trusted_proxy() {
    let mut settings = taskman_api::Settings::default();
    settings.rate_limit.per_address_per_minute = 2;
    settings.http.trusted_proxies = vec!["127.0.0.1".into()];
    let s = Server::start_with(Backend::Sqlite, settings.clone())
        .await
        .unwrap();
    // The test client (127.0.0.1, the proxy) used one of its own two requests to read the
    // OpenAPI document; the clients behind it have two each.
    for _ in 0..2 {
        let res = get_from(&s, "203.0.113.7").await;
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text());
    }
    let res = get_from(&s, "203.0.113.7").await;
    assert_eq!(support::problem(&res).0, StatusCode::TOO_MANY_REQUESTS);
    // The client cannot pick a new budget by writing an address of its own on the left.
    let res = get_from(&s, "198.51.100.99, 203.0.113.7").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy has its own budget, also through a second
    // trusted hop.
    let res = get_from(&s, "203.0.113.8").await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text());
    let res = get_from(&s, "203.0.113.8, 127.0.0.1").await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text());

    // Not trusted: every request from 127.0.0.1 shares one budget whatever the header says.
    settings.http.trusted_proxies = Vec::new();
    let s = Server::start_with(Backend::Sqlite, settings).await.unwrap();
    let res = get_from(&s, "203.0.113.7").await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text());
    let res = get_from(&s, "203.0.113.8").await;
    assert_eq!(support::problem(&res).0, StatusCode::TOO_MANY_REQUESTS);
}

/// The configured body limit holds everywhere a body is read, and the 413 names it: a
/// JSON POST, the same with an `Idempotency-Key` (its body is read before the handler),
/// and an idempotent POST between the default limit and a larger configured one goes
/// through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_body_limit_is_applied_and_named() {
    let project = |description_bytes: usize| serde_json::json!({"name": "big", "description": "x".repeat(description_bytes)});
    let mut settings = taskman_api::Settings::default();
    settings.http.body_limit_bytes = 1024;
    let s = Server::start_with(Backend::Sqlite, settings).await.unwrap();
    let res = s.post("/api/v1/projects", project(2000)).go().await;
    let (status, body) = support::problem(&res);
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["detail"], "the body is over the limit of 1024 bytes");
    let res = s
        .post("/api/v1/projects", project(2000))
        .header("idempotency-key", "big-1")
        .go()
        .await;
    let (status, body) = support::problem(&res);
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["detail"], "the body is over the limit of 1024 bytes");
    let res = s.post("/api/v1/projects", project(500)).go().await;
    assert_eq!(res.status(), StatusCode::CREATED, "under the limit");

    let mut settings = taskman_api::Settings::default();
    settings.http.body_limit_bytes = 4 * 1024 * 1024;
    let s = Server::start_with(Backend::Sqlite, settings).await.unwrap();
    let over_default = taskman_api::BODY_LIMIT + 1024;
    let res = s
        .post("/api/v1/projects", project(over_default))
        .header("idempotency-key", "big-2")
        .go()
        .await;
    assert_ne!(
        res.status(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        res.text()
    );
    let res = s
        .post("/api/v1/projects", project(5 * 1024 * 1024))
        .header("idempotency-key", "big-3")
        .go()
        .await;
    let (status, body) = support::problem(&res);
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        body["detail"],
        "the body is over the limit of 4194304 bytes"
    );
}

/// `http_requests_in_flight` as /metrics reports it (the /metrics request counts itself).
async fn in_flight(s: &Server) -> f64 {
    let text = s
        .http
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("http_requests_in_flight "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no in-flight gauge in:\n{text}"))
}

/// Poll until the gauge reads `want` (other requests of the same process may pass by).
async fn wait_in_flight(s: &Server, want: f64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got = in_flight(s).await;
        if got == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "http_requests_in_flight stayed {got}, expected {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A client that goes away in the middle of its request body (a proxy's timeout, a closed
/// tab) leaves the in-flight gauge where it was and makes no change: the request counts
/// while it waits for the body and stops counting once the server gives up on it. (Work
/// dropped without an answer, as at the end of the shutdown grace, stops counting too: the
/// gauge is decremented by a guard, not by the answer.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_the_client_abandons_stops_counting_as_in_flight() {
    use tokio::io::AsyncWriteExt;
    let s = Server::start(Backend::Sqlite).await.unwrap();
    wait_in_flight(&s, 1.0).await;
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut tcp = TcpStream::connect(&addr).await.unwrap();
    // A create whose body never comes: the handler waits for it.
    let head = format!(
        "POST /api/v1/projects HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\":",
        support::ADMIN
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    wait_in_flight(&s, 2.0).await;
    drop(tcp);
    wait_in_flight(&s, 1.0).await;
    assert!(
        s.store.list_projects().await.unwrap().is_empty(),
        "the abandoned create made nothing"
    );
}
