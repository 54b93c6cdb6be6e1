//! `orb-load all`: the whole benchmark in one run — a scratch database, orb started on it, the
//! state generated, every scenario with its ceiling and its peer, one table, the check that every
//! acknowledged submission is stored, and the scratch database dropped.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::drive::{GraphqlScenario, Request, run_graphql};
use crate::generator::{self, Plan};
use crate::graphql::Endpoint;
use crate::peer::{Peer, PeerDocuments};
use crate::readers::{self, Reading};
use crate::respondents::{self, Acknowledged};
use crate::server::{MemorySampler, Orb, memory_kib};
use crate::stats::Summary;
use crate::table::{self, Row};

/// How a run is sized.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// PostgreSQL server, as a superuser (the scratch database is created and dropped on it).
    #[arg(
        long,
        env = "ORB_LOAD_DATABASE_SERVER",
        default_value = "postgres://postgres@127.0.0.1:5432/?sslmode=disable"
    )]
    pub database_server: String,
    /// The `orb` binary (default: the one next to this binary).
    #[arg(long)]
    pub orb: Option<PathBuf>,
    /// Seed of the generated state.
    #[arg(long, default_value_t = 2017)]
    pub seed: u64,
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Concurrent respondents (and direct writers of the ceiling).
    #[arg(long, default_value_t = 200)]
    pub respondents: usize,
    /// Concurrent readers (orb, the SQL ceiling and the peer alike).
    #[arg(long, default_value_t = 16)]
    pub readers: usize,
    /// Connections the ceiling's writers and readers share (orb's pool has 16 by default).
    #[arg(long, default_value_t = 16)]
    pub ceiling_pool: u32,
    /// Where PostGraphile's start script and documents are; the peer is skipped if absent.
    #[arg(long, default_value = "bench/postgraphile")]
    pub postgraphile: PathBuf,
    /// Keep the scratch database (its name is printed) instead of dropping it.
    #[arg(long)]
    pub keep: bool,
    /// Where logs of orb and the peer go.
    #[arg(long, default_value = "target/orb-load")]
    pub logs: PathBuf,
    /// Run only these parts (for profiling one of them); the table then lacks the others.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "reads,submissions,peer")]
    pub only: Vec<Part>,
}

/// A part of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Results read by a lead, a buddy and faculty, each next to its SQL ceiling.
    Reads,
    /// Respondent visits next to the direct-to-PostgreSQL ceiling.
    Submissions,
    /// PostGraphile's nested read and insert next to orb's.
    Peer,
}

/// The domain the comparison lines counties up on.
const DOMAIN: &str = "LEAD";
/// Demo counties whose leads read their own latest wave.
const LEADS: &[&str] = &[
    "los-angeles",
    "sacramento",
    "alameda",
    "santa-clara",
    "orange",
    "san-francisco",
    "ventura",
    "stanislaus",
    "sonoma",
    "shasta",
    "kings",
    "calaveras",
];
/// Demo pairings: the buddy county's lead reads the testing county's latest wave.
const BUDDIES: &[(&str, &str)] = &[
    ("santa-clara", "los-angeles"),
    ("sonoma", "sacramento"),
    ("sacramento", "sonoma"),
    ("alameda", "kings"),
    ("ventura", "orange"),
    ("san-francisco", "shasta"),
    ("stanislaus", "calaveras"),
];

async fn connect(url: &str, pool: u32) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(pool).min_connections(1).sqlx_logging(false);
    Database::connect(options).await.with_context(|| format!("connecting to {url}"))
}

fn url_of(server: &str, database: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(server).context("the database server is a URL")?;
    url.set_path(database);
    Ok(url.to_string())
}

async fn sign_in(http: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<String> {
    let password = std::env::var("ORB_DEMO_PASSWORD").unwrap_or_else(|_| "orb-demo-password".into());
    let answer: Value = http
        .post(format!("{base}/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await?
        .json()
        .await?;
    answer["access_token"].as_str().map(str::to_owned).with_context(|| format!("signing in as {email}: {answer}"))
}

fn compared(summary: Summary, ratio: Option<f64>, of: &str, target: &str, met: impl Fn(f64) -> bool) -> Row {
    Row {
        summary,
        compared: ratio.map(|r| format!("{r:.2}× {of}")).unwrap_or_else(|| format!("no {of}")),
        target: target.to_owned(),
        met: ratio.map(met),
    }
}

/// Runs everything; fails if a submission orb acknowledged is not stored.
pub async fn all(options: &Options) -> anyhow::Result<()> {
    let began = Instant::now();
    std::fs::create_dir_all(&options.logs)?;
    let orb_binary = match &options.orb {
        Some(path) => path.clone(),
        None => crate::server::sibling_orb()?,
    };
    let name = format!("orb_bench_{}", std::process::id());
    let admin = connect(&url_of(&options.database_server, "postgres")?, 1).await?;
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
    let url = url_of(&options.database_server, &name)?;
    println!("scratch database {name}");
    let outcome = measure(options, &orb_binary, &url).await;
    if options.keep {
        println!("kept the database {name}");
    } else {
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    }
    println!("whole run: {:.0} s", began.elapsed().as_secs_f64());
    outcome
}

async fn measure(options: &Options, orb_binary: &std::path::Path, url: &str) -> anyhow::Result<()> {
    let duration = Duration::from_secs(options.seconds);
    let step = Instant::now();
    let mut orb = Orb::start(orb_binary, url, &options.logs.join("orb.log")).await?;
    println!("orb migrated the database, loaded the demo and is ready in {:.1} s", step.elapsed().as_secs_f64());
    let owner = connect(url, options.ceiling_pool).await?;

    let step = Instant::now();
    let plan = Plan { seed: options.seed, ..Plan::default() };
    let state = generator::seed(&owner, &plan).await?;
    println!(
        "generated {} counties, {} released waves, {} submitted responses, {} open waves' codes in {:.1} s (seed {}, SQL and COPY as the owner)",
        state.counties,
        state.released_waves,
        state.responses,
        state.respondent_invitations.len() + state.ceiling_invitations.len(),
        step.elapsed().as_secs_f64(),
        plan.seed
    );

    let endpoint = Endpoint::new(format!("{}/graphql", orb.base))?;
    let http = reqwest::Client::new();
    let latest = |slug: &str| state.latest_wave.get(slug).copied().with_context(|| format!("no wave in {slug}"));
    let mut own = Vec::new();
    for slug in LEADS {
        own.push(Reading {
            token: sign_in(&http, &orb.base, &format!("lead@{slug}.demo.orb")).await?,
            administration: latest(slug)?,
        });
    }
    let mut buddy = Vec::new();
    for (reader, testing) in BUDDIES {
        buddy.push(Reading {
            token: sign_in(&http, &orb.base, &format!("lead@{reader}.demo.orb")).await?,
            administration: latest(testing)?,
        });
    }
    let faculty = sign_in(&http, &orb.base, "faculty@demo.orb").await?;
    let all_latest: Vec<Uuid> = state.latest_wave.values().copied().collect();
    let own_waves: Vec<Uuid> = own.iter().map(|r| r.administration).collect();
    let buddy_waves: Vec<Uuid> = buddy.iter().map(|r| r.administration).collect();

    let memory = MemorySampler::start(orb.pid());
    let mut rows = Vec::new();
    let r = options.readers;

    // Reads, each next to its ceiling.
    let mut read_memory = 0;
    if options.only.contains(&Part::Reads) {
        let county = run_graphql(
            readers::full_results("orb: a lead reads their county's full results", endpoint.clone(), own),
            r,
            duration,
        )
        .await;
        let county_sql = readers::ceiling_county(
            "ceiling: the same waves' aggregate in one SQL query",
            owner.clone(),
            own_waves,
            r,
            duration,
        )
        .await;
        let buddies = run_graphql(
            readers::full_results("orb: a buddy county's lead reads them", endpoint.clone(), buddy),
            r,
            duration,
        )
        .await;
        let buddy_sql = readers::ceiling_county(
            "ceiling: the buddies' waves in one SQL query",
            owner.clone(),
            buddy_waves,
            r,
            duration,
        )
        .await;
        let comparison = run_graphql(
            readers::comparison(endpoint.clone(), faculty.clone(), all_latest.clone(), DOMAIN),
            r,
            duration,
        )
        .await;
        let comparison_sql = readers::ceiling_comparison(owner.clone(), all_latest.clone(), DOMAIN, r, duration).await;
        read_memory = memory.take_peak();
        for (orb, sql) in [(county, county_sql), (buddies, buddy_sql), (comparison, comparison_sql)] {
            let ratio = table::ratio(orb.p99_ms, sql.p99_ms);
            rows.push(compared(orb, ratio, "ceiling p99", "p99 ≤ 5× ceiling", |x| x <= 5.0));
            rows.push(Row::plain(sql));
        }
    }

    // Submissions: orb's respondents, then the same rows written directly.
    let acknowledged = Arc::new(Acknowledged::default());
    let (visits, pairs) = state.respondent_invitations.split_at(state.respondent_invitations.len() / 2);
    let invitations = Arc::new(visits.to_vec());
    let pair_invitations = Arc::new(pairs.to_vec());
    let state_items = {
        let document: Value = owner
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT v.document FROM instrument_versions v JOIN instruments i ON i.id = v.instrument_id
                 WHERE i.county_id IS NULL AND v.status = 'published' ORDER BY v.number DESC LIMIT 1",
            ))
            .await?
            .context("the state instrument")?
            .try_get("", "document")?;
        Arc::new(generator::likert_items(&document))
    };
    let sampled_at_load = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut submit_memory = 0;
    let ceiling_invitations = Arc::new(state.ceiling_invitations.clone());
    let mut ceiling_written = 0;
    if options.only.contains(&Part::Submissions) {
        let probe = {
            let (pid, sampled) = (orb.pid(), Arc::clone(&sampled_at_load));
            tokio::spawn(async move {
                tokio::time::sleep(duration / 2).await;
                if let Some((rss, _)) = memory_kib(pid) {
                    sampled.store(rss, Ordering::Relaxed);
                }
            })
        };
        let submissions = respondents::run(
            endpoint.clone(),
            Arc::clone(&invitations),
            options.respondents,
            duration,
            Arc::clone(&acknowledged),
        )
        .await;
        let _ = probe.await;
        submit_memory = memory.take_peak();
        let ceiling = respondents::ceiling(
            owner.clone(),
            Arc::clone(&ceiling_invitations),
            Arc::clone(&state_items),
            options.respondents,
            duration,
        )
        .await;
        rows.push(compared(
            submissions.clone(),
            table::ratio(submissions.per_second, ceiling.per_second),
            "ceiling",
            "≥ 0.60× ceiling",
            |x| x >= 0.6,
        ));
        rows.push(Row::plain(ceiling.clone()));
        ceiling_written = ceiling.successes;
    }

    // The peer, on the same database, and orb's counterparts.
    let wave = latest("sacramento")?;
    let peer = if !options.only.contains(&Part::Peer) {
        Ok(())
    } else {
        peer_rows(
            options,
            PeerInputs {
                url,
                owner: &owner,
                endpoint: &endpoint,
                lead: sign_in(&http, &orb.base, "lead@sacramento.demo.orb").await?,
                wave,
                pair_invitations: Arc::clone(&pair_invitations),
                items: Arc::clone(&state_items),
                acknowledged: Arc::clone(&acknowledged),
            },
            &mut rows,
        )
        .await
    };
    let peer_note = peer.err().map(|err| format!("peer skipped: {err:#}"));

    let stored =
        respondents::stored(&owner, &invitations).await? + respondents::stored(&owner, &pair_invitations).await?;
    let acknowledged = acknowledged.count.load(Ordering::Relaxed);
    let ceiling_stored = respondents::stored(&owner, &ceiling_invitations).await?;
    let (_, high_water) = memory_kib(orb.pid()).unwrap_or_default();
    drop(memory);
    orb.stop();

    println!();
    print!("{}", table::render(&rows));
    println!();
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "orb resident memory: {:.0} MiB while {} respondents were connected (mid-run sample), peak {:.0} MiB during them, \
         peak {:.0} MiB during reads, high-water mark {:.0} MiB over the run; target < 100 MiB at 200 clients: {}",
        mib(sampled_at_load.load(Ordering::Relaxed)),
        options.respondents,
        mib(submit_memory),
        mib(read_memory),
        mib(high_water),
        match (options.only.contains(&Part::Submissions), mib(submit_memory) < 100.0) {
            (false, _) => "not measured (no submissions in this run)",
            (true, true) => "met",
            (true, false) => "**not met**",
        }
    );
    if let Some(note) = peer_note {
        println!("{note}");
    }
    println!(
        "stored submitted responses {stored}, acknowledged by orb {acknowledged}; ceiling stored {ceiling_stored} of {} written",
        ceiling_written
    );
    if u64::try_from(stored).ok() != Some(acknowledged) {
        bail!("{stored} responses are stored but orb acknowledged {acknowledged}");
    }
    if u64::try_from(ceiling_stored).ok() != Some(ceiling_written) {
        bail!("the ceiling wrote {ceiling_written} responses but {ceiling_stored} are stored");
    }
    Ok(())
}

/// The headers the peer takes a county lead's claims from, as orb's session would set them.
async fn lead_headers(owner: &DatabaseConnection, email: &str) -> anyhow::Result<Vec<(String, String)>> {
    let row = owner
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT u.id::text AS user_id, string_agg(m.county_id::text, ',') AS members,
                    coalesce(string_agg(m.county_id::text, ',') FILTER (WHERE m.role = 'lead'), '') AS leads
             FROM users u JOIN memberships m ON m.user_id = u.id WHERE u.email = $1 GROUP BY u.id",
            [email.into()],
        ))
        .await?
        .with_context(|| format!("no account {email}"))?;
    Ok(vec![
        ("x-orb-user-id".into(), row.try_get::<String>("", "user_id")?),
        ("x-orb-member-counties".into(), row.try_get::<String>("", "members")?),
        ("x-orb-lead-counties".into(), row.try_get::<String>("", "leads")?),
    ])
}

/// What the peer's part of the run needs from the rest.
struct PeerInputs<'a> {
    url: &'a str,
    owner: &'a DatabaseConnection,
    endpoint: &'a Endpoint,
    lead: String,
    wave: Uuid,
    pair_invitations: Arc<Vec<generator::OpenInvitation>>,
    items: Arc<Vec<generator::LikertItem>>,
    acknowledged: Arc<Acknowledged>,
}

/// The runtime role's URL of the same database: PostGraphile runs under the same row-level
/// security as orb's requests.
fn runtime_url(owner_url: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(owner_url)?;
    let password =
        std::env::var("ORB_RUNTIME_DATABASE_PASSWORD").unwrap_or_else(|_| "orb-app-development-password".into());
    url.set_username("orb_app").map_err(|()| anyhow::anyhow!("no user in {owner_url}"))?;
    url.set_password(Some(&password)).map_err(|()| anyhow::anyhow!("no password in {owner_url}"))?;
    Ok(url.to_string())
}

/// Runs the peer's scenarios and orb's counterparts; notes say what was skipped and why.
async fn peer_rows(options: &Options, inputs: PeerInputs<'_>, rows: &mut Vec<Row>) -> anyhow::Result<()> {
    let duration = Duration::from_secs(options.seconds);
    let folder = &options.postgraphile;
    let documents = PeerDocuments::read(folder)?;
    let orb_nested_read = std::fs::read_to_string(folder.join("orb_nested_read.graphql"))
        .with_context(|| format!("reading {}", folder.join("orb_nested_read.graphql").display()))?;
    let headers = lead_headers(inputs.owner, "lead@sacramento.demo.orb").await?;
    let peer = Peer::start(folder, &runtime_url(inputs.url)?, &options.logs.join("postgraphile.log")).await?;
    let peer_endpoint = Endpoint::new(peer.graphql_url.clone())?;
    let (wave, page) = (inputs.wave, 50);
    let peer_read = run_graphql(
        GraphqlScenario {
            name: format!("peer: PostGraphile nested read (a wave, {page} responses with answers)"),
            endpoint: peer_endpoint.clone(),
            document: documents.nested_read.as_str().into(),
            request: Arc::new(move |_| Request {
                variables: json!({ "administrationId": wave, "first": page }),
                bearer: None,
                headers: headers.clone(),
            }),
            check: Some(Arc::new(move |data| {
                data["administrationByRowId"]["responsesByCountyIdAndAdministrationId"]["nodes"]
                    .as_array()
                    .is_some_and(|n| n.len() == page)
            })),
        },
        options.readers,
        duration,
    )
    .await;
    let lead = inputs.lead.clone();
    let orb_read = run_graphql(
        GraphqlScenario {
            name: format!("orb: nested read (a wave, {page} responses with answers)"),
            endpoint: inputs.endpoint.clone(),
            document: orb_nested_read.as_str().into(),
            request: Arc::new(move |_| {
                Request::new(json!({ "administrationId": wave, "first": page }), Some(lead.clone()))
            }),
            check: Some(Arc::new(move |data| {
                data["administration"]["responses"]["nodes"].as_array().is_some_and(|n| n.len() == page)
            })),
        },
        options.readers,
        duration,
    )
    .await;
    let open: Vec<(Uuid, Uuid)> =
        inputs.pair_invitations.iter().map(|i| (i.county_id, i.administration_id)).take(64).collect();
    let items = Arc::clone(&inputs.items);
    let peer_insert = run_graphql(
        GraphqlScenario {
            name: "peer: PostGraphile insert one submitted response".into(),
            endpoint: peer_endpoint,
            document: documents.insert_response.as_str().into(),
            request: Arc::new(move |i| {
                let (county_id, administration_id) = open[usize::try_from(i).unwrap_or(0) % open.len().max(1)];
                let id = Uuid::new_v4();
                let answers = generator::Respondent::typical_answers(&items, i);
                Request {
                    variables: json!({ "response": {
                        "countyId": county_id, "administrationId": administration_id, "rowId": id,
                        "source": "open_link", "status": "submitted", "perspective": "SUPERVISOR", "language": "en",
                        "answers": answers, "submitKey": Uuid::new_v4().to_string(),
                        "submitFingerprint": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                        "submittedOn": chrono::Utc::now().date_naive().to_string(),
                    } }),
                    bearer: None,
                    headers: vec![
                        ("x-orb-respondent-response".into(), id.to_string()),
                        ("x-orb-respondent-administration".into(), administration_id.to_string()),
                        ("x-orb-respondent-county".into(), county_id.to_string()),
                    ],
                }
            }),
            check: Some(Arc::new(|data| data["createResponse"]["response"]["status"] == "submitted")),
        },
        options.readers,
        duration,
    )
    .await;
    drop(peer);
    let orb_insert = respondents::start_and_submit(
        inputs.endpoint.clone(),
        inputs.pair_invitations,
        inputs.items,
        options.readers,
        duration,
        inputs.acknowledged,
    )
    .await;
    rows.push(compared(
        orb_read.clone(),
        table::ratio(orb_read.per_second, peer_read.per_second),
        "peer",
        "≥ 2× peer",
        |x| x >= 2.0,
    ));
    rows.push(Row::plain(peer_read));
    rows.push(compared(
        orb_insert.clone(),
        table::ratio(orb_insert.per_second, peer_insert.per_second),
        "peer",
        "≥ 3× peer",
        |x| x >= 3.0,
    ));
    rows.push(Row::plain(peer_insert));
    Ok(())
}
