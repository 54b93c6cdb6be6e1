//! The rules a version must meet: *well-formed* on every save (so edits by code are never
//! ambiguous), *complete* before it may be published. Every problem is reported at once, with its
//! path in the document (`items[FIT1].prompt.es`).

use std::collections::BTreeSet;

use super::document::{FORMAT, InstrumentDocument, Item, ItemKind, Text};
use crate::error::{Error, FieldProblem};

/// Who owns an instrument: the state's carry concept keys on every item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// Published by state faculty.
    State,
    /// A county's own or adapted instrument.
    County,
}

fn is_code(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && s.len() <= 40
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn is_concept(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && s.len() <= 100
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'))
}

/// A language tag such as `en`, `es`, `vi` or `zh-Hant`.
pub fn is_language(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary_ok =
        parts.next().is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_lowercase()));
    primary_ok && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// An instrument key: lower-case words joined by hyphens.
pub fn is_instrument_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.split('-').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

struct Report(Vec<FieldProblem>);

impl Report {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldProblem::new(path, message));
    }

    fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() { Ok(()) } else { Err(Error::Invalid(self.0)) }
    }
}

fn unique_codes<'a>(report: &mut Report, kind: &str, codes: impl Iterator<Item = &'a str>) {
    let mut seen = BTreeSet::new();
    for code in codes {
        if !is_code(code) {
            report.add(
                format!("{kind}[{code}].code"),
                "must start with a letter and hold at most 40 letters, digits, `_`, `-` or `.`",
            );
        }
        if !seen.insert(code) {
            report.add(format!("{kind}[{code}].code"), "is used twice");
        }
    }
}

/// Checks a document can be stored as a draft: right format, sane header, unique codes.
pub fn check_well_formed(doc: &InstrumentDocument) -> Result<(), Error> {
    let mut report = Report(Vec::new());
    well_formed(doc, &mut report);
    report.finish()
}

fn well_formed(doc: &InstrumentDocument, report: &mut Report) {
    if doc.format != FORMAT {
        report.add("format", format!("must be `{FORMAT}`"));
    }
    if !is_instrument_key(&doc.instrument.key) {
        report.add("instrument.key", "must be lower-case letters and digits joined by hyphens");
    }
    if doc.instrument.name.trim().is_empty() || doc.instrument.name.chars().count() > 200 {
        report.add("instrument.name", "must hold between 1 and 200 characters");
    }
    let languages = &doc.version.languages;
    if languages.is_empty() {
        report.add("version.languages", "must name at least one language");
    }
    let mut seen = BTreeSet::new();
    for language in languages {
        if !is_language(language) {
            report.add("version.languages", format!("`{language}` is not a language tag such as `en` or `es`"));
        }
        if !seen.insert(language) {
            report.add("version.languages", format!("`{language}` is listed twice"));
        }
    }
    if !languages.contains(&doc.version.default_language) {
        report.add("version.defaultLanguage", "must be one of the version's languages");
    }
    unique_codes(report, "scales", doc.scales.iter().map(|s| s.code.as_str()));
    unique_codes(report, "domains", doc.domains.iter().map(|d| d.code.as_str()));
    unique_codes(report, "items", doc.items.iter().map(|i| i.code.as_str()));
    if let Ok(value) = serde_json::to_value(doc) {
        nul_characters(&value, "", report);
    }
}

/// PostgreSQL stores no NUL character in text or JSON, so a document holding one anywhere (a
/// text, a code, a language key) would fail to save: each place is named instead. Elements with
/// a code are named by it (`items[FIT1].prompt.en`), others by position.
fn nul_characters(value: &serde_json::Value, path: &str, report: &mut Report) {
    use serde_json::Value;
    const MESSAGE: &str = "must not contain the NUL character";
    match value {
        Value::String(text) if text.contains('\0') => report.add(path, MESSAGE),
        Value::Array(elements) => {
            for (i, element) in elements.iter().enumerate() {
                let at = match element.get("code").and_then(Value::as_str) {
                    Some(code) => format!("{path}[{code}]"),
                    None => format!("{path}[{i}]"),
                };
                nul_characters(element, &at, report);
            }
        }
        Value::Object(fields) => {
            for (key, field) in fields {
                if key.contains('\0') {
                    report.add(path, MESSAGE);
                } else if path.is_empty() {
                    nul_characters(field, key, report);
                } else {
                    nul_characters(field, &format!("{path}.{key}"), report);
                }
            }
        }
        _ => {}
    }
}

/// Checks a document may be published; lists every problem at once.
pub fn check_publishable(doc: &InstrumentDocument, ownership: Ownership) -> Result<(), Error> {
    let mut report = Report(Vec::new());
    well_formed(doc, &mut report);
    let languages = &doc.version.languages;
    let translated = |report: &mut Report, path: &str, text: &Text, required: bool| {
        if text.is_empty() && !required {
            return;
        }
        for language in languages {
            if text.get(language).is_none_or(|t| t.trim().is_empty()) {
                report.add(format!("{path}.{language}"), "translation missing");
            }
        }
        for language in text.keys() {
            if !languages.contains(language) {
                report.add(format!("{path}.{language}"), "is not one of the version's languages");
            }
        }
    };
    translated(&mut report, "version.title", &doc.version.title, true);
    translated(&mut report, "version.instructions", &doc.version.instructions, false);

    if doc.domains.is_empty() {
        report.add("domains", "a version needs at least one domain");
    }
    if doc.items.is_empty() {
        report.add("items", "a version needs at least one item");
    }
    for domain in &doc.domains {
        let path = format!("domains[{}]", domain.code);
        translated(&mut report, &format!("{path}.title"), &domain.title, true);
        translated(&mut report, &format!("{path}.description"), &domain.description, false);
        if doc.items_of(&domain.code).next().is_none() {
            report.add(path, "has no items");
        }
    }
    for scale in &doc.scales {
        let path = format!("scales[{}]", scale.code);
        if scale.options.len() < 2 {
            report.add(format!("{path}.options"), "a scale needs at least two options");
        }
        if scale.options.windows(2).any(|w| w[0].value >= w[1].value) {
            report.add(format!("{path}.options"), "values must increase from the first option to the last");
        }
        if scale.neutral_midpoint && scale.options.len() % 2 == 0 {
            report.add(
                format!("{path}.neutralMidpoint"),
                "a scale with a neutral midpoint needs an odd number of options",
            );
        }
        for (i, option) in scale.options.iter().enumerate() {
            translated(&mut report, &format!("{path}.options[{i}].label"), &option.label, true);
        }
    }
    let mut concepts = BTreeSet::new();
    for item in &doc.items {
        item_rules(doc, item, ownership, &mut report, &translated);
        if let Some(concept) = &item.concept
            && !concepts.insert(concept.as_str())
        {
            report.add(format!("items[{}].concept", item.code), format!("`{concept}` is used by another item"));
        }
    }
    report.finish()
}

fn item_rules(
    doc: &InstrumentDocument,
    item: &Item,
    ownership: Ownership,
    report: &mut Report,
    translated: &dyn Fn(&mut Report, &str, &Text, bool),
) {
    let path = format!("items[{}]", item.code);
    if doc.domain(&item.domain).is_none() {
        report.add(format!("{path}.domain"), format!("no domain has code `{}`", item.domain));
    }
    translated(report, &format!("{path}.prompt"), &item.prompt, true);
    match &item.concept {
        Some(concept) if !is_concept(concept) => report.add(
            format!("{path}.concept"),
            "must be lower-case letters, digits, `_`, `-` or `.`, starting with a letter",
        ),
        None if ownership == Ownership::State => {
            report.add(format!("{path}.concept"), "every state item needs a concept key")
        }
        _ => {}
    }
    let (likert, choice, number, text) = (
        item.kind == ItemKind::Likert,
        matches!(item.kind, ItemKind::SingleChoice | ItemKind::MultiChoice),
        item.kind == ItemKind::Number,
        item.kind == ItemKind::Text,
    );
    match (&item.scale, likert) {
        (None, true) => report.add(format!("{path}.scale"), "a Likert item needs a response scale"),
        (Some(code), true) if doc.scale(code).is_none() => {
            report.add(format!("{path}.scale"), format!("no scale has code `{code}`"))
        }
        (Some(_), false) => report.add(format!("{path}.scale"), "only Likert items have a scale"),
        _ => {}
    }
    if item.reverse_scored && !likert {
        report.add(format!("{path}.reverseScored"), "only Likert items can be reverse-scored");
    }
    if choice {
        if item.options.is_empty() {
            report.add(format!("{path}.options"), "a choice item needs at least one choice");
        }
        let mut values = BTreeSet::new();
        for choice in &item.options {
            if choice.value.trim().is_empty() || !values.insert(choice.value.as_str()) {
                report.add(
                    format!("{path}.options[{}].value", choice.value),
                    "choice values must be non-empty and unique",
                );
            }
            translated(report, &format!("{path}.options[{}].label", choice.value), &choice.label, true);
        }
    } else if !item.options.is_empty() {
        report.add(format!("{path}.options"), "only choice items have choices");
    }
    if number {
        if let (Some(min), Some(max)) = (item.min, item.max)
            && min > max
        {
            report.add(format!("{path}.max"), "must not be below min");
        }
        if item.min.is_some_and(|v| !v.is_finite()) || item.max.is_some_and(|v| !v.is_finite()) {
            report.add(format!("{path}.min"), "bounds must be finite numbers");
        }
    } else if item.min.is_some() || item.max.is_some() {
        report.add(format!("{path}.min"), "only number items have bounds");
    }
    match (item.max_length, text) {
        (None, true) => report.add(format!("{path}.maxLength"), "a text item needs a length cap"),
        (Some(0), true) => report.add(format!("{path}.maxLength"), "must be at least 1"),
        (Some(n), true) if n > 20_000 => report.add(format!("{path}.maxLength"), "must be at most 20000"),
        (Some(_), false) => report.add(format!("{path}.maxLength"), "only text items have a length cap"),
        _ => {}
    }
}
