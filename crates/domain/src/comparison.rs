//! Comparisons across waves and counties. Versions differ (Orange removed the neutral option,
//! Sonoma cut to 26 items), so comparisons work only on the *concepts* both sides share, with
//! every answer put on the 0–100 scale first: raw 4-point and 5-point values are never pooled.

use std::collections::{BTreeMap, BTreeSet};

use crate::instrument::{InstrumentDocument, Item, ItemKind};
use crate::results::{LikertAnswers, Released, Withheld};
use crate::scoring::{Difference, ScaleShape, Summary};

/// One wave's answers and the version they answered.
#[derive(Debug, Clone, Copy)]
pub struct Wave<'a> {
    /// The instrument version.
    pub version: &'a InstrumentDocument,
    /// Its submitted responses' Likert answers.
    pub answers: &'a LikertAnswers,
}

/// The Likert items of a domain that carry a concept, by concept.
fn concept_items<'a>(version: &'a InstrumentDocument, domain: &str) -> BTreeMap<&'a str, &'a Item> {
    version
        .items
        .iter()
        .filter(|i| i.domain == domain && i.kind == ItemKind::Likert)
        .filter_map(|i| Some((i.concept.as_deref()?, i)))
        .collect()
}

/// The concepts every version measures in `domain`.
pub fn shared_concepts(versions: &[&InstrumentDocument], domain: &str) -> Vec<String> {
    let mut sets =
        versions.iter().map(|v| concept_items(v, domain).keys().map(|c| (*c).to_owned()).collect::<BTreeSet<_>>());
    let Some(first) = sets.next() else { return Vec::new() };
    sets.fold(first, |acc, set| acc.intersection(&set).cloned().collect()).into_iter().collect()
}

/// One group's level on a domain's shared concepts, on 0–100: per respondent, each answer
/// mirrored if reverse-scored and put on 0–100, averaged when at least half of the concepts are
/// answered (respondents who answered fewer are left out). Each concept's column and scale are
/// found once, not per answer.
fn level(wave: Wave<'_>, concepts: &[String]) -> Vec<f64> {
    let columns: Vec<(usize, ScaleShape, bool)> = concepts
        .iter()
        .filter_map(|concept| {
            let item = wave.version.items.iter().find(|i| i.concept.as_deref() == Some(concept.as_str()))?;
            let shape = ScaleShape::new(wave.version.scale_of(item)?.values())?;
            Some((wave.answers.column(&item.code)?, shape, item.reverse_scored))
        })
        .collect();
    let mut answered: Vec<f64> = Vec::with_capacity(columns.len());
    (0..wave.answers.len())
        .filter_map(|row| {
            answered.clear();
            answered.extend(columns.iter().filter_map(|(column, shape, reverse)| {
                let answer = wave.answers.value(row, *column)?;
                Some(shape.to_100(shape.scored(f64::from(answer), *reverse)))
            }));
            (!answered.is_empty() && 2 * answered.len() >= concepts.len())
                .then(|| answered.iter().sum::<f64>() / answered.len() as f64)
        })
        .collect()
}

/// Why a comparison is not like for like, though still made on shared concepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caveat {
    /// The two versions ask different items in this domain.
    ItemSetDiffers,
    /// Shared items answer on different scales (another number of points, no neutral option).
    ScaleDiffers,
}

/// How a county's domain moved between two waves.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainChange {
    /// The domain's code.
    pub domain: String,
    /// The concepts compared.
    pub concepts: Vec<String>,
    /// The earlier wave's level (0–100).
    pub earlier: Summary,
    /// The later wave's level (0–100).
    pub later: Summary,
    /// later − earlier with a Welch interval and Hedges' g (none when either side lacks spread).
    pub change: Option<Difference>,
    /// What makes the comparison less than exact.
    pub caveats: Vec<Caveat>,
}

/// Each domain of the later wave compared with the earlier wave on the concepts both share.
/// A domain with no shared concept is left out; one whose groups are too small is withheld.
pub fn wave_change(earlier: Wave<'_>, later: Wave<'_>, min_group: usize) -> Vec<(String, Released<DomainChange>)> {
    later
        .version
        .domains
        .iter()
        .filter_map(|domain| {
            let concepts = shared_concepts(&[earlier.version, later.version], &domain.code);
            if concepts.is_empty() {
                return None;
            }
            let (before, after) = (level(earlier, &concepts), level(later, &concepts));
            if before.len() < min_group || after.len() < min_group {
                return Some((domain.code.clone(), Released::Withheld(Withheld::BelowMinimum)));
            }
            let (Some(earlier_summary), Some(later_summary)) = (Summary::of(&before), Summary::of(&after)) else {
                return None;
            };
            Some((
                domain.code.clone(),
                Released::Shown(DomainChange {
                    domain: domain.code.clone(),
                    caveats: caveats(earlier.version, later.version, &domain.code, &concepts),
                    change: Difference::welch(&after, &before),
                    concepts,
                    earlier: earlier_summary,
                    later: later_summary,
                }),
            ))
        })
        .collect()
}

/// What makes comparing `domain` on the `shared` concepts of `a` and `b` less than exact.
pub(crate) fn caveats(a: &InstrumentDocument, b: &InstrumentDocument, domain: &str, shared: &[String]) -> Vec<Caveat> {
    let (items_a, items_b) = (concept_items(a, domain), concept_items(b, domain));
    let likert_count =
        |v: &InstrumentDocument| v.items.iter().filter(|i| i.domain == domain && i.kind == ItemKind::Likert).count();
    let mut caveats = Vec::new();
    if items_a.len() != shared.len() || items_b.len() != shared.len() || likert_count(a) != likert_count(b) {
        caveats.push(Caveat::ItemSetDiffers);
    }
    let scale = |v: &InstrumentDocument, item: &Item| v.scale_of(item).map(|s| (s.values(), s.neutral_midpoint));
    if shared.iter().any(|c| {
        let (Some(x), Some(y)) = (items_a.get(c.as_str()), items_b.get(c.as_str())) else { return false };
        scale(a, x) != scale(b, y)
    }) {
        caveats.push(Caveat::ScaleDiffers);
    }
    caveats
}

/// Several groups (counties) lined up on one domain's shared concepts.
#[derive(Debug, Clone, PartialEq)]
pub struct Lineup<K> {
    /// The concepts every group's version measures in the domain.
    pub concepts: Vec<String>,
    /// Each group's level on them (0–100), or why it is withheld.
    pub groups: Vec<(K, Released<Summary>)>,
}

/// Lines groups up on `domain`, on the concepts all their versions share.
pub fn lineup<K: Clone>(waves: &[(K, Wave<'_>)], domain: &str, min_group: &dyn Fn(&K) -> usize) -> Lineup<K> {
    let versions: Vec<&InstrumentDocument> = waves.iter().map(|(_, w)| w.version).collect();
    let concepts = shared_concepts(&versions, domain);
    let groups = waves
        .iter()
        .map(|(key, wave)| {
            let scores = if concepts.is_empty() { Vec::new() } else { level(*wave, &concepts) };
            let figures = match Summary::of(&scores) {
                Some(summary) if scores.len() >= min_group(key) => Released::Shown(summary),
                _ => Released::Withheld(Withheld::BelowMinimum),
            };
            (key.clone(), figures)
        })
        .collect();
    Lineup { concepts, groups }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::results::ScoredResponse;

    fn load(text: &str) -> InstrumentDocument {
        serde_json::from_str(text).expect("an instrument")
    }

    fn state() -> InstrumentDocument {
        load(include_str!("../../../instruments/state-orb-readiness.json"))
    }

    fn orange() -> InstrumentDocument {
        load(include_str!("../../../instruments/orange-orb-readiness.json"))
    }

    /// Per `(n, value)`, `n` respondents answering `value` to every Likert item of `version`
    /// that is not reverse-scored.
    fn answering(version: &InstrumentDocument, groups: &[(usize, i64)]) -> LikertAnswers {
        let responses: Vec<ScoredResponse> = groups
            .iter()
            .flat_map(|&(n, value)| {
                let answers: BTreeMap<String, serde_json::Value> = version
                    .items
                    .iter()
                    .filter(|i| i.kind == ItemKind::Likert && !i.reverse_scored)
                    .map(|i| (i.code.clone(), json!(value)))
                    .collect();
                (0..n).map(move |_| ScoredResponse { perspective: None, unit: None, answers: answers.clone() })
            })
            .collect();
        LikertAnswers::of(version, &responses)
    }

    #[test]
    fn a_four_point_county_and_a_five_point_state_meet_on_zero_to_hundred() {
        let (state, orange) = (state(), orange());
        let concepts = shared_concepts(&[&state, &orange], "FIT");
        assert!(!concepts.is_empty() && concepts.len() <= 3, "Orange keeps three FIT items: {concepts:?}");
        // Top of each scale: 5 of 5 and 4 of 4 are both 100.
        let (top_state, top_orange) = (answering(&state, &[(6, 5)]), answering(&orange, &[(6, 4)]));
        let waves = [
            ("state", Wave { version: &state, answers: &top_state }),
            ("orange", Wave { version: &orange, answers: &top_orange }),
        ];
        let line = lineup(&waves, "FIT", &|_| 5);
        for (key, figures) in &line.groups {
            let summary = figures.shown().expect("shown");
            assert!((summary.mean - 100.0).abs() < 1e-9, "{key} tops out at 100, not at its raw maximum");
        }
    }

    #[test]
    fn a_change_between_waves_comes_with_uncertainty_and_caveats() {
        let (state, orange) = (state(), orange());
        let before = answering(&state, &[(10, 3), (10, 4)]);
        let after = answering(&orange, &[(10, 3), (10, 4)]);
        let changes =
            wave_change(Wave { version: &state, answers: &before }, Wave { version: &orange, answers: &after }, 5);
        let (_, fit) = changes.iter().find(|(d, _)| d == "FIT").expect("FIT is compared");
        let fit = fit.shown().expect("large enough");
        assert!(fit.caveats.contains(&Caveat::ScaleDiffers) && fit.caveats.contains(&Caveat::ItemSetDiffers));
        let change = fit.change.expect("a difference");
        assert!(change.ci.0 < change.diff && change.diff < change.ci.1);
        // 3 and 4 of 5 are 50 and 75; 3 and 4 of 4 are 66.7 and 100: the county moved up.
        assert!(change.diff > 0.0, "{change:?}");
    }

    #[test]
    fn small_waves_are_withheld() {
        let state = state();
        let few = answering(&state, &[(3, 4)]);
        let many = answering(&state, &[(20, 4)]);
        let changes = wave_change(Wave { version: &state, answers: &few }, Wave { version: &state, answers: &many }, 5);
        assert!(changes.iter().all(|(_, c)| c == &Released::Withheld(Withheld::BelowMinimum)));
    }
}
