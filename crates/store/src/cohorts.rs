//! Cohorts (state initiatives grouping counties, with their faculty) and the buddy pairings
//! inside them. Readable by every signed-in user; managed by faculty.

use chrono::NaiveDate;
use orb_domain::Error as Refusal;
use orb_domain::access::Faculty;
use orb_domain::county::check_pairing;
use orb_domain::ids::{CohortId, CountyId, PairingId, UserId};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use crate::audit::{self, AuditEntry};
use crate::entities::{buddy_pairings, cohort_counties, cohort_faculty, cohorts};
use crate::error::{FOREIGN_KEY_VIOLATION, StoreError, StoreResult, conflict_on, refuse_on, sqlstate};
use crate::page::{Page, PageRequest};
use crate::session::{Change, Session};

/// Cohorts in name order.
pub async fn list(session: &Session, page: &PageRequest) -> StoreResult<Page<cohorts::Model>> {
    session.principal().as_signed_in()?;
    let mut query = cohorts::Entity::find().order_by_asc(cohorts::Column::Name);
    if let Some(after) = &page.after {
        query = query.filter(cohorts::Column::Name.gt(after.as_str()));
    }
    let rows = query.limit(page.limit()).all(session.db()).await?;
    Ok(Page::from_fetched(rows, page))
}

/// Cohorts by id, for batched loading.
pub async fn by_ids(session: &Session, ids: &[CohortId]) -> StoreResult<Vec<cohorts::Model>> {
    session.principal().as_signed_in()?;
    Ok(cohorts::Entity::find().filter(cohorts::Column::Id.is_in(ids.iter().map(|id| id.0))).all(session.db()).await?)
}

/// County memberships of cohorts, for batched loading.
pub async fn counties_of(session: &Session, cohorts: &[CohortId]) -> StoreResult<Vec<cohort_counties::Model>> {
    session.principal().as_signed_in()?;
    Ok(cohort_counties::Entity::find()
        .filter(cohort_counties::Column::CohortId.is_in(cohorts.iter().map(|id| id.0)))
        .all(session.db())
        .await?)
}

/// Cohorts each county belongs to, for batched loading.
pub async fn cohorts_of_counties(session: &Session, counties: &[CountyId]) -> StoreResult<Vec<cohort_counties::Model>> {
    session.principal().as_signed_in()?;
    Ok(cohort_counties::Entity::find()
        .filter(cohort_counties::Column::CountyId.is_in(counties.iter().map(|id| id.0)))
        .all(session.db())
        .await?)
}

/// Faculty of cohorts, for batched loading.
pub async fn faculty_of(session: &Session, cohorts: &[CohortId]) -> StoreResult<Vec<cohort_faculty::Model>> {
    session.principal().as_signed_in()?;
    Ok(cohort_faculty::Entity::find()
        .filter(cohort_faculty::Column::CohortId.is_in(cohorts.iter().map(|id| id.0)))
        .all(session.db())
        .await?)
}

/// A cohort as faculty create it.
#[derive(Debug, Clone)]
pub struct NewCohort {
    /// Unique name.
    pub name: String,
    /// First day, if set.
    pub starts_on: Option<NaiveDate>,
    /// Last day, if set.
    pub ends_on: Option<NaiveDate>,
}

/// Creates a cohort.
pub async fn create(change: &Change<'_>, _faculty: &Faculty, new: NewCohort) -> StoreResult<cohorts::Model> {
    let id = CohortId::new();
    let model = cohorts::ActiveModel {
        id: Set(id.0),
        name: Set(new.name.clone()),
        starts_on: Set(new.starts_on),
        ends_on: Set(new.ends_on),
        ..Default::default()
    }
    .insert(change.db())
    .await
    .map_err(conflict_on("input.name", "a cohort with this name already exists"))?;
    record(change, "cohort.create", None, "cohort", id.to_string(), json!({ "name": new.name })).await?;
    Ok(model)
}

/// Adds a county to a cohort; adding it again changes nothing.
pub async fn add_county(
    change: &Change<'_>,
    _faculty: &Faculty,
    cohort: CohortId,
    county: CountyId,
) -> StoreResult<()> {
    let inserted = cohort_counties::Entity::insert(cohort_counties::ActiveModel {
        cohort_id: Set(cohort.0),
        county_id: Set(county.0),
        ..Default::default()
    })
    .on_conflict_do_nothing()
    .exec_without_returning(change.db())
    .await
    .map_err(missing_reference)?;
    if matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        record(change, "cohort.add_county", Some(county), "cohort", cohort.to_string(), json!({})).await?;
    }
    Ok(())
}

/// Removes a county from a cohort. Refused while a pairing in the cohort names the county.
pub async fn remove_county(
    change: &Change<'_>,
    _faculty: &Faculty,
    cohort: CohortId,
    county: CountyId,
) -> StoreResult<()> {
    let removed = cohort_counties::Entity::delete_many()
        .filter(cohort_counties::Column::CohortId.eq(cohort.0))
        .filter(cohort_counties::Column::CountyId.eq(county.0))
        .exec(change.db())
        .await
        .map_err(refuse_on(FOREIGN_KEY_VIOLATION, || {
            Refusal::conflict_on("countyId", "the county still has buddy pairings in this cohort")
        }))?
        .rows_affected;
    if removed == 0 {
        return Err(Refusal::NotFound("cohort county").into());
    }
    record(change, "cohort.remove_county", Some(county), "cohort", cohort.to_string(), json!({})).await
}

/// Adds a faculty member to a cohort; adding them again changes nothing.
pub async fn add_faculty(change: &Change<'_>, _faculty: &Faculty, cohort: CohortId, user: UserId) -> StoreResult<()> {
    let inserted = cohort_faculty::Entity::insert(cohort_faculty::ActiveModel {
        cohort_id: Set(cohort.0),
        user_id: Set(user.0),
        ..Default::default()
    })
    .on_conflict_do_nothing()
    .exec_without_returning(change.db())
    .await
    .map_err(missing_reference)?;
    if matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        record(change, "cohort.add_faculty", None, "cohort", cohort.to_string(), json!({ "userId": user })).await?;
    }
    Ok(())
}

/// Removes a faculty member from a cohort.
pub async fn remove_faculty(
    change: &Change<'_>,
    _faculty: &Faculty,
    cohort: CohortId,
    user: UserId,
) -> StoreResult<()> {
    let removed = cohort_faculty::Entity::delete_many()
        .filter(cohort_faculty::Column::CohortId.eq(cohort.0))
        .filter(cohort_faculty::Column::UserId.eq(user.0))
        .exec(change.db())
        .await?
        .rows_affected;
    if removed == 0 {
        return Err(Refusal::NotFound("cohort faculty member").into());
    }
    record(change, "cohort.remove_faculty", None, "cohort", cohort.to_string(), json!({ "userId": user })).await
}

/// Which pairings to list.
#[derive(Debug, Clone, Default)]
pub struct PairingFilter {
    /// Only this cohort's.
    pub cohort: Option<CohortId>,
    /// Only those naming this county on either side.
    pub county: Option<CountyId>,
    /// Only active (`Some(true)`) or ended (`Some(false)`) ones.
    pub active: Option<bool>,
}

/// Pairings, oldest first.
pub async fn pairings(
    session: &Session,
    filter: &PairingFilter,
    page: &PageRequest,
) -> StoreResult<Page<buddy_pairings::Model>> {
    session.principal().as_signed_in()?;
    let mut query = buddy_pairings::Entity::find().order_by_asc(buddy_pairings::Column::Id);
    if let Some(cohort) = filter.cohort {
        query = query.filter(buddy_pairings::Column::CohortId.eq(cohort.0));
    }
    if let Some(county) = filter.county {
        query = query.filter(
            Condition::any()
                .add(buddy_pairings::Column::TestingCountyId.eq(county.0))
                .add(buddy_pairings::Column::BuddyCountyId.eq(county.0)),
        );
    }
    if let Some(active) = filter.active {
        query = query.filter(buddy_pairings::Column::Status.eq(if active { "active" } else { "ended" }));
    }
    if let Some(after) = page.after_key::<uuid::Uuid>()? {
        query = query.filter(buddy_pairings::Column::Id.gt(after));
    }
    let rows = query.limit(page.limit()).all(session.db()).await?;
    Ok(Page::from_fetched(rows, page))
}

/// The pairings of any of `counties` (as testing county or buddy) or of any of `cohorts`, by
/// id, active ones only if asked: for batched loading of each county's or cohort's pairings,
/// which the caller groups (a pairing belongs to both its counties).
pub async fn pairings_of(
    session: &Session,
    counties: &[CountyId],
    cohorts: &[CohortId],
    active_only: bool,
) -> StoreResult<Vec<buddy_pairings::Model>> {
    session.principal().as_signed_in()?;
    if counties.is_empty() && cohorts.is_empty() {
        return Ok(Vec::new());
    }
    let ids = || counties.iter().map(|c| c.0);
    let mut query = buddy_pairings::Entity::find()
        .filter(
            Condition::any()
                .add(buddy_pairings::Column::TestingCountyId.is_in(ids()))
                .add(buddy_pairings::Column::BuddyCountyId.is_in(ids()))
                .add(buddy_pairings::Column::CohortId.is_in(cohorts.iter().map(|c| c.0))),
        )
        .order_by_asc(buddy_pairings::Column::Id);
    if active_only {
        query = query.filter(buddy_pairings::Column::Status.eq("active"));
    }
    Ok(query.all(session.db()).await?)
}

/// The pairing with this id.
pub async fn pairing_by_id(session: &Session, id: PairingId) -> StoreResult<Option<buddy_pairings::Model>> {
    session.principal().as_signed_in()?;
    Ok(buddy_pairings::Entity::find_by_id(id.0).one(session.db()).await?)
}

/// Pairs a testing county with its buddy inside a cohort; both must belong to the cohort.
pub async fn create_pairing(
    change: &Change<'_>,
    _faculty: &Faculty,
    cohort: CohortId,
    testing: CountyId,
    buddy: CountyId,
) -> StoreResult<buddy_pairings::Model> {
    check_pairing(testing, buddy)?;
    let id = PairingId::new();
    let model = buddy_pairings::ActiveModel {
        id: Set(id.0),
        cohort_id: Set(cohort.0),
        testing_county_id: Set(testing.0),
        buddy_county_id: Set(buddy.0),
        status: Set("active".to_owned()),
        ..Default::default()
    }
    .insert(change.db())
    .await
    .map_err(|err| match sqlstate(&err).as_deref() {
        Some("23503") => {
            StoreError::Refused(Refusal::invalid("input", "both counties must belong to the cohort (add them first)"))
        }
        Some("23505") => StoreError::Refused(Refusal::conflict("these counties are already paired in this cohort")),
        _ => StoreError::from(err),
    })?;
    for county in [testing, buddy] {
        record(
            change,
            "buddy_pairing.create",
            Some(county),
            "buddy_pairing",
            id.to_string(),
            json!({ "cohortId": cohort, "testingCountyId": testing, "buddyCountyId": buddy }),
        )
        .await?;
    }
    Ok(model)
}

/// Ends a pairing: from the next request on, neither side reads the other's data.
pub async fn end_pairing(change: &Change<'_>, _faculty: &Faculty, id: PairingId) -> StoreResult<buddy_pairings::Model> {
    let pairing =
        buddy_pairings::Entity::find_by_id(id.0).one(change.db()).await?.ok_or(Refusal::NotFound("buddy pairing"))?;
    if pairing.status == "ended" {
        return Err(Refusal::conflict_on("id", "the pairing has already ended").into());
    }
    let (testing, buddy) = (CountyId(pairing.testing_county_id), CountyId(pairing.buddy_county_id));
    let mut model: buddy_pairings::ActiveModel = pairing.into();
    model.status = Set("ended".to_owned());
    model.ended_at = Set(Some(chrono::Utc::now().into()));
    let ended = model.update(change.db()).await?;
    for county in [testing, buddy] {
        record(change, "buddy_pairing.end", Some(county), "buddy_pairing", id.to_string(), json!({})).await?;
    }
    Ok(ended)
}

async fn record(
    change: &Change<'_>,
    action: &'static str,
    county: Option<CountyId>,
    subject_type: &'static str,
    subject_id: String,
    details: serde_json::Value,
) -> StoreResult<()> {
    audit::record(change, AuditEntry { action, county_id: county, subject_type, subject_id: Some(subject_id), details })
        .await
}

fn missing_reference(err: sea_orm::DbErr) -> StoreError {
    refuse_on(FOREIGN_KEY_VIOLATION, || Refusal::NotFound("cohort, county or user"))(err)
}
