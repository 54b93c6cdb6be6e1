//! Collecting responses: administrations (waves), who they ask, the codes that let respondents
//! in, and the rules an answer set must meet. Pure rules; the store applies them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::county::stored_enum;
use crate::error::{Error, Problems};
use crate::instrument::{InstrumentDocument, ItemKind};
use crate::text::bounded;

stored_enum!(
    /// The part of the system a respondent speaks from. Self-reported in anonymous mode.
    Perspective {
        /// Directors and deputy directors.
        Executive => "EXECUTIVE",
        /// Program and section managers.
        Manager => "MANAGER",
        /// Supervisors.
        Supervisor => "SUPERVISOR",
        /// Social workers and case-carrying staff.
        SocialWorker => "SOCIAL_WORKER",
        /// Clerical and support staff.
        ClericalSupport => "CLERICAL_SUPPORT",
        /// Community partners (schools, behavioral health, CASA, tribes, …).
        CommunityPartner => "COMMUNITY_PARTNER",
        /// Youth and families.
        YouthAndFamily => "YOUTH_AND_FAMILY",
        /// Anyone else.
        Other => "OTHER",
    }
);

stored_enum!(
    /// Whether anything links a response to a person.
    Anonymity {
        /// Nothing does: no invitation link, no precise times, no address, no device.
        Anonymous => "ANONYMOUS",
        /// The invitation is linked to the response, but only aggregates are ever shown.
        Confidential => "CONFIDENTIAL",
    }
);

stored_enum!(
    /// Where an administration is in its life.
    AdministrationStatus {
        /// Being set up; nobody can answer yet.
        Draft => "draft",
        /// Taking answers within its window.
        Open => "open",
        /// No longer taking answers.
        Closed => "closed",
    }
);

/// The smallest group any figure may describe: never below this, whatever a lead sets.
pub const MIN_GROUP_FLOOR: i32 = 3;
/// The minimum reporting group size when a lead sets none.
pub const DEFAULT_MIN_GROUP: i32 = 5;

/// An administration's settings as a lead gives them, checked together.
#[derive(Debug, Clone, PartialEq)]
pub struct AdministrationSettings {
    /// Title shown to respondents and in results.
    pub title: String,
    /// When it opens (it may also be opened early by hand).
    pub opens_at: DateTime<Utc>,
    /// When it closes (it may also be closed early by hand).
    pub closes_at: DateTime<Utc>,
    /// The perspectives it asks for.
    pub perspectives: Vec<Perspective>,
    /// Languages offered, a subset of the version's.
    pub languages: Vec<String>,
    /// Anonymity mode.
    pub anonymity: Anonymity,
    /// No figure is released for a smaller group.
    pub min_group_size: i32,
}

impl AdministrationSettings {
    /// Checks settings against the instrument version they will run; every problem at once.
    pub fn check(&self, version: &InstrumentDocument) -> Result<(), Error> {
        let mut problems = Problems::new();
        problems.take(bounded("input.title", &self.title, 200));
        if self.closes_at <= self.opens_at {
            problems.push("input.closesAt", "must be after opensAt");
        }
        if self.perspectives.is_empty() {
            problems.push("input.perspectives", "ask for at least one perspective");
        }
        let unique: BTreeSet<_> = self.perspectives.iter().collect();
        if unique.len() != self.perspectives.len() {
            problems.push("input.perspectives", "lists a perspective twice");
        }
        if self.languages.is_empty() {
            problems.push("input.languages", "offer at least one language");
        }
        for language in &self.languages {
            if !version.version.languages.contains(language) {
                problems.push("input.languages", format!("the instrument version has no `{language}` text"));
            }
        }
        if self.min_group_size < MIN_GROUP_FLOOR {
            problems.push("input.minGroupSize", format!("must be at least {MIN_GROUP_FLOOR}"));
        }
        if self.min_group_size > 1000 {
            problems.push("input.minGroupSize", "must be at most 1000");
        }
        problems.finish()
    }
}

/// Whether an administration takes answers at `now`: open, and inside its window.
pub fn accepting(
    status: AdministrationStatus,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    match status {
        AdministrationStatus::Draft => Err(Error::conflict("this survey is not open yet")),
        AdministrationStatus::Closed => Err(Error::conflict("this survey has closed")),
        AdministrationStatus::Open if now < opens_at => Err(Error::conflict("this survey is not open yet")),
        AdministrationStatus::Open if now >= closes_at => Err(Error::conflict("this survey has closed")),
        AdministrationStatus::Open => Ok(()),
    }
}

/// The move a lead asks for, checked against where the administration is. Reopening is
/// allowed only before results are released, so released results never change.
pub fn transition(from: AdministrationStatus, to: AdministrationStatus, results_released: bool) -> Result<(), Error> {
    use AdministrationStatus::*;
    match (from, to) {
        (Draft, Open) | (Open, Closed) => Ok(()),
        (Closed, Open) if !results_released => Ok(()),
        (Closed, Open) => Err(Error::conflict("results have been released; the survey cannot reopen")),
        (a, b) if a == b => Err(Error::conflict(format!("the survey is already {a}"))),
        (a, b) => Err(Error::conflict(format!("a {a} survey cannot become {b}"))),
    }
}

/// An invitation or open-link code as respondents type it: Crockford base32, read in groups
/// (`7KQ4-M2XD-9HTR-BW3E`), forgiving case, spaces, hyphens and look-alike letters.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessCode(String);

/// Symbols of Crockford base32: no I, L, O or U, so nothing is misread.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Symbols in a code: 16 × 5 bits = 80 bits of entropy.
const CODE_SYMBOLS: usize = 16;

impl AccessCode {
    /// A fresh random code.
    pub fn generate(rng: &mut impl RngCore) -> Self {
        let mut bytes = [0u8; CODE_SYMBOLS];
        rng.fill_bytes(&mut bytes);
        Self(bytes.iter().map(|b| ALPHABET[(b & 31) as usize] as char).collect())
    }

    /// A fresh code from the operating system's random source.
    pub fn random() -> Self {
        Self::generate(&mut rand::rngs::OsRng)
    }

    /// Reads a code as typed; `field` names the input on failure.
    pub fn parse(field: &str, typed: &str) -> Result<Self, Error> {
        let mut normal = String::with_capacity(CODE_SYMBOLS);
        for c in typed.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' | '\t' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            };
            if !ALPHABET.contains(&(c as u8)) || !c.is_ascii() {
                return Err(Error::invalid(field, "is not a survey code"));
            }
            normal.push(c);
        }
        if normal.len() != CODE_SYMBOLS {
            return Err(Error::invalid(field, "is not a survey code"));
        }
        Ok(Self(normal))
    }

    /// The code grouped for printing (`7KQ4-M2XD-9HTR-BW3E`).
    pub fn display(&self) -> String {
        self.0.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-")
    }

    /// The id of the response this invitation code opens: an HMAC-SHA256 of the code under the
    /// service's response key ([`ResponseKey`]), so a code exchanged twice (a resume, a retry)
    /// reaches the same response, while neither the database nor anyone holding the codes (the
    /// lead who issued them) can compute which id, and so which row, a code opened.
    pub fn response_id(&self, key: &ResponseKey) -> crate::ids::ResponseId {
        let digest = key.mac(b"orb.response-id", self.0.as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        crate::ids::ResponseId(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }

    /// The hash under which the code is stored. `purpose` separates uses: the invitation's
    /// hash and the response's resume hash cannot be joined without the code itself.
    pub fn hash(&self, purpose: &str) -> Vec<u8> {
        let mut hash = Sha256::new();
        hash.update(purpose.as_bytes());
        hash.update([0]);
        hash.update(self.0.as_bytes());
        hash.finalize().to_vec()
    }
}

/// The service's secret for what must not be computable from a code or from the database: the
/// ids of invitation responses and the order raw rows are listed in. Configured
/// (`privacy.response_key`), never stored in the database, and never rotated: a new key would
/// stop in-progress invitation responses from resuming by their code.
#[derive(Clone)]
pub struct ResponseKey(Vec<u8>);

/// The shortest response key accepted, in bytes.
pub const RESPONSE_KEY_MIN_BYTES: usize = 32;

impl ResponseKey {
    /// A key from its configured bytes; `None` when shorter than [`RESPONSE_KEY_MIN_BYTES`].
    pub fn new(secret: &[u8]) -> Option<Self> {
        (secret.len() >= RESPONSE_KEY_MIN_BYTES).then(|| Self(secret.to_vec()))
    }

    /// HMAC-SHA256 of `message` under the key, for one `purpose` (domain separation).
    fn mac(&self, purpose: &[u8], message: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        // An HMAC key may have any length: `new_from_slice` cannot fail for HMAC.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else { return [0; 32] };
        mac.update(purpose);
        mac.update(&[0]);
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// The salt raw rows of one closed wave are ordered by (each response sorted by
    /// `sha256(salt || id)`): fixed while the wave stays closed (`closed_at`), unrelated to
    /// response ids, codes or submission order, and not computable without the key.
    pub fn raw_order_salt(&self, administration: uuid::Uuid, closed_at: DateTime<Utc>) -> Vec<u8> {
        let message = format!("{administration}/{}", closed_at.timestamp_micros());
        self.mac(b"orb.raw-order", message.as_bytes()).to_vec()
    }
}

impl fmt::Debug for ResponseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseKey(<redacted>)")
    }
}

impl fmt::Debug for AccessCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessCode(<redacted>)")
    }
}

/// Answers by item code, as a respondent's front end sends them.
pub type Answers = BTreeMap<String, Value>;

/// How complete an answer set must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// Saving progress: any subset of items.
    Partial,
    /// Submitting: every required item answered.
    Final,
}

/// Checks every answer against its item; lists every problem, each naming the item. Null or
/// absent means unanswered. Returns the answers normalised (text trimmed, choices sorted).
pub fn check_answers(
    version: &InstrumentDocument,
    answers: &Answers,
    completeness: Completeness,
) -> Result<Answers, Error> {
    let mut problems = Problems::new();
    let mut clean = Answers::new();
    for (code, value) in answers {
        let Some(item) = version.item(code) else {
            problems.push(format!("answers.{code}"), "no such item in this survey");
            continue;
        };
        if value.is_null() {
            continue;
        }
        let path = format!("answers.{code}");
        match check_one(version, item, value) {
            Ok(Some(v)) => {
                clean.insert(code.clone(), v);
            }
            Ok(None) => {}
            Err(message) => problems.push(path, message),
        }
    }
    if completeness == Completeness::Final {
        for item in version.items.iter().filter(|i| i.required) {
            if !clean.contains_key(&item.code) {
                problems.push(format!("answers.{}", item.code), "an answer is required");
            }
        }
    }
    problems.finish()?;
    Ok(clean)
}

fn check_one(
    version: &InstrumentDocument,
    item: &crate::instrument::Item,
    value: &Value,
) -> Result<Option<Value>, String> {
    match item.kind {
        ItemKind::Likert => {
            let scale = version.scale_of(item).ok_or("the item has no scale")?;
            let n = value.as_i64().ok_or("must be one of the scale's values")?;
            if scale.options.iter().any(|o| i64::from(o.value) == n) {
                Ok(Some(Value::from(n)))
            } else {
                Err(format!("must be one of {:?}", scale.values()))
            }
        }
        ItemKind::SingleChoice => {
            let choice = value.as_str().ok_or("must be one of the choices")?;
            if item.options.iter().any(|c| c.value == choice) {
                Ok(Some(Value::from(choice)))
            } else {
                Err("must be one of the choices".into())
            }
        }
        ItemKind::MultiChoice => {
            let picked = value.as_array().ok_or("must be a list of choices")?;
            let mut chosen = BTreeSet::new();
            for p in picked {
                let choice = p
                    .as_str()
                    .filter(|c| item.options.iter().any(|o| o.value == *c))
                    .ok_or("must list only the item's choices")?;
                chosen.insert(choice.to_owned());
            }
            if chosen.is_empty() {
                return Ok(None);
            }
            Ok(Some(Value::from(chosen.into_iter().collect::<Vec<_>>())))
        }
        ItemKind::Number => {
            let n = value.as_f64().filter(|n| n.is_finite()).ok_or("must be a number")?;
            if item.min.is_some_and(|min| n < min) || item.max.is_some_and(|max| n > max) {
                return Err(format!("must be between {} and {}", fmt_bound(item.min), fmt_bound(item.max)));
            }
            Ok(Some(value.clone()))
        }
        ItemKind::Text => {
            let text = value.as_str().ok_or("must be text")?.trim();
            if text.contains('\0') {
                // PostgreSQL stores no NUL character: refused here rather than failing to save.
                return Err("must not contain the NUL character".into());
            }
            let cap = item.max_length.unwrap_or(2000) as usize;
            if text.chars().count() > cap {
                return Err(format!("must be at most {cap} characters"));
            }
            if text.is_empty() { Ok(None) } else { Ok(Some(Value::from(text))) }
        }
    }
}

fn fmt_bound(bound: Option<f64>) -> String {
    bound.map_or_else(|| "any".to_owned(), |b| b.to_string())
}

/// A fingerprint of what a submission says, to tell a retried submission (same key, same
/// content) from a different one reusing a key.
pub fn submission_fingerprint(
    answers: &Answers,
    perspective: Option<Perspective>,
    unit: Option<uuid::Uuid>,
    language: &str,
) -> Vec<u8> {
    let canonical = serde_json::json!({
        "answers": answers,
        "perspective": perspective.map(Perspective::as_str),
        "unit": unit,
        "language": language,
    });
    Sha256::digest(canonical.to_string().as_bytes()).to_vec()
}

/// An idempotency key as a front end sends it: 8 to 200 visible characters.
pub fn idempotency_key(field: &str, raw: &str) -> Result<String, Error> {
    let key = raw.trim();
    if (8..=200).contains(&key.len()) && key.chars().all(|c| c.is_ascii_graphic()) {
        Ok(key.to_owned())
    } else {
        Err(Error::invalid(field, "must be 8 to 200 visible ASCII characters (a UUID is ideal)"))
    }
}

/// Where a response came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    /// A single-use invitation code.
    Invitation,
    /// The administration's open link.
    OpenLink,
    /// A paper form keyed in by the lead.
    Paper,
}

impl Source {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::OpenLink => "open_link",
            Self::Paper => "paper",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instrument::document::{Choice, Domain, Item, ResponseScale, ScaleOption, Text};

    fn version() -> InstrumentDocument {
        let mut doc = InstrumentDocument::empty("s", "S", vec!["en".into(), "es".into()], "en");
        let label = |s: &str| Text::from([("en".to_owned(), s.to_owned())]);
        doc.scales.push(ResponseScale {
            code: "A4".into(),
            neutral_midpoint: false,
            options: (1..=4).map(|v| ScaleOption { value: v, label: label("x") }).collect(),
        });
        doc.domains.push(Domain { code: "D".into(), title: label("D"), description: Text::new() });
        let base = Item {
            code: String::new(),
            domain: "D".into(),
            kind: ItemKind::Likert,
            prompt: label("p"),
            required: false,
            reverse_scored: false,
            concept: None,
            origin: None,
            scale: None,
            options: vec![],
            min: None,
            max: None,
            max_length: None,
        };
        doc.items = vec![
            Item { code: "L".into(), scale: Some("A4".into()), required: true, ..base.clone() },
            Item {
                code: "S".into(),
                kind: ItemKind::SingleChoice,
                options: vec![Choice { value: "a".into(), label: label("a") }],
                ..base.clone()
            },
            Item {
                code: "M".into(),
                kind: ItemKind::MultiChoice,
                options: vec![
                    Choice { value: "a".into(), label: label("a") },
                    Choice { value: "b".into(), label: label("b") },
                ],
                ..base.clone()
            },
            Item { code: "N".into(), kind: ItemKind::Number, min: Some(0.0), max: Some(10.0), ..base.clone() },
            Item { code: "T".into(), kind: ItemKind::Text, max_length: Some(5), ..base },
        ];
        doc
    }

    fn answers(v: Value) -> Answers {
        serde_json::from_value(v).expect("an object")
    }

    #[test]
    fn valid_answers_are_normalised() {
        let clean = check_answers(
            &version(),
            &answers(serde_json::json!({ "L": 4, "S": "a", "M": ["b", "a", "b"], "N": 2.5, "T": " hi " })),
            Completeness::Final,
        )
        .expect("valid");
        assert_eq!(clean["M"], serde_json::json!(["a", "b"]));
        assert_eq!(clean["T"], "hi");
    }

    #[test]
    fn every_bad_answer_is_named() {
        let err = check_answers(
            &version(),
            &answers(serde_json::json!({ "L": 5, "S": "z", "M": ["c"], "N": 11, "T": "too long", "X": 1 })),
            Completeness::Final,
        )
        .expect_err("invalid");
        let Error::Invalid(problems) = err else { panic!("invalid input expected") };
        let fields: BTreeSet<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            BTreeSet::from(["answers.L", "answers.S", "answers.M", "answers.N", "answers.T", "answers.X"])
        );
    }

    #[test]
    fn text_with_a_nul_character_is_refused() {
        let Err(Error::Invalid(problems)) =
            check_answers(&version(), &answers(serde_json::json!({ "T": "a\u{0}b" })), Completeness::Partial)
        else {
            panic!("PostgreSQL cannot store it");
        };
        assert_eq!(problems[0].field, "answers.T");
    }

    #[test]
    fn required_items_are_needed_only_to_submit() {
        assert!(check_answers(&version(), &answers(serde_json::json!({ "S": "a" })), Completeness::Partial).is_ok());
        let Err(Error::Invalid(problems)) =
            check_answers(&version(), &answers(serde_json::json!({ "S": "a", "L": null })), Completeness::Final)
        else {
            panic!("the required item is missing");
        };
        assert_eq!(problems[0].field, "answers.L");
    }

    #[test]
    fn codes_are_forgiving_to_type_and_hashed_by_purpose() {
        let mut rng = rand::rngs::OsRng;
        let code = AccessCode::generate(&mut rng);
        let printed = code.display();
        assert_eq!(printed.len(), 19);
        let typed = printed.to_lowercase().replace('-', " ");
        assert_eq!(AccessCode::parse("code", &typed).map(|c| c.hash("invite")), Ok(code.hash("invite")));
        assert_ne!(code.hash("invite"), code.hash("resume"));
        let key = ResponseKey::new(&[7; 32]).expect("32 bytes");
        assert_eq!(
            AccessCode::parse("code", &printed).map(|c| c.response_id(&key)),
            Ok(code.response_id(&key)),
            "a code always opens the same response"
        );
        assert_ne!(AccessCode::generate(&mut rng).response_id(&key), code.response_id(&key));
        let other_key = ResponseKey::new(&[8; 32]).expect("32 bytes");
        assert_ne!(code.response_id(&other_key), code.response_id(&key), "the id depends on the key");
        let unkeyed = code.hash("response");
        assert_ne!(&code.response_id(&key).0.as_bytes()[..6], &unkeyed[..6], "nor is it the old unkeyed hash");
        assert!(ResponseKey::new(&[1; 31]).is_none(), "a short key is refused");
        assert!(AccessCode::parse("code", "too-short").is_err());
        assert!(AccessCode::parse("code", "UUUU-UUUU-UUUU-UUUU").is_err(), "U is not a symbol");
        assert_eq!(
            AccessCode::parse("code", "OOOO-IIII-LLLL-0000").map(|c| c.display()),
            Ok("0000-1111-1111-0000".into())
        );
        assert_eq!(format!("{code:?}"), "AccessCode(<redacted>)");
    }

    #[test]
    fn lifecycle_moves() {
        use AdministrationStatus::*;
        assert!(transition(Draft, Open, false).is_ok());
        assert!(transition(Open, Closed, false).is_ok());
        assert!(transition(Closed, Open, false).is_ok());
        assert!(transition(Closed, Open, true).is_err(), "no reopening after results are released");
        assert!(transition(Draft, Closed, false).is_err());
        assert!(transition(Open, Open, false).is_err());
        let (t0, t1) = (Utc::now() - chrono::Duration::hours(1), Utc::now() + chrono::Duration::hours(1));
        assert!(accepting(Open, t0, t1, Utc::now()).is_ok());
        assert!(accepting(Open, t0, t1, t1).is_err(), "the window closes at closesAt");
        assert!(accepting(Draft, t0, t1, Utc::now()).is_err());
    }

    #[test]
    fn settings_are_checked_against_the_version() {
        let now = Utc::now();
        let settings = AdministrationSettings {
            title: "Wave 1".into(),
            opens_at: now,
            closes_at: now - chrono::Duration::days(1),
            perspectives: vec![],
            languages: vec!["vi".into()],
            anonymity: Anonymity::Anonymous,
            min_group_size: 2,
        };
        let Err(Error::Invalid(problems)) = settings.check(&version()) else { panic!("invalid") };
        let fields: BTreeSet<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            BTreeSet::from(["input.closesAt", "input.perspectives", "input.languages", "input.minGroupSize"])
        );
    }

    mod properties {
        //! The short run of the `access_code` and `answer_validation` fuzz targets (`fuzz/`).

        use proptest::prelude::*;

        use super::*;

        /// How a printed code may come back typed: any case, look-alike letters for 0 and 1,
        /// spaces, tabs and hyphens anywhere.
        fn retyped(printed: &str, case: &[bool], noise: &[u8]) -> String {
            let mut typed = String::new();
            for (i, c) in printed.chars().enumerate() {
                let pick = noise.get(i).copied().unwrap_or(0);
                match pick % 7 {
                    0 => typed.push(' '),
                    1 => typed.push('\t'),
                    2 => typed.push('-'),
                    _ => {}
                }
                let c = match (c, pick % 3) {
                    ('0', 0) => 'O',
                    ('1', 0) => 'I',
                    ('1', 1) => 'L',
                    (c, _) => c,
                };
                typed.push(if case.get(i).copied().unwrap_or(false) { c.to_ascii_lowercase() } else { c });
            }
            typed
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// A code reads back as itself however it is retyped.
            #[test]
            fn a_printed_code_reads_back_however_it_is_typed(
                seed in any::<[u8; 32]>(),
                case in proptest::collection::vec(any::<bool>(), 19),
                noise in proptest::collection::vec(any::<u8>(), 19),
            ) {
                use rand::SeedableRng;
                let code = AccessCode::generate(&mut rand::rngs::StdRng::from_seed(seed));
                let printed = code.display();
                prop_assert_eq!(printed.len(), 19);
                prop_assert!(printed.split('-').all(|g| g.len() == 4 && g.bytes().all(|b| ALPHABET.contains(&b))));
                prop_assert_eq!(AccessCode::parse("code", &retyped(&printed, &case, &noise)), Ok(code.clone()));
            }

            /// Anything else is refused: a code is read only from 16 symbols of the alphabet
            /// (or their look-alikes) among separators, and what is read prints canonically.
            #[test]
            fn only_sixteen_symbols_among_separators_make_a_code(typed in "([0-9A-Za-z][ \t-]?){15,17}|[0-9A-Za-z \t-]{0,24}|\\PC{0,24}") {
                let symbols: Option<Vec<char>> = typed
                    .chars()
                    .filter(|c| !matches!(c, ' ' | '\t' | '-'))
                    .map(|c| match c.to_ascii_uppercase() {
                        'O' => Some('0'),
                        'I' | 'L' => Some('1'),
                        c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => Some(c),
                        _ => None,
                    })
                    .collect();
                match (AccessCode::parse("code", &typed), symbols) {
                    (Ok(code), Some(symbols)) => {
                        prop_assert_eq!(code.display().replace('-', ""), symbols.iter().collect::<String>());
                        prop_assert_eq!(AccessCode::parse("code", &code.display()), Ok(code));
                    }
                    (Err(e), symbols) => {
                        prop_assert!(symbols.is_none_or(|s| s.len() != 16), "{:?} refused", typed);
                        prop_assert_eq!(e, Error::invalid("code", "is not a survey code"));
                    }
                    (Ok(_), None) => prop_assert!(false, "{:?} read as a code", typed),
                }
            }

            /// Whatever a front end sends, accepted answers are on their items' scales, among
            /// their choices, within their bounds and caps; a refusal names only the items at
            /// fault; and accepted answers are accepted again unchanged.
            #[test]
            fn answers_accepted_are_within_their_items(
                raw in proptest::collection::btree_map(
                    prop_oneof![Just("L"), Just("S"), Just("M"), Just("N"), Just("T"), Just("X")].prop_map(str::to_owned),
                    prop_oneof![
                        Just(Value::Null),
                        any::<i64>().prop_map(Value::from),
                        (-3i64..8).prop_map(Value::from),
                        any::<f64>().prop_map(Value::from),
                        (-2.0f64..12.0).prop_map(Value::from),
                        any::<bool>().prop_map(Value::from),
                        prop_oneof![Just("a"), Just("b"), Just("c"), Just(" hi "), Just("      "), Just("toolong")]
                            .prop_map(Value::from),
                        "\\PC{0,8}".prop_map(Value::from),
                        proptest::collection::vec(prop_oneof![Just(Value::from("a")), Just(Value::from("b")), Just(Value::from("c")), Just(Value::from(1))], 0..4)
                            .prop_map(Value::from),
                    ],
                    0..6,
                ),
                final_submission in any::<bool>(),
            ) {
                let doc = version();
                let completeness = if final_submission { Completeness::Final } else { Completeness::Partial };
                match check_answers(&doc, &raw, completeness) {
                    Ok(clean) => {
                        for (code, value) in &clean {
                            let item = doc.item(code).expect("only the version's items");
                            let within = match item.kind {
                                ItemKind::Likert => value.as_i64().is_some_and(|v| (1..=4).contains(&v)),
                                ItemKind::SingleChoice => value == "a",
                                ItemKind::MultiChoice => value.as_array().is_some_and(|a| {
                                    !a.is_empty() && a.iter().all(|c| c == "a" || c == "b") && a.windows(2).all(|w| w[0].as_str() < w[1].as_str())
                                }),
                                ItemKind::Number => value.as_f64().is_some_and(|n| (0.0..=10.0).contains(&n)),
                                ItemKind::Text => value.as_str().is_some_and(|t| !t.is_empty() && t.trim() == t && t.chars().count() <= 5),
                            };
                            prop_assert!(within, "{} accepted as {:?} from {:?}", code, value, raw);
                        }
                        prop_assert!(!raw.contains_key("X"));
                        if final_submission {
                            prop_assert!(clean.contains_key("L"), "the required item");
                        }
                        prop_assert_eq!(check_answers(&doc, &clean, completeness), Ok(clean.clone()));
                    }
                    Err(Error::Invalid(problems)) => {
                        prop_assert!(!problems.is_empty());
                        for problem in &problems {
                            let code = problem.field.strip_prefix("answers.").unwrap_or_default();
                            prop_assert!(raw.contains_key(code) || (code == "L" && final_submission), "{:?}", problem);
                        }
                    }
                    Err(other) => prop_assert!(false, "refused with {:?}", other),
                }
            }
        }
    }
}
