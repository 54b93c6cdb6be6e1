//! Small-group suppression: no figure about fewer people than an administration's minimum
//! reporting group, and no figure that lets a suppressed group be recovered by subtraction.

use std::collections::BTreeMap;

/// Counts by group and their total, with what must be withheld withheld (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressedCounts<K: Ord> {
    /// Each group's count, or `None` when withheld.
    pub groups: BTreeMap<K, Option<i64>>,
    /// The total, or `None` when it would give a withheld group away.
    pub total: Option<i64>,
}

/// Withholds every group with fewer than `min` members (an empty group singles no one out and
/// is shown). When exactly one group is withheld, the total and the other groups would give it
/// away, so the smallest other group is withheld too — an empty one if that is all there is —
/// and when there is no other group, the total is withheld.
pub fn suppress_counts<K: Ord + Clone>(groups: &BTreeMap<K, i64>, min: i64) -> SuppressedCounts<K> {
    let small = |n: i64| n > 0 && n < min;
    let mut shown: BTreeMap<K, Option<i64>> =
        groups.iter().map(|(k, &n)| (k.clone(), if small(n) { None } else { Some(n) })).collect();
    let total: i64 = groups.values().sum();
    let mut total_shown = Some(total);
    if shown.values().filter(|v| v.is_none()).count() == 1 {
        let complement = groups
            .iter()
            .filter(|&(k, _)| shown.get(k).is_some_and(Option::is_some))
            .min_by_key(|&(_, &n)| (n == 0, n))
            .map(|(k, _)| k.clone());
        match complement {
            Some(k) => {
                shown.insert(k, None);
            }
            None => total_shown = None,
        }
    }
    SuppressedCounts { groups: shown, total: total_shown }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(pairs: &[(&'static str, i64)]) -> BTreeMap<&'static str, i64> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn small_groups_are_suppressed_with_a_complement() {
        let shown = suppress_counts(&groups(&[("a", 2), ("b", 7), ("c", 12), ("d", 0)]), 5);
        assert_eq!(shown.groups["a"], None);
        assert_eq!(shown.groups["b"], None, "the smallest non-empty other group hides the small one");
        assert_eq!((shown.groups["c"], shown.groups["d"], shown.total), (Some(12), Some(0), Some(21)));
    }

    #[test]
    fn an_empty_group_complements_when_it_is_all_there_is() {
        let shown = suppress_counts(&groups(&[("a", 2), ("b", 0)]), 5);
        assert_eq!((shown.groups["a"], shown.groups["b"], shown.total), (None, None, Some(2)));
    }

    #[test]
    fn a_single_small_group_hides_the_total() {
        let shown = suppress_counts(&groups(&[("a", 3)]), 5);
        assert_eq!((shown.groups["a"], shown.total), (None, None));
    }

    #[test]
    fn two_suppressed_groups_need_no_complement() {
        let shown = suppress_counts(&groups(&[("a", 2), ("b", 3), ("c", 12)]), 5);
        assert_eq!((shown.groups["a"], shown.groups["b"], shown.groups["c"]), (None, None, Some(12)));
    }

    #[test]
    fn large_groups_are_shown() {
        let shown = suppress_counts(&groups(&[("a", 5), ("b", 9)]), 5);
        assert_eq!((shown.groups["a"], shown.groups["b"], shown.total), (Some(5), Some(9), Some(14)));
    }

    #[test]
    fn no_withheld_group_can_be_recovered_by_subtraction() {
        // Every combination of up to four groups of sizes 0..8 with minimum 5.
        for mask in 0..(9u32.pow(4)) {
            let sizes: Vec<i64> = (0..4).map(|i| i64::from((mask / 9u32.pow(i)) % 9)).collect();
            let input: BTreeMap<usize, i64> = sizes.iter().copied().enumerate().collect();
            let shown = suppress_counts(&input, 5);
            let hidden: Vec<usize> = shown.groups.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| *k).collect();
            if let (1, Some(_)) = (hidden.len(), shown.total) {
                panic!("one withheld group and a shown total give it away: {sizes:?}");
            }
            for (k, v) in &shown.groups {
                if let Some(n) = v {
                    assert!(*n == 0 || *n >= 5, "a small group {k} is shown: {sizes:?}");
                }
            }
        }
    }
}
