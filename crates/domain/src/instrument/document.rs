//! The instrument version document, format `orb.instrument/v1`: the one shape in which a
//! version is stored, exported, imported, reviewed as a file and edited. Field order and map
//! order are fixed, so exporting an imported document gives back the same JSON.
//!
//! ```json
//! { "format": "orb.instrument/v1",
//!   "instrument": { "key": "orb-readiness", "name": "ORB Readiness Assessment" },
//!   "version": { "languages": ["en", "es"], "defaultLanguage": "en", "title": {"en": "…", "es": "…"} },
//!   "scales": [ { "code": "AGREE5", "neutralMidpoint": true,
//!                 "options": [ { "value": 1, "label": {"en": "Strongly disagree", "es": "…"} }, … ] } ],
//!   "domains": [ { "code": "FIT", "title": {…}, "description": {…} } ],
//!   "items": [ { "code": "FIT1", "domain": "FIT", "kind": "LIKERT", "scale": "AGREE5",
//!                "prompt": {…}, "required": false, "reverseScored": false,
//!                "concept": "orb.fit.priority", "origin": null } ] }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The format identifier every document carries.
pub const FORMAT: &str = "orb.instrument/v1";

/// Text in several languages: language tag (`en`, `es`, `vi`) → text.
pub type Text = BTreeMap<String, String>;

/// One instrument version, complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstrumentDocument {
    /// Always [`FORMAT`].
    pub format: String,
    /// Which instrument this is a version of.
    pub instrument: InstrumentHeader,
    /// The version's own settings.
    pub version: VersionHeader,
    /// Response scales used by Likert items.
    #[serde(default)]
    pub scales: Vec<ResponseScale>,
    /// Domains, in order.
    #[serde(default)]
    pub domains: Vec<Domain>,
    /// Items, in order (grouped by domain when shown).
    #[serde(default)]
    pub items: Vec<Item>,
}

/// The instrument a version belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstrumentHeader {
    /// Short stable key, unique per owner (`orb-readiness`).
    pub key: String,
    /// Display name.
    pub name: String,
}

/// Where a version was adapted from, by name, so a file is readable on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DerivedFrom {
    /// `state`, or the slug of the county owning the source instrument.
    pub owner: String,
    /// The source instrument's key.
    pub instrument: String,
    /// The source version's number.
    pub version: i32,
}

/// A version's languages, title and instructions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VersionHeader {
    /// Languages every respondent-facing text must be given in.
    pub languages: Vec<String>,
    /// The language shown when none is asked for.
    pub default_language: String,
    /// Title shown to respondents.
    #[serde(default)]
    pub title: Text,
    /// Instructions shown before the first item.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub instructions: Text,
    /// The version this one was adapted from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<DerivedFrom>,
}

/// An ordered list of options with numeric values, for Likert items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResponseScale {
    /// Code, unique in the version (`AGREE5`).
    pub code: String,
    /// Whether the middle option is neutral ("neither agree nor disagree").
    #[serde(default)]
    pub neutral_midpoint: bool,
    /// Options from lowest to highest value.
    pub options: Vec<ScaleOption>,
}

/// One point of a response scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaleOption {
    /// Numeric value used in scoring.
    pub value: i32,
    /// Label shown to respondents.
    pub label: Text,
}

impl ResponseScale {
    /// Lowest and highest value, if the scale has options.
    pub fn range(&self) -> Option<(i32, i32)> {
        let min = self.options.iter().map(|o| o.value).min()?;
        let max = self.options.iter().map(|o| o.value).max()?;
        Some((min, max))
    }

    /// The values, in order: two scales with the same values score alike.
    pub fn values(&self) -> Vec<i32> {
        self.options.iter().map(|o| o.value).collect()
    }
}

/// A domain (section) of the instrument: Fit & Priority, Climate, …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Domain {
    /// Code, unique in the version (`FIT`).
    pub code: String,
    /// Title.
    pub title: Text,
    /// Description.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub description: Text,
}

/// What kind of answer an item takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ItemKind {
    /// A value on a named response scale.
    Likert,
    /// One of a list of choices.
    SingleChoice,
    /// Any number of a list of choices.
    MultiChoice,
    /// A number within bounds.
    Number,
    /// Free text up to a length.
    Text,
}

/// One choice of a single- or multiple-choice item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Choice {
    /// Stored value, unique in the item.
    pub value: String,
    /// Label shown to respondents.
    pub label: Text,
}

/// One question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Item {
    /// Code, unique in the version (`FIT1`).
    pub code: String,
    /// The domain it belongs to.
    pub domain: String,
    /// The kind of answer.
    pub kind: ItemKind,
    /// The question as respondents read it.
    pub prompt: Text,
    /// Whether an answer is needed to submit.
    #[serde(default)]
    pub required: bool,
    /// Whether agreement means *less* readiness (scored max+min−x).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reverse_scored: bool,
    /// Stable key of the state item this measures; shared concepts compare across counties and waves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concept: Option<String>,
    /// Code of the item it was copied from in the version this one derives from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Likert: the scale's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<String>,
    /// Choice items: the choices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// Number: lowest allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Number: highest allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Text: most characters allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
}

impl InstrumentDocument {
    /// An empty draft.
    pub fn empty(key: &str, name: &str, languages: Vec<String>, default_language: &str) -> Self {
        Self {
            format: FORMAT.to_owned(),
            instrument: InstrumentHeader { key: key.to_owned(), name: name.to_owned() },
            version: VersionHeader {
                languages,
                default_language: default_language.to_owned(),
                title: Text::from([(default_language.to_owned(), name.to_owned())]),
                instructions: Text::new(),
                derived_from: None,
            },
            scales: Vec::new(),
            domains: Vec::new(),
            items: Vec::new(),
        }
    }

    /// The item with this code.
    pub fn item(&self, code: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.code == code)
    }

    /// The scale with this code.
    pub fn scale(&self, code: &str) -> Option<&ResponseScale> {
        self.scales.iter().find(|s| s.code == code)
    }

    /// The domain with this code.
    pub fn domain(&self, code: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| d.code == code)
    }

    /// The scale an item answers on, if it is a Likert item with a known scale.
    pub fn scale_of(&self, item: &Item) -> Option<&ResponseScale> {
        item.scale.as_deref().and_then(|code| self.scale(code))
    }

    /// Items of one domain, in order.
    pub fn items_of<'a>(&'a self, domain: &'a str) -> impl Iterator<Item = &'a Item> + 'a {
        self.items.iter().filter(move |i| i.domain == domain)
    }

    /// A stored response's answers in the version's item order, skipping items left
    /// unanswered (and any code the version does not have), as raw answers are read out.
    pub fn answers_in_order<'a>(
        &'a self,
        answers: &'a serde_json::Value,
    ) -> impl Iterator<Item = (&'a Item, &'a serde_json::Value)> + 'a {
        self.items.iter().filter_map(move |item| answers.get(&item.code).map(|answer| (item, answer)))
    }

    /// The copy an adaptation or a new version starts from: every item remembers the code it
    /// was copied from (its origin) and keeps its concept.
    pub fn derive(&self, derived_from: DerivedFrom) -> Self {
        let mut copy = self.clone();
        for item in &mut copy.items {
            item.origin = Some(item.code.clone());
        }
        copy.version.derived_from = Some(derived_from);
        copy
    }
}
