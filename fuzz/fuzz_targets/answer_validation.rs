//! Answer validation (`saveResponse`, `submitResponse`, `enterPaperForms`): for an arbitrary
//! version and arbitrary answers, what is accepted is exactly what an independent reading of the
//! rules accepts — a Likert value on the item's scale, a choice among its options, a number
//! within its bounds, text within its cap and without NUL, no unknown item, every required item
//! on submission — and accepted answers are accepted again unchanged.

#![no_main]

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use orb_domain::Error;
use orb_domain::collection::{Answers, Completeness, check_answers};
use orb_domain::instrument::InstrumentDocument;
use orb_domain::instrument::document::{Choice, Domain, Item, ItemKind, ResponseScale, ScaleOption, Text};
use serde_json::Value;

#[derive(Debug, Arbitrary)]
enum Answer {
    Null,
    Int(i64),
    Unsigned(u64),
    Float(f64),
    Bool(bool),
    Choice(u8),
    Text(String),
    List(Vec<Answer>),
    Object,
}

#[derive(Debug, Arbitrary)]
struct Case {
    scale: Vec<i8>,
    choices: Vec<u8>,
    min: Option<f64>,
    max: Option<f64>,
    max_length: Option<u16>,
    required: u8,
    answers: Vec<(u8, Answer)>,
    submitting: bool,
}

const CODES: [&str; 6] = ["L", "S", "M", "N", "T", "Z"];

fn to_json(answer: &Answer, depth: usize) -> Value {
    match answer {
        Answer::Null => Value::Null,
        Answer::Int(n) => Value::from(*n),
        Answer::Unsigned(n) => Value::from(*n),
        Answer::Float(f) => Value::from(*f),
        Answer::Bool(b) => Value::from(*b),
        Answer::Choice(c) => Value::from(format!("c{}", c % 8)),
        Answer::Text(t) => Value::from(t.as_str()),
        Answer::List(items) if depth < 2 => {
            Value::from(items.iter().map(|a| to_json(a, depth + 1)).collect::<Vec<_>>())
        }
        Answer::List(_) => Value::Array(Vec::new()),
        Answer::Object => serde_json::json!({ "value": 1 }),
    }
}

fn version(case: &Case) -> InstrumentDocument {
    let mut doc = InstrumentDocument::empty("fuzz", "Fuzz", vec!["en".into()], "en");
    let label = || Text::from([("en".to_owned(), "x".to_owned())]);
    doc.scales.push(ResponseScale {
        code: "SCALE".into(),
        neutral_midpoint: false,
        options: case.scale.iter().map(|&v| ScaleOption { value: i32::from(v), label: label() }).collect(),
    });
    doc.domains.push(Domain { code: "D".into(), title: label(), description: Text::new() });
    let choices: Vec<Choice> =
        case.choices.iter().map(|c| Choice { value: format!("c{}", c % 8), label: label() }).collect();
    let finite = |b: Option<f64>| b.filter(|b| b.is_finite());
    let item = |i: usize, kind: ItemKind| Item {
        code: CODES[i].into(),
        domain: "D".into(),
        kind,
        prompt: label(),
        required: case.required & (1 << i) != 0,
        reverse_scored: false,
        concept: None,
        origin: None,
        scale: None,
        options: Vec::new(),
        min: None,
        max: None,
        max_length: None,
    };
    doc.items = vec![
        Item { scale: Some("SCALE".into()), ..item(0, ItemKind::Likert) },
        Item { options: choices.clone(), ..item(1, ItemKind::SingleChoice) },
        Item { options: choices, ..item(2, ItemKind::MultiChoice) },
        Item { min: finite(case.min), max: finite(case.max), ..item(3, ItemKind::Number) },
        Item { max_length: case.max_length.map(u32::from), ..item(4, ItemKind::Text) },
        // A Likert item whose scale is missing takes no answer at all.
        Item { scale: Some("GONE".into()), ..item(5, ItemKind::Likert) },
    ];
    doc
}

/// `n` against a bound, exactly (an integer beyond 2^53 is not rounded first).
fn compare(n: &Value, bound: f64) -> Ordering {
    match (n.as_i64(), n.as_u64()) {
        (Some(i), _) => exact(i128::from(i), bound),
        (None, Some(u)) => exact(i128::from(u), bound),
        _ => n.as_f64().unwrap_or(f64::NAN).partial_cmp(&bound).unwrap_or(Ordering::Less),
    }
}

fn exact(i: i128, bound: f64) -> Ordering {
    if bound >= 1.0e20 {
        Ordering::Less
    } else if bound <= -1.0e20 {
        Ordering::Greater
    } else {
        let floor = bound.floor();
        // `floor` is an integer below 1e20 in magnitude: exactly representable as i128.
        match i.cmp(&(floor as i128)) {
            Ordering::Equal if bound > floor => Ordering::Less,
            other => other,
        }
    }
}

/// The rules, read independently: `Ok(None)` is "unanswered".
fn expected(item: &Item, doc: &InstrumentDocument, value: &Value) -> Result<Option<Value>, ()> {
    let choices: BTreeSet<&str> = item.options.iter().map(|c| c.value.as_str()).collect();
    match item.kind {
        ItemKind::Likert => {
            let scale = doc.scale_of(item).ok_or(())?;
            let n = value.as_i64().ok_or(())?;
            scale.options.iter().any(|o| i64::from(o.value) == n).then(|| Some(Value::from(n))).ok_or(())
        }
        ItemKind::SingleChoice => {
            value.as_str().filter(|c| choices.contains(c)).map(|c| Some(Value::from(c))).ok_or(())
        }
        ItemKind::MultiChoice => {
            let picked: Option<BTreeSet<&str>> =
                value.as_array().ok_or(())?.iter().map(|p| p.as_str().filter(|c| choices.contains(c))).collect();
            let picked = picked.ok_or(())?;
            Ok((!picked.is_empty()).then(|| Value::from(picked.into_iter().collect::<Vec<_>>())))
        }
        ItemKind::Number => {
            if !value.as_f64().is_some_and(f64::is_finite) {
                return Err(());
            }
            let below = item.min.is_some_and(|min| compare(value, min) == Ordering::Less);
            let above = item.max.is_some_and(|max| compare(value, max) == Ordering::Greater);
            if below || above { Err(()) } else { Ok(Some(value.clone())) }
        }
        ItemKind::Text => {
            let text = value.as_str().ok_or(())?.trim();
            let cap = item.max_length.map_or(2000, |n| n as usize);
            if text.chars().count() > cap || text.contains('\0') {
                Err(())
            } else {
                Ok((!text.is_empty()).then(|| Value::from(text)))
            }
        }
    }
}

fuzz_target!(|case: Case| {
    let doc = version(&case);
    let answers: Answers = case
        .answers
        .iter()
        .map(|(i, a)| (CODES.get(usize::from(*i)).map_or_else(|| format!("X{i}"), |c| (*c).to_owned()), to_json(a, 0)))
        .collect();
    let completeness = if case.submitting { Completeness::Final } else { Completeness::Partial };

    let mut clean = BTreeMap::new();
    let mut faulty = BTreeSet::new();
    for (code, value) in &answers {
        match doc.item(code) {
            None => {
                faulty.insert(code.clone());
            }
            Some(_) if value.is_null() => {}
            Some(item) => match expected(item, &doc, value) {
                Ok(Some(v)) => {
                    clean.insert(code.clone(), v);
                }
                Ok(None) => {}
                Err(()) => {
                    faulty.insert(code.clone());
                }
            },
        }
    }
    if case.submitting {
        for item in doc.items.iter().filter(|i| i.required && !clean.contains_key(&i.code)) {
            faulty.insert(item.code.clone());
        }
    }

    match check_answers(&doc, &answers, completeness) {
        Ok(accepted) => {
            assert!(faulty.is_empty(), "{answers:?} accepted though {faulty:?} are at fault");
            assert_eq!(accepted, clean, "normalised as the rules say");
            assert_eq!(check_answers(&doc, &accepted, completeness), Ok(accepted.clone()), "accepted again");
        }
        Err(Error::Invalid(problems)) => {
            let named: BTreeSet<String> =
                problems.iter().map(|p| p.field.strip_prefix("answers.").unwrap_or(&p.field).to_owned()).collect();
            assert_eq!(named, faulty, "every item at fault named, and only those, for {answers:?}");
        }
        Err(other) => panic!("refused with {other:?} instead of problems"),
    }
});
