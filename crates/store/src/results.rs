//! Results: the service computes aggregates from the database's one results feed, which
//! checks entitlement itself and returns no ids, times or links; the domain withholds small
//! groups. Reads across counties (a buddy, faculty) are audited.

use chrono::{DateTime, Utc};
use orb_domain::Error as Refusal;
use orb_domain::access::LeadOf;
use orb_domain::comparison::{DomainChange, Lineup, Wave, lineup, wave_change};
use orb_domain::ids::{AdministrationId, CountyId};
use orb_domain::results::{
    AdministrationResults, FreeText, Released, ScoredResponse, administration_results, free_text,
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbBackend, Statement, Value};
use serde_json::json;

use crate::collection;
use crate::entities::administrations;
use crate::error::StoreResult;
use crate::instruments::{self, VersionRecord};
use crate::session::{Change, Session};

/// One administration's submitted answers as the results feed gives them, with its version,
/// after checking the caller may read its scores (and auditing a read from outside the county).
pub struct LoadedWave {
    /// The administration.
    pub administration: administrations::Model,
    /// The version it ran.
    pub version: VersionRecord,
    /// Its submitted responses: perspective, unit and answers only.
    pub responses: Vec<ScoredResponse>,
}

impl LoadedWave {
    /// The minimum reporting group size.
    pub fn min_group(&self) -> usize {
        usize::try_from(self.administration.min_group_size).unwrap_or(5)
    }

    /// The domain's view of it.
    pub fn wave(&self) -> Wave<'_> {
        Wave { version: &self.version.document, responses: &self.responses }
    }
}

/// Loads one administration for results.
pub async fn load(session: &Session, id: AdministrationId) -> StoreResult<LoadedWave> {
    let administration = collection::by_id(session.db(), id).await?.ok_or(Refusal::NotFound("administration"))?;
    let read = session.principal().may_read_results(
        CountyId(administration.county_id),
        scores_available(&administration),
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
        record_read(session, "results.read", &administration).await?;
    }
    Ok(LoadedWave { administration, version, responses })
}

/// Whether scores can be read at all: the survey has closed, or an interim cut is frozen.
pub fn scores_available(administration: &administrations::Model) -> bool {
    administration.status == "closed" || administration.interim_cut_at.is_some()
}

/// Freezes an interim cut of an open survey: its scores, from the responses submitted so far,
/// become readable and never change as more answers arrive. One cut per survey.
pub async fn cut(
    change: &Change,
    lead: &LeadOf,
    id: AdministrationId,
    now: DateTime<Utc>,
) -> StoreResult<administrations::Model> {
    let administration = collection::lock_own(change, lead, id).await?;
    if administration.status != "open" {
        return Err(Refusal::conflict("an interim cut is taken while the survey is open").into());
    }
    if administration.interim_cut_at.is_some() {
        return Err(Refusal::conflict(
            "the survey already has an interim cut; a second would reveal the answers between the two",
        )
        .into());
    }
    change
        .db()
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO results_cuts (county_id, administration_id, response_id) \
             SELECT county_id, administration_id, id FROM responses \
             WHERE county_id = $1 AND administration_id = $2 AND status = 'submitted'",
            [Value::from(administration.county_id), Value::from(administration.id)],
        ))
        .await?;
    let mut model: administrations::ActiveModel = administration.into();
    model.interim_cut_at = Set(Some(now.into()));
    let updated = model.update(change.db()).await?;
    collection::record(change, "results.interim_cut", &updated, json!({})).await?;
    Ok(updated)
}

/// The smallest group whose free text is shown: the lead's setting, or the larger of 5 and the
/// score minimum.
pub fn free_text_minimum(administration: &administrations::Model) -> usize {
    let floor = administration.min_group_size.max(5);
    usize::try_from(administration.free_text_min_group_size.unwrap_or(floor).max(administration.min_group_size))
        .unwrap_or(5)
}

/// The free-text answers of one administration, if the caller may read them.
pub async fn free_text_of(session: &Session, id: AdministrationId) -> StoreResult<Vec<FreeText>> {
    let administration = collection::by_id(session.db(), id).await?.ok_or(Refusal::NotFound("administration"))?;
    session.principal().may_read_free_text(
        CountyId(administration.county_id),
        scores_available(&administration),
        administration.results_released_at.is_some(),
        administration.share_free_text_with_buddies,
    )?;
    let wave = load(session, id).await?;
    Ok(free_text(
        &wave.version.document,
        &wave.responses,
        free_text_minimum(&wave.administration),
        &mut rand::rngs::OsRng,
    ))
}

/// Sets the free-text policy: its minimum group (never below the score minimum) and whether
/// the county's buddies may read it.
pub async fn set_free_text_policy(
    change: &Change,
    lead: &LeadOf,
    id: AdministrationId,
    minimum: Option<i32>,
    share_with_buddies: Option<bool>,
) -> StoreResult<administrations::Model> {
    let administration = collection::lock_own(change, lead, id).await?;
    if let Some(m) = minimum
        && m < administration.min_group_size
    {
        return Err(Refusal::invalid(
            "minGroupSize",
            format!("must be at least the survey's minimum reporting group ({})", administration.min_group_size),
        )
        .into());
    }
    let mut model: administrations::ActiveModel = administration.into();
    if let Some(m) = minimum {
        model.free_text_min_group_size = Set(Some(m));
    }
    if let Some(shared) = share_with_buddies {
        model.share_free_text_with_buddies = Set(shared);
    }
    let updated = model.update(change.db()).await?;
    collection::record(
        change,
        "free_text.policy",
        &updated,
        json!({ "minGroupSize": minimum, "shareWithBuddies": share_with_buddies }),
    )
    .await?;
    Ok(updated)
}

/// The scores of one administration, as the caller may see them.
pub async fn of_administration(session: &Session, id: AdministrationId) -> StoreResult<AdministrationResults> {
    let wave = load(session, id).await?;
    Ok(administration_results(&wave.version.document, &wave.responses, wave.min_group()))
}

/// How a county's domains moved from an earlier wave to a later one, on shared concepts.
pub async fn change_between(
    session: &Session,
    earlier: AdministrationId,
    later: AdministrationId,
) -> StoreResult<Vec<(String, Released<DomainChange>)>> {
    let (before, after) = (load(session, earlier).await?, load(session, later).await?);
    if before.administration.county_id != after.administration.county_id {
        return Err(Refusal::invalid(
            "earlierId",
            "compare waves of the same county; use compareCounties across counties",
        )
        .into());
    }
    let min_group = before.min_group().max(after.min_group());
    Ok(wave_change(before.wave(), after.wave(), min_group))
}

/// Administrations (one per county, typically each county's latest) lined up on one domain.
pub async fn lineup_on(
    session: &Session,
    ids: &[AdministrationId],
    domain: &str,
) -> StoreResult<Lineup<administrations::Model>> {
    if ids.is_empty() || ids.len() > 200 {
        return Err(Refusal::invalid("administrationIds", "give between 1 and 200 administrations").into());
    }
    let mut waves = Vec::with_capacity(ids.len());
    for id in ids {
        waves.push(load(session, *id).await?);
    }
    let keyed: Vec<(administrations::Model, Wave<'_>)> =
        waves.iter().map(|w| (w.administration.clone(), w.wave())).collect();
    let minimum = |a: &administrations::Model| usize::try_from(a.min_group_size).unwrap_or(5);
    Ok(lineup(&keyed, domain, &minimum))
}

/// Releases a closed administration's results to the county's staff, its buddies and faculty.
/// From then on it cannot reopen, so released results never change.
pub async fn release(
    change: &Change,
    lead: &LeadOf,
    id: AdministrationId,
    now: DateTime<Utc>,
) -> StoreResult<administrations::Model> {
    let administration = collection::lock_own(change, lead, id).await?;
    if !scores_available(&administration) {
        return Err(Refusal::conflict("close the survey, or take an interim cut, before releasing its results").into());
    }
    if administration.results_released_at.is_some() {
        return Err(Refusal::conflict("the results are already released").into());
    }
    let mut model: administrations::ActiveModel = administration.into();
    model.results_released_at = Set(Some(now.into()));
    let released = model.update(change.db()).await?;
    collection::record(change, "results.release", &released, json!({})).await?;
    Ok(released)
}

/// What a raw export needs to start: the administration and its version, after checking the
/// caller leads its county, and an audit entry saying the lead exported raw answers.
pub async fn start_raw_export(
    session: &Session,
    lead_of: impl Fn(CountyId) -> Result<LeadOf, Refusal>,
    id: AdministrationId,
) -> StoreResult<(administrations::Model, VersionRecord)> {
    let administration = collection::by_id(session.db(), id).await?.ok_or(Refusal::NotFound("administration"))?;
    lead_of(CountyId(administration.county_id))?;
    let version = instruments::version_row(session.db(), administration.instrument_version_id).await?;
    record_read(session, "export.raw", &administration).await?;
    Ok((administration, version))
}

/// One page of an administration's submitted responses for the lead's raw export, in a stable
/// order after `after` (keyset paging, so the export can stream page by page).
pub async fn raw_page(
    session: &Session,
    lead: &LeadOf,
    id: AdministrationId,
    after: Option<uuid::Uuid>,
    limit: u64,
) -> StoreResult<Vec<crate::entities::responses::Model>> {
    use crate::entities::responses;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    let mut query = responses::Entity::find()
        .filter(responses::Column::CountyId.eq(lead.county_id().0))
        .filter(responses::Column::AdministrationId.eq(id.0))
        .filter(responses::Column::Status.eq("submitted"))
        .order_by_asc(responses::Column::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(responses::Column::Id.gt(after));
    }
    Ok(query.all(session.db()).await?)
}

/// Audits a read of an administration's data in its own change (reads otherwise write nothing).
async fn record_read(
    session: &Session,
    action: &'static str,
    administration: &administrations::Model,
) -> StoreResult<()> {
    let change = session.change().await?;
    collection::record(&change, action, administration, json!({})).await?;
    change.commit().await
}
