//! Counting the SQL statements a request issues, so a list that grows one query per row (an
//! N+1) shows in the metrics and fails a test instead of slowing a county's page as it grows.
//!
//! The store's pool reports every statement it runs (sea-orm's metric callback); a statement is
//! credited to the [`StatementCount`] of the task running it, set with [`counted`]. Transaction
//! control (`BEGIN`, savepoints, `COMMIT`) is not counted; statements run outside any
//! [`counted`] future are not either.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

tokio::task_local! {
    static CURRENT: Arc<StatementCount>;
}

/// The statements one request has issued so far.
#[derive(Debug, Default)]
pub struct StatementCount(AtomicU64);

impl StatementCount {
    /// How many statements have been credited.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Runs `work`, crediting every statement it runs on the store to `count`. Work the request
/// hands to other tasks (its DataLoader batches) must be wrapped too.
pub async fn counted<F: Future>(count: Arc<StatementCount>, work: F) -> F::Output {
    CURRENT.scope(count, work).await
}

/// Credits one statement to the running task's count, if it has one.
pub(crate) fn record() {
    // Outside a counted task (start-up, readiness probes, the operator's tools) there is no
    // request to credit.
    let _ = CURRENT.try_with(|count| count.0.fetch_add(1, Ordering::Relaxed));
}
