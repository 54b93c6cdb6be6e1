//! Results at state scale: 58 counties, four released waves each, about 100,000 responses of 30
//! Likert items; the median time of a county's full results and of a faculty comparison of
//! every county on one domain, end to end over HTTP as a front end sees them.
//!
//! Run: `cargo bench -p orb-tests --bench results` (release build; needs the local PostgreSQL).
//! `ORB_BENCH_ROUNDS` sets the timed rounds per query (default 30); `ORB_BENCH_KEEP=1` keeps the
//! seeded database (its name is printed) for `EXPLAIN ANALYZE` and the like.

#![expect(clippy::expect_used, reason = "a benchmark: a failed expectation ends it with its message")]
#![expect(clippy::print_stdout, reason = "a benchmark reports on standard output")]

use std::time::{Duration, Instant};

use orb_tests::{TestApp, spawn_app_with};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

/// Counties in California.
const COUNTIES: usize = 58;
/// Waves per county.
const WAVES: usize = 4;
/// Responses per wave: 58 × 4 × 431 ≈ 100,000.
const RESPONSES_PER_WAVE: usize = 431;

const FULL_RESULTS: &str = "query($id: ID!) { administration(id: $id) { results {
    overall { ...group } byPerspective { ...group } byUnit { ...group } byPerspectiveInUnit { ...group } } } }
  fragment group on GroupResult { perspective unitId withheld n
    domains { code n insufficient mean sd ciLow ciHigh score alpha rwgJ rwgJStar adM adThreshold lowAgreement }
    items { code concept domain n counts { value count } mean sd ciLow ciHigh median score
            favourable { share low high } neutral { share low high } unfavourable { share low high } } }";

const COMPARISON: &str =
    "query($ids: [ID!]!, $domain: String!) { compareCounties(administrationIds: $ids, domain: $domain) {
    domain concepts counties { countyId administrationId withheld n score ciLow ciHigh } } }";

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("ORB_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(30);
    let app = spawn_app_with(|s| {
        s.workers = 2;
        s.database_pool_size = 8;
    })
    .await;
    let started = Instant::now();
    seed_state(&app).await;
    let responses = app.count("responses WHERE status = 'submitted'").await;
    let administrations = app.count("administrations WHERE results_released_at IS NOT NULL").await;
    let counties = app.count("counties").await;
    println!(
        "seeded {counties} counties, {administrations} released waves, {responses} submitted responses in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let lead = app.sign_in("lead@sacramento.demo.orb").await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let sacramento_latest = latest_wave(&app, "county_id = (SELECT id FROM counties WHERE slug = 'sacramento')").await;
    let latest: Vec<String> = app
        .db
        .owner()
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT DISTINCT ON (county_id) id::text FROM administrations WHERE title LIKE 'Bench wave%' \
             ORDER BY county_id, opens_at DESC",
        ))
        .await
        .expect("latest waves")
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("an id"))
        .collect();
    assert_eq!(latest.len(), COUNTIES);

    let full = time(rounds, || async {
        let read = lead.graphql(FULL_RESULTS, json!({ "id": sacramento_latest })).await;
        let results = &read.ok()["administration"]["results"];
        assert!(results["overall"]["n"].as_u64().is_some_and(|n| n >= 400), "the full wave is scored");
    })
    .await;
    let lineup = time(rounds, || async {
        let read = faculty.graphql(COMPARISON, json!({ "ids": latest, "domain": "LEAD" })).await;
        let counties = read.ok()["compareCounties"]["counties"].as_array().map(Vec::len);
        assert_eq!(counties, Some(COUNTIES), "every county is lined up");
    })
    .await;
    println!("{rounds} rounds each, one after another, over HTTP on loopback:");
    println!("  {:<58} {:>9} {:>9} {:>9}", "query", "median", "p95", "max");
    report("a county's full results (one wave, every group, item, domain)", &full);
    report("faculty compare all 58 counties on one domain", &lineup);
    if std::env::var_os("ORB_BENCH_KEEP").is_some() {
        println!("kept the database {} for a closer look", app.db.name());
        std::mem::forget(app);
    }
}

/// Adds counties to make 58, units to every county without, and four closed, released waves of
/// the state instrument to each, with random answers — as the database owner, in bulk.
async fn seed_state(app: &TestApp) {
    let db = app.db.owner();
    let run = |sql: String| async move {
        db.execute_unprepared(&sql).await.unwrap_or_else(|e| panic!("seeding failed: {e}\n{sql}"));
    };
    run(format!(
        "INSERT INTO counties (id, slug, name, region, size_class, staff_count)
         SELECT gen_random_uuid(), 'bench-' || g, 'Bench County ' || g, 'CENTRAL', 'MEDIUM', 300
         FROM generate_series(1, {COUNTIES} - (SELECT count(*) FROM counties)) g"
    ))
    .await;
    run("INSERT INTO org_units (county_id, id, name, kind)
         SELECT c.id, gen_random_uuid(), 'Region ' || u, 'DIVISION'
         FROM counties c CROSS JOIN generate_series(1, 4) u
         WHERE NOT EXISTS (SELECT 1 FROM org_units o WHERE o.county_id = c.id)"
        .into())
    .await;
    run(format!(
        "INSERT INTO administrations (county_id, id, instrument_version_id, title, status, opens_at, closes_at,
                                      perspectives, languages, anonymity, opened_at)
         SELECT c.id, gen_random_uuid(), v.id, 'Bench wave ' || w, 'open',
                now() - ((5 - w) * 180 || ' days')::interval, now() + interval '1 day',
                ARRAY['EXECUTIVE','MANAGER','SUPERVISOR','SOCIAL_WORKER','CLERICAL_SUPPORT','COMMUNITY_PARTNER'],
                ARRAY['en'], 'ANONYMOUS', now()
         FROM counties c CROSS JOIN generate_series(1, {WAVES}) w
         CROSS JOIN (SELECT v.id FROM instrument_versions v JOIN instruments i ON i.id = v.instrument_id
                     WHERE i.county_id IS NULL AND v.status = 'published' LIMIT 1) v"
    ))
    .await;
    // Each county answers around its own level; perspectives and units drawn per respondent.
    run(format!(
        "WITH items AS (
             SELECT array_agg(item->>'code') AS codes
             FROM instrument_versions v, jsonb_array_elements(v.document->'items') item
             WHERE v.id = (SELECT instrument_version_id FROM administrations WHERE title = 'Bench wave 1' LIMIT 1)
               AND item->>'kind' = 'LIKERT'),
         waves AS (
             SELECT a.county_id, a.id, 2.2 + (abs(hashtext(a.county_id::text)) % 100) / 60.0 AS level,
                    (SELECT array_agg(o.id) FROM org_units o WHERE o.county_id = a.county_id) AS units
             FROM administrations a WHERE a.title LIKE 'Bench wave%')
         INSERT INTO responses (county_id, id, administration_id, source, status, perspective, org_unit_id,
                                language, answers, submit_fingerprint, submitted_on)
         SELECT w.county_id, gen_random_uuid(), w.id, 'paper', 'submitted',
                (ARRAY['EXECUTIVE','MANAGER','SUPERVISOR','SOCIAL_WORKER','SOCIAL_WORKER','SOCIAL_WORKER',
                       'CLERICAL_SUPPORT','COMMUNITY_PARTNER'])[1 + floor(random() * 8)::int],
                w.units[1 + floor(random() * cardinality(w.units))::int],
                'en',
                (SELECT jsonb_object_agg(code, greatest(1, least(5, round(w.level + random() * 2.4 - 1.2 + g * 0))))
                 FROM unnest(items.codes) code),
                '\\x00', current_date
         FROM waves w CROSS JOIN items CROSS JOIN generate_series(1, {RESPONSES_PER_WAVE}) g"
    ))
    .await;
    run("UPDATE administrations SET status = 'closed', closed_at = now(), results_released_at = now()
         WHERE title LIKE 'Bench wave%'"
        .into())
    .await;
    run("ANALYZE".into()).await;
}

async fn latest_wave(app: &TestApp, condition: &str) -> String {
    app.db
        .scalar_text(&format!(
            "SELECT id::text FROM administrations WHERE title LIKE 'Bench wave%' AND {condition} \
             ORDER BY opens_at DESC LIMIT 1"
        ))
        .await
}

/// Times `rounds` runs of `query` after three to warm up.
async fn time<F: Future<Output = ()>>(rounds: usize, query: impl Fn() -> F) -> Vec<Duration> {
    for _ in 0..3 {
        query().await;
    }
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        query().await;
        times.push(started.elapsed());
    }
    times.sort_unstable();
    times
}

fn report(what: &str, sorted: &[Duration]) {
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
    println!("  {what:<58} {:>7.1}ms {:>7.1}ms {:>7.1}ms", at(0.5), at(0.95), at(1.0));
}
