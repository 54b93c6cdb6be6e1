//! CSV exports: raw answers for the county's lead only, aggregates for whoever may read them,
//! both streamed; no response id and no small group on the way out.

use orb_tests::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

/// A released demo wave of `county` by title.
async fn demo_wave(app: &TestApp, county: &str, title: &str) -> String {
    let lead = app.sign_in(&format!("lead@{county}.demo.orb")).await;
    let listed = lead
        .graphql("query($c: String!) { administrations(countySlug: $c) { id title } }", json!({ "c": county }))
        .await;
    let waves = listed.ok()["administrations"].as_array().cloned().unwrap_or_default();
    let wave = waves.iter().find(|w| w["title"] == title).expect("the demo's wave");
    wave["id"].as_str().expect("id").to_owned()
}

/// The demo's released Kings wave (45 responses).
async fn kings_wave(app: &TestApp) -> String {
    demo_wave(app, "kings", "ORB readiness wave 1 (2017)").await
}

async fn export(app: &TestApp, who: Option<&str>, path: &str) -> (StatusCode, String) {
    let mut request = app.http().get(format!("{}{path}", app.address));
    if let Some(email) = who {
        let caller = app.sign_in(email).await;
        request = request.bearer_auth(caller.access_token.expect("a token"));
    }
    let response = request.send().await.expect("answers");
    (response.status(), response.text().await.expect("a body"))
}

#[tokio::test]
async fn the_lead_exports_every_answer_tidy_with_no_response_id() {
    let app = spawn_app().await;
    // 130 responses: the export streams them in more than one page.
    let id = demo_wave(&app, "sacramento", "ORB readiness wave 2 (2018)").await;
    let before = app.count("audit_log WHERE action = 'export.raw'").await;
    let (status, csv) =
        export(&app, Some("lead@sacramento.demo.orb"), &format!("/exports/administrations/{id}/responses.csv")).await;
    assert_eq!(status, StatusCode::OK);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "respondent,perspective,org_unit_id,language,submitted_on,domain,item,concept,kind,answer,scored,score_0_100"
        )
    );
    let rows: Vec<&str> = lines.collect();
    let answers = app
        .count(&format!(
            "responses r, jsonb_each(r.answers) a WHERE r.administration_id = '{id}' AND r.status = 'submitted'"
        ))
        .await;
    assert_eq!(rows.len() as i64, answers, "one row per stored answer, across pages");
    let respondents: std::collections::BTreeSet<&str> = rows.iter().filter_map(|r| r.split(',').next()).collect();
    assert_eq!(respondents.len(), 130, "every respondent, numbered for the export");
    let ids = app
        .db
        .scalar_text(&format!("SELECT string_agg(id::text, ',') FROM responses WHERE administration_id = '{id}'"))
        .await;
    assert!(ids.split(',').all(|response| !csv.contains(response)), "no response id leaves the service");
    assert!(
        rows.iter().any(|r| r.contains("FIT4") && r.contains("LIKERT")),
        "reverse-scored items are exported with their scored value"
    );
    assert_eq!(app.count("audit_log WHERE action = 'export.raw'").await, before + 1, "a raw export is audited");

    let (status, dictionary) =
        export(&app, Some("lead@sacramento.demo.orb"), &format!("/exports/administrations/{id}/dictionary.csv")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(dictionary.starts_with("item,domain,kind,concept,reverse_scored,required,scale,prompt"));
    assert!(dictionary.contains("FIT1,FIT,LIKERT,"), "{dictionary}");
}

#[tokio::test]
async fn only_the_countys_lead_exports_raw_answers() {
    let app = spawn_app().await;
    let id = kings_wave(&app).await;
    let path = format!("/exports/administrations/{id}/responses.csv");
    let before = app.db.snapshot().await;
    assert_eq!(export(&app, None, &path).await.0, StatusCode::UNAUTHORIZED);
    for (who, expected) in [
        ("staff@kings.demo.orb", StatusCode::FORBIDDEN),
        ("lead@alameda.demo.orb", StatusCode::FORBIDDEN),
        ("faculty@demo.orb", StatusCode::FORBIDDEN),
        ("lead@orange.demo.orb", StatusCode::NOT_FOUND),
        ("admin@demo.orb", StatusCode::NOT_FOUND),
    ] {
        let (status, body) = export(&app, Some(who), &path).await;
        assert_eq!(status, expected, "{who}: {body}");
        assert!(!body.contains("respondent,"), "{who} gets no CSV");
    }
    assert_eq!(app.db.snapshot().await, before, "refused exports record nothing");
    assert_eq!(
        export(&app, Some("lead@kings.demo.orb"), "/exports/administrations/not-an-id/responses.csv").await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn aggregates_export_for_whoever_may_read_them_with_small_groups_withheld() {
    let app = spawn_app().await;
    let id = kings_wave(&app).await;
    let path = format!("/exports/administrations/{id}/results.csv");
    for who in ["lead@kings.demo.orb", "staff@kings.demo.orb", "lead@alameda.demo.orb", "faculty@demo.orb"] {
        let (status, csv) = export(&app, Some(who), &path).await;
        assert_eq!(status, StatusCode::OK, "{who}");
        assert!(csv.starts_with("group_type,group,withheld,level,code,n,mean"));
        assert!(csv.contains("perspective,EXECUTIVE,small_group"), "{who} sees the executives withheld");
        assert!(!csv.contains("perspective,EXECUTIVE,,"), "and no executive figure");
        assert!(csv.contains("all,,,domain,TEAMS,"), "overall domain rows are there");
    }
    assert_eq!(export(&app, Some("lead@orange.demo.orb"), &path).await.0, StatusCode::NOT_FOUND);
}

const RAW: &str = "query($id: ID!, $first: Int, $after: String) { administration(id: $id) {
    responses(first: $first, after: $after) {
        pageInfo { hasNextPage hasPreviousPage endCursor }
        edges { cursor node { respondent perspective orgUnitId language submittedOn answers { item value } } } } } }";

/// Reads one page of raw responses as `caller`.
async fn raw_page(
    caller: &orb_tests::Caller,
    id: &str,
    first: Option<i64>,
    after: Option<&str>,
) -> orb_tests::GraphqlResponse {
    caller.graphql(RAW, json!({ "id": id, "first": first, "after": after })).await
}

/// A response's answers as the API lists them, back as one JSON object by item code.
fn answers_object(node: &serde_json::Value) -> String {
    let answers: serde_json::Map<String, serde_json::Value> = node["answers"]
        .as_array()
        .expect("answers")
        .iter()
        .map(|a| (a["item"].as_str().expect("item").to_owned(), a["value"].clone()))
        .collect();
    serde_json::Value::Object(answers).to_string()
}

#[tokio::test]
async fn the_lead_pages_through_every_submitted_response_in_the_api() {
    let app = spawn_app().await;
    let id = demo_wave(&app, "sacramento", "ORB readiness wave 2 (2018)").await;
    let lead = app.sign_in("lead@sacramento.demo.orb").await;
    let before = app.count("audit_log WHERE action = 'export.raw'").await;
    let (mut nodes, mut after, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let page = raw_page(&lead, &id, Some(50), after.as_deref()).await;
        let connection = page.ok()["administration"]["responses"].clone();
        pages += 1;
        assert_eq!(connection["pageInfo"]["hasPreviousPage"], after.is_some());
        let edges = connection["edges"].as_array().expect("edges").clone();
        assert!(edges.len() <= 50, "a page holds at most `first` responses");
        nodes.extend(edges.iter().map(|e| e["node"].clone()));
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(pages, 3, "130 responses in pages of 50");
    let submitted = app.count(&format!("responses WHERE administration_id = '{id}' AND status = 'submitted'")).await;
    assert_eq!(nodes.len() as i64, submitted, "every submitted response, across pages");
    let numbers: Vec<u64> = nodes.iter().map(|n| n["respondent"].as_u64().expect("respondent")).collect();
    assert_eq!(numbers, (1..=130).collect::<Vec<_>>(), "numbered once each, no duplicates, none skipped");

    let mut listed: Vec<String> = nodes.iter().map(answers_object).collect();
    let mut stored: Vec<String> = app
        .db
        .scalar_text(&format!(
            "SELECT string_agg(answers::text, E'\\n') FROM responses WHERE administration_id = '{id}' AND status = 'submitted'"
        ))
        .await
        .lines()
        .map(|a| serde_json::from_str::<serde_json::Value>(a).expect("stored answers").to_string())
        .collect();
    listed.sort();
    stored.sort();
    assert_eq!(listed, stored, "each response's answers exactly as stored");
    let first = &nodes[0];
    assert!(first["submittedOn"].is_string());
    assert!(
        nodes.iter().any(|n| n["language"].is_string() && n["perspective"].is_string()),
        "rows carry their perspective and language where no small group is named by them"
    );
    // Answers come in the version's item order; a respondent who skipped an item simply has no
    // entry for it (the demo skips one Likert answer in twenty).
    let version: serde_json::Value =
        serde_json::from_str(include_str!("../../instruments/state-orb-readiness.json")).expect("the state instrument");
    let order: Vec<&str> =
        version["items"].as_array().expect("items").iter().filter_map(|i| i["code"].as_str()).collect();
    for node in &nodes {
        let positions: Vec<usize> = node["answers"]
            .as_array()
            .expect("answers")
            .iter()
            .map(|a| order.iter().position(|code| a["item"] == *code).expect("an item of the state instrument"))
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "answers in the version's item order: {node}");
    }
    assert!(
        nodes.iter().filter(|n| n["answers"][0]["item"] == "FIT1").count() > 100,
        "most respondents answered the first item, and it comes first"
    );

    let body = raw_page(&lead, &id, Some(100), None).await.body.to_string();
    let ids = app
        .db
        .scalar_text(&format!("SELECT string_agg(id::text, ',') FROM responses WHERE administration_id = '{id}'"))
        .await;
    assert!(ids.split(',').all(|response| !body.contains(response)), "no response id leaves the service");
    assert_eq!(
        app.count("audit_log WHERE action = 'export.raw' AND details->>'via' = 'api'").await,
        before + pages + 1,
        "every page read is audited"
    );

    let second = raw_page(&lead, &id, Some(50), None).await;
    let cursor =
        second.ok()["administration"]["responses"]["pageInfo"]["endCursor"].as_str().expect("cursor").to_owned();
    let again = raw_page(&lead, &id, Some(1), Some(&cursor)).await;
    assert_eq!(
        again.ok()["administration"]["responses"]["edges"][0]["node"]["respondent"],
        51,
        "a cursor resumes after it"
    );
}

#[tokio::test]
async fn only_the_countys_lead_reads_raw_responses_in_the_api() {
    let app = spawn_app().await;
    let id = kings_wave(&app).await;
    let before = app.db.snapshot().await;
    for (who, code) in [
        ("staff@kings.demo.orb", "FORBIDDEN"),
        ("lead@alameda.demo.orb", "FORBIDDEN"),
        ("faculty@demo.orb", "FORBIDDEN"),
        ("lead@orange.demo.orb", "NOT_FOUND"),
        ("admin@demo.orb", "NOT_FOUND"),
    ] {
        let caller = app.sign_in(who).await;
        let page = raw_page(&caller, &id, Some(10), None).await;
        page.expect_code(code);
        assert!(page.data()["administration"]["responses"].is_null(), "{who} reads no response: {}", page.body);
    }
    assert_eq!(app.db.snapshot().await, before, "refused reads record nothing");
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let all = raw_page(&lead, &id, Some(100), None).await;
    assert_eq!(all.ok()["administration"]["responses"]["edges"].as_array().map(Vec::len), Some(45));
}

#[tokio::test]
async fn bad_pages_of_raw_responses_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let id = kings_wave(&app).await;
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let before = app.db.snapshot().await;
    let not_a_position = orb_store::page::encode_cursor("the-last-one");
    for (first, after, field) in [
        (Some(101), None, "first"),
        (Some(0), None, "first"),
        (Some(10), Some("%%%"), "after"),
        (Some(10), Some(not_a_position.as_str()), "after"),
    ] {
        let page = raw_page(&lead, &id, first, after).await;
        page.expect_code("BAD_USER_INPUT");
        assert_eq!(page.problem_fields(), vec![field.to_owned()], "{}", page.body);
    }
    assert_eq!(app.db.snapshot().await, before, "refused reads record nothing");
}

#[tokio::test]
async fn a_position_stays_valid_since_a_wave_read_raw_never_changes() {
    let app = spawn_app().await;
    let (lead, id) = crate::results::paper_wave(&app, "kings", &[(None, "SOCIAL_WORKER", 6, 3)]).await;
    raw_page(&lead, &id, Some(2), None).await.expect_code("CONFLICT");
    lead.graphql("mutation($id: ID!) { closeAdministration(id: $id) { id } }", json!({ "id": id })).await.ok();
    let first = raw_page(&lead, &id, Some(2), None).await;
    let cursor =
        first.ok()["administration"]["responses"]["pageInfo"]["endCursor"].as_str().expect("cursor").to_owned();
    let next = raw_page(&lead, &id, Some(2), Some(&cursor)).await;
    assert_eq!(next.ok()["administration"]["responses"]["edges"][0]["node"]["respondent"], 3);
    // No response can arrive between pages: a wave whose raw rows were read never reopens.
    let reopened = lead
        .graphql(
            "mutation($id: ID!, $closesAt: DateTime) { openAdministration(id: $id, closesAt: $closesAt) { status } }",
            json!({ "id": id, "closesAt": (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339() }),
        )
        .await;
    reopened.expect_code("CONFLICT");
    let again = raw_page(&lead, &id, Some(2), Some(&cursor)).await;
    assert_eq!(again.ok()["administration"]["responses"], next.ok()["administration"]["responses"], "the same page");
    let tampered = raw_page(&lead, &id, Some(2), Some(&orb_store::page::encode_cursor("2/7"))).await;
    tampered.expect_code("CONFLICT");
    assert_eq!(tampered.error_field().as_deref(), Some("after"));
}
