//! The state: 58 counties with staff in proportion to their population, four closed and released
//! waves each (the state instrument, and a county's own adaptation for its later waves where it
//! has one), answers drawn around each county's level with its own strengths by domain, growth
//! from wave to wave, and perspectives in the mix a child-welfare agency has; plus one open
//! wave per county with invitation codes for the respondents of a run and for the ceiling.
//!
//! Everything is drawn from one seed, so the same seed gives the same state. It is written as the
//! database owner, by SQL and `COPY`, not through orb's store: seeding is not what is measured,
//! and a hundred thousand responses through the API would take longer than the run.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Context as _;
use orb_domain::collection::AccessCode;
use rand::distributions::WeightedIndex;
use rand::prelude::Distribution;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use uuid::Uuid;

use crate::counties;

/// Perspectives and how often each answers, as in a county agency's staff and partners.
pub const PERSPECTIVES: &[(&str, u32, f64)] = &[
    ("EXECUTIVE", 3, 0.35),
    ("MANAGER", 7, 0.2),
    ("SUPERVISOR", 14, 0.1),
    ("SOCIAL_WORKER", 48, 0.0),
    ("CLERICAL_SUPPORT", 13, -0.05),
    ("COMMUNITY_PARTNER", 15, -0.25),
];

/// Titles of the generated waves, so they can be found again.
pub const RELEASED_WAVE_TITLE: &str = "State bench wave";
/// Title of the open wave each county runs during a run.
pub const OPEN_WAVE_TITLE: &str = "State bench open wave";
/// The cohort holding every county, with a buddy for each.
pub const BENCH_COHORT: &str = "State bench cohort";

/// What to generate.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Everything random is drawn from it.
    pub seed: u64,
    /// Child-welfare staff of the whole state, shared out by population.
    pub state_staff: u32,
    /// Released waves per county.
    pub waves: u32,
    /// Invitation codes for orb's respondents.
    pub respondent_codes: usize,
    /// Invitation codes for the ceiling's direct writes.
    pub ceiling_codes: usize,
}

impl Default for Plan {
    fn default() -> Self {
        Self { seed: 2017, state_staff: 36_000, waves: 4, respondent_codes: 60_000, ceiling_codes: 150_000 }
    }
}

/// An invitation of an open wave, with what a direct write needs to answer it.
#[derive(Debug, Clone)]
pub struct OpenInvitation {
    /// The code a respondent types.
    pub code: AccessCode,
    /// Its county.
    pub county_id: Uuid,
    /// The open wave.
    pub administration_id: Uuid,
    /// The invitation row.
    pub invitation_id: Uuid,
}

/// What was generated.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Counties in the database.
    pub counties: usize,
    /// Closed, released waves generated.
    pub released_waves: usize,
    /// Submitted responses generated.
    pub responses: u64,
    /// Each county's latest released wave, by slug.
    pub latest_wave: BTreeMap<String, Uuid>,
    /// Codes for orb's respondents.
    pub respondent_invitations: Vec<OpenInvitation>,
    /// Codes for the ceiling.
    pub ceiling_invitations: Vec<OpenInvitation>,
}

/// A Likert item of a version: what an answer to it looks like.
#[derive(Debug, Clone)]
pub struct LikertItem {
    /// Its code.
    pub code: String,
    /// Its domain.
    pub domain: String,
    /// Lowest and highest value of its scale.
    pub low: i64,
    /// Highest value.
    pub high: i64,
    /// Reverse-scored: agreement means less readiness.
    pub reverse: bool,
    /// Whether it must be answered.
    pub required: bool,
}

/// The Likert items of an `orb.instrument/v1` document.
pub fn likert_items(document: &serde_json::Value) -> Vec<LikertItem> {
    let mut scales = BTreeMap::new();
    for scale in document["scales"].as_array().into_iter().flatten() {
        let values: Vec<i64> =
            scale["options"].as_array().into_iter().flatten().filter_map(|o| o["value"].as_i64()).collect();
        if let (Some(code), Some(low), Some(high)) = (scale["code"].as_str(), values.iter().min(), values.iter().max())
        {
            scales.insert(code.to_owned(), (*low, *high));
        }
    }
    document["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|item| item["kind"] == "LIKERT")
        .filter_map(|item| {
            let (low, high) = *scales.get(item["scale"].as_str()?)?;
            Some(LikertItem {
                code: item["code"].as_str()?.to_owned(),
                domain: item["domain"].as_str()?.to_owned(),
                low,
                high,
                reverse: item["reverseScored"].as_bool().unwrap_or(false),
                required: item["required"].as_bool().unwrap_or(true),
            })
        })
        .collect()
}

/// A normal draw (mean 0, SD 1), near enough: the sum of four uniforms, rescaled.
pub fn normal(rng: &mut impl Rng) -> f64 {
    ((0..4).map(|_| rng.r#gen::<f64>()).sum::<f64>() - 2.0) * 3f64.sqrt()
}

/// One respondent: a readiness level (on 1–5) and how they answer each item.
#[derive(Debug, Clone, Copy)]
pub struct Respondent {
    /// Their overall sense of readiness on a 1–5 scale.
    pub level: f64,
}

impl Respondent {
    /// Their answers to `items`, given the county's strengths by domain; optional items are
    /// sometimes skipped. A JSON object by item code.
    pub fn answers(
        &self,
        items: &[LikertItem],
        domain_offset: &BTreeMap<String, f64>,
        rng: &mut impl Rng,
    ) -> serde_json::Map<String, serde_json::Value> {
        let mut answers = serde_json::Map::new();
        for item in items {
            if !item.required && rng.gen_bool(0.1) {
                continue;
            }
            let latent = self.level + domain_offset.get(&item.domain).copied().unwrap_or(0.0) + 0.7 * normal(rng);
            let span = (item.high - item.low) as f64;
            let on_scale = item.low as f64 + (latent - 1.0) / 4.0 * span;
            let mut value = (on_scale.round() as i64).clamp(item.low, item.high);
            if item.reverse {
                value = item.high + item.low - value;
            }
            answers.insert(item.code.clone(), value.into());
        }
        answers
    }

    /// The answers of a typical respondent (readiness about 3.2, no county strengths) drawn
    /// from `seed`: what the ceiling writes and what orb's and the peer's single inserts send.
    pub fn typical_answers(items: &[LikertItem], seed: u64) -> serde_json::Map<String, serde_json::Value> {
        let mut rng = StdRng::seed_from_u64(seed);
        Self { level: 3.2 + 0.6 * normal(&mut rng) }.answers(items, &BTreeMap::new(), &mut rng)
    }
}

/// A county's character: its level, its strengths by domain, its spread.
#[derive(Debug, Clone)]
struct Character {
    level: f64,
    domains: BTreeMap<String, f64>,
}

fn draw_perspective(rng: &mut impl Rng, weights: &WeightedIndex<u32>) -> (&'static str, f64) {
    let (name, _, offset) = PERSPECTIVES[weights.sample(rng)];
    (name, offset)
}

/// Perspective weights as a distribution.
pub fn perspective_weights() -> WeightedIndex<u32> {
    #[expect(clippy::expect_used, reason = "constant, positive weights")]
    WeightedIndex::new(PERSPECTIVES.iter().map(|(_, w, _)| *w)).expect("positive weights")
}

/// `COPY … FROM STDIN` text-format escaping.
fn copy_text(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n").replace('\r', "\\r")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::from("\\\\x"), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A deterministic id from the run's random source.
fn uuid_from(rng: &mut impl Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.r#gen()).into_uuid()
}

async fn execute(db: &DatabaseConnection, sql: &str, values: Vec<sea_orm::Value>) -> anyhow::Result<u64> {
    let result = db
        .execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values))
        .await
        .with_context(|| format!("seeding: {}", sql.lines().next().unwrap_or_default()))?;
    Ok(result.rows_affected())
}

async fn copy_in(db: &DatabaseConnection, statement: &str, rows: String) -> anyhow::Result<()> {
    use sea_orm::sqlx::postgres::PgPoolCopyExt as _;
    let pool = db.get_postgres_connection_pool();
    let mut copy = pool.copy_in_raw(statement).await?;
    copy.send(rows.into_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

struct Version {
    id: Uuid,
    owner: Option<Uuid>,
    items: Vec<LikertItem>,
}

/// Generates the state into a migrated database that holds the demo, as its owner.
pub async fn seed(db: &DatabaseConnection, plan: &Plan) -> anyhow::Result<State> {
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let table = counties::all();
    let state_population: u64 = table.iter().map(|c| c.population).sum();

    // Counties: the demo's stay as they are; the others are added. Staff follow population.
    for county in &table {
        let staff = counties::staff(county.population, state_population, plan.state_staff);
        execute(
            db,
            "INSERT INTO counties (id, slug, name, region, size_class, staff_count) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (slug) DO UPDATE SET staff_count = EXCLUDED.staff_count",
            vec![
                uuid_from(&mut rng).into(),
                county.slug.clone().into(),
                county.name.clone().into(),
                county.region.clone().into(),
                counties::size_class(county.population).into(),
                i32::try_from(staff).unwrap_or(i32::MAX).into(),
            ],
        )
        .await?;
    }
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT id, slug, coalesce(staff_count, 0) AS staff FROM counties ORDER BY slug",
        ))
        .await?;
    let mut ids: Vec<(Uuid, String, i32)> = Vec::new();
    for row in rows {
        ids.push((row.try_get("", "id")?, row.try_get("", "slug")?, row.try_get("", "staff")?));
    }

    // Org units: counties without any get divisions by size.
    let mut units: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for (county_id, _, staff) in &ids {
        let existing = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT id FROM org_units WHERE county_id = $1 ORDER BY name",
                [(*county_id).into()],
            ))
            .await?;
        let mut list: Vec<Uuid> = existing.iter().filter_map(|r| r.try_get("", "id").ok()).collect();
        if list.is_empty() {
            for n in 1..=(staff / 120).clamp(2, 12) {
                let id = uuid_from(&mut rng);
                execute(
                    db,
                    "INSERT INTO org_units (county_id, id, name, kind) VALUES ($1, $2, $3, 'DIVISION')",
                    vec![(*county_id).into(), id.into(), format!("Region {n}").into()],
                )
                .await?;
                list.push(id);
            }
        }
        units.insert(*county_id, list);
    }

    // Instruments: the state's published version and each county's own published adaptation.
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT v.id, i.county_id, v.document FROM instrument_versions v JOIN instruments i ON i.id = v.instrument_id
             WHERE v.status = 'published' ORDER BY i.county_id NULLS FIRST, v.number DESC",
        ))
        .await?;
    let mut versions = Vec::new();
    for row in rows {
        let document: serde_json::Value = row.try_get("", "document")?;
        versions.push(Version {
            id: row.try_get("", "id")?,
            owner: row.try_get("", "county_id")?,
            items: likert_items(&document),
        });
    }
    let state_version = versions.iter().find(|v| v.owner.is_none()).context("the state instrument is published")?;

    // Released waves with their answers.
    let weights = perspective_weights();
    let mut responses = String::new();
    let mut state = State { counties: ids.len(), ..State::default() };
    for (county_id, slug, staff) in &ids {
        let character = Character {
            level: 3.1 + 0.35 * normal(&mut rng),
            domains: state_version
                .items
                .iter()
                .map(|i| (i.domain.clone(), 0.25 * normal(&mut rng)))
                .collect::<BTreeMap<_, _>>(),
        };
        let own = versions.iter().find(|v| v.owner == Some(*county_id));
        let county_units = units.get(county_id).cloned().unwrap_or_default();
        for wave in 1..=plan.waves {
            let version = match own {
                Some(own) if wave > plan.waves / 2 => own,
                _ => state_version,
            };
            let administration = uuid_from(&mut rng);
            let opens = chrono::NaiveDate::from_ymd_opt(2021, 3, 1).unwrap_or_default()
                + chrono::Days::new(u64::from(wave - 1) * 240);
            execute(
                db,
                "INSERT INTO administrations (county_id, id, instrument_version_id, title, status, opens_at, closes_at,
                     perspectives, languages, anonymity, opened_at, closed_at, results_released_at)
                 VALUES ($1, $2, $3, $4, 'closed', $5::date, $5::date + 28, ARRAY['EXECUTIVE','MANAGER','SUPERVISOR',
                     'SOCIAL_WORKER','CLERICAL_SUPPORT','COMMUNITY_PARTNER'], ARRAY['en'], 'ANONYMOUS',
                     $5::date, $5::date + 28, $5::date + 42)",
                vec![
                    (*county_id).into(),
                    administration.into(),
                    version.id.into(),
                    format!("{RELEASED_WAVE_TITLE} {wave}").into(),
                    opens.into(),
                ],
            )
            .await?;
            state.released_waves += 1;
            state.latest_wave.insert(slug.clone(), administration);
            let rate = 0.55 + 0.3 * rng.r#gen::<f64>();
            let count = (f64::from(*staff) * rate).round() as u64;
            let growth = 0.1 * f64::from(wave - 1);
            for _ in 0..count {
                let (perspective, offset) = draw_perspective(&mut rng, &weights);
                let respondent = Respondent { level: character.level + growth + offset + 0.5 * normal(&mut rng) };
                let answers = respondent.answers(&version.items, &character.domains, &mut rng);
                let unit = if county_units.is_empty() || rng.gen_bool(0.05) {
                    "\\N".to_owned()
                } else {
                    county_units[rng.gen_range(0..county_units.len())].to_string()
                };
                let submitted = opens + chrono::Days::new(rng.gen_range(0..28));
                let _ = writeln!(
                    responses,
                    "{county_id}\t{}\t{administration}\tinvitation\tsubmitted\t{perspective}\t{unit}\ten\t{}\t\\\\x00\t{submitted}\t{submitted}",
                    uuid_from(&mut rng),
                    copy_text(&serde_json::Value::Object(answers).to_string()),
                );
                state.responses += 1;
            }
        }
    }
    copy_in(
        db,
        "COPY responses (county_id, id, administration_id, source, status, perspective, org_unit_id, language,
                         answers, submit_fingerprint, started_on, submitted_on) FROM STDIN",
        responses,
    )
    .await?;

    // Every county in one cohort, each with the next as its buddy.
    let cohort = uuid_from(&mut rng);
    execute(db, "INSERT INTO cohorts (id, name) VALUES ($1, $2)", vec![cohort.into(), BENCH_COHORT.into()]).await?;
    execute(db, "INSERT INTO cohort_counties (county_id, cohort_id) SELECT id, $1 FROM counties", vec![cohort.into()])
        .await?;
    for (i, (county_id, _, _)) in ids.iter().enumerate() {
        let buddy = ids[(i + 1) % ids.len()].0;
        execute(
            db,
            "INSERT INTO buddy_pairings (id, cohort_id, testing_county_id, buddy_county_id) VALUES ($1, $2, $3, $4)",
            vec![uuid_from(&mut rng).into(), cohort.into(), (*county_id).into(), buddy.into()],
        )
        .await?;
    }

    // One open wave per county, and codes shared out by staff.
    let mut open = Vec::new();
    for (county_id, _, staff) in &ids {
        let administration = uuid_from(&mut rng);
        execute(
            db,
            "INSERT INTO administrations (county_id, id, instrument_version_id, title, status, opens_at, closes_at,
                 perspectives, languages, anonymity, opened_at)
             VALUES ($1, $2, $3, $4, 'open', now() - interval '1 day', now() + interval '14 days',
                 ARRAY['EXECUTIVE','MANAGER','SUPERVISOR','SOCIAL_WORKER','CLERICAL_SUPPORT','COMMUNITY_PARTNER'],
                 ARRAY['en'], 'ANONYMOUS', now() - interval '1 day')",
            vec![(*county_id).into(), administration.into(), state_version.id.into(), OPEN_WAVE_TITLE.into()],
        )
        .await?;
        open.push((*county_id, administration, (*staff).max(1) as u32));
    }
    #[expect(clippy::expect_used, reason = "staff counts are at least one")]
    let by_staff = WeightedIndex::new(open.iter().map(|(_, _, staff)| *staff)).expect("positive staff");
    let mut invitations = String::new();
    let mut share = |count: usize, rng: &mut StdRng| -> Vec<OpenInvitation> {
        let batch = uuid_from(rng);
        (0..count)
            .map(|_| {
                let (county_id, administration_id, _) = open[by_staff.sample(rng)];
                let invitation = OpenInvitation {
                    code: AccessCode::generate(rng),
                    county_id,
                    administration_id,
                    invitation_id: uuid_from(rng),
                };
                let _ = writeln!(
                    invitations,
                    "{county_id}\t{}\t{administration_id}\t{batch}\t{}",
                    invitation.invitation_id,
                    hex(&invitation.code.hash(orb_store::collection::CODE_PURPOSE)),
                );
                invitation
            })
            .collect()
    };
    state.respondent_invitations = share(plan.respondent_codes, &mut rng);
    state.ceiling_invitations = share(plan.ceiling_codes, &mut rng);
    copy_in(db, "COPY invitations (county_id, id, administration_id, batch_id, code_hash) FROM STDIN", invitations)
        .await?;
    db.execute_unprepared("ANALYZE").await?;
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_stay_on_the_scale_and_mirror_reverse_items() {
        let items = vec![
            LikertItem { code: "A".into(), domain: "D".into(), low: 1, high: 5, reverse: false, required: true },
            LikertItem { code: "B".into(), domain: "D".into(), low: 1, high: 4, reverse: true, required: true },
        ];
        let mut rng = StdRng::seed_from_u64(1);
        let offsets = BTreeMap::new();
        let (mut high_a, mut high_b) = (0.0, 0.0);
        for _ in 0..500 {
            let answers = Respondent { level: 4.8 }.answers(&items, &offsets, &mut rng);
            let (a, b) = (answers["A"].as_i64().unwrap_or(0), answers["B"].as_i64().unwrap_or(0));
            assert!((1..=5).contains(&a) && (1..=4).contains(&b));
            high_a += a as f64 / 500.0;
            high_b += b as f64 / 500.0;
        }
        assert!(high_a > 4.0, "a ready respondent agrees: {high_a}");
        assert!(high_b < 2.0, "and disagrees with a reverse-scored item: {high_b}");
    }

    #[test]
    fn the_same_seed_draws_the_same_codes() {
        let draw = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..3).map(|_| AccessCode::generate(&mut rng).display()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }

    #[test]
    fn copy_text_escapes_what_copy_reads_specially() {
        assert_eq!(copy_text("a\tb\\c\nd"), "a\\tb\\\\c\\nd");
    }
}
