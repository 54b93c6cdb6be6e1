//! Closing the loop: a county's SO WHAT? planning matrices (its lead writes; its members, active
//! buddies and faculty read — buddies and faculty without the rows' notes, their reads audited),
//! each action's status history (append-only), the progress of the planned domains into the
//! county's next wave (through the results loader, so release and small-group rules hold), and
//! the county testing profiles with the buddy county's reflections and every save kept.

use std::collections::{BTreeMap, BTreeSet};

use orb_domain::Error as Refusal;
use orb_domain::access::{LeadOf, PlanRead, ProfileRead};
use orb_domain::closing_the_loop::{ActionStatus, ActionText, ProfileSections, ProfileStatus, Reflections};
use orb_domain::comparison::{DomainChange, shared_concepts, wave_change};
use orb_domain::ids::{
    AdministrationId, CohortId, CountyId, PlanningActionId, PlanningMatrixId, TestingProfileId, UserId,
};
use orb_domain::results::{Released, Withheld};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use crate::audit::{self, AuditEntry};
use crate::collection;
use crate::entities::{
    administrations, buddy_pairings, memberships, planning_action_history, planning_actions, planning_matrices,
    testing_profile_reflections, testing_profile_revisions, testing_profiles,
};
use crate::error::{StoreError, StoreResult, sqlstate};
use crate::instruments;
use crate::results;
use crate::session::{Change, Session};

// ---------------------------------------------------------------------------------------------
// Planning matrices

/// A county's planning matrices, newest first, after checking the caller may read them (and
/// auditing a read from outside the county).
pub async fn matrices(session: &Session, county: CountyId) -> StoreResult<(PlanRead, Vec<planning_matrices::Model>)> {
    let read = session.principal().may_read_plan(county)?;
    let rows = planning_matrices::Entity::find()
        .filter(planning_matrices::Column::CountyId.eq(county.0))
        .order_by_desc(planning_matrices::Column::Id)
        .all(session.db())
        .await?;
    if read.cross_county {
        audit_read(session, county, "county", county.to_string()).await?;
    }
    Ok((read, rows))
}

/// One planning matrix, if the caller may read it (else not found); a read from outside the
/// county is audited.
pub async fn matrix(session: &Session, id: PlanningMatrixId) -> StoreResult<(PlanRead, planning_matrices::Model)> {
    let (read, row) = readable_matrix(session, id).await?;
    if read.cross_county {
        audit_read(session, CountyId(row.county_id), "planning_matrix", id.to_string()).await?;
    }
    Ok((read, row))
}

/// One planning matrix, if the caller may read it, without auditing the read: for a change,
/// which audits what it does (or, refused, does nothing).
pub async fn readable_matrix(
    session: &Session,
    id: PlanningMatrixId,
) -> StoreResult<(PlanRead, planning_matrices::Model)> {
    session.principal().as_signed_in()?;
    let row = planning_matrices::Entity::find()
        .filter(planning_matrices::Column::Id.eq(id.0))
        .one(session.db())
        .await?
        .ok_or(Refusal::NotFound("planning matrix"))?;
    let read = session.principal().may_read_plan(CountyId(row.county_id))?;
    Ok((read, row))
}

async fn audit_read(
    session: &Session,
    county: CountyId,
    subject_type: &'static str,
    subject: String,
) -> StoreResult<()> {
    let change = session.change().await?;
    record(&change, "planning_matrix.read", county, subject_type, subject, json!({})).await?;
    change.commit().await
}

/// The actions of a matrix, in the order they were planned.
pub async fn actions(
    session: &Session,
    matrix: &planning_matrices::Model,
) -> StoreResult<Vec<planning_actions::Model>> {
    Ok(planning_actions::Entity::find()
        .filter(planning_actions::Column::CountyId.eq(matrix.county_id))
        .filter(planning_actions::Column::MatrixId.eq(matrix.id))
        .order_by_asc(planning_actions::Column::Id)
        .all(session.db())
        .await?)
}

/// One action and the matrix it belongs to, if the caller may read them.
pub async fn action(
    session: &Session,
    id: PlanningActionId,
) -> StoreResult<Option<(PlanRead, planning_actions::Model)>> {
    let row = planning_actions::Entity::find().filter(planning_actions::Column::Id.eq(id.0)).one(session.db()).await?;
    Ok(row.and_then(|a| session.principal().may_read_plan(CountyId(a.county_id)).ok().map(|read| (read, a))))
}

/// An action's status changes, oldest first.
pub async fn history(
    session: &Session,
    action: &planning_actions::Model,
) -> StoreResult<Vec<planning_action_history::Model>> {
    Ok(planning_action_history::Entity::find()
        .filter(planning_action_history::Column::CountyId.eq(action.county_id))
        .filter(planning_action_history::Column::ActionId.eq(action.id))
        .order_by_asc(planning_action_history::Column::Id)
        .all(session.db())
        .await?)
}

/// Starts a planning matrix for one of the lead's county's administrations (one per wave).
pub async fn create_matrix(
    change: &Change<'_>,
    lead: &LeadOf,
    administration: AdministrationId,
    title: String,
) -> StoreResult<planning_matrices::Model> {
    let county = lead.county_id();
    let wave = collection::by_id(change.db(), administration).await?.filter(|a| a.county_id == county.0);
    if wave.is_none() {
        return Err(Refusal::invalid("input.administrationId", "no such administration in this county").into());
    }
    let id = PlanningMatrixId::new();
    let model = planning_matrices::ActiveModel {
        county_id: Set(county.0),
        id: Set(id.0),
        administration_id: Set(administration.0),
        title: Set(title),
        ..Default::default()
    }
    .insert(change.db())
    .await
    .map_err(crate::error::conflict_on("input.administrationId", "this wave already has a planning matrix"))?;
    record(
        change,
        "planning_matrix.create",
        county,
        "planning_matrix",
        id.to_string(),
        json!({ "administrationId": administration }),
    )
    .await?;
    Ok(model)
}

/// Plans an action in one of the lead's county's matrices: the domain must be one of the linked
/// wave's version, the owner a member of the county. It starts `PLANNED`, and its history says so.
pub async fn add_action(
    change: &Change<'_>,
    lead: &LeadOf,
    matrix: PlanningMatrixId,
    text: ActionText,
    owner: UserId,
) -> StoreResult<planning_actions::Model> {
    let county = lead.county_id();
    let matrix = planning_matrices::Entity::find()
        .filter(planning_matrices::Column::CountyId.eq(county.0))
        .filter(planning_matrices::Column::Id.eq(matrix.0))
        .one(change.db())
        .await?
        .ok_or(Refusal::NotFound("planning matrix"))?;
    check_action(change, county, &matrix, &text, owner).await?;
    let id = PlanningActionId::new();
    let model = planning_actions::ActiveModel {
        county_id: Set(county.0),
        id: Set(id.0),
        matrix_id: Set(matrix.id),
        domain: Set(text.domain.clone()),
        learned: Set(text.learned),
        so_what: Set(text.so_what),
        now_what: Set(text.now_what),
        owner_user_id: Set(owner.0),
        due_on: Set(text.due_on),
        status: Set(ActionStatus::Planned.as_str().to_owned()),
        notes: Set(text.notes),
        ..Default::default()
    }
    .insert(change.db())
    .await?;
    add_history(change, county, id, None, ActionStatus::Planned).await?;
    record(
        change,
        "planning_action.create",
        county,
        "planning_action",
        id.to_string(),
        json!({ "matrixId": matrix.id, "domain": text.domain, "ownerId": owner, "dueOn": text.due_on }),
    )
    .await?;
    Ok(model)
}

/// Rewrites an action that is not yet final (a done or dropped action is a record).
pub async fn update_action(
    change: &Change<'_>,
    lead: &LeadOf,
    id: PlanningActionId,
    text: ActionText,
    owner: UserId,
) -> StoreResult<planning_actions::Model> {
    let county = lead.county_id();
    let existing = lock_action(change, lead, id).await?;
    let status = stored_status(&existing)?;
    if status.is_final() {
        return Err(Refusal::conflict(format!("the action is {status}, which is final; plan a new action")).into());
    }
    let matrix = planning_matrices::Entity::find()
        .filter(planning_matrices::Column::CountyId.eq(county.0))
        .filter(planning_matrices::Column::Id.eq(existing.matrix_id))
        .one(change.db())
        .await?
        .ok_or(Refusal::NotFound("planning matrix"))?;
    check_action(change, county, &matrix, &text, owner).await?;
    let mut model: planning_actions::ActiveModel = existing.into();
    model.domain = Set(text.domain.clone());
    model.learned = Set(text.learned);
    model.so_what = Set(text.so_what);
    model.now_what = Set(text.now_what);
    model.owner_user_id = Set(owner.0);
    model.due_on = Set(text.due_on);
    model.notes = Set(text.notes);
    model.updated_at = Set(chrono::Utc::now().into());
    let updated = model.update(change.db()).await?;
    record(
        change,
        "planning_action.update",
        county,
        "planning_action",
        id.to_string(),
        json!({ "domain": text.domain, "ownerId": owner, "dueOn": text.due_on }),
    )
    .await?;
    Ok(updated)
}

/// Moves an action to `to`, if the domain's transitions allow it, and records the change.
pub async fn set_action_status(
    change: &Change<'_>,
    lead: &LeadOf,
    id: PlanningActionId,
    to: ActionStatus,
) -> StoreResult<planning_actions::Model> {
    let county = lead.county_id();
    let existing = lock_action(change, lead, id).await?;
    let from = stored_status(&existing)?;
    from.transition(to)?;
    let mut model: planning_actions::ActiveModel = existing.into();
    model.status = Set(to.as_str().to_owned());
    model.updated_at = Set(chrono::Utc::now().into());
    let updated = model.update(change.db()).await?;
    add_history(change, county, id, Some(from), to).await?;
    record(
        change,
        "planning_action.status",
        county,
        "planning_action",
        id.to_string(),
        json!({ "from": from.as_str(), "to": to.as_str() }),
    )
    .await?;
    Ok(updated)
}

async fn check_action(
    change: &Change<'_>,
    county: CountyId,
    matrix: &planning_matrices::Model,
    text: &ActionText,
    owner: UserId,
) -> StoreResult<()> {
    let mut problems = orb_domain::error::Problems::new();
    let wave = collection::by_id(change.db(), AdministrationId(matrix.administration_id))
        .await?
        .ok_or(Refusal::NotFound("administration"))?;
    let version = instruments::version_row(change.db(), wave.instrument_version_id).await?;
    if !version.document.domains.iter().any(|d| d.code == text.domain) {
        let codes: Vec<&str> = version.document.domains.iter().map(|d| d.code.as_str()).collect();
        problems.push("input.domain", format!("is not a domain of the wave's instrument ({})", codes.join(", ")));
    }
    let member = memberships::Entity::find()
        .filter(memberships::Column::CountyId.eq(county.0))
        .filter(memberships::Column::UserId.eq(owner.0))
        .one(change.db())
        .await?;
    if member.is_none() {
        problems.push("input.ownerId", "must be a member of the county");
    }
    Ok(problems.finish()?)
}

async fn lock_action(change: &Change<'_>, lead: &LeadOf, id: PlanningActionId) -> StoreResult<planning_actions::Model> {
    planning_actions::Entity::find()
        .filter(planning_actions::Column::CountyId.eq(lead.county_id().0))
        .filter(planning_actions::Column::Id.eq(id.0))
        .lock_exclusive()
        .one(change.db())
        .await?
        .ok_or_else(|| Refusal::NotFound("planning action").into())
}

fn stored_status(action: &planning_actions::Model) -> StoreResult<ActionStatus> {
    ActionStatus::from_stored(&action.status)
        .ok_or_else(|| StoreError::Refused(Refusal::conflict("the action's status is not recognised")))
}

async fn add_history(
    change: &Change<'_>,
    county: CountyId,
    action: PlanningActionId,
    from: Option<ActionStatus>,
    to: ActionStatus,
) -> StoreResult<()> {
    planning_action_history::Entity::insert(planning_action_history::ActiveModel {
        county_id: Set(county.0),
        action_id: Set(action.0),
        from_status: Set(from.map(|s| s.as_str().to_owned())),
        to_status: Set(to.as_str().to_owned()),
        changed_by: Set(change.actor().map(|u| u.0)),
        ..Default::default()
    })
    .exec_without_returning(change.db())
    .await?;
    Ok(())
}

/// How one planned domain moved from the matrix's wave into the county's next.
#[derive(Debug, Clone)]
pub struct DomainProgress {
    /// The domain's code.
    pub domain: String,
    /// The next closed wave of the county whose instrument shares concepts in the domain.
    pub later: Option<administrations::Model>,
    /// What can be said.
    pub outcome: Progress,
}

/// What the progress of one domain shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// The change, or why it is withheld (a group below the minimum).
    Change(Box<Released<DomainChange>>),
    /// The county has no closed wave after this one that measures the domain's concepts.
    NoLaterWave,
    /// The caller may not read one of the two waves' scores (not released to them).
    NotReadable,
}

/// Each domain's change between two waves, or `None` when the caller may not read them.
type WaveChanges = Option<Vec<(String, Released<DomainChange>)>>;

/// The progress view of a matrix: for each planned domain (in the order first planned), its
/// level at the linked wave and at the county's next closed wave sharing concepts in that
/// domain, and the change — loaded as results are, so release, small-group and audit rules hold.
pub async fn progress(
    session: &Session,
    matrix: &planning_matrices::Model,
) -> StoreResult<(administrations::Model, Vec<DomainProgress>)> {
    session.principal().may_read_plan(CountyId(matrix.county_id))?;
    let mut domains: Vec<String> = Vec::new();
    for action in actions(session, matrix).await? {
        if !domains.contains(&action.domain) {
            domains.push(action.domain);
        }
    }
    let linked = collection::by_id(session.db(), AdministrationId(matrix.administration_id))
        .await?
        .ok_or(Refusal::NotFound("administration"))?;
    let candidates: Vec<administrations::Model> = administrations::Entity::find()
        .filter(administrations::Column::CountyId.eq(matrix.county_id))
        .filter(administrations::Column::Status.eq("closed"))
        .filter(administrations::Column::OpensAt.gt(linked.opens_at))
        .order_by_asc(administrations::Column::OpensAt)
        .all(session.db())
        .await?;
    let version_ids: BTreeSet<uuid::Uuid> =
        candidates.iter().chain([&linked]).map(|a| a.instrument_version_id).collect();
    let versions: BTreeMap<uuid::Uuid, instruments::VersionRecord> =
        instruments::version_rows(session.db(), version_ids).await?.into_iter().map(|v| (v.model.id, v)).collect();
    let document = |a: &administrations::Model| versions.get(&a.instrument_version_id).map(|v| &v.document);
    let Some(linked_document) = document(&linked) else {
        return Err(Refusal::NotFound("instrument version").into());
    };
    // Each domain's next wave; the changes of each later wave are computed once.
    let mut changes: BTreeMap<uuid::Uuid, WaveChanges> = BTreeMap::new();
    let mut out = Vec::with_capacity(domains.len());
    for domain in domains {
        let later = candidates
            .iter()
            .find(|c| document(c).is_some_and(|d| !shared_concepts(&[linked_document, d], &domain).is_empty()));
        let Some(later) = later else {
            out.push(DomainProgress { domain, later: None, outcome: Progress::NoLaterWave });
            continue;
        };
        if let std::collections::btree_map::Entry::Vacant(slot) = changes.entry(later.id) {
            let computed =
                match results::load_many(session, &[AdministrationId(linked.id), AdministrationId(later.id)]).await {
                    Ok(waves) => {
                        let min_group = waves.iter().map(results::LoadedWave::min_group).max().unwrap_or(5);
                        Some(wave_change(waves[0].wave(), waves[1].wave(), min_group))
                    }
                    Err(StoreError::Refused(_)) => None,
                    Err(other) => return Err(other),
                };
            slot.insert(computed);
        }
        let outcome = match changes.get(&later.id) {
            Some(Some(list)) => Progress::Change(Box::new(
                list.iter()
                    .find(|(code, _)| *code == domain)
                    .map(|(_, change)| change.clone())
                    .unwrap_or(Released::Withheld(Withheld::BelowMinimum)),
            )),
            _ => Progress::NotReadable,
        };
        out.push(DomainProgress { domain, later: Some(later.clone()), outcome });
    }
    Ok((linked, out))
}

// ---------------------------------------------------------------------------------------------
// Testing profiles

/// Profiles the caller may read, by county, optionally of one cohort; reads of shared profiles
/// from outside the county are audited.
pub async fn profiles(
    session: &Session,
    cohort: Option<CohortId>,
) -> StoreResult<Vec<(ProfileRead, testing_profiles::Model)>> {
    session.principal().as_signed_in()?;
    let mut query = testing_profiles::Entity::find().order_by_asc(testing_profiles::Column::CountyId);
    if let Some(cohort) = cohort {
        query = query.filter(testing_profiles::Column::CohortId.eq(cohort.0));
    }
    let rows = query.all(session.db()).await?;
    let readable: Vec<(ProfileRead, testing_profiles::Model)> = rows
        .into_iter()
        .filter_map(|p| {
            let status = ProfileStatus::from_stored(&p.status)?;
            session.principal().may_read_profile(CountyId(p.county_id), status).ok().map(|read| (read, p))
        })
        .collect();
    let entries: Vec<AuditEntry> =
        readable.iter().filter(|(read, _)| read.cross_county).map(|(_, p)| profile_read_entry(p)).collect();
    audit::record_reads(session, entries).await?;
    Ok(readable)
}

/// One testing profile, if the caller may read it; a read of a shared profile from outside the
/// county is audited.
pub async fn profile(session: &Session, id: TestingProfileId) -> StoreResult<Option<testing_profiles::Model>> {
    let Some((read, row)) = readable_profile(session, id).await? else { return Ok(None) };
    if read.cross_county {
        let change = session.change().await?;
        audit::record(&change, profile_read_entry(&row)).await?;
        change.commit().await?;
    }
    Ok(Some(row))
}

/// One testing profile, if the caller may read it, without auditing the read: for a change,
/// which audits what it does (or, refused, does nothing).
pub async fn readable_profile(
    session: &Session,
    id: TestingProfileId,
) -> StoreResult<Option<(ProfileRead, testing_profiles::Model)>> {
    session.principal().as_signed_in()?;
    let row = testing_profiles::Entity::find().filter(testing_profiles::Column::Id.eq(id.0)).one(session.db()).await?;
    Ok(row.and_then(|row| {
        let status = ProfileStatus::from_stored(&row.status)?;
        session.principal().may_read_profile(CountyId(row.county_id), status).ok().map(|read| (read, row))
    }))
}

fn profile_read_entry(profile: &testing_profiles::Model) -> AuditEntry {
    AuditEntry {
        action: "testing_profile.read",
        county_id: Some(CountyId(profile.county_id)),
        subject_type: "testing_profile",
        subject_id: Some(profile.id.to_string()),
        details: json!({ "status": profile.status }),
    }
}

/// The buddy county's reflections on a profile, if any.
pub async fn reflections(
    session: &Session,
    profile: &testing_profiles::Model,
) -> StoreResult<Option<testing_profile_reflections::Model>> {
    Ok(testing_profile_reflections::Entity::find()
        .filter(testing_profile_reflections::Column::CountyId.eq(profile.county_id))
        .filter(testing_profile_reflections::Column::ProfileId.eq(profile.id))
        .one(session.db())
        .await?)
}

/// Every save of a profile's sections and reflections, newest first.
pub async fn revisions(
    session: &Session,
    profile: &testing_profiles::Model,
) -> StoreResult<Vec<testing_profile_revisions::Model>> {
    Ok(testing_profile_revisions::Entity::find()
        .filter(testing_profile_revisions::Column::CountyId.eq(profile.county_id))
        .filter(testing_profile_revisions::Column::ProfileId.eq(profile.id))
        .order_by_desc(testing_profile_revisions::Column::Id)
        .all(session.db())
        .await?)
}

/// The county paired with the profile's county as its buddy in the profile's cohort (active).
pub async fn buddy_of(session: &Session, profile: &testing_profiles::Model) -> StoreResult<Option<CountyId>> {
    Ok(buddy_pairings::Entity::find()
        .filter(buddy_pairings::Column::CohortId.eq(profile.cohort_id))
        .filter(buddy_pairings::Column::TestingCountyId.eq(profile.county_id))
        .filter(buddy_pairings::Column::Status.eq("active"))
        .one(session.db())
        .await?
        .map(|p| CountyId(p.buddy_county_id)))
}

/// Starts the lead's county's testing profile for a cohort it belongs to, as a draft.
pub async fn create_profile(
    change: &Change<'_>,
    lead: &LeadOf,
    cohort: CohortId,
    sections: ProfileSections,
) -> StoreResult<testing_profiles::Model> {
    let county = lead.county_id();
    let id = TestingProfileId::new();
    let mut model = testing_profiles::ActiveModel {
        county_id: Set(county.0),
        id: Set(id.0),
        cohort_id: Set(cohort.0),
        status: Set(ProfileStatus::Draft.as_str().to_owned()),
        revision: Set(1),
        ..Default::default()
    };
    set_sections(&mut model, &sections);
    let created = model.insert(change.db()).await.map_err(|err| match sqlstate(&err).as_deref() {
        Some("23505") => {
            StoreError::Refused(Refusal::conflict_on("cohortId", "the county already has a profile for this cohort"))
        }
        Some("23503") => StoreError::Refused(Refusal::invalid("cohortId", "the county is not in this cohort")),
        _ => StoreError::from(err),
    })?;
    add_revision(change, &created, "PROFILE", 1, county, json!(sections)).await?;
    record(change, "testing_profile.create", county, "testing_profile", id.to_string(), json!({ "cohortId": cohort }))
        .await?;
    Ok(created)
}

/// Saves new text for the lead's county's profile; the saved text is kept as a revision.
pub async fn save_profile(
    change: &Change<'_>,
    lead: &LeadOf,
    id: TestingProfileId,
    sections: ProfileSections,
) -> StoreResult<testing_profiles::Model> {
    let county = lead.county_id();
    let existing = lock_profile(change, lead, id).await?;
    let revision = existing.revision + 1;
    let mut model: testing_profiles::ActiveModel = existing.into();
    set_sections(&mut model, &sections);
    model.revision = Set(revision);
    model.updated_at = Set(chrono::Utc::now().into());
    let updated = model.update(change.db()).await?;
    add_revision(change, &updated, "PROFILE", revision, county, json!(sections)).await?;
    record(change, "testing_profile.save", county, "testing_profile", id.to_string(), json!({ "revision": revision }))
        .await?;
    Ok(updated)
}

/// Shares, publishes or withdraws the lead's county's profile, one step at a time.
pub async fn set_profile_status(
    change: &Change<'_>,
    lead: &LeadOf,
    id: TestingProfileId,
    to: ProfileStatus,
) -> StoreResult<testing_profiles::Model> {
    let county = lead.county_id();
    let existing = lock_profile(change, lead, id).await?;
    let from = ProfileStatus::from_stored(&existing.status)
        .ok_or_else(|| StoreError::Refused(Refusal::conflict("the profile's status is not recognised")))?;
    from.transition(to)?;
    let mut model: testing_profiles::ActiveModel = existing.into();
    model.status = Set(to.as_str().to_owned());
    model.updated_at = Set(chrono::Utc::now().into());
    let updated = model.update(change.db()).await?;
    record(
        change,
        "testing_profile.status",
        county,
        "testing_profile",
        id.to_string(),
        json!({ "from": from.as_str(), "to": to.as_str() }),
    )
    .await?;
    Ok(updated)
}

/// Saves the buddy county's reflections on a profile. `buddy` must lead the county paired with
/// the profile's county in its cohort (the caller checks it with [`buddy_of`]); the profile must
/// be shared or published.
pub async fn save_reflections(
    change: &Change<'_>,
    buddy: &LeadOf,
    profile: &testing_profiles::Model,
    text: Reflections,
) -> StoreResult<testing_profile_reflections::Model> {
    if profile.status == ProfileStatus::Draft.as_str() {
        return Err(Refusal::NotFound("testing profile").into());
    }
    let existing = testing_profile_reflections::Entity::find()
        .filter(testing_profile_reflections::Column::CountyId.eq(profile.county_id))
        .filter(testing_profile_reflections::Column::ProfileId.eq(profile.id))
        .lock_exclusive()
        .one(change.db())
        .await?;
    let saved = match existing {
        Some(row) => {
            if row.buddy_county_id != buddy.county_id().0 {
                return Err(
                    Refusal::conflict("another buddy county has written the reflections on this profile").into()
                );
            }
            let revision = row.revision + 1;
            let mut model: testing_profile_reflections::ActiveModel = row.into();
            set_reflections(&mut model, &text);
            model.revision = Set(revision);
            model.updated_at = Set(chrono::Utc::now().into());
            model.update(change.db()).await?
        }
        None => {
            let mut model = testing_profile_reflections::ActiveModel {
                county_id: Set(profile.county_id),
                profile_id: Set(profile.id),
                buddy_county_id: Set(buddy.county_id().0),
                revision: Set(1),
                ..Default::default()
            };
            set_reflections(&mut model, &text);
            model.insert(change.db()).await?
        }
    };
    add_revision(change, profile, "REFLECTIONS", saved.revision, buddy.county_id(), json!(text)).await?;
    record(
        change,
        "testing_profile.reflections",
        CountyId(profile.county_id),
        "testing_profile",
        profile.id.to_string(),
        json!({ "buddyCountyId": buddy.county_id(), "revision": saved.revision }),
    )
    .await?;
    Ok(saved)
}

fn set_sections(model: &mut testing_profiles::ActiveModel, s: &ProfileSections) {
    model.description = Set(s.description.clone());
    model.tested = Set(s.tested.clone());
    model.learned = Set(s.learned.clone());
    model.worked = Set(s.worked.clone());
    model.differently = Set(s.differently.clone());
    model.next_steps = Set(s.next_steps.clone());
    model.guidance = Set(s.guidance.clone());
}

fn set_reflections(model: &mut testing_profile_reflections::ActiveModel, r: &Reflections) {
    model.experience = Set(r.experience.clone());
    model.learned = Set(r.learned.clone());
    model.take_away = Set(r.take_away.clone());
    model.share = Set(r.share.clone());
}

async fn lock_profile(
    change: &Change<'_>,
    lead: &LeadOf,
    id: TestingProfileId,
) -> StoreResult<testing_profiles::Model> {
    testing_profiles::Entity::find()
        .filter(testing_profiles::Column::CountyId.eq(lead.county_id().0))
        .filter(testing_profiles::Column::Id.eq(id.0))
        .lock_exclusive()
        .one(change.db())
        .await?
        .ok_or_else(|| Refusal::NotFound("testing profile").into())
}

async fn add_revision(
    change: &Change<'_>,
    profile: &testing_profiles::Model,
    part: &str,
    revision: i32,
    written_by: CountyId,
    sections: serde_json::Value,
) -> StoreResult<()> {
    testing_profile_revisions::Entity::insert(testing_profile_revisions::ActiveModel {
        county_id: Set(profile.county_id),
        profile_id: Set(profile.id),
        part: Set(part.to_owned()),
        revision: Set(revision),
        written_by_county: Set(written_by.0),
        saved_by: Set(change.actor().map(|u| u.0)),
        sections: Set(sections),
        ..Default::default()
    })
    .exec_without_returning(change.db())
    .await?;
    Ok(())
}

async fn record(
    change: &Change<'_>,
    action: &'static str,
    county: CountyId,
    subject_type: &'static str,
    subject_id: String,
    details: serde_json::Value,
) -> StoreResult<()> {
    audit::record(
        change,
        AuditEntry { action, county_id: Some(county), subject_type, subject_id: Some(subject_id), details },
    )
    .await
}
