//! orb's database migrations. Each is a SQL file in `migrations/sql/`, applied in order, forward
//! only (expand/contract: a migration must work with the code that runs before it is live).
//! Migrations run as the schema owner; the service's runtime role `orb_app` only receives the
//! grants each migration gives it.

pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;
use sha2::{Digest, Sha256};

/// One SQL migration, named by its file.
struct SqlMigration {
    name: &'static str,
    sql: &'static str,
}

impl MigrationName for SqlMigration {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SqlMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(self.sql).await.map(|_| ())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

/// Every migration, oldest first. A new migration is appended here and nowhere else.
const MIGRATIONS: &[(&str, &str)] = &[
    ("m0001_foundation", include_str!("../sql/0001_foundation.sql")),
    ("m0002_instruments", include_str!("../sql/0002_instruments.sql")),
    ("m0003_collection", include_str!("../sql/0003_collection.sql")),
    ("m0004_results", include_str!("../sql/0004_results.sql")),
    ("m0005_free_text", include_str!("../sql/0005_free_text.sql")),
    ("m0006_interim_cuts", include_str!("../sql/0006_interim_cuts.sql")),
    ("m0007_results_feed_once", include_str!("../sql/0007_results_feed_once.sql")),
    ("m0008_engagement", include_str!("../sql/0008_engagement.sql")),
    ("m0009_definer_reads", include_str!("../sql/0009_definer_reads.sql")),
    ("m0010_closing_the_loop", include_str!("../sql/0010_closing_the_loop.sql")),
    ("m0011_definer_search_path", include_str!("../sql/0011_definer_search_path.sql")),
    ("m0012_inline_tenant_settings", include_str!("../sql/0012_inline_tenant_settings.sql")),
    ("m0013_open_user_request", include_str!("../sql/0013_open_user_request.sql")),
    ("m0014_respondent_privacy", include_str!("../sql/0014_respondent_privacy.sql")),
];

/// The migrator the `orb` binary and the tests run.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        MIGRATIONS.iter().map(|&(name, sql)| Box::new(SqlMigration { name, sql }) as Box<dyn MigrationTrait>).collect()
    }
}

/// The names of all migrations, oldest first, as recorded in `seaql_migrations`.
pub fn names() -> Vec<&'static str> {
    MIGRATIONS.iter().map(|&(name, _)| name).collect()
}

/// A short hash of every migration's name and text: a migrated database is interchangeable with
/// another of the same fingerprint (the tests key their template database on it).
pub fn fingerprint() -> String {
    let mut hash = Sha256::new();
    for (name, sql) in MIGRATIONS {
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update(sql.as_bytes());
        hash.update([0]);
    }
    hash.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_ordered_and_unique() {
        let names = names();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted, "migration names must be unique and in order");
    }

    #[test]
    fn every_sql_file_is_registered() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sql");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".sql"))
            .collect();
        files.sort();
        let registered: Vec<String> = names().iter().map(|n| format!("{}.sql", n.trim_start_matches('m'))).collect();
        assert_eq!(files, registered, "each file in migrations/sql must be registered in MIGRATIONS");
    }
}
