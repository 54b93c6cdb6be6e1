//! Instruments: faculty publish the state's, counties adapt it with lineage, published versions
//! never change, and every version can travel as one JSON document.

use orb_tests::{Caller, GraphqlResponse, TestApp, spawn_app};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const VERSION_FIELDS: &str = "id number status languages publishProblems { field message }
    items { code domain kind concept origin required reverseScored prompt promptTranslations { language text } scale { code neutralMidpoint options { value } } }
    domains { code title }";

async fn create_state_instrument(faculty: &Caller) -> String {
    let created = faculty
        .graphql(
            "mutation($input: CreateInstrumentInput!) { createInstrument(input: $input) { id status number } }",
            json!({ "input": { "key": "pulse", "name": "Readiness Pulse", "languages": ["en", "es"] } }),
        )
        .await;
    let version = created.ok()["createInstrument"].clone();
    assert_eq!((version["status"].as_str(), version["number"].as_i64()), (Some("DRAFT"), Some(1)));
    let id = version["id"].as_str().expect("an id").to_owned();
    let t = |en: &str, es: &str| json!([{ "language": "en", "text": en }, { "language": "es", "text": es }]);
    faculty
        .graphql(
            "mutation($v: ID!, $input: DraftHeaderInput!) { updateInstrumentDraft(versionId: $v, input: $input) { id } }",
            json!({ "v": id, "input": { "title": t("Readiness Pulse", "Pulso de preparación") } }),
        )
        .await
        .ok();
    faculty
        .graphql(
            "mutation($v: ID!, $input: ScaleInput!) { putResponseScale(versionId: $v, input: $input) { id } }",
            json!({ "v": id, "input": { "code": "AGREE5", "neutralMidpoint": true, "options": (1..=5).map(|n| json!({ "value": n, "label": t(&format!("{n}"), &format!("{n}")) })).collect::<Vec<_>>() } }),
        )
        .await
        .ok();
    faculty
        .graphql(
            "mutation($v: ID!, $input: DomainInput!) { putInstrumentDomain(versionId: $v, input: $input) { id } }",
            json!({ "v": id, "input": { "code": "FIT", "title": t("Fit & Priority", "Ajuste y prioridad") } }),
        )
        .await
        .ok();
    for (code, concept, en, es) in [
        ("FIT1", "pulse.fit.aligned", "The CPM fits our priorities.", "El CPM encaja con nuestras prioridades."),
        ("FIT2", "pulse.fit.time", "We have time for the CPM.", "Tenemos tiempo para el CPM."),
        ("FIT3", "pulse.fit.resources", "We have resources for the CPM.", "Tenemos recursos para el CPM."),
    ] {
        faculty
            .graphql(
                "mutation($v: ID!, $input: ItemInput!) { addInstrumentItem(versionId: $v, input: $input) { id } }",
                json!({ "v": id, "input": { "code": code, "domain": "FIT", "kind": "LIKERT", "scale": "AGREE5", "concept": concept, "prompt": t(en, es) } }),
            )
            .await
            .ok();
    }
    id
}

async fn publish(caller: &Caller, version: &str) -> GraphqlResponse {
    caller
        .graphql(
            "mutation($v: ID!) { publishInstrumentVersion(versionId: $v) { id status publishedAt } }",
            json!({ "v": version }),
        )
        .await
}

async fn version(caller: &Caller, id: &str) -> GraphqlResponse {
    caller
        .graphql(
            &format!("query($id: ID!) {{ instrumentVersion(id: $id) {{ {VERSION_FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await
}

fn item<'a>(version: &'a Value, code: &str) -> &'a Value {
    version["items"].as_array().and_then(|items| items.iter().find(|i| i["code"] == code)).unwrap_or(&Value::Null)
}

async fn adapt(app: &TestApp, lead: &Caller, slug: &str, version: &str, key: &str) -> GraphqlResponse {
    lead.graphql(
        "mutation($input: AdaptInstrumentInput!) { adaptInstrumentVersion(input: $input) { id status number } }",
        json!({ "input": { "versionId": version, "countyId": app.county_id(slug).await, "key": key, "name": "Kings Pulse" } }),
    )
    .await
}

#[tokio::test]
async fn a_state_instrument_is_published_adapted_by_a_county_and_keeps_its_lineage() {
    let app = spawn_app().await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let state = create_state_instrument(&faculty).await;
    assert_eq!(publish(&faculty, &state).await.ok()["publishInstrumentVersion"]["status"], "PUBLISHED");

    let lead = app.sign_in("lead@kings.demo.orb").await;
    let adapted = adapt(&app, &lead, "kings", &state, "kings-pulse").await;
    let draft = adapted.ok()["adaptInstrumentVersion"]["id"].as_str().expect("a draft").to_owned();

    // Reword FIT1, move FIT2 to a 4-point scale without neutral, make FIT3 required, and add a
    // local item, first in English only.
    let edits = [
        "mutation($v: ID!) { updateInstrumentItem(versionId: $v, code: \"FIT1\", input: { prompt: [{ language: \"en\", text: \"Kings: the CPM fits what we already do.\" }, { language: \"es\", text: \"Kings: el CPM encaja con lo que ya hacemos.\" }] }) { id } }",
        "mutation($v: ID!) { putResponseScale(versionId: $v, input: { code: \"AGREE4\", neutralMidpoint: false, options: [{ value: 1, label: [{ language: \"en\", text: \"SD\" }, { language: \"es\", text: \"TD\" }] }, { value: 2, label: [{ language: \"en\", text: \"D\" }, { language: \"es\", text: \"D\" }] }, { value: 3, label: [{ language: \"en\", text: \"A\" }, { language: \"es\", text: \"A\" }] }, { value: 4, label: [{ language: \"en\", text: \"SA\" }, { language: \"es\", text: \"TA\" }] }] }) { id } }",
        "mutation($v: ID!) { updateInstrumentItem(versionId: $v, code: \"FIT2\", input: { scale: \"AGREE4\" }) { id } }",
        "mutation($v: ID!) { updateInstrumentItem(versionId: $v, code: \"FIT3\", input: { required: true }) { id } }",
        "mutation($v: ID!) { addInstrumentItem(versionId: $v, input: { code: \"KINGS1\", domain: \"FIT\", kind: LIKERT, scale: \"AGREE4\", concept: \"kings.tries\", prompt: [{ language: \"en\", text: \"Supervisors ask for our ideas.\" }] }) { id } }",
    ];
    for mutation in edits {
        lead.graphql(mutation, json!({ "v": draft })).await.ok();
    }
    let pending = version(&lead, &draft).await.ok()["instrumentVersion"]["publishProblems"].clone();
    assert_eq!(pending, json!([{ "field": "items[KINGS1].prompt.es", "message": "translation missing" }]));
    publish(&lead, &draft).await.expect_code("BAD_USER_INPUT");
    lead.graphql(
        "mutation($v: ID!) { updateInstrumentItem(versionId: $v, code: \"KINGS1\", input: { prompt: [{ language: \"es\", text: \"Los supervisores piden nuestras ideas.\" }] }) { id } }",
        json!({ "v": draft }),
    )
    .await
    .ok();
    assert_eq!(publish(&lead, &draft).await.ok()["publishInstrumentVersion"]["status"], "PUBLISHED");

    let published = version(&lead, &draft).await;
    let v = &published.ok()["instrumentVersion"];
    for (code, concept) in [("FIT1", "pulse.fit.aligned"), ("FIT2", "pulse.fit.time"), ("FIT3", "pulse.fit.resources")]
    {
        assert_eq!(item(v, code)["concept"], concept, "{code} keeps its concept through adaptation");
        assert_eq!(item(v, code)["origin"], code, "{code} remembers the state item");
    }
    assert_eq!(item(v, "KINGS1")["concept"], Value::Null, "a local item has no concept, whatever was asked");
    assert_eq!(item(v, "FIT2")["scale"]["neutralMidpoint"], false);

    let diff = lead
        .graphql(
            "query($id: ID!) { instrumentVersion(id: $id) { changesFromParent { kind code origin concept } derivedFrom { id number } } }",
            json!({ "id": draft }),
        )
        .await;
    let data = diff.ok();
    assert_eq!(data["instrumentVersion"]["derivedFrom"]["id"], state);
    let kinds: Vec<(String, String)> = data["instrumentVersion"]["changesFromParent"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap_or("").to_owned(),
                c["code"].as_str().or(c["origin"].as_str()).unwrap_or("").to_owned(),
            )
        })
        .collect();
    for expected in [("REWORDED", "FIT1"), ("RESCALED", "FIT2"), ("REQUIREMENT_CHANGED", "FIT3"), ("ADDED", "KINGS1")] {
        assert!(kinds.contains(&(expected.0.to_owned(), expected.1.to_owned())), "{expected:?} in {kinds:?}");
    }
    assert!(!kinds.iter().any(|(k, c)| k == "REWORDED" && c == "FIT2"), "a rescale is not a rewording");
}

#[tokio::test]
async fn a_published_version_never_changes() {
    let app = spawn_app().await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let state = create_state_instrument(&faculty).await;
    publish(&faculty, &state).await.ok();
    let before = app.db.snapshot().await;
    let document_before =
        app.db.scalar_text(&format!("SELECT document::text FROM instrument_versions WHERE id = '{state}'")).await;
    let attempts = [
        "mutation($v: ID!) { updateInstrumentItem(versionId: $v, code: \"FIT1\", input: { required: true }) { id } }",
        "mutation($v: ID!) { removeInstrumentItem(versionId: $v, code: \"FIT1\") { id } }",
        "mutation($v: ID!) { addInstrumentItem(versionId: $v, input: { code: \"X1\", domain: \"FIT\", kind: TEXT, maxLength: 10, concept: \"x.y\", prompt: [{ language: \"en\", text: \"x\" }] }) { id } }",
        "mutation($v: ID!) { moveInstrumentItem(versionId: $v, code: \"FIT3\", position: 0) { id } }",
        "mutation($v: ID!) { putInstrumentDomain(versionId: $v, input: { code: \"FIT\", title: [{ language: \"en\", text: \"Other\" }] }) { id } }",
        "mutation($v: ID!) { putResponseScale(versionId: $v, input: { code: \"AGREE5\", neutralMidpoint: false, options: [] }) { id } }",
        "mutation($v: ID!) { updateInstrumentDraft(versionId: $v, input: { name: \"Renamed\" }) { id } }",
        "mutation($v: ID!) { publishInstrumentVersion(versionId: $v) { id } }",
        "mutation($v: ID!) { deleteInstrumentDraft(versionId: $v) }",
        "mutation($v: ID!) { replaceInstrumentDraft(versionId: $v, document: {}) { id } }",
    ];
    for attempt in attempts {
        let refused = faculty.graphql(attempt, json!({ "v": state })).await;
        let code = refused.error_code();
        assert!(
            code.as_deref() == Some("CONFLICT")
                || (attempt.contains("document: {}") && code.as_deref() == Some("BAD_USER_INPUT")),
            "{attempt} must be refused with CONFLICT: {}",
            refused.body
        );
    }
    assert_eq!(app.db.snapshot().await, before, "nothing changed");
    // The database refuses too, even for its owner.
    let direct = app
        .db
        .owner()
        .execute_unprepared(&format!("UPDATE instrument_versions SET document = '{{}}' WHERE id = '{state}'"))
        .await;
    assert!(direct.is_err(), "the trigger keeps a published version's document");
    let deleted =
        app.db.owner().execute_unprepared(&format!("DELETE FROM instrument_versions WHERE id = '{state}'")).await;
    assert!(deleted.is_err(), "a published version cannot be deleted");
    assert_eq!(
        app.db.scalar_text(&format!("SELECT document::text FROM instrument_versions WHERE id = '{state}'")).await,
        document_before
    );
    // Retiring is the one change allowed, and it is final.
    let retired = faculty
        .graphql(
            "mutation($v: ID!) { retireInstrumentVersion(versionId: $v) { status retiredAt } }",
            json!({ "v": state }),
        )
        .await;
    assert_eq!(retired.ok()["retireInstrumentVersion"]["status"], "RETIRED");
    faculty
        .graphql("mutation($v: ID!) { retireInstrumentVersion(versionId: $v) { status } }", json!({ "v": state }))
        .await
        .expect_code("CONFLICT");
}

#[tokio::test]
async fn publishing_refuses_an_incomplete_version_naming_every_problem_and_changing_nothing() {
    let app = spawn_app().await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let draft = create_state_instrument(&faculty).await;
    // A Likert item without a scale, a choice item without choices, an item in a missing domain,
    // a duplicate concept, a prompt without its Spanish.
    for input in [
        json!({ "code": "BAD1", "domain": "FIT", "kind": "LIKERT", "concept": "pulse.bad1", "prompt": [{ "language": "en", "text": "No scale" }, { "language": "es", "text": "Sin escala" }] }),
        json!({ "code": "BAD2", "domain": "FIT", "kind": "SINGLE_CHOICE", "concept": "pulse.bad2", "prompt": [{ "language": "en", "text": "No choices" }, { "language": "es", "text": "Sin opciones" }] }),
        json!({ "code": "BAD3", "domain": "NOPE", "kind": "TEXT", "maxLength": 100, "concept": "pulse.bad3", "prompt": [{ "language": "en", "text": "Lost" }, { "language": "es", "text": "Perdido" }] }),
        json!({ "code": "BAD4", "domain": "FIT", "kind": "LIKERT", "scale": "AGREE5", "concept": "pulse.fit.time", "prompt": [{ "language": "en", "text": "Twin" }, { "language": "es", "text": "Gemelo" }] }),
        json!({ "code": "BAD5", "domain": "FIT", "kind": "LIKERT", "scale": "AGREE5", "concept": "pulse.bad5", "prompt": [{ "language": "en", "text": "English only" }] }),
    ] {
        faculty
            .graphql(
                "mutation($v: ID!, $input: ItemInput!) { addInstrumentItem(versionId: $v, input: $input) { id } }",
                json!({ "v": draft, "input": input }),
            )
            .await
            .ok();
    }
    let before = app.db.snapshot().await;
    let refused = publish(&faculty, &draft).await;
    refused.expect_code("BAD_USER_INPUT");
    let problems: Vec<String> = refused.errors()[0]["extensions"]["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p["field"].as_str().unwrap_or("").to_owned())
        .collect();
    for path in [
        "items[BAD1].scale",
        "items[BAD2].options",
        "items[BAD3].domain",
        "items[BAD4].concept",
        "items[BAD5].prompt.es",
    ] {
        assert!(problems.contains(&path.to_owned()), "{path} in {problems:?}");
    }
    assert_eq!(app.db.snapshot().await, before, "a refused publish changes nothing");
    assert_eq!(
        app.db.scalar_text(&format!("SELECT status FROM instrument_versions WHERE id = '{draft}'")).await,
        "draft"
    );
    // Edits that would make the draft ambiguous are refused at once.
    faculty
        .graphql(
            "mutation($v: ID!) { addInstrumentItem(versionId: $v, input: { code: \"FIT1\", domain: \"FIT\", kind: TEXT, maxLength: 5, prompt: [] }) { id } }",
            json!({ "v": draft }),
        )
        .await
        .expect_code("CONFLICT");
    faculty
        .graphql(
            "mutation($v: ID!) { addInstrumentItem(versionId: $v, input: { code: \"has space\", domain: \"FIT\", kind: TEXT, maxLength: 5, prompt: [] }) { id } }",
            json!({ "v": draft }),
        )
        .await
        .expect_code("BAD_USER_INPUT");
}

#[tokio::test]
async fn an_exported_version_imports_back_without_loss() {
    let app = spawn_app().await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let state = faculty
        .graphql("{ instruments(owner: { state: true }) { key latestPublished { id document } } }", json!({}))
        .await;
    let instruments = state.ok()["instruments"].as_array().cloned().unwrap_or_default();
    let orb =
        instruments.iter().find(|i| i["key"] == "orb-readiness").expect("the demo publishes the state instrument");
    let mut document = orb["latestPublished"]["document"].clone();
    assert_eq!(document["format"], "orb.instrument/v1");
    document["instrument"]["key"] = json!("orb-readiness-copy");

    let imported = faculty
        .graphql(
            "mutation($doc: JSON!) { importInstrumentVersion(document: $doc) { id status document } }",
            json!({ "doc": document }),
        )
        .await;
    let data = imported.ok();
    assert_eq!(data["importInstrumentVersion"]["status"], "DRAFT");
    assert_eq!(data["importInstrumentVersion"]["document"], document, "export(import(document)) == document");

    // A county imports its adaptation as a file; the lineage it names is linked.
    let lead = app.sign_in("lead@calaveras.demo.orb").await;
    let mut adaptation = orb["latestPublished"]["document"].clone();
    adaptation["instrument"] = json!({ "key": "calaveras-orb", "name": "Calaveras ORB" });
    adaptation["version"]["derivedFrom"] = json!({ "owner": "state", "instrument": "orb-readiness", "version": 1 });
    let imported = lead
        .graphql(
            "mutation($county: ID!, $doc: JSON!) { importInstrumentVersion(countyId: $county, document: $doc) { id derivedFrom { id } } }",
            json!({ "county": app.county_id("calaveras").await, "doc": adaptation }),
        )
        .await;
    assert_eq!(imported.ok()["importInstrumentVersion"]["derivedFrom"]["id"], orb["latestPublished"]["id"]);

    // Malformed documents are refused with the field named and nothing stored.
    let before = app.db.snapshot().await;
    for bad in [json!({ "format": "orb.instrument/v1" }), json!({ "colour": 1 }), json!([1, 2])] {
        faculty
            .graphql("mutation($doc: JSON!) { importInstrumentVersion(document: $doc) { id } }", json!({ "doc": bad }))
            .await
            .expect_code("BAD_USER_INPUT");
    }
    let mut wrong_format = document.clone();
    wrong_format["format"] = json!("orb.instrument/v0");
    wrong_format["instrument"]["key"] = json!("another");
    let refused = faculty
        .graphql(
            "mutation($doc: JSON!) { importInstrumentVersion(document: $doc) { id } }",
            json!({ "doc": wrong_format }),
        )
        .await;
    refused.expect_code("BAD_USER_INPUT");
    assert_eq!(refused.error_field().as_deref(), Some("format"));
    assert_eq!(app.db.snapshot().await, before);
}

#[tokio::test]
async fn who_may_author_and_read_instruments() {
    let app = spawn_app().await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let kings_lead = app.sign_in("lead@kings.demo.orb").await;
    let kings_staff = app.sign_in("staff@kings.demo.orb").await;
    let alameda_lead = app.sign_in("lead@alameda.demo.orb").await; // Kings' buddy
    let orange_lead = app.sign_in("lead@orange.demo.orb").await;
    let admin = app.sign_in("admin@demo.orb").await;

    // Only faculty author state instruments; a lead only their own county's.
    let state_input = json!({ "input": { "key": "x", "name": "X" } });
    let create = "mutation($input: CreateInstrumentInput!) { createInstrument(input: $input) { id } }";
    for caller in [&kings_lead, &kings_staff, &admin] {
        caller.graphql(create, state_input.clone()).await.expect_code("FORBIDDEN");
    }
    let kings_input =
        json!({ "input": { "key": "kings-own", "name": "Kings Own", "countyId": app.county_id("kings").await } });
    for caller in [&faculty, &orange_lead, &kings_staff] {
        caller.graphql(create, kings_input.clone()).await.expect_code("FORBIDDEN");
    }
    app.anonymous().graphql(create, kings_input.clone()).await.expect_code("UNAUTHENTICATED");

    let state_draft = create_state_instrument(&faculty).await;
    let kings_draft =
        kings_lead.graphql(create, kings_input).await.ok()["createInstrument"]["id"].as_str().expect("id").to_owned();

    // Drafts are read only by their authors; to everyone else they do not exist.
    for caller in [&kings_lead, &kings_staff, &alameda_lead] {
        version(caller, &state_draft).await.expect_code("NOT_FOUND");
    }
    for caller in [&kings_staff, &alameda_lead, &orange_lead, &faculty] {
        version(caller, &kings_draft).await.expect_code("NOT_FOUND");
    }
    version(&kings_lead, &kings_draft).await.ok();
    // Editing another's draft: not found; a reader who is not the author: forbidden.
    orange_lead
        .graphql(
            "mutation($v: ID!) { removeInstrumentItem(versionId: $v, code: \"FIT1\") { id } }",
            json!({ "v": kings_draft }),
        )
        .await
        .expect_code("NOT_FOUND");

    // Published: the state's for everyone signed in; a county's for its members, its buddy and faculty.
    publish(&faculty, &state_draft).await.ok();
    version(&kings_staff, &state_draft).await.ok();
    kings_staff
        .graphql("mutation($v: ID!) { retireInstrumentVersion(versionId: $v) { id } }", json!({ "v": state_draft }))
        .await
        .expect_code("FORBIDDEN");
    let adapted = adapt(&app, &kings_lead, "kings", &state_draft, "kings-pulse").await;
    let kings_version = adapted.ok()["adaptInstrumentVersion"]["id"].as_str().expect("id").to_owned();
    publish(&kings_lead, &kings_version).await.ok();
    for caller in [&kings_staff, &alameda_lead, &faculty] {
        version(caller, &kings_version).await.ok();
    }
    version(&orange_lead, &kings_version).await.expect_code("NOT_FOUND");
    // The Orange lead cannot adapt into Kings.
    adapt(&app, &orange_lead, "kings", &state_draft, "stolen").await.expect_code("FORBIDDEN");
}

#[tokio::test]
async fn the_demo_serves_the_state_instrument_and_the_orange_and_sonoma_adaptations() {
    let app = spawn_app().await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let listed = faculty
        .graphql(
            "{ instruments { key isState county { slug } latestPublished { number languages domains { code } items { code concept origin kind } derivedFrom { number } changesFromParent { kind } } } }",
            json!({}),
        )
        .await;
    let instruments = listed.ok()["instruments"].as_array().cloned().unwrap_or_default();
    let find = |key: &str| instruments.iter().find(|i| i["key"] == key).cloned().unwrap_or(Value::Null);
    let state = find("orb-readiness");
    assert_eq!(state["isState"], true);
    let domains: Vec<&str> = state["latestPublished"]["domains"]
        .as_array()
        .expect("domains")
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(domains, ["FIT", "CLIMATE", "TEAMS", "COMMS", "DATA", "LEAD"]);
    let orange = find("orb-readiness-orange");
    assert_eq!(orange["county"]["slug"], "orange");
    assert_eq!(orange["latestPublished"]["derivedFrom"]["number"], 1, "Orange's adaptation links to the state version");
    let sonoma = find("orb-readiness-sonoma");
    assert_eq!(sonoma["latestPublished"]["items"].as_array().map(Vec::len), Some(26));
    assert!(
        orange["latestPublished"]["changesFromParent"]
            .as_array()
            .expect("changes")
            .iter()
            .any(|c| c["kind"] == "RESCALED"),
        "removing the neutral option shows as a rescale"
    );

    // The Orange lead sees the state's and Orange's; not Sonoma's.
    let orange_lead = app.sign_in("lead@orange.demo.orb").await;
    let seen = orange_lead.graphql("{ instruments { key } }", json!({})).await;
    let keys: Vec<String> = seen.ok()["instruments"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|i| i["key"].as_str().map(str::to_owned))
        .collect();
    assert!(keys.contains(&"orb-readiness".to_owned()) && keys.contains(&"orb-readiness-orange".to_owned()));
    assert!(!keys.contains(&"orb-readiness-sonoma".to_owned()), "{keys:?}");

    // Texts come in the language asked for.
    let spanish = orange_lead
        .graphql("{ instruments(owner: { countySlug: \"orange\" }) { latestPublished { title(language: \"es\") items { prompt(language: \"es\") } } } }", json!({}))
        .await;
    let first = &spanish.ok()["instruments"][0]["latestPublished"];
    assert!(first["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(
        first["items"].as_array().expect("items").iter().all(|i| i["prompt"].as_str().is_some_and(|p| !p.is_empty()))
    );
}

#[tokio::test]
async fn a_county_sees_the_states_new_version_and_adopts_it_keeping_its_own_changes() {
    let app = spawn_app().await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let v1 = create_state_instrument(&faculty).await;
    publish(&faculty, &v1).await.ok();
    let lead = app.sign_in("lead@kings.demo.orb").await;
    let kings = adapt(&app, &lead, "kings", &v1, "kings-pulse").await.ok()["adaptInstrumentVersion"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    lead.graphql(
        "mutation($v: ID!) { updateInstrumentItem(versionId: $v, code: \"FIT1\", input: { prompt: [{ language: \"en\", text: \"Kings wording\" }] }) { id } }",
        json!({ "v": kings }),
    )
    .await
    .ok();
    publish(&lead, &kings).await.ok();

    // The state's version 2 rewords FIT1 and FIT2, retires FIT3 and adds FIT4.
    let instrument = faculty
        .graphql("query($id: ID!) { instrumentVersion(id: $id) { instrument { id } } }", json!({ "id": v1 }))
        .await
        .ok()["instrumentVersion"]["instrument"]["id"]
        .clone();
    let v2 = faculty
        .graphql(
            "mutation($i: ID!) { createInstrumentDraft(instrumentId: $i) { id number } }",
            json!({ "i": instrument }),
        )
        .await;
    assert_eq!(v2.ok()["createInstrumentDraft"]["number"], 2);
    let v2 = v2.ok()["createInstrumentDraft"]["id"].as_str().expect("id").to_owned();
    for mutation in [
        "mutation($v: ID!) { updateInstrumentItem(versionId: $v, code: \"FIT1\", input: { prompt: [{ language: \"en\", text: \"State v2 FIT1\" }] }) { id } }",
        "mutation($v: ID!) { updateInstrumentItem(versionId: $v, code: \"FIT2\", input: { prompt: [{ language: \"en\", text: \"State v2 FIT2\" }] }) { id } }",
        "mutation($v: ID!) { removeInstrumentItem(versionId: $v, code: \"FIT3\") { id } }",
        "mutation($v: ID!) { addInstrumentItem(versionId: $v, input: { code: \"FIT4\", domain: \"FIT\", kind: LIKERT, scale: \"AGREE5\", concept: \"pulse.fit.new\", prompt: [{ language: \"en\", text: \"New\" }, { language: \"es\", text: \"Nuevo\" }] }) { id } }",
    ] {
        faculty.graphql(mutation, json!({ "v": v2 })).await.ok();
    }
    publish(&faculty, &v2).await.ok();

    let upstream = lead
        .graphql("query($id: ID!) { instrumentVersion(id: $id) { upstreamChanges { version { number } changes { kind code origin } } } }", json!({ "id": kings }))
        .await;
    let changes = upstream.ok()["instrumentVersion"]["upstreamChanges"].clone();
    assert_eq!(changes["version"]["number"], 2);
    let listed: Vec<(String, String)> = changes["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap_or("").to_owned(),
                c["code"].as_str().or(c["origin"].as_str()).unwrap_or("").to_owned(),
            )
        })
        .collect();
    for expected in [("REWORDED", "FIT1"), ("REWORDED", "FIT2"), ("DROPPED", "FIT3"), ("ADDED", "FIT4")] {
        assert!(listed.contains(&(expected.0.to_owned(), expected.1.to_owned())), "{expected:?} in {listed:?}");
    }

    let adopted = lead
        .graphql(
            &format!("mutation($v: ID!) {{ adoptUpstreamVersion(versionId: $v) {{ draft {{ {VERSION_FIELDS} derivedFrom {{ number }} }} applied {{ kind code }} conflicts {{ kind code upstreamCode }} }} }}"),
            json!({ "v": kings }),
        )
        .await;
    let result = adopted.ok()["adoptUpstreamVersion"].clone();
    let draft = &result["draft"];
    assert_eq!(draft["derivedFrom"]["number"], 2);
    assert_eq!(item(draft, "FIT1")["prompt"], "Kings wording", "the county's own wording stays");
    assert_eq!(result["conflicts"], json!([{ "kind": "BOTH_REWORDED", "code": "FIT1", "upstreamCode": "FIT1" }]));
    assert_eq!(item(draft, "FIT2")["prompt"], "State v2 FIT2", "the state's rewording arrives");
    assert_eq!(item(draft, "FIT3"), &Value::Null, "the retired item goes");
    assert_eq!(item(draft, "FIT4")["concept"], "pulse.fit.new", "the new item arrives with its concept");
}
