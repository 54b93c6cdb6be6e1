//! Crash reconciliation: respondents in several counties start, save and submit while the
//! built `orb` is killed with SIGKILL and restarted and the PostgreSQL it uses (a cluster this
//! test owns) is stopped immediately and restarted. Clients retry with the same idempotency
//! key until acknowledged. Afterwards the database is reconciled with what clients sent and
//! heard: nothing acknowledged is missing, nothing is stored twice, nothing is stored that no
//! client sent, and each county's submitted count is what its respondents were told.
//!
//! The default run takes about 15 s on an idle 2-core machine. A longer one, with more
//! respondents and rounds of crashes (each round one SIGKILL of orb and one immediate stop of
//! PostgreSQL):
//!
//! ```sh
//! ORB_CRASH_RESPONDENTS=200 ORB_CRASH_ROUNDS=6 ORB_CRASH_SEED=7 \
//!   cargo test -p orb-tests --test api crash_reconciliation:: -- --nocapture
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Utc;
use orb_tests::process::{OrbProcess, OwnedPostgres};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};
use tokio::time::Instant;

/// The counties respondents answer in, one open wave each.
const COUNTIES: [&str; 4] = ["kings", "calaveras", "stanislaus", "shasta"];

/// Each round of crashes spreads over this long; respondents start throughout the rounds.
const ROUND: Duration = Duration::from_secs(6);

/// Codes that mean "try again": the service or its database was not there for this request.
const TRANSIENT_CODES: [&str; 3] = ["SERVICE_UNAVAILABLE", "INTERNAL_SERVER_ERROR", "TIMEOUT"];

/// How big a run is: `ORB_CRASH_RESPONDENTS` (60), `ORB_CRASH_ROUNDS` (1), `ORB_CRASH_SEED` (2026).
#[derive(Debug, Clone, Copy)]
struct Scenario {
    respondents: usize,
    rounds: u32,
    seed: u64,
}

impl Scenario {
    fn from_env() -> Self {
        fn read<T: std::str::FromStr>(name: &str, default: T) -> T {
            match std::env::var(name) {
                Ok(value) => value.trim().parse().unwrap_or_else(|_| panic!("{name} is not a number: {value:?}")),
                Err(_) => default,
            }
        }
        let scenario = Self {
            respondents: read("ORB_CRASH_RESPONDENTS", 60),
            rounds: read("ORB_CRASH_ROUNDS", 1),
            seed: read("ORB_CRASH_SEED", 2026),
        };
        assert!(scenario.respondents >= COUNTIES.len(), "at least one respondent per county");
        assert!(scenario.rounds >= 1, "at least one round of crashes");
        scenario
    }

    /// The time over which respondents start and crashes happen.
    fn window(&self) -> Duration {
        ROUND * self.rounds
    }
}

/// A request's outcome as a client with retries sees it.
enum Answer {
    /// `data` of a successful operation.
    Done(Value),
    /// No answer, a 5xx, or a code meaning the service or database was away: send it again.
    Again(String),
    /// A definite refusal: retrying would not change it.
    Refused(String),
}

/// A GraphQL client that tells transient failures apart from answers.
#[derive(Clone)]
struct Client {
    address: String,
    http: reqwest::Client,
}

impl Client {
    fn new(address: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(4))
            .connect_timeout(Duration::from_secs(1))
            .build()
            .expect("an HTTP client");
        Self { address: address.to_owned(), http }
    }

    async fn send(&self, token: Option<&str>, query: &str, variables: Value) -> Answer {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return Answer::Again(format!("no answer: {e}")),
        };
        let status = response.status();
        let body: Value = match response.json().await {
            Ok(body) => body,
            Err(e) => return Answer::Again(format!("{status} with an unreadable body: {e}")),
        };
        let code = body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default().to_owned();
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS || TRANSIENT_CODES.contains(&&*code) {
            Answer::Again(format!("{status} {code}"))
        } else if status == StatusCode::OK && body["errors"].is_null() {
            Answer::Done(body["data"].clone())
        } else {
            Answer::Refused(format!("{status} {body}"))
        }
    }

    /// Sends until answered or `deadline`; counts each retry in `retries`.
    async fn until_answered(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
        deadline: Instant,
        retries: &AtomicUsize,
    ) -> Result<Value, String> {
        loop {
            match self.send(token, query, variables.clone()).await {
                Answer::Done(data) => return Ok(data),
                Answer::Refused(why) => return Err(format!("refused: {why}")),
                Answer::Again(why) => {
                    if Instant::now() >= deadline {
                        return Err(format!("gave up at the deadline: {why}"));
                    }
                    retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }

    /// Setup before any crash: must succeed.
    async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        match self.send(Some(token), query, variables).await {
            Answer::Done(data) => data,
            Answer::Again(why) | Answer::Refused(why) => panic!("setup failed: {why}"),
        }
    }

    async fn sign_in(&self, email: &str) -> String {
        let body = json!({ "email": email, "password": orb_tests::DEMO_PASSWORD });
        let response =
            self.http.post(format!("{}/auth/login", self.address)).json(&body).send().await.expect("answers");
        assert_eq!(response.status(), StatusCode::OK, "{email} signs in");
        let body: Value = response.json().await.expect("json");
        body["access_token"].as_str().expect("an access token").to_owned()
    }
}

/// One county's wave: its id and the invitation codes its respondents use.
struct Wave {
    county: &'static str,
    administration: String,
    codes: Vec<String>,
}

/// As the county's lead: opens an anonymous wave of the state instrument and issues `codes`.
async fn open_wave(client: &Client, county: &'static str, county_id: &str, codes: usize) -> Wave {
    let lead = client.sign_in(&format!("lead@{county}.demo.orb")).await;
    let instruments =
        client.ok(&lead, "{ instruments(owner: { state: true }) { key latestPublished { id } } }", json!({})).await;
    let version = orb_tests::state_instrument_version(&instruments);
    let input = json!({
        "countyId": county_id,
        "instrumentVersionId": version,
        "title": "Crash reconciliation wave",
        "opensAt": (Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
        "closesAt": (Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
        "perspectives": ["SUPERVISOR", "SOCIAL_WORKER", "MANAGER"],
        "anonymity": "ANONYMOUS",
    });
    let created = client
        .ok(
            &lead,
            "mutation($input: CreateAdministrationInput!) { createAdministration(input: $input) { id } }",
            json!({ "input": input }),
        )
        .await;
    let administration = created["createAdministration"]["id"].as_str().expect("an id").to_owned();
    client
        .ok(&lead, "mutation($id: ID!) { openAdministration(id: $id) { status } }", json!({ "id": administration }))
        .await;
    let issued = client
        .ok(
            &lead,
            "mutation($input: IssueInvitationsInput!) { issueInvitations(input: $input) { codes } }",
            json!({ "input": { "administrationId": administration, "count": codes } }),
        )
        .await;
    let codes = issued["issueInvitations"]["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("a code").to_owned())
        .collect();
    Wave { county, administration, codes }
}

/// What one respondent does and sends, decided before the run from the seed.
#[derive(Debug, Clone)]
struct Plan {
    number: usize,
    county: &'static str,
    code: String,
    key: String,
    starts_after: Duration,
    pauses: [Duration; 3],
    saved: Value,
    submitted: Value,
}

/// What a respondent's client saw.
#[derive(Debug)]
struct Outcome {
    plan: Plan,
    /// Whether a submission with its key left the client at least once.
    sent: bool,
    /// The idempotency key the service acknowledged a submission for (the acknowledgement
    /// names no response and carries none of its content).
    acknowledged: Option<String>,
    /// Why it ended unacknowledged.
    failure: Option<String>,
}

const START: &str = "mutation($code: String!) { startResponse(code: $code) { token status } }";
const FETCH: &str = "{ myResponse { status survey { title } answers } }";
const SAVE: &str = "mutation($input: AnswersInput!) { saveResponse(input: $input) { status } }";
const SUBMIT: &str = "mutation($input: AnswersInput!, $key: String!) { submitResponse(input: $input, idempotencyKey: $key) { status submittedOn } }";

/// Retries per step, across respondents.
#[derive(Debug, Default)]
struct Retries {
    start: AtomicUsize,
    fetch: AtomicUsize,
    save: AtomicUsize,
    submit: AtomicUsize,
}

impl Retries {
    fn total(&self) -> usize {
        [&self.start, &self.fetch, &self.save, &self.submit].iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

impl fmt::Display for Retries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [start, fetch, save, submit] =
            [&self.start, &self.fetch, &self.save, &self.submit].map(|c| c.load(Ordering::Relaxed));
        write!(f, "{} retries (start {start}, fetch {fetch}, save {save}, submit {submit})", self.total())
    }
}

async fn respond(client: Client, plan: Plan, began: Instant, deadline: Instant, retries: Arc<Retries>) -> Outcome {
    tokio::time::sleep_until(began + plan.starts_after).await;
    let mut outcome = Outcome { plan, sent: false, acknowledged: None, failure: None };
    let plan = &outcome.plan;
    let started = client.until_answered(None, START, json!({ "code": plan.code }), deadline, &retries.start).await;
    let token = match started.map(|d| d["startResponse"]["token"].as_str().map(str::to_owned)) {
        Ok(Some(token)) => token,
        Ok(None) => return failed(outcome, "startResponse gave no token".into()),
        Err(why) => return failed(outcome, format!("start: {why}")),
    };
    tokio::time::sleep(plan.pauses[0]).await;
    if let Err(why) = client.until_answered(Some(&token), FETCH, json!({}), deadline, &retries.fetch).await {
        return failed(outcome, format!("fetch: {why}"));
    }
    tokio::time::sleep(plan.pauses[1]).await;
    if let Err(why) =
        client.until_answered(Some(&token), SAVE, json!({ "input": plan.saved }), deadline, &retries.save).await
    {
        return failed(outcome, format!("save: {why}"));
    }
    tokio::time::sleep(plan.pauses[2]).await;
    outcome.sent = true;
    let variables = json!({ "input": plan.submitted, "key": plan.key });
    match client.until_answered(Some(&token), SUBMIT, variables, deadline, &retries.submit).await {
        Ok(data) if data["submitResponse"]["status"] == "SUBMITTED" => {
            outcome.acknowledged = Some(plan.key.clone());
            println!("acknowledged: respondent {} in {}, key {}", plan.number, plan.county, plan.key);
            outcome
        }
        Ok(data) => failed(outcome, format!("submit answered {data}")),
        Err(why) => failed(outcome, format!("submit: {why}")),
    }
}

fn failed(mut outcome: Outcome, why: String) -> Outcome {
    outcome.failure = Some(why);
    outcome
}

/// Something the chaos does to the running system.
#[derive(Debug, Clone, Copy)]
enum Crash {
    /// SIGKILL orb, then start it again on the same port.
    KillOrb,
    /// `pg_ctl stop -m immediate`, down for a while, then start (crash recovery).
    StopPostgres { down: Duration },
}

/// Per round, one crash of each kind at seeded moments, in a seeded order.
fn chaos_schedule(scenario: &Scenario, rng: &mut StdRng) -> Vec<(Duration, Crash)> {
    let mut schedule = Vec::new();
    for round in 0..scenario.rounds {
        let base = ROUND * round;
        let first = base + Duration::from_millis(rng.gen_range(700..2_200));
        let second = base + Duration::from_millis(rng.gen_range(3_200..4_800));
        let stop = Crash::StopPostgres { down: Duration::from_millis(rng.gen_range(300..1_500)) };
        let (a, b) = if rng.gen_bool(0.5) { (Crash::KillOrb, stop) } else { (stop, Crash::KillOrb) };
        schedule.push((first, a));
        schedule.push((second, b));
    }
    schedule
}

fn plans(scenario: &Scenario, waves: &[Wave], rng: &mut StdRng) -> Vec<Plan> {
    let window_ms = u64::try_from(scenario.window().as_millis()).expect("a short window").saturating_sub(1_000);
    let perspectives = ["SUPERVISOR", "SOCIAL_WORKER", "MANAGER"];
    (0..scenario.respondents)
        .map(|number| {
            let wave = &waves[number % waves.len()];
            let code = wave.codes[number / waves.len()].clone();
            let mut likert = || rng.gen_range(1..=5);
            let saved = json!({ "FIT1": likert(), "FIT2": likert() });
            let mut answers = saved.as_object().cloned().unwrap_or_default();
            for item in ["CLIMATE1", "TEAMS1", "COMMS1", "DATA1", "LEAD1"] {
                answers.insert(item.into(), json!(likert()));
            }
            let perspective = perspectives[rng.gen_range(0..perspectives.len())];
            Plan {
                number,
                county: wave.county,
                code,
                key: format!("crash-{}-{number:05}", scenario.seed),
                starts_after: Duration::from_millis(rng.gen_range(0..window_ms.max(1))),
                pauses: [(); 3].map(|()| Duration::from_millis(rng.gen_range(50..500))),
                saved: json!({ "answers": saved, "perspective": perspective }),
                submitted: json!({ "answers": answers, "perspective": perspective }),
            }
        })
        .collect()
}

/// What the chaos did.
#[derive(Debug, Default, Clone, Copy)]
struct Crashes {
    orb_kills: usize,
    postgres_restarts: usize,
}

async fn run_chaos(
    schedule: Vec<(Duration, Crash)>,
    began: Instant,
    orb: &mut OrbProcess,
    postgres: &Arc<OwnedPostgres>,
) -> Crashes {
    let mut done = Crashes::default();
    for (at, crash) in schedule {
        tokio::time::sleep_until(began + at).await;
        match crash {
            Crash::KillOrb => {
                orb.kill();
                orb.restart().await;
                done.orb_kills += 1;
            }
            Crash::StopPostgres { down } => {
                let cluster = postgres.clone();
                tokio::task::spawn_blocking(move || cluster.stop_immediately()).await.expect("pg_ctl stop runs");
                tokio::time::sleep(down).await;
                let cluster = postgres.clone();
                tokio::task::spawn_blocking(move || cluster.start()).await.expect("pg_ctl start runs");
                done.postgres_restarts += 1;
            }
        }
        println!("crash: {crash:?} done at {:.1} s", began.elapsed().as_secs_f64());
    }
    done
}

/// One stored response of the run's waves, as the database holds it.
struct Stored {
    id: String,
    county: String,
    status: String,
    key: Option<String>,
    answers: Value,
    perspective: Option<String>,
}

async fn stored_responses(database_url: &str, waves: &[Wave]) -> Vec<Stored> {
    let mut options = ConnectOptions::new(database_url.to_owned());
    options.max_connections(1).connect_timeout(Duration::from_secs(10)).sqlx_logging(false);
    let owner = Database::connect(options).await.expect("the owned cluster is reachable");
    let ids = waves.iter().map(|w| format!("'{}'", w.administration)).collect::<Vec<_>>().join(", ");
    let rows = owner
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT r.id::text AS id, c.slug AS county, r.status, r.submit_key, r.answers, r.perspective \
                 FROM responses r JOIN counties c ON c.id = r.county_id \
                 WHERE r.administration_id IN ({ids})"
            ),
        ))
        .await
        .expect("the reconciliation query runs");
    owner.close().await.ok();
    rows.iter()
        .map(|row| Stored {
            id: row.try_get("", "id").expect("id"),
            county: row.try_get("", "county").expect("county"),
            status: row.try_get("", "status").expect("status"),
            key: row.try_get("", "submit_key").expect("submit_key"),
            answers: row.try_get("", "answers").expect("answers"),
            perspective: row.try_get("", "perspective").expect("perspective"),
        })
        .collect()
}

/// The reconciliation's figures; every count that must be zero is one a user relies on.
#[derive(Debug, Default)]
struct Figures {
    respondents: usize,
    acknowledged: usize,
    unacknowledged: usize,
    retries: String,
    crashes: Crashes,
    stored_submitted: usize,
    stored_in_progress: usize,
    acknowledged_but_missing: usize,
    duplicates: usize,
    stored_but_never_sent: usize,
    /// County → (acknowledged, stored submitted).
    by_county: BTreeMap<String, (usize, usize)>,
    seconds: f64,
}

impl Figures {
    fn reconciled(&self) -> bool {
        self.unacknowledged == 0
            && self.acknowledged_but_missing == 0
            && self.duplicates == 0
            && self.stored_but_never_sent == 0
            && self.by_county.values().all(|(acknowledged, stored)| acknowledged == stored)
    }
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "crash reconciliation: {} respondents in {} counties, {} acknowledged, {} unacknowledged, {}, \
             {} orb SIGKILLs, {} PostgreSQL immediate stops, {:.1} s",
            self.respondents,
            self.by_county.len(),
            self.acknowledged,
            self.unacknowledged,
            self.retries,
            self.crashes.orb_kills,
            self.crashes.postgres_restarts,
            self.seconds
        )?;
        writeln!(
            f,
            "  stored: {} submitted, {} in progress; acknowledged but missing: {}; duplicates: {}; \
             stored but never sent: {}",
            self.stored_submitted,
            self.stored_in_progress,
            self.acknowledged_but_missing,
            self.duplicates,
            self.stored_but_never_sent
        )?;
        for (county, (acknowledged, stored)) in &self.by_county {
            writeln!(f, "  {county}: {acknowledged} acknowledged, {stored} submitted stored")?;
        }
        Ok(())
    }
}

fn reconcile(outcomes: &[Outcome], stored: &[Stored]) -> (Figures, Vec<String>) {
    let mut figures = Figures { respondents: outcomes.len(), ..Figures::default() };
    let mut problems = Vec::new();
    let submitted: Vec<&Stored> = stored.iter().filter(|s| s.status == "submitted").collect();
    figures.stored_submitted = submitted.len();
    figures.stored_in_progress = stored.len() - submitted.len();
    let sent: BTreeMap<&str, &Outcome> = outcomes.iter().filter(|o| o.sent).map(|o| (o.plan.key.as_str(), o)).collect();

    for outcome in outcomes {
        let entry = figures.by_county.entry(outcome.plan.county.to_owned()).or_default();
        match &outcome.acknowledged {
            Some(id) => {
                figures.acknowledged += 1;
                entry.0 += 1;
                let found = submitted.iter().filter(|s| s.key.as_deref() == Some(id.as_str())).count() == 1;
                if !found {
                    figures.acknowledged_but_missing += 1;
                    problems.push(format!("respondent {} was acknowledged with {id}, not stored", outcome.plan.number));
                }
            }
            None => {
                figures.unacknowledged += 1;
                problems.push(format!(
                    "respondent {} ({}) never acknowledged: {}",
                    outcome.plan.number,
                    outcome.plan.county,
                    outcome.failure.as_deref().unwrap_or("no reason")
                ));
            }
        }
    }
    let mut acknowledged_ids = BTreeSet::new();
    for id in outcomes.iter().filter_map(|o| o.acknowledged.as_deref()) {
        if !acknowledged_ids.insert(id) {
            figures.duplicates += 1;
            problems.push(format!("{id} was acknowledged to two respondents"));
        }
    }
    let mut keys = BTreeSet::new();
    for row in &submitted {
        figures.by_county.entry(row.county.clone()).or_default().1 += 1;
        if let Some(key) = &row.key
            && !keys.insert(key.as_str())
        {
            figures.duplicates += 1;
            problems.push(format!("key {key} is stored twice"));
        }
        let client = row.key.as_deref().and_then(|key| sent.get(key));
        let as_sent = client.is_some_and(|o| {
            o.plan.county == row.county
                && o.plan.submitted["answers"] == row.answers
                && o.plan.submitted["perspective"].as_str() == row.perspective.as_deref()
        });
        if !as_sent {
            figures.stored_but_never_sent += 1;
            problems.push(format!(
                "{} ({}) is stored but no client sent it as stored: key {:?}",
                row.id, row.county, row.key
            ));
        }
    }
    (figures, problems)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_submissions_survive_kills_of_orb_and_postgres_and_nothing_else_is_stored() {
    let scenario = Scenario::from_env();
    // Building the binary (when stale) is not part of the run's time.
    tokio::task::spawn_blocking(orb_tests::process::orb_binary).await.expect("the orb binary is built");
    // Always stops by itself: the setup, the run and the reconciliation under one limit.
    let limit = Duration::from_secs(180) + scenario.window() * 3;
    tokio::time::timeout(limit, crash_and_reconcile(scenario))
        .await
        .unwrap_or_else(|_| panic!("the crash run did not finish within {limit:?} ({scenario:?})"));
}

async fn crash_and_reconcile(scenario: Scenario) {
    let postgres = Arc::new(tokio::task::spawn_blocking(OwnedPostgres::create).await.expect("initdb runs"));
    let database_url = postgres.url("orb");
    let settings = [
        ("ORB_WORKERS", "2".to_owned()),
        ("ORB_DATABASE_POOL_SIZE", "8".to_owned()),
        ("ORB_DATABASE_ACQUIRE_TIMEOUT_MS", "1000".to_owned()),
        ("ORB_REQUEST_TIMEOUT_MS", "4000".to_owned()),
        ("ORB_RATE_LIMITS__LOGIN_PER_MINUTE", "100000".to_owned()),
        ("ORB_RATE_LIMITS__CODE_EXCHANGE_PER_MINUTE", "100000".to_owned()),
    ];
    // The first start creates the database, migrates it and loads the demo.
    let mut orb = OrbProcess::start_with(&database_url, &["serve", "--demo"], &settings).await;
    let client = Client::new(&orb.address);

    let per_county = scenario.respondents.div_ceil(COUNTIES.len());
    let mut waves = Vec::new();
    {
        let mut options = ConnectOptions::new(database_url.clone());
        options.max_connections(1).sqlx_logging(false);
        let owner = Database::connect(options).await.expect("the owned cluster is reachable");
        for county in COUNTIES {
            let row = owner
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    format!("SELECT id::text AS id FROM counties WHERE slug = '{county}'"),
                ))
                .await
                .expect("query runs")
                .expect("the demo county exists");
            let county_id: String = row.try_get("", "id").expect("an id");
            waves.push(open_wave(&client, county, &county_id, per_county).await);
        }
        owner.close().await.ok();
    }

    let mut rng = StdRng::seed_from_u64(scenario.seed);
    let plans = plans(&scenario, &waves, &mut rng);
    let schedule = chaos_schedule(&scenario, &mut rng);
    println!("crash schedule (seed {}): {schedule:?}", scenario.seed);

    let began = Instant::now();
    let deadline = began + scenario.window() + Duration::from_secs(25);
    let retries = Arc::new(Retries::default());
    let respondents: Vec<_> = plans
        .into_iter()
        .map(|plan| tokio::spawn(respond(client.clone(), plan, began, deadline, retries.clone())))
        .collect();
    let crashes = run_chaos(schedule, began, &mut orb, &postgres).await;
    let mut outcomes = Vec::new();
    for respondent in respondents {
        outcomes.push(respondent.await.expect("a respondent's task ends"));
    }
    let seconds = began.elapsed().as_secs_f64();

    let stored = stored_responses(&database_url, &waves).await;
    let (mut figures, problems) = reconcile(&outcomes, &stored);
    figures.crashes = crashes;
    figures.retries = retries.to_string();
    figures.seconds = seconds;
    println!("{figures}");

    if !(figures.reconciled() && problems.is_empty()) {
        let log = orb.log();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        panic!(
            "the database does not reconcile with what clients heard:\n{figures}{}\n\norb's last lines:\n{}",
            problems.join("\n"),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    let expected = scenario.rounds as usize;
    assert!(
        crashes.orb_kills == expected && crashes.postgres_restarts == expected,
        "every scheduled crash happened:\n{figures}"
    );
    assert!(retries.total() > 0, "the crashes met requests in flight (no client had to retry):\n{figures}");
    assert_eq!(figures.acknowledged, scenario.respondents, "{figures}");
}
