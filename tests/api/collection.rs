//! Collecting responses: a county's lead runs administrations and hands out codes; respondents,
//! who have no account, exchange a code for a token that opens exactly one response, save,
//! resume and submit it once; paper forms are keyed in by the lead; small groups stay hidden in
//! the lead's counts, and an anonymous response keeps no link to its code and no precise time.

use chrono::{Duration, Utc};
use orb_tests::{Caller, GraphqlResponse, TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CREATE: &str = "mutation($input: CreateAdministrationInput!) {
    createAdministration(input: $input) { id status title perspectives languages anonymity minGroupSize }
}";

const OPEN: &str = "mutation($id: ID!, $closesAt: DateTime) {
    openAdministration(id: $id, closesAt: $closesAt) { id status acceptingResponses }
}";

const CLOSE: &str = "mutation($id: ID!) { closeAdministration(id: $id) { id status acceptingResponses } }";

const ISSUE: &str = "mutation($input: IssueInvitationsInput!) { issueInvitations(input: $input) { batchId codes } }";

const REVOKE: &str = "mutation($id: ID!, $code: String!) { revokeInvitation(administrationId: $id, code: $code) }";

const ENABLE_OPEN_LINK: &str =
    "mutation($id: ID!, $cap: Int) { enableOpenLink(administrationId: $id, cap: $cap) { code cap } }";

const DISABLE_OPEN_LINK: &str = "mutation($id: ID!) { disableOpenLink(administrationId: $id) { id openLinkEnabled } }";

const PAPER: &str = "mutation($id: ID!, $forms: [PaperFormInput!]!, $allOrNothing: Boolean) {
    enterPaperForms(administrationId: $id, forms: $forms, allOrNothing: $allOrNothing) {
        stored refused { index problems { field message } }
    }
}";

const START: &str = "mutation($code: String!, $language: String) {
    startResponse(code: $code, language: $language) { token expiresIn status }
}";

const MY_RESPONSE: &str = "{ myResponse {
    id status answers perspective language submittedOn
    survey { title instrument { items { code } } units { id name } }
} }";

const SAVE: &str = "mutation($input: AnswersInput!) { saveResponse(input: $input) { id status answers perspective } }";

const SUBMIT: &str = "mutation($input: AnswersInput!, $key: String!) {
    submitResponse(input: $input, idempotencyKey: $key) { id status answers perspective submittedOn }
}";

const RESPONSE_COUNTS: &str = "query($id: ID!) { administration(id: $id) {
    responseCounts { inProgress submitted byPerspective { perspective submitted suppressed } }
} }";

const INVITATION_COUNTS: &str =
    "query($id: ID!) { administration(id: $id) { invitationCounts { issued started submitted revoked } } }";

const ADMINISTRATIONS: &str = "query($slug: String!) { administrations(countySlug: $slug) { id } }";

const ADMINISTRATION: &str = "query($id: ID!) { administration(id: $id) { title status } }";

/// The id of the published state `orb-readiness` version, which every county may run.
async fn state_version(caller: &Caller) -> String {
    let listed =
        caller.graphql("{ instruments(owner: { state: true }) { key latestPublished { id } } }", json!({})).await;
    listed.ok()["instruments"]
        .as_array()
        .expect("a list of instruments")
        .iter()
        .find(|i| i["key"] == "orb-readiness")
        .and_then(|i| i["latestPublished"]["id"].as_str())
        .expect("the demo publishes the state instrument")
        .to_owned()
}

/// Settings of a wave of the state instrument in `slug`, open from an hour ago for a month,
/// asking supervisors, social workers and managers, with `changes` applied on top.
async fn wave(app: &TestApp, lead: &Caller, slug: &str, changes: Value) -> Value {
    let mut input = json!({
        "countyId": app.county_id(slug).await,
        "instrumentVersionId": state_version(lead).await,
        "title": "Spring readiness wave",
        "opensAt": (Utc::now() - Duration::hours(1)).to_rfc3339(),
        "closesAt": (Utc::now() + Duration::days(30)).to_rfc3339(),
        "perspectives": ["SUPERVISOR", "SOCIAL_WORKER", "MANAGER"],
        "anonymity": "ANONYMOUS",
        "minGroupSize": 5,
    });
    if let (Some(fields), Some(changed)) = (input.as_object_mut(), changes.as_object()) {
        for (key, value) in changed {
            fields.insert(key.clone(), value.clone());
        }
    }
    input
}

/// Creates a draft administration; returns its id.
async fn create(lead: &Caller, input: Value) -> String {
    let created = lead.graphql(CREATE, json!({ "input": input })).await;
    let administration = &created.ok()["createAdministration"];
    assert_eq!(administration["status"], "DRAFT", "a new administration is a draft: {}", created.body);
    administration["id"].as_str().expect("an id").to_owned()
}

/// Signs in `slug`'s lead and creates and opens a wave with `changes`; returns the lead and its id.
async fn open_wave(app: &TestApp, slug: &str, changes: Value) -> (Caller, String) {
    let lead = app.sign_in(&format!("lead@{slug}.demo.orb")).await;
    let input = wave(app, &lead, slug, changes).await;
    let id = create(&lead, input).await;
    open(&lead, &id).await;
    (lead, id)
}

async fn open(lead: &Caller, id: &str) {
    let opened = lead.graphql(OPEN, json!({ "id": id })).await;
    assert_eq!(opened.ok()["openAdministration"]["status"], "OPEN", "the lead opens the administration");
}

/// Issues `count` codes, preset to `perspective` when given; returns them as printed.
async fn issue(lead: &Caller, id: &str, count: u32, perspective: Option<&str>) -> Vec<String> {
    let issued = lead
        .graphql(ISSUE, json!({ "input": { "administrationId": id, "count": count, "perspective": perspective } }))
        .await;
    let codes: Vec<String> = issued.ok()["issueInvitations"]["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("a code").to_owned())
        .collect();
    assert_eq!(codes.len(), count as usize, "as many codes as asked for");
    codes
}

/// `startResponse` with no credentials, as a respondent does.
async fn start(app: &TestApp, code: &str) -> GraphqlResponse {
    app.anonymous().graphql(START, json!({ "code": code })).await
}

/// A respondent holding the token `code` gives; panics if the code is refused.
async fn answer_with(app: &TestApp, code: &str) -> Caller {
    let started = start(app, code).await;
    app.with_token(started.ok()["startResponse"]["token"].as_str().expect("a respondent token"))
}

async fn my_response(respondent: &Caller) -> Value {
    respondent.graphql(MY_RESPONSE, json!({})).await.ok()["myResponse"].clone()
}

/// Starts a response with `code` and saves one answer.
async fn respondent_saves(app: &TestApp, code: &str) -> Caller {
    let respondent = answer_with(app, code).await;
    respondent.graphql(SAVE, json!({ "input": { "answers": { "FIT1": 3 } } })).await.ok();
    respondent
}

/// Asserts a `BAD_USER_INPUT` refusal naming `field` first.
fn assert_invalid(response: &GraphqlResponse, field: &str, what: &str) {
    assert_eq!(response.error_code().as_deref(), Some("BAD_USER_INPUT"), "{what}: {}", response.body);
    assert_eq!(response.error_field().as_deref(), Some(field), "{what}: {}", response.body);
}

/// Asserts a `CONFLICT` whose message mentions `words`.
fn assert_conflict(response: &GraphqlResponse, words: &str, what: &str) {
    assert_eq!(response.error_code().as_deref(), Some("CONFLICT"), "{what}: {}", response.body);
    let message = response.errors().first().and_then(|e| e["message"].as_str().map(str::to_owned)).unwrap_or_default();
    assert!(message.contains(words), "{what}: the message says `{words}`: {}", response.body);
}

/// The lead's `responseCounts`.
async fn response_counts(lead: &Caller, id: &str) -> Value {
    lead.graphql(RESPONSE_COUNTS, json!({ "id": id })).await.ok()["administration"]["responseCounts"].clone()
}

/// The lead's `invitationCounts`.
async fn invitation_counts(lead: &Caller, id: &str) -> Value {
    lead.graphql(INVITATION_COUNTS, json!({ "id": id })).await.ok()["administration"]["invitationCounts"].clone()
}

/// The entry of `perspective` in `responseCounts.byPerspective`.
fn by_perspective<'a>(counts: &'a Value, perspective: &str) -> &'a Value {
    counts["byPerspective"]
        .as_array()
        .and_then(|groups| groups.iter().find(|g| g["perspective"] == perspective))
        .unwrap_or_else(|| panic!("{perspective} in {counts}"))
}

/// One paper form.
fn form(key: &str, answers: Value, perspective: &str) -> Value {
    json!({ "idempotencyKey": key, "response": { "answers": answers, "perspective": perspective } })
}

/// Responses stored for an administration (as the owner).
async fn responses_of(app: &TestApp, id: &str) -> i64 {
    app.count(&format!("responses WHERE administration_id = '{id}'")).await
}

#[tokio::test]
async fn a_respondent_answers_with_a_code_resumes_with_it_and_submits_once() {
    let app = spawn_app().await;
    let (lead, id) = open_wave(&app, "los-angeles", json!({ "perspectives": ["SUPERVISOR", "SOCIAL_WORKER"] })).await;
    let codes = issue(&lead, &id, 3, Some("SUPERVISOR")).await;
    for code in &codes {
        assert!(
            code.len() == 19 && code.split('-').all(|group| group.len() == 4),
            "codes are printed in four groups of four: {code}"
        );
    }

    // Typed lower-case with spaces: codes are forgiving.
    let typed = codes[0].to_lowercase().replace('-', " ");
    let started = start(&app, &typed).await;
    let first = started.ok()["startResponse"].clone();
    assert_eq!(first["status"], "IN_PROGRESS", "a fresh code starts a response");
    assert!(first["expiresIn"].as_u64().is_some_and(|s| s > 0), "the token says when it expires: {first}");
    let respondent = app.with_token(first["token"].as_str().expect("a token"));

    let response = my_response(&respondent).await;
    assert_eq!(response["status"], "IN_PROGRESS");
    assert_eq!(response["answers"], json!({}), "nothing is answered yet");
    assert_eq!(response["perspective"], "SUPERVISOR", "the code's preset perspective");
    assert_eq!(response["survey"]["title"], "Spring readiness wave");
    let items: Vec<&str> = response["survey"]["instrument"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["code"].as_str())
        .collect();
    for code in ["FIT1", "CLIMATE1", "TEAMS1", "COMMS1", "DATA1", "LEAD5", "LEAD_HELP"] {
        assert!(items.contains(&code), "the survey shows {code}: {items:?}");
    }
    let units: Vec<&str> =
        response["survey"]["units"].as_array().expect("units").iter().filter_map(|u| u["name"].as_str()).collect();
    assert!(units.contains(&"El Monte Office"), "the respondent picks from their county's units: {units:?}");

    let half = json!({ "FIT1": 4, "FIT2": 5, "FIT3": 3, "FIT_HELP": "More coaching time, please." });
    let saved = respondent.graphql(SAVE, json!({ "input": { "answers": half } })).await;
    assert_eq!(saved.ok()["saveResponse"]["answers"], half, "the saved answers come back");
    assert_eq!(saved.ok()["saveResponse"]["status"], "IN_PROGRESS", "saving is not submitting");

    // Later, on another device: the same code, as printed, reaches the same response.
    let again = start(&app, &codes[0]).await;
    assert_eq!(again.ok()["startResponse"]["status"], "IN_PROGRESS");
    let resumed = app.with_token(again.ok()["startResponse"]["token"].as_str().expect("a token"));
    let resumed_response = my_response(&resumed).await;
    assert_eq!(resumed_response["id"], response["id"], "the same code reaches the same response");
    assert_eq!(resumed_response["answers"], half, "the saved answers are there to resume");

    let rest = json!({ "CLIMATE1": 2, "LEAD1": 5 });
    let submitted =
        resumed.graphql(SUBMIT, json!({ "input": { "answers": rest }, "key": "resume-then-submit-1" })).await;
    let submission = submitted.ok()["submitResponse"].clone();
    assert_eq!(submission["status"], "SUBMITTED");
    assert_eq!(
        (&submission["answers"], &submission["perspective"]),
        (&json!({}), &Value::Null),
        "the acknowledgement carries no answer back"
    );
    assert_eq!(submission["submittedOn"], json!(Utc::now().date_naive().to_string()));
    assert_conflict(&start(&app, &codes[0]).await, "already been used", "the used code opens nothing");
    resumed.graphql(SAVE, json!({ "input": { "answers": { "FIT1": 1 } } })).await.expect_code("CONFLICT");

    // A second code is started and left in progress; the third is never used.
    respondent_saves(&app, &codes[1]).await;

    assert_eq!(
        invitation_counts(&lead, &id).await,
        json!({ "issued": 3, "started": 2, "submitted": 1, "revoked": 0 }),
        "three codes issued: two started, one of them submitted"
    );
    let counts = response_counts(&lead, &id).await;
    assert_eq!((counts["inProgress"].as_i64(), counts["submitted"].as_i64()), (Some(1), Some(1)), "{counts}");
    assert_eq!(
        by_perspective(&counts, "SUPERVISOR"),
        &json!({ "perspective": "SUPERVISOR", "submitted": null, "suppressed": true }),
        "one supervisor is fewer than the minimum group: the count is withheld"
    );

    // Never which code answered what: the counts are numbers only, and the database cannot join
    // an invitation to a response.
    let fields = lead
        .graphql(
            "query($name: String!) { __type(name: $name) { fields { name } } }",
            json!({ "name": "InvitationCounts" }),
        )
        .await;
    let mut names: Vec<String> = fields.ok()["__type"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    assert_eq!(names, ["issued", "revoked", "started", "submitted"], "invitation counts are counts only");
    assert_eq!(
        app.count(&format!("responses WHERE administration_id = '{id}' AND invitation_id IS NOT NULL")).await,
        0,
        "an anonymous response keeps no invitation"
    );
    assert_eq!(
        app.count("information_schema.columns WHERE table_name = 'invitations' AND column_name LIKE '%response%'")
            .await,
        0,
        "an invitation names no response"
    );
}

#[tokio::test]
async fn administration_settings_are_refused_naming_each_field_and_changing_nothing() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@kings.demo.orb").await;

    // A draft of Kings' own adaptation, and Orange's published version.
    let state = state_version(&lead).await;
    let adapted = lead
        .graphql(
            "mutation($input: AdaptInstrumentInput!) { adaptInstrumentVersion(input: $input) { id status } }",
            json!({ "input": { "versionId": state, "countyId": app.county_id("kings").await, "key": "kings-readiness", "name": "Kings Readiness" } }),
        )
        .await;
    let draft = adapted.ok()["adaptInstrumentVersion"]["id"].as_str().expect("a draft").to_owned();
    let orange = app
        .db
        .scalar_text(
            "SELECT v.id::text FROM instrument_versions v JOIN instruments i ON i.id = v.instrument_id \
             WHERE i.key = 'orb-readiness-orange' AND v.status = 'published'",
        )
        .await;

    let before = app.db.snapshot().await;
    let administrations_before = app.count("administrations").await;
    let now = Utc::now();
    let cases = [
        (json!({ "closesAt": (now - Duration::days(1)).to_rfc3339() }), "input.closesAt", "closing before opening"),
        (json!({ "perspectives": [] }), "input.perspectives", "no perspective"),
        (json!({ "languages": ["en", "vi"] }), "input.languages", "a language the version lacks"),
        (json!({ "minGroupSize": 2 }), "input.minGroupSize", "a reporting group of 2"),
        (json!({ "instrumentVersionId": draft }), "input.instrumentVersionId", "a draft version"),
    ];
    for (changes, field, what) in cases {
        let input = wave(&app, &lead, "kings", changes).await;
        let refused = lead.graphql(CREATE, json!({ "input": input })).await;
        assert_invalid(&refused, field, what);
        assert!(refused.problem_fields().contains(&field.to_owned()), "{what}: {}", refused.body);
    }

    // Every problem at once.
    let input = wave(
        &app,
        &lead,
        "kings",
        json!({ "closesAt": (now - Duration::days(1)).to_rfc3339(), "perspectives": [], "languages": ["vi"], "minGroupSize": 2 }),
    )
    .await;
    let refused = lead.graphql(CREATE, json!({ "input": input })).await;
    refused.expect_code("BAD_USER_INPUT");
    let fields = refused.problem_fields();
    for field in ["input.closesAt", "input.perspectives", "input.languages", "input.minGroupSize"] {
        assert!(fields.contains(&field.to_owned()), "{field} in {fields:?}");
    }

    // Another county's version: Orange's, which Kings cannot even see, and which Ventura (Orange's
    // buddy) can see but may not run.
    let input = wave(&app, &lead, "kings", json!({ "instrumentVersionId": orange })).await;
    let refused = lead.graphql(CREATE, json!({ "input": input })).await;
    assert_eq!(
        refused.error_code().as_deref(),
        Some("NOT_FOUND"),
        "Kings may not run, nor learn of, Orange's version: {}",
        refused.body
    );
    let ventura = app.sign_in("lead@ventura.demo.orb").await;
    let input = wave(&app, &ventura, "ventura", json!({ "instrumentVersionId": orange })).await;
    let refused = ventura.graphql(CREATE, json!({ "input": input })).await;
    assert_invalid(&refused, "input.instrumentVersionId", "a buddy's own version");

    assert_eq!(app.count("administrations").await, administrations_before, "no administration was created");
    assert_eq!(app.db.snapshot().await, before, "refused settings change nothing");
}

#[tokio::test]
async fn only_the_countys_lead_manages_an_administration() {
    let app = spawn_app().await;
    let (lead, id) = open_wave(&app, "kings", json!({})).await;
    let codes = issue(&lead, &id, 1, None).await;
    let kings = app.county_id("kings").await;
    let input = wave(&app, &lead, "kings", json!({})).await;

    let mutations = [
        (CLOSE, json!({ "id": id })),
        (OPEN, json!({ "id": id })),
        (ISSUE, json!({ "input": { "administrationId": id, "count": 5 } })),
        (REVOKE, json!({ "id": id, "code": codes[0] })),
        (ENABLE_OPEN_LINK, json!({ "id": id, "cap": 10 })),
        (DISABLE_OPEN_LINK, json!({ "id": id })),
        (PAPER, json!({ "id": id, "forms": [form("not-the-lead-1", json!({ "FIT1": 3 }), "MANAGER")] })),
    ];
    let before = app.db.snapshot().await;
    let rows_before = (app.count("invitations").await, app.count("responses").await);
    let kings_administrations = app.count(&format!("administrations WHERE county_id = '{kings}'")).await;

    // Who may see the administration but not manage it, who may not see it at all.
    for (email, expected) in [
        ("staff@kings.demo.orb", "FORBIDDEN"),
        ("faculty@demo.orb", "FORBIDDEN"),
        ("lead@alameda.demo.orb", "FORBIDDEN"),
        ("admin@demo.orb", "NOT_FOUND"),
        ("lead@calaveras.demo.orb", "NOT_FOUND"),
    ] {
        let caller = app.sign_in(email).await;
        let created = caller.graphql(CREATE, json!({ "input": input })).await;
        created.expect_code("FORBIDDEN");
        for (mutation, variables) in &mutations {
            let refused = caller.graphql(mutation, variables.clone()).await;
            assert_eq!(
                refused.error_code().as_deref(),
                Some(expected),
                "{email} may not manage Kings' administration ({mutation}): {}",
                refused.body
            );
        }
    }

    // The buddy county's lead reads the administration, not its counts.
    let buddy = app.sign_in("lead@alameda.demo.orb").await;
    let read = buddy.graphql(ADMINISTRATION, json!({ "id": id })).await;
    assert_eq!(
        read.ok()["administration"],
        json!({ "title": "Spring readiness wave", "status": "OPEN" }),
        "Alameda buddies Kings and sees its administration"
    );
    for query in [RESPONSE_COUNTS, INVITATION_COUNTS] {
        let refused = buddy.graphql(query, json!({ "id": id })).await;
        assert_eq!(refused.error_codes(), ["FORBIDDEN"], "the buddy sees no counts: {}", refused.body);
        assert!(
            refused.data()["administration"].as_object().is_none_or(|a| a.values().all(Value::is_null)),
            "no count leaks: {}",
            refused.body
        );
    }
    let listed = buddy.graphql(ADMINISTRATIONS, json!({ "slug": "kings" })).await;
    assert!(
        listed.ok()["administrations"].as_array().is_some_and(|list| list.contains(&json!({ "id": id }))),
        "the buddy lists Kings' administrations: {}",
        listed.body
    );

    // Kings' staff read it too; a county with no pairing to Kings does not see it.
    let staff = app.sign_in("staff@kings.demo.orb").await;
    staff.graphql(ADMINISTRATION, json!({ "id": id })).await.ok();
    staff.graphql(RESPONSE_COUNTS, json!({ "id": id })).await.expect_code("FORBIDDEN");
    let stranger = app.sign_in("lead@calaveras.demo.orb").await;
    stranger.graphql(ADMINISTRATION, json!({ "id": id })).await.expect_code("NOT_FOUND");
    let listed = stranger.graphql(ADMINISTRATIONS, json!({ "slug": "kings" })).await;
    assert_eq!(listed.ok()["administrations"], json!([]), "Calaveras sees none of Kings' administrations");

    // Nobody signed in.
    let anonymous = app.anonymous();
    anonymous.graphql(ADMINISTRATION, json!({ "id": id })).await.expect_code("UNAUTHENTICATED");
    anonymous.graphql(CREATE, json!({ "input": input })).await.expect_code("UNAUTHENTICATED");
    for (mutation, variables) in &mutations {
        anonymous.graphql(mutation, variables.clone()).await.expect_code("UNAUTHENTICATED");
    }

    assert_eq!(app.db.snapshot().await, before, "refused requests change nothing");
    assert_eq!((app.count("invitations").await, app.count("responses").await), rows_before);
    let status = app.db.scalar_text(&format!("SELECT status FROM administrations WHERE id = '{id}'")).await;
    assert_eq!(status, "open", "nobody but the lead closed it");
    assert_eq!(
        app.count(&format!("administrations WHERE county_id = '{kings}'")).await,
        kings_administrations,
        "nobody but the lead creates one"
    );
    let link = app.count(&format!("administrations WHERE id = '{id}' AND open_link_hash IS NOT NULL")).await;
    assert_eq!(link, 0, "nobody but the lead turned the open link on");

    // And the lead does.
    lead.graphql(RESPONSE_COUNTS, json!({ "id": id })).await.ok();
    lead.graphql(CLOSE, json!({ "id": id })).await.ok();
}

#[tokio::test]
async fn a_respondent_token_opens_one_response_and_nothing_else() {
    let app = spawn_app().await;
    let (lead, id) = open_wave(&app, "los-angeles", json!({})).await;
    let codes = issue(&lead, &id, 2, None).await;
    let respondent = answer_with(&app, &codes[0]).await;
    my_response(&respondent).await;

    let input = wave(&app, &lead, "los-angeles", json!({})).await;
    for (query, variables, field) in [
        ("{ me { user { email } } }", json!({}), "me"),
        ("{ counties { nodes { slug } } }", json!({}), "counties"),
        (
            "query($slug: String!) { county(slug: $slug) { units { nodes { name } } } }",
            json!({ "slug": "los-angeles" }),
            "county",
        ),
        (ADMINISTRATIONS, json!({ "slug": "los-angeles" }), "administrations"),
        (ADMINISTRATION, json!({ "id": id }), "administration"),
        (CREATE, json!({ "input": input }), "createAdministration"),
        (ISSUE, json!({ "input": { "administrationId": id, "count": 1 } }), "issueInvitations"),
    ] {
        let refused = respondent.graphql(query, variables).await;
        let code = refused.error_code();
        assert!(
            matches!(code.as_deref(), Some("UNAUTHENTICATED" | "FORBIDDEN")),
            "a respondent token does not open {field}: {}",
            refused.body
        );
        assert!(
            refused.data().is_null() || refused.data()[field].is_null(),
            "{field} returns no data to a respondent: {}",
            refused.body
        );
    }

    // A signed-in user cannot answer, nor open a response while signed in.
    let lead_before = app.db.snapshot().await;
    for (query, variables) in [
        (MY_RESPONSE, json!({})),
        (SAVE, json!({ "input": { "answers": { "FIT1": 1 } } })),
        (SUBMIT, json!({ "input": { "answers": { "FIT1": 1 }, "perspective": "MANAGER" }, "key": "signed-in-key-1" })),
        (START, json!({ "code": codes[1] })),
    ] {
        lead.graphql(query, variables).await.expect_code("FORBIDDEN");
    }
    assert_eq!(app.db.snapshot().await, lead_before);
    assert_eq!(responses_of(&app, &id).await, 1, "the lead's startResponse started nothing");
    assert_eq!(
        app.count(&format!("invitations WHERE administration_id = '{id}' AND status = 'issued'")).await,
        1,
        "the second code is still unused"
    );

    // A made-up token is refused outright.
    for garbage in ["garbage", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"] {
        let refused = app.with_token(garbage).graphql(MY_RESPONSE, json!({})).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "bearer `{garbage}`: {}", refused.body);
        assert!(refused.data().is_null(), "nothing runs for bearer `{garbage}`: {}", refused.body);
    }
}

#[tokio::test]
async fn invalid_answers_are_refused_naming_every_item_and_storing_nothing() {
    let app = spawn_app().await;
    let (lead, id) = open_wave(&app, "kings", json!({ "perspectives": ["SUPERVISOR", "SOCIAL_WORKER"] })).await;
    let codes = issue(&lead, &id, 1, None).await;
    let preset = issue(&lead, &id, 1, Some("SUPERVISOR")).await;

    // A language the survey does not offer.
    let refused = app.anonymous().graphql(START, json!({ "code": codes[0], "language": "vi" })).await;
    assert_invalid(&refused, "language", "a language not offered");

    let respondent = answer_with(&app, &codes[0]).await;
    let saved = respondent.graphql(SAVE, json!({ "input": { "answers": { "FIT1": 3 } } })).await;
    saved.ok();

    let bad = json!({ "FIT2": 7, "NOPE1": 3, "FIT_HELP": "x".repeat(2001), "FIT3": "four", "FIT4": 2 });
    let submitted = respondent
        .graphql(
            SUBMIT,
            json!({ "input": { "answers": bad, "perspective": "SOCIAL_WORKER" }, "key": "invalid-answers-1" }),
        )
        .await;
    submitted.expect_code("BAD_USER_INPUT");
    let mut fields = submitted.problem_fields();
    fields.sort();
    assert_eq!(
        fields,
        ["answers.FIT2", "answers.FIT3", "answers.FIT_HELP", "answers.NOPE1"],
        "every bad answer is named at once, and only those"
    );
    let saved_bad = respondent.graphql(SAVE, json!({ "input": { "answers": bad } })).await;
    saved_bad.expect_code("BAD_USER_INPUT");
    assert_eq!(saved_bad.problem_fields().len(), 4, "saving checks answers too: {}", saved_bad.body);
    let response = my_response(&respondent).await;
    assert_eq!(response["answers"], json!({ "FIT1": 3 }), "nothing of a refused request is stored");
    assert_eq!(response["status"], "IN_PROGRESS");
    assert_eq!(response["perspective"], Value::Null);

    // The perspective: needed to submit, and one the survey asks for.
    let good = json!({ "FIT2": 4 });
    let refused = respondent.graphql(SUBMIT, json!({ "input": { "answers": good }, "key": "no-perspective-1" })).await;
    assert_invalid(&refused, "perspective", "no perspective");
    let refused = respondent
        .graphql(SUBMIT, json!({ "input": { "answers": good, "perspective": "MANAGER" }, "key": "not-asked-1" }))
        .await;
    assert_invalid(&refused, "perspective", "a perspective not asked for");
    assert_eq!(my_response(&respondent).await["status"], "IN_PROGRESS", "still not submitted");

    // A code preset to a perspective keeps it.
    let supervisor = answer_with(&app, &preset[0]).await;
    let refused = supervisor
        .graphql(
            SUBMIT,
            json!({ "input": { "answers": good, "perspective": "SOCIAL_WORKER" }, "key": "preset-other-1" }),
        )
        .await;
    assert_invalid(&refused, "perspective", "another perspective than the invitation's");

    let submitted = respondent
        .graphql(
            SUBMIT,
            json!({ "input": { "answers": good, "perspective": "SOCIAL_WORKER" }, "key": "valid-submit-1" }),
        )
        .await;
    let submission = &submitted.ok()["submitResponse"];
    assert_eq!(submission["status"], "SUBMITTED");
    assert_eq!((&submission["answers"], &submission["perspective"]), (&json!({}), &Value::Null));
}

/// Issue 14, first break: whoever keeps the code↔person list, or finds a printed slip, must not
/// read that person's answers — not through the code, not through the token, not after closing.
#[tokio::test]
async fn a_used_code_never_reopens_the_submitted_answers() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let input = wave(&app, &lead, "kings", json!({})).await;
    let id = create(&lead, input).await;
    open(&lead, &id).await;
    let codes = issue(&lead, &id, 3, Some("SUPERVISOR")).await;
    let respondent =
        app.with_token(start(&app, &codes[0]).await.ok()["startResponse"]["token"].as_str().expect("a token"));
    let answers = json!({ "FIT1": 1, "FIT_HELP": "My supervisor never listens." });
    respondent.graphql(SUBMIT, json!({ "input": { "answers": answers }, "key": "used-code-1" })).await.ok();

    let again = start(&app, &codes[0]).await;
    assert_conflict(&again, "already been used", "the used code gives no token");
    assert!(again.body["data"].is_null() || again.body["data"]["startResponse"].is_null(), "{:?}", again.body);
    let mine = my_response(&respondent).await;
    assert_eq!(mine["status"], "SUBMITTED");
    assert_eq!(
        (&mine["answers"], &mine["perspective"]),
        (&json!({}), &Value::Null),
        "the token reads no answer: {mine}"
    );
    let retried = respondent.graphql(SUBMIT, json!({ "input": { "answers": answers }, "key": "used-code-1" })).await;
    let retried = &retried.ok()["submitResponse"];
    assert_eq!(
        (&retried["status"], &retried["answers"]),
        (&json!("SUBMITTED"), &json!({})),
        "a retry is acknowledged, bare"
    );

    let waiting =
        app.with_token(start(&app, &codes[1]).await.ok()["startResponse"]["token"].as_str().expect("a token"));
    lead.graphql(CLOSE, json!({ "id": id })).await.ok();
    for code in [&codes[0], &codes[1], &codes[2]] {
        assert_conflict(&start(&app, code).await, "closed", "after closing, used and unused codes alike");
    }
    assert_conflict(&waiting.graphql(MY_RESPONSE, json!({})).await, "closed", "no resume once closed");
}

#[tokio::test]
async fn answers_are_taken_only_while_the_administration_is_open() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let input = wave(&app, &lead, "kings", json!({})).await;
    let id = create(&lead, input).await;
    let codes = issue(&lead, &id, 4, Some("MANAGER")).await;

    assert_conflict(&start(&app, &codes[0]).await, "not open yet", "a draft takes no answers");
    assert_eq!(responses_of(&app, &id).await, 0);

    open(&lead, &id).await;
    let early = respondent_saves(&app, &codes[0]).await;

    let closed = lead.graphql(CLOSE, json!({ "id": id })).await;
    assert_eq!(closed.ok()["closeAdministration"]["acceptingResponses"], false);
    assert_conflict(&start(&app, &codes[1]).await, "closed", "a fresh code after closing");
    assert_conflict(
        &early.graphql(SAVE, json!({ "input": { "answers": { "FIT2": 2 } } })).await,
        "closed",
        "saving after closing",
    );
    assert_conflict(
        &early.graphql(SUBMIT, json!({ "input": { "answers": { "FIT2": 2 } }, "key": "after-closing-1" })).await,
        "closed",
        "submitting after closing",
    );
    let counts = response_counts(&lead, &id).await;
    assert_eq!(
        (counts["inProgress"].as_i64(), counts["submitted"].as_i64()),
        (Some(1), Some(0)),
        "the response in progress is not counted as submitted: {counts}"
    );

    // Reopening needs a closing time in the future; then the response can be submitted.
    let refused = lead.graphql(OPEN, json!({ "id": id })).await;
    assert_invalid(&refused, "closesAt", "reopening with the closing time already past");
    let reopened =
        lead.graphql(OPEN, json!({ "id": id, "closesAt": (Utc::now() + Duration::days(7)).to_rfc3339() })).await;
    assert_eq!(reopened.ok()["openAdministration"]["acceptingResponses"], true);
    let submitted =
        early.graphql(SUBMIT, json!({ "input": { "answers": { "FIT2": 2 } }, "key": "after-reopening-1" })).await;
    assert_eq!(submitted.ok()["submitResponse"]["status"], "SUBMITTED");
    let counts = response_counts(&lead, &id).await;
    assert_eq!((counts["inProgress"].as_i64(), counts["submitted"].as_i64()), (Some(0), Some(1)), "{counts}");

    // Codes that open nothing.
    assert_eq!(lead.graphql(REVOKE, json!({ "id": id, "code": codes[2] })).await.ok()["revokeInvitation"], true);
    assert_invalid(&start(&app, &codes[2]).await, "code", "a revoked code");
    assert_invalid(&start(&app, "0000-0000-0000-0000").await, "code", "an unknown code");
    assert_invalid(&start(&app, "abc").await, "code", "a malformed code");
    assert_eq!(
        invitation_counts(&lead, &id).await,
        json!({ "issued": 4, "started": 1, "submitted": 1, "revoked": 1 }),
        "four issued (the revoked one included): one started and submitted, one revoked"
    );
}

#[tokio::test]
async fn an_open_link_starts_a_new_response_each_time_up_to_its_cap() {
    let app = spawn_app().await;
    let (lead, id) = open_wave(&app, "kings", json!({})).await;
    let enabled = lead.graphql(ENABLE_OPEN_LINK, json!({ "id": id, "cap": 2 })).await;
    let link = enabled.ok()["enableOpenLink"].clone();
    assert_eq!(link["cap"], 2);
    let code = link["code"].as_str().expect("a code").to_owned();

    let first = my_response(&answer_with(&app, &code).await).await;
    let second = my_response(&answer_with(&app, &code).await).await;
    assert_ne!(first["id"], second["id"], "each use of the open link starts its own response");
    assert_eq!((first["status"].as_str(), second["status"].as_str()), (Some("IN_PROGRESS"), Some("IN_PROGRESS")));
    assert_conflict(&start(&app, &code).await, "reached", "a third response over a cap of 2");
    assert_eq!(responses_of(&app, &id).await, 2);

    let disabled = lead.graphql(DISABLE_OPEN_LINK, json!({ "id": id })).await;
    assert_eq!(disabled.ok()["disableOpenLink"]["openLinkEnabled"], false);
    assert_invalid(&start(&app, &code).await, "code", "a disabled open link");
}

#[tokio::test]
async fn paper_forms_are_stored_once_and_invalid_ones_reported_by_index() {
    let app = spawn_app().await;
    let (lead, id) = open_wave(&app, "kings", json!({})).await;
    let batch = json!([
        form("paper-kings-0001", json!({ "FIT1": 4, "FIT_HELP": "Training" }), "SUPERVISOR"),
        form("paper-kings-0002", json!({ "FIT1": 9 }), "SUPERVISOR"),
        form("paper-kings-0003", json!({ "FIT2": 2 }), "SOCIAL_WORKER"),
    ]);

    let entered = lead.graphql(PAPER, json!({ "id": id, "forms": batch })).await;
    let result = entered.ok()["enterPaperForms"].clone();
    assert_eq!(result["stored"], json!([0, 2]), "the valid forms are stored");
    let refused = result["refused"].as_array().expect("refused forms");
    assert_eq!(refused.len(), 1, "{result}");
    assert_eq!(refused[0]["index"], 1);
    let fields: Vec<&str> =
        refused[0]["problems"].as_array().expect("problems").iter().filter_map(|p| p["field"].as_str()).collect();
    assert_eq!(fields, ["forms[1].answers.FIT1"], "the problem names the form and the item");
    assert_eq!(responses_of(&app, &id).await, 2);
    assert_eq!(
        app.count(&format!("responses WHERE administration_id = '{id}' AND source = 'paper' AND status = 'submitted'"))
            .await,
        2,
        "paper forms are stored submitted"
    );

    // The same batch again (a retry): nothing new.
    let again = lead.graphql(PAPER, json!({ "id": id, "forms": batch })).await;
    assert_eq!(again.ok()["enterPaperForms"]["stored"], json!([0, 2]), "already stored under the same keys");
    assert_eq!(responses_of(&app, &id).await, 2, "a re-sent batch stores nothing new");

    // All or nothing: one bad form keeps the whole batch out.
    let strict = json!([
        form("paper-kings-0004", json!({ "FIT1": 2 }), "MANAGER"),
        form("paper-kings-0005", json!({ "FIT1": 9 }), "MANAGER"),
    ]);
    let refused = lead.graphql(PAPER, json!({ "id": id, "forms": strict, "allOrNothing": true })).await;
    refused.expect_code("BAD_USER_INPUT");
    assert_eq!(refused.problem_fields(), ["forms[1].answers.FIT1"]);
    assert_eq!(responses_of(&app, &id).await, 2, "all or nothing: nothing");

    // A key reused for other content.
    let reused = json!([form("paper-kings-0001", json!({ "FIT1": 1 }), "SUPERVISOR")]);
    let entered = lead.graphql(PAPER, json!({ "id": id, "forms": reused })).await;
    let result = entered.ok()["enterPaperForms"].clone();
    assert_eq!(result["stored"], json!([]));
    assert_eq!(result["refused"][0]["index"], 0);
    assert_eq!(result["refused"][0]["problems"][0]["field"], "forms[0].idempotencyKey", "{result}");
    assert_eq!(responses_of(&app, &id).await, 2);
    let kept = app
        .db
        .scalar_text(&format!(
            "SELECT answers::text FROM responses WHERE administration_id = '{id}' AND submit_key = 'paper-kings-0001'"
        ))
        .await;
    assert_eq!(serde_json::from_str::<Value>(&kept).expect("json"), json!({ "FIT1": 4, "FIT_HELP": "Training" }));
}

#[tokio::test]
async fn an_anonymous_response_keeps_no_link_to_its_code_and_no_precise_time() {
    let app = spawn_app().await;
    let (lead, anonymous_id) = open_wave(&app, "kings", json!({ "anonymity": "ANONYMOUS" })).await;
    let input = wave(&app, &lead, "kings", json!({ "anonymity": "CONFIDENTIAL", "title": "Confidential wave" })).await;
    let confidential_id = create(&lead, input).await;
    open(&lead, &confidential_id).await;

    for id in [&anonymous_id, &confidential_id] {
        let codes = issue(&lead, id, 1, Some("SUPERVISOR")).await;
        let respondent = answer_with(&app, &codes[0]).await;
        respondent
            .graphql(SUBMIT, json!({ "input": { "answers": { "FIT1": 5 } }, "key": "anonymity-check-1" }))
            .await
            .ok();
    }

    let row = |id: &str, column: &str| {
        format!("SELECT coalesce({column}::text, 'NULL') FROM responses WHERE administration_id = '{id}'")
    };
    assert_eq!(app.db.scalar_text(&row(&anonymous_id, "invitation_id")).await, "NULL", "no link to the code");
    assert_eq!(app.db.scalar_text(&row(&anonymous_id, "submitted_at")).await, "NULL", "no precise time");
    assert_eq!(
        app.db.scalar_text(&row(&anonymous_id, "submitted_on")).await,
        Utc::now().date_naive().to_string(),
        "only the day"
    );
    assert_ne!(app.db.scalar_text(&row(&confidential_id, "invitation_id")).await, "NULL", "confidential: linked");
    assert_ne!(app.db.scalar_text(&row(&confidential_id, "submitted_at")).await, "NULL");

    let leaky = app
        .count(
            "information_schema.columns WHERE table_schema = 'public' AND table_name = 'responses' \
             AND (column_name LIKE '%ip%' OR column_name LIKE '%agent%' OR column_name LIKE '%address%' \
                  OR column_name LIKE '%device%')",
        )
        .await;
    assert_eq!(leaky, 0, "responses keep no network address, user agent or device");
}

#[tokio::test]
async fn small_groups_are_suppressed_in_the_leads_counts() {
    let app = spawn_app().await;
    let (lead, id) = open_wave(&app, "kings", json!({ "minGroupSize": 5 })).await;
    let mut forms = Vec::new();
    for (perspective, n) in [("SUPERVISOR", 2), ("SOCIAL_WORKER", 7), ("MANAGER", 12)] {
        for i in 0..n {
            forms.push(form(&format!("suppress-{perspective}-{i:02}"), json!({ "FIT1": 3 }), perspective));
        }
    }
    let entered = lead.graphql(PAPER, json!({ "id": id, "forms": forms })).await;
    assert_eq!(entered.ok()["enterPaperForms"]["stored"].as_array().map(Vec::len), Some(21));

    let counts = response_counts(&lead, &id).await;
    assert_eq!(counts["submitted"], 21, "the total is shown: {counts}");
    assert_eq!(counts["inProgress"], 0);
    assert_eq!(
        by_perspective(&counts, "SUPERVISOR"),
        &json!({ "perspective": "SUPERVISOR", "submitted": null, "suppressed": true }),
        "2 supervisors are fewer than 5"
    );
    assert_eq!(
        by_perspective(&counts, "SOCIAL_WORKER"),
        &json!({ "perspective": "SOCIAL_WORKER", "submitted": null, "suppressed": true }),
        "otherwise supervisors = 21 - 7 - 12"
    );
    assert_eq!(
        by_perspective(&counts, "MANAGER"),
        &json!({ "perspective": "MANAGER", "submitted": 12, "suppressed": false })
    );
}

#[tokio::test]
async fn a_lone_small_group_cannot_be_recovered_from_the_total() {
    let app = spawn_app().await;
    let (lead, id) = open_wave(&app, "kings", json!({ "perspectives": ["SUPERVISOR", "SOCIAL_WORKER"] })).await;
    let forms = json!([
        form("lone-group-0001", json!({ "FIT1": 3 }), "SUPERVISOR"),
        form("lone-group-0002", json!({ "FIT1": 4 }), "SUPERVISOR"),
    ]);
    lead.graphql(PAPER, json!({ "id": id, "forms": forms })).await.ok();
    let counts = response_counts(&lead, &id).await;
    let groups = counts["byPerspective"].as_array().expect("groups");
    let suppressed = groups.iter().filter(|g| g["suppressed"] == true).count();
    let shown: i64 = groups.iter().filter_map(|g| g["submitted"].as_i64()).sum();
    assert!(
        !(suppressed == 1 && counts["submitted"].is_i64()),
        "supervisors = total {} - shown {shown}: one suppressed group and a shown total give it away: {counts}",
        counts["submitted"]
    );
}

#[tokio::test]
async fn running_an_administration_is_audited_without_its_codes() {
    let app = spawn_app().await;
    let (lead, id) = open_wave(&app, "los-angeles", json!({})).await;
    let mut codes = issue(&lead, &id, 3, Some("SUPERVISOR")).await;
    let link = lead.graphql(ENABLE_OPEN_LINK, json!({ "id": id })).await;
    codes.push(link.ok()["enableOpenLink"]["code"].as_str().expect("a code").to_owned());
    let forms = json!([form("audit-paper-0001", json!({ "FIT1": 2 }), "MANAGER")]);
    lead.graphql(PAPER, json!({ "id": id, "forms": forms })).await.ok();
    lead.graphql(CLOSE, json!({ "id": id })).await.ok();

    let county = app.county_id("los-angeles").await;
    for action in
        ["administration.create", "administration.open", "invitation.issue", "paper.enter", "administration.close"]
    {
        assert_eq!(
            app.count(&format!(
                "audit_log WHERE action = '{action}' AND county_id = '{county}' AND subject_id = '{id}' \
                 AND request_id IS NOT NULL"
            ))
            .await,
            1,
            "{action} is audited with the county and the request"
        );
    }
    let details = app.db.scalar_text("SELECT coalesce(string_agg(details::text, '\n'), '') FROM audit_log").await;
    for code in &codes {
        for spelling in [code.clone(), code.replace('-', "")] {
            assert!(!details.contains(&spelling), "the audit log never holds a code ({spelling})");
        }
    }
}

#[tokio::test]
async fn a_revoked_code_cannot_submit_even_if_it_was_started() {
    let app = spawn_app().await;
    let (lead, id) = open_wave(&app, "kings", json!({})).await;
    let codes = issue(&lead, &id, 1, Some("MANAGER")).await;
    let respondent = respondent_saves(&app, &codes[0]).await;
    assert_eq!(lead.graphql(REVOKE, json!({ "id": id, "code": codes[0] })).await.ok()["revokeInvitation"], true);

    let submitted =
        respondent.graphql(SUBMIT, json!({ "input": { "answers": { "FIT2": 4 } }, "key": "after-revoking-1" })).await;
    assert!(!submitted.errors().is_empty(), "a revoked code's response is not submitted: {}", submitted.body);
    assert_eq!(
        invitation_counts(&lead, &id).await,
        json!({ "issued": 1, "started": 0, "submitted": 0, "revoked": 1 }),
        "the code stays revoked"
    );
    assert_eq!(response_counts(&lead, &id).await["submitted"], 0, "nothing was submitted through a revoked code");
}
