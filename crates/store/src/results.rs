//! Results: the service computes aggregates from the database's one results feed, which
//! checks entitlement itself and returns no ids, times or links; the domain withholds small
//! groups. Reads across counties (a buddy, faculty) are audited.

use chrono::{DateTime, Utc};
use orb_domain::Error as Refusal;
use orb_domain::access::LeadOf;
use orb_domain::ids::{AdministrationId, CountyId};
use orb_domain::results::{AdministrationResults, ScoredResponse, administration_results};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbBackend, Statement, Value};
use serde_json::json;

use crate::audit::{self, AuditEntry};
use crate::collection;
use crate::entities::administrations;
use crate::error::StoreResult;
use crate::instruments;
use crate::session::{Change, Session};

/// The scores of one administration, as the caller may see them.
pub async fn of_administration(session: &Session, id: AdministrationId) -> StoreResult<AdministrationResults> {
    let administration = collection::by_id(session.db(), id).await?.ok_or(Refusal::NotFound("administration"))?;
    let read = session.principal().may_read_results(
        CountyId(administration.county_id),
        administration.status == "closed",
        administration.results_released_at.is_some(),
    )?;
    let version = instruments::version_row(session.db(), administration.instrument_version_id).await?;
    let rows = session
        .db()
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT perspective, org_unit_id, answers FROM orb.results_feed($1)",
            [Value::from(administration.id)],
        ))
        .await?;
    let mut responses = Vec::with_capacity(rows.len());
    for row in rows {
        let answers: serde_json::Value = row.try_get("", "answers")?;
        responses.push(ScoredResponse {
            perspective: row.try_get("", "perspective")?,
            unit: row.try_get("", "org_unit_id")?,
            answers: serde_json::from_value(answers).unwrap_or_default(),
        });
    }
    if read.cross_county {
        let change = session.change().await?;
        audit::record(
            &change,
            AuditEntry {
                action: "results.read",
                county_id: Some(CountyId(administration.county_id)),
                subject_type: "administration",
                subject_id: Some(administration.id.to_string()),
                details: json!({}),
            },
        )
        .await?;
        change.commit().await?;
    }
    let min_group = usize::try_from(administration.min_group_size).unwrap_or(5);
    Ok(administration_results(&version.document, &responses, min_group))
}

/// Releases a closed administration's results to the county's staff, its buddies and faculty.
/// From then on it cannot reopen, so released results never change.
pub async fn release(
    change: &Change,
    lead: &LeadOf,
    id: AdministrationId,
    now: DateTime<Utc>,
) -> StoreResult<administrations::Model> {
    let administration = collection::by_id(change.db(), id)
        .await?
        .filter(|a| a.county_id == lead.county_id().0)
        .ok_or(Refusal::NotFound("administration"))?;
    if administration.status != "closed" {
        return Err(Refusal::conflict("close the survey before releasing its results").into());
    }
    if administration.results_released_at.is_some() {
        return Err(Refusal::conflict("the results are already released").into());
    }
    let mut model: administrations::ActiveModel = administration.into();
    model.results_released_at = Set(Some(now.into()));
    let released = model.update(change.db()).await?;
    audit::record(
        change,
        AuditEntry {
            action: "results.release",
            county_id: Some(lead.county_id()),
            subject_type: "administration",
            subject_id: Some(released.id.to_string()),
            details: json!({}),
        },
    )
    .await?;
    Ok(released)
}
