//! Instrument document import (`importInstrumentVersion`, `replaceInstrumentDraft`): any bytes
//! either fail to parse as `orb.instrument/v1` or give a document that the checks judge by
//! path, and that exports and imports again unchanged, byte for byte.

#![no_main]

use libfuzzer_sys::fuzz_target;
use orb_domain::Error;
use orb_domain::instrument::InstrumentDocument;
use orb_domain::instrument::validate::{Ownership, check_publishable, check_well_formed};

/// Where a problem may point: somewhere in the document.
fn in_document(field: &str) -> bool {
    ["format", "instrument.", "version.", "scales", "domains", "items"].iter().any(|p| field.starts_with(p))
}

fuzz_target!(|data: &[u8]| {
    let Ok(document) = serde_json::from_slice::<InstrumentDocument>(data) else { return };
    let well_formed = check_well_formed(&document);
    for verdict in [
        well_formed.clone(),
        check_publishable(&document, Ownership::State),
        check_publishable(&document, Ownership::County),
    ] {
        match verdict {
            Ok(()) => assert!(well_formed.is_ok(), "publishable but not well-formed"),
            Err(Error::Invalid(problems)) => {
                assert!(!problems.is_empty());
                assert!(problems.iter().all(|p| in_document(&p.field)), "{problems:?}");
            }
            Err(other) => panic!("refused with {other:?} instead of problems"),
        }
    }
    // Export, then import the export: the same document, and the same bytes when exported again.
    let exported = serde_json::to_vec_pretty(&document).expect("a document serialises");
    let imported: InstrumentDocument = serde_json::from_slice(&exported).expect("an export imports");
    assert_eq!(imported, document);
    assert_eq!(serde_json::to_vec_pretty(&imported).expect("serialises"), exported);
    // The API hands the document over as a JSON value, and the store keeps it as one.
    let value = serde_json::to_value(&document).expect("a document is a JSON value");
    assert_eq!(serde_json::from_value::<InstrumentDocument>(value).expect("the value imports"), document);
});
