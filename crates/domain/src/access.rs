//! Who may do what. A request authenticates once into a [`Principal`]; an action that needs a
//! role asks the principal for a *capability* ([`Operator`], [`Faculty`], [`LeadOf`],
//! [`CountyReader`]). Capabilities can only be made here, and the store's writes take them as
//! arguments, so a resolver that forgets a check does not compile.

use std::collections::BTreeSet;

use crate::closing_the_loop::ProfileStatus;
use crate::error::Error;
use crate::ids::{AdministrationId, CountyId, InvitationId, ResponseId, UserId};
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
    respondent: Option<RespondentScope>,
    system: bool,
}

/// What a respondent token opens: exactly one response of one administration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RespondentScope {
    /// The response.
    pub response_id: ResponseId,
    /// Its administration.
    pub administration_id: AdministrationId,
    /// Its county.
    pub county_id: CountyId,
    /// The invitation it was opened with, if any.
    pub invitation_id: Option<InvitationId>,
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
            respondent: None,
            system: false,
        }
    }

    /// A respondent holding a token for one response: may read and answer it, nothing else.
    pub fn respondent(scope: RespondentScope) -> Self {
        Self { respondent: Some(scope), ..Self::default() }
    }

    /// The operator's own tools (the `orb` command line, the demo loader), acting with every
    /// role in the given counties. Never built from a request.
    pub fn system(counties: impl IntoIterator<Item = CountyId>) -> Self {
        let counties: Vec<CountyId> = counties.into_iter().collect();
        Self {
            user_id: None,
            global_roles: [GlobalRole::Admin, GlobalRole::Faculty].into_iter().collect(),
            memberships: counties
                .iter()
                .map(|&county_id| CountyMembership { county_id, role: CountyRole::Lead })
                .collect(),
            // Acting for each county, it is also each one's buddy (the demo writes reflections).
            partner_counties: counties.into_iter().collect(),
            respondent: None,
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

    /// The capability to answer one response: only a respondent token gives it.
    pub fn as_respondent(&self) -> Result<RespondentScope, Error> {
        self.respondent.ok_or_else(|| {
            if self.user_id.is_some() {
                Error::forbidden("this needs a respondent token from a survey code")
            } else {
                Error::Unauthenticated
            }
        })
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

    /// The capability to author instruments of `owner` (`None`: the state's): faculty author
    /// the state's, a county's lead their county's.
    pub fn as_instrument_author(&self, owner: Option<CountyId>) -> Result<InstrumentAuthor, Error> {
        match owner {
            None => self.as_faculty().map(|f| InstrumentAuthor { owner: None, user_id: f.user_id }),
            Some(county) => {
                self.as_lead_of(county).map(|l| InstrumentAuthor { owner: Some(county), user_id: l.user_id })
            }
        }
    }

    /// Whether the caller may read a version of an instrument of `owner` (`None`: the state's).
    /// Drafts only by their authors; published versions of the state by everyone signed in, of
    /// a county by its members, its active buddies and state faculty.
    pub fn may_read_instrument_version(&self, owner: Option<CountyId>, draft: bool) -> bool {
        if self.signed_in().is_err() {
            return false;
        }
        let author = self.as_instrument_author(owner).is_ok();
        match (owner, draft) {
            (_, true) => author,
            (None, false) => true,
            (Some(county), false) => {
                author
                    || self.role_in(county).is_some()
                    || self.partner_counties.contains(&county)
                    || self.has_global_role(GlobalRole::Faculty)
            }
        }
    }

    /// Whether the caller may read an administration's scores: its county's lead once they are
    /// available (the survey closed, or an interim cut frozen); the county's staff, its active
    /// buddies and state faculty once the lead has also released them. Returns whether the read
    /// crosses counties (to be audited).
    pub fn may_read_results(&self, county: CountyId, available: bool, released: bool) -> Result<ResultsRead, Error> {
        self.signed_in()?;
        let lead = self.role_in(county) == Some(CountyRole::Lead);
        let member = self.role_in(county).is_some();
        let outsider = self.partner_counties.contains(&county) || self.has_global_role(GlobalRole::Faculty);
        if !(member || outsider) {
            return Err(Error::NotFound("administration"));
        }
        if !available {
            return Err(Error::conflict(
                "scores are released when the survey closes (or at an interim cut); until then only response counts show",
            ));
        }
        if lead || released {
            Ok(ResultsRead { cross_county: !member })
        } else {
            Err(Error::forbidden("the county's lead has not released these results yet"))
        }
    }

    /// Whether the caller may read an administration's free-text answers: its lead once
    /// closed, its staff once released, its buddies only when the county shares them, faculty
    /// never (they compare aggregates).
    pub fn may_read_free_text(
        &self,
        county: CountyId,
        closed: bool,
        released: bool,
        shared_with_buddies: bool,
    ) -> Result<(), Error> {
        let read = self.may_read_results(county, closed, released)?;
        let member = self.role_in(county).is_some();
        if member || (read.cross_county && shared_with_buddies && self.partner_counties.contains(&county)) {
            Ok(())
        } else {
            Err(Error::forbidden(
                "free-text answers stay with the county unless it shares them with its buddy; faculty see aggregates only",
            ))
        }
    }

    /// The capability to give message feedback as a member of `county` (staff or lead).
    pub fn as_member_of(&self, county: CountyId) -> Result<MemberOf, Error> {
        self.signed_in()?;
        match (self.user_id, self.role_in(county)) {
            (Some(user_id), Some(_)) => Ok(MemberOf { county_id: county, user_id }),
            _ => Err(Error::NotFound("message test")),
        }
    }

    /// Whether the caller may read a county's message tests and their feedback aggregates: its
    /// members (with comments), its active buddies and state faculty (aggregates only, audited).
    /// Anyone else is told the county's tests do not exist.
    pub fn may_read_engagement(&self, county: CountyId) -> Result<EngagementRead, Error> {
        self.signed_in()?;
        if self.role_in(county).is_some() {
            Ok(EngagementRead { cross_county: false, comments: true })
        } else if self.partner_counties.contains(&county) || self.has_global_role(GlobalRole::Faculty) {
            Ok(EngagementRead { cross_county: true, comments: false })
        } else {
            Err(Error::NotFound("message test"))
        }
    }

    /// Whether the caller may read a county's planning matrices and their progress: its members
    /// (with the rows' notes), its active buddies and state faculty (without notes, audited).
    /// Anyone else is told the county's matrices do not exist.
    pub fn may_read_plan(&self, county: CountyId) -> Result<PlanRead, Error> {
        self.signed_in()?;
        if self.role_in(county).is_some() {
            Ok(PlanRead { cross_county: false, notes: true })
        } else if self.partner_counties.contains(&county) || self.has_global_role(GlobalRole::Faculty) {
            Ok(PlanRead { cross_county: true, notes: false })
        } else {
            Err(Error::NotFound("planning matrix"))
        }
    }

    /// Whether the caller may read a county's testing profile in `status`: its members always;
    /// its active buddies and state faculty once shared (audited); everyone signed in once
    /// published. Anyone else is told it does not exist.
    pub fn may_read_profile(&self, county: CountyId, status: ProfileStatus) -> Result<ProfileRead, Error> {
        self.signed_in()?;
        let member = self.role_in(county).is_some();
        let outsider = self.partner_counties.contains(&county) || self.has_global_role(GlobalRole::Faculty);
        match status {
            _ if member => Ok(ProfileRead { cross_county: false }),
            ProfileStatus::Published => Ok(ProfileRead { cross_county: false }),
            ProfileStatus::Shared if outsider => Ok(ProfileRead { cross_county: true }),
            _ => Err(Error::NotFound("testing profile")),
        }
    }

    /// The tenant settings the database's row-level security evaluates for this caller.
    pub fn tenant_settings(&self) -> TenantSettings {
        let join = |ids: &mut dyn Iterator<Item = CountyId>| ids.map(|id| id.to_string()).collect::<Vec<_>>().join(",");
        TenantSettings {
            user_id: self.user_id.map(|id| id.to_string()).unwrap_or_default(),
            global_roles: self.global_roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(","),
            member_counties: join(&mut self.memberships.iter().map(|m| m.county_id)),
            lead_counties: join(
                &mut self.memberships.iter().filter(|m| m.role == CountyRole::Lead).map(|m| m.county_id),
            ),
            partner_counties: join(&mut self.partner_counties.iter().copied()),
            respondent_response: self.respondent.map(|r| r.response_id.to_string()).unwrap_or_default(),
            respondent_administration: self.respondent.map(|r| r.administration_id.to_string()).unwrap_or_default(),
            respondent_county: self.respondent.map(|r| r.county_id.to_string()).unwrap_or_default(),
            respondent_invitation: self
                .respondent
                .and_then(|r| r.invitation_id)
                .map(|i| i.to_string())
                .unwrap_or_default(),
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
    /// `orb.respondent_response`
    pub respondent_response: String,
    /// `orb.respondent_administration`
    pub respondent_administration: String,
    /// `orb.respondent_county`
    pub respondent_county: String,
    /// `orb.respondent_invitation`
    pub respondent_invitation: String,
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

/// Permission to read one administration's scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultsRead {
    /// Whether the reader is outside the county (a buddy or faculty): such reads are audited.
    pub cross_county: bool,
}

/// Proof the caller is a signed-in member of one county: may give message feedback there.
#[derive(Debug, Clone, Copy)]
pub struct MemberOf {
    county_id: CountyId,
    user_id: UserId,
}

impl MemberOf {
    /// The county.
    pub fn county_id(&self) -> CountyId {
        self.county_id
    }

    /// The member.
    pub fn user_id(&self) -> UserId {
        self.user_id
    }
}

/// Permission to read a county's message tests and feedback aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngagementRead {
    /// Whether the reader is outside the county (a buddy or faculty): such reads are audited.
    pub cross_county: bool,
    /// Whether the reader may see comments (the county's members only).
    pub comments: bool,
}

/// Permission to read a county's planning matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanRead {
    /// Whether the reader is outside the county (a buddy or faculty): such reads are audited.
    pub cross_county: bool,
    /// Whether the reader sees the rows' working notes (the county's members only).
    pub notes: bool,
}

/// Permission to read a county's testing profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileRead {
    /// Whether the reader is a buddy or faculty reading a shared profile: such reads are audited
    /// (a published profile is public within orb and is not).
    pub cross_county: bool,
}

/// Proof the caller may author instruments of one owner.
#[derive(Debug, Clone, Copy)]
pub struct InstrumentAuthor {
    owner: Option<CountyId>,
    user_id: Option<UserId>,
}

impl InstrumentAuthor {
    /// The owner authored for: `None` for the state.
    pub fn owner(&self) -> Option<CountyId> {
        self.owner
    }

    /// The acting user (none for the operator's own tools).
    pub fn user_id(&self) -> Option<UserId> {
        self.user_id
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

    /// Who may read a county's aggregates, and a county that may not.
    struct Readers {
        county: CountyId,
        other: CountyId,
        staff: Principal,
        buddy: Principal,
        faculty: Principal,
    }

    fn readers() -> Readers {
        let (county, buddy_county, other) = (CountyId::new(), CountyId::new(), CountyId::new());
        let member = |county_id, role| vec![CountyMembership { county_id, role }];
        Readers {
            county,
            other,
            staff: Principal::user(UserId::new(), [], member(county, CountyRole::Staff), []),
            buddy: Principal::user(UserId::new(), [], member(buddy_county, CountyRole::Lead), [county]),
            faculty: Principal::user(UserId::new(), [GlobalRole::Faculty], vec![], []),
        }
    }

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
        let staff = Principal::user(
            UserId::new(),
            [],
            vec![CountyMembership { county_id: county, role: CountyRole::Staff }],
            [],
        );
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
    fn results_open_to_the_lead_at_close_and_to_others_on_release() {
        let Readers { county, other, staff, buddy, faculty } = readers();
        let stranger = lead(other);
        assert!(
            matches!(lead(county).may_read_results(county, false, false), Err(Error::Conflict { .. })),
            "not while open"
        );
        assert_eq!(lead(county).may_read_results(county, true, false), Ok(ResultsRead { cross_county: false }));
        assert!(matches!(staff.may_read_results(county, true, false), Err(Error::Forbidden(_))));
        assert_eq!(staff.may_read_results(county, true, true), Ok(ResultsRead { cross_county: false }));
        assert_eq!(buddy.may_read_results(county, true, true), Ok(ResultsRead { cross_county: true }));
        assert_eq!(faculty.may_read_results(county, true, true), Ok(ResultsRead { cross_county: true }));
        assert_eq!(stranger.may_read_results(county, true, true), Err(Error::NotFound("administration")));
        let admin = Principal::user(UserId::new(), [GlobalRole::Admin], vec![], []);
        assert!(admin.may_read_results(county, true, true).is_err(), "operators read no survey data by their role");
    }

    #[test]
    fn a_respondent_may_answer_their_response_and_nothing_else() {
        let scope = RespondentScope {
            response_id: ResponseId::new(),
            administration_id: AdministrationId::new(),
            county_id: CountyId::new(),
            invitation_id: None,
        };
        let respondent = Principal::respondent(scope);
        assert_eq!(respondent.as_respondent(), Ok(scope));
        assert_eq!(respondent.as_signed_in().err(), Some(Error::Unauthenticated));
        assert!(respondent.as_reader_of(scope.county_id).is_err());
        assert!(!respondent.may_read_instrument_version(None, false));
        assert_eq!(respondent.tenant_settings().respondent_response, scope.response_id.to_string());
        assert!(matches!(lead(scope.county_id).as_respondent(), Err(Error::Forbidden(_))));
    }

    #[test]
    fn instrument_drafts_are_read_only_by_their_authors() {
        let (county, other) = (CountyId::new(), CountyId::new());
        let lead = lead(county);
        let faculty = Principal::user(UserId::new(), [GlobalRole::Faculty], vec![], []);
        let buddy = Principal::user(
            UserId::new(),
            [],
            vec![CountyMembership { county_id: other, role: CountyRole::Lead }],
            [county],
        );
        assert!(lead.may_read_instrument_version(Some(county), true));
        assert!(!faculty.may_read_instrument_version(Some(county), true), "faculty never read a county's drafts");
        assert!(faculty.may_read_instrument_version(Some(county), false));
        assert!(!buddy.may_read_instrument_version(Some(county), true));
        assert!(buddy.may_read_instrument_version(Some(county), false), "buddies read published versions");
        assert!(!lead.may_read_instrument_version(Some(other), false), "nor another county's");
        assert!(faculty.may_read_instrument_version(None, true));
        assert!(!lead.may_read_instrument_version(None, true), "the state's drafts are faculty's");
        assert!(lead.may_read_instrument_version(None, false));
        assert!(!Principal::anonymous().may_read_instrument_version(None, false));
        assert!(faculty.as_instrument_author(None).is_ok() && lead.as_instrument_author(None).is_err());
        assert!(lead.as_instrument_author(Some(county)).is_ok() && faculty.as_instrument_author(Some(county)).is_err());
    }

    #[test]
    fn engagement_reads_members_with_comments_buddies_and_faculty_without() {
        let Readers { county, other, staff, buddy, faculty } = readers();
        let member = EngagementRead { cross_county: false, comments: true };
        let outsider = EngagementRead { cross_county: true, comments: false };
        assert_eq!(staff.may_read_engagement(county), Ok(member));
        assert_eq!(lead(county).may_read_engagement(county), Ok(member));
        assert_eq!(buddy.may_read_engagement(county), Ok(outsider));
        assert_eq!(faculty.may_read_engagement(county), Ok(outsider));
        assert_eq!(lead(other).may_read_engagement(county), Err(Error::NotFound("message test")));
        let admin = Principal::user(UserId::new(), [GlobalRole::Admin], vec![], []);
        assert!(admin.may_read_engagement(county).is_err(), "operators read no feedback by their role");
        assert!(staff.as_member_of(county).is_ok());
        assert!(buddy.as_member_of(county).is_err() && faculty.as_member_of(county).is_err());
        assert!(Principal::system([county]).as_member_of(county).is_err(), "feedback comes from people");
    }

    #[test]
    fn plans_read_by_members_with_notes_buddies_and_faculty_without() {
        let Readers { county, other, staff, buddy, faculty } = readers();
        assert_eq!(staff.may_read_plan(county), Ok(PlanRead { cross_county: false, notes: true }));
        assert_eq!(buddy.may_read_plan(county), Ok(PlanRead { cross_county: true, notes: false }));
        assert_eq!(faculty.may_read_plan(county), Ok(PlanRead { cross_county: true, notes: false }));
        assert_eq!(lead(other).may_read_plan(county), Err(Error::NotFound("planning matrix")));
        assert_eq!(Principal::anonymous().may_read_plan(county), Err(Error::Unauthenticated));
    }

    #[test]
    fn profiles_open_up_as_they_are_shared_and_published() {
        use ProfileStatus::{Draft, Published, Shared};
        let Readers { county, other, staff, buddy, faculty } = readers();
        let stranger = lead(other);
        let inside = Ok(ProfileRead { cross_county: false });
        let across = Ok(ProfileRead { cross_county: true });
        let hidden = Err(Error::NotFound("testing profile"));
        assert_eq!(staff.may_read_profile(county, Draft), inside);
        assert_eq!(buddy.may_read_profile(county, Draft), hidden);
        assert_eq!(faculty.may_read_profile(county, Draft), hidden);
        assert_eq!(buddy.may_read_profile(county, Shared), across);
        assert_eq!(faculty.may_read_profile(county, Shared), across);
        assert_eq!(stranger.may_read_profile(county, Shared), hidden);
        assert_eq!(stranger.may_read_profile(county, Published), inside);
        assert_eq!(Principal::anonymous().may_read_profile(county, Published), Err(Error::Unauthenticated));
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
