//! Closing the loop: the SO WHAT? planning matrix (actions per domain, their status history and
//! the progress of the planned domains into the next wave), and county testing profiles with the
//! buddy county's reflections and every save kept.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use orb_domain::Error as Refusal;
use orb_domain::access::PlanRead;
use orb_domain::closing_the_loop::{self as domain, ActionText, ProfileSections, Reflections};
use orb_domain::ids::{
    AdministrationId, CohortId, CountyId, PlanningActionId, PlanningMatrixId, TestingProfileId, UserId,
};
use orb_store::closing_the_loop::{self as store, Progress};
use orb_store::entities::{
    planning_action_history, planning_actions, planning_matrices, testing_profile_reflections,
    testing_profile_revisions, testing_profiles,
};

use crate::cohorts::Cohort;
use crate::collection::Administration;
use crate::context::{found, id, loader, session, stored};
use crate::counties::County;
use crate::error::{ApiResult, IntoApi};
use crate::people::User;
use crate::results::DomainChangeResult;

/// Where a planned action stands. `PLANNED → IN_PROGRESS → DONE`; either of the first two may
/// be `DROPPED`; `DONE` and `DROPPED` are final.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::closing_the_loop::ActionStatus")]
pub enum ActionStatus {
    /// Agreed, not started.
    Planned,
    /// Under way.
    InProgress,
    /// Done (final).
    Done,
    /// Given up (final).
    Dropped,
}

/// Who can read a testing profile.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::closing_the_loop::ProfileStatus")]
pub enum ProfileStatus {
    /// The county's members only.
    Draft,
    /// Also the county's active buddies and state faculty.
    Shared,
    /// Every signed-in user.
    Published,
}

/// A county's SO WHAT? planning matrix for one wave.
pub struct PlanningMatrix {
    model: planning_matrices::Model,
    read: PlanRead,
}

#[Object]
impl PlanningMatrix {
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    async fn county(&self, ctx: &Context<'_>) -> ApiResult<County> {
        found(loader(ctx)?.load_one(CountyId(self.model.county_id)).await?, "county").map(County)
    }

    async fn title(&self) -> &str {
        &self.model.title
    }

    /// The wave the matrix came from.
    async fn administration(&self, ctx: &Context<'_>) -> ApiResult<Administration> {
        let session = session(ctx)?;
        let row =
            orb_store::collection::by_id(session.db(), AdministrationId(self.model.administration_id)).await.api()?;
        found(row, "administration").map(Administration)
    }

    /// The actions, in the order they were planned.
    async fn actions(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanningAction>> {
        let session = session(ctx)?;
        let rows = store::actions(session, &self.model).await.api()?;
        Ok(rows.into_iter().map(|model| PlanningAction { model, read: self.read }).collect())
    }

    /// For each planned domain: its level at this wave and at the county's next closed wave whose
    /// instrument shares concepts in the domain, and the change (0–100, as `changeSince`).
    /// Withheld when either wave's group is below the minimum, or when the caller may not read
    /// either wave's scores.
    async fn progress(&self, ctx: &Context<'_>) -> ApiResult<Vec<DomainProgress>> {
        let session = session(ctx)?;
        let (linked, list) = store::progress(session, &self.model).await.api()?;
        Ok(list
            .into_iter()
            .map(|p| {
                let (state, change) = match &p.outcome {
                    Progress::NoLaterWave => (ProgressState::NoLaterWave, None),
                    Progress::NotReadable => (ProgressState::NotReadable, None),
                    Progress::Change(released) => (
                        if released.shown().is_some() { ProgressState::Shown } else { ProgressState::Withheld },
                        Some(DomainChangeResult::from_domain(p.domain.clone(), released)),
                    ),
                };
                DomainProgress {
                    domain: p.domain,
                    earlier: Administration(linked.clone()),
                    later: p.later.map(Administration),
                    state,
                    change,
                }
            })
            .collect())
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at.into()
    }
}

/// What the progress of a planned domain shows.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ProgressState {
    /// The change is shown.
    Shown,
    /// A wave's group is below the minimum: withheld.
    Withheld,
    /// No later closed wave of the county measures the domain's concepts yet.
    NoLaterWave,
    /// The caller may not read the scores of one of the two waves (not released to them).
    NotReadable,
}

/// How one planned domain moved from the matrix's wave to the next.
#[derive(SimpleObject)]
pub struct DomainProgress {
    /// The domain's code.
    pub domain: String,
    /// The matrix's wave.
    pub earlier: Administration,
    /// The next wave compared with, if any.
    pub later: Option<Administration>,
    /// What can be shown.
    pub state: ProgressState,
    /// The change (with `withheld` when withheld); `null` without a readable later wave.
    pub change: Option<DomainChangeResult>,
}

/// One action of a planning matrix.
pub struct PlanningAction {
    model: planning_actions::Model,
    read: PlanRead,
}

#[Object]
impl PlanningAction {
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    /// The domain's code (of the matrix's wave's instrument).
    async fn domain(&self) -> &str {
        &self.model.domain
    }

    /// What we learned.
    async fn learned(&self) -> &str {
        &self.model.learned
    }

    /// So what: why it matters.
    async fn so_what(&self) -> &str {
        &self.model.so_what
    }

    /// Now what: the action.
    async fn now_what(&self) -> &str {
        &self.model.now_what
    }

    /// The owner's id (a member of the county).
    async fn owner_id(&self) -> ID {
        ID(self.model.owner_user_id.to_string())
    }

    /// The owner, when the caller may see the account (the county's lead, faculty, the owner).
    async fn owner(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        Ok(loader(ctx)?.load_one(UserId(self.model.owner_user_id)).await?.map(User))
    }

    async fn due_on(&self) -> Option<NaiveDate> {
        self.model.due_on
    }

    async fn status(&self) -> ApiResult<ActionStatus> {
        stored(domain::ActionStatus::from_stored(&self.model.status)).map(Into::into)
    }

    /// The county's working notes: its members only (`null` for buddies and faculty).
    async fn notes(&self) -> Option<&str> {
        self.model.notes.as_deref().filter(|_| self.read.notes)
    }

    /// Every status change, oldest first (the first is the action being planned).
    async fn history(&self, ctx: &Context<'_>) -> ApiResult<Vec<StatusChange>> {
        let session = session(ctx)?;
        Ok(store::history(session, &self.model).await.api()?.into_iter().map(StatusChange).collect())
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at.into()
    }
}

/// One change of an action's status.
pub struct StatusChange(planning_action_history::Model);

#[Object]
impl StatusChange {
    /// The status before; `null` when the action was planned.
    async fn from(&self) -> Option<ActionStatus> {
        self.0.from_status.as_deref().and_then(domain::ActionStatus::from_stored).map(Into::into)
    }

    async fn to(&self) -> ApiResult<ActionStatus> {
        stored(domain::ActionStatus::from_stored(&self.0.to_status)).map(Into::into)
    }

    /// Who changed it (`null` for the operator's own tools).
    async fn changed_by_id(&self) -> Option<ID> {
        self.0.changed_by.map(|u| ID(u.to_string()))
    }

    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at.into()
    }
}

/// A county's testing profile for one cohort: the seed's sections a–g (Markdown).
pub struct TestingProfile(pub testing_profiles::Model);

#[Object]
impl TestingProfile {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn county(&self, ctx: &Context<'_>) -> ApiResult<County> {
        found(loader(ctx)?.load_one(CountyId(self.0.county_id)).await?, "county").map(County)
    }

    async fn cohort(&self, ctx: &Context<'_>) -> ApiResult<Option<Cohort>> {
        Ok(loader(ctx)?.load_one(CohortId(self.0.cohort_id)).await?.map(Cohort))
    }

    async fn status(&self) -> ApiResult<ProfileStatus> {
        stored(domain::ProfileStatus::from_stored(&self.0.status)).map(Into::into)
    }

    /// a. County description.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// b. What was tested, how and why.
    async fn tested(&self) -> Option<&str> {
        self.0.tested.as_deref()
    }

    /// c. What we learned.
    async fn learned(&self) -> Option<&str> {
        self.0.learned.as_deref()
    }

    /// d. What worked.
    async fn worked(&self) -> Option<&str> {
        self.0.worked.as_deref()
    }

    /// e. What we would do differently.
    async fn differently(&self) -> Option<&str> {
        self.0.differently.as_deref()
    }

    /// f. Where next.
    async fn next_steps(&self) -> Option<&str> {
        self.0.next_steps.as_deref()
    }

    /// g. Guiding thoughts for other counties.
    async fn guidance(&self) -> Option<&str> {
        self.0.guidance.as_deref()
    }

    /// The number of the current save of the sections.
    async fn revision(&self) -> i32 {
        self.0.revision
    }

    /// The buddy county's reflections, once written.
    async fn reflections(&self, ctx: &Context<'_>) -> ApiResult<Option<BuddyReflections>> {
        let session = session(ctx)?;
        Ok(store::reflections(session, &self.0).await.api()?.map(BuddyReflections))
    }

    /// Every save of the sections and of the reflections, newest first.
    async fn revisions(&self, ctx: &Context<'_>) -> ApiResult<Vec<ProfileRevision>> {
        let session = session(ctx)?;
        Ok(store::revisions(session, &self.0).await.api()?.into_iter().map(ProfileRevision).collect())
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at.into()
    }
}

/// The buddy county's reflections on a testing profile (Markdown).
pub struct BuddyReflections(testing_profile_reflections::Model);

#[Object]
impl BuddyReflections {
    /// The buddy county that wrote them.
    async fn buddy_county(&self, ctx: &Context<'_>) -> ApiResult<County> {
        found(loader(ctx)?.load_one(CountyId(self.0.buddy_county_id)).await?, "county").map(County)
    }

    /// What was it like?
    async fn experience(&self) -> Option<&str> {
        self.0.experience.as_deref()
    }

    /// What did you learn?
    async fn learned(&self) -> Option<&str> {
        self.0.learned.as_deref()
    }

    /// What will you take?
    async fn take_away(&self) -> Option<&str> {
        self.0.take_away.as_deref()
    }

    /// What would you share?
    async fn share(&self) -> Option<&str> {
        self.0.share.as_deref()
    }

    async fn revision(&self) -> i32 {
        self.0.revision
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at.into()
    }
}

/// Which part of a profile a revision saved.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ProfilePart {
    /// The county's sections a–g.
    Profile,
    /// The buddy county's reflections.
    Reflections,
}

/// One save of a profile's sections or reflections, as saved.
pub struct ProfileRevision(testing_profile_revisions::Model);

#[Object]
impl ProfileRevision {
    async fn part(&self) -> ProfilePart {
        if self.0.part == "REFLECTIONS" { ProfilePart::Reflections } else { ProfilePart::Profile }
    }

    async fn revision(&self) -> i32 {
        self.0.revision
    }

    /// The county whose lead saved it.
    async fn written_by(&self, ctx: &Context<'_>) -> ApiResult<County> {
        found(loader(ctx)?.load_one(CountyId(self.0.written_by_county)).await?, "county").map(County)
    }

    /// Who saved it (`null` for the operator's own tools).
    async fn saved_by_id(&self) -> Option<ID> {
        self.0.saved_by.map(|u| ID(u.to_string()))
    }

    async fn saved_at(&self) -> DateTime<Utc> {
        self.0.saved_at.into()
    }

    /// The text as saved: the sections (`description`, `tested`, … `guidance`) or the
    /// reflections (`experience`, `learned`, `takeAway`, `share`), by name.
    async fn sections(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(camel_case_keys(&self.0.sections))
    }
}

fn camel_case_keys(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let mut out = String::with_capacity(k.len());
                let mut upper = false;
                for c in k.chars() {
                    if c == '_' {
                        upper = true;
                    } else if upper {
                        out.extend(c.to_uppercase());
                        upper = false;
                    } else {
                        out.push(c);
                    }
                }
                (out, v.clone())
            })
            .collect(),
        other => other.clone(),
    }
}

/// Closing-the-loop queries.
#[derive(Default)]
pub struct ClosingTheLoopQuery;

#[Object]
impl ClosingTheLoopQuery {
    /// A county's planning matrices, newest first: its members, its active buddies and faculty
    /// (who do not see the notes; their reads are audited).
    async fn planning_matrices(&self, ctx: &Context<'_>, county_id: ID) -> ApiResult<Vec<PlanningMatrix>> {
        let session = session(ctx)?;
        let county: CountyId = id("countyId", &county_id)?;
        let (read, rows) = store::matrices(session, county).await.api()?;
        Ok(rows.into_iter().map(|model| PlanningMatrix { model, read }).collect())
    }

    /// One planning matrix.
    async fn planning_matrix(&self, ctx: &Context<'_>, id: ID) -> ApiResult<PlanningMatrix> {
        let session = session(ctx)?;
        session.principal().as_signed_in().api()?;
        let matrix: PlanningMatrixId = crate::context::id("id", &id)?;
        let (read, model) = store::matrix(session, matrix).await.api()?;
        Ok(PlanningMatrix { model, read })
    }

    /// Testing profiles the caller may read (their county's; shared ones of their buddies, or
    /// all shared ones for faculty; every published one), optionally of one cohort.
    async fn testing_profiles(&self, ctx: &Context<'_>, cohort_id: Option<ID>) -> ApiResult<Vec<TestingProfile>> {
        let session = session(ctx)?;
        let cohort: Option<CohortId> = cohort_id.as_ref().map(|c| id("cohortId", c)).transpose()?;
        Ok(store::profiles(session, cohort).await.api()?.into_iter().map(|(_, p)| TestingProfile(p)).collect())
    }

    /// One testing profile.
    async fn testing_profile(&self, ctx: &Context<'_>, id: ID) -> ApiResult<TestingProfile> {
        let session = session(ctx)?;
        session.principal().as_signed_in().api()?;
        let profile: TestingProfileId = crate::context::id("id", &id)?;
        found(store::profile(session, profile).await.api()?, "testing profile").map(TestingProfile)
    }
}

/// A planning matrix.
#[derive(InputObject)]
pub struct PlanningMatrixInput {
    /// The wave it comes from (an administration of the county).
    pub administration_id: ID,
    /// A title ("SO WHAT? after wave 1").
    pub title: String,
}

/// An action of a planning matrix.
#[derive(InputObject)]
pub struct PlanningActionInput {
    /// A domain code of the matrix's wave's instrument (`LEAD`).
    pub domain: String,
    /// What we learned.
    pub learned: String,
    /// So what: why it matters.
    pub so_what: String,
    /// Now what: the action.
    pub now_what: String,
    /// The owner: a member of the county.
    pub owner_id: ID,
    /// When it is due.
    pub due_on: Option<NaiveDate>,
    /// Working notes (the county's members only read them).
    pub notes: Option<String>,
}

/// A testing profile's sections a–g (Markdown; blank means not written yet).
#[derive(InputObject, Default)]
pub struct ProfileSectionsInput {
    /// a. County description.
    pub description: Option<String>,
    /// b. What was tested, how and why.
    pub tested: Option<String>,
    /// c. What we learned.
    pub learned: Option<String>,
    /// d. What worked.
    pub worked: Option<String>,
    /// e. What we would do differently.
    pub differently: Option<String>,
    /// f. Where next.
    pub next_steps: Option<String>,
    /// g. Guiding thoughts for other counties.
    pub guidance: Option<String>,
}

/// The buddy county's reflections (Markdown; blank means not written yet).
#[derive(InputObject)]
pub struct ReflectionsInput {
    /// What was it like?
    pub experience: Option<String>,
    /// What did you learn?
    pub learned: Option<String>,
    /// What will you take?
    pub take_away: Option<String>,
    /// What would you share?
    pub share: Option<String>,
}

fn action_input(input: &PlanningActionInput) -> ApiResult<(ActionText, UserId)> {
    let mut problems = orb_domain::error::Problems::new();
    let owner = problems.take(orb_domain::ids::parse_id::<UserId>("input.ownerId", &input.owner_id));
    let text = problems.take(ActionText::parse(
        "input",
        &input.domain,
        &input.learned,
        &input.so_what,
        &input.now_what,
        input.due_on,
        input.notes.as_deref(),
    ));
    problems.finish().api()?;
    match (text, owner) {
        (Some(text), Some(owner)) => Ok((text, owner)),
        _ => Err(Refusal::invalid("input", "is invalid")).api(),
    }
}

fn sections_input(input: &ProfileSectionsInput) -> ApiResult<ProfileSections> {
    ProfileSections::parse(
        "input",
        [
            input.description.as_deref(),
            input.tested.as_deref(),
            input.learned.as_deref(),
            input.worked.as_deref(),
            input.differently.as_deref(),
            input.next_steps.as_deref(),
            input.guidance.as_deref(),
        ],
    )
    .api()
}

/// Loads an action for its county's lead: not found if the caller may not read it, forbidden
/// if they may read but not lead its county.
async fn led_action(ctx: &Context<'_>, raw: &ID) -> ApiResult<(orb_domain::access::LeadOf, PlanningActionId)> {
    let session = session(ctx)?;
    session.principal().as_signed_in().api()?;
    let action: PlanningActionId = id("id", raw)?;
    let (_, row) = found(store::action(session, action).await.api()?, "planning action")?;
    let lead = session.principal().as_lead_of(CountyId(row.county_id)).api()?;
    Ok((lead, action))
}

/// Loads a profile for its county's lead, likewise.
async fn led_profile(ctx: &Context<'_>, raw: &ID) -> ApiResult<(orb_domain::access::LeadOf, TestingProfileId)> {
    let session = session(ctx)?;
    session.principal().as_signed_in().api()?;
    let profile: TestingProfileId = id("id", raw)?;
    let (_, row) = found(store::readable_profile(session, profile).await.api()?, "testing profile")?;
    let lead = session.principal().as_lead_of(CountyId(row.county_id)).api()?;
    Ok((lead, profile))
}

fn matrix_view(session: &orb_store::Session, model: planning_matrices::Model) -> ApiResult<PlanningMatrix> {
    let read = session.principal().may_read_plan(CountyId(model.county_id)).api()?;
    Ok(PlanningMatrix { model, read })
}

fn action_view(session: &orb_store::Session, model: planning_actions::Model) -> ApiResult<PlanningAction> {
    let read = session.principal().may_read_plan(CountyId(model.county_id)).api()?;
    Ok(PlanningAction { model, read })
}

/// Closing-the-loop mutations.
#[derive(Default)]
pub struct ClosingTheLoopMutation;

#[Object]
impl ClosingTheLoopMutation {
    /// Starts a planning matrix for one of the county's waves (one per wave). The county's lead.
    async fn create_planning_matrix(
        &self,
        ctx: &Context<'_>,
        county_id: ID,
        input: PlanningMatrixInput,
    ) -> ApiResult<PlanningMatrix> {
        let session = session(ctx)?;
        let county: CountyId = id("countyId", &county_id)?;
        let lead = session.principal().as_lead_of(county).api()?;
        let mut problems = orb_domain::error::Problems::new();
        let administration = problems
            .take(orb_domain::ids::parse_id::<AdministrationId>("input.administrationId", &input.administration_id));
        let title = problems.take(domain::matrix_title("input.title", &input.title));
        problems.finish().api()?;
        let (Some(administration), Some(title)) = (administration, title) else {
            return Err(Refusal::invalid("input", "is invalid")).api();
        };
        let change = session.change().await.api()?;
        let created = store::create_matrix(&change, &lead, administration, title).await.api()?;
        change.commit().await.api()?;
        matrix_view(session, created)
    }

    /// Plans an action in a matrix; it starts `PLANNED`. The county's lead.
    async fn add_planning_action(
        &self,
        ctx: &Context<'_>,
        matrix_id: ID,
        input: PlanningActionInput,
    ) -> ApiResult<PlanningAction> {
        let session = session(ctx)?;
        let matrix: PlanningMatrixId = id("matrixId", &matrix_id)?;
        let (_, row) = store::readable_matrix(session, matrix).await.api()?;
        let lead = session.principal().as_lead_of(CountyId(row.county_id)).api()?;
        let (text, owner) = action_input(&input)?;
        let change = session.change().await.api()?;
        let created = store::add_action(&change, &lead, matrix, text, owner).await.api()?;
        change.commit().await.api()?;
        action_view(session, created)
    }

    /// Rewrites an action that is not final. The county's lead.
    async fn update_planning_action(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: PlanningActionInput,
    ) -> ApiResult<PlanningAction> {
        let session = session(ctx)?;
        let (lead, action) = led_action(ctx, &id).await?;
        let (text, owner) = action_input(&input)?;
        let change = session.change().await.api()?;
        let updated = store::update_action(&change, &lead, action, text, owner).await.api()?;
        change.commit().await.api()?;
        action_view(session, updated)
    }

    /// Moves an action on (`PLANNED → IN_PROGRESS → DONE`, or `DROPPED`); anything else is a
    /// `CONFLICT`. The change is kept in the action's history. The county's lead.
    async fn set_planning_action_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: ActionStatus,
    ) -> ApiResult<PlanningAction> {
        let session = session(ctx)?;
        let (lead, action) = led_action(ctx, &id).await?;
        let change = session.change().await.api()?;
        let updated = store::set_action_status(&change, &lead, action, status.into()).await.api()?;
        change.commit().await.api()?;
        action_view(session, updated)
    }

    /// Starts the county's testing profile for a cohort it belongs to, as a draft. The county's lead.
    async fn create_testing_profile(
        &self,
        ctx: &Context<'_>,
        county_id: ID,
        cohort_id: ID,
        #[graphql(default)] input: ProfileSectionsInput,
    ) -> ApiResult<TestingProfile> {
        let session = session(ctx)?;
        let county: CountyId = id("countyId", &county_id)?;
        let lead = session.principal().as_lead_of(county).api()?;
        let cohort: CohortId = id("cohortId", &cohort_id)?;
        let sections = sections_input(&input)?;
        let change = session.change().await.api()?;
        let created = store::create_profile(&change, &lead, cohort, sections).await.api()?;
        change.commit().await.api()?;
        Ok(TestingProfile(created))
    }

    /// Saves the profile's sections; the text saved is kept as a revision. The county's lead.
    async fn save_testing_profile(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ProfileSectionsInput,
    ) -> ApiResult<TestingProfile> {
        let session = session(ctx)?;
        let (lead, profile) = led_profile(ctx, &id).await?;
        let sections = sections_input(&input)?;
        let change = session.change().await.api()?;
        let saved = store::save_profile(&change, &lead, profile, sections).await.api()?;
        change.commit().await.api()?;
        Ok(TestingProfile(saved))
    }

    /// Shares (`SHARED`: buddies and faculty), publishes (`PUBLISHED`: everyone signed in) or
    /// withdraws the profile, one step at a time; anything else is a `CONFLICT`. The county's lead.
    async fn set_testing_profile_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: ProfileStatus,
    ) -> ApiResult<TestingProfile> {
        let session = session(ctx)?;
        let (lead, profile) = led_profile(ctx, &id).await?;
        let change = session.change().await.api()?;
        let updated = store::set_profile_status(&change, &lead, profile, status.into()).await.api()?;
        change.commit().await.api()?;
        Ok(TestingProfile(updated))
    }

    /// Saves the buddy county's reflections on a shared or published profile; each save is kept
    /// as a revision. The lead of the county paired with the profile's county as its buddy in
    /// the profile's cohort.
    async fn save_buddy_reflections(
        &self,
        ctx: &Context<'_>,
        profile_id: ID,
        input: ReflectionsInput,
    ) -> ApiResult<TestingProfile> {
        let session = session(ctx)?;
        session.principal().as_signed_in().api()?;
        let id_: TestingProfileId = id("profileId", &profile_id)?;
        let (_, profile) = found(store::readable_profile(session, id_).await.api()?, "testing profile")?;
        let buddy = store::buddy_of(session, &profile).await.api()?;
        let lead = match buddy {
            Some(county) => session.principal().as_lead_of(county).map_err(|e| match e {
                Refusal::Forbidden(_) => {
                    Refusal::forbidden("only the lead of the profile's buddy county writes reflections")
                }
                other => other,
            }),
            None => Err(Refusal::forbidden("the county has no active buddy in this cohort")),
        }
        .api()?;
        let text = Reflections::parse(
            "input",
            [input.experience.as_deref(), input.learned.as_deref(), input.take_away.as_deref(), input.share.as_deref()],
        )
        .api()?;
        let change = session.change().await.api()?;
        store::save_reflections(&change, &lead, &profile, text).await.api()?;
        change.commit().await.api()?;
        Ok(TestingProfile(profile))
    }
}
