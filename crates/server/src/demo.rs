//! The demo of DOMAIN.md: the seven testing counties of the ORB Development Circle and their
//! buddies, paired as the seed pairs them, with org units, the cohort, one lead and one staff
//! account per county, and the instruments the repository ships in `instruments/` (the state's
//! ORB readiness assessment and Orange's and Sonoma's adaptations), published. Loaded through the store like any other change, idempotently:
//! running it again adds only what is missing. County facts come from the seed profiles;
//! no person's name or contact details are used.

use chrono::{Duration, Utc};
use orb_domain::collection::{AccessCode, AdministrationSettings, AdministrationStatus, Anonymity, Perspective};
use orb_domain::county::{NewCounty, Region, SizeClass, UnitKind};
use orb_domain::ids::{CohortId, CountyId, OrgUnitId};
use orb_domain::instrument::InstrumentDocument;
use orb_domain::people::{CountyRole, Email, GlobalRole, Password};
use orb_store::instruments::{self, OwnerFilter, VersionStatus};
use orb_store::{PageRequest, Session, Store, cohorts, collection, counties, org_units, people};
use rand::SeedableRng;

/// The domain every demo account's email ends in.
pub const DEMO_DOMAIN: &str = "demo.orb";
/// The password of every demo account unless `ORB_DEMO_PASSWORD` says otherwise.
pub const DEFAULT_DEMO_PASSWORD: &str = "orb-demo-password";
/// The demo cohort.
pub const DEMO_COHORT: &str = "ORB Development Circle 2017–18";

struct DemoCounty {
    slug: &'static str,
    name: &'static str,
    region: Region,
    size: SizeClass,
    staff: Option<i32>,
}

const COUNTIES: &[DemoCounty] = &[
    DemoCounty {
        slug: "calaveras",
        name: "Calaveras",
        region: Region::Central,
        size: SizeClass::Small,
        staff: Some(20),
    },
    DemoCounty {
        slug: "stanislaus",
        name: "Stanislaus",
        region: Region::Central,
        size: SizeClass::Medium,
        staff: None,
    },
    DemoCounty { slug: "kings", name: "Kings", region: Region::Central, size: SizeClass::Medium, staff: Some(81) },
    DemoCounty { slug: "alameda", name: "Alameda", region: Region::BayArea, size: SizeClass::Large, staff: None },
    DemoCounty {
        slug: "los-angeles",
        name: "Los Angeles",
        region: Region::LosAngeles,
        size: SizeClass::VeryLarge,
        staff: None,
    },
    DemoCounty {
        slug: "santa-clara",
        name: "Santa Clara",
        region: Region::BayArea,
        size: SizeClass::Large,
        staff: None,
    },
    DemoCounty { slug: "orange", name: "Orange", region: Region::Southern, size: SizeClass::Large, staff: None },
    DemoCounty { slug: "ventura", name: "Ventura", region: Region::Southern, size: SizeClass::Medium, staff: None },
    DemoCounty { slug: "shasta", name: "Shasta", region: Region::Northern, size: SizeClass::Medium, staff: Some(200) },
    DemoCounty {
        slug: "san-francisco",
        name: "San Francisco",
        region: Region::BayArea,
        size: SizeClass::Large,
        staff: None,
    },
    DemoCounty { slug: "sonoma", name: "Sonoma", region: Region::BayArea, size: SizeClass::Medium, staff: Some(100) },
    DemoCounty {
        slug: "sacramento",
        name: "Sacramento",
        region: Region::Central,
        size: SizeClass::Large,
        staff: Some(802),
    },
];

/// Testing county → buddy county, as the seed's profiles pair them.
const PAIRINGS: &[(&str, &str)] = &[
    ("calaveras", "stanislaus"),
    ("kings", "alameda"),
    ("los-angeles", "santa-clara"),
    ("orange", "ventura"),
    ("shasta", "san-francisco"),
    ("sonoma", "sacramento"),
    ("sacramento", "sonoma"),
];

/// Org units: county, unit, kind, parent unit (by name).
const UNITS: &[(&str, &str, UnitKind, Option<&str>)] = &[
    ("los-angeles", "El Monte Office", UnitKind::Office, None),
    ("los-angeles", "Office Design Team", UnitKind::Team, Some("El Monte Office")),
    ("los-angeles", "Implementation Team", UnitKind::Team, Some("El Monte Office")),
    ("sonoma", "Santa Rosa Office", UnitKind::Office, None),
    ("sonoma", "Petaluma Satellite Office", UnitKind::Office, None),
    ("sonoma", "CPM Implementation Team", UnitKind::Team, Some("Santa Rosa Office")),
    ("sacramento", "Division 1", UnitKind::Division, None),
    ("sacramento", "Division 2", UnitKind::Division, None),
    ("sacramento", "Division 3", UnitKind::Division, None),
    ("sacramento", "Division 4", UnitKind::Division, None),
    ("kings", "Child Welfare Services", UnitKind::Division, None),
    ("orange", "Implementation Team", UnitKind::Team, None),
    ("shasta", "Children's Services Branch", UnitKind::Division, None),
];

/// The instrument files the demo publishes, with the county owning each (`None`: the state).
/// Order matters: an adaptation follows the version it derives from.
const INSTRUMENTS: &[(Option<&str>, &str)] = &[
    (None, include_str!("../../../instruments/state-orb-readiness.json")),
    (Some("orange"), include_str!("../../../instruments/orange-orb-readiness.json")),
    (Some("sonoma"), include_str!("../../../instruments/sonoma-orb-readiness.json")),
];

/// The demo's open survey: Orange's adaptation, taking answers.
pub const DEMO_SURVEY: &str = "Orange readiness survey (demo wave)";

/// The demo survey's codes: drawn from a fixed seed, so every start prints the same ones.
/// Demo only: real codes come from the operating system's random source.
fn demo_codes() -> (AccessCode, Vec<AccessCode>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(20_171_101);
    let open_link = AccessCode::generate(&mut rng);
    let invitations = (0..10).map(|_| AccessCode::generate(&mut rng)).collect();
    (open_link, invitations)
}

/// The open demo survey, for printing.
#[derive(Debug, Clone)]
pub struct DemoSurvey {
    /// Its title.
    pub title: String,
    /// The open link's code.
    pub open_link_code: String,
    /// Sample single-use invitation codes.
    pub invitation_codes: Vec<String>,
}

/// A demo account, for printing.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    /// Login email.
    pub email: String,
    /// What it may do.
    pub role: String,
}

/// What the demo holds, for printing.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    /// Every demo account.
    pub accounts: Vec<DemoAccount>,
    /// The open survey.
    pub survey: DemoSurvey,
}

/// Loads whatever part of the demo is missing.
pub async fn load(store: &Store, password: &str) -> anyhow::Result<DemoSummary> {
    let password = Password::parse("ORB_DEMO_PASSWORD", password)?;
    let county_ids = load_counties(store).await?;
    let session = store.begin_system(county_ids.iter().map(|(_, id)| *id).collect()).await?;
    load_units(&session, &county_ids).await?;
    let accounts = load_accounts(&session, &county_ids, &password).await?;
    load_cohort(&session, &county_ids).await?;
    load_instruments(&session, &county_ids).await?;
    let survey = load_survey(&session, &county_ids).await?;
    session.commit().await?;
    Ok(DemoSummary { accounts, survey })
}

async fn load_counties(store: &Store) -> anyhow::Result<Vec<(&'static str, CountyId)>> {
    let session = store.begin_system(Vec::new()).await?;
    let operator = session.principal().as_operator()?;
    let mut ids = Vec::new();
    for c in COUNTIES {
        let id = match counties::by_slug(&session, c.slug).await? {
            Some(existing) => CountyId(existing.id),
            None => {
                let change = session.change().await?;
                let new = NewCounty::parse(Some(c.slug), c.name, c.region, c.size, c.staff)?;
                let created = counties::create(&change, &operator, new).await?;
                change.commit().await?;
                CountyId(created.id)
            }
        };
        ids.push((c.slug, id));
    }
    session.commit().await?;
    Ok(ids)
}

fn county(ids: &[(&'static str, CountyId)], slug: &str) -> anyhow::Result<CountyId> {
    ids.iter().find(|(s, _)| *s == slug).map(|(_, id)| *id).ok_or_else(|| anyhow::anyhow!("demo county {slug} missing"))
}

async fn load_units(session: &Session, ids: &[(&'static str, CountyId)]) -> anyhow::Result<()> {
    for (slug, name, kind, parent) in UNITS {
        let county_id = county(ids, slug)?;
        let reader = session.principal().as_reader_of(county_id)?;
        let existing = org_units::list(session, &reader, &PageRequest { first: 100, after: None }).await?.items;
        if existing.iter().any(|u| u.name == *name) {
            continue;
        }
        let parent_id = match parent {
            Some(parent) => Some(OrgUnitId(
                existing
                    .iter()
                    .find(|u| u.name == *parent)
                    .ok_or_else(|| anyhow::anyhow!("demo unit {parent} must come before {name}"))?
                    .id,
            )),
            None => None,
        };
        let lead = session.principal().as_lead_of(county_id)?;
        let change = session.change().await?;
        org_units::create(&change, &lead, org_units::NewOrgUnit { name: (*name).into(), kind: *kind, parent_id })
            .await?;
        change.commit().await?;
    }
    Ok(())
}

async fn load_accounts(
    session: &Session,
    ids: &[(&'static str, CountyId)],
    password: &Password,
) -> anyhow::Result<Vec<DemoAccount>> {
    let operator = session.principal().as_operator()?;
    let mut accounts = Vec::new();
    let global = [("admin", "Demo Operator", GlobalRole::Admin), ("faculty", "Demo Faculty", GlobalRole::Faculty)];
    for (local, display, role) in global {
        let email = format!("{local}@{DEMO_DOMAIN}");
        let user = ensure_user(session, &email, display, password).await?;
        let change = session.change().await?;
        people::grant_global_role(&change, &operator, user, role).await?;
        change.commit().await?;
        accounts.push(DemoAccount { email, role: role.as_str().to_owned() });
    }
    for c in COUNTIES {
        let county_id = county(ids, c.slug)?;
        let manager = session.principal().as_membership_manager(county_id)?;
        for role in [CountyRole::Lead, CountyRole::Staff] {
            let email = format!("{role}@{}.{DEMO_DOMAIN}", c.slug);
            let display = format!("{} {}", c.name, if role == CountyRole::Lead { "Lead" } else { "Staff" });
            let user = ensure_user(session, &email, &display, password).await?;
            let change = session.change().await?;
            match people::grant_membership(&change, &manager, user, role).await {
                Ok(_) => change.commit().await?,
                Err(orb_store::StoreError::Refused(orb_domain::Error::Conflict { .. })) => drop(change),
                Err(other) => return Err(other.into()),
            }
            accounts.push(DemoAccount { email, role: format!("{role} of {}", c.name) });
        }
    }
    Ok(accounts)
}

async fn ensure_user(
    session: &Session,
    email: &str,
    display_name: &str,
    password: &Password,
) -> anyhow::Result<orb_domain::ids::UserId> {
    let email = Email::parse("email", email)?;
    if let Some(id) = people::user_id_by_email(session.db(), &email).await? {
        return Ok(id);
    }
    let operator = session.principal().as_operator()?;
    let password_hash = password.hash();
    let change = session.change().await?;
    let user = people::create_user(
        &change,
        &operator,
        people::NewUser { email, display_name: display_name.to_owned(), password_hash },
    )
    .await?;
    change.commit().await?;
    Ok(orb_domain::ids::UserId(user.id))
}

async fn load_cohort(session: &Session, ids: &[(&'static str, CountyId)]) -> anyhow::Result<()> {
    let faculty = session.principal().as_faculty()?;
    let existing = cohorts::list(session, &PageRequest { first: 100, after: None }).await?.items;
    let cohort = match existing.iter().find(|c| c.name == DEMO_COHORT) {
        Some(c) => CohortId(c.id),
        None => {
            let change = session.change().await?;
            let created = cohorts::create(
                &change,
                &faculty,
                cohorts::NewCohort {
                    name: DEMO_COHORT.into(),
                    starts_on: chrono::NaiveDate::from_ymd_opt(2017, 7, 1),
                    ends_on: chrono::NaiveDate::from_ymd_opt(2018, 6, 30),
                },
            )
            .await?;
            change.commit().await?;
            CohortId(created.id)
        }
    };
    let change = session.change().await?;
    for (_, county_id) in ids {
        cohorts::add_county(&change, &faculty, cohort, *county_id).await?;
    }
    if let Some(user) =
        people::user_id_by_email(change.db(), &Email::parse("email", &format!("faculty@{DEMO_DOMAIN}"))?).await?
    {
        cohorts::add_faculty(&change, &faculty, cohort, user).await?;
    }
    change.commit().await?;
    let filter = cohorts::PairingFilter { cohort: Some(cohort), active: Some(true), ..Default::default() };
    let active = cohorts::pairings(session, &filter, &PageRequest { first: 100, after: None }).await?.items;
    for (testing, buddy) in PAIRINGS {
        let (testing, buddy) = (county(ids, testing)?, county(ids, buddy)?);
        if active.iter().any(|p| p.testing_county_id == testing.0 && p.buddy_county_id == buddy.0) {
            continue;
        }
        let change = session.change().await?;
        cohorts::create_pairing(&change, &faculty, cohort, testing, buddy).await?;
        change.commit().await?;
    }
    Ok(())
}

async fn load_instruments(session: &Session, ids: &[(&'static str, CountyId)]) -> anyhow::Result<()> {
    for (owner, text) in INSTRUMENTS {
        let document: InstrumentDocument = serde_json::from_str(text)?;
        let owner = owner.map(|slug| county(ids, slug)).transpose()?;
        let filter = owner.map_or(OwnerFilter::State, OwnerFilter::County);
        let existing = instruments::list(session, filter).await?.into_iter().find(|i| i.key == document.instrument.key);
        if let Some(instrument) = existing {
            let versions = instruments::versions_of(session, &[orb_domain::ids::InstrumentId(instrument.id)]).await?;
            if versions.iter().any(|v| v.status() != VersionStatus::Draft) {
                continue;
            }
        }
        let author = session.principal().as_instrument_author(owner)?;
        let change = session.change().await?;
        let draft = instruments::import(&change, session, &author, document).await?;
        instruments::publish(&change, &author, draft.id()).await?;
        change.commit().await?;
    }
    Ok(())
}

async fn load_survey(session: &Session, ids: &[(&'static str, CountyId)]) -> anyhow::Result<DemoSurvey> {
    let (open_link, invitations) = demo_codes();
    let summary = DemoSurvey {
        title: DEMO_SURVEY.to_owned(),
        open_link_code: open_link.display(),
        invitation_codes: invitations.iter().map(AccessCode::display).collect(),
    };
    let orange = county(ids, "orange")?;
    if collection::list(session, orange).await?.iter().any(|a| a.title == DEMO_SURVEY) {
        return Ok(summary);
    }
    let instrument = instruments::list(session, OwnerFilter::County(orange))
        .await?
        .into_iter()
        .find(|i| i.key == "orb-readiness-orange")
        .ok_or_else(|| anyhow::anyhow!("Orange's demo instrument is missing"))?;
    let version = instruments::versions_of(session, &[orb_domain::ids::InstrumentId(instrument.id)])
        .await?
        .into_iter()
        .find(|v| v.status() == VersionStatus::Published)
        .ok_or_else(|| anyhow::anyhow!("Orange's demo instrument has no published version"))?;
    let lead = session.principal().as_lead_of(orange)?;
    let now = Utc::now();
    let settings = AdministrationSettings {
        title: DEMO_SURVEY.to_owned(),
        opens_at: now - Duration::days(1),
        closes_at: now + Duration::days(60),
        perspectives: vec![
            Perspective::Executive,
            Perspective::Manager,
            Perspective::Supervisor,
            Perspective::SocialWorker,
            Perspective::ClericalSupport,
            Perspective::CommunityPartner,
        ],
        languages: version.document.version.languages.clone(),
        anonymity: Anonymity::Anonymous,
        min_group_size: 5,
    };
    let change = session.change().await?;
    let administration = collection::create(&change, &lead, &version, settings).await?;
    let id = orb_domain::ids::AdministrationId(administration.id);
    collection::set_status(&change, &lead, id, AdministrationStatus::Open, None, now).await?;
    collection::register_invitations(&change, &lead, id, &invitations, None, None).await?;
    collection::set_open_link(&change, &lead, id, &open_link, None).await?;
    change.commit().await?;
    Ok(summary)
}
