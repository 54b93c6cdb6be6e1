//! Cohorts of counties and the buddy pairings inside them.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, NaiveDate, Utc};
use orb_domain::county;
use orb_domain::error::Problems;
use orb_domain::ids::{CohortId, CountyId, PairingId};
use orb_domain::people::Email;
use orb_store::cohorts as cohort_store;
use orb_store::entities::{buddy_pairings, cohorts};
use orb_store::page::encode_cursor;

use crate::connection::connection;
use crate::context::{found, id, loader, page, session};
use crate::counties::County;
use crate::error::{ApiResult, IntoApi, coded, refusal};
use crate::loaders::{CountiesOf, FacultyOf, PairingsOfCohort};
use crate::people::User;

/// Whether a pairing is in force.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum PairingStatus {
    /// Each side may read the other's aggregates.
    Active,
    /// Access between the two has ended.
    Ended,
}

/// A state initiative grouping counties for a period, with its faculty
/// ("ORB Development Circle 2017–18").
pub struct Cohort(pub cohorts::Model);

#[Object]
impl Cohort {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn starts_on(&self) -> Option<NaiveDate> {
        self.0.starts_on
    }

    async fn ends_on(&self) -> Option<NaiveDate> {
        self.0.ends_on
    }

    /// Counties in the cohort, by name.
    async fn counties(&self, ctx: &Context<'_>) -> ApiResult<Vec<County>> {
        let loader = loader(ctx)?;
        let ids = loader.load_one(CountiesOf(CohortId(self.0.id))).await?.unwrap_or_default();
        let mut list: Vec<County> = loader.load_many(ids).await?.into_values().map(County).collect();
        list.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(list)
    }

    /// The cohort's faculty.
    async fn faculty(&self, ctx: &Context<'_>) -> ApiResult<Vec<User>> {
        let loader = loader(ctx)?;
        let ids = loader.load_one(FacultyOf(CohortId(self.0.id))).await?.unwrap_or_default();
        let mut list: Vec<User> = loader.load_many(ids).await?.into_values().map(User).collect();
        list.sort_by(|a, b| a.0.display_name.cmp(&b.0.display_name));
        Ok(list)
    }

    /// Pairings in the cohort.
    async fn buddy_pairings(&self, ctx: &Context<'_>, active_only: Option<bool>) -> ApiResult<Vec<BuddyPairing>> {
        session(ctx)?.principal().as_signed_in().api()?;
        let key = PairingsOfCohort { cohort: CohortId(self.0.id), active_only: active_only.unwrap_or(false) };
        let rows = loader(ctx)?.load_one(key).await?.unwrap_or_default();
        Ok(rows.into_iter().map(BuddyPairing).collect())
    }
}

/// A testing county and its buddy inside a cohort. While active, each side may read the
/// other's aggregated results, testing profile and plans; never raw responses.
pub struct BuddyPairing(pub buddy_pairings::Model);

#[Object]
impl BuddyPairing {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn cohort(&self, ctx: &Context<'_>) -> ApiResult<Cohort> {
        found(loader(ctx)?.load_one(CohortId(self.0.cohort_id)).await?, "cohort").map(Cohort)
    }

    async fn testing_county(&self, ctx: &Context<'_>) -> ApiResult<County> {
        found(loader(ctx)?.load_one(CountyId(self.0.testing_county_id)).await?, "county").map(County)
    }

    async fn buddy_county(&self, ctx: &Context<'_>) -> ApiResult<County> {
        found(loader(ctx)?.load_one(CountyId(self.0.buddy_county_id)).await?, "county").map(County)
    }

    async fn status(&self) -> PairingStatus {
        if self.0.status == "active" { PairingStatus::Active } else { PairingStatus::Ended }
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at.into()
    }

    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.0.ended_at.map(Into::into)
    }
}

/// Cohort queries.
#[derive(Default)]
pub struct CohortQuery;

#[Object]
impl CohortQuery {
    /// Every cohort, by name. Any signed-in user.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn cohorts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Cohort, EmptyFields, EmptyFields>> {
        let session = session(ctx)?;
        let request = page(first, after)?;
        let rows = cohort_store::list(session, &request).await.api()?;
        Ok(connection(rows, request.after.is_some(), |c| encode_cursor(&c.name), Cohort))
    }

    /// One cohort.
    async fn cohort(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Cohort> {
        session(ctx)?.principal().as_signed_in().api()?;
        let cohort_id: CohortId = crate::context::id("id", &id)?;
        found(loader(ctx)?.load_one(cohort_id).await?, "cohort").map(Cohort)
    }

    /// Buddy pairings, oldest first, optionally of one cohort, one county or one status.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn buddy_pairings(
        &self,
        ctx: &Context<'_>,
        cohort_id: Option<ID>,
        county_id: Option<ID>,
        status: Option<PairingStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, BuddyPairing, EmptyFields, EmptyFields>> {
        let session = session(ctx)?;
        let filter = cohort_store::PairingFilter {
            cohort: cohort_id.as_ref().map(|raw| id("cohortId", raw)).transpose()?,
            county: county_id.as_ref().map(|raw| id("countyId", raw)).transpose()?,
            active: status.map(|s| s == PairingStatus::Active),
        };
        let request = page(first, after)?;
        let rows = cohort_store::pairings(session, &filter, &request).await.api()?;
        Ok(connection(rows, request.after.is_some(), |p| p.id.to_string(), BuddyPairing))
    }
}

/// A new cohort.
#[derive(InputObject)]
pub struct CreateCohortInput {
    /// Unique name.
    pub name: String,
    /// First day.
    pub starts_on: Option<NaiveDate>,
    /// Last day.
    pub ends_on: Option<NaiveDate>,
}

/// A new pairing.
#[derive(InputObject)]
pub struct CreateBuddyPairingInput {
    /// The cohort; both counties must belong to it.
    pub cohort_id: ID,
    /// The county testing.
    pub testing_county_id: ID,
    /// Its buddy.
    pub buddy_county_id: ID,
}

/// Cohort mutations. Faculty only.
#[derive(Default)]
pub struct CohortMutation;

#[Object]
impl CohortMutation {
    /// Creates a cohort.
    async fn create_cohort(&self, ctx: &Context<'_>, input: CreateCohortInput) -> ApiResult<Cohort> {
        let session = session(ctx)?;
        let faculty = session.principal().as_faculty().api()?;
        let mut problems = Problems::new();
        let name = problems.take(county::cohort_name("input.name", &input.name));
        problems.take(county::cohort_period(input.starts_on, input.ends_on));
        problems.finish().api()?;
        let name = name.ok_or_else(|| coded("invalid input", "BAD_USER_INPUT"))?;
        let change = session.change().await.api()?;
        let cohort = cohort_store::create(
            &change,
            &faculty,
            cohort_store::NewCohort { name, starts_on: input.starts_on, ends_on: input.ends_on },
        )
        .await
        .api()?;
        change.commit().await.api()?;
        Ok(Cohort(cohort))
    }

    /// Adds a county to a cohort.
    async fn add_cohort_county(&self, ctx: &Context<'_>, cohort_id: ID, county_id: ID) -> ApiResult<Cohort> {
        let session = session(ctx)?;
        let faculty = session.principal().as_faculty().api()?;
        let (cohort, county): (CohortId, CountyId) = (id("cohortId", &cohort_id)?, id("countyId", &county_id)?);
        let change = session.change().await.api()?;
        cohort_store::add_county(&change, &faculty, cohort, county).await.api()?;
        change.commit().await.api()?;
        found(loader(ctx)?.load_one(cohort).await?, "cohort").map(Cohort)
    }

    /// Removes a county from a cohort (refused while it has pairings there).
    async fn remove_cohort_county(&self, ctx: &Context<'_>, cohort_id: ID, county_id: ID) -> ApiResult<Cohort> {
        let session = session(ctx)?;
        let faculty = session.principal().as_faculty().api()?;
        let (cohort, county): (CohortId, CountyId) = (id("cohortId", &cohort_id)?, id("countyId", &county_id)?);
        let change = session.change().await.api()?;
        cohort_store::remove_county(&change, &faculty, cohort, county).await.api()?;
        change.commit().await.api()?;
        found(loader(ctx)?.load_one(cohort).await?, "cohort").map(Cohort)
    }

    /// Names a faculty member (by email) as coaching a cohort. What they may read comes from
    /// their faculty role, not from this.
    async fn add_cohort_faculty(&self, ctx: &Context<'_>, cohort_id: ID, email: String) -> ApiResult<Cohort> {
        let session = session(ctx)?;
        let faculty = session.principal().as_faculty().api()?;
        let cohort: CohortId = id("cohortId", &cohort_id)?;
        let email = Email::parse("email", &email).api()?;
        let change = session.change().await.api()?;
        let user = orb_store::people::user_id_by_email(change.db(), &email)
            .await
            .api()?
            .ok_or_else(|| refusal(orb_domain::Error::invalid("email", "no account has this email")))?;
        cohort_store::add_faculty(&change, &faculty, cohort, user).await.api()?;
        change.commit().await.api()?;
        found(loader(ctx)?.load_one(cohort).await?, "cohort").map(Cohort)
    }

    /// Removes a faculty member from a cohort.
    async fn remove_cohort_faculty(&self, ctx: &Context<'_>, cohort_id: ID, user_id: ID) -> ApiResult<Cohort> {
        let session = session(ctx)?;
        let faculty = session.principal().as_faculty().api()?;
        let cohort: CohortId = id("cohortId", &cohort_id)?;
        let change = session.change().await.api()?;
        cohort_store::remove_faculty(&change, &faculty, cohort, id("userId", &user_id)?).await.api()?;
        change.commit().await.api()?;
        found(loader(ctx)?.load_one(cohort).await?, "cohort").map(Cohort)
    }

    /// Pairs a testing county with its buddy.
    async fn create_buddy_pairing(&self, ctx: &Context<'_>, input: CreateBuddyPairingInput) -> ApiResult<BuddyPairing> {
        let session = session(ctx)?;
        let faculty = session.principal().as_faculty().api()?;
        let cohort: CohortId = id("input.cohortId", &input.cohort_id)?;
        let testing: CountyId = id("input.testingCountyId", &input.testing_county_id)?;
        let buddy: CountyId = id("input.buddyCountyId", &input.buddy_county_id)?;
        let change = session.change().await.api()?;
        let pairing = cohort_store::create_pairing(&change, &faculty, cohort, testing, buddy).await.api()?;
        change.commit().await.api()?;
        Ok(BuddyPairing(pairing))
    }

    /// Ends a pairing: access between the two counties stops on their next request.
    async fn end_buddy_pairing(&self, ctx: &Context<'_>, id: ID) -> ApiResult<BuddyPairing> {
        let session = session(ctx)?;
        let faculty = session.principal().as_faculty().api()?;
        let pairing: PairingId = crate::context::id("id", &id)?;
        let change = session.change().await.api()?;
        let ended = cohort_store::end_pairing(&change, &faculty, pairing).await.api()?;
        change.commit().await.api()?;
        Ok(BuddyPairing(ended))
    }
}
