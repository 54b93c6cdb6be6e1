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
    let forms = [(None, "SOCIAL_WORKER", 6, 3), (None, "SUPERVISOR", 5, 5), (None, "MANAGER", 2, 1)];
    paper_wave(app, "kings", &forms).await
}

/// An open wave of the state instrument in `county` with paper responses: per (unit name,
/// perspective, count, value), `count` forms answering `value` to every FIT item.
pub(crate) async fn paper_wave(
    app: &TestApp,
    county: &str,
    forms: &[(Option<&str>, &str, usize, i64)],
) -> (Caller, String) {
    let lead = app.sign_in(&format!("lead@{county}.demo.orb")).await;
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
    let units = lead
        .graphql(
            "query($slug: String!) { county(slug: $slug) { units { edges { node { id name } } } } }",
            json!({ "slug": county }),
        )
        .await;
    let unit_id = |name: &str| -> Value {
        units.ok()["county"]["units"]["edges"]
            .as_array()
            .and_then(|edges| edges.iter().find(|e| e["node"]["name"] == name))
            .map(|e| e["node"]["id"].clone())
            .unwrap_or_else(|| panic!("{county} has a unit {name}"))
    };
    let perspectives: std::collections::BTreeSet<&str> = forms.iter().map(|f| f.1).collect();
    let created = lead
        .graphql(
            "mutation($input: CreateAdministrationInput!) { createAdministration(input: $input) { id } }",
            json!({ "input": {
                "countyId": app.county_id(county).await,
                "instrumentVersionId": version["id"],
                "title": format!("{county} paper wave"),
                "opensAt": (Utc::now() - Duration::hours(1)).to_rfc3339(),
                "closesAt": (Utc::now() + Duration::days(14)).to_rfc3339(),
                "perspectives": perspectives,
            } }),
        )
        .await;
    let id = created.ok()["createAdministration"]["id"].as_str().expect("id").to_owned();
    lead.graphql("mutation($id: ID!) { openAdministration(id: $id) { status } }", json!({ "id": id })).await.ok();
    let mut paper = Vec::new();
    for (unit, perspective, count, value) in forms {
        for n in 0..*count {
            let answers: serde_json::Map<String, Value> = fit.iter().map(|c| (c.clone(), json!(value))).collect();
            paper.push(json!({
                "idempotencyKey": format!("{}-{perspective}-{n:04}", unit.unwrap_or("none").replace(' ', "-")),
                "response": { "answers": answers, "perspective": perspective, "orgUnitId": unit.map(unit_id) },
            }));
        }
    }
    let entered = enter_paper(&lead, &id, &paper).await;
    assert_eq!(entered.ok()["enterPaperForms"]["stored"].as_array().map(Vec::len), Some(paper.len()));
    (lead, id)
}

/// Enters paper forms into the administration `id` as `lead`.
pub(crate) async fn enter_paper(lead: &Caller, id: &str, forms: &[Value]) -> orb_tests::GraphqlResponse {
    lead.graphql(
        "mutation($id: ID!, $forms: [PaperFormInput!]!) { enterPaperForms(administrationId: $id, forms: $forms) { stored } }",
        json!({ "id": id, "forms": forms }),
    )
    .await
}

/// Closes the administration `id` as `lead`.
async fn close(lead: &Caller, id: &str) {
    lead.graphql("mutation($id: ID!) { closeAdministration(id: $id) { status } }", json!({ "id": id })).await.ok();
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

    close(&lead, &id).await;
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
    assert_eq!(perspective(&results, "MANAGER")["withheld"], "SMALL_GROUP");
    assert_eq!(perspective(&results, "MANAGER")["n"], Value::Null, "no figure for a small group, not even its size");
    assert_eq!(
        perspective(&results, "SUPERVISOR")["withheld"],
        "SMALL_GROUP",
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
            "SMALL_GROUP",
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
    close(&lead, &id).await;
    lead.graphql("mutation($id: ID!) { releaseResults(administrationId: $id) { id } }", json!({ "id": id })).await.ok();
    let store = app.runtime_store(2, std::time::Duration::from_secs(5)).await;
    for email in ["faculty@demo.orb", "staff@kings.demo.orb", "lead@alameda.demo.orb"] {
        let user = app.db.scalar_text(&format!("SELECT id::text FROM users WHERE email = '{email}'")).await;
        let session = store.begin(orb_store::Caller::User(user.parse().expect("uuid")), None).await.expect("session");
        use sea_orm::EntityTrait;
        let rows = orb_store::entities::responses::Entity::find().all(session.db()).await.expect("query runs");
        assert!(rows.is_empty(), "{email} reads no response row, even with results released");
    }
}

/// A released wave in `county` on its instrument with key `key`: `answers` per respondent give
/// every Likert item of `domain` the listed value.
async fn released_wave(app: &TestApp, county: &str, key: &str, domain: &str, answers: &[i64]) -> String {
    let lead = app.sign_in(&format!("lead@{county}.demo.orb")).await;
    let listed =
        lead.graphql("{ instruments { key latestPublished { id items { code domain kind } } } }", json!({})).await;
    let instruments = listed.ok()["instruments"].as_array().cloned().unwrap_or_default();
    let version = instruments.iter().find(|i| i["key"] == key).expect("the instrument")["latestPublished"].clone();
    let items: Vec<String> = version["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["domain"] == domain && i["kind"] == "LIKERT")
        .map(|i| i["code"].as_str().expect("code").to_owned())
        .collect();
    let created = lead
        .graphql(
            "mutation($input: CreateAdministrationInput!) { createAdministration(input: $input) { id } }",
            json!({ "input": {
                "countyId": app.county_id(county).await,
                "instrumentVersionId": version["id"],
                "title": format!("{county} wave {}", answers.len()),
                "opensAt": (Utc::now() - Duration::hours(1)).to_rfc3339(),
                "closesAt": (Utc::now() + Duration::days(14)).to_rfc3339(),
                "perspectives": ["SOCIAL_WORKER"],
            } }),
        )
        .await;
    let id = created.ok()["createAdministration"]["id"].as_str().expect("id").to_owned();
    lead.graphql("mutation($id: ID!) { openAdministration(id: $id) { status } }", json!({ "id": id })).await.ok();
    let forms: Vec<Value> = answers
        .iter()
        .enumerate()
        .map(|(n, value)| {
            let answers: serde_json::Map<String, Value> = items.iter().map(|c| (c.clone(), json!(value))).collect();
            json!({ "idempotencyKey": format!("{county}-{key}-{n:04}-{}", answers.len()), "response": { "answers": answers, "perspective": "SOCIAL_WORKER" } })
        })
        .collect();
    enter_paper(&lead, &id, &forms).await.ok();
    close(&lead, &id).await;
    lead.graphql("mutation($id: ID!) { releaseResults(administrationId: $id) { id } }", json!({ "id": id })).await.ok();
    id
}

#[tokio::test]
async fn a_county_sees_how_a_domain_moved_between_waves() {
    let app = spawn_app().await;
    let first = released_wave(&app, "kings", "orb-readiness", "LEAD", &[2, 3, 3, 2, 3, 3, 2, 3]).await;
    let second = released_wave(&app, "kings", "orb-readiness", "LEAD", &[4, 4, 3, 4, 5, 4, 4, 3, 4]).await;
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let changes = lead
        .graphql(
            "query($id: ID!, $earlier: ID!) { administration(id: $id) { changeSince(earlierId: $earlier) {
                domain withheld concepts earlierScore laterScore change changeLow changeHigh hedgesG caveats } } }",
            json!({ "id": second, "earlier": first }),
        )
        .await;
    let data = changes.ok();
    let lead_domain = data["administration"]["changeSince"]
        .as_array()
        .and_then(|c| c.iter().find(|d| d["domain"] == "LEAD"))
        .cloned()
        .expect("LEAD is compared");
    let (change, low, high) = (
        lead_domain["change"].as_f64().expect("a change"),
        lead_domain["changeLow"].as_f64().expect("an interval"),
        lead_domain["changeHigh"].as_f64().expect("an interval"),
    );
    assert!(change > 0.0 && low > 0.0 && low < change && change < high, "LEAD rose clearly: {lead_domain}");
    assert_eq!(lead_domain["caveats"], json!([]), "the same version on both waves compares exactly");
    assert!(lead_domain["hedgesG"].as_f64().is_some_and(|g| g > 1.0));
    // Another county's wave is not comparable through Kings.
    let other = released_wave(&app, "orange", "orb-readiness-orange", "FIT", &[3, 3, 3, 3, 3]).await;
    lead.graphql(
        "query($id: ID!, $earlier: ID!) { administration(id: $id) { changeSince(earlierId: $earlier) { domain } } }",
        json!({ "id": second, "earlier": other }),
    )
    .await
    .expect_code("NOT_FOUND");
}

#[tokio::test]
async fn faculty_line_up_counties_on_shared_concepts_whatever_their_scales() {
    let app = spawn_app().await;
    // Kings on the state's 5-point scale, Orange on its 4-point adaptation, both at the top.
    let kings = released_wave(&app, "kings", "orb-readiness", "FIT", &[5, 5, 5, 5, 5, 5]).await;
    let orange = released_wave(&app, "orange", "orb-readiness-orange", "FIT", &[4, 4, 4, 4, 4, 4]).await;
    let small = released_wave(&app, "calaveras", "orb-readiness", "FIT", &[1, 2]).await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let line = faculty
        .graphql(
            "query($ids: [ID!]!) { compareCounties(administrationIds: $ids, domain: \"FIT\") { concepts counties { administrationId withheld n score } } }",
            json!({ "ids": [kings, orange, small] }),
        )
        .await;
    let data = line.ok()["compareCounties"].clone();
    let concepts = data["concepts"].as_array().expect("concepts");
    assert!(!concepts.is_empty() && concepts.len() <= 3, "only the concepts Orange kept: {concepts:?}");
    let level = |id: &str| {
        data["counties"]
            .as_array()
            .and_then(|c| c.iter().find(|x| x["administrationId"] == id))
            .cloned()
            .unwrap_or(Value::Null)
    };
    // Orange answers 4 and 5 are never averaged: each top answer is 100 on its own scale.
    // (Reverse-scored items are mirrored, so a county answering its top everywhere scores 100
    // only on the positively worded shared items; both do the same here.)
    assert_eq!(level(&kings)["score"], level(&orange)["score"], "the tops of a 5- and a 4-point scale meet: {data}");
    assert_eq!(level(&small)["withheld"], "SMALL_GROUP");
    assert_eq!(level(&small)["score"], Value::Null);

    // A lead cannot line up other counties.
    let lead = app.sign_in("lead@kings.demo.orb").await;
    lead.graphql(
        "query($ids: [ID!]!) { compareCounties(administrationIds: $ids, domain: \"FIT\") { concepts } }",
        json!({ "ids": [kings, orange] }),
    )
    .await
    .expect_code("NOT_FOUND");
    assert!(app.count("audit_log WHERE action = 'results.read'").await >= 3, "faculty's reads are audited");
}

#[tokio::test]
async fn free_text_stays_with_the_county_unless_shared_and_never_reaches_faculty() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let state = lead.graphql("{ instruments(owner: { state: true }) { latestPublished { id } } }", json!({})).await;
    let version = state.ok()["instruments"][0]["latestPublished"]["id"].clone();
    let created = lead
        .graphql(
            "mutation($input: CreateAdministrationInput!) { createAdministration(input: $input) { id freeTextMinGroupSize } }",
            json!({ "input": {
                "countyId": app.county_id("kings").await, "instrumentVersionId": version, "title": "Kings voices",
                "opensAt": (Utc::now() - Duration::hours(1)).to_rfc3339(), "closesAt": (Utc::now() + Duration::days(7)).to_rfc3339(),
                "perspectives": ["SOCIAL_WORKER"], "minGroupSize": 5 } }),
        )
        .await;
    assert_eq!(created.ok()["createAdministration"]["freeTextMinGroupSize"], 5);
    let id = created.ok()["createAdministration"]["id"].as_str().expect("id").to_owned();
    lead.graphql("mutation($id: ID!) { openAdministration(id: $id) { status } }", json!({ "id": id })).await.ok();
    let forms: Vec<Value> = (0..6)
        .map(|n| {
            json!({ "idempotencyKey": format!("voice-{n:04}"), "response": {
            "answers": { "FIT1": 3, "FIT_HELP": format!("Idea number {n}") }, "perspective": "SOCIAL_WORKER" } })
        })
        .collect();
    enter_paper(&lead, &id, &forms).await.ok();
    close(&lead, &id).await;
    const FREE_TEXT: &str = "query($id: ID!) { administration(id: $id) { freeText { code withheld answers } } }";
    let read = lead.graphql(FREE_TEXT, json!({ "id": id })).await;
    let fit = read.ok()["administration"]["freeText"]
        .as_array()
        .and_then(|t| t.iter().find(|f| f["code"] == "FIT_HELP"))
        .cloned();
    let mut answers: Vec<String> = fit
        .as_ref()
        .map(|f| {
            f["answers"].as_array().expect("answers").iter().filter_map(|a| a.as_str().map(str::to_owned)).collect()
        })
        .unwrap_or_default();
    answers.sort();
    assert_eq!(
        answers,
        (0..6).map(|n| format!("Idea number {n}")).collect::<Vec<_>>(),
        "the lead reads them all, unattributed"
    );

    let (staff, buddy, faculty) = (
        app.sign_in("staff@kings.demo.orb").await,
        app.sign_in("lead@alameda.demo.orb").await,
        app.sign_in("faculty@demo.orb").await,
    );
    staff.graphql(FREE_TEXT, json!({ "id": id })).await.expect_code("FORBIDDEN");
    lead.graphql("mutation($id: ID!) { releaseResults(administrationId: $id) { id } }", json!({ "id": id })).await.ok();
    assert!(staff.graphql(FREE_TEXT, json!({ "id": id })).await.errors().is_empty(), "staff read it once released");
    buddy.graphql(FREE_TEXT, json!({ "id": id })).await.expect_code("FORBIDDEN");
    faculty.graphql(FREE_TEXT, json!({ "id": id })).await.expect_code("FORBIDDEN");

    // The lead shares with buddies; faculty still never read it.
    let policy = "mutation($id: ID!, $min: Int, $share: Boolean) { setFreeTextPolicy(administrationId: $id, minGroupSize: $min, shareWithBuddies: $share) { freeTextMinGroupSize shareFreeTextWithBuddies } }";
    lead.graphql(policy, json!({ "id": id, "share": true })).await.ok();
    assert!(
        buddy.graphql(FREE_TEXT, json!({ "id": id })).await.errors().is_empty(),
        "the buddy reads shared free text"
    );
    faculty.graphql(FREE_TEXT, json!({ "id": id })).await.expect_code("FORBIDDEN");
    lead.graphql(policy, json!({ "id": id, "min": 3 })).await.expect_code("BAD_USER_INPUT");
    lead.graphql(policy, json!({ "id": id, "min": 10 })).await.ok();
    let withheld = lead.graphql(FREE_TEXT, json!({ "id": id })).await;
    assert!(
        withheld.ok()["administration"]["freeText"]
            .as_array()
            .expect("items")
            .iter()
            .all(|f| f["withheld"] == "SMALL_GROUP" && f["answers"] == json!([])),
        "six answers are below a free-text minimum of ten"
    );

    // Faculty's aggregates are fed without any text: it never leaves the database for them.
    let store = app.runtime_store(1, std::time::Duration::from_secs(5)).await;
    let user = app.db.scalar_text("SELECT id::text FROM users WHERE email = 'faculty@demo.orb'").await;
    let session = store.begin(orb_store::Caller::User(user.parse().expect("uuid")), None).await.expect("session");
    use sea_orm::ConnectionTrait;
    let rows = session
        .db()
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT answers::text AS a FROM orb.results_feed('{id}')"),
        ))
        .await
        .expect("the feed runs");
    assert_eq!(rows.len(), 6, "faculty get the aggregates' input");
    for row in rows {
        let text: String = row.try_get("", "a").expect("text");
        assert!(!text.contains("Idea number"), "but no free text: {text}");
    }
}

#[tokio::test]
async fn an_interim_cut_freezes_so_watching_results_reveals_no_new_answer() {
    let app = spawn_app().await;
    let (lead, id) = kings_wave(&app).await; // open, 13 responses
    lead.graphql(RESULTS, json!({ "id": id })).await.expect_code("CONFLICT");
    let cut = lead
        .graphql(
            "mutation($id: ID!) { takeInterimCut(administrationId: $id) { status interimCutAt } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(cut.ok()["takeInterimCut"]["status"], "OPEN", "the survey stays open");
    let first = lead.graphql(RESULTS, json!({ "id": id })).await;
    assert_eq!(first.ok()["administration"]["results"]["overall"]["n"], 13);

    // More answers arrive; the cut does not move.
    let late: Vec<Value> = (0..4)
        .map(|n| json!({ "idempotencyKey": format!("late-{n:04}"), "response": { "answers": { "FIT1": 1 }, "perspective": "SOCIAL_WORKER" } }))
        .collect();
    enter_paper(&lead, &id, &late).await.ok();
    let again = lead.graphql(RESULTS, json!({ "id": id })).await;
    assert_eq!(
        again.ok()["administration"]["results"],
        first.data()["administration"]["results"],
        "frozen, figure for figure"
    );
    lead.graphql("mutation($id: ID!) { takeInterimCut(administrationId: $id) { status } }", json!({ "id": id }))
        .await
        .expect_code("CONFLICT");

    // Staff read the cut only once the lead releases it; at close the results take every answer.
    let staff = app.sign_in("staff@kings.demo.orb").await;
    staff.graphql(RESULTS, json!({ "id": id })).await.expect_code("FORBIDDEN");
    lead.graphql("mutation($id: ID!) { releaseResults(administrationId: $id) { id } }", json!({ "id": id })).await.ok();
    assert_eq!(staff.graphql(RESULTS, json!({ "id": id })).await.ok()["administration"]["results"]["overall"]["n"], 13);
    close(&lead, &id).await;
    assert_eq!(lead.graphql(RESULTS, json!({ "id": id })).await.ok()["administration"]["results"]["overall"]["n"], 17);
}

#[tokio::test]
async fn a_small_team_in_a_unit_stays_hidden_across_the_cross_tab_its_margins_and_the_export() {
    let app = spawn_app().await;
    // Division 1 has two managers: alone they are a small group, and any one of the figures
    // around them (Division 1's social workers, Division 2's managers) would give them away.
    let forms = [
        (Some("Division 1"), "SOCIAL_WORKER", 6, 3),
        (Some("Division 1"), "MANAGER", 2, 1),
        (Some("Division 2"), "SOCIAL_WORKER", 7, 4),
        (Some("Division 2"), "MANAGER", 6, 5),
    ];
    let (lead, id) = paper_wave(&app, "sacramento", &forms).await;
    close(&lead, &id).await;
    let read = lead
        .graphql(
            "query($id: ID!) { administration(id: $id) { results {
                overall { n }
                byPerspective { perspective withheld n }
                byUnit { unitId withheld n }
                byPerspectiveInUnit { perspective unitId withheld n domains { code mean } } } } }",
            json!({ "id": id }),
        )
        .await;
    let results = &read.ok()["administration"]["results"];
    let cells = results["byPerspectiveInUnit"].as_array().expect("the cross-tab");
    assert_eq!(cells.len(), 4, "every non-empty cell is listed, shown or not");
    let withheld: Vec<(&str, Option<&str>)> =
        cells.iter().map(|c| (c["perspective"].as_str().expect("perspective"), c["withheld"].as_str())).collect();
    assert_eq!(
        withheld.iter().filter(|(_, w)| *w == Some("SMALL_GROUP")).count(),
        4,
        "the two managers and, to hide them, the rest of the rectangle, all with the one reason: {withheld:?}"
    );
    assert!(cells.iter().all(|c| c["n"].is_null() && c["domains"].as_array().is_some_and(Vec::is_empty)));
    // The margins are large and stand: 8 and 13 by unit, 8 managers and 13 social workers.
    let sizes = |key: &str| -> Vec<i64> {
        let mut n: Vec<i64> = results[key].as_array().expect("groups").iter().filter_map(|g| g["n"].as_i64()).collect();
        n.sort_unstable();
        n
    };
    assert_eq!((sizes("byUnit"), sizes("byPerspective")), (vec![8, 13], vec![8, 13]));
    assert_eq!(results["overall"]["n"], 21);

    let csv = app
        .http()
        .get(format!("{}/exports/administrations/{id}/results.csv", app.address))
        .bearer_auth(lead.access_token.clone().expect("a token"))
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("a body");
    let cross: Vec<&str> = csv.lines().filter(|l| l.starts_with("org_unit_perspective,")).collect();
    assert!(cross.iter().any(|l| l.contains("/MANAGER,small_group")), "{csv}");
    assert!(
        cross.iter().all(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            fields.len() == 3 && fields[2] == "small_group"
        }),
        "no cross-tab figure leaves in the export either: {cross:?}"
    );
}

#[tokio::test]
async fn a_survey_that_reopens_and_closes_again_shows_its_new_answers() {
    let app = spawn_app().await;
    let (lead, id) = kings_wave(&app).await;
    let n = |read: &orb_tests::GraphqlResponse| read.ok()["administration"]["results"]["overall"]["n"].clone();
    close(&lead, &id).await;
    assert_eq!(n(&lead.graphql(RESULTS, json!({ "id": id })).await), 13);
    // Scores are kept in memory once frozen; a new freeze must not be answered from the old.
    lead.graphql(
        "mutation($id: ID!, $closesAt: DateTime!) { openAdministration(id: $id, closesAt: $closesAt) { status } }",
        json!({ "id": id, "closesAt": (Utc::now() + Duration::days(3)).to_rfc3339() }),
    )
    .await
    .ok();
    let late: Vec<Value> = (0..2)
        .map(|n| json!({ "idempotencyKey": format!("late-form-{n:04}"), "response": { "answers": {}, "perspective": "SUPERVISOR" } }))
        .collect();
    enter_paper(&lead, &id, &late).await.ok();
    close(&lead, &id).await;
    assert_eq!(n(&lead.graphql(RESULTS, json!({ "id": id })).await), 15);
}

/// Issue 14's onlooker: overall − social workers − Division 3 is everyone who is neither, and
/// the cross-tab lists no social workers in Division 3, so that difference is four people (two
/// supervisors' and a manager's… here three supervisors and a manager) with their answers.
#[tokio::test]
async fn a_group_worked_out_across_two_breakdowns_stays_hidden() {
    let app = spawn_app().await;
    let forms = [
        (Some("Division 1"), "SOCIAL_WORKER", 10, 3),
        (Some("Division 1"), "SUPERVISOR", 3, 5),
        (Some("Division 2"), "SOCIAL_WORKER", 6, 4),
        (Some("Division 2"), "MANAGER", 1, 1),
        (Some("Division 3"), "SUPERVISOR", 6, 2),
        (Some("Division 3"), "MANAGER", 5, 4),
    ];
    let (lead, id) = paper_wave(&app, "sacramento", &forms).await;
    close(&lead, &id).await;
    let read = lead
        .graphql(
            "query($id: ID!) { administration(id: $id) { results {
                overall { n items { code n mean } }
                byPerspective { perspective n items { code n mean } }
                byUnit { unitId n items { code n mean } }
                byPerspectiveInUnit { perspective unitId n } } } }",
            json!({ "id": id }),
        )
        .await;
    let results = &read.ok()["administration"]["results"];
    let units =
        lead.graphql("{ county(slug: \"sacramento\") { units { edges { node { id name } } } } }", json!({})).await;
    let division_3 = units.ok()["county"]["units"]["edges"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["node"]["name"] == "Division 3"))
        .map(|e| e["node"]["id"].clone())
        .expect("Division 3");
    let fit1 = |group: &Value| -> Option<(f64, f64)> {
        let item = group["items"].as_array()?.iter().find(|i| i["code"] == "FIT1")?;
        Some((item["n"].as_f64()?, item["mean"].as_f64()?))
    };
    let everyone = fit1(&results["overall"]);
    let social_workers = results["byPerspective"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["perspective"] == "SOCIAL_WORKER"))
        .and_then(fit1);
    let in_division_3 =
        results["byUnit"].as_array().and_then(|g| g.iter().find(|g| g["unitId"] == division_3)).and_then(fit1);
    if let (Some(all), Some(sw), Some(d3)) = (everyone, social_workers, in_division_3) {
        let rest = all.0 - sw.0 - d3.0;
        let their_mean = (all.0 * all.1 - sw.0 * sw.1 - d3.0 * d3.1) / rest;
        panic!("the {rest} who are neither social workers nor in Division 3 answered FIT1 {their_mean} on average");
    }
    assert_eq!(results["overall"]["n"], 31, "the overall figure stands");
}

/// A figure resting on fewer respondents than the minimum is withheld inside a shown group: two
/// of fourteen answered the Climate items.
#[tokio::test]
async fn an_item_answered_by_too_few_is_withheld_in_a_shown_group() {
    let app = spawn_app().await;
    let (lead, id) = paper_wave(&app, "kings", &[(None, "SOCIAL_WORKER", 12, 3)]).await;
    let climate: serde_json::Map<String, Value> =
        ["FIT1", "CLIMATE1", "CLIMATE2", "CLIMATE3"].iter().map(|c| ((*c).to_owned(), json!(5))).collect();
    let forms: Vec<Value> = (0..2)
        .map(|n| {
            json!({ "idempotencyKey": format!("climate-{n}"),
                    "response": { "answers": climate, "perspective": "SOCIAL_WORKER" } })
        })
        .collect();
    assert_eq!(
        enter_paper(&lead, &id, &forms).await.ok()["enterPaperForms"]["stored"].as_array().map(Vec::len),
        Some(2)
    );
    close(&lead, &id).await;
    let read = lead
        .graphql(
            "query($id: ID!) { administration(id: $id) { results { overall {
                n withheld items { code withheld n mean counts { value count } }
                domains { code withheld n mean sd } } } } }",
            json!({ "id": id }),
        )
        .await;
    let overall = &read.ok()["administration"]["results"]["overall"];
    assert_eq!(overall["n"], 14, "fourteen respondents are shown");
    let item = |code: &str| overall["items"].as_array().and_then(|i| i.iter().find(|i| i["code"] == code)).cloned();
    let climate1 = item("CLIMATE1").expect("CLIMATE1 is listed");
    assert_eq!(climate1["withheld"], "SMALL_GROUP", "two answers: {climate1}");
    assert!(climate1["mean"].is_null() && climate1["n"].is_null() && climate1["counts"] == json!([]));
    let fit1 = item("FIT1").expect("FIT1 is listed");
    assert_eq!((fit1["n"].as_i64(), fit1["withheld"].is_null()), (Some(14), true));
    let domain = overall["domains"].as_array().and_then(|d| d.iter().find(|d| d["code"] == "CLIMATE")).cloned();
    let domain = domain.expect("CLIMATE is listed");
    assert_eq!(domain["withheld"], "SMALL_GROUP", "two scored on the domain: {domain}");
    assert!(domain["mean"].is_null() && domain["sd"].is_null());
}
