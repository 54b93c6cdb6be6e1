//! How the GraphQL endpoint protects itself and front ends: one operation per POST as JSON,
//! GraphiQL on GET, limits on size, depth and complexity, codes on every error, probes.

use orb_tests::{spawn_app, spawn_app_with};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

#[tokio::test]
async fn get_serves_graphiql_and_never_executes_an_operation() {
    let app = spawn_app().await;
    let before = app.db.snapshot().await;
    let mutation = "mutation { createCohort(input: { name: \"Sneaky\" }) { id } }";
    let response =
        app.http().get(format!("{}/graphql", app.address)).query(&[("query", mutation)]).send().await.expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.expect("a body");
    assert!(body.contains("graphiql"), "GET /graphql serves the GraphiQL page");
    assert_eq!(app.db.snapshot().await, before, "a GET never executes anything");
}

/// The `<script …>` tags of a page, as written.
fn script_tags(html: &str) -> Vec<&str> {
    html.match_indices("<script").filter_map(|(at, _)| html[at..].find('>').map(|end| &html[at..=at + end])).collect()
}

#[tokio::test]
async fn graphiql_loads_only_pinned_scripts_with_integrity_under_a_content_security_policy() {
    use base64::Engine as _;
    use sha2::Digest as _;
    // Found by an outside check: the page loaded floating versions (`react@18`, `graphiql@4`)
    // from a CDN with no integrity and no CSP, on the origin where users paste tokens.
    let app = spawn_app().await;
    let response = app.http().get(format!("{}/graphql", app.address)).send().await.expect("answers");
    assert_eq!(response.status(), StatusCode::OK, "development serves GraphiQL");
    let csp = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .expect("a Content-Security-Policy header")
        .to_owned();
    let html = response.text().await.expect("a body");
    let directive = |name: &str| {
        csp.split(';').map(str::trim).find(|d| d.starts_with(&format!("{name} "))).unwrap_or_default().to_owned()
    };
    let script_src = directive("script-src");
    assert!(!script_src.contains("'unsafe-inline'") && !script_src.contains("'unsafe-eval'"), "{csp}");
    assert_eq!(directive("connect-src"), "connect-src 'self'", "the page talks only to this origin: {csp}");
    assert_eq!(directive("frame-ancestors"), "frame-ancestors 'none'", "{csp}");
    let tags = script_tags(&html);
    assert!(tags.len() >= 3, "React, React DOM, GraphiQL and the page's own script: {html}");
    for tag in &tags {
        if let Some(src) = tag.split("src=\"").nth(1).and_then(|rest| rest.split('"').next()) {
            let version = src.split('@').nth(1).and_then(|v| v.split('/').next()).unwrap_or_default();
            assert_eq!(version.split('.').count(), 3, "{src} is an exact version");
            assert!(tag.contains("integrity=\"sha384-"), "{tag} has an integrity hash");
            assert!(script_src.contains("https://unpkg.com"), "{src} is allowed by the policy");
        } else {
            let start = html.find(tag).expect("the tag") + tag.len();
            let body = &html[start..start + html[start..].find("</script>").expect("closed")];
            let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(body.as_bytes()));
            assert!(script_src.contains(&format!("'sha256-{hash}'")), "the inline script is allowed by its hash");
        }
    }
    for link in html.match_indices("<link").map(|(at, _)| &html[at..at + html[at..].find('>').unwrap_or(0)]) {
        assert!(link.contains("integrity=\"sha384-"), "{link} has an integrity hash");
    }

    let off = spawn_app_with(|settings| settings.graphiql = Some(false)).await;
    let response = off.http().get(format!("{}/graphql", off.address)).send().await.expect("answers");
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "switched off (the production default), no page");
    let body = response.text().await.expect("a body");
    assert!(!body.contains("<script"), "{body}");
}

#[tokio::test]
async fn only_json_posts_are_executed() {
    let app = spawn_app().await;
    let before = app.db.snapshot().await;
    let response = app
        .http()
        .post(format!("{}/graphql", app.address))
        .header("content-type", "text/plain")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    assert_eq!(app.db.snapshot().await, before);
}

#[tokio::test]
async fn batched_operations_are_refused() {
    let app = spawn_app().await;
    let (status, body) =
        app.post_json("/graphql", json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let app = spawn_app_with(|s| s.body_limit_bytes = 64 * 1024).await;
    let padding = "x".repeat(200 * 1024);
    let (status, _) =
        app.post_json("/graphql", json!({ "query": "{ __typename }", "variables": { "pad": padding } })).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = app.post_json("/auth/login", json!({ "email": padding, "password": "x" })).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // The service keeps answering.
    let (status, body) = app.post_json("/graphql", json!({ "query": "{ __typename }" })).await;
    assert_eq!((status, body["data"]["__typename"].clone()), (StatusCode::OK, json!("Query")));
}

#[tokio::test]
async fn queries_past_the_depth_or_complexity_limit_are_refused_with_a_code() {
    let app = spawn_app_with(|s| {
        s.graphql.max_depth = 6;
        s.graphql.max_complexity = 500;
    })
    .await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let deep =
        "{ county(slug: \"los-angeles\") { units { edges { node { parent { parent { parent { name } } } } } } } }";
    let refused = faculty.graphql(deep, json!({})).await;
    refused.expect_code("BAD_USER_INPUT");
    assert!(refused.data().is_null(), "nothing is executed: {}", refused.body);

    let wide = "{ counties(first: 100) { edges { node { units(first: 100) { edges { node { name } } } } } } }";
    faculty.graphql(wide, json!({})).await.expect_code("BAD_USER_INPUT");

    let modest = "{ counties(first: 3) { edges { node { slug } } } }";
    assert_eq!(faculty.graphql(modest, json!({})).await.ok()["counties"]["edges"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn wrong_argument_types_and_unknown_fields_get_bad_user_input() {
    let app = spawn_app().await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    faculty
        .graphql("{ counties(first: \"many\") { edges { node { slug } } } }", json!({}))
        .await
        .expect_code("BAD_USER_INPUT");
    faculty.graphql("{ countiez { edges { node { slug } } } }", json!({})).await.expect_code("BAD_USER_INPUT");
    faculty.graphql("{ counties { ", json!({})).await.expect_code("BAD_USER_INPUT");
    faculty.graphql("{ orgUnit(id: \"not-an-id\") { name } }", json!({})).await.expect_code("BAD_USER_INPUT");
    let unknown =
        faculty.graphql("{ orgUnit(id: \"00000000-0000-7000-8000-000000000000\") { name } }", json!({})).await;
    unknown.expect_code("NOT_FOUND");
}

#[tokio::test]
async fn introspection_and_suggestions_can_be_turned_off() {
    let open = spawn_app().await;
    let probe = open.anonymous().graphql("{ __schema { queryType { name } } }", json!({})).await;
    assert_eq!(probe.ok()["__schema"]["queryType"]["name"], "Query");
    let suggestion = open.anonymous().graphql("{ countie { totalCount } }", json!({})).await;
    assert!(suggestion.body.to_string().contains("Did you mean"), "suggestions on by default: {}", suggestion.body);

    let closed = spawn_app_with(|s| {
        s.graphql.introspection = false;
        s.graphql.suggestions = false;
    })
    .await;
    let probe = closed.anonymous().graphql("{ __schema { queryType { name } } }", json!({})).await;
    assert_ne!(probe.data()["__schema"]["queryType"]["name"], "Query", "introspection is off: {}", probe.body);
    let suggestion = closed.anonymous().graphql("{ countie { totalCount } }", json!({})).await;
    assert!(!suggestion.body.to_string().contains("Did you mean"), "no suggestions: {}", suggestion.body);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_security_headers() {
    let app = spawn_app().await;
    let first = app.get("/healthz").await;
    let second = app.get("/healthz").await;
    let id = |r: &reqwest::Response| r.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert!(id(&first).is_some(), "x-request-id is returned");
    assert_ne!(id(&first), id(&second), "each request has its own id");
    assert_eq!(first.headers().get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"));
    assert_eq!(first.headers().get("x-frame-options").and_then(|v| v.to_str().ok()), Some("DENY"));
}

#[tokio::test]
async fn probes_report_liveness_and_readiness() {
    let app = spawn_app().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.expect("json");
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn readiness_fails_while_a_migration_is_pending() {
    let app = spawn_app().await;
    app.db
        .owner()
        .execute_unprepared("DELETE FROM seaql_migrations")
        .await
        .expect("the owner can forget the migrations");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = ready.json().await.expect("json");
    assert_eq!(body["status"], "migrations pending");
}

#[tokio::test]
async fn a_mutation_that_fails_leaves_the_request_s_other_mutations_standing() {
    let app = spawn_app().await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let response = faculty
        .graphql(
            "mutation { first: createCohort(input: { name: \"Cohort A\" }) { name } \
                        second: createCohort(input: { name: \"ORB Development Circle 2017–18\" }) { name } }",
            json!({}),
        )
        .await;
    assert_eq!(response.data()["first"]["name"], "Cohort A", "the first mutation is acknowledged");
    response.expect_code("CONFLICT");
    assert_eq!(app.count("cohorts WHERE name = 'Cohort A'").await, 1, "and stored");
    assert_eq!(app.count("audit_log WHERE action = 'cohort.create'").await, 2, "the demo's cohort and Cohort A only");
}

/// A request of one mutation writes without a savepoint (two round trips fewer); if its change
/// is not kept, nothing of the request may be committed. With more than one change, each after
/// the first is a savepoint of its own, as before.
#[tokio::test]
async fn one_mutation_writes_without_a_savepoint_and_an_unkept_change_undoes_the_whole_request() {
    let app = spawn_app().await;
    let store = app.runtime_store(2, std::time::Duration::from_secs(10)).await;
    let insert = |name: &str| format!("INSERT INTO cohorts (id, name) VALUES ('{}', '{name}')", uuid::Uuid::new_v4());

    let mut session = store.begin_system(Vec::new()).await.expect("session");
    session.expect_one_change();
    let change = session.change().await.expect("a change");
    change.db().execute_unprepared(&insert("Written, then refused")).await.expect("written");
    drop(change);
    assert!(session.spoiled(), "a direct change dropped unkept spoils the request");
    assert!(session.commit().await.is_err(), "a spoiled request is never committed");
    assert_eq!(app.count("cohorts WHERE name = 'Written, then refused'").await, 0, "and nothing of it stays");

    let mut session = store.begin_system(Vec::new()).await.expect("session");
    session.expect_one_change();
    let kept = session.change().await.expect("the direct change");
    kept.db().execute_unprepared(&insert("Kept")).await.expect("written");
    kept.commit().await.expect("kept");
    let undone = session.change().await.expect("a second change, in a savepoint");
    undone.db().execute_unprepared(&insert("Undone")).await.expect("written");
    drop(undone);
    assert!(!session.spoiled(), "a savepoint rolled back spoils nothing");
    session.commit().await.expect("committed");
    assert_eq!(app.count("cohorts WHERE name = 'Kept'").await, 1);
    assert_eq!(app.count("cohorts WHERE name = 'Undone'").await, 0);
}

#[tokio::test]
async fn a_slow_statement_is_cancelled_and_its_connection_returns_to_the_pool() {
    let app = spawn_app().await;
    let store = app.runtime_store(1, std::time::Duration::from_millis(200)).await;
    let session = store.begin(orb_store::Caller::Anonymous, None).await.expect("session");
    let slow = session.db().execute_unprepared("SELECT pg_sleep(5)").await;
    let err = orb_store::StoreError::from(slow.expect_err("statement_timeout cancels the sleep"));
    assert!(matches!(err, orb_store::StoreError::Timeout(_)), "a cancelled statement is a timeout: {err:?}");
    drop(session);
    let next = store.begin(orb_store::Caller::Anonymous, None).await.expect("the one connection is free again");
    next.db().execute_unprepared("SELECT 1").await.expect("and usable");
}

#[tokio::test]
async fn a_room_on_one_address_exchanges_its_codes_while_a_guesser_there_is_stopped() {
    // Found by an outside check: the limit counted every exchange, so a meeting of 60 people on
    // one venue Wi-Fi (one address) was throttled at the 31st. Only failed exchanges count now.
    let app = spawn_app_with(|s| s.rate_limits.code_exchange_per_minute = 5).await;
    let lead = app.sign_in("lead@calaveras.demo.orb").await;
    let instruments =
        lead.graphql("{ instruments(owner: { state: true }) { key latestPublished { id } } }", json!({})).await;
    let version = orb_tests::state_instrument_version(instruments.ok());
    let input = json!({
        "countyId": app.county_id("calaveras").await,
        "instrumentVersionId": version,
        "title": "All-hands meeting",
        "opensAt": (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
        "closesAt": (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
        "perspectives": ["SUPERVISOR"],
        "anonymity": "ANONYMOUS",
        "minGroupSize": 5,
    });
    let (_, codes) = lead.open_wave_with_codes(input, 60).await;
    let exchange = "mutation($code: String!) { startResponse(code: $code) { token } }";
    let room = app.anonymous();
    // A few people mistype first: misses below the budget do not stop anyone.
    for typo in ["0000-0000-0000-0000", "1111-1111-1111-1111", "not a code"] {
        let missed = room.graphql(exchange, json!({ "code": typo })).await;
        assert_ne!(missed.error_code().as_deref(), Some("RATE_LIMITED"), "{}", missed.body);
    }
    for code in &codes {
        let started = room.graphql(exchange, json!({ "code": code })).await;
        assert!(started.ok()["startResponse"]["token"].is_string(), "every valid code is exchanged: {}", started.body);
    }
    // A guesser on the same address: two more misses use up the budget of five…
    for guess in ["2222-2222-2222-2222", "3333-3333-3333-3333"] {
        let missed = room.graphql(exchange, json!({ "code": guess })).await;
        assert_ne!(missed.error_code().as_deref(), Some("RATE_LIMITED"), "{}", missed.body);
    }
    // …and the next attempt waits, whatever it holds: a guess is not even tried.
    for attempt in ["4444-4444-4444-4444", codes[0].as_str()] {
        let limited = room.graphql(exchange, json!({ "code": attempt })).await;
        assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{}", limited.body);
        limited.expect_code("RATE_LIMITED");
    }
    let attendee = room.graphql("{ messageTestByCode(code: \"5555-5555-5555-5555\") { __typename } }", json!({})).await;
    attendee.expect_code("RATE_LIMITED");
}

#[tokio::test]
async fn sign_in_attempts_and_code_exchanges_are_rate_limited_per_client() {
    let app = spawn_app_with(|s| {
        s.rate_limits.login_per_minute = 3;
        s.rate_limits.code_exchange_per_minute = 2;
    })
    .await;
    for _ in 0..3 {
        let (status, _) = app.login("lead@kings.demo.orb", "wrong password here").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let response = app
        .http()
        .post(format!("{}/auth/login", app.address))
        .json(&json!({ "email": "lead@kings.demo.orb", "password": orb_tests::DEMO_PASSWORD }))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    let wait: u64 = response.headers()["retry-after"].to_str().expect("text").parse().expect("seconds");
    assert!((1..=60).contains(&wait));

    let exchange = json!({ "query": "mutation { startResponse(code: \"0000-0000-0000-0000\") { token } }" });
    for _ in 0..2 {
        let (status, body) = app.post_json("/graphql", exchange.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["errors"][0]["extensions"]["field"], "code", "an unknown code, not yet limited");
    }
    let limited = app.http().post(format!("{}/graphql", app.address)).json(&exchange).send().await.expect("answers");
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    let body: Value = limited.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    // Other operations go on.
    let (status, _) = app.post_json("/graphql", json!({ "query": "{ __typename }" })).await;
    assert_eq!(status, StatusCode::OK);
}
