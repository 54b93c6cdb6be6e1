//! Who may do what. A request authenticates once into a [`Principal`]; an action that needs a
//! role asks the principal for a *capability* ([`Operator`], [`Faculty`], [`LeadOf`],
//! [`CountyReader`]). Capabilities can only be made here, and the store's writes take them as
//! arguments, so a resolver that forgets a check does not compile.

use std::collections::BTreeSet;

use crate::error::Error;
use crate::ids::{CountyId, UserId};
use crate::people::{CountyRole, GlobalRole};

/// One of the caller's county memberships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountyMembership {
    /// The county.
    pub county_id: CountyId,
    /// The caller's role there.
    pub role: CountyRole,
}

/// Who is asking, as loaded fresh from the database at the start of each request, so a removed
/// membership or role takes effect on the next request rather than at token expiry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    user_id: Option<UserId>,
    global_roles: BTreeSet<GlobalRole>,
    memberships: Vec<CountyMembership>,
    partner_counties: BTreeSet<CountyId>,
    system: bool,
}

impl Principal {
    /// Nobody: a request without credentials.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// A signed-in user with their roles and the counties paired with theirs by an active
    /// buddy pairing.
    pub fn user(
        user_id: UserId,
        global_roles: impl IntoIterator<Item = GlobalRole>,
        memberships: Vec<CountyMembership>,
        partner_counties: impl IntoIterator<Item = CountyId>,
    ) -> Self {
        Self {
            user_id: Some(user_id),
            global_roles: global_roles.into_iter().collect(),
            memberships,
            partner_counties: partner_counties.into_iter().collect(),
            system: false,
        }
    }

    /// The operator's own tools (the `orb` command line, the demo loader), acting with every
    /// role in the given counties. Never built from a request.
    pub fn system(counties: impl IntoIterator<Item = CountyId>) -> Self {
        Self {
            user_id: None,
            global_roles: [GlobalRole::Admin, GlobalRole::Faculty].into_iter().collect(),
            memberships: counties
                .into_iter()
                .map(|county_id| CountyMembership { county_id, role: CountyRole::Lead })
                .collect(),
            partner_counties: BTreeSet::new(),
            system: true,
        }
    }

    /// The caller's user id, if signed in.
    pub fn user_id(&self) -> Option<UserId> {
        self.user_id
    }

    /// The caller's global roles.
    pub fn global_roles(&self) -> &BTreeSet<GlobalRole> {
        &self.global_roles
    }

    /// The caller's county memberships.
    pub fn memberships(&self) -> &[CountyMembership] {
        &self.memberships
    }

    /// Counties paired with one of the caller's by an active buddy pairing.
    pub fn partner_counties(&self) -> &BTreeSet<CountyId> {
        &self.partner_counties
    }

    fn signed_in(&self) -> Result<(), Error> {
        if self.user_id.is_some() || self.system { Ok(()) } else { Err(Error::Unauthenticated) }
    }

    /// Whether the caller holds `role` at state level.
    pub fn has_global_role(&self, role: GlobalRole) -> bool {
        self.global_roles.contains(&role)
    }

    /// The caller's role in `county`, if any.
    pub fn role_in(&self, county: CountyId) -> Option<CountyRole> {
        self.memberships.iter().find(|m| m.county_id == county).map(|m| m.role)
    }

    /// The capability to read what every signed-in user may read (counties, cohorts, pairings).
    pub fn as_signed_in(&self) -> Result<SignedIn, Error> {
        self.signed_in()?;
        Ok(SignedIn { user_id: self.user_id })
    }

    /// The operator capability: create counties and accounts, grant roles.
    pub fn as_operator(&self) -> Result<Operator, Error> {
        self.signed_in()?;
        if self.has_global_role(GlobalRole::Admin) {
            Ok(Operator { user_id: self.user_id })
        } else {
            Err(Error::forbidden("only an operator (admin) may do this"))
        }
    }

    /// The faculty capability: manage cohorts and buddy pairings.
    pub fn as_faculty(&self) -> Result<Faculty, Error> {
        self.signed_in()?;
        if self.has_global_role(GlobalRole::Faculty) {
            Ok(Faculty { user_id: self.user_id })
        } else {
            Err(Error::forbidden("only state faculty may do this"))
        }
    }

    /// The lead capability for one county: manage its units and staff memberships.
    pub fn as_lead_of(&self, county: CountyId) -> Result<LeadOf, Error> {
        self.signed_in()?;
        if self.role_in(county) == Some(CountyRole::Lead) {
            Ok(LeadOf { county_id: county, user_id: self.user_id })
        } else {
            Err(Error::forbidden("only the county's lead may do this"))
        }
    }

    /// The capability to manage who belongs to `county`: its lead (staff only) or an operator.
    pub fn as_membership_manager(&self, county: CountyId) -> Result<MembershipManager, Error> {
        if let Ok(operator) = self.as_operator() {
            return Ok(MembershipManager { county_id: county, user_id: operator.user_id, may_appoint_leads: true });
        }
        let lead = self.as_lead_of(county).map_err(|e| match e {
            Error::Forbidden(_) => Error::forbidden("only the county's lead or an operator may manage its members"),
            other => other,
        })?;
        Ok(MembershipManager { county_id: county, user_id: lead.user_id, may_appoint_leads: false })
    }

    /// The capability to read a county's internal structure (org units): its members, state
    /// faculty and operators. Buddy counties see aggregates only, through results.
    pub fn as_reader_of(&self, county: CountyId) -> Result<CountyReader, Error> {
        self.signed_in()?;
        if self.role_in(county).is_some()
            || self.has_global_role(GlobalRole::Faculty)
            || self.has_global_role(GlobalRole::Admin)
        {
            Ok(CountyReader { county_id: county })
        } else {
            Err(Error::forbidden("only the county's members, state faculty and operators may read this"))
        }
    }

    /// The tenant settings the database's row-level security evaluates for this caller.
    pub fn tenant_settings(&self) -> TenantSettings {
        let join = |ids: &mut dyn Iterator<Item = CountyId>| {
            ids.map(|id| id.to_string()).collect::<Vec<_>>().join(",")
        };
        TenantSettings {
            user_id: self.user_id.map(|id| id.to_string()).unwrap_or_default(),
            global_roles: self.global_roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(","),
            member_counties: join(&mut self.memberships.iter().map(|m| m.county_id)),
            lead_counties: join(
                &mut self.memberships.iter().filter(|m| m.role == CountyRole::Lead).map(|m| m.county_id),
            ),
            partner_counties: join(&mut self.partner_counties.iter().copied()),
        }
    }
}

/// The values of the `orb.*` transaction settings that row-level security policies read.
/// Empty text means "none": no access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSettings {
    /// `orb.user_id`
    pub user_id: String,
    /// `orb.global_roles`
    pub global_roles: String,
    /// `orb.member_counties`
    pub member_counties: String,
    /// `orb.lead_counties`
    pub lead_counties: String,
    /// `orb.partner_counties`
    pub partner_counties: String,
}

/// Proof the caller is signed in.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn {
    user_id: Option<UserId>,
}

impl SignedIn {
    /// The acting user (none for the operator's own tools).
    pub fn user_id(&self) -> Option<UserId> {
        self.user_id
    }
}

/// Proof the caller is an operator.
#[derive(Debug, Clone, Copy)]
pub struct Operator {
    user_id: Option<UserId>,
}

impl Operator {
    /// The acting user (none for the operator's own tools).
    pub fn user_id(&self) -> Option<UserId> {
        self.user_id
    }
}

/// Proof the caller is state faculty.
#[derive(Debug, Clone, Copy)]
pub struct Faculty {
    user_id: Option<UserId>,
}

impl Faculty {
    /// The acting user (none for the operator's own tools).
    pub fn user_id(&self) -> Option<UserId> {
        self.user_id
    }
}

/// Proof the caller leads one county; the county comes from the proof, not from input.
#[derive(Debug, Clone, Copy)]
pub struct LeadOf {
    county_id: CountyId,
    user_id: Option<UserId>,
}

impl LeadOf {
    /// The county led.
    pub fn county_id(&self) -> CountyId {
        self.county_id
    }

    /// The acting user (none for the operator's own tools).
    pub fn user_id(&self) -> Option<UserId> {
        self.user_id
    }
}

/// Proof the caller may manage one county's memberships, and whether they may appoint leads.
#[derive(Debug, Clone, Copy)]
pub struct MembershipManager {
    county_id: CountyId,
    user_id: Option<UserId>,
    may_appoint_leads: bool,
}

impl MembershipManager {
    /// The county whose members are managed.
    pub fn county_id(&self) -> CountyId {
        self.county_id
    }

    /// The acting user (none for the operator's own tools).
    pub fn user_id(&self) -> Option<UserId> {
        self.user_id
    }

    /// Whether a membership with `role` may be granted or removed by this manager.
    pub fn may_manage(&self, role: CountyRole) -> Result<(), Error> {
        if role == CountyRole::Staff || self.may_appoint_leads {
            Ok(())
        } else {
            Err(Error::forbidden("only an operator may appoint or remove a county lead"))
        }
    }
}

/// Proof the caller may read one county's internal structure.
#[derive(Debug, Clone, Copy)]
pub struct CountyReader {
    county_id: CountyId,
}

impl CountyReader {
    /// The county readable.
    pub fn county_id(&self) -> CountyId {
        self.county_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(county: CountyId) -> Principal {
        Principal::user(UserId::new(), [], vec![CountyMembership { county_id: county, role: CountyRole::Lead }], [])
    }

    #[test]
    fn anonymous_callers_must_sign_in() {
        let nobody = Principal::anonymous();
        assert_eq!(nobody.as_signed_in().err(), Some(Error::Unauthenticated));
        assert_eq!(nobody.as_operator().err(), Some(Error::Unauthenticated));
        assert_eq!(nobody.as_lead_of(CountyId::new()).err(), Some(Error::Unauthenticated));
    }

    #[test]
    fn a_lead_leads_only_their_county() {
        let (mine, theirs) = (CountyId::new(), CountyId::new());
        let p = lead(mine);
        assert_eq!(p.as_lead_of(mine).map(|l| l.county_id()).ok(), Some(mine));
        assert!(matches!(p.as_lead_of(theirs), Err(Error::Forbidden(_))));
        assert!(p.as_reader_of(mine).is_ok());
        assert!(matches!(p.as_reader_of(theirs), Err(Error::Forbidden(_))));
        assert!(matches!(p.as_operator(), Err(Error::Forbidden(_))));
        assert!(matches!(p.as_faculty(), Err(Error::Forbidden(_))));
    }

    #[test]
    fn a_lead_manages_staff_but_not_leads() {
        let county = CountyId::new();
        let manager = lead(county).as_membership_manager(county).expect("lead manages members");
        assert!(manager.may_manage(CountyRole::Staff).is_ok());
        assert!(manager.may_manage(CountyRole::Lead).is_err());
        let staff = Principal::user(UserId::new(), [], vec![CountyMembership { county_id: county, role: CountyRole::Staff }], []);
        assert!(staff.as_membership_manager(county).is_err());
        let admin = Principal::user(UserId::new(), [GlobalRole::Admin], vec![], []);
        assert!(admin.as_membership_manager(county).and_then(|m| m.may_manage(CountyRole::Lead)).is_ok());
    }

    #[test]
    fn faculty_read_every_county_but_lead_none() {
        let faculty = Principal::user(UserId::new(), [GlobalRole::Faculty], vec![], []);
        assert!(faculty.as_reader_of(CountyId::new()).is_ok());
        assert!(faculty.as_lead_of(CountyId::new()).is_err());
    }

    #[test]
    fn tenant_settings_list_counties_by_role() {
        let (a, b, partner) = (CountyId::new(), CountyId::new(), CountyId::new());
        let p = Principal::user(
            UserId::new(),
            [GlobalRole::Faculty],
            vec![
                CountyMembership { county_id: a, role: CountyRole::Lead },
                CountyMembership { county_id: b, role: CountyRole::Staff },
            ],
            [partner],
        );
        let s = p.tenant_settings();
        assert_eq!(s.member_counties, format!("{a},{b}"));
        assert_eq!(s.lead_counties, a.to_string());
        assert_eq!(s.partner_counties, partner.to_string());
        assert_eq!(s.global_roles, "faculty");
        let none = Principal::anonymous().tenant_settings();
        assert!(none.user_id.is_empty() && none.member_counties.is_empty() && none.global_roles.is_empty());
    }
}
