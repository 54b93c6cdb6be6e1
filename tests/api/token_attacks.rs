//! Attacks on bearer tokens, over HTTP against the running service: each forged, altered,
//! stale or misused token is refused with 401 `UNAUTHENTICATED`, executes nothing, and a
//! well-formed token built the same way is accepted (so each refusal is the defence's doing).
//!
//! Forged, expired, misaddressed and unknown-`kid` tokens under HS256 are in `auth.rs`
//! (`forged_expired_and_misaddressed_tokens_are_refused`), a removed membership and a disabled
//! account there too, and a respondent token used for other fields in `collection.rs`. This
//! module covers the rest.
//!
//! Run alone: `cargo test -p orb-tests --test api token_attacks::`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey};
use orb_server::config::{DEVELOPMENT_JWT_SECRET, JwtAlgorithm, JwtKey, JwtSettings};
use orb_tests::{Caller, TestApp, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};

const ME: &str = "{ me { user { email } globalRoles memberships { role county { slug } } } }";

// Ed25519 keys made for these tests only (`openssl genpkey -algorithm ed25519`); never used
// anywhere else.
const CURRENT_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEILOfso2+rRsLYOVSonA83rRyxXpOlmV69ZzkSwjgd6eN\n-----END PRIVATE KEY-----\n";
const CURRENT_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAUEn0eAF8ZjS3bq8803xmK9ISflxLjsEPpz0QxttvjG4=\n-----END PUBLIC KEY-----\n";
const PREVIOUS_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEILVyfriviElIWrQKmIT4LigzmSo7RmiCvJBGrLv504hu\n-----END PRIVATE KEY-----\n";
const PREVIOUS_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAH02j9ySAgpSB5N3UQ9JLJfTBeFxgGNMGxL4/N8PC2j4=\n-----END PUBLIC KEY-----\n";
const RETIRED_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIDbdRFaKNynC9jidxZrSNqJBYS8rWyfcNyG5oT5dmvck\n-----END PRIVATE KEY-----\n";
const RETIRED_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAJymhhNAytEnqNblwRsK2GWMVEPxVrTJRrbgOsv4IAj8=\n-----END PUBLIC KEY-----\n";
/// An attacker's own key, unknown to the service.
const ATTACKER_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBotRc07BIR1uhyGzRqh8WxdziRZy7P09pdjsulJA5qi\n-----END PRIVATE KEY-----\n";

/// How a hand-made token is signed.
enum Signer<'a> {
    /// No signature at all (`alg: none` style): the token ends with an empty part.
    Unsigned,
    /// HMAC with this secret under `alg`.
    Secret(&'a [u8], Algorithm),
    /// Ed25519 with this PKCS#8 private key.
    Ed25519(&'a str),
}

/// A token with exactly this header and these claims, signed as `signer` says. Built by hand
/// rather than with `jsonwebtoken::encode`, so headers the library would never write (`none`,
/// an embedded `jwk`) can be sent.
fn token(header: &Value, claims: &Value, signer: Signer<'_>) -> String {
    let message =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = match signer {
        Signer::Unsigned => String::new(),
        Signer::Secret(secret, alg) => {
            jsonwebtoken::crypto::sign(message.as_bytes(), &EncodingKey::from_secret(secret), alg).expect("signs")
        }
        Signer::Ed25519(pem) => {
            let key = EncodingKey::from_ed_pem(pem.as_bytes()).expect("a test key");
            jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::EdDSA).expect("signs")
        }
    };
    format!("{message}.{signature}")
}

/// The claims the service puts in a user's access token, valid for ten minutes.
fn claims(user: &str) -> Value {
    let now = Utc::now().timestamp();
    json!({ "sub": user, "iss": "orb", "aud": "orb-api", "exp": now + 600, "iat": now, "nbf": now,
            "jti": uuid::Uuid::new_v4().to_string() })
}

/// `claims(user)` with `changes` applied; a `null` change removes the claim.
fn claims_with(user: &str, changes: Value) -> Value {
    let mut claims = claims(user);
    let fields = claims.as_object_mut().expect("claims are an object");
    for (key, value) in changes.as_object().expect("changes are an object") {
        if value.is_null() {
            fields.remove(key);
        } else {
            fields.insert(key.clone(), value.clone());
        }
    }
    claims
}

fn hs256(kid: &str) -> Value {
    json!({ "alg": "HS256", "typ": "JWT", "kid": kid })
}

/// A token the development HS256 key signs, as the service would.
fn dev_token(claims: &Value) -> String {
    token(&hs256("development"), claims, Signer::Secret(DEVELOPMENT_JWT_SECRET.as_bytes(), Algorithm::HS256))
}

async fn user_id(app: &TestApp, email: &str) -> String {
    app.db.scalar_text(&format!("SELECT id::text FROM users WHERE email = '{email}'")).await
}

/// Asserts every token is refused with 401 `UNAUTHENTICATED`, nothing executed; returns how many.
async fn assert_all_refused(app: &TestApp, attacks: &[(&str, String)]) -> usize {
    let before = app.db.snapshot().await;
    for (what, token) in attacks {
        let response = app.with_token(token).graphql(ME, json!({})).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{what}: expected 401, got {}", response.body);
        assert_eq!(response.error_code().as_deref(), Some("UNAUTHENTICATED"), "{what}: {}", response.body);
        assert!(response.data().is_null(), "{what}: nothing is executed: {}", response.body);
    }
    assert_eq!(app.db.snapshot().await, before, "refused tokens change nothing");
    attacks.len()
}

/// Asserts the token is accepted and names `email`.
async fn assert_accepted(app: &TestApp, what: &str, token: &str, email: &str) {
    let response = app.with_token(token).graphql(ME, json!({})).await;
    assert_eq!(response.ok()["me"]["user"]["email"], email, "{what} is accepted: {}", response.body);
}

#[tokio::test]
async fn unsigned_altered_and_malformed_hs256_tokens_are_refused() {
    let app = spawn_app().await;
    let lead = user_id(&app, "lead@calaveras.demo.orb").await;
    let admin = user_id(&app, "admin@demo.orb").await;
    let now = Utc::now().timestamp();
    let secret = DEVELOPMENT_JWT_SECRET.as_bytes();
    assert_accepted(&app, "the control token", &dev_token(&claims(&lead)), "lead@calaveras.demo.orb").await;

    // A genuine token whose payload is swapped for the admin's, keeping its signature.
    let genuine = app.sign_in("lead@calaveras.demo.orb").await.access_token.expect("an access token");
    let parts: Vec<&str> = genuine.split('.').collect();
    let swapped = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims(&admin).to_string()), parts[2]);
    assert_accepted(&app, "the genuine token", &genuine, "lead@calaveras.demo.orb").await;

    let attacks = [
        (
            "alg none, no signature",
            token(&json!({ "alg": "none", "kid": "development" }), &claims(&lead), Signer::Unsigned),
        ),
        (
            "alg None, no signature",
            token(&json!({ "alg": "None", "kid": "development" }), &claims(&lead), Signer::Unsigned),
        ),
        ("HS256 header, signature stripped", token(&hs256("development"), &claims(&lead), Signer::Unsigned)),
        (
            "HS512 with the right secret",
            token(
                &json!({ "alg": "HS512", "kid": "development" }),
                &claims(&lead),
                Signer::Secret(secret, Algorithm::HS512),
            ),
        ),
        ("payload swapped under a genuine signature", swapped),
        ("exp as a string", dev_token(&claims_with(&lead, json!({ "exp": (now + 600).to_string() })))),
        ("nbf as a string in the future", dev_token(&claims_with(&lead, json!({ "nbf": (now + 3600).to_string() })))),
        ("no exp", dev_token(&claims_with(&lead, json!({ "exp": null })))),
        ("no iss", dev_token(&claims_with(&lead, json!({ "iss": null })))),
        ("no aud", dev_token(&claims_with(&lead, json!({ "aud": null })))),
        ("no sub", dev_token(&claims_with(&lead, json!({ "sub": null })))),
        ("sub not a user id", dev_token(&claims_with(&lead, json!({ "sub": "lead@calaveras.demo.orb" })))),
        ("sub of no user", dev_token(&claims_with(&lead, json!({ "sub": uuid::Uuid::now_v7().to_string() })))),
        (
            "the respondent audience on a user's claims",
            dev_token(&claims_with(&lead, json!({ "aud": "orb-api:respondent" }))),
        ),
        ("no kid", token(&json!({ "alg": "HS256" }), &claims(&lead), Signer::Secret(secret, Algorithm::HS256))),
        (
            "a path for kid",
            token(&hs256("../../../../dev/null"), &claims(&lead), Signer::Secret(b"", Algorithm::HS256)),
        ),
    ];
    let tried = assert_all_refused(&app, &attacks).await;
    assert_eq!(tried, 16);
}

#[tokio::test]
async fn role_and_county_claims_in_a_token_grant_nothing() {
    // Roles come from the database at the start of every request, never from the token: a
    // validly signed token claiming to be an admin and a lead elsewhere is only who its `sub` is.
    let app = spawn_app().await;
    let staff = user_id(&app, "staff@calaveras.demo.orb").await;
    let orange = app.county_id("orange").await;
    let boasting = dev_token(&claims_with(
        &staff,
        json!({ "role": "admin", "roles": ["admin", "faculty"], "globalRoles": ["ADMIN"],
                "county": orange, "county_id": orange, "memberships": [{ "county": orange, "role": "LEAD" }],
                "lead_counties": [orange] }),
    ));
    let caller = app.with_token(&boasting);
    let me = caller.graphql(ME, json!({})).await;
    assert_eq!(me.ok()["me"]["globalRoles"], json!([]), "no global role is taken from the token");
    assert_eq!(
        me.ok()["me"]["memberships"],
        json!([{ "role": "STAFF", "county": { "slug": "calaveras" } }]),
        "the memberships are the database's"
    );
    let before = app.db.snapshot().await;
    caller
        .graphql(r#"{ county(slug: "orange") { units { edges { node { name } } } } }"#, json!({}))
        .await
        .expect_code("FORBIDDEN");
    caller
        .graphql("mutation($id: ID!) { grantGlobalRole(userId: $id, role: ADMIN) { id } }", json!({ "id": staff }))
        .await
        .expect_code("FORBIDDEN");
    assert_eq!(app.db.snapshot().await, before, "nothing changed");
}

#[tokio::test]
async fn tokens_are_not_interchangeable_between_their_uses() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@orange.demo.orb").await;
    let access = lead.access_token.clone().expect("an access token");
    let refresh = lead.refresh_token.clone().expect("a refresh token");
    let started =
        app.anonymous().graphql("mutation { startResponse(code: \"6NVD-6M31-XBWE-N0D5\") { token } }", json!({})).await;
    let respondent = started.ok()["startResponse"]["token"].as_str().expect("a respondent token").to_owned();

    // A respondent token whose scope is altered (another county), keeping its signature.
    let parts: Vec<&str> = respondent.split('.').collect();
    let mut scope: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64")).expect("JSON claims");
    scope["cty"] = json!(app.county_id("calaveras").await);
    let rescoped = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(scope.to_string()), parts[2]);
    let refused = app.with_token(&rescoped).graphql("{ myResponse { id } }", json!({})).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "an altered respondent scope: {}", refused.body);
    refused.expect_code("UNAUTHENTICATED");
    let control = app.with_token(&respondent).graphql("{ myResponse { status } }", json!({})).await;
    assert_eq!(control.ok()["myResponse"]["status"], "IN_PROGRESS", "the genuine respondent token opens its response");

    // A refresh token is no bearer token, and an access token refreshes nothing.
    let as_bearer = app.with_token(&refresh).graphql(ME, json!({})).await;
    assert_eq!(as_bearer.status, StatusCode::UNAUTHORIZED, "a refresh token as a bearer: {}", as_bearer.body);
    let (status, body) = app.post_json("/auth/refresh", json!({ "refresh_token": access })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "an access token as a refresh token: {body}");
    let (status, body) = app.post_json("/auth/refresh", json!({ "refresh_token": respondent })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a respondent token as a refresh token: {body}");

    // A respondent token opens its response and no export, not even of its own survey.
    let survey = app
        .db
        .scalar_text("SELECT id::text FROM administrations WHERE title = 'Orange readiness survey (demo wave)'")
        .await;
    for file in ["responses.csv", "dictionary.csv", "results.csv"] {
        let response = app
            .http()
            .get(format!("{}/exports/administrations/{survey}/{file}", app.address))
            .bearer_auth(&respondent)
            .send()
            .await
            .expect("the service answers");
        assert!(
            matches!(response.status(), StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "a respondent token exports no {file}: {}",
            response.status()
        );
    }
    let lead_export = app
        .http()
        .get(format!("{}/exports/administrations/{survey}/dictionary.csv", app.address))
        .bearer_auth(&access)
        .send()
        .await
        .expect("the service answers");
    assert_eq!(lead_export.status(), StatusCode::OK, "the county's lead exports the dictionary");
}

fn ed25519_key(kid: &str, private: Option<&str>, public: &str, retire_after: Option<chrono::DateTime<Utc>>) -> JwtKey {
    JwtKey {
        kid: kid.to_owned(),
        secret: None,
        private_key_pem: private.map(SecretString::from),
        private_key_file: None,
        public_key_pem: Some(public.to_owned()),
        public_key_file: None,
        retire_after,
    }
}

/// A service signing with Ed25519 key `current`, still accepting `previous` for an hour, and
/// with `retired` past its overlap window since an hour ago.
async fn rotating_app() -> TestApp {
    spawn_app_with(|s| {
        s.jwt = JwtSettings {
            algorithm: JwtAlgorithm::EdDSA,
            signing_kid: "current".into(),
            keys: vec![
                ed25519_key("current", Some(CURRENT_PRIVATE), CURRENT_PUBLIC, None),
                ed25519_key("previous", None, PREVIOUS_PUBLIC, Some(Utc::now() + chrono::Duration::hours(1))),
                ed25519_key("retired", None, RETIRED_PUBLIC, Some(Utc::now() - chrono::Duration::hours(1))),
            ],
            ..JwtSettings::default()
        };
    })
    .await
}

fn eddsa(kid: &str) -> Value {
    json!({ "alg": "EdDSA", "typ": "JWT", "kid": kid })
}

#[tokio::test]
async fn with_asymmetric_keys_only_the_current_and_overlapping_keys_are_accepted() {
    let app = rotating_app().await;
    let lead = user_id(&app, "lead@calaveras.demo.orb").await;
    let email = "lead@calaveras.demo.orb";

    let signed_in: Caller = app.sign_in(email).await;
    let issued = signed_in.access_token.clone().expect("an access token");
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(issued.split('.').next().expect("a header")).expect("base64"))
            .expect("JSON");
    assert_eq!((header["alg"].as_str(), header["kid"].as_str()), (Some("EdDSA"), Some("current")), "{header}");
    assert_accepted(&app, "a token the service issued", &issued, email).await;
    assert_accepted(
        &app,
        "the current key",
        &token(&eddsa("current"), &claims(&lead), Signer::Ed25519(CURRENT_PRIVATE)),
        email,
    )
    .await;
    assert_accepted(
        &app,
        "the previous key inside its overlap window",
        &token(&eddsa("previous"), &claims(&lead), Signer::Ed25519(PREVIOUS_PRIVATE)),
        email,
    )
    .await;

    let attacker_jwk = json!({ "kty": "OKP", "crv": "Ed25519",
                               "x": "yF9DFS0oO__erAD5MRATd8nFxBiLSp2vmYufoJMOqyg" });
    let attacks = [
        (
            "the retired key after its overlap window",
            token(&eddsa("retired"), &claims(&lead), Signer::Ed25519(RETIRED_PRIVATE)),
        ),
        (
            "HS256 signed with the current public key as the secret",
            token(&hs256("current"), &claims(&lead), Signer::Secret(CURRENT_PUBLIC.as_bytes(), Algorithm::HS256)),
        ),
        (
            "HS256 signed with the previous public key as the secret",
            token(&hs256("previous"), &claims(&lead), Signer::Secret(PREVIOUS_PUBLIC.as_bytes(), Algorithm::HS256)),
        ),
        (
            "the development HS256 secret",
            token(
                &hs256("current"),
                &claims(&lead),
                Signer::Secret(DEVELOPMENT_JWT_SECRET.as_bytes(), Algorithm::HS256),
            ),
        ),
        (
            "an attacker's key under the current kid",
            token(&eddsa("current"), &claims(&lead), Signer::Ed25519(ATTACKER_PRIVATE)),
        ),
        (
            "an attacker's key embedded as jwk",
            token(
                &json!({ "alg": "EdDSA", "kid": "current", "jwk": attacker_jwk }),
                &claims(&lead),
                Signer::Ed25519(ATTACKER_PRIVATE),
            ),
        ),
        ("an unknown kid", token(&eddsa("2019-01"), &claims(&lead), Signer::Ed25519(CURRENT_PRIVATE))),
        ("no kid", token(&json!({ "alg": "EdDSA" }), &claims(&lead), Signer::Ed25519(CURRENT_PRIVATE))),
        ("alg none", token(&json!({ "alg": "none", "kid": "current" }), &claims(&lead), Signer::Unsigned)),
        (
            "expired beyond the leeway",
            token(
                &eddsa("current"),
                &claims_with(&lead, json!({ "exp": Utc::now().timestamp() - 120 })),
                Signer::Ed25519(CURRENT_PRIVATE),
            ),
        ),
        (
            "nbf in the future",
            token(
                &eddsa("current"),
                &claims_with(&lead, json!({ "nbf": Utc::now().timestamp() + 3600 })),
                Signer::Ed25519(CURRENT_PRIVATE),
            ),
        ),
    ];
    let tried = assert_all_refused(&app, &attacks).await;
    assert_eq!(tried, 11);
}
