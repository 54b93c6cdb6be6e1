//! Instrument rules on small documents.

use super::diff::{ChangeKind, diff};
use super::document::*;
use super::edit::{self, ItemPatch};
use super::merge::{ConflictKind, merge_upstream};
use super::validate::{Ownership, check_publishable};
use crate::error::Error;

fn text(en: &str, es: &str) -> Text {
    Text::from([("en".to_owned(), en.to_owned()), ("es".to_owned(), es.to_owned())])
}

fn agree(points: i32, neutral: bool) -> ResponseScale {
    ResponseScale {
        code: format!("AGREE{points}"),
        neutral_midpoint: neutral,
        options: (1..=points)
            .map(|v| ScaleOption { value: v, label: text(&format!("{v}"), &format!("{v}")) })
            .collect(),
    }
}

fn likert(code: &str, domain: &str, concept: &str) -> Item {
    Item {
        code: code.into(),
        domain: domain.into(),
        kind: ItemKind::Likert,
        prompt: text(&format!("Prompt {code}"), &format!("Pregunta {code}")),
        required: false,
        reverse_scored: false,
        concept: Some(concept.into()),
        origin: None,
        scale: Some("AGREE5".into()),
        options: vec![],
        min: None,
        max: None,
        max_length: None,
    }
}

fn state() -> InstrumentDocument {
    let mut doc = InstrumentDocument::empty("orb-readiness", "ORB", vec!["en".into(), "es".into()], "en");
    doc.version.title = text("ORB", "ORB");
    doc.scales.push(agree(5, true));
    for domain in ["FIT", "LEAD"] {
        doc.domains.push(Domain { code: domain.into(), title: text(domain, domain), description: Text::new() });
        for n in 1..=3 {
            doc.items.push(likert(&format!("{domain}{n}"), domain, &format!("orb.{}.{n}", domain.to_lowercase())));
        }
    }
    doc
}

fn adapted(base: &InstrumentDocument) -> InstrumentDocument {
    base.derive(DerivedFrom { owner: "state".into(), instrument: "orb-readiness".into(), version: 1 })
}

fn fields(err: Error) -> Vec<String> {
    match err {
        Error::Invalid(problems) => problems.into_iter().map(|p| p.field).collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[test]
fn a_complete_state_version_is_publishable() {
    assert_eq!(check_publishable(&state(), Ownership::State), Ok(()));
}

#[test]
fn publishing_reports_every_problem_with_its_path() {
    let mut doc = state();
    doc.items[0].prompt.remove("es");
    doc.items[1].scale = Some("NOPE".into());
    doc.items[2].concept = doc.items[3].concept.clone();
    doc.items[4].concept = None;
    doc.items.push(Item {
        kind: ItemKind::SingleChoice,
        scale: None,
        options: vec![],
        ..likert("CH1", "LEAD", "orb.x")
    });
    let problems = fields(check_publishable(&doc, Ownership::State).expect_err("refused"));
    for expected in [
        "items[FIT1].prompt.es",
        "items[FIT2].scale",
        "items[LEAD1].concept",
        "items[LEAD2].concept",
        "items[CH1].options",
    ] {
        assert!(problems.iter().any(|p| p == expected), "{expected} missing from {problems:?}");
    }
}

#[test]
fn an_empty_version_cannot_be_published() {
    let doc = InstrumentDocument::empty("empty", "Empty", vec!["en".into()], "en");
    let problems = fields(check_publishable(&doc, Ownership::County).expect_err("refused"));
    assert!(problems.contains(&"items".to_owned()) && problems.contains(&"domains".to_owned()));
}

#[test]
fn duplicate_codes_are_refused_on_every_save() {
    let mut doc = state();
    let duplicate = doc.items[0].clone();
    assert!(matches!(edit::add_item(&mut doc, duplicate, None, Ownership::State), Err(Error::Conflict { .. })));
}

#[test]
fn adapting_keeps_concepts_through_rewording_rescaling_and_moving() {
    let base = state();
    let mut county = adapted(&base);
    edit::update_item(
        &mut county,
        "FIT1",
        &ItemPatch { prompt: Some(text("Reworded", "Reformulada")), required: Some(true), ..Default::default() },
        Ownership::County,
    )
    .expect("reword");
    edit::put_scale(&mut county, agree(4, false)).expect("a 4-point scale");
    edit::update_item(
        &mut county,
        "FIT2",
        &ItemPatch { scale: Some(Some("AGREE4".into())), ..Default::default() },
        Ownership::County,
    )
    .expect("rescale");
    edit::move_item(&mut county, "FIT3", Some("LEAD"), Some(0)).expect("move");
    edit::remove_item(&mut county, "LEAD3").expect("drop");
    let local = Item { concept: Some("county.tries.to.claim".into()), ..likert("LOCAL1", "FIT", "x") };
    edit::add_item(&mut county, local, None, Ownership::County).expect("local item");

    assert_eq!(county.item("FIT1").and_then(|i| i.concept.as_deref()), Some("orb.fit.1"));
    assert_eq!(county.item("FIT2").and_then(|i| i.concept.as_deref()), Some("orb.fit.2"));
    assert_eq!(county.item("FIT3").and_then(|i| i.concept.as_deref()), Some("orb.fit.3"));
    assert_eq!(county.item("LOCAL1").and_then(|i| i.concept.as_deref()), None, "a local item has no concept");

    let changes = diff(&base, &county);
    let has = |kind: ChangeKind, code: &str| {
        changes.iter().any(|c| c.kind == kind && (c.code.as_deref() == Some(code) || c.origin.as_deref() == Some(code)))
    };
    assert!(has(ChangeKind::Reworded, "FIT1"));
    assert!(has(ChangeKind::RequirementChanged, "FIT1"));
    assert!(has(ChangeKind::Rescaled, "FIT2"));
    assert!(has(ChangeKind::Moved, "FIT3"));
    assert!(has(ChangeKind::Dropped, "LEAD3"));
    assert!(has(ChangeKind::Added, "LOCAL1"));
    assert!(!has(ChangeKind::Reworded, "FIT2"), "FIT2 kept its wording");
    assert!(matches!(
        edit::update_item(
            &mut county,
            "FIT1",
            &ItemPatch { concept: Some(None), ..Default::default() },
            Ownership::County
        ),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn removing_the_neutral_option_is_a_rescale() {
    let base = state();
    let mut county = adapted(&base);
    let mut four = agree(5, true);
    four.options.remove(2);
    four.neutral_midpoint = false;
    edit::put_scale(&mut county, four).expect("replace the scale in place");
    let changes = diff(&base, &county);
    assert_eq!(
        changes.iter().filter(|c| c.kind == ChangeKind::Rescaled).count(),
        6,
        "every item answers on the new scale"
    );
}

#[test]
fn upstream_changes_flow_into_a_county_draft_and_clashes_are_listed() {
    let base = state();
    // The county rewords FIT1 and LEAD1, drops LEAD3.
    let mut ours = adapted(&base);
    edit::update_item(
        &mut ours,
        "FIT1",
        &ItemPatch { prompt: Some(text("County FIT1", "Condado FIT1")), ..Default::default() },
        Ownership::County,
    )
    .expect("reword");
    edit::update_item(
        &mut ours,
        "LEAD1",
        &ItemPatch { prompt: Some(text("County LEAD1", "Condado LEAD1")), ..Default::default() },
        Ownership::County,
    )
    .expect("reword");
    edit::remove_item(&mut ours, "LEAD3").expect("drop");
    // The state's v2 rewords FIT1 and FIT2, retires LEAD2, adds LEAD4.
    let mut upstream =
        base.derive(DerivedFrom { owner: "state".into(), instrument: "orb-readiness".into(), version: 1 });
    edit::update_item(
        &mut upstream,
        "FIT1",
        &ItemPatch { prompt: Some(text("State FIT1 v2", "Estado FIT1 v2")), ..Default::default() },
        Ownership::State,
    )
    .expect("reword");
    edit::update_item(
        &mut upstream,
        "FIT2",
        &ItemPatch { prompt: Some(text("State FIT2 v2", "Estado FIT2 v2")), ..Default::default() },
        Ownership::State,
    )
    .expect("reword");
    edit::remove_item(&mut upstream, "LEAD2").expect("retire");
    edit::add_item(&mut upstream, likert("LEAD4", "LEAD", "orb.lead.4"), None, Ownership::State).expect("add");

    let merged = merge_upstream(
        &base,
        &upstream,
        &ours,
        DerivedFrom { owner: "state".into(), instrument: "orb-readiness".into(), version: 2 },
    );
    let draft = &merged.draft;
    assert_eq!(
        draft.item("FIT1").map(|i| i.prompt["en"].as_str()),
        Some("County FIT1"),
        "the county's wording is kept on a clash"
    );
    assert!(merged.conflicts.iter().any(|c| c.kind == ConflictKind::BothReworded && c.code == "FIT1"));
    assert_eq!(
        draft.item("FIT2").map(|i| i.prompt["en"].as_str()),
        Some("State FIT2 v2"),
        "an upstream rewording is taken"
    );
    assert!(draft.item("LEAD2").is_none(), "an item retired upstream and untouched by the county goes");
    assert!(draft.item("LEAD3").is_none(), "what the county dropped stays dropped");
    assert_eq!(draft.item("LEAD4").and_then(|i| i.concept.as_deref()), Some("orb.lead.4"), "new upstream items arrive");
    assert_eq!(draft.item("LEAD1").map(|i| i.prompt["en"].as_str()), Some("County LEAD1"));
    assert_eq!(draft.version.derived_from.as_ref().map(|d| d.version), Some(2));
    // Lineage now points at the upstream version's codes.
    assert!(draft.items.iter().all(|i| i.origin.as_deref().is_none_or(|o| upstream.item(o).is_some())));
    assert_eq!(check_publishable(draft, Ownership::County), Ok(()));
}

#[test]
fn the_document_round_trips_through_json() {
    let mut doc = state();
    doc.items.push(Item {
        kind: ItemKind::Text,
        scale: None,
        concept: Some("orb.fit.help".into()),
        max_length: Some(2000),
        ..likert("FIT_HELP", "FIT", "unused")
    });
    let json = serde_json::to_string_pretty(&doc).expect("serialises");
    let back: InstrumentDocument = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, doc);
    assert_eq!(serde_json::to_string_pretty(&back).expect("serialises"), json, "byte-for-byte stable");
    let unknown = json.replacen("\"format\"", "\"colour\": 1, \"format\"", 1);
    assert!(serde_json::from_str::<InstrumentDocument>(&unknown).is_err(), "unknown fields are refused");
}

#[test]
fn a_nul_character_anywhere_is_named_by_its_path() {
    let mut doc = state();
    doc.items[1].prompt.insert("es".into(), "¿Listos\0?".into());
    doc.domains[0].title.insert("e\0s".into(), "Fit".into());
    doc.instrument.name = "ORB\0".into();
    let mut named = fields(check_publishable(&doc, Ownership::State).expect_err("refused"));
    named.retain(|f| ["items[FIT2].prompt.es", "domains[FIT].title", "instrument.name"].contains(&f.as_str()));
    named.sort();
    assert_eq!(named, ["domains[FIT].title", "instrument.name", "items[FIT2].prompt.es"]);
    assert!(super::validate::check_well_formed(&state()).is_ok(), "ordinary text passes");
}

#[test]
fn a_number_bound_survives_export_and_import_exactly() {
    // Found by the import property: serde_json's default float parsing is off by one ulp for
    // numbers like this, so each export and import moved the bound.
    let mut doc = state();
    doc.items.push(Item {
        kind: ItemKind::Number,
        scale: None,
        min: Some(-2.1339044078288007e122),
        max: Some(0.1 + 0.2),
        ..likert("FIT_N", "FIT", "orb.fit.n")
    });
    let back: InstrumentDocument =
        serde_json::from_str(&serde_json::to_string(&doc).expect("serialises")).expect("parses");
    assert_eq!((back.items[6].min, back.items[6].max), (Some(-2.1339044078288007e122), Some(0.1 + 0.2)));
}

mod shipped {
    //! The instrument files the repository ships (`instruments/`), which the demo loads.

    use std::collections::BTreeSet;

    use super::super::diff::{ChangeKind, diff};
    use super::super::document::{InstrumentDocument, ItemKind};
    use super::super::validate::{Ownership, check_publishable};

    fn load(text: &str) -> InstrumentDocument {
        serde_json::from_str(text).expect("a valid orb.instrument/v1 document")
    }

    fn state() -> InstrumentDocument {
        load(include_str!("../../../../instruments/state-orb-readiness.json"))
    }

    const DOMAINS: [&str; 6] = ["FIT", "CLIMATE", "TEAMS", "COMMS", "DATA", "LEAD"];

    #[test]
    fn the_state_instrument_has_six_domains_of_likert_items_and_an_open_question_each() {
        let doc = state();
        assert_eq!(check_publishable(&doc, Ownership::State), Ok(()));
        assert_eq!(doc.instrument.key, "orb-readiness");
        assert_eq!(doc.version.languages, ["en", "es"]);
        assert_eq!(doc.domains.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(), DOMAINS);
        for domain in DOMAINS {
            let likert = doc.items_of(domain).filter(|i| i.kind == ItemKind::Likert).count();
            let open = doc.items_of(domain).filter(|i| i.kind == ItemKind::Text).count();
            assert!(likert >= 5, "{domain} has {likert} Likert items");
            assert_eq!(open, 1, "{domain} has one open question");
        }
        assert!(doc.items.iter().all(|i| i.kind != ItemKind::Likert
            || doc.scale_of(i).is_some_and(|s| s.options.len() == 5 && s.neutral_midpoint)));
        assert!(doc.items.iter().any(|i| i.reverse_scored), "at least one reverse-scored item");
    }

    #[test]
    fn orange_keeps_three_items_per_domain_on_four_points_with_one_reworded_and_one_local() {
        let (state, orange) = (state(), load(include_str!("../../../../instruments/orange-orb-readiness.json")));
        assert_eq!(check_publishable(&orange, Ownership::County), Ok(()));
        assert_eq!(
            orange.version.derived_from.as_ref().map(|d| (d.owner.as_str(), d.instrument.as_str(), d.version)),
            Some(("state", "orb-readiness", 1))
        );
        for domain in DOMAINS {
            let from_state = orange.items_of(domain).filter(|i| i.origin.is_some()).count();
            assert_eq!(from_state, 3, "{domain} keeps three state items");
        }
        assert!(
            orange.items.iter().filter(|i| i.kind == ItemKind::Likert).all(|i| orange.scale_of(i).is_some_and(|s| s
                .options
                .len()
                == 4
                && !s.neutral_midpoint)),
            "four points, no neutral"
        );
        let changes = diff(&state, &orange);
        assert_eq!(changes.iter().filter(|c| c.kind == ChangeKind::Reworded).count(), 1, "one item reworded");
        assert_eq!(changes.iter().filter(|c| c.kind == ChangeKind::Added).count(), 1, "one local item");
        let local = orange.items.iter().find(|i| i.origin.is_none()).expect("the local item");
        assert_eq!(local.concept, None, "a local item has no concept");
        for item in orange.items.iter().filter(|i| i.origin.is_some()) {
            let source =
                item.origin.as_deref().and_then(|o| state.item(o)).expect("origin exists in the state version");
            assert_eq!(item.concept, source.concept, "{} keeps its concept", item.code);
        }
    }

    #[test]
    fn sonoma_has_twenty_six_items_derived_from_the_state() {
        let (state, sonoma) = (state(), load(include_str!("../../../../instruments/sonoma-orb-readiness.json")));
        assert_eq!(check_publishable(&sonoma, Ownership::County), Ok(()));
        assert_eq!(sonoma.items.len(), 26);
        let state_concepts: BTreeSet<_> = state.items.iter().filter_map(|i| i.concept.clone()).collect();
        for item in &sonoma.items {
            match &item.origin {
                Some(origin) => assert_eq!(state.item(origin).and_then(|s| s.concept.clone()), item.concept.clone()),
                None => assert!(item.concept.is_none()),
            }
            if let Some(concept) = &item.concept {
                assert!(state_concepts.contains(concept));
            }
        }
    }
}

mod properties {
    //! Import and export of arbitrary documents: the short run of the `instrument_import` fuzz
    //! target (`fuzz/`), bounded for `cargo test`.

    use proptest::prelude::*;

    use super::super::document::*;
    use super::super::validate::{Ownership, check_publishable, check_well_formed};
    use crate::error::Error;

    /// Codes as people type them, right and wrong.
    fn code() -> impl Strategy<Value = String> {
        prop_oneof![4 => "[A-Z][A-Z0-9_.-]{0,5}", 1 => "\\PC{0,4}", 1 => Just(String::new())]
    }

    fn text() -> impl Strategy<Value = Text> {
        proptest::collection::btree_map(prop_oneof!["en", "es", "vi", "zh-Hant", "\\PC{0,3}"], "\\PC{0,12}", 0..3)
    }

    /// Any finite number: JSON has no other kind, and bounds must survive export and import.
    fn bound() -> impl Strategy<Value = Option<f64>> {
        proptest::option::of(prop_oneof![-1.0e3..1.0e3, any::<f64>().prop_filter("finite", |v| v.is_finite())])
    }

    fn item() -> impl Strategy<Value = Item> {
        let kind = prop_oneof![
            Just(ItemKind::Likert),
            Just(ItemKind::SingleChoice),
            Just(ItemKind::MultiChoice),
            Just(ItemKind::Number),
            Just(ItemKind::Text),
        ];
        let choices =
            proptest::collection::vec(("\\PC{0,4}", text()).prop_map(|(value, label)| Choice { value, label }), 0..3);
        (
            (code(), code(), kind, text(), any::<bool>(), any::<bool>()),
            (proptest::option::of("[a-z][a-z0-9.]{0,8}"), proptest::option::of(code()), proptest::option::of(code())),
            (choices, bound(), bound(), proptest::option::of(0u32..30_000)),
        )
            .prop_map(
                |(
                    (code, domain, kind, prompt, required, reverse_scored),
                    (concept, origin, scale),
                    (options, min, max, max_length),
                )| Item {
                    code,
                    domain,
                    kind,
                    prompt,
                    required,
                    reverse_scored,
                    concept,
                    origin,
                    scale,
                    options,
                    min,
                    max,
                    max_length,
                },
            )
    }

    fn document() -> impl Strategy<Value = InstrumentDocument> {
        let scale = (code(), any::<bool>(), proptest::collection::vec((-3i32..8, text()), 0..6)).prop_map(
            |(code, neutral_midpoint, options)| ResponseScale {
                code,
                neutral_midpoint,
                options: options.into_iter().map(|(value, label)| ScaleOption { value, label }).collect(),
            },
        );
        let domain =
            (code(), text(), text()).prop_map(|(code, title, description)| Domain { code, title, description });
        let derived = proptest::option::of(
            ("\\PC{0,6}", "[a-z-]{0,8}", any::<i32>()).prop_map(|(owner, instrument, version)| DerivedFrom {
                owner,
                instrument,
                version,
            }),
        );
        (
            (prop_oneof![4 => Just(FORMAT.to_owned()), 1 => "\\PC{0,8}"], "[a-z0-9-]{0,10}", "\\PC{0,10}"),
            (proptest::collection::vec(prop_oneof!["en", "es", "vi", "\\PC{0,3}"], 0..3), "en|es|\\PC{0,2}"),
            (text(), text(), derived),
            proptest::collection::vec(scale, 0..3),
            proptest::collection::vec(domain, 0..3),
            proptest::collection::vec(item(), 0..6),
        )
            .prop_map(
                |(
                    (format, key, name),
                    (languages, default_language),
                    (title, instructions, derived_from),
                    scales,
                    domains,
                    items,
                )| {
                    InstrumentDocument {
                        format,
                        instrument: InstrumentHeader { key, name },
                        version: VersionHeader { languages, default_language, title, instructions, derived_from },
                        scales,
                        domains,
                        items,
                    }
                },
            )
    }

    /// Where a problem may point: somewhere in the document.
    fn in_document(field: &str) -> bool {
        ["format", "instrument.", "version.", "scales", "domains", "items"].iter().any(|p| field.starts_with(p))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// An exported document imports as the same document and exports to the same bytes;
        /// the checks either pass or name each problem by its path, and a publishable document
        /// is well-formed.
        #[test]
        fn an_exported_document_imports_unchanged_and_is_judged_by_path(doc in document()) {
            let exported = serde_json::to_string_pretty(&doc).expect("a document serialises");
            let imported: InstrumentDocument = serde_json::from_str(&exported).expect("an export imports");
            prop_assert_eq!(&imported, &doc);
            prop_assert_eq!(serde_json::to_string_pretty(&imported).expect("serialises"), exported);
            let well_formed = check_well_formed(&imported);
            for verdict in [well_formed.clone(), check_publishable(&imported, Ownership::State), check_publishable(&imported, Ownership::County)] {
                match verdict {
                    Ok(()) => prop_assert!(well_formed.is_ok()),
                    Err(Error::Invalid(problems)) => {
                        prop_assert!(!problems.is_empty());
                        prop_assert!(problems.iter().all(|p| in_document(&p.field)), "{:?}", problems);
                    }
                    Err(other) => prop_assert!(false, "refused with {:?}", other),
                }
            }
        }
    }
}
