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
        assert!(csv.contains("perspective,EXECUTIVE,below_minimum"), "{who} sees the executives withheld");
        assert!(!csv.contains("perspective,EXECUTIVE,,"), "and no executive figure");
        assert!(csv.contains("all,,,domain,TEAMS,"), "overall domain rows are there");
    }
    assert_eq!(export(&app, Some("lead@orange.demo.orb"), &path).await.0, StatusCode::NOT_FOUND);
}
