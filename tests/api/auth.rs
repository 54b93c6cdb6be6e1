//! Signing in, token rotation and logout.

use orb_tests::{spawn_app, DEMO_PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_demo_lead_signs_in_and_sees_their_membership() {
    let app = spawn_app().await;
    let lead = app.sign_in("lead@calaveras.demo.orb").await;
    let me = lead.graphql("{ me { user { email } memberships { role county { slug } } globalRoles } }", json!({})).await;
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
