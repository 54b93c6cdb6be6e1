//! The access matrix (issue 9): `tests/access/matrix.csv` says, for every GraphQL query and
//! mutation field and every REST route, what each caller may do against their own county, their
//! buddy county and another county; `tests/access/operations.toml` holds the request each
//! operation makes and the fixture that gives each county the rows those requests name. One test
//! runs every cell against the live service and lists every difference; another fails when the
//! schema or the server has an operation the matrix does not list, or the matrix one they lack.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use orb_server::config::{RateLimitSettings, Settings};
use orb_server::{Application, StartOptions};
use orb_tests::{DEMO_PASSWORD, TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde::Deserialize;
use serde_json::{Value, json};

const MATRIX: &str = include_str!("../access/matrix.csv");
const OPERATIONS: &str = include_str!("../access/operations.toml");
const SCHEMA: &str = include_str!("../../schema/schema.graphql");

/// Callers, in the matrix's order.
const CALLERS: [&str; 6] = ["anonymous", "respondent", "staff", "lead", "faculty", "admin"];
/// Targets, in the matrix's column order.
const TARGETS: [&str; 3] = ["own", "buddy", "other"];
/// What a cell may say.
const OUTCOMES: [&str; 6] = ["ok", "none", "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "-"];
/// Groups of successful mutations run at once, each on its own copy of the fixture.
const PARALLEL_GROUPS: usize = 3;

#[derive(Debug, Deserialize)]
struct Spec {
    targets: BTreeMap<String, String>,
    callers: BTreeMap<String, String>,
    setup: Vec<Step>,
    operation: Vec<Operation>,
}

#[derive(Debug, Deserialize)]
struct Step {
    #[serde(rename = "as")]
    who: String,
    sql: Option<String>,
    document: Option<String>,
    #[serde(default)]
    variables: Value,
    capture: Option<Capture>,
    #[serde(default)]
    json: bool,
    #[serde(default)]
    may_fail: bool,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Capture {
    One(String),
    Pointers(BTreeMap<String, String>),
}

#[derive(Debug, Clone, Deserialize)]
struct Operation {
    name: String,
    document: Option<String>,
    #[serde(default)]
    variables: Value,
    method: Option<String>,
    path: Option<String>,
    body: Option<Value>,
    group: Option<String>,
    #[serde(default)]
    fresh_state_per_allowed_cell: bool,
}

/// One row of the matrix.
#[derive(Debug, Clone)]
struct Row {
    operation: String,
    caller: String,
    /// own, buddy, other.
    cells: [String; 3],
}

/// One request to make and the outcome it should have.
#[derive(Debug, Clone)]
struct Cell {
    operation: Operation,
    caller: String,
    target: &'static str,
    expected: String,
}

/// Placeholder values of one target county.
type Values = BTreeMap<String, Value>;

fn spec() -> Spec {
    toml::from_str(OPERATIONS).expect("tests/access/operations.toml parses")
}

fn matrix() -> Vec<Row> {
    let mut reader = csv::ReaderBuilder::new().comment(Some(b'#')).trim(csv::Trim::All).from_reader(MATRIX.as_bytes());
    let headers = reader.headers().expect("a header").clone();
    assert_eq!(headers.iter().collect::<Vec<_>>(), ["operation", "caller", "own", "buddy", "other"], "matrix header");
    reader
        .records()
        .map(|record| {
            let record = record.expect("a matrix row parses");
            let field = |i: usize| record.get(i).unwrap_or_default().to_owned();
            Row { operation: field(0), caller: field(1), cells: [field(2), field(3), field(4)] }
        })
        .collect()
}

/// Fills placeholders in `value` from `values` (see operations.toml's header).
fn resolve(value: &Value, values: &Values) -> Value {
    match value {
        Value::String(text) => resolve_text(text, values),
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, values)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), resolve(v, values))).collect()),
        other => other.clone(),
    }
}

fn placeholder_value(name: &str, values: &Values) -> Value {
    if name == "unique" {
        return Value::String(uuid::Uuid::new_v4().simple().to_string()[..12].to_owned());
    }
    values.get(name).cloned().unwrap_or_else(|| panic!("no value for placeholder {{{name}}}"))
}

fn is_placeholder_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn resolve_text(text: &str, values: &Values) -> Value {
    if let Some(name) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}'))
        && is_placeholder_name(name)
    {
        return placeholder_value(name, values);
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) if is_placeholder_name(&after[..end]) => {
                match placeholder_value(&after[..end], values) {
                    Value::String(s) => out.push_str(&s),
                    other => out.push_str(&other.to_string()),
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Value::String(out)
}

async fn connect(database: &str) -> DatabaseConnection {
    let mut url = url::Url::parse(&orb_tests::database::server_url()).expect("a URL");
    url.set_path(database);
    let mut options = ConnectOptions::new(url.to_string());
    options.max_connections(1).connect_timeout(Duration::from_secs(10)).sqlx_logging(false);
    Database::connect(options).await.expect("PostgreSQL is reachable")
}

/// A database copied from the fixture, dropped when this is.
struct FixtureCopy {
    name: String,
}

impl FixtureCopy {
    async fn of(template: &str) -> Self {
        let name = format!("orb_test_{}", uuid::Uuid::new_v4().simple());
        let admin = connect("postgres").await;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
            .expect("the fixture can be copied");
        admin.close().await.ok();
        Self { name }
    }

    fn url(&self) -> String {
        let mut url = url::Url::parse(&orb_tests::database::server_url()).expect("a URL");
        url.set_path(&self.name);
        url.to_string()
    }
}

impl Drop for FixtureCopy {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async move {
                let admin = connect("postgres").await;
                let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                let _ = admin.close().await;
            });
        })
        .join();
    }
}

/// Freezes `app`'s database as a template to copy: no one may connect to it any more (the
/// app's own connections included), so the copies start from exactly this state.
async fn freeze_as_template(app: &TestApp) -> FixtureCopy {
    let admin = connect("postgres").await;
    let source = app.db.name();
    admin
        .execute_unprepared(&format!("ALTER DATABASE {source} WITH ALLOW_CONNECTIONS false"))
        .await
        .expect("connections to the fixture stop");
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{source}' AND pid <> pg_backend_pid()"
        ))
        .await
        .expect("the fixture's connections end");
    admin.close().await.ok();
    FixtureCopy::of(source).await
}

/// Runs the setup steps for one target county on `app`; returns its placeholder values.
async fn set_up_target(app: &TestApp, spec: &Spec, slug: &str) -> Values {
    let mut values: Values = BTreeMap::new();
    values.insert("slug".into(), json!(slug));
    values.insert("demo_password".into(), json!(DEMO_PASSWORD));
    let now = chrono::Utc::now();
    values.insert("today".into(), json!(now.date_naive().to_string()));
    values.insert("tomorrow".into(), json!((now + chrono::Duration::days(1)).to_rfc3339()));
    values.insert("in_a_week".into(), json!((now + chrono::Duration::days(7)).to_rfc3339()));
    let mut signed_in: BTreeMap<String, orb_tests::Caller> = BTreeMap::new();
    for step in &spec.setup {
        if step.who == "sql" {
            let sql = resolve_text(step.sql.as_deref().expect("a sql step has sql"), &values);
            let sql = sql.as_str().unwrap_or_default();
            let row = app
                .db
                .owner()
                .query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned()))
                .await
                .unwrap_or_else(|e| panic!("setup SQL for {slug} fails: {e}: {sql}"))
                .unwrap_or_else(|| panic!("setup SQL for {slug} finds nothing: {sql}"));
            let text: String = row.try_get_by_index(0).expect("a text column");
            let value = if step.json { serde_json::from_str(&text).expect("JSON") } else { Value::String(text) };
            if let Some(Capture::One(name)) = &step.capture {
                values.insert(name.clone(), value);
            }
            continue;
        }
        let email = match step.who.as_str() {
            "lead" => Some(format!("lead@{slug}.demo.orb")),
            "faculty" | "admin" => Some(format!("{}@demo.orb", step.who)),
            "anonymous" => None,
            other => panic!("unknown setup caller {other}"),
        };
        let caller = match email {
            Some(email) => match signed_in.get(&email) {
                Some(caller) => caller.clone(),
                None => {
                    let caller = app.sign_in(&email).await;
                    signed_in.insert(email, caller.clone());
                    caller
                }
            },
            None => app.anonymous(),
        };
        let document = step.document.as_deref().expect("a GraphQL step has a document");
        let response = caller.graphql(document, resolve(&step.variables, &values)).await;
        if !response.errors().is_empty() {
            assert!(step.may_fail, "setup step for {slug} fails: {document}: {}", response.body);
            continue;
        }
        if let Some(Capture::Pointers(pointers)) = &step.capture {
            for (name, pointer) in pointers {
                let value = response
                    .body
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("setup for {slug}: no {pointer} in {}", response.body));
                values.insert(name.clone(), value.clone());
            }
        }
    }
    values
}

/// The outcome of one request, in the matrix's words.
async fn outcome(service: &Service, operation: &Operation, token: Option<&str>, values: &Values) -> String {
    let mut values = values.clone();
    let needs_refresh_token = operation.body.as_ref().is_some_and(|b| b.to_string().contains("{fresh_refresh_token}"));
    if needs_refresh_token {
        let email = format!("lead@{}.demo.orb", values["own_slug"].as_str().unwrap_or_default());
        let response = service
            .http
            .post(format!("{}/auth/login", service.address))
            .json(&json!({ "email": email, "password": DEMO_PASSWORD }))
            .send()
            .await
            .expect("the service answers");
        let body: Value = response.json().await.unwrap_or_default();
        values.insert("fresh_refresh_token".into(), body["refresh_token"].clone());
    }
    if let Some(document) = &operation.document {
        let mut request = service
            .http
            .post(format!("{}/graphql", service.address))
            .json(&json!({ "query": document, "variables": resolve(&operation.variables, &values) }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let body: Value = request.send().await.expect("the service answers").json().await.unwrap_or_default();
        return match body["errors"].as_array().and_then(|errors| errors.first()) {
            Some(error) => error["extensions"]["code"].as_str().map_or_else(
                || format!("an error without a code: {error}"),
                |code| format!("{code} ({})", error["message"].as_str().unwrap_or_default()),
            ),
            None if body["data"].is_null() => format!("no data: {body}"),
            None if nothing_listed(&body["data"]) => "none".into(),
            None => "ok".into(),
        };
    }
    let method = operation.method.as_deref().expect("a REST operation has a method");
    let path = resolve_text(operation.path.as_deref().expect("a REST operation has a path"), &values);
    let url = format!("{}{}", service.address, path.as_str().unwrap_or_default());
    let mut request = match method {
        "GET" => service.http.get(url),
        "POST" => service.http.post(url),
        other => panic!("unknown method {other}"),
    };
    if let Some(body) = &operation.body {
        request = request.json(&resolve(body, &values));
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the service answers");
    let status = response.status();
    // Read the whole body, as a client would (exports stream).
    let body = response.text().await.unwrap_or_default();
    match status {
        s if s.is_success() => "ok".into(),
        StatusCode::UNAUTHORIZED => "UNAUTHENTICATED".into(),
        StatusCode::FORBIDDEN => "FORBIDDEN".into(),
        StatusCode::NOT_FOUND => "NOT_FOUND".into(),
        other => format!("HTTP {other}: {body}"),
    }
}

/// A service the cells call, started here on a copy of the fixture (the harness's `spawn_app`
/// would make one more copy, of the demo template, that no cell uses).
struct Service {
    address: String,
    http: reqwest::Client,
    handle: orb_server::startup::ServerHandle,
}

impl Service {
    async fn on_copy_of(fixture: &str) -> (FixtureCopy, Self) {
        let copy = FixtureCopy::of(fixture).await;
        let settings = Settings {
            bind: "127.0.0.1:0".into(),
            database_url: secrecy::SecretString::from(copy.url()),
            workers: 1,
            database_pool_size: 4,
            rate_limits: RateLimitSettings { login_per_minute: 10_000, code_exchange_per_minute: 10_000 },
            ..Settings::default()
        };
        let app = Application::build(settings, StartOptions { migrate: false, demo: false })
            .await
            .expect("the service starts on the fixture's copy");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client");
        (copy, Self { address, http, handle })
    }

    async fn stop(self) {
        // Every cell has had its answer: nothing is in flight to wait for.
        self.handle.stop(false).await;
    }
}

/// Whether the one root field answered an empty list (or a connection with no edges): the
/// caller may ask, but sees none of the county's rows.
fn nothing_listed(data: &Value) -> bool {
    let Some(root) = data.as_object().and_then(|fields| fields.values().next()) else { return false };
    let list = root.get("edges").unwrap_or(root);
    list.as_array().is_some_and(Vec::is_empty)
}

/// Everything a cell needs to run: the targets' values and the callers' tokens.
struct World {
    values: BTreeMap<&'static str, Values>,
    tokens: BTreeMap<String, Option<String>>,
}

impl World {
    fn values_for(&self, target: &str) -> &Values {
        // An operation with no county is made with the own county's values.
        let target = if target == "-" { "own" } else { target };
        &self.values[target]
    }
}

async fn run(service: &Service, world: &World, cell: &Cell) -> Option<String> {
    let token = world.tokens[&cell.caller].as_deref();
    let got = outcome(service, &cell.operation, token, world.values_for(cell.target)).await;
    // A refusal's message follows its code, to explain a difference.
    let code = got.split(" (").next().unwrap_or_default();
    (code != cell.expected).then(|| {
        format!(
            "{} | caller {} | target {} | expected {} | got {got}",
            cell.operation.name, cell.caller, cell.target, cell.expected
        )
    })
}

/// The cells of every row: one per target, or one (`-`) for an operation with no county.
fn cells(rows: &[Row], operations: &BTreeMap<String, Operation>) -> Vec<Cell> {
    let mut cells = Vec::new();
    for row in rows {
        let operation = operations.get(&row.operation).unwrap_or_else(|| panic!("no request for {}", row.operation));
        let countyless = row.cells[1] == "-" && row.cells[2] == "-";
        for (i, expected) in row.cells.iter().enumerate() {
            if expected == "-" {
                continue;
            }
            cells.push(Cell {
                operation: operation.clone(),
                caller: row.caller.clone(),
                target: if countyless { "-" } else { TARGETS[i] },
                expected: expected.clone(),
            });
        }
    }
    cells
}

/// Runs the successes of one group of mutations on a fresh copy of the fixture, in
/// operations.toml's order; an operation that asks for it gets a fresh copy per success.
async fn run_successes(fixture: &str, world: &World, cells: Vec<Cell>) -> Vec<String> {
    let mut differences = Vec::new();
    let (mut copy, mut service) = Service::on_copy_of(fixture).await;
    let mut previous: Option<String> = None;
    for cell in &cells {
        let same_operation = previous.as_deref() == Some(cell.operation.name.as_str());
        if same_operation && cell.operation.fresh_state_per_allowed_cell {
            service.stop().await;
            drop(copy);
            (copy, service) = Service::on_copy_of(fixture).await;
        }
        previous = Some(cell.operation.name.clone());
        differences.extend(run(&service, world, cell).await);
    }
    service.stop().await;
    drop(copy);
    differences
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_caller_gets_what_the_access_matrix_says() {
    let started = Instant::now();
    let spec = spec();
    let rows = matrix();
    let operations: BTreeMap<String, Operation> = spec.operation.iter().map(|o| (o.name.clone(), o.clone())).collect();
    let position: BTreeMap<&str, usize> =
        spec.operation.iter().enumerate().map(|(i, o)| (o.name.as_str(), i)).collect();

    // The fixture: each target county gets the rows the requests name; then it is frozen.
    let base = spawn_app().await;
    let mut values = BTreeMap::new();
    for target in TARGETS {
        let slug = &spec.targets[target];
        values.insert(target, set_up_target(&base, &spec, slug).await);
    }
    let own_slug = json!(spec.targets["own"]);
    for v in values.values_mut() {
        v.insert("own_slug".into(), own_slug.clone());
    }
    let mut tokens = BTreeMap::new();
    tokens.insert("anonymous".to_owned(), None);
    for caller in ["staff", "lead", "faculty", "admin"] {
        let signed_in = base.sign_in(&spec.callers[caller]).await;
        tokens.insert(caller.to_owned(), signed_in.access_token);
    }
    let respondent = values["own"][&spec.callers["respondent"]].as_str().map(str::to_owned);
    assert!(respondent.is_some(), "the fixture gives the respondent a token");
    tokens.insert("respondent".to_owned(), respondent);
    let world = World { values, tokens };
    let fixture = freeze_as_template(&base).await;
    drop(base);
    let set_up = started.elapsed();

    // `ACCESS_MATRIX_ONLY=mutation.create` runs only the operations whose name (or group)
    // contains it, when working on a few rows.
    let only = std::env::var("ACCESS_MATRIX_ONLY").unwrap_or_default();
    let selected = |row: &Row| {
        let group = operations.get(&row.operation).and_then(|o| o.group.as_deref()).unwrap_or_default();
        row.operation.contains(&only) || group.contains(&only)
    };
    let rows: Vec<Row> = rows.into_iter().filter(selected).collect();
    let all = cells(&rows, &operations);
    let is_success = |c: &Cell| c.operation.name.starts_with("mutation.") && c.expected == "ok";
    let (successes, unchanging): (Vec<Cell>, Vec<Cell>) = all.iter().cloned().partition(is_success);

    // Reads and refusals change nothing: all of them at once, on one copy.
    let (shared_copy, shared) = Service::on_copy_of(&fixture.name).await;
    let mut differences: Vec<String> = futures::stream::iter(unchanging.iter().map(|c| run(&shared, &world, c)))
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flatten()
        .collect();
    shared.stop().await;
    drop(shared_copy);
    let unchanging_done = started.elapsed();

    // Successes change state: each group on its own copy, in operations.toml's order.
    let mut groups: BTreeMap<String, Vec<Cell>> = BTreeMap::new();
    for cell in successes.iter().cloned() {
        let group = cell.operation.group.clone().unwrap_or_else(|| cell.operation.name.clone());
        groups.entry(group).or_default().push(cell);
    }
    for cells in groups.values_mut() {
        cells.sort_by_key(|c| position[c.operation.name.as_str()]);
    }
    let group_count = groups.len();
    let success_differences: Vec<Vec<String>> =
        futures::stream::iter(groups.into_values().map(|cells| run_successes(&fixture.name, &world, cells)))
            .buffer_unordered(PARALLEL_GROUPS)
            .collect()
            .await;
    differences.extend(success_differences.into_iter().flatten());
    differences.sort();
    eprintln!(
        "access matrix: {} rows, {} cells ({} reads and refusals, {} successes in {group_count} groups); \
         setup {set_up:.1?}, reads and refusals {:.1?}, total {:.1?}",
        rows.len(),
        all.len(),
        unchanging.len(),
        successes.len(),
        unchanging_done - set_up,
        started.elapsed()
    );
    assert!(
        differences.is_empty(),
        "{} cells differ from tests/access/matrix.csv:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// Root fields of `Query` and `Mutation` in the committed SDL, as the matrix names them.
fn schema_operations() -> BTreeSet<String> {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let document = async_graphql::parser::parse_schema(SCHEMA).expect("schema/schema.graphql parses");
    let mut names = BTreeSet::new();
    for definition in document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else { continue };
        let prefix = match ty.node.name.node.as_str() {
            "Query" => "query",
            "Mutation" => "mutation",
            _ => continue,
        };
        if let TypeKind::Object(object) = &ty.node.kind {
            names.extend(object.fields.iter().map(|f| format!("{prefix}.{}", f.node.name.node)));
        }
    }
    names
}

#[test]
fn the_access_matrix_lists_every_operation_and_only_those() {
    let rows = matrix();
    let mut expected: BTreeSet<String> = schema_operations();
    assert!(expected.len() > 90, "the schema's root fields are found: {expected:?}");
    let routes = crate::operations::registered_routes();
    assert!(routes.len() >= 12, "the routes are found in startup.rs: {routes:?}");
    expected.extend(routes.iter().map(|(method, path)| format!("{method} {path}")));

    let mut problems = Vec::new();
    let listed: BTreeSet<String> = rows.iter().map(|r| r.operation.clone()).collect();
    for missing in expected.difference(&listed) {
        problems.push(format!("{missing}: served, but not in tests/access/matrix.csv"));
    }
    for gone in listed.difference(&expected) {
        problems.push(format!("{gone}: in tests/access/matrix.csv, but no longer served"));
    }
    let spec = spec();
    let requested: BTreeSet<String> = spec.operation.iter().map(|o| o.name.clone()).collect();
    for missing in listed.difference(&requested) {
        problems.push(format!("{missing}: no request in tests/access/operations.toml"));
    }
    for extra in requested.difference(&listed) {
        problems.push(format!("{extra}: a request in operations.toml for no matrix row"));
    }
    if requested.len() != spec.operation.len() {
        problems.push("operations.toml names an operation twice".into());
    }
    for operation in &listed {
        let callers: Vec<&str> = rows.iter().filter(|r| &r.operation == operation).map(|r| r.caller.as_str()).collect();
        if callers != CALLERS {
            problems.push(format!("{operation}: callers {callers:?}, expected one row each of {CALLERS:?}"));
        }
    }
    for row in &rows {
        if let Some(bad) = row.cells.iter().find(|c| !OUTCOMES.contains(&c.as_str())) {
            problems.push(format!("{} / {}: unknown outcome {bad}", row.operation, row.caller));
        }
        let dashes = row.cells.iter().filter(|c| *c == "-").count();
        if row.cells[0] == "-" || !(dashes == 0 || (dashes == 2 && row.cells[1] == "-")) {
            problems.push(format!(
                "{} / {}: a county-less row has its outcome in `own` and `-` in both others",
                row.operation, row.caller
            ));
        }
    }
    assert!(problems.is_empty(), "the access matrix is out of step:\n{}", problems.join("\n"));
}
