//! Secrets and logs: the built `orb`, at its most verbose (`RUST_LOG=trace`, JSON lines), goes
//! through a whole journey — an account made on the command line, sign-in, refresh, a password
//! change, logout, failed sign-ins, a lead opening a wave and issuing codes, a respondent saving
//! and submitting free text, bad tokens and bad codes — and everything the processes wrote is
//! searched for every password, token, invitation code, answer and signing secret used.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use orb_tests::TestDatabase;
use orb_tests::process::{OrbProcess, orb_binary};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What must never appear in a log, and what it is (for the failure message).
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn add(&mut self, what: impl Into<String>, value: impl Into<String>) {
        let value = value.into();
        assert!(value.len() >= 8, "a secret to look for is long enough not to match by chance: {value:?}");
        self.0.push((what.into(), value));
    }

    /// A JWT: the whole token, and its signature alone (what makes it a credential).
    fn add_token(&mut self, what: &str, token: &str) {
        self.add(what, token);
        self.add(format!("{what} (Authorization header)"), format!("Bearer {token}"));
        if let Some(signature) = token.rsplit('.').next().filter(|s| *s != token) {
            self.add(format!("{what} (signature)"), signature);
        }
    }

    /// An invitation code as issued and as it would look normalised (no hyphens, any case).
    fn add_code(&mut self, what: &str, code: &str) {
        self.add(what, code);
        self.add(format!("{what} (normalised)"), code.replace('-', ""));
    }

    /// Every occurrence: what leaked, where (source and line) and the line with the secret masked.
    fn find_in(&self, source: &str, text: &str) -> Vec<String> {
        let mut leaks = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let folded = line.to_lowercase();
            for (what, value) in &self.0 {
                if folded.contains(&value.to_lowercase()) {
                    let masked = line.replace(value.as_str(), "«SECRET»");
                    let excerpt: String = masked.chars().take(400).collect();
                    leaks.push(format!("{what} in {source} line {}: {excerpt}", number + 1));
                }
            }
        }
        leaks
    }
}

/// A unique marker no log line could contain by chance.
fn sentinel(what: &str) -> String {
    format!("{what}-{}", uuid::Uuid::new_v4().simple())
}

/// How the service writes its lines: JSON prints the innermost span's fields, the readable
/// format every enclosing span's, so a secret in an outer span shows in one and not the other.
#[derive(Debug, Clone, Copy)]
enum Format {
    Json,
    Pretty,
}

impl Format {
    fn setting(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Pretty => "pretty",
        }
    }

    /// What a trace-level log in this format certainly holds.
    fn markers(self) -> [&'static str; 4] {
        match self {
            Self::Json => [r#""level":"DEBUG""#, r#""level":"TRACE""#, "/auth/login", "/graphql"],
            Self::Pretty => ["DEBUG", "TRACE", "/auth/login", "/graphql"],
        }
    }
}

/// The most verbose logging the service has, with a signing secret of our own.
fn verbose(format: Format, jwt_secret: &str) -> Vec<(&'static str, String)> {
    vec![
        ("RUST_LOG", "trace".to_owned()),
        ("ORB_LOG_FORMAT", format.setting().to_owned()),
        ("ORB_JWT__SECRET", jwt_secret.to_owned()),
        ("ORB_WORKERS", "1".to_owned()),
    ]
}

struct Http {
    address: String,
    http: reqwest::Client,
}

impl Http {
    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut request = self.http.post(format!("{}{path}", self.address)).json(&body);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = request.send().await.expect("orb answers");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let (status, body) = self.post("/graphql", token, json!({ "query": query, "variables": variables })).await;
        assert!(status == StatusCode::OK && body["errors"].is_null(), "expected success, got {status} {body}");
        body["data"].clone()
    }

    async fn refused(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let (_, body) = self.post("/graphql", token, json!({ "query": query, "variables": variables })).await;
        assert!(body["errors"].is_array(), "expected a refusal, got {body}");
        body
    }

    /// Signs in; returns the access and refresh tokens.
    async fn sign_in(&self, email: &str, password: &str) -> (String, String) {
        let (status, body) = self.post("/auth/login", None, json!({ "email": email, "password": password })).await;
        assert_eq!(status, StatusCode::OK, "{email} signs in: {body}");
        tokens(&body)
    }
}

fn tokens(body: &Value) -> (String, String) {
    let access = body["access_token"].as_str().expect("an access token").to_owned();
    let refresh = body["refresh_token"].as_str().expect("a refresh token").to_owned();
    (access, refresh)
}

/// `orb user create` with the password on stdin, as an operator runs it; returns what it wrote.
fn create_account(database_url: &str, settings: &[(&str, String)], email: &str, password: &str) -> String {
    let mut process = Command::new(orb_binary())
        .args(["user", "create", "--email", email, "--role", "staff", "--county", "kings"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("ORB_CONFIG", "/nonexistent/orb.toml")
        .env("DATABASE_URL", database_url)
        .envs(settings.iter().map(|(key, value)| (*key, value.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("orb user create starts");
    process
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("the password is written");
    let output = process.wait_with_output().expect("orb user create ends");
    let written = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "orb user create failed:\n{written}");
    written
}

#[tokio::test]
async fn no_password_token_code_or_answer_reaches_json_logs_even_at_trace() {
    scan_a_journey(Format::Json).await;
}

#[tokio::test]
async fn no_password_token_code_or_answer_reaches_readable_logs_even_at_trace() {
    scan_a_journey(Format::Pretty).await;
}

async fn scan_a_journey(format: Format) {
    let db = TestDatabase::clone_template().await;
    let mut secrets = Secrets(Vec::new());
    let jwt_secret = sentinel("jwt-signing-secret");
    secrets.add("the JWT signing secret", &jwt_secret);
    // Trust authentication on 127.0.0.1 ignores these passwords, but the service holds them
    // as it would in production.
    let owner_password = sentinel("owner-db-password");
    let runtime_password = sentinel("runtime-db-password");
    secrets.add("the schema owner's database password", &owner_password);
    secrets.add("the runtime role's database password", &runtime_password);
    let mut owner_url = url::Url::parse(&db.url()).expect("a URL");
    owner_url.set_password(Some(&owner_password)).expect("a password");
    let mut runtime_url = owner_url.clone();
    runtime_url.set_username(orb_server::database::RUNTIME_ROLE).expect("a user name");
    runtime_url.set_password(Some(&runtime_password)).expect("a password");
    let mut settings = verbose(format, &jwt_secret);
    settings.push(("ORB_RUNTIME_DATABASE_URL", runtime_url.to_string()));

    // An account made on the command line, its password on stdin.
    let email = format!("scan.{}@kings.example", uuid::Uuid::new_v4().simple());
    let first_password = sentinel("first-password");
    secrets.add("a password set with orb user create", &first_password);
    let cli_output = create_account(owner_url.as_str(), &settings, &email, &first_password);

    let mut orb = OrbProcess::start(owner_url.as_str(), &settings).await;
    let api = Http { address: orb.address.clone(), http: reqwest::Client::new() };

    // Sign-in, refresh, a password change, logout, sign-in with the new password.
    let (access, refresh) = api.sign_in(&email, &first_password).await;
    secrets.add_token("an access token", &access);
    secrets.add("a refresh token", &refresh);
    let (status, body) = api.post("/auth/refresh", None, json!({ "refresh_token": refresh })).await;
    assert_eq!(status, StatusCode::OK, "refresh: {body}");
    let (access, refresh) = tokens(&body);
    secrets.add_token("a refreshed access token", &access);
    secrets.add("a rotated refresh token", &refresh);
    let me = api.graphql(Some(&access), "{ me { user { email } } }", json!({})).await;
    assert_eq!(me["me"]["user"]["email"], email.as_str());
    let second_password = sentinel("second-password");
    secrets.add("a new password given to changePassword", &second_password);
    api.graphql(
        Some(&access),
        "mutation($current: String!, $new: String!) { changePassword(currentPassword: $current, newPassword: $new) }",
        json!({ "current": first_password, "new": second_password }),
    )
    .await;
    let (status, _) = api.post("/auth/logout", None, json!({ "refresh_token": refresh })).await;
    assert!(status.is_success(), "logout answers {status}");
    let (access, refresh) = api.sign_in(&email, &second_password).await;
    secrets.add_token("an access token after the change", &access);
    secrets.add("a refresh token after the change", &refresh);

    // Failed sign-ins: a wrong password for an account, and for no account.
    for (what, login) in [("a wrong password", email.as_str()), ("a password for no account", "nobody@kings.example")] {
        let wrong = sentinel("wrong-password");
        secrets.add(what, &wrong);
        let (status, _) = api.post("/auth/login", None, json!({ "email": login, "password": wrong })).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what} is refused");
    }

    // A lead opens a wave of the state instrument and issues invitation codes.
    let (lead, lead_refresh) = api.sign_in("lead@kings.demo.orb", orb_tests::DEMO_PASSWORD).await;
    secrets.add("the demo password", orb_tests::DEMO_PASSWORD);
    secrets.add_token("a lead's access token", &lead);
    secrets.add("a lead's refresh token", &lead_refresh);
    let state =
        api.graphql(Some(&lead), "{ instruments(owner: { state: true }) { latestPublished { id } } }", json!({})).await;
    let kings = db.scalar_text("SELECT id::text FROM counties WHERE slug = 'kings'").await;
    let created = api
        .graphql(
            Some(&lead),
            "mutation($input: CreateAdministrationInput!) { createAdministration(input: $input) { id } }",
            json!({ "input": {
                "countyId": kings,
                "instrumentVersionId": state["instruments"][0]["latestPublished"]["id"],
                "title": "Log scan wave",
                "opensAt": (Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
                "closesAt": (Utc::now() + chrono::Duration::days(14)).to_rfc3339(),
                "perspectives": ["SUPERVISOR", "SOCIAL_WORKER"],
            } }),
        )
        .await;
    let administration = created["createAdministration"]["id"].as_str().expect("an id").to_owned();
    api.graphql(
        Some(&lead),
        "mutation($id: ID!) { openAdministration(id: $id) { status } }",
        json!({ "id": administration }),
    )
    .await;
    let issued = api
        .graphql(
            Some(&lead),
            "mutation($input: IssueInvitationsInput!) { issueInvitations(input: $input) { codes } }",
            json!({ "input": { "administrationId": administration, "count": 3 } }),
        )
        .await;
    let codes: Vec<String> = issued["issueInvitations"]["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("a code").to_owned())
        .collect();
    for code in &codes {
        secrets.add_code("an invitation code", code);
    }

    // A respondent exchanges a code (typed carelessly), saves and submits free text.
    let typed = codes[0].to_lowercase().replace('-', " ");
    secrets.add("an invitation code as typed", &typed);
    let started = api
        .graphql(None, "mutation($code: String!) { startResponse(code: $code) { token } }", json!({ "code": typed }))
        .await;
    let respondent = started["startResponse"]["token"].as_str().expect("a respondent token").to_owned();
    secrets.add_token("a respondent token", &respondent);
    api.graphql(Some(&respondent), "{ myResponse { status answers } }", json!({})).await;
    let saved_text = sentinel("saved free text answer");
    secrets.add("a saved free-text answer", &saved_text);
    api.graphql(
        Some(&respondent),
        "mutation($input: AnswersInput!) { saveResponse(input: $input) { status } }",
        json!({ "input": { "answers": { "FIT1": 4, "FIT_HELP": saved_text }, "perspective": "SUPERVISOR" } }),
    )
    .await;
    let refused_text = sentinel("refused answer");
    secrets.add("an answer refused by validation", &refused_text);
    api.refused(
        Some(&respondent),
        "mutation($input: AnswersInput!) { saveResponse(input: $input) { status } }",
        json!({ "input": { "answers": { "FIT2": refused_text } } }),
    )
    .await;
    let submitted_text = sentinel("submitted free text answer");
    secrets.add("a submitted free-text answer", &submitted_text);
    let key = sentinel("idempotency");
    let submitted = api
        .graphql(
            Some(&respondent),
            "mutation($input: AnswersInput!, $key: String!) { submitResponse(input: $input, idempotencyKey: $key) { status } }",
            json!({ "input": { "answers": { "CLIMATE_HELP": submitted_text, "TEAMS1": 2 } }, "key": key }),
        )
        .await;
    assert_eq!(submitted["submitResponse"]["status"], "SUBMITTED");

    // Bad credentials: garbage, a tampered token, an unknown code.
    let garbage = sentinel("not-a-token");
    secrets.add("a garbage bearer token", &garbage);
    let (status, _) = api.post("/graphql", Some(&garbage), json!({ "query": "{ __typename }" })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let tampered = format!("{}x", &lead[..lead.len() - 1]);
    secrets.add_token("a tampered token", &tampered);
    let (status, _) = api.post("/graphql", Some(&tampered), json!({ "query": "{ me { user { email } } }" })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let unknown_code = "7KQ4-M2XD-9HTR-BW3E";
    secrets.add_code("an unknown invitation code", unknown_code);
    api.refused(
        None,
        "mutation($code: String!) { startResponse(code: $code) { token } }",
        json!({ "code": unknown_code }),
    )
    .await;
    let (status, _) = api.post("/auth/logout", None, json!({ "refresh_token": lead_refresh })).await;
    assert!(status.is_success(), "the lead logs out: {status}");

    orb.signal("TERM");
    let exited = orb.wait(Duration::from_secs(20)).await;
    let log = orb.log();
    assert!(exited.is_some_and(|s| s.success()), "orb stops on SIGTERM: {exited:?}");

    // The log is the verbose one: requests, spans and debug lines are all there.
    let lines = log.lines().count();
    assert!(lines >= 50, "a trace-level run writes a lot, got {lines} lines:\n{log}");
    for expected in format.markers() {
        assert!(log.contains(expected), "the log has {expected}");
    }

    let mut leaks = secrets.find_in("orb serve's output", &log);
    leaks.extend(secrets.find_in("orb user create's output", &cli_output));
    println!(
        "log scan ({format:?}): {} lines from orb serve and {} from orb user create, {} secrets looked for, {} found",
        lines,
        cli_output.lines().count(),
        secrets.0.len(),
        leaks.len()
    );
    assert!(leaks.is_empty(), "secrets reached the logs:\n{}", leaks.join("\n"));
}

#[test]
fn the_scan_names_what_leaked_and_on_which_line() {
    let mut secrets = Secrets(Vec::new());
    secrets.add("a refresh token", "r3fresh-t0ken-value");
    secrets.add_code("an invitation code", "7KQ4-M2XD-9HTR-BW3E");
    let log = "{\"message\":\"fine\"}\n{\"message\":\"token R3FRESH-T0KEN-VALUE\"}\ncode=7kq4m2xd9htrbw3e\n";
    let leaks = secrets.find_in("a log", log);
    assert_eq!(leaks.len(), 2, "{leaks:?}");
    assert!(leaks[0].starts_with("a refresh token in a log line 2"), "{leaks:?}");
    assert!(leaks[1].starts_with("an invitation code (normalised) in a log line 3"), "{leaks:?}");
}
