//! Batched loading of related rows, so list resolvers issue one query per relation rather than
//! one per row. Every loader runs on the request's own transaction, under its row-level security.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use orb_domain::ids::{CohortId, CountyId, InstrumentId, InstrumentVersionId, OrgUnitId, UserId};
use orb_domain::people::GlobalRole;
use orb_store::entities::{buddy_pairings, counties, instruments as instrument_rows, memberships, org_units, users};
use orb_store::instruments::{self as instrument_store, VersionRecord};
use orb_store::{Page, PageRequest, Session, cohorts, counties as county_store, org_units as unit_store, people};

use crate::error::{IntoApi, store_error};

/// The request's loaders, sharing its session.
#[derive(Clone)]
pub struct Loaders {
    session: Arc<Session>,
}

impl Loaders {
    /// Loaders on `session`.
    pub fn new(session: Arc<Session>) -> Self {
        Self { session }
    }
}

/// Memberships of one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MembershipsOf(pub UserId);
/// Global roles of one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlobalRolesOf(pub UserId);
/// Units directly under one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChildrenOf(pub OrgUnitId);
/// Counties of one cohort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CountiesOf(pub CohortId);
/// Faculty of one cohort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FacultyOf(pub CohortId);
/// Versions of one instrument, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionsOf(pub InstrumentId);
/// Cohorts one county belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CohortsOf(pub CountyId);

/// The first page of one county's units (a later page, after a cursor, is read on its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FirstUnitsOf {
    /// The county.
    pub county: CountyId,
    /// Rows wanted.
    pub first: u64,
}
/// The first page of one county's members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FirstMembersOf {
    /// The county.
    pub county: CountyId,
    /// Rows wanted.
    pub first: u64,
}
/// Buddy pairings of one county (as testing county or buddy), or active ones only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PairingsOfCounty {
    /// The county.
    pub county: CountyId,
    /// Only active pairings.
    pub active_only: bool,
}
/// Buddy pairings of one cohort, or active ones only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PairingsOfCohort {
    /// The cohort.
    pub cohort: CohortId,
    /// Only active pairings.
    pub active_only: bool,
}

/// The distinct page sizes among `keys`, each with its keys.
fn by_page_size<K: Copy>(keys: &[K], first: impl Fn(&K) -> u64) -> HashMap<u64, Vec<K>> {
    let mut sizes: HashMap<u64, Vec<K>> = HashMap::new();
    for key in keys {
        sizes.entry(first(key)).or_default().push(*key);
    }
    sizes
}

/// Cuts each key's fetched rows (up to one more than wanted) into its page.
fn pages<K: Hash + Eq + Clone, V>(
    keys: &[K],
    rows: impl IntoIterator<Item = (K, V)>,
    first: u64,
) -> HashMap<K, Page<V>> {
    let request = PageRequest { first, after: None };
    group(keys, rows).into_iter().map(|(key, rows)| (key, Page::from_fetched(rows, &request))).collect()
}

fn group<K: Hash + Eq + Clone, V>(keys: &[K], pairs: impl IntoIterator<Item = (K, V)>) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
    for (k, v) in pairs {
        map.entry(k).or_default().push(v);
    }
    map
}

impl Loader<CountyId> for Loaders {
    type Value = counties::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[CountyId]) -> Result<HashMap<CountyId, Self::Value>, Self::Error> {
        let rows = county_store::by_ids(&self.session, keys).await.api()?;
        Ok(rows.into_iter().map(|c| (CountyId(c.id), c)).collect())
    }
}

impl Loader<UserId> for Loaders {
    type Value = users::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[UserId]) -> Result<HashMap<UserId, Self::Value>, Self::Error> {
        let rows = people::users_by_ids(self.session.db(), keys).await.api()?;
        Ok(rows.into_iter().map(|u| (UserId(u.id), u)).collect())
    }
}

impl Loader<OrgUnitId> for Loaders {
    type Value = org_units::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[OrgUnitId]) -> Result<HashMap<OrgUnitId, Self::Value>, Self::Error> {
        let rows = unit_store::by_ids(&self.session, keys).await.api()?;
        Ok(rows.into_iter().map(|u| (OrgUnitId(u.id), u)).collect())
    }
}

impl Loader<MembershipsOf> for Loaders {
    type Value = Vec<memberships::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[MembershipsOf]) -> Result<HashMap<MembershipsOf, Self::Value>, Self::Error> {
        let ids: Vec<UserId> = keys.iter().map(|k| k.0).collect();
        let rows = people::memberships_of_users(self.session.db(), &ids).await.map_err(store_error)?;
        Ok(group(keys, rows.into_iter().map(|m| (MembershipsOf(UserId(m.user_id)), m))))
    }
}

impl Loader<GlobalRolesOf> for Loaders {
    type Value = Vec<GlobalRole>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[GlobalRolesOf]) -> Result<HashMap<GlobalRolesOf, Self::Value>, Self::Error> {
        let ids: Vec<UserId> = keys.iter().map(|k| k.0).collect();
        let rows = people::global_roles_of(self.session.db(), &ids).await.api()?;
        Ok(group(keys, rows.into_iter().map(|(user, role)| (GlobalRolesOf(user), role))))
    }
}

impl Loader<ChildrenOf> for Loaders {
    type Value = Vec<org_units::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ChildrenOf]) -> Result<HashMap<ChildrenOf, Self::Value>, Self::Error> {
        let ids: Vec<OrgUnitId> = keys.iter().map(|k| k.0).collect();
        let rows = unit_store::children_of(&self.session, &ids).await.api()?;
        Ok(group(keys, rows.into_iter().filter_map(|u| Some((ChildrenOf(OrgUnitId(u.parent_id?)), u)))))
    }
}

impl Loader<CountiesOf> for Loaders {
    type Value = Vec<CountyId>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[CountiesOf]) -> Result<HashMap<CountiesOf, Self::Value>, Self::Error> {
        let ids: Vec<CohortId> = keys.iter().map(|k| k.0).collect();
        let rows = cohorts::counties_of(&self.session, &ids).await.api()?;
        Ok(group(keys, rows.into_iter().map(|r| (CountiesOf(CohortId(r.cohort_id)), CountyId(r.county_id)))))
    }
}

impl Loader<FacultyOf> for Loaders {
    type Value = Vec<UserId>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[FacultyOf]) -> Result<HashMap<FacultyOf, Self::Value>, Self::Error> {
        let ids: Vec<CohortId> = keys.iter().map(|k| k.0).collect();
        let rows = cohorts::faculty_of(&self.session, &ids).await.api()?;
        Ok(group(keys, rows.into_iter().map(|r| (FacultyOf(CohortId(r.cohort_id)), UserId(r.user_id)))))
    }
}

impl Loader<CohortsOf> for Loaders {
    type Value = Vec<CohortId>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[CohortsOf]) -> Result<HashMap<CohortsOf, Self::Value>, Self::Error> {
        let ids: Vec<CountyId> = keys.iter().map(|k| k.0).collect();
        let rows = cohorts::cohorts_of_counties(&self.session, &ids).await.api()?;
        Ok(group(keys, rows.into_iter().map(|r| (CohortsOf(CountyId(r.county_id)), CohortId(r.cohort_id)))))
    }
}

impl Loader<CohortId> for Loaders {
    type Value = orb_store::entities::cohorts::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[CohortId]) -> Result<HashMap<CohortId, Self::Value>, Self::Error> {
        let rows = cohorts::by_ids(&self.session, keys).await.api()?;
        Ok(rows.into_iter().map(|c| (CohortId(c.id), c)).collect())
    }
}

impl Loader<InstrumentId> for Loaders {
    type Value = instrument_rows::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[InstrumentId]) -> Result<HashMap<InstrumentId, Self::Value>, Self::Error> {
        let rows = instrument_store::by_ids(&self.session, keys).await.api()?;
        Ok(rows.into_iter().map(|i| (InstrumentId(i.id), i)).collect())
    }
}

impl Loader<InstrumentVersionId> for Loaders {
    type Value = Arc<VersionRecord>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[InstrumentVersionId],
    ) -> Result<HashMap<InstrumentVersionId, Self::Value>, Self::Error> {
        let rows = instrument_store::versions_by_ids(&self.session, keys).await.api()?;
        Ok(rows.into_iter().map(|v| (v.id(), Arc::new(v))).collect())
    }
}

impl Loader<VersionsOf> for Loaders {
    type Value = Vec<Arc<VersionRecord>>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[VersionsOf]) -> Result<HashMap<VersionsOf, Self::Value>, Self::Error> {
        let ids: Vec<InstrumentId> = keys.iter().map(|k| k.0).collect();
        let rows = instrument_store::versions_of(&self.session, &ids).await.api()?;
        Ok(group(keys, rows.into_iter().map(|v| (VersionsOf(InstrumentId(v.model.instrument_id)), Arc::new(v)))))
    }
}

impl Loader<FirstUnitsOf> for Loaders {
    type Value = Page<org_units::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[FirstUnitsOf]) -> Result<HashMap<FirstUnitsOf, Self::Value>, Self::Error> {
        let mut loaded = HashMap::new();
        for (first, keys) in by_page_size(keys, |k| k.first) {
            // The resolver has checked each county may be read; unreadable ones stay empty.
            let readers: Vec<_> =
                keys.iter().filter_map(|k| self.session.principal().as_reader_of(k.county).ok()).collect();
            let rows = unit_store::first_pages(&self.session, &readers, first).await.api()?;
            let rows = rows.into_iter().map(|u| (FirstUnitsOf { county: CountyId(u.county_id), first }, u));
            loaded.extend(pages(&keys, rows, first));
        }
        Ok(loaded)
    }
}

impl Loader<FirstMembersOf> for Loaders {
    type Value = Page<memberships::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[FirstMembersOf]) -> Result<HashMap<FirstMembersOf, Self::Value>, Self::Error> {
        let mut loaded = HashMap::new();
        for (first, keys) in by_page_size(keys, |k| k.first) {
            let managers: Vec<_> =
                keys.iter().filter_map(|k| self.session.principal().as_membership_manager(k.county).ok()).collect();
            let rows = people::first_pages_of_members(&self.session, &managers, first).await.api()?;
            let rows = rows.into_iter().map(|m| (FirstMembersOf { county: CountyId(m.county_id), first }, m));
            loaded.extend(pages(&keys, rows, first));
        }
        Ok(loaded)
    }
}

/// At most a page of pairings per county or cohort, as the unbatched reads gave.
fn capped<K>(mut map: HashMap<K, Vec<buddy_pairings::Model>>) -> HashMap<K, Vec<buddy_pairings::Model>> {
    for rows in map.values_mut() {
        rows.truncate(orb_store::page::MAX_PAGE_SIZE as usize);
    }
    map
}

impl Loader<PairingsOfCounty> for Loaders {
    type Value = Vec<buddy_pairings::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[PairingsOfCounty]) -> Result<HashMap<PairingsOfCounty, Self::Value>, Self::Error> {
        let mut loaded = HashMap::new();
        for active_only in [false, true] {
            let keys: Vec<PairingsOfCounty> = keys.iter().copied().filter(|k| k.active_only == active_only).collect();
            if keys.is_empty() {
                continue;
            }
            let counties: Vec<CountyId> = keys.iter().map(|k| k.county).collect();
            let rows = cohorts::pairings_of(&self.session, &counties, &[], active_only).await.api()?;
            let rows = rows.into_iter().flat_map(|p| {
                let testing = PairingsOfCounty { county: CountyId(p.testing_county_id), active_only };
                let buddy = PairingsOfCounty { county: CountyId(p.buddy_county_id), active_only };
                [(testing, p.clone()), (buddy, p)]
            });
            let mut grouped = group(&keys, rows);
            grouped.retain(|key, _| keys.contains(key));
            loaded.extend(capped(grouped));
        }
        Ok(loaded)
    }
}

impl Loader<PairingsOfCohort> for Loaders {
    type Value = Vec<buddy_pairings::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[PairingsOfCohort]) -> Result<HashMap<PairingsOfCohort, Self::Value>, Self::Error> {
        let mut loaded = HashMap::new();
        for active_only in [false, true] {
            let keys: Vec<PairingsOfCohort> = keys.iter().copied().filter(|k| k.active_only == active_only).collect();
            if keys.is_empty() {
                continue;
            }
            let ids: Vec<CohortId> = keys.iter().map(|k| k.cohort).collect();
            let rows = cohorts::pairings_of(&self.session, &[], &ids, active_only).await.api()?;
            let rows = rows.into_iter().map(|p| (PairingsOfCohort { cohort: CohortId(p.cohort_id), active_only }, p));
            loaded.extend(capped(group(&keys, rows)));
        }
        Ok(loaded)
    }
}
