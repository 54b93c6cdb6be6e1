//! Counties and their org units: operators register counties, each county's lead shapes its
//! units, and a county's internal structure stays hidden from other counties.

use orb_tests::{Caller, TestApp, spawn_app};
use serde_json::{Value, json};

const CREATE_COUNTY: &str = "mutation($input: CreateCountyInput!) {
    createCounty(input: $input) { id slug name region sizeClass staffCount }
}";

const UPDATE_COUNTY: &str = "mutation($input: UpdateCountyInput!) {
    updateCounty(input: $input) { id slug name region sizeClass staffCount }
}";

const CREATE_UNIT: &str = "mutation($input: CreateOrgUnitInput!) {
    createOrgUnit(input: $input) { id name kind county { slug } parent { name } path { name } }
}";

const UPDATE_UNIT: &str = "mutation($input: UpdateOrgUnitInput!) {
    updateOrgUnit(input: $input) { id name kind parent { name } path { name } }
}";

const DELETE_UNIT: &str = "mutation($id: ID!) { deleteOrgUnit(id: $id) }";

const ORG_UNIT: &str =
    "query($id: ID!) { orgUnit(id: $id) { id name kind parent { name } children { name } path { name } } }";

const COUNTY_UNITS: &str = "query($slug: String!) {
    county(slug: $slug) { slug units(first: 100) { nodes { name parent { name } } } }
}";

const COUNTIES_PAGE: &str = "query($first: Int, $after: String) {
    counties(first: $first, after: $after) {
        edges { cursor node { slug } }
        pageInfo { hasNextPage endCursor }
    }
}";

/// Every demo county's slug, in slug order.
const DEMO_SLUGS: [&str; 12] = [
    "alameda",
    "calaveras",
    "kings",
    "los-angeles",
    "orange",
    "sacramento",
    "san-francisco",
    "santa-clara",
    "shasta",
    "sonoma",
    "stanislaus",
    "ventura",
];

/// The id of the org unit named `name` in the county with `slug` (read as the owner).
async fn unit_id(app: &TestApp, slug: &str, name: &str) -> String {
    app.db
        .scalar_text(&format!(
            "SELECT u.id::text FROM org_units u JOIN counties c ON c.id = u.county_id \
             WHERE c.slug = '{slug}' AND u.name = '{name}'"
        ))
        .await
}

fn tulare() -> Value {
    json!({ "name": "Tulare", "region": "CENTRAL", "sizeClass": "MEDIUM", "staffCount": 150 })
}

#[tokio::test]
async fn an_operator_registers_a_county_and_the_change_is_audited() {
    let app = spawn_app().await;
    let admin = app.sign_in("admin@demo.orb").await;

    let created = admin.graphql(CREATE_COUNTY, json!({ "input": tulare() })).await;
    let county = created.ok()["createCounty"].clone();
    assert_eq!(county["slug"], "tulare", "the slug is derived from the name when left out");
    assert_eq!(county["name"], "Tulare");
    assert_eq!(county["region"], "CENTRAL");
    assert_eq!(county["sizeClass"], "MEDIUM");
    assert_eq!(county["staffCount"], 150);
    let id = county["id"].as_str().expect("the new county has an id").to_owned();
    assert_eq!(app.county_id("tulare").await, id, "the county is stored under its slug");

    let admin_id = app.db.scalar_text("SELECT id::text FROM users WHERE email = 'admin@demo.orb'").await;
    assert_eq!(
        app.count(&format!(
            "audit_log WHERE action = 'county.create' AND subject_id = '{id}' AND county_id = '{id}' \
             AND actor_user_id = '{admin_id}' AND request_id IS NOT NULL AND request_id <> ''"
        ))
        .await,
        1,
        "creating a county is audited with its actor and the request's id"
    );

    // Every signed-in user sees the new county's public facts.
    let staff = app.sign_in("staff@kings.demo.orb").await;
    let seen =
        staff.graphql("query($slug: String!) { county(slug: $slug) { name } }", json!({ "slug": "tulare" })).await;
    assert_eq!(seen.ok()["county"]["name"], "Tulare", "a new county is visible to every signed-in user");

    // A slug given explicitly is kept as given.
    let explicit = admin
        .graphql(
            CREATE_COUNTY,
            json!({ "input": { "name": "Del Norte", "slug": "del-norte-county", "region": "NORTHERN", "sizeClass": "SMALL" } }),
        )
        .await;
    assert_eq!(explicit.ok()["createCounty"]["slug"], "del-norte-county", "an explicit slug is used as given");
    assert_eq!(explicit.ok()["createCounty"]["staffCount"], Value::Null, "the staff count may be unknown");
}

#[tokio::test]
async fn an_operator_edits_a_countys_public_facts() {
    let app = spawn_app().await;
    let admin = app.sign_in("admin@demo.orb").await;
    let kings = app.county_id("kings").await;

    let updated = admin
        .graphql(
            UPDATE_COUNTY,
            json!({ "input": { "id": kings, "name": "Kings County", "sizeClass": "LARGE", "staffCount": 95 } }),
        )
        .await;
    let county = updated.ok()["updateCounty"].clone();
    assert_eq!(county["name"], "Kings County");
    assert_eq!(county["sizeClass"], "LARGE");
    assert_eq!(county["staffCount"], 95);
    assert_eq!(county["region"], "CENTRAL", "fields left out stay as they are");
    assert_eq!(county["slug"], "kings", "the slug does not change");
    assert_eq!(
        app.db
            .scalar_text(&format!(
                "SELECT name || '/' || size_class || '/' || staff_count FROM counties WHERE id = '{kings}'"
            ))
            .await,
        "Kings County/LARGE/95",
        "the edit is stored"
    );
    assert_eq!(
        app.count(&format!("audit_log WHERE action = 'county.update' AND subject_id = '{kings}'")).await,
        1,
        "the edit is audited"
    );

    let before = app.db.snapshot().await;
    let unknown = admin
        .graphql(UPDATE_COUNTY, json!({ "input": { "id": uuid::Uuid::new_v4().to_string(), "name": "Nowhere" } }))
        .await;
    unknown.expect_code("NOT_FOUND");

    let malformed = admin.graphql(UPDATE_COUNTY, json!({ "input": { "id": "not-an-id", "name": "Nowhere" } })).await;
    malformed.expect_code("BAD_USER_INPUT");
    assert_eq!(malformed.error_field().as_deref(), Some("input.id"), "the malformed id is named: {}", malformed.body);

    let negative = admin.graphql(UPDATE_COUNTY, json!({ "input": { "id": kings, "staffCount": -1 } })).await;
    negative.expect_code("BAD_USER_INPUT");
    assert_eq!(negative.error_field().as_deref(), Some("input.staffCount"), "{}", negative.body);

    let blank = admin.graphql(UPDATE_COUNTY, json!({ "input": { "id": kings, "name": "   " } })).await;
    blank.expect_code("BAD_USER_INPUT");
    assert_eq!(blank.error_field().as_deref(), Some("input.name"), "{}", blank.body);

    for email in ["faculty@demo.orb", "lead@kings.demo.orb", "staff@kings.demo.orb"] {
        let caller = app.sign_in(email).await;
        caller
            .graphql(UPDATE_COUNTY, json!({ "input": { "id": kings, "name": "Taken Over" } }))
            .await
            .expect_code("FORBIDDEN");
    }
    app.anonymous()
        .graphql(UPDATE_COUNTY, json!({ "input": { "id": kings, "name": "Taken Over" } }))
        .await
        .expect_code("UNAUTHENTICATED");
    assert_eq!(app.db.snapshot().await, before, "refused edits change nothing");
}

#[tokio::test]
async fn only_an_operator_may_register_a_county() {
    let app = spawn_app().await;
    let before = app.db.snapshot().await;
    for email in ["faculty@demo.orb", "lead@calaveras.demo.orb", "staff@calaveras.demo.orb"] {
        let caller = app.sign_in(email).await;
        let refused = caller.graphql(CREATE_COUNTY, json!({ "input": tulare() })).await;
        refused.expect_code("FORBIDDEN");
        assert!(refused.data().is_null(), "{email} gets no county back: {}", refused.body);
        assert_eq!(app.db.snapshot().await, before, "a refusal to {email} changes nothing");
    }
    let anonymous = app.anonymous().graphql(CREATE_COUNTY, json!({ "input": tulare() })).await;
    anonymous.expect_code("UNAUTHENTICATED");
    assert_eq!(app.db.snapshot().await, before, "an anonymous attempt changes nothing");
    assert_eq!(app.count("counties WHERE slug = 'tulare'").await, 0, "no county was registered");
}

#[tokio::test]
async fn a_county_with_bad_input_is_refused_naming_every_problem() {
    let app = spawn_app().await;
    let admin = app.sign_in("admin@demo.orb").await;
    let before = app.db.snapshot().await;

    let duplicate = admin
        .graphql(
            CREATE_COUNTY,
            json!({ "input": { "name": "Kings Again", "slug": "kings", "region": "CENTRAL", "sizeClass": "SMALL" } }),
        )
        .await;
    duplicate.expect_code("CONFLICT");
    assert_eq!(duplicate.error_field().as_deref(), Some("input.slug"), "{}", duplicate.body);

    let derived_duplicate = admin
        .graphql(
            CREATE_COUNTY,
            json!({ "input": { "name": "Los Angeles", "region": "LOS_ANGELES", "sizeClass": "LARGE" } }),
        )
        .await;
    derived_duplicate.expect_code("CONFLICT");
    assert_eq!(
        derived_duplicate.error_field().as_deref(),
        Some("input.slug"),
        "a derived slug that is taken is a conflict on the slug: {}",
        derived_duplicate.body
    );
    assert_eq!(app.db.snapshot().await, before, "a duplicate changes nothing");

    let malformed = admin
        .graphql(
            CREATE_COUNTY,
            json!({ "input": { "name": "", "slug": "Bad Slug", "region": "CENTRAL", "sizeClass": "SMALL" } }),
        )
        .await;
    malformed.expect_code("BAD_USER_INPUT");
    let fields = malformed.problem_fields();
    assert_eq!(fields, ["input.name", "input.slug"], "both problems are listed: {}", malformed.body);
    assert_eq!(
        malformed.error_field().as_deref(),
        Some("input.name"),
        "the first problem is the field: {}",
        malformed.body
    );

    let negative = admin
        .graphql(
            CREATE_COUNTY,
            json!({ "input": { "name": "Tulare", "region": "CENTRAL", "sizeClass": "MEDIUM", "staffCount": -3 } }),
        )
        .await;
    negative.expect_code("BAD_USER_INPUT");
    assert_eq!(negative.error_field().as_deref(), Some("input.staffCount"), "{}", negative.body);

    let wrong_type = admin
        .graphql(
            CREATE_COUNTY,
            json!({ "input": { "name": "Tulare", "region": "CENTRAL", "sizeClass": "MEDIUM", "staffCount": "many" } }),
        )
        .await;
    assert!(!wrong_type.errors().is_empty(), "a string for an Int is an error: {}", wrong_type.body);
    assert!(wrong_type.data().is_null(), "nothing is executed: {}", wrong_type.body);

    let unknown_region = admin
        .graphql(CREATE_COUNTY, json!({ "input": { "name": "Tulare", "region": "MIDWEST", "sizeClass": "MEDIUM" } }))
        .await;
    assert!(!unknown_region.errors().is_empty(), "an unknown enum value is an error: {}", unknown_region.body);

    assert_eq!(app.db.snapshot().await, before, "refused input changes nothing");
}

#[tokio::test]
async fn a_lead_builds_and_reshapes_their_countys_units() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@los-angeles.demo.orb").await;
    let la = app.county_id("los-angeles").await;
    let el_monte = unit_id(&app, "los-angeles", "El Monte Office").await;

    let created = lead
        .graphql(
            CREATE_UNIT,
            json!({ "input": { "countyId": la, "name": "Intake Unit", "kind": "UNIT", "parentId": el_monte } }),
        )
        .await;
    let unit = created.ok()["createOrgUnit"].clone();
    assert_eq!(unit["name"], "Intake Unit");
    assert_eq!(unit["kind"], "UNIT");
    assert_eq!(unit["county"]["slug"], "los-angeles");
    assert_eq!(unit["parent"]["name"], "El Monte Office");
    assert_eq!(unit["path"], json!([{ "name": "El Monte Office" }]));
    let id = unit["id"].as_str().expect("the unit has an id").to_owned();
    assert_eq!(
        app.count(&format!("org_units WHERE id = '{id}' AND county_id = '{la}' AND parent_id = '{el_monte}'")).await,
        1,
        "the unit is stored under El Monte Office"
    );

    let children = lead.graphql(ORG_UNIT, json!({ "id": el_monte })).await;
    let names: Vec<&str> = children.ok()["orgUnit"]["children"]
        .as_array()
        .expect("children is a list")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(names.contains(&"Intake Unit"), "El Monte Office lists its new child: {names:?}");

    let renamed = lead
        .graphql(UPDATE_UNIT, json!({ "input": { "id": id, "name": "Intake and Assessment", "kind": "SECTION" } }))
        .await;
    let unit = renamed.ok()["updateOrgUnit"].clone();
    assert_eq!(unit["name"], "Intake and Assessment");
    assert_eq!(unit["kind"], "SECTION");
    assert_eq!(unit["parent"]["name"], "El Monte Office", "renaming does not move the unit");

    let moved = lead.graphql(UPDATE_UNIT, json!({ "input": { "id": id, "moveToTop": true } })).await;
    let unit = moved.ok()["updateOrgUnit"].clone();
    assert_eq!(unit["parent"], Value::Null, "the unit now sits at the top of the county");
    assert_eq!(unit["path"], json!([]), "a top unit has no ancestors");
    assert_eq!(unit["name"], "Intake and Assessment", "moving does not rename");
    assert_eq!(app.count(&format!("org_units WHERE id = '{id}' AND parent_id IS NULL")).await, 1, "the move is stored");

    let moved_back = lead.graphql(UPDATE_UNIT, json!({ "input": { "id": id, "parentId": el_monte } })).await;
    assert_eq!(moved_back.ok()["updateOrgUnit"]["parent"]["name"], "El Monte Office", "a unit moves under another");
    let to_top_again = lead.graphql(UPDATE_UNIT, json!({ "input": { "id": id, "moveToTop": true } })).await;
    assert_eq!(to_top_again.ok()["updateOrgUnit"]["parent"], Value::Null);

    let deleted = lead.graphql(DELETE_UNIT, json!({ "id": id })).await;
    assert_eq!(deleted.ok()["deleteOrgUnit"], json!(id), "the deleted unit's id is returned");
    assert_eq!(app.count(&format!("org_units WHERE id = '{id}'")).await, 0, "the unit is gone");
    lead.graphql(ORG_UNIT, json!({ "id": id })).await.expect_code("NOT_FOUND");

    for action in ["org_unit.create", "org_unit.update", "org_unit.delete"] {
        assert!(
            app.count(&format!("audit_log WHERE action = '{action}' AND subject_id = '{id}' AND county_id = '{la}'"))
                .await
                >= 1,
            "{action} is audited in Los Angeles"
        );
    }
}

#[tokio::test]
async fn only_the_countys_lead_changes_its_units_and_other_counties_cannot_see_them() {
    let app = spawn_app().await;
    let la = app.county_id("los-angeles").await;
    let el_monte = unit_id(&app, "los-angeles", "El Monte Office").await;
    let calaveras_lead = app.sign_in("lead@calaveras.demo.orb").await;
    let la_staff = app.sign_in("staff@los-angeles.demo.orb").await;
    let faculty = app.sign_in("faculty@demo.orb").await;
    let admin = app.sign_in("admin@demo.orb").await;
    let new_unit = json!({ "input": { "countyId": la, "name": "Shadow Unit", "kind": "UNIT", "parentId": el_monte } });
    let before = app.db.snapshot().await;

    let callers: [(&str, &Caller); 4] = [
        ("the Calaveras lead", &calaveras_lead),
        ("Los Angeles staff", &la_staff),
        ("faculty", &faculty),
        ("an operator", &admin),
    ];
    for (who, caller) in callers {
        caller.graphql(CREATE_UNIT, new_unit.clone()).await.expect_code("FORBIDDEN");
        assert_eq!(app.db.snapshot().await, before, "{who} creating an LA unit changes nothing");
    }
    // Those who may read LA's units are refused the change; others do not even find the unit.
    for (who, caller) in [("Los Angeles staff", &la_staff), ("faculty", &faculty), ("an operator", &admin)] {
        caller
            .graphql(UPDATE_UNIT, json!({ "input": { "id": el_monte, "name": "Renamed" } }))
            .await
            .expect_code("FORBIDDEN");
        caller.graphql(DELETE_UNIT, json!({ "id": el_monte })).await.expect_code("FORBIDDEN");
        assert_eq!(app.db.snapshot().await, before, "{who} editing an LA unit changes nothing");
    }
    calaveras_lead
        .graphql(UPDATE_UNIT, json!({ "input": { "id": el_monte, "name": "Renamed" } }))
        .await
        .expect_code("NOT_FOUND");
    calaveras_lead.graphql(DELETE_UNIT, json!({ "id": el_monte })).await.expect_code("NOT_FOUND");
    app.anonymous().graphql(CREATE_UNIT, new_unit.clone()).await.expect_code("UNAUTHENTICATED");
    assert_eq!(app.db.snapshot().await, before, "refused unit changes change nothing");

    let hidden = calaveras_lead.graphql(ORG_UNIT, json!({ "id": el_monte })).await;
    hidden.expect_code("NOT_FOUND");
    assert!(!hidden.body.to_string().contains("El Monte"), "nothing of the unit leaks: {}", hidden.body);

    let walled = calaveras_lead.graphql(COUNTY_UNITS, json!({ "slug": "los-angeles" })).await;
    walled.expect_code("FORBIDDEN");
    assert_eq!(walled.data()["county"]["units"], Value::Null, "no units are returned: {}", walled.body);
    assert!(!walled.body.to_string().contains("El Monte"), "no unit name leaks: {}", walled.body);

    // The Calaveras lead still reads Los Angeles's public facts.
    let public = calaveras_lead
        .graphql("query($slug: String!) { county(slug: $slug) { name } }", json!({ "slug": "los-angeles" }))
        .await;
    assert_eq!(public.ok()["county"]["name"], "Los Angeles");

    for (who, caller) in [("faculty", &faculty), ("an operator", &admin), ("Los Angeles staff", &la_staff)] {
        let read = caller.graphql(COUNTY_UNITS, json!({ "slug": "los-angeles" })).await;
        let mut names: Vec<String> = read.ok()["county"]["units"]["nodes"]
            .as_array()
            .expect("a list of units")
            .iter()
            .filter_map(|u| u["name"].as_str().map(str::to_owned))
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["El Monte Office", "Implementation Team", "Office Design Team"],
            "{who} reads Los Angeles's units"
        );
        let unit = caller.graphql(ORG_UNIT, json!({ "id": el_monte })).await;
        assert_eq!(unit.ok()["orgUnit"]["name"], "El Monte Office", "{who} reads an LA unit by id");
    }
}

#[tokio::test]
async fn an_anonymous_caller_is_told_to_sign_in_before_changing_a_unit() {
    let app = spawn_app().await;
    let el_monte = unit_id(&app, "los-angeles", "El Monte Office").await;
    let before = app.db.snapshot().await;
    let anonymous = app.anonymous();
    anonymous
        .graphql(UPDATE_UNIT, json!({ "input": { "id": el_monte, "name": "Renamed" } }))
        .await
        .expect_code("UNAUTHENTICATED");
    anonymous.graphql(DELETE_UNIT, json!({ "id": el_monte })).await.expect_code("UNAUTHENTICATED");
    anonymous.graphql(ORG_UNIT, json!({ "id": el_monte })).await.expect_code("UNAUTHENTICATED");
    assert_eq!(app.db.snapshot().await, before, "nothing changes");
}

#[tokio::test]
async fn unit_changes_that_would_break_the_hierarchy_are_refused() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@los-angeles.demo.orb").await;
    let la = app.county_id("los-angeles").await;
    let el_monte = unit_id(&app, "los-angeles", "El Monte Office").await;
    let design = unit_id(&app, "los-angeles", "Office Design Team").await;
    let implementation = unit_id(&app, "los-angeles", "Implementation Team").await;
    let santa_rosa = unit_id(&app, "sonoma", "Santa Rosa Office").await;
    let before = app.db.snapshot().await;

    let under_child = lead.graphql(UPDATE_UNIT, json!({ "input": { "id": el_monte, "parentId": design } })).await;
    under_child.expect_code("BAD_USER_INPUT");
    assert_eq!(under_child.error_field().as_deref(), Some("input.parentId"), "{}", under_child.body);

    let under_itself = lead.graphql(UPDATE_UNIT, json!({ "input": { "id": el_monte, "parentId": el_monte } })).await;
    under_itself.expect_code("BAD_USER_INPUT");
    assert_eq!(under_itself.error_field().as_deref(), Some("input.parentId"), "{}", under_itself.body);

    let with_children = lead.graphql(DELETE_UNIT, json!({ "id": el_monte })).await;
    with_children.expect_code("CONFLICT");

    let sibling = lead
        .graphql(
            CREATE_UNIT,
            json!({ "input": { "countyId": la, "name": "Office Design Team", "kind": "TEAM", "parentId": el_monte } }),
        )
        .await;
    sibling.expect_code("CONFLICT");
    assert_eq!(sibling.error_field().as_deref(), Some("input.name"), "{}", sibling.body);

    let sibling_other_case = lead
        .graphql(
            CREATE_UNIT,
            json!({ "input": { "countyId": la, "name": "office design team", "kind": "TEAM", "parentId": el_monte } }),
        )
        .await;
    sibling_other_case.expect_code("CONFLICT");
    assert_eq!(sibling_other_case.error_field().as_deref(), Some("input.name"), "{}", sibling_other_case.body);

    let top_duplicate = lead
        .graphql(CREATE_UNIT, json!({ "input": { "countyId": la, "name": "El Monte Office", "kind": "OFFICE" } }))
        .await;
    top_duplicate.expect_code("CONFLICT");
    assert_eq!(top_duplicate.error_field().as_deref(), Some("input.name"), "{}", top_duplicate.body);

    let renamed_onto_sibling =
        lead.graphql(UPDATE_UNIT, json!({ "input": { "id": implementation, "name": "Office Design Team" } })).await;
    renamed_onto_sibling.expect_code("CONFLICT");
    assert_eq!(renamed_onto_sibling.error_field().as_deref(), Some("input.name"), "{}", renamed_onto_sibling.body);

    let foreign_parent = lead
        .graphql(
            CREATE_UNIT,
            json!({ "input": { "countyId": la, "name": "Annex", "kind": "OFFICE", "parentId": santa_rosa } }),
        )
        .await;
    foreign_parent.expect_code("BAD_USER_INPUT");
    assert_eq!(foreign_parent.error_field().as_deref(), Some("input.parentId"), "{}", foreign_parent.body);

    let moved_abroad = lead.graphql(UPDATE_UNIT, json!({ "input": { "id": design, "parentId": santa_rosa } })).await;
    moved_abroad.expect_code("BAD_USER_INPUT");
    assert_eq!(moved_abroad.error_field().as_deref(), Some("input.parentId"), "{}", moved_abroad.body);

    let malformed_parent = lead
        .graphql(CREATE_UNIT, json!({ "input": { "countyId": la, "name": "", "kind": "OFFICE", "parentId": "nope" } }))
        .await;
    malformed_parent.expect_code("BAD_USER_INPUT");
    assert_eq!(
        malformed_parent.problem_fields(),
        ["input.name", "input.parentId"],
        "an empty name and a malformed parent are both named: {}",
        malformed_parent.body
    );

    assert_eq!(app.db.snapshot().await, before, "refused unit changes change nothing");
}

#[tokio::test]
async fn counties_page_by_slug_and_bad_page_arguments_are_refused() {
    let app = spawn_app().await;
    let staff = app.sign_in("staff@calaveras.demo.orb").await;

    let first = staff.graphql(COUNTIES_PAGE, json!({ "first": 5 })).await;
    let page = first.ok()["counties"].clone();
    assert_eq!(page["edges"].as_array().map(Vec::len), Some(5), "first: 5 gives five counties");
    assert_eq!(page["pageInfo"]["hasNextPage"], true, "more counties follow");

    let mut seen: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages <= 10, "the walk ends");
        let response = staff.graphql(COUNTIES_PAGE, json!({ "first": 5, "after": after })).await;
        let page = response.ok()["counties"].clone();
        let edges = page["edges"].as_array().expect("edges is a list").clone();
        assert!(edges.len() <= 5, "a page holds at most `first` counties");
        seen.extend(edges.iter().filter_map(|e| e["node"]["slug"].as_str().map(str::to_owned)));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = Some(page["pageInfo"]["endCursor"].as_str().expect("a next page has an end cursor").to_owned());
    }
    assert_eq!(pages, 3, "twelve counties in pages of five take three pages");
    assert_eq!(seen, DEMO_SLUGS, "the walk visits every county exactly once, in slug order");

    for bad_first in [0, 101, -1] {
        let refused = staff.graphql(COUNTIES_PAGE, json!({ "first": bad_first })).await;
        refused.expect_code("BAD_USER_INPUT");
        assert_eq!(refused.error_field().as_deref(), Some("first"), "first: {bad_first}: {}", refused.body);
    }
    let hundred = staff.graphql(COUNTIES_PAGE, json!({ "first": 100 })).await;
    assert_eq!(hundred.ok()["counties"]["edges"].as_array().map(Vec::len), Some(12), "first: 100 is allowed");

    for garbage in ["%%%not a cursor%%%", "!"] {
        let refused = staff.graphql(COUNTIES_PAGE, json!({ "first": 5, "after": garbage })).await;
        refused.expect_code("BAD_USER_INPUT");
        assert_eq!(refused.error_field().as_deref(), Some("after"), "after: {garbage}: {}", refused.body);
    }

    app.anonymous().graphql(COUNTIES_PAGE, json!({ "first": 5 })).await.expect_code("UNAUTHENTICATED");
}
