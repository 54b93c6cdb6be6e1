//! Results of an administration: per group (everyone, each perspective, each unit) and per
//! item and domain, with small groups withheld *in the type*: a group's figures are only
//! reachable through [`Released::Shown`], so no path out can forget the privacy rule.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::instrument::{InstrumentDocument, Item, ItemKind};
use crate::privacy::{SuppressedTable, suppress_table, suppress_table_within};
use crate::scoring::{DomainStats, ItemStats, ScaleShape};

/// One submitted response as the results feed gives it: free text is read from it, and the
/// Likert answers of a wave are kept from it as [`LikertAnswers`].
#[derive(Debug, Clone)]
pub struct ScoredResponse {
    /// The perspective it answered from, if any.
    pub perspective: Option<String>,
    /// The unit it answered for, if any.
    pub unit: Option<uuid::Uuid>,
    /// Answers by item code.
    pub answers: BTreeMap<String, serde_json::Value>,
}

/// A wave's Likert answers in compact, numeric form, as scoring reads them: the Likert item
/// codes once (in the version's order), then per response its perspective, unit and one value
/// per item. It exists so that a wave is held and scored without a map per response: results
/// read it in place (shared behind an `Arc` by the store's cache), and look each item's column
/// up once per computation rather than once per answer.
///
/// Values are `i32`, the type of a scale's option values (instrument validation requires them
/// to increase, nothing narrower).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LikertAnswers {
    codes: Box<[String]>,
    respondents: Vec<Respondent>,
    /// Row-major: `codes.len()` values per respondent, `None` where the item was not answered.
    values: Vec<Option<i32>>,
}

/// Who gave one row of answers: the only grouping results make.
#[derive(Debug, Clone, PartialEq)]
struct Respondent {
    /// Shared between the rows of one perspective: a wave has a handful of them.
    perspective: Option<Arc<str>>,
    unit: Option<uuid::Uuid>,
}

impl LikertAnswers {
    /// Keeps the answers of `responses` to the Likert items of `version`, in order. An answer
    /// that is not a whole number within `i32` counts as not given: submitted answers are
    /// checked against the scale's values, so only hand-made input holds one.
    pub fn of(version: &InstrumentDocument, responses: &[ScoredResponse]) -> Self {
        let codes: Box<[String]> =
            version.items.iter().filter(|i| i.kind == ItemKind::Likert).map(|i| i.code.clone()).collect();
        let mut perspectives: Vec<Arc<str>> = Vec::new();
        let mut respondents = Vec::with_capacity(responses.len());
        let mut values = Vec::with_capacity(responses.len() * codes.len());
        for response in responses {
            let perspective = response.perspective.as_deref().map(|p| {
                if let Some(known) = perspectives.iter().find(|known| ***known == *p) {
                    Arc::clone(known)
                } else {
                    let new: Arc<str> = p.into();
                    perspectives.push(Arc::clone(&new));
                    new
                }
            });
            respondents.push(Respondent { perspective, unit: response.unit });
            values.extend(codes.iter().map(|code| {
                response.answers.get(code).and_then(serde_json::Value::as_i64).and_then(|v| i32::try_from(v).ok())
            }));
        }
        Self { codes, respondents, values }
    }

    /// How many responses.
    pub fn len(&self) -> usize {
        self.respondents.len()
    }

    /// Whether there are no responses.
    pub fn is_empty(&self) -> bool {
        self.respondents.is_empty()
    }

    /// The Likert item codes, one per column, in the version's order.
    pub fn codes(&self) -> &[String] {
        &self.codes
    }

    /// The column holding the answers to `code`, if it is one of the Likert items kept: look
    /// it up once, then read [`Self::value`] per response.
    pub fn column(&self, code: &str) -> Option<usize> {
        self.codes.iter().position(|c| c == code)
    }

    /// The perspective response `row` answered from, if any.
    pub fn perspective(&self, row: usize) -> Option<&str> {
        self.respondents.get(row)?.perspective.as_deref()
    }

    /// The unit response `row` answered for, if any.
    pub fn unit(&self, row: usize) -> Option<uuid::Uuid> {
        self.respondents.get(row)?.unit
    }

    /// Response `row`'s answer in `column`; `None` when not given (or out of range).
    pub fn value(&self, row: usize, column: usize) -> Option<i32> {
        let width = self.codes.len();
        if column >= width {
            return None;
        }
        self.values.get(row * width + column).copied().flatten()
    }
}

/// Why a group's figures are withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withheld {
    /// Fewer respondents than the administration's minimum reporting group.
    BelowMinimum,
    /// Large enough, but showing it would let a smaller group be computed by subtraction.
    Complementary,
}

/// A group's figures, or why they are withheld.
#[derive(Debug, Clone, PartialEq)]
pub enum Released<T> {
    /// The figures.
    Shown(T),
    /// Withheld, with the reason; the group is listed, never silently dropped.
    Withheld(Withheld),
}

impl<T> Released<T> {
    /// The figures, if shown.
    pub fn shown(&self) -> Option<&T> {
        match self {
            Self::Shown(t) => Some(t),
            Self::Withheld(_) => None,
        }
    }
}

/// One item's figures within a group.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemResult {
    /// The item's code.
    pub code: String,
    /// Its concept, for comparisons.
    pub concept: Option<String>,
    /// Its domain.
    pub domain: String,
    /// The statistics (none when nobody in the group answered it, or when withheld).
    pub stats: Option<ItemStats>,
    /// Why the statistics are withheld though the group is shown: they would rest on fewer
    /// respondents than the minimum, or let such a few be worked out by subtraction.
    pub withheld: Option<Withheld>,
}

/// One domain's figures within a group.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainResult {
    /// The domain's code.
    pub code: String,
    /// The statistics (none when no respondent could be scored on it, or when withheld).
    pub stats: Option<DomainStats>,
    /// Why the statistics are withheld though the group is shown (see [`ItemResult::withheld`]).
    pub withheld: Option<Withheld>,
}

/// Everything shown about one group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupFigures {
    /// Respondents in the group.
    pub n: usize,
    /// Per Likert item.
    pub items: Vec<ItemResult>,
    /// Per domain.
    pub domains: Vec<DomainResult>,
}

/// A group: its key and its released figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Group<K> {
    /// Which group (a perspective's code, a unit's id).
    pub key: K,
    /// Its figures, or why they are withheld.
    pub figures: Released<GroupFigures>,
}

/// A group of one perspective within one unit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PerspectiveInUnit {
    /// The unit.
    pub unit: uuid::Uuid,
    /// The perspective's code.
    pub perspective: String,
}

/// The results of one administration.
#[derive(Debug, Clone, PartialEq)]
pub struct AdministrationResults {
    /// Everyone who submitted.
    pub overall: Released<GroupFigures>,
    /// By perspective (responses that gave none are not a group of their own).
    pub by_perspective: Vec<Group<String>>,
    /// By org unit (responses that gave none are not a group of their own).
    pub by_unit: Vec<Group<uuid::Uuid>>,
    /// By perspective within each unit: the cross-tab, suppressed together with both margins.
    pub by_perspective_in_unit: Vec<Group<PerspectiveInUnit>>,
}

/// A cell of the unit × perspective table; `None` where a response gave neither.
type CellKey<'a> = (Option<uuid::Uuid>, Option<&'a str>);

/// Scores every group of an administration and withholds what the minimum group size forbids.
/// The perspective × unit table and its margins are suppressed as one, so no combination of
/// the breakdowns gives a small group away.
pub fn administration_results(
    version: &InstrumentDocument,
    answers: &LikertAnswers,
    min_group: usize,
) -> AdministrationResults {
    // Members are row numbers, each group's in the order the map-based computation took them
    // (everyone in submission order, a margin cell by cell): sums of floats depend on order.
    let mut cells: BTreeMap<CellKey<'_>, Vec<usize>> = BTreeMap::new();
    for row in 0..answers.len() {
        cells.entry((answers.unit(row), answers.perspective(row))).or_default().push(row);
    }
    let sizes: BTreeMap<CellKey<'_>, i64> = cells.iter().map(|(k, v)| (*k, v.len() as i64)).collect();
    let decided = suppress_table(&sizes, min_group as i64);
    let layout = Layout::of(version, answers);
    let within = layout.within(answers, &cells, &sizes, &decided, min_group as i64);
    let figures_of = |shown: bool, group: GroupKey<'_>, members: Vec<usize>| match (shown, members.len()) {
        (_, n) if n < min_group => Released::Withheld(Withheld::BelowMinimum),
        (true, _) => Released::Shown(layout.figures(answers, &members, &|figure| within.withholds(figure, group))),
        (false, _) => Released::Withheld(Withheld::Complementary),
    };
    let members = |keep: &dyn Fn(&CellKey<'_>) -> bool| -> Vec<usize> {
        cells.iter().filter(|(k, _)| keep(k)).flat_map(|(_, v)| v.iter().copied()).collect()
    };
    AdministrationResults {
        overall: figures_of(decided.total.is_some(), GroupKey::Everyone, (0..answers.len()).collect()),
        by_perspective: decided
            .columns
            .iter()
            .filter_map(|(p, shown)| {
                let p = (*p)?;
                let figures = figures_of(shown.is_some(), GroupKey::Column(Some(p)), members(&|k| k.1 == Some(p)));
                Some(Group { key: p.to_owned(), figures })
            })
            .collect(),
        by_unit: decided
            .rows
            .iter()
            .filter_map(|(u, shown)| {
                let u = (*u)?;
                let figures = figures_of(shown.is_some(), GroupKey::Row(Some(u)), members(&|k| k.0 == Some(u)));
                Some(Group { key: u, figures })
            })
            .collect(),
        by_perspective_in_unit: decided
            .cells
            .iter()
            .filter_map(|((u, p), shown)| {
                let key = PerspectiveInUnit { unit: (*u)?, perspective: (*p)?.to_owned() };
                let members = cells[&(*u, *p)].clone();
                Some(Group { key, figures: figures_of(shown.is_some(), GroupKey::Cell(*u, *p), members) })
            })
            .collect(),
    }
}

/// Which group of the unit × perspective table a figure belongs to.
#[derive(Debug, Clone, Copy)]
enum GroupKey<'a> {
    Everyone,
    Row(Option<uuid::Uuid>),
    Column(Option<&'a str>),
    Cell(Option<uuid::Uuid>, Option<&'a str>),
}

/// One item's or one domain's figures, among a group's.
#[derive(Debug, Clone, Copy)]
enum Figure {
    Item(usize),
    Domain(usize),
}

/// What is withheld of each item and domain inside shown groups: each rests on those who
/// answered the item (could be scored on the domain), a table of its own, suppressed inside
/// the groups' decision. `None`: the item's table is the groups' own (everyone answered it).
struct Within<'a> {
    items: Vec<Option<std::rc::Rc<SuppressedTable<uuid::Uuid, &'a str>>>>,
    domains: Vec<Option<std::rc::Rc<SuppressedTable<uuid::Uuid, &'a str>>>>,
}

impl Within<'_> {
    fn withholds(&self, figure: Figure, group: GroupKey<'_>) -> bool {
        let table = match figure {
            Figure::Item(i) => self.items.get(i),
            Figure::Domain(d) => self.domains.get(d),
        };
        let Some(Some(table)) = table else { return false };
        let gone = |shown: Option<&Option<i64>>| shown.is_some_and(Option::is_none);
        match group {
            GroupKey::Everyone => table.total.is_none(),
            GroupKey::Row(u) => gone(table.rows.get(&u)),
            GroupKey::Column(p) => gone(table.columns.get(&p)),
            GroupKey::Cell(u, p) => gone(table.cells.get(&(u, p))),
        }
    }
}

/// What scoring a group needs from the version, worked out once per computation: each Likert
/// item with its column in the answers and its scale, and each domain with its items.
struct Layout<'v> {
    items: Vec<LikertColumn<'v>>,
    domains: Vec<DomainColumns<'v>>,
}

struct LikertColumn<'v> {
    item: &'v Item,
    /// Where its answers are; `None` when the answers hold no such item (nobody answered it).
    column: Option<usize>,
    /// Its scale's shape and whether the scale has a neutral midpoint.
    scale: Option<(ScaleShape, bool)>,
}

struct DomainColumns<'v> {
    code: &'v str,
    /// Its Likert items, as (column, reverse-scored), in the version's order.
    columns: Vec<(Option<usize>, bool)>,
    /// The scale of its first Likert item, on which the domain is scored.
    shape: Option<ScaleShape>,
}

impl<'v> Layout<'v> {
    fn of(version: &'v InstrumentDocument, answers: &LikertAnswers) -> Self {
        let items: Vec<LikertColumn<'v>> = version
            .items
            .iter()
            .filter(|i| i.kind == ItemKind::Likert)
            .map(|item| LikertColumn {
                item,
                column: answers.column(&item.code),
                scale: version
                    .scale_of(item)
                    .and_then(|scale| Some((ScaleShape::new(scale.values())?, scale.neutral_midpoint))),
            })
            .collect();
        let domains = version
            .domains
            .iter()
            .map(|domain| {
                let of_domain: Vec<&LikertColumn<'v>> = items.iter().filter(|c| c.item.domain == domain.code).collect();
                DomainColumns {
                    code: &domain.code,
                    columns: of_domain.iter().map(|c| (c.column, c.item.reverse_scored)).collect(),
                    shape: of_domain
                        .first()
                        .and_then(|c| version.scale_of(c.item))
                        .and_then(|s| ScaleShape::new(s.values())),
                }
            })
            .collect();
        Self { items, domains }
    }

    /// What each item and domain withholds inside the shown groups ([`Within`]); tables alike
    /// (the same people answered) are decided once.
    fn within<'k>(
        &self,
        answers: &LikertAnswers,
        cells: &BTreeMap<CellKey<'k>, Vec<usize>>,
        sizes: &BTreeMap<CellKey<'k>, i64>,
        groups: &SuppressedTable<uuid::Uuid, &'k str>,
        min: i64,
    ) -> Within<'k> {
        let mut decided: BTreeMap<Vec<i64>, std::rc::Rc<SuppressedTable<uuid::Uuid, &'k str>>> = BTreeMap::new();
        let mut decide = |counts: BTreeMap<CellKey<'k>, i64>| {
            if &counts == sizes {
                return None;
            }
            let key: Vec<i64> = counts.values().copied().collect();
            Some(
                decided
                    .entry(key)
                    .or_insert_with(|| std::rc::Rc::new(suppress_table_within(&counts, min, groups)))
                    .clone(),
            )
        };
        let count = |answered: &dyn Fn(usize) -> bool| -> BTreeMap<CellKey<'k>, i64> {
            cells.iter().map(|(k, rows)| (*k, rows.iter().filter(|&&r| answered(r)).count() as i64)).collect()
        };
        let items = self
            .items
            .iter()
            .map(|c| match c.column {
                Some(column) => decide(count(&|row| answers.value(row, column).is_some())),
                None => None,
            })
            .collect();
        let domains = self
            .domains
            .iter()
            .map(|d| {
                decide(count(&|row| {
                    let given = d
                        .columns
                        .iter()
                        .filter(|(column, _)| column.and_then(|c| answers.value(row, c)).is_some())
                        .count();
                    given > 0 && 2 * given >= d.columns.len()
                }))
            })
            .collect();
        Within { items, domains }
    }

    /// The figures of the responses at rows `members`, but those `withheld` says to withhold.
    fn figures(&self, answers: &LikertAnswers, members: &[usize], withheld: &dyn Fn(Figure) -> bool) -> GroupFigures {
        let items = self
            .items
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if withheld(Figure::Item(i)) {
                    return ItemResult {
                        code: c.item.code.clone(),
                        concept: c.item.concept.clone(),
                        domain: c.item.domain.clone(),
                        stats: None,
                        withheld: Some(Withheld::Complementary),
                    };
                }
                let stats = c.scale.as_ref().and_then(|(shape, neutral_midpoint)| {
                    let given: Vec<i32> = match c.column {
                        Some(column) => members.iter().filter_map(|&row| answers.value(row, column)).collect(),
                        None => Vec::new(),
                    };
                    ItemStats::compute(shape, &given, c.item.reverse_scored, *neutral_midpoint)
                });
                ItemResult {
                    code: c.item.code.clone(),
                    concept: c.item.concept.clone(),
                    domain: c.item.domain.clone(),
                    stats,
                    withheld: None,
                }
            })
            .collect();
        let domains = self
            .domains
            .iter()
            .enumerate()
            .map(|(i, d)| {
                if withheld(Figure::Domain(i)) {
                    return DomainResult {
                        code: d.code.to_owned(),
                        stats: None,
                        withheld: Some(Withheld::Complementary),
                    };
                }
                let stats = d.shape.as_ref().and_then(|shape| {
                    let matrix: Vec<Vec<Option<f64>>> = members
                        .iter()
                        .map(|&row| {
                            d.columns
                                .iter()
                                .map(|&(column, reverse)| {
                                    let answer = answers.value(row, column?)?;
                                    Some(shape.scored(f64::from(answer), reverse))
                                })
                                .collect()
                        })
                        .collect();
                    DomainStats::compute(shape, &matrix)
                });
                DomainResult { code: d.code.to_owned(), stats, withheld: None }
            })
            .collect();
        GroupFigures { n: members.len(), items, domains }
    }
}

/// One open question's answers, released only for a group at or above the free-text minimum,
/// in random order, with nothing attached (no perspective, unit or time).
#[derive(Debug, Clone, PartialEq)]
pub struct FreeText {
    /// The item's code.
    pub code: String,
    /// Its domain.
    pub domain: String,
    /// The answers, shuffled; or why they are withheld.
    pub answers: Released<Vec<String>>,
}

/// The free-text answers of everyone who submitted.
pub fn free_text(
    version: &InstrumentDocument,
    responses: &[ScoredResponse],
    min_group: usize,
    rng: &mut impl rand::Rng,
) -> Vec<FreeText> {
    use rand::seq::SliceRandom;
    version
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::Text)
        .map(|item| {
            let answers = if responses.len() < min_group {
                Released::Withheld(Withheld::BelowMinimum)
            } else {
                let mut texts: Vec<String> =
                    responses.iter().filter_map(|r| r.answers.get(&item.code)?.as_str().map(str::to_owned)).collect();
                texts.shuffle(rng);
                Released::Shown(texts)
            };
            FreeText { code: item.code.clone(), domain: item.domain.clone(), answers }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn version() -> InstrumentDocument {
        serde_json::from_str(include_str!("../../../instruments/state-orb-readiness.json"))
            .expect("the state instrument")
    }

    fn scored(version: &InstrumentDocument, responses: &[ScoredResponse], min_group: usize) -> AdministrationResults {
        administration_results(version, &LikertAnswers::of(version, responses), min_group)
    }

    fn response(perspective: &str, value: i64) -> ScoredResponse {
        let answers = version()
            .items
            .iter()
            .filter(|i| i.kind == ItemKind::Likert)
            .map(|i| (i.code.clone(), json!(value)))
            .collect();
        ScoredResponse { perspective: Some(perspective.into()), unit: None, answers }
    }

    #[test]
    fn every_group_below_the_minimum_is_withheld_and_listed() {
        let mut responses: Vec<ScoredResponse> = (0..12).map(|i| response("SOCIAL_WORKER", 1 + i % 5)).collect();
        responses.extend((0..2).map(|_| response("MANAGER", 5)));
        responses.extend((0..6).map(|_| response("SUPERVISOR", 4)));
        let results = scored(&version(), &responses, 5);
        let overall = results.overall.shown().expect("twenty respondents are shown");
        assert_eq!(overall.n, 20);
        assert_eq!(overall.domains.len(), 6);
        let by: BTreeMap<&str, &Released<GroupFigures>> =
            results.by_perspective.iter().map(|g| (g.key.as_str(), &g.figures)).collect();
        assert_eq!(by["MANAGER"], &Released::Withheld(Withheld::BelowMinimum));
        assert_eq!(by["SUPERVISOR"], &Released::Withheld(Withheld::Complementary), "else managers = all − others");
        assert!(by["SOCIAL_WORKER"].shown().is_some());
    }

    #[test]
    fn a_small_overall_group_shows_nothing() {
        let responses: Vec<ScoredResponse> = (0..4).map(|_| response("MANAGER", 3)).collect();
        let results = scored(&version(), &responses, 5);
        assert_eq!(results.overall, Released::Withheld(Withheld::BelowMinimum));
        assert!(results.by_perspective.iter().all(|g| g.figures.shown().is_none()));
    }

    #[test]
    fn free_text_needs_its_own_minimum_and_comes_in_random_order() {
        let doc = version();
        let text_item = doc.items.iter().find(|i| i.kind == ItemKind::Text).expect("a text item").code.clone();
        let responses: Vec<ScoredResponse> = (0..30)
            .map(|n| {
                let mut r = response("MANAGER", 3);
                r.answers.insert(text_item.clone(), json!(format!("idea {n}")));
                r
            })
            .collect();
        let mut rng = rand::rngs::OsRng;
        assert!(
            free_text(&doc, &responses[..4], 5, &mut rng)
                .iter()
                .all(|f| f.answers == Released::Withheld(Withheld::BelowMinimum))
        );
        let orders: Vec<Vec<String>> = (0..3)
            .map(|_| {
                let released = free_text(&doc, &responses, 5, &mut rng);
                released
                    .into_iter()
                    .find(|f| f.code == text_item)
                    .and_then(|f| f.answers.shown().cloned())
                    .expect("shown")
            })
            .collect();
        assert_eq!(orders[0].len(), 30);
        assert!(orders.windows(2).any(|w| w[0] != w[1]), "the order is not the order of submission");
    }

    #[test]
    fn reverse_scored_items_are_mirrored_before_scoring() {
        let doc = version();
        let reversed = doc.items.iter().find(|i| i.reverse_scored).expect("the state has a reverse-scored item");
        let responses: Vec<ScoredResponse> = (0..5).map(|_| response("MANAGER", 5)).collect();
        let results = scored(&doc, &responses, 5);
        let item =
            results.overall.shown().expect("shown").items.iter().find(|i| i.code == reversed.code).expect("item");
        assert_eq!(
            item.stats.as_ref().map(|s| s.summary.mean),
            Some(1.0),
            "strongly agreeing with a negative statement scores low"
        );
    }

    #[test]
    fn likert_answers_keep_one_column_per_likert_item_and_nothing_else() {
        let doc = version();
        let text_item = doc.items.iter().find(|i| i.kind == ItemKind::Text).expect("a text item").code.clone();
        let mut skipping = response("MANAGER", 4);
        skipping.answers.remove("FIT2");
        skipping.answers.insert(text_item.clone(), json!("free text is not kept"));
        skipping.answers.insert("FIT3".into(), json!(2.5));
        skipping.unit = Some(uuid::Uuid::from_u128(7));
        let mut other = response("MANAGER", 2);
        other.perspective = None;
        let answers = LikertAnswers::of(&doc, &[skipping, response("MANAGER", 1), other]);
        let likert: Vec<&str> =
            doc.items.iter().filter(|i| i.kind == ItemKind::Likert).map(|i| i.code.as_str()).collect();
        assert_eq!(answers.codes(), likert.as_slice(), "the Likert items, in the version's order");
        assert_eq!(answers.column(&text_item), None);
        assert_eq!(answers.len(), 3);
        let (fit1, fit2, fit3) = (
            answers.column("FIT1").expect("FIT1"),
            answers.column("FIT2").expect("FIT2"),
            answers.column("FIT3").expect("FIT3"),
        );
        assert_eq!((answers.value(0, fit1), answers.value(0, fit2)), (Some(4), None), "a skipped item is no answer");
        assert_eq!(answers.value(0, fit3), None, "a value off the scale's whole numbers is no answer");
        assert_eq!((answers.value(1, fit1), answers.value(2, fit1)), (Some(1), Some(2)));
        assert_eq!(answers.value(3, fit1), None, "past the last row");
        assert_eq!(answers.value(0, likert.len()), None, "past the last column, not into the next row");
        assert_eq!((answers.perspective(0), answers.perspective(2)), (Some("MANAGER"), None));
        assert_eq!((answers.unit(0), answers.unit(1)), (Some(uuid::Uuid::from_u128(7)), None));
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;
        use crate::privacy::{SuppressedTable, onlooker};

        const PERSPECTIVES: [&str; 4] = ["EXECUTIVE", "MANAGER", "SUPERVISOR", "SOCIAL_WORKER"];

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            /// Whatever the data and the breakdown, no released figure describes a group below
            /// the minimum, and no withheld group's size follows from the released ones.
            #[test]
            fn no_released_figure_gives_a_small_group_away(
                groups in proptest::collection::vec((0usize..5, proptest::option::of(0usize..3), 1i64..=5), 0..60),
                min_group in 3usize..8,
            ) {
                let doc = version();
                let units: Vec<uuid::Uuid> = (0..3).map(|i| uuid::Uuid::from_u128(i + 1)).collect();
                let responses: Vec<ScoredResponse> = groups
                    .iter()
                    .map(|&(p, unit, value)| {
                        let mut r = response(PERSPECTIVES.get(p).copied().unwrap_or("OTHER"), value);
                        if p == 4 { r.perspective = None; }
                        r.unit = unit.map(|u| units[u]);
                        r
                    })
                    .collect();
                let results = scored(&doc, &responses, min_group);
                let total = responses.len();
                match &results.overall {
                    Released::Shown(f) => prop_assert!(f.n >= min_group && f.n == total),
                    Released::Withheld(_) => prop_assert!(total < min_group || results.by_unit.len() + results.by_perspective.len() > 0),
                }
                // What was released, as the onlooker reads it, against what is true.
                let mut actual: BTreeMap<(Option<uuid::Uuid>, Option<String>), i64> = BTreeMap::new();
                for r in &responses {
                    *actual.entry((r.unit, r.perspective.clone())).or_default() += 1;
                }
                let size = |figures: &Released<GroupFigures>| figures.shown().map(|f| f.n as i64);
                let released = SuppressedTable {
                    cells: actual
                        .keys()
                        .map(|(u, p)| {
                            let shown = results
                                .by_perspective_in_unit
                                .iter()
                                .find(|g| Some(g.key.unit) == *u && Some(&g.key.perspective) == p.as_ref())
                                .and_then(|g| size(&g.figures));
                            ((*u, p.clone()), shown)
                        })
                        .collect(),
                    rows: actual
                        .keys()
                        .map(|(u, _)| (*u, results.by_unit.iter().find(|g| Some(g.key) == *u).and_then(|g| size(&g.figures))))
                        .collect(),
                    columns: actual
                        .keys()
                        .map(|(_, p)| {
                            let shown = results.by_perspective.iter().find(|g| Some(&g.key) == p.as_ref()).and_then(|g| size(&g.figures));
                            (p.clone(), shown)
                        })
                        .collect(),
                    total: size(&results.overall),
                };
                for (key, shown) in &released.cells {
                    if let Some(n) = shown {
                        prop_assert_eq!(*n, actual[key], "a released group's size is its true size");
                    }
                }
                let found = onlooker::disclosures(&actual, &released, min_group as i64);
                prop_assert!(found.is_empty(), "{:?}", found);
            }
        }
    }
}
