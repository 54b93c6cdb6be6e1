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
/// is shown). The withheld groups together are the total less the shown ones, so they must be
/// at least two and, together, not a small group themselves: until they are, the smallest
/// other group is withheld too — an empty one if that is all there is — and when a single
/// withheld group has no other to hide behind, the total is withheld.
pub fn suppress_counts<K: Ord + Clone>(groups: &BTreeMap<K, i64>, min: i64) -> SuppressedCounts<K> {
    let small = |n: i64| n > 0 && n < min;
    let mut shown: BTreeMap<K, Option<i64>> =
        groups.iter().map(|(k, &n)| (k.clone(), if small(n) { None } else { Some(n) })).collect();
    let total: i64 = groups.values().sum();
    let mut total_shown = Some(total);
    loop {
        let withheld: Vec<i64> = groups.iter().filter(|&(k, _)| shown[k].is_none()).map(|(_, &n)| n).collect();
        let recoverable = withheld.len() == 1 || small(withheld.iter().sum());
        if withheld.is_empty() || !recoverable {
            break;
        }
        let complement = groups
            .iter()
            .filter(|&(k, _)| shown[k].is_some())
            .min_by_key(|&(_, &n)| (n == 0, n))
            .map(|(k, _)| k.clone());
        match complement {
            Some(k) => {
                shown.insert(k, None);
            }
            // Nothing left to withhold: a lone withheld group would be the total less the
            // others, so the total goes; a small union of several stays, as the progress count a
            // lead needs while a survey runs says nothing about who answered what.
            None => {
                if withheld.len() == 1 {
                    total_shown = None;
                }
                break;
            }
        }
    }
    SuppressedCounts { groups: shown, total: total_shown }
}

/// A two-way table of counts — respondents by unit (rows) and perspective (columns) — with its
/// margins, as released: `None` where withheld. Keys are `Option`s because a response may give
/// no unit or no perspective; such groups are never published, but they take part in the
/// arithmetic an onlooker can do, so they are suppressed like any other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressedTable<R: Ord, C: Ord> {
    /// Each non-empty cell (row, column), or `None` when withheld.
    pub cells: BTreeMap<(Option<R>, Option<C>), Option<i64>>,
    /// Each row's total.
    pub rows: BTreeMap<Option<R>, Option<i64>>,
    /// Each column's total.
    pub columns: BTreeMap<Option<C>, Option<i64>>,
    /// The grand total.
    pub total: Option<i64>,
}

/// One sum the released figures obey: its parts add up to its total (indices into the figures).
#[derive(Debug, Clone)]
pub struct Sum {
    /// The figures that add up.
    pub parts: Vec<usize>,
    /// The figure they add up to.
    pub total: usize,
}

/// Withholds every cell and margin with fewer than `min` members, then withholds more until no
/// small group can be worked out from what is released. First, sum by sum (each row, each
/// column, the margins against the grand total): a withheld figure that is a sum's only
/// unknown, or several unknowns of a sum that are together a small group, get the smallest shown
/// part (or else the total) withheld beside them. Groups without a unit or perspective are
/// never published but are not secret either: an onlooker cannot see them, yet may work them
/// out. Then exactly: any small figure that follows from
/// the released ones by any combination of the sums ([`pinned_down`]) gets the smallest shown
/// figure of a sum it is in withheld, and the round repeats.
pub fn suppress_table<R: Ord + Clone, C: Ord + Clone>(
    cells: &BTreeMap<(Option<R>, Option<C>), i64>,
    min: i64,
) -> SuppressedTable<R, C> {
    let table = Figures::of(cells);
    let withheld = suppress_figures(&table.value, &table.unpublished, &table.sums, min);
    table.released(&withheld)
}

/// The rule of [`suppress_table`] for any figures linked by sums (a table and its margins, a
/// tree of groups inside groups): which figures to withhold (`true`). `unpublished` figures are
/// never shown but take part in the arithmetic. Every figure with fewer than `min` members is
/// withheld, then, sum by sum, complements beside any withheld figure that is a sum's only
/// unknown or that with the other unknowns is a small group; then exactly, until no small
/// figure can be worked out ([`pinned_down`]) from what is released.
pub fn suppress_figures(value: &[i64], unpublished: &[bool], sums: &[Sum], min: i64) -> Vec<bool> {
    let small = |n: i64| n > 0 && n < min;
    let mut withheld: Vec<bool> = value.iter().map(|&n| small(n)).collect();
    let unknown = |withheld: &[bool], i: usize| withheld[i] || unpublished.get(i).copied().unwrap_or(false);
    let smallest_shown = |withheld: &[bool], candidates: &mut dyn Iterator<Item = usize>| {
        candidates.filter(|&i| !unknown(withheld, i) && value[i] > 0).min_by_key(|&i| value[i])
    };
    loop {
        let mut changed = true;
        while changed {
            changed = false;
            for sum in sums {
                let parts: Vec<usize> = sum.parts.iter().copied().filter(|&i| unknown(&withheld, i)).collect();
                let exposed = match (parts.as_slice(), unknown(&withheld, sum.total)) {
                    ([part], false) => withheld[*part],
                    ([], true) => withheld[sum.total],
                    (several, false) => small(several.iter().map(|&i| value[i]).sum()),
                    _ => false,
                };
                let complement = smallest_shown(&withheld, &mut sum.parts.iter().copied())
                    .or_else(|| (!unknown(&withheld, sum.total)).then_some(sum.total));
                if let (true, Some(i)) = (exposed, complement) {
                    withheld[i] = true;
                    changed = true;
                }
            }
        }
        let released: Vec<Option<i64>> =
            (0..value.len()).map(|i| (!unknown(&withheld, i)).then_some(value[i])).collect();
        let Some(exposed) = pinned_down(&released, sums).into_iter().find(|&i| small(value[i])) else { break };
        let around = sums.iter().filter(|s| s.total == exposed || s.parts.contains(&exposed));
        let complement = smallest_shown(&withheld, &mut around.flat_map(|s| s.parts.iter().chain([&s.total]).copied()))
            .or_else(|| smallest_shown(&withheld, &mut (0..value.len())));
        match complement {
            Some(i) => withheld[i] = true,
            None => break,
        }
    }
    withheld
}

/// A table's figures in one list — cells, then row totals, column totals, the grand total —
/// with the sums they obey.
struct Figures<'a, R, C> {
    cells: Vec<&'a (Option<R>, Option<C>)>,
    rows: Vec<&'a Option<R>>,
    columns: Vec<&'a Option<C>>,
    value: Vec<i64>,
    unpublished: Vec<bool>,
    sums: Vec<Sum>,
}

impl<'a, R: Ord + Clone, C: Ord + Clone> Figures<'a, R, C> {
    fn of(input: &'a BTreeMap<(Option<R>, Option<C>), i64>) -> Self {
        let cells: Vec<_> = input.iter().filter(|&(_, &n)| n > 0).map(|(k, _)| k).collect();
        let rows: Vec<_> =
            cells.iter().map(|(r, _)| r).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let columns: Vec<_> =
            cells.iter().map(|(_, c)| c).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let (nc, nr, nk) = (cells.len(), rows.len(), columns.len());
        let total = nc + nr + nk;
        let mut value = vec![0; total + 1];
        let mut unpublished = vec![false; total + 1];
        let mut sums: Vec<Sum> = (0..nr + nk).map(|j| Sum { parts: Vec::new(), total: nc + j }).collect();
        for (i, key) in cells.iter().enumerate() {
            let (r, c) =
                (rows.binary_search(&&key.0).unwrap_or_default(), columns.binary_search(&&key.1).unwrap_or_default());
            let n = input[*key];
            for figure in [i, nc + r, nc + nr + c, total] {
                value[figure] += n;
            }
            unpublished[i] = key.0.is_none() || key.1.is_none();
            unpublished[nc + r] = key.0.is_none();
            unpublished[nc + nr + c] = key.1.is_none();
            sums[r].parts.push(i);
            sums[nr + c].parts.push(i);
        }
        sums.push(Sum { parts: (nc..nc + nr).collect(), total });
        sums.push(Sum { parts: (nc + nr..total).collect(), total });
        Self { cells, rows, columns, value, unpublished, sums }
    }

    fn released(&self, withheld: &[bool]) -> SuppressedTable<R, C> {
        let (nc, nr) = (self.cells.len(), self.rows.len());
        let shown = |i: usize| (!withheld[i]).then_some(self.value[i]);
        SuppressedTable {
            cells: self.cells.iter().enumerate().map(|(i, k)| ((*k).clone(), shown(i))).collect(),
            rows: self.rows.iter().enumerate().map(|(j, r)| ((*r).clone(), shown(nc + j))).collect(),
            columns: self.columns.iter().enumerate().map(|(j, c)| ((*c).clone(), shown(nc + nr + j))).collect(),
            total: shown(self.value.len() - 1),
        }
    }
}

/// The figures anyone can pin down exactly from the released ones (`None`: not released) and
/// the sums they obey, by Gaussian elimination: a figure is pinned down when its unit vector is
/// a combination of the sums, which in reduced row echelon form means a row with no other entry.
pub fn pinned_down(released: &[Option<i64>], sums: &[Sum]) -> Vec<usize> {
    const ZERO: f64 = 1e-9;
    let unknown: Vec<usize> = (0..released.len()).filter(|&i| released[i].is_none()).collect();
    let column = |i: usize| unknown.binary_search(&i).ok();
    let mut rows: Vec<Vec<f64>> = sums
        .iter()
        .map(|sum| {
            let mut row = vec![0.0; unknown.len()];
            for c in sum.parts.iter().filter_map(|&p| column(p)) {
                row[c] += 1.0;
            }
            if let Some(c) = column(sum.total) {
                row[c] -= 1.0;
            }
            row
        })
        .collect();
    let mut pivots = Vec::new();
    for c in 0..unknown.len() {
        let at = pivots.len();
        let Some(r) = (at..rows.len()).find(|&r| rows[r][c].abs() > ZERO) else { continue };
        rows.swap(at, r);
        let lead = rows[at][c];
        rows[at].iter_mut().for_each(|x| *x /= lead);
        let pivot = rows[at].clone();
        for (r, row) in rows.iter_mut().enumerate() {
            let factor = row[c];
            if r != at && factor.abs() > ZERO {
                row.iter_mut().zip(&pivot).for_each(|(x, p)| *x -= factor * p);
            }
        }
        pivots.push(c);
    }
    pivots
        .iter()
        .enumerate()
        .filter(|&(r, &c)| rows[r].iter().enumerate().all(|(k, x)| k == c || x.abs() < ZERO))
        .map(|(_, &c)| unknown[c])
        .collect()
}

/// What an onlooker can work out from released figures: the test of every path out, used by
/// the domain's property tests and the fuzz targets (feature `onlooker`); not part of the service.
#[cfg(any(test, feature = "onlooker"))]
pub mod onlooker {
    use std::collections::BTreeMap;

    use super::{Sum, SuppressedTable, pinned_down};

    /// The table's figures in one list (cells, rows, columns, total), what was released of each,
    /// and the sums they obey; groups without a unit or perspective are never published.
    pub fn as_released<R: Ord + Clone, C: Ord + Clone>(
        input: &BTreeMap<(Option<R>, Option<C>), i64>,
        out: &SuppressedTable<R, C>,
    ) -> (Vec<i64>, Vec<Option<i64>>, Vec<Sum>) {
        let cells: Vec<_> = out.cells.keys().cloned().collect();
        let rows: Vec<_> = out.rows.keys().cloned().collect();
        let columns: Vec<_> = out.columns.keys().cloned().collect();
        let (nc, nr, nk) = (cells.len(), rows.len(), columns.len());
        let mut actual = Vec::new();
        let mut released = Vec::new();
        for key in &cells {
            actual.push(input.get(key).copied().unwrap_or_default());
            released.push(out.cells[key].filter(|_| key.0.is_some() && key.1.is_some()));
        }
        for r in &rows {
            actual.push(cells.iter().filter(|k| &k.0 == r).map(|k| input.get(k).copied().unwrap_or_default()).sum());
            released.push(out.rows[r].filter(|_| r.is_some()));
        }
        for c in &columns {
            actual.push(cells.iter().filter(|k| &k.1 == c).map(|k| input.get(k).copied().unwrap_or_default()).sum());
            released.push(out.columns[c].filter(|_| c.is_some()));
        }
        actual.push(input.values().sum());
        released.push(out.total);
        let total = nc + nr + nk;
        let mut sums: Vec<Sum> = Vec::new();
        for (j, r) in rows.iter().enumerate() {
            sums.push(Sum { parts: (0..nc).filter(|&i| &cells[i].0 == r).collect(), total: nc + j });
        }
        for (j, c) in columns.iter().enumerate() {
            sums.push(Sum { parts: (0..nc).filter(|&i| &cells[i].1 == c).collect(), total: nc + nr + j });
        }
        sums.push(Sum { parts: (nc..nc + nr).collect(), total });
        sums.push(Sum { parts: (nc + nr..total).collect(), total });
        (actual, released, sums)
    }

    /// Every way an onlooker could learn about a small group from the table `out` released of
    /// `input`: a small figure released, pinned down, or several withheld parts of one sum that
    /// are together a small group.
    pub fn disclosures<R: Ord + Clone, C: Ord + Clone>(
        input: &BTreeMap<(Option<R>, Option<C>), i64>,
        out: &SuppressedTable<R, C>,
        min: i64,
    ) -> Vec<String> {
        let (actual, released, sums) = as_released(input, out);
        figure_disclosures(&actual, &released, &sums, min)
    }

    /// The same for any figures linked by sums (a tree of groups inside groups): `actual` is
    /// what is true, `released` what was shown (`None`: withheld or never published).
    pub fn figure_disclosures(actual: &[i64], released: &[Option<i64>], sums: &[Sum], min: i64) -> Vec<String> {
        let small = |n: i64| n > 0 && n < min;
        let mut found: Vec<String> = Vec::new();
        for (i, r) in released.iter().enumerate() {
            if let Some(n) = r
                && small(*n)
            {
                found.push(format!("figure {i} of {n} is released"));
            }
        }
        for i in pinned_down(released, sums) {
            if small(actual[i]) {
                found.push(format!("figure {i} of {} follows from the others", actual[i]));
            }
        }
        // The unreleased parts of a sum whose total is released are known together.
        for sum in sums.iter().filter(|sum| released[sum.total].is_some()) {
            let union: Vec<usize> = sum.parts.iter().copied().filter(|&p| released[p].is_none()).collect();
            let n: i64 = union.iter().map(|&i| actual[i]).sum();
            if small(n) {
                found.push(format!("figures {union:?} together are {n}"));
            }
        }
        found
    }
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

    type Table = BTreeMap<(Option<&'static str>, Option<&'static str>), i64>;

    fn disclosures(input: &Table, min: i64) -> Vec<String> {
        onlooker::disclosures(input, &suppress_table(input, min), min)
    }

    /// The table's figures in one list (cells, rows, columns, total) with the sums they obey;
    /// groups without a unit or perspective are never published, whatever was decided.
    #[test]
    fn a_small_cell_is_hidden_in_its_row_and_its_column() {
        let input: Table = [
            ((Some("u1"), Some("manager")), 2),
            ((Some("u1"), Some("worker")), 9),
            ((Some("u2"), Some("manager")), 6),
            ((Some("u2"), Some("worker")), 12),
        ]
        .into_iter()
        .collect();
        let out = suppress_table(&input, 5);
        let cell = |u, p| out.cells[&(Some(u), Some(p))];
        assert_eq!(cell("u1", "manager"), None);
        assert_eq!(cell("u1", "worker"), None, "else u1's managers = u1 − its workers");
        assert_eq!(cell("u2", "manager"), None, "else u1's managers = managers − u2's managers");
        assert_eq!(cell("u2", "worker"), None, "else the other three follow around the rectangle");
        assert_eq!((out.rows[&Some("u1")], out.columns[&Some("manager")], out.total), (Some(11), Some(8), Some(29)));
        assert!(disclosures(&input, 5).is_empty());
    }

    #[test]
    fn responses_without_a_unit_do_not_shelter_a_small_cell() {
        // The manager column hides the small cell among the unit-less managers, but u1's row
        // would still give it away: its other cell is withheld too, and the margins stand.
        let input: Table = [
            ((Some("u1"), Some("manager")), 3),
            ((Some("u1"), Some("worker")), 9),
            ((None, Some("manager")), 7),
            ((None, Some("worker")), 20),
        ]
        .into_iter()
        .collect();
        let out = suppress_table(&input, 5);
        assert_eq!(out.cells[&(Some("u1"), Some("manager"))], None);
        assert_eq!(out.cells[&(Some("u1"), Some("worker"))], None);
        assert_eq!((out.columns[&Some("manager")], out.rows[&Some("u1")]), (Some(10), Some(12)));
        assert!(disclosures(&input, 5).is_empty());
    }

    #[test]
    fn without_units_the_table_is_the_one_way_breakdown() {
        let input: Table =
            [((None, Some("manager")), 2), ((None, Some("supervisor")), 6), ((None, Some("worker")), 12)]
                .into_iter()
                .collect();
        let out = suppress_table(&input, 5);
        assert_eq!(
            out.columns.values().copied().collect::<Vec<_>>(),
            vec![None, None, Some(12)],
            "the manager and, as its complement, the supervisor column"
        );
        assert_eq!(out.total, Some(20));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Whatever the table, no small group — cell, margin, or several withheld parts of one
        /// sum together — is released or can be worked out from what is.
        #[test]
        fn no_small_group_can_be_worked_out_from_a_released_table(
            counts in proptest::collection::vec(0i64..14, 1..24),
            min in 3i64..8,
        ) {
            const UNITS: [Option<&str>; 4] = [Some("u1"), Some("u2"), Some("u3"), None];
            const PERSPECTIVES: [Option<&str>; 6] = [Some("a"), Some("b"), Some("c"), Some("d"), Some("e"), None];
            let input: Table = counts
                .iter()
                .enumerate()
                .map(|(i, &n)| ((UNITS[i % 4], PERSPECTIVES[i / 4]), n))
                .collect();
            let found = disclosures(&input, min);
            proptest::prop_assert!(found.is_empty(), "{:?} with minimum {}: {:?}", input, min, found);
        }
    }
}
