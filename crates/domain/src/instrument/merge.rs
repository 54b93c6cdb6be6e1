//! Taking the state's new version into a county's adaptation. The county's adaptation derives
//! from an older state version (the *base*); the state has published a newer one (*upstream*).
//! The new county draft starts from the county's version and takes every upstream change the
//! county did not make itself; where both changed the same item, the county's wording is kept
//! and the clash is listed for the lead to resolve.

use serde::Serialize;

use super::diff::{ChangeKind, ItemChange, answer_values};
use super::document::{DerivedFrom, InstrumentDocument, Item};

/// Why an item needs the lead's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ConflictKind {
    /// The county and the state both reworded it; the county's wording was kept.
    BothReworded,
    /// The county and the state both changed its answer scale; the county's was kept.
    BothRescaled,
    /// The state retired an item the county had changed; the county's item was kept, now local.
    ChangedButRetiredUpstream,
}

/// One item needing a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeConflict {
    /// What clashed.
    pub kind: ConflictKind,
    /// The item's code in the new draft.
    pub code: String,
    /// The upstream item's code, when it still exists.
    pub upstream_code: Option<String>,
}

/// The new draft and what happened on the way.
#[derive(Debug, Clone)]
pub struct Merge {
    /// The new county draft, derived from the upstream version.
    pub draft: InstrumentDocument,
    /// Upstream changes taken into the draft.
    pub applied: Vec<ItemChange>,
    /// Items needing the lead's decision.
    pub conflicts: Vec<MergeConflict>,
}

/// Three-way merge of `upstream` into `ours`, both derived from `base`.
pub fn merge_upstream(
    base: &InstrumentDocument,
    upstream: &InstrumentDocument,
    ours: &InstrumentDocument,
    upstream_ref: DerivedFrom,
) -> Merge {
    let mut draft = ours.clone();
    draft.version.derived_from = Some(upstream_ref);
    let mut applied = Vec::new();
    let mut conflicts = Vec::new();
    let upstream_of = |base_code: &str| upstream.items.iter().find(|u| u.origin.as_deref() == Some(base_code));

    let mut kept = Vec::with_capacity(draft.items.len());
    for mut item in std::mem::take(&mut draft.items) {
        let Some(base_item) = item.origin.as_deref().and_then(|o| base.item(o)).cloned() else {
            // A local item: the county's own.
            item.origin = None;
            kept.push(item);
            continue;
        };
        let ours_changed = item_changed(base, &base_item, ours, &item);
        match upstream_of(&base_item.code) {
            None if ours_changed => {
                conflicts.push(MergeConflict {
                    kind: ConflictKind::ChangedButRetiredUpstream,
                    code: item.code.clone(),
                    upstream_code: None,
                });
                item.origin = None;
                kept.push(item);
            }
            None => applied.push(ItemChange {
                kind: ChangeKind::Dropped,
                code: None,
                origin: Some(base_item.code.clone()),
                concept: base_item.concept.clone(),
            }),
            Some(up) => {
                if up.prompt != base_item.prompt {
                    if item.prompt == base_item.prompt {
                        item.prompt = up.prompt.clone();
                        applied.push(taken(ChangeKind::Reworded, &item, up));
                    } else if item.prompt != up.prompt {
                        conflicts.push(conflict(ConflictKind::BothReworded, &item, up));
                    }
                }
                let base_values = answer_values(base, &base_item);
                let up_values = answer_values(upstream, up);
                if up_values != base_values {
                    if answer_values(ours, &item) == base_values {
                        take_answer_format(&mut draft, &mut item, upstream, up);
                        applied.push(taken(ChangeKind::Rescaled, &item, up));
                    } else if answer_values(ours, &item) != up_values {
                        conflicts.push(conflict(ConflictKind::BothRescaled, &item, up));
                    }
                }
                if item.concept == base_item.concept {
                    item.concept = up.concept.clone();
                }
                item.origin = Some(up.code.clone());
                kept.push(item);
            }
        }
    }
    draft.items = kept;

    for up in &upstream.items {
        let from_base = up.origin.as_deref().and_then(|o| base.item(o)).is_some();
        let already = draft.items.iter().any(|i| i.origin.as_deref() == Some(up.code.as_str()))
            || up.concept.as_ref().is_some_and(|c| draft.items.iter().any(|i| i.concept.as_ref() == Some(c)));
        if from_base || already {
            continue;
        }
        let mut added = up.clone();
        added.origin = Some(up.code.clone());
        if draft.item(&added.code).is_some() {
            added.code = free_code(&draft, &added.code);
        }
        if draft.domain(&added.domain).is_none()
            && let Some(domain) = upstream.domain(&added.domain)
        {
            draft.domains.push(domain.clone());
        }
        if let Some(scale) = upstream.scale_of(up) {
            let code = adopt_scale(&mut draft, scale);
            added.scale = Some(code);
        }
        let position = draft.items.iter().rposition(|i| i.domain == added.domain).map_or(draft.items.len(), |p| p + 1);
        applied.push(ItemChange {
            kind: ChangeKind::Added,
            code: Some(added.code.clone()),
            origin: Some(up.code.clone()),
            concept: added.concept.clone(),
        });
        draft.items.insert(position, added);
    }
    Merge { draft, applied, conflicts }
}

/// Whether the county changed an item it copied (wording, scale, requirement, reversal, domain).
fn item_changed(base: &InstrumentDocument, before: &Item, ours: &InstrumentDocument, after: &Item) -> bool {
    before.prompt != after.prompt
        || answer_values(base, before) != answer_values(ours, after)
        || before.required != after.required
        || before.reverse_scored != after.reverse_scored
        || before.domain != after.domain
}

fn taken(kind: ChangeKind, item: &Item, up: &Item) -> ItemChange {
    ItemChange { kind, code: Some(item.code.clone()), origin: Some(up.code.clone()), concept: up.concept.clone() }
}

fn conflict(kind: ConflictKind, item: &Item, up: &Item) -> MergeConflict {
    MergeConflict { kind, code: item.code.clone(), upstream_code: Some(up.code.clone()) }
}

fn take_answer_format(draft: &mut InstrumentDocument, item: &mut Item, upstream: &InstrumentDocument, up: &Item) {
    item.kind = up.kind;
    item.options = up.options.clone();
    item.min = up.min;
    item.max = up.max;
    item.max_length = up.max_length;
    item.scale = upstream.scale_of(up).map(|scale| adopt_scale(draft, scale));
}

/// Brings an upstream scale into the draft, reusing an identical one, renaming on a clash.
fn adopt_scale(draft: &mut InstrumentDocument, scale: &super::document::ResponseScale) -> String {
    if let Some(same) = draft.scales.iter().find(|s| {
        s.values() == scale.values() && s.neutral_midpoint == scale.neutral_midpoint && s.options == scale.options
    }) {
        return same.code.clone();
    }
    let mut adopted = scale.clone();
    if draft.scale(&adopted.code).is_some() {
        let mut n = 2;
        while draft.scale(&format!("{}_{n}", scale.code)).is_some() {
            n += 1;
        }
        adopted.code = format!("{}_{n}", scale.code);
    }
    let code = adopted.code.clone();
    draft.scales.push(adopted);
    code
}

fn free_code(draft: &InstrumentDocument, code: &str) -> String {
    let mut n = 2;
    while draft.item(&format!("{code}_{n}")).is_some() {
        n += 1;
    }
    format!("{code}_{n}")
}
