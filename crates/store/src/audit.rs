//! The audit log: every change records who made it, in which county, in which request, in the
//! same savepoint as the change itself, so the two stand or fall together.

use orb_domain::ids::{CountyId, UserId};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value as Json;

use crate::entities::audit_log;
use crate::error::StoreResult;
use crate::page::{Page, PageRequest};
use crate::session::{Change, Session};

/// One audit entry. `details` never holds passwords, tokens, codes or survey answers.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// What was done, as `noun.verb` (`county.create`, `membership.remove`).
    pub action: &'static str,
    /// The county affected, if the change belongs to one.
    pub county_id: Option<CountyId>,
    /// The kind of thing changed.
    pub subject_type: &'static str,
    /// Its id.
    pub subject_id: Option<String>,
    /// What changed, for a reader of the log.
    pub details: Json,
}

/// Appends `entry` within `change`.
pub async fn record(change: &Change<'_>, entry: AuditEntry) -> StoreResult<()> {
    record_all(change, vec![entry]).await
}

/// Appends `entries` within `change`, in one statement.
pub async fn record_all(change: &Change<'_>, entries: Vec<AuditEntry>) -> StoreResult<()> {
    append(change.db(), change.actor(), change.request_id(), entries).await
}

/// Appends the entries of a read (results from another county, raw answers) to the request's
/// own transaction, with no savepoint of its own: a read has nothing to undo, and if the entries
/// cannot be written the request fails, so no read goes unrecorded.
pub async fn record_reads(session: &Session, entries: Vec<AuditEntry>) -> StoreResult<()> {
    append(session.db(), session.actor(), session.request_id(), entries).await
}

async fn append(
    db: &impl ConnectionTrait,
    actor: Option<UserId>,
    request_id: Option<&str>,
    entries: Vec<AuditEntry>,
) -> StoreResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows = entries.into_iter().map(|entry| audit_log::ActiveModel {
        actor_user_id: Set(actor.map(|id| id.0)),
        county_id: Set(entry.county_id.map(|id| id.0)),
        action: Set(entry.action.to_owned()),
        subject_type: Set(entry.subject_type.to_owned()),
        subject_id: Set(entry.subject_id),
        request_id: Set(request_id.map(str::to_owned)),
        details: Set(entry.details),
        ..Default::default()
    });
    audit_log::Entity::insert_many(rows).exec_without_returning(db).await?;
    Ok(())
}

/// The newest entries first, optionally for one county. What is visible is decided by
/// row-level security (operators: all; leads: their county's), checked by the caller first.
pub async fn list(
    session: &Session,
    county: Option<CountyId>,
    page: &PageRequest,
) -> StoreResult<Page<audit_log::Model>> {
    let mut query = audit_log::Entity::find().order_by_desc(audit_log::Column::Id);
    if let Some(county) = county {
        query = query.filter(audit_log::Column::CountyId.eq(county.0));
    }
    if let Some(after) = page.after_key::<i64>()? {
        query = query.filter(audit_log::Column::Id.lt(after));
    }
    let rows = query.limit(page.limit()).all(session.db()).await?;
    Ok(Page::from_fetched(rows, page))
}
