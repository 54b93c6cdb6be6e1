//! The password policy (NIST SP 800-63B) on every path that sets a password, and the defences
//! of `changePassword`: throttled like sign-in, one per request, and ending the account's other
//! sign-ins.

use orb_tests::{DEMO_PASSWORD, spawn_app};
use serde_json::json;

const CREATE_USER: &str = "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }";
const CHANGE_PASSWORD: &str = "mutation($current: String!, $new: String!) {
    changePassword(currentPassword: $current, newPassword: $new)
}";

/// What an outside check found accepted, and what an attacker tries first for
/// `staff@calaveras.demo.orb`.
const WEAK: &[&str] = &[
    "            ",
    "aaaaaaaaaaaa",
    "123456789012",
    "passwordpassword",
    "orb-demo-password",
    "staff@calaveras.demo.orb",
    "staff@calaveras2024",
    "orborborborborborb",
    "qwertyuiopasdfghjkl",
];

#[tokio::test]
async fn create_user_and_change_password_refuse_blank_repetitive_sequential_common_and_contextual_passwords() {
    let app = spawn_app().await;
    let admin = app.sign_in("admin@demo.orb").await;
    let staff = app.sign_in("staff@calaveras.demo.orb").await;
    let before = app.db.snapshot().await;
    for weak in WEAK {
        let input = json!({ "email": "staff@calaveras.example", "displayName": "New", "password": weak });
        let refused = admin.graphql(CREATE_USER, json!({ "input": input })).await;
        refused.expect_code("BAD_USER_INPUT");
        assert_eq!(refused.error_field().as_deref(), Some("input.password"), "{weak:?}: {}", refused.body);
        let refused = staff.graphql(CHANGE_PASSWORD, json!({ "current": DEMO_PASSWORD, "new": weak })).await;
        refused.expect_code("BAD_USER_INPUT");
        assert_eq!(refused.error_field().as_deref(), Some("newPassword"), "{weak:?}: {}", refused.body);
        assert!(
            !refused.body.to_string().contains(weak.trim()) || weak.trim().is_empty(),
            "not echoed: {}",
            refused.body
        );
    }
    assert_eq!(app.db.snapshot().await, before, "nothing was stored");
    let strong = "violet harbor cactus lantern";
    let created = admin
        .graphql(
            CREATE_USER,
            json!({ "input": { "email": "new@calaveras.example", "displayName": "New", "password": strong } }),
        )
        .await;
    assert!(created.ok()["createUser"]["id"].is_string(), "a strong password is accepted");
    app.sign_in_with("new@calaveras.example", strong).await;
}

#[tokio::test]
async fn the_command_line_refuses_a_weak_password_and_the_demo_still_signs_in_with_its_published_one() {
    let app = spawn_app().await;
    for weak in WEAK {
        let refused =
            orb_server::cli::create_user(&app.settings, "staff@calaveras.example", "faculty", None, None, weak).await;
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("password"), "{weak:?} is refused, naming the password: {message}");
    }
    assert_eq!(app.count("users WHERE email = 'staff@calaveras.example'").await, 0, "refusals create nothing");
    // The demo's accounts are demo data with a published password, loaded as such.
    app.sign_in("lead@calaveras.demo.orb").await;
}
