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

/// Withholds every group with fewer than `min` members — an empty one too: a count a lead polls
/// while a survey runs would otherwise go from "0" to "withheld" when one person answers. The
/// withheld groups together are the total less the shown ones, so together they must not be a
/// small group (nor an empty one): until they are not, the smallest other group is withheld
/// too, and when a single withheld group has no other to hide behind, the total is withheld.
pub fn suppress_counts<K: Ord + Clone>(groups: &BTreeMap<K, i64>, min: i64) -> SuppressedCounts<K> {
    let small = |n: i64| n < min;
    let mut shown: BTreeMap<K, Option<i64>> =
        groups.iter().map(|(k, &n)| (k.clone(), if small(n) { None } else { Some(n) })).collect();
    let total: i64 = groups.values().sum();
    let mut total_shown = Some(total);
    loop {
        let withheld: Vec<i64> = groups.iter().filter(|&(k, _)| shown[k].is_none()).map(|(_, &n)| n).collect();
        if withheld.is_empty() || !small(withheld.iter().sum()) {
            break;
        }
        let complement =
            groups.iter().filter(|&(k, _)| shown[k].is_some()).min_by_key(|&(_, &n)| n).map(|(k, _)| k.clone());
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

/// [`suppress_table`] for figures that rest on some of a group's members — those who answered
/// one item, those who could be scored on one domain — inside the groups' own decision: what
/// `groups` withholds stays withheld, and every figure resting on fewer than `min` people, or
/// letting a union of fewer be worked out by subtraction, is withheld too.
pub fn suppress_table_within<R: Ord + Clone, C: Ord + Clone>(
    cells: &BTreeMap<(Option<R>, Option<C>), i64>,
    min: i64,
    groups: &SuppressedTable<R, C>,
) -> SuppressedTable<R, C> {
    let table = Figures::of(cells);
    let (nc, nr, nk) = (table.cells.len(), table.rows.len(), table.columns.len());
    let gone = |shown: Option<&Option<i64>>| shown.is_some_and(Option::is_none);
    let start: Vec<bool> = (0..table.value.len())
        .map(|i| match i {
            i if i < nc => gone(groups.cells.get(table.cells[i])),
            i if i < nc + nr => gone(groups.rows.get(table.rows[i - nc])),
            i if i < nc + nr + nk => gone(groups.columns.get(table.columns[i - nc - nr])),
            _ => groups.total.is_none(),
        })
        .collect();
    let withheld =
        suppress(&table.value, &table.unpublished, &vec![false; table.value.len()], &start, &table.sums, min);
    table.released(&withheld)
}

/// The rule of [`suppress_table`] for any figures linked by sums (a table and its margins, a
/// tree of groups inside groups): which figures to withhold (`true`). `unpublished` figures are
/// never shown but take part in the arithmetic. Every figure with fewer than `min` members is
/// withheld; then, as long as an onlooker can work out the size of some group of fewer than
/// `min` people from what is released ([`small_group_worked_out`]: any union of the smallest
/// groups the figures are made of, by any combination of the released figures), one more
/// figure that takes part in working it out is withheld.
pub fn suppress_figures(value: &[i64], unpublished: &[bool], sums: &[Sum], min: i64) -> Vec<bool> {
    suppress_figures_beside(value, unpublished, &vec![false; value.len()], sums, min)
}

/// [`suppress_figures`] when some figures were released before and stay released (`fixed`): an
/// interim cut's figures beside the closed survey's. Only figures not fixed are withheld to
/// protect a group; a fixed figure is never withheld, whatever its size.
pub fn suppress_figures_beside(
    value: &[i64],
    unpublished: &[bool],
    fixed: &[bool],
    sums: &[Sum],
    min: i64,
) -> Vec<bool> {
    suppress(value, unpublished, fixed, &vec![false; value.len()], sums, min)
}

/// The one rule behind every suppression: `start` are withheld already, `fixed` stay released.
fn suppress(value: &[i64], unpublished: &[bool], fixed: &[bool], start: &[bool], sums: &[Sum], min: i64) -> Vec<bool> {
    let atoms = Atoms::of(value, sums);
    let is_fixed = |i: usize| fixed.get(i).copied().unwrap_or(false);
    let hidden = |i: usize| unpublished.get(i).copied().unwrap_or(false);
    let mut withheld: Vec<bool> = (0..value.len())
        .map(|i| !is_fixed(i) && (start.get(i).copied().unwrap_or(false) || (value[i] > 0 && value[i] < min)))
        .collect();
    loop {
        let released: Vec<bool> = (0..value.len()).map(|i| is_fixed(i) || (!withheld[i] && !hidden(i))).collect();
        let found = match small_group_worked_out(&atoms, &released, min) {
            Ok(None) => break,
            Ok(Some(group)) => Some(group),
            Err(Exhausted) => None,
        };
        let candidates: Vec<usize> =
            (0..value.len()).filter(|&i| released[i] && !is_fixed(i) && value[i] > 0).collect();
        let Some(next) = atoms.complement(&candidates, &released, found.as_deref(), value) else { break };
        withheld[next] = true;
    }
    withheld
}

/// The search for a small group gave up: too many ways to try. The caller withholds more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted;

/// How many partial unions the search may try before it gives up (and more is withheld).
const SEARCH_BUDGET: usize = 400_000;

/// The figures as an onlooker sees them: each figure is the set of *atoms* it counts — the
/// smallest groups no figure splits (a table's cells) — and each atom holds at least one
/// person. The onlooker is assumed to know which atoms exist (a listing shows which cells have
/// members, and a lead knows which units have which staff), so an empty atom is no atom.
pub struct Atoms {
    /// Each figure's atoms, in increasing order.
    of: Vec<Vec<usize>>,
    /// Each atom's members.
    count: Vec<i64>,
}

impl Atoms {
    /// A figure that is the total of a sum counts its parts' atoms; any other figure with
    /// members is an atom of its own.
    pub fn of(value: &[i64], sums: &[Sum]) -> Self {
        let mut total_of: Vec<Option<usize>> = vec![None; value.len()];
        for (s, sum) in sums.iter().enumerate() {
            if total_of[sum.total].is_none() {
                total_of[sum.total] = Some(s);
            }
        }
        let mut atom_of: Vec<Option<usize>> = vec![None; value.len()];
        let mut count = Vec::new();
        for i in 0..value.len() {
            if total_of[i].is_none() && value[i] > 0 {
                atom_of[i] = Some(count.len());
                count.push(value[i]);
            }
        }
        let mut of: Vec<Option<Vec<usize>>> = vec![None; value.len()];
        fn resolve(
            i: usize,
            sums: &[Sum],
            total_of: &[Option<usize>],
            atom_of: &[Option<usize>],
            of: &mut Vec<Option<Vec<usize>>>,
            depth: usize,
        ) -> Vec<usize> {
            if let Some(known) = &of[i] {
                return known.clone();
            }
            let atoms = match total_of[i] {
                Some(s) if depth < sums.len() + 1 => {
                    let mut atoms: Vec<usize> = sums[s]
                        .parts
                        .iter()
                        .flat_map(|&p| resolve(p, sums, total_of, atom_of, of, depth + 1))
                        .collect();
                    atoms.sort_unstable();
                    atoms.dedup();
                    atoms
                }
                _ => atom_of[i].into_iter().collect(),
            };
            of[i] = Some(atoms.clone());
            atoms
        }
        for i in 0..value.len() {
            resolve(i, sums, &total_of, &atom_of, &mut of, 0);
        }
        Self { of: of.into_iter().map(Option::unwrap_or_default).collect(), count }
    }

    /// The figure to withhold next among `candidates` (released, not fixed): the finest (a cell
    /// before a margin, a margin before the total, so totals stay shown where they can), close
    /// to `group` (sharing its atoms, or inside a smaller figure that does) before far from it,
    /// smallest first — among the finest, the first without which `group` can no longer be
    /// worked out, else the first. With no group
    /// known (the search gave up), the finest smallest candidate.
    fn complement(
        &self,
        candidates: &[usize],
        released: &[bool],
        group: Option<&[usize]>,
        value: &[i64],
    ) -> Option<usize> {
        let everyone = self.count.len();
        let touches = |i: usize, group: &[usize]| self.of[i].iter().any(|a| group.contains(a));
        let far = |c: usize| match group {
            Some(group) => {
                !touches(c, group)
                    && !(0..self.of.len()).any(|f| {
                        self.of[f].len() < everyone
                            && touches(f, group)
                            && self.of[c].iter().all(|a| self.of[f].binary_search(a).is_ok())
                    })
            }
            None => false,
        };
        let mut order: Vec<usize> = candidates.to_vec();
        order.sort_by_cached_key(|&i| (self.of[i].len(), far(i), value[i], i));
        let finest = order.first().map(|&c| self.of[c].len());
        if let Some(group) = group {
            for &c in order.iter().take_while(|&&c| Some(self.of[c].len()) == finest).take(24) {
                let mut without = released.to_vec();
                without[c] = false;
                if !self.in_span(&without, group) {
                    return Some(c);
                }
            }
        }
        order.first().copied()
    }

    /// The released figures as rows over the atoms, in reduced row echelon form, with the
    /// column of each row's pivot.
    fn echelon(&self, released: &[bool]) -> (Vec<Vec<f64>>, Vec<usize>) {
        let width = self.count.len();
        let mut rows: Vec<Vec<f64>> = (0..self.of.len())
            .filter(|&i| released[i] && !self.of[i].is_empty())
            .map(|i| {
                let mut row = vec![0.0; width];
                for &a in &self.of[i] {
                    row[a] = 1.0;
                }
                row
            })
            .collect();
        let pivots = reduce(&mut rows, width);
        (rows, pivots)
    }

    /// Whether the union of `group` follows from the released figures.
    fn in_span(&self, released: &[bool], group: &[usize]) -> bool {
        let (rows, pivots) = self.echelon(released);
        let mut x: Vec<f64> = vec![0.0; self.count.len()];
        for &a in group {
            x[a] = 1.0;
        }
        for (row, &p) in rows.iter().zip(&pivots) {
            let factor = x[p];
            if factor.abs() > EPSILON {
                x.iter_mut().zip(row).for_each(|(v, r)| *v -= factor * r);
            }
        }
        x.iter().all(|v| v.abs() < EPSILON)
    }
}

const EPSILON: f64 = 1e-7;

/// A group of fewer than `min` people — a union of atoms — whose size (and so, for results,
/// every figure of its members) an onlooker works out exactly from the `released` figures, if
/// there is one. A union follows from the released figures when its indicator is a combination
/// of theirs; in reduced row echelon form that combination is fixed by the union's atoms at the
/// pivots, so the search tries unions of pivot atoms, smallest first, and keeps those whose
/// other atoms come out as exactly 0 or 1.
pub fn small_group_worked_out(atoms: &Atoms, released: &[bool], min: i64) -> Result<Option<Vec<usize>>, Exhausted> {
    let (rows, pivots) = atoms.echelon(released);
    if rows.is_empty() {
        return Ok(None);
    }
    let width = atoms.count.len();
    let free: Vec<usize> = (0..width).filter(|c| !pivots.contains(c)).collect();
    // What the rows from `d` on can still add to each free atom, at least and at most.
    let mut low = vec![vec![0.0; free.len()]; rows.len() + 1];
    let mut high = vec![vec![0.0; free.len()]; rows.len() + 1];
    for d in (0..rows.len()).rev() {
        for (f, &c) in free.iter().enumerate() {
            low[d][f] = low[d + 1][f] + rows[d][c].min(0.0);
            high[d][f] = high[d + 1][f] + rows[d][c].max(0.0);
        }
    }
    let mut search = Search {
        rows: &rows,
        pivots: &pivots,
        free: &free,
        low: &low,
        high: &high,
        count: &atoms.count,
        min,
        budget: SEARCH_BUDGET,
    };
    let mut sum = vec![0.0; free.len()];
    let mut chosen = Vec::new();
    search.from(0, &mut sum, &mut chosen, 0)
}

struct Search<'a> {
    rows: &'a [Vec<f64>],
    pivots: &'a [usize],
    free: &'a [usize],
    low: &'a [Vec<f64>],
    high: &'a [Vec<f64>],
    count: &'a [i64],
    min: i64,
    budget: usize,
}

impl Search<'_> {
    /// Decides pivot `d` on: `sum` holds each free atom's coefficient so far, `chosen` the pivot
    /// atoms in the union, `size` their members.
    fn from(
        &mut self,
        d: usize,
        sum: &mut [f64],
        chosen: &mut Vec<usize>,
        size: i64,
    ) -> Result<Option<Vec<usize>>, Exhausted> {
        self.budget = self.budget.checked_sub(1).ok_or(Exhausted)?;
        let mut forced = size;
        for (f, &so_far) in sum.iter().enumerate() {
            let (lo, hi) = (so_far + self.low[d][f], so_far + self.high[d][f]);
            let may_be_0 = lo < EPSILON && hi > -EPSILON;
            let may_be_1 = lo < 1.0 + EPSILON && hi > 1.0 - EPSILON;
            if !may_be_0 && !may_be_1 {
                return Ok(None);
            }
            if !may_be_0 {
                forced += self.count[self.free[f]];
            }
        }
        if forced >= self.min {
            return Ok(None);
        }
        if d == self.rows.len() {
            let mut group = chosen.clone();
            let mut members = size;
            for (f, &c) in self.free.iter().enumerate() {
                if (sum[f] - 1.0).abs() < EPSILON {
                    group.push(c);
                    members += self.count[c];
                }
            }
            return Ok((!group.is_empty() && members < self.min).then(|| {
                group.sort_unstable();
                group
            }));
        }
        if let Some(found) = self.from(d + 1, sum, chosen, size)? {
            return Ok(Some(found));
        }
        let pivot = self.pivots[d];
        for (f, &c) in self.free.iter().enumerate() {
            sum[f] += self.rows[d][c];
        }
        chosen.push(pivot);
        let found = self.from(d + 1, sum, chosen, size + self.count[pivot]);
        chosen.pop();
        for (f, &c) in self.free.iter().enumerate() {
            sum[f] -= self.rows[d][c];
        }
        found
    }
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
    let pivots = reduce(&mut rows, unknown.len());
    pivots
        .iter()
        .enumerate()
        .filter(|&(r, &c)| rows[r].iter().enumerate().all(|(k, x)| k == c || x.abs() < EPSILON))
        .map(|(_, &c)| unknown[c])
        .collect()
}

/// Brings `rows` (each `width` long) to reduced row echelon form in place, the largest entry
/// as each pivot, and keeps only the rows with a pivot; returns each row's pivot column.
fn reduce(rows: &mut Vec<Vec<f64>>, width: usize) -> Vec<usize> {
    let mut pivots = Vec::new();
    for c in 0..width {
        let at = pivots.len();
        let Some(r) = (at..rows.len()).max_by(|&a, &b| rows[a][c].abs().total_cmp(&rows[b][c].abs())) else {
            break;
        };
        if rows[r][c].abs() < EPSILON {
            continue;
        }
        rows.swap(at, r);
        let lead = rows[at][c];
        rows[at].iter_mut().for_each(|x| *x /= lead);
        let pivot = rows[at].clone();
        for (k, row) in rows.iter_mut().enumerate() {
            let factor = row[c];
            if k != at && factor.abs() > EPSILON {
                row.iter_mut().zip(&pivot).for_each(|(x, p)| *x -= factor * p);
            }
        }
        pivots.push(c);
    }
    rows.truncate(pivots.len());
    pivots
}

/// What an onlooker can work out from released figures: the test of every path out, used by
/// the domain's property tests and the fuzz targets (feature `onlooker`); not part of the service.
#[cfg(any(test, feature = "onlooker"))]
pub mod onlooker {
    use std::collections::BTreeMap;

    use super::{Atoms, Sum, SuppressedTable, pinned_down};

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
        found.extend(small_unions(actual, released, sums, min));
        found
    }

    /// Every union of atoms (the groups no figure splits; the onlooker knows which have
    /// members) of fewer than `min` people whose size follows from the released figures: by
    /// trying every union where there are at most 16 atoms, else by the engine's own search.
    pub fn small_unions(actual: &[i64], released: &[Option<i64>], sums: &[Sum], min: i64) -> Vec<String> {
        let atoms = Atoms::of(actual, sums);
        let shown: Vec<bool> = released.iter().map(Option::is_some).collect();
        let n = atoms.count.len();
        if n > 16 {
            return match super::small_group_worked_out(&atoms, &shown, min) {
                Ok(None) => Vec::new(),
                Ok(Some(group)) => vec![format!("atoms {group:?} together follow from the released figures")],
                Err(_) => vec!["the search gave up".into()],
            };
        }
        (1u32..(1 << n))
            .filter_map(|mask| {
                let group: Vec<usize> = (0..n).filter(|a| mask & (1 << a) != 0).collect();
                let size: i64 = group.iter().map(|&a| atoms.count[a]).sum();
                (size < min && atoms.in_span(&shown, &group))
                    .then(|| format!("atoms {group:?} of {size} together follow from the released figures"))
            })
            .collect()
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
        assert_eq!((shown.groups["a"], shown.groups["d"]), (None, None), "zero is withheld like any small count");
        assert_eq!(shown.groups["b"], None, "the smallest other group hides the small ones");
        assert_eq!((shown.groups["c"], shown.total), (Some(12), Some(21)));
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

    /// A lead polling counts while a survey runs: the first social worker to answer must not
    /// turn a shown "0" into "withheld", nor any figure move but the total.
    #[test]
    fn polling_counts_tells_nothing_when_one_person_answers() {
        let before = suppress_counts(&groups(&[("sw", 0), ("sup", 20)]), 5);
        let after = suppress_counts(&groups(&[("sw", 1), ("sup", 20)]), 5);
        assert_eq!(before.groups, after.groups, "{before:?} then {after:?}");
        assert!(before.groups.values().all(Option::is_none));
        assert_eq!((before.total, after.total), (Some(20), Some(21)));
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
                    assert!(*n >= 5, "a small or empty group {k} is shown: {sizes:?}");
                }
            }
            let hidden_sum: i64 = hidden.iter().map(|&k| sizes[k]).sum();
            if !hidden.is_empty() && shown.total.is_some() && hidden.len() < sizes.len() {
                assert!(hidden_sum >= 5, "the withheld groups together are {hidden_sum}: {sizes:?}");
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

    /// Issue 14's table: overall − social workers − unit C, where the reader knows unit C has
    /// no social workers, is the four people who are neither (three in A, one in B).
    fn across_breakdowns() -> Table {
        [
            ((Some("A"), Some("sw")), 10),
            ((Some("A"), Some("sup")), 3),
            ((Some("B"), Some("sw")), 6),
            ((Some("B"), Some("mgr")), 1),
            ((Some("C"), Some("sup")), 6),
            ((Some("C"), Some("mgr")), 5),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn a_group_worked_out_across_two_breakdowns_is_withheld() {
        let input = across_breakdowns();
        let out = suppress_table(&input, 5);
        let (actual, released, sums) = onlooker::as_released(&input, &out);
        assert!(onlooker::small_unions(&actual, &released, &sums, 5).is_empty(), "{out:?}");
        assert!(disclosures(&input, 5).is_empty());
        assert_eq!(out.total, Some(31), "the overall figure stands");
    }

    #[test]
    fn the_onlooker_finds_the_subtraction_the_old_rule_missed() {
        // The table released as the earlier rule released it: every margin but unit B.
        let input = across_breakdowns();
        let figures = Figures::of(&input);
        let (nc, nr) = (figures.cells.len(), figures.rows.len());
        let mut withheld = vec![true; figures.value.len()];
        withheld[nc] = false; // unit A
        withheld[nc + 2] = false; // unit C
        withheld[nc + nr + 2] = false; // social workers
        *withheld.last_mut().unwrap() = false; // overall
        let out = figures.released(&withheld);
        let (actual, released, sums) = onlooker::as_released(&input, &out);
        let found = onlooker::small_unions(&actual, &released, &sums, 5);
        assert!(!found.is_empty(), "overall − social workers − unit C is four people");
    }

    /// A table where cells are often empty, checked by an onlooker that tries every union of
    /// cells against every combination of the released figures.
    fn sparse_table() -> impl proptest::strategy::Strategy<Value = (Table, i64)> {
        use proptest::prelude::*;
        const UNITS: [Option<&str>; 4] = [Some("u1"), Some("u2"), Some("u3"), None];
        const PERSPECTIVES: [Option<&str>; 4] = [Some("a"), Some("b"), Some("c"), None];
        (proptest::collection::vec(prop_oneof![3 => Just(0i64), 2 => 1i64..4, 2 => 4i64..12], 16), 3i64..7).prop_map(
            |(counts, min)| {
                let table = counts
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| **n > 0)
                    .map(|(i, &n)| ((UNITS[i % 4], PERSPECTIVES[i / 4]), n))
                    .collect();
                (table, min)
            },
        )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(384))]

        /// With empty cells known to the onlooker, no union of cells of fewer than the minimum
        /// follows from what is released.
        #[test]
        fn no_small_union_of_cells_follows_from_a_sparse_table((input, min) in sparse_table()) {
            proptest::prop_assume!(!input.is_empty());
            let out = suppress_table(&input, min);
            let (actual, released, sums) = onlooker::as_released(&input, &out);
            let found = onlooker::small_unions(&actual, &released, &sums, min);
            proptest::prop_assert!(found.is_empty(), "{:?} with minimum {}: {:?} from {:?}", input, min, found, out);
        }
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
