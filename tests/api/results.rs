//! Results: who reads scores when, small groups withheld on the way out, cross-county reads
//! audited.

use chrono::{Duration, Utc};
use orb_tests::{Caller, TestApp, spawn_app};
use serde_json::{Value, json};

const RESULTS: &str = "query($id: ID!) { administration(id: $id) { results {
    overall { n withheld domains { code n mean score rwgJ lowAgreement } items { code n mean } }
    byPerspective { perspective withheld n domains { code mean score } } } } }";

/// A closed-or-open Kings wave of the state instrument with paper responses: six social workers
/// answering 3 to every FIT item, five supervisors answering 5, two managers answering 1.
async fn kings_wave(app: &TestApp) -> (Caller, String) {
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let state = lead
        .graphql(
            "{ instruments(owner: { state: true }) { latestPublished { id items { code domain kind } } } }",
            json!({}),
        )
        .await;
    let version = state.ok()["instruments"][0]["latestPublished"].clone();
    let fit: Vec<String> = version["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["domain"] == "FIT" && i["kind"] == "LIKERT")
        .map(|i| i["code"].as_str().expect("code").to_owned())
        .collect();
    let created = lead
        .graphql(
            "mutation($input: CreateAdministrationInput!) { createAdministration(input: $input) { id } }",
            json!({ "input": {
                "countyId": app.county_id("kings").await,
                "instrumentVersionId": version["id"],
                "title": "Kings wave 1",
                "opensAt": (Utc::now() - Duration::hours(1)).to_rfc3339(),
                "closesAt": (Utc::now() + Duration::days(14)).to_rfc3339(),
                "perspectives": ["SOCIAL_WORKER", "SUPERVISOR", "MANAGER"],
            } }),
        )
        .await;
    let id = created.ok()["createAdministration"]["id"].as_str().expect("id").to_owned();
    lead.graphql("mutation($id: ID!) { openAdministration(id: $id) { status } }", json!({ "id": id })).await.ok();
    let mut forms = Vec::new();
    for (perspective, count, value) in [("SOCIAL_WORKER", 6, 3), ("SUPERVISOR", 5, 5), ("MANAGER", 2, 1)] {
        for n in 0..count {
            let answers: serde_json::Map<String, Value> = fit.iter().map(|c| (c.clone(), json!(value))).collect();
            forms.push(json!({ "idempotencyKey": format!("{perspective}-{n:04}"), "response": { "answers": answers, "perspective": perspective } }));
        }
    }
    let entered = lead
        .graphql(
            "mutation($id: ID!, $forms: [PaperFormInput!]!) { enterPaperForms(administrationId: $id, forms: $forms) { stored } }",
            json!({ "id": id, "forms": forms }),
        )
        .await;
    assert_eq!(entered.ok()["enterPaperForms"]["stored"].as_array().map(Vec::len), Some(13));
    (lead, id)
}

fn perspective<'a>(results: &'a Value, name: &str) -> &'a Value {
    results["byPerspective"]
        .as_array()
        .and_then(|g| g.iter().find(|p| p["perspective"] == name))
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn scores_are_released_at_close_to_the_lead_and_on_release_to_the_county_its_buddy_and_faculty() {
    let app = spawn_app().await;
    let (lead, id) = kings_wave(&app).await;
    lead.graphql(RESULTS, json!({ "id": id })).await.expect_code("CONFLICT");

    lead.graphql("mutation($id: ID!) { closeAdministration(id: $id) { status } }", json!({ "id": id })).await.ok();
    let results = lead.graphql(RESULTS, json!({ "id": id })).await;
    let results = results.ok()["administration"]["results"].clone();
    assert_eq!(results["overall"]["n"], 13);
    let social_workers = perspective(&results, "SOCIAL_WORKER");
    assert_eq!(social_workers["n"], 6);
    let fit = &social_workers["domains"][0];
    assert_eq!(
        (fit["code"].as_str(), fit["mean"].as_f64(), fit["score"].as_f64()),
        (Some("FIT"), Some(3.0), Some(50.0))
    );
    assert_eq!(perspective(&results, "MANAGER")["withheld"], "BELOW_MINIMUM");
    assert_eq!(perspective(&results, "MANAGER")["n"], Value::Null, "no figure for a small group, not even its size");
    assert_eq!(
        perspective(&results, "SUPERVISOR")["withheld"],
        "COMPLEMENTARY",
        "else managers = everyone − social workers − supervisors"
    );
    let overall_fit =
        results["overall"]["domains"].as_array().and_then(|d| d.iter().find(|d| d["code"] == "FIT")).cloned();
    assert_eq!(overall_fit.as_ref().and_then(|f| f["lowAgreement"].as_bool()), Some(true), "a split county is flagged");

    let staff = app.sign_in("staff@kings.demo.orb").await;
    let buddy = app.sign_in("lead@alameda.demo.orb").await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let stranger = app.sign_in("lead@orange.demo.orb").await;
    for reader in [&staff, &buddy, &faculty] {
        reader.graphql(RESULTS, json!({ "id": id })).await.expect_code("FORBIDDEN");
    }
    stranger.graphql(RESULTS, json!({ "id": id })).await.expect_code("NOT_FOUND");
    app.sign_in("admin@demo.orb").await.graphql(RESULTS, json!({ "id": id })).await.expect_code("NOT_FOUND");

    let released = lead
        .graphql(
            "mutation($id: ID!) { releaseResults(administrationId: $id) { resultsReleasedAt } }",
            json!({ "id": id }),
        )
        .await;
    assert!(released.ok()["releaseResults"]["resultsReleasedAt"].is_string());
    let audited_before = app.count("audit_log WHERE action = 'results.read'").await;
    for reader in [&staff, &buddy, &faculty] {
        let seen = reader.graphql(RESULTS, json!({ "id": id })).await;
        assert_eq!(seen.ok()["administration"]["results"]["overall"]["n"], 13);
        assert_eq!(
            perspective(&seen.data()["administration"]["results"], "MANAGER")["withheld"],
            "BELOW_MINIMUM",
            "for everyone"
        );
    }
    stranger.graphql(RESULTS, json!({ "id": id })).await.expect_code("NOT_FOUND");
    assert_eq!(
        app.count("audit_log WHERE action = 'results.read'").await - audited_before,
        2,
        "the buddy's and faculty's reads are audited, the county's own staff's are not"
    );
    lead.graphql(
        "mutation($id: ID!) { openAdministration(id: $id, closesAt: \"2099-01-01T00:00:00Z\") { status } }",
        json!({ "id": id }),
    )
    .await
    .expect_code("CONFLICT");
}

#[tokio::test]
async fn nobody_but_the_lead_and_the_respondent_reads_a_response_row() {
    let app = spawn_app().await;
    let (lead, id) = kings_wave(&app).await;
    lead.graphql("mutation($id: ID!) { closeAdministration(id: $id) { status } }", json!({ "id": id })).await.ok();
    lead.graphql("mutation($id: ID!) { releaseResults(administrationId: $id) { id } }", json!({ "id": id })).await.ok();
    let runtime = orb_server::database::runtime_url(&app.settings).await.expect("runtime role");
    let store = orb_store::Store::connect(&orb_store::StoreOptions {
        url: secrecy::ExposeSecret::expose_secret(&runtime).to_owned(),
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(5),
        statement_timeout: std::time::Duration::from_secs(5),
    })
    .await
    .expect("store");
    for email in ["faculty@demo.orb", "staff@kings.demo.orb", "lead@alameda.demo.orb"] {
        let user = app.db.scalar_text(&format!("SELECT id::text FROM users WHERE email = '{email}'")).await;
        let session = store.begin(orb_store::Caller::User(user.parse().expect("uuid")), None).await.expect("session");
        use sea_orm::EntityTrait;
        let rows = orb_store::entities::responses::Entity::find().all(session.db()).await.expect("query runs");
        assert!(rows.is_empty(), "{email} reads no response row, even with results released");
    }
}
