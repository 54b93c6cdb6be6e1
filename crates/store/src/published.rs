//! Published instrument documents, kept in memory once read. A published (or retired) version
//! never changes — a trigger refuses it (migration 0002) — so its document can be reused by
//! every later request instead of being read and parsed again: a respondent's save and
//! submission validate against it, and a lead's raw answers are ordered by it.
//!
//! The cache holds content, never entitlement. It is asked only for the version of an
//! administration the caller has just read under row-level security in the same request, and
//! whoever may read an administration may read the version it runs. Drafts are never kept.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use orb_domain::instrument::InstrumentDocument;
use sea_orm::ConnectionTrait;

use crate::error::StoreResult;
use crate::instruments;

/// Documents kept: enough for every county's adaptations and the state's versions.
const KEPT: NonZeroUsize = NonZeroUsize::MIN.saturating_add(255);

/// The service's published documents by version id, least recently used leaving first.
#[derive(Debug)]
pub struct PublishedDocuments {
    held: Mutex<LruCache<uuid::Uuid, Arc<InstrumentDocument>>>,
}

impl Default for PublishedDocuments {
    fn default() -> Self {
        Self { held: Mutex::new(LruCache::new(KEPT)) }
    }
}

impl PublishedDocuments {
    /// The document of version `id` of an administration the caller has read: from memory, or
    /// read through `db` (under the caller's row-level security) and kept if published.
    pub(crate) async fn of_administrations_version(
        &self,
        db: &impl ConnectionTrait,
        id: uuid::Uuid,
    ) -> StoreResult<Arc<InstrumentDocument>> {
        if let Some(document) = self.held.lock().ok().and_then(|mut held| held.get(&id).cloned()) {
            return Ok(document);
        }
        let version = instruments::version_row(db, id).await?;
        let document = Arc::new(version.document);
        if version.model.status != "draft"
            && let Ok(mut held) = self.held.lock()
        {
            held.put(id, Arc::clone(&document));
        }
        Ok(document)
    }
}
