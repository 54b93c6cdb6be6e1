//! Frozen answers: the submitted Likert answers of administrations whose scores no longer
//! change (closed, or cut), kept in memory in compact form ([`LikertAnswers`]), so that a
//! comparison across every county does not reread and reparse a hundred thousand answers on
//! each request. Reads share the held answers (an `Arc`) and score them in place: a read copies
//! nothing.
//!
//! The key names the freeze — the status, when the survey closed, when it was cut — so a survey
//! that reopens and closes again is a new entry, never a stale one. The cache holds data, never
//! entitlement: every read still asks PostgreSQL, through the results feed's own check, whether
//! the caller may read each administration, before anything cached is used. Free text is never
//! cached; it is read through the feed each time.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, FixedOffset};
use lru::LruCache;
use orb_domain::results::LikertAnswers;

use crate::entities::administrations;

/// What identifies one frozen set of answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FreezeKey {
    administration: uuid::Uuid,
    status: String,
    closed_at: Option<DateTime<FixedOffset>>,
    cut_at: Option<DateTime<FixedOffset>>,
}

impl FreezeKey {
    /// The key of an administration's answers as they stand now.
    pub(crate) fn of(administration: &administrations::Model) -> Self {
        Self {
            administration: administration.id,
            status: administration.status.clone(),
            closed_at: administration.closed_at,
            cut_at: administration.interim_cut_at,
        }
    }
}

/// The cache, bounded by the number of responses it holds; the least recently read
/// administrations leave first. A response costs about 40 bytes plus 8 per Likert item of its
/// version: 280 bytes on the state's 30 items (a wave's few perspective names are shared).
#[derive(Debug)]
pub struct FrozenAnswers {
    budget: usize,
    inner: Mutex<Held>,
}

#[derive(Debug)]
struct Held {
    waves: LruCache<FreezeKey, Arc<LikertAnswers>>,
    responses: usize,
}

/// What a wave counts against the budget: its responses (an empty wave counts one).
fn weight_of(answers: &LikertAnswers) -> usize {
    answers.len().max(1)
}

impl FrozenAnswers {
    /// A cache holding at most `budget` responses (0: holds nothing).
    pub fn new(budget: usize) -> Self {
        Self { budget, inner: Mutex::new(Held { waves: LruCache::unbounded(), responses: 0 }) }
    }

    /// The answers under `key`, if held: shared, never copied.
    pub(crate) fn get(&self, key: &FreezeKey) -> Option<Arc<LikertAnswers>> {
        self.inner.lock().ok()?.waves.get(key).cloned()
    }

    /// Keeps `answers` under `key`, making room by letting the least recently read go.
    pub(crate) fn keep(&self, key: FreezeKey, answers: Arc<LikertAnswers>) {
        let weight = weight_of(&answers);
        let Ok(mut held) = self.inner.lock() else { return };
        if weight > self.budget {
            return;
        }
        if let Some(old) = held.waves.put(key, answers) {
            held.responses -= weight_of(&old);
        }
        held.responses += weight;
        while held.responses > self.budget {
            match held.waves.pop_lru() {
                Some((_, gone)) => held.responses -= weight_of(&gone),
                None => break,
            }
        }
    }
}

impl Default for FrozenAnswers {
    /// Room for a quarter of a million responses: every wave of a state-sized dataset (100,000
    /// responses, about 28 MB) twice over; about 70 MB if ever full of 30-item waves, so a full
    /// cache still leaves a service serving 200 clients near the 100 MiB it is measured against.
    fn default() -> Self {
        Self::new(DEFAULT_BUDGET)
    }
}

/// Responses held by default.
pub const DEFAULT_BUDGET: usize = 250_000;
