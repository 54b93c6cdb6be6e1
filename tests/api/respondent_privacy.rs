//! Respondent privacy, played as the onlooker of issue 14: whoever holds a used code (the lead
//! who printed it, a found slip) reads nothing of the submitted response; the lead holding every
//! code cannot match raw rows to codes; raw rows name no small group; raw rows are read only
//! once the survey has closed for good; and revoking a code says nothing of its use.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use orb_domain::collection::AccessCode;
use orb_tests::{Caller, GraphqlResponse, TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

const START: &str = "mutation($code: String!) { startResponse(code: $code) { token status } }";
const MY_RESPONSE: &str = "{ myResponse { status answers perspective orgUnitId } }";
const SAVE: &str = "mutation($input: AnswersInput!) { saveResponse(input: $input) { status answers } }";
const SUBMIT: &str = "mutation($input: AnswersInput!, $key: String!) {
    submitResponse(input: $input, idempotencyKey: $key) { status submittedOn }
}";
const CLOSE: &str = "mutation($id: ID!) { closeAdministration(id: $id) { status } }";
const OPEN: &str =
    "mutation($id: ID!, $closesAt: DateTime) { openAdministration(id: $id, closesAt: $closesAt) { status } }";
const RELEASE: &str = "mutation($id: ID!) { releaseResults(administrationId: $id) { id } }";
const CUT: &str = "mutation($id: ID!) { takeInterimCut(administrationId: $id) { id } }";
const ISSUE: &str = "mutation($input: IssueInvitationsInput!) { issueInvitations(input: $input) { codes } }";
const REVOKE: &str = "mutation($id: ID!, $code: String!) { revokeInvitation(administrationId: $id, code: $code) }";
const COUNTS: &str =
    "query($id: ID!) { administration(id: $id) { invitationCounts { issued started submitted revoked } } }";
const RAW: &str = "query($id: ID!, $first: Int, $after: String) { administration(id: $id) {
    responses(first: $first, after: $after) {
        nodes { respondent perspective orgUnitId language answers { item value } }
        pageInfo { hasNextPage endCursor }
    }
} }";
const PAPER: &str = "mutation($id: ID!, $forms: [PaperFormInput!]!) {
    enterPaperForms(administrationId: $id, forms: $forms) { stored refused { index } }
}";

/// Creates and opens a wave of the state instrument in `slug` asking `perspectives`, with
/// minimum 5 and `anonymity`; returns the lead and the wave's id.
async fn open_wave(app: &TestApp, slug: &str, perspectives: &[&str], anonymity: &str) -> (Caller, String) {
    let lead = app.sign_in(&format!("lead@{slug}.demo.orb")).await;
    let listed =
        lead.graphql("{ instruments(owner: { state: true }) { key latestPublished { id } } }", json!({})).await;
    let version = listed.ok()["instruments"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["key"] == "orb-readiness"))
        .map(|i| i["latestPublished"]["id"].clone())
        .expect("the state instrument");
    let created = lead
        .graphql(
            "mutation($input: CreateAdministrationInput!) { createAdministration(input: $input) { id } }",
            json!({ "input": {
                "countyId": app.county_id(slug).await,
                "instrumentVersionId": version,
                "title": "Privacy wave",
                "opensAt": (Utc::now() - Duration::hours(1)).to_rfc3339(),
                "closesAt": (Utc::now() + Duration::days(30)).to_rfc3339(),
                "perspectives": perspectives,
                "anonymity": anonymity,
                "minGroupSize": 5,
            } }),
        )
        .await;
    let id = created.ok()["createAdministration"]["id"].as_str().expect("an id").to_owned();
    lead.graphql(OPEN, json!({ "id": id })).await.ok();
    (lead, id)
}

async fn issue(lead: &Caller, id: &str, count: u32, perspective: &str) -> Vec<String> {
    let issued = lead
        .graphql(ISSUE, json!({ "input": { "administrationId": id, "count": count, "perspective": perspective } }))
        .await;
    issued.ok()["issueInvitations"]["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("a code").to_owned())
        .collect()
}

async fn start(app: &TestApp, code: &str) -> GraphqlResponse {
    app.anonymous().graphql(START, json!({ "code": code })).await
}

async fn respondent(app: &TestApp, code: &str) -> Caller {
    let started = start(app, code).await;
    app.with_token(started.ok()["startResponse"]["token"].as_str().expect("a respondent token"))
}

fn message(response: &GraphqlResponse) -> String {
    response.errors().first().and_then(|e| e["message"].as_str().map(str::to_owned)).unwrap_or_default()
}

/// Asserts a `CONFLICT` with `words` in its message and nothing of the response in the body.
fn refused_blind(response: &GraphqlResponse, words: &str, secret: &str, what: &str) {
    assert_eq!(response.error_code().as_deref(), Some("CONFLICT"), "{what}: {}", response.body);
    assert!(message(response).contains(words), "{what}: says `{words}`: {}", response.body);
    let body = response.body.to_string();
    assert!(!body.contains(secret), "{what}: no answer comes back: {body}");
    assert!(!body.contains("token\":\""), "{what}: no token: {body}");
}

#[tokio::test]
async fn a_used_code_or_token_never_reopens_a_submitted_response() {
    let app = spawn_app().await;
    let (lead, id) = open_wave(&app, "kings", &["SUPERVISOR", "SOCIAL_WORKER"], "ANONYMOUS").await;
    let codes = issue(&lead, &id, 2, "SUPERVISOR").await;
    let secret = "My supervisor is the problem, not the caseload";
    let device = respondent(&app, &codes[0]).await;
    let answers = json!({ "answers": { "FIT1": 2, "FIT_HELP": secret }, "perspective": "SUPERVISOR" });
    let submitted = device.graphql(SUBMIT, json!({ "input": answers, "key": "privacy-key-0001" })).await;
    let receipt = submitted.ok()["submitResponse"].clone();
    assert_eq!(receipt, json!({ "status": "SUBMITTED", "submittedOn": Utc::now().date_naive().to_string() }));

    // The exactly-once guarantee holds: the same key and content hear the same acknowledgement.
    let again = device.graphql(SUBMIT, json!({ "input": answers, "key": "privacy-key-0001" })).await;
    assert_eq!(again.ok()["submitResponse"], receipt, "a retry is acknowledged as the stored submission");
    // …and the acknowledgement has nothing of the content to carry.
    let shape = lead.graphql("{ __type(name: \"SubmissionReceipt\") { fields { name } } }", json!({})).await;
    let fields: Vec<&str> =
        shape.ok()["__type"]["fields"].as_array().expect("fields").iter().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(fields, ["status", "submittedOn"], "no answers, perspective or unit in the acknowledgement");

    // Whoever holds the printed code reads nothing.
    refused_blind(&start(&app, &codes[0]).await, "already been submitted", secret, "the used code while open");
    // The respondent's own token opens nothing any more.
    refused_blind(&device.graphql(MY_RESPONSE, json!({})).await, "already been submitted", secret, "myResponse");
    refused_blind(
        &device.graphql(SAVE, json!({ "input": { "answers": { "FIT1": 4 } } })).await,
        "already been submitted",
        secret,
        "saveResponse",
    );

    // Closed, and released: every code answers alike, used or not.
    let unused_in_progress = respondent(&app, &codes[1]).await;
    lead.graphql(CLOSE, json!({ "id": id })).await.ok();
    let used = start(&app, &codes[0]).await;
    let unused = start(&app, &codes[1]).await;
    refused_blind(&used, "closed", secret, "the used code once closed");
    refused_blind(&unused, "closed", secret, "an unused code once closed");
    assert_eq!(message(&used), message(&unused), "a used and an unused code answer the same once closed");
    refused_blind(&unused_in_progress.graphql(MY_RESPONSE, json!({})).await, "closed", secret, "resume once closed");
    lead.graphql(RELEASE, json!({ "id": id })).await.ok();
    refused_blind(&start(&app, &codes[0]).await, "closed", secret, "the used code once released");
    refused_blind(&device.graphql(MY_RESPONSE, json!({})).await, "already been submitted", secret, "after release");
}

/// What the lead can compute from a printed code without the service's key.
fn attacker_keys(code: &str) -> Vec<Vec<u8>> {
    let code = AccessCode::parse("code", code).expect("a code");
    // The old response id (unkeyed SHA-256 of the code), the stored invitation hash, the code.
    vec![code.hash("response")[..16].to_vec(), code.hash("orb.access-code"), code.display().into_bytes()]
}

#[tokio::test]
async fn a_lead_holding_every_code_cannot_match_raw_rows_to_codes() {
    let app = spawn_app().await;
    let (lead, id) = open_wave(&app, "kings", &["SOCIAL_WORKER", "SUPERVISOR"], "ANONYMOUS").await;
    // Identical presets: nothing but the order can tell the rows apart.
    let codes = issue(&lead, &id, 20, "SOCIAL_WORKER").await;
    for (n, code) in codes.iter().enumerate() {
        let who = respondent(&app, code).await;
        let answers = json!({ "answers": { "FIT1": 3, "FIT_HELP": format!("respondent {n}") } });
        who.graphql(SUBMIT, json!({ "input": answers, "key": format!("match-key-{n:04}") })).await.ok();
    }
    lead.graphql(CLOSE, json!({ "id": id })).await.ok();

    // The listing, page by page: which code's text sits at which position.
    let mut listed = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = lead.graphql(RAW, json!({ "id": id, "first": 7, "after": after })).await;
        let responses = &page.ok()["administration"]["responses"];
        for node in responses["nodes"].as_array().expect("nodes") {
            let text = node["answers"]
                .as_array()
                .and_then(|a| a.iter().find(|x| x["item"] == "FIT_HELP"))
                .and_then(|x| x["value"].as_str())
                .expect("the text");
            let n: usize = text.trim_start_matches("respondent ").parse().expect("a number");
            listed.push(n);
        }
        if responses["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = responses["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(listed.len(), 20, "every respondent, once, across pages");

    for attack in 0..3 {
        let mut predicted: Vec<usize> = (0..codes.len()).collect();
        predicted.sort_by_key(|&n| attacker_keys(&codes[n])[attack].clone());
        let matches = predicted.iter().zip(&listed).filter(|(p, l)| p == l).count();
        // By chance one position matches on average; 8 or more happens about once in 40,000.
        assert!(matches < 8, "attack {attack} places {matches} of 20 rows: {predicted:?} against {listed:?}");
    }
    let stored = app
        .db
        .scalar_text(&format!(
            "SELECT string_agg(replace(id::text, '-', ''), ',') FROM responses WHERE administration_id = '{id}'"
        ))
        .await;
    for code in &codes {
        let old = attacker_keys(code)[0].iter().map(|b| format!("{b:02x}")).collect::<String>();
        // The old id was these 16 bytes with the version and variant bits set: compare the rest.
        assert!(!stored.contains(&old[..12]), "no response id is the unkeyed hash of its code");
    }
}

fn paper_forms(perspective: &str, count: usize, offset: usize) -> Vec<Value> {
    (0..count)
        .map(|n| {
            json!({
                "idempotencyKey": format!("paper-{perspective}-{:04}", n + offset),
                "response": { "answers": { "FIT1": 1 + (n % 4) }, "perspective": perspective },
            })
        })
        .collect()
}

async fn enter(lead: &Caller, id: &str, forms: Vec<Value>) {
    let entered = lead.graphql(PAPER, json!({ "id": id, "forms": forms })).await;
    assert_eq!(entered.ok()["enterPaperForms"]["refused"], json!([]), "{}", entered.body);
}

async fn raw_perspectives(lead: &Caller, id: &str) -> BTreeMap<String, usize> {
    let page = lead.graphql(RAW, json!({ "id": id, "first": 100 })).await;
    let mut shown = BTreeMap::new();
    for node in page.ok()["administration"]["responses"]["nodes"].as_array().expect("nodes") {
        *shown.entry(node["perspective"].as_str().unwrap_or("(blank)").to_owned()).or_default() += 1;
    }
    shown
}

async fn csv(app: &TestApp, lead: &Caller, path: &str) -> (StatusCode, String) {
    let response = app
        .http()
        .get(format!("{}{path}", app.address))
        .bearer_auth(lead.access_token.clone().expect("a token"))
        .send()
        .await
        .expect("answers");
    (response.status(), response.text().await.expect("a body"))
}

#[tokio::test]
async fn raw_rows_name_no_group_below_the_minimum_in_either_mode() {
    let app = spawn_app().await;
    for anonymity in ["ANONYMOUS", "CONFIDENTIAL"] {
        let (lead, id) = open_wave(&app, "sonoma", &["SOCIAL_WORKER", "SUPERVISOR", "MANAGER"], anonymity).await;
        // Four managers, as in the demo's Sonoma wave: withheld everywhere in results.
        let mut forms = paper_forms("SOCIAL_WORKER", 12, 0);
        forms.extend(paper_forms("SUPERVISOR", 7, 0));
        forms.extend(paper_forms("MANAGER", 4, 0));
        enter(&lead, &id, forms).await;
        lead.graphql(CLOSE, json!({ "id": id })).await.ok();

        let shown = raw_perspectives(&lead, &id).await;
        assert_eq!(shown.values().sum::<usize>(), 23, "{anonymity}: every response is listed: {shown:?}");
        assert!(!shown.contains_key("MANAGER"), "{anonymity}: no row is marked as one of four managers: {shown:?}");
        for (perspective, n) in &shown {
            assert!(*n >= 5, "{anonymity}: {n} rows read {perspective}: {shown:?}");
        }
        let (status, rows) = csv(&app, &lead, &format!("/exports/administrations/{id}/responses.csv")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!rows.contains("MANAGER"), "{anonymity}: the CSV marks no manager either");
        let (_, dictionary) = csv(&app, &lead, &format!("/exports/administrations/{id}/dictionary.csv")).await;
        assert!(dictionary.contains("below the survey's minimum"), "the dictionary says why: {dictionary}");
    }
}

#[tokio::test]
async fn raw_rows_are_read_only_once_the_survey_has_closed_for_good() {
    let app = spawn_app().await;
    let (lead, id) = open_wave(&app, "kings", &["SOCIAL_WORKER", "SUPERVISOR"], "ANONYMOUS").await;
    enter(&lead, &id, paper_forms("SOCIAL_WORKER", 6, 0)).await;
    let path = format!("/exports/administrations/{id}/responses.csv");

    let open = lead.graphql(RAW, json!({ "id": id })).await;
    open.expect_code("CONFLICT");
    assert_eq!(csv(&app, &lead, &path).await.0, StatusCode::CONFLICT, "nor the CSV while open");
    lead.graphql(CUT, json!({ "id": id })).await.ok();
    lead.graphql(RAW, json!({ "id": id })).await.expect_code("CONFLICT");
    assert_eq!(csv(&app, &lead, &path).await.0, StatusCode::CONFLICT, "an interim cut opens no rows");

    lead.graphql(CLOSE, json!({ "id": id })).await.ok();
    // Closed but not read yet: it may still reopen.
    let reopen = json!({ "id": id, "closesAt": (Utc::now() + Duration::days(3)).to_rfc3339() });
    assert_eq!(lead.graphql(OPEN, reopen.clone()).await.ok()["openAdministration"]["status"], "OPEN");
    enter(&lead, &id, paper_forms("SOCIAL_WORKER", 2, 6)).await;
    lead.graphql(CLOSE, json!({ "id": id })).await.ok();
    assert_eq!(raw_perspectives(&lead, &id).await.values().sum::<usize>(), 8, "the lead reads the closed wave");
    let refused = lead.graphql(OPEN, reopen).await;
    refused.expect_code("CONFLICT");
    assert!(message(&refused).contains("raw rows"), "{}", refused.body);
}

#[tokio::test]
async fn revoking_a_code_says_nothing_of_whether_it_was_used() {
    let app = spawn_app().await;
    let (lead, id) = open_wave(&app, "kings", &["SOCIAL_WORKER", "SUPERVISOR"], "ANONYMOUS").await;
    let codes = issue(&lead, &id, 3, "SOCIAL_WORKER").await;
    // One never used, one in progress, one submitted.
    respondent(&app, &codes[1]).await.graphql(SAVE, json!({ "input": { "answers": { "FIT1": 2 } } })).await.ok();
    respondent(&app, &codes[2])
        .await
        .graphql(SUBMIT, json!({ "input": { "answers": { "FIT1": 2 } }, "key": "revoke-key-0001" }))
        .await
        .ok();
    let before = lead.graphql(COUNTS, json!({ "id": id })).await.ok()["administration"]["invitationCounts"].clone();
    assert_eq!(before, json!({ "issued": 3, "started": 2, "submitted": 1, "revoked": 0 }));

    let answers: Vec<String> = futures::future::join_all(
        codes.iter().chain(codes.iter()).map(|code| lead.graphql(REVOKE, json!({ "id": id, "code": code }))),
    )
    .await
    .iter()
    .map(|r| r.body.to_string())
    .collect();
    assert!(
        answers.iter().all(|a| a == &answers[0]) && answers[0].contains("true"),
        "every code, whatever its state, revoked once or twice, answers the same: {answers:?}"
    );
    let after = lead.graphql(COUNTS, json!({ "id": id })).await.ok()["administration"]["invitationCounts"].clone();
    assert_eq!(
        after,
        json!({ "issued": 3, "started": 2, "submitted": 1, "revoked": 3 }),
        "revoking moves only the revoked count"
    );
    let unknown = lead.graphql(REVOKE, json!({ "id": id, "code": "0000-0000-0000-0000" })).await;
    assert_eq!(unknown.error_code().as_deref(), Some("BAD_USER_INPUT"));
    assert_eq!(unknown.error_field().as_deref(), Some("code"));
    start(&app, &codes[0]).await.expect_code("BAD_USER_INPUT");
}
