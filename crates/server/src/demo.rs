//! The demo of DOMAIN.md: the seven testing counties of the ORB Development Circle and their
//! buddies, paired as the seed pairs them, with org units, the cohort, one lead and one staff
//! account per county, and the instruments the repository ships in `instruments/` (the state's
//! ORB readiness assessment and Orange's and Sonoma's adaptations), published, an open survey
//! in Orange, and synthetic readiness waves — closed, their results released — in Sacramento
//! (two), Sonoma, Calaveras and Kings, entered as paper forms, and the seven state key messages
//! with message tests and feedback in four counties, Sacramento's SO WHAT? planning matrix on
//! its 2017 wave and the seven county testing profiles. Loaded through the store like any
//! other change, idempotently: running it again adds only what is missing. County facts come from
//! the seed profiles; no person's name or contact details are used.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use orb_domain::collection::{
    AccessCode, AdministrationSettings, AdministrationStatus, Anonymity, Answers, DEFAULT_MIN_GROUP, Perspective,
};
use orb_domain::county::{NewCounty, Region, SizeClass, UnitKind};
use orb_domain::ids::{AdministrationId, CohortId, CountyId, InstrumentId, OrgUnitId};
use orb_domain::instrument::{InstrumentDocument, ItemKind};
use orb_domain::people::{CountyRole, Email, GlobalRole, Password};
use orb_store::collection::{AnswerUpdate, PaperForm};
use orb_store::instruments::{self, OwnerFilter, VersionRecord, VersionStatus};
use orb_store::{PageRequest, Session, Store, cohorts, collection, counties, org_units, people};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;
use uuid::Uuid;

mod closing_the_loop;
mod engagement;

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
    /// The closed, released waves: "County: title (n responses)".
    pub waves: Vec<String>,
}

/// Loads whatever part of the demo is missing.
pub async fn load(store: &Store, password: &str) -> anyhow::Result<DemoSummary> {
    let password = Password::demo_data("ORB_DEMO_PASSWORD", password)?;
    let county_ids = load_counties(store).await?;
    let session = store.begin_system(county_ids.iter().map(|(_, id)| *id).collect()).await?;
    load_units(&session, &county_ids).await?;
    engagement::load(&session, &county_ids).await?;
    let accounts = load_accounts(&session, &county_ids, &password).await?;
    load_cohort(&session, &county_ids).await?;
    load_instruments(&session, &county_ids).await?;
    let survey = load_survey(&session, &county_ids).await?;
    let waves = load_waves(&session, &county_ids).await?;
    closing_the_loop::load(&session, &county_ids).await?;
    session.commit().await?;
    Ok(DemoSummary { accounts, survey, waves })
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
    let version = published_version(session, OwnerFilter::County(orange), "orb-readiness-orange").await?;
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

/// The published version of an instrument, by owner and key.
async fn published_version(session: &Session, owner: OwnerFilter, key: &str) -> anyhow::Result<VersionRecord> {
    let instrument = instruments::list(session, owner)
        .await?
        .into_iter()
        .find(|i| i.key == key)
        .ok_or_else(|| anyhow::anyhow!("demo instrument {key} is missing"))?;
    instruments::versions_of(session, &[InstrumentId(instrument.id)])
        .await?
        .into_iter()
        .find(|v| v.status() == VersionStatus::Published)
        .ok_or_else(|| anyhow::anyhow!("demo instrument {key} has no published version"))
}

/// A synthetic readiness wave: loaded as paper forms, closed and its results released.
struct DemoWave {
    county: &'static str,
    /// Part of every form's idempotency key (`demo-<county>-<tag>-<n>`).
    tag: &'static str,
    title: &'static str,
    /// The county's own instrument, by key; `None`: the state's.
    instrument: Option<&'static str>,
    /// How many days before the load it opened (it closes at the load).
    opened_days_ago: i64,
    /// Seed of the wave's answers, so every load writes the same ones.
    seed: u64,
    /// Respondents by perspective.
    groups: &'static [(Perspective, usize)],
    /// The county's latent readiness per domain on a 1..5 scale.
    levels: &'static [(&'static str, f64)],
    /// A domain on which the county is split: half answer 1–2, half 4–5.
    split: Option<&'static str>,
}

impl DemoWave {
    fn level(&self, domain: &str) -> f64 {
        self.levels.iter().find(|(d, _)| *d == domain).map_or(3.0, |(_, l)| *l)
    }

    fn size(&self) -> usize {
        self.groups.iter().map(|(_, n)| n).sum()
    }
}

/// The state instrument's key.
const STATE_INSTRUMENT: &str = "orb-readiness";

const WAVES: &[DemoWave] = &[
    DemoWave {
        county: "sacramento",
        tag: "wave1",
        title: "ORB readiness wave 1 (2017)",
        instrument: None,
        opened_days_ago: 60,
        seed: 2017_0101,
        groups: &[
            (Perspective::Executive, 3),
            (Perspective::Manager, 12),
            (Perspective::Supervisor, 25),
            (Perspective::SocialWorker, 60),
            (Perspective::ClericalSupport, 20),
        ],
        levels: &[("FIT", 3.4), ("CLIMATE", 3.1), ("TEAMS", 3.3), ("COMMS", 2.7), ("DATA", 2.9), ("LEAD", 2.8)],
        split: None,
    },
    // A year on: the county's plan targeted leadership and communication.
    DemoWave {
        county: "sacramento",
        tag: "wave2",
        title: "ORB readiness wave 2 (2018)",
        instrument: None,
        opened_days_ago: 30,
        seed: 2018_0101,
        groups: &[
            (Perspective::Executive, 4),
            (Perspective::Manager, 13),
            (Perspective::Supervisor, 27),
            (Perspective::SocialWorker, 64),
            (Perspective::ClericalSupport, 22),
        ],
        levels: &[("FIT", 3.45), ("CLIMATE", 3.15), ("TEAMS", 3.3), ("COMMS", 3.3), ("DATA", 2.95), ("LEAD", 3.4)],
        split: None,
    },
    DemoWave {
        county: "sonoma",
        tag: "wave1",
        title: "Sonoma ORB readiness survey (2017)",
        instrument: Some("orb-readiness-sonoma"),
        opened_days_ago: 45,
        seed: 2017_0201,
        groups: &[
            (Perspective::Executive, 2),
            (Perspective::Manager, 5),
            (Perspective::Supervisor, 11),
            (Perspective::SocialWorker, 30),
            (Perspective::ClericalSupport, 7),
            (Perspective::CommunityPartner, 5),
        ],
        levels: &[("FIT", 3.6), ("CLIMATE", 3.5), ("TEAMS", 3.2), ("COMMS", 3.0), ("DATA", 2.6), ("LEAD", 3.3)],
        split: None,
    },
    DemoWave {
        county: "calaveras",
        tag: "wave1",
        title: "ORB readiness wave 1 (2017)",
        instrument: None,
        opened_days_ago: 45,
        seed: 2017_0301,
        groups: &[(Perspective::SocialWorker, 9), (Perspective::Supervisor, 3), (Perspective::CommunityPartner, 2)],
        levels: &[("FIT", 3.2), ("CLIMATE", 3.9), ("TEAMS", 3.6), ("COMMS", 3.4), ("DATA", 2.7), ("LEAD", 3.5)],
        split: None,
    },
    DemoWave {
        county: "kings",
        tag: "wave1",
        title: "ORB readiness wave 1 (2017)",
        instrument: None,
        opened_days_ago: 45,
        seed: 2017_0401,
        groups: &[
            (Perspective::Executive, 2),
            (Perspective::Manager, 5),
            (Perspective::Supervisor, 8),
            (Perspective::SocialWorker, 23),
            (Perspective::ClericalSupport, 7),
        ],
        levels: &[("FIT", 3.0), ("CLIMATE", 2.9), ("TEAMS", 3.0), ("COMMS", 2.8), ("DATA", 3.1), ("LEAD", 3.2)],
        split: Some("TEAMS"),
    },
];

/// How much higher (or lower) a perspective rates readiness than the county as a whole.
fn perspective_offset(perspective: Perspective) -> f64 {
    match perspective {
        Perspective::Executive => 0.5,
        Perspective::Manager => 0.35,
        Perspective::Supervisor => 0.15,
        Perspective::SocialWorker => -0.1,
        Perspective::ClericalSupport | Perspective::Other => 0.0,
        Perspective::YouthAndFamily => -0.3,
        Perspective::CommunityPartner => -0.4,
    }
}

/// Short answers to the open "what would help" items, by domain: no names, no contact details.
const HELP_ANSWERS: &[(&str, &[&str])] = &[
    (
        "FIT",
        &[
            "Fewer new initiatives at the same time.",
            "Show how the CPM connects to what we already do.",
            "Protected time to learn the practice behaviors.",
            "Explain why this matters now.",
        ],
    ),
    (
        "CLIMATE",
        &[
            "Room to try things without being blamed when they go wrong.",
            "Recognize good practice in unit meetings.",
            "Follow through on staff suggestions.",
        ],
    ),
    (
        "TEAMS",
        &[
            "Clearer roles in child and family team meetings.",
            "Invite partners earlier, not only at the end.",
            "More time to meet with other programs.",
            "Coverage so we can attend teaming meetings.",
        ],
    ),
    (
        "COMMS",
        &[
            "Updates in plain language before changes happen.",
            "Tell us what happened with our feedback.",
            "Share news with clerical and support staff too.",
            "One place to find CPM updates.",
        ],
    ),
    (
        "DATA",
        &[
            "Share results with line staff, not just managers.",
            "Walk through the reports at unit meetings.",
            "Use data to learn, not to blame.",
        ],
    ),
    (
        "LEAD",
        &[
            "Leaders at unit meetings, not only in emails.",
            "Consider caseloads before adding new work.",
            "More support and coaching for supervisors.",
            "Keep the commitment when priorities shift.",
        ],
    ),
];

/// Chance that a respondent skips a Likert item.
const SKIP_CHANCE: f64 = 0.05;
/// Chance that a respondent writes something in an open item.
const HELP_CHANCE: f64 = 0.12;

/// A draw from a normal distribution with mean 0 (Box–Muller).
fn normal(rng: &mut StdRng, sd: f64) -> f64 {
    let u1: f64 = 1.0 - rng.r#gen::<f64>();
    let u2: f64 = rng.r#gen::<f64>();
    sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// One respondent's answers: a readiness level per domain (the county's, their perspective's
/// offset, their own disposition and noise), each Likert item answered near it — mirrored on
/// reverse-scored items — or, on the wave's split domain, on their side of the split.
fn respondent_answers(
    rng: &mut StdRng,
    wave: &DemoWave,
    document: &InstrumentDocument,
    perspective: Perspective,
    low_side: bool,
) -> Answers {
    let disposition = perspective_offset(perspective) + normal(rng, 0.4);
    let levels: BTreeMap<&str, f64> = document
        .domains
        .iter()
        .map(|d| (d.code.as_str(), wave.level(&d.code) + disposition + normal(rng, 0.3)))
        .collect();
    let mut answers = Answers::new();
    for item in &document.items {
        match item.kind {
            ItemKind::Likert => {
                let range = item.scale.as_ref().and_then(|code| document.scales.iter().find(|s| &s.code == code));
                let Some((min, max)) = range.and_then(|s| s.range()) else { continue };
                if rng.gen_bool(SKIP_CHANCE) {
                    continue;
                }
                let agreement = if wave.split == Some(item.domain.as_str()) {
                    if low_side { rng.gen_range(min..=min + 1) } else { rng.gen_range(max - 1..=max) }
                } else {
                    let level = levels.get(item.domain.as_str()).copied().unwrap_or(3.0);
                    let (lo, hi) = (f64::from(min), f64::from(max));
                    let on_scale = lo + (level - 1.0) / 4.0 * (hi - lo) + normal(rng, 0.55);
                    // Rounded and clamped to the scale, so the cast cannot overflow.
                    on_scale.round().clamp(lo, hi) as i32
                };
                let value = if item.reverse_scored { min + max - agreement } else { agreement };
                answers.insert(item.code.clone(), json!(value));
            }
            ItemKind::Text => {
                let phrases = HELP_ANSWERS.iter().find(|(d, _)| *d == item.domain).map(|(_, p)| *p);
                if let Some(phrases) = phrases
                    && rng.gen_bool(HELP_CHANCE)
                    && let Some(phrase) = phrases.choose(rng)
                {
                    answers.insert(item.code.clone(), json!(phrase));
                }
            }
            _ => {}
        }
    }
    answers
}

/// The wave's paper forms, in a shuffled order, each with its own idempotency key. Where the
/// county has units, nine in ten respondents say which one they work in.
fn wave_forms(wave: &DemoWave, document: &InstrumentDocument, units: &[Uuid]) -> Vec<PaperForm> {
    let mut rng = StdRng::seed_from_u64(wave.seed);
    // A stream of its own, so the answers stay those of a county without units.
    let mut unit_rng = StdRng::seed_from_u64(wave.seed.wrapping_add(1));
    let mut perspectives: Vec<Perspective> =
        wave.groups.iter().flat_map(|(p, n)| std::iter::repeat_n(*p, *n)).collect();
    perspectives.shuffle(&mut rng);
    perspectives
        .into_iter()
        .enumerate()
        .map(|(n, perspective)| PaperForm {
            key: format!("demo-{}-{}-{:03}", wave.county, wave.tag, n + 1),
            update: AnswerUpdate {
                answers: respondent_answers(&mut rng, wave, document, perspective, n % 2 == 0),
                perspective: Some(perspective),
                org_unit_id: (!units.is_empty() && unit_rng.gen_range(0..10) > 0)
                    .then(|| units[unit_rng.gen_range(0..units.len())])
                    .map(OrgUnitId),
                language: Some(document.version.default_language.clone()),
            },
        })
        .collect()
}

/// The most forms `enter_paper_forms` takes at once.
const PAPER_BATCH: usize = 500;

async fn load_waves(session: &Session, ids: &[(&'static str, CountyId)]) -> anyhow::Result<Vec<String>> {
    let now = Utc::now();
    let state = published_version(session, OwnerFilter::State, STATE_INSTRUMENT).await?;
    let mut loaded = Vec::new();
    for wave in WAVES {
        let county_id = county(ids, wave.county)?;
        let name = COUNTIES.iter().find(|c| c.slug == wave.county).map_or(wave.county, |c| c.name);
        loaded.push(format!("{name}: {} ({} responses)", wave.title, wave.size()));
        if collection::list(session, county_id).await?.iter().any(|a| a.title == wave.title) {
            continue;
        }
        let own;
        let version = match wave.instrument {
            None => &state,
            Some(key) => {
                own = published_version(session, OwnerFilter::County(county_id), key).await?;
                &own
            }
        };
        load_wave(session, county_id, wave, version, now).await?;
    }
    Ok(loaded)
}

/// Creates the wave, opens it, enters its paper forms, closes it and releases its results.
async fn load_wave(
    session: &Session,
    county_id: CountyId,
    wave: &DemoWave,
    version: &VersionRecord,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let lead = session.principal().as_lead_of(county_id)?;
    let settings = AdministrationSettings {
        title: wave.title.to_owned(),
        opens_at: now - Duration::days(wave.opened_days_ago),
        closes_at: now + Duration::days(30),
        perspectives: wave.groups.iter().map(|(p, _)| *p).collect(),
        languages: version.document.version.languages.clone(),
        anonymity: Anonymity::Anonymous,
        min_group_size: DEFAULT_MIN_GROUP,
    };
    let change = session.change().await?;
    let administration = collection::create(&change, &lead, version, settings).await?;
    let id = AdministrationId(administration.id);
    collection::set_status(&change, &lead, id, AdministrationStatus::Open, None, now).await?;
    let reader = session.principal().as_reader_of(county_id)?;
    let units: Vec<Uuid> = org_units::list(session, &reader, &PageRequest { first: 100, after: None })
        .await?
        .items
        .iter()
        .map(|u| u.id)
        .collect();
    let mut forms = wave_forms(wave, &version.document, &units);
    while !forms.is_empty() {
        let rest = forms.split_off(forms.len().min(PAPER_BATCH));
        let batch = std::mem::replace(&mut forms, rest);
        collection::enter_paper_forms(&change, &lead, id, batch, true, now).await?;
    }
    collection::set_status(&change, &lead, id, AdministrationStatus::Closed, None, now).await?;
    orb_store::results::release(&change, &lead, id, now).await?;
    change.commit().await?;
    Ok(())
}
