//! Respondents as a survey page drives orb: exchange the invitation code for a token, fetch the
//! survey, save part of the answers, submit them all with an idempotency key — each step retried
//! (the submission with its same key) after failures a client may retry. And the ceiling: the
//! same submitted rows written straight into PostgreSQL, one transaction per response.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use serde_json::{Value, json};

use crate::drive::drive;
use crate::generator::{LikertItem, OpenInvitation, Respondent, perspective_weights};
use crate::graphql::{CallError, Endpoint, with_retries};
use crate::stats::Summary;

/// Tries per step before a respondent gives up.
pub const TRIES: u32 = 4;

const START: &str = "mutation($code: String!) { startResponse(code: $code, language: \"en\") { token status } }";
const SURVEY: &str = "{ myResponse { status survey { perspectives units { id }
    instrument { items { code kind domain required reverseScored scale { options { value } } } } } } }";
const SAVE: &str = "mutation($input: AnswersInput!) { saveResponse(input: $input) { status } }";
const SUBMIT: &str =
    "mutation($input: AnswersInput!, $key: String!) { submitResponse(input: $input, idempotencyKey: $key) { status } }";

/// How many submissions orb acknowledged, and which responses they were.
#[derive(Debug, Default)]
pub struct Acknowledged {
    /// Submissions answered `SUBMITTED`.
    pub count: AtomicU64,
}

/// The Likert items of the survey `myResponse` returned.
fn survey_items(data: &Value) -> Vec<LikertItem> {
    let items = data["myResponse"]["survey"]["instrument"]["items"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .filter(|item| item["kind"] == "LIKERT")
        .filter_map(|item| {
            let values: Vec<i64> =
                item["scale"]["options"].as_array().into_iter().flatten().filter_map(|o| o["value"].as_i64()).collect();
            Some(LikertItem {
                code: item["code"].as_str()?.to_owned(),
                domain: item["domain"].as_str()?.to_owned(),
                low: *values.iter().min()?,
                high: *values.iter().max()?,
                reverse: item["reverseScored"].as_bool().unwrap_or(false),
                required: item["required"].as_bool().unwrap_or(true),
            })
        })
        .collect()
}

/// One respondent's visit; `Ok` once orb acknowledged the submission.
async fn visit(endpoint: &Endpoint, invitation: &OpenInvitation, seed: u64) -> Result<(), CallError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let code = json!({ "code": invitation.code.display() });
    let started = with_retries(TRIES, || endpoint.call(START, &code, None)).await?;
    let token = started["startResponse"]["token"].as_str().unwrap_or_default().to_owned();
    let survey = with_retries(TRIES, || endpoint.call(SURVEY, &Value::Null, Some(&token))).await?;
    let items = survey_items(&survey);
    let units: Vec<String> = survey["myResponse"]["survey"]["units"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["id"].as_str().map(str::to_owned))
        .collect();
    let weights = perspective_weights();
    let (perspective, offset) = {
        use rand::distributions::Distribution;
        let (name, _, offset) = crate::generator::PERSPECTIVES[weights.sample(&mut rng)];
        (name, offset)
    };
    let respondent = Respondent { level: 3.2 + offset + 0.6 * crate::generator::normal(&mut rng) };
    let answers = respondent.answers(&items, &Default::default(), &mut rng);
    let unit = (!units.is_empty()).then(|| units[rng.gen_range(0..units.len())].clone());
    let half: serde_json::Map<String, Value> =
        answers.iter().take(answers.len() / 2).map(|(k, v)| (k.clone(), v.clone())).collect();
    let partial = json!({ "input": { "answers": half, "perspective": perspective } });
    with_retries(TRIES, || endpoint.call(SAVE, &partial, Some(&token))).await?;
    let key = uuid::Uuid::new_v4().to_string();
    let full = json!({ "input": { "answers": answers, "perspective": perspective, "orgUnitId": unit }, "key": key });
    let submitted = with_retries(TRIES, || endpoint.call(SUBMIT, &full, Some(&token))).await?;
    if submitted["submitResponse"]["status"] == "SUBMITTED" {
        Ok(())
    } else {
        Err(CallError { code: "UNEXPECTED_DATA".into(), retryable: false })
    }
}

/// Runs `clients` respondents against orb for `duration`, one invitation each, in order.
pub async fn run(
    endpoint: Endpoint,
    invitations: Arc<Vec<OpenInvitation>>,
    clients: usize,
    duration: Duration,
    acknowledged: Arc<Acknowledged>,
) -> Summary {
    drive("orb: respondent visits (start, survey, save, submit)", clients, duration, move |i| {
        let (endpoint, invitations, acknowledged) =
            (endpoint.clone(), Arc::clone(&invitations), Arc::clone(&acknowledged));
        async move {
            let invitation = invitations.get(usize::try_from(i).ok()?)?;
            Some(match visit(&endpoint, invitation, i).await {
                Ok(()) => {
                    acknowledged.count.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                Err(err) => Err(err.code),
            })
        }
    })
    .await
}

/// The ceiling of submissions: what orb's submission leaves in the database — the submitted
/// response with its answers, the invitation marked submitted — written directly, one
/// transaction per response, by `clients` concurrent writers sharing `db`'s pool.
pub async fn ceiling(
    db: DatabaseConnection,
    invitations: Arc<Vec<OpenInvitation>>,
    items: Arc<Vec<LikertItem>>,
    clients: usize,
    duration: Duration,
) -> Summary {
    drive("ceiling: the same submissions, straight into PostgreSQL", clients, duration, move |i| {
        let (db, invitations, items) = (db.clone(), Arc::clone(&invitations), Arc::clone(&items));
        async move {
            let invitation = invitations.get(usize::try_from(i).ok()?)?;
            Some(write_submission(&db, invitation, &items, i).await.map_err(|_| "DATABASE".to_owned()))
        }
    })
    .await
}

async fn write_submission(
    db: &DatabaseConnection,
    invitation: &OpenInvitation,
    items: &[LikertItem],
    seed: u64,
) -> Result<(), sea_orm::DbErr> {
    let answers = Respondent::typical_answers(items, seed);
    let transaction = db.begin().await?;
    transaction
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO responses (county_id, id, administration_id, source, status, perspective, language, answers,
                                    submit_key, submit_fingerprint, submitted_on)
             VALUES ($1, $2, $3, 'invitation', 'submitted', 'SOCIAL_WORKER', 'en', $4, $5, $6, current_date)",
            [
                invitation.county_id.into(),
                // Any id: the keyed id is the service's to compute (it holds the response key).
                uuid::Uuid::new_v4().into(),
                invitation.administration_id.into(),
                Value::Object(answers).into(),
                uuid::Uuid::new_v4().to_string().into(),
                vec![0u8; 32].into(),
            ],
        ))
        .await?;
    transaction
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE invitations SET status = 'submitted' WHERE county_id = $1 AND id = $2 AND status <> 'revoked'",
            [invitation.county_id.into(), invitation.invitation_id.into()],
        ))
        .await?;
    transaction.commit().await
}

/// Submitted responses stored for `invitations`, counted by their invitations (a response's id
/// is keyed with the service's secret, so it cannot be derived from the code here).
pub async fn stored(db: &DatabaseConnection, invitations: &[OpenInvitation]) -> anyhow::Result<i64> {
    let ids: Vec<uuid::Uuid> = invitations.iter().map(|i| i.invitation_id).collect();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM invitations WHERE id = ANY($1) AND status = 'submitted'",
            [ids.into()],
        ))
        .await?;
    Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0))
}

/// orb's counterpart of the peer's single insert: a code exchanged and the answers submitted
/// at once (two requests, no survey fetched, nothing saved before), each invitation once.
pub async fn start_and_submit(
    endpoint: Endpoint,
    invitations: Arc<Vec<OpenInvitation>>,
    items: Arc<Vec<LikertItem>>,
    clients: usize,
    duration: Duration,
    acknowledged: Arc<Acknowledged>,
) -> Summary {
    drive("orb: exchange a code and submit (one response, two requests)", clients, duration, move |i| {
        let (endpoint, invitations, items, acknowledged) =
            (endpoint.clone(), Arc::clone(&invitations), Arc::clone(&items), Arc::clone(&acknowledged));
        async move {
            let invitation = invitations.get(usize::try_from(i).ok()?)?;
            let answers = Respondent::typical_answers(&items, i);
            let outcome = async {
                let code = json!({ "code": invitation.code.display() });
                let started = with_retries(TRIES, || endpoint.call(START, &code, None)).await?;
                let token = started["startResponse"]["token"].as_str().unwrap_or_default().to_owned();
                let key = uuid::Uuid::new_v4().to_string();
                let full = json!({ "input": { "answers": answers, "perspective": "SUPERVISOR" }, "key": key });
                with_retries(TRIES, || endpoint.call(SUBMIT, &full, Some(&token))).await
            }
            .await;
            Some(match outcome {
                Ok(data) if data["submitResponse"]["status"] == "SUBMITTED" => {
                    acknowledged.count.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                Ok(_) => Err("UNEXPECTED_DATA".to_owned()),
                Err(err) => Err(err.code),
            })
        }
    })
    .await
}
