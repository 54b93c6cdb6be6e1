//! The operator's command line.

use orb_tests::spawn_app;
use serde_json::json;

#[tokio::test]
async fn the_operator_creates_accounts_from_the_command_line() {
    let app = spawn_app().await;
    let password = "amber falcon quietly wanders";
    orb_server::cli::create_user(
        &app.settings,
        "new.lead@kings.example",
        "lead",
        Some("kings"),
        Some("New Lead"),
        password,
    )
    .await
    .expect("a county lead is created");
    let lead = app.sign_in_with("new.lead@kings.example", password).await;
    let me = lead.graphql("{ me { user { displayName } memberships { role county { slug } } } }", json!({})).await;
    assert_eq!(me.ok()["me"]["memberships"], json!([{ "role": "LEAD", "county": { "slug": "kings" } }]));

    orb_server::cli::create_user(&app.settings, "coach@state.example", "faculty", None, None, password)
        .await
        .expect("a faculty account is created");
    let coach = app.sign_in_with("coach@state.example", password).await;
    assert_eq!(coach.graphql("{ me { globalRoles } }", json!({})).await.ok()["me"]["globalRoles"], json!(["FACULTY"]));

    for (email, role, county) in [
        ("x@y.example", "lead", None),
        ("x@y.example", "admin", Some("kings")),
        ("x@y.example", "respondent", None),
        ("not an email", "admin", None),
        ("x@y.example", "lead", Some("atlantis")),
    ] {
        let refused = orb_server::cli::create_user(&app.settings, email, role, county, None, password).await;
        assert!(refused.is_err(), "{email} {role} {county:?} must be refused");
    }
    let duplicate =
        orb_server::cli::create_user(&app.settings, "NEW.LEAD@kings.example", "staff", Some("kings"), None, password)
            .await;
    assert!(duplicate.is_err(), "an email is one account whatever its case");
    assert_eq!(app.count("users WHERE email = 'x@y.example'").await, 0, "refusals create nothing");
}
