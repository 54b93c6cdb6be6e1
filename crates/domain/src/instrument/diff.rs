//! What changed between a version and the one it derives from, item by item. Items are paired
//! by lineage: a derived item's `origin` is the code of the item it was copied from.

use std::collections::BTreeMap;

use serde::Serialize;

use super::document::{InstrumentDocument, Item};

/// How one item changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum ChangeKind {
    /// New in the later version (a local item, or new upstream).
    Added,
    /// Present earlier, gone later (dropped by the county, retired upstream).
    Dropped,
    /// The prompt's wording changed in some language.
    Reworded,
    /// The item answers on different values (another scale, another kind, the neutral option removed).
    Rescaled,
    /// The item moved to another domain or to another place among the items both versions share.
    Moved,
    /// The item became required or optional.
    RequirementChanged,
    /// The item became reverse-scored or stopped being so.
    ReverseScoringChanged,
}

/// One change to one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemChange {
    /// What happened.
    pub kind: ChangeKind,
    /// The item's code in the later version (none when dropped).
    pub code: Option<String>,
    /// The item's code in the earlier version (none when added).
    pub origin: Option<String>,
    /// The concept the item measures, if any.
    pub concept: Option<String>,
}

/// The item-level changes between two versions, in the later version's order (drops last).
pub fn diff(earlier: &InstrumentDocument, later: &InstrumentDocument) -> Vec<ItemChange> {
    let earlier_by_code: BTreeMap<&str, (usize, &Item)> =
        earlier.items.iter().enumerate().map(|(i, item)| (item.code.as_str(), (i, item))).collect();
    let paired: Vec<(&Item, &Item)> = later
        .items
        .iter()
        .filter_map(|item| {
            let origin = item.origin.as_deref()?;
            earlier_by_code.get(origin).map(|(_, before)| (*before, item))
        })
        .collect();
    let moved = moved_items(earlier, &paired);
    let mut changes = Vec::new();
    for item in &later.items {
        let before = item.origin.as_deref().and_then(|o| earlier_by_code.get(o)).map(|(_, b)| *b);
        let Some(before) = before else {
            changes.push(change(ChangeKind::Added, Some(item), None));
            continue;
        };
        if before.prompt != item.prompt {
            changes.push(change(ChangeKind::Reworded, Some(item), Some(before)));
        }
        if answer_values(earlier, before) != answer_values(later, item) {
            changes.push(change(ChangeKind::Rescaled, Some(item), Some(before)));
        }
        if before.domain != item.domain || moved.contains(&item.code.as_str()) {
            changes.push(change(ChangeKind::Moved, Some(item), Some(before)));
        }
        if before.required != item.required {
            changes.push(change(ChangeKind::RequirementChanged, Some(item), Some(before)));
        }
        if before.reverse_scored != item.reverse_scored {
            changes.push(change(ChangeKind::ReverseScoringChanged, Some(item), Some(before)));
        }
    }
    for before in &earlier.items {
        let kept = later.items.iter().any(|i| i.origin.as_deref() == Some(before.code.as_str()));
        if !kept {
            changes.push(change(ChangeKind::Dropped, None, Some(before)));
        }
    }
    changes
}

fn change(kind: ChangeKind, item: Option<&Item>, before: Option<&Item>) -> ItemChange {
    ItemChange {
        kind,
        code: item.map(|i| i.code.clone()),
        origin: before.map(|b| b.code.clone()),
        concept: item.and_then(|i| i.concept.clone()).or_else(|| before.and_then(|b| b.concept.clone())),
    }
}

/// What an answer to the item can be, for comparing scoring: the kind and, for Likert items,
/// the scale's values and whether it has a neutral midpoint; for choices, the choice values.
pub fn answer_values(doc: &InstrumentDocument, item: &Item) -> String {
    match doc.scale_of(item) {
        Some(scale) => format!("{:?}:{:?}:{}", item.kind, scale.values(), scale.neutral_midpoint),
        None => {
            let choices: Vec<&str> = item.options.iter().map(|c| c.value.as_str()).collect();
            format!("{:?}:{:?}:{:?}:{:?}:{:?}", item.kind, choices, item.min, item.max, item.max_length)
        }
    }
}

/// Items of a shared domain whose place among the shared items changed.
fn moved_items<'a>(earlier: &InstrumentDocument, paired: &[(&'a Item, &'a Item)]) -> Vec<&'a str> {
    let earlier_rank: BTreeMap<&str, usize> =
        earlier.items.iter().enumerate().map(|(i, item)| (item.code.as_str(), i)).collect();
    let mut moved = Vec::new();
    let domains: std::collections::BTreeSet<&str> = paired.iter().map(|(_, after)| after.domain.as_str()).collect();
    for domain in domains {
        let same_domain: Vec<&(&Item, &Item)> =
            paired.iter().filter(|(before, after)| after.domain == domain && before.domain == domain).collect();
        let mut by_earlier: Vec<&str> = same_domain.iter().map(|(before, _)| before.code.as_str()).collect();
        by_earlier.sort_by_key(|code| earlier_rank.get(code).copied().unwrap_or(usize::MAX));
        for (position, (before, after)) in same_domain.iter().enumerate() {
            if by_earlier.get(position) != Some(&before.code.as_str()) {
                moved.push(after.code.as_str());
            }
        }
    }
    moved
}
