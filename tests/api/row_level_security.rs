//! The database is the second wall: row-level security, checked on the runtime role directly,
//! with queries that carry no WHERE clause of their own.

use std::time::Duration;

use orb_domain::ids::UserId;
use orb_store::entities::{audit_log, counties, memberships, org_units, users};
use orb_store::{Caller, Session, Store};
use orb_tests::{TestApp, spawn_app};
use sea_orm::{ConnectionTrait, Database, DbBackend, DbErr, EntityTrait, Statement};
use secrecy::ExposeSecret;
use uuid::Uuid;

/// The runtime role's URL for this test's database, as the service derives it.
async fn runtime_url(app: &TestApp) -> String {
    let url = orb_server::database::runtime_url(&app.settings).await.expect("the runtime role's URL can be derived");
    url.expose_secret().to_owned()
}

/// A store on the runtime role, as the service opens it.
async fn store(app: &TestApp, max_connections: u32) -> Store {
    app.runtime_store(max_connections, Duration::from_secs(10)).await
}

async fn user_id(app: &TestApp, email: &str) -> UserId {
    let id = app.db.scalar_text(&format!("SELECT id::text FROM users WHERE email = '{email}'")).await;
    id.parse().expect("a user id is a UUID")
}

async fn session_of(store: &Store, app: &TestApp, email: &str) -> Session {
    store.begin(Caller::User(user_id(app, email).await), None).await.expect("a session opens for a demo account")
}

fn uuid_of(text: &str) -> Uuid {
    Uuid::parse_str(text).expect("a county id is a UUID")
}

/// The SQLSTATE of a failed statement.
fn sqlstate(result: Result<impl std::fmt::Debug, DbErr>, what: &str) -> String {
    let err = result.expect_err(&format!("{what} is refused by the database"));
    orb_store::error::sqlstate(&err).unwrap_or_else(|| panic!("{what}: a database error with a SQLSTATE, got {err}"))
}

#[tokio::test]
async fn a_lead_sees_only_their_own_countys_rows_even_without_a_where_clause() {
    let app = spawn_app().await;
    let store = store(&app, 2).await;
    let calaveras = uuid_of(&app.county_id("calaveras").await);
    let session = session_of(&store, &app, "lead@calaveras.demo.orb").await;

    let units = org_units::Entity::find().all(session.db()).await.expect("org units read");
    let members = memberships::Entity::find().all(session.db()).await.expect("memberships read");
    let audit = audit_log::Entity::find().all(session.db()).await.expect("audit log reads");

    assert!(units.iter().all(|u| u.county_id == calaveras), "only Calaveras units: {units:?}");
    assert!(members.iter().all(|m| m.county_id == calaveras), "only Calaveras memberships: {members:?}");
    assert!(audit.iter().all(|a| a.county_id == Some(calaveras)), "only Calaveras audit entries: {audit:?}");

    // What the lead sees is all of Calaveras, and the rest exists: it is hidden, not absent.
    let filter = format!("county_id = '{calaveras}'");
    assert_eq!(units.len() as i64, app.count(&format!("org_units WHERE {filter}")).await);
    assert_eq!(members.len() as i64, app.count(&format!("memberships WHERE {filter}")).await);
    assert!(!members.is_empty(), "the lead sees Calaveras's memberships");
    assert_eq!(audit.len() as i64, app.count(&format!("audit_log WHERE {filter}")).await);
    assert!(!audit.is_empty(), "the lead sees Calaveras's audit entries");
    let other = format!("county_id IS DISTINCT FROM '{calaveras}'");
    assert!(app.count(&format!("org_units WHERE {other}")).await > 0, "other counties have units");
    assert!(app.count(&format!("memberships WHERE {other}")).await > 0, "other counties have memberships");
    assert!(app.count(&format!("audit_log WHERE {other}")).await > 0, "other counties have audit entries");
}

#[tokio::test]
async fn the_los_angeles_lead_sees_exactly_their_own_units() {
    let app = spawn_app().await;
    let store = store(&app, 2).await;
    let los_angeles = uuid_of(&app.county_id("los-angeles").await);
    let session = session_of(&store, &app, "lead@los-angeles.demo.orb").await;

    let mut seen: Vec<Uuid> =
        org_units::Entity::find().all(session.db()).await.expect("org units read").into_iter().map(|u| u.id).collect();
    seen.sort();
    let owned = app
        .db
        .scalar_text(&format!(
            "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM org_units WHERE county_id = '{los_angeles}'"
        ))
        .await;
    let mut expected: Vec<Uuid> = owned.split(',').filter(|s| !s.is_empty()).map(uuid_of).collect();
    expected.sort();
    assert!(!expected.is_empty(), "Los Angeles has units in the demo");
    assert_eq!(seen, expected, "the Los Angeles lead sees exactly Los Angeles's units");
    assert!(
        app.count(&format!("org_units WHERE county_id <> '{los_angeles}'")).await > 0,
        "other counties' units exist and stay hidden"
    );
}

#[tokio::test]
async fn an_anonymous_session_sees_nothing() {
    let app = spawn_app().await;
    let store = store(&app, 2).await;
    let session = store.begin(Caller::Anonymous, None).await.expect("an anonymous session opens");

    let units = org_units::Entity::find().all(session.db()).await.expect("org units read");
    let members = memberships::Entity::find().all(session.db()).await.expect("memberships read");
    let counties = counties::Entity::find().all(session.db()).await.expect("counties read");
    let users = users::Entity::find().all(session.db()).await.expect("users read");
    assert!(units.is_empty(), "no org units for an anonymous caller: {units:?}");
    assert!(members.is_empty(), "no memberships for an anonymous caller: {members:?}");
    assert!(counties.is_empty(), "no counties for an anonymous caller: {counties:?}");
    assert!(users.is_empty(), "no users for an anonymous caller: {users:?}");
    for table in ["org_units", "memberships", "counties", "users"] {
        assert!(app.count(table).await > 0, "{table} has rows the anonymous caller could have seen");
    }
}

/// The tenant settings a session runs with, each as a sorted list (the order of a comma list
/// means nothing to a policy).
async fn settings_in(session: &Session) -> Vec<(String, Vec<String>)> {
    let mut seen = Vec::new();
    for name in crate::catalogue::TENANT_SETTINGS {
        let value: String = session
            .db()
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT coalesce(current_setting($1, true), '') AS v",
                [name.into()],
            ))
            .await
            .expect("the setting reads")
            .expect("one row")
            .try_get("", "v")
            .expect("text");
        let mut list: Vec<String> = value.split(',').filter(|v| !v.is_empty()).map(str::to_owned).collect();
        list.sort();
        seen.push((name.to_owned(), list));
    }
    seen
}

/// What the service derives from the roles it loaded, in the same shape.
fn settings_derived(session: &Session) -> Vec<(String, Vec<String>)> {
    let s = session.principal().tenant_settings();
    [
        ("orb.user_id", s.user_id),
        ("orb.global_roles", s.global_roles),
        ("orb.member_counties", s.member_counties),
        ("orb.lead_counties", s.lead_counties),
        ("orb.partner_counties", s.partner_counties),
        ("orb.respondent_response", s.respondent_response),
        ("orb.respondent_administration", s.respondent_administration),
        ("orb.respondent_county", s.respondent_county),
        ("orb.respondent_invitation", s.respondent_invitation),
    ]
    .into_iter()
    .map(|(name, value)| {
        let mut list: Vec<String> = value.split(',').filter(|v| !v.is_empty()).map(str::to_owned).collect();
        list.sort();
        (name.to_owned(), list)
    })
    .collect()
}

/// A signed-in user's request opens in one statement that sets the tenant settings in SQL from
/// the roles it reads (migration 0013); the service builds its own view of the caller from the
/// same rows. The two must agree for every kind of account, or the service and the database
/// would wall a county off differently.
#[tokio::test]
async fn a_users_request_opens_with_the_settings_the_service_derives_from_their_roles() {
    let app = spawn_app().await;
    let store = store(&app, 2).await;
    // Someone with every kind of role at once: faculty, lead of Sacramento (paired with
    // Sonoma), staff of Calaveras (paired with Stanislaus).
    let (sacramento, calaveras) = (app.county_id("sacramento").await, app.county_id("calaveras").await);
    let everything = Uuid::new_v4();
    app.db
        .owner()
        .execute_unprepared(&format!(
            "INSERT INTO users (id, email, display_name) VALUES ('{everything}', 'many-hats@example.org', 'Many Hats');
             INSERT INTO user_global_roles (user_id, role) VALUES ('{everything}', 'faculty');
             INSERT INTO memberships (county_id, id, user_id, role) VALUES
                 ('{sacramento}', gen_random_uuid(), '{everything}', 'lead'),
                 ('{calaveras}', gen_random_uuid(), '{everything}', 'staff');"
        ))
        .await
        .expect("the account is made");
    let accounts = [
        "lead@sacramento.demo.orb",
        "staff@calaveras.demo.orb",
        "faculty@demo.orb",
        "admin@demo.orb",
        "many-hats@example.org",
    ];
    for email in accounts {
        let session = session_of(&store, &app, email).await;
        let derived = settings_derived(&session);
        assert_eq!(settings_in(&session).await, derived, "{email}");
        if email == "many-hats@example.org" {
            let partners = &derived[4].1;
            assert_eq!(partners.len(), 2, "both counties' buddies are partners: {derived:?}");
            assert_eq!(derived[3].1, vec![sacramento.clone()], "lead of Sacramento only");
            assert_eq!(derived[1].1, vec!["faculty".to_owned()]);
        }
        session.commit().await.expect("the session ends");
    }

    app.db
        .owner()
        .execute_unprepared(&format!("UPDATE users SET disabled_at = now() WHERE id = '{everything}'"))
        .await
        .expect("the account is disabled");
    let refused = store.begin(Caller::User(UserId(everything)), None).await;
    assert!(
        matches!(refused, Err(orb_store::error::StoreError::Refused(orb_domain::Error::Unauthenticated))),
        "a disabled account opens no session"
    );
}

async fn backend_pid(session: &Session) -> i32 {
    session
        .db()
        .query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT pg_backend_pid() AS pid"))
        .await
        .expect("the query runs")
        .expect("one row")
        .try_get::<i32>("", "pid")
        .expect("an integer")
}

/// `Store::begin` also resets every setting at the start of each session; this guards the pair
/// (transaction-local settings, reset on begin) against a regression in either.
#[tokio::test]
async fn tenant_settings_do_not_outlive_their_transaction_on_a_shared_connection() {
    let app = spawn_app().await;
    let store = store(&app, 1).await;

    let lead = session_of(&store, &app, "lead@los-angeles.demo.orb").await;
    let lead_pid = backend_pid(&lead).await;
    let lead_units = org_units::Entity::find().all(lead.db()).await.expect("org units read");
    assert!(!lead_units.is_empty(), "the Los Angeles lead reads their units");
    lead.commit().await.expect("the lead's session commits");

    let anonymous = store.begin(Caller::Anonymous, None).await.expect("an anonymous session opens");
    assert_eq!(backend_pid(&anonymous).await, lead_pid, "the pool of one hands out the same connection");
    let units = org_units::Entity::find().all(anonymous.db()).await.expect("org units read");
    assert!(units.is_empty(), "the next caller on that connection inherits nothing: {units:?}");
}

#[tokio::test]
async fn the_runtime_role_cannot_bypass_row_level_security() {
    let app = spawn_app().await;
    let runtime = Database::connect(runtime_url(&app).await).await.expect("the runtime role connects");
    let row = runtime
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT rolsuper, rolbypassrls, current_user::text AS name, \
                    (SELECT count(*) FROM pg_tables WHERE tableowner = current_user) AS owned \
             FROM pg_roles WHERE rolname = current_user",
        ))
        .await
        .expect("the query runs")
        .expect("the runtime role sees itself");
    assert_eq!(row.try_get::<String>("", "name").expect("a name"), "orb_app", "the runtime URL logs in as orb_app");
    assert!(!row.try_get::<bool>("", "rolsuper").expect("a flag"), "the runtime role is not a superuser");
    assert!(!row.try_get::<bool>("", "rolbypassrls").expect("a flag"), "the runtime role does not bypass RLS");
    assert_eq!(row.try_get::<i64>("", "owned").expect("a count"), 0, "the runtime role owns no tables");

    let tables = app
        .db
        .owner()
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT DISTINCT c.relname::text AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced \
             FROM pg_class c \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
             WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace AND a.attname LIKE '%county_id' \
             ORDER BY 1",
        ))
        .await
        .expect("the catalog reads");
    let names: Vec<String> = tables.iter().map(|t| t.try_get::<String>("", "name").expect("a name")).collect();
    for expected in ["audit_log", "buddy_pairings", "cohort_counties", "memberships", "org_units"] {
        assert!(names.iter().any(|n| n == expected), "{expected} holds county rows: {names:?}");
    }
    for (table, name) in tables.iter().zip(&names) {
        assert!(table.try_get::<bool>("", "enabled").expect("a flag"), "{name} has row-level security enabled");
        assert!(table.try_get::<bool>("", "forced").expect("a flag"), "{name} has row-level security forced");
    }
}

#[tokio::test]
async fn the_database_refuses_a_lead_writing_into_another_county() {
    let app = spawn_app().await;
    let store = store(&app, 2).await;
    let calaveras = app.county_id("calaveras").await;
    let los_angeles = app.county_id("los-angeles").await;
    let insert = |county: &str| {
        format!(
            "INSERT INTO org_units (county_id, id, name, kind) VALUES ('{county}', '{}', 'Smuggled Office', 'OFFICE')",
            Uuid::new_v4()
        )
    };

    // The same statement into the lead's own county is allowed: the refusal below is the policy.
    let own = session_of(&store, &app, "lead@calaveras.demo.orb").await;
    own.db().execute_unprepared(&insert(&calaveras)).await.expect("a lead may add a unit to their own county");
    drop(own);

    let before = app.db.snapshot().await;
    let session = session_of(&store, &app, "lead@calaveras.demo.orb").await;
    let state = sqlstate(session.db().execute_unprepared(&insert(&los_angeles)).await, "inserting into Los Angeles");
    assert_eq!(state, "42501", "the row-level security policy refuses the row");
    drop(session);

    let session = session_of(&store, &app, "lead@calaveras.demo.orb").await;
    let deleted = session
        .db()
        .execute_unprepared(&format!("DELETE FROM org_units WHERE county_id = '{los_angeles}'"))
        .await
        .expect("a delete of invisible rows runs");
    assert_eq!(deleted.rows_affected(), 0, "another county's units cannot be deleted");
    let updated = session
        .db()
        .execute_unprepared("UPDATE org_units SET name = name || ' (hijacked)'")
        .await
        .expect("an update of invisible rows runs");
    assert_eq!(updated.rows_affected(), 0, "another county's units cannot be renamed");
    session.commit().await.expect("the session commits");
    assert_eq!(app.db.snapshot().await, before, "nothing changed in any county");
}

#[tokio::test]
async fn password_hashes_are_unreadable_and_the_audit_log_is_append_only() {
    let app = spawn_app().await;
    let store = store(&app, 2).await;
    let admin = "admin@demo.orb";

    let session = session_of(&store, &app, admin).await;
    let visible = audit_log::Entity::find().all(session.db()).await.expect("the audit log reads");
    assert_eq!(visible.len() as i64, app.count("audit_log").await, "the operator's session reads the whole log");
    drop(session);

    let before = app.db.snapshot().await;
    let statements = [
        ("reading password hashes", "SELECT password_hash FROM users"),
        ("updating the audit log", "UPDATE audit_log SET action = 'forged'"),
        ("deleting from the audit log", "DELETE FROM audit_log"),
        ("truncating the audit log", "TRUNCATE audit_log"),
    ];
    for (what, sql) in statements {
        let session = session_of(&store, &app, admin).await;
        let state = sqlstate(session.db().execute_unprepared(sql).await, what);
        assert_eq!(state, "42501", "{what}: permission denied, even for an operator");
    }
    assert_eq!(app.db.snapshot().await, before, "the refused statements changed nothing");
}

/// Several services (or tests) starting at once on one PostgreSQL cluster, each on its own database.
#[tokio::test]
async fn services_on_different_databases_of_one_cluster_can_start_together() {
    let first = spawn_app().await;
    let second = spawn_app().await;
    // A race: a few rounds of concurrent starts, alternating between the two databases.
    for _round in 0..4 {
        let derivations = (0..12).map(|i| {
            let settings = if i % 2 == 0 { first.settings.clone() } else { second.settings.clone() };
            async move { orb_server::database::runtime_url(&settings).await.map(|_| ()).map_err(|e| e.to_string()) }
        });
        let failures: Vec<String> =
            futures::future::join_all(derivations).await.into_iter().filter_map(Result::err).collect();
        assert!(failures.is_empty(), "every concurrent start derives the runtime role's URL: {failures:?}");
    }
}

#[tokio::test]
async fn the_schema_owner_is_no_superuser_and_reads_every_table_its_functions_read() {
    // The database's own functions (the results feed, code exchange, login) run as the schema
    // owner and every county table forces row-level security on it too: without a read policy
    // for the owner, a production owner — never a superuser — would see nothing through them.
    let app = spawn_app().await;
    let owner_is_superuser = app
        .db
        .scalar_text("SELECT rolsuper::text FROM pg_roles WHERE oid = (SELECT relowner FROM pg_class WHERE relname = 'responses')")
        .await;
    assert_eq!(owner_is_superuser, "false", "tests migrate as production does");
    let unreadable = app
        .db
        .scalar_text(
            "SELECT coalesce(string_agg(c.relname, ', '), '') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relforcerowsecurity
               AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'owner_reads'
                               AND p.polroles = ARRAY[c.relowner])",
        )
        .await;
    assert_eq!(unreadable, "", "forced tables the owner's functions cannot read");
}
