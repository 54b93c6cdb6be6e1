//! Exactly once: a retried submission is the same submission, concurrent submissions of one
//! code end in one response, and a respondent resumes after the service restarts.

use chrono::{Duration, Utc};
use futures::future::join_all;
use orb_tests::{Caller, TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};

/// Opens an anonymous administration of the state instrument in Kings and returns its id and
/// `codes` fresh invitation codes.
async fn open_survey(app: &TestApp, codes: u32) -> (String, Vec<String>) {
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let state = lead.graphql("{ instruments(owner: { state: true }) { latestPublished { id } } }", json!({})).await;
    let version = state.ok()["instruments"][0]["latestPublished"]["id"].clone();
    let input = json!({
        "countyId": app.county_id("kings").await,
        "instrumentVersionId": version,
        "title": "Kings wave 1",
        "opensAt": (Utc::now() - Duration::hours(1)).to_rfc3339(),
        "closesAt": (Utc::now() + Duration::days(14)).to_rfc3339(),
        "perspectives": ["SUPERVISOR", "SOCIAL_WORKER"],
    });
    lead.open_wave_with_codes(input, codes).await
}

async fn start(app: &TestApp, code: &str) -> Caller {
    let started = app
        .anonymous()
        .graphql("mutation($code: String!) { startResponse(code: $code) { token status } }", json!({ "code": code }))
        .await;
    app.with_token(started.ok()["startResponse"]["token"].as_str().expect("a token"))
}

const SUBMIT: &str = "mutation($input: AnswersInput!, $key: String!) { submitResponse(input: $input, idempotencyKey: $key) { id status } }";

fn answers() -> Value {
    json!({ "answers": { "FIT1": 4, "FIT2": 5, "CLIMATE1": 2 }, "perspective": "SUPERVISOR" })
}

#[tokio::test]
async fn a_retried_submission_is_the_same_submission() {
    let app = spawn_app().await;
    let (administration, codes) = open_survey(&app, 1).await;
    let respondent = start(&app, &codes[0]).await;
    let first = respondent.graphql(SUBMIT, json!({ "input": answers(), "key": "retry-key-0001" })).await;
    let id = first.ok()["submitResponse"]["id"].clone();
    let before = app.db.snapshot().await;
    for _ in 0..3 {
        let again = respondent.graphql(SUBMIT, json!({ "input": answers(), "key": "retry-key-0001" })).await;
        assert_eq!(again.ok()["submitResponse"]["id"], id, "a retry returns the same response");
    }
    assert_eq!(app.db.snapshot().await, before, "and stores nothing new");
    let changed = respondent
        .graphql(
            SUBMIT,
            json!({ "input": { "answers": { "FIT1": 1 }, "perspective": "SUPERVISOR" }, "key": "retry-key-0001" }),
        )
        .await;
    changed.expect_code("CONFLICT");
    assert_eq!(changed.error_field().as_deref(), Some("idempotencyKey"));
    respondent.graphql(SUBMIT, json!({ "input": answers(), "key": "another-key-02" })).await.expect_code("CONFLICT");
    respondent
        .graphql("mutation { saveResponse(input: { answers: { FIT1: 1 } }) { status } }", json!({}))
        .await
        .expect_code("CONFLICT");
    let stored =
        app.count(&format!("responses WHERE administration_id = '{administration}' AND status = 'submitted'")).await;
    assert_eq!(stored, 1);
    assert_eq!(
        app.db
            .scalar_text(&format!("SELECT answers::text FROM responses WHERE administration_id = '{administration}'"))
            .await,
        r#"{"FIT1": 4, "FIT2": 5, "CLIMATE1": 2}"#,
        "a submitted response cannot change"
    );
}

#[tokio::test]
async fn concurrent_submissions_of_one_code_end_in_one_response() {
    let app = spawn_app_with(|s| {
        s.workers = 2;
        s.database_pool_size = 10;
    })
    .await;
    let (administration, codes) = open_survey(&app, 1).await;
    // Eight devices of one respondent exchange the same code at once…
    let respondents = join_all((0..8).map(|_| start(&app, &codes[0]))).await;
    // …and submit at once, each with its own key.
    let outcomes = join_all(
        respondents
            .iter()
            .enumerate()
            .map(|(n, r)| r.graphql(SUBMIT, json!({ "input": answers(), "key": format!("device-key-{n:04}") }))),
    )
    .await;
    let accepted: Vec<&Value> = outcomes.iter().filter(|o| o.errors().is_empty()).map(|o| o.data()).collect();
    assert_eq!(accepted.len(), 1, "exactly one submission is accepted: {outcomes:?}");
    for refused in outcomes.iter().filter(|o| !o.errors().is_empty()) {
        refused.expect_code("CONFLICT");
    }
    assert_eq!(app.count(&format!("responses WHERE administration_id = '{administration}'")).await, 1);
    assert_eq!(
        app.count(&format!("invitations WHERE administration_id = '{administration}' AND status = 'submitted'")).await,
        1
    );

    // The same key sent concurrently is one submission too, and every caller hears it succeeded.
    let other = start(&app, &open_survey(&app, 1).await.1[0]).await;
    let same_key =
        join_all((0..6).map(|_| other.graphql(SUBMIT, json!({ "input": answers(), "key": "same-key-0001" })))).await;
    let ids: std::collections::BTreeSet<String> =
        same_key.iter().map(|o| o.ok()["submitResponse"]["id"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(ids.len(), 1, "every retry answers with the one response");
}

#[tokio::test]
async fn a_respondent_resumes_after_the_service_restarts() {
    let mut app = spawn_app().await;
    let (_, codes) = open_survey(&app, 1).await;
    let respondent = start(&app, &codes[0]).await;
    respondent
        .graphql(
            "mutation { saveResponse(input: { answers: { FIT1: 2, TEAMS1: 5 }, perspective: SOCIAL_WORKER, language: \"es\" }) { status } }",
            json!({}),
        )
        .await
        .ok();

    app.restart().await;

    // Back the next day with the same code (typed carelessly), after the restart.
    let typed = codes[0].to_lowercase().replace('-', " ");
    let resumed = start(&app, &typed).await;
    let mine = resumed.graphql("{ myResponse { status language perspective answers } }", json!({})).await;
    assert_eq!(
        mine.ok()["myResponse"],
        json!({ "status": "IN_PROGRESS", "language": "es", "perspective": "SOCIAL_WORKER", "answers": { "FIT1": 2, "TEAMS1": 5 } })
    );
    let submitted =
        resumed.graphql(SUBMIT, json!({ "input": { "answers": { "FIT2": 3 } }, "key": "resume-key-001" })).await;
    assert_eq!(submitted.ok()["submitResponse"]["status"], "SUBMITTED");
    let done = resumed.graphql("{ myResponse { status answers } }", json!({})).await;
    assert_eq!(
        done.ok()["myResponse"],
        json!({ "status": "SUBMITTED", "answers": {} }),
        "once submitted, the token shows that it was, and no answer"
    );
}
