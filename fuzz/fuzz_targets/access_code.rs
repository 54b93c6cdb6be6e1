//! Invitation and open-link code parsing (`startResponse`, `messageTestByCode`): every printed
//! code reads back as itself however it is retyped, and a string is a code exactly when it holds
//! 16 symbols of the alphabet (or their look-alikes) among spaces, tabs and hyphens.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use orb_domain::Error;
use orb_domain::collection::AccessCode;
use rand::SeedableRng;

const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#[derive(Debug, Arbitrary)]
struct Case {
    seed: [u8; 32],
    /// Per printed character: separators before it, case, look-alike.
    retyping: Vec<u8>,
    typed: String,
}

/// The symbols a typed string stands for, or `None` when it holds anything else.
fn symbols(typed: &str) -> Option<String> {
    typed
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '-'))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => Some('0'),
            'I' | 'L' => Some('1'),
            c if c.is_ascii_alphanumeric() && ALPHABET.contains(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn retyped(printed: &str, retyping: &[u8]) -> String {
    let mut typed = String::new();
    for (i, c) in printed.chars().enumerate() {
        let how = retyping.get(i).copied().unwrap_or(0);
        for _ in 0..(how >> 6) {
            typed.push([' ', '\t', '-'][usize::from(how % 3)]);
        }
        let c = match (c, (how >> 2) % 3) {
            ('0', 0) => 'O',
            ('1', 0) => 'I',
            ('1', 1) => 'L',
            (c, _) => c,
        };
        typed.push(if how & 0b10 != 0 { c.to_ascii_lowercase() } else { c });
    }
    typed
}

fuzz_target!(|case: Case| {
    let code = AccessCode::generate(&mut rand::rngs::StdRng::from_seed(case.seed));
    let printed = code.display();
    assert_eq!(printed.len(), 19);
    assert_eq!(symbols(&printed).map(|s| s.len()), Some(16), "{printed} is canonical");
    assert_eq!(AccessCode::parse("code", &retyped(&printed, &case.retyping)), Ok(code));

    match (AccessCode::parse("code", &case.typed), symbols(&case.typed)) {
        (Ok(read), Some(symbols)) => {
            assert_eq!(read.display().replace('-', ""), symbols);
            assert_eq!(AccessCode::parse("code", &read.display()), Ok(read));
        }
        (Err(error), symbols) => {
            assert!(symbols.is_none_or(|s| s.len() != 16), "{:?} refused", case.typed);
            assert_eq!(error, Error::invalid("code", "is not a survey code"));
        }
        (Ok(_), None) => panic!("{:?} read as a code", case.typed),
    }
});
