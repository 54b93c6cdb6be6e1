//! Results as front ends read them: per group (everyone, each perspective, each unit), per
//! domain and per item. A withheld group is listed with its reason and no figure.

use async_graphql::{Enum, ID, SimpleObject};
use orb_domain::results::{self as domain, GroupFigures, Released};

use orb_domain::scoring::{DomainStats, ItemStats, Share};

use crate::collection::Perspective;

/// Why figures are withheld. There is one reason on purpose: "too small" would say the group
/// has between 1 and the minimum − 1 members and "would give another away" that it has at least
/// the minimum, and with totals shown such bounds pin sizes down.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum WithheldReason {
    /// Withheld to protect a group of fewer respondents than the administration's minimum: the
    /// figures rest on too few, or would let too few be worked out from other figures.
    SmallGroup,
}

impl From<orb_domain::results::Withheld> for WithheldReason {
    fn from(_: orb_domain::results::Withheld) -> Self {
        Self::SmallGroup
    }
}

/// An administration's results.
#[derive(SimpleObject)]
pub struct AdministrationResults {
    /// Everyone who submitted.
    pub overall: GroupResult,
    /// By perspective.
    pub by_perspective: Vec<GroupResult>,
    /// By org unit.
    pub by_unit: Vec<GroupResult>,
    /// By perspective within each unit (both `perspective` and `unitId` set), suppressed
    /// together with the two breakdowns above so that no combination gives a small group away.
    pub by_perspective_in_unit: Vec<GroupResult>,
}

/// One group's results, or why they are withheld.
#[derive(SimpleObject)]
pub struct GroupResult {
    /// The perspective, for a perspective group.
    pub perspective: Option<Perspective>,
    /// The unit, for a unit group.
    pub unit_id: Option<ID>,
    /// Why the figures are withheld; `null` when they are shown.
    pub withheld: Option<WithheldReason>,
    /// Respondents (withheld with the figures).
    pub n: Option<usize>,
    /// Per domain: level and strength.
    pub domains: Vec<DomainResult>,
    /// Per Likert item.
    pub items: Vec<ItemResult>,
}

/// A domain's level (mean) and strength (agreement) in one group.
#[derive(SimpleObject)]
pub struct DomainResult {
    /// The domain's code.
    pub code: String,
    /// Why its figures are withheld in a shown group (they would rest on fewer respondents
    /// than the minimum, or let so few be worked out); `null` when shown.
    pub withheld: Option<WithheldReason>,
    /// Respondents scored on it (`null` when withheld).
    pub n: Option<usize>,
    /// Respondents who answered too few of its items to be scored (`null` when withheld).
    pub insufficient: Option<usize>,
    /// Mean of respondents' domain scores (`null` when withheld).
    pub mean: Option<f64>,
    /// Their standard deviation.
    pub sd: Option<f64>,
    /// 95% interval of the mean.
    pub ci_low: Option<f64>,
    /// 95% interval of the mean.
    pub ci_high: Option<f64>,
    /// The mean on the 0–100 scale (`null` when withheld).
    pub score: Option<f64>,
    /// Cronbach's alpha of its items (complete cases).
    pub alpha: Option<f64>,
    /// Within-group agreement r_wg(j).
    pub rwg_j: Option<f64>,
    /// Lindell's r*_wg(j).
    pub rwg_j_star: Option<f64>,
    /// Average deviation from the item means.
    pub ad_m: Option<f64>,
    /// AD_M above which agreement is doubtful (A/6).
    pub ad_threshold: Option<f64>,
    /// Whether agreement is low (r_wg(j) < .70): the mean may hide a split group.
    pub low_agreement: bool,
}

/// A share with its Wilson 95% interval.
#[derive(SimpleObject)]
pub struct ShareResult {
    /// The proportion, 0–1.
    pub share: f64,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
}

impl From<Share> for ShareResult {
    fn from(s: Share) -> Self {
        Self { share: s.p, low: s.low, high: s.high }
    }
}

/// Answers for one option value.
#[derive(SimpleObject)]
pub struct OptionCount {
    /// The option's value.
    pub value: i32,
    /// How many chose it.
    pub count: usize,
}

/// One Likert item in one group.
#[derive(SimpleObject)]
pub struct ItemResult {
    /// The item's code.
    pub code: String,
    /// The state concept it measures.
    pub concept: Option<String>,
    /// Its domain's code.
    pub domain: String,
    /// Why its figures are withheld in a shown group (they would rest on fewer respondents
    /// than the minimum, or let so few be worked out); `null` when shown.
    pub withheld: Option<WithheldReason>,
    /// Respondents who answered it (`null` when withheld).
    pub n: Option<usize>,
    /// Answers per option value.
    pub counts: Vec<OptionCount>,
    /// Mean (reverse-scored items mirrored).
    pub mean: Option<f64>,
    /// Standard deviation.
    pub sd: Option<f64>,
    /// 95% interval of the mean.
    pub ci_low: Option<f64>,
    /// 95% interval of the mean.
    pub ci_high: Option<f64>,
    /// Median.
    pub median: Option<f64>,
    /// Share above the midpoint.
    pub favourable: Option<ShareResult>,
    /// Share at the midpoint (scales with a neutral option).
    pub neutral: Option<ShareResult>,
    /// Share below the midpoint.
    pub unfavourable: Option<ShareResult>,
    /// The mean on the 0–100 scale.
    pub score: Option<f64>,
}

fn domain_result(code: String, stats: &DomainStats) -> DomainResult {
    DomainResult {
        code,
        withheld: None,
        n: Some(stats.summary.n),
        insufficient: Some(stats.insufficient),
        mean: Some(stats.summary.mean),
        sd: stats.summary.sd,
        ci_low: stats.summary.ci.map(|c| c.0),
        ci_high: stats.summary.ci.map(|c| c.1),
        score: Some(stats.score),
        alpha: stats.alpha,
        rwg_j: stats.agreement.map(|a| a.rwg_j),
        rwg_j_star: stats.agreement.map(|a| a.rwg_j_star),
        ad_m: stats.agreement.map(|a| a.ad_m),
        ad_threshold: stats.agreement.map(|a| a.ad_threshold),
        low_agreement: stats.agreement.is_some_and(|a| a.low),
    }
}

/// A domain withheld inside a shown group: listed, with no figure.
fn withheld_domain(code: String, reason: WithheldReason) -> DomainResult {
    DomainResult {
        code,
        withheld: Some(reason),
        n: None,
        insufficient: None,
        mean: None,
        sd: None,
        ci_low: None,
        ci_high: None,
        score: None,
        alpha: None,
        rwg_j: None,
        rwg_j_star: None,
        ad_m: None,
        ad_threshold: None,
        low_agreement: false,
    }
}

fn item_result(item: &domain::ItemResult) -> ItemResult {
    let stats: Option<&ItemStats> = item.stats.as_ref();
    ItemResult {
        code: item.code.clone(),
        concept: item.concept.clone(),
        domain: item.domain.clone(),
        withheld: item.withheld.map(Into::into),
        n: if item.withheld.is_some() { None } else { Some(stats.map_or(0, |s| s.summary.n)) },
        counts: stats
            .map(|s| s.counts.iter().map(|&(value, count)| OptionCount { value, count }).collect())
            .unwrap_or_default(),
        mean: stats.map(|s| s.summary.mean),
        sd: stats.and_then(|s| s.summary.sd),
        ci_low: stats.and_then(|s| s.summary.ci.map(|c| c.0)),
        ci_high: stats.and_then(|s| s.summary.ci.map(|c| c.1)),
        median: stats.map(|s| s.median),
        favourable: stats.map(|s| s.favourable.into()),
        neutral: stats.and_then(|s| s.neutral.map(Into::into)),
        unfavourable: stats.map(|s| s.unfavourable.into()),
        score: stats.map(|s| s.score),
    }
}

fn group(perspective: Option<Perspective>, unit: Option<uuid::Uuid>, figures: &Released<GroupFigures>) -> GroupResult {
    let base = GroupResult {
        perspective,
        unit_id: unit.map(|u| ID(u.to_string())),
        withheld: None,
        n: None,
        domains: Vec::new(),
        items: Vec::new(),
    };
    match figures {
        Released::Withheld(reason) => GroupResult { withheld: Some((*reason).into()), ..base },
        Released::Shown(f) => GroupResult {
            n: Some(f.n),
            domains: f
                .domains
                .iter()
                .filter_map(|d| match (d.withheld, &d.stats) {
                    (Some(reason), _) => Some(withheld_domain(d.code.clone(), reason.into())),
                    (None, stats) => Some(domain_result(d.code.clone(), stats.as_ref()?)),
                })
                .collect(),
            items: f.items.iter().map(item_result).collect(),
            ..base
        },
    }
}

fn perspective(stored: &str) -> Option<Perspective> {
    orb_domain::collection::Perspective::from_stored(stored).map(Into::into)
}

impl From<&domain::AdministrationResults> for AdministrationResults {
    fn from(results: &domain::AdministrationResults) -> Self {
        Self {
            overall: group(None, None, &results.overall),
            by_perspective: results
                .by_perspective
                .iter()
                .map(|g| group(perspective(&g.key), None, &g.figures))
                .collect(),
            by_unit: results.by_unit.iter().map(|g| group(None, Some(g.key), &g.figures)).collect(),
            by_perspective_in_unit: results
                .by_perspective_in_unit
                .iter()
                .map(|g| group(perspective(&g.key.perspective), Some(g.key.unit), &g.figures))
                .collect(),
        }
    }
}

/// Why a comparison is not like for like (it is still made on shared concepts, on 0–100).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::comparison::Caveat")]
pub enum ComparisonCaveat {
    /// The two versions ask different items in this domain.
    ItemSetDiffers,
    /// Shared items answer on different scales.
    ScaleDiffers,
}

/// How one domain moved between two waves of a county, on the concepts both share (0–100).
#[derive(SimpleObject)]
pub struct DomainChangeResult {
    /// The domain's code.
    pub domain: String,
    /// Why it is withheld; `null` when shown.
    pub withheld: Option<WithheldReason>,
    /// The concepts compared.
    pub concepts: Vec<String>,
    /// Respondents scored in the earlier wave.
    pub earlier_n: Option<usize>,
    /// Earlier level (0–100).
    pub earlier_score: Option<f64>,
    /// Respondents scored in the later wave.
    pub later_n: Option<usize>,
    /// Later level (0–100).
    pub later_score: Option<f64>,
    /// Later − earlier.
    pub change: Option<f64>,
    /// Welch 95% interval of the change.
    pub change_low: Option<f64>,
    /// Welch 95% interval of the change.
    pub change_high: Option<f64>,
    /// Hedges' g.
    pub hedges_g: Option<f64>,
    /// What makes it less than exact.
    pub caveats: Vec<ComparisonCaveat>,
}

impl DomainChangeResult {
    /// The API view of a domain's change.
    pub fn from_domain(domain: String, change: &Released<orb_domain::comparison::DomainChange>) -> Self {
        let empty = Self {
            domain,
            withheld: None,
            concepts: Vec::new(),
            earlier_n: None,
            earlier_score: None,
            later_n: None,
            later_score: None,
            change: None,
            change_low: None,
            change_high: None,
            hedges_g: None,
            caveats: Vec::new(),
        };
        match change {
            Released::Withheld(reason) => Self { withheld: Some((*reason).into()), ..empty },
            Released::Shown(c) => Self {
                concepts: c.concepts.clone(),
                earlier_n: Some(c.earlier.n),
                earlier_score: Some(c.earlier.mean),
                later_n: Some(c.later.n),
                later_score: Some(c.later.mean),
                change: c.change.map(|d| d.diff),
                change_low: c.change.map(|d| d.ci.0),
                change_high: c.change.map(|d| d.ci.1),
                hedges_g: c.change.and_then(|d| d.hedges_g),
                caveats: c.caveats.iter().map(|&k| k.into()).collect(),
                ..empty
            },
        }
    }
}

/// One county's level on the compared domain (0–100 over the shared concepts).
#[derive(SimpleObject)]
pub struct CountyLevel {
    /// The administration compared.
    pub administration_id: ID,
    /// Its county.
    pub county_id: ID,
    /// Why it is withheld; `null` when shown.
    pub withheld: Option<WithheldReason>,
    /// Respondents scored.
    pub n: Option<usize>,
    /// Mean level (0–100).
    pub score: Option<f64>,
    /// 95% interval of the mean.
    pub ci_low: Option<f64>,
    /// 95% interval of the mean.
    pub ci_high: Option<f64>,
}

/// Counties lined up on one domain.
#[derive(SimpleObject)]
pub struct CountyComparison {
    /// The domain's code.
    pub domain: String,
    /// The concepts every compared version measures in it.
    pub concepts: Vec<String>,
    /// Each county's level.
    pub counties: Vec<CountyLevel>,
}

/// Cross-county queries.
#[derive(Default)]
pub struct ComparisonQuery;

#[async_graphql::Object]
impl ComparisonQuery {
    /// Lines up administrations (typically each county's latest released wave) on one domain, on
    /// the concepts all their versions share, on 0–100. Each must be readable by the caller
    /// (faculty: released ones of every county); reads outside one's county are audited.
    async fn compare_counties(
        &self,
        ctx: &async_graphql::Context<'_>,
        administration_ids: Vec<ID>,
        domain: String,
    ) -> crate::error::ApiResult<CountyComparison> {
        use crate::error::IntoApi;
        let session = crate::context::session(ctx)?;
        session.principal().as_signed_in().api()?;
        let ids = administration_ids
            .iter()
            .enumerate()
            .map(|(i, raw)| crate::context::id(&format!("administrationIds[{i}]"), raw))
            .collect::<Result<Vec<orb_domain::ids::AdministrationId>, _>>()?;
        let line = orb_store::results::lineup_on(session, &ids, domain.trim()).await.api()?;
        Ok(CountyComparison {
            domain: domain.trim().to_owned(),
            concepts: line.concepts,
            counties: line
                .groups
                .into_iter()
                .map(|(administration, figures)| {
                    let shown = figures.shown();
                    CountyLevel {
                        administration_id: ID(administration.id.to_string()),
                        county_id: ID(administration.county_id.to_string()),
                        withheld: match &figures {
                            Released::Withheld(r) => Some((*r).into()),
                            Released::Shown(_) => None,
                        },
                        n: shown.map(|s| s.n),
                        score: shown.map(|s| s.mean),
                        ci_low: shown.and_then(|s| s.ci.map(|c| c.0)),
                        ci_high: shown.and_then(|s| s.ci.map(|c| c.1)),
                    }
                })
                .collect(),
        })
    }
}

/// One open question's answers: shuffled, unattributed; or why they are withheld.
#[derive(SimpleObject)]
pub struct FreeTextResult {
    /// The item's code.
    pub code: String,
    /// Its domain's code.
    pub domain: String,
    /// Why the answers are withheld; `null` when shown.
    pub withheld: Option<WithheldReason>,
    /// The answers in random order, with no perspective, unit or time.
    pub answers: Vec<String>,
}

impl From<domain::FreeText> for FreeTextResult {
    fn from(f: domain::FreeText) -> Self {
        match f.answers {
            Released::Shown(answers) => Self { code: f.code, domain: f.domain, withheld: None, answers },
            Released::Withheld(reason) => {
                Self { code: f.code, domain: f.domain, withheld: Some(reason.into()), answers: Vec::new() }
            }
        }
    }
}
