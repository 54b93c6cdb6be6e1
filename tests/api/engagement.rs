//! Communication for engagement: the state's key messages, counties' adaptations, message tests
//! and feedback on each message — from members signed in or attendees through a code — read as
//! aggregates with small groups withheld, comments for the county only.

use std::time::Duration;

use orb_domain::ids::UserId;
use orb_store::Caller as StoreCaller;
use orb_tests::{Caller, TestApp, spawn_app};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

const KEY_MESSAGES: &str = "{ keyMessages { id position theme bigTheme details } }";

const CREATE_KEY_MESSAGE: &str = "mutation($input: KeyMessageInput!) {
    createKeyMessage(input: $input) { id position theme bigTheme details }
}";

const ADAPT: &str = "mutation($countyId: ID!, $keyMessageId: ID!, $input: MessageTextInput!) {
    adaptKeyMessage(countyId: $countyId, keyMessageId: $keyMessageId, input: $input) {
        id theme bigTheme details keyMessage { position } county { slug }
    }
}";

const TEST_FIELDS: &str = "id heldOn audience format reached notes codeEnabled
    messages { id position adapted keyMessage { position } adaptation { theme } }";

const FEEDBACK: &str = "query($id: ID!) { messageTest(id: $id) {
    feedback { message { id } keyMessage { position } withheld n comments
               questions { question mean distribution { value count } } }
} }";

const GIVE: &str = "mutation($id: ID!, $feedback: [MessageFeedbackInput!]!) {
    giveMessageFeedback(messageTestId: $id, feedback: $feedback) { id myFeedback { messageId works comment } }
}";

const SUBMIT: &str = "mutation($code: String!, $feedback: [MessageFeedbackInput!]!) {
    submitMessageFeedback(code: $code, feedback: $feedback) { received }
}";

fn create_test() -> String {
    format!(
        "mutation($countyId: ID!, $input: MessageTestInput!) {{ createMessageTest(countyId: $countyId, input: $input) {{ {TEST_FIELDS} }} }}"
    )
}

fn update_test() -> String {
    format!(
        "mutation($id: ID!, $input: MessageTestInput!) {{ updateMessageTest(id: $id, input: $input) {{ {TEST_FIELDS} }} }}"
    )
}

/// The state library's ids by position (1-based).
async fn library(caller: &Caller) -> Vec<String> {
    let listed = caller.graphql(KEY_MESSAGES, json!({})).await;
    listed.ok()["keyMessages"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|m| m["id"].as_str().expect("an id").to_owned())
        .collect()
}

fn rating(message_id: &str, value: i32, comment: Option<&str>) -> Value {
    json!({ "messageId": message_id, "works": value, "clear": value, "promotesConversation": value,
            "adaptable": value, "engaging": value, "comment": comment })
}

/// Creates a Kings test (as its lead) using the first state message; returns its id and
/// the id of its one message.
async fn kings_test(app: &TestApp, lead: &Caller) -> (String, String) {
    let state = library(lead).await;
    let created = lead
        .graphql(
            &create_test(),
            json!({ "countyId": app.county_id("kings").await, "input": {
                "heldOn": "2018-05-01", "audience": "SUPERVISORS", "format": "DIALOGUE",
                "messages": [{ "keyMessageId": state[0] }], "reached": 12, "notes": "Unit meeting."
            } }),
        )
        .await;
    let test = created.ok()["createMessageTest"].clone();
    (
        test["id"].as_str().expect("a test id").to_owned(),
        test["messages"][0]["id"].as_str().expect("a message id").to_owned(),
    )
}

async fn issue_code(lead: &Caller, test: &str) -> String {
    let issued = lead
        .graphql(
            "mutation($id: ID!) { issueMessageTestCode(id: $id) { code messageTest { codeEnabled } } }",
            json!({ "id": test }),
        )
        .await;
    let issued = issued.ok()["issueMessageTestCode"].clone();
    assert_eq!(issued["messageTest"]["codeEnabled"], true);
    issued["code"].as_str().expect("a code").to_owned()
}

async fn feedback_of(caller: &Caller, test: &str) -> Vec<Value> {
    let read = caller.graphql(FEEDBACK, json!({ "id": test })).await;
    read.ok()["messageTest"]["feedback"].as_array().expect("feedback per message").clone()
}

/// The id of a demo message test of `slug` with `audience` (read as the owner).
async fn demo_test(app: &TestApp, slug: &str, audience: &str) -> String {
    app.db
        .scalar_text(&format!(
            "SELECT t.id::text FROM message_tests t JOIN counties c ON c.id = t.county_id \
             WHERE c.slug = '{slug}' AND t.audience = '{audience}'"
        ))
        .await
}

#[tokio::test]
async fn faculty_keep_the_state_library_and_everyone_signed_in_reads_it() {
    let app = spawn_app().await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let staff = app.sign_in("staff@calaveras.demo.orb").await;

    let listed = staff.graphql(KEY_MESSAGES, json!({})).await;
    let messages = listed.ok()["keyMessages"].as_array().expect("a list").clone();
    assert_eq!(messages.len(), 7, "the seed's seven themes");
    assert_eq!(messages.iter().map(|m| m["position"].as_i64().unwrap_or(0)).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6, 7]);
    assert!(messages[0]["bigTheme"].as_str().unwrap_or_default().starts_with("The CPM represents why we wanted"));
    assert_eq!(messages[6]["details"].as_array().map(Vec::len), Some(8));
    app.anonymous().graphql(KEY_MESSAGES, json!({})).await.expect_code("UNAUTHENTICATED");

    let created = faculty
        .graphql(
            CREATE_KEY_MESSAGE,
            json!({ "input": { "theme": "Data we trust", "bigTheme": "We use data to learn, not to blame.", "details": ["Share results back"] } }),
        )
        .await;
    let created = created.ok()["createKeyMessage"].clone();
    assert_eq!(created["position"], 8, "appended at the end");
    let id = created["id"].as_str().expect("an id").to_owned();

    let clash = faculty
        .graphql(
            "mutation($id: ID!, $input: KeyMessageInput!) { updateKeyMessage(id: $id, input: $input) { position } }",
            json!({ "id": id, "input": { "position": 1, "theme": "Data", "bigTheme": "We learn from data." } }),
        )
        .await;
    clash.expect_code("CONFLICT");
    assert_eq!(clash.error_field().as_deref(), Some("input.position"));
    let updated = faculty
        .graphql(
            "mutation($id: ID!, $input: KeyMessageInput!) { updateKeyMessage(id: $id, input: $input) { theme details } }",
            json!({ "id": id, "input": { "theme": "Data", "bigTheme": "We learn from data.", "details": [] } }),
        )
        .await;
    assert_eq!(updated.ok()["updateKeyMessage"], json!({ "theme": "Data", "details": [] }));

    let invalid = faculty
        .graphql(CREATE_KEY_MESSAGE, json!({ "input": { "theme": " ", "bigTheme": "", "details": [""] } }))
        .await;
    invalid.expect_code("BAD_USER_INPUT");
    assert_eq!(invalid.problem_fields(), ["input.theme", "input.bigTheme", "input.details[0]"]);

    let lead = app.sign_in("lead@orange.demo.orb").await;
    let before = app.db.snapshot().await;
    lead.graphql(CREATE_KEY_MESSAGE, json!({ "input": { "theme": "Mine", "bigTheme": "Ours." } }))
        .await
        .expect_code("FORBIDDEN");
    assert_eq!(app.db.snapshot().await, before, "a refused write changes nothing");

    let state = library(&faculty).await;
    faculty
        .graphql("mutation($id: ID!) { deleteKeyMessage(id: $id) }", json!({ "id": state[0] }))
        .await
        .expect_code("CONFLICT");
    faculty.graphql("mutation($id: ID!) { deleteKeyMessage(id: $id) }", json!({ "id": id })).await.ok();
    assert_eq!(library(&staff).await.len(), 7);
    assert_eq!(app.count(&format!("audit_log WHERE action LIKE 'key_message.%' AND subject_id = '{id}'")).await, 3);
}

#[tokio::test]
async fn a_lead_adapts_messages_for_their_county_and_only_its_members_read_them() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let kings = app.county_id("kings").await;
    let state = library(&lead).await;

    let adapted = lead
        .graphql(
            ADAPT,
            json!({ "countyId": kings, "keyMessageId": state[1], "input": {
                "theme": "Kings at every level", "bigTheme": "Everyone in Kings models the CPM.", "details": ["From the front desk up"]
            } }),
        )
        .await;
    let adapted = adapted.ok()["adaptKeyMessage"].clone();
    assert_eq!(adapted["keyMessage"]["position"], 2, "the adaptation keeps its link to the state message");
    assert_eq!(adapted["county"]["slug"], "kings");
    let id = adapted["id"].as_str().expect("an id").to_owned();

    let read = "query($countyId: ID!) { countyKeyMessages(countyId: $countyId) { id theme keyMessage { position } } }";
    let staff = app.sign_in("staff@kings.demo.orb").await;
    let listed = staff.graphql(read, json!({ "countyId": kings })).await;
    assert_eq!(listed.ok()["countyKeyMessages"][0]["theme"], "Kings at every level");
    let buddy = app.sign_in("lead@alameda.demo.orb").await;
    buddy.graphql(read, json!({ "countyId": kings })).await.expect_code("FORBIDDEN");

    let update =
        "mutation($id: ID!, $input: MessageTextInput!) { updateCountyKeyMessage(id: $id, input: $input) { theme } }";
    let input = json!({ "theme": "Taken over", "bigTheme": "Not yours." });
    let before = app.db.snapshot().await;
    buddy.graphql(update, json!({ "id": id, "input": input })).await.expect_code("NOT_FOUND");
    staff.graphql(update, json!({ "id": id, "input": input })).await.expect_code("FORBIDDEN");
    buddy
        .graphql(ADAPT, json!({ "countyId": kings, "keyMessageId": state[0], "input": input }))
        .await
        .expect_code("FORBIDDEN");
    assert_eq!(app.db.snapshot().await, before, "refused writes change nothing");
    let updated = lead
        .graphql(
            update,
            json!({ "id": id, "input": { "theme": "Every level", "bigTheme": "Everyone models the CPM." } }),
        )
        .await;
    assert_eq!(updated.ok()["updateCountyKeyMessage"]["theme"], "Every level");

    lead.graphql("mutation($id: ID!) { deleteCountyKeyMessage(id: $id) }", json!({ "id": id })).await.ok();
    let listed = staff.graphql(read, json!({ "countyId": kings })).await;
    assert_eq!(listed.ok()["countyKeyMessages"], json!([]));
    assert_eq!(
        app.count(&format!("audit_log WHERE action LIKE 'county_key_message.%' AND subject_id = '{id}'")).await,
        3
    );
}

#[tokio::test]
async fn a_lead_records_a_message_test_and_each_member_gives_feedback_once() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let kings = app.county_id("kings").await;
    let state = library(&lead).await;

    let invalid = lead
        .graphql(
            &create_test(),
            json!({ "countyId": kings, "input": {
                "heldOn": "2018-05-01", "audience": "SUPERVISORS", "format": "DIALOGUE", "reached": -3,
                "messages": [{ "keyMessageId": state[0] }, { "keyMessageId": state[0] }, {}]
            } }),
        )
        .await;
    invalid.expect_code("BAD_USER_INPUT");
    assert_eq!(invalid.problem_fields(), ["input.messages[2]", "input.reached", "input.messages[1]"]);
    assert_eq!(app.count("message_tests WHERE county_id = (SELECT id FROM counties WHERE slug = 'kings')").await, 0);

    let (test, message) = kings_test(&app, &lead).await;
    let updated = lead
        .graphql(
            &update_test(),
            json!({ "id": test, "input": {
                "heldOn": "2018-05-02", "audience": "MANAGERS", "format": "PRESENTATION", "reached": 14,
                "messages": [{ "keyMessageId": state[0] }, { "keyMessageId": state[3] }]
            } }),
        )
        .await;
    let updated = updated.ok()["updateMessageTest"].clone();
    assert_eq!((updated["audience"].clone(), updated["format"].clone()), (json!("MANAGERS"), json!("PRESENTATION")));
    assert_eq!(updated["messages"][0]["id"], message.as_str(), "a kept message keeps its id");
    assert_eq!(updated["messages"][1]["keyMessage"]["position"], 4);
    assert_eq!(updated["notes"], Value::Null);

    let staff = app.sign_in("staff@kings.demo.orb").await;
    let given = staff.graphql(GIVE, json!({ "id": test, "feedback": [rating(&message, 4, Some("Good"))] })).await;
    assert_eq!(given.ok()["giveMessageFeedback"]["myFeedback"][0]["works"], 4);
    let again = staff.graphql(GIVE, json!({ "id": test, "feedback": [rating(&message, 2, None)] })).await;
    assert_eq!(
        again.ok()["giveMessageFeedback"]["myFeedback"],
        json!([{ "messageId": message, "works": 2, "comment": null }]),
        "giving feedback again replaces it"
    );
    assert_eq!(app.count("message_feedback WHERE source = 'staff'").await, 1, "one feedback per account per message");

    let bad = staff
        .graphql(GIVE, json!({ "id": test, "feedback": [rating(&message, 6, None), rating(&test, 3, None)] }))
        .await;
    bad.expect_code("BAD_USER_INPUT");
    assert_eq!(
        bad.problem_fields(),
        [
            "feedback[0].works",
            "feedback[0].clear",
            "feedback[0].promotesConversation",
            "feedback[0].adaptable",
            "feedback[0].engaging"
        ]
    );
    let unknown = staff.graphql(GIVE, json!({ "id": test, "feedback": [rating(&test, 3, None)] })).await;
    unknown.expect_code("BAD_USER_INPUT");
    assert_eq!(unknown.error_field().as_deref(), Some("feedback[0].messageId"));
    assert_eq!(app.count("message_feedback").await - app.count("message_feedback WHERE source = 'attendee'").await, 1);

    let outsider = app.sign_in("staff@alameda.demo.orb").await;
    outsider
        .graphql(GIVE, json!({ "id": test, "feedback": [rating(&message, 5, None)] }))
        .await
        .expect_code("NOT_FOUND");

    let feedback = feedback_of(&lead, &test).await;
    assert_eq!(feedback[0]["withheld"], "SMALL_GROUP", "one answer is below the minimum");
    assert_eq!((feedback[0]["n"].clone(), feedback[0]["comments"].clone()), (Value::Null, Value::Null));
    assert_eq!(feedback[1]["n"], 0, "a message nobody rated is an empty group");

    let removing = lead
        .graphql(
            &update_test(),
            json!({ "id": test, "input": {
                "heldOn": "2018-05-02", "audience": "MANAGERS", "format": "PRESENTATION",
                "messages": [{ "keyMessageId": state[3] }]
            } }),
        )
        .await;
    removing.expect_code("CONFLICT");
    assert_eq!(removing.error_field().as_deref(), Some("input.messages"));
    let delete = "mutation($id: ID!) { deleteMessageTest(id: $id) }";
    lead.graphql(delete, json!({ "id": test })).await.expect_code("CONFLICT");
    staff.graphql(delete, json!({ "id": test })).await.expect_code("FORBIDDEN");
    assert_eq!(app.count(&format!("message_test_messages WHERE message_test_id = '{test}'")).await, 2);

    let (empty, _) = kings_test(&app, &lead).await;
    lead.graphql(delete, json!({ "id": empty })).await.ok();
    assert_eq!(app.count(&format!("message_tests WHERE id = '{empty}'")).await, 0);
    assert_eq!(
        app.count(&format!("audit_log WHERE county_id = '{kings}' AND action IN ('message_test.create', 'message_test.update', 'message_test.delete', 'message_feedback.give')")).await,
        6
    );
}

#[tokio::test]
async fn attendees_give_feedback_through_a_code_and_a_group_shows_from_five() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let (test, message) = kings_test(&app, &lead).await;
    let code = issue_code(&lead, &test).await;
    let attendee = app.anonymous();

    let opened = attendee
        .graphql(
            "query($code: String!) { messageTestByCode(code: $code) { audience messages { id keyMessage { bigTheme } } } }",
            json!({ "code": code.to_lowercase() }),
        )
        .await;
    let opened = opened.ok()["messageTestByCode"].clone();
    assert_eq!(opened["audience"], "SUPERVISORS");
    assert_eq!(opened["messages"][0]["id"], message.as_str());

    for i in 0..4 {
        let comment = format!("attendee {i}");
        let sent = attendee
            .graphql(SUBMIT, json!({ "code": code, "feedback": [rating(&message, 1 + i, Some(&comment))] }))
            .await;
        assert_eq!(sent.ok()["submitMessageFeedback"]["received"], 1);
    }
    let four = feedback_of(&lead, &test).await;
    assert_eq!(four[0]["withheld"], "SMALL_GROUP");
    assert_eq!(
        (four[0]["n"].clone(), four[0]["comments"].clone()),
        (Value::Null, Value::Null),
        "no comment below the minimum"
    );
    assert_eq!(four[0]["questions"], json!([]));

    attendee.graphql(SUBMIT, json!({ "code": code, "feedback": [rating(&message, 5, Some("attendee 4"))] })).await.ok();
    let five = feedback_of(&lead, &test).await;
    assert_eq!(five[0]["withheld"], Value::Null);
    assert_eq!(five[0]["n"], 5);
    let works = &five[0]["questions"][0];
    assert_eq!(works["question"], "WORKS");
    assert_eq!(works["mean"], 3.0);
    assert_eq!(
        works["distribution"],
        json!([{ "value": 1, "count": 1 }, { "value": 2, "count": 1 }, { "value": 3, "count": 1 }, { "value": 4, "count": 1 }, { "value": 5, "count": 1 }])
    );
    let mut comments: Vec<String> = five[0]["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .map(|c| c.as_str().unwrap_or_default().to_owned())
        .collect();
    comments.sort();
    assert_eq!(comments, (0..5).map(|i| format!("attendee {i}")).collect::<Vec<_>>());
    assert_eq!(
        app.count(&format!(
            "message_feedback WHERE message_test_id = '{test}' AND source = 'attendee' AND user_id IS NULL"
        ))
        .await,
        5,
        "nothing links an attendee"
    );

    attendee
        .graphql(SUBMIT, json!({ "code": "7KQ4-M2XD-9HTR-BW3E", "feedback": [rating(&message, 5, None)] }))
        .await
        .expect_code("BAD_USER_INPUT");
    let staff = app.sign_in("staff@kings.demo.orb").await;
    staff
        .graphql(SUBMIT, json!({ "code": code, "feedback": [rating(&message, 5, None)] }))
        .await
        .expect_code("FORBIDDEN");
    lead.graphql("mutation($id: ID!) { revokeMessageTestCode(id: $id) { codeEnabled } }", json!({ "id": test }))
        .await
        .ok();
    let refused = attendee.graphql(SUBMIT, json!({ "code": code, "feedback": [rating(&message, 5, None)] })).await;
    assert_eq!(refused.error_field().as_deref(), Some("code"));
    assert_eq!(
        app.count("message_feedback").await
            - app.count("message_feedback WHERE county_id <> (SELECT id FROM counties WHERE slug = 'kings')").await,
        5,
        "refused submissions store nothing"
    );
}

#[tokio::test]
async fn buddies_and_faculty_read_aggregates_without_comments_and_other_counties_nothing() {
    let app = spawn_app().await;
    let supervisors = demo_test(&app, "orange", "SUPERVISORS").await;
    let board = demo_test(&app, "orange", "BOARD_OF_SUPERVISORS").await;
    let orange = app.county_id("orange").await;

    let staff = app.sign_in("staff@orange.demo.orb").await;
    let own = feedback_of(&staff, &supervisors).await;
    assert_eq!(own.len(), 3);
    assert!(own.iter().all(|m| m["n"] == 12), "twelve attendees rated each message: {own:?}");
    assert!(own.iter().all(|m| m["comments"].is_array()), "members read comments");
    assert!(own[0]["message"]["id"].is_string());
    let small = feedback_of(&staff, &board).await;
    assert_eq!(small[0]["withheld"], "SMALL_GROUP", "the Board's four answers are withheld");

    let audited_before = app.count("audit_log WHERE action = 'message_feedback.read'").await;
    for outsider in ["lead@ventura.demo.orb", "faculty@demo.orb"] {
        let reader = app.sign_in(outsider).await;
        let theirs = feedback_of(&reader, &supervisors).await;
        assert!(theirs.iter().all(|m| m["n"] == 12 && m["comments"].is_null()), "{outsider}: aggregates, no comments");
        let adaptation = reader
            .graphql(
                "query($id: ID!) { messageTest(id: $id) { messages { adapted adaptation { theme } } } }",
                json!({ "id": supervisors }),
            )
            .await;
        assert_eq!(adaptation.ok()["messageTest"]["messages"][0], json!({ "adapted": true, "adaptation": null }));
        let by_audience = reader
            .graphql(
                "query($c: ID!) { messageFeedback(countyId: $c) { byAudience { audience withheld n } byKeyMessage { keyMessage { position } n } } }",
                json!({ "c": orange }),
            )
            .await;
        let by_audience = by_audience.ok()["messageFeedback"]["byAudience"].as_array().expect("groups").clone();
        assert!(by_audience.iter().any(|g| g["audience"] == "BOARD_OF_SUPERVISORS" && g["withheld"] == "SMALL_GROUP"));
        assert!(by_audience.iter().any(|g| g["audience"] == "SUPERVISORS" && g["n"] == 12));
    }
    assert!(
        app.count("audit_log WHERE action = 'message_feedback.read'").await >= audited_before + 4,
        "cross-county reads are audited"
    );
    assert!(
        app.count(&format!("audit_log WHERE action = 'message_feedback.read' AND county_id = '{orange}'")).await >= 4
    );

    let stranger = app.sign_in("lead@kings.demo.orb").await;
    stranger.graphql(FEEDBACK, json!({ "id": supervisors })).await.expect_code("NOT_FOUND");
    stranger
        .graphql("query($c: ID!) { messageTests(countyId: $c) { nodes { id } } }", json!({ "c": orange }))
        .await
        .expect_code("NOT_FOUND");
    stranger
        .graphql("query($c: ID!) { messageFeedback(countyId: $c) { byAudience { n } } }", json!({ "c": orange }))
        .await
        .expect_code("NOT_FOUND");
    let ventura = app.sign_in("lead@ventura.demo.orb").await;
    ventura
        .graphql("mutation($id: ID!) { issueMessageTestCode(id: $id) { code } }", json!({ "id": supervisors }))
        .await
        .expect_code("FORBIDDEN");
}

#[tokio::test]
async fn faculty_compare_counties_on_released_totals_only() {
    let app = spawn_app().await;
    let query = "{ messageFeedbackAcrossCounties {
        keyMessage { position } counties { county { slug } withheld n } pooled { n questions { question mean } }
    } }";
    let faculty = app.sign_in("faculty@demo.orb").await;
    let lined = faculty.graphql(query, json!({})).await;
    let lined = lined.ok()["messageFeedbackAcrossCounties"].as_array().expect("themes").clone();
    let first = lined.iter().find(|t| t["keyMessage"]["position"] == 1).expect("theme 1 was tested");
    let mut slugs: Vec<&str> =
        first["counties"].as_array().expect("counties").iter().filter_map(|c| c["county"]["slug"].as_str()).collect();
    slugs.sort_unstable();
    assert_eq!(slugs, ["calaveras", "orange", "shasta"]);
    let released: i64 = first["counties"].as_array().expect("counties").iter().filter_map(|c| c["n"].as_i64()).sum();
    assert_eq!(first["pooled"]["n"].as_i64(), Some(released), "only released totals are pooled");
    let seventh = lined.iter().find(|t| t["keyMessage"]["position"] == 7).expect("theme 7 was tested");
    assert!(
        seventh["counties"]
            .as_array()
            .expect("counties")
            .iter()
            .any(|c| c["county"]["slug"] == "orange" && c["withheld"] == "SMALL_GROUP")
    );

    let lead = app.sign_in("lead@orange.demo.orb").await;
    lead.graphql(query, json!({})).await.expect_code("FORBIDDEN");
}

#[tokio::test]
async fn the_database_keeps_feedback_rows_and_comments_from_everyone_outside_the_county() {
    let app = spawn_app().await;
    let store = app.runtime_store(2, Duration::from_secs(10)).await;
    let orange = app.county_id("orange").await;
    let count = |sql: &'static str| Statement::from_string(DbBackend::Postgres, sql);
    for (email, feed_rows) in
        [("lead@orange.demo.orb", true), ("lead@ventura.demo.orb", true), ("lead@kings.demo.orb", false)]
    {
        let user: UserId = app
            .db
            .scalar_text(&format!("SELECT id::text FROM users WHERE email = '{email}'"))
            .await
            .parse()
            .expect("a uuid");
        let session = store.begin(StoreCaller::User(user), None).await.expect("a session");
        let raw = session.db().query_one_raw(count("SELECT count(*) AS n FROM message_feedback")).await.expect("reads");
        assert_eq!(
            raw.and_then(|r| r.try_get::<i64>("", "n").ok()),
            Some(0),
            "{email}: no raw feedback rows, not even the lead's own county's"
        );
        let feed = session
            .db()
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT count(*) AS n, count(comment) AS comments FROM orb.message_feedback_feed($1)",
                [orange.parse::<uuid::Uuid>().expect("a uuid").into()],
            ))
            .await
            .expect("the feed answers")
            .expect("a row");
        let (n, comments): (i64, i64) =
            (feed.try_get("", "n").expect("n"), feed.try_get("", "comments").expect("comments"));
        assert_eq!(n > 0, feed_rows, "{email}: the feed follows the entitlement");
        if email != "lead@orange.demo.orb" {
            assert_eq!(comments, 0, "{email}: no comment leaves the database for an outsider");
        } else {
            assert!(comments > 0, "the county's members get its comments");
        }
        let tests = session.db().query_one_raw(count("SELECT count(*) AS n FROM message_tests")).await.expect("reads");
        let visible = tests.and_then(|r| r.try_get::<i64>("", "n").ok()).unwrap_or_default();
        if email == "lead@kings.demo.orb" {
            assert_eq!(visible, 0, "another county's tests stay hidden");
        }
    }
}
