//! Counties and their org units.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use orb_domain::county::{self, NewCounty};
use orb_domain::error::Problems;
use orb_domain::ids::{CountyId, OrgUnitId};
use orb_store::entities::{counties, org_units};
use orb_store::page::encode_cursor;
use orb_store::{counties as county_store, org_units as unit_store};

use crate::cohorts::{BuddyPairing, Cohort};
use crate::connection::connection;
use crate::context::{found, id, loader, page, session, stored};
use crate::error::{ApiResult, IntoApi};
use crate::loaders::{ChildrenOf, CohortsOf, FirstMembersOf, FirstUnitsOf, PairingsOfCounty};
use crate::people::Membership;

/// The CWDA region a county belongs to.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::county::Region")]
pub enum Region {
    /// Bay Area.
    BayArea,
    /// Central.
    Central,
    /// Los Angeles.
    LosAngeles,
    /// Northern.
    Northern,
    /// Southern.
    Southern,
}

/// How large a county's child welfare agency is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::county::SizeClass")]
pub enum SizeClass {
    /// Up to about 100 staff.
    Small,
    /// About 100 to 500 staff.
    Medium,
    /// About 500 to 2,000 staff.
    Large,
    /// Thousands of staff.
    VeryLarge,
}

/// What an org unit is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::county::UnitKind")]
pub enum UnitKind {
    /// A division.
    Division,
    /// A regional or satellite office.
    Office,
    /// A section.
    Section,
    /// A unit.
    Unit,
    /// A team.
    Team,
    /// Anything else.
    Other,
}

/// A county: the tenant. Its name, region and size are public to every signed-in user; its
/// units and members only to those its roles allow.
pub struct County(pub counties::Model);

#[Object]
impl County {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// URL-safe short name (`los-angeles`).
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn region(&self) -> ApiResult<Region> {
        stored(county::Region::from_stored(&self.0.region)).map(Into::into)
    }

    async fn size_class(&self) -> ApiResult<SizeClass> {
        stored(county::SizeClass::from_stored(&self.0.size_class)).map(Into::into)
    }

    /// Child welfare staff, when known.
    async fn staff_count(&self) -> Option<i32> {
        self.0.staff_count
    }

    /// The county's org units, by name. Readable by its members, state faculty and operators;
    /// `null` with a `FORBIDDEN` error for anyone else.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn units(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Option<Connection<String, OrgUnit, EmptyFields, EmptyFields>>> {
        let session = session(ctx)?;
        let reader = session.principal().as_reader_of(CountyId(self.0.id)).api()?;
        let request = page(first, after)?;
        let rows = match request.after {
            None => {
                let key = FirstUnitsOf { county: reader.county_id(), first: request.first };
                loader(ctx)?.load_one(key).await?.unwrap_or(orb_store::Page { items: Vec::new(), has_next_page: false })
            }
            Some(_) => unit_store::list(session, &reader, &request).await.api()?,
        };
        Ok(Some(connection(rows, request.after.is_some(), unit_store::cursor, OrgUnit)))
    }

    /// The county's members. Readable by its lead and operators; `null` with a `FORBIDDEN`
    /// error for anyone else.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Option<Connection<String, Membership, EmptyFields, EmptyFields>>> {
        let session = session(ctx)?;
        let manager = session.principal().as_membership_manager(CountyId(self.0.id)).api()?;
        let request = page(first, after)?;
        let rows = match request.after {
            None => {
                let key = FirstMembersOf { county: manager.county_id(), first: request.first };
                loader(ctx)?.load_one(key).await?.unwrap_or(orb_store::Page { items: Vec::new(), has_next_page: false })
            }
            Some(_) => orb_store::people::members_of_county(session, &manager, &request).await.api()?,
        };
        Ok(Some(connection(rows, request.after.is_some(), |m| m.id.to_string(), Membership)))
    }

    /// Cohorts the county belongs to.
    async fn cohorts(&self, ctx: &Context<'_>) -> ApiResult<Vec<Cohort>> {
        let loader = loader(ctx)?;
        let ids = loader.load_one(CohortsOf(CountyId(self.0.id))).await?.unwrap_or_default();
        let cohorts = loader.load_many(ids).await?;
        let mut list: Vec<Cohort> = cohorts.into_values().map(Cohort).collect();
        list.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(list)
    }

    /// Buddy pairings naming this county on either side.
    async fn buddy_pairings(&self, ctx: &Context<'_>, active_only: Option<bool>) -> ApiResult<Vec<BuddyPairing>> {
        session(ctx)?.principal().as_signed_in().api()?;
        let key = PairingsOfCounty { county: CountyId(self.0.id), active_only: active_only.unwrap_or(true) };
        let rows = loader(ctx)?.load_one(key).await?.unwrap_or_default();
        Ok(rows.into_iter().map(BuddyPairing).collect())
    }
}

/// An org unit inside a county (division, office, unit).
pub struct OrgUnit(pub org_units::Model);

#[Object]
impl OrgUnit {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn kind(&self) -> ApiResult<UnitKind> {
        stored(county::UnitKind::from_stored(&self.0.kind)).map(Into::into)
    }

    async fn county(&self, ctx: &Context<'_>) -> ApiResult<County> {
        let county = loader(ctx)?.load_one(CountyId(self.0.county_id)).await?;
        found(county, "county").map(County)
    }

    /// The unit it sits under, if any.
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<OrgUnit>> {
        match self.0.parent_id {
            Some(parent) => Ok(loader(ctx)?.load_one(OrgUnitId(parent)).await?.map(OrgUnit)),
            None => Ok(None),
        }
    }

    /// Units directly under it, by name.
    async fn children(&self, ctx: &Context<'_>) -> ApiResult<Vec<OrgUnit>> {
        let children = loader(ctx)?.load_one(ChildrenOf(OrgUnitId(self.0.id))).await?.unwrap_or_default();
        Ok(children.into_iter().map(OrgUnit).collect())
    }

    /// Its ancestors from the top of the county down to its parent (`Los Angeles › El Monte Office`).
    async fn path(&self, ctx: &Context<'_>) -> ApiResult<Vec<OrgUnit>> {
        let session = session(ctx)?;
        let mut above =
            unit_store::ancestors(session.db(), CountyId(self.0.county_id), OrgUnitId(self.0.id)).await.api()?;
        above.reverse();
        Ok(above.into_iter().map(OrgUnit).collect())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at.into()
    }
}

/// County queries.
#[derive(Default)]
pub struct CountyQuery;

#[Object]
impl CountyQuery {
    /// Every county, by slug. Any signed-in user.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn counties(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, County, EmptyFields, EmptyFields>> {
        let session = session(ctx)?;
        let request = page(first, after)?;
        let rows = county_store::list(session, &request).await.api()?;
        Ok(connection(rows, request.after.is_some(), |c| encode_cursor(&c.slug), County))
    }

    /// One county by slug.
    async fn county(&self, ctx: &Context<'_>, slug: String) -> ApiResult<County> {
        let session = session(ctx)?;
        found(county_store::by_slug(session, slug.trim()).await.api()?, "county").map(County)
    }

    /// One org unit. Units of counties the caller may not read are not found.
    async fn org_unit(&self, ctx: &Context<'_>, id: ID) -> ApiResult<OrgUnit> {
        let session = session(ctx)?;
        session.principal().as_signed_in().api()?;
        let unit_id: OrgUnitId = crate::context::id("id", &id)?;
        found(unit_store::by_id(session, unit_id).await.api()?, "org unit").map(OrgUnit)
    }
}

/// A county as an operator registers it.
#[derive(InputObject)]
pub struct CreateCountyInput {
    /// Display name (`Los Angeles`).
    pub name: String,
    /// Short name; derived from the name when left out.
    pub slug: Option<String>,
    /// CWDA region.
    pub region: Region,
    /// Size class.
    pub size_class: SizeClass,
    /// Child welfare staff, if known.
    pub staff_count: Option<i32>,
}

/// Changes to a county; fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateCountyInput {
    /// The county.
    pub id: ID,
    /// New display name.
    pub name: Option<String>,
    /// New region.
    pub region: Option<Region>,
    /// New size class.
    pub size_class: Option<SizeClass>,
    /// New staff count.
    pub staff_count: Option<i32>,
}

/// A new org unit.
#[derive(InputObject)]
pub struct CreateOrgUnitInput {
    /// The county it belongs to (the caller must be its lead).
    pub county_id: ID,
    /// Name, unique among its siblings.
    pub name: String,
    /// What it is.
    pub kind: UnitKind,
    /// The unit it sits under, if any.
    pub parent_id: Option<ID>,
}

/// Changes to an org unit; fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateOrgUnitInput {
    /// The unit.
    pub id: ID,
    /// New name.
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<UnitKind>,
    /// Move under this unit.
    pub parent_id: Option<ID>,
    /// Move to the top of the county (ignored when `parentId` is given).
    pub move_to_top: Option<bool>,
}

/// County mutations.
#[derive(Default)]
pub struct CountyMutation;

#[Object]
impl CountyMutation {
    /// Registers a county. Operators only.
    async fn create_county(&self, ctx: &Context<'_>, input: CreateCountyInput) -> ApiResult<County> {
        let session = session(ctx)?;
        let operator = session.principal().as_operator().api()?;
        let new = NewCounty::parse(
            input.slug.as_deref(),
            &input.name,
            input.region.into(),
            input.size_class.into(),
            input.staff_count,
        )
        .api()?;
        let change = session.change().await.api()?;
        let county = county_store::create(&change, &operator, new).await.api()?;
        change.commit().await.api()?;
        Ok(County(county))
    }

    /// Edits a county's public facts. Operators only.
    async fn update_county(&self, ctx: &Context<'_>, input: UpdateCountyInput) -> ApiResult<County> {
        let session = session(ctx)?;
        let operator = session.principal().as_operator().api()?;
        let county_id: CountyId = id("input.id", &input.id)?;
        let mut problems = Problems::new();
        let name = input.name.as_deref().and_then(|n| problems.take(county::county_name("input.name", n)));
        let staff_count = input.staff_count.and_then(|n| problems.take(county::staff_count("input.staffCount", n)));
        problems.finish().api()?;
        let patch = county_store::CountyPatch {
            name,
            region: input.region.map(Into::into),
            size_class: input.size_class.map(Into::into),
            staff_count,
        };
        let change = session.change().await.api()?;
        let county = county_store::update(&change, &operator, county_id, patch).await.api()?;
        change.commit().await.api()?;
        Ok(County(county))
    }

    /// Adds an org unit to a county. The county's lead only.
    async fn create_org_unit(&self, ctx: &Context<'_>, input: CreateOrgUnitInput) -> ApiResult<OrgUnit> {
        let session = session(ctx)?;
        let county_id: CountyId = id("input.countyId", &input.county_id)?;
        let lead = session.principal().as_lead_of(county_id).api()?;
        let mut problems = Problems::new();
        let name = problems.take(county::unit_name("input.name", &input.name));
        let parent_id = match &input.parent_id {
            Some(raw) => problems.take(orb_domain::ids::parse_id::<OrgUnitId>("input.parentId", raw)).map(Some),
            None => Some(None),
        };
        problems.finish().api()?;
        let (Some(name), Some(parent_id)) = (name, parent_id) else {
            return Err(crate::error::coded("invalid input", "BAD_USER_INPUT"));
        };
        let change = session.change().await.api()?;
        let unit =
            unit_store::create(&change, &lead, unit_store::NewOrgUnit { name, kind: input.kind.into(), parent_id })
                .await
                .api()?;
        change.commit().await.api()?;
        Ok(OrgUnit(unit))
    }

    /// Renames, re-kinds or moves an org unit. The county's lead only.
    async fn update_org_unit(&self, ctx: &Context<'_>, input: UpdateOrgUnitInput) -> ApiResult<OrgUnit> {
        let session = session(ctx)?;
        session.principal().as_signed_in().api()?;
        let unit_id: OrgUnitId = id("input.id", &input.id)?;
        let unit = found(unit_store::by_id(session, unit_id).await.api()?, "org unit")?;
        let lead = session.principal().as_lead_of(CountyId(unit.county_id)).api()?;
        let mut problems = Problems::new();
        let name = input.name.as_deref().and_then(|n| problems.take(county::unit_name("input.name", n)));
        let parent_id = match (&input.parent_id, input.move_to_top) {
            (Some(raw), _) => problems
                .take(orb_domain::ids::parse_id::<OrgUnitId>("input.parentId", raw))
                .map(|p| Some(Some(p)))
                .unwrap_or(None),
            (None, Some(true)) => Some(None),
            (None, _) => None,
        };
        problems.finish().api()?;
        let change = session.change().await.api()?;
        let unit = unit_store::update(
            &change,
            &lead,
            unit_id,
            unit_store::OrgUnitPatch { name, kind: input.kind.map(Into::into), parent_id },
        )
        .await
        .api()?;
        change.commit().await.api()?;
        Ok(OrgUnit(unit))
    }

    /// Removes an org unit that has no units under it. The county's lead only.
    async fn delete_org_unit(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ID> {
        let session = session(ctx)?;
        session.principal().as_signed_in().api()?;
        let unit_id: OrgUnitId = crate::context::id("id", &id)?;
        let unit = found(unit_store::by_id(session, unit_id).await.api()?, "org unit")?;
        let lead = session.principal().as_lead_of(CountyId(unit.county_id)).api()?;
        let change = session.change().await.api()?;
        unit_store::delete(&change, &lead, unit_id).await.api()?;
        change.commit().await.api()?;
        Ok(id)
    }
}
