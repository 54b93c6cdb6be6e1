//! Readers: a county's lead reading their latest wave's full results, a buddy county's lead
//! reading the same, faculty comparing every county on one domain; and the ceiling of reads —
//! the per-domain mean and n, overall and per perspective, in one hand-written SQL query.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::drive::{GraphqlScenario, Request, drive};
use crate::graphql::Endpoint;
use crate::stats::Summary;

/// A county's full results: every group, item and domain (as a dashboard reads them).
pub const FULL_RESULTS: &str = "query($id: ID!) { administration(id: $id) { results {
    overall { ...group } byPerspective { ...group } byUnit { ...group } byPerspectiveInUnit { ...group } } } }
  fragment group on GroupResult { perspective unitId withheld n
    domains { code n insufficient mean sd ciLow ciHigh score alpha rwgJ rwgJStar adM adThreshold lowAgreement }
    items { code concept domain n counts { value count } mean sd ciLow ciHigh median score
            favourable { share low high } neutral { share low high } unfavourable { share low high } } }";

/// Faculty lining up counties on one domain.
pub const COMPARISON: &str =
    "query($ids: [ID!]!, $domain: String!) { compareCounties(administrationIds: $ids, domain: $domain) {
    domain concepts counties { countyId administrationId withheld n score ciLow ciHigh } } }";

/// Who reads which wave: a bearer token and an administration.
#[derive(Debug, Clone)]
pub struct Reading {
    /// The reader's access token.
    pub token: String,
    /// The wave read.
    pub administration: Uuid,
}

fn results_scored(data: &Value) -> bool {
    data["administration"]["results"]["overall"]["n"].as_u64().is_some_and(|n| n > 0)
}

/// Full results, each request by the next reader in turn.
pub fn full_results(name: &str, endpoint: Endpoint, readings: Vec<Reading>) -> GraphqlScenario {
    let readings = Arc::new(readings);
    GraphqlScenario {
        name: name.to_owned(),
        endpoint,
        document: FULL_RESULTS.into(),
        request: Arc::new(move |i| {
            let reading = &readings[usize::try_from(i).unwrap_or(0) % readings.len()];
            Request::new(json!({ "id": reading.administration }), Some(reading.token.clone()))
        }),
        check: Some(Arc::new(results_scored)),
    }
}

/// Faculty comparing the latest waves of every county on `domain`.
pub fn comparison(endpoint: Endpoint, faculty: String, waves: Vec<Uuid>, domain: &str) -> GraphqlScenario {
    let expected = waves.len();
    let variables = json!({ "ids": waves, "domain": domain });
    GraphqlScenario {
        name: format!("orb: faculty compare all {expected} counties on {domain}"),
        endpoint,
        document: COMPARISON.into(),
        request: Arc::new(move |_| Request::new(variables.clone(), Some(faculty.clone()))),
        check: Some(Arc::new(move |data| {
            data["compareCounties"]["counties"].as_array().is_some_and(|c| c.len() == expected)
        })),
    }
}

/// Per-domain mean, SD and n of respondents' domain scores (reverse items mirrored, a domain
/// scored with at least half its items answered), overall and per perspective, of one wave.
pub const SQL_COUNTY_AGGREGATE: &str = "
WITH items AS (
    SELECT item->>'code' AS code, item->>'domain' AS domain, coalesce((item->>'reverseScored')::boolean, false) AS reverse
    FROM administrations a JOIN instrument_versions v ON v.id = a.instrument_version_id,
         jsonb_array_elements(v.document->'items') item
    WHERE a.id = $1 AND item->>'kind' = 'LIKERT'),
domains AS (SELECT domain, count(*) AS items FROM items GROUP BY domain),
scores AS (
    SELECT r.id, r.perspective, i.domain,
           avg(CASE WHEN i.reverse THEN 6 - (r.answers->>i.code)::numeric ELSE (r.answers->>i.code)::numeric END) AS score,
           count(*) AS answered
    FROM responses r JOIN items i ON r.answers ? i.code
    WHERE r.administration_id = $1 AND r.status = 'submitted'
    GROUP BY r.id, r.perspective, i.domain)
SELECT s.perspective, s.domain, count(*) AS n, avg(s.score)::float8 AS mean, stddev_samp(s.score)::float8 AS sd
FROM scores s JOIN domains d USING (domain)
WHERE s.answered * 2 >= d.items
GROUP BY GROUPING SETS ((s.domain), (s.perspective, s.domain))";

/// Each wave's mean 0–100 score on one domain, as a comparison lines counties up.
pub const SQL_COMPARISON: &str = "
WITH items AS (
    SELECT a.id AS administration_id, item->>'code' AS code,
           coalesce((item->>'reverseScored')::boolean, false) AS reverse
    FROM administrations a JOIN instrument_versions v ON v.id = a.instrument_version_id,
         jsonb_array_elements(v.document->'items') item
    WHERE a.id = ANY($1) AND item->>'kind' = 'LIKERT' AND item->>'domain' = $2),
scores AS (
    SELECT r.administration_id, r.id,
           avg(CASE WHEN i.reverse THEN 6 - (r.answers->>i.code)::numeric ELSE (r.answers->>i.code)::numeric END) AS score
    FROM responses r JOIN items i ON i.administration_id = r.administration_id AND r.answers ? i.code
    WHERE r.administration_id = ANY($1) AND r.status = 'submitted'
    GROUP BY r.administration_id, r.id)
SELECT administration_id, count(*) AS n, (avg(score - 1) * 25)::float8 AS score
FROM scores GROUP BY administration_id";

/// The ceiling of a county's full results: [`SQL_COUNTY_AGGREGATE`] on the same waves in turn.
pub async fn ceiling_county(
    name: &str,
    db: DatabaseConnection,
    waves: Vec<Uuid>,
    clients: usize,
    duration: Duration,
) -> Summary {
    let waves = Arc::new(waves);
    drive(name, clients, duration, move |i| {
        let (db, waves) = (db.clone(), Arc::clone(&waves));
        async move {
            let wave = waves[usize::try_from(i).unwrap_or(0) % waves.len()];
            let rows = db
                .query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, SQL_COUNTY_AGGREGATE, [wave.into()]))
                .await;
            Some(match rows {
                Ok(rows) if !rows.is_empty() => Ok(()),
                Ok(_) => Err("NO_ROWS".to_owned()),
                Err(_) => Err("DATABASE".to_owned()),
            })
        }
    })
    .await
}

/// The ceiling of the comparison: [`SQL_COMPARISON`] over the same waves.
pub async fn ceiling_comparison(
    db: DatabaseConnection,
    waves: Vec<Uuid>,
    domain: &str,
    clients: usize,
    duration: Duration,
) -> Summary {
    let expected = waves.len();
    let domain = domain.to_owned();
    drive("ceiling: the comparison in one SQL query", clients, duration, move |_| {
        let (db, waves, domain) = (db.clone(), waves.clone(), domain.clone());
        async move {
            let rows = db
                .query_all_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    SQL_COMPARISON,
                    [waves.into(), domain.into()],
                ))
                .await;
            Some(match rows {
                Ok(rows) if rows.len() == expected => Ok(()),
                Ok(_) => Err("WRONG_ROWS".to_owned()),
                Err(_) => Err("DATABASE".to_owned()),
            })
        }
    })
    .await
}
