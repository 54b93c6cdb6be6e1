//! Test databases: a migrated template with the demo loaded, cloned per test, dropped after.

use std::time::Duration;

use orb_server::config::Settings;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use secrecy::SecretString;
use sha2::{Digest, Sha256};

/// The server every test database lives on, as a superuser (trust auth on this machine).
/// `ORB_TEST_DATABASE_URL` points elsewhere (its path is ignored).
pub fn server_url() -> String {
    std::env::var("ORB_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn url_for(database: &str) -> String {
    let mut url = url::Url::parse(&server_url()).expect("ORB_TEST_DATABASE_URL is a URL");
    url.set_path(database);
    url.to_string()
}

async fn connect(database: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url_for(database));
    options.max_connections(1).connect_timeout(Duration::from_secs(10)).sqlx_logging(false);
    Database::connect(options).await.expect("PostgreSQL is reachable (is it running on 127.0.0.1:5432?)")
}

/// The template's name: it changes whenever the migrations, the demo loader, the shipped
/// instruments or the way this file builds it change.
fn template_name() -> String {
    let mut hash = Sha256::new();
    hash.update(orb_migration::fingerprint().as_bytes());
    hash.update(include_str!("database.rs").as_bytes());
    hash.update(include_str!("../../crates/server/src/demo.rs").as_bytes());
    hash.update(include_str!("../../crates/server/src/demo/engagement.rs").as_bytes());
    hash.update(include_str!("../../crates/server/src/demo/closing_the_loop.rs").as_bytes());
    hash.update(include_str!("../../crates/server/src/demo/key_messages.json").as_bytes());
    for instrument in [
        include_str!("../../instruments/state-orb-readiness.json"),
        include_str!("../../instruments/orange-orb-readiness.json"),
        include_str!("../../instruments/sonoma-orb-readiness.json"),
    ] {
        hash.update(instrument.as_bytes());
    }
    let digest: String = hash.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("orb_template_{digest}")
}

/// A database that exists for one test and is dropped with it.
pub struct TestDatabase {
    name: String,
    owner: DatabaseConnection,
}

impl TestDatabase {
    /// A fresh copy of the template (migrated, demo loaded).
    pub async fn clone_template() -> Self {
        let template = ensure_template().await;
        let name = format!("orb_test_{}", uuid::Uuid::new_v4().simple());
        let admin = connect("postgres").await;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
            .expect("the template can be cloned");
        admin.close().await.ok();
        let owner = connect(&name).await;
        Self { name, owner }
    }

    /// The owner's URL of this database.
    pub fn url(&self) -> String {
        url_for(&self.name)
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A connection as the owner (superuser: bypasses row-level security), for assertions.
    pub fn owner(&self) -> &DatabaseConnection {
        &self.owner
    }

    /// Runs a query returning one integer.
    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        let row = self
            .owner
            .query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned()))
            .await
            .expect("query runs")
            .expect("one row");
        row.try_get_by_index::<i64>(0).expect("an integer")
    }

    /// Runs a query returning one text value.
    pub async fn scalar_text(&self, sql: &str) -> String {
        let row = self
            .owner
            .query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned()))
            .await
            .expect("query runs")
            .expect("one row");
        row.try_get_by_index::<String>(0).expect("a text value")
    }

    /// A digest of every row of the tables a test may touch, to prove a refused request
    /// changed nothing.
    pub async fn snapshot(&self) -> String {
        let tables = [
            "counties",
            "org_units",
            "users",
            "user_global_roles",
            "memberships",
            "cohorts",
            "cohort_counties",
            "cohort_faculty",
            "buddy_pairings",
            "audit_log",
            "key_messages",
            "county_key_messages",
            "message_tests",
            "message_test_messages",
            "message_feedback",
            "planning_matrices",
            "planning_actions",
            "planning_action_history",
            "testing_profiles",
            "testing_profile_reflections",
            "testing_profile_revisions",
        ];
        let mut parts = Vec::new();
        for table in tables {
            parts.push(
                self.scalar_text(&format!(
                    "SELECT '{table}:' || count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {table} t"
                ))
                .await,
            );
        }
        parts.join("\n")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside async: use a thread with its own small runtime.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async move {
                let admin = connect("postgres").await;
                let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                let _ = admin.close().await;
            });
        })
        .join();
    }
}

/// The role that owns the test databases' schema: not a superuser, like a production owner.
const SCHEMA_OWNER: &str = "orb_test_owner";

/// Builds the template once per fingerprint; concurrent test processes wait for the first.
async fn ensure_template() -> String {
    let template = template_name();
    let admin = connect("postgres").await;
    admin.execute_unprepared("SELECT pg_advisory_lock(7214829)").await.expect("lock");
    let exists = admin
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 AS one FROM pg_database WHERE datname = $1",
            [template.clone().into()],
        ))
        .await
        .expect("query runs")
        .is_some();
    if !exists {
        build_template(&admin, &template).await;
    }
    admin.execute_unprepared("SELECT pg_advisory_unlock(7214829)").await.expect("unlock");
    admin.close().await.ok();
    template
}

async fn build_template(admin: &DatabaseConnection, template: &str) {
    // Builds left half-done, and templates of older fingerprints beyond the newest few. Several
    // checkouts of different migrations (branches, worktrees) may test on one cluster at once:
    // dropping every other fingerprint's template pulled it from under their running tests.
    let stale = admin
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT datname FROM pg_database WHERE datname LIKE 'orb\\_building\\_%' \
             UNION ALL (SELECT datname FROM pg_database WHERE datname LIKE 'orb\\_template\\_%' \
                        ORDER BY oid DESC OFFSET 5)",
        ))
        .await
        .expect("query runs");
    for row in stale {
        if let Ok(name) = row.try_get::<String>("", "datname") {
            let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        }
    }
    // Migrations run as production runs them: as an owner that is not a superuser, so the
    // database's own functions meet row-level security as they will there.
    admin
        .execute_unprepared(&format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{SCHEMA_OWNER}') THEN \
             CREATE ROLE {SCHEMA_OWNER} LOGIN NOSUPERUSER NOBYPASSRLS CREATEROLE; END IF; END $$"
        ))
        .await
        .expect("the schema owner role exists");
    let building = format!("orb_building_{}", std::process::id());
    admin.execute_unprepared(&format!("CREATE DATABASE {building} OWNER {SCHEMA_OWNER}")).await.expect("create");
    let mut owner_url = url::Url::parse(&url_for(&building)).expect("a URL");
    owner_url.set_username(SCHEMA_OWNER).expect("a user name");
    orb_server::database::migrate(&SecretString::from(owner_url.to_string())).await.expect("migrations apply");
    let settings = Settings { database_url: SecretString::from(url_for(&building)), ..Settings::default() };
    let store = orb_server::startup::prepare_store(&settings, false).await.expect("store opens");
    orb_server::demo::load(&store, orb_server::demo::DEFAULT_DEMO_PASSWORD).await.expect("demo loads");
    store.close().await.expect("pool closes");
    admin
        .execute_unprepared(&format!("ALTER DATABASE {building} RENAME TO {template}"))
        .await
        .expect("the template is published");
}
