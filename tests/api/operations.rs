//! Running the service: metrics, graceful shutdown of the real binary, database outages against
//! a PostgreSQL this test owns, readiness, persisted queries, the OpenAPI document and trusted
//! forwarded headers.

use std::time::{Duration, Instant};

use chrono::Utc;
use orb_server::config::{RateLimitSettings, Settings};
use orb_server::{Application, StartOptions};
use orb_tests::process::{OrbProcess, OwnedPostgres};
use orb_tests::{TestDatabase, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use secrecy::SecretString;
use serde_json::{Value, json};

const PAPER: &str = "mutation Paper($id: ID!, $forms: [PaperFormInput!]!) {
    enterPaperForms(administrationId: $id, forms: $forms, allOrNothing: true) { stored refused { index } }
}";

/// A client of a service at `address` (the binary, or an in-process one).
struct Client {
    address: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl Client {
    fn new(address: &str) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("an HTTP client");
        Self { address: address.to_owned(), http, token: None }
    }

    async fn sign_in(&mut self, email: &str) {
        let body = json!({ "email": email, "password": orb_tests::DEMO_PASSWORD });
        let response =
            self.http.post(format!("{}/auth/login", self.address)).json(&body).send().await.expect("answers");
        assert_eq!(response.status(), StatusCode::OK, "{email} signs in");
        let body: Value = response.json().await.expect("json");
        self.token = body["access_token"].as_str().map(str::to_owned);
    }

    async fn graphql(&self, query: &str, variables: Value) -> Result<(StatusCode, Value), reqwest::Error> {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        Ok((status, response.json().await?))
    }

    async fn ok(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.graphql(query, variables).await.expect("the service answers");
        assert!(status == StatusCode::OK && body["errors"].is_null(), "expected success, got {status} {body}");
        body["data"].clone()
    }

    /// As the lead of `slug`: creates and opens a wave of the state instrument; returns its id.
    async fn open_wave(&self, county_id: &str) -> String {
        let instruments =
            self.ok("{ instruments(owner: { state: true }) { key latestPublished { id } } }", json!({})).await;
        let version = orb_tests::state_instrument_version(&instruments);
        let input = json!({
            "countyId": county_id,
            "instrumentVersionId": version,
            "title": "Operations wave",
            "opensAt": (Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
            "closesAt": (Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
            "perspectives": ["SUPERVISOR", "SOCIAL_WORKER", "MANAGER"],
            "anonymity": "ANONYMOUS",
            "minGroupSize": 5,
        });
        let created = self
            .ok(
                "mutation($input: CreateAdministrationInput!) { createAdministration(input: $input) { id } }",
                json!({ "input": input }),
            )
            .await;
        let id = created["createAdministration"]["id"].as_str().expect("an id").to_owned();
        self.ok("mutation($id: ID!) { openAdministration(id: $id) { status } }", json!({ "id": id })).await;
        id
    }
}

fn paper_batch(batch: usize, size: usize) -> Value {
    (0..size)
        .map(|i| {
            json!({
                "idempotencyKey": format!("burst-{batch:04}-{i}"),
                "response": { "answers": { "FIT1": 1 + (batch + i) % 5 }, "perspective": "SUPERVISOR" },
            })
        })
        .collect()
}

#[tokio::test]
async fn sigterm_lets_in_flight_submissions_finish_and_exits_zero() {
    let db = TestDatabase::clone_template().await;
    let settings = [
        ("ORB_WORKERS", "2".to_owned()),
        ("ORB_DATABASE_POOL_SIZE", "6".to_owned()),
        ("ORB_SHUTDOWN_GRACE_SECONDS", "25".to_owned()),
        ("ORB_RATE_LIMITS__LOGIN_PER_MINUTE", "1000".to_owned()),
    ];
    let mut child = OrbProcess::start(&db.url(), &settings).await;
    let address = child.address.clone();

    let mut lead = Client::new(&address);
    lead.sign_in("lead@kings.demo.orb").await;
    let county = db.scalar_text("SELECT id::text FROM counties WHERE slug = 'kings'").await;
    let administration = lead.open_wave(&county).await;

    // A burst of batches of three paper forms, each batch one request and one transaction.
    const BATCHES: usize = 80;
    const SIZE: usize = 3;
    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
    let lead = std::sync::Arc::new(lead);
    let mut burst = Vec::new();
    for batch in 0..BATCHES {
        let lead = lead.clone();
        let id = administration.clone();
        let acked = acked_tx.clone();
        burst.push(tokio::spawn(async move {
            let answered = lead.graphql(PAPER, json!({ "id": id, "forms": paper_batch(batch, SIZE) })).await;
            let stored = match &answered {
                Ok((status, body)) if *status == StatusCode::OK => {
                    body["data"]["enterPaperForms"]["stored"].as_array().map(Vec::len) == Some(SIZE)
                }
                _ => false,
            };
            if stored {
                let _ = acked.send(batch);
            }
            (batch, stored)
        }));
    }
    drop(acked_tx);
    // SIGTERM once the first few are acknowledged: the rest are in flight or queued.
    for _ in 0..3 {
        acked_rx.recv().await.expect("some batches are acknowledged before the signal");
    }
    child.signal("TERM");
    let status = child.wait(Duration::from_secs(40)).await;
    let log = child.log();
    assert!(status.is_some_and(|s| s.success()), "orb exits 0 after SIGTERM, got {status:?}:\n{log}");

    let mut acknowledged = Vec::new();
    for task in burst {
        let (batch, stored) = task.await.expect("the request task ends");
        if stored {
            acknowledged.push(batch);
        }
    }
    assert!(acknowledged.len() >= 3, "batches were acknowledged: {acknowledged:?}");

    // Every acknowledged batch is stored whole; no batch is stored in part.
    let rows = db
        .owner()
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT split_part(submit_key, '-', 2)::int AS batch, count(*) AS forms, \
                        count(*) FILTER (WHERE status = 'submitted' AND answers ? 'FIT1') AS complete \
                 FROM responses WHERE administration_id = '{administration}' AND submit_key LIKE 'burst-%' \
                 GROUP BY 1 ORDER BY 1"
            ),
        ))
        .await
        .expect("the count runs");
    let mut stored = std::collections::BTreeMap::new();
    for row in rows {
        let batch: i32 = row.try_get("", "batch").expect("batch");
        let forms: i64 = row.try_get("", "forms").expect("forms");
        let complete: i64 = row.try_get("", "complete").expect("complete");
        assert_eq!((forms, complete), (SIZE as i64, SIZE as i64), "batch {batch} is stored whole");
        stored.insert(batch as usize, forms);
    }
    for batch in &acknowledged {
        assert!(stored.contains_key(batch), "acknowledged batch {batch} is stored");
    }
    assert!(stored.len() >= acknowledged.len());
    eprintln!(
        "shutdown burst: {} of {BATCHES} batches acknowledged, {} stored (a batch may commit while its answer is lost)",
        acknowledged.len(),
        stored.len()
    );
}

#[tokio::test]
async fn metrics_count_requests_operations_errors_pool_and_submissions() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let mut client = Client::new(&app.address);
    client.token = lead.access_token.clone();
    let administration = client.open_wave(&app.county_id("kings").await).await;
    client.ok(PAPER, json!({ "id": administration, "forms": paper_batch(1, 2) })).await;
    app.anonymous().graphql("{ __typename }", json!({})).await.ok();
    app.anonymous().graphql("query Probe { __typename }", json!({})).await.ok();
    app.anonymous().graphql("{ nope }", json!({})).await.expect_code("BAD_USER_INPUT");
    let _ = app.get(&format!("/exports/administrations/{administration}/responses.csv")).await;

    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"].to_str().expect("text").starts_with("text/plain"),
        "Prometheus text format"
    );
    let text = response.text().await.expect("a body");
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
            .unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
    };
    assert!(value(r#"orb_http_requests_total{method="POST",route="/graphql",status="200"}"#) >= 5.0);
    assert!(value(r#"orb_http_requests_total{method="POST",route="/auth/login",status="200"}"#) >= 1.0);
    assert!(
        value(
            r#"orb_http_requests_total{method="GET",route="/exports/administrations/{id}/responses.csv",status="401"}"#
        ) >= 1.0,
        "routes are labelled by pattern, never by the raw path"
    );
    assert!(!text.contains(&administration), "no raw path or id appears in a label");
    assert!(value(r#"orb_http_request_duration_seconds_count{method="POST",route="/graphql",status="200"}"#) >= 5.0);
    assert_eq!(value(r#"orb_graphql_operations_total{operation="Paper"}"#), 1.0);
    assert_eq!(value(r#"orb_graphql_operations_total{operation="Probe"}"#), 1.0);
    assert!(value(r#"orb_graphql_operations_total{operation="anonymous"}"#) >= 2.0);
    assert!(value(r#"orb_graphql_operation_duration_seconds_count{operation="Paper"}"#) >= 1.0);
    assert!(value(r#"orb_graphql_errors_total{code="BAD_USER_INPUT"}"#) >= 1.0);
    assert_eq!(value(r#"orb_submissions_accepted_total{kind="paper_form"}"#), 2.0);
    assert_eq!(value(r#"orb_submissions_accepted_total{kind="response"}"#), 0.0);
    assert_eq!(value("orb_db_pool_max_connections"), f64::from(app.settings.database_pool_size));
    assert!(value(r#"orb_db_pool_connections{state="idle"}"#) >= 1.0);
    assert!(value(r#"orb_db_pool_connections{state="in_use"}"#) >= 0.0);

    // The shipped Grafana dashboard only uses metrics the service exports.
    let dashboard = include_str!("../../deploy/grafana/orb-dashboard.json");
    let mut used = std::collections::BTreeSet::new();
    for (at, _) in dashboard.match_indices("orb_") {
        let name: String =
            dashboard[at..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit()).collect();
        used.insert(name.trim_end_matches("_bucket").to_owned());
    }
    assert!(used.len() >= 5, "{used:?}");
    for name in used {
        assert!(text.contains(&format!("# TYPE {name} ")), "the dashboard's {name} is exported");
    }
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let app = spawn_app_with(|s| s.metrics_enabled = false).await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_database_outage_fails_fast_and_the_service_recovers_by_itself() {
    let postgres = OwnedPostgres::create();
    let settings = Settings {
        bind: "127.0.0.1:0".into(),
        database_url: SecretString::from(postgres.url("orb")),
        workers: 1,
        database_pool_size: 4,
        database_acquire_timeout_ms: 1_000,
        rate_limits: RateLimitSettings { login_per_minute: 10_000, code_exchange_per_minute: 10_000 },
        ..Settings::default()
    };
    let acquire = Duration::from_millis(settings.database_acquire_timeout_ms);
    let app = Application::build(settings, StartOptions { migrate: true, demo: false }).await.expect("orb starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let client = Client::new(&address);
    let ready = || async { client.http.get(format!("{address}/readyz")).send().await.expect("answers") };
    assert_eq!(ready().await.status(), StatusCode::OK);
    client.ok("{ __typename }", json!({})).await;

    postgres.stop();
    let response = ready().await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.json::<Value>().await.expect("json")["status"], "database unavailable");
    for _ in 0..3 {
        let started = Instant::now();
        let (status, body) = client.graphql("{ __typename }", json!({})).await.expect("the service answers");
        let took = started.elapsed();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE", "{body}");
        assert!(took < acquire + Duration::from_secs(2), "failed fast: {took:?}");
    }
    let alive = client.http.get(format!("{address}/healthz")).send().await.expect("answers");
    assert_eq!(alive.status(), StatusCode::OK, "the process lives on");

    postgres.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready_again = ready().await.status() == StatusCode::OK;
        let answered = client.graphql("{ __typename }", json!({})).await.ok();
        if ready_again && answered.as_ref().is_some_and(|(s, b)| *s == StatusCode::OK && b["errors"].is_null()) {
            break;
        }
        assert!(Instant::now() < deadline, "orb did not recover: {answered:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    handle.stop(true).await;
}

#[tokio::test]
async fn readiness_reports_pending_migrations_distinctly() {
    // A database that exists but was never migrated (the runtime role exists cluster-wide).
    let db = TestDatabase::clone_template().await;
    let name = format!("orb_unmigrated_{}", uuid::Uuid::new_v4().simple());
    db.owner().execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("created");
    let mut url = url::Url::parse(&db.url()).expect("a URL");
    url.set_path(&name);
    let settings = Settings {
        bind: "127.0.0.1:0".into(),
        database_url: SecretString::from(url.to_string()),
        workers: 1,
        database_pool_size: 2,
        ..Settings::default()
    };
    let app = Application::build(settings, StartOptions { migrate: false, demo: false }).await.expect("orb starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let response = reqwest::get(format!("{address}/readyz")).await.expect("answers");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["status"], "migrations pending", "{body}");
    assert!(body["pending"].as_array().is_some_and(|p| !p.is_empty()), "{body}");
    handle.stop(true).await;
    db.owner().execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.expect("dropped");
}

#[tokio::test]
async fn automatic_persisted_queries_register_then_answer_by_hash() {
    let app = spawn_app().await;
    let query = "query Persisted { __typename }";
    let hash = {
        use sha2::Digest;
        sha2::Sha256::digest(query.as_bytes()).iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });

    let (status, unknown) = app.post_json("/graphql", json!({ "extensions": extensions })).await;
    assert_eq!(status, StatusCode::OK, "{unknown}");
    assert_eq!(unknown["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND", "{unknown}");
    assert_eq!(unknown["errors"][0]["message"], "PersistedQueryNotFound", "the message Apollo clients look for");

    let (_, registered) = app.post_json("/graphql", json!({ "query": query, "extensions": extensions })).await;
    assert_eq!(registered["data"]["__typename"], "Query", "{registered}");

    let (_, by_hash) = app.post_json("/graphql", json!({ "extensions": extensions })).await;
    assert_eq!(by_hash["data"]["__typename"], "Query", "{by_hash}");

    let wrong = json!({ "persistedQuery": { "version": 1, "sha256Hash": "0".repeat(64) } });
    let (_, mismatch) = app.post_json("/graphql", json!({ "query": query, "extensions": wrong })).await;
    assert!(mismatch["data"].is_null() || mismatch["errors"].is_array(), "a query whose hash differs is refused");
}

async fn login_from(app: &orb_tests::TestApp, forwarded_for: &str) -> StatusCode {
    app.http()
        .post(format!("{}/auth/login", app.address))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "email": "nobody@example.org", "password": "wrong" }))
        .send()
        .await
        .expect("answers")
        .status()
}

#[tokio::test]
async fn forwarded_headers_count_only_from_a_trusted_proxy() {
    // Not trusted: the header is ignored; every attempt counts against the connection's address.
    let app = spawn_app_with(|s| s.rate_limits.login_per_minute = 2).await;
    assert_eq!(login_from(&app, "198.51.100.1").await, StatusCode::UNAUTHORIZED);
    assert_eq!(login_from(&app, "198.51.100.2").await, StatusCode::UNAUTHORIZED);
    assert_eq!(login_from(&app, "198.51.100.3").await, StatusCode::TOO_MANY_REQUESTS, "a spoofed header does not help");

    // Trusted (the tests connect from 127.0.0.1): two clients behind the proxy get their own limits.
    let app = spawn_app_with(|s| {
        s.rate_limits.login_per_minute = 2;
        s.trusted_proxies = vec!["127.0.0.0/8".into()];
    })
    .await;
    for _ in 0..2 {
        assert_eq!(login_from(&app, "203.0.113.7, 198.51.100.1").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login_from(&app, "198.51.100.1").await, StatusCode::TOO_MANY_REQUESTS, "the first client waits");
    assert_eq!(login_from(&app, "198.51.100.2").await, StatusCode::UNAUTHORIZED, "the second client does not");
    assert_eq!(
        login_from(&app, "198.51.100.1, 127.0.0.5").await,
        StatusCode::TOO_MANY_REQUESTS,
        "trusted hops on the right are skipped"
    );
}

/// Every `(METHOD, path)` that `startup.rs` registers: `web::resource("…")` followed by its
/// `.route(web::method()…)`s, or `.route("…", web::method()…)`.
pub(crate) fn registered_routes() -> std::collections::BTreeSet<(String, String)> {
    let source = include_str!("../../crates/server/src/startup.rs");
    let mut routes = std::collections::BTreeSet::new();
    let method_of = |after: &str| {
        let method = after.trim_start_matches([',', ' ', '\n']).strip_prefix("web::")?;
        Some(method.split('(').next().unwrap_or_default().to_uppercase())
    };
    const RESOURCE: &str = "web::resource(\"";
    const ROUTE: &str = ".route(";
    let (mut rest, mut resource) = (source, None);
    loop {
        let (resource_at, route_at) = (rest.find(RESOURCE), rest.find(ROUTE));
        match (resource_at, route_at) {
            (Some(r), t) if t.is_none_or(|t| r < t) => {
                rest = &rest[r + RESOURCE.len()..];
                resource = rest.split_once('"').map(|(path, _)| path.to_owned());
            }
            (_, Some(t)) => {
                rest = &rest[t + ROUTE.len()..];
                match rest.strip_prefix('"').and_then(|r| r.split_once('"')) {
                    Some((path, after)) => routes.extend(method_of(after).map(|m| (m, path.to_owned()))),
                    None => routes.extend(method_of(rest).zip(resource.clone())),
                }
            }
            _ => break,
        }
    }
    routes
}

#[tokio::test]
async fn the_openapi_document_lists_every_rest_route_the_server_registers() {
    let app = spawn_app().await;
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.expect("valid JSON");
    assert!(document["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "an OpenAPI 3 document");
    let mut documented = std::collections::BTreeSet::new();
    for (path, operations) in document["paths"].as_object().expect("paths") {
        for method in operations.as_object().expect("operations").keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let registered = registered_routes();
    assert!(registered.len() >= 12, "the routes are found in startup.rs: {registered:?}");
    assert_eq!(documented, registered, "documented routes = registered routes");
    // Every documented route answers something other than 404 (it is really served).
    for (method, path) in &registered {
        let url = format!("{}{}", app.address, path.replace("{id}", &uuid::Uuid::new_v4().to_string()));
        let request = if method == "GET" { app.http().get(url) } else { app.http().post(url).json(&json!({})) };
        let status = request.send().await.expect("answers").status();
        assert_ne!(status, StatusCode::NOT_FOUND, "{method} {path} is served");
    }
}

/// A stand-in OpenTelemetry collector: answers every request 200 and hands over what was sent
/// (request line and headers, then the body).
async fn fake_collector() -> (u16, tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("an address").port();
    let (sent, received) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let sent = sent.clone();
            tokio::spawn(async move {
                let mut bytes = Vec::new();
                let mut buffer = [0u8; 8192];
                // Read the head, then as much body as Content-Length says.
                loop {
                    let Ok(n) = stream.read(&mut buffer).await else { return };
                    if n == 0 {
                        return;
                    }
                    bytes.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&bytes).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let head = text[..end].to_owned();
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                            })
                            .and_then(|v| v.parse::<usize>().ok())
                            .unwrap_or(0);
                        if bytes.len() >= end + 4 + length {
                            let body = bytes[end + 4..end + 4 + length].to_vec();
                            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
                            let _ = sent.send((head, body));
                            bytes.clear();
                        }
                    }
                }
            });
        }
    });
    (port, received)
}

#[tokio::test]
async fn traces_go_to_the_configured_otlp_endpoint_and_are_flushed_on_shutdown() {
    let db = TestDatabase::clone_template().await;
    let (collector, mut received) = fake_collector().await;
    let settings = [
        ("ORB_WORKERS", "1".to_owned()),
        ("ORB_OTLP_TRACES_ENDPOINT", format!("http://127.0.0.1:{collector}/v1/traces")),
    ];
    let mut child = OrbProcess::start(&db.url(), &settings).await;
    let address = child.address.clone();
    // From an untrusted peer, a forwarded address is not believed in traces either.
    let answered = reqwest::Client::new()
        .post(format!("{address}/graphql"))
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({ "query": "query Traced { __typename }" }))
        .send()
        .await
        .expect("answers");
    assert_eq!(answered.status(), StatusCode::OK);
    // The batch goes out on its schedule or, at the latest, when orb stops.
    child.signal("TERM");
    assert_eq!(child.wait(Duration::from_secs(20)).await.map(|s| s.success()), Some(true), "{}", child.log());
    let (head, body) = tokio::time::timeout(Duration::from_secs(5), received.recv())
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("no trace reached the collector:\n{}", child.log()));
    assert!(head.starts_with("POST /v1/traces "), "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: application/x-protobuf"), "{head}");
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("service.name") && body.contains("orb"), "the spans say where they come from");
    assert!(body.contains("http.client_ip") && body.contains("127.0.0.1"), "the request span names its client");
    assert!(!body.contains("203.0.113.9"), "a spoofed X-Forwarded-For stays out of the trace");
}
