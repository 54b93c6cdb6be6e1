//! The demo's communication for engagement: the seven state key messages of the seed (from
//! `key_messages.json`), Orange's and Sacramento's adaptations of some, and message tests with
//! synthetic attendee feedback in four counties — one a Board of Supervisors meeting with four
//! answers, so its feedback shows withheld. Idempotent: a county with message tests is left as is.

use chrono::NaiveDate;
use orb_domain::collection::AccessCode;
use orb_domain::engagement::{Audience, MessageFormat, MessageTestDetails, MessageText, Ratings};
use orb_domain::ids::{CountyId, CountyKeyMessageId, KeyMessageId, MessageTestId, TestMessageId};
use orb_store::engagement::{self as store, GivenFeedback, MessageRef};
use orb_store::{PageRequest, Session};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;

use super::county;

/// The seed's seven themes, transcribed.
const KEY_MESSAGES: &str = include_str!("key_messages.json");

#[derive(Deserialize)]
struct Library {
    messages: Vec<LibraryMessage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LibraryMessage {
    theme: String,
    big_theme: String,
    details: Vec<String>,
}

/// County adaptations: county, the state message's position, theme, big theme.
const ADAPTATIONS: &[(&str, i32, &str, &str)] = &[
    (
        "orange",
        1,
        "Why we do this work",
        "The Core Practice Model is why we came to this work: it gives us hope for the children and families of Orange County.",
    ),
    (
        "orange",
        6,
        "Support makes the difference",
        "The CPM works when we support it: leaders listen, staff have a voice, and we learn together as we go.",
    ),
    (
        "sacramento",
        5,
        "One giant effort",
        "Looking hard at our practice and our system takes every one of us; we all have different roles in one effort.",
    ),
];

/// A message used in a demo test: a state message (by position) or the county's adaptation of it.
#[derive(Clone, Copy)]
enum Used {
    State(i32),
    Adapted(i32),
}

struct DemoTest {
    county: &'static str,
    held_on: (i32, u32, u32),
    audience: Audience,
    format: MessageFormat,
    reached: i32,
    notes: &'static str,
    messages: &'static [Used],
    /// Attendees who gave feedback.
    attendees: usize,
    /// Typical rating (1–5).
    mood: f64,
}

const TESTS: &[DemoTest] = &[
    DemoTest {
        county: "orange",
        held_on: (2018, 2, 14),
        audience: Audience::Supervisors,
        format: MessageFormat::Dialogue,
        reached: 24,
        notes: "Supervisors' meeting; messages read aloud, then discussed at tables.",
        messages: &[Used::Adapted(1), Used::State(4), Used::Adapted(6)],
        attendees: 12,
        mood: 4.1,
    },
    DemoTest {
        county: "orange",
        held_on: (2018, 3, 6),
        audience: Audience::BoardOfSupervisors,
        format: MessageFormat::Presentation,
        reached: 5,
        notes: "Five-minute item at the Board's study session.",
        messages: &[Used::State(7)],
        attendees: 4,
        mood: 3.4,
    },
    DemoTest {
        county: "sacramento",
        held_on: (2018, 4, 10),
        audience: Audience::LineStaff,
        format: MessageFormat::FocusGroup,
        reached: 40,
        notes: "Two focus groups of line staff from Divisions 2 and 3.",
        messages: &[Used::Adapted(5), Used::State(2)],
        attendees: 9,
        mood: 3.8,
    },
    DemoTest {
        county: "sacramento",
        held_on: (2018, 5, 2),
        audience: Audience::CommunityPartners,
        format: MessageFormat::Dialogue,
        reached: 15,
        notes: "Community partners' breakfast.",
        messages: &[Used::State(3)],
        attendees: 6,
        mood: 4.3,
    },
    DemoTest {
        county: "calaveras",
        held_on: (2018, 1, 20),
        audience: Audience::ExecutiveTeam,
        format: MessageFormat::Dialogue,
        reached: 6,
        notes: "Executive team retreat.",
        messages: &[Used::State(1), Used::State(7)],
        attendees: 5,
        mood: 4.0,
    },
    DemoTest {
        county: "shasta",
        held_on: (2018, 3, 15),
        audience: Audience::Educators,
        format: MessageFormat::Presentation,
        reached: 30,
        notes: "Presentation to school district liaisons.",
        messages: &[Used::State(1), Used::State(3)],
        attendees: 7,
        mood: 3.6,
    },
];

/// Comments attendees might write; synthetic.
const COMMENTS: &[&str] = &[
    "This is what I needed to hear.",
    "Shorter would land better with my unit.",
    "Good for starting a conversation at our team meeting.",
    "I would say this differently to families.",
    "Clear, but I want to know what changes for me.",
    "Strong message; more examples please.",
];

/// Loads what is missing.
pub async fn load(session: &Session, ids: &[(&'static str, CountyId)]) -> anyhow::Result<()> {
    let library = load_library(session).await?;
    for (slug, position, theme, big_theme) in ADAPTATIONS {
        let county_id = county(ids, slug)?;
        let state = state_at(&library, *position)?;
        let existing = store::adaptations(session, county_id).await?;
        if existing.iter().any(|a| a.key_message_id == state.0) {
            continue;
        }
        let lead = session.principal().as_lead_of(county_id)?;
        let text = MessageText::parse("adaptation", theme, big_theme, &[])?;
        let change = session.change().await?;
        store::adapt(&change, &lead, state, text).await?;
        change.commit().await?;
    }
    let mut rng = StdRng::seed_from_u64(20_180_301);
    for slug in ["orange", "sacramento", "calaveras", "shasta"] {
        let county_id = county(ids, slug)?;
        let recorded = store::message_tests(session, county_id, &PageRequest { first: 1, after: None }).await?;
        if !recorded.items.is_empty() {
            continue;
        }
        let adaptations = store::adaptations(session, county_id).await?;
        for test in TESTS.iter().filter(|t| t.county == slug) {
            load_test(session, county_id, &library, &adaptations, test, &mut rng).await?;
        }
    }
    Ok(())
}

async fn load_library(session: &Session) -> anyhow::Result<Vec<(i32, KeyMessageId)>> {
    let library: Library = serde_json::from_str(KEY_MESSAGES)?;
    let faculty = session.principal().as_faculty()?;
    let existing = store::key_messages(session).await?;
    let mut out = Vec::new();
    for (i, message) in library.messages.iter().enumerate() {
        let position = i32::try_from(i + 1)?;
        let id = match existing.iter().find(|m| m.position == position) {
            Some(m) => KeyMessageId(m.id),
            None => {
                let text = MessageText::parse("keyMessage", &message.theme, &message.big_theme, &message.details)?;
                let change = session.change().await?;
                let created = store::create_key_message(&change, &faculty, Some(position), text).await?;
                change.commit().await?;
                KeyMessageId(created.id)
            }
        };
        out.push((position, id));
    }
    Ok(out)
}

fn state_at(library: &[(i32, KeyMessageId)], position: i32) -> anyhow::Result<KeyMessageId> {
    library
        .iter()
        .find(|(p, _)| *p == position)
        .map(|(_, id)| *id)
        .ok_or_else(|| anyhow::anyhow!("key message {position} missing"))
}

async fn load_test(
    session: &Session,
    county_id: CountyId,
    library: &[(i32, KeyMessageId)],
    adaptations: &[orb_store::entities::county_key_messages::Model],
    test: &DemoTest,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let lead = session.principal().as_lead_of(county_id)?;
    let mut refs = Vec::new();
    for used in test.messages {
        refs.push(match used {
            Used::State(p) => MessageRef::State(state_at(library, *p)?),
            Used::Adapted(p) => {
                let state = state_at(library, *p)?;
                let adaptation = adaptations
                    .iter()
                    .find(|a| a.key_message_id == state.0)
                    .ok_or_else(|| anyhow::anyhow!("adaptation of key message {p} missing"))?;
                MessageRef::County(CountyKeyMessageId(adaptation.id))
            }
        });
    }
    let keys: Vec<String> = (0..refs.len()).map(|i| i.to_string()).collect();
    let (y, m, d) = test.held_on;
    let held_on = NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| anyhow::anyhow!("bad demo date"))?;
    let details =
        MessageTestDetails::parse(held_on, test.audience, test.format, Some(test.reached), Some(test.notes), &keys)?;
    let change = session.change().await?;
    let created = store::create_message_test(&change, &lead, details, &refs).await?;
    let code = AccessCode::generate(rng);
    store::set_code(&change, &lead, MessageTestId(created.id), Some(&code)).await?;
    change.commit().await?;
    let messages: Vec<TestMessageId> = store::test_messages(session.db(), &[MessageTestId(created.id)])
        .await?
        .into_iter()
        .map(|m| TestMessageId(m.id))
        .collect();
    for _ in 0..test.attendees {
        let feedback: Vec<GivenFeedback> = messages
            .iter()
            .map(|&message| {
                let mut rating = || (test.mood + rng.gen_range(-1.4..1.4)).round().clamp(1.0, 5.0) as i32;
                let ratings = Ratings::parse("feedback", [rating(), rating(), rating(), rating(), rating()]);
                let comment = rng.gen_bool(0.4).then(|| COMMENTS[rng.gen_range(0..COMMENTS.len())].to_owned());
                ratings.map(|ratings| GivenFeedback { message, ratings, comment })
            })
            .collect::<Result<_, _>>()?;
        store::give_feedback_by_code(session, &code, &feedback).await?;
    }
    Ok(())
}
