//! Scoring as it was computed before [`LikertAnswers`]: from one map of answers per response,
//! looked up by item code for every answer. Kept only for tests, as the reference the compact
//! path must match figure for figure — a column read for the wrong item, in one version or
//! across two, shows up as a difference here.

use std::collections::BTreeMap;

use crate::comparison::{DomainChange, Lineup, Wave, caveats, shared_concepts};
use crate::instrument::{InstrumentDocument, ItemKind};
use crate::privacy::suppress_table;
use crate::results::{
    AdministrationResults, DomainResult, Group, GroupFigures, ItemResult, LikertAnswers, PerspectiveInUnit, Released,
    ScoredResponse, Withheld, administration_results,
};
use crate::scoring::{Difference, DomainStats, ItemStats, ScaleShape, Summary};

type CellKey = (Option<uuid::Uuid>, Option<String>);

fn results(version: &InstrumentDocument, responses: &[ScoredResponse], min_group: usize) -> AdministrationResults {
    let mut cells: BTreeMap<CellKey, Vec<&ScoredResponse>> = BTreeMap::new();
    for response in responses {
        cells.entry((response.unit, response.perspective.clone())).or_default().push(response);
    }
    let sizes = cells.iter().map(|(k, v)| (k.clone(), v.len() as i64)).collect();
    let decided = suppress_table(&sizes, min_group as i64);
    let figures_of = |shown: bool, members: Vec<&ScoredResponse>| match (shown, members.len()) {
        (_, n) if n < min_group => Released::Withheld(Withheld::BelowMinimum),
        (true, _) => Released::Shown(figures(version, &members)),
        (false, _) => Released::Withheld(Withheld::Complementary),
    };
    let members = |keep: &dyn Fn(&CellKey) -> bool| -> Vec<&ScoredResponse> {
        cells.iter().filter(|(k, _)| keep(k)).flat_map(|(_, v)| v.iter().copied()).collect()
    };
    AdministrationResults {
        overall: figures_of(decided.total.is_some(), responses.iter().collect()),
        by_perspective: decided
            .columns
            .iter()
            .filter_map(|(p, shown)| {
                let p = p.as_ref()?;
                Some(Group {
                    key: p.clone(),
                    figures: figures_of(shown.is_some(), members(&|k| k.1.as_ref() == Some(p))),
                })
            })
            .collect(),
        by_unit: decided
            .rows
            .iter()
            .filter_map(|(u, shown)| {
                let u = (*u)?;
                Some(Group { key: u, figures: figures_of(shown.is_some(), members(&|k| k.0 == Some(u))) })
            })
            .collect(),
        by_perspective_in_unit: decided
            .cells
            .iter()
            .filter_map(|((u, p), shown)| {
                let key = PerspectiveInUnit { unit: (*u)?, perspective: p.clone()? };
                let members = cells[&(*u, p.clone())].clone();
                Some(Group { key, figures: figures_of(shown.is_some(), members) })
            })
            .collect(),
    }
}

fn figures(version: &InstrumentDocument, members: &[&ScoredResponse]) -> GroupFigures {
    let likert: Vec<_> = version.items.iter().filter(|i| i.kind == ItemKind::Likert).collect();
    let items = likert
        .iter()
        .map(|item| {
            let stats = version.scale_of(item).and_then(|scale| {
                let shape = ScaleShape::new(scale.values())?;
                let answers: Vec<i32> =
                    members.iter().filter_map(|r| r.answers.get(&item.code)?.as_i64()).map(|v| v as i32).collect();
                ItemStats::compute(&shape, &answers, item.reverse_scored, scale.neutral_midpoint)
            });
            ItemResult {
                code: item.code.clone(),
                concept: item.concept.clone(),
                domain: item.domain.clone(),
                stats,
                withheld: None,
            }
        })
        .collect();
    let domains = version
        .domains
        .iter()
        .map(|domain| {
            let of_domain: Vec<_> = likert.iter().filter(|i| i.domain == domain.code).collect();
            let shape = of_domain.first().and_then(|i| version.scale_of(i)).and_then(|s| ScaleShape::new(s.values()));
            let stats = shape.and_then(|shape| {
                let matrix: Vec<Vec<Option<f64>>> = members
                    .iter()
                    .map(|r| {
                        of_domain
                            .iter()
                            .map(|item| {
                                let answer = r.answers.get(&item.code)?.as_f64()?;
                                Some(shape.scored(answer, item.reverse_scored))
                            })
                            .collect()
                    })
                    .collect();
                DomainStats::compute(&shape, &matrix)
            });
            DomainResult { code: domain.code.clone(), stats, withheld: None }
        })
        .collect();
    GroupFigures { n: members.len(), items, domains }
}

/// A wave as the map-based comparisons took it.
#[derive(Clone, Copy)]
struct MapWave<'a> {
    version: &'a InstrumentDocument,
    responses: &'a [ScoredResponse],
}

fn score_100(version: &InstrumentDocument, concepts: &[String], response: &ScoredResponse) -> Option<f64> {
    let answered: Vec<f64> = concepts
        .iter()
        .filter_map(|concept| {
            let item = version.items.iter().find(|i| i.concept.as_deref() == Some(concept.as_str()))?;
            let shape = ScaleShape::new(version.scale_of(item)?.values())?;
            let answer = response.answers.get(&item.code)?.as_f64()?;
            Some(shape.to_100(shape.scored(answer, item.reverse_scored)))
        })
        .collect();
    (!answered.is_empty() && 2 * answered.len() >= concepts.len())
        .then(|| answered.iter().sum::<f64>() / answered.len() as f64)
}

fn level(wave: MapWave<'_>, concepts: &[String]) -> Vec<f64> {
    wave.responses.iter().filter_map(|r| score_100(wave.version, concepts, r)).collect()
}

fn wave_change(earlier: MapWave<'_>, later: MapWave<'_>, min_group: usize) -> Vec<(String, Released<DomainChange>)> {
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

fn lineup<K: Clone>(waves: &[(K, MapWave<'_>)], domain: &str, min_group: &dyn Fn(&K) -> usize) -> Lineup<K> {
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

mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::comparison;

    fn load(text: &str) -> InstrumentDocument {
        serde_json::from_str(text).expect("an instrument")
    }

    /// The state instrument, Orange's 4-point adaptation, Sonoma's 26 items, and the state's
    /// items listed back to front: the same items in other columns.
    fn versions() -> [InstrumentDocument; 4] {
        let state = load(include_str!("../../../instruments/state-orb-readiness.json"));
        let mut backwards = state.clone();
        backwards.items.reverse();
        [
            state,
            load(include_str!("../../../instruments/orange-orb-readiness.json")),
            load(include_str!("../../../instruments/sonoma-orb-readiness.json")),
            backwards,
        ]
    }

    /// One generated respondent: perspective (4: none), unit (3: none), whether they skip most
    /// items, and raw draws turned into answers per version ([`responses`]).
    type Raw = (usize, usize, bool, Vec<u8>);

    fn table(max: usize) -> impl Strategy<Value = Vec<Raw>> {
        proptest::collection::vec(
            (0usize..5, 0usize..4, proptest::bool::weighted(0.1), proptest::collection::vec(0u8..12, 36)),
            0..max,
        )
    }

    /// The raw table as responses to `version`: each Likert item's draw skips it (a quarter of
    /// the time, or two items in three for a sparse respondent) or picks one of its scale's
    /// values; a free-text answer rides along.
    fn responses(version: &InstrumentDocument, table: &[Raw]) -> Vec<ScoredResponse> {
        const PERSPECTIVES: [&str; 4] = ["EXECUTIVE", "MANAGER", "SUPERVISOR", "SOCIAL_WORKER"];
        table
            .iter()
            .map(|(p, u, sparse, draws)| {
                let mut answers: BTreeMap<String, serde_json::Value> = version
                    .items
                    .iter()
                    .filter(|i| i.kind == ItemKind::Likert)
                    .enumerate()
                    .filter_map(|(k, item)| {
                        let draw = draws[k % draws.len()];
                        if draw < 3 || (*sparse && k % 3 != 0) {
                            return None;
                        }
                        let values = version.scale_of(item)?.values();
                        Some((item.code.clone(), serde_json::json!(values[usize::from(draw - 3) % values.len()])))
                    })
                    .collect();
                if let Some(text) = version.items.iter().find(|i| i.kind == ItemKind::Text) {
                    answers.insert(text.code.clone(), serde_json::json!("a comment"));
                }
                ScoredResponse {
                    perspective: PERSPECTIVES.get(*p).map(|p| (*p).to_owned()),
                    unit: (*u < 3).then(|| uuid::Uuid::from_u128(*u as u128 + 1)),
                    answers,
                }
            })
            .collect()
    }

    /// Every shown group's figures.
    fn groups_of(results: &AdministrationResults) -> Vec<&GroupFigures> {
        std::iter::once(&results.overall)
            .chain(results.by_perspective.iter().map(|g| &g.figures))
            .chain(results.by_unit.iter().map(|g| &g.figures))
            .chain(results.by_perspective_in_unit.iter().map(|g| &g.figures))
            .filter_map(Released::shown)
            .collect()
    }

    /// The maps' results with what the compact path withholds inside shown groups withheld
    /// (the maps know nothing of it): the rest must be equal figure for figure.
    fn masked(mut maps: AdministrationResults, compact: &AdministrationResults) -> AdministrationResults {
        fn mask(maps: &mut Released<GroupFigures>, compact: &Released<GroupFigures>) {
            if let (Released::Shown(m), Released::Shown(c)) = (maps, compact) {
                for (mi, ci) in m.items.iter_mut().zip(&c.items) {
                    if ci.withheld.is_some() {
                        (mi.stats, mi.withheld) = (None, ci.withheld);
                    }
                }
                for (md, cd) in m.domains.iter_mut().zip(&c.domains) {
                    if cd.withheld.is_some() {
                        (md.stats, md.withheld) = (None, cd.withheld);
                    }
                }
            }
        }
        mask(&mut maps.overall, &compact.overall);
        for (m, c) in maps.by_perspective.iter_mut().zip(&compact.by_perspective) {
            mask(&mut m.figures, &c.figures);
        }
        for (m, c) in maps.by_unit.iter_mut().zip(&compact.by_unit) {
            mask(&mut m.figures, &c.figures);
        }
        for (m, c) in maps.by_perspective_in_unit.iter_mut().zip(&compact.by_perspective_in_unit) {
            mask(&mut m.figures, &c.figures);
        }
        maps
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Every group's item and domain figures, and what is withheld, are those of the maps.
        #[test]
        fn full_results_are_those_of_the_maps(
            table in table(70),
            which in 0usize..4,
            min_group in 2usize..7,
        ) {
            let versions = versions();
            let version = &versions[which];
            let responses = responses(version, &table);
            let compact = administration_results(version, &LikertAnswers::of(version, &responses), min_group);
            prop_assert_eq!(&compact, &masked(results(version, &responses, min_group), &compact));
            for figures in groups_of(&compact) {
                for item in figures.items.iter().filter(|i| i.withheld.is_none()) {
                    prop_assert!(item.stats.as_ref().is_none_or(|s| s.summary.n >= min_group), "{} rests on too few", item.code);
                }
                for domain in figures.domains.iter().filter(|d| d.withheld.is_none()) {
                    prop_assert!(domain.stats.as_ref().is_none_or(|s| s.summary.n >= min_group), "{} rests on too few", domain.code);
                }
            }
        }

        /// Answers kept in one item order and scored against a version listing the same items
        /// in another are read by code, not by position.
        #[test]
        fn columns_are_found_by_code_not_position(table in table(40), min_group in 2usize..6) {
            let versions = versions();
            let (state, backwards) = (&versions[0], &versions[3]);
            let responses = responses(state, &table);
            let compact = administration_results(backwards, &LikertAnswers::of(state, &responses), min_group);
            prop_assert_eq!(&compact, &masked(results(backwards, &responses, min_group), &compact));
        }

        /// Changes between waves of different versions (other items, other scales, other
        /// orders) and line-ups across them are those of the maps.
        #[test]
        fn comparisons_are_those_of_the_maps(
            earlier in table(40),
            later in table(40),
            pair in 0usize..4,
            min_group in 2usize..6,
        ) {
            let versions = versions();
            let (a, b) = [(0, 1), (0, 3), (2, 1), (3, 2)][pair];
            let (before, after) = (responses(&versions[a], &earlier), responses(&versions[b], &later));
            let (kept_before, kept_after) =
                (LikertAnswers::of(&versions[a], &before), LikertAnswers::of(&versions[b], &after));
            let compact = comparison::wave_change(
                Wave { version: &versions[a], answers: &kept_before },
                Wave { version: &versions[b], answers: &kept_after },
                min_group,
            );
            let maps = wave_change(
                MapWave { version: &versions[a], responses: &before },
                MapWave { version: &versions[b], responses: &after },
                min_group,
            );
            prop_assert!(!maps.is_empty());
            prop_assert_eq!(compact, maps);

            let all: Vec<Vec<ScoredResponse>> =
                versions.iter().enumerate().map(|(i, v)| responses(v, if i % 2 == 0 { &earlier } else { &later })).collect();
            let kept: Vec<LikertAnswers> = versions.iter().zip(&all).map(|(v, r)| LikertAnswers::of(v, r)).collect();
            let compact_waves: Vec<(usize, Wave<'_>)> =
                versions.iter().zip(&kept).enumerate().map(|(i, (version, answers))| (i, Wave { version, answers })).collect();
            let map_waves: Vec<(usize, MapWave<'_>)> =
                versions.iter().zip(&all).enumerate().map(|(i, (version, responses))| (i, MapWave { version, responses })).collect();
            for domain in &versions[0].domains {
                let minimum = |_: &usize| min_group;
                prop_assert_eq!(
                    comparison::lineup(&compact_waves, &domain.code, &minimum),
                    lineup(&map_waves, &domain.code, &minimum)
                );
            }
        }
    }
}
