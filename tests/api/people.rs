//! Accounts, global roles and county memberships: operators create accounts and grant roles,
//! leads add and remove their county's staff, and everyone may change their own password.

use orb_tests::{Caller, DEMO_PASSWORD, TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CREATE_USER: &str = "mutation($input: CreateUserInput!) {
    createUser(input: $input) { id email displayName disabled globalRoles }
}";

const USERS: &str = "query($search: String, $first: Int, $after: String) {
    users(search: $search, first: $first, after: $after) { nodes { email } pageInfo { hasNextPage endCursor } }
}";

const GRANT: &str =
    "mutation($userId: ID!, $role: GlobalRole!) { grantGlobalRole(userId: $userId, role: $role) { id globalRoles } }";

const REVOKE: &str =
    "mutation($userId: ID!, $role: GlobalRole!) { revokeGlobalRole(userId: $userId, role: $role) { id globalRoles } }";

const CREATE_COHORT: &str = "mutation($input: CreateCohortInput!) { createCohort(input: $input) { id name } }";

const ADD_MEMBER: &str = "mutation($input: AddCountyMemberInput!) {
    addCountyMember(input: $input) { id role county { slug } user { email } }
}";

const REMOVE_MEMBER: &str = "mutation($id: ID!) { removeCountyMember(membershipId: $id) }";

const MEMBERS: &str = "query($slug: String!) {
    county(slug: $slug) { members(first: 100) { nodes { role user { email } } } }
}";

const ME: &str = "{ me { user { id email } memberships { id role county { slug } } globalRoles } }";

const CHANGE_PASSWORD: &str = "mutation($current: String!, $new: String!) {
    changePassword(currentPassword: $current, newPassword: $new)
}";

const NEW_PASSWORD: &str = "violet harbor cactus lantern";

/// Creates an account as `admin`; returns its id.
async fn create_user(admin: &Caller, email: &str) -> String {
    let created = admin
        .graphql(
            CREATE_USER,
            json!({ "input": { "email": email, "displayName": "New Colleague", "password": NEW_PASSWORD } }),
        )
        .await;
    created.ok()["createUser"]["id"].as_str().expect("the new account has an id").to_owned()
}

/// The id of the membership of `email` in the county with `slug` (read as the owner).
async fn membership_id(app: &TestApp, email: &str, slug: &str) -> String {
    app.db
        .scalar_text(&format!(
            "SELECT m.id::text FROM memberships m JOIN users u ON u.id = m.user_id JOIN counties c ON c.id = m.county_id \
             WHERE u.email = '{email}' AND c.slug = '{slug}'"
        ))
        .await
}

/// The emails in a list of nodes holding `email` or `user { email }`.
fn emails(nodes: &Value) -> Vec<String> {
    let mut list: Vec<String> = nodes
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|n| n["email"].as_str().or_else(|| n["user"]["email"].as_str()).map(str::to_owned))
        .collect();
    list.sort();
    list
}

#[tokio::test]
async fn an_operator_creates_an_account_that_can_then_sign_in() {
    let app = spawn_app().await;
    let admin = app.sign_in("admin@demo.orb").await;

    let created = admin
        .graphql(
            CREATE_USER,
            json!({ "input": { "email": "  New.Person@Example.ORG ", "displayName": " New Person ", "password": NEW_PASSWORD } }),
        )
        .await;
    let user = created.ok()["createUser"].clone();
    assert_eq!(user["email"], "new.person@example.org", "the email is trimmed and lower-cased");
    assert_eq!(user["displayName"], "New Person", "the display name is trimmed");
    assert_eq!(user["disabled"], false);
    assert_eq!(user["globalRoles"], json!([]), "a new account holds no role");
    let id = user["id"].as_str().expect("an id").to_owned();
    assert_eq!(
        app.count(&format!(
            "audit_log WHERE action = 'user.create' AND subject_id = '{id}' AND request_id IS NOT NULL"
        ))
        .await,
        1,
        "creating an account is audited"
    );
    assert_eq!(
        app.count(&format!("audit_log WHERE subject_id = '{id}' AND details::text LIKE '%{NEW_PASSWORD}%'")).await,
        0,
        "the password never reaches the audit log"
    );

    let newcomer = app.sign_in_with("new.person@example.org", NEW_PASSWORD).await;
    let me = newcomer.graphql(ME, json!({})).await;
    let data = me.ok();
    assert_eq!(data["me"]["user"]["email"], "new.person@example.org");
    assert_eq!(data["me"]["memberships"], json!([]), "a new account belongs to no county");
    assert_eq!(data["me"]["globalRoles"], json!([]));
    let (status, _) = app.login("NEW.PERSON@example.org", NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "sign-in ignores the email's case");
}

#[tokio::test]
async fn account_creation_is_refused_to_non_operators_and_for_bad_input() {
    let app = spawn_app().await;
    let admin = app.sign_in("admin@demo.orb").await;
    let before = app.db.snapshot().await;

    let duplicate = admin
        .graphql(
            CREATE_USER,
            json!({ "input": { "email": "LEAD@calaveras.demo.orb", "displayName": "Copy", "password": NEW_PASSWORD } }),
        )
        .await;
    duplicate.expect_code("CONFLICT");
    assert_eq!(duplicate.error_field().as_deref(), Some("input.email"), "{}", duplicate.body);

    let bad = admin
        .graphql(
            CREATE_USER,
            json!({ "input": { "email": "not-an-email", "displayName": "Bad", "password": "short" } }),
        )
        .await;
    bad.expect_code("BAD_USER_INPUT");
    assert_eq!(bad.problem_fields(), ["input.email", "input.password"], "both problems are named: {}", bad.body);
    assert_eq!(bad.error_field().as_deref(), Some("input.email"), "{}", bad.body);
    assert!(!bad.body.to_string().contains("\"short\""), "the password is not echoed back: {}", bad.body);

    let eleven = admin
        .graphql(
            CREATE_USER,
            json!({ "input": { "email": "eleven@example.org", "displayName": "Eleven", "password": "12345678901" } }),
        )
        .await;
    eleven.expect_code("BAD_USER_INPUT");
    assert_eq!(
        eleven.error_field().as_deref(),
        Some("input.password"),
        "eleven characters are too few: {}",
        eleven.body
    );
    assert_eq!(app.db.snapshot().await, before, "bad input changes nothing");

    let input =
        json!({ "input": { "email": "sneaky@example.org", "displayName": "Sneaky", "password": NEW_PASSWORD } });
    for email in ["faculty@demo.orb", "lead@calaveras.demo.orb", "staff@calaveras.demo.orb"] {
        let caller = app.sign_in(email).await;
        caller.graphql(CREATE_USER, input.clone()).await.expect_code("FORBIDDEN");
        assert_eq!(app.db.snapshot().await, before, "{email} creating an account changes nothing");
    }
    app.anonymous().graphql(CREATE_USER, input).await.expect_code("UNAUTHENTICATED");
    assert_eq!(app.db.snapshot().await, before, "refusals change nothing");
    let (status, _) = app.login("sneaky@example.org", NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no account was made");
}

#[tokio::test]
async fn only_operators_list_accounts() {
    let app = spawn_app().await;
    let admin = app.sign_in("admin@demo.orb").await;

    let found = admin.graphql(USERS, json!({ "search": "calaveras" })).await;
    assert_eq!(
        emails(&found.ok()["users"]["nodes"]),
        ["lead@calaveras.demo.orb", "staff@calaveras.demo.orb"],
        "a search finds the accounts whose email contains the term"
    );

    let all = admin.graphql(USERS, json!({ "first": 100 })).await;
    let all_emails: Vec<String> = all.ok()["users"]["nodes"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|n| n["email"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(all_emails.len() as i64, app.count("users").await, "every account is listed");
    let mut sorted = all_emails.clone();
    sorted.sort();
    assert_eq!(all_emails, sorted, "accounts come by email");

    let first_page = admin.graphql(USERS, json!({ "first": 20 })).await;
    let page = first_page.ok()["users"].clone();
    assert_eq!(page["pageInfo"]["hasNextPage"], true, "26 demo accounts do not fit in 20");
    let rest = admin.graphql(USERS, json!({ "first": 20, "after": page["pageInfo"]["endCursor"] })).await;
    let rest_count = rest.ok()["users"]["nodes"].as_array().map(Vec::len).unwrap_or_default();
    assert_eq!(20 + rest_count, all_emails.len(), "the second page holds the rest");

    for email in ["lead@calaveras.demo.orb", "faculty@demo.orb", "staff@calaveras.demo.orb"] {
        let caller = app.sign_in(email).await;
        let refused = caller.graphql(USERS, json!({ "search": "calaveras" })).await;
        refused.expect_code("FORBIDDEN");
        assert!(!refused.body.to_string().contains("staff@calaveras"), "{email} sees no account: {}", refused.body);
    }
    app.anonymous().graphql(USERS, json!({})).await.expect_code("UNAUTHENTICATED");
}

#[tokio::test]
async fn a_global_role_takes_effect_and_ends_on_the_next_request() {
    let app = spawn_app().await;
    let admin = app.sign_in("admin@demo.orb").await;
    let id = create_user(&admin, "new.faculty@example.org").await;
    let newcomer = app.sign_in_with("new.faculty@example.org", NEW_PASSWORD).await;

    newcomer.graphql(CREATE_COHORT, json!({ "input": { "name": "Before The Grant" } })).await.expect_code("FORBIDDEN");

    let granted = admin.graphql(GRANT, json!({ "userId": id, "role": "FACULTY" })).await;
    assert_eq!(granted.ok()["grantGlobalRole"]["globalRoles"], json!(["FACULTY"]));
    let again = admin.graphql(GRANT, json!({ "userId": id, "role": "FACULTY" })).await;
    assert_eq!(again.ok()["grantGlobalRole"]["globalRoles"], json!(["FACULTY"]), "granting twice changes nothing");
    assert_eq!(
        app.count(&format!("audit_log WHERE action = 'global_role.grant' AND subject_id = '{id}'")).await,
        1,
        "only the real grant is audited"
    );

    let created = newcomer.graphql(CREATE_COHORT, json!({ "input": { "name": "Granted Circle" } })).await;
    assert_eq!(created.ok()["createCohort"]["name"], "Granted Circle", "the new role works with the same token");

    let revoked = admin.graphql(REVOKE, json!({ "userId": id, "role": "FACULTY" })).await;
    assert_eq!(revoked.ok()["revokeGlobalRole"]["globalRoles"], json!([]));
    let after_revoke = newcomer.graphql(CREATE_COHORT, json!({ "input": { "name": "After The Revoke" } })).await;
    after_revoke.expect_code("FORBIDDEN");
    assert_eq!(app.count("cohorts WHERE name = 'After The Revoke'").await, 0, "the revoked role no longer works");
    let me = newcomer.graphql(ME, json!({})).await;
    assert_eq!(me.ok()["me"]["globalRoles"], json!([]), "the user sees the role gone");

    let before = app.db.snapshot().await;
    let lead = app.sign_in("lead@calaveras.demo.orb").await;
    lead.graphql(GRANT, json!({ "userId": id, "role": "ADMIN" })).await.expect_code("FORBIDDEN");
    let faculty = app.sign_in("faculty@demo.orb").await;
    faculty.graphql(GRANT, json!({ "userId": id, "role": "FACULTY" })).await.expect_code("FORBIDDEN");
    let faculty_id = app.db.scalar_text("SELECT id::text FROM users WHERE email = 'faculty@demo.orb'").await;
    lead.graphql(REVOKE, json!({ "userId": faculty_id, "role": "FACULTY" })).await.expect_code("FORBIDDEN");

    let admin_id = admin.graphql(ME, json!({})).await.ok()["me"]["user"]["id"].as_str().expect("admin's id").to_owned();
    let self_revoke = admin.graphql(REVOKE, json!({ "userId": admin_id, "role": "ADMIN" })).await;
    self_revoke.expect_code("BAD_USER_INPUT");
    assert_eq!(self_revoke.error_field().as_deref(), Some("userId"), "{}", self_revoke.body);
    let unknown = admin.graphql(GRANT, json!({ "userId": uuid::Uuid::new_v4().to_string(), "role": "FACULTY" })).await;
    unknown.expect_code("NOT_FOUND");
    assert_eq!(app.db.snapshot().await, before, "refused role changes change nothing");
    let still_admin = admin.graphql(ME, json!({})).await;
    assert_eq!(still_admin.ok()["me"]["globalRoles"], json!(["ADMIN"]), "the operator is still an operator");
}

#[tokio::test]
async fn a_lead_adds_staff_to_their_county_and_only_staff() {
    let app = spawn_app().await;
    let admin = app.sign_in("admin@demo.orb").await;
    let lead = app.sign_in("lead@calaveras.demo.orb").await;
    let calaveras = app.county_id("calaveras").await;
    let kings = app.county_id("kings").await;
    create_user(&admin, "new.staff@example.org").await;
    create_user(&admin, "new.lead@example.org").await;

    let added = lead
        .graphql(
            ADD_MEMBER,
            json!({ "input": { "countyId": calaveras, "email": "New.Staff@example.org", "role": "STAFF" } }),
        )
        .await;
    let membership = added.ok()["addCountyMember"].clone();
    assert_eq!(membership["role"], "STAFF");
    assert_eq!(membership["county"]["slug"], "calaveras");
    assert_eq!(membership["user"]["email"], "new.staff@example.org");
    let newcomer = app.sign_in_with("new.staff@example.org", NEW_PASSWORD).await;
    let me = newcomer.graphql(ME, json!({})).await;
    let memberships = me.ok()["me"]["memberships"].clone();
    assert_eq!(memberships.as_array().map(Vec::len), Some(1), "the new member has one membership: {memberships}");
    assert_eq!(memberships[0]["role"], "STAFF");
    assert_eq!(memberships[0]["county"]["slug"], "calaveras");
    assert_eq!(memberships[0]["id"], membership["id"], "it is the membership the lead made");
    assert_eq!(
        app.count(&format!(
            "audit_log WHERE action = 'membership.grant' AND county_id = '{calaveras}' AND request_id IS NOT NULL"
        ))
        .await,
        1,
        "the grant is audited with the request's id"
    );

    let before = app.db.snapshot().await;
    let as_lead = lead
        .graphql(
            ADD_MEMBER,
            json!({ "input": { "countyId": calaveras, "email": "new.lead@example.org", "role": "LEAD" } }),
        )
        .await;
    as_lead.expect_code("FORBIDDEN");
    let promote = lead
        .graphql(
            ADD_MEMBER,
            json!({ "input": { "countyId": calaveras, "email": "new.staff@example.org", "role": "LEAD" } }),
        )
        .await;
    promote.expect_code("FORBIDDEN");
    let demote_lead = lead
        .graphql(
            ADD_MEMBER,
            json!({ "input": { "countyId": calaveras, "email": "lead@calaveras.demo.orb", "role": "STAFF" } }),
        )
        .await;
    demote_lead.expect_code("FORBIDDEN");
    let elsewhere = lead
        .graphql(
            ADD_MEMBER,
            json!({ "input": { "countyId": kings, "email": "new.lead@example.org", "role": "STAFF" } }),
        )
        .await;
    elsewhere.expect_code("FORBIDDEN");
    let unknown = lead
        .graphql(
            ADD_MEMBER,
            json!({ "input": { "countyId": calaveras, "email": "nobody@example.org", "role": "STAFF" } }),
        )
        .await;
    unknown.expect_code("BAD_USER_INPUT");
    assert_eq!(unknown.error_field().as_deref(), Some("input.email"), "{}", unknown.body);
    let again = lead
        .graphql(
            ADD_MEMBER,
            json!({ "input": { "countyId": calaveras, "email": "new.staff@example.org", "role": "STAFF" } }),
        )
        .await;
    again.expect_code("CONFLICT");
    assert_eq!(again.error_field().as_deref(), Some("input.email"), "{}", again.body);
    let staff = app.sign_in("staff@calaveras.demo.orb").await;
    staff
        .graphql(
            ADD_MEMBER,
            json!({ "input": { "countyId": calaveras, "email": "new.lead@example.org", "role": "STAFF" } }),
        )
        .await
        .expect_code("FORBIDDEN");
    let faculty = app.sign_in("faculty@demo.orb").await;
    faculty
        .graphql(
            ADD_MEMBER,
            json!({ "input": { "countyId": calaveras, "email": "new.lead@example.org", "role": "STAFF" } }),
        )
        .await
        .expect_code("FORBIDDEN");
    assert_eq!(app.db.snapshot().await, before, "refused grants change nothing");

    let appointed = admin
        .graphql(
            ADD_MEMBER,
            json!({ "input": { "countyId": calaveras, "email": "new.lead@example.org", "role": "LEAD" } }),
        )
        .await;
    assert_eq!(appointed.ok()["addCountyMember"]["role"], "LEAD", "an operator appoints a lead");
    let new_lead = app.sign_in_with("new.lead@example.org", NEW_PASSWORD).await;
    let me = new_lead.graphql(ME, json!({})).await;
    assert_eq!(me.ok()["me"]["memberships"][0]["role"], "LEAD");
    assert_eq!(me.ok()["me"]["memberships"][0]["county"]["slug"], "calaveras");
}

#[tokio::test]
async fn a_lead_removes_staff_but_not_leads_nor_other_counties_members() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@calaveras.demo.orb").await;
    let staff = app.sign_in("staff@calaveras.demo.orb").await;
    let staff_membership = membership_id(&app, "staff@calaveras.demo.orb", "calaveras").await;
    let lead_membership = membership_id(&app, "lead@calaveras.demo.orb", "calaveras").await;
    let kings_staff = membership_id(&app, "staff@kings.demo.orb", "kings").await;
    let before = app.db.snapshot().await;

    staff.graphql(REMOVE_MEMBER, json!({ "id": staff_membership })).await.expect_code("FORBIDDEN");
    lead.graphql(REMOVE_MEMBER, json!({ "id": lead_membership })).await.expect_code("FORBIDDEN");
    let foreign = lead.graphql(REMOVE_MEMBER, json!({ "id": kings_staff })).await;
    foreign.expect_code("NOT_FOUND");
    let unknown = lead.graphql(REMOVE_MEMBER, json!({ "id": uuid::Uuid::new_v4().to_string() })).await;
    unknown.expect_code("NOT_FOUND");
    let malformed = lead.graphql(REMOVE_MEMBER, json!({ "id": "not-an-id" })).await;
    malformed.expect_code("BAD_USER_INPUT");
    assert_eq!(malformed.error_field().as_deref(), Some("membershipId"), "{}", malformed.body);
    assert_eq!(app.db.snapshot().await, before, "refused removals change nothing");

    let removed = lead.graphql(REMOVE_MEMBER, json!({ "id": staff_membership })).await;
    assert_eq!(removed.ok()["removeCountyMember"], json!(staff_membership), "the removed membership's id comes back");
    assert_eq!(app.count(&format!("memberships WHERE id = '{staff_membership}'")).await, 0, "the membership is gone");
    assert_eq!(
        app.count(&format!("audit_log WHERE action = 'membership.remove' AND subject_id = '{staff_membership}'")).await,
        1,
        "the removal is audited"
    );
    let me = staff.graphql(ME, json!({})).await;
    assert_eq!(me.ok()["me"]["memberships"], json!([]), "the former member loses the membership on their next request");
    staff.graphql(MEMBERS, json!({ "slug": "calaveras" })).await.expect_code("FORBIDDEN");

    let admin = app.sign_in("admin@demo.orb").await;
    let by_operator = admin.graphql(REMOVE_MEMBER, json!({ "id": kings_staff })).await;
    assert_eq!(by_operator.ok()["removeCountyMember"], json!(kings_staff), "an operator removes anyone");
}

#[tokio::test]
async fn an_anonymous_caller_is_told_to_sign_in_before_removing_a_member() {
    let app = spawn_app().await;
    let staff_membership = membership_id(&app, "staff@calaveras.demo.orb", "calaveras").await;
    let before = app.db.snapshot().await;
    let refused = app.anonymous().graphql(REMOVE_MEMBER, json!({ "id": staff_membership })).await;
    refused.expect_code("UNAUTHENTICATED");
    assert_eq!(app.db.snapshot().await, before, "nothing changes");
}

#[tokio::test]
async fn a_countys_member_list_is_for_its_lead_and_operators() {
    let app = spawn_app().await;
    for email in ["lead@calaveras.demo.orb", "admin@demo.orb"] {
        let caller = app.sign_in(email).await;
        let members = caller.graphql(MEMBERS, json!({ "slug": "calaveras" })).await;
        let nodes = members.ok()["county"]["members"]["nodes"].clone();
        assert_eq!(
            emails(&nodes),
            ["lead@calaveras.demo.orb", "staff@calaveras.demo.orb"],
            "{email} reads Calaveras's members"
        );
        let mut roles: Vec<&str> =
            nodes.as_array().expect("a list").iter().filter_map(|n| n["role"].as_str()).collect();
        roles.sort_unstable();
        assert_eq!(roles, ["LEAD", "STAFF"]);
    }
    for email in ["staff@calaveras.demo.orb", "faculty@demo.orb", "lead@kings.demo.orb", "lead@stanislaus.demo.orb"] {
        let caller = app.sign_in(email).await;
        let refused = caller.graphql(MEMBERS, json!({ "slug": "calaveras" })).await;
        refused.expect_code("FORBIDDEN");
        assert!(!refused.body.to_string().contains("staff@calaveras"), "{email} sees no member: {}", refused.body);
    }
}

#[tokio::test]
async fn changing_ones_password_requires_the_current_one() {
    let app = spawn_app().await;
    let staff = app.sign_in("staff@calaveras.demo.orb").await;
    let before = app.db.snapshot().await;

    let wrong = staff.graphql(CHANGE_PASSWORD, json!({ "current": "not-my-password", "new": NEW_PASSWORD })).await;
    wrong.expect_code("BAD_USER_INPUT");
    assert_eq!(wrong.error_field().as_deref(), Some("currentPassword"), "{}", wrong.body);
    let short = staff.graphql(CHANGE_PASSWORD, json!({ "current": DEMO_PASSWORD, "new": "short" })).await;
    short.expect_code("BAD_USER_INPUT");
    assert_eq!(short.error_field().as_deref(), Some("newPassword"), "{}", short.body);
    app.anonymous()
        .graphql(CHANGE_PASSWORD, json!({ "current": DEMO_PASSWORD, "new": NEW_PASSWORD }))
        .await
        .expect_code("UNAUTHENTICATED");
    assert_eq!(app.db.snapshot().await, before, "refused changes change nothing");
    let (status, _) = app.login("staff@calaveras.demo.orb", DEMO_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "the old password still works after refusals");

    let changed = staff.graphql(CHANGE_PASSWORD, json!({ "current": DEMO_PASSWORD, "new": NEW_PASSWORD })).await;
    assert_eq!(changed.ok()["changePassword"], true);
    let (status, _) = app.login("staff@calaveras.demo.orb", NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "the new password signs in");
    let (status, _) = app.login("staff@calaveras.demo.orb", DEMO_PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old password no longer signs in");
    assert_eq!(app.count("audit_log WHERE action = 'user.password_change'").await, 1, "the change is audited");
    assert_eq!(
        app.count(&format!("audit_log WHERE details::text LIKE '%{NEW_PASSWORD}%'")).await,
        0,
        "the password never reaches the audit log"
    );
}
