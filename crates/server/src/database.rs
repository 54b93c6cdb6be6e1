//! Getting PostgreSQL ready: create the database in development, apply migrations as the
//! schema owner, and connect as the runtime role, refusing to run if that role could bypass
//! row-level security.

use std::time::Duration;

use orb_migration::{Migrator, MigratorTrait};
use orb_store::{Store, StoreOptions};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::config::Settings;

/// The runtime role the migrations grant to.
pub const RUNTIME_ROLE: &str = "orb_app";

/// Why the database could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// A URL could not be parsed.
    #[error("database URL: {0}")]
    Url(String),
    /// PostgreSQL refused or failed.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// The runtime role is unsafe or cannot be derived.
    #[error("{0}")]
    Role(String),
    /// A setting the store needs is unusable.
    #[error("{0}")]
    Config(String),
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] orb_store::StoreError),
}

async fn connect_owner(url: &str) -> Result<DatabaseConnection, DatabaseError> {
    let mut options = orb_store::connect_options(url);
    options.max_connections(1).connect_timeout(Duration::from_secs(10)).sqlx_logging(false);
    Ok(Database::connect(options).await?)
}

/// Creates the database named in `owner_url` if it does not exist yet.
pub async fn ensure_database(owner_url: &SecretString) -> Result<(), DatabaseError> {
    let url = Url::parse(owner_url.expose_secret()).map_err(|e| DatabaseError::Url(e.to_string()))?;
    let name = url.path().trim_start_matches('/').to_owned();
    if name.is_empty() {
        return Err(DatabaseError::Url("the URL names no database".into()));
    }
    let mut maintenance = url.clone();
    maintenance.set_path("/postgres");
    let db = connect_owner(maintenance.as_str()).await?;
    let exists = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 AS one FROM pg_database WHERE datname = $1",
            [name.clone().into()],
        ))
        .await?
        .is_some();
    if !exists {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        match db.execute_unprepared(&format!("CREATE DATABASE {quoted}")).await {
            Ok(_) => tracing::info!(database = %name, "created database"),
            // Another process created it meanwhile.
            Err(e) if orb_store::error::sqlstate(&e).as_deref() == Some("42P04") => {}
            Err(e) => return Err(e.into()),
        }
    }
    db.close().await?;
    Ok(())
}

/// Applies pending migrations as the schema owner.
pub async fn migrate(owner_url: &SecretString) -> Result<(), DatabaseError> {
    let db = connect_owner(owner_url.expose_secret()).await?;
    // One migrator at a time across processes (several replicas starting together).
    db.execute_unprepared("SELECT pg_advisory_lock(7214830)").await?;
    let result = Migrator::up(&db, None).await;
    db.execute_unprepared("SELECT pg_advisory_unlock(7214830)").await?;
    result?;
    db.close().await?;
    tracing::info!(migrations = orb_migration::names().len(), "database schema is current");
    Ok(())
}

/// The runtime role's URL: configured, or derived from the owner's URL after giving `orb_app`
/// a login with the configured password (the owner must be allowed to manage roles).
pub async fn runtime_url(settings: &Settings) -> Result<SecretString, DatabaseError> {
    if let Some(url) = &settings.runtime_database_url {
        return Ok(url.clone());
    }
    let owner = settings.database_url.expose_secret();
    let db = connect_owner(owner).await?;
    let password = settings.runtime_database_password.expose_secret().to_owned();
    let statement = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD %L', $1::text, $2::text) AS sql",
            [RUNTIME_ROLE.into(), password.clone().into()],
        ))
        .await?
        .ok_or_else(|| DatabaseError::Role("could not prepare the runtime role".into()))?
        .try_get::<String>("", "sql")?;
    // Role changes are cluster-wide, but advisory locks are per database: two services starting
    // on different databases of one cluster may collide ("tuple concurrently updated"). The
    // statement is idempotent, so retry it.
    let mut attempt = 0;
    loop {
        match db.execute_unprepared(&statement).await {
            Ok(_) => break,
            Err(e) if attempt < 10 && orb_store::error::sqlstate(&e).as_deref() == Some("XX000") => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
            }
            Err(e) => {
                return Err(DatabaseError::Role(format!(
                    "could not give {RUNTIME_ROLE} a login ({e}); set ORB_RUNTIME_DATABASE_URL to a role your DBA created"
                )));
            }
        }
    }
    db.close().await?;
    let mut url = Url::parse(owner).map_err(|e| DatabaseError::Url(e.to_string()))?;
    url.set_username(RUNTIME_ROLE).map_err(|_| DatabaseError::Url("cannot set the user".into()))?;
    url.set_password(Some(&password)).map_err(|_| DatabaseError::Url("cannot set the password".into()))?;
    Ok(SecretString::from(url.to_string()))
}

/// Opens the runtime store and proves its role cannot bypass row-level security.
pub async fn open_store(settings: &Settings, runtime_url: &SecretString) -> Result<Store, DatabaseError> {
    let store = Store::connect(&StoreOptions {
        url: runtime_url.clone(),
        max_connections: settings.database_pool_size,
        acquire_timeout: Duration::from_millis(settings.database_acquire_timeout_ms),
        statement_timeout: settings.request_timeout(),
        frozen_answers: settings.results_cache_responses,
        response_key: settings.privacy.response_key().map_err(|e| DatabaseError::Config(e.to_string()))?,
    })
    .await?;
    Ok(store)
}

/// Refuses a runtime role that is superuser, bypasses RLS, or owns tables.
pub async fn check_runtime_role(runtime_url: &SecretString) -> Result<(), DatabaseError> {
    let db = connect_owner(runtime_url.expose_secret()).await?;
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT r.rolsuper AS superuser, r.rolbypassrls AS bypass, \
                    (SELECT count(*) FROM pg_tables t WHERE t.tableowner = current_user) AS owned \
             FROM pg_roles r WHERE r.rolname = current_user",
        ))
        .await?
        .ok_or_else(|| DatabaseError::Role("the runtime role is not visible".into()))?;
    let (superuser, bypass, owned): (bool, bool, i64) =
        (row.try_get("", "superuser")?, row.try_get("", "bypass")?, row.try_get("", "owned")?);
    db.close().await?;
    if superuser || bypass || owned > 0 {
        return Err(DatabaseError::Role(
            "the runtime database role must not be superuser, must not bypass row-level security and must own no tables"
                .into(),
        ));
    }
    Ok(())
}
