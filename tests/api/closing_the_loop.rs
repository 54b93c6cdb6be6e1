//! Closing the loop: the SO WHAT? planning matrix (actions per domain, their status history and
//! the progress of the planned domains into the next wave), and county testing profiles with
//! the buddy county's reflections and every save kept.

use orb_tests::{Caller, TestApp, spawn_app};
use serde_json::{Value, json};

const MATRIX_FIELDS: &str = "id title administration { id title }
    actions { id domain learned soWhat nowWhat ownerId dueOn status notes
              history { from to changedById } }";

const PROGRESS: &str = "query($countyId: ID!) { planningMatrices(countyId: $countyId) {
    id administration { id }
    actions { domain notes }
    progress { domain state earlier { id } later { id title }
               change { withheld earlierN earlierScore laterN laterScore change changeLow changeHigh hedgesG } }
} }";

const ADD_ACTION: &str = "mutation($matrixId: ID!, $input: PlanningActionInput!) {
    addPlanningAction(matrixId: $matrixId, input: $input) { id domain status ownerId history { from to } }
}";

const SET_STATUS: &str = "mutation($id: ID!, $status: ActionStatus!) {
    setPlanningActionStatus(id: $id, status: $status) { id status history { from to changedById } }
}";

const PROFILE_FIELDS: &str = "id status description tested learned worked differently nextSteps guidance revision
    county { slug }
    reflections { buddyCounty { slug } experience learned takeAway share revision }
    revisions { part revision writtenBy { slug } savedById sections }";

async fn user_id(app: &TestApp, email: &str) -> String {
    app.db.scalar_text(&format!("SELECT id::text FROM users WHERE email = '{email}'")).await
}

async fn wave_id(app: &TestApp, slug: &str, title: &str) -> String {
    app.db
        .scalar_text(&format!(
            "SELECT a.id::text FROM administrations a JOIN counties c ON c.id = a.county_id \
             WHERE c.slug = '{slug}' AND a.title = '{title}'"
        ))
        .await
}

async fn profile_id(app: &TestApp, slug: &str) -> String {
    app.db
        .scalar_text(&format!(
            "SELECT p.id::text FROM testing_profiles p JOIN counties c ON c.id = p.county_id WHERE c.slug = '{slug}'"
        ))
        .await
}

fn action(domain: &str, owner: &str) -> Value {
    json!({ "domain": domain, "learned": "Staff do not hear back after surveys.",
            "soWhat": "Feedback that goes nowhere stops coming.", "nowWhat": "Share 'you said, we did' in two weeks.",
            "ownerId": owner, "dueOn": "2018-09-30", "notes": "Ask the union steward to co-present." })
}

/// Starts a planning matrix on Kings' demo wave as its lead; returns the matrix's id.
async fn kings_matrix(app: &TestApp, lead: &Caller) -> String {
    let created = lead
        .graphql(
            &format!(
                "mutation($countyId: ID!, $input: PlanningMatrixInput!) {{ createPlanningMatrix(countyId: $countyId, input: $input) {{ {MATRIX_FIELDS} }} }}"
            ),
            json!({ "countyId": app.county_id("kings").await, "input": {
                "administrationId": wave_id(app, "kings", "ORB readiness wave 1 (2017)").await,
                "title": "SO WHAT? after wave 1" } }),
        )
        .await;
    let matrix = created.ok()["createPlanningMatrix"].clone();
    assert_eq!(matrix["actions"], json!([]));
    matrix["id"].as_str().expect("a matrix id").to_owned()
}

#[tokio::test]
async fn a_lead_plans_actions_and_moves_them_on_with_every_change_kept() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let matrix = kings_matrix(&app, &lead).await;
    let owner = user_id(&app, "staff@kings.demo.orb").await;
    let added = lead.graphql(ADD_ACTION, json!({ "matrixId": matrix, "input": action("COMMS", &owner) })).await;
    let added = added.ok()["addPlanningAction"].clone();
    assert_eq!((added["status"].as_str(), added["ownerId"].as_str()), (Some("PLANNED"), Some(owner.as_str())));
    assert_eq!(added["history"], json!([{ "from": null, "to": "PLANNED" }]));
    let id = added["id"].as_str().expect("an action id").to_owned();

    // Forward: PLANNED → IN_PROGRESS → DONE.
    lead.graphql(SET_STATUS, json!({ "id": id, "status": "IN_PROGRESS" })).await.ok();
    for refused in ["PLANNED", "IN_PROGRESS"] {
        let answer = lead.graphql(SET_STATUS, json!({ "id": id, "status": refused })).await;
        answer.expect_code("CONFLICT");
        assert_eq!(answer.error_field().as_deref(), Some("status"));
    }
    let done = lead.graphql(SET_STATUS, json!({ "id": id, "status": "DONE" })).await;
    let done = done.ok()["setPlanningActionStatus"].clone();
    let lead_id = user_id(&app, "lead@kings.demo.orb").await;
    assert_eq!(
        done["history"],
        json!([
            { "from": null, "to": "PLANNED", "changedById": lead_id },
            { "from": "PLANNED", "to": "IN_PROGRESS", "changedById": lead_id },
            { "from": "IN_PROGRESS", "to": "DONE", "changedById": lead_id },
        ])
    );
    // DONE is final: no status change, no rewrite.
    let before = app.db.snapshot().await;
    lead.graphql(SET_STATUS, json!({ "id": id, "status": "DROPPED" })).await.expect_code("CONFLICT");
    lead.graphql(
        "mutation($id: ID!, $input: PlanningActionInput!) { updatePlanningAction(id: $id, input: $input) { id } }",
        json!({ "id": id, "input": action("LEAD", &owner) }),
    )
    .await
    .expect_code("CONFLICT");
    assert_eq!(app.db.snapshot().await, before, "refused changes change nothing");

    // A planned action may be dropped without starting, and rewritten before that.
    let second = lead.graphql(ADD_ACTION, json!({ "matrixId": matrix, "input": action("LEAD", &owner) })).await;
    let second = second.ok()["addPlanningAction"]["id"].as_str().expect("an id").to_owned();
    let rewritten = lead
        .graphql(
            "mutation($id: ID!, $input: PlanningActionInput!) { updatePlanningAction(id: $id, input: $input) { domain dueOn notes } }",
            json!({ "id": second, "input": { "domain": "DATA", "learned": "l", "soWhat": "s", "nowWhat": "n", "ownerId": lead_id } }),
        )
        .await;
    assert_eq!(rewritten.ok()["updatePlanningAction"], json!({ "domain": "DATA", "dueOn": null, "notes": null }));
    lead.graphql(SET_STATUS, json!({ "id": second, "status": "DONE" })).await.expect_code("CONFLICT");
    lead.graphql(SET_STATUS, json!({ "id": second, "status": "DROPPED" })).await.ok();

    // Every change audited, in the county.
    let kings = app.county_id("kings").await;
    let audited = |action: &str| {
        format!("audit_log WHERE county_id = '{kings}' AND action = '{action}' AND actor_user_id = '{lead_id}'")
    };
    assert_eq!(app.count(&audited("planning_matrix.create")).await, 1);
    assert_eq!(app.count(&audited("planning_action.create")).await, 2);
    assert_eq!(app.count(&audited("planning_action.update")).await, 1);
    assert_eq!(app.count(&audited("planning_action.status")).await, 3);
    assert_eq!(app.count(&format!("planning_action_history WHERE county_id = '{kings}'")).await, 5);
}

#[tokio::test]
async fn bad_actions_are_refused_field_by_field_and_others_may_not_plan() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let matrix = kings_matrix(&app, &lead).await;
    let outsider = user_id(&app, "staff@orange.demo.orb").await;
    let before = app.db.snapshot().await;

    let mut bad = action("NOPE", &outsider);
    bad["soWhat"] = json!(" ");
    let answer = lead.graphql(ADD_ACTION, json!({ "matrixId": matrix, "input": bad })).await;
    answer.expect_code("BAD_USER_INPUT");
    assert_eq!(answer.problem_fields(), ["input.soWhat"], "text is checked first");
    let answer = lead.graphql(ADD_ACTION, json!({ "matrixId": matrix, "input": action("NOPE", &outsider) })).await;
    answer.expect_code("BAD_USER_INPUT");
    assert_eq!(answer.problem_fields(), ["input.domain", "input.ownerId"], "a wave's domain, a county member");

    // One matrix per wave.
    let again = lead
        .graphql(
            "mutation($countyId: ID!, $input: PlanningMatrixInput!) { createPlanningMatrix(countyId: $countyId, input: $input) { id } }",
            json!({ "countyId": app.county_id("kings").await, "input": {
                "administrationId": wave_id(&app, "kings", "ORB readiness wave 1 (2017)").await, "title": "Again" } }),
        )
        .await;
    again.expect_code("CONFLICT");
    // Staff read but do not plan; another county does not see the matrix; anonymous callers sign in.
    let owner = user_id(&app, "staff@kings.demo.orb").await;
    let input = json!({ "matrixId": matrix, "input": action("LEAD", &owner) });
    app.sign_in("staff@kings.demo.orb").await.graphql(ADD_ACTION, input.clone()).await.expect_code("FORBIDDEN");
    app.sign_in("lead@orange.demo.orb").await.graphql(ADD_ACTION, input.clone()).await.expect_code("NOT_FOUND");
    app.sign_in("lead@alameda.demo.orb").await.graphql(ADD_ACTION, input.clone()).await.expect_code("FORBIDDEN");
    app.anonymous().graphql(ADD_ACTION, input).await.expect_code("UNAUTHENTICATED");
    assert_eq!(app.db.snapshot().await, before, "refused writes change nothing");
}

#[tokio::test]
async fn the_progress_view_shows_sacramentos_planned_domains_moving_as_change_since_does() {
    let app = spawn_app().await;
    let sacramento = app.county_id("sacramento").await;
    let lead = app.sign_in("lead@sacramento.demo.orb").await;
    let read = lead.graphql(PROGRESS, json!({ "countyId": sacramento })).await;
    let matrices = read.ok()["planningMatrices"].as_array().expect("a list").clone();
    assert_eq!(matrices.len(), 1, "the demo's matrix");
    let matrix = &matrices[0];
    let earlier = wave_id(&app, "sacramento", "ORB readiness wave 1 (2017)").await;
    let later = wave_id(&app, "sacramento", "ORB readiness wave 2 (2018)").await;
    assert_eq!(matrix["administration"]["id"], earlier.as_str());
    let progress = matrix["progress"].as_array().expect("progress").clone();
    let domains: Vec<&str> = progress.iter().filter_map(|p| p["domain"].as_str()).collect();
    assert_eq!(domains, ["LEAD", "COMMS", "DATA", "TEAMS"], "each planned domain once, in the order planned");

    let since = lead
        .graphql(
            "query($id: ID!, $earlier: ID!) { administration(id: $id) { changeSince(earlierId: $earlier) {
                domain withheld earlierN earlierScore laterN laterScore change changeLow changeHigh hedgesG } } }",
            json!({ "id": later, "earlier": earlier }),
        )
        .await;
    let since = since.ok()["administration"]["changeSince"].as_array().expect("changes").clone();
    for entry in &progress {
        assert_eq!(entry["state"], "SHOWN", "{entry}");
        assert_eq!(entry["earlier"]["id"], earlier.as_str());
        assert_eq!(entry["later"]["id"], later.as_str(), "the next wave sharing concepts");
        let same = since.iter().find(|c| c["domain"] == entry["domain"]).expect("changeSince has the domain");
        let mut expected = same.clone();
        expected.as_object_mut().expect("an object").remove("domain");
        assert_eq!(entry["change"], expected, "the same numbers as changeSince for {}", entry["domain"]);
    }
    let lead_change = progress[0]["change"]["change"].as_f64().expect("a change");
    let comms_low = progress[1]["change"]["changeLow"].as_f64().expect("an interval");
    assert!(lead_change > 5.0 && comms_low > 0.0, "the targeted domains rose: {progress:?}");

    // A wave with nothing after it yet.
    let kings_lead = app.sign_in("lead@kings.demo.orb").await;
    let matrix = kings_matrix(&app, &kings_lead).await;
    let owner = user_id(&app, "lead@kings.demo.orb").await;
    kings_lead.graphql(ADD_ACTION, json!({ "matrixId": matrix, "input": action("TEAMS", &owner) })).await.ok();
    let read = kings_lead.graphql(PROGRESS, json!({ "countyId": app.county_id("kings").await })).await;
    let progress = read.ok()["planningMatrices"][0]["progress"].clone();
    assert_eq!(
        progress,
        json!([{ "domain": "TEAMS", "state": "NO_LATER_WAVE",
                 "earlier": { "id": wave_id(&app, "kings", "ORB readiness wave 1 (2017)").await },
                 "later": null, "change": null }])
    );
}

#[tokio::test]
async fn members_buddies_and_faculty_read_a_matrix_others_do_not_and_outside_reads_are_audited() {
    let app = spawn_app().await;
    let sacramento = app.county_id("sacramento").await;
    let notes_of = |read: &Value| -> Vec<Value> {
        read["planningMatrices"][0]["actions"].as_array().expect("actions").iter().map(|a| a["notes"].clone()).collect()
    };
    let staff = app.sign_in("staff@sacramento.demo.orb").await;
    let own = staff.graphql(PROGRESS, json!({ "countyId": sacramento })).await;
    assert!(notes_of(own.ok()).iter().any(Value::is_string), "members read the notes");

    let audited = format!("audit_log WHERE action = 'planning_matrix.read' AND county_id = '{sacramento}'");
    assert_eq!(app.count(&audited).await, 0, "a member's read is not audited");
    for outsider in ["lead@sonoma.demo.orb", "faculty@demo.orb"] {
        let caller = app.sign_in(outsider).await;
        let read = caller.graphql(PROGRESS, json!({ "countyId": sacramento })).await;
        let data = read.ok();
        assert!(notes_of(data).iter().all(Value::is_null), "{outsider} does not read the notes");
        assert_eq!(data["planningMatrices"][0]["progress"][0]["state"], "SHOWN", "released results show to {outsider}");
    }
    assert_eq!(app.count(&audited).await, 2, "the buddy's and faculty's reads are audited");
    assert!(
        app.count(&format!("audit_log WHERE action = 'results.read' AND county_id = '{sacramento}'")).await >= 4,
        "and so are their reads of the two waves' results"
    );
    let stranger = app.sign_in("lead@kings.demo.orb").await;
    stranger.graphql(PROGRESS, json!({ "countyId": sacramento })).await.expect_code("NOT_FOUND");
    let id =
        app.db.scalar_text(&format!("SELECT id::text FROM planning_matrices WHERE county_id = '{sacramento}'")).await;
    stranger
        .graphql("query($id: ID!) { planningMatrix(id: $id) { id } }", json!({ "id": id }))
        .await
        .expect_code("NOT_FOUND");
    app.anonymous()
        .graphql("query($id: ID!) { planningMatrix(id: $id) { id } }", json!({ "id": id }))
        .await
        .expect_code("UNAUTHENTICATED");
}

async fn profile(caller: &Caller, id: &str) -> orb_tests::GraphqlResponse {
    caller
        .graphql(&format!("query($id: ID!) {{ testingProfile(id: $id) {{ {PROFILE_FIELDS} }} }}"), json!({ "id": id }))
        .await
}

const SAVE: &str = "mutation($id: ID!, $input: ProfileSectionsInput!) {
    saveTestingProfile(id: $id, input: $input) { status revision description tested }
}";

const STATUS: &str =
    "mutation($id: ID!, $status: ProfileStatus!) { setTestingProfileStatus(id: $id, status: $status) { status } }";

const REFLECT: &str = "mutation($id: ID!, $input: ReflectionsInput!) {
    saveBuddyReflections(profileId: $id, input: $input) { reflections { buddyCounty { slug } experience share revision } }
}";

#[tokio::test]
async fn a_profile_is_drafted_shared_with_the_buddy_and_faculty_then_published_with_every_save_kept() {
    let app = spawn_app().await;
    // Sonoma's demo profile is a draft; Sacramento is Sonoma's buddy.
    let id = profile_id(&app, "sonoma").await;
    let lead = app.sign_in("lead@sonoma.demo.orb").await;
    let staff = app.sign_in("staff@sonoma.demo.orb").await;
    let buddy = app.sign_in("lead@sacramento.demo.orb").await;
    let buddy_staff = app.sign_in("staff@sacramento.demo.orb").await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let stranger = app.sign_in("lead@kings.demo.orb").await;

    assert_eq!(profile(&staff, &id).await.ok()["testingProfile"]["status"], "DRAFT", "members read drafts");
    for outsider in [&buddy, &faculty, &stranger] {
        profile(outsider, &id).await.expect_code("NOT_FOUND");
    }
    let saved = lead
        .graphql(
            SAVE,
            json!({ "id": id, "input": { "description": "# Sonoma\n\nMid-sized.", "tested": "An elevator speech." } }),
        )
        .await;
    assert_eq!(
        saved.ok()["saveTestingProfile"],
        json!({ "status": "DRAFT", "revision": 2, "description": "# Sonoma\n\nMid-sized.", "tested": "An elevator speech." })
    );
    let too_long = "x".repeat(8001);
    let answer =
        lead.graphql(SAVE, json!({ "id": id, "input": { "learned": too_long, "guidance": "long enough" } })).await;
    answer.expect_code("BAD_USER_INPUT");
    assert_eq!(answer.problem_fields(), ["input.learned"]);
    // A NUL character is refused at the edge, before any field is read.
    let answer = lead.graphql(SAVE, json!({ "id": id, "input": { "guidance": "a\u{0}b" } })).await;
    answer.expect_code("BAD_USER_INPUT");
    assert_eq!(answer.problem_fields(), ["input.guidance"]);

    // Buddies cannot write on a draft they cannot see; skipping a step is refused.
    let reflections = json!({ "experience": "We learned as much as we gave.", "share": "Our case-discussion series." });
    buddy.graphql(REFLECT, json!({ "id": id, "input": reflections })).await.expect_code("NOT_FOUND");
    lead.graphql(STATUS, json!({ "id": id, "status": "PUBLISHED" })).await.expect_code("CONFLICT");
    lead.graphql(STATUS, json!({ "id": id, "status": "DRAFT" })).await.expect_code("CONFLICT");
    lead.graphql(STATUS, json!({ "id": id, "status": "SHARED" })).await.ok();

    // Shared: the buddy and faculty read it (audited), others still do not.
    let sonoma = app.county_id("sonoma").await;
    let audited = format!("audit_log WHERE action = 'testing_profile.read' AND county_id = '{sonoma}'");
    assert_eq!(profile(&buddy, &id).await.ok()["testingProfile"]["revision"], 2);
    assert_eq!(profile(&faculty, &id).await.ok()["testingProfile"]["status"], "SHARED");
    assert_eq!(app.count(&audited).await, 2);
    profile(&stranger, &id).await.expect_code("NOT_FOUND");

    // Only the buddy county's lead writes reflections.
    let before = app.db.snapshot().await;
    buddy_staff.graphql(REFLECT, json!({ "id": id, "input": reflections })).await.expect_code("FORBIDDEN");
    lead.graphql(REFLECT, json!({ "id": id, "input": reflections })).await.expect_code("FORBIDDEN");
    stranger.graphql(REFLECT, json!({ "id": id, "input": reflections })).await.expect_code("NOT_FOUND");
    staff.graphql(SAVE, json!({ "id": id, "input": { "description": "Mine now" } })).await.expect_code("FORBIDDEN");
    buddy.graphql(SAVE, json!({ "id": id, "input": { "description": "Ours now" } })).await.expect_code("FORBIDDEN");
    buddy.graphql(STATUS, json!({ "id": id, "status": "PUBLISHED" })).await.expect_code("FORBIDDEN");
    assert_eq!(app.db.snapshot().await, before, "refused writes change nothing");

    let written = buddy.graphql(REFLECT, json!({ "id": id, "input": reflections })).await;
    assert_eq!(
        written.ok()["saveBuddyReflections"]["reflections"],
        json!({ "buddyCounty": { "slug": "sacramento" }, "experience": "We learned as much as we gave.",
                "share": "Our case-discussion series.", "revision": 1 })
    );
    buddy
        .graphql(
            REFLECT,
            json!({ "id": id, "input": { "experience": "Revised.", "learned": "Slow down to speed up." } }),
        )
        .await
        .ok();

    // Published: everyone signed in reads it, with its whole history.
    lead.graphql(STATUS, json!({ "id": id, "status": "PUBLISHED" })).await.ok();
    let read = profile(&stranger, &id).await;
    let read = read.ok()["testingProfile"].clone();
    assert_eq!(read["reflections"]["experience"], "Revised.");
    assert_eq!(read["reflections"]["share"], Value::Null, "a save replaces the whole set");
    let revisions: Vec<(String, i64, String)> = read["revisions"]
        .as_array()
        .expect("revisions")
        .iter()
        .map(|r| {
            (
                r["part"].as_str().unwrap_or_default().to_owned(),
                r["revision"].as_i64().unwrap_or_default(),
                r["writtenBy"]["slug"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let row = |part: &str, n: i64, by: &str| (part.to_owned(), n, by.to_owned());
    assert_eq!(
        revisions,
        [
            row("REFLECTIONS", 2, "sacramento"),
            row("REFLECTIONS", 1, "sacramento"),
            row("PROFILE", 2, "sonoma"),
            row("PROFILE", 1, "sonoma"),
        ],
        "every save kept, newest first"
    );
    let first = &read["revisions"][3]["sections"];
    assert!(first["description"].as_str().is_some_and(|d| d.contains("mid-sized county")), "the demo's text kept");
    assert_eq!(read["revisions"][0]["sections"]["share"], Value::Null);
    assert_eq!(read["revisions"][1]["sections"]["share"], "Our case-discussion series.");
    app.anonymous()
        .graphql(&format!("query($id: ID!) {{ testingProfile(id: $id) {{ {PROFILE_FIELDS} }} }}"), json!({ "id": id }))
        .await
        .expect_code("UNAUTHENTICATED");

    let lead_id = user_id(&app, "lead@sonoma.demo.orb").await;
    let sacramento_lead = user_id(&app, "lead@sacramento.demo.orb").await;
    let audit = |action: &str, actor: &str| {
        format!("audit_log WHERE county_id = '{sonoma}' AND action = '{action}' AND actor_user_id = '{actor}'")
    };
    assert_eq!(app.count(&audit("testing_profile.save", &lead_id)).await, 1);
    assert_eq!(app.count(&audit("testing_profile.status", &lead_id)).await, 2);
    assert_eq!(app.count(&audit("testing_profile.reflections", &sacramento_lead)).await, 2);
}

#[tokio::test]
async fn the_demo_profiles_read_by_status_and_a_county_starts_one_per_cohort() {
    let app = spawn_app().await;
    let list = "{ testingProfiles { county { slug } status } }";
    let slugs = |read: &Value| -> Vec<String> {
        read["testingProfiles"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|p| {
                format!(
                    "{}:{}",
                    p["county"]["slug"].as_str().unwrap_or_default(),
                    p["status"].as_str().unwrap_or_default()
                )
            })
            .collect()
    };
    let mut kings = slugs(app.sign_in("lead@kings.demo.orb").await.graphql(list, json!({})).await.ok());
    kings.sort();
    assert_eq!(kings, ["calaveras:PUBLISHED", "kings:SHARED", "orange:PUBLISHED"], "its own and the published ones");
    let faculty = slugs(app.sign_in("faculty@demo.orb").await.graphql(list, json!({})).await.ok());
    assert_eq!(faculty.len(), 6, "every profile but Sonoma's draft: {faculty:?}");
    let read = profile(&app.sign_in("staff@calaveras.demo.orb").await, &profile_id(&app, "orange").await).await;
    let orange = read.ok()["testingProfile"].clone();
    assert_eq!(orange["reflections"]["buddyCounty"]["slug"], "ventura");
    assert!(orange["tested"].as_str().is_some_and(|t| t.contains("without a neutral option")));

    // Stanislaus (a buddy in the cohort) starts its own; a second for the cohort is refused.
    let cohort = app.db.scalar_text("SELECT id::text FROM cohorts LIMIT 1").await;
    let create = "mutation($countyId: ID!, $cohortId: ID!, $input: ProfileSectionsInput) {
        createTestingProfile(countyId: $countyId, cohortId: $cohortId, input: $input) { status revision description county { slug } } }";
    let stanislaus = app.sign_in("lead@stanislaus.demo.orb").await;
    let vars = json!({ "countyId": app.county_id("stanislaus").await, "cohortId": cohort, "input": { "description": "Central valley." } });
    let created = stanislaus.graphql(create, vars.clone()).await;
    assert_eq!(
        created.ok()["createTestingProfile"],
        json!({ "status": "DRAFT", "revision": 1, "description": "Central valley.", "county": { "slug": "stanislaus" } })
    );
    let before = app.db.snapshot().await;
    let again = stanislaus.graphql(create, vars.clone()).await;
    again.expect_code("CONFLICT");
    assert_eq!(again.error_field().as_deref(), Some("cohortId"));
    app.sign_in("staff@stanislaus.demo.orb").await.graphql(create, vars).await.expect_code("FORBIDDEN");
    assert_eq!(app.db.snapshot().await, before);
}

#[tokio::test]
async fn the_database_takes_reflections_only_from_the_profiles_buddy_county() {
    // Below the service: a lead of a county not paired with Calaveras cannot attach
    // reflections to its profile even by writing the row directly; Stanislaus, its buddy, can
    // (the demo gives Calaveras none yet; each session rolls back).
    let app = spawn_app().await;
    let store = app.runtime_store(2, std::time::Duration::from_secs(10)).await;
    let calaveras = app.county_id("calaveras").await;
    let profile = app
        .db
        .scalar_text(&format!("SELECT id::text FROM testing_profiles WHERE county_id = '{calaveras}' LIMIT 1"))
        .await;
    for (slug, allowed) in [("kings", false), ("stanislaus", true)] {
        let county = app.county_id(slug).await;
        let user: orb_domain::ids::UserId = app
            .db
            .scalar_text(&format!("SELECT id::text FROM users WHERE email = 'lead@{slug}.demo.orb'"))
            .await
            .parse()
            .expect("a uuid");
        let session = store.begin(orb_store::Caller::User(user), None).await.expect("a session");
        let written = sea_orm::ConnectionTrait::execute_unprepared(
            session.db(),
            &format!(
                "INSERT INTO testing_profile_reflections (county_id, profile_id, buddy_county_id, experience)
                 VALUES ('{calaveras}', '{profile}', '{county}', 'written below the service')"
            ),
        )
        .await;
        match (allowed, written) {
            (true, Ok(_)) => {}
            (false, Err(e)) => assert!(e.to_string().contains("row-level security"), "{slug}: {e}"),
            (allowed, outcome) => panic!("{slug}: expected allowed = {allowed}, got {outcome:?}"),
        }
    }
}
