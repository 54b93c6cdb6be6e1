//! Cohorts, buddy pairings and the audit log: faculty run cohorts and pair counties, every
//! signed-in user sees them, and operators and leads read what changed.

use orb_tests::{Caller, TestApp, spawn_app};
use serde_json::{Value, json};

const COHORT_FIELDS: &str = "id name startsOn endsOn counties { slug } faculty { email } buddyPairings { status testingCounty { slug } buddyCounty { slug } }";

const PAIRING_FIELDS: &str = "id status endedAt cohort { name } testingCounty { slug } buddyCounty { slug }";

/// The demo cohort's name.
const DEMO_COHORT: &str = "ORB Development Circle 2017–18";

fn create_cohort() -> String {
    format!("mutation($input: CreateCohortInput!) {{ createCohort(input: $input) {{ {COHORT_FIELDS} }} }}")
}

fn add_county() -> String {
    format!(
        "mutation($cohortId: ID!, $countyId: ID!) {{ addCohortCounty(cohortId: $cohortId, countyId: $countyId) {{ {COHORT_FIELDS} }} }}"
    )
}

fn create_pairing() -> String {
    format!("mutation($input: CreateBuddyPairingInput!) {{ createBuddyPairing(input: $input) {{ {PAIRING_FIELDS} }} }}")
}

fn end_pairing() -> String {
    format!("mutation($id: ID!) {{ endBuddyPairing(id: $id) {{ {PAIRING_FIELDS} }} }}")
}

const COUNTY_PAIRINGS: &str = "query($slug: String!, $activeOnly: Boolean) {
    county(slug: $slug) { buddyPairings(activeOnly: $activeOnly) { status testingCounty { slug } buddyCounty { slug } } }
}";

const AUDIT_LOG: &str = "query($countySlug: String, $first: Int) {
    auditLog(countySlug: $countySlug, first: $first) {
        nodes { id action subjectType subjectId requestId occurredAt county { slug } actor { email } }
        pageInfo { hasNextPage }
    }
}";

/// The demo cohort's id (read as the owner).
async fn demo_cohort_id(app: &TestApp) -> String {
    app.db.scalar_text(&format!("SELECT id::text FROM cohorts WHERE name = '{DEMO_COHORT}'")).await
}

/// The id of the active pairing of `testing` with `buddy` (read as the owner).
async fn pairing_id(app: &TestApp, testing: &str, buddy: &str) -> String {
    app.db
        .scalar_text(&format!(
            "SELECT p.id::text FROM buddy_pairings p \
             JOIN counties t ON t.id = p.testing_county_id JOIN counties b ON b.id = p.buddy_county_id \
             WHERE t.slug = '{testing}' AND b.slug = '{buddy}' AND p.status = 'active'"
        ))
        .await
}

/// `(testing, buddy)` slug pairs of a list of pairings.
fn pairs(list: &Value) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = list
        .as_array()
        .expect("a list of pairings")
        .iter()
        .map(|p| {
            (
                p["testingCounty"]["slug"].as_str().unwrap_or_default().to_owned(),
                p["buddyCounty"]["slug"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

fn pair(testing: &str, buddy: &str) -> (String, String) {
    (testing.to_owned(), buddy.to_owned())
}

#[tokio::test]
async fn faculty_run_a_cohort_from_creation_to_an_ended_pairing() {
    let app = spawn_app().await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let (kings, shasta) = (app.county_id("kings").await, app.county_id("shasta").await);

    let created = faculty
        .graphql(
            &create_cohort(),
            json!({ "input": { "name": "ORB Learning Circle 2019–20", "startsOn": "2019-07-01", "endsOn": "2020-06-30" } }),
        )
        .await;
    let cohort = created.ok()["createCohort"].clone();
    assert_eq!(cohort["name"], "ORB Learning Circle 2019–20");
    assert_eq!(cohort["startsOn"], "2019-07-01");
    assert_eq!(cohort["endsOn"], "2020-06-30");
    assert_eq!(cohort["counties"], json!([]), "a new cohort has no counties");
    let cohort_id = cohort["id"].as_str().expect("a cohort id").to_owned();

    faculty.graphql(&add_county(), json!({ "cohortId": cohort_id, "countyId": kings })).await.ok();
    let added = faculty.graphql(&add_county(), json!({ "cohortId": cohort_id, "countyId": shasta })).await;
    assert_eq!(
        added.ok()["addCohortCounty"]["counties"],
        json!([{ "slug": "kings" }, { "slug": "shasta" }]),
        "both counties belong to the cohort, by name"
    );
    let twice = faculty.graphql(&add_county(), json!({ "cohortId": cohort_id, "countyId": shasta })).await;
    assert_eq!(
        twice.ok()["addCohortCounty"]["counties"].as_array().map(Vec::len),
        Some(2),
        "adding a county again changes nothing"
    );

    let paired = faculty
        .graphql(
            &create_pairing(),
            json!({ "input": { "cohortId": cohort_id, "testingCountyId": kings, "buddyCountyId": shasta } }),
        )
        .await;
    let pairing = paired.ok()["createBuddyPairing"].clone();
    assert_eq!(pairing["status"], "ACTIVE");
    assert_eq!(pairing["endedAt"], Value::Null);
    assert_eq!(pairing["cohort"]["name"], "ORB Learning Circle 2019–20");
    assert_eq!(pairing["testingCounty"]["slug"], "kings");
    assert_eq!(pairing["buddyCounty"]["slug"], "shasta");
    let pairing_id = pairing["id"].as_str().expect("a pairing id").to_owned();

    let ended = faculty.graphql(&end_pairing(), json!({ "id": pairing_id })).await;
    let pairing = ended.ok()["endBuddyPairing"].clone();
    assert_eq!(pairing["status"], "ENDED");
    assert!(pairing["endedAt"].is_string(), "an ended pairing says when it ended: {pairing}");
    assert_eq!(
        app.count(&format!("buddy_pairings WHERE id = '{pairing_id}' AND status = 'ended' AND ended_at IS NOT NULL"))
            .await,
        1,
        "the end is stored"
    );

    let before = app.db.snapshot().await;
    let again = faculty.graphql(&end_pairing(), json!({ "id": pairing_id })).await;
    again.expect_code("CONFLICT");
    assert_eq!(app.db.snapshot().await, before, "ending an ended pairing changes nothing");

    // Once ended, the same two counties may be paired again.
    let repaired = faculty
        .graphql(
            &create_pairing(),
            json!({ "input": { "cohortId": cohort_id, "testingCountyId": kings, "buddyCountyId": shasta } }),
        )
        .await;
    assert_eq!(repaired.ok()["createBuddyPairing"]["status"], "ACTIVE", "an ended pairing does not block a new one");

    for action in ["cohort.create", "cohort.add_county", "buddy_pairing.create", "buddy_pairing.end"] {
        assert!(
            app.count(&format!("audit_log WHERE action = '{action}' AND request_id IS NOT NULL")).await >= 1,
            "{action} is audited"
        );
    }
    assert_eq!(
        app.count(&format!("audit_log WHERE action = 'cohort.add_county' AND subject_id = '{cohort_id}'")).await,
        2,
        "each county added is audited once; the repeated add is not"
    );
}

#[tokio::test]
async fn cohort_and_pairing_mistakes_are_refused() {
    let app = spawn_app().await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let cohort = demo_cohort_id(&app).await;
    let (calaveras, stanislaus, kings) =
        (app.county_id("calaveras").await, app.county_id("stanislaus").await, app.county_id("kings").await);

    // A cohort holding only Kings, to pair a county from outside it.
    let small = faculty.graphql(&create_cohort(), json!({ "input": { "name": "Kings Only" } })).await;
    let small_id = small.ok()["createCohort"]["id"].as_str().expect("a cohort id").to_owned();
    faculty.graphql(&add_county(), json!({ "cohortId": small_id, "countyId": kings })).await.ok();
    let before = app.db.snapshot().await;

    let outside = faculty
        .graphql(
            &create_pairing(),
            json!({ "input": { "cohortId": small_id, "testingCountyId": kings, "buddyCountyId": calaveras } }),
        )
        .await;
    outside.expect_code("BAD_USER_INPUT");

    let itself = faculty
        .graphql(
            &create_pairing(),
            json!({ "input": { "cohortId": cohort, "testingCountyId": kings, "buddyCountyId": kings } }),
        )
        .await;
    itself.expect_code("BAD_USER_INPUT");
    assert_eq!(itself.error_field().as_deref(), Some("input.buddyCountyId"), "{}", itself.body);

    let duplicate = faculty
        .graphql(
            &create_pairing(),
            json!({ "input": { "cohortId": cohort, "testingCountyId": calaveras, "buddyCountyId": stanislaus } }),
        )
        .await;
    duplicate.expect_code("CONFLICT");

    let malformed = faculty
        .graphql(
            &create_pairing(),
            json!({ "input": { "cohortId": cohort, "testingCountyId": "nope", "buddyCountyId": stanislaus } }),
        )
        .await;
    malformed.expect_code("BAD_USER_INPUT");
    assert_eq!(malformed.error_field().as_deref(), Some("input.testingCountyId"), "{}", malformed.body);

    let backwards = faculty
        .graphql(
            &create_cohort(),
            json!({ "input": { "name": "Backwards", "startsOn": "2020-07-01", "endsOn": "2020-06-30" } }),
        )
        .await;
    backwards.expect_code("BAD_USER_INPUT");
    assert_eq!(backwards.error_field().as_deref(), Some("input.endsOn"), "{}", backwards.body);

    let same_name = faculty.graphql(&create_cohort(), json!({ "input": { "name": DEMO_COHORT } })).await;
    same_name.expect_code("CONFLICT");
    assert_eq!(same_name.error_field().as_deref(), Some("input.name"), "{}", same_name.body);

    let blank = faculty.graphql(&create_cohort(), json!({ "input": { "name": "  " } })).await;
    blank.expect_code("BAD_USER_INPUT");
    assert_eq!(blank.error_field().as_deref(), Some("input.name"), "{}", blank.body);

    let bad_date =
        faculty.graphql(&create_cohort(), json!({ "input": { "name": "Bad Date", "startsOn": "2020-13-45" } })).await;
    assert!(!bad_date.errors().is_empty(), "an impossible date is an error: {}", bad_date.body);

    let unknown_pairing = faculty.graphql(&end_pairing(), json!({ "id": uuid::Uuid::new_v4().to_string() })).await;
    unknown_pairing.expect_code("NOT_FOUND");

    let busy = faculty
        .graphql(
            "mutation($cohortId: ID!, $countyId: ID!) { removeCohortCounty(cohortId: $cohortId, countyId: $countyId) { id } }",
            json!({ "cohortId": cohort, "countyId": calaveras }),
        )
        .await;
    busy.expect_code("CONFLICT");

    assert_eq!(app.db.snapshot().await, before, "refused cohort changes change nothing");
}

#[tokio::test]
async fn only_faculty_manage_cohorts_not_operators_leads_or_staff() {
    let app = spawn_app().await;
    let cohort = demo_cohort_id(&app).await;
    let (calaveras, kings) = (app.county_id("calaveras").await, app.county_id("kings").await);
    let pairing = pairing_id(&app, "calaveras", "stanislaus").await;
    let faculty_id = app.db.scalar_text("SELECT id::text FROM users WHERE email = 'faculty@demo.orb'").await;
    let mutations: Vec<(&str, String, Value)> = vec![
        ("createCohort", create_cohort(), json!({ "input": { "name": "Unauthorised Circle" } })),
        ("addCohortCounty", add_county(), json!({ "cohortId": cohort, "countyId": kings })),
        (
            "removeCohortCounty",
            "mutation($cohortId: ID!, $countyId: ID!) { removeCohortCounty(cohortId: $cohortId, countyId: $countyId) { id } }".into(),
            json!({ "cohortId": cohort, "countyId": kings }),
        ),
        (
            "addCohortFaculty",
            "mutation($cohortId: ID!, $email: String!) { addCohortFaculty(cohortId: $cohortId, email: $email) { id } }".into(),
            json!({ "cohortId": cohort, "email": "lead@kings.demo.orb" }),
        ),
        (
            "removeCohortFaculty",
            "mutation($cohortId: ID!, $userId: ID!) { removeCohortFaculty(cohortId: $cohortId, userId: $userId) { id } }".into(),
            json!({ "cohortId": cohort, "userId": faculty_id }),
        ),
        (
            "createBuddyPairing",
            create_pairing(),
            json!({ "input": { "cohortId": cohort, "testingCountyId": kings, "buddyCountyId": calaveras } }),
        ),
        ("endBuddyPairing", end_pairing(), json!({ "id": pairing })),
    ];
    let before = app.db.snapshot().await;
    for email in ["admin@demo.orb", "lead@calaveras.demo.orb", "staff@calaveras.demo.orb"] {
        let caller = app.sign_in(email).await;
        for (name, query, variables) in &mutations {
            let refused = caller.graphql(query, variables.clone()).await;
            assert_eq!(
                refused.error_code().as_deref(),
                Some("FORBIDDEN"),
                "{email} calling {name} is forbidden: {}",
                refused.body
            );
        }
        assert_eq!(app.db.snapshot().await, before, "{email}'s refused cohort changes change nothing");
    }
    let anonymous = app.anonymous();
    for (name, query, variables) in &mutations {
        let refused = anonymous.graphql(query, variables.clone()).await;
        assert_eq!(refused.error_code().as_deref(), Some("UNAUTHENTICATED"), "anonymous {name}: {}", refused.body);
    }
    assert_eq!(app.db.snapshot().await, before, "refused cohort changes change nothing");
}

#[tokio::test]
async fn every_signed_in_user_reads_cohorts_and_pairings() {
    let app = spawn_app().await;
    let calaveras = app.county_id("calaveras").await;
    let cohorts =
        "{ cohorts { nodes { name counties { slug } faculty { email } buddyPairings(activeOnly: true) { status } } } }";
    let by_county = "query($countyId: ID) { buddyPairings(countyId: $countyId) { nodes { status testingCounty { slug } buddyCounty { slug } } } }";

    for email in ["staff@kings.demo.orb", "lead@calaveras.demo.orb", "faculty@demo.orb", "admin@demo.orb"] {
        let caller = app.sign_in(email).await;
        let read = caller.graphql(cohorts, json!({})).await;
        let nodes = read.ok()["cohorts"]["nodes"].clone();
        assert_eq!(nodes.as_array().map(Vec::len), Some(1), "{email} sees the demo cohort: {nodes}");
        assert_eq!(nodes[0]["name"], DEMO_COHORT);
        assert_eq!(nodes[0]["counties"].as_array().map(Vec::len), Some(12), "{email} sees its twelve counties");
        assert_eq!(nodes[0]["faculty"], json!([{ "email": "faculty@demo.orb" }]), "{email} sees its faculty");
        assert_eq!(nodes[0]["buddyPairings"].as_array().map(Vec::len), Some(7), "{email} sees its seven pairings");

        let pairings = caller.graphql(by_county, json!({ "countyId": calaveras })).await;
        assert_eq!(
            pairs(&pairings.ok()["buddyPairings"]["nodes"]),
            [pair("calaveras", "stanislaus")],
            "{email} reads Calaveras's pairings"
        );

        let sacramento = caller.graphql(COUNTY_PAIRINGS, json!({ "slug": "sacramento" })).await;
        assert_eq!(
            pairs(&sacramento.ok()["county"]["buddyPairings"]),
            [pair("sacramento", "sonoma"), pair("sonoma", "sacramento")],
            "{email} reads the pairings naming Sacramento on either side"
        );
    }

    let all = app
        .sign_in("staff@kings.demo.orb")
        .await
        .graphql("{ buddyPairings(first: 100) { nodes { id } } }", json!({}))
        .await;
    assert_eq!(
        all.ok()["buddyPairings"]["nodes"].as_array().map(Vec::len),
        Some(7),
        "all seven demo pairings are listed"
    );

    let anonymous = app.anonymous();
    anonymous.graphql(cohorts, json!({})).await.expect_code("UNAUTHENTICATED");
    anonymous.graphql(by_county, json!({ "countyId": calaveras })).await.expect_code("UNAUTHENTICATED");
    let anonymous_county = anonymous.graphql(COUNTY_PAIRINGS, json!({ "slug": "sacramento" })).await;
    anonymous_county.expect_code("UNAUTHENTICATED");
    assert!(!anonymous_county.body.to_string().contains("sonoma"), "nothing leaks: {}", anonymous_county.body);
}

#[tokio::test]
async fn an_ended_pairing_leaves_the_countys_active_pairings_at_once() {
    let app = spawn_app().await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let lead = app.sign_in("lead@calaveras.demo.orb").await;
    let pairing = pairing_id(&app, "calaveras", "stanislaus").await;

    let active = lead.graphql(COUNTY_PAIRINGS, json!({ "slug": "calaveras" })).await;
    assert_eq!(pairs(&active.ok()["county"]["buddyPairings"]), [pair("calaveras", "stanislaus")], "paired before");

    faculty.graphql(&end_pairing(), json!({ "id": pairing })).await.ok();

    for slug in ["calaveras", "stanislaus"] {
        let after = lead.graphql(COUNTY_PAIRINGS, json!({ "slug": slug })).await;
        assert_eq!(after.ok()["county"]["buddyPairings"], json!([]), "{slug} has no active pairing once it ended");
    }
    let history = lead.graphql(COUNTY_PAIRINGS, json!({ "slug": "calaveras", "activeOnly": false })).await;
    let list = history.ok()["county"]["buddyPairings"].clone();
    assert_eq!(pairs(&list), [pair("calaveras", "stanislaus")], "the ended pairing stays in the history");
    assert_eq!(list[0]["status"], "ENDED");

    let ended_filter = lead
        .graphql(
            "query($countyId: ID) { buddyPairings(countyId: $countyId, status: ACTIVE) { nodes { id } } }",
            json!({ "countyId": app.county_id("calaveras").await }),
        )
        .await;
    assert_eq!(ended_filter.ok()["buddyPairings"]["nodes"], json!([]), "no active pairing names Calaveras");
}

/// The nodes of an audit log page.
async fn audit_nodes(caller: &Caller, county: Option<&str>, first: i64) -> Vec<Value> {
    let read = caller.graphql(AUDIT_LOG, json!({ "countySlug": county, "first": first })).await;
    read.ok()["auditLog"]["nodes"].as_array().expect("a list of entries").clone()
}

#[tokio::test]
async fn operators_read_the_whole_audit_log_and_a_lead_their_countys() {
    let app = spawn_app().await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let admin = app.sign_in("admin@demo.orb").await;
    let pairing = pairing_id(&app, "calaveras", "stanislaus").await;

    faculty.graphql(&end_pairing(), json!({ "id": pairing })).await.ok();
    admin
        .graphql(
            "mutation($input: CreateCountyInput!) { createCounty(input: $input) { id } }",
            json!({ "input": { "name": "Tulare", "region": "CENTRAL", "sizeClass": "MEDIUM" } }),
        )
        .await
        .ok();

    let entries = audit_nodes(&admin, None, 100).await;
    let actions: Vec<&str> = entries.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions[..3],
        ["county.create", "buddy_pairing.end", "buddy_pairing.end"],
        "the newest changes come first: {actions:?}"
    );
    let ids: Vec<i64> =
        entries.iter().map(|e| e["id"].as_str().and_then(|id| id.parse().ok()).expect("a numeric entry id")).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "entries are newest first: {ids:?}");
    assert_eq!(entries[0]["county"]["slug"], "tulare");
    assert_eq!(entries[0]["actor"]["email"], "admin@demo.orb", "the operator is named as the actor");
    assert!(entries[0]["requestId"].is_string(), "the entry names its request: {}", entries[0]);
    assert_eq!(entries[1]["actor"]["email"], "faculty@demo.orb");
    assert_eq!(entries[1]["subjectId"], json!(pairing));
    let mut ended_in: Vec<&str> = entries[1..3].iter().filter_map(|e| e["county"]["slug"].as_str()).collect();
    ended_in.sort_unstable();
    assert_eq!(ended_in, ["calaveras", "stanislaus"], "ending a pairing is recorded for both counties");
    let total = app.count("audit_log").await;
    assert_eq!(
        entries.len() as i64,
        total.min(100),
        "an operator's page is full: every entry is readable ({total} in all)"
    );
    assert!(
        entries.iter().any(|e| e["action"] == "user.create" && e["county"].is_null()),
        "an operator also reads entries that belong to no county"
    );

    let kings_only = audit_nodes(&admin, Some("kings"), 100).await;
    assert!(!kings_only.is_empty(), "Kings has entries");
    assert!(kings_only.iter().all(|e| e["county"]["slug"] == "kings"), "an operator may narrow to one county");

    let lead = app.sign_in("lead@calaveras.demo.orb").await;
    let own = audit_nodes(&lead, Some("calaveras"), 100).await;
    assert_eq!(
        own.len() as i64,
        app.count(&format!("audit_log WHERE county_id = '{}'", app.county_id("calaveras").await)).await,
        "the lead reads every Calaveras entry"
    );
    assert!(own.iter().all(|e| e["county"]["slug"] == "calaveras"), "and only Calaveras entries: {own:?}");
    assert_eq!(own[0]["action"], "buddy_pairing.end", "including the newest change to Calaveras");

    let without = lead.graphql(AUDIT_LOG, json!({})).await;
    without.expect_code("FORBIDDEN");
    let other = lead.graphql(AUDIT_LOG, json!({ "countySlug": "kings" })).await;
    other.expect_code("FORBIDDEN");
    assert!(!other.body.to_string().contains("county.create"), "nothing of Kings leaks: {}", other.body);
    let staff = app.sign_in("staff@calaveras.demo.orb").await;
    staff.graphql(AUDIT_LOG, json!({ "countySlug": "calaveras" })).await.expect_code("FORBIDDEN");
    staff.graphql(AUDIT_LOG, json!({})).await.expect_code("FORBIDDEN");
    faculty.graphql(AUDIT_LOG, json!({})).await.expect_code("FORBIDDEN");
    app.anonymous().graphql(AUDIT_LOG, json!({})).await.expect_code("UNAUTHENTICATED");
}
