//! What fuzzing and schemathesis found at the edges: input PostgreSQL cannot store must be
//! refused as bad input (never a 500), and every status a REST endpoint answers is one its
//! OpenAPI document lists.

use chrono::{Duration, Utc};
use orb_tests::{Caller, TestApp, spawn_app};
use serde_json::{Value, json};

const IMPORT: &str = "mutation($doc: JSON!) { importInstrumentVersion(document: $doc) { id } }";

/// The published state instrument's id and document.
async fn state_instrument(caller: &Caller) -> (String, Value) {
    let listed = caller
        .graphql("{ instruments(owner: { state: true }) { key latestPublished { id document } } }", json!({}))
        .await;
    let instruments = listed.ok()["instruments"].as_array().cloned().unwrap_or_default();
    let orb = instruments.iter().find(|i| i["key"] == "orb-readiness").expect("the demo publishes it");
    let id = orb["latestPublished"]["id"].as_str().expect("an id").to_owned();
    (id, orb["latestPublished"]["document"].clone())
}

#[tokio::test]
async fn a_nul_character_anywhere_in_an_imported_document_is_bad_input_and_stores_nothing() {
    let app = spawn_app().await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let (_, document) = state_instrument(&faculty).await;
    let (before, versions) = (app.db.snapshot().await, app.count("instrument_versions").await);
    let mut in_a_prompt = document.clone();
    in_a_prompt["instrument"]["key"] = json!("orb-nul");
    in_a_prompt["items"][0]["prompt"]["en"] = json!("How ready\u{0} are we?");
    let mut in_a_language_key = document.clone();
    in_a_language_key["instrument"]["key"] = json!("orb-nul");
    in_a_language_key["domains"][0]["title"]["e\u{0}n"] = json!("Fit");
    let mut in_the_name = document;
    in_the_name["instrument"]["key"] = json!("orb-nul");
    in_the_name["instrument"]["name"] = json!("ORB\u{0}");
    let code = |list: &str| in_a_prompt[list][0]["code"].as_str().unwrap_or_default().to_owned();
    let (item, domain) = (code("items"), code("domains"));
    for (doc, field) in [
        (in_a_prompt, format!("items[{item}].prompt.en")),
        (in_a_language_key, format!("domains[{domain}].title")),
        (in_the_name, "instrument.name".to_owned()),
    ] {
        let refused = faculty.graphql(IMPORT, json!({ "doc": doc })).await;
        refused.expect_code("BAD_USER_INPUT");
        assert!(refused.problem_fields().contains(&field), "{field} named: {}", refused.body);
    }
    assert_eq!((app.db.snapshot().await, app.count("instrument_versions").await), (before, versions), "nothing stored");
}

#[tokio::test]
async fn a_nul_character_in_a_text_answer_is_bad_input_and_stores_nothing() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@calaveras.demo.orb").await;
    let (version, _) = state_instrument(&lead).await;
    let input = json!({
        "countyId": app.county_id("calaveras").await,
        "instrumentVersionId": version,
        "title": "Wave with an open question",
        "opensAt": (Utc::now() - Duration::hours(1)).to_rfc3339(),
        "closesAt": (Utc::now() + Duration::days(30)).to_rfc3339(),
        "perspectives": ["SUPERVISOR"],
        "anonymity": "ANONYMOUS",
        "minGroupSize": 5,
    });
    let created = lead
        .graphql(
            "mutation($input: CreateAdministrationInput!) { createAdministration(input: $input) { id } }",
            json!({ "input": input }),
        )
        .await;
    let id = created.ok()["createAdministration"]["id"].as_str().expect("an id").to_owned();
    lead.graphql("mutation($id: ID!) { openAdministration(id: $id) { status } }", json!({ "id": id })).await.ok();
    let issued = lead
        .graphql(
            "mutation($input: IssueInvitationsInput!) { issueInvitations(input: $input) { codes } }",
            json!({ "input": { "administrationId": id, "count": 1 } }),
        )
        .await;
    let code = issued.ok()["issueInvitations"]["codes"][0].as_str().expect("a code").to_owned();
    let started = app
        .anonymous()
        .graphql("mutation($code: String!) { startResponse(code: $code) { token } }", json!({ "code": code }))
        .await;
    let respondent = app.with_token(started.ok()["startResponse"]["token"].as_str().expect("a token"));
    let stored = "SELECT coalesce(string_agg(answers::text, '|'), '') FROM responses";
    let before = (app.db.snapshot().await, app.db.scalar_text(stored).await);
    let save = "mutation($input: AnswersInput!) { saveResponse(input: $input) { answers } }";
    let refused =
        respondent.graphql(save, json!({ "input": { "answers": { "FIT1": 3, "FIT_HELP": "more\u{0}time" } } })).await;
    refused.expect_code("BAD_USER_INPUT");
    assert_eq!(refused.problem_fields(), vec!["answers.FIT_HELP".to_owned()], "{}", refused.body);
    assert_eq!((app.db.snapshot().await, app.db.scalar_text(stored).await), before, "nothing stored");
    let saved =
        respondent.graphql(save, json!({ "input": { "answers": { "FIT1": 3, "FIT_HELP": "more time" } } })).await;
    assert_eq!(saved.ok()["saveResponse"]["answers"]["FIT_HELP"], "more time", "ordinary text is kept");
}
