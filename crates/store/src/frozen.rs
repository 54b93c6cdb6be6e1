//! Frozen answers: the submitted Likert answers of administrations whose scores no longer
//! change (closed, or cut), kept in memory in compact form, so that a comparison across every
//! county does not reread and reparse a hundred thousand answers on each request.
//!
//! The key names the freeze — the status, when the survey closed, when it was cut — so a survey
//! that reopens and closes again is a new entry, never a stale one. The cache holds data, never
//! entitlement: every read still asks PostgreSQL, through the results feed's own check, whether
//! the caller may read each administration, before anything cached is used. Free text is never
//! cached; it is read through the feed each time.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, FixedOffset};
use lru::LruCache;
use orb_domain::instrument::{InstrumentDocument, ItemKind};
use orb_domain::results::ScoredResponse;
use serde_json::Value as Json;

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

/// One administration's frozen Likert answers: the item codes once, then one row per response.
#[derive(Debug)]
pub(crate) struct Frame {
    codes: Vec<String>,
    rows: Vec<FrameRow>,
}

#[derive(Debug)]
struct FrameRow {
    perspective: Option<Arc<str>>,
    unit: Option<uuid::Uuid>,
    /// Per item of `codes`: the answer, `None` when not given.
    values: Box<[Option<i32>]>,
}

impl Frame {
    /// Keeps the Likert answers of `responses` to `version`.
    pub(crate) fn of(version: &InstrumentDocument, responses: Vec<ScoredResponse>) -> Self {
        let codes: Vec<String> =
            version.items.iter().filter(|i| i.kind == ItemKind::Likert).map(|i| i.code.clone()).collect();
        let mut perspectives: Vec<Arc<str>> = Vec::new();
        let rows = responses
            .into_iter()
            .map(|response| {
                let perspective = response.perspective.map(|p| {
                    if let Some(known) = perspectives.iter().find(|known| ***known == *p) {
                        Arc::clone(known)
                    } else {
                        let new: Arc<str> = p.into();
                        perspectives.push(Arc::clone(&new));
                        new
                    }
                });
                let values = codes
                    .iter()
                    .map(|code| response.answers.get(code).and_then(Json::as_i64).and_then(|v| i32::try_from(v).ok()))
                    .collect();
                FrameRow { perspective, unit: response.unit, values }
            })
            .collect();
        Self { codes, rows }
    }

    /// Responses as the domain scores them, with only the items `wanted` lets through.
    pub(crate) fn responses(&self, wanted: impl Fn(&str) -> bool) -> Vec<ScoredResponse> {
        let columns: Vec<(usize, &String)> = self.codes.iter().enumerate().filter(|(_, c)| wanted(c)).collect();
        self.rows
            .iter()
            .map(|row| ScoredResponse {
                perspective: row.perspective.as_deref().map(str::to_owned),
                unit: row.unit,
                answers: columns
                    .iter()
                    .filter_map(|&(i, code)| Some((code.clone(), Json::from(row.values[i]?))))
                    .collect(),
            })
            .collect()
    }

    fn weight(&self) -> usize {
        self.rows.len().max(1)
    }
}

/// The cache, bounded by the number of responses it holds; the least recently read
/// administrations leave first.
#[derive(Debug)]
pub struct FrozenAnswers {
    budget: usize,
    inner: Mutex<Held>,
}

#[derive(Debug)]
struct Held {
    frames: LruCache<FreezeKey, Arc<Frame>>,
    responses: usize,
}

impl FrozenAnswers {
    /// A cache holding at most `budget` responses (0: holds nothing).
    pub fn new(budget: usize) -> Self {
        Self { budget, inner: Mutex::new(Held { frames: LruCache::unbounded(), responses: 0 }) }
    }

    /// The frame under `key`, if held.
    pub(crate) fn get(&self, key: &FreezeKey) -> Option<Arc<Frame>> {
        self.inner.lock().ok()?.frames.get(key).cloned()
    }

    /// Keeps `frame` under `key`, making room by letting the least recently read go.
    pub(crate) fn keep(&self, key: FreezeKey, frame: Arc<Frame>) {
        let weight = frame.weight();
        let Ok(mut held) = self.inner.lock() else { return };
        if weight > self.budget {
            return;
        }
        if let Some(old) = held.frames.put(key, frame) {
            held.responses -= old.weight();
        }
        held.responses += weight;
        while held.responses > self.budget {
            match held.frames.pop_lru() {
                Some((_, gone)) => held.responses -= gone.weight(),
                None => break,
            }
        }
    }
}

impl Default for FrozenAnswers {
    /// Room for half a million responses: every wave of a state-sized dataset several times
    /// over, in well under a hundred megabytes.
    fn default() -> Self {
        Self::new(DEFAULT_BUDGET)
    }
}

/// Responses held by default.
pub const DEFAULT_BUDGET: usize = 500_000;
