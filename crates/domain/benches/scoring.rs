//! The scoring and suppression engine in memory, without the database or HTTP: a county's full
//! results (every group, item and domain, the perspective × unit table suppressed as one) from
//! 10,000 responses to the state instrument. Run: `cargo bench -p orb-domain --bench scoring`.

#![expect(clippy::expect_used, reason = "a benchmark: a failed expectation ends it with its message")]

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use orb_domain::instrument::{InstrumentDocument, ItemKind};
use orb_domain::privacy::suppress_table;
use orb_domain::results::{LikertAnswers, ScoredResponse, administration_results};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const PERSPECTIVES: [&str; 6] =
    ["EXECUTIVE", "MANAGER", "SUPERVISOR", "SOCIAL_WORKER", "CLERICAL_SUPPORT", "COMMUNITY_PARTNER"];

fn state_instrument() -> InstrumentDocument {
    serde_json::from_str(include_str!("../../../instruments/state-orb-readiness.json")).expect("the state instrument")
}

/// `n` respondents over six perspectives and twelve units, each around a level of their own,
/// a few answers skipped; the same every run.
fn responses(version: &InstrumentDocument, n: usize) -> Vec<ScoredResponse> {
    let mut rng = StdRng::seed_from_u64(2026);
    let units: Vec<uuid::Uuid> = (0..12).map(|i| uuid::Uuid::from_u128(i + 1)).collect();
    let likert: Vec<&str> =
        version.items.iter().filter(|i| i.kind == ItemKind::Likert).map(|i| i.code.as_str()).collect();
    (0..n)
        .map(|_| {
            let level: i64 = rng.gen_range(1..=5);
            let mut answers = BTreeMap::new();
            for code in &likert {
                if rng.gen_range(0..20) > 0 {
                    answers.insert((*code).to_owned(), serde_json::json!((level + rng.gen_range(-1..=1)).clamp(1, 5)));
                }
            }
            ScoredResponse {
                perspective: Some(PERSPECTIVES[rng.gen_range(0..PERSPECTIVES.len())].to_owned()),
                unit: (rng.gen_range(0..10) > 0).then(|| units[rng.gen_range(0..units.len())]),
                answers,
            }
        })
        .collect()
}

fn full_results(c: &mut Criterion) {
    let version = state_instrument();
    // As the store's cache holds a closed wave: kept once, scored on every read.
    let answers = LikertAnswers::of(&version, &responses(&version, 10_000));
    c.bench_function("a county's full results from 10,000 responses", |b| {
        b.iter(|| administration_results(black_box(&version), black_box(&answers), 5));
    });
}

fn table_suppression(c: &mut Criterion) {
    // A large county's table: 8 perspectives × 40 units, a quarter of the cells small.
    let mut rng = StdRng::seed_from_u64(58);
    let cells: BTreeMap<(Option<u32>, Option<u32>), i64> = (0..40u32)
        .flat_map(|unit| (0..8u32).map(move |perspective| (Some(unit), Some(perspective))))
        .map(|key| (key, if rng.gen_range(0..4) == 0 { rng.gen_range(1..5) } else { rng.gen_range(5..40) }))
        .collect();
    c.bench_function("suppressing an 8 × 40 perspective × unit table", |b| {
        b.iter(|| suppress_table(black_box(&cells), 5));
    });
}

criterion_group!(benches, full_results, table_suppression);
criterion_main!(benches);
