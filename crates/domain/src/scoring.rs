//! Scoring: what a group's answers say, and how sure we can be. Pure functions over answers
//! already checked against their version; the store feeds them and privacy decides what is
//! released.
//!
//! Conventions: variances and standard deviations are sample ones (n − 1); intervals are 95%;
//! a reverse-scored answer x becomes (min + max) − x before anything else; the 0–100 score is
//! 100·(x − min)/(max − min), so a 4-point and a 5-point answer compare.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// The values a Likert item can take, lowest first.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleShape {
    values: Vec<i32>,
}

impl ScaleShape {
    /// A shape from a scale's option values; `None` unless there are at least two, increasing.
    pub fn new(values: Vec<i32>) -> Option<Self> {
        (values.len() >= 2 && values.windows(2).all(|w| w[0] < w[1])).then_some(Self { values })
    }

    /// Lowest value.
    pub fn min(&self) -> f64 {
        f64::from(self.values[0])
    }

    /// Highest value.
    pub fn max(&self) -> f64 {
        f64::from(self.values[self.values.len() - 1])
    }

    /// Number of options (A in the agreement formulas).
    pub fn options(&self) -> usize {
        self.values.len()
    }

    /// The option values.
    pub fn values(&self) -> &[i32] {
        &self.values
    }

    /// The middle of the range: answers above it are favourable, below it unfavourable.
    pub fn midpoint(&self) -> f64 {
        (self.min() + self.max()) / 2.0
    }

    /// The answer as scored: reversed when the item is reverse-scored.
    pub fn scored(&self, answer: f64, reverse: bool) -> f64 {
        if reverse { self.min() + self.max() - answer } else { answer }
    }

    /// A value on the 0–100 scale.
    pub fn to_100(&self, x: f64) -> f64 {
        100.0 * (x - self.min()) / (self.max() - self.min())
    }
}

/// Mean, spread and a 95% interval of a set of values.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// How many values.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Sample standard deviation (none for fewer than two values).
    pub sd: Option<f64>,
    /// 95% interval of the mean, m ± t(.975, n−1)·s/√n (none for fewer than two values).
    pub ci: Option<(f64, f64)>,
}

/// The 97.5th percentile of Student's t with `df` degrees of freedom.
pub fn t_975(df: f64) -> Option<f64> {
    if !(df > 0.0 && df.is_finite()) {
        return None;
    }
    StudentsT::new(0.0, 1.0, df).ok().map(|t| t.inverse_cdf(0.975))
}

fn z_975() -> f64 {
    Normal::new(0.0, 1.0).map(|n| n.inverse_cdf(0.975)).unwrap_or(1.959_963_984_540_054)
}

/// Arithmetic mean; `None` for no values.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Sample variance; `None` for fewer than two values.
pub fn variance(values: &[f64]) -> Option<f64> {
    let m = mean(values)?;
    (values.len() >= 2).then(|| values.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64)
}

impl Summary {
    /// The summary of `values`; `None` for no values.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mean = mean(values)?;
        let n = values.len();
        let sd = variance(values).map(f64::sqrt);
        let ci = match (sd, t_975((n as f64) - 1.0)) {
            (Some(sd), Some(t)) => {
                let half = t * sd / (n as f64).sqrt();
                Some((mean - half, mean + half))
            }
            _ => None,
        };
        Some(Self { n, mean, sd, ci })
    }
}

/// A share of a group with its Wilson 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Share {
    /// The proportion, 0–1.
    pub p: f64,
    /// Lower end of the Wilson interval.
    pub low: f64,
    /// Upper end of the Wilson interval.
    pub high: f64,
}

impl Share {
    /// `hits` of `n`, with its Wilson score interval.
    pub fn wilson(hits: usize, n: usize) -> Option<Self> {
        if n == 0 {
            return None;
        }
        let (p, n, z) = (hits as f64 / n as f64, n as f64, z_975());
        let denominator = 1.0 + z * z / n;
        let centre = (p + z * z / (2.0 * n)) / denominator;
        let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
        Some(Self { p, low: centre - half, high: centre + half })
    }
}

/// What a group's answers to one Likert item say.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemStats {
    /// Mean, SD and interval of the scored answers.
    pub summary: Summary,
    /// Answers per option value (as given, before any reversal), lowest first.
    pub counts: Vec<(i32, usize)>,
    /// Median of the scored answers.
    pub median: f64,
    /// Share above the midpoint.
    pub favourable: Share,
    /// Share at the midpoint (scales with a neutral option only).
    pub neutral: Option<Share>,
    /// Share below the midpoint.
    pub unfavourable: Share,
    /// The mean on the 0–100 scale.
    pub score: f64,
}

/// Median of values; `None` for none.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) { (sorted[mid - 1] + sorted[mid]) / 2.0 } else { sorted[mid] })
}

impl ItemStats {
    /// The statistics of `answers` to an item on `shape`; `None` when nobody answered.
    pub fn compute(shape: &ScaleShape, answers: &[i32], reverse: bool, neutral_midpoint: bool) -> Option<Self> {
        let scored: Vec<f64> = answers.iter().map(|&a| shape.scored(f64::from(a), reverse)).collect();
        let summary = Summary::of(&scored)?;
        let n = scored.len();
        let midpoint = shape.midpoint();
        let above = scored.iter().filter(|&&x| x > midpoint).count();
        let below = scored.iter().filter(|&&x| x < midpoint).count();
        let at = n - above - below;
        Some(Self {
            counts: shape.values().iter().map(|&v| (v, answers.iter().filter(|&&a| a == v).count())).collect(),
            median: median(&scored)?,
            favourable: Share::wilson(above, n)?,
            neutral: if neutral_midpoint { Share::wilson(at, n) } else { None },
            unfavourable: Share::wilson(below, n)?,
            score: shape.to_100(summary.mean),
            summary,
        })
    }
}

/// A respondent's score on a domain: the mean of their answered (scored) items, when they
/// answered at least half of the domain's items and at least one; otherwise none
/// ("insufficient").
pub fn respondent_domain_score(answers: &[Option<f64>]) -> Option<f64> {
    let answered: Vec<f64> = answers.iter().flatten().copied().collect();
    (!answered.is_empty() && 2 * answered.len() >= answers.len())
        .then(|| answered.iter().sum::<f64>() / answered.len() as f64)
}

/// Cronbach's alpha on complete cases: (k/(k−1))·(1 − Σ item variances / variance of totals).
/// `None` for fewer than two items, fewer than two complete cases, or no variance in totals.
pub fn cronbach_alpha(matrix: &[Vec<Option<f64>>]) -> Option<f64> {
    let k = matrix.first()?.len();
    if k < 2 {
        return None;
    }
    let complete: Vec<Vec<f64>> = matrix
        .iter()
        .filter_map(|row| row.iter().copied().collect::<Option<Vec<f64>>>())
        .filter(|r| r.len() == k)
        .collect();
    if complete.len() < 2 {
        return None;
    }
    let item_variances: f64 =
        (0..k).map(|i| variance(&complete.iter().map(|r| r[i]).collect::<Vec<_>>()).unwrap_or(0.0)).sum();
    let totals: Vec<f64> = complete.iter().map(|r| r.iter().sum()).collect();
    let total_variance = variance(&totals)?;
    if total_variance <= 0.0 {
        return None;
    }
    let k = k as f64;
    Some(k / (k - 1.0) * (1.0 - item_variances / total_variance))
}

/// How much a group agrees on a domain: a score is only meaningful with its agreement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Agreement {
    /// r_wg(j) = J(1−s̄²/σ²) / (J(1−s̄²/σ²) + s̄²/σ²), σ² = (A²−1)/12, 0 when s̄² ≥ σ².
    pub rwg_j: f64,
    /// Lindell's r*_wg(j) = 1 − s̄²/σ² (negative for a split group).
    pub rwg_j_star: f64,
    /// Average deviation from the item means, averaged over items.
    pub ad_m: f64,
    /// The AD_M above which agreement is doubtful: A/6.
    pub ad_threshold: f64,
    /// Whether agreement is low (r_wg(j) < .70): the mean may hide a split group.
    pub low: bool,
}

/// Agreement threshold below which a score is flagged.
pub const LOW_AGREEMENT: f64 = 0.70;

/// The group's agreement over a domain's items; each item uses all its answers. `None` when
/// no item has two answers.
pub fn agreement(matrix: &[Vec<Option<f64>>], options: usize) -> Option<Agreement> {
    let k = matrix.first()?.len();
    let columns: Vec<Vec<f64>> =
        (0..k).map(|i| matrix.iter().filter_map(|row| row.get(i).copied().flatten()).collect()).collect();
    let used: Vec<&Vec<f64>> = columns.iter().filter(|c| c.len() >= 2).collect();
    if used.is_empty() {
        return None;
    }
    let j = used.len() as f64;
    let mean_variance = used.iter().filter_map(|c| variance(c)).sum::<f64>() / j;
    let a = options as f64;
    let sigma2 = (a * a - 1.0) / 12.0;
    let ratio = mean_variance / sigma2;
    let rwg_j = if ratio >= 1.0 { 0.0 } else { j * (1.0 - ratio) / (j * (1.0 - ratio) + ratio) };
    let ad_m = used
        .iter()
        .filter_map(|c| {
            let m = mean(c)?;
            Some(c.iter().map(|x| (x - m).abs()).sum::<f64>() / c.len() as f64)
        })
        .sum::<f64>()
        / j;
    Some(Agreement { rwg_j, rwg_j_star: 1.0 - ratio, ad_m, ad_threshold: a / 6.0, low: rwg_j < LOW_AGREEMENT })
}

/// What a group's answers to one domain say.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainStats {
    /// The level: summary of respondents' domain scores.
    pub summary: Summary,
    /// The level on the 0–100 scale.
    pub score: f64,
    /// Respondents whose answers were too few to score the domain.
    pub insufficient: usize,
    /// Internal consistency of the domain's items.
    pub alpha: Option<f64>,
    /// The strength: within-group agreement.
    pub agreement: Option<Agreement>,
}

impl DomainStats {
    /// Statistics of a domain from each respondent's scored answers to its Likert items
    /// (one row per respondent, one column per item; `None` unanswered).
    pub fn compute(shape: &ScaleShape, matrix: &[Vec<Option<f64>>]) -> Option<Self> {
        let scores: Vec<Option<f64>> = matrix.iter().map(|row| respondent_domain_score(row)).collect();
        let scored: Vec<f64> = scores.iter().flatten().copied().collect();
        let summary = Summary::of(&scored)?;
        Some(Self {
            score: shape.to_100(summary.mean),
            insufficient: scores.iter().filter(|s| s.is_none()).count(),
            alpha: cronbach_alpha(matrix),
            agreement: agreement(matrix, shape.options()),
            summary,
        })
    }
}

/// A difference between two groups (perspectives, waves) with its uncertainty.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    /// mean(a) − mean(b).
    pub diff: f64,
    /// Welch's degrees of freedom.
    pub df: f64,
    /// Welch 95% interval of the difference.
    pub ci: (f64, f64),
    /// Hedges' g (none when neither group varies).
    pub hedges_g: Option<f64>,
}

impl Difference {
    /// The difference of `a` and `b`; `None` unless each has at least two values and they vary.
    pub fn welch(a: &[f64], b: &[f64]) -> Option<Self> {
        let (ma, mb) = (mean(a)?, mean(b)?);
        let (va, vb) = (variance(a)?, variance(b)?);
        let (na, nb) = (a.len() as f64, b.len() as f64);
        let (qa, qb) = (va / na, vb / nb);
        let se = (qa + qb).sqrt();
        if se <= 0.0 {
            return None;
        }
        let df = (qa + qb).powi(2) / (qa * qa / (na - 1.0) + qb * qb / (nb - 1.0));
        let half = t_975(df)? * se;
        let diff = ma - mb;
        let pooled = (((na - 1.0) * va + (nb - 1.0) * vb) / (na + nb - 2.0)).sqrt();
        let correction = 1.0 - 3.0 / (4.0 * (na + nb) - 9.0);
        let hedges_g = (pooled > 0.0).then(|| correction * diff / pooled);
        Some(Self { diff, df, ci: (diff - half, diff + half), hedges_g })
    }
}

/// A county's level weighting each perspective equally: the mean of perspective means, so a
/// large group of one perspective does not drown the others.
pub fn balanced_mean(perspective_means: &[f64]) -> Option<f64> {
    mean(perspective_means)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn five() -> ScaleShape {
        ScaleShape::new(vec![1, 2, 3, 4, 5]).expect("a scale")
    }

    #[test]
    fn a_four_and_a_five_point_answer_compare_on_zero_to_hundred() {
        let four = ScaleShape::new(vec![1, 2, 3, 4]).expect("a scale");
        assert_eq!(four.to_100(4.0), 100.0);
        assert_eq!(five().to_100(3.0), 50.0);
        assert_eq!(five().scored(5.0, true), 1.0, "reverse scoring mirrors the scale");
    }

    #[test]
    fn half_the_items_are_needed_for_a_domain_score() {
        assert_eq!(respondent_domain_score(&[Some(4.0), None, Some(2.0), None]), Some(3.0));
        assert_eq!(respondent_domain_score(&[Some(4.0), None, None]), None);
        assert_eq!(respondent_domain_score(&[None, None]), None);
    }

    #[test]
    fn a_split_team_shows_no_agreement() {
        let split: Vec<Vec<Option<f64>>> = (0..10).map(|i| vec![Some(if i % 2 == 0 { 1.0 } else { 5.0 }); 3]).collect();
        let stats = DomainStats::compute(&five(), &split).expect("stats");
        assert!((stats.summary.mean - 3.0).abs() < 1e-12, "the mean looks neutral…");
        let agreement = stats.agreement.expect("agreement");
        assert_eq!(agreement.rwg_j, 0.0, "…but nobody is neutral");
        assert!(agreement.low && agreement.rwg_j_star < 0.0);
    }

    #[test]
    fn degenerate_inputs_give_none_not_panics() {
        assert!(Summary::of(&[]).is_none());
        assert!(Summary::of(&[3.0]).is_some_and(|s| s.sd.is_none() && s.ci.is_none()));
        assert!(Difference::welch(&[1.0], &[2.0, 3.0]).is_none());
        assert!(Difference::welch(&[2.0, 2.0], &[2.0, 2.0]).is_none());
        assert!(cronbach_alpha(&[vec![Some(1.0)]]).is_none());
        assert!(ScaleShape::new(vec![3, 2]).is_none());
        assert!(Share::wilson(0, 0).is_none());
    }
}

#[cfg(test)]
mod reference {
    //! The formulas against values computed independently with numpy/scipy
    //! (`fixtures/generate_scoring.py`, committed with its output `fixtures/scoring.json`).

    use serde_json::Value;

    use super::*;

    fn fixtures() -> Value {
        serde_json::from_str(include_str!("../fixtures/scoring.json")).expect("the reference fixtures parse")
    }

    fn close(name: &str, what: &str, actual: Option<f64>, expected: &Value) {
        match (actual, expected.as_f64()) {
            (Some(a), Some(e)) => {
                assert!((a - e).abs() <= 1e-9 * e.abs().max(1.0), "{name}: {what} = {a}, reference {e}")
            }
            (None, None) => {}
            (a, _) => panic!("{name}: {what} = {a:?}, reference {expected}"),
        }
    }

    fn shape(case: &Value) -> ScaleShape {
        let (min, max) = (case["min"].as_i64().expect("min") as i32, case["max"].as_i64().expect("max") as i32);
        ScaleShape::new((min..=max).collect()).expect("a scale")
    }

    #[test]
    fn item_statistics_match_the_reference() {
        let cases = fixtures()["item_cases"].as_array().cloned().expect("item cases");
        assert!(cases.len() >= 12);
        for case in cases {
            let name = case["name"].as_str().unwrap_or("?");
            let values: Vec<i32> =
                case["values"].as_array().expect("values").iter().map(|v| v.as_i64().expect("an int") as i32).collect();
            let reverse = case["reverse"].as_bool().unwrap_or(false);
            let neutral = case["neutral"].as_bool().unwrap_or(false);
            let stats = ItemStats::compute(&shape(&case), &values, reverse, neutral).expect("stats");
            let e = &case["expect"];
            assert_eq!(stats.summary.n as u64, e["n"].as_u64().expect("n"), "{name}: n");
            // The reference counts scored (reversed) answers; ours count answers as given.
            let mut counts: Vec<u64> = stats.counts.iter().map(|&(_, c)| c as u64).collect();
            if reverse {
                counts.reverse();
            }
            let expected: Vec<u64> = e["counts"].as_array().expect("counts").iter().filter_map(Value::as_u64).collect();
            assert_eq!(counts, expected, "{name}: counts");
            close(name, "mean", Some(stats.summary.mean), &e["mean"]);
            close(name, "sd", stats.summary.sd, &e["sd"]);
            close(name, "ci_low", stats.summary.ci.map(|c| c.0), &e["ci_low"]);
            close(name, "ci_high", stats.summary.ci.map(|c| c.1), &e["ci_high"]);
            close(name, "median", Some(stats.median), &e["median"]);
            close(name, "score", Some(stats.score), &e["score"]);
            for (label, share) in [
                ("favourable", Some(stats.favourable)),
                ("unfavourable", Some(stats.unfavourable)),
                ("neutral", stats.neutral),
            ] {
                let share = share.unwrap_or(Share { p: 0.0, low: 0.0, high: 0.0 });
                if label == "neutral" && stats.neutral.is_none() {
                    close(name, label, Some(0.0), &e[label]);
                    continue;
                }
                close(name, label, Some(share.p), &e[label]);
                close(name, &format!("{label}_low"), Some(share.low), &e[format!("{label}_low")]);
                close(name, &format!("{label}_high"), Some(share.high), &e[format!("{label}_high")]);
            }
        }
    }

    #[test]
    fn domain_statistics_match_the_reference() {
        let cases = fixtures()["domain_cases"].as_array().cloned().expect("domain cases");
        assert!(cases.len() >= 8);
        for case in cases {
            let name = case["name"].as_str().unwrap_or("?");
            let matrix: Vec<Vec<Option<f64>>> = case["matrix"]
                .as_array()
                .expect("matrix")
                .iter()
                .map(|row| row.as_array().expect("a row").iter().map(Value::as_f64).collect())
                .collect();
            let e = &case["expect"];
            let scores: Vec<Option<f64>> = matrix.iter().map(|r| respondent_domain_score(r)).collect();
            let expected: Vec<Option<f64>> =
                e["respondent_scores"].as_array().expect("scores").iter().map(Value::as_f64).collect();
            assert_eq!(scores.len(), expected.len(), "{name}: respondents");
            for (i, (a, b)) in scores.iter().zip(&expected).enumerate() {
                close(name, &format!("respondent {i}"), *a, &b.map_or(Value::Null, Value::from));
            }
            let shape = shape(&case);
            close(name, "alpha", cronbach_alpha(&matrix), &e["alpha"]);
            let agreement = agreement(&matrix, shape.options());
            close(name, "rwg_j", agreement.map(|a| a.rwg_j), &e["rwg_j"]);
            close(name, "rwg_j_star", agreement.map(|a| a.rwg_j_star), &e["rwg_j_star"]);
            close(name, "ad_m", agreement.map(|a| a.ad_m), &e["ad_m"]);
            close(name, "ad_threshold", agreement.map(|a| a.ad_threshold), &e["ad_threshold"]);
            let stats = DomainStats::compute(&shape, &matrix);
            close(name, "mean", stats.as_ref().map(|s| s.summary.mean), &e["mean"]);
            close(name, "sd", stats.as_ref().and_then(|s| s.summary.sd), &e["sd"]);
            close(name, "ci_low", stats.as_ref().and_then(|s| s.summary.ci.map(|c| c.0)), &e["ci_low"]);
            close(name, "ci_high", stats.as_ref().and_then(|s| s.summary.ci.map(|c| c.1)), &e["ci_high"]);
            close(name, "score", stats.as_ref().map(|s| s.score), &e["score"]);
        }
    }

    #[test]
    fn group_differences_match_the_reference() {
        let cases = fixtures()["two_group_cases"].as_array().cloned().expect("two-group cases");
        assert!(cases.len() >= 6);
        for case in cases {
            let name = case["name"].as_str().unwrap_or("?");
            let list = |key: &str| -> Vec<f64> {
                case[key].as_array().expect("values").iter().filter_map(Value::as_f64).collect()
            };
            let e = &case["expect"];
            let difference = Difference::welch(&list("a"), &list("b"));
            close(name, "diff", difference.map(|d| d.diff), &e["diff"]);
            close(name, "welch_df", difference.map(|d| d.df), &e["welch_df"]);
            close(name, "welch_low", difference.map(|d| d.ci.0), &e["welch_low"]);
            close(name, "welch_high", difference.map(|d| d.ci.1), &e["welch_high"]);
            close(name, "hedges_g", difference.and_then(|d| d.hedges_g), &e["hedges_g"]);
        }
    }
}
