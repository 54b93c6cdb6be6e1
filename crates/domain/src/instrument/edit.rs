//! Edits to a draft, each a pure function on the document that refuses what would leave it
//! ambiguous. The concept of an item never changes by editing: rewording, moving, re-scaling or
//! making it optional keep it, so results stay comparable. Only the state sets concepts.

use super::document::{Choice, Domain, InstrumentDocument, Item, ItemKind, ResponseScale, Text};
use super::validate::{Ownership, check_well_formed};
use crate::error::Error;

/// Sets or removes translations: each language given replaces that language's text; an empty
/// text removes it.
pub fn merge_text(target: &mut Text, changes: &Text) {
    for (language, text) in changes {
        if text.trim().is_empty() {
            target.remove(language);
        } else {
            target.insert(language.clone(), text.clone());
        }
    }
}

/// Changes to a version's header; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct HeaderPatch {
    /// New instrument name.
    pub name: Option<String>,
    /// Title translations to set.
    pub title: Option<Text>,
    /// Instruction translations to set.
    pub instructions: Option<Text>,
    /// The languages offered.
    pub languages: Option<Vec<String>>,
    /// The default language.
    pub default_language: Option<String>,
}

/// Edits the header.
pub fn patch_header(doc: &mut InstrumentDocument, patch: &HeaderPatch) -> Result<(), Error> {
    if let Some(name) = &patch.name {
        doc.instrument.name = name.trim().to_owned();
    }
    if let Some(title) = &patch.title {
        merge_text(&mut doc.version.title, title);
    }
    if let Some(instructions) = &patch.instructions {
        merge_text(&mut doc.version.instructions, instructions);
    }
    if let Some(languages) = &patch.languages {
        doc.version.languages = languages.clone();
    }
    if let Some(default) = &patch.default_language {
        doc.version.default_language = default.clone();
    }
    check_well_formed(doc)
}

/// Adds a domain, or replaces the one with the same code; `position` places it (end by default).
pub fn put_domain(doc: &mut InstrumentDocument, domain: Domain, position: Option<usize>) -> Result<(), Error> {
    match doc.domains.iter().position(|d| d.code == domain.code) {
        Some(existing) => {
            let mut merged = doc.domains.remove(existing);
            merge_text(&mut merged.title, &domain.title);
            merge_text(&mut merged.description, &domain.description);
            doc.domains.insert(position.unwrap_or(existing).min(doc.domains.len()), merged);
        }
        None => doc.domains.insert(position.unwrap_or(doc.domains.len()).min(doc.domains.len()), domain),
    }
    check_well_formed(doc)
}

/// Removes a domain that no item belongs to.
pub fn remove_domain(doc: &mut InstrumentDocument, code: &str) -> Result<(), Error> {
    if doc.items.iter().any(|i| i.domain == code) {
        return Err(Error::conflict_on("code", "the domain still has items; move or remove them first"));
    }
    let before = doc.domains.len();
    doc.domains.retain(|d| d.code != code);
    if doc.domains.len() == before {
        return Err(Error::NotFound("domain"));
    }
    Ok(())
}

/// Adds a scale or replaces the one with the same code.
pub fn put_scale(doc: &mut InstrumentDocument, scale: ResponseScale) -> Result<(), Error> {
    match doc.scales.iter_mut().find(|s| s.code == scale.code) {
        Some(existing) => *existing = scale,
        None => doc.scales.push(scale),
    }
    check_well_formed(doc)
}

/// Removes a scale no item uses.
pub fn remove_scale(doc: &mut InstrumentDocument, code: &str) -> Result<(), Error> {
    if doc.items.iter().any(|i| i.scale.as_deref() == Some(code)) {
        return Err(Error::conflict_on("code", "items still answer on this scale"));
    }
    let before = doc.scales.len();
    doc.scales.retain(|s| s.code != code);
    if doc.scales.len() == before {
        return Err(Error::NotFound("scale"));
    }
    Ok(())
}

/// Adds an item at `position` among all items (end by default). A county's new item is local:
/// it has no concept and no origin.
pub fn add_item(
    doc: &mut InstrumentDocument,
    mut item: Item,
    position: Option<usize>,
    ownership: Ownership,
) -> Result<(), Error> {
    if doc.item(&item.code).is_some() {
        return Err(Error::conflict_on("input.code", "another item has this code"));
    }
    item.origin = None;
    if ownership == Ownership::County {
        item.concept = None;
    }
    let at = position.unwrap_or(doc.items.len()).min(doc.items.len());
    doc.items.insert(at, item);
    check_well_formed(doc)
}

/// Changes to an item; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ItemPatch {
    /// New code.
    pub code: Option<String>,
    /// Prompt translations to set.
    pub prompt: Option<Text>,
    /// Required or optional.
    pub required: Option<bool>,
    /// Reverse-scored or not.
    pub reverse_scored: Option<bool>,
    /// New kind of answer.
    pub kind: Option<ItemKind>,
    /// New scale (Likert).
    pub scale: Option<Option<String>>,
    /// New choices.
    pub options: Option<Vec<Choice>>,
    /// New lower bound.
    pub min: Option<Option<f64>>,
    /// New upper bound.
    pub max: Option<Option<f64>>,
    /// New length cap.
    pub max_length: Option<Option<u32>>,
    /// New concept (state instruments only).
    pub concept: Option<Option<String>>,
}

/// Edits an item in place.
pub fn update_item(
    doc: &mut InstrumentDocument,
    code: &str,
    patch: &ItemPatch,
    ownership: Ownership,
) -> Result<(), Error> {
    if patch.concept.is_some() && ownership == Ownership::County {
        return Err(Error::invalid(
            "input.concept",
            "concepts link to the state's items and cannot be changed by a county",
        ));
    }
    if let Some(new_code) = &patch.code
        && new_code != code
        && doc.item(new_code).is_some()
    {
        return Err(Error::conflict_on("input.code", "another item has this code"));
    }
    let item = doc.items.iter_mut().find(|i| i.code == code).ok_or(Error::NotFound("item"))?;
    if let Some(new_code) = &patch.code {
        item.code = new_code.clone();
    }
    if let Some(prompt) = &patch.prompt {
        merge_text(&mut item.prompt, prompt);
    }
    if let Some(required) = patch.required {
        item.required = required;
    }
    if let Some(reverse) = patch.reverse_scored {
        item.reverse_scored = reverse;
    }
    if let Some(kind) = patch.kind {
        item.kind = kind;
    }
    if let Some(scale) = &patch.scale {
        item.scale = scale.clone();
    }
    if let Some(options) = &patch.options {
        item.options = options.clone();
    }
    if let Some(min) = patch.min {
        item.min = min;
    }
    if let Some(max) = patch.max {
        item.max = max;
    }
    if let Some(max_length) = patch.max_length {
        item.max_length = max_length;
    }
    if let Some(concept) = &patch.concept {
        item.concept = concept.clone();
    }
    check_well_formed(doc)
}

/// Removes an item.
pub fn remove_item(doc: &mut InstrumentDocument, code: &str) -> Result<(), Error> {
    let before = doc.items.len();
    doc.items.retain(|i| i.code != code);
    if doc.items.len() == before {
        return Err(Error::NotFound("item"));
    }
    Ok(())
}

/// Moves an item to another domain and/or place; `position` counts among that domain's items.
pub fn move_item(
    doc: &mut InstrumentDocument,
    code: &str,
    domain: Option<&str>,
    position: Option<usize>,
) -> Result<(), Error> {
    let from = doc.items.iter().position(|i| i.code == code).ok_or(Error::NotFound("item"))?;
    let mut item = doc.items.remove(from);
    if let Some(domain) = domain {
        item.domain = domain.to_owned();
    }
    let siblings: Vec<usize> =
        doc.items.iter().enumerate().filter(|(_, i)| i.domain == item.domain).map(|(n, _)| n).collect();
    let at = match (position, siblings.last()) {
        (Some(p), _) if p < siblings.len() => siblings[p],
        (_, Some(last)) => last + 1,
        (_, None) => doc.items.len(),
    };
    doc.items.insert(at, item);
    check_well_formed(doc)
}
