//! The database catalogue gate: rules about roles, row-level security, policies, views and
//! functions, read from PostgreSQL's own catalogue after every migration has run. One test per
//! rule; each names every offending object, and each first proves it can see an offender by
//! planting one in its own copy of the database (so a gate that can no longer fail fails).
//!
//! Run alone: `cargo test -p orb-tests --test api catalogue::`.

use std::time::Duration;

use orb_domain::ids::UserId;
use orb_store::Caller;
use orb_tests::{TestApp, TestDatabase, spawn_app};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use secrecy::ExposeSecret;

/// Schemas that hold orb's objects: every schema but PostgreSQL's own.
const OWN_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
                           AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'";

/// The transaction-local settings the service sets for every request (`orb_store::session`).
pub(crate) const TENANT_SETTINGS: [&str; 9] = [
    "orb.user_id",
    "orb.global_roles",
    "orb.member_counties",
    "orb.lead_counties",
    "orb.partner_counties",
    "orb.respondent_response",
    "orb.respondent_administration",
    "orb.respondent_county",
    "orb.respondent_invitation",
];

/// The first column of every row `sql` returns, as text: the offenders a rule found.
async fn offenders(db: &impl ConnectionTrait, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("the catalogue query runs: {e}\n{sql}"))
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("a text column"))
        .collect()
}

/// Runs DDL as the database's owner (a superuser connection), to plant an offender.
async fn plant(db: &TestDatabase, ddl: &str) {
    db.owner().execute_unprepared(ddl).await.unwrap_or_else(|e| panic!("the offender is planted: {e}\n{ddl}"));
}

/// A connection as the runtime role, as the service derives its URL.
async fn runtime(app: &TestApp) -> DatabaseConnection {
    let url = orb_server::database::runtime_url(&app.settings).await.expect("the runtime role's URL");
    Database::connect(url.expose_secret()).await.expect("the runtime role connects")
}

const RUNTIME_ROLE_PRIVILEGES: &str = "
    SELECT r.rolname || ': ' || concat_ws(', ',
             CASE WHEN r.rolsuper THEN 'superuser' END,
             CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END,
             CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END,
             CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,
             CASE WHEN r.rolreplication THEN 'REPLICATION' END)
    FROM pg_roles r
    WHERE r.rolname = '{role}'
      AND (r.rolsuper OR r.rolbypassrls OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication)";

const RUNTIME_ROLE_OWNS: &str = "
    SELECT 'owns ' || kind || ' ' || name FROM (
        SELECT 'relation' AS kind, c.oid::regclass::text AS name, c.relowner AS owner
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
        UNION ALL SELECT 'function', p.oid::regprocedure::text, p.proowner FROM pg_proc p
        UNION ALL SELECT 'schema', n.nspname::text, n.nspowner FROM pg_namespace n
        UNION ALL SELECT 'type', t.oid::regtype::text, t.typowner FROM pg_type t
    ) o
    WHERE pg_has_role('{role}', o.owner, 'USAGE')
    ORDER BY 1";

#[tokio::test]
async fn the_runtime_role_is_no_superuser_bypasses_nothing_and_owns_nothing() {
    // `pg_has_role(…, 'USAGE')` also catches ownership through membership of the owner's role
    // (with SET ROLE the runtime role would be the owner, whose policies read every row).
    let app = spawn_app().await;
    let runtime = runtime(&app).await;
    let me = offenders(&runtime, "SELECT current_user::text").await;
    assert_eq!(me, ["orb_app"], "the service's runtime URL logs in as orb_app");

    let db = app.db.owner();
    let privileges = RUNTIME_ROLE_PRIVILEGES.replace("{role}", "orb_app");
    let owns = RUNTIME_ROLE_OWNS.replace("{role}", "orb_app");
    assert_eq!(offenders(db, &privileges).await, Vec::<String>::new(), "the runtime role's attributes");
    assert_eq!(offenders(db, &owns).await, Vec::<String>::new(), "what the runtime role owns");

    // The gate sees what it guards against, on a role of its own (roles are cluster-wide, and
    // other tests use orb_app at the same time): one that bypasses RLS, and one that may act as
    // the schema owner.
    let stand_in = format!("orb_gate_{}", uuid::Uuid::new_v4().simple());
    let owner = app.db.scalar_text("SELECT relowner::regrole::text FROM pg_class WHERE relname = 'responses'").await;
    plant(&app.db, &format!("CREATE ROLE {stand_in} NOLOGIN BYPASSRLS; GRANT {owner} TO {stand_in}")).await;
    let attributes = offenders(db, &RUNTIME_ROLE_PRIVILEGES.replace("{role}", &stand_in)).await;
    let owned = offenders(db, &RUNTIME_ROLE_OWNS.replace("{role}", &stand_in)).await;
    plant(&app.db, &format!("REVOKE {owner} FROM {stand_in}; DROP ROLE {stand_in}")).await;
    assert_eq!(attributes, [format!("{stand_in}: BYPASSRLS")], "a role that bypasses RLS is found");
    assert!(
        owned.contains(&"owns relation responses".to_owned()),
        "membership of the owner's role is found: {owned:?}"
    );
}

const COUNTY_TABLES_WITHOUT_FORCED_RLS: &str = "
    SELECT DISTINCT c.oid::regclass::text || CASE WHEN NOT c.relrowsecurity THEN ': not enabled'
                                                  ELSE ': not forced' END
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relkind IN ('r', 'p') AND a.attname LIKE '%county\\_id' AND {own}
      AND NOT (c.relrowsecurity AND c.relforcerowsecurity)
    ORDER BY 1";

#[tokio::test]
async fn every_table_with_a_county_id_has_row_level_security_enabled_and_forced() {
    let db = TestDatabase::clone_template().await;
    let sql = COUNTY_TABLES_WITHOUT_FORCED_RLS.replace("{own}", OWN_SCHEMAS);
    let county_tables = db
        .scalar_i64(&format!(
            "SELECT count(DISTINCT c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_attribute a ON a.attrelid = c.oid AND NOT a.attisdropped \
             WHERE c.relkind IN ('r', 'p') AND a.attname LIKE '%county\\_id' AND {OWN_SCHEMAS}"
        ))
        .await;
    assert!(county_tables >= 20, "the rule reads every county table (found {county_tables})");
    assert_eq!(offenders(db.owner(), &sql).await, Vec::<String>::new(), "county tables without forced RLS");

    plant(&db, "ALTER TABLE org_units NO FORCE ROW LEVEL SECURITY").await;
    plant(&db, "CREATE TABLE orb.smuggled (county_id uuid, note text)").await;
    assert_eq!(
        offenders(db.owner(), &sql).await,
        ["orb.smuggled: not enabled", "org_units: not forced"],
        "the gate names each offending table"
    );
}

const POLICIES_CALLING_VOLATILE_FUNCTIONS: &str = "
    SELECT DISTINCT pol.polrelid::regclass::text || '.' || pol.polname || ' calls ' || p.oid::regprocedure::text
    FROM pg_policy pol
    CROSS JOIN LATERAL regexp_matches(
        coalesce(pol.polqual::text, '') || ' ' || coalesce(pol.polwithcheck::text, ''),
        ':(?:funcid|opfuncid|aggfnoid|winfnoid) (\\d+)', 'g') AS m(ids)
    JOIN pg_proc p ON p.oid = m.ids[1]::oid
    WHERE p.provolatile {volatility}
    ORDER BY 1";

#[tokio::test]
async fn no_policy_calls_a_volatile_function() {
    // Node trees name every function a policy calls, operators' functions included; the query
    // reads them rather than the policy's text, so a qualified or aliased name cannot hide one.
    let db = TestDatabase::clone_template().await;
    let called = offenders(db.owner(), &POLICIES_CALLING_VOLATILE_FUNCTIONS.replace("{volatility}", "<> 'v'")).await;
    for expected in ["orb.lead_counties()", "orb.has_global_role(text)", "orb.is_authenticated()"] {
        assert!(called.iter().any(|c| c.ends_with(expected)), "the gate sees policies call {expected}");
    }
    let volatile = POLICIES_CALLING_VOLATILE_FUNCTIONS.replace("{volatility}", "= 'v'");
    assert_eq!(offenders(db.owner(), &volatile).await, Vec::<String>::new(), "policies calling VOLATILE functions");

    plant(&db, "CREATE POLICY coin_toss ON org_units FOR SELECT USING (random() < 0.5)").await;
    assert_eq!(
        offenders(db.owner(), &volatile).await,
        ["org_units.coin_toss calls random()"],
        "the gate names the policy and the function"
    );
}

const VIEWS_WITHOUT_SECURITY_INVOKER: &str = "
    SELECT c.oid::regclass::text || CASE c.relkind WHEN 'm' THEN ' (materialized: never under RLS)' ELSE '' END
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm') AND {own}
      AND (c.relkind = 'm' OR NOT coalesce(array_to_string(c.reloptions, ',') ~ '(^|,)security_invoker=(true|on|1|yes)', false))
    ORDER BY 1";

#[tokio::test]
async fn every_view_is_security_invoker() {
    // A view runs with its owner's rights unless `security_invoker`: through it, the runtime role
    // would read as the owner, whose `owner_reads` policies see every county.
    let db = TestDatabase::clone_template().await;
    let sql = VIEWS_WITHOUT_SECURITY_INVOKER.replace("{own}", OWN_SCHEMAS);
    assert_eq!(offenders(db.owner(), &sql).await, Vec::<String>::new(), "views running as their owner");

    plant(&db, "CREATE VIEW invoker_units WITH (security_invoker = true) AS SELECT id FROM org_units").await;
    plant(&db, "CREATE VIEW owner_units AS SELECT id FROM org_units").await;
    plant(&db, "CREATE MATERIALIZED VIEW frozen_units AS SELECT id FROM org_units").await;
    assert_eq!(
        offenders(db.owner(), &sql).await,
        ["frozen_units (materialized: never under RLS)", "owner_units"],
        "the gate names views that would read as their owner, and passes a security_invoker one"
    );
}

const DEFINER_FUNCTIONS_WITHOUT_A_SAFE_SEARCH_PATH: &str = "
    SELECT p.oid::regprocedure::text || ': ' || coalesce(
        (SELECT s FROM unnest(p.proconfig) s WHERE s LIKE 'search\\_path=%'), 'search_path not pinned')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prosecdef AND {own}
      AND NOT coalesce((SELECT s ~ ', *pg_temp$' FROM unnest(p.proconfig) s WHERE s LIKE 'search\\_path=%'), false)
    ORDER BY 1";

#[tokio::test]
async fn every_security_definer_function_pins_its_search_path_with_pg_temp_last() {
    // A SECURITY DEFINER function runs as the schema owner. Its search_path is pinned so a
    // caller's path cannot redirect its names, and it lists `pg_temp` last: otherwise PostgreSQL
    // searches the caller's temporary schema *first* for tables, and a temporary `users` or
    // `responses` made by the caller would stand in for the real one.
    let db = TestDatabase::clone_template().await;
    let definers = db
        .scalar_i64(&format!(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.prosecdef AND {OWN_SCHEMAS}"
        ))
        .await;
    assert!(definers >= 10, "the rule reads the database's own functions (found {definers})");
    let sql = DEFINER_FUNCTIONS_WITHOUT_A_SAFE_SEARCH_PATH.replace("{own}", OWN_SCHEMAS);
    assert_eq!(offenders(db.owner(), &sql).await, Vec::<String>::new(), "definer functions with an unsafe search_path");

    plant(
        &db,
        "CREATE FUNCTION orb.unpinned() RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER \
         AS $$ SELECT count(*) FROM public.org_units $$",
    )
    .await;
    plant(
        &db,
        "CREATE FUNCTION orb.temp_first() RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER \
         SET search_path = pg_catalog, public AS $$ SELECT count(*) FROM public.org_units $$",
    )
    .await;
    assert_eq!(
        offenders(db.owner(), &sql).await,
        ["orb.temp_first(): search_path=pg_catalog, public", "orb.unpinned(): search_path not pinned"],
        "the gate names each function and its path"
    );
}

/// Every table under row-level security the runtime role may read, with its row count as seen
/// by `db`, where the count is not zero.
async fn visible_rows(db: &impl ConnectionTrait, tables: &[String]) -> Vec<String> {
    let mut seen = Vec::new();
    for table in tables {
        let rows = offenders(db, &format!("SELECT count(*)::text FROM {table}")).await;
        if rows.first().is_some_and(|n| n != "0") {
            seen.push(format!("{table}: {} rows", rows[0]));
        }
    }
    seen
}

#[tokio::test]
async fn policies_treat_an_absent_or_empty_tenant_setting_as_no_access() {
    let app = spawn_app().await;
    let tables = offenders(
        app.db.owner(),
        &format!(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity AND {OWN_SCHEMAS} \
               AND (has_table_privilege('orb_app', c.oid, 'SELECT') \
                    OR has_any_column_privilege('orb_app', c.oid, 'SELECT')) \
             ORDER BY 1"
        ),
    )
    .await;
    assert!(tables.len() >= 20, "the rule reads every table under RLS the runtime role may read: {tables:?}");
    let with_rows: Vec<&String> = {
        let mut with_rows = Vec::new();
        for table in &tables {
            if app.db.scalar_i64(&format!("SELECT count(*) FROM {table}")).await > 0 {
                with_rows.push(table);
            }
        }
        with_rows
    };
    assert!(with_rows.len() >= 15, "most of them hold demo rows there were to hide: {with_rows:?}");

    let runtime = runtime(&app).await;
    assert_eq!(visible_rows(&runtime, &tables).await, Vec::<String>::new(), "rows seen with no setting ever made");

    let tx = runtime.begin().await.expect("a transaction");
    for setting in TENANT_SETTINGS {
        tx.execute_unprepared(&format!("SELECT set_config('{setting}', '', true)")).await.expect("set");
    }
    assert_eq!(visible_rows(&tx, &tables).await, Vec::<String>::new(), "rows seen with every setting empty");
    tx.rollback().await.expect("rolled back");

    // The same connection with a county lead's settings does see rows: the emptiness above is
    // the policies' doing, not an unreadable table.
    let county = app.county_id("calaveras").await;
    let tx = runtime.begin().await.expect("a transaction");
    tx.execute_unprepared(&format!(
        "SELECT set_config('orb.member_counties', '{county}', true), set_config('orb.lead_counties', '{county}', true)"
    ))
    .await
    .expect("set");
    let seen = visible_rows(&tx, &tables).await;
    assert!(seen.iter().any(|t| t.starts_with("memberships:")), "a lead's settings open their county's rows: {seen:?}");
    tx.rollback().await.expect("rolled back");
}

#[tokio::test]
async fn tenant_settings_are_transaction_local_and_leave_the_connection_clean() {
    // The store's sessions set every tenant setting with `set_config(…, true)`. Ending the
    // session's transaction from inside it and reading the settings on the same connection shows
    // what would be left for the next user of that pooled connection: nothing.
    let app = spawn_app().await;
    let store = app.runtime_store(1, Duration::from_millis(1_234)).await;
    let lead: UserId = app
        .db
        .scalar_text("SELECT id::text FROM users WHERE email = 'lead@calaveras.demo.orb'")
        .await
        .parse()
        .expect("a user id");
    let session = store.begin(Caller::User(lead), None).await.expect("a session opens");
    let read = format!(
        "SELECT concat_ws(' ', {}, 'statement_timeout=' || current_setting('statement_timeout'))",
        TENANT_SETTINGS
            .iter()
            .map(|s| format!("'{s}=' || coalesce(current_setting('{s}', true), '')"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let during = offenders(session.db(), &read).await.join("");
    let county = app.county_id("calaveras").await;
    assert!(during.contains(&format!("orb.lead_counties={county}")), "inside the request: {during}");
    assert!(during.contains("statement_timeout=1234ms"), "the request's statement timeout: {during}");

    session.db().execute_unprepared("COMMIT").await.expect("the transaction ends");
    let after = offenders(session.db(), &read).await.join("");
    let clean = TENANT_SETTINGS.iter().map(|s| format!("{s}=")).collect::<Vec<_>>().join(" ");
    assert_eq!(after, format!("{clean} statement_timeout=0"), "what the next user of the connection would inherit");
}
