//! Signing in, token rotation and logout.

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use orb_server::config::DEVELOPMENT_JWT_SECRET;
use orb_tests::{Caller, DEMO_PASSWORD, TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn a_demo_lead_signs_in_and_sees_their_membership() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@calaveras.demo.orb").await;
    let me =
        lead.graphql("{ me { user { email } memberships { role county { slug } } globalRoles } }", json!({})).await;
    let data = me.ok();
    assert_eq!(data["me"]["user"]["email"], "lead@calaveras.demo.orb");
    assert_eq!(data["me"]["memberships"], json!([{ "role": "LEAD", "county": { "slug": "calaveras" } }]));
    assert_eq!(data["me"]["globalRoles"], json!([]));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    let (wrong_status, wrong_body) = app.login("lead@calaveras.demo.orb", "not-the-password").await;
    let (unknown_status, unknown_body) = app.login("nobody@nowhere.example", DEMO_PASSWORD).await;
    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_body, unknown_body);
    assert_eq!(wrong_body["error"]["code"], "UNAUTHENTICATED");
}

const ME: &str = "{ me { user { email } memberships { role county { slug } } } }";

/// `POST /auth/refresh` with `token`.
async fn refresh(app: &TestApp, token: &str) -> (StatusCode, Value) {
    app.post_json("/auth/refresh", json!({ "refresh_token": token })).await
}

/// The refresh token a sign-in handed out.
fn refresh_token_of(caller: &Caller) -> String {
    caller.refresh_token.clone().expect("sign-in returns a refresh token")
}

/// The token a REST answer carries under `field`.
fn token_in(body: &Value, field: &str) -> String {
    body[field].as_str().unwrap_or_else(|| panic!("the answer carries `{field}`: {body}")).to_owned()
}

/// Asserts a REST answer is the 401 every refused credential gets.
fn assert_unauthenticated(status: StatusCode, body: &Value, what: &str) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: expected 401, got {status}: {body}");
    assert_eq!(body["error"]["code"], "UNAUTHENTICATED", "{what}: {body}");
}

#[tokio::test]
async fn refreshing_rotates_both_tokens_and_the_new_access_token_works() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@calaveras.demo.orb").await;
    let first_refresh = refresh_token_of(&lead);

    let (status, body) = refresh(&app, &first_refresh).await;
    assert_eq!(status, StatusCode::OK, "a fresh refresh token refreshes: {body}");
    let access = token_in(&body, "access_token");
    let second_refresh = token_in(&body, "refresh_token");
    assert_eq!(body["token_type"], "Bearer", "{body}");
    assert_ne!(second_refresh, first_refresh, "the refresh token is rotated, not reused");
    assert_ne!(Some(&access), lead.access_token.as_ref(), "a new access token is issued");

    let me = app.with_token(&access).graphql(ME, json!({})).await;
    assert_eq!(
        me.ok()["me"]["user"]["email"],
        "lead@calaveras.demo.orb",
        "the rotated access token names the same user"
    );

    let (status, body) = refresh(&app, &second_refresh).await;
    assert_eq!(status, StatusCode::OK, "the rotated refresh token refreshes in its turn: {body}");
}

#[tokio::test]
async fn a_reused_refresh_token_is_refused_and_revokes_its_whole_family() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@calaveras.demo.orb").await;
    let other_login = app.sign_in("lead@calaveras.demo.orb").await;
    let stolen = refresh_token_of(&lead);

    let (status, body) = refresh(&app, &stolen).await;
    assert_eq!(status, StatusCode::OK, "the first use rotates: {body}");
    let rotated = token_in(&body, "refresh_token");

    let (status, body) = refresh(&app, &stolen).await;
    assert_unauthenticated(status, &body, "presenting a spent refresh token again");

    let (status, body) = refresh(&app, &rotated).await;
    assert_unauthenticated(status, &body, "the token issued by the rotation, after its family was revoked");

    let (status, body) = refresh(&app, &refresh_token_of(&other_login)).await;
    assert_eq!(status, StatusCode::OK, "another login of the same user is another family and stands: {body}");
}

#[tokio::test]
async fn logging_out_ends_the_refresh_token() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@calaveras.demo.orb").await;
    let token = refresh_token_of(&lead);

    let (status, body) = app.post_json("/auth/logout", json!({ "refresh_token": token })).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "logout answers 204: {body}");

    let (status, body) = refresh(&app, &token).await;
    assert_unauthenticated(status, &body, "a logged-out refresh token");

    let (status, body) = app.post_json("/auth/logout", json!({ "refresh_token": "never-issued" })).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "logout of an unknown token reveals nothing: {body}");
}

#[tokio::test]
async fn a_malformed_bearer_token_is_refused_never_treated_as_anonymous() {
    let app = spawn_app().await;
    let anonymous = app.anonymous().graphql("{ __typename }", json!({})).await;
    assert_eq!(anonymous.ok()["__typename"], "Query", "an anonymous request without a token is served");

    for garbage in ["garbage", "not.a.token", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl", ""] {
        let response = app.with_token(garbage).graphql("{ __typename }", json!({})).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "bearer `{garbage}`: {}", response.body);
        response.expect_code("UNAUTHENTICATED");
        assert!(response.data().is_null(), "nothing is executed for bearer `{garbage}`: {}", response.body);
    }

    let basic = app
        .http()
        .post(format!("{}/graphql", app.address))
        .header("Authorization", "Basic bGVhZDpwYXNzd29yZA==")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("the service answers");
    assert_eq!(
        basic.status(),
        StatusCode::UNAUTHORIZED,
        "an Authorization header that is not a bearer token is refused"
    );
}

#[tokio::test]
async fn an_anonymous_me_is_unauthenticated() {
    let app = spawn_app().await;
    let me = app.anonymous().graphql(ME, json!({})).await;
    me.expect_code("UNAUTHENTICATED");
    assert!(me.data().is_null() || me.data()["me"].is_null(), "no caller is invented: {}", me.body);
}

const CALAVERAS_UNITS: &str = r#"{ county(slug: "calaveras") { units { edges { node { name } } } } }"#;

#[tokio::test]
async fn a_removed_membership_takes_effect_on_the_next_request() {
    let app = spawn_app().await;
    let staff = app.sign_in("staff@calaveras.demo.orb").await;
    let lead = app.sign_in("lead@calaveras.demo.orb").await;

    let before = staff.graphql(ME, json!({})).await;
    assert_eq!(
        before.ok()["me"]["memberships"],
        json!([{ "role": "STAFF", "county": { "slug": "calaveras" } }]),
        "the staff member starts as a member of Calaveras"
    );
    staff.graphql(CALAVERAS_UNITS, json!({})).await.ok();

    let members = lead
        .graphql(
            r#"{ county(slug: "calaveras") { members { edges { node { id user { email } role } } } } }"#,
            json!({}),
        )
        .await;
    let membership_id = members.ok()["county"]["members"]["edges"]
        .as_array()
        .expect("members is a connection")
        .iter()
        .map(|edge| &edge["node"])
        .find(|node| node["user"]["email"] == "staff@calaveras.demo.orb")
        .and_then(|node| node["id"].as_str())
        .expect("the lead sees the staff member's membership")
        .to_owned();

    let removed = lead
        .graphql("mutation($id: ID!) { removeCountyMember(membershipId: $id) }", json!({ "id": membership_id }))
        .await;
    assert_eq!(removed.ok()["removeCountyMember"], membership_id.as_str());

    let after = staff.graphql(ME, json!({})).await;
    assert_eq!(after.ok()["me"]["memberships"], json!([]), "the same token's next request has no membership");
    staff.graphql(CALAVERAS_UNITS, json!({})).await.expect_code("FORBIDDEN");
}

#[tokio::test]
async fn a_disabled_accounts_existing_token_is_refused_on_its_next_request() {
    let app = spawn_app().await;
    let staff = app.sign_in("staff@calaveras.demo.orb").await;
    let admin = app.sign_in("admin@demo.orb").await;
    let staff_id = app.db.scalar_text("SELECT id::text FROM users WHERE email = 'staff@calaveras.demo.orb'").await;
    staff.graphql(ME, json!({})).await.ok();

    let disabled = admin
        .graphql(
            "mutation($id: ID!) { setUserDisabled(userId: $id, disabled: true) { email disabled } }",
            json!({ "id": staff_id }),
        )
        .await;
    assert_eq!(disabled.ok()["setUserDisabled"], json!({ "email": "staff@calaveras.demo.orb", "disabled": true }));

    let refused = staff.graphql(ME, json!({})).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "the still-unexpired token is refused: {}", refused.body);
    refused.expect_code("UNAUTHENTICATED");

    let (status, body) = app.login("staff@calaveras.demo.orb", DEMO_PASSWORD).await;
    assert_unauthenticated(status, &body, "signing in to a disabled account");

    let (status, body) = refresh(&app, &refresh_token_of(&staff)).await;
    assert_unauthenticated(status, &body, "refreshing a disabled account's login");
}

/// An access token signed with HS256 under `secret` and `kid`, with the given claims.
fn forge(secret: &str, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    encode(&header, claims, &EncodingKey::from_secret(secret.as_bytes())).expect("the token encodes")
}

/// The claims the service itself puts in a token for `user`, valid for ten minutes.
fn valid_claims(user: &str) -> Value {
    let now = Utc::now().timestamp();
    json!({
        "sub": user,
        "iss": "orb",
        "aud": "orb-api",
        "exp": now + 600,
        "iat": now,
        "nbf": now,
        "jti": uuid::Uuid::new_v4().to_string(),
    })
}

async fn calaveras_lead_id(app: &TestApp) -> String {
    app.db.scalar_text("SELECT id::text FROM users WHERE email = 'lead@calaveras.demo.orb'").await
}

#[tokio::test]
async fn a_token_with_the_development_key_and_the_right_claims_is_accepted() {
    let app = spawn_app().await;
    let token = forge(DEVELOPMENT_JWT_SECRET, "development", &valid_claims(&calaveras_lead_id(&app).await));
    let me = app.with_token(&token).graphql(ME, json!({})).await;
    assert_eq!(me.ok()["me"]["user"]["email"], "lead@calaveras.demo.orb", "a well-formed token names its user");
}

#[tokio::test]
async fn forged_expired_and_misaddressed_tokens_are_refused() {
    let app = spawn_app().await;
    let user = calaveras_lead_id(&app).await;
    let now = Utc::now().timestamp();
    let with = |changes: Value| {
        let mut claims = valid_claims(&user);
        for (key, value) in changes.as_object().expect("changes are an object") {
            claims[key] = value.clone();
        }
        claims
    };

    let control = forge(DEVELOPMENT_JWT_SECRET, "development", &with(json!({})));
    app.with_token(&control).graphql(ME, json!({})).await.ok();

    let refused = [
        (
            "signed with another secret",
            forge("another-secret-another-secret-another-secret", "development", &with(json!({}))),
        ),
        (
            "expired beyond the leeway",
            forge(
                DEVELOPMENT_JWT_SECRET,
                "development",
                &with(json!({ "iat": now - 3600, "nbf": now - 3600, "exp": now - 300 })),
            ),
        ),
        (
            "for another audience",
            forge(DEVELOPMENT_JWT_SECRET, "development", &with(json!({ "aud": "some-other-api" }))),
        ),
        ("from another issuer", forge(DEVELOPMENT_JWT_SECRET, "development", &with(json!({ "iss": "someone-else" })))),
        (
            "not valid before an hour from now",
            forge(DEVELOPMENT_JWT_SECRET, "development", &with(json!({ "nbf": now + 3600 }))),
        ),
        ("under an unknown kid", forge(DEVELOPMENT_JWT_SECRET, "retired-or-invented", &with(json!({})))),
    ];
    for (what, token) in refused {
        let response = app.with_token(&token).graphql(ME, json!({})).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "a token {what} is refused: {}", response.body);
        assert_eq!(response.error_code().as_deref(), Some("UNAUTHENTICATED"), "a token {what}: {}", response.body);
    }
}
