//! The test harness: a real `orb` on a random port over its own PostgreSQL database, and
//! helpers that read like what users do (`app.sign_in("lead@calaveras.demo.orb")`,
//! `lead.graphql(query, vars)`).
//!
//! Each test's database is cloned from a template that is migrated and holds the demo data. The
//! template is built once per fingerprint of the migrations and the demo loader, under an
//! advisory lock so parallel test processes share it; each clone is dropped when its test ends.

#![expect(clippy::expect_used, reason = "test code: a failed expectation is the test failing, with its message")]

pub mod database;
pub mod process;

use std::time::Duration;

use orb_server::config::{RateLimitSettings, Settings};
use orb_server::startup::ServerHandle;
use orb_server::{Application, StartOptions};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};

pub use database::TestDatabase;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = orb_server::demo::DEFAULT_DEMO_PASSWORD;

/// A running service on its own database.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The database, for direct assertions (as its owner, bypassing row-level security).
    pub db: TestDatabase,
    /// The settings the service runs with.
    pub settings: Settings,
    handle: ServerHandle,
    http: reqwest::Client,
}

/// Starts a service with default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a service after `configure` adjusts its settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDatabase::clone_template().await;
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        database_url: SecretString::from(db.url()),
        workers: 1,
        database_pool_size: 4,
        // Every test client is 127.0.0.1: limits that would trip ordinary tests are tested on their own.
        rate_limits: RateLimitSettings { login_per_minute: 10_000, code_exchange_per_minute: 10_000 },
        ..Settings::default()
    };
    configure(&mut settings);
    init_logs(&settings);
    let app = Application::build(settings.clone(), StartOptions { migrate: false, demo: false })
        .await
        .expect("the service starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        db,
        settings,
        handle,
        http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client"),
    }
}

fn init_logs(settings: &Settings) {
    // Logs go nowhere unless asked for: TEST_LOG=1 cargo test …
    if std::env::var_os("TEST_LOG").is_some() {
        orb_server::telemetry::init(settings);
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting; the database is dropped (with FORCE) right after.
        drop(self.handle.stop(false));
    }
}

/// A GraphQL response as a front end sees it.
#[derive(Debug, Clone)]
pub struct GraphqlResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// The whole body.
    pub body: Value,
}

impl GraphqlResponse {
    /// `data`, or `null`.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The errors, if any.
    pub fn errors(&self) -> Vec<Value> {
        self.body["errors"].as_array().cloned().unwrap_or_default()
    }

    /// The `extensions.code` of the first error.
    pub fn error_code(&self) -> Option<String> {
        self.errors().first().and_then(|e| e["extensions"]["code"].as_str().map(str::to_owned))
    }

    /// The `extensions.field` of the first error.
    pub fn error_field(&self) -> Option<String> {
        self.errors().first().and_then(|e| e["extensions"]["field"].as_str().map(str::to_owned))
    }

    /// The `field`s of the first error's `extensions.problems` (every problem of bad input).
    pub fn problem_fields(&self) -> Vec<String> {
        let errors = self.errors();
        let first = errors.first().unwrap_or_else(|| panic!("expected an error, got {}", self.body));
        first["extensions"]["problems"]
            .as_array()
            .unwrap_or_else(|| panic!("expected extensions.problems, got {}", self.body))
            .iter()
            .map(|p| p["field"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The `extensions.code` of every error.
    pub fn error_codes(&self) -> Vec<String> {
        self.errors().iter().map(|e| e["extensions"]["code"].as_str().unwrap_or_default().to_owned()).collect()
    }

    /// Panics unless the response has no errors; returns `data`.
    pub fn ok(&self) -> &Value {
        assert!(self.errors().is_empty(), "expected success, got {}", self.body);
        assert_eq!(self.status, StatusCode::OK, "unexpected status: {}", self.body);
        self.data()
    }

    /// Panics unless the first error has `code`.
    pub fn expect_code(&self, code: &str) -> &Self {
        assert_eq!(self.error_code().as_deref(), Some(code), "expected {code}, got {}", self.body);
        self
    }
}

/// Someone calling the API: anonymous, or signed in with a token.
#[derive(Clone)]
pub struct Caller {
    address: String,
    http: reqwest::Client,
    /// The access token, if signed in.
    pub access_token: Option<String>,
    /// The refresh token, if signed in.
    pub refresh_token: Option<String>,
}

impl Caller {
    /// Sends one GraphQL operation.
    pub async fn graphql(&self, query: &str, variables: Value) -> GraphqlResponse {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = &self.access_token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the service answers");
        let status = response.status();
        let body = response.json().await.expect("a JSON body");
        GraphqlResponse { status, body }
    }

    /// As a county's lead: creates the administration `input` describes, opens it and issues
    /// `codes` invitation codes. Returns its id and the codes.
    pub async fn open_wave_with_codes(&self, input: Value, codes: u32) -> (String, Vec<String>) {
        let created = self
            .graphql(
                "mutation($input: CreateAdministrationInput!) { createAdministration(input: $input) { id } }",
                json!({ "input": input }),
            )
            .await;
        let id = created.ok()["createAdministration"]["id"].as_str().expect("an id").to_owned();
        self.graphql("mutation($id: ID!) { openAdministration(id: $id) { status } }", json!({ "id": id })).await.ok();
        let issued = self
            .graphql(
                "mutation($input: IssueInvitationsInput!) { issueInvitations(input: $input) { codes } }",
                json!({ "input": { "administrationId": id, "count": codes } }),
            )
            .await;
        let codes = issued.ok()["issueInvitations"]["codes"]
            .as_array()
            .expect("codes")
            .iter()
            .map(|c| c.as_str().expect("a code").to_owned())
            .collect();
        (id, codes)
    }
}

impl TestApp {
    /// Stops the service and starts a new one on the same database and settings, as after a
    /// deployment or a crash: nothing held in memory survives.
    pub async fn restart(&mut self) {
        self.handle.stop(true).await;
        let app = Application::build(self.settings.clone(), StartOptions { migrate: false, demo: false })
            .await
            .expect("the service starts again");
        self.address = format!("http://127.0.0.1:{}", app.port());
        self.handle = app.handle();
        tokio::spawn(app.run_until_stopped());
    }

    /// An HTTP client for requests the helpers do not cover.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A caller with no credentials.
    pub fn anonymous(&self) -> Caller {
        Caller { address: self.address.clone(), http: self.http.clone(), access_token: None, refresh_token: None }
    }

    /// A caller holding `token` as its access token.
    pub fn with_token(&self, token: &str) -> Caller {
        Caller { access_token: Some(token.to_owned()), ..self.anonymous() }
    }

    /// `POST /auth/login`; returns the status and body.
    pub async fn login(&self, email: &str, password: &str) -> (StatusCode, Value) {
        self.post_json("/auth/login", json!({ "email": email, "password": password })).await
    }

    /// Signs in with the demo password; panics if refused.
    pub async fn sign_in(&self, email: &str) -> Caller {
        self.sign_in_with(email, DEMO_PASSWORD).await
    }

    /// Signs in; panics if refused.
    pub async fn sign_in_with(&self, email: &str, password: &str) -> Caller {
        let (status, body) = self.login(email, password).await;
        assert_eq!(status, StatusCode::OK, "sign-in of {email} failed: {body}");
        Caller {
            access_token: body["access_token"].as_str().map(str::to_owned),
            refresh_token: body["refresh_token"].as_str().map(str::to_owned),
            ..self.anonymous()
        }
    }

    /// POSTs a JSON body to a REST path; returns the status and body (`null` when empty).
    pub async fn post_json(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response =
            self.http.post(format!("{}{path}", self.address)).json(&body).send().await.expect("the service answers");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// GETs a path; returns the response.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.address)).send().await.expect("the service answers")
    }

    /// The id of the county with `slug` (as the owner, bypassing row-level security).
    pub async fn county_id(&self, slug: &str) -> String {
        self.db.scalar_text(&format!("SELECT id::text FROM counties WHERE slug = '{slug}'")).await
    }

    /// A store on the runtime role, as the service opens it, to test below the API.
    pub async fn runtime_store(&self, max_connections: u32, statement_timeout: Duration) -> orb_store::Store {
        let url = orb_server::database::runtime_url(&self.settings).await.expect("the runtime role's URL");
        orb_store::Store::connect(&orb_store::StoreOptions {
            url,
            max_connections,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout,
            frozen_answers: orb_store::frozen::DEFAULT_BUDGET,
            response_key: self.settings.privacy.response_key().expect("the response key"),
        })
        .await
        .expect("the runtime store opens")
    }

    /// Counts rows (as the owner, bypassing row-level security).
    pub async fn count(&self, table_and_condition: &str) -> i64 {
        self.db.scalar_i64(&format!("SELECT count(*) FROM {table_and_condition}")).await
    }
}

/// The latest published version of the state instrument, from the answer to
/// `{ instruments(owner: { state: true }) { key latestPublished { id } } }`.
pub fn state_instrument_version(instruments: &Value) -> String {
    instruments["instruments"]
        .as_array()
        .expect("instruments")
        .iter()
        .find(|i| i["key"] == "orb-readiness")
        .and_then(|i| i["latestPublished"]["id"].as_str())
        .expect("the state instrument is published")
        .to_owned()
}
