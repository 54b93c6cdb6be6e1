//! Raw rows (the lead's `responses.csv` and `Administration.responses`): which group attributes
//! each row may carry. A row that said "MANAGER" when only four managers answered would hand
//! over, one by one, the answers results withhold; so an attribute value is shown on every row
//! that has it or on none, and only where no row is placed by what it shows in a group smaller
//! than the minimum.
//!
//! The rule, over the submitted responses of the wave:
//! 1. Per attribute (perspective, unit, language), every value some row carries is withheld
//!    below the minimum, and withheld values are never a small group together (the next
//!    smallest is withheld too), as counts are ([`crate::privacy::suppress_counts`]). A value no
//!    row carries has no row to blank: that nobody answered in a language is no one's answer.
//! 2. Then every combination a row shows (perspective, unit and language together, a blank
//!    being a value of its own) must hold at least the minimum number of rows: while one does
//!    not, the value in it with the fewest rows is withheld from every row, and the check runs
//!    again. Every combination of fewer attributes is a union of these, so it holds at least
//!    the minimum too. A value every row shares (everyone answered in English) sets no row
//!    apart, so it does not count as part of a combination.

use std::collections::{BTreeMap, BTreeSet};

use crate::privacy::suppress_counts;

/// How many submitted responses share one perspective, unit and language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawGroup {
    /// The perspective answered from, if any.
    pub perspective: Option<String>,
    /// The unit answered for, if any.
    pub unit: Option<uuid::Uuid>,
    /// The language answered in.
    pub language: String,
    /// Responses with exactly these.
    pub n: i64,
}

/// The attribute values raw rows leave blank, for the whole wave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawRowMask {
    /// Perspectives blanked on every row.
    pub perspectives: BTreeSet<String>,
    /// Units blanked on every row.
    pub units: BTreeSet<uuid::Uuid>,
    /// Languages blanked on every row.
    pub languages: BTreeSet<String>,
}

/// One row's attributes as shown.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ShownAttributes {
    /// The perspective, or `None` when blank.
    pub perspective: Option<String>,
    /// The unit, or `None` when blank.
    pub unit: Option<uuid::Uuid>,
    /// The language, or `None` when blank.
    pub language: Option<String>,
}

impl RawRowMask {
    /// What a row with these attributes shows.
    pub fn show(&self, perspective: Option<&str>, unit: Option<uuid::Uuid>, language: &str) -> ShownAttributes {
        ShownAttributes {
            perspective: perspective.filter(|p| !self.perspectives.contains(*p)).map(str::to_owned),
            unit: unit.filter(|u| !self.units.contains(u)),
            language: Some(language).filter(|l| !self.languages.contains(*l)).map(str::to_owned),
        }
    }

    /// Whether anything is blanked at all.
    pub fn is_empty(&self) -> bool {
        self.perspectives.is_empty() && self.units.is_empty() && self.languages.is_empty()
    }
}

/// One attribute value, to withhold.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Value {
    // Order: at equal counts, a language goes before a unit, a unit before a perspective.
    Language(String),
    Unit(uuid::Uuid),
    Perspective(String),
}

fn withheld_per_attribute<K: Ord + Clone>(counted: impl Iterator<Item = (K, i64)>, min: i64) -> BTreeSet<K> {
    let mut counts: BTreeMap<K, i64> = BTreeMap::new();
    for (k, n) in counted {
        *counts.entry(k).or_default() += n;
    }
    suppress_counts(&counts, min).groups.into_iter().filter(|(_, shown)| shown.is_none()).map(|(k, _)| k).collect()
}

/// The mask for a wave whose submitted responses fall into `groups`, with minimum `min`.
pub fn raw_row_mask(groups: &[RawGroup], min: i64) -> RawRowMask {
    let mut mask = RawRowMask {
        perspectives: withheld_per_attribute(
            groups.iter().filter_map(|g| g.perspective.clone().map(|p| (p, g.n))),
            min,
        ),
        units: withheld_per_attribute(groups.iter().filter_map(|g| g.unit.map(|u| (u, g.n))), min),
        languages: withheld_per_attribute(groups.iter().map(|g| (g.language.clone(), g.n)), min),
    };
    loop {
        let mut shown: BTreeMap<ShownAttributes, i64> = BTreeMap::new();
        let mut by_value: BTreeMap<Value, i64> = BTreeMap::new();
        for g in groups {
            let row = mask.show(g.perspective.as_deref(), g.unit, &g.language);
            *shown.entry(row.clone()).or_default() += g.n;
            for value in values_of(&row) {
                *by_value.entry(value).or_default() += g.n;
            }
        }
        // A value every row shares (everyone answered in English) tells no row from another.
        let total: i64 = groups.iter().map(|g| g.n).sum();
        let telling = |row: &ShownAttributes| -> Vec<Value> {
            values_of(row).into_iter().filter(|v| by_value.get(v).copied().unwrap_or(0) < total).collect()
        };
        let small = shown.iter().find(|(row, n)| **n < min && !telling(row).is_empty());
        let Some((row, _)) = small else { return mask };
        let fewest = telling(row).into_iter().min_by_key(|v| (by_value.get(v).copied().unwrap_or(0), v.clone()));
        match fewest {
            Some(Value::Perspective(p)) => mask.perspectives.insert(p),
            Some(Value::Unit(u)) => mask.units.insert(u),
            Some(Value::Language(l)) => mask.languages.insert(l),
            None => return mask,
        };
    }
}

fn values_of(row: &ShownAttributes) -> Vec<Value> {
    let mut values = Vec::new();
    if let Some(l) = &row.language {
        values.push(Value::Language(l.clone()));
    }
    if let Some(u) = row.unit {
        values.push(Value::Unit(u));
    }
    if let Some(p) = &row.perspective {
        values.push(Value::Perspective(p.clone()));
    }
    values
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn group(p: &str, unit: Option<u128>, language: &str, n: i64) -> RawGroup {
        RawGroup {
            perspective: Some(p.to_owned()),
            unit: unit.map(uuid::Uuid::from_u128),
            language: language.to_owned(),
            n,
        }
    }

    #[test]
    fn four_managers_are_never_marked_as_managers() {
        let groups = [
            group("SOCIAL_WORKER", None, "en", 20),
            group("SUPERVISOR", None, "en", 8),
            group("MANAGER", None, "en", 4),
        ];
        let mask = raw_row_mask(&groups, 5);
        assert!(mask.perspectives.contains("MANAGER"));
        assert!(mask.perspectives.contains("SUPERVISOR"), "the lone withheld group hides behind the next smallest");
        assert!(!mask.perspectives.contains("SOCIAL_WORKER"));
    }

    #[test]
    fn a_small_combination_of_large_groups_is_blanked() {
        // 10 Spanish answers overall, but only 2 of them from supervisors.
        let groups = [
            group("SOCIAL_WORKER", None, "en", 20),
            group("SOCIAL_WORKER", None, "es", 8),
            group("SUPERVISOR", None, "en", 9),
            group("SUPERVISOR", None, "es", 2),
        ];
        let mask = raw_row_mask(&groups, 5);
        assert_eq!(mask.languages, BTreeSet::from(["es".to_owned()]), "Spanish goes first (fewest rows)");
        // Then the 2 Spanish-speaking supervisors would be the supervisors without a language.
        assert_eq!(mask.perspectives, BTreeSet::from(["SUPERVISOR".to_owned()]));
    }

    proptest! {
        /// Whatever the wave, every combination of attributes the rows show holds at least the
        /// minimum, and a value is blanked on all its rows or none.
        #[test]
        fn every_shown_combination_holds_at_least_the_minimum(
            cells in proptest::collection::vec((0usize..4, proptest::option::of(0u128..4), 0usize..2, 1i64..12), 1..24),
            min in 3i64..7,
        ) {
            let perspectives = ["A", "B", "C", "D"];
            let languages = ["en", "es"];
            let groups: Vec<RawGroup> = cells.iter().map(|&(p, u, l, n)| group(perspectives[p], u, languages[l], n)).collect();
            let mask = raw_row_mask(&groups, min);
            type Key = (Option<String>, Option<uuid::Uuid>, Option<String>);
            let mut subsets: BTreeMap<(u8, Key), i64> = BTreeMap::new();
            // A value on every row sets none apart: it is as good as blank.
            let total: i64 = groups.iter().map(|g| g.n).sum();
            let on_all = |f: &dyn Fn(&ShownAttributes) -> bool| {
                groups.iter().filter(|g| f(&mask.show(g.perspective.as_deref(), g.unit, &g.language))).map(|g| g.n).sum::<i64>() == total
            };
            for g in &groups {
                let mut shown = mask.show(g.perspective.as_deref(), g.unit, &g.language);
                let (p, u, l) = (shown.perspective.clone(), shown.unit, shown.language.clone());
                if on_all(&|s| s.perspective == p) { shown.perspective = None; }
                if on_all(&|s| s.unit == u) { shown.unit = None; }
                if on_all(&|s| s.language == l) { shown.language = None; }
                for pick in 1u8..8 {
                    let key = (
                        shown.perspective.clone().filter(|_| pick & 1 != 0),
                        shown.unit.filter(|_| pick & 2 != 0),
                        shown.language.clone().filter(|_| pick & 4 != 0),
                    );
                    if key.0.is_some() || key.1.is_some() || key.2.is_some() {
                        *subsets.entry((pick, key)).or_default() += g.n;
                    }
                }
            }
            for ((_, key), n) in &subsets {
                prop_assert!(*n >= min, "{:?} shown on {} rows", key, n);
            }
        }
    }
}
