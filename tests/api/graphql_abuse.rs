//! Abuse of the GraphQL endpoint: documents built to exhaust the parser, the validator or the
//! database, requests in shapes a browser can be tricked into sending, oversized bodies, and
//! slow queries. Each is refused with a clear code while the service goes on answering everyone
//! else; list resolvers issue a fixed number of SQL statements however long the list.
//!
//! Depth and complexity under custom limits, a batch, a 200 KB body, `text/plain` and the
//! introspection and suggestion switches are also in `protocol.rs`; this module runs them at the
//! shipped limits among the rest.
//!
//! Run alone: `cargo test -p orb-tests --test api graphql_abuse::`.

use std::time::{Duration, Instant};

use orb_tests::{Caller, TestApp, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How a refused request is sent.
enum Delivery {
    /// `POST /graphql` as JSON with this body.
    Json(Value),
    /// `POST /graphql` with this raw body and content type.
    Raw(&'static str, String),
    /// `GET /graphql?query=…` from a GraphQL client (asking for JSON).
    Get(String),
}

/// One abuse: what is sent, and the status and `extensions.code` it must be answered with.
struct Abuse {
    what: &'static str,
    send: Delivery,
    status: StatusCode,
    code: &'static str,
}

fn abuse(what: &'static str, send: Delivery, status: StatusCode, code: &'static str) -> Abuse {
    Abuse { what, send, status, code }
}

fn query(text: String) -> Delivery {
    Delivery::Json(json!({ "query": text }))
}

/// Every document-shaped abuse, at the shipped limits.
fn document_abuses() -> Vec<Abuse> {
    let bad = StatusCode::OK;
    let mut deep = String::from("{ county(slug: \"los-angeles\") { units { edges { node { ");
    deep.push_str(&"parent { ".repeat(12));
    deep.push_str("name");
    deep.push_str(&" }".repeat(12 + 5));
    // Near the 1 MB body limit: refused by length before parsing (parsing alone took seconds).
    let long = |unit: &str, times: usize| format!("{{ me {{ user {{ {} }} }} }}", unit.repeat(times));
    let megabyte_of_fields = long("email ", 150_000);
    let megabyte_of_aliases: String = (0..30_000).map(|i| format!("a{i}: me {{ user {{ email }} }} ")).collect();
    // Under the length limit but over the count of fields: validation compares fields pairwise,
    // so these are refused right after parsing.
    let duplicates = long("email ", 10_000);
    let aliases: String = format!("{{ {} }}", (0..3_000).map(|i| format!("a{i}: __typename ")).collect::<String>());
    let circular = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }".to_owned();
    let self_spread = "query { ...A } fragment A on Query { __typename ...A }".to_owned();
    // Each fragment spreads the one before it twice: 2^40 fields if expanded naively.
    let mut laughs = String::from("query { ...F40 } fragment F0 on Query { __typename }");
    for level in 1..=40 {
        laughs.push_str(&format!(" fragment F{level} on Query {{ ...F{p} ...F{p} }}", p = level - 1));
    }
    let nested_selection = format!("{}{}", "{ me ".repeat(5_000), "}".repeat(5_000));
    let nested_list = format!("{{ counties(first: {}1{}) {{ totalCount }} }}", "[".repeat(10_000), "]".repeat(10_000));
    let directives = format!("{{ __typename {} }}", "@skip(if: false) ".repeat(3_000));
    let many_operations: String = (0..2_000).map(|i| format!("query Q{i} {{ __typename }} ")).collect();
    let fragments: String = std::iter::once("{ ...F0 } ".to_owned())
        .chain((0..1_500).map(|i| format!("fragment F{i} on Query {{ __typename }} ")))
        .collect();
    let deep_variables = format!(
        r#"{{"query":"query($v: JSON!) {{ __typename }}","variables":{{"v":{}1{}}}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let batch = Value::Array((0..1_000).map(|_| json!({ "query": "{ me { user { email } } }" })).collect());
    vec![
        abuse("depth over the limit", query(deep), bad, "BAD_USER_INPUT"),
        abuse("a 900 KB query: one field 150,000 times", query(megabyte_of_fields), bad, "BAD_USER_INPUT"),
        abuse("a 900 KB query: 30,000 aliases", query(megabyte_of_aliases), bad, "BAD_USER_INPUT"),
        abuse("one field 10,000 times", query(duplicates), bad, "BAD_USER_INPUT"),
        abuse("3,000 aliases", query(aliases), bad, "BAD_USER_INPUT"),
        abuse("circular fragments", query(circular), bad, "BAD_USER_INPUT"),
        abuse("a fragment spreading itself", query(self_spread), bad, "BAD_USER_INPUT"),
        abuse("fragments doubling 40 times", query(laughs), bad, "BAD_USER_INPUT"),
        abuse("5,000 nested selections", query(nested_selection), bad, "BAD_USER_INPUT"),
        abuse("10,000 nested lists in an argument", query(nested_list), bad, "BAD_USER_INPUT"),
        abuse("3,000 directives on a field", query(directives), bad, "BAD_USER_INPUT"),
        abuse("2,000 operations and no operationName", query(many_operations), bad, "BAD_USER_INPUT"),
        abuse("1,500 fragments, one used", query(fragments), bad, "BAD_USER_INPUT"),
        abuse(
            "variables nested 100,000 deep",
            Delivery::Raw("application/json", deep_variables),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        abuse("a batch of 1,000 operations", Delivery::Json(batch), StatusCode::BAD_REQUEST, "BAD_REQUEST"),
        abuse(
            "a body that is not JSON",
            Delivery::Raw("application/json", "{\"query\": ".to_owned()),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        abuse(
            "a query that is not a string",
            Delivery::Json(json!({ "query": { "a": 1 } })),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
    ]
}

const CREATE_COHORT: &str = "mutation { createCohort(input: { name: \"Forged by a cross-site request\" }) { id } }";

/// Requests a browser can be made to send cross-site (no preflight), and GET.
fn transport_abuses() -> Vec<Abuse> {
    let body = json!({ "query": CREATE_COHORT }).to_string();
    let media = StatusCode::UNSUPPORTED_MEDIA_TYPE;
    vec![
        abuse(
            "a mutation over GET",
            Delivery::Get(CREATE_COHORT.to_owned()),
            StatusCode::METHOD_NOT_ALLOWED,
            "BAD_REQUEST",
        ),
        abuse("a mutation as text/plain", Delivery::Raw("text/plain", body.clone()), media, "BAD_REQUEST"),
        abuse(
            "a mutation as a form",
            Delivery::Raw("application/x-www-form-urlencoded", format!("query={CREATE_COHORT}")),
            media,
            "BAD_REQUEST",
        ),
        abuse(
            "a mutation as multipart",
            Delivery::Raw(
                "multipart/form-data; boundary=x",
                format!("--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{body}\r\n--x--\r\n"),
            ),
            media,
            "BAD_REQUEST",
        ),
        abuse("a mutation with no content type", Delivery::Raw("", body), media, "BAD_REQUEST"),
    ]
}

/// Sends `abuse` with `caller`'s token; asserts the status and code, and that nothing ran.
async fn assert_refused(app: &TestApp, caller: &Caller, abuse: &Abuse) -> Duration {
    let url = format!("{}/graphql", app.address);
    let request = match &abuse.send {
        Delivery::Json(body) => app.http().post(&url).json(body),
        Delivery::Raw(content_type, body) => {
            let request = app.http().post(&url).body(body.clone());
            if content_type.is_empty() { request } else { request.header("content-type", *content_type) }
        }
        Delivery::Get(query) => app.http().get(&url).query(&[("query", query)]).header("accept", "application/json"),
    };
    let request = match &caller.access_token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    let started = Instant::now();
    let response = request.send().await.unwrap_or_else(|e| panic!("{}: the service answers: {e}", abuse.what));
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let elapsed = started.elapsed();
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{}: a JSON answer, got {text:.300}", abuse.what));
    assert_eq!(status, abuse.status, "{}: {body:.500}", abuse.what);
    assert_eq!(body["errors"][0]["extensions"]["code"], abuse.code, "{}: {body:.500}", abuse.what);
    assert!(body["data"].is_null(), "{}: nothing is executed: {body:.500}", abuse.what);
    elapsed
}

async fn assert_still_answering(caller: &Caller, what: &str) {
    let me = caller.graphql("{ me { user { email } } }", json!({})).await;
    assert_eq!(me.ok()["me"]["user"]["email"], "faculty@demo.orb", "after {what}, the service answers");
}

#[tokio::test]
async fn abusive_documents_and_transports_are_refused_with_a_code_while_others_are_answered() {
    let app = spawn_app().await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let before = app.db.snapshot().await;
    let abuses: Vec<Abuse> = document_abuses().into_iter().chain(transport_abuses()).collect();

    // One at a time: each refusal is prompt, and the next ordinary request is served.
    for abuse in &abuses {
        let elapsed = assert_refused(&app, &faculty, abuse).await;
        assert!(elapsed < Duration::from_secs(5), "{} is refused promptly, not after {elapsed:?}", abuse.what);
        assert_still_answering(&faculty, abuse.what).await;
    }

    // All at once, with ordinary requests among them.
    let refusals = futures::future::join_all(abuses.iter().map(|abuse| assert_refused(&app, &faculty, abuse)));
    let ordinary = futures::future::join_all((0..10).map(|_| assert_still_answering(&faculty, "a flood of abuse")));
    let (_, _) = tokio::join!(refusals, ordinary);
    assert_eq!(app.db.snapshot().await, before, "no abuse changed anything");
    assert_eq!(app.count("cohorts WHERE name = 'Forged by a cross-site request'").await, 0);
    assert_eq!(abuses.len(), 22);
}

#[tokio::test]
async fn with_introspection_and_suggestions_off_the_schema_does_not_leak_through_errors() {
    let app = spawn_app_with(|s| {
        s.graphql.introspection = false;
        s.graphql.suggestions = false;
    })
    .await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let probes = [
        ("__schema", "{ __schema { types { name } } }", json!({})),
        ("__type", "{ __type(name: \"County\") { fields { name } } }", json!({})),
        ("a misspelt field", "{ countie { totalCount } }", json!({})),
        ("a misspelt argument", "{ counties(frist: 2) { totalCount } }", json!({})),
        ("a misspelt type", "query($s: Strin!) { county(slug: $s) { name } }", json!({ "s": "orange" })),
        ("a misspelt enum value", "{ buddyPairings(status: ACTIV) { totalCount } }", json!({})),
    ];
    for (what, document, variables) in probes {
        let answer = faculty.graphql(document, variables).await;
        answer.expect_code("BAD_USER_INPUT");
        let text = answer.body.to_string();
        assert!(!text.contains("Did you mean"), "{what}: no suggestion: {text}");
        assert!(!text.contains("\"fields\""), "{what}: no schema: {text}");
    }
    assert_eq!(
        faculty.graphql("{ __typename }", json!({})).await.ok()["__typename"],
        "Query",
        "__typename still answers"
    );
}

// Ordinary bodies over the limit (HTTP 413) and memory: see `a_ten_megabyte_body_is_refused_
// with_413_and_the_services_memory_stays_flat` below, run against the built binary.

/// Sends a body of `size` bytes to `/graphql` over a raw connection, from one reused 64 KB
/// buffer (so the test itself holds no large body), with a `Content-Length` or chunked; reads
/// the answer while writing. Returns the status line's code.
async fn send_huge_body(address: &str, size: usize, chunked: bool) -> u16 {
    let host = address.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(host).await.expect("connects");
    let (mut reader, mut writer) = stream.into_split();
    let head = if chunked {
        format!(
            "POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
    } else {
        format!(
            "POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
        )
    };
    let read = tokio::spawn(async move {
        let mut answer = Vec::new();
        let mut buffer = [0u8; 4096];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match tokio::time::timeout(Duration::from_secs(30), reader.read(&mut buffer)).await {
                Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buffer[..n]),
                _ => break,
            }
        }
        String::from_utf8_lossy(&answer).into_owned()
    });
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    if writer.write_all(head.as_bytes()).await.is_ok() {
        while sent < size {
            let part = if chunked {
                writer.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await.ok();
                writer.write_all(&chunk).await.and(writer.write_all(b"\r\n").await)
            } else {
                writer.write_all(&chunk).await
            };
            if part.is_err() {
                break;
            }
            sent += chunk.len();
        }
        writer.write_all(b"0\r\n\r\n").await.ok();
    }
    let answer = read.await.expect("the reader ends");
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("an HTTP answer to a {size}-byte body (chunked: {chunked}), got {answer:?}"))
}

/// The peak resident memory of process `pid` so far, in bytes (`VmHWM`).
fn peak_memory(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process's status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .expect("VmHWM in kB")
}

#[tokio::test]
async fn a_ten_megabyte_body_is_refused_with_413_and_the_services_memory_stays_flat() {
    // The built binary, so its memory is its own (the in-process services of other tests share
    // this test's process).
    let db = orb_tests::TestDatabase::clone_template().await;
    let orb = orb_tests::process::OrbProcess::start(&db.url(), &[]).await;
    let address = orb.address.clone();
    let pid = orb.pid().expect("orb runs");
    let http = reqwest::Client::new();
    let ordinary = json!({ "query": "{ __typename }" });
    for _ in 0..20 {
        let answer = http.post(format!("{address}/graphql")).json(&ordinary).send().await.expect("answers");
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let settled = peak_memory(pid);

    const TEN_MB: usize = 10 * 1024 * 1024;
    let floods = (0..8).map(|i| send_huge_body(&address, TEN_MB, i % 2 == 1));
    let statuses = futures::future::join_all(floods).await;
    assert!(statuses.iter().all(|s| *s == 413), "every 10 MB body gets 413: {statuses:?}");
    let answer = http.post(format!("{address}/graphql")).json(&ordinary).send().await.expect("answers");
    assert_eq!(answer.status(), StatusCode::OK, "the service keeps answering");

    let grown = peak_memory(pid).saturating_sub(settled);
    // Eight bodies of 10 MB would need 80 MB if any were buffered; reading up to the 1 MB limit
    // of each at once needs 8 MB at most.
    assert!(grown < 24 * 1024 * 1024, "peak memory grew by {} KB for 80 MB sent", grown / 1024);
}

/// The sum of `orb_graphql_operation_statements` for `operation` in the metrics text.
async fn statements_of(app: &TestApp, operation: &str) -> u64 {
    let text = app.get("/metrics").await.text().await.expect("metrics text");
    let prefix = format!("orb_graphql_operation_statements_sum{{operation=\"{operation}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .map(|value| value as u64)
        .unwrap_or_else(|| panic!("a statement count for {operation}"))
}

/// Extra statements a longer page may issue when the loaders' batches happen to split across
/// two scheduler ticks (a 1 ms window); one query per row would add at least 18.
const BATCH_SPLITS: u64 = 3;

/// Asserts the longer list issued about as many statements as the shorter, naming both.
fn assert_flat(what: &str, short: (usize, u64), long: (usize, u64)) {
    assert!(
        long.1 <= short.1 + BATCH_SPLITS,
        "{what}: {} rows took {} statements, {} rows took {}",
        short.0,
        short.1,
        long.0,
        long.1
    );
}

/// Runs `document` as operation `name` with `variables`; returns the statements it issued and
/// its data.
async fn counted(app: &TestApp, caller: &Caller, name: &str, document: &str, variables: Value) -> (u64, Value) {
    let data = caller.graphql(document, variables).await.ok().clone();
    (statements_of(app, name).await, data)
}

fn length(data: &Value, path: &[&str]) -> usize {
    path.iter().fold(data, |value, key| &value[*key]).as_array().map(Vec::len).unwrap_or(0)
}

const COUNTIES: &str =
    "query Counties_NAME($first: Int!, $after: String) { counties(first: $first, after: $after) { edges { node {
    slug
    units(first: 5) { edges { node { name parent { name } children { name } } } }
    members(first: 5) { edges { node { role user { email memberships { county { slug } } globalRoles } } } }
    cohorts { name counties { slug } faculty { email } }
    buddyPairings { status cohort { name } testingCounty { slug } buddyCounty { slug } }
} } } }";

const INSTRUMENTS: &str = "query Instruments_NAME { instruments { key county { slug } versions {
    number instrument { key } derivedFrom { number } domains { code } items { code } scales { code }
} } }";

const ADMINISTRATIONS: &str = "query Administrations_NAME($slug: String!) { administrations(countySlug: $slug) {
    title county { slug } instrumentVersion { number instrument { key } items { code } domains { code } }
} }";

#[tokio::test]
async fn list_queries_issue_as_many_statements_for_twenty_rows_as_for_two() {
    let app = spawn_app().await;
    let admin = app.sign_in("admin@demo.orb").await;
    let faculty = app.sign_in("faculty@demo.orb").await;

    // Counties with units (one under another), members, cohorts and pairings. The page of two
    // starts after Calaveras (Kings, Los Angeles: units, members, pairings); ten counties with a
    // division and an office are added so a page of twenty exists.
    for i in 0..10 {
        let (county, division, office) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        app.db
            .owner()
            .execute_unprepared(&format!(
                "INSERT INTO counties (id, slug, name, region, size_class) \
                   VALUES ('{county}', 'zz-added-{i}', 'Added County {i}', 'CENTRAL', 'SMALL'); \
                 INSERT INTO org_units (county_id, id, name, kind) VALUES ('{county}', '{division}', 'Division', 'DIVISION'); \
                 INSERT INTO org_units (county_id, id, parent_id, name, kind) \
                   VALUES ('{county}', '{office}', '{division}', 'Office', 'OFFICE')"
            ))
            .await
            .expect("a county is added");
    }
    let calaveras = orb_store::page::encode_cursor("calaveras");
    let counties = |n: &str| COUNTIES.replace("NAME", n);
    let (two, data) =
        counted(&app, &admin, "Counties_2", &counties("2"), json!({ "first": 2, "after": calaveras })).await;
    assert_eq!(length(&data, &["counties", "edges"]), 2);
    assert_eq!(data["counties"]["edges"][1]["node"]["slug"], "los-angeles");
    let (twenty, data) =
        counted(&app, &admin, "Counties_20", &counties("20"), json!({ "first": 20, "after": calaveras })).await;
    assert_eq!(length(&data, &["counties", "edges"]), 20);
    assert!(two > 5, "the count sees the loaders' statements: {two}");
    assert_flat("counties with units, members, cohorts and pairings", (2, two), (20, twenty));

    // Instruments with their versions and items: grow the state's instruments by imports.
    let document: Value =
        serde_json::from_str(include_str!("../../instruments/state-orb-readiness.json")).expect("the state instrument");
    let (before, data) =
        counted(&app, &faculty, "Instruments_before", &INSTRUMENTS.replace("NAME", "before"), json!({})).await;
    let listed = length(&data, &["instruments"]);
    for i in 0..18 {
        let mut copy = document.clone();
        copy["instrument"]["key"] = json!(format!("abuse-copy-{i}"));
        let imported = faculty
            .graphql("mutation($d: JSON!) { importInstrumentVersion(document: $d) { id } }", json!({ "d": copy }))
            .await;
        imported.ok();
    }
    let (after, data) =
        counted(&app, &faculty, "Instruments_after", &INSTRUMENTS.replace("NAME", "after"), json!({})).await;
    assert_eq!(length(&data, &["instruments"]), listed + 18);
    assert_flat("instruments with versions and items", (listed, before), (listed + 18, after));

    // Administrations with their instrument versions and items: grow Sacramento's waves.
    let lead = app.sign_in("lead@sacramento.demo.orb").await;
    let slug = json!({ "slug": "sacramento" });
    let (before, data) =
        counted(&app, &lead, "Administrations_before", &ADMINISTRATIONS.replace("NAME", "before"), slug.clone()).await;
    let waves = length(&data, &["administrations"]);
    let version = app
        .db
        .scalar_text(
            "SELECT v.id::text FROM instrument_versions v JOIN instruments i ON i.id = v.instrument_id \
             WHERE i.key = 'orb-readiness' AND i.county_id IS NULL AND v.status = 'published' ORDER BY v.number DESC LIMIT 1",
        )
        .await;
    for i in 0..18 {
        let input = json!({
            "countyId": app.county_id("sacramento").await, "instrumentVersionId": version,
            "title": format!("Extra wave {i}"),
            "opensAt": (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339(),
            "closesAt": (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
            "perspectives": ["SUPERVISOR"], "anonymity": "ANONYMOUS", "minGroupSize": 5,
        });
        lead.graphql(
            "mutation($input: CreateAdministrationInput!) { createAdministration(input: $input) { id } }",
            json!({ "input": input }),
        )
        .await
        .ok();
    }
    let (after, data) =
        counted(&app, &lead, "Administrations_after", &ADMINISTRATIONS.replace("NAME", "after"), slug).await;
    assert_eq!(length(&data, &["administrations"]), waves + 18);
    assert_flat("administrations with versions and items", (waves, before), (waves + 18, after));
}

#[tokio::test]
async fn a_slow_request_is_stopped_with_timeout_and_its_connection_returns_to_the_pool() {
    // One connection, one second: a request stuck behind a lock is stopped, and the one
    // connection serves the next request while the lock is still held.
    let app = spawn_app_with(|s| {
        s.request_timeout_ms = 1_000;
        s.database_pool_size = 1;
    })
    .await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let messages = "{ keyMessages { theme } }";
    let before = faculty.graphql(messages, json!({})).await;
    assert!(before.errors().is_empty(), "before the lock, key messages are read: {}", before.body);

    let lock = app.db.owner().begin().await.expect("a transaction");
    lock.execute_unprepared("LOCK TABLE key_messages IN ACCESS EXCLUSIVE MODE").await.expect("the lock is taken");
    let started = Instant::now();
    let stuck = faculty.graphql(messages, json!({})).await;
    let waited = started.elapsed();
    assert_eq!(stuck.status, StatusCode::SERVICE_UNAVAILABLE, "{}", stuck.body);
    stuck.expect_code("TIMEOUT");
    assert!(waited < Duration::from_secs(4), "stopped near the limit, not after {waited:?}");

    let me = faculty.graphql("{ me { user { email } } }", json!({})).await;
    assert!(me.errors().is_empty(), "with the lock still held, the one connection serves another request: {}", me.body);
    // A connection goes back to the pool a moment after its request answers.
    let mut in_use = String::new();
    for _ in 0..40 {
        let metrics = app.get("/metrics").await.text().await.expect("metrics text");
        in_use = metrics
            .lines()
            .find(|l| l.starts_with("orb_db_pool_connections{state=\"in_use\"}"))
            .unwrap_or("")
            .to_owned();
        if in_use.ends_with(" 0") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(in_use.ends_with(" 0"), "no connection is left in use: {in_use}");
    lock.rollback().await.expect("the lock is released");
    let after = faculty.graphql(messages, json!({})).await;
    assert!(after.errors().is_empty(), "after the lock, key messages are read again: {}", after.body);
}
