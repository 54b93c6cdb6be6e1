//! The suppression engine (`privacy`): for arbitrary counts, tables and trees of groups and any
//! minimum, no group under the minimum is shown, and none can be worked out from what is — by
//! subtraction, by any combination of the sums the figures obey (checked here with exact
//! rational arithmetic, independently of the engine's own floating-point elimination), or as
//! the union of a sum's withheld parts.

#![no_main]

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use num_rational::BigRational;
use num_traits::{One, Zero};
use orb_domain::privacy::{Sum, onlooker, pinned_down, suppress_counts, suppress_figures, suppress_table};

#[derive(Debug, Arbitrary)]
struct Case {
    min: u8,
    counts: Vec<u8>,
    table: Vec<(u8, u8, u8)>,
    tree: Vec<(u8, u8, u8)>,
}

/// The figures an onlooker pins down, by Gaussian elimination over the rationals: exact where
/// the engine's [`pinned_down`] works in `f64`.
fn exactly_pinned_down(released: &[Option<i64>], sums: &[Sum]) -> Vec<usize> {
    let unknown: Vec<usize> = (0..released.len()).filter(|&i| released[i].is_none()).collect();
    let column = |i: usize| unknown.binary_search(&i).ok();
    let mut rows: Vec<Vec<BigRational>> = sums
        .iter()
        .map(|sum| {
            let mut row = vec![BigRational::zero(); unknown.len()];
            for c in sum.parts.iter().filter_map(|&p| column(p)) {
                row[c] += BigRational::one();
            }
            if let Some(c) = column(sum.total) {
                row[c] -= BigRational::one();
            }
            row
        })
        .collect();
    let mut pivots = Vec::new();
    for c in 0..unknown.len() {
        let at = pivots.len();
        let Some(r) = (at..rows.len()).find(|&r| !rows[r][c].is_zero()) else { continue };
        rows.swap(at, r);
        let lead = rows[at][c].clone();
        rows[at].iter_mut().for_each(|x| *x /= lead.clone());
        let pivot = rows[at].clone();
        for (r, row) in rows.iter_mut().enumerate() {
            let factor = row[c].clone();
            if r != at && !factor.is_zero() {
                row.iter_mut().zip(&pivot).for_each(|(x, p)| *x -= factor.clone() * p);
            }
        }
        pivots.push(c);
    }
    let mut found: Vec<usize> = pivots
        .iter()
        .enumerate()
        .filter(|&(r, &c)| rows[r].iter().enumerate().all(|(k, x)| k == c || x.is_zero()))
        .map(|(_, &c)| unknown[c])
        .collect();
    found.sort_unstable();
    found
}

/// Checks what was released of `actual` against the onlooker, exactly.
fn nothing_small_follows(actual: &[i64], released: &[Option<i64>], sums: &[Sum], min: i64, what: &str) {
    for (i, shown) in released.iter().enumerate() {
        assert!(shown.is_none_or(|n| n == actual[i]), "{what}: figure {i} shown as {shown:?}, truly {}", actual[i]);
    }
    let found = onlooker::figure_disclosures(actual, released, sums, min);
    assert!(found.is_empty(), "{what} with minimum {min}: {found:?}");
    let mut engine = pinned_down(released, sums);
    engine.sort_unstable();
    assert_eq!(engine, exactly_pinned_down(released, sums), "{what}: the engine's elimination is not exact");
}

fuzz_target!(|case: Case| {
    let min = 3 + i64::from(case.min % 6);
    let small = |n: i64| n > 0 && n < min;

    // One breakdown and its total (response counts by perspective).
    let counts: BTreeMap<usize, i64> = case.counts.iter().take(12).map(|&n| i64::from(n % 16)).enumerate().collect();
    let out = suppress_counts(&counts, min);
    let withheld: Vec<i64> = counts.iter().filter(|&(k, _)| out.groups[k].is_none()).map(|(_, &n)| n).collect();
    for (k, shown) in &out.groups {
        assert!(shown.is_none_or(|n| n == counts[k] && !small(n)), "counts {counts:?}: group {k} shown as {shown:?}");
    }
    if out.total.is_some() && !withheld.is_empty() {
        assert!(withheld.len() >= 2, "counts {counts:?}: a lone withheld group is the total less the others");
        let every_group = withheld.len() == counts.len();
        assert!(
            every_group || !small(withheld.iter().sum()),
            "counts {counts:?}: the withheld ones together are small"
        );
    }

    // The perspective × unit table with its margins; `None`: no unit, no perspective.
    let mut table: BTreeMap<(Option<u8>, Option<u8>), i64> = BTreeMap::new();
    for &(unit, perspective, n) in case.table.iter().take(30) {
        let unit = (unit % 5 < 4).then_some(unit % 5);
        let perspective = (perspective % 6 < 5).then_some(perspective % 6);
        *table.entry((unit, perspective)).or_default() += i64::from(n % 16);
    }
    let released = suppress_table(&table, min);
    let (actual, shown, sums) = onlooker::as_released(&table, &released);
    nothing_small_follows(&actual, &shown, &sums, min, &format!("table {table:?}"));

    // A tree of groups inside groups inside a total (message ⊂ audience ⊂ theme ⊂ all).
    let leaves: Vec<(u8, u8, i64)> =
        case.tree.iter().take(24).map(|&(a, b, n)| (a % 3, b % 3, i64::from(n % 12))).collect();
    let mut value: Vec<i64> = leaves.iter().map(|l| l.2).collect();
    let mut sums: Vec<Sum> = Vec::new();
    let mut tops: Vec<usize> = Vec::new();
    for a in 0..3u8 {
        let mut parts_of_top = Vec::new();
        for b in 0..3u8 {
            let parts: Vec<usize> = (0..leaves.len()).filter(|&i| (leaves[i].0, leaves[i].1) == (a, b)).collect();
            if parts.is_empty() {
                continue;
            }
            value.push(parts.iter().map(|&i| value[i]).sum());
            sums.push(Sum { parts, total: value.len() - 1 });
            parts_of_top.push(value.len() - 1);
        }
        if parts_of_top.is_empty() {
            continue;
        }
        value.push(parts_of_top.iter().map(|&i| value[i]).sum());
        sums.push(Sum { parts: parts_of_top, total: value.len() - 1 });
        tops.push(value.len() - 1);
    }
    if !tops.is_empty() {
        value.push(tops.iter().map(|&i| value[i]).sum());
        sums.push(Sum { parts: tops, total: value.len() - 1 });
    }
    let hidden = suppress_figures(&value, &vec![false; value.len()], &sums, min);
    let shown: Vec<Option<i64>> = value.iter().zip(&hidden).map(|(&n, &h)| (!h).then_some(n)).collect();
    nothing_small_follows(&value, &shown, &sums, min, &format!("tree {leaves:?}"));
});
